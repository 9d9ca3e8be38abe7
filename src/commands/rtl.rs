//! `kiln rtl FILE -o DIR`: the entry kernel through the `fpga` pipeline (as `kiln hls`),
//! written as synthesizable Verilog with a manifest and a Verilator testbench whose
//! expected results are kiln's own for the program as written (docs/rtl.md).

use crate::commands::hls::{design_and_results, top_name, write_files, Checked, DEFAULT_PART};
use crate::session::{on_big_stack, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_passes::manager::{AllocOptions, PassOptions};
use std::fmt::Write;
use std::path::{Path, PathBuf};
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
    /// Run a network top as a frame pipeline (off: `--no-dataflow`).
    pub dataflow: bool,
    /// What the allocation of a network's stages aims at (`--target-fps`, `--budget`).
    pub alloc: AllocOptions,
    /// Write a testbench (off: `--no-testbench`, the kernel is not run).
    pub testbench: bool,
}

/// `kiln rtl FILE -o DIR`.
pub fn rtl(path: &Path, spec: &RunSpec, rtl: &RtlSpec, opts: &Options) -> Outcome {
    on_big_stack(|| rtl_file(path, spec, rtl, opts))
}

fn rtl_file(path: &Path, spec: &RunSpec, rtl: &RtlSpec, opts: &Options) -> Outcome {
    let mut s = Session::new(opts);
    let options = PassOptions {
        auto_schedule: rtl.auto_schedule,
        alloc: rtl.alloc,
        ..PassOptions::default()
    };
    let part = rtl.part.clone().unwrap_or_else(|| DEFAULT_PART.to_string());
    let Some(Checked {
        module,
        inputs,
        outputs,
        batch,
    }) = design_and_results(
        &mut s,
        path,
        spec,
        &part,
        rtl.clock_ns,
        options,
        &|_| {},
        rtl.testbench,
    )
    else {
        return s.finish();
    };
    let ropts = kiln_rtl::RtlOptions {
        name: top_name(&module, path),
        part: rtl.part.clone(),
        batch,
        pipeline: rtl.pipeline,
        dataflow: rtl.dataflow,
    };
    let t = Instant::now();
    let design = kiln_rtl::emit(
        &module,
        &ropts,
        rtl.testbench.then_some(kiln_rtl::TestData {
            inputs: &inputs,
            outputs: &outputs,
        }),
    );
    s.timings.push(("emit".into(), t.elapsed()));
    match design {
        Ok(d) => {
            for n in &d.notes {
                let _ = writeln!(s.out.stderr, "note: {n}");
            }
            let next = if rtl.testbench {
                "simulate with `kiln rtlsim"
            } else {
                "no testbench; synthesize with `kiln synth"
            };
            write_files(&mut s, &rtl.out_dir, &d.files, next)
        }
        Err(diags) => {
            for d in diags {
                s.push(d);
            }
        }
    }
    s.finish()
}
