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
//! iteration, and for parameter tensors (memories the caller owns) one store per
//! iteration, or one per bank of a banked result when each store's bank is proved
//! (bank.rs). Otherwise it runs one statement per cycle, and `kiln rtl` says why in a note.
//!
//! Parameters give one read per bank per cycle (a scalar parameter is a register): when an
//! iteration reads one bank n > 1 times, it takes n cycles ([`ChainPlan::ii`]): a phase
//! counter holds the state, each (parameter, bank) group shares one read port whose
//! address the phase selects, the values of the earlier phases wait in registers, and the
//! stores, the locals and the counter's step happen at the end of the last phase. When the
//! iteration has fewer statements than that, one statement per cycle is faster and is
//! used.

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

/// How a chained loop runs.
#[derive(Clone, Debug)]
pub struct ChainPlan {
    /// Statements of one unrolled iteration.
    pub statements: usize,
    /// Cycles per iteration: the most reads of one bank of a parameter (one read per bank
    /// per cycle), at least 1.
    pub ii: usize,
    /// The parameter that sets `ii`.
    pub worst: Option<String>,
    /// Parameters with a read whose bank is not proved: their reads share one port.
    pub whole: HashSet<TensorId>,
}

/// The phases of a chained iteration of II > 1 cycles while it is being built: the
/// phase counter, and the read ports each (parameter, bank) group shares, one read a
/// phase: the addresses by phase, and the registers holding the values read before the
/// last phase.
#[derive(Clone, Debug, Default)]
pub struct Phases {
    pub ii: usize,
    pub ph: String,
    pub whole: HashSet<TensorId>,
    /// (parameter, bank or usize::MAX) -> (port prefix, read port, addresses by phase).
    pub groups: HashMap<(TensorId, usize), (String, usize, Vec<String>)>,
    /// Register updates of the state: `if (ph == p) reg <= data;`.
    pub latches: Vec<String>,
}

struct Check<'g, 'a> {
    g: &'g ModGen<'a>,
    env: HashMap<LoopVarId, Affine>,
    statements: usize,
    stored: HashSet<TensorId>,
    /// The bank of each read of a parameter (`None`: not proved).
    param_loads: HashMap<TensorId, Vec<Option<usize>>>,
    param_stores: HashMap<TensorId, usize>,
    /// A parameter read at a data-dependent index (its address may need this iteration's
    /// values, so its reads cannot move to earlier cycles).
    dynamic_param_load: Option<String>,
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
            if self.stored.contains(&t) {
                return Err(format!(
                    "it reads `{}` after writing it in the same iteration",
                    self.name(t)
                ));
            }
            // A parameter (a memory of the caller): one read per bank per cycle; a scalar
            // is a register of the caller, read freely.
            let tm = self.g.inst.tensor(t);
            if !self.is_param(t) || tm.shape.is_empty() {
                continue;
            }
            if a.dynamic_at(0).is_some() || a.dynamic_exprs().next().is_some() {
                self.dynamic_param_load = Some(self.name(t));
            }
            let bank = Banking::of(&tm.shape, &tm.partition).and_then(|b| {
                let index: Vec<Affine> = a.index.iter().map(|ix| subst(ix, &self.env)).collect();
                let dynamic: Vec<bool> = (0..a.index.len())
                    .map(|d| a.dynamic_at(d).is_some())
                    .collect();
                b.static_bank(&index, &dynamic)
            });
            self.param_loads.entry(t).or_default().push(bank);
        }
        Ok(())
    }

    /// The cycles an iteration needs for its parameter reads, one per bank per cycle (a
    /// parameter with a read whose bank is not proved counts as one bank), and the
    /// parameter that needs the most.
    fn read_ii(&self) -> (usize, Option<TensorId>) {
        let mut worst = (1, None);
        for (&t, banks) in &self.param_loads {
            let n = if banks.iter().any(Option::is_none) {
                banks.len()
            } else {
                let mut per: HashMap<usize, usize> = HashMap::new();
                for b in banks.iter().flatten() {
                    *per.entry(*b).or_default() += 1;
                }
                per.values().copied().max().unwrap_or(0)
            };
            if n > worst.0 {
                worst = (n, Some(t));
            }
        }
        worst
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
    /// Whether loop `l` (with a `pipeline` directive) can be chained, and how: its
    /// unrolled statements and its initiation interval, or why not.
    pub fn chain_check(&self, l: &Loop) -> Result<ChainPlan, String> {
        let mut c = Check {
            g: self,
            env: HashMap::new(),
            statements: 0,
            stored: HashSet::new(),
            param_loads: HashMap::new(),
            param_stores: HashMap::new(),
            dynamic_param_load: None,
            bank_stores: HashMap::new(),
        };
        c.block(&l.body)?;
        let (ii, worst) = c.read_ii();
        if ii > 1 {
            if let Some(t) = &c.dynamic_param_load {
                return Err(format!(
                    "an iteration reads a bank of a parameter more than once and `{t}` at a data-dependent index (its reads cannot move to earlier cycles)"
                ));
            }
        }
        let whole = c
            .param_loads
            .iter()
            .filter(|(_, b)| b.iter().any(Option::is_none))
            .map(|(t, _)| *t)
            .collect();
        Ok(ChainPlan {
            statements: c.statements,
            ii,
            worst: worst.map(|t| c.name(t)),
            whole,
        })
    }

    /// The state running one whole iteration of `l` (in `plan.ii` cycles); its edge is
    /// `edge`. With II > 1 the state holds for II cycles (a phase counter): in each phase
    /// every (parameter, bank) group reads one element through its shared read port into
    /// a register, the last phase's reads go straight into the chain, and the stores, the
    /// locals' registers and the loop's step happen at the end of the last phase.
    pub fn chained_state(
        &mut self,
        l: &Loop,
        comment: String,
        edge: Edge,
        plan: &ChainPlan,
    ) -> usize {
        let st = self.states.len();
        self.states.push(crate::module::State {
            comment,
            acts: Vec::new(),
            edge: edge.clone(),
            wait: None,
        });
        let (_, sw) = (
            self.states.len(),
            crate::module::addr_width(self.states.len().max(2)),
        );
        let active = self.fresh("we");
        let ph = self.fresh("ph");
        let last = format!("{ph}_last");
        if plan.ii > 1 {
            let _ = writeln!(
                self.decls,
                "    reg [31:0] {ph} = 32'd0; // the phase of a {}-cycle iteration\n    wire {last} = ({ph} == 32'd{});\n    wire {active} = (state == {sw}'d{st}) & {last};",
                plan.ii,
                plan.ii - 1
            );
            self.phases = Some(Phases {
                ii: plan.ii,
                ph: ph.clone(),
                whole: plan.whole.clone(),
                ..Phases::default()
            });
        } else {
            let _ = writeln!(self.decls, "    wire {active} = (state == {sw}'d{st});");
        }
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
        let guard = if plan.ii > 1 {
            format!("if ({last}) ")
        } else {
            String::new()
        };
        for (local, value) in acts {
            let reg = self.local_target(local);
            self.states[st]
                .acts
                .push(format!("{guard}{reg} <= {value};"));
        }
        if let Some(phases) = self.phases.take() {
            // The shared read ports' addresses by phase.
            let mut groups: Vec<_> = phases.groups.into_values().collect();
            groups.sort();
            for (port, j, addrs) in groups {
                let mut e = addrs[addrs.len() - 1].clone();
                for (p, a) in addrs.iter().enumerate().rev().skip(1) {
                    e = format!("({ph} == 32'd{p}) ? {a} : {e}");
                }
                let _ = writeln!(self.assigns, "    assign {port}_ra{j} = {e};");
            }
            self.states[st].acts.extend(phases.latches);
            self.states[st]
                .acts
                .push(format!("{ph} <= {last} ? 32'd0 : {ph} + 32'd1;"));
            self.states[st].edge =
                Edge::Branch(last, Box::new(edge), Box::new(Edge::Goto(Vec::new(), st)));
        }
        st
    }

    /// A read of parameter `a.tensor` in a chained iteration of II > 1 cycles: its
    /// group's shared port in the next free phase (a register of the value when that
    /// phase is not the last). `None` when the read is not one of those.
    pub fn phased_load(&mut self, a: &kiln_passes::ir::Access) -> Option<Option<String>> {
        let ph = self.phases.as_ref()?;
        let t = a.tensor;
        let Some(Storage::Port { index }) = self.storage.get(&t).cloned() else {
            return None;
        };
        let tm = self.inst.tensor(t);
        if tm.shape.is_empty() {
            return None;
        }
        let key = if ph.whole.contains(&t) {
            usize::MAX
        } else {
            Banking::of(&tm.shape, &tm.partition)
                .and_then(|b| self.static_bank_of(a, &b))
                .unwrap_or(usize::MAX)
        };
        let Some(addr) = self.address(a) else {
            return Some(None);
        };
        let aw = crate::module::addr_width(tm.len());
        let addr = crate::fixed::slice(&addr, aw - 1, 0);
        let dw = tm.elem.storage_bits();
        let (port, j, slot, ii, phv) = {
            let need_port = !self
                .phases
                .as_ref()
                .is_some_and(|p| p.groups.contains_key(&(t, key)));
            let j = if need_port {
                let p = &mut self.params[index];
                p.reads += 1;
                Some(p.reads - 1)
            } else {
                None
            };
            let port = self.params[index].port.clone();
            let phases = self.phases.as_mut()?;
            let g = phases
                .groups
                .entry((t, key))
                .or_insert_with(|| (port.clone(), j.unwrap_or(0), Vec::new()));
            g.2.push(addr);
            (
                g.0.clone(),
                g.1,
                g.2.len() - 1,
                phases.ii,
                phases.ph.clone(),
            )
        };
        let data = format!("{port}_rd{j}");
        if slot + 1 >= ii {
            // The last phase (the check never gives a group more reads than phases).
            return Some(Some(data));
        }
        let reg = self.fresh("rd");
        let _ = writeln!(self.decls, "    reg [{}:0] {reg};", dw - 1);
        if let Some(p) = self.phases.as_mut() {
            p.latches
                .push(format!("if ({phv} == 32'd{slot}) {reg} <= {data};"));
        }
        Some(Some(reg))
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
