//! Line buffers between the stages of a frame pipeline: a feature map that one stage
//! makes row by row and one stage reads row by row through a window (rows.rs) is held
//! as a ring of a few rows per image instead of the whole image, the RTL form of the
//! `stream` pass's line buffers and FIFOs (passes/src/ir/stage.rs).
//!
//! **Which feature maps.** A tensor of the top that the frame pipeline double-buffers
//! (frame.rs), made by one call whose row output it is, read by one call whose row input
//! it is through exactly one node (each call the only one of its instance in the
//! module), with its row loop outermost and one pass over the rows (a `rows::Gate`), window
//! `stride * q + lo ..= stride * q + hi`; the three shapes alike, the row dimension (1 of
//! `[C, H, W]`) not partitioned, and every access to it in both stages with an affine
//! row index. Its ring has `R` rows, the power of two at least `hi - lo + 1 + stride`
//! (the window, and the rows of the next output row, so that the producer computes them
//! while the consumer works on the current row), when that is less than `H`, and only
//! where it costs no throughput by the estimate ([`producer_stall`]).
//!
//! **Layout.** Row `h` of an image is kept in slot `h mod R`: the tensor is `[C, R, W]`
//! in the RTL's copy of the module ([`ringed`]), the top's memory holds two such images
//! (its halves, frame.rs), and both stages take the row index modulo `R` (its low bits)
//! in their addresses (expr.rs `address`, bank.rs `bank_access`).
//!
//! **Flow control.** The consumer tells the lowest row of its image it still needs,
//! `P_free`: `max(0, stride * q + lo)` in its row nest at row `q`, 0 before the nest, `H`
//! after it (until its `done`). The top gives the producer `P_room = free + R` when the
//! consumer works on the producer's image, `R` when it is still on the image before (the
//! other half). The producer holds in its row nest at row `p < H` while `p >= room`
//! (rows.rs, `rows_hold`): row `p` goes to the slot of row `p - R`, which the consumer no
//! longer reads. No deadlock: the consumer at row `q` waits only for rows up to
//! `stride * q + hi`, which is below `stride * q + lo + R` since `R > hi - lo`.
//!
//! Before (LeNet's first feature map, two whole images):
//! ```text
//! reg [3:0] t7_requantize_out_mem_b0 [0:3455]; // [6, 24, 24], 2 banks of 1728
//! ```
//! After (a ring of 4 rows a half; the max pool reads rows 2q, 2q+1):
//! ```text
//! reg [3:0] t7_requantize_out_mem_b0 [0:575];  // [6, 4, 24], 2 banks of 288
//! assign c0_p1_result_room = (c1_img == c0_img) ? (c1_p0_x_free + 32'd4) : 32'd4;
//! ```

use crate::rows::RowPorts;
use kiln_passes::ir::banking::Banking;
use kiln_passes::ir::{Expr, Instance, InstanceId, Module, Node, NodeId, Stmt, TensorId};
use std::collections::HashMap;

/// A tensor held as a ring of `rows` of its `full` rows along dimension `dim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ring {
    pub dim: usize,
    pub rows: usize,
    pub full: usize,
}

impl Ring {
    /// Bits of a slot number (`rows` is a power of two, at least 2).
    pub fn bits(&self) -> u32 {
        self.rows.trailing_zeros()
    }
}

/// The rings of a design: the top's tensors, and each stage's parameters.
#[derive(Clone, Debug, Default)]
pub struct Rings {
    pub top: HashMap<TensorId, Ring>,
    pub stages: HashMap<(InstanceId, TensorId), Ring>,
}

impl Rings {
    /// The rings among instance `id`'s tensors.
    pub fn of(&self, id: InstanceId, entry: InstanceId) -> HashMap<TensorId, Ring> {
        if id == entry {
            return self.top.clone();
        }
        self.stages
            .iter()
            .filter(|((i, _), _)| *i == id)
            .map(|((_, t), r)| (*t, *r))
            .collect()
    }
}

/// The rings of the frame pipeline of `module`'s entry; `ports` are the row ports of
/// its stages (rows.rs).
pub fn plan(
    module: &Module,
    entry: InstanceId,
    double: &std::collections::HashSet<TensorId>,
    ports: &HashMap<InstanceId, RowPorts>,
) -> Rings {
    let top = module.instance(entry);
    let calls = crate::frame::node_calls(top);
    let mut rings = Rings::default();
    // The estimate's cycles of each stage's nodes, and the slowest stage (the interval).
    let estimates = kiln_passes::estimate::estimate(module);
    let mut stage_cycles: HashMap<InstanceId, HashMap<NodeId, f64>> = HashMap::new();
    for c in &calls {
        match crate::rows::node_cycles(module, &estimates, c.callee) {
            Some(n) => {
                stage_cycles.insert(c.callee, n);
            }
            // No timing to judge a ring by: none.
            None => return rings,
        }
    }
    let interval = stage_cycles
        .values()
        .map(|n| n.values().sum::<f64>())
        .fold(0.0, f64::max);
    // A stage's module is built once for its instance: a ring in its parameter must be
    // the ring of every call of it, so only instances called once anywhere have one.
    let mut call_sites: HashMap<InstanceId, usize> = HashMap::new();
    for callee in module.instances.iter().flat_map(|inst| inst.callees()) {
        *call_sites.entry(callee).or_default() += 1;
    }
    let sites = |id: InstanceId| call_sites.get(&id).copied().unwrap_or(0);
    let mut ts: Vec<TensorId> = double.iter().copied().collect();
    ts.sort_by_key(|t| t.index());
    for t in ts {
        let tm = top.tensor(t);
        if tm.shape.len() != 3 || top.inputs.contains(&t) {
            continue;
        }
        let makers: Vec<_> = calls.iter().filter(|c| c.results.contains(&t)).collect();
        let readers: Vec<_> = calls.iter().filter(|c| c.args.contains(&t)).collect();
        let ([p], [c]) = (makers.as_slice(), readers.as_slice()) else {
            continue;
        };
        if c.args.iter().filter(|&&a| a == t).count() != 1
            || sites(p.callee) != 1
            || sites(c.callee) != 1
        {
            continue;
        }
        let (pi, ci) = (module.instance(p.callee), module.instance(c.callee));
        let Some(j) = p.results.iter().position(|&r| r == t) else {
            continue;
        };
        let Some(i) = c.args.iter().position(|&a| a == t) else {
            continue;
        };
        let (Some(&pt), Some(&ct)) = (pi.outputs.get(j), ci.inputs.get(i)) else {
            continue;
        };
        let (Some(pp), Some(cp)) = (ports.get(&p.callee), ports.get(&c.callee)) else {
            continue;
        };
        let Some(out) = pp.output.as_ref().filter(|o| o.tensor == pt) else {
            continue;
        };
        let Some(input) = cp.inputs.iter().find(|r| r.tensor == ct) else {
            continue;
        };
        let [g] = input.gates.as_slice() else {
            continue;
        };
        let full = tm.shape[1];
        if out.layout.order.is_some()
            || out.layout != input.layout
            || out.layout.rows != full
            || !g.outermost
            || g.passes != 1
            || g.stride < 1
            || g.hi < g.lo
        {
            continue;
        }
        let same_shape = pi.tensor(pt).shape == tm.shape && ci.tensor(ct).shape == tm.shape;
        let unpartitioned = [(top, t), (pi, pt), (ci, ct)]
            .iter()
            .all(|(inst, x)| row_unpartitioned(inst, *x));
        if !same_shape || !unpartitioned || !affine_rows(pi, pt) || !affine_rows(ci, ct) {
            continue;
        }
        let want = (g.hi - g.lo + 1 + g.stride) as usize;
        let rows = want.next_power_of_two().max(2);
        if rows >= full {
            continue;
        }
        let stall = producer_stall(
            module,
            (p.callee, out.node, &stage_cycles[&p.callee]),
            (c.callee, g.node, &stage_cycles[&c.callee]),
            g,
            rows,
            full,
        );
        let producer: f64 = stage_cycles[&p.callee].values().sum();
        if producer + stall > interval {
            continue;
        }
        let ring = Ring { dim: 1, rows, full };
        rings.top.insert(t, ring);
        rings.stages.insert((p.callee, pt), ring);
        rings.stages.insert((c.callee, ct), ring);
    }
    rings
}

/// The cycles an image the producer of a ring of `rows` rows (of `full`) waits for room
/// in steady state, by the estimate. Within a stage the nodes run one after another, so
/// the consumer takes the producer's next image only after it has finished this one:
/// the rows of its gate (the node that reads the ring) that wait for the producer's
/// last row (`tail`), its nodes after the gate (`b_c`), then its nodes before the gate
/// (`a_c`) and the gate rows that free the ring's first row (`first`), each gate row
/// `g_c / gate rows`. Meanwhile the producer can make the ring's rows of its next image,
/// after its own nodes before the row node (`a_p`), at `g_p / full` a row:
/// `max(0, tail + b_c + a_c + first - (a_p + rows * g_p / full))`. A ring is built only
/// when the producer's cycles plus this stay within the network's interval (the slowest
/// stage), so that it costs no throughput: digits_q_one's second pool feeding a padded
/// convolution (whose `xp` copy reads it, then convolves for 279 cycles) would go from
/// 642 to 771 cycles a result.
fn producer_stall(
    module: &Module,
    producer: (InstanceId, NodeId, &HashMap<NodeId, f64>),
    consumer: (InstanceId, NodeId, &HashMap<NodeId, f64>),
    gate: &crate::rows::Gate,
    rows: usize,
    full: usize,
) -> f64 {
    // The cycles of the stage's nodes before and after `node`, in schedule order.
    let around = |(id, node, cycles): (InstanceId, NodeId, &HashMap<NodeId, f64>)| {
        let (mut before, mut after, mut seen, mut at) = (0.0, 0.0, false, 0.0);
        for n in module.instance(id).schedule() {
            let Some(&w) = cycles.get(&n) else { continue };
            if n == node {
                seen = true;
                at = w;
            } else if seen {
                after += w;
            } else {
                before += w;
            }
        }
        (before, at, after)
    };
    let (a_p, g_p, _) = around(producer);
    let (a_c, g_c, b_c) = around(consumer);
    let gate_rows = gate.rows.max(1) as i64;
    let per_row = g_c / gate_rows as f64;
    // Gate rows `q` that need the producer's last row: `stride * q + hi >= full - 1`.
    let waiting = (full as i64 - 1 - gate.hi).max(0);
    let tail = (gate_rows - (waiting + gate.stride - 1) / gate.stride).clamp(0, gate_rows);
    // Gate rows before the one whose first row is past row 0: `stride * q + lo >= 1`.
    let first = ((1 - gate.lo).max(0) + gate.stride - 1) / gate.stride;
    let waits = (tail + first) as f64 * per_row + b_c + a_c;
    (waits - (a_p + rows as f64 * g_p / full as f64)).max(0.0)
}

/// Whether `t`'s row dimension (1) is not partitioned in `inst`.
fn row_unpartitioned(inst: &Instance, t: TensorId) -> bool {
    let tm = inst.tensor(t);
    match Banking::of(&tm.shape, &tm.partition) {
        Some(b) => b.dims.get(1).is_some_and(|d| d.kind.is_none()),
        None => true,
    }
}

/// Whether every access to `t` in `inst` has an affine row index (no data-dependent
/// part in dimension 1), and no call inside a node takes it.
fn affine_rows(inst: &Instance, t: TensorId) -> bool {
    let loads_ok = inst.exprs.iter().all(|e| match e {
        Expr::Load(a) if a.tensor == t => a.dynamic_at(1).is_none(),
        _ => true,
    });
    fn stores_ok(b: &[Stmt], t: TensorId) -> bool {
        b.iter().all(|s| match s {
            Stmt::For(l) => stores_ok(&l.body, t),
            Stmt::If {
                then_block,
                else_block,
                ..
            } => stores_ok(then_block, t) && stores_ok(else_block, t),
            Stmt::Store { access, .. } if access.tensor == t => access.dynamic_at(1).is_none(),
            // A callee would index the whole image.
            Stmt::Call(c) => !c.args.contains(&t) && !c.results.contains(&t),
            _ => true,
        })
    }
    loads_ok
        && inst.graph.node_weights().all(|n| match n {
            Node::Compute(c) => stores_ok(&c.body, t),
            Node::Call(c) => !c.args.contains(&t) && !c.results.contains(&t),
            _ => true,
        })
}

/// The RTL's copy of `module` with each ringed tensor `[C, H, W]` as `[C, R, W]`: the
/// memories, ports and banks the modules build for it are the ring's, while the
/// accesses still index rows `0..H` (the generator takes them modulo `R`).
pub fn ringed(module: &Module, rings: &Rings, entry: InstanceId) -> Module {
    let mut m = module.clone();
    let shrink = |inst: &mut Instance, t: TensorId, r: &Ring| {
        if let Some(tm) = inst.tensors.get_mut(t.index()) {
            tm.shape[r.dim] = r.rows;
        }
    };
    for (t, r) in &rings.top {
        shrink(m.instance_mut(entry), *t, r);
    }
    for ((id, t), r) in &rings.stages {
        shrink(m.instance_mut(*id), *t, r);
    }
    m
}
