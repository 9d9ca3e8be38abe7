//! Affine forms: sizes and indices as sums of loop variables times constants plus a
//! constant (`2*i + u - 1`), as IR loop bounds and accesses need them; an index that is
//! not affine is data-dependent and lowered as a value. Also the other way: an affine form
//! as an IR expression.

use super::*;
use kiln_lang::ast::BinOp as AB;
use kiln_lang::hir::{ExprKind as HE, HUnaryOp};
use kiln_lang::sym::{SizeExpr, SizeOp};
use kiln_numeric::Fx;

impl<'h> Lowerer<'_, '_, 'h> {
    pub(super) fn affine_size(&mut self, s: &SizeExpr, scope: &Scope<'h>, span: Span) -> L<Affine> {
        match s {
            SizeExpr::Const(c) => Some(Affine::constant(*c)),
            SizeExpr::Var(_) | SizeExpr::ConstParam(_) => {
                Some(Affine::constant(self.eval_size(s, span)?))
            }
            SizeExpr::LoopVar(v) => match scope.loops.get(v) {
                Some(a) => Some(a.clone()),
                None => {
                    self.err(
                        Diagnostic::error(codes::NOT_AFFINE, "loop variable out of scope").at(span),
                    );
                    None
                }
            },
            SizeExpr::Binary(op, a, b) => {
                let (x, y) = (
                    self.affine_size(a, scope, span)?,
                    self.affine_size(b, scope, span)?,
                );
                match op {
                    SizeOp::Add => x
                        .checked_add_scaled(&y, 1)
                        .or_else(|| self.not_affine(span)),
                    SizeOp::Sub => x
                        .checked_add_scaled(&y, -1)
                        .or_else(|| self.not_affine(span)),
                    SizeOp::Mul => affine_mul(&x, &y).or_else(|| self.not_affine_bound(span)),
                    SizeOp::FloorDiv | SizeOp::Mod => {
                        affine_floor_div(&x, &y, *op == SizeOp::FloorDiv)
                            .or_else(|| self.not_affine_bound(span))
                    }
                }
            }
        }
    }

    /// A bound (of a loop that cannot be guarded, or of a slice) that is not affine.
    pub(super) fn not_affine_bound<T>(&mut self, span: Span) -> L<T> {
        if self.probing_affine {
            return None;
        }
        self.err(
            Diagnostic::error(codes::BAD_LOOP, "this bound is not affine in the enclosing loop variables")
                .at(span)
                .help("the bounds of `for` loops and `sum` generators may be any integer expression of sizes and enclosing loop variables (`i // 16 + 1`); slice bounds, comprehension extents and the bounds of `max`, `min`, `argmax` and `argmin` generators are sums of loop variables times constants (`2*i + 1`): write those as a `for` loop"),
        );
        None
    }

    pub(super) fn not_affine<T>(&mut self, span: Span) -> L<T> {
        if self.probing_affine {
            return None;
        }
        self.err(
            Diagnostic::error(codes::NOT_AFFINE, "this index is not affine in the loop variables")
                .at(span)
                .help("indices are sums of loop variables times constants plus a constant (`2*i + u - 1`)"),
        );
        None
    }

    /// Lowers a data-dependent index (`x[i]` in `hist[x[i]]`): any integer expression.
    /// Its values must be integers within the range of `int<64>`, which type inference
    /// checks.
    pub(super) fn dynamic_index(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<ExprId> {
        let (x, class) = self.scalar(e, scope, Some(Class::Exact))?;
        if class != Class::Exact {
            let what = match class {
                Class::F32 => "an f32",
                Class::F64 => "an f64",
                _ => "a bool",
            };
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("an index must be an integer, not {what}"),
                )
                .at(e.span)
                .help("convert it with an integer type: `int<16>(x)`"),
            );
            return None;
        }
        Some(x)
    }

    /// The affine form of an integer index expression, or `None` (reporting nothing) when
    /// it depends on data.
    pub(super) fn try_affine(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Affine> {
        let was = std::mem::replace(&mut self.probing_affine, true);
        let a = self.affine_expr(e, scope);
        self.probing_affine = was;
        a
    }

    /// The affine form of an integer index expression.
    pub(super) fn affine_expr(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Affine> {
        match &e.kind {
            HE::Int(v) => Some(Affine::constant(i64::try_from(*v).ok()?)),
            HE::Size(s) => Some(Affine::constant(self.eval_size(s, e.span)?)),
            HE::LoopVar(v) => match scope.loops.get(v) {
                Some(a) => Some(a.clone()),
                None => self.not_affine(e.span),
            },
            HE::Unary(HUnaryOp::Neg, a) => {
                let x = self.affine_expr(a, scope)?;
                x.checked_scale(-1).or_else(|| self.not_affine(e.span))
            }
            HE::Binary(op @ (AB::Add | AB::Sub), a, b) => {
                let (x, y) = (self.affine_expr(a, scope)?, self.affine_expr(b, scope)?);
                let k = if *op == AB::Add { 1 } else { -1 };
                x.checked_add_scaled(&y, k)
                    .or_else(|| self.not_affine(e.span))
            }
            HE::Binary(op @ (AB::Mul | AB::FloorDiv | AB::Mod), a, b) => {
                let (x, y) = (self.affine_expr(a, scope)?, self.affine_expr(b, scope)?);
                let r = match op {
                    AB::Mul => affine_mul(&x, &y),
                    _ => affine_floor_div(&x, &y, *op == AB::FloorDiv),
                };
                r.or_else(|| self.not_affine(e.span))
            }
            _ => self.not_affine(e.span),
        }
    }

    pub(super) fn affine_value(&mut self, a: &Affine, span: Span) -> ExprId {
        let mut acc: Option<ExprId> = None;
        for &(v, c) in &a.terms {
            let var = self.inst.add_expr(Expr::LoopVar(v), span);
            let term = if c == 1 {
                var
            } else {
                let k = self
                    .inst
                    .add_expr(Expr::Const(Value::Num(Fx::int(c as i128))), span);
                self.inst.add_expr(Expr::Binary(BinOp::Mul, k, var), span)
            };
            acc = Some(match acc {
                None => term,
                Some(p) => self.inst.add_expr(Expr::Binary(BinOp::Add, p, term), span),
            });
        }
        match acc {
            None => self
                .inst
                .add_expr(Expr::Const(Value::Num(Fx::int(a.constant as i128))), span),
            Some(p) if a.constant != 0 => {
                let k = self
                    .inst
                    .add_expr(Expr::Const(Value::Num(Fx::int(a.constant as i128))), span);
                self.inst.add_expr(Expr::Binary(BinOp::Add, p, k), span)
            }
            Some(p) => p,
        }
    }
}

/// The number of iterations of `range(lo, hi, step)` when the bounds are constants.
pub(super) fn trip_count_const(lo: &Affine, hi: &Affine, step: i64) -> Option<i64> {
    // In i128: bounds near the ends of i64 must not overflow (the count saturates; loops
    // that long are diagnosed where their size is checked).
    let (l, h, step) = (
        lo.as_constant()? as i128,
        hi.as_constant()? as i128,
        step as i128,
    );
    let n = if step > 0 {
        ((h - l) + step - 1).div_euclid(step).max(0)
    } else {
        ((l - h) + (-step) - 1).div_euclid(-step).max(0)
    };
    Some(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `x * y` of affine forms, when one of them is a constant.
pub(super) fn affine_mul(x: &Affine, y: &Affine) -> Option<Affine> {
    match (x.as_constant(), y.as_constant()) {
        (Some(c), _) => y.checked_scale(c),
        (_, Some(c)) => x.checked_scale(c),
        _ => None,
    }
}

/// `x // y` (with `div`) or `x % y` of constant affine forms, rounding down as Python does.
pub(super) fn affine_floor_div(x: &Affine, y: &Affine, div: bool) -> Option<Affine> {
    let (p, q) = (x.as_constant()?, y.as_constant()?);
    if q == 0 {
        return None;
    }
    let fd = p.checked_div_euclid(q)? - if q < 0 && p.rem_euclid(q) != 0 { 1 } else { 0 };
    Some(Affine::constant(if div {
        fd
    } else {
        p.checked_sub(q.checked_mul(fd)?)?
    }))
}
