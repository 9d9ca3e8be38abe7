//! Values in SIMD code ([`V`]: uniform, lanes, masks) and the vector types of lanes.

use crate::rep::Rep;
use cranelift_codegen::ir::{types, Endianness, MemFlagsData, Type, Value as CValue};
use kiln_numeric::ScalarType;

/// A value in SIMD code.
#[derive(Clone)]
pub(crate) enum V {
    /// The same in every lane: scalar code.
    U(CValue, Rep),
    /// `VF` lanes of `rep` in registers.
    L(Vec<CValue>, Rep),
    /// `VF` lane masks (all ones: true) of `bits`-bit lanes.
    M(Vec<CValue>, u32),
}

/// The vector type with lanes of `bits` (integers) or f32.
pub(crate) fn vty(bits: u32, float: bool) -> Type {
    match (bits, float) {
        (32, true) => types::F32X4,
        (8, _) => types::I8X16,
        (16, _) => types::I16X8,
        (32, _) => types::I32X4,
        _ => types::I64X2,
    }
}

pub(crate) fn rep_vty(r: Rep) -> Type {
    match r {
        Rep::Bool => types::I8X16,
        Rep::F32 => types::F32X4,
        Rep::F64 => types::F64X2,
        Rep::Exact { bits, .. } => vty(bits, false),
    }
}

pub(crate) fn rep_bits(r: Rep) -> u32 {
    match r {
        Rep::Bool => 8,
        Rep::F32 => 32,
        Rep::F64 => 64,
        Rep::Exact { bits, .. } => bits,
    }
}

pub(crate) fn lanes_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

/// The representation of a local or tensor element of type `t` (checked by the plan).
pub(crate) fn local_rep(t: &ScalarType) -> Rep {
    Rep::of(t).expect("plan checked the width")
}

/// Lane bits of a value of type `t` in SIMD code (`None`: no SIMD form; f64 code stays
/// scalar).
pub(crate) fn lane_bits(t: &ScalarType) -> Option<u32> {
    match Rep::of(t)? {
        Rep::Bool => Some(8),
        Rep::F32 => Some(32),
        Rep::F64 => None,
        Rep::Exact { bits, .. } => (bits <= 64).then_some(bits),
    }
}
