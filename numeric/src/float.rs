//! Conversions between exact binary values and IEEE 754 binary32 / binary64.
//!
//! - float → exact: every finite float is a binary fraction, so the conversion is exact;
//!   infinities and NaN have no exact value and are reported as such.
//! - exact → float: rounded to nearest, ties to even, with gradual underflow and overflow
//!   to infinity, which is what `ap_fixed::to_float()` computes for values in the normal
//!   range (the front end rejects conversions from types whose range leaves it).

use crate::bigint::Int;
use crate::fixed::Fx;

/// Layout of an IEEE binary format.
struct Format {
    mant_bits: u32,
    exp_bits: u32,
}

const F32: Format = Format {
    mant_bits: 23,
    exp_bits: 8,
};
const F64: Format = Format {
    mant_bits: 52,
    exp_bits: 11,
};

impl Format {
    fn bias(&self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }

    /// Exact value of the finite float with raw bits `bits`, or `None` for inf / NaN.
    fn decode(&self, bits: u64) -> Option<Fx> {
        let exp_mask = (1u64 << self.exp_bits) - 1;
        let sign = (bits >> (self.mant_bits + self.exp_bits)) & 1 == 1;
        let exp = ((bits >> self.mant_bits) & exp_mask) as i32;
        let man = bits & ((1u64 << self.mant_bits) - 1);
        if exp as u64 == exp_mask {
            return None;
        }
        let (m, e) = if exp == 0 {
            (man, 1 - self.bias() - self.mant_bits as i32)
        } else {
            (
                man | (1u64 << self.mant_bits),
                exp - self.bias() - self.mant_bits as i32,
            )
        };
        let m = Int::from(m as i128);
        let m = if sign { m.neg() } else { m };
        // value = m * 2^e = m * 2^-(-e)
        Some(Fx::new(m, -e))
    }

    /// Raw bits of the float nearest to `x` (ties to even).
    fn encode(&self, x: &Fx) -> u64 {
        let sign_bit = 1u64 << (self.mant_bits + self.exp_bits);
        if x.mant.is_zero() {
            return 0;
        }
        let sign = if x.mant.is_negative() { sign_bit } else { 0 };
        let mag = x.mant.abs();
        let len = mag.bit_len() as i32;
        // value = mag * 2^-frac; its unbiased exponent is len - 1 - frac.
        let exp = len - 1 - x.frac;
        let p = self.mant_bits as i32 + 1; // precision with the hidden bit
        let min_exp = 1 - self.bias();
        let max_exp = self.bias();
        let inf = (((1u64 << self.exp_bits) - 1) << self.mant_bits) | sign;
        if exp > max_exp + 1 {
            return inf;
        }
        // Position (as a power of two) of the result's LSB.
        let lsb_exp = if exp >= min_exp {
            exp - (p - 1)
        } else {
            min_exp - (p - 1)
        };
        // mag * 2^-frac / 2^lsb_exp = mag * 2^(-frac - lsb_exp)
        let shift = -x.frac - lsb_exp;
        let units = if shift >= 0 {
            mag.shl(shift as u32)
        } else {
            round_half_even(&mag, (-shift) as u32)
        };
        // units < 2^p normally; == 2^p after a carry (representable: exponent + 1).
        let units = units.to_i128().expect("float mantissa fits") as u64;
        let (units, lsb_exp) = if units >> p != 0 {
            (units >> 1, lsb_exp + 1)
        } else {
            (units, lsb_exp)
        };
        if units >> (p - 1) == 0 {
            // Subnormal (or zero after rounding): exponent field 0.
            return sign | units;
        }
        let biased = lsb_exp + (p - 1) + self.bias();
        if biased >= (1 << self.exp_bits) - 1 {
            return inf;
        }
        sign | ((biased as u64) << self.mant_bits) | (units & ((1u64 << self.mant_bits) - 1))
    }
}

/// `floor(v / 2^n)` rounded to nearest, ties to even (v >= 0).
fn round_half_even(v: &Int, n: u32) -> Int {
    let q = v.shr_floor(n);
    let rem = v.low_bits(n);
    let half = Int::pow2(n - 1);
    if rem > half || (rem == half && q.bit(0)) {
        q.add(&Int::ONE)
    } else {
        q
    }
}

/// Exact value of an `f32`; `None` for infinities and NaN.
pub fn f32_to_fx(v: f32) -> Option<Fx> {
    F32.decode(v.to_bits() as u64)
}

/// Exact value of an `f64`; `None` for infinities and NaN.
pub fn f64_to_fx(v: f64) -> Option<Fx> {
    F64.decode(v.to_bits())
}

/// The value an `f32` converts as, on its way to an exact type: its exact value when
/// finite; for infinities and NaN, the number the Vitis headers take them for (they read the
/// all-ones exponent as 2^1024 and keep the mantissa: `(1.m) * 2^1024`, with the sign), so
/// that conversions of non-finite values agree with C-simulation (e.g. saturating to the
/// maximum, or wrapping to 0).
pub fn f32_to_fx_or_huge(v: f32) -> Fx {
    if v.is_finite() {
        return f32_to_fx(v).expect("finite");
    }
    f64_to_fx_or_huge(f32_to_f64(v))
}

/// [`f32_to_fx_or_huge`] for `f64`.
pub fn f64_to_fx_or_huge(v: f64) -> Fx {
    if v.is_finite() {
        return f64_to_fx(v).expect("finite");
    }
    let b = v.to_bits();
    let man = Int::from(((b & ((1u64 << 52) - 1)) | (1u64 << 52)) as i128);
    let man = if b >> 63 == 1 { man.neg() } else { man };
    // (2^52 + m) * 2^(1024 - 52)
    Fx::new(man, -(1024 - 52))
}

/// `f32` → `f64` as x86-64 `cvtss2sd` and C++'s `(double)f` compute it: exact for every
/// number; a NaN is quieted and keeps its sign and payload. Written out on the bits so that
/// no compiler's constant folding can pick another NaN.
pub fn f32_to_f64(v: f32) -> f64 {
    if !v.is_nan() {
        return v as f64;
    }
    let b = v.to_bits() as u64;
    let sign = b >> 31;
    let man = (b & 0x7f_ffff) | 0x40_0000;
    f64::from_bits((sign << 63) | (0x7ff << 52) | (man << 29))
}

/// `f64` → `f32` as x86-64 `cvtsd2ss` and C++'s `(float)d` compute it: rounded to nearest,
/// ties to even; a NaN is quieted and keeps its sign and the payload's high bits.
pub fn f64_to_f32(v: f64) -> f32 {
    if !v.is_nan() {
        return v as f32;
    }
    let b = v.to_bits();
    let sign = (b >> 63) as u32;
    let man = ((b >> 29) as u32 & 0x7f_ffff) | 0x40_0000;
    f32::from_bits((sign << 31) | (0xff << 23) | man)
}

/// The `f32` nearest to `x` (ties to even).
pub fn fx_to_f32(x: &Fx) -> f32 {
    f32::from_bits(F32.encode(x) as u32)
}

/// The `f64` nearest to `x` (ties to even).
pub fn fx_to_f64(x: &Fx) -> f64 {
    f64::from_bits(F64.encode(x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn f32_round_trips(bits in any::<u32>()) {
            let v = f32::from_bits(bits);
            if let Some(x) = f32_to_fx(v) {
                prop_assert_eq!(fx_to_f32(&x).to_bits(), if v == 0.0 { 0 } else { bits });
            } else {
                prop_assert!(!v.is_finite());
            }
        }

        #[test]
        fn f64_to_f32_matches_hardware(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            if let Some(x) = f64_to_fx(v) {
                let want = v as f32;
                let got = fx_to_f32(&x);
                prop_assert!(got.to_bits() == want.to_bits() || (got == 0.0 && want == 0.0),
                    "{} -> {} vs {}", v, got, want);
            }
        }

        #[test]
        fn nan_conversions_keep_sign_and_payload(bits in any::<u64>()) {
            let v = f64::from_bits(bits | (0x7ff << 52) | 1);
            let f = f64_to_f32(v);
            prop_assert!(f.is_nan());
            prop_assert_eq!(f.to_bits() >> 31, (bits >> 63) as u32);
            let back = f32_to_f64(f);
            prop_assert!(back.is_nan());
            prop_assert_eq!(f64_to_f32(back).to_bits(), f.to_bits());
        }

        #[test]
        fn integers_to_f32_match_hardware(v in any::<i64>()) {
            prop_assert_eq!(fx_to_f32(&Fx::int(v as i128)).to_bits(), (v as f32).to_bits());
        }
    }
}
