//! The kiln driver: runs lang → passes → backends for each command of the CLI.
//!
//! Every command returns an [`Outcome`] (what to print on stdout and stderr, and the exit
//! code) instead of printing, so that tests drive the same code as the binary. Nothing a
//! user controls can panic here: bad files, bad data and bad programs all end as
//! diagnostics and exit code 1.

// Diagnostics are large and only travel on error paths.
#![allow(clippy::result_large_err)]
//!
//! - session.rs: a compilation in progress (sources, diagnostics, timings), the front end
//!   and the one call that lowers and runs a pipeline; entry.rs: which kernel runs and
//!   the data bound to its parameters;
//! - commands/: one file per command (`check`, `run`, `hls`, `report`, `types`, `ir`);
//! - autotune.rs: `--autotune`, which measures variants of the cpu pipeline;
//! - outputs.rs: printing and writing a run's results; csim.rs, quantize*.rs, npy.rs,
//!   stdlib.rs: the `csim` and `quantize` commands, `.npy` files, the embedded stdlib;
//!   rtlsim.rs: `kiln rtlsim` (Verilator);
//! - yosys.rs (driving yosys: family, script, run, its results) and measured.rs
//!   (synth.json, and the measured columns next to an estimate): `kiln synth`.
//!
//! The order of passes is not written here: every command gets its module from a
//! pipeline of kiln-passes (passes/src/pipelines.rs).

mod autotune;
mod batch;
mod commands;
pub mod csim;
mod entry;
pub mod measured;
mod memory;
pub mod npy;
mod outputs;
pub mod quantize;
pub mod quantize_cmd;
pub mod rtlsim;
mod session;
pub mod stdlib;
pub mod yosys;

pub use commands::check::check;
pub use commands::hls::{hls, hls_scheduled, HlsSpec, DEFAULT_PART};
pub use commands::ir::{ir, IrSpec};
pub use commands::report::{report, ReportSpec};
pub use commands::rtl::{rtl, RtlSpec};
pub use commands::run::{run, run_scheduled};
pub use commands::synth::synth;
pub use commands::types::{types, types_report};
pub use kiln_lang::hir;
pub use outputs::{all_values, summary};
pub(crate) use session::io_reason;
pub use session::{read_source, FsLoader};

use std::path::PathBuf;

/// What a command printed and how it ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Options shared by the commands.
#[derive(Clone, Debug)]
pub struct Options {
    /// ANSI colours in diagnostics.
    pub color: bool,
    /// Print per-stage timings to stderr.
    pub timings: bool,
    /// Print the IR after this stage.
    pub dump_ir_after: Option<String>,
    /// The pass pipeline after lowering, instead of the command's own (`--pipeline`).
    pub pipeline: Option<String>,
    /// Verify the IR after every pass.
    pub verify: bool,
    /// Block loops for a fixed model of a CPU instead of this machine's caches, so IR
    /// and results do not depend on where they are made (the tests).
    pub fixed_machine: bool,
    /// Report every warning as an error (`--deny-warnings`).
    pub deny_warnings: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            color: false,
            timings: false,
            dump_ir_after: None,
            pipeline: None,
            verify: cfg!(debug_assertions),
            fixed_machine: false,
            deny_warnings: false,
        }
    }
}

/// Which kernel to run and with what.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    pub kernel: Option<String>,
    /// `--input NAME=PATH`
    pub inputs: Vec<(String, PathBuf)>,
    /// Print every value of the results, not only the first ones.
    pub full: bool,
    /// The engine that runs the kernel.
    pub engine: Engine,
    /// Threads for the JIT's parallel loops (0: one per core).
    pub threads: usize,
    /// Run the kernel this many times after compiling once and report the median time
    /// (0: run once, report nothing).
    pub repeat: usize,
    /// How the JIT blocks loops of kernels without a written `cpu` schedule.
    pub cpu_blocking: CpuBlocking,
    /// Count the values that overflow at run time (`--check-overflow`).
    pub check_overflow: bool,
    /// Run the kernel on each sample along the leading axis of its data (`--batch`).
    pub batch: bool,
}

/// The automatic CPU schedule (passes/src/transform/autoblock.rs) of `kiln run`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum CpuBlocking {
    /// Register and cache blocking chosen from a model of the machine.
    #[default]
    Model,
    /// Measure a few blockings and keep the fastest (`--autotune`).
    Autotune,
    /// None: the loops as written (`--no-auto-schedule`).
    Off,
}

/// The engines that run kernels.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Native code through cranelift (the default).
    #[default]
    Jit,
    /// The reference interpreter.
    Interp,
}
