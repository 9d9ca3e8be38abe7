//! One compute node → one native function.
//!
//! Every compute node becomes `extern "C" fn(ptrs: *const *mut u8, ctx: *mut ErrCtx, lo: i64,
//! hi: i64) -> i32`: `ptrs[k]` is the buffer of the node's k-th slot (`node::Slot`), the
//! outer loop runs from `lo` to `hi` when the runtime splits it across threads, the return value
//! is 0, or 1 after filling `ctx` with a run-time error (an index out of bounds, a division
//! by zero).
//!
//! Values are kept as in layout.rs: an exact value of inferred type `T` is its mantissa in
//! the narrowest native integer holding `T`'s width. Every operation widens its operands to
//! its own (inferred) type first, so nothing overflows and results are exact; conversions to
//! declared types emit the quantization and overflow sequence of the target's modes, and
//! skip whatever the value's range makes unnecessary. Rare, wide or intricate cases (128-bit
//! division, f32 ↔ fixed conversions of 128-bit values, the `wrap_sm` and saturation-bit
//! overflow modes) call small Rust helpers that use kiln-numeric itself.
//!
//! The files, one concept each (the code generators are `impl Gen` blocks on [`gen::Gen`]):
//! - error.rs: run-time error codes and context, why a node cannot be compiled;
//! - gen.rs: the generator's state and small tools; fail.rs: run-time failure exits;
//! - memory.rs: addresses, bounds checks, loads; stmt.rs: statements and locals;
//! - control.rs: loops and branches; popcount.rs: binary dot product steps; dotnest.rs:
//!   whole binary reduction nests in 128-bit registers, register-blocked;
//! - expr.rs, binary.rs, division.rs: expressions; compare.rs: condition codes;
//! - convert.rs: conversions to declared types; calls.rs: calls to the Rust helpers;
//! - node.rs: a node's functions defined in the JIT module;
//! - vector/: SIMD code for loops whose iterations are independent.
//!
//! The representation of values is rep.rs at the crate root (shared with arith.rs and
//! locals.rs).

mod binary;
mod calls;
mod compare;
mod control;
mod convert;
mod division;
mod dotnest;
pub mod error;
mod expr;
mod fail;
pub mod gen;
mod memory;
pub mod node;
mod popcount;
mod stmt;
pub mod vector;

pub use crate::codegen::error::{
    ErrCtx, Site, Unsupported, ERR_BOUNDS, ERR_CALL, ERR_DIV_ZERO, ERR_FAIL, R,
};
pub use crate::codegen::node::{
    compile_node, node_signature, CompiledNode, NodeEntry, NodeJob, Slot,
};
