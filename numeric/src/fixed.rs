//! Exact binary values (`Fx`) and the conversions that round and overflow.
//!
//! Semantics (normative; docs/language.md restates them for users):
//! - Every arithmetic operation on exact numeric values is exact: `+`, `-`, `*`, negation,
//!   `<<` (multiplication by 2^n) and comparisons never lose information. The result type
//!   only has to be wide enough, which type inference guarantees.
//! - Information is lost only at a conversion to a declared type ([`to_fixed`],
//!   [`to_int`]), at `>>` and `//` (floored), at `/` (truncated toward zero at a stated
//!   precision, as `ap_fixed` division does), and in f32 arithmetic.
//! - [`to_fixed`] follows `ap_fixed_base::operator=` of the Vitis headers: first quantize
//!   to the target's LSB with its Q mode, then apply its O mode and N saturation bits to
//!   the quantized value. [`to_int`] follows the `ap_int` constructor from `ap_fixed`:
//!   truncate toward zero (as C does for double to int), then wrap.
//!
//! The conformance suite in numeric/conformance checks all of this against g++ and the
//! real headers.

use crate::bigint::Int;
use crate::types::{FixedType, IntType, Overflow, Quant};
use std::cmp::Ordering;
use std::fmt;

/// An exact binary number: `mant * 2^-frac`.
///
/// Values produced by kiln's operations always carry the fractional-bit count of their
/// static type, so two values of one type compare and combine without rescaling.
/// Equality and hashing are by value: `1 * 2^-1 == 2 * 2^-2`.
#[derive(Clone, Debug, Default)]
pub struct Fx {
    pub mant: Int,
    pub frac: i32,
}

/// The result of a conversion to a declared type, with what it cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    pub value: Fx,
    /// Bits below the target's LSB were dropped (so the value may have changed).
    pub rounded: bool,
    /// The quantized value did not fit and the overflow mode changed it.
    pub overflowed: bool,
    /// When `overflowed`: the value after quantization and before the overflow mode,
    /// which did not fit (for run-time overflow reports).
    pub unfitted: Option<Fx>,
}

impl Fx {
    pub fn new(mant: Int, frac: i32) -> Fx {
        Fx { mant, frac }
    }

    pub fn int(v: i128) -> Fx {
        Fx::new(Int::from(v), 0)
    }

    pub fn zero() -> Fx {
        Fx::int(0)
    }

    pub fn is_zero(&self) -> bool {
        self.mant.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.mant.is_negative()
    }

    /// The mantissa of this value expressed with `frac` fractional bits; exact only when
    /// `frac >= self.frac` (otherwise the low bits are floored away).
    pub fn mant_at(&self, frac: i32) -> Int {
        if frac >= self.frac {
            self.mant.shl((frac - self.frac) as u32)
        } else {
            self.mant.shr_floor((self.frac - frac) as u32)
        }
    }

    /// The same value written with `frac` fractional bits, which must not drop bits.
    pub fn rescaled(&self, frac: i32) -> Fx {
        debug_assert!(frac >= self.frac || self.mant.low_bits((self.frac - frac) as u32).is_zero());
        Fx::new(self.mant_at(frac), frac)
    }

    pub fn add(&self, o: &Fx) -> Fx {
        let f = self.frac.max(o.frac);
        Fx::new(self.mant_at(f).add(&o.mant_at(f)), f)
    }

    pub fn sub(&self, o: &Fx) -> Fx {
        let f = self.frac.max(o.frac);
        Fx::new(self.mant_at(f).sub(&o.mant_at(f)), f)
    }

    pub fn mul(&self, o: &Fx) -> Fx {
        Fx::new(self.mant.mul(&o.mant), self.frac + o.frac)
    }

    pub fn neg(&self) -> Fx {
        Fx::new(self.mant.neg(), self.frac)
    }

    pub fn abs(&self) -> Fx {
        Fx::new(self.mant.abs(), self.frac)
    }

    /// `self * 2^n`, exactly, keeping the fractional-bit count.
    pub fn shl(&self, n: u32) -> Fx {
        Fx::new(self.mant.shl(n), self.frac)
    }

    /// `floor(self / 2^n)` to the LSB `2^-frac` (the operand type's): an arithmetic right
    /// shift of the mantissa at `frac` fractional bits. The LSB is explicit because the
    /// same value can be held at several scales.
    pub fn shr(&self, n: u32, frac: i32) -> Fx {
        Fx::new(self.mant_at(frac).shr_floor(n), frac)
    }

    /// `ap_fixed` division: the quotient truncated toward zero to `result_frac`
    /// fractional bits. `None` when the divisor is zero.
    pub fn div_trunc(&self, o: &Fx, result_frac: i32) -> Option<Fx> {
        if o.is_zero() {
            return None;
        }
        // q = self / o * 2^rf = (m1 * 2^-f1) / (m2 * 2^-f2) * 2^rf = m1/m2 * 2^(rf + f2 - f1)
        let k = result_frac + o.frac - self.frac;
        let (num, den) = if k >= 0 {
            (self.mant.shl(k as u32), o.mant.clone())
        } else {
            (self.mant.clone(), o.mant.shl((-k) as u32))
        };
        Some(Fx::new(num.div_trunc(&den), result_frac))
    }

    /// Floor division of two integers (both with zero fractional bits).
    pub fn div_floor(&self, o: &Fx) -> Option<Fx> {
        if o.is_zero() {
            return None;
        }
        let f = self.frac.max(o.frac);
        Some(Fx::new(self.mant_at(f).div_floor(&o.mant_at(f)), 0))
    }

    /// Floor modulo (sign of the divisor), with the fractional bits of the operands.
    pub fn mod_floor(&self, o: &Fx) -> Option<Fx> {
        if o.is_zero() {
            return None;
        }
        let f = self.frac.max(o.frac);
        Some(Fx::new(self.mant_at(f).mod_floor(&o.mant_at(f)), f))
    }

    /// Whether the value is an integer.
    pub fn is_integer(&self) -> bool {
        self.frac <= 0 || self.mant.low_bits(self.frac as u32).is_zero()
    }

    /// The value rounded toward zero to an integer.
    pub fn trunc_to_int(&self) -> Int {
        if self.frac <= 0 {
            return self.mant.shl((-self.frac) as u32);
        }
        let floor = self.mant.shr_floor(self.frac as u32);
        if self.is_negative() && !self.is_integer() {
            floor.add(&Int::ONE)
        } else {
            floor
        }
    }

    /// The value as an integer if it is one and fits in `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        if self.is_integer() {
            self.trunc_to_int().to_i64()
        } else {
            None
        }
    }

    /// The nearest `f64`, for display and statistics only.
    pub fn to_f64_lossy(&self) -> f64 {
        crate::float::fx_to_f64(self)
    }

    /// The same value with trailing zero bits dropped (but never fewer than 0 fractional
    /// bits): the canonical form of a constant.
    pub fn normalized(&self) -> Fx {
        if self.mant.is_zero() {
            return Fx::zero();
        }
        let f = self.min_frac().max(0);
        if f >= self.frac {
            return self.clone();
        }
        Fx::new(self.mant_at(f), f)
    }

    /// The exact decimal form when it is short, else an approximation (`3.4028e38`,
    /// `-2^300`): for messages.
    pub fn short(&self) -> String {
        let exact = self.to_string();
        if exact.len() <= 24 {
            return exact;
        }
        let f = self.to_f64_lossy();
        if f.is_finite() && f != 0.0 {
            return format!("{f:.4e}");
        }
        let sign = if self.is_negative() { "-" } else { "" };
        format!(
            "{sign}2^{}",
            self.mant.bit_len() as i64 - 1 - self.frac as i64
        )
    }

    /// The smallest number of fractional bits that represents this value exactly.
    pub fn min_frac(&self) -> i32 {
        if self.mant.is_zero() {
            return i32::MIN;
        }
        let mut f = self.frac;
        let mut m = self.mant.clone();
        while !m.bit(0) {
            m = m.shr_floor(1);
            f -= 1;
        }
        f
    }
}

impl PartialEq for Fx {
    fn eq(&self, o: &Fx) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}

impl Eq for Fx {}

impl std::hash::Hash for Fx {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // Hash the canonical form: the fewest fractional bits that hold the value.
        if self.mant.is_zero() {
            0u8.hash(h);
            return;
        }
        let f = self.min_frac();
        self.mant_at(f).hash(h);
        f.hash(h);
    }
}

impl Ord for Fx {
    fn cmp(&self, o: &Fx) -> Ordering {
        let f = self.frac.max(o.frac);
        self.mant_at(f).cmp(&o.mant_at(f))
    }
}

impl PartialOrd for Fx {
    fn partial_cmp(&self, o: &Fx) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// Exact decimal form (every binary fraction has a finite decimal expansion).
impl fmt::Display for Fx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.frac <= 0 {
            return write!(f, "{}", self.mant.shl((-self.frac) as u32));
        }
        let neg = self.mant.is_negative();
        let mag = self.mant.abs();
        let fb = self.frac as u32;
        let int_part = mag.shr_floor(fb);
        let frac_part = mag.low_bits(fb);
        if frac_part.is_zero() {
            return write!(f, "{}{}", if neg { "-" } else { "" }, int_part);
        }
        // frac_part / 2^fb = frac_part * 5^fb / 10^fb
        let mut scaled = frac_part.to_big();
        for _ in 0..fb {
            scaled *= 5;
        }
        let mut digits = format!("{:0>width$}", scaled.to_string(), width = fb as usize);
        while digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{}{}.{}", if neg { "-" } else { "" }, int_part, digits)
    }
}

/// Converts `x` to the fixed-point type `t` (quantization, then overflow).
pub fn to_fixed(x: &Fx, t: &FixedType) -> Converted {
    let target_frac = t.frac_bits();
    let (q, floor, rounded) = quantize(x, target_frac, t.quant);
    let w = t.width;
    let (lo, hi) = if t.signed {
        (Int::pow2(w - 1).neg(), Int::pow2(w - 1).sub(&Int::ONE))
    } else {
        (Int::ZERO, Int::pow2(w).sub(&Int::ONE))
    };
    let over = q > hi;
    let mut under = q < lo;
    if t.overflow == Overflow::SatSym && t.signed && q == lo {
        // AP_SAT_SYM: the most negative code is not used; -2^(W-1) becomes -max.
        under = true;
    }
    let overflowed = over || under;
    let unfitted = overflowed.then(|| Fx::new(q.clone(), target_frac));
    let mant = if !overflowed {
        q
    } else {
        let neg = q.is_negative();
        match t.overflow {
            Overflow::Sat => {
                if over {
                    hi
                } else {
                    lo
                }
            }
            Overflow::SatZero => Int::ZERO,
            Overflow::SatSym => {
                if over {
                    hi
                } else if t.signed && w == 1 {
                    // The headers form -max as `min | 1`, which is `min` for one bit.
                    lo
                } else if t.signed {
                    hi.neg()
                } else {
                    Int::ZERO
                }
            }
            Overflow::Wrap => wrap_with_sat_bits(&q, t, neg),
            Overflow::WrapSm => wrap_sign_magnitude(&q, &floor, t, neg),
        }
    };
    Converted {
        value: Fx::new(mant, target_frac),
        rounded,
        overflowed,
        unfitted,
    }
}

/// Converts `x` to `int<W>`/`uint<W>`: truncation toward zero, then wrap.
pub fn to_int(x: &Fx, t: &IntType) -> Converted {
    let whole = x.trunc_to_int();
    let rounded = !x.is_integer();
    let mant = if t.signed {
        whole.wrap_signed(t.width)
    } else {
        whole.low_bits(t.width)
    };
    let overflowed = mant != whole;
    Converted {
        overflowed,
        value: Fx::new(mant, 0),
        rounded,
        unfitted: overflowed.then(|| Fx::new(whole, 0)),
    }
}

/// Quantizes `x` to `frac` fractional bits with mode `q`. Returns the quantized
/// mantissa, the floored mantissa (before any increment) and whether bits were dropped.
fn quantize(x: &Fx, frac: i32, q: Quant) -> (Int, Int, bool) {
    if x.frac <= frac {
        let m = x.mant_at(frac);
        return (m.clone(), m, false);
    }
    let sh = (x.frac - frac) as u32;
    let floor = x.mant.shr_floor(sh);
    let rem = x.mant.low_bits(sh); // x = floor + rem / 2^sh, 0 <= rem < 2^sh
    if rem.is_zero() {
        return (floor.clone(), floor, false);
    }
    let half = Int::pow2(sh - 1);
    let neg = x.mant.is_negative();
    let above_half = rem > half;
    let tie = rem == half;
    let up = match q {
        Quant::Trn => false,
        Quant::TrnZero => neg,
        Quant::Rnd => above_half || tie,
        Quant::RndZero => above_half || (tie && neg),
        Quant::RndMinInf => above_half,
        Quant::RndInf => above_half || (tie && !neg),
        Quant::RndConv => above_half || (tie && floor.bit(0)),
    };
    let q = if up {
        floor.add(&Int::ONE)
    } else {
        floor.clone()
    };
    (q, floor, true)
}

/// `AP_WRAP` with N saturation bits: keep the low W bits; when N > 0, force the N MSBs
/// as the headers do (sign bit from the source's sign, the rest its complement).
fn wrap_with_sat_bits(q: &Int, t: &FixedType, neg: bool) -> Int {
    let w = t.width;
    let n = t.sat_bits;
    let mut bits = q.low_bits(w);
    if n > 0 {
        if t.signed {
            bits = set_bit(&bits, w - 1, neg);
            for b in (w - n)..(w - 1) {
                bits = set_bit(&bits, b, !neg);
            }
        } else {
            for b in (w - n)..w {
                bits = set_bit(&bits, b, true);
            }
        }
    }
    from_bits(&bits, t)
}

/// `AP_WRAP_SM`: sign-magnitude wrap, following `overflow_adjust` of the headers.
fn wrap_sign_magnitude(q: &Int, floor: &Int, t: &FixedType, neg: bool) -> Int {
    let w = t.width;
    let n = t.sat_bits;
    let mut bits = q.low_bits(w);
    let ro = bits.bit(w - 1);
    if n == 0 {
        // lD: the first bit above the target's MSB, taken before rounding.
        let ld = floor.bit(w);
        if ld != ro {
            bits = Int::pow2(w).sub(&Int::ONE).bitxor(&bits);
            bits = set_bit(&bits, w - 1, ld);
        }
    } else {
        if n == 1 && neg != ro {
            bits = Int::pow2(w).sub(&Int::ONE).bitxor(&bits);
        } else if n > 1 {
            let lno = bits.bit(w - n);
            if lno == neg {
                bits = Int::pow2(w).sub(&Int::ONE).bitxor(&bits);
            }
            for b in (w - n)..(w - 1) {
                bits = set_bit(&bits, b, !neg);
            }
        }
        bits = set_bit(&bits, w - 1, neg);
    }
    from_bits(&bits, t)
}

fn set_bit(bits: &Int, b: u32, v: bool) -> Int {
    let mask = Int::pow2(b);
    if bits.bit(b) == v {
        bits.clone()
    } else if v {
        bits.add(&mask)
    } else {
        bits.sub(&mask)
    }
}

/// Interprets a W-bit pattern as a mantissa of type `t`.
fn from_bits(bits: &Int, t: &FixedType) -> Int {
    if t.signed {
        bits.wrap_signed(t.width)
    } else {
        bits.clone()
    }
}

/// The mantissa of a W-bit raw pattern of a signed or unsigned type.
pub fn mant_from_raw(raw: &Int, width: u32, signed: bool) -> Int {
    if signed {
        raw.wrap_signed(width)
    } else {
        raw.low_bits(width)
    }
}

/// The W-bit raw pattern (two's complement) of a mantissa.
pub fn raw_from_mant(mant: &Int, width: u32) -> Int {
    mant.low_bits(width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ScalarType;

    fn fixed(s: &str) -> FixedType {
        match s.parse::<ScalarType>().unwrap() {
            ScalarType::Fixed(t) => t,
            _ => panic!("not fixed: {s}"),
        }
    }

    fn from_f64(v: f64) -> Fx {
        crate::float::f64_to_fx(v).unwrap()
    }

    fn conv(v: f64, t: &str) -> String {
        to_fixed(&from_f64(v), &fixed(t)).value.to_string()
    }

    #[test]
    fn domain_facts() {
        assert_eq!(conv(3.3, "fixed<8,4>"), "3.25");
        assert_eq!(conv(9.0, "fixed<8,4>"), "-7");
        assert_eq!(conv(100.0, "fixed<8,4,rnd,sat>"), "7.9375");
        assert_eq!(conv(-2.71, "fixed<8,4,rnd,sat>"), "-2.6875");
        assert_eq!(conv(-100.0, "fixed<4,4,trn,sat_sym>"), "-7");
    }

    #[test]
    fn rounding_modes_on_ties() {
        // 2.5 and -2.5 to integers.
        let cases = [
            ("trn", "2", "-3"),
            ("trn_zero", "2", "-2"),
            ("rnd", "3", "-2"),
            ("rnd_zero", "2", "-2"),
            ("rnd_min_inf", "2", "-3"),
            ("rnd_inf", "3", "-3"),
            ("rnd_conv", "2", "-2"),
        ];
        for (q, pos, neg) in cases {
            let t = format!("fixed<8,8,{q},wrap>");
            assert_eq!(conv(2.5, &t), pos, "{q} on 2.5");
            assert_eq!(conv(-2.5, &t), neg, "{q} on -2.5");
        }
        assert_eq!(conv(3.5, "fixed<8,8,rnd_conv,wrap>"), "4");
    }

    #[test]
    fn int_conversion_truncates_toward_zero() {
        let t = IntType::new(8, true);
        assert_eq!(to_int(&from_f64(-7.5), &t).value.to_string(), "-7");
        assert_eq!(to_int(&from_f64(300.0), &t).value.to_string(), "44");
        assert!(to_int(&from_f64(300.0), &t).overflowed);
    }

    #[test]
    fn exact_ops() {
        let a = from_f64(1.5);
        let b = from_f64(-0.25);
        assert_eq!(a.add(&b).to_string(), "1.25");
        assert_eq!(a.mul(&b).to_string(), "-0.375");
        assert_eq!(a.shl(3).to_string(), "12");
        assert_eq!(b.shr(1, 2).to_string(), "-0.25");
        // The LSB decides: 2 >> 2 is 0.5 at 1/32, 0 at 1.
        assert_eq!(Fx::int(2).shr(2, 5).to_string(), "0.5");
        assert_eq!(Fx::int(2).shr(2, 0).to_string(), "0");
        assert_eq!(
            from_f64(7.0).div_floor(&Fx::int(-2)).unwrap().to_string(),
            "-4"
        );
        assert_eq!(
            Fx::int(7).div_trunc(&Fx::int(-2), 2).unwrap().to_string(),
            "-3.5"
        );
        assert_eq!(
            Fx::int(1).div_trunc(&Fx::int(3), 4).unwrap().to_string(),
            "0.3125"
        );
    }
}
