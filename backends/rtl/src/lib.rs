//! kiln's RTL back end: synthesizable Verilog-2005 from the scheduled IR, and a
//! Verilator testbench that checks it against kiln's own results.
//!
//! [`emit`] turns a typed IR module (after the fpga pipeline) into the files of a design
//! directory (docs/rtl.md says why and how):
//! - one module per kernel instance (module.rs): a datapath (expr.rs: every expression a
//!   wire at its exact width; fixed.rs: the conversions with every Q/O mode) and a
//!   controller (control.rs: an FSM, one state per statement, loop counters as registers,
//!   calls as sub-module instances with start/done handshakes); tensors are memories (one
//!   per bank for partitioned ones, bank.rs; pipeline.rs: pipelined loops as one chained
//!   iteration per II cycles), constants ROMs read from hex files with `$readmemh`;
//! - `kiln_rtl.json`, the manifest (`top`, `sources`, `part`, `family`, `inputs`,
//!   `outputs`) that `kiln rtlsim` and `kiln synth` read;
//! - the testbench (testbench.rs): `kiln_tb.v`, its Verilator driver `kiln_tb_main.cpp`
//!   and the inputs and expected results as hex files, one element per line.
//!
//! What the RTL path cannot build (floats, math functions, a kernel writing its own
//! argument) is an E0720 diagnostic at the construct, never a fallback.

mod bank;
mod bram;
mod control;
pub mod cost;
mod dsp_pack;
mod expr;
pub mod fixed;
mod float;
mod frame;
mod module;
mod pipeline;
mod ring;
pub mod rows;
mod testbench;
mod width;

use kiln_passes::data::TensorValue;
use kiln_passes::diag::Diagnostic;
use kiln_passes::ir::{InstanceId, Module, TensorId, TensorKind};
pub use module::{addr_width, ident, Iface, Param};
use std::collections::HashMap;
use std::fmt::Write;
pub use testbench::{driver, raw_hex};

/// What `kiln rtl` was asked for.
#[derive(Clone, Debug)]
pub struct RtlOptions {
    /// The top module's name.
    pub name: String,
    /// The FPGA part (`--part`), when given.
    pub part: Option<String>,
    /// `--batch`: the test data has a leading batch axis of this many samples.
    pub batch: Option<usize>,
    /// Chain the iterations of loops with a `pipeline` directive (pipeline.rs); off:
    /// every loop runs one statement per cycle (smaller hardware, `--no-pipeline`).
    pub pipeline: bool,
    /// Run a top that is a network of calls as a frame pipeline (frame.rs: its calls
    /// concurrent stages, double-buffered between them); off, or without `pipeline`:
    /// one call after another (`--no-dataflow`).
    pub dataflow: bool,
}

/// The data the testbench checks: the entry's inputs (in parameter order) and the
/// results kiln computed for them, with a leading batch axis under `--batch`.
pub struct TestData<'a> {
    pub inputs: &'a [TensorValue],
    pub outputs: &'a [TensorValue],
}

/// The files of a design: (file name, contents).
#[derive(Clone, Debug, Default)]
pub struct Design {
    pub top: String,
    pub files: Vec<(String, String)>,
    /// The Verilog sources of the design (not the testbench), callees first.
    pub sources: Vec<String>,
    /// What became of each loop with a `pipeline` directive (for the user).
    pub notes: Vec<String>,
}

/// The manifest's name in a design directory.
pub const MANIFEST: &str = "kiln_rtl.json";
/// The testbench's Verilog module (top of the simulation) and its driver.
pub const TB_MODULE: &str = "kiln_tb";
pub const TB_VERILOG: &str = "kiln_tb.v";
pub const TB_DRIVER: &str = "kiln_tb_main.cpp";

/// The yosys `synth_xilinx -family` of a part: `xc7` (7 series), `xcu` (UltraScale),
/// `xcup` (UltraScale+), or none for parts it does not know.
pub fn family(part: &str) -> Option<&'static str> {
    let p = part.to_ascii_lowercase();
    if p.starts_with("xc7") {
        Some("xc7")
    } else if p.starts_with("xczu") || p.starts_with("xcau") {
        Some("xcup")
    } else if p.starts_with("xcku") || p.starts_with("xcvu") {
        // UltraScale+ parts carry a `p` after the size: xcku5p, xcvu9p.
        let digits_then: String = p[4..].chars().skip_while(|c| c.is_ascii_digit()).collect();
        if digits_then.starts_with('p') {
            Some("xcup")
        } else {
            Some("xcu")
        }
    } else {
        None
    }
}

/// Emits the design of the module's entry instance, with its testbench when there is
/// `data` to check (`kiln rtl --no-testbench`: none, and the manifest's `testbench` and
/// data files are `null`).
pub fn emit(
    module: &Module,
    opts: &RtlOptions,
    data: Option<TestData>,
) -> Result<Design, Vec<Diagnostic>> {
    let entry = module.entry.expect("a module has an entry");
    let top = ident(&opts.name);
    let order = instance_order(module, entry);
    // Weights the allocation left in DDR are m_axi ports of the HLS design
    // (passes/src/transform/allocate/ddr.rs); the RTL has no memory interface yet.
    // Named by the stages that read them (the top lists them too).
    let ddr: Vec<Diagnostic> = order
        .iter()
        .filter(|&&id| id != entry || order.len() == 1)
        .map(|&id| module.instance(id))
        .filter(|inst| !inst.ddr_weights.is_empty())
        .map(|inst| {
            let names: Vec<String> = inst
                .ddr_weights
                .iter()
                .map(|(_, c)| format!("`{}`", module.consts[c.index()].name))
                .collect();
            Diagnostic::error(
                kiln_passes::diag::codes::RTL_UNSUPPORTED,
                format!(
                    "the allocation keeps the weights {} of `{}` in DDR, and the RTL back end has no memory interface",
                    names.join(", "),
                    inst.name
                ),
            )
            .at(inst.span)
            .label("the RTL back end cannot build this")
            .help("give the allocation more of the device (a larger `--budget`, or the `--part` of a larger device) so the weights fit on chip, or use `kiln hls`, which reads them through m_axi ports".to_string())
        })
        .collect();
    if !ddr.is_empty() {
        return Err(ddr);
    }
    let mut files = Vec::new();
    // Constant tensors: one ROM file per constant and element type.
    let mut roms: HashMap<(InstanceId, TensorId), String> = HashMap::new();
    let mut rom_files: HashMap<(usize, String), String> = HashMap::new();
    for &id in &order {
        let inst = module.instance(id);
        for (i, tm) in inst.tensors.iter().enumerate() {
            let TensorKind::Const(c) = tm.kind else {
                continue;
            };
            // A banked constant of a pipelined design is initialized bank by bank in
            // its module (module.rs), not from a file.
            let banked = opts.pipeline
                && kiln_passes::ir::banking::Banking::of(&tm.shape, &tm.partition).is_some();
            if tm.is_empty() || banked {
                continue;
            }
            let key = (c.index(), tm.elem.to_string());
            let file = match rom_files.get(&key) {
                Some(f) => f.clone(),
                None => {
                    let f = format!("{top}_rom{}_{}.hex", rom_files.len(), ident(&tm.name));
                    let d = &module.consts[c.index()];
                    let mut text = String::with_capacity(d.values.len() * 3);
                    for v in &d.values {
                        let (cv, _) = kiln_passes::value::convert(v, &tm.elem);
                        text.push_str(&testbench::raw_hex(&cv, &tm.elem));
                        text.push('\n');
                    }
                    files.push((f.clone(), text));
                    rom_files.insert(key, f.clone());
                    f
                }
            };
            roms.insert((id, TensorId(i as u32)), file);
        }
    }
    let mut ifaces: HashMap<InstanceId, Iface> = HashMap::new();
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut design_notes = Vec::new();
    // The stages of a frame pipeline with row ports (rows.rs): the entry's callees.
    let frame_plan = (opts.pipeline && opts.dataflow)
        .then(|| frame::plan(module.instance(entry)).ok())
        .flatten();
    let stages: Vec<InstanceId> = if frame_plan.is_some() {
        module.instance(entry).callees()
    } else {
        Vec::new()
    };
    // The stages' row ports, from the module as scheduled; then the feature maps held
    // as rings of rows (ring.rs), and the modules built from the copy with their shapes.
    let stage_ports: HashMap<InstanceId, rows::RowPorts> = stages
        .iter()
        .map(|&id| (id, rows::ports(module.instance(id), opts.pipeline)))
        .collect();
    let rings = match &frame_plan {
        Some(f) => ring::plan(module, entry, &f.double, &stage_ports),
        None => ring::Rings::default(),
    };
    let ringed = ring::ringed(module, &rings, entry);
    let module = &ringed;
    for &id in &order {
        let name = if id == entry {
            top.clone()
        } else {
            format!("{top}_{}", ident(&module.instance(id).name))
        };
        let mut g = module::ModGen::new(
            opts.pipeline,
            opts.pipeline && opts.dataflow,
            id == entry,
            module,
            id,
            name.clone(),
            &ifaces,
            roms.iter()
                .filter(|((i, _), _)| *i == id)
                .map(|((_, t), f)| (*t, f.clone()))
                .collect(),
        );
        if let Some(p) = stage_ports.get(&id) {
            g.row_ports = p.clone();
        }
        g.rings = rings.of(id, entry);
        g.build();
        match g.finish() {
            Ok((text, iface, notes)) => {
                design_notes.extend(notes);
                let file = format!("{name}.v");
                files.push((file.clone(), text));
                sources.push(file);
                ifaces.insert(id, iface);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        errors.dedup();
        return Err(errors);
    }
    let iface = &ifaces[&entry];
    // The resource model of what was built: for the sequential design only (cost.rs);
    // the chained iterations of pipelined loops are not modelled.
    let model = if opts.pipeline {
        None
    } else {
        cost::sequential_cost(module)
    };
    let samples = opts.batch.unwrap_or(1);
    if let Some(data) = &data {
        let (tb, data_files) = testbench::testbench(&top, iface, samples, data);
        files.extend(data_files.iter().cloned());
        files.push((TB_VERILOG.into(), tb));
        files.push((TB_DRIVER.into(), testbench::driver()));
    }
    files.push((
        MANIFEST.into(),
        manifest(&top, &sources, opts, iface, samples, &model, data.is_some()),
    ));
    Ok(Design {
        top,
        files,
        sources,
        notes: design_notes,
    })
}

/// Instances reachable from `entry`, callees before callers, each once.
fn instance_order(m: &Module, entry: InstanceId) -> Vec<InstanceId> {
    fn visit(m: &Module, id: InstanceId, seen: &mut Vec<InstanceId>) {
        if seen.contains(&id) {
            return;
        }
        for c in m.instance(id).callees() {
            visit(m, c, seen);
        }
        if !seen.contains(&id) {
            seen.push(id);
        }
    }
    let mut seen = Vec::new();
    visit(m, entry, &mut seen);
    seen
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// `kiln_rtl.json`.
fn manifest(
    top: &str,
    sources: &[String],
    opts: &RtlOptions,
    iface: &Iface,
    samples: usize,
    model: &Option<cost::RtlCost>,
    testbench: bool,
) -> String {
    let port = |p: &Param, file: String| {
        let file = if testbench {
            json_str(&file)
        } else {
            "null".into()
        };
        let shape: Vec<String> = p.shape.iter().map(|d| d.to_string()).collect();
        format!(
            "    {{\"name\": {}, \"port\": {}, \"type\": {}, \"shape\": [{}], \"bits\": {}, \"file\": {}}}",
            json_str(&p.name),
            json_str(&p.port),
            json_str(&p.elem.to_string()),
            shape.join(", "),
            p.dw(),
            file
        )
    };
    let inputs: Vec<String> = iface
        .params
        .iter()
        .filter(|p| !p.output)
        .map(|p| port(p, testbench::input_file(top, p)))
        .collect();
    let outputs: Vec<String> = iface
        .params
        .iter()
        .filter(|p| p.output)
        .map(|p| port(p, testbench::expected_file(top, p)))
        .collect();
    let srcs: Vec<String> = sources.iter().map(|s| json_str(s)).collect();
    let part = opts
        .part
        .as_deref()
        .map(json_str)
        .unwrap_or_else(|| "null".into());
    let fam = opts
        .part
        .as_deref()
        .and_then(family)
        .map(json_str)
        .unwrap_or_else(|| "null".into());
    let model = match model {
        Some(c) => format!(
            "{{\"lut\": {}, \"dsp\": {}, \"lutram\": {}, \"bram18\": {}, \"operators\": {}, \"addresses\": {}, \"memories\": {}, \"control\": {}}}",
            c.lut(),
            c.dsp,
            c.lutram,
            c.bram18,
            c.operators,
            c.addresses,
            c.memories,
            c.control
        ),
        None => "null".into(),
    };
    format!(
        "{{\n  \"top\": {},\n  \"sources\": [{}],\n  \"part\": {part},\n  \"family\": {fam},\n  \"inputs\": [\n{}\n  ],\n  \"outputs\": [\n{}\n  ],\n  \"batch\": {samples},\n  \"pipeline\": {},\n  \"dataflow\": {},\n  \"model\": {model},\n  \"testbench\": {}\n}}\n",
        json_str(top),
        srcs.join(", "),
        inputs.join(",\n"),
        outputs.join(",\n"),
        opts.pipeline,
        iface.frame,
        if testbench {
            format!(
                "{{\"top\": {}, \"sources\": [{}, {}]}}",
                json_str(TB_MODULE),
                json_str(TB_VERILOG),
                json_str(TB_DRIVER)
            )
        } else {
            "null".into()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_parts() {
        assert_eq!(family("xc7z045ffg900-2"), Some("xc7"));
        assert_eq!(family("xczu9eg-ffvb1156-2-e"), Some("xcup"));
        assert_eq!(family("xcku115-flvb2104-2-e"), Some("xcu"));
        assert_eq!(family("xcvu9p-flga2104-2-e"), Some("xcup"));
        assert_eq!(family("ep4ce22"), None);
    }
}
