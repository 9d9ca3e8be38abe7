//! The resource allocation of a network's dataflow stages, after DNNBuilder (Zhang et al.,
//! ICCAD 2018): every stage (a call of a network top, which `kiln hls` writes as one
//! DATAFLOW process) gets a parallelism proportional to its work, scaled up to the
//! device's DSP, BRAM, LUT and DDR-bandwidth budget, so that the stages take about equally
//! long and the network's interval (a new image every `max stage cycles`) approaches what
//! the device allows.
//!
//! - **Stages and their multiply-accumulate nests.** In each stage, a MAC nest is a loop
//!   nest whose innermost output loop (`j` of a convolution, `m` of a dense layer) holds a
//!   reduction loop nest (`c, u, v` or `n`) that accumulates products. Its channels `C`
//!   are the trips of the outermost reduction loop, its window the trips of the loops
//!   inside (R x S). The parallelism is DNNBuilder's channel-parallel factor (CPF, a power
//!   of two that divides C, or C itself) times its kernel-parallel factor (KPF): the
//!   stage computes `CPF x window x KPF` products per cycle.
//! - **How a factor is built in the IR** (directives and partitions, as `schedule.rs`
//!   writes them). At `CPF = C` the innermost output loop is pipelined at II 1 with the
//!   reduction inside it (Vitis unrolls it), the perfect output loops around it flattened
//!   into the pipeline. Below C, two ways ([`Sharing`]): the same pipeline at
//!   `II = C / CPF` (each DSP shared by II products, estimate/; LUT operators are not
//!   shared), or the channel loop split into groups of CPF channels, the group loop
//!   `c_o` made the output loop's only statement (the accumulator's start under
//!   `if c_o == 0`, the epilogue under `if c_o == last`) so that outputs x groups flatten
//!   into one pipeline at II 1 with `c_i` and the window unrolled (fewer operators of
//!   every kind). The arrays the reduction reads are partitioned by the elements one
//!   cycle needs (`cyclic CPF` along the channel dimension, the window's extent along the
//!   others); input ports the reduction re-reads are first copied on chip
//!   (autoschedule.rs `buffer_inputs`). The other loops of a stage (padding copies,
//!   pooling) get the automatic schedule with at most 16 unrolled iterations.
//! - **KPF** (kpf.rs): a row stage whose result nest runs at `CPF = C` may compute KPF
//!   output channels a cycle (the output-channel loop moved inside the pipeline), a choice
//!   only where its stream can carry words of at least KPF channels; its other nests
//!   (padding copies, pooling) then take KPF channels a cycle where they can.
//! - **Stream words** (words.rs): a stream between two row stages of an image
//!   may carry words of V channels (ir/mod.rs, "Stream words"); V is part of the
//!   producer's choice (one variant per power of two dividing the channels, at most
//!   1024 bits: its result leaves in `values / V` cycles, for V banks along the channels
//!   of its result row and of the consumer's line buffer), and the consumer reads the
//!   same words. The search picks stages in order, each in its producers' words
//!   ([`Stage::cycles_with`]), a producer in the words that let its consumer run within
//!   the interval at the least cost (`needed_width` in search.rs).
//! - **Cost of a choice** (estimate/ on the stage alone): cycles per image, DSPs (two
//!   8-bit products per DSP48, products of <= 4 bits and binary/ternary ones in LUTs),
//!   LUTs; BRAM for the weights as partitioned, plus the line buffer a layer pipeline
//!   keeps of its input (channels x (window rows + stride) x width, partitioned by CPF;
//!   the whole vector for a dense layer), plus FIFOs of their written depth. Weights
//!   that do not fit the BRAM budget stay in DDR (the largest first) and stream from it
//!   every image: the network's interval is at least their bytes over the board's
//!   bandwidth.
//! - **Search.** For each candidate interval T (the stage cycle counts of all choices, in
//!   every width of their producers' words),
//!   each stage takes its cheapest choice that runs within T (its DSP, LUT and BRAM
//!   shares of the budget added; a resource the total overruns weighs more at a retry);
//!   the smallest T whose total fits the budget is the allocation (with `--target-fps`,
//!   the cheapest choices within the target's interval). The bound is what stops a
//!   smaller T: the DSP, BRAM or LUT budget, the DDR bandwidth, or the slowest stage at
//!   its largest parallelism (its smallest possible interval).
//! - A stage whose kernel has a written `schedule ... for fpga` keeps it (one choice).
//!
//! Before: `for k: for i: for j: sum = 0; for c in 0..16: for u: for v: sum += ...` with
//! a DSP budget for 4 channels a cycle. After: `for k: for i: [flatten] for j: [pipeline
//! II=4, flatten]`, weights `[partition cyclic 4 dim 2, complete dim 3, complete dim 4]`.

mod ddr;
mod nests;
mod realize;
mod search;
mod stage;
mod table;
#[cfg(test)]
mod tests;
mod tiles;
mod words;

pub use ddr::word_bytes;
pub use nests::{mac_nests, MacNest};
pub use realize::{base_schedule, realize, Sharing};
pub use search::{search, Allocation, Bound};
pub use stage::{current_cpf, stages, Choice, OutStream, Stage};
pub use table::{bound_name, describe, table};

use nests::{body, body_mut, loop_at, loop_at_mut};
use realize::line_buffer_bram;
use stage::{cost, stage_ids, written};
use words::widen_streams;

use crate::estimate::Device;
use crate::ir::{InstanceId, Module};
use crate::manager::AllocOptions;

/// Schedules the stages of a network top for every choice ([`base_schedule`], in place)
/// and searches the allocation; None when the entry is not a network.
pub fn plan(
    module: &mut Module,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> Option<(Vec<Stage>, Allocation)> {
    let ids = stage_ids(module)?;
    let bram_bits = dev.bram18 as u64 * 18 * 1024 / 4;
    for &(id, _) in &ids {
        let inst = module.instance(id);
        if written(module, inst) {
            continue;
        }
        base_schedule(module.instance_mut(id), bram_bits);
    }
    let stages = stages(module, true)?;
    let alloc = search(&stages, dev, clock_ns, opts);
    Some((stages, alloc))
}

/// The `autoschedule` pass for a network top: schedules and allocates its stages;
/// returns the remarks (the factors per stage), or None when the entry is not a network
/// (the caller schedules it otherwise).
pub fn allocate(
    module: &mut Module,
    dev: &Device,
    clock_ns: f64,
    opts: AllocOptions,
) -> Option<Vec<String>> {
    let (stages, alloc) = plan(module, dev, clock_ns, opts)?;
    let mut remarks = Vec::new();
    for (s, &p) in stages.iter().zip(&alloc.picks) {
        if s.written {
            continue;
        }
        let c = &s.choices[p];
        module.instances[s.id.index()] = (*c.realized).clone();
        remarks.push(format!(
            "allocation for {}: {} {}",
            dev.part,
            s.name,
            describe(s, c)
        ));
    }
    // Stream words: the channel and the ports of both stages; a FIFO keeps its bits (its
    // depth, set in single values by the first `stream` pass, counts words).
    if let Some(entry) = module.entry {
        for (s, &p) in stages.iter().zip(&alloc.picks) {
            let (Some(o), v) = (&s.out_stream, s.choices[p].width) else {
                continue;
            };
            if v <= 1 {
                continue;
            }
            module.set_stream_width(entry, o.channel, v);
            let t = module.instance_mut(entry).tensor_mut(o.channel);
            t.stream_depth = t.stream_depth.map(|d| d.div_ceil(v).max(1));
        }
    }
    // Weights left in DDR: parameters of their stages and of the top (ddr.rs).
    let ddr: Vec<InstanceId> = stages
        .iter()
        .zip(&alloc.ddr)
        .filter(|(_, &d)| d)
        .map(|(s, _)| s.id)
        .collect();
    remarks.extend(ddr::weights_to_ddr(module, &ddr));
    remarks.push(format!(
        "allocation for {}: a new image every {} cycles, bound by {}",
        dev.part,
        alloc.interval,
        bound_name(&alloc.bound, &stages)
    ));
    Some(remarks)
}
