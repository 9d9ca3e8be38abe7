//! Weights in DDR, as the design builds them: when the allocation leaves a stage's
//! weights off chip (search.rs: the largest first, until the rest fit the BRAM budget),
//! each constant tensor that stage's nodes read becomes a parameter of the stage and of
//! the network top (recorded in the top's `ddr_weights`, so that a back end's test bench
//! passes the constant's values), and the node that reads it copies it, once per call
//! of the stage (once per image), into an on-chip buffer of the same shape before its
//! loops, one element a cycle in a flattened nest pipelined at II 1 (a burst); the node's
//! reads then read the buffer at the same indices. The buffer keeps the partitions the
//! allocation gave the weights; the port itself is one memory.
//!
//! Before: `%2 w: fixed<8, 2>[16, 6, 5, 5] = const conv2_w [partition cyclic 6 dim 2]`,
//! read by `conv`. After: `%2 w: fixed<8, 2>[16, 6, 5, 5] = input 1` and, at the start of
//! `conv`, `for w_d0: for w_d1: [flatten] ... for w_d3: [pipeline II=1, flatten] w_buf[...] = w[...]`,
//! `w_buf [partition cyclic 6 dim 2]`; the top gets `conv2_w` as its next input and passes
//! it to the call.
//!
//! Scalar constants stay constants. What a stage reads from DDR per image is
//! [`ddr_traffic`]: every element of the tensors moved, each in its m_axi word (the
//! element's width rounded up to 1, 2, 4 or 8 bytes), the figure `kiln report` prints.

use crate::ir::{
    loads_of, Access, Affine, Block, ConstId, Edge, EdgeKind, Expr, Instance, InstanceId, Loop,
    LoopDirectives, LoopVarId, Module, Node, NodeId, Partition, Stmt, Tensor, TensorId, TensorKind,
};
use kiln_numeric::ScalarType;
use std::collections::HashMap;

/// Bytes one element of `elem` takes in DDR behind an m_axi port: its bits rounded up to
/// a power of two of bytes.
pub fn word_bytes(elem: &ScalarType) -> u64 {
    (elem.storage_bits() as u64).div_ceil(8).next_power_of_two()
}

/// The constant tensors of `inst` that move to DDR when its weights stay off chip:
/// those of at least one element that a compute node reads, with the nodes that read
/// them.
fn movable(inst: &Instance) -> Vec<(TensorId, ConstId, Vec<NodeId>)> {
    let mut out: Vec<(TensorId, ConstId, Vec<NodeId>)> = Vec::new();
    for (i, tm) in inst.tensors.iter().enumerate() {
        let TensorKind::Const(c) = tm.kind else {
            continue;
        };
        if tm.shape.is_empty() {
            continue;
        }
        let t = TensorId(i as u32);
        let readers: Vec<NodeId> = inst
            .graph
            .node_indices()
            .filter(|&n| matches!(&inst.graph[n], Node::Compute(c) if c.reads.contains(&t)))
            .collect();
        if !readers.is_empty() {
            out.push((t, c, readers));
        }
    }
    out
}

/// What a stage whose weights stay in DDR reads per call (per image): bytes and
/// elements, each moved tensor once per node that reads it, every element in its m_axi
/// word. The elements are also the cycles of the copies (one element a cycle).
pub fn ddr_traffic(inst: &Instance) -> (u64, u64) {
    movable(inst)
        .iter()
        .map(|(t, _, readers)| {
            let tm = inst.tensor(*t);
            let elems = tm.len() as u64 * readers.len() as u64;
            (elems * word_bytes(&tm.elem), elems)
        })
        .fold((0, 0), |(b, e), (b2, e2)| (b + b2, e + e2))
}

/// Moves the weights of stage `id` to parameters read into on-chip buffers (module
/// doc). Returns the constants moved with the stage's new parameter for each.
fn move_weights(module: &mut Module, id: InstanceId) -> Vec<(ConstId, usize)> {
    let mut inst = module.instance(id).clone();
    let mut moved = Vec::new();
    for (t, c, readers) in movable(&inst) {
        let p = inst.inputs.len();
        inst.inputs.push(t);
        let parts: Vec<Partition> = std::mem::take(&mut inst.tensor_mut(t).partition);
        inst.tensor_mut(t).kind = TensorKind::Input(p);
        let const_nodes: Vec<NodeId> = inst
            .graph
            .node_indices()
            .filter(|&n| matches!(inst.graph[n], Node::Const { tensor } if tensor == t))
            .collect();
        for n in const_nodes {
            inst.graph[n] = Node::Input {
                tensor: t,
                param: p,
            };
        }
        for n in readers {
            let Node::Compute(c) = &inst.graph[n] else {
                continue;
            };
            let mut body = c.body.clone();
            let bufs = vec![copy_whole(&mut inst, &mut body, t)];
            for &b in &bufs {
                let shape = inst.tensor(b).shape.clone();
                inst.tensor_mut(b).partition = parts
                    .iter()
                    .filter(|q| q.dim < shape.len())
                    .map(|q| Partition {
                        factor: q.factor.min(shape[q.dim] as u32).max(1),
                        ..*q
                    })
                    .collect();
            }
            let Node::Compute(c) = &mut inst.graph[n] else {
                continue;
            };
            c.body = body;
            for b in bufs {
                c.reads.push(b);
                c.writes.push(b);
            }
        }
        moved.push((c, p));
    }
    module.instances[id.index()] = inst;
    moved
}

/// Copies all of `x` into a new on-chip tensor `X_buf` before the statements of `body`
/// (the copy nest's loops flattened into one pipeline of II 1: a burst) and makes them
/// read the copy, at the same indices (so a read's bounds check stays what it was).
fn copy_whole(inst: &mut Instance, body: &mut Block, x: TensorId) -> TensorId {
    let xt = inst.tensor(x).clone();
    let rank = xt.shape.len();
    let buf = inst.add_tensor(Tensor {
        name: format!("{}_buf", xt.name),
        kind: TensorKind::Temp,
        partition: Vec::new(),
        stream_depth: None,
        stream_width: 1,
        bound_to: Vec::new(),
        ..xt.clone()
    });
    for e in loads_of(inst, body, x) {
        if let Expr::Load(a) = &mut inst.exprs[e.index()] {
            a.tensor = buf;
        }
    }
    let vars: Vec<LoopVarId> = (0..rank)
        .map(|d| inst.add_loop_var(format!("{}_d{d}", xt.name), xt.span))
        .collect();
    let access = |t: TensorId| Access {
        tensor: t,
        index: vars.iter().map(|&v| Affine::var(v)).collect(),
        dynamic: Vec::new(),
        checked: false,
        guarded: false,
    };
    let load = inst.add_expr(Expr::Load(access(x)), xt.span);
    inst.expr_types[load.index()] = Some(xt.elem);
    inst.expr_ranges[load.index()] = xt.range.clone();
    let mut copy = vec![Stmt::Store {
        access: access(buf),
        value: load,
        span: xt.span,
    }];
    for d in (0..rank).rev() {
        let directives = LoopDirectives {
            pipeline_ii: (d == rank - 1).then_some(1),
            unroll: None,
            flatten: d > 0,
        };
        copy = vec![Stmt::For(Loop {
            var: vars[d],
            lo: Affine::constant(0),
            hi: Affine::constant(xt.shape[d] as i64),
            step: 1,
            body: copy,
            directives,
            span: xt.span,
        })];
    }
    copy.append(body);
    *body = copy;
    buf
}

/// Moves the weights of the stages in `ddr` (instance ids of a network top's stages) to
/// DDR: parameters of the stage and of the top (module doc). Returns remarks: what moved.
pub fn weights_to_ddr(module: &mut Module, ddr: &[InstanceId]) -> Vec<String> {
    let Some(entry) = module.entry else {
        return Vec::new();
    };
    let mut remarks = Vec::new();
    let mut top_param: HashMap<ConstId, TensorId> = HashMap::new();
    for &id in ddr {
        let moved = move_weights(module, id);
        for &(c, p) in &moved {
            if top_param.contains_key(&c) {
                continue;
            }
            let name = module.consts[c.index()].name.clone();
            let stage = module.instance(id);
            let mut tm = stage.tensor(stage.inputs[p]).clone();
            let top = module.instance_mut(entry);
            let q = top.inputs.len();
            tm.name = name;
            tm.kind = TensorKind::Input(q);
            tm.partition = Vec::new();
            tm.bound_to = Vec::new();
            let t = top.add_tensor(tm);
            top.inputs.push(t);
            top.graph.add_node(Node::Input {
                tensor: t,
                param: q,
            });
            top.ddr_weights.push((q, c));
            top_param.insert(c, t);
        }
        let top = module.instance_mut(entry);
        let input_node = |top: &Instance, t: TensorId| {
            top.graph
                .node_indices()
                .find(|&n| matches!(top.graph[n], Node::Input { tensor, .. } if tensor == t))
        };
        let calls: Vec<NodeId> = top
            .graph
            .node_indices()
            .filter(|&n| matches!(&top.graph[n], Node::Call(c) if c.callee == id))
            .collect();
        for n in calls {
            for (c, _) in &moved {
                let t = top_param[c];
                if let Node::Call(call) = &mut top.graph[n] {
                    call.args.push(t);
                }
                if let Some(src) = input_node(top, t) {
                    top.graph.add_edge(
                        src,
                        n,
                        Edge {
                            tensor: t,
                            kind: EdgeKind::Data,
                        },
                    );
                }
            }
        }
        let names: Vec<String> = moved
            .iter()
            .map(|(c, _)| module.consts[c.index()].name.clone())
            .collect();
        let stage = module.instance(id);
        let bits: u64 = moved
            .iter()
            .map(|&(_, p)| {
                let t = stage.tensor(stage.inputs[p]);
                t.len() as u64 * t.elem.storage_bits() as u64
            })
            .sum();
        remarks.push(format!(
            "weights of {} in DDR: {} (copied whole into an on-chip buffer once per image: {} KiB of on-chip memory the allocation does not count; tiles streamed from DDR are not built yet)",
            stage.name,
            names.join(", "),
            bits.div_ceil(8 * 1024)
        ));
    }
    remarks
}
