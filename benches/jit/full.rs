//! Steps 4 and 5: the kernels at full size: the C baseline, the ap_types C-sim, kiln's JIT
//! (tiled, untiled, every core) and kiln's interpreter, every result against the C
//! baseline's.

use crate::apsim;
use crate::baselines::{c_time, compile};
use crate::cell::{measure, median, median_of, Cell};
use crate::kernels::Bench;
use crate::kiln::{kiln_samples, kiln_time, untiled_jit, Avail, Untiled};
use crate::npy::{compare, the_npy};
use crate::{Ctx, Log};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A result compared with the C baseline's: who computed it, and whether it is identical.
pub type Check = (String, Result<(), String>);

/// One kernel's measurements.
pub struct Row {
    pub name: &'static str,
    pub jit: Cell,
    pub jit_mt: Option<Cell>,
    pub untiled: Option<Untiled>,
    pub c: Cell,
    pub ap: Option<Cell>,
    pub interp: Cell,
    pub checks: Vec<Check>,
}

/// The measurements of every kernel, with the details for the results file.
#[derive(Default)]
pub struct Full {
    pub rows: Vec<Row>,
    /// How each baseline and C-sim was built and how long it took.
    pub baseline_lines: Vec<String>,
    /// The interpreter's runs.
    pub interp_lines: Vec<String>,
}

/// The C baseline's result of a kernel, which every other result is compared with.
struct Reference {
    out: PathBuf,
    /// Whether the baseline ran.
    ok: bool,
}

impl Reference {
    fn compare(&self, got: &Path) -> Result<(), String> {
        if self.ok {
            compare(got, &self.out)
        } else {
            Err("no C result".into())
        }
    }
}

/// Measures every kernel of `benches` at full size.
pub fn measure_all(ctx: &Ctx, benches: &[&Bench], log: &mut Log) -> Full {
    let mut full = Full::default();
    for b in benches {
        eprintln!("\n== {} : {} ==", b.name, b.what);
        let inputs: Vec<PathBuf> = b
            .params
            .iter()
            .map(|p| ctx.ex.join(format!("data/{}_{p}.npy", b.name)))
            .collect();
        let kfile = format!("examples/bench/{}.kiln", b.name);
        let mut checks: Vec<Check> = Vec::new();
        let c = c_baseline(ctx, b, &inputs, &mut full.baseline_lines);
        let reference = Reference {
            out: ctx.tmp.join(format!("{}_c.npy", b.name)),
            ok: matches!(c, Cell::Ms(..)),
        };
        let ap = b.ap_src.map(|src| {
            let (cell, out) = apsim::time(ctx, b, src, &inputs, &mut full.baseline_lines);
            if let Some(out) = out {
                checks.push(("C-sim".into(), reference.compare(&out)));
            }
            cell
        });
        let (jit, jit_mt, untiled) = match &ctx.kiln.jit {
            Avail::No(_) => (Cell::Na("n/a (engine not available)".into()), None, None),
            Avail::Yes => {
                let (cell, mt, untiled) = jit(ctx, b, &kfile, &reference, &mut checks, log);
                (cell, mt, Some(untiled))
            }
        };
        let interp = interp(ctx, b, &kfile, &reference, &mut checks, &mut full, log);
        eprintln!("kiln interpreter: {}", interp.show_ms());
        for (who, r) in &checks {
            match r {
                Ok(()) => eprintln!("{who} result = C result: bit-identical"),
                Err(e) => {
                    eprintln!("!!!!!!!! MISMATCH: {}: {who} vs C: {e}", b.name);
                    log.mismatches
                        .push(format!("{}: {who} vs C baseline: {e}", b.name));
                }
            }
        }
        full.rows.push(Row {
            name: b.name,
            jit,
            jit_mt,
            untiled,
            c,
            ap,
            interp,
            checks,
        });
    }
    full
}

/// Builds and times the C baseline (its last run writes `NAME_c.npy`).
fn c_baseline(ctx: &Ctx, b: &Bench, inputs: &[PathBuf], lines: &mut Vec<String>) -> Cell {
    let (cfg, tmp) = (ctx.cfg, ctx.tmp);
    let cexe = tmp.join(b.name);
    let comp = compile(&ctx.bl.join(b.c_src), &cexe, false, b.float, &[], None, tmp);
    let c = match &comp.exe {
        Ok(exe) => {
            measure(cfg, |n, last| {
                c_time(
                    exe,
                    n,
                    &tmp.join(if last {
                        format!("{}_c.npy", b.name)
                    } else {
                        "calib.npy".into()
                    }),
                    inputs,
                    tmp,
                )
            })
            .0
        }
        Err(e) => Cell::Err(e.clone()),
    };
    eprintln!("C -O3: {} (compile {:.2} s)", c.show_ms(), comp.secs);
    lines.push(format!(
        "{}: `{}` (gcc -O3 -march=native{}): {} per run{}, compile {:.2} s",
        b.name,
        b.c_src,
        if b.float { " -ffp-contract=off" } else { "" },
        c.show_ms(),
        median_of(&c),
        comp.secs
    ));
    c
}

/// Times kiln's JIT on one thread, then without the automatic loop blocking (right after,
/// same runs), then on every core.
fn jit(
    ctx: &Ctx,
    b: &Bench,
    kfile: &str,
    reference: &Reference,
    checks: &mut Vec<Check>,
    log: &mut Log,
) -> (Cell, Option<Cell>, Untiled) {
    let (kiln, tmp) = (&ctx.kiln, ctx.tmp);
    let jit_out = tmp.join(format!("{}_jit", b.name));
    let mut args = vec![kfile.to_string(), "--engine".into(), "jit".into()];
    args.extend(ctx.jit_threads.iter().cloned());
    let (cell, o) = measure(ctx.cfg, |n, last| {
        kiln_time(
            kiln,
            &args,
            n,
            if last { Some(&jit_out) } else { None },
            tmp,
            Some(Duration::from_secs(600)),
        )
    });
    if let (Cell::Err(_), Some(o)) = (&cell, &o) {
        log.notes.push(format!(
            "{}: kiln JIT failed:\n```\n{}\n```",
            b.name,
            o.tail()
        ));
    }
    if matches!(cell, Cell::Ms(..)) {
        let res = the_npy(&jit_out).and_then(|p| reference.compare(&p));
        checks.push(("JIT".into(), res));
    }
    eprintln!(
        "kiln JIT{}: {}",
        if kiln.threads { " (1 thread)" } else { "" },
        cell.show_ms()
    );
    let untiled = untiled_jit(
        kiln,
        ctx.cfg,
        &args,
        &cell,
        &jit_out,
        &tmp.join(format!("{}_jit_untiled", b.name)),
        tmp,
    );
    if let Some(Err(e)) = &untiled.same {
        eprintln!(
            "!!!!!!!! MISMATCH: {}: untiled JIT vs tiled JIT: {e}",
            b.name
        );
        log.mismatches.push(format!(
            "{}: JIT with --no-auto-schedule vs the default (tiled) JIT: {e}",
            b.name
        ));
    }
    let mt = kiln.threads.then(|| jit_all_cores(ctx, kfile));
    (cell, mt, untiled)
}

/// Times kiln's JIT with `--threads N`, N the available cores.
fn jit_all_cores(ctx: &Ctx, kfile: &str) -> Cell {
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let args = vec![
        kfile.to_string(),
        "--engine".into(),
        "jit".into(),
        "--threads".into(),
        n.to_string(),
    ];
    let (c2, _) = measure(ctx.cfg, |r, _| {
        kiln_time(
            &ctx.kiln,
            &args,
            r,
            None,
            ctx.tmp,
            Some(Duration::from_secs(600)),
        )
    });
    eprintln!("kiln JIT ({n} threads): {}", c2.show_ms());
    c2
}

/// Times kiln's interpreter: one run (skipped past `--interp-limit`), then up to 3 in
/// all within about half the limit.
fn interp(
    ctx: &Ctx,
    b: &Bench,
    kfile: &str,
    reference: &Reference,
    checks: &mut Vec<Check>,
    full: &mut Full,
    log: &mut Log,
) -> Cell {
    let cfg = ctx.cfg;
    if !cfg.interp {
        return Cell::Na(if cfg.quick {
            "skipped (--quick)".into()
        } else {
            "skipped (--no-interp)".into()
        });
    }
    let args = vec![kfile.to_string(), "--engine".into(), "interp".into()];
    let iout = ctx.tmp.join(format!("{}_interp", b.name));
    let (c1, o1) = kiln_time(
        &ctx.kiln,
        &args,
        1,
        Some(&iout),
        ctx.tmp,
        Some(cfg.interp_limit),
    );
    match c1 {
        Cell::Ms(t1, _) => {
            let res = the_npy(&iout).and_then(|p| reference.compare(&p));
            checks.push(("interp".into(), res));
            let (cell, n) = interp_runs(ctx, &args, t1);
            let wall = o1.as_ref().map(|o| o.wall.as_secs_f64()).unwrap_or(0.0);
            full.interp_lines.push(format!(
                "{}: {} ms per run ({} run{}; first process {:.1} s wall, {:.1} ns per multiply-accumulate)",
                b.name,
                cell.show(),
                n,
                if n > 1 { "s" } else { "" },
                wall,
                t1 * 1e6 / b.macs
            ));
            cell
        }
        Cell::Err(_) if o1.as_ref().is_some_and(|o| o.timed_out) => {
            let s = format!("skipped (> {:.0} s)", cfg.interp_limit.as_secs_f64());
            full.interp_lines.push(format!(
                "{}: {s}: killed after {:.0} s",
                b.name,
                cfg.interp_limit.as_secs_f64()
            ));
            Cell::Na(s)
        }
        other => {
            if let Some(o) = &o1 {
                log.notes.push(format!(
                    "{}: kiln interpreter failed:\n```\n{}\n```",
                    b.name,
                    o.tail()
                ));
            }
            other
        }
    }
}

/// The interpreter's time over up to 3 runs, at most about half the limit in all, the
/// first run (`t1` ms) included; and the number of runs.
fn interp_runs(ctx: &Ctx, args: &[String], t1: f64) -> (Cell, usize) {
    let (cfg, kiln) = (ctx.cfg, &ctx.kiln);
    let budget = cfg.interp_limit.as_secs_f64() * 1000.0 / 2.0;
    let n = ((budget / t1).floor() as usize).clamp(1, 3);
    let cell = if n == 1 {
        Cell::Ms(t1, 1)
    } else if kiln.repeat {
        // one more process, --repeat n
        kiln_time(kiln, args, n, None, ctx.tmp, Some(cfg.interp_limit * 4)).0
    } else {
        // n - 1 more processes; the first run counts
        let (c, _, mut v) = kiln_samples(kiln, args, n - 1, None, ctx.tmp, Some(cfg.interp_limit));
        match c {
            Cell::Ms(..) => {
                v.push(t1);
                Cell::Ms(median(&mut v), n)
            }
            other => other,
        }
    };
    (cell, n)
}
