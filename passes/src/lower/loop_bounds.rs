//! Loop bounds that are not affine: `for j in range(i // 16 + 1)`, or any integer
//! expression of sizes and enclosing loop variables (§6). The IR's loops have affine
//! bounds, so such a loop runs over the widest range its bounds can take (from the ranges
//! of the enclosing loops) and its body is guarded by the real bounds: the same
//! iterations, in the same order, in every engine and in the HLS C++ (where the loop
//! then has a constant trip count). `sum` generators do the same; the other constructs
//! with loops (comprehensions, `max`/`min`/`argmax` generators, slices) need affine
//! bounds.

use super::*;
use kiln_lang::sym::{SizeExpr, SizeOp};
use kiln_numeric::Fx;

/// The IR form of a loop whose HIR bounds may not be affine.
pub(super) struct LoopShape<'h> {
    pub(super) lo: Affine,
    pub(super) hi: Affine,
    pub(super) step: i64,
    /// The bounds the body must be guarded by (those that are not affine), with the
    /// HIR loop's step.
    guard_lo: Option<&'h SizeExpr>,
    guard_hi: Option<&'h SizeExpr>,
    hir_step: i64,
}

impl LoopShape<'_> {
    /// A loop with affine bounds, as written.
    pub(super) fn affine(lo: Affine, hi: Affine, step: i64) -> LoopShape<'static> {
        LoopShape {
            lo,
            hi,
            step,
            guard_lo: None,
            guard_hi: None,
            hir_step: step,
        }
    }

    /// Whether the body needs a guard.
    pub(super) fn guarded(&self) -> bool {
        self.guard_lo.is_some() || self.guard_hi.is_some()
    }
}

impl<'h> Lowerer<'_, '_, 'h> {
    /// The affine form of a size, or `None` (reporting nothing) when it is not affine.
    fn try_affine_size(&mut self, s: &SizeExpr, scope: &Scope<'h>, span: Span) -> Option<Affine> {
        let was = std::mem::replace(&mut self.probing_affine, true);
        let a = self.affine_size(s, scope, span);
        self.probing_affine = was;
        a
    }

    /// The IR bounds of loop `h`: its own when affine, else the widest ones its values
    /// can take, with the guard to apply inside ([`Lowerer::loop_guard`]).
    pub(super) fn loop_shape(
        &mut self,
        h: &'h hir::LoopHeader,
        scope: &Scope<'h>,
    ) -> L<LoopShape<'h>> {
        let lo = self.try_affine_size(&h.lo, scope, h.span);
        let hi = self.try_affine_size(&h.hi, scope, h.span);
        if let (Some(lo), Some(hi)) = (&lo, &hi) {
            return Some(LoopShape {
                lo: lo.clone(),
                hi: hi.clone(),
                step: h.step,
                guard_lo: None,
                guard_hi: None,
                hir_step: h.step,
            });
        }
        let range = |lw: &mut Self, s: &SizeExpr| {
            let r = lw.size_interval(s, scope);
            if r.is_none() {
                lw.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        "the values of this loop bound cannot be bounded at compile time",
                    )
                    .at(h.span)
                    .help("a bound may use `+ - *`, and `//` and `%` by constants, of sizes and enclosing loop variables"),
                );
            }
            r
        };
        let widest = |a: Option<Affine>, r: (i64, i64), low: bool| {
            a.unwrap_or_else(|| Affine::constant(if low { r.0 } else { r.1 }))
        };
        let forward = h.step > 0;
        let guard_lo = lo.is_none().then_some(&h.lo);
        let guard_hi = hi.is_none().then_some(&h.hi);
        let lo_a = match lo {
            Some(a) => a,
            None => widest(None, range(self, &h.lo)?, forward),
        };
        let hi_a = match hi {
            Some(a) => a,
            None => widest(None, range(self, &h.hi)?, !forward),
        };
        // From a lower bound that moves, every value is visited and the step checked.
        let step = if guard_lo.is_some() {
            h.step.signum()
        } else {
            h.step
        };
        Some(LoopShape {
            lo: lo_a,
            hi: hi_a,
            step,
            guard_lo,
            guard_hi,
            hir_step: h.step,
        })
    }

    /// The condition under which iteration `var` of a loop of `shape` is one of the
    /// loop as written.
    pub(super) fn loop_guard(
        &mut self,
        shape: &LoopShape<'h>,
        var: LoopVarId,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<ExprId> {
        // Every IR expression has one user: the loop variable and the bounds are built
        // once per use.
        let mut conds = Vec::new();
        let forward = shape.hir_step > 0;
        if let Some(lo) = shape.guard_lo {
            let v = self.inst.add_expr(Expr::LoopVar(var), span);
            let lov = self.size_ir(lo, scope, span)?;
            let op = if forward { BinOp::Ge } else { BinOp::Le };
            conds.push(self.inst.add_expr(Expr::Binary(op, v, lov), span));
            if shape.hir_step.abs() != 1 {
                let v = self.inst.add_expr(Expr::LoopVar(var), span);
                let lov = self.size_ir(lo, scope, span)?;
                let d = self.inst.add_expr(Expr::Binary(BinOp::Sub, v, lov), span);
                let k = self.int_const(shape.hir_step.abs(), span);
                let m = self.inst.add_expr(Expr::Binary(BinOp::Mod, d, k), span);
                let zero = self.int_const(0, span);
                conds.push(self.inst.add_expr(Expr::Binary(BinOp::Eq, m, zero), span));
            }
        }
        if let Some(hi) = shape.guard_hi {
            let v = self.inst.add_expr(Expr::LoopVar(var), span);
            let hiv = self.size_ir(hi, scope, span)?;
            let op = if forward { BinOp::Lt } else { BinOp::Gt };
            conds.push(self.inst.add_expr(Expr::Binary(op, v, hiv), span));
        }
        let mut it = conds.into_iter();
        let first = it.next()?;
        Some(it.fold(first, |acc, c| {
            self.inst.add_expr(Expr::Binary(BinOp::And, acc, c), span)
        }))
    }

    fn int_const(&mut self, c: i64, span: Span) -> ExprId {
        self.inst
            .add_expr(Expr::Const(Value::Num(Fx::int(c as i128))), span)
    }

    /// A size expression as an IR integer expression (in a loop nest: its loop
    /// variables are those of `scope`).
    fn size_ir(&mut self, s: &SizeExpr, scope: &Scope<'h>, span: Span) -> L<ExprId> {
        if let Some(a) = self.try_affine_size(s, scope, span) {
            return Some(self.affine_value(&a, span));
        }
        let SizeExpr::Binary(op, a, b) = s else {
            return self
                .affine_size(s, scope, span)
                .map(|a| self.affine_value(&a, span));
        };
        let (x, y) = (self.size_ir(a, scope, span)?, self.size_ir(b, scope, span)?);
        let op = match op {
            SizeOp::Add => BinOp::Add,
            SizeOp::Sub => BinOp::Sub,
            SizeOp::Mul => BinOp::Mul,
            SizeOp::FloorDiv => BinOp::FloorDiv,
            SizeOp::Mod => BinOp::Mod,
        };
        Some(self.inst.add_expr(Expr::Binary(op, x, y), span))
    }

    /// The values a size expression can take over the ranges of the enclosing loops, or
    /// `None` when they cannot be bounded (a division by a value that may be zero).
    fn size_interval(&mut self, s: &SizeExpr, scope: &Scope<'h>) -> Option<(i64, i64)> {
        match s {
            SizeExpr::Const(c) => Some((*c, *c)),
            SizeExpr::Var(_) | SizeExpr::ConstParam(_) => {
                let v = self.eval_size(s, Span::default())?;
                Some((v, v))
            }
            SizeExpr::LoopVar(v) => {
                let a = scope.loops.get(v)?.clone();
                self.affine_interval(&a)
            }
            SizeExpr::Binary(op, a, b) => {
                let (x, y) = (self.size_interval(a, scope)?, self.size_interval(b, scope)?);
                match op {
                    SizeOp::Add => Some((x.0.checked_add(y.0)?, x.1.checked_add(y.1)?)),
                    SizeOp::Sub => Some((x.0.checked_sub(y.1)?, x.1.checked_sub(y.0)?)),
                    SizeOp::Mul => {
                        let p = [
                            x.0.checked_mul(y.0)?,
                            x.0.checked_mul(y.1)?,
                            x.1.checked_mul(y.0)?,
                            x.1.checked_mul(y.1)?,
                        ];
                        Some((*p.iter().min()?, *p.iter().max()?))
                    }
                    SizeOp::FloorDiv if y.0 > 0 || y.1 < 0 => {
                        let f = |p: i64, d: i64| {
                            let r = p.div_euclid(d);
                            if d < 0 && p.rem_euclid(d) != 0 {
                                r - 1
                            } else {
                                r
                            }
                        };
                        let c = [f(x.0, y.0), f(x.0, y.1), f(x.1, y.0), f(x.1, y.1)];
                        Some((*c.iter().min()?, *c.iter().max()?))
                    }
                    SizeOp::Mod if y.0 > 0 => Some((0, y.1 - 1)),
                    SizeOp::Mod if y.1 < 0 => Some((y.0 + 1, 0)),
                    _ => None,
                }
            }
        }
    }

    /// The values of an affine form over the ranges of its loop variables.
    fn affine_interval(&self, a: &Affine) -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (a.constant, a.constant);
        for &(v, c) in &a.terms {
            let &(vlo, vhi) = self.loop_ranges.get(&v)?;
            let (p, q) = (vlo.checked_mul(c)?, vhi.checked_mul(c)?);
            lo = lo.checked_add(p.min(q))?;
            hi = hi.checked_add(p.max(q))?;
        }
        Some((lo, hi))
    }

    /// Records the values loop variable `var` takes (for the bounds of inner loops).
    pub(super) fn record_loop_range(&mut self, var: LoopVarId, shape: &LoopShape<'_>) {
        let (Some(lo), Some(hi)) = (
            self.affine_interval(&shape.lo),
            self.affine_interval(&shape.hi),
        ) else {
            return;
        };
        let range = if shape.step > 0 {
            (lo.0, hi.1 - 1)
        } else {
            (hi.0 + 1, lo.1)
        };
        self.loop_ranges.insert(var, range);
    }
}
