//! Passes that rewrite the IR: the written schedules and the automatic ones.

pub mod accumulate;
pub mod allocate;
pub mod autoblock;
pub mod autoschedule;
pub mod fuse;
pub mod kpf;
pub mod outline;
pub mod schedule;
pub mod stream;
pub mod tile;
