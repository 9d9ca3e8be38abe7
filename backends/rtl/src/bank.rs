//! Banked memories: a tensor with `partition` directives as one memory per bank.
//!
//! The IR's [`Partition`]s (passes/src/ir/mod.rs) split each dimension of a tensor: cyclic
//! by `f` puts index `i` in bank `i mod f` at offset `i / f`; block by `f` puts it in bank
//! `i / b` at offset `i mod b` with `b = ceil(n / f)`; complete gives every index its own
//! bank. A tensor's bank is the row-major combination of its dimensions' banks and its
//! offset within the bank the row-major combination of their offsets, so every bank is a
//! memory of the same length with its own ports (module.rs declares them as `NAME_bK`).
//!
//! [`Banking::static_bank`] proves the bank of an access from its affine index when every
//! loop counter's coefficient in a cyclic dimension is a multiple of the factor (the
//! counter cannot move the bank: `result[2*i0_o + 1, ...]` is always in bank 1 of a cyclic
//! 2 split), and when partitioned block or complete dimensions have a constant index. The
//! pipelined iterations (pipeline.rs) use it to give each store of a parameter its own
//! bank's write port; where it cannot be proved, the generator keeps one access per cycle.
//! The Verilog expressions below compute a bank and an offset from per-dimension indices
//! or from a flat (row-major) element index, and back. An access whose bank is computed
//! reads or writes only the banks [`Banking::reach`] finds it can reach over its loop
//! counters' ranges (a sliding window's read: 48 of conv_relu's 432), its read a `case`
//! over those banks' reads.

use crate::fixed::Wires;
use crate::module::{BankSel, ModGen, Storage, WriteSrc};
use kiln_numeric::ScalarType;
use kiln_passes::ir::{Access, Affine, Partition, PartitionKind, TensorId};
use std::fmt::Write;

/// How one dimension is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    /// The dimension's extent.
    pub n: usize,
    /// `None`: not partitioned (one bank).
    pub kind: Option<PartitionKind>,
    /// Banks along this dimension.
    pub banks: usize,
    /// Offsets along this dimension within a bank.
    pub len: usize,
    /// Block size (block partitions only).
    pub blk: usize,
}

/// The banks of one tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banking {
    pub dims: Vec<Dim>,
}

fn lit(v: i64) -> String {
    crate::module::lit32(v)
}

impl Banking {
    /// The banking of a tensor of `shape` with `parts`, or `None` when it is one bank.
    pub fn of(shape: &[usize], parts: &[Partition]) -> Option<Banking> {
        let mut dims: Vec<Dim> = shape
            .iter()
            .map(|&n| Dim {
                n,
                kind: None,
                banks: 1,
                len: n.max(1),
                blk: n.max(1),
            })
            .collect();
        for p in parts {
            let Some(d) = dims.get_mut(p.dim) else {
                continue;
            };
            let n = d.n.max(1);
            *d = match p.kind {
                PartitionKind::Cyclic => {
                    let f = (p.factor.max(1) as usize).min(n);
                    Dim {
                        n,
                        kind: Some(p.kind),
                        banks: f,
                        len: n.div_ceil(f),
                        blk: 1,
                    }
                }
                PartitionKind::Block => {
                    let blk = n.div_ceil(p.factor.max(1) as usize);
                    Dim {
                        n,
                        kind: Some(p.kind),
                        banks: n.div_ceil(blk),
                        len: blk,
                        blk,
                    }
                }
                PartitionKind::Complete => Dim {
                    n,
                    kind: Some(p.kind),
                    banks: n,
                    len: 1,
                    blk: 1,
                },
            };
        }
        let b = Banking { dims };
        (b.count() > 1).then_some(b)
    }

    /// The number of banks.
    pub fn count(&self) -> usize {
        self.dims.iter().map(|d| d.banks).product()
    }

    /// The elements of one bank.
    pub fn bank_len(&self) -> usize {
        self.dims.iter().map(|d| d.len).product::<usize>().max(1)
    }

    /// Address bits of one bank.
    pub fn off_width(&self) -> u32 {
        crate::module::addr_width(self.bank_len())
    }

    fn strides(ext: impl Iterator<Item = usize> + Clone) -> Vec<i64> {
        let v: Vec<usize> = ext.collect();
        let mut s = vec![1i64; v.len()];
        for d in (0..v.len().saturating_sub(1)).rev() {
            s[d] = s[d + 1] * v[d + 1] as i64;
        }
        s
    }

    fn bank_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.banks))
    }

    fn off_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.len))
    }

    fn flat_strides(&self) -> Vec<i64> {
        Self::strides(self.dims.iter().map(|d| d.n))
    }

    /// The bank of an access whose index in dimension `d` is `index[d]` (already with
    /// the unrolled counters substituted) plus a data-dependent part where `dynamic[d]`,
    /// when it is the same for every value of the loop counters; `None` otherwise.
    pub fn static_bank(&self, index: &[Affine], dynamic: &[bool]) -> Option<usize> {
        let bs = self.bank_strides();
        let mut bank = 0usize;
        for (d, dim) in self.dims.iter().enumerate() {
            let Some(kind) = dim.kind else { continue };
            let ix = index.get(d)?;
            if dynamic.get(d).copied().unwrap_or(false) {
                return None;
            }
            let b = match kind {
                PartitionKind::Cyclic => {
                    let f = dim.banks as i64;
                    if ix.terms.iter().any(|&(_, c)| c.rem_euclid(f) != 0) {
                        return None;
                    }
                    ix.constant.rem_euclid(f)
                }
                PartitionKind::Block => {
                    let c = ix.as_constant()?;
                    c.div_euclid(dim.blk as i64)
                }
                PartitionKind::Complete => ix.as_constant()?,
            };
            if b < 0 || b >= dim.banks as i64 {
                return None;
            }
            bank += b as usize * bs[d] as usize;
        }
        Some(bank)
    }

    /// The banks an access whose index in dimension `d` is `index[d]` (the unrolled
    /// counters substituted) can reach, ascending, given the values each loop counter
    /// holds (`ranges`, by `LoopVarId`): per dimension the banks of the values its index
    /// takes (all of them for a data-dependent index or a counter of unknown range), then
    /// their row-major combinations. A window read `x[c, i + u, j + v]` of a tensor split
    /// completely along its rows reaches the 16 rows `u..u + 16` that `i` moves over, not
    /// the 18 of the tensor, and only the channel `c`.
    pub fn reach(
        &self,
        index: &[Affine],
        dynamic: &[bool],
        ranges: &[Option<(i64, i64)>],
    ) -> Vec<usize> {
        let bs = self.bank_strides();
        let mut banks = vec![0usize];
        for (d, dim) in self.dims.iter().enumerate() {
            let Some(kind) = dim.kind else { continue };
            let all: Vec<i64> = (0..dim.banks as i64).collect();
            let here: Vec<i64> = match index.get(d) {
                Some(ix) if !dynamic.get(d).copied().unwrap_or(false) => {
                    match crate::width::affine_range(ix, ranges) {
                        None => all,
                        Some((lo, hi)) => match kind {
                            PartitionKind::Cyclic => {
                                let f = dim.banks as i64;
                                if ix.terms.iter().all(|&(_, c)| c.rem_euclid(f) == 0) {
                                    vec![ix.constant.rem_euclid(f)]
                                } else if hi - lo + 1 >= f {
                                    all
                                } else {
                                    let mut v: Vec<i64> =
                                        (lo..=hi).map(|x| x.rem_euclid(f)).collect();
                                    v.sort_unstable();
                                    v
                                }
                            }
                            PartitionKind::Block => {
                                let b = dim.blk as i64;
                                (lo.div_euclid(b)..=hi.div_euclid(b)).collect()
                            }
                            PartitionKind::Complete => (lo..=hi).collect(),
                        },
                    }
                }
                _ => all,
            };
            let here: Vec<usize> = here
                .into_iter()
                .filter(|&b| b >= 0 && b < dim.banks as i64)
                .map(|b| b as usize)
                .collect();
            let stride = bs[d] as usize;
            banks = banks
                .iter()
                .flat_map(|&k| here.iter().map(move |&b| k + b * stride))
                .collect();
        }
        banks.sort_unstable();
        banks.dedup();
        banks
    }

    /// The offset in its bank of an access whose bank [`Banking::static_bank`] proved, as
    /// an affine form of the counters (no division in hardware): in a cyclic dimension
    /// `(i - b) / f`, exact since every coefficient of `i` and `i - b` is a multiple of `f`.
    pub fn static_offset(&self, index: &[Affine]) -> Option<Affine> {
        let os = self.off_strides();
        let mut off = Affine::constant(0);
        for (d, dim) in self.dims.iter().enumerate() {
            let ix = index.get(d)?;
            let o = match dim.kind {
                None => ix.clone(),
                Some(PartitionKind::Cyclic) => {
                    let f = dim.banks as i64;
                    let b = ix.constant.rem_euclid(f);
                    let mut o = Affine::constant((ix.constant - b) / f);
                    for &(v, c) in &ix.terms {
                        if c % f != 0 {
                            return None;
                        }
                        o = o.add_scaled(&Affine::var(v), c / f);
                    }
                    o
                }
                Some(PartitionKind::Block) => {
                    Affine::constant(ix.as_constant()?.rem_euclid(dim.blk as i64))
                }
                Some(PartitionKind::Complete) => Affine::constant(0),
            };
            off = off.add_scaled(&o, os[d]);
        }
        Some(off)
    }

    /// Verilog expressions (32-bit signed) of the bank and the offset of an element whose
    /// index in each dimension is the 32-bit expression `idx[d]`.
    ///
    /// `idx[d]` is an unsigned wire of [`Banking::index_width`] bits (an index in bounds),
    /// so the divisions by constants are as narrow as the dimension.
    pub fn split(&self, idx: &[String]) -> (String, String) {
        let (bs, os) = (self.bank_strides(), self.off_strides());
        let mut bank = vec![lit(0)];
        let mut off = vec![lit(0)];
        for (d, dim) in self.dims.iter().enumerate() {
            let i = &idx[d];
            let w = self.index_width(d);
            let (b, o) = match dim.kind {
                None => (None, i.clone()),
                Some(PartitionKind::Cyclic) => (
                    Some(format!("({i} % {w}'d{})", dim.banks)),
                    format!("({i} / {w}'d{})", dim.banks),
                ),
                Some(PartitionKind::Block) => (
                    Some(format!("({i} / {w}'d{})", dim.blk)),
                    format!("({i} % {w}'d{})", dim.blk),
                ),
                Some(PartitionKind::Complete) => (Some(i.clone()), lit(0)),
            };
            if let Some(b) = b {
                bank.push(crate::width::times_const(&b, bs[d]));
            }
            off.push(crate::width::times_const(&o, os[d]));
        }
        (
            format!("({})", bank.join(" + ")),
            format!("({})", off.join(" + ")),
        )
    }

    /// Bits of an index of dimension `d` (one more than its largest value needs, so that
    /// the dimension's factors fit as literals of that width).
    pub fn index_width(&self, d: usize) -> u32 {
        crate::module::addr_width(self.dims[d].n.max(1)) + 1
    }

    /// The per-dimension index expressions of a flat (row-major) element index, an
    /// unsigned wire of `w` bits.
    pub fn unflatten(&self, flat: &str, w: u32) -> Vec<String> {
        let fs = self.flat_strides();
        let w = w + 1;
        self.dims
            .iter()
            .enumerate()
            .map(|(d, dim)| format!("(({flat} / {w}'d{}) % {w}'d{})", fs[d], dim.n))
            .collect()
    }

    /// The flat element index (32-bit expression) of offset `off` (a 32-bit expression) in
    /// bank `bank`.
    pub fn join(&self, bank: usize, off: &str) -> String {
        let (bs, os, fs) = (self.bank_strides(), self.off_strides(), self.flat_strides());
        let w = self.off_width() + 1;
        let mut flat = vec![lit(0)];
        for (d, dim) in self.dims.iter().enumerate() {
            let b = (bank as i64 / bs[d]) % dim.banks as i64;
            let o = format!("(({off} / {w}'d{}) % {w}'d{})", os[d], dim.len);
            let i = match dim.kind {
                None => o,
                Some(PartitionKind::Cyclic) => {
                    format!(
                        "({} + {})",
                        crate::width::times_const(&o, dim.banks as i64),
                        lit(b)
                    )
                }
                Some(PartitionKind::Block) => {
                    format!("({} + {o})", lit(b * dim.blk as i64))
                }
                Some(PartitionKind::Complete) => lit(b),
            };
            flat.push(crate::width::times_const(&i, fs[d]));
        }
        format!("({})", flat.join(" + "))
    }

    /// A human-readable description (`2 banks of 1728`).
    pub fn describe(&self) -> String {
        format!("{} banks of {}", self.count(), self.bank_len())
    }
}

impl ModGen<'_> {
    /// The banking of the memory or write ports that hold tensor `t` here.
    pub fn banking(&self, t: TensorId) -> Option<Banking> {
        match self.storage.get(&t)? {
            Storage::Local { bank, .. } => bank.clone(),
            Storage::Port { index } => self.params[*index].bank.clone(),
        }
    }

    /// The index of access `a` with the unrolled counters of a chained iteration
    /// substituted, and which of its dimensions are data-dependent.
    fn substituted(&self, a: &Access) -> (Vec<Affine>, Vec<bool>) {
        let index = a
            .index
            .iter()
            .map(|ix| crate::pipeline::subst(ix, &self.env))
            .collect();
        let dynamic = (0..a.index.len())
            .map(|d| a.dynamic_at(d).is_some())
            .collect();
        (index, dynamic)
    }

    /// The static bank of access `a` into a tensor banked as `b` (the unrolled counters of a
    /// chained iteration substituted).
    pub fn static_bank_of(&self, a: &Access, b: &Banking) -> Option<usize> {
        let (index, dynamic) = self.substituted(a);
        b.static_bank(&index, &dynamic)
    }

    /// A signed 32-bit wire holding `expr`.
    fn wire32(&mut self, prefix: &str, expr: &str) -> String {
        let n = self.fresh(prefix);
        let _ = writeln!(self.decls, "    wire signed [31:0] {n} = {expr};");
        n
    }

    /// The bank and the in-bank offset (`off_width` bits) of access `a` into a tensor
    /// banked as `b`.
    pub fn bank_access(&mut self, a: &Access, b: &Banking) -> Option<(BankSel, String)> {
        let (index, dynamic) = self.substituted(a);
        let fixed = b.static_bank(&index, &dynamic);
        if let (Some(k), Some(off)) = (fixed, b.static_offset(&index)) {
            let off = self.affine(&off);
            let off = self.wire32("off", &off);
            return Some((
                BankSel::Static(k),
                crate::fixed::slice(&off, b.off_width() - 1, 0),
            ));
        }
        let mut idx = Vec::new();
        for (d, ix) in a.index.iter().enumerate() {
            let mut e = self.affine(ix);
            if let Some(x) = a.dynamic_at(d) {
                let xty = *self.inst.expr_type(x)?;
                let w = self.expr(x)?;
                let i32w = self.coerce(&w, &xty, &ScalarType::int(32));
                e = format!("({e} + $signed({i32w}))");
            }
            let n = self.fresh("ix");
            let _ = writeln!(
                self.decls,
                "    wire [{}:0] {n} = {e};",
                b.index_width(d) - 1
            );
            idx.push(n);
        }
        let (bank, off) = b.split(&idx);
        let off = self.wire32("off", &off);
        let off = crate::fixed::slice(&off, b.off_width() - 1, 0);
        let ranges: Vec<Option<(i64, i64)>> = self.counters.iter().map(|c| c.range).collect();
        let reach = b.reach(&index, &dynamic, &ranges);
        let sel = match fixed {
            Some(k) => BankSel::Static(k),
            None if reach.len() == 1 => BankSel::Static(reach[0]),
            None => BankSel::Dynamic(self.wire32("bank", &bank), reach),
        };
        Some((sel, off))
    }

    /// The bank and offset of the element at the flat index `flat` (a wire of at most 32
    /// bits, unsigned) of a tensor banked as `b`.
    pub fn bank_flat(&mut self, flat: &str, b: &Banking) -> (BankSel, String) {
        let w = self.inst_len_width(b);
        let f = self.fresh("flat");
        let _ = writeln!(self.decls, "    wire [{}:0] {f} = {flat};", w - 1);
        let mut idx = Vec::new();
        for (d, e) in b.unflatten(&f, w).into_iter().enumerate() {
            let n = self.fresh("ix");
            let _ = writeln!(
                self.decls,
                "    wire [{}:0] {n} = {e};",
                b.index_width(d) - 1
            );
            idx.push(n);
        }
        let (bank, off) = b.split(&idx);
        let off = self.wire32("off", &off);
        let off = crate::fixed::slice(&off, b.off_width() - 1, 0);
        let all = (0..b.count()).collect();
        (BankSel::Dynamic(self.wire32("bank", &bank), all), off)
    }

    /// Bits of a flat element index of a tensor banked as `b`.
    fn inst_len_width(&self, b: &Banking) -> u32 {
        crate::module::addr_width(b.dims.iter().map(|d| d.n.max(1)).product())
    }

    /// The value of banked memory `mem` (`dw`-bit words) at (`sel`, `off`): one bank, or
    /// when the bank is computed a multiplexer over the banks the access can reach: each
    /// bank's read is a wire of its own and the multiplexer a `case` (yosys' parallel
    /// `$pmux`). Not a chain of `?:` with a memory read in every arm over every bank, which
    /// yosys 0.23's front end took minutes to elaborate for a chained window; and not an
    /// AND-OR of the reads either, which yosys maps to 50% more LUTs than the `$pmux` on
    /// the chained conv_fixed (docs/rtl-synthesis.md).
    pub fn bank_read(&mut self, mem: &str, dw: u32, sel: &BankSel, off: &str) -> String {
        match sel {
            BankSel::Static(k) => format!("{mem}_b{k}[{off}]"),
            BankSel::Dynamic(w, reach) => {
                let Some((&last, rest)) = reach.split_last() else {
                    return format!("{mem}_b0[{off}]");
                };
                if rest.is_empty() {
                    return format!("{mem}_b{last}[{off}]");
                }
                let v = self.fresh("bsel");
                let mut arms = String::new();
                for &k in rest {
                    let r = self.wire(dw, &format!("{mem}_b{k}[{off}]"));
                    let _ = writeln!(arms, "            {}: {v} = {r};", lit(k as i64));
                }
                let r = self.wire(dw, &format!("{mem}_b{last}[{off}]"));
                let _ = writeln!(self.decls, "    reg [{}:0] {v};", dw - 1);
                let _ = write!(
                    self.assigns,
                    "    always @* begin\n        case ({w})\n{arms}            default: {v} = {r};\n        endcase\n    end\n"
                );
                v
            }
        }
    }

    /// The write of `data` into the element of `t` at `a` while `we`: a flat address, or a
    /// bank and offset when `t` is banked.
    pub fn store_src(&mut self, a: &Access, we: String, data: String) -> Option<WriteSrc> {
        let len = self.inst.tensor(a.tensor).len();
        Some(match self.banking(a.tensor) {
            Some(b) => {
                let (sel, off) = self.bank_access(a, &b)?;
                WriteSrc {
                    we,
                    addr: off,
                    data,
                    bank: Some(sel),
                }
            }
            None => {
                let addr = self.address(a)?;
                WriteSrc {
                    we,
                    addr: crate::fixed::slice(&addr, crate::module::addr_width(len) - 1, 0),
                    data,
                    bank: None,
                }
            }
        })
    }

    /// The write enable of source `s` on bank `k`, or `None` when it never writes there.
    pub fn bank_we(s: &WriteSrc, k: usize) -> Option<String> {
        match &s.bank {
            Some(BankSel::Static(j)) => (*j == k).then(|| s.we.clone()),
            Some(BankSel::Dynamic(w, reach)) => reach
                .binary_search(&k)
                .is_ok()
                .then(|| format!("({} & ({w} == {}))", s.we, lit(k as i64))),
            None => None,
        }
    }

    /// How the write port `k` of a callee's result `p` (its wires `we`, `wa`, `wd`) writes
    /// the caller's tensor `t`: the source, and whether it goes to a memory as one more
    /// write of the same cycle (a banked callee port can write several banks at once).
    #[allow(clippy::too_many_arguments)]
    pub fn callee_write(
        &mut self,
        t: TensorId,
        p: &crate::module::Param,
        k: usize,
        we: String,
        wa: String,
        wd: String,
        span: kiln_passes::Span,
    ) -> Option<(WriteSrc, bool)> {
        let mine = self.banking(t);
        let local = matches!(self.storage.get(&t), Some(Storage::Local { .. }));
        if let Some(Storage::Port { index }) = self.storage.get(&t) {
            if p.multi_bank {
                self.params[*index].multi_bank = true;
            }
        }
        let Some(pb) = &p.bank else {
            // One element a cycle at a flat address.
            return Some(match mine {
                None => (
                    WriteSrc {
                        we,
                        addr: wa,
                        data: wd,
                        bank: None,
                    },
                    false,
                ),
                Some(b) => {
                    let (sel, off) = self.bank_flat(&wa, &b);
                    (
                        WriteSrc {
                            we,
                            addr: off,
                            data: wd,
                            bank: Some(sel),
                        },
                        false,
                    )
                }
            });
        };
        if mine.as_ref() == Some(pb) {
            return Some((
                WriteSrc {
                    we,
                    addr: wa,
                    data: wd,
                    bank: Some(BankSel::Static(k)),
                },
                local,
            ));
        }
        if !local && p.multi_bank {
            let name = self.inst.tensor(t).name.clone();
            self.error(
                span,
                format!(
                    "the call writes several banks of `{name}` in one cycle into a result of `{}` that is not banked alike",
                    self.inst.kernel
                ),
                "give the caller's result the same partition as the callee's",
            );
            return None;
        }
        let flat = self.wire32("flat", &pb.join(k, &format!("{{1'b0, {wa}}}")));
        let len = self.inst.tensor(t).len();
        Some(match mine {
            None => (
                WriteSrc {
                    we,
                    addr: crate::fixed::slice(&flat, crate::module::addr_width(len) - 1, 0),
                    data: wd,
                    bank: None,
                },
                local,
            ),
            Some(b) => {
                let aw = crate::module::addr_width(len);
                let (sel, off) = self.bank_flat(&crate::fixed::slice(&flat, aw - 1, 0), &b);
                (
                    WriteSrc {
                        we,
                        addr: off,
                        data: wd,
                        bank: Some(sel),
                    },
                    local,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(dim: usize, kind: PartitionKind, factor: u32) -> Partition {
        Partition { dim, kind, factor }
    }

    /// Every element of a few bankings: its bank and offset (computed as the Verilog
    /// does, here in Rust) are unique and `join` gives the element back.
    #[test]
    fn banks_cover_every_element_once() {
        let cases = vec![
            (vec![6, 24, 24], vec![part(0, PartitionKind::Cyclic, 2)]),
            (
                vec![6, 12, 12],
                vec![
                    part(0, PartitionKind::Complete, 0),
                    part(1, PartitionKind::Cyclic, 5),
                    part(2, PartitionKind::Block, 5),
                ],
            ),
            (vec![7], vec![part(0, PartitionKind::Block, 3)]),
        ];
        for (shape, parts) in cases {
            let b = Banking::of(&shape, &parts).expect("banked");
            let n: usize = shape.iter().product();
            let mut seen = std::collections::HashSet::new();
            for flat in 0..n {
                let mut idx = vec![0usize; shape.len()];
                let mut r = flat;
                for d in (0..shape.len()).rev() {
                    idx[d] = r % shape[d];
                    r /= shape[d];
                }
                let (bs, os) = (b.bank_strides(), b.off_strides());
                let (mut bank, mut off) = (0i64, 0i64);
                for (d, dim) in b.dims.iter().enumerate() {
                    let i = idx[d] as i64;
                    let (bd, od) = match dim.kind {
                        None => (0, i),
                        Some(PartitionKind::Cyclic) => (i % dim.banks as i64, i / dim.banks as i64),
                        Some(PartitionKind::Block) => (i / dim.blk as i64, i % dim.blk as i64),
                        Some(PartitionKind::Complete) => (i, 0),
                    };
                    bank += bd * bs[d];
                    off += od * os[d];
                }
                assert!((bank as usize) < b.count() && (off as usize) < b.bank_len());
                assert!(seen.insert((bank, off)), "{shape:?} {flat}");
                // join, evaluated by substituting numbers into the same arithmetic
                let mut back = 0i64;
                let fs = b.flat_strides();
                for (d, dim) in b.dims.iter().enumerate() {
                    let bd = (bank / bs[d]) % dim.banks as i64;
                    let od = (off / os[d]) % dim.len as i64;
                    let i = match dim.kind {
                        None => od,
                        Some(PartitionKind::Cyclic) => od * dim.banks as i64 + bd,
                        Some(PartitionKind::Block) => bd * dim.blk as i64 + od,
                        Some(PartitionKind::Complete) => bd,
                    };
                    back += i * fs[d];
                }
                assert_eq!(back, flat as i64);
            }
        }
    }

    /// The bank of element `idx` (as the Verilog computes it).
    fn bank_of(b: &Banking, idx: &[i64]) -> usize {
        let bs = b.bank_strides();
        let mut bank = 0i64;
        for (d, dim) in b.dims.iter().enumerate() {
            let i = idx[d];
            bank += bs[d]
                * match dim.kind {
                    None => 0,
                    Some(PartitionKind::Cyclic) => i % dim.banks as i64,
                    Some(PartitionKind::Block) => i / dim.blk as i64,
                    Some(PartitionKind::Complete) => i,
                };
        }
        bank as usize
    }

    /// `reach` holds the bank of every element an access can touch over its counters'
    /// ranges (checked by enumerating them), and for conv_relu's window read of a buffer
    /// split completely along channels and columns and cyclic 3 along rows it is the
    /// 3 x 16 banks the window moves over, not all 432.
    #[test]
    fn reach_covers_every_bank_an_access_touches() {
        let (i, j) = (kiln_passes::ir::LoopVarId(0), kiln_passes::ir::LoopVarId(1));
        let ranges = vec![Some((0, 15)), Some((0, 15))];
        let window = Banking::of(
            &[8, 18, 18],
            &[
                part(0, PartitionKind::Complete, 0),
                part(1, PartitionKind::Cyclic, 3),
                part(2, PartitionKind::Complete, 0),
            ],
        )
        .unwrap();
        let blocked = Banking::of(
            &[6, 24, 24],
            &[
                part(1, PartitionKind::Block, 4),
                part(2, PartitionKind::Cyclic, 4),
            ],
        )
        .unwrap();
        let shifted = |v, c| Affine::var(v).add_scaled(&Affine::constant(1), c);
        let cases = vec![
            (
                &window,
                vec![Affine::constant(5), shifted(i, 2), shifted(j, 1)],
                Some(48),
            ),
            (
                &window,
                vec![
                    Affine::constant(0),
                    Affine::var(i).add_scaled(&Affine::var(i), 2),
                    shifted(j, 0),
                ],
                Some(16),
            ),
            (
                &blocked,
                vec![
                    Affine::constant(1),
                    shifted(i, 3),
                    Affine::var(j).add_scaled(&Affine::var(j), 1),
                ],
                None,
            ),
            (
                &blocked,
                vec![
                    Affine::var(i).add_scaled(&Affine::constant(1), -10),
                    shifted(i, 0),
                    shifted(j, 2),
                ],
                None,
            ),
        ];
        for (b, index, want) in cases {
            let reach = b.reach(&index, &[], &ranges);
            assert!(reach.windows(2).all(|w| w[0] < w[1]), "{reach:?}");
            for vi in 0..16 {
                for vj in 0..16 {
                    let at = |a: &Affine| {
                        a.constant
                            + a.terms
                                .iter()
                                .map(|&(v, c)| c * if v == i { vi } else { vj })
                                .sum::<i64>()
                    };
                    let idx: Vec<i64> = index.iter().map(at).collect();
                    if idx
                        .iter()
                        .zip(&b.dims)
                        .any(|(&x, d)| x < 0 || x >= d.n as i64)
                    {
                        continue;
                    }
                    let k = bank_of(b, &idx);
                    assert!(reach.contains(&k), "bank {k} of {idx:?} not in {reach:?}");
                }
            }
            if let Some(n) = want {
                assert_eq!(reach.len(), n, "{reach:?}");
            }
        }
        // A data-dependent dimension or a counter of unknown range reaches every bank.
        let index = [Affine::constant(5), shifted(i, 2), shifted(j, 1)];
        assert_eq!(
            window.reach(&index, &[false, false, true], &ranges).len(),
            3 * 18
        );
        assert_eq!(window.reach(&index, &[], &[None, None]).len(), 3 * 18);
    }

    #[test]
    fn static_banks_of_blocked_channels() {
        let b = Banking::of(&[6, 24, 24], &[part(0, PartitionKind::Cyclic, 2)]).unwrap();
        let v = kiln_passes::ir::LoopVarId(0);
        let w = kiln_passes::ir::LoopVarId(1);
        let ch = Affine::var(v).add_scaled(&Affine::constant(1), 0);
        let two = Affine::constant(1).add_scaled(&Affine::var(v), 2);
        let row = Affine::var(w);
        assert_eq!(
            b.static_bank(&[two.clone(), row.clone(), row.clone()], &[]),
            Some(1)
        );
        assert_eq!(b.static_bank(&[ch, row.clone(), row.clone()], &[]), None);
        assert_eq!(
            b.static_bank(
                &[two.clone(), row.clone(), row.clone()],
                &[true, false, false]
            ),
            None
        );
        // Element (2v + 1, w, w) is at offset v * 576 + w * 24 + w of bank 1: affine.
        let off = b.static_offset(&[two, row.clone(), row]).unwrap();
        for (vv, ww) in [(0i64, 0i64), (1, 3), (2, 23)] {
            let got = off.constant
                + off
                    .terms
                    .iter()
                    .map(|&(x, c)| c * if x == v { vv } else { ww })
                    .sum::<i64>();
            assert_eq!(got, vv * 576 + ww * 25, "{off:?}");
        }
    }
}
