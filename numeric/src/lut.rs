//! Lookup tables for fixed-point math functions (`exp`, `sigmoid`, `tanh` of exact
//! values), built the way hls4ml builds its activation tables, computed once at compile
//! time so that every engine reads the same entries.
//!
//! A table of `size` entries covers the inputs `[lo, hi)` in steps of
//! `step = (hi - lo) / size`; entry `i` is the function at the left end of its step,
//! `f(lo + i * step)`, computed in double precision (the C library's `exp` / `tanh`,
//! `1 / (1 + exp(-x))` for `sigmoid`) and rounded to nearest (ties up) into the table's
//! type. An input `x` reads entry `floor((clamp(x, lo, hi - step) - lo) / step)`, so inputs
//! below `lo` read the first entry and inputs from `hi` on read the last.
//!
//! `size` and `hi - lo` must be powers of two (so the index is a shift of an exact value),
//! and `lo`, `hi` exact binary values. The entries' type has `bits` bits (18 by default,
//! as hls4ml's `table_t`): unsigned when no entry is negative, with the fewest integer bits
//! that hold the largest entry, the rest fraction bits.

use crate::fixed::{to_fixed, Fx};
use crate::float::f64_to_fx;
use crate::math::MathFn;
use crate::types::{FixedType, Overflow, Quant};

/// How a lookup table samples its function.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct LutSpec {
    pub size: u32,
    pub lo: f64,
    pub hi: f64,
    /// Width of the entries' type.
    pub bits: u32,
}

impl LutSpec {
    /// hls4ml's defaults: 1024 entries over [-8, 8), 18-bit entries.
    pub const DEFAULT: LutSpec = LutSpec {
        size: 1024,
        lo: -8.0,
        hi: 8.0,
        bits: 18,
    };

    /// `log2(step)`: the step between two entries is `2^step_log2`. Errors say what is
    /// wrong with the spec.
    pub fn step_log2(&self) -> Result<i32, String> {
        if !self.size.is_power_of_two() || !(2..=1 << 16).contains(&self.size) {
            return Err(format!(
                "a table size must be a power of two from 2 to 65536, not {}",
                self.size
            ));
        }
        if !(self.lo.is_finite() && self.hi.is_finite() && self.lo < self.hi) {
            return Err(format!(
                "a table's range needs lo < hi, not [{}, {})",
                self.lo, self.hi
            ));
        }
        let width = self.hi - self.lo;
        let e = width.log2().round() as i32;
        if 2f64.powi(e) != width || self.lo + width != self.hi {
            return Err(format!(
                "a table's range hi - lo must be a power of two, not {width}"
            ));
        }
        if !(4..=32).contains(&self.bits) {
            return Err(format!(
                "table entries have 4 to 32 bits, not {}",
                self.bits
            ));
        }
        Ok(e - self.size.trailing_zeros() as i32)
    }
}

/// Which math functions have a table form.
pub fn has_table(f: MathFn) -> bool {
    matches!(f, MathFn::Exp | MathFn::Sigmoid | MathFn::Tanh)
}

/// The function in double precision (the value a table entry rounds).
fn eval_f64(f: MathFn, x: f64) -> f64 {
    match f {
        MathFn::Exp => x.exp(),
        MathFn::Tanh => x.tanh(),
        MathFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
        MathFn::Sqrt => x.sqrt(),
        MathFn::Log => x.ln(),
    }
}

/// The table of `f` for `spec`: the entries' type and the entries. Errors describe a bad
/// spec or a function whose values do not fit 32 integer bits over the range.
pub fn table(f: MathFn, spec: &LutSpec) -> Result<(FixedType, Vec<Fx>), String> {
    let step_log2 = spec.step_log2()?;
    let step = 2f64.powi(step_log2);
    let points: Vec<f64> = (0..spec.size)
        .map(|i| eval_f64(f, spec.lo + i as f64 * step))
        .collect();
    if points.iter().any(|v| !v.is_finite()) {
        return Err(format!(
            "`{}` is not finite over the table's range",
            f.name()
        ));
    }
    let signed = points.iter().any(|&v| v < 0.0);
    let max = points.iter().fold(0f64, |m, &v| m.max(v.abs()));
    // The fewest integer bits that hold the largest entry after rounding.
    let mut int_bits = if signed { 1 } else { 0 };
    while max >= 2f64.powi(int_bits - signed as i32) {
        int_bits += 1;
        if int_bits > 32 {
            return Err(format!(
                "`{}` reaches {max} over the table's range: too large for a table",
                f.name()
            ));
        }
    }
    let ty = FixedType {
        width: spec.bits,
        int_bits,
        signed,
        quant: Quant::Rnd,
        overflow: Overflow::Sat,
        sat_bits: 0,
    };
    let entries = points
        .iter()
        .map(|&v| to_fixed(&f64_to_fx(v).expect("finite"), &ty).value)
        .collect();
    // Stored values keep the plain type (the modes only shaped the rounding).
    let plain = FixedType {
        quant: Quant::Trn,
        overflow: Overflow::Wrap,
        ..ty
    };
    Ok((plain, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigmoid_table_matches_hls4ml_sampling() {
        let (ty, t) = table(MathFn::Sigmoid, &LutSpec::DEFAULT).unwrap();
        assert_eq!((ty.width, ty.int_bits, ty.signed), (18, 0, false));
        assert_eq!(t.len(), 1024);
        // Entry 512 is sigmoid(0) = 0.5 exactly; entry 0 is sigmoid(-8).
        assert_eq!(t[512].to_f64_lossy(), 0.5);
        let e0 = t[0].to_f64_lossy();
        assert!((e0 - 1.0 / (1.0 + 8f64.exp())).abs() <= 2f64.powi(-19));
        // Monotone.
        assert!(t.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn tanh_is_signed_and_exp_grows_integer_bits() {
        let (ty, t) = table(MathFn::Tanh, &LutSpec::DEFAULT).unwrap();
        assert!(ty.signed);
        assert_eq!(ty.int_bits, 1);
        assert!(t[0].to_f64_lossy() < -0.99);
        let spec = LutSpec {
            lo: -8.0,
            hi: 0.0,
            ..LutSpec::DEFAULT
        };
        let (ty, t) = table(MathFn::Exp, &spec).unwrap();
        // Largest entry exp(-step) < 1: no integer bit needed.
        assert_eq!((ty.int_bits, ty.signed), (0, false));
        assert!(t[1023].to_f64_lossy() < 1.0);
        let (ty, _) = table(MathFn::Exp, &LutSpec::DEFAULT).unwrap();
        assert_eq!(ty.int_bits, 12); // exp(8 - 1/64) < 4096
    }

    #[test]
    fn bad_specs_are_refused() {
        let bad = |s: LutSpec| table(MathFn::Sigmoid, &s).is_err();
        assert!(bad(LutSpec {
            size: 1000,
            ..LutSpec::DEFAULT
        }));
        assert!(bad(LutSpec {
            lo: -6.0,
            hi: 6.0,
            ..LutSpec::DEFAULT
        }));
        assert!(bad(LutSpec {
            lo: 1.0,
            hi: 1.0,
            ..LutSpec::DEFAULT
        }));
        assert!(bad(LutSpec {
            bits: 2,
            ..LutSpec::DEFAULT
        }));
        assert_eq!(LutSpec::DEFAULT.step_log2(), Ok(-6));
    }
}
