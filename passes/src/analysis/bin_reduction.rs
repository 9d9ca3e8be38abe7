//! Low-bit reductions: sums of products of two operands whose values are all in
//! {-1, +1} (`bin`) or {-1, 0, +1} (a "trit": `tern`, or an integer temporary every store
//! of which lies in [-1, 1], such as the zero-padded copy of a `bin` input that
//! `stdlib.nn.conv2d` makes). A back end computes them over packed words without a
//! multiplier: a `bin` is one bit (XNOR and popcount), a trit two (a nonzero mask and a
//! sign), and a word of 64 products is one popcount expression (ELB-NN's engine).
//!
//! A candidate is an accumulation `acc = acc + x[..] * w[..]` (either order) into an
//! inferred accumulator (its type holds every partial sum, so regrouping the terms by
//! word changes nothing) where the innermost loop over a whole dimension of both
//! operands (`for c in 0..C`, indexing each operand with exactly `c`) contains only such
//! accumulations. The operands are packed along that dimension; the loop then counts
//! words. Failing that, a *window* reduction of at most 64 values (a depthwise
//! convolution's `for v in 0..S` over `x[c, i, j + v]` and `w[c, u, v]`) packs an operand
//! whose dimension has at most 64 values into one word per row and takes the window's
//! bits at their offset (`j`). The JIT's `bindot.rs` recognizes the bin × bin case of
//! the first kind the same way.

use crate::ir::*;
use kiln_numeric::{Fx, ScalarType};
use std::collections::HashSet;

/// How an operand's values are packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bits {
    /// ±1: one bit, 1 for +1 (a `bin`'s storage bit).
    Bin,
    /// -1, 0 or +1: a nonzero bit and a sign bit (1 for -1).
    Trit,
}

/// A tensor packed along one dimension, in words of [`WORD`] values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Packing {
    pub tensor: TensorId,
    pub dim: usize,
    pub bits: Bits,
}

/// Values per packed word.
pub const WORD: i64 = 64;

impl Packing {
    /// Words per packed row.
    pub fn words(&self, inst: &Instance) -> i64 {
        (inst.tensor(self.tensor).shape[self.dim] as i64 + WORD - 1) / WORD
    }

    /// The packed shape: the tensor's without `dim`, then the words.
    pub fn shape(&self, inst: &Instance) -> Vec<usize> {
        let mut s = inst.tensor(self.tensor).shape.clone();
        s.remove(self.dim);
        s.push(self.words(inst) as usize);
        s
    }
}

/// One accumulation computed over packed words.
#[derive(Clone, Debug)]
pub struct LowBitDot {
    /// The accumulating assignment's value (`acc + x * w`): names the statement.
    pub value: ExprId,
    /// The accumulator operand of the addition (an `Expr::Local`).
    pub acc_expr: ExprId,
    pub acc: LocalId,
    /// The reduction loop's variable; over packed words it counts words.
    pub var: LoopVarId,
    /// The loop's extent (values summed).
    pub n: i64,
    /// The two operands: their loads and packings.
    pub operands: [(Access, Packing); 2],
    /// Per operand, for a window reduction: the offset of the window in the packed row
    /// (the index along the packed dimension without the reduction variable).
    pub offsets: [Option<Affine>; 2],
    /// The index of the node body's top-level statement that holds the reduction (its
    /// operands are not written inside it, so they can be packed just before it).
    pub top: usize,
}

/// Tensors of this instance whose values are all trits: `tern` tensors, and temporaries
/// of an integer type (at most 2 bits) every store of which has a value range within
/// [-1, 1] and that no call writes.
pub fn trit_tensors(inst: &Instance) -> HashSet<TensorId> {
    let mut out = HashSet::new();
    let minus_one = Fx::int(-1);
    let one = Fx::int(1);
    for (i, t) in inst.tensors.iter().enumerate() {
        let id = TensorId(i as u32);
        match t.elem {
            ScalarType::Tern => {
                out.insert(id);
                continue;
            }
            ScalarType::Int(it) if it.signed && it.width <= 2 => {}
            _ => continue,
        }
        if !matches!(t.kind, TensorKind::Temp) {
            continue;
        }
        let mut stored = false;
        let mut fits = true;
        for n in inst.graph.node_weights() {
            match n {
                Node::Compute(c) => walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| match s {
                    Stmt::Store { access, value, .. } if access.tensor == id => {
                        stored = true;
                        fits &= inst.expr_ranges[value.index()]
                            .as_ref()
                            .is_some_and(|r| r.lo >= minus_one && r.hi <= one);
                    }
                    Stmt::Call(c) if c.results.contains(&id) => fits = false,
                    _ => {}
                }),
                Node::Call(c) if c.results.contains(&id) => fits = false,
                _ => {}
            }
        }
        if stored && fits {
            out.insert(id);
        }
    }
    out
}

/// The index of `a`'s dimension indexed by exactly `var` (and `var` nowhere else).
fn dim_of(a: &Access, var: LoopVarId) -> Option<usize> {
    let mut found = None;
    for (d, ix) in a.index.iter().enumerate() {
        if ix.coeff(var) == 0 {
            continue;
        }
        if found.is_some() || *ix != Affine::var(var) {
            return None;
        }
        found = Some(d);
    }
    found
}

/// `acc + x * w` (in either order) with two low-bit loads: (acc operand, x, w).
fn product_of(
    inst: &Instance,
    acc: LocalId,
    value: ExprId,
    bits: &dyn Fn(TensorId) -> Option<Bits>,
) -> Option<(ExprId, Access, Access)> {
    let Expr::Binary(BinOp::Add, p, q) = inst.expr(value) else {
        return None;
    };
    let is_acc = |e: ExprId| matches!(inst.expr(e), Expr::Local(l) if *l == acc);
    let (acc_expr, prod) = if is_acc(*p) {
        (*p, *q)
    } else if is_acc(*q) {
        (*q, *p)
    } else {
        return None;
    };
    let Expr::Binary(BinOp::Mul, a, b) = inst.expr(prod) else {
        return None;
    };
    let (Expr::Load(x), Expr::Load(w)) = (inst.expr(*a), inst.expr(*b)) else {
        return None;
    };
    let plain = |a: &Access| !a.checked && !a.guarded && a.is_affine();
    (bits(x.tensor).is_some()
        && bits(w.tensor).is_some()
        && plain(x)
        && plain(w)
        && x.tensor != w.tensor)
        .then(|| (acc_expr, x.clone(), w.clone()))
}

/// Whether every statement in `block` but loops is one of `targets`, and no loop bound
/// depends on `var` (then the loop over `var` may count words).
fn only_targets(block: &Block, var: LoopVarId, targets: &HashSet<ExprId>) -> bool {
    let mut ok = true;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| match s {
        Stmt::For(l) => ok &= l.lo.coeff(var) == 0 && l.hi.coeff(var) == 0,
        Stmt::Assign { value, .. } if targets.contains(value) => {}
        _ => ok = false,
    });
    ok
}

/// Whether every statement in `block` but loops is a low-bit accumulation, and no loop
/// bound depends on `var`.
fn only_accumulations(
    inst: &Instance,
    block: &Block,
    var: LoopVarId,
    bits: &dyn Fn(TensorId) -> Option<Bits>,
) -> bool {
    let mut ok = true;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| match s {
        Stmt::For(l) => ok &= l.lo.coeff(var) == 0 && l.hi.coeff(var) == 0,
        Stmt::Assign { local, value, .. } => {
            ok &= product_of(inst, *local, *value, bits).is_some();
        }
        _ => ok = false,
    });
    ok
}

struct Candidate {
    value: ExprId,
    acc_expr: ExprId,
    acc: LocalId,
    var: LoopVarId,
    n: i64,
    x: (Access, usize),
    w: (Access, usize),
    offsets: [Option<Affine>; 2],
    top: usize,
}

/// A window operand: the dimension indexed by `var + offset` (coefficient 1, `var`
/// nowhere else), of at most [`WORD`] values, and the offset (`None` when the index is
/// exactly `var`).
fn window_of(inst: &Instance, a: &Access, var: LoopVarId) -> Option<(usize, Option<Affine>)> {
    if let Some(d) = dim_of(a, var) {
        return Some((d, None));
    }
    let mut found = None;
    for (d, ix) in a.index.iter().enumerate() {
        match ix.coeff(var) {
            0 => continue,
            1 if found.is_none() => {
                let offset = Affine {
                    terms: ix
                        .terms
                        .iter()
                        .filter(|(v, _)| *v != var)
                        .cloned()
                        .collect(),
                    constant: ix.constant,
                };
                found = Some((d, Some(offset)));
            }
            _ => return None,
        }
    }
    let (d, _) = found.as_ref()?;
    (inst.tensor(a.tensor).shape[*d] as i64 <= WORD).then_some(())?;
    found
}

/// The low-bit reductions of a compute node's body.
pub fn find(inst: &Instance, body: &Block) -> Vec<LowBitDot> {
    let trits = trit_tensors(inst);
    let bits = |t: TensorId| -> Option<Bits> {
        if inst.tensor(t).elem == ScalarType::Bin {
            Some(Bits::Bin)
        } else if trits.contains(&t) {
            Some(Bits::Trit)
        } else {
            None
        }
    };
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut loops_of: Vec<(LoopVarId, Block)> = Vec::new();
    for (top, stmt) in body.iter().enumerate() {
        let one: Block = vec![stmt.clone()];
        let (_, written) = block_accesses(inst, &one);
        walk_stmts(&one, &mut Vec::new(), &mut |s, loops| {
            let Stmt::Assign { local, value, .. } = s else {
                return;
            };
            let Some((acc_expr, x, w)) = product_of(inst, *local, *value, &bits) else {
                return;
            };
            if written.contains(&x.tensor) || written.contains(&w.tensor) {
                return;
            }
            if inst.local(*local).declared {
                return;
            }
            // A counted loop whose body holds only low-bit accumulations (a reduction
            // loop, not an outer loop whose body also resets and stores the sums).
            let counted = |l: &Loop| match (l.lo.as_constant(), l.hi.as_constant(), l.step) {
                (Some(0), Some(n), 1) if only_accumulations(inst, &l.body, l.var, &bits) => Some(n),
                _ => None,
            };
            let full = |a: &Access, d: usize, n: i64| inst.tensor(a.tensor).shape[d] as i64 == n;
            // The innermost loop over a whole dimension of both operands; failing that,
            // the innermost window of at most one word.
            let mut found = None;
            for l in loops.iter().rev() {
                let Some(n) = counted(l) else { continue };
                if let (Some(dx), Some(dw)) = (dim_of(&x, l.var), dim_of(&w, l.var)) {
                    if full(&x, dx, n) && full(&w, dw, n) {
                        found = Some((*l, n, (dx, None), (dw, None)));
                        break;
                    }
                }
            }
            if found.is_none() {
                for l in loops.iter().rev() {
                    let Some(n) = counted(l) else { continue };
                    if n > WORD {
                        continue;
                    }
                    if let (Some(ox), Some(ow)) =
                        (window_of(inst, &x, l.var), window_of(inst, &w, l.var))
                    {
                        // An operand without an offset must be a whole row.
                        let whole = |a: &Access, o: &(usize, Option<Affine>)| {
                            o.1.is_some() || full(a, o.0, n)
                        };
                        if whole(&x, &ox) && whole(&w, &ow) {
                            found = Some((*l, n, ox, ow));
                            break;
                        }
                    }
                }
            }
            if let Some((l, n, (dx, ox), (dw, ow))) = found {
                if !loops_of.iter().any(|(v, _)| *v == l.var) {
                    loops_of.push((l.var, l.body.clone()));
                }
                candidates.push(Candidate {
                    value: *value,
                    acc_expr,
                    acc: *local,
                    var: l.var,
                    n,
                    x: (x, dx),
                    w: (w, dw),
                    offsets: [ox, ow],
                    top,
                });
            }
        });
    }
    let mut out = Vec::new();
    for c in &candidates {
        let same: HashSet<ExprId> = candidates
            .iter()
            .filter(|d| d.var == c.var)
            .map(|d| d.value)
            .collect();
        let Some((_, lbody)) = loops_of.iter().find(|(v, _)| *v == c.var) else {
            continue;
        };
        if !only_targets(lbody, c.var, &same) {
            continue;
        }
        let packing = |(a, d): &(Access, usize)| Packing {
            tensor: a.tensor,
            dim: *d,
            bits: bits(a.tensor).expect("a low-bit operand"),
        };
        out.push(LowBitDot {
            value: c.value,
            acc_expr: c.acc_expr,
            acc: c.acc,
            var: c.var,
            n: c.n,
            operands: [
                (c.x.0.clone(), packing(&c.x)),
                (c.w.0.clone(), packing(&c.w)),
            ],
            offsets: c.offsets.clone(),
            top: c.top,
        });
    }
    out
}
