//! Binary operations in lanes: logic on masks, f32 arithmetic, exact arithmetic,
//! comparisons and shifts by uniform amounts (divisions have no SIMD form).

use crate::arith::Lane;
use crate::codegen::compare::{float_cc, int_cc};
use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{abandon, Emitter, VR};
use crate::codegen::vector::lanes::zip_regs;
use crate::codegen::vector::value::{lanes_flags, vty, V};
use crate::rep::{common_rep, int_ty, Rep};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use kiln_passes::ir::*;

impl Emitter<'_> {
    pub(crate) fn binary(
        &mut self,
        g: &mut Gen,
        op: BinOp,
        a: ExprId,
        b: ExprId,
        rep: Rep,
    ) -> VR<V> {
        let x = self.expr(g, a)?;
        let y = self.expr(g, b)?;
        let xr = g.expr_rep(a)?;
        let yr = g.expr_rep(b)?;
        if matches!(op, BinOp::And | BinOp::Or) || xr == Rep::Bool {
            let mx = self.mask_of(g, x, 8)?;
            let my = self.mask_of(g, y, 8)?;
            let r = zip_regs(g, mx, my, &mut |g, p, q| match op {
                BinOp::And => g.b.ins().band(p, q),
                BinOp::Or => g.b.ins().bor(p, q),
                BinOp::Eq => g.b.ins().icmp(IntCC::Equal, p, q),
                _ => g.b.ins().icmp(IntCC::NotEqual, p, q),
            });
            return Ok(V::M(r, 8));
        }
        if xr == Rep::F32 {
            return self.f32_binary(g, op, x, y);
        }
        if op.is_comparison() {
            return self.compare(g, op, (x, xr), (y, yr));
        }
        let Rep::Exact { bits, frac, .. } = rep else {
            return abandon("an exact operation with another result");
        };
        Ok(match op {
            BinOp::Min | BinOp::Max => self.min_max(g, op, (x, xr), (y, yr), rep)?,
            BinOp::Add | BinOp::Sub | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let p = self.lanes_of(g, x, Rep::full(bits, true, frac))?;
                let q = self.lanes_of(g, y, Rep::full(bits, true, frac))?;
                let r = zip_regs(g, p, q, &mut |g, p, q| match op {
                    BinOp::Add => g.b.ins().iadd(p, q),
                    BinOp::Sub => g.b.ins().isub(p, q),
                    BinOp::BitAnd => g.b.ins().band(p, q),
                    BinOp::BitOr => g.b.ins().bor(p, q),
                    _ => g.b.ins().bxor(p, q),
                });
                V::L(r, rep)
            }
            BinOp::Mul => self.mul(g, (a, b), (x, xr), (y, yr), rep)?,
            BinOp::Shl => {
                let V::U(n, nr) = y else {
                    return abandon("a shift by a varying amount");
                };
                let Rep::Exact { frac: fa, .. } = xr else {
                    return abandon("shift of another kind");
                };
                let p = self.lanes_of(g, x, Rep::full(bits, true, fa))?;
                let n = g.fit(n, nr, Rep::full(32, false, 0));
                V::L(p.into_iter().map(|p| g.b.ins().ishl(p, n)).collect(), rep)
            }
            BinOp::Shr => self.shift_right(g, (x, xr), y, rep)?,
            _ => return abandon("a division in SIMD code"),
        })
    }

    /// An f32 operation or comparison in lanes.
    fn f32_binary(&mut self, g: &mut Gen, op: BinOp, x: V, y: V) -> VR<V> {
        let fx = self.lanes_of(g, x, Rep::F32)?;
        let fy = self.lanes_of(g, y, Rep::F32)?;
        if op.is_comparison() {
            let cc = float_cc(op);
            let m = zip_regs(g, fx, fy, &mut |g, p, q| g.b.ins().fcmp(cc, p, q));
            return Ok(V::M(m, 32));
        }
        let mut out = Vec::with_capacity(fx.len());
        for (p, q) in fx.into_iter().zip(fy) {
            out.push(match op {
                BinOp::Add => g.b.ins().fadd(p, q),
                BinOp::Sub => g.b.ins().fsub(p, q),
                BinOp::Mul => g.b.ins().fmul(p, q),
                BinOp::Div => g.b.ins().fdiv(p, q),
                BinOp::Min | BinOp::Max => {
                    // std::min: q < p ? q : p; std::max: p < q ? q : p.
                    let c = if op == BinOp::Min {
                        g.b.ins().fcmp(FloatCC::LessThan, q, p)
                    } else {
                        g.b.ins().fcmp(FloatCC::LessThan, p, q)
                    };
                    let c = g.b.ins().bitcast(types::F32X4, lanes_flags(), c);
                    g.b.ins().bitselect(c, q, p)
                }
                _ => return abandon("an f32 operation without a SIMD form"),
            });
        }
        Ok(V::L(out, Rep::F32))
    }

    /// A comparison of exact values: lane masks.
    fn compare(&mut self, g: &mut Gen, op: BinOp, (x, xr): (V, Rep), (y, yr): (V, Rep)) -> VR<V> {
        let Some(c @ Rep::Exact { bits, signed, .. }) = common_rep(xr, yr) else {
            return abandon("a comparison wider than 128 bits");
        };
        if bits > 64 {
            return abandon("a comparison wider than 64 bits");
        }
        let p = self.lanes_of(g, x, c)?;
        let q = self.lanes_of(g, y, c)?;
        let cc = int_cc(op, signed);
        let m = zip_regs(g, p, q, &mut |g, p, q| g.b.ins().icmp(cc, p, q));
        Ok(V::M(m, bits))
    }

    /// `min` / `max` of exact values, compared in lanes holding both.
    fn min_max(
        &mut self,
        g: &mut Gen,
        op: BinOp,
        (x, xr): (V, Rep),
        (y, yr): (V, Rep),
        rep: Rep,
    ) -> VR<V> {
        let Some(
            c @ Rep::Exact {
                bits: cb, signed, ..
            },
        ) = common_rep(xr, yr)
        else {
            return abandon("min/max wider than 128 bits");
        };
        if cb > 64 {
            return abandon("min/max wider than 64 bits");
        }
        let Rep::Exact { bits, frac, .. } = rep else {
            return abandon("an exact operation with another result");
        };
        let p = self.lanes_of(g, x, c)?;
        let q = self.lanes_of(g, y, c)?;
        let r = zip_regs(g, p, q, &mut |g, p, q| match (op, signed) {
            (BinOp::Min, true) => g.b.ins().smin(p, q),
            (BinOp::Min, false) => g.b.ins().umin(p, q),
            (_, true) => g.b.ins().smax(p, q),
            (_, false) => g.b.ins().umax(p, q),
        });
        Ok(V::L(self.coerce(g, r, c, bits, frac)?, rep))
    }

    /// A product of exact lanes: selects for a `bin` or `tern` factor in 8-bit lanes (x86
    /// has no 8-bit lane multiply), else a multiply in lanes of at least 16 bits.
    fn mul(
        &mut self,
        g: &mut Gen,
        (a, b): (ExprId, ExprId),
        (x, xr): (V, Rep),
        (y, yr): (V, Rep),
        rep: Rep,
    ) -> VR<V> {
        let Rep::Exact { bits, frac, .. } = rep else {
            return abandon("an exact operation with another result");
        };
        let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
            return abandon("mul of another kind");
        };
        let unit = (g.unit_factor(b).map(|z| (true, z))).or(g.unit_factor(a).map(|z| (false, z)));
        if let (8, Some((y_is_unit, zero))) = (bits, unit) {
            let (v, t) = if y_is_unit { (x, y) } else { (y, x) };
            let vf = if y_is_unit { fa } else { fb };
            let v = self.lanes_of(g, v, Rep::full(bits, true, vf))?;
            let t = self.lanes_of(g, t, Rep::full(bits, true, 0))?;
            let r = zip_regs(g, v, t, &mut |g, v, t| {
                Lane {
                    b: &mut g.b,
                    ty: types::I8X16,
                }
                .times_unit(v, t, zero)
            });
            return Ok(V::L(r, rep));
        }
        // Keeping the low half of each product.
        let mb = bits.max(16);
        let p = self.lanes_of(g, x, Rep::full(mb, true, fa))?;
        let q = self.lanes_of(g, y, Rep::full(mb, true, fb))?;
        let r = zip_regs(g, p, q, &mut |g, p, q| g.b.ins().imul(p, q));
        let prep = Rep::full(mb, true, frac);
        Ok(V::L(self.coerce(g, r, prep, bits, frac)?, rep))
    }

    /// `x >> n` for a uniform amount `n`, with amounts at or beyond the lane width.
    fn shift_right(&mut self, g: &mut Gen, (x, xr): (V, Rep), y: V, rep: Rep) -> VR<V> {
        let Rep::Exact { bits, frac, .. } = rep else {
            return abandon("an exact operation with another result");
        };
        let V::U(n, nr) = y else {
            return abandon("a shift by a varying amount");
        };
        let (
            V::L(
                regs,
                Rep::Exact {
                    bits: xb,
                    signed: xs,
                    ..
                },
            ),
            Rep::Exact { bits: nb, .. },
        ) = (x, nr)
        else {
            return abandon("a shift of a uniform value");
        };
        // Amounts at or beyond the lane width: clamp (signed: 0 or -1) or zero.
        let lim = g.b.ins().iconst(int_ty(nb.min(64)), xb as i64 - 1);
        if nb > 64 {
            return abandon("a 128-bit shift amount");
        }
        let clamped = g.b.ins().umin(n, lim);
        let beyond =
            g.b.ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, n, xb as i64 - 1);
        let clamped = g.fit(clamped, nr, Rep::full(32, false, 0));
        let shifted: Vec<CValue> = regs
            .into_iter()
            .map(|r| {
                if xs {
                    g.b.ins().sshr(r, clamped)
                } else {
                    g.b.ins().ushr(r, clamped)
                }
            })
            .collect();
        let shifted = if xs {
            shifted
        } else {
            let zero = g.b.ins().iconst(int_ty(xb), 0);
            let zero = g.b.ins().splat(vty(xb, false), zero);
            shifted
                .into_iter()
                .map(|r| g.b.ins().select(beyond, zero, r))
                .collect()
        };
        Ok(V::L(self.coerce(g, shifted, xr, bits, frac)?, rep))
    }
}
