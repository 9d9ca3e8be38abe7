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
//! most 4096 unrolled statements, and no load of a tensor after a store to it in the same
//! iteration. Otherwise it runs one statement per cycle, and `kiln rtl` says why in a note.
//!
//! Parameters (memories the caller owns) give one read per bank per cycle and take one
//! write per bank per cycle (a scalar parameter is a register, read freely). When an
//! iteration reads one bank n > 1 times or writes one bank k > 1 times, it takes several
//! cycles ([`ChainPlan::ii`]): a phase counter holds the state; each (parameter, bank)
//! group of reads shares one read port whose address the phase selects (the reads take
//! the phases in program order) and the values of the earlier phases wait in registers;
//! each (parameter, bank) group of stores shares its write port the same way, one store
//! a phase, in program order, each in the first phase where everything it needs has been
//! read (its value, its address and its predicate, through the locals it uses) and after
//! every read of the same parameter (so that a read never sees a later store). A value
//! read in phase p comes from the port in phase p and from its register after, so a store
//! can be issued in the phase of the last read it needs. A memory of the module's own
//! that the iteration stores into more than once and never reads takes phases for its
//! stores the same way when they fit in that II ([`ChainPlan::phased_locals`]: one write
//! port per bank, a LUT RAM, instead of one per store). The locals, the other stores
//! into the module's own memories and the loop counter's step happen at the end of the
//! last phase. So II = the most reads or writes of one bank, unless a store waits for its
//! reads longer (II = its phase + 1): a 2x2 max pool writing four results of 20 reads
//! into one unbanked result runs at II = 20, its stores in phases 4, 9, 14 and 19. When
//! the iteration has fewer statements than II, one statement per cycle is faster and is
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

/// The group of a read port or write port a parameter access uses: the parameter and its
/// proved bank, or `usize::MAX` when the parameter's accesses share one port (unbanked, or
/// some access's bank is not proved).
type Group = (TensorId, usize);

/// How a chained loop runs.
#[derive(Clone, Debug)]
pub struct ChainPlan {
    /// Statements of one unrolled iteration.
    pub statements: usize,
    /// Cycles per iteration: the most reads or writes of one bank of a parameter (one of
    /// each per bank per cycle), or the phase of the last store plus one when a store waits
    /// longer for its reads; at least 1.
    pub ii: usize,
    /// What sets `ii` when it is more than 1 (for `kiln rtl`'s note).
    pub why: String,
    /// Parameters with a read whose bank is not proved: their reads share one port.
    pub whole: HashSet<TensorId>,
    /// Each store into a parameter or into one of `phased_locals`, in program order
    /// (inner loops unrolled): the tensor and the phase it is written in.
    pub stores: Vec<(TensorId, usize)>,
    /// Local memories whose stores take phases like a parameter's (stored more than once
    /// an iteration, never read in it, and the phases fit in `ii`): each bank then has
    /// one write port.
    pub phased_locals: HashSet<TensorId>,
}

/// The phases of a chained iteration of II > 1 cycles while it is being built: the
/// phase counter, and the read ports each (parameter, bank) group shares, one read a
/// phase: the addresses by phase, and the registers holding the values read before the
/// last phase; and the phase of each store into a parameter.
#[derive(Clone, Debug, Default)]
pub struct Phases {
    pub ii: usize,
    pub ph: String,
    pub whole: HashSet<TensorId>,
    /// (parameter, bank or usize::MAX) -> (port prefix, read port, addresses by phase).
    pub groups: HashMap<(TensorId, usize), (String, usize, Vec<String>)>,
    /// Register updates of the state: `if (ph == p) reg <= data;`.
    pub latches: Vec<String>,
    /// Some store is issued before the last phase: a value read in phase p is then taken
    /// from the port in phase p (and from its register after).
    pub early: bool,
    /// The planned phase of each store into a parameter or a phased local
    /// ([`ChainPlan::stores`]) and how many the builder has issued.
    pub stores: Vec<(TensorId, usize)>,
    /// [`ChainPlan::phased_locals`].
    pub phased_locals: HashSet<TensorId>,
    pub issued: usize,
    /// The latest phase of the reads built since the builder last reset it (a store's
    /// direct reads must not come after its phase).
    pub seen: usize,
    /// The state's number and the state register's width.
    pub st: usize,
    pub sw: u32,
    /// The enable of each phase: `(state == st) & (ph == p)`.
    pub phase_we: HashMap<usize, String>,
}

struct Check<'g, 'a> {
    g: &'g ModGen<'a>,
    env: HashMap<LoopVarId, Affine>,
    statements: usize,
    stored: HashSet<TensorId>,
    /// The bank of each read of a parameter (`None`: not proved).
    param_loads: HashMap<TensorId, Vec<Option<usize>>>,
    /// A parameter read at a data-dependent index (its address may need this iteration's
    /// values, so its reads cannot move to earlier cycles).
    dynamic_param_load: Option<String>,
    /// Banked parameters (and local memories) with a store whose bank is not proved:
    /// their stores share the write ports of all banks, one store a cycle.
    write_whole: HashSet<TensorId>,
    /// Every tensor the iteration reads.
    loaded: HashSet<TensorId>,
    /// The stores of one iteration that can reach each bank of a local memory (bank 0
    /// of an unbanked one).
    local_stores: HashMap<(TensorId, usize), usize>,
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
            self.loaded.insert(t);
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
            let bank = Banking::of(&tm.shape, &tm.partition)
                .and_then(|b| b.static_bank(&subst_index(&a, &self.env), &dynamic_dims(&a)));
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
                    if let Some(Storage::Local { bank, .. }) = self.g.storage.get(&t) {
                        let banks = match bank {
                            None => vec![0],
                            Some(b) => {
                                let ranges: Vec<Option<(i64, i64)>> =
                                    self.g.counters.iter().map(|c| c.range).collect();
                                b.reach(
                                    &subst_index(access, &self.env),
                                    &dynamic_dims(access),
                                    &ranges,
                                )
                            }
                        };
                        for k in banks {
                            *self.local_stores.entry((t, k)).or_default() += 1;
                        }
                    }
                    if let Some(b) = self.g.banking(t) {
                        // One write port per bank; a store whose bank is not proved may
                        // go to any of them, so it shares all of them (one store a cycle).
                        if b.static_bank(&subst_index(access, &self.env), &dynamic_dims(access))
                            .is_none()
                        {
                            self.write_whole.insert(t);
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

/// The index of `a` with the unrolled loop variables of `env` substituted.
fn subst_index(a: &kiln_passes::ir::Access, env: &HashMap<LoopVarId, Affine>) -> Vec<Affine> {
    a.index.iter().map(|ix| subst(ix, env)).collect()
}

/// Which dimensions of `a` have a data-dependent part.
fn dynamic_dims(a: &kiln_passes::ir::Access) -> Vec<bool> {
    (0..a.index.len())
        .map(|d| a.dynamic_at(d).is_some())
        .collect()
}

/// The phase schedule of a chained iteration (a second walk, once the shared read ports
/// are known): the phase each read takes (its group's reads in program order), the phase
/// from which each local's value is complete, and the phase of each store into a
/// parameter (see the module doc).
struct Sched<'g, 'a> {
    g: &'g ModGen<'a>,
    env: HashMap<LoopVarId, Affine>,
    whole: &'g HashSet<TensorId>,
    write_whole: &'g HashSet<TensorId>,
    /// The local memories whose stores take phases too (`ChainPlan::phased_locals`).
    phased: &'g HashSet<TensorId>,
    /// Reads so far per read group.
    reads: HashMap<Group, usize>,
    /// The latest phase a parameter is read in.
    read_last: HashMap<TensorId, usize>,
    /// The phase from which each local's current value is complete.
    local_ready: HashMap<u32, usize>,
    /// The phase of the latest store per write group.
    write_last: HashMap<Group, usize>,
    /// Stores per write group.
    write_count: HashMap<Group, usize>,
    stores: Vec<(TensorId, usize)>,
}

impl Sched<'_, '_> {
    /// The read group of a load of `a`, if it reads a parameter through a port.
    fn read_group(&self, a: &kiln_passes::ir::Access) -> Option<Group> {
        let t = a.tensor;
        let tm = self.g.inst.tensor(t);
        if !matches!(self.g.storage.get(&t), Some(Storage::Port { .. })) || tm.shape.is_empty() {
            return None;
        }
        if self.whole.contains(&t) {
            return Some((t, usize::MAX));
        }
        let bank = Banking::of(&tm.shape, &tm.partition)
            .and_then(|b| b.static_bank(&subst_index(a, &self.env), &dynamic_dims(a)));
        Some((t, bank.unwrap_or(usize::MAX)))
    }

    /// The phase from which the values of `roots` are complete; their reads of
    /// parameters take the next phases of their groups.
    fn ready(&mut self, roots: &[kiln_passes::ir::ExprId]) -> usize {
        let inst = self.g.inst;
        let mut loads = Vec::new();
        let mut locals = Vec::new();
        for &r in roots {
            inst.for_each_subexpr(r, &mut |x| match x {
                Expr::Load(a) => loads.push(a.clone()),
                Expr::Local(l) => locals.push(l.0),
                _ => {}
            });
        }
        let mut ready = 0;
        for l in locals {
            ready = ready.max(self.local_ready.get(&l).copied().unwrap_or(0));
        }
        for a in loads {
            if let Some(g) = self.read_group(&a) {
                let n = self.reads.entry(g).or_default();
                let phase = *n;
                *n += 1;
                ready = ready.max(phase);
                let last = self.read_last.entry(a.tensor).or_default();
                *last = (*last).max(phase);
            }
        }
        ready
    }

    /// `pred`: the phase from which the enclosing `if`s' conditions are complete (`None`
    /// outside any `if`).
    fn block(&mut self, b: &Block, pred: Option<usize>) {
        for s in b {
            match s {
                Stmt::Assign { local, .. } => {
                    let mut r = self.ready(&kiln_passes::ir::stmt_roots(s));
                    if let Some(p) = pred {
                        // `pred ? new : current`
                        let current = self.local_ready.get(&local.0).copied().unwrap_or(0);
                        r = r.max(p).max(current);
                    }
                    self.local_ready.insert(local.0, r);
                }
                Stmt::Store { access, .. } => {
                    let r = self
                        .ready(&kiln_passes::ir::stmt_roots(s))
                        .max(pred.unwrap_or(0));
                    let t = access.tensor;
                    if !matches!(self.g.storage.get(&t), Some(Storage::Port { .. }))
                        && !self.phased.contains(&t)
                    {
                        continue;
                    }
                    let bank = match self.g.banking(t) {
                        Some(b) if !self.write_whole.contains(&t) => b
                            .static_bank(&subst_index(access, &self.env), &dynamic_dims(access))
                            .unwrap_or(usize::MAX),
                        _ => usize::MAX,
                    };
                    let g = (t, bank);
                    let mut q = r.max(self.read_last.get(&t).copied().unwrap_or(0));
                    if let Some(&w) = self.write_last.get(&g) {
                        q = q.max(w + 1);
                    }
                    self.write_last.insert(g, q);
                    *self.write_count.entry(g).or_default() += 1;
                    self.stores.push((t, q));
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    let c = self
                        .ready(&kiln_passes::ir::stmt_roots(s))
                        .max(pred.unwrap_or(0));
                    self.block(then_block, Some(c));
                    self.block(else_block, Some(c));
                }
                Stmt::For(l) => {
                    let Ok((lo, n)) = trips(l, &self.env) else {
                        continue;
                    };
                    for k in 0..n {
                        self.env
                            .insert(l.var, lo.add_scaled(&Affine::constant(1), k * l.step));
                        self.block(&l.body, pred);
                    }
                    self.env.remove(&l.var);
                }
                Stmt::Call(_) | Stmt::Fail { .. } => {}
            }
        }
    }
}

impl ModGen<'_> {
    /// Whether loop `l` (with a `pipeline` directive) can be chained, and how: its
    /// unrolled statements, its initiation interval and its stores' phases, or why not.
    pub fn chain_check(&self, l: &Loop) -> Result<ChainPlan, String> {
        let mut c = Check {
            g: self,
            env: HashMap::new(),
            statements: 0,
            stored: HashSet::new(),
            param_loads: HashMap::new(),
            dynamic_param_load: None,
            write_whole: HashSet::new(),
            loaded: HashSet::new(),
            local_stores: HashMap::new(),
        };
        c.block(&l.body)?;
        let (read_ii, worst) = c.read_ii();
        let whole: HashSet<TensorId> = c
            .param_loads
            .iter()
            .filter(|(_, b)| b.iter().any(Option::is_none))
            .map(|(t, _)| *t)
            .collect();
        let none = HashSet::new();
        let s = self.schedule(l, &whole, &c.write_whole, &none);
        let last_phase = s.stores.iter().map(|&(_, q)| q + 1).max().unwrap_or(1);
        let ii = read_ii.max(last_phase).max(1);
        if ii > 1 {
            if let Some(t) = &c.dynamic_param_load {
                return Err(format!(
                    "an iteration needs {ii} cycles for its parameters' ports and reads `{t}` at a data-dependent index (its reads cannot move to earlier cycles)"
                ));
            }
        }
        let write_worst = s
            .write_count
            .iter()
            .max_by_key(|(g, n)| (**n, std::cmp::Reverse(**g)))
            .map(|(g, n)| (*n, g.0));
        let why = match (worst, write_worst) {
            (Some(t), _) if read_ii == ii => format!(
                "it reads one bank of the parameter `{}` {ii} times, one read per bank per cycle",
                c.name(t)
            ),
            (_, Some((n, t))) if n == ii => format!(
                "it writes one bank of the parameter `{}` {ii} times, one write per bank per cycle",
                c.name(t)
            ),
            _ => {
                let t = s
                    .stores
                    .iter()
                    .find(|&&(_, q)| q + 1 == ii)
                    .map(|&(t, _)| c.name(t))
                    .unwrap_or_default();
                format!("its stores into the parameter `{t}` wait for the reads they need, one store a cycle in program order: the last in cycle {ii}")
            }
        };
        // A local memory with a bank that several stores of the iteration can reach, and
        // not read in it: when the iteration takes several cycles anyway, its stores take
        // phases too (one a phase per bank group, in program order), so each bank has one
        // write port (a LUT RAM) instead of one per store (registers): the same cycles,
        // and no read of the iteration can see a store made before its last phase.
        let mut phased_locals: HashSet<TensorId> = HashSet::new();
        let mut stores = s.stores;
        if ii > 1 {
            let candidates: HashSet<TensorId> = c
                .local_stores
                .iter()
                .filter(|&((t, _), &n)| n > 1 && !c.loaded.contains(t))
                .map(|(&(t, _), _)| t)
                .collect();
            if !candidates.is_empty() {
                let with = self.schedule(l, &whole, &c.write_whole, &candidates).stores;
                if with.iter().all(|&(_, q)| q < ii) {
                    phased_locals = candidates;
                    stores = with;
                }
            }
        }
        Ok(ChainPlan {
            statements: c.statements,
            ii,
            why,
            whole,
            stores,
            phased_locals,
        })
    }

    /// The phases of the stores of one iteration of `l` into parameters and into the
    /// local memories `phased` (see [`Sched`]).
    fn schedule<'g>(
        &'g self,
        l: &Loop,
        whole: &'g HashSet<TensorId>,
        write_whole: &'g HashSet<TensorId>,
        phased: &'g HashSet<TensorId>,
    ) -> Sched<'g, 'g> {
        let mut s = Sched {
            g: self,
            env: HashMap::new(),
            whole,
            write_whole,
            phased,
            reads: HashMap::new(),
            read_last: HashMap::new(),
            local_ready: HashMap::new(),
            write_last: HashMap::new(),
            write_count: HashMap::new(),
            stores: Vec::new(),
        };
        s.block(&l.body, None);
        s
    }

    /// The state running one whole iteration of `l` (in `plan.ii` cycles); its edge is
    /// `edge`. With II > 1 the state holds for II cycles (a phase counter): in each phase
    /// every (parameter, bank) group reads one element through its shared read port into
    /// a register, the last phase's reads go straight into the chain, each store into a
    /// parameter is written in its planned phase, and the locals' registers, the stores
    /// into local memories and the loop's step happen at the end of the last phase.
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
        let sw = crate::module::addr_width(self.states.len().max(2));
        let active = self.fresh("we");
        let ph = self.fresh("ph");
        let last = format!("{ph}_last");
        if plan.ii > 1 {
            let _ = writeln!(
                self.decls,
                "    reg [{}:0] {ph} = 0; // the phase of a {}-cycle iteration\n    wire {last} = ({ph} == 32'd{});\n    wire {active} = (state == {sw}'d{st}) & {last};",
                crate::module::addr_width(plan.ii) - 1,
                plan.ii,
                plan.ii - 1
            );
            let mut phase_we = HashMap::new();
            phase_we.insert(plan.ii - 1, active.clone());
            self.phases = Some(Phases {
                ii: plan.ii,
                ph: ph.clone(),
                whole: plan.whole.clone(),
                early: plan.stores.iter().any(|&(_, q)| q + 1 < plan.ii),
                stores: plan.stores.clone(),
                phased_locals: plan.phased_locals.clone(),
                st,
                sw,
                phase_we,
                ..Phases::default()
            });
        } else {
            let _ = writeln!(self.decls, "    wire {active} = (state == {sw}'d{st});");
        }
        // A parameter written more than once in one cycle (several banks of a banked
        // result): its caller must bank its memory alike (bank.rs).
        let mut per_phase: HashMap<(TensorId, usize), usize> = HashMap::new();
        for &(t, q) in &plan.stores {
            *per_phase.entry((t, q)).or_default() += 1;
        }
        for ((t, _), n) in per_phase {
            if let (true, Some(Storage::Port { index })) = (n > 1, self.storage.get(&t)) {
                let k = *index;
                self.params[k].multi_bank = true;
            }
        }
        self.ssa = Some(HashMap::new());
        self.env.clear();
        self.windows = Some(crate::bank::WindowReads::default());
        self.chain_block(&l.body, "1'b1", &active);
        self.finish_windows();
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
            if phases.issued != phases.stores.len() {
                self.internal_error(
                    l.span,
                    format!(
                        "the chained iteration built {} stores into parameters where its plan has {}",
                        phases.issued,
                        phases.stores.len()
                    ),
                );
            }
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

    /// E0720 for a plan the builder did not follow (a bug in kiln, never silent).
    fn internal_error(&mut self, span: kiln_passes::Span, what: String) {
        // After an error the chain was left unfinished (a float operand stops it): its
        // counts are no news.
        if !self.diags.is_empty() {
            return;
        }
        self.error(
            span,
            what,
            "this is a bug in kiln's RTL back end: please report it with the program; `--no-pipeline` builds the loop one statement per cycle",
        );
    }

    /// The enable of phase `q` of the chained state being built.
    fn phase_enable(&mut self, q: usize) -> String {
        let (st, sw, ph) = match self.phases.as_ref() {
            Some(p) => {
                if let Some(w) = p.phase_we.get(&q) {
                    return w.clone();
                }
                (p.st, p.sw, p.ph.clone())
            }
            None => return "1'b0".into(),
        };
        let w = self.fresh("we");
        let _ = writeln!(
            self.decls,
            "    wire {w} = (state == {sw}'d{st}) & ({ph} == 32'd{q});"
        );
        if let Some(p) = self.phases.as_mut() {
            p.phase_we.insert(q, w.clone());
        }
        w
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
        let (port, j, slot, ii, phv, early) = {
            let need_port = !self
                .phases
                .as_ref()
                .is_some_and(|p| p.groups.contains_key(&(t, key)));
            let j = if need_port {
                let p = &mut self.params[index];
                p.reads += 1;
                p.early_reads.push(true);
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
            let slot = g.2.len() - 1;
            phases.seen = phases.seen.max(slot);
            (
                g.0.clone(),
                g.1,
                slot,
                phases.ii,
                phases.ph.clone(),
                phases.early,
            )
        };
        if !a.is_affine() {
            // The port's address may not be settled by the falling edge (bram.rs).
            if let Some(e) = self.params[index].early_reads.get_mut(j) {
                *e = false;
            }
        }
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
        if early {
            // A store before the last phase may need this value in its own phase.
            let v = self.wire(dw, &format!("({phv} == 32'd{slot}) ? {data} : {reg}"));
            return Some(Some(v));
        }
        Some(Some(reg))
    }

    /// `cond ∧ en`, without the constant.
    fn and_enable(&mut self, cond: &str, en: &str) -> String {
        if cond == "1'b1" {
            en.to_string()
        } else {
            self.wire(1, &format!("{cond} & {en}"))
        }
    }

    /// The statements of `b` as one chain: `cond` holds when they run (the enclosing
    /// `if`s), `active` while the state's last phase runs.
    fn chain_block(&mut self, b: &Block, cond: &str, active: &str) {
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
                    let new = if cond == "1'b1" {
                        c
                    } else {
                        let current = match self.ssa.as_ref().and_then(|m| m.get(&local.0)) {
                            Some(x) => x.clone(),
                            None => self.local_target(local.0),
                        };
                        self.wire(lt.storage_bits(), &format!("{cond} ? {c} : {current}"))
                    };
                    if let Some(m) = self.ssa.as_mut() {
                        m.insert(local.0, new);
                    }
                }
                Stmt::Store {
                    access,
                    value,
                    span,
                } => {
                    let tm = inst.tensor(access.tensor);
                    let port =
                        matches!(self.storage.get(&access.tensor), Some(Storage::Port { .. }));
                    // A store into a parameter or a phased local takes its planned phase
                    // (program order).
                    let phase = match self.phases.as_mut() {
                        Some(p) if port || p.phased_locals.contains(&access.tensor) => {
                            let q = p.stores.get(p.issued).map(|&(_, q)| q);
                            p.issued += 1;
                            p.seen = 0;
                            Some(q)
                        }
                        _ => None,
                    };
                    let (Some(vty), Some(v)) = (inst.expr_type(*value).copied(), self.expr(*value))
                    else {
                        continue;
                    };
                    let c = self.convert(&v, &vty, &tm.elem);
                    let en = match phase {
                        Some(Some(q)) => self.phase_enable(q),
                        Some(None) => {
                            self.internal_error(
                                *span,
                                "a store into a parameter that the chained iteration's plan does not have".into(),
                            );
                            continue;
                        }
                        None => active.to_string(),
                    };
                    let we = self.and_enable(cond, &en);
                    let Some(src) = self.store_src(access, we, c) else {
                        continue;
                    };
                    if let (Some(Some(q)), Some(p)) = (phase, self.phases.as_ref()) {
                        if p.seen > q {
                            let seen = p.seen;
                            self.internal_error(
                                *span,
                                format!(
                                    "a store planned in phase {q} reads a value of phase {seen}"
                                ),
                            );
                        }
                    }
                    match self.storage.get(&access.tensor) {
                        // A phased store shares its bank's (or the memory's) one write
                        // port with the other phases'.
                        Some(Storage::Local { .. }) if phase.is_some() => {
                            self.writes.entry(access.tensor).or_default().push(src)
                        }
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
                    cond: c,
                    then_block,
                    else_block,
                } => {
                    let Some(x) = self.expr(*c) else { continue };
                    let pt = self.wire(1, &format!("{cond} & {x}"));
                    let pe = self.wire(1, &format!("{cond} & ~{x}"));
                    self.chain_block(then_block, &pt, active);
                    self.chain_block(else_block, &pe, active);
                }
                Stmt::For(l) => {
                    let Ok((lo, n)) = trips(l, &self.env) else {
                        continue;
                    };
                    for k in 0..n {
                        self.env
                            .insert(l.var, lo.add_scaled(&Affine::constant(1), k * l.step));
                        self.chain_block(&l.body, cond, active);
                    }
                    self.env.remove(&l.var);
                }
                Stmt::Call(_) | Stmt::Fail { .. } => {}
            }
        }
    }
}
