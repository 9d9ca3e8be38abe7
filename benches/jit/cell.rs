//! A table cell (a median time, or why there is none), its formats, and the calibrated
//! measurement every timing goes through.

use crate::config::Config;
use crate::process::Out;

#[derive(Clone)]
pub enum Cell {
    /// median ms, runs
    Ms(f64, usize),
    /// not measured, and why
    Na(String),
    /// the measurement failed
    Err(String),
}

impl Cell {
    pub fn ms(&self) -> Option<f64> {
        match self {
            Cell::Ms(m, _) => Some(*m),
            _ => None,
        }
    }
    pub fn show_ms(&self) -> String {
        match self {
            Cell::Ms(m, _) => format!("{} ms", fmt_ms(*m)),
            other => other.show(),
        }
    }
    pub fn show(&self) -> String {
        match self {
            Cell::Ms(m, _) => fmt_ms(*m),
            Cell::Na(s) => s.clone(),
            Cell::Err(s) => format!("ERROR ({s})"),
        }
    }
}

pub fn fmt_ratio(r: f64) -> String {
    if r >= 0.1 || r <= 0.0 || !r.is_finite() {
        format!("{r:.2}x")
    } else {
        // three significant digits: 0.0121x
        let digits = (2.0 - r.log10().floor()) as usize;
        format!("{r:.digits$}x")
    }
}

pub fn fmt_ms(m: f64) -> String {
    if m >= 100.0 {
        format!("{m:.1}")
    } else if m >= 1.0 {
        format!("{m:.3}")
    } else {
        format!("{m:.4}")
    }
}

pub fn median(v: &mut [f64]) -> f64 {
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

/// Calibrates then measures: a first short run gives the time per run, the second run
/// has enough repetitions for cfg.min_time_ms (and at least cfg.min_runs).
pub fn measure(
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

pub fn runs_for(median_ms: f64, cfg: &Config) -> usize {
    if median_ms.is_nan() || median_ms <= 0.0 {
        return cfg.min_runs;
    }
    ((cfg.min_time_ms / median_ms).ceil() as usize).clamp(cfg.min_runs, 20_000)
}

/// `" (median of N)"` for a measured cell.
pub fn median_of(c: &Cell) -> String {
    match c {
        Cell::Ms(_, n) => format!(" (median of {n})"),
        _ => String::new(),
    }
}
