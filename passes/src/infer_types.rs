//! Pass `infer-types`: quantization-aware type inference by range analysis.
//!
//! Every exact value that has no declared type gets the narrowest `int`/`fixed` type that
//! holds every value it can take:
//! - an expression's fractional bits follow from its operands exactly as in ap_fixed
//!   (sum: the larger; product: the sum; division: the dividend's, plus the divisor's
//!   integer-scale bits), so no operation ever rounds;
//! - its range is computed by interval arithmetic from the operands' ranges: declared
//!   types, loop bounds, literal values, and the **actual values** of constant tensors
//!   (loaded parameters);
//! - an accumulator `acc = acc + e` (or `acc += e`) inside loops grows by the number of
//!   times it can run between two resets: `N * range(e)`, where N is the product of the
//!   trip counts of the loops between the statement and the innermost loop whose body
//!   resets `acc` before it. When `e` is a product with a constant tensor, the sum is taken
//!   over the tensor's real values (so ternary weights with many zeros give a narrower
//!   accumulator than the worst case);
//! - other self-updates (`m = max(m, x)`) are solved by iteration; one that keeps growing
//!   (`p = p * 2`) is an error asking for a declared type.
//!
//! Declared types are kept. Where a value assigned to a declared type with a wrapping
//! overflow mode can exceed it, a warning (W0801) names the range and a type that holds it.
//!
//! Before (after lowering, inferred locals untyped):
//! ```text
//! acc = 0
//! for c in 0..8: acc = (acc + (x[c] * w[c]))      x: fixed<8,4>, w: int<2>
//! ```
//! After: `acc: fixed<13, 9>` (8 products in [-15.875, 16] sum to [-127, 128]), the product
//! `fixed<10, 6>`, and the sum expression the accumulator's own type.

use crate::data::ConstData;
use crate::ir::*;
use crate::value::convert_exact;
use kiln_lang::diag::{codes, Diagnostic, Diagnostics};
use kiln_lang::Span;
use kiln_numeric::{narrowest_type, Fx, Int, Interval, Overflow, ScalarType, MAX_WIDTH};
use std::collections::HashMap;

/// How many rounds of the fixpoint before giving up on a growing self-update.
const MAX_ROUNDS: usize = 24;
/// Largest iteration space enumerated to sum constant weights exactly.
const MAX_ENUMERATION: u64 = 1 << 22;

/// What inference knows about a value.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Bool,
    F32,
    Exact {
        range: Interval,
        frac: i32,
        /// Whether constant data (a loaded parameter) narrowed the range.
        from_data: bool,
    },
}

impl Val {
    fn exact(range: Interval, frac: i32, from_data: bool) -> Val {
        Val::Exact {
            range,
            frac,
            from_data,
        }
    }
}

/// Infers the types of one compute node of `inst` (see the module doc).
pub fn infer_compute(
    inst: &mut Instance,
    node: NodeId,
    consts: &[ConstData],
    diags: &mut Diagnostics,
) {
    let Node::Compute(c) = &inst.graph[node] else {
        return;
    };
    let body = c.body.clone();
    let mut st = State {
        inst,
        consts,
        local_range: HashMap::new(),
        final_range: HashMap::new(),
        local_frac: HashMap::new(),
        local_class: HashMap::new(),
        local_from_data: HashMap::new(),
        loop_ranges: HashMap::new(),
        record: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        base: HashMap::new(),
        growth: HashMap::new(),
        terms: HashMap::new(),
        stores: HashMap::new(),
        store_growth: HashMap::new(),
        own_stores: HashMap::new(),
        own_store_changes: HashMap::new(),
        local_changes: HashMap::new(),
        first_assign_span: HashMap::new(),
        first_accum_span: HashMap::new(),
        explicit_assign: HashMap::new(),
    };
    let mut converged = false;
    for _ in 0..MAX_ROUNDS {
        st.begin_round();
        st.block(&body, &mut Vec::new());
        if !st.errors.is_empty() {
            break;
        }
        if st.end_round() {
            converged = true;
            break;
        }
    }
    if !converged && st.errors.is_empty() {
        let grown: Vec<LocalId> = st.growing_locals();
        for l in grown {
            let local = st.inst.local(l).clone();
            st.errors.push(
                Diagnostic::error(codes::CANNOT_INFER, format!("cannot infer a type for `{}`: its range grows without bound", local.name))
                    .at(local.span)
                    .note("each pass through the loop can make the value larger (e.g. a repeated multiplication), so no width holds it")
                    .help(format!("declare its type: `{}: fixed<W, I> = ...`", local.name)),
            );
        }
    }
    if st.errors.is_empty() {
        st.record = true;
        st.begin_round();
        st.block(&body, &mut Vec::new());
        st.finish();
    }
    let State {
        errors, warnings, ..
    } = st;
    for d in errors {
        diags.push(d);
    }
    for d in warnings {
        diags.push(d);
    }
}

/// One enclosing loop during the walk: the loop and the index (in its body) of the
/// statement being visited.
struct LoopFrame<'b> {
    lp: &'b Loop,
    child: usize,
}

struct State<'i> {
    inst: &'i mut Instance,
    consts: &'i [ConstData],
    /// Ranges of inferred exact locals as known so far in this round (reads see these).
    local_range: HashMap<LocalId, Interval>,
    /// Ranges of inferred exact locals at the end of the last round.
    final_range: HashMap<LocalId, Interval>,
    local_frac: HashMap<LocalId, i32>,
    local_class: HashMap<LocalId, Val>,
    local_from_data: HashMap<LocalId, bool>,
    loop_ranges: HashMap<LoopVarId, Interval>,
    /// Final round: write types and ranges into the instance's side tables.
    record: bool,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    // Per round:
    base: HashMap<LocalId, Interval>,
    growth: HashMap<LocalId, Interval>,
    terms: HashMap<LocalId, u64>,
    stores: HashMap<TensorId, (Val, bool)>,
    /// Per round: how far accumulating stores (`hist[x[i]] = hist[x[i]] + 1`) can move
    /// the elements of each tensor from the values stored otherwise.
    store_growth: HashMap<TensorId, Interval>,
    /// Ranges of what this node stored into exact tensors, over all rounds so far: loads
    /// of a tensor the node also writes see them (`y[i] = y[i - 1] + 1`).
    own_stores: HashMap<TensorId, (Interval, i32)>,
    own_store_changes: HashMap<TensorId, u32>,
    /// How many rounds changed the range of each declared local (see `end_round`).
    local_changes: HashMap<LocalId, u32>,
    first_assign_span: HashMap<LocalId, Span>,
    first_accum_span: HashMap<LocalId, Span>,
    /// Locals whose assignments all come from explicit casts (no overflow warning).
    explicit_assign: HashMap<LocalId, bool>,
}

impl State<'_> {
    fn begin_round(&mut self) {
        self.local_range = self.final_range.clone();
        self.base.clear();
        self.growth.clear();
        self.terms.clear();
        self.stores.clear();
        self.store_growth.clear();
    }

    /// Combines the round's contributions; returns whether nothing changed.
    fn end_round(&mut self) -> bool {
        let mut stable = true;
        // Accumulating stores: every value of the tensor is a value it had before the
        // accumulations (what earlier nodes and this node's other stores put there) plus
        // at most as many terms as the stores run. Beyond the declared type, the
        // conversion wraps or saturates: then any value of the type.
        let growth: Vec<(TensorId, Interval)> = self
            .store_growth
            .iter()
            .map(|(t, g)| (*t, g.clone()))
            .collect();
        for (t, g) in growth {
            let tm = self.inst.tensor(t);
            let Some((tlo, thi)) = tm.elem.value_bounds() else {
                continue;
            };
            // Stored values are converted to the declared type: they have its LSB.
            let frac = tm.elem.frac_bits().unwrap_or(0);
            let mut base = tm.range.clone();
            if let Some((Val::Exact { range, .. }, _)) = self.stores.get(&t) {
                base = Some(base.map_or(range.clone(), |b| b.join(range)));
            }
            let base = base.unwrap_or_else(|| Interval::new(tlo.clone(), thi.clone()));
            let mut r = base.add(&g);
            if r.lo < tlo || r.hi > thi {
                // The conversion wraps (or saturates): any value of the type.
                r = Interval::new(tlo, thi);
            }
            let new = match self.own_stores.get(&t) {
                Some((old, f)) => (old.join(&r), (*f).max(frac)),
                None => (r, frac),
            };
            if self.own_stores.get(&t) != Some(&new) {
                stable = false;
                self.own_stores.insert(t, new);
            }
        }
        for (t, (v, _)) in &self.stores {
            if let Val::Exact { range, frac, .. } = v {
                let mut new = match self.own_stores.get(t) {
                    Some((r, f)) => (r.join(range), (*f).max(*frac)),
                    None => (range.clone(), *frac),
                };
                if self.own_stores.get(t) != Some(&new) {
                    stable = false;
                    // A range still growing after a few rounds (`y[i] = y[i] + 1` in a
                    // loop) widens to the whole declared type, which holds every stored
                    // (converted) value.
                    let changes = self.own_store_changes.entry(*t).or_insert(0);
                    *changes += 1;
                    let tm = self.inst.tensor(*t);
                    if *changes > 2 && tm.declared {
                        if let Some((lo, hi)) = tm.elem.value_bounds() {
                            new.0 = Interval::new(lo, hi);
                        }
                    }
                    self.own_stores.insert(*t, new);
                }
            }
        }
        let mut locals: Vec<LocalId> = self
            .base
            .keys()
            .chain(self.growth.keys())
            .copied()
            .collect();
        locals.sort();
        locals.dedup();
        for l in locals {
            let local = self.inst.local(l).clone();
            if local.declared {
                // A declared local holds the conversions of its values.
                if local.ty.is_exact_numeric() {
                    let base = self
                        .base
                        .get(&l)
                        .cloned()
                        .unwrap_or_else(|| Interval::point(Fx::zero()));
                    let total = match self.growth.get(&l) {
                        Some(g) => base.add(g),
                        None => base,
                    };
                    let frac = local.ty.frac_bits().unwrap_or(0);
                    if let Val::Exact { mut range, .. } =
                        self.converted(&Val::exact(total, frac, false), &local.ty)
                    {
                        // Still changing after a few rounds (`s = s * t`, or `+=` and
                        // `&=` on different paths): from then on the range is the whole
                        // declared type, which holds every value assigned to it.
                        let bounds = local.ty.value_bounds();
                        let widened = |r: &mut Interval| {
                            if let Some((lo, hi)) = bounds.clone() {
                                *r = Interval::new(lo, hi);
                            }
                        };
                        if self.local_changes.get(&l).is_some_and(|&c| c > 2) {
                            widened(&mut range);
                        }
                        if self.final_range.get(&l) != Some(&range) {
                            stable = false;
                            let changes = self.local_changes.entry(l).or_insert(0);
                            *changes += 1;
                            if *changes > 2 {
                                widened(&mut range);
                            }
                            self.final_range.insert(l, range);
                        }
                    }
                }
                continue;
            }
            let base = self
                .base
                .get(&l)
                .cloned()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            let new = match self.growth.get(&l) {
                Some(g) => base.add(g),
                None => base,
            };
            if self.final_range.get(&l) != Some(&new) {
                stable = false;
                self.final_range.insert(l, new);
            }
        }
        stable
    }

    fn growing_locals(&self) -> Vec<LocalId> {
        let mut v: Vec<LocalId> = self
            .final_range
            .keys()
            .copied()
            .filter(|l| !self.inst.local(*l).declared)
            .collect();
        v.sort();
        v.truncate(1);
        v
    }

    fn err(&mut self, d: Diagnostic) {
        if !self.errors.contains(&d) {
            self.errors.push(d);
        }
    }

    // ------------------------------------------------------------ statements

    fn block<'b>(&mut self, b: &'b Block, loops: &mut Vec<LoopFrame<'b>>) {
        for (i, s) in b.iter().enumerate() {
            if let Some(top) = loops.last_mut() {
                if std::ptr::eq(&top.lp.body, b) {
                    top.child = i;
                }
            }
            self.stmt(s, loops);
        }
    }

    fn stmt<'b>(&mut self, s: &'b Stmt, loops: &mut Vec<LoopFrame<'b>>) {
        match s {
            Stmt::For(l) => {
                let lo = self.affine_range(&l.lo);
                let hi = self.affine_range(&l.hi);
                let range = if l.step > 0 {
                    Interval::new(lo.lo.clone(), hi.hi.sub(&Fx::int(1)).max(lo.lo.clone()))
                } else {
                    Interval::new(hi.lo.add(&Fx::int(1)).min(lo.hi.clone()), lo.hi.clone())
                };
                self.loop_ranges.insert(l.var, range);
                loops.push(LoopFrame { lp: l, child: 0 });
                self.block(&l.body, loops);
                loops.pop();
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                let c = self.expr(*cond);
                if !matches!(c, Some(Val::Bool) | None) {
                    self.err(
                        Diagnostic::error(codes::NOT_BOOL, "a condition must be a bool")
                            .at(self.inst.expr_spans[cond.index()]),
                    );
                }
                self.block(then_block, loops);
                self.block(else_block, loops);
            }
            Stmt::Fail { .. } => {}
            Stmt::Assign { local, value, span } => self.assign(*local, *value, *span, loops),
            Stmt::Store {
                access,
                value,
                span,
            } => {
                self.access(access, *span);
                let t = self.inst.tensor(access.tensor).clone();
                let accumulates = t.declared
                    && match tensor_accumulation_parts(self.inst, *value, access.tensor) {
                        Some(parts) => self.store_accumulation(access.tensor, &parts, loops),
                        None => false,
                    };
                let v = self.expr(*value);
                let Some(v) = v else { return };
                let explicit = matches!(self.inst.expr(*value), Expr::Cast { .. });
                let stored = if t.declared {
                    self.check_overflow(&v, &t.elem, *span, &t.name, explicit);
                    self.converted(&v, &t.elem)
                } else {
                    v
                };
                if accumulates {
                    // Its values are the tensor's own plus terms: see `end_round`.
                    return;
                }
                let entry = self
                    .stores
                    .entry(access.tensor)
                    .or_insert((stored.clone(), false));
                entry.0 = join_val(&entry.0, &stored);
                let _ = &mut entry.1;
            }
        }
    }

    /// Records how far an accumulating store `t[..] = t[..] + e1 - e2 ...` can move the
    /// elements of `t`: each term's range (with 0) times the number of times the store
    /// can run in this node (see `end_round`).
    fn store_accumulation(
        &mut self,
        t: TensorId,
        parts: &[(ExprId, i32)],
        loops: &[LoopFrame],
    ) -> bool {
        let runs = loops
            .iter()
            .fold(1u64, |acc, f| acc.saturating_mul(self.trip_count(f.lp)));
        let mut sum = Interval::point(Fx::zero());
        let mut frac = i32::MIN;
        for (e, sign) in parts {
            let Some(Val::Exact { range, frac: f, .. }) = self.expr(*e) else {
                return false;
            };
            frac = frac.max(f);
            let step = Interval::new(range.lo.min(Fx::zero()), range.hi.max(Fx::zero()));
            let total = step.scale(runs);
            sum = sum.add(&if *sign < 0 { total.neg() } else { total });
        }
        // A type coarser than the terms rounds at every store: up to one LSB each time.
        if let Some(tf) = self.inst.tensor(t).elem.frac_bits() {
            if frac > tf {
                let lsb = Fx::new(Int::ONE, tf);
                sum = sum.add(&Interval::new(lsb.neg(), lsb).scale(runs));
            }
        }
        let entry = self
            .store_growth
            .entry(t)
            .or_insert_with(|| Interval::point(Fx::zero()));
        *entry = entry.add(&sum);
        true
    }

    fn assign<'b>(&mut self, l: LocalId, value: ExprId, span: Span, loops: &[LoopFrame<'b>]) {
        let local = self.inst.local(l).clone();
        let explicit = matches!(self.inst.expr(value), Expr::Cast { .. });
        self.first_assign_span.entry(l).or_insert(span);
        let e = self.explicit_assign.entry(l).or_insert(true);
        *e &= explicit;
        // Accumulation: l = l + e1 - e2 ...
        if let Some(parts) = accumulation_parts(self.inst, value, l) {
            self.first_accum_span.entry(l).or_insert(span);
            let mut sum: Option<Interval> = None;
            let mut frac = self.local_frac.get(&l).copied().unwrap_or(0);
            let mut from_data = false;
            let trips = self.trips_since_reset(l, loops);
            for (e, sign) in &parts {
                let Some(v) = self.expr(*e) else { return };
                let Val::Exact {
                    range,
                    frac: f,
                    from_data: fd,
                } = v
                else {
                    // f32 or bool accumulation: no range to grow.
                    self.value_of_assign(l, value, span);
                    return;
                };
                frac = frac.max(f);
                from_data |= fd;
                let refined = self.data_weighted_sum(*e, loops, trips.1.clone());
                let total = match refined {
                    Some(r) => {
                        from_data = true;
                        r
                    }
                    None => {
                        let step = Interval::new(
                            range.lo.clone().min(Fx::zero()),
                            range.hi.clone().max(Fx::zero()),
                        );
                        step.scale(trips.0)
                    }
                };
                let total = if *sign < 0 { total.neg() } else { total };
                sum = Some(match sum {
                    None => total,
                    Some(s) => s.add(&total),
                });
            }
            // A declared accumulator coarser than its terms rounds at every step: each
            // step can move it by up to one LSB (in the direction of the rounding mode).
            if let (true, Some(tf)) = (local.declared, local.ty.frac_bits()) {
                if frac > tf {
                    let lsb = Fx::new(Int::ONE, tf);
                    let drift = Interval::new(lsb.neg(), lsb).scale(trips.0);
                    sum = Some(match sum {
                        None => drift,
                        Some(s) => s.add(&drift),
                    });
                }
            }
            // The value expression itself (and its operands) still need types.
            let _ = self.expr(value);
            let g = sum.unwrap_or_else(|| Interval::point(Fx::zero()));
            let entry = self
                .growth
                .entry(l)
                .or_insert_with(|| Interval::point(Fx::zero()));
            *entry = entry.add(&g);
            let t = self.terms.entry(l).or_insert(0);
            *t = t.saturating_add(trips.0);
            if !local.declared {
                let lf = self.local_frac.entry(l).or_insert(frac);
                *lf = (*lf).max(frac);
                self.local_class
                    .insert(l, Val::exact(Interval::point(Fx::zero()), frac, false));
                let fd = self.local_from_data.entry(l).or_insert(false);
                *fd |= from_data;
            }
            if self.record {
                // The sum takes the accumulator's own range: every value it produces is a
                // value of the accumulator.
                if !local.declared {
                    if let Some(r) = self.local_range.get(&l).cloned() {
                        let f = self.local_frac.get(&l).copied().unwrap_or(0);
                        self.set_expr(value, &Val::exact(r, f, from_data));
                    }
                }
            }
            return;
        }
        self.value_of_assign(l, value, span);
    }

    /// A plain (non-accumulating) assignment: the value joins the local's base range.
    fn value_of_assign(&mut self, l: LocalId, value: ExprId, span: Span) {
        let local = self.inst.local(l).clone();
        let Some(v) = self.expr(value) else { return };
        if local.declared {
            let explicit = matches!(self.inst.expr(value), Expr::Cast { .. });
            if let Val::Exact { range, .. } = &v {
                let e = self.base.entry(l).or_insert_with(|| range.clone());
                *e = e.join(range);
            }
            self.check_overflow(&v, &local.ty, span, &local.name, explicit);
            return;
        }
        match &v {
            Val::Exact {
                range,
                frac,
                from_data,
            } => {
                if matches!(self.local_class.get(&l), Some(Val::F32 | Val::Bool)) {
                    self.err(
                        Diagnostic::error(
                            codes::MIXED_FLOAT,
                            format!("`{}` gets both exact and other values", local.name),
                        )
                        .at(span),
                    );
                    return;
                }
                self.local_class
                    .insert(l, Val::exact(range.clone(), *frac, false));
                let e = self.base.entry(l).or_insert_with(|| range.clone());
                *e = e.join(range);
                let lf = self.local_frac.entry(l).or_insert(*frac);
                *lf = (*lf).max(*frac);
                let fd = self.local_from_data.entry(l).or_insert(false);
                *fd |= *from_data;
                // Later reads in this round see at least this value.
                let cur = self.local_range.entry(l).or_insert_with(|| range.clone());
                *cur = cur.join(range);
            }
            other => {
                if let Some(prev) = self.local_class.get(&l) {
                    if std::mem::discriminant(prev) != std::mem::discriminant(other) {
                        self.err(
                            Diagnostic::error(
                                codes::MIXED_FLOAT,
                                format!("`{}` gets values of different kinds", local.name),
                            )
                            .at(span),
                        );
                        return;
                    }
                }
                self.local_class.insert(l, other.clone());
            }
        }
    }

    /// (N, reduction loops): how many times an accumulation can run between two resets of
    /// `l`, and the loops that make up that count.
    fn trips_since_reset<'b>(&self, l: LocalId, loops: &[LoopFrame<'b>]) -> (u64, Vec<&'b Loop>) {
        let mut start = 0;
        for (k, f) in loops.iter().enumerate().rev() {
            let resets = f.lp.body[..f.child].iter().any(|s| match s {
                Stmt::Assign { local, value, .. } => {
                    *local == l && accumulation_parts(self.inst, *value, l).is_none()
                }
                _ => false,
            });
            if resets {
                start = k + 1;
                break;
            }
        }
        let inner: Vec<&Loop> = loops[start..].iter().map(|f| f.lp).collect();
        let n = inner
            .iter()
            .fold(1u64, |acc, lp| acc.saturating_mul(self.trip_count(lp)));
        (n, inner)
    }

    fn trip_count(&self, l: &Loop) -> u64 {
        let lo = self.affine_range(&l.lo);
        let hi = self.affine_range(&l.hi);
        let span = if l.step > 0 {
            hi.hi.sub(&lo.lo)
        } else {
            lo.hi.sub(&hi.lo)
        };
        let span = span.to_i64().unwrap_or(0);
        if span <= 0 {
            return 0;
        }
        let step = l.step.unsigned_abs() as i64;
        ((span + step - 1) / step) as u64
    }

    /// For `e = a * b` with `a` (or `b`) a load from a constant tensor, the exact range of
    /// the sum of `e` over the loops `inner`, maximized over the other loops: the weights'
    /// real values instead of their type's range.
    fn data_weighted_sum(
        &mut self,
        e: ExprId,
        loops: &[LoopFrame],
        inner: Vec<&Loop>,
    ) -> Option<Interval> {
        let Expr::Binary(BinOp::Mul, a, b) = self.inst.expr(e).clone() else {
            return None;
        };
        let (load, other) = match (self.inst.expr(a), self.inst.expr(b)) {
            (Expr::Load(acc), _) if self.const_of(acc.tensor).is_some() => (acc.clone(), b),
            (_, Expr::Load(acc)) if self.const_of(acc.tensor).is_some() => (acc.clone(), a),
            _ => return None,
        };
        if !load.is_affine() {
            return None;
        }
        let Some(Val::Exact { range: orange, .. }) = self.expr(other) else {
            return None;
        };
        let c = self.const_of(load.tensor)?;
        let data = &self.consts[c.index()];
        // Loop variables of the weight index: those of `inner` are summed; the others
        // (outer loops) are maximized over.
        let inner_vars: Vec<LoopVarId> = inner.iter().map(|l| l.var).collect();
        let mut outer_vars: Vec<LoopVarId> = Vec::new();
        for a in &load.index {
            for &(v, _) in &a.terms {
                if !inner_vars.contains(&v) && !outer_vars.contains(&v) {
                    outer_vars.push(v);
                }
            }
        }
        let outer_loops: Vec<&Loop> = loops
            .iter()
            .map(|f| f.lp)
            .filter(|l| outer_vars.contains(&l.var))
            .collect();
        if outer_loops.len() != outer_vars.len() {
            return None;
        }
        // Constant, rectangular bounds only.
        let bounds = |l: &Loop| -> Option<(i64, i64, i64)> {
            Some((l.lo.as_constant()?, l.hi.as_constant()?, l.step))
        };
        let ob: Vec<(i64, i64, i64)> = outer_loops
            .iter()
            .map(|l| bounds(l))
            .collect::<Option<_>>()?;
        let ib: Vec<(i64, i64, i64)> = inner.iter().map(|l| bounds(l)).collect::<Option<_>>()?;
        let count = |b: &[(i64, i64, i64)]| {
            b.iter().fold(1u64, |acc, &(lo, hi, s)| {
                acc.saturating_mul(range_len(lo, hi, s))
            })
        };
        if count(&ob).saturating_mul(count(&ib)) > MAX_ENUMERATION {
            return None;
        }
        // Integer arithmetic: weights and the other operand's bounds as i128 mantissas,
        // the flat index as an affine form over the enumerated variables.
        let strides = crate::data::strides(&data.shape);
        let vars: Vec<LoopVarId> = outer_loops
            .iter()
            .chain(inner.iter())
            .map(|l| l.var)
            .collect();
        let all_bounds: Vec<(i64, i64, i64)> = ob.iter().chain(ib.iter()).copied().collect();
        // Every index stays in its dimension over the whole box (else no estimate).
        for (d, a) in load.index.iter().enumerate() {
            let (mut lo, mut hi) = (a.constant, a.constant);
            for &(v, c) in &a.terms {
                let k = vars.iter().position(|x| *x == v)?;
                let (l, h, s) = all_bounds[k];
                let n = range_len(l, h, s) as i64;
                if n == 0 {
                    return None;
                }
                let (first, last) = (l, l + s * (n - 1));
                let (x, y) = (c * first, c * last);
                lo += x.min(y);
                hi += x.max(y);
            }
            if lo < 0 || hi >= data.shape[d] as i64 {
                return None;
            }
        }
        let flat_coef: Vec<i64> = vars
            .iter()
            .map(|v| {
                load.index
                    .iter()
                    .zip(&strides)
                    .map(|(a, s)| a.coeff(*v) * *s as i64)
                    .sum()
            })
            .collect();
        let flat_const: i64 = load
            .index
            .iter()
            .zip(&strides)
            .map(|(a, s)| a.constant * *s as i64)
            .sum();
        let wfrac = data
            .values
            .iter()
            .filter_map(|v| v.as_exact())
            .map(|x| x.frac)
            .max()
            .unwrap_or(0);
        let weights: Vec<i128> = data
            .values
            .iter()
            .map(|v| v.as_exact().and_then(|x| x.mant_at(wfrac).to_i128()))
            .collect::<Option<_>>()?;
        let ofrac = orange.lo.frac.max(orange.hi.frac);
        let (olo, ohi) = (
            orange.lo.mant_at(ofrac).to_i128()?,
            orange.hi.mant_at(ofrac).to_i128()?,
        );
        let n_outer = outer_loops.len();
        let mut lo_best: Option<i128> = None;
        let mut hi_best: Option<i128> = None;
        let mut ok = true;
        for_each_point(&ob, &mut |opt| {
            let base = flat_const + opt.iter().zip(&flat_coef).map(|(v, c)| v * c).sum::<i64>();
            let (mut slo, mut shi) = (0i128, 0i128);
            for_each_point(&ib, &mut |ipt| {
                let flat = base
                    + ipt
                        .iter()
                        .zip(&flat_coef[n_outer..])
                        .map(|(v, c)| v * c)
                        .sum::<i64>();
                let w = weights[flat as usize];
                let (Some(p1), Some(p2)) = (w.checked_mul(olo), w.checked_mul(ohi)) else {
                    ok = false;
                    return;
                };
                // Partial sums pass through every prefix, so only the parts of each term
                // that move away from zero accumulate into the bounds.
                match (
                    slo.checked_add(p1.min(p2).min(0)),
                    shi.checked_add(p1.max(p2).max(0)),
                ) {
                    (Some(a), Some(b)) => (slo, shi) = (a, b),
                    _ => ok = false,
                }
            });
            lo_best = Some(lo_best.map_or(slo, |b| b.min(slo)));
            hi_best = Some(hi_best.map_or(shi, |b| b.max(shi)));
        });
        if !ok {
            return None;
        }
        let f = wfrac + ofrac;
        Some(Interval::new(
            Fx::new(Int::from(lo_best?), f),
            Fx::new(Int::from(hi_best?), f),
        ))
    }

    fn const_of(&self, t: TensorId) -> Option<ConstId> {
        match self.inst.tensor(t).kind {
            TensorKind::Const(c) => Some(c),
            _ => None,
        }
    }

    // ------------------------------------------------------------ expressions

    fn affine_range(&self, a: &Affine) -> Interval {
        let mut r = Interval::point(Fx::int(a.constant as i128));
        for &(v, c) in &a.terms {
            let vr = self
                .loop_ranges
                .get(&v)
                .cloned()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            r = r.add(&vr.mul(&Interval::point(Fx::int(c as i128))));
        }
        r
    }

    /// Types the data-dependent parts of an access's indices, which must be integers of
    /// at most 64 bits (a generic kernel's index is known only here).
    fn access(&mut self, a: &Access, span: Span) {
        let _ = span;
        for d in a.dynamic_exprs() {
            let ty = match self.expr(d) {
                Some(Val::Exact { range, frac, .. }) => narrowest_type(&range, frac),
                Some(Val::F32) => ScalarType::F32,
                Some(Val::Bool) => ScalarType::Bool,
                None => continue,
            };
            if !is_index_type(&ty) && self.record {
                let name = self.inst.tensor(a.tensor).name.clone();
                self.err(
                    Diagnostic::error(
                        codes::NOT_AFFINE,
                        format!(
                            "an index into `{name}` must be an integer within the range of int<64>"
                        ),
                    )
                    .at(self.span(d))
                    .label(format!("this index has type {ty}"))
                    .help("convert it to an integer type, e.g. `int<32>(k)`"),
                );
            }
        }
    }

    fn set_expr(&mut self, e: ExprId, v: &Val) {
        let (ty, range) = match v {
            Val::Bool => (ScalarType::Bool, None),
            Val::F32 => (ScalarType::F32, None),
            Val::Exact { range, frac, .. } => (narrowest_type(range, *frac), Some(range.clone())),
        };
        self.inst.expr_types[e.index()] = Some(ty);
        self.inst.expr_ranges[e.index()] = range;
    }

    fn span(&self, e: ExprId) -> Span {
        self.inst.expr_spans[e.index()]
    }

    fn type_val(&self, t: &ScalarType, range: Option<&Interval>, from_data: bool) -> Val {
        match t {
            ScalarType::Bool => Val::Bool,
            ScalarType::F32 => Val::F32,
            _ => {
                let (lo, hi) = t.value_bounds().expect("exact type");
                let r = range.cloned().unwrap_or_else(|| Interval::new(lo, hi));
                Val::exact(r, t.frac_bits().unwrap_or(0), from_data)
            }
        }
    }

    /// The value of an expression; records its type in the final round.
    fn expr(&mut self, e: ExprId) -> Option<Val> {
        let v = self.expr_inner(e)?;
        if let Val::Exact { range, frac, .. } = &v {
            let t = narrowest_type(range, *frac);
            if t.storage_bits() > MAX_WIDTH {
                self.err(
                    Diagnostic::error(
                        codes::TOO_WIDE,
                        format!(
                            "this value needs {} bits; the limit is {MAX_WIDTH}",
                            t.storage_bits()
                        ),
                    )
                    .at(self.span(e))
                    .label(format!("values in {}", range.short()))
                    .help("convert an operand to a narrower declared type first"),
                );
                return None;
            }
        }
        if self.record && self.inst.expr_types[e.index()].is_none() {
            self.set_expr(e, &v);
        }
        Some(v)
    }

    fn expr_inner(&mut self, e: ExprId) -> Option<Val> {
        let span = self.span(e);
        match self.inst.expr(e).clone() {
            Expr::Const(Value::Bool(_)) => Some(Val::Bool),
            Expr::Const(Value::F32(_)) => Some(Val::F32),
            Expr::Const(Value::Num(x)) => {
                let frac = if x.is_zero() { 0 } else { x.min_frac().max(0) };
                Some(Val::exact(Interval::point(x), frac, false))
            }
            Expr::LoopVar(v) => {
                let r = self
                    .loop_ranges
                    .get(&v)
                    .cloned()
                    .unwrap_or_else(|| Interval::point(Fx::zero()));
                Some(Val::exact(r, 0, false))
            }
            Expr::Local(l) => {
                let local = self.inst.local(l).clone();
                if local.declared {
                    let range = self.local_range.get(&l).cloned();
                    return Some(self.type_val(&local.ty, range.as_ref(), false));
                }
                match self.local_class.get(&l) {
                    Some(Val::Bool) => Some(Val::Bool),
                    Some(Val::F32) => Some(Val::F32),
                    _ => {
                        let r = self
                            .local_range
                            .get(&l)
                            .cloned()
                            .unwrap_or_else(|| Interval::point(Fx::zero()));
                        let f = self.local_frac.get(&l).copied().unwrap_or(0);
                        let fd = self.local_from_data.get(&l).copied().unwrap_or(false);
                        Some(Val::exact(r, f, fd))
                    }
                }
            }
            Expr::Load(a) => {
                self.access(&a, span);
                let t = self.inst.tensor(a.tensor).clone();
                let from_data = matches!(t.kind, TensorKind::Const(_));
                if !t.declared && t.reason == TypeReason::Pending {
                    self.err(
                        Diagnostic::error(
                            codes::CANNOT_INFER,
                            format!("`{}` is read before its type is known", t.name),
                        )
                        .at(span),
                    );
                    return None;
                }
                // What earlier nodes stored, and what this node stores itself.
                let range = match (&t.range, self.own_stores.get(&a.tensor)) {
                    (Some(r), Some((own, _))) => Some(r.join(own)),
                    (None, Some((own, _))) if t.declared => {
                        let (lo, hi) = t.elem.value_bounds().expect("exact");
                        Some(Interval::new(lo, hi))
                    }
                    (r, _) => r.clone(),
                };
                match (
                    self.type_val(&t.elem, range.as_ref(), from_data),
                    self.own_stores.get(&a.tensor),
                ) {
                    // An inferred tensor this node also writes: its values so far.
                    (
                        Val::Exact {
                            range,
                            frac,
                            from_data,
                        },
                        Some((own, own_frac)),
                    ) if !t.declared => {
                        Some(Val::exact(range.join(own), frac.max(*own_frac), from_data))
                    }
                    (v, _) => Some(v),
                }
            }
            Expr::Unary(op, a) => {
                let v = self.expr(a)?;
                match (op, v) {
                    (UnOp::Not, Val::Bool) => Some(Val::Bool),
                    (UnOp::Neg | UnOp::Abs, Val::F32) => Some(Val::F32),
                    (
                        UnOp::Neg,
                        Val::Exact {
                            range,
                            frac,
                            from_data,
                        },
                    ) => Some(Val::exact(range.neg(), frac, from_data)),
                    (
                        UnOp::Abs,
                        Val::Exact {
                            range,
                            frac,
                            from_data,
                        },
                    ) => Some(Val::exact(range.abs(), frac, from_data)),
                    (
                        UnOp::BitNot,
                        Val::Exact {
                            range,
                            frac,
                            from_data,
                        },
                    ) if frac <= 0 => Some(Val::exact(range.bitnot(), 0, from_data)),
                    _ => {
                        self.err(
                            Diagnostic::error(
                                codes::TYPE_MISMATCH,
                                format!("{op:?} does not apply to this value"),
                            )
                            .at(span),
                        );
                        None
                    }
                }
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b, span),
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond)?;
                if c != Val::Bool {
                    self.err(
                        Diagnostic::error(codes::NOT_BOOL, "the condition must be a bool").at(span),
                    );
                    return None;
                }
                let (t, o) = (self.expr(then)?, self.expr(otherwise)?);
                match (&t, &o) {
                    (Val::Bool, Val::Bool)
                    | (Val::F32, Val::F32)
                    | (Val::Exact { .. }, Val::Exact { .. }) => Some(join_val(&t, &o)),
                    _ => {
                        self.err(
                            Diagnostic::error(
                                codes::MIXED_FLOAT,
                                "the branches have different kinds of values",
                            )
                            .at(span),
                        );
                        None
                    }
                }
            }
            Expr::Cast { to, arg } => {
                let v = self.expr(arg)?;
                if to == ScalarType::F32 {
                    if let Val::Exact { range, frac, .. } = &v {
                        let big = Fx::new(Int::pow2(127), 0);
                        if range.hi >= big || range.lo <= big.neg() || *frac > 126 {
                            self.err(
                                Diagnostic::error(codes::BAD_CAST, format!("values in {} (with {frac} fractional bits) leave f32's normal range", range.short()))
                                    .at(span)
                                    .help("convert to a narrower fixed-point type first"),
                            );
                            return None;
                        }
                    }
                }
                Some(self.converted(&v, &to))
            }
            Expr::Math { f, arg } => match self.expr(arg)? {
                Val::F32 => Some(Val::F32),
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` takes an f32 value", f.name()),
                        )
                        .at(span)
                        .help(format!("convert first: `{}(f32(x))`", f.name())),
                    );
                    None
                }
            },
        }
    }

    fn binary(&mut self, op: BinOp, a: ExprId, b: ExprId, span: Span) -> Option<Val> {
        let va = self.expr(a)?;
        let vb = self.expr(b)?;
        if matches!(op, BinOp::And | BinOp::Or) {
            if va != Val::Bool || vb != Val::Bool {
                self.err(Diagnostic::error(codes::NOT_BOOL, "`and` / `or` need bools").at(span));
                return None;
            }
            return Some(Val::Bool);
        }
        if op.is_comparison() {
            return match (&va, &vb) {
                (Val::Bool, Val::Bool)
                | (Val::F32, Val::F32)
                | (Val::Exact { .. }, Val::Exact { .. }) => Some(Val::Bool),
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::MIXED_FLOAT,
                            "comparison of values of different kinds",
                        )
                        .at(span),
                    );
                    None
                }
            };
        }
        match (va, vb) {
            (Val::F32, Val::F32) => match op {
                BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Min | BinOp::Max => {
                    Some(Val::F32)
                }
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` is not defined on f32", op.symbol()),
                        )
                        .at(span),
                    );
                    None
                }
            },
            (
                Val::Exact {
                    range: ra,
                    frac: fa,
                    from_data: da,
                },
                Val::Exact {
                    range: rb,
                    frac: fb,
                    from_data: db,
                },
            ) => {
                let d = da || db;
                let r = match op {
                    BinOp::Add => Val::exact(ra.add(&rb), fa.max(fb), d),
                    BinOp::Sub => Val::exact(ra.sub(&rb), fa.max(fb), d),
                    BinOp::Mul => Val::exact(ra.mul(&rb), fa + fb, d),
                    BinOp::Min => Val::exact(ra.min(&rb), fa.max(fb), d),
                    BinOp::Max => Val::exact(ra.max(&rb), fa.max(fb), d),
                    BinOp::Div => {
                        let rf = fa + (-fb).max(0);
                        let lsb = Fx::new(Int::ONE, fb);
                        if rb.lo.is_zero() && rb.hi.is_zero() {
                            self.err(
                                Diagnostic::error(
                                    codes::DIV_BY_ZERO,
                                    "division by a value that is always zero",
                                )
                                .at(span),
                            );
                            return None;
                        }
                        let Some(q) = ra.div_trunc(&rb, &lsb, rf) else {
                            self.err(
                                Diagnostic::error(codes::DIV_BY_ZERO, "division by zero").at(span),
                            );
                            return None;
                        };
                        Val::exact(q, rf, d)
                    }
                    BinOp::FloorDiv | BinOp::Mod => {
                        if fa > 0 || fb > 0 {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_DIVISION,
                                    format!("`{}` is defined on integers only", op.symbol()),
                                )
                                .at(span)
                                .help("fixed-point values divide with `/`"),
                            );
                            return None;
                        }
                        if rb.lo.is_zero() && rb.hi.is_zero() {
                            self.err(
                                Diagnostic::error(
                                    codes::DIV_BY_ZERO,
                                    "division by a value that is always zero",
                                )
                                .at(span),
                            );
                            return None;
                        }
                        if op == BinOp::FloorDiv {
                            Val::exact(ra.div_floor(&rb)?, 0, d)
                        } else {
                            Val::exact(ra.mod_floor(&rb), 0, d)
                        }
                    }
                    BinOp::Shl | BinOp::Shr => {
                        if fb > 0 || rb.lo.is_negative() {
                            self.err(
                                Diagnostic::error(codes::NEGATIVE_SHIFT, format!("the shift amount can be {} here", rb.lo))
                                    .at(self.span(b))
                                    .help("shift amounts must be non-negative integers; use an unsigned type or a constant"),
                            );
                            return None;
                        }
                        let (lo_n, hi_n) = (
                            rb.lo.to_i64().unwrap_or(0),
                            rb.hi.to_i64().unwrap_or(i64::MAX),
                        );
                        if hi_n > MAX_WIDTH as i64 {
                            self.err(
                                Diagnostic::error(
                                    codes::TOO_WIDE,
                                    format!("a shift by up to {} bits", rb.hi),
                                )
                                .at(self.span(b))
                                .help("bound the shift amount with a narrower unsigned type"),
                            );
                            return None;
                        }
                        let (lo_n, hi_n) = (lo_n as u32, hi_n as u32);
                        if op == BinOp::Shl {
                            Val::exact(ra.shl(lo_n, hi_n), fa, d)
                        } else {
                            Val::exact(ra.shr(lo_n, hi_n, fa), fa, d)
                        }
                    }
                    BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                        if fa > 0 || fb > 0 {
                            self.err(
                                Diagnostic::error(
                                    codes::TYPE_MISMATCH,
                                    format!("`{}` needs integers", op.symbol()),
                                )
                                .at(span),
                            );
                            return None;
                        }
                        let bop = match op {
                            BinOp::BitAnd => kiln_numeric::interval::BitOp::And,
                            BinOp::BitOr => kiln_numeric::interval::BitOp::Or,
                            _ => kiln_numeric::interval::BitOp::Xor,
                        };
                        Val::exact(ra.bitwise(&rb, bop), 0, d)
                    }
                    _ => unreachable!("comparisons and logic handled above"),
                };
                Some(r)
            }
            (x, y) => {
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!(
                            "`{}` combines {} with {}",
                            op.symbol(),
                            kind_name(&x),
                            kind_name(&y)
                        ),
                    )
                    .at(span)
                    .help("convert one side explicitly"),
                );
                None
            }
        }
    }

    /// The values a conversion to `to` can produce from `v`.
    fn converted(&self, v: &Val, to: &ScalarType) -> Val {
        match (v, to) {
            (_, ScalarType::Bool) => Val::Bool,
            (_, ScalarType::F32) => Val::F32,
            (
                Val::Exact {
                    range, from_data, ..
                },
                _,
            ) => {
                let (a, la) = convert_exact(&range.lo, to);
                let (b, lb) = convert_exact(&range.hi, to);
                let (Value::Num(a), Value::Num(b)) = (a, b) else {
                    return self.type_val(to, None, false);
                };
                let wraps = match to {
                    ScalarType::Fixed(f) => matches!(
                        f.overflow,
                        Overflow::Wrap | Overflow::WrapSm | Overflow::SatZero
                    ),
                    ScalarType::Int(_) => true,
                    _ => false,
                };
                if (la.overflowed || lb.overflowed) && wraps {
                    return self.type_val(to, None, false);
                }
                let r = Interval::new(a.clone().min(b.clone()), a.max(b));
                self.type_val(to, Some(&r), *from_data)
            }
            _ => self.type_val(to, None, false),
        }
    }

    /// W0801: a value assigned to a declared type with a wrapping overflow mode that can
    /// exceed it.
    fn check_overflow(&mut self, v: &Val, to: &ScalarType, span: Span, name: &str, explicit: bool) {
        if explicit || !self.record {
            return;
        }
        let Val::Exact { range, frac, .. } = v else {
            return;
        };
        let wraps = match to {
            ScalarType::Fixed(f) => f.overflow.is_wrapping(),
            ScalarType::Int(_) => true,
            _ => false,
        };
        if !wraps {
            return;
        }
        let Some((lo, hi)) = to.value_bounds() else {
            return;
        };
        if range.lo >= lo && range.hi <= hi {
            return;
        }
        let holds = narrowest_type(
            range,
            (*frac)
                .min(to.frac_bits().unwrap_or(0))
                .max(to.frac_bits().unwrap_or(0)),
        );
        self.warnings.push(
            Diagnostic::warning(
                codes::OVERFLOW_RISK,
                format!("`{name}` ({to}) can overflow and wrap"),
            )
            .at(span)
            .label(format!(
                "values here range over {}, but {to} holds [{}, {}]",
                range.short(),
                lo.short(),
                hi.short()
            ))
            .help(format!(
                "{holds} would hold them; or use a saturating type (`sat`), or convert explicitly"
            )),
        );
    }

    /// Final round: write local and tensor types.
    fn finish(&mut self) {
        // Tensors that accumulating stores update hold what `end_round` found.
        let accumulated: Vec<TensorId> = self.store_growth.keys().copied().collect();
        for t in accumulated {
            if let Some((r, f)) = self.own_stores.get(&t) {
                self.stores
                    .insert(t, (Val::exact(r.clone(), *f, false), false));
            }
        }
        // Locals.
        let mut locals: Vec<LocalId> = self.local_class.keys().copied().collect();
        locals.sort();
        for l in locals {
            let local = self.inst.local(l).clone();
            if local.declared {
                continue;
            }
            let ty = match self.local_class.get(&l) {
                Some(Val::Bool) => ScalarType::Bool,
                Some(Val::F32) => ScalarType::F32,
                _ => {
                    let r = self
                        .local_range
                        .get(&l)
                        .cloned()
                        .unwrap_or_else(|| Interval::point(Fx::zero()));
                    let f = self.local_frac.get(&l).copied().unwrap_or(0);
                    let lm = self.inst.locals.get_mut(l.index()).expect("local");
                    lm.range = Some(r.clone());
                    narrowest_type(&r, f)
                }
            };
            let reason = match self.terms.get(&l) {
                Some(&n) if n > 1 || self.growth.contains_key(&l) => {
                    TypeReason::Accumulation { terms: n }
                }
                _ if self.local_from_data.get(&l).copied().unwrap_or(false) => {
                    TypeReason::Range("values of constant data".into())
                }
                _ => TypeReason::BitGrowth,
            };
            let lm = self.inst.locals.get_mut(l.index()).expect("local");
            lm.ty = ty;
            lm.reason = reason;
        }
        // Declared accumulators: warn when the exact sum can exceed a wrapping type.
        let mut declared: Vec<LocalId> = self
            .growth
            .keys()
            .copied()
            .filter(|l| self.inst.local(*l).declared)
            .collect();
        declared.sort();
        for l in declared {
            let local = self.inst.local(l).clone();
            if self.explicit_assign.get(&l).copied().unwrap_or(false) {
                continue;
            }
            let base = self
                .base
                .get(&l)
                .cloned()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            let total = base.add(&self.growth[&l]);
            let span = self
                .first_assign_span
                .get(&l)
                .copied()
                .unwrap_or(local.span);
            let frac = local.ty.frac_bits().unwrap_or(0);
            let terms = self.terms.get(&l).copied().unwrap_or(0);
            let v = Val::exact(total, frac, false);
            let before = self.warnings.len();
            self.check_overflow(&v, &local.ty, span, &local.name, false);
            if self.warnings.len() > before {
                let d = self.warnings.pop().expect("just pushed");
                self.warnings.push(d.note(format!(
                    "`{}` accumulates up to {terms} terms between resets",
                    local.name
                )));
            }
        }
        // Tensors written by this node.
        let stores: Vec<(TensorId, Val)> = self
            .stores
            .iter()
            .map(|(t, (v, _))| (*t, v.clone()))
            .collect();
        for (t, v) in stores {
            let tm = self.inst.tensor_mut(t);
            match v {
                Val::Bool => {
                    if !tm.declared {
                        tm.elem = ScalarType::Bool;
                        tm.reason = TypeReason::BitGrowth;
                    }
                }
                Val::F32 => {
                    if !tm.declared {
                        tm.elem = ScalarType::F32;
                        tm.reason = TypeReason::BitGrowth;
                    }
                }
                Val::Exact {
                    range,
                    frac,
                    from_data,
                } => {
                    if !tm.declared {
                        tm.elem = narrowest_type(&range, frac);
                        tm.reason = if from_data {
                            TypeReason::Range("values of constant data".into())
                        } else {
                            TypeReason::BitGrowth
                        };
                        tm.range = Some(range);
                    } else {
                        tm.range = Some(match &tm.range {
                            Some(r) if tm.kind == TensorKind::Temp => r.join(&range),
                            _ => range,
                        });
                    }
                }
            }
        }
    }
}

fn kind_name(v: &Val) -> &'static str {
    match v {
        Val::Bool => "a bool",
        Val::F32 => "an f32",
        Val::Exact { .. } => "an exact value",
    }
}

fn join_val(a: &Val, b: &Val) -> Val {
    match (a, b) {
        (
            Val::Exact {
                range: r1,
                frac: f1,
                from_data: d1,
            },
            Val::Exact {
                range: r2,
                frac: f2,
                from_data: d2,
            },
        ) => Val::exact(r1.join(r2), (*f1).max(*f2), *d1 || *d2),
        (x, _) => x.clone(),
    }
}

fn range_len(lo: i64, hi: i64, step: i64) -> u64 {
    if step > 0 {
        ((hi - lo + step - 1).max(0) / step) as u64
    } else {
        ((lo - hi - step - 1).max(0) / -step) as u64
    }
}

/// Calls `f` for every point of a rectangular iteration space.
fn for_each_point(bounds: &[(i64, i64, i64)], f: &mut dyn FnMut(&[i64])) {
    fn go(bounds: &[(i64, i64, i64)], cur: &mut Vec<i64>, f: &mut dyn FnMut(&[i64])) {
        let d = cur.len();
        if d == bounds.len() {
            f(cur);
            return;
        }
        let (lo, hi, step) = bounds[d];
        let mut v = lo;
        while (step > 0 && v < hi) || (step < 0 && v > hi) {
            cur.push(v);
            go(bounds, cur, f);
            cur.pop();
            v += step;
        }
    }
    go(bounds, &mut Vec::new(), f);
}

/// If `value` is `l + e1 - e2 + ...` with `l` appearing once, positively, and the `e`s not
/// reading `l`: the `e`s with their signs.
pub fn accumulation_parts(
    inst: &Instance,
    value: ExprId,
    l: LocalId,
) -> Option<Vec<(ExprId, i32)>> {
    split_accumulation(
        inst,
        value,
        |e| matches!(inst.expr(e), Expr::Local(x) if *x == l),
        |e| reads_local(inst, e, l),
    )
}

/// The terms of `value = acc + e1 - e2 ...` other than the accumulator (which `is_acc`
/// recognizes: exactly one term, added), when none of them `reads_acc`.
fn split_accumulation(
    inst: &Instance,
    value: ExprId,
    is_acc: impl Fn(ExprId) -> bool,
    reads_acc: impl Fn(ExprId) -> bool,
) -> Option<Vec<(ExprId, i32)>> {
    let mut terms = Vec::new();
    collect_terms(inst, value, 1, &mut terms);
    let mut found = false;
    let mut parts = Vec::new();
    for (e, sign) in terms {
        if is_acc(e) {
            if found || sign < 0 {
                return None;
            }
            found = true;
        } else if reads_acc(e) {
            return None;
        } else {
            parts.push((e, sign));
        }
    }
    (found && !parts.is_empty()).then_some(parts)
}

fn collect_terms(inst: &Instance, e: ExprId, sign: i32, out: &mut Vec<(ExprId, i32)>) {
    match inst.expr(e) {
        Expr::Binary(BinOp::Add, a, b) => {
            collect_terms(inst, *a, sign, out);
            collect_terms(inst, *b, sign, out);
        }
        Expr::Binary(BinOp::Sub, a, b) => {
            collect_terms(inst, *a, sign, out);
            collect_terms(inst, *b, -sign, out);
        }
        _ => out.push((e, sign)),
    }
}

/// The terms (with their signs) of a store's value `t[a] + e1 - e2 ...` that accumulates
/// into tensor `t`: exactly one added load of `t` (at any index, not itself computed from
/// `t`) and terms that do not read `t`.
fn tensor_accumulation_parts(
    inst: &Instance,
    value: ExprId,
    t: TensorId,
) -> Option<Vec<(ExprId, i32)>> {
    let reads_t = |e: ExprId| {
        let mut found = false;
        inst.for_each_subexpr(e, &mut |x| {
            found |= matches!(x, Expr::Load(a) if a.tensor == t)
        });
        found
    };
    split_accumulation(
        inst,
        value,
        |e| matches!(inst.expr(e), Expr::Load(a) if a.tensor == t && a.dynamic_exprs().all(|d| !reads_t(d))),
        reads_t,
    )
}

fn reads_local(inst: &Instance, e: ExprId, l: LocalId) -> bool {
    if matches!(inst.expr(e), Expr::Local(x) if *x == l) {
        return true;
    }
    expr_operands(inst.expr(e))
        .into_iter()
        .any(|o| reads_local(inst, o, l))
}
