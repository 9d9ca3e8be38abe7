//! SIMD code for innermost loops (work in progress: no loop is vectorized yet, every loop
//! takes the scalar path in codegen.rs).

use crate::codegen::{Gen, R};
use kiln_passes::ir::Loop;

#[derive(Default)]
pub struct Vectorizer {}

impl Vectorizer {
    /// Emits `l` with SIMD and returns `true`, or returns `false` to leave it scalar.
    pub fn try_loop(&mut self, _g: &mut Gen, _l: &Loop) -> R<bool> {
        Ok(false)
    }
}
