//! Dense stages that consume their input as it streams (passes/src/ir/stage.rs,
//! `AccumulatePlan`): planned in the producer's order where the sum stays exact, built in
//! that order, emitted as a stage that reads each value off its stream once, and bit-exact
//! in C-simulation against kiln's own run.

use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run kiln")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn expect_ok(out: &Output, what: &str) -> String {
    let s = text(&out.stdout);
    assert!(
        out.status.success(),
        "{what} failed:\n{s}\n{}",
        text(&out.stderr)
    );
    s
}

const EARLY: &str = "tests/fixtures/dense_stream/early.kiln";
const FLOAT: &str = "tests/fixtures/dense_stream/early_f32.kiln";

#[test]
fn exact_dense_layer_takes_values_in_its_producers_order() {
    let ir = expect_ok(&kiln(&["ir", EARLY, "--schedule", "fpga"]), "kiln ir");
    // The flatten leaves [2, 4, 16] row by row: n = 16 i + 64 c + j, row i outermost.
    assert!(
        ir.contains("stage: value by value; %0 arrives in order [4x16, 2x64, 16x1], 32 a group"),
        "{ir}"
    );
    assert!(ir.contains("result sent as computed"), "{ir}");
    assert!(ir.contains("acc: fixed<"), "{ir}");
    let report = expect_ok(&kiln(&["report", EARLY]), "kiln report");
    assert!(
        report.contains("value by value: `x` consumed as it streams, 32 values a group, in the order its producer computes it"),
        "{report}"
    );
}

#[test]
fn float_dense_layer_keeps_row_major_order() {
    // A float sum in another order may round differently: row-major, the program's order.
    let ir = expect_ok(&kiln(&["ir", FLOAT, "--schedule", "fpga"]), "kiln ir");
    assert!(ir.contains("arrives in order [128x1] (row-major)"), "{ir}");
    assert!(!ir.contains("result sent as computed"), "{ir}");
}

#[test]
fn streamed_dense_stages_pass_csim_bit_exactly() {
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dense_stream");
    let cases: [(&str, &[&str]); 3] = [
        ("one", &[EARLY]),
        (
            "batch",
            &[
                EARLY,
                "--batch",
                "--input",
                "x=tests/fixtures/dense_stream/xb.npy",
            ],
        ),
        ("float", &[FLOAT, "--io", "stream"]),
    ];
    for (name, args) in cases {
        let dir = base.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        let mut a = vec!["hls"];
        a.extend_from_slice(args);
        a.extend(["-o", dir.to_str().unwrap()]);
        expect_ok(&kiln(&a), &format!("kiln hls ({name})"));
        let cpp: String = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "cpp"))
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .collect();
        assert!(cpp.contains("A dataflow stage fed value by value"), "{cpp}");
        let out = expect_ok(
            &kiln(&["csim", dir.to_str().unwrap()]),
            &format!("kiln csim ({name})"),
        );
        assert!(out.contains("PASS"), "{out}");
    }
}
