//! The pass manager: what a pass is, the context every pass gets, and how a pipeline
//! runs (timings, IR dumps, the verifier after every pass).
//!
//! Which passes exist and in which order each target runs them is written in one place,
//! pipelines.rs. The driver (src/) and the tests get their modules from
//! [`crate::pipelines::Pipeline::build`], so `kiln run`, `hls`, `report` and
//! `ir --pipeline` cannot apply different sequences.
//!
//! A pass is a plain function `fn(&mut Module, &mut PassContext)`. It reports problems
//! as diagnostics in the context (an error stops the pipeline after that pass), reads
//! the target's facts (device, clock, machine model) and the user's options from the
//! context, and may add remarks (one line per thing it did, printed with `--timings`).
//! It holds no state of its own between runs.

use crate::target::{Blocking, Device, Machine};

use crate::ir::Module;
use crate::print::{module_to_string, PrintOptions};
use crate::verify::verify_module;
use kiln_lang::diag::{codes, Diagnostic, Diagnostics};
use std::time::{Duration, Instant};

/// A transformation or analysis of a built module.
pub struct Pass {
    /// Unique; what `--dump-ir-after` and `--timings` call it.
    pub name: &'static str,
    /// One line, printed by `kiln help passes` style listings and docs.
    pub description: &'static str,
    pub run: fn(&mut Module, &mut PassContext),
}

/// The user's choices that passes read.
#[derive(Clone, Debug)]
pub struct PassOptions {
    /// Automatic schedules for kernels without a written one (fpga: fusion and
    /// directives; cpu: register and cache blocking). `--no-auto-schedule` clears it.
    pub auto_schedule: bool,
    /// The CPU blocking to use instead of the model's (`--autotune` tries several).
    pub forced_blocking: Option<Blocking>,
    /// Fuse a network's kernels on the CPU too (`--autotune` measures both).
    pub cpu_fuse: bool,
    /// What the resource allocation of a network's stages aims at (transform/allocate/).
    pub alloc: AllocOptions,
}

/// The goal of the resource allocation of a network's dataflow stages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AllocOptions {
    /// The images per second to reach with the least hardware (`--target-fps`); `None`:
    /// as fast as the budget allows.
    pub target_fps: Option<f64>,
    /// The fraction of the device's DSP, BRAM and LUT the allocation may use (`--budget`,
    /// greater than 0 and at most 1).
    pub budget: f64,
}

impl Default for AllocOptions {
    fn default() -> AllocOptions {
        AllocOptions {
            target_fps: None,
            budget: 1.0,
        }
    }
}

impl Default for PassOptions {
    fn default() -> PassOptions {
        PassOptions {
            auto_schedule: true,
            forced_blocking: None,
            cpu_fuse: false,
            alloc: AllocOptions::default(),
        }
    }
}

/// Everything a pass may read or report besides the module.
pub struct PassContext {
    pub diags: Diagnostics,
    /// The FPGA part (`--part`), and its resource table when kiln has one.
    pub part: String,
    pub device: Option<&'static Device>,
    /// The FPGA clock period in ns (`--clock-ns`).
    pub clock_ns: f64,
    /// The CPU the cpu pipeline blocks loops for.
    pub machine: Machine,
    pub options: PassOptions,
    /// Whose `schedule` items the `schedule` pass applies (set by the pipeline).
    pub target: Option<kiln_lang::hir::Target>,
    /// One line per thing a pass did that a user may want to know (`fused conv2d +
    /// relu in main`, `blocked ...`), printed with `--timings`.
    pub remarks: Vec<String>,
    /// Time per stage, in the order they ran.
    pub timings: Vec<(String, Duration)>,
    /// Stage after which to print the IR (`--dump-ir-after`).
    pub dump_after: Option<String>,
    /// `(stage, IR text)` for each dump taken.
    pub dumps: Vec<(String, String)>,
    /// Run the verifier after each pass (tests and debug builds).
    pub verify: bool,
}

impl Default for PassContext {
    fn default() -> PassContext {
        PassContext {
            diags: Diagnostics::default(),
            part: String::new(),
            device: None,
            clock_ns: 10.0,
            machine: Machine::default_model(),
            options: PassOptions::default(),
            target: None,
            remarks: Vec::new(),
            timings: Vec::new(),
            dump_after: None,
            dumps: Vec::new(),
            verify: cfg!(debug_assertions),
        }
    }
}

impl PassContext {
    /// Targets the FPGA part `part` (its device table, when kiln has one).
    pub fn set_part(&mut self, part: &str) {
        self.part = part.to_string();
        self.device = crate::target::device(part);
    }

    /// Records a stage that ran outside a pass (lowering) for timings and dumps, and
    /// verifies its result.
    pub fn record_stage(&mut self, name: &str, took: Duration, module: &Module) {
        self.timings.push((name.to_string(), took));
        if self.dump_after.as_deref() == Some(name) {
            self.dumps.push((
                name.to_string(),
                module_to_string(module, PrintOptions::default()),
            ));
        }
        if self.verify {
            assert_valid(module, name);
        }
    }

    /// Runs one pass: times it, dumps and verifies its result. Returns false when it
    /// reported an error (the pipeline stops there).
    pub fn run_pass(&mut self, module: &mut Module, pass: &Pass) -> bool {
        let t = Instant::now();
        (pass.run)(module, self);
        self.record_stage(pass.name, t.elapsed(), module);
        !self.diags.has_errors()
    }
}

/// E0516 for a part kiln has no resource table for.
pub fn unknown_part(part: &str) -> Diagnostic {
    let known: Vec<&str> = crate::target::DEVICES.iter().map(|d| d.part).collect();
    Diagnostic::error(
        codes::UNKNOWN_TARGET,
        format!("no resource table for the part `{part}`"),
    )
    .help(format!(
        "known devices: {} (a part number starting with one of them); `kiln hls --no-auto-schedule` writes a project for any part, without kiln's automatic schedule",
        known.join(", ")
    ))
}

/// Panics with the verifier's findings: a pass that breaks an IR invariant is a bug in
/// kiln, caught right after the pass that made it.
fn assert_valid(module: &Module, after: &str) {
    let errs = verify_module(module, true);
    assert!(
        errs.is_empty(),
        "IR invalid after `{after}`:\n{}",
        errs.join("\n")
    );
}

/// The `verify` pass: the verifier on its own, in any build.
pub(crate) fn verify_pass(module: &mut Module, _ctx: &mut PassContext) {
    assert_valid(module, "verify");
}
