//! SIMD code for loops whose iterations are independent (outer-loop vectorization).
//!
//! Cranelift does not vectorize, so kiln does. A loop qualifies when its iterations touch
//! disjoint elements of every tensor they write, share no scalar state, and every access
//! that depends on the loop variable is proven in bounds and contiguous in it. Its body
//! then runs `VF` iterations at once (16 lanes, 8 with 64-bit values): values that depend
//! on the loop variable become lanes in 128-bit registers (i8x16, i16x8, i32x4, i64x2,
//! f32x4), as many registers as their width needs, widened and narrowed between types
//! exactly like the scalar code changes containers; values that do not depend on it stay
//! scalar. Inner loops (reductions) stay loops, so every lane sums in program order: f32
//! results are bit-identical to the scalar code, and the extra registers of a wide
//! accumulator are the register blocking.
//!
//! Before (one output per iteration):
//! ```text
//! for j in 0..56:
//!   acc: f32 = 0.0
//!   for c in 0..64: acc = acc + x[c, j] * w[c]
//!   y[j] = acc
//! ```
//! After (16 outputs per iteration, four f32x4 accumulators, and a last group that
//! overlaps the previous one instead of a scalar remainder):
//! ```text
//! for j0 in 0..56 step 16 (the last one at 40):
//!   acc[0..4] = splat 0.0
//!   for c in 0..64: w_c = splat w[c]; acc[r] = acc[r] + load x[c, j0 + 4r ..] * w_c
//!   store y[j0 ..] = acc[0..4]
//! ```
//!
//! Code is emitted speculatively: if a construct turns out to have no SIMD form, the
//! partial code is left unreachable and the loop is emitted as scalar code.

use crate::arith::{plan_fixed, plan_int, Lane};
use crate::codegen::{common_rep, float_cc, int_cc, int_ty, Gen, Rep, Unsupported, R};
use crate::layout::store_of;
use crate::locals::LocalPlans;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, ConstantData, Endianness, InstBuilder, MemFlagsData, TrapCode, Type, Value as CValue,
};
use cranelift_frontend::Variable;
use kiln_numeric::{Fx, Interval, ScalarType};
use kiln_passes::ir::*;
use std::collections::{HashMap, HashSet};

/// Decides and emits SIMD loops for one node.
pub struct Vectorizer<'a> {
    node: &'a Block,
}

impl<'a> Vectorizer<'a> {
    pub fn new(node: &'a Block) -> Vectorizer<'a> {
        Vectorizer { node }
    }

    /// Emits `l` with SIMD and returns `true`, or emits nothing and returns `false`.
    pub fn try_loop(&mut self, g: &mut Gen, l: &Loop) -> R<bool> {
        // Binary dot products stay scalar (popcount over packed words, bindot.rs).
        if g.bindots.inside(&l.body) {
            return Ok(false);
        }
        let (plan, reduction) = match plan(g.inst, &g.lplans, self.node, l) {
            Some(p) => (p, None),
            None => match reduction_plan(g.inst, &g.lplans, l) {
                Some((p, r)) => (p, Some(r)),
                None => return Ok(false),
            },
        };
        // Speculative emission: the vector code starts in a block nothing jumps to yet.
        let decide = g.b.create_block();
        g.b.ins().jump(decide, &[]);
        let start = g.b.create_block();
        let first_new = g.b.func.dfg.num_blocks();
        g.b.switch_to_block(start);
        let active = g.active.len();
        let mut em = Emitter {
            plan: &plan,
            vlocals: HashMap::new(),
        };
        let emitted = match reduction {
            Some(r) => em.emit_reduction(g, l, &r),
            None => em.emit_loop(g, l),
        };
        match emitted {
            Ok(()) => {
                let after = g.b.current_block().expect("in a block");
                g.b.switch_to_block(decide);
                g.b.seal_block(decide);
                g.b.ins().jump(start, &[]);
                g.b.seal_block(start);
                g.b.switch_to_block(after);
                Ok(true)
            }
            Err(VErr::Fatal(u)) => Err(u),
            Err(VErr::Abandon(_why)) => {
                g.active.truncate(active);
                // Abandoning happens mid-block, before any terminator; blocks made for
                // code not emitted yet get a terminator too (the verifier wants every
                // referenced block in the layout). All of it stays unreachable.
                let trap = TrapCode::user(1).expect("a user trap code");
                g.b.ins().trap(trap);
                for id in first_new..g.b.func.dfg.num_blocks() {
                    let blk = cranelift_codegen::ir::Block::from_u32(id as u32);
                    if !g.b.func.layout.is_block_inserted(blk) {
                        g.b.switch_to_block(blk);
                        g.b.ins().trap(trap);
                    }
                }
                g.b.seal_block(start);
                g.b.switch_to_block(decide);
                g.b.seal_block(decide);
                Ok(false)
            }
        }
    }
}

/// Why vector emission stopped.
enum VErr {
    /// No SIMD form: emit the loop as scalar code instead.
    Abandon(&'static str),
    /// A construct no code can be made for (the scalar code would fail the same way).
    Fatal(Unsupported),
}

impl From<Unsupported> for VErr {
    fn from(u: Unsupported) -> Self {
        VErr::Fatal(u)
    }
}

type VR<T> = Result<T, VErr>;

fn abandon<T>(why: &'static str) -> VR<T> {
    Err(VErr::Abandon(why))
}

/// What the legality check found.
struct Plan {
    var: LoopVarId,
    vf: u32,
    /// Expressions whose value depends on the loop variable.
    varying: HashSet<ExprId>,
    varying_locals: HashSet<LocalId>,
    /// Whether re-running an iteration changes nothing (no tensor is both read and
    /// written), so the last group of lanes may overlap the previous one.
    overlap: bool,
}

/// A reduction loop: `acc = acc ± other` alone in its body, on an accumulator whose
/// sums are exact in any order (inferred, or lazily wrapped: locals.rs).
struct Reduction {
    acc: LocalId,
    other: ExprId,
    subtract: bool,
}

/// Checks that `l` is a reduction with a SIMD form (partial sums in lanes, added up
/// after the loop: integer sums may be reassociated, f32 ones may not).
fn reduction_plan(inst: &Instance, lplans: &LocalPlans, l: &Loop) -> Option<(Plan, Reduction)> {
    let [Stmt::Assign { local, value, .. }] = l.body.as_slice() else {
        return None;
    };
    if l.step != 1 || has_data_dependent_access(inst, &l.body) || can_fail(&l.body) {
        return None;
    }
    let Rep::Exact { bits, .. } = lplans.storage(inst, *local)? else {
        return None;
    };
    let acc = match lplans.accumulation(*value) {
        Some(a) => a,
        None if !inst.local(*local).declared => {
            crate::locals::accumulation_of(inst, *local, *value)?
        }
        None => return None,
    };
    let mut varying = HashSet::new();
    if bits > 64 || !mark(inst, acc.other, l.var, &HashSet::new(), &mut varying) {
        return None;
    }
    let mut reads_acc = false;
    for &e in &varying {
        reads_acc |= matches!(inst.expr(e), Expr::Local(x) if x == local);
    }
    let (lo_bits, hi_bits, loads) = lanes_supported(inst, &varying, l.var)?;
    if reads_acc || !loads {
        return None;
    }
    let vf = vector_factor(l, lo_bits.min(bits), hi_bits.max(bits))?;
    let plan = Plan {
        var: l.var,
        vf,
        varying,
        varying_locals: HashSet::new(),
        overlap: false,
    };
    Some((
        plan,
        Reduction {
            acc: *local,
            other: acc.other,
            subtract: acc.subtract,
        },
    ))
}

/// Whether `block` holds a `Fail` statement.
fn can_fail(block: &Block) -> bool {
    let mut found = false;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        found |= matches!(s, Stmt::Fail { .. });
    });
    found
}

/// Every loop variable of loops inside `block`.
fn inner_loop_vars(block: &Block) -> HashSet<LoopVarId> {
    let mut out = HashSet::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            out.insert(l.var);
        }
    });
    out
}

/// Whether evaluating `e` can neither fail nor read out of bounds.
fn safe(inst: &Instance, e: ExprId) -> bool {
    match inst.expr(e) {
        Expr::Load(a) if a.checked || a.guarded => false,
        Expr::Binary(BinOp::Div | BinOp::FloorDiv | BinOp::Mod, _, b)
            if !matches!(inst.expr_type(*b), Some(ScalarType::F32))
                && inst.expr_ranges[b.index()]
                    .as_ref()
                    .is_none_or(|r| r.contains_zero()) =>
        {
            false
        }
        other => expr_operands(other).into_iter().all(|o| safe(inst, o)),
    }
}

/// Lane bits of a value of type `t` in SIMD code (`None`: no SIMD form).
fn lane_bits(t: &ScalarType) -> Option<u32> {
    match Rep::of(t)? {
        Rep::Bool => Some(8),
        Rep::F32 => Some(32),
        Rep::Exact { bits, .. } => (bits <= 64).then_some(bits),
    }
}

/// Checks that `l` can run as SIMD code and chooses the vector factor.
fn plan(inst: &Instance, lplans: &LocalPlans, node: &Block, l: &Loop) -> Option<Plan> {
    // Gathers and scatters have no SIMD form here (SSE has no gather); nor has a run
    // that can stop.
    if l.step != 1 || has_data_dependent_access(inst, &l.body) || can_fail(&l.body) {
        return None;
    }
    let var = l.var;
    let inner = inner_loop_vars(&l.body);
    // Written tensors: each store free of inner loop variables and contiguous in the loop
    // variable; stores of one tensor at one index, or at indices that differ by a nonzero
    // constant in a dimension the loop variable does not index (rows of a register
    // block), so iterations write disjoint elements. A load of a written tensor reads
    // exactly what its own iteration stores.
    let mut stores: Vec<Access> = Vec::new();
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            if !stores
                .iter()
                .any(|a| a.index == access.index && a.tensor == access.tensor)
            {
                stores.push(access.clone());
            }
        }
    });
    for (n, a) in stores.iter().enumerate() {
        let contiguous = contiguous(a, var);
        let free = a
            .index
            .iter()
            .all(|ix| ix.terms.iter().all(|(v, _)| !inner.contains(v)));
        if !contiguous || !free || a.checked {
            return None;
        }
        for b in stores[..n].iter().filter(|b| b.tensor == a.tensor) {
            if !apart(a, b, var) {
                return None;
            }
        }
    }
    let mut loads: Vec<&Access> = Vec::new();
    fn collect<'x>(inst: &'x Instance, e: ExprId, out: &mut Vec<&'x Access>) {
        if let Expr::Load(a) = inst.expr(e) {
            out.push(a);
        }
        for o in expr_operands(inst.expr(e)) {
            collect(inst, o, out);
        }
    }
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            collect(inst, r, &mut loads);
        }
    });
    let mut overlap = true;
    for a in &loads {
        let of_tensor: Vec<&Access> = stores.iter().filter(|s| s.tensor == a.tensor).collect();
        if !of_tensor.is_empty() {
            overlap = false;
            if !of_tensor.iter().any(|st| st.index == a.index) {
                return None;
            }
        }
    }
    // Scalars: private to an iteration, and not read after the loop.
    if !crate::analysis::locals_private(inst, &l.body) {
        return None;
    }
    let mut assigned = HashSet::new();
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Assign { local, .. } = s {
            assigned.insert(*local);
        }
    });
    if reads_outside(inst, node, l, &assigned) {
        return None;
    }
    // Which values depend on the loop variable (locals to a fixed point).
    let mut varying_locals = HashSet::new();
    let mut varying = HashSet::new();
    loop {
        varying.clear();
        let before = varying_locals.len();
        walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
            for r in stmt_roots(s) {
                mark(inst, r, var, &varying_locals, &mut varying);
            }
            if let Stmt::Assign { local, value, .. } = s {
                if varying.contains(value) {
                    varying_locals.insert(*local);
                }
            }
        });
        if varying_locals.len() == before {
            break;
        }
    }
    // Every construct has a SIMD form.
    let mut min_bits = u32::MAX;
    let mut max_bits = 0;
    let mut any_vector_access = !stores.is_empty();
    let mut fine = true;
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| match s {
        Stmt::For(inner) => {
            fine &= inner.lo.coeff(var) == 0 && inner.hi.coeff(var) == 0;
        }
        Stmt::If { cond, .. } => fine &= !varying.contains(cond),
        _ => {}
    });
    let (lo_bits, hi_bits, loads) = lanes_supported(inst, &varying, var)?;
    min_bits = min_bits.min(lo_bits);
    max_bits = max_bits.max(hi_bits);
    any_vector_access |= loads;
    for &lv in &varying_locals {
        let bits = rep_bits(lplans.storage(inst, lv)?);
        if bits > 64 {
            return None;
        }
        min_bits = min_bits.min(bits);
        max_bits = max_bits.max(bits);
    }
    for a in &stores {
        let bits = lane_bits(&inst.tensor(a.tensor).elem)?;
        min_bits = min_bits.min(bits);
        max_bits = max_bits.max(bits);
    }
    if !fine || !any_vector_access || max_bits == 0 {
        return None;
    }
    let mut vf = vector_factor(l, min_bits, max_bits)?;
    // Register pressure: the varying locals updated inside inner loops (accumulators)
    // live in registers across those loops (x86-64 has 16 vector registers); halve the
    // lanes while their registers exceed 10. Locals assigned outside inner loops are
    // short-lived temporaries.
    let mut in_loops = HashSet::new();
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, outer| {
        if let Stmt::Assign { local, .. } = s {
            if !outer.is_empty() {
                in_loops.insert(*local);
            }
        }
    });
    let local_bits: u32 = varying_locals
        .iter()
        .filter(|lv| in_loops.contains(*lv))
        .filter_map(|&lv| lplans.storage(inst, lv).map(rep_bits))
        .sum();
    while vf > 4 && local_bits * vf > 10 * 128 && vf * min_bits > 32 {
        vf /= 2;
    }
    Some(Plan {
        var,
        vf,
        varying,
        varying_locals,
        overlap,
    })
}

/// Whether every varying expression has a SIMD form: lane widths up to 64 bits,
/// contiguous loads proven in bounds, no division, uniform shift amounts, and operands
/// evaluated unconditionally that cannot fail. Returns the narrowest and widest lane bits
/// and whether a varying load exists.
fn lanes_supported(
    inst: &Instance,
    varying: &HashSet<ExprId>,
    var: LoopVarId,
) -> Option<(u32, u32, bool)> {
    let (mut min_bits, mut max_bits, mut loads) = (u32::MAX, 0, false);
    for &e in varying {
        let bits = lane_bits(inst.expr_type(e)?)?;
        min_bits = min_bits.min(bits);
        max_bits = max_bits.max(bits);
        let fine = match inst.expr(e) {
            Expr::Load(a) => {
                loads = true;
                !a.checked && contiguous(a, var)
            }
            Expr::Binary(BinOp::Div | BinOp::FloorDiv | BinOp::Mod, ..) => false,
            // A call per element: no SIMD form.
            Expr::Math { .. } => false,
            Expr::Binary(BinOp::Shl | BinOp::Shr, _, b) => !varying.contains(b),
            Expr::Binary(BinOp::And | BinOp::Or, _, b) => safe(inst, *b),
            Expr::Select {
                then, otherwise, ..
            } => safe(inst, *then) && safe(inst, *otherwise),
            _ => true,
        };
        if !fine {
            return None;
        }
    }
    Some((min_bits, max_bits, loads))
}

/// Lanes per group: 16 (8 with 64-bit values), fewer for short constant loops; `None`
/// when the loop is too short or a partial register would hold less than 32 bits.
fn vector_factor(l: &Loop, min_bits: u32, max_bits: u32) -> Option<u32> {
    let mut vf = if max_bits <= 32 { 16 } else { 8 };
    if let (Some(lo), Some(hi)) = (l.lo.as_constant(), l.hi.as_constant()) {
        while vf > 4 && (hi - lo) < vf as i64 {
            vf /= 2;
        }
        if hi - lo < vf as i64 {
            return None;
        }
    }
    (vf * min_bits >= 32).then_some(vf)
}

/// Whether two stores of one tensor never write the same element for any values of
/// `var`: some dimension that `var` does not index differs by a nonzero constant.
fn apart(a: &Access, b: &Access, var: LoopVarId) -> bool {
    a.index.iter().zip(&b.index).any(|(x, y)| {
        let d = x.add_scaled(y, -1);
        x.coeff(var) == 0 && d.as_constant().is_some_and(|c| c != 0)
    })
}

/// Whether the access depends on `var` only through its last index, with coefficient 1.
fn contiguous(a: &Access, var: LoopVarId) -> bool {
    let Some((last, rest)) = a.index.split_last() else {
        return false;
    };
    last.coeff(var) == 1 && rest.iter().all(|ix| ix.coeff(var) == 0)
}

/// Marks the expressions under `e` that depend on `var`; returns whether `e` does.
fn mark(
    inst: &Instance,
    e: ExprId,
    var: LoopVarId,
    vlocals: &HashSet<LocalId>,
    out: &mut HashSet<ExprId>,
) -> bool {
    let mut v = match inst.expr(e) {
        Expr::LoopVar(x) => *x == var,
        Expr::Local(l) => vlocals.contains(l),
        Expr::Load(a) => a.index.iter().any(|ix| ix.coeff(var) != 0),
        _ => false,
    };
    for o in expr_operands(inst.expr(e)) {
        v |= mark(inst, o, var, vlocals, out);
    }
    if v {
        out.insert(e);
    }
    v
}

/// Whether a local of `locals` is read in the node outside the loop `l`.
fn reads_outside(inst: &Instance, node: &Block, l: &Loop, locals: &HashSet<LocalId>) -> bool {
    fn reads(inst: &Instance, e: ExprId, locals: &HashSet<LocalId>) -> bool {
        matches!(inst.expr(e), Expr::Local(x) if locals.contains(x))
            || expr_operands(inst.expr(e))
                .into_iter()
                .any(|o| reads(inst, o, locals))
    }
    fn walk(inst: &Instance, b: &Block, l: &Loop, locals: &HashSet<LocalId>) -> bool {
        b.iter().any(|s| match s {
            Stmt::For(x) if std::ptr::eq(x, l) => false,
            Stmt::For(x) => walk(inst, &x.body, l, locals),
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                reads(inst, *cond, locals)
                    || walk(inst, then_block, l, locals)
                    || walk(inst, else_block, l, locals)
            }
            Stmt::Assign { value, .. } | Stmt::Store { value, .. } => reads(inst, *value, locals),
            Stmt::Fail { .. } => false,
        })
    }
    walk(inst, node, l, locals)
}

/// A value in SIMD code.
#[derive(Clone)]
enum V {
    /// The same in every lane: scalar code.
    U(CValue, Rep),
    /// `VF` lanes of `rep` in registers.
    L(Vec<CValue>, Rep),
    /// `VF` lane masks (all ones: true) of `bits`-bit lanes.
    M(Vec<CValue>, u32),
}

/// Opens `while var < hi` with `var = lo`: returns its head and exit blocks, with the
/// builder in the body (which must advance `var`, then call [`close_loop`]).
fn open_loop(
    g: &mut Gen,
    var: Variable,
    lo: CValue,
    hi: CValue,
) -> (cranelift_codegen::ir::Block, cranelift_codegen::ir::Block) {
    g.b.def_var(var, lo);
    let head = g.b.create_block();
    let body = g.b.create_block();
    let exit = g.b.create_block();
    g.b.ins().jump(head, &[]);
    g.b.switch_to_block(head);
    let j = g.b.use_var(var);
    let go = g.b.ins().icmp(IntCC::SignedLessThan, j, hi);
    g.b.ins().brif(go, body, &[], exit, &[]);
    g.b.switch_to_block(body);
    g.b.seal_block(body);
    (head, exit)
}

/// Ends a loop [`open_loop`] opened; the builder continues after it.
fn close_loop(g: &mut Gen, head: cranelift_codegen::ir::Block, exit: cranelift_codegen::ir::Block) {
    g.b.ins().jump(head, &[]);
    g.b.seal_block(head);
    g.b.switch_to_block(exit);
    g.b.seal_block(exit);
}

/// The vector type with lanes of `bits` (integers) or f32.
fn vty(bits: u32, float: bool) -> Type {
    match (bits, float) {
        (32, true) => types::F32X4,
        (8, _) => types::I8X16,
        (16, _) => types::I16X8,
        (32, _) => types::I32X4,
        _ => types::I64X2,
    }
}

fn rep_vty(r: Rep) -> Type {
    match r {
        Rep::Bool => types::I8X16,
        Rep::F32 => types::F32X4,
        Rep::Exact { bits, .. } => vty(bits, false),
    }
}

fn rep_bits(r: Rep) -> u32 {
    match r {
        Rep::Bool => 8,
        Rep::F32 => 32,
        Rep::Exact { bits, .. } => bits,
    }
}

fn lanes_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

struct Emitter<'p> {
    plan: &'p Plan,
    /// The registers of locals that hold lanes.
    vlocals: HashMap<LocalId, Vec<Variable>>,
}

impl Emitter<'_> {
    fn vf(&self) -> u32 {
        self.plan.vf
    }

    /// Registers for `vf` lanes of `bits` (a partly used register below 128 bits).
    fn nregs(&self, bits: u32) -> usize {
        ((self.vf() * bits) as usize).div_ceil(128)
    }

    // ------------------------------------------------------------ loop structure

    fn emit_loop(&mut self, g: &mut Gen, l: &Loop) -> VR<()> {
        let (lo, hi) = g.loop_bounds(l);
        let vf = self.vf() as i64;
        let var = g.loop_var(l.var);
        let after = g.b.create_block();
        if self.plan.overlap {
            // Enough iterations for one group: groups of VF, the last one moved back to
            // end at `hi`; fewer: scalar code.
            let n = g.b.ins().isub(hi, lo);
            let enough = g.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, n, vf);
            let vec_entry = g.b.create_block();
            let scalar_entry = g.b.create_block();
            g.b.ins().brif(enough, vec_entry, &[], scalar_entry, &[]);
            g.b.switch_to_block(vec_entry);
            g.b.seal_block(vec_entry);
            let last = g.b.ins().iadd_imm_s(hi, -vf);
            self.group_loop(g, l, var, lo, hi, Some(last))?;
            g.b.ins().jump(after, &[]);
            g.b.switch_to_block(scalar_entry);
            g.b.seal_block(scalar_entry);
            g.scalar_loop(l, lo, hi)?;
            g.b.ins().jump(after, &[]);
        } else {
            // Groups of VF while they fit, then the rest as scalar code.
            let limit = g.b.ins().iadd_imm_s(hi, -(vf - 1));
            self.group_loop(g, l, var, lo, limit, None)?;
            let rest = g.b.use_var(var);
            g.scalar_loop(l, rest, hi)?;
            g.b.ins().jump(after, &[]);
        }
        g.b.switch_to_block(after);
        g.b.seal_block(after);
        Ok(())
    }

    /// A reduction: partial sums in lanes over groups of VF iterations, added into the
    /// accumulator after the loop, then the remaining iterations as scalar code.
    fn emit_reduction(&mut self, g: &mut Gen, l: &Loop, red: &Reduction) -> VR<()> {
        let (lo, hi) = g.loop_bounds(l);
        let vf = self.vf() as i64;
        let var = g.loop_var(l.var);
        let rep @ Rep::Exact { bits, frac, .. } =
            g.lplans.storage(g.inst, red.acc).expect("planned")
        else {
            return abandon("a reduction into a non-exact accumulator");
        };
        let pairs = self.pair_products(g, red.other, bits, frac)?;
        // pmaddwd sums pairs into 32-bit lanes: half as many registers.
        let (nparts, lanes) = match pairs {
            Some(_) => (self.nregs(16), 4),
            None => (self.nregs(bits), (128 / bits).min(self.vf()) as u8),
        };
        let ty = vty(bits, false);
        let zero = g.b.ins().iconst(int_ty(bits), 0);
        let zero = g.b.ins().splat(ty, zero);
        let parts: Vec<Variable> = (0..nparts)
            .map(|_| {
                let v = g.b.declare_var(ty);
                g.b.def_var(v, zero);
                v
            })
            .collect();
        let limit = g.b.ins().iadd_imm_s(hi, -(vf - 1));
        let (head, exit) = open_loop(g, var, lo, limit);
        g.active.push(l.var);
        let terms = match pairs {
            Some((a, b, shift)) => self.pmaddwd(g, a, b, shift)?,
            None => {
                let v = self.expr(g, red.other)?;
                self.lanes_of(g, v, rep)?
            }
        };
        g.active.pop();
        for (p, t) in parts.iter().zip(terms) {
            let cur = g.b.use_var(*p);
            let new = if red.subtract {
                g.b.ins().isub(cur, t)
            } else {
                g.b.ins().iadd(cur, t)
            };
            g.b.def_var(*p, new);
        }
        let j = g.b.use_var(var);
        let next = g.b.ins().iadd_imm_s(j, vf);
        g.b.def_var(var, next);
        close_loop(g, head, exit);
        // Every lane (signed already) into the accumulator, modulo its container like the
        // scalar sums.
        let acc = g.local_var(red.acc)?;
        let mut total = g.b.use_var(acc);
        for p in parts {
            let v = g.b.use_var(p);
            for k in 0..lanes {
                let x = g.b.ins().extractlane(v, k);
                total = g.b.ins().iadd(total, x);
            }
        }
        g.b.def_var(acc, total);
        // The rest, one iteration at a time.
        let rest = g.b.use_var(var);
        Ok(g.scalar_loop(l, rest, hi)?)
    }

    /// `a * b` summed into an accumulator of `bits` at `frac`, when pairs of products can
    /// be added by pmaddwd: both factors fit 16-bit signed lanes and the sums 32-bit ones.
    /// Returns the factors and the left shift to the accumulator's LSB.
    fn pair_products(
        &self,
        g: &Gen,
        other: ExprId,
        bits: u32,
        frac: i32,
    ) -> VR<Option<(ExprId, ExprId, i64)>> {
        let Expr::Binary(BinOp::Mul, a, b) = g.inst.expr(other) else {
            return Ok(None);
        };
        let fits = |r: Rep| match r {
            Rep::Exact { width, signed, .. } => width <= 16 - u32::from(!signed),
            _ => false,
        };
        let (ra, rb) = (g.expr_rep(*a)?, g.expr_rep(*b)?);
        let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (ra, rb) else {
            return Ok(None);
        };
        let shift = (frac - fa - fb) as i64;
        let ok = bits == 32 && self.vf() >= 8 && fits(ra) && fits(rb) && (0..16).contains(&shift);
        Ok(ok.then_some((*a, *b, shift)))
    }

    /// Pairwise sums of products in 32-bit lanes: the multiply-add cranelift lowers to
    /// pmaddwd (`iadd_pairwise` of the products of the low and high halves).
    fn pmaddwd(&mut self, g: &mut Gen, a: ExprId, b: ExprId, shift: i64) -> VR<Vec<CValue>> {
        let lanes16 = |g: &mut Gen, em: &mut Self, e: ExprId| -> VR<Vec<CValue>> {
            let Rep::Exact { frac, .. } = g.expr_rep(e)? else {
                return abandon("a non-exact factor");
            };
            let v = em.expr(g, e)?;
            em.lanes_of(
                g,
                v,
                Rep::Exact {
                    bits: 16,
                    width: 16,
                    signed: true,
                    frac,
                },
            )
        };
        let xa = lanes16(g, self, a)?;
        let xb = lanes16(g, self, b)?;
        Ok(xa
            .into_iter()
            .zip(xb)
            .map(|(p, q)| {
                let (pl, ql) = (g.b.ins().swiden_low(p), g.b.ins().swiden_low(q));
                let (ph, qh) = (g.b.ins().swiden_high(p), g.b.ins().swiden_high(q));
                let lo = g.b.ins().imul(pl, ql);
                let hi = g.b.ins().imul(ph, qh);
                let sum = g.b.ins().iadd_pairwise(lo, hi);
                if shift > 0 {
                    g.b.ins().ishl_imm_s(sum, shift)
                } else {
                    sum
                }
            })
            .collect())
    }

    /// `for (j = lo; j < hi; j += VF) body(min(j, last))`; leaves the variable at the end.
    fn group_loop(
        &mut self,
        g: &mut Gen,
        l: &Loop,
        var: Variable,
        lo: CValue,
        hi: CValue,
        last: Option<CValue>,
    ) -> VR<()> {
        let (head, exit) = open_loop(g, var, lo, hi);
        let j = g.b.use_var(var);
        let base = match last {
            Some(last) => g.b.ins().smin(j, last),
            None => j,
        };
        g.b.def_var(var, base);
        g.active.push(l.var);
        self.block(g, &l.body)?;
        g.active.pop();
        let next = g.b.ins().iadd_imm_s(base, self.vf() as i64);
        g.b.def_var(var, next);
        close_loop(g, head, exit);
        Ok(())
    }

    fn block(&mut self, g: &mut Gen, b: &Block) -> VR<()> {
        for s in b {
            self.stmt(g, s)?;
        }
        Ok(())
    }

    fn stmt(&mut self, g: &mut Gen, s: &Stmt) -> VR<()> {
        match s {
            Stmt::For(inner) => g.loop_or_unrolled(inner, &mut |g| self.block(g, &inner.body)),
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                // A uniform condition (checked by the plan).
                let c = g.bool_expr(*cond)?;
                g.if_else(c, &mut |g, taken| {
                    self.block(g, if taken { then_block } else { else_block })
                })
            }
            Stmt::Assign { local, value, .. }
                if self.plan.varying_locals.contains(local) && g.lplans.lazy(*local).is_some() =>
            {
                let lazy = g.lplans.lazy(*local).expect("just checked");
                let vars = self.local_vars(g, *local);
                // Modular arithmetic in the lanes; reads wrap (locals.rs).
                let out: Vec<CValue> = match g.lplans.accumulation(*value) {
                    Some(acc) => {
                        let v = self.expr(g, acc.other)?;
                        let v = self.lanes_of(g, v, lazy.rep)?;
                        vars.iter()
                            .zip(v)
                            .map(|(var, v)| {
                                let cur = g.b.use_var(*var);
                                if acc.subtract {
                                    g.b.ins().isub(cur, v)
                                } else {
                                    g.b.ins().iadd(cur, v)
                                }
                            })
                            .collect()
                    }
                    None => {
                        let v = self.expr(g, *value)?;
                        self.lanes_of(g, v, lazy.rep)?
                    }
                };
                for (var, r) in vars.iter().zip(out) {
                    g.b.def_var(*var, r);
                }
                Ok(())
            }
            Stmt::Assign { local, value, .. } if self.plan.varying_locals.contains(local) => {
                let ty = g.inst.local(*local).ty;
                let v = self.expr(g, *value)?;
                let range = g.range(*value).cloned();
                let out = self.convert(g, v, range.as_ref(), &ty, *value)?;
                let regs = self.lanes_of(g, out, local_rep(&ty))?;
                let vars = self.local_vars(g, *local);
                for (var, r) in vars.iter().zip(regs) {
                    g.b.def_var(*var, r);
                }
                Ok(())
            }
            Stmt::Store { access, value, .. }
                if access.index.iter().any(|ix| ix.coeff(self.plan.var) != 0) =>
            {
                let elem = g.inst.tensor(access.tensor).elem;
                let v = self.expr(g, *value)?;
                let range = g.range(*value).cloned();
                let out = self.convert(g, v, range.as_ref(), &elem, *value)?;
                let regs = self.lanes_of(g, out, local_rep(&elem))?;
                // Bool elements are bytes 0/1, lanes are masks.
                let regs = if elem == ScalarType::Bool {
                    self.mask_to_int(g, regs, 8)
                } else {
                    regs
                };
                let (addr, flat) = g.address(access, g.inst.expr_spans[value.index()]);
                self.store(g, addr, &elem, regs);
                if let Some(&shadow) = g.shadows.get(&access.tensor) {
                    // One written-flag byte per lane.
                    let at = g.b.ins().iadd(shadow, flat);
                    let ones = g.b.ins().iconst(types::I8, 1);
                    let ones = g.b.ins().splat(types::I8X16, ones);
                    let f = MemFlagsData::new().with_notrap();
                    match self.vf() {
                        16 => {
                            g.b.ins().store(f, ones, at, 0);
                        }
                        vf => {
                            let ty = if vf == 8 { types::I64X2 } else { types::I32X4 };
                            let v = g.b.ins().bitcast(ty, lanes_flags(), ones);
                            let s = g.b.ins().extractlane(v, 0);
                            g.b.ins().store(f, s, at, 0);
                        }
                    }
                }
                Ok(())
            }
            other => Ok(g.stmt(other)?),
        }
    }

    fn local_vars(&mut self, g: &mut Gen, l: LocalId) -> Vec<Variable> {
        if let Some(v) = self.vlocals.get(&l) {
            return v.clone();
        }
        let rep = g.lplans.storage(g.inst, l).expect("plan checked the width");
        let ty = rep_vty(rep);
        let vars: Vec<Variable> = (0..self.nregs(rep_bits(rep)))
            .map(|_| g.b.declare_var(ty))
            .collect();
        self.vlocals.insert(l, vars.clone());
        vars
    }

    // ------------------------------------------------------------ memory

    fn load(&mut self, g: &mut Gen, addr: CValue, elem: &ScalarType) -> Vec<CValue> {
        let rep = local_rep(elem);
        let ty = rep_vty(rep);
        let bytes = self.vf() as usize * store_of(elem).expect("plan checked").bytes();
        let f = MemFlagsData::new().with_notrap();
        if bytes >= 16 {
            (0..bytes / 16)
                .map(|k| g.b.ins().load(ty, f, addr, 16 * k as i32))
                .collect()
        } else {
            let (sty, vty_) = if bytes == 8 {
                (types::I64, types::I64X2)
            } else {
                (types::I32, types::I32X4)
            };
            let s = g.b.ins().load(sty, f, addr, 0);
            let v = g.b.ins().scalar_to_vector(vty_, s);
            vec![g.b.ins().bitcast(ty, lanes_flags(), v)]
        }
    }

    fn store(&mut self, g: &mut Gen, addr: CValue, elem: &ScalarType, regs: Vec<CValue>) {
        let bytes = self.vf() as usize * store_of(elem).expect("plan checked").bytes();
        let f = MemFlagsData::new().with_notrap();
        if bytes >= 16 {
            for (k, r) in regs.into_iter().enumerate() {
                g.b.ins().store(f, r, addr, 16 * k as i32);
            }
        } else {
            let (sty, vty_) = if bytes == 8 {
                (types::I64, types::I64X2)
            } else {
                (types::I32, types::I32X4)
            };
            let v = g.b.ins().bitcast(vty_, lanes_flags(), regs[0]);
            let s = g.b.ins().extractlane(v, 0);
            debug_assert_eq!(g.b.func.dfg.value_type(s), sty);
            g.b.ins().store(f, s, addr, 0);
        }
    }

    // ------------------------------------------------------------ lane plumbing

    /// Lanes of an exact value: `regs` (of `from`) in `bits`-bit lanes at `frac`.
    fn coerce(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: Rep,
        bits: u32,
        frac: i32,
    ) -> VR<Vec<CValue>> {
        let Rep::Exact {
            bits: fb,
            signed,
            frac: ff,
            ..
        } = from
        else {
            return abandon("coerce of a non-exact value");
        };
        let mut regs = regs;
        if frac < ff {
            // Lower the fractional bits first, in the source lanes (exact, as in
            // Gen::coerce).
            let d = ((ff - frac) as i64).min(fb as i64 - 1);
            regs = regs
                .into_iter()
                .map(|r| {
                    if signed {
                        g.b.ins().sshr_imm_s(r, d)
                    } else {
                        g.b.ins().ushr_imm_s(r, d)
                    }
                })
                .collect();
        }
        let mut b = fb;
        while b < bits {
            regs = self.widen(g, regs, b, signed);
            b *= 2;
        }
        while b > bits {
            regs = self.narrow(g, regs, b);
            b /= 2;
        }
        if frac > ff {
            // Modulo 2^bits: a shift by the width or more leaves 0.
            let up = (frac - ff) as i64;
            regs = regs
                .into_iter()
                .map(|r| {
                    if up >= bits as i64 {
                        g.b.ins().bxor(r, r)
                    } else {
                        g.b.ins().ishl_imm_s(r, up)
                    }
                })
                .collect();
        }
        Ok(regs)
    }

    /// `b`-bit lanes → `2b`-bit lanes, extending by sign or zero.
    fn widen(&mut self, g: &mut Gen, regs: Vec<CValue>, b: u32, signed: bool) -> Vec<CValue> {
        let full = self.vf() * b >= 128;
        let mut out = Vec::with_capacity(regs.len() * 2);
        for r in regs {
            out.push(if signed {
                g.b.ins().swiden_low(r)
            } else {
                g.b.ins().uwiden_low(r)
            });
            if full {
                out.push(if signed {
                    g.b.ins().swiden_high(r)
                } else {
                    g.b.ins().uwiden_high(r)
                });
            }
        }
        out
    }

    /// `b`-bit lanes → `b/2`-bit lanes, keeping the low half of each (modular).
    fn narrow(&mut self, g: &mut Gen, regs: Vec<CValue>, b: u32) -> Vec<CValue> {
        let half = b / 2;
        let lane_bytes = (b / 8) as usize;
        let n = 16 / lane_bytes;
        let mut mask = Vec::with_capacity(16);
        for i in 0..2 * n {
            let base = (i / n) * 16 + (i % n) * lane_bytes;
            mask.extend((0..lane_bytes / 2).map(|k| (base + k) as u8));
        }
        let imm = g.b.func.dfg.immediates.push(ConstantData::from(mask));
        let out_ty = vty(half, false);
        let bytes: Vec<CValue> = regs
            .iter()
            .map(|&r| g.b.ins().bitcast(types::I8X16, lanes_flags(), r))
            .collect();
        let mut out = Vec::new();
        for pair in bytes.chunks(2) {
            let (a, b2) = (pair[0], *pair.get(1).unwrap_or(&pair[0]));
            let s = g.b.ins().shuffle(a, b2, imm);
            out.push(g.b.ins().bitcast(out_ty, lanes_flags(), s));
        }
        out.truncate(self.nregs(half));
        out
    }

    fn splat(&mut self, g: &mut Gen, s: CValue, ty: Type, n: usize) -> Vec<CValue> {
        let v = g.b.ins().splat(ty, s);
        vec![v; n]
    }

    /// The lanes of `v` in representation `rep` (exact or f32).
    fn lanes_of(&mut self, g: &mut Gen, v: V, rep: Rep) -> VR<Vec<CValue>> {
        let n = self.nregs(rep_bits(rep));
        match (v, rep) {
            (V::U(s, from), Rep::Exact { .. }) => {
                let s = g.fit(s, from, rep);
                Ok(self.splat(g, s, rep_vty(rep), n))
            }
            (V::U(s, Rep::F32), Rep::F32) => Ok(self.splat(g, s, types::F32X4, n)),
            (V::L(regs, from @ Rep::Exact { .. }), Rep::Exact { bits, frac, .. }) => {
                self.coerce(g, regs, from, bits, frac)
            }
            (V::L(regs, Rep::F32), Rep::F32) => Ok(regs),
            (V::M(regs, b), Rep::Bool) => self.mask_bits(g, regs, b, 8),
            (v @ V::U(_, Rep::Bool), Rep::Bool) => self.mask_of(g, v, 8),
            _ => abandon("a value of another kind"),
        }
    }

    /// Masks of `bits`-bit lanes for a bool value.
    fn mask_of(&mut self, g: &mut Gen, v: V, bits: u32) -> VR<Vec<CValue>> {
        match v {
            V::M(regs, b) => self.mask_bits(g, regs, b, bits),
            V::U(c, Rep::Bool) => {
                let lane = int_ty(bits);
                let w = if bits > 8 {
                    g.b.ins().uextend(lane, c)
                } else {
                    c
                };
                let m = g.b.ins().ineg(w);
                Ok(self.splat(g, m, vty(bits, false), self.nregs(bits)))
            }
            _ => abandon("a mask of a non-bool value"),
        }
    }

    fn mask_bits(&mut self, g: &mut Gen, regs: Vec<CValue>, from: u32, to: u32) -> VR<Vec<CValue>> {
        let r = Rep::Exact {
            bits: from,
            width: from,
            signed: true,
            frac: 0,
        };
        self.coerce(g, regs, r, to, 0)
    }

    /// `0/1` lanes of `bits` for masks.
    fn mask_to_int(&mut self, g: &mut Gen, regs: Vec<CValue>, bits: u32) -> Vec<CValue> {
        let one = g.b.ins().iconst(int_ty(bits), 1);
        let one = g.b.ins().splat(vty(bits, false), one);
        regs.into_iter().map(|r| g.b.ins().band(r, one)).collect()
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, g: &mut Gen, e: ExprId) -> VR<V> {
        if !self.plan.varying.contains(&e) {
            let (v, rep) = g.expr(e)?;
            return Ok(V::U(v, rep));
        }
        let rep = g.expr_rep(e)?;
        Ok(match g.inst.expr(e).clone() {
            Expr::LoopVar(_) => {
                let Rep::Exact { bits, .. } = rep else {
                    return abandon("a loop variable of a non-exact type");
                };
                let j = g.b.use_var(g.loops[&self.plan.var]);
                let jr = Rep::Exact {
                    bits: 64,
                    width: 64,
                    signed: true,
                    frac: 0,
                };
                let base = g.fit(j, jr, rep);
                let ty = vty(bits, false);
                let base = g.b.ins().splat(ty, base);
                let per = (128 / bits) as usize;
                let regs = (0..self.nregs(bits))
                    .map(|k| {
                        let lanes: Vec<u8> = (0..per)
                            .flat_map(|i| {
                                let v = (k * per + i) as u64;
                                v.to_le_bytes()[..(bits / 8) as usize].to_vec()
                            })
                            .collect();
                        let c = g.b.func.dfg.constants.insert(ConstantData::from(lanes));
                        let iota = g.b.ins().vconst(ty, c);
                        g.b.ins().iadd(base, iota)
                    })
                    .collect();
                V::L(regs, rep)
            }
            Expr::Local(l) => {
                let lrep = g.lplans.storage(g.inst, l).expect("plan checked the width");
                let mut regs: Vec<CValue> = self
                    .local_vars(g, l)
                    .into_iter()
                    .map(|v| g.b.use_var(v))
                    .collect();
                if let Some(lazy) = g.lplans.lazy(l) {
                    // Lazily wrapped (locals.rs): wrap on the way out.
                    let Rep::Exact { bits, signed, .. } = lazy.rep else {
                        unreachable!()
                    };
                    let ty = vty(bits, false);
                    for r in &mut regs {
                        *r = Lane { b: &mut g.b, ty }.wrap_bits(*r, lazy.width(), signed);
                    }
                }
                match lrep {
                    Rep::Bool => V::M(regs, 8),
                    Rep::F32 => V::L(regs, Rep::F32),
                    Rep::Exact { .. } => {
                        let Rep::Exact { bits, frac, .. } = rep else {
                            return abandon("a local of another kind");
                        };
                        V::L(self.coerce(g, regs, lrep, bits, frac)?, rep)
                    }
                }
            }
            Expr::Load(a) => {
                let elem = g.inst.tensor(a.tensor).elem;
                let (addr, _) = g.address(&a, g.inst.expr_spans[e.index()]);
                let regs = self.load(g, addr, &elem);
                match local_rep(&elem) {
                    Rep::Bool => {
                        let zero = g.b.ins().iconst(types::I8, 0);
                        let zero = g.b.ins().splat(types::I8X16, zero);
                        let m = regs
                            .into_iter()
                            .map(|r| g.b.ins().icmp(IntCC::NotEqual, r, zero))
                            .collect();
                        V::M(m, 8)
                    }
                    Rep::F32 => V::L(regs, Rep::F32),
                    from => {
                        let Rep::Exact { bits, frac, .. } = rep else {
                            return abandon("a load of another kind");
                        };
                        V::L(self.coerce(g, regs, from, bits, frac)?, rep)
                    }
                }
            }
            Expr::Unary(op, a) => {
                let x = self.expr(g, a)?;
                self.unary(g, op, x, rep)?
            }
            Expr::Binary(op, a, b) => self.binary(g, e, op, a, b, rep)?,
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(g, cond)?;
                let t = self.expr(g, then)?;
                let o = self.expr(g, otherwise)?;
                if let V::U(c, _) = c {
                    // One condition for every lane.
                    let (t, o) = match rep {
                        Rep::Bool => (self.mask_of(g, t, 8)?, self.mask_of(g, o, 8)?),
                        _ => (self.lanes_of(g, t, rep)?, self.lanes_of(g, o, rep)?),
                    };
                    let regs = t
                        .into_iter()
                        .zip(o)
                        .map(|(t, o)| g.b.ins().select(c, t, o))
                        .collect();
                    return Ok(if rep == Rep::Bool {
                        V::M(regs, 8)
                    } else {
                        V::L(regs, rep)
                    });
                }
                let bits = rep_bits(rep);
                let m = self.mask_of(g, c, bits)?;
                match rep {
                    Rep::Bool => {
                        let (t, o) = (self.mask_of(g, t, 8)?, self.mask_of(g, o, 8)?);
                        V::M(self.bitselect(g, m, t, o), 8)
                    }
                    Rep::F32 => {
                        let (t, o) = (self.lanes_of(g, t, rep)?, self.lanes_of(g, o, rep)?);
                        let m = m
                            .into_iter()
                            .map(|r| g.b.ins().bitcast(types::F32X4, lanes_flags(), r))
                            .collect();
                        V::L(self.bitselect(g, m, t, o), rep)
                    }
                    _ => {
                        let (t, o) = (self.lanes_of(g, t, rep)?, self.lanes_of(g, o, rep)?);
                        V::L(self.bitselect(g, m, t, o), rep)
                    }
                }
            }
            Expr::Cast { to, arg } => {
                let x = self.expr(g, arg)?;
                let range = g.range(arg).cloned();
                let v = self.convert(g, x, range.as_ref(), &to, arg)?;
                match (v, rep) {
                    (V::L(regs, from @ Rep::Exact { .. }), Rep::Exact { bits, frac, .. }) => {
                        V::L(self.coerce(g, regs, from, bits, frac)?, rep)
                    }
                    (v, _) => v,
                }
            }
            Expr::Const(_) => unreachable!("constants are uniform"),
            Expr::Math { .. } => return abandon("a math function call per element"),
        })
    }

    fn bitselect(
        &mut self,
        g: &mut Gen,
        m: Vec<CValue>,
        t: Vec<CValue>,
        o: Vec<CValue>,
    ) -> Vec<CValue> {
        m.into_iter()
            .zip(t)
            .zip(o)
            .map(|((m, t), o)| g.b.ins().bitselect(m, t, o))
            .collect()
    }

    fn unary(&mut self, g: &mut Gen, op: UnOp, x: V, rep: Rep) -> VR<V> {
        Ok(match (op, rep) {
            (UnOp::Not, _) => {
                let m = self.mask_of(g, x, 8)?;
                V::M(m.into_iter().map(|r| g.b.ins().bnot(r)).collect(), 8)
            }
            (UnOp::Neg, Rep::F32) => {
                let r = self.lanes_of(g, x, rep)?;
                V::L(r.into_iter().map(|r| g.b.ins().fneg(r)).collect(), rep)
            }
            (UnOp::Abs, Rep::F32) => {
                let r = self.lanes_of(g, x, rep)?;
                V::L(r.into_iter().map(|r| g.b.ins().fabs(r)).collect(), rep)
            }
            (UnOp::Neg | UnOp::BitNot, Rep::Exact { .. }) => {
                let r = self.lanes_of(g, x, rep)?;
                let r = r
                    .into_iter()
                    .map(|r| {
                        if op == UnOp::Neg {
                            g.b.ins().ineg(r)
                        } else {
                            g.b.ins().bnot(r)
                        }
                    })
                    .collect();
                V::L(r, rep)
            }
            (UnOp::Abs, Rep::Exact { bits, frac, .. }) => {
                // In lanes holding the operand with its sign (|x| can need fewer bits).
                let V::L(
                    regs,
                    xr @ Rep::Exact {
                        bits: xb,
                        signed: xs,
                        ..
                    },
                ) = x
                else {
                    return abandon("abs of a uniform value");
                };
                let wb = bits.max(xb);
                let w = self.coerce(g, regs, xr, wb, frac)?;
                // Unsigned values are their own absolute value.
                let a = if xs {
                    w.into_iter().map(|r| g.b.ins().iabs(r)).collect()
                } else {
                    w
                };
                let arep = Rep::Exact {
                    bits: wb,
                    width: wb,
                    signed: false,
                    frac,
                };
                V::L(self.coerce(g, a, arep, bits, frac)?, rep)
            }
            _ => return abandon("a unary operation without a SIMD form"),
        })
    }

    fn binary(
        &mut self,
        g: &mut Gen,
        e: ExprId,
        op: BinOp,
        a: ExprId,
        b: ExprId,
        rep: Rep,
    ) -> VR<V> {
        let x = self.expr(g, a)?;
        let y = self.expr(g, b)?;
        let xr = g.expr_rep(a)?;
        let yr = g.expr_rep(b)?;
        let _ = e;
        if matches!(op, BinOp::And | BinOp::Or) || xr == Rep::Bool {
            let mx = self.mask_of(g, x, 8)?;
            let my = self.mask_of(g, y, 8)?;
            let r = mx
                .into_iter()
                .zip(my)
                .map(|(p, q)| match op {
                    BinOp::And => g.b.ins().band(p, q),
                    BinOp::Or => g.b.ins().bor(p, q),
                    BinOp::Eq => g.b.ins().icmp(IntCC::Equal, p, q),
                    _ => g.b.ins().icmp(IntCC::NotEqual, p, q),
                })
                .collect();
            return Ok(V::M(r, 8));
        }
        if xr == Rep::F32 {
            let fx = self.lanes_of(g, x, Rep::F32)?;
            let fy = self.lanes_of(g, y, Rep::F32)?;
            if op.is_comparison() {
                let cc = float_cc(op);
                let m = fx
                    .into_iter()
                    .zip(fy)
                    .map(|(p, q)| g.b.ins().fcmp(cc, p, q))
                    .collect();
                return Ok(V::M(m, 32));
            }
            let mut out = Vec::with_capacity(fx.len());
            for (p, q) in fx.into_iter().zip(fy) {
                out.push(match op {
                    BinOp::Add => g.b.ins().fadd(p, q),
                    BinOp::Sub => g.b.ins().fsub(p, q),
                    BinOp::Mul => g.b.ins().fmul(p, q),
                    BinOp::Div => g.b.ins().fdiv(p, q),
                    BinOp::Min | BinOp::Max => {
                        // std::min: q < p ? q : p; std::max: p < q ? q : p.
                        let c = if op == BinOp::Min {
                            g.b.ins().fcmp(FloatCC::LessThan, q, p)
                        } else {
                            g.b.ins().fcmp(FloatCC::LessThan, p, q)
                        };
                        let c = g.b.ins().bitcast(types::F32X4, lanes_flags(), c);
                        g.b.ins().bitselect(c, q, p)
                    }
                    _ => return abandon("an f32 operation without a SIMD form"),
                });
            }
            return Ok(V::L(out, Rep::F32));
        }
        if op.is_comparison() {
            let Some(c @ Rep::Exact { bits, signed, .. }) = common_rep(xr, yr) else {
                return abandon("a comparison wider than 128 bits");
            };
            if bits > 64 {
                return abandon("a comparison wider than 64 bits");
            }
            let p = self.lanes_of(g, x, c)?;
            let q = self.lanes_of(g, y, c)?;
            let cc = int_cc(op, signed);
            let m = p
                .into_iter()
                .zip(q)
                .map(|(p, q)| g.b.ins().icmp(cc, p, q))
                .collect();
            return Ok(V::M(m, bits));
        }
        let Rep::Exact { bits, frac, .. } = rep else {
            return abandon("an exact operation with another result");
        };
        Ok(match op {
            BinOp::Min | BinOp::Max => {
                let Some(
                    c @ Rep::Exact {
                        bits: cb, signed, ..
                    },
                ) = common_rep(xr, yr)
                else {
                    return abandon("min/max wider than 128 bits");
                };
                if cb > 64 {
                    return abandon("min/max wider than 64 bits");
                }
                let p = self.lanes_of(g, x, c)?;
                let q = self.lanes_of(g, y, c)?;
                let r = p
                    .into_iter()
                    .zip(q)
                    .map(|(p, q)| match (op, signed) {
                        (BinOp::Min, true) => g.b.ins().smin(p, q),
                        (BinOp::Min, false) => g.b.ins().umin(p, q),
                        (_, true) => g.b.ins().smax(p, q),
                        (_, false) => g.b.ins().umax(p, q),
                    })
                    .collect();
                V::L(self.coerce(g, r, c, bits, frac)?, rep)
            }
            BinOp::Add | BinOp::Sub | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                let p = self.lanes_of(
                    g,
                    x,
                    Rep::Exact {
                        bits,
                        width: bits,
                        signed: true,
                        frac,
                    },
                )?;
                let q = self.lanes_of(
                    g,
                    y,
                    Rep::Exact {
                        bits,
                        width: bits,
                        signed: true,
                        frac,
                    },
                )?;
                let r = p
                    .into_iter()
                    .zip(q)
                    .map(|(p, q)| match op {
                        BinOp::Add => g.b.ins().iadd(p, q),
                        BinOp::Sub => g.b.ins().isub(p, q),
                        BinOp::BitAnd => g.b.ins().band(p, q),
                        BinOp::BitOr => g.b.ins().bor(p, q),
                        _ => g.b.ins().bxor(p, q),
                    })
                    .collect();
                V::L(r, rep)
            }
            BinOp::Mul => {
                let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
                    return abandon("mul of another kind");
                };
                // 8-bit lanes with a bin or tern factor: selects (x86 has no 8-bit lane
                // multiply).
                let unit =
                    (g.unit_factor(b).map(|z| (true, z))).or(g.unit_factor(a).map(|z| (false, z)));
                if let (8, Some((y_is_unit, zero))) = (bits, unit) {
                    let (v, t) = if y_is_unit { (x, y) } else { (y, x) };
                    let vf = if y_is_unit { fa } else { fb };
                    let v = self.lanes_of(
                        g,
                        v,
                        Rep::Exact {
                            bits,
                            width: bits,
                            signed: true,
                            frac: vf,
                        },
                    )?;
                    let t = self.lanes_of(
                        g,
                        t,
                        Rep::Exact {
                            bits,
                            width: bits,
                            signed: true,
                            frac: 0,
                        },
                    )?;
                    let r = v
                        .into_iter()
                        .zip(t)
                        .map(|(v, t)| {
                            Lane {
                                b: &mut g.b,
                                ty: types::I8X16,
                            }
                            .times_unit(v, t, zero)
                        })
                        .collect();
                    return Ok(V::L(r, rep));
                }
                // Otherwise multiply lanes of at least 16 bits (keeping the low half).
                let mb = bits.max(16);
                let p = self.lanes_of(
                    g,
                    x,
                    Rep::Exact {
                        bits: mb,
                        width: mb,
                        signed: true,
                        frac: fa,
                    },
                )?;
                let q = self.lanes_of(
                    g,
                    y,
                    Rep::Exact {
                        bits: mb,
                        width: mb,
                        signed: true,
                        frac: fb,
                    },
                )?;
                let r: Vec<CValue> = p
                    .into_iter()
                    .zip(q)
                    .map(|(p, q)| g.b.ins().imul(p, q))
                    .collect();
                let prep = Rep::Exact {
                    bits: mb,
                    width: mb,
                    signed: true,
                    frac,
                };
                V::L(self.coerce(g, r, prep, bits, frac)?, rep)
            }
            BinOp::Shl => {
                let V::U(n, nr) = y else {
                    return abandon("a shift by a varying amount");
                };
                let Rep::Exact { frac: fa, .. } = xr else {
                    return abandon("shift of another kind");
                };
                let p = self.lanes_of(
                    g,
                    x,
                    Rep::Exact {
                        bits,
                        width: bits,
                        signed: true,
                        frac: fa,
                    },
                )?;
                let n = g.fit(
                    n,
                    nr,
                    Rep::Exact {
                        bits: 32,
                        width: 32,
                        signed: false,
                        frac: 0,
                    },
                );
                V::L(p.into_iter().map(|p| g.b.ins().ishl(p, n)).collect(), rep)
            }
            BinOp::Shr => {
                let V::U(n, nr) = y else {
                    return abandon("a shift by a varying amount");
                };
                let (
                    V::L(
                        regs,
                        Rep::Exact {
                            bits: xb,
                            signed: xs,
                            ..
                        },
                    ),
                    Rep::Exact { bits: nb, .. },
                ) = (x, nr)
                else {
                    return abandon("a shift of a uniform value");
                };
                // Amounts at or beyond the lane width: clamp (signed: 0 or -1) or zero.
                let lim = g.b.ins().iconst(int_ty(nb.min(64)), xb as i64 - 1);
                if nb > 64 {
                    return abandon("a 128-bit shift amount");
                }
                let clamped = g.b.ins().umin(n, lim);
                let beyond =
                    g.b.ins()
                        .icmp_imm_s(IntCC::UnsignedGreaterThan, n, xb as i64 - 1);
                let clamped = g.fit(
                    clamped,
                    nr,
                    Rep::Exact {
                        bits: 32,
                        width: 32,
                        signed: false,
                        frac: 0,
                    },
                );
                let shifted: Vec<CValue> = regs
                    .into_iter()
                    .map(|r| {
                        if xs {
                            g.b.ins().sshr(r, clamped)
                        } else {
                            g.b.ins().ushr(r, clamped)
                        }
                    })
                    .collect();
                let shifted = if xs {
                    shifted
                } else {
                    let zero = g.b.ins().iconst(int_ty(xb), 0);
                    let zero = g.b.ins().splat(vty(xb, false), zero);
                    shifted
                        .into_iter()
                        .map(|r| g.b.ins().select(beyond, zero, r))
                        .collect()
                };
                V::L(self.coerce(g, shifted, xr, bits, frac)?, rep)
            }
            _ => return abandon("a division in SIMD code"),
        })
    }

    // ------------------------------------------------------------ conversions

    /// `convert(v, to)` (assignment semantics), in lanes of `to`'s representation.
    fn convert(
        &mut self,
        g: &mut Gen,
        v: V,
        range: Option<&Interval>,
        to: &ScalarType,
        at: ExprId,
    ) -> VR<V> {
        let to_rep = local_rep(to);
        match v {
            V::U(s, rep) => Ok(V::U(g.convert(s, rep, range, to, at)?, to_rep)),
            V::M(regs, b) => match to {
                ScalarType::Bool => Ok(V::M(regs, b)),
                ScalarType::F32 => abandon("bool to f32"),
                _ => {
                    let ints = self.mask_to_int(g, regs, b);
                    let r = Rep::Exact {
                        bits: b,
                        width: 1,
                        signed: false,
                        frac: 0,
                    };
                    let range = Interval::new(Fx::zero(), Fx::int(1));
                    self.convert(g, V::L(ints, r), Some(&range), to, at)
                }
            },
            V::L(regs, Rep::F32) => match to {
                ScalarType::F32 => Ok(V::L(regs, Rep::F32)),
                ScalarType::Bool => {
                    let z = g.b.ins().f32const(0.0);
                    let z = g.b.ins().splat(types::F32X4, z);
                    Ok(V::M(
                        regs.into_iter()
                            .map(|r| g.b.ins().fcmp(FloatCC::NotEqual, r, z))
                            .collect(),
                        32,
                    ))
                }
                _ => abandon("f32 to an exact type"),
            },
            V::L(
                regs,
                from @ Rep::Exact {
                    bits: fb,
                    signed,
                    frac: ff,
                    width: fw,
                },
            ) => match to {
                ScalarType::Bool => {
                    let z = g.b.ins().iconst(int_ty(fb), 0);
                    let z = g.b.ins().splat(vty(fb, false), z);
                    Ok(V::M(
                        regs.into_iter()
                            .map(|r| g.b.ins().icmp(IntCC::NotEqual, r, z))
                            .collect(),
                        fb,
                    ))
                }
                ScalarType::F32 => {
                    if !(-127..=126).contains(&ff) || fw > 32 || (fw == 32 && !signed) {
                        return abandon("a wide value to f32");
                    }
                    let r = self.coerce(g, regs, from, 32, ff)?;
                    let f: Vec<CValue> = r
                        .into_iter()
                        .map(|r| g.b.ins().fcvt_from_sint(types::F32X4, r))
                        .collect();
                    if ff == 0 {
                        return Ok(V::L(f, Rep::F32));
                    }
                    let scale =
                        g.b.ins()
                            .f32const(f32::from_bits(((127 - ff) as u32) << 23));
                    let scale = g.b.ins().splat(types::F32X4, scale);
                    Ok(V::L(
                        f.into_iter().map(|r| g.b.ins().fmul(r, scale)).collect(),
                        Rep::F32,
                    ))
                }
                ScalarType::Bin | ScalarType::Tern => {
                    let zero = g.b.ins().iconst(int_ty(fb), 0);
                    let zero = g.b.ins().splat(vty(fb, false), zero);
                    let neg: Vec<CValue> = if signed {
                        regs.iter()
                            .map(|&r| g.b.ins().icmp(IntCC::SignedLessThan, r, zero))
                            .collect()
                    } else {
                        vec![zero; regs.len()]
                    };
                    let neg = self.mask_bits(g, neg, fb, 8)?;
                    let out = if *to == ScalarType::Bin {
                        let m1 = g.b.ins().iconst(types::I8, -1);
                        let m1 = g.b.ins().splat(types::I8X16, m1);
                        let p1 = g.b.ins().iconst(types::I8, 1);
                        let p1 = g.b.ins().splat(types::I8X16, p1);
                        neg.into_iter()
                            .map(|n| g.b.ins().bitselect(n, m1, p1))
                            .collect()
                    } else {
                        let cc = if signed {
                            IntCC::SignedGreaterThan
                        } else {
                            IntCC::UnsignedGreaterThan
                        };
                        let pos: Vec<CValue> =
                            regs.iter().map(|&r| g.b.ins().icmp(cc, r, zero)).collect();
                        let pos = self.mask_bits(g, pos, fb, 8)?;
                        // Masks are -1: neg - pos = (pos ? 1 : 0) - (neg ? 1 : 0).
                        neg.into_iter()
                            .zip(pos)
                            .map(|(n, p)| g.b.ins().isub(n, p))
                            .collect()
                    };
                    Ok(V::L(out, to_rep))
                }
                ScalarType::Int(t) => {
                    let Some(p) = plan_int(from, range, t.width, t.signed) else {
                        return abandon("an int conversion needing the helper");
                    };
                    let (cb, src_frac) = (p.cb, p.src_frac);
                    self.per_lane(g, regs, from, cb, src_frac, 0, to_rep, &mut |l, x| {
                        l.apply_int(x, &p)
                    })
                }
                ScalarType::Fixed(t) => {
                    let Some(p) = plan_fixed(from, range, t) else {
                        return abandon("a fixed conversion needing the helper");
                    };
                    let (cb, src_frac) = (p.cb, p.src_frac);
                    self.per_lane(
                        g,
                        regs,
                        from,
                        cb,
                        src_frac,
                        t.frac_bits(),
                        to_rep,
                        &mut |l, x| l.apply_fixed(x, &p),
                    )
                }
            },
            V::L(_, Rep::Bool) => abandon("bool lanes outside masks"),
        }
    }
}

impl Emitter<'_> {
    /// Runs a conversion kernel on every register: the lanes are moved to `cb`-bit lanes
    /// at `src_frac`, converted (the result has `out_frac` fractional bits), then moved
    /// to `to`.
    #[allow(clippy::too_many_arguments)]
    fn per_lane(
        &mut self,
        g: &mut Gen,
        regs: Vec<CValue>,
        from: Rep,
        cb: u32,
        src_frac: i32,
        out_frac: i32,
        to: Rep,
        kernel: &mut dyn FnMut(&mut Lane, CValue) -> CValue,
    ) -> VR<V> {
        if cb > 64 {
            return abandon("a conversion wider than 64 bits");
        }
        let x = self.coerce(g, regs, from, cb, src_frac)?;
        let ty = vty(cb, false);
        let r: Vec<CValue> = x
            .into_iter()
            .map(|x| kernel(&mut Lane { b: &mut g.b, ty }, x))
            .collect();
        let wrep = Rep::Exact {
            bits: cb,
            width: cb,
            signed: true,
            frac: out_frac,
        };
        let Rep::Exact { bits, frac, .. } = to else {
            return abandon("a conversion to another kind");
        };
        Ok(V::L(self.coerce(g, r, wrep, bits, frac)?, to))
    }
}

/// The representation of a local or tensor element of type `t` (checked by the plan).
fn local_rep(t: &ScalarType) -> Rep {
    Rep::of(t).expect("plan checked the width")
}
