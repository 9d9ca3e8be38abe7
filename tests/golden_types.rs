//! Type inference goldens: `tests/types/NAME.kiln` → `NAME.types`, what `kiln types`
//! prints (then its diagnostics, if any).
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_types`.

mod common;

use common::{catch, Suite};
use kiln::{Options, RunSpec};

#[test]
fn types_goldens() {
    let mut suite = Suite::new("tests/types", "kiln");
    let opts = Options::default();
    for case in suite.cases() {
        match catch(|| kiln::types(&case, &RunSpec::default(), &opts)) {
            Ok(o) => {
                let mut out = o.stdout.clone();
                if !o.stderr.is_empty() {
                    out.push_str("--- stderr\n");
                    out.push_str(&o.stderr);
                }
                if o.code != 0 {
                    out.push_str(&format!("--- exit code {}\n", o.code));
                }
                suite.check(&case, "types", &out);
            }
            Err(p) => suite.fail(&case, format!("kiln types {p}")),
        }
    }
    suite.finish();
}
