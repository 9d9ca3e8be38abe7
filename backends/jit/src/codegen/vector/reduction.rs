//! Reductions in lanes: `acc = acc ± e` alone in its loop, with partial sums in lanes
//! added into the accumulator after the loop (pmaddwd for products of 16-bit factors).

use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{abandon, Emitter, VR};
use crate::codegen::vector::loops::{close_loop, open_loop};
use crate::codegen::vector::plan::{can_fail, lanes_supported, mark, vector_factor, Plan};
use crate::codegen::vector::value::vty;
use crate::locals::{accumulation_of, LocalPlans};
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::{InstBuilder, Value as CValue};
use cranelift_frontend::Variable;
use kiln_passes::ir::*;
use std::collections::HashSet;

/// A reduction loop: `acc = acc ± other` alone in its body, on an accumulator whose
/// sums are exact in any order (inferred, or lazily wrapped: locals.rs).
pub(crate) struct Reduction {
    pub(crate) acc: LocalId,
    pub(crate) other: ExprId,
    pub(crate) subtract: bool,
}

/// Checks that `l` is a reduction with a SIMD form (partial sums in lanes, added up
/// after the loop: integer sums may be reassociated, f32 ones may not).
pub(crate) fn reduction_plan(
    inst: &Instance,
    lplans: &LocalPlans,
    l: &Loop,
) -> Option<(Plan, Reduction)> {
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
        None if !inst.local(*local).declared => accumulation_of(inst, *local, *value)?,
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

impl Emitter<'_> {
    /// A reduction: partial sums in lanes over groups of VF iterations, added into the
    /// accumulator after the loop, then the remaining iterations as scalar code.
    pub(crate) fn emit_reduction(&mut self, g: &mut Gen, l: &Loop, red: &Reduction) -> VR<()> {
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
            em.lanes_of(g, v, Rep::full(16, true, frac))
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
}
