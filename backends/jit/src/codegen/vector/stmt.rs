//! Statements in SIMD code: assignments to lane locals, stores of lanes, and the rest
//! (uniform) as scalar code.

use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{Emitter, VR};
use crate::codegen::vector::value::{lanes_flags, local_rep, rep_bits, rep_vty};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_frontend::Variable;
use kiln_numeric::ScalarType;
use kiln_passes::ir::*;

impl Emitter<'_> {
    pub(crate) fn block(&mut self, g: &mut Gen, b: &Block) -> VR<()> {
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
                self.assign_lazy(g, *local, *value)
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
                self.store_lanes(g, access, *value)
            }
            other => Ok(g.stmt(other)?),
        }
    }

    /// `local = value` on a lazily wrapped local in lanes: modular arithmetic, reads wrap
    /// (locals.rs).
    fn assign_lazy(&mut self, g: &mut Gen, local: LocalId, value: ExprId) -> VR<()> {
        let lazy = g.lplans.lazy(local).expect("just checked");
        let vars = self.local_vars(g, local);
        // Modular arithmetic in the lanes; reads wrap (locals.rs).
        let out: Vec<CValue> = match g.lplans.accumulation(value) {
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
                let v = self.expr(g, value)?;
                self.lanes_of(g, v, lazy.rep)?
            }
        };
        for (var, r) in vars.iter().zip(out) {
            g.b.def_var(*var, r);
        }
        Ok(())
    }

    /// A store of `VF` contiguous elements, and their written flags.
    fn store_lanes(&mut self, g: &mut Gen, access: &Access, value: ExprId) -> VR<()> {
        let elem = g.inst.tensor(access.tensor).elem;
        let v = self.expr(g, value)?;
        let range = g.range(value).cloned();
        let out = self.convert(g, v, range.as_ref(), &elem, value)?;
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

    pub(crate) fn local_vars(&mut self, g: &mut Gen, l: LocalId) -> Vec<Variable> {
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
}
