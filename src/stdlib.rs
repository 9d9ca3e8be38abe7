//! The standard library: DNN kernels written in kiln, embedded in the binary so that
//! `from stdlib.nn import conv2d` works from any directory.
//!
//! The sources live in stdlib/ at the repository root; a test checks that every file
//! there is listed here.

const MODULES: &[(&str, &str)] = &[("nn", include_str!("../stdlib/nn.kiln"))];

/// The source of stdlib module `name` (`nn`, or `a/b` for `stdlib.a.b`).
pub fn source(name: &str) -> Option<&'static str> {
    MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// The names of all stdlib modules.
pub fn names() -> Vec<&'static str> {
    MODULES.iter().map(|(n, _)| *n).collect()
}
