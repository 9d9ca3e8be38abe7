//! Run goldens: `tests/run/NAME.kiln` → `NAME.out`, what `kiln run` prints on stdout and
//! stderr, and its exit code.
//!
//! An optional `NAME.args` holds command-line arguments, whitespace separated (`#` starts
//! a comment): `--kernel K`, `--input NAME=PATH` (paths relative to the repository
//! root, e.g. `tests/fixtures/x.npy`), `--check-overflow`, and `--out DIR`, where the DIR `$OUT` is a fresh
//! directory under cargo's target/tmp (shown as `$OUT` in the golden file).
//!
//! Every case runs on both engines (the interpreter and the JIT), which must print the
//! same golden output, unless its `.args` names one with `--engine interp|jit` (for the
//! checks only one engine makes, like E0703).
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_run`.

mod common;

use common::{catch, codes_in, Suite};
use kiln::{Engine, Options, RunSpec};
use std::path::{Path, PathBuf};

/// The `$OUT` directory of a case.
fn out_dir(case: &Path) -> PathBuf {
    let stem = case.file_stem().unwrap_or_default();
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("run-goldens")
        .join(stem)
}

/// The run spec, output directory and engines of a case, from its `.args` file.
fn spec_for(case: &Path) -> Result<(RunSpec, Option<PathBuf>, Vec<Engine>), String> {
    let mut spec = RunSpec::default();
    let mut out = None;
    let mut engines = vec![Engine::Interp, Engine::Jit];
    let Ok(text) = std::fs::read_to_string(case.with_extension("args")) else {
        return Ok((spec, out, engines));
    };
    let words: Vec<&str> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        match w {
            "--kernel" | "-k" => {
                spec.kernel = Some(it.next().ok_or("--kernel needs a name")?.into())
            }
            "--input" | "-i" => {
                let v = it.next().ok_or("--input needs NAME=PATH")?;
                let (n, p) = v
                    .split_once('=')
                    .ok_or_else(|| format!("bad --input `{v}`"))?;
                spec.inputs.push((n.to_string(), PathBuf::from(p)));
            }
            "--out" => {
                let v = it.next().ok_or("--out needs a directory")?;
                out = Some(if v == "$OUT" {
                    let dir = out_dir(case);
                    let _ = std::fs::remove_dir_all(&dir);
                    dir
                } else {
                    PathBuf::from(v)
                });
            }
            "--check-overflow" => spec.check_overflow = true,
            "--engine" => {
                engines = match it.next() {
                    Some("interp") => vec![Engine::Interp],
                    Some("jit") => vec![Engine::Jit],
                    _ => return Err("--engine takes interp or jit".into()),
                }
            }
            other => return Err(format!("unknown argument `{other}` in the .args file")),
        }
    }
    Ok((spec, out, engines))
}

#[test]
fn run_goldens() {
    let mut suite = Suite::new("tests/run", "kiln");
    let opts = Options::default();
    for case in suite.cases() {
        let (spec, out, engines) = match spec_for(&case) {
            Ok(s) => s,
            Err(e) => {
                suite.fail(&case, e);
                continue;
            }
        };
        for engine in engines {
            let spec = RunSpec {
                engine,
                ..spec.clone()
            };
            if let Some(dir) = &out {
                let _ = std::fs::remove_dir_all(dir);
            }
            match catch(|| kiln::run(&case, &spec, out.as_deref(), &opts)) {
                Ok(o) => {
                    let mut text = format!(
                        "--- stdout\n{}--- stderr\n{}--- exit code {}\n",
                        o.stdout, o.stderr, o.code
                    );
                    if out.is_some() {
                        let dir = out_dir(&case).display().to_string();
                        text = text.replace(&dir, "$OUT");
                    }
                    if o.code != 0 && !codes_in(&o.stderr).iter().any(|c| c.starts_with('E')) {
                        suite.fail(&case, "a failed run must report an error");
                    }
                    suite.check(&case, "out", &text);
                }
                Err(p) => suite.fail(&case, format!("kiln run ({engine:?}) {p}")),
            }
        }
    }
    suite.finish();
}
