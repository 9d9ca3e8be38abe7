//! Literals: a literal expression (`1.0 / 9`, `-3`, `2 * 8`) folds at compile time into
//! one constant, exact or f32 by the class of its context; a literal assigned to a declared
//! type converts at compile time, as C++ converts a double constant.

use super::*;
use crate::value::real_literal;
use kiln_lang::ast::BinOp as AB;
use kiln_lang::hir::{ExprKind as HE, HUnaryOp};
use kiln_numeric::Fx;

impl<'h> Lowerer<'_, '_, 'h> {
    /// Constant `v` and its class.
    pub(super) fn constant(&mut self, v: Value, span: Span) -> (ExprId, Class) {
        let v = match v {
            Value::Num(x) => Value::Num(x.normalized()),
            other => other,
        };
        let c = value_class(&v);
        (self.inst.add_expr(Expr::Const(v), span), c)
    }

    /// A literal that `fold_literal` leaves alone: a bool, or a malformed number.
    pub(super) fn literal(&mut self, e: &hir::Expr) -> L<(ExprId, Class)> {
        match &e.kind {
            HE::Bool(b) => Some(self.constant(Value::Bool(*b), e.span)),
            // A real that reads as a number folds.
            HE::Real(text) => {
                self.err(
                    Diagnostic::error(codes::INEXACT_LITERAL, format!("bad number `{text}`"))
                        .at(e.span),
                );
                None
            }
            // An integer beyond i128: the lexer takes literals up to 2^128 - 1 (a `const`
            // may be one), but a kernel's constants are signed 128-bit values.
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::INT_TOO_LARGE,
                        "this integer is beyond kiln's signed 128-bit constants",
                    )
                    .at(e.span)
                    .help("kiln's integer constants are at most 2^127 - 1 in magnitude"),
                );
                None
            }
        }
    }

    /// Integer `v` as a constant in a context of class `hint`: an f32 there, else exact.
    pub(super) fn int_constant(
        &mut self,
        v: i128,
        hint: Option<Class>,
        span: Span,
    ) -> (ExprId, Class) {
        self.constant(int_value(v, hint), span)
    }

    /// A folded literal expression (`1.0 / 9`, `-3`, `2 * 8`) as a constant in a context of
    /// class `hint`.
    pub(super) fn folded(
        &mut self,
        e: &hir::Expr,
        lit: Lit,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        match folded_const(e, lit, hint) {
            Ok(v) => Some(self.constant(v, e.span)),
            Err(Some(f)) => {
                self.err(
                    Diagnostic::error(codes::INEXACT_LITERAL, "this constant has no exact binary value")
                        .at(e.span)
                        .label(format!("its value is about {f}"))
                        .help("choose its precision with a conversion, e.g. `fixed<16, 1, rnd>(...)`, or compute in f32"),
                );
                None
            }
            Err(None) => None,
        }
    }

    /// Lowers the value of an assignment to a target of type `target`: a literal converts to
    /// a declared target at compile time (`s: fixed<8, 4, rnd> = 0.1` rounds 0.1 once, like
    /// C++ does), anything else is lowered as usual.
    pub(super) fn value_for(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        target: Option<ScalarType>,
    ) -> L<(ExprId, Class)> {
        if let (Some(t), Some(lit)) = (target, fold_literal(e)) {
            // The assignment converts it (no exactness required, as for a cast).
            let v = literal_source(e, lit, &t)?;
            return Some(self.constant(v, e.span));
        }
        self.elem(e, idx, scope, target.as_ref().map(class_of))
    }
}

/// The value of an expression made of literals only: integers exactly, reals in binary64
/// (with whether the binary64 value is the exact value).
#[derive(Copy, Clone, Debug, PartialEq)]
pub(super) enum Lit {
    Int(i128),
    Real(f64, bool),
}

/// The class of constant `v`.
pub(super) fn value_class(v: &Value) -> Class {
    match v {
        Value::Bool(_) => Class::Bool,
        Value::F32(_) => Class::F32,
        Value::F64(_) => Class::F64,
        Value::Num(_) => Class::Exact,
    }
}

/// Integer `v` as a constant in a context of class `hint`: a float there (the nearest),
/// else exact.
pub(super) fn int_value(v: i128, hint: Option<Class>) -> Value {
    match hint {
        Some(Class::F32) => Value::F32(kiln_numeric::float::fx_to_f32(&Fx::int(v))),
        Some(Class::F64) => Value::F64(kiln_numeric::float::fx_to_f64(&Fx::int(v))),
        _ => Value::Num(Fx::int(v)),
    }
}

/// The constant folded literal `lit` (of expression `e`) becomes in a context of class
/// `hint`. A real outside f32 and f64 must have an exact binary value: else `Err` with its value
/// (an error to report), or `Err(None)` when it cannot be represented at all.
pub(super) fn folded_const(
    e: &hir::Expr,
    lit: Lit,
    hint: Option<Class>,
) -> Result<Value, Option<f64>> {
    match lit {
        Lit::Int(v) => Ok(int_value(v, hint)),
        Lit::Real(f, exact) => {
            if hint == Some(Class::F32) {
                // A single literal rounds from its decimal text, like `0.1f`; a computed
                // one from its binary64 value, as C++ computes double constants.
                if let HE::Real(text) = &e.kind {
                    if let Ok(v) = text.replace('_', "").parse::<f32>() {
                        return Ok(Value::F32(v));
                    }
                }
                return Ok(Value::F32(f as f32));
            }
            if hint == Some(Class::F64) {
                // The nearest binary64 value (as Python reads it); a computed one is
                // computed in binary64, as at run time.
                return Ok(Value::F64(f));
            }
            if !exact || !f.is_finite() {
                return Err(Some(f));
            }
            kiln_numeric::float::f64_to_fx(f)
                .map(Value::Num)
                .ok_or(None)
        }
    }
}

/// Whether `e` is made of literals only (and folds into one constant).
pub(super) fn is_literal(e: &hir::Expr) -> bool {
    fold_literal(e).is_some()
}

/// The value of a literal expression, or `None` when `e` is not made of literals only.
pub(super) fn fold_literal(e: &hir::Expr) -> Option<Lit> {
    use kiln_numeric::float::f64_to_fx;
    match &e.kind {
        HE::Int(v) => i128::try_from(*v).ok().map(Lit::Int),
        HE::Real(text) => real_literal(text).map(|(f, exact)| Lit::Real(f, exact)),
        HE::Unary(HUnaryOp::Neg, a) => match fold_literal(a)? {
            Lit::Int(v) => Some(Lit::Int(v.checked_neg()?)),
            Lit::Real(f, x) => Some(Lit::Real(-f, x)),
        },
        HE::Binary(op, a, b) => {
            let (x, y) = (fold_literal(a)?, fold_literal(b)?);
            match (x, y) {
                (Lit::Int(p), Lit::Int(q)) => Some(Lit::Int(match op {
                    AB::Add => p.checked_add(q)?,
                    AB::Sub => p.checked_sub(q)?,
                    AB::Mul => p.checked_mul(q)?,
                    AB::FloorDiv if q != 0 => Fx::int(p).div_floor(&Fx::int(q))?.to_i64()? as i128,
                    AB::Mod if q != 0 => {
                        p - q * (Fx::int(p).div_floor(&Fx::int(q))?.to_i64()? as i128)
                    }
                    AB::Shl if (0..64).contains(&q) => {
                        p.checked_mul(1i128.checked_shl(q as u32)?)?
                    }
                    AB::Shr if (0..127).contains(&q) => p >> q,
                    AB::BitAnd => p & q,
                    AB::BitOr => p | q,
                    AB::BitXor => p ^ q,
                    AB::Pow if (0..=127).contains(&q) => p.checked_pow(q as u32)?,
                    _ => return None,
                })),
                _ => {
                    let as_real = |l: Lit| match l {
                        Lit::Int(v) => (v as f64, (v as f64) as i128 == v),
                        Lit::Real(f, x) => (f, x),
                    };
                    let ((p, xp), (q, xq)) = (as_real(x), as_real(y));
                    let r = match op {
                        AB::Add => p + q,
                        AB::Sub => p - q,
                        AB::Mul => p * q,
                        AB::Div if q != 0.0 => p / q,
                        _ => return None,
                    };
                    // Exact when the binary64 result is the exact result of exact operands.
                    let exact = xp && xq && r.is_finite() && {
                        match (f64_to_fx(p), f64_to_fx(q), f64_to_fx(r)) {
                            (Some(fp), Some(fq), Some(fr)) => match op {
                                AB::Add => fp.add(&fq) == fr,
                                AB::Sub => fp.sub(&fq) == fr,
                                AB::Mul => fp.mul(&fq) == fr,
                                _ => fr.mul(&fq) == fp,
                            },
                            _ => false,
                        }
                    };
                    Some(Lit::Real(r, exact))
                }
            }
        }
        _ => None,
    }
}

/// The value a literal expression converts from when it is converted to `to`: its binary64
/// value (as C++ converts a double constant), or for f32 a single literal rounded from its
/// decimal text (like `0.1f`).
pub(super) fn literal_source(e: &hir::Expr, lit: Lit, to: &ScalarType) -> Option<Value> {
    Some(match (lit, to) {
        (Lit::Real(f, _), ScalarType::F32) => match &e.kind {
            // A single literal rounds from its decimal text, like `0.1f`.
            HE::Real(text) => Value::F32(text.replace('_', "").parse::<f32>().ok()?),
            _ => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
        },
        (Lit::Real(f, _), _) => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
        (Lit::Int(i), _) => Value::Num(Fx::int(i)),
    })
}
