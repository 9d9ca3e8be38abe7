//! `kiln report FILE --part P`: the entry kernel through the `fpga` pipeline (the same
//! module `kiln hls` writes), and the FPGA latency and resource estimate of it per
//! kernel, node and loop, against the device's resources.

use crate::session::{on_big_stack, prepare, Plan, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_passes::manager::{unknown_part, PassOptions};
use std::path::Path;

/// `kiln report FILE --part P`
pub fn report(
    path: &Path,
    spec: &RunSpec,
    part: &str,
    clock_ns: f64,
    auto_schedule: bool,
    opts: &Options,
) -> Outcome {
    on_big_stack(|| {
        let mut s = Session::new(opts);
        let Some(dev) = kiln_passes::estimate::device(part) else {
            s.push(unknown_part(part));
            return s.finish();
        };
        let plan = Plan {
            part: part.to_string(),
            clock_ns,
            options: PassOptions {
                auto_schedule,
                ..PassOptions::default()
            },
            ..Plan::for_pipeline("fpga")
        };
        if let Some(p) = prepare(&mut s, path, spec, true, &plan) {
            s.out
                .stdout
                .push_str(&kiln_passes::estimate::report(&p.module, dev, clock_ns));
            // A network's layer pipeline: streamed against whole-frame figures.
            if let Some(f) = kiln_passes::layer_pipeline::layer_pipeline(&p.module) {
                s.out
                    .stdout
                    .push_str(&kiln_passes::layer_pipeline::report_text(&f, clock_ns));
            }
        }
        s.finish()
    })
}
