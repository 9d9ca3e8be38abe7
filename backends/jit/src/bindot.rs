//! Binary dot products: a reduction of `bin × bin` products runs as XNOR and popcount
//! over packed 64-bit words.
//!
//! A `bin` is ±1, one byte per element in memory (layout.rs). The product of two is +1
//! when they are equal, so a sum of `n` products is `n - 2·popcount(x XOR w)` over their
//! bits (bit = value > 0). When a node accumulates `acc += x[.., c, ..] * w[.., c, ..]`
//! with `c` running over a whole dimension of both tensors, a prologue packs both along
//! that dimension into words (64 values each, zero padding), and the loop over `c`
//! becomes a loop over words.
//!
//! Before:
//! ```text
//! for c in 0..128: for u in 0..3: for v in 0..3:
//!     acc = acc + x[c, i + u, j + v] * w[k, c, u, v]
//! ```
//! After (prologue: `px[h][w][q]`, `pw[k][u][v][q]`, 2 words for 128 channels):
//! ```text
//! for q in 0..2: for u in 0..3: for v in 0..3:
//!     acc = acc + (bits(q) - 2 * popcount(px[i + u, j + v, q] ^ pw[k, u, v, q]))
//! ```
//! The sum is exact in any order (integers, and the accumulator's type holds every
//! partial sum, or it wraps), so regrouping the terms by word changes nothing.

use crate::locals::LocalPlans;
use kiln_numeric::ScalarType;
use kiln_passes::ir::*;
use std::collections::HashSet;

/// How a packed row holds its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackKind {
    /// `bin`/`tern` values as bits of 64-bit words, one bit plane.
    Bits(Plane),
    /// 8-bit integers as bytes, after a 16-byte header whose first 4 bytes are the sum
    /// of the row's values (i32); `shifted`: stored as `x + 128` (`x XOR 0x80`, the
    /// unsigned operand of vpdpbusd). Zero padding to a multiple of 16 bytes.
    Bytes { shifted: bool },
}

/// Which bit of a value a bit plane holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plane {
    /// value > 0 (a `bin`'s one bit).
    Positive,
    /// value < 0 (a `tern`'s sign).
    Negative,
    /// value ≠ 0 (all ones for a `bin`).
    Nonzero,
}

/// Bytes of the header before a byte row's values.
pub const ROW_HEADER: usize = 16;

/// A tensor packed along one dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    pub tensor: TensorId,
    pub dim: usize,
    /// Elements per packed row: words (`ceil(shape[dim] / 64)`) for bits, bytes
    /// (`ROW_HEADER + 16·ceil(shape[dim] / 16)`) for bytes.
    pub words: usize,
    pub kind: PackKind,
}

impl Packing {
    /// The packed shape: the tensor's without `dim`, then the row.
    pub fn shape(&self, inst: &Instance) -> Vec<usize> {
        let mut s: Vec<usize> = inst.tensor(self.tensor).shape.clone();
        s.remove(self.dim);
        s.push(self.words);
        s
    }

    /// Bytes per element of the packed shape.
    pub fn unit_bytes(&self) -> usize {
        match self.kind {
            PackKind::Bits(_) => 8,
            PackKind::Bytes { .. } => 1,
        }
    }

    /// The packed size in 64-bit words.
    pub fn len(&self, inst: &Instance) -> usize {
        let elems: usize = self.shape(inst).iter().product();
        (elems * self.unit_bytes()).div_ceil(8)
    }
}

/// What a dot product multiplies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DotKind {
    /// `bin × bin`: XOR and popcount.
    Bin,
    /// A `tern` times a `tern` or a `bin`: two bit planes each (sign, non-zero); the
    /// product is non-zero where both are, negative where the signs differ:
    /// `sum = popcount(nz & !(sx ^ sw)) - popcount(nz & (sx ^ sw))`, `nz = nzx & nzw`.
    Tern,
    /// Signed integers of at most 8 bits (int<N>, N ≤ 8): vpdpbusd on bytes,
    /// the first operand shifted to unsigned and corrected by the second's row sums.
    Int8,
}

/// One rewritten accumulation.
#[derive(Clone, Debug)]
pub struct BinDot {
    /// The value expression of the accumulating assignment (names the statement).
    pub value: ExprId,
    pub acc: LocalId,
    /// The reduction variable; in the rewritten loop it counts words.
    pub var: LoopVarId,
    /// Its extent (values summed per word loop).
    pub n: i64,
    /// The two operands: packing index and original access.
    pub operands: [(usize, Access); 2],
    pub kind: DotKind,
    /// `Tern`: the packings of the operands' non-zero planes (`operands` hold the
    /// sign planes).
    pub nonzero: Option<[usize; 2]>,
}

impl BinDot {
    /// Words (bits) or bytes (int8, padded to 16) per packed row's values.
    pub fn words(&self) -> i64 {
        match self.kind {
            DotKind::Bin | DotKind::Tern => (self.n + 63) / 64,
            DotKind::Int8 => (self.n + 15) / 16 * 16,
        }
    }
}

/// Whether a type is a signed integer of at most 8 bits (a byte in memory).
fn small_signed(t: &ScalarType) -> bool {
    matches!(t, ScalarType::Int(i) if i.signed && i.width <= 8)
}

/// The binary dot products of a node and the packings they need.
#[derive(Default)]
pub struct BinDots {
    pub dots: Vec<BinDot>,
    pub packings: Vec<Packing>,
}

/// The index of `a`'s dimension indexed by exactly `var` (and `var` nowhere else).
fn dim_of(a: &Access, var: LoopVarId) -> Option<usize> {
    let mut found = None;
    for (d, ix) in a.index.iter().enumerate() {
        if ix.coeff(var) == 0 {
            continue;
        }
        if found.is_some() || *ix != Affine::var(var) {
            return None;
        }
        found = Some(d);
    }
    found
}

/// `acc + x * w` (in either order) with two loads, both `bin` or both small signed
/// integers.
fn product_of(inst: &Instance, acc: LocalId, value: ExprId) -> Option<(Access, Access, DotKind)> {
    let Expr::Binary(BinOp::Add, p, q) = inst.expr(value) else {
        return None;
    };
    let is_acc = |e: ExprId| matches!(inst.expr(e), Expr::Local(l) if *l == acc);
    let prod = if is_acc(*p) {
        *q
    } else if is_acc(*q) {
        *p
    } else {
        return None;
    };
    let Expr::Binary(BinOp::Mul, a, b) = inst.expr(prod) else {
        return None;
    };
    let (Expr::Load(x), Expr::Load(w)) = (inst.expr(*a), inst.expr(*b)) else {
        return None;
    };
    let bin = |t: TensorId| inst.tensor(t).elem == ScalarType::Bin;
    let tern = |t: TensorId| inst.tensor(t).elem == ScalarType::Tern;
    let planes = |t: TensorId| bin(t) || tern(t);
    let byte = |t: TensorId| small_signed(&inst.tensor(t).elem);
    let plain = |a: &Access| !a.checked && a.is_affine();
    let kind = if bin(x.tensor) && bin(w.tensor) {
        DotKind::Bin
    } else if planes(x.tensor) && planes(w.tensor) {
        DotKind::Tern
    } else if byte(x.tensor) && byte(w.tensor) {
        DotKind::Int8
    } else {
        return None;
    };
    (plain(x) && plain(w) && x.tensor != w.tensor).then(|| (x.clone(), w.clone(), kind))
}

/// Whether every statement in `block` but loops is one of `targets`, and no loop bound
/// depends on `var` (then the loop over `var` may run innermost, per statement).
fn only_targets(block: &Block, var: LoopVarId, targets: &HashSet<ExprId>) -> bool {
    let mut ok = true;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| match s {
        Stmt::For(l) => ok &= l.lo.coeff(var) == 0 && l.hi.coeff(var) == 0,
        Stmt::Assign { value, .. } if targets.contains(value) => {}
        _ => ok = false,
    });
    ok
}

/// A candidate: an accumulation of bin products over a whole dimension.
struct Candidate<'a> {
    value: ExprId,
    acc: LocalId,
    lp: &'a Loop,
    x: (Access, usize),
    w: (Access, usize),
    kind: DotKind,
}

impl BinDots {
    /// Finds the rewritable accumulations of a node body.
    pub fn find(inst: &Instance, lplans: &LocalPlans, body: &Block) -> BinDots {
        // The prologue packs operands before the node runs: a tensor the node writes
        // (an on-chip buffer filled by a copy loop) would be packed before it is filled.
        let (_, written) = block_accesses(inst, body);
        let mut candidates: Vec<Candidate> = Vec::new();
        walk_stmts(body, &mut Vec::new(), &mut |s, loops| {
            let Stmt::Assign { local, value, .. } = s else {
                return;
            };
            let Some((x, w, kind)) = product_of(inst, *local, *value) else {
                return;
            };
            if written.contains(&x.tensor) || written.contains(&w.tensor) {
                return;
            }
            // Exact in any order: an inferred accumulator (its type holds every partial
            // sum) or a lazily wrapped one (a ring).
            if inst.local(*local).declared && lplans.lazy(*local).is_none() {
                return;
            }
            // The innermost loop over a whole dimension of both.
            for l in loops.iter().rev() {
                let (Some(0), Some(n), 1) = (l.lo.as_constant(), l.hi.as_constant(), l.step) else {
                    continue;
                };
                let (Some(dx), Some(dw)) = (dim_of(&x, l.var), dim_of(&w, l.var)) else {
                    continue;
                };
                let full = |a: &Access, d: usize| inst.tensor(a.tensor).shape[d] as i64 == n;
                // Int8: the exact sum must fit in 32 bits (vpdpbusd's lanes and the
                // corrections wrap modulo 2^32; the result is exact when it fits).
                let fits = kind != DotKind::Int8 || n < (1 << 31) / (128 * 128);
                if full(&x, dx) && full(&w, dw) && fits {
                    candidates.push(Candidate {
                        value: *value,
                        acc: *local,
                        lp: l,
                        x: (x, dx),
                        w: (w, dw),
                        kind,
                    });
                    return;
                }
            }
        });
        // A loop's statements must all be candidates over it.
        let mut out = BinDots::default();
        for c in &candidates {
            let same: HashSet<ExprId> = candidates
                .iter()
                .filter(|d| d.lp.var == c.lp.var)
                .map(|d| d.value)
                .collect();
            if !only_targets(&c.lp.body, c.lp.var, &same) {
                continue;
            }
            let n = c.lp.hi.as_constant().expect("constant bound");
            let (words, kinds) = match c.kind {
                DotKind::Bin => (
                    (n as usize).div_ceil(64),
                    [PackKind::Bits(Plane::Positive); 2],
                ),
                DotKind::Tern => (
                    (n as usize).div_ceil(64),
                    [PackKind::Bits(Plane::Negative); 2],
                ),
                DotKind::Int8 => (
                    ROW_HEADER + (n as usize).div_ceil(16) * 16,
                    [
                        PackKind::Bytes { shifted: true },
                        PackKind::Bytes { shifted: false },
                    ],
                ),
            };
            let mut packing = |tensor: TensorId, dim: usize, kind: PackKind| {
                let p = Packing {
                    tensor,
                    dim,
                    words,
                    kind,
                };
                match out.packings.iter().position(|q| *q == p) {
                    Some(i) => i,
                    None => {
                        out.packings.push(p);
                        out.packings.len() - 1
                    }
                }
            };
            let px = packing(c.x.0.tensor, c.x.1, kinds[0]);
            let pw = packing(c.w.0.tensor, c.w.1, kinds[1]);
            let nonzero = (c.kind == DotKind::Tern).then(|| {
                [
                    packing(c.x.0.tensor, c.x.1, PackKind::Bits(Plane::Nonzero)),
                    packing(c.w.0.tensor, c.w.1, PackKind::Bits(Plane::Nonzero)),
                ]
            });
            out.dots.push(BinDot {
                value: c.value,
                acc: c.acc,
                var: c.lp.var,
                n,
                operands: [(px, c.x.0.clone()), (pw, c.w.0.clone())],
                kind: c.kind,
                nonzero,
            });
        }
        out
    }

    pub fn by_var(&self, v: LoopVarId) -> Option<&BinDot> {
        self.dots.iter().find(|d| d.var == v)
    }

    pub fn by_value(&self, e: ExprId) -> Option<&BinDot> {
        self.dots.iter().find(|d| d.value == e)
    }

    /// Whether a rewritten statement is inside `block`.
    pub fn inside(&self, block: &Block) -> bool {
        let mut found = false;
        walk_stmts(block, &mut Vec::new(), &mut |s, _| {
            if let Stmt::Assign { value, .. } = s {
                found |= self.by_value(*value).is_some();
            }
        });
        found
    }
}

/// Emits the packing prologue: every packed tensor that `skip` does not name (constants
/// packed at compile time), into its (zeroed) scratch words (packing.rs). `data` gives
/// the loaded pointer of a data tensor; `scratch[k]` is packing `k`'s words.
pub fn emit_packing(
    b: &mut cranelift_frontend::FunctionBuilder,
    inst: &Instance,
    packings: &[Packing],
    data: &dyn Fn(TensorId) -> cranelift_codegen::ir::Value,
    scratch: &[cranelift_codegen::ir::Value],
    skip: &dyn Fn(usize) -> bool,
) {
    for (k, p) in packings.iter().enumerate() {
        if !skip(k) {
            crate::packing::emit_pack(b, inst, p, data(p.tensor), scratch[k]);
        }
    }
}
