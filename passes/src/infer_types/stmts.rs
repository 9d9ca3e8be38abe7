//! Statements: loops (their variables' ranges), conditions, assignments to locals (plain,
//! or accumulating with the number of terms between resets) and stores into tensors (plain,
//! or accumulating into elements). What a round found is combined by rounds.rs.

use super::accumulation::tensor_accumulation_parts;
use super::*;
use kiln_numeric::{Fx, Int};

impl State<'_> {
    pub(super) fn block<'b>(&mut self, b: &'b Block, loops: &mut Vec<LoopFrame<'b>>) {
        for (i, s) in b.iter().enumerate() {
            if let Some(top) = loops.last_mut() {
                if std::ptr::eq(&top.lp.body, b) {
                    top.child = i;
                }
            }
            self.stmt(s, loops);
        }
    }

    pub(super) fn stmt<'b>(&mut self, s: &'b Stmt, loops: &mut Vec<LoopFrame<'b>>) {
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
            // Result types are the callee's (set when the call was lowered).
            Stmt::Fail { .. } | Stmt::Call(_) => {}
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
                    // An accumulating store produces the values the accumulation can
                    // reach (the tensor's values plus its terms, however many times they
                    // run): those are checked, not the type's own range plus a term, so
                    // that the type W0801 suggests no longer warns.
                    let checked = match (accumulates, &v, self.store_needed.get(&access.tensor)) {
                        (true, Val::Exact { frac, .. }, Some(needed)) => {
                            Val::exact(needed.clone(), *frac, false)
                        }
                        _ => v.clone(),
                    };
                    self.check_overflow(&checked, &t.elem, *span, &t.name, explicit);
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
    pub(super) fn store_accumulation(
        &mut self,
        t: TensorId,
        parts: &[(ExprId, i32)],
        loops: &[LoopFrame],
    ) -> bool {
        let runs = loops
            .iter()
            .fold(Int::ONE, |acc, f| acc.mul(&self.trip_count(f.lp)));
        let mut sum = Interval::point(Fx::zero());
        let mut frac = i32::MIN;
        for (e, sign) in parts {
            let Some(Val::Exact { range, frac: f, .. }) = self.expr(*e) else {
                return false;
            };
            frac = frac.max(f);
            let step = Interval::new(range.lo.min(Fx::zero()), range.hi.max(Fx::zero()));
            let total = step.scale_count(&runs);
            sum = sum.add(&if *sign < 0 { total.neg() } else { total });
        }
        // A type coarser than the terms rounds at every store: up to one LSB each time.
        if let Some(tf) = self.inst.tensor(t).elem.frac_bits() {
            if frac > tf {
                let lsb = Fx::new(Int::ONE, tf);
                sum = sum.add(&Interval::new(lsb.neg(), lsb).scale_count(&runs));
            }
        }
        let entry = self
            .store_growth
            .entry(t)
            .or_insert_with(|| Interval::point(Fx::zero()));
        *entry = entry.add(&sum);
        true
    }

    pub(super) fn assign<'b>(
        &mut self,
        l: LocalId,
        value: ExprId,
        span: Span,
        loops: &[LoopFrame<'b>],
    ) {
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
                        step.scale_count(&trips.0)
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
                    let drift = Interval::new(lsb.neg(), lsb).scale_count(&trips.0);
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
            let t = self.terms.entry(l).or_default();
            *t = t.add(&trips.0);
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
    pub(super) fn value_of_assign(&mut self, l: LocalId, value: ExprId, span: Span) {
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
                if matches!(
                    self.local_class.get(&l),
                    Some(Val::F32 | Val::F64 | Val::Bool)
                ) {
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
    pub(super) fn trips_since_reset<'b>(
        &self,
        l: LocalId,
        loops: &[LoopFrame<'b>],
    ) -> (Int, Vec<&'b Loop>) {
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
            .fold(Int::ONE, |acc, lp| acc.mul(&self.trip_count(lp)));
        (n, inner)
    }

    /// The most iterations loop `l` can run (exact: bounds from enclosing loops can span
    /// more than an i64).
    pub(super) fn trip_count(&self, l: &Loop) -> Int {
        let lo = self.affine_range(&l.lo);
        let hi = self.affine_range(&l.hi);
        let span = if l.step > 0 {
            hi.hi.sub(&lo.lo)
        } else {
            lo.hi.sub(&hi.lo)
        };
        let span = span.trunc_to_int();
        if span <= Int::ZERO {
            return Int::ZERO;
        }
        // ceil(span / |step|) = floor((span + |step| - 1) / |step|).
        let step = Int::from(i128::from(l.step.unsigned_abs()));
        span.add(&step).sub(&Int::ONE).div_floor(&step)
    }
}
