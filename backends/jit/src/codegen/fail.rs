//! Run-time failure exits: a branch that fills the error context and returns 1.

use crate::codegen::error::{ErrCtx, Site};
use crate::codegen::gen::Gen;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use std::mem::offset_of;

impl Gen<'_, '_> {
    /// Emits `if cond { report code at site; return 1 }`.
    pub fn fail_if(&mut self, cond: CValue, code: u32, site: Site, idx: &[CValue]) {
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(cond, fail, &[], cont, &[]);
        self.b.switch_to_block(fail);
        self.b.seal_block(fail);
        let site_id = self.sites.len() as u32;
        self.sites.push(site);
        let f = MemFlagsData::trusted();
        let c = self.b.ins().iconst(types::I32, code as i64);
        self.b
            .ins()
            .store(f, c, self.ctx_ptr, offset_of!(ErrCtx, code) as i32);
        let s = self.b.ins().iconst(types::I32, site_id as i64);
        self.b
            .ins()
            .store(f, s, self.ctx_ptr, offset_of!(ErrCtx, site) as i32);
        let off = |field: usize, k: usize, size: usize| (field + k * size) as i32;
        for (k, &v) in idx.iter().take(16).enumerate() {
            self.b
                .ins()
                .store(f, v, self.ctx_ptr, off(offset_of!(ErrCtx, idx), k, 8));
        }
        let active = self.active.clone();
        let n = self.b.ins().iconst(types::I32, active.len().min(16) as i64);
        self.b
            .ins()
            .store(f, n, self.ctx_ptr, off(offset_of!(ErrCtx, nloops), 0, 0));
        for (k, lv) in active.iter().take(16).enumerate() {
            let id = self.b.ins().iconst(types::I32, lv.0 as i64);
            self.b
                .ins()
                .store(f, id, self.ctx_ptr, off(offset_of!(ErrCtx, loop_ids), k, 4));
            let var = self.loops[lv];
            let val = self.b.use_var(var);
            self.b.ins().store(
                f,
                val,
                self.ctx_ptr,
                off(offset_of!(ErrCtx, loop_vals), k, 8),
            );
        }
        let one = self.b.ins().iconst(types::I32, 1);
        self.b.ins().return_(&[one]);
        self.b.switch_to_block(cont);
        self.b.seal_block(cont);
    }
}
