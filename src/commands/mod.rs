//! The commands of the CLI, one file each. Each returns an [`crate::Outcome`] instead of
//! printing, and gets its module from a pipeline (passes/src/pipelines.rs) through
//! [`crate::session::Session::build`].

pub mod check;
pub mod hls;
pub mod ir;
pub mod report;
pub mod rtl;
pub mod run;
pub mod synth;
pub mod types;
