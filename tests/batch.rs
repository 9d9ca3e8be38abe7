//! `kiln run --batch`: a per-sample kernel over the leading axis of its inputs, compiled
//! once, with results stacked along a new leading axis; the same results as a kernel that
//! loops over the batch itself, on both engines; clear errors for data that is not a batch.

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the kiln binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn expect_ok(out: &Output, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}\n--- stdout\n{}--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn tmp(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_per_sample_network_over_the_test_set_matches_the_batched_kernel() {
    let one = tmp("batch-digits-one");
    let all = tmp("batch-digits-all");
    let run = kiln(&[
        "run",
        "examples/digits/digits_one.kiln",
        "--batch",
        "--input",
        "x=examples/digits/data/x_test.npy",
        "--out",
        one.to_str().unwrap(),
    ]);
    expect_ok(&run, "digits_one --batch");
    assert!(
        text(&run.stdout).contains("predicted: uint<4>[540]"),
        "{}",
        text(&run.stdout)
    );
    let batched = kiln(&[
        "run",
        "examples/digits/digits.kiln",
        "--out",
        all.to_str().unwrap(),
    ]);
    expect_ok(&batched, "digits.kiln");
    let a = std::fs::read(one.join("predicted.npy")).unwrap();
    let b = std::fs::read(all.join("predicted.npy")).unwrap();
    assert_eq!(
        a, b,
        "the per-sample network's predictions differ from digits.kiln's"
    );
}

#[test]
fn both_engines_agree_over_a_batch() {
    let mut outs = Vec::new();
    for engine in ["interp", "jit"] {
        let dir = tmp(&format!("batch-head-{engine}"));
        let run = kiln(&[
            "run",
            "examples/digits/digits_one.kiln",
            "--batch",
            "--engine",
            engine,
            "--input",
            "x=examples/digits/data/x_head.npy",
            "--out",
            dir.to_str().unwrap(),
        ]);
        expect_ok(&run, engine);
        assert!(text(&run.stdout).contains("logits: f32[60, 10]"));
        outs.push(std::fs::read(dir.join("logits.npy")).unwrap());
    }
    assert_eq!(
        outs[0], outs[1],
        "interp and JIT logits differ over the batch"
    );
}

#[test]
fn data_that_is_not_a_batch_is_an_error() {
    let dir = tmp("batch-errors");
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("two.kiln");
    std::fs::write(
        &script,
        "kernel main(a: int<8>[2], b: int<8>[2], k: int<8> = 3) -> int<9>[2]:\n    \
         return [a[i] + b[i] + k for i in range(2)]\n",
    )
    .unwrap();
    let s = script.to_str().unwrap();
    // A batch of three for `a`, two for `b`.
    let run = kiln(&[
        "run",
        s,
        "--batch",
        "--input",
        "a=tests/fixtures/i8_3x2.npy",
        "--input",
        "b=tests/fixtures/i8_2x2x2.npy",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let err = text(&run.stderr);
    assert!(
        err.contains("E0602") && err.contains("another input has"),
        "{err}"
    );
    // Without a leading axis: a sample of shape [2] is not a batch of [2]-shaped samples.
    let run = kiln(&[
        "run",
        s,
        "--batch",
        "--input",
        "a=tests/fixtures/i8_2.npy",
        "--input",
        "b=tests/fixtures/i8_2.npy",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("E0602"), "{}", text(&run.stderr));
    // Two batches of three, and a shared literal default: results gain the batch axis.
    let run = kiln(&[
        "run",
        s,
        "--batch",
        "--full",
        "--input",
        "a=tests/fixtures/i8_3x2.npy",
        "--input",
        "b=tests/fixtures/i8_3x2.npy",
    ]);
    expect_ok(&run, "two batches of three");
    let out = text(&run.stdout);
    assert!(out.contains("result: int<9>[3, 2]"), "{out}");
    // [[1, 2], [3, 4], [5, 6]] twice, plus 3.
    assert!(
        out.contains("[0] 5 7") && out.contains("[2] 13 15"),
        "{out}"
    );
}

/// `kiln hls --batch` + `kiln csim`: the batch top runs every sample, and the testbench
/// checks all of them bit for bit, with memory ports and with streams.
#[test]
fn hls_batch_top_passes_csim_over_every_sample() {
    if std::env::var_os("KILN_AP_TYPES").is_none() {
        eprintln!("KILN_AP_TYPES is not set: kiln csim fetches the headers itself");
    }
    for io in ["axi", "stream"] {
        let dir = tmp(&format!("batch-hls-{io}"));
        let hls = kiln(&[
            "hls",
            "examples/digits/digits_one.kiln",
            "--batch",
            "--io",
            io,
            "--input",
            "x=examples/digits/data/x_head.npy",
            "-o",
            dir.to_str().unwrap(),
        ]);
        expect_ok(&hls, "kiln hls --batch");
        let cpp = std::fs::read_to_string(dir.join("digits_one.cpp")).unwrap();
        assert!(cpp.contains("void digits_one_batch(int n, "), "{cpp}");
        let tcl = std::fs::read_to_string(dir.join("run_hls.tcl")).unwrap();
        assert!(tcl.contains("set_top digits_one_batch"), "{tcl}");
        let csim = kiln(&["csim", dir.to_str().unwrap()]);
        expect_ok(&csim, &format!("kiln csim of the batch top ({io})"));
        assert!(text(&csim.stdout).contains("PASS"));
    }
}
