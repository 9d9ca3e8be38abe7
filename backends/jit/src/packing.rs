//! Packing `bin` tensors into bit words for the popcount dot products (bindot.rs,
//! codegen/dotnest.rs): emitted as native code for tensors that arrive at run time
//! (activations, once per node run), done here in Rust at compile time for constant
//! data (weights).
//!
//! A tensor of shape `[..outer, C, ..inner]` packed along `C` becomes
//! `[..outer, ..inner, words]` with `words = ceil(C / 64)`: bit `c % 64` of word `c / 64`
//! is 1 when element `c` is +1 (a `bin` is one byte, ±1; layout.rs). Padding bits are 0.
//! With `S` the product of the inner dimensions, element `(o, c, s)` is byte
//! `(o·C + c)·S + s` of the source and bit `c` of packed row `o·S + s`.
//!
//! The native packing runs 16 bytes at a time:
//! - `S = 1` (channels contiguous: dense layers, NHWC): one compare and `vhigh_bits`
//!   (pmovmskb) gives 16 channel bits, stored as a 16-bit half word;
//! - `S ≥ 16` (channels strided: CHW activations): for 8 channels and 16 positions, eight
//!   loads, compares and masks OR-ed into 16 bytes of 8 channel bits each, stored one
//!   byte per position;
//! - what is left (a channel count that is not a multiple of 8 or 16, positions past the
//!   last group of 16, `1 < S < 16`) bit by bit.
//!
//! The scratch words start zeroed (the runtime allocates them so), so bits are only set.

use crate::bindot::{PackKind, Packing, Plane, ROW_HEADER};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_frontend::FunctionBuilder;
use kiln_passes::ir::*;

/// `[outer, C, S]`: the three factors of a packed tensor's shape.
pub fn factors(inst: &Instance, p: &Packing) -> (usize, usize, usize) {
    let shape = &inst.tensor(p.tensor).shape;
    let outer = shape[..p.dim].iter().product();
    let inner = shape[p.dim + 1..].iter().product();
    (outer, shape[p.dim], inner)
}

/// Whether a value's bit is set in a plane.
fn in_plane(plane: Plane, x: i8) -> bool {
    match plane {
        Plane::Positive => x > 0,
        Plane::Negative => x < 0,
        Plane::Nonzero => x != 0,
    }
}

/// The condition code of a plane's bit (value against 0).
fn plane_cc(plane: Plane) -> IntCC {
    match plane {
        Plane::Positive => IntCC::SignedGreaterThan,
        Plane::Negative => IntCC::SignedLessThan,
        Plane::Nonzero => IntCC::NotEqual,
    }
}

/// Packs one bit plane of the bytes of a `bin`/`tern` tensor in Rust: the words native
/// code would write.
pub fn pack_bytes(
    bytes: &[u8],
    (outer, c, s): (usize, usize, usize),
    words: usize,
    plane: Plane,
) -> Vec<u64> {
    let mut out = vec![0u64; outer * s * words];
    for o in 0..outer {
        for ch in 0..c {
            for p in 0..s {
                if in_plane(plane, bytes[(o * c + ch) * s + p] as i8) {
                    out[(o * s + p) * words + ch / 64] |= 1 << (ch % 64);
                }
            }
        }
    }
    out
}

/// Packs the bytes of an 8-bit integer tensor in Rust: rows of `row` bytes, a header
/// with the row's sum (i32, little-endian) then the values (`x + 128` when `shifted`),
/// zero padding; as 64-bit words.
pub fn pack_int8(
    bytes: &[u8],
    outer: usize,
    c: usize,
    s: usize,
    row: usize,
    shifted: bool,
) -> Vec<u64> {
    let mut out = vec![0u8; (outer * s * row).div_ceil(8) * 8];
    for o in 0..outer {
        for p in 0..s {
            let r = (o * s + p) * row;
            let mut sum = 0i32;
            for ch in 0..c {
                let x = bytes[(o * c + ch) * s + p];
                sum += x as i8 as i32;
                out[r + ROW_HEADER + ch] = if shifted { x ^ 0x80 } else { x };
            }
            out[r..r + 4].copy_from_slice(&sum.to_le_bytes());
        }
    }
    out.chunks(8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

/// The packed words of a tensor whose bytes are known (constant data).
pub fn pack_known(bytes: &[u8], inst: &Instance, p: &Packing) -> Vec<u64> {
    let (outer, c, s) = factors(inst, p);
    match p.kind {
        PackKind::Bits(plane) => pack_bytes(bytes, (outer, c, s), p.words, plane),
        PackKind::Bytes { shifted } => pack_int8(bytes, outer, c, s, p.words, shifted),
    }
}

/// A counted loop `for i in lo..hi (step)` in raw cranelift, the counter a block parameter.
pub fn for_range(
    b: &mut FunctionBuilder,
    lo: i64,
    hi: i64,
    step: i64,
    body: &mut dyn FnMut(&mut FunctionBuilder, CValue),
) {
    if lo >= hi {
        return;
    }
    let head = b.create_block();
    let exit = b.create_block();
    b.append_block_param(head, types::I64);
    let start = b.ins().iconst(types::I64, lo);
    b.ins().jump(head, &[start.into()]);
    b.switch_to_block(head);
    let i = b.block_params(head)[0];
    body(b, i);
    let next = b.ins().iadd_imm_s(i, step);
    let go = b.ins().icmp_imm_s(IntCC::SignedLessThan, next, hi);
    b.ins().brif(go, head, &[next.into()], exit, &[]);
    b.seal_block(head);
    b.switch_to_block(exit);
    b.seal_block(exit);
}

/// Sets bit `c` of packed row `row` when source byte `src` is in the plane.
#[allow(clippy::too_many_arguments)]
fn set_bit(
    b: &mut FunctionBuilder,
    words: CValue,
    nwords: usize,
    src: CValue,
    row: CValue,
    c: CValue,
    plane: Plane,
) {
    let f = MemFlagsData::new().with_notrap();
    let x = b.ins().load(types::I8, f, src, 0);
    let pos = b.ins().icmp_imm_s(plane_cc(plane), x, 0);
    let bit = b.ins().uextend(types::I64, pos);
    let sh = b.ins().band_imm_s(c, 63);
    let bit = b.ins().ishl(bit, sh);
    let q = b.ins().ushr_imm_s(c, 6);
    let w = b.ins().imul_imm_s(row, nwords as i64);
    let w = b.ins().iadd(w, q);
    let w = b.ins().imul_imm_s(w, 8);
    let at = b.ins().iadd(words, w);
    let old = b.ins().load(types::I64, f, at, 0);
    let new = b.ins().bor(old, bit);
    b.ins().store(f, new, at, 0);
}

/// Emits the packing of one tensor (`base`: its bytes) into `words` (zeroed).
pub fn emit_pack(
    b: &mut FunctionBuilder,
    inst: &Instance,
    p: &Packing,
    base: CValue,
    words: CValue,
) {
    match p.kind {
        PackKind::Bits(plane) => emit_pack_bits(b, inst, p, base, words, plane),
        PackKind::Bytes { shifted } => emit_pack_int8(b, inst, p, base, words, shifted),
    }
}

/// Byte rows (`PackKind::Bytes`): channels contiguous (`S = 1`) 16 at a time, with
/// the row sum from pmaddubsw (signed bytes times 1) widened to 32-bit lanes; strided
/// channels (a transpose) byte by byte.
fn emit_pack_int8(
    b: &mut FunctionBuilder,
    inst: &Instance,
    p: &Packing,
    base: CValue,
    dst: CValue,
    shifted: bool,
) {
    let (outer, c, s) = factors(inst, p);
    let (outer, c, s, row) = (outer as i64, c as i64, s as i64, p.words as i64);
    let hdr = ROW_HEADER as i64;
    let f = MemFlagsData::new().with_notrap();
    let flip8 = b.ins().iconst(types::I8, 0x80u8 as i8 as i64);
    let flip = b.ins().splat(types::I8X16, flip8);
    if s == 1 {
        let one8 = b.ins().iconst(types::I8, 1);
        let ones = b.ins().splat(types::I8X16, one8);
        let zero32 = b.ins().iconst(types::I32, 0);
        let zeros = b.ins().splat(types::I32X4, zero32);
        let sum = b.declare_var(types::I32X4);
        for_range(b, 0, outer, 1, &mut |b, o| {
            let src_row = b.ins().imul_imm_s(o, c);
            let src_row = b.ins().iadd(base, src_row);
            let dst_row = b.ins().imul_imm_s(o, row);
            let dst_row = b.ins().iadd(dst, dst_row);
            b.def_var(sum, zeros);
            for_range(b, 0, c / 16, 1, &mut |b, g| {
                let off = b.ins().imul_imm_s(g, 16);
                let at = b.ins().iadd(src_row, off);
                let v = b.ins().load(types::I8X16, f, at, 0);
                let stored = if shifted { b.ins().bxor(v, flip) } else { v };
                let at = b.ins().iadd(dst_row, off);
                b.ins().store(f, stored, at, hdr as i32);
                let pairs = b.ins().x86_pmaddubsw(v, ones);
                let lo = b.ins().swiden_low(pairs);
                let hi = b.ins().swiden_high(pairs);
                let w = b.ins().iadd(lo, hi);
                let cur = b.use_var(sum);
                let next = b.ins().iadd(cur, w);
                b.def_var(sum, next);
            });
            let v = b.use_var(sum);
            let mut total = b.ins().iconst(types::I32, 0);
            for lane in 0..4u8 {
                let x = b.ins().extractlane(v, lane);
                total = b.ins().iadd(total, x);
            }
            for ch in (c / 16) * 16..c {
                let x = b.ins().load(types::I8, f, src_row, ch as i32);
                let stored = if shifted {
                    b.ins().bxor_imm_s(x, 0x80u8 as i8 as i64)
                } else {
                    x
                };
                b.ins().store(f, stored, dst_row, (hdr + ch) as i32);
                let x = b.ins().sextend(types::I32, x);
                total = b.ins().iadd(total, x);
            }
            b.ins().store(f, total, dst_row, 0);
        });
        return;
    }
    for_range(b, 0, outer, 1, &mut |b, o| {
        for_range(b, 0, c, 1, &mut |b, ch| {
            for_range(b, 0, s, 1, &mut |b, pos| {
                let oc = b.ins().imul_imm_s(o, c);
                let oc = b.ins().iadd(oc, ch);
                let at = b.ins().imul_imm_s(oc, s);
                let at = b.ins().iadd(at, pos);
                let src = b.ins().iadd(base, at);
                let x = b.ins().load(types::I8, f, src, 0);
                let r = b.ins().imul_imm_s(o, s);
                let r = b.ins().iadd(r, pos);
                let r = b.ins().imul_imm_s(r, row);
                let r = b.ins().iadd(dst, r);
                let at = b.ins().iadd(r, ch);
                let stored = if shifted {
                    b.ins().bxor_imm_s(x, 0x80u8 as i8 as i64)
                } else {
                    x
                };
                b.ins().store(f, stored, at, hdr as i32);
                let old = b.ins().load(types::I32, f, r, 0);
                let x = b.ins().sextend(types::I32, x);
                let new = b.ins().iadd(old, x);
                b.ins().store(f, new, r, 0);
            });
        });
    });
}

/// Bit words (`PackKind::Bits`).
fn emit_pack_bits(
    b: &mut FunctionBuilder,
    inst: &Instance,
    p: &Packing,
    base: CValue,
    words: CValue,
    plane: Plane,
) {
    let cc = plane_cc(plane);
    let (outer, c, s) = factors(inst, p);
    let (outer, c, s, nw) = (outer as i64, c as i64, s as i64, p.words);
    let f = MemFlagsData::new().with_notrap();
    let zero8 = b.ins().iconst(types::I8, 0);
    let zero = b.ins().splat(types::I8X16, zero8);
    // Bit by bit over channels `c0..c` and positions `s0..s1`.
    let scalar = |b: &mut FunctionBuilder, c0: i64, s0: i64, s1: i64| {
        if c0 >= c || s0 >= s1 {
            return;
        }
        for_range(b, 0, outer, 1, &mut |b, o| {
            for_range(b, c0, c, 1, &mut |b, ch| {
                for_range(b, s0, s1, 1, &mut |b, pos| {
                    let oc = b.ins().imul_imm_s(o, c);
                    let oc = b.ins().iadd(oc, ch);
                    let at = b.ins().imul_imm_s(oc, s);
                    let at = b.ins().iadd(at, pos);
                    let src = b.ins().iadd(base, at);
                    let row = b.ins().imul_imm_s(o, s);
                    let row = b.ins().iadd(row, pos);
                    set_bit(b, words, nw, src, row, ch, plane);
                });
            });
        });
    };
    if s == 1 {
        let groups = c / 16;
        if groups > 0 {
            for_range(b, 0, outer, 1, &mut |b, o| {
                let src_row = b.ins().imul_imm_s(o, c);
                let src_row = b.ins().iadd(base, src_row);
                let dst_row = b.ins().imul_imm_s(o, 8 * nw as i64);
                let dst_row = b.ins().iadd(words, dst_row);
                for_range(b, 0, groups, 1, &mut |b, g| {
                    let off = b.ins().imul_imm_s(g, 16);
                    let at = b.ins().iadd(src_row, off);
                    let v = b.ins().load(types::I8X16, f, at, 0);
                    let m = b.ins().icmp(cc, v, zero);
                    let bits = b.ins().vhigh_bits(types::I32, m);
                    let off = b.ins().imul_imm_s(g, 2);
                    let at = b.ins().iadd(dst_row, off);
                    b.ins().istore16(f, bits, at, 0);
                });
            });
        }
        scalar(b, groups * 16, 0, 1);
        return;
    }
    let (cgroups, sgroups) = if s >= 16 { (c / 8, s / 16) } else { (0, 0) };
    if cgroups > 0 && sgroups > 0 {
        let masks: Vec<CValue> = (0..8)
            .map(|j| {
                let m = b.ins().iconst(types::I8, 1i64 << j);
                b.ins().splat(types::I8X16, m)
            })
            .collect();
        for_range(b, 0, outer, 1, &mut |b, o| {
            for_range(b, 0, cgroups, 1, &mut |b, cg| {
                for_range(b, 0, sgroups, 1, &mut |b, sg| {
                    // Source bytes of channel 8·cg + j, positions 16·sg..16·sg + 16.
                    let ch0 = b.ins().imul_imm_s(cg, 8);
                    let oc = b.ins().imul_imm_s(o, c);
                    let oc = b.ins().iadd(oc, ch0);
                    let at = b.ins().imul_imm_s(oc, s);
                    let p0 = b.ins().imul_imm_s(sg, 16);
                    let at = b.ins().iadd(at, p0);
                    let src = b.ins().iadd(base, at);
                    let mut acc = zero;
                    for (j, mask) in masks.iter().enumerate() {
                        let v = b.ins().load(types::I8X16, f, src, (j as i64 * s) as i32);
                        let m = b.ins().icmp(cc, v, zero);
                        let m = b.ins().band(m, *mask);
                        acc = b.ins().bor(acc, m);
                    }
                    // Byte cg of packed rows o·S + 16·sg + t.
                    let row = b.ins().imul_imm_s(o, s);
                    let row = b.ins().iadd(row, p0);
                    let at = b.ins().imul_imm_s(row, 8 * nw as i64);
                    let at = b.ins().iadd(at, cg);
                    let dst = b.ins().iadd(words, at);
                    for t in 0..16u8 {
                        let byte = b.ins().extractlane(acc, t);
                        b.ins()
                            .store(f, byte, dst, (t as i64 * 8 * nw as i64) as i32);
                    }
                });
            });
        });
    }
    // Positions past the groups of 16 (all channels), then the channels past the groups
    // of 8 (the grouped positions).
    scalar(b, 0, sgroups * 16, s);
    scalar(b, cgroups * 8, 0, sgroups * 16);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_packing_sets_the_bits_of_positive_bytes() {
        // [outer 1, C 70, S 2]: channel 69 of position 1 is +1, the rest -1.
        let mut bytes = vec![0xffu8; 140];
        bytes[69 * 2 + 1] = 1;
        bytes[3 * 2] = 1;
        let w = pack_bytes(&bytes, (1, 70, 2), 2, Plane::Positive);
        assert_eq!(w, vec![1 << 3, 0, 0, 1 << 5]);
        let w = pack_bytes(&bytes, (1, 70, 2), 2, Plane::Nonzero);
        assert_eq!(w, vec![u64::MAX, (1 << 6) - 1, u64::MAX, (1 << 6) - 1]);
    }
}
