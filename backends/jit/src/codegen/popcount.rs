//! The reduction step of a binary dot product (bindot.rs): XOR and popcount over the
//! packed words of both operands.

use crate::bindot::{BinDot, DotKind, ROW_HEADER};
use crate::codegen::error::{Unsupported, R};
use crate::codegen::gen::Gen;
use crate::rep::Rep;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use kiln_passes::ir::*;

/// Binary dot products over at most this many words are unrolled.
const MAX_UNROLL_WORDS: i64 = 8;

impl Gen<'_, '_> {
    /// One word of a binary dot product: `acc += bits(q) - 2 * popcount(x_q ^ w_q)`.
    pub(crate) fn bindot_step(&mut self, acc: LocalId, value: ExprId) -> R<()> {
        let dot = self
            .bindots
            .by_value(value)
            .expect("a dot statement")
            .clone();
        match dot.kind {
            DotKind::Int8 => return self.int8_step(acc, &dot),
            DotKind::Tern => return self.tern_step(acc, &dot),
            DotKind::Bin => {}
        }
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
        let i64_rep = Rep::I64;
        let sum = self.coerce(sum, i64_rep, bits, frac);
        let cur = self.b.use_var(var);
        let new = self.b.ins().iadd(cur, sum);
        self.b.def_var(var, new);
        Ok(())
    }

    /// A ternary dot product the reduction nests (dotnest.rs) do not take, word by word:
    /// `acc += popcount(nz & !d) - popcount(nz & d)`, `nz = nzx & nzw`, `d = sx ^ sw`.
    fn tern_step(&mut self, acc: LocalId, dot: &BinDot) -> R<()> {
        let nz = dot.nonzero.expect("ternary dots have non-zero planes");
        let planes = [
            (dot.operands[0].0, &dot.operands[0].1),
            (dot.operands[1].0, &dot.operands[1].1),
            (nz[0], &dot.operands[0].1),
            (nz[1], &dot.operands[1].1),
        ];
        let mut rows = Vec::new();
        for (pk, access) in planes {
            let p = &self.bindots.packings[pk];
            let strides = kiln_passes::data::strides(&p.shape(self.inst));
            let mut flat = Affine::constant(0);
            let others = access.index.iter().enumerate().filter(|(d, _)| *d != p.dim);
            for (k, (_, ix)) in others.enumerate() {
                flat = flat.add_scaled(ix, strides[k] as i64);
            }
            let off = self.affine(&flat);
            let bytes = self.b.ins().imul_imm_s(off, 8);
            rows.push(self.b.ins().iadd(self.scratch[pk], bytes));
        }
        let f = MemFlagsData::new().with_notrap();
        let head = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, types::I64);
        self.b.append_block_param(head, types::I64);
        self.b.append_block_param(exit, types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(head, &[zero.into(), zero.into()]);
        self.b.switch_to_block(head);
        let (q, total) = (self.b.block_params(head)[0], self.b.block_params(head)[1]);
        let at = self.b.ins().imul_imm_s(q, 8);
        let w: Vec<CValue> = rows
            .iter()
            .map(|r| {
                let a = self.b.ins().iadd(*r, at);
                self.b.ins().load(types::I64, f, a, 0)
            })
            .collect();
        let d = self.b.ins().bxor(w[0], w[1]);
        let nzw = self.b.ins().band(w[2], w[3]);
        let neg = self.b.ins().band(nzw, d);
        let pos = self.b.ins().band_not(nzw, d);
        let p = self.b.ins().popcnt(pos);
        let n = self.b.ins().popcnt(neg);
        let term = self.b.ins().isub(p, n);
        let total = self.b.ins().iadd(total, term);
        let next = self.b.ins().iadd_imm_s(q, 1);
        let go = self
            .b
            .ins()
            .icmp_imm_s(IntCC::SignedLessThan, next, dot.words());
        self.b.ins().brif(
            go,
            head,
            &[next.into(), total.into()],
            exit,
            &[total.into()],
        );
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let total = self.b.block_params(exit)[0];
        self.add_dot_total(acc, total)
    }

    /// An 8-bit dot product the reduction nests (dotnest.rs) do not take, byte by byte:
    /// `acc += sum(x_q * w_q)` over the packed rows (the first operand stored shifted).
    fn int8_step(&mut self, acc: LocalId, dot: &BinDot) -> R<()> {
        let mut rows = Vec::new();
        for (pk, access) in &dot.operands {
            let p = &self.bindots.packings[*pk];
            let strides = kiln_passes::data::strides(&p.shape(self.inst));
            let mut flat = Affine::constant(ROW_HEADER as i64);
            let others = access.index.iter().enumerate().filter(|(d, _)| *d != p.dim);
            for (k, (_, ix)) in others.enumerate() {
                flat = flat.add_scaled(ix, strides[k] as i64);
            }
            let off = self.affine(&flat);
            rows.push(self.b.ins().iadd(self.scratch[*pk], off));
        }
        let f = MemFlagsData::new().with_notrap();
        let head = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(head, types::I64);
        self.b.append_block_param(head, types::I64);
        let zero = self.b.ins().iconst(types::I64, 0);
        self.b.ins().jump(head, &[zero.into(), zero.into()]);
        self.b.switch_to_block(head);
        let (q, total) = (self.b.block_params(head)[0], self.b.block_params(head)[1]);
        let xa = self.b.ins().iadd(rows[0], q);
        let x = self.b.ins().load(types::I8, f, xa, 0);
        let x = self.b.ins().bxor_imm_s(x, 0x80u8 as i8 as i64);
        let x = self.b.ins().sextend(types::I64, x);
        let wa = self.b.ins().iadd(rows[1], q);
        let w = self.b.ins().load(types::I8, f, wa, 0);
        let w = self.b.ins().sextend(types::I64, w);
        let p = self.b.ins().imul(x, w);
        let total = self.b.ins().iadd(total, p);
        let next = self.b.ins().iadd_imm_s(q, 1);
        let go = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, next, dot.n);
        self.b.ins().brif(
            go,
            head,
            &[next.into(), total.into()],
            exit,
            &[total.into()],
        );
        self.b.append_block_param(exit, types::I64);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let total = self.b.block_params(exit)[0];
        self.add_dot_total(acc, total)
    }

    /// `popcount(x_q ^ w_q)` for word `q` of a binary dot product (padding bits are 0
    /// in both).
    fn bindot_mismatches(&mut self, dot: &BinDot, q: CValue) -> CValue {
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
}
