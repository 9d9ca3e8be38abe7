//! Tensor data: raw arrays as read from `.npy` files, and typed constant tensors.
//!
//! The driver reads files into [`RawArray`]s (it owns all I/O); [`typed_from_raw`] converts
//! one to a kernel's element type with [`crate::value::convert`] and reports what the
//! conversion lost, so that a user learns when their weights wrap or round.

use crate::value::Value;
use crate::value::{convert, convert_exact, Lossy};
use kiln_numeric::{Fx, Interval, ScalarType};

/// The element data of an array, in the dtype it was stored with.
#[derive(Clone, Debug, PartialEq)]
pub enum RawData {
    F64(Vec<f64>),
    F32(Vec<f32>),
    I64(Vec<i64>),
    U64(Vec<u64>),
    Bool(Vec<bool>),
}

/// An n-dimensional array in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct RawArray {
    pub shape: Vec<usize>,
    pub data: RawData,
    /// The dtype as numpy spells it (`<f4`, `|i1`...), for messages.
    pub dtype: String,
}

impl RawArray {
    pub fn len(&self) -> usize {
        match &self.data {
            RawData::F64(v) => v.len(),
            RawData::F32(v) => v.len(),
            RawData::I64(v) => v.len(),
            RawData::U64(v) => v.len(),
            RawData::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_float(&self) -> bool {
        matches!(self.data, RawData::F64(_) | RawData::F32(_))
    }

    /// The element type a generic parameter takes from this array (PyLog's rule: float
    /// arrays are f32, integer arrays keep their width, bool arrays are bool).
    pub fn natural_type(&self) -> ScalarType {
        let width = self.dtype.trim_start_matches(['<', '>', '|', '=']);
        let bytes: u32 = width[1..].parse().unwrap_or(8);
        match (&self.data, width.chars().next()) {
            (RawData::F64(_) | RawData::F32(_), _) => ScalarType::F32,
            (RawData::Bool(_), _) => ScalarType::Bool,
            (_, Some('u')) => ScalarType::uint(bytes * 8),
            _ => ScalarType::int(bytes * 8),
        }
    }

    fn element(&self, i: usize) -> Value {
        match &self.data {
            // A float64 element converts as a double (to an exact type from its exact value,
            // as C++ assigning a double; to f64 as itself).
            RawData::F64(v) => Value::F64(v[i]),
            RawData::F32(v) => Value::F32(v[i]),
            RawData::I64(v) => Value::Num(Fx::int(v[i] as i128)),
            RawData::U64(v) => Value::Num(Fx::int(v[i] as i128)),
            RawData::Bool(v) => Value::Bool(v[i]),
        }
    }

    /// Entry `index` along the leading axis (a sample of a batch): shape `shape[1..]`.
    /// `None` for a scalar or an index past the axis.
    pub fn leading_entry(&self, index: usize) -> Option<RawArray> {
        let (&count, rest) = self.shape.split_first()?;
        if index >= count {
            return None;
        }
        let n = self.len() / count.max(1);
        let range = index * n..(index + 1) * n;
        let data = match &self.data {
            RawData::F64(v) => RawData::F64(v.get(range)?.to_vec()),
            RawData::F32(v) => RawData::F32(v.get(range)?.to_vec()),
            RawData::I64(v) => RawData::I64(v.get(range)?.to_vec()),
            RawData::U64(v) => RawData::U64(v.get(range)?.to_vec()),
            RawData::Bool(v) => RawData::Bool(v.get(range)?.to_vec()),
        };
        Some(RawArray {
            shape: rest.to_vec(),
            data,
            dtype: self.dtype.clone(),
        })
    }

    /// Element `i` as an f64 (for messages).
    pub fn element_f64(&self, i: usize) -> f64 {
        match &self.data {
            RawData::F64(v) => v[i],
            RawData::F32(v) => v[i] as f64,
            RawData::I64(v) => v[i] as f64,
            RawData::U64(v) => v[i] as f64,
            RawData::Bool(v) => v[i] as u8 as f64,
        }
    }
}

/// A constant tensor of the module (a loaded `param`, or a literal default).
#[derive(Clone, Debug)]
pub struct ConstData {
    pub name: String,
    pub elem: ScalarType,
    pub shape: Vec<usize>,
    pub values: Vec<Value>,
    /// Where the data came from (a path or a literal), for messages.
    pub source: String,
    /// Smallest and largest value (exact types).
    pub range: Option<Interval>,
}

/// What converting an array to a type changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversionReport {
    pub overflowed: usize,
    pub rounded: usize,
    pub first_overflow: Option<(usize, f64, Value)>,
    /// Values that are not exactly -1/+1 (bin) or -1/0/+1 (tern) and were binarized.
    pub binarized: usize,
    pub first_binarized: Option<(usize, f64, Value)>,
    /// What the conversion did to the data, for an exact numeric target (int, fixed).
    pub exact: Option<ExactLoadStats>,
}

/// How far a load into an exact type moved the data: enough to tell expected rounding
/// from data that was destroyed (unquantized floats in an integer type, `W` and `I`
/// swapped), and to suggest a type that holds the data.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ExactLoadStats {
    /// Finite values read, and how many of them are not zero.
    pub finite: usize,
    pub nonzero: usize,
    /// Non-zero values that became zero.
    pub zeroed: usize,
    /// Values with a fractional part (whatever the target type).
    pub non_integer: usize,
    /// The first value with a fractional part: index, value, converted value.
    pub first_non_integer: Option<(usize, f64, Value)>,
    /// The largest `|value - converted|`: index, value, converted value, error.
    pub largest_error: Option<(usize, f64, Value, f64)>,
    /// The largest error among the values that did not overflow: what rounding did.
    pub largest_rounding_error: f64,
    /// The smallest and largest finite value.
    pub data_range: Option<(f64, f64)>,
}

impl ExactLoadStats {
    fn record(&mut self, i: usize, raw: f64, converted: &Value, overflowed: bool) {
        if !raw.is_finite() {
            return;
        }
        self.finite += 1;
        let got = converted.to_f64();
        if raw != 0.0 {
            self.nonzero += 1;
            if got == 0.0 {
                self.zeroed += 1;
            }
        }
        if raw.fract() != 0.0 {
            self.non_integer += 1;
            if self.first_non_integer.is_none() {
                self.first_non_integer = Some((i, raw, converted.clone()));
            }
        }
        let error = (raw - got).abs();
        if !overflowed {
            self.largest_rounding_error = self.largest_rounding_error.max(error);
        }
        if self.largest_error.as_ref().is_none_or(|e| error > e.3) {
            self.largest_error = Some((i, raw, converted.clone(), error));
        }
        self.data_range = Some(match self.data_range {
            None => (raw, raw),
            Some((lo, hi)) => (lo.min(raw), hi.max(raw)),
        });
    }

    /// The largest magnitude in the data.
    pub fn largest_magnitude(&self) -> f64 {
        self.data_range
            .map(|(lo, hi)| lo.abs().max(hi.abs()))
            .unwrap_or(0.0)
    }

    /// Whether rounding destroyed the data rather than rounded it: some value that did not
    /// overflow changed by at least half the data's largest magnitude (every value zeroed,
    /// or a step far coarser than the data). Overflow is reported on its own.
    pub fn destroyed(&self) -> bool {
        let worst = self.largest_rounding_error;
        self.nonzero > 0 && worst > 0.0 && worst >= self.largest_magnitude() / 2.0
    }

    /// A type like `like` (its modes, and its width when that leaves room) that holds
    /// every value of the data without overflow, and with fraction bits when the data
    /// has fractions. `None` for data with no finite value.
    pub fn holding_type(&self, like: &ScalarType) -> Option<ScalarType> {
        let (lo, hi) = self.data_range?;
        let signed = lo < 0.0;
        // The smallest I such that [lo, hi] lies in the range of I integer bits.
        let fits = |i: i32| {
            let half = 2f64.powi(i - 1);
            if signed {
                lo >= -half && hi < half
            } else {
                hi < 2.0 * half
            }
        };
        let int_bits = (-60..=1100).find(|&i| fits(i))?;
        if self.non_integer == 0 {
            let width = u32::try_from(int_bits.max(1)).ok()?;
            return Some(if signed {
                ScalarType::int(width)
            } else {
                ScalarType::uint(width)
            });
        }
        let like_width = like.storage_bits().max(2);
        let width = like_width.max(u32::try_from((int_bits + 4).max(2)).ok()?);
        let mut fixed = match like {
            ScalarType::Fixed(t) => *t,
            _ => match ScalarType::fixed(width, int_bits) {
                ScalarType::Fixed(t) => t,
                _ => return None,
            },
        };
        fixed.width = width;
        fixed.int_bits = int_bits;
        fixed.signed = signed;
        fixed.sat_bits = fixed.sat_bits.min(width);
        Some(ScalarType::Fixed(fixed))
    }
}

/// A NaN as an `f32` the way IEEE 754 (and C++'s `(float)`) converts it: same sign, quiet,
/// the top 22 bits of the payload kept.
fn nan_to_f32(f: f64) -> f32 {
    let b = f.to_bits();
    let sign = ((b >> 63) as u32) << 31;
    let payload = ((b >> 29) & 0x3f_ffff) as u32;
    f32::from_bits(sign | 0x7fc0_0000 | payload)
}

/// Converts `raw` to element type `elem` (assignment semantics).
pub fn typed_from_raw(
    raw: &RawArray,
    elem: &ScalarType,
) -> Result<(Vec<Value>, ConversionReport), String> {
    if matches!(elem, ScalarType::Bool) && !matches!(raw.data, RawData::Bool(_)) {
        return Err(format!(
            "a bool tensor needs a bool array, not dtype {}",
            raw.dtype
        ));
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut report = ConversionReport::default();
    for i in 0..raw.len() {
        let v = raw.element(i);
        let (c, lossy): (Value, Lossy) = match (&v, elem) {
            (_, ScalarType::F32) if raw.element_f64(i).is_nan() => {
                // NaN stays NaN (its exact stand-in would round to an infinity).
                (Value::F32(nan_to_f32(raw.element_f64(i))), Lossy::default())
            }
            (Value::F64(_), ScalarType::F32) => {
                // float64 → f32 rounds to nearest like C++ (not reported as a loss).
                let (c, l) = convert(&v, elem);
                (
                    c,
                    Lossy {
                        overflowed: l.overflowed,
                        rounded: false,
                    },
                )
            }
            (Value::Num(x), ScalarType::F32) => {
                // Integers convert exactly or round to nearest.
                let (c, l) = convert_exact(x, elem);
                (
                    c,
                    Lossy {
                        overflowed: l.overflowed,
                        rounded: false,
                    },
                )
            }
            _ => convert(&v, elem),
        };
        if elem.is_exact_numeric() && !matches!(elem, ScalarType::Bin | ScalarType::Tern) {
            report
                .exact
                .get_or_insert_with(ExactLoadStats::default)
                .record(i, raw.element_f64(i), &c, lossy.overflowed);
        }
        if lossy.overflowed {
            report.overflowed += 1;
            if report.first_overflow.is_none() {
                report.first_overflow = Some((i, raw.element_f64(i), c.clone()));
            }
        }
        if lossy.rounded {
            if matches!(elem, ScalarType::Bin | ScalarType::Tern) {
                report.binarized += 1;
                if report.first_binarized.is_none() {
                    report.first_binarized = Some((i, raw.element_f64(i), c.clone()));
                }
            } else {
                report.rounded += 1;
            }
        }
        out.push(c);
    }
    Ok((out, report))
}

/// The range of a list of exact values.
pub fn value_range(values: &[Value]) -> Option<Interval> {
    let mut it = values.iter().filter_map(|v| v.as_exact());
    let first = it.next()?.clone();
    let (mut lo, mut hi) = (first.clone(), first);
    for x in it {
        if *x < lo {
            lo = x.clone();
        }
        if *x > hi {
            hi = x.clone();
        }
    }
    Some(Interval::new(lo, hi))
}

/// `[2, 3]` for a shape, and nothing for a scalar: the suffix after an element type.
pub fn shape_suffix(shape: &[usize]) -> String {
    if shape.is_empty() {
        return String::new();
    }
    format!(
        "[{}]",
        shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Row-major strides of a shape.
pub fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

/// The multi-index of flat position `i`.
pub fn unflatten(mut i: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for d in (0..shape.len()).rev() {
        idx[d] = i % shape[d].max(1);
        i /= shape[d].max(1);
    }
    idx
}

/// A tensor with values: an input or output of a kernel run.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorValue {
    pub elem: ScalarType,
    /// Row-major; empty for a scalar.
    pub shape: Vec<usize>,
    pub values: Vec<Value>,
}

impl TensorValue {
    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod nan_tests {
    use super::*;

    #[test]
    fn f64_nan_into_f32_stays_nan_with_its_sign_and_payload() {
        let bits = [
            0x7ff8_0000_0000_0000u64,
            0xfff8_0000_0000_0000,
            0x7ff4_0000_2000_0000,
        ];
        let raw = RawArray {
            dtype: "<f8".into(),
            shape: vec![3],
            data: RawData::F64(bits.iter().map(|b| f64::from_bits(*b)).collect()),
        };
        let (v, report) = typed_from_raw(&raw, &ScalarType::F32).unwrap();
        let got: Vec<u32> = v
            .iter()
            .map(|v| match v {
                Value::F32(f) => f.to_bits(),
                other => panic!("not an f32: {other:?}"),
            })
            .collect();
        assert_eq!(got, [0x7fc0_0000, 0xffc0_0000, 0x7fe0_0001]);
        assert_eq!(report, ConversionReport::default());
    }
}
