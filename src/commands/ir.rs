//! `kiln ir FILE`: the dataflow IR of the instantiated kernels, as text or Graphviz,
//! after the `check` pipeline or the one a target runs (`--pipeline cpu|fpga`, or its
//! older spelling `--schedule`), for the FPGA part given (`--part`).

use crate::session::{on_big_stack, prepare, Plan, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_passes::manager::{AllocOptions, PassOptions};
use kiln_passes::print::{module_to_dot, module_to_string, PrintOptions};
use std::path::Path;

/// What `kiln ir` prints and after which pipeline.
#[derive(Clone, Debug)]
pub struct IrSpec {
    /// Graphviz instead of text (`--dot`).
    pub dot: bool,
    /// Every expression with its type (`--types`).
    pub expr_types: bool,
    /// The target's pipeline (`--schedule cpu|fpga`); `--pipeline` overrides it.
    pub pipeline: &'static str,
    /// The FPGA part and clock for the fpga pipeline.
    pub part: String,
    pub clock_ns: f64,
    /// The automatic schedules (`--no-auto-schedule` clears it).
    pub auto_schedule: bool,
    /// What the allocation of a network's stages aims at (`--target-fps`, `--budget`).
    pub alloc: AllocOptions,
}

impl Default for IrSpec {
    fn default() -> IrSpec {
        IrSpec {
            dot: false,
            expr_types: false,
            pipeline: "check",
            part: crate::DEFAULT_PART.to_string(),
            clock_ns: 10.0,
            auto_schedule: true,
            alloc: AllocOptions::default(),
        }
    }
}

/// `kiln ir FILE`
pub fn ir(path: &Path, spec: &RunSpec, ir: &IrSpec, opts: &Options) -> Outcome {
    on_big_stack(|| {
        let mut s = Session::new(opts);
        let plan = Plan {
            part: ir.part.clone(),
            clock_ns: ir.clock_ns,
            options: PassOptions {
                auto_schedule: ir.auto_schedule,
                alloc: ir.alloc,
                ..PassOptions::default()
            },
            ..Plan::for_pipeline(ir.pipeline)
        };
        if let Some(p) = prepare(&mut s, path, spec, true, &plan) {
            let text = if ir.dot {
                module_to_dot(&p.module)
            } else {
                module_to_string(
                    &p.module,
                    PrintOptions {
                        expr_types: ir.expr_types,
                    },
                )
            };
            s.out.stdout.push_str(&text);
        }
        s.finish()
    })
}
