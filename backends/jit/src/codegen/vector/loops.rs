//! The structure of a SIMD loop: groups of `VF` iterations, then the rest as scalar code
//! (or a last group that overlaps the previous one).

use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::{Emitter, VR};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value as CValue};
use cranelift_frontend::Variable;
use kiln_passes::ir::*;

/// Opens `while var < hi` with `var = lo`: returns its head and exit blocks, with the
/// builder in the body (which must advance `var`, then call [`close_loop`]).
pub(crate) fn open_loop(
    g: &mut Gen,
    var: Variable,
    lo: CValue,
    hi: CValue,
) -> (cranelift_codegen::ir::Block, cranelift_codegen::ir::Block) {
    g.b.def_var(var, lo);
    let head = g.b.create_block();
    let body = g.b.create_block();
    let exit = g.b.create_block();
    g.b.ins().jump(head, &[]);
    g.b.switch_to_block(head);
    let j = g.b.use_var(var);
    let go = g.b.ins().icmp(IntCC::SignedLessThan, j, hi);
    g.b.ins().brif(go, body, &[], exit, &[]);
    g.b.switch_to_block(body);
    g.b.seal_block(body);
    (head, exit)
}

/// Ends a loop [`open_loop`] opened; the builder continues after it.
pub(crate) fn close_loop(
    g: &mut Gen,
    head: cranelift_codegen::ir::Block,
    exit: cranelift_codegen::ir::Block,
) {
    g.b.ins().jump(head, &[]);
    g.b.seal_block(head);
    g.b.switch_to_block(exit);
    g.b.seal_block(exit);
}

impl Emitter<'_> {
    pub(crate) fn emit_loop(&mut self, g: &mut Gen, l: &Loop) -> VR<()> {
        let (lo, hi) = g.loop_bounds(l);
        let vf = self.vf() as i64;
        let var = g.loop_var(l.var);
        let after = g.b.create_block();
        if self.plan.overlap {
            // Enough iterations for one group: groups of VF, the last one moved back to
            // end at `hi`; fewer: scalar code.
            let n = g.b.ins().isub(hi, lo);
            let enough = g.b.ins().icmp_imm_s(IntCC::SignedGreaterThanOrEqual, n, vf);
            let vec_entry = g.b.create_block();
            let scalar_entry = g.b.create_block();
            g.b.ins().brif(enough, vec_entry, &[], scalar_entry, &[]);
            g.b.switch_to_block(vec_entry);
            g.b.seal_block(vec_entry);
            let last = g.b.ins().iadd_imm_s(hi, -vf);
            self.group_loop(g, l, var, lo, hi, Some(last))?;
            g.b.ins().jump(after, &[]);
            g.b.switch_to_block(scalar_entry);
            g.b.seal_block(scalar_entry);
            g.scalar_loop(l, lo, hi)?;
            g.b.ins().jump(after, &[]);
        } else {
            // Groups of VF while they fit, then the rest as scalar code.
            let limit = g.b.ins().iadd_imm_s(hi, -(vf - 1));
            self.group_loop(g, l, var, lo, limit, None)?;
            let rest = g.b.use_var(var);
            g.scalar_loop(l, rest, hi)?;
            g.b.ins().jump(after, &[]);
        }
        g.b.switch_to_block(after);
        g.b.seal_block(after);
        Ok(())
    }

    /// `for (j = lo; j < hi; j += VF) body(min(j, last))`; leaves the variable at the end.
    fn group_loop(
        &mut self,
        g: &mut Gen,
        l: &Loop,
        var: Variable,
        lo: CValue,
        hi: CValue,
        last: Option<CValue>,
    ) -> VR<()> {
        let (head, exit) = open_loop(g, var, lo, hi);
        let j = g.b.use_var(var);
        let base = match last {
            Some(last) => g.b.ins().smin(j, last),
            None => j,
        };
        g.b.def_var(var, base);
        g.active.push(l.var);
        self.block(g, &l.body)?;
        g.active.pop();
        let next = g.b.ins().iadd_imm_s(base, self.vf() as i64);
        g.b.def_var(var, next);
        close_loop(g, head, exit);
        Ok(())
    }
}
