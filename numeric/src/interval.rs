//! Closed intervals of exact values, and the narrowest type that holds one.
//!
//! Type inference (passes/src/infer_types/) tracks for every exact value an interval
//! `[lo, hi]` and a fractional-bit count F. The operations here are the transfer
//! functions of that analysis: each returns an interval that contains every result of the
//! operation applied to operands from the argument intervals.

use crate::bigint::Int;
use crate::fixed::Fx;
use crate::types::{FixedType, IntType, ScalarType};
use std::fmt;

/// All values `v` with `lo <= v <= hi`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interval {
    pub lo: Fx,
    pub hi: Fx,
}

impl Interval {
    pub fn new(lo: Fx, hi: Fx) -> Interval {
        debug_assert!(lo <= hi, "empty interval [{lo}, {hi}]");
        Interval { lo, hi }
    }

    pub fn point(v: Fx) -> Interval {
        Interval::new(v.clone(), v)
    }

    pub fn of_type(t: &ScalarType) -> Option<Interval> {
        t.value_bounds().map(|(lo, hi)| Interval::new(lo, hi))
    }

    /// Smallest interval containing both.
    pub fn join(&self, o: &Interval) -> Interval {
        Interval::new(
            self.lo.clone().min(o.lo.clone()),
            self.hi.clone().max(o.hi.clone()),
        )
    }

    pub fn contains(&self, v: &Fx) -> bool {
        &self.lo <= v && v <= &self.hi
    }

    pub fn contains_interval(&self, o: &Interval) -> bool {
        self.lo <= o.lo && o.hi <= self.hi
    }

    pub fn contains_zero(&self) -> bool {
        self.contains(&Fx::zero())
    }

    pub fn add(&self, o: &Interval) -> Interval {
        Interval::new(self.lo.add(&o.lo), self.hi.add(&o.hi))
    }

    pub fn sub(&self, o: &Interval) -> Interval {
        Interval::new(self.lo.sub(&o.hi), self.hi.sub(&o.lo))
    }

    pub fn neg(&self) -> Interval {
        Interval::new(self.hi.neg(), self.lo.neg())
    }

    pub fn mul(&self, o: &Interval) -> Interval {
        let c = [
            self.lo.mul(&o.lo),
            self.lo.mul(&o.hi),
            self.hi.mul(&o.lo),
            self.hi.mul(&o.hi),
        ];
        hull(&c)
    }

    /// `k` times the interval: the range of a sum of `k` values from it.
    pub fn scale(&self, k: u64) -> Interval {
        let k = Fx::int(k as i128);
        Interval::new(self.lo.mul(&k), self.hi.mul(&k))
    }

    /// `self` times a count `k >= 0` (exact, any size).
    pub fn scale_count(&self, k: &crate::Int) -> Interval {
        let k = Fx::new(k.clone(), 0);
        Interval::new(self.lo.mul(&k), self.hi.mul(&k))
    }

    pub fn shl(&self, lo_n: u32, hi_n: u32) -> Interval {
        let c = [
            self.lo.shl(lo_n),
            self.lo.shl(hi_n),
            self.hi.shl(lo_n),
            self.hi.shl(hi_n),
        ];
        hull(&c)
    }

    /// Range of `x >> n` for `n` in `[lo_n, hi_n]`, flooring at `2^-frac`.
    pub fn shr(&self, lo_n: u32, hi_n: u32, frac: i32) -> Interval {
        let c = [
            self.lo.shr(lo_n, frac),
            self.lo.shr(hi_n, frac),
            self.hi.shr(lo_n, frac),
            self.hi.shr(hi_n, frac),
        ];
        hull(&c)
    }

    pub fn min(&self, o: &Interval) -> Interval {
        Interval::new(
            self.lo.clone().min(o.lo.clone()),
            self.hi.clone().min(o.hi.clone()),
        )
    }

    pub fn max(&self, o: &Interval) -> Interval {
        Interval::new(
            self.lo.clone().max(o.lo.clone()),
            self.hi.clone().max(o.hi.clone()),
        )
    }

    pub fn abs(&self) -> Interval {
        if !self.lo.is_negative() {
            self.clone()
        } else if self.hi.is_negative() || self.hi.is_zero() {
            self.neg()
        } else {
            Interval::new(Fx::zero(), self.lo.neg().max(self.hi.clone()))
        }
    }

    /// Candidate divisors: the endpoints of the non-zero parts of the divisor interval
    /// (`lsb` is the smallest magnitude a non-zero divisor can have).
    fn divisor_corners(&self, lsb: &Fx) -> Vec<Fx> {
        let mut c = Vec::new();
        if self.lo.is_negative() {
            c.push(self.lo.clone());
            let near = lsb.neg().min(self.hi.clone());
            c.push(near);
        }
        if self.hi > Fx::zero() {
            c.push(self.hi.clone());
            let near = lsb.clone().max(self.lo.clone());
            c.push(near);
        }
        c
    }

    /// Range of `ap_fixed` division truncated to `result_frac` bits; `None` when the
    /// divisor can only be zero.
    pub fn div_trunc(&self, o: &Interval, divisor_lsb: &Fx, result_frac: i32) -> Option<Interval> {
        let ds = o.divisor_corners(divisor_lsb);
        let mut c = Vec::new();
        for a in [&self.lo, &self.hi] {
            for d in &ds {
                c.push(a.div_trunc(d, result_frac)?);
            }
        }
        (!c.is_empty()).then(|| hull(&c))
    }

    /// Range of floor division of integers.
    pub fn div_floor(&self, o: &Interval) -> Option<Interval> {
        let ds = o.divisor_corners(&Fx::int(1));
        let mut c = Vec::new();
        for a in [&self.lo, &self.hi] {
            for d in &ds {
                c.push(a.div_floor(d)?);
            }
        }
        (!c.is_empty()).then(|| hull(&c))
    }

    /// Range of floor modulo of integers: between the divisor's bounds (exclusive).
    pub fn mod_floor(&self, o: &Interval) -> Interval {
        let one = Fx::int(1);
        let lo = if o.lo.is_negative() {
            o.lo.add(&one)
        } else {
            Fx::zero()
        };
        let hi = if o.hi > Fx::zero() {
            o.hi.sub(&one)
        } else {
            Fx::zero()
        };
        // A non-negative dividend smaller than a positive divisor is its own remainder.
        if !self.lo.is_negative() && !o.lo.is_negative() {
            return Interval::new(Fx::zero(), hi.min(self.hi.clone()));
        }
        Interval::new(lo, hi)
    }

    /// Range of a bitwise and/or/xor of two integer intervals.
    pub fn bitwise(&self, o: &Interval, op: BitOp) -> Interval {
        let nonneg = !self.lo.is_negative() && !o.lo.is_negative();
        if op == BitOp::And {
            // `a & b` with b >= 0 lies in [0, b] (its bits are a subset of b's).
            let bound = match (!self.lo.is_negative(), !o.lo.is_negative()) {
                (true, true) => Some(self.hi.clone().min(o.hi.clone())),
                (true, false) => Some(self.hi.clone()),
                (false, true) => Some(o.hi.clone()),
                (false, false) => None,
            };
            if let Some(hi) = bound {
                return Interval::new(Fx::zero(), hi);
            }
        }
        // Integer operands: work on the values (mantissas can have negative fractional
        // bits, e.g. fixed<15, 21>).
        if nonneg {
            let w = self.hi.mant_at(0).bit_len().max(o.hi.mant_at(0).bit_len());
            return Interval::new(
                Fx::zero(),
                Fx::int(0).add(&Fx::new(Int::pow2(w).sub(&Int::ONE), 0)),
            );
        }
        let w = signed_width(&self.lo.mant_at(0))
            .max(signed_width(&self.hi.mant_at(0)))
            .max(signed_width(&o.lo.mant_at(0)))
            .max(signed_width(&o.hi.mant_at(0)));
        Interval::new(
            Fx::new(Int::pow2(w - 1).neg(), 0),
            Fx::new(Int::pow2(w - 1).sub(&Int::ONE), 0),
        )
    }

    /// Range of `~x` on integers.
    pub fn bitnot(&self) -> Interval {
        let one = Fx::int(1);
        Interval::new(self.hi.neg().sub(&one), self.lo.neg().sub(&one))
    }
}

/// Which bitwise operation [`Interval::bitwise`] bounds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BitOp {
    And,
    Or,
    Xor,
}

fn hull(c: &[Fx]) -> Interval {
    let lo = c.iter().min().expect("non-empty").clone();
    let hi = c.iter().max().expect("non-empty").clone();
    Interval::new(lo, hi)
}

/// Bits of the smallest two's complement integer holding `v`.
fn signed_width(v: &Int) -> u32 {
    if v.is_negative() {
        v.neg().sub(&Int::ONE).bit_len() + 1
    } else {
        v.bit_len() + 1
    }
}

/// Bits of the smallest unsigned integer holding `v >= 0` (at least 1).
fn unsigned_width(v: &Int) -> u32 {
    v.bit_len().max(1)
}

/// The narrowest `int`/`fixed` type with `frac` fractional bits holding every value of
/// `iv` (all of which must be multiples of `2^-frac`). Integers (`frac == 0`) get
/// `int<W>`/`uint<W>`, everything else `fixed<W, I>`/`ufixed<W, I>` with default modes.
pub fn narrowest_type(iv: &Interval, frac: i32) -> ScalarType {
    let lo = iv.lo.mant_at(frac);
    let hi = iv.hi.mant_at(frac);
    let signed = lo.is_negative();
    let width = if signed {
        signed_width(&lo).max(signed_width(&hi))
    } else {
        unsigned_width(&hi)
    };
    if frac == 0 {
        ScalarType::Int(IntType::new(width, signed))
    } else {
        ScalarType::Fixed(FixedType::plain(width, width as i32 - frac, signed))
    }
}

impl Interval {
    /// `[lo, hi]` with long bounds abbreviated (for messages).
    pub fn short(&self) -> String {
        format!("[{}, {}]", self.lo.short(), self.hi.short())
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo, self.hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iv(lo: f64, hi: f64) -> Interval {
        Interval::new(
            crate::float::f64_to_fx(lo).unwrap(),
            crate::float::f64_to_fx(hi).unwrap(),
        )
    }

    fn ty(i: &Interval, frac: i32) -> String {
        narrowest_type(i, frac).to_string()
    }

    #[test]
    fn bitwise_ranges_use_values_not_mantissas() {
        // Integers with negative fractional bits (multiples of 64).
        let x = Interval::new(
            Fx::new(Int::from(-15226i128), -6),
            Fx::new(Int::from(7194i128), -6),
        );
        let n = iv(0.0, 6.0);
        let r = x.bitwise(&n, BitOp::Or);
        assert!(r.lo <= Fx::int(-974464) && r.hi >= Fx::int(460418), "{r}");
        let p = Interval::new(Fx::zero(), Fx::new(Int::from(7194i128), -6));
        let r = p.bitwise(&n, BitOp::Xor);
        assert!(r.hi >= Fx::int(460422), "{r}");
    }

    #[test]
    fn narrowest_matches_ap_growth() {
        let a = Interval::of_type(&"fixed<8,4>".parse().unwrap()).unwrap();
        let w = Interval::of_type(&"int<2>".parse().unwrap()).unwrap();
        // ap: fixed<8,4> * int<2> is fixed<10,6>; its true range [-15.875, 16] needs 10,6.
        assert_eq!(ty(&a.mul(&w), 4), "fixed<10, 6>");
        // The true range of a product of two fixed<8,4> is [-63.5, 64]: 16 bits, like ap.
        assert_eq!(ty(&a.mul(&a), 8), "fixed<16, 8>");
        // A sum of two fixed<8,4> is [-16, 15.875]: 9 bits, like ap.
        assert_eq!(ty(&a.add(&a), 4), "fixed<9, 5>");
        // Times a bin (values -1, +1): [-7.9375, 8].
        let b = Interval::of_type(&ScalarType::Bin).unwrap();
        assert_eq!(ty(&a.mul(&b), 4), "fixed<9, 5>");
        assert_eq!(ty(&iv(0.0, 7.0), 0), "uint<3>");
        assert_eq!(ty(&iv(-1.0, 0.0), 0), "int<1>");
        assert_eq!(ty(&iv(0.0, 0.0), 0), "uint<1>");
        assert_eq!(ty(&iv(-0.5, 0.25), 2), "fixed<2, 0>");
    }

    #[test]
    fn accumulation_growth() {
        // 9 products of fixed<8,4> * int<2>, as in a 3x3 conv tap: [-142.875, 144].
        let a = Interval::of_type(&"fixed<8,4>".parse().unwrap()).unwrap();
        let w = Interval::of_type(&"int<2>".parse().unwrap()).unwrap();
        assert_eq!(ty(&a.mul(&w).scale(9), 4), "fixed<13, 9>");
    }

    #[test]
    fn division_ranges() {
        let a = iv(-8.0, 7.0);
        let d = iv(-2.0, 3.0);
        let q = a.div_floor(&d).unwrap();
        assert_eq!(q.to_string(), "[-8, 8]");
        assert_eq!(a.mod_floor(&iv(1.0, 4.0)).to_string(), "[0, 3]");
    }
}
