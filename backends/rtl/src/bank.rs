//! Banked memories in Verilog: a tensor with `partition` directives as one memory per bank
//! (module.rs declares them as `NAME_bK`), its banking ([`Banking`], the bank and offset of
//! every element, the banks an access reaches) from passes/src/ir/banking.rs.
//!
//! The pipelined iterations (pipeline.rs) use [`Banking::static_bank`] to give each store
//! of a parameter its own bank's write port; where it cannot be proved, the generator
//! keeps one access per cycle. The Verilog expressions below compute a bank and an offset
//! from per-dimension indices or from a flat (row-major) element index, and back, each
//! division by a constant as narrow as its index and the bank and offset wires as narrow
//! as their values. An access whose bank is computed reads or writes only the banks
//! [`Banking::reach`] finds it can reach over its loop counters' ranges (a sliding
//! window's read: 48 of conv_relu's 432), its read a `case` over those banks' reads.

use crate::fixed::Wires;
use crate::module::{BankSel, ModGen, Storage, WriteSrc};
use kiln_numeric::ScalarType;
pub use kiln_passes::ir::banking::Banking;
use kiln_passes::ir::{Access, Affine, PartitionKind, TensorId};
use std::fmt::Write;

/// The reads of banked local memories in one chained iteration, by tensor, and the
/// value wire of each element read so far (its index as the key).
#[derive(Default)]
pub struct WindowReads {
    groups: std::collections::BTreeMap<u32, WindowGroup>,
    seen: std::collections::HashMap<String, String>,
}

/// The reads of one banked memory in a chained iteration.
struct WindowGroup {
    /// The prefix of the per-bank value wires, `{prefix}_r{read}_b{bank}`.
    prefix: String,
    tensor: TensorId,
    mem: String,
    banking: Banking,
    reads: Vec<WindowRead>,
}

struct WindowRead {
    index: Vec<Affine>,
    sel: BankSel,
    off: String,
    /// Its address comes from registers only (bram.rs).
    early: bool,
}

fn lit(v: i64) -> String {
    crate::module::lit32(v)
}

/// The Verilog side of a [`Banking`]: widths, and the expressions that compute a bank and
/// an offset from an index and back.
pub trait BankingVerilog {
    fn bank_width(&self) -> u32;
    fn off_width(&self) -> u32;
    fn split(&self, idx: &[String], fixed: &[Option<usize>]) -> (String, String);
    fn index_width(&self, d: usize) -> u32;
    fn unflatten(&self, flat: &str, w: u32) -> Vec<String>;
    fn join(&self, bank: usize, off: &str) -> String;
}

impl BankingVerilog for Banking {
    /// Bits of a bank number.
    fn bank_width(&self) -> u32 {
        crate::module::addr_width(self.count())
    }

    /// Address bits of one bank.
    fn off_width(&self) -> u32 {
        crate::module::addr_width(self.bank_len())
    }

    /// Verilog expressions (32-bit signed) of the bank and the offset of an element whose
    /// index in each dimension is the 32-bit expression `idx[d]`.
    ///
    /// `idx[d]` is an unsigned wire of [`Banking::index_width`] bits (an index in bounds),
    /// so the divisions by constants are as narrow as the dimension.
    ///
    /// The bank expression leaves out the dimensions whose bank `fixed` gives (`Some`: the
    /// same for every value of the counters); the caller adds them as a constant.
    fn split(&self, idx: &[String], fixed: &[Option<usize>]) -> (String, String) {
        let (bs, os) = (self.bank_strides(), self.off_strides());
        let mut bank = vec![lit(0)];
        let mut off = vec![lit(0)];
        for (d, dim) in self.dims.iter().enumerate() {
            let i = &idx[d];
            let w = self.index_width(d);
            let (b, o) = match dim.kind {
                None => (None, i.clone()),
                // Braces make each division self-determined (as wide as the index):
                // inside the 32-bit sum, Verilog would divide at 32 bits.
                Some(PartitionKind::Cyclic) => (
                    Some(format!("{{({i} % {w}'d{})}}", dim.banks)),
                    format!("{{({i} / {w}'d{})}}", dim.banks),
                ),
                Some(PartitionKind::Block) => (
                    Some(format!("{{({i} / {w}'d{})}}", dim.blk)),
                    format!("{{({i} % {w}'d{})}}", dim.blk),
                ),
                Some(PartitionKind::Complete) => (Some(i.clone()), lit(0)),
            };
            if let (Some(b), None) = (b, fixed.get(d).copied().flatten()) {
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
    fn index_width(&self, d: usize) -> u32 {
        crate::module::addr_width(self.dims[d].n.max(1)) + 1
    }

    /// The per-dimension index expressions of a flat (row-major) element index, an
    /// unsigned wire of `w` bits.
    fn unflatten(&self, flat: &str, w: u32) -> Vec<String> {
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
    fn join(&self, bank: usize, off: &str) -> String {
        let (bs, os, fs) = (self.bank_strides(), self.off_strides(), self.flat_strides());
        let w = self.off_width() + 1;
        let mut flat = vec![lit(0)];
        for (d, dim) in self.dims.iter().enumerate() {
            let b = (bank as i64 / bs[d]) % dim.banks as i64;
            // Self-determined (braces): as wide as `off`, not the 32-bit sum's width.
            let o = format!("{{(({off} / {w}'d{}) % {w}'d{})}}", os[d], dim.len);
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

    /// An unsigned wire of `bits` holding `expr`, a value in `0..2^bits` (a bank number or
    /// an offset in a bank): the adders and the bank multiplexer's compares are that
    /// narrow, not 32 bits.
    fn narrow_wire(&mut self, prefix: &str, bits: u32, expr: &str) -> String {
        let n = self.fresh(prefix);
        let _ = writeln!(self.decls, "    wire [{}:0] {n} = {expr};", bits - 1);
        n
    }

    /// The bank and the in-bank offset (`off_width` bits) of access `a` into a tensor
    /// banked as `b`.
    pub fn bank_access(&mut self, a: &Access, b: &Banking) -> Option<(BankSel, String)> {
        let (index, dynamic) = self.substituted(a);
        let fixed = b.static_bank(&index, &dynamic);
        // A ring's row index is taken modulo its rows (ring.rs): no static offset.
        let ring = self.rings.get(&a.tensor).copied();
        let static_off = if ring.is_some() {
            None
        } else {
            b.static_offset(&index)
        };
        if let (Some(k), Some(off)) = (fixed, static_off) {
            let off = self.affine(&off);
            let off = self.narrow_wire("off", b.off_width(), &off);
            return Some((BankSel::Static(k), off));
        }
        let mut idx = Vec::new();
        for (d, ix) in a.index.iter().enumerate() {
            let mut e = match ring {
                Some(r) if r.dim == d => self.ring_slot(ix, r),
                _ => self.affine(ix),
            };
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
        // The dimensions whose bank does not move make a constant `base`; the bank wire
        // holds the rest, which the reads of a window at one position share across the
        // channels (`x_buf[c, i + u, j + v]` for every `c`): one wire and one decode.
        let fixed_dims: Vec<Option<usize>> = (0..b.dims.len())
            .map(|d| {
                let dy = dynamic.get(d).copied().unwrap_or(false);
                index.get(d).and_then(|ix| b.dim_static_bank(d, ix, dy))
            })
            .collect();
        let base: usize = fixed_dims
            .iter()
            .zip(b.bank_strides())
            .map(|(f, s)| f.unwrap_or(0) * s as usize)
            .sum();
        let (bank, off) = b.split(&idx, &fixed_dims);
        let off = self.narrow_wire("off", b.off_width(), &off);
        let ranges: Vec<Option<(i64, i64)>> = self.counters.iter().map(|c| c.range).collect();
        let reach = b.reach(&index, &dynamic, &ranges);
        let sel = match fixed {
            Some(k) => BankSel::Static(k),
            None if reach.len() == 1 => BankSel::Static(reach[0]),
            None => {
                // Reads whose moving dimensions have the same index (no data-dependent
                // part) share the wire.
                let key = (!dynamic.iter().any(|&d| d)).then(|| {
                    let moving: Vec<_> = (0..b.dims.len())
                        .filter(|&d| fixed_dims[d].is_none())
                        .map(|d| (d, &index[d]))
                        .collect();
                    format!("{:?} {moving:?}", b.dims)
                });
                let wire = match key.as_ref().and_then(|k| self.bank_sels.get(k)) {
                    Some(w) => w.clone(),
                    None => {
                        let w = self.narrow_wire("bank", b.bank_width(), &bank);
                        if let Some(k) = key {
                            self.bank_sels.insert(k, w.clone());
                        }
                        w
                    }
                };
                BankSel::Dynamic(wire, base, reach)
            }
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
        let (bank, off) = b.split(&idx, &[]);
        let off = self.narrow_wire("off", b.off_width(), &off);
        let all = (0..b.count()).collect();
        (
            BankSel::Dynamic(self.narrow_wire("bank", b.bank_width(), &bank), 0, all),
            off,
        )
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
    ///
    /// Each bank's read is a read site of that bank's memory ([`ModGen::mem_read`]):
    /// `early` when the address and the bank come from registers only.
    pub fn bank_read(
        &mut self,
        t: TensorId,
        (mem, dw): (&str, u32),
        sel: &BankSel,
        off: &str,
        early: bool,
    ) -> String {
        match sel {
            BankSel::Static(k) => {
                self.mem_read(t, &format!("{mem}_b{k}"), off, early, false, Some(*k))
            }
            BankSel::Dynamic(w, base, reach) => {
                let arms: Vec<(usize, String)> = reach
                    .iter()
                    .map(|&k| {
                        let v =
                            self.mem_read(t, &format!("{mem}_b{k}"), off, early, false, Some(k));
                        (k, v)
                    })
                    .collect();
                self.select_bank(dw, w, *base, &arms)
            }
        }
    }

    /// The arm of `arms` (bank, value) whose bank is `base` plus the bank wire `w`: a wire
    /// per arm and a `case` over them (the last arm the default).
    fn select_bank(&mut self, dw: u32, w: &str, base: usize, arms: &[(usize, String)]) -> String {
        let Some(((_, last), rest)) = arms.split_last() else {
            return "0".into();
        };
        if rest.is_empty() {
            return last.clone();
        }
        let v = self.fresh("bsel");
        let mut cases = String::new();
        for (k, value) in rest {
            let r = self.wire(dw, value);
            let _ = writeln!(cases, "            {}: {v} = {r};", lit((k - base) as i64));
        }
        let r = self.wire(dw, last);
        let _ = writeln!(self.decls, "    reg [{}:0] {v};", dw - 1);
        let _ = write!(
            self.assigns,
            "    always @* begin\n        case ({w})\n{cases}            default: {v} = {r};\n        endcase\n    end\n"
        );
        v
    }

    /// A read of banked local memory `mem` at `a` (no data-dependent index) in a chained
    /// iteration: a read of the same element earlier in the iteration gives its value
    /// again, and each reachable bank's value is a wire that [`ModGen::finish_windows`]
    /// defines once the iteration's every read is known.
    pub fn window_read(&mut self, a: &Access, mem: &str, b: &Banking, dw: u32) -> Option<String> {
        let (index, _) = self.substituted(a);
        let key = format!("{} {index:?}", a.tensor.0);
        if let Some(w) = self.windows.as_ref().and_then(|g| g.seen.get(&key)) {
            return Some(w.clone());
        }
        let (sel, off) = self.bank_access(a, b)?;
        let prefix = match self
            .windows
            .as_ref()
            .and_then(|g| g.groups.get(&a.tensor.0))
        {
            Some(g) => g.prefix.clone(),
            None => self.fresh(&format!("{mem}_win")),
        };
        let windows = self.windows.get_or_insert_with(WindowReads::default);
        let group = windows
            .groups
            .entry(a.tensor.0)
            .or_insert_with(|| WindowGroup {
                prefix: prefix.clone(),
                tensor: a.tensor,
                mem: mem.to_string(),
                banking: b.clone(),
                reads: Vec::new(),
            });
        let r = group.reads.len();
        let reach = match &sel {
            BankSel::Static(k) => vec![*k],
            BankSel::Dynamic(_, _, reach) => reach.clone(),
        };
        let arms: Vec<(usize, String)> = reach
            .iter()
            .map(|&k| (k, format!("{prefix}_r{r}_b{k}")))
            .collect();
        group.reads.push(WindowRead {
            index,
            sel: sel.clone(),
            off,
            early: a.is_affine(),
        });
        for (_, name) in &arms {
            let _ = writeln!(self.decls, "    wire [{}:0] {name};", dw - 1);
        }
        let data = match &sel {
            BankSel::Static(_) => arms[0].1.clone(),
            BankSel::Dynamic(w, base, _) => self.select_bank(dw, w, *base, &arms),
        };
        let data = self.wire(dw, &data);
        if let Some(g) = self.windows.as_mut() {
            g.seen.insert(key, data.clone());
        }
        Some(data)
    }

    /// Defines the bank values of the chained iteration's window reads
    /// ([`ModGen::window_read`]). Where no two reads of a memory can meet in a bank at
    /// different elements ([`Banking::may_meet`]: a sliding window over a buffer split
    /// cyclic by the window), each bank has one read port, its address the offset of the
    /// read that goes there; otherwise every read reads every bank it reaches.
    pub fn finish_windows(&mut self) {
        let Some(windows) = self.windows.take() else {
            return;
        };
        for group in windows.groups.into_values() {
            let reads = &group.reads;
            let shared = (0..reads.len()).all(|p| {
                (p + 1..reads.len())
                    .all(|q| !group.banking.may_meet(&reads[p].index, &reads[q].index))
            });
            let mut by_bank: std::collections::BTreeMap<usize, Vec<usize>> =
                std::collections::BTreeMap::new();
            for (r, read) in reads.iter().enumerate() {
                let reach = match &read.sel {
                    BankSel::Static(k) => vec![*k],
                    BankSel::Dynamic(_, _, reach) => reach.clone(),
                };
                for k in reach {
                    by_bank.entry(k).or_default().push(r);
                }
            }
            let (mem, prefix) = (&group.mem, &group.prefix);
            for (k, readers) in by_bank {
                let bank_mem = format!("{mem}_b{k}");
                if !shared {
                    for &r in &readers {
                        let v = self.mem_read(
                            group.tensor,
                            &bank_mem,
                            &reads[r].off,
                            reads[r].early,
                            false,
                            Some(k),
                        );
                        let _ = writeln!(self.assigns, "    assign {prefix}_r{r}_b{k} = {v};");
                    }
                    continue;
                }
                // The address of bank k: the offset of the read whose bank is k now
                // (at most one, or several at the same element).
                let fixed = readers
                    .iter()
                    .find(|&&r| matches!(reads[r].sel, BankSel::Static(_)));
                let mut addr = reads[*fixed.unwrap_or(readers.last().unwrap_or(&0))]
                    .off
                    .clone();
                if fixed.is_none() {
                    for &r in readers.iter().rev().skip(1) {
                        if let BankSel::Dynamic(w, base, _) = &reads[r].sel {
                            addr = format!(
                                "({w} == {}) ? {} : {addr}",
                                lit((k - base) as i64),
                                reads[r].off
                            );
                        }
                    }
                }
                let a = self.fresh(&format!("{prefix}_a"));
                let _ = writeln!(
                    self.decls,
                    "    wire [{}:0] {a} = {addr};",
                    group.banking.off_width() - 1
                );
                let early = readers.iter().all(|&r| reads[r].early);
                let value = self.mem_read(group.tensor, &bank_mem, &a, early, false, Some(k));
                for &r in &readers {
                    let _ = writeln!(self.assigns, "    assign {prefix}_r{r}_b{k} = {value};");
                }
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
            Some(BankSel::Dynamic(w, base, reach)) => reach
                .binary_search(&k)
                .is_ok()
                .then(|| format!("({} & ({w} == {}))", s.we, lit((k - base) as i64))),
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
