//! Conversions in lanes (assignment semantics, as codegen/convert.rs): to bool, f32, bin,
//! tern, and to int and fixed types with the conversion kernels of arith.rs.

use crate::arith::{plan_fixed, plan_int, Lane};
use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{abandon, Emitter, VR};
use crate::codegen::vector::value::{local_rep, vty, V};
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use kiln_numeric::{Fx, Interval, ScalarType};
use kiln_passes::ir::*;

impl Emitter<'_> {
    /// `convert(v, to)` (assignment semantics), in lanes of `to`'s representation.
    pub(crate) fn convert(
        &mut self,
        g: &mut Gen,
        v: V,
        range: Option<&Interval>,
        to: &ScalarType,
        at: ExprId,
    ) -> VR<V> {
        let to_rep = local_rep(to);
        match v {
            V::U(s, rep) => Ok(V::U(g.convert(s, rep, range, to, at)?, to_rep)),
            V::M(regs, b) => match to {
                ScalarType::Bool => Ok(V::M(regs, b)),
                ScalarType::F32 | ScalarType::F64 => abandon("bool to a float"),
                _ => {
                    let ints = self.mask_to_int(g, regs, b);
                    let r = Rep::Exact {
                        bits: b,
                        width: 1,
                        signed: false,
                        frac: 0,
                    };
                    let range = Interval::new(Fx::zero(), Fx::int(1));
                    self.convert(g, V::L(ints, r), Some(&range), to, at)
                }
            },
            V::L(regs, Rep::F32) => match to {
                ScalarType::F32 => Ok(V::L(regs, Rep::F32)),
                ScalarType::Bool => {
                    let z = g.b.ins().f32const(0.0);
                    let z = g.b.ins().splat(types::F32X4, z);
                    Ok(V::M(
                        regs.into_iter()
                            .map(|r| g.b.ins().fcmp(FloatCC::NotEqual, r, z))
                            .collect(),
                        32,
                    ))
                }
                _ => abandon("f32 to an exact type"),
            },
            V::L(_, Rep::F64) => abandon("f64 lanes"),
            V::L(regs, from @ Rep::Exact { bits: fb, .. }) => match to {
                ScalarType::Bool => {
                    let z = g.b.ins().iconst(int_ty(fb), 0);
                    let z = g.b.ins().splat(vty(fb, false), z);
                    Ok(V::M(
                        regs.into_iter()
                            .map(|r| g.b.ins().icmp(IntCC::NotEqual, r, z))
                            .collect(),
                        fb,
                    ))
                }
                ScalarType::F32 => self.exact_to_f32(g, regs, from),
                ScalarType::F64 => abandon("an exact value to f64"),
                ScalarType::Bin | ScalarType::Tern => self.exact_to_unit(g, regs, from, to),
                ScalarType::Int(t) => {
                    let Some(p) = plan_int(from, range, t.width, t.signed) else {
                        return abandon("an int conversion needing the helper");
                    };
                    let (cb, src_frac) = (p.cb, p.src_frac);
                    self.per_lane(g, regs, from, cb, src_frac, 0, to_rep, &mut |l, x| {
                        l.apply_int(x, &p)
                    })
                }
                ScalarType::Fixed(t) => {
                    let Some(p) = plan_fixed(from, range, t) else {
                        return abandon("a fixed conversion needing the helper");
                    };
                    let (cb, src_frac) = (p.cb, p.src_frac);
                    self.per_lane(
                        g,
                        regs,
                        from,
                        cb,
                        src_frac,
                        t.frac_bits(),
                        to_rep,
                        &mut |l, x| l.apply_fixed(x, &p),
                    )
                }
            },
            V::L(_, Rep::Bool) => abandon("bool lanes outside masks"),
        }
    }

    /// Exact lanes to f32 (as the scalar code: `fcvt` of the mantissa, then a scale by a
    /// normal power of two); wider values have no SIMD form.
    fn exact_to_f32(&mut self, g: &mut Gen, regs: Vec<CValue>, from: Rep) -> VR<V> {
        let Rep::Exact {
            signed,
            frac: ff,
            width: fw,
            ..
        } = from
        else {
            return abandon("a conversion from another kind");
        };
        if !(-127..=126).contains(&ff) || fw > 32 || (fw == 32 && !signed) {
            return abandon("a wide value to f32");
        }
        let r = self.coerce(g, regs, from, 32, ff)?;
        let f: Vec<CValue> = r
            .into_iter()
            .map(|r| g.b.ins().fcvt_from_sint(types::F32X4, r))
            .collect();
        if ff == 0 {
            return Ok(V::L(f, Rep::F32));
        }
        let scale =
            g.b.ins()
                .f32const(f32::from_bits(((127 - ff) as u32) << 23));
        let scale = g.b.ins().splat(types::F32X4, scale);
        Ok(V::L(
            f.into_iter().map(|r| g.b.ins().fmul(r, scale)).collect(),
            Rep::F32,
        ))
    }

    /// Exact lanes to `bin` (the sign: -1 or +1) or `tern` (-1, 0, +1).
    fn exact_to_unit(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: Rep,
        to: &ScalarType,
    ) -> VR<V> {
        let Rep::Exact {
            bits: fb, signed, ..
        } = from
        else {
            return abandon("a conversion from another kind");
        };
        let zero = g.b.ins().iconst(int_ty(fb), 0);
        let zero = g.b.ins().splat(vty(fb, false), zero);
        let neg: Vec<CValue> = if signed {
            regs.iter()
                .map(|&r| g.b.ins().icmp(IntCC::SignedLessThan, r, zero))
                .collect()
        } else {
            vec![zero; regs.len()]
        };
        let neg = self.mask_bits(g, neg, fb, 8)?;
        let out = if *to == ScalarType::Bin {
            let m1 = g.b.ins().iconst(types::I8, -1);
            let m1 = g.b.ins().splat(types::I8X16, m1);
            let p1 = g.b.ins().iconst(types::I8, 1);
            let p1 = g.b.ins().splat(types::I8X16, p1);
            neg.into_iter()
                .map(|n| g.b.ins().bitselect(n, m1, p1))
                .collect()
        } else {
            let cc = if signed {
                IntCC::SignedGreaterThan
            } else {
                IntCC::UnsignedGreaterThan
            };
            let pos: Vec<CValue> = regs.iter().map(|&r| g.b.ins().icmp(cc, r, zero)).collect();
            let pos = self.mask_bits(g, pos, fb, 8)?;
            // Masks are -1: neg - pos = (pos ? 1 : 0) - (neg ? 1 : 0).
            neg.into_iter()
                .zip(pos)
                .map(|(n, p)| g.b.ins().isub(n, p))
                .collect()
        };
        Ok(V::L(out, local_rep(to)))
    }

    /// Runs a conversion kernel on every register: the lanes are moved to `cb`-bit lanes
    /// at `src_frac`, converted (the result has `out_frac` fractional bits), then moved
    /// to `to`.
    #[allow(clippy::too_many_arguments)]
    fn per_lane(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: Rep,
        cb: u32,
        src_frac: i32,
        out_frac: i32,
        to: Rep,
        kernel: &mut dyn FnMut(&mut Lane, CValue) -> CValue,
    ) -> VR<V> {
        if cb > 64 {
            return abandon("a conversion wider than 64 bits");
        }
        let x = self.coerce(g, regs, from, cb, src_frac)?;
        let ty = vty(cb, false);
        let r: Vec<CValue> = x
            .into_iter()
            .map(|x| kernel(&mut Lane { b: &mut g.b, ty }, x))
            .collect();
        let wrep = Rep::full(cb, true, out_frac);
        let Rep::Exact { bits, frac, .. } = to else {
            return abandon("a conversion to another kind");
        };
        Ok(V::L(self.coerce(g, r, wrep, bits, frac)?, to))
    }
}
