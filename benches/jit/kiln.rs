//! Running kiln: what the binary supports, timing its kernels, and the untiled JIT run.

use crate::cell::{measure, median, Cell};
use crate::config::Config;
use crate::machine::root;
use crate::npy::{compare, the_npy};
use crate::process::{parse_kernel_time, parse_timings, run, Out};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[derive(Clone)]
pub enum Avail {
    Yes,
    No(String),
}

pub struct Kiln {
    pub bin: PathBuf,
    pub jit: Avail,
    pub repeat: bool,
    pub threads: bool,
}

impl Kiln {
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.current_dir(root());
        c
    }

    /// Prints what this kiln supports and notes what it lacks.
    pub fn describe(&self, notes: &mut Vec<String>) {
        match &self.jit {
            Avail::Yes => eprintln!("kiln --engine jit: available"),
            Avail::No(e) => eprintln!("kiln --engine jit: NOT available ({e})"),
        }
        eprintln!(
            "kiln --repeat: {}; --threads: {}",
            if self.repeat {
                "available"
            } else {
                "NOT available (interpreter timed with --timings, one run per process)"
            },
            if self.threads {
                "available"
            } else {
                "not available"
            }
        );
        if let Avail::No(e) = &self.jit {
            notes.push(format!(
                "`kiln run --engine jit` is not available in this build: `{e}`."
            ));
        }
        if matches!(self.jit, Avail::Yes) && !self.threads {
            notes.push(
                "kiln has no `--threads` flag: the JIT ran with its default threading, while every C \
             baseline is single-threaded."
                    .into(),
            );
        }
        if !self.repeat {
            notes.push(
                "`kiln run --repeat` is not available in this build: the interpreter's kernel time is the \
             `run (interp)` stage of `--timings`, one run per kiln process, median over the processes."
                    .into(),
            );
        }
    }
}

/// How kiln reported a usage problem: an engine or flag it does not have.
pub fn usage_error(o: &Out) -> Option<String> {
    if o.code != Some(2) {
        return None;
    }
    let l = o
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("usage error")
        .trim()
        .to_string();
    Some(l)
}

pub fn probe(bin: &Path, tmp: &Path) -> Kiln {
    let small = root().join("examples/bench/data/small");
    let base = |extra: &[&str]| {
        let mut c = Command::new(bin);
        c.current_dir(root())
            .arg("run")
            .arg("examples/bench/gemm_i8.kiln")
            .args(["--kernel", "gemm", "--color", "never"])
            .arg("--input")
            .arg(format!("a={}", small.join("gemm_i8_a.npy").display()))
            .arg("--input")
            .arg(format!("b={}", small.join("gemm_i8_b.npy").display()))
            .args(extra);
        c
    };
    let rep = run(
        &mut base(&["--engine", "interp", "--repeat", "1"]),
        tmp,
        Some(Duration::from_secs(60)),
    );
    let repeat = usage_error(&rep).is_none();
    let jo = run(
        &mut base(&["--engine", "jit"]),
        tmp,
        Some(Duration::from_secs(60)),
    );
    let jit = match usage_error(&jo) {
        Some(e) => Avail::No(e),
        None => Avail::Yes,
    };
    let threads = if matches!(jit, Avail::Yes) {
        let t = run(
            &mut base(&["--engine", "jit", "--threads", "1"]),
            tmp,
            Some(Duration::from_secs(60)),
        );
        usage_error(&t).is_none()
    } else {
        let t = run(
            &mut base(&["--threads", "1"]),
            tmp,
            Some(Duration::from_secs(60)),
        );
        usage_error(&t).is_none()
    };
    Kiln {
        bin: bin.to_path_buf(),
        jit,
        repeat,
        threads,
    }
}

/// Runs kiln on a kernel n times and returns (median ms, runs) and the last output.
/// With --repeat: one process. Without: n processes with --timings, the "run (...)" stage.
pub fn kiln_time(
    k: &Kiln,
    args: &[String],
    n: usize,
    out_dir: Option<&Path>,
    tmp: &Path,
    timeout: Option<Duration>,
) -> (Cell, Option<Out>) {
    let (c, o, _) = kiln_samples(k, args, n, out_dir, tmp, timeout);
    (c, o)
}

/// As kiln_time, with the single-run times when kiln has no --repeat (one per process).
pub fn kiln_samples(
    k: &Kiln,
    args: &[String],
    n: usize,
    out_dir: Option<&Path>,
    tmp: &Path,
    timeout: Option<Duration>,
) -> (Cell, Option<Out>, Vec<f64>) {
    let one = |reps: Option<usize>| {
        let mut c = k.cmd();
        c.arg("run").args(args).args(["--color", "never"]);
        match reps {
            Some(r) => {
                c.arg("--repeat").arg(r.to_string());
            }
            None => {
                c.arg("--timings");
            }
        }
        if let Some(d) = out_dir {
            let _ = fs::remove_dir_all(d);
            c.arg("--out").arg(d);
        }
        run(&mut c, tmp, timeout)
    };
    if k.repeat {
        let o = one(Some(n));
        if !o.ok() {
            let why = o.why();
            return (Cell::Err(why), Some(o), Vec::new());
        }
        match parse_kernel_time(&o.stderr) {
            Some((ms, runs, last)) => {
                if !last {
                    eprintln!("  note: `kernel time:` is not the last line of kiln's stderr");
                }
                (
                    Cell::Ms(ms, if runs > 0 { runs } else { n }),
                    Some(o),
                    Vec::new(),
                )
            }
            None => (
                Cell::Err("no `kernel time: median` line on stderr".into()),
                Some(o),
                Vec::new(),
            ),
        }
    } else {
        let mut v = Vec::new();
        let mut last = None;
        for _ in 0..n {
            let o = one(None);
            if !o.ok() {
                let why = o.why();
                return (Cell::Err(why), Some(o), v);
            }
            let t = parse_timings(&o.stderr);
            match t.iter().find(|(s, _)| s.starts_with("run")) {
                Some((_, ms)) => v.push(*ms),
                None => return (Cell::Err("no `run` stage in --timings".into()), Some(o), v),
            }
            last = Some(o);
        }
        let samples = v.clone();
        (Cell::Ms(median(&mut v), n), last, samples)
    }
}

/// The JIT without the automatic loop blocking, against the default (tiled) JIT.
pub struct Untiled {
    /// `--no-auto-schedule`, same threads and number of runs as the tiled measurement.
    pub time: Cell,
    /// The `blocking: ` lines of `kiln run FILE --timings` (the blocking the tiled JIT used).
    pub blocking: Result<Vec<String>, String>,
    /// The untiled result against the tiled one, bit for bit (None: not compared).
    pub same: Option<Result<(), String>>,
}

/// Times the JIT with `--no-auto-schedule` right after the tiled measurement `tiled` (same
/// arguments `args`, same number of runs), reads the blocking the tiled JIT chose (the
/// `blocking: ` lines of `--timings`) and compares the untiled result (`out`) with the
/// tiled one (in `tiled_out`).
pub fn untiled_jit(
    k: &Kiln,
    cfg: &Config,
    args: &[String],
    tiled: &Cell,
    tiled_out: &Path,
    out: &Path,
    tmp: &Path,
) -> Untiled {
    let timeout = Some(Duration::from_secs(600));
    let mut uargs = args.to_vec();
    uargs.push("--no-auto-schedule".into());
    let (time, o) = match tiled {
        Cell::Ms(_, n) => kiln_time(k, &uargs, *n, Some(out), tmp, timeout),
        // no tiled number to pair with: calibrate on its own
        _ => measure(cfg, |n, last| {
            kiln_time(
                k,
                &uargs,
                n,
                if last { Some(out) } else { None },
                tmp,
                timeout,
            )
        }),
    };
    let time = match (&time, o.as_ref().and_then(usage_error)) {
        (Cell::Err(_), Some(e)) => Cell::Na(format!("n/a (`{e}`)")),
        _ => time,
    };
    let same = match (&time, tiled) {
        (Cell::Ms(..), Cell::Ms(..)) => {
            Some(the_npy(out).and_then(|u| the_npy(tiled_out).and_then(|t| compare(&u, &t))))
        }
        _ => None,
    };
    // the blocking chosen: one run of the default (tiled) JIT with --timings
    let mut c = k.cmd();
    c.arg("run")
        .args(args)
        .args(["--color", "never", "--timings"]);
    let t = run(&mut c, tmp, timeout);
    let blocking: Result<Vec<String>, String> = if t.ok() {
        Ok(t.stderr
            .lines()
            // kiln prints them as `pass: ` remarks since the pass manager reports them.
            .filter_map(|l| {
                l.strip_prefix("blocking: ")
                    .or_else(|| l.strip_prefix("pass: "))
            })
            .map(|l| l.trim().to_string())
            .collect())
    } else {
        Err(t.why())
    };
    eprintln!(
        "kiln JIT untiled (--no-auto-schedule): {}; blocking chosen: {}; untiled = tiled: {}",
        time.show_ms(),
        u_blocking(&blocking),
        match &same {
            Some(Ok(())) => "bit-identical".to_string(),
            Some(Err(e)) => format!("NO: {e}"),
            None => "not compared".to_string(),
        }
    );
    Untiled {
        time,
        blocking,
        same,
    }
}

/// The blocking chosen, for the tables: "none" when kiln blocked no loop.
pub fn u_blocking(b: &Result<Vec<String>, String>) -> String {
    match b {
        Ok(v) if v.is_empty() => "none".to_string(),
        Ok(v) => v.join("; "),
        Err(e) => format!("unknown ({e})"),
    }
}
