//! The state of SIMD emission for one loop ([`Emitter`]) and why emission stops ([`VErr`]).

use crate::codegen::error::Unsupported;
use crate::codegen::vector::plan::Plan;
use cranelift_frontend::Variable;
use kiln_passes::ir::LocalId;
use std::collections::HashMap;

/// Why vector emission stopped.
pub(crate) enum VErr {
    /// No SIMD form: emit the loop as scalar code instead.
    Abandon(&'static str),
    /// A construct no code can be made for (the scalar code would fail the same way).
    Fatal(Unsupported),
}

impl From<Unsupported> for VErr {
    fn from(u: Unsupported) -> Self {
        VErr::Fatal(u)
    }
}

pub(crate) type VR<T> = Result<T, VErr>;

pub(crate) fn abandon<T>(why: &'static str) -> VR<T> {
    Err(VErr::Abandon(why))
}

pub(crate) struct Emitter<'p> {
    pub(crate) plan: &'p Plan,
    /// The registers of locals that hold lanes.
    pub(crate) vlocals: HashMap<LocalId, Vec<Variable>>,
}

impl Emitter<'_> {
    pub(crate) fn vf(&self) -> u32 {
        self.plan.vf
    }

    /// Registers for `vf` lanes of `bits` (a partly used register below 128 bits).
    pub(crate) fn nregs(&self, bits: u32) -> usize {
        ((self.vf() * bits) as usize).div_ceil(128)
    }
}
