//! The multiply-accumulate nests of a stage: a loop nest whose innermost output loop holds
//! a reduction that accumulates products (its channels, window and outputs), and the
//! helpers that find a loop or a node's body by path.

use crate::autoschedule::{inner_iterations, trips};
use crate::ir::{Block, Expr, Instance, Loop, LoopVarId, Node, NodeId, Stmt};
use std::collections::HashSet;

/// A multiply-accumulate nest of a stage (see the module doc).
#[derive(Clone, Debug)]
pub struct MacNest {
    pub node: NodeId,
    /// Statement indices from the node's body down to the innermost output loop.
    pub(super) path: Vec<usize>,
    /// The outermost reduction loop: the channels.
    pub(super) channel_var: LoopVarId,
    pub channels: u64,
    /// The reduction loops inside it (the kernel window), trips multiplied.
    pub window: u64,
    /// The output loops' trips multiplied.
    pub outputs: u64,
}

impl MacNest {
    /// Multiply-accumulates per run of the nest.
    pub fn macs(&self) -> u64 {
        self.outputs
            .saturating_mul(self.channels)
            .saturating_mul(self.window)
    }

    /// The channel-parallel factors the nest may take, largest first: powers of two that
    /// divide the channels, and the channels themselves.
    pub fn factors(&self) -> Vec<u64> {
        let mut f: Vec<u64> = (0..63)
            .map(|k| 1u64 << k)
            .take_while(|&p| p <= self.channels)
            .filter(|p| self.channels.is_multiple_of(*p))
            .collect();
        if !f.contains(&self.channels) {
            f.push(self.channels);
        }
        f.sort_unstable_by(|a, b| b.cmp(a));
        f
    }
}

/// The multiply-accumulate nests of an instance, in node order. A nest whose reduction
/// is a low-bit one (binary or ternary products, analysis/bin_reduction.rs) of a stage
/// that keeps whole frames is left out:
/// the HLS back end computes it over packed words, 64 products an XNOR/popcount
/// expression, and that needs the reduction loop as written (`acc = 0; for c: acc += ..`),
/// which the channel groups of the allocation would fold into the output pipeline.
pub fn mac_nests(inst: &Instance) -> Vec<MacNest> {
    let mut out = Vec::new();
    for (id, c) in inst.computes() {
        if crate::ir::has_call(&c.body) {
            continue;
        }
        let mut nests = Vec::new();
        find_nests(
            inst,
            id,
            &c.body,
            &mut Vec::new(),
            &mut Vec::new(),
            &mut nests,
        );
        // A row stage computes low-bit products as selects (its line buffers hold no
        // packed words), so the allocation's parallelism is what it has.
        let row_stage = inst.stage.as_ref().and_then(|p| p.rows()).is_some();
        let low_bit: HashSet<LoopVarId> = if row_stage {
            HashSet::new()
        } else {
            crate::analysis::bin_reduction::find(inst, &c.body)
                .iter()
                .map(|d| d.var)
                .collect()
        };
        out.extend(nests.into_iter().filter(|n| {
            let Some(outputs) = body(inst, n.node).and_then(|b| loop_at(b, &n.path)) else {
                return true;
            };
            let mut reduction_vars = HashSet::new();
            crate::ir::walk_stmts(&outputs.body, &mut Vec::new(), &mut |s, _| {
                if let Stmt::For(l) = s {
                    reduction_vars.insert(l.var);
                }
            });
            low_bit.is_disjoint(&reduction_vars)
        }));
    }
    out
}

fn find_nests(
    inst: &Instance,
    node: NodeId,
    b: &Block,
    path: &mut Vec<usize>,
    outer: &mut Vec<u64>,
    out: &mut Vec<MacNest>,
) {
    for (k, s) in b.iter().enumerate() {
        let Stmt::For(l) = s else { continue };
        let Some(t) = trips(l) else { continue };
        path.push(k);
        outer.push(t);
        // The accumulators this loop starts (`sum = 0` directly in its body).
        let started: Vec<crate::ir::LocalId> = l
            .body
            .iter()
            .filter_map(|s| match s {
                Stmt::Assign { local, .. } => Some(*local),
                _ => None,
            })
            .collect();
        let reduction = l.body.iter().find_map(|s| match s {
            Stmt::For(r) if accumulates_products(inst, r, &started) => Some(r),
            _ => None,
        });
        match reduction.and_then(|r| Some((r, trips(r)?, inner_iterations(&r.body)?))) {
            Some((r, channels, window)) if channels > 0 => out.push(MacNest {
                node,
                path: path.clone(),
                channel_var: r.var,
                channels,
                window: window.max(1),
                outputs: outer.iter().product(),
            }),
            _ => find_nests(inst, node, &l.body, path, outer, out),
        }
        outer.pop();
        path.pop();
    }
}

/// Whether the loop (or one inside it) updates one of the `started` locals from itself
/// with a product.
fn accumulates_products(inst: &Instance, l: &Loop, started: &[crate::ir::LocalId]) -> bool {
    let mut found = false;
    crate::ir::walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Assign { local, value, .. } = s {
            if !started.contains(local) {
                return;
            }
            let (mut reads, mut mul) = (false, false);
            inst.for_each_subexpr(*value, &mut |x| match x {
                Expr::Local(y) if y == local => reads = true,
                Expr::Binary(crate::ir::BinOp::Mul, ..) => mul = true,
                _ => {}
            });
            found |= reads && mul;
        }
    });
    found
}

pub(super) fn loop_at<'a>(b: &'a Block, path: &[usize]) -> Option<&'a Loop> {
    match (b.get(*path.first()?)?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at(&l.body, &path[1..]),
        _ => None,
    }
}

pub(super) fn loop_at_mut<'a>(b: &'a mut Block, path: &[usize]) -> Option<&'a mut Loop> {
    match (b.get_mut(*path.first()?)?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at_mut(&mut l.body, &path[1..]),
        _ => None,
    }
}

pub(super) fn body_mut(inst: &mut Instance, node: NodeId) -> Option<&mut Block> {
    match &mut inst.graph[node] {
        Node::Compute(c) => Some(&mut c.body),
        _ => None,
    }
}

pub(super) fn body(inst: &Instance, node: NodeId) -> Option<&Block> {
    match &inst.graph[node] {
        Node::Compute(c) => Some(&c.body),
        _ => None,
    }
}
