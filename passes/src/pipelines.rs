//! Every pass by name, and the pipelines: the one place where the order of passes is
//! written.
//!
//! Every pipeline starts with `lower` (HIR → IR, with type inference; lower/), which
//! also attaches the program's `schedule` items to the module. Then:
//!
//! | pipeline | for | passes |
//! |---|---|---|
//! | `check`  | `kiln check`, `types`, `ir` | bounds, verify |
//! | `interp` | `kiln run --engine interp` | bounds, schedule (cpu), parallel-lint, verify |
//! | `cpu`    | `kiln run` (JIT), `ir --pipeline cpu` | bounds, schedule (cpu), parallel-lint, fuse†, autoblock‡, verify |
//! | `fpga`   | `kiln hls`, `report`, `ir --pipeline fpga` | bounds, schedule (fpga), outline, fuse‡, stream‡, autoschedule‡, stream, banks, verify |
//! | `none`   | lowering alone (every access checked at run time) | — |
//!
//! † only when `--autotune` measures the fused variant. ‡ only with the automatic
//! schedule (the default; `--no-auto-schedule` turns it off).
//!
//! A pass that reports an error stops its pipeline. In tests and debug builds the
//! verifier runs after lowering and after every pass (manager.rs); in every build it
//! runs once more as the last pass, so no back end receives an IR that breaks an
//! invariant.

use crate::ir::Module;
use crate::lower::{lower_program, EntryArg, LowerInputs};
use crate::manager::{Pass, PassContext, PassOptions};
use kiln_lang::hir::{KernelId, Target};
use std::time::Instant;

/// Every pass, by name.
pub const PASSES: &[Pass] = &[
    Pass {
        name: "bounds",
        description: "prove tensor accesses in bounds (or keep them checked at run time); reject certain overflows of an index",
        run: crate::bounds::run,
    },
    Pass {
        name: "schedule",
        description: "apply the written `schedule` items of the pipeline's target (loop transformations, directives, partitions)",
        run: crate::schedule::run,
    },
    Pass {
        name: "parallel-lint",
        description: "warn (W0803) about each `parallel` primitive no loop can honour on the CPU",
        run: crate::parallel_lint::run,
    },
    Pass {
        name: "outline",
        description: "turn a network top's own computation between its kernel calls into calls of new kernels, so that the top stays a dataflow network",
        run: crate::outline::run,
    },
    Pass {
        name: "fuse",
        description: "fuse a network's consecutive kernels (conv + bias + relu + requantize) into one loop nest",
        run: crate::fuse::run,
    },
    Pass {
        name: "autoschedule",
        description: "pipeline, unroll and partition the kernels without an `fpga` schedule, fitted to the device",
        run: crate::autoschedule::run,
    },
    Pass {
        name: "stream",
        description: "build a network's stages row by row through line buffers where they allow it, and size the FIFOs between them",
        run: crate::stream::run,
    },
    Pass {
        name: "banks",
        description: "check that each unrolled loop's accesses per cycle fit the banks of the on-chip arrays (E0514)",
        run: crate::banks::run,
    },
    Pass {
        name: "autoblock",
        description: "register- and cache-block the matrix-product nests of kernels without a `cpu` schedule",
        run: crate::autoblock::run,
    },
    Pass {
        name: "verify",
        description: "check the IR invariants (verify.rs), in any build",
        run: crate::manager::verify_pass,
    },
];

/// When a step of a pipeline runs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// With the automatic schedule ([`PassOptions::auto_schedule`]).
    AutoSchedule,
    /// When fusion on the CPU is asked for ([`PassOptions::cpu_fuse`]).
    CpuFuse,
}

impl When {
    pub fn holds(self, o: &PassOptions) -> bool {
        match self {
            When::Always => true,
            When::AutoSchedule => o.auto_schedule,
            When::CpuFuse => o.cpu_fuse,
        }
    }
}

/// A named sequence of passes for one target.
pub struct Pipeline {
    pub name: &'static str,
    pub description: &'static str,
    /// Whose `schedule` items the `schedule` pass applies.
    pub target: Option<Target>,
    pub steps: &'static [(&'static str, When)],
}

/// Every pipeline, by name.
pub const PIPELINES: &[Pipeline] = &[
    Pipeline {
        name: "check",
        description: "typed IR with accesses proven in bounds: what `kiln check`, `types` and `ir` show",
        target: None,
        steps: &[("bounds", When::Always), ("verify", When::Always)],
    },
    Pipeline {
        name: "interp",
        description: "for the reference interpreter: the written cpu schedules",
        target: Some(Target::Cpu),
        steps: &[
            ("bounds", When::Always),
            ("schedule", When::Always),
            ("parallel-lint", When::Always),
            ("verify", When::Always),
        ],
    },
    Pipeline {
        name: "cpu",
        description: "for the JIT: the written cpu schedules, then the automatic blocking",
        target: Some(Target::Cpu),
        steps: &[
            ("bounds", When::Always),
            ("schedule", When::Always),
            ("parallel-lint", When::Always),
            ("fuse", When::CpuFuse),
            ("autoblock", When::AutoSchedule),
            ("verify", When::Always),
        ],
    },
    Pipeline {
        name: "fpga",
        description: "for the HLS back end and `kiln report`: the written fpga schedules, then fusion and the automatic schedule",
        target: Some(Target::Fpga),
        steps: &[
            ("bounds", When::Always),
            ("schedule", When::Always),
            ("outline", When::Always),
            ("fuse", When::AutoSchedule),
            ("stream", When::AutoSchedule),
            ("autoschedule", When::AutoSchedule),
            ("stream", When::Always),
            ("banks", When::Always),
            ("verify", When::Always),
        ],
    },
    Pipeline {
        name: "none",
        description: "lowering alone (every access checked at run time)",
        target: None,
        steps: &[],
    },
];

pub fn pass_by_name(name: &str) -> Option<&'static Pass> {
    PASSES.iter().find(|p| p.name == name)
}

pub fn pipeline(name: &str) -> Option<&'static Pipeline> {
    PIPELINES.iter().find(|p| p.name == name)
}

/// Every stage name a user can give to `--dump-ir-after`.
pub fn stage_names() -> Vec<&'static str> {
    let mut v = vec!["lower"];
    v.extend(PASSES.iter().map(|p| p.name));
    v
}

impl Pipeline {
    /// Whether `stage` runs in this pipeline under `options` (`lower` always does).
    pub fn runs(&self, stage: &str, options: &PassOptions) -> bool {
        stage == "lower"
            || self
                .steps
                .iter()
                .any(|(p, when)| *p == stage && when.holds(options))
    }

    /// Lowers `kernel` of a checked program and runs the pipeline: the one way the
    /// driver and the tests get a module. `None` when lowering or a pass reported an
    /// error (in `ctx.diags`).
    pub fn build(
        &self,
        inputs: &LowerInputs,
        kernel: KernelId,
        args: &[Option<EntryArg>],
        ctx: &mut PassContext,
    ) -> Option<Module> {
        let mut module = lower(inputs, kernel, args, ctx)?;
        self.run(&mut module, ctx).then_some(module)
    }

    /// Runs the passes on a lowered module; false when one reported an error.
    pub fn run(&self, module: &mut Module, ctx: &mut PassContext) -> bool {
        self.run_observed(module, ctx, &mut |_, _| {})
    }

    /// [`Pipeline::run`], calling `observe` with each pass's name and result after it
    /// ran (the tests use it to transform the IR after `schedule` as a written schedule
    /// would).
    pub fn run_observed(
        &self,
        module: &mut Module,
        ctx: &mut PassContext,
        observe: &mut dyn FnMut(&str, &mut Module),
    ) -> bool {
        self.run_steps(module, ctx, self.steps, observe)
    }

    /// Runs the steps from `first` on (none when the pipeline has no such step: the
    /// earlier ones have run already): `--autotune` varies the options of the cpu
    /// pipeline's tail this way.
    pub fn run_from(&self, module: &mut Module, ctx: &mut PassContext, first: &str) -> bool {
        let Some(at) = self.steps.iter().position(|(n, _)| *n == first) else {
            return true;
        };
        self.run_steps(module, ctx, &self.steps[at..], &mut |_, _| {})
    }

    fn run_steps(
        &self,
        module: &mut Module,
        ctx: &mut PassContext,
        steps: &[(&'static str, When)],
        observe: &mut dyn FnMut(&str, &mut Module),
    ) -> bool {
        ctx.target = self.target;
        for (name, when) in steps {
            if !when.holds(&ctx.options) {
                continue;
            }
            let pass = pass_by_name(name)
                .unwrap_or_else(|| panic!("pipeline `{}` names no pass `{name}`", self.name));
            if !ctx.run_pass(module, pass) {
                return false;
            }
            observe(name, module);
        }
        true
    }
}

/// The first stage of every pipeline: lowering, timed, dumped and verified like a pass.
pub fn lower(
    inputs: &LowerInputs,
    kernel: KernelId,
    args: &[Option<EntryArg>],
    ctx: &mut PassContext,
) -> Option<Module> {
    let t = Instant::now();
    let (mut module, diags) = lower_program(inputs, kernel, args);
    let took = t.elapsed();
    let failed = diags.has_errors();
    ctx.diags.extend(diags.list);
    if failed {
        return None;
    }
    module.schedules = crate::schedule::written(inputs.program);
    ctx.record_stage("lower", took, &module);
    Some(module)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_names_a_pass_and_names_are_unique() {
        for p in PIPELINES {
            for (name, _) in p.steps {
                assert!(pass_by_name(name).is_some(), "{}: {name}", p.name);
            }
        }
        let mut names: Vec<&str> = PASSES.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PASSES.len());
        let mut pipes: Vec<&str> = PIPELINES.iter().map(|p| p.name).collect();
        pipes.sort();
        pipes.dedup();
        assert_eq!(pipes.len(), PIPELINES.len());
    }
}
