//! The pass manager: named passes, named pipelines, per-pass timings, IR dumps, and the
//! verifier after every pass.
//!
//! `lower` is the first stage of every pipeline (it builds the module from the HIR; see
//! lower.rs) and is run by the driver; the passes here transform a built module.

use crate::ir::Module;
use crate::print::{module_to_string, PrintOptions};
use crate::verify::verify_module;
use kiln_lang::diag::Diagnostics;
use std::time::{Duration, Instant};

/// A pass over a built module.
pub struct Pass {
    pub name: &'static str,
    pub description: &'static str,
    pub run: fn(&mut Module, &mut Diagnostics),
}

/// Every pass, by name.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "bounds",
        description: "prove tensor accesses in bounds (or keep them checked at run time); reject certain overflows of an index",
        run: crate::bounds::run,
    },
    Pass {
        name: "verify",
        description: "check the IR invariants (verify.rs)",
        run: verify_pass,
    },
];

/// Named pipelines of passes (after `lower`, which every pipeline starts with).
pub const PIPELINES: &[(&str, &[&str])] = &[("default", &["bounds"]), ("none", &[])];

pub fn pass_by_name(name: &str) -> Option<&'static Pass> {
    PASSES.iter().find(|p| p.name == name)
}

pub fn pipeline(name: &str) -> Option<&'static [&'static str]> {
    PIPELINES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// Every stage name a user can give to `--dump-ir-after`.
pub fn stage_names() -> Vec<&'static str> {
    let mut v = vec!["lower"];
    v.extend(PASSES.iter().map(|p| p.name));
    v
}

/// Options and results of running passes.
#[derive(Default)]
pub struct PassContext {
    pub diags: Diagnostics,
    pub timings: Vec<(String, Duration)>,
    /// Stage after which to print the IR.
    pub dump_after: Option<String>,
    pub dumps: Vec<(String, String)>,
    /// Run the verifier after each pass (tests and debug builds).
    pub verify: bool,
}

impl PassContext {
    /// Records a stage that ran outside the manager (lowering) for timings and dumps.
    pub fn record_stage(&mut self, name: &str, took: Duration, module: &Module) {
        self.timings.push((name.to_string(), took));
        if self.dump_after.as_deref() == Some(name) {
            self.dumps.push((
                name.to_string(),
                module_to_string(module, PrintOptions::default()),
            ));
        }
        if self.verify {
            check(module, name);
        }
    }

    /// Runs the passes of `names` in order. Stops at the first pass that reports errors.
    pub fn run(&mut self, module: &mut Module, names: &[&str]) {
        for name in names {
            let Some(p) = pass_by_name(name) else {
                panic!("unknown pass `{name}` in a pipeline");
            };
            let t = Instant::now();
            (p.run)(module, &mut self.diags);
            self.record_stage(p.name, t.elapsed(), module);
            if self.diags.has_errors() {
                return;
            }
        }
    }
}

fn check(module: &Module, after: &str) {
    let errs = verify_module(module, true);
    assert!(
        errs.is_empty(),
        "IR invalid after `{after}`:\n{}",
        errs.join("\n")
    );
}

fn verify_pass(m: &mut Module, diags: &mut Diagnostics) {
    let _ = diags;
    check(m, "verify");
}
