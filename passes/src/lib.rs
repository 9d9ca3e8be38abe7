//! kiln-passes: the dataflow IR and every pass over it.
//!
//! - ir.rs: the IR, documented as a spec; print.rs: its text and Graphviz forms;
//!   verify.rs: its invariants;
//! - data.rs: tensor data (raw arrays from `.npy`, typed constants); value.rs: scalar
//!   values and the conversion every stage shares;
//! - lower/: HIR → IR, instantiating kernels per shape and type (mod.rs lists its parts);
//! - infer_types/: quantization-aware type inference (run per node during lowering; mod.rs
//!   lists its parts);
//! - bounds.rs: proves accesses in bounds;
//! - estimate.rs: FPGA latency and resource estimates (`kiln report`);
//! - autoschedule.rs: the automatic FPGA schedule when the user gives none;
//! - autoblock.rs: the automatic CPU schedule (register and cache blocking);
//! - fuse.rs: fusion of a network's consecutive kernels into one loop nest;
//! - run_error.rs: the run-time error every engine reports;
//! - tile.rs: loop transformations (split, reorder, unroll-and-jam) with legality checks;
//! - schedule.rs: applies `schedule` items (loop directives, array partitions);
//! - manager.rs: named passes and pipelines, timings, dumps.

pub mod autoblock;
pub mod autoschedule;
pub mod banks;
pub mod bounds;
pub mod data;
pub mod estimate;
pub mod fuse;
pub mod infer_types;
pub mod ir;
pub mod loop_facts;
pub mod lower;
pub mod manager;
pub mod parallel_lint;
pub mod pipelines;
pub mod print;
pub mod run_error;
pub mod schedule;
pub mod target;
pub mod tile;
pub mod value;
pub mod verify;

pub use ir::*;
/// Diagnostics and source spans, shared with the front end (back ends import them from here).
pub use kiln_lang::{diag, Span};
pub use lower::{load_global, lower_program, EntryArg, LowerInputs};
