//! Run-time overflow counts: what `kiln run --check-overflow` reports.
//!
//! Type inference proves most conversions safe and warns (W0801) where a declared type
//! with a wrapping mode may overflow; but whether a network's data actually overflows is
//! only known when it runs. With the check on, both engines count, at every conversion to
//! an `int` or `fixed` type (an assignment, a store, an explicit conversion) that type
//! inference could not prove safe, the values that did not fit, and the smallest and
//! largest of them, as quantized before the overflow mode changed them. They tally into
//! an [`OverflowReport`], keyed by the converted expression's span and the target type,
//! so the interpreter and the JIT report the same numbers for the same run.
//!
//! Conversions to `f32`, `f64`, `bin` and `tern` are not counted: they do not overflow in the
//! wrap-or-saturate sense (a value too large for f32 becomes an infinity).

use crate::value::Value;
use kiln_lang::diag::{codes, Diagnostic};
use kiln_lang::Span;
use kiln_numeric::float::{f32_to_fx_or_huge, f64_to_fx_or_huge};
use kiln_numeric::interval::narrowest_type;
use kiln_numeric::{to_fixed, to_int, Fx, Interval, Overflow, ScalarType};
use std::collections::HashMap;

/// The overflows at one conversion site.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteTally {
    pub count: u64,
    /// The smallest and largest value that did not fit (quantized, before overflow).
    pub lowest: Fx,
    pub highest: Fx,
}

/// Overflow counts of a run, per conversion site.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OverflowReport {
    sites: HashMap<(Span, ScalarType), SiteTally>,
}

/// The value that did not fit when converting `v` to `to` overflowed: the quantized value
/// before the overflow mode changed it. `None` when the conversion fits, or when `to` is
/// not an `int` or `fixed` type.
pub fn unfitted_value(v: &Value, to: &ScalarType) -> Option<Fx> {
    let exact = match v {
        Value::Bool(b) => Fx::int(*b as i128),
        Value::F32(f) => f32_to_fx_or_huge(*f),
        Value::F64(f) => f64_to_fx_or_huge(*f),
        Value::Num(x) => x.clone(),
    };
    match to {
        ScalarType::Int(t) => to_int(&exact, t).unfitted,
        ScalarType::Fixed(t) => to_fixed(&exact, t).unfitted,
        _ => None,
    }
}

impl OverflowReport {
    /// Counts one value that did not fit `to` at the conversion of the expression at `span`.
    pub fn record(&mut self, span: Span, to: ScalarType, unfitted: Fx) {
        match self.sites.get_mut(&(span, to)) {
            Some(t) => {
                t.count += 1;
                if unfitted < t.lowest {
                    t.lowest = unfitted;
                } else if unfitted > t.highest {
                    t.highest = unfitted;
                }
            }
            None => {
                self.sites.insert(
                    (span, to),
                    SiteTally {
                        count: 1,
                        lowest: unfitted.clone(),
                        highest: unfitted,
                    },
                );
            }
        }
    }

    /// Adds another report's counts (a thread's, or a callee's).
    pub fn merge(&mut self, other: OverflowReport) {
        for ((span, to), t) in other.sites {
            match self.sites.get_mut(&(span, to)) {
                Some(mine) => {
                    mine.count += t.count;
                    if t.lowest < mine.lowest {
                        mine.lowest = t.lowest;
                    }
                    if t.highest > mine.highest {
                        mine.highest = t.highest;
                    }
                }
                None => {
                    self.sites.insert((span, to), t);
                }
            }
        }
    }

    /// The sites that overflowed, in source order.
    pub fn sites(&self) -> Vec<(Span, ScalarType, &SiteTally)> {
        let mut v: Vec<_> = self.sites.iter().map(|((s, t), n)| (*s, *t, n)).collect();
        v.sort_by_key(|(s, t, _)| (s.file, s.start, s.end, t.to_string()));
        v
    }

    /// The number of values that overflowed, over every site.
    pub fn total(&self) -> u64 {
        self.sites.values().map(|t| t.count).sum()
    }

    /// One W0804 per site, in source order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        self.sites()
            .into_iter()
            .map(|(span, to, t)| site_diagnostic(span, &to, t))
            .collect()
    }
}

fn what_happened(to: &ScalarType) -> &'static str {
    match to {
        ScalarType::Fixed(t) => match t.overflow {
            Overflow::Wrap | Overflow::WrapSm => "wrapped",
            Overflow::Sat | Overflow::SatSym => "saturated",
            Overflow::SatZero => "became 0",
        },
        _ => "wrapped",
    }
}

/// An exact value for a message; the stand-in of an f32 infinity or NaN (2^1024 and
/// beyond) as such.
fn shown(x: &Fx) -> String {
    if x.abs() >= Fx::new(kiln_numeric::Int::pow2(1023), 0) {
        if x.is_negative() {
            "-inf".into()
        } else {
            "inf (or NaN)".into()
        }
    } else {
        x.short()
    }
}

fn site_diagnostic(span: Span, to: &ScalarType, t: &SiteTally) -> Diagnostic {
    let (lo, hi) = to.value_bounds().expect("int and fixed types have bounds");
    let mut d = Diagnostic::warning(
        codes::RUNTIME_OVERFLOW,
        format!(
            "{} value(s) did not fit {to} here at run time and {}",
            t.count,
            what_happened(to)
        ),
    )
    .at(span)
    .label(format!(
        "{} value(s) from {} to {}; {to} holds [{}, {}]",
        t.count,
        shown(&t.lowest),
        shown(&t.highest),
        lo.short(),
        hi.short()
    ));
    let seen = Interval::new(lo, hi).join(&Interval::new(t.lowest.clone(), t.highest.clone()));
    let huge = Fx::new(kiln_numeric::Int::pow2(1023), 0);
    if seen.lo > huge.neg() && seen.hi < huge {
        let frac = to.frac_bits().unwrap_or(0);
        let holds = match (narrowest_type(&seen, frac), to) {
            (ScalarType::Fixed(mut wide), ScalarType::Fixed(t)) => {
                // Keep the user's modes; only the integer bits grow.
                let (width, int_bits, signed) = (wide.width, wide.int_bits, wide.signed);
                wide = *t;
                wide.width = width;
                wide.int_bits = int_bits;
                wide.signed = signed;
                wide.sat_bits = wide.sat_bits.min(width);
                ScalarType::Fixed(wide)
            }
            (wide, _) => wide,
        };
        d = d.help(format!("`{holds}` holds every value seen here"));
    }
    d
}
