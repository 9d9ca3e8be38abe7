//! Analyses: facts about a module that passes and back ends read, without changing it.

pub mod bin_reduction;
pub mod estimate;
pub mod loop_facts;
