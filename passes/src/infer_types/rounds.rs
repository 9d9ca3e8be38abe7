//! The fixpoint's rounds: each round walks the node's statements (stmts.rs); between
//! rounds, what it found about accumulating stores, declared locals and inferred locals is
//! combined, and widened where it keeps growing. The final round writes types, reasons and
//! ranges into the instance.

use super::*;
use kiln_numeric::{narrowest_type, Fx, Interval};

impl State<'_> {
    pub(super) fn begin_round(&mut self) {
        self.local_range = self.final_range.clone();
        self.base.clear();
        self.growth.clear();
        self.terms.clear();
        self.stores.clear();
        self.store_growth.clear();
    }

    /// Combines the round's contributions; returns whether nothing changed.
    pub(super) fn end_round(&mut self) -> bool {
        let mut stable = self.settle_store_growth();
        stable &= self.settle_stores();
        stable &= self.settle_locals();
        stable
    }

    /// Accumulating stores; returns whether nothing changed.
    pub(super) fn settle_store_growth(&mut self) -> bool {
        let mut stable = true;
        // Accumulating stores: every value of the tensor is a value it had before the
        // accumulations (what earlier nodes and this node's other stores put there) plus
        // at most as many terms as the stores run. Beyond the declared type, the
        // conversion wraps or saturates: then any value of the type.
        let growth: Vec<(TensorId, Interval)> = self
            .store_growth
            .iter()
            .map(|(t, g)| (*t, g.clone()))
            .collect();
        for (t, g) in growth {
            let tm = self.inst.tensor(t);
            let Some((tlo, thi)) = tm.elem.value_bounds() else {
                continue;
            };
            // Stored values are converted to the declared type: they have its LSB.
            let frac = tm.elem.frac_bits().unwrap_or(0);
            let mut base = tm.range.clone();
            if let Some((Val::Exact { range, .. }, _)) = self.stores.get(&t) {
                base = Some(base.map_or(range.clone(), |b| b.join(range)));
            }
            let base = base.unwrap_or_else(|| Interval::new(tlo.clone(), thi.clone()));
            let mut r = base.add(&g);
            self.store_needed.insert(t, r.clone());
            if r.lo < tlo || r.hi > thi {
                // The conversion wraps (or saturates): any value of the type.
                r = Interval::new(tlo, thi);
            }
            let new = match self.own_stores.get(&t) {
                Some((old, f)) => (old.join(&r), (*f).max(frac)),
                None => (r, frac),
            };
            if self.own_stores.get(&t) != Some(&new) {
                stable = false;
                self.own_stores.insert(t, new);
            }
        }
        stable
    }

    /// What this node stored into exact tensors; returns whether nothing changed.
    pub(super) fn settle_stores(&mut self) -> bool {
        let mut stable = true;
        for (t, (v, _)) in &self.stores {
            if let Val::Exact { range, frac, .. } = v {
                let mut new = match self.own_stores.get(t) {
                    Some((r, f)) => (r.join(range), (*f).max(*frac)),
                    None => (range.clone(), *frac),
                };
                if self.own_stores.get(t) != Some(&new) {
                    stable = false;
                    // A range still growing after a few rounds (`y[i] = y[i] + 1` in a
                    // loop) widens to the whole declared type, which holds every stored
                    // (converted) value.
                    let changes = self.own_store_changes.entry(*t).or_insert(0);
                    *changes += 1;
                    let tm = self.inst.tensor(*t);
                    if *changes > 2 && tm.declared {
                        if let Some((lo, hi)) = tm.elem.value_bounds() {
                            new.0 = Interval::new(lo, hi);
                        }
                    }
                    self.own_stores.insert(*t, new);
                }
            }
        }
        stable
    }

    /// The ranges of locals; returns whether nothing changed.
    pub(super) fn settle_locals(&mut self) -> bool {
        let mut stable = true;
        let mut locals: Vec<LocalId> = self
            .base
            .keys()
            .chain(self.growth.keys())
            .copied()
            .collect();
        locals.sort();
        locals.dedup();
        for l in locals {
            let local = self.inst.local(l).clone();
            if local.declared {
                // A declared local holds the conversions of its values.
                if local.ty.is_exact_numeric() {
                    let total = self.round_total(l);
                    let frac = local.ty.frac_bits().unwrap_or(0);
                    if let Val::Exact { mut range, .. } =
                        self.converted(&Val::exact(total, frac, false), &local.ty)
                    {
                        // Still changing after a few rounds (`s = s * t`, or `+=` and
                        // `&=` on different paths): from then on the range is the whole
                        // declared type, which holds every value assigned to it.
                        let bounds = local.ty.value_bounds();
                        let widened = |r: &mut Interval| {
                            if let Some((lo, hi)) = bounds.clone() {
                                *r = Interval::new(lo, hi);
                            }
                        };
                        if self.local_changes.get(&l).is_some_and(|&c| c > 2) {
                            widened(&mut range);
                        }
                        if self.final_range.get(&l) != Some(&range) {
                            stable = false;
                            let changes = self.local_changes.entry(l).or_insert(0);
                            *changes += 1;
                            if *changes > 2 {
                                widened(&mut range);
                            }
                            self.final_range.insert(l, range);
                        }
                    }
                }
                continue;
            }
            let new = self.round_total(l);
            if self.final_range.get(&l) != Some(&new) {
                stable = false;
                self.final_range.insert(l, new);
            }
        }
        stable
    }

    pub(super) fn growing_locals(&self) -> Vec<LocalId> {
        let mut v: Vec<LocalId> = self
            .final_range
            .keys()
            .copied()
            .filter(|l| !self.inst.local(*l).declared)
            .collect();
        v.sort();
        v.truncate(1);
        v
    }

    /// What the round found of local `l`: its base range (0 when nothing) plus its growth.
    fn round_total(&self, l: LocalId) -> Interval {
        let base = self
            .base
            .get(&l)
            .cloned()
            .unwrap_or_else(|| Interval::point(Fx::zero()));
        match self.growth.get(&l) {
            Some(g) => base.add(g),
            None => base,
        }
    }

    /// Final round: write local and tensor types.
    pub(super) fn finish(&mut self) {
        // Tensors that accumulating stores update hold what `end_round` found.
        let accumulated: Vec<TensorId> = self.store_growth.keys().copied().collect();
        for t in accumulated {
            if let Some((r, f)) = self.own_stores.get(&t) {
                self.stores
                    .insert(t, (Val::exact(r.clone(), *f, false), false));
            }
        }
        self.finish_locals();
        self.warn_declared_accumulators();
        self.finish_stores();
    }

    /// The types, reasons and ranges of inferred locals.
    pub(super) fn finish_locals(&mut self) {
        let mut locals: Vec<LocalId> = self.local_class.keys().copied().collect();
        locals.sort();
        for l in locals {
            let local = self.inst.local(l).clone();
            if local.declared {
                continue;
            }
            let ty = match self.local_class.get(&l) {
                Some(Val::Bool) => ScalarType::Bool,
                Some(Val::F32) => ScalarType::F32,
                Some(Val::F64) => ScalarType::F64,
                _ => {
                    let (r, f) = self.inferred_local(l);
                    let lm = self.inst.locals.get_mut(l.index()).expect("local");
                    lm.range = Some(r.clone());
                    narrowest_type(&r, f)
                }
            };
            let reason = match self.terms.get(&l) {
                Some(n) if *n > kiln_numeric::Int::ONE || self.growth.contains_key(&l) => {
                    TypeReason::Accumulation { terms: n.clone() }
                }
                _ if self.local_from_data.get(&l).copied().unwrap_or(false) => {
                    TypeReason::Range("values of constant data".into())
                }
                _ => TypeReason::BitGrowth,
            };
            let lm = self.inst.locals.get_mut(l.index()).expect("local");
            lm.ty = ty;
            lm.reason = reason;
        }
    }

    /// Declared accumulators: a warning when the exact sum can exceed a wrapping type.
    pub(super) fn warn_declared_accumulators(&mut self) {
        let mut declared: Vec<LocalId> = self
            .growth
            .keys()
            .copied()
            .filter(|l| self.inst.local(*l).declared)
            .collect();
        declared.sort();
        for l in declared {
            let local = self.inst.local(l).clone();
            if self.explicit_assign.get(&l).copied().unwrap_or(false) {
                continue;
            }
            let total = self.round_total(l);
            let span = self
                .first_assign_span
                .get(&l)
                .copied()
                .unwrap_or(local.span);
            let frac = local.ty.frac_bits().unwrap_or(0);
            let terms = self.terms.get(&l).cloned().unwrap_or_default();
            let v = Val::exact(total, frac, false);
            let before = self.warnings.len();
            self.check_overflow(&v, &local.ty, span, &local.name, false);
            if self.warnings.len() > before {
                let d = self.warnings.pop().expect("just pushed");
                self.warnings.push(d.note(format!(
                    "`{}` accumulates up to {terms} terms between resets",
                    local.name
                )));
            }
        }
    }

    /// The types and ranges of the tensors this node writes.
    pub(super) fn finish_stores(&mut self) {
        let stores: Vec<(TensorId, Val)> = self
            .stores
            .iter()
            .map(|(t, (v, _))| (*t, v.clone()))
            .collect();
        for (t, v) in stores {
            let tm = self.inst.tensor_mut(t);
            match v {
                Val::Bool => {
                    if !tm.declared {
                        tm.elem = ScalarType::Bool;
                        tm.reason = TypeReason::BitGrowth;
                    }
                }
                Val::F32 | Val::F64 => {
                    if !tm.declared {
                        tm.elem = if v == Val::F32 {
                            ScalarType::F32
                        } else {
                            ScalarType::F64
                        };
                        tm.reason = TypeReason::BitGrowth;
                    }
                }
                Val::Exact {
                    range,
                    frac,
                    from_data,
                } => {
                    if !tm.declared {
                        tm.elem = narrowest_type(&range, frac);
                        tm.reason = if from_data {
                            TypeReason::Range("values of constant data".into())
                        } else {
                            TypeReason::BitGrowth
                        };
                        tm.range = Some(range);
                    } else {
                        tm.range = Some(match &tm.range {
                            Some(r) if tm.kind == TensorKind::Temp => r.join(&range),
                            _ => range,
                        });
                    }
                }
            }
        }
    }
}
