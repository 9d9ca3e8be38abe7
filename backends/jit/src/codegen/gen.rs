//! The state of one function being generated ([`Gen`]) and its small tools: constants
//! and moves between representations.
//!
//! The statement, expression, conversion and loop code generators are `impl Gen` blocks
//! in the sibling files; SIMD loops come in through [`LoopEmitter`] (vector/).

use crate::bindot::BinDots;
use crate::codegen::error::{Site, Unsupported, R};
use crate::helpers::Helpers;
use crate::locals::LocalPlans;
use crate::rep::{int_ty, Exact, Rep};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use cranelift_frontend::{FunctionBuilder, Variable};
use kiln_numeric::{Interval, ScalarType};
use kiln_passes::ir::*;
use std::collections::HashMap;

/// Emits a loop in a form of its own (SIMD code, vector/), or leaves it to the scalar code.
pub trait LoopEmitter {
    /// Emits `l` and returns `true`, or emits nothing and returns `false`.
    fn try_loop(&mut self, g: &mut Gen, l: &Loop) -> R<bool>;
}

/// State while generating one function.
pub struct Gen<'a, 'b> {
    pub inst: &'a Instance,
    pub b: FunctionBuilder<'b>,
    pub helpers: &'a Helpers,
    pub ptrs: HashMap<TensorId, CValue>,
    /// How locals are held (locals.rs).
    pub lplans: LocalPlans,
    /// Binary dot products (bindot.rs) and their packed operands' buffers.
    pub bindots: BinDots,
    pub scratch: Vec<CValue>,
    /// Written-element flags (one byte per element) of the tensors that need them.
    pub shadows: HashMap<TensorId, CValue>,
    /// The loop whose bounds come from the function's `lo`, `hi` parameters (the loop
    /// the runtime splits across threads).
    pub outer: Option<(LoopVarId, CValue, CValue)>,
    pub locals: HashMap<LocalId, Variable>,
    pub loops: HashMap<LoopVarId, Variable>,
    pub active: Vec<LoopVarId>,
    pub ctx_ptr: CValue,
    /// The node function's `ptrs` parameter and what each of its slots holds (for calls).
    pub slot_base: CValue,
    pub slot_list: Vec<crate::codegen::node::Slot>,
    pub sites: Vec<Site>,
    /// Constant type descriptors handed to helpers (kept alive by the program).
    pub descs: &'a mut Vec<Box<ScalarType>>,
    /// SIMD loops (vector/), when the node is vectorized.
    pub vec: Option<Box<dyn LoopEmitter + 'a>>,
    /// Count overflows at conversions (`--check-overflow`): every conversion to an int or
    /// fixed type that may overflow goes through a counting helper.
    pub check_overflow: bool,
}

impl Gen<'_, '_> {
    /// A `bits`-bit integer constant (two halves for 128 bits).
    pub fn iconst(&mut self, bits: u32, v: i128) -> CValue {
        if bits <= 64 {
            return self.b.ins().iconst(int_ty(bits), v as i64);
        }
        let lo = self.b.ins().iconst(types::I64, v as i64);
        let hi = self.b.ins().iconst(types::I64, (v >> 64) as i64);
        self.b.ins().iconcat(lo, hi)
    }

    /// Changes the container of an exact value (extending by its signedness) and raises
    /// its fractional bits to `frac` (exact: a left shift).
    pub fn coerce(&mut self, v: CValue, from: Rep, bits: u32, frac: i32) -> CValue {
        let Exact {
            bits: fb,
            signed,
            frac: ff,
            ..
        } = from.exact().expect("coerce of a non-exact value");
        let mut v = v;
        if frac < ff {
            // Lower the fractional bits first, in the source container. Exact: callers
            // only lower them for values that are multiples of the coarser LSB.
            let d = ((ff - frac) as i64).min(fb as i64 - 1);
            v = if signed {
                self.b.ins().sshr_imm_s(v, d)
            } else {
                self.b.ins().ushr_imm_s(v, d)
            };
        }
        if bits > fb {
            v = if signed {
                self.b.ins().sextend(int_ty(bits), v)
            } else {
                self.b.ins().uextend(int_ty(bits), v)
            };
        } else if bits < fb {
            v = self.b.ins().ireduce(int_ty(bits), v);
        }
        if frac > ff {
            // Modulo 2^bits: a shift by the width or more leaves 0.
            let up = (frac - ff) as i64;
            v = if up >= bits as i64 {
                self.iconst(bits, 0)
            } else {
                self.b.ins().ishl_imm_s(v, up)
            };
        }
        v
    }

    /// Coerces to exactly the representation `to` (an exact rep).
    pub fn coerce_to(&mut self, v: CValue, from: Rep, to: Rep) -> CValue {
        match to {
            Rep::Exact { bits, frac, .. } => self.coerce(v, from, bits, frac),
            _ => v,
        }
    }

    /// An exact value in another exact representation of the same value (the expression's
    /// inferred type may be narrower than the storage it came from); other kinds unchanged.
    pub fn fit(&mut self, v: CValue, from: Rep, to: Rep) -> CValue {
        match (from, to) {
            (Rep::Exact { .. }, Rep::Exact { .. }) => self.coerce_to(v, from, to),
            _ => v,
        }
    }

    pub fn expr_rep(&self, e: ExprId) -> R<Rep> {
        let t = self
            .inst
            .expr_type(e)
            .ok_or_else(|| self.unsupported(e, "an untyped expression"))?;
        Rep::of(t).ok_or_else(|| {
            self.unsupported(e, &format!("a value of type {t}, wider than 128 bits"))
        })
    }

    pub fn unsupported(&self, e: ExprId, what: &str) -> Unsupported {
        Unsupported {
            span: self.inst.expr_spans[e.index()],
            what: what.to_string(),
        }
    }

    pub fn range(&self, e: ExprId) -> Option<&Interval> {
        self.inst.expr_ranges[e.index()].as_ref()
    }

    /// The base pointer of a tensor's buffer.
    pub fn ptr(&mut self, t: TensorId) -> CValue {
        self.ptrs[&t]
    }
}
