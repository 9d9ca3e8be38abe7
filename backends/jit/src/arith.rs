//! The conversion kernels of exact values (ap_int / ap_fixed assignment semantics), written
//! once for scalar and SIMD code.
//!
//! A conversion is planned from the source representation, its value range and the target
//! type ([`plan_fixed`], [`plan_int`]): the plan says in which container to work and which
//! steps the range leaves necessary (quantization, overflow handling). Then [`Lane`] emits
//! the steps on a value already moved to the plan's container, for a scalar integer type or
//! a vector of such lanes alike: comparisons yield `i8` 0/1 on scalars and all-ones lane
//! masks on vectors, and `Lane` hides that difference.

use crate::layout::container;
use crate::rep::Rep;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Type, Value as CValue};
use cranelift_frontend::FunctionBuilder;
use kiln_numeric::{FixedType, Fx, Interval, Overflow, Quant, ScalarType};

/// How to convert an exact value to a `fixed` type without the helper.
#[derive(Clone, Debug)]
pub struct FixedPlan {
    /// The working container (bits).
    pub cb: u32,
    /// The source's fractional bits (the value enters the container at these).
    pub src_frac: i32,
    pub src_signed: bool,
    /// Low bits to drop with the target's rounding mode.
    pub drop_bits: Option<i64>,
    /// Left shift that aligns a coarser source to the target's LSB.
    pub shift_up: i64,
    /// Whether the value can leave the target's range (then the overflow mode applies).
    pub overflow: bool,
    pub target: FixedType,
}

impl FixedPlan {
    /// Whether the conversion changes no value (only the representation).
    pub fn exact(&self) -> bool {
        self.drop_bits.is_none() && !self.overflow
    }
}

/// How to convert an exact value to an `int` type without the helper.
#[derive(Clone, Debug)]
pub struct IntPlan {
    pub cb: u32,
    /// The fractional bits the value enters the container at (the source's).
    pub src_frac: i32,
    pub src_signed: bool,
    /// The source's fractional bits and significant width.
    pub frac: i32,
    pub width: u32,
    /// Whether the whole part can leave the target's range (then it wraps).
    pub wrap: bool,
    pub w: u32,
    pub signed: bool,
}

/// `x` quantized to `frac` bits with mode `q` (no overflow handling).
fn quantize_only(x: &Fx, frac: i32, q: Quant) -> Fx {
    let t = FixedType {
        width: 1000,
        int_bits: 1000 - frac,
        signed: true,
        quant: q,
        overflow: Overflow::Wrap,
        sat_bits: 0,
    };
    kiln_numeric::to_fixed(x, &t).value
}

/// The plan for `from` (with values in `range`) → `t`, or `None` when the helper must do
/// it (overflow in the `wrap_sm`, saturation-bit or 1-bit `sat_sym` modes, or more than
/// 128 bits of work).
pub fn plan_fixed(from: Rep, range: Option<&Interval>, t: &FixedType) -> Option<FixedPlan> {
    let Rep::Exact {
        width: fw,
        frac: ff,
        signed,
        ..
    } = from
    else {
        return None;
    };
    let tf = t.frac_bits();
    let overflow = match range {
        Some(r) => {
            // Quantization is monotonic: the quantized range is [q(lo), q(hi)].
            let ql = quantize_only(&r.lo, tf, t.quant);
            let qh = quantize_only(&r.hi, tf, t.quant);
            let (min, max) = (t.min_value(), t.max_value());
            let sym_edge = t.overflow == Overflow::SatSym && t.signed && ql <= min;
            ql < min || qh > max || sym_edge
        }
        None => true,
    };
    let intricate = matches!(t.overflow, Overflow::WrapSm)
        || (t.overflow == Overflow::Wrap && t.sat_bits > 0)
        || (t.overflow == Overflow::SatSym && t.signed && t.width == 1);
    if overflow && intricate {
        return None;
    }
    // The source shifted to the target's LSB, plus room for the rounding increment and
    // for the target's bounds.
    let shift_up = (tf - ff).max(0);
    let work_w = (fw as i32 + shift_up + 2).max(t.width as i32 + 2) as u32;
    let cb = container(work_w)?;
    let drop_bits = (ff > tf).then_some((ff - tf) as i64);
    if drop_bits.is_some_and(|d| d >= cb as i64 - 1) {
        return None;
    }
    Some(FixedPlan {
        cb,
        src_frac: ff,
        src_signed: signed,
        drop_bits,
        shift_up: shift_up as i64,
        overflow,
        target: *t,
    })
}

/// The plan for `from` (with values in `range`) → `int<w>`/`uint<w>`, or `None` when the
/// work needs more than 128 bits.
pub fn plan_int(from: Rep, range: Option<&Interval>, w: u32, signed: bool) -> Option<IntPlan> {
    let Rep::Exact {
        width: fw,
        frac: ff,
        signed: fs,
        ..
    } = from
    else {
        return None;
    };
    // Room for the whole part (and the truncation's increment), and for the target's
    // width (wrapping works in it).
    let cb = container(((fw as i32 + (-ff).max(0) + 2) as u32).max(w))?;
    let wrap = !range.is_some_and(|r| {
        let t = ScalarType::Int(kiln_numeric::IntType::new(w, signed));
        let (lo, hi) = t.value_bounds().expect("int");
        Fx::new(r.lo.trunc_to_int(), 0) >= lo && Fx::new(r.hi.trunc_to_int(), 0) <= hi
    });
    Some(IntPlan {
        cb,
        src_frac: ff,
        src_signed: fs,
        frac: ff,
        width: fw,
        wrap,
        w,
        signed,
    })
}

/// `min(x, y)` or `max(x, y)`, signed or unsigned, on any integer type (x86 has no
/// 128-bit min/max: a compare and a select there).
pub fn min_max(b: &mut FunctionBuilder, min: bool, signed: bool, x: CValue, y: CValue) -> CValue {
    if b.func.dfg.value_type(x) == types::I128 {
        let cc = match (min, signed) {
            (true, true) => IntCC::SignedLessThan,
            (true, false) => IntCC::UnsignedLessThan,
            (false, true) => IntCC::SignedGreaterThan,
            (false, false) => IntCC::UnsignedGreaterThan,
        };
        // As a mask, not a `select`: cranelift's optimizer would turn that back into the
        // 128-bit min/max its x86 back end cannot lower.
        let c = b.ins().icmp(cc, x, y);
        let c = b.ins().uextend(types::I128, c);
        let mask = b.ins().ineg(c);
        let diff = b.ins().bxor(x, y);
        let pick = b.ins().band(diff, mask);
        return b.ins().bxor(y, pick);
    }
    match (min, signed) {
        (true, true) => b.ins().smin(x, y),
        (true, false) => b.ins().umin(x, y),
        (false, true) => b.ins().smax(x, y),
        (false, false) => b.ins().umax(x, y),
    }
}

/// Emits integer steps on values of one type: a scalar integer or a vector of integer
/// lanes.
pub struct Lane<'f, 'b> {
    pub b: &'f mut FunctionBuilder<'b>,
    pub ty: Type,
}

impl Lane<'_, '_> {
    pub fn bits(&self) -> u32 {
        self.ty.lane_bits()
    }

    fn vector(&self) -> bool {
        self.ty.is_vector()
    }

    /// A constant of the lane type (splat on vectors).
    pub fn konst(&mut self, v: i128) -> CValue {
        let lane = self.ty.lane_type();
        let s = if lane == types::I128 {
            let lo = self.b.ins().iconst(types::I64, v as i64);
            let hi = self.b.ins().iconst(types::I64, (v >> 64) as i64);
            self.b.ins().iconcat(lo, hi)
        } else {
            self.b.ins().iconst(lane, v as i64)
        };
        if self.vector() {
            self.b.ins().splat(self.ty, s)
        } else {
            s
        }
    }

    /// A condition: `i8` 0/1 on scalars, a lane mask on vectors.
    pub fn cmp(&mut self, cc: IntCC, x: CValue, y: CValue) -> CValue {
        self.b.ins().icmp(cc, x, y)
    }

    pub fn cmp_k(&mut self, cc: IntCC, x: CValue, k: i128) -> CValue {
        let k = self.konst(k);
        self.cmp(cc, x, k)
    }

    /// The condition that never holds.
    pub fn never(&mut self) -> CValue {
        if self.vector() {
            self.konst(0)
        } else {
            self.b.ins().iconst(types::I8, 0)
        }
    }

    pub fn not(&mut self, c: CValue) -> CValue {
        if self.vector() {
            self.b.ins().bnot(c)
        } else {
            self.b.ins().bxor_imm_s(c, 1)
        }
    }

    /// `x + (c ? 1 : 0)`.
    pub fn add_if(&mut self, x: CValue, c: CValue) -> CValue {
        if self.vector() {
            // A true lane is -1.
            self.b.ins().isub(x, c)
        } else {
            let c = if self.ty == types::I8 {
                c
            } else {
                self.b.ins().uextend(self.ty, c)
            };
            self.b.ins().iadd(x, c)
        }
    }

    /// `c ? a : b`.
    pub fn sel(&mut self, c: CValue, a: CValue, b: CValue) -> CValue {
        if self.vector() {
            self.b.ins().bitselect(c, a, b)
        } else {
            self.b.ins().select(c, a, b)
        }
    }

    /// The lowest bit of `x` as a condition.
    fn low_bit(&mut self, x: CValue) -> CValue {
        let one = self.konst(1);
        let lsb = self.b.ins().band(x, one);
        if self.vector() {
            self.cmp_k(IntCC::NotEqual, lsb, 0)
        } else if self.ty == types::I8 {
            lsb
        } else {
            self.b.ins().ireduce(types::I8, lsb)
        }
    }

    pub fn shr(&mut self, x: CValue, d: i64, signed: bool) -> CValue {
        if signed {
            self.b.ins().sshr_imm_s(x, d)
        } else {
            self.b.ins().ushr_imm_s(x, d)
        }
    }

    /// Keeps the low `w` bits of `x`, sign- or zero-extended.
    pub fn wrap_bits(&mut self, x: CValue, w: u32, signed: bool) -> CValue {
        let cb = self.bits();
        if w >= cb {
            return x;
        }
        let sh = (cb - w) as i64;
        let up = self.b.ins().ishl_imm_s(x, sh);
        self.shr(up, sh, signed)
    }

    /// `x * t` for `t` in {-1, 0, +1} (a `bin` or `tern` factor) as selects: the sign
    /// applied, then zero where `t` is (`t_zero`: whether it can be).
    pub fn times_unit(&mut self, x: CValue, t: CValue, t_zero: bool) -> CValue {
        let neg = self.cmp_k(IntCC::SignedLessThan, t, 0);
        let r = if self.vector() {
            // A true lane is -1: (x ^ m) - m negates where m is set.
            let flipped = self.b.ins().bxor(x, neg);
            self.b.ins().isub(flipped, neg)
        } else {
            let minus = self.b.ins().ineg(x);
            self.b.ins().select(neg, minus, x)
        };
        if !t_zero {
            return r;
        }
        let zero = self.cmp_k(IntCC::Equal, t, 0);
        let z = self.konst(0);
        self.sel(zero, z, r)
    }

    /// Drops `d` low bits of `x`, rounding with mode `q`.
    pub fn quantize(&mut self, x: CValue, d: i64, q: Quant, signed: bool) -> CValue {
        let floor = self.shr(x, d, signed);
        if q == Quant::Trn {
            return floor;
        }
        if q == Quant::Rnd {
            let half = self.konst(1i128 << (d - 1));
            let y = self.b.ins().iadd(x, half);
            return self.shr(y, d, signed);
        }
        let mask = self.konst((1i128 << d) - 1);
        let rem = self.b.ins().band(x, mask);
        let neg = if signed {
            self.cmp_k(IntCC::SignedLessThan, x, 0)
        } else {
            self.never()
        };
        let inc = if q == Quant::TrnZero {
            let has = self.cmp_k(IntCC::NotEqual, rem, 0);
            self.b.ins().band(has, neg)
        } else {
            let half = 1i128 << (d - 1);
            let above = self.cmp_k(IntCC::UnsignedGreaterThan, rem, half);
            let tie = self.cmp_k(IntCC::Equal, rem, half);
            let tie_up = match q {
                Quant::RndZero => neg,
                Quant::RndMinInf => self.never(),
                Quant::RndInf => self.not(neg),
                Quant::RndConv => self.low_bit(floor),
                _ => unreachable!("handled above"),
            };
            let t = self.b.ins().band(tie, tie_up);
            self.b.ins().bor(above, t)
        };
        self.add_if(floor, inc)
    }

    /// Applies the overflow mode (wrap with N = 0, sat, sat_zero, sat_sym).
    pub fn overflow(&mut self, q: CValue, t: &FixedType) -> CValue {
        let frac = t.frac_bits();
        let lo = t.min_value().mant_at(frac).to_i128().expect("≤ 128 bits");
        let hi = t.max_value().mant_at(frac).to_i128().expect("≤ 128 bits");
        match t.overflow {
            Overflow::Wrap => self.wrap_bits(q, t.width, t.signed),
            Overflow::Sat | Overflow::SatSym => {
                let lo = match t.overflow {
                    Overflow::SatSym if t.signed => -hi,
                    _ => lo,
                };
                let l = self.konst(lo);
                let h = self.konst(hi);
                let q = min_max(self.b, false, true, q, l);
                min_max(self.b, true, true, q, h)
            }
            Overflow::SatZero => {
                let below = self.cmp_k(IntCC::SignedLessThan, q, lo);
                let above = self.cmp_k(IntCC::SignedGreaterThan, q, hi);
                let out = self.b.ins().bor(below, above);
                let zero = self.konst(0);
                self.sel(out, zero, q)
            }
            Overflow::WrapSm => unreachable!("planned for the helper"),
        }
    }

    /// The fixed conversion of `x` (in the plan's container at the source's fractional
    /// bits); the result has the target's fractional bits.
    pub fn apply_fixed(&mut self, x: CValue, p: &FixedPlan) -> CValue {
        let q = match p.drop_bits {
            Some(d) => self.quantize(x, d, p.target.quant, p.src_signed),
            None if p.shift_up > 0 => self.b.ins().ishl_imm_s(x, p.shift_up),
            None => x,
        };
        if p.overflow {
            self.overflow(q, &p.target)
        } else {
            q
        }
    }

    /// The int conversion of `x` (in the plan's container at `p.src_frac`): truncation
    /// toward zero, then wrapping to the target's width.
    pub fn apply_int(&mut self, x: CValue, p: &IntPlan) -> CValue {
        let x = if p.frac < 0 {
            self.b.ins().ishl_imm_s(x, -p.frac as i64)
        } else {
            x
        };
        let whole = if p.frac >= p.width as i32 {
            // |value| < 1: truncation toward zero gives 0.
            self.konst(0)
        } else if p.frac > 0 {
            let d = p.frac as i64;
            let floor = self.shr(x, d, p.src_signed);
            if p.src_signed {
                // Negative values with a fraction move up by one (toward zero).
                let mask = self.konst((1i128 << d) - 1);
                let rem = self.b.ins().band(x, mask);
                let has = self.cmp_k(IntCC::NotEqual, rem, 0);
                let neg = self.cmp_k(IntCC::SignedLessThan, x, 0);
                let inc = self.b.ins().band(has, neg);
                self.add_if(floor, inc)
            } else {
                floor
            }
        } else {
            x
        };
        if p.wrap {
            self.wrap_bits(whole, p.w, p.signed)
        } else {
            whole
        }
    }
}
