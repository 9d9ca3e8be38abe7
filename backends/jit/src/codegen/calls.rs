//! Calls to the Rust helpers (helpers.rs) for rare, wide or intricate cases: 128-bit
//! division, conversions through kiln-numeric, f32 ↔ 128-bit values, math functions.

use crate::codegen::gen::Gen;
use crate::layout::frac_of;
use crate::rep::Rep;
use cranelift_codegen::ir::{
    types, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Value as CValue,
};
use kiln_numeric::ScalarType;
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    fn split128(&mut self, v: CValue, from: Rep) -> (CValue, CValue) {
        let w = self.coerce(
            v,
            from,
            128,
            match from {
                Rep::Exact { frac, .. } => frac,
                _ => 0,
            },
        );
        let (lo, hi) = self.b.ins().isplit(w);
        (lo, hi)
    }

    fn out_slot(&mut self) -> CValue {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    fn read128(&mut self, addr: CValue) -> CValue {
        let lo = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 0);
        let hi = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 8);
        self.b.ins().iconcat(lo, hi)
    }

    fn desc(&mut self, t: &ScalarType) -> CValue {
        let boxed = Box::new(*t);
        let p = &*boxed as *const ScalarType as i64;
        self.descs.push(boxed);
        self.b.ins().iconst(types::I64, p)
    }

    /// The conversion by kiln-numeric itself, through a helper.
    pub(crate) fn call_convert(
        &mut self,
        v: CValue,
        from: Rep,
        to: &ScalarType,
        to_rep: Rep,
    ) -> CValue {
        let Rep::Exact { frac, signed, .. } = from else {
            unreachable!()
        };
        let (lo, hi) = self.split128(v, from);
        let out = self.out_slot();
        let f = self.b.ins().iconst(types::I32, frac as i64);
        let s = self.b.ins().iconst(types::I32, signed as i64);
        let d = self.desc(to);
        let fref = self.helpers.convert;
        self.b.ins().call(fref, &[lo, hi, f, s, d, out]);
        let r = self.read128(out);
        let rrep = Rep::full(128, true, frac_of(to));
        self.fit(r, rrep, to_rep)
    }

    /// [`Self::call_convert`] (or [`Self::call_f32_to_exact`] for an f32 `v`) through the
    /// helper that also counts an overflow at the conversion of expression `at`.
    pub(crate) fn call_convert_counted(
        &mut self,
        v: CValue,
        from: Rep,
        to: &ScalarType,
        to_rep: Rep,
        at: ExprId,
    ) -> CValue {
        let out = self.out_slot();
        let d = self.desc(to);
        let span = self.inst.expr_spans[at.index()];
        let file = self.b.ins().iconst(types::I32, span.file.0 as i64);
        let start = self.b.ins().iconst(types::I32, span.start as i64);
        let end = self.b.ins().iconst(types::I32, span.end as i64);
        let ctx = self.ctx_ptr;
        match from {
            Rep::F32 => {
                let bits = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
                let fref = self.helpers.f32_to_exact_counted;
                self.b
                    .ins()
                    .call(fref, &[bits, d, out, ctx, file, start, end]);
            }
            Rep::Exact { frac, signed, .. } => {
                let (lo, hi) = self.split128(v, from);
                let f = self.b.ins().iconst(types::I32, frac as i64);
                let s = self.b.ins().iconst(types::I32, signed as i64);
                let fref = self.helpers.convert_counted;
                self.b
                    .ins()
                    .call(fref, &[lo, hi, f, s, d, out, ctx, file, start, end]);
            }
            Rep::F64 => {
                let bits = self.b.ins().bitcast(types::I64, MemFlagsData::new(), v);
                let fref = self.helpers.f64_to_exact_counted;
                self.b
                    .ins()
                    .call(fref, &[bits, d, out, ctx, file, start, end]);
            }
            Rep::Bool => unreachable!("bools convert through an exact rep"),
        }
        let r = self.read128(out);
        let rrep = Rep::full(128, true, frac_of(to));
        self.fit(r, rrep, to_rep)
    }

    pub(crate) fn call_f32_to_exact(&mut self, v: CValue, to: &ScalarType, to_rep: Rep) -> CValue {
        let bits = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
        let out = self.out_slot();
        let d = self.desc(to);
        let fref = self.helpers.f32_to_exact;
        self.b.ins().call(fref, &[bits, d, out]);
        let r = self.read128(out);
        let rrep = Rep::full(128, true, frac_of(to));
        self.fit(r, rrep, to_rep)
    }

    /// Math function `f` of an f32 (`f64`: false) or f64 value.
    pub(crate) fn call_math(&mut self, f: MathFn, x: CValue, f64: bool) -> CValue {
        let code = self.b.ins().iconst(types::I32, f.code() as i64);
        let fref = if f64 {
            self.helpers.math64
        } else {
            self.helpers.math
        };
        let call = self.b.ins().call(fref, &[code, x]);
        self.b.inst_results(call)[0]
    }

    /// `x ** y` of two f32 (`f64`: false) or two f64 values: the C library's `pow`.
    pub(crate) fn call_pow(&mut self, x: CValue, y: CValue, f64: bool) -> CValue {
        let fref = if f64 {
            self.helpers.pow64
        } else {
            self.helpers.pow32
        };
        let call = self.b.ins().call(fref, &[x, y]);
        self.b.inst_results(call)[0]
    }

    pub(crate) fn call_f64_to_exact(&mut self, v: CValue, to: &ScalarType, to_rep: Rep) -> CValue {
        let bits = self.b.ins().bitcast(types::I64, MemFlagsData::new(), v);
        let out = self.out_slot();
        let d = self.desc(to);
        let fref = self.helpers.f64_to_exact;
        self.b.ins().call(fref, &[bits, d, out]);
        let r = self.read128(out);
        let rrep = Rep::full(128, true, frac_of(to));
        self.fit(r, rrep, to_rep)
    }

    pub(crate) fn call_exact_to_f64(&mut self, v: CValue, frac: i32, signed: bool) -> CValue {
        let (lo, hi) = self.b.ins().isplit(v);
        let f = self.b.ins().iconst(types::I32, frac as i64);
        let s = self.b.ins().iconst(types::I32, signed as i64);
        let fref = self.helpers.exact_to_f64;
        let call = self.b.ins().call(fref, &[lo, hi, f, s]);
        self.b.inst_results(call)[0]
    }

    pub(crate) fn call_exact_to_f32(&mut self, v: CValue, frac: i32, signed: bool) -> CValue {
        let (lo, hi) = self.b.ins().isplit(v);
        let f = self.b.ins().iconst(types::I32, frac as i64);
        let s = self.b.ins().iconst(types::I32, signed as i64);
        let fref = self.helpers.exact_to_f32;
        let call = self.b.ins().call(fref, &[lo, hi, f, s]);
        self.b.inst_results(call)[0]
    }

    pub(crate) fn call_div128(&mut self, num: CValue, den: CValue, mode: i32) -> CValue {
        let (nl, nh) = self.b.ins().isplit(num);
        let (dl, dh) = self.b.ins().isplit(den);
        let out = self.out_slot();
        let m = self.b.ins().iconst(types::I32, mode as i64);
        let fref = self.helpers.div128;
        self.b.ins().call(fref, &[nl, nh, dl, dh, m, out]);
        self.read128(out)
    }
}
