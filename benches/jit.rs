//! kiln's performance benchmark: `cargo bench --bench jit` (harness = false).
//!
//! In one process it
//! 1. takes the release `kiln` binary cargo built for this bench (`CARGO_BIN_EXE_kiln`;
//!    override with `KILN_BIN=path`),
//! 2. compiles the C baselines of benches/baselines/ with gcc (`-O3 -march=native`, plus
//!    `-ffp-contract=off` for f32) and the ap_types C-simulations with g++ against the
//!    Xilinx headers (`KILN_AP_TYPES`, else `scripts/fetch-ap-types.sh`),
//! 3. checks correctness on the small variants (examples/bench/data/small): kiln's
//!    interpreter, kiln's JIT, the C baselines and the C-sims must agree bit for bit,
//! 4. times the kernels of examples/bench at full size: kiln JIT
//!    (`--engine jit --repeat N`), kiln's interpreter (`--engine interp`, skipped past
//!    `--interp-limit` seconds), the C baselines, the C-sims, and compares every result
//!    with the C baseline's, bit for bit,
//! 5. times each kernel's JIT without the automatic loop blocking (`--no-auto-schedule`,
//!    same `--threads 1 --repeat N`, measured right after the default tiled JIT), reads the
//!    blocking kiln chose (`blocking: ` lines of `--timings`) and checks that the untiled
//!    result is bit-identical to the tiled one,
//! 6. times `kiln run examples/lenet/lenet.kiln --timings` (parse to native code),
//! 7. prints the tables and writes them, with the details, to benches/results.md (the
//!    loop-blocking one in the section "Loop blocking (issue 5)").
//!
//! Medians over N runs, N chosen so that a measurement takes at least 1 s and N >= 5.
//! An engine or flag that kiln does not have is reported as such ("n/a (engine not
//! available)"); no number is ever made up. Any result mismatch is printed loudly and
//! makes the bench exit with status 1.
//!
//! Options (after `--`): `--quick` (0.2 s per measurement, 3 runs, no interpreter at full
//! size), `--no-interp`, `--interp-limit SECS` (default 60), `--keep` (keep the temporary
//! directory), `--no-write` (do not overwrite benches/results.md), and kernel names to
//! run only those (`cargo bench --bench jit -- conv_fixed gemm_i8`).
//!
//! Only the standard library is used, so the file also builds on its own:
//! `rustc -O --edition 2021 benches/jit.rs -o /tmp/kiln-bench && KILN_BIN=target/release/kiln /tmp/kiln-bench`
//! (run from the repository root).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// The benchmarks

#[derive(Clone, Copy, PartialEq)]
enum Shape {
    /// x: [C, H, W], w: [K, C, 3, 3]
    Conv,
    /// a: [M, K], b: [K, N]
    Gemm,
}

struct Bench {
    name: &'static str,
    what: &'static str,
    /// The generic kernel the small variants run (`--kernel`).
    inner: &'static str,
    /// The kernel's value parameters, bound to data/NAME_<param>.npy.
    params: [&'static str; 2],
    c_src: &'static str,
    /// f32 code: compile with -ffp-contract=off.
    float: bool,
    ap_src: Option<&'static str>,
    shape: Shape,
    /// Data-set prefixes in examples/bench/data/small.
    smalls: &'static [&'static str],
    /// Multiply-accumulates at full size.
    macs: f64,
}

const BENCHES: &[Bench] = &[
    Bench {
        name: "conv_fixed",
        what: "3x3 conv 32->32 ch, 34x34 in: fixed<8,4> x int<2>, fixed<24,12> acc, relu",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_fixed.c",
        float: false,
        ap_src: Some("conv_fixed_ap.cpp"),
        shape: Shape::Conv,
        smalls: &["conv_fixed", "conv_fixed_wrap"],
        macs: 32.0 * 32.0 * 9.0 * 32.0 * 32.0,
    },
    Bench {
        name: "conv_f32",
        what: "3x3 conv 64->64 ch, 58x58 in: f32, relu, sum in (c, u, v) order",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_f32.c",
        float: true,
        ap_src: None,
        shape: Shape::Conv,
        smalls: &["conv_f32"],
        macs: 64.0 * 64.0 * 9.0 * 56.0 * 56.0,
    },
    Bench {
        name: "conv_bin",
        what: "3x3 conv 128->128 ch, 30x30 in: bin x bin, int<16> sums",
        inner: "conv",
        params: ["x", "w"],
        c_src: "conv_bin.c",
        float: false,
        ap_src: Some("conv_bin_ap.cpp"),
        shape: Shape::Conv,
        smalls: &["conv_bin"],
        macs: 128.0 * 128.0 * 9.0 * 28.0 * 28.0,
    },
    Bench {
        name: "gemm_i8",
        what: "512x512x512 int<8> x int<8> -> int<32>",
        inner: "gemm",
        params: ["a", "b"],
        c_src: "gemm_i8.c",
        float: false,
        ap_src: None,
        shape: Shape::Gemm,
        smalls: &["gemm_i8"],
        macs: 512.0 * 512.0 * 512.0,
    },
    Bench {
        name: "gemm_f32",
        what: "512x512x512 f32, sum over k in order",
        inner: "gemm",
        params: ["a", "b"],
        c_src: "gemm_f32.c",
        float: true,
        ap_src: None,
        shape: Shape::Gemm,
        smalls: &["gemm_f32"],
        macs: 512.0 * 512.0 * 512.0,
    },
];

// ---------------------------------------------------------------------------------------
// Configuration

struct Config {
    quick: bool,
    min_time_ms: f64,
    min_runs: usize,
    interp: bool,
    interp_limit: Duration,
    keep: bool,
    write: bool,
    only: Vec<String>,
}

fn config() -> Config {
    let mut c = Config {
        quick: false,
        min_time_ms: 1000.0,
        min_runs: 5,
        interp: true,
        interp_limit: Duration::from_secs(60),
        keep: false,
        write: true,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {} // passed by `cargo bench`
            "--quick" => {
                c.quick = true;
                c.min_time_ms = 200.0;
                c.min_runs = 3;
                c.interp = false;
            }
            "--no-interp" => c.interp = false,
            "--interp" => c.interp = true,
            "--interp-limit" => {
                let v = args.next().and_then(|s| s.parse::<f64>().ok());
                match v {
                    Some(s) if s > 0.0 => c.interp_limit = Duration::from_secs_f64(s),
                    _ => eprintln!("warning: --interp-limit takes a number of seconds"),
                }
            }
            "--keep" => c.keep = true,
            "--no-write" => c.write = false,
            "-h" | "--help" => {
                println!(
                    "cargo bench --bench jit -- [--quick] [--no-interp] [--interp-limit SECS] \
                     [--keep] [--no-write] [KERNEL...]\nkernels: {}",
                    BENCHES.iter().map(|b| b.name).collect::<Vec<_>>().join(" ")
                );
                std::process::exit(0);
            }
            s if s.starts_with('-') => eprintln!("warning: ignoring unknown option {s}"),
            s => c.only.extend(s.split(',').map(str::to_string)),
        }
    }
    c
}

// ---------------------------------------------------------------------------------------
// Running programs

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    wall: Duration,
    timed_out: bool,
}

impl Out {
    fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
    /// The last lines of stderr, for error reports.
    fn tail(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let start = lines.len().saturating_sub(6);
        lines[start..].join("\n")
    }
    /// A one-line reason for a failure.
    fn why(&self) -> String {
        if self.timed_out {
            return format!("killed after {:.0} s", self.wall.as_secs_f64());
        }
        let first_err = self
            .stderr
            .lines()
            .find(|l| l.contains("error") || l.contains("Error"))
            .or_else(|| self.stderr.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("")
            .trim();
        match self.code {
            Some(c) => format!("exit {c}: {first_err}"),
            None => format!("killed by a signal: {first_err}"),
        }
    }
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs a command with stdout and stderr going to files in `tmp` (no pipe can fill up),
/// and kills it (this child only) after `timeout`.
fn run(cmd: &mut Command, tmp: &Path, timeout: Option<Duration>) -> Out {
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    let so = tmp.join(format!("out{n}.stdout"));
    let se = tmp.join(format!("out{n}.stderr"));
    let t0 = Instant::now();
    let spawn = (|| -> std::io::Result<std::process::Child> {
        cmd.stdin(Stdio::null())
            .stdout(fs::File::create(&so)?)
            .stderr(fs::File::create(&se)?)
            .spawn()
    })();
    let mut child = match spawn {
        Ok(c) => c,
        Err(e) => {
            return Out {
                code: Some(127),
                stdout: String::new(),
                stderr: format!("error: cannot start {:?}: {e}", cmd.get_program()),
                wall: t0.elapsed(),
                timed_out: false,
            }
        }
    };
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(_) => break None,
        }
        if let Some(t) = timeout {
            if t0.elapsed() > t {
                let _ = child.kill();
                let _ = child.wait();
                timed_out = true;
                break None;
            }
        }
        let e = t0.elapsed();
        std::thread::sleep(if e < Duration::from_millis(50) {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(10)
        });
    };
    let wall = t0.elapsed();
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    let out = Out {
        code: status.and_then(|s| s.code()),
        stdout: read(&so),
        stderr: read(&se),
        wall,
        timed_out,
    };
    let _ = fs::remove_file(&so);
    let _ = fs::remove_file(&se);
    out
}

/// `kernel time: median X ms over N runs` (kiln with --repeat, and the baselines).
fn parse_kernel_time(stderr: &str) -> Option<(f64, usize, bool)> {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    for (i, l) in lines.iter().enumerate().rev() {
        let l = l.trim();
        if let Some(rest) = l.strip_prefix("kernel time: median ") {
            let mut it = rest.split_whitespace();
            let ms = it.next()?.parse::<f64>().ok()?;
            // "ms over N runs"
            let _ms = it.next();
            let _over = it.next();
            let n = it.next().and_then(|s| s.parse::<usize>().ok()).unwrap_or(0);
            return Some((ms, n, i + 1 == lines.len()));
        }
    }
    None
}

/// The `--timings` block: (stage, ms) in order.
fn parse_timings(stderr: &str) -> Vec<(String, f64)> {
    let mut v = Vec::new();
    let mut inside = false;
    for l in stderr.lines() {
        if l.trim() == "timings:" {
            inside = true;
            v.clear();
            continue;
        }
        if !inside {
            continue;
        }
        let t = l.trim();
        let Some(body) = t.strip_suffix(" ms") else {
            inside = false;
            continue;
        };
        let Some(pos) = body.rfind(' ') else { continue };
        let (name, num) = body.split_at(pos);
        if let Ok(ms) = num.trim().parse::<f64>() {
            v.push((name.trim().to_string(), ms));
        }
    }
    v
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

// ---------------------------------------------------------------------------------------
// .npy files

struct Npy {
    descr: String,
    shape: Vec<usize>,
    data: Vec<u8>,
}

fn read_npy(p: &Path) -> Result<Npy, String> {
    let b = fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(format!("{} is not a .npy file", p.display()));
    }
    let (hlen, off) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        if b.len() < 12 {
            return Err(format!("{}: truncated", p.display()));
        }
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    if b.len() < off + hlen {
        return Err(format!("{}: truncated header", p.display()));
    }
    let h = String::from_utf8_lossy(&b[off..off + hlen]).into_owned();
    let descr = h
        .split("'descr':")
        .nth(1)
        .and_then(|s| s.split('\'').nth(1))
        .ok_or_else(|| format!("{}: no descr", p.display()))?
        .replace('|', "<");
    if h.contains("'fortran_order': True") {
        return Err(format!("{}: Fortran order", p.display()));
    }
    let shape_s = h
        .split("'shape':")
        .nth(1)
        .and_then(|s| s.split('(').nth(1))
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| format!("{}: no shape", p.display()))?;
    let shape: Vec<usize> = shape_s
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("{}: bad shape", p.display()))
        })
        .collect::<Result<_, _>>()?;
    Ok(Npy {
        descr,
        shape,
        data: b[off + hlen..].to_vec(),
    })
}

fn elem_size(descr: &str) -> usize {
    descr[2..].parse().unwrap_or(1)
}

fn elem_str(descr: &str, b: &[u8]) -> String {
    match &descr[1..] {
        "i1" => format!("{}", b[0] as i8),
        "u1" => format!("{}", b[0]),
        "b1" => format!("{}", b[0] != 0),
        "i2" => format!("{}", i16::from_le_bytes([b[0], b[1]])),
        "i4" => format!("{}", i32::from_le_bytes(b[..4].try_into().unwrap())),
        "i8" => format!("{}", i64::from_le_bytes(b[..8].try_into().unwrap())),
        "f4" => {
            let v = f32::from_le_bytes(b[..4].try_into().unwrap());
            format!("{v:e} (0x{:08x})", v.to_bits())
        }
        "f8" => {
            let v = f64::from_le_bytes(b[..8].try_into().unwrap());
            format!("{v} (0x{:016x})", v.to_bits())
        }
        _ => format!("{b:02x?}"),
    }
}

/// Compares two result files bit for bit. Ok(()) or a description of the difference.
fn compare(got: &Path, want: &Path) -> Result<(), String> {
    let a = read_npy(got)?;
    let b = read_npy(want)?;
    if a.descr != b.descr {
        return Err(format!("dtype {} vs {}", a.descr, b.descr));
    }
    if a.shape != b.shape {
        return Err(format!("shape {:?} vs {:?}", a.shape, b.shape));
    }
    if a.data.len() != b.data.len() {
        return Err(format!("{} vs {} data bytes", a.data.len(), b.data.len()));
    }
    if a.data == b.data {
        return Ok(());
    }
    let es = elem_size(&a.descr).max(1);
    let n = a.data.len() / es;
    let mut bad = 0usize;
    let mut first = None;
    for i in 0..n {
        if a.data[i * es..(i + 1) * es] != b.data[i * es..(i + 1) * es] {
            bad += 1;
            if first.is_none() {
                first = Some(i);
            }
        }
    }
    let i = first.unwrap_or(0);
    let mut idx = Vec::new();
    let mut r = i;
    for d in a.shape.iter().rev() {
        idx.push(r % d.max(&1));
        r /= d.max(&1);
    }
    idx.reverse();
    Err(format!(
        "{bad} of {n} elements differ; first at {idx:?}: {} vs {}",
        elem_str(&a.descr, &a.data[i * es..]),
        elem_str(&b.descr, &b.data[i * es..])
    ))
}

/// The only .npy file in a directory (kiln --out writes NAME.npy for the one result).
fn the_npy(dir: &Path) -> Result<PathBuf, String> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| format!("no output directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "npy"))
        .collect();
    v.sort();
    match v.len() {
        1 => Ok(v.pop().unwrap()),
        0 => Err(format!("kiln wrote no .npy into {}", dir.display())),
        _ => Err(format!(
            "kiln wrote {} .npy files into {}",
            v.len(),
            dir.display()
        )),
    }
}

// ---------------------------------------------------------------------------------------
// kiln

#[derive(Clone)]
enum Avail {
    Yes,
    No(String),
}

struct Kiln {
    bin: PathBuf,
    jit: Avail,
    repeat: bool,
    threads: bool,
}

impl Kiln {
    fn cmd(&self) -> Command {
        let mut c = Command::new(&self.bin);
        c.current_dir(root());
        c
    }
}

/// How kiln reported a usage problem: an engine or flag it does not have.
fn usage_error(o: &Out) -> Option<String> {
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

fn probe(bin: &Path, tmp: &Path) -> Kiln {
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

#[derive(Clone)]
enum Cell {
    /// median ms, runs
    Ms(f64, usize),
    /// not measured, and why
    Na(String),
    /// the measurement failed
    Err(String),
}

impl Cell {
    fn ms(&self) -> Option<f64> {
        match self {
            Cell::Ms(m, _) => Some(*m),
            _ => None,
        }
    }
    fn show_ms(&self) -> String {
        match self {
            Cell::Ms(m, _) => format!("{} ms", fmt_ms(*m)),
            other => other.show(),
        }
    }
    fn show(&self) -> String {
        match self {
            Cell::Ms(m, _) => fmt_ms(*m),
            Cell::Na(s) => s.clone(),
            Cell::Err(s) => format!("ERROR ({s})"),
        }
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 0.1 || r <= 0.0 || !r.is_finite() {
        format!("{r:.2}x")
    } else {
        // three significant digits: 0.0121x
        let digits = (2.0 - r.log10().floor()) as usize;
        format!("{r:.digits$}x")
    }
}

fn fmt_ms(m: f64) -> String {
    if m >= 100.0 {
        format!("{m:.1}")
    } else if m >= 1.0 {
        format!("{m:.3}")
    } else {
        format!("{m:.4}")
    }
}

/// Runs kiln on a kernel n times and returns (median ms, runs) and the last output.
/// With --repeat: one process. Without: n processes with --timings, the "run (...)" stage.
fn kiln_time(
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
fn kiln_samples(
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

fn runs_for(median_ms: f64, cfg: &Config) -> usize {
    if median_ms.is_nan() || median_ms <= 0.0 {
        return cfg.min_runs;
    }
    ((cfg.min_time_ms / median_ms).ceil() as usize).clamp(cfg.min_runs, 20_000)
}

/// Times the JIT with `--no-auto-schedule` right after the tiled measurement `tiled` (same
/// arguments `args`, same number of runs), reads the blocking the tiled JIT chose (the
/// `blocking: ` lines of `--timings`) and compares the untiled result (`out`) with the
/// tiled one (in `tiled_out`).
fn untiled_jit(
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
            .filter_map(|l| l.strip_prefix("blocking: "))
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
fn u_blocking(b: &Result<Vec<String>, String>) -> String {
    match b {
        Ok(v) if v.is_empty() => "none".to_string(),
        Ok(v) => v.join("; "),
        Err(e) => format!("unknown ({e})"),
    }
}

// ---------------------------------------------------------------------------------------
// C baselines

struct Compiled {
    exe: Result<PathBuf, String>,
    secs: f64,
}

fn compile(
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

fn defines(shape: Shape, inputs: &[PathBuf]) -> Result<Vec<String>, String> {
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
        _ => return Err("unexpected input ranks".into()),
    })
}

fn c_time(exe: &Path, n: usize, out: &Path, inputs: &[PathBuf], tmp: &Path) -> (Cell, Option<Out>) {
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

/// Calibrates then measures: a first short run gives the time per run, the second run
/// has enough repetitions for cfg.min_time_ms (and at least cfg.min_runs).
fn measure(
    cfg: &Config,
    mut f: impl FnMut(usize, bool) -> (Cell, Option<Out>),
) -> (Cell, Option<Out>) {
    let (c1, o1) = f(1, false);
    let Some(m1) = c1.ms() else { return (c1, o1) };
    let est = if m1 < 100.0 {
        let (c3, o3) = f(3, false);
        match c3.ms() {
            Some(m) => m,
            None => return (c3, o3),
        }
    } else {
        m1
    };
    f(runs_for(est, cfg), true)
}

// ---------------------------------------------------------------------------------------
// Machine

fn root() -> PathBuf {
    match option_env!("CARGO_MANIFEST_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_dir().unwrap(),
    }
}

fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

fn machine(bin: &Path) -> Vec<String> {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| {
            let want = [
                "avx2",
                "fma",
                "avx512f",
                "avx512bw",
                "avx512_vnni",
                "avx512_vpopcntdq",
            ];
            let have: Vec<&str> = l.split_whitespace().filter(|f| want.contains(f)).collect();
            have.join(" ")
        })
        .unwrap_or_default();
    let logical = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let phys = {
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut pid = String::new();
        for l in info.lines() {
            if let Some(v) = l.strip_prefix("physical id") {
                pid = v.trim_start_matches([' ', '\t', ':']).to_string();
            }
            if let Some(v) = l.strip_prefix("core id") {
                let c = (
                    pid.clone(),
                    v.trim_start_matches([' ', '\t', ':']).to_string(),
                );
                if !ids.contains(&c) {
                    ids.push(c);
                }
            }
        }
        ids.len()
    };
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1048576.0))
        .unwrap_or_else(|| "?".into());
    let cores = if phys > 0 {
        format!("{logical} logical CPUs available ({phys} physical cores listed)")
    } else {
        format!("{logical} logical CPUs available")
    };
    let dirty = first_line("git", &["status", "--porcelain", "--untracked-files=no"]);
    vec![
        format!("CPU: {model}, {cores}, {mem} RAM"),
        format!("ISA extensions: {flags}"),
        format!("kernel: {}", first_line("uname", &["-sr"])),
        format!("load average at start (1, 5, 15 min): {}", loadavg()),
        format!("gcc: {}", first_line("gcc", &["--version"])),
        format!(
            "kiln: {} (git {}{})",
            first_line(&bin.to_string_lossy(), &["--version"]),
            first_line("git", &["rev-parse", "--short", "HEAD"]),
            if dirty.is_empty() || dirty == "unknown" {
                ""
            } else {
                ", with uncommitted changes"
            }
        ),
    ]
}

fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn ap_include(tmp: &Path) -> Result<PathBuf, String> {
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

// ---------------------------------------------------------------------------------------
// main

/// The JIT without the automatic loop blocking, against the default (tiled) JIT.
struct Untiled {
    /// `--no-auto-schedule`, same threads and number of runs as the tiled measurement.
    time: Cell,
    /// The `blocking: ` lines of `kiln run FILE --timings` (the blocking the tiled JIT used).
    blocking: Result<Vec<String>, String>,
    /// The untiled result against the tiled one, bit for bit (None: not compared).
    same: Option<Result<(), String>>,
}

struct Row {
    name: &'static str,
    jit: Cell,
    jit_mt: Option<Cell>,
    untiled: Option<Untiled>,
    c: Cell,
    ap: Option<Cell>,
    interp: Cell,
    checks: Vec<(String, Result<(), String>)>,
}

fn main() -> ExitCode {
    let cfg = config();
    let t_start = Instant::now();
    let tmp = std::env::temp_dir().join(format!("kiln-bench-{}", std::process::id()));
    let _ = fs::remove_dir_all(&tmp);
    if let Err(e) = fs::create_dir_all(&tmp) {
        eprintln!("error: cannot create {}: {e}", tmp.display());
        return ExitCode::from(1);
    }
    let code = bench(&cfg, &tmp);
    if cfg.keep {
        eprintln!("kept {}", tmp.display());
    } else {
        let _ = fs::remove_dir_all(&tmp);
    }
    eprintln!("bench finished in {:.1} s", t_start.elapsed().as_secs_f64());
    code
}

fn bench(cfg: &Config, tmp: &Path) -> ExitCode {
    let root = root();
    let ex = root.join("examples/bench");
    let bl = root.join("benches/baselines");
    let mut notes: Vec<String> = Vec::new();
    let mut mismatches: Vec<String> = Vec::new();

    // kiln
    let bin = std::env::var_os("KILN_BIN")
        .map(PathBuf::from)
        .or_else(|| option_env!("CARGO_BIN_EXE_kiln").map(PathBuf::from))
        .unwrap_or_else(|| root.join("target/release/kiln"));
    let bin = if bin.is_relative() {
        root.join(bin)
    } else {
        bin
    };
    if !bin.is_file() {
        eprintln!(
            "error: no kiln binary at {} (run through `cargo bench --bench jit`, or set KILN_BIN)",
            bin.display()
        );
        return ExitCode::from(1);
    }
    let mach = machine(&bin);
    for l in &mach {
        eprintln!("{l}");
    }
    eprintln!("kiln binary: {}", bin.display());
    let kiln = probe(&bin, tmp);
    match &kiln.jit {
        Avail::Yes => eprintln!("kiln --engine jit: available"),
        Avail::No(e) => eprintln!("kiln --engine jit: NOT available ({e})"),
    }
    eprintln!(
        "kiln --repeat: {}; --threads: {}",
        if kiln.repeat {
            "available"
        } else {
            "NOT available (interpreter timed with --timings, one run per process)"
        },
        if kiln.threads {
            "available"
        } else {
            "not available"
        }
    );
    if let Avail::No(e) = &kiln.jit {
        notes.push(format!(
            "`kiln run --engine jit` is not available in this build: `{e}`."
        ));
    }
    if matches!(kiln.jit, Avail::Yes) && !kiln.threads {
        notes.push(
            "kiln has no `--threads` flag: the JIT ran with its default threading, while every C \
             baseline is single-threaded."
                .into(),
        );
    }
    if !kiln.repeat {
        notes.push(
            "`kiln run --repeat` is not available in this build: the interpreter's kernel time is the \
             `run (interp)` stage of `--timings`, one run per kiln process, median over the processes."
                .into(),
        );
    }
    let jit_threads: Vec<String> = if kiln.threads {
        vec!["--threads".into(), "1".into()]
    } else {
        Vec::new()
    };

    // ap_types headers
    let ap = ap_include(tmp);
    match &ap {
        Ok(p) => eprintln!("ap_types headers: {}", p.display()),
        Err(e) => {
            eprintln!("ap_types headers: NOT available ({e})");
            notes.push(format!("ap_types headers not available: {e}"));
        }
    }

    let benches: Vec<&Bench> = BENCHES
        .iter()
        .filter(|b| cfg.only.is_empty() || cfg.only.iter().any(|o| o == b.name))
        .collect();
    for o in &cfg.only {
        if !BENCHES.iter().any(|b| b.name == o) {
            eprintln!("warning: no benchmark named `{o}`");
        }
    }

    // ---- correctness on the small variants ----
    eprintln!("\n== correctness on the small variants (bit-exact) ==");
    let mut small_lines: Vec<String> = Vec::new();
    for b in &benches {
        for s in b.smalls {
            let inputs: Vec<PathBuf> = b
                .params
                .iter()
                .map(|p| ex.join(format!("data/small/{s}_{p}.npy")))
                .collect();
            let defs = match defines(b.shape, &inputs) {
                Ok(d) => d,
                Err(e) => {
                    small_lines.push(format!("{s}: cannot read inputs: {e}"));
                    continue;
                }
            };
            let kargs: Vec<String> = {
                let mut v = vec![
                    format!("examples/bench/{}.kiln", b.name),
                    "--kernel".into(),
                    b.inner.into(),
                ];
                for (p, f) in b.params.iter().zip(&inputs) {
                    v.push("--input".into());
                    v.push(format!("{p}={}", f.display()));
                }
                v
            };
            let mut line = format!("{s} ({}):", defs.join(" "));
            // reference: the C baseline
            let cexe = tmp.join(format!("small_{s}"));
            let comp = compile(&bl.join(b.c_src), &cexe, false, b.float, &defs, None, tmp);
            let cref = tmp.join(format!("small_{s}_c.npy"));
            let have_c = match &comp.exe {
                Ok(exe) => {
                    let (cell, _) = c_time(exe, 1, &cref, &inputs, tmp);
                    match cell {
                        Cell::Ms(..) => true,
                        other => {
                            let _ = write!(line, " C {}", other.show());
                            false
                        }
                    }
                }
                Err(e) => {
                    let _ = write!(line, " C: {e}");
                    false
                }
            };
            let mut check = |label: &str, got: Result<PathBuf, String>, line: &mut String| {
                let r = got.and_then(|g| {
                    if have_c {
                        compare(&g, &cref)
                    } else {
                        Err("no C reference".into())
                    }
                });
                match &r {
                    Ok(()) => {
                        let _ = write!(line, " {label}=C ok;");
                    }
                    Err(e) => {
                        let _ = write!(line, " {label}≠C: {e};");
                        if have_c {
                            mismatches.push(format!("small {s}: {label} vs C: {e}"));
                        }
                    }
                }
            };
            // kiln interpreter
            let d = tmp.join(format!("small_{s}_interp"));
            let mut c = kiln.cmd();
            c.arg("run")
                .args(&kargs)
                .args(["--engine", "interp", "--color", "never", "--out"])
                .arg(&d);
            let o = run(&mut c, tmp, Some(Duration::from_secs(120)));
            let got = if o.ok() {
                the_npy(&d)
            } else {
                Err(format!("kiln: {}", o.why()))
            };
            check("interp", got, &mut line);
            // kiln JIT
            match &kiln.jit {
                Avail::Yes => {
                    let d = tmp.join(format!("small_{s}_jit"));
                    let mut c = kiln.cmd();
                    c.arg("run")
                        .args(&kargs)
                        .args(["--engine", "jit", "--color", "never", "--out"])
                        .arg(&d);
                    let o = run(&mut c, tmp, Some(Duration::from_secs(120)));
                    let got = if o.ok() {
                        the_npy(&d)
                    } else {
                        Err(format!("kiln: {}", o.why()))
                    };
                    check("JIT", got, &mut line);
                }
                Avail::No(_) => line.push_str(" JIT n/a;"),
            }
            // ap_types C-sim
            if let (Some(src), Ok(apdir)) = (b.ap_src, &ap) {
                let exe = tmp.join(format!("small_{s}_ap"));
                let comp = compile(&bl.join(src), &exe, true, false, &defs, Some(apdir), tmp);
                let out = tmp.join(format!("small_{s}_ap.npy"));
                let got = match &comp.exe {
                    Ok(exe) => match c_time(exe, 1, &out, &inputs, tmp).0 {
                        Cell::Ms(..) => Ok(out),
                        other => Err(other.show()),
                    },
                    Err(e) => Err(e.clone()),
                };
                check("C-sim", got, &mut line);
            }
            eprintln!("{line}");
            small_lines.push(line);
        }
    }

    // ---- full-size measurements ----
    let mut rows: Vec<Row> = Vec::new();
    let mut baseline_lines: Vec<String> = Vec::new();
    let mut interp_lines: Vec<String> = Vec::new();
    for b in &benches {
        eprintln!("\n== {} : {} ==", b.name, b.what);
        let inputs: Vec<PathBuf> = b
            .params
            .iter()
            .map(|p| ex.join(format!("data/{}_{p}.npy", b.name)))
            .collect();
        let kfile = format!("examples/bench/{}.kiln", b.name);
        let mut checks: Vec<(String, Result<(), String>)> = Vec::new();

        // C baseline
        let cexe = tmp.join(b.name);
        let comp = compile(&bl.join(b.c_src), &cexe, false, b.float, &[], None, tmp);
        let cout = tmp.join(format!("{}_c.npy", b.name));
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
                        &inputs,
                        tmp,
                    )
                })
                .0
            }
            Err(e) => Cell::Err(e.clone()),
        };
        let c_ok = matches!(c, Cell::Ms(..));
        eprintln!("C -O3: {} (compile {:.2} s)", c.show_ms(), comp.secs);
        baseline_lines.push(format!(
            "{}: `{}` (gcc -O3 -march=native{}): {} per run{}, compile {:.2} s",
            b.name,
            b.c_src,
            if b.float { " -ffp-contract=off" } else { "" },
            c.show_ms(),
            match c {
                Cell::Ms(_, n) => format!(" (median of {n})"),
                _ => String::new(),
            },
            comp.secs
        ));

        // ap_types C-sim
        let ap_cell = b.ap_src.map(|src| match &ap {
            Err(e) => Cell::Na(format!("n/a ({e})")),
            Ok(apdir) => {
                let exe = tmp.join(format!("{}_ap", b.name));
                let comp = compile(&bl.join(src), &exe, true, false, &[], Some(apdir), tmp);
                let cell = match &comp.exe {
                    Ok(exe) => {
                        let out = tmp.join(format!("{}_ap.npy", b.name));
                        let r = measure(cfg, |n, _| c_time(exe, n, &out, &inputs, tmp)).0;
                        if matches!(r, Cell::Ms(..)) {
                            let res = if c_ok { compare(&out, &cout) } else { Err("no C result".into()) };
                            checks.push(("C-sim".into(), res));
                        }
                        r
                    }
                    Err(e) => Cell::Err(e.clone()),
                };
                eprintln!("ap_types C-sim: {} (compile {:.2} s)", cell.show_ms(), comp.secs);
                baseline_lines.push(format!(
                    "{}: `{}` (g++ -O3 -march=native -std=c++14, Xilinx ap_types): {} per run{}, compile {:.2} s",
                    b.name,
                    src,
                    cell.show_ms(),
                    match cell {
                        Cell::Ms(_, n) => format!(" (median of {n})"),
                        _ => String::new(),
                    },
                    comp.secs
                ));
                cell
            }
        });

        // kiln JIT
        let jit_out = tmp.join(format!("{}_jit", b.name));
        let (jit, jit_mt, untiled) = match &kiln.jit {
            Avail::No(_) => (Cell::Na("n/a (engine not available)".into()), None, None),
            Avail::Yes => {
                let mut args = vec![kfile.clone(), "--engine".into(), "jit".into()];
                args.extend(jit_threads.iter().cloned());
                let (cell, o) = measure(cfg, |n, last| {
                    kiln_time(
                        &kiln,
                        &args,
                        n,
                        if last { Some(&jit_out) } else { None },
                        tmp,
                        Some(Duration::from_secs(600)),
                    )
                });
                if let (Cell::Err(_), Some(o)) = (&cell, &o) {
                    notes.push(format!(
                        "{}: kiln JIT failed:\n```\n{}\n```",
                        b.name,
                        o.tail()
                    ));
                }
                if matches!(cell, Cell::Ms(..)) {
                    let res = the_npy(&jit_out).and_then(|p| {
                        if c_ok {
                            compare(&p, &cout)
                        } else {
                            Err("no C result".into())
                        }
                    });
                    checks.push(("JIT".into(), res));
                }
                eprintln!(
                    "kiln JIT{}: {}",
                    if kiln.threads { " (1 thread)" } else { "" },
                    cell.show_ms()
                );
                // the same without the automatic loop blocking, right after, same runs
                let untiled = untiled_jit(
                    &kiln,
                    cfg,
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
                    mismatches.push(format!(
                        "{}: JIT with --no-auto-schedule vs the default (tiled) JIT: {e}",
                        b.name
                    ));
                }
                // all threads, when kiln can choose
                let mt = if kiln.threads {
                    let n = std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(1);
                    let args = vec![
                        kfile.clone(),
                        "--engine".into(),
                        "jit".into(),
                        "--threads".into(),
                        n.to_string(),
                    ];
                    let (c2, _) = measure(cfg, |r, _| {
                        kiln_time(&kiln, &args, r, None, tmp, Some(Duration::from_secs(600)))
                    });
                    eprintln!("kiln JIT ({n} threads): {}", c2.show_ms());
                    Some(c2)
                } else {
                    None
                };
                (cell, mt, Some(untiled))
            }
        };

        // kiln interpreter
        let interp = if !cfg.interp {
            Cell::Na(if cfg.quick {
                "skipped (--quick)".into()
            } else {
                "skipped (--no-interp)".into()
            })
        } else {
            let args = vec![kfile.clone(), "--engine".into(), "interp".into()];
            let iout = tmp.join(format!("{}_interp", b.name));
            let (c1, o1) = kiln_time(&kiln, &args, 1, Some(&iout), tmp, Some(cfg.interp_limit));
            match c1 {
                Cell::Ms(t1, _) => {
                    let res = the_npy(&iout).and_then(|p| {
                        if c_ok {
                            compare(&p, &cout)
                        } else {
                            Err("no C result".into())
                        }
                    });
                    checks.push(("interp".into(), res));
                    // up to 3 runs, at most about half the limit in all
                    let budget = cfg.interp_limit.as_secs_f64() * 1000.0 / 2.0;
                    let n = ((budget / t1).floor() as usize).clamp(1, 3);
                    let cell = if n == 1 {
                        Cell::Ms(t1, 1)
                    } else if kiln.repeat {
                        // one more process, --repeat n
                        kiln_time(&kiln, &args, n, None, tmp, Some(cfg.interp_limit * 4)).0
                    } else {
                        // n - 1 more processes; the first run counts
                        let (c, _, mut v) =
                            kiln_samples(&kiln, &args, n - 1, None, tmp, Some(cfg.interp_limit));
                        match c {
                            Cell::Ms(..) => {
                                v.push(t1);
                                Cell::Ms(median(&mut v), n)
                            }
                            other => other,
                        }
                    };
                    let wall = o1.as_ref().map(|o| o.wall.as_secs_f64()).unwrap_or(0.0);
                    interp_lines.push(format!(
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
                Cell::Err(e) if o1.as_ref().is_some_and(|o| o.timed_out) => {
                    let _ = e;
                    let s = format!("skipped (> {:.0} s)", cfg.interp_limit.as_secs_f64());
                    interp_lines.push(format!(
                        "{}: {s}: killed after {:.0} s",
                        b.name,
                        cfg.interp_limit.as_secs_f64()
                    ));
                    Cell::Na(s)
                }
                other => {
                    if let Some(o) = &o1 {
                        notes.push(format!(
                            "{}: kiln interpreter failed:\n```\n{}\n```",
                            b.name,
                            o.tail()
                        ));
                    }
                    other
                }
            }
        };
        eprintln!("kiln interpreter: {}", interp.show_ms());

        for (who, r) in &checks {
            match r {
                Ok(()) => eprintln!("{who} result = C result: bit-identical"),
                Err(e) => {
                    eprintln!("!!!!!!!! MISMATCH: {}: {who} vs C: {e}", b.name);
                    mismatches.push(format!("{}: {who} vs C baseline: {e}", b.name));
                }
            }
        }
        rows.push(Row {
            name: b.name,
            jit,
            jit_mt,
            untiled,
            c,
            ap: ap_cell,
            interp,
            checks,
        });
    }

    // ---- LeNet: parse to native ----
    eprintln!("\n== LeNet: kiln run examples/lenet/lenet.kiln --timings ==");
    let lenet_engine = match kiln.jit {
        Avail::Yes => "jit",
        Avail::No(_) => "interp",
    };
    let mut sums = Vec::new();
    let mut walls = Vec::new();
    let mut stages: Vec<(String, Vec<f64>)> = Vec::new();
    let mut lenet_err = None;
    let reps = if cfg.quick { 5 } else { 11 };
    for _ in 0..reps {
        let mut c = kiln.cmd();
        c.args([
            "run",
            "examples/lenet/lenet.kiln",
            "--timings",
            "--color",
            "never",
        ]);
        if matches!(kiln.jit, Avail::Yes) {
            c.args(["--engine", "jit"]);
        }
        let o = run(&mut c, tmp, Some(Duration::from_secs(120)));
        if !o.ok() {
            lenet_err = Some(o.why());
            break;
        }
        let t = parse_timings(&o.stderr);
        let mut sum = 0.0;
        for (s, ms) in t
            .iter()
            .take_while(|(s, _)| !s.starts_with("run") && s != "total")
        {
            sum += ms;
            match stages.iter_mut().find(|(n, _)| n == s) {
                Some((_, v)) => v.push(*ms),
                None => stages.push((s.clone(), vec![*ms])),
            }
        }
        if let Some((s, ms)) = t.iter().find(|(s, _)| s.starts_with("run")) {
            match stages.iter_mut().find(|(n, _)| n == s) {
                Some((_, v)) => v.push(*ms),
                None => stages.push((s.clone(), vec![*ms])),
            }
        }
        if t.is_empty() {
            lenet_err = Some("no --timings block on stderr".into());
            break;
        }
        sums.push(sum);
        walls.push(o.wall.as_secs_f64() * 1e3);
    }
    let lenet = match lenet_err {
        Some(e) => Cell::Err(e),
        None => Cell::Ms(median(&mut sums), reps),
    };
    let lenet_wall = if walls.is_empty() {
        f64::NAN
    } else {
        median(&mut walls)
    };
    let stage_str: Vec<String> = stages
        .iter_mut()
        .map(|(s, v)| format!("{s} {} ms", fmt_ms(median(v))))
        .collect();
    eprintln!(
        "parse to {}: {} ms (median of {reps}; stages: {}); process wall {:.1} ms",
        if lenet_engine == "jit" {
            "native"
        } else {
            "interpretable IR (no JIT)"
        },
        lenet.show(),
        stage_str.join(", "),
        lenet_wall
    );

    // ---- the table ----
    let threads_note = if kiln.threads { " (1 thread)" } else { "" };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| kernel | kiln JIT ms{threads_note} | C -O3 ms | ap_types C-sim ms | interpreter ms | JIT vs C | JIT vs C-sim | results identical? |"
    );
    let _ = writeln!(t, "|---|---:|---:|---:|---:|---:|---:|---|");
    for r in &rows {
        let ratio = |base: Option<f64>, j: Option<f64>| match (base, j) {
            (Some(b), Some(j)) if j > 0.0 => fmt_ratio(b / j),
            _ => "—".to_string(),
        };
        let ap =
            r.ap.as_ref()
                .map(|c| c.show())
                .unwrap_or_else(|| "—".into());
        let apr = match &r.ap {
            Some(c) => ratio(c.ms(), r.jit.ms()),
            None => "—".into(),
        };
        let mut ident: Vec<String> = Vec::new();
        for who in ["JIT", "interp", "C-sim"] {
            match r.checks.iter().find(|(w, _)| w == who) {
                Some((_, Ok(()))) => ident.push(format!("{who} = C: yes")),
                Some((_, Err(_))) => ident.push(format!("**{who} ≠ C: MISMATCH**")),
                None => {
                    if who == "C-sim" && r.ap.is_none() {
                        continue;
                    }
                    ident.push(format!("{who}: n/a"))
                }
            }
        }
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.jit.show(),
            r.c.show(),
            ap,
            r.interp.show(),
            ratio(r.c.ms(), r.jit.ms()),
            apr,
            ident.join("; ")
        );
    }
    let legend = "Times are medians of the kernel alone (no compilation, no file I/O), over N runs \
with N chosen so that each measurement takes at least 1 s and N >= 5 (the interpreter: 1 to 3 runs). \
\"JIT vs C\" is the C time divided by the JIT time (above 1: kiln's JIT is faster). \
\"results identical?\" compares each result file with the C baseline's, bit for bit.";

    // loop blocking: tiled vs untiled JIT
    let blocking_head = format!(
        "## Loop blocking (issue 5): tiled vs untiled JIT{}",
        if kiln.threads { ", 1 thread" } else { "" }
    );
    let mut tb = String::new();
    let _ = writeln!(
        tb,
        "| kernel | untiled JIT ms (`--no-auto-schedule`) | tiled JIT ms (default) | speed-up | blocking chosen | results identical? |"
    );
    let _ = writeln!(tb, "|---|---:|---:|---:|---|---|");
    for r in &rows {
        let Some(u) = &r.untiled else { continue };
        let speedup = match (u.time.ms(), r.jit.ms()) {
            (Some(a), Some(b)) if b > 0.0 => fmt_ratio(a / b),
            _ => "—".to_string(),
        };
        let blocking = u_blocking(&u.blocking);
        let same = match &u.same {
            Some(Ok(())) => "yes (untiled = tiled, bit for bit)".to_string(),
            Some(Err(e)) => format!("**NO: {e}**"),
            None => "not compared".to_string(),
        };
        let _ = writeln!(
            tb,
            "| {} | {} | {} | {} | {} | {} |",
            r.name,
            u.time.show(),
            r.jit.show(),
            speedup,
            blocking.replace('|', "\\|"),
            same.replace('|', "\\|")
        );
    }
    let blocking_legend = "Both JIT times are medians of the kernel alone, measured back to back \
(the untiled run right after the tiled one) with the same `--threads 1 --repeat N`: N is the tiled \
measurement's. The tiled time is the one of the Results table. \"speed-up\" is the untiled time \
divided by the tiled time (above 1: the automatic blocking helps). \"blocking chosen\" lists the \
`blocking: ` lines of `kiln run FILE --timings --threads 1` (\"none\": kiln blocked no loop). \
\"results identical?\" compares the untiled JIT's result file with the tiled JIT's, bit for bit.";

    // targets
    let get = |n: &str| rows.iter().find(|r| r.name == n);
    let mut targets: Vec<String> = Vec::new();
    let status = |ok: bool| if ok { "MET" } else { "NOT MET" };
    if let Some(r) = get("conv_fixed") {
        let what = "fixed-point conv >= 100x faster than its ap_types C-sim";
        match (r.jit.ms(), r.ap.as_ref().and_then(|c| c.ms())) {
            (Some(j), Some(a)) => targets.push(format!(
                "{what}: {:.1}x — {}",
                a / j,
                status(a / j >= 100.0)
            )),
            _ => targets.push(format!("{what}: not measured (JIT or C-sim n/a)")),
        }
        let what = "fixed-point conv within 1.5x of the hand-written integer C";
        match (r.jit.ms(), r.c.ms()) {
            (Some(j), Some(c)) => targets.push(format!(
                "{what}: the JIT takes {:.2}x the C time — {}",
                j / c,
                status(j / c <= 1.5)
            )),
            _ => targets.push(format!("{what}: not measured (JIT n/a)")),
        }
    }
    if let Some(r) = get("conv_f32") {
        let ident = r
            .checks
            .iter()
            .find(|(w, _)| w == "JIT")
            .map(|(_, x)| x.is_ok());
        match (r.jit.ms(), r.c.ms()) {
            (Some(j), Some(c)) => targets.push(format!(
                "f32 conv >= 2x faster than the naive C at the same summation order, bit-identical: {:.2}x, {} — {}",
                c / j,
                if ident == Some(true) { "bit-identical" } else { "NOT bit-identical" },
                status(c / j >= 2.0 && ident == Some(true))
            )),
            _ => targets.push("f32 conv >= 2x faster than the naive C, bit-identical: not measured (JIT n/a)".into()),
        }
    }
    match &lenet {
        Cell::Ms(m, _) if lenet_engine == "jit" => targets.push(format!(
            "LeNet parse-to-native under 20 ms: {} ms — {}",
            fmt_ms(*m),
            status(*m < 20.0)
        )),
        Cell::Ms(m, _) => targets.push(format!(
            "LeNet parse-to-native under 20 ms: not measured (no JIT); parse to interpretable IR takes {} ms",
            fmt_ms(*m)
        )),
        other => targets.push(format!("LeNet parse-to-native under 20 ms: {}", other.show())),
    }

    // ---- print and write ----
    let mut md = String::new();
    let _ = writeln!(md, "# kiln benchmark results\n");
    let _ = writeln!(
        md,
        "Written by `cargo bench --bench jit` (benches/jit.rs){}; {}. Kernels: examples/bench/*.kiln, \
         baselines: benches/baselines/.\n",
        if cfg.quick { " in --quick mode (0.2 s per measurement, 3 runs minimum: indicative only)" } else { "" },
        first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let _ = writeln!(md, "## Machine\n");
    for l in &mach {
        let _ = writeln!(md, "- {l}");
    }
    let _ = writeln!(md, "- load average at the end: {}", loadavg());
    let _ = writeln!(
        md,
        "\nThe machine may be shared: other processes' load makes every time noisier and slower."
    );
    let _ = writeln!(md, "\n## Results\n");
    md.push_str(&t);
    let _ = writeln!(md, "\n{legend}\n");
    if rows.iter().any(|r| r.jit_mt.is_some()) {
        let _ = writeln!(md, "kiln JIT with every core (`--threads N`):\n");
        for r in &rows {
            if let Some(c) = &r.jit_mt {
                let _ = writeln!(
                    md,
                    "- {}: {}{}",
                    r.name,
                    c.show_ms(),
                    match (r.c.ms(), c.ms()) {
                        (Some(a), Some(b)) =>
                            format!(" ({:.2}x the single-threaded C's speed)", a / b),
                        _ => String::new(),
                    }
                );
            }
        }
        md.push('\n');
    }
    if rows.iter().any(|r| r.untiled.is_some()) {
        let _ = writeln!(md, "{blocking_head}\n");
        md.push_str(&tb);
        let _ = writeln!(md, "\n{blocking_legend}\n");
    }
    let _ = writeln!(md, "## Targets\n");
    for l in &targets {
        let _ = writeln!(md, "- {l}");
    }
    let _ = writeln!(md, "\n## Mismatches\n");
    if mismatches.is_empty() {
        let _ = writeln!(
            md,
            "None: every result compared was bit-identical to the C baseline's."
        );
    } else {
        for m in &mismatches {
            let _ = writeln!(md, "- **{m}**");
        }
    }
    let _ = writeln!(md, "\n## LeNet: parse to native\n");
    let _ = writeln!(
        md,
        "`kiln run examples/lenet/lenet.kiln --timings{}`, {reps} processes: the stages before the run \
         (parse, check, data loading, lowering, passes{}) sum to **{} ms** (median); median per stage: {}. \
         Whole process, wall clock: {:.1} ms.\n",
        if lenet_engine == "jit" { " --engine jit" } else { "" },
        if lenet_engine == "jit" { ", code generation" } else { "; no JIT in this build, so no native code" },
        lenet.show(),
        stage_str.join(", "),
        lenet_wall
    );
    let _ = writeln!(md, "## Baselines\n");
    for l in &baseline_lines {
        let _ = writeln!(md, "- {l}");
    }
    let _ = writeln!(md, "\n## Interpreter\n");
    if interp_lines.is_empty() {
        let _ = writeln!(md, "Not run at full size in this session.");
    }
    for l in &interp_lines {
        let _ = writeln!(md, "- {l}");
    }
    let _ = writeln!(
        md,
        "\n## Correctness on the small variants (examples/bench/data/small)\n"
    );
    let _ = writeln!(
        md,
        "Each kernel's generic `conv`/`gemm` on small inputs; the C baselines compiled for those sizes are the reference.\n"
    );
    for l in &small_lines {
        let _ = writeln!(md, "- {l}");
    }
    if !notes.is_empty() {
        let _ = writeln!(md, "\n## Notes\n");
        for n in &notes {
            let _ = writeln!(md, "- {n}");
        }
    }

    println!("\n{}", mach.join("\n"));
    println!("\n{t}\n{legend}\n");
    if rows.iter().any(|r| r.untiled.is_some()) {
        println!("{blocking_head}\n\n{tb}\n{blocking_legend}\n");
    }
    for l in &targets {
        println!("target: {l}");
    }
    if cfg.write && cfg.only.is_empty() {
        let p = root.join("benches/results.md");
        match fs::write(&p, &md) {
            Ok(()) => println!("\nwritten to {}", p.display()),
            Err(e) => eprintln!("error: cannot write {}: {e}", p.display()),
        }
    } else {
        println!(
            "\n(benches/results.md not written: {})",
            if cfg.write {
                "a subset of the kernels was run"
            } else {
                "--no-write"
            }
        );
    }
    if mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "\n!!!!!!!! {} RESULT MISMATCH(ES) — a bug somewhere:",
            mismatches.len()
        );
        for m in &mismatches {
            eprintln!("!!!!!!!! {m}");
        }
        ExitCode::from(1)
    }
}
