//! `kiln run FILE`: the entry kernel through the `interp` or `cpu` pipeline, run by the
//! interpreter or the JIT (`--repeat` for a median time, `--autotune` to measure CPU
//! blockings), its results printed and written (`--out`).

use crate::outputs::report_outputs;
use crate::session::{on_big_stack, prepare, Plan, Prepared, Session};
use crate::{CpuBlocking, Engine, Options, Outcome, RunSpec};
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Module;
use kiln_passes::manager::PassOptions;
use kiln_passes::overflow::OverflowReport;
use kiln_passes::run_error::RunError;
use std::path::Path;
use std::time::Instant;

/// `kiln run FILE`
pub fn run(path: &Path, spec: &RunSpec, out_dir: Option<&Path>, opts: &Options) -> Outcome {
    run_scheduled(path, spec, out_dir, opts, &|_| {})
}

/// [`run`] with `schedule` transforming the typed IR right after the `schedule` pass
/// (the written `cpu` schedules) and before the automatic blocking (the tests use it to apply random loop transformations).
pub fn run_scheduled(
    path: &Path,
    spec: &RunSpec,
    out_dir: Option<&Path>,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    on_big_stack(|| run_file(path, spec, out_dir, opts, schedule))
}

fn run_file(
    path: &Path,
    spec: &RunSpec,
    out_dir: Option<&Path>,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    let mut s = Session::new(opts);
    let observe = |stage: &str, m: &mut Module| {
        if stage == "schedule" {
            schedule(m)
        }
    };
    let autotune = spec.engine == Engine::Jit && spec.cpu_blocking == CpuBlocking::Autotune;
    let plan = Plan {
        options: PassOptions {
            // Autotuning runs the blocking passes itself, once per candidate.
            auto_schedule: spec.cpu_blocking == CpuBlocking::Model,
            ..PassOptions::default()
        },
        observe: Some(&observe),
        ..Plan::for_pipeline(match spec.engine {
            Engine::Interp => "interp",
            Engine::Jit => "cpu",
        })
    };
    let Some(Prepared {
        program,
        kernel,
        data,
        mut module,
    }) = prepare(&mut s, path, spec, false, &plan)
    else {
        return s.finish();
    };
    if let Some(d) = crate::memory::check_run_memory(&module, spec.engine) {
        s.push(d);
        return s.finish();
    }
    let Some(inputs) = s.input_tensors(&module, &program, kernel, &data) else {
        return s.finish();
    };
    if autotune {
        let t = Instant::now();
        crate::autotune::autotune(&mut s, &mut module, &plan, &inputs, spec);
        s.timings.push(("autotune".into(), t.elapsed()));
    }
    if let Some(size) = s.batch.as_ref().map(|b| b.size) {
        if let Some(d) = crate::memory::check_batch_memory(&module, spec.engine, size) {
            s.push(d);
            return s.finish();
        }
        let samples = crate::batch::split_samples(&module, &inputs, size);
        drop(inputs);
        if let Some((result, report)) = crate::batch::run_batch(&mut s, &module, &samples, spec) {
            match result {
                Ok(outputs) => report_outputs(&mut s, &module, &outputs, out_dir, spec.full),
                Err(e) => s.push(e.to_diagnostic()),
            }
            if let Some(report) = report {
                report_overflow(&mut s, &report);
            }
        }
        return s.finish();
    }
    if spec.check_overflow {
        let (result, report) = match spec.engine {
            Engine::Interp => {
                let t = Instant::now();
                let (r, report) = kiln_interp::run_counting_overflow(&module, &inputs);
                s.timings.push(("run".into(), t.elapsed()));
                (Some(r), Some(report))
            }
            Engine::Jit => run_jit_counting_overflow(&mut s, &module, &inputs, spec),
        };
        match result {
            Some(Ok(outputs)) => report_outputs(&mut s, &module, &outputs, out_dir, spec.full),
            Some(Err(e)) => s.push(e.to_diagnostic()),
            None => {}
        }
        if let Some(report) = report {
            report_overflow(&mut s, &report);
        }
        return s.finish();
    }
    let result = match spec.engine {
        Engine::Interp => repeated(&mut s, spec.repeat, || kiln_interp::run(&module, &inputs)),
        Engine::Jit => run_jit(&mut s, &module, &inputs, spec),
    };
    match result {
        Some(Ok(outputs)) => report_outputs(&mut s, &module, &outputs, out_dir, spec.full),
        Some(Err(e)) => s.push(e.to_diagnostic()),
        None => {}
    }
    s.finish()
}

/// Compiles with the JIT and runs; `None` when compilation failed (reported).
pub(crate) fn run_jit(
    s: &mut Session,
    module: &Module,
    inputs: &[TensorValue],
    spec: &RunSpec,
) -> Option<Result<Vec<TensorValue>, RunError>> {
    let jit_opts = kiln_jit::JitOptions {
        threads: spec.threads,
        ..Default::default()
    };
    let program = match s.time("codegen", |_| kiln_jit::Program::compile(module, &jit_opts)) {
        Ok(p) => p,
        Err(e) => {
            s.push(e.to_diagnostic());
            return None;
        }
    };
    let prepared = match program.prepare(inputs) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let outs = repeated(s, spec.repeat, || program.execute(&prepared))?;
    Some(outs.map(|o| program.decode(&o)))
}

/// Compiles with the JIT counting overflows and runs once: the result and the counts
/// (`None` for both when compilation failed, which is reported).
fn run_jit_counting_overflow(
    s: &mut Session,
    module: &Module,
    inputs: &[TensorValue],
    spec: &RunSpec,
) -> (
    Option<Result<Vec<TensorValue>, RunError>>,
    Option<OverflowReport>,
) {
    let jit_opts = kiln_jit::JitOptions {
        threads: spec.threads,
        check_overflow: true,
        ..Default::default()
    };
    let program = match s.time("codegen", |_| kiln_jit::Program::compile(module, &jit_opts)) {
        Ok(p) => p,
        Err(e) => {
            s.push(e.to_diagnostic());
            return (None, None);
        }
    };
    let t = Instant::now();
    let result = program.run(inputs);
    s.timings.push(("run".into(), t.elapsed()));
    (Some(result), program.take_overflow_report())
}

/// W0804 for each conversion site that overflowed, and a last line on stderr with the
/// totals (also when nothing overflowed, so that a script can tell the check ran).
fn report_overflow(s: &mut Session, report: &OverflowReport) {
    for d in report.diagnostics() {
        s.push(d);
    }
    let sites = report.sites().len();
    s.trailer = Some(if sites == 0 {
        "overflow check: no value overflowed".to_string()
    } else {
        format!(
            "overflow check: {} value(s) overflowed at {sites} conversion site(s)",
            report.total()
        )
    });
}

/// Runs `kernel` once, or `repeat` times reporting the median time as the last line of
/// stderr; records the first run's time as the `run` stage. Returns the first result.
pub(crate) fn repeated<T>(
    s: &mut Session,
    repeat: usize,
    mut kernel: impl FnMut() -> Result<T, RunError>,
) -> Option<Result<T, RunError>> {
    let t = Instant::now();
    let first = kernel();
    let took = t.elapsed();
    s.timings.push(("run".into(), took));
    if first.is_err() || repeat == 0 {
        return Some(first);
    }
    let mut times = vec![took];
    while times.len() < repeat {
        let t = Instant::now();
        if let Err(e) = kernel() {
            return Some(Err(e));
        }
        times.push(t.elapsed());
    }
    times.sort();
    let median = if times.len() % 2 == 1 {
        times[times.len() / 2]
    } else {
        (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2
    };
    s.trailer = Some(format!(
        "kernel time: median {:.3} ms over {} runs",
        median.as_secs_f64() * 1e3,
        times.len()
    ));
    Some(first)
}
