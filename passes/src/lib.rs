//! kiln-passes: the dataflow IR and every pass over it. The folders say what each module
//! is; every module is also re-exported at the crate root under its own name
//! (`kiln_passes::fuse`, `kiln_passes::data`, ...), the paths other crates use.
//!
//! - ir/: the IR (mod.rs, documented as a spec), its text and Graphviz forms (print.rs),
//!   its invariants (verify.rs), tensor data (data.rs: raw arrays from `.npy`, typed
//!   constants), scalar values and the one conversion every stage shares (value.rs), and
//!   the run-time error every engine reports (run_error.rs);
//! - lower/: HIR → IR, instantiating kernels per shape and type (the first stage of every
//!   pipeline; mod.rs lists its parts); infer_types/: quantization-aware type inference
//!   (run per node during lowering);
//! - analysis/: facts passes and back ends read without changing the IR: loop facts
//!   (loop_facts.rs: coverage of stores, parallel loops) and FPGA estimates (estimate/:
//!   `kiln report` and the cost model of the automatic schedule);
//! - checks/: passes that prove or reject without transforming: bounds.rs (accesses in
//!   bounds), banks.rs (E0514), parallel_lint.rs (W0803 for `parallel`);
//! - transform/: passes that rewrite the IR: schedule.rs (the written `schedule` items),
//!   tile.rs (split, reorder, unroll-and-jam, buffer, with legality checks), fuse.rs
//!   (fusion of a network's kernels), autoschedule.rs (the automatic FPGA schedule),
//!   allocate/ (the resource allocation of a network's dataflow stages),
//!   autoblock.rs (the automatic CPU schedule);
//! - manager.rs: what a pass is and the context it gets; pipelines.rs: every pass by
//!   name and the pipelines per target (the only place where the order of passes is
//!   written); target.rs: the CPU model and the FPGA device table.

pub mod analysis;
pub mod checks;
pub mod infer_types;
pub mod ir;
pub mod lower;
pub mod manager;
pub mod pipelines;
pub mod target;
pub mod transform;

pub use analysis::{accumulate as accumulate_plan, estimate, layer_pipeline, loop_facts, row_plan};
pub use checks::{banks, bounds, parallel_lint};
pub use ir::{data, overflow, print, run_error, value, verify};
pub use transform::{allocate, autoblock, autoschedule, fuse, outline, schedule, stream, tile};

pub use ir::*;
/// Diagnostics and source spans, shared with the front end (back ends import them from here).
pub use kiln_lang::{diag, span::FileId, Span};
pub use lower::{
    conversion_warnings, load_global, lower_program, EntryArg, LoadTarget, LowerInputs,
};
