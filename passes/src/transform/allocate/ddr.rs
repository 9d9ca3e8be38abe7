//! Weights in DDR, as the design builds them: when the allocation leaves a stage's
//! weights off chip (search.rs: the largest first, until the rest fit the BRAM budget),
//! each constant tensor that stage's nodes read becomes a parameter of the stage and of
//! the network top (recorded in the top's `ddr_weights`, so that a back end's test bench
//! passes the constant's values), and each node that reads it copies the part it needs
//! at a time into an on-chip tile, in m_axi words of up to 512 bits through a flattened
//! pipelined nest (a burst), and reads the tile (tiles.rs: which part, where the copy
//! goes, how wide its words are, and when a node copies the whole tensor once before its
//! loops). The stage lists the parameter in its own `ddr_weights` too, so that the
//! estimate counts its reads in words. A tile keeps the
//! partitions the allocation gave the weights, cut to its shape; the port itself is one
//! memory.
//!
//! Before: `%2 w: fixed<8, 2>[16, 6, 5, 5] = const conv2_w [partition cyclic 6 dim 2]`,
//! read by `conv` as `w[k, c, u, v]` in `for k: for i: for j: ...`. After: `%2 w:
//! fixed<8, 2>[16, 6, 5, 5] = input 1` and, at the start of the body of `k`'s loop,
//! `for w_t0: for w_t1: [flatten] ... for w_t3: [pipeline II=1, flatten] w_tile[w_t0, ...] =
//! w[k + w_t0, ...]` (one weight an iteration: only the channels are banked) with `w_tile: [1, 6, 5, 5] [partition cyclic 6 dim 2]`, read as
//! `w_tile[k - k, c, u, v]`; the top gets `conv2_w` as its next input and passes it to the
//! call.
//!
//! Scalar constants stay constants. What a stage reads from DDR per image is
//! [`OffChip::bytes`]: every element the copies move, each in its m_axi word (the
//! element's width rounded up to 1, 2, 4 or 8 bytes), the figure `kiln report` prints.

use super::tiles::{build_tile, plan_tile, Tile};
use crate::ir::{
    ConstId, Edge, EdgeKind, Instance, InstanceId, LoopVarId, Module, Node, NodeId, Partition,
    TensorId, TensorKind,
};
use kiln_numeric::ScalarType;
use std::collections::HashMap;

/// Bytes one element of `elem` takes in DDR behind an m_axi port: its bits rounded up to
/// a power of two of bytes.
pub fn word_bytes(elem: &ScalarType) -> u64 {
    crate::estimate::ddr_element_bits(elem) / 8
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

/// One weight tensor a stage reads from DDR: the constant, the stage's parameter that
/// now carries it, its on-chip tiles (one per node that reads it) and the elements their
/// copies move per image.
#[derive(Clone, Debug)]
pub(super) struct Moved {
    pub constant: ConstId,
    pub param: usize,
    pub tiles: Vec<TensorId>,
    pub elems: u64,
    pub bytes: u64,
}

/// A stage as built with its weights in DDR: the instance and what it moves.
pub(super) struct OffChip {
    pub inst: Instance,
    pub moved: Vec<Moved>,
}

impl OffChip {
    /// Bytes the stage reads from DDR per call (per image): every tile copy's elements,
    /// each in its m_axi word.
    pub fn bytes(&self) -> u64 {
        self.moved.iter().map(|m| m.bytes).sum()
    }

    /// The on-chip tiles the stage copies its DDR weights into.
    pub fn tiles(&self) -> Vec<TensorId> {
        self.moved.iter().flat_map(|m| m.tiles.clone()).collect()
    }
}

/// The row loop of each node of `inst` when it computes row by row.
fn row_loops(inst: &Instance) -> HashMap<NodeId, LoopVarId> {
    crate::analysis::row_plan::plan_rows(inst)
        .map(|p| p.nodes.iter().map(|n| (n.node, n.row_var)).collect())
        .unwrap_or_default()
}

/// `inst` with its weights moved to parameters read into on-chip tiles (module doc).
pub(super) fn off_chip(inst: &Instance) -> OffChip {
    let mut inst = inst.clone();
    let rows = row_loops(&inst);
    // A dense stage fed value by value keeps its node as the plan built it: whole copies.
    let accumulate = inst
        .stage
        .as_ref()
        .is_some_and(|p| p.accumulate().is_some());
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
        let shape = inst.tensor(t).shape.clone();
        let word = word_bytes(&inst.tensor(t).elem);
        let mut entry = Moved {
            constant: c,
            param: p,
            tiles: Vec::new(),
            elems: 0,
            bytes: 0,
        };
        for n in readers {
            let Node::Compute(c) = &inst.graph[n] else {
                continue;
            };
            let mut body = c.body.clone();
            let tile = if accumulate {
                Tile::whole(&shape)
            } else {
                plan_tile(&inst, &body, t, rows.get(&n).copied())
            };
            let buf = build_tile(&mut inst, &mut body, t, &tile, &parts);
            entry.elems += tile.traffic(&shape);
            entry.tiles.push(buf);
            let Node::Compute(c) = &mut inst.graph[n] else {
                continue;
            };
            c.body = body;
            c.reads.push(buf);
            c.writes.push(buf);
        }
        entry.bytes = entry.elems.saturating_mul(word);
        inst.ddr_weights.push((p, c));
        moved.push(entry);
    }
    OffChip { inst, moved }
}

/// Moves the weights of stage `id` to parameters read into on-chip tiles (module doc).
fn move_weights(module: &mut Module, id: InstanceId) -> Vec<Moved> {
    let built = off_chip(module.instance(id));
    module.instances[id.index()] = built.inst;
    built.moved
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
        for m in &moved {
            let (c, p) = (m.constant, m.param);
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
            for m in &moved {
                let t = top_param[&m.constant];
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
        let stage = module.instance(id);
        let described: Vec<String> = moved
            .iter()
            .map(|m| {
                let name = &module.consts[m.constant.index()].name;
                let tiles: Vec<String> = m
                    .tiles
                    .iter()
                    .map(|&t| {
                        let tm = stage.tensor(t);
                        let shape: Vec<String> = tm.shape.iter().map(|d| d.to_string()).collect();
                        format!("[{}]", shape.join(", "))
                    })
                    .collect();
                let len = stage.tensor(stage.inputs[m.param]).len() as u64;
                format!(
                    "{name} in tiles {} ({} times the tensor per image)",
                    tiles.join(", "),
                    fmt_times(m.elems, len)
                )
            })
            .collect();
        let bits: u64 = moved
            .iter()
            .flat_map(|m| &m.tiles)
            .map(|&t| {
                let tm = stage.tensor(t);
                tm.len() as u64 * tm.elem.storage_bits() as u64
            })
            .sum();
        let bytes: u64 = moved.iter().map(|m| m.bytes).sum();
        let on_chip = if bits < 8 * 1024 {
            format!("{} bytes", bits.div_ceil(8))
        } else {
            format!("{:.1} KiB", bits as f64 / (8.0 * 1024.0))
        };
        remarks.push(format!(
            "weights of {} in DDR: {}; {on_chip} on chip, {} bytes read per image",
            stage.name,
            described.join(", "),
            bytes
        ));
    }
    remarks
}

/// `elems` as a multiple of `len`: "1", "56", "0.5".
fn fmt_times(elems: u64, len: u64) -> String {
    if len > 0 && elems.is_multiple_of(len) {
        (elems / len).to_string()
    } else {
        format!("{:.2}", elems as f64 / len.max(1) as f64)
    }
}
