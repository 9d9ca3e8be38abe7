//! How a kiln value is held in cranelift values: [`Rep`].
//!
//! A bool is an `i8` 0/1, an f32 an `f32`, an f64 an `f64`; an exact value (int, fixed, bin, tern) of type
//! `T` is its mantissa in the narrowest native integer holding `T`'s width (layout.rs),
//! sign- or zero-extended. Scalar and SIMD code share these representations.

use crate::layout::container;
use cranelift_codegen::ir::{types, Type};
use kiln_numeric::ScalarType;

/// How an SSA value represents a kiln value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rep {
    Bool,
    F32,
    F64,
    /// A mantissa with `frac` fractional bits, `width` significant bits, in a `bits`-bit
    /// integer, sign- or zero-extended.
    Exact {
        bits: u32,
        width: u32,
        signed: bool,
        frac: i32,
    },
}

/// The fields of [`Rep::Exact`], for code that only handles exact values.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Exact {
    pub bits: u32,
    pub width: u32,
    pub signed: bool,
    pub frac: i32,
}

impl Rep {
    /// A 64-bit signed integer (loop variables, data-dependent indices).
    pub const I64: Rep = Rep::full(64, true, 0);

    /// An exact value that uses its whole `bits`-bit container.
    pub const fn full(bits: u32, signed: bool, frac: i32) -> Rep {
        Rep::Exact {
            bits,
            width: bits,
            signed,
            frac,
        }
    }

    /// Whether this is an IEEE float (f32 or f64).
    pub fn is_float(self) -> bool {
        matches!(self, Rep::F32 | Rep::F64)
    }

    /// The fields of an exact representation (`None` for bool and floats).
    pub fn exact(self) -> Option<Exact> {
        match self {
            Rep::Exact {
                bits,
                width,
                signed,
                frac,
            } => Some(Exact {
                bits,
                width,
                signed,
                frac,
            }),
            _ => None,
        }
    }

    pub fn of(t: &ScalarType) -> Option<Rep> {
        Some(match t {
            ScalarType::Bool => Rep::Bool,
            ScalarType::F32 => Rep::F32,
            ScalarType::F64 => Rep::F64,
            ScalarType::Bin | ScalarType::Tern => Rep::Exact {
                bits: 8,
                width: 2,
                signed: true,
                frac: 0,
            },
            ScalarType::Int(i) => Rep::Exact {
                bits: container(i.width)?,
                width: i.width,
                signed: i.signed,
                frac: 0,
            },
            ScalarType::Fixed(f) => Rep::Exact {
                bits: container(f.width)?,
                width: f.width,
                signed: f.signed,
                frac: f.frac_bits(),
            },
        })
    }

    pub fn ty(self) -> Type {
        match self {
            Rep::Bool => types::I8,
            Rep::F32 => types::F32,
            Rep::F64 => types::F64,
            Rep::Exact { bits, .. } => int_ty(bits),
        }
    }
}

/// The integer type of a `bits`-bit container.
pub fn int_ty(bits: u32) -> Type {
    match bits {
        8 => types::I8,
        16 => types::I16,
        32 => types::I32,
        64 => types::I64,
        _ => types::I128,
    }
}

/// One representation holding two exact values for comparison: aligned fractional bits
/// and a container with room for both ranges and signedness.
pub fn common_rep(xr: Rep, yr: Rep) -> Option<Rep> {
    let (
        Rep::Exact {
            width: wa,
            signed: sa,
            frac: fa,
            ..
        },
        Rep::Exact {
            width: wb,
            signed: sb,
            frac: fb,
            ..
        },
    ) = (xr, yr)
    else {
        return None;
    };
    let f = fa.max(fb);
    let wa = wa as i32 + (f - fa);
    let wb = wb as i32 + (f - fb);
    let w = (wa.max(wb) + i32::from(sa != sb)) as u32;
    Some(Rep::Exact {
        bits: container(w)?,
        width: w,
        signed: sa || sb,
        frac: f,
    })
}
