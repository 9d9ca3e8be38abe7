//! The ap_types C-simulations: the Xilinx headers, a kernel's C-sim on a small variant,
//! and timed at full size.

use crate::baselines::{c_time, compile};
use crate::cell::{measure, median_of, Cell};
use crate::kernels::Bench;
use crate::machine::root;
use crate::process::run;
use crate::Ctx;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub fn ap_include(tmp: &Path) -> Result<PathBuf, String> {
    if let Ok(d) = std::env::var("KILN_AP_TYPES") {
        let p = PathBuf::from(&d);
        if p.join("ap_fixed.h").is_file() {
            return Ok(p);
        }
    }
    let o = run(
        Command::new("bash").arg(root().join("scripts/fetch-ap-types.sh")),
        tmp,
        Some(Duration::from_secs(300)),
    );
    let p = PathBuf::from(o.stdout.lines().last().unwrap_or("").trim());
    if o.ok() && p.join("ap_fixed.h").is_file() {
        Ok(p)
    } else {
        Err(format!("scripts/fetch-ap-types.sh: {}", o.why()))
    }
}

/// Builds and times the C-sim `src` of `b` at full size: its time, and its result file when
/// it ran; the build goes to `lines`.
pub fn time(
    ctx: &Ctx,
    b: &Bench,
    src: &str,
    inputs: &[PathBuf],
    lines: &mut Vec<String>,
) -> (Cell, Option<PathBuf>) {
    let apdir = match &ctx.ap {
        Err(e) => return (Cell::Na(format!("n/a ({e})")), None),
        Ok(apdir) => apdir,
    };
    let tmp = ctx.tmp;
    let exe = tmp.join(format!("{}_ap", b.name));
    let comp = compile(&ctx.bl.join(src), &exe, true, false, &[], Some(apdir), tmp);
    let mut result = None;
    let cell = match &comp.exe {
        Ok(exe) => {
            let out = tmp.join(format!("{}_ap.npy", b.name));
            let r = measure(ctx.cfg, |n, _| c_time(exe, n, &out, inputs, tmp)).0;
            if matches!(r, Cell::Ms(..)) {
                result = Some(out);
            }
            r
        }
        Err(e) => Cell::Err(e.clone()),
    };
    eprintln!(
        "ap_types C-sim: {} (compile {:.2} s)",
        cell.show_ms(),
        comp.secs
    );
    lines.push(format!(
        "{}: `{}` (g++ -O3 -march=native -std=c++14, Xilinx ap_types): {} per run{}, compile {:.2} s",
        b.name,
        src,
        cell.show_ms(),
        median_of(&cell),
        comp.secs
    ));
    (cell, result)
}

/// The C-sim `src` built for a small variant `s` (`defs`: its sizes) and run once: its
/// result file.
pub fn small_result(
    ctx: &Ctx,
    (src, apdir): (&str, &Path),
    s: &str,
    defs: &[String],
    inputs: &[PathBuf],
) -> Result<PathBuf, String> {
    let exe = ctx.tmp.join(format!("small_{s}_ap"));
    let comp = compile(
        &ctx.bl.join(src),
        &exe,
        true,
        false,
        defs,
        Some(apdir),
        ctx.tmp,
    );
    let out = ctx.tmp.join(format!("small_{s}_ap.npy"));
    match &comp.exe {
        Ok(exe) => match c_time(exe, 1, &out, inputs, ctx.tmp).0 {
            Cell::Ms(..) => Ok(out),
            other => Err(other.show()),
        },
        Err(e) => Err(e.clone()),
    }
}
