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
