//! `kiln run --autotune`: measures variants of the tail of the `cpu` pipeline (with and
//! without fusing a network's kernels, and a few register and cache blockings) on the
//! run's own inputs, and keeps the fastest. The model (passes/src/transform/autoblock.rs) does not
//! fuse on the CPU: measured on this JIT, a fused conv + bias + relu + requantize nest
//! runs slower than the separate nests (its epilogue's registers crowd the
//! convolution's); autotuning measures instead of trusting it.
//!
//! The variants are the same pipeline run from its `fuse` step with other options
//! ([`PassOptions::cpu_fuse`], [`PassOptions::forced_blocking`]): the order of passes is
//! still the one pipelines.rs writes.

use crate::session::{Plan, Session};
use crate::RunSpec;
use kiln_lang::diag::{codes, Diagnostic};
use kiln_passes::autoblock::{candidates, cpu_scheduled, Blocking};
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Module;
use kiln_passes::manager::PassOptions;
use kiln_passes::pipelines::Pipeline;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// The first step of the cpu pipeline that autotuning varies.
const VARIED_FROM: &str = "fuse";

/// One variant: fused or not, and a blocking (or none).
type Variant = (bool, Option<Blocking>);

/// Replaces `module` (the cpu pipeline's result without blocking) with the fastest
/// variant measured on `inputs`, and says what it measured on stderr.
pub(crate) fn autotune(
    s: &mut Session,
    module: &mut Module,
    plan: &Plan,
    inputs: &[TensorValue],
    spec: &RunSpec,
) {
    let Some(pipeline) = s.pipeline(plan) else {
        return;
    };
    if !pipeline.steps.iter().any(|(n, _)| *n == VARIED_FROM) {
        s.push(Diagnostic::warning(
            codes::NOT_HONOURED,
            format!(
                "--autotune: the pipeline `{}` has no automatic CPU schedule to measure",
                pipeline.name
            ),
        ));
        return;
    }
    let variants = variants(s, module, pipeline, plan);
    if variants.len() < 2 {
        s.push(
            Diagnostic::warning(codes::NOT_HONOURED, "--autotune: nothing to choose")
                .note("autotuning blocks nests of two loops around a reduction loop and fuses calls of networks"),
        );
        apply(s, module, pipeline, plan, (false, None), true);
        return;
    }
    let times = measure(s, module, pipeline, plan, &variants, inputs, spec);
    let _ = writeln!(s.out.stderr, "autotune (median kernel time per candidate):");
    let mut best: Option<(Duration, Variant)> = None;
    for (v, t) in variants.iter().zip(&times) {
        if let Some(t) = t {
            let _ = writeln!(
                s.out.stderr,
                "  {}: {:.3} ms",
                describe(v),
                t.as_secs_f64() * 1e3
            );
            if best.is_none_or(|(b, _)| *t < b) {
                best = Some((*t, *v));
            }
        }
    }
    let Some((_, chosen)) = best else { return };
    let _ = writeln!(s.out.stderr, "autotune: chose {}", describe(&chosen));
    apply(s, module, pipeline, plan, chosen, false);
}

/// The variants to measure: unfused and (when something fuses) fused, each with the
/// blockings `candidates` proposes for its first nest, or none.
fn variants(s: &Session, module: &Module, pipeline: &Pipeline, plan: &Plan) -> Vec<Variant> {
    let scheduled = cpu_scheduled(module);
    let mut fused = module.clone();
    let mut ctx = s.pass_context(plan);
    ctx.options = options((true, None));
    ctx.dump_after = None;
    let fuses = pipeline.run_from(&mut fused, &mut ctx, VARIED_FROM) && !ctx.remarks.is_empty();
    let mut out = Vec::new();
    for (is_fused, m) in [(false, module), (true, &fused)] {
        if is_fused && !fuses {
            continue;
        }
        let cands = candidates(m, &scheduled, &ctx.machine);
        if cands.is_empty() {
            out.push((is_fused, None));
        }
        out.extend(cands.into_iter().map(|c| (is_fused, Some(c))));
    }
    out
}

/// The pass options of a variant.
fn options((fused, blocking): Variant) -> PassOptions {
    PassOptions {
        auto_schedule: blocking.is_some(),
        forced_blocking: blocking,
        cpu_fuse: fused,
        ..PassOptions::default()
    }
}

/// The median kernel time of each variant (`None` where it did not compile or run), with
/// a progress bar on a terminal.
fn measure(
    s: &Session,
    module: &Module,
    pipeline: &Pipeline,
    plan: &Plan,
    variants: &[Variant],
    inputs: &[TensorValue],
    spec: &RunSpec,
) -> Vec<Option<Duration>> {
    let bar = indicatif::ProgressBar::new(variants.len() as u64).with_style(
        indicatif::ProgressStyle::with_template("autotune {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let jit_opts = kiln_jit::JitOptions {
        threads: spec.threads,
        ..Default::default()
    };
    let mut times = Vec::new();
    for v in variants {
        bar.set_message(describe(v));
        let mut m = module.clone();
        let mut ctx = s.pass_context(plan);
        ctx.options = options(*v);
        ctx.dump_after = None;
        let built = pipeline.run_from(&mut m, &mut ctx, VARIED_FROM);
        let time = built
            .then(|| kiln_jit::Program::compile(&m, &jit_opts).ok())
            .flatten()
            .and_then(|p| median_kernel_time(&p, inputs));
        times.push(time);
        bar.inc(1);
    }
    bar.finish_and_clear();
    times
}

/// Runs the varied steps for `chosen` on `module`, reporting into the session.
fn apply(
    s: &mut Session,
    module: &mut Module,
    pipeline: &Pipeline,
    plan: &Plan,
    chosen: Variant,
    model: bool,
) {
    let mut ctx = s.pass_context(plan);
    ctx.options = if model {
        PassOptions {
            auto_schedule: true,
            ..plan.options.clone()
        }
    } else {
        options(chosen)
    };
    pipeline.run_from(module, &mut ctx, VARIED_FROM);
    s.absorb(ctx);
}

fn describe((fused, blocking): &Variant) -> String {
    format!(
        "{}{}",
        if *fused { "fused, " } else { "" },
        blocking.map_or("no blocking".to_string(), |b| b.to_string())
    )
}

/// The median time of a few runs of a compiled program (at least 3, up to 200 ms).
fn median_kernel_time(p: &kiln_jit::Program, inputs: &[TensorValue]) -> Option<Duration> {
    let prepared = p.prepare(inputs).ok()?;
    p.execute(&prepared).ok()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || (start.elapsed() < Duration::from_millis(200) && times.len() < 50) {
        let t = Instant::now();
        p.execute(&prepared).ok()?;
        times.push(t.elapsed());
    }
    times.sort();
    Some(times[times.len() / 2])
}
