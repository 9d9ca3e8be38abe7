//! kiln-numeric: the value semantics every kiln engine shares.
//!
//! kiln's element types are those of Vitis HLS (`ap_fixed`, `ap_ufixed`, `ap_int`,
//! `ap_uint`) plus `bin`, `tern`, `f32` and `bool`. This crate defines them once:
//! - [`types`]: the types, their modes and limits, and their spelling;
//! - [`bigint`]: the unbounded integers that hold mantissas;
//! - [`fixed`]: exact values and the conversions that quantize and overflow;
//! - [`float`]: exact conversions to and from IEEE binary32 / binary64;
//! - [`interval`]: interval arithmetic and the narrowest type of a range, for type
//!   inference.
//!
//! The front end uses it to type literals, the passes to infer types and quantize loaded
//! parameters, and every back end (interpreter, JIT, HLS emitter) to agree on results.
//! The conformance suite (numeric/conformance) checks it against the real Xilinx headers.

pub mod bigint;
pub mod fixed;
pub mod float;
pub mod interval;
pub mod lut;
pub mod math;
pub mod types;

pub use bigint::Int;
pub use fixed::{to_fixed, to_int, Converted, Fx};
pub use interval::{narrowest_type, Interval};
pub use lut::LutSpec;
pub use math::MathFn;
pub use types::{
    FixedType, IntType, Overflow, Quant, ScalarType, TypeError, MAX_DECLARED_WIDTH, MAX_WIDTH,
};
