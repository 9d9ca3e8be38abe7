//! Step 6: `kiln run examples/lenet/lenet.kiln --timings`: the time from source to native
//! code, stage by stage.

use crate::cell::{fmt_ms, median, Cell};
use crate::kiln::Avail;
use crate::process::{parse_timings, run};
use crate::Ctx;
use std::time::Duration;

/// LeNet's times.
pub struct Lenet {
    /// The engine: "jit", or "interp" when kiln has no JIT.
    pub engine: &'static str,
    /// The stages before the run, summed (median over the processes).
    pub time: Cell,
    /// Median wall clock of a whole process, ms.
    pub wall: f64,
    /// `STAGE X ms`: the median of each stage.
    pub stages: Vec<String>,
    /// Processes run.
    pub reps: usize,
}

/// Adds one time of `stage`.
fn push_stage(stages: &mut Vec<(String, Vec<f64>)>, stage: &str, ms: f64) {
    match stages.iter_mut().find(|(n, _)| n == stage) {
        Some((_, v)) => v.push(ms),
        None => stages.push((stage.to_string(), vec![ms])),
    }
}

/// Runs LeNet `reps` times with `--timings`.
pub fn time(ctx: &Ctx) -> Lenet {
    eprintln!("\n== LeNet: kiln run examples/lenet/lenet.kiln --timings ==");
    let kiln = &ctx.kiln;
    let engine = match kiln.jit {
        Avail::Yes => "jit",
        Avail::No(_) => "interp",
    };
    let mut sums = Vec::new();
    let mut walls = Vec::new();
    let mut stages: Vec<(String, Vec<f64>)> = Vec::new();
    let mut err = None;
    let reps = if ctx.cfg.quick { 5 } else { 11 };
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
        let o = run(&mut c, ctx.tmp, Some(Duration::from_secs(120)));
        if !o.ok() {
            err = Some(o.why());
            break;
        }
        let t = parse_timings(&o.stderr);
        let mut sum = 0.0;
        for (s, ms) in t
            .iter()
            .take_while(|(s, _)| !s.starts_with("run") && s != "total")
        {
            sum += ms;
            push_stage(&mut stages, s, *ms);
        }
        if let Some((s, ms)) = t.iter().find(|(s, _)| s.starts_with("run")) {
            push_stage(&mut stages, s, *ms);
        }
        if t.is_empty() {
            err = Some("no --timings block on stderr".into());
            break;
        }
        sums.push(sum);
        walls.push(o.wall.as_secs_f64() * 1e3);
    }
    let time = match err {
        Some(e) => Cell::Err(e),
        None => Cell::Ms(median(&mut sums), reps),
    };
    let wall = if walls.is_empty() {
        f64::NAN
    } else {
        median(&mut walls)
    };
    let stages: Vec<String> = stages
        .iter_mut()
        .map(|(s, v)| format!("{s} {} ms", fmt_ms(median(v))))
        .collect();
    eprintln!(
        "parse to {}: {} ms (median of {reps}; stages: {}); process wall {:.1} ms",
        if engine == "jit" {
            "native"
        } else {
            "interpretable IR (no JIT)"
        },
        time.show(),
        stages.join(", "),
        wall
    );
    Lenet {
        engine,
        time,
        wall,
        stages,
        reps,
    }
}
