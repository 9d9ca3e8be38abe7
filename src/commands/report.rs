//! `kiln report FILE --part P`: the entry kernel through the `fpga` pipeline (the same
//! module `kiln hls` writes), and the FPGA latency and resource estimate of it per
//! kernel, node and loop, against the device's resources; for a network, the allocation
//! of its stages (passes/src/transform/allocate/).

use crate::session::{on_big_stack, prepare, Plan, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_passes::manager::{unknown_part, AllocOptions, PassOptions};
use kiln_passes::Module;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What `kiln report` estimates for: the device, the clock, the schedule, and where a
/// measurement of the same design is.
#[derive(Clone, Debug)]
pub struct ReportSpec {
    /// The FPGA part (a key of the device table, estimate/ `device`).
    pub part: String,
    pub clock_ns: f64,
    /// The automatic schedule (and allocation) for kernels without a written one.
    pub auto_schedule: bool,
    pub alloc: AllocOptions,
    /// A `kiln rtl` directory after `kiln rtlsim` and/or `kiln synth`: Verilator's cycles
    /// and yosys' counts beside the estimate.
    pub measured: Option<PathBuf>,
}

impl Default for ReportSpec {
    fn default() -> ReportSpec {
        ReportSpec {
            part: crate::DEFAULT_PART.to_string(),
            clock_ns: 10.0,
            auto_schedule: true,
            alloc: AllocOptions::default(),
            measured: None,
        }
    }
}

/// `kiln report FILE --part P`
pub fn report(path: &Path, spec: &RunSpec, report: &ReportSpec, opts: &Options) -> Outcome {
    let (part, clock_ns, auto_schedule, alloc) = (
        report.part.as_str(),
        report.clock_ns,
        report.auto_schedule,
        report.alloc,
    );
    let measured = report.measured.as_deref();
    on_big_stack(|| {
        let mut s = Session::new(opts);
        let Some(dev) = kiln_passes::estimate::device(part) else {
            s.push(unknown_part(part));
            return s.finish();
        };
        // The stages as the allocation finds them (fused and planned row by row, by the
        // first `stream` of the pipeline): what the allocation table searches again.
        let before: Mutex<Option<Module>> = Mutex::new(None);
        let observe = |stage: &str, m: &mut Module| {
            let mut before = before.lock().unwrap_or_else(|e| e.into_inner());
            if stage == "stream" && before.is_none() {
                *before = Some(light_copy(m));
            }
        };
        let plan = Plan {
            part: part.to_string(),
            clock_ns,
            options: PassOptions {
                auto_schedule,
                alloc,
                ..PassOptions::default()
            },
            observe: Some(&observe),
            ..Plan::for_pipeline("fpga")
        };
        if let Some(p) = prepare(&mut s, path, spec, true, &plan) {
            s.out
                .stdout
                .push_str(&kiln_passes::estimate::report(&p.module, dev, clock_ns));
            // yosys' figures of the same design beside the estimate (`kiln synth DIR`).
            // Verilator's cycles of the same design (`kiln rtlsim DIR`), then yosys' counts
            // (`kiln synth DIR`): either or both.
            if let Some(dir) = measured {
                let sim = crate::rtlsim::SimRecord::load(dir);
                if let (Ok(r), Some(est)) = (&sim, crate::measured::cycle_estimate(&p.module)) {
                    s.out
                        .stdout
                        .push_str(&crate::measured::cycles_comparison(&est, r));
                }
                let synth_file = if dir.is_dir() {
                    dir.join(crate::measured::FILE)
                } else {
                    dir.to_path_buf()
                };
                let want_synth = sim.is_err() || synth_file.exists();
                match crate::measured::Measured::load(dir) {
                    Ok(m) => {
                        if let Some(e) = crate::measured::top_estimate(&p.module) {
                            let frame = crate::measured::is_frame_pipeline(dir);
                            s.out
                                .stdout
                                .push_str(&crate::measured::comparison(&e, &m, frame));
                        }
                        if let Some(model) = crate::measured::load_model(dir) {
                            s.out
                                .stdout
                                .push_str(&crate::measured::model_comparison(&model, &m));
                        }
                    }
                    Err(_) if !want_synth => {}
                    Err(e) => s.push(
                        kiln_passes::diag::Diagnostic::error(
                            kiln_passes::diag::codes::SYNTH_FAILED,
                            match &sim {
                                Err(se) => format!("no measurement to compare with: {se}; {e}"),
                                Ok(_) => format!("no synthesis to compare with: {e}"),
                            },
                        )
                        .help(format!(
                            "run `kiln rtl FILE -o {d}` and `kiln rtlsim {d}` or `kiln synth {d}` first",
                            d = dir.display()
                        )),
                    ),
                }
            }
            let before = before.into_inner().unwrap_or_else(|e| e.into_inner());
            s.out
                .stdout
                .push_str(&allocation_section(&p.module, before, dev, clock_ns, alloc));
            // A network's layer pipeline: streamed against whole-frame figures.
            if let Some(f) = kiln_passes::layer_pipeline::layer_pipeline(&p.module) {
                s.out
                    .stdout
                    .push_str(&kiln_passes::layer_pipeline::report_text(&f, clock_ns));
            } else if let Some(why) = p
                .module
                .entry
                .and_then(|e| p.module.instance(e).dataflow_blocker())
            {
                s.out.stdout.push_str(&format!(
                    "\nno layer pipeline: {why}, and it updates a tensor in place, so it could not become a kernel of its own (pass `outline`); move it into a kernel and call it, so that every node of the top is a stage\n"
                ));
            }
        }
        s.finish()
    })
}

/// The module without its constant data (the allocation reads shapes and schedules).
fn light_copy(m: &Module) -> Module {
    Module {
        instances: m.instances.clone(),
        entry: m.entry,
        consts: Vec::new(),
        schedules: m.schedules.clone(),
    }
}

/// The allocation table of a network (nothing for a kernel that is not one): searched
/// again from the stages `before` the allocation (the same search the pass made), or,
/// without the automatic schedule, of the stages as they stand.
fn allocation_section(
    module: &Module,
    before: Option<Module>,
    dev: &kiln_passes::estimate::Device,
    clock_ns: f64,
    alloc: AllocOptions,
) -> String {
    use kiln_passes::allocate;
    let planned = match before {
        Some(mut m) => allocate::plan(&mut m, dev, clock_ns, alloc),
        None => {
            let mut m = light_copy(module);
            allocate::stages(&mut m, false).map(|st| {
                let a = allocate::search(&st, dev, clock_ns, alloc);
                (st, a)
            })
        }
    };
    match planned {
        Some((stages, a)) => allocate::table(&stages, &a, dev, clock_ns, alloc),
        None => String::new(),
    }
}
