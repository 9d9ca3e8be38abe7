//! Stream words: the variants of a producer's choices that send V channels a word to
//! another row stage (KPF built by kpf.rs where the result nest allows it), and the line
//! buffers and result rows banked to match.

use super::*;
use crate::ir::{Block, InstanceId, Module, Node, NodeId, Stmt, TensorId};

/// Statement indices from a node's body to the first pipelined loop of the perfect chain
/// its last statement starts.
fn pipelined_chain(b: &Block) -> Option<Vec<usize>> {
    let mut path = vec![b.len().checked_sub(1)?];
    let mut l = match b.last()? {
        Stmt::For(l) => l,
        _ => return None,
    };
    while l.directives.pipeline_ii.is_none() {
        match l.body.as_slice() {
            [Stmt::For(inner)] => {
                path.push(0);
                l = inner;
            }
            _ => return None,
        }
    }
    Some(path)
}

/// The widest stream word: 1024 bits (a wide FIFO; a wider word would cost more in
/// FIFO and register width than the cycles it saves).
const MAX_WORD_BITS: u64 = 1024;

/// Streams between two row stages of an image (each stage called once, neither with a
/// written schedule) may carry words of V channels (ir/mod.rs, "Stream words"): the
/// producer's choices gain one variant per width V (a power of two dividing the channels,
/// at most [`MAX_WORD_BITS`] a word) that sends its result in `values / V` cycles and
/// pays for V banks along the channels of its result row and of the consumer's line
/// buffer; the consumer reads in the same words (the search subtracts what they save).
pub(super) fn widen_streams(module: &mut Module, stages: &mut [Stage]) {
    let Some(entry) = module.entry else { return };
    let top = module.instance(entry);
    let streams = top.dataflow_streams();
    let calls: Vec<(InstanceId, Vec<TensorId>, Vec<TensorId>)> = top
        .schedule()
        .into_iter()
        .filter_map(|n| match &top.graph[n] {
            Node::Call(c) => Some((c.callee, c.args.clone(), c.results.clone())),
            _ => None,
        })
        .collect();
    for k in 0..stages.len() {
        // What the stream is: its channel, consumer, sizes (owned: the module changes
        // below when KPF choices are costed).
        let found = (|| {
            let s = &stages[k];
            if s.copies != 1 || s.written {
                return None;
            }
            let call = calls.iter().find(|c| c.0 == s.id)?;
            let plan = module.instance(s.id).stage.as_ref()?.rows()?.clone();
            let [r] = call.2[..] else { return None };
            let top = module.instance(entry);
            let tm = top.tensor(r);
            if plan.flat_output || !streams.contains(&r) || tm.shape.len() != 3 {
                return None;
            }
            let (consumer, slot) = calls
                .iter()
                .find_map(|c| c.1.iter().position(|&a| a == r).map(|i| (c.0, i)))?;
            let q = stages.iter().position(|st| st.id == consumer)?;
            if stages[q].copies != 1 || stages[q].written {
                return None;
            }
            let cinst = module.instance(consumer);
            let port = cinst.inputs[slot];
            let rows = cinst.stage.as_ref()?.rows()?.rows_of(port)?;
            let last = plan.nodes.last()?.node;
            Some((
                r,
                q,
                rows as u64,
                tm.shape[0] as u64,
                tm.shape[2] as u64,
                tm.elem.storage_bits() as u64,
                tm.len() as u64,
                last,
            ))
        })();
        let Some((r, q, rows, c, w, bits, values, last)) = found else {
            continue;
        };
        if c == 0 {
            continue;
        }
        // KPF: the nest that makes the result, at its full channel parallelism, computes
        // KPF output channels a cycle (kpf.rs); its words are then at least KPF wide. The
        // stage's other nests (padding copies, pooling) take as many channels a cycle
        // where their channel count allows it.
        let id = stages[k].id;
        let nests = stages[k].nests.clone();
        let mut kpf_choices: Vec<Choice> = Vec::new();
        let full = if nests.is_empty() {
            stages[k].choices.first().cloned()
        } else {
            stages[k]
                .choices
                .iter()
                .find(|ch| {
                    ch.how == Sharing::Interval
                        && ch.kpf == 1
                        && nests.iter().zip(&ch.cpf).all(|(n, &f)| f >= n.channels)
                })
                .cloned()
        };
        if let Some(full) = full {
            // Each row node's nest: the MAC nest's path, or the perfect chain from its
            // last statement down to its pipelined loop.
            let paths: Vec<(NodeId, Vec<usize>)> = full
                .realized
                .stage
                .as_ref()
                .and_then(|p| p.rows())
                .map(|plan| {
                    plan.nodes
                        .iter()
                        .filter_map(|rn| match nests.iter().find(|n| n.node == rn.node) {
                            Some(n) => Some((rn.node, n.path.clone())),
                            None => body(&full.realized, rn.node)
                                .and_then(pipelined_chain)
                                .map(|p| (rn.node, p)),
                        })
                        .collect()
                })
                .unwrap_or_default();
            for kpf in (1..=c.trailing_zeros()).map(|e| 1u64 << e) {
                if kpf * bits > MAX_WORD_BITS {
                    break;
                }
                let mut inst = (*full.realized).clone();
                let mut result_at = false;
                let mut any = false;
                for (node, path) in &paths {
                    let done =
                        crate::transform::kpf::kpf_nest(&mut inst, *node, path, kpf).is_some();
                    any |= done;
                    result_at |= done && *node == last;
                }
                if !any {
                    break;
                }
                let mut ch = cost(module, id, inst, &nests, &full.cpf, full.how);
                ch.kpf = if result_at { kpf } else { 1 };
                ch.lanes = kpf;
                kpf_choices.push(ch);
            }
        }
        stages[k].choices.extend(kpf_choices);
        let banks_cost = |elems: u64, banks: u64| -> (u64, u64) {
            let per_bank = (elems * bits).div_ceil(banks.max(1));
            if per_bank > 1024 {
                (banks * per_bank.div_ceil(18 * 1024), 0)
            } else {
                (0, banks * per_bank.div_ceil(64))
            }
        };
        let memories = [c * w, c * rows * w];
        let base: Vec<Choice> = std::mem::take(&mut stages[k].choices);
        let mut out: Vec<Choice> = Vec::new();
        for b in &base {
            if b.kpf == 1 {
                out.push(b.clone());
            }
            for v in (1..=c.trailing_zeros()).map(|e| 1u64 << e) {
                if v * bits > MAX_WORD_BITS {
                    break;
                }
                if v < b.kpf {
                    continue;
                }
                let (mut bram, mut lut) = (0u64, 0u64);
                for m in memories {
                    let (b1, l1) = banks_cost(m, 1);
                    let (bv, lv) = banks_cost(m, v);
                    bram += bv.saturating_sub(b1);
                    lut += lv.saturating_sub(l1);
                }
                let mut wide = b.clone();
                wide.width = v as u32;
                wide.cycles = b.cycles - values + values.div_ceil(v);
                wide.ddr_cycles = b.ddr_cycles - values + values.div_ceil(v);
                wide.act_bram += bram;
                wide.lut += lut;
                out.push(wide);
            }
        }
        let widened = out.len() > base.iter().filter(|b| b.kpf == 1).count();
        stages[k].choices = out;
        if !widened {
            continue;
        }
        stages[k].choices.sort_by_key(|c| c.cycles);
        stages[k].out_stream = Some(OutStream {
            channel: r,
            consumer: q,
            values,
        });
        stages[q].in_streams.push((k, values));
    }
}
