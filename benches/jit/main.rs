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
//! Only the standard library is used, so the bench also builds on its own:
//! `rustc -O --edition 2021 benches/jit/main.rs -o /tmp/kiln-bench && KILN_BIN=target/release/kiln /tmp/kiln-bench`
//! (run from the repository root).
//!
//! The files: kernels.rs (the benchmarks), config.rs (options), process.rs (running
//! programs), npy.rs (result files), cell.rs (table cells, calibrated measurements),
//! kiln.rs (running kiln), baselines.rs (the C baselines), apsim.rs (the ap_types C-sims),
//! machine.rs (the machine), peak.rs (the 128-bit peaks), small.rs (step 3), full.rs (steps 4 and 5), lenet.rs (step 6),
//! report.rs (step 7).

mod apsim;
mod baselines;
mod cell;
mod config;
mod full;
mod kernels;
mod kiln;
mod lenet;
mod machine;
mod npy;
mod peak;
mod process;
mod report;
mod small;

use config::{config, Config};
use kernels::{Bench, BENCHES};
use kiln::{probe, Kiln};
use machine::{machine, root};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// What every step shares: the options, the folders, kiln and the ap_types headers.
pub struct Ctx<'a> {
    pub cfg: &'a Config,
    /// The temporary directory (outputs, executables).
    pub tmp: &'a Path,
    pub root: PathBuf,
    /// examples/bench
    pub ex: PathBuf,
    /// benches/baselines
    pub bl: PathBuf,
    pub kiln: Kiln,
    pub ap: Result<PathBuf, String>,
    /// `--threads 1` when kiln has the flag.
    pub jit_threads: Vec<String>,
}

/// What the steps report besides their numbers.
#[derive(Default)]
pub struct Log {
    /// Notes for the end of benches/results.md.
    pub notes: Vec<String>,
    /// Results that differ: the bench fails.
    pub mismatches: Vec<String>,
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
    let Some(bin) = kiln_binary(&root) else {
        return ExitCode::from(1);
    };
    let mach = machine(&bin);
    for l in &mach {
        eprintln!("{l}");
    }
    eprintln!("kiln binary: {}", bin.display());
    let mut log = Log::default();
    let kiln = probe(&bin, tmp);
    kiln.describe(&mut log.notes);
    let jit_threads: Vec<String> = if kiln.threads {
        vec!["--threads".into(), "1".into()]
    } else {
        Vec::new()
    };
    let ap = apsim::ap_include(tmp);
    match &ap {
        Ok(p) => eprintln!("ap_types headers: {}", p.display()),
        Err(e) => {
            eprintln!("ap_types headers: NOT available ({e})");
            log.notes
                .push(format!("ap_types headers not available: {e}"));
        }
    }
    let ctx = Ctx {
        cfg,
        tmp,
        ex: root.join("examples/bench"),
        bl: root.join("benches/baselines"),
        root,
        kiln,
        ap,
        jit_threads,
    };
    let peaks = peak::measure(&ctx);
    match &peaks {
        Ok(p) => {
            for r in p {
                eprintln!(
                    "128-bit peak, {:?}: {:.3} instructions/ns x {} = {:.1} G multiply-accumulates/s",
                    r.op,
                    r.per_ns,
                    r.macs,
                    r.gmacs()
                );
            }
        }
        Err(e) => {
            eprintln!("128-bit peaks: NOT measured ({e})");
            log.notes.push(format!("128-bit peaks not measured: {e}"));
        }
    }
    let benches = selected(cfg);
    let small_lines = small::check_all(&ctx, &benches, &mut log);
    let full = full::measure_all(&ctx, &benches, &mut log);
    let lenet = lenet::time(&ctx);
    report::finish(&report::Report {
        ctx: &ctx,
        mach: &mach,
        full: &full,
        lenet: &lenet,
        small_lines: &small_lines,
        log: &log,
        peaks: peaks.as_deref().unwrap_or(&[]),
    })
}

/// The kiln binary (`KILN_BIN`, else the one cargo built for this bench).
fn kiln_binary(root: &Path) -> Option<PathBuf> {
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
        return None;
    }
    Some(bin)
}

/// The benchmarks named on the command line (all when none is).
fn selected(cfg: &Config) -> Vec<&'static Bench> {
    let benches: Vec<&Bench> = BENCHES
        .iter()
        .filter(|b| cfg.only.is_empty() || cfg.only.iter().any(|o| o == b.name))
        .collect();
    for o in &cfg.only {
        if !BENCHES.iter().any(|b| b.name == o) {
            eprintln!("warning: no benchmark named `{o}`");
        }
    }
    benches
}
