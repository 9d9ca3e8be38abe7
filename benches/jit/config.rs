//! The options after `--`.

use crate::kernels::BENCHES;
use std::time::Duration;

pub struct Config {
    pub quick: bool,
    pub min_time_ms: f64,
    pub min_runs: usize,
    pub interp: bool,
    pub interp_limit: Duration,
    pub keep: bool,
    pub write: bool,
    pub only: Vec<String>,
}

pub fn config() -> Config {
    let mut c = Config {
        quick: false,
        min_time_ms: 1000.0,
        min_runs: 5,
        interp: true,
        interp_limit: Duration::from_secs(60),
        keep: false,
        write: true,
        only: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bench" => {} // passed by `cargo bench`
            "--quick" => {
                c.quick = true;
                c.min_time_ms = 200.0;
                c.min_runs = 3;
                c.interp = false;
            }
            "--no-interp" => c.interp = false,
            "--interp" => c.interp = true,
            "--interp-limit" => {
                let v = args.next().and_then(|s| s.parse::<f64>().ok());
                match v {
                    Some(s) if s > 0.0 => c.interp_limit = Duration::from_secs_f64(s),
                    _ => eprintln!("warning: --interp-limit takes a number of seconds"),
                }
            }
            "--keep" => c.keep = true,
            "--no-write" => c.write = false,
            "-h" | "--help" => {
                println!(
                    "cargo bench --bench jit -- [--quick] [--no-interp] [--interp-limit SECS] \
                     [--keep] [--no-write] [KERNEL...]\nkernels: {}",
                    BENCHES.iter().map(|b| b.name).collect::<Vec<_>>().join(" ")
                );
                std::process::exit(0);
            }
            s if s.starts_with('-') => eprintln!("warning: ignoring unknown option {s}"),
            s => c.only.extend(s.split(',').map(str::to_string)),
        }
    }
    c
}
