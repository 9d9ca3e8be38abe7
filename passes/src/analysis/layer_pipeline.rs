//! The layer pipeline's figures for `kiln report`: per stage of a network top, its
//! interval, its latency to first output and its on-chip memory, and for the network its
//! interval, the latency of one image and the memory of its feature maps — for the
//! design kiln builds (row stages through line buffers, passes/src/ir/stage.rs) and for
//! the same stages on whole frames, so the difference shows.
//!
//! The model runs each stage's row schedule (analysis/row_plan.rs) on times instead of
//! counts: a stage moves one value per cycle on a stream (a row of a `[C, H, W]` image is
//! `C * W` cycles), a node's row costs its estimated cycles (estimate/) divided by its
//! rows, a row can be read only once its producer has written it, and the stage's
//! statements run one after another. A whole-frame stage reads all of its input, computes
//! and writes all of its result; in the whole-frame design every stage is one, each
//! holding its input image and its intermediate images whole (one copy each: the smallest
//! frame design, not counting double buffering).
//!
//! Both designs overlap successive images in the DATAFLOW region, so a new image can
//! start once the busiest stage is free: the interval is the same for both (the slowest
//! stage's compute plus its stream I/O); what streaming changes is latency and memory.

use crate::estimate::{estimate, InstanceEstimate};
use crate::ir::stage::{RowPlan, StagePlan};
use crate::ir::{Instance, InstanceId, Module, Node, TensorId, TensorKind};
use crate::row_plan::RowSchedule;
use std::collections::HashMap;

/// One stage of the network.
#[derive(Clone, Debug)]
pub struct StageFigures {
    pub name: String,
    /// `None` for a row stage; why it keeps whole frames otherwise.
    pub frame_reason: Option<String>,
    /// Line buffers of a row stage: (image, rows, bits).
    pub line_buffers: Vec<(String, usize, u64)>,
    /// A dense stage fed value by value: how (ir/stage.rs, `AccumulatePlan`).
    pub by_value: Option<String>,
    /// Cycles per image: compute plus stream input and output.
    pub interval: u64,
    /// Cycles from its first input value to its first output row, in the streamed design.
    pub first_output: u64,
    /// On-chip bits of images (line buffers, or whole frames) in the streamed design.
    pub memory_bits: u64,
    /// The same stage on whole frames.
    pub frame_memory_bits: u64,
}

/// The network's figures.
#[derive(Clone, Debug)]
pub struct PipelineFigures {
    pub stages: Vec<StageFigures>,
    /// Cycles between images (the busiest stage), both designs.
    pub interval: u64,
    /// Cycles from the first input value to the last result of one image.
    pub latency: u64,
    pub frame_latency: u64,
    /// Feature-map memory (stages and FIFOs), in bits.
    pub memory_bits: u64,
    pub frame_memory_bits: u64,
    /// FIFO bits in the streamed design (included in `memory_bits`).
    pub fifo_bits: u64,
    /// Constant data (weights) and on-chip buffers that are not images (weights copied
    /// from memory), the same in both designs.
    pub weight_bits: u64,
}

/// The figures of the entry, when it is a network of stages (`None` otherwise).
pub fn layer_pipeline(module: &Module) -> Option<PipelineFigures> {
    let entry = module.entry?;
    let top = module.instance(entry);
    let streams = top.dataflow_streams();
    if streams.is_empty() {
        return None;
    }
    let est: HashMap<InstanceId, InstanceEstimate> = estimate(module).into_iter().collect();
    let bits = |inst: &Instance, t: TensorId| {
        inst.tensor(t).len() as u64 * inst.tensor(t).elem.storage_bits() as u64
    };
    // Row arrival times of the tensor each stage reads, in the streamed design, and the
    // time each tensor is complete in the frame design.
    let mut arrival: HashMap<TensorId, Vec<u64>> = HashMap::new();
    let mut frame_done: HashMap<TensorId, u64> = HashMap::new();
    let mut stages = Vec::new();
    let (mut latency, mut frame_latency, mut interval) = (0u64, 0u64, 0u64);
    let mut weight_bits = 0u64;
    let mut counted_weights = std::collections::HashSet::new();
    let mut fifo_bits = 0u64;
    for &t in &streams {
        let depth = top
            .tensor(t)
            .stream_depth
            .map_or(crate::estimate::words(top.tensor(t)) as usize, |d| {
                d as usize
            });
        // A FIFO's depth counts words of `stream_width` values.
        fifo_bits += depth as u64
            * top.tensor(t).stream_width.max(1) as u64
            * top.tensor(t).elem.storage_bits() as u64;
    }
    for n in top.schedule() {
        let Node::Call(call) = &top.graph[n] else {
            continue;
        };
        let callee = module.instance(call.callee);
        let Some(e) = est.get(&call.callee) else {
            continue;
        };
        for (i, tm) in callee.tensors.iter().enumerate() {
            if let TensorKind::Const(c) = tm.kind {
                if counted_weights.insert(c) && callee_uses(callee, TensorId(i as u32)) {
                    weight_bits += bits(callee, TensorId(i as u32));
                }
            }
        }
        // Buffers that are not images (weights copied on chip, vectors of a dense tail
        // are images of no rows: those are counted with the images when streamed).
        weight_bits += temps_bits(callee, |shape| shape.len() != 3);
        // Stream I/O of the stage: every value of each streamed image in and out.
        let io_in: u64 = call
            .args
            .iter()
            .filter(|t| streams.contains(t))
            .map(|&t| crate::estimate::words(top.tensor(t)))
            .sum();
        let io_out: u64 = call
            .results
            .iter()
            .map(|&t| crate::estimate::words(top.tensor(t)))
            .sum();
        // A row stage's estimate holds its stream I/O; a frame stage copies its FIFOs
        // before and after it computes (estimate/, the same figure the estimate and
        // the allocation use).
        let stage_interval =
            e.cycles + crate::estimate::frame_stage_io(module, top, call, &streams);
        interval = interval.max(stage_interval);
        // Whole-frame design: wait for the inputs, compute, write.
        let start = call
            .args
            .iter()
            .filter_map(|t| frame_done.get(t))
            .copied()
            .max()
            .unwrap_or(0);
        let frame_end = start + e.cycles + io_out;
        for &r in &call.results {
            frame_done.insert(r, frame_end);
        }
        frame_latency = frame_latency.max(frame_end);
        let frame_memory_bits = frame_memory(callee, &call.args, &streams, top);
        // Streamed design.
        let inputs: Vec<(TensorId, TensorId)> = call
            .args
            .iter()
            .zip(&callee.inputs)
            .map(|(&a, &p)| (a, p))
            .collect();
        let first_in = inputs
            .iter()
            .filter_map(|(a, _)| arrival.get(a).and_then(|v| v.first()))
            .copied()
            .min()
            .unwrap_or(0);
        let (rows_out, reason, buffers, memory_bits) = match &callee.stage {
            Some(StagePlan::Rows(plan)) => {
                let out = row_times(callee, plan, e, &inputs, &arrival);
                let bufs: Vec<(String, usize, u64)> = plan
                    .buffers
                    .iter()
                    .map(|b| {
                        let tm = callee.tensor(b.tensor);
                        let b_bits = (tm.shape[0] * b.rows * tm.shape[2]) as u64
                            * tm.elem.storage_bits() as u64;
                        (tm.name.clone(), b.rows, b_bits)
                    })
                    .collect();
                // A result that is not an image is held whole until it is sent.
                let flat_bits = if plan.flat_output {
                    bits(callee, plan.output)
                } else {
                    0
                };
                let mem = bufs.iter().map(|b| b.2).sum::<u64>() + flat_bits;
                (out, None, bufs, mem)
            }
            Some(StagePlan::Accumulate(plan)) if plan.built => {
                // Each group of values is taken as it arrives; the stage finishes its
                // work after the last one (at least its own cycles after the first),
                // then sends its results.
                let k = callee.inputs.iter().position(|&p| p == plan.input);
                let times = k
                    .and_then(|k| call.args.get(k))
                    .and_then(|a| arrival.get(a))
                    .cloned()
                    .unwrap_or_default();
                let last_in = times.last().copied().unwrap_or(first_in);
                let n = callee.tensor(plan.input).len().max(1) as u64;
                let outputs: u64 = call
                    .results
                    .iter()
                    .map(|&r| top.tensor(r).len() as u64)
                    .sum();
                // The work of the last group, and the epilogue over the outputs.
                let tail = e.cycles.saturating_mul(plan.group) / n + outputs;
                let done = (first_in + e.cycles).max(last_in + tail);
                // Its accumulators and group registers count with the other buffers;
                // its result is held whole until it is sent.
                let mem = call
                    .results
                    .iter()
                    .map(|&r| top.tensor(r).len() as u64 * top.tensor(r).elem.storage_bits() as u64)
                    .sum::<u64>();
                (vec![done + io_out], None, Vec::new(), mem)
            }
            other => {
                let reason = match other {
                    Some(StagePlan::Frame { reason }) => reason.clone(),
                    _ => "not planned".to_string(),
                };
                let ready = inputs
                    .iter()
                    .filter_map(|(a, _)| arrival.get(a).and_then(|v| v.last()))
                    .copied()
                    .max()
                    .unwrap_or(0)
                    .max(first_in + io_in);
                let done = ready + e.cycles;
                let out_rows = call
                    .results
                    .first()
                    .map(|&r| image_rows(top.tensor(r).shape.as_slice()))
                    .unwrap_or(1);
                let per_row = io_out / out_rows.max(1) as u64;
                let times = (1..=out_rows as u64).map(|q| done + q * per_row).collect();
                (times, Some(reason), Vec::new(), frame_memory_bits)
            }
        };
        let first_output = rows_out
            .first()
            .copied()
            .unwrap_or(0)
            .saturating_sub(first_in);
        latency = latency.max(rows_out.last().copied().unwrap_or(0));
        for &r in &call.results {
            arrival.insert(r, rows_out.clone());
        }
        let by_value = match &callee.stage {
            Some(StagePlan::Accumulate(p)) if p.built => Some(format!(
                "value by value: `{}` consumed as it streams, {} values a group, {}",
                callee.tensor(p.input).name,
                p.group,
                p.order_text()
            )),
            _ => None,
        };
        stages.push(StageFigures {
            name: callee.name.clone(),
            frame_reason: reason,
            by_value,
            line_buffers: buffers,
            interval: stage_interval,
            first_output,
            memory_bits,
            frame_memory_bits,
        });
    }
    let memory_bits = stages.iter().map(|s| s.memory_bits).sum::<u64>() + fifo_bits;
    let frame_memory_bits = stages.iter().map(|s| s.frame_memory_bits).sum::<u64>();
    Some(PipelineFigures {
        stages,
        interval,
        latency,
        frame_latency,
        memory_bits,
        frame_memory_bits,
        fifo_bits,
        weight_bits,
    })
}

/// Rows of an image `[C, H, W]` (1 for other shapes: sent in one piece).
fn image_rows(shape: &[usize]) -> usize {
    if shape.len() == 3 {
        shape[1]
    } else {
        1
    }
}

fn callee_uses(inst: &Instance, t: TensorId) -> bool {
    inst.graph.node_weights().any(|n| match n {
        Node::Compute(c) => c.reads.contains(&t) || c.writes.contains(&t),
        Node::Call(c) => c.args.contains(&t),
        _ => false,
    })
}

/// A stage on whole frames: its streamed inputs and its intermediate images, whole.
fn frame_memory(
    callee: &Instance,
    args: &[TensorId],
    streams: &std::collections::HashSet<TensorId>,
    top: &Instance,
) -> u64 {
    let streamed: u64 = args
        .iter()
        .filter(|t| streams.contains(t))
        .map(|&t| top.tensor(t).len() as u64 * top.tensor(t).elem.storage_bits() as u64)
        .sum();
    streamed + temps_bits(callee, |shape| shape.len() == 3)
}

/// On-chip temporaries of an instance whose shape passes `keep` (not results, not
/// scalars, used by a node), whole.
fn temps_bits(callee: &Instance, keep: impl Fn(&[usize]) -> bool) -> u64 {
    callee
        .tensors
        .iter()
        .enumerate()
        .filter(|(i, tm)| {
            let t = TensorId(*i as u32);
            matches!(tm.kind, TensorKind::Temp)
                && !tm.shape.is_empty()
                && keep(&tm.shape)
                && !callee.outputs.contains(&t)
                && callee_uses(callee, t)
        })
        .map(|(_, tm)| tm.len() as u64 * tm.elem.storage_bits() as u64)
        .sum()
}

/// When each result row of a row stage is written, given when its input rows arrive:
/// the row schedule of ir/stage.rs, timed.
fn row_times(
    callee: &Instance,
    plan: &RowPlan,
    est: &InstanceEstimate,
    inputs: &[(TensorId, TensorId)],
    arrival: &HashMap<TensorId, Vec<u64>>,
) -> Vec<u64> {
    // Cycles per row of each node: its estimate over its rows.
    let compute_cycles: Vec<u64> = callee
        .schedule()
        .into_iter()
        .filter(|n| matches!(callee.graph[*n], Node::Compute(_)))
        .zip(est.nodes.iter().filter(|n| n.callee.is_none()))
        .filter_map(|(n, e)| {
            plan.nodes
                .iter()
                .find(|r| r.node == n)
                .map(|r| (r, e.cycles))
        })
        .map(|(r, cycles)| cycles / r.rows.max(1) as u64)
        .collect();
    let arrival_of = |param: TensorId, row: usize| -> u64 {
        inputs
            .iter()
            .find(|(_, p)| *p == param)
            .and_then(|(a, _)| arrival.get(a))
            .and_then(|v| v.get(row).or(v.last()))
            .copied()
            .unwrap_or(0)
    };
    let out_tm = callee.tensor(plan.output);
    // An image leaves row by row; another result whole, once complete.
    let row_out = if plan.flat_output {
        0
    } else {
        ((out_tm.shape[0] * out_tm.shape[2]) as u64).div_ceil(out_tm.stream_width.max(1) as u64)
    };
    let mut t = 0u64;
    let mut times = Vec::new();
    let mut schedule = RowSchedule::new(callee, &plan.nodes);
    while let Some((tensor, row)) = schedule.next_event() {
        if callee.inputs.contains(&tensor) {
            let tm = callee.tensor(tensor);
            let words =
                ((tm.shape[0] * tm.shape[2]) as u64).div_ceil(tm.stream_width.max(1) as u64);
            t = (t + words).max(arrival_of(tensor, row));
        } else if let Some(k) = plan.nodes.iter().position(|n| n.result == tensor) {
            t += compute_cycles.get(k).copied().unwrap_or(0);
            if tensor == plan.output && !plan.flat_output {
                t += row_out;
                times.push(t);
            } else if tensor == plan.output && plan.flat_early {
                // The row's values of a flat result left as they were computed.
                times.push(t);
            }
        }
    }
    if plan.flat_output && !plan.flat_early {
        times.push(t + crate::estimate::words(out_tm));
    }
    times
}

/// The text `kiln report` prints under the network.
pub fn report_text(f: &PipelineFigures, clock_ns: f64) -> String {
    use std::fmt::Write;
    let kib = |b: u64| b as f64 / 8.0 / 1024.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nlayer pipeline (row stages through line buffers; whole frames where a stage cannot stream):"
    );
    for st in &f.stages {
        let how = match (&st.frame_reason, &st.by_value) {
            (_, Some(how)) => how.clone(),
            (None, None) => format!(
                "rows, line buffers {}",
                st.line_buffers
                    .iter()
                    .map(|(n, r, _)| format!("{n} {r}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (Some(r), None) => format!("whole frames: {r}"),
        };
        let _ = writeln!(
            s,
            "  {}: {how}\n    interval {} cycles, first output after {} cycles, images {:.2} KiB (whole frames {:.2} KiB)",
            st.name,
            st.interval,
            st.first_output,
            kib(st.memory_bits),
            kib(st.frame_memory_bits)
        );
    }
    let per_s = |cycles: u64| {
        if cycles == 0 {
            0.0
        } else {
            1e9 / (cycles as f64 * clock_ns)
        }
    };
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let _ = writeln!(
        s,
        "  network: a new image every {} cycles ({:.0} images/s); latency {} cycles ({:.3} ms), whole frames {} cycles ({:.3} ms): {:.1}x lower",
        f.interval,
        per_s(f.interval),
        f.latency,
        f.latency as f64 * clock_ns * 1e-6,
        f.frame_latency,
        f.frame_latency as f64 * clock_ns * 1e-6,
        ratio(f.frame_latency, f.latency)
    );
    let _ = writeln!(
        s,
        "  feature maps on chip: {:.2} KiB (FIFOs {:.2} KiB), whole frames {:.2} KiB: {:.1}x less; weights and other buffers {:.2} KiB in both",
        kib(f.memory_bits),
        kib(f.fifo_bits),
        kib(f.frame_memory_bits),
        ratio(f.frame_memory_bits, f.memory_bits),
        kib(f.weight_bits)
    );
    s
}
