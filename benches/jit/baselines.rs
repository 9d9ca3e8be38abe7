//! The C baselines (and C-sims): compiling them with gcc / g++ and timing them.

use crate::cell::Cell;
use crate::kernels::Shape;
use crate::npy::read_npy;
use crate::process::{parse_kernel_time, run, Out};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct Compiled {
    pub exe: Result<PathBuf, String>,
    pub secs: f64,
}

pub fn compile(
    src: &Path,
    exe: &Path,
    cpp: bool,
    float: bool,
    defs: &[String],
    ap: Option<&Path>,
    tmp: &Path,
) -> Compiled {
    let mut c = Command::new(if cpp { "g++" } else { "gcc" });
    c.args(["-O3", "-march=native"]);
    if float {
        c.arg("-ffp-contract=off");
    }
    if cpp {
        c.arg("-std=c++14").arg("-w");
    }
    if let Some(ap) = ap {
        c.arg("-I").arg(ap);
    }
    c.args(defs).arg(src).arg("-o").arg(exe);
    let o = run(&mut c, tmp, Some(Duration::from_secs(300)));
    Compiled {
        exe: if o.ok() {
            Ok(exe.to_path_buf())
        } else {
            Err(format!(
                "{} failed: {}",
                if cpp { "g++" } else { "gcc" },
                o.why()
            ))
        },
        secs: o.wall.as_secs_f64(),
    }
}

pub fn defines(shape: Shape, inputs: &[PathBuf]) -> Result<Vec<String>, String> {
    let a = read_npy(&inputs[0])?.shape;
    let b = read_npy(&inputs[1])?.shape;
    Ok(match shape {
        Shape::Conv if a.len() == 3 && b.len() == 4 => vec![
            format!("-DCI={}", a[0]),
            format!("-DHI={}", a[1]),
            format!("-DWI={}", a[2]),
            format!("-DCO={}", b[0]),
        ],
        Shape::Gemm if a.len() == 2 && b.len() == 2 => vec![
            format!("-DM_={}", a[0]),
            format!("-DK_={}", a[1]),
            format!("-DN_={}", b[1]),
        ],
        Shape::Dense if a.len() == 2 && b.len() == 2 => vec![
            format!("-DM_={}", a[0]),
            format!("-DK_={}", a[1]),
            format!("-DN_={}", b[0]),
        ],
        _ => return Err("unexpected input ranks".into()),
    })
}

pub fn c_time(
    exe: &Path,
    n: usize,
    out: &Path,
    inputs: &[PathBuf],
    tmp: &Path,
) -> (Cell, Option<Out>) {
    let mut c = Command::new(exe);
    c.arg(n.to_string()).arg(out).args(inputs);
    let o = run(&mut c, tmp, Some(Duration::from_secs(1800)));
    if !o.ok() {
        return (Cell::Err(o.why()), Some(o));
    }
    match parse_kernel_time(&o.stderr) {
        Some((ms, runs, _)) => (Cell::Ms(ms, runs), Some(o)),
        None => (Cell::Err("no kernel time line".into()), Some(o)),
    }
}
