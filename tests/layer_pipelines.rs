//! Random layer pipelines (tests/difftest/gen/network.rs) on every engine and in
//! C-simulation: networks of stdlib.nn layers must compute the same bits everywhere.
//!
//! Each case is a `kernel main(x: T[C, H, W])` chaining 1 to 6 stages (3 to 6 mostly)
//! of stdlib layers (convolutions with random kernel sizes, strides and padding,
//! depthwise convolutions, pools, bias, batchnorm, activations, requantization, residual
//! `add`s, a dense tail), with weights as module `param`s loaded from `.npy` files, run
//! over one sample or a batch of 2 to 4 (`--batch`). For each case:
//!
//! 1. the interpreter runs it without an error (the generator writes valid networks
//!    only), and the JIT writes the same `.npy` files byte for byte;
//! 2. `kiln report` for the default part succeeds;
//! 3. `kiln hls` (the testbench expecting the interpreter's results; `--batch` for batched
//!    cases, `--io stream` for some) writes a project, and `kiln csim` of it PASSes: the
//!    emitted C++ computes the interpreter's bits for every sample. Without the ap_types
//!    headers this step is skipped with a message.
//!
//! Two tests: all three steps on a few networks, and steps 1 and 2 on more (about a
//! second per network). Settings (environment):
//! - `KILN_NET_CASES=N`: the networks of the C-simulation test (default 3: each
//!   C-simulation compiles for 10 to 50 s on a loaded machine);
//! - `KILN_NET_RUN_CASES=N`: the networks of the engines-only test (default 20);
//! - `KILN_NET_SEED=S`: the seed (default 0x6e6574);
//! - `KILN_NET_CSIM=0`: skip C-simulation in the first test too;
//! - `KILN_NET_KEEP=1`: keep every case under target/difftest-cases/net-{csim,run}-seed-S/.
//!
//! A failing case is copied to `target/difftest-failures/net-seed-S-case-K/` with the
//! outputs of each step, `failure.txt` and a `replay.sh` that replays it with the CLI.

mod difftest;

use difftest::gen::{generate_network, Network};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(s) => {
            let s = s.trim();
            let v = if let Some(h) = s.strip_prefix("0x") {
                u64::from_str_radix(h, 16).ok()
            } else {
                s.parse().ok()
            };
            v.unwrap_or_else(|| panic!("{name}={s} is not a number"))
        }
        Err(_) => default,
    }
}

fn flag(name: &str, default: bool) -> bool {
    match std::env::var(name).as_deref() {
        Ok("") | Err(_) => default,
        Ok(v) => v != "0",
    }
}

fn seed() -> u64 {
    env_u64("KILN_NET_SEED", 0x6e_6574)
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Writes a network (program and data files) into `dir`.
fn write_case(net: &Network, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    std::fs::write(dir.join("main.kiln"), &net.case.source).expect("write main.kiln");
    for (name, bytes) in &net.case.files {
        std::fs::write(dir.join(name), bytes).expect("write data");
    }
}

/// The run of a network on one engine (its inputs, batch and threads).
fn run_spec(net: &Network, dir: &Path, engine: kiln::Engine) -> kiln::RunSpec {
    kiln::RunSpec {
        inputs: net
            .case
            .inputs
            .iter()
            .map(|(n, f)| (n.clone(), dir.join(f)))
            .collect(),
        engine,
        threads: net.threads,
        full: true,
        batch: net.batch.is_some(),
        ..Default::default()
    }
}

/// What one step printed and how it ended (a panic is exit code 101).
#[derive(Debug, Default)]
struct Step {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Step {
    fn of(r: std::thread::Result<kiln::Outcome>) -> Step {
        match r {
            Ok(o) => Step {
                code: o.code,
                stdout: o.stdout,
                stderr: o.stderr,
            },
            Err(p) => Step {
                code: 101,
                stderr: format!("panicked: {}", panic_text(&*p)),
                ..Default::default()
            },
        }
    }

    fn text(&self) -> String {
        format!(
            "exit code {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the network on `engine`, writing to `dir/out-NAME`: the step and the written
/// `.npy` files by name.
fn run_engine(
    net: &Network,
    dir: &Path,
    engine: kiln::Engine,
    name: &str,
) -> (Step, BTreeMap<String, Vec<u8>>) {
    let out = dir.join(format!("out-{name}"));
    let _ = std::fs::remove_dir_all(&out);
    let spec = run_spec(net, dir, engine);
    let path = dir.join("main.kiln");
    let step = Step::of(std::panic::catch_unwind(|| {
        kiln::run(&path, &spec, Some(&out), &kiln::Options::default())
    }));
    let mut files = BTreeMap::new();
    if let Ok(rd) = std::fs::read_dir(&out) {
        for e in rd.flatten() {
            if let Ok(bytes) = std::fs::read(e.path()) {
                files.insert(e.file_name().to_string_lossy().into_owned(), bytes);
            }
        }
    }
    (step, files)
}

/// The CLI arguments that bind the network's inputs (and `--batch`).
fn input_args(net: &Network) -> String {
    let mut s = String::new();
    if net.batch.is_some() {
        s.push_str(" --batch");
    }
    for (n, f) in &net.case.inputs {
        s.push_str(&format!(" --input {n}={f}"));
    }
    s
}

/// Copies a directory tree (a failing case, for replay).
fn copy_tree(from: &Path, to: &Path) {
    let _ = std::fs::create_dir_all(to);
    if let Ok(rd) = std::fs::read_dir(from) {
        for e in rd.flatten() {
            let p = e.path();
            let q = to.join(e.file_name());
            if p.is_dir() {
                copy_tree(&p, &q);
            } else {
                let _ = std::fs::copy(&p, &q);
            }
        }
    }
}

/// Saves a failing case with the output of each step, `failure.txt` and `replay.sh`.
fn save_failure(net: &Network, dir: &Path, what: &str, steps: &[(&str, &Step)]) -> PathBuf {
    let fdir = target_dir()
        .join("difftest-failures")
        .join(format!("net-seed-{}-case-{}", net.case.seed, net.case.case));
    let _ = std::fs::remove_dir_all(&fdir);
    copy_tree(dir, &fdir);
    for (name, step) in steps {
        let _ = std::fs::write(fdir.join(format!("{name}.txt")), step.text());
    }
    let inputs = input_args(net);
    let kiln = format!(
        "${{KILN:-cargo run -q --bin kiln --manifest-path {}/Cargo.toml --}}",
        env!("CARGO_MANIFEST_DIR")
    );
    let io = if net.io_stream { " --io stream" } else { "" };
    let replay = format!(
        "#!/bin/sh\n\
         # Replays this network with the kiln CLI (set KILN to a kiln binary, or cargo builds one);\n\
         # C-simulation needs KILN_AP_TYPES (the ap_types headers).\n\
         cd \"$(dirname \"$0\")\"\n\
         {kiln} run main.kiln --full --engine interp --out out-interp --threads {t}{inputs}\n\
         {kiln} run main.kiln --full --engine jit --out out-jit --threads {t}{inputs}\n\
         for f in out-interp/*.npy; do cmp \"$f\" \"out-jit/${{f#out-interp/}}\" || echo \"interp and jit differ in $f\"; done\n\
         {kiln} report main.kiln{report_inputs}\n\
         {kiln} hls main.kiln -o hls --engine interp{io}{inputs}\n\
         {kiln} csim hls\n",
        t = net.threads,
        report_inputs = if net.batch.is_some() { "" } else { &inputs },
    );
    let _ = std::fs::write(fdir.join("replay.sh"), replay);
    let _ = std::fs::write(
        fdir.join("failure.txt"),
        format!("{what}\n\nlayers:\n  {}\n", net.layers.join("\n  ")),
    );
    fdir
}

fn scratch_root(tag: &str) -> (PathBuf, Option<tempfile::TempDir>) {
    if flag("KILN_NET_KEEP", false) {
        let d = target_dir().join(format!("difftest-cases/net-{tag}-seed-{}", seed()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        (d, None)
    } else {
        let t = tempfile::Builder::new()
            .prefix("kiln-nets-")
            .tempdir()
            .expect("tempdir");
        (t.path().to_path_buf(), Some(t))
    }
}

/// Runs `f` on cases `0..n` with one worker per core (at most 4).
fn for_cases(n: u64, f: impl Fn(u64) + Sync) {
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                f(k);
            });
        }
    });
}

#[derive(Default)]
struct Stats {
    /// Results (over all networks) and those with at most two distinct values, which
    /// check little (a measure of the generator's choice of scales).
    results: usize,
    flat_results: usize,
    engines_agree: usize,
    csim_pass: usize,
    report_ok: usize,
    csim_time: Duration,
    features: BTreeMap<String, usize>,
    failures: Vec<String>,
}

/// How many distinct values a result file holds (0 if it cannot be read).
fn distinct_values(path: &Path) -> usize {
    use kiln_passes::data::RawData;
    let Ok(a) = kiln::npy::read(path) else {
        return 0;
    };
    let mut bits: Vec<u64> = match &a.data {
        RawData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
        RawData::F32(v) => v.iter().map(|x| x.to_bits() as u64).collect(),
        RawData::I64(v) => v.iter().map(|&x| x as u64).collect(),
        RawData::U64(v) => v.clone(),
        RawData::Bool(v) => v.iter().map(|&x| x as u64).collect(),
    };
    bits.sort_unstable();
    bits.dedup();
    bits.len()
}

/// What failed, and the steps to save (by name).
type Failure = (String, Vec<(&'static str, Step)>);

/// Checks one network: engines, report, HLS + C-simulation. `Err` says what failed and
/// which steps to save.
fn check_network(
    net: &Network,
    dir: &Path,
    headers: Option<&Path>,
    stats: &Mutex<Stats>,
) -> Result<(), Failure> {
    let (interp, ref_files) = run_engine(net, dir, kiln::Engine::Interp, "interp");
    if interp.code != 0 || ref_files.is_empty() {
        return Err((
            "the interpreter did not run the network (an invalid case is a generator bug; \
             a panic or an internal error is a compiler bug)"
                .into(),
            vec![("interp", interp)],
        ));
    }
    let (jit, jit_files) = run_engine(net, dir, kiln::Engine::Jit, "jit");
    if jit.code != 0 {
        return Err((
            "the JIT failed where the interpreter ran".into(),
            vec![("interp", interp), ("jit", jit)],
        ));
    }
    if jit_files != ref_files {
        let differ: Vec<&String> = ref_files
            .keys()
            .filter(|k| jit_files.get(*k) != ref_files.get(*k))
            .collect();
        return Err((
            format!("the JIT and the interpreter write different results: {differ:?}"),
            vec![("interp", interp), ("jit", jit)],
        ));
    }
    let flat = ref_files
        .keys()
        .filter(|name| distinct_values(&dir.join("out-interp").join(name)) <= 2)
        .count();
    {
        let mut st = stats.lock().unwrap();
        st.engines_agree += 1;
        st.results += ref_files.len();
        st.flat_results += flat;
    }
    let path = dir.join("main.kiln");
    let opts = kiln::Options::default();
    // `kiln report` estimates one sample: a batched case is reported without its data.
    let mut report_spec = run_spec(net, dir, kiln::Engine::Interp);
    if net.batch.is_some() {
        report_spec.inputs.clear();
        report_spec.batch = false;
    }
    let report = Step::of(std::panic::catch_unwind(|| {
        kiln::report(&path, &report_spec, &kiln::ReportSpec::default(), &opts)
    }));
    if report.code != 0 {
        return Err(("`kiln report` failed".into(), vec![("report", report)]));
    }
    stats.lock().unwrap().report_ok += 1;
    let Some(headers) = headers else {
        return Ok(());
    };
    let project = dir.join("hls");
    let hls_spec = kiln::HlsSpec {
        out_dir: project.clone(),
        part: kiln::DEFAULT_PART.into(),
        clock_ns: 10.0,
        io_stream: net.io_stream,
        auto_schedule: true,
        alloc: Default::default(),
        testbench: true,
    };
    let spec = run_spec(net, dir, kiln::Engine::Interp);
    let hls = Step::of(std::panic::catch_unwind(|| {
        kiln::hls(&path, &spec, &hls_spec, &opts)
    }));
    if hls.code != 0 {
        return Err(("`kiln hls` failed".into(), vec![("hls", hls)]));
    }
    let t = Instant::now();
    let c = kiln::csim::csim(&project, Some(headers), false);
    let csim = Step {
        code: c.code,
        stdout: c.stdout,
        stderr: c.stderr,
    };
    stats.lock().unwrap().csim_time += t.elapsed();
    if csim.code != 0 || !csim.stdout.contains("PASS") {
        return Err((
            "C-simulation does not PASS (the emitted C++ differs from the interpreter, or does not compile)"
                .into(),
            vec![("csim", csim)],
        ));
    }
    stats.lock().unwrap().csim_pass += 1;
    Ok(())
}

/// Random networks of stdlib layers compute the same bits on the interpreter, the JIT
/// and in C-simulation of the emitted HLS C++, over one sample or a batch.
#[test]
fn generated_networks_agree_on_every_engine_and_in_csim() {
    check_networks(
        "csim",
        env_u64("KILN_NET_CASES", 3),
        flag("KILN_NET_CSIM", true),
    );
}

/// More networks on the interpreter and the JIT (and `kiln report`) only: cheap, so
/// `cargo test` checks more shapes than C-simulation has time for.
/// `KILN_NET_RUN_CASES=N` (default 20).
#[test]
fn generated_networks_agree_on_interp_and_jit() {
    check_networks("run", env_u64("KILN_NET_RUN_CASES", 20), false);
}

/// Checks networks `0..n` of the seed (`csim`: with C-simulation), panicking with the
/// first failures.
fn check_networks(tag: &str, n: u64, csim: bool) {
    let start = Instant::now();
    let seed = seed();
    let headers = if csim {
        match kiln::csim::find_ap_types(None) {
            Ok(h) => Some(h),
            Err(e) => {
                eprintln!(
                    "layer pipelines: C-simulation skipped: no ap_types headers ({e}); set KILN_AP_TYPES"
                );
                None
            }
        }
    } else {
        eprintln!("layer pipelines ({tag}): C-simulation skipped");
        None
    };
    let (root, _guard) = scratch_root(tag);
    let stats = Mutex::new(Stats::default());
    for_cases(n, |k| {
        let net = generate_network(seed, k);
        let dir = root.join(format!("case-{k}"));
        write_case(&net, &dir);
        let result = check_network(&net, &dir, headers.as_deref(), &stats);
        let mut st = stats.lock().unwrap();
        for (f, c) in &net.case.features {
            *st.features.entry(f.clone()).or_insert(0) += c;
        }
        if let Err((what, steps)) = result {
            let steps: Vec<(&str, &Step)> = steps.iter().map(|(n, s)| (*n, s)).collect();
            let saved = save_failure(&net, &dir, &what, &steps);
            let detail: String = steps
                .iter()
                .map(|(n, s)| {
                    format!(
                        "--- {n}: {}",
                        s.text().chars().take(3000).collect::<String>()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            st.failures.push(format!(
                "seed {seed} case {k}: {what}\n  replay: sh {}/replay.sh\n  layers: {}\n{}\n{detail}",
                saved.display(),
                net.layers.join("; "),
                net.case.source
            ));
        }
    });
    let st = stats.into_inner().unwrap();
    let mut report = format!(
        "layer pipelines ({tag}): seed {seed}, {n} networks, {:.1} s: interpreter and JIT agree on {}, \
         `kiln report` succeeds on {}, C-simulation PASSes on {}{} ({:.1} s of C-simulation)\n  \
         {} of {} results hold at most two distinct values\n  \
         features generated (count over all cases):\n",
        start.elapsed().as_secs_f64(),
        st.engines_agree,
        st.report_ok,
        st.csim_pass,
        if headers.is_none() { " (skipped)" } else { "" },
        st.csim_time.as_secs_f64(),
        st.flat_results,
        st.results,
    );
    for (f, c) in &st.features {
        report.push_str(&format!("    {f:<52} {c}\n"));
    }
    report.push_str(&format!("  {} of {n} networks failed\n", st.failures.len()));
    eprintln!("{report}");
    if !st.failures.is_empty() {
        panic!(
            "{} of {n} networks failed:\n\n{}",
            st.failures.len(),
            st.failures
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}
