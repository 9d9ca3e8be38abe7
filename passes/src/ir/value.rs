//! Scalar values and the one conversion function every stage uses.
//!
//! [`convert`] is assignment semantics: what `Assign`, `Store` and `Cast` do, what loading a
//! `.npy` array into a typed parameter does, and what constant folding does. The
//! interpreter, the JIT's constant tables and the HLS emitter's ROM contents all go through
//! it, so they cannot disagree.

use kiln_numeric::float::{
    f32_to_f64, f32_to_fx_or_huge, f64_to_f32, f64_to_fx_or_huge, fx_to_f32, fx_to_f64,
};
use kiln_numeric::{to_fixed, to_int, Fx, ScalarType};

/// A constant scalar.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    F32(f32),
    F64(f64),
    /// An exact value (int, fixed, bin, tern).
    Num(Fx),
}

/// What a conversion did to a value.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Lossy {
    /// Low bits were dropped (rounding), or a bin/tern value was binarized.
    pub rounded: bool,
    /// The value did not fit and the overflow mode changed it.
    pub overflowed: bool,
}

/// Converts `v` (of any type) to type `to`.
///
/// - exact → fixed: quantization then overflow, with `to`'s modes (ap_fixed);
/// - exact → int/uint: truncation toward zero, then wrap (ap_int);
/// - exact → bin: `+1` if `v >= 0`, else `-1`; → tern: the sign (-1, 0, +1);
/// - exact → f32 or f64: nearest, ties to even; → bool: `v != 0`;
/// - f32 or f64 → exact: the float's exact value, converted as above (infinities and NaN as
///   the Vitis headers read them: a magnitude of 2^1024, so they saturate or wrap to 0);
/// - f32 → f64: exact; f64 → f32: nearest, ties to even (NaN keeps its sign and payload's
///   high bits, as the hardware converts);
/// - bool → numeric: 0 or 1.
pub fn convert(v: &Value, to: &ScalarType) -> (Value, Lossy) {
    let exact = match v {
        Value::Bool(b) => Fx::int(*b as i128),
        Value::F32(f) => {
            if let ScalarType::F32 = to {
                return (Value::F32(*f), Lossy::default());
            }
            if let ScalarType::Bool = to {
                return (Value::Bool(*f != 0.0), Lossy::default());
            }
            if let ScalarType::F64 = to {
                return (Value::F64(f32_to_f64(*f)), Lossy::default());
            }
            f32_to_fx_or_huge(*f)
        }
        Value::F64(f) => match to {
            ScalarType::F64 => return (Value::F64(*f), Lossy::default()),
            ScalarType::Bool => return (Value::Bool(*f != 0.0), Lossy::default()),
            ScalarType::F32 => {
                let g = f64_to_f32(*f);
                let rounded = f.is_finite() && f32_to_f64(g) != *f;
                let overflowed = f.is_finite() && !g.is_finite();
                return (
                    Value::F32(g),
                    Lossy {
                        rounded,
                        overflowed,
                    },
                );
            }
            _ => f64_to_fx_or_huge(*f),
        },
        Value::Num(x) => x.clone(),
    };
    convert_exact(&exact, to)
}

/// Converts an exact value to `to` (see [`convert`]).
pub fn convert_exact(x: &Fx, to: &ScalarType) -> (Value, Lossy) {
    match to {
        ScalarType::Bool => (Value::Bool(!x.is_zero()), Lossy::default()),
        ScalarType::F32 => {
            let f = fx_to_f32(x);
            let back = kiln_numeric::float::f32_to_fx(f);
            let rounded = back.as_ref() != Some(x);
            (
                Value::F32(f),
                Lossy {
                    rounded,
                    overflowed: !f.is_finite(),
                },
            )
        }
        ScalarType::F64 => {
            let f = fx_to_f64(x);
            let back = kiln_numeric::float::f64_to_fx(f);
            let rounded = back.as_ref() != Some(x);
            (
                Value::F64(f),
                Lossy {
                    rounded,
                    overflowed: !f.is_finite(),
                },
            )
        }
        ScalarType::Bin => {
            let r = if x.is_negative() { -1 } else { 1 };
            let exact = *x == Fx::int(r);
            (
                Value::Num(Fx::int(r)),
                Lossy {
                    rounded: !exact,
                    overflowed: false,
                },
            )
        }
        ScalarType::Tern => {
            let r = x.mant.signum() as i128;
            let exact = *x == Fx::int(r);
            (
                Value::Num(Fx::int(r)),
                Lossy {
                    rounded: !exact,
                    overflowed: false,
                },
            )
        }
        ScalarType::Int(t) => {
            let c = to_int(x, t);
            (
                Value::Num(c.value),
                Lossy {
                    rounded: c.rounded,
                    overflowed: c.overflowed,
                },
            )
        }
        ScalarType::Fixed(t) => {
            let c = to_fixed(x, t);
            (
                Value::Num(c.value),
                Lossy {
                    rounded: c.rounded,
                    overflowed: c.overflowed,
                },
            )
        }
    }
}

impl Value {
    /// The exact value of a numeric value (not of a float or bool).
    pub fn as_exact(&self) -> Option<&Fx> {
        match self {
            Value::Num(x) => Some(x),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The nearest f64, for printing and `.npy` output.
    pub fn to_f64(&self) -> f64 {
        match self {
            Value::Bool(b) => *b as u8 as f64,
            Value::F32(f) => f32_to_f64(*f),
            Value::F64(f) => *f,
            Value::Num(x) => x.to_f64_lossy(),
        }
    }

    /// A short display form: `3.25`, `-1`, `true`, `0.1f`.
    pub fn display(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::F32(f) => format!("{f:?}"),
            Value::F64(f) => format!("{f:?}"),
            Value::Num(x) => x.to_string(),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// Parses a real literal's source text exactly as the nearest f64 does (the decimal value
/// rounded to binary64, as C++ and Python read it), and says whether that was exact.
pub fn real_literal(text: &str) -> Option<(f64, bool)> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let v: f64 = clean.parse().ok()?;
    Some((v, decimal_is_exactly(&clean, v)))
}

/// Whether the decimal `text` denotes exactly the binary value `v`.
fn decimal_is_exactly(text: &str, v: f64) -> bool {
    // A non-zero binary64's exact decimal expansion leads with a digit between 10^-1075
    // and 10^309: a literal whose leading digit lies far outside is not one, and writing
    // it out (`1e-9223372036854775807`) would take time and memory in its exponent.
    match leading_digit_exponent(text) {
        None => return v == 0.0,
        Some(e) if !(-1100..=400).contains(&e) => return false,
        Some(_) => {}
    }
    // Compare v's exact decimal expansion with the literal's digits.
    let Some(x) = kiln_numeric::float::f64_to_fx(v) else {
        return false;
    };
    let exact = x.to_string();
    normalize_decimal(text) == normalize_decimal(&exact)
}

/// The power of ten of a decimal literal's first non-zero digit (`120.5` → 2, `0.03e-2` →
/// -4), saturating for exponents beyond an i64; `None` when every digit is zero.
fn leading_digit_exponent(text: &str) -> Option<i64> {
    let body = text.trim_start_matches(['-', '+']);
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => {
            let e = &body[i + 1..];
            let exp = e.parse::<i64>().unwrap_or(if e.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            });
            (&body[..i], exp)
        }
        None => (body, 0),
    };
    let int_len = mant.find('.').unwrap_or(mant.len()) as i64;
    let digits = mant.chars().filter(|c| c.is_ascii_digit());
    let first = digits.clone().position(|c| c != '0')? as i64;
    Some(exp.saturating_add(int_len - 1 - first))
}

/// `-1.50e1` → `-15`, `0.500` → `0.5`: a canonical decimal string (no exponent).
fn normalize_decimal(text: &str) -> String {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i64>().unwrap_or(0)),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mant.find('.') {
        Some(i) => (&mant[..i], &mant[i + 1..]),
        None => (mant, ""),
    };
    let mut digits: String = format!("{int_part}{frac_part}");
    let mut point = int_part.len() as i64 + exp;
    // Pad so the point lies within the digits.
    while point < 0 {
        digits.insert(0, '0');
        point += 1;
    }
    while point as usize > digits.len() {
        digits.push('0');
    }
    let (i, f) = digits.split_at(point as usize);
    let i = i.trim_start_matches('0');
    let f = f.trim_end_matches('0');
    let i = if i.is_empty() { "0" } else { i };
    let body = if f.is_empty() {
        i.to_string()
    } else {
        format!("{i}.{f}")
    };
    if neg && body != "0" {
        format!("-{body}")
    } else {
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_with_huge_exponents_are_decided_at_once() {
        assert_eq!(leading_digit_exponent("120.5"), Some(2));
        assert_eq!(leading_digit_exponent("0.03e-2"), Some(-4));
        assert_eq!(leading_digit_exponent("0.0e5"), None);
        assert_eq!(real_literal("1e-9223372036854775807"), Some((0.0, false)));
        assert_eq!(real_literal("0e-9223372036854775807"), Some((0.0, true)));
        assert_eq!(
            real_literal("1e99999999999999999999").map(|r| r.1),
            Some(false)
        );
        assert_eq!(real_literal("0.375"), Some((0.375, true)));
        assert_eq!(real_literal("0.1").map(|r| r.1), Some(false));
    }

    #[test]
    fn real_literals() {
        assert_eq!(real_literal("0.5"), Some((0.5, true)));
        assert_eq!(real_literal("1.25e1"), Some((12.5, true)));
        assert_eq!(real_literal("0.1").map(|r| r.1), Some(false));
        assert_eq!(real_literal(".125").map(|r| r.1), Some(true));
        assert_eq!(real_literal("3.").map(|r| r.1), Some(true));
        assert_eq!(real_literal("-0.75").map(|r| r.1), Some(true));
        assert_eq!(real_literal("1e-3").map(|r| r.1), Some(false));
    }

    #[test]
    fn conversions() {
        let t: ScalarType = "fixed<8,4,rnd,sat>".parse().unwrap();
        let (v, l) = convert(&Value::F32(100.0), &t);
        assert_eq!(v.display(), "7.9375");
        assert!(l.overflowed);
        let (v, l) = convert(&Value::Num(Fx::int(-3)), &ScalarType::Bin);
        assert_eq!(v.display(), "-1");
        assert!(l.rounded);
        let (v, _) = convert(&Value::Num(Fx::int(0)), &ScalarType::Tern);
        assert_eq!(v.display(), "0");
        let (v, _) = convert(&Value::F32(f32::INFINITY), &"int<8>".parse().unwrap());
        assert_eq!(v.display(), "0");
    }
}
