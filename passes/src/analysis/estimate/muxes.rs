//! The LUTs of what a pipelined iteration selects: the multiplexer of a read whose bank
//! moves with the loop counters (a sliding window's `x_buf[c, i + u, j + v]` over a
//! partitioned buffer) among the banks it can reach, the write port of a bank that
//! several stores of the iteration share (a padded buffer's row `xp[c, i, j]` filled
//! element by element, one store a cycle: each bank's address and data select among its
//! writers), and the phases of an off-chip port accessed several times an iteration (the
//! estimate's "LUTs" rule).

use super::{subst, unrolled_trips, words, Est};
use crate::ir::banking::Banking;
use crate::ir::{Block, Stmt, TensorKind};
use kiln_numeric::ScalarType;

/// LUTs that sequence `accesses` (more than one) to one port of `words` elements in one
/// pipelined iteration: per access, a quarter LUT per address bit (the address
/// multiplexer by phase) and one LUT (its phase decode).
pub fn port_sequencing_luts(accesses: u64, words: u64) -> u64 {
    if accesses <= 1 {
        return 0;
    }
    let addr_bits = 64 - words.saturating_sub(1).max(1).leading_zeros() as u64;
    accesses.saturating_mul(addr_bits.div_ceil(4) + 1)
}

/// The read multiplexers (and shared write ports) of one pipelined iteration: their data
/// inputs (bits) and the inputs of their bank decodes, one decode per distinct moving
/// index.
#[derive(Default)]
struct PortMuxes {
    /// Sum over reads of `reachable banks x bits`.
    data: u64,
    /// Sum over distinct decodes of their reachable banks.
    decode_inputs: u64,
    /// The decodes counted: (tensor, its moving dimensions' indices).
    decoded: std::collections::HashSet<(u32, Vec<(usize, crate::ir::Affine)>)>,
    /// The banking of each tensor read (`None`: one bank).
    bankings: std::collections::HashMap<u32, Option<Banking>>,
    /// The arrays whose stores may share their banks' write ports.
    shared_writes: Vec<crate::ir::TensorId>,
    /// The stores that reach each bank of those arrays: (tensor, bank) -> stores.
    writers: std::collections::HashMap<(u32, usize), u64>,
    /// The bits of one input of those arrays' write ports (offset and element).
    write_bits: std::collections::HashMap<u32, u64>,
}

impl PortMuxes {
    /// Two fifths of a LUT per data input bit (yosys maps a `case` over the banks to an
    /// AND-OR of each input with its select: about five such pairs per two LUT6) and
    /// three and a half LUTs per decoded bank (the compare of the bank number with it and
    /// its share of the select logic). Fitted with yosys 0.23 on the four chained
    /// benchmark convolutions (docs/rtl-synthesis.md, "Pipelined designs against the
    /// estimate"), where these terms are 45% to 80% of the LUTs.
    /// A bank's write port shared by n > 1 stores is an n-input multiplexer of address
    /// and data, priced alike (its enables' bank compares come with the stores' own
    /// decode, not counted).
    fn luts(&self, registers: &[crate::ir::TensorId]) -> u64 {
        let shared: u64 = self
            .writers
            .iter()
            .filter(|(&(t, _), &n)| n > 1 && !registers.contains(&crate::ir::TensorId(t)))
            .map(|(&(t, _), &n)| n.saturating_mul(self.write_bits.get(&t).copied().unwrap_or(0)))
            .fold(0, u64::saturating_add);
        let data = self
            .data
            .saturating_add(shared)
            .saturating_mul(2)
            .div_ceil(5);
        let decode = self.decode_inputs.saturating_mul(7).div_ceil(2);
        data.saturating_add(decode)
    }
}

/// The bits of an element of `elem` in a multiplexer (a `bin` is one bit).
fn elem_bits(elem: &ScalarType) -> u64 {
    match elem {
        ScalarType::Bin => 1,
        t => t.storage_bits() as u64,
    }
}

/// The bits of an address among `n` elements (at least 1).
fn index_bits(n: u64) -> u64 {
    (64 - n.saturating_sub(1).leading_zeros() as u64).max(1)
}

/// An unrolled loop around the reads being counted: its variable, first value, step and
/// trips.
struct InnerLoop {
    var: crate::ir::LoopVarId,
    lo: crate::ir::Affine,
    step: i64,
    trips: i64,
}

impl Est<'_> {
    /// LUTs that sequence the accesses one pass of `b` (inner loops unrolled, `copies`
    /// times) makes to each off-chip port: k accesses to one port take k cycles, each
    /// with its own address, so the port's address is a k-input multiplexer by phase
    /// (a quarter LUT per address bit and input) and each access a phase decode (one
    /// LUT): [`port_sequencing_luts`].
    pub(super) fn port_sequencing_luts(
        &self,
        b: &Block,
        ranges: &mut Vec<(u32, i64, i64)>,
        copies: u64,
    ) -> u64 {
        let mut counts = std::collections::HashMap::new();
        self.count_ports(b, copies, ranges, &mut counts);
        counts
            .iter()
            .map(|(&t, &n)| port_sequencing_luts(n, words(self.inst.tensor(t))))
            .fold(0u64, u64::saturating_add)
    }

    /// LUTs of the read multiplexers of one pass of `b` (inner loops unrolled): a read of
    /// a partitioned on-chip array whose bank moves with the loop counters (a sliding
    /// window's `x_buf[c, i + u, j + v]`) selects among the banks it can reach
    /// ([`Banking::reach`]) with a `reach`-input multiplexer, [`PortMuxes::luts`]. A
    /// read whose bank is fixed (every unrolled copy of `w[k, c, u, v]` with `c, u, v`
    /// complete) needs none; neither do the off-chip ports and a row stage's line buffers
    /// (streams, priced with the stage's I/O). The stores into `shared` (arrays one of
    /// whose banks may take several stores of the iteration) count alike when the
    /// iteration's `ii` cycles give each of them a cycle (a LUT RAM bank takes one store a
    /// cycle): each bank's write port selects its address and data among the stores that
    /// reach it ([`Banking::reach`]). Also returns the arrays of `shared` with a bank
    /// that more stores reach than the iteration has cycles: those are registers
    /// (`arrays_where`). 0, and none, when the unrolled pass is too large to walk (not
    /// modelled).
    pub(super) fn port_mux_luts(
        &self,
        b: &Block,
        shared: &[crate::ir::TensorId],
        ii: u64,
    ) -> (u64, Vec<crate::ir::TensorId>) {
        let mut muxes = PortMuxes {
            shared_writes: shared.to_vec(),
            ..PortMuxes::default()
        };
        // Only the reads whose bank can move are enumerated (`read_of_moving_bank`), and
        // of those only the unrolled copies their banks depend on (`each_copy`).
        let mut budget: u64 = 1 << 16;
        if !self.count_port_muxes(b, &mut Vec::new(), &mut muxes, &mut budget) {
            return (0, Vec::new());
        }
        let mut registers: Vec<crate::ir::TensorId> = muxes
            .writers
            .iter()
            .filter(|&(_, &n)| n > ii)
            .map(|(&(t, _), _)| crate::ir::TensorId(t))
            .collect();
        registers.sort();
        registers.dedup();
        (muxes.luts(&registers), registers)
    }

    /// Adds the read multiplexers of `b` (inside the unrolled loops `inner`) to `muxes`;
    /// `false` when `budget` read copies were walked or an unrolled loop has no constant
    /// trips.
    fn count_port_muxes(
        &self,
        b: &Block,
        inner: &mut Vec<InnerLoop>,
        muxes: &mut PortMuxes,
        budget: &mut u64,
    ) -> bool {
        for s in b {
            match s {
                Stmt::For(l) => {
                    let Some(trips) = unrolled_trips(l, &[]) else {
                        return false;
                    };
                    inner.push(InnerLoop {
                        var: l.var,
                        lo: l.lo.clone(),
                        step: l.step,
                        trips,
                    });
                    let ok = self.count_port_muxes(&l.body, inner, muxes, budget);
                    inner.pop();
                    if !ok {
                        return false;
                    }
                    continue;
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } if !self.count_port_muxes(then_block, inner, muxes, budget)
                    || !self.count_port_muxes(else_block, inner, muxes, budget) =>
                {
                    return false;
                }
                _ => {}
            }
            let mut loads = Vec::new();
            for r in crate::ir::stmt_roots(s) {
                self.inst.loads_in(r, &mut loads);
            }
            let mut accesses: Vec<(&crate::ir::Access, bool)> =
                loads.iter().map(|a| (a, false)).collect();
            if let Stmt::Store { access, .. } = s {
                if muxes.shared_writes.contains(&access.tensor) {
                    accesses.push((access, true));
                }
            }
            for (a, store) in accesses {
                // Every store into a shared write port is one of its inputs.
                if (store || self.read_of_moving_bank(a, inner))
                    && !self.each_copy(a, store, inner, muxes, budget)
                {
                    return false;
                }
            }
        }
        true
    }

    /// Whether `a` reads a partitioned on-chip array at an index that may move its bank:
    /// a counter not of the unrolled loops `inner` (this pipeline's or an outer loop's),
    /// or of one whose first value moves with them, or a data-dependent part, in a
    /// partitioned dimension.
    fn read_of_moving_bank(&self, a: &crate::ir::Access, inner: &[InnerLoop]) -> bool {
        let tm = self.inst.tensor(a.tensor);
        let on_chip = match tm.kind {
            TensorKind::Const(_) => true,
            TensorKind::Temp => !self.inst.outputs.contains(&a.tensor),
            _ => false,
        };
        if !on_chip || tm.partition.is_empty() {
            return false;
        }
        // An unrolled loop's variable takes fixed values only if its first value does
        // not move with this pipeline's counters (`for c_i in 2*c_o..2*c_o + 2` moves).
        let mut fixed: Vec<crate::ir::LoopVarId> = Vec::new();
        for l in inner {
            if l.lo.terms.iter().all(|(v, _)| fixed.contains(v)) {
                fixed.push(l.var);
            }
        }
        tm.partition.iter().any(|p| {
            a.dynamic_at(p.dim).is_some()
                || a.index
                    .get(p.dim)
                    .is_some_and(|ix| ix.terms.iter().any(|(v, _)| !fixed.contains(v)))
        })
    }

    /// Adds read `a`'s multiplexer (its inputs of the write ports it reaches, for a
    /// `store`) for every unrolled copy of it: the copies of the
    /// loops its partitioned dimensions' indices use are enumerated (with the loops
    /// their bounds use), the others only multiply its data inputs (their copies read
    /// the same banks with the same decode). `false` when `budget` copies were walked.
    fn each_copy(
        &self,
        a: &crate::ir::Access,
        store: bool,
        inner: &[InnerLoop],
        muxes: &mut PortMuxes,
        budget: &mut u64,
    ) -> bool {
        let tm = self.inst.tensor(a.tensor);
        let mut used: Vec<crate::ir::LoopVarId> = Vec::new();
        for p in &tm.partition {
            if let Some(ix) = a.index.get(p.dim) {
                used.extend(ix.terms.iter().map(|&(v, _)| v));
            }
        }
        // The loops whose bounds use a used variable's loop are used too.
        for l in inner.iter().rev() {
            if used.contains(&l.var) {
                used.extend(l.lo.terms.iter().map(|&(v, _)| v));
            }
        }
        let relevant: Vec<&InnerLoop> = inner.iter().filter(|l| used.contains(&l.var)).collect();
        let copies: u64 = inner
            .iter()
            .filter(|l| !used.contains(&l.var))
            .map(|l| l.trips.max(0) as u64)
            .fold(1, u64::saturating_mul);
        if copies == 0 {
            return true;
        }
        let mut env: Vec<(crate::ir::LoopVarId, crate::ir::Affine)> = Vec::new();
        self.enumerate(a, store, &relevant, &mut env, copies, muxes, budget)
    }

    #[allow(clippy::too_many_arguments)]
    fn enumerate(
        &self,
        a: &crate::ir::Access,
        store: bool,
        loops: &[&InnerLoop],
        env: &mut Vec<(crate::ir::LoopVarId, crate::ir::Affine)>,
        copies: u64,
        muxes: &mut PortMuxes,
        budget: &mut u64,
    ) -> bool {
        let Some((l, rest)) = loops.split_first() else {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            self.read_mux(a, store, env, copies, muxes);
            return true;
        };
        let lo = subst(&l.lo, env);
        for k in 0..l.trips {
            env.push((
                l.var,
                lo.add_scaled(&crate::ir::Affine::constant(1), k * l.step),
            ));
            let ok = self.enumerate(a, store, rest, env, copies, muxes, budget);
            env.pop();
            if !ok {
                return false;
            }
        }
        true
    }

    /// Adds the multiplexer read `a` (with `env` substituted) needs to `muxes`: none when
    /// its bank is fixed, or it reads a port or a single-bank array. A `store` adds one
    /// input (its offset and data) to the write port of each bank it reaches, a fixed
    /// bank's included.
    fn read_mux(
        &self,
        a: &crate::ir::Access,
        store: bool,
        env: &[(crate::ir::LoopVarId, crate::ir::Affine)],
        copies: u64,
        muxes: &mut PortMuxes,
    ) {
        let tm = self.inst.tensor(a.tensor);
        let banking = muxes
            .bankings
            .entry(a.tensor.0)
            .or_insert_with(|| Banking::of(&tm.shape, &tm.partition));
        let index: Vec<crate::ir::Affine> = a.index.iter().map(|ix| subst(ix, env)).collect();
        let dynamic: Vec<bool> = (0..a.index.len())
            .map(|d| a.dynamic_at(d).is_some())
            .collect();
        if store {
            // One input (address and data) of the write port of each bank it reaches.
            let (banks, bank_len) = match banking.as_ref() {
                None => (vec![0], tm.len()),
                Some(b) => match b.static_bank(&index, &dynamic) {
                    Some(k) => (vec![k], b.bank_len()),
                    None => (b.reach(&index, &dynamic, &self.var_ranges), b.bank_len()),
                },
            };
            for k in banks {
                let n = muxes.writers.entry((a.tensor.0, k)).or_insert(0);
                *n = n.saturating_add(copies);
            }
            muxes.write_bits.insert(
                a.tensor.0,
                elem_bits(&tm.elem) + index_bits(bank_len as u64),
            );
            return;
        }
        let Some(banking) = banking.as_ref() else {
            return;
        };
        if banking.static_bank(&index, &dynamic).is_some() {
            return;
        }
        let inputs = banking.reach_count(&index, &dynamic, &self.var_ranges) as u64;
        if inputs <= 1 {
            return;
        }
        let bits = elem_bits(&tm.elem);
        muxes.data = muxes
            .data
            .saturating_add(inputs.saturating_mul(bits).saturating_mul(copies));
        // The decode of the bank: shared by the reads whose moving dimensions have the
        // same index (a window position's reads of every channel); a data-dependent
        // index has its own.
        let moving: Vec<(usize, crate::ir::Affine)> = (0..index.len())
            .filter(|&d| banking.dim_static_bank(d, &index[d], dynamic[d]).is_none())
            .map(|d| (d, index[d].clone()))
            .collect();
        if dynamic.iter().any(|&d| d) || muxes.decoded.insert((a.tensor.0, moving)) {
            muxes.decode_inputs = muxes.decode_inputs.saturating_add(inputs);
        }
    }
}
