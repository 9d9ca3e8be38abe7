//! Binary operations: logic with short-circuit evaluation, f32 arithmetic, and exact
//! arithmetic, comparisons and shifts (divisions: division.rs).

use crate::arith::{min_max, Lane};
use crate::codegen::compare::{float_cc, int_cc};
use crate::codegen::error::R;
use crate::codegen::gen::Gen;
use crate::rep::{int_ty, Exact, Rep};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    pub(crate) fn binary(
        &mut self,
        e: ExprId,
        op: BinOp,
        a: ExprId,
        b: ExprId,
        rep: Rep,
    ) -> R<(CValue, Rep)> {
        if matches!(op, BinOp::And | BinOp::Or) {
            return self.logic(op, a, b);
        }
        let (x, xr) = self.expr(a)?;
        let (y, yr) = self.expr(b)?;
        if xr == Rep::Bool {
            let cc = if op == BinOp::Eq {
                IntCC::Equal
            } else {
                IntCC::NotEqual
            };
            return Ok((self.b.ins().icmp(cc, x, y), Rep::Bool));
        }
        if xr.is_float() {
            return self.float_binary(e, op, x, y, xr);
        }
        // Exact operands.
        if op.is_comparison() {
            let (x, y, signed) = self
                .common(x, xr, y, yr)
                .ok_or_else(|| self.unsupported(e, "a comparison of values wider than 128 bits"))?;
            let cc = int_cc(op, signed);
            return Ok((self.b.ins().icmp(cc, x, y), Rep::Bool));
        }
        let v = self.exact_binary(e, op, (a, b), (x, xr), (y, yr), rep)?;
        Ok((v, rep))
    }

    /// `and` / `or`: both sides evaluated when the right one is safe, else short-circuit.
    fn logic(&mut self, op: BinOp, a: ExprId, b: ExprId) -> R<(CValue, Rep)> {
        let x = self.bool_expr(a)?;
        if self.is_safe(b) {
            let y = self.bool_expr(b)?;
            let v = if op == BinOp::And {
                self.b.ins().band(x, y)
            } else {
                self.b.ins().bor(x, y)
            };
            return Ok((v, Rep::Bool));
        }
        let rhs = self.b.create_block();
        let done = self.b.create_block();
        self.b.append_block_param(done, types::I8);
        if op == BinOp::And {
            self.b.ins().brif(x, rhs, &[], done, &[x.into()]);
        } else {
            self.b.ins().brif(x, done, &[x.into()], rhs, &[]);
        }
        self.b.switch_to_block(rhs);
        self.b.seal_block(rhs);
        let y = self.bool_expr(b)?;
        self.b.ins().jump(done, &[y.into()]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        Ok((self.b.block_params(done)[0], Rep::Bool))
    }

    /// An operation or comparison of two floats of representation `rep` (f32 or f64).
    fn float_binary(
        &mut self,
        e: ExprId,
        op: BinOp,
        x: CValue,
        y: CValue,
        rep: Rep,
    ) -> R<(CValue, Rep)> {
        let v = match op {
            BinOp::Add => self.b.ins().fadd(x, y),
            BinOp::Sub => self.b.ins().fsub(x, y),
            BinOp::Mul => self.b.ins().fmul(x, y),
            BinOp::Div => self.b.ins().fdiv(x, y),
            BinOp::Pow => self.call_pow(x, y, rep == Rep::F64),
            BinOp::Min => {
                // std::min: b < a ? b : a
                let c = self.b.ins().fcmp(FloatCC::LessThan, y, x);
                self.b.ins().select(c, y, x)
            }
            BinOp::Max => {
                // std::max: a < b ? b : a
                let c = self.b.ins().fcmp(FloatCC::LessThan, x, y);
                self.b.ins().select(c, y, x)
            }
            cmp if cmp.is_comparison() => {
                let cc = float_cc(cmp);
                return Ok((self.b.ins().fcmp(cc, x, y), Rep::Bool));
            }
            _ => return Err(self.unsupported(e, &format!("`{}` on floats", op.symbol()))),
        };
        Ok((v, rep))
    }

    /// An exact operation other than a comparison, in the result's representation.
    fn exact_binary(
        &mut self,
        e: ExprId,
        op: BinOp,
        (a, b): (ExprId, ExprId),
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        rep: Rep,
    ) -> R<CValue> {
        let Rep::Exact { bits, frac, .. } = rep else {
            return Err(self.unsupported(e, "an exact operation with a non-exact result"));
        };
        Ok(match op {
            BinOp::Min | BinOp::Max => self.min_max_exact(e, op, (x, xr), (y, yr), rep)?,
            BinOp::Add | BinOp::Sub | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                // Ring operations: exact modulo 2^bits, and the result fits its type.
                let x = self.coerce(x, xr, bits, frac);
                let y = self.coerce(y, yr, bits, frac);
                match op {
                    BinOp::Add => self.b.ins().iadd(x, y),
                    BinOp::Sub => self.b.ins().isub(x, y),
                    BinOp::BitAnd => self.b.ins().band(x, y),
                    BinOp::BitOr => self.b.ins().bor(x, y),
                    _ => self.b.ins().bxor(x, y),
                }
            }
            BinOp::Mul => self.mul_exact((a, b), (x, xr), (y, yr), bits),
            BinOp::Shl => {
                let Rep::Exact { frac: fa, .. } = xr else {
                    unreachable!()
                };
                let x = self.coerce(x, xr, bits, fa);
                let n = self.coerce(y, yr, bits, 0);
                self.b.ins().ishl(x, n)
            }
            BinOp::Shr => self.shift_right(b, (x, xr), (y, yr), rep),
            BinOp::Div => self.div_fixed(e, (x, xr), (y, yr), rep)?,
            BinOp::FloorDiv | BinOp::Mod => self.div_floor((e, op), (x, xr), (y, yr), rep)?,
            _ => unreachable!("handled above"),
        })
    }

    /// `min` / `max` of exact values.
    fn min_max_exact(
        &mut self,
        e: ExprId,
        op: BinOp,
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        rep: Rep,
    ) -> R<CValue> {
        // Compare in a representation holding both operands (the result's type
        // can have another signedness, e.g. `max(x, 0)` is unsigned).
        let (cx, cy, cs) = self
            .common(x, xr, y, yr)
            .ok_or_else(|| self.unsupported(e, "`min`/`max` of values wider than 128 bits"))?;
        let v = min_max(&mut self.b, op == BinOp::Min, cs, cx, cy);
        let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
            unreachable!()
        };
        let cb = self.b.func.dfg.value_type(v).bits();
        let crep = Rep::full(cb, cs, fa.max(fb));
        Ok(self.fit(v, crep, rep))
    }

    /// A product of exact values in `bits`; a `bin` or `tern` factor selects instead.
    fn mul_exact(
        &mut self,
        (a, b): (ExprId, ExprId),
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        bits: u32,
    ) -> CValue {
        let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
            unreachable!()
        };
        let xv = self.coerce(x, xr, bits, fa);
        let yv = self.coerce(y, yr, bits, fb);
        // bin and tern factors: selects instead of a multiply.
        let lane = |g: &mut Self, v, t, z| {
            Lane {
                b: &mut g.b,
                ty: int_ty(bits),
            }
            .times_unit(v, t, z)
        };
        match (self.unit_factor(a), self.unit_factor(b)) {
            (_, Some(z)) => lane(self, xv, yv, z),
            (Some(z), _) => lane(self, yv, xv, z),
            _ => self.b.ins().imul(xv, yv),
        }
    }

    /// `x >> n` (`n` the value of `b`), with amounts at or beyond the width.
    fn shift_right(
        &mut self,
        b: ExprId,
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        rep: Rep,
    ) -> CValue {
        let Exact {
            bits: xb,
            signed: xs,
            ..
        } = xr.exact().expect("an exact operand");
        let Rep::Exact { bits: yb, .. } = yr else {
            unreachable!()
        };
        // Shift amounts at or beyond the width give 0 (or -1 for negative values):
        // clamp in the amount's own container, then narrow.
        let max_n = self.range(b).map_or(i128::MAX, |r| {
            r.hi.to_i64().map_or(i128::MAX, |v| v as i128)
        });
        let may_exceed = max_n >= xb as i128;
        let (n, beyond) = if may_exceed {
            let lim = self.iconst(yb, xb as i128 - 1);
            let clamped = min_max(&mut self.b, true, false, y, lim);
            let beyond = self
                .b
                .ins()
                .icmp_imm_s(IntCC::UnsignedGreaterThan, y, xb as i64 - 1);
            (clamped, Some(beyond))
        } else {
            (y, None)
        };
        let n = self.coerce(n, yr, xb, 0);
        let shifted = if xs {
            self.b.ins().sshr(x, n)
        } else {
            self.b.ins().ushr(x, n)
        };
        let shifted = match beyond {
            // Unsigned: a shift by width - 1 may leave the top bit; beyond is 0.
            Some(beyond) if !xs => {
                let zero = self.iconst(xb, 0);
                self.b.ins().select(beyond, zero, shifted)
            }
            _ => shifted,
        };
        self.fit(shifted, xr, rep)
    }
}
