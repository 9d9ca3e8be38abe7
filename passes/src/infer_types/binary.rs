//! Binary operators on inferred values: `and`/`or`, comparisons, f32 arithmetic, and
//! interval arithmetic on exact values with ap_fixed's fractional bits (sum: the larger;
//! product: the sum; division: the dividend's plus the divisor's integer-scale bits), with
//! the errors of division by zero, negative shifts and too-wide results.

use super::*;
use kiln_numeric::{Fx, Int, MAX_WIDTH};

impl State<'_> {
    pub(super) fn binary(&mut self, op: BinOp, a: ExprId, b: ExprId, span: Span) -> Option<Val> {
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
                | (Val::F64, Val::F64)
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
        match (va.clone(), vb) {
            (Val::F32, Val::F32) | (Val::F64, Val::F64) => match op {
                BinOp::Add
                | BinOp::Sub
                | BinOp::Mul
                | BinOp::Div
                | BinOp::Min
                | BinOp::Max
                | BinOp::Pow => Some(va),
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` is not defined on {}", op.symbol(), kind_name(&va)),
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
            ) => self.exact_binary(op, (&ra, fa), (&rb, fb), da || db, b, span),
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

    /// `op` of exact values (range, fractional bits); `d`: whether constant data narrowed
    /// either; `b` is the right operand (for the messages about shifts).
    pub(super) fn exact_binary(
        &mut self,
        op: BinOp,
        (ra, fa): (&Interval, i32),
        (rb, fb): (&Interval, i32),
        d: bool,
        b: ExprId,
        span: Span,
    ) -> Option<Val> {
        let r = match op {
            BinOp::Add => Val::exact(ra.add(rb), fa.max(fb), d),
            BinOp::Sub => Val::exact(ra.sub(rb), fa.max(fb), d),
            BinOp::Mul => Val::exact(ra.mul(rb), fa + fb, d),
            BinOp::Min => Val::exact(ra.min(rb), fa.max(fb), d),
            BinOp::Max => Val::exact(ra.max(rb), fa.max(fb), d),
            BinOp::Div => {
                let rf = fa + (-fb).max(0);
                let lsb = Fx::new(Int::ONE, fb);
                self.nonzero_divisor(rb, span)?;
                let Some(q) = ra.div_trunc(rb, &lsb, rf) else {
                    self.err(Diagnostic::error(codes::DIV_BY_ZERO, "division by zero").at(span));
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
                self.nonzero_divisor(rb, span)?;
                if op == BinOp::FloorDiv {
                    Val::exact(ra.div_floor(rb)?, 0, d)
                } else {
                    Val::exact(ra.mod_floor(rb), 0, d)
                }
            }
            BinOp::Shl | BinOp::Shr => self.shift(op, (ra, fa), (rb, fb), d, b)?,
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
                Val::exact(ra.bitwise(rb, bop), 0, d)
            }
            BinOp::Pow => {
                // Lowering multiplies exact powers out; an IR written by hand may not.
                self.err(
                    Diagnostic::error(codes::TYPE_MISMATCH, "`**` in the IR needs floats").at(span),
                );
                return None;
            }
            _ => unreachable!("comparisons and logic handled above"),
        };
        Some(r)
    }

    /// An error when a divisor is always zero.
    pub(super) fn nonzero_divisor(&mut self, rb: &Interval, span: Span) -> Option<()> {
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
        Some(())
    }

    /// `a << b` or `a >> b`: by a non-negative integer of at most `MAX_WIDTH`.
    pub(super) fn shift(
        &mut self,
        op: BinOp,
        (ra, fa): (&Interval, i32),
        (rb, fb): (&Interval, i32),
        d: bool,
        b: ExprId,
    ) -> Option<Val> {
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
                Diagnostic::error(codes::TOO_WIDE, format!("a shift by up to {} bits", rb.hi))
                    .at(self.span(b))
                    .help("bound the shift amount with a narrower unsigned type"),
            );
            return None;
        }
        let (lo_n, hi_n) = (lo_n as u32, hi_n as u32);
        Some(if op == BinOp::Shl {
            Val::exact(ra.shl(lo_n, hi_n), fa, d)
        } else {
            Val::exact(ra.shr(lo_n, hi_n, fa), fa, d)
        })
    }
}
