//! Step 3: correctness on the small variants (examples/bench/data/small): kiln's
//! interpreter, kiln's JIT and the C-sims against the C baselines, bit for bit.

use crate::apsim;
use crate::baselines::{c_time, compile, defines};
use crate::cell::Cell;
use crate::kernels::Bench;
use crate::kiln::Avail;
use crate::npy::{compare, the_npy};
use crate::process::run;
use crate::{Ctx, Log};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

/// Checks every small variant of `benches`; returns one line per variant.
pub fn check_all(ctx: &Ctx, benches: &[&Bench], log: &mut Log) -> Vec<String> {
    eprintln!("\n== correctness on the small variants (bit-exact) ==");
    let mut lines = Vec::new();
    for b in benches {
        for s in b.smalls {
            match check(ctx, b, s, log) {
                Ok(line) => {
                    eprintln!("{line}");
                    lines.push(line);
                }
                Err(line) => lines.push(line),
            }
        }
    }
    lines
}

/// Where a small variant's C result is, when there is one.
struct Reference<'a> {
    small: &'a str,
    /// The C baseline's result, if it ran.
    out: Option<PathBuf>,
}

impl Reference<'_> {
    /// Compares an engine's result with the C baseline's and reports it on `line`.
    fn check(&self, label: &str, got: Result<PathBuf, String>, line: &mut String, log: &mut Log) {
        let r = got.and_then(|g| match &self.out {
            Some(cref) => compare(&g, cref),
            None => Err("no C reference".into()),
        });
        match &r {
            Ok(()) => {
                let _ = write!(line, " {label}=C ok;");
            }
            Err(e) => {
                let _ = write!(line, " {label}≠C: {e};");
                if self.out.is_some() {
                    log.mismatches
                        .push(format!("small {}: {label} vs C: {e}", self.small));
                }
            }
        }
    }
}

/// One small variant `s` of `b`: the line of its results (an error line, for the results
/// file only, when its inputs cannot be read).
fn check(ctx: &Ctx, b: &Bench, s: &str, log: &mut Log) -> Result<String, String> {
    let inputs: Vec<PathBuf> = b
        .params
        .iter()
        .map(|p| ctx.ex.join(format!("data/small/{s}_{p}.npy")))
        .collect();
    let defs = match defines(b.shape, &inputs) {
        Ok(d) => d,
        Err(e) => return Err(format!("{s}: cannot read inputs: {e}")),
    };
    let mut kargs = vec![
        format!("examples/bench/{}.kiln", b.name),
        "--kernel".into(),
        b.inner.into(),
    ];
    for (p, f) in b.params.iter().zip(&inputs) {
        kargs.push("--input".into());
        kargs.push(format!("{p}={}", f.display()));
    }
    let mut line = format!("{s} ({}):", defs.join(" "));
    let reference = Reference {
        small: s,
        out: c_reference(ctx, b, s, &defs, &inputs, &mut line),
    };
    let interp = kiln_small(ctx, &kargs, s, "interp");
    reference.check("interp", interp, &mut line, log);
    match &ctx.kiln.jit {
        Avail::Yes => {
            let jit = kiln_small(ctx, &kargs, s, "jit");
            reference.check("JIT", jit, &mut line, log);
        }
        Avail::No(_) => line.push_str(" JIT n/a;"),
    }
    if let (Some(src), Ok(apdir)) = (b.ap_src, &ctx.ap) {
        let got = apsim::small_result(ctx, (src, apdir), s, &defs, &inputs);
        reference.check("C-sim", got, &mut line, log);
    }
    Ok(line)
}

/// Runs the C baseline compiled for the small sizes; returns its result file, or says on
/// `line` why there is none.
fn c_reference(
    ctx: &Ctx,
    b: &Bench,
    s: &str,
    defs: &[String],
    inputs: &[PathBuf],
    line: &mut String,
) -> Option<PathBuf> {
    let cexe = ctx.tmp.join(format!("small_{s}"));
    let comp = compile(
        &ctx.bl.join(b.c_src),
        &cexe,
        false,
        b.float,
        defs,
        None,
        ctx.tmp,
    );
    let cref = ctx.tmp.join(format!("small_{s}_c.npy"));
    match &comp.exe {
        Ok(exe) => {
            let (cell, _) = c_time(exe, 1, &cref, inputs, ctx.tmp);
            match cell {
                Cell::Ms(..) => Some(cref),
                other => {
                    let _ = write!(line, " C {}", other.show());
                    None
                }
            }
        }
        Err(e) => {
            let _ = write!(line, " C: {e}");
            None
        }
    }
}

/// kiln's result on a small variant with `engine`.
fn kiln_small(ctx: &Ctx, kargs: &[String], s: &str, engine: &str) -> Result<PathBuf, String> {
    let d = ctx.tmp.join(format!("small_{s}_{engine}"));
    let mut c = ctx.kiln.cmd();
    c.arg("run")
        .args(kargs)
        .args(["--engine", engine, "--color", "never", "--out"])
        .arg(&d);
    let o = run(&mut c, ctx.tmp, Some(Duration::from_secs(120)));
    if o.ok() {
        the_npy(&d)
    } else {
        Err(format!("kiln: {}", o.why()))
    }
}
