//! The resource allocation of a network's dataflow stages (passes/src/transform/allocate/)
//! through `kiln report`: LeNet's stages balanced on ZC706, the options, a written schedule
//! overriding the allocation, and the papers' networks (examples/papers) against the
//! allocation tables in tests/papers/*.out (bless with `KILN_BLESS=1`; the numbers are
//! the ones docs/allocation.md and the README compare with the papers).

mod common;

use common::kiln;
use std::path::Path;

/// The number before `what` on the line that starts with `prefix`.
fn number_before(report: &str, prefix: &str, what: &str) -> f64 {
    let line = report
        .lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` line in:\n{report}"));
    let at = line
        .find(what)
        .unwrap_or_else(|| panic!("no `{what}` in `{line}`"));
    line[..at]
        .split_whitespace()
        .last()
        .and_then(|w| w.trim_end_matches('x').parse().ok())
        .unwrap_or_else(|| panic!("no number before `{what}` in `{line}`"))
}

/// The allocation section of a report (from its title on).
fn allocation(report: &str) -> String {
    let at = report
        .find("allocation of the network's stages")
        .unwrap_or_else(|| panic!("no allocation table in:\n{report}"));
    report[at..].to_string()
}

#[test]
fn lenet_stages_are_balanced_at_the_fastest_interval() {
    let (code, out, err) = kiln(&[
        "report",
        "examples/lenet/lenet.kiln",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    let table = allocation(&out);
    // The slowest stage within 2x of the mean.
    let ratio = number_before(&table, "network:", "the mean");
    assert!(ratio <= 2.0, "{table}");
    // The interval is the smallest the device allows (a stage at its largest
    // parallelism), reached with a fraction of the DSPs.
    assert!(
        table.contains("bound: the smallest possible interval of stage"),
        "{table}"
    );
    assert!(!table.contains("does not fit"), "{table}");
    // The same interval as the dataflow line of the estimate above it.
    let interval = number_before(&table, "network:", "cycles =");
    let dataflow = out
        .lines()
        .find(|l| l.contains("dataflow: a new input every"))
        .unwrap();
    assert!(
        dataflow.contains(&format!("every {interval} cycles")),
        "{dataflow}\n{table}"
    );
}

/// Stream words and KPF (docs/allocation.md, "Stream words"): the allocation widens
/// LeNet's streams between its row stages; `kiln ir` shows each channel's word on the
/// FIFO and on both stages' ports, and the FIFO's depth counts words (one row: 6 x 24
/// values in words of 2).
#[test]
fn lenet_streams_carry_words_of_channels() {
    let (code, ir, err) = kiln(&[
        "ir",
        "examples/lenet/lenet.kiln",
        "--pipeline",
        "fpga",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        ir.contains("requantize_out: ufixed<4, 2, rnd, sat>[6, 24, 24] = declared [stream depth 72 width 2]"),
        "{ir}"
    );
    // The second stage's port bound to it has the same word.
    let port = ir
        .lines()
        .find(|l| l.contains("x: ufixed<4, 2, rnd, sat>[6, 24, 24] = input 0"))
        .unwrap_or_default();
    assert!(port.ends_with("[stream width 2]"), "{port}\n{ir}");
    // conv2's result leaves in words too.
    let second = ir
        .lines()
        .find(|l| l.contains("requantize_out: ufixed<4, 2, rnd, sat>[16, 8, 8]"))
        .unwrap_or_default();
    assert!(second.contains(" width "), "{second}\n{ir}");
    // The dense tail keeps words of one value.
    assert!(ir.contains("[256] = declared [stream depth 256]\n"), "{ir}");
    let (code, out, err) = kiln(&[
        "report",
        "examples/lenet/lenet.kiln",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    let table = allocation(&out);
    assert!(
        table.contains("KPF 2 x window 25 (II 1), stream word 2"),
        "{table}"
    );
}

#[test]
fn target_rate_takes_less_hardware_and_budget_is_checked() {
    let run = |extra: &[&str]| {
        let mut args = vec![
            "report",
            "tests/ir/autoschedule/network.kiln",
            "--part",
            "xc7z020",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = kiln(&args);
        assert_eq!(code, 0, "{err}");
        allocation(&out)
    };
    let fastest = run(&[]);
    let slow = run(&["--target-fps", "1000"]);
    assert!(slow.contains("bound: the target rate"), "{slow}");
    let dsp = |t: &str| number_before(t, "utilization", "%, BRAM18").max(0.0);
    let fps = |t: &str| number_before(t, "network:", "images/s");
    assert!(dsp(&slow) < dsp(&fastest), "{fastest}\n{slow}");
    assert!(fps(&slow) >= 1000.0 && fps(&slow) < fps(&fastest), "{slow}");
    // Half the budget: no more than half the DSPs.
    let half = run(&["--budget", "0.5"]);
    assert!(dsp(&half) <= 50.0, "{half}");
    // A rate out of reach says why and keeps the fastest allocation that fits.
    let far = run(&["--target-fps", "1e9"]);
    assert!(far.contains("target not reached"), "{far}");
    for bad in [
        &["--budget", "0"][..],
        &["--budget", "1.5"],
        &["--target-fps", "-3"],
    ] {
        let mut args = vec!["report", "tests/ir/autoschedule/network.kiln"];
        args.extend_from_slice(bad);
        let (code, _, err) = kiln(&args);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains("expected"), "{err}");
    }
}

/// A written `schedule ... for fpga` keeps its kernel's stages out of the allocation.
#[test]
fn written_schedule_overrides_the_allocation() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("alloc-written");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data")).unwrap();
    for f in std::fs::read_dir("examples/lenet/data").unwrap().flatten() {
        std::fs::copy(f.path(), dir.join("data").join(f.file_name())).unwrap();
    }
    let lenet = std::fs::read_to_string("examples/lenet/lenet.kiln").unwrap();
    let file = dir.join("lenet.kiln");
    std::fs::write(
        &file,
        format!("{lenet}\nschedule dense_bias for fpga:\n    pipeline(n, ii=1)\n"),
    )
    .unwrap();
    let f = file.to_string_lossy();
    let (code, out, err) = kiln(&["report", &f, "--part", "xc7z045", "--clock-ns", "5"]);
    assert_eq!(code, 0, "{err}");
    let table = allocation(&out);
    let written: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("not allocated"))
        .collect();
    assert!(
        !written.is_empty()
            && written
                .iter()
                .all(|l| l.trim_start().starts_with("dense_bias")),
        "{table}"
    );
    // The written pipeline is in the IR, not the allocation's.
    let (code, ir, err) = kiln(&[
        "ir",
        &f,
        "--schedule",
        "fpga",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
    ]);
    assert_eq!(code, 0, "{err}");
    let dense = &ir[ir.find("instance dense_bias ").unwrap()..];
    let dense = &dense[..dense.find("output 0").unwrap()];
    assert!(
        dense.contains("for n.1 in 0..256: [pipeline II=1]"),
        "{dense}"
    );
}

/// The papers' networks: writes their random weights, runs `kiln report` with the
/// allocation and compares the allocation table with tests/papers/NAME-PART.out.
fn paper(name: &str, part: &str) {
    let numpy = std::process::Command::new("python3")
        .args(["-c", "import numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !numpy {
        eprintln!(
            "skipped {name}: make_data.py needs numpy (`pip install numpy`; .ci/run installs it)"
        );
        return;
    }
    let (code, _, err) = {
        let o = std::process::Command::new("python3")
            .args(["examples/papers/make_data.py", name])
            .output()
            .expect("python3 runs");
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(code, 0, "make_data.py: {err}");
    let file = format!("examples/papers/{name}.kiln");
    let (code, out, err) = kiln(&["report", &file, "--part", part, "--clock-ns", "5"]);
    assert_eq!(code, 0, "{err}");
    common::check_golden(
        &Path::new("tests/papers").join(format!("{name}-{part}.out")),
        &allocation(&out),
    );
}

#[test]
fn elbnn_binary_alexnet_on_zc706() {
    paper("elbnn_alexnet_bin", "xc7z045");
}

/// The other rows of the papers table: minutes each in a debug build (lowering sums the
/// real weights of every output; VGG16 has 14.7 M). `cargo test --release --test
/// allocation -- --ignored`.
#[test]
#[ignore = "minutes in a debug build; run with --release -- --ignored"]
fn paper_networks() {
    for (name, part) in [
        ("elbnn_alexnet_tern", "xc7z045"),
        ("alexnet_w16", "xc7z045"),
        ("alexnet_w8", "xc7z045"),
        ("vgg16_w16", "xc7z045"),
        ("vgg16_w8", "xc7z045"),
        ("vgg16_w16", "xcku115"),
        ("vgg16_w8", "xcku115"),
    ] {
        paper(name, part);
    }
}
