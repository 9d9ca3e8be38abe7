//! `synth.json`: what `kiln synth` measured with yosys, written next to the design and
//! read back by whoever compares kiln's estimate with it; and [`comparison`], the
//! "measured (yosys)" columns `kiln report` can print next to its estimate.
//!
//! The file (one JSON object; counts are cells of the mapped netlist):
//!
//! ```json
//! {
//!   "tool": "yosys", "version": "Yosys 0.23 (git sha1 7ce5011c24b)",
//!   "top": "mac", "family": "xc7", "part": "xc7z020clg400-1",
//!   "lut": 0, "lut_by_size": [0, 0, 0, 0, 0, 0], "ff": 0, "latch": 0, "carry": 0,
//!   "muxf": 0, "dsp": 1, "ramb18": 0, "ramb36": 0, "bram18": 0, "uram": 0,
//!   "lutram": 0, "srl": 0,
//!   "longest_path": {"levels": 1, "from": "rst", "to": "acc[0]"},
//!   "cells": {"DSP48E1": 1}, "seconds": 5.1
//! }
//! ```
//!
//! `part` is null when the family came from the manifest alone; `bram18` is `ramb18 + 2 ·
//! ramb36`; `longest_path.levels` is a logic depth (cells between registers), not a
//! delay (src/yosys.rs, docs/rtl-synthesis.md).

use crate::yosys::{Counts, LongestPath};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// The file name of the record in a design's directory.
pub const FILE: &str = "synth.json";

/// One synthesis run's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// The version line of the tool (`Yosys 0.23 (git sha1 ...)`).
    pub version: String,
    pub top: String,
    /// yosys' family name (xc7, xcu, xcup).
    pub family: String,
    pub part: Option<String>,
    pub counts: Counts,
    pub longest_path: Option<LongestPath>,
    /// Every cell type of the netlist and its count.
    pub cells: BTreeMap<String, u64>,
    /// Wall time of the synthesis.
    pub seconds: f64,
}

impl Measured {
    /// The record as `synth.json` holds it (pretty-printed, ending with a newline).
    pub fn to_json(&self) -> String {
        let c = &self.counts;
        let v = json!({
            "tool": "yosys",
            "version": self.version,
            "top": self.top,
            "family": self.family,
            "part": self.part,
            "lut": c.lut(),
            "lut_by_size": c.lut_by_size,
            "ff": c.ff,
            "latch": c.latch,
            "carry": c.carry,
            "muxf": c.muxf,
            "dsp": c.dsp,
            "ramb18": c.ramb18,
            "ramb36": c.ramb36,
            "bram18": c.bram18(),
            "uram": c.uram,
            "lutram": c.lutram,
            "srl": c.srl,
            "longest_path": self.longest_path.as_ref().map(|p| json!({
                "levels": p.levels, "from": p.from, "to": p.to,
            })),
            "cells": self.cells,
            "seconds": (self.seconds * 1000.0).round() / 1000.0,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads a record back. The cell counts come from `cells` (re-sorted into classes, so
    /// the two cannot disagree); the per-class fields are checked against them.
    pub fn from_json(text: &str) -> Result<Measured, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let obj = v.as_object().ok_or("not a JSON object")?;
        let string = |k: &str| -> Result<String, String> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or(format!("`{k}` is missing or not a string"))
        };
        if string("tool")? != "yosys" {
            return Err("`tool` is not \"yosys\"".into());
        }
        let cells_v = obj
            .get("cells")
            .and_then(Value::as_object)
            .ok_or("`cells` is missing or not an object")?;
        let mut cells = BTreeMap::new();
        for (k, n) in cells_v {
            let n = n
                .as_u64()
                .ok_or(format!("`cells.{k}` is not a non-negative integer"))?;
            cells.insert(k.clone(), n);
        }
        let counts = crate::yosys::classify(&cells);
        let expected = [
            ("lut", counts.lut()),
            ("ff", counts.ff),
            ("dsp", counts.dsp),
            ("bram18", counts.bram18()),
            ("carry", counts.carry),
        ];
        for (k, want) in expected {
            match obj.get(k).and_then(Value::as_u64) {
                Some(got) if got == want => {}
                Some(got) => return Err(format!("`{k}` is {got} but `cells` add up to {want}")),
                None => return Err(format!("`{k}` is missing or not an integer")),
            }
        }
        let part = match obj.get("part") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("`part` is not a string or null".into()),
        };
        let longest_path = match obj.get("longest_path") {
            None | Some(Value::Null) => None,
            Some(Value::Object(p)) => Some(path_from(p)?),
            Some(_) => return Err("`longest_path` is not an object or null".into()),
        };
        let seconds = obj
            .get("seconds")
            .and_then(Value::as_f64)
            .ok_or("`seconds` is missing or not a number")?;
        Ok(Measured {
            version: string("version")?,
            top: string("top")?,
            family: string("family")?,
            part,
            counts,
            longest_path,
            cells,
            seconds,
        })
    }

    /// Reads `synth.json` (a file, or the design directory holding it).
    pub fn load(path: &Path) -> Result<Measured, String> {
        let file = if path.is_dir() {
            path.join(FILE)
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        Measured::from_json(&text).map_err(|e| format!("{}: {e}", file.display()))
    }
}

fn path_from(p: &Map<String, Value>) -> Result<LongestPath, String> {
    let text = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(format!("`longest_path.{k}` is missing or not a string"))
    };
    Ok(LongestPath {
        levels: p
            .get("levels")
            .and_then(Value::as_u64)
            .ok_or("`longest_path.levels` is missing or not an integer")?,
        from: text("from")?,
        to: text("to")?,
    })
}

/// kiln's estimate of a design (the top's totals `kiln report` prints).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimated {
    /// DSP slices (fractional: kiln shares a DSP between narrow products).
    pub dsp: f64,
    pub bram18: u64,
    pub lut: u64,
}

impl From<kiln_passes::estimate::Resources> for Estimated {
    fn from(r: kiln_passes::estimate::Resources) -> Estimated {
        Estimated {
            dsp: r.dsp,
            bram18: r.bram18,
            lut: r.lut,
        }
    }
}

/// The estimate of a module's entry (the `top` line of `kiln report`), `None` for a
/// module without one.
pub fn top_estimate(module: &kiln_passes::Module) -> Option<Estimated> {
    let entry = module.entry?;
    kiln_passes::estimate::estimate(module)
        .into_iter()
        .find(|(id, _)| *id == entry)
        .map(|(_, e)| e.res.into())
}

/// The relative error of an estimate against a measurement, `+12%`; `-` when the
/// measurement is 0 and the estimate is not (no meaningful ratio).
fn error_text(est: f64, measured: u64) -> String {
    if measured == 0 {
        return if est == 0.0 { "0%".into() } else { "-".into() };
    }
    let e = 100.0 * (est - measured as f64) / measured as f64;
    if e.abs() < 0.5 {
        "0%".into()
    } else {
        format!("{e:+.0}%")
    }
}

/// The estimate and the measurement side by side, with the estimate's error relative to
/// the measurement: DSP, BRAM18 (RAMB36 counted as two), LUT; then the figures kiln does
/// not estimate apart (FF, CARRY, distributed RAM, the longest path), and a note for
/// each known reason the two designs differ (`frame`: the design's top is a frame
/// pipeline, [`is_frame_pipeline`]). For `kiln report --measured DIR`.
pub fn comparison(est: &Estimated, m: &Measured, frame: bool) -> String {
    let c = &m.counts;
    let version = m
        .version
        .split(" (")
        .next()
        .unwrap_or(&m.version)
        .to_string();
    let mut s = format!(
        "\nmeasured ({version}, synth_xilinx -family {}, top `{}`):\n",
        m.family, m.top
    );
    let _ = writeln!(
        s,
        "  {:<10} {:>10} {:>18} {:>7}",
        "resource", "estimate", "measured (yosys)", "error"
    );
    let dsp_est = if est.dsp.fract() == 0.0 {
        format!("{}", est.dsp)
    } else {
        format!("{:.1}", est.dsp)
    };
    let rows = [
        ("DSP", dsp_est, c.dsp, error_text(est.dsp, c.dsp)),
        (
            "BRAM18",
            est.bram18.to_string(),
            c.bram18(),
            error_text(est.bram18 as f64, c.bram18()),
        ),
        (
            "LUT",
            est.lut.to_string(),
            c.lut(),
            error_text(est.lut as f64, c.lut()),
        ),
    ];
    for (name, e, meas, err) in rows {
        let _ = writeln!(s, "  {name:<10} {e:>10} {meas:>18} {err:>7}");
    }
    for (name, meas) in [("FF", c.ff), ("CARRY", c.carry), ("LUTRAM", c.lutram)] {
        let _ = writeln!(s, "  {name:<10} {:>10} {meas:>18}", "-");
    }
    if let Some(p) = &m.longest_path {
        let _ = writeln!(
            s,
            "  {:<10} {:>10} {:>18}",
            "levels",
            "-",
            format!("{} cells", p.levels)
        );
    }
    if est.bram18 > c.bram18() {
        s.push_str(
            "  (BRAM18: the estimate's arrays over 1 Kbit are block RAM; kiln's RTL makes one block\n   \
             RAM when it has one write port and every read takes its address from registers\n   \
             (docs/rtl.md, \"Block RAM\"); a bank that several stores of an iteration reach, or\n   \
             a memory read at a data-dependent address, is distributed RAM or logic in yosys)\n",
        );
    }
    if est.dsp < c.dsp as f64 {
        s.push_str(
            "  (DSP: the estimate puts any two products of at most 8 x 8 bits in one DSP48 and\n   \
             shares a DSP among the products of a pipeline with II > 1, as the HLS tool does;\n   \
             kiln's RTL packs only two that share an operand, and shares none:\n   \
             docs/rtl-synthesis.md, \"DSP inference\")\n",
        );
    }
    if frame && (c.lutram > 0 || c.bram18() > est.bram18) {
        s.push_str(
            "  (LUTRAM, BRAM18: the RTL's frame pipeline holds two images of each feature map
   \
             between its stages, whole or as rings of rows (docs/rtl.md, \"Line buffers\"),
   \
             and whole buffers inside a stage; the estimate's layer pipeline holds line
   \
             buffers and FIFOs, as the HLS design does: docs/rtl.md, \"Frame pipeline\")\n",
        );
    }
    s
}

/// Whether the design in DIR has a frame pipeline for its top (`kiln_rtl.json`'s
/// `dataflow`).
pub fn is_frame_pipeline(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(kiln_rtl::MANIFEST))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("dataflow")?.as_bool())
        .unwrap_or(false)
}

/// The RTL back end's own resource figure of the sequential design it built
/// (`kiln rtl --no-pipeline`): `kiln_rtl.json`'s `model` (backends/rtl/src/cost.rs).
#[derive(Clone, Debug, PartialEq)]
pub struct RtlModel {
    pub lut: u64,
    pub dsp: u64,
    pub lutram: u64,
    /// Block RAM in RAMB18 equivalents (0 in manifests written before it was modelled).
    pub bram18: u64,
    /// The LUTs by where they go: operators, addresses, memories, control.
    pub parts: [u64; 4],
}

/// The model recorded in DIR's manifest; `None` for a pipelined design (not modelled)
/// or a manifest without one.
pub fn load_model(dir: &Path) -> Option<RtlModel> {
    let text = std::fs::read_to_string(dir.join(kiln_rtl::MANIFEST)).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let m = v.get("model")?.as_object()?;
    let get = |k: &str| m.get(k).and_then(Value::as_u64);
    Some(RtlModel {
        lut: get("lut")?,
        dsp: get("dsp")?,
        lutram: get("lutram")?,
        bram18: get("bram18").unwrap_or(0),
        parts: [
            get("operators")?,
            get("addresses")?,
            get("memories")?,
            get("control")?,
        ],
    })
}

/// The RTL's model of the design it built beside yosys' counts of it: LUT, DSP48 and
/// distributed-RAM cells, with the model's error.
pub fn model_comparison(model: &RtlModel, m: &Measured) -> String {
    let c = &m.counts;
    let mut s = String::from(
        "
the sequential design as the RTL builds it (its resource model, docs/rtl-synthesis.md):
",
    );
    let _ = writeln!(
        s,
        "  {:<10} {:>10} {:>18} {:>7}",
        "resource", "model", "measured (yosys)", "error"
    );
    for (name, e, meas) in [
        ("LUT", model.lut, c.lut()),
        ("DSP", model.dsp, c.dsp),
        ("LUTRAM", model.lutram, c.lutram),
        ("BRAM18", model.bram18, c.bram18()),
    ] {
        let _ = writeln!(
            s,
            "  {name:<10} {e:>10} {meas:>18} {:>7}",
            error_text(e as f64, meas)
        );
    }
    let [o, a, mem, ctl] = model.parts;
    let _ = writeln!(
        s,
        "  (LUT: operators {o}, addresses {a}, memories {mem}, control {ctl})"
    );
    s
}

/// The estimate's cycles of a design and of each node of its top, as `kiln report`
/// prints them, and the same without the stream I/O (the cycles a row stage spends
/// moving its input into line buffers and its result out, and a frame stage copying its
/// FIFOs), which the HLS design does and the RTL does not: its calls read and write the
/// caller's memories in place. The second is the RTL-specific figure, from the same
/// model of the same schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct CycleEstimate {
    /// The top line: the sum of the top's nodes, one after another.
    pub total: u64,
    pub total_no_io: u64,
    /// Each node of the top (in schedule order): its name, whether it is a call, its
    /// cycles and its cycles without stream I/O.
    pub nodes: Vec<(String, bool, u64, u64)>,
    /// The first image through a frame pipeline whose stages start on their producers'
    /// rows, as the RTL builds it (kiln_rtl::rows::first_image_cycles), without stream
    /// I/O; `None` where that model does not apply.
    pub first_image_no_io: Option<u64>,
}

/// [`CycleEstimate`] of a module's entry.
pub fn cycle_estimate(module: &kiln_passes::Module) -> Option<CycleEstimate> {
    let entry = module.entry?;
    let all = kiln_passes::estimate::estimate(module);
    let find = |id| all.iter().find(|(i, _)| *i == id).map(|(_, e)| e);
    let io_of = |e: &kiln_passes::estimate::InstanceEstimate| -> u64 {
        e.nodes
            .iter()
            .filter(|n| n.callee.is_none() && n.name == "stream I/O")
            .map(|n| n.cycles)
            .sum()
    };
    let top = find(entry)?;
    let mut nodes = Vec::new();
    let mut total_no_io = 0u64;
    for n in &top.nodes {
        let no_io = match n.callee.and_then(find) {
            Some(c) => c.cycles.saturating_sub(io_of(c)),
            None if n.name == "stream I/O" => 0,
            None => n.cycles,
        };
        total_no_io = total_no_io.saturating_add(no_io);
        nodes.push((n.name.clone(), n.callee.is_some(), n.cycles, no_io));
    }
    Some(CycleEstimate {
        total: top.cycles,
        total_no_io,
        nodes,
        first_image_no_io: kiln_rtl::rows::first_image_cycles(module, &all),
    })
}

/// The signed relative error of `est` against `measured` with one decimal: `+2.5%`.
pub fn cycle_error(est: u64, measured: u64) -> String {
    if measured == 0 {
        return "-".into();
    }
    format!(
        "{:+.1}%",
        100.0 * (est as f64 - measured as f64) / measured as f64
    )
}

/// The estimate's cycles per image beside Verilator's (`kiln rtlsim`'s `rtlsim.json`):
/// the whole design (the slowest sample's cycles from `start` to `done`) and each call
/// of the top (the first sample's), with the error of the estimate and of its
/// RTL-specific figure (no stream I/O).
pub fn cycles_comparison(est: &CycleEstimate, r: &crate::rtlsim::SimRecord) -> String {
    let mut s = format!(
        "\nmeasured (Verilator, top `{}`, {} sample{}, every result bit-exact):\n",
        r.top,
        r.samples,
        if r.samples == 1 { "" } else { "s" }
    );
    let row = |s: &mut String, what: &str, e: u64, e2: u64, m: u64| {
        let _ = writeln!(
            s,
            "  {what:<60} {e:>9} {e2:>9} {m:>10} {:>8} {:>8}",
            cycle_error(e, m),
            cycle_error(e2, m)
        );
    };
    let _ = writeln!(
        s,
        "  {:<60} {:>9} {:>9} {:>10} {:>8} {:>8}",
        "cycles per image", "estimate", "no I/O", "verilator", "error", "no I/O"
    );
    if r.frame {
        // A frame pipeline: a result every slowest stage; one image through all of them.
        let slowest = |f: fn(&(String, bool, u64, u64)) -> u64| {
            est.nodes.iter().filter(|n| n.1).map(f).max().unwrap_or(0)
        };
        if r.samples > 1 {
            row(
                &mut s,
                "frame pipeline, steady state (the slowest stage)",
                slowest(|n| n.2),
                slowest(|n| n.3),
                r.steady.round() as u64,
            );
        }
        // Stages that start on their producers' rows (backends/rtl/src/rows.rs) take
        // less than the sum: the RTL's own model of that is the no-I/O figure.
        match est.first_image_no_io.filter(|&f| f != est.total_no_io) {
            Some(f) => row(
                &mut s,
                "the first image (taken to done; stages start on rows)",
                est.total,
                f,
                r.latency,
            ),
            None => row(
                &mut s,
                "the first image through every stage (taken to done)",
                est.total,
                est.total_no_io,
                r.latency,
            ),
        }
    } else {
        row(
            &mut s,
            "sequential stages, as the RTL builds them (start to done)",
            est.total,
            est.total_no_io,
            r.latency_max,
        );
    }
    // The top's calls in order; a callee's module is `TOP_INSTANCE`.
    let mut used = vec![false; r.calls.len()];
    for (name, is_call, e, e2) in &est.nodes {
        if !is_call {
            continue;
        }
        let module = format!("{}_{}", r.top, kiln_rtl::ident(name));
        if let Some(k) = (0..r.calls.len()).find(|&k| !used[k] && r.calls[k].0 == module) {
            used[k] = true;
            row(&mut s, &format!("  call {name}"), *e, *e2, r.calls[k].1);
        }
    }
    let _ = writeln!(
        s,
        "  (no I/O: the estimate without the stream I/O of row and frame stages, which the RTL\n   does not do: its calls read and write the caller's memories in place)"
    );
    let _ = writeln!(
        s,
        "  first output {} cycles; steady state over the batch {:.0} cycles per image",
        r.first_output, r.steady
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Measured {
        let cells: BTreeMap<String, u64> = [
            ("LUT2", 3),
            ("LUT6", 7),
            ("FDRE", 20),
            ("CARRY4", 2),
            ("DSP48E1", 4),
            ("RAMB18E1", 1),
            ("RAMB36E1", 1),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        Measured {
            version: "Yosys 0.23 (git sha1 7ce5011c24b)".into(),
            top: "k".into(),
            family: "xc7".into(),
            part: Some("xc7z020clg400-1".into()),
            counts: crate::yosys::classify(&cells),
            longest_path: Some(LongestPath {
                levels: 5,
                from: "a[0]".into(),
                to: "acc[7]".into(),
            }),
            cells,
            seconds: 1.25,
        }
    }

    #[test]
    fn round_trips_through_json() {
        let m = sample();
        let text = m.to_json();
        assert!(text.contains("\"bram18\": 3"), "{text}");
        assert_eq!(Measured::from_json(&text).unwrap(), m);
    }

    #[test]
    fn rejects_records_that_contradict_their_cells() {
        let text = sample().to_json().replace("\"dsp\": 4", "\"dsp\": 5");
        let e = Measured::from_json(&text).unwrap_err();
        assert_eq!(e, "`dsp` is 5 but `cells` add up to 4");
        assert!(Measured::from_json("[]").is_err());
        assert!(Measured::from_json("{")
            .unwrap_err()
            .starts_with("not valid JSON"));
    }

    /// `top_estimate` is the `top` line `kiln report` prints, for the gemm example.
    #[test]
    fn top_estimate_is_the_reports_top_line() {
        use crate::session::{on_big_stack, prepare, Plan, Session};
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/gemm/gemm.kiln");
        let opts = crate::Options::default();
        let est = on_big_stack(|| {
            let mut s = Session::new(&opts);
            let plan = Plan::for_pipeline("fpga");
            let p = prepare(&mut s, &path, &crate::RunSpec::default(), true, &plan)
                .expect("gemm builds for the fpga pipeline");
            top_estimate(&p.module).expect("an entry")
        });
        let report = crate::report(
            &path,
            &crate::RunSpec::default(),
            &crate::ReportSpec::default(),
            &opts,
        );
        assert_eq!(report.code, 0, "{}", report.stderr);
        let top = report
            .stdout
            .lines()
            .find(|l| l.starts_with("top "))
            .expect("a top line");
        let tail = format!(", {} BRAM18, {} LUT", est.bram18, est.lut);
        assert!(top.ends_with(&tail), "{top} vs {est:?}");
        assert!(est.dsp > 0.0, "gemm multiplies: {est:?}");
    }

    #[test]
    fn cycles_columns() {
        let r = crate::rtlsim::SimRecord {
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
            calls: Vec::new(),
        };
        let est = CycleEstimate {
            total: 16776,
            total_no_io: 11000,
            nodes: vec![
                ("scale_arg".into(), false, 1, 1),
                ("conv".into(), true, 5057, 2545),
            ],
            first_image_no_io: None,
        };
        let mut r = r;
        r.calls = vec![("main_conv".into(), 2516)];
        let text = cycles_comparison(&est, &r);
        let total = text
            .lines()
            .find(|l| l.contains("sequential stages, as the RTL builds them (start to done)"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            total.ends_with("16776     11000      16366    +2.5%   -32.8%"),
            "{total}"
        );
        let call = text
            .lines()
            .find(|l| l.contains("call conv"))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(
            call.ends_with("5057      2545       2516  +101.0%    +1.2%"),
            "{call}"
        );
        assert_eq!(cycle_error(90, 100), "-10.0%");
        assert_eq!(cycle_error(1, 0), "-");
        // A frame pipeline: a result every slowest stage, and the first image's latency.
        r.frame = true;
        r.steady = 2600.0;
        r.latency = 5100;
        let est = CycleEstimate {
            nodes: vec![
                ("conv".into(), true, 5057, 2545),
                ("dense".into(), true, 1580, 1516),
            ],
            ..est
        };
        let text = cycles_comparison(&est, &r);
        let row = |key: &str| {
            text.lines()
                .find(|l| l.contains(key))
                .unwrap_or_else(|| panic!("{key}: {text}"))
                .to_string()
        };
        assert!(
            row("frame pipeline, steady state (the slowest stage)")
                .ends_with("5057      2545       2600   +94.5%    -2.1%"),
            "{text}"
        );
        assert!(
            row("the first image through every stage").contains("16776     11000       5100"),
            "{text}"
        );
        assert!(!text.contains("sequential stages"), "{text}");
        // Stages that start on their producers' rows: the RTL's model of that.
        let est = CycleEstimate {
            first_image_no_io: Some(5000),
            ..est
        };
        let text = cycles_comparison(&est, &r);
        assert!(
            text.lines()
                .find(|l| l.contains("the first image (taken to done; stages start on rows)"))
                .is_some_and(|l| l.ends_with("16776      5000       5100  +228.9%    -2.0%")),
            "{text}"
        );
    }

    #[test]
    fn comparison_columns() {
        let est = Estimated {
            dsp: 5.0,
            bram18: 3,
            lut: 8,
        };
        let text = comparison(&est, &sample(), false);
        let expected = "
measured (Yosys 0.23, synth_xilinx -family xc7, top `k`):
  resource     estimate   measured (yosys)   error
  DSP                 5                  4    +25%
  BRAM18              3                  3      0%
  LUT                 8                 10    -20%
  FF                  -                 20
  CARRY               -                  2
  LUTRAM              -                  0
  levels              -            5 cells
";
        assert_eq!(text, expected);
        // The known differences are named.
        let mut m = sample();
        m.counts.lutram = 12;
        let notes = comparison(
            &Estimated {
                dsp: 2.5,
                bram18: 5,
                lut: 8,
            },
            &m,
            true,
        );
        assert!(
            notes.contains("  LUTRAM              -                 12\n"),
            "{notes}"
        );
        assert!(
            notes.contains("(LUTRAM, BRAM18: the RTL's frame pipeline holds two images"),
            "{notes}"
        );
        assert!(
            notes.contains("(BRAM18: the estimate's arrays over 1 Kbit"),
            "{notes}"
        );
        assert!(
            notes.contains("(DSP: the estimate puts any two products"),
            "{notes}"
        );
        // A frame pipeline's whole images in block RAM beyond the estimate's (sample():
        // 3 BRAM18) are named too, with no distributed RAM.
        let frames = comparison(
            &Estimated {
                dsp: 4.0,
                bram18: 2,
                lut: 10,
            },
            &sample(),
            true,
        );
        assert!(
            frames.contains("(LUTRAM, BRAM18: the RTL's frame pipeline"),
            "{frames}"
        );
        assert!(
            !text.contains("(BRAM18") && !text.contains("(DSP") && !text.contains("(LUTRAM"),
            "{text}"
        );
        assert_eq!(error_text(2.0, 0), "-");
        assert_eq!(error_text(0.0, 0), "0%");
        assert_eq!(error_text(0.5, 1), "-50%");
    }
}
