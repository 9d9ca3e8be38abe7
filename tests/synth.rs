//! `kiln synth DIR`: hand-written Verilog fixtures (tests/synth/NAME/, each with the
//! `kiln_rtl.json` manifest `kiln rtl` writes) synthesized by yosys for a Xilinx family,
//! and checked for the cells they must map to: a multiply-accumulate into a DSP48, a ROM
//! and a RAM into RAMB18s, an adder tree into LUTs and carry chains with its exact
//! register count. Error cases (tests/synth/errors/NAME/, goldens NAME.stderr, the
//! temporary directory shown as `$DIR`) check the diagnostics.
//!
//! Tests that run yosys print a line and pass when it is not installed (`.ci/run`
//! installs it); the diagnostics that do not reach yosys are checked everywhere.

mod common;

use common::{check_golden, root};
use kiln::measured::Measured;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether yosys can run (KILN_YOSYS or `yosys` on the PATH); prints why a test is skipped.
fn have_yosys(test: &str) -> bool {
    let ok = Command::new(kiln::yosys::program())
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "yosys is not installed: skipping {test} (install it with `apt-get install yosys`, \
             as .ci/run does)"
        );
    }
    ok
}

/// A copy of tests/synth/NAME in a temporary directory (kiln synth writes into DIR).
fn fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::Builder::new()
        .prefix("kiln-synth-")
        .tempdir()
        .expect("temporary directory");
    copy_dir(&root().join("tests/synth").join(name), tmp.path());
    tmp
}

fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.expect("directory entry");
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            std::fs::create_dir_all(&dest).expect("create directory");
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy fixture file");
        }
    }
}

/// Runs `kiln synth DIR ARGS...` with extra environment variables: (code, stdout, stderr).
fn synth(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("synth")
        .arg(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("run kiln");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Synthesizes a fixture and reads back its synth.json.
fn measure(name: &str, args: &[&str]) -> (Measured, String, String) {
    let dir = fixture(name);
    let (code, stdout, stderr) = synth(dir.path(), args, &[]);
    assert_eq!(code, 0, "kiln synth {name} failed:\n{stderr}");
    let m = Measured::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{name} {args:?}: {:.2} s, {} LUT, {} FF, {} CARRY, {} DSP, {} RAMB18, {} RAMB36, {} levels",
        m.seconds,
        m.counts.lut(),
        m.counts.ff,
        m.counts.carry,
        m.counts.dsp,
        m.counts.ramb18,
        m.counts.ramb36,
        m.longest_path.as_ref().map_or(0, |p| p.levels)
    );
    (m, stdout, stderr)
}

#[test]
fn multiply_accumulate_maps_to_a_dsp48e1() {
    if !have_yosys("multiply_accumulate_maps_to_a_dsp48e1") {
        return;
    }
    let (m, stdout, stderr) = measure("mac", &[]);
    assert_eq!(m.family, "xc7");
    assert_eq!(m.part.as_deref(), Some("xc7z020clg400-1"));
    assert_eq!(m.cells.get("DSP48E1"), Some(&1), "{:?}", m.cells);
    // An 8x8 product in LUTs takes dozens of them: the product and the accumulation are
    // in the DSP, with its registers.
    assert!(m.counts.lut() < 8, "{:?}", m.cells);
    assert!(m.counts.ff < 8, "{:?}", m.cells);
    assert!(
        stdout.contains("DSP48                 1  1 DSP48E1; 0.5% of 220"),
        "{stdout}"
    );
    assert!(stderr.contains("synth: yosys "), "{stderr}");
}

#[test]
fn part_chooses_the_family_ultrascale_plus_dsp48e2() {
    if !have_yosys("part_chooses_the_family_ultrascale_plus_dsp48e2") {
        return;
    }
    let (m, _, stderr) = measure("mac", &["--part", "xczu9eg-ffvb1156-2-e"]);
    assert_eq!(m.family, "xcup");
    assert!(
        m.cells.get("DSP48E2").is_some_and(|&n| n >= 1),
        "{:?}",
        m.cells
    );
    assert!(!m.cells.contains_key("DSP48E1"), "{:?}", m.cells);
    assert!(
        stderr.contains(
            "note: --part xczu9eg-ffvb1156-2-e (xcup) overrides the manifest's family xc7"
        ),
        "{stderr}"
    );
}

#[test]
fn rom_and_ram_map_to_block_ram() {
    if !have_yosys("rom_and_ram_map_to_block_ram") {
        return;
    }
    let (m, stdout, _) = measure("mem", &[]);
    assert_eq!(m.family, "xc7", "the family comes from the manifest's part");
    // The 16 Kbit ROM and the 9 Kbit RAM each fit one RAMB18 (or share a RAMB36).
    assert!(m.counts.bram18() >= 2, "{:?}", m.cells);
    assert!(
        m.cells.contains_key("RAMB18E1") || m.cells.contains_key("RAMB36E1"),
        "{:?}",
        m.cells
    );
    assert_eq!(m.counts.lutram, 0, "no distributed RAM: {:?}", m.cells);
    assert!(m.counts.lut() < 16, "{:?}", m.cells);
    assert!(stdout.contains("BRAM18"), "{stdout}");
}

#[test]
fn adder_tree_maps_to_luts_and_carry_chains() {
    if !have_yosys("adder_tree_maps_to_luts_and_carry_chains") {
        return;
    }
    let (m, _, _) = measure("adder_tree", &[]);
    // 8 x 16 input registers and the 19-bit sum: every one is needed.
    assert_eq!(m.counts.ff, 147, "{:?}", m.cells);
    assert_eq!(m.counts.dsp, 0, "{:?}", m.cells);
    // The last adder alone is a 19-bit carry chain: five CARRY4.
    assert!(m.counts.carry >= 5, "{:?}", m.cells);
    // Seven additions of 16 to 18 bits: at least one LUT per result bit of the last.
    assert!(m.counts.lut() >= 19, "{:?}", m.cells);
    let path = m.longest_path.expect("a longest path");
    assert!(path.levels >= 5, "{path:?}");
    assert!(
        path.from.starts_with('r'),
        "starts at an input register: {path:?}"
    );
}

/// The golden of an error case: stderr with the design's directory shown as `$DIR`.
fn check_error(name: &str, dir: &Path, args: &[&str], env: &[(&str, &str)]) {
    let (code, stdout, stderr) = synth(dir, args, env);
    assert_eq!(code, 1, "{name}: exit code\n{stderr}");
    assert!(stdout.is_empty(), "{name}: stdout {stdout}");
    let shown = stderr.replace(&dir.display().to_string(), "$DIR");
    check_golden(&golden(name), &shown);
}

fn golden(name: &str) -> PathBuf {
    root()
        .join("tests/synth/errors")
        .join(format!("{name}.stderr"))
}

#[test]
fn manifest_errors_are_diagnostics() {
    for name in [
        "no_manifest",
        "bad_json",
        "missing_source",
        "bad_family",
        "bad_top",
    ] {
        let dir = fixture(&format!("errors/{name}"));
        check_error(name, dir.path(), &[], &[]);
    }
    let missing = std::env::temp_dir().join("kiln-synth-no-such-directory");
    check_error("no_directory", &missing, &[], &[]);
}

#[test]
fn unknown_part_is_e0516() {
    let dir = fixture("mac");
    check_error(
        "unknown_part",
        dir.path(),
        &["--part", "xc6slx9-2tqg144"],
        &[],
    );
}

#[test]
fn missing_yosys_says_how_to_install_it() {
    let dir = fixture("mac");
    check_error(
        "yosys_missing",
        dir.path(),
        &[],
        &[("KILN_YOSYS", "/nonexistent/bin/yosys")],
    );
}

#[test]
fn yosys_errors_show_the_end_of_its_log() {
    if !have_yosys("yosys_errors_show_the_end_of_its_log") {
        return;
    }
    for name in ["syntax_error", "unknown_top"] {
        let dir = fixture(&format!("errors/{name}"));
        check_error(name, dir.path(), &[], &[]);
        assert!(dir.path().join("synth.log").is_file());
        assert!(
            !dir.path().join("synth.json").exists(),
            "{name}: no synth.json"
        );
    }
}

/// `kiln report FILE --measured DIR`: yosys' counts of DIR beside the estimate.
#[test]
fn report_prints_the_measured_counts_beside_the_estimate() {
    if !have_yosys("report_prints_the_measured_counts_beside_the_estimate") {
        return;
    }
    let dir = fixture("mac");
    let (code, _, stderr) = synth(dir.path(), &[], &[]);
    assert_eq!(code, 0, "{stderr}");
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args([
            "report",
            "examples/gemm/gemm.kiln",
            "--part",
            "xc7z020",
            "--measured",
        ])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .expect("run kiln");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("measured (Yosys"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("DSP") && l.trim_end().ends_with('%')),
        "{out}"
    );
}

/// `--measured` of a directory without a synthesis record is E0620, exit 1.
#[test]
fn report_without_a_measurement_is_a_diagnostic() {
    let dir = fixture("mac");
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["report", "examples/gemm/gemm.kiln", "--measured"])
        .arg(dir.path())
        .current_dir(root())
        .output()
        .expect("run kiln");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("E0620") && err.contains("kiln synth"), "{err}");
}

/// `kiln ARGS` run from the project root: exit code, stdout, stderr.
fn kiln_at_root(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run kiln");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A network through the whole open path in CI: `kiln rtl` of LeNet (every loop one
/// statement per cycle: the pipelined form takes yosys far longer, docs/rtl.md), `kiln
/// synth` for the ZC706's xc7z045, and `kiln report --measured` beside the estimate.
#[test]
fn lenet_synthesizes_and_the_report_shows_it() {
    if !have_yosys("lenet_synthesizes_and_the_report_shows_it") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("kiln-synth-lenet-")
        .tempdir()
        .expect("temporary directory");
    let d = dir.path().to_string_lossy().into_owned();
    let (code, _, err) = kiln_at_root(&[
        "rtl",
        "examples/lenet/lenet.kiln",
        "-o",
        &d,
        "--no-pipeline",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ]);
    assert_eq!(code, 0, "kiln rtl: {err}");
    let (code, out, err) = kiln_at_root(&["synth", &d]);
    assert_eq!(code, 0, "kiln synth: {err}");
    eprintln!("{out}{err}");
    let m = Measured::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.family, "xc7");
    // The 8-bit and wider products of the convolutions map to DSP48E1s; the rest is LUTs
    // (981; 2,287 before its memories over 1 Kbit were block RAM).
    assert!(m.counts.dsp >= 1, "{:?}", m.cells);
    assert!(m.counts.lut() > 500, "{:?}", m.cells);
    // The RTL's own model of what it built (backends/rtl/src/cost.rs): the DSP48s, the
    // distributed-RAM cells and the block RAM exactly, the LUTs within the issue's 25%.
    let model = kiln::measured::load_model(dir.path()).expect("a sequential design has a model");
    assert_eq!(model.dsp, m.counts.dsp, "{model:?} {:?}", m.cells);
    assert_eq!(model.lutram, m.counts.lutram, "{model:?} {:?}", m.cells);
    // Its feature maps and weights over 1 Kbit are block RAM (bram.rs), as many RAMB18s
    // as the model counts.
    assert!(model.bram18 > 0, "{model:?}");
    assert_eq!(model.bram18, m.counts.bram18(), "{model:?} {:?}", m.cells);
    let err = (model.lut as f64 - m.counts.lut() as f64) / m.counts.lut() as f64;
    assert!(
        err.abs() <= 0.25,
        "LUT model {} vs yosys {}",
        model.lut,
        m.counts.lut()
    );
    assert!(
        out.contains("the sequential design as the RTL builds it"),
        "{out}"
    );
    let (code, out, err) = kiln_at_root(&[
        "report",
        "examples/lenet/lenet.kiln",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
        "--measured",
        &d,
    ]);
    assert_eq!(code, 0, "kiln report: {err}");
    assert!(out.contains("measured (Yosys"), "{out}");
    assert!(
        out.contains("the sequential design as the RTL builds it"),
        "{out}"
    );
}

/// The estimate's DSP and BRAM18 figures of `kernel`'s entry (`top NAME: ... cycles (...),
/// D DSP, B BRAM18, L LUT`) from `kiln report`'s output.
fn estimate_of(report: &str) -> (u64, u64, u64) {
    let line = report
        .lines()
        .find(|l| l.starts_with("top "))
        .unwrap_or_else(|| panic!("no `top` line in\n{report}"));
    let figure = |unit: &str| -> u64 {
        line.split(", ")
            .find_map(|p| p.trim().strip_suffix(unit))
            .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {unit} in {line}"))
    };
    (figure(" DSP"), figure(" BRAM18"), figure(" LUT"))
}

/// A pipelined design (chained iterations, `kiln rtl`'s default) synthesizes: the benchmark
/// binary convolution, whose window reads select among the banks of its input buffer at
/// banks computed from the counters (docs/rtl.md). `kiln synth` leaves out yosys' `share`
/// pass for it (src/yosys.rs), and its DSP48 and block-RAM counts are the estimate's
/// exactly: no DSP48 (`bin` x `bin` products are XNORs), no block RAM (the buffers are
/// distributed RAM, read combinationally). Its LUTs are within 25% of the estimate's,
/// whose read-multiplexer and port-sequencing terms price the window reads
/// (docs/rtl-synthesis.md, "Pipelined designs against the estimate"; before those terms
/// the estimate was a sixth of yosys' count).
#[test]
fn pipelined_conv_bin_synthesizes_with_the_estimates_resources() {
    if !have_yosys("pipelined_conv_bin_synthesizes_with_the_estimates_resources") {
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("kiln-synth-conv-bin-")
        .tempdir()
        .expect("temporary directory");
    let d = dir.path().to_string_lossy().into_owned();
    let design = [
        "examples/bench/conv_bin.kiln",
        "--kernel",
        "conv",
        "--input",
        "x=examples/bench/data/small/conv_bin_x.npy",
        "--input",
        "w=examples/bench/data/small/conv_bin_w.npy",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ];
    let mut args = vec!["rtl", "-o", &d];
    args.extend(design);
    let (code, _, err) = kiln_at_root(&args);
    assert_eq!(code, 0, "kiln rtl: {err}");
    assert!(err.contains("one iteration per cycle"), "{err}");
    let (code, out, err) = kiln_at_root(&["synth", &d]);
    assert_eq!(code, 0, "kiln synth: {err}");
    eprintln!("{out}{err}");
    assert!(err.contains("without yosys' `share` pass"), "{err}");
    let script = std::fs::read_to_string(dir.path().join("synth.ys")).expect("synth.ys");
    assert!(script.contains("-run map_memory:"), "{script}");
    assert!(!script.contains("\nshare"), "{script}");
    let m = Measured::load(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let mut args = vec!["report"];
    args.extend(design);
    let (code, report, err) = kiln_at_root(&args);
    assert_eq!(code, 0, "kiln report: {err}");
    let (dsp, bram18, lut) = estimate_of(&report);
    assert_eq!(m.counts.dsp, dsp, "{:?}", m.cells);
    assert_eq!(
        m.counts.ramb18 + 2 * m.counts.ramb36,
        bram18,
        "{:?}",
        m.cells
    );
    assert!(m.counts.lutram > 0, "{:?}", m.cells);
    let measured = m.counts.lut();
    eprintln!(
        "conv_bin pipelined: {measured} LUT measured, {lut} estimated; {:.1} s",
        m.seconds
    );
    let error = (lut as f64 - measured as f64) / measured as f64;
    assert!(
        error.abs() <= 0.25,
        "estimate {lut} LUT against yosys' {measured}: {:+.0}%",
        error * 100.0
    );
}

/// A pipelined iteration that takes several cycles (it reads `x` four times through one
/// port) and stores four elements into the local `t`, split cyclic 2 (two stores a bank):
/// the RTL gives the stores phases (docs/rtl.md, "Parameter ports and II > 1"), so each
/// bank has one write port and yosys builds `t` as distributed RAM. With the stores in
/// one cycle, each bank had two write ports, and `t` (288 bits) was registers.
#[test]
fn phased_local_stores_keep_one_write_port_per_bank() {
    if !have_yosys("phased_local_stores") {
        return;
    }
    let src = r#"kernel fill(x: int<8>[8, 4]) -> int<10>[8, 2]:
    t: int<9>[8, 4]
    for i in range(8):
        for j in range(4):
            t[i, j] = x[i, j] + j
    y: int<10>[8, 2]
    for k in range(8):
        y[k, 0] = t[k, 0] + t[k, 2]
        y[k, 1] = t[k, 1] - t[k, 3]
    return y

schedule fill for fpga:
    pipeline(i, ii=1)
    pipeline(k, ii=1)
    partition(t, dim=2, kind=cyclic, factor=2)
"#;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("fill.kiln");
    std::fs::write(&file, src).unwrap();
    let x = kiln_passes::data::TensorValue {
        elem: kiln_numeric::ScalarType::F32,
        shape: vec![8, 4],
        values: (0..32)
            .map(|k| kiln_passes::value::Value::F32(((k * 37) % 256 - 128) as f32))
            .collect(),
    };
    let input = dir.path().join("x.npy");
    kiln::npy::write(&input, &x).expect("write x.npy");
    let input = format!("x={}", input.display());
    let d = dir.path().join("rtl").to_string_lossy().into_owned();
    let f = file.to_string_lossy().into_owned();
    let (code, _, err) =
        kiln_at_root(&["rtl", &f, "-o", &d, "--part", "xc7z020", "--input", &input]);
    assert_eq!(code, 0, "kiln rtl: {err}");
    assert!(err.contains("one iteration every 4 cycles"), "{err}");
    let verilog = std::fs::read_to_string(dir.path().join("rtl/fill.v")).expect("fill.v");
    // Two stores into bank 0, each enabled in its own phase.
    let enables: Vec<&str> = verilog
        .lines()
        .filter(|l| l.contains("_t_mem_b0[") && l.contains("<="))
        .filter_map(|l| l.trim().strip_prefix("if (")?.split(')').next())
        .collect();
    assert_eq!(enables.len(), 2, "{verilog}");
    assert_ne!(enables[0], enables[1], "{verilog}");
    let (code, out, err) = kiln_at_root(&["synth", &d]);
    assert_eq!(code, 0, "kiln synth: {err}");
    eprintln!("{out}{err}");
    let m = Measured::load(Path::new(&d)).unwrap_or_else(|e| panic!("{e}"));
    assert!(m.counts.lutram > 0, "{:?}", m.cells);
    assert!(m.counts.ff < 100, "t built from registers: {:?}", m.cells);
}

/// Four 8 x 8 products, two by two sharing an operand, take two DSP48s
/// (backends/rtl/src/dsp_pack.rs), as the estimate counts them (half a DSP48 each):
/// tests/rtl/packed_products.kiln.
#[test]
fn packed_products_take_one_dsp48_per_pair() {
    if !have_yosys("packed_products") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = common::packed_product_inputs(dir.path());
    let d = dir.path().join("rtl").to_string_lossy().into_owned();
    let mut a: Vec<&str> = vec![
        "rtl",
        "tests/rtl/packed_products.kiln",
        "-o",
        &d,
        "--part",
        "xc7z020",
    ];
    for i in &inputs {
        a.extend(["--input", i.as_str()]);
    }
    let (code, _, err) = kiln_at_root(&a);
    assert_eq!(code, 0, "kiln rtl: {err}");
    let (code, out, err) = kiln_at_root(&["synth", &d]);
    assert_eq!(code, 0, "kiln synth: {err}");
    eprintln!("{out}{err}");
    let m = Measured::load(Path::new(&d)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.counts.dsp, 2, "{:?}", m.cells);
}

/// A read-modify-write of an array in distributed RAM (tests/synth/lutram): `ltp` counts
/// the RAM cells from their read address to their read data only (src/yosys.rs,
/// `LUTRAM_READS`), so there is no loop through their clocked write side and the path
/// is the read, the adder and the register's input (15 levels and a loop warning,
/// from the clock through the write port, before).
#[test]
fn distributed_ram_counts_its_read_path_only() {
    if !have_yosys("distributed_ram_counts_its_read_path_only") {
        return;
    }
    let (m, _, stderr) = measure("lutram", &[]);
    assert!(m.counts.lutram > 0, "{:?}", m.cells);
    assert!(!stderr.contains("loop"), "{stderr}");
    let levels = m.longest_path.as_ref().map_or(0, |p| p.levels);
    assert!((2..=6).contains(&levels), "{levels} levels\n{stderr}");
}
