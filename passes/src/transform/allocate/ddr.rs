//! Weights in DDR, as the design builds them: when the allocation leaves a stage's
//! weights off chip (search.rs: the largest first, until the rest fit the BRAM budget),
//! each constant tensor that stage's nodes read becomes a parameter of the stage and of
//! the network top (recorded in the top's `ddr_weights`, so that a back end's test bench
//! passes the constant's values), and the node that reads it copies it, once per call
//! of the stage (once per image), into an on-chip buffer before its loops
//! (`tile::buffer`), one element a cycle in a pipelined nest (a burst). The buffer keeps
//! the partitions the allocation gave the weights; the port itself is one memory.
//!
//! Before: `%2 w: fixed<8, 2>[16, 6, 5, 5] = const conv2_w [partition cyclic 6 dim 2]`,
//! read by `conv`. After: `%2 w: fixed<8, 2>[16, 6, 5, 5] = input 1` and, at the start of
//! `conv`, `for w_b0: [flatten] ... for w_b3: [pipeline II=1] w_buf[...] = w[...]`,
//! `w_buf [partition cyclic 6 dim 2]`; the top gets `conv2_w` as its next input and passes
//! it to the call.
//!
//! Scalar constants stay constants. What a stage reads from DDR per image is
//! [`ddr_bytes`]: every element of the tensors moved, each in its m_axi word (the
//! element's width rounded up to 1, 2, 4 or 8 bytes), the figure `kiln report` prints.

use crate::ir::{
    ConstId, Edge, EdgeKind, Instance, InstanceId, Module, Node, NodeId, Partition, Stmt,
    TensorId, TensorKind,
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

/// Bytes a stage whose weights stay in DDR reads per call (per image): each moved
/// tensor once per node that reads it, every element in its m_axi word.
pub fn ddr_bytes(inst: &Instance) -> u64 {
    movable(inst)
        .iter()
        .map(|(t, _, readers)| {
            let tm = inst.tensor(*t);
            tm.len() as u64 * word_bytes(&tm.elem) * readers.len() as u64
        })
        .sum()
}

/// Moves the weights of stage `id` to parameters read into on-chip buffers (module
/// doc). Returns the constants moved with the stage's new parameter for each, or the
/// reason a tensor could not be buffered (the stage is then left as it was).
fn move_weights(module: &mut Module, id: InstanceId) -> Result<Vec<(ConstId, usize)>, String> {
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
            let bufs = crate::tile::buffer(&mut inst, &mut body, t, None)
                .map_err(|e| format!("`{}`: {}", inst.tensor(t).name, e.message))?;
            if let Some(Stmt::For(l)) = body.first_mut() {
                burst(l);
            }
            for &b in &bufs {
                let shape = inst.tensor(b).shape.clone();
                inst.tensor_mut(b).partition = parts
                    .iter()
                    .filter(|q| q.dim < shape.len())
                    .map(|q| Partition {
                        factor: q.factor.min(shape[q.dim] as u32).max(1),
                        ..q.clone()
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
    Ok(moved)
}

/// The copy nest as a burst: its loops flattened into one pipeline of II 1.
fn burst(l: &mut crate::ir::Loop) {
    let mut l = l;
    loop {
        match l.body.as_mut_slice() {
            [Stmt::For(inner)] => {
                inner.directives.flatten = true;
                l = inner;
            }
            _ => {
                l.directives.pipeline_ii = Some(1);
                return;
            }
        }
    }
}

/// Moves the weights of the stages in `ddr` (instance ids of a network top's stages) to
/// DDR: parameters of the stage and of the top (module doc). Returns remarks: what moved,
/// and what could not.
pub fn weights_to_ddr(module: &mut Module, ddr: &[InstanceId]) -> Vec<String> {
    let Some(entry) = module.entry else {
        return Vec::new();
    };
    let mut remarks = Vec::new();
    let mut top_param: HashMap<ConstId, TensorId> = HashMap::new();
    for &id in ddr {
        let moved = match move_weights(module, id) {
            Ok(m) => m,
            Err(why) => {
                remarks.push(format!(
                    "weights of {} stay on chip: the copy from DDR is refused ({why})",
                    module.instance(id).name
                ));
                continue;
            }
        };
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
        remarks.push(format!(
            "weights of {} in DDR: {} (copied on chip once per image)",
            module.instance(id).name,
            names.join(", ")
        ));
    }
    remarks
}
