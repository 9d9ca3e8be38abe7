//! Loop schedules end to end: each legal transformation keeps the results bit for bit
//! (JIT after the schedule = interpreter on the program as written), each illegal one is
//! an E0515 that says why, and `kiln ir --schedule cpu` shows the transformed loops.

mod common;

use common::kiln;
use std::path::{Path, PathBuf};

fn scratch(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("schedule-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// `tests/schedule/NAME.kiln` with `schedule` appended, written to a scratch directory.
fn scheduled(name: &str, tag: &str, schedule: &str) -> (PathBuf, PathBuf) {
    let src = std::fs::read_to_string(format!("tests/schedule/{name}.kiln")).expect("source");
    let dir = scratch(tag);
    let file = dir.join(format!("{name}.kiln"));
    std::fs::write(&file, format!("{src}\n{schedule}\n")).expect("write");
    (dir, file)
}

fn result_of(file: &Path, dir: &Path, engine: &str, extra: &[&str]) -> Vec<u8> {
    let out = dir.join(format!("out-{engine}-{}", extra.join("")));
    let f = file.to_string_lossy();
    let o = out.to_string_lossy();
    let mut args = vec!["run", &f, "--engine", engine, "--out", &o];
    args.extend_from_slice(extra);
    let (code, _, err) = kiln(&args);
    assert_eq!(code, 0, "{err}");
    std::fs::read(out.join("result.npy")).expect("result")
}

/// The scheduled program's JIT result equals the interpreter's on the program as written.
fn keeps_results(name: &str, tag: &str, schedule: &str) -> String {
    let plain = Path::new("tests/schedule").join(format!("{name}.kiln"));
    let dir = scratch(&format!("{tag}-plain"));
    let want = result_of(&plain, &dir, "interp", &[]);
    let (dir, file) = scheduled(name, tag, schedule);
    let got = result_of(&file, &dir, "jit", &[]);
    assert!(got == want, "{name} with `{schedule}`: results differ");
    let (code, ir, err) = kiln(&["ir", &file.to_string_lossy(), "--schedule", "cpu"]);
    assert_eq!(code, 0, "{err}");
    ir
}

fn refused(name: &str, tag: &str, schedule: &str, why: &str) {
    let (_, file) = scheduled(name, tag, schedule);
    let (code, _, err) = kiln(&["run", &file.to_string_lossy()]);
    assert_eq!(code, 1, "{schedule} accepted:\n{err}");
    assert!(err.contains("E0515") && err.contains(why), "{err}");
}

#[test]
fn every_order_of_a_tensor_accumulated_f32_product_is_legal() {
    for (n, order) in ["i, k, j", "k, i, j", "j, k, i", "k, j, i"]
        .iter()
        .enumerate()
    {
        let ir = keeps_results(
            "tensor_sum",
            &format!("order{n}"),
            &format!("schedule mm for cpu:\n    reorder({order})"),
        );
        let first = order.split(", ").next().unwrap();
        assert!(
            ir.contains(&format!("    for {first} in 0..")),
            "`{first}` is not outermost:\n{ir}"
        );
    }
}

#[test]
fn split_tile_and_unroll_keep_results() {
    let ir = keeps_results(
        "tensor_sum",
        "tile",
        "schedule mm for cpu:\n    tile(i, j, 2, 7)\n    reorder(i_o, j_o, k, i_i, j_i)",
    );
    assert!(ir.contains("for i_i in 2*i_o..2*i_o + 2"), "{ir}");
    // A split of k (5 iterations by 2) has a remainder loop, so the nest above it is no
    // longer perfect: a reorder through it is refused.
    let ir = keeps_results(
        "tensor_sum",
        "split",
        "schedule mm for cpu:\n    split(k, 2)",
    );
    assert!(ir.contains("for k_i.1 in 4..5"), "{ir}");
    refused(
        "tensor_sum",
        "split-reorder",
        "schedule mm for cpu:\n    split(k, 2)\n    reorder(k_o, i, j)",
        "perfectly nested",
    );
    keeps_results(
        "tensor_sum",
        "unroll",
        "schedule mm for cpu:\n    split(j, 3)\n    unroll(j_i)",
    );
}

#[test]
fn a_carried_scalar_blocks_a_reorder() {
    refused(
        "carried",
        "carried",
        "schedule total for cpu:\n    reorder(j, i)",
        "carries a value from one iteration of the nest to the next",
    );
    // Splitting the same nest keeps the order of the sum: legal.
    let ir = keeps_results(
        "carried",
        "carried-split",
        "schedule total for cpu:\n    split(j, 4)",
    );
    assert!(ir.contains("for j_o in 0..1"), "{ir}");
}

#[test]
fn copies_that_update_one_element_are_not_jammed() {
    let ir = keeps_results(
        "conflict",
        "conflict",
        "schedule hist for cpu:\n    unroll(i, 2)",
    );
    // Unrolled (two copies of the r loop per i_o), not jammed into one r loop.
    let r_loops = ir.matches("for r").count();
    assert!(r_loops >= 2, "{ir}");
}

/// Found by the random schedules of the difftest: two accesses `y[i + 1, j]` and
/// `y[i, j + 1]` differ by constants, yet copies of `i` meet them at different `j`.
#[test]
fn copies_that_meet_at_other_inner_iterations_are_not_jammed() {
    let ir = keeps_results("wavefront", "wave", "schedule wave for cpu:\n    unroll(i)");
    assert_eq!(ir.matches("for j.").count(), 3, "{ir}");
    refused(
        "wavefront",
        "wave-order",
        "schedule wave for cpu:\n    reorder(j, i)",
        "would change the order in which elements of `y` are written and read",
    );
}

#[test]
fn a_loop_with_a_varying_trip_count_cannot_be_split() {
    refused(
        "triangle",
        "triangle",
        "schedule tri for cpu:\n    split(j, 2)",
        "its trip count is not a constant",
    );
    refused(
        "triangle",
        "triangle-order",
        "schedule tri for cpu:\n    reorder(j, i)",
        "whose bounds use it",
    );
}

/// `buffer` copies what a loop reads into an on-chip array first; the JIT must not pack
/// a binary operand before the node has filled it.
#[test]
fn buffers_keep_results() {
    let ir = keeps_results(
        "bin_dot",
        "buffer-bin",
        "schedule bdot for cpu:\n    buffer(w)\n    buffer(x, at=i)",
    );
    assert!(ir.contains("w_buf: bin[5, 70]"), "{ir}");
    assert!(ir.contains("x_buf: bin[1, 70]"), "{ir}");
    keeps_results(
        "tensor_sum",
        "buffer-f32",
        "schedule mm for cpu:\n    split(k, 2)\n    buffer(b, at=i)",
    );
    refused(
        "tensor_sum",
        "buffer-written",
        "schedule mm for cpu:\n    buffer(y)",
        "is written where it would be buffered",
    );
}

/// `--autotune` measures candidates and says which it chose; the result is unchanged.
#[test]
fn autotune_chooses_a_blocking() {
    let dir = scratch("autotune");
    let file = Path::new("examples/gemm/gemm.kiln");
    let want = result_of(file, &dir, "interp", &[]);
    let out = dir.join("tuned");
    let (code, _, err) = kiln(&[
        "run",
        "examples/gemm/gemm.kiln",
        "--autotune",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("autotune: chose"), "{err}");
    let got = std::fs::read(out.join("result.npy")).expect("result");
    assert!(got == want, "autotuned result differs");
}
