//! Step 7: the tables (results, loop blocking), the targets, and benches/results.md.

use crate::cell::{fmt_ms, fmt_ratio, Cell};
use crate::full::{Full, Row};
use crate::kernels::BENCHES;
use crate::kiln::u_blocking;
use crate::lenet::Lenet;
use crate::machine::{first_line, loadavg};
use crate::peak::PeakRate;
use crate::{Ctx, Log};
use std::fmt::Write as _;
use std::fs;
use std::process::ExitCode;

const LEGEND: &str = "Times are medians of the kernel alone (no compilation, no file I/O), over N runs \
with N chosen so that each measurement takes at least 1 s and N >= 5 (the interpreter: 1 to 3 runs). \
\"JIT vs C\" is the C time divided by the JIT time (above 1: kiln's JIT is faster). \
\"results identical?\" compares each result file with the C baseline's, bit for bit. \
GOPS: giga operations per second, a multiply-accumulate counted as two operations (for `bin`, \
an XNOR and the popcount's add). \"128-bit peak GOPS\": the throughput of the best 128-bit \
instruction for the kernel's operation, measured by benches/baselines/peak.c in CPU time \
(vpopcntb: 128 binary MACs; vpdpbusd: 16 8-bit MACs; mulps + addps: 4 f32 MACs), times its \
MACs, times 2 (benches/README.md); \"JIT / peak\" is the JIT's share of it. The C baselines \
may use 256- and 512-bit vectors (gcc -march=native), the JIT only 128-bit ones.";

const BLOCKING_LEGEND: &str =
    "Both JIT times are medians of the kernel alone, measured back to back \
(the untiled run right after the tiled one) with the same `--threads 1 --repeat N`: N is the tiled \
measurement's. The tiled time is the one of the Results table. \"speed-up\" is the untiled time \
divided by the tiled time (above 1: the automatic blocking helps). \"blocking chosen\" lists the \
`blocking: ` (or `pass: `) lines of `kiln run FILE --timings --threads 1` (\"none\": kiln blocked no loop). \
\"results identical?\" compares the untiled JIT's result file with the tiled JIT's, bit for bit.";

/// The tables, ready to print and to write.
struct Tables {
    results: String,
    blocking_head: String,
    blocking: String,
    targets: Vec<String>,
}

/// Everything the bench found.
pub struct Report<'a> {
    pub ctx: &'a Ctx<'a>,
    /// The machine's description.
    pub mach: &'a [String],
    pub full: &'a Full,
    pub lenet: &'a Lenet,
    /// The results on the small variants.
    pub small_lines: &'a [String],
    pub log: &'a Log,
    /// The measured 128-bit peaks (peak.rs).
    pub peaks: &'a [PeakRate],
}

/// Prints the tables, writes benches/results.md, and fails on any mismatch.
pub fn finish(r: &Report) -> ExitCode {
    let (ctx, mach, log) = (r.ctx, r.mach, r.log);
    let rows = &r.full.rows;
    let tables = Tables {
        results: results_table(rows, ctx.kiln.threads, r.peaks),
        blocking_head: format!(
            "## Loop blocking (issue 5): tiled vs untiled JIT{}",
            if ctx.kiln.threads { ", 1 thread" } else { "" }
        ),
        blocking: blocking_table(rows),
        targets: targets(rows, r.lenet, r.peaks),
    };
    let md = markdown(r, &tables);
    println!("\n{}", mach.join("\n"));
    println!("\n{}\n{LEGEND}\n", tables.results);
    if rows.iter().any(|r| r.untiled.is_some()) {
        println!(
            "{}\n\n{}\n{BLOCKING_LEGEND}\n",
            tables.blocking_head, tables.blocking
        );
    }
    for l in &tables.targets {
        println!("target: {l}");
    }
    let cfg = ctx.cfg;
    if cfg.write && cfg.only.is_empty() {
        let p = ctx.root.join("benches/results.md");
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
    if log.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "\n!!!!!!!! {} RESULT MISMATCH(ES) — a bug somewhere:",
            log.mismatches.len()
        );
        for m in &log.mismatches {
            eprintln!("!!!!!!!! {m}");
        }
        ExitCode::from(1)
    }
}

/// `a / b` as a ratio, "—" when either is missing.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => fmt_ratio(a / b),
        _ => "—".to_string(),
    }
}

/// The results table: every engine's time, the ratios, the result checks.
/// Giga operations per second (a multiply-accumulate is two operations) of `macs`
/// multiply-accumulates in `ms`.
fn gops(macs: f64, ms: f64) -> f64 {
    2.0 * macs / (ms * 1e6)
}

/// The GOPS columns of a row: JIT, C, the 128-bit peak and the JIT's share of it.
fn gops_cells(r: &Row, peaks: &[PeakRate]) -> [String; 4] {
    let Some(b) = BENCHES.iter().find(|b| b.name == r.name) else {
        return ["—".into(), "—".into(), "—".into(), "—".into()];
    };
    let show = |ms: Option<f64>| ms.map_or("—".into(), |ms| format!("{:.1}", gops(b.macs, ms)));
    let peak = peaks
        .iter()
        .find(|p| p.op == b.peak)
        .map(|p| 2.0 * p.gmacs());
    let share = match (r.jit.ms(), peak) {
        (Some(ms), Some(p)) => format!("{:.0}%", 100.0 * gops(b.macs, ms) / p),
        _ => "—".into(),
    };
    [
        show(r.jit.ms()),
        show(r.c.ms()),
        peak.map_or("n/a".into(), |p| format!("{p:.1} ({:?})", b.peak)),
        share,
    ]
}

fn results_table(rows: &[Row], threads: bool, peaks: &[PeakRate]) -> String {
    let threads_note = if threads { " (1 thread)" } else { "" };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "| kernel | kiln JIT ms{threads_note} | C -O3 ms | ap_types C-sim ms | interpreter ms | JIT vs C | JIT vs C-sim | JIT GOPS | C GOPS | 128-bit peak GOPS | JIT / peak | results identical? |"
    );
    let _ = writeln!(
        t,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for r in rows {
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
        let [jg, cg, pg, share] = gops_cells(r, peaks);
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {} | {} | {} | {jg} | {cg} | {pg} | {share} | {} |",
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
    t
}

/// The loop-blocking table: tiled vs untiled JIT.
fn blocking_table(rows: &[Row]) -> String {
    let mut tb = String::new();
    let _ = writeln!(
        tb,
        "| kernel | untiled JIT ms (`--no-auto-schedule`) | tiled JIT ms (default) | speed-up | blocking chosen | results identical? |"
    );
    let _ = writeln!(tb, "|---|---:|---:|---:|---|---|");
    for r in rows {
        let Some(u) = &r.untiled else { continue };
        let speedup = ratio(u.time.ms(), r.jit.ms());
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
    tb
}

/// The project's performance targets, met or not.
fn targets(rows: &[Row], lenet: &Lenet, peaks: &[PeakRate]) -> Vec<String> {
    let get = |n: &str| rows.iter().find(|r| r.name == n);
    let mut targets: Vec<String> = Vec::new();
    let status = |ok: bool| if ok { "MET" } else { "NOT MET" };
    // Issue 18: the seed's arithmetic at >= 1.0x of the C baseline, or at >= 70% of the
    // machine's 128-bit peak.
    for name in ["conv_bin", "gemm_i8", "dense_bin", "conv_tern"] {
        let (Some(r), Some(b)) = (get(name), BENCHES.iter().find(|b| b.name == name)) else {
            continue;
        };
        let what = format!("{name} >= 1.0x of the C baseline, or >= 70% of the 128-bit peak");
        let peak = peaks
            .iter()
            .find(|p| p.op == b.peak)
            .map(|p| 2.0 * p.gmacs());
        match (r.jit.ms(), r.c.ms()) {
            (Some(j), Some(c)) => {
                let share = peak.map(|p| gops(b.macs, j) / p);
                targets.push(format!(
                    "{what}: {:.2}x of C, {} — {}",
                    c / j,
                    share.map_or("peak not measured".into(), |s| format!(
                        "{:.0}% of the peak ({:.1} of {:.1} GOPS)",
                        100.0 * s,
                        gops(b.macs, j),
                        peak.unwrap_or(0.0)
                    )),
                    status(c / j >= 1.0 || share.is_some_and(|s| s >= 0.7))
                ))
            }
            _ => targets.push(format!("{what}: not measured")),
        }
    }
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
    match &lenet.time {
        Cell::Ms(m, _) if lenet.engine == "jit" => targets.push(format!(
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
    targets
}

/// Writes `- LINE` for each line.
fn bullets(md: &mut String, lines: &[String]) {
    for l in lines {
        let _ = writeln!(md, "- {l}");
    }
}

/// benches/results.md.
fn markdown(r: &Report, tables: &Tables) -> String {
    let (ctx, full, log) = (r.ctx, r.full, r.log);
    let mut md = String::new();
    let _ = writeln!(md, "# kiln benchmark results\n");
    let _ = writeln!(
        md,
        "Written by `cargo bench --bench jit` (benches/jit/){}; {}. Kernels: examples/bench/*.kiln, \
         baselines: benches/baselines/.\n",
        if ctx.cfg.quick { " in --quick mode (0.2 s per measurement, 3 runs minimum: indicative only)" } else { "" },
        first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let _ = writeln!(md, "## Machine\n");
    bullets(&mut md, r.mach);
    let _ = writeln!(md, "- load average at the end: {}", loadavg());
    let _ = writeln!(
        md,
        "\nThe machine may be shared: other processes' load makes every time noisier and slower."
    );
    let _ = writeln!(md, "\n## Results\n");
    md.push_str(&tables.results);
    let _ = writeln!(md, "\n{LEGEND}\n");
    all_cores(&mut md, &full.rows);
    if full.rows.iter().any(|r| r.untiled.is_some()) {
        let _ = writeln!(md, "{}\n", tables.blocking_head);
        md.push_str(&tables.blocking);
        let _ = writeln!(md, "\n{BLOCKING_LEGEND}\n");
    }
    let _ = writeln!(md, "## Targets\n");
    bullets(&mut md, &tables.targets);
    let _ = writeln!(md, "\n## Mismatches\n");
    if log.mismatches.is_empty() {
        let _ = writeln!(
            md,
            "None: every result compared was bit-identical to the C baseline's."
        );
    } else {
        for m in &log.mismatches {
            let _ = writeln!(md, "- **{m}**");
        }
    }
    details(&mut md, r);
    md
}

/// The JIT on every core, when measured.
fn all_cores(md: &mut String, rows: &[Row]) {
    if !rows.iter().any(|r| r.jit_mt.is_some()) {
        return;
    }
    let _ = writeln!(md, "kiln JIT with every core (`--threads N`):\n");
    for r in rows {
        if let Some(c) = &r.jit_mt {
            let _ = writeln!(
                md,
                "- {}: {}{}",
                r.name,
                c.show_ms(),
                match (r.c.ms(), c.ms()) {
                    (Some(a), Some(b)) => format!(" ({:.2}x the single-threaded C's speed)", a / b),
                    _ => String::new(),
                }
            );
        }
    }
    md.push('\n');
}

/// The sections after the mismatches: LeNet, baselines, interpreter, small variants, notes.
fn details(md: &mut String, r: &Report) {
    let (full, lenet, log) = (r.full, r.lenet, r.log);
    let jit = lenet.engine == "jit";
    let _ = writeln!(md, "\n## LeNet: parse to native\n");
    let _ = writeln!(
        md,
        "`kiln run examples/lenet/lenet.kiln --timings{}`, {} processes: the stages before the run \
         (parse, check, data loading, lowering, passes{}) sum to **{} ms** (median); median per stage: {}. \
         Whole process, wall clock: {:.1} ms.\n",
        if jit { " --engine jit" } else { "" },
        lenet.reps,
        if jit { ", code generation" } else { "; no JIT in this build, so no native code" },
        lenet.time.show(),
        lenet.stages.join(", "),
        lenet.wall
    );
    let _ = writeln!(md, "## Baselines\n");
    bullets(md, &full.baseline_lines);
    let _ = writeln!(md, "\n## Interpreter\n");
    if full.interp_lines.is_empty() {
        let _ = writeln!(md, "Not run at full size in this session.");
    }
    bullets(md, &full.interp_lines);
    let _ = writeln!(
        md,
        "\n## Correctness on the small variants (examples/bench/data/small)\n"
    );
    let _ = writeln!(
        md,
        "Each kernel's generic `conv`/`gemm` on small inputs; the C baselines compiled for those sizes are the reference.\n"
    );
    bullets(md, r.small_lines);
    if !log.notes.is_empty() {
        let _ = writeln!(md, "\n## Notes\n");
        bullets(md, &log.notes);
    }
}
