//! Hostile input (issue 14): inputs built to make kiln slow, crash or lose data. Each test
//! is the regression test of one fix; the time limits are generous (debug build, a busy
//! machine) but far below what the quadratic or exponential versions took.

mod common;

use common::{codes_in, kiln};
use kiln::Options;
use kiln_lang::diag::{codes, render_all, Diagnostic, Diagnostics};
use kiln_lang::span::{SourceFile, SourceMap, Span};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn opts() -> Options {
    Options {
        color: false,
        ..Default::default()
    }
}

fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write a test file");
    p
}

fn check_file(path: &Path) -> (kiln::Outcome, Duration) {
    let t = Instant::now();
    let o = kiln::check(&[path.to_path_buf()], &opts());
    (o, t.elapsed())
}

// ------------------------------------------------------------------ diagnostics

/// Collecting and rendering n diagnostics is linear: `Diagnostics::push` looked for
/// duplicates with a linear scan, and every rendering rebuilt ariadne's line index of
/// every source file (8,000 errors took 38 s).
#[test]
fn many_diagnostics_are_linear() {
    const N: usize = 30_000;
    let mut text = String::new();
    for i in 0..N {
        text.push_str(&format!("    y{i} = nope{i}\n"));
    }
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile {
        name: "many.kiln".into(),
        dir: None,
        text: text.clone(),
    });
    let t = Instant::now();
    let mut ds = Diagnostics::default();
    let mut offset = 0;
    for (i, line) in text.lines().enumerate() {
        let d = Diagnostic::error(codes::UNKNOWN_NAME, format!("unknown name `nope{i}`"))
            .at(Span::new(file, offset + 4, offset + 6));
        ds.push(d.clone());
        // Duplicates are still dropped.
        ds.push(d);
        offset += line.len() + 1;
    }
    assert_eq!(ds.list.len(), N);
    // A diagnostic pushed straight into the list is still seen as a duplicate.
    let extra = Diagnostic::error(codes::SYNTAX, "direct");
    ds.list.push(extra.clone());
    ds.push(extra);
    assert_eq!(ds.list.len(), N + 1);
    let collect = t.elapsed();
    let t = Instant::now();
    let out = render_all(&ds.list[..5_000], &sources, false);
    let render = t.elapsed();
    assert_eq!(codes_in(&out).len(), 5_000);
    assert!(
        out.contains("many.kiln:4999:5"),
        "{}",
        &out[out.len() - 400..]
    );
    assert!(
        collect < Duration::from_secs(10) && render < Duration::from_secs(20),
        "collecting {N} diagnostics took {collect:?}, rendering 5,000 took {render:?}"
    );
}

// ------------------------------------------------------------------ nesting caps

/// 3,000 nested `if 1:` took 12.6 s and gave 3,001 errors: now one E0114.
#[test]
fn deeply_nested_blocks_are_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = String::from("kernel main(x: int<8>[4]) -> int<8>[4]:\n");
    for i in 0..3000 {
        s.push_str(&" ".repeat(4 * (i + 1)));
        s.push_str("if 1:\n");
    }
    s.push_str(&" ".repeat(4 * 3001));
    s.push_str("pass\n    return x\n\nkernel other(x: int<8>[4]) -> int<8>[4]:\n    return y\n");
    let p = write(dir.path(), "ifs.kiln", s);
    let (o, took) = check_file(&p);
    let found = codes_in(&o.stderr);
    assert_eq!(found, ["E0114", "E0201"], "{}", o.stderr);
    assert!(o
        .stderr
        .contains("blocks are nested more than 100 levels deep"));
    assert!(o.stderr.contains("ifs.kiln:102:"), "{}", o.stderr);
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // 100 levels are fine.
    let mut s = String::from("kernel main(x: int<8>[4]) -> int<8>[4]:\n    y = x\n");
    for i in 1..100 {
        s.push_str(&" ".repeat(4 * i));
        s.push_str("if x[0] > 0:\n");
    }
    s.push_str(&" ".repeat(400));
    s.push_str("y = x\n    return y\n");
    let p = write(dir.path(), "ok.kiln", s);
    let (o, _) = check_file(&p);
    assert!(!o.stderr.contains("E0114"), "{}", o.stderr);
}

/// Parse-error recovery inside 80,000 nested brackets took seconds (lalrpop's recovery
/// scans the whole parser stack for every token it drops): now one E0114, at once.
#[test]
fn deeply_nested_brackets_are_one_error() {
    let dir = tempfile::tempdir().unwrap();
    for (open, close) in [("(", ")"), ("[", "]")] {
        let s = format!(
            "kernel main(x: int<8>[4]) -> int<8>[4]:\n    y = {}1 = \n{}\n    return x\n",
            open.repeat(80_000),
            close.repeat(80_000)
        );
        let p = write(dir.path(), "brackets.kiln", s);
        let (o, took) = check_file(&p);
        assert_eq!(codes_in(&o.stderr), ["E0114"], "{}", o.stderr);
        assert!(o
            .stderr
            .contains("brackets are nested more than 200 levels deep"));
        assert!(took < Duration::from_secs(10), "took {took:?}");
    }
    // 200 levels are fine.
    let s = format!(
        "kernel main(x: int<8>[4]) -> int<8>[4]:\n    return x + {}0{}\n",
        "(".repeat(200),
        ")".repeat(200)
    );
    let p = write(dir.path(), "ok.kiln", s);
    let (o, _) = check_file(&p);
    assert_eq!(o.code, 0, "{}", o.stderr);
}

/// E0114 through the binary: a code, a span and a help line.
#[test]
fn nesting_error_from_the_command_line() {
    let (code, _, err) = kiln(&["check", "tests/diagnostics/e0114_nesting_too_deep.kiln"]);
    assert_eq!(code, 1);
    assert!(err.contains("[E0114]") && err.contains("Help:"), "{err}");
}

// ------------------------------------------------------------------ .npy files

#[path = "fuzz/npy_corpus.rs"]
mod npy_corpus;

use npy_corpus::Expect;

/// Every file of the corpus is read or refused with the expected message, at once: no
/// panic on overflowing shapes, no allocation from sizes the file does not hold, and
/// header parsing linear in the header (a 24-level header took minutes).
#[test]
fn malformed_npy_files_are_diagnosed() {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for (name, bytes, expect) in npy_corpus::corpus() {
        let p = write(dir.path(), name, &bytes);
        let t = Instant::now();
        let r = common::catch(|| kiln::npy::read(&p));
        let took = t.elapsed();
        if took > Duration::from_secs(2) {
            problems.push(format!("{name}: took {took:?}"));
        }
        match (r, expect) {
            (Err(panic), _) => problems.push(format!("{name}: {panic}")),
            (Ok(Ok(a)), Expect::Ok(n)) if a.len() == n => {}
            (Ok(Err(e)), Expect::Err(m)) if e.message().contains(m) => {}
            (Ok(r), _) => problems.push(format!("{name}: expected {expect:?}, got {r:?}")),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Fortran order, both byte orders, NaN payloads and signs read as written.
#[test]
fn npy_values_are_exact() {
    use kiln_passes::data::RawData;
    let dir = tempfile::tempdir().unwrap();
    let corpus = npy_corpus::corpus();
    let get = |n: &str| {
        let (_, bytes, _) = corpus.iter().find(|c| c.0 == n).unwrap();
        kiln::npy::read(&write(dir.path(), n, bytes)).unwrap()
    };
    let f = get("ok_fortran.npy");
    assert_eq!(f.shape, [2, 3]);
    // Column-major 1..6 is [[1, 3, 5], [2, 4, 6]].
    assert!(matches!(&f.data, RawData::F64(v) if v == &[1.0, 3.0, 5.0, 2.0, 4.0, 6.0]));
    let b = get("ok_big_endian.npy");
    assert!(matches!(&b.data, RawData::I64(v) if v == &[7, -2]));
    let n = get("ok_nan.npy");
    let RawData::F64(v) = &n.data else {
        panic!("{n:?}")
    };
    assert!(v[0].is_nan() && v[0].is_sign_positive());
    assert!(v[1].is_nan() && v[1].is_sign_negative());
    assert_eq!(v[2], f64::INFINITY);
    assert!(v[3] == 0.0 && v[3].is_sign_negative());
}

/// The corpus through the binary: `kiln run --input` and `kiln quantize` refuse each bad
/// file with a coded diagnostic (or run it), never panic, and stay fast.
#[test]
fn malformed_npy_files_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(
        dir.path(),
        "id.kiln",
        "kernel main(x: f32[N]) -> f32[N]:\n    return x\n",
    );
    let script = script.to_str().unwrap();
    let mut problems = Vec::new();
    for (name, bytes, expect) in npy_corpus::corpus() {
        let p = write(dir.path(), name, &bytes);
        let input = format!("x={}", p.display());
        let out = dir.path().join("q.npy");
        let runs = [
            vec!["run", "--engine", "interp", script, "--input", &input],
            vec![
                "quantize",
                p.to_str().unwrap(),
                "-m",
                "round",
                "-b",
                "8",
                "-o",
                out.to_str().unwrap(),
            ],
        ];
        for args in runs {
            let t = Instant::now();
            let (code, _, err) = kiln(&args);
            let took = t.elapsed();
            let bad = code == 101 || code < 0 || err.contains("panicked");
            let uncoded = code == 1 && codes_in(&err).is_empty();
            if bad || uncoded || took > Duration::from_secs(10) {
                problems.push(format!(
                    "{name} ({expect:?}): kiln {} -> {code} in {took:?}\n{err}",
                    args.join(" ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ------------------------------------------------------------------ command line

/// `kiln csim` and `kiln quantize` errors carry codes (E0609, E0610, E0611, and the data
/// codes); the goldens under tests/hostile/ show them.
#[test]
fn csim_and_quantize_errors_have_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let shown = |args: &[&str]| {
        let (code, _, err) = kiln(args);
        assert_eq!(code, 1, "kiln {args:?}: {err}");
        assert!(
            !codes_in(&err).is_empty(),
            "kiln {args:?}: no code in\n{err}"
        );
        // Drop the timing line and the compiler's own output.
        err.lines()
            .filter(|l| {
                l.starts_with('[') || (l.starts_with("help:") && !l.contains("command was"))
            })
            .map(|l| format!("{}\n", l.replace(&d.display().to_string(), "$DIR")))
            .collect::<String>()
    };
    let mut out = String::new();
    // E0609: no project; a project that does not compile.
    out += &shown(&["csim", &d.join("nowhere").display().to_string()]);
    let headers = d.join("headers");
    std::fs::create_dir_all(&headers).unwrap();
    std::fs::write(headers.join("ap_fixed.h"), "").unwrap();
    let h = headers.display().to_string();
    let broken = d.join("broken");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("tb.cpp"), "int main() { return x; }\n").unwrap();
    out += &shown(&["csim", &broken.display().to_string(), "--ap-types", &h]);
    // E0610: the testbench fails.
    let failing = d.join("failing");
    std::fs::create_dir_all(&failing).unwrap();
    std::fs::write(failing.join("tb.cpp"), "int main() { return 1; }\n").unwrap();
    out += &shown(&["csim", &failing.display().to_string(), "--ap-types", &h]);
    // E0611, E0601, E0603, E0209.
    let w = d.join("w.npy");
    // A NaN weight cannot be quantized.
    let mut nan = 1.0f64.to_le_bytes().to_vec();
    nan.extend_from_slice(&f64::NAN.to_le_bytes());
    std::fs::write(
        &w,
        npy_corpus::npy(1, &npy_corpus::header("<f8", false, "(2,)"), &nan),
    )
    .unwrap();
    let ws = w.display().to_string();
    let o = d.join("o.npy").display().to_string();
    out += &shown(&["quantize", &ws, "-m", "nope", "-b", "4", "-o", &o]);
    out += &shown(&["quantize", &ws, "-m", "round", "-b", "4", "-o", &o]);
    let bad = write(d, "bad.npy", b"not numpy");
    out += &shown(&[
        "quantize",
        &bad.display().to_string(),
        "-m",
        "round",
        "-b",
        "4",
        "-o",
        &o,
    ]);
    let ints = write(
        d,
        "i.npy",
        npy_corpus::npy(1, &npy_corpus::header("<i4", false, "(2, 2)"), &[0; 16]),
    );
    out += &shown(&[
        "quantize",
        &ints.display().to_string(),
        "-m",
        "round",
        "-b",
        "4",
        "-o",
        &o,
    ]);
    out += &shown(&[
        "quantize",
        "--script",
        &d.join("none.kiln").display().to_string(),
        "-m",
        "round",
        "-b",
        "4",
        "-o",
        &o,
    ]);
    common::check_golden(
        &common::root().join("tests/hostile/csim_quantize_codes.stderr"),
        &out,
    );
}

/// `--clock-ns` must be a finite period above 0; a repeated `--input NAME=` is refused.
#[test]
fn command_line_values_are_validated() {
    for clock in ["0", "nan", "inf", "-3", "1e999", "x"] {
        for cmd in ["report", "hls"] {
            let flag = format!("--clock-ns={clock}");
            let mut args = vec![cmd, "examples/gemm/gemm.kiln", &flag];
            if cmd == "hls" {
                args.extend(["-o", "/nonexistent/never-written"]);
            }
            let (code, _, err) = kiln(&args);
            assert_eq!(code, 2, "kiln {args:?}: {err}");
            assert!(err.contains("clock period"), "{err}");
        }
    }
    let (code, _, err) = kiln(&["report", "examples/gemm/gemm.kiln", "--clock-ns", "3.3"]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = kiln(&[
        "run",
        "examples/gemm/gemm.kiln",
        "--input",
        "a=examples/gemm/data/a.npy",
        "--input",
        "b=examples/gemm/data/b.npy",
        "--input",
        "a=examples/gemm/data/b.npy",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--input a is given twice"), "{err}");
}
