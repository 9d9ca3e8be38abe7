//! `bits(x, hi, lo)`: bits `hi` down to `lo` of an integer, as ap_int's `range(hi, lo)`.
//!
//! It lowers to operators every engine already has, so the interpreter, the JIT and the
//! HLS C++ agree by construction:
//!
//! ```text
//! bits(w, 16 * k + 15, 16 * k)      (w: uint<256>, k a loop variable)
//!   ==>  (w >> 16 * k) & 65535      (type inference: uint<16>)
//! ```
//!
//! The width `hi - lo + 1` must be a constant (from the affine forms of `hi` and `lo`:
//! `16 * k + 15` and `16 * k` differ by 15 whatever `k` is), so the result has a static
//! type. Bits of a negative value are those of its two's complement, extended past the
//! type's width by its sign (what `>>` and `&` do on exact values).

use super::*;
use kiln_numeric::{Fx, Int};

/// The widest slice `bits` takes (the mask is a constant of this many bits).
const MAX_BITS: i64 = 4096;

impl<'h> Lowerer<'_, '_, 'h> {
    pub(super) fn bits(
        &mut self,
        (x, hi, lo): (&'h hir::Expr, &'h hir::Expr, &'h hir::Expr),
        idx: &[Affine],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let width = match (self.try_affine(hi, scope), self.try_affine(lo, scope)) {
            (Some(h), Some(l)) => h
                .checked_add_scaled(&l, -1)
                .and_then(|d| d.as_constant())
                .and_then(|d| d.checked_add(1)),
            _ => None,
        };
        let width = match width {
            Some(w) if (1..=MAX_BITS).contains(&w) => w,
            Some(w) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`bits` selects {w} bits: `hi` must be at least `lo`, and the slice at most {MAX_BITS} bits wide"),
                    )
                    .at(span)
                    .help("`bits(x, hi, lo)` is bits hi down to lo, as ap_int's `x.range(hi, lo)`"),
                );
                return None;
            }
            None => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        "the width of `bits(x, hi, lo)`, `hi - lo + 1`, must be a constant",
                    )
                    .at(span)
                    .help("write `hi` as `lo` plus a constant, e.g. `bits(w, 16 * k + 15, 16 * k)`: the result's type is `uint<hi - lo + 1>`"),
                );
                return None;
            }
        };
        let (xv, _) = self.elem(x, idx, scope, Some(Class::Exact))?;
        let (lov, _) = self.elem(lo, idx, scope, Some(Class::Exact))?;
        let shifted = self.inst.add_expr(Expr::Binary(BinOp::Shr, xv, lov), span);
        let ones = Int::pow2(width as u32).sub(&Int::ONE);
        let (mask, _) = self.constant(Value::Num(Fx::new(ones, 0)), span);
        let e = self
            .inst
            .add_expr(Expr::Binary(BinOp::BitAnd, shifted, mask), span);
        Some((e, Class::Exact))
    }
}
