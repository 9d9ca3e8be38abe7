//! Analyses: facts about a module that passes and back ends read, without changing it.

pub mod accumulate;
pub mod bin_reduction;
pub mod estimate;
pub mod layer_pipeline;
pub mod loop_facts;
pub mod row_plan;
