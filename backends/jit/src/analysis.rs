//! Facts about loop nests the JIT relies on (coverage of stores, parallel outer loops,
//! private locals): pure IR analyses, so they live in the passes crate
//! (passes/src/loop_facts.rs), where the `parallel-lint` pass uses them too.

pub use kiln_passes::loop_facts::*;
