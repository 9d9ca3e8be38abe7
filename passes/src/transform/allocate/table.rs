//! The allocation table `kiln report` prints (per stage: factors, cycles, DSP, BRAM18,
//! LUT and where its weights live; for the network: interval, images/s, GOPS,
//! utilization and the bound), and the words that describe a choice and a bound.

use super::*;
use crate::estimate::Device;
use crate::manager::AllocOptions;

/// The allocation table `kiln report` prints for a network: per stage its factors,
/// cycles per image, DSP, BRAM (weights, line buffers, FIFOs) and LUT; for the network
/// the interval, images per second, GOPS, utilization and the bound.
pub fn table(
    stages: &[Stage],
    a: &Allocation,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let goal = match opts.target_fps {
        Some(f) => format!("target {f} images/s"),
        None => "as fast as the budget allows".into(),
    };
    let _ = writeln!(
        s,
        "\nallocation of the network's stages for {} at {clock_ns} ns ({goal}, budget {:.0}% of the device):",
        dev.part,
        opts.budget * 100.0
    );
    let w = stages
        .iter()
        .map(|st| st.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let rows: Vec<(String, &Choice, bool, u64)> = stages
        .iter()
        .zip(&a.picks)
        .zip(&a.ddr)
        .zip(&a.cycles)
        .map(|(((st, &p), &ddr), &cy)| (describe(st, &st.choices[p]), &st.choices[p], ddr, cy))
        .collect();
    let fw = rows.iter().map(|r| r.0.len()).max().unwrap_or(7).max(7);
    let _ = writeln!(
        s,
        "  {:w$}  {:fw$}  {:>12}  {:>7}  {:>6}  {:>7}  weights",
        "stage", "factors", "cycles/image", "DSP", "BRAM18", "LUT"
    );
    let mut macs: u64 = 0;
    let mut sum_cycles = 0u64;
    for (st, (f, c, ddr, cycles)) in stages.iter().zip(&rows) {
        let copies = if st.copies > 1 {
            format!(" (x{})", st.copies)
        } else {
            String::new()
        };
        let bram = if *ddr { c.ddr_bram } else { c.weight_bram } + c.act_bram;
        let _ = writeln!(
            s,
            "  {:w$}  {:fw$}  {:>12}  {:>7}  {:>6}  {:>7}  {}{}{}",
            st.name,
            f,
            cycles,
            fmt_dsp(c.dsp),
            bram,
            c.lut,
            if *ddr { "DDR" } else { "on chip" },
            copies,
            if st.written { ", not allocated" } else { "" },
        );
        macs += st.copies * st.nests.iter().map(|n| n.macs()).sum::<u64>();
        sum_cycles += cycles * st.copies;
    }
    let n_stages: u64 = stages.iter().map(|st| st.copies).sum::<u64>().max(1);
    let slowest = rows.iter().map(|r| r.3).max().unwrap_or(0);
    let mean = sum_cycles as f64 / n_stages as f64;
    let fps = if a.interval == 0 {
        0.0
    } else {
        1e9 / (a.interval as f64 * clock_ns)
    };
    let _ = writeln!(
        s,
        "network: a new image every {} cycles = {:.1} images/s; {:.3} MMAC per image = {:.1} GOPS (2 ops per MAC); slowest stage {:.2}x the mean",
        a.interval,
        fps,
        macs as f64 / 1e6,
        2.0 * macs as f64 * fps / 1e9,
        if mean > 0.0 { slowest as f64 / mean } else { 0.0 }
    );
    let pct = |u: f64, of: u32| 100.0 * u / of as f64;
    let _ = writeln!(
        s,
        "utilization (the layer pipeline's memory: weights, line buffers, FIFOs): DSP {:.1}%, BRAM18 {:.1}%, LUT {:.1}%{}",
        pct(a.dsp, dev.dsp),
        pct(a.bram as f64, dev.bram18),
        pct(a.lut as f64, dev.lut),
        if a.fits { "" } else { " (does not fit the budget)" }
    );
    if a.ddr.iter().any(|&d| d) {
        let bytes: u64 = stages
            .iter()
            .zip(&rows)
            .filter(|(_, r)| r.2)
            .map(|(st, r)| r.1.ddr_bytes * st.copies)
            .sum();
        let _ = writeln!(
            s,
            "DDR: {bytes} bytes ({:.2} MB) of weights per image (the tiles the stages copy on chip, in m_axi words; their BRAM is in the utilization) at {} GB/s (at least {} cycles)",
            bytes as f64 / 1e6,
            dev.ddr_gbps,
            (bytes as f64 / (dev.ddr_gbps * clock_ns)).ceil() as u64
        );
    }
    if let Some(why) = &a.target_missed {
        let why: Vec<String> = why.iter().map(|b| bound_name(b, stages)).collect();
        let _ = writeln!(
            s,
            "target not reached ({}); the allocation is the fastest that fits",
            why.join(", ")
        );
    }
    let _ = writeln!(s, "bound: {}", bound_name(&a.bound, stages));
    s
}

fn fmt_dsp(d: f64) -> String {
    if d.fract() == 0.0 {
        format!("{d:.0}")
    } else {
        format!("{d:.1}")
    }
}

/// The factors of a choice: `CPF c/C x KPF 1` per MAC nest (`-` for a stage without one),
/// and how they are built.
pub fn describe(s: &Stage, c: &Choice) -> String {
    let mut word = String::new();
    if c.lanes > 1 && (s.nests.is_empty() || c.lanes != c.kpf) {
        word.push_str(&format!(", {} channels a cycle", c.lanes));
    }
    if c.width > 1 {
        word.push_str(&format!(", stream word {}", c.width));
    }
    if s.nests.is_empty() {
        return if word.is_empty() {
            "-".into()
        } else {
            word[2..].to_string()
        };
    }
    let f = describe_nests(s, c);
    format!("{f}{word}")
}

fn describe_nests(s: &Stage, c: &Choice) -> String {
    s.nests
        .iter()
        .zip(&c.cpf)
        .enumerate()
        .map(|(k, (n, &f))| {
            let kpf = if k + 1 == s.nests.len() { c.kpf } else { 1 };
            let how = if s.written {
                "as scheduled".to_string()
            } else if f >= n.channels {
                "II 1".to_string()
            } else if c.how == Sharing::Groups {
                format!("{} groups", n.channels / f)
            } else {
                format!("II {}", n.channels.div_ceil(f))
            };
            format!(
                "CPF {f}/{} x KPF {kpf} x window {} ({how})",
                n.channels, n.window
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// What a bound means, in words.
pub fn bound_name(b: &Bound, stages: &[Stage]) -> String {
    match b {
        Bound::Stage(k) => format!(
            "the smallest possible interval of stage {}",
            stages.get(*k).map_or("?", |s| s.name.as_str())
        ),
        Bound::Dsp => "the DSP budget".into(),
        Bound::Bram => "the BRAM budget".into(),
        Bound::Lut => "the LUT budget".into(),
        Bound::Bandwidth => {
            "the weights in DDR (the bandwidth, or the copies of their tiles on chip)"
                .into()
        }
        Bound::WeightsOnChip => "the BRAM for the weights (all on chip: a shorter interval would leave some in DDR, and the copies of their tiles on chip would take longer than it)".into(),
        Bound::Target => "the target rate (--target-fps), met with the least hardware".into(),
    }
}
