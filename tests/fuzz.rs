//! A mutation fuzzer that runs on stable Rust (issue 14, "Keep it fixed").
//!
//! Seeds: every `.kiln` file of examples/, stdlib/ and tests/, the malformed `.npy` corpus
//! of tests/fuzz/npy_corpus.rs, and the small `.npy` files of examples/ and tests/fixtures/.
//! Each case mutates one seed (byte flips, line duplication/deletion/swaps, numbers
//! replaced by huge, negative or zero values such as 2^62, deep nesting, token soup,
//! `.npy` header edits and truncation) and runs one `kiln` command on it — `check`,
//! `types`, `ir`, `run --engine interp`, `run` (JIT), `report` for scripts; `run --input`,
//! a script loading it as a `param`, and `quantize` for `.npy` files — as a child process
//! under a memory cap (`ulimit -v`) and a timeout.
//!
//! A case fails on a panic (exit 101, or a line `thread '...' panicked at`), a signal (SIGSEGV, SIGABRT, ...), an
//! abort (stack overflow, failed allocation), a timeout, an exit code other than 0, 1 and
//! 2, or exit 1 with no `[E....]` code on stderr. A failure that matches [`KNOWN`] (a filed
//! bug being fixed elsewhere; the list is empty) is counted but does not fail the
//! test, unless `KILN_FUZZ_STRICT=1`. Every failing case is saved, with a `repro.sh`, under
//! `target/fuzz-failures/CLASS-CASE/` (or `$KILN_FUZZ_OUT`).
//!
//! ```text
//! cargo test --test fuzz -- --nocapture      # up to 3,000 cases, stops starting new ones after 50 s
//! KILN_FUZZ_CASES=500000 cargo test --release --test fuzz -- --nocapture
//! KILN_FUZZ_SEED=7 KILN_FUZZ_THREADS=4 KILN_FUZZ_TIMEOUT_MS=20000 KILN_FUZZ_MEM_MB=4096 ...
//! ```
//!
//! Cases are numbered; case `i` is generated from the seed and `i` alone, so a case
//! reproduces whatever the thread count. `KILN_FUZZ_ONLY=i` runs one case.

#[path = "fuzz/npy_corpus.rs"]
mod npy_corpus;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// ------------------------------------------------------------------ configuration

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

struct Config {
    cases: u64,
    /// Stop starting cases after this long (`KILN_FUZZ_SECONDS`; by default 50 s when
    /// `KILN_FUZZ_CASES` is not set, so that `cargo test` stays near a minute).
    budget: Option<Duration>,
    seed: u64,
    threads: usize,
    timeout: Duration,
    mem_mb: u64,
    strict: bool,
    only: Option<u64>,
    out: PathBuf,
}

impl Config {
    fn from_env() -> Config {
        Config {
            cases: env_num("KILN_FUZZ_CASES", 3000),
            budget: match (
                std::env::var_os("KILN_FUZZ_CASES"),
                std::env::var("KILN_FUZZ_SECONDS")
                    .ok()
                    .and_then(|v| v.parse().ok()),
            ) {
                (_, Some(s)) => Some(Duration::from_secs(s)),
                (None, None) => Some(Duration::from_secs(50)),
                (Some(_), None) => None,
            },
            seed: env_num("KILN_FUZZ_SEED", 14),
            threads: env_num("KILN_FUZZ_THREADS", 2).max(1) as usize,
            timeout: Duration::from_millis(env_num("KILN_FUZZ_TIMEOUT_MS", 10_000)),
            mem_mb: env_num("KILN_FUZZ_MEM_MB", 4096),
            strict: env_num("KILN_FUZZ_STRICT", 0) != 0,
            only: std::env::var("KILN_FUZZ_ONLY")
                .ok()
                .and_then(|v| v.parse().ok()),
            out: std::env::var_os("KILN_FUZZ_OUT")
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("target/fuzz-failures")),
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ------------------------------------------------------------------ known failures

/// A failure the harness knows about: a filed bug that another change is fixing. Each
/// entry names its class, a text its stderr contains (empty: any), and the bullet of the
/// issue it belongs to. Remove an entry when its bug is fixed.
struct Known {
    class: &'static str,
    stderr: &'static str,
    bullet: &'static str,
}

/// Empty: every bug of issue 14 this harness found is fixed, so every failure fails the
/// test. An entry is for a bug that is filed and being fixed elsewhere, never for a class
/// of failure to tolerate.
const KNOWN: &[Known] = &[];

fn known(class: &str, stderr: &str) -> Option<&'static Known> {
    KNOWN
        .iter()
        .find(|k| k.class == class && (k.stderr.is_empty() || stderr.contains(k.stderr)))
}

// ------------------------------------------------------------------ random numbers

/// SplitMix64.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, case: u64) -> Rng {
        let mut r = Rng(seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

// ------------------------------------------------------------------ seeds

#[derive(Clone)]
enum Seed {
    /// A script and the directory its `load`s and imports resolve in.
    Script {
        path: PathBuf,
        text: Vec<u8>,
    },
    Npy {
        name: String,
        bytes: Vec<u8>,
    },
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        // The papers' networks (AlexNet, VGG16) take minutes to lower in a debug build: a
        // mutant would only time out (tests/allocation.rs checks them).
        if p.is_dir() && p.ends_with("examples/papers") {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn seeds() -> Vec<Seed> {
    let mut files = Vec::new();
    for d in ["examples", "stdlib", "tests"] {
        walk(&root().join(d), &mut files);
    }
    let mut seeds = Vec::new();
    for p in files {
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
        let Ok(meta) = std::fs::metadata(&p) else {
            continue;
        };
        if ext == "kiln" && meta.len() < 200_000 {
            if let Ok(text) = std::fs::read(&p) {
                // A script whose constant data is megabytes (examples/bench/dense_bin's
                // 4 M binary weights) takes seconds to check in a debug build: its mutants
                // would only time out.
                if loads_large_data(&p, &text) {
                    continue;
                }
                seeds.push(Seed::Script { path: p, text });
            }
        } else if ext == "npy" && meta.len() < 64 * 1024 {
            if let Ok(bytes) = std::fs::read(&p) {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                seeds.push(Seed::Npy { name, bytes });
            }
        }
    }
    for (name, bytes, _) in npy_corpus::corpus() {
        seeds.push(Seed::Npy {
            name: name.to_string(),
            bytes,
        });
    }
    seeds
}

/// Whether `script` (at `path`) loads a `.npy` file of more than 1 MiB.
fn loads_large_data(path: &Path, script: &[u8]) -> bool {
    let text = String::from_utf8_lossy(script);
    let dir = path.parent().unwrap_or(Path::new("."));
    text.split("load(\"").skip(1).any(|rest| {
        rest.split('"')
            .next()
            .is_some_and(|file| std::fs::metadata(dir.join(file)).is_ok_and(|m| m.len() > 1 << 20))
    })
}

// ------------------------------------------------------------------ mutations

const HUGE: &[&str] = &[
    "0",
    "-1",
    "1",
    "4611686018427387904",
    "9223372036854775808",
    "18446744073709551616",
    "2147483648",
    "4294967296",
    "4611686018427387904",
    "9223372036854775807",
    "18446744073709551616",
    "340282366920938463463374607431768211455",
    "100000",
    "100000000",
    "1000000000000",
    "-9223372036854775808",
    "65536",
    "0x7fffffff",
    "1e308",
    "1e-320",
    "0.1",
];

const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    "=",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "<<",
    ">>",
    "&",
    "|",
    "^",
    "~",
    "<",
    ">",
    "==",
    "!=",
    "->",
    ".",
    "if",
    "else",
    "elif",
    "for",
    "in",
    "while",
    "break",
    "continue",
    "return",
    "kernel",
    "param",
    "const",
    "type",
    "def",
    "lambda",
    "not",
    "and",
    "or",
    "pass",
    "True",
    "False",
    "sum",
    "max",
    "min",
    "range",
    "grid",
    "load(\"x.npy\")",
    "int<0>",
    "int<1>",
    "int<129>",
    "uint<64>",
    "fixed<8, 20>",
    "fixed<200, -5>",
    "ufixed<1, 0>",
    "bin",
    "tern",
    "f32",
    "bool",
    "f32[100000, 100000]",
    "int<8>[4294967296, 4294967296]",
    "int<32>[4611686018427387904]",
    "x",
    "y",
    "N",
    "i",
    "j",
    "\n",
    "\n    ",
    "\t",
    "\"",
    "'",
    "#",
    "\\",
    "\u{00e9}",
    "\u{1f600}",
    "\0",
    ", max=1000000000000",
    "range(100000000)",
];

fn is_num_byte(b: u8) -> bool {
    b.is_ascii_digit()
}

/// One mutation of a script's text.
fn mutate_text(rng: &mut Rng, text: &mut Vec<u8>, donor: &[u8]) {
    let lines =
        |t: &[u8]| -> Vec<Vec<u8>> { t.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect() };
    match rng.below(13) {
        // Flip, insert or delete bytes.
        0 => {
            for _ in 0..1 + rng.below(4) {
                if text.is_empty() {
                    break;
                }
                let i = rng.below(text.len());
                text[i] ^= 1 << rng.below(8);
            }
        }
        1 => {
            let i = rng.below(text.len() + 1);
            let b = *rng.pick(b"()[]:,=+-*/<>\n #\"'\\0123456789abcxyz\t\x00\xff");
            text.insert(i, b);
        }
        2 if !text.is_empty() => {
            let i = rng.below(text.len());
            let n = 1 + rng.below(16.min(text.len() - i));
            text.drain(i..i + n);
        }
        // Line-level: duplicate, delete, swap, copy from another seed.
        3 | 4 => {
            let mut ls = lines(text);
            if ls.is_empty() {
                return;
            }
            let i = rng.below(ls.len());
            match rng.below(4) {
                0 => {
                    let l = ls[i].clone();
                    let times = if rng.chance(10) { 1000 } else { 1 };
                    for _ in 0..times {
                        ls.insert(i, l.clone());
                    }
                }
                1 => {
                    ls.remove(i);
                }
                2 => {
                    let j = rng.below(ls.len());
                    ls.swap(i, j);
                }
                _ => {
                    let d = lines(donor);
                    if !d.is_empty() {
                        ls.insert(i, rng.pick(&d).clone());
                    }
                }
            }
            *text = ls.join(&b'\n');
        }
        // Replace a number with an extreme one.
        5..=8 => {
            let starts: Vec<usize> = (0..text.len())
                .filter(|&i| {
                    is_num_byte(text[i]) && (i == 0 || !text[i - 1].is_ascii_alphanumeric())
                })
                .collect();
            if starts.is_empty() {
                return;
            }
            let s = *rng.pick(&starts);
            let mut e = s;
            while e < text.len() && (text[e].is_ascii_alphanumeric() || text[e] == b'_') {
                e += 1;
            }
            let with = rng.pick(HUGE).as_bytes().to_vec();
            text.splice(s..e, with);
        }
        // Deep nesting: brackets around an expression, or a tower of blocks.
        9 => {
            let depth = *rng.pick(&[10, 150, 199, 201, 1000, 30_000]);
            let i = rng.below(text.len() + 1);
            let mut ins = "(".repeat(depth).into_bytes();
            ins.extend_from_slice(b"1");
            ins.extend(std::iter::repeat_n(
                b')',
                if rng.chance(80) { depth } else { depth / 2 },
            ));
            text.splice(i..i, ins);
        }
        10 => {
            let depth = *rng.pick(&[5, 99, 101, 300]);
            let mut ins = Vec::new();
            for d in 1..=depth {
                ins.extend(std::iter::repeat_n(b' ', 4 * d));
                ins.extend_from_slice(if rng.chance(50) {
                    b"if 1 > 0:\n"
                } else {
                    b"for q in range(2):\n"
                });
            }
            ins.extend(std::iter::repeat_n(b' ', 4 * (depth + 1)));
            ins.extend_from_slice(b"pass\n");
            // After the first line that opens a kernel body.
            let at = text
                .windows(2)
                .position(|w| w == b":\n")
                .map_or(text.len(), |p| p + 2);
            text.splice(at..at, ins);
        }
        // Token soup.
        _ => {
            for _ in 0..1 + rng.below(3) {
                let i = rng.below(text.len() + 1);
                let mut t = rng.pick(TOKENS).as_bytes().to_vec();
                t.push(b' ');
                text.splice(i..i, t);
            }
        }
    }
}

/// One mutation of a `.npy` file.
fn mutate_npy(rng: &mut Rng, bytes: &mut Vec<u8>) {
    let header_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| p + 1);
    match rng.below(7) {
        0 => {
            for _ in 0..1 + rng.below(4) {
                if bytes.is_empty() {
                    break;
                }
                let i = rng.below(bytes.len());
                bytes[i] = rng.next() as u8;
            }
        }
        1 => {
            let n = rng.below(bytes.len() + 1);
            bytes.truncate(n);
        }
        2 => {
            let extra = rng.below(64);
            bytes.extend((0..extra).map(|_| rng.next() as u8));
        }
        // Header edits: numbers, dtype, order, nesting.
        _ => {
            let head = String::from_utf8_lossy(&bytes[..header_end.min(bytes.len())]).into_owned();
            let new = match rng.below(5) {
                0 => {
                    let digits: Vec<usize> = head
                        .char_indices()
                        .filter(|(i, c)| c.is_ascii_digit() && *i > 10)
                        .map(|(i, _)| i)
                        .collect();
                    if digits.is_empty() {
                        head.clone()
                    } else {
                        let at = *rng.pick(&digits);
                        let mut e = at;
                        while head.as_bytes().get(e).is_some_and(u8::is_ascii_digit) {
                            e += 1;
                        }
                        let with = *rng.pick(&[
                            "0",
                            "-1",
                            "-9223372036854775808",
                            "4611686018427387904",
                            "18446744073709551615",
                            "18446744073709551616",
                            "4294967296",
                            "99999999999999999999999999999999999999999",
                        ]);
                        format!("{}{}{}", &head[..at], with, &head[e..])
                    }
                }
                1 => {
                    let to = *rng.pick(&["<", ">", "|", "=", "", "<<"]);
                    head.replacen(['<', '>', '|'], to, 1)
                }
                2 => head.replace("False", "True"),
                3 => {
                    let n = *rng.pick(&[3, 17, 24, 200]);
                    head.replacen('(', &"(".repeat(n), 1)
                }
                _ => {
                    let from = *rng.pick(&["f8", "f4", "i8", "i1", "u2", "b1"]);
                    let to = *rng.pick(&["f2", "c16", "U3", "O", "V8", "i16", "f8", "u8", "?"]);
                    head.replacen(from, to, 1)
                }
            };
            let mut out = new.into_bytes();
            out.extend_from_slice(&bytes[header_end.min(bytes.len())..]);
            *bytes = out;
        }
    }
}

// ------------------------------------------------------------------ running kiln

/// What one command did.
struct Ran {
    class: &'static str,
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

/// Runs `kiln args` in `dir` under the memory cap and the timeout.
fn run_kiln(cfg: &Config, dir: &Path, args: &[String]) -> Ran {
    let err_path = dir.join("stderr.txt");
    let err_file = std::fs::File::create(&err_path).expect("create stderr file");
    let script = format!(
        "ulimit -v {} 2>/dev/null; exec \"$0\" \"$@\"",
        cfg.mem_mb * 1024
    );
    let start = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .expect("spawn kiln");
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for kiln") {
            break s;
        }
        if start.elapsed() > cfg.timeout {
            let _ = child.kill();
            timed_out = true;
            break child.wait().expect("wait for kiln");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let took = start.elapsed();
    let raw = std::fs::read(&err_path).unwrap_or_default();
    // Long outputs (thousands of diagnostics) are kept in part.
    let stderr = String::from_utf8_lossy(&raw[..raw.len().min(1 << 20)]).into_owned();
    let code = status.code();
    let class = classify(timed_out, code, signal_of(&status), &stderr);
    Ran {
        class,
        code,
        stderr,
        took,
    }
}

#[cfg(unix)]
fn signal_of(s: &std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    s.signal()
}

#[cfg(not(unix))]
fn signal_of(_: &std::process::ExitStatus) -> Option<i32> {
    None
}

fn has_code(stderr: &str) -> bool {
    let b = stderr.as_bytes();
    (0..b.len().saturating_sub(6)).any(|i| {
        b[i] == b'['
            && (b[i + 1] == b'E' || b[i + 1] == b'W')
            && b[i + 2..i + 6].iter().all(u8::is_ascii_digit)
            && b[i + 6] == b']'
    })
}

fn classify(timed_out: bool, code: Option<i32>, signal: Option<i32>, stderr: &str) -> &'static str {
    if timed_out {
        return "timeout";
    }
    if stderr.contains("has overflowed its stack") {
        return "stack overflow";
    }
    if stderr.contains("memory allocation of") {
        return "abort";
    }
    if let Some(s) = signal {
        return match s {
            11 => "signal SIGSEGV",
            6 => "abort",
            7 => "signal SIGBUS",
            4 => "signal SIGILL",
            8 => "signal SIGFPE",
            9 => "signal SIGKILL",
            _ => "signal other",
        };
    }
    // Rust's panic message starts a line (`thread '<unnamed>' (7) panicked at ...`); the
    // word alone may be in the program's own text quoted by a diagnostic.
    let panicked = stderr
        .lines()
        .any(|l| l.starts_with("thread '") && l.contains(" panicked at "));
    if code == Some(101) || panicked {
        return "panic";
    }
    match code {
        Some(0) => "ok",
        Some(1) if has_code(stderr) => "diagnosed",
        Some(1) => "error without a code",
        Some(2) => "usage error",
        _ => "unexpected exit code",
    }
}

fn is_failure(class: &str) -> bool {
    !matches!(class, "ok" | "diagnosed" | "usage error" | "long run")
}

// ------------------------------------------------------------------ cases

/// Scripts that take a fuzzed `.npy` file.
const NPY_SCRIPTS: &[(&str, &str)] = &[
    ("vec.kiln", "kernel main(x: f32[N]) -> f32[N]:\n    return x\n"),
    (
        "mat.kiln",
        "kernel main(x: int<8>[R, C]) -> int<8>[R, C]:\n    return x\n",
    ),
    (
        "param.kiln",
        "param w: fixed<8, 2>[4] = load(\"case.npy\")\n\nkernel main(x: fixed<8, 2>[4]) -> fixed<16, 4>[4]:\n    return x * w\n",
    ),
];

const SCRIPT_COMMANDS: &[&[&str]] = &[
    &["check", "case.kiln"],
    &["check", "case.kiln"],
    &["types", "case.kiln"],
    &["ir", "case.kiln"],
    &["run", "--engine", "interp", "case.kiln"],
    &["run", "case.kiln"],
    &["run", "case.kiln"],
    &["run", "--check-overflow", "case.kiln"],
    &[
        "run",
        "--engine",
        "interp",
        "--check-overflow",
        "--deny-warnings",
        "case.kiln",
    ],
    &["report", "case.kiln"],
    &["hls", "case.kiln", "-o", "hls_out"],
    &["rtl", "case.kiln", "-o", "rtl_out"],
];

const NPY_COMMANDS: &[&[&str]] = &[
    &[
        "run",
        "--engine",
        "interp",
        "vec.kiln",
        "--input",
        "x=case.npy",
    ],
    &["run", "vec.kiln", "--input", "x=case.npy"],
    &[
        "run",
        "mat.kiln",
        "--input",
        "x=case.npy",
        "--check-overflow",
    ],
    &[
        "run",
        "--engine",
        "interp",
        "param.kiln",
        "--input",
        "x=case.npy",
    ],
    &["check", "param.kiln"],
    &[
        "quantize", "case.npy", "-m", "round", "-b", "4", "-o", "out.npy",
    ],
    &[
        "quantize",
        "case.npy",
        "-m",
        "vecq",
        "-b",
        "3",
        "--per-channel",
        "-o",
        "out.npy",
    ],
];

/// A worker's directory for a seed: the seed's directory mirrored by symbolic links (so
/// `load`s and imports resolve), plus the case file.
fn case_dir(worker: &Path, seed: &Seed) -> PathBuf {
    match seed {
        Seed::Npy { .. } => {
            let d = worker.join("npy");
            if !d.exists() {
                std::fs::create_dir_all(&d).unwrap();
                for (name, text) in NPY_SCRIPTS {
                    std::fs::write(d.join(name), text).unwrap();
                }
            }
            d
        }
        Seed::Script { path, .. } => {
            let src = path.parent().unwrap();
            let key: u64 = src
                .to_string_lossy()
                .bytes()
                .fold(1469598103934665603, |h, b| {
                    (h ^ b as u64).wrapping_mul(1099511628211)
                });
            let d = worker.join(format!("s{key:016x}"));
            if !d.exists() {
                std::fs::create_dir_all(&d).unwrap();
                if let Ok(rd) = std::fs::read_dir(src) {
                    for e in rd.filter_map(|e| e.ok()) {
                        let name = e.file_name();
                        if name == "case.kiln" || name == "stderr.txt" {
                            continue;
                        }
                        #[cfg(unix)]
                        let _ = std::os::unix::fs::symlink(e.path(), d.join(&name));
                    }
                }
            }
            d
        }
    }
}

struct Case {
    number: u64,
    seed_name: String,
    bytes: Vec<u8>,
    file: &'static str,
    args: Vec<String>,
}

fn make_case(cfg: &Config, seeds: &[Seed], number: u64) -> (usize, Case) {
    let mut rng = Rng::new(cfg.seed, number);
    let si = rng.below(seeds.len());
    let seed = &seeds[si];
    let (bytes, file, args, seed_name) = match seed {
        Seed::Script { path, text } => {
            let mut t = text.clone();
            let donor = match &seeds[rng.below(seeds.len())] {
                Seed::Script { text, .. } => text.clone(),
                Seed::Npy { .. } => Vec::new(),
            };
            // Mostly one mutation: programs that still check reach the back ends.
            for _ in 0..if rng.chance(75) { 1 } else { 2 } {
                mutate_text(&mut rng, &mut t, &donor);
            }
            let cmd = rng.pick(SCRIPT_COMMANDS);
            let rel = path
                .strip_prefix(root())
                .unwrap_or(path)
                .display()
                .to_string();
            (
                t,
                "case.kiln",
                cmd.iter().map(|s| s.to_string()).collect(),
                rel,
            )
        }
        Seed::Npy { name, bytes } => {
            let mut b = bytes.clone();
            // Some cases keep the file as it is (the corpus itself).
            if !rng.chance(10) {
                for _ in 0..1 + rng.below(2) {
                    mutate_npy(&mut rng, &mut b);
                }
            }
            let cmd = rng.pick(NPY_COMMANDS);
            (
                b,
                "case.npy",
                cmd.iter().map(|s| s.to_string()).collect(),
                name.clone(),
            )
        }
    };
    (
        si,
        Case {
            number,
            seed_name,
            bytes,
            file,
            args,
        },
    )
}

/// Saves a failing case with the command that reproduces it.
fn save(cfg: &Config, case: &Case, dir: &Path, ran: &Ran) -> PathBuf {
    let slug: String = ran
        .class
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let d = cfg.out.join(format!("{slug}-{}-{}", cfg.seed, case.number));
    let _ = std::fs::create_dir_all(&d);
    let _ = std::fs::write(d.join(case.file), &case.bytes);
    let _ = std::fs::write(d.join("stderr.txt"), &ran.stderr);
    let files: Vec<String> = NPY_SCRIPTS.iter().map(|(n, _)| n.to_string()).collect();
    if case.file == "case.npy" {
        for (n, t) in NPY_SCRIPTS {
            let _ = std::fs::write(d.join(n), t);
        }
    }
    let quoted: Vec<String> = case.args.iter().map(|a| format!("'{a}'")).collect();
    let repro = format!(
        "#!/bin/sh\n# kiln fuzz case {} (seed {}, from {}): {} after {:?}, exit {:?}\n\
         # Run in the seed's directory ({}) for scripts that load data or import modules;\n\
         # the .npy scripts ({}) are copied here.\n\
         cd \"$(dirname \"$0\")\" && ulimit -v {} && timeout {} kiln {}\n",
        case.number,
        cfg.seed,
        case.seed_name,
        ran.class,
        ran.took,
        ran.code,
        dir.display(),
        files.join(", "),
        cfg.mem_mb * 1024,
        cfg.timeout.as_secs().max(1),
        quoted.join(" ")
    );
    let _ = std::fs::write(d.join("repro.sh"), repro);
    d
}

#[derive(Default)]
struct Tally {
    /// Class → count.
    classes: BTreeMap<String, u64>,
    /// Failures not in KNOWN: (class, case dir, first stderr line).
    new: Vec<String>,
    /// Known bullet → count.
    known: BTreeMap<&'static str, u64>,
}

#[test]
fn fuzz_kiln_commands() {
    let cfg = Arc::new(Config::from_env());
    let seeds = Arc::new(seeds());
    assert!(seeds.len() > 100, "too few seeds: {}", seeds.len());
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicUsize::new(0));
    let work = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..cfg.threads {
        let (cfg, seeds, tally, next) = (cfg.clone(), seeds.clone(), tally.clone(), next.clone());
        let worker = work.path().join(format!("w{w}"));
        handles.push(std::thread::spawn(move || loop {
            if cfg.budget.is_some_and(|b| started.elapsed() > b) {
                break;
            }
            let i = next.fetch_add(1, Ordering::Relaxed) as u64;
            let number = match cfg.only {
                Some(n) if i == 0 => n,
                Some(_) => break,
                None if i < cfg.cases => i,
                None => break,
            };
            let (si, case) = make_case(&cfg, &seeds, number);
            let dir = case_dir(&worker, &seeds[si]);
            std::fs::write(dir.join(case.file), &case.bytes).expect("write case");
            let mut ran = run_kiln(&cfg, &dir, &case.args);
            // A run that times out while the same file compiles (`kiln ir`) quickly is a
            // kernel doing what it says for a long time (Ctrl-C stops it), not a hang;
            // `kiln hls` and `kiln rtl` run the kernel too (the testbench's expected values).
            if ran.class == "timeout"
                && ["run", "hls", "rtl"].contains(&case.args[0].as_str())
                && case.file == "case.kiln"
            {
                let ir = run_kiln(&cfg, &dir, &["ir".to_string(), "case.kiln".to_string()]);
                if ir.class != "timeout" && ir.took < cfg.timeout / 2 {
                    ran.class = "long run";
                }
            }
            let mut t = tally.lock().unwrap();
            *t.classes.entry(ran.class.to_string()).or_default() += 1;
            if is_failure(ran.class) {
                let saved = save(&cfg, &case, &dir, &ran);
                match known(ran.class, &ran.stderr) {
                    Some(k) if !cfg.strict => *t.known.entry(k.bullet).or_default() += 1,
                    _ => {
                        let first = ran
                            .stderr
                            .lines()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("")
                            .chars()
                            .take(160)
                            .collect::<String>();
                        t.new.push(format!(
                            "{}: kiln {} (case {} from {}) -> {}\n    {first}",
                            ran.class,
                            case.args.join(" "),
                            case.number,
                            case.seed_name,
                            saved.display()
                        ));
                    }
                }
            }
        }));
    }
    for h in handles {
        h.join().expect("fuzz worker");
    }
    let t = tally.lock().unwrap();
    let total: u64 = t.classes.values().sum();
    eprintln!(
        "kiln fuzz: {total} cases (seed {}, {} threads) in {:.1} s",
        cfg.seed,
        cfg.threads,
        started.elapsed().as_secs_f64()
    );
    for (c, n) in &t.classes {
        eprintln!("  {c:<24} {n}");
    }
    for (b, n) in &t.known {
        eprintln!("  known ({n}): {b}");
    }
    assert!(
        t.new.is_empty(),
        "{} failing case(s), saved under {}:\n{}",
        t.new.len(),
        cfg.out.display(),
        t.new.join("\n")
    );
}

/// The mutators are deterministic: case `i` is the same in every run.
#[test]
fn cases_are_reproducible() {
    let cfg = Config::from_env();
    let seeds = seeds();
    for n in [0, 1, 99, 12345] {
        let (a, ca) = make_case(&cfg, &seeds, n);
        let (b, cb) = make_case(&cfg, &seeds, n);
        assert_eq!(a, b);
        assert_eq!(ca.bytes, cb.bytes);
        assert_eq!(ca.args, cb.args);
    }
}
