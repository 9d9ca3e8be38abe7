//! A network's stages and their choices: the stages of a network top (its calls), each
//! stage's choices of factors (one per halving, in both ways of sharing, and per stream
//! word) with what each costs (estimate/ on the stage alone).

use super::*;
use crate::autoschedule::inner_iterations;
use crate::estimate::{arrays_of, const_memory, estimate_instance};
use crate::ir::{Instance, InstanceId, Module, Node, Stmt, TensorId};

/// One choice of a stage: its factors and what it costs.
#[derive(Clone, Debug)]
pub struct Choice {
    /// Channel-parallel factor per MAC nest.
    pub cpf: Vec<u64>,
    pub how: Sharing,
    /// The stage's instance with this choice built (shared by its stream widths).
    pub realized: std::sync::Arc<Instance>,
    pub cycles: u64,
    pub dsp: f64,
    pub lut: u64,
    /// BRAM18 of the weights as partitioned, and of line buffers and FIFOs.
    pub weight_bram: u64,
    pub act_bram: u64,
    /// With its weights in DDR (ddr.rs, tiles.rs): its cycles per image (the tile copies
    /// included), the BRAM18 of its tiles (instead of `weight_bram`) and the bytes it
    /// reads from DDR per image. Equal to the on-chip figures, and 0 bytes, for a stage
    /// without weights.
    pub ddr_cycles: u64,
    pub ddr_bram: u64,
    pub ddr_bytes: u64,
    /// Values per word of the stream the stage writes (ir/mod.rs, "Stream words"); its
    /// consumer reads the same words. `cycles` counts its output in words of this width
    /// and its inputs in single values (the search subtracts what the producers' widths
    /// save, [`Stage::in_streams`]).
    pub width: u32,
    /// Output channels its result's nest computes a cycle (DNNBuilder's KPF, kpf.rs); its
    /// stream words are at least this wide.
    pub kpf: u64,
    /// Channels a cycle of its other row nests (padding copies, pooling), kpf.rs; 1 when
    /// they are as scheduled.
    pub lanes: u64,
}

/// The stream a stage writes to another row stage, which the allocation may widen.
#[derive(Clone, Debug)]
pub struct OutStream {
    /// The channel in the network top.
    pub channel: TensorId,
    /// The stage that reads it.
    pub consumer: usize,
    /// Values per image it carries.
    pub values: u64,
}

/// A stage of the network and the choices it has, fastest first.
#[derive(Clone, Debug)]
pub struct Stage {
    pub id: InstanceId,
    pub name: String,
    /// Calls of the instance in the network (each is its own hardware).
    pub copies: u64,
    /// Kept as its written schedule (or the automatic schedule is off): one choice.
    pub written: bool,
    pub nests: Vec<MacNest>,
    pub choices: Vec<Choice>,
    /// The stream it writes to a row stage, when its words may be widened.
    pub out_stream: Option<OutStream>,
    /// The widenable streams it reads: (producer stage, values per image).
    pub in_streams: Vec<(usize, u64)>,
}

impl Stage {
    /// The cycles of choice `i` when the streams it reads come in the words `widths`
    /// (per stage: the width of the stream that stage writes) give.
    pub fn cycles_with(&self, i: usize, widths: &dyn Fn(usize) -> u32) -> u64 {
        let saved: u64 = self
            .in_streams
            .iter()
            .map(|&(p, values)| values - values.div_ceil(widths(p).max(1) as u64))
            .sum();
        self.choices[i].cycles.saturating_sub(saved)
    }

    /// The stream widths its choices offer.
    pub(super) fn widths(&self) -> Vec<u32> {
        let mut w: Vec<u32> = self.choices.iter().map(|c| c.width).collect();
        w.sort_unstable();
        w.dedup();
        w
    }
}

/// The stages of a network top (its calls, in schedule order; an instance called twice
/// is one stage with two copies), or None when the entry is not a network.
pub(super) fn stage_ids(module: &Module) -> Option<Vec<(InstanceId, u64)>> {
    let entry = module.entry?;
    let top = module.instance(entry);
    if top.dataflow_streams().is_empty() {
        return None;
    }
    let mut out: Vec<(InstanceId, u64)> = Vec::new();
    for n in top.schedule() {
        if let Node::Call(c) = &top.graph[n] {
            match out.iter_mut().find(|(id, _)| *id == c.callee) {
                Some(e) => e.1 += 1,
                None => out.push((c.callee, 1)),
            }
        }
    }
    Some(out)
}

/// Whether a written `schedule ... for fpga` names the stage's kernel.
pub(super) fn written(module: &Module, inst: &Instance) -> bool {
    module
        .schedules
        .iter()
        .any(|s| s.target == kiln_lang::hir::Target::Fpga && s.kernel == inst.kernel)
}

/// The cost of a stage with `inst` as its schedule.
pub(super) fn cost(
    module: &mut Module,
    id: InstanceId,
    inst: Instance,
    nests: &[MacNest],
    cpf: &[u64],
    how: Sharing,
) -> Choice {
    let old = std::mem::replace(&mut module.instances[id.index()], inst);
    let e = estimate_instance(module, id);
    let inst = std::mem::replace(&mut module.instances[id.index()], old);
    let (weights, _) = const_memory(&inst);
    // The same stage with its weights in DDR, as ddr.rs builds it.
    let off = super::ddr::off_chip(&inst);
    let (ddr_cycles, ddr_bram, ddr_bytes) = if off.moved.is_empty() {
        (e.cycles, weights.bram18, 0)
    } else {
        let tiles = off.tiles();
        let bram = arrays_of(&off.inst, &tiles).bram18;
        let bytes = off.bytes();
        let old = std::mem::replace(&mut module.instances[id.index()], off.inst);
        let cycles = estimate_instance(module, id).cycles;
        module.instances[id.index()] = old;
        (cycles, bram, bytes)
    };
    let mut act: u64 = nests
        .iter()
        .zip(cpf)
        .map(|(n, &f)| line_buffer_bram(&inst, n, f))
        .sum();
    // FIFOs of a written depth.
    for t in &inst.tensors {
        if let Some(d) = t.stream_depth {
            let bits = d as u64 * t.stream_width.max(1) as u64 * t.elem.storage_bits() as u64;
            if bits > 1024 {
                act += bits.div_ceil(18 * 1024);
            }
        }
    }
    Choice {
        cpf: cpf.to_vec(),
        how,
        realized: std::sync::Arc::new(inst),
        cycles: e.cycles,
        dsp: e.res.dsp,
        lut: e.res.lut,
        weight_bram: weights.bram18,
        act_bram: act,
        ddr_cycles,
        ddr_bram,
        ddr_bytes,
        width: 1,
        kpf: 1,
        lanes: 1,
    }
}

/// The choices of a stage scheduled by [`base_schedule`] (or as it stands when it is
/// `written`): per parallelism level (each nest's factor halved per level), the output
/// pipeline at `II = C / CPF` and, below the channel count, the split channel loop.
fn choices(module: &mut Module, id: InstanceId, nests: &[MacNest], written: bool) -> Vec<Choice> {
    let inst = module.instance(id).clone();
    if written || nests.is_empty() {
        let cpf: Vec<u64> = nests.iter().map(|n| current_cpf(&inst, n)).collect();
        return vec![cost(module, id, inst, nests, &cpf, Sharing::Interval)];
    }
    let mut out: Vec<Choice> = Vec::new();
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for level in 0..63u32 {
        let cpf: Vec<u64> = nests
            .iter()
            .map(|n| {
                let want = (n.channels >> level).max(1);
                n.factors().into_iter().find(|&f| f <= want).unwrap_or(1)
            })
            .collect();
        if !seen.contains(&cpf) {
            seen.push(cpf.clone());
            for how in [Sharing::Interval, Sharing::Groups] {
                let below = nests.iter().zip(&cpf).any(|(n, &f)| f < n.channels);
                if how == Sharing::Groups && !below {
                    continue;
                }
                if let Some(r) = realize(&inst, nests, &cpf, how) {
                    out.push(cost(module, id, r, nests, &cpf, how));
                }
            }
        }
        if cpf.iter().all(|&f| f == 1) {
            break;
        }
    }
    out.sort_by_key(|c| c.cycles);
    out
}

/// The channel-parallel factor a nest's schedule gives: C / II when its output loop is
/// pipelined, C when a loop around it is, else 1 per II of a pipelined reduction loop.
pub fn current_cpf(inst: &Instance, n: &MacNest) -> u64 {
    let Some(b) = body(inst, n.node) else {
        return 1;
    };
    for depth in 1..=n.path.len() {
        if let Some(l) = loop_at(b, &n.path[..depth]) {
            if let Some(ii) = l.directives.pipeline_ii {
                return n.channels.div_ceil(ii.max(1) as u64);
            }
        }
    }
    // A pipelined loop inside the reduction: the products of one of its iterations.
    let mut lanes = 1;
    if let Some(l) = loop_at(b, &n.path) {
        crate::ir::walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::For(r) = s {
                if let Some(ii) = r.directives.pipeline_ii {
                    let inner = inner_iterations(&r.body).unwrap_or(1);
                    lanes = lanes.max(inner / ii.max(1) as u64);
                }
            }
        });
    }
    (lanes / n.window.max(1)).max(1)
}

/// The stages of the module's network with their choices: the allocation's view of a
/// module. `auto` false: every stage as it stands.
pub fn stages(module: &mut Module, auto: bool) -> Option<Vec<Stage>> {
    let ids = stage_ids(module)?;
    let mut out = Vec::new();
    for (id, copies) in ids {
        let inst = module.instance(id);
        let written = !auto || written(module, inst);
        let nests = mac_nests(inst);
        let name = inst.name.clone();
        let choices = choices(module, id, &nests, written);
        out.push(Stage {
            id,
            name,
            copies,
            written,
            nests,
            choices,
            out_stream: None,
            in_streams: Vec::new(),
        });
    }
    widen_streams(module, &mut out);
    Some(out)
}
