//! `kiln csim DIR`: C-simulation of a project written by `kiln hls` (placeholder; being
//! written).
