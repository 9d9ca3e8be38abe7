//! Running programs (output to files, with a time limit) and reading the times they print.

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    pub timed_out: bool,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0) && !self.timed_out
    }
    /// The last lines of stderr, for error reports.
    pub fn tail(&self) -> String {
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        let start = lines.len().saturating_sub(6);
        lines[start..].join("\n")
    }
    /// A one-line reason for a failure.
    pub fn why(&self) -> String {
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

pub static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Runs a command with stdout and stderr going to files in `tmp` (no pipe can fill up),
/// and kills it (this child only) after `timeout`.
pub fn run(cmd: &mut Command, tmp: &Path, timeout: Option<Duration>) -> Out {
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
pub fn parse_kernel_time(stderr: &str) -> Option<(f64, usize, bool)> {
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
pub fn parse_timings(stderr: &str) -> Vec<(String, f64)> {
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
