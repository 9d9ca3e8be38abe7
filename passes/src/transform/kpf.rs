//! DNNBuilder's kernel-parallel factor (KPF) for the allocation (allocate/): a
//! multiply-accumulate nest that computes `KPF` output channels a cycle, so that a row
//! stage can fill a stream word of KPF channels (ir/mod.rs, "Stream words") each cycle.
//!
//! The nest's outermost output loop runs over the output channels of the image it stores
//! (`for k in 0..K`, every store `y[k, ..]`); it becomes a loop over groups of KPF
//! channels, and the channel loop itself moves inside the innermost output loop (the
//! pipelined one), where Vitis unrolls it with the reduction:
//!
//! ```text
//! for k in 0..6:                           for k_o in 0..3:
//!   for i in 0..24: [flatten]                for i in 0..24: [flatten]
//!     for j in 0..24: [pipeline II=1]          for j in 0..24: [pipeline II=1, flatten]
//!       sum = 0; for c, u, v: ...                for k in 2*k_o..2*k_o + 2:
//!       y[k, i, j] = f(sum)                        sum = 0; for c, u, v: ...; y[k, i, j] = f(sum)
//! ```
//!
//! The loops are reordered, so every iteration must stand alone: the body stores only
//! into the image, at channel `k` exactly, never reads it, and every local it reads is
//! first assigned by a statement of its own top level (the accumulator's `sum = 0`).
//! The arrays indexed by `k` (weights, biases, the image) get KPF banks along that
//! dimension. The same applies to a stage's other nests of that form (a padding copy, a
//! pooling), whose innermost loop is the one the automatic schedule pipelined.

use crate::ir::{
    stmt_roots, walk_stmts, Affine, Block, Expr, Instance, LocalId, Loop, NodeId, Partition,
    PartitionKind, Stmt, TensorId,
};
use std::collections::HashSet;

/// Builds KPF `kpf` into the nest at `path` (statement indices from the body of `node`
/// down to the innermost output loop). `None` (and `inst` unchanged) when the nest does
/// not have the form above.
pub fn kpf_nest(inst: &mut Instance, node: NodeId, path: &[usize], kpf: u64) -> Option<()> {
    if kpf < 2 || path.len() < 2 {
        return None;
    }
    let body = match &inst.graph[node] {
        crate::ir::Node::Compute(c) => &c.body,
        _ => return None,
    };
    let outer = loop_at(body, &path[..1])?;
    let k = outer.var;
    let channels = outer.hi.as_constant()?;
    if outer.lo != Affine::constant(0)
        || outer.step != 1
        || channels <= 0
        || channels % kpf as i64 != 0
    {
        return None;
    }
    // A perfect chain from `k` to the innermost output loop, whose bounds do not use `k`.
    for depth in 1..path.len() {
        let l = loop_at(body, &path[..depth])?;
        if l.body.len() != 1 {
            return None;
        }
        let inner = loop_at(body, &path[..=depth])?;
        if inner.lo.coeff(k) != 0 || inner.hi.coeff(k) != 0 {
            return None;
        }
    }
    let innermost = loop_at(body, path)?;
    let image = stand_alone(inst, &innermost.body, k)?;
    // The arrays indexed by `k`.
    let mut banks: Vec<(TensorId, usize)> = vec![(image, 0)];
    walk_stmts(&innermost.body, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            for a in loads {
                for (d, idx) in a.index.iter().enumerate() {
                    if idx.coeff(k) != 0 && !banks.contains(&(a.tensor, d)) {
                        banks.push((a.tensor, d));
                    }
                }
            }
        }
    });
    // Rebuild: `k_o` where `k` was, `k` inside the innermost output loop.
    let span = outer.span;
    let name = format!("{}_o", inst.loop_vars[k.index()].name);
    let ko = inst.add_loop_var(name, span);
    let body = match &mut inst.graph[node] {
        crate::ir::Node::Compute(c) => &mut c.body,
        _ => return None,
    };
    let outer = loop_at_mut(body, &path[..1])?;
    let directives = outer.directives.clone();
    let chain = std::mem::take(&mut outer.body);
    let mut new_outer = Loop {
        var: ko,
        lo: Affine::constant(0),
        hi: Affine::constant(channels / kpf as i64),
        step: 1,
        body: chain,
        directives,
        span,
    };
    let innermost = loop_at_mut(&mut new_outer.body, &path[1..])?;
    let stmts = std::mem::take(&mut innermost.body);
    let from = Affine::var(ko).scale(kpf as i64);
    innermost.body = vec![Stmt::For(Loop {
        var: k,
        lo: from.clone(),
        hi: from.add_scaled(&Affine::constant(kpf as i64), 1),
        step: 1,
        body: stmts,
        directives: Default::default(),
        span,
    })];
    let body = match &mut inst.graph[node] {
        crate::ir::Node::Compute(c) => &mut c.body,
        _ => return None,
    };
    let slot = loop_slot(body, path[0])?;
    *slot = Stmt::For(new_outer);
    for (t, d) in banks {
        let tm = &mut inst.tensors[t.index()];
        let n = tm.shape[d] as u64;
        let have = tm.partition.iter().find(|p| p.dim == d).copied();
        let keep = match have {
            Some(p) if p.kind == PartitionKind::Complete => true,
            Some(p) if p.kind == PartitionKind::Cyclic && (p.factor as u64).is_multiple_of(kpf) => {
                true
            }
            _ => false,
        };
        if keep {
            continue;
        }
        let factor = match have {
            Some(p) if p.kind == PartitionKind::Cyclic => (p.factor as u64).max(kpf),
            _ => kpf,
        };
        tm.partition.retain(|p| p.dim != d);
        tm.partition.push(if factor >= n {
            Partition {
                dim: d,
                kind: PartitionKind::Complete,
                factor: 0,
            }
        } else {
            Partition {
                dim: d,
                kind: PartitionKind::Cyclic,
                factor: factor as u32,
            }
        });
        tm.partition.sort_by_key(|p| p.dim);
    }
    Some(())
}

/// The image a nest body stores, when each iteration stands alone (see the module doc).
fn stand_alone(inst: &Instance, b: &Block, k: crate::ir::LoopVarId) -> Option<TensorId> {
    let mut image: Option<TensorId> = None;
    let mut ok = true;
    walk_stmts(b, &mut Vec::new(), &mut |s, _| match s {
        Stmt::Store { access, .. } => {
            let at_k = access.dynamic_at(0).is_none()
                && access.index.first() == Some(&Affine::var(k))
                && access.index[1..].iter().all(|i| i.coeff(k) == 0);
            ok &= at_k && image.is_none_or(|t| t == access.tensor);
            image = Some(access.tensor);
        }
        Stmt::Call(_) | Stmt::Fail { .. } => ok = false,
        _ => {}
    });
    let image = image.filter(|_| ok)?;
    if inst.tensor(image).shape.len() != 3 {
        return None;
    }
    // The image is never read, and every local read is assigned first at the top level.
    let mut assigned: HashSet<LocalId> = HashSet::new();
    for s in b {
        let mut reads: Vec<LocalId> = Vec::new();
        let mut loads_image = false;
        walk_stmts(std::slice::from_ref(s), &mut Vec::new(), &mut |x, _| {
            for r in stmt_roots(x) {
                inst.for_each_subexpr(r, &mut |e| match e {
                    Expr::Local(l) => reads.push(*l),
                    Expr::Load(a) if a.tensor == image => loads_image = true,
                    _ => {}
                });
            }
        });
        if loads_image || reads.iter().any(|l| !assigned.contains(l)) {
            return None;
        }
        if let Stmt::Assign { local, .. } = s {
            assigned.insert(*local);
        }
    }
    Some(image)
}

fn loop_at<'a>(b: &'a Block, path: &[usize]) -> Option<&'a Loop> {
    match (b.get(*path.first()?)?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at(&l.body, &path[1..]),
        _ => None,
    }
}

fn loop_at_mut<'a>(b: &'a mut Block, path: &[usize]) -> Option<&'a mut Loop> {
    if path.is_empty() {
        return None;
    }
    match (b.get_mut(path[0])?, path.len()) {
        (Stmt::For(l), 1) => Some(l),
        (Stmt::For(l), _) => loop_at_mut(&mut l.body, &path[1..]),
        _ => None,
    }
}

fn loop_slot(b: &mut Block, k: usize) -> Option<&mut Stmt> {
    b.get_mut(k)
}
