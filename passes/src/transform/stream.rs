//! The `stream` pass (fpga pipeline): how the stages of a network top are built — row by
//! row through line buffers where the stage allows it (analysis/row_plan.rs), a dense
//! layer value by value as its input arrives (analysis/accumulate.rs: the pass rewrites
//! its node into the arrival order with transform/accumulate.rs, and tells a flatten
//! before it to send each value as it computes it), on whole frames otherwise — and the
//! depth of every FIFO between two stages.
//!
//! Dense stage, before: `for i0: sum = 0; for n in 0..256: sum = sum + w[i0, n] * x[n];
//! result[i0] = f(sum)`; after: `stage: value by value; %0 arrives in order [4x4, 16x16,
//! 4x1], 64 a group` and the node in that order (transform/accumulate.rs shows it).
//!
//! Before, the entry `main` calls `conv2d_bias_add_relu_requantize` and
//! `maxpool2d_1_flatten` with `requantize_out` between them; after, the first callee
//! carries `stage: rows (line buffers x 1, xp 5, result 1)`, the second
//! `stage: frame (its result ... is not an image)`, and the channel
//! `requantize_out` has `[stream depth 3456]` (the whole image, since its consumer
//! waits for all of it).
//!
//! FIFO depths follow from how the stages run (ir/stage.rs). A row stage reads one row of
//! its input per step and then computes; its producer writes each row in one burst after
//! computing it. Between two row stages a FIFO of one row (W x C elements, W x C / V words of
//! a stream of width V) therefore never
//! stalls the faster side: when the producer writes row k the consumer has already taken
//! row k - 1, and if the producer is the faster one the consumer sets the pace anyway.
//! A frame stage on either side reads or writes its whole image in one burst while the
//! other side moves at its own row rate; a FIFO shorter than the image would make the
//! burst wait for the other stage's computation and serialize the two, so it holds the
//! whole image. A depth a written `stream(t, depth=)` set stays.

use crate::accumulate_plan::{flat_order, plan_accumulate};
use crate::ir::stage::StagePlan;
use crate::ir::stage::{AccumulatePlan, ArrivalOrder};
use crate::ir::{InstanceId, Module, Node, TensorId};
use crate::manager::PassContext;
use crate::row_plan::plan_rows;
use std::collections::BTreeMap;

/// The fewest values a group must be able to take for a dense stage to be fed in its
/// producer's order rather than row-major: the order's fastest digit bounds the
/// stage's channel-parallel factor, and each group pays a pipeline fill, so a short
/// digit would trade the network's interval for latency (LeNet's flatten, 4 a group:
/// 5,588 cycles per image against 5,057; docs/layer-pipeline.md).
const EARLY_GROUP: u64 = 16;

/// The plan of the dense stage `callee` (a stage whose rows could not be planned)
/// fed by a stream, in its producer's order where that order lets it take groups of
/// values (at least [`EARLY_GROUP`], or what row-major order allows when that is fewer) and adds
/// exactly in it, else row-major; None when it is not such a stage (or has a written
/// schedule, which is for its loops as written).
fn dense_plan(
    module: &Module,
    stages: &BTreeMap<u32, StagePlan>,
    calls: &[(InstanceId, Vec<TensorId>, Vec<TensorId>)],
    callee: InstanceId,
    args: &[TensorId],
    streams: &std::collections::HashSet<TensorId>,
) -> Option<AccumulatePlan> {
    let inst = module.instance(callee);
    if module
        .schedules
        .iter()
        .any(|s| s.target == kiln_lang::hir::Target::Fpga && s.kernel == inst.kernel)
    {
        return None;
    }
    let streamed: Vec<usize> = (0..args.len())
        .filter(|&k| streams.contains(&args[k]) && inst.tensor(inst.inputs[k]).shape.len() == 1)
        .collect();
    let [k] = streamed[..] else {
        return None;
    };
    let input = inst.inputs[k];
    let n = inst.tensor(input).len() as u64;
    let row_major = ArrivalOrder::row_major(n);
    let producer = calls.iter().find(|c| c.2.contains(&args[k])).map(|c| c.0);
    let early = producer.and_then(|p| match stages.get(&p.0) {
        Some(StagePlan::Rows(rp)) => flat_order(module.instance(p), rp),
        _ => None,
    });
    if let Some(order) = early.filter(|o| {
        !o.is_row_major()
            && o.group(crate::transform::accumulate::MAX_GROUP)
                >= row_major
                    .group(crate::transform::accumulate::MAX_GROUP)
                    .min(EARLY_GROUP)
    }) {
        if let Ok(p) = plan_accumulate(module, inst, input, &order) {
            return Some(p);
        }
    }
    plan_accumulate(module, inst, input, &row_major).ok()
}

pub fn run(module: &mut Module, ctx: &mut PassContext) {
    let Some(entry) = module.entry else {
        return;
    };
    let streams = module.instance(entry).dataflow_streams();
    if streams.is_empty() {
        return;
    }
    // The stages: every callee of the network, planned once.
    let mut stages: BTreeMap<u32, StagePlan> = BTreeMap::new();
    let calls: Vec<(InstanceId, Vec<TensorId>, Vec<TensorId>)> = module
        .instance(entry)
        .schedule()
        .into_iter()
        .filter_map(|n| match &module.instance(entry).graph[n] {
            Node::Call(c) => Some((c.callee, c.args.clone(), c.results.clone())),
            _ => None,
        })
        .collect();
    for (callee, _, _) in &calls {
        stages.entry(callee.0).or_insert_with(|| {
            let inst = module.instance(*callee);
            if let Some(StagePlan::Accumulate(p)) = &inst.stage {
                // Built by an earlier run of this pass.
                return StagePlan::Accumulate(p.clone());
            }
            match plan_rows(inst) {
                Ok(p) => StagePlan::Rows(p),
                Err(reason) => StagePlan::Frame { reason },
            }
        });
    }
    // Dense stages fed value by value, in the order their producer sends.
    for (callee, args, _) in &calls {
        if !matches!(stages.get(&callee.0), Some(StagePlan::Frame { .. })) {
            continue;
        }
        if let Some(plan) = dense_plan(module, &stages, &calls, *callee, args, &streams) {
            let inst = module.instance_mut(*callee);
            inst.stage = Some(StagePlan::Accumulate(plan.clone()));
            let group = crate::transform::accumulate::group_for(&plan);
            if crate::transform::accumulate::build(inst, group) {
                if let Some(StagePlan::Accumulate(built)) = &inst.stage {
                    stages.insert(callee.0, StagePlan::Accumulate(built.clone()));
                }
            } else {
                inst.stage = None;
            }
        }
    }
    // A flat result travels in the order its consumer was built for, value by value as
    // it is computed when its node stores it in that order.
    for (callee, args, _) in &calls {
        let Some(StagePlan::Accumulate(acc)) = stages.get(&callee.0).cloned() else {
            continue;
        };
        let Some(k) = module
            .instance(*callee)
            .inputs
            .iter()
            .position(|&p| p == acc.input)
        else {
            continue;
        };
        let Some(producer) = calls.iter().find(|c| c.2.contains(&args[k])).map(|c| c.0) else {
            continue;
        };
        if let Some(StagePlan::Rows(rp)) = stages.get_mut(&producer.0) {
            let computed = flat_order(module.instance(producer), rp);
            rp.flat_early = computed.as_ref() == Some(&acc.order);
            rp.flat_order = Some(acc.order.clone());
        }
    }
    for (&id, plan) in &stages {
        let inst = module.instance(InstanceId(id));
        ctx.remarks.push(match plan {
            StagePlan::Rows(p) => format!(
                "stage {}: row by row (line buffers {})",
                inst.name,
                p.buffers
                    .iter()
                    .map(|b| format!("{} {}", inst.tensor(b.tensor).name, b.rows))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            StagePlan::Frame { reason } => format!("stage {}: whole frames ({reason})", inst.name),
            StagePlan::Accumulate(p) => format!(
                "stage {}: value by value as `{}` arrives ({} values a group, {})",
                inst.name,
                inst.tensor(p.input).name,
                p.group,
                p.order_text()
            ),
        });
    }
    // FIFO depths.
    let is_rows = |id: InstanceId| matches!(stages.get(&id.0), Some(StagePlan::Rows(_)));
    let mut depths: Vec<(TensorId, u32)> = Vec::new();
    for &t in &streams {
        let producer = calls.iter().find(|c| c.2.contains(&t)).map(|c| c.0);
        let consumer = calls.iter().find(|c| c.1.contains(&t)).map(|c| c.0);
        let tm = module.instance(entry).tensor(t);
        if tm.stream_depth.is_some() {
            continue;
        }
        let (Some(p), Some(c)) = (producer, consumer) else {
            continue;
        };
        let rows_both = is_rows(p) && is_rows(c) && tm.shape.len() == 3;
        // In words of `stream_width` values (ir/mod.rs, "Stream words").
        let v = tm.stream_width.max(1) as usize;
        let depth = if rows_both {
            (tm.shape[0] * tm.shape[2]).div_ceil(v)
        } else {
            tm.len().div_ceil(v)
        };
        depths.push((t, depth.clamp(1, u32::MAX as usize) as u32));
    }
    let top = module.instance_mut(entry);
    for (t, d) in depths {
        top.tensor_mut(t).stream_depth = Some(d);
    }
    for (id, plan) in stages {
        module.instance_mut(InstanceId(id)).stage = Some(plan);
    }
}
