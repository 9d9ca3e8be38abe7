//! Property tests of the fixed-point conversions: laws every Q/O/N mode must obey, over
//! random types (W up to 128, I from -8 to W + 8) and random exact values. The conformance
//! suite pins the exact results against the headers; these check the structure around
//! them on millions of points the data does not cover.

use kiln_numeric::{to_fixed, to_int, FixedType, Fx, Int, IntType, Overflow, Quant};
use proptest::prelude::*;

fn quant() -> impl Strategy<Value = Quant> {
    prop::sample::select(Quant::ALL.to_vec())
}

fn overflow() -> impl Strategy<Value = Overflow> {
    prop::sample::select(Overflow::ALL.to_vec())
}

/// A valid fixed-point type.
fn fixed_type() -> impl Strategy<Value = FixedType> {
    (1u32..=128, any::<bool>(), quant(), overflow(), 0u32..4)
        .prop_flat_map(|(w, signed, q, o, n)| {
            (
                Just(w),
                -8i32..=(w as i32 + 8),
                Just(signed),
                Just(q),
                Just(o),
                Just(n),
            )
        })
        .prop_map(|(w, i, signed, q, o, n)| {
            let o = if !signed && o == Overflow::WrapSm {
                Overflow::Wrap
            } else {
                o
            };
            let n = if o.is_wrapping() { n.min(w) } else { 0 };
            FixedType {
                width: w,
                int_bits: i,
                signed,
                quant: q,
                overflow: o,
                sat_bits: n,
            }
        })
}

/// An exact value with up to 200 significant bits and -40..60 fractional bits.
fn value() -> impl Strategy<Value = Fx> {
    (any::<i128>(), any::<i64>(), 0u32..72, -40i32..60).prop_map(|(hi, lo, sh, frac)| {
        let m = Int::from(hi).shl(sh).add(&Int::from(lo as i128));
        Fx::new(m, frac)
    })
}

fn lsb(t: &FixedType) -> Fx {
    Fx::new(Int::ONE, t.frac_bits())
}

fn representable(t: &FixedType, x: &Fx) -> bool {
    x.min_frac() <= t.frac_bits() && *x >= t.min_value() && *x <= t.max_value()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10000, ..ProptestConfig::default() })]

    /// Every result is a value of the target type.
    #[test]
    fn results_are_representable(t in fixed_type(), x in value()) {
        let r = to_fixed(&x, &t).value;
        prop_assert!(representable(&t, &r), "{x} -> {r} not in {t}");
    }

    /// Values of the type convert to themselves, with nothing lost.
    #[test]
    fn representable_values_are_kept(t in fixed_type(), x in value()) {
        // Snap x onto the type's grid and into its range first.
        let grid = Fx::new(x.mant_at(t.frac_bits()), t.frac_bits());
        if representable(&t, &grid) && !(t.overflow == Overflow::SatSym && t.signed && grid == t.min_value()) {
            let c = to_fixed(&grid, &t);
            prop_assert_eq!(&c.value, &grid);
            prop_assert!(!c.rounded && !c.overflowed);
        }
    }

    /// Without overflow, the quantization error is within the mode's bound.
    #[test]
    fn quantization_error_is_bounded(t in fixed_type(), x in value()) {
        let c = to_fixed(&x, &t);
        if !c.overflowed {
            let err = c.value.sub(&x); // q - x
            let one = lsb(&t);
            let half = Fx::new(Int::ONE, t.frac_bits() + 1);
            let ok = match t.quant {
                Quant::Trn => err <= Fx::zero() && err > one.neg(),
                Quant::TrnZero => err.abs() < one && c.value.abs() <= x.abs(),
                _ => err.abs() <= half,
            };
            prop_assert!(ok, "{x} -> {} in {t} (error {err})", c.value);
        }
    }

    /// Rounding modes break exact ties as documented.
    #[test]
    fn ties(t in fixed_type(), k in any::<i32>()) {
        // x = (k + 1/2) LSB, inside the range when possible.
        let x = Fx::new(Int::from(k as i128).shl(1).add(&Int::ONE), t.frac_bits() + 1);
        let c = to_fixed(&x, &t);
        if !c.overflowed {
            let down = Fx::new(Int::from(k as i128), t.frac_bits());
            let up = Fx::new(Int::from(k as i128 + 1), t.frac_bits());
            let want = match t.quant {
                Quant::Trn => down.clone(),
                Quant::TrnZero => if x.is_negative() { up.clone() } else { down.clone() },
                Quant::Rnd => up.clone(),
                Quant::RndZero => if x.is_negative() { up.clone() } else { down.clone() },
                Quant::RndMinInf => down.clone(),
                Quant::RndInf => if x.is_negative() { down.clone() } else { up.clone() },
                Quant::RndConv => if k % 2 == 0 { down.clone() } else { up.clone() },
            };
            prop_assert_eq!(c.value, want, "tie {} in {}", x, t);
        }
    }

    /// Saturating modes are monotone and clamp to the type's ends.
    #[test]
    fn saturation_is_monotone(t in fixed_type(), x in value(), y in value()) {
        if matches!(t.overflow, Overflow::Sat | Overflow::SatSym) {
            let (a, b) = if x <= y { (x, y) } else { (y, x) };
            let (qa, qb) = (to_fixed(&a, &t).value, to_fixed(&b, &t).value);
            prop_assert!(qa <= qb, "{a} -> {qa} but {b} -> {qb} in {t}");
            if a > t.max_value().add(&lsb(&t)) {
                prop_assert_eq!(qa, t.max_value());
            }
        }
    }

    /// Plain wrap (N = 0) is arithmetic modulo 2^W LSBs.
    #[test]
    fn wrap_is_modular(t in fixed_type(), x in value()) {
        if t.overflow == Overflow::Wrap && t.sat_bits == 0 {
            let mut plain = t;
            plain.overflow = Overflow::Sat;
            plain.signed = true;
            plain.width = 1024;
            plain.int_bits = 1024 - t.frac_bits();
            let unbounded = to_fixed(&x, &plain).value; // quantized, never overflows
            let wrapped = to_fixed(&x, &t).value;
            let diff = unbounded.sub(&wrapped).mant_at(t.frac_bits());
            prop_assert!(diff.low_bits(t.width).is_zero(), "{x}: {unbounded} vs {wrapped} in {t}");
        }
    }

    /// `int<W>` conversion truncates toward zero, then wraps.
    #[test]
    fn int_conversion(w in 1u32..=128, signed in any::<bool>(), x in value()) {
        let t = IntType::new(w, signed);
        let r = to_int(&x, &t).value;
        let whole = x.trunc_to_int();
        let expect = if signed { whole.wrap_signed(w) } else { whole.low_bits(w) };
        prop_assert_eq!(r, Fx::new(expect, 0));
    }

    /// Exact arithmetic: sums, differences and products invert exactly.
    #[test]
    fn exact_arithmetic(a in value(), b in value()) {
        prop_assert_eq!(a.add(&b).sub(&b), a.clone());
        if !b.is_zero() {
            let p = a.mul(&b);
            let q = p.div_trunc(&b, a.frac.max(0) + 1).unwrap();
            prop_assert_eq!(q, a.clone());
        }
        prop_assert_eq!(a.shl(5).shr(5, a.frac), a);
    }
}
