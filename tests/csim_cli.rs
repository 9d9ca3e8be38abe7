//! `kiln csim DIR`: compiles a hand-made HLS project (kernel + testbench) with g++ against
//! the Xilinx ap_types headers and runs it. Exit 0 when the testbench passes, 1 when it
//! fails, when the project does not compile, or when the headers cannot be found.
//!
//! The headers come from `kiln::csim::find_ap_types(None)` (KILN_AP_TYPES on CI, else the
//! cache, else fetched with pip).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project header, like the `kiln_hls.h` that `kiln hls` writes: the Xilinx headers
/// with a wide AP_INT_MAX_W, their inlined `-Wuninitialized` false positives silenced.
const HEADER: &str = r#"#ifndef K_H
#define K_H
#define AP_INT_MAX_W 8192
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <ap_fixed.h>
#include <ap_int.h>
#pragma GCC diagnostic pop

typedef ap_fixed<8, 4> t_in;
typedef ap_fixed<16, 8> t_out;

void k(const t_in a[4], const t_in b[4], t_out *out);
#endif
"#;

/// A dot product of two vectors of ap_fixed<8,4>.
const KERNEL: &str = r#"#include "k.h"

void k(const t_in a[4], const t_in b[4], t_out *out) {
    t_out acc = 0;
    for (int i = 0; i < 4; i++) {
        acc += a[i] * b[i];
    }
    *out = acc;
}
"#;

/// A testbench that reads its inputs from `data.txt` in the working directory and
/// compares the result with `EXPECTED`.
fn testbench(expected: f64) -> String {
    format!(
        r#"#include <cstdio>
#include "k.h"

static const double EXPECTED = {expected:?};

int main() {{
    FILE *f = std::fopen("data.txt", "r");
    if (!f) {{
        std::printf("cannot open data.txt\n");
        return 2;
    }}
    t_in a[4], b[4];
    for (int i = 0; i < 8; i++) {{
        double v = 0;
        if (std::fscanf(f, "%lf", &v) != 1) {{
            std::printf("bad data.txt\n");
            std::fclose(f);
            return 2;
        }}
        if (i < 4) {{
            a[i] = v;
        }} else {{
            b[i - 4] = v;
        }}
    }}
    std::fclose(f);
    t_out r;
    k(a, b, &r);
    if (r.to_double() != EXPECTED) {{
        std::printf("mismatch: out = %g, expected %g\n", r.to_double(), EXPECTED);
        return 1;
    }}
    std::printf("PASS\n");
    return 0;
}}
"#
    )
}

/// 1.5*2 + 0.25*4 + (-1)*0.5 + 3.0625*1 = 3 + 1 - 0.5 + 3.0625 = 6.5625
const DATA: &str = "1.5 0.25 -1 3.0625\n2 4 0.5 1\n";
const RESULT: f64 = 6.5625;

/// The ap_types include directory, or a failure that says why it is missing.
fn headers() -> PathBuf {
    kiln::csim::find_ap_types(None).unwrap_or_else(|e| {
        panic!("these tests need the Xilinx ap_types headers (set KILN_AP_TYPES): {e}")
    })
}

/// A project directory holding `files`.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("kiln-csim-")
        .tempdir()
        .expect("a temporary directory");
    for (name, text) in files {
        fs::write(dir.path().join(name), text).expect("write a project file");
    }
    dir
}

fn good_project(expected: f64) -> tempfile::TempDir {
    let tb = testbench(expected);
    project(&[
        ("k.h", HEADER),
        ("k.cpp", KERNEL),
        ("k_tb.cpp", &tb),
        ("data.txt", DATA),
        ("run_hls.tcl", "# for the vendor tool\n"),
    ])
}

fn kiln_csim(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("csim")
        .arg(dir)
        .args(extra)
        .output()
        .expect("the kiln binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the exit code, showing the output on failure.
fn expect_code(out: &Output, code: i32, what: &str) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: expected exit code {code}\n--- stdout\n{}--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// The `csim: compile X.XX s, run Y.YYY s` line.
fn assert_timing_line(stderr: &str) {
    let ok = stderr.lines().any(|l| {
        let Some(rest) = l.strip_prefix("csim: compile ") else {
            return false;
        };
        let Some((c, r)) = rest.split_once(" s, run ") else {
            return false;
        };
        let Some(r) = r.strip_suffix(" s") else {
            return false;
        };
        let decimals = |s: &str, n: usize| {
            s.parse::<f64>().is_ok() && s.split_once('.').is_some_and(|(_, f)| f.len() == n)
        };
        decimals(c, 2) && decimals(r, 3)
    });
    assert!(
        ok,
        "no `csim: compile X.XX s, run Y.YYY s` line in:\n{stderr}"
    );
}

#[test]
fn passing_testbench_exits_0_and_removes_the_binary() {
    let inc = headers();
    let dir = good_project(RESULT);
    let out = kiln_csim(dir.path(), &["--ap-types", inc.to_str().unwrap()]);
    expect_code(&out, 0, "kiln csim (passing)");
    assert_eq!(text(&out.stdout), "PASS\n");
    assert_timing_line(&text(&out.stderr));
    assert!(
        !dir.path().join("csim.out").exists(),
        "csim.out is deleted without --keep"
    );
}

#[test]
fn keep_keeps_the_binary() {
    let inc = headers();
    let dir = good_project(RESULT);
    let out = kiln_csim(dir.path(), &["--ap-types", inc.to_str().unwrap(), "--keep"]);
    expect_code(&out, 0, "kiln csim --keep");
    assert!(
        dir.path().join("csim.out").is_file(),
        "--keep keeps csim.out"
    );
}

#[test]
fn headers_from_the_environment() {
    let inc = headers();
    let dir = good_project(RESULT);
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("csim")
        .arg(dir.path())
        .env("KILN_AP_TYPES", &inc)
        .output()
        .expect("the kiln binary runs");
    expect_code(&out, 0, "kiln csim with KILN_AP_TYPES");
    assert_eq!(text(&out.stdout), "PASS\n");
}

#[test]
fn failing_testbench_exits_1() {
    let inc = headers();
    let dir = good_project(RESULT + 1.0);
    let out = kiln_csim(dir.path(), &["--ap-types", inc.to_str().unwrap()]);
    expect_code(&out, 1, "kiln csim (failing)");
    assert!(
        text(&out.stdout).contains("mismatch: out = 6.5625, expected 7.5625"),
        "the testbench's output is shown:\n{}",
        text(&out.stdout)
    );
    let err = text(&out.stderr);
    assert_timing_line(&err);
    assert!(
        err.contains("error: C-simulation failed: the testbench exited with code 1"),
        "{err}"
    );
    assert!(!dir.path().join("csim.out").exists());
}

#[test]
fn compile_error_exits_1_with_the_compiler_message() {
    let inc = headers();
    let broken = KERNEL.replace("*out = acc;", "*out = acc + undeclared_name;");
    let tb = testbench(RESULT);
    let dir = project(&[("k.h", HEADER), ("k.cpp", &broken), ("k_tb.cpp", &tb)]);
    let out = kiln_csim(dir.path(), &["--ap-types", inc.to_str().unwrap()]);
    expect_code(&out, 1, "kiln csim (compile error)");
    let err = text(&out.stderr);
    assert!(
        err.contains("undeclared_name"),
        "g++'s error is shown:\n{err}"
    );
    assert!(err.contains("k.cpp"), "{err}");
    assert!(err.contains("error: the project in"), "{err}");
    assert!(err.contains("does not compile"), "{err}");
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn warnings_in_the_project_are_errors() {
    let inc = headers();
    let sloppy = KERNEL.replace("t_out acc = 0;", "t_out acc = 0;\n    int unused = 3;");
    let tb = testbench(RESULT);
    let dir = project(&[("k.h", HEADER), ("k.cpp", &sloppy), ("k_tb.cpp", &tb)]);
    let out = kiln_csim(dir.path(), &["--ap-types", inc.to_str().unwrap()]);
    expect_code(&out, 1, "kiln csim (unused variable)");
    let err = text(&out.stderr);
    assert!(err.contains("unused"), "{err}");
}

#[test]
fn missing_headers_dir_is_an_error() {
    let dir = good_project(RESULT);
    let out = kiln_csim(dir.path(), &["--ap-types", "/nonexistent"]);
    expect_code(&out, 1, "kiln csim --ap-types /nonexistent");
    let err = text(&out.stderr);
    assert!(
        err.contains("error: --ap-types /nonexistent"),
        "the error names the flag:\n{err}"
    );
    assert!(err.contains("help: "), "{err}");
}

#[test]
fn missing_project_is_an_error() {
    let dir = project(&[]);
    let out = kiln_csim(&dir.path().join("nope"), &[]);
    expect_code(&out, 1, "kiln csim on a missing directory");
    assert!(text(&out.stderr).contains("no such project directory"));
    let out = kiln_csim(dir.path(), &[]);
    expect_code(&out, 1, "kiln csim on an empty directory");
    assert!(text(&out.stderr).contains("has no .cpp files"));
}

#[test]
fn help_lists_the_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["csim", "--help"])
        .output()
        .expect("the kiln binary runs");
    expect_code(&out, 0, "kiln csim --help");
    let help = text(&out.stdout);
    for flag in ["<DIR>", "--ap-types", "--keep"] {
        assert!(
            help.contains(flag),
            "`kiln csim --help` lacks {flag}:\n{help}"
        );
    }
}
