//! The search of an allocation: the device's budget at the clock, the cheapest choice of
//! every stage within each candidate interval (in the words its producer chose), the
//! smallest interval whose total fits, and the bound that stops a smaller one.

use super::*;
use crate::estimate::Device;
use crate::manager::AllocOptions;

/// What limits the network's interval.
#[derive(Clone, Debug, PartialEq)]
pub enum Bound {
    /// The stage (index) at its largest parallelism: its smallest possible interval.
    Stage(usize),
    Dsp,
    Bram,
    Lut,
    /// The weights that stay off chip: the DDR bandwidth, or the copies of their tiles on
    /// chip (ddr.rs, tiles.rs).
    Bandwidth,
    /// Every weight is on chip, and a shorter interval would need more parallel weights
    /// than the BRAM holds: the rest in DDR, whose copy takes longer than that interval.
    WeightsOnChip,
    /// `--target-fps` is met with the least hardware.
    Target,
}

/// The allocation: a choice per stage and what it gives.
#[derive(Clone, Debug)]
pub struct Allocation {
    pub picks: Vec<usize>,
    /// Each stage's cycles per image with its pick, in the stream words its producers
    /// write ([`Stage::cycles_with`]).
    pub cycles: Vec<u64>,
    /// Stages whose weights stream from DDR.
    pub ddr: Vec<bool>,
    /// Cycles between images: the slowest stage, or the DDR traffic.
    pub interval: u64,
    pub bound: Bound,
    /// Whether the total fits the budget.
    pub fits: bool,
    /// `--target-fps` was asked and cannot be reached (the allocation is then the
    /// fastest that fits): why.
    pub target_missed: Option<Vec<Bound>>,
    pub dsp: f64,
    pub bram: u64,
    pub lut: u64,
}

/// The device's resources times the budget fraction, and the DDR bytes per cycle.
#[derive(Clone, Copy, Debug)]
struct Budget {
    dsp: f64,
    bram: u64,
    lut: u64,
    ddr_bytes_per_cycle: f64,
}

impl Budget {
    /// The part of the budget a choice takes: its DSP, LUT and BRAM shares added.
    /// With `w` the weights of DSP, LUT and BRAM.
    fn share(&self, c: &Choice, w: [f64; 3]) -> f64 {
        w[0] * c.dsp / self.dsp.max(1.0)
            + w[1] * c.lut as f64 / self.lut.max(1) as f64
            + w[2] * (c.weight_bram + c.act_bram) as f64 / self.bram.max(1) as f64
    }
}

fn budget(dev: &Device, clock_ns: f64, fraction: f64) -> Budget {
    Budget {
        dsp: dev.dsp as f64 * fraction,
        bram: (dev.bram18 as f64 * fraction).floor() as u64,
        lut: (dev.lut as f64 * fraction).floor() as u64,
        ddr_bytes_per_cycle: dev.ddr_gbps * clock_ns,
    }
}

/// The cheapest choice of each stage within `t` cycles (the fastest where none is), the
/// weights that must stay in DDR, and what exceeds the budget or `t`.
/// The choices are weighed by their shares of the budget, a resource the sum exceeds
/// weighing 4 times more at each retry (a stage may trade BRAM for LUTs and back).
fn evaluate(stages: &[Stage], b: &Budget, t: u64) -> (Allocation, Vec<Bound>) {
    let mut weights = [1.0f64; 3];
    let mut result = evaluate_weighted(stages, b, t, weights);
    for _ in 0..8 {
        let over = &result.1;
        if !over
            .iter()
            .any(|o| matches!(o, Bound::Dsp | Bound::Lut | Bound::Bram))
        {
            break;
        }
        for (k, r) in [Bound::Dsp, Bound::Lut, Bound::Bram].iter().enumerate() {
            if over.contains(r) {
                weights[k] *= 4.0;
            }
        }
        result = evaluate_weighted(stages, b, t, weights);
    }
    result
}

fn evaluate_weighted(
    stages: &[Stage],
    b: &Budget,
    t: u64,
    weights: [f64; 3],
) -> (Allocation, Vec<Bound>) {
    // In stage order (producers first): each stage's cheapest choice within `t`, in the
    // words its producers chose; a stage that writes a widenable stream takes words at
    // least as wide as its consumer needs to run within `t`.
    let mut picks: Vec<usize> = Vec::with_capacity(stages.len());
    let mut cycles: Vec<u64> = Vec::with_capacity(stages.len());
    for s in stages {
        let widths = |p: usize| {
            picks
                .get(p)
                .map_or(1, |&i: &usize| stages[p].choices[i].width)
        };
        let need = s
            .out_stream
            .as_ref()
            .map_or(1, |o| needed_width(stages, s, o, t, b, weights));
        let cheapest = |wide_enough: bool| {
            (0..s.choices.len())
                .filter(|&i| s.cycles_with(i, &widths) <= t)
                .filter(|&i| !wide_enough || s.choices[i].width >= need)
                .min_by(|&i, &j| {
                    let (a, c) = (&s.choices[i], &s.choices[j]);
                    b.share(a, weights)
                        .total_cmp(&b.share(c, weights))
                        .then(a.cycles.cmp(&c.cycles))
                })
        };
        let i = cheapest(true).or_else(|| cheapest(false)).unwrap_or(0);
        cycles.push(s.cycles_with(i, &widths));
        picks.push(i);
    }
    let pick = |k: usize| &stages[k].choices[picks[k]];
    let copies = |k: usize| stages[k].copies;
    let dsp: f64 = (0..stages.len())
        .map(|k| pick(k).dsp * copies(k) as f64)
        .sum();
    let lut: u64 = (0..stages.len()).map(|k| pick(k).lut * copies(k)).sum();
    let act: u64 = (0..stages.len())
        .map(|k| pick(k).act_bram * copies(k))
        .sum();
    let mut ddr = vec![false; stages.len()];
    let mut weights: u64 = (0..stages.len())
        .map(|k| pick(k).weight_bram * copies(k))
        .sum();
    // Weights that do not fit stay in DDR, those whose tiles save the most BRAM first.
    let saving = |k: usize| pick(k).weight_bram.saturating_sub(pick(k).ddr_bram) * copies(k);
    let mut order: Vec<usize> = (0..stages.len()).collect();
    order.sort_by_key(|&k| std::cmp::Reverse(saving(k)));
    for k in order {
        if act + weights <= b.bram || saving(k) == 0 {
            break;
        }
        weights -= saving(k);
        ddr[k] = true;
    }
    let ddr_bytes: u64 = (0..stages.len())
        .filter(|&k| ddr[k])
        .map(|k| pick(k).ddr_bytes * copies(k))
        .sum();
    // A stage whose weights stay in DDR copies tiles of them on chip (ddr.rs, tiles.rs):
    // its cycles per image are those of the stage built that way.
    let mut copy_over = false;
    for k in 0..stages.len() {
        if ddr[k] {
            let more = pick(k).ddr_cycles.saturating_sub(pick(k).cycles);
            cycles[k] = cycles[k].saturating_add(more);
            copy_over |= cycles[k] > t;
        }
    }
    let ddr_cycles = (ddr_bytes as f64 / b.ddr_bytes_per_cycle).ceil() as u64;
    let slowest = cycles.iter().copied().max().unwrap_or(0);
    let interval = slowest.max(ddr_cycles);
    let bram = act + weights;
    let mut over = Vec::new();
    if dsp > b.dsp {
        over.push(Bound::Dsp);
    }
    if bram > b.bram {
        over.push(Bound::Bram);
    }
    if lut > b.lut {
        over.push(Bound::Lut);
    }
    if ddr_cycles > t || copy_over {
        over.push(Bound::Bandwidth);
    }
    let alloc = Allocation {
        picks,
        cycles,
        ddr,
        interval,
        bound: Bound::Target,
        fits: over
            .iter()
            .all(|o| matches!(o, Bound::Bandwidth | Bound::Stage(_))),
        target_missed: None,
        dsp,
        bram,
        lut,
    };
    (alloc, over)
}

/// The word of the stream `o` (written by `s`) that lets its consumer run within `t` at
/// the least cost (its cheapest choice in those words; the narrowest word among equals);
/// the widest `s` offers when no word lets it.
fn needed_width(
    stages: &[Stage],
    s: &Stage,
    o: &OutStream,
    t: u64,
    b: &Budget,
    w: [f64; 3],
) -> u32 {
    let q = &stages[o.consumer];
    let widths = s.widths();
    let mut best: Option<(f64, u32)> = None;
    for &v in &widths {
        let saved = o.values - o.values.div_ceil(v as u64);
        let cheapest = (0..q.choices.len())
            .filter(|&i| q.choices[i].cycles.saturating_sub(saved) <= t)
            .map(|i| b.share(&q.choices[i], w))
            .min_by(|x, y| x.total_cmp(y));
        if let Some(c) = cheapest {
            if best.is_none_or(|(bc, _)| c < bc) {
                best = Some((c, v));
            }
        }
    }
    best.map(|(_, v)| v)
        .or_else(|| widths.last().copied())
        .unwrap_or(1)
}

/// Each stage's cycles at its fastest choice with its producers' widest words: the
/// smallest interval it can take.
fn floors(stages: &[Stage]) -> Vec<u64> {
    stages
        .iter()
        .map(|s| {
            let widest = |p: usize| stages[p].widths().last().copied().unwrap_or(1);
            (0..s.choices.len())
                .map(|i| s.cycles_with(i, &widest))
                .min()
                .unwrap_or(0)
        })
        .collect()
}

/// The allocation of `stages` for the device (see the module doc).
pub fn search(stages: &[Stage], dev: &Device, clock_ns: f64, opts: AllocOptions) -> Allocation {
    let b = budget(dev, clock_ns, opts.budget);
    // The slowest stage at its largest parallelism.
    let (floor_stage, floor) = floors(stages)
        .into_iter()
        .enumerate()
        .max_by_key(|&(_, c)| c)
        .unwrap_or((0, 0));
    let mut target_missed = None;
    if let Some(fps) = opts.target_fps {
        let t = (1e9 / (fps * clock_ns)).floor() as u64;
        let (a, over) = evaluate(stages, &b, t);
        if over.is_empty() && a.interval <= t {
            return a;
        }
        let mut why = over;
        if floor > t {
            why.push(Bound::Stage(floor_stage));
        }
        target_missed = Some(why);
    }
    // Candidate intervals: every choice's cycles, with the words of each producer's
    // every width.
    let mut ts: Vec<u64> = Vec::new();
    for s in stages {
        for i in 0..s.choices.len() {
            ts.push(s.choices[i].cycles);
            // With its weights in DDR, its tile copies (ddr.rs).
            ts.push(s.choices[i].ddr_cycles);
            for &(p, _) in &s.in_streams {
                for v in stages[p].widths() {
                    ts.push(s.cycles_with(i, &|q| if q == p { v } else { 1 }));
                }
            }
            let widest = |p: usize| stages[p].widths().last().copied().unwrap_or(1);
            ts.push(s.cycles_with(i, &widest));
        }
    }
    ts.retain(|&c| c >= floor);
    ts.push(floor);
    ts.sort_unstable();
    ts.dedup();
    let mut previous: Option<Vec<Bound>> = None;
    for &t in &ts {
        let (mut a, over) = evaluate(stages, &b, t);
        if over.is_empty() {
            a.bound = match previous {
                None => Bound::Stage(floor_stage),
                Some(p) => p.into_iter().next().unwrap_or(Bound::Stage(floor_stage)),
            };
            // The DDR traffic may be what sets the interval.
            if a.interval > a.cycles.iter().copied().max().unwrap_or(0) {
                a.bound = Bound::Bandwidth;
            }
            // A faster allocation would leave weights in DDR; this one keeps them all.
            if a.bound == Bound::Bandwidth && !a.ddr.iter().any(|&d| d) {
                a.bound = Bound::WeightsOnChip;
            }
            a.target_missed = target_missed;
            return a;
        }
        previous = Some(over);
    }
    // Nothing fits: the cheapest allocation, and what it exceeds.
    let t = ts.last().copied().unwrap_or(0);
    let (mut a, over) = evaluate(stages, &b, t);
    a.bound = over.first().cloned().unwrap_or(Bound::Stage(floor_stage));
    a.fits = over.iter().all(|o| *o == Bound::Bandwidth);
    a.target_missed = target_missed;
    a
}
