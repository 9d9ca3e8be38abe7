//! Passes that prove or reject without transforming the IR (bounds marks accesses it
//! proves; the others only report).

pub mod banks;
pub mod bounds;
pub mod parallel_lint;
