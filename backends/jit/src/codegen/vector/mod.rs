//! SIMD code for loops whose iterations are independent (outer-loop vectorization).
//!
//! Cranelift does not vectorize, so kiln does. A loop qualifies when its iterations touch
//! disjoint elements of every tensor they write, share no scalar state, and every access
//! that depends on the loop variable is proven in bounds and contiguous in it. Its body
//! then runs `VF` iterations at once (16 lanes, 8 with 64-bit values): values that depend
//! on the loop variable become lanes in 128-bit registers (i8x16, i16x8, i32x4, i64x2,
//! f32x4), as many registers as their width needs, widened and narrowed between types
//! exactly like the scalar code changes containers; values that do not depend on it stay
//! scalar. Inner loops (reductions) stay loops, so every lane sums in program order: f32
//! results are bit-identical to the scalar code, and the extra registers of a wide
//! accumulator are the register blocking.
//!
//! Before (one output per iteration):
//! ```text
//! for j in 0..56:
//!   acc: f32 = 0.0
//!   for c in 0..64: acc = acc + x[c, j] * w[c]
//!   y[j] = acc
//! ```
//! After (16 outputs per iteration, four f32x4 accumulators, and a last group that
//! overlaps the previous one instead of a scalar remainder):
//! ```text
//! for j0 in 0..56 step 16 (the last one at 40):
//!   acc[0..4] = splat 0.0
//!   for c in 0..64: w_c = splat w[c]; acc[r] = acc[r] + load x[c, j0 + 4r ..] * w_c
//!   store y[j0 ..] = acc[0..4]
//! ```
//!
//! Code is emitted speculatively: if a construct turns out to have no SIMD form, the
//! partial code is left unreachable and the loop is emitted as scalar code.
//!
//! - plan.rs: the legality check and the vector factor; reduction.rs: reductions (plan
//!   and code); value.rs: SIMD values and vector types; emitter.rs: the emitter's state;
//! - loops.rs: the loop structure (groups of lanes, then scalar code); stmt.rs, expr.rs,
//!   binary.rs, convert.rs: statements, expressions, binary operations, conversions in
//!   lanes; lanes.rs: moving lanes between widths, masks; memory.rs: loads and stores.

mod binary;
mod convert;
mod emitter;
mod expr;
mod lanes;
mod loops;
mod memory;
mod plan;
mod reduction;
mod stmt;
mod value;

use crate::codegen::error::R;
use crate::codegen::gen::{Gen, LoopEmitter};
use crate::codegen::vector::emitter::{Emitter, VErr};
use crate::codegen::vector::plan::plan;
use crate::codegen::vector::reduction::reduction_plan;
use cranelift_codegen::ir::{InstBuilder, TrapCode};
use kiln_passes::ir::*;
use std::collections::HashMap;

/// Decides and emits SIMD loops for one node.
pub struct Vectorizer<'a> {
    node: &'a Block,
}

impl<'a> Vectorizer<'a> {
    pub fn new(node: &'a Block) -> Vectorizer<'a> {
        Vectorizer { node }
    }
}

impl LoopEmitter for Vectorizer<'_> {
    /// Emits `l` with SIMD and returns `true`, or emits nothing and returns `false`.
    fn try_loop(&mut self, g: &mut Gen, l: &Loop) -> R<bool> {
        // Binary dot products stay scalar (popcount over packed words, bindot.rs).
        if g.bindots.inside(&l.body) {
            return Ok(false);
        }
        let (plan, reduction) = match plan(g.inst, &g.lplans, self.node, l) {
            Some(p) => (p, None),
            None => match reduction_plan(g.inst, &g.lplans, l) {
                Some((p, r)) => (p, Some(r)),
                None => return Ok(false),
            },
        };
        // Speculative emission: the vector code starts in a block nothing jumps to yet.
        let decide = g.b.create_block();
        g.b.ins().jump(decide, &[]);
        let start = g.b.create_block();
        let first_new = g.b.func.dfg.num_blocks();
        g.b.switch_to_block(start);
        let active = g.active.len();
        let mut em = Emitter {
            plan: &plan,
            vlocals: HashMap::new(),
        };
        let emitted = match reduction {
            Some(r) => em.emit_reduction(g, l, &r),
            None => em.emit_loop(g, l),
        };
        match emitted {
            Ok(()) => {
                let after = g.b.current_block().expect("in a block");
                g.b.switch_to_block(decide);
                g.b.seal_block(decide);
                g.b.ins().jump(start, &[]);
                g.b.seal_block(start);
                g.b.switch_to_block(after);
                Ok(true)
            }
            Err(VErr::Fatal(u)) => Err(u),
            Err(VErr::Abandon(_why)) => {
                g.active.truncate(active);
                // Abandoning happens mid-block, before any terminator; blocks made for
                // code not emitted yet get a terminator too (the verifier wants every
                // referenced block in the layout). All of it stays unreachable.
                let trap = TrapCode::user(1).expect("a user trap code");
                g.b.ins().trap(trap);
                for id in first_new..g.b.func.dfg.num_blocks() {
                    let blk = cranelift_codegen::ir::Block::from_u32(id as u32);
                    if !g.b.func.layout.is_block_inserted(blk) {
                        g.b.switch_to_block(blk);
                        g.b.ins().trap(trap);
                    }
                }
                g.b.seal_block(start);
                g.b.switch_to_block(decide);
                g.b.seal_block(decide);
                Ok(false)
            }
        }
    }
}
