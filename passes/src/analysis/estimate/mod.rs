//! Latency and resource estimates of a module's FPGA implementation (`kiln report`).
//!
//! A model, not synthesis: it follows how Vitis HLS builds loop nests so that schedules
//! can be compared and fitted to a device before running the vendor tools.
//! - **Cycles.** A statement takes the latency of its expression tree's critical path
//!   (loads 2, integer add/compare 1, DSP multiply 3, LUT multiply 1, divide W, f32 add 4,
//!   f32 multiply 3, f32 divide 10) plus 1 for its store. A plain loop runs its body
//!   `ceil(trips / unroll)` times plus one cycle per iteration for the loop control; a
//!   pipelined loop takes `(ceil(trips / unroll) - 1) * II + depth` with its inner loops
//!   unrolled (as Vitis does), the depth at least the iteration's off-chip port accesses
//!   (its last iteration moves them one a cycle too); a loop flattened into the loop around it (`fuse`, or
//!   the automatic schedule on a perfect nest) extends that pipeline: the pair takes
//!   `(outer trips * inner iterations - 1) * II + depth`; calls add the callee's cycles.
//!   Arrays no node touches (fused away) take no memory. A read-modify-write of a tensor
//!   at a data-dependent index (`hist[x[i]] += 1`) carries a dependence through memory:
//!   its pipeline has an II of at least 3 (load, update, store).
//! - **Ports.** A pipelined iteration's accesses are scheduled on the ports of what they
//!   access, as Vitis does (it relaxes the II and warns "limited memory ports"):
//!   - An off-chip port (an input or an output of the instance) moves one element per
//!     cycle, loads and stores alike: an array argument's default interface is a
//!     single-port RAM and a stream carries one value a cycle, so an iteration that makes
//!     k accesses to one port (k stores into one result included) has an II of at least
//!     k. A row stage's input line buffer counts as such a port, one access per bank of
//!     its channels per cycle. A weight read from DDR (the instance's `ddr_weights`)
//!     moves a word of [`DDR_WORD_BITS`] a cycle: k accesses take `ceil(k * bits / 512)`
//!     cycles, with `bits` the element's m_axi width.
//!   - A store into an on-chip array (a temporary, or a row stage's result row) takes
//!     one of its bank's two ports: a block RAM (and the LUT RAM Vitis builds) is dual
//!     ported, the rule the `banks` pass and the allocator's partitions use, so k stores
//!     into one bank need an II of at least ceil(k / 2) (a store whose bank the index
//!     does not prove counts on every bank; of the two branches of an `if`, the busier).
//!     An array of one element per bank is registers: no limit. Reads of on-chip arrays
//!     are not limited in the model: the allocation partitions the arrays its pipelines
//!     read (allocate/realize.rs) and the `banks` pass checks a written schedule's
//!     unrolled loops (E0514), but a pipelined iteration that reads one bank of an
//!     on-chip array more than twice is estimated faster than Vitis schedules it.
//!   - The last iteration too makes its port accesses one a cycle, so a pipeline's depth
//!     is at least their cycles. The RTL back end (docs/rtl.md) applies the same
//!     one-a-cycle rule to the memories of its parameters (one read and one write port
//!     per bank; a pipeline's stores share the write port by phase); its own memories are
//!     registers that take any number of accesses a cycle, so there it can beat this
//!     figure.
//! - **DSPs.** Per multiply, from its operand widths: products of 4 bits or fewer and
//!   binary XNORs go to LUTs; two products of at most 8 × 8 bits share one DSP48; up to
//!   18 × 25 bits take one; wider ones `ceil(a / 18) * ceil(b / 25)`. Copies made by
//!   unrolling (and by pipelining, for inner loops) multiply the count; a pipeline of
//!   II k shares each DSP among k multiplies (`ceil(count / k)` in halves of a DSP).
//! - **BRAM.** Each on-chip array (temporaries and constant tables) bank of more than
//!   1 Kbit takes `ceil(bits / 18 Kbit)` BRAM18 blocks (a complete partition of a
//!   dimension makes a bank per index of it); smaller banks go to LUTs, arrays of one
//!   element per bank to registers. Ports are off chip.
//! - **LUTs.** W per add, compare, select or min/max of width W, `a * b` per LUT
//!   multiply or divider, 64 bits per LUT for small arrays (LUTRAM). In a pipelined
//!   iteration, a read of a partitioned on-chip array whose bank moves with the loop
//!   counters (a sliding window's `x_buf[c, i + u, j + v]`) is a multiplexer over the
//!   banks it can reach ([`Banking::reach`](crate::ir::banking::Banking::reach)): two fifths of a LUT per input bit, plus a
//!   decode of 3.5 LUTs per reachable bank shared by the reads whose moving index is the
//!   same (one window position, every channel); a bank of an on-chip array that n > 1
//!   stores of one iteration reach (a padded buffer's row `xp[c, i, j]` filled element
//!   by element) has one write port whose address and data select among them, priced
//!   alike per input bit (n inputs of offset and element bits), when the iteration has
//!   at least n cycles (a LUT RAM bank takes one store a cycle; the RTL gives the stores
//!   phases); with fewer, the array is registers, [`REGISTER_ELEMENT_LUTS`] per element;
//!   and k accesses to one off-chip port take
//!   k phases, each an address multiplexer input and a phase decode
//!   ([`port_sequencing_luts`]). Registers (arrays partitioned down to single elements)
//!   and the rest of the control logic are not counted. The multiplexer and sequencing
//!   terms were fitted with yosys on the chained benchmark convolutions and digits_q_one
//!   (docs/rtl-synthesis.md).
//!
//! Before: the IR of `for i in 0..32: for k in 0..8: acc += x[i, k] * w[k]` (8-bit).
//! After: loop `i` 32 trips, 32 * (8 * (2 + 3 + 1 + 1) + 1) cycles, 0.5 DSP.

use crate::ir::{
    BinOp, Block, Expr, ExprId, Instance, InstanceId, Loop, Module, Node, PartitionKind, Stmt,
    TensorKind, UnOp,
};
use kiln_numeric::ScalarType;

/// The initiation interval of a pipeline around a read-modify-write of a tensor at a
/// data-dependent index.
const SCATTER_II: u64 = 3;

/// Whether `b` stores into a tensor at a data-dependent index and also reads that tensor.
fn scatter_update(inst: &Instance, b: &Block) -> bool {
    let (reads, _) = crate::ir::block_accesses(inst, b);
    let mut found = false;
    crate::ir::walk_stmts(b, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            found |= !access.is_affine() && reads.contains(&access.tensor);
        }
    });
    found
}

/// The trips of an unrolled loop `l` whose bounds, with the variables of `env`
/// substituted, are a constant apart (`None` otherwise).
fn unrolled_trips(l: &Loop, env: &[(crate::ir::LoopVarId, crate::ir::Affine)]) -> Option<i64> {
    let d = subst(&l.hi, env)
        .add_scaled(&subst(&l.lo, env), -1)
        .as_constant()?;
    let step = l.step;
    Some(if step > 0 && d > 0 {
        (d + step - 1) / step
    } else if step < 0 && d < 0 {
        (-d - step - 1) / -step
    } else {
        0
    })
}

/// `a` with the variables of `env` replaced by their affine forms.
fn subst(
    a: &crate::ir::Affine,
    env: &[(crate::ir::LoopVarId, crate::ir::Affine)],
) -> crate::ir::Affine {
    let mut out = crate::ir::Affine::constant(a.constant);
    for &(v, c) in &a.terms {
        match env.iter().rev().find(|(w, _)| *w == v) {
            Some((_, f)) => out = out.add_scaled(f, c),
            None => out = out.add_scaled(&crate::ir::Affine::var(v), c),
        }
    }
    out
}

pub use crate::target::{device, Device, DEVICES};
pub use muxes::port_sequencing_luts;

mod banks;
mod muxes;

/// DSP48 blocks for one multiply of an `a`-bit by a `b`-bit operand (see the module doc).
pub fn dsps_per_multiply(a: u32, b: u32) -> f64 {
    let (a, b) = (a.max(b), a.min(b));
    if b <= 4 || a <= 1 {
        0.0
    } else if a <= 8 {
        0.5
    } else if a <= 25 && b <= 18 {
        1.0
    } else {
        (a.div_ceil(25) * b.div_ceil(18)) as f64
    }
}

/// DSPs left when `dsp` multiplies' worth of DSPs is shared by a pipeline of initiation
/// interval `ii`, in halves of a DSP (two 8-bit products share one).
pub fn share(dsp: f64, ii: u64) -> f64 {
    if ii <= 1 {
        return dsp;
    }
    (dsp * 2.0 / ii as f64).ceil() / 2.0
}

/// Resources of a piece of hardware.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Resources {
    pub dsp: f64,
    pub bram18: u64,
    pub lut: u64,
}

impl Resources {
    pub fn add(&mut self, o: Resources) {
        self.dsp += o.dsp;
        self.bram18 += o.bram18;
        self.lut += o.lut;
    }

    pub fn times(self, k: u64) -> Resources {
        Resources {
            dsp: self.dsp * k as f64,
            bram18: self.bram18 * k,
            lut: self.lut * k,
        }
    }
}

/// One loop of the report.
#[derive(Clone, Debug)]
pub struct LoopEstimate {
    /// Nesting depth (0: outermost in its node).
    pub depth: usize,
    pub var: String,
    pub trips: u64,
    pub pipeline_ii: Option<u32>,
    pub unroll: Option<u32>,
    /// Merged into the loop around it (`LOOP_FLATTEN`).
    pub flatten: bool,
    /// When the loop runs as one pipeline (pipelined, or flattened around a pipeline):
    /// its II and the pipeline's iterations.
    pub pipeline: Option<(u64, u64)>,
    pub cycles: u64,
    pub res: Resources,
}

/// One node (a loop nest, or a call).
#[derive(Clone, Debug)]
pub struct NodeEstimate {
    pub name: String,
    pub cycles: u64,
    pub res: Resources,
    pub loops: Vec<LoopEstimate>,
    /// The callee, for a call.
    pub callee: Option<InstanceId>,
}

/// One kernel instance.
#[derive(Clone, Debug)]
pub struct InstanceEstimate {
    pub name: String,
    pub cycles: u64,
    /// Compute resources (loop nests and callees) plus on-chip arrays.
    pub res: Resources,
    pub nodes: Vec<NodeEstimate>,
}

/// Estimates every instance reachable from the entry (callees first).
pub fn estimate(module: &Module) -> Vec<(InstanceId, InstanceEstimate)> {
    let mut done: Vec<(InstanceId, InstanceEstimate)> = Vec::new();
    if let Some(entry) = module.entry {
        visit(module, entry, &mut done);
    }
    done
}

/// Estimates one instance (and its callees): a dataflow stage on its own (the
/// allocation's cost model, transform/allocate/).
pub fn estimate_instance(module: &Module, id: InstanceId) -> InstanceEstimate {
    let mut done = Vec::new();
    visit(module, id, &mut done);
    done.into_iter()
        .find(|(d, _)| *d == id)
        .map(|(_, e)| e)
        .expect("visit estimates the instance it is given")
}

/// BRAM and LUTRAM of an instance's constant tables (weights) alone, and their bits.
pub fn const_memory(inst: &Instance) -> (Resources, u64) {
    let bits = inst
        .tensors
        .iter()
        .enumerate()
        .filter(|(i, t)| {
            matches!(t.kind, TensorKind::Const(_))
                && touched(inst).contains(&crate::ir::TensorId(*i as u32))
        })
        .map(|(_, t)| t.len() as u64 * t.elem.storage_bits() as u64)
        .sum();
    (
        arrays_where(
            inst,
            &|_, t| matches!(t.kind, TensorKind::Const(_)),
            &Default::default(),
        ),
        bits,
    )
}

/// The data width of the m_axi ports that read weights from DDR (`max_widen_bitwidth` of
/// their interface pragma): a cycle moves one word of this many bits, consecutive
/// elements each in its m_axi element width ([`ddr_element_bits`]).
pub const DDR_WORD_BITS: u64 = 512;

/// The bits an element of `elem` takes in DDR behind an m_axi port: its width rounded up
/// to 8, 16, 32 or 64 bits.
pub fn ddr_element_bits(elem: &kiln_numeric::ScalarType) -> u64 {
    (elem.storage_bits() as u64).div_ceil(8).next_power_of_two() * 8
}

/// BRAM and LUTRAM of the on-chip arrays `tensors` of `inst` (the tiles of weights read
/// from DDR, say).
pub fn arrays_of(inst: &Instance, tensors: &[crate::ir::TensorId]) -> Resources {
    arrays_where(inst, &|id, _| tensors.contains(&id), &Default::default())
}

/// The tensors some node of `inst` reads or writes.
fn touched(inst: &Instance) -> std::collections::HashSet<crate::ir::TensorId> {
    let mut used = std::collections::HashSet::new();
    for n in inst.graph.node_weights() {
        match n {
            Node::Compute(c) => used.extend(c.reads.iter().chain(&c.writes).copied()),
            Node::Call(c) => used.extend(c.args.iter().chain(&c.results).copied()),
            _ => {}
        }
    }
    used
}

fn visit(m: &Module, id: InstanceId, done: &mut Vec<(InstanceId, InstanceEstimate)>) {
    if done.iter().any(|(d, _)| *d == id) {
        return;
    }
    for callee in m.instance(id).callees() {
        visit(m, callee, done);
    }
    let est = instance(m, id, done);
    done.push((id, est));
}

fn instance(
    m: &Module,
    id: InstanceId,
    done: &[(InstanceId, InstanceEstimate)],
) -> InstanceEstimate {
    let inst = m.instance(id);
    let mut nodes = Vec::new();
    let mut cycles: u64 = 0;
    let mut res = Resources::default();
    let fifos = inst.dataflow_streams();
    let mut multi_stored = std::collections::BTreeSet::new();
    for n in inst.schedule() {
        match &inst.graph[n] {
            Node::Compute(c) => {
                let mut e = Est {
                    inst,
                    loops: Vec::new(),
                    callees: done,
                    var_ranges: vec![None; inst.loop_vars.len()],
                    multi_stored: Default::default(),
                };
                let (cy, r) = e.block(&c.body, 0, &mut Vec::new());
                multi_stored.append(&mut e.multi_stored);
                cycles = cycles.saturating_add(cy);
                res.add(r);
                nodes.push(NodeEstimate {
                    name: c.name.clone(),
                    cycles: cy,
                    res: r,
                    loops: e.loops,
                    callee: None,
                });
            }
            Node::Call(c) => {
                let callee = done.iter().find(|(d, _)| *d == c.callee).map(|(_, e)| e);
                let (cy, r) = callee.map(|e| (e.cycles, e.res)).unwrap_or_default();
                let cy = cy + frame_stage_io(m, inst, c, &fifos);
                cycles = cycles.saturating_add(cy);
                res.add(r);
                nodes.push(NodeEstimate {
                    name: m.instance(c.callee).name.clone(),
                    cycles: cy,
                    res: r,
                    loops: Vec::new(),
                    callee: Some(c.callee),
                });
            }
            _ => {}
        }
    }
    if let Some(io) = row_stage_io(inst) {
        cycles = cycles.saturating_add(io);
        nodes.push(NodeEstimate {
            name: "stream I/O".to_string(),
            cycles: io,
            res: Resources::default(),
            loops: Vec::new(),
            callee: None,
        });
    }
    res.add(arrays_where(inst, &|_, _| true, &multi_stored));
    InstanceEstimate {
        name: inst.name.clone(),
        cycles,
        res,
        nodes,
    }
}

/// The cycles a row stage (ir/stage.rs) spends moving values in and out, one stream word
/// (V values of a pixel, ir/mod.rs) per cycle:
/// each input image read row by row into its line buffer and the result sent row by row,
/// in between the rows it computes (backends/hls/src/kernel/rows.rs), so they add to its
/// interval. `None` for an instance that is not a row stage.
pub fn row_stage_io(inst: &Instance) -> Option<u64> {
    let plan = inst.stage.as_ref()?.rows()?;
    let inputs: u64 = plan
        .buffers
        .iter()
        .filter(|b| inst.inputs.contains(&b.tensor))
        .map(|b| words(inst.tensor(b.tensor)))
        .sum();
    Some(inputs + words(inst.tensor(plan.output)))
}

/// The words a stream carries of a tensor: its values over its stream width (ir/mod.rs,
/// "Stream words"), one word a cycle.
pub fn words(t: &crate::ir::Tensor) -> u64 {
    (t.len() as u64).div_ceil(t.stream_width.max(1) as u64)
}

/// The cycles a whole-frame stage of a dataflow top spends copying its FIFOs (`fifos`)
/// into and out of its frames, one stream word per cycle, before and after it computes; a row
/// stage counts its own ([`row_stage_io`]).
pub fn frame_stage_io(
    m: &Module,
    top: &Instance,
    call: &crate::ir::Call,
    fifos: &std::collections::HashSet<crate::ir::TensorId>,
) -> u64 {
    if m.instance(call.callee)
        .stage
        .as_ref()
        .and_then(|p| p.rows())
        .is_some()
    {
        return 0;
    }
    // A value-by-value stage reads its input inside its loops (ir/stage.rs,
    // `AccumulatePlan`): only its other streams are copied.
    let callee = m.instance(call.callee);
    let by_value = callee
        .stage
        .as_ref()
        .and_then(|p| p.accumulate())
        .filter(|p| p.built)
        .and_then(|p| callee.inputs.iter().position(|&i| i == p.input))
        .and_then(|k| call.args.get(k).copied());
    call.args
        .iter()
        .chain(&call.results)
        .filter(|t| fifos.contains(t) && Some(**t) != by_value)
        .map(|&t| words(top.tensor(t)))
        .sum()
}

/// LUTs per element of a small array built from registers because a pipelined iteration
/// stores into one of its banks more often than it has cycles (a LUT RAM bank takes one
/// store a cycle; the RTL gives the stores of a longer iteration phases): the
/// element's write enable (its offset and bank decoded for each store that can reach
/// it), the multiplexer of its writers' data, and its share of each bank read port's
/// multiplexer over the bank's elements. Fitted with yosys 0.23 on the two convolutions
/// of digits_q_one as the RTL built them before it gave such stores phases (a row of
/// `xp`, ten and six stores, in one cycle: four and two stores a bank): 559 LUTs for
/// 144 elements of 8 bits and 1,301 for 288 of 4 bits, against the same designs with
/// one store a bank (docs/rtl-synthesis.md, "Pipelined designs against the estimate").
const REGISTER_ELEMENT_LUTS: u64 = 4;

/// BRAM, LUT RAM and register LUTs of the on-chip arrays of `inst` that `keep` accepts;
/// `multi_stored`: the arrays a pipelined iteration stores into more often in one bank
/// than it has cycles.
fn arrays_where(
    inst: &Instance,
    keep: &dyn Fn(crate::ir::TensorId, &crate::ir::Tensor) -> bool,
    multi_stored: &std::collections::BTreeSet<crate::ir::TensorId>,
) -> Resources {
    let mut r = Resources::default();
    // Tensors no node touches (fused away) take no memory.
    let used = touched(inst);
    for (i, t) in inst.tensors.iter().enumerate() {
        let id = crate::ir::TensorId(i as u32);
        if !used.contains(&id) || !keep(id, t) {
            continue;
        }
        let on_chip = match t.kind {
            TensorKind::Const(_) => true,
            TensorKind::Temp => !inst.outputs.contains(&id) && !t.shape.is_empty(),
            TensorKind::Input(_) => false,
        };
        if !on_chip {
            continue;
        }
        // Banks: a complete partition makes one per element of its dimension.
        let banks: u64 = t
            .partition
            .iter()
            .map(|p| match p.kind {
                PartitionKind::Complete => t.shape.get(p.dim).copied().unwrap_or(1) as u64,
                _ => p.factor.max(1) as u64,
            })
            .product::<u64>()
            .max(1);
        // A row stage holds its images as line buffers (ir/stage.rs).
        let len = match inst
            .stage
            .as_ref()
            .and_then(|p| p.rows())
            .and_then(|p| p.rows_of(id))
        {
            Some(rows) if t.shape.len() == 3 => t.shape[0] * rows * t.shape[2],
            // A FIFO between dataflow stages holds its depth (in words of
            // `stream_width` values).
            _ => t.stream_depth.map_or(t.len(), |d| {
                (d as usize)
                    .saturating_mul(t.stream_width.max(1) as usize)
                    .min(t.len())
            }),
        };
        if banks >= len as u64 {
            continue; // one element per bank: registers
        }
        // Saturating: a tensor of 2^62 elements must give a huge figure, not a panic.
        let bits = (len as u64).saturating_mul(t.elem.storage_bits() as u64);
        let per_bank = bits.div_ceil(banks);
        if per_bank > 1024 {
            r.bram18 = r
                .bram18
                .saturating_add(banks.saturating_mul(per_bank.div_ceil(18 * 1024)));
        } else if multi_stored.contains(&id) {
            // Registers: a LUT RAM bank has one write port.
            r.lut = r
                .lut
                .saturating_add((len as u64).saturating_mul(REGISTER_ELEMENT_LUTS));
        } else {
            // LUTRAM, 64 bits per LUT.
            r.lut = r
                .lut
                .saturating_add(banks.saturating_mul(per_bank.div_ceil(64)));
        }
    }
    r
}

struct Est<'a> {
    inst: &'a Instance,
    loops: Vec<LoopEstimate>,
    /// Estimates of the callees of calls inside loops.
    callees: &'a [(InstanceId, InstanceEstimate)],
    /// The values each loop variable (by `LoopVarId`) holds inside its loop, for the
    /// loops around the statement being estimated (`None` outside, or not known).
    var_ranges: Vec<Option<(i64, i64)>>,
    /// The on-chip arrays a pipelined iteration stores into more often in one bank than
    /// it has cycles (`port_mux_luts`): registers.
    multi_stored: std::collections::BTreeSet<crate::ir::TensorId>,
}

impl Est<'_> {
    /// Cycles and resources of a block run in order; `ranges` holds the value ranges of
    /// the enclosing loop variables (for bounds that depend on them).
    fn block(
        &mut self,
        b: &Block,
        depth: usize,
        ranges: &mut Vec<(u32, i64, i64)>,
    ) -> (u64, Resources) {
        let mut cycles: u64 = 0;
        let mut res = Resources::default();
        for s in b {
            let (c, r) = self.stmt(s, depth, ranges);
            cycles = cycles.saturating_add(c);
            res.add(r);
        }
        (cycles, res)
    }

    fn stmt(
        &mut self,
        s: &Stmt,
        depth: usize,
        ranges: &mut Vec<(u32, i64, i64)>,
    ) -> (u64, Resources) {
        match s {
            Stmt::For(l) => self.for_loop(l, depth, ranges),
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                let (cc, cr) = self.expr(*cond);
                let (tc, tr) = self.block(then_block, depth, ranges);
                let (ec, er) = self.block(else_block, depth, ranges);
                let mut r = cr;
                r.add(tr);
                r.add(er);
                (cc + tc.max(ec) + 1, r)
            }
            Stmt::Fail { .. } => (0, Resources::default()),
            // A call runs the callee's function each time (one instance of its hardware).
            Stmt::Call(c) => self
                .callees
                .iter()
                .find(|(d, _)| *d == c.callee)
                .map(|(_, e)| (e.cycles, e.res))
                .unwrap_or_default(),
            Stmt::Assign { value, .. } => {
                let (c, r) = self.expr(*value);
                (c + 1, r)
            }
            Stmt::Store { value, .. } => {
                let (c, r) = self.expr(*value);
                (c + 1, r)
            }
        }
    }

    /// The iterations of `l` with its enclosing loop variables in `ranges`, computed in
    /// 128 bits (bounds near the ends of an i64 span more than an i64) and saturating.
    fn trips(&self, l: &Loop, ranges: &[(u32, i64, i64)]) -> u64 {
        let bound = |a: &crate::ir::Affine, hi: bool| -> i128 {
            let mut v = i128::from(a.constant);
            for &(var, c) in &a.terms {
                let (lo_v, hi_v) = ranges
                    .iter()
                    .find(|r| r.0 == var.0)
                    .map(|r| (r.1, r.2))
                    .unwrap_or((0, 0));
                let at = if (c > 0) == hi { hi_v } else { lo_v };
                v = v.saturating_add(i128::from(c).saturating_mul(i128::from(at)));
            }
            v
        };
        let step = i128::from(l.step.unsigned_abs().max(1));
        // Bounds a constant apart (the inner loop of a split): exact.
        let width = if l.step > 0 {
            l.hi.checked_add_scaled(&l.lo, -1)
        } else {
            l.lo.checked_add_scaled(&l.hi, -1)
        };
        let span = match width.and_then(|w| w.as_constant()) {
            Some(w) => i128::from(w),
            None if l.step > 0 => bound(&l.hi, true).saturating_sub(bound(&l.lo, false)),
            None => bound(&l.lo, true).saturating_sub(bound(&l.hi, false)),
        };
        let n = span.max(0).saturating_add(step - 1) / step;
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    fn for_loop(
        &mut self,
        l: &Loop,
        depth: usize,
        ranges: &mut Vec<(u32, i64, i64)>,
    ) -> (u64, Resources) {
        let trips = self.trips(l, ranges);
        let slot = self.loops.len();
        self.loops.push(LoopEstimate {
            depth,
            var: self.inst.loop_vars[l.var.index()].name.clone(),
            trips,
            pipeline_ii: l.directives.pipeline_ii,
            unroll: l.directives.unroll,
            flatten: l.directives.flatten,
            pipeline: None,
            cycles: 0,
            res: Resources::default(),
        });
        let (lo, hi) = (
            l.lo.as_constant().unwrap_or(0),
            l.hi.as_constant().unwrap_or(trips as i64),
        );
        ranges.push((l.var.0, lo.min(hi), lo.max(hi)));
        let outer_range = self.var_ranges.get(l.var.index()).copied().flatten();
        let held = self.held(l);
        if let Some(r) = self.var_ranges.get_mut(l.var.index()) {
            *r = held;
        }
        let copies = match l.directives.unroll {
            Some(0) => trips.max(1),
            Some(f) => (f as u64).clamp(1, trips.max(1)),
            None => 1,
        };
        let iters = trips.div_ceil(copies);
        let (cycles, res) = if let Some(ii) = l.directives.pipeline_ii {
            // Inner loops are unrolled completely: one iteration's depth, their copies.
            let (depth_cycles, body_res) = self.unrolled(&l.body, ranges);
            // An off-chip port moves one element per cycle: an iteration that reads or
            // writes a port k times cannot start more often than every k cycles.
            let port_cycles = self.port_accesses(&l.body, ranges).saturating_mul(copies);
            // An on-chip bank takes two stores a cycle (its two ports).
            let stores = self.store_banks(&l.body);
            let port_cycles = port_cycles.max(stores.cycles);
            let mut ii = (ii as u64).max(port_cycles);
            // A read-modify-write at a data-dependent index (`hist[x[i]] += 1`): the next
            // iteration may read what this one writes, so it waits for the load (2), the
            // update and the store.
            if scatter_update(self.inst, &l.body) {
                ii = ii.max(SCATTER_II.saturating_mul(copies));
            }
            // The arrays one of whose banks may take several stores an iteration: their
            // write ports, or registers (`port_mux_luts`).
            let shared: Vec<crate::ir::TensorId> =
                stores.per_bank.iter().map(|&(t, _)| t).collect();
            let c = if iters == 0 {
                0
            } else {
                // Saturating: loops of 2^40 trips and more give a huge figure, not a panic.
                // The last iteration too moves its port values one a cycle, however
                // short its datapath.
                (iters - 1)
                    .saturating_mul(ii)
                    .saturating_add(depth_cycles.max(port_cycles))
                    .saturating_add(1)
            };
            self.loops[slot].pipeline = Some((ii, iters));
            // A pipeline that starts an iteration every `ii` cycles shares each DSP
            // among `ii` of its multiplies (Vitis binds operations of different cycles of
            // the schedule to one unit); LUT operators are not shared (their multiplexers
            // would cost as much).
            let mut r = body_res.times(copies);
            r.dsp = share(r.dsp, ii);
            let (mux, registers) = self.port_mux_luts(&l.body, &shared, ii);
            self.multi_stored.extend(registers);
            let seq = self.port_sequencing_luts(&l.body, ranges, copies);
            r.lut = r
                .lut
                .saturating_add(mux.saturating_mul(copies))
                .saturating_add(seq);
            (c, r)
        } else {
            let (body_cycles, body_res) = self.block(&l.body, depth + 1, ranges);
            match (l.body.as_slice(), self.loops[slot + 1..].first()) {
                // A flattened inner loop that runs as one pipeline: the pipeline now
                // covers both loops, filled and drained once instead of once per outer
                // iteration.
                ([Stmt::For(inner)], Some(est))
                    if inner.directives.flatten && copies == 1 && iters > 0 =>
                {
                    match est.pipeline {
                        Some((ii, n)) => {
                            self.loops[slot].pipeline = Some((ii, iters.saturating_mul(n)));
                            (
                                body_cycles.saturating_add(
                                    (iters - 1).saturating_mul(n).saturating_mul(ii),
                                ),
                                body_res,
                            )
                        }
                        None => (
                            iters.saturating_mul(body_cycles.saturating_add(1)),
                            body_res,
                        ),
                    }
                }
                _ => (
                    iters.saturating_mul(body_cycles.saturating_add(1)),
                    body_res.times(copies),
                ),
            }
        };
        ranges.pop();
        if let Some(r) = self.var_ranges.get_mut(l.var.index()) {
            *r = outer_range;
        }
        self.loops[slot].cycles = cycles;
        self.loops[slot].res = res;
        (cycles, res)
    }

    /// The values `l`'s variable holds while its body runs, from its bounds' ranges over
    /// the loops around it (`None` when one is not known or the loop runs no iteration).
    fn held(&self, l: &Loop) -> Option<(i64, i64)> {
        let (lo, hi) = (l.lo.range(&self.var_ranges)?, l.hi.range(&self.var_ranges)?);
        let r = if l.step > 0 {
            (lo.0, hi.1.checked_sub(1)?)
        } else {
            (hi.0.checked_add(1)?, lo.1)
        };
        (r.0 <= r.1).then_some(r)
    }

    /// The most accesses one pass of `b` (inner loops unrolled) makes to one off-chip
    /// port (an input, or an output of the instance).
    fn port_accesses(&self, b: &Block, ranges: &mut Vec<(u32, i64, i64)>) -> u64 {
        let mut counts: std::collections::HashMap<crate::ir::TensorId, u64> =
            std::collections::HashMap::new();
        self.count_ports(b, 1, ranges, &mut counts);
        // A row stage's input is a line buffer: banked along its channels (a KPF or
        // channels-a-cycle of kpf.rs), its accesses spread over the banks.
        let plan = self.inst.stage.as_ref().and_then(|p| p.rows());
        for (t, n) in counts.iter_mut() {
            // Weights read from DDR come in m_axi words of DDR_WORD_BITS (the copies of
            // their tiles read consecutive elements, transform/allocate/tiles.rs).
            if self
                .inst
                .ddr_weights
                .iter()
                .any(|&(p, _)| self.inst.inputs.get(p) == Some(t))
            {
                let bits = ddr_element_bits(&self.inst.tensor(*t).elem);
                *n = n.saturating_mul(bits).div_ceil(DDR_WORD_BITS);
                continue;
            }
            if plan.and_then(|p| p.rows_of(*t)).is_none() {
                continue;
            }
            let tm = self.inst.tensor(*t);
            let banks: u64 = tm
                .partition
                .iter()
                .filter(|p| p.dim == 0)
                .map(|p| match p.kind {
                    PartitionKind::Complete => tm.shape[0] as u64,
                    PartitionKind::Cyclic => p.factor.max(1) as u64,
                    PartitionKind::Block => 1,
                })
                .product::<u64>()
                .max(1);
            *n = n.div_ceil(banks);
        }
        counts.values().copied().max().unwrap_or(0)
    }

    fn count_ports(
        &self,
        b: &Block,
        times: u64,
        ranges: &mut Vec<(u32, i64, i64)>,
        counts: &mut std::collections::HashMap<crate::ir::TensorId, u64>,
    ) {
        // In a row stage, the streamed result is a row buffer on chip (banked by a KPF,
        // kpf.rs) and a scalar argument is a value the stage holds in a register.
        let plan = self.inst.stage.as_ref().and_then(|p| p.rows());
        let row_result = plan.filter(|p| !p.flat_output).map(|p| p.output);
        let port = |t: crate::ir::TensorId| {
            (matches!(self.inst.tensor(t).kind, TensorKind::Input(_))
                || self.inst.outputs.contains(&t))
                && row_result != Some(t)
                && !(plan.is_some() && self.inst.tensor(t).shape.is_empty())
        };
        for s in b {
            match s {
                Stmt::For(l) => {
                    let n = self.trips(l, ranges).max(1);
                    ranges.push((l.var.0, 0, n as i64));
                    self.count_ports(&l.body, times.saturating_mul(n), ranges, counts);
                    ranges.pop();
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    self.count_ports(then_block, times, ranges, counts);
                    self.count_ports(else_block, times, ranges, counts);
                }
                _ => {}
            }
            for r in crate::ir::stmt_roots(s) {
                let mut loads = Vec::new();
                self.inst.loads_in(r, &mut loads);
                for a in loads.into_iter().filter(|a| port(a.tensor)) {
                    *counts.entry(a.tensor).or_insert(0) += times;
                }
            }
            if let Stmt::Store { access, .. } = s {
                if port(access.tensor) {
                    *counts.entry(access.tensor).or_insert(0) += times;
                }
            }
        }
    }

    /// A block with every loop in it unrolled: the latency of one pass (loops in parallel)
    /// and the resources of all copies.
    fn unrolled(&mut self, b: &Block, ranges: &mut Vec<(u32, i64, i64)>) -> (u64, Resources) {
        let mut cycles: u64 = 0;
        let mut res = Resources::default();
        for s in b {
            match s {
                Stmt::For(l) => {
                    let trips = self.trips(l, ranges);
                    ranges.push((l.var.0, 0, trips as i64));
                    let (c, r) = self.unrolled(&l.body, ranges);
                    ranges.pop();
                    // A reduction over the copies adds a tree of log2(trips) levels.
                    cycles = cycles.saturating_add(c + (64 - trips.max(1).leading_zeros() as u64));
                    res.add(r.times(trips.max(1)));
                }
                s => {
                    let (c, r) = self.stmt(s, 0, ranges);
                    cycles = cycles.saturating_add(c);
                    res.add(r);
                }
            }
        }
        (cycles, res)
    }

    fn width(&self, e: ExprId) -> u32 {
        match self.inst.expr_type(e) {
            Some(ScalarType::Bin) => 1,
            Some(t) => t.storage_bits(),
            None => 32,
        }
    }

    /// Latency of an expression's critical path, and the resources of its operators.
    fn expr(&self, e: ExprId) -> (u64, Resources) {
        let ty = self.inst.expr_type(e).copied();
        let float = ty.is_some_and(|t| t.is_float());
        let double = ty == Some(ScalarType::F64);
        let w = self.width(e) as u64;
        match self.inst.expr(e) {
            Expr::Const(_) | Expr::Local(_) | Expr::LoopVar(_) => (0, Resources::default()),
            Expr::Load(_) => (2, Resources::default()),
            Expr::Unary(op, a) => {
                let (c, mut r) = self.expr(*a);
                if float {
                    return (c + usize::from(*op == UnOp::Neg) as u64, r);
                }
                r.lut += w;
                (c + 1, r)
            }
            Expr::Math { arg, .. } => {
                // A double-precision function unit (hls_math): latency and area of a
                // small core.
                let (c, mut r) = self.expr(*arg);
                r.dsp += 8.0;
                r.lut += 1500;
                (c + 30, r)
            }
            Expr::Cast { arg, .. } => {
                let (c, mut r) = self.expr(*arg);
                let from_float = self.inst.expr_type(*arg).is_some_and(|t| t.is_float());
                if float != from_float {
                    r.lut += 200; // a float conversion unit
                    return (c + 4, r);
                }
                r.lut += w / 2;
                (c + 1, r)
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let (c0, mut r) = self.expr(*cond);
                let (c1, r1) = self.expr(*then);
                let (c2, r2) = self.expr(*otherwise);
                r.add(r1);
                r.add(r2);
                r.lut += w;
                (c0.max(c1).max(c2) + 1, r)
            }
            Expr::Binary(op, a, b) => {
                let (ca, ra) = self.expr(*a);
                let (cb, rb) = self.expr(*b);
                let mut r = ra;
                r.add(rb);
                let before = ca.max(cb);
                let (wa, wb) = (self.width(*a), self.width(*b));
                let lat = match op {
                    // Single- and double-precision cores (double: dmul, dadd, ddiv).
                    BinOp::Mul if float => {
                        r.dsp += if double { 11.0 } else { 3.0 };
                        if double {
                            6
                        } else {
                            3
                        }
                    }
                    BinOp::Add | BinOp::Sub if float => {
                        r.dsp += if double { 3.0 } else { 2.0 };
                        if double {
                            5
                        } else {
                            4
                        }
                    }
                    BinOp::Div if float => {
                        r.lut += if double { 3000 } else { 800 };
                        if double {
                            30
                        } else {
                            10
                        }
                    }
                    BinOp::Pow => {
                        // A double-precision pow unit, as a math function's.
                        r.dsp += 8.0;
                        r.lut += 1500;
                        30
                    }
                    BinOp::Mul => {
                        let d = dsps_per_multiply(wa, wb);
                        if d == 0.0 {
                            r.lut += (wa * wb) as u64;
                            1
                        } else {
                            r.dsp += d;
                            3
                        }
                    }
                    BinOp::Div | BinOp::FloorDiv | BinOp::Mod => {
                        r.lut += (wa * wb) as u64;
                        w.max(1)
                    }
                    BinOp::And | BinOp::Or => 0,
                    _ => {
                        r.lut += wa.max(wb) as u64;
                        1
                    }
                };
                (before + lat, r)
            }
        }
    }
}

/// The report `kiln report` prints: per kernel, per node and loop, with the device's
/// utilization.
pub fn report(module: &Module, dev: &Device, clock_ns: f64) -> String {
    use std::fmt::Write;
    let est = estimate(module);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "device {} ({}): {} DSP, {} BRAM18, {} LUT; clock {clock_ns} ns",
        dev.part, dev.board, dev.dsp, dev.bram18, dev.lut
    );
    for (id, e) in &est {
        let top = module.entry == Some(*id);
        let _ = writeln!(
            s,
            "\n{}{}: {} cycles ({:.3} ms), {} DSP, {} BRAM18, {} LUT",
            if top { "top " } else { "" },
            e.name,
            e.cycles,
            e.cycles as f64 * clock_ns * 1e-6,
            fmt_dsp(e.res.dsp),
            e.res.bram18,
            e.res.lut
        );
        for n in &e.nodes {
            let kind = if n.callee.is_some() { "call " } else { "" };
            let _ = writeln!(
                s,
                "  {kind}{}: {} cycles, {} DSP",
                n.name,
                n.cycles,
                fmt_dsp(n.res.dsp)
            );
            for l in &n.loops {
                let mut how = String::new();
                if l.flatten {
                    how.push_str(", flattened");
                }
                if let Some(ii) = l.pipeline_ii {
                    // The II the model reaches (ports and memory dependences limit it).
                    match l.pipeline {
                        Some((got, _)) if got != ii as u64 => {
                            let _ = write!(how, ", pipeline II={got} (asked {ii})");
                        }
                        _ => {
                            let _ = write!(how, ", pipeline II={ii}");
                        }
                    }
                }
                match l.unroll {
                    Some(0) => how.push_str(", unrolled"),
                    Some(f) => {
                        let _ = write!(how, ", unroll {f}");
                    }
                    None => {}
                }
                let _ = writeln!(
                    s,
                    "    {}loop {}: {} trips{how}, {} cycles, {} DSP",
                    "  ".repeat(l.depth),
                    l.var,
                    l.trips,
                    l.cycles,
                    fmt_dsp(l.res.dsp)
                );
            }
        }
        if top {
            // A network of calls runs as a DATAFLOW pipeline (backends/hls): a new input
            // can start once the slowest stage is free.
            let calls: Vec<&NodeEstimate> = e.nodes.iter().filter(|n| n.callee.is_some()).collect();
            if !module.instance(*id).dataflow_streams().is_empty() {
                if let Some(slowest) = calls.iter().max_by_key(|n| n.cycles) {
                    let _ = writeln!(
                        s,
                        "  dataflow: a new input every {} cycles (the slowest stage, {}); the latency of one image is the layer pipeline's, below",
                        slowest.cycles, slowest.name
                    );
                }
            }
            let pct = |u: f64, of: u32| 100.0 * u / of as f64;
            let _ = writeln!(
                s,
                "\nutilization of {}: DSP {:.1}%, BRAM18 {:.1}%, LUT {:.1}%{}",
                dev.part,
                pct(e.res.dsp, dev.dsp),
                pct(e.res.bram18 as f64, dev.bram18),
                pct(e.res.lut as f64, dev.lut),
                if e.res.dsp > dev.dsp as f64
                    || e.res.bram18 > dev.bram18 as u64
                    || e.res.lut > dev.lut as u64
                {
                    " (does not fit)"
                } else {
                    ""
                }
            );
        }
    }
    s
}

fn fmt_dsp(d: f64) -> String {
    if d.fract() == 0.0 {
        format!("{d:.0}")
    } else {
        format!("{d:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsps_follow_operand_widths() {
        assert_eq!(dsps_per_multiply(1, 1), 0.0); // binary XNOR
        assert_eq!(dsps_per_multiply(4, 4), 0.0);
        assert_eq!(dsps_per_multiply(8, 3), 0.0);
        assert_eq!(dsps_per_multiply(8, 8), 0.5);
        assert_eq!(dsps_per_multiply(16, 16), 1.0);
        assert_eq!(dsps_per_multiply(25, 18), 1.0);
        assert_eq!(dsps_per_multiply(32, 32), 4.0);
    }

    #[test]
    fn devices_by_part_prefix() {
        assert_eq!(device("xczu9eg-ffvb1156-2-e").map(|d| d.dsp), Some(2520));
        assert_eq!(device("xc7z020clg400-1").map(|d| d.bram18), Some(280));
        assert!(device("xc9unknown").is_none());
    }
}
