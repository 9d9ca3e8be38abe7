//! The RTL back end (`kiln rtl`, `kiln rtlsim`; docs/rtl.md).
//!
//! - `conversions_match_kiln_numeric`: the Verilog conversion functions
//!   (backends/rtl/src/fixed.rs) against kiln-numeric's `to_fixed` / `to_int` /
//!   `convert`, bit for bit, in Verilator: every quantization × overflow mode (saturation
//!   bits too), target widths 1 to 13 with negative and beyond-width integer bits, source
//!   formats up to 70 bits wide, each on its edge values and random ones;
//! - examples through `kiln rtl` + `kiln rtlsim`, bit-exact with the JIT: conv_relu,
//!   LeNet over a batch of 8 images, the quantized digits network (digits_q.kiln's
//!   logits and predictions over 60 images in one run; digits_q_one.kiln over a batch of
//!   8), and every exact stdlib.nn layer kind (tests/rtl/nn_layers.kiln); a
//!   corrupted expected value must make `kiln rtlsim` fail with its index;
//! - block RAM: memories over 1 Kbit read at the falling edge where their addresses
//!   allow it (tests/rtl/block_ram.kiln);
//! - diagnostics: what the RTL path cannot build (tests/rtl/diag_*.kiln → `.stderr`; `kiln rtlsim`'s own
//!   errors in tests/rtl/rtlsim_*.stderr; bless
//!   with `KILN_BLESS=1 cargo test --test rtl`), and `kiln rtlsim` without verilator.
//!
//! Tests that need verilator print why they skip when it is not installed.

mod common;

use kiln_numeric::{Fx, Int, Overflow, Quant, ScalarType};
use kiln_rtl::fixed::{conversion_function, Fmt};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn have_verilator() -> bool {
    let ok = Command::new("verilator")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("skipping: verilator is not installed (apt-get install verilator)");
    }
    ok
}

fn tempdir(name: &str) -> PathBuf {
    let d = common::root().join("target").join("rtl-tests").join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create the test directory");
    d
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }

    /// A random raw pattern of `w` bits.
    fn bits(&mut self, w: u32) -> Int {
        let mut v = Int::ZERO;
        let mut got = 0;
        while got < w {
            let take = (w - got).min(32);
            let chunk = Int::from((self.next() & ((1u64 << take) - 1)) as i128);
            v = v.add(&chunk.shl(got));
            got += take;
        }
        v
    }
}

/// The conversion cases: (source format, target type).
fn conversion_cases() -> Vec<(Fmt, ScalarType)> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    let widths = [1u32, 2, 3, 5, 8, 13];
    for q in Quant::ALL {
        for o in Overflow::ALL {
            for (k, &w) in widths.iter().enumerate() {
                // Two of the widths per mode pair, chosen so that every width appears.
                if !(k + q as usize + o as usize).is_multiple_of(3) {
                    continue;
                }
                let signed = o == Overflow::WrapSm || rng.next().is_multiple_of(2);
                let int_bits = rng.range(-3, w as i64 + 3) as i32;
                let sat_bits = if o.is_wrapping() {
                    rng.range(0, (w as i64).min(3)) as u32
                } else {
                    0
                };
                let t = kiln_numeric::FixedType {
                    width: w,
                    int_bits,
                    signed,
                    quant: q,
                    overflow: o,
                    sat_bits,
                };
                if t.validate(1024).is_err() {
                    continue;
                }
                let fw = [1u32, 4, 9, 16, 24, 40, 70][rng.range(0, 6) as usize];
                let from = Fmt::new(fw, rng.range(-4, 20) as i32, rng.next().is_multiple_of(2));
                cases.push((from, ScalarType::Fixed(t)));
            }
        }
    }
    for (w, signed) in [(1, true), (4, false), (8, true), (12, false), (33, true)] {
        let from = Fmt::new(
            rng.range(3, 30) as u32,
            rng.range(-2, 12) as i32,
            rng.next().is_multiple_of(2),
        );
        cases.push((from, ScalarType::Int(kiln_numeric::IntType::new(w, signed))));
    }
    // Sources whose integer part is one bit wide at most (a random program found the
    // one-bit floor).
    cases.push((Fmt::new(8, 8, false), ScalarType::uint(1)));
    cases.push((Fmt::new(5, 4, true), ScalarType::int(4)));
    cases.push((Fmt::new(5, 5, true), ScalarType::int(3)));
    for t in [ScalarType::Bin, ScalarType::Tern, ScalarType::Bool] {
        cases.push((Fmt::new(9, 3, true), t));
        cases.push((Fmt::new(6, -1, false), t));
    }
    cases
}

/// Edge values of a source format, then random ones: raw patterns.
fn source_values(from: Fmt, rng: &mut Rng, n: usize) -> Vec<Int> {
    let w = from.width;
    let top = Int::pow2(w).sub(&Int::ONE);
    let mut v = vec![
        Int::ZERO,
        Int::ONE,
        top.clone(),
        Int::pow2(w - 1),
        Int::pow2(w - 1).sub(&Int::ONE),
    ];
    // Ties and near-ties around every low bit position.
    for b in 1..w.min(8) {
        v.push(Int::pow2(b - 1));
        v.push(top.sub(&Int::pow2(b - 1)).add(&Int::ONE).low_bits(w));
        v.push(Int::pow2(b).add(&Int::pow2(b - 1)).low_bits(w));
    }
    while v.len() < n {
        v.push(rng.bits(w));
    }
    v
}

#[test]
fn conversions_match_kiln_numeric() {
    if !have_verilator() {
        return;
    }
    let dir = tempdir("conversions");
    let cases = conversion_cases();
    let mut rng = Rng(42);
    let n = 48;
    let mut v = String::from("module kiln_tb (\n    input wire clk,\n    output reg finished,\n    output reg ok\n);\n    integer i;\n    integer bad;\n    initial begin\n        finished = 1'b0;\n        ok = 1'b0;\n    end\n");
    assert!(n <= 64);
    let mut checks = String::new();
    let mut modes_seen = std::collections::HashSet::new();
    for (k, (from, to)) in cases.iter().enumerate() {
        if let ScalarType::Fixed(t) = to {
            modes_seen.insert((t.quant, t.overflow));
        }
        v.push_str(&conversion_function(&format!("cvt{k}"), *from, to));
        let raws = source_values(*from, &mut rng, n);
        let mut xs = String::new();
        let mut ys = String::new();
        for r in &raws {
            let mant = kiln_numeric::fixed::mant_from_raw(r, from.width, from.signed);
            let x = Fx::new(mant, from.frac);
            let (y, _) = kiln_passes::value::convert_exact(&x, to);
            let _ = writeln!(xs, "{}", r.to_hex());
            let _ = writeln!(ys, "{}", kiln_rtl::raw_hex(&y, to));
        }
        std::fs::write(dir.join(format!("x{k}.hex")), xs).unwrap();
        std::fs::write(dir.join(format!("y{k}.hex")), ys).unwrap();
        let ow = to.storage_bits();
        let _ = writeln!(
            v,
            "    reg [{}:0] x{k} [0:{}];\n    reg [{}:0] y{k} [0:{}];\n    initial $readmemh(\"x{k}.hex\", x{k});\n    initial $readmemh(\"y{k}.hex\", y{k});",
            from.width - 1,
            raws.len() - 1,
            ow - 1,
            raws.len() - 1
        );
        let _ = writeln!(
            checks,
            "            if (cvt{k}(x{k}[i]) !== y{k}[i]) begin\n                if (bad < 20) $display(\"MISMATCH case {k}: {} -> {}: x=%h got %h want %h\", x{k}[i], cvt{k}(x{k}[i]), y{k}[i]);\n                bad = bad + 1;\n            end",
            from.tag(),
            to
        );
    }
    // Every mode pair (wrap_sm needs signed targets, which it always gets).
    assert_eq!(modes_seen.len(), 35, "every Q/O combination is covered");
    // One value index per clock cycle (a loop would be unrolled around every function).
    let _ = write!(
        v,
        "    initial begin\n        i = 0;\n        bad = 0;\n    end\n    always @(posedge clk) begin\n        if (!finished) begin\n{checks}            if (i == {last}) begin\n                $display(\"CHECKED {} conversions, %0d mismatches\", bad);\n                ok <= (bad == 0);\n                finished <= 1'b1;\n            end\n            i = i + 1;\n        end\n    end\nendmodule\n",
        cases.len() * n,
        last = n - 1
    );
    std::fs::write(dir.join("kiln_tb.v"), v).unwrap();
    std::fs::write(dir.join("kiln_tb_main.cpp"), kiln_rtl::driver()).unwrap();
    let b = Command::new("verilator")
        .current_dir(&dir)
        .args([
            "--cc",
            "--exe",
            "--build",
            "-j",
            "2",
            "-Wno-fatal",
            "-Wno-lint",
            "-Wno-style",
        ])
        .args(["-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"])
        .args([
            "--top-module",
            "kiln_tb",
            "-Mdir",
            "obj_dir",
            "kiln_tb.v",
            "kiln_tb_main.cpp",
        ])
        .output()
        .expect("run verilator");
    assert!(
        b.status.success(),
        "verilator failed:\n{}",
        String::from_utf8_lossy(&b.stderr)
    );
    let r = Command::new("./obj_dir/Vkiln_tb")
        .current_dir(&dir)
        .output()
        .expect("run the simulation");
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(r.status.success() && out.contains(" 0 mismatches"), "{out}");
    eprintln!("{}", out.trim());
}

/// `kiln rtl` then `kiln rtlsim`; returns rtlsim's stdout (asserting PASS).
fn rtl_and_sim(name: &str, file: &Path, extra: &[&str]) -> (PathBuf, String) {
    let dir = tempdir(name);
    let d = dir.to_string_lossy().into_owned();
    let f = file.to_string_lossy().into_owned();
    let mut args = vec!["rtl", f.as_str(), "-o", d.as_str()];
    args.extend(extra);
    let (code, _, err) = common::kiln(&args);
    assert_eq!(code, 0, "kiln rtl {f}:\n{err}");
    let (code, out, err) = common::kiln(&["rtlsim", &d]);
    assert_eq!(code, 0, "kiln rtlsim {name}:\n{out}\n{err}");
    assert!(out.contains("PASS: all "), "{out}");
    eprintln!("{name}:\n{out}");
    (dir, out)
}

/// The memories and banks declared block RAM in the design in `dir` (bram.rs).
fn block_rams(dir: &Path) -> usize {
    assert!(dir.is_dir(), "the design");
    verilog_lines(dir, "(* ram_style = \"block\" *)")
}

fn cycles(out: &str, key: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no `{key}` in:\n{out}"))
}

/// The cycles of each of the top's calls in the first sample, as `kiln rtlsim` prints them.
fn call_cycles(out: &str) -> Vec<f64> {
    out.lines()
        .filter(|l| l.starts_with("cycles of call "))
        .filter_map(|l| l.rsplit(' ').next()?.parse().ok())
        .collect()
}

/// The cycles of the top's slowest call (stage) in the first sample.
fn slowest_call(out: &str) -> f64 {
    call_cycles(out).into_iter().fold(0.0, f64::max)
}

#[test]
fn conv_relu_is_bit_exact_and_a_wrong_value_fails() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let (dir, out) = rtl_and_sim(
        "conv_relu",
        &root.join("examples/conv_relu/conv_relu.kiln"),
        &["--part", "xc7z020"],
    );
    // The copy into the banked buffer reads the input 18 times per pipelined iteration,
    // more than a dual-ported memory gives: one element per cycle (8x18x18); then the
    // pipelined output loop, one output (72 products chained) per cycle (8x16x16); plus
    // the handshakes (start, the callee's DONE, the top's DONE).
    let per_image = cycles(&out, "cycles per image (start to done, first sample):");
    assert_eq!(per_image, (8 * 18 * 18 + 8 * 16 * 16 + 3) as f64, "{out}");
    // Without chaining: one statement per cycle everywhere (72 products, the
    // accumulator's reset and the store per output).
    let (_, seq) = rtl_and_sim(
        "conv_relu_sequential",
        &root.join("examples/conv_relu/conv_relu.kiln"),
        &["--part", "xc7z020", "--no-pipeline"],
    );
    let per_image = cycles(&seq, "cycles per image (start to done, first sample):");
    assert_eq!(
        per_image,
        (8 * 18 * 18 + 8 * 16 * 16 * (72 + 2) + 3) as f64,
        "{seq}"
    );
    let manifest = std::fs::read_to_string(dir.join("kiln_rtl.json")).unwrap();
    for key in [
        "\"top\": \"conv_relu\"",
        "\"family\": \"xc7\"",
        "\"part\": \"xc7z020\"",
        "\"sources\": [",
        "\"inputs\": [",
        "\"outputs\": [",
    ] {
        assert!(manifest.contains(key), "{key} in {manifest}");
    }
    // A wrong expected value: rtlsim must fail and say where.
    let exp = dir.join("conv_relu.p1_result.expected.hex");
    let text = std::fs::read_to_string(&exp).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[37] = if lines[37] == "01" {
        "02".into()
    } else {
        "01".into()
    };
    std::fs::write(&exp, lines.join("\n") + "\n").unwrap();
    let (code, out, err) = common::kiln(&["rtlsim", &dir.to_string_lossy()]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("first mismatch in `result` of sample 0 at [0, 2, 5]"),
        "{out}"
    );
    assert!(err.contains("E0722"), "{err}");
    common::check_golden(&root.join("tests/rtl/rtlsim_mismatch.stderr"), &err);
}

#[test]
fn banked_results_take_one_iteration_per_cycle() {
    if !have_verilator() {
        return;
    }
    // tests/rtl/banks.kiln: `pairs` writes two rows of its result per iteration of a
    // pipelined loop (4 x 8 iterations) into a result split cyclic 2 along its rows, and
    // reads two rows of its argument split alike: one write port and one read per bank,
    // so one iteration per cycle (the caller's memory takes the callee's banks). `pool`
    // reads two elements of its unsplit argument per iteration (8 x 4 iterations of 3
    // statements): one read a cycle, so one iteration every 2 cycles.
    let root = common::root();
    let file = root.join("tests/rtl/banks.kiln");
    let (_, out) = rtl_and_sim("banks", &file, &[]);
    let piped = cycles(&out, "cycles per image (start to done, first sample):");
    let (_, seq) = rtl_and_sim("banks_seq", &file, &["--no-pipeline"]);
    let sequential = cycles(&seq, "cycles per image (start to done, first sample):");
    // pairs: 32 cycles instead of 64 (two stores a cycle); pool: 64 instead of 96.
    assert_eq!(
        cycles(&out, "cycles of call banks_pairs (first sample):"),
        33.0,
        "{out}"
    );
    assert_eq!(
        cycles(&seq, "cycles of call banks_pairs (first sample):"),
        65.0,
        "{seq}"
    );
    assert_eq!(
        cycles(&out, "cycles of call banks_pool (first sample):"),
        65.0,
        "{out}"
    );
    assert_eq!(
        cycles(&seq, "cycles of call banks_pool (first sample):"),
        97.0,
        "{seq}"
    );
    assert_eq!(sequential - piped, 64.0, "{out}\n{seq}");
    let (code, _, err) = common::kiln(&[
        "rtl",
        &file.to_string_lossy(),
        "-o",
        &tempdir("banks_notes").to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("`pairs` loop `j` (pipeline II=1): one iteration per cycle"),
        "{err}"
    );
    assert!(
        err.contains("`pool` loop `j` (pipeline II=1): one iteration every 2 cycles"),
        "{err}"
    );
}

/// tests/rtl.rs `stores_share_a_write_port_by_phase`: pipelined iterations that write
/// one unbanked result several times (one write port: one store per cycle).
const WRITE_PHASES: &str = r#"# `spread` reads x twice and writes y four times per iteration: II 4 (write-bound),
# the stores in phases 0, 1, 2, 3 (y[i, 0] in the phase its value is read).
kernel spread(x: int<8>[8, 2]) -> int<10>[8, 4]:
    y: int<10>[8, 4]
    for i in range(8):
        a = x[i, 0]
        b = x[i, 1]
        y[i, 0] = a
        y[i, 1] = a + b
        y[i, 2] = a - b
        y[i, 3] = max(a, b) * 3
    return y

# `mix` reads y four times per iteration; z[i, 0] goes in phase 0, the branches of the
# `if` in phases 2 and 3 (after the reads of s, in program order), z[i, 2] after its own
# read (phase 3) and the last store (phase 4): II 5 (a store waits for its reads).
kernel mix(y: int<10>[8, 4]) -> int<12>[8, 3]:
    z: int<12>[8, 3]
    for i in range(8):
        z[i, 0] = y[i, 0] + 1
        s = y[i, 1] + y[i, 2]
        if s > 0:
            z[i, 1] = s
        else:
            z[i, 1] = 0 - s
        z[i, 2] = s * 2 + y[i, 3]
    return z

schedule spread for fpga:
    pipeline(i, ii=1)

schedule mix for fpga:
    pipeline(i, ii=1)

kernel main(x: int<8>[8, 2]) -> int<12>[8, 3]:
    return mix(spread(x))
"#;

#[test]
fn stores_share_a_write_port_by_phase() {
    if !have_verilator() {
        return;
    }
    let dir = tempdir("write_phases_src");
    let file = dir.join("write_phases.kiln");
    std::fs::write(&file, WRITE_PHASES).unwrap();
    // Both signs, both orders of x[i, 0] and x[i, 1], equal pairs.
    let values: Vec<f32> = (0..14)
        .map(|k| ((k * 37 + 11) % 256 - 128) as f32)
        .chain([5.0, 5.0])
        .collect();
    assert_eq!(values.len(), 16);
    let x = kiln_passes::data::TensorValue {
        elem: ScalarType::F32,
        shape: vec![8, 2],
        values: values
            .iter()
            .map(|&v| kiln_passes::value::Value::F32(v))
            .collect(),
    };
    let input = dir.join("x.npy");
    kiln::npy::write(&input, &x).expect("write");
    let input = format!("x={}", input.display());
    let (dir, out) = rtl_and_sim("write_phases", &file, &["--input", &input]);
    assert!(
        out.contains("PASS: all 24 result values bit-exact"),
        "{out}"
    );
    // 8 iterations of 4 and of 5 cycles, plus the callee's DONE state.
    assert_eq!(
        cycles(&out, "cycles of call write_phases_spread (first sample):"),
        (8 * 4 + 1) as f64,
        "{out}"
    );
    assert_eq!(
        cycles(&out, "cycles of call write_phases_mix (first sample):"),
        (8 * 5 + 1) as f64,
        "{out}"
    );
    let (_, seq) = rtl_and_sim(
        "write_phases_seq",
        &file,
        &["--input", &input, "--no-pipeline"],
    );
    // One statement per cycle: 6 per iteration of `spread`; 5 of `mix` (z[i, 0], s, the
    // `if`, one branch, z[i, 2]).
    assert_eq!(
        cycles(&seq, "cycles of call write_phases_spread (first sample):"),
        (8 * 6 + 1) as f64,
        "{seq}"
    );
    let (code, _, err) = common::kiln(&[
        "rtl",
        &file.to_string_lossy(),
        "--input",
        &input,
        "-o",
        &dir.join("notes").to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("`spread` loop `i` (pipeline II=1): one iteration every 4 cycles (6 statements chained; it writes one bank of the parameter `y` 4 times"),
        "{err}"
    );
    assert!(
        err.contains("`mix` loop `i` (pipeline II=1): one iteration every 5 cycles (6 statements chained; its stores into the parameter `z` wait for the reads they need, one store a cycle in program order: the last in cycle 5)"),
        "{err}"
    );
    // The early stores read the port in their own phase: y[i, 0] = a in phase 0.
    let v = std::fs::read_to_string(dir.join("write_phases_spread.v")).unwrap();
    assert!(v.contains("== 32'd0) ? p0_x_rd0 :"), "{v}");
}

/// The estimate's side of the write ports (passes/src/analysis/estimate/, "Ports"): a
/// pipelined iteration that stores four elements into one bank of an on-chip array needs
/// two cycles (a block RAM bank has two ports; Vitis relaxes the II the same way), one
/// when the array is split cyclic 2 along the stored dimension (two stores per bank; the
/// two branches of the `if` count as one store). The RTL builds its own memories as
/// registers, which take the four stores in one cycle.
#[test]
fn report_gives_on_chip_banks_two_stores_a_cycle() {
    let src = r#"kernel fill(x: int<8>[8]) -> int<11>[8]:
    t: int<10>[8, 4]
    for i in range(8):
        a = x[i]
        t[i, 0] = a
        t[i, 1] = a + 1
        t[i, 2] = a + 2
        if a > 0:
            t[i, 3] = a + 3
        else:
            t[i, 3] = 0 - a
    y: int<11>[8]
    for k in range(8):
        y[k] = t[k, 0] + t[k, 1] + t[k, 2] + t[k, 3]
    return y

schedule fill for fpga:
    pipeline(i, ii=1)
    pipeline(k, ii=1)
"#;
    let dir = tempdir("store_banks");
    for (name, text, want) in [
        (
            "one_bank",
            src.to_string(),
            "loop i: 8 trips, pipeline II=2 (asked 1)",
        ),
        (
            "two_banks",
            format!("{src}    partition(t, dim=2, kind=cyclic, factor=2)\n"),
            "loop i: 8 trips, pipeline II=1,",
        ),
    ] {
        let file = dir.join(format!("{name}.kiln"));
        std::fs::write(&file, text).unwrap();
        let (code, out, err) =
            common::kiln(&["report", &file.to_string_lossy(), "--part", "xc7z020"]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(want), "{name}: {want}\n{out}");
    }
}

#[test]
fn report_prints_verilators_cycles_beside_the_estimate() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let file = root.join("tests/rtl/banks.kiln");
    let (dir, _) = rtl_and_sim("banks_measured", &file, &[]);
    let record = std::fs::read_to_string(dir.join("rtlsim.json")).expect("rtlsim.json");
    assert!(record.contains("\"latency_max\": 101"), "{record}");
    let (code, out, err) = common::kiln(&[
        "report",
        &file.to_string_lossy(),
        "--measured",
        &dir.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    let top: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("top main: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no top line in:\n{out}"));
    let row = out
        .lines()
        .find(|l| l.contains("the first image through every stage (taken to done)"))
        .unwrap_or_else(|| panic!("no measured cycles in:\n{out}"));
    // estimate, estimate without stream I/O, Verilator, and the two errors.
    let cols: Vec<&str> = row.split_whitespace().rev().take(5).collect();
    let err_pct = 100.0 * (top as f64 - 101.0) / 101.0;
    assert_eq!(cols[2..], ["101", cols[3], &top.to_string()], "{row}");
    assert_eq!(cols[1], format!("{err_pct:+.1}%"), "{row}");
    let no_io: f64 = cols[3].parse().expect("a number");
    assert!(no_io <= top as f64, "{row}");
    assert_eq!(
        cols[0],
        format!("{:+.1}%", 100.0 * (no_io - 101.0) / 101.0),
        "{row}"
    );
    // A row per call of the top, with its own Verilator cycles.
    let pool = out
        .lines()
        .find(|l| l.trim_start().starts_with("call pool "))
        .unwrap_or_else(|| panic!("no row of `pool` in:\n{out}"));
    assert_eq!(pool.split_whitespace().nth(4), Some("65"), "{pool}");
    // Without a measurement: a diagnostic, not a crash.
    let empty = tempdir("banks_no_measurement");
    let (code, _, err) = common::kiln(&[
        "report",
        &file.to_string_lossy(),
        "--measured",
        &empty.to_string_lossy(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("no measurement to compare with"), "{err}");
}

#[test]
fn lenet_over_a_batch_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    // Eight test images as one batch file (the first eight of data/test_images.npy).
    let raw = kiln::npy::read(&root.join("examples/lenet/data/test_images.npy")).expect("read");
    let per = 28 * 28;
    let kiln_passes::data::RawData::F32(v) = &raw.data else {
        panic!("f32 images")
    };
    let batch = kiln_passes::data::TensorValue {
        elem: ScalarType::F32,
        shape: vec![8, 1, 28, 28],
        values: v[..8 * per]
            .iter()
            .map(|&x| kiln_passes::value::Value::F32(x))
            .collect(),
    };
    let dir = tempdir("lenet_input");
    let file = dir.join("x8.npy");
    kiln::npy::write(&file, &batch).expect("write");
    let f = file.to_string_lossy().into_owned();
    let input = format!("x={f}");
    let (dir, out) = rtl_and_sim(
        "lenet",
        &root.join("examples/lenet/lenet.kiln"),
        &[
            "--batch",
            "--input",
            &input,
            "--part",
            "xc7z045",
            "--clock-ns",
            "5",
        ],
    );
    assert!(out.contains("samples: 8"), "{out}");
    assert!(
        out.contains("PASS: all 80 result values bit-exact"),
        "{out}"
    );
    // The convolutions write KPF = 2 output channels per pipelined iteration into results
    // split cyclic 2 along the channels: with a write port per bank they run one
    // iteration per cycle (16,366 cycles per image when written; 278,766 before banks,
    // when those loops ran one statement per cycle).
    let per_image = cycles(&out, "cycles per image (start to done, first sample):");
    assert!(per_image < 20_000.0, "{out}");
    // Its second, third and fourth stages start on their producers' first rows
    // (backends/rtl/src/rows.rs; the dense stage on the rows of the flattened vector):
    // the first image is through in 8,681 cycles where its stages take 11,673 one after
    // another (11,679 when each waited for its producer's whole image). A dense stage
    // that does not wait for its rows: 20 of the 80 values wrong (checked).
    assert_eq!(row_links(&dir), 3, "{out}");
    // Block RAM (backends/rtl/src/bram.rs): the first feature map between a
    // convolution and a pool (two banks, written by one banked callee port; a ring of 4
    // of its 24 rows, ring.rs), the first dense layer's four weight banks and the
    // second's weights. The second feature map's ring (4 of 8 rows) is 1 Kbit a bank:
    // distributed RAM (two block RAMs more as whole images).
    assert_eq!(block_rams(&dir), 7);
    let top = std::fs::read_to_string(dir.join("lenet.v")).unwrap();
    assert!(top.contains("[6, 4, 24], 2 banks of 288"), "{top}");
    assert!(top.contains("[16, 4, 8], 2 banks of 256"), "{top}");
    let stages: f64 = call_cycles(&out).iter().sum();
    assert!(
        per_image < stages - 2_000.0,
        "{per_image} vs {stages}\n{out}"
    );
    // The stages run as a frame pipeline (frame.rs): a result every slowest stage's
    // cycles plus the cycle its next start waits for `done` (4,482 against the 11,682 of
    // the stages one after another).
    assert_eq!(
        cycles(&out, "cycles per image (steady state over the batch):"),
        slowest_call(&out) + 1.0,
        "{out}"
    );
    // Pool + flatten: 20 reads of its input and four stores into its unbanked result per
    // iteration of its pipelined loop, the stores sharing the write port by phase: 64
    // iterations at II = 20, the estimate's (1,793 cycles when it ran one statement per
    // cycle).
    assert_eq!(
        cycles(
            &out,
            "cycles of call lenet_maxpool2d_1_flatten (first sample):"
        ),
        (64 * 20 + 1) as f64,
        "{out}"
    );
}

/// A network's calls run as concurrent stages (backends/rtl/src/frame.rs) over a batch:
/// tests/rtl/frame_pipeline.kiln has a fast first stage feeding a slow one, a feature map
/// read by two stages, a result that a later stage reads and a scalar argument made in
/// the top. Bit-exact, a result every slowest stage's cycles plus one, where the
/// sequential top (`--no-dataflow`) takes every stage's one after another. The fast first
/// stage is held back until the slow readers are done with the half it writes: with that
/// condition removed the results are wrong (checked).
#[test]
fn network_stages_run_as_a_frame_pipeline() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("frame_pipeline_input");
    let values: Vec<i64> = (0..8 * 16).map(|i| (i * 89 + 13) % 256 - 128).collect();
    let mut values = values;
    values[..4].copy_from_slice(&[-128, 127, 0, -1]);
    let batch = kiln_passes::data::TensorValue {
        elem: ScalarType::F32,
        shape: vec![8, 16],
        values: values
            .iter()
            .map(|&x| kiln_passes::value::Value::F32(x as f32))
            .collect(),
    };
    let file = dir.join("x8.npy");
    kiln::npy::write(&file, &batch).expect("write");
    let input = format!("x={}", file.display());
    let kiln_file = root.join("tests/rtl/frame_pipeline.kiln");
    // No automatic schedule, so that no pass fuses the calls into one.
    let args = ["--batch", "--input", &input, "--no-auto-schedule"];
    let (dir, out) = rtl_and_sim("frame_pipeline", &kiln_file, &args);
    assert!(
        out.contains("PASS: all 136 result values bit-exact"),
        "{out}"
    );
    let manifest = std::fs::read_to_string(dir.join("kiln_rtl.json")).expect("manifest");
    assert!(manifest.contains("\"dataflow\": true"), "{manifest}");
    let steady = cycles(&out, "cycles per image (steady state over the batch):");
    assert_eq!(steady, slowest_call(&out) + 1.0, "{out}");
    let mut seq_args = args.to_vec();
    seq_args.push("--no-dataflow");
    let (dir, seq) = rtl_and_sim("frame_pipeline_sequential", &kiln_file, &seq_args);
    assert!(
        seq.contains("PASS: all 136 result values bit-exact"),
        "{seq}"
    );
    let manifest = std::fs::read_to_string(dir.join("kiln_rtl.json")).expect("manifest");
    assert!(manifest.contains("\"dataflow\": false"), "{manifest}");
    let seq_steady = cycles(&seq, "cycles per image (steady state over the batch):");
    let stages: f64 = call_cycles(&seq).iter().sum();
    assert!(seq_steady > stages, "{seq}");
    assert!(
        steady < seq_steady,
        "{steady} vs {seq_steady}\n{out}\n{seq}"
    );
    // The input read by two stages (`join` reads `x` too): a copy stage moves each image
    // into a double buffer of the top's, which both read, so the top takes the next
    // image as soon as the copy is done and the first stage need not wait for the last
    // (without the copy: 327 cycles a result).
    let src = std::fs::read_to_string(&kiln_file).expect("frame_pipeline.kiln");
    let twice = src
        .replace(
            "join[T, U](a: T[16], b: U[16], k",
            "join[T, U, V](a: T[16], b: U[16], x: V[16], k",
        )
        .replace("a[i] * k + b[i] for", "a[i] * k + b[i] - x[i] for")
        .replace("join(a, b, 3)", "join(a, b, x, 3)");
    assert_ne!(twice, src);
    let file = tempdir("frame_pipeline_src").join("input_twice.kiln");
    std::fs::write(&file, twice).unwrap();
    let (two_dir, two) = rtl_and_sim("frame_pipeline_input_twice", &file, &args);
    assert!(
        two.contains("PASS: all 136 result values bit-exact"),
        "{two}"
    );
    let two_steady = cycles(&two, "cycles per image (steady state over the batch):");
    assert_eq!(two_steady, slowest_call(&two) + 1.0, "{two}");
    let top = std::fs::read_to_string(two_dir.join("input_twice.v")).expect("top");
    assert!(top.contains("copies `x` (read by several stages)"), "{top}");
}

/// An f32 tensor of `shape` whose element `i` is `f(i)` (data for `--input` files).
fn f32_tensor(shape: Vec<usize>, f: &dyn Fn(i64) -> f32) -> kiln_passes::data::TensorValue {
    let n: usize = shape.iter().product();
    kiln_passes::data::TensorValue {
        elem: ScalarType::F32,
        shape,
        values: (0..n as i64)
            .map(|i| kiln_passes::value::Value::F32(f(i)))
            .collect(),
    }
}

/// `kiln rtl`'s arguments for a batch in `--input` `input` on xc7z045 at 5 ns, with the
/// schedule as written (each layer a stage of its own).
fn stage_args(input: &str) -> [&str; 8] {
    [
        "--batch",
        "--input",
        input,
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
        "--no-auto-schedule",
    ]
}

/// Image stages linked row by row (backends/rtl/src/rows.rs): tests/rtl/row_pipeline.kiln
/// (a padded 3 x 3 convolution, whose window reaches the row above and below; a depthwise
/// convolution of stride 2 and a max pool both reading its result; an add of the two;
/// a convolution reading a result of the top) as nine separate stages, over 8 images.
/// Bit-exact; every image input but the top's own is fed row by row by its producer;
/// the first image is through sooner than the stages on its longest path take one after
/// another (each waited for its producer's whole image before). Holding never: 1,526 of
/// the 1,536 values wrong (checked by setting `rows_hold` to 0 in every stage). Six of
/// the feature maps are rings of rows.
#[test]
fn stages_start_on_their_producers_first_rows() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("row_pipeline_input");
    let weights = |k: i64, c: i64| move |i: i64| ((i * k + c) % 15 - 7) as f32;
    for (name, shape, f) in [
        ("w1.npy", vec![4, 2, 3, 3], weights(7, 3)),
        ("w2.npy", vec![4, 3, 3], weights(5, 1)),
        ("w3.npy", vec![3, 4, 3, 3], weights(11, 2)),
    ] {
        kiln::npy::write(&dir.join(name), &f32_tensor(shape, &f)).expect("write");
    }
    // Inputs over fixed<8, 3>'s whole range, its extremes first.
    let mut x = f32_tensor(vec![8, 2, 12, 12], &|i| {
        (((i * 37 + 11) % 256) - 128) as f32 / 16.0
    });
    for (v, e) in x.values.iter_mut().zip([-8.0, 7.9375, 0.0, -0.0625]) {
        *v = kiln_passes::value::Value::F32(e);
    }
    let file = dir.join("x8.npy");
    kiln::npy::write(&file, &x).expect("write");
    let kiln_file = dir.join("row_pipeline.kiln");
    std::fs::copy(root.join("tests/rtl/row_pipeline.kiln"), &kiln_file).expect("copy");
    let input = format!("x={}", file.display());
    let args = stage_args(&input);
    let (design, out) = rtl_and_sim("row_pipeline", &kiln_file, &args);
    assert!(
        out.contains("PASS: all 1536 result values bit-exact"),
        "{out}"
    );
    assert_eq!(row_links(&design), 9, "{out}");
    // Six of those feature maps, each read by one stage through a window, are rings of
    // 2 rows (backends/rtl/src/ring.rs); the convolution's result, read by two stages,
    // stays whole. Producers that ignore the ring's room: 537 of the 1,536 values
    // wrong (checked by tying every `P_room` to 2^31 - 1).
    assert_eq!(rings(&design), 6, "{out}");
    let call = |name: &str| {
        cycles(
            &out,
            &format!("cycles of call row_pipeline_{name} (first sample):"),
        )
    };
    let longest_path: f64 = [
        "conv2d",
        "relu",
        "requantize",
        "depthwise_conv2d",
        "requantize_1",
        "add",
        "conv2d_1",
        "requantize_2",
    ]
    .iter()
    .map(|n| call(n))
    .sum();
    let first = cycles(&out, "cycles per image (start to done, first sample):");
    assert!(first < longest_path, "{first} vs {longest_path}\n{out}");
    // Its slowest stage reads the top's input: the top takes the next image in that
    // stage's last cycle (frame.rs, `ready`), so it too starts again the cycle after its
    // `done` (11,915 cycles a result, two more than the stage, before).
    assert_eq!(
        cycles(&out, "cycles per image (steady state over the batch):"),
        slowest_call(&out) + 1.0,
        "{out}"
    );
    // The sequential top of the same stages, and the stages the automatic schedule fuses
    // (none with a row plan here): bit-exact too.
    for (name, a) in [
        (
            "row_pipeline_sequential",
            [&args[..], &["--no-dataflow"]].concat(),
        ),
        ("row_pipeline_fused", args[..7].to_vec()),
    ] {
        let (_, out) = rtl_and_sim(name, &kiln_file, &a);
        assert!(
            out.contains("PASS: all 1536 result values bit-exact"),
            "{out}"
        );
    }
}

#[test]
fn quantized_digits_network_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    // digits_q.kiln returns its accuracy as an f32 (which the RTL path refuses, see
    // rtl_refuses_floats): the same network returning its logits and predictions.
    let root = common::root();
    let dir = tempdir("digits_q_src");
    let src = std::fs::read_to_string(root.join("examples/digits/digits_q.kiln")).unwrap();
    let text: String = src
        .lines()
        .filter(|l| {
            !l.trim_start().starts_with("accuracy =") && !l.trim_start().starts_with("correct =")
        })
        .map(|l| {
            l.replace("-> (f32, [N]):", "-> ([N, 10], [N]):")
                .replace("return accuracy, predicted", "return logits, predicted")
                .replace("x_test.npy", "x_head.npy")
                .replace("y_test.npy", "y_head.npy")
                + "\n"
        })
        .collect();
    assert!(text.contains("return logits, predicted"));
    std::fs::write(dir.join("digits_q.kiln"), text).unwrap();
    for sub in ["q", "data"] {
        std::os::unix::fs::symlink(root.join("examples/digits").join(sub), dir.join(sub)).unwrap();
    }
    let (rtl, out) = rtl_and_sim("digits_q", &dir.join("digits_q.kiln"), &[]);
    assert!(
        out.contains("PASS: all 660 result values bit-exact"),
        "{out}"
    );
    // Block RAM: the five feature maps of 60 images in the top, the first convolution's
    // nine banks of its padded input (each bank's stores, one a phase, share its one
    // write port), the flattened buffer and the last layer's weights.
    assert_eq!(block_rams(&rtl), 16);
}

#[test]
fn quantized_digits_per_sample_over_a_batch_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    // examples/digits/digits_q_one.kiln (the same network per image: its class and
    // logits) over the first eight held-out images.
    let root = common::root();
    let raw = kiln::npy::read(&root.join("examples/digits/data/x_head.npy")).expect("read");
    let kiln_passes::data::RawData::F32(v) = &raw.data else {
        panic!("f32 images")
    };
    let batch = kiln_passes::data::TensorValue {
        elem: ScalarType::F32,
        shape: vec![8, 1, 8, 8],
        values: v[..8 * 64]
            .iter()
            .map(|&x| kiln_passes::value::Value::F32(x))
            .collect(),
    };
    let dir = tempdir("digits_q_one_input");
    let file = dir.join("x8.npy");
    kiln::npy::write(&file, &batch).expect("write");
    let input = format!("x={}", file.display());
    let (design, out) = rtl_and_sim(
        "digits_q_one",
        &root.join("examples/digits/digits_q_one.kiln"),
        &["--batch", "--input", &input],
    );
    assert!(out.contains("samples: 8"), "{out}");
    assert!(
        out.contains("PASS: all 88 result values bit-exact"),
        "{out}"
    );
    // A result every slowest stage plus one: the ring between the first convolution
    // and its pool (backends/rtl/src/ring.rs) costs no throughput, and the one a ring
    // would cost (the second pool into the padded convolution) is not built. Both as
    // rings: 771 cycles a result; the producer's rows given as none in its done state:
    // 643 (checked).
    assert_eq!(rings(&design), 1, "{out}");
    assert_eq!(
        cycles(&out, "cycles per image (steady state over the batch):"),
        slowest_call(&out) + 1.0,
        "{out}"
    );
}

#[test]
fn every_exact_stdlib_layer_is_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    rtl_and_sim("nn_layers", &root.join("tests/rtl/nn_layers.kiln"), &[]);
}

#[test]
fn while_loops_and_calls_inside_loops_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let (_, out) = rtl_and_sim("while_call", &root.join("tests/rtl/while_call.kiln"), &[]);
    assert!(out.contains("PASS: all 8 result values bit-exact"), "{out}");
}

/// Two benchmark convolutions of README's Verilator table (kernel `conv` on their small
/// data): bin x bin products (2-bit operands once decoded, built in LUTs) and 8-bit x
/// 2-bit ones, bit-exact at the cycle counts README gives (conv_tern is conv_bin's twin).
#[test]
fn benchmark_convolutions_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    for (name, cycles_total) in [("conv_bin", 10721.0), ("conv_fixed", 901.0)] {
        let data = root.join("examples/bench/data/small");
        let x = format!("x={}", data.join(format!("{name}_x.npy")).display());
        let w = format!("w={}", data.join(format!("{name}_w.npy")).display());
        let (_, out) = rtl_and_sim(
            name,
            &root.join(format!("examples/bench/{name}.kiln")),
            &[
                "--kernel",
                "conv",
                "--input",
                &x,
                "--input",
                &w,
                "--part",
                "xc7z045",
                "--clock-ns",
                "5",
            ],
        );
        assert_eq!(
            cycles(&out, "cycles in total:"),
            cycles_total,
            "{name}:\n{out}"
        );
    }
}

/// Narrow counters and shift-and-add addresses (backends/rtl/src/width.rs): negative steps,
/// triangular bounds, a negative start and data-dependent indices stay bit-exact, chained
/// and one statement per cycle, and no counter or address takes 32 bits or a multiplier.
#[test]
fn narrow_counters_and_addresses_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    for extra in [&[][..], &["--no-pipeline"][..]] {
        let (dir, out) = rtl_and_sim("loops", &root.join("tests/rtl/loops.kiln"), extra);
        assert!(
            out.contains("PASS: all 64 result values bit-exact"),
            "{out}"
        );
        let v = std::fs::read_to_string(dir.join("loops.v")).expect("the design");
        assert!(
            v.contains("reg signed [3:0] lv"),
            "k in -3..5 is a signed 4-bit counter:\n{v}"
        );
        assert!(
            v.contains("reg [2:0] lv"),
            "i in 0..8 is an unsigned 3-bit counter:\n{v}"
        );
        assert!(!v.contains("[31:0] lv"), "a 32-bit counter:\n{v}");
        for line in v.lines().filter(|l| l.contains("wire signed [31:0] a")) {
            assert!(!line.contains(" * "), "an address multiplies: {line}");
        }
    }
}

/// Memories of more than 1 Kbit whose reads take their addresses from the counters are
/// block RAM read at the falling edge (backends/rtl/src/bram.rs); one read at an address
/// another block RAM gives in the same cycle keeps its combinational read. Bit-exact both
/// chained and one statement per cycle; making every read "early" (every load counted
/// as affine) fails it in both builds (511 of 1,024 values wrong, checked).
#[test]
fn large_memories_are_block_ram_read_at_the_falling_edge() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    for extra in [&[][..], &["--no-pipeline"][..]] {
        let (dir, out) = rtl_and_sim("block_ram", &root.join("tests/rtl/block_ram.kiln"), extra);
        assert!(
            out.contains("PASS: all 1024 result values bit-exact"),
            "{out}"
        );
        let v = std::fs::read_to_string(dir.join("block_ram.v")).expect("the design");
        let block = |name: &str| {
            v.lines()
                .any(|l| l.contains("ram_style = \"block\"") && l.contains(name))
        };
        assert!(block("_table_mem ["), "{v}");
        assert!(block("_order_mem ["), "{v}");
        assert!(
            !block("_pick_mem ["),
            "pick is read at an address order gives:\n{v}"
        );
        let falling = v
            .lines()
            .filter(|l| l.contains("always @(negedge clk)"))
            .count();
        assert!(falling >= 3, "table twice or three times, order once:\n{v}");
        assert!(
            !v.lines()
                .any(|l| l.contains("negedge") && l.contains("_pick_mem[")),
            "{v}"
        );
    }
}

#[test]
fn rtl_diagnostics() {
    let root = common::root();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(root.join("tests/rtl"))
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("diag_"))
                && p.extension().is_some_and(|e| e == "kiln")
        })
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    for case in cases {
        let dir = tempdir("diag");
        let (code, out, err) = common::kiln(&[
            "rtl",
            &case.to_string_lossy(),
            "-o",
            &dir.to_string_lossy(),
            "--color",
            "never",
        ]);
        assert_eq!(code, 1, "{}: {out}{err}", case.display());
        assert!(err.contains("E0720"), "{err}");
        assert!(
            !dir.join("kiln_rtl.json").exists(),
            "nothing written on error"
        );
        common::check_golden(&case.with_extension("stderr"), &err);
    }
}

/// Weights the allocation leaves in DDR (`--budget`, as `kiln hls` takes it) cannot be
/// built: one E0720 naming the stage and its weights, nothing written.
#[test]
fn ddr_weights_are_a_diagnostic() {
    let dir = tempdir("ddr");
    let (code, out, err) = common::kiln(&[
        "rtl",
        &common::root()
            .join("tests/hls_ddr/ddr_net.kiln")
            .to_string_lossy(),
        "--part",
        "xc7z020",
        "--clock-ns",
        "5",
        "--budget",
        "0.01",
        "-o",
        &dir.to_string_lossy(),
        "--color",
        "never",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.matches("[E0720]").count(), 1, "{err}");
    assert!(
        err.contains("the allocation keeps the weights `w1`, `b1`, `w2` of `conv2d_bias_add_relu_requantize_conv2d_1_relu_1_requantize_1` in DDR"),
        "{err}"
    );
    assert!(err.contains("a larger `--budget`"), "{err}");
    assert!(
        !dir.join("kiln_rtl.json").exists(),
        "nothing written on error"
    );
}

#[test]
fn rtlsim_without_verilator_says_how_to_install_it() {
    let dir = tempdir("no_verilator");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = common::kiln(&[
        "rtl",
        &common::root()
            .join("examples/conv_relu/conv_relu.kiln")
            .to_string_lossy(),
        "-o",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let o = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["rtlsim", &d])
        .env("PATH", "/nonexistent")
        .output()
        .expect("run kiln");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        err.contains("E0721")
            && err.contains("verilator is not installed")
            && err.contains("apt-get install verilator"),
        "{err}"
    );
    common::check_golden(
        &common::root().join("tests/rtl/rtlsim_no_verilator.stderr"),
        &err,
    );
    // And a directory that is not a design.
    let (code, _, err) = common::kiln(&["rtlsim", "/nonexistent/design"]);
    assert_eq!(code, 1);
    assert!(err.contains("E0721"), "{err}");
    common::check_golden(
        &common::root().join("tests/rtl/rtlsim_no_directory.stderr"),
        &err,
    );
}

mod difftest;

/// A number from the environment, or `default`.
fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What became of a generated case in the RTL path.
enum RtlCase {
    /// `kiln rtl` refused it: the first error line, names blanked (`x` -> `_`) so that
    /// reasons group.
    Refused(String),
    /// Bit-exact; whether the top was a frame pipeline (its calls concurrent stages), how
    /// many of its stages' inputs were linked row by row (backends/rtl/src/rows.rs), and
    /// how many of its feature maps were rings of rows (ring.rs).
    Passed {
        frame: bool,
        row_links: usize,
        rings: usize,
    },
    /// `kiln rtlsim` did not pass (the case stays in its directory).
    Failed(String),
}

/// Writes `case` into target/rtl-tests/NAME, runs `kiln rtl` on it with `extra` and, when
/// it builds, `kiln rtlsim`. A refusal must be an E07xx diagnostic (warnings aside).
fn rtl_case(name: &str, case: &difftest::gen::Case, extra: &[&str]) -> RtlCase {
    let src = tempdir(name);
    std::fs::write(src.join("main.kiln"), &case.source).unwrap();
    for (file, bytes) in &case.files {
        std::fs::write(src.join(file), bytes).unwrap();
    }
    let design = src.join("rtl");
    let mut args = vec![
        "rtl".to_string(),
        src.join("main.kiln").display().to_string(),
        "-o".into(),
        design.display().to_string(),
        "--color".into(),
        "never".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    for (input, file) in &case.inputs {
        args.push("--input".into());
        args.push(format!("{input}={}", src.join(file).display()));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = common::kiln(&a);
    if code != 0 {
        let codes = common::codes_in(&err);
        assert!(
            codes
                .iter()
                .all(|c| c.starts_with("E07") || c.starts_with('W'))
                && !codes.is_empty(),
            "{name}: kiln rtl failed unexpectedly:\n{err}"
        );
        let first = err.lines().find(|l| l.contains("Error:")).unwrap_or("");
        let why: String = first
            .split('`')
            .enumerate()
            .map(|(i, part)| if i % 2 == 1 { "_" } else { part })
            .collect::<Vec<_>>()
            .join("`")
            .chars()
            .take(100)
            .collect();
        let _ = std::fs::remove_dir_all(&src);
        return RtlCase::Refused(why);
    }
    let (code, out, err) = common::kiln(&[
        "rtlsim",
        &design.display().to_string(),
        "--max-cycles",
        "50000000",
    ]);
    if code != 0 || !out.contains("PASS") {
        return RtlCase::Failed(format!("target/rtl-tests/{name}:\n{out}{err}"));
    }
    let frame = std::fs::read_to_string(design.join("kiln_rtl.json"))
        .is_ok_and(|m| m.contains("\"dataflow\": true"));
    let row_links = row_links(&design);
    let rings = rings(&design);
    let _ = std::fs::remove_dir_all(&src);
    RtlCase::Passed {
        frame,
        row_links,
        rings,
    }
}

/// The feature maps of a design's frame pipeline held as rings of rows
/// (backends/rtl/src/ring.rs): the top's assignments of a producer's room.
fn rings(design: &Path) -> usize {
    verilog_lines(design, "_room = (c")
}

/// The lines of a design's Verilog files that contain `pattern`.
fn verilog_lines(design: &Path, pattern: &str) -> usize {
    std::fs::read_dir(design)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "v"))
        .filter_map(|e| std::fs::read_to_string(e.path()).ok())
        .map(|v| v.lines().filter(|l| l.contains(pattern)).count())
        .sum()
}

/// The stage inputs of a design's frame pipeline fed row by row by their producer
/// (backends/rtl/src/rows.rs): the top's assignments of a producer's rows to a consumer.
fn row_links(design: &Path) -> usize {
    verilog_lines(design, "_rows = (c")
}

/// Runs cases until `n` were built (refused ones do not count; at most `tries`), prints
/// what became of them, and fails on any mismatch.
fn rtl_cases(what: &str, n: u64, tries: u64, mut case: impl FnMut(u64) -> RtlCase) {
    let (mut built, mut frames, mut links, mut ringed, mut k) = (0, 0, 0, 0, 0);
    let mut failures = Vec::new();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    while built < n && k < tries {
        match case(k) {
            RtlCase::Refused(why) => *reasons.entry(why).or_insert(0) += 1,
            RtlCase::Passed {
                frame,
                row_links,
                rings,
            } => {
                built += 1;
                frames += u64::from(frame);
                links += row_links;
                ringed += rings;
            }
            RtlCase::Failed(f) => {
                built += 1;
                failures.push(f);
            }
        }
        k += 1;
    }
    eprintln!(
        "{what}: {built} built and simulated ({frames} as frame pipelines, {links} stage inputs linked row by row, {ringed} feature maps as rings of rows), {} refused, {} failed",
        reasons.values().sum::<usize>(),
        failures.len()
    );
    for (why, n) in &reasons {
        eprintln!("  refused {n}x: {why}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        built > 0 || n == 0,
        "every {what} case was refused: {reasons:?}"
    );
}

/// Random programs of the differential generator (tests/difftest) through `kiln rtl` and
/// `kiln rtlsim`: every one the RTL path builds must match kiln bit for bit; the others
/// must be refused with E07xx (floats, mostly). `KILN_RTL_CASES=N` (default 3) and
/// `KILN_RTL_SEED=S` choose them; failing cases stay in target/rtl-tests/random-S-K.
#[test]
fn random_programs_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let n = env_u64("KILN_RTL_CASES", 3);
    let seed = env_u64("KILN_RTL_SEED", 0x5eed_0019);
    let cfg = difftest::gen::Config::default();
    // Draw until N programs were built, at most 20 N.
    rtl_cases("random programs", n, 20 * n.max(1), |k| {
        let case = difftest::gen::generate(seed, k, &cfg);
        rtl_case(&format!("random-{seed}-{k}"), &case, &[])
    });
}

/// Random layer pipelines of the network generator (tests/difftest/gen/network.rs: stdlib
/// layers in fixed point, with weights as `param`s, over one sample or a batch) through
/// `kiln rtl` and `kiln rtlsim` at the allocation of xc7z045 and 5 ns: every one must
/// match kiln's results bit for bit. A refusal must be E07xx and is reported with its
/// reason. `KILN_RTL_NETS=N` (default 2) and `KILN_RTL_SEED=S` choose them; a failing
/// case stays in target/rtl-tests/net-S-K.
#[test]
fn random_layer_pipelines_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let n = env_u64("KILN_RTL_NETS", 2);
    let seed = env_u64("KILN_RTL_SEED", 0x5eed_0019);
    rtl_cases("random layer pipelines", n, n, |k| {
        let net = difftest::gen::generate_network(seed, k);
        let mut extra = vec!["--part", "xc7z045", "--clock-ns", "5"];
        if net.batch.is_some() {
            extra.push("--batch");
        }
        rtl_case(&format!("net-{seed}-{k}"), &net.case, &extra)
    });
}

/// The same random layer pipelines without the automatic schedule: every layer a stage
/// of its own, so that most stages start on their producers' rows
/// (backends/rtl/src/rows.rs; strides, padding, pools, residual adds and flattens the
/// generator draws). `KILN_RTL_STAGE_NETS=N` (default 2) and `KILN_RTL_SEED=S`.
#[test]
fn random_networks_of_separate_stages_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let n = env_u64("KILN_RTL_STAGE_NETS", 2);
    let seed = env_u64("KILN_RTL_SEED", 0x5eed_0019) ^ 0x57a6e;
    rtl_cases("random networks of separate stages", n, 4 * n.max(1), |k| {
        let net = difftest::gen::generate_network(seed, k);
        let mut extra = vec!["--part", "xc7z045", "--clock-ns", "5", "--no-auto-schedule"];
        if net.batch.is_some() {
            extra.push("--batch");
        }
        rtl_case(&format!("stages-{seed}-{k}"), &net.case, &extra)
    });
}

/// Products of at most 8 x 8 bits that share an operand go two to a multiplier
/// (backends/rtl/src/dsp_pack.rs): `s * (b * 2^k + a) + 2^(k-1)`, the products slices of
/// the result. tests/rtl/packed_products.kiln over 512 samples with the extremes of every
/// operand (0, 255, -128, 127, -1 and products of both signs), chained and one statement
/// per cycle: bit-exact, and two packed multipliers for its four products.
#[test]
fn products_sharing_an_operand_share_a_multiplier() {
    if !have_verilator() {
        return;
    }
    let dir = tempdir("packed_products_src");
    let file = common::root().join("tests/rtl/packed_products.kiln");
    let inputs = common::packed_product_inputs(&dir);
    let mut args: Vec<&str> = Vec::new();
    for i in &inputs {
        args.extend(["--input", i.as_str()]);
    }
    for (name, extra) in [
        ("packed_chained", vec![]),
        ("packed_seq", vec!["--no-pipeline"]),
    ] {
        let mut a = args.clone();
        a.extend(extra);
        let (d, out) = rtl_and_sim(name, &file, &a);
        assert!(
            out.contains("PASS: all 2048 result values bit-exact"),
            "{out}"
        );
        let v = std::fs::read_to_string(d.join("pk.v")).expect("pk.v");
        assert_eq!(v.matches("in one multiplier").count(), 2, "{name}:\n{v}");
    }
}

/// `kiln ARGS`, killed after a minute: (exit code, stderr), or a panic if it was still
/// running (a kernel the testbench guard should have refused is being run).
fn kiln_within_a_minute(args: &[&str]) -> (i32, String) {
    use std::io::Read;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kiln");
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait for kiln") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_string(&mut err);
            }
            return (status.code().unwrap_or(-1), err);
        }
        if start.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            panic!("`kiln {}` still running after a minute", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A kernel of 10^12 iterations (tests/rtl/too_long.kiln) is refused by `kiln rtl` and
/// `kiln hls` before they run it for the testbench (E0723, nothing written), and
/// `--no-testbench` writes its design alone, which `kiln rtlsim` and `kiln csim` then
/// say they cannot check. On conv_relu, `--no-testbench` writes the same Verilog as
/// with a testbench.
#[test]
fn a_kernel_too_long_to_test() {
    let file = common::root().join("tests/rtl/too_long.kiln");
    let file = file.to_string_lossy();
    let (rtl, hls) = (tempdir("too_long_rtl"), tempdir("too_long_hls"));
    for (cmd, dir) in [("rtl", &rtl), ("hls", &hls)] {
        let d = dir.to_string_lossy();
        let (code, err) = kiln_within_a_minute(&[cmd, &file, "-o", &d, "--color", "never"]);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("[E0723]"), "{err}");
        assert!(err.contains("3000000000007 cycles"), "{err}");
        assert!(err.contains("`--no-testbench`"), "{err}");
        if cmd == "rtl" {
            common::check_golden(&common::root().join("tests/rtl/too_long.stderr"), &err);
        }
        assert_eq!(std::fs::read_dir(dir).map_or(0, |r| r.count()), 0);
        let (code, err) = kiln_within_a_minute(&[cmd, &file, "-o", &d, "--no-testbench"]);
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("no testbench"), "{err}");
    }
    let manifest = std::fs::read_to_string(rtl.join(kiln_rtl::MANIFEST)).unwrap();
    assert!(manifest.contains("\"testbench\": null"), "{manifest}");
    assert!(rtl.join("too_long.v").is_file());
    assert!(!rtl.join(kiln_rtl::TB_VERILOG).exists());
    let (code, _, err) = common::kiln(&["rtlsim", &rtl.to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("E0721") && err.contains("no testbench"),
        "{err}"
    );
    assert!(hls.join("too_long.cpp").is_file());
    assert!(!hls.join("too_long_tb.cpp").exists());
    let tcl = std::fs::read_to_string(hls.join("run_hls.tcl")).unwrap();
    assert!(
        !tcl.contains("csim_design") && !tcl.contains("cosim_design"),
        "{tcl}"
    );
    let (code, _, err) = common::kiln(&["csim", &hls.to_string_lossy()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("E0609") && err.contains("no testbench"),
        "{err}"
    );

    // The design itself does not depend on the testbench.
    let conv = common::root().join("examples/conv_relu/conv_relu.kiln");
    let (with, without) = (tempdir("tb_with"), tempdir("tb_without"));
    for (dir, extra) in [(&with, None), (&without, Some("--no-testbench"))] {
        let mut args = vec!["rtl", conv.to_str().unwrap(), "-o", dir.to_str().unwrap()];
        args.extend(extra);
        let (code, _, err) = common::kiln(&args);
        assert_eq!(code, 0, "{err}");
    }
    let v = |d: &Path| std::fs::read_to_string(d.join("conv_relu.v")).unwrap();
    assert_eq!(v(&with), v(&without));
    assert!(with.join(kiln_rtl::TB_VERILOG).is_file());

    // Without a testbench nothing runs, so an input whose shape the kernel fixes needs
    // no data (E0604 before); one whose sizes only data gives still does.
    let fixed = common::root().join("tests/rtl/two_writers.kiln");
    for cmd in ["rtl", "hls"] {
        let d = tempdir(&format!("no_data_{cmd}"));
        let args = [cmd, fixed.to_str().unwrap(), "-o", d.to_str().unwrap()];
        let (code, _, err) = common::kiln(&[&args[..], &["--no-testbench"]].concat());
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = common::kiln(&args);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("E0604"), "{err}");
    }
}

/// tests/rtl/two_writers.kiln over 4 images: `z` is written by two stages (the copy of
/// `x`, then the store of its first column) and read by a third. The store reads
/// nothing of `z`, so no producer held it back: it ran before the copy, which then
/// overwrote the column (19 of 72 values wrong, checked); and once ordered, the copy of
/// the next image and the store of this one wrote in the same cycle through the one
/// write port, and one write was lost (2 wrong). Bit-exact.
#[test]
fn stages_writing_one_feature_map_keep_their_order() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("two_writers_input");
    let x = f32_tensor(vec![4, 2, 6, 6], &|i| {
        (((i * 29 + 5) % 200) as f32 - 100.0) / 16.0
    });
    let file = dir.join("x4.npy");
    kiln::npy::write(&file, &x).expect("write");
    let input = format!("x={}", file.display());
    let args = stage_args(&input);
    let (design, out) = rtl_and_sim(
        "two_writers",
        &root.join("tests/rtl/two_writers.kiln"),
        &args,
    );
    assert!(
        out.contains("PASS: all 72 result values bit-exact"),
        "{out}"
    );
    let top = std::fs::read_to_string(design.join("two_writers.v")).expect("top");
    assert!(
        top.contains("_start = pro_done"),
        "not a frame pipeline:\n{top}"
    );
}

/// tests/rtl/fused_readers: a stage that reads one feature map through two parameters,
/// one of them not row by row, waits for the whole map (it started on the producer's
/// first rows for both, and 10 of 12 values were wrong). Bit-exact.
#[test]
fn a_stage_reading_a_map_twice_starts_on_its_rows_only_if_both_can() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("fused_readers_input");
    let src = root.join("tests/rtl/fused_readers");
    for e in std::fs::read_dir(&src).expect("the case").flatten() {
        std::fs::copy(e.path(), dir.join(e.file_name())).expect("copy");
    }
    let (design, out) = rtl_and_sim(
        "fused_readers",
        &dir.join("main.kiln"),
        &["--part", "xc7z045", "--clock-ns", "5"],
    );
    assert!(
        out.contains("PASS: all 12 result values bit-exact"),
        "{out}"
    );
    assert_eq!(row_links(&design), 1, "{out}");
}

/// tests/rtl/floats.kiln: f32 and f64 `+ - * /`, `sqrt`, comparisons, `min`/`max`,
/// `-`/`abs` and conversions to and from exact types, on values that include both zeros,
/// subnormals, infinities, NaNs with payloads, the largest floats and rounding ties: the
/// RTL's float functions (backends/rtl/src/float.rs) bit for bit against kiln's results
/// (the NaN payloads and signs included).
#[test]
fn float_kernels_are_bit_exact() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("floats_input");
    let special = [
        0.0f32,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::from_bits(0x7fc0_1234),
        f32::from_bits(0xff80_0001),
        1e-40,
        -1.4e-45,
        f32::MAX,
        -f32::MAX,
        f32::MIN_POSITIVE,
        2.5,
        -3.5,
        0.0625,
        7.96875,
        -8.03125,
        1.0 + f32::EPSILON,
    ];
    let pick = |i: i64, k: i64| -> f32 {
        let j = (i * k + 3) as usize;
        if j.is_multiple_of(3) {
            special[(j / 3) % special.len()]
        } else {
            ((i * 37 + k * 11) % 199 - 99) as f32 / 8.0 + 1.0 / (k as f32 + i as f32 + 1.5)
        }
    };
    let a = f32_tensor(vec![24], &|i| pick(i, 5));
    let b = f32_tensor(vec![24], &|i| pick(i, 7));
    kiln::npy::write(&dir.join("a.npy"), &a).expect("write");
    kiln::npy::write(&dir.join("b.npy"), &b).expect("write");
    let ia = format!("a={}", dir.join("a.npy").display());
    let ib = format!("b={}", dir.join("b.npy").display());
    let (design, out) = rtl_and_sim(
        "floats",
        &root.join("tests/rtl/floats.kiln"),
        &["--input", &ia, "--input", &ib],
    );
    assert!(
        out.contains("PASS: all 505 result values bit-exact"),
        "{out}"
    );
    let v = std::fs::read_to_string(design.join("floats.v")).expect("the design");
    for f in [
        "f32_add",
        "f32_div",
        "f32_sqrt",
        "f64_mul",
        "f32_to_f64",
        "f64_to_f32",
    ] {
        assert!(v.contains("function [") && v.contains(f), "{f}");
    }
}

/// tests/rtl/odd_pools.kiln over 4 images: a max pool of 11 rows leaves the last row
/// unread, so it is through its rows before its producer and waits in its `done`
/// state, while the average pool after it has all the rows it reads. That pool must
/// not finish the image first: its producer's image count would then be behind its
/// own, and it would take the next image for complete (16 of the 24 values wrong when
/// a finished producer's rows were its row count, checked). Bit-exact.
#[test]
fn no_stage_finishes_an_image_before_its_producer() {
    if !have_verilator() {
        return;
    }
    let root = common::root();
    let dir = tempdir("odd_pools_input");
    let w = f32_tensor(vec![1, 1, 5, 2], &|i| ((i * 5 + 1) % 3 - 1) as f32);
    kiln::npy::write(&dir.join("odd_pools_w.npy"), &w).expect("write");
    let x = f32_tensor(vec![4, 1, 11, 11], &|i| {
        (((i * 37 + 11) % 256) - 128) as f32 / 2.0
    });
    let file = dir.join("x4.npy");
    kiln::npy::write(&file, &x).expect("write");
    let kiln_file = dir.join("odd_pools.kiln");
    std::fs::copy(root.join("tests/rtl/odd_pools.kiln"), &kiln_file).expect("copy");
    let input = format!("x={}", file.display());
    let args = stage_args(&input);
    let (design, out) = rtl_and_sim("odd_pools", &kiln_file, &args);
    assert!(
        out.contains("PASS: all 24 result values bit-exact"),
        "{out}"
    );
    assert_eq!(row_links(&design), 3, "{out}");
}
