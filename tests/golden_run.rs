//! Run goldens: `tests/run/NAME.kiln` → `NAME.out`, what `kiln run` prints on stdout and
//! stderr, and its exit code.
//!
//! An optional `NAME.args` holds command-line arguments, whitespace separated (`#` starts
//! a comment): `--kernel K` and `--input NAME=PATH` (paths relative to the repository
//! root, e.g. `tests/fixtures/x.npy`).
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_run`.

mod common;

use common::{catch, Suite};
use kiln::{Options, RunSpec};
use std::path::{Path, PathBuf};

fn spec_for(case: &Path) -> Result<RunSpec, String> {
    let mut spec = RunSpec::default();
    let Ok(text) = std::fs::read_to_string(case.with_extension("args")) else {
        return Ok(spec);
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
            other => return Err(format!("unknown argument `{other}` in the .args file")),
        }
    }
    Ok(spec)
}

#[test]
fn run_goldens() {
    let mut suite = Suite::new("tests/run", "kiln");
    let opts = Options::default();
    for case in suite.cases() {
        let spec = match spec_for(&case) {
            Ok(s) => s,
            Err(e) => {
                suite.fail(&case, e);
                continue;
            }
        };
        match catch(|| kiln::run(&case, &spec, None, &opts)) {
            Ok(o) => {
                let out = format!(
                    "--- stdout\n{}--- stderr\n{}--- exit code {}\n",
                    o.stdout, o.stderr, o.code
                );
                if o.code != 0 && !o.stderr.contains("Error[") {
                    suite.fail(&case, "a failed run must report an error");
                }
                suite.check(&case, "out", &out);
            }
            Err(p) => suite.fail(&case, format!("kiln run {p}")),
        }
    }
    suite.finish();
}
