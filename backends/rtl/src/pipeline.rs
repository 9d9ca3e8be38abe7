//! Loops with a `pipeline II` directive: one whole iteration per cycle.
//!
//! As the HLS tool does for a pipelined loop, the loops inside it are unrolled (their trip
//! counts must be constants; their bounds may move with the outer counters, as blocked
//! loops' `4*n_o..4*n_o + 4` do). The unrolled iteration is straight-line code, built as
//! one combinational chain: each local is renamed at each assignment (its current value is
//! a wire), `if`s become predicates (an assignment under a predicate selects between the
//! new and the current value; a store's write enable includes it), stores into the
//! module's own memories are write ports of that cycle in statement order (the last to an
//! address wins, as in the program), and the locals' registers take their final values at
//! the clock edge, with the loop counter's step and test. So the loop runs at II = 1 with
//! no pipeline registers: a pipeline of depth one, exact by construction (each iteration
//! completes before the next starts).
//!
//! A loop is chained only when that is exact and buildable: no calls or `Fail` inside, at
//! most 4096 unrolled statements, no load of a tensor after a store to it in the same
//! iteration, and for parameter tensors (memories the caller owns) at most two loads and
//! one store per iteration (a dual-ported memory). Otherwise it runs one statement per
//! cycle, and `kiln rtl` says why in a note.

use crate::bank::Banking;
use crate::fixed::Wires;
use crate::module::{Edge, ModGen, Storage};
use kiln_passes::ir::{Affine, Block, Expr, Loop, LoopVarId, Stmt, TensorId};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// `a` with the variables of `env` replaced by their affine forms.
pub fn subst(a: &Affine, env: &HashMap<LoopVarId, Affine>) -> Affine {
    if env.is_empty() || a.terms.iter().all(|(v, _)| !env.contains_key(v)) {
        return a.clone();
    }
    let mut out = Affine::constant(a.constant);
    for &(v, c) in &a.terms {
        match env.get(&v) {
            Some(f) => out = out.add_scaled(f, c),
            None => out = out.add_scaled(&Affine::var(v), c),
        }
    }
    out
}

/// The unrolled trips of an inner loop under `env`: its first value and count.
fn trips(l: &Loop, env: &HashMap<LoopVarId, Affine>) -> Result<(Affine, i64), String> {
    let lo = subst(&l.lo, env);
    let hi = subst(&l.hi, env);
    let span = hi.add_scaled(&lo, -1);
    let Some(d) = span.as_constant() else {
        return Err("no constant trip count".into());
    };
    let n = if l.step > 0 {
        if d > 0 {
            (d + l.step - 1) / l.step
        } else {
            0
        }
    } else if d < 0 {
        (-d + (-l.step) - 1) / (-l.step)
    } else {
        0
    };
    Ok((lo, n))
}

const MAX_STATEMENTS: usize = 4096;

struct Check<'g, 'a> {
    g: &'g ModGen<'a>,
    env: HashMap<LoopVarId, Affine>,
    statements: usize,
    stored: HashSet<TensorId>,
    param_loads: HashMap<TensorId, usize>,
    param_stores: HashMap<TensorId, usize>,
    /// Distinct elements read per (parameter, proved bank).
    bank_reads: HashMap<(TensorId, usize), HashSet<String>>,
    /// Parameters with a read whose bank is not proved.
    unknown_bank: HashSet<TensorId>,
    /// Stores per (banked result, proved bank).
    bank_stores: HashMap<(TensorId, usize), usize>,
}

impl Check<'_, '_> {
    fn is_param(&self, t: TensorId) -> bool {
        matches!(self.g.storage.get(&t), Some(Storage::Port { .. }))
    }

    fn name(&self, t: TensorId) -> String {
        self.g.inst.tensor(t).name.clone()
    }

    fn loads(&mut self, s: &Stmt) -> Result<(), String> {
        let inst = self.g.inst;
        let mut found = Vec::new();
        for r in kiln_passes::ir::stmt_roots(s) {
            inst.for_each_subexpr(r, &mut |x| {
                if let Expr::Load(a) = x {
                    found.push(a.clone());
                }
            });
        }
        for a in found {
            let t = a.tensor;
            // A parameter split into banks (by the caller's allocation): two reads a cycle
            // per bank, when every read's bank is known; otherwise two reads in all.
            if self.is_param(t) {
                let tm = self.g.inst.tensor(t);
                if let Some(b) = Banking::of(&tm.shape, &tm.partition) {
                    let index: Vec<Affine> =
                        a.index.iter().map(|ix| subst(ix, &self.env)).collect();
                    let dynamic: Vec<bool> = (0..a.index.len())
                        .map(|d| a.dynamic_at(d).is_some())
                        .collect();
                    match b.static_bank(&index, &dynamic) {
                        Some(k) if !self.unknown_bank.contains(&t) => {
                            let key = format!("{index:?}");
                            let set = self.bank_reads.entry((t, k)).or_default();
                            set.insert(key);
                            if set.len() > 2 {
                                return Err(format!(
                                    "an iteration reads more than two elements of bank {k} of the parameter `{}` (dual-ported banks)",
                                    self.name(t)
                                ));
                            }
                            if self.stored.contains(&t) {
                                return Err(format!(
                                    "it reads `{}` after writing it in the same iteration",
                                    self.name(t)
                                ));
                            }
                            continue;
                        }
                        _ => {
                            // The bank cannot be proved: the dual-port rule for the whole
                            // tensor, counting the reads already placed in banks.
                            self.unknown_bank.insert(t);
                            let before: usize = self
                                .bank_reads
                                .iter()
                                .filter(|((u, _), _)| *u == t)
                                .map(|(_, s)| s.len())
                                .sum();
                            let n = self.param_loads.entry(t).or_default();
                            *n = (*n).max(before);
                        }
                    }
                }
            }
            if self.stored.contains(&t) {
                return Err(format!(
                    "it reads `{}` after writing it in the same iteration",
                    self.name(t)
                ));
            }
            if self.is_param(t) {
                let n = self.param_loads.entry(t).or_default();
                *n += 1;
                if *n > 2 {
                    return Err(format!(
                        "an iteration reads the parameter `{}` more than twice (a dual-ported memory)",
                        self.name(t)
                    ));
                }
            }
        }
        Ok(())
    }

    fn block(&mut self, b: &Block) -> Result<(), String> {
        for s in b {
            self.statements += 1;
            if self.statements > MAX_STATEMENTS {
                return Err(format!(
                    "an iteration unrolls to more than {MAX_STATEMENTS} statements"
                ));
            }
            match s {
                Stmt::Assign { .. } => self.loads(s)?,
                Stmt::Store { access, .. } => {
                    self.loads(s)?;
                    let t = access.tensor;
                    let banked = match self.g.storage.get(&t) {
                        Some(Storage::Port { index }) => self.g.params[*index].bank.clone(),
                        _ => None,
                    };
                    if let Some(b) = banked {
                        // One write port per bank: each store must have its own bank, proved.
                        let index: Vec<Affine> =
                            access.index.iter().map(|ix| subst(ix, &self.env)).collect();
                        let dynamic: Vec<bool> = (0..access.index.len())
                            .map(|d| access.dynamic_at(d).is_some())
                            .collect();
                        let Some(k) = b.static_bank(&index, &dynamic) else {
                            return Err(format!(
                                "the bank of a store into the parameter `{}` ({}) cannot be proved from its index",
                                self.name(t),
                                b.describe()
                            ));
                        };
                        let n = self.bank_stores.entry((t, k)).or_default();
                        *n += 1;
                        if *n > 1 {
                            return Err(format!(
                                "an iteration writes bank {k} of the parameter `{}` more than once (one write port per bank)",
                                self.name(t)
                            ));
                        }
                    } else if self.is_param(t) {
                        let n = self.param_stores.entry(t).or_default();
                        *n += 1;
                        if *n > 1 {
                            return Err(format!(
                                "an iteration writes the parameter `{}` more than once (one write port)",
                                self.name(t)
                            ));
                        }
                    }
                    self.stored.insert(t);
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    self.loads(s)?;
                    self.block(then_block)?;
                    self.block(else_block)?;
                }
                Stmt::For(l) => {
                    let (lo, n) = trips(l, &self.env).map_err(|_| {
                        format!(
                            "the inner loop `{}` has no constant trip count",
                            self.g.inst.loop_vars[l.var.index()].name
                        )
                    })?;
                    for k in 0..n {
                        self.env
                            .insert(l.var, lo.add_scaled(&Affine::constant(1), k * l.step));
                        self.block(&l.body)?;
                    }
                    self.env.remove(&l.var);
                }
                Stmt::Call(_) => return Err("it calls a kernel".into()),
                Stmt::Fail { .. } => return Err("it holds a `while` loop's failure check".into()),
            }
        }
        Ok(())
    }
}

impl ModGen<'_> {
    /// Whether loop `l` (with a `pipeline` directive) can run one iteration per cycle;
    /// the unrolled statement count, or why not.
    pub fn chain_check(&self, l: &Loop) -> Result<usize, String> {
        let mut c = Check {
            g: self,
            env: HashMap::new(),
            statements: 0,
            stored: HashSet::new(),
            param_loads: HashMap::new(),
            param_stores: HashMap::new(),
            bank_reads: HashMap::new(),
            unknown_bank: HashSet::new(),
            bank_stores: HashMap::new(),
        };
        c.block(&l.body)?;
        Ok(c.statements)
    }

    /// The state running one whole iteration of `l`; its edge is `edge`.
    pub fn chained_state(&mut self, l: &Loop, comment: String, edge: Edge) -> usize {
        let st = self.states.len();
        self.states.push(crate::module::State {
            comment,
            acts: Vec::new(),
            edge,
            wait: None,
        });
        let (_, sw) = (
            self.states.len(),
            crate::module::addr_width(self.states.len().max(2)),
        );
        let active = self.fresh("we");
        let _ = writeln!(self.decls, "    wire {active} = (state == {sw}'d{st});");
        self.ssa = Some(HashMap::new());
        self.env.clear();
        let before: Vec<usize> = self
            .params
            .iter()
            .map(|p| self.writes.get(&p.tensor).map_or(0, |w| w.len()))
            .collect();
        self.chain_block(&l.body, &active);
        for (k, n) in before.into_iter().enumerate() {
            let t = self.params[k].tensor;
            if self.writes.get(&t).map_or(0, |w| w.len()) > n + 1 {
                self.params[k].multi_bank = true;
            }
        }
        self.env.clear();
        let ssa = self.ssa.take().unwrap_or_default();
        let mut acts: Vec<(u32, String)> = ssa.into_iter().collect();
        acts.sort();
        for (local, value) in acts {
            let reg = self.local_target(local);
            self.states[st].acts.push(format!("{reg} <= {value};"));
        }
        st
    }

    fn chain_block(&mut self, b: &Block, pred: &str) {
        let inst = self.inst;
        for s in b {
            match s {
                Stmt::Assign { local, value, .. } => {
                    let lt = inst.local(*local).ty;
                    let (Some(vty), Some(v)) = (inst.expr_type(*value).copied(), self.expr(*value))
                    else {
                        continue;
                    };
                    let c = self.convert(&v, &vty, &lt);
                    let c = self.wire(lt.storage_bits(), &c);
                    let current = match self.ssa.as_ref().and_then(|m| m.get(&local.0)) {
                        Some(x) => x.clone(),
                        None => self.local_target(local.0),
                    };
                    let new = self.wire(lt.storage_bits(), &format!("{pred} ? {c} : {current}"));
                    if let Some(m) = self.ssa.as_mut() {
                        m.insert(local.0, new);
                    }
                }
                Stmt::Store { access, value, .. } => {
                    let tm = inst.tensor(access.tensor);
                    let (Some(vty), Some(v)) = (inst.expr_type(*value).copied(), self.expr(*value))
                    else {
                        continue;
                    };
                    let c = self.convert(&v, &vty, &tm.elem);
                    let Some(src) = self.store_src(access, pred.to_string(), c) else {
                        continue;
                    };
                    match self.storage.get(&access.tensor) {
                        Some(Storage::Local { .. }) => self
                            .multi_writes
                            .entry(access.tensor)
                            .or_default()
                            .push(src),
                        Some(Storage::Port { .. }) => {
                            self.writes.entry(access.tensor).or_default().push(src)
                        }
                        None => {}
                    }
                }
                Stmt::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    let Some(c) = self.expr(*cond) else { continue };
                    let pt = self.wire(1, &format!("{pred} & {c}"));
                    let pe = self.wire(1, &format!("{pred} & ~{c}"));
                    self.chain_block(then_block, &pt);
                    self.chain_block(else_block, &pe);
                }
                Stmt::For(l) => {
                    let Ok((lo, n)) = trips(l, &self.env) else {
                        continue;
                    };
                    for k in 0..n {
                        self.env
                            .insert(l.var, lo.add_scaled(&Affine::constant(1), k * l.step));
                        self.chain_block(&l.body, pred);
                    }
                    self.env.remove(&l.var);
                }
                Stmt::Call(_) | Stmt::Fail { .. } => {}
            }
        }
    }
}
