//! The `kiln` command line: help, exit codes (0 clean, 1 program errors, 2 usage errors),
//! `--out`, `--timings`, `--dump-ir-after`, `ir --dot`, `--color`.
//!
//! Each test runs the real binary. Nothing here depends on the date, the machine's paths
//! or timing values (only on the timings block's shape).

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn kiln(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .env_remove("NO_COLOR")
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

const SUBCOMMANDS: &[&str] = &["check", "run", "types", "ir", "help"];

#[test]
fn help_lists_every_subcommand() {
    for args in [&["--help"][..], &["help"], &["-h"]] {
        let out = kiln(args);
        expect_code(&out, 0, &format!("kiln {args:?}"));
        let help = text(&out.stdout);
        assert!(help.contains("Usage: kiln"), "{help}");
        for sub in SUBCOMMANDS {
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(sub)),
                "`kiln {}` does not list `{sub}`:\n{help}",
                args.join(" ")
            );
        }
    }
}

#[test]
fn subcommand_help_lists_every_flag() {
    let common = [
        "--timings",
        "--dump-ir-after",
        "--pipeline",
        "--color",
        "--deny-warnings",
        "--help",
    ];
    let target = ["--kernel", "--input", "<FILE>"];
    let cases: &[(&str, Vec<&str>)] = &[
        ("check", [&common[..], &["<FILES>"]].concat()),
        (
            "run",
            [&common[..], &target[..], &["--out", "--engine", "interp"]].concat(),
        ),
        ("types", [&common[..], &target[..]].concat()),
        (
            "ir",
            [&common[..], &target[..], &["--dot", "--types"]].concat(),
        ),
    ];
    for (sub, flags) in cases {
        for args in [vec!["help", sub], vec![sub, "--help"]] {
            let out = kiln(&args);
            expect_code(&out, 0, &format!("kiln {}", args.join(" ")));
            let help = text(&out.stdout);
            for f in flags {
                assert!(
                    help.contains(f),
                    "`kiln {}` does not mention `{f}`:\n{help}",
                    args.join(" ")
                );
            }
        }
    }
    // The stages --dump-ir-after takes and the colour choices are documented.
    let help = text(&kiln(&["help", "run"]).stdout);
    for word in [
        "lower",
        "bounds",
        "verify",
        "auto",
        "always",
        "never",
        "NAME=PATH",
    ] {
        assert!(
            help.contains(word),
            "`kiln help run` does not mention `{word}`:\n{help}"
        );
    }
}

#[test]
fn version() {
    let out = kiln(&["--version"]);
    expect_code(&out, 0, "kiln --version");
    assert!(
        text(&out.stdout).starts_with("kiln "),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn usage_errors_exit_2() {
    let clean = "tests/diagnostics/clean_program.kiln";
    let cases: &[(&[&str], &str)] = &[
        (&[], "Usage"),
        (&["frobnicate"], "frobnicate"),
        (&["check"], "FILES"),
        (&["check", "--frobnicate", clean], "--frobnicate"),
        (&["run", clean, "--input", "x"], "NAME=PATH"),
        (&["run", clean, "--input", "=x.npy"], "NAME=PATH"),
        (&["run", clean, "--input", "x="], "NAME=PATH"),
        (&["check", "--color", "sometimes", clean], "--color"),
        (
            &["check", "--dump-ir-after", "nope", clean],
            "--dump-ir-after",
        ),
        (&["run", "--pipeline", "nope", clean], "--pipeline"),
        (&["run", "--engine", "fpga", clean], "fpga"),
        (&["run"], "FILE"),
        (&["types", clean, "--kernel"], "--kernel"),
        (&["ir", clean, "--dot=yes"], "--dot"),
    ];
    for (args, mention) in cases {
        let out = kiln(args);
        expect_code(&out, 2, &format!("kiln {}", args.join(" ")));
        let all = text(&out.stderr) + &text(&out.stdout);
        assert!(
            all.contains(mention),
            "`kiln {}` should mention `{mention}`:\n{all}",
            args.join(" ")
        );
        // A usage error is not a diagnostic about the program.
        assert!(
            !common::codes_in(&all).iter().any(|c| c.starts_with('E')),
            "`kiln {}` reported a program diagnostic for a usage error:\n{all}",
            args.join(" ")
        );
    }
}

#[test]
fn clean_check_exits_0_silently() {
    let out = kiln(&[
        "check",
        "--color",
        "never",
        "tests/diagnostics/clean_program.kiln",
        "examples/gemm/gemm.kiln",
    ]);
    expect_code(&out, 0, "kiln check of clean files");
    assert_eq!(text(&out.stdout), "");
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn warnings_alone_exit_0() {
    let out = kiln(&[
        "check",
        "--color",
        "never",
        "tests/diagnostics/w0801_overflow.kiln",
    ]);
    expect_code(&out, 0, "kiln check with only warnings");
    assert!(text(&out.stderr).contains("[W0801]"));
}

#[test]
fn program_errors_exit_1() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "tests/diagnostics/e0201_unknown_name.kiln"],
            "[E0201]",
        ),
        (
            &[
                "check",
                "tests/diagnostics/clean_program.kiln",
                "tests/diagnostics/e0507_recursion.kiln",
            ],
            "[E0507]",
        ),
        (&["check", "tests/no/such/file.kiln"], "[E0209]"),
        (&["run", "tests/run/e0702_division_by_zero.kiln"], "[E0702]"),
        (
            &[
                "run",
                "tests/run/ok_select_kernel.kiln",
                "--kernel",
                "third",
            ],
            "[E0206]",
        ),
        (
            &[
                "run",
                "tests/run/e0605_unknown_input.kiln",
                "-i",
                "q=tests/fixtures/i8_4.npy",
            ],
            "[E0605]",
        ),
        (
            &["types", "tests/diagnostics/e0305_mixed_float.kiln"],
            "[E0305]",
        ),
        (
            &["ir", "tests/diagnostics/e0201_unknown_name.kiln"],
            "[E0201]",
        ),
    ];
    for (args, code) in cases {
        let mut all = vec!["--color", "never"];
        // Options follow the subcommand.
        all.insert(0, args[0]);
        all.extend_from_slice(&args[1..]);
        let out = kiln(&all);
        expect_code(&out, 1, &format!("kiln {}", all.join(" ")));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(code),
            "`kiln {}` should report {code}:\n{stderr}",
            all.join(" ")
        );
        assert!(stderr.contains("error(s) found"), "{stderr}");
    }
}

#[test]
fn run_prints_results() {
    let out = kiln(&[
        "run",
        "tests/run/ok_matmul.kiln",
        "--input",
        "a=tests/fixtures/run_a_2x3.npy",
        "-i",
        "b=tests/fixtures/run_b_3x2.npy",
    ]);
    expect_code(&out, 0, "kiln run ok_matmul");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("[58, -48, -83, 154]"), "{stdout}");
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn run_out_writes_readable_npy_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out_dir = dir.path().join("results");
    let out = kiln(&[
        "run",
        "tests/run/ok_write_outputs.kiln",
        "--out",
        out_dir.to_str().expect("a UTF-8 temporary path"),
    ]);
    expect_code(&out, 0, "kiln run --out");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("written to"), "{stdout}");

    fn read<T: npyz::Deserialize>(p: &Path) -> (Vec<u64>, String, Vec<T>) {
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let npy = npyz::NpyFile::new(&bytes[..]).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let shape = npy.shape().to_vec();
        let dtype = match npy.dtype() {
            npyz::DType::Plain(t) => t.to_string(),
            other => format!("{other:?}"),
        };
        let data = npy
            .into_vec::<T>()
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        (shape, dtype, data)
    }

    let (shape, dtype, v) = read::<i8>(&out_dir.join("result0.npy"));
    assert_eq!(
        (shape, dtype.as_str(), v),
        (vec![4], "|i1", vec![1, -2, 3, -4])
    );
    let (shape, dtype, v) = read::<f64>(&out_dir.join("result1.npy"));
    assert_eq!(
        (shape, dtype.as_str(), v),
        (vec![4], "<f8", vec![0.25, -0.5, 0.75, -1.0])
    );
    let (shape, dtype, v) = read::<bool>(&out_dir.join("result2.npy"));
    assert_eq!(
        (shape, dtype.as_str(), v),
        (vec![4], "|b1", vec![true, false, true, false])
    );
    let (shape, dtype, v) = read::<f32>(&out_dir.join("result3.npy"));
    assert_eq!((shape, dtype.as_str(), v), (vec![], "<f4", vec![1.0]));
}

#[test]
fn f64_results_are_written_as_float64_bit_for_bit() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let d = dir.path().to_str().expect("a UTF-8 temporary path");
    for engine in ["interp", "jit"] {
        let out = kiln(&[
            "run",
            "tests/run/ok_f64_npy.kiln",
            "--engine",
            engine,
            "--out",
            d,
        ]);
        expect_code(&out, 0, "kiln run ok_f64_npy");
        let read = |name: &str| -> (String, Vec<u64>) {
            let p = dir.path().join(name);
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let npy = npyz::NpyFile::new(&bytes[..]).expect("an .npy file");
            let dtype = match npy.dtype() {
                npyz::DType::Plain(t) => t.to_string(),
                other => format!("{other:?}"),
            };
            let v: Vec<f64> = npy.into_vec().expect("float64 data");
            (dtype, v.into_iter().map(f64::to_bits).collect())
        };
        // The fixture's values, computed as numpy computes them in float64.
        let x = [0.5f64, -1.25, 3.3, -2.71];
        let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<u64>>();
        let scaled: Vec<f64> = x.iter().map(|v| v * 0.1).collect();
        let sum = ((x[0] + x[1]) + x[2]) + x[3];
        assert_eq!(
            read("result0.npy"),
            ("<f8".to_string(), bits(&x)),
            "{engine}"
        );
        assert_eq!(
            read("result1.npy"),
            ("<f8".to_string(), bits(&scaled)),
            "{engine}"
        );
        assert_eq!(
            read("result2.npy"),
            ("<f8".to_string(), bits(&[sum])),
            "{engine}"
        );
    }
}

#[test]
fn run_results_round_trip_as_inputs() {
    // A result written with --out is a valid input of another run.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let d = dir.path().to_str().expect("a UTF-8 temporary path");
    let out = kiln(&["run", "tests/run/ok_write_outputs.kiln", "--out", d]);
    expect_code(&out, 0, "kiln run --out");
    let input = format!("x={d}/result0.npy");
    let out = kiln(&[
        "run",
        "tests/run/e0605_unknown_input.kiln",
        "--input",
        &input,
    ]);
    expect_code(&out, 0, "kiln run with a result as input");
    assert!(
        text(&out.stdout).contains("[1, -2, 3, -4]"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn timings_block() {
    let out = kiln(&[
        "run",
        "--timings",
        "tests/run/ok_select_kernel.kiln",
        "-k",
        "first",
    ]);
    expect_code(&out, 0, "kiln run --timings");
    let stderr = text(&out.stderr);
    let block: Vec<&str> = stderr.lines().skip_while(|l| *l != "timings:").collect();
    assert!(block.len() >= 3, "no timings block in stderr:\n{stderr}");
    for stage in ["parse", "check", "lower", "codegen", "run", "total"] {
        assert!(
            block
                .iter()
                .any(|l| l.trim_start().starts_with(stage) && l.trim_end().ends_with(" ms")),
            "no `{stage} ... ms` line in the timings block:\n{stderr}"
        );
    }
    // Without the flag there is no block.
    let out = kiln(&["run", "tests/run/ok_select_kernel.kiln", "-k", "first"]);
    assert!(!text(&out.stderr).contains("timings:"));
    // `check --timings` has one too.
    let out = kiln(&["check", "--timings", "tests/diagnostics/clean_program.kiln"]);
    expect_code(&out, 0, "kiln check --timings");
    assert!(
        text(&out.stderr).contains("timings:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn dump_ir_after_lower() {
    let out = kiln(&[
        "run",
        "--dump-ir-after",
        "lower",
        "tests/run/ok_select_kernel.kiln",
        "--kernel",
        "second",
    ]);
    expect_code(&out, 0, "kiln run --dump-ir-after lower");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("; IR after `lower`"), "{stdout}");
    assert!(stdout.contains("instance second"), "{stdout}");
    assert!(stdout.contains("[entry]"), "{stdout}");
    // The results follow the dump.
    assert!(stdout.contains("result: int<8>"), "{stdout}");
    for stage in ["bounds", "verify"] {
        let out = kiln(&[
            "ir",
            "--dump-ir-after",
            stage,
            "tests/run/ok_select_kernel.kiln",
            "-k",
            "first",
        ]);
        expect_code(&out, 0, &format!("kiln ir --dump-ir-after {stage}"));
    }
}

#[test]
fn ir_text_and_dot() {
    let out = kiln(&["ir", "examples/gemm/gemm.kiln"]);
    expect_code(&out, 0, "kiln ir");
    let ir = text(&out.stdout);
    assert!(ir.contains("instance gemm"), "{ir}");
    let out = kiln(&["ir", "--types", "examples/gemm/gemm.kiln"]);
    expect_code(&out, 0, "kiln ir --types");
    let out = kiln(&["ir", "--dot", "examples/gemm/gemm.kiln"]);
    expect_code(&out, 0, "kiln ir --dot");
    let dot = text(&out.stdout);
    // One graph per instance (a file of several graphs is valid input for Graphviz),
    // with `//` comments between them.
    let code: Vec<&str> = dot
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect();
    assert!(
        code.first().is_some_and(|l| l.starts_with("digraph")),
        "{dot}"
    );
    assert!(dot.contains("digraph \"gemm\""), "{dot}");
    assert!(dot.contains("digraph \"main\""), "{dot}");
    assert_eq!(
        dot.matches('{').count(),
        dot.matches('}').count(),
        "unbalanced braces in the dot output:\n{dot}"
    );
    assert!(dot.contains("->"), "no edges in the dot output:\n{dot}");
}

#[test]
fn types_command() {
    let out = kiln(&["types", "examples/gemm/gemm.kiln"]);
    expect_code(&out, 0, "kiln types");
    let t = text(&out.stdout);
    assert!(t.contains("kernel gemm (M=32, K=64, N=16)"), "{t}");
    assert!(t.contains("accumulation of 64 terms"), "{t}");
}

#[test]
fn color_choices() {
    let file = "tests/diagnostics/e0201_unknown_name.kiln";
    let always = text(&kiln(&["check", "--color", "always", file]).stderr);
    assert!(
        always.contains("\u{1b}["),
        "--color always has no ANSI escapes:\n{always}"
    );
    let never = text(&kiln(&["check", "--color", "never", file]).stderr);
    assert!(
        !never.contains('\u{1b}'),
        "--color never has ANSI escapes:\n{never}"
    );
    // stderr is a pipe here, so `auto` means no colour.
    let auto = text(&kiln(&["check", file]).stderr);
    assert!(
        !auto.contains('\u{1b}'),
        "--color auto coloured a pipe:\n{auto}"
    );
    assert_eq!(auto, never);
}

#[test]
fn repeat_reports_the_median_kernel_time_last() {
    for engine in ["jit", "interp"] {
        let out = kiln(&[
            "run",
            "tests/run/ok_select_kernel.kiln",
            "-k",
            "first",
            "--engine",
            engine,
            "--repeat",
            "5",
        ]);
        expect_code(&out, 0, "kiln run --repeat 5");
        let stderr = text(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        let rest = last
            .strip_prefix("kernel time: median ")
            .and_then(|r| r.strip_suffix(" ms over 5 runs"))
            .unwrap_or_else(|| panic!("{engine}: last stderr line is `{last}`"));
        let (whole, frac) = rest.split_once('.').expect("X.XXX");
        assert!(whole.parse::<u64>().is_ok() && frac.len() == 3, "{last}");
    }
    // The results are printed as without --repeat.
    let plain = kiln(&["run", "tests/run/ok_select_kernel.kiln", "-k", "first"]);
    let repeated = kiln(&[
        "run",
        "tests/run/ok_select_kernel.kiln",
        "-k",
        "first",
        "--repeat",
        "3",
    ]);
    assert_eq!(text(&plain.stdout), text(&repeated.stdout));
}

#[test]
fn bad_engine_options_are_usage_errors() {
    for args in [
        &["run", "tests/run/ok_select_kernel.kiln", "--repeat", "0"][..],
        &["run", "tests/run/ok_select_kernel.kiln", "--threads", "0"],
        &["run", "tests/run/ok_select_kernel.kiln", "--engine", "gpu"],
    ] {
        let out = kiln(args);
        expect_code(&out, 2, &args.join(" "));
    }
}

#[test]
fn deny_warnings_fails_where_a_warning_would_pass() {
    let case = "tests/run/w0802_input_unquantized.kiln";
    let inputs = [
        "--input",
        "w=tests/fixtures/weights_f64_6.npy",
        "--input",
        "v=tests/fixtures/weights_f64_6.npy",
    ];
    let mut args = vec!["run", case];
    args.extend(inputs);
    let warned = kiln(&args);
    expect_code(&warned, 0, "a run with W0802");
    assert!(text(&warned.stderr).contains("W0802"));
    args.push("--deny-warnings");
    let denied = kiln(&args);
    expect_code(&denied, 1, "the same run with --deny-warnings");
    let err = text(&denied.stderr);
    assert!(err.contains("[W0802] Error"), "{err}");
    assert!(err.contains("--deny-warnings"), "{err}");
    assert!(
        text(&denied.stdout).is_empty(),
        "a denied warning stops the run before it prints results"
    );
    // A clean program is unaffected.
    let clean = kiln(&[
        "check",
        "tests/diagnostics/clean_program.kiln",
        "--deny-warnings",
    ]);
    expect_code(&clean, 0, "a clean program with --deny-warnings");
}

/// `kiln report` on a reduction of 2^63 - 1 iterations: its trip count is computed in 128
/// bits (it overflowed an i64 and panicked in the estimator; found by the fuzz harness).
#[test]
fn report_of_a_loop_spanning_an_i64_does_not_panic() {
    let out = kiln(&[
        "report",
        "tests/diagnostics/w0801_reduction_over_huge_range.kiln",
    ]);
    expect_code(&out, 0, "kiln report of a 2^63 - 1 iteration reduction");
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
}
