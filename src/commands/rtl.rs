//! `kiln rtl FILE -o DIR`: the entry kernel through the `fpga` pipeline (as `kiln hls`),
//! written as synthesizable Verilog with a manifest and a Verilator testbench whose
//! expected results are kiln's own for the program as written (docs/rtl.md).

use crate::commands::hls::{expected_results, top_name, write_files, DEFAULT_PART};
use crate::session::{on_big_stack, prepare, Plan, Prepared, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_passes::ir::Module;
use kiln_passes::manager::PassOptions;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// What `kiln rtl` writes and for which target.
#[derive(Clone, Debug)]
pub struct RtlSpec {
    pub out_dir: PathBuf,
    /// `--part`; the fpga pipeline schedules for [`DEFAULT_PART`] when it is not given,
    /// and the manifest then names no part.
    pub part: Option<String>,
    pub clock_ns: f64,
    /// Schedule the kernels that have no `fpga` schedule automatically.
    pub auto_schedule: bool,
    /// Build pipelined loops one iteration per cycle (off: `--no-pipeline`).
    pub pipeline: bool,
}

/// `kiln rtl FILE -o DIR`.
pub fn rtl(path: &Path, spec: &RunSpec, rtl: &RtlSpec, opts: &Options) -> Outcome {
    on_big_stack(|| rtl_file(path, spec, rtl, opts))
}

fn rtl_file(path: &Path, spec: &RunSpec, rtl: &RtlSpec, opts: &Options) -> Outcome {
    let mut s = Session::new(opts);
    // The program as written (after `bounds`): the testbench's expected results come
    // from it, so that simulation also checks every pass of the fpga pipeline.
    let written: Mutex<Option<Module>> = Mutex::new(None);
    let observe = |stage: &str, m: &mut Module| {
        if matches!(stage, "lower" | "bounds") {
            *written.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
        }
    };
    let plan = Plan {
        part: rtl.part.clone().unwrap_or_else(|| DEFAULT_PART.to_string()),
        clock_ns: rtl.clock_ns,
        options: PassOptions {
            auto_schedule: rtl.auto_schedule,
            ..PassOptions::default()
        },
        observe: Some(&observe),
        ..Plan::for_pipeline("fpga")
    };
    let Some(Prepared {
        program,
        kernel,
        data,
        module,
    }) = prepare(&mut s, path, spec, false, &plan)
    else {
        return s.finish();
    };
    let written = written
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| module.clone());
    if let Some(d) = crate::memory::check_run_memory(&written, spec.engine) {
        s.push(d);
        return s.finish();
    }
    let Some(inputs) = s.input_tensors(&written, &program, kernel, &data) else {
        return s.finish();
    };
    let batch = s.batch.as_ref().map(|b| b.size);
    let (inputs, outputs) = match batch {
        Some(size) => {
            let samples = crate::batch::split_samples(&written, &inputs, size);
            let batch_spec = RunSpec {
                check_overflow: false,
                repeat: 0,
                ..spec.clone()
            };
            match crate::batch::run_batch(&mut s, &written, &samples, &batch_spec) {
                Some((Ok(outputs), _)) => (crate::batch::stack_inputs(samples), outputs),
                Some((Err(e), _)) => {
                    s.push(e.to_diagnostic());
                    return s.finish();
                }
                None => return s.finish(),
            }
        }
        None => match expected_results(&mut s, &written, &inputs, spec.engine) {
            Ok(o) => (inputs, o),
            Err(e) => {
                s.push(e.to_diagnostic());
                return s.finish();
            }
        },
    };
    let ropts = kiln_rtl::RtlOptions {
        name: top_name(&module, path),
        part: rtl.part.clone(),
        batch,
        pipeline: rtl.pipeline,
    };
    let t = Instant::now();
    let design = kiln_rtl::emit(
        &module,
        &ropts,
        kiln_rtl::TestData {
            inputs: &inputs,
            outputs: &outputs,
        },
    );
    s.timings.push(("emit".into(), t.elapsed()));
    match design {
        Ok(d) => {
            for n in &d.notes {
                let _ = writeln!(s.out.stderr, "note: {n}");
            }
            write_files(&mut s, &rtl.out_dir, &d.files, "simulate with `kiln rtlsim")
        }
        Err(diags) => {
            for d in diags {
                s.push(d);
            }
        }
    }
    s.finish()
}
