//! The machine the bench runs on (CPU, ISA extensions, load, tool versions) and the
//! repository root.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    match option_env!("CARGO_MANIFEST_DIR") {
        Some(d) => PathBuf::from(d),
        None => std::env::current_dir().unwrap(),
    }
}

pub fn first_line(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .current_dir(root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_string()
        })
        .unwrap_or_else(|| "unknown".into())
}

pub fn machine(bin: &Path) -> Vec<String> {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let flags = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| {
            let want = [
                "avx2",
                "fma",
                "avx512f",
                "avx512bw",
                "avx512_vnni",
                "avx512_vpopcntdq",
            ];
            let have: Vec<&str> = l.split_whitespace().filter(|f| want.contains(f)).collect();
            have.join(" ")
        })
        .unwrap_or_default();
    let logical = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let phys = {
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut pid = String::new();
        for l in info.lines() {
            if let Some(v) = l.strip_prefix("physical id") {
                pid = v.trim_start_matches([' ', '\t', ':']).to_string();
            }
            if let Some(v) = l.strip_prefix("core id") {
                let c = (
                    pid.clone(),
                    v.trim_start_matches([' ', '\t', ':']).to_string(),
                );
                if !ids.contains(&c) {
                    ids.push(c);
                }
            }
        }
        ids.len()
    };
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GiB", kb / 1048576.0))
        .unwrap_or_else(|| "?".into());
    let cores = if phys > 0 {
        format!("{logical} logical CPUs available ({phys} physical cores listed)")
    } else {
        format!("{logical} logical CPUs available")
    };
    let dirty = first_line("git", &["status", "--porcelain", "--untracked-files=no"]);
    vec![
        format!("CPU: {model}, {cores}, {mem} RAM"),
        format!("ISA extensions: {flags}"),
        format!("kernel: {}", first_line("uname", &["-sr"])),
        format!("load average at start (1, 5, 15 min): {}", loadavg()),
        format!("gcc: {}", first_line("gcc", &["--version"])),
        format!(
            "kiln: {} (git {}{})",
            first_line(&bin.to_string_lossy(), &["--version"]),
            first_line("git", &["rev-parse", "--short", "HEAD"]),
            if dirty.is_empty() || dirty == "unknown" {
                ""
            } else {
                ", with uncommitted changes"
            }
        ),
    ]
}

pub fn loadavg() -> String {
    fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
