//! Diagnostic goldens: `tests/diagnostics/NAME.kiln` → `NAME.stderr`, what `kiln check`
//! prints (no colour). A case whose golden output has an error must exit with 1; one with
//! only warnings (or nothing) with 0.
//!
//! Modules that cases import live in `tests/diagnostics/modules/` (not cases themselves);
//! data files in `tests/fixtures/`.
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_diagnostics`.

mod common;

use common::{catch, codes_in, Suite};
use kiln::Options;

#[test]
fn diagnostics_goldens() {
    let mut suite = Suite::new("tests/diagnostics", "kiln");
    let opts = Options {
        color: false,
        ..Default::default()
    };
    for case in suite.cases() {
        let outcome = match catch(|| kiln::check(std::slice::from_ref(&case), &opts)) {
            Ok(o) => o,
            Err(p) => {
                suite.fail(&case, format!("kiln check {p}"));
                continue;
            }
        };
        if !outcome.stdout.is_empty() {
            suite.fail(
                &case,
                format!("kiln check printed on stdout:\n{}", outcome.stdout),
            );
        }
        let has_error = codes_in(&outcome.stderr).iter().any(|c| c.starts_with('E'));
        let expected = i32::from(has_error);
        if outcome.code != expected {
            suite.fail(
                &case,
                format!(
                    "exit code {} but expected {expected} (errors: {has_error})",
                    outcome.code
                ),
            );
        }
        suite.check(&case, "stderr", &outcome.stderr);
    }
    suite.finish();
}
