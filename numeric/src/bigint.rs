//! `Int`: an arbitrary-precision signed integer with an inline `i128` fast path.
//!
//! Every fixed-point value in kiln is an integer mantissa scaled by a power of two, and the
//! reference semantics need mantissas wider than 128 bits (a product of two 128-bit values
//! has 256). Most values are small, so `Int` keeps them in an `i128` and only spills to a
//! heap-allocated [`BigInt`] when an operation would overflow. The representation is
//! canonical: a value that fits in `i128` is always `Small`, so derived equality is value
//! equality.

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::cmp::Ordering;
use std::fmt;

/// A signed integer of unbounded width (two's complement semantics for bit operations).
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Int {
    /// The value, when it fits in an `i128`.
    Small(i128),
    /// The value, only when it does not fit in an `i128`.
    Big(Box<BigInt>),
}

impl Int {
    pub const ZERO: Int = Int::Small(0);
    pub const ONE: Int = Int::Small(1);

    pub fn from_big(b: BigInt) -> Int {
        match b.to_i128() {
            Some(v) => Int::Small(v),
            None => Int::Big(Box::new(b)),
        }
    }

    pub fn to_big(&self) -> BigInt {
        match self {
            Int::Small(v) => BigInt::from(*v),
            Int::Big(b) => (**b).clone(),
        }
    }

    pub fn to_i128(&self) -> Option<i128> {
        match self {
            Int::Small(v) => Some(*v),
            Int::Big(_) => None,
        }
    }

    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|v| i64::try_from(v).ok())
    }

    pub fn is_zero(&self) -> bool {
        matches!(self, Int::Small(0))
    }

    pub fn is_negative(&self) -> bool {
        match self {
            Int::Small(v) => *v < 0,
            Int::Big(b) => b.is_negative(),
        }
    }

    pub fn signum(&self) -> i32 {
        match self {
            Int::Small(v) => v.signum() as i32,
            Int::Big(b) => match b.sign() {
                Sign::Minus => -1,
                Sign::NoSign => 0,
                Sign::Plus => 1,
            },
        }
    }

    pub fn neg(&self) -> Int {
        match self {
            Int::Small(v) => match v.checked_neg() {
                Some(r) => Int::Small(r),
                None => Int::from_big(-BigInt::from(*v)),
            },
            Int::Big(b) => Int::from_big(-(**b).clone()),
        }
    }

    pub fn abs(&self) -> Int {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    pub fn add(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let Some(r) = a.checked_add(*b) {
                return Int::Small(r);
            }
        }
        Int::from_big(self.to_big() + o.to_big())
    }

    pub fn sub(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let Some(r) = a.checked_sub(*b) {
                return Int::Small(r);
            }
        }
        Int::from_big(self.to_big() - o.to_big())
    }

    pub fn mul(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let Some(r) = a.checked_mul(*b) {
                return Int::Small(r);
            }
        }
        Int::from_big(self.to_big() * o.to_big())
    }

    /// `self * 2^n`.
    pub fn shl(&self, n: u32) -> Int {
        if n == 0 {
            return self.clone();
        }
        if let Int::Small(a) = self {
            if *a == 0 {
                return Int::ZERO;
            }
            if n < 127 && self.bit_len() + n < 127 {
                return Int::Small(a << n);
            }
        }
        Int::from_big(self.to_big() << n as usize)
    }

    /// `floor(self / 2^n)` (an arithmetic right shift).
    pub fn shr_floor(&self, n: u32) -> Int {
        if n == 0 {
            return self.clone();
        }
        match self {
            Int::Small(a) => Int::Small(if n >= 128 {
                if *a < 0 {
                    -1
                } else {
                    0
                }
            } else {
                a >> n
            }),
            // BigInt's >> on negative values rounds toward negative infinity.
            Int::Big(b) => Int::from_big((**b).clone() >> n as usize),
        }
    }

    /// Number of bits of the magnitude (0 for zero).
    pub fn bit_len(&self) -> u32 {
        match self {
            Int::Small(v) => 128 - v.unsigned_abs().leading_zeros(),
            Int::Big(b) => b.bits() as u32,
        }
    }

    /// Bit `n` of the infinite two's complement representation.
    pub fn bit(&self, n: u32) -> bool {
        match self {
            Int::Small(v) => {
                if n >= 127 {
                    *v < 0
                } else {
                    (v >> n) & 1 == 1
                }
            }
            Int::Big(b) => b.bit(n as u64),
        }
    }

    /// `self mod 2^n`, in `[0, 2^n)`: the low `n` bits as a non-negative value.
    pub fn low_bits(&self, n: u32) -> Int {
        if let Int::Small(v) = self {
            if n < 127 {
                return Int::Small(v & ((1i128 << n) - 1));
            }
        }
        let m = BigInt::one() << n as usize;
        Int::from_big(self.to_big().mod_floor(&m))
    }

    /// The low `n` bits, sign-extended from bit `n - 1` (wrap into a signed `n`-bit range).
    pub fn wrap_signed(&self, n: u32) -> Int {
        let low = self.low_bits(n);
        if n > 0 && low.bit(n - 1) {
            low.sub(&Int::pow2(n))
        } else {
            low
        }
    }

    /// `2^n`.
    pub fn pow2(n: u32) -> Int {
        if n < 127 {
            Int::Small(1i128 << n)
        } else {
            Int::from_big(BigInt::one() << n as usize)
        }
    }

    /// Quotient rounded toward zero. Panics on a zero divisor (callers check first).
    pub fn div_trunc(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let Some(r) = a.checked_div(*b) {
                return Int::Small(r);
            }
        }
        Int::from_big(self.to_big() / o.to_big())
    }

    /// Remainder with the sign of the dividend (C `%`).
    pub fn rem_trunc(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let Some(r) = a.checked_rem(*b) {
                return Int::Small(r);
            }
        }
        Int::from_big(self.to_big() % o.to_big())
    }

    /// Quotient rounded toward negative infinity (Python `//`).
    pub fn div_floor(&self, o: &Int) -> Int {
        if let (Int::Small(a), Int::Small(b)) = (self, o) {
            if let (Some(q), Some(r)) = (a.checked_div(*b), a.checked_rem(*b)) {
                // Truncation and floor differ when the signs differ and the division is inexact.
                let q = if r != 0 && ((r < 0) != (*b < 0)) {
                    q - 1
                } else {
                    q
                };
                return Int::Small(q);
            }
        }
        Int::from_big(self.to_big().div_floor(&o.to_big()))
    }

    /// Remainder with the sign of the divisor (Python `%`).
    pub fn mod_floor(&self, o: &Int) -> Int {
        let q = self.div_floor(o);
        self.sub(&q.mul(o))
    }

    pub fn bitand(&self, o: &Int) -> Int {
        match (self, o) {
            (Int::Small(a), Int::Small(b)) => Int::Small(a & b),
            _ => Int::from_big(self.to_big() & o.to_big()),
        }
    }

    pub fn bitor(&self, o: &Int) -> Int {
        match (self, o) {
            (Int::Small(a), Int::Small(b)) => Int::Small(a | b),
            _ => Int::from_big(self.to_big() | o.to_big()),
        }
    }

    pub fn bitxor(&self, o: &Int) -> Int {
        match (self, o) {
            (Int::Small(a), Int::Small(b)) => Int::Small(a ^ b),
            _ => Int::from_big(self.to_big() ^ o.to_big()),
        }
    }

    /// `!self` in two's complement: `-self - 1`.
    pub fn bitnot(&self) -> Int {
        self.neg().sub(&Int::ONE)
    }

    /// Parses an unsigned hexadecimal string (no prefix).
    pub fn from_hex(s: &str) -> Option<Int> {
        BigInt::parse_bytes(s.as_bytes(), 16).map(Int::from_big)
    }

    /// Lowercase hexadecimal of a non-negative value, without prefix.
    pub fn to_hex(&self) -> String {
        match self {
            Int::Small(v) if *v >= 0 => format!("{v:x}"),
            _ => self.to_big().to_str_radix(16),
        }
    }

    /// The value as the nearest `f64` (for display only; never used for semantics).
    pub fn to_f64_lossy(&self) -> f64 {
        match self {
            Int::Small(v) => *v as f64,
            Int::Big(b) => b.to_f64().unwrap_or(f64::NAN),
        }
    }
}

impl From<i128> for Int {
    fn from(v: i128) -> Int {
        Int::Small(v)
    }
}

impl From<i64> for Int {
    fn from(v: i64) -> Int {
        Int::Small(v as i128)
    }
}

impl From<u128> for Int {
    fn from(v: u128) -> Int {
        match i128::try_from(v) {
            Ok(s) => Int::Small(s),
            Err(_) => Int::from_big(BigInt::from(v)),
        }
    }
}

impl Ord for Int {
    fn cmp(&self, o: &Int) -> Ordering {
        match (self, o) {
            (Int::Small(a), Int::Small(b)) => a.cmp(b),
            _ => self.to_big().cmp(&o.to_big()),
        }
    }
}

impl PartialOrd for Int {
    fn partial_cmp(&self, o: &Int) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

impl fmt::Display for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Int::Small(v) => write!(f, "{v}"),
            Int::Big(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Debug for Int {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Default for Int {
    fn default() -> Int {
        Int::ZERO
    }
}

impl Zero for Int {
    fn zero() -> Int {
        Int::ZERO
    }
    fn is_zero(&self) -> bool {
        Int::is_zero(self)
    }
}

impl std::ops::Add for Int {
    type Output = Int;
    fn add(self, o: Int) -> Int {
        Int::add(&self, &o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn big(v: &Int) -> BigInt {
        v.to_big()
    }

    proptest! {
        #[test]
        fn ops_agree_with_bigint(a in any::<i128>(), b in any::<i128>(), s in 0u32..200) {
            let (x, y) = (Int::from(a), Int::from(b));
            let (bx, by) = (BigInt::from(a), BigInt::from(b));
            prop_assert_eq!(big(&x.add(&y)), &bx + &by);
            prop_assert_eq!(big(&x.sub(&y)), &bx - &by);
            prop_assert_eq!(big(&x.mul(&y)), &bx * &by);
            prop_assert_eq!(big(&x.shl(s)), &bx << s as usize);
            prop_assert_eq!(big(&x.shr_floor(s)), &bx >> s as usize);
            prop_assert_eq!(big(&x.low_bits(s)), bx.mod_floor(&(BigInt::one() << s as usize)));
            if b != 0 {
                prop_assert_eq!(big(&x.div_floor(&y)), bx.div_floor(&by));
                prop_assert_eq!(big(&x.mod_floor(&y)), bx.mod_floor(&by));
                prop_assert_eq!(big(&x.div_trunc(&y)), &bx / &by);
                prop_assert_eq!(big(&x.rem_trunc(&y)), &bx % &by);
            }
            prop_assert_eq!(x.bit(s), bx.bit(s as u64));
            prop_assert_eq!(x.cmp(&y), bx.cmp(&by));
        }

        #[test]
        fn big_values_stay_canonical(a in any::<i128>(), b in any::<i128>()) {
            let p = Int::from(a).mul(&Int::from(b));
            let back = p.div_trunc(&Int::from(if b == 0 { 1 } else { b }));
            if b != 0 { prop_assert_eq!(back, Int::from(a)); }
        }
    }

    #[test]
    fn extremes() {
        let min = Int::from(i128::MIN);
        assert_eq!(min.neg().to_big(), -BigInt::from(i128::MIN));
        assert_eq!(min.neg().neg(), min);
        assert_eq!(Int::from(-1i128).wrap_signed(8), Int::from(-1i128));
        assert_eq!(Int::from(200i128).wrap_signed(8), Int::from(-56i128));
        assert_eq!(
            Int::from(-7i128).div_floor(&Int::from(2i128)),
            Int::from(-4i128)
        );
        assert_eq!(
            Int::from(-7i128).mod_floor(&Int::from(2i128)),
            Int::from(1i128)
        );
        assert_eq!(
            Int::from(7i128).mod_floor(&Int::from(-2i128)),
            Int::from(-1i128)
        );
        assert_eq!(
            Int::from(i128::MIN).div_floor(&Int::from(-1i128)).to_big(),
            -BigInt::from(i128::MIN)
        );
    }
}
