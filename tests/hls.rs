//! The HLS back end: every example and stdlib kernel goes through `kiln hls` and
//! `kiln csim` (g++ against the real ap_types headers) and must pass bit for bit; golden
//! files of the emitted C++ for small kernels (tests/hls/*.kiln → *.cpp, blessed with
//! `KILN_BLESS=1`). Random programs are checked in tests/differential.rs
//! (`csim_agrees_on_generated_programs`).

mod common;

use common::{kiln, Suite};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn scratch(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hls-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `kiln hls` then `kiln csim`; returns (hls seconds, csim output) or the failure.
type Checked = Result<(f64, String), String>;

fn hls_and_csim(file: &str, tag: &str) -> Checked {
    let dir = scratch(tag);
    let d = dir.to_string_lossy().into_owned();
    let t = Instant::now();
    let (code, _, err) = kiln(&["hls", file, "-o", &d]);
    let took = t.elapsed().as_secs_f64();
    if code != 0 {
        return Err(format!("kiln hls {file} failed:\n{err}"));
    }
    let (code, out, err) = kiln(&["csim", &d]);
    if code != 0 || out.trim() != "PASS" {
        return Err(format!("kiln csim for {file} failed:\n{out}{err}"));
    }
    Ok((took, err.trim().to_string()))
}

#[test]
fn examples_and_stdlib_pass_csim() {
    let files = [
        "examples/conv_relu/conv_relu.kiln",
        "examples/gemm/gemm.kiln",
        "examples/pylog/map_dot.kiln",
        "examples/pylog/gaussian.kiln",
        "examples/pylog/jacobi.kiln",
        "examples/pylog/sobel.kiln",
        "examples/lenet/lenet.kiln",
        "examples/bench/conv_fixed.kiln",
        "examples/bench/conv_f32.kiln",
        "examples/bench/conv_bin.kiln",
        "examples/bench/gemm_i8.kiln",
        "examples/bench/gemm_f32.kiln",
        "tests/stdlib/nn_all.kiln",
        "tests/hls/relu_dot.kiln",
        "tests/hls/mixed.kiln",
        "tests/hls/call.kiln",
        "tests/hls/argmax.kiln",
        "tests/hls/math_f32.kiln",
        "tests/hls/f64_pow.kiln",
        "tests/run/ok_f64.kiln",
        "tests/run/ok_power.kiln",
        "tests/hls/recurrence.kiln",
        "tests/hls/gather_scatter.kiln",
        "tests/hls/lut_fixed.kiln",
        "tests/hls/while_break.kiln",
        "tests/hls/bits.kiln",
        "tests/hls/map_windows.kiln",
        "tests/hls/list_literals.kiln",
        "tests/hls/broadcast.kiln",
        "tests/hls/tensor_in_loop.kiln",
        "tests/hls/pylog_indexing.kiln",
        "tests/hls/layer_pipeline.kiln",
        "tests/run/loop_bounds_nonaffine.kiln",
        "tests/run/for_each.kiln",
        "tests/run/helper_statements.kiln",
        "tests/run/output_params.kiln",
        "tests/run/output_params_entry.kiln",
        "tests/run/calls_in_loops.kiln",
        "tests/run/early_return.kiln",
        "tests/run/param_rebind.kiln",
        "tests/run/helper_procedures.kiln",
        "examples/pylog/matmul.kiln",
        "examples/pylog/cholesky.kiln",
        "examples/pylog/lu.kiln",
        "examples/pylog/seidel.kiln",
        "examples/pylog/bubble_sort.kiln",
        "examples/pylog/knn.kiln",
        "examples/pylog/vadd.kiln",
        "examples/pylog/prefix_sum.kiln",
        "examples/pylog/packed.kiln",
        "examples/pylog/kmeans_step.kiln",
        "examples/histogram/histogram.kiln",
        "examples/kmeans/kmeans.kiln",
        "examples/lenet/lenet_fixed16.kiln",
        "tests/hls/lowbit_conv.kiln",
        "tests/hls/lowbit_dense.kiln",
        "tests/hls/lowbit_depthwise.kiln",
    ];
    let results: Vec<(String, Checked)> = std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(files.len().div_ceil(2))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|f| {
                            let tag = f.replace(['/', '.'], "_");
                            (f.to_string(), hls_and_csim(f, &tag))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut failures = Vec::new();
    for (f, r) in results {
        match r {
            Ok((hls, csim)) => eprintln!("{f}: kiln hls {hls:.2} s; {csim}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Networks whose stages the allocation schedules (transform/allocate/) for a part:
/// LeNet on ZC706 (split channel loops in the dense stages), and a network too large for
/// the xc7z020's DSPs (pipelines of II > 1 sharing DSPs); C-simulation is bit-exact.
#[test]
fn allocated_networks_pass_csim() {
    for (file, part, tag) in [
        ("examples/lenet/lenet.kiln", "xc7z045", "alloc_lenet"),
        (
            "tests/ir/autoschedule/network.kiln",
            "xc7z020",
            "alloc_network",
        ),
    ] {
        let (code, report, err) = kiln(&["report", file, "--part", part, "--clock-ns", "5"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            report.contains("allocation of the network's stages"),
            "{report}"
        );
        let dir = scratch(tag);
        let d = dir.to_string_lossy().into_owned();
        let (code, _, err) = kiln(&["hls", file, "--part", part, "--clock-ns", "5", "-o", &d]);
        assert_eq!(code, 0, "{err}");
        let cpp = std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .filter(|f| f.path().extension().is_some_and(|e| e == "cpp"))
            .map(|f| std::fs::read_to_string(f.path()).unwrap())
            .collect::<String>();
        assert!(cpp.contains("PIPELINE II="), "{cpp}");
        if tag == "alloc_lenet" {
            // The allocation widens LeNet's streams between its row stages (words of 2
            // and 16 channels): the wide path is C-simulated.
            assert!(report.contains("stream word"), "{report}");
            assert!(cpp.contains("hls::stream<kiln::vec<"), "{cpp}");
        }
        let (code, out, err) = kiln(&["csim", &d]);
        assert!(code == 0 && out.trim() == "PASS", "{file}: {out}{err}");
    }
    // LeNet's allocated pipeline behind the AXI-stream top, over 100 test images.
    let dir = scratch("alloc_lenet_batch");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&[
        "hls",
        "examples/lenet/lenet.kiln",
        "--part",
        "xc7z045",
        "--clock-ns",
        "5",
        "--io",
        "stream",
        "--batch",
        "--input",
        "x=examples/lenet/data/test_images.npy",
        "-o",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("lenet.cpp")).unwrap();
    assert!(cpp.contains("hls::stream<kiln::vec<"), "{cpp}");
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
}

#[test]
fn emitted_cpp_goldens() {
    let mut suite = Suite::new("tests/hls", "kiln");
    for case in suite.cases() {
        let stem = case.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = scratch(&format!("golden-{stem}"));
        let (code, _, err) = kiln(&["hls", &case.to_string_lossy(), "-o", &dir.to_string_lossy()]);
        if code != 0 {
            suite.fail(&case, format!("kiln hls failed:\n{err}"));
            continue;
        }
        let cpp = std::fs::read_to_string(dir.join(format!("{stem}.cpp"))).unwrap_or_default();
        suite.check(&case, "cpp", &cpp);
    }
    suite.finish();
}

#[test]
fn hls_rejects_bad_input_with_a_diagnostic() {
    let dir = scratch("bad");
    let bad = dir.join("bad.kiln");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        &bad,
        "kernel main(x: int<8>[4]) -> int<8>[4]:\n    return x +\n",
    )
    .unwrap();
    let out = dir.join("out");
    let (code, _, err) = kiln(&["hls", &bad.to_string_lossy(), "-o", &out.to_string_lossy()]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[E0"), "{err}");
    assert!(
        !out.exists(),
        "nothing is written for a program with errors"
    );
}

/// Sets directives on the loops of variable `var` and partitions on tensors named `name`.
fn schedule(
    unroll_k: Option<u32>,
    partition_w: Option<kiln_passes::ir::Partition>,
) -> impl Fn(&mut kiln_passes::ir::Module) + Sync {
    use kiln_passes::ir::{Block, Node, Stmt};
    fn walk(b: &mut Block, names: &[String], unroll_k: Option<u32>) {
        for s in b {
            if let Stmt::For(l) = s {
                match names[l.var.index()].as_str() {
                    "k" => l.directives.unroll = unroll_k,
                    "i" => l.directives.pipeline_ii = Some(1),
                    _ => {}
                }
                walk(&mut l.body, names, unroll_k);
            }
        }
    }
    move |m| {
        for inst in &mut m.instances {
            let names: Vec<String> = inst.loop_vars.iter().map(|v| v.name.clone()).collect();
            for n in inst.graph.node_weights_mut() {
                if let Node::Compute(c) = n {
                    walk(&mut c.body, &names, unroll_k);
                }
            }
            for t in &mut inst.tensors {
                if t.name == "w" {
                    t.partition.extend(partition_w);
                }
            }
        }
    }
}

fn hls_with(
    sched: &(dyn Fn(&mut kiln_passes::ir::Module) + Sync),
    tag: &str,
) -> (kiln::Outcome, PathBuf) {
    let dir = scratch(tag);
    let spec = kiln::RunSpec::default();
    let hls = kiln::HlsSpec {
        out_dir: dir.clone(),
        part: "xczu9eg-ffvb1156-2-e".into(),
        clock_ns: 10.0,
        io_stream: false,
        auto_schedule: true,
        alloc: Default::default(),
        testbench: true,
    };
    let file = Path::new("tests/hls/directives/schedule.kiln");
    let o = kiln::hls_scheduled(file, &spec, &hls, &kiln::Options::default(), sched);
    (o, dir)
}

/// Directives become pragmas; an unroll whose accesses do not fit the array's banks is
/// E0514 (the goldens show the pragmas and the diagnostic).
#[test]
fn directives_become_pragmas_and_conflicts_are_rejected() {
    use kiln_passes::ir::{Partition, PartitionKind};
    // Unrolled by 4 with w in one bank: rejected.
    let (o, _) = hls_with(&schedule(Some(4), None), "conflict");
    assert_eq!(o.code, 1, "{}", o.stderr);
    common::check_golden(Path::new("tests/hls/directives/conflict.out"), &o.stderr);
    // Two blocks of four: the four consecutive elements fall in one bank, rejected too.
    let block = Partition {
        dim: 0,
        kind: PartitionKind::Block,
        factor: 2,
    };
    let (o, _) = hls_with(&schedule(Some(4), Some(block)), "conflict-block");
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("[E0514]"), "{}", o.stderr);
    // Cyclic by 4: accepted, and C-simulation still passes.
    let cyclic = Partition {
        dim: 0,
        kind: PartitionKind::Cyclic,
        factor: 4,
    };
    let (o, dir) = hls_with(&schedule(Some(4), Some(cyclic)), "scheduled");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let cpp = std::fs::read_to_string(dir.join("schedule.cpp")).unwrap();
    for pragma in [
        "KILN_PRAGMA(HLS PIPELINE II=1)",
        "KILN_PRAGMA(HLS UNROLL factor=4)",
        "KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_w type=cyclic factor=4 dim=1)",
    ] {
        assert!(cpp.contains(pragma), "{pragma} missing:\n{cpp}");
    }
    common::check_golden(Path::new("tests/hls/directives/scheduled.cpp"), &cpp);
    let (code, out, err) = kiln(&["csim", &dir.to_string_lossy()]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
}

/// `--io stream`: AXI-stream ports, with scalars still on s_axilite; C-simulation passes.
#[test]
fn io_stream_passes_csim() {
    for (file, tag) in [
        ("examples/conv_relu/conv_relu.kiln", "stream-conv"),
        ("tests/hls/mixed.kiln", "stream-mixed"),
        ("tests/hls/network.kiln", "stream-network"),
    ] {
        let dir = scratch(tag);
        let d = dir.to_string_lossy().into_owned();
        let (code, _, err) = kiln(&["hls", file, "-o", &d, "--io", "stream"]);
        assert_eq!(code, 0, "{err}");
        let stem = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let cpp = std::fs::read_to_string(dir.join(format!("{stem}.cpp"))).unwrap();
        assert!(cpp.contains("mode=axis"), "{cpp}");
        if tag == "stream-network" {
            // The network stays a DATAFLOW region behind the stream wrapper.
            assert!(cpp.contains("HLS DATAFLOW"), "{cpp}");
        }
        let (code, out, err) = kiln(&["csim", &d]);
        assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    }
}

/// The layer pipeline (passes/src/transform/stream.rs, backends/hls/src/kernel/rows.rs):
/// convolution, pooling and element-wise stages become row stages with line buffers, the
/// dense tail keeps whole frames, and a batch through the AXI-stream top C-simulates bit
/// for bit (padding above and below, stride 2, a residual add, odd sizes).
#[test]
fn layer_pipeline_streams_rows_over_a_batch() {
    let dir = scratch("pipeline-batch");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&[
        "hls",
        "tests/hls/layer_pipeline.kiln",
        "-o",
        &d,
        "--io",
        "stream",
        "--batch",
        "--input",
        "x=tests/fixtures/pipe_xb.npy",
    ]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("layer_pipeline.cpp")).unwrap();
    assert_eq!(
        // conv1, conv2, depthwise, conv3 + add, avgpool, maxpool + flatten; dense keeps
        // whole frames.
        cpp.matches("A dataflow stage computed row by row").count(),
        6,
        "{cpp}"
    );
    assert!(
        cpp.contains("t_xp[4][4][15];"),
        "the stride-2 4x4 window keeps 4 rows: {cpp}"
    );
    assert!(
        cpp.contains("HLS STREAM variable=t_requantize_out depth=11"),
        "one row of [4, 13, 11] in words of 4 channels (the allocation widens it): {cpp}"
    );
    assert!(
        cpp.contains("hls::stream<kiln::vec<"),
        "streams of channel words: {cpp}"
    );
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
}

/// `kiln report`: the FPGA estimate of examples on two devices (goldens), and an unknown
/// part is a diagnostic.
#[test]
fn report_goldens() {
    for (file, part, golden) in [
        (
            "examples/conv_relu/conv_relu.kiln",
            "xc7z020clg400-1",
            "conv_relu_xc7z020.out",
        ),
        (
            "examples/lenet/lenet.kiln",
            "xczu9eg-ffvb1156-2-e",
            "lenet_xczu9eg.out",
        ),
        (
            "examples/bench/conv_bin.kiln",
            "xcku115-flvb2104-2-e",
            "conv_bin_xcku115.out",
        ),
        // DNNBuilder's case for the layer pipeline (a report-only example: no data).
        (
            "examples/vgg_block/vgg_block.kiln",
            "xc7z045ffg900-2",
            "vgg_block_xc7z045.out",
        ),
    ] {
        let (code, out, err) = kiln(&["report", file, "--part", part]);
        assert_eq!(code, 0, "{err}");
        common::check_golden(&Path::new("tests/hls/report").join(golden), &out);
    }
    let (code, _, err) = kiln(&["report", "examples/gemm/gemm.kiln", "--part", "xc9nothing"]);
    assert_eq!(code, 1);
    assert!(err.contains("known devices"), "{err}");
}

/// A `schedule ... for fpga:` item in the source: its pragmas are written, C-simulation
/// passes, and `kiln report` costs the pipelined loop.
#[test]
fn schedule_items_reach_the_hls_back_end() {
    let file = "tests/hls/directives/schedule_lang.kiln";
    let dir = scratch("schedule-lang");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&["hls", file, "-o", &d]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("schedule_lang.cpp")).unwrap();
    for pragma in [
        "KILN_PRAGMA(HLS PIPELINE II=1)",
        "KILN_PRAGMA(HLS UNROLL factor=4)",
        "KILN_PRAGMA(HLS ARRAY_PARTITION variable=w_w type=cyclic factor=4 dim=1)",
    ] {
        assert!(cpp.contains(pragma), "{pragma} missing:\n{cpp}");
    }
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    let (code, out, err) = kiln(&["report", file, "--part", "xc7z020"]);
    assert_eq!(code, 0, "{err}");
    common::check_golden(
        Path::new("tests/hls/report/schedule_lang_xc7z020.out"),
        &out,
    );
}

/// PyLog's loop annotations (`.pipeline()`, `.unroll(N)`, `pragma("HLS ...")`) become
/// the pragmas of the matching schedule primitives, and C-simulate.
#[test]
fn pylog_annotations_become_pragmas() {
    let file = "tests/hls/directives/pylog_annotations.kiln";
    let dir = scratch("pylog-annotations");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&["hls", file, "-o", &d]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("pylog_annotations.cpp")).unwrap();
    for pragma in [
        "KILN_PRAGMA(HLS PIPELINE II=1)",
        "KILN_PRAGMA(HLS UNROLL factor=4)",
        "KILN_PRAGMA(HLS PIPELINE II=2)",
        "KILN_PRAGMA(HLS UNROLL factor=2)",
        "KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_w type=cyclic factor=4 dim=1)",
        "KILN_PRAGMA(HLS ARRAY_PARTITION variable=t_x type=cyclic factor=4 dim=2)",
    ] {
        assert!(cpp.contains(pragma), "{pragma} missing:\n{cpp}");
    }
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
}

/// Loop transformations on the FPGA target: the C++ has the tiled loops (affine bounds,
/// a remainder loop), C-simulation matches kiln bit for bit, and `kiln report` counts
/// the inner loops' true trips.
#[test]
fn tiled_loops_reach_the_hls_back_end() {
    let file = "tests/hls/directives/tiled.kiln";
    let dir = scratch("tiled");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&["hls", file, "-o", &d]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("tiled.cpp")).unwrap();
    for label in [
        "L_result_store_i_o:",
        "L_result_store_j_o:",
        "L_result_store_k_i_2:",
    ] {
        assert!(cpp.contains(label), "{label} missing:\n{cpp}");
    }
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    let (code, out, err) = kiln(&["report", file, "--part", "xc7z020"]);
    assert_eq!(code, 0, "{err}");
    common::check_golden(Path::new("tests/hls/report/tiled_xc7z020.out"), &out);
}

/// `fuse` becomes LOOP_FLATTEN (fewer estimated cycles: one pipeline fill), `stream`
/// sets a FIFO's depth; both C-simulate.
#[test]
fn fuse_and_stream_reach_the_hls_back_end() {
    let file = "tests/hls/directives/flatten.kiln";
    let dir = scratch("flatten");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&["hls", file, "-o", &d]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("flatten.cpp")).unwrap();
    assert!(cpp.contains("KILN_PRAGMA(HLS LOOP_FLATTEN)"), "{cpp}");
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    let (_, fused, _) = kiln(&["report", file]);
    let src = std::fs::read_to_string(file).unwrap();
    let unfused_file = dir.join("unfused.kiln");
    std::fs::write(&unfused_file, src.replace("    fuse(i, j)\n", "")).unwrap();
    let (_, unfused, _) = kiln(&["report", &unfused_file.to_string_lossy()]);
    assert!(
        top_cycles(&fused) < top_cycles(&unfused),
        "fused {} vs {}",
        top_cycles(&fused),
        top_cycles(&unfused)
    );
    // A stream between two calls of LeNet, named by the local it is bound to.
    let lenet = std::fs::read_to_string("examples/lenet/lenet.kiln").unwrap();
    let ldir = scratch("stream");
    std::fs::create_dir_all(&ldir).unwrap();
    for f in std::fs::read_dir("examples/lenet/data").unwrap().flatten() {
        let to = ldir.join("data");
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
    }
    let lfile = ldir.join("lenet.kiln");
    std::fs::write(
        &lfile,
        format!("{lenet}\nschedule main for fpga:\n    stream(c1, depth=16)\n    stream(c1x, depth=2)\n"),
    )
    .unwrap();
    let (code, _, err) = kiln(&[
        "hls",
        &lfile.to_string_lossy(),
        "-o",
        &ldir.join("out").to_string_lossy(),
    ]);
    assert_eq!(code, 1, "a stream of an unknown tensor is an error:\n{err}");
    assert!(err.contains("is not a local tensor of `main`"), "{err}");
    std::fs::write(
        &lfile,
        format!("{lenet}\nschedule main for fpga:\n    stream(c1, depth=16)\n"),
    )
    .unwrap();
    let (code, _, err) = kiln(&[
        "hls",
        &lfile.to_string_lossy(),
        "-o",
        &ldir.join("out").to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(ldir.join("out").join("lenet.cpp")).unwrap();
    assert!(cpp.contains("depth=16)"), "{cpp}");
}

fn top_cycles(report: &str) -> u64 {
    report
        .lines()
        .find(|l| l.starts_with("top "))
        .and_then(|l| l.split(": ").nth(1))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no top line in:\n{report}"))
}

/// The automatic FPGA schedule (no `schedule` in the file) estimates fewer cycles than no
/// schedule, and fits the device it was chosen for.
#[test]
fn automatic_schedule_beats_no_schedule() {
    for file in [
        "examples/conv_relu/conv_relu.kiln",
        "examples/lenet/lenet.kiln",
        "examples/gemm/gemm.kiln",
    ] {
        let (_, none, _) = kiln(&["report", file, "--part", "xc7z020", "--no-auto-schedule"]);
        let (code, auto, err) = kiln(&["report", file, "--part", "xc7z020"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            top_cycles(&auto) * 10 < top_cycles(&none),
            "{file}: automatic {} vs none {} cycles",
            top_cycles(&auto),
            top_cycles(&none)
        );
        assert!(!auto.contains("does not fit"), "{auto}");
    }
}

/// A kernel the JIT declines (values over 128 bits) still gets a testbench: the
/// interpreter computes the expected results, with a note; C-simulation passes.
#[test]
fn wide_values_go_through_the_interpreter() {
    let dir = scratch("wide");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&["hls", "tests/hls/directives/wide.kiln", "-o", &d]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("come from the interpreter"), "{err}");
    let (code, out, err) = kiln(&["csim", &d]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
}

/// The native C-simulation forms of kiln_hls.h (64-bit mantissas) against the portable
/// forms (the headers' operators, what synthesis compiles): one C++ program includes the
/// runtime twice, once with `KILN_PORTABLE`, and compares every conversion (each
/// quantization and overflow mode, signed and unsigned targets, LSBs above and below the
/// source's) and every + - * < == negation, absolute value and int conversion over all
/// values of small source types, bit for bit.
#[test]
fn native_and_portable_forms_agree() {
    let sources = [
        "fx<7, 3>",
        "ufx<6, 2>",
        "fx<5, -1>",
        "fx<6, 8>",
        "ufx<4, 4>",
    ];
    let quants = [
        "AP_TRN",
        "AP_TRN_ZERO",
        "AP_RND",
        "AP_RND_ZERO",
        "AP_RND_MIN_INF",
        "AP_RND_INF",
        "AP_RND_CONV",
    ];
    let overflows = ["AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM", "AP_WRAP"];
    let mut targets = Vec::new();
    for q in quants {
        for o in overflows {
            targets.push(format!("ap_fixed<4, 1, {q}, {o}>"));
            targets.push(format!("ap_ufixed<3, 1, {q}, {o}>"));
        }
    }
    for o in overflows {
        targets.push(format!("ap_fixed<1, 1, AP_RND, {o}>"));
        targets.push(format!("ap_ufixed<2, 4, AP_RND_CONV, {o}>"));
        targets.push(format!("ap_fixed<12, 2, AP_RND, {o}>"));
    }
    targets.push("ap_fixed<5, 2, AP_RND, AP_WRAP, 2>".into());
    targets.push("ap_fixed<5, 2, AP_RND, AP_WRAP_SM>".into());
    targets.push("ap_int<3>".into());
    targets.push("ap_uint<9>".into());
    let mut cpp = String::from(
        r#"// Generated by tests/hls.rs: native vs portable forms of kiln_hls.h.
// (kiln_hls.h silences these before it includes the headers; here they come first.)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <ap_fixed.h>
#include <ap_int.h>
#include <stdio.h>
#include <cmath>
#include <stdint.h>
#include <stddef.h>
#include <hls_stream.h>
namespace n {
#include "kiln_hls.h"
}
#undef KILN_HLS_H
#undef KILN_NATIVE
#define KILN_PORTABLE
namespace p {
#include "kiln_hls.h"
}
static long bad = 0, checked = 0;
template <class T> long long bits(const T& x) { return (long long)x.V.to_int64(); }
template <int W, int F, bool S> long long bits(const n::kiln::num<W, F, S>& x) { return x.m; }
static long long bits(bool b) { return b; }
template <class A, class B> void same(const char* what, int i, int j, const A& a, const B& b) {
    checked++;
    if (bits(a) != bits(b) && bad++ < 20) printf("%s [%d, %d]: native %lld, portable %lld\n", what, i, j, bits(a), bits(b));
}
// Every value of a value type (its mantissas), in both forms.
template <class NT, class PT> struct all {
    static const int W = n::kiln::L<NT>::w;
    static const bool S = n::kiln::L<NT>::s;
    static int count() { return 1 << W; }
    static long long m(int i) { return S ? i - (1 << (W - 1)) : i; }
    static NT nat(int i) { return n::kiln::make<NT>(m(i)); }
    static PT port(int i) { return p::kiln::make<PT>(m(i)); }
};
"#,
    );
    let mut body = String::new();
    for (si, s) in sources.iter().enumerate() {
        let _ = writeln!(cpp, "typedef all<n::kiln::{s}, p::kiln::{s}> S{si};");
        for (ti, t) in targets.iter().enumerate() {
            let conv = if t.starts_with("ap_int") || t.starts_with("ap_uint") {
                ("to_int", "cvt_int")
            } else {
                ("to_fixed", "cvt")
            };
            let _ = writeln!(
                body,
                "    for (int i = 0; i < S{si}::count(); i++) {{ same(\"{s} -> {t}\", i, {ti}, n::kiln::{0}<{t} >(S{si}::nat(i)), p::kiln::{0}<{t} >(S{si}::port(i))); same(\"{s} -> value of {t}\", i, {ti}, n::kiln::{1}<{t} >(S{si}::nat(i)), p::kiln::{1}<{t} >(S{si}::port(i))); }}",
                conv.0, conv.1
            );
        }
        let _ = writeln!(
            body,
            "    for (int i = 0; i < S{si}::count(); i++) {{ same(\"neg {s}\", i, 0, n::kiln::neg_to<n::kiln::fx<12, 9> >(S{si}::nat(i)), p::kiln::neg_to<p::kiln::fx<12, 9> >(S{si}::port(i))); same(\"abs {s}\", i, 0, n::kiln::abs_to<n::kiln::ufx<11, 8> >(S{si}::nat(i)), p::kiln::abs_to<p::kiln::ufx<11, 8> >(S{si}::port(i))); }}"
        );
    }
    for (ai, a) in sources.iter().enumerate() {
        for (bi, b) in sources.iter().enumerate() {
            for (op, r) in [
                ("add", "fx<20, 10>"),
                ("sub", "fx<20, 10>"),
                ("mul", "fx<24, 14>"),
                ("add", "fx<5, 2>"),
                ("mul", "ufx<6, 3>"),
            ] {
                let _ = writeln!(
                    body,
                    "    for (int i = 0; i < S{ai}::count(); i++) for (int j = 0; j < S{bi}::count(); j++) same(\"{a} {op} {b} as {r}\", i, j, n::kiln::{op}<n::kiln::{r} >(S{ai}::nat(i), S{bi}::nat(j)), p::kiln::{op}<p::kiln::{r} >(S{ai}::port(i), S{bi}::port(j)));"
                );
            }
            for op in ["lt", "eq"] {
                let _ = writeln!(
                    body,
                    "    for (int i = 0; i < S{ai}::count(); i++) for (int j = 0; j < S{bi}::count(); j++) same(\"{a} {op} {b}\", i, j, n::kiln::{op}(S{ai}::nat(i), S{bi}::nat(j)), p::kiln::{op}(S{ai}::port(i), S{bi}::port(j)));"
                );
            }
        }
    }
    let _ = write!(
        cpp,
        "int main() {{\n{body}    if (bad) {{ printf(\"FAIL: %ld of %ld differ\\n\", bad, checked); return 1; }}\n    printf(\"PASS\\n\");\n    fprintf(stderr, \"%ld checked\\n\", checked);\n    return 0;\n}}\n"
    );
    let dir = scratch("native-portable");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy("backends/hls/runtime/kiln_hls.h", dir.join("kiln_hls.h")).unwrap();
    std::fs::write(dir.join("conformance.cpp"), &cpp).unwrap();
    let (code, out, err) = kiln(&["csim", &dir.to_string_lossy()]);
    assert_eq!((code, out.trim()), (0, "PASS"), "{out}\n{err}");
    let checked: u64 = err
        .lines()
        .find_map(|l| l.strip_suffix(" checked")?.parse().ok())
        .unwrap_or(0);
    assert!(checked > 600_000, "only {checked} comparisons:\n{err}");
}

/// The portable forms of kiln_hls.h (the headers' operators, what synthesis compiles)
/// C-simulate bit for bit too: `-DKILN_PORTABLE` turns the native forms off.
#[test]
fn portable_forms_pass_csim() {
    for (file, tag) in [
        ("examples/lenet/lenet.kiln", "portable-lenet"),
        ("tests/hls/mixed.kiln", "portable-mixed"),
        ("tests/hls/bits.kiln", "portable-bits"),
        ("tests/hls/lowbit_conv.kiln", "portable-lowbit-conv"),
        ("tests/hls/lowbit_dense.kiln", "portable-lowbit-dense"),
    ] {
        let dir = scratch(tag);
        let d = dir.to_string_lossy().into_owned();
        let (code, _, err) = kiln(&["hls", file, "-o", &d]);
        assert_eq!(code, 0, "{err}");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["csim", &d])
            .env("CXX", "g++ -DKILN_PORTABLE")
            .output()
            .expect("run kiln csim");
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && out.trim() == "PASS",
            "{file}: {out}{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// Low-bit reductions become XNOR/popcount over packed words, with the constant weights
/// packed in the weights header's ROMs; other bin and tern products are selects.
#[test]
fn low_bit_reductions_use_packed_words() {
    let cases: [(&str, &[&str], &[&str]); 3] = [
        (
            "tests/hls/lowbit_conv.kiln",
            &[
                "kiln::trit_bin_dot(",
                "kiln::trit_dot(",
                "static kiln::word pk_",
            ],
            &["w_wb_pk1", "w_wt_pk1_m"],
        ),
        (
            "tests/hls/lowbit_dense.kiln",
            &["kiln::bin_dot(", "kiln::trit_bin_dot(", "L_pack_pk_w_1"],
            &["w_wr_pk1", "w_wt_pk1_m"],
        ),
        (
            "tests/hls/lowbit_depthwise.kiln",
            &["kiln::window(", "kiln::trit_bin_dot(", "kiln::sel_mul<"],
            &["w_wd_pk2"],
        ),
    ];
    for (file, cpp_has, roms) in cases {
        let stem = Path::new(file)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let dir = scratch(&format!("lowbit-{stem}"));
        let (code, _, err) = kiln(&["hls", file, "-o", &dir.to_string_lossy()]);
        assert_eq!(code, 0, "{err}");
        let cpp = std::fs::read_to_string(dir.join(format!("{stem}.cpp"))).unwrap();
        let weights = std::fs::read_to_string(dir.join(format!("{stem}_weights.h"))).unwrap();
        for s in cpp_has {
            assert!(cpp.contains(s), "{file}: no `{s}` in\n{cpp}");
        }
        for s in roms {
            assert!(
                weights.contains(&format!("KILN_ROM({s}_t, unsigned long long, {s}")),
                "{file}: no packed ROM {s} in\n{weights}"
            );
        }
        // No multiplication is left (every product has a bin or tern operand).
        assert!(!cpp.contains("kiln::mul<"), "{file}:\n{cpp}");
    }
}

/// In a row stage (the automatic allocation's layer pipeline), low-bit reductions read
/// images packed row by row as their rows arrive, in as many slots as their line buffers
/// hold (tests/hls_rows/bnn.kiln); C-simulation is bit-exact.
#[test]
fn low_bit_row_stages_pack_rows_as_they_arrive() {
    let file = "tests/hls_rows/bnn.kiln";
    let dir = scratch("lowbit-rows");
    let d = dir.to_string_lossy().into_owned();
    let (code, _, err) = kiln(&[
        "hls",
        file,
        "--part",
        "xc7z020",
        "--clock-ns",
        "5",
        "-o",
        &d,
    ]);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("bnn.cpp")).unwrap();
    // The stage of the two convolutions: its packed line buffers (3 rows of 12 and of 10
    // pixels, one word of 16 or 32 channels), each packed after its row is made.
    let stage = &cpp[cpp
        .find("// A dataflow stage computed row by row: `conv2d")
        .unwrap_or_else(|| panic!("no row stage:\n{cpp}"))..];
    let stage = &stage[..stage.find("\n}\n").unwrap()];
    for s in [
        "static kiln::word pk_t_xp_0[3][12][1];",
        "static kiln::word pk_t_xp_0_m[3][12][1];",
        "static kiln::word pk_t_xp_2_0[3][10][1];",
        "kiln::trit_bin_dot(pk_t_xp_0_m[",
        "kiln::trit_bin_dot(pk_t_xp_2_0_m[",
        "w_w1_pk1[",
        "w_w2_pk1[",
    ] {
        assert!(stage.contains(s), "no `{s}` in the stage:\n{stage}");
    }
    assert_eq!(
        stage.matches("packed along dimension 0 into words").count(),
        2,
        "{stage}"
    );
    assert!(!stage.contains("kiln::sel_mul<"), "{stage}");
    let csim = kiln::csim::find_ap_types(None).is_ok();
    if csim {
        let (code, out, err) = kiln(&["csim", &d]);
        assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    } else {
        eprintln!("lowbit-rows: ap_types headers not found, C-simulation skipped");
    }
    // With 6% of the device the allocation splits the channel loops (CPF 2 and 4, bound
    // by the LUTs of the window reads' multiplexers; `kiln ir` shows the same allocation
    // as `kiln hls`): the reductions then go over the kernel window's row, packed along
    // the image's width.
    let budget = ["--part", "xc7z020", "--clock-ns", "5", "--budget", "0.06"];
    let mut args = vec!["ir", file, "--schedule", "fpga"];
    args.extend(budget);
    let (code, ir, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    assert!(ir.contains("in 4*c_o.1..4*c_o.1 + 4:"), "{ir}");
    let dir = scratch("lowbit-rows-split");
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["hls", file, "-o", &d];
    args.extend(budget);
    let (code, _, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("bnn.cpp")).unwrap();
    for s in [
        "static kiln::word pk_t_xp_2[16][3][1];",
        "static kiln::word pk_t_xp_2_2[32][3][1];",
        "kiln::trit_bin_dot(kiln::window(pk_t_xp_2_m[",
        "packed along dimension 2 into words",
    ] {
        assert!(cpp.contains(s), "no `{s}` in:\n{cpp}");
    }
    assert!(!cpp.contains("kiln::sel_mul<"), "{cpp}");
    if csim {
        let (code, out, err) = kiln(&["csim", &d]);
        assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    }
}

/// The bytes of one element of a C++ port type (`ap_int<8>`, `ap_fixed<16, 10>`) in DDR
/// behind an m_axi port: its width rounded up to a power of two of bytes.
fn port_word_bytes(cpp_type: &str) -> u64 {
    let width: u64 = cpp_type
        .split('<')
        .nth(1)
        .and_then(|r| r.split([',', '>']).next())
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or_else(|| panic!("no width in `{cpp_type}`"));
    width.div_ceil(8).next_power_of_two()
}

/// A convolution whose weights stay in DDR at 4 channels a cycle
/// (tests/hls_ddr/ddr_wide.kiln): the tile of an output channel is copied 36 weights an
/// iteration (4 channel banks x the 3 x 3 window, one 288-bit word), through a port of
/// 512-bit words; the stage's cycles are the estimate of that design, and C-simulation is
/// bit-exact.
#[test]
fn ddr_tiles_are_copied_in_wide_words() {
    let file = "tests/hls_ddr/ddr_wide.kiln";
    let alloc = ["--part", "xc7z020", "--clock-ns", "5", "--budget", "0.1"];
    let mut args = vec!["report", file, "--timings"];
    args.extend(alloc);
    let (code, report, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    let conv = report
        .lines()
        .find(|l| l.trim_start().starts_with("conv2d_relu_requantize "))
        .unwrap_or_else(|| panic!("no conv stage:\n{report}"));
    assert!(
        conv.contains("CPF 4/64") && conv.trim_end().ends_with("DDR"),
        "{conv}"
    );
    assert!(
        err.contains("w in tiles [1, 64, 3, 3] (4 times the tensor per image)"),
        "{err}"
    );
    // The copy: 16 iterations of 4 channels x 3 x 3 at II 1, as the estimate says.
    assert!(
        report.contains("loop w_t1o: 16 trips, flattened, pipeline II=1"),
        "{report}"
    );
    let dir = scratch("ddr_wide");
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["hls", file];
    args.extend(alloc);
    args.extend(["-o", &d]);
    let (code, _, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    let cpp = std::fs::read_to_string(dir.join("ddr_wide.cpp")).unwrap();
    assert!(
        cpp.contains("port=w offset=slave bundle=gmem1 depth=36864 max_widen_bitwidth=512"),
        "{cpp}"
    );
    assert!(
        cpp.contains("_w_t1o + 4); "),
        "the copy moves 4 channels an iteration:\n{cpp}"
    );
    if kiln::csim::find_ap_types(None).is_ok() {
        let (code, out, err) = kiln(&["csim", &d]);
        assert_eq!((code, out.trim()), (0, "PASS"), "{err}");
    } else {
        eprintln!("ddr_wide: ap_types headers not found, C-simulation skipped");
    }
}

/// Weights the allocation leaves in DDR (a small `--budget`: tests/hls_ddr/ddr_net.kiln,
/// a row stage of two convolutions, a pooling stage and a dense stage) are m_axi arguments
/// of the top, not ROMs, under `--io axi` and `--io stream`, with and without `--batch`;
/// the row stage copies them in tiles of one output channel, once per output row; what
/// the design reads per image (each port's depth in m_axi words, times the tensor's
/// copies per image) is the DDR figure of `kiln report`; C-simulation is bit-exact.
#[test]
fn ddr_weights_are_m_axi_ports() {
    let file = "tests/hls_ddr/ddr_net.kiln";
    let alloc = ["--part", "xc7z020", "--clock-ns", "5", "--budget", "0.01"];
    let mut args = vec!["report", file, "--timings"];
    args.extend(alloc);
    let (code, report, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    let ddr_rows = report
        .lines()
        .filter(|l| l.trim_end().ends_with(" DDR"))
        .count();
    assert_eq!(
        ddr_rows, 1,
        "the convolutions keep their weights in DDR (the dense stage's would not save BRAM):\n{report}"
    );
    // `pass: weights of STAGE in DDR: w1 in tiles [1, 8, 3, 3] (10 times the tensor per
    // image), ...`: the tiles and how often they move the tensor.
    let moved = err
        .lines()
        .find_map(|l| l.strip_prefix("pass: weights of "))
        .unwrap_or_else(|| panic!("no DDR remark:\n{err}"));
    let tiles = |w: &str| -> (String, u64) {
        let at = moved
            .find(&format!(": {w} in tiles ["))
            .or_else(|| moved.find(&format!(", {w} in tiles [")))
            .unwrap_or_else(|| panic!("`{w}` not in {moved}"));
        let rest = &moved[at + w.len() + 13..];
        let shape = rest[..rest.find(']').unwrap()].to_string();
        let times = rest[rest.find('(').unwrap() + 1..]
            .split(' ')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(|| panic!("no copies in {rest}"));
        (shape, times)
    };
    // One output channel a tile, once per output row (10 and 8 rows).
    assert_eq!(tiles("w1"), ("1, 8, 3, 3".to_string(), 10));
    assert_eq!(tiles("b1"), ("1".to_string(), 10));
    assert_eq!(tiles("w2"), ("1, 32, 3, 3".to_string(), 8));
    let reported: u64 = report
        .lines()
        .find_map(|l| l.strip_prefix("DDR: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|b| b.parse().ok())
        .unwrap_or_else(|| panic!("no DDR line:\n{report}"));
    let weights = ["w1", "b1", "w2"];
    let csim = kiln::csim::find_ap_types(None).is_ok();
    let xs = "x=tests/hls_ddr/data/xs.npy";
    for (tag, extra) in [
        ("ddr_axi", vec![]),
        ("ddr_stream", vec!["--io", "stream"]),
        ("ddr_batch", vec!["--batch", "--input", xs]),
        (
            "ddr_stream_batch",
            vec!["--io", "stream", "--batch", "--input", xs],
        ),
    ] {
        let dir = scratch(tag);
        let d = dir.to_string_lossy().into_owned();
        let mut args = vec!["hls", file];
        args.extend(alloc);
        args.extend(extra);
        args.extend(["-o", &d]);
        let (code, _, err) = kiln(&args);
        assert_eq!(code, 0, "{tag}: {err}");
        let cpp = std::fs::read_to_string(dir.join("ddr_net.cpp")).unwrap();
        let roms = std::fs::read_to_string(dir.join("ddr_net_weights.h")).unwrap();
        let top = cpp
            .lines()
            .find(|l| l.starts_with("void "))
            .unwrap_or_else(|| panic!("{tag}: no top function:\n{cpp}"));
        assert!(
            cpp.contains("_tile[0]"),
            "{tag}: the stage reads no tile:\n{cpp}"
        );
        let mut read = 0u64;
        for w in weights {
            let pragma =
                format!("KILN_PRAGMA(HLS INTERFACE mode=m_axi port={w} offset=slave bundle=gmem");
            let line = cpp
                .lines()
                .find(|l| l.trim_start().starts_with(&pragma))
                .unwrap_or_else(|| panic!("{tag}: `{w}` is not an m_axi port:\n{cpp}"));
            assert!(
                cpp.contains(&format!(
                    "KILN_PRAGMA(HLS INTERFACE mode=s_axilite port={w})"
                )),
                "{tag}: `{w}` has no s_axilite offset"
            );
            assert!(
                !roms.contains(&format!("w_{w}")),
                "{tag}: `{w}` is still a ROM:\n{roms}"
            );
            let depth: u64 = line
                .split("depth=")
                .nth(1)
                .and_then(|r| r.split([' ', ')']).next())
                .and_then(|r| r.parse().ok())
                .unwrap_or_else(|| panic!("{tag}: no depth in {line}"));
            assert!(
                line.contains("max_widen_bitwidth=512"),
                "{tag}: the port reads 512-bit words: {line}"
            );
            // The port's type in the top's prototype: `const TYPE w[...]`.
            let at = top
                .find(&format!(" {w}["))
                .unwrap_or_else(|| panic!("{tag}: `{w}` not in {top}"));
            let start = top[..at].rfind("const ").expect("a const array port") + 6;
            read += depth * port_word_bytes(&top[start..at]) * tiles(w).1;
            // Not batched: the same weights for every sample.
            let dims = &top[at + w.len() + 1..];
            assert!(!dims.starts_with("[3]"), "{tag}: `{w}` batched: {top}");
        }
        assert_eq!(read, reported, "{tag}: DDR bytes per image");
        if csim {
            let (code, out, err) = kiln(&["csim", &d]);
            assert_eq!((code, out.trim()), (0, "PASS"), "{tag}: {err}");
        } else {
            eprintln!("{tag}: ap_types headers not found, C-simulation skipped");
        }
    }
}

/// The estimate prices a window read whose bank moves with the loop counters as a
/// multiplexer over the banks it can reach (passes/src/analysis/estimate/): the same
/// sliding sum `b[j + v]`, `v < 3`, with `b` in one bank, split cyclic 3, and split
/// completely. Split cyclic 3, each of the 3 reads reaches the 3 banks: 72 input bits at
/// two fifths of a LUT (29) and 3 decodes of 3 banks at 3.5 LUTs (32), 61 LUTs, while its
/// buffer is 3 banks of 32 bits (a LUT each) instead of 96 bits in 2 LUTs. Split
/// completely, each read reaches the 10 elements `j + v` moves over: 240 input bits (96)
/// and 3 decodes of 10 (105), 201 LUTs, the buffer in registers.
#[test]
fn window_reads_at_moving_banks_are_priced_as_multiplexers() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let lut_with = |partition: &str| -> u64 {
        let file = dir.path().join("win.kiln");
        let src = format!(
            "kernel win(x: int<8>[12]) -> int<16>[10]:\n    b: int<8>[12]\n    for i in range(12):\n        b[i] = x[i]\n    y: int<16>[10]\n    for j in range(10):\n        acc: int<16> = 0\n        for v in range(3):\n            acc += b[j + v]\n        y[j] = acc\n    return y\n\nschedule win for fpga:\n    pipeline(i, ii=1)\n    pipeline(j, ii=1)\n{partition}"
        );
        std::fs::write(&file, src).expect("write the kernel");
        let f = file.to_string_lossy().into_owned();
        let (code, out, err) = kiln(&[
            "report",
            &f,
            "--kernel",
            "win",
            "--part",
            "xc7z045",
            "--clock-ns",
            "5",
        ]);
        assert_eq!(code, 0, "{err}");
        let line = out
            .lines()
            .find(|l| l.starts_with("top "))
            .unwrap_or_else(|| panic!("no top line in:\n{out}"));
        line.rsplit(", ")
            .next()
            .and_then(|p| p.strip_suffix(" LUT"))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no LUT figure in {line}"))
    };
    let one_bank = lut_with("");
    let cyclic = lut_with("    partition(b, dim=1, kind=cyclic, factor=3)\n");
    let complete = lut_with("    partition(b, dim=1, kind=complete)\n");
    assert_eq!(cyclic, one_bank - 2 + 3 + 29 + 32, "{one_bank} {cyclic}");
    assert_eq!(complete, one_bank - 2 + 96 + 105, "{one_bank} {complete}");
}
