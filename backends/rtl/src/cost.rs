//! What the sequential design (`kiln rtl --no-pipeline`) is made of, counted from the IR
//! the way this back end builds it and the way synthesis maps it to a 7-series fabric:
//! the RTL-specific resource figure that `kiln synth` and `kiln report --measured` set
//! beside yosys' counts (as the "no I/O" cycles are the RTL-specific cycle figure).
//!
//! `kiln report`'s estimate describes the HLS design (pipelined loops with their inner
//! loops unrolled, arrays over 1 Kbit in block RAM); the sequential RTL builds one
//! datapath per statement, its memories distributed RAM read combinationally or block
//! RAM read at the falling edge (bram.rs), so the two are different hardware. This model
//! counts the second:
//! - **Operators**, one per IR operator of each statement: a `W`-bit add, subtract,
//!   compare, select, `min`/`max` or bit operation `W` LUTs, where an operand built from
//!   counters and constants is only as wide as they are; an adder after a DSP48 product
//!   nothing (the DSP's post-adder, up to 48 bits); a conversion a rounding adder when it
//!   rounds fractional bits away and a multiplexer when it saturates a value that can
//!   leave its range (truncating and wrapping are wiring); a product the estimate puts
//!   in LUTs (an operand of 4 bits or fewer, [`kiln_passes::estimate::dsps_per_multiply`])
//!   `a · b` LUTs, any other one DSP48 per `25 x 18` bits (no INT8 pairing: two products
//!   never share one here); a divider `a · b` LUTs; a float operation its unit's
//!   measured LUTs and DSP48s (`float_unit`: an f32 adder 1,030 LUTs, multiplier 790 and
//!   2 DSP48s, divider 15,750; `-` and `abs` wiring).
//! - **Addresses**: each access's flat index is a sum of shifted counters (width.rs); a
//!   copy that starts above the sum so far is a concatenation, any other an adder from
//!   where they meet, about two LUTs for three adder bits (`adder_bits`); identical
//!   sums are built once.
//! - **Memories**: a written tensor of more than one element is distributed RAM:
//!   `ceil(n / 64) · R · ceil(W / 3)` RAM64M cells for `R` read ports (`R · ceil(W / 6)`
//!   RAM32M up to 32 words), 4 LUTs each, not in the LUT figure (yosys reports them
//!   apart), and past 64 words a read multiplexer of `W · ceil(2 · pieces / 5)` LUTs per
//!   port and a write decoder of one LUT per 64-word piece. Every load is a read port,
//!   and a callee's loads of a parameter are read ports of its caller's memory. A
//!   constant is a ROM in LUTs, `W · (ceil(n / 64) + ceil(n / 256))` per read past 64
//!   words, `W · ceil(n / 64)` below; one-element tensors are registers.
//!   A memory of more than 1 Kbit whose reads all have addresses from the counters is
//!   block RAM instead (bram.rs): per read port, the fewest RAMB18s of one aspect ratio
//!   that hold it (16K x 1 to 512 x 36; yosys' choice, a RAMB36 counting two), and when
//!   it is more than 8 blocks deep a multiplexer of `W · ceil(2 · deep / 3)` LUTs (up
//!   to 8, yosys selects among them with MUXF7/MUXF8 and cascades).
//! - **Control**: each loop counter an incrementer and a comparison (its bits, and a
//!   LUT per 4 of them); a multiplexer per extra writer of a register or of a memory's
//!   write port; 2 LUTs of next-state logic per FSM state.
//!
//! Each term was measured with yosys 0.23 `synth_xilinx -family xc7` on its own, then the
//! whole on the example networks and benchmark convolutions: DSP48 and distributed-RAM
//! cells exact, LUTs within 25% (README, "Estimate against Verilator and yosys";
//! docs/rtl-synthesis.md). yosys' own LUT counts differ from Vivado's.
//!
//! Before: conv_relu's `conv3x3_relu` (a 3x3 convolution over 8 channels, 8 x 8 x 3 x 3
//! two-bit weights, `--no-pipeline`). After: `operators 78, addresses 73, memories 8,
//! control 76` LUTs (235; yosys: 190), 0 DSP48, 3 RAMB18: x_buf (2592 x 8 bits, two)
//! and the weights (576 x 2 bits, one); before block RAM, 123 RAM64M cells and 209 LUTs
//! of read multiplexers.

use kiln_numeric::{FixedType, Overflow, Quant, ScalarType};
use kiln_passes::estimate::dsps_per_multiply;
use kiln_passes::ir::{
    Access, Affine, BinOp, Block, Expr, ExprId, Instance, InstanceId, Module, Node, Stmt, TensorId,
    TensorKind,
};
use std::collections::{HashMap, HashSet};

/// The resources of a sequential design, by where they go.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RtlCost {
    /// LUTs of the statements' operators.
    pub operators: u64,
    /// LUTs of the address adders.
    pub addresses: u64,
    /// LUTs of ROMs and of the read multiplexers of distributed RAMs.
    pub memories: u64,
    /// LUTs of counters, register multiplexers and the FSMs.
    pub control: u64,
    /// DSP48 slices.
    pub dsp: u64,
    /// Distributed-RAM cells (RAM64M).
    pub lutram: u64,
    /// Block RAM in RAMB18 equivalents (a RAMB36 is two).
    pub bram18: u64,
}

impl RtlCost {
    /// Every LUT of logic (distributed RAM cells apart).
    pub fn lut(&self) -> u64 {
        self.operators + self.addresses + self.memories + self.control
    }

    fn add(&mut self, o: &RtlCost) {
        self.operators += o.operators;
        self.addresses += o.addresses;
        self.memories += o.memories;
        self.control += o.control;
        self.dsp += o.dsp;
        self.lutram += o.lutram;
        self.bram18 += o.bram18;
    }
}

/// The cost of the design rooted at the module's entry: each instance once per call of
/// it (every call is a sub-module instance).
pub fn sequential_cost(module: &Module) -> Option<RtlCost> {
    let entry = module.entry?;
    let mut memo: HashMap<InstanceId, InstanceCost> = HashMap::new();
    Some(instance_cost(module, entry, &mut memo, 0).cost)
}

/// An instance's cost, with what it does to the memories its caller passes: the read
/// ports it makes on each parameter (inputs, then results) and whether it writes it.
#[derive(Clone, Debug, Default)]
struct InstanceCost {
    cost: RtlCost,
    param_reads: Vec<u64>,
    param_writes: Vec<bool>,
    /// Some read of the parameter has an address not settled by the falling edge
    /// (bram.rs): its caller's memory cannot be block RAM.
    param_late: Vec<bool>,
}

fn instance_cost(
    module: &Module,
    id: InstanceId,
    memo: &mut HashMap<InstanceId, InstanceCost>,
    depth: usize,
) -> InstanceCost {
    if let Some(c) = memo.get(&id) {
        return c.clone();
    }
    let inst = module.instance(id);
    let mut tally = Tally {
        inst,
        counters: crate::width::counters(inst),
        cost: RtlCost::default(),
        reads: HashMap::new(),
        late: HashSet::new(),
        stores: HashMap::new(),
        local_writes: HashMap::new(),
        states: 0,
        sums: HashSet::new(),
    };
    let mut subs = RtlCost::default();
    for n in inst.graph.node_indices() {
        match &inst.graph[n] {
            Node::Compute(c) => tally.block(&c.body),
            Node::Call(c) => {
                tally.states += 1;
                // Kernels do not recurse; the bound only keeps a malformed module finite.
                if depth >= 64 {
                    continue;
                }
                let sub = instance_cost(module, c.callee, memo, depth + 1);
                subs.add(&sub.cost);
                for (k, t) in c.args.iter().enumerate() {
                    *tally.reads.entry(*t).or_default() +=
                        sub.param_reads.get(k).copied().unwrap_or(0);
                    if sub.param_late.get(k).copied().unwrap_or(true) {
                        tally.late.insert(*t);
                    }
                }
                let ni = c.args.len();
                for (j, t) in c.results.iter().enumerate() {
                    if sub.param_writes.get(ni + j).copied().unwrap_or(true) {
                        *tally.stores.entry(*t).or_default() += 1;
                    }
                }
            }
            Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
        }
    }
    tally.finish();
    let params: Vec<TensorId> = inst.inputs.iter().chain(&inst.outputs).copied().collect();
    let mut cost = tally.cost;
    cost.add(&subs);
    let out = InstanceCost {
        cost,
        param_reads: params
            .iter()
            .map(|t| tally.reads.get(t).copied().unwrap_or(0))
            .collect(),
        param_writes: params
            .iter()
            .map(|t| tally.stores.contains_key(t))
            .collect(),
        param_late: params.iter().map(|t| tally.late.contains(t)).collect(),
    };
    memo.insert(id, out.clone());
    out
}

/// Bits of an address of `n` words.
fn addr_bits(n: usize) -> u64 {
    crate::module::addr_width(n.max(2)) as u64
}

/// What an instance's statements build, counted as they are walked.
struct Tally<'a> {
    inst: &'a Instance,
    counters: Vec<crate::width::Counter>,
    cost: RtlCost,
    /// Read ports of each tensor (a load each).
    reads: HashMap<TensorId, u64>,
    /// Tensors with a read at a data-dependent address (bram.rs).
    late: HashSet<TensorId>,
    /// Stores into each tensor.
    stores: HashMap<TensorId, u64>,
    /// States writing each local.
    local_writes: HashMap<u32, u64>,
    states: u64,
    /// The address sums built so far, with their widths.
    sums: HashSet<(Affine, u64)>,
}

impl Tally<'_> {
    fn block(&mut self, b: &Block) {
        for s in b {
            match s {
                Stmt::For(l) => {
                    // An incrementer and the comparison with the bound (4 bits a LUT).
                    let bits = self.counters.get(l.var.index()).map_or(32, |c| c.bits) as u64;
                    self.cost.control += bits + bits.div_ceil(4);
                    self.affine(&l.lo, bits);
                    self.affine(&l.hi, bits);
                    self.block(&l.body);
                }
                Stmt::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.states += 1;
                    self.expr(*cond);
                    self.block(then_block);
                    self.block(else_block);
                }
                Stmt::Assign { local, value, .. } => {
                    self.states += 1;
                    *self.local_writes.entry(local.0).or_default() += 1;
                    self.expr(*value);
                    self.convert_into(*value, &self.inst.local(*local).ty);
                }
                Stmt::Store { access, value, .. } => {
                    self.states += 1;
                    *self.stores.entry(access.tensor).or_default() += 1;
                    self.access(access);
                    self.expr(*value);
                    self.convert_into(*value, &self.inst.tensor(access.tensor).elem);
                }
                Stmt::Fail { .. } => self.states += 1,
                Stmt::Call(_) => self.states += 1,
            }
        }
    }

    /// The adders of an affine form at `bits`: its terms are the shifted copies of
    /// counters (width.rs), each occupying the bits from its shift up to the counter's
    /// width past it (up to `bits` when it may be negative or is subtracted), plus the
    /// constant's. Added from the lowest up, a term that starts above the sum so far is
    /// wiring (a concatenation), any other one an adder over the bits they share and
    /// above, one LUT a bit.
    fn affine(&mut self, a: &Affine, bits: u64) {
        // Synthesis merges identical sums (a copy loop's read and write addresses).
        let mut key = a.clone();
        key.terms.sort_unstable();
        if !self.sums.insert((key, bits)) {
            return;
        }
        let mut spans: Vec<(u64, u64)> = Vec::new();
        for &(v, c) in &a.terms {
            let counter = self.counters.get(v.index()).copied();
            for (sign, k) in crate::width::signed_shifts(c) {
                let top = match counter {
                    Some(cn) if cn.unsigned && sign > 0 => k as u64 + cn.bits as u64,
                    _ => bits,
                };
                spans.push((k as u64, top));
            }
        }
        if a.constant > 0 {
            let c = a.constant as u64;
            spans.push((c.trailing_zeros() as u64, 64 - c.leading_zeros() as u64));
        } else if a.constant < 0 {
            spans.push((a.constant.trailing_zeros() as u64, bits));
        }
        self.cost.addresses += adder_bits(spans, bits);
    }

    fn access(&mut self, a: &Access) {
        let tm = self.inst.tensor(a.tensor);
        let mut strides = vec![1i64; tm.shape.len()];
        for d in (0..tm.shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * tm.shape[d + 1] as i64;
        }
        let mut flat = Affine::constant(0);
        let bits = addr_bits(tm.len());
        for (d, ix) in a.index.iter().enumerate() {
            flat = flat.add_scaled(ix, strides[d]);
            if let Some(x) = a.dynamic_at(d) {
                // A data-dependent index part: its shifted copies are added too, over
                // the whole address.
                let spans = crate::width::signed_shifts(strides[d])
                    .map(|(_, k)| (k as u64, bits))
                    .chain(std::iter::once((0, bits)))
                    .collect();
                self.cost.addresses += adder_bits(spans, bits);
                self.expr(x);
            }
        }
        self.affine(&flat, bits);
    }

    /// The conversion of `value` into a local's or an element's type.
    fn convert_into(&mut self, value: ExprId, to: &ScalarType) {
        if let Some(from) = self.inst.expr_type(value) {
            self.cost.operators += conversion_luts(from, to);
        }
    }

    /// The bits of `e` that synthesis keeps: its type's, or fewer when its value is
    /// built from loop counters and constants (an index `i - 1` of a 32-bit type whose
    /// counter has 4 bits is a 5-bit subtraction once synthesis drops the copies of the
    /// sign).
    fn width(&self, e: ExprId) -> u64 {
        let typed = self.typed_width(e);
        let built = match self.inst.expr(e) {
            Expr::LoopVar(v) => self.counters.get(v.index()).map(|c| c.bits as u64 + 1),
            Expr::Const(kiln_passes::value::Value::Num(x)) => x
                .to_i64()
                .map(|v| 65 - v.unsigned_abs().leading_zeros() as u64),
            Expr::Binary(BinOp::Add | BinOp::Sub, a, b) => {
                Some(self.width(*a).max(self.width(*b)) + 1)
            }
            _ => None,
        };
        built.map_or(typed, |b| b.min(typed))
    }

    /// The bits of `e`'s type.
    fn typed_width(&self, e: ExprId) -> u64 {
        match self.inst.expr_type(e) {
            Some(ScalarType::Bin) => 1,
            Some(t) => t.storage_bits() as u64,
            None => 32,
        }
    }

    /// Whether `e` is a product built in a DSP48.
    fn on_dsp(&self, e: ExprId) -> bool {
        matches!(self.inst.expr(e), Expr::Binary(BinOp::Mul, a, b)
            if dsps_per_multiply(self.typed_width(*a) as u32, self.typed_width(*b) as u32) > 0.0)
    }

    fn expr(&mut self, e: ExprId) {
        let w = self.width(e);
        match self.inst.expr(e).clone() {
            Expr::Const(_) | Expr::Local(_) | Expr::LoopVar(_) => {}
            Expr::Load(a) => {
                *self.reads.entry(a.tensor).or_default() += 1;
                if !a.is_affine() {
                    self.late.insert(a.tensor);
                }
                self.access(&a);
            }
            Expr::Unary(_, a) => {
                self.expr(a);
                // A float's `-` and `abs` are its sign bit: wiring.
                if !self.inst.expr_type(a).is_some_and(|t| t.is_float()) {
                    self.cost.operators += w;
                }
            }
            Expr::Cast { to, arg } => {
                self.expr(arg);
                if let Some(from) = self.inst.expr_type(arg) {
                    self.cost.operators += conversion_luts(from, &to);
                }
            }
            Expr::Math { arg, .. } => {
                self.expr(arg);
                // Only `sqrt` of a float is built (float.rs).
                if let Some(t) = self.inst.expr_type(arg).filter(|t| t.is_float()) {
                    let (luts, dsp) = float_unit(FloatUnit::Sqrt, t);
                    self.cost.operators += luts;
                    self.cost.dsp += dsp;
                }
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
                self.cost.operators += w;
            }
            Expr::Binary(op, a, b) => {
                self.expr(a);
                self.expr(b);
                if let Some(t) = self.inst.expr_type(a).filter(|t| t.is_float()).copied() {
                    let unit = match op {
                        BinOp::Add | BinOp::Sub => FloatUnit::Add,
                        BinOp::Mul => FloatUnit::Mul,
                        BinOp::Div => FloatUnit::Div,
                        BinOp::Min | BinOp::Max => FloatUnit::MinMax,
                        _ => FloatUnit::Compare,
                    };
                    let (luts, dsp) = float_unit(unit, &t);
                    self.cost.operators += luts;
                    self.cost.dsp += dsp;
                    return;
                }
                let (wa, wb) = (self.width(a), self.width(b));
                match op {
                    BinOp::Mul => {
                        // The RTL decides LUTs or DSP48 from the operands' types (expr.rs).
                        let (ta, tb) = (self.typed_width(a), self.typed_width(b));
                        let d = dsps_per_multiply(ta as u32, tb as u32);
                        if d == 0.0 {
                            self.cost.operators += ta * tb;
                        } else {
                            self.cost.dsp += d.ceil() as u64;
                        }
                    }
                    // synth_xilinx packs an adder after a product into the DSP48's
                    // post-adder (48 bits).
                    BinOp::Add | BinOp::Sub if w <= 48 && (self.on_dsp(a) || self.on_dsp(b)) => {}
                    BinOp::Div | BinOp::FloorDiv | BinOp::Mod => self.cost.operators += wa * wb,
                    BinOp::And | BinOp::Or => {}
                    _ => self.cost.operators += wa.max(wb),
                }
            }
        }
    }

    /// Memories, register multiplexers and the FSM, once every statement is counted.
    fn finish(&mut self) {
        let inst = self.inst;
        let params: Vec<TensorId> = inst.inputs.iter().chain(&inst.outputs).copied().collect();
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            let n = tm.len() as u64;
            let w = tm.elem.storage_bits() as u64;
            let aw = addr_bits(tm.len());
            // Several stores share one write port (a parameter's, or the memory's)
            // through a multiplexer of the data and the address.
            let stores = self.stores.get(&t).copied().unwrap_or(0);
            self.cost.control += stores.saturating_sub(1) * (w + aw);
            if params.contains(&t) || n <= 1 || matches!(tm.kind, TensorKind::Input(_)) {
                continue;
            }
            let reads = self.reads.get(&t).copied().unwrap_or(0);
            let pieces = n.div_ceil(64);
            if reads > 0 && n * w > crate::bram::BLOCK_RAM_BITS && !self.late.contains(&t) {
                // Block RAM (bram.rs): a copy per read port (the write takes the other
                // port of each), and past 8 blocks deep a multiplexer of the blocks.
                let (blocks, deep) = crate::bram::blocks_per_copy(n, w);
                self.cost.bram18 += reads * blocks;
                if deep > 8 {
                    self.cost.memories += reads * w * (2 * deep).div_ceil(3);
                }
            } else if matches!(tm.kind, TensorKind::Const(_)) {
                // A ROM: LUT6s of 64 words per bit, and a multiplexer past 64 words.
                let mux = if pieces > 1 { n.div_ceil(256) } else { 0 };
                self.cost.memories += reads * w * (pieces + mux);
            } else if reads > 0 || stores > 0 {
                let ports = reads.max(1);
                self.cost.lutram += if n <= 32 {
                    ports * w.div_ceil(6) // RAM32M: 32 words x 6 bits
                } else {
                    pieces * ports * w.div_ceil(3) // RAM64M: 64 words x 3 bits
                };
                if pieces > 1 {
                    // Each read selects among the pieces; the write decodes which.
                    self.cost.memories += reads * w * (2 * pieces).div_ceil(5) + pieces;
                }
            }
        }
        for (l, k) in &self.local_writes {
            let w = inst.locals[*l as usize].ty.storage_bits() as u64;
            self.cost.control += k.saturating_sub(1) * w;
        }
        self.cost.control += 2 * self.states;
    }
}

// Not measured (yosys' `share` pass on the sequential f64 divider and on the roots did not
// finish in 25 minutes here): the f64 divider scaled from the f32 one by the square of
// the quotient's width (108 against 50 bits), the f32 root the LUTs of its first,
// multiplier-based version (3,861 with an adder and a multiplier beside it, ~2,030),
// the f64 root that scaled by its width.
const F64_DIV_LUTS: u64 = 73_000;
const F32_SQRT_LUTS: u64 = 2_000;
const F64_SQRT_LUTS: u64 = 8_500;
// Measured: f32 → fixed<16, 8, rnd, sat> 311 LUTs, fixed<16, 8> → f32 417, f64 → f32 908.
const F32_CONVERT_LUTS: u64 = 370;
const F64_CONVERT_LUTS: u64 = 910;

/// The float units of float.rs.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum FloatUnit {
    Add,
    Mul,
    Div,
    Sqrt,
    Compare,
    MinMax,
    /// A conversion to or from a float.
    Convert,
}

/// LUTs and DSP48s of a float unit of type `t` (f32 or f64), measured with yosys 0.23
/// `synth_xilinx -family xc7` on a `--no-pipeline` kernel of the one operation
/// (docs/rtl-synthesis.md, "Floats"; the constants above say which are not): each is
/// one combinational function, its rounding
/// a variable shifter and its leading-one search; the adder's alignment another shifter,
/// the divider a `2m + 4`-bit division, the root `m + 4` restoring steps.
fn float_unit(unit: FloatUnit, t: &ScalarType) -> (u64, u64) {
    let f64 = *t == ScalarType::F64;
    let bits = t.storage_bits() as u64;
    match (unit, f64) {
        (FloatUnit::Add, false) => (1_030, 0),
        (FloatUnit::Add, true) => (2_090, 0),
        (FloatUnit::Mul, false) => (790, 2),
        (FloatUnit::Mul, true) => (2_080, 12),
        (FloatUnit::Div, false) => (15_750, 0),
        (FloatUnit::Div, true) => (F64_DIV_LUTS, 0),
        (FloatUnit::Sqrt, false) => (F32_SQRT_LUTS, 0),
        (FloatUnit::Sqrt, true) => (F64_SQRT_LUTS, 0),
        // The ordering key of each operand and a comparison of them; a select after it.
        (FloatUnit::Compare, _) => (2 * bits, 0),
        (FloatUnit::MinMax, _) => (3 * bits, 0),
        (FloatUnit::Convert, false) => (F32_CONVERT_LUTS, 0),
        (FloatUnit::Convert, true) => (F64_CONVERT_LUTS, 0),
    }
}

/// LUTs of converting a `from` value to `to` (fixed.rs builds it): a rounding adder when
/// `to` rounds away fractional bits, a saturating multiplexer when `to` saturates and
/// `from` can leave its range; truncation and wrapping are wiring.
fn conversion_luts(from: &ScalarType, to: &ScalarType) -> u64 {
    if let Some(t) = [from, to].into_iter().find(|t| t.is_float()) {
        if from != to {
            return float_unit(FloatUnit::Convert, t).0;
        }
        return 0;
    }
    let (Some(ff), ScalarType::Fixed(t)) = (fixed_view(from), to) else {
        return 0;
    };
    let mut luts = 0;
    if t.quant != Quant::Trn && ff.frac_bits() > t.frac_bits() {
        luts += t.width as u64;
    }
    let saturates = t.overflow != Overflow::Wrap || t.sat_bits > 0;
    let leaves = match (ff.signed, t.signed) {
        (true, false) => true,
        (false, true) => ff.int_bits >= t.int_bits,
        _ => ff.int_bits > t.int_bits,
    };
    if saturates && leaves {
        luts += t.width as u64;
    }
    luts
}

/// An exact type as a fixed-point one (integers have no fractional bits).
fn fixed_view(t: &ScalarType) -> Option<FixedType> {
    match t {
        ScalarType::Fixed(f) => Some(*f),
        ScalarType::Int(i) => Some(i.as_fixed()),
        _ => None,
    }
}

/// LUTs of adding bit ranges `[lo, hi)` up (truncated to `bits`), lowest first: a range
/// above everything so far is a concatenation; any other one takes an adder from where
/// the two meet up to one bit past the higher of them. synth_xilinx sums several
/// operands at once (LUT6 and carry chains), about two LUTs for three such adder bits
/// (measured on address sums of 2 to 8 operands).
fn adder_bits(mut spans: Vec<(u64, u64)>, bits: u64) -> u64 {
    spans.retain(|&(lo, hi)| lo < bits && lo < hi);
    spans.sort_unstable();
    let mut sum: Option<(u64, u64)> = None;
    let mut luts = 0;
    for (lo, hi) in spans {
        let hi = hi.min(bits);
        sum = Some(match sum {
            None => (lo, hi),
            Some((slo, shi)) if lo >= shi => (slo, hi.max(shi)),
            Some((slo, shi)) => {
                let top = (shi.max(hi) + 1).min(bits);
                luts += top.saturating_sub(lo.max(slo));
                (slo.min(lo), top)
            }
        });
    }
    (2 * luts).div_ceil(3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_of_disjoint_bit_ranges_are_wiring() {
        // i + 8 * j with i < 8: a concatenation.
        assert_eq!(adder_bits(vec![(0, 3), (3, 6)], 6), 0);
        // Overlapping ranges take an adder from where they meet to one bit past the top:
        // 6 bits, two LUTs for three.
        assert_eq!(adder_bits(vec![(0, 4), (2, 6)], 8), 4);
        // Truncated to the address.
        assert_eq!(adder_bits(vec![(0, 8), (0, 8)], 4), 3);
        assert_eq!(adder_bits(Vec::new(), 8), 0);
    }

    #[test]
    fn conversions_cost_only_rounding_and_saturation() {
        let f = |w, i, q, o| {
            ScalarType::Fixed(FixedType {
                quant: q,
                overflow: o,
                ..FixedType::plain(w, i, true)
            })
        };
        let wide = f(20, 10, Quant::Trn, Overflow::Wrap);
        // Truncating and wrapping: wiring.
        assert_eq!(
            conversion_luts(&wide, &f(8, 4, Quant::Trn, Overflow::Wrap)),
            0
        );
        // Rounding: an adder; saturating: a multiplexer.
        assert_eq!(
            conversion_luts(&wide, &f(8, 4, Quant::Rnd, Overflow::Wrap)),
            8
        );
        assert_eq!(
            conversion_luts(&wide, &f(8, 4, Quant::Rnd, Overflow::Sat)),
            16
        );
        // Nothing to saturate when the value fits.
        let narrow = f(6, 3, Quant::Trn, Overflow::Wrap);
        assert_eq!(
            conversion_luts(&narrow, &f(8, 4, Quant::Trn, Overflow::Sat)),
            0
        );
    }
}
