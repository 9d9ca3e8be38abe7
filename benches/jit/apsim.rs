//! The ap_types C-simulations: the Xilinx headers, and timing a kernel's C-sim.

use crate::machine::root;
use crate::process::run;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub fn ap_include(tmp: &Path) -> Result<PathBuf, String> {
    if let Ok(d) = std::env::var("KILN_AP_TYPES") {
        let p = PathBuf::from(&d);
        if p.join("ap_fixed.h").is_file() {
            return Ok(p);
        }
    }
    let o = run(
        Command::new("bash").arg(root().join("scripts/fetch-ap-types.sh")),
        tmp,
        Some(Duration::from_secs(300)),
    );
    let p = PathBuf::from(o.stdout.lines().last().unwrap_or("").trim());
    if o.ok() && p.join("ap_fixed.h").is_file() {
        Ok(p)
    } else {
        Err(format!("scripts/fetch-ap-types.sh: {}", o.why()))
    }
}
