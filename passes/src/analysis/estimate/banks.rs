//! Stores into the banks of on-chip arrays (the estimate's "Ports" rule for them): a
//! pipelined iteration's unrolled stores counted per proved bank, two a cycle per bank.

use super::{subst, unrolled_trips, Est};
use crate::ir::banking::Banking;
use crate::ir::{Block, Stmt, TensorKind};

/// Stores a pipelined iteration may make into one bank of an on-chip array per cycle: a
/// block RAM (or LUT RAM) bank has two ports (the rule the `banks` pass and the
/// allocator's partitions use).
const BANK_PORTS: u64 = 2;

/// Unrolled stores into the banks of the on-chip arrays: per (array, proved bank) and per
/// array for stores whose bank is not proved (those may go to any bank: they count on
/// every bank).
#[derive(Default)]
struct BankCounts {
    known: std::collections::HashMap<(crate::ir::TensorId, usize), u64>,
    any: std::collections::HashMap<crate::ir::TensorId, u64>,
}

impl BankCounts {
    /// `self` (the stores of one branch of an `if`) against `other` (the other branch's):
    /// the stores of the busier branch, per bank.
    fn join_exclusive(&mut self, other: BankCounts) {
        for (k, n) in other.known {
            let e = self.known.entry(k).or_insert(0);
            *e = (*e).max(n);
        }
        for (k, n) in other.any {
            let e = self.any.entry(k).or_insert(0);
            *e = (*e).max(n);
        }
    }

    fn add(&mut self, other: BankCounts) {
        for (k, n) in other.known {
            *self.known.entry(k).or_insert(0) += n;
        }
        for (k, n) in other.any {
            *self.any.entry(k).or_insert(0) += n;
        }
    }
}

/// What the stores of one pipelined iteration need of the banks they go to.
#[derive(Default)]
pub(super) struct StoreBanks {
    /// Cycles: [`BANK_PORTS`] stores a cycle per bank.
    pub cycles: u64,
    /// The most stores one bank of each array may take in an iteration, for the arrays
    /// where that is more than one (by proved banks: a store whose bank is not proved
    /// counts on every bank). `port_mux_luts` counts their stores bank by bank (by the
    /// banks each can reach) for the write ports, or registers, they need.
    pub per_bank: Vec<(crate::ir::TensorId, u64)>,
}

/// The bank of an access of `tm` at `index` (loop variables of the unrolled inner loops
/// substituted), when its partitions prove it ([`Banking::static_bank`]); `None` for an
/// array that is one bank per element (registers: no ports).
fn proved_bank(
    tm: &crate::ir::Tensor,
    index: &[crate::ir::Affine],
    dynamic: &[bool],
) -> Option<Option<usize>> {
    match Banking::of(&tm.shape, &tm.partition) {
        None => (tm.len() > 1).then_some(Some(0)),
        Some(b) if b.count() >= tm.len() => None,
        Some(b) => Some(b.static_bank(index, dynamic)),
    }
}

impl Est<'_> {
    /// The stores one pass of `b` (inner loops unrolled) makes into the banks of on-chip
    /// arrays: the cycles they need, [`BANK_PORTS`] a cycle per bank, and the most one
    /// bank of each array takes (nothing, and 0 cycles, when the unrolled pass is too
    /// large to walk: not modelled).
    pub(super) fn store_banks(&self, b: &Block) -> StoreBanks {
        let mut counts = BankCounts::default();
        let mut budget: u64 = 1 << 16;
        if !self.count_banks(b, &mut Vec::new(), &mut counts, &mut budget) {
            return StoreBanks::default();
        }
        let mut most: std::collections::HashMap<crate::ir::TensorId, u64> = counts.any.clone();
        for (&(t, _), &n) in &counts.known {
            let n = n.saturating_add(counts.any.get(&t).copied().unwrap_or(0));
            let e = most.entry(t).or_insert(0);
            *e = (*e).max(n);
        }
        let worst = most.values().copied().max().unwrap_or(0);
        let mut per_bank: Vec<(crate::ir::TensorId, u64)> =
            most.into_iter().filter(|&(_, n)| n > 1).collect();
        per_bank.sort();
        StoreBanks {
            cycles: worst.div_ceil(BANK_PORTS),
            per_bank,
        }
    }

    /// Counts the stores of `b` into on-chip arrays into `counts`, with the unrolled loop
    /// variables in `env`; `false` when `budget` statements were walked or an inner loop
    /// has no constant trip count.
    fn count_banks(
        &self,
        b: &Block,
        env: &mut Vec<(crate::ir::LoopVarId, crate::ir::Affine)>,
        counts: &mut BankCounts,
        budget: &mut u64,
    ) -> bool {
        for s in b {
            if *budget == 0 {
                return false;
            }
            *budget -= 1;
            match s {
                Stmt::For(l) => {
                    let Some(n) = unrolled_trips(l, env) else {
                        return false;
                    };
                    let lo = subst(&l.lo, env);
                    for k in 0..n {
                        env.push((
                            l.var,
                            lo.add_scaled(&crate::ir::Affine::constant(1), k * l.step),
                        ));
                        let ok = self.count_banks(&l.body, env, counts, budget);
                        env.pop();
                        if !ok {
                            return false;
                        }
                    }
                    continue;
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    // One branch runs: the stores of the busier one, bank by bank.
                    let (mut then_c, mut else_c) = (BankCounts::default(), BankCounts::default());
                    if !self.count_banks(then_block, env, &mut then_c, budget)
                        || !self.count_banks(else_block, env, &mut else_c, budget)
                    {
                        return false;
                    }
                    then_c.join_exclusive(else_c);
                    counts.add(then_c);
                }
                _ => {}
            }
            if let Stmt::Store { access, .. } = s {
                self.count_store(access, env, counts);
            }
        }
        true
    }

    /// Counts store `a` (with `env` substituted) if it goes to an on-chip array: a
    /// temporary, or a row stage's result row (not the off-chip ports, which
    /// `port_accesses` counts).
    fn count_store(
        &self,
        a: &crate::ir::Access,
        env: &[(crate::ir::LoopVarId, crate::ir::Affine)],
        counts: &mut BankCounts,
    ) {
        let inst = self.inst;
        let plan = inst.stage.as_ref().and_then(|p| p.rows());
        let row_result = plan.filter(|p| !p.flat_output).map(|p| p.output);
        let tm = inst.tensor(a.tensor);
        let on_chip = matches!(tm.kind, TensorKind::Temp)
            && (!inst.outputs.contains(&a.tensor) || row_result == Some(a.tensor));
        if !on_chip || tm.shape.is_empty() {
            return;
        }
        let index: Vec<crate::ir::Affine> = a.index.iter().map(|ix| subst(ix, env)).collect();
        let dynamic: Vec<bool> = (0..a.index.len())
            .map(|d| a.dynamic_at(d).is_some())
            .collect();
        match proved_bank(tm, &index, &dynamic) {
            None => {}
            Some(Some(k)) => *counts.known.entry((a.tensor, k)).or_insert(0) += 1,
            Some(None) => *counts.any.entry(a.tensor).or_insert(0) += 1,
        }
    }
}
