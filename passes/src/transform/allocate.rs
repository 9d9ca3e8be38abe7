//! The resource allocation of a network's dataflow stages, after DNNBuilder (Zhang et al.,
//! ICCAD 2018): every stage (a call of a network top, which `kiln hls` writes as one
//! DATAFLOW process) gets a parallelism proportional to its work, scaled up to the
//! device's DSP, BRAM, LUT and DDR-bandwidth budget, so that the stages take about equally
//! long and the network's interval (a new image every `max stage cycles`) approaches what
//! the device allows.
//!
//! - **Stages and their multiply-accumulate nests.** In each stage, a MAC nest is a loop
//!   nest whose innermost output loop (`j` of a convolution, `m` of a dense layer) holds a
//!   reduction loop nest (`c, u, v` or `n`) that accumulates products. Its channels `C`
//!   are the trips of the outermost reduction loop, its window the trips of the loops
//!   inside (R x S). The parallelism is DNNBuilder's channel-parallel factor (CPF, a power
//!   of two that divides C, or C itself) times its kernel-parallel factor (KPF): the
//!   stage computes `CPF x window x KPF` products per cycle.
//! - **How a factor is built in the IR** (directives and partitions, as `schedule.rs`
//!   writes them). At `CPF = C` the innermost output loop is pipelined at II 1 with the
//!   reduction inside it (Vitis unrolls it), the perfect output loops around it flattened
//!   into the pipeline. Below C, two ways ([`Sharing`]): the same pipeline at
//!   `II = C / CPF` (each DSP shared by II products, estimate.rs; LUT operators are not
//!   shared), or the channel loop split into groups of CPF channels, the group loop
//!   `c_o` made the output loop's only statement (the accumulator's start under
//!   `if c_o == 0`, the epilogue under `if c_o == last`) so that outputs x groups flatten
//!   into one pipeline at II 1 with `c_i` and the window unrolled (fewer operators of
//!   every kind). The arrays the reduction reads are partitioned by the elements one
//!   cycle needs (`cyclic CPF` along the channel dimension, the window's extent along the
//!   others); input ports the reduction re-reads are first copied on chip
//!   (autoschedule.rs `buffer_inputs`). The other loops of a stage (padding copies,
//!   pooling) get the automatic schedule with at most 16 unrolled iterations.
//! - **KPF** (kpf.rs): a row stage whose result nest runs at `CPF = C` may compute KPF
//!   output channels a cycle (the output-channel loop moved inside the pipeline), a choice
//!   only where its stream can carry words of at least KPF channels; its other nests
//!   (padding copies, pooling) then take KPF channels a cycle where they can.
//! - **Stream words** ([`widen_streams`]): a stream between two row stages of an image
//!   may carry words of V channels (ir/mod.rs, "Stream words"); V is part of the
//!   producer's choice (one variant per power of two dividing the channels, at most
//!   1024 bits: its result leaves in `values / V` cycles, for V banks along the channels
//!   of its result row and of the consumer's line buffer), and the consumer reads the
//!   same words. The search picks stages in order, each in its producers' words
//!   ([`Stage::cycles_with`]), a producer in the words that let its consumer run within
//!   the interval at the least cost ([`needed_width`]).
//! - **Cost of a choice** (estimate.rs on the stage alone): cycles per image, DSPs (two
//!   8-bit products per DSP48, products of <= 4 bits and binary/ternary ones in LUTs),
//!   LUTs; BRAM for the weights as partitioned, plus the line buffer a layer pipeline
//!   keeps of its input (channels x (window rows + stride) x width, partitioned by CPF;
//!   the whole vector for a dense layer), plus FIFOs of their written depth. Weights
//!   that do not fit the BRAM budget stay in DDR (the largest first) and stream from it
//!   every image: the network's interval is at least their bytes over the board's
//!   bandwidth.
//! - **Search.** For each candidate interval T (the stage cycle counts of all choices, in
//!   every width of their producers' words),
//!   each stage takes its cheapest choice that runs within T (its DSP, LUT and BRAM
//!   shares of the budget added; a resource the total overruns weighs more at a retry);
//!   the smallest T whose total fits the budget is the allocation (with `--target-fps`,
//!   the cheapest choices within the target's interval). The bound is what stops a
//!   smaller T: the DSP, BRAM or LUT budget, the DDR bandwidth, or the slowest stage at
//!   its largest parallelism (its smallest possible interval).
//! - A stage whose kernel has a written `schedule ... for fpga` keeps it (one choice).
//!
//! Before: `for k: for i: for j: sum = 0; for c in 0..16: for u: for v: sum += ...` with
//! a DSP budget for 4 channels a cycle. After: `for k: for i: [flatten] for j: [pipeline
//! II=4, flatten]`, weights `[partition cyclic 4 dim 2, complete dim 3, complete dim 4]`.

use crate::autoschedule::{buffer_inputs, choose, inner_iterations, trips};
use crate::estimate::{const_memory, estimate_instance, Device};
use crate::ir::{
    Block, Expr, Instance, InstanceId, Loop, LoopVarId, Module, Node, NodeId, Partition,
    PartitionKind, Stmt, TensorId, TensorKind,
};
use crate::manager::AllocOptions;
use std::collections::{HashMap, HashSet};

/// Unrolled iterations the automatic schedule allows the loops of a stage that are not
/// multiply-accumulate nests (copies, pooling): enough for a pooling window.
const OTHER_LOOPS_LIMIT: u64 = 16;

/// A multiply-accumulate nest of a stage (see the module doc).
#[derive(Clone, Debug)]
pub struct MacNest {
    pub node: NodeId,
    /// Statement indices from the node's body down to the innermost output loop.
    path: Vec<usize>,
    /// The outermost reduction loop: the channels.
    channel_var: LoopVarId,
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

fn loop_at<'a>(b: &'a Block, path: &[usize]) -> Option<&'a Loop> {
    match (b.get(*path.first()?)?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at(&l.body, &path[1..]),
        _ => None,
    }
}

fn loop_at_mut<'a>(b: &'a mut Block, path: &[usize]) -> Option<&'a mut Loop> {
    match (b.get_mut(*path.first()?)?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at_mut(&mut l.body, &path[1..]),
        _ => None,
    }
}

fn body_mut(inst: &mut Instance, node: NodeId) -> Option<&mut Block> {
    match &mut inst.graph[node] {
        Node::Compute(c) => Some(&mut c.body),
        _ => None,
    }
}

fn body(inst: &Instance, node: NodeId) -> Option<&Block> {
    match &inst.graph[node] {
        Node::Compute(c) => Some(&c.body),
        _ => None,
    }
}

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
fn line_buffer_bram(inst: &Instance, n: &MacNest, cpf: u64) -> u64 {
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

/// One choice of a stage: its factors and what it costs.
#[derive(Clone, Debug)]
pub struct Choice {
    /// Channel-parallel factor per MAC nest.
    pub cpf: Vec<u64>,
    pub how: Sharing,
    /// The stage's instance with this choice built (shared by its stream widths).
    pub realized: std::sync::Arc<Instance>,
    pub cycles: u64,
    pub dsp: f64,
    pub lut: u64,
    /// BRAM18 of the weights as partitioned, and of line buffers and FIFOs.
    pub weight_bram: u64,
    pub act_bram: u64,
    /// Bits of the weights (what DDR streams each image when they stay off chip).
    pub weight_bits: u64,
    /// Values per word of the stream the stage writes (ir/mod.rs, "Stream words"); its
    /// consumer reads the same words. `cycles` counts its output in words of this width
    /// and its inputs in single values (the search subtracts what the producers' widths
    /// save, [`Stage::in_streams`]).
    pub width: u32,
    /// Output channels its result's nest computes a cycle (DNNBuilder's KPF, kpf.rs); its
    /// stream words are at least this wide.
    pub kpf: u64,
    /// Channels a cycle of its other row nests (padding copies, pooling), kpf.rs; 1 when
    /// they are as scheduled.
    pub lanes: u64,
}

/// The stream a stage writes to another row stage, which the allocation may widen.
#[derive(Clone, Debug)]
pub struct OutStream {
    /// The channel in the network top.
    pub channel: TensorId,
    /// The stage that reads it.
    pub consumer: usize,
    /// Values per image it carries.
    pub values: u64,
}

/// A stage of the network and the choices it has, fastest first.
#[derive(Clone, Debug)]
pub struct Stage {
    pub id: InstanceId,
    pub name: String,
    /// Calls of the instance in the network (each is its own hardware).
    pub copies: u64,
    /// Kept as its written schedule (or the automatic schedule is off): one choice.
    pub written: bool,
    pub nests: Vec<MacNest>,
    pub choices: Vec<Choice>,
    /// The stream it writes to a row stage, when its words may be widened.
    pub out_stream: Option<OutStream>,
    /// The widenable streams it reads: (producer stage, values per image).
    pub in_streams: Vec<(usize, u64)>,
}

impl Stage {
    /// The cycles of choice `i` when the streams it reads come in the words `widths`
    /// (per stage: the width of the stream that stage writes) give.
    pub fn cycles_with(&self, i: usize, widths: &dyn Fn(usize) -> u32) -> u64 {
        let saved: u64 = self
            .in_streams
            .iter()
            .map(|&(p, values)| values - values.div_ceil(widths(p).max(1) as u64))
            .sum();
        self.choices[i].cycles.saturating_sub(saved)
    }

    /// The stream widths its choices offer.
    fn widths(&self) -> Vec<u32> {
        let mut w: Vec<u32> = self.choices.iter().map(|c| c.width).collect();
        w.sort_unstable();
        w.dedup();
        w
    }
}

/// What limits the network's interval.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    /// The stage (index) at its largest parallelism: its smallest possible interval.
    Stage(usize),
    Dsp,
    Bram,
    Lut,
    /// The DDR bandwidth for the weights that stay off chip.
    Bandwidth,
    /// `--target-fps` is met with the least hardware.
    Target,
}

/// The allocation: a choice per stage and what it gives.
#[derive(Clone, Debug)]
pub struct Allocation {
    pub picks: Vec<usize>,
    /// Each stage's cycles per image with its pick, in the stream words its producers
    /// write ([`Stage::cycles_with`]).
    pub cycles: Vec<u64>,
    /// Stages whose weights stream from DDR.
    pub ddr: Vec<bool>,
    /// Cycles between images: the slowest stage, or the DDR traffic.
    pub interval: u64,
    pub bound: Bound,
    /// Whether the total fits the budget.
    pub fits: bool,
    /// `--target-fps` was asked and cannot be reached (the allocation is then the
    /// fastest that fits): why.
    pub target_missed: Option<Vec<Bound>>,
    pub dsp: f64,
    pub bram: u64,
    pub lut: u64,
}

/// The device's resources times the budget fraction, and the DDR bytes per cycle.
#[derive(Clone, Copy, Debug)]
struct Budget {
    dsp: f64,
    bram: u64,
    lut: u64,
    ddr_bytes_per_cycle: f64,
}

impl Budget {
    /// The part of the budget a choice takes: its DSP, LUT and BRAM shares added.
    /// With `w` the weights of DSP, LUT and BRAM.
    fn share(&self, c: &Choice, w: [f64; 3]) -> f64 {
        w[0] * c.dsp / self.dsp.max(1.0)
            + w[1] * c.lut as f64 / self.lut.max(1) as f64
            + w[2] * (c.weight_bram + c.act_bram) as f64 / self.bram.max(1) as f64
    }
}

fn budget(dev: &Device, clock_ns: f64, fraction: f64) -> Budget {
    Budget {
        dsp: dev.dsp as f64 * fraction,
        bram: (dev.bram18 as f64 * fraction).floor() as u64,
        lut: (dev.lut as f64 * fraction).floor() as u64,
        ddr_bytes_per_cycle: dev.ddr_gbps * clock_ns,
    }
}

/// The cheapest choice of each stage within `t` cycles (the fastest where none is), the
/// weights that must stay in DDR, and what exceeds the budget or `t`.
/// The choices are weighed by their shares of the budget, a resource the sum exceeds
/// weighing 4 times more at each retry (a stage may trade BRAM for LUTs and back).
fn evaluate(stages: &[Stage], b: &Budget, t: u64) -> (Allocation, Vec<Bound>) {
    let mut weights = [1.0f64; 3];
    let mut result = evaluate_weighted(stages, b, t, weights);
    for _ in 0..8 {
        let over = &result.1;
        if !over
            .iter()
            .any(|o| matches!(o, Bound::Dsp | Bound::Lut | Bound::Bram))
        {
            break;
        }
        for (k, r) in [Bound::Dsp, Bound::Lut, Bound::Bram].iter().enumerate() {
            if over.contains(r) {
                weights[k] *= 4.0;
            }
        }
        result = evaluate_weighted(stages, b, t, weights);
    }
    result
}

fn evaluate_weighted(
    stages: &[Stage],
    b: &Budget,
    t: u64,
    weights: [f64; 3],
) -> (Allocation, Vec<Bound>) {
    // In stage order (producers first): each stage's cheapest choice within `t`, in the
    // words its producers chose; a stage that writes a widenable stream takes words at
    // least as wide as its consumer needs to run within `t`.
    let mut picks: Vec<usize> = Vec::with_capacity(stages.len());
    let mut cycles: Vec<u64> = Vec::with_capacity(stages.len());
    for s in stages {
        let widths = |p: usize| {
            picks
                .get(p)
                .map_or(1, |&i: &usize| stages[p].choices[i].width)
        };
        let need = s
            .out_stream
            .as_ref()
            .map_or(1, |o| needed_width(stages, s, o, t, b, weights));
        let cheapest = |wide_enough: bool| {
            (0..s.choices.len())
                .filter(|&i| s.cycles_with(i, &widths) <= t)
                .filter(|&i| !wide_enough || s.choices[i].width >= need)
                .min_by(|&i, &j| {
                    let (a, c) = (&s.choices[i], &s.choices[j]);
                    b.share(a, weights)
                        .total_cmp(&b.share(c, weights))
                        .then(a.cycles.cmp(&c.cycles))
                })
        };
        let i = cheapest(true).or_else(|| cheapest(false)).unwrap_or(0);
        cycles.push(s.cycles_with(i, &widths));
        picks.push(i);
    }
    let pick = |k: usize| &stages[k].choices[picks[k]];
    let copies = |k: usize| stages[k].copies;
    let dsp: f64 = (0..stages.len())
        .map(|k| pick(k).dsp * copies(k) as f64)
        .sum();
    let lut: u64 = (0..stages.len()).map(|k| pick(k).lut * copies(k)).sum();
    let act: u64 = (0..stages.len())
        .map(|k| pick(k).act_bram * copies(k))
        .sum();
    let mut ddr = vec![false; stages.len()];
    let mut weights: u64 = (0..stages.len())
        .map(|k| pick(k).weight_bram * copies(k))
        .sum();
    // Weights that do not fit stay in DDR, the largest first.
    let mut order: Vec<usize> = (0..stages.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(pick(k).weight_bram * copies(k)));
    for k in order {
        if act + weights <= b.bram || pick(k).weight_bram == 0 {
            break;
        }
        weights -= pick(k).weight_bram * copies(k);
        ddr[k] = true;
    }
    let ddr_bytes: u64 = (0..stages.len())
        .filter(|&k| ddr[k])
        .map(|k| (pick(k).weight_bits * copies(k)).div_ceil(8))
        .sum();
    let ddr_cycles = (ddr_bytes as f64 / b.ddr_bytes_per_cycle).ceil() as u64;
    let slowest = cycles.iter().copied().max().unwrap_or(0);
    let interval = slowest.max(ddr_cycles);
    let bram = act + weights;
    let mut over = Vec::new();
    if dsp > b.dsp {
        over.push(Bound::Dsp);
    }
    if bram > b.bram {
        over.push(Bound::Bram);
    }
    if lut > b.lut {
        over.push(Bound::Lut);
    }
    if ddr_cycles > t {
        over.push(Bound::Bandwidth);
    }
    let alloc = Allocation {
        picks,
        cycles,
        ddr,
        interval,
        bound: Bound::Target,
        fits: over
            .iter()
            .all(|o| matches!(o, Bound::Bandwidth | Bound::Stage(_))),
        target_missed: None,
        dsp,
        bram,
        lut,
    };
    (alloc, over)
}

/// The word of the stream `o` (written by `s`) that lets its consumer run within `t` at
/// the least cost (its cheapest choice in those words; the narrowest word among equals);
/// the widest `s` offers when no word lets it.
fn needed_width(
    stages: &[Stage],
    s: &Stage,
    o: &OutStream,
    t: u64,
    b: &Budget,
    w: [f64; 3],
) -> u32 {
    let q = &stages[o.consumer];
    let widths = s.widths();
    let mut best: Option<(f64, u32)> = None;
    for &v in &widths {
        let saved = o.values - o.values.div_ceil(v as u64);
        let cheapest = (0..q.choices.len())
            .filter(|&i| q.choices[i].cycles.saturating_sub(saved) <= t)
            .map(|i| b.share(&q.choices[i], w))
            .min_by(|x, y| x.total_cmp(y));
        if let Some(c) = cheapest {
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, v));
            }
        }
    }
    best.map(|(_, v)| v)
        .or_else(|| widths.last().copied())
        .unwrap_or(1)
}

/// Each stage's cycles at its fastest choice with its producers' widest words: the
/// smallest interval it can take.
fn floors(stages: &[Stage]) -> Vec<u64> {
    stages
        .iter()
        .map(|s| {
            let widest = |p: usize| stages[p].widths().last().copied().unwrap_or(1);
            (0..s.choices.len())
                .map(|i| s.cycles_with(i, &widest))
                .min()
                .unwrap_or(0)
        })
        .collect()
}

/// The allocation of `stages` for the device (see the module doc).
pub fn search(stages: &[Stage], dev: &Device, clock_ns: f64, opts: AllocOptions) -> Allocation {
    let b = budget(dev, clock_ns, opts.budget);
    // The slowest stage at its largest parallelism.
    let (floor_stage, floor) = floors(stages)
        .into_iter()
        .enumerate()
        .max_by_key(|&(_, c)| c)
        .unwrap_or((0, 0));
    let mut target_missed = None;
    if let Some(fps) = opts.target_fps {
        let t = (1e9 / (fps * clock_ns)).floor() as u64;
        let (a, over) = evaluate(stages, &b, t);
        if over.is_empty() && a.interval <= t {
            return a;
        }
        let mut why = over;
        if floor > t {
            why.push(Bound::Stage(floor_stage));
        }
        target_missed = Some(why);
    }
    // Candidate intervals: every choice's cycles, with the words of each producer's
    // every width.
    let mut ts: Vec<u64> = Vec::new();
    for s in stages {
        for i in 0..s.choices.len() {
            ts.push(s.choices[i].cycles);
            for &(p, _) in &s.in_streams {
                for v in stages[p].widths() {
                    ts.push(s.cycles_with(i, &|q| if q == p { v } else { 1 }));
                }
            }
            let widest = |p: usize| stages[p].widths().last().copied().unwrap_or(1);
            ts.push(s.cycles_with(i, &widest));
        }
    }
    ts.retain(|&c| c >= floor);
    ts.push(floor);
    ts.sort_unstable();
    ts.dedup();
    let mut previous: Option<Vec<Bound>> = None;
    for &t in &ts {
        let (mut a, over) = evaluate(stages, &b, t);
        if over.is_empty() {
            a.bound = match previous {
                None => Bound::Stage(floor_stage),
                Some(p) => p.into_iter().next().unwrap_or(Bound::Stage(floor_stage)),
            };
            // The DDR traffic may be what sets the interval.
            if a.interval > a.cycles.iter().copied().max().unwrap_or(0) {
                a.bound = Bound::Bandwidth;
            }
            a.target_missed = target_missed;
            return a;
        }
        previous = Some(over);
    }
    // Nothing fits: the cheapest allocation, and what it exceeds.
    let t = ts.last().copied().unwrap_or(0);
    let (mut a, over) = evaluate(stages, &b, t);
    a.bound = over.first().cloned().unwrap_or(Bound::Stage(floor_stage));
    a.fits = over.iter().all(|o| *o == Bound::Bandwidth);
    a.target_missed = target_missed;
    a
}

/// The stages of a network top (its calls, in schedule order; an instance called twice
/// is one stage with two copies), or None when the entry is not a network.
fn stage_ids(module: &Module) -> Option<Vec<(InstanceId, u64)>> {
    let entry = module.entry?;
    let top = module.instance(entry);
    if top.dataflow_streams().is_empty() {
        return None;
    }
    let mut out: Vec<(InstanceId, u64)> = Vec::new();
    for n in top.schedule() {
        if let Node::Call(c) = &top.graph[n] {
            match out.iter_mut().find(|(id, _)| *id == c.callee) {
                Some(e) => e.1 += 1,
                None => out.push((c.callee, 1)),
            }
        }
    }
    Some(out)
}

/// Whether a written `schedule ... for fpga` names the stage's kernel.
fn written(module: &Module, inst: &Instance) -> bool {
    module
        .schedules
        .iter()
        .any(|s| s.target == kiln_lang::hir::Target::Fpga && s.kernel == inst.kernel)
}

/// The cost of a stage with `inst` as its schedule.
fn cost(
    module: &mut Module,
    id: InstanceId,
    inst: Instance,
    nests: &[MacNest],
    cpf: &[u64],
    how: Sharing,
) -> Choice {
    let old = std::mem::replace(&mut module.instances[id.index()], inst);
    let e = estimate_instance(module, id);
    let inst = std::mem::replace(&mut module.instances[id.index()], old);
    let (weights, weight_bits) = const_memory(&inst);
    let mut act: u64 = nests
        .iter()
        .zip(cpf)
        .map(|(n, &f)| line_buffer_bram(&inst, n, f))
        .sum();
    // FIFOs of a written depth.
    for t in &inst.tensors {
        if let Some(d) = t.stream_depth {
            let bits = d as u64 * t.stream_width.max(1) as u64 * t.elem.storage_bits() as u64;
            if bits > 1024 {
                act += bits.div_ceil(18 * 1024);
            }
        }
    }
    Choice {
        cpf: cpf.to_vec(),
        how,
        realized: std::sync::Arc::new(inst),
        cycles: e.cycles,
        dsp: e.res.dsp,
        lut: e.res.lut,
        weight_bram: weights.bram18,
        act_bram: act,
        weight_bits,
        width: 1,
        kpf: 1,
        lanes: 1,
    }
}

/// The choices of a stage scheduled by [`base_schedule`] (or as it stands when it is
/// `written`): per parallelism level (each nest's factor halved per level), the output
/// pipeline at `II = C / CPF` and, below the channel count, the split channel loop.
fn choices(module: &mut Module, id: InstanceId, nests: &[MacNest], written: bool) -> Vec<Choice> {
    let inst = module.instance(id).clone();
    if written || nests.is_empty() {
        let cpf: Vec<u64> = nests.iter().map(|n| current_cpf(&inst, n)).collect();
        return vec![cost(module, id, inst, nests, &cpf, Sharing::Interval)];
    }
    let mut out: Vec<Choice> = Vec::new();
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for level in 0..63u32 {
        let cpf: Vec<u64> = nests
            .iter()
            .map(|n| {
                let want = (n.channels >> level).max(1);
                n.factors().into_iter().find(|&f| f <= want).unwrap_or(1)
            })
            .collect();
        if !seen.contains(&cpf) {
            seen.push(cpf.clone());
            for how in [Sharing::Interval, Sharing::Groups] {
                let below = nests.iter().zip(&cpf).any(|(n, &f)| f < n.channels);
                if how == Sharing::Groups && !below {
                    continue;
                }
                if let Some(r) = realize(&inst, nests, &cpf, how) {
                    out.push(cost(module, id, r, nests, &cpf, how));
                }
            }
        }
        if cpf.iter().all(|&f| f == 1) {
            break;
        }
    }
    out.sort_by_key(|c| c.cycles);
    out
}

/// The channel-parallel factor a nest's schedule gives: C / II when its output loop is
/// pipelined, C when a loop around it is, else 1 per II of a pipelined reduction loop.
pub fn current_cpf(inst: &Instance, n: &MacNest) -> u64 {
    let Some(b) = body(inst, n.node) else {
        return 1;
    };
    for depth in 1..=n.path.len() {
        if let Some(l) = loop_at(b, &n.path[..depth]) {
            if let Some(ii) = l.directives.pipeline_ii {
                return n.channels.div_ceil(ii.max(1) as u64);
            }
        }
    }
    // A pipelined loop inside the reduction: the products of one of its iterations.
    let mut lanes = 1;
    if let Some(l) = loop_at(b, &n.path) {
        crate::ir::walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::For(r) = s {
                if let Some(ii) = r.directives.pipeline_ii {
                    let inner = inner_iterations(&r.body).unwrap_or(1);
                    lanes = lanes.max(inner / ii.max(1) as u64);
                }
            }
        });
    }
    (lanes / n.window.max(1)).max(1)
}

/// The stages of the module's network with their choices: the allocation's view of a
/// module. `auto` false: every stage as it stands.
pub fn stages(module: &mut Module, auto: bool) -> Option<Vec<Stage>> {
    let ids = stage_ids(module)?;
    let mut out = Vec::new();
    for (id, copies) in ids {
        let inst = module.instance(id);
        let written = !auto || written(module, inst);
        let nests = mac_nests(inst);
        let name = inst.name.clone();
        let choices = choices(module, id, &nests, written);
        out.push(Stage {
            id,
            name,
            copies,
            written,
            nests,
            choices,
            out_stream: None,
            in_streams: Vec::new(),
        });
    }
    widen_streams(module, &mut out);
    Some(out)
}

/// Statement indices from a node's body to the first pipelined loop of the perfect chain
/// its last statement starts.
fn pipelined_chain(b: &Block) -> Option<Vec<usize>> {
    let mut path = vec![b.len().checked_sub(1)?];
    let mut l = match b.last()? {
        Stmt::For(l) => l,
        _ => return None,
    };
    while l.directives.pipeline_ii.is_none() {
        match l.body.as_slice() {
            [Stmt::For(inner)] => {
                path.push(0);
                l = inner;
            }
            _ => return None,
        }
    }
    Some(path)
}

/// The widest stream word: 1024 bits (a wide FIFO; a wider word would cost more in
/// FIFO and register width than the cycles it saves).
const MAX_WORD_BITS: u64 = 1024;

/// Streams between two row stages of an image (each stage called once, neither with a
/// written schedule) may carry words of V channels (ir/mod.rs, "Stream words"): the
/// producer's choices gain one variant per width V (a power of two dividing the channels,
/// at most [`MAX_WORD_BITS`] a word) that sends its result in `values / V` cycles and
/// pays for V banks along the channels of its result row and of the consumer's line
/// buffer; the consumer reads in the same words (the search subtracts what they save).
fn widen_streams(module: &mut Module, stages: &mut [Stage]) {
    let Some(entry) = module.entry else { return };
    let top = module.instance(entry);
    let streams = top.dataflow_streams();
    let calls: Vec<(InstanceId, Vec<TensorId>, Vec<TensorId>)> = top
        .schedule()
        .into_iter()
        .filter_map(|n| match &top.graph[n] {
            Node::Call(c) => Some((c.callee, c.args.clone(), c.results.clone())),
            _ => None,
        })
        .collect();
    for k in 0..stages.len() {
        // What the stream is: its channel, consumer, sizes (owned: the module changes
        // below when KPF choices are costed).
        let found = (|| {
            let s = &stages[k];
            if s.copies != 1 || s.written {
                return None;
            }
            let call = calls.iter().find(|c| c.0 == s.id)?;
            let plan = module.instance(s.id).stage.as_ref()?.rows()?.clone();
            let [r] = call.2[..] else { return None };
            let top = module.instance(entry);
            let tm = top.tensor(r);
            if plan.flat_output || !streams.contains(&r) || tm.shape.len() != 3 {
                return None;
            }
            let (consumer, slot) = calls
                .iter()
                .find_map(|c| c.1.iter().position(|&a| a == r).map(|i| (c.0, i)))?;
            let q = stages.iter().position(|st| st.id == consumer)?;
            if stages[q].copies != 1 || stages[q].written {
                return None;
            }
            let cinst = module.instance(consumer);
            let port = cinst.inputs[slot];
            let rows = cinst.stage.as_ref()?.rows()?.rows_of(port)?;
            let last = plan.nodes.last()?.node;
            Some((
                r,
                q,
                rows as u64,
                tm.shape[0] as u64,
                tm.shape[2] as u64,
                tm.elem.storage_bits() as u64,
                tm.len() as u64,
                last,
            ))
        })();
        let Some((r, q, rows, c, w, bits, values, last)) = found else {
            continue;
        };
        if c == 0 {
            continue;
        }
        // KPF: the nest that makes the result, at its full channel parallelism, computes
        // KPF output channels a cycle (kpf.rs); its words are then at least KPF wide. The
        // stage's other nests (padding copies, pooling) take as many channels a cycle
        // where their channel count allows it.
        let id = stages[k].id;
        let nests = stages[k].nests.clone();
        let mut kpf_choices: Vec<Choice> = Vec::new();
        let full = if nests.is_empty() {
            stages[k].choices.first().cloned()
        } else {
            stages[k]
                .choices
                .iter()
                .find(|ch| {
                    ch.how == Sharing::Interval
                        && ch.kpf == 1
                        && nests.iter().zip(&ch.cpf).all(|(n, &f)| f >= n.channels)
                })
                .cloned()
        };
        if let Some(full) = full {
            // Each row node's nest: the MAC nest's path, or the perfect chain from its
            // last statement down to its pipelined loop.
            let paths: Vec<(NodeId, Vec<usize>)> = full
                .realized
                .stage
                .as_ref()
                .and_then(|p| p.rows())
                .map(|plan| {
                    plan.nodes
                        .iter()
                        .filter_map(|rn| match nests.iter().find(|n| n.node == rn.node) {
                            Some(n) => Some((rn.node, n.path.clone())),
                            None => body(&full.realized, rn.node)
                                .and_then(pipelined_chain)
                                .map(|p| (rn.node, p)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            for kpf in (1..=c.trailing_zeros()).map(|e| 1u64 << e) {
                if kpf * bits > MAX_WORD_BITS {
                    break;
                }
                let mut inst = (*full.realized).clone();
                let mut result_at = false;
                let mut any = false;
                for (node, path) in &paths {
                    let done =
                        crate::transform::kpf::kpf_nest(&mut inst, *node, path, kpf).is_some();
                    any |= done;
                    result_at |= done && *node == last;
                }
                if !any {
                    break;
                }
                let mut ch = cost(module, id, inst, &nests, &full.cpf, full.how);
                ch.kpf = if result_at { kpf } else { 1 };
                ch.lanes = kpf;
                kpf_choices.push(ch);
            }
        }
        stages[k].choices.extend(kpf_choices);
        let banks_cost = |elems: u64, banks: u64| -> (u64, u64) {
            let per_bank = (elems * bits).div_ceil(banks.max(1));
            if per_bank > 1024 {
                (banks * per_bank.div_ceil(18 * 1024), 0)
            } else {
                (0, banks * per_bank.div_ceil(64))
            }
        };
        let memories = [c * w, c * rows * w];
        let base: Vec<Choice> = std::mem::take(&mut stages[k].choices);
        let mut out: Vec<Choice> = Vec::new();
        for b in &base {
            if b.kpf == 1 {
                out.push(b.clone());
            }
            for v in (1..=c.trailing_zeros()).map(|e| 1u64 << e) {
                if v * bits > MAX_WORD_BITS {
                    break;
                }
                if v < b.kpf {
                    continue;
                }
                let (mut bram, mut lut) = (0u64, 0u64);
                for m in memories {
                    let (b1, l1) = banks_cost(m, 1);
                    let (bv, lv) = banks_cost(m, v);
                    bram += bv.saturating_sub(b1);
                    lut += lv.saturating_sub(l1);
                }
                let mut wide = b.clone();
                wide.width = v as u32;
                wide.cycles = b.cycles - values + values.div_ceil(v);
                wide.act_bram += bram;
                wide.lut += lut;
                out.push(wide);
            }
        }
        let widened = out.len() > base.iter().filter(|b| b.kpf == 1).count();
        stages[k].choices = out;
        if !widened {
            continue;
        }
        stages[k].choices.sort_by_key(|c| c.cycles);
        stages[k].out_stream = Some(OutStream {
            channel: r,
            consumer: q,
            values,
        });
        stages[q].in_streams.push((k, values));
    }
}

/// Schedules the stages of a network top for every choice ([`base_schedule`], in place)
/// and searches the allocation; None when the entry is not a network.
pub fn plan(
    module: &mut Module,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> Option<(Vec<Stage>, Allocation)> {
    let ids = stage_ids(module)?;
    let bram_bits = dev.bram18 as u64 * 18 * 1024 / 4;
    for &(id, _) in &ids {
        let inst = module.instance(id);
        if written(module, inst) {
            continue;
        }
        base_schedule(module.instance_mut(id), bram_bits);
    }
    let stages = stages(module, true)?;
    let alloc = search(&stages, dev, clock_ns, opts);
    Some((stages, alloc))
}

/// The `autoschedule` pass for a network top: schedules and allocates its stages;
/// returns the remarks (the factors per stage), or None when the entry is not a network
/// (the caller schedules it otherwise).
pub fn allocate(
    module: &mut Module,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> Option<Vec<String>> {
    let (stages, alloc) = plan(module, dev, clock_ns, opts)?;
    let mut remarks = Vec::new();
    for (s, &p) in stages.iter().zip(&alloc.picks) {
        if s.written {
            continue;
        }
        let c = &s.choices[p];
        module.instances[s.id.index()] = (*c.realized).clone();
        remarks.push(format!(
            "allocation for {}: {} {}",
            dev.part,
            s.name,
            describe(s, c)
        ));
    }
    // Stream words: the channel and the ports of both stages; a FIFO keeps its bits (its
    // depth, set in single values by the first `stream` pass, counts words).
    if let Some(entry) = module.entry {
        for (s, &p) in stages.iter().zip(&alloc.picks) {
            let (Some(o), v) = (&s.out_stream, s.choices[p].width) else {
                continue;
            };
            if v <= 1 {
                continue;
            }
            module.set_stream_width(entry, o.channel, v);
            let t = module.instance_mut(entry).tensor_mut(o.channel);
            t.stream_depth = t.stream_depth.map(|d| d.div_ceil(v).max(1));
        }
    }
    remarks.push(format!(
        "allocation for {}: a new image every {} cycles, bound by {}",
        dev.part,
        alloc.interval,
        bound_name(&alloc.bound, &stages)
    ));
    Some(remarks)
}

/// The allocation table `kiln report` prints for a network: per stage its factors,
/// cycles per image, DSP, BRAM (weights, line buffers, FIFOs) and LUT; for the network
/// the interval, images per second, GOPS, utilization and the bound.
pub fn table(
    stages: &[Stage],
    a: &Allocation,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let goal = match opts.target_fps {
        Some(f) => format!("target {f} images/s"),
        None => "as fast as the budget allows".into(),
    };
    let _ = writeln!(
        s,
        "\nallocation of the network's stages for {} at {clock_ns} ns ({goal}, budget {:.0}% of the device):",
        dev.part,
        opts.budget * 100.0
    );
    let w = stages
        .iter()
        .map(|st| st.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let rows: Vec<(String, &Choice, bool, u64)> = stages
        .iter()
        .zip(&a.picks)
        .zip(&a.ddr)
        .zip(&a.cycles)
        .map(|(((st, &p), &ddr), &cy)| (describe(st, &st.choices[p]), &st.choices[p], ddr, cy))
        .collect();
    let fw = rows.iter().map(|r| r.0.len()).max().unwrap_or(7).max(7);
    let _ = writeln!(
        s,
        "  {:w$}  {:fw$}  {:>12}  {:>7}  {:>6}  {:>7}  weights",
        "stage", "factors", "cycles/image", "DSP", "BRAM18", "LUT"
    );
    let mut macs: u64 = 0;
    let mut sum_cycles = 0u64;
    for (st, (f, c, ddr, cycles)) in stages.iter().zip(&rows) {
        let copies = if st.copies > 1 {
            format!(" (x{})", st.copies)
        } else {
            String::new()
        };
        let bram = if *ddr { 0 } else { c.weight_bram } + c.act_bram;
        let _ = writeln!(
            s,
            "  {:w$}  {:fw$}  {:>12}  {:>7}  {:>6}  {:>7}  {}{}{}",
            st.name,
            f,
            cycles,
            fmt_dsp(c.dsp),
            bram,
            c.lut,
            if *ddr { "DDR" } else { "on chip" },
            copies,
            if st.written { ", not allocated" } else { "" },
        );
        macs += st.copies * st.nests.iter().map(|n| n.macs()).sum::<u64>();
        sum_cycles += cycles * st.copies;
    }
    let n_stages: u64 = stages.iter().map(|st| st.copies).sum::<u64>().max(1);
    let slowest = rows.iter().map(|r| r.3).max().unwrap_or(0);
    let mean = sum_cycles as f64 / n_stages as f64;
    let fps = if a.interval == 0 {
        0.0
    } else {
        1e9 / (a.interval as f64 * clock_ns)
    };
    let _ = writeln!(
        s,
        "network: a new image every {} cycles = {:.1} images/s; {:.3} MMAC per image = {:.1} GOPS (2 ops per MAC); slowest stage {:.2}x the mean",
        a.interval,
        fps,
        macs as f64 / 1e6,
        2.0 * macs as f64 * fps / 1e9,
        if mean > 0.0 { slowest as f64 / mean } else { 0.0 }
    );
    let pct = |u: f64, of: u32| 100.0 * u / of as f64;
    let _ = writeln!(
        s,
        "utilization (the layer pipeline's memory: weights, line buffers, FIFOs): DSP {:.1}%, BRAM18 {:.1}%, LUT {:.1}%{}",
        pct(a.dsp, dev.dsp),
        pct(a.bram as f64, dev.bram18),
        pct(a.lut as f64, dev.lut),
        if a.fits { "" } else { " (does not fit the budget)" }
    );
    if a.ddr.iter().any(|&d| d) {
        let bytes: u64 = stages
            .iter()
            .zip(&rows)
            .filter(|(_, r)| r.2)
            .map(|(st, r)| (r.1.weight_bits * st.copies).div_ceil(8))
            .sum();
        let _ = writeln!(
            s,
            "DDR: {:.2} MB of weights per image at {} GB/s (at least {} cycles)",
            bytes as f64 / 1e6,
            dev.ddr_gbps,
            (bytes as f64 / (dev.ddr_gbps * clock_ns)).ceil() as u64
        );
    }
    if let Some(why) = &a.target_missed {
        let why: Vec<String> = why.iter().map(|b| bound_name(b, stages)).collect();
        let _ = writeln!(
            s,
            "target not reached ({}); the allocation is the fastest that fits",
            why.join(", ")
        );
    }
    let _ = writeln!(s, "bound: {}", bound_name(&a.bound, stages));
    s
}

fn fmt_dsp(d: f64) -> String {
    if d.fract() == 0.0 {
        format!("{d:.0}")
    } else {
        format!("{d:.1}")
    }
}

/// The factors of a choice: `CPF c/C x KPF 1` per MAC nest (`-` for a stage without one),
/// and how they are built.
pub fn describe(s: &Stage, c: &Choice) -> String {
    let mut word = String::new();
    if c.lanes > 1 && (s.nests.is_empty() || c.lanes != c.kpf) {
        word.push_str(&format!(", {} channels a cycle", c.lanes));
    }
    if c.width > 1 {
        word.push_str(&format!(", stream word {}", c.width));
    }
    if s.nests.is_empty() {
        return if word.is_empty() {
            "-".into()
        } else {
            word[2..].to_string()
        };
    }
    let f = describe_nests(s, c);
    format!("{f}{word}")
}

fn describe_nests(s: &Stage, c: &Choice) -> String {
    s.nests
        .iter()
        .zip(&c.cpf)
        .enumerate()
        .map(|(k, (n, &f))| {
            let kpf = if k + 1 == s.nests.len() { c.kpf } else { 1 };
            let how = if s.written {
                "as scheduled".to_string()
            } else if f >= n.channels {
                "II 1".to_string()
            } else if c.how == Sharing::Groups {
                format!("{} groups", n.channels / f)
            } else {
                format!("II {}", n.channels.div_ceil(f))
            };
            format!(
                "CPF {f}/{} x KPF {kpf} x window {} ({how})",
                n.channels, n.window
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a bound means, in words.
pub fn bound_name(b: &Bound, stages: &[Stage]) -> String {
    match b {
        Bound::Stage(k) => format!(
            "the smallest possible interval of stage {}",
            stages.get(*k).map_or("?", |s| s.name.as_str())
        ),
        Bound::Dsp => "the DSP budget".into(),
        Bound::Bram => "the BRAM budget".into(),
        Bound::Lut => "the LUT budget".into(),
        Bound::Bandwidth => "the DDR bandwidth (weights that stay off chip)".into(),
        Bound::Target => "the target rate (--target-fps), met with the least hardware".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nest(channels: u64) -> MacNest {
        MacNest {
            node: NodeId::new(0),
            path: vec![0],
            channel_var: LoopVarId(0),
            channels,
            window: 9,
            outputs: 1,
        }
    }

    #[test]
    fn channel_factors_are_powers_of_two_dividing_the_channels() {
        assert_eq!(nest(96).factors(), vec![96, 32, 16, 8, 4, 2, 1]);
        assert_eq!(nest(3).factors(), vec![3, 1]);
        assert_eq!(nest(64).factors(), vec![64, 32, 16, 8, 4, 2, 1]);
    }

    fn stage(name: &str, choices: &[(u64, f64)]) -> Stage {
        let inst = Instance::new(
            name.into(),
            name.into(),
            String::new(),
            crate::Span::default(),
        );
        Stage {
            id: InstanceId(0),
            name: name.into(),
            copies: 1,
            written: false,
            nests: Vec::new(),
            choices: choices
                .iter()
                .map(|&(cycles, dsp)| Choice {
                    cpf: Vec::new(),
                    how: Sharing::Interval,
                    realized: std::sync::Arc::new(inst.clone()),
                    cycles,
                    dsp,
                    lut: 0,
                    weight_bram: 0,
                    act_bram: 0,
                    weight_bits: 0,
                    width: 1,
                    kpf: 1,
                    lanes: 1,
                })
                .collect(),
            out_stream: None,
            in_streams: Vec::new(),
        }
    }

    const DEV: Device = Device {
        part: "test",
        board: "test",
        dsp: 100,
        bram18: 100,
        lut: 1000,
        ddr_gbps: 10.0,
    };

    #[test]
    fn fastest_interval_is_the_slowest_stage_at_its_largest_parallelism() {
        let stages = [
            stage("a", &[(100, 10.0), (200, 5.0), (400, 2.0)]),
            stage("b", &[(150, 4.0), (300, 2.0)]),
        ];
        let a = search(&stages, &DEV, 5.0, AllocOptions::default());
        assert_eq!(a.interval, 150);
        assert_eq!(a.bound, Bound::Stage(1));
        // Stage a takes its cheapest choice within 150 cycles.
        assert_eq!(a.picks, vec![0, 0]);
        assert!(a.fits);
    }

    #[test]
    fn a_producer_widens_its_stream_when_its_consumer_needs_it() {
        // a writes 1000 values to b, which reads them one a cycle within its 1200 cycles;
        // words of 4 (10 LUTs more for a) save b 750 of them.
        let mut a = stage("a", &[(500, 1.0)]);
        let mut wide = a.choices[0].clone();
        wide.width = 4;
        wide.lut = 10;
        a.choices.push(wide);
        a.out_stream = Some(OutStream {
            channel: TensorId(0),
            consumer: 1,
            values: 1000,
        });
        let mut b = stage("b", &[(1200, 2.0)]);
        b.in_streams.push((0, 1000));
        let stages = [a, b];
        let alloc = search(&stages, &DEV, 5.0, AllocOptions::default());
        // b at 1200 - 750 = 450 cycles with a's words of 4: a's 500 cycles set the pace.
        assert_eq!(alloc.picks, vec![1, 0]);
        assert_eq!(alloc.cycles, vec![500, 450]);
        assert_eq!(alloc.interval, 500);
        // Without the wide variant, b's 1200 cycles are the interval.
        let narrow = [stage("a", &[(500, 1.0)]), stage("b", &[(1200, 2.0)])];
        assert_eq!(
            search(&narrow, &DEV, 5.0, AllocOptions::default()).interval,
            1200
        );
    }

    #[test]
    fn a_small_budget_slows_the_network_and_names_the_dsps() {
        let stages = [
            stage("a", &[(100, 10.0), (200, 5.0), (400, 2.0)]),
            stage("b", &[(150, 4.0), (300, 2.0)]),
        ];
        let opts = AllocOptions {
            budget: 0.07,
            ..AllocOptions::default()
        };
        let a = search(&stages, &DEV, 5.0, opts);
        // 7 DSPs: a at 200 cycles (5) and b at 300 (2).
        assert_eq!(a.interval, 300);
        assert_eq!(a.picks, vec![1, 1]);
        assert_eq!(a.bound, Bound::Dsp);
        // A target rate takes the least hardware that meets it.
        let slow = AllocOptions {
            target_fps: Some(1e9 / (400.0 * 5.0)),
            ..AllocOptions::default()
        };
        let a = search(&stages, &DEV, 5.0, slow);
        assert_eq!(a.picks, vec![2, 1]);
        assert_eq!(a.bound, Bound::Target);
    }
}
