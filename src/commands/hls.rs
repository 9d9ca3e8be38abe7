//! `kiln hls FILE -o DIR`: the entry kernel through the `fpga` pipeline, written as a
//! Vitis HLS project whose testbench expects kiln's own results for the program as
//! written.

use crate::session::{on_big_stack, prepare, Plan, Prepared, Session};
use crate::{Engine, Options, Outcome, RunSpec};
use kiln_lang::diag::{codes, Diagnostic};
use kiln_lang::SourceMap;
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Module;
use kiln_passes::manager::PassOptions;
use kiln_passes::run_error::RunError;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

/// The FPGA part of `kiln hls`, `kiln report` and `kiln ir --schedule fpga` by default
/// (ZCU102's).
pub const DEFAULT_PART: &str = "xczu9eg-ffvb1156-2-e";

/// What `kiln hls` writes and for which target.
#[derive(Clone, Debug)]
pub struct HlsSpec {
    pub out_dir: PathBuf,
    pub part: String,
    pub clock_ns: f64,
    /// AXI-stream array ports instead of m_axi (`--io stream`).
    pub io_stream: bool,
    /// Schedule the kernels that have no `fpga` schedule automatically.
    pub auto_schedule: bool,
    /// What the allocation of a network's stages aims at.
    pub alloc: kiln_passes::manager::AllocOptions,
    /// Write a testbench (off: `--no-testbench`, the kernel is not run).
    pub testbench: bool,
}

/// `kiln hls FILE -o DIR`: writes the Vitis HLS project of a kernel, with a testbench that
/// checks the C++ against what kiln computes for the same inputs.
pub fn hls(path: &Path, spec: &RunSpec, hls: &HlsSpec, opts: &Options) -> Outcome {
    hls_scheduled(path, spec, hls, opts, &|_| {})
}

/// [`hls`] with `schedule` setting loop directives and array partitions on the typed IR
/// before the C++ is written (what a schedule does; the tests use it to set directives
/// directly).
pub fn hls_scheduled(
    path: &Path,
    spec: &RunSpec,
    hls: &HlsSpec,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    on_big_stack(|| hls_file(path, spec, hls, opts, schedule))
}

fn hls_file(
    path: &Path,
    spec: &RunSpec,
    hls: &HlsSpec,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    let mut s = Session::new(opts);
    let options = PassOptions {
        auto_schedule: hls.auto_schedule,
        alloc: hls.alloc,
        ..PassOptions::default()
    };
    let Some(Checked {
        module,
        inputs,
        outputs,
        batch,
    }) = design_and_results(
        &mut s,
        path,
        spec,
        &hls.part,
        hls.clock_ns,
        options,
        schedule,
        hls.testbench,
    )
    else {
        return s.finish();
    };
    let hopts = kiln_hls::HlsOptions {
        name: top_name(&module, path),
        part: hls.part.clone(),
        clock_ns: hls.clock_ns,
        io_stream: hls.io_stream,
        batch,
    };
    let data = hls.testbench.then_some(kiln_hls::TestData {
        inputs: &inputs,
        outputs: &outputs,
    });
    let t = Instant::now();
    let project = {
        let sources = &s.sources;
        let locate = |span: kiln_lang::Span| source_line(sources, span);
        kiln_hls::emit(&module, &hopts, &locate, data)
    };
    s.timings.push(("emit".into(), t.elapsed()));
    match project {
        Ok(p) if hls.testbench => {
            write_files(&mut s, &hls.out_dir, &p.files, "C-simulate with `kiln csim")
        }
        Ok(p) => {
            // A testbench an earlier `kiln hls` left in the directory would be compiled
            // against this kernel by `kiln csim`.
            let stale = hls.out_dir.join(format!("{}_tb.cpp", hopts.name));
            let _ = std::fs::remove_file(stale);
            write_files(
                &mut s,
                &hls.out_dir,
                &p.files,
                "no testbench; synthesize with `vitis_hls -f run_hls.tcl` there: `cd",
            )
        }
        Err(diags) => {
            for d in diags {
                s.push(d);
            }
        }
    }
    s.finish()
}

/// A design and what its testbench checks: the module the fpga pipeline made, the inputs
/// (stacked along the batch axis for a batch), kiln's results for them, and the batch size.
pub(crate) struct Checked {
    pub module: Module,
    pub inputs: Vec<TensorValue>,
    pub outputs: Vec<TensorValue>,
    pub batch: Option<usize>,
}

/// Runs the `fpga` pipeline for `part` with `options` (`schedule` applied at its
/// `schedule` stage) and computes the testbench's expected results from the program as
/// written (after `bounds`, before any schedule), so that simulating the design also
/// checks every schedule, fusion and tiling of the pipeline. `None` when a diagnostic
/// (pushed on `s`) stopped it. Shared by `kiln hls` and `kiln rtl`.
///
/// Without a `testbench` the kernel is not run (no inputs, no results; parameters whose
/// sizes the kernel fixes need no data, as for `kiln report`). With one, a kernel
/// whose estimate for its samples is over [`TESTBENCH_CYCLE_LIMIT`] cycles is refused
/// before it runs (E0723): its expected results would take minutes to hours to compute
/// and its simulation days.
#[allow(clippy::too_many_arguments)]
pub(crate) fn design_and_results(
    s: &mut Session,
    path: &Path,
    spec: &RunSpec,
    part: &str,
    clock_ns: f64,
    options: PassOptions,
    schedule: &(dyn Fn(&mut Module) + Sync),
    testbench: bool,
) -> Option<Checked> {
    let written: Mutex<Option<Module>> = Mutex::new(None);
    let observe = |stage: &str, m: &mut Module| match stage {
        "lower" | "bounds" => {
            *written.lock().unwrap_or_else(|e| e.into_inner()) = Some(m.clone());
        }
        "schedule" => schedule(m),
        _ => {}
    };
    let plan = Plan {
        part: part.to_string(),
        clock_ns,
        options,
        observe: Some(&observe),
        ..Plan::for_pipeline("fpga")
    };
    let Prepared {
        program,
        kernel,
        data,
        module,
    } = prepare(s, path, spec, !testbench, &plan)?;
    let written = written
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
        .unwrap_or_else(|| module.clone());
    if !testbench {
        return Some(Checked {
            module,
            inputs: Vec::new(),
            outputs: Vec::new(),
            batch: None,
        });
    }
    if let Some(d) = crate::memory::check_run_memory(&written, spec.engine) {
        s.push(d);
        return None;
    }
    let inputs = s.input_tensors(&written, &program, kernel, &data)?;
    let batch = s.batch.as_ref().map(|b| b.size);
    if let Some(d) = too_long_to_test(&module, batch.unwrap_or(1)) {
        s.push(d);
        return None;
    }
    let (inputs, outputs) = match batch {
        Some(size) => {
            let samples = crate::batch::split_samples(&written, &inputs, size);
            let batch_spec = RunSpec {
                check_overflow: false,
                repeat: 0,
                ..spec.clone()
            };
            match crate::batch::run_batch(s, &written, &samples, &batch_spec)? {
                (Ok(outputs), _) => (crate::batch::stack_inputs(samples), outputs),
                (Err(e), _) => {
                    s.push(e.to_diagnostic());
                    return None;
                }
            }
        }
        None => match expected_results(s, &written, &inputs, spec.engine) {
            Ok(o) => (inputs, o),
            Err(e) => {
                s.push(e.to_diagnostic());
                return None;
            }
        },
    };
    Some(Checked {
        module,
        inputs,
        outputs,
        batch,
    })
}

/// The most cycles (the estimate's, over every sample) of a design `kiln hls` and `kiln
/// rtl` run for their testbench's expected results: 10^10, at least 10 s of the JIT for
/// the simplest loop body and about 5 hours of Verilator at LeNet's 500,000 cycles a
/// second (`kiln rtlsim` stops a sample at 2 x 10^8 cycles by default).
pub(crate) const TESTBENCH_CYCLE_LIMIT: u64 = 10_000_000_000;

/// E0723 when the estimate of the design's entry over `samples` samples is over
/// [`TESTBENCH_CYCLE_LIMIT`] cycles.
fn too_long_to_test(module: &Module, samples: usize) -> Option<Diagnostic> {
    let entry = module.entry?;
    let cycles = kiln_passes::estimate::estimate_instance(module, entry).cycles;
    let total = cycles.saturating_mul(samples as u64);
    (total > TESTBENCH_CYCLE_LIMIT).then(|| {
        let per = if samples > 1 {
            format!(" ({cycles} a sample, {samples} samples)")
        } else {
            String::new()
        };
        Diagnostic::error(
            codes::TESTBENCH_TOO_LONG,
            format!(
                "the testbench would need this kernel run for its expected results, and the estimate puts it at {total} cycles{per}, over the limit of {TESTBENCH_CYCLE_LIMIT}: minutes to hours to run, days to simulate"
            ),
        )
        .at(module.instance(entry).span)
        .label(format!("about {total} cycles, by the estimate"))
        .help("`--no-testbench` writes the design without running the kernel; or test a smaller instance of it (fewer iterations, smaller inputs)")
    })
}

/// The results the testbench expects: kiln's own for the program as written, for the
/// same inputs.
pub(crate) fn expected_results(
    s: &mut Session,
    written: &Module,
    inputs: &[TensorValue],
    engine: Engine,
) -> Result<Vec<TensorValue>, RunError> {
    if engine == Engine::Interp {
        return kiln_interp::run(written, inputs);
    }
    match kiln_jit::Program::compile(written, &kiln_jit::JitOptions::default()) {
        Ok(p) => p
            .prepare(inputs)
            .and_then(|pr| p.execute(&pr).map(|o| p.decode(&o))),
        Err(e) => {
            // The testbench only needs kiln's results; the interpreter computes the same
            // ones (the JIT declines values over 128 bits). Said, not silent.
            let _ = writeln!(
                s.out.stderr,
                "note: the JIT cannot compile this kernel ({}); the testbench's expected results come from the interpreter",
                e.to_diagnostic().message
            );
            kiln_interp::run(written, inputs)
        }
    }
}

/// The top function's name: the kernel's, or the file's for `main`.
pub(crate) fn top_name(module: &Module, path: &Path) -> String {
    let kernel_name = module
        .entry_instance()
        .map(|i| i.kernel.clone())
        .unwrap_or_else(|| "kernel".into());
    if kernel_name == "main" {
        path.file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or(kernel_name)
    } else {
        kernel_name
    }
}

/// `file.kiln:LINE: the line's text`, for comments in the C++.
fn source_line(sources: &SourceMap, span: kiln_lang::Span) -> String {
    let file = sources.get(span.file);
    let (line, _) = sources.line_col(span.file, span.start);
    let text = file
        .text
        .lines()
        .nth(line.saturating_sub(1))
        .unwrap_or("")
        .trim();
    let fname = Path::new(&file.name)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.name.clone());
    format!("{fname}:{line}: {text}")
}

/// Writes the project's files into `dir` (E0608 when it cannot); the closing line says
/// what to do next (`{next} DIR`).
pub(crate) fn write_files(s: &mut Session, dir: &Path, files: &[(String, String)], next: &str) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        s.push(Diagnostic::error(
            codes::WRITE_FAILED,
            format!("cannot create {}: {e}", dir.display()),
        ));
        return;
    }
    for (file, text) in files {
        let path = dir.join(file);
        if let Err(e) = std::fs::write(&path, text) {
            s.push(Diagnostic::error(
                codes::WRITE_FAILED,
                format!("cannot write {}: {e}", path.display()),
            ));
            return;
        }
    }
    let _ = writeln!(
        s.out.stderr,
        "wrote {} files to {} ({next} {}`)",
        files.len(),
        dir.display(),
        dir.display()
    );
}
