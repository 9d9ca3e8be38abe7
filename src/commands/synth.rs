//! `kiln synth DIR [--part P]`: synthesizes the Verilog `kiln rtl` wrote into DIR with
//! yosys' `synth_xilinx` and reports the cells Vivado's utilization report would name
//! (LUT, FF, CARRY, DSP48, RAMB18/36) and the longest combinational path in logic levels.
//!
//! DIR holds the manifest `kiln_rtl.json`: `{"top": NAME, "sources": [FILE, ...],
//! "part": PART|null, "family": "xc7"|"xcu"|"xcup"|null, ...}` (sources relative to DIR;
//! other keys are ignored but `"pipeline": true`, which leaves out yosys' `share` pass:
//! src/yosys.rs). The family is that of `--part` when given, else the
//! manifest's `family`, else that of its `part`, else that of kiln's default part (said on
//! stderr). yosys runs in DIR (src/yosys.rs: the script, the run, what is read back);
//! the figures are written to DIR/synth.json (src/measured.rs) and printed as a table,
//! the synthesis time on stderr.
//!
//! Every failure is a diagnostic and exit code 1: no directory or manifest, a manifest
//! that is not what `kiln rtl` writes, a missing source (E0620); a part of no family
//! kiln knows (E0516); yosys not installed (E0620, with how to install it); yosys'
//! errors (E0620, with the end of its log).

use crate::measured::{Measured, FILE as SYNTH_JSON};
use crate::yosys::{self, Family, Job};
use crate::Outcome;
use kiln_lang::diag::{codes, Code};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// The manifest `kiln rtl` writes into its output directory.
pub const MANIFEST: &str = "kiln_rtl.json";

const DIR_HELP: &str =
    "`kiln synth DIR` takes a directory written by `kiln rtl FILE -o DIR` (it holds kiln_rtl.json)";

const INSTALL_HELP: &str = "install yosys 0.23 or later (Debian/Ubuntu: `sudo apt-get \
    install yosys`; or a YosysHQ OSS CAD Suite build), or set KILN_YOSYS to the yosys \
    program";

/// A failure: `[CODE] error: message`, then `help: ...`.
struct Failure {
    code: Code,
    message: String,
    help: Option<String>,
}

impl Failure {
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            code: codes::SYNTH_FAILED,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "[{}] error: {}", self.code.id, self.message);
        if let Some(h) = &self.help {
            let _ = writeln!(out, "help: {h}");
        }
    }
}

/// What the manifest says.
struct Manifest {
    top: String,
    sources: Vec<String>,
    part: Option<String>,
    family: Option<String>,
    /// `"pipeline": true`: chained iterations (docs/rtl.md), synthesized without yosys'
    /// `share` pass ([`Job::share`]).
    pipeline: bool,
}

/// `kiln synth DIR [--part P]`.
pub fn synth(dir: &Path, part: Option<&str>) -> Outcome {
    let mut out = Outcome::default();
    match run(dir, part, &mut out) {
        Ok(()) => out.code = 0,
        Err(f) => {
            f.render(&mut out.stderr);
            out.code = 1;
        }
    }
    out
}

fn run(dir: &Path, part_arg: Option<&str>, out: &mut Outcome) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(Failure::new(format!("{}: no such directory", dir.display())).help(DIR_HELP));
    }
    let manifest = read_manifest(dir)?;
    let (family, part) = choose_family(dir, part_arg, &manifest, out)?;
    for src in &manifest.sources {
        if !dir.join(src).is_file() {
            return Err(Failure::new(format!(
                "{} lists the source `{src}`, which is not a file in {}",
                dir.join(MANIFEST).display(),
                dir.display()
            ))
            .help(DIR_HELP));
        }
    }
    let job = Job {
        top: manifest.top.clone(),
        sources: manifest.sources.clone(),
        family,
        share: !manifest.pipeline,
    };
    if manifest.pipeline {
        let _ = writeln!(
            out.stderr,
            "note: a pipelined design (chained iterations): synthesized without yosys' `share` pass (docs/rtl-synthesis.md)"
        );
    }
    let program = yosys::program();
    let result = yosys::run(dir, &job, &program).map_err(|e| yosys_failure(dir, e))?;
    let counts = yosys::classify(&result.cells);
    for w in result.warnings.iter().take(5) {
        let _ = writeln!(out.stderr, "warning: yosys: {w}");
    }
    if result.warnings.len() > 5 {
        let _ = writeln!(
            out.stderr,
            "warning: yosys: {} more warnings in {}",
            result.warnings.len() - 5,
            dir.join(yosys::LOG).display()
        );
    }
    if !counts.unmapped.is_empty() {
        let list: Vec<String> = counts
            .unmapped
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        let _ = writeln!(
            out.stderr,
            "warning: synth_xilinx left cells unmapped ({}): they are not counted as LUTs",
            list.join(", ")
        );
    }
    if counts.latch > 0 {
        let _ = writeln!(
            out.stderr,
            "warning: the design has {} latch(es) (LDCE/LDPE): a signal is not assigned on \
             every path of a combinational block",
            counts.latch
        );
    }
    let measured = Measured {
        version: result.version.clone(),
        top: manifest.top.clone(),
        family: family.name().to_string(),
        part: part.clone(),
        counts,
        longest_path: result.longest_path.clone(),
        cells: result.cells.clone(),
        seconds: result.seconds,
    };
    let json_path = dir.join(SYNTH_JSON);
    std::fs::write(&json_path, measured.to_json()).map_err(|e| Failure {
        code: codes::WRITE_FAILED,
        ..Failure::new(format!("cannot write {}: {e}", json_path.display()))
    })?;
    out.stdout.push_str(&table(&measured, family));
    if let Some(model) = crate::measured::load_model(dir) {
        out.stdout
            .push_str(&crate::measured::model_comparison(&model, &measured));
    }
    let _ = writeln!(
        out.stderr,
        "synth: yosys {:.2} s; wrote {}",
        result.seconds,
        json_path.display()
    );
    Ok(())
}

/// Reads and checks DIR/kiln_rtl.json.
fn read_manifest(dir: &Path) -> Result<Manifest, Failure> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Failure::new(format!("{} has no {MANIFEST}", dir.display())).help(DIR_HELP))
        }
        Err(e) => return Err(Failure::new(format!("cannot read {}: {e}", path.display()))),
    };
    let bad = |what: String| {
        Failure::new(format!("{}: {what}", path.display())).help(format!(
            "{MANIFEST} is {{\"top\": MODULE, \"sources\": [FILE.v, ...], \"part\": PART or \
             null, \"family\": \"xc7\", \"xcu\", \"xcup\" or null}}, sources relative to its \
             directory"
        ))
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("not a JSON object".into()))?;
    let top = match obj.get("top") {
        Some(Value::String(s)) if yosys::verilog_identifier(s) => s.clone(),
        Some(Value::String(s)) => {
            return Err(bad(format!(
                "`top` is `{s}`, which is not a Verilog module name"
            )))
        }
        _ => return Err(bad("`top` is missing or not a string".into())),
    };
    let sources = match obj.get("sources") {
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut sources = Vec::new();
            for item in items {
                match item.as_str() {
                    Some(s) if yosys::script_safe_path(s) => sources.push(s.to_string()),
                    Some(s) => {
                        return Err(bad(format!(
                            "the source name {s:?} has a blank, quote, `;`, `#` or backslash, \
                             which kiln does not pass to yosys"
                        )))
                    }
                    None => return Err(bad(format!("`sources` holds {item}, not a file name"))),
                }
            }
            sources
        }
        Some(Value::Array(_)) => return Err(bad("`sources` is empty".into())),
        _ => {
            return Err(bad(
                "`sources` is missing or not an array of file names".into()
            ))
        }
    };
    let opt_string = |k: &str| match obj.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(bad(format!("`{k}` is {other}, not a string or null"))),
    };
    Ok(Manifest {
        top,
        sources,
        part: opt_string("part")?,
        family: opt_string("family")?,
        pipeline: matches!(obj.get("pipeline"), Some(Value::Bool(true))),
    })
}

/// E0516 for a part of no family kiln synthesizes for.
fn unknown_part(part: &str, whose: &str) -> Failure {
    Failure {
        code: codes::UNKNOWN_TARGET,
        ..Failure::new(format!(
            "{whose} `{part}` is of no Xilinx family yosys synthesizes for"
        ))
        .help(yosys::FAMILIES_HELP)
    }
}

/// The family to synthesize for and the part it came from, if any.
fn choose_family(
    dir: &Path,
    part_arg: Option<&str>,
    m: &Manifest,
    out: &mut Outcome,
) -> Result<(Family, Option<String>), Failure> {
    let manifest = dir.join(MANIFEST);
    let manifest = manifest.display();
    let manifest_family = match &m.family {
        Some(name) => Some(Family::parse(name).ok_or_else(|| {
            Failure::new(format!(
                "{manifest}: `family` is `{name}`, not one of xc7, xcu, xcup"
            ))
            .help(yosys::FAMILIES_HELP)
        })?),
        None => None,
    };
    if let Some(p) = part_arg {
        let f = Family::of_part(p).ok_or_else(|| unknown_part(p, "the part"))?;
        if let Some(mf) = manifest_family.filter(|&mf| mf != f) {
            let _ = writeln!(
                out.stderr,
                "note: --part {p} ({}) overrides the manifest's family {}",
                f.name(),
                mf.name()
            );
        }
        return Ok((f, Some(p.to_string())));
    }
    let part_family = match &m.part {
        Some(p) => Some(
            Family::of_part(p).ok_or_else(|| unknown_part(p, &format!("{manifest}: the part")))?,
        ),
        None => None,
    };
    match (manifest_family, part_family) {
        (Some(f), Some(pf)) if f != pf => Err(Failure::new(format!(
            "{manifest}: the part `{}` is of family {}, but `family` says {}",
            m.part.as_deref().unwrap_or(""),
            pf.name(),
            f.name()
        ))
        .help("give `--part P` to choose")),
        (Some(f), _) | (None, Some(f)) => Ok((f, m.part.clone())),
        (None, None) => {
            let p = crate::DEFAULT_PART;
            // The default part is an UltraScale+ one; of_part knows it (a unit test checks).
            let f = Family::of_part(p).unwrap_or(Family::Xcup);
            let _ = writeln!(
                out.stderr,
                "note: neither --part nor {MANIFEST} names a part or family: synthesizing for \
                 kiln's default part {p} ({})",
                f.name()
            );
            Ok((f, Some(p.to_string())))
        }
    }
}

/// A synthesis failure as a diagnostic.
fn yosys_failure(dir: &Path, e: yosys::Error) -> Failure {
    match e {
        yosys::Error::NotInstalled(program) => Failure::new(format!(
            "cannot synthesize: yosys is not installed (`{program}` was not found)"
        ))
        .help(INSTALL_HELP),
        yosys::Error::CannotStart(program, err) => {
            Failure::new(format!("cannot run yosys (`{program}`): {err}")).help(INSTALL_HELP)
        }
        yosys::Error::Io(path, err) => Failure {
            code: codes::WRITE_FAILED,
            ..Failure::new(format!("cannot write {}: {err}", path.display()))
        },
        yosys::Error::Failed { how, tail } => {
            let tail: String = tail.lines().map(|l| format!("\n  {l}")).collect();
            Failure::new(format!("yosys {how}:{tail}")).help(format!(
                "the script is {}, the whole log {}",
                dir.join(yosys::SCRIPT).display(),
                dir.join(yosys::LOG).display()
            ))
        }
        yosys::Error::BadOutput(what) => Failure::new(format!(
            "yosys finished but kiln cannot read its results: {what}"
        ))
        .help("kiln reads the output of yosys 0.23; another version may print it differently"),
    }
}

/// The printed table.
fn table(m: &Measured, family: Family) -> String {
    let c = &m.counts;
    let dev = m.part.as_deref().and_then(kiln_passes::target::device);
    let share = |n: u64, of: Option<u32>| match of {
        Some(of) if of > 0 => format!("{:.1}% of {of}", 100.0 * n as f64 / of as f64),
        _ => String::new(),
    };
    // Notes joined by `; `, empty ones left out.
    let notes = |parts: &[String]| {
        parts
            .iter()
            .filter(|p| !p.is_empty())
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    };
    let types = |pred: &dyn Fn(&str) -> bool| {
        let names: Vec<String> = m
            .cells
            .iter()
            .filter(|(t, _)| pred(t))
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        names.join(", ")
    };
    let version = m.version.split(" (").next().unwrap_or(&m.version);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "synthesis of `{}` for {} ({}{}) with {version}",
        m.top,
        family.name(),
        family.describe(),
        m.part
            .as_deref()
            .map(|p| format!(", part {p}"))
            .unwrap_or_default()
    );
    let mut rows: Vec<(&str, u64, String)> = vec![
        (
            "LUT",
            c.lut(),
            notes(&[
                format!(
                    "LUT1..LUT6: {}",
                    c.lut_by_size.map(|n| n.to_string()).join(" ")
                ),
                share(c.lut(), dev.map(|d| d.lut)),
            ]),
        ),
        ("FF", c.ff, types(&|t: &str| t.starts_with("FD"))),
        ("CARRY", c.carry, types(&|t: &str| t.starts_with("CARRY"))),
        (
            "DSP48",
            c.dsp,
            notes(&[
                types(&|t: &str| t.starts_with("DSP48")),
                share(c.dsp, dev.map(|d| d.dsp)),
            ]),
        ),
        (
            "RAMB18",
            c.ramb18,
            types(&|t: &str| t.starts_with("RAMB18")),
        ),
        (
            "RAMB36",
            c.ramb36,
            types(&|t: &str| t.starts_with("RAMB36")),
        ),
        (
            "BRAM18",
            c.bram18(),
            notes(&[
                "RAMB18 + 2 x RAMB36".to_string(),
                share(c.bram18(), dev.map(|d| d.bram18)),
            ]),
        ),
    ];
    let optional = [
        ("MUXF7/8/9", c.muxf, "wide-function muxes of the slices"),
        ("LUTRAM", c.lutram, "distributed RAM cells"),
        ("SRL", c.srl, "shift registers in LUTs"),
        ("URAM", c.uram, ""),
        ("latch", c.latch, "LDCE/LDPE"),
    ];
    for (name, n, note) in optional {
        if n > 0 {
            rows.push((name, n, note.to_string()));
        }
    }
    for (t, n) in c.other.iter().chain(&c.unmapped) {
        rows.push((t.as_str(), *n, "other cell".to_string()));
    }
    let _ = writeln!(s, "  {:<14} {:>8}  note", "resource", "cells");
    for (name, n, note) in rows {
        let line = format!("  {name:<14} {n:>8}  {note}");
        let _ = writeln!(s, "{}", line.trim_end());
    }
    if let Some(p) = &m.longest_path {
        let note = if p.levels == 0 {
            "no logic between registers and ports".to_string()
        } else {
            // yosys' own nets (`$abc$...`) say nothing to a reader.
            let ends: Vec<String> = [("from", &p.from), ("to", &p.to)]
                .into_iter()
                .filter(|(_, n)| !n.is_empty() && !n.starts_with('$'))
                .map(|(w, n)| format!("{w} {n}"))
                .collect();
            let ends = if ends.is_empty() {
                String::new()
            } else {
                format!(" {}", ends.join(" "))
            };
            format!("logic levels (cells){ends}; a depth, not a delay")
        };
        let _ = writeln!(s, "  {:<14} {:>8}  {note}", "longest path", p.levels);
    }
    s
}
