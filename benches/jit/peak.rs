//! The 128-bit peak of this machine for each kernel's operation: benches/baselines/peak.c
//! measures the throughput of the one 128-bit instruction each operation can at best be
//! reduced to (vpopcntb for binary products, twice for ternary ones, vpdpbusd for 8-bit
//! ones, mulps + addps for f32), in instructions per ns of CPU time; times the multiply-accumulates per
//! instruction that is the peak. benches/README.md explains the arithmetic.

use crate::baselines::compile;
use crate::kernels::Peak;
use crate::process::run;
use crate::Ctx;
use std::process::Command;
use std::time::Duration;

/// One operation's measured peak.
#[derive(Clone, Debug)]
pub struct PeakRate {
    pub op: Peak,
    /// Instructions per ns (CPU time).
    pub per_ns: f64,
    /// Multiply-accumulates per instruction.
    pub macs: f64,
}

impl PeakRate {
    /// Giga multiply-accumulates per second.
    pub fn gmacs(&self) -> f64 {
        self.per_ns * self.macs
    }
}

/// Compiles and runs peak.c; the operations it could measure (the reason when none).
pub fn measure(ctx: &Ctx) -> Result<Vec<PeakRate>, String> {
    let exe = ctx.tmp.join("peak");
    let c = compile(
        &ctx.bl.join("peak.c"),
        &exe,
        false,
        false,
        &[],
        None,
        ctx.tmp,
    );
    let exe = c.exe?;
    let o = run(
        &mut Command::new(&exe),
        ctx.tmp,
        Some(Duration::from_secs(120)),
    );
    if !o.ok() {
        return Err(format!("peak failed: {}", o.why()));
    }
    let mut out = Vec::new();
    for line in o.stdout.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        let op = match f.first() {
            Some(&"binary") => Peak::Binary,
            Some(&"int8") => Peak::Int8,
            Some(&"f32") => Peak::F32,
            _ => continue,
        };
        if let (Some(Ok(per_ns)), Some(Ok(macs))) = (
            f.get(1).map(|s| s.parse::<f64>()),
            f.get(2).map(|s| s.parse::<f64>()),
        ) {
            out.push(PeakRate { op, per_ns, macs });
            if op == Peak::Binary {
                // A ternary product needs two popcounts (the positive and the negative
                // terms): 64 products per vpopcntb.
                out.push(PeakRate {
                    op: Peak::Ternary,
                    per_ns,
                    macs: macs / 2.0,
                });
            }
        }
    }
    Ok(out)
}
