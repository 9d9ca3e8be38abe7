//! Dot-product nests in 128-bit registers, register-blocked: binary, ternary and 8-bit
//! integer (bindot.rs finds them, packing.rs packs their operands).
//!
//! A loop over the packed dimension `c` whose body is a perfect nest of constant loops
//! (the 3x3 window `u, v`) holding only dot statements `acc_r += x[..] * w[..]` becomes
//! one reduction over all of it:
//! - each operand's packed offset, as `(u, v, c)` runs over the nest, is an affine
//!   function of the loop variables; loops whose stride equals the row already covered
//!   join it into one contiguous run (`v` with `x[c, i + u, j + v]` packed as
//!   `[h][w][words]`: 3·words contiguous words), the others are iterated (unrolled when
//!   short);
//! - `bin`: a run is XOR-ed and counted 16 bytes at a time: `popcnt` on `i8x16` (vpopcntb
//!   with AVX-512 BITALG+VL, else a nibble-table pshufb sequence; cranelift chooses),
//!   summed in byte lanes (at most 31 vectors: 31·8 < 256), then widened (pmaddubsw) into
//!   16-bit lanes; an odd last word is counted with scalar popcnt. The sum of `n`
//!   products of ±1 is `n - 2·popcount(x XOR w)`;
//! - `tern`: sign and non-zero planes, `popcount(nz & !d) - popcount(nz & d)` per vector
//!   (signed byte lanes, at most 15 vectors between widenings);
//! - 8-bit integers: vpdpbusd per 16 bytes (the widening multiply tree cranelift folds),
//!   the first operand packed as `x + 128`, the sum corrected by `128 · sum(w)` from the
//!   second operand's row header, modulo 2^32 (exact: bindot.rs takes only sums that
//!   fit in 32 bits);
//! - operands shared by statements (the same `x` for the output channels autoblock
//!   blocked) are loaded once per vector;
//! - [`Gen::try_dot_nest`] also register-blocks the loop around such a reduction (the
//!   output pixel `j`, the GEMM column): `J` copies of its body share one pass over the
//!   reduction, each with its own accumulators (unroll and jam). The reductions read only
//!   packed data, which nothing in the node writes, so computing them before the copies'
//!   other statements changes nothing.
//!
//! Integer sums are exact in any order, so regrouping the products changes nothing.

use crate::bindot::{BinDot, DotKind, ROW_HEADER};
use crate::codegen::error::{Unsupported, R};
use crate::codegen::gen::Gen;
use crate::rep::Rep;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_frontend::Variable;
use kiln_passes::ir::*;

/// Vectors of popcounts summed in byte lanes before widening (31 · 8 = 248 < 256).
const MAX_BYTE_SUMS: usize = 31;
/// `Tern`: vectors of signed counts (-8..8 per byte) summed in byte lanes (15 · 8 < 128).
const MAX_SIGNED_BYTE_SUMS: usize = 15;
/// Register-blocked reductions at most (accumulators live at once).
const MAX_UNITS: usize = 8;
/// Iterated (non-contiguous) positions of the nest unrolled at most.
const MAX_UNROLLED_STEPS: i64 = 64;
/// Vectors per reduction at most: a 16-bit lane of the widened counts gets at most 16
/// per vector.
const WIDE_LIMIT: i64 = 2047;
/// Bytes of one contiguous run of 8-bit values at most (emitted unrolled).
const MAX_RUN_BYTES: i64 = 4096;
/// Words of one contiguous run at most (a run is emitted unrolled).
const MAX_RUN_WORDS: i64 = 512;

/// A perfect nest under the packed loop: its inner loops and its dot statements.
#[derive(Clone, Debug)]
struct Nest {
    /// `(var, lo, trip count, step)` of each inner loop, outermost first.
    loops: Vec<(LoopVarId, i64, i64, i64)>,
    dots: Vec<BinDot>,
}

/// One packed operand access: the packing and its word offset as affine parts.
#[derive(Clone, Debug)]
struct OperandShape {
    pk: usize,
    /// Word offset from the loops outside the nest (and the constant).
    outer: Affine,
    /// Words per step of each inner loop (as in `Nest::loops`).
    coeffs: Vec<i64>,
}

/// How the nest is walked: the merged loops, the run length and the iterated loops.
struct Walk {
    /// Words per contiguous run.
    run: i64,
    /// Iterated loops: index into `Nest::loops`.
    iterated: Vec<usize>,
    /// Word offset of the merged loops' first values, per operand shape.
    merged_lo: Vec<i64>,
}

/// A reduction being emitted: operands by index into the loaded operand list.
struct Unit {
    /// The loaded operands: two, or four for `Tern` (signs, then non-zero planes).
    operands: Vec<usize>,
    /// A stack slot the byte accumulator is stored to after each step (`barrier`).
    slot: cranelift_codegen::ir::StackSlot,
    bytes: Variable,
    wide: Variable,
    tail: Variable,
}

/// An emitted operand: its base address (bytes) and its shape.
struct Operand {
    base: CValue,
    shape: usize,
}

impl Gen<'_, '_> {
    /// The nest under a packed loop `l`, when it has the supported form.
    fn dot_nest(&self, l: &Loop) -> Option<Nest> {
        let mut loops = Vec::new();
        let mut body = &l.body;
        loop {
            match body.as_slice() {
                [Stmt::For(inner)] => {
                    let (lo, hi) = (inner.lo.as_constant()?, inner.hi.as_constant()?);
                    if inner.step <= 0 || hi <= lo {
                        return None;
                    }
                    let trip = (hi - lo + inner.step - 1) / inner.step;
                    loops.push((inner.var, lo, trip, inner.step));
                    body = &inner.body;
                }
                stmts => {
                    let mut dots = Vec::new();
                    for s in stmts {
                        let Stmt::Assign { value, .. } = s else {
                            return None;
                        };
                        let d = self.bindots.by_value(*value)?;
                        if d.var != l.var || d.kind != self.bindots.by_var(l.var)?.kind {
                            return None;
                        }
                        dots.push(d.clone());
                    }
                    let nest = Nest { loops, dots };
                    return (!nest.dots.is_empty() && self.nest_fits(&nest)).then_some(nest);
                }
            }
        }
    }

    fn operand_shape(&self, nest: &Nest, pk: usize, access: &Access) -> OperandShape {
        let p = &self.bindots.packings[pk];
        let strides = kiln_passes::data::strides(&p.shape(self.inst));
        let mut flat = Affine::constant(0);
        let others = access.index.iter().enumerate().filter(|(d, _)| *d != p.dim);
        for (k, (_, ix)) in others.enumerate() {
            flat = flat.add_scaled(ix, strides[k] as i64);
        }
        let coeffs: Vec<i64> = nest.loops.iter().map(|l| flat.coeff(l.0)).collect();
        let mut outer = flat.clone();
        outer
            .terms
            .retain(|(v, _)| !nest.loops.iter().any(|l| l.0 == *v));
        OperandShape { pk, outer, coeffs }
    }

    fn walk_of(nest: &Nest, shapes: &[OperandShape], words: i64) -> Walk {
        let mut run = words;
        let mut merged = vec![false; nest.loops.len()];
        loop {
            let next = (0..nest.loops.len()).rev().find(|&k| {
                !merged[k] && shapes.iter().all(|s| s.coeffs[k] * nest.loops[k].3 == run)
            });
            let Some(k) = next else { break };
            merged[k] = true;
            run *= nest.loops[k].2;
        }
        let merged_lo = shapes
            .iter()
            .map(|s| {
                (0..nest.loops.len())
                    .filter(|&k| merged[k])
                    .map(|k| s.coeffs[k] * nest.loops[k].1)
                    .sum()
            })
            .collect();
        Walk {
            run,
            iterated: (0..nest.loops.len()).filter(|&k| !merged[k]).collect(),
            merged_lo,
        }
    }

    /// The operand shapes (deduplicated), each dot's pair of shapes, and the walk.
    #[allow(clippy::type_complexity)]
    fn plan(&self, nest: &Nest) -> (Vec<OperandShape>, Vec<Vec<usize>>, Walk) {
        let words = nest.dots[0].words();
        let mut shapes: Vec<OperandShape> = Vec::new();
        let mut dot_shapes = Vec::new();
        for d in &nest.dots {
            // Sign planes (or the only ones), then `Tern`'s non-zero planes.
            let mut accesses: Vec<(usize, &Access)> =
                d.operands.iter().map(|(pk, a)| (*pk, a)).collect();
            if let Some(nz) = d.nonzero {
                accesses.push((nz[0], &d.operands[0].1));
                accesses.push((nz[1], &d.operands[1].1));
            }
            let mut pair = vec![0usize; accesses.len()];
            for (k, (pk, access)) in accesses.into_iter().enumerate() {
                let s = self.operand_shape(nest, pk, access);
                pair[k] = match shapes
                    .iter()
                    .position(|t| t.pk == s.pk && t.outer == s.outer && t.coeffs == s.coeffs)
                {
                    Some(i) => i,
                    None => {
                        shapes.push(s);
                        shapes.len() - 1
                    }
                };
            }
            dot_shapes.push(pair);
        }
        let walk = Self::walk_of(nest, &shapes, words);
        (shapes, dot_shapes, walk)
    }

    /// Whether the nest's code stays small: runs of at most `MAX_RUN_WORDS` words.
    fn nest_fits(&self, nest: &Nest) -> bool {
        let walk = self.plan(nest).2;
        let steps: i64 = walk.iterated.iter().map(|&k| nest.loops[k].2).product();
        match nest.dots[0].kind {
            DotKind::Bin | DotKind::Tern => {
                walk.run <= MAX_RUN_WORDS && steps.saturating_mul(walk.run / 2) <= WIDE_LIMIT
            }
            DotKind::Int8 => walk.run <= MAX_RUN_BYTES,
        }
    }

    /// Emits `l` (a packed loop, or a loop around exactly one) as register-blocked
    /// popcount reductions; `false` when it has another form (left to the scalar code).
    pub(crate) fn try_dot_nest(&mut self, l: &Loop) -> R<bool> {
        if self.bindots.dots.is_empty() {
            return Ok(false);
        }
        if self.bindots.by_var(l.var).is_some() {
            let Some(nest) = self.dot_nest(l) else {
                return Ok(false);
            };
            let totals = self.nest_totals(&nest, &[None])?;
            for (d, t) in nest.dots.iter().zip(&totals[0]) {
                self.add_dot_total(d.acc, *t)?;
            }
            return Ok(true);
        }
        // A loop around one packed loop and plain statements: unroll and jam.
        let mut found = None;
        for (k, s) in l.body.iter().enumerate() {
            match s {
                Stmt::For(inner) if found.is_none() && self.bindots.by_var(inner.var).is_some() => {
                    found = Some((k, inner));
                }
                Stmt::Assign { .. } | Stmt::Store { .. } => {}
                _ => return Ok(false),
            }
        }
        let Some((at, inner)) = found else {
            return Ok(false);
        };
        let Some(nest) = self.dot_nest(inner) else {
            return Ok(false);
        };
        if matches!(self.outer, Some((v, ..)) if v == l.var) {
            return Ok(false);
        }
        let (Some(lo), Some(hi)) = (l.lo.as_constant(), l.hi.as_constant()) else {
            return Ok(false);
        };
        if l.step <= 0 || hi <= lo {
            return Ok(false);
        }
        let trip = (hi - lo + l.step - 1) / l.step;
        let copies = (MAX_UNITS / nest.dots.len()).clamp(1, 4) as i64;
        if copies < 2 || trip < copies {
            return Ok(false);
        }
        let var = self.loop_var(l.var);
        let (pre, post) = (&l.body[..at], &l.body[at + 1..]);
        let block = |g: &mut Self, first: CValue, n: i64| -> R<()> {
            let values: Vec<CValue> = (0..n)
                .map(|t| g.b.ins().iadd_imm_s(first, t * l.step))
                .collect();
            let envs: Vec<Option<(Variable, CValue)>> =
                values.iter().map(|v| Some((var, *v))).collect();
            let totals = g.nest_totals(&nest, &envs)?;
            g.active.push(l.var);
            for (v, tot) in values.iter().zip(&totals) {
                g.b.def_var(var, *v);
                for s in pre {
                    g.stmt(s)?;
                }
                for (d, t) in nest.dots.iter().zip(tot) {
                    g.add_dot_total(d.acc, *t)?;
                }
                for s in post {
                    g.stmt(s)?;
                }
            }
            g.active.pop();
            Ok(())
        };
        // Blocks of `copies` iterations, then the rest.
        let blocks = trip / copies;
        let head = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, types::I64);
        let start = self.b.ins().iconst(types::I64, lo);
        self.b.ins().jump(head, &[start.into()]);
        self.b.switch_to_block(head);
        let first = self.b.block_params(head)[0];
        block(self, first, copies)?;
        let next = self.b.ins().iadd_imm_s(first, copies * l.step);
        let end = lo + blocks * copies * l.step;
        let go = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, next, end);
        self.b.ins().brif(go, head, &[next.into()], exit, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let rest = trip - blocks * copies;
        if rest > 0 {
            let first = self.b.ins().iconst(types::I64, end);
            block(self, first, rest)?;
        }
        Ok(true)
    }

    /// `acc += total` (an `i64` sum of ±1 products), in the accumulator's storage.
    pub(crate) fn add_dot_total(&mut self, acc: LocalId, total: CValue) -> R<()> {
        let var = self.local_var(acc)?;
        let Some(Rep::Exact { bits, frac, .. }) = self.lplans.storage(self.inst, acc) else {
            return Err(Unsupported {
                span: self.inst.local(acc).span,
                what: "a binary dot product into a non-exact accumulator".into(),
            });
        };
        let sum = self.coerce(total, Rep::I64, bits, frac);
        let cur = self.b.use_var(var);
        let new = self.b.ins().iadd(cur, sum);
        self.b.def_var(var, new);
        Ok(())
    }

    /// The sums (`n - 2·mismatches`, `i64`) of every dot of the nest, for each copy
    /// (`env`: a loop variable's value for that copy).
    fn nest_totals(
        &mut self,
        nest: &Nest,
        envs: &[Option<(Variable, CValue)>],
    ) -> R<Vec<Vec<CValue>>> {
        let (shapes, dot_shapes, walk) = self.plan(nest);
        let kind = nest.dots[0].kind;
        // Bytes per packed unit, and where a row's values start.
        let (unit, header) = match kind {
            DotKind::Bin | DotKind::Tern => (8, 0),
            DotKind::Int8 => (1, ROW_HEADER as i64),
        };
        // Emitted operands per copy (a shape that does not depend on the copy's
        // variable is loaded once for all copies).
        let mut operands: Vec<Operand> = Vec::new();
        let mut units = Vec::new();
        let mut shared: Vec<Option<usize>> = vec![None; shapes.len()];
        for env in envs {
            if let Some((var, v)) = env {
                self.b.def_var(*var, *v);
            }
            let mut local: Vec<Option<usize>> = vec![None; shapes.len()];
            for pair in &dot_shapes {
                let mut ops = vec![0usize; pair.len()];
                for k in 0..pair.len() {
                    let si = pair[k];
                    let s = &shapes[si];
                    let depends = match env {
                        Some((var, _)) => s
                            .outer
                            .terms
                            .iter()
                            .any(|(lv, _)| self.loops.get(lv).is_some_and(|x| x == var)),
                        None => false,
                    };
                    let slot = if depends {
                        &mut local[si]
                    } else {
                        &mut shared[si]
                    };
                    ops[k] = match slot {
                        Some(i) => *i,
                        None => {
                            let off = self.affine(&s.outer);
                            let off = self.b.ins().iadd_imm_s(off, walk.merged_lo[si]);
                            let bytes = self.b.ins().imul_imm_s(off, unit);
                            let bytes = self.b.ins().iadd_imm_s(bytes, header);
                            let base = self.b.ins().iadd(self.scratch[s.pk], bytes);
                            operands.push(Operand { base, shape: si });
                            *slot = Some(operands.len() - 1);
                            operands.len() - 1
                        }
                    };
                }
                let bytes = self.b.declare_var(types::I8X16);
                let wide = self.b.declare_var(match kind {
                    DotKind::Bin | DotKind::Tern => types::I16X8,
                    DotKind::Int8 => types::I32X4,
                });
                let tail = self.b.declare_var(types::I64);
                let slot =
                    self.b
                        .create_sized_stack_slot(cranelift_codegen::ir::StackSlotData::new(
                            cranelift_codegen::ir::StackSlotKind::ExplicitSlot,
                            16,
                            4,
                        ));
                units.push(Unit {
                    operands: ops,
                    slot,
                    bytes,
                    wide,
                    tail,
                });
            }
        }
        let zero8 = self.b.ins().iconst(types::I8, 0);
        let zero_bytes = self.b.ins().splat(types::I8X16, zero8);
        let zero_wide = match kind {
            DotKind::Bin | DotKind::Tern => {
                let z = self.b.ins().iconst(types::I16, 0);
                self.b.ins().splat(types::I16X8, z)
            }
            DotKind::Int8 => {
                let z = self.b.ins().iconst(types::I32, 0);
                self.b.ins().splat(types::I32X4, z)
            }
        };
        let zero64 = self.b.ins().iconst(types::I64, 0);
        for u in &units {
            self.b.def_var(u.bytes, zero_bytes);
            self.b.def_var(u.wide, zero_wide);
            self.b.def_var(u.tail, zero64);
        }
        let mut st = NestState {
            units,
            operands,
            pending: 0,
            kind,
            unit,
        };
        // Iterated loops: offsets in bytes per operand (constant when unrolled).
        let steps: i64 = walk.iterated.iter().map(|&k| nest.loops[k].2).product();
        let offsets = vec![Offset::Const(0); st.operands.len()];
        if steps <= MAX_UNROLLED_STEPS {
            self.unrolled_walk(nest, &shapes, &walk, &mut st, 0, offsets);
        } else {
            self.looped_walk(nest, &shapes, &walk, &mut st, 0, offsets);
        }
        self.flush(&mut st);
        // n - 2·mismatches per dot of each copy.
        let n: i64 = nest.dots[0].n * nest.loops.iter().map(|l| l.2).product::<i64>();
        let sums = self.horizontal(&st, n < 1 << 15);
        let mut out = Vec::new();
        for copy in sums.chunks(nest.dots.len()) {
            out.push(
                copy.iter()
                    .map(|p| match kind {
                        // n - 2·mismatches.
                        DotKind::Bin => {
                            let twice = self.b.ins().ishl_imm_s(*p, 1);
                            let nv = self.b.ins().iconst(types::I64, n);
                            self.b.ins().isub(nv, twice)
                        }
                        // The signed sum itself.
                        DotKind::Tern => *p,
                        // Modulo 2^32, exact: the sum fits (bindot.rs checks).
                        DotKind::Int8 => {
                            let x = self.b.ins().ireduce(types::I32, *p);
                            self.b.ins().sextend(types::I64, x)
                        }
                    })
                    .collect(),
            );
        }
        Ok(out)
    }

    fn unrolled_walk(
        &mut self,
        nest: &Nest,
        shapes: &[OperandShape],
        walk: &Walk,
        st: &mut NestState,
        depth: usize,
        offsets: Vec<Offset>,
    ) {
        let Some(&k) = walk.iterated.get(depth) else {
            self.run(walk.run, st, &offsets);
            return;
        };
        let (_, lo, trip, step) = nest.loops[k];
        for t in 0..trip {
            let value = lo + t * step;
            let next = st
                .operands
                .iter()
                .zip(&offsets)
                .map(|(o, off)| off.add(st.unit * shapes[o.shape].coeffs[k] * value))
                .collect();
            self.unrolled_walk(nest, shapes, walk, st, depth + 1, next);
        }
    }

    fn looped_walk(
        &mut self,
        nest: &Nest,
        shapes: &[OperandShape],
        walk: &Walk,
        st: &mut NestState,
        depth: usize,
        offsets: Vec<Offset>,
    ) {
        let Some(&k) = walk.iterated.get(depth) else {
            self.run(walk.run, st, &offsets);
            return;
        };
        let (_, lo, trip, step) = nest.loops[k];
        self.flush(st);
        let head = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, types::I64);
        let start = self.b.ins().iconst(types::I64, lo);
        self.b.ins().jump(head, &[start.into()]);
        self.b.switch_to_block(head);
        let value = self.b.block_params(head)[0];
        let next: Vec<Offset> = st
            .operands
            .iter()
            .zip(&offsets)
            .map(|(o, off)| {
                let c = st.unit * shapes[o.shape].coeffs[k];
                let d = self.b.ins().imul_imm_s(value, c);
                off.add_dyn(&mut self.b, d)
            })
            .collect();
        self.looped_walk(nest, shapes, walk, st, depth + 1, next);
        self.flush(st);
        let v = self.b.ins().iadd_imm_s(value, step);
        let go = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, v, lo + trip * step);
        self.b.ins().brif(go, head, &[v.into()], exit, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
    }

    /// One contiguous run of `words` words at `offsets` (bytes past each operand's base).
    fn run(&mut self, words: i64, st: &mut NestState, offsets: &[Offset]) {
        if st.kind == DotKind::Int8 {
            return self.run_int8(words, st, offsets);
        }
        let vectors = (words / 2) as usize;
        // Not `readonly`: cranelift would treat the loads as pure and hoist them out of
        // the loops around, all live at once.
        let f = MemFlagsData::new().with_notrap();
        let addr = |g: &mut Self, st: &NestState, o: usize, extra: i64| -> (CValue, i32) {
            let base = st.operands[o].base;
            let (base, c) = match offsets[o] {
                Offset::Const(c) => (base, c + extra),
                Offset::Dyn(d, c) => (g.b.ins().iadd(base, d), c + extra),
            };
            match i32::try_from(c) {
                Ok(c) => (base, c),
                Err(_) => (g.b.ins().iadd_imm_s(base, c), 0),
            }
        };
        let mut k = 0;
        while k < vectors {
            let limit = match st.kind {
                DotKind::Tern => MAX_SIGNED_BYTE_SUMS,
                _ => MAX_BYTE_SUMS,
            };
            if st.pending >= limit {
                self.flush(st);
            }
            let regs: Vec<CValue> = (0..st.operands.len())
                .map(|o| {
                    let (a, off) = addr(self, st, o, 16 * k as i64);
                    self.b.ins().load(types::I8X16, f, a, off)
                })
                .collect();
            for u in &st.units {
                let c = self.dot_bits(&regs, &u.operands);
                let cur = self.b.use_var(u.bytes);
                let s = self.b.ins().iadd(cur, c);
                self.b.def_var(u.bytes, s);
            }
            st.pending += 1;
            k += 1;
            self.barrier(st);
        }
        if words % 2 == 1 {
            let regs: Vec<CValue> = (0..st.operands.len())
                .map(|o| {
                    let (a, off) = addr(self, st, o, 16 * vectors as i64);
                    self.b.ins().load(types::I64, f, a, off)
                })
                .collect();
            for u in &st.units {
                let c = self.dot_bits(&regs, &u.operands);
                let cur = self.b.use_var(u.tail);
                let s = self.b.ins().iadd(cur, c);
                self.b.def_var(u.tail, s);
            }
        }
    }

    /// One run of `bytes` bytes of 8-bit dot products: vpdpbusd per vector (cranelift
    /// matches the widening multiply-add tree below: the shifted first operand
    /// zero-extended, the second sign-extended), and the second operand's row sum
    /// (its header) for the correction of the shift: `sum((x + 128)·w) - 128·sum(w)`.
    fn run_int8(&mut self, bytes: i64, st: &mut NestState, offsets: &[Offset]) {
        let f = MemFlagsData::new().with_notrap();
        let addr = |g: &mut Self, st: &NestState, o: usize, extra: i64| -> (CValue, i32) {
            let base = st.operands[o].base;
            let (base, c) = match offsets[o] {
                Offset::Const(c) => (base, c + extra),
                Offset::Dyn(d, c) => (g.b.ins().iadd(base, d), c + extra),
            };
            match i32::try_from(c) {
                Ok(c) => (base, c),
                Err(_) => (g.b.ins().iadd_imm_s(base, c), 0),
            }
        };
        // Row sums of the signed operands (once per operand).
        let mut sums: Vec<Option<CValue>> = vec![None; st.operands.len()];
        for u in 0..st.units.len() {
            let o = st.units[u].operands[1];
            if sums[o].is_none() {
                let (a, off) = addr(self, st, o, -(ROW_HEADER as i64));
                let s = self.b.ins().load(types::I32, f, a, off);
                sums[o] = Some(self.b.ins().sextend(types::I64, s));
            }
            let cur = self.b.use_var(st.units[u].tail);
            let next = self.b.ins().iadd(cur, sums[o].expect("just loaded"));
            self.b.def_var(st.units[u].tail, next);
        }
        for k in 0..(bytes / 16) {
            let regs: Vec<CValue> = (0..st.operands.len())
                .map(|o| {
                    let (a, off) = addr(self, st, o, 16 * k);
                    self.b.ins().load(types::I8X16, f, a, off)
                })
                .collect();
            for u in &st.units {
                let (x, w) = (regs[u.operands[0]], regs[u.operands[1]]);
                let lo = {
                    let a = self.b.ins().swiden_low(w);
                    let b = self.b.ins().uwiden_low(x);
                    self.b.ins().imul(a, b)
                };
                let hi = {
                    let a = self.b.ins().swiden_high(w);
                    let b = self.b.ins().uwiden_high(x);
                    self.b.ins().imul(a, b)
                };
                let lo4 = {
                    let a = self.b.ins().swiden_low(lo);
                    let b = self.b.ins().swiden_high(lo);
                    self.b.ins().iadd_pairwise(a, b)
                };
                let hi4 = {
                    let a = self.b.ins().swiden_low(hi);
                    let b = self.b.ins().swiden_high(hi);
                    self.b.ins().iadd_pairwise(a, b)
                };
                let dot = self.b.ins().iadd_pairwise(lo4, hi4);
                let cur = self.b.use_var(u.wide);
                let s = self.b.ins().iadd(dot, cur);
                self.b.def_var(u.wide, s);
            }
            self.barrier(st);
        }
    }

    /// One vector's (or word's) counts: `popcount(x ^ w)` for `Bin`; for `Tern`
    /// (operands: signs, then non-zero planes) `popcount(nz & !d) - popcount(nz & d)`
    /// with `nz = nzx & nzw`, `d = sx ^ sw`.
    fn dot_bits(&mut self, regs: &[CValue], ops: &[usize]) -> CValue {
        let d = self.b.ins().bxor(regs[ops[0]], regs[ops[1]]);
        if ops.len() == 2 {
            return self.b.ins().popcnt(d);
        }
        let nz = self.b.ins().band(regs[ops[2]], regs[ops[3]]);
        let neg = self.b.ins().band(nz, d);
        let pos = self.b.ins().band_not(nz, d);
        let p = self.b.ins().popcnt(pos);
        let n = self.b.ins().popcnt(neg);
        self.b.ins().isub(p, n)
    }

    /// Stores every byte accumulator to its stack slot. Cranelift computes pure values
    /// where they are first used by an instruction with effects: without these stores,
    /// each accumulator's whole chain would be computed at its end, one unit after the
    /// other, with every loaded vector live until then (spilled). The stores make each
    /// vector step's arithmetic happen right after its loads.
    fn barrier(&mut self, st: &NestState) {
        for u in &st.units {
            let v = self.b.use_var(match st.kind {
                DotKind::Bin | DotKind::Tern => u.bytes,
                DotKind::Int8 => u.wide,
            });
            // (The type argument is the address's.)
            self.b.ins().stack_store(types::I64, v, u.slot, 0);
        }
    }

    /// Widens the byte-lane counts into the 16-bit lanes (pmaddubsw: unsigned bytes
    /// times 1, pairs added; at most 2·248 per flush, and `WIDE_LIMIT` bounds the
    /// vectors per reduction so a 16-bit lane never exceeds 16 · 2047).
    fn flush(&mut self, st: &mut NestState) {
        if st.pending == 0 {
            return;
        }
        st.pending = 0;
        let one8 = self.b.ins().iconst(types::I8, 1);
        let ones8 = self.b.ins().splat(types::I8X16, one8);
        let zero8 = self.b.ins().iconst(types::I8, 0);
        let zero_bytes = self.b.ins().splat(types::I8X16, zero8);
        for u in &st.units {
            let bytes = self.b.use_var(u.bytes);
            // pmaddubsw multiplies signed bytes (its first operand) by unsigned ones:
            // the counts are unsigned for `Bin` (up to 248), signed for `Tern`.
            let w16 = if st.kind == DotKind::Tern {
                self.b.ins().x86_pmaddubsw(bytes, ones8)
            } else {
                self.b.ins().x86_pmaddubsw(ones8, bytes)
            };
            let cur = self.b.use_var(u.wide);
            let s = self.b.ins().iadd(cur, w16);
            self.b.def_var(u.wide, s);
            self.b.def_var(u.bytes, zero_bytes);
        }
    }

    /// Each unit's total popcount (`i64`): its 16-bit lanes and its scalar words.
    /// `small`: every total is below 2^15 (then the lanes are summed in 16 bits).
    fn horizontal(&mut self, st: &NestState, small: bool) -> Vec<CValue> {
        let mut out = Vec::new();
        for group in st.units.chunks(4) {
            let mut wides: Vec<CValue> = group.iter().map(|u| self.b.use_var(u.wide)).collect();
            while wides.len() < 4 {
                wides.push(wides[0]);
            }
            let int8 = st.kind == DotKind::Int8;
            // `Tern` sums are signed, `Bin` counts unsigned.
            let signed = st.kind == DotKind::Tern;
            let all = if int8 {
                // 32-bit lanes, summed modulo 2^32: phaddd twice.
                let ab = self.b.ins().iadd_pairwise(wides[0], wides[1]);
                let cd = self.b.ins().iadd_pairwise(wides[2], wides[3]);
                self.b.ins().iadd_pairwise(ab, cd)
            } else if small {
                // phaddw three times: lane r holds unit r's sum.
                let ab = self.b.ins().iadd_pairwise(wides[0], wides[1]);
                let cd = self.b.ins().iadd_pairwise(wides[2], wides[3]);
                let abcd = self.b.ins().iadd_pairwise(ab, cd);
                let all = self.b.ins().iadd_pairwise(abcd, abcd);
                if signed {
                    self.b.ins().swiden_low(all)
                } else {
                    self.b.ins().uwiden_low(all)
                }
            } else {
                let w: Vec<CValue> = wides
                    .iter()
                    .map(|x| {
                        let (lo, hi) = if signed {
                            (self.b.ins().swiden_low(*x), self.b.ins().swiden_high(*x))
                        } else {
                            (self.b.ins().uwiden_low(*x), self.b.ins().uwiden_high(*x))
                        };
                        self.b.ins().iadd(lo, hi)
                    })
                    .collect();
                let ab = self.b.ins().iadd_pairwise(w[0], w[1]);
                let cd = self.b.ins().iadd_pairwise(w[2], w[3]);
                self.b.ins().iadd_pairwise(ab, cd)
            };
            for (r, u) in group.iter().enumerate() {
                let s = self.b.ins().extractlane(all, r as u8);
                let tail = self.b.use_var(u.tail);
                out.push(if int8 {
                    // sum((x + 128)·w) - 128·sum(w).
                    let s = self.b.ins().sextend(types::I64, s);
                    let c = self.b.ins().ishl_imm_s(tail, 7);
                    self.b.ins().isub(s, c)
                } else {
                    let s = if signed {
                        self.b.ins().sextend(types::I64, s)
                    } else {
                        self.b.ins().uextend(types::I64, s)
                    };
                    self.b.ins().iadd(s, tail)
                });
            }
        }
        out
    }
}

/// The accumulators and operands of a reduction being emitted.
struct NestState {
    units: Vec<Unit>,
    operands: Vec<Operand>,
    /// Vectors summed in the byte lanes since the last widening.
    pending: usize,
    kind: DotKind,
    /// Bytes per packed unit (a word, a byte).
    unit: i64,
}

/// A byte offset: constant, or a value plus a constant.
#[derive(Clone, Copy)]
enum Offset {
    Const(i64),
    Dyn(CValue, i64),
}

impl Offset {
    fn add(self, c: i64) -> Offset {
        match self {
            Offset::Const(x) => Offset::Const(x + c),
            Offset::Dyn(d, x) => Offset::Dyn(d, x + c),
        }
    }

    fn add_dyn(self, b: &mut cranelift_frontend::FunctionBuilder, d: CValue) -> Offset {
        match self {
            Offset::Const(x) => Offset::Dyn(d, x),
            Offset::Dyn(e, x) => Offset::Dyn(b.ins().iadd(e, d), x),
        }
    }
}
