//! Tensor accesses: element addresses, bounds checks, loads.

use crate::codegen::error::{Site, ERR_BOUNDS, R};
use crate::codegen::gen::Gen;
use crate::layout::store_of;
use crate::rep::Rep;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use kiln_passes::ir::*;
use kiln_passes::Span;

impl Gen<'_, '_> {
    pub fn affine(&mut self, a: &Affine) -> CValue {
        let mut acc = self.b.ins().iconst(types::I64, a.constant);
        for &(v, c) in &a.terms {
            let x = self.b.use_var(self.loops[&v]);
            let t = if c == 1 {
                x
            } else {
                self.b.ins().imul_imm_s(x, c)
            };
            acc = self.b.ins().iadd(acc, t);
        }
        acc
    }

    /// The address of an element and its flat (row-major) index, with the bounds check
    /// when the access needs one; data-dependent indices are evaluated first.
    pub fn address_dyn(&mut self, a: &Access, span: Span) -> R<(CValue, CValue)> {
        let mut values = Vec::with_capacity(a.dynamic.len());
        for d in &a.dynamic {
            values.push(match d {
                Some(e) => {
                    let (v, rep) = self.expr(*e)?;
                    // An integer of at most 64 bits (checked by the bounds pass).
                    Some(self.coerce_to(v, rep, Rep::I64))
                }
                None => None,
            });
        }
        Ok(self.address_at(a, span, &values))
    }

    /// [`Gen::address_dyn`] for an access whose indices are all affine.
    pub fn address(&mut self, a: &Access, span: Span) -> (CValue, CValue) {
        debug_assert!(a.is_affine(), "address of a data-dependent access");
        self.address_at(a, span, &[])
    }

    /// The address of an element given the values of its data-dependent indices (`i64`).
    fn address_at(
        &mut self,
        a: &Access,
        span: Span,
        dynamic: &[Option<CValue>],
    ) -> (CValue, CValue) {
        let t = self.inst.tensor(a.tensor);
        let shape = t.shape.clone();
        let store = store_of(&t.elem).expect("checked in compile");
        let strides = kiln_passes::data::strides(&shape);
        let mut idx: Vec<CValue> = a.index.iter().map(|i| self.affine(i)).collect();
        for (d, v) in dynamic.iter().enumerate() {
            if let Some(v) = v {
                idx[d] = self.b.ins().iadd(idx[d], *v);
            }
        }
        if a.checked && !idx.is_empty() {
            let mut bad: Option<CValue> = None;
            for (d, &i) in idx.iter().enumerate() {
                let out =
                    self.b
                        .ins()
                        .icmp_imm_s(IntCC::UnsignedGreaterThanOrEqual, i, shape[d] as i64);
                bad = Some(match bad {
                    None => out,
                    Some(p) => self.b.ins().bor(p, out),
                });
            }
            if let Some(bad) = bad {
                self.fail_if(
                    bad,
                    ERR_BOUNDS,
                    Site {
                        span,
                        tensor: Some(a.tensor),
                        message: None,
                        call: None,
                    },
                    &idx,
                );
            }
        }
        // Strides fold into one affine form, plus the data-dependent parts.
        let mut flat = Affine::constant(0);
        for (d, ix) in a.index.iter().enumerate() {
            flat = flat.add_scaled(ix, strides[d] as i64);
        }
        let mut off = self.affine(&flat);
        for (d, v) in dynamic.iter().enumerate() {
            if let Some(v) = v {
                let scaled = if strides[d] == 1 {
                    *v
                } else {
                    self.b.ins().imul_imm_s(*v, strides[d] as i64)
                };
                off = self.b.ins().iadd(off, scaled);
            }
        }
        let bytes = if store.bytes() == 1 {
            off
        } else {
            self.b.ins().imul_imm_s(off, store.bytes() as i64)
        };
        let base = self.ptr(a.tensor);
        (self.b.ins().iadd(base, bytes), off)
    }

    /// Loads an element of a tensor, as its storage representation.
    pub fn load_elem(&mut self, a: &Access, span: Span) -> R<(CValue, Rep)> {
        let elem = self.inst.tensor(a.tensor).elem;
        let (addr, _) = self.address_dyn(a, span)?;
        let rep = Rep::of(&elem).expect("checked");
        let v = self
            .b
            .ins()
            .load(rep.ty(), MemFlagsData::trusted(), addr, 0);
        Ok((v, rep))
    }
}
