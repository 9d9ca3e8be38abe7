//! One compute node → one native function.
//!
//! Every compute node becomes `extern "C" fn(ptrs: *const *mut u8, ctx: *mut ErrCtx) -> i32`:
//! `ptrs[k]` is the buffer of the node's k-th tensor (`NodeCode::tensors`), the return value
//! is 0, or 1 after filling `ctx` with a run-time error (an index out of bounds, a division
//! by zero).
//!
//! Values are kept as in layout.rs: an exact value of inferred type `T` is its mantissa in
//! the narrowest native integer holding `T`'s width. Every operation widens its operands to
//! its own (inferred) type first, so nothing overflows and results are exact; conversions to
//! declared types emit the quantization and overflow sequence of the target's modes, and
//! skip whatever the value's range makes unnecessary. Rare, wide or intricate cases (128-bit
//! division, f32 ↔ fixed conversions of 128-bit values, the `wrap_sm` and saturation-bit
//! overflow modes) call small Rust helpers that use kiln-numeric itself.

use crate::arith::{min_max, plan_fixed, plan_int, Lane};
use crate::bindot::BinDots;
use crate::helpers::{Helpers, DIV_FLOOR, DIV_TRUNC, MOD_FLOOR};
use crate::layout::{container, frac_of, store_of};
use crate::locals::LocalPlans;
use crate::vector::Vectorizer;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, InstBuilder, MemFlagsData, StackSlotData, StackSlotKind, Type, Value as CValue,
};
use cranelift_frontend::{FunctionBuilder, Variable};
use kiln_numeric::{Fx, Interval, ScalarType};
use kiln_passes::ir::*;
use kiln_passes::Span;
use std::collections::HashMap;
use std::mem::offset_of;

/// Loops with at most this many iterations (and constant bounds) are unrolled...
const MAX_UNROLL: usize = 4;
/// ... when the loops they hold are unrolled too, into at most this many copies.
const MAX_UNROLL_COPIES: usize = 16;
/// Binary dot products over at most this many words are unrolled.
const MAX_UNROLL_WORDS: i64 = 8;

/// The error codes a native function reports.
/// The representation of index values (a data-dependent index is converted to it).
const INDEX_REP: Rep = Rep::Exact {
    bits: 64,
    width: 64,
    signed: true,
    frac: 0,
};

pub const ERR_BOUNDS: u32 = 1;
pub const ERR_DIV_ZERO: u32 = 2;
/// A `Fail` statement (its message is in the site).
pub const ERR_FAIL: u32 = 3;

/// Where the error details of a native function go (shared with the runtime).
#[repr(C)]
#[derive(Debug, Default, Clone)]
pub struct ErrCtx {
    pub code: u32,
    /// Index into `NodeCode::sites`.
    pub site: u32,
    /// The index of the failing access, one value per dimension (the first 16).
    pub idx: [i64; 16],
    /// The active loop variables (ids and values), outermost first.
    pub nloops: u32,
    pub loop_ids: [u32; 16],
    pub loop_vals: [i64; 16],
}

/// A place that can fail at run time.
#[derive(Clone, Debug)]
pub struct Site {
    pub span: Span,
    /// The tensor of an access (for bounds errors).
    pub tensor: Option<TensorId>,
    /// The message of a `Fail` statement.
    pub message: Option<String>,
}

/// Why a node cannot be compiled.
#[derive(Clone, Debug)]
pub struct Unsupported {
    pub span: Span,
    pub what: String,
}

/// How an SSA value represents a kiln value.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Rep {
    Bool,
    F32,
    /// A mantissa with `frac` fractional bits, `width` significant bits, in a `bits`-bit
    /// integer, sign- or zero-extended.
    Exact {
        bits: u32,
        width: u32,
        signed: bool,
        frac: i32,
    },
}

impl Rep {
    pub fn of(t: &ScalarType) -> Option<Rep> {
        Some(match t {
            ScalarType::Bool => Rep::Bool,
            ScalarType::F32 => Rep::F32,
            ScalarType::Bin | ScalarType::Tern => Rep::Exact {
                bits: 8,
                width: 2,
                signed: true,
                frac: 0,
            },
            ScalarType::Int(i) => Rep::Exact {
                bits: container(i.width)?,
                width: i.width,
                signed: i.signed,
                frac: 0,
            },
            ScalarType::Fixed(f) => Rep::Exact {
                bits: container(f.width)?,
                width: f.width,
                signed: f.signed,
                frac: f.frac_bits(),
            },
        })
    }

    pub fn ty(self) -> Type {
        match self {
            Rep::Bool => types::I8,
            Rep::F32 => types::F32,
            Rep::Exact { bits, .. } => int_ty(bits),
        }
    }
}

pub fn int_ty(bits: u32) -> Type {
    match bits {
        8 => types::I8,
        16 => types::I16,
        32 => types::I32,
        64 => types::I64,
        _ => types::I128,
    }
}

/// The compiled form of a node, before finalization.
pub struct NodeCode {
    /// The tensors whose buffers the function takes, in `ptrs` order.
    pub tensors: Vec<TensorId>,
    pub sites: Vec<Site>,
}

pub type R<T> = Result<T, Unsupported>;

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
    pub sites: Vec<Site>,
    /// Constant type descriptors handed to helpers (kept alive by the program).
    pub descs: &'a mut Vec<Box<ScalarType>>,
    pub vec: Option<Vectorizer<'a>>,
}

impl<'a, 'b> Gen<'a, 'b> {
    // ------------------------------------------------------------ small tools

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
        let Rep::Exact {
            bits: fb,
            signed,
            frac: ff,
            ..
        } = from
        else {
            panic!("coerce of a non-exact value");
        };
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

    /// The base pointer of a tensor's buffer.
    pub fn ptr(&mut self, t: TensorId) -> CValue {
        self.ptrs[&t]
    }

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
                    Some(self.coerce_to(v, rep, INDEX_REP))
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

    // ------------------------------------------------------------ statements

    pub fn block(&mut self, blk: &Block_) -> R<()> {
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
                };
                self.fail_if(always, ERR_FAIL, site, &[]);
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

    /// One word of a binary dot product: `acc += bits(q) - 2 * popcount(x_q ^ w_q)`.
    fn bindot_step(&mut self, acc: LocalId, value: ExprId) -> R<()> {
        let dot = self
            .bindots
            .by_value(value)
            .expect("a dot statement")
            .clone();
        // Mismatching bits over all words (the word loop is innermost): unrolled when
        // the words are few (2 for 128 channels), a loop otherwise.
        let words = dot.words();
        let mismatches = if words <= MAX_UNROLL_WORDS {
            let mut total = self.b.ins().iconst(types::I64, 0);
            for q in 0..words {
                let q = self.b.ins().iconst(types::I64, q);
                let m = self.bindot_mismatches(&dot, q);
                total = self.b.ins().iadd(total, m);
            }
            total
        } else {
            let head = self.b.create_block();
            let body = self.b.create_block();
            let exit = self.b.create_block();
            self.b.append_block_param(head, types::I64);
            self.b.append_block_param(head, types::I64);
            self.b.append_block_param(exit, types::I64);
            let zero = self.b.ins().iconst(types::I64, 0);
            self.b.ins().jump(head, &[zero.into(), zero.into()]);
            self.b.switch_to_block(head);
            let (q, total) = (self.b.block_params(head)[0], self.b.block_params(head)[1]);
            let go = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, q, words);
            self.b.ins().brif(go, body, &[], exit, &[total.into()]);
            self.b.switch_to_block(body);
            self.b.seal_block(body);
            let m = self.bindot_mismatches(&dot, q);
            let total = self.b.ins().iadd(total, m);
            let next = self.b.ins().iadd_imm_s(q, 1);
            self.b.ins().jump(head, &[next.into(), total.into()]);
            self.b.seal_block(head);
            self.b.switch_to_block(exit);
            self.b.seal_block(exit);
            self.b.block_params(exit)[0]
        };
        // n products: n - 2 * mismatches.
        let twice = self.b.ins().ishl_imm_s(mismatches, 1);
        let n = self.b.ins().iconst(types::I64, dot.n);
        let sum = self.b.ins().isub(n, twice);
        let var = self.local_var(acc)?;
        let Some(Rep::Exact { bits, frac, .. }) = self.lplans.storage(self.inst, acc) else {
            return Err(Unsupported {
                span: self.inst.local(acc).span,
                what: "a binary dot product into a non-exact accumulator".into(),
            });
        };
        let i64_rep = Rep::Exact {
            bits: 64,
            width: 64,
            signed: true,
            frac: 0,
        };
        let sum = self.coerce(sum, i64_rep, bits, frac);
        let cur = self.b.use_var(var);
        let new = self.b.ins().iadd(cur, sum);
        self.b.def_var(var, new);
        Ok(())
    }

    /// `popcount(x_q ^ w_q)` for word `q` of a binary dot product (padding bits are 0
    /// in both).
    fn bindot_mismatches(&mut self, dot: &crate::bindot::BinDot, q: CValue) -> CValue {
        let mut words = Vec::new();
        for (pk, access) in &dot.operands {
            let p = &self.bindots.packings[*pk];
            let strides = kiln_passes::data::strides(&p.shape(self.inst));
            let mut flat = Affine::constant(0);
            let others = access.index.iter().enumerate().filter(|(d, _)| *d != p.dim);
            for (k, (_, ix)) in others.enumerate() {
                flat = flat.add_scaled(ix, strides[k] as i64);
            }
            let off = self.affine(&flat);
            let off = self.b.ins().iadd(off, q);
            let bytes = self.b.ins().imul_imm_s(off, 8);
            let addr = self.b.ins().iadd(self.scratch[*pk], bytes);
            words.push(
                self.b
                    .ins()
                    .load(types::I64, MemFlagsData::trusted(), addr, 0),
            );
        }
        let diff = self.b.ins().bxor(words[0], words[1]);
        self.b.ins().popcnt(diff)
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

    fn for_loop(&mut self, l: &Loop) -> R<()> {
        if self.bindots.by_var(l.var).is_some() {
            // The reduction over bits runs over words, innermost (bindot_step).
            return self.block(&l.body);
        }
        if let Some(done) = self.try_vectorize(l)? {
            if done {
                return Ok(());
            }
        }
        if let Some(flag) = self.stop_flag(l) {
            if self.unrolled_values(l).is_none() {
                // Once the flag is set the remaining iterations do nothing: stop there.
                let flag = self.local_var(flag)?;
                let (lo, hi) = self.loop_bounds(l);
                return self
                    .counted_loop_until(l, lo, hi, l.step, Some(flag), &mut |g| g.block(&l.body));
            }
        }
        self.loop_or_unrolled(l, &mut |g| g.block(&l.body))
    }

    /// The flag of a loop lowered from `while` or `break` (lower.rs): the body is one
    /// `if not f:` and the loop only ever sets `f` to true, so once `f` is set every
    /// remaining iteration does nothing.
    fn stop_flag(&self, l: &Loop) -> Option<LocalId> {
        let [Stmt::If {
            cond, else_block, ..
        }] = l.body.as_slice()
        else {
            return None;
        };
        if !else_block.is_empty() {
            return None;
        }
        let Expr::Unary(UnOp::Not, x) = self.inst.expr(*cond) else {
            return None;
        };
        let Expr::Local(f) = self.inst.expr(*x) else {
            return None;
        };
        let mut only_set = true;
        walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::Assign { local, value, .. } = s {
                if local == f {
                    only_set &= matches!(self.inst.expr(*value), Expr::Const(Value::Bool(true)));
                }
            }
        });
        only_set.then_some(*f)
    }

    /// The iterations of a loop short enough to unroll: constant bounds, at most
    /// `MAX_UNROLL` iterations, only unrolled loops inside and at most `MAX_UNROLL`
    /// copies of the innermost body in all (a 3x3 window), not the loop threads split.
    fn unrolled_values(&self, l: &Loop) -> Option<Vec<i64>> {
        if matches!(self.outer, Some((v, ..)) if v == l.var) {
            return None;
        }
        fn values(l: &Loop) -> Option<Vec<i64>> {
            let (lo, hi) = (l.lo.as_constant()?, l.hi.as_constant()?);
            Some(if l.step > 0 {
                (lo..hi).step_by(l.step as usize).collect()
            } else {
                (hi + 1..=lo).rev().step_by(-l.step as usize).collect()
            })
        }
        fn copies(l: &Loop) -> Option<usize> {
            let n = values(l)?.len();
            if n > MAX_UNROLL {
                return None;
            }
            let mut inner = 1;
            for s in &l.body {
                match s {
                    Stmt::For(x) => inner = inner.max(copies(x)?),
                    Stmt::If {
                        then_block,
                        else_block,
                        ..
                    } => {
                        let mut nested = Vec::new();
                        walk_stmts(then_block, &mut Vec::new(), &mut |s, _| {
                            nested.push(matches!(s, Stmt::For(_)))
                        });
                        walk_stmts(else_block, &mut Vec::new(), &mut |s, _| {
                            nested.push(matches!(s, Stmt::For(_)))
                        });
                        if nested.into_iter().any(|f| f) {
                            return None;
                        }
                    }
                    _ => {}
                }
            }
            let total = n * inner;
            (total <= MAX_UNROLL_COPIES).then_some(total)
        }
        copies(l)?;
        values(l)
    }

    /// Emits `l` around `body`: unrolled when short (cranelift does not unroll), a
    /// counted loop otherwise.
    pub fn loop_or_unrolled<E>(
        &mut self,
        l: &Loop,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(values) = self.unrolled_values(l) {
            let var = self.loop_var(l.var);
            self.active.push(l.var);
            for v in values {
                let c = self.b.ins().iconst(types::I64, v);
                self.b.def_var(var, c);
                if let Err(e) = body(self) {
                    self.active.pop();
                    return Err(e);
                }
            }
            self.active.pop();
            return Ok(());
        }
        let (lo, hi) = self.loop_bounds(l);
        self.counted_loop(l, lo, hi, l.step, body)
    }

    /// Emits `if c { branch(true) } else { branch(false) }` (`c` an `i8` 0/1).
    pub fn if_else<E>(
        &mut self,
        c: CValue,
        branch: &mut dyn FnMut(&mut Self, bool) -> Result<(), E>,
    ) -> Result<(), E> {
        let tb = self.b.create_block();
        let eb = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(c, tb, &[], eb, &[]);
        for (block, taken) in [(tb, true), (eb, false)] {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            branch(self, taken)?;
            self.b.ins().jump(done, &[]);
        }
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        Ok(())
    }

    /// The Variable of a loop variable.
    pub fn loop_var(&mut self, v: LoopVarId) -> Variable {
        match self.loops.get(&v) {
            Some(v) => *v,
            None => {
                let var = self.b.declare_var(types::I64);
                self.loops.insert(v, var);
                var
            }
        }
    }

    /// A loop's first value and bound (from the function's parameters for the loop the
    /// runtime splits across threads).
    pub fn loop_bounds(&mut self, l: &Loop) -> (CValue, CValue) {
        match self.outer {
            Some((v, lo, hi)) if v == l.var => (lo, hi),
            _ => (self.affine(&l.lo), self.affine(&l.hi)),
        }
    }

    /// Emits `for var in lo..hi (step)` around `body`, which emits the loop body.
    pub fn counted_loop<E>(
        &mut self,
        l: &Loop,
        lo: CValue,
        hi: CValue,
        step: i64,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        self.counted_loop_until(l, lo, hi, step, None, body)
    }

    /// [`Gen::counted_loop`] that also stops before an iteration when the bool variable
    /// `stop` is set.
    pub fn counted_loop_until<E>(
        &mut self,
        l: &Loop,
        lo: CValue,
        hi: CValue,
        step: i64,
        stop: Option<Variable>,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        let var = self.loop_var(l.var);
        self.b.def_var(var, lo);
        let head = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let i = self.b.use_var(var);
        let mut go = if step > 0 {
            self.b.ins().icmp(IntCC::SignedLessThan, i, hi)
        } else {
            self.b.ins().icmp(IntCC::SignedGreaterThan, i, hi)
        };
        if let Some(stop) = stop {
            let f = self.b.use_var(stop);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, f, 0);
            go = self.b.ins().band(go, clear);
        }
        self.b.ins().brif(go, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        self.b.seal_block(body_block);
        self.active.push(l.var);
        let r = body(self);
        self.active.pop();
        r?;
        let i = self.b.use_var(var);
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.def_var(var, next);
        self.b.ins().jump(head, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        Ok(())
    }

    /// The loop as scalar code from `lo` to `hi`.
    pub fn scalar_loop(&mut self, l: &Loop, lo: CValue, hi: CValue) -> R<()> {
        self.counted_loop(l, lo, hi, l.step, &mut |g| g.block(&l.body))
    }

    fn try_vectorize(&mut self, l: &Loop) -> R<Option<bool>> {
        let Some(mut vec) = self.vec.take() else {
            return Ok(None);
        };
        let r = vec.try_loop(self, l);
        self.vec = Some(vec);
        r.map(Some)
    }

    // ------------------------------------------------------------ expressions

    /// A bool-valued expression as an `i8` 0/1.
    pub fn bool_expr(&mut self, e: ExprId) -> R<CValue> {
        let (v, rep) = self.expr(e)?;
        debug_assert_eq!(rep, Rep::Bool);
        Ok(v)
    }

    /// Whether evaluating `e` can neither fail nor read out of bounds (so that both branches
    /// of a conditional may be evaluated).
    pub fn is_safe(&self, e: ExprId) -> bool {
        match self.inst.expr(e) {
            Expr::Load(a) => !a.checked && !a.guarded && a.dynamic_exprs().all(|d| self.is_safe(d)),
            Expr::Binary(BinOp::Div | BinOp::FloorDiv | BinOp::Mod, a, b) => {
                let nonzero = self.range(*b).is_some_and(|r| !r.contains_zero());
                let float = matches!(self.inst.expr_type(*b), Some(ScalarType::F32));
                (nonzero || float) && self.is_safe(*a) && self.is_safe(*b)
            }
            other => expr_operands(other).into_iter().all(|o| self.is_safe(o)),
        }
    }

    pub fn expr(&mut self, e: ExprId) -> R<(CValue, Rep)> {
        let rep = self.expr_rep(e)?;
        let v = match self.inst.expr(e).clone() {
            Expr::Const(v) => match (v, rep) {
                (Value::Bool(b), _) => self.b.ins().iconst(types::I8, b as i64),
                (Value::F32(f), _) => self.b.ins().f32const(f),
                (Value::Num(x), Rep::Exact { bits, frac, .. }) => {
                    // The type holds the value, and Rep::of checked it is at most 128 bits.
                    let m = crate::layout::low_bits128(&x, frac);
                    self.iconst(bits, m)
                }
                _ => return Err(self.unsupported(e, "a constant of an unexpected type")),
            },
            Expr::Local(l) => {
                let (v, from) = self.read_local(l)?;
                self.coerce_to(v, from, rep)
            }
            Expr::LoopVar(lv) => {
                let v = self.b.use_var(self.loops[&lv]);
                let from = Rep::Exact {
                    bits: 64,
                    width: 64,
                    signed: true,
                    frac: 0,
                };
                self.coerce_to(v, from, rep)
            }
            Expr::Load(a) => {
                let span = self.inst.expr_spans[e.index()];
                let (v, from) = self.load_elem(&a, span)?;
                match from {
                    Rep::Exact { .. } => self.coerce_to(v, from, rep),
                    _ => v,
                }
            }
            Expr::Unary(op, a) => {
                let (x, xr) = self.expr(a)?;
                match (op, rep) {
                    (UnOp::Not, _) => self.b.ins().bxor_imm_s(x, 1),
                    (UnOp::Neg, Rep::F32) => self.b.ins().fneg(x),
                    (UnOp::Abs, Rep::F32) => self.b.ins().fabs(x),
                    (UnOp::Neg, _) => {
                        let x = self.coerce_to(x, xr, rep);
                        self.b.ins().ineg(x)
                    }
                    (UnOp::Abs, Rep::Exact { bits, frac, .. }) => {
                        // In a container holding the operand with its sign (|x| can need
                        // fewer bits than x).
                        let Rep::Exact {
                            bits: xb,
                            signed: xs,
                            ..
                        } = xr
                        else {
                            unreachable!()
                        };
                        let wb = bits.max(xb);
                        let w = self.coerce(x, xr, wb, frac);
                        // Unsigned values are their own absolute value.
                        let a = if xs { self.b.ins().iabs(w) } else { w };
                        let arep = Rep::Exact {
                            bits: wb,
                            width: wb,
                            signed: false,
                            frac,
                        };
                        self.fit(a, arep, rep)
                    }
                    (UnOp::BitNot, _) => {
                        let x = self.coerce_to(x, xr, rep);
                        self.b.ins().bnot(x)
                    }
                    (UnOp::Abs, _) => return Err(self.unsupported(e, "`abs` of a bool")),
                }
            }
            Expr::Binary(op, a, b) => return self.binary(e, op, a, b, rep),
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.bool_expr(cond)?;
                if self.is_safe(then) && self.is_safe(otherwise) {
                    let (t, tr) = self.expr(then)?;
                    let (o, or) = self.expr(otherwise)?;
                    let t = self.fit(t, tr, rep);
                    let o = self.fit(o, or, rep);
                    if rep.ty() == types::I128 {
                        // As a mask: cranelift's optimizer turns `select(x < y, x, y)` into a
                        // 128-bit min/max its x86 back end cannot lower.
                        let c = self.b.ins().uextend(types::I128, c);
                        let mask = self.b.ins().ineg(c);
                        let diff = self.b.ins().bxor(t, o);
                        let pick = self.b.ins().band(diff, mask);
                        self.b.ins().bxor(o, pick)
                    } else {
                        self.b.ins().select(c, t, o)
                    }
                } else {
                    let tb = self.b.create_block();
                    let ob = self.b.create_block();
                    let done = self.b.create_block();
                    self.b.append_block_param(done, rep.ty());
                    self.b.ins().brif(c, tb, &[], ob, &[]);
                    self.b.switch_to_block(tb);
                    self.b.seal_block(tb);
                    let (t, tr) = self.expr(then)?;
                    let t = self.fit(t, tr, rep);
                    self.b.ins().jump(done, &[t.into()]);
                    self.b.switch_to_block(ob);
                    self.b.seal_block(ob);
                    let (o, or) = self.expr(otherwise)?;
                    let o = self.fit(o, or, rep);
                    self.b.ins().jump(done, &[o.into()]);
                    self.b.switch_to_block(done);
                    self.b.seal_block(done);
                    self.b.block_params(done)[0]
                }
            }
            Expr::Math { f, arg } => {
                let (x, _) = self.expr(arg)?;
                self.call_math(f, x)
            }
            Expr::Cast { to, arg } => {
                let (x, xr) = self.expr(arg)?;
                let range = self.range(arg).cloned();
                let v = self.convert(x, xr, range.as_ref(), &to, arg)?;
                let from = Rep::of(&to)
                    .ok_or_else(|| self.unsupported(e, &format!("a conversion to {to}")))?;
                self.fit(v, from, rep)
            }
        };
        Ok((v, rep))
    }

    /// An exact value in another exact representation of the same value (the expression's
    /// inferred type may be narrower than the storage it came from); other kinds unchanged.
    pub fn fit(&mut self, v: CValue, from: Rep, to: Rep) -> CValue {
        match (from, to) {
            (Rep::Exact { .. }, Rep::Exact { .. }) => self.coerce_to(v, from, to),
            _ => v,
        }
    }

    fn binary(&mut self, e: ExprId, op: BinOp, a: ExprId, b: ExprId, rep: Rep) -> R<(CValue, Rep)> {
        if matches!(op, BinOp::And | BinOp::Or) {
            let x = self.bool_expr(a)?;
            if self.is_safe(b) {
                let y = self.bool_expr(b)?;
                let v = if op == BinOp::And {
                    self.b.ins().band(x, y)
                } else {
                    self.b.ins().bor(x, y)
                };
                return Ok((v, Rep::Bool));
            }
            let rhs = self.b.create_block();
            let done = self.b.create_block();
            self.b.append_block_param(done, types::I8);
            if op == BinOp::And {
                self.b.ins().brif(x, rhs, &[], done, &[x.into()]);
            } else {
                self.b.ins().brif(x, done, &[x.into()], rhs, &[]);
            }
            self.b.switch_to_block(rhs);
            self.b.seal_block(rhs);
            let y = self.bool_expr(b)?;
            self.b.ins().jump(done, &[y.into()]);
            self.b.switch_to_block(done);
            self.b.seal_block(done);
            return Ok((self.b.block_params(done)[0], Rep::Bool));
        }
        let (x, xr) = self.expr(a)?;
        let (y, yr) = self.expr(b)?;
        if xr == Rep::Bool {
            let cc = if op == BinOp::Eq {
                IntCC::Equal
            } else {
                IntCC::NotEqual
            };
            return Ok((self.b.ins().icmp(cc, x, y), Rep::Bool));
        }
        if xr == Rep::F32 {
            let v = match op {
                BinOp::Add => self.b.ins().fadd(x, y),
                BinOp::Sub => self.b.ins().fsub(x, y),
                BinOp::Mul => self.b.ins().fmul(x, y),
                BinOp::Div => self.b.ins().fdiv(x, y),
                BinOp::Min => {
                    // std::min: b < a ? b : a
                    let c = self.b.ins().fcmp(FloatCC::LessThan, y, x);
                    self.b.ins().select(c, y, x)
                }
                BinOp::Max => {
                    // std::max: a < b ? b : a
                    let c = self.b.ins().fcmp(FloatCC::LessThan, x, y);
                    self.b.ins().select(c, y, x)
                }
                cmp if cmp.is_comparison() => {
                    let cc = float_cc(cmp);
                    return Ok((self.b.ins().fcmp(cc, x, y), Rep::Bool));
                }
                _ => return Err(self.unsupported(e, &format!("`{}` on f32", op.symbol()))),
            };
            return Ok((v, Rep::F32));
        }
        // Exact operands.
        if op.is_comparison() {
            let (x, y, signed) = self
                .common(x, xr, y, yr)
                .ok_or_else(|| self.unsupported(e, "a comparison of values wider than 128 bits"))?;
            let cc = int_cc(op, signed);
            return Ok((self.b.ins().icmp(cc, x, y), Rep::Bool));
        }
        let Rep::Exact { bits, frac, .. } = rep else {
            return Err(self.unsupported(e, "an exact operation with a non-exact result"));
        };
        let v = match op {
            BinOp::Min | BinOp::Max => {
                // Compare in a representation holding both operands (the result's type
                // can have another signedness, e.g. `max(x, 0)` is unsigned).
                let (cx, cy, cs) = self.common(x, xr, y, yr).ok_or_else(|| {
                    self.unsupported(e, "`min`/`max` of values wider than 128 bits")
                })?;
                let v = min_max(&mut self.b, op == BinOp::Min, cs, cx, cy);
                let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
                    unreachable!()
                };
                let cb = self.b.func.dfg.value_type(v).bits();
                let crep = Rep::Exact {
                    bits: cb,
                    width: cb,
                    signed: cs,
                    frac: fa.max(fb),
                };
                self.fit(v, crep, rep)
            }
            BinOp::Add | BinOp::Sub | BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                // Ring operations: exact modulo 2^bits, and the result fits its type.
                let x = self.coerce(x, xr, bits, frac);
                let y = self.coerce(y, yr, bits, frac);
                match op {
                    BinOp::Add => self.b.ins().iadd(x, y),
                    BinOp::Sub => self.b.ins().isub(x, y),
                    BinOp::BitAnd => self.b.ins().band(x, y),
                    BinOp::BitOr => self.b.ins().bor(x, y),
                    _ => self.b.ins().bxor(x, y),
                }
            }
            BinOp::Mul => {
                let (Rep::Exact { frac: fa, .. }, Rep::Exact { frac: fb, .. }) = (xr, yr) else {
                    unreachable!()
                };
                let xv = self.coerce(x, xr, bits, fa);
                let yv = self.coerce(y, yr, bits, fb);
                // bin and tern factors: selects instead of a multiply.
                let lane = |g: &mut Self, v, t, z| {
                    Lane {
                        b: &mut g.b,
                        ty: int_ty(bits),
                    }
                    .times_unit(v, t, z)
                };
                match (self.unit_factor(a), self.unit_factor(b)) {
                    (_, Some(z)) => lane(self, xv, yv, z),
                    (Some(z), _) => lane(self, yv, xv, z),
                    _ => self.b.ins().imul(xv, yv),
                }
            }
            BinOp::Shl => {
                let Rep::Exact { frac: fa, .. } = xr else {
                    unreachable!()
                };
                let x = self.coerce(x, xr, bits, fa);
                let n = self.coerce(y, yr, bits, 0);
                self.b.ins().ishl(x, n)
            }
            BinOp::Shr => {
                let Rep::Exact {
                    bits: xb,
                    signed: xs,
                    ..
                } = xr
                else {
                    unreachable!()
                };
                let Rep::Exact { bits: yb, .. } = yr else {
                    unreachable!()
                };
                // Shift amounts at or beyond the width give 0 (or -1 for negative values):
                // clamp in the amount's own container, then narrow.
                let max_n = self.range(b).map_or(i128::MAX, |r| {
                    r.hi.to_i64().map_or(i128::MAX, |v| v as i128)
                });
                let may_exceed = max_n >= xb as i128;
                let (n, beyond) = if may_exceed {
                    let lim = self.iconst(yb, xb as i128 - 1);
                    let clamped = min_max(&mut self.b, true, false, y, lim);
                    let beyond =
                        self.b
                            .ins()
                            .icmp_imm_s(IntCC::UnsignedGreaterThan, y, xb as i64 - 1);
                    (clamped, Some(beyond))
                } else {
                    (y, None)
                };
                let n = self.coerce(n, yr, xb, 0);
                let shifted = if xs {
                    self.b.ins().sshr(x, n)
                } else {
                    self.b.ins().ushr(x, n)
                };
                let shifted = match beyond {
                    // Unsigned: a shift by width - 1 may leave the top bit; beyond is 0.
                    Some(beyond) if !xs => {
                        let zero = self.iconst(xb, 0);
                        self.b.ins().select(beyond, zero, shifted)
                    }
                    _ => shifted,
                };
                self.fit(shifted, xr, rep)
            }
            BinOp::Div => self.div_fixed(e, x, xr, y, yr, rep)?,
            BinOp::FloorDiv | BinOp::Mod => self.div_floor(e, op, x, xr, y, yr, rep)?,
            _ => unreachable!("handled above"),
        };
        Ok((v, rep))
    }

    /// Whether `e` only takes the values -1, 0, +1 (a `bin` or `tern` factor), and if so
    /// whether it can be 0.
    pub fn unit_factor(&self, e: ExprId) -> Option<bool> {
        let t = self.inst.expr_type(e)?;
        let r = self.range(e)?;
        let unit = t.frac_bits() == Some(0) && r.lo >= Fx::int(-1) && r.hi <= Fx::int(1);
        let bin = matches!(self.inst.expr(e), Expr::Load(a) if self.inst.tensor(a.tensor).elem == ScalarType::Bin);
        unit.then_some(!bin && r.contains_zero())
    }

    /// Both operands in one representation for comparison: aligned fractional bits, a
    /// container with room for both ranges. Returns (x, y, signed).
    pub fn common(
        &mut self,
        x: CValue,
        xr: Rep,
        y: CValue,
        yr: Rep,
    ) -> Option<(CValue, CValue, bool)> {
        let Rep::Exact {
            bits, signed, frac, ..
        } = common_rep(xr, yr)?
        else {
            return None;
        };
        let x = self.coerce(x, xr, bits, frac);
        let y = self.coerce(y, yr, bits, frac);
        Some((x, y, signed))
    }

    /// ap_fixed division: the quotient truncated toward zero at the result's LSB.
    fn div_fixed(
        &mut self,
        e: ExprId,
        x: CValue,
        xr: Rep,
        y: CValue,
        yr: Rep,
        rep: Rep,
    ) -> R<CValue> {
        let (
            Rep::Exact {
                width: wa,
                frac: fa,
                ..
            },
            Rep::Exact {
                width: wb,
                frac: fb,
                ..
            },
            Rep::Exact { frac: rf, .. },
        ) = (xr, yr, rep)
        else {
            unreachable!()
        };
        let k = rf + fb - fa;
        let (sa, sb) = if k >= 0 { (k, 0) } else { (0, -k) };
        let need = (wa as i32 + sa).max(wb as i32 + sb) + 2;
        let Some(bits) = container(need as u32) else {
            return Err(self.unsupported(e, "a division whose operands need more than 128 bits"));
        };
        let num = self.coerce(x, xr, bits, fa);
        let num = if sa > 0 {
            self.b.ins().ishl_imm_s(num, sa as i64)
        } else {
            num
        };
        let den = self.coerce(y, yr, bits, fb);
        let den = if sb > 0 {
            self.b.ins().ishl_imm_s(den, sb as i64)
        } else {
            den
        };
        self.check_nonzero(e, den, bits);
        let q = if bits == 128 {
            self.call_div128(num, den, DIV_TRUNC)
        } else {
            self.b.ins().sdiv(num, den)
        };
        let qrep = Rep::Exact {
            bits,
            width: bits,
            signed: true,
            frac: rf,
        };
        Ok(self.fit(q, qrep, rep))
    }

    fn check_nonzero(&mut self, e: ExprId, den: CValue, _bits: u32) {
        let Expr::Binary(_, _, b) = self.inst.expr(e).clone() else {
            return;
        };
        if self.range(b).is_some_and(|r| !r.contains_zero()) {
            return;
        }
        let zero = self.b.ins().icmp_imm_s(IntCC::Equal, den, 0);
        let span = self.inst.expr_spans[e.index()];
        let site = Site {
            span,
            tensor: None,
            message: None,
        };
        self.fail_if(zero, ERR_DIV_ZERO, site, &[]);
    }

    /// Python's floor division and modulo on integers.
    #[allow(clippy::too_many_arguments)]
    fn div_floor(
        &mut self,
        e: ExprId,
        op: BinOp,
        x: CValue,
        xr: Rep,
        y: CValue,
        yr: Rep,
        rep: Rep,
    ) -> R<CValue> {
        let (
            Rep::Exact {
                width: wa,
                frac: fa,
                ..
            },
            Rep::Exact {
                width: wb,
                frac: fb,
                ..
            },
        ) = (xr, yr)
        else {
            unreachable!()
        };
        let f = fa.max(fb);
        let need = (wa as i32 + (f - fa)).max(wb as i32 + (f - fb)) + 2;
        let Some(bits) = container(need as u32) else {
            return Err(self.unsupported(e, "a division whose operands need more than 128 bits"));
        };
        let a = self.coerce(x, xr, bits, f);
        let d = self.coerce(y, yr, bits, f);
        self.check_nonzero(e, d, bits);
        if bits == 128 {
            let mode = if op == BinOp::FloorDiv {
                DIV_FLOOR
            } else {
                MOD_FLOOR
            };
            let r = self.call_div128(a, d, mode);
            let rrep = Rep::Exact {
                bits,
                width: bits,
                signed: true,
                frac: if op == BinOp::FloorDiv { 0 } else { f },
            };
            return Ok(self.fit(r, rrep, rep));
        }
        let q = self.b.ins().sdiv(a, d);
        let r = self.b.ins().srem(a, d);
        // Floor: when the remainder is non-zero and its sign differs from the divisor's.
        let rnz = self.b.ins().icmp_imm_s(IntCC::NotEqual, r, 0);
        let x2 = self.b.ins().bxor(r, d);
        let diff = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, x2, 0);
        let fix = self.b.ins().band(rnz, diff);
        let fixw = if bits == 8 {
            fix
        } else {
            self.b.ins().uextend(int_ty(bits), fix)
        };
        let v = if op == BinOp::FloorDiv {
            let q = self.b.ins().isub(q, fixw);
            let qrep = Rep::Exact {
                bits,
                width: bits,
                signed: true,
                frac: 0,
            };
            self.fit(q, qrep, rep)
        } else {
            let zero = self.iconst(bits, 0);
            let add = self.b.ins().select(fix, d, zero);
            let r = self.b.ins().iadd(r, add);
            let rrep = Rep::Exact {
                bits,
                width: bits,
                signed: true,
                frac: f,
            };
            self.fit(r, rrep, rep)
        };
        Ok(v)
    }

    // ------------------------------------------------------------ conversions

    /// Converts a value to type `to` with assignment semantics (value::convert).
    pub fn convert(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        to: &ScalarType,
        at: ExprId,
    ) -> R<CValue> {
        let to_rep =
            Rep::of(to).ok_or_else(|| self.unsupported(at, &format!("a conversion to {to}")))?;
        match (from, to) {
            (Rep::Bool, ScalarType::Bool) | (Rep::F32, ScalarType::F32) => Ok(v),
            (Rep::F32, ScalarType::Bool) => {
                let z = self.b.ins().f32const(0.0);
                Ok(self.b.ins().fcmp(FloatCC::NotEqual, v, z))
            }
            (Rep::F32, _) => Ok(self.call_f32_to_exact(v, to, to_rep)),
            (Rep::Bool, _) => {
                let r = Rep::Exact {
                    bits: 8,
                    width: 1,
                    signed: false,
                    frac: 0,
                };
                let range = Interval::new(Fx::zero(), Fx::int(1));
                self.convert(v, r, Some(&range), to, at)
            }
            (Rep::Exact { .. }, ScalarType::Bool) => {
                Ok(self.b.ins().icmp_imm_s(IntCC::NotEqual, v, 0))
            }
            (
                Rep::Exact {
                    bits, frac, signed, ..
                },
                ScalarType::F32,
            ) => {
                // Scaling by 2^-frac below is exact only while 2^-frac is a normal f32.
                if bits == 128 || !(-127..=126).contains(&frac) {
                    let w = self.coerce(v, from, 128, frac);
                    return Ok(self.call_exact_to_f32(w, frac, signed));
                }
                let w = self.coerce(v, from, 64, frac);
                let f = match from {
                    Rep::Exact {
                        signed: false,
                        bits: 64,
                        ..
                    } => self.b.ins().fcvt_from_uint(types::F32, w),
                    _ => self.b.ins().fcvt_from_sint(types::F32, w),
                };
                // Scaling by a power of two is exact in the normal range (checked by type
                // inference), so this is the correctly rounded value.
                if frac == 0 {
                    return Ok(f);
                }
                let scale = self
                    .b
                    .ins()
                    .f32const(f32::from_bits(((127 - frac) as u32) << 23));
                Ok(self.b.ins().fmul(f, scale))
            }
            (Rep::Exact { .. }, ScalarType::Bin) => {
                let neg = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, v, 0);
                let neg = if is_signed(from) {
                    neg
                } else {
                    self.b.ins().iconst(types::I8, 0)
                };
                let m1 = self.b.ins().iconst(types::I8, -1);
                let p1 = self.b.ins().iconst(types::I8, 1);
                Ok(self.b.ins().select(neg, m1, p1))
            }
            (Rep::Exact { .. }, ScalarType::Tern) => {
                let cc_neg = if is_signed(from) {
                    IntCC::SignedLessThan
                } else {
                    IntCC::UnsignedLessThan
                };
                let cc_pos = if is_signed(from) {
                    IntCC::SignedGreaterThan
                } else {
                    IntCC::UnsignedGreaterThan
                };
                let neg = self.b.ins().icmp_imm_s(cc_neg, v, 0);
                let pos = self.b.ins().icmp_imm_s(cc_pos, v, 0);
                Ok(self.b.ins().isub(pos, neg))
            }
            (Rep::Exact { .. }, ScalarType::Int(t)) => {
                self.convert_to_int(v, from, range, t.width, t.signed, to_rep)
            }
            (Rep::Exact { .. }, ScalarType::Fixed(t)) => {
                self.convert_to_fixed(v, from, range, t, to_rep)
            }
        }
    }

    /// ap_int conversion: truncate toward zero, then wrap to W bits.
    fn convert_to_int(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        w: u32,
        signed: bool,
        to: Rep,
    ) -> R<CValue> {
        let Some(p) = plan_int(from, range, w, signed) else {
            return Ok(self.call_convert(
                v,
                from,
                &ScalarType::Int(kiln_numeric::IntType::new(w, signed)),
                to,
            ));
        };
        let x = self.coerce(v, from, p.cb, p.src_frac);
        let r = Lane {
            b: &mut self.b,
            ty: int_ty(p.cb),
        }
        .apply_int(x, &p);
        let wrep = Rep::Exact {
            bits: p.cb,
            width: p.cb,
            signed: true,
            frac: 0,
        };
        Ok(self.fit(r, wrep, to))
    }

    /// ap_fixed conversion: quantize with Q, then O with N saturation bits.
    fn convert_to_fixed(
        &mut self,
        v: CValue,
        from: Rep,
        range: Option<&Interval>,
        t: &kiln_numeric::FixedType,
        to: Rep,
    ) -> R<CValue> {
        let Some(p) = plan_fixed(from, range, t) else {
            return Ok(self.call_convert(v, from, &ScalarType::Fixed(*t), to));
        };
        let x = self.coerce(v, from, p.cb, p.src_frac);
        let r = Lane {
            b: &mut self.b,
            ty: int_ty(p.cb),
        }
        .apply_fixed(x, &p);
        let wrep = Rep::Exact {
            bits: p.cb,
            width: p.cb,
            signed: true,
            frac: t.frac_bits(),
        };
        Ok(self.fit(r, wrep, to))
    }

    // ------------------------------------------------------------ helper calls

    fn split128(&mut self, v: CValue, from: Rep) -> (CValue, CValue) {
        let w = self.coerce(
            v,
            from,
            128,
            match from {
                Rep::Exact { frac, .. } => frac,
                _ => 0,
            },
        );
        let (lo, hi) = self.b.ins().isplit(w);
        (lo, hi)
    }

    fn out_slot(&mut self) -> CValue {
        let slot =
            self.b
                .create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 16, 4));
        self.b.ins().stack_addr(types::I64, slot, 0)
    }

    fn read128(&mut self, addr: CValue) -> CValue {
        let lo = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 0);
        let hi = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), addr, 8);
        self.b.ins().iconcat(lo, hi)
    }

    fn desc(&mut self, t: &ScalarType) -> CValue {
        let boxed = Box::new(*t);
        let p = &*boxed as *const ScalarType as i64;
        self.descs.push(boxed);
        self.b.ins().iconst(types::I64, p)
    }

    /// The conversion by kiln-numeric itself, through a helper.
    fn call_convert(&mut self, v: CValue, from: Rep, to: &ScalarType, to_rep: Rep) -> CValue {
        let Rep::Exact { frac, signed, .. } = from else {
            unreachable!()
        };
        let (lo, hi) = self.split128(v, from);
        let out = self.out_slot();
        let f = self.b.ins().iconst(types::I32, frac as i64);
        let s = self.b.ins().iconst(types::I32, signed as i64);
        let d = self.desc(to);
        let fref = self.helpers.convert;
        self.b.ins().call(fref, &[lo, hi, f, s, d, out]);
        let r = self.read128(out);
        let rrep = Rep::Exact {
            bits: 128,
            width: 128,
            signed: true,
            frac: frac_of(to),
        };
        self.fit(r, rrep, to_rep)
    }

    fn call_f32_to_exact(&mut self, v: CValue, to: &ScalarType, to_rep: Rep) -> CValue {
        let bits = self.b.ins().bitcast(types::I32, MemFlagsData::new(), v);
        let out = self.out_slot();
        let d = self.desc(to);
        let fref = self.helpers.f32_to_exact;
        self.b.ins().call(fref, &[bits, d, out]);
        let r = self.read128(out);
        let rrep = Rep::Exact {
            bits: 128,
            width: 128,
            signed: true,
            frac: frac_of(to),
        };
        self.fit(r, rrep, to_rep)
    }

    fn call_math(&mut self, f: MathFn, x: CValue) -> CValue {
        let code = self.b.ins().iconst(types::I32, f.code() as i64);
        let fref = self.helpers.math;
        let call = self.b.ins().call(fref, &[code, x]);
        self.b.inst_results(call)[0]
    }

    fn call_exact_to_f32(&mut self, v: CValue, frac: i32, signed: bool) -> CValue {
        let (lo, hi) = self.b.ins().isplit(v);
        let f = self.b.ins().iconst(types::I32, frac as i64);
        let s = self.b.ins().iconst(types::I32, signed as i64);
        let fref = self.helpers.exact_to_f32;
        let call = self.b.ins().call(fref, &[lo, hi, f, s]);
        self.b.inst_results(call)[0]
    }

    fn call_div128(&mut self, num: CValue, den: CValue, mode: i32) -> CValue {
        let (nl, nh) = self.b.ins().isplit(num);
        let (dl, dh) = self.b.ins().isplit(den);
        let out = self.out_slot();
        let m = self.b.ins().iconst(types::I32, mode as i64);
        let fref = self.helpers.div128;
        self.b.ins().call(fref, &[nl, nh, dl, dh, m, out]);
        self.read128(out)
    }
}

/// The condition code of an integer comparison.
pub fn int_cc(op: BinOp, signed: bool) -> IntCC {
    match (op, signed) {
        (BinOp::Eq, _) => IntCC::Equal,
        (BinOp::Ne, _) => IntCC::NotEqual,
        (BinOp::Lt, true) => IntCC::SignedLessThan,
        (BinOp::Le, true) => IntCC::SignedLessThanOrEqual,
        (BinOp::Gt, true) => IntCC::SignedGreaterThan,
        (BinOp::Ge, true) => IntCC::SignedGreaterThanOrEqual,
        (BinOp::Lt, false) => IntCC::UnsignedLessThan,
        (BinOp::Le, false) => IntCC::UnsignedLessThanOrEqual,
        (BinOp::Gt, false) => IntCC::UnsignedGreaterThan,
        _ => IntCC::UnsignedGreaterThanOrEqual,
    }
}

/// The condition code of an f32 comparison (ordered: false with a NaN, but `!=`).
pub fn float_cc(op: BinOp) -> FloatCC {
    match op {
        BinOp::Eq => FloatCC::Equal,
        BinOp::Ne => FloatCC::NotEqual,
        BinOp::Lt => FloatCC::LessThan,
        BinOp::Le => FloatCC::LessThanOrEqual,
        BinOp::Gt => FloatCC::GreaterThan,
        _ => FloatCC::GreaterThanOrEqual,
    }
}

/// One representation holding two exact values for comparison: aligned fractional bits
/// and a container with room for both ranges and signedness.
pub fn common_rep(xr: Rep, yr: Rep) -> Option<Rep> {
    let (
        Rep::Exact {
            width: wa,
            signed: sa,
            frac: fa,
            ..
        },
        Rep::Exact {
            width: wb,
            signed: sb,
            frac: fb,
            ..
        },
    ) = (xr, yr)
    else {
        return None;
    };
    let f = fa.max(fb);
    let wa = wa as i32 + (f - fa);
    let wb = wb as i32 + (f - fb);
    let w = (wa.max(wb) + i32::from(sa != sb)) as u32;
    Some(Rep::Exact {
        bits: container(w)?,
        width: w,
        signed: sa || sb,
        frac: f,
    })
}

/// The block type of the IR (a list of statements).
pub type Block_ = kiln_passes::ir::Block;

fn is_signed(r: Rep) -> bool {
    matches!(r, Rep::Exact { signed: true, .. })
}

/// The signature of every node function: `(ptrs, ctx, lo, hi) -> status`.
pub fn node_signature(
    call_conv: cranelift_codegen::isa::CallConv,
) -> cranelift_codegen::ir::Signature {
    let mut sig = cranelift_codegen::ir::Signature::new(call_conv);
    for _ in 0..4 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// What a node function's `ptrs[k]` points to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A tensor's buffer.
    Data(TensorId),
    /// A tensor's written-element flags.
    Shadow(TensorId),
    /// A zeroed scratch buffer of `words` 64-bit words (packed bits, bindot.rs).
    Scratch { index: usize, words: usize },
}

/// The native signature of a compiled node.
pub type NodeEntry = unsafe extern "C" fn(*const *mut u8, *mut ErrCtx, i64, i64) -> i32;

/// The inputs of [`compile_node`].
pub struct NodeJob<'a> {
    pub inst: &'a Instance,
    pub compute: &'a Compute,
    /// Tensors that need written-element flags.
    pub shadowed: &'a std::collections::HashSet<TensorId>,
    /// Whether the node's loop takes its bounds from the `lo`, `hi` parameters.
    pub split_outer: bool,
    pub vectorize: bool,
}

/// A node compiled into its module.
pub struct CompiledNode {
    pub main: cranelift_module::FuncId,
    /// Runs once before `main` (packing for binary dot products).
    pub prologue: Option<cranelift_module::FuncId>,
    pub slots: Vec<Slot>,
    pub sites: Vec<Site>,
}

/// Declares and defines one node's functions in `module` (named after `name`).
pub fn compile_node(
    module: &mut cranelift_jit::JITModule,
    name: &str,
    helper_ids: &crate::helpers::HelperIds,
    descs: &mut Vec<Box<ScalarType>>,
    job: &NodeJob,
) -> R<CompiledNode> {
    use cranelift_module::Module as _;
    let inst = job.inst;
    let c = job.compute;
    let internal = |e: &dyn std::fmt::Display| Unsupported {
        span: c.span,
        what: format!("this node: internal compiler error, please report it ({e})"),
    };
    let sig = node_signature(module.isa().default_call_conv());
    let id = module
        .declare_function(name, cranelift_module::Linkage::Local, &sig)
        .map_err(|e| internal(&e))?;
    let lplans = LocalPlans::new(inst, &c.body);
    let bindots = BinDots::find(inst, &lplans, &c.body);
    // Every type must have a native form.
    for &t in c.reads.iter().chain(&c.writes) {
        let tt = inst.tensor(t);
        if store_of(&tt.elem).is_none() {
            return Err(Unsupported {
                span: tt.span,
                what: format!("`{}` of type {}, wider than 128 bits", tt.name, tt.elem),
            });
        }
    }
    let (reads, writes) = block_accesses(inst, &c.body);
    let mut slots: Vec<Slot> = Vec::new();
    for t in reads.iter().chain(&writes) {
        if !slots.contains(&Slot::Data(*t)) {
            slots.push(Slot::Data(*t));
        }
    }
    for t in &writes {
        if job.shadowed.contains(t) {
            slots.push(Slot::Shadow(*t));
        }
    }
    for (k, p) in bindots.packings.iter().enumerate() {
        slots.push(Slot::Scratch {
            index: k,
            words: p.len(inst),
        });
    }
    let prologue = if bindots.packings.is_empty() {
        None
    } else {
        let pid = module
            .declare_function(
                &format!("{name}_pack"),
                cranelift_module::Linkage::Local,
                &sig,
            )
            .map_err(|e| internal(&e))?;
        define_prologue(module, pid, inst, c, &bindots, &slots)?;
        Some(pid)
    };
    let frontend = module.isa().frontend_config();
    let mut ctx = module.make_context();
    ctx.func.signature = node_signature(module.isa().default_call_conv());
    let helpers = helper_ids.import(module, &mut ctx.func);
    let mut fbc = cranelift_frontend::FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let (ptrs, shadows, scratch) = load_slots(&mut b, &slots, params[0]);
    let outer = match (job.split_outer, c.body.as_slice()) {
        (true, [Stmt::For(l)]) => Some((l.var, params[2], params[3])),
        _ => None,
    };
    let mut g = Gen {
        inst,
        b,
        helpers: &helpers,
        ptrs,
        shadows,
        outer,
        locals: HashMap::new(),
        loops: HashMap::new(),
        active: Vec::new(),
        ctx_ptr: params[1],
        sites: Vec::new(),
        descs,
        vec: job.vectorize.then(|| Vectorizer::new(&c.body)),
        lplans,
        bindots,
        scratch,
    };
    g.block(&c.body)?;
    let zero = g.b.ins().iconst(types::I32, 0);
    g.b.ins().return_(&[zero]);
    let sites = std::mem::take(&mut g.sites);
    // Abandoned SIMD attempts can leave unreachable loop headers unsealed.
    g.b.seal_all_blocks();
    g.b.finalize(frontend);
    if std::env::var_os("KILN_JIT_DUMP").is_some() {
        eprintln!("; node `{}`\n{}", c.name, ctx.func.display());
    }
    define(module, id, &mut ctx, c.span)?;
    Ok(CompiledNode {
        main: id,
        prologue,
        slots,
        sites,
    })
}

/// Loads the slot pointers: data buffers, written-element flags, scratch buffers.
#[allow(clippy::type_complexity)]
fn load_slots(
    b: &mut FunctionBuilder,
    slots: &[Slot],
    ptrs_param: CValue,
) -> (
    HashMap<TensorId, CValue>,
    HashMap<TensorId, CValue>,
    Vec<CValue>,
) {
    let mut ptrs = HashMap::new();
    let mut shadows = HashMap::new();
    let mut scratch = Vec::new();
    for (k, slot) in slots.iter().enumerate() {
        let f = MemFlagsData::trusted().with_readonly();
        let p = b.ins().load(types::I64, f, ptrs_param, 8 * k as i32);
        match slot {
            Slot::Data(t) => {
                ptrs.insert(*t, p);
            }
            Slot::Shadow(t) => {
                shadows.insert(*t, p);
            }
            Slot::Scratch { .. } => scratch.push(p),
        }
    }
    (ptrs, shadows, scratch)
}

/// Defines a finished function; a verifier or lowering error is a compiler bug.
fn define(
    module: &mut cranelift_jit::JITModule,
    id: cranelift_module::FuncId,
    ctx: &mut cranelift_codegen::Context,
    span: Span,
) -> R<()> {
    use cranelift_module::Module as _;
    // `KILN_JIT_DUMP=asm`: the machine code (cranelift's disassembly of its VCode).
    let asm = std::env::var_os("KILN_JIT_DUMP").is_some_and(|v| v == "asm");
    ctx.set_disasm(asm);
    let defined = module.define_function(id, ctx);
    if let (true, Some(code)) = (asm, ctx.compiled_code()) {
        eprintln!("{}", code.vcode.as_deref().unwrap_or(""));
    }
    defined.map_err(|e| {
        let detail = match &e {
            cranelift_module::ModuleError::Compilation(
                cranelift_codegen::CodegenError::Verifier(errs),
            ) => cranelift_codegen::print_errors::pretty_verifier_error(
                &ctx.func,
                None,
                errs.clone(),
            ),
            other => other.to_string(),
        };
        // A bug: the code generator made code cranelift rejects.
        Unsupported {
            span,
            what: format!(
                "this node: internal compiler error, please report it (cranelift: {detail})"
            ),
        }
    })?;
    module.clear_context(ctx);
    Ok(())
}

/// The packing prologue of a node with binary dot products (bindot.rs).
fn define_prologue(
    module: &mut cranelift_jit::JITModule,
    id: cranelift_module::FuncId,
    inst: &Instance,
    c: &Compute,
    dots: &BinDots,
    slots: &[Slot],
) -> R<()> {
    use cranelift_module::Module as _;
    let frontend = module.isa().frontend_config();
    let mut ctx = module.make_context();
    ctx.func.signature = node_signature(module.isa().default_call_conv());
    let mut fbc = cranelift_frontend::FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let (ptrs, _, scratch) = load_slots(&mut b, slots, params[0]);
    crate::bindot::emit_packing(&mut b, inst, &dots.packings, &|t| ptrs[&t], &scratch);
    let zero = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[zero]);
    b.finalize(frontend);
    if std::env::var_os("KILN_JIT_DUMP").is_some() {
        eprintln!("; packing of node `{}`\n{}", c.name, ctx.func.display());
    }
    define(module, id, &mut ctx, c.span)
}
