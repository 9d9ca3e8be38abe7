//! Statements: assignments to locals (plain or lazily wrapped), stores, `Fail`, and the
//! registers locals live in.

use crate::arith::Lane;
use crate::codegen::error::{Site, Unsupported, ERR_FAIL, R};
use crate::codegen::gen::Gen;
use crate::rep::{int_ty, Rep};
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_frontend::Variable;
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    /// A kernel call: the runtime's `kiln_call` runs the callee on the argument slots and
    /// writes the result slots (and their written-element flags); a failure returns.
    fn call_kernel(&mut self, c: &Call) {
        use crate::codegen::error::{CallSite, ERR_CALL};
        use crate::codegen::node::Slot;
        let slot = |s: Slot, list: &[Slot]| list.iter().position(|x| *x == s);
        let list = self.slot_list.clone();
        let site = CallSite {
            callee: c.callee,
            args: c
                .args
                .iter()
                .map(|&t| slot(Slot::Data(t), &list).expect("a call's arguments are node slots"))
                .collect(),
            results: c
                .results
                .iter()
                .map(|&t| {
                    (
                        slot(Slot::Data(t), &list).expect("a call's results are node slots"),
                        slot(Slot::Shadow(t), &list),
                    )
                })
                .collect(),
        };
        let index = self.sites.len();
        self.sites.push(Site {
            span: c.span,
            tensor: None,
            message: None,
            call: Some(site),
        });
        let k = self.b.ins().iconst(types::I64, index as i64);
        let fref = self.helpers.call;
        let ctx = self.ctx_ptr;
        let base = self.slot_base;
        let call = self.b.ins().call(fref, &[ctx, k, base]);
        // Non-zero: the callee failed.
        let failed = self.b.inst_results(call)[0];
        let at = Site {
            span: c.span,
            tensor: None,
            message: None,
            call: None,
        };
        self.fail_if(failed, ERR_CALL, at, &[]);
    }

    pub fn block(&mut self, blk: &Block) -> R<()> {
        for s in blk {
            self.stmt(s)?;
        }
        Ok(())
    }

    pub fn stmt(&mut self, s: &Stmt) -> R<()> {
        match s {
            Stmt::For(l) => self.for_loop(l),
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                let c = self.bool_expr(*cond)?;
                self.if_else(c, &mut |g, taken| {
                    g.block(if taken { then_block } else { else_block })
                })
            }
            Stmt::Assign { local, value, .. } if self.bindots.by_value(*value).is_some() => {
                self.bindot_step(*local, *value)
            }
            Stmt::Assign { local, value, .. } if self.lplans.lazy(*local).is_some() => {
                let lazy = self.lplans.lazy(*local).expect("just checked");
                let Rep::Exact { bits, frac, .. } = lazy.rep else {
                    unreachable!()
                };
                let var = self.local_var(*local)?;
                // Modular arithmetic in the register; reads wrap (locals.rs).
                let out = match self.lplans.accumulation(*value) {
                    Some(acc) => {
                        let (v, vr) = self.expr(acc.other)?;
                        let v = self.coerce(v, vr, bits, frac);
                        let cur = self.b.use_var(var);
                        if acc.subtract {
                            self.b.ins().isub(cur, v)
                        } else {
                            self.b.ins().iadd(cur, v)
                        }
                    }
                    None => {
                        let (v, vr) = self.expr(*value)?;
                        self.coerce(v, vr, bits, frac)
                    }
                };
                self.b.def_var(var, out);
                Ok(())
            }
            Stmt::Assign { local, value, .. } => {
                let ty = self.inst.local(*local).ty;
                let (v, rep) = self.expr(*value)?;
                let range = self.range(*value).cloned();
                let out = self.convert(v, rep, range.as_ref(), &ty, *value)?;
                let var = self.local_var(*local)?;
                self.b.def_var(var, out);
                Ok(())
            }
            Stmt::Fail { message, span } => {
                let always = self.b.ins().iconst(types::I8, 1);
                let site = Site {
                    span: *span,
                    tensor: None,
                    message: Some(message.clone()),
                    call: None,
                };
                self.fail_if(always, ERR_FAIL, site, &[]);
                Ok(())
            }
            Stmt::Call(c) => {
                self.call_kernel(c);
                Ok(())
            }
            Stmt::Store {
                access,
                value,
                span,
            } => {
                let elem = self.inst.tensor(access.tensor).elem;
                let (v, rep) = self.expr(*value)?;
                let range = self.range(*value).cloned();
                let out = self.convert(v, rep, range.as_ref(), &elem, *value)?;
                let (addr, flat) = self.address_dyn(access, *span)?;
                self.b.ins().store(MemFlagsData::trusted(), out, addr, 0);
                if let Some(&shadow) = self.shadows.get(&access.tensor) {
                    let at = self.b.ins().iadd(shadow, flat);
                    let one = self.b.ins().iconst(types::I8, 1);
                    self.b.ins().store(MemFlagsData::trusted(), one, at, 0);
                }
                Ok(())
            }
        }
    }

    pub fn local_var(&mut self, l: LocalId) -> R<Variable> {
        if let Some(v) = self.locals.get(&l) {
            return Ok(*v);
        }
        let local = self.inst.local(l);
        let rep = self
            .lplans
            .storage(self.inst, l)
            .ok_or_else(|| Unsupported {
                span: local.span,
                what: format!("`{}` of type {}, wider than 128 bits", local.name, local.ty),
            })?;
        let var = self.b.declare_var(rep.ty());
        self.locals.insert(l, var);
        Ok(var)
    }

    /// A local's value and its representation (a lazily wrapped local is wrapped here).
    pub fn read_local(&mut self, l: LocalId) -> R<(CValue, Rep)> {
        let var = self.local_var(l)?;
        let raw = self.b.use_var(var);
        match self.lplans.lazy(l) {
            Some(lazy) => {
                let Rep::Exact { bits, signed, .. } = lazy.rep else {
                    unreachable!()
                };
                let v = Lane {
                    b: &mut self.b,
                    ty: int_ty(bits),
                }
                .wrap_bits(raw, lazy.width(), signed);
                Ok((v, lazy.rep))
            }
            None => Ok((
                raw,
                Rep::of(&self.inst.local(l).ty).expect("checked by local_var"),
            )),
        }
    }
}
