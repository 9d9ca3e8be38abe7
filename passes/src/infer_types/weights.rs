//! Sums over constant weights: for an accumulation of `w[...] * x` with `w` constant data
//! (a loaded parameter), the exact range of the sum over the real weights (ternary weights
//! with many zeros sum to far less than the worst case), by enumerating the iteration space
//! when it is small enough.

use super::*;
use kiln_numeric::{Fx, Int};

impl State<'_> {
    /// For `e = a * b` with `a` (or `b`) a load from a constant tensor, the exact range of
    /// the sum of `e` over the loops `inner`, maximized over the other loops: the weights'
    /// real values instead of their type's range.
    pub(super) fn data_weighted_sum(
        &mut self,
        e: ExprId,
        loops: &[LoopFrame],
        inner: Vec<&Loop>,
    ) -> Option<Interval> {
        let Expr::Binary(BinOp::Mul, a, b) = self.inst.expr(e).clone() else {
            return None;
        };
        let (load, other) = match (self.inst.expr(a), self.inst.expr(b)) {
            (Expr::Load(acc), _) if self.const_of(acc.tensor).is_some() => (acc.clone(), b),
            (_, Expr::Load(acc)) if self.const_of(acc.tensor).is_some() => (acc.clone(), a),
            _ => return None,
        };
        if !load.is_affine() {
            return None;
        }
        let Some(Val::Exact { range: orange, .. }) = self.expr(other) else {
            return None;
        };
        let c = self.const_of(load.tensor)?;
        let data = &self.consts[c.index()];
        // Loop variables of the weight index: those of `inner` are summed; the others
        // (outer loops) are maximized over.
        let inner_vars: Vec<LoopVarId> = inner.iter().map(|l| l.var).collect();
        let mut outer_vars: Vec<LoopVarId> = Vec::new();
        for a in &load.index {
            for &(v, _) in &a.terms {
                if !inner_vars.contains(&v) && !outer_vars.contains(&v) {
                    outer_vars.push(v);
                }
            }
        }
        let outer_loops: Vec<&Loop> = loops
            .iter()
            .map(|f| f.lp)
            .filter(|l| outer_vars.contains(&l.var))
            .collect();
        if outer_loops.len() != outer_vars.len() {
            return None;
        }
        // Constant, rectangular bounds only.
        let bounds = |l: &Loop| -> Option<(i64, i64, i64)> {
            Some((l.lo.as_constant()?, l.hi.as_constant()?, l.step))
        };
        let ob: Vec<(i64, i64, i64)> = outer_loops
            .iter()
            .map(|l| bounds(l))
            .collect::<Option<_>>()?;
        let ib: Vec<(i64, i64, i64)> = inner.iter().map(|l| bounds(l)).collect::<Option<_>>()?;
        let count = |b: &[(i64, i64, i64)]| {
            b.iter().fold(1u64, |acc, &(lo, hi, s)| {
                acc.saturating_mul(range_len(lo, hi, s))
            })
        };
        if count(&ob).saturating_mul(count(&ib)) > MAX_ENUMERATION {
            return None;
        }
        // Integer arithmetic: weights and the other operand's bounds as i128 mantissas,
        // the flat index as an affine form over the enumerated variables.
        let strides = crate::data::strides(&data.shape);
        let vars: Vec<LoopVarId> = outer_loops
            .iter()
            .chain(inner.iter())
            .map(|l| l.var)
            .collect();
        let all_bounds: Vec<(i64, i64, i64)> = ob.iter().chain(ib.iter()).copied().collect();
        // Every index stays in its dimension over the whole box (else no estimate).
        if !index_in_box(&load, &vars, &all_bounds, &data.shape) {
            return None;
        }
        let flat_coef: Vec<i64> = vars
            .iter()
            .map(|v| {
                load.index
                    .iter()
                    .zip(&strides)
                    .map(|(a, s)| a.coeff(*v) * *s as i64)
                    .sum()
            })
            .collect();
        let flat_const: i64 = load
            .index
            .iter()
            .zip(&strides)
            .map(|(a, s)| a.constant * *s as i64)
            .sum();
        let wfrac = data
            .values
            .iter()
            .filter_map(|v| v.as_exact())
            .map(|x| x.frac)
            .max()
            .unwrap_or(0);
        let weights: Vec<i128> = data
            .values
            .iter()
            .map(|v| v.as_exact().and_then(|x| x.mant_at(wfrac).to_i128()))
            .collect::<Option<_>>()?;
        let ofrac = orange.lo.frac.max(orange.hi.frac);
        let (olo, ohi) = (
            orange.lo.mant_at(ofrac).to_i128()?,
            orange.hi.mant_at(ofrac).to_i128()?,
        );
        let (lo, hi) = extreme_sums(&ob, &ib, (flat_const, &flat_coef), &weights, (olo, ohi))?;
        let f = wfrac + ofrac;
        Some(Interval::new(
            Fx::new(Int::from(lo), f),
            Fx::new(Int::from(hi), f),
        ))
    }

    pub(super) fn const_of(&self, t: TensorId) -> Option<ConstId> {
        match self.inst.tensor(t).kind {
            TensorKind::Const(c) => Some(c),
            _ => None,
        }
    }
}

/// The number of iterations of `range(lo, hi, step)`.
fn range_len(lo: i64, hi: i64, step: i64) -> u64 {
    if step > 0 {
        ((hi - lo + step - 1).max(0) / step) as u64
    } else {
        ((lo - hi - step - 1).max(0) / -step) as u64
    }
}

/// Calls `f` for every point of a rectangular iteration space.
fn for_each_point(bounds: &[(i64, i64, i64)], f: &mut dyn FnMut(&[i64])) {
    fn go(bounds: &[(i64, i64, i64)], cur: &mut Vec<i64>, f: &mut dyn FnMut(&[i64])) {
        let d = cur.len();
        if d == bounds.len() {
            f(cur);
            return;
        }
        let (lo, hi, step) = bounds[d];
        let mut v = lo;
        while (step > 0 && v < hi) || (step < 0 && v > hi) {
            cur.push(v);
            go(bounds, cur, f);
            cur.pop();
            v += step;
        }
    }
    go(bounds, &mut Vec::new(), f);
}

/// Whether every index of `load` stays within its dimension of `shape` while the loop
/// variables `vars` run over `bounds` (lo, hi, step).
fn index_in_box(
    load: &Access,
    vars: &[LoopVarId],
    bounds: &[(i64, i64, i64)],
    shape: &[usize],
) -> bool {
    for (d, a) in load.index.iter().enumerate() {
        let (mut lo, mut hi) = (a.constant, a.constant);
        for &(v, c) in &a.terms {
            let Some(k) = vars.iter().position(|x| *x == v) else {
                return false;
            };
            let (l, h, s) = bounds[k];
            let n = range_len(l, h, s) as i64;
            if n == 0 {
                return false;
            }
            let (first, last) = (l, l + s * (n - 1));
            let (x, y) = (c * first, c * last);
            lo += x.min(y);
            hi += x.max(y);
        }
        if lo < 0 || hi >= shape[d] as i64 {
            return false;
        }
    }
    true
}

/// The least and greatest sums of `weights[flat] * x` over the inner loops `ib`, with `x`
/// in `[olo, ohi]`, over every point of the outer loops `ob`, where the flat index is the
/// affine form (constant, coefficients of the outer then inner variables): integers in
/// units of the weights' and `x`'s LSBs. `None` on overflow.
fn extreme_sums(
    ob: &[(i64, i64, i64)],
    ib: &[(i64, i64, i64)],
    (flat_const, flat_coef): (i64, &[i64]),
    weights: &[i128],
    (olo, ohi): (i128, i128),
) -> Option<(i128, i128)> {
    let n_outer = ob.len();
    let mut lo_best: Option<i128> = None;
    let mut hi_best: Option<i128> = None;
    let mut ok = true;
    for_each_point(ob, &mut |opt| {
        let base = flat_const + opt.iter().zip(flat_coef).map(|(v, c)| v * c).sum::<i64>();
        let (mut slo, mut shi) = (0i128, 0i128);
        for_each_point(ib, &mut |ipt| {
            let flat = base
                + ipt
                    .iter()
                    .zip(&flat_coef[n_outer..])
                    .map(|(v, c)| v * c)
                    .sum::<i64>();
            let w = weights[flat as usize];
            let (Some(p1), Some(p2)) = (w.checked_mul(olo), w.checked_mul(ohi)) else {
                ok = false;
                return;
            };
            // Partial sums pass through every prefix, so only the parts of each term
            // that move away from zero accumulate into the bounds.
            match (
                slo.checked_add(p1.min(p2).min(0)),
                shi.checked_add(p1.max(p2).max(0)),
            ) {
                (Some(a), Some(b)) => (slo, shi) = (a, b),
                _ => ok = false,
            }
        });
        lo_best = Some(lo_best.map_or(slo, |b| b.min(slo)));
        hi_best = Some(hi_best.map_or(shi, |b| b.max(shi)));
    });
    if !ok {
        return None;
    }
    Some((lo_best?, hi_best?))
}
