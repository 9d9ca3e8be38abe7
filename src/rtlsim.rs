//! `kiln rtlsim DIR`: simulates a design written by `kiln rtl` with Verilator.
//!
//! The design's sources (the manifest `kiln_rtl.json`'s `sources`) and the testbench
//! (`kiln_tb.v`, `kiln_tb_main.cpp`) are built with `verilator --cc --exe --build` into
//! `DIR/obj_dir`, then the simulation runs with DIR as its working directory (it reads
//! the ROM and data hex files from there). The testbench runs the top on every sample of
//! the batch, one after another, and compares every result bit for bit with kiln's; this
//! command prints its cycle counts (to the first output, per image from start to done,
//! per image in steady state over the batch), the build and simulation times, and PASS
//! or the first mismatch. Exit 1 on a mismatch (E0722) or when the design cannot be built
//! (E0721, also when verilator is not installed).

use crate::Outcome;
use kiln_lang::diag::{codes, Code};
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// What `kiln rtlsim` was asked for.
#[derive(Clone, Debug)]
pub struct RtlsimSpec {
    /// Stop a simulation that has not finished after this many cycles.
    pub max_cycles: u64,
    /// Build threads for the C++ compile.
    pub jobs: usize,
}

impl Default for RtlsimSpec {
    fn default() -> RtlsimSpec {
        RtlsimSpec {
            max_cycles: 200_000_000,
            jobs: 2,
        }
    }
}

struct Failure {
    code: Code,
    message: String,
    help: Option<String>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            code: codes::RTLSIM_FAILED,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, h: impl Into<String>) -> Failure {
        self.help = Some(h.into());
        self
    }
}

/// `kiln rtlsim DIR`.
pub fn rtlsim(dir: &Path, spec: &RtlsimSpec) -> Outcome {
    let mut out = Outcome::default();
    match simulate(dir, spec, &mut out) {
        Ok(()) => out.code = 0,
        Err(f) => {
            let _ = writeln!(out.stderr, "[{}] error: {}", f.code.id, f.message);
            if let Some(h) = &f.help {
                let _ = writeln!(out.stderr, "help: {h}");
            }
            out.code = 1;
        }
    }
    out
}

/// The string values of the array `key` of a JSON object written by `kiln rtl`.
pub fn manifest_strings(text: &str, key: &str) -> Option<Vec<String>> {
    let at = text.find(&format!("\"{key}\""))?;
    let rest = &text[at + key.len() + 2..];
    let rest = rest.trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('[')?;
    let end = rest.find(']')?;
    let mut out = Vec::new();
    for item in rest[..end].split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let s = item.strip_prefix('"')?.strip_suffix('"')?;
        if s.contains(['\\', '"', '/']) || s.starts_with('.') {
            return None;
        }
        out.push(s.to_string());
    }
    Some(out)
}

fn simulate(dir: &Path, spec: &RtlsimSpec, out: &mut Outcome) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(
            Failure::new(format!("{}: no such design directory", dir.display()))
                .help("`kiln rtlsim DIR` takes a directory written by `kiln rtl FILE -o DIR`"),
        );
    }
    let manifest_path = dir.join(kiln_rtl::MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
        Failure::new(format!("cannot read {}: {e}", manifest_path.display()))
            .help("`kiln rtlsim DIR` takes a directory written by `kiln rtl FILE -o DIR`")
    })?;
    let sources = manifest_strings(&text, "sources")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Failure::new(format!(
                "{}: no `sources` list of Verilog files",
                manifest_path.display()
            ))
        })?;
    let without_testbench = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("testbench").map(serde_json::Value::is_null))
        .unwrap_or(false);
    if without_testbench {
        return Err(Failure::new(format!(
            "{}: the design has no testbench (written with `kiln rtl --no-testbench`): nothing to simulate",
            dir.display()
        ))
        .help("write it again without `--no-testbench` (`kiln synth DIR` works on it as it is)"));
    }
    for f in sources
        .iter()
        .map(String::as_str)
        .chain([kiln_rtl::TB_VERILOG, kiln_rtl::TB_DRIVER])
    {
        if !dir.join(f).is_file() {
            return Err(Failure::new(format!("{}: missing {f}", dir.display()))
                .help("write the design again with `kiln rtl FILE -o DIR`"));
        }
    }
    match Command::new("verilator").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(_) | Err(_) => {
            return Err(Failure::new("verilator is not installed (or not on PATH): `kiln rtlsim` builds the design with it")
                .help("install it: `apt-get install verilator` (Debian/Ubuntu; version 5 or later), or see https://verilator.org"));
        }
    }
    // A record of an earlier run must not outlive a new one that fails.
    let _ = std::fs::remove_file(dir.join(RECORD));
    let obj = "obj_dir";
    let binary = dir.join(obj).join(format!("V{}", kiln_rtl::TB_MODULE));
    let _ = std::fs::remove_file(&binary);
    let t = Instant::now();
    let mut cmd = Command::new("verilator");
    cmd.current_dir(dir)
        .args([
            "--cc",
            "--exe",
            "--build",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
            "--x-assign",
            "0",
            "--x-initial",
            "0",
        ])
        .args(["-j", &spec.jobs.max(1).to_string()])
        // The C++ of the model's hot loop at -O1, the rest unoptimized: builds in about
        // 60% of the default (-Os) time and simulates as fast.
        .args(["-MAKEFLAGS", "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O0"])
        .args(["--top-module", kiln_rtl::TB_MODULE, "-Mdir", obj])
        .args(&sources)
        .args([kiln_rtl::TB_VERILOG, kiln_rtl::TB_DRIVER]);
    let built = cmd
        .output()
        .map_err(|e| Failure::new(format!("cannot run verilator: {e}")))?;
    let build_s = t.elapsed().as_secs_f64();
    if !built.status.success() || !binary.is_file() {
        let err = String::from_utf8_lossy(&built.stderr);
        let tail: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("%Error") || l.contains("error"))
            .take(12)
            .collect();
        return Err(Failure::new(format!(
            "verilator could not build the design in {}:\n{}",
            dir.display(),
            if tail.is_empty() {
                err.lines().rev().take(12).collect::<Vec<_>>().join("\n")
            } else {
                tail.join("\n")
            }
        )));
    }
    let t = Instant::now();
    let run = Command::new(
        Path::new(".")
            .join(obj)
            .join(format!("V{}", kiln_rtl::TB_MODULE)),
    )
    .current_dir(dir)
    .arg(format!("+max_cycles={}", spec.max_cycles))
    .output();
    let run = match run {
        Ok(r) => r,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(Failure::new(format!(
                "the simulation binary {} is missing",
                binary.display()
            )))
        }
        Err(e) => return Err(Failure::new(format!("cannot run the simulation: {e}"))),
    };
    let sim_s = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&run.stdout).into_owned();
    let get = |k: &str| -> Option<u64> {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("KILN_RTLSIM {k}=")))
            .and_then(|v| v.trim().parse().ok())
    };
    let _ = writeln!(out.stdout, "verilator build: {build_s:.1} s");
    let _ = writeln!(out.stdout, "simulation: {sim_s:.2} s");
    let mut record = None;
    if let (Some(n), Some(first), Some(lat), Some(span), Some(total)) = (
        get("samples"),
        get("first_output"),
        get("latency"),
        get("starts_span"),
        get("total"),
    ) {
        // A frame pipeline's top (kiln_rtl frame.rs) takes images while earlier ones are
        // in its stages: its steady state is the cycles between results; a sequential
        // top's the cycles between starts (one image at a time).
        let done_span = get("done_span");
        let steady = match (n > 1, done_span) {
            (true, Some(d)) => d as f64 / (n - 1) as f64,
            (true, None) => span as f64 / (n - 1) as f64,
            (false, _) => lat as f64,
        };
        let frame = done_span.is_some();
        let _ = writeln!(out.stdout, "samples: {n}");
        let _ = writeln!(out.stdout, "cycles to first output: {first}");
        let _ = writeln!(
            out.stdout,
            "cycles per image (start to done, first sample): {lat}"
        );
        if let Some(m) = get("latency_max") {
            let _ = writeln!(
                out.stdout,
                "cycles per image (start to done, slowest sample): {m}"
            );
        }
        let _ = writeln!(
            out.stdout,
            "cycles per image (steady state over the batch): {steady:.1}{}",
            if frame {
                " (frame pipeline: the stages run concurrently, a result every this many cycles)"
            } else {
                ""
            }
        );
        let _ = writeln!(out.stdout, "cycles in total: {total}");
        let calls: Vec<(String, u64)> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("KILN_RTLSIM call "))
            .filter_map(|l| {
                let (m, n) = l.rsplit_once('=')?;
                Some((m.to_string(), n.trim().parse().ok()?))
            })
            .collect();
        for (m, n) in &calls {
            let _ = writeln!(out.stdout, "cycles of call {m} (first sample): {n}");
        }
        let top = manifest_string(&text, "top").unwrap_or_default();
        record = Some(SimRecord {
            top,
            samples: n,
            first_output: first,
            latency: lat,
            latency_max: get("latency_max").unwrap_or(lat),
            steady,
            frame,
            total,
            build_seconds: build_s,
            sim_seconds: sim_s,
            calls,
        });
    }
    for l in stdout.lines().filter(|l| !l.starts_with("KILN_RTLSIM ")) {
        let _ = writeln!(out.stdout, "{l}");
    }
    let passed = run.status.success() && stdout.lines().any(|l| l.starts_with("PASS"));
    if !passed {
        let why = stdout
            .lines()
            .find(|l| l.starts_with("FAIL"))
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "the simulation ended without a verdict ({}){}",
                    run.status,
                    String::from_utf8_lossy(&run.stderr)
                        .lines()
                        .take(5)
                        .collect::<Vec<_>>()
                        .join("\n")
                )
            });
        return Err(Failure {
            code: codes::RTLSIM_MISMATCH,
            message: why,
            help: None,
        });
    }
    // Only a bit-exact run's cycles are worth comparing with (`kiln report --measured`).
    if let Some(r) = record {
        let path = dir.join(RECORD);
        std::fs::write(&path, r.to_json())
            .map_err(|e| Failure::new(format!("cannot write {}: {e}", path.display())))?;
        let _ = writeln!(out.stdout, "wrote {}", path.display());
    }
    Ok(())
}

/// The file `kiln rtlsim` writes in the design directory after a bit-exact run.
pub const RECORD: &str = "rtlsim.json";

/// What a bit-exact `kiln rtlsim` run measured (`rtlsim.json`):
///
/// ```json
/// {"tool": "verilator", "top": "main", "samples": 8, "first_output": 15788,
///  "latency": 16366, "latency_max": 16366, "steady": 16367.0, "total": 130935,
///  "build_seconds": 34.3, "sim_seconds": 0.43,
///  "calls": [{"module": "lenet_conv2d_bias_add_relu_requantize", "cycles": 2516}]}
/// ```
///
/// `latency` is the first sample's cycles from `start` to `done`, `latency_max` the
/// slowest sample's, `steady` the cycles between starts over the batch (the latency plus
/// one: the testbench starts the next image right after `done`); with `"frame": true`
/// (a frame pipeline's top, stages concurrent) `latency` counts from when the top took
/// the image, and `steady` is the cycles between the first and the last result over the
/// batch.
#[derive(Clone, Debug, PartialEq)]
pub struct SimRecord {
    pub top: String,
    pub samples: u64,
    pub first_output: u64,
    pub latency: u64,
    pub latency_max: u64,
    pub steady: f64,
    /// The top was a frame pipeline (its stages concurrent).
    pub frame: bool,
    pub total: u64,
    pub build_seconds: f64,
    pub sim_seconds: f64,
    /// The top's calls in the first sample: the callee's module and its cycles from its
    /// start pulse to its done (summed when a call runs several times).
    pub calls: Vec<(String, u64)>,
}

impl SimRecord {
    pub fn to_json(&self) -> String {
        let v = serde_json::json!({
            "tool": "verilator",
            "top": self.top,
            "samples": self.samples,
            "first_output": self.first_output,
            "latency": self.latency,
            "latency_max": self.latency_max,
            "steady": self.steady,
            "frame": self.frame,
            "total": self.total,
            "build_seconds": (self.build_seconds * 10.0).round() / 10.0,
            "sim_seconds": (self.sim_seconds * 100.0).round() / 100.0,
            "calls": self.calls.iter().map(|(m, n)| serde_json::json!({"module": m, "cycles": n})).collect::<Vec<_>>(),
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    pub fn from_json(text: &str) -> Result<SimRecord, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let o = v.as_object().ok_or("not a JSON object")?;
        if o.get("tool").and_then(|t| t.as_str()) != Some("verilator") {
            return Err("`tool` is not \"verilator\"".into());
        }
        let int = |k: &str| {
            o.get(k)
                .and_then(serde_json::Value::as_u64)
                .ok_or(format!("`{k}` is missing or not a non-negative integer"))
        };
        let num = |k: &str| {
            o.get(k)
                .and_then(serde_json::Value::as_f64)
                .ok_or(format!("`{k}` is missing or not a number"))
        };
        let r = SimRecord {
            top: o
                .get("top")
                .and_then(|t| t.as_str())
                .ok_or("`top` is missing or not a string")?
                .to_string(),
            samples: int("samples")?,
            first_output: int("first_output")?,
            latency: int("latency")?,
            latency_max: int("latency_max")?,
            steady: num("steady")?,
            frame: o
                .get("frame")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            total: int("total")?,
            build_seconds: num("build_seconds")?,
            sim_seconds: num("sim_seconds")?,
            calls: match o.get("calls") {
                None => Vec::new(),
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .map(|c| {
                        Some((
                            c.get("module")?.as_str()?.to_string(),
                            c.get("cycles")?.as_u64()?,
                        ))
                    })
                    .collect::<Option<Vec<_>>>()
                    .ok_or("`calls` holds an entry without `module` and `cycles`")?,
                Some(_) => return Err("`calls` is not an array".into()),
            },
        };
        if r.latency_max < r.latency || r.samples == 0 {
            return Err("`latency_max` is below `latency`, or `samples` is 0".into());
        }
        Ok(r)
    }

    /// Reads `rtlsim.json` from a design directory (or the file itself).
    pub fn load(path: &Path) -> Result<SimRecord, String> {
        let file = if path.is_dir() {
            path.join(RECORD)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        SimRecord::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))
    }
}

/// The string value of `key` in the manifest.
fn manifest_string(text: &str, key: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get(key)?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sim_record_round_trips() {
        let r = SimRecord {
            top: "main".into(),
            samples: 8,
            first_output: 15788,
            latency: 16366,
            latency_max: 16366,
            steady: 16367.0,
            frame: false,
            total: 130935,
            build_seconds: 34.3,
            sim_seconds: 0.43,
            calls: vec![("lenet_conv".into(), 2516)],
        };
        assert_eq!(SimRecord::from_json(&r.to_json()).unwrap(), r);
        let bad = r
            .to_json()
            .replace("\"latency_max\": 16366", "\"latency_max\": 3");
        assert!(SimRecord::from_json(&bad).is_err());
        assert!(SimRecord::from_json("{}").is_err());
    }

    #[test]
    fn manifest_lists_are_read_and_paths_refused() {
        let t = "{\n  \"top\": \"m\",\n  \"sources\": [\"a.v\", \"b.v\"],\n  \"part\": null\n}";
        assert_eq!(
            manifest_strings(t, "sources"),
            Some(vec!["a.v".to_string(), "b.v".to_string()])
        );
        assert_eq!(
            manifest_strings("{\"sources\": [\"../x.v\"]}", "sources"),
            None
        );
        assert_eq!(manifest_strings("{\"sources\": 3}", "sources"), None);
        assert_eq!(manifest_strings("{}", "sources"), None);
    }
}
