//! `a ** b`, lowered to ordinary IR (docs/language.md §7.3):
//!
//! - an exact base needs a constant non-negative integer exponent `n` (a literal, a
//!   `const` parameter or a size): `x ** n` is the exact product `x * x * ... * x`
//!   (n - 1 multiplications, so its type grows as a product's does), and `x ** 0` is 1;
//! - a float base (f32 or f64) with a constant integer exponent of at most
//!   [`MAX_FLOAT_MULTIPLIES`] in magnitude multiplies too, left to right, each product
//!   rounded once (`x ** 3` is `(x * x) * x`; `x ** -2` is `1 / (x * x)`; `x ** 0` is 1);
//! - any other exponent of a float base is `pow` (`BinOp::Pow`): the C library's `pow` in
//!   double precision, rounded once to f32 for f32 operands.
//!
//! The base is evaluated once, into a temporary local, whatever the exponent.

use super::literals::{fold_literal, is_literal, Lit};
use super::*;
use kiln_lang::hir::ExprKind as HE;
use kiln_numeric::Fx;

/// The largest exponent magnitude a float power multiplies out; above, it is `pow`.
pub(super) const MAX_FLOAT_MULTIPLIES: i128 = 64;

/// The largest exponent of an exact power (a product of more factors cannot fit the
/// widest intermediate value unless the base is 0 or 1).
const MAX_EXACT_EXPONENT: i128 = 1024;

impl<'h> Lowerer<'_, '_, 'h> {
    /// `a ** b` (see the module doc).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn power(
        &mut self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let n = self.integer_exponent(b);
        // A literal base takes the class of a float exponent (`2.0 ** x`).
        let base_hint = if is_literal(a) && !is_literal(b) && n.is_none() {
            self.expr_class(b, scope, hint)
                .filter(|c| c.is_float())
                .or(hint)
        } else {
            hint
        };
        let (x, c) = self.elem(a, idx, scope, base_hint)?;
        match c {
            Class::Bool => {
                self.err(
                    Diagnostic::error(codes::TYPE_MISMATCH, "`**` needs numbers, not a bool")
                        .at(a.span)
                        .help("convert with `int<1>(b)` or `uint<1>(b)`"),
                );
                None
            }
            Class::Exact => {
                let n = self.exact_exponent(n, b)?;
                Some((self.product(x, c, n.unsigned_abs(), span), c))
            }
            Class::F32 | Class::F64 => match n {
                Some(n) if n.abs() <= MAX_FLOAT_MULTIPLIES => {
                    let p = self.product(x, c, n.unsigned_abs(), span);
                    if n >= 0 {
                        return Some((p, c));
                    }
                    let (one, _) = self.int_constant(1, Some(c), span);
                    Some((
                        self.inst.add_expr(Expr::Binary(BinOp::Div, one, p), span),
                        c,
                    ))
                }
                _ => {
                    let (y, cy) = self.elem(b, idx, scope, Some(c))?;
                    // An exact exponent converts to the base's float (numpy's promotion).
                    if let Some((x, y, float)) = self.promote_to_float(x, c, y, cy, span) {
                        let e = self.inst.add_expr(Expr::Binary(BinOp::Pow, x, y), span);
                        return Some((e, float));
                    }
                    let class = self.unify(c, cy, span)?;
                    let x = self.promote(x, c, class, a.span);
                    let y = self.promote(y, cy, class, b.span);
                    Some((
                        self.inst.add_expr(Expr::Binary(BinOp::Pow, x, y), span),
                        class,
                    ))
                }
            },
        }
    }

    /// The class `a ** b` lowers to, without lowering it (class.rs); `None` where lowering
    /// reports an error.
    pub(super) fn power_class(
        &self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> Option<Class> {
        let n = self.integer_exponent(b);
        let base_hint = if is_literal(a) && !is_literal(b) && n.is_none() {
            self.expr_class(b, scope, hint)
                .filter(|c| c.is_float())
                .or(hint)
        } else {
            hint
        };
        match self.expr_class(a, scope, base_hint)? {
            Class::Bool => None,
            Class::Exact => n
                .filter(|n| (0..=MAX_EXACT_EXPONENT).contains(n))
                .map(|_| Class::Exact),
            c => match n {
                Some(n) if n.abs() <= MAX_FLOAT_MULTIPLIES => Some(c),
                _ => {
                    let cy = self.expr_class(b, scope, Some(c))?;
                    // An exact exponent promotes to the base's float.
                    if cy == Class::Exact {
                        return Some(c);
                    }
                    super::ops::unified(c, cy)
                }
            },
        }
    }

    /// The exponent's value when it is a constant integer: an integer literal (or a real
    /// literal with an integer value), a `const` parameter or a size.
    fn integer_exponent(&self, b: &hir::Expr) -> Option<i128> {
        match fold_literal(b) {
            Some(Lit::Int(n)) => return Some(n),
            Some(Lit::Real(f, _)) => {
                return (f.fract() == 0.0 && f.abs() < 1e18).then_some(f as i128)
            }
            None => {}
        }
        match &b.kind {
            HE::Size(s) => s.eval(&self.env).ok().map(|v| v as i128),
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Const(v) => Some(*v as i128),
                ParamSlot::Tensor(_) => None,
            },
            _ => None,
        }
    }

    /// The exponent of an exact power: a constant integer in `0..=MAX_EXACT_EXPONENT`, or
    /// the error that says why not and what to write.
    fn exact_exponent(&mut self, n: Option<i128>, b: &hir::Expr) -> L<i128> {
        let d = match n {
            Some(n) if (0..=MAX_EXACT_EXPONENT).contains(&n) => return Some(n),
            None if is_literal(b) => {
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    "the exponent of an exact value must be an integer",
                )
                .at(b.span)
                .help("for a fractional power, convert the base to a float: `f64(x) ** 0.5`")
            }
            None => Diagnostic::error(
                codes::NOT_CONSTANT,
                "the exponent of an exact value must be a compile-time integer",
            )
            .at(b.span)
            .label("this exponent is computed at run time")
            .help("`x ** n` multiplies out n factors, so n must be known when compiling: a literal or a `const` parameter; for a run-time exponent convert the base to a float (`f64(x) ** n`), and for a power of two write `1 << n`"),
            Some(n) if n < 0 => Diagnostic::error(
                codes::BAD_DIVISION,
                format!("an exact value raised to the negative power {n}"),
            )
            .at(b.span)
            .help(format!("`x ** {n}` is a division: write `fixed<W, I>(1) / x ** {}` with the precision you need, or compute in a float (`f64(x) ** {n}`)", -n)),
            Some(n) => Diagnostic::error(
                codes::TOO_WIDE,
                format!("the exponent {n} is too large for an exact power (at most {MAX_EXACT_EXPONENT})"),
            )
            .at(b.span)
            .help("compute in a float: `f64(x) ** n`"),
        };
        self.err(d);
        None
    }

    /// `x * x * ... * x` (`n` factors, left to right) of class `c`, with `x` evaluated
    /// once into a temporary; 1 when `n` is 0.
    fn product(&mut self, x: ExprId, c: Class, n: u128, span: Span) -> ExprId {
        if n == 0 {
            let one = match c {
                Class::F32 => Value::F32(1.0),
                Class::F64 => Value::F64(1.0),
                _ => Value::Num(Fx::int(1)),
            };
            return self.inst.add_expr(Expr::Const(one), span);
        }
        if n == 1 {
            return x;
        }
        let t = self.new_local("pow", None, c, span);
        self.emit(Stmt::Assign {
            local: t,
            value: x,
            span,
        });
        let mut acc = self.inst.add_expr(Expr::Local(t), span);
        for _ in 1..n {
            let f = self.inst.add_expr(Expr::Local(t), span);
            acc = self.inst.add_expr(Expr::Binary(BinOp::Mul, acc, f), span);
        }
        acc
    }
}
