//! The controller: a module's nodes and statements as the states of one FSM.
//!
//! Statements compile back to front: each gets the transition that follows it (its
//! continuation, an [`Edge`]) and returns the edge that enters it. An assignment or a store
//! is one state (its register update or memory write happens at the clock edge, together
//! with the transition). An `if` is one state that branches. A loop has no state of its
//! own when its bounds are constants (the edge that enters it sets the counter; the last
//! state of its body steps the counter and tests the bound in the same cycle); a loop with
//! bounds that depend on outer counters gets one entry state that sets and tests it. A
//! kernel call is two states: one that pulses the callee's `start`, one that waits for its
//! `done`. So a perfect loop nest around one statement runs one iteration per cycle.

use crate::bank::BankingVerilog;
use crate::module::{lit32, Edge, LoopInfo, ModGen, State, Storage};
use kiln_passes::ir::{Call, Loop, Node, Stmt, TensorKind};
use std::fmt::Write;

impl ModGen<'_> {
    /// Builds every state: IDLE (0), DONE (1), then the nodes in schedule order.
    pub fn build(&mut self) {
        self.states.push(State {
            comment: "idle".into(),
            acts: Vec::new(),
            edge: Edge::Goto(Vec::new(), 0),
            wait: None,
        });
        self.states.push(State {
            comment: "done".into(),
            acts: Vec::new(),
            edge: Edge::Goto(Vec::new(), 0),
            wait: None,
        });
        let inst = self.inst;
        let frame = self.is_frame();
        if frame {
            // The top of a frame pipeline (frame.rs): the FSM runs the constants'
            // statements once after reset, then stays in state 1 (`pro_done`); the
            // calls are stages with their own start conditions.
            self.states[1].comment = "constants written: the stages may run".into();
            self.states[1].edge = Edge::Goto(Vec::new(), 1);
        }
        let mut cont = Edge::Goto(Vec::new(), 1);
        let order = inst.schedule();
        for n in order.into_iter().rev() {
            match &inst.graph[n] {
                Node::Compute(c) => {
                    let name = c.name.clone();
                    cont = match self.row_nest(n, &c.body) {
                        // A node of a stage's row ports (rows.rs): the statement holding
                        // its row loop (moved outermost where the ports need it), its
                        // states recorded.
                        Some((i, nest)) => {
                            let cont = self.block(&c.body[i + 1..], cont, &name);
                            let a = self.states.len();
                            let cont = self.stmt(&nest, cont, &name);
                            self.row_nests.insert(n, (a, self.states.len()));
                            self.block(&c.body[..i], cont, &name)
                        }
                        None => self.block(&c.body, cont, &name),
                    };
                }
                Node::Call(call) => cont = self.call(call, cont),
                Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
            }
        }
        if frame {
            self.states[0].comment = "reset: the constants' statements follow".into();
            self.stage_control();
        } else {
            self.states[0].wait = Some("start".into());
        }
        self.states[0].edge = cont;
    }

    fn state(&mut self, comment: String, acts: Vec<String>, edge: Edge) -> usize {
        self.states.push(State {
            comment,
            acts,
            edge,
            wait: None,
        });
        self.states.len() - 1
    }

    fn state_cond(&self) -> (usize, u32) {
        (
            self.states.len(),
            crate::module::addr_width(self.states.len().max(2)),
        )
    }

    /// The edge entering `b`, which continues with `cont`.
    pub fn block(&mut self, b: &[Stmt], mut cont: Edge, node: &str) -> Edge {
        for s in b.iter().rev() {
            cont = self.stmt(s, cont, node);
        }
        cont
    }

    fn stmt(&mut self, s: &Stmt, cont: Edge, node: &str) -> Edge {
        let inst = self.inst;
        match s {
            Stmt::Assign { local, value, .. } => {
                let lt = inst.local(*local);
                let (Some(vty), Some(v)) = (inst.expr_type(*value).copied(), self.expr(*value))
                else {
                    return cont;
                };
                let c = self.convert(&v, &vty, &lt.ty);
                let reg = self.local_target(local.0);
                let st = self.state(
                    format!("{node}: {} = ...", lt.name),
                    vec![format!("{reg} <= {c};")],
                    cont,
                );
                Edge::Goto(Vec::new(), st)
            }
            Stmt::Store { access, value, .. } => {
                let tm = inst.tensor(access.tensor);
                let (Some(vty), Some(v)) = (inst.expr_type(*value).copied(), self.expr(*value))
                else {
                    return cont;
                };
                if matches!(tm.kind, TensorKind::Const(_)) {
                    self.error(
                        tm.span,
                        format!("a store into the constant `{}`", tm.name),
                        "copy it first",
                    );
                    return cont;
                }
                let c = self.convert(&v, &vty, &tm.elem);
                let st = self.state(format!("{node}: {}[...] = ...", tm.name), Vec::new(), cont);
                let (_, sw) = self.state_cond();
                let we = self.fresh("we");
                let _ = writeln!(self.decls, "    wire {we} = (state == {sw}'d{st});");
                if let Some(src) = self.store_src(access, we, c) {
                    self.writes.entry(access.tensor).or_default().push(src);
                }
                Edge::Goto(Vec::new(), st)
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                let Some(c) = self.expr(*cond) else {
                    return cont;
                };
                let t = self.block(then_block, cont.clone(), node);
                let e = self.block(else_block, cont, node);
                let st = self.state(
                    format!("{node}: if"),
                    Vec::new(),
                    Edge::Branch(c, Box::new(t), Box::new(e)),
                );
                Edge::Goto(Vec::new(), st)
            }
            Stmt::For(l) => self.for_loop(l, cont, node),
            Stmt::Call(call) => self.call(call, cont),
            Stmt::Fail { message, .. } => {
                // kiln's own run reported this failure, so the testbench never gets here;
                // the design stops (it never reaches `done`) as the engines stop.
                let st = self.state(
                    format!("{node}: fail: {}", message.replace('\n', " ")),
                    Vec::new(),
                    Edge::Goto(Vec::new(), 0),
                );
                self.states[st].edge = Edge::Goto(Vec::new(), st);
                Edge::Goto(Vec::new(), st)
            }
        }
    }

    fn for_loop(&mut self, l: &Loop, cont: Edge, node: &str) -> Edge {
        if l.body.is_empty() || l.step == 0 {
            return cont;
        }
        if self.counters.get(l.var.index()).is_some_and(|c| c.too_wide) {
            let var = self.inst.loop_vars[l.var.index()].name.clone();
            self.error(
                l.span,
                format!("the loop counter `{var}` takes values beyond 2^30 in magnitude"),
                "the RTL's counters and addresses are 32-bit: loop over a smaller range and offset the index",
            );
            return cont;
        }
        let reg = self.loop_reg(l.var);
        self.loop_regs.insert(reg.clone());
        let li = self.loops.len();
        self.loops.push(LoopInfo {
            reg: reg.clone(),
            step: l.step,
            entry: None,
        });
        let hi = self.affine(&l.hi);
        let lo = self.affine(&l.lo);
        let cmp = if l.step > 0 { "<" } else { ">" };
        let more = self.fresh("more");
        let _ = writeln!(
            self.decls,
            "    wire {more} = ({} + {}) {cmp} {hi};",
            self.counter_value(l.var),
            lit32(l.step)
        );
        let latch = Edge::Branch(more, Box::new(Edge::Continue(li)), Box::new(cont.clone()));
        let var = self.inst.loop_vars[l.var.index()].name.clone();
        let entry = match l.directives.pipeline_ii.filter(|_| self.pipeline) {
            Some(ii) => match self.chain_check(l) {
                // One statement per cycle reads all of a statement's operands in its
                // cycle (combinational memories): faster when the iteration has fewer
                // statements than the cycles its parameters' ports need.
                Ok(plan) if plan.ii > plan.statements => {
                    self.notes.push(format!(
                        "`{}` loop `{var}` (pipeline II={ii}): one statement per cycle: its {} statements take fewer cycles than the {} a chained iteration needs ({})",
                        self.inst.kernel, plan.statements, plan.ii, plan.why
                    ));
                    self.block(&l.body, latch, node)
                }
                Ok(plan) => {
                    let n = plan.statements;
                    if plan.ii == 1 {
                        self.notes.push(format!(
                            "`{}` loop `{var}` (pipeline II={ii}): one iteration per cycle ({n} statements chained)",
                            self.inst.kernel
                        ));
                    } else {
                        self.notes.push(format!(
                            "`{}` loop `{var}` (pipeline II={ii}): one iteration every {} cycles ({n} statements chained; {})",
                            self.inst.kernel, plan.ii, plan.why
                        ));
                    }
                    let st = self.chained_state(
                        l,
                        format!("{node}: for {var}: one iteration"),
                        latch,
                        &plan,
                    );
                    Edge::Goto(Vec::new(), st)
                }
                Err(why) => {
                    self.notes.push(format!(
                        "`{}` loop `{var}` (pipeline II={ii}): one statement per cycle: {why}",
                        self.inst.kernel
                    ));
                    self.block(&l.body, latch, node)
                }
            },
            None => self.block(&l.body, latch, node),
        };
        self.loops[li].entry = Some(entry.clone());
        let constant = match (l.lo.as_constant(), l.hi.as_constant()) {
            (Some(a), Some(b)) => Some(if l.step > 0 { a < b } else { a > b }),
            _ => None,
        };
        let init = format!("{reg} <= {lo};");
        match constant {
            Some(false) => cont,
            Some(true) => match entry {
                Edge::Goto(mut acts, to) => {
                    acts.insert(0, init);
                    Edge::Goto(acts, to)
                }
                other => {
                    let st = self.state(
                        format!("{node}: for {}", self.inst.loop_vars[l.var.index()].name),
                        vec![init],
                        other,
                    );
                    Edge::Goto(Vec::new(), st)
                }
            },
            None => {
                let c = self.fresh("nonempty");
                let _ = writeln!(self.decls, "    wire {c} = {lo} {cmp} {hi};");
                let st = self.state(
                    format!(
                        "{node}: for {} (bounds from outer loops)",
                        self.inst.loop_vars[l.var.index()].name
                    ),
                    vec![init],
                    Edge::Branch(c, Box::new(entry), Box::new(cont)),
                );
                Edge::Goto(Vec::new(), st)
            }
        }
    }

    /// A kernel call: an instance of the callee's module, a state that starts it and one
    /// that waits for it.
    fn call(&mut self, call: &Call, cont: Edge) -> Edge {
        let Some(iface) = self.ifaces.get(&call.callee).cloned() else {
            return cont;
        };
        let k = self.calls;
        self.calls += 1;
        self.call_insts.push((k, iface.module.clone()));
        let u = format!("c{k}");
        // The edge entering the call: two states of the FSM, or none in a frame
        // pipeline, whose stages start by their own conditions (frame.rs).
        let enter = if self.is_frame() {
            self.begin_stage(k);
            let _ = writeln!(self.decls, "    wire {u}_done;");
            cont
        } else {
            let wait = self.state(format!("wait for {}", iface.module), Vec::new(), cont);
            self.states[wait].wait = Some(format!("{u}_done"));
            let go = self.state(
                format!("start {}", iface.module),
                Vec::new(),
                Edge::Goto(Vec::new(), wait),
            );
            let (_, sw) = self.state_cond();
            let _ = writeln!(
                self.decls,
                "    wire {u}_start = (state == {sw}'d{go});\n    wire {u}_done;"
            );
            Edge::Goto(Vec::new(), go)
        };
        let mut conns = vec![
            ".clk(clk)".to_string(),
            ".rst(rst)".to_string(),
            format!(".start({u}_start)"),
            format!(".done({u}_done)"),
        ];
        let callee = self.m.instance(call.callee);
        for p in &iface.params {
            let pos = callee.inputs.iter().position(|&t| t == p.tensor);
            let t = match pos {
                Some(i) => call.args.get(i).copied(),
                None => callee
                    .outputs
                    .iter()
                    .position(|&t| t == p.tensor)
                    .and_then(|j| call.results.get(j).copied()),
            };
            let Some(t) = t else { continue };
            let tm = self.inst.tensor(t);
            if tm.elem != p.elem || tm.len() != p.len() {
                let span = call.span;
                self.error(
                    span,
                    format!(
                        "the call passes `{}` ({}{:?}) where `{}` takes {}{:?}",
                        tm.name, tm.elem, tm.shape, callee.kernel, p.elem, p.shape
                    ),
                    "the RTL back end connects tensors of one type and size",
                );
                continue;
            }
            if p.output
                && matches!(self.storage.get(&t), Some(Storage::Port { index }) if !self.params[*index].output)
            {
                self.error(
                    call.span,
                    format!("the call writes into the argument `{}`", tm.name),
                    "write into a new tensor instead",
                );
                continue;
            }
            let (aw, dw) = (p.aw(), p.dw());
            for j in 0..p.reads {
                let ra = format!("{u}_{}_ra{j}", p.port);
                let rd = format!("{u}_{}_rd{j}", p.port);
                let _ = writeln!(
                    self.decls,
                    "    wire [{}:0] {ra};\n    wire [{}:0] {rd};",
                    aw - 1,
                    dw - 1
                );
                let early = p.early_reads.get(j).copied().unwrap_or(false);
                if let Some(data) = self.read_at(t, &ra, early) {
                    let _ = writeln!(self.assigns, "    assign {rd} = {data};");
                }
                conns.push(format!(".{}_ra{j}({ra})", p.port));
                conns.push(format!(".{}_rd{j}({rd})", p.port));
            }
            if p.output {
                let banks = p.bank.as_ref().map_or(1, |b| b.count());
                for k in 0..banks {
                    let sfx = if p.bank.is_some() {
                        k.to_string()
                    } else {
                        String::new()
                    };
                    let (wa, wd, we) = (
                        format!("{u}_{}_wa{sfx}", p.port),
                        format!("{u}_{}_wd{sfx}", p.port),
                        format!("{u}_{}_we{sfx}", p.port),
                    );
                    let waw = p.bank.as_ref().map_or(aw, |b| b.off_width());
                    let _ = writeln!(
                        self.decls,
                        "    wire [{}:0] {wa};\n    wire [{}:0] {wd};\n    wire {we};",
                        waw - 1,
                        dw - 1
                    );
                    conns.push(format!(".{}_wa{sfx}({wa})", p.port));
                    conns.push(format!(".{}_wd{sfx}({wd})", p.port));
                    conns.push(format!(".{}_we{sfx}({we})", p.port));
                    if let (Some(Storage::Port { index }), Some(img)) =
                        (self.storage.get(&t), self.frame_image())
                    {
                        self.params[*index].write_image = Some(img);
                    }
                    let src = self.callee_write(t, p, k, we, wa, wd, call.span);
                    if let Some((src, multi)) = src {
                        let src = self.frame_write(t, src);
                        if multi {
                            self.multi_writes.entry(t).or_default().push(src);
                        } else {
                            self.writes.entry(t).or_default().push(src);
                        }
                    }
                }
            }
        }
        self.connect_rows(call, &iface, k, &mut conns);
        let _ = writeln!(
            self.instances,
            "    {} u{k} (\n        {}\n    );",
            iface.module,
            conns.join(",\n        ")
        );
        self.end_stage(k, &call.args, &call.results);
        enter
    }
}
