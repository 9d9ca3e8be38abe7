//! Differential testing: random well-typed programs (tests/difftest/gen/) run on every
//! engine, which must agree bit for bit.
//!
//! Each case is a `kernel main` with helper kernels, module parameters, stdlib calls and
//! random input data (in and out of range, on rounding ties), generated from
//! `(seed, case)`. The reference interpreter must run every case without an error (the
//! generator only writes valid programs), and every other engine that exists must write
//! the same `.npy` files, byte for byte, or fail with the same error codes.
//!
//! Settings (environment):
//! - `KILN_DIFF_CASES=N`: the number of cases (default 500);
//! - `KILN_DIFF_SEED=S`: the seed (default 0x6b696c6e);
//! - `KILN_DIFF_KNOWN_BUGS=all` (or `=id,id`): also generate the constructs of the open
//!   compiler bugs listed in `KNOWN_BUGS` (tests/difftest/gen/bugs.rs), which the generator
//!   avoids by default so that this test gates everything else (`FIXED_BUGS` there lists
//!   the bugs it found that are fixed);
//! - `KILN_DIFF_CLI=1`: run the engines through the kiln binary instead of the library (a
//!   crash or a hang of generated code then stays within its case);
//! - `KILN_DIFF_KEEP=1`: keep every case under target/difftest-cases/.
//!
//! A failing case is written to `target/difftest-failures/seed-S-case-K/` with its data,
//! each engine's outputs and messages, and a `replay.sh` that runs it with the CLI.
//!
//! An engine the CLI does not know yet (`--engine jit` rejected as an invalid value) is
//! skipped with a note; the summary says how many cases were compared between two or
//! more engines.

mod common;
mod difftest;

use common::codes_in;

use difftest::gen::{generate, Case, Config, KNOWN_BUGS};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The engines compared; the first is the reference. `jit-tiled` is the JIT after random
/// loop transformations (split, unroll-and-jam, reorder, buffer: passes/src/transform/tile.rs),
/// library mode only.
const ENGINES: &[&str] = &["interp", "jit", "jit-tiled"];

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

fn flag(name: &str) -> bool {
    matches!(std::env::var(name).as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

fn n_cases() -> u64 {
    env_u64("KILN_DIFF_CASES", 500)
}

fn seed() -> u64 {
    env_u64("KILN_DIFF_SEED", 0x6b69_6c6e)
}

/// `KILN_DIFF_KNOWN_BUGS`: unset, the generator avoids the constructs of every open bug
/// in `KNOWN_BUGS`; `all` (or `1`) generates them all; `id,id` generates those.
fn config() -> Config {
    let mut cfg = Config::default();
    match std::env::var("KILN_DIFF_KNOWN_BUGS").as_deref() {
        Err(_) | Ok("") | Ok("0") => {}
        Ok("all") | Ok("1") => cfg.avoid.clear(),
        Ok(ids) => {
            let ids: Vec<&str> = ids.split(',').map(str::trim).collect();
            for id in &ids {
                assert!(
                    KNOWN_BUGS.iter().any(|b| b.0 == *id),
                    "KILN_DIFF_KNOWN_BUGS: no known bug `{id}`"
                );
            }
            cfg.avoid.retain(|a| !ids.contains(a));
        }
    }
    cfg
}

fn target_dir() -> PathBuf {
    // CARGO_TARGET_TMPDIR is target/tmp.
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn workers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 8)
}

/// Writes a case (program and data files) into `dir`.
fn write_case(case: &Case, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    std::fs::write(dir.join("main.kiln"), &case.source).expect("write main.kiln");
    for (name, bytes) in &case.files {
        std::fs::write(dir.join(name), bytes).expect("write data");
    }
}

/// The command line that runs `case` in `dir` on `engine`, writing to `out`.
fn run_args(case: &Case, dir: &Path, engine: &str, out: &Path) -> Vec<String> {
    let mut a = vec![
        "run".to_string(),
        dir.join("main.kiln").display().to_string(),
        "--engine".into(),
        engine.trim_end_matches("-ovf").into(),
        "--out".into(),
        out.display().to_string(),
        "--color".into(),
        "never".into(),
        "--full".into(),
    ];
    if engine.ends_with("-ovf") {
        a.push("--check-overflow".into());
    }
    if threads_for(case.case) > 0 {
        a.push("--threads".into());
        a.push(threads_for(case.case).to_string());
    }
    for (n, f) in &case.inputs {
        a.push("--input".into());
        a.push(format!("{n}={}", dir.join(f).display()));
    }
    a
}

#[derive(Debug, Default)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// The written .npy files by name.
    outputs: BTreeMap<String, Vec<u8>>,
    timed_out: bool,
}

/// Runs the kiln binary with a time limit.
fn kiln(args: &[String], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start kiln");
    // Read the pipes on threads so a chatty child cannot block.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let to = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut so, &mut s);
        s
    });
    let te = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut se, &mut s);
        s
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(s) => break s,
            None if start.elapsed() > limit => {
                let _ = child.kill();
                timed_out = true;
                break child.wait().expect("wait");
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: to.join().unwrap_or_default(),
        stderr: te.join().unwrap_or_default(),
        outputs: BTreeMap::new(),
        timed_out,
    }
}

/// Threads for the JIT's parallel loops in case `k`: one, two, or one per core.
fn threads_for(case: u64) -> usize {
    [1, 2, 0][(case % 3) as usize]
}

/// Whether engines run through the binary (`KILN_DIFF_CLI=1`: a crash or a hang of
/// generated code is then contained in its case) instead of the library.
fn use_cli() -> bool {
    flag("KILN_DIFF_CLI")
}

/// The library's engine of a name.
fn lib_engine(name: &str) -> Option<kiln::Engine> {
    match name {
        "interp" | "interp-ovf" => Some(kiln::Engine::Interp),
        "jit" | "jit-tiled" | "jit-ovf" => Some(kiln::Engine::Jit),
        _ => None,
    }
}

fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn run_engine(case: &Case, dir: &Path, engine: &str) -> Run {
    let out = dir.join(format!("out-{engine}"));
    let _ = std::fs::remove_dir_all(&out);
    let mut r = if use_cli() {
        kiln(&run_args(case, dir, engine, &out), Duration::from_secs(120))
    } else {
        let spec = kiln::RunSpec {
            inputs: case
                .inputs
                .iter()
                .map(|(n, f)| (n.clone(), dir.join(f)))
                .collect(),
            engine: lib_engine(engine).expect("engine"),
            threads: threads_for(case.case),
            full: true,
            check_overflow: engine.ends_with("-ovf"),
            ..Default::default()
        };
        let opts = kiln::Options {
            color: false,
            ..Default::default()
        };
        let path = dir.join("main.kiln");
        let seed = case.case;
        let tiled = move |m: &mut kiln_passes::ir::Module| random_tiling(m, seed);
        let run = || {
            if engine == "jit-tiled" {
                kiln::run_scheduled(&path, &spec, Some(&out), &opts, &tiled)
            } else {
                kiln::run(&path, &spec, Some(&out), &opts)
            }
        };
        match std::panic::catch_unwind(run) {
            Ok(o) => Run {
                code: o.code,
                stdout: o.stdout,
                stderr: o.stderr,
                ..Default::default()
            },
            Err(p) => Run {
                code: 101,
                stderr: format!("panicked: {}", panic_text(&*p)),
                ..Default::default()
            },
        }
    };
    if let Ok(rd) = std::fs::read_dir(&out) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Ok(bytes) = std::fs::read(e.path()) {
                r.outputs.insert(name, bytes);
            }
        }
    }
    r
}

/// Applies a few random loop transformations (each one legal or refused by tile.rs) to
/// every instance, then checks the IR invariants.
fn random_tiling(m: &mut kiln_passes::ir::Module, seed: u64) {
    use kiln_passes::ir::Stmt;
    use kiln_passes::tile;
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n.max(1)
    };
    for inst in m.instances.iter_mut() {
        for step in 0..3 {
            let mut names: Vec<String> = inst.loop_vars.iter().map(|v| v.name.clone()).collect();
            names.sort();
            names.dedup();
            if names.is_empty() {
                break;
            }
            let name = names[next(names.len() as u64) as usize].clone();
            let _ = match next(4) {
                3 => {
                    // Buffer a tensor some node reads, at a random loop or for the node.
                    let nodes: Vec<_> = inst.graph.node_indices().collect();
                    let Some(&n) = nodes.get(next(nodes.len() as u64) as usize) else {
                        continue;
                    };
                    let kiln_passes::ir::Node::Compute(c) = &inst.graph[n] else {
                        continue;
                    };
                    let Some(&x) = c.reads.get(next(c.reads.len() as u64) as usize) else {
                        continue;
                    };
                    if inst.tensor(x).shape.is_empty() {
                        continue;
                    }
                    let at = (next(2) == 0).then_some(name.as_str());
                    let mut body = c.body.clone();
                    if let Ok(bufs) = tile::buffer(inst, &mut body, x, at) {
                        if let kiln_passes::ir::Node::Compute(c) = &mut inst.graph[n] {
                            c.body = body;
                            for b in bufs {
                                c.reads.push(b);
                                c.writes.push(b);
                            }
                        }
                    }
                    Ok(0)
                }
                0 => {
                    let f = 2 + next(3) as u32;
                    let outer = format!("{name}_t{step}");
                    tile::for_each_body(inst, &mut |i, b| {
                        tile::split(i, b, &name, f, &outer, &name)
                    })
                }
                1 => {
                    let f = next(4) as u32;
                    tile::for_each_body(inst, &mut |i, b| tile::unroll_jam(i, b, &name, f))
                }
                _ => {
                    // Swap a loop with the one it holds alone.
                    let mut pair = None;
                    for (_, c) in inst.computes() {
                        kiln_passes::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
                            if let Stmt::For(l) = s {
                                if let [Stmt::For(inner)] = l.body.as_slice() {
                                    pair.get_or_insert((l.var, inner.var));
                                }
                            }
                        });
                    }
                    match pair {
                        Some((o, i)) => {
                            let order = [
                                inst.loop_vars[i.index()].name.clone(),
                                inst.loop_vars[o.index()].name.clone(),
                            ];
                            if order[0] == order[1] {
                                continue;
                            }
                            tile::for_each_body(inst, &mut |i, b| tile::reorder(i, b, &order))
                        }
                        None => continue,
                    }
                }
            };
        }
    }
    let errs = kiln_passes::verify::verify_module(m, true);
    if !errs.is_empty() && std::env::var("KILN_DEBUG_TILING").is_ok() {
        eprintln!(
            "{}",
            kiln_passes::print::module_to_string(m, Default::default())
        );
    }
    assert!(
        errs.is_empty(),
        "IR invalid after tiling: {}",
        errs.join("; ")
    );
}

/// Whether an engine exists: for the library, whether it has that engine; for the CLI,
/// whether it takes `--engine NAME` (clap rejects unknown values with exit code 2 and
/// "invalid value" before reading any file).
fn engine_exists(engine: &str) -> bool {
    if !use_cli() {
        return lib_engine(engine).is_some();
    }
    let r = kiln(
        &[
            "run".into(),
            "/nonexistent/kiln-engine-probe.kiln".into(),
            "--engine".into(),
            engine.into(),
        ],
        Duration::from_secs(30),
    );
    !(r.code == 2 && r.stderr.contains("invalid value"))
}

fn errors_in(text: &str) -> Vec<String> {
    codes_in(text)
        .into_iter()
        .filter(|c| c.starts_with('E'))
        .collect()
}

/// Saves a failing case for replay: program, data, outputs and messages, replay.sh.
fn save_failure(case: &Case, dir: &Path, what: &str, runs: &[(&str, &Run)]) -> PathBuf {
    let tag = if runs.iter().any(|(e, _)| *e == "check") {
        "-check"
    } else {
        ""
    };
    let fdir = target_dir()
        .join("difftest-failures")
        .join(format!("seed-{}-case-{}{tag}", case.seed, case.case));
    let _ = std::fs::remove_dir_all(&fdir);
    write_case(case, &fdir);
    let mut replay = String::from(
        "#!/bin/sh\n# Replays this case with the kiln CLI (set KILN to a kiln binary, or cargo builds one).\ncd \"$(dirname \"$0\")\"\n",
    );
    for (engine, r) in runs {
        let out = fdir.join(format!("out-{engine}"));
        let _ = std::fs::create_dir_all(&out);
        for (n, bytes) in &r.outputs {
            let _ = std::fs::write(out.join(n), bytes);
        }
        let _ = std::fs::write(
            fdir.join(format!("{engine}.txt")),
            format!(
                "exit code {}{}\n--- stdout\n{}--- stderr\n{}",
                r.code,
                if r.timed_out { " (timed out)" } else { "" },
                r.stdout,
                r.stderr
            ),
        );
        let mut cmd = if *engine == "check" {
            "kiln check main.kiln".to_string()
        } else {
            format!("kiln run main.kiln --full --engine {engine} --out out-{engine}")
        };
        if *engine != "check" && threads_for(case.case) > 0 {
            cmd.push_str(&format!(" --threads {}", threads_for(case.case)));
        }
        for (n, f) in &case.inputs {
            if *engine != "check" {
                cmd.push_str(&format!(" --input {n}={f}"));
            }
        }
        replay.push_str(&format!(
            "${{KILN:-cargo run -q --bin kiln --manifest-path {}/Cargo.toml --}} {}\n",
            env!("CARGO_MANIFEST_DIR"),
            cmd.trim_start_matches("kiln ")
        ));
    }
    let _ = std::fs::write(fdir.join("replay.sh"), replay);
    let _ = std::fs::write(fdir.join("failure.txt"), what);
    let _ = dir;
    fdir
}

/// A temporary directory for one case.
fn case_dir(root: &Path, case: u64) -> PathBuf {
    root.join(format!("case-{case}"))
}

fn scratch_root(tag: &str) -> (PathBuf, Option<tempfile::TempDir>) {
    if flag("KILN_DIFF_KEEP") {
        let d = target_dir().join(format!("difftest-cases/{tag}-seed-{}", seed()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        (d, None)
    } else {
        let t = tempfile::Builder::new()
            .prefix("kiln-difftest-")
            .tempdir()
            .expect("tempdir");
        (t.path().to_path_buf(), Some(t))
    }
}

/// Runs `f` on every case with a few worker threads.
fn for_each_case(f: impl FnMut(u64) + Send + Clone) {
    for_cases(n_cases(), f)
}

fn for_cases(n: u64, mut f: impl FnMut(u64) + Send + Clone) {
    let next = AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..workers() {
            let next = &next;
            let mut f = f.clone();
            s.spawn(move || loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= n {
                    break;
                }
                f(k);
            });
        }
    });
    let _ = &mut f;
}

/// Every generated program passes `kiln check` (the front end, and instantiation with
/// its data): this validates the generator.
#[test]
fn generated_programs_pass_check() {
    let start = Instant::now();
    let (root, _guard) = scratch_root("check");
    let cfg = config();
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let seed = seed();
    for_each_case(|k| {
        let case = generate(seed, k, &cfg);
        let dir = case_dir(&root, k);
        write_case(&case, &dir);
        let path = dir.join("main.kiln");
        let opts = kiln::Options {
            color: false,
            ..Default::default()
        };
        let out = std::panic::catch_unwind(|| kiln::check(std::slice::from_ref(&path), &opts));
        let problem = match out {
            Ok(o) if o.code == 0 => None,
            Ok(o) => Some(format!("exit code {}:\n{}", o.code, o.stderr)),
            Err(p) => Some(format!("panicked: {}", panic_text(&*p))),
        };
        if let Some(p) = problem {
            let r = Run {
                code: 1,
                stderr: p.clone(),
                ..Default::default()
            };
            let saved = save_failure(
                &case,
                &dir,
                &format!("kiln check failed\n{p}"),
                &[("check", &r)],
            );
            failures.lock().unwrap().push(format!(
                "seed {seed} case {k}: `kiln check` failed (saved in {}):\n{p}\n{}",
                saved.display(),
                case.source
            ));
        }
    });
    let failures = failures.into_inner().unwrap();
    let n = n_cases();
    eprintln!(
        "difftest check: {} of {n} generated programs pass `kiln check` (seed {seed}, {:.1} s)",
        n as usize - failures.len(),
        start.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        let shown: Vec<&String> = failures.iter().take(5).collect();
        panic!(
            "{} of {n} generated programs fail `kiln check`:\n\n{}",
            failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

#[derive(Default)]
struct Stats {
    reference_ok: usize,
    compared: usize,
    /// Cases an engine declined (documented limitations), by engine and reason.
    declined: BTreeMap<String, usize>,
    features: BTreeMap<String, usize>,
    failures: Vec<String>,
}

enum Verdict {
    /// Same exit code, same error codes, the same files with the same bytes.
    Same,
    /// The engine declined to compile the program: a documented limitation (E0513
    /// "... cannot compile ..."), not an internal error of its code generator.
    Declined(String),
    Differ(String),
}

fn compare(engine: &str, reference: &Run, r: &Run) -> Verdict {
    let declined = r.code == 1
        && reference.code == 0
        && errors_in(&r.stderr) == ["E0513"]
        && r.stderr.contains("cannot compile")
        && !r.stderr.contains("cranelift")
        && !r.stderr.contains("panicked");
    if declined {
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains("[E0513]"))
            .unwrap_or("")
            .to_string();
        // The reason without the numbers and names (widths, locals).
        let reason = line.split_once("Error: ").map_or(line.as_str(), |(_, w)| w);
        let mut why = String::new();
        let mut in_tick = false;
        for ch in reason.chars() {
            match ch {
                '`' => {
                    in_tick = !in_tick;
                    if in_tick {
                        why.push_str("`_`");
                    }
                }
                _ if in_tick => {}
                '0'..='9' => {
                    if !why.ends_with('N') {
                        why.push('N');
                    }
                }
                _ => why.push(ch),
            }
        }
        return Verdict::Declined(why);
    }
    if r.code != reference.code || errors_in(&r.stderr) != errors_in(&reference.stderr) {
        return Verdict::Differ(format!(
            "`{engine}` exits with {} ({:?}{}), the reference with {} ({:?}):\n{}",
            r.code,
            errors_in(&r.stderr),
            if r.timed_out { ", timed out" } else { "" },
            reference.code,
            errors_in(&reference.stderr),
            r.stderr
        ));
    }
    if r.outputs.keys().ne(reference.outputs.keys()) {
        return Verdict::Differ(format!(
            "`{engine}` writes {:?}, the reference {:?}",
            r.outputs.keys().collect::<Vec<_>>(),
            reference.outputs.keys().collect::<Vec<_>>()
        ));
    }
    let differ: Vec<&String> = r
        .outputs
        .iter()
        .filter(|(name, bytes)| *bytes != &reference.outputs[*name])
        .map(|(name, _)| name)
        .collect();
    if differ.is_empty() {
        return Verdict::Same;
    }
    // The printed values (all of them: the runs use `full`) that differ.
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.trim_start().starts_with("written to"))
            .map(str::to_string)
            .collect()
    };
    let (a, b) = (strip(&reference.stdout), strip(&r.stdout));
    let mut lines = String::new();
    for (x, y) in a.iter().zip(&b) {
        if x != y {
            lines.push_str(&format!("  reference: {x}\n  {engine:>9}: {y}\n"));
        }
    }
    Verdict::Differ(format!(
        "`{engine}` and the reference differ in {}:\n{lines}",
        differ
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Every engine computes the same results as the reference interpreter, bit for bit.
#[test]
fn engines_agree_on_generated_programs() {
    let start = Instant::now();
    let engines: Vec<&str> = ENGINES
        .iter()
        .copied()
        .filter(|e| {
            let ok = engine_exists(e);
            if !ok {
                eprintln!("difftest: engine `{e}` is not available in this build (the CLI rejects `--engine {e}`): skipped");
            }
            ok
        })
        .collect();
    assert!(
        engines.first() == Some(&ENGINES[0]),
        "the reference engine `{}` must exist",
        ENGINES[0]
    );
    let (root, _guard) = scratch_root("run");
    let cfg = config();
    let seed = seed();
    let stats = Mutex::new(Stats::default());
    for_each_case(|k| {
        let case = generate(seed, k, &cfg);
        let dir = case_dir(&root, k);
        write_case(&case, &dir);
        let runs: Vec<(&str, Run)> = engines
            .iter()
            .map(|e| (*e, run_engine(&case, &dir, e)))
            .collect();
        let (_, reference) = &runs[0];
        let mut problem = None;
        let mut verdicts = Vec::new();
        if reference.code != 0 {
            problem = Some(format!(
                "the reference engine `{}` failed (exit code {}{}):\n{}",
                runs[0].0,
                reference.code,
                if reference.timed_out {
                    ", timed out"
                } else {
                    ""
                },
                reference.stderr
            ));
        } else if reference.outputs.is_empty() {
            problem = Some("the reference engine wrote no outputs".to_string());
        } else {
            for (engine, r) in &runs[1..] {
                match compare(engine, reference, r) {
                    Verdict::Differ(p) => {
                        problem = Some(p);
                        break;
                    }
                    v => verdicts.push((*engine, v)),
                }
            }
        }
        let mut st = stats.lock().unwrap();
        for (f, c) in &case.features {
            *st.features.entry(f.clone()).or_insert(0) += c;
        }
        if reference.code == 0 {
            st.reference_ok += 1;
        }
        if problem.is_none() {
            if verdicts.iter().any(|(_, v)| matches!(v, Verdict::Same)) {
                st.compared += 1;
            }
            for (engine, v) in verdicts {
                if let Verdict::Declined(why) = v {
                    *st.declined.entry(format!("{engine}: {why}")).or_insert(0) += 1;
                }
            }
        }
        if let Some(p) = problem {
            let refs: Vec<(&str, &Run)> = runs.iter().map(|(e, r)| (*e, r)).collect();
            let saved = save_failure(&case, &dir, &p, &refs);
            st.failures.push(format!(
                "seed {seed} case {k} (saved in {}): {p}\n{}",
                saved.display(),
                case.source
            ));
        }
    });
    let st = stats.into_inner().unwrap();
    let n = n_cases();
    let mut report = format!(
        "difftest: seed {seed}, {n} cases, engines {:?} (of {:?}), {:.1} s\n  \
         reference ran {} of {n} cases without an error; {} cases compared between two or more engines\n  \
         features generated (count over all cases):\n",
        engines,
        ENGINES,
        start.elapsed().as_secs_f64(),
        st.reference_ok,
        st.compared,
    );
    for (f, c) in &st.features {
        report.push_str(&format!("    {f:<52} {c}\n"));
    }
    if !st.declined.is_empty() {
        report.push_str("  cases an engine declined (documented limitations, not compared):\n");
        for (why, c) in &st.declined {
            report.push_str(&format!("    {why:<70} {c}\n"));
        }
    }
    report.push_str(&format!("  {} of {n} cases failed\n", st.failures.len()));
    eprintln!("{report}");
    if !st.failures.is_empty() {
        let shown: Vec<&String> = st.failures.iter().take(5).collect();
        panic!(
            "{} of {n} cases failed:\n\n{}",
            st.failures.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
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

/// C-simulation of the emitted HLS C++ (`kiln hls` with the interpreter's results, then
/// `kiln csim`: g++ against the real ap_types headers) agrees with the interpreter bit
/// for bit on generated programs. `KILN_HLS_CASES=N` (default 24) cases of the seed; a
/// failing case is copied to target/difftest-failures/hls-seed-S-case-K/ (replay:
/// `kiln csim DIR/hls`).
#[test]
fn csim_agrees_on_generated_programs() {
    let start = Instant::now();
    let headers = kiln::csim::find_ap_types(None)
        .unwrap_or_else(|e| panic!("the ap_types headers are needed for C-simulation: {e}"));
    let n = env_u64("KILN_HLS_CASES", 24);
    let (root, _guard) = scratch_root("hls");
    let cfg = config();
    let seed = seed();
    let passed = AtomicU64::new(0);
    let reference_failed = AtomicU64::new(0);
    let failures = Mutex::new(Vec::new());
    for_cases(n, |k| {
        let case = generate(seed, k, &cfg);
        let dir = case_dir(&root, k);
        write_case(&case, &dir);
        let spec = kiln::RunSpec {
            inputs: case
                .inputs
                .iter()
                .map(|(n, f)| (n.clone(), dir.join(f)))
                .collect(),
            engine: kiln::Engine::Interp,
            ..Default::default()
        };
        let project = dir.join("hls");
        let hls = kiln::HlsSpec {
            out_dir: project.clone(),
            part: "xczu9eg-ffvb1156-2-e".into(),
            clock_ns: 10.0,
            io_stream: false,
            auto_schedule: true,
            alloc: Default::default(),
            testbench: true,
        };
        let opts = kiln::Options::default();
        let path = dir.join("main.kiln");
        let emitted = std::panic::catch_unwind(|| kiln::hls(&path, &spec, &hls, &opts));
        let problem = match emitted {
            Err(p) => Some(format!("kiln hls panicked: {}", panic_text(&*p))),
            Ok(o) if o.code != 0 => {
                // A run-time error of the reference run (E07xx) leaves nothing to check.
                let codes = errors_in(&o.stderr);
                if !codes.is_empty() && codes.iter().all(|c| c.starts_with("E07")) {
                    reference_failed.fetch_add(1, Ordering::Relaxed);
                    None
                } else {
                    Some(format!("kiln hls failed:\n{}", o.stderr))
                }
            }
            Ok(_) => {
                let c = kiln::csim::csim(&project, Some(&headers), false);
                if c.code == 0 {
                    passed.fetch_add(1, Ordering::Relaxed);
                    None
                } else {
                    Some(format!(
                        "C-simulation differs from the interpreter:\n{}{}",
                        c.stdout,
                        c.stderr.chars().take(4000).collect::<String>()
                    ))
                }
            }
        };
        if let Some(p) = problem {
            let saved = target_dir().join(format!("difftest-failures/hls-seed-{seed}-case-{k}"));
            let _ = std::fs::remove_dir_all(&saved);
            copy_tree(&dir, &saved);
            failures.lock().unwrap().push(format!(
                "seed {seed} case {k} (saved in {}):\n{p}\n{}",
                saved.display(),
                case.source
            ));
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "difftest csim: seed {seed}, {n} cases, {:.1} s: {} pass C-simulation bit for bit, {} stopped with a run-time error in the interpreter, {} failed",
        start.elapsed().as_secs_f64(),
        passed.load(Ordering::Relaxed),
        reference_failed.load(Ordering::Relaxed),
        failures.len()
    );
    if !failures.is_empty() {
        panic!(
            "{} of {n} cases failed:\n\n{}",
            failures.len(),
            failures
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}

/// The lines of `kiln run --check-overflow`'s stderr that report run-time overflows (the
/// W0804 headers and labels, and the totals line).
fn overflow_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.starts_with("[W0804]")
                || l.contains("value(s) from")
                || l.starts_with("overflow check:")
        })
        .collect()
}

/// `--check-overflow` on generated programs: the interpreter and the JIT (which then
/// compiles its counting conversions) write the same results and count the same
/// overflows at the same sites, with the same ranges. Runs on a quarter of the cases.
#[test]
fn overflow_counts_agree_on_generated_programs() {
    let (root, _guard) = scratch_root("overflow");
    let cfg = config();
    let seed = seed();
    let failures = Mutex::new(Vec::new());
    let counted = AtomicU64::new(0);
    let n = n_cases().div_ceil(4);
    for_cases(n, |k| {
        let case = generate(seed, k, &cfg);
        let dir = case_dir(&root, k);
        write_case(&case, &dir);
        let interp = run_engine(&case, &dir, "interp-ovf");
        let jit = run_engine(&case, &dir, "jit-ovf");
        let problem = if interp.code != 0 {
            Some(format!("the interpreter failed:\n{}", interp.stderr))
        } else if let Verdict::Differ(p) = compare("jit-ovf", &interp, &jit) {
            Some(p)
        } else if jit.code == 0 && overflow_lines(&interp.stderr) != overflow_lines(&jit.stderr) {
            Some(format!(
                "the overflow counts differ:\n--- interp\n{}\n--- jit\n{}",
                overflow_lines(&interp.stderr).join("\n"),
                overflow_lines(&jit.stderr).join("\n")
            ))
        } else {
            None
        };
        if interp.stderr.contains("[W0804]") {
            counted.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(p) = problem {
            let saved = save_failure(
                &case,
                &dir,
                &p,
                &[("interp-ovf", &interp), ("jit-ovf", &jit)],
            );
            failures.lock().unwrap().push(format!(
                "seed {seed} case {k} (saved in {}): {p}",
                saved.display()
            ));
        }
    });
    let failures = failures.into_inner().unwrap();
    eprintln!(
        "difftest --check-overflow: seed {seed}, {n} cases, {} with run-time overflows, {} failed",
        counted.load(Ordering::Relaxed),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n\n{}",
        failures.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
}
