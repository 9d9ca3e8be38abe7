//! How a choice is built in the IR: the schedule every choice of a stage shares
//! ([`base_schedule`]), a channel-parallel factor realized as a pipeline at II C / CPF or as
//! groups of CPF channels ([`realize`], [`Sharing`]), the partitions the reduction needs,
//! and the BRAM of the line buffer a layer pipeline keeps of a stage's input.

use super::*;
use crate::autoschedule::{buffer_inputs, choose, trips};
use crate::ir::{
    Block, Expr, Instance, LoopVarId, NodeId, Partition, PartitionKind, Stmt, TensorId, TensorKind,
};
use std::collections::{HashMap, HashSet};

/// Unrolled iterations the automatic schedule allows the loops of a stage that are not
/// multiply-accumulate nests (copies, pooling): enough for a pooling window.
const OTHER_LOOPS_LIMIT: u64 = 16;

/// The schedule of a stage every choice shares: on-chip copies of the input ports its
/// reductions re-read; each MAC nest's innermost output loop pipelined (II 1, set by
/// [`realize`]) with the perfect output loops around it flattened; the other loops
/// scheduled automatically with at most [`OTHER_LOOPS_LIMIT`] unrolled iterations.
pub fn base_schedule(inst: &mut Instance, bram_bits: u64) {
    buffer_inputs(inst, bram_bits);
    let nests = mac_nests(inst);
    for n in &nests {
        let Some(b) = body_mut(inst, n.node) else {
            continue;
        };
        if let Some(l) = loop_at_mut(b, &n.path) {
            l.directives.pipeline_ii = Some(1);
        }
        // Flatten the perfect loops around the pipeline, innermost pair first.
        for depth in (1..n.path.len()).rev() {
            let perfect = loop_at(b, &n.path[..depth]).is_some_and(|p| p.body.len() == 1);
            if !perfect {
                break;
            }
            if let Some(l) = loop_at_mut(b, &n.path[..=depth]) {
                l.directives.flatten = true;
            }
        }
    }
    let ro = inst.clone();
    let mut parts: HashMap<(TensorId, usize), u64> = HashMap::new();
    let nodes: Vec<NodeId> = inst.graph.node_indices().collect();
    for node in nodes {
        let Some(b) = body_mut(inst, node) else {
            continue;
        };
        if crate::ir::has_call(b) {
            continue;
        }
        for (k, stmt) in b.iter_mut().enumerate() {
            if nests.iter().any(|n| n.node == node && n.path[0] == k) {
                continue;
            }
            let mut one = vec![stmt.clone()];
            choose(&ro, &mut one, OTHER_LOOPS_LIMIT, &mut parts);
            if let Some(s) = one.pop() {
                *stmt = s;
            }
        }
    }
    for ((t, d), f) in parts {
        set_partition(inst, t, d, f);
    }
}

/// Partitions dimension `d` of `t` so that `f` elements can be read in one cycle
/// (completely when that is the whole dimension); at most 2 needs no banks (two ports).
fn set_partition(inst: &mut Instance, t: TensorId, d: usize, f: u64) {
    let tm = &mut inst.tensors[t.index()];
    tm.partition.retain(|p| p.dim != d);
    let n = tm.shape[d] as u64;
    if f > 2 {
        tm.partition.push(if f >= n {
            Partition {
                dim: d,
                kind: PartitionKind::Complete,
                factor: 0,
            }
        } else {
            Partition {
                dim: d,
                kind: PartitionKind::Cyclic,
                factor: f as u32,
            }
        });
    }
    tm.partition.sort_by_key(|p| p.dim);
}

/// How a channel-parallel factor below the channel count is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// The output loop pipelined at `II = C / CPF`: each DSP serves II products (LUT
    /// operators are not shared).
    Interval,
    /// The channel loop split into groups of CPF channels, the groups a loop inside the
    /// output pipeline (II 1, a group per cycle, the CPF x window products of a group at
    /// once): fewer operators of every kind.
    Groups,
}

/// The stage with channel-parallel factor `cpf[i]` for its `i`-th MAC nest, built as
/// `how` says (see the module doc). Sets directives and partitions absolutely, so it
/// applies to any schedule of the same stage; None when a loop cannot be split.
pub fn realize(inst: &Instance, nests: &[MacNest], cpf: &[u64], how: Sharing) -> Option<Instance> {
    let mut out = inst.clone();
    for (n, &f) in nests.iter().zip(cpf) {
        let f = f.clamp(1, n.channels);
        if how == Sharing::Groups && f < n.channels {
            group_nest(&mut out, n, f)?;
            continue;
        }
        let l = body(inst, n.node).and_then(|b| loop_at(b, &n.path))?;
        let spans = reduction_spans(inst, &l.body, n, f);
        apply_spans(&mut out, spans);
        let ii = n.channels.div_ceil(f) as u32;
        let l = body_mut(&mut out, n.node).and_then(|b| loop_at_mut(b, &n.path))?;
        l.directives.pipeline_ii = Some(ii);
    }
    Some(out)
}

/// The elements per dimension that one pipelined iteration of `b` touches in the arrays
/// the reduction reads, with the channel dimensions scaled to `f` of the nest's channels
/// (a dimension with no entry needs no banks: `1`).
fn reduction_spans(
    inst: &Instance,
    b: &Block,
    n: &MacNest,
    f: u64,
) -> HashMap<(TensorId, usize), u64> {
    let mut spans: HashMap<(TensorId, usize), u64> = HashMap::new();
    crate::autoschedule::partition_for(inst, b, &mut HashMap::new(), &mut spans);
    let mut channel_dims: HashSet<(TensorId, usize)> = HashSet::new();
    crate::ir::walk_stmts(b, &mut Vec::new(), &mut |s, _| {
        for r in crate::ir::stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            for a in loads {
                for (d, idx) in a.index.iter().enumerate() {
                    if idx.coeff(n.channel_var) != 0 {
                        channel_dims.insert((a.tensor, d));
                    }
                }
            }
        }
    });
    for (k, span) in spans.iter_mut() {
        if channel_dims.contains(k) {
            *span = (*span * f).div_ceil(n.channels);
        }
    }
    for k in channel_dims {
        let tm = inst.tensor(k.0);
        let on_chip = matches!(tm.kind, TensorKind::Const(_))
            || (matches!(tm.kind, TensorKind::Temp) && !inst.outputs.contains(&k.0));
        if on_chip {
            spans.entry(k).or_insert(1);
        }
    }
    spans
}

fn apply_spans(inst: &mut Instance, spans: HashMap<(TensorId, usize), u64>) {
    let mut spans: Vec<_> = spans.into_iter().collect();
    spans.sort_by_key(|&((t, d), _)| (t.0, d));
    for ((t, d), f) in spans {
        set_partition(inst, t, d, f);
    }
}

/// [`Sharing::Groups`] of one nest: the channel loop split into `c_o` (groups of `f`
/// channels) around `c_i`; `c_o` becomes the only statement of the innermost output loop,
/// the statements before the reduction run under `if c_o == 0` and those after it under
/// `if c_o == last`, so the output loops flatten into one pipeline over outputs x groups
/// (II 1) with `c_i` and the window unrolled inside.
fn group_nest(out: &mut Instance, n: &MacNest, f: u64) -> Option<()> {
    {
        let b = body_mut(out, n.node)?;
        for depth in 1..=n.path.len() {
            let l = loop_at_mut(b, &n.path[..depth])?;
            l.directives.pipeline_ii = None;
            l.directives.flatten = false;
        }
    }
    if f > 1 {
        let name = out.loop_vars[n.channel_var.index()].name.clone();
        let tmp = format!("\u{1}alloc{}", n.channel_var.0);
        out.loop_vars[n.channel_var.index()].name = tmp.clone();
        let (o, i) = (format!("{name}_o"), format!("{name}_i"));
        let r = crate::tile::for_each_body(out, &mut |inst, b| {
            crate::tile::split_exact(inst, b, &tmp, f as u32, &o, &i)
        });
        if r.is_err() {
            return None;
        }
    }
    // The group loop: the split's outer loop, or the channel loop itself (f = 1).
    let l = body(out, n.node).and_then(|b| loop_at(b, &n.path))?;
    let k = l.body.iter().position(|s| match s {
        Stmt::For(c) if f == 1 => c.var == n.channel_var,
        Stmt::For(o) => matches!(o.body.as_slice(), [Stmt::For(i)] if i.var == n.channel_var),
        _ => false,
    })?;
    let Stmt::For(group) = &l.body[k] else {
        return None;
    };
    // `if c_o == 0` and `if c_o == last` need the loop to count 0, 1, ... .
    if group.lo.as_constant() != Some(0) || group.step != 1 {
        return None;
    }
    let groups = trips(group)?;
    let gvar = group.var;
    let span = group.span;
    let (first, last) = (
        group_test(out, gvar, 0, groups, span),
        group_test(out, gvar, groups as i64 - 1, groups, span),
    );
    let ro = out.clone();
    let l = body_mut(out, n.node).and_then(|b| loop_at_mut(b, &n.path))?;
    let mut stmts = std::mem::take(&mut l.body);
    let post: Block = stmts.split_off(k + 1);
    let Some(Stmt::For(mut group)) = stmts.pop() else {
        return None;
    };
    let pre = stmts;
    let mut inner = Vec::new();
    if !pre.is_empty() {
        inner.push(Stmt::If {
            cond: first,
            then_block: pre,
            else_block: Vec::new(),
        });
    }
    inner.append(&mut group.body);
    if !post.is_empty() {
        inner.push(Stmt::If {
            cond: last,
            then_block: post,
            else_block: Vec::new(),
        });
    }
    group.body = inner;
    group.directives.pipeline_ii = Some(1);
    group.directives.flatten = true;
    l.body = vec![Stmt::For(group)];
    // The perfect output loops around it flatten into the pipeline too.
    let b = body_mut(out, n.node)?;
    for depth in (1..n.path.len()).rev() {
        let perfect = loop_at(b, &n.path[..depth]).is_some_and(|p| p.body.len() == 1);
        if !perfect {
            break;
        }
        if let Some(l) = loop_at_mut(b, &n.path[..=depth]) {
            l.directives.flatten = true;
        }
    }
    // Banks for what one group reads.
    let gl = body(&ro, n.node)
        .and_then(|b| loop_at(b, &n.path))
        .and_then(|l| match &l.body[k] {
            Stmt::For(g) => Some(g.body.clone()),
            _ => None,
        })?;
    let spans = reduction_spans(&ro, &gl, n, n.channels);
    apply_spans(out, spans);
    Some(())
}

/// The condition `var == value` of the group loop `var` (which takes `0..groups`).
fn group_test(
    inst: &mut Instance,
    var: LoopVarId,
    value: i64,
    groups: u64,
    span: crate::Span,
) -> crate::ir::ExprId {
    use kiln_numeric::{narrowest_type, Fx, Interval};
    let range = Interval {
        lo: Fx::int(0),
        hi: Fx::int(groups.saturating_sub(1) as i128),
    };
    let v = inst.add_expr(Expr::LoopVar(var), span);
    inst.expr_types[v.index()] = Some(narrowest_type(&range, 0));
    inst.expr_ranges[v.index()] = Some(range);
    let point = Interval::point(Fx::int(value as i128));
    let c = inst.add_expr(
        Expr::Const(crate::value::Value::Num(Fx::int(value as i128))),
        span,
    );
    inst.expr_types[c.index()] = Some(narrowest_type(&point, 0));
    inst.expr_ranges[c.index()] = Some(point);
    let e = inst.add_expr(Expr::Binary(crate::ir::BinOp::Eq, v, c), span);
    inst.expr_types[e.index()] = Some(kiln_numeric::ScalarType::Bool);
    e
}

/// BRAM18 blocks of the line buffer a layer pipeline keeps of the array a MAC nest's
/// reduction slides its window over (see the module doc), with `cpf` banks.
pub(super) fn line_buffer_bram(inst: &Instance, n: &MacNest, cpf: u64) -> u64 {
    let Some(l) = body(inst, n.node).and_then(|b| loop_at(b, &n.path)) else {
        return 0;
    };
    // Loop variables of the reduction (inside the output loop).
    let mut inner: HashMap<LoopVarId, u64> = HashMap::new();
    crate::ir::walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(r) = s {
            inner.insert(r.var, trips(r).unwrap_or(1));
        }
    });
    let mut best: Option<u64> = None;
    crate::ir::walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        for r in crate::ir::stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            for a in loads {
                let tm = inst.tensor(a.tensor);
                if matches!(tm.kind, TensorKind::Const(_)) || tm.shape.is_empty() {
                    continue;
                }
                // Rows kept along the first dimension the window slides through.
                let mut elems = tm.len() as u64;
                for (d, idx) in a.index.iter().enumerate() {
                    let window: u64 = idx
                        .terms
                        .iter()
                        .filter_map(|(v, c)| {
                            inner.get(v).map(|t| t.saturating_sub(1) * c.unsigned_abs())
                        })
                        .sum();
                    let stride: u64 = idx
                        .terms
                        .iter()
                        .filter(|(v, _)| !inner.contains_key(v))
                        .map(|(_, c)| c.unsigned_abs())
                        .max()
                        .unwrap_or(0);
                    if window > 0 && stride > 0 {
                        let extent = tm.shape[d] as u64;
                        let rows = (window + 1 + stride).min(extent);
                        elems = elems / extent.max(1) * rows;
                        break;
                    }
                }
                let bits = elems * tm.elem.storage_bits() as u64;
                let banks = cpf.max(1);
                let per_bank = bits.div_ceil(banks);
                let bram = if per_bank > 1024 {
                    banks * per_bank.div_ceil(18 * 1024)
                } else {
                    0
                };
                best = Some(best.map_or(bram, |b: u64| b.max(bram)));
            }
        }
    });
    best.unwrap_or(0)
}
