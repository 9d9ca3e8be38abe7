//! The `stream` pass (fpga pipeline): how the stages of a network top are built — row by
//! row through line buffers where the stage allows it (analysis/row_plan.rs), on whole
//! frames otherwise — and the depth of every FIFO between two stages.
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

use crate::ir::stage::StagePlan;
use crate::ir::{InstanceId, Module, Node, TensorId};
use crate::manager::PassContext;
use crate::row_plan::plan_rows;
use std::collections::BTreeMap;

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
        stages
            .entry(callee.0)
            .or_insert_with(|| match plan_rows(module.instance(*callee)) {
                Ok(p) => StagePlan::Rows(p),
                Err(reason) => StagePlan::Frame { reason },
            });
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
