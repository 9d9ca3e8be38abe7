//! Outlining of a network top's own computation into kernels, so that every node of the
//! top is a call and the top stays a DATAFLOW network (the layer pipeline of the HLS back
//! end, `Instance::dataflow_streams`).
//!
//! A top that calls two or more kernels and also computes between them (an `argmax` of
//! the logits written inline, a scalar copied into a named result) would otherwise run
//! its nodes one after another: only calls can be dataflow stages. Each such compute node
//! becomes one call of a new instance holding that node alone: the tensors it reads become
//! the instance's inputs (constant data stays constant data), the tensors it writes its
//! results. The node's statements are not changed, so it computes the same values; a
//! node that updates a tensor in place (reads and writes it) stays where it is (a call
//! cannot take and return the same buffer), and so do the scalar arguments computed from
//! constants that the network already allows. A node that stores into part of a tensor
//! an earlier node writes (`z: T[C, H, W] = x`, then `z[:, :, 0] = 0`) first joins that
//! node (`merge_writers`), so that each stage writes its own tensors: a DATAFLOW
//! channel has one writer.
//!
//! Before (a classifier head written inline in `main`):
//! ```text
//! node #18 call dense_q(%14) -> %18
//! node #19 predicted_assign (reads %18; writes %19)
//!   predicted = argmax(logits[c] for c in 0..10)
//! ```
//! After:
//! ```text
//! node #18 call dense_q(%14) -> %18
//! node #19 call main_predicted_assign(%18) -> %19
//! instance main_predicted_assign: input %18, node predicted_assign, output %19
//! ```
//!
//! Runs in the `fpga` pipeline before fusion (the new kernels fuse like any other).

use crate::ir::*;
use petgraph::stable_graph::StableGraph;

/// The `outline` pass: outlines the entry's blocking compute nodes, a remark per node.
pub fn run(module: &mut Module, ctx: &mut crate::manager::PassContext) {
    for line in outline_top(module) {
        ctx.remarks.push(line);
    }
}

/// Whether `c` may stay in a network top: a scalar computed from constants.
fn allowed_in_network(inst: &Instance, c: &Compute) -> bool {
    c.reads.is_empty() && c.writes.iter().all(|&t| inst.tensor(t).shape.is_empty())
}

/// Outlines every compute node of the entry that keeps it from being a network; returns a
/// line per node.
pub fn outline_top(module: &mut Module) -> Vec<String> {
    let Some(entry) = module.entry else {
        return Vec::new();
    };
    let top = module.instance(entry);
    let calls = top
        .graph
        .node_weights()
        .filter(|n| matches!(n, Node::Call(_)))
        .count();
    if calls < 2 {
        return Vec::new();
    }
    let blocking: Vec<NodeId> = top
        .schedule()
        .into_iter()
        .filter(|&n| matches!(&top.graph[n], Node::Compute(c) if !allowed_in_network(top, c)))
        .collect();
    // All or nothing: one node left in place keeps the top from being a network, and then
    // outlining the others would only add calls.
    let in_place = blocking.iter().any(|&n| match &top.graph[n] {
        Node::Compute(c) => c.reads.iter().any(|t| c.writes.contains(t)),
        _ => false,
    });
    if in_place {
        return Vec::new();
    }
    let mut lines = Vec::new();
    let top = &mut module.instances[entry.index()];
    let blocking = merge_writers(top, blocking, &mut lines);
    for n in blocking {
        let top = module.instance(entry);
        let Node::Compute(c) = &top.graph[n] else {
            continue;
        };
        let c = c.clone();
        let name = unique_name(module, &format!("{}_{}", top.name, c.name));
        let callee = InstanceId(module.instances.len() as u32);
        let inst = outlined(top, &c, name.clone());
        let args = inst.inputs.clone();
        let results = inst.outputs.clone();
        module.instances.push(inst);
        let top = &mut module.instances[entry.index()];
        top.graph[n] = Node::Call(Call {
            callee,
            args,
            results,
            span: c.span,
        });
        lines.push(format!(
            "outlined node `{}` of `{}` into kernel `{name}` (a network top holds only calls)",
            c.name, top.name
        ));
    }
    lines
}

/// Merges each blocking node that writes a tensor an earlier blocking node writes (a
/// store into part of a feature map the declaration filled: `z: T[C, H, W] = x` then
/// `z[:, :, 0] = 0`) into that node, its statements after the earlier node's, when the
/// nodes scheduled between them neither use what it writes nor make what it reads. Each
/// stage of a DATAFLOW region then writes its own tensors (Vitis' single writer per
/// channel), which the RTL's frame pipeline also prefers (one stage per tensor, no
/// turns at its write port). Returns the nodes left, in schedule order.
///
/// Before: `node #2 z_assign (reads x; writes z)`, `node #3 z_store (writes z)`.
/// After: `node #2 z_assign (reads x; writes z)` with #3's statements at its end.
fn merge_writers(
    top: &mut Instance,
    blocking: Vec<NodeId>,
    lines: &mut Vec<String>,
) -> Vec<NodeId> {
    let uses = |top: &Instance, n: NodeId| -> (Vec<TensorId>, Vec<TensorId>) {
        match &top.graph[n] {
            Node::Compute(c) => (c.reads.clone(), c.writes.clone()),
            Node::Call(c) => (c.args.clone(), c.results.clone()),
            _ => (Vec::new(), Vec::new()),
        }
    };
    let mut kept: Vec<NodeId> = Vec::new();
    for b in blocking {
        // Again after each merge: the merged node is gone.
        let order = top.schedule();
        let position = |n: NodeId| order.iter().position(|&m| m == n).unwrap_or(usize::MAX);
        let (b_reads, b_writes) = uses(top, b);
        // Not when `b` reads what `a` writes: the merged node would update that tensor
        // in place, which a call cannot (it would take and return the same buffer).
        let into = kept.iter().rev().copied().find(|&a| {
            let (_, a_writes) = uses(top, a);
            b_writes.iter().any(|t| a_writes.contains(t))
                && !b_reads.iter().any(|t| a_writes.contains(t))
        });
        let movable = into.is_some_and(|a| {
            let (pa, pb) = (position(a), position(b));
            let between_clear = order[pa + 1..pb].iter().all(|&x| {
                let (x_reads, x_writes) = uses(top, x);
                !x_reads
                    .iter()
                    .chain(&x_writes)
                    .any(|t| b_writes.contains(t))
                    && !x_writes.iter().any(|t| b_reads.contains(t))
            });
            let inputs_ready = top
                .graph
                .neighbors_directed(b, petgraph::Direction::Incoming)
                .all(|x| x == a || position(x) < pa);
            between_clear && inputs_ready
        });
        let (Some(a), true) = (into, movable) else {
            kept.push(b);
            continue;
        };
        let Node::Compute(bc) = top.graph[b].clone() else {
            kept.push(b);
            continue;
        };
        let Node::Compute(ac) = &mut top.graph[a] else {
            kept.push(b);
            continue;
        };
        ac.body.extend(bc.body);
        for t in bc.reads {
            if !ac.reads.contains(&t) {
                ac.reads.push(t);
            }
        }
        for t in bc.writes {
            if !ac.writes.contains(&t) {
                ac.writes.push(t);
            }
        }
        let a_name = ac.name.clone();
        // The merged node takes the other's edges (none from the nodes between).
        let incoming: Vec<(NodeId, Edge)> = top
            .graph
            .edges_directed(b, petgraph::Direction::Incoming)
            .map(|e| (petgraph::visit::EdgeRef::source(&e), *e.weight()))
            .filter(|&(x, _)| x != a)
            .collect();
        let outgoing: Vec<(NodeId, Edge)> = top
            .graph
            .edges_directed(b, petgraph::Direction::Outgoing)
            .map(|e| (petgraph::visit::EdgeRef::target(&e), *e.weight()))
            .collect();
        for (x, e) in incoming {
            top.graph.add_edge(x, a, e);
        }
        for (y, e) in outgoing {
            top.graph.add_edge(a, y, e);
        }
        top.graph.remove_node(b);
        lines.push(format!(
            "merged node `{}` of `{}` into node `{a_name}`, which writes the same tensor (one writer per DATAFLOW channel)",
            bc.name, top.name
        ));
    }
    kept
}

/// The instance holding `c` alone: a copy of `top`'s arenas (tensors, locals, loop
/// variables, expressions keep their ids) with a graph of its own.
fn outlined(top: &Instance, c: &Compute, name: String) -> Instance {
    let args: Vec<TensorId> = c
        .reads
        .iter()
        .copied()
        .filter(|&t| !matches!(top.tensor(t).kind, TensorKind::Const(_)))
        .collect();
    let consts: Vec<TensorId> = c
        .reads
        .iter()
        .copied()
        .filter(|&t| matches!(top.tensor(t).kind, TensorKind::Const(_)))
        .collect();
    let mut inst = top.clone();
    inst.name = name;
    inst.bindings = format!("node `{}` of `{}`", c.name, top.name);
    inst.graph = StableGraph::new();
    inst.inputs = args.clone();
    inst.outputs = c.writes.clone();
    inst.stage = None;
    for (i, tm) in inst.tensors.iter_mut().enumerate() {
        let t = TensorId(i as u32);
        if let Some(k) = args.iter().position(|&a| a == t) {
            tm.kind = TensorKind::Input(k);
        } else if !matches!(tm.kind, TensorKind::Const(_)) {
            tm.kind = TensorKind::Temp;
        }
        // FIFOs and partitions belong to the top's buffers, not to this kernel's ports.
        tm.stream_depth = None;
    }
    let node = inst.graph.add_node(Node::Compute(c.clone()));
    let data = |tensor| Edge {
        tensor,
        kind: EdgeKind::Data,
    };
    for (k, &a) in args.iter().enumerate() {
        let i = inst.graph.add_node(Node::Input {
            tensor: a,
            param: k,
        });
        inst.graph.add_edge(i, node, data(a));
    }
    for &t in &consts {
        let k = inst.graph.add_node(Node::Const { tensor: t });
        inst.graph.add_edge(k, node, data(t));
    }
    for (k, &r) in c.writes.iter().enumerate() {
        let o = inst.graph.add_node(Node::Output {
            tensor: r,
            index: k,
        });
        inst.graph.add_edge(node, o, data(r));
    }
    inst
}

/// `base`, or `base_2`, `base_3`, ... whichever no instance of `module` is named.
fn unique_name(module: &Module, base: &str) -> String {
    let taken = |n: &str| module.instances.iter().any(|i| i.name == n);
    let mut name = base.to_string();
    let mut k = 1;
    while taken(&name) {
        k += 1;
        name = format!("{base}_{k}");
    }
    name
}
