//! Divisions: ap_fixed `/` (truncated at the result's LSB), Python's `//` and `%`, and the
//! division-by-zero check.

use crate::codegen::error::{Site, ERR_DIV_ZERO, R};
use crate::codegen::gen::Gen;
use crate::helpers::{DIV_FLOOR, DIV_TRUNC, MOD_FLOOR};
use crate::layout::container;
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value as CValue};
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    /// ap_fixed division: the quotient truncated toward zero at the result's LSB.
    pub(crate) fn div_fixed(
        &mut self,
        e: ExprId,
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        rep: Rep,
    ) -> R<CValue> {
        let (Some(xe), Some(ye), Some(re)) = (xr.exact(), yr.exact(), rep.exact()) else {
            unreachable!()
        };
        let (wa, fa, wb, fb, rf) = (xe.width, xe.frac, ye.width, ye.frac, re.frac);
        let k = rf + fb - fa;
        let (sa, sb) = if k >= 0 { (k, 0) } else { (0, -k) };
        let need = (wa as i32 + sa).max(wb as i32 + sb) + 2;
        let Some(bits) = container(need as u32) else {
            return Err(self.unsupported(e, "a division whose operands need more than 128 bits"));
        };
        let num = self.coerce(x, xr, bits, fa);
        let num = if sa > 0 {
            self.b.ins().ishl_imm_s(num, sa as i64)
        } else {
            num
        };
        let den = self.coerce(y, yr, bits, fb);
        let den = if sb > 0 {
            self.b.ins().ishl_imm_s(den, sb as i64)
        } else {
            den
        };
        self.check_nonzero(e, den, bits);
        let q = if bits == 128 {
            self.call_div128(num, den, DIV_TRUNC)
        } else {
            self.b.ins().sdiv(num, den)
        };
        let qrep = Rep::full(bits, true, rf);
        Ok(self.fit(q, qrep, rep))
    }

    fn check_nonzero(&mut self, e: ExprId, den: CValue, _bits: u32) {
        let Expr::Binary(_, _, b) = self.inst.expr(e).clone() else {
            return;
        };
        if self.range(b).is_some_and(|r| !r.contains_zero()) {
            return;
        }
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, den, 0);
        let span = self.inst.expr_spans[e.index()];
        let site = Site {
            span,
            tensor: None,
            message: None,
            call: None,
        };
        self.fail_if(zero, ERR_DIV_ZERO, site, &[]);
    }

    /// Python's floor division and modulo on integers.
    pub(crate) fn div_floor(
        &mut self,
        (e, op): (ExprId, BinOp),
        (x, xr): (CValue, Rep),
        (y, yr): (CValue, Rep),
        rep: Rep,
    ) -> R<CValue> {
        let (Some(xe), Some(ye)) = (xr.exact(), yr.exact()) else {
            unreachable!()
        };
        let (wa, fa, wb, fb) = (xe.width, xe.frac, ye.width, ye.frac);
        let f = fa.max(fb);
        let need = (wa as i32 + (f - fa)).max(wb as i32 + (f - fb)) + 2;
        let Some(bits) = container(need as u32) else {
            return Err(self.unsupported(e, "a division whose operands need more than 128 bits"));
        };
        let a = self.coerce(x, xr, bits, f);
        let d = self.coerce(y, yr, bits, f);
        self.check_nonzero(e, d, bits);
        if bits == 128 {
            let mode = if op == BinOp::FloorDiv {
                DIV_FLOOR
            } else {
                MOD_FLOOR
            };
            let r = self.call_div128(a, d, mode);
            let rrep = Rep::full(bits, true, if op == BinOp::FloorDiv { 0 } else { f });
            return Ok(self.fit(r, rrep, rep));
        }
        let q = self.b.ins().sdiv(a, d);
        let r = self.b.ins().srem(a, d);
        // Floor: when the remainder is non-zero and its sign differs from the divisor's.
        let rnz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let x2 = self.b.ins().bxor(r, d);
        let diff = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x2, 0);
        let fix = self.b.ins().band(rnz, diff);
        let fixw = if bits == 8 {
            fix
        } else {
            self.b.ins().uextend(int_ty(bits), fix)
        };
        let v = if op == BinOp::FloorDiv {
            let q = self.b.ins().isub(q, fixw);
            let qrep = Rep::full(bits, true, 0);
            self.fit(q, qrep, rep)
        } else {
            let zero = self.iconst(bits, 0);
            let add = self.b.ins().select(fix, d, zero);
            let r = self.b.ins().iadd(r, add);
            let rrep = Rep::full(bits, true, f);
            self.fit(r, rrep, rep)
        };
        Ok(v)
    }
}
