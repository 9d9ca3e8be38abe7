//! Conversions with assignment semantics (value::convert): to bool, f32, f64, bin, tern, and
//! to int and fixed types with their quantization and overflow modes (arith.rs).

use crate::arith::{plan_fixed, plan_int, Lane};
use crate::codegen::error::R;
use crate::codegen::gen::Gen;
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use kiln_numeric::{Fx, Interval, ScalarType};
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    /// Converts a value to type `to` with assignment semantics (value::convert).
    pub fn convert(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        to: &ScalarType,
        at: ExprId,
    ) -> R<CValue> {
        let to_rep =
            Rep::of(to).ok_or_else(|| self.unsupported(at, &format!("a conversion to {to}")))?;
        if self.check_overflow && may_overflow(from, range, to) {
            return Ok(self.call_convert_counted(v, from, to, to_rep, at));
        }
        match (from, to) {
            (Rep::Bool, ScalarType::Bool)
            | (Rep::F32, ScalarType::F32)
            | (Rep::F64, ScalarType::F64) => Ok(v),
            (Rep::F32, ScalarType::Bool) => {
                let z = self.b.ins().f32const(0.0);
                Ok(self.b.ins().fcmp(FloatCC::NotEqual, v, z))
            }
            (Rep::F64, ScalarType::Bool) => {
                let z = self.b.ins().f64const(0.0);
                Ok(self.b.ins().fcmp(FloatCC::NotEqual, v, z))
            }
            // cvtss2sd / cvtsd2ss: exact, and rounded to nearest even (NaN quieted, with its
            // sign and payload), as kiln_numeric::float::{f32_to_f64, f64_to_f32}.
            (Rep::F32, ScalarType::F64) => Ok(self.b.ins().fpromote(types::F64, v)),
            (Rep::F64, ScalarType::F32) => Ok(self.b.ins().fdemote(types::F32, v)),
            (Rep::F32, _) => Ok(self.call_f32_to_exact(v, to, to_rep)),
            (Rep::F64, _) => Ok(self.call_f64_to_exact(v, to, to_rep)),
            (Rep::Bool, _) => {
                let r = Rep::Exact {
                    bits: 8,
                    width: 1,
                    signed: false,
                    frac: 0,
                };
                let range = Interval::new(Fx::zero(), Fx::int(1));
                self.convert(v, r, Some(&range), to, at)
            }
            (Rep::Exact { .. }, ScalarType::Bool) => {
                Ok(self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0))
            }
            (
                Rep::Exact {
                    bits, frac, signed, ..
                },
                ScalarType::F32,
            ) => {
                // Scaling by 2^-frac below is exact only while 2^-frac is a normal f32.
                if bits == 128 || !(-127..=126).contains(&frac) {
                    let w = self.coerce(v, from, 128, frac);
                    return Ok(self.call_exact_to_f32(w, frac, signed));
                }
                let w = self.coerce(v, from, 64, frac);
                let f = match from {
                    Rep::Exact {
                        signed: false,
                        bits: 64,
                        ..
                    } => self.b.ins().fcvt_from_uint(types::F32, w),
                    _ => self.b.ins().fcvt_from_sint(types::F32, w),
                };
                // Scaling by a power of two is exact in the normal range (checked by type
                // inference), so this is the correctly rounded value.
                if frac == 0 {
                    return Ok(f);
                }
                let scale = self
                    .b
                    .ins()
                    .f32const(f32::from_bits(((127 - frac) as u32) << 23));
                Ok(self.b.ins().fmul(f, scale))
            }
            (
                Rep::Exact {
                    bits, frac, signed, ..
                },
                ScalarType::F64,
            ) => {
                // Scaling by 2^-frac below is exact only while 2^-frac is a normal f64.
                if bits == 128 || !(-1023..=1022).contains(&frac) {
                    let w = self.coerce(v, from, 128, frac);
                    return Ok(self.call_exact_to_f64(w, frac, signed));
                }
                let w = self.coerce(v, from, 64, frac);
                let f = match from {
                    Rep::Exact {
                        signed: false,
                        bits: 64,
                        ..
                    } => self.b.ins().fcvt_from_uint(types::F64, w),
                    _ => self.b.ins().fcvt_from_sint(types::F64, w),
                };
                // As for f32: the scaling is exact in the normal range.
                if frac == 0 {
                    return Ok(f);
                }
                let scale = self
                    .b
                    .ins()
                    .f64const(f64::from_bits(((1023 - frac) as u64) << 52));
                Ok(self.b.ins().fmul(f, scale))
            }
            (Rep::Exact { .. }, ScalarType::Bin) => {
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
                let neg = if is_signed(from) {
                    neg
                } else {
                    self.b.ins().iconst(types::I8, 0)
                };
                let m1 = self.b.ins().iconst(types::I8, -1);
                let p1 = self.b.ins().iconst(types::I8, 1);
                Ok(self.b.ins().select(neg, m1, p1))
            }
            (Rep::Exact { .. }, ScalarType::Tern) => {
                let cc_neg = if is_signed(from) {
                    IntCC::SignedLessThan
                } else {
                    IntCC::UnsignedLessThan
                };
                let cc_pos = if is_signed(from) {
                    IntCC::SignedGreaterThan
                } else {
                    IntCC::UnsignedGreaterThan
                };
                let neg = self.b.ins().icmp_imm_s(cc_neg, v, 0);
                let pos = self.b.ins().icmp_imm_s(cc_pos, v, 0);
                Ok(self.b.ins().isub(pos, neg))
            }
            (Rep::Exact { .. }, ScalarType::Int(t)) => {
                self.convert_to_int(v, from, range, t.width, t.signed, to_rep)
            }
            (Rep::Exact { .. }, ScalarType::Fixed(t)) => {
                self.convert_to_fixed(v, from, range, t, to_rep)
            }
        }
    }

    /// ap_int conversion: truncate toward zero, then wrap to W bits.
    fn convert_to_int(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        w: u32,
        signed: bool,
        to: Rep,
    ) -> R<CValue> {
        let Some(p) = plan_int(from, range, w, signed) else {
            return Ok(self.call_convert(
                v,
                from,
                &ScalarType::Int(kiln_numeric::IntType::new(w, signed)),
                to,
            ));
        };
        let x = self.coerce(v, from, p.cb, p.src_frac);
        let r = Lane {
            b: &mut self.b,
            ty: int_ty(p.cb),
        }
        .apply_int(x, &p);
        let wrep = Rep::full(p.cb, true, 0);
        Ok(self.fit(r, wrep, to))
    }

    /// ap_fixed conversion: quantize with Q, then O with N saturation bits.
    fn convert_to_fixed(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        t: &kiln_numeric::FixedType,
        to: Rep,
    ) -> R<CValue> {
        let Some(p) = plan_fixed(from, range, t) else {
            return Ok(self.call_convert(v, from, &ScalarType::Fixed(*t), to));
        };
        let x = self.coerce(v, from, p.cb, p.src_frac);
        let r = Lane {
            b: &mut self.b,
            ty: int_ty(p.cb),
        }
        .apply_fixed(x, &p);
        let wrep = Rep::full(p.cb, true, t.frac_bits());
        Ok(self.fit(r, wrep, to))
    }
}

/// Whether converting a value of `from` in `range` to `to` may overflow an `int` or
/// `fixed` type (what `--check-overflow` counts; conversions proved safe are not).
fn may_overflow(from: Rep, range: Option<&Interval>, to: &ScalarType) -> bool {
    match (from, to) {
        (Rep::F32 | Rep::F64, ScalarType::Int(_) | ScalarType::Fixed(_)) => true,
        (Rep::Exact { .. }, ScalarType::Int(t)) => {
            plan_int(from, range, t.width, t.signed).is_none_or(|p| p.wrap)
        }
        (Rep::Exact { .. }, ScalarType::Fixed(t)) => {
            plan_fixed(from, range, t).is_none_or(|p| p.overflow)
        }
        _ => false,
    }
}

fn is_signed(r: Rep) -> bool {
    matches!(r, Rep::Exact { signed: true, .. })
}
