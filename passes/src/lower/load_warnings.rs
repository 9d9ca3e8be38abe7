//! W0802: what a load's conversion did to the data, said so that a user notices.
//!
//! Loading float data into a fixed-point type rounds every value by up to one step of the
//! type, which is what a user expects. What they do not expect, and what used to pass
//! silently, is data that the conversion changed beyond that: values that wrap or
//! saturate, unquantized fractions loaded into an integer type (weights of 0.12 and -0.3
//! into `int<8>` are all zero), a type whose step is coarser than the data (`fixed<6, 16>`
//! with `W` and `I` swapped turns them into 0 and -1024), and floats forced into `bin` or
//! `tern`. Each gets one warning with the count, the largest error, an example and a type
//! that would hold the data. Module parameters (lowering) and kernel inputs (the driver)
//! share this function, so both say the same thing.

use crate::data::{unflatten, ConversionReport, ExactLoadStats};
use kiln_lang::diag::{codes, Diagnostic};
use kiln_lang::Span;
use kiln_numeric::ScalarType;

/// Where loaded data goes, for messages: `` `w` `` or `` input `x` ``.
pub struct LoadTarget<'a> {
    pub what: String,
    pub elem: &'a ScalarType,
    /// The file (as written) the data came from.
    pub source: &'a str,
    pub shape: &'a [usize],
    pub span: Span,
}

/// The W0802 warnings of one load, in a fixed order: overflow, then fractions lost in an
/// integer type or data destroyed by a too-coarse type, then values forced into bin/tern.
pub fn conversion_warnings(report: &ConversionReport, target: &LoadTarget) -> Vec<Diagnostic> {
    let LoadTarget {
        what,
        elem,
        source,
        shape,
        span,
    } = target;
    let at = |i: usize| format!("{:?}", unflatten(i, shape));
    let mut out = Vec::new();
    let holding = report
        .exact
        .as_ref()
        .and_then(|s| s.holding_type(elem))
        .map(|t| format!("`{t}` holds every value of the data"));
    let largest_error = |s: &ExactLoadStats| {
        s.largest_error.as_ref().map(|(i, raw, got, err)| {
            format!(
                "the largest error is {err} ({raw} at {} becomes {})",
                at(*i),
                got.display()
            )
        })
    };
    if let Some((i, raw, got)) = &report.first_overflow {
        let mut d = Diagnostic::warning(
            codes::LOSSY_LOAD,
            format!(
                "{} value(s) of {source} do not fit {what}'s type {elem}",
                report.overflowed
            ),
        )
        .at(*span)
        .note(format!(
            "the first is {raw} at {}, which becomes {}",
            at(*i),
            got.display()
        ));
        if let Some(note) = report.exact.as_ref().and_then(largest_error) {
            d = d.note(note);
        }
        let wraps = !matches!(elem, ScalarType::Fixed(t) if !t.overflow.is_wrapping());
        let or_sat = if wraps {
            ", or a saturating overflow mode (`sat`)"
        } else {
            ""
        };
        let help = match &holding {
            Some(h) if wraps => format!("{h}; or use a saturating overflow mode (`sat`)"),
            Some(h) => h.clone(),
            None => format!("choose a type with more integer bits{or_sat}"),
        };
        out.push(d.help(help));
    }
    if let Some(stats) = &report.exact {
        let integer_type = elem.frac_bits().is_some_and(|f| f <= 0);
        let changed_fractions = integer_type && stats.non_integer > 0;
        if changed_fractions || stats.destroyed() {
            let message = if changed_fractions {
                let step = match elem.frac_bits() {
                    Some(f) if f < 0 => format!(" (its step is {})", 2f64.powi(-f)),
                    _ => String::new(),
                };
                format!(
                    "{} value(s) of {source} are not integers, and {what}'s type {elem} has no \
                     fraction bits{step}",
                    stats.non_integer
                )
            } else {
                format!(
                    "{what}'s type {elem} is too coarse for the values of {source}: {} of {} \
                     non-zero value(s) become 0",
                    stats.zeroed, stats.nonzero
                )
            };
            let mut d = Diagnostic::warning(codes::LOSSY_LOAD, message).at(*span);
            if let Some((i, raw, got)) = &stats.first_non_integer {
                d = d.note(format!(
                    "for example {raw} at {} becomes {}",
                    at(*i),
                    got.display()
                ));
            }
            if let Some(note) = largest_error(stats) {
                d = d.note(note);
            }
            if changed_fractions && stats.zeroed > 0 {
                d = d.note(format!(
                    "{} of {} non-zero value(s) become 0",
                    stats.zeroed, stats.nonzero
                ));
            }
            if let ScalarType::Fixed(t) = elem {
                if t.int_bits > t.width as i32 {
                    d = d.note(format!(
                        "`fixed<W, I>` has W = {} bits in all, of which I = {} are integer \
                         bits: were W and I swapped?",
                        t.width, t.int_bits
                    ));
                }
            }
            let help = match &holding {
                Some(h) => format!(
                    "{h}; or quantize the data to {elem} before saving it (`kiln quantize`)"
                ),
                None => format!("quantize the data to {elem} before saving it (`kiln quantize`)"),
            };
            out.push(d.help(help));
        }
    }
    if let Some((i, raw, got)) = &report.first_binarized {
        let set = if **elem == ScalarType::Bin {
            "{-1, +1}"
        } else {
            "{-1, 0, +1}"
        };
        out.push(
            Diagnostic::warning(
                codes::LOSSY_LOAD,
                format!(
                    "{} value(s) of {source} are not in {set} and were quantized to {what}'s type \
                     {elem}",
                    report.binarized
                ),
            )
            .at(*span)
            .note(format!(
                "the first is {raw} at {}, which becomes {}",
                at(*i),
                got.display()
            ))
            .help(
                "quantize the weights before exporting them, so that the file holds exactly the \
                 values used",
            ),
        );
    }
    out
}
