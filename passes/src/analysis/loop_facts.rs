//! Facts about loop nests that the JIT's code generation and runtime rely on, and that the
//! `parallel-lint` pass checks a `parallel` primitive against:
//!
//! - **coverage**: whether a store certainly writes every element of a tensor, so the
//!   "result not fully written" check (E0704) needs no run-time bookkeeping; tensors
//!   without that proof get a shadow byte per element, set by every store;
//! - **parallel outer loops**: whether the iterations of a node's outermost loop are
//!   independent, so the runtime may split them across threads.

use crate::ir::*;
use std::collections::{HashMap, HashSet};

/// Whether `store` (an access at the end of the loop chain `loops`, with no `if`
/// around it) writes every element of its tensor: each dimension is indexed by its own
/// loop variable running over exactly `0..shape[d]`, and every other enclosing loop runs
/// at least once.
fn covers(shape: &[usize], access: &Access, loops: &[&Loop]) -> bool {
    if !access.is_affine() {
        return false;
    }
    let mut used = HashSet::new();
    for (d, ix) in access.index.iter().enumerate() {
        let [(v, 1)] = ix.terms.as_slice() else {
            return false;
        };
        if ix.constant != 0 || !used.insert(*v) {
            return false;
        }
        let Some(l) = loops.iter().find(|l| l.var == *v) else {
            return false;
        };
        let full = l.step == 1
            && l.lo.as_constant() == Some(0)
            && l.hi.as_constant() == Some(shape[d] as i64);
        if !full {
            return false;
        }
    }
    loops.iter().all(|l| {
        used.contains(&l.var)
            || match (l.lo.as_constant(), l.hi.as_constant()) {
                (Some(lo), Some(hi)) => (l.step > 0 && lo < hi) || (l.step < 0 && lo > hi),
                _ => false,
            }
    })
}

/// Whether sibling stores (in one block) together write every element of their tensor:
/// the register blocks of autoblock, `y[4*k_o + r, i, j] = acc_r` for `r` in `0..4` with
/// `k_o` over `0..K/4`. All dimensions but one are indexed alike and as in [`covers`];
/// in the remaining one, store `r` indexes `B*v + r` with `B` the number of stores, the
/// constants `0..B` each once, and `v`'s loop over exactly `0..shape[d] / B`.
fn covers_blocked(shape: &[usize], group: &[&Access], loops: &[&Loop]) -> bool {
    let b = group.len();
    if b < 2
        || group
            .iter()
            .any(|a| !a.is_affine() || a.index.len() != shape.len())
    {
        return false;
    }
    // The one dimension where the stores differ.
    let differing: Vec<usize> = (0..shape.len())
        .filter(|&d| group.iter().any(|a| a.index[d] != group[0].index[d]))
        .collect();
    let [d] = differing.as_slice() else {
        return false;
    };
    let mut constants = Vec::new();
    let mut var = None;
    for a in group {
        let ix = &a.index[*d];
        let [(v, coeff)] = ix.terms.as_slice() else {
            return false;
        };
        if *coeff != b as i64 || var.is_some_and(|w| w != *v) {
            return false;
        }
        var = Some(*v);
        constants.push(ix.constant);
    }
    constants.sort();
    if constants != (0..b as i64).collect::<Vec<_>>() {
        return false;
    }
    let Some(v) = var else { return false };
    let Some(l) = loops.iter().find(|l| l.var == v) else {
        return false;
    };
    let full = shape[*d].is_multiple_of(b)
        && l.step == 1
        && l.lo.as_constant() == Some(0)
        && l.hi.as_constant() == Some((shape[*d] / b) as i64);
    if !full {
        return false;
    }
    // The other dimensions as in `covers`, with the blocked one standing for `v` over
    // its own range: check them on a copy whose blocked index is `v` itself.
    let mut plain = group[0].clone();
    plain.index[*d] = Affine::var(v);
    let mut reduced_shape = shape.to_vec();
    reduced_shape[*d] = shape[*d] / b;
    covers(&reduced_shape, &plain, loops)
}

/// The tensors that a block certainly writes completely (see [`covers`] and
/// [`covers_blocked`]).
pub fn fully_written(inst: &Instance, block: &Block) -> HashSet<TensorId> {
    fn walk<'a>(
        inst: &Instance,
        block: &'a Block,
        loops: &mut Vec<&'a Loop>,
        out: &mut HashSet<TensorId>,
    ) {
        // Unconditional stores of this block, by tensor (register blocks).
        let mut stores: Vec<(TensorId, Vec<&Access>)> = Vec::new();
        for s in block {
            if let Stmt::Store { access, .. } = s {
                match stores.iter_mut().find(|(t, _)| *t == access.tensor) {
                    Some((_, v)) => v.push(access),
                    None => stores.push((access.tensor, vec![access])),
                }
            }
        }
        for (t, group) in &stores {
            if covers_blocked(&inst.tensor(*t).shape, group, loops) {
                out.insert(*t);
            }
        }
        for s in block {
            match s {
                Stmt::For(l) => {
                    loops.push(l);
                    walk(inst, &l.body, loops, out);
                    loops.pop();
                }
                Stmt::Store { access, .. } => {
                    if covers(&inst.tensor(access.tensor).shape, access, loops) {
                        out.insert(access.tensor);
                    }
                }
                // A call outside loops and branches replaces its results whole.
                Stmt::Call(c) if loops.is_empty() => out.extend(c.results.iter().copied()),
                // Stores under a condition prove nothing.
                Stmt::If { .. } | Stmt::Assign { .. } | Stmt::Fail { .. } | Stmt::Call(_) => {}
            }
        }
    }
    let mut out = HashSet::new();
    walk(inst, block, &mut Vec::new(), &mut out);
    out
}

/// Every access (load or store) in a block.
fn accesses<'a>(inst: &'a Instance, block: &'a Block) -> Vec<&'a Access> {
    fn loads<'a>(inst: &'a Instance, e: ExprId, out: &mut Vec<&'a Access>) {
        if let Expr::Load(a) = inst.expr(e) {
            out.push(a);
        }
        for o in expr_operands(inst.expr(e)) {
            loads(inst, o, out);
        }
    }
    let mut out = Vec::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            loads(inst, r, &mut out);
        }
        if let Stmt::Store { access, .. } = s {
            out.push(access);
        }
    });
    out
}

/// Whether every local read in `block` is assigned earlier in the same iteration of the
/// enclosing loop (so iterations share no scalar state).
pub fn locals_private(inst: &Instance, block: &Block) -> bool {
    fn reads_ok(inst: &Instance, e: ExprId, defined: &HashSet<LocalId>) -> bool {
        if let Expr::Local(l) = inst.expr(e) {
            if !defined.contains(l) {
                return false;
            }
        }
        expr_operands(inst.expr(e))
            .into_iter()
            .all(|o| reads_ok(inst, o, defined))
    }
    fn walk(inst: &Instance, block: &Block, defined: &mut HashSet<LocalId>) -> bool {
        for s in block {
            if !stmt_roots(s)
                .into_iter()
                .all(|r| reads_ok(inst, r, defined))
            {
                return false;
            }
            match s {
                Stmt::Assign { local, .. } => {
                    defined.insert(*local);
                }
                Stmt::For(l) => {
                    // The body may run zero times: what it defines does not count after it.
                    if !walk(inst, &l.body, &mut defined.clone()) {
                        return false;
                    }
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    let mut t = defined.clone();
                    let mut e = defined.clone();
                    if !walk(inst, then_block, &mut t) || !walk(inst, else_block, &mut e) {
                        return false;
                    }
                    *defined = t.intersection(&e).copied().collect();
                }
                Stmt::Store { .. } | Stmt::Fail { .. } | Stmt::Call(_) => {}
            }
        }
        true
    }
    walk(inst, block, &mut HashSet::new())
}

/// A loop whose iterations can run in any order, on any thread.
pub struct ParallelLoop {
    pub lo: i64,
    pub hi: i64,
    pub step: i64,
    /// Loop-nest iterations in total (the product of the trip counts where they are
    /// constant), to decide whether threads pay off.
    pub work: u64,
}

impl ParallelLoop {
    pub fn trip_count(&self) -> i64 {
        trips(self.lo, self.hi, self.step)
    }
}

/// The iterations of `for v in range(lo, hi, step)`, computed in 128 bits (a span such as
/// `hi - lo` between two i64 bounds does not fit an i64), and at most `i64::MAX`.
fn trips(lo: i64, hi: i64, step: i64) -> i64 {
    let (lo, hi, step) = (i128::from(lo), i128::from(hi), i128::from(step));
    let n = if step > 0 && lo < hi {
        (hi - lo + step - 1) / step
    } else if step < 0 && lo > hi {
        (lo - hi - step - 1) / -step
    } else {
        0
    };
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The estimated iterations of the innermost statements of a block.
fn work(block: &Block) -> u64 {
    block
        .iter()
        .map(|s| match s {
            Stmt::For(l) => {
                let n = match (l.lo.as_constant(), l.hi.as_constant()) {
                    (Some(lo), Some(hi)) => trips(lo, hi, l.step).max(0) as u64,
                    // Bounds that depend on outer loops: assume a handful.
                    _ => 8,
                };
                n.saturating_mul(work(&l.body).max(1))
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => work(then_block).max(work(else_block)).max(1),
            _ => 1,
        })
        .fold(0u64, u64::saturating_add)
}

/// The node's loop when its body is one loop whose iterations are independent: every
/// tensor the body writes is accessed, by every access in the body, at one index
/// dimension through the same injective function of the loop variable alone (so
/// iterations touch disjoint slices), and no scalar carries a value between iterations.
pub fn parallel_loop(inst: &Instance, body: &Block) -> Option<ParallelLoop> {
    let [Stmt::For(l)] = body.as_slice() else {
        return None;
    };
    let (lo, hi) = (l.lo.as_constant()?, l.hi.as_constant()?);
    // A kernel call touches whole tensors: its iterations are never independent here.
    if trips(lo, hi, l.step) < 2 || !locals_private(inst, &l.body) || has_call(&l.body) {
        return None;
    }
    let all = accesses(inst, &l.body);
    let mut written = HashSet::new();
    walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            written.insert(access.tensor);
        }
    });
    let inner = inner_loops(&l.body);
    for t in written {
        let of_t: Vec<&&Access> = all.iter().filter(|a| a.tensor == t).collect();
        let rank = inst.tensor(t).shape.len();
        let partitioned = (0..rank).any(|d| {
            let windows: Option<Vec<(i64, i64, i64)>> = of_t
                .iter()
                .map(|a| match a.dynamic_at(d) {
                    // A data-dependent index can reach any slice.
                    Some(_) => None,
                    None => slice_window(&a.index[d], l.var, &inner),
                })
                .collect();
            let Some(w) = windows else { return false };
            let c = w[0].0;
            let lo = w.iter().map(|x| x.1).min().unwrap_or(0);
            let hi = w.iter().map(|x| x.2).max().unwrap_or(0);
            c != 0 && w.iter().all(|x| x.0 == c) && hi - lo < c.abs()
        });
        if !partitioned {
            return None;
        }
    }
    Some(ParallelLoop {
        lo,
        hi,
        step: l.step,
        work: work(body),
    })
}

/// Loops inside `block` by variable.
fn inner_loops(block: &Block) -> HashMap<LoopVarId, Loop> {
    let mut out = HashMap::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            let mut shell = l.clone();
            shell.body = Vec::new();
            out.insert(l.var, shell);
        }
    });
    out
}

/// An index as `c * var + k` with `k` in `[lo, hi]` for one value of `var`, as
/// `(c, lo, hi)`: `var` itself, constants, and inner loops of a split of `var` (bounds
/// `F * var + k .. F * var + k + W`, step 1). `None` for any other term.
fn slice_window(
    ix: &Affine,
    var: LoopVarId,
    inner: &HashMap<LoopVarId, Loop>,
) -> Option<(i64, i64, i64)> {
    let (mut c, mut lo, mut hi) = (0, ix.constant, ix.constant);
    for &(v, k) in &ix.terms {
        if v == var {
            c += k;
            continue;
        }
        let l = inner.get(&v)?;
        let width = l.hi.add_scaled(&l.lo, -1).as_constant()?;
        let base = l.lo.terms.as_slice();
        if l.step != 1 || width < 1 || !matches!(base, [(w, _)] if *w == var) {
            return None;
        }
        c += k * base[0].1;
        let (a, b) = (k * l.lo.constant, k * (l.lo.constant + width - 1));
        lo += a.min(b);
        hi += a.max(b);
    }
    Some((c, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trip_counts_of_spans_wider_than_an_i64() {
        assert_eq!(trips(-(1 << 62), 1 << 62, 1), i64::MAX);
        assert_eq!(trips(i64::MIN, i64::MAX, 1 << 62), 4);
        assert_eq!(trips(i64::MAX, i64::MIN, -(1 << 62)), 4);
    }

    fn lp(var: u32, hi: i64) -> Loop {
        Loop {
            var: LoopVarId(var),
            lo: Affine::constant(0),
            hi: Affine::constant(hi),
            step: 1,
            body: Vec::new(),
            directives: Default::default(),
            span: Default::default(),
        }
    }

    #[test]
    fn register_blocked_stores_cover_their_tensor() {
        // y[4*k_o + r, i] for r in 0..4, k_o in 0..8, i in 0..5: y is [32, 5].
        let (ko, i) = (lp(0, 8), lp(1, 5));
        let loops = [&ko, &i];
        let store = |r: i64| {
            Access::affine(
                TensorId(0),
                vec![
                    Affine::var(LoopVarId(0))
                        .scale(4)
                        .add_scaled(&Affine::constant(r), 1),
                    Affine::var(LoopVarId(1)),
                ],
            )
        };
        let all: Vec<Access> = (0..4).map(store).collect();
        let refs: Vec<&Access> = all.iter().collect();
        assert!(covers_blocked(&[32, 5], &refs, &loops));
        // A missing row, a repeated one, a shape that is not 4 blocks of 8, a short loop.
        assert!(!covers_blocked(&[32, 5], &refs[..3], &loops));
        let twice = [refs[0], refs[1], refs[2], refs[2]];
        assert!(!covers_blocked(&[32, 5], &twice, &loops));
        assert!(!covers_blocked(&[33, 5], &refs, &loops));
        let short = lp(0, 7);
        assert!(!covers_blocked(&[32, 5], &refs, &[&short, &i]));
        assert!(!covers_blocked(&[32, 6], &refs, &loops));
    }

    #[test]
    fn trip_counts() {
        assert_eq!(trips(0, 10, 1), 10);
        assert_eq!(trips(0, 10, 3), 4);
        assert_eq!(trips(9, -1, -1), 10);
        assert_eq!(trips(9, -1, -4), 3);
        assert_eq!(trips(5, 5, 1), 0);
        assert_eq!(trips(5, 0, 1), 0);
    }
}
