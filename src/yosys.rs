//! Driving yosys for `kiln synth`: the Xilinx family of a part, the synthesis script,
//! running the tool, and reading back what it measured.
//!
//! The script reads the design's Verilog, runs `synth_xilinx` for the family out of
//! context (flattened, no I/O buffers, no clock buffers: the design is a core inside a
//! larger one, as Vivado's out-of-context synthesis of a kernel), then
//!
//! - `stat -json` into `synth_stat.json`: the cells of the mapped netlist by type, which
//!   [`classify`] sorts into the resources Vivado's utilization report names (LUT, FF,
//!   CARRY, DSP48, RAMB18/36, ...);
//! - `ltp` over the combinational cells: the longest topological path, counted in cells
//!   (logic levels) between sequential elements or ports. Flip-flops, latches, shift
//!   registers, block/ultra RAMs and DSP48 slices are left out of the graph, so every
//!   path starts at a port or a register output and ends at a port or a register input
//!   (a DSP48 is taken as registered, which is how synth_xilinx packs the registers
//!   around a product: a DSP48 used without its registers hides a path through it); a
//!   CARRY4/CARRY8 or a MUXF7/8/9 counts as one level like a LUT, a distributed-RAM cell
//!   as one level from its read address to its read data only ([`LUTRAM_READS`]: not
//!   from its clocked write side). It is a depth, not a delay: a
//!   LUT level costs about 0.5 ns with routing on a 7-series part, a CARRY4 level about
//!   0.1 ns (docs/rtl-synthesis.md).
//!
//! yosys 0.23 also has `sta`, but the Xilinx cell library of that release has no timing
//! arcs for CARRY4, MUXF7 and MUXF8 (it warns and treats them as free), so on adders it
//! reports a path that misses the carry chain; `ltp` is the figure kiln reports.
//!
//! Nothing here knows about kiln's IR: the module takes a top name, source files and a
//! family, so it depends on no other crate of the workspace.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The file the script is written to, in the design's directory.
pub const SCRIPT: &str = "synth.ys";
/// The techmap file that turns each distributed-RAM cell into its read paths alone for
/// `ltp` ([`LUTRAM_READS`]), written beside the script.
pub const LUTRAM_MAP: &str = "kiln_ltp_lutram.v";

/// For `ltp` only (after `stat`, on the mapped netlist): each Xilinx distributed-RAM cell
/// of yosys 0.23's techmaps as an XOR of the read address of each output, one cell a
/// level like the LUT it reads through; its write data, write enable and clock drive
/// nothing. `ltp` takes every cell as combinational from each input to each output, so
/// the cell itself would give a path from the write data to the read data (the write is
/// clocked): a chain that writes a buffer in LUT RAM would join the chain that reads it,
/// across the stages of a frame pipeline (LeNet: 399 levels instead of 248).
pub const LUTRAM_READS: &str = r#"// Written by `kiln synth`: distributed RAM as its read paths, for `ltp` (src/yosys.rs).
(* techmap_celltype = "RAM16X1S" *)
module _kiln_ram16x1s (output O, input A0, A1, A2, A3, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^{A0, A1, A2, A3};
endmodule
(* techmap_celltype = "RAM32X1S" *)
module _kiln_ram32x1s (output O, input A0, A1, A2, A3, A4, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^{A0, A1, A2, A3, A4};
endmodule
(* techmap_celltype = "RAM64X1S" *)
module _kiln_ram64x1s (output O, input A0, A1, A2, A3, A4, A5, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^{A0, A1, A2, A3, A4, A5};
endmodule
(* techmap_celltype = "RAM128X1S" *)
module _kiln_ram128x1s (output O, input A0, A1, A2, A3, A4, A5, A6, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^{A0, A1, A2, A3, A4, A5, A6};
endmodule
(* techmap_celltype = "RAM256X1S" *)
module _kiln_ram256x1s (output O, input [7:0] A, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^A;
endmodule
(* techmap_celltype = "RAM512X1S" *)
module _kiln_ram512x1s (output O, input [8:0] A, input D, WCLK, WE);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = ^A;
endmodule
(* techmap_celltype = "RAM16X1D" *)
module _kiln_ram16x1d (output DPO, SPO, input D, WCLK, WE, input A0, A1, A2, A3, input DPRA0, DPRA1, DPRA2, DPRA3);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign SPO = ^{A0, A1, A2, A3};
  assign DPO = ^{DPRA0, DPRA1, DPRA2, DPRA3};
endmodule
(* techmap_celltype = "RAM32X1D" *)
module _kiln_ram32x1d (output DPO, SPO, input D, WCLK, WE, input A0, A1, A2, A3, A4, input DPRA0, DPRA1, DPRA2, DPRA3, DPRA4);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign SPO = ^{A0, A1, A2, A3, A4};
  assign DPO = ^{DPRA0, DPRA1, DPRA2, DPRA3, DPRA4};
endmodule
(* techmap_celltype = "RAM64X1D" *)
module _kiln_ram64x1d (output DPO, SPO, input D, WCLK, WE, input A0, A1, A2, A3, A4, A5, input DPRA0, DPRA1, DPRA2, DPRA3, DPRA4, DPRA5);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign SPO = ^{A0, A1, A2, A3, A4, A5};
  assign DPO = ^{DPRA0, DPRA1, DPRA2, DPRA3, DPRA4, DPRA5};
endmodule
(* techmap_celltype = "RAM128X1D" *)
module _kiln_ram128x1d (output DPO, SPO, input D, WCLK, WE, input [6:0] A, DPRA);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign SPO = ^A;
  assign DPO = ^DPRA;
endmodule
(* techmap_celltype = "RAM256X1D" *)
module _kiln_ram256x1d (output DPO, SPO, input D, WCLK, WE, input [7:0] A, DPRA);
  parameter INIT = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign SPO = ^A;
  assign DPO = ^DPRA;
endmodule
(* techmap_celltype = "RAM32M" *)
module _kiln_ram32m (output [1:0] DOA, output [1:0] DOB, output [1:0] DOC, output [1:0] DOD, input [4:0] ADDRA, input [4:0] ADDRB, input [4:0] ADDRC, input [4:0] ADDRD, input [1:0] DIA, input [1:0] DIB, input [1:0] DIC, input [1:0] DID, input WCLK, WE);
  parameter INIT_A = 0;
  parameter INIT_B = 0;
  parameter INIT_C = 0;
  parameter INIT_D = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign DOA = {2{^ADDRA}};
  assign DOB = {2{^ADDRB}};
  assign DOC = {2{^ADDRC}};
  assign DOD = {2{^ADDRD}};
endmodule
(* techmap_celltype = "RAM32M16" *)
module _kiln_ram32m16 (output [1:0] DOA, output [1:0] DOB, output [1:0] DOC, output [1:0] DOD, output [1:0] DOE, output [1:0] DOF, output [1:0] DOG, output [1:0] DOH, input [4:0] ADDRA, input [4:0] ADDRB, input [4:0] ADDRC, input [4:0] ADDRD, input [4:0] ADDRE, input [4:0] ADDRF, input [4:0] ADDRG, input [4:0] ADDRH, input [1:0] DIA, input [1:0] DIB, input [1:0] DIC, input [1:0] DID, input [1:0] DIE, input [1:0] DIF, input [1:0] DIG, input [1:0] DIH, input WCLK, WE);
  parameter INIT_A = 0;
  parameter INIT_B = 0;
  parameter INIT_C = 0;
  parameter INIT_D = 0;
  parameter INIT_E = 0;
  parameter INIT_F = 0;
  parameter INIT_G = 0;
  parameter INIT_H = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign DOA = {2{^ADDRA}};
  assign DOB = {2{^ADDRB}};
  assign DOC = {2{^ADDRC}};
  assign DOD = {2{^ADDRD}};
  assign DOE = {2{^ADDRE}};
  assign DOF = {2{^ADDRF}};
  assign DOG = {2{^ADDRG}};
  assign DOH = {2{^ADDRH}};
endmodule
(* techmap_celltype = "RAM64M" *)
module _kiln_ram64m (output DOA, output DOB, output DOC, output DOD, input [5:0] ADDRA, input [5:0] ADDRB, input [5:0] ADDRC, input [5:0] ADDRD, input DIA, input DIB, input DIC, input DID, input WCLK, WE);
  parameter INIT_A = 0;
  parameter INIT_B = 0;
  parameter INIT_C = 0;
  parameter INIT_D = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign DOA = ^ADDRA;
  assign DOB = ^ADDRB;
  assign DOC = ^ADDRC;
  assign DOD = ^ADDRD;
endmodule
(* techmap_celltype = "RAM64M8" *)
module _kiln_ram64m8 (output DOA, output DOB, output DOC, output DOD, output DOE, output DOF, output DOG, output DOH, input [5:0] ADDRA, input [5:0] ADDRB, input [5:0] ADDRC, input [5:0] ADDRD, input [5:0] ADDRE, input [5:0] ADDRF, input [5:0] ADDRG, input [5:0] ADDRH, input DIA, input DIB, input DIC, input DID, input DIE, input DIF, input DIG, input DIH, input WCLK, WE);
  parameter INIT_A = 0;
  parameter INIT_B = 0;
  parameter INIT_C = 0;
  parameter INIT_D = 0;
  parameter INIT_E = 0;
  parameter INIT_F = 0;
  parameter INIT_G = 0;
  parameter INIT_H = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign DOA = ^ADDRA;
  assign DOB = ^ADDRB;
  assign DOC = ^ADDRC;
  assign DOD = ^ADDRD;
  assign DOE = ^ADDRE;
  assign DOF = ^ADDRF;
  assign DOG = ^ADDRG;
  assign DOH = ^ADDRH;
endmodule
(* techmap_celltype = "RAM32X16DR8" *)
module _kiln_ram32x16dr8 (output DOA, output DOB, output DOC, output DOD, output DOE, output DOF, output DOG, output [1:0] DOH, input [5:0] ADDRA, input [5:0] ADDRB, input [5:0] ADDRC, input [5:0] ADDRD, input [5:0] ADDRE, input [5:0] ADDRF, input [5:0] ADDRG, input [4:0] ADDRH, input [1:0] DIA, input [1:0] DIB, input [1:0] DIC, input [1:0] DID, input [1:0] DIE, input [1:0] DIF, input [1:0] DIG, input [1:0] DIH, input WCLK, WE);
  parameter IS_WCLK_INVERTED = 0;
  assign DOA = ^ADDRA;
  assign DOB = ^ADDRB;
  assign DOC = ^ADDRC;
  assign DOD = ^ADDRD;
  assign DOE = ^ADDRE;
  assign DOF = ^ADDRF;
  assign DOG = ^ADDRG;
  assign DOH = {2{^ADDRH}};
endmodule
(* techmap_celltype = "RAM64X8SW" *)
module _kiln_ram64x8sw (output [7:0] O, input [5:0] A, input D, WCLK, WE, input [2:0] WSEL);
  parameter INIT_A = 0;
  parameter INIT_B = 0;
  parameter INIT_C = 0;
  parameter INIT_D = 0;
  parameter INIT_E = 0;
  parameter INIT_F = 0;
  parameter INIT_G = 0;
  parameter INIT_H = 0;
  parameter IS_WCLK_INVERTED = 0;
  assign O = {8{^A}};
endmodule
"#;
/// yosys' log of the run.
pub const LOG: &str = "synth.log";
/// yosys' own `stat -json` output.
pub const STAT: &str = "synth_stat.json";

/// The Xilinx families `kiln synth` synthesizes for (yosys' `synth_xilinx -family`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Family {
    /// 7-series: Zynq-7000, Artix-7, Kintex-7, Virtex-7, Spartan-7.
    Xc7,
    /// UltraScale: Kintex and Virtex UltraScale.
    Xcu,
    /// UltraScale+: Zynq UltraScale+, Artix/Kintex/Virtex UltraScale+.
    Xcup,
}

/// Which parts map to which family, for diagnostics.
pub const FAMILIES_HELP: &str = "kiln synthesizes for Xilinx 7-series parts (xc7z, xc7a, \
    xc7k, xc7v, xc7s: family xc7), UltraScale parts (xcku, xcvu without a trailing `p`: \
    xcu) and UltraScale+ parts (xczu, xcau, xck26, xcku..p, xcvu..p: xcup)";

impl Family {
    /// The name `synth_xilinx -family` takes.
    pub fn name(self) -> &'static str {
        match self {
            Family::Xc7 => "xc7",
            Family::Xcu => "xcu",
            Family::Xcup => "xcup",
        }
    }

    /// A family by its yosys name.
    pub fn parse(name: &str) -> Option<Family> {
        [Family::Xc7, Family::Xcu, Family::Xcup]
            .into_iter()
            .find(|f| f.name() == name)
    }

    /// The family of a part number (`xc7z020clg400-1` → xc7, `xcku115-flvb2104-2-e` →
    /// xcu, `xcvu9p-flga2104-2-i` and `xczu9eg-ffvb1156-2-e` → xcup), by its prefix; the
    /// Kintex and Virtex UltraScale+ devices differ from UltraScale ones by the `p` that
    /// ends the device name (the part number up to its first `-`). Case is ignored.
    pub fn of_part(part: &str) -> Option<Family> {
        let part = part.trim().to_ascii_lowercase();
        let device = part.split('-').next().unwrap_or("");
        let seven = ["xc7z", "xc7a", "xc7k", "xc7v", "xc7s"];
        if seven.iter().any(|p| device.starts_with(p)) {
            return Some(Family::Xc7);
        }
        if ["xczu", "xcau", "xck26", "xck24"]
            .iter()
            .any(|p| device.starts_with(p))
        {
            return Some(Family::Xcup);
        }
        for prefix in ["xcku", "xcvu"] {
            if let Some(rest) = device.strip_prefix(prefix) {
                // A device number must follow (xcku115, xcku5p, xcvu9p, xcvu440).
                if !rest.starts_with(|c: char| c.is_ascii_digit()) {
                    return None;
                }
                return Some(if rest.ends_with('p') {
                    Family::Xcup
                } else {
                    Family::Xcu
                });
            }
        }
        None
    }

    /// The family's marketing name, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Family::Xc7 => "7-series",
            Family::Xcu => "UltraScale",
            Family::Xcup => "UltraScale+",
        }
    }
}

/// What to synthesize: sources relative to the design's directory, the top module, the
/// family.
#[derive(Clone, Debug)]
pub struct Job {
    pub top: String,
    pub sources: Vec<String>,
    pub family: Family,
    /// Run yosys' `share` pass (`synth_xilinx`'s own script). `false` for designs whose
    /// iterations are chained (`kiln rtl` without `--no-pipeline`): every operator of such an
    /// iteration works in every cycle, so there is nothing to share, but the window buffers'
    /// many read ports make `share` try a SAT problem per pair of reads of one bank (48 s
    /// for conv_relu, all 1,299 pairs refused; LeNet still in it after 7 minutes). The script then
    /// runs `synth_xilinx`'s `coarse` step itself, without `share`.
    pub share: bool,
}

/// Whether `name` can be written into a yosys script unquoted: a file name without
/// blanks, quotes, comment or command separators, backslashes or control characters.
pub fn script_safe_path(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"';#\\".contains(c))
}

/// Whether `name` is a Verilog simple identifier (what a top module is called).
pub fn verilog_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The synthesis script for `job` (its paths relative to the directory yosys runs in).
/// The caller checks names with [`script_safe_path`] and [`verilog_identifier`].
pub fn script(job: &Job) -> String {
    let mut s = String::from(
        "# Written by `kiln synth`: yosys synthesis for a Xilinx family, out of context.\n",
    );
    for src in &job.sources {
        if src.ends_with(".sv") {
            s.push_str(&format!("read_verilog -sv {src}\n"));
        } else {
            s.push_str(&format!("read_verilog {src}\n"));
        }
    }
    let synth = format!(
        "synth_xilinx -flatten -noiopad -noclkbuf -family {} -top {}",
        job.family.name(),
        job.top
    );
    if job.share {
        s.push_str(&format!("{synth}\n"));
    } else {
        // synth_xilinx's `coarse` step (yosys 0.23) less `share`; LUT_WIDTH is 6 for
        // every family kiln synthesizes for.
        s.push_str(&format!(
            "{synth} -run begin:coarse\n\
             # synth_xilinx's coarse step without `share` (chained iterations: src/yosys.rs)\n\
             techmap -map +/cmp2lut.v -map +/cmp2lcu.v -D LUT_WIDTH=6\n\
             alumacc\n\
             opt\n\
             memory -nomap\n\
             opt_clean\n\
             {synth} -run map_memory:\n"
        ));
    }
    s.push_str(&format!("tee -q -o {STAT} stat -json\n"));
    s.push_str(&format!(
        "# Longest path in cells over the combinational part: registers, shift registers,\n\
         # block RAMs and DSP48s are left out of the graph, so paths run between registers;\n\
         # distributed RAM counts as its read paths alone ({LUTRAM_MAP}, after `stat`).\n\
         techmap -map {LUTRAM_MAP}\n\
         ltp -noff t:FD* t:LD* t:SRL* t:RAMB* t:URAM* t:DSP48* %u %u %u %u %u %n\n"
    ));
    s
}

/// The longest combinational path `ltp` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongestPath {
    /// Cells on the path (logic levels).
    pub levels: u64,
    /// Where it starts (a port or register output), as yosys names the net.
    pub from: String,
    /// Where it ends (a port or register input).
    pub to: String,
}

/// A finished synthesis.
#[derive(Clone, Debug)]
pub struct Synthesis {
    /// The version line of the yosys that ran (`Yosys 0.23 (git sha1 ...)`).
    pub version: String,
    /// Cells of the mapped netlist by type.
    pub cells: BTreeMap<String, u64>,
    pub longest_path: Option<LongestPath>,
    /// Wall time of the yosys run.
    pub seconds: f64,
    /// yosys' warnings (their first lines, each once, in order).
    pub warnings: Vec<String>,
}

/// Why a synthesis did not finish.
#[derive(Debug)]
pub enum Error {
    /// The program could not be found.
    NotInstalled(String),
    /// The program was found but could not be started.
    CannotStart(String, std::io::Error),
    /// A file kiln writes (the script) could not be written, or an old result not removed.
    Io(PathBuf, std::io::Error),
    /// yosys ended with an error: how it ended and the end of its log.
    Failed { how: String, tail: String },
    /// yosys succeeded but its output is not what kiln expects.
    BadOutput(String),
}

/// The yosys to run: `KILN_YOSYS` when set, else `yosys` on the PATH.
pub fn program() -> OsString {
    std::env::var_os("KILN_YOSYS")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| OsString::from("yosys"))
}

/// Writes the script into `dir` and runs yosys on it there (`yosys -q -l synth.log -s
/// synth.ys`), then reads the statistics and the longest path back.
pub fn run(dir: &Path, job: &Job, yosys: &OsString) -> Result<Synthesis, Error> {
    let script_path = dir.join(SCRIPT);
    std::fs::write(&script_path, script(job)).map_err(|e| Error::Io(script_path.clone(), e))?;
    let map_path = dir.join(LUTRAM_MAP);
    std::fs::write(&map_path, LUTRAM_READS).map_err(|e| Error::Io(map_path.clone(), e))?;
    let stat_path = dir.join(STAT);
    let log_path = dir.join(LOG);
    // Never read a stale result of an earlier run.
    for p in [&stat_path, &log_path] {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(Error::Io(p.clone(), e)),
        }
    }
    let start = Instant::now();
    let out = Command::new(yosys)
        .current_dir(dir)
        .args(["-q", "-l", LOG, "-s", SCRIPT])
        .output();
    let seconds = start.elapsed().as_secs_f64();
    let name = yosys.to_string_lossy().into_owned();
    let out = out.map_err(|e| match e.kind() {
        ErrorKind::NotFound => Error::NotInstalled(name.clone()),
        _ => Error::CannotStart(name.clone(), e),
    })?;
    let log = std::fs::read(&log_path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail = error_tail(&log).unwrap_or_else(|| last_lines(&stderr, 8));
        return Err(Error::Failed {
            how: how_it_ended(&out.status),
            tail,
        });
    }
    let stat = std::fs::read_to_string(&stat_path)
        .map_err(|e| Error::BadOutput(format!("cannot read {}: {e}", stat_path.display())))?;
    let (version, cells) = parse_stat(&stat).map_err(Error::BadOutput)?;
    let longest_path = parse_ltp(&log);
    if longest_path.is_none() {
        return Err(Error::BadOutput(format!(
            "no `Longest topological path` in {}",
            log_path.display()
        )));
    }
    Ok(Synthesis {
        version,
        cells,
        longest_path,
        seconds,
        warnings: warnings(&log),
    })
}

/// `exited with code N`, or the signal that killed the process.
fn how_it_ended(status: &std::process::ExitStatus) -> String {
    if let Some(c) = status.code() {
        return format!("exited with code {c}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(s) = status.signal() {
            return format!("was killed by signal {s}");
        }
    }
    "failed".to_string()
}

/// The lines of a failed run's log that say why: up to five non-empty lines ending with
/// the last `ERROR:` line, starting at the heading of the step that failed (`2.3.
/// Executing HIERARCHY pass ...`) when it is among them. `None` when the log has no such
/// line.
pub fn error_tail(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
    let end = lines.iter().rposition(|l| l.contains("ERROR:"))?;
    let start = end.saturating_sub(4);
    let window = &lines[start..=end];
    let first = window.iter().rposition(|l| step_heading(l)).unwrap_or(0);
    Some(window[first..].join("\n"))
}

/// Whether a log line is a step's heading: `1. Executing ...`, `2.3. Executing ...`.
fn step_heading(line: &str) -> bool {
    let Some((number, rest)) = line.split_once(' ') else {
        return false;
    };
    rest.starts_with("Executing ")
        && number.ends_with('.')
        && number
            .trim_end_matches('.')
            .split('.')
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The last `n` non-empty lines of a text.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The design's cells by type and the yosys version, from `stat -json` (its `design`
/// totals: the design is flattened, so they are the top's).
pub fn parse_stat(json: &str) -> Result<(String, BTreeMap<String, u64>), String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("yosys' stat -json output: {e}"))?;
    let version = v
        .get("creator")
        .and_then(|c| c.as_str())
        .unwrap_or("yosys (unknown version)")
        .to_string();
    let by_type = v
        .get("design")
        .and_then(|d| d.get("num_cells_by_type"))
        .and_then(|c| c.as_object());
    let mut cells = BTreeMap::new();
    match by_type {
        Some(map) => {
            for (ty, n) in map {
                let n = n
                    .as_u64()
                    .ok_or_else(|| format!("yosys' stat -json: count of `{ty}` is {n}"))?;
                cells.insert(ty.trim_start_matches('\\').to_string(), n);
            }
        }
        // A design without cells has no `num_cells_by_type`.
        None => {
            let cells_n = v
                .get("design")
                .and_then(|d| d.get("num_cells"))
                .and_then(|n| n.as_u64());
            if cells_n != Some(0) {
                return Err("yosys' stat -json output has no design.num_cells_by_type".into());
            }
        }
    }
    Ok((version, cells))
}

/// The last `Longest topological path in M (length=N):` report of a log, with the first
/// and last nets of the path.
pub fn parse_ltp(log: &str) -> Option<LongestPath> {
    const HEAD: &str = "Longest topological path in ";
    let lines: Vec<&str> = log.lines().collect();
    let at = lines.iter().rposition(|l| l.starts_with(HEAD))?;
    let head = lines[at];
    let len_at = head.rfind("(length=")? + "(length=".len();
    let levels: u64 = head[len_at..].trim_end_matches([')', ':']).parse().ok()?;
    // Then `    i: NET (via CELL)` for i = 0..=levels.
    let mut nets = Vec::new();
    for l in &lines[at + 1..] {
        let t = l.trim_start();
        let Some((idx, rest)) = t.split_once(": ") else {
            break;
        };
        if idx.parse::<u64>().is_err() {
            break;
        }
        let net = rest.split(" (via ").next().unwrap_or(rest);
        nets.push(net_name(net));
    }
    Some(LongestPath {
        levels,
        from: nets.first().cloned().unwrap_or_default(),
        to: nets.last().cloned().unwrap_or_default(),
    })
}

/// A net as yosys prints it (`\acc [3]`) without the escape and the blank: `acc[3]`.
fn net_name(net: &str) -> String {
    net.trim_start_matches('\\').replace(" [", "[")
}

/// The first line of each distinct `Warning:` of a log, in order. yosys 0.23's block RAM
/// mapping warns `Resizing cell port ...` for every RAMB it instantiates with narrower
/// data ports than the primitive's (its own techmap, nothing the design did): those are
/// left out. `ltp`'s `Detected loop at NET` warnings are one line, with what they are:
/// a loop through the cells `ltp` counts (distributed RAM counts as its read paths
/// alone, so a memory whose read feeds its own write data is no loop); a logic loop is
/// also `check`'s `found logic loop` warning, listed as it is.
pub fn warnings(log: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    let (mut loops, mut first_loop, mut loop_at) = (0usize, String::new(), 0usize);
    for l in log.lines() {
        if let Some(w) = l.strip_prefix("Warning: ") {
            if w.starts_with("Resizing cell port ") {
                continue;
            }
            if let Some(net) = w.strip_prefix("Detected loop at ") {
                if loops == 0 {
                    first_loop = net.to_string();
                    loop_at = out.len();
                }
                loops += 1;
                continue;
            }
            if seen.insert(w.to_string()) {
                out.push(w.to_string());
            }
        }
    }
    if loops > 0 {
        out.insert(
            loop_at,
            format!(
                "ltp (the longest path) met {loops} loop(s), the first at {first_loop}: a combinational loop through the cells it counts (yosys' `check` warns of logic loops too)"
            ),
        );
    }
    out
}

/// The cells of a Xilinx netlist, in the resource classes of Vivado's utilization report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// LUT1..LUT6 (index 0..5); LUT6_2 counts as a LUT6.
    pub lut_by_size: [u64; 6],
    /// FDRE, FDSE, FDCE, FDPE (and their inverted-clock forms).
    pub ff: u64,
    /// LDCE, LDPE.
    pub latch: u64,
    /// CARRY4 (7-series; yosys 0.23 also uses it for UltraScale) and CARRY8.
    pub carry: u64,
    /// MUXF7, MUXF8, MUXF9: the slices' wide-function multiplexers.
    pub muxf: u64,
    /// DSP48E1, DSP48E2.
    pub dsp: u64,
    pub ramb18: u64,
    pub ramb36: u64,
    /// URAM288.
    pub uram: u64,
    /// Distributed RAM cells (RAM32M, RAM64X1D, ...), each one or more LUTs as memory.
    pub lutram: u64,
    /// Shift registers in LUTs (SRL16E, SRLC32E).
    pub srl: u64,
    /// Cells of no class above (INV, BUFG, ...).
    pub other: BTreeMap<String, u64>,
    /// yosys' internal cells (`$...`) left unmapped: logic synth_xilinx could not map.
    pub unmapped: BTreeMap<String, u64>,
}

impl Counts {
    /// LUT1 + ... + LUT6.
    pub fn lut(&self) -> u64 {
        self.lut_by_size.iter().sum()
    }

    /// Block RAM in RAMB18 units: a RAMB36 is two.
    pub fn bram18(&self) -> u64 {
        self.ramb18 + 2 * self.ramb36
    }
}

/// Sorts cells by type into [`Counts`].
pub fn classify(cells: &BTreeMap<String, u64>) -> Counts {
    let mut c = Counts::default();
    for (ty, &n) in cells {
        let t = ty.as_str();
        let lut_size = t
            .strip_prefix("LUT")
            .and_then(|r| r.chars().next())
            .and_then(|d| d.to_digit(10))
            .filter(|d| (1..=6).contains(d));
        if let Some(k) = lut_size {
            c.lut_by_size[k as usize - 1] += n;
        } else if t == "$scopeinfo" {
            // Newer yosys keeps the flattened hierarchy's names in these: no hardware.
            continue;
        } else if t.starts_with('$') {
            *c.unmapped.entry(ty.clone()).or_default() += n;
        } else if t.starts_with("FD") {
            c.ff += n;
        } else if t.starts_with("LD") {
            c.latch += n;
        } else if t == "CARRY4" || t == "CARRY8" {
            c.carry += n;
        } else if t.starts_with("MUXF") {
            c.muxf += n;
        } else if t.starts_with("DSP48") {
            c.dsp += n;
        } else if t.starts_with("RAMB18") {
            c.ramb18 += n;
        } else if t.starts_with("RAMB36") {
            c.ramb36 += n;
        } else if t.starts_with("URAM") {
            c.uram += n;
        } else if t.starts_with("RAM") {
            c.lutram += n;
        } else if t.starts_with("SRL") {
            c.srl += n;
        } else {
            *c.other.entry(ty.clone()).or_default() += n;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_of_parts() {
        let cases = [
            ("xc7z020clg400-1", Some(Family::Xc7)),
            ("xc7z045ffg900-2", Some(Family::Xc7)),
            ("xc7a35ticsg324-1L", Some(Family::Xc7)),
            ("XC7K325T-2FFG900C", Some(Family::Xc7)),
            ("xc7vx485tffg1761-2", Some(Family::Xc7)),
            ("xcku115-flvb2104-2-e", Some(Family::Xcu)),
            ("xcvu440-flga2892-2-e", Some(Family::Xcu)),
            ("xcku5p-ffvb676-2-e", Some(Family::Xcup)),
            ("xcvu9p-flga2104-2L-e", Some(Family::Xcup)),
            ("xczu9eg-ffvb1156-2-e", Some(Family::Xcup)),
            ("xcvu", None),
            ("xc6slx9", None),
            ("ice40", None),
            ("", None),
        ];
        for (part, fam) in cases {
            assert_eq!(Family::of_part(part), fam, "{part}");
        }
        // Every part of kiln's device table has a family.
        for d in kiln_passes::target::DEVICES {
            assert!(Family::of_part(d.part).is_some(), "{}", d.part);
        }
        assert_eq!(Family::parse("xcu"), Some(Family::Xcu));
        assert_eq!(Family::parse("xc6s"), None);
    }

    #[test]
    fn script_reads_sources_and_maps_for_the_family() {
        let job = Job {
            top: "top".into(),
            sources: vec!["a.v".into(), "sub/b.sv".into()],
            family: Family::Xcup,
            share: true,
        };
        let s = script(&job);
        assert!(s.contains("read_verilog a.v\n"));
        assert!(s.contains("read_verilog -sv sub/b.sv\n"));
        assert!(s.contains("synth_xilinx -flatten -noiopad -noclkbuf -family xcup -top top\n"));
        assert!(!s.contains("\nalumacc\n"));
        let chained = script(&Job {
            share: false,
            ..job.clone()
        });
        assert!(chained.contains("-top top -run begin:coarse\n"));
        assert!(chained.contains("\nalumacc\nopt\nmemory -nomap\nopt_clean\n"));
        assert!(chained.contains("-top top -run map_memory:\n"));
        assert!(!chained.contains("\nshare"));
        assert!(s.contains("stat -json"));
        assert!(s.contains("\nltp -noff "));
    }

    #[test]
    fn names_safe_for_the_script() {
        assert!(script_safe_path("kiln_top.v"));
        assert!(script_safe_path("rtl/stage-1.sv"));
        for bad in ["", "a b.v", "a;b.v", "a\"b", "x#.v", "a\\b", "a\nb"] {
            assert!(!script_safe_path(bad), "{bad:?}");
        }
        assert!(verilog_identifier("kiln_top"));
        assert!(verilog_identifier("_t$1"));
        for bad in ["", "1top", "a-b", "a b", "top;"] {
            assert!(!verilog_identifier(bad), "{bad:?}");
        }
    }

    #[test]
    fn stat_json_of_yosys_0_23() {
        let json = r#"{
   "creator": "Yosys 0.23 (git sha1 7ce5011c24b)",
   "invocation": "stat -json ",
   "modules": { "\\mac": { "num_cells": 3, "num_cells_by_type": { "DSP48E1": 1, "FDRE": 2 } } },
      "design": {
         "num_cells":         3,
         "num_cells_by_type": {
            "DSP48E1": 1,
            "FDRE": 2
         }
      }
}"#;
        let (v, cells) = parse_stat(json).unwrap();
        assert_eq!(v, "Yosys 0.23 (git sha1 7ce5011c24b)");
        assert_eq!(cells.get("DSP48E1"), Some(&1));
        assert_eq!(cells.get("FDRE"), Some(&2));
        let empty = r#"{"creator": "Yosys 0.23", "design": {"num_cells": 0}}"#;
        assert!(parse_stat(empty).unwrap().1.is_empty());
        assert!(parse_stat(r#"{"design": {}}"#).is_err());
        assert!(parse_stat("not json").is_err());
    }

    #[test]
    fn ltp_report() {
        let log = "\
3. Executing LTP pass (find longest path).

Longest topological path in tree (length=3):
    0: \\r5 [0]
    1: $abc$1 (via $abc$2)
    2: $abc$3 (via $abc$4)
    3: \\s [16] (via $carry$5)

End of script.
";
        let p = parse_ltp(log).unwrap();
        assert_eq!(p.levels, 3);
        assert_eq!(p.from, "r5[0]");
        assert_eq!(p.to, "s[16]");
        let zero = "Longest topological path in w (length=0):\n    0: \\a\n";
        assert_eq!(parse_ltp(zero).unwrap().levels, 0);
        assert_eq!(parse_ltp("nothing here"), None);
    }

    #[test]
    fn error_tail_ends_at_the_error() {
        let log = "\
-- Executing script file `synth.ys' --

1. Executing Verilog-2005 frontend: bad.v
Parsing Verilog input from `bad.v' to AST representation.
bad.v:2: ERROR: syntax error, unexpected ';'
";
        assert_eq!(
            error_tail(log).unwrap(),
            "1. Executing Verilog-2005 frontend: bad.v\n\
             Parsing Verilog input from `bad.v' to AST representation.\n\
             bad.v:2: ERROR: syntax error, unexpected ';'"
        );
        assert_eq!(error_tail("all fine\n"), None);
        let log = "\
Generating RTLIL representation for module `\\VCU'.
Successfully finished Verilog frontend.
2.3. Executing HIERARCHY pass (managing design hierarchy).
ERROR: Module `nope' not found!
";
        assert_eq!(
            error_tail(log).unwrap(),
            "2.3. Executing HIERARCHY pass (managing design hierarchy).\n\
             ERROR: Module `nope' not found!"
        );
    }

    #[test]
    fn cells_into_resource_classes() {
        let cells: BTreeMap<String, u64> = [
            ("LUT1", 1),
            ("LUT2", 2),
            ("LUT6", 6),
            ("LUT6_2", 1),
            ("FDRE", 10),
            ("FDCE", 1),
            ("LDCE", 1),
            ("CARRY4", 3),
            ("CARRY8", 1),
            ("MUXF7", 2),
            ("DSP48E1", 4),
            ("RAMB18E1", 1),
            ("RAMB36E2", 2),
            ("RAM64X1D", 2),
            ("SRLC32E", 1),
            ("INV", 1),
            ("$_DLATCH_P_", 1),
            ("$scopeinfo", 3),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let c = classify(&cells);
        assert_eq!(c.lut_by_size, [1, 2, 0, 0, 0, 7]);
        assert_eq!(c.lut(), 10);
        assert_eq!((c.ff, c.latch, c.carry, c.muxf, c.dsp), (11, 1, 4, 2, 4));
        assert_eq!((c.ramb18, c.ramb36, c.bram18()), (1, 2, 5));
        assert_eq!((c.lutram, c.srl), (2, 1));
        assert_eq!(c.other.get("INV"), Some(&1));
        assert_eq!(c.unmapped.get("$_DLATCH_P_"), Some(&1));
        assert_eq!(c.unmapped.len(), 1, "$scopeinfo is no hardware");
    }

    #[test]
    fn ltp_loops_are_one_warning_that_says_what_they_are() {
        let log = "Warning: Replacing memory \\m with list of registers.\n\
                   16. Executing LTP pass (find longest path).\n\
                   Warning: Detected loop at \\u1.w73 [12] in top\n\
                   Warning: Detected loop at \\u1.w31 [14] in top\n\
                   Warning: Resizing cell port top.r.DOADO from 16 bits to 32 bits.\n\
                   Warning: found logic loop in module top:\n";
        let w = warnings(log);
        assert_eq!(w.len(), 3, "{w:?}");
        assert_eq!(w[0], "Replacing memory \\m with list of registers.");
        assert!(
            w[1].starts_with(
                "ltp (the longest path) met 2 loop(s), the first at \\u1.w73 [12] in top:"
            ),
            "{w:?}"
        );
        assert_eq!(w[2], "found logic loop in module top:");
    }
}
