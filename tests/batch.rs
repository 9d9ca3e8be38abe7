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

/// The quantized digits network written for one sample (examples/digits/digits_q_one.kiln)
/// over the test set predicts what the batched digits_q.kiln predicts; as a layer pipeline
/// (`kiln hls --batch`: row stages under DATAFLOW) it C-simulates bit for bit over 256
/// images.
#[test]
fn quantized_per_sample_network_matches_and_streams_256_images() {
    let one = tmp("batch-digits-q-one");
    let all = tmp("batch-digits-q-all");
    let run = kiln(&[
        "run",
        "examples/digits/digits_q_one.kiln",
        "--batch",
        "--input",
        "x=examples/digits/data/x_test.npy",
        "--out",
        one.to_str().unwrap(),
    ]);
    expect_ok(&run, "digits_q_one --batch");
    let batched = kiln(&[
        "run",
        "examples/digits/digits_q.kiln",
        "--out",
        all.to_str().unwrap(),
    ]);
    expect_ok(&batched, "digits_q.kiln");
    // The class is the first result (`result0`); digits_q names it `predicted`.
    let a = std::fs::read(one.join("result0.npy")).unwrap();
    let b = std::fs::read(all.join("predicted.npy")).unwrap();
    assert_eq!(a, b, "digits_q_one's predictions differ from digits_q's");

    // The first 256 test images, as a batch file.
    let x = std::fs::read("examples/digits/data/x_test.npy").unwrap();
    let header_len = u16::from_le_bytes([x[8], x[9]]) as usize + 10;
    let header = String::from_utf8_lossy(&x[10..header_len]).into_owned();
    assert!(
        header.contains("(540, 1, 8, 8)") && header.contains("<f4"),
        "{header}"
    );
    let new_header = header.replace("(540, 1, 8, 8)", "(256, 1, 8, 8)");
    let pad = header_len - 10 - new_header.len();
    let mut head256 = x[..8].to_vec();
    head256.extend_from_slice(&((new_header.len() + pad) as u16).to_le_bytes());
    head256.extend_from_slice(new_header.trim_end().as_bytes());
    head256.extend(std::iter::repeat_n(b' ', header_len - head256.len() - 1));
    head256.push(b'\n');
    head256.extend_from_slice(&x[header_len..header_len + 256 * 64 * 4]);
    let dir = tmp("batch-digits-q-hls");
    let x256 = dir.with_extension("npy");
    std::fs::write(&x256, head256).unwrap();
    let hls = kiln(&[
        "hls",
        "examples/digits/digits_q_one.kiln",
        "--batch",
        "--input",
        &format!("x={}", x256.display()),
        "-o",
        dir.to_str().unwrap(),
    ]);
    expect_ok(&hls, "kiln hls --batch digits_q_one");
    let cpp = std::fs::read_to_string(dir.join("digits_q_one.cpp")).unwrap();
    assert!(cpp.contains("HLS DATAFLOW"), "{cpp}");
    assert!(
        cpp.contains("A dataflow stage computed row by row"),
        "{cpp}"
    );
    let csim = kiln(&["csim", dir.to_str().unwrap()]);
    expect_ok(&csim, "kiln csim of digits_q_one over 256 images");
    assert!(text(&csim.stdout).contains("PASS"));
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
