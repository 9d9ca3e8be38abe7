//! Lane plumbing: moving exact lanes between widths and fractional bits, splats, and
//! lane masks of bools.

use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{abandon, Emitter, VR};
use crate::codegen::vector::value::{lanes_flags, rep_bits, rep_vty, vty, V};
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::{types, ConstantData, InstBuilder, Type, Value as CValue};

impl Emitter<'_> {
    /// Lanes of an exact value: `regs` (of `from`) in `bits`-bit lanes at `frac`.
    pub(crate) fn coerce(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: Rep,
        bits: u32,
        frac: i32,
    ) -> VR<Vec<CValue>> {
        let Rep::Exact {
            bits: fb,
            signed,
            frac: ff,
            ..
        } = from
        else {
            return abandon("coerce of a non-exact value");
        };
        let mut regs = regs;
        if frac < ff {
            // Lower the fractional bits first, in the source lanes (exact, as in
            // Gen::coerce).
            let d = ((ff - frac) as i64).min(fb as i64 - 1);
            regs = regs
                .into_iter()
                .map(|r| {
                    if signed {
                        g.b.ins().sshr_imm_s(r, d)
                    } else {
                        g.b.ins().ushr_imm_s(r, d)
                    }
                })
                .collect();
        }
        let mut b = fb;
        while b < bits {
            regs = self.widen(g, regs, b, signed);
            b *= 2;
        }
        while b > bits {
            regs = self.narrow(g, regs, b);
            b /= 2;
        }
        if frac > ff {
            // Modulo 2^bits: a shift by the width or more leaves 0.
            let up = (frac - ff) as i64;
            regs = regs
                .into_iter()
                .map(|r| {
                    if up >= bits as i64 {
                        g.b.ins().bxor(r, r)
                    } else {
                        g.b.ins().ishl_imm_s(r, up)
                    }
                })
                .collect();
        }
        Ok(regs)
    }

    /// `b`-bit lanes → `2b`-bit lanes, extending by sign or zero.
    fn widen(&mut self, g: &mut Gen, regs: Vec<CValue>, b: u32, signed: bool) -> Vec<CValue> {
        let full = self.vf() * b >= 128;
        let mut out = Vec::with_capacity(regs.len() * 2);
        for r in regs {
            out.push(if signed {
                g.b.ins().swiden_low(r)
            } else {
                g.b.ins().uwiden_low(r)
            });
            if full {
                out.push(if signed {
                    g.b.ins().swiden_high(r)
                } else {
                    g.b.ins().uwiden_high(r)
                });
            }
        }
        out
    }

    /// `b`-bit lanes → `b/2`-bit lanes, keeping the low half of each (modular).
    fn narrow(&mut self, g: &mut Gen, regs: Vec<CValue>, b: u32) -> Vec<CValue> {
        let half = b / 2;
        let lane_bytes = (b / 8) as usize;
        let n = 16 / lane_bytes;
        let mut mask = Vec::with_capacity(16);
        for i in 0..2 * n {
            let base = (i / n) * 16 + (i % n) * lane_bytes;
            mask.extend((0..lane_bytes / 2).map(|k| (base + k) as u8));
        }
        let imm = g.b.func.dfg.immediates.push(ConstantData::from(mask));
        let out_ty = vty(half, false);
        let bytes: Vec<CValue> = regs
            .iter()
            .map(|&r| g.b.ins().bitcast(types::I8X16, lanes_flags(), r))
            .collect();
        let mut out = Vec::new();
        for pair in bytes.chunks(2) {
            let (a, b2) = (pair[0], *pair.get(1).unwrap_or(&pair[0]));
            let s = g.b.ins().shuffle(a, b2, imm);
            out.push(g.b.ins().bitcast(out_ty, lanes_flags(), s));
        }
        out.truncate(self.nregs(half));
        out
    }

    fn splat(&mut self, g: &mut Gen, s: CValue, ty: Type, n: usize) -> Vec<CValue> {
        let v = g.b.ins().splat(ty, s);
        vec![v; n]
    }

    /// The lanes of `v` in representation `rep` (exact or f32).
    pub(crate) fn lanes_of(&mut self, g: &mut Gen, v: V, rep: Rep) -> VR<Vec<CValue>> {
        let n = self.nregs(rep_bits(rep));
        match (v, rep) {
            (V::U(s, from), Rep::Exact { .. }) => {
                let s = g.fit(s, from, rep);
                Ok(self.splat(g, s, rep_vty(rep), n))
            }
            (V::U(s, Rep::F32), Rep::F32) => Ok(self.splat(g, s, types::F32X4, n)),
            (V::L(regs, from @ Rep::Exact { .. }), Rep::Exact { bits, frac, .. }) => {
                self.coerce(g, regs, from, bits, frac)
            }
            (V::L(regs, Rep::F32), Rep::F32) => Ok(regs),
            (V::M(regs, b), Rep::Bool) => self.mask_bits(g, regs, b, 8),
            (v @ V::U(_, Rep::Bool), Rep::Bool) => self.mask_of(g, v, 8),
            _ => abandon("a value of another kind"),
        }
    }

    /// Masks of `bits`-bit lanes for a bool value.
    pub(crate) fn mask_of(&mut self, g: &mut Gen, v: V, bits: u32) -> VR<Vec<CValue>> {
        match v {
            V::M(regs, b) => self.mask_bits(g, regs, b, bits),
            V::U(c, Rep::Bool) => {
                let lane = int_ty(bits);
                let w = if bits > 8 {
                    g.b.ins().uextend(lane, c)
                } else {
                    c
                };
                let m = g.b.ins().ineg(w);
                Ok(self.splat(g, m, vty(bits, false), self.nregs(bits)))
            }
            _ => abandon("a mask of a non-bool value"),
        }
    }

    pub(crate) fn mask_bits(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: u32,
        to: u32,
    ) -> VR<Vec<CValue>> {
        let r = Rep::full(from, true, 0);
        self.coerce(g, regs, r, to, 0)
    }

    /// `0/1` lanes of `bits` for masks.
    pub(crate) fn mask_to_int(&mut self, g: &mut Gen, regs: Vec<CValue>, bits: u32) -> Vec<CValue> {
        let one = g.b.ins().iconst(int_ty(bits), 1);
        let one = g.b.ins().splat(vty(bits, false), one);
        regs.into_iter().map(|r| g.b.ins().band(r, one)).collect()
    }

    pub(crate) fn bitselect(
        &mut self,
        g: &mut Gen,
        m: Vec<CValue>,
        t: Vec<CValue>,
        o: Vec<CValue>,
    ) -> Vec<CValue> {
        m.into_iter()
            .zip(t)
            .zip(o)
            .map(|((m, t), o)| g.b.ins().bitselect(m, t, o))
            .collect()
    }
}

/// `f` on each pair of registers of `p` and `q`.
pub(crate) fn zip_regs(
    g: &mut Gen,
    p: Vec<CValue>,
    q: Vec<CValue>,
    f: &mut dyn FnMut(&mut Gen, CValue, CValue) -> CValue,
) -> Vec<CValue> {
    p.into_iter().zip(q).map(|(p, q)| f(g, p, q)).collect()
}
