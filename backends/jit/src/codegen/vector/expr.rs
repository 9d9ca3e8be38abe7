//! Expressions in SIMD code: values that depend on the loop variable become lanes, the
//! others stay scalar (binary operations: binary.rs).

use crate::arith::Lane;
use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{abandon, Emitter, VR};
use crate::codegen::vector::value::{lanes_flags, local_rep, rep_bits, vty, V};
use crate::rep::Rep;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, ConstantData, InstBuilder, Value as CValue};
use kiln_passes::ir::*;

impl Emitter<'_> {
    pub(crate) fn expr(&mut self, g: &mut Gen, e: ExprId) -> VR<V> {
        if !self.plan.varying.contains(&e) {
            let (v, rep) = g.expr(e)?;
            return Ok(V::U(v, rep));
        }
        let rep = g.expr_rep(e)?;
        Ok(match g.inst.expr(e).clone() {
            Expr::LoopVar(_) => self.loop_var_lanes(g, rep)?,
            Expr::Local(l) => self.local_lanes(g, l, rep)?,
            Expr::Load(a) => self.load_lanes(g, e, &a, rep)?,
            Expr::Unary(op, a) => {
                let x = self.expr(g, a)?;
                self.unary(g, op, x, rep)?
            }
            Expr::Binary(op, a, b) => self.binary(g, op, a, b, rep)?,
            Expr::Select {
                cond,
                then,
                otherwise,
            } => self.select(g, (cond, then, otherwise), rep)?,
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
                let arep = Rep::full(wb, false, frac);
                V::L(self.coerce(g, a, arep, bits, frac)?, rep)
            }
            _ => return abandon("a unary operation without a SIMD form"),
        })
    }

    /// The loop variable in lanes: `j + 0, j + 1, ...`.
    fn loop_var_lanes(&mut self, g: &mut Gen, rep: Rep) -> VR<V> {
        let Rep::Exact { bits, .. } = rep else {
            return abandon("a loop variable of a non-exact type");
        };
        let j = g.b.use_var(g.loops[&self.plan.var]);
        let jr = Rep::I64;
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
        Ok(V::L(regs, rep))
    }

    /// A local held in lanes (wrapped on the way out when lazily wrapped: locals.rs).
    fn local_lanes(&mut self, g: &mut Gen, l: LocalId, rep: Rep) -> VR<V> {
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
        Ok(match lrep {
            Rep::Bool => V::M(regs, 8),
            Rep::F32 => V::L(regs, Rep::F32),
            Rep::F64 => return abandon("f64 lanes"),
            Rep::Exact { .. } => {
                let Rep::Exact { bits, frac, .. } = rep else {
                    return abandon("a local of another kind");
                };
                V::L(self.coerce(g, regs, lrep, bits, frac)?, rep)
            }
        })
    }

    /// `VF` contiguous elements; bool elements become masks.
    fn load_lanes(&mut self, g: &mut Gen, e: ExprId, a: &Access, rep: Rep) -> VR<V> {
        let elem = g.inst.tensor(a.tensor).elem;
        let (addr, _) = g.address(a, g.inst.expr_spans[e.index()]);
        let regs = self.load(g, addr, &elem);
        Ok(match local_rep(&elem) {
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
        })
    }

    /// `then if cond else otherwise`: one select for a uniform condition, else a bitwise
    /// select by lane masks.
    fn select(
        &mut self,
        g: &mut Gen,
        (cond, then, otherwise): (ExprId, ExprId, ExprId),
        rep: Rep,
    ) -> VR<V> {
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
        Ok(match rep {
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
        })
    }
}
