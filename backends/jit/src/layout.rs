//! How values live in native memory and registers.
//!
//! | kiln type | storage / register |
//! |---|---|
//! | `bool` | one byte, 0 or 1 |
//! | `f32` | IEEE binary32 |
//! | `f64` | IEEE binary64 |
//! | `bin`, `tern` | one signed byte holding -1, 0 or +1 |
//! | `int<W>`, `uint<W>`, `fixed<W, I>` | the mantissa (value × 2^F) in the narrowest of 8, 16, 32, 64 or 128 bits that holds W bits, sign-extended for signed types and zero-extended for unsigned ones |
//!
//! Types wider than 128 bits are not supported by the JIT (a compile-time diagnostic).

use kiln_numeric::{Fx, Int, ScalarType};
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Value;

/// A storage class: what one element looks like in memory.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Store {
    Bool,
    F32,
    F64,
    /// A two's complement integer of `bits` bits (8, 16, 32, 64, 128).
    Int {
        bits: u32,
        signed: bool,
    },
}

impl Store {
    pub fn bytes(self) -> usize {
        match self {
            Store::Bool => 1,
            Store::F32 => 4,
            Store::F64 => 8,
            Store::Int { bits, .. } => bits as usize / 8,
        }
    }
}

/// The smallest native width (8, 16, 32, 64 or 128) holding `w` bits, or `None` above 128.
pub fn container(w: u32) -> Option<u32> {
    [8, 16, 32, 64, 128].into_iter().find(|&c| c >= w)
}

/// The storage of a type, or `None` when it is too wide for the JIT.
pub fn store_of(t: &ScalarType) -> Option<Store> {
    Some(match t {
        ScalarType::Bool => Store::Bool,
        ScalarType::F32 => Store::F32,
        ScalarType::F64 => Store::F64,
        ScalarType::Bin | ScalarType::Tern => Store::Int {
            bits: 8,
            signed: true,
        },
        ScalarType::Int(i) => Store::Int {
            bits: container(i.width)?,
            signed: i.signed,
        },
        ScalarType::Fixed(f) => Store::Int {
            bits: container(f.width)?,
            signed: f.signed,
        },
    })
}

/// Fractional bits of an exact type (0 for integers, bin and tern).
pub fn frac_of(t: &ScalarType) -> i32 {
    t.frac_bits().unwrap_or(0)
}

/// The mantissa of `x` at `frac` fractional bits, as 128-bit two's complement (its low
/// 128 bits: a `uint<128>` value keeps its bit pattern).
pub fn low_bits128(x: &Fx, frac: i32) -> i128 {
    let m = x.mant_at(frac);
    let lo = m.low_bits(64).to_i128().expect("64 bits");
    let hi = m.shr_floor(64).low_bits(64).to_i128().expect("64 bits");
    (hi << 64) | lo
}

/// Encodes values of type `t` into native bytes.
pub fn encode(t: &ScalarType, values: &[Value], out: &mut Vec<u8>) {
    let store = store_of(t).expect("type checked by the compiler");
    let frac = frac_of(t);
    out.clear();
    out.reserve(values.len() * store.bytes());
    for v in values {
        match (store, v) {
            (Store::Bool, Value::Bool(b)) => out.push(*b as u8),
            (Store::F32, Value::F32(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (Store::F64, Value::F64(f)) => out.extend_from_slice(&f.to_le_bytes()),
            (Store::Int { bits, .. }, Value::Num(x)) => {
                let m = low_bits128(x, frac);
                out.extend_from_slice(&m.to_le_bytes()[..bits as usize / 8]);
            }
            (s, v) => panic!("value {v:?} does not match storage {s:?}"),
        }
    }
}

/// Decodes `n` values of type `t` from native bytes.
pub fn decode(t: &ScalarType, bytes: &[u8], n: usize) -> Vec<Value> {
    let store = store_of(t).expect("type checked by the compiler");
    let frac = frac_of(t);
    let size = store.bytes();
    (0..n)
        .map(|i| {
            let b = &bytes[i * size..(i + 1) * size];
            match store {
                Store::Bool => Value::Bool(b[0] != 0),
                Store::F32 => Value::F32(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
                Store::F64 => Value::F64(f64::from_le_bytes(b.try_into().expect("8 bytes"))),
                Store::Int { bits, signed } => {
                    let mut raw = [0u8; 16];
                    raw[..size].copy_from_slice(b);
                    let v = i128::from_le_bytes(raw);
                    let shift = 128 - bits;
                    let v = if signed {
                        (v << shift) >> shift
                    } else {
                        ((v as u128) << shift >> shift) as i128
                    };
                    let m = if !signed && bits == 128 {
                        Int::from(v as u128)
                    } else {
                        Int::from(v)
                    };
                    Value::Num(Fx::new(m, frac))
                }
            }
        })
        .collect()
}

/// A tensor's bytes, decoded.
pub fn tensor_value(t: &ScalarType, shape: &[usize], bytes: &[u8]) -> TensorValue {
    let n = shape.iter().product();
    TensorValue {
        elem: *t,
        shape: shape.to_vec(),
        values: decode(t, bytes, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for (t, vals) in [
            ("fixed<8,4>", vec![-8.0, 7.9375, 0.0625, -0.0625]),
            ("ufixed<12,2>", vec![0.0, 3.999755859375, 1.5]),
            ("int<70>", vec![-5.0, 123456789.0]),
            ("uint<128>", vec![0.0, 1e30]),
            ("fixed<5,9>", vec![-256.0, 240.0, 16.0]),
        ] {
            let ty: ScalarType = t.parse().unwrap();
            let values: Vec<Value> = vals
                .iter()
                .map(|&f| {
                    let x = kiln_numeric::float::f64_to_fx(f).unwrap();
                    kiln_passes::value::convert_exact(&x, &ty).0
                })
                .collect();
            let mut bytes = Vec::new();
            encode(&ty, &values, &mut bytes);
            assert_eq!(decode(&ty, &bytes, values.len()), values, "{t}");
        }
    }
}
