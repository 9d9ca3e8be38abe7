//! The legality check of SIMD loops ([`plan`]) and the choice of the vector factor.

use crate::codegen::vector::value::{lane_bits, rep_bits};
use crate::locals::LocalPlans;
use kiln_passes::ir::*;
use kiln_passes::loop_facts::locals_private;
use std::collections::HashSet;

/// What the legality check found.
pub(crate) struct Plan {
    pub(crate) var: LoopVarId,
    pub(crate) vf: u32,
    /// Expressions whose value depends on the loop variable.
    pub(crate) varying: HashSet<ExprId>,
    pub(crate) varying_locals: HashSet<LocalId>,
    /// Whether re-running an iteration changes nothing (no tensor is both read and
    /// written), so the last group of lanes may overlap the previous one.
    pub(crate) overlap: bool,
}

/// Checks that `l` can run as SIMD code and chooses the vector factor.
pub(crate) fn plan(inst: &Instance, lplans: &LocalPlans, node: &Block, l: &Loop) -> Option<Plan> {
    // Gathers and scatters have no SIMD form here (SSE has no gather); nor has a run
    // that can stop.
    if l.step != 1 || has_data_dependent_access(inst, &l.body) || can_fail(&l.body) {
        return None;
    }
    let var = l.var;
    let stores = disjoint_stores(l)?;
    let overlap = loads_of_stores(inst, l, &stores)?;
    // Scalars: private to an iteration, and not read after the loop.
    if !locals_private(inst, &l.body) {
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
    let (varying, varying_locals) = varying_values(inst, l);
    let (min_bits, max_bits) = lane_widths(inst, lplans, l, &varying, &varying_locals, &stores)?;
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

/// The distinct stores of `l`'s body, when iterations write disjoint elements: each store
/// free of inner loop variables and contiguous in the loop variable; stores of one tensor
/// at one index, or at indices that differ by a nonzero constant in a dimension the loop
/// variable does not index (rows of a register block).
fn disjoint_stores(l: &Loop) -> Option<Vec<Access>> {
    let var = l.var;
    let inner = inner_loop_vars(&l.body);
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
    Some(stores)
}

/// Whether a load of a written tensor reads exactly what its own iteration stores (`None`
/// if not); then whether the last group of lanes may overlap the previous one (no tensor
/// is both read and written).
fn loads_of_stores(inst: &Instance, l: &Loop, stores: &[Access]) -> Option<bool> {
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
    Some(overlap)
}

/// Which values depend on the loop variable: expressions, and locals (to a fixed point).
fn varying_values(inst: &Instance, l: &Loop) -> (HashSet<ExprId>, HashSet<LocalId>) {
    let var = l.var;
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
    (varying, varying_locals)
}

/// The narrowest and widest lane bits of the loop's values, when every construct has a
/// SIMD form and some access is vector.
fn lane_widths(
    inst: &Instance,
    lplans: &LocalPlans,
    l: &Loop,
    varying: &HashSet<ExprId>,
    varying_locals: &HashSet<LocalId>,
    stores: &[Access],
) -> Option<(u32, u32)> {
    let var = l.var;
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
    let (lo_bits, hi_bits, loads) = lanes_supported(inst, varying, var)?;
    min_bits = min_bits.min(lo_bits);
    max_bits = max_bits.max(hi_bits);
    any_vector_access |= loads;
    for &lv in varying_locals {
        let bits = rep_bits(lplans.storage(inst, lv)?);
        if bits > 64 {
            return None;
        }
        min_bits = min_bits.min(bits);
        max_bits = max_bits.max(bits);
    }
    for a in stores {
        let bits = lane_bits(&inst.tensor(a.tensor).elem)?;
        min_bits = min_bits.min(bits);
        max_bits = max_bits.max(bits);
    }
    if !fine || !any_vector_access || max_bits == 0 {
        return None;
    }
    Some((min_bits, max_bits))
}

/// Whether every varying expression has a SIMD form: lane widths up to 64 bits,
/// contiguous loads proven in bounds, no division, uniform shift amounts, and operands
/// evaluated unconditionally that cannot fail. Returns the narrowest and widest lane bits
/// and whether a varying load exists.
pub(crate) fn lanes_supported(
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
pub(crate) fn vector_factor(l: &Loop, min_bits: u32, max_bits: u32) -> Option<u32> {
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
pub(crate) fn apart(a: &Access, b: &Access, var: LoopVarId) -> bool {
    a.index.iter().zip(&b.index).any(|(x, y)| {
        let d = x.add_scaled(y, -1);
        x.coeff(var) == 0 && d.as_constant().is_some_and(|c| c != 0)
    })
}

/// Whether the access depends on `var` only through its last index, with coefficient 1.
pub(crate) fn contiguous(a: &Access, var: LoopVarId) -> bool {
    let Some((last, rest)) = a.index.split_last() else {
        return false;
    };
    last.coeff(var) == 1 && rest.iter().all(|ix| ix.coeff(var) == 0)
}

/// Marks the expressions under `e` that depend on `var`; returns whether `e` does.
pub(crate) fn mark(
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
pub(crate) fn reads_outside(
    inst: &Instance,
    node: &Block,
    l: &Loop,
    locals: &HashSet<LocalId>,
) -> bool {
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
            Stmt::Fail { .. } | Stmt::Call(_) => false,
        })
    }
    walk(inst, node, l, locals)
}

/// Whether `block` holds a `Fail` statement or a kernel call (which can fail, and runs
/// whole: never vectorized).
pub(crate) fn can_fail(block: &Block) -> bool {
    let mut found = false;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        found |= matches!(s, Stmt::Fail { .. } | Stmt::Call(_));
    });
    found
}

/// Every loop variable of loops inside `block`.
pub(crate) fn inner_loop_vars(block: &Block) -> HashSet<LoopVarId> {
    let mut out = HashSet::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            out.insert(l.var);
        }
    });
    out
}

/// Whether evaluating `e` can neither fail nor read out of bounds.
pub(crate) fn safe(inst: &Instance, e: ExprId) -> bool {
    match inst.expr(e) {
        Expr::Load(a) if a.checked || a.guarded => false,
        Expr::Binary(BinOp::Div | BinOp::FloorDiv | BinOp::Mod, _, b)
            if !inst.expr_type(*b).is_some_and(|t| t.is_float())
                && inst.expr_ranges[b.index()]
                    .as_ref()
                    .is_none_or(|r| r.contains_zero()) =>
        {
            false
        }
        other => expr_operands(other).into_iter().all(|o| safe(inst, o)),
    }
}
