//! The automatic FPGA schedule: directives for kernels the user gave no `fpga` schedule.
//! A network top's stages are allocated instead (allocate/, which reuses the pieces
//! below); this file schedules a kernel that is not a network.
//!
//! In each loop nest, the loop to pipeline (II=1) is the deepest one whose inner loops
//! have at most `limit` iterations in all (Vitis unrolls the loops inside a pipelined
//! loop); every on-chip array those inner loops index is partitioned cyclically along
//! each such dimension, by the number of elements one pipelined iteration touches there
//! (completely when that is the whole dimension), so the copies read in parallel. A
//! loop-carried f32 sum cannot start every cycle: its loop gets II=4 (an f32 add). The
//! loops of a perfect nest around the pipelined loop are flattened into it (one pipeline
//! fill for the whole nest). The limit starts at 256 and halves until the estimate
//! (estimate/) fits the device. Before pipelining, a reduction loop longer than the
//! limit is split (tile.rs) so a block of it can be unrolled, and each instance is tried
//! with and without on-chip copies of the input ports its reductions reuse (tile.rs
//! `buffer`): it keeps the faster estimate. Before all this, `kiln hls` and `kiln report`
//! fuse the network's consecutive kernels (fuse.rs).
//!
//! Before: `for k: for i: for j: for c in 0..8: for u in 0..3: for v in 0..3: acc += ...`.
//! After: `for j: [pipeline II=1, flatten]` (72 inner iterations unrolled; `i`, `j` one pipeline) and
//! `w [partition cyclic 8 dim 2, complete dim 3, complete dim 4]`.

use crate::estimate::{estimate, Device};
use crate::ir::{
    Block, Expr, ExprId, Instance, Loop, LoopVarId, Module, Node, Partition, PartitionKind, Stmt,
    TensorId, TensorKind,
};
use std::collections::HashMap;

/// The `autoschedule` pass: [`auto_fpga`] for the context's device. Without a resource
/// table for the part there is nothing to fit the schedule to: an error (E0516) whose
/// help names the known parts and `--no-auto-schedule`.
pub fn run(module: &mut Module, ctx: &mut crate::manager::PassContext) {
    let Some(dev) = ctx.device else {
        ctx.diags.push(crate::manager::unknown_part(&ctx.part));
        return;
    };
    // A network of kernels: its stages' parallelism is allocated to the device's budget
    // (allocate/).
    if let Some(remarks) = crate::allocate::allocate(module, dev, ctx.clock_ns, ctx.options.alloc) {
        ctx.remarks.extend(remarks);
        return;
    }
    let limit = auto_fpga(module, dev);
    if limit > 0 {
        ctx.remarks.push(format!(
            "automatic fpga schedule for {}: inner loops of up to {limit} iterations unrolled",
            dev.part
        ));
    }
}

/// Schedules the instances of `module` that have no directive yet; returns the unroll
/// limit chosen (0 when nothing was scheduled).
pub fn auto_fpga(module: &mut Module, dev: &Device) -> u64 {
    let untouched: Vec<bool> = module
        .instances
        .iter()
        .map(|i| !has_directives(i))
        .collect();
    if !untouched.iter().any(|&u| u) {
        return 0;
    }
    let original = module.clone();
    let mut limit = 256;
    let budget = dev.bram18 as u64 * 18 * 1024 / 4;
    loop {
        // Each instance with and without on-chip copies of its inputs; it keeps the
        // variant the estimate says is faster.
        let variant = |buffered: bool| {
            let mut m = original.clone();
            for (inst, &todo) in m.instances.iter_mut().zip(&untouched) {
                if todo {
                    split_reductions(inst, limit);
                    if buffered {
                        buffer_inputs(inst, budget);
                    }
                    schedule_instance(inst, limit);
                }
            }
            m
        };
        let (plain, buffered) = (variant(false), variant(true));
        let cycles = |m: &Module| -> HashMap<crate::ir::InstanceId, u64> {
            estimate(m)
                .into_iter()
                .map(|(id, e)| (id, e.cycles))
                .collect()
        };
        let (cp, cb) = (cycles(&plain), cycles(&buffered));
        *module = plain;
        for (i, inst) in buffered.instances.into_iter().enumerate() {
            let id = crate::ir::InstanceId(i as u32);
            if cb.get(&id) < cp.get(&id) {
                module.instances[i] = inst;
            }
        }
        let fits = module
            .entry
            .and_then(|e| estimate(module).into_iter().find(|(id, _)| *id == e))
            .map(|(_, est)| {
                est.res.dsp <= dev.dsp as f64
                    && est.res.bram18 <= dev.bram18 as u64
                    && est.res.lut <= dev.lut as u64
            })
            .unwrap_or(true);
        if fits || limit == 1 {
            return limit;
        }
        limit /= 2;
    }
}

/// Splits every innermost reduction loop longer than `limit` by the largest power of two
/// that divides it and is at most `limit`, so that the outer loop can be pipelined with
/// the inner one unrolled: the reduction's parallelism (tile.rs).
fn split_reductions(inst: &mut Instance, limit: u64) {
    let mut names = Vec::new();
    for (_, c) in inst.computes() {
        if crate::ir::has_call(&c.body) {
            continue;
        }
        crate::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::For(l) = s {
                let innermost = !l.body.iter().any(|s| matches!(s, Stmt::For(_)));
                let n = trips(l).unwrap_or(0);
                if innermost && n > limit && l.step == 1 && updates_itself(inst, &l.body) {
                    names.push((l.var, n));
                }
            }
        });
    }
    for (var, n) in names {
        let f = (1..=limit.min(n / 2))
            .rev()
            .find(|f| f.is_power_of_two() && n % f == 0)
            .unwrap_or(1);
        if f < 2 {
            continue;
        }
        // A unique name for the loop while it is split, then the usual `_o`/`_i` names.
        let name = inst.loop_vars[var.index()].name.clone();
        let tmp = format!("\u{1}split{}", var.0);
        inst.loop_vars[var.index()].name = tmp.clone();
        let outer = format!("{name}_o");
        let inner = format!("{name}_i");
        let r = crate::tile::for_each_body(inst, &mut |i, b| {
            crate::tile::split(i, b, &tmp, f as u32, &outer, &inner)
        });
        if r.is_err() {
            inst.loop_vars[var.index()].name = name;
        }
    }
}

/// Whether the block assigns a local from an expression that reads it (a reduction).
pub(crate) fn updates_itself(inst: &Instance, b: &Block) -> bool {
    b.iter().any(|s| match s {
        Stmt::Assign { local, value, .. } => {
            let mut found = false;
            inst.for_each_subexpr(*value, &mut |x| {
                found |= matches!(x, Expr::Local(y) if y == local)
            });
            found
        }
        _ => false,
    })
}

/// Copies every input port a node reads inside a reduction, more than twice per element,
/// into an on-chip buffer at the start of the node (tile.rs `buffer`) while their bits
/// fit `budget`: a port delivers one element per cycle, a partitioned buffer as many as
/// it has banks.
pub(crate) fn buffer_inputs(inst: &mut Instance, budget: u64) {
    let mut used = 0u64;
    let nodes: Vec<crate::ir::NodeId> = inst.graph.node_indices().collect();
    for n in nodes {
        let Node::Compute(c) = &inst.graph[n] else {
            continue;
        };
        if crate::ir::has_call(&c.body) {
            continue;
        }
        // Inputs read inside a reduction loop (the reads that get unrolled), and read more
        // times than they have elements (a copy read once gains nothing).
        let mut in_reduction: Vec<TensorId> = Vec::new();
        let mut reads: HashMap<TensorId, u64> = HashMap::new();
        crate::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, loops| {
            let times = loops
                .iter()
                .map(|l| trips(l).unwrap_or(1))
                .fold(1u64, u64::saturating_mul);
            let reduction = loops.iter().any(|l| updates_itself(inst, &l.body));
            for r in crate::ir::stmt_roots(s) {
                let mut loads = Vec::new();
                inst.loads_in(r, &mut loads);
                for a in loads {
                    let input = matches!(inst.tensor(a.tensor).kind, TensorKind::Input(_));
                    if !input || c.writes.contains(&a.tensor) {
                        continue;
                    }
                    *reads.entry(a.tensor).or_insert(0) += times;
                    if reduction && !in_reduction.contains(&a.tensor) {
                        in_reduction.push(a.tensor);
                    }
                }
            }
        });
        let wanted: Vec<TensorId> = in_reduction
            .into_iter()
            .filter(|t| reads[t] > 2 * inst.tensor(*t).len() as u64)
            .collect();
        for x in wanted {
            let bits = inst.tensor(x).len() as u64 * inst.tensor(x).elem.storage_bits() as u64;
            if used + bits > budget {
                continue;
            }
            let Node::Compute(c) = &mut inst.graph[n] else {
                continue;
            };
            let mut body = c.body.clone();
            let made = crate::tile::buffer(inst, &mut body, x, None);
            if let (Ok(bufs), Node::Compute(c)) = (made, &mut inst.graph[n]) {
                c.body = body;
                for b in bufs {
                    c.reads.push(b);
                    c.writes.push(b);
                }
                used += bits;
            }
        }
    }
}

pub(crate) fn has_directives(inst: &Instance) -> bool {
    fn block(b: &Block) -> bool {
        b.iter().any(|s| match s {
            Stmt::For(l) => l.directives != Default::default() || block(&l.body),
            Stmt::If {
                then_block,
                else_block,
                ..
            } => block(then_block) || block(else_block),
            _ => false,
        })
    }
    inst.tensors.iter().any(|t| !t.partition.is_empty())
        || inst.graph.node_weights().any(|n| match n {
            Node::Compute(c) => block(&c.body),
            _ => false,
        })
}

/// The trip count when the bounds differ by a constant (constant bounds, or the inner
/// loop of a split).
pub(crate) fn trips(l: &Loop) -> Option<u64> {
    let span = if l.step > 0 {
        l.hi.add_scaled(&l.lo, -1)
    } else {
        l.lo.add_scaled(&l.hi, -1)
    }
    .as_constant()?;
    Some((span.max(0) as u64).div_ceil(l.step.unsigned_abs()))
}

/// Iterations of all loops inside a block (unrolled), or None when a bound is not constant.
pub(crate) fn inner_iterations(b: &Block) -> Option<u64> {
    let mut total = 1u64;
    for s in b {
        match s {
            Stmt::For(l) => {
                let t = trips(l)?;
                total = total
                    .checked_mul(t.max(1))?
                    .checked_mul(inner_iterations(&l.body)?)?;
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                total = total.checked_mul(
                    inner_iterations(then_block)?.max(inner_iterations(else_block)?),
                )?;
            }
            _ => {}
        }
    }
    Some(total)
}

fn schedule_instance(inst: &mut Instance, limit: u64) {
    let mut partitions: HashMap<(TensorId, usize), u64> = HashMap::new();
    let inst_ro = inst.clone();
    for n in inst.graph.node_weights_mut() {
        // A loop that calls a kernel runs the callee's function each time: left as written.
        if let Node::Compute(c) = n {
            if !crate::ir::has_call(&c.body) {
                choose(&inst_ro, &mut c.body, limit, &mut partitions);
            }
        }
    }
    for ((t, dim), factor) in partitions {
        let tm = &mut inst.tensors[t.index()];
        let n = tm.shape[dim] as u64;
        let part = if factor >= n {
            Partition {
                dim,
                kind: PartitionKind::Complete,
                factor: 0,
            }
        } else {
            Partition {
                dim,
                kind: PartitionKind::Cyclic,
                factor: factor as u32,
            }
        };
        tm.partition.push(part);
    }
    inst.tensors
        .iter_mut()
        .for_each(|t| t.partition.sort_by_key(|p| p.dim));
}

/// Pipelines, in each loop nest, the outermost loop whose inner loops have at most
/// `limit` iterations in all; the loops of a perfect nest around it are flattened into
/// the pipeline. Returns whether `b` is one loop pipelined or flattened into a pipeline
/// (so that the loop around `b` may flatten too).
pub(crate) fn choose(
    inst: &Instance,
    b: &mut Block,
    limit: u64,
    parts: &mut HashMap<(TensorId, usize), u64>,
) -> bool {
    let perfect = b.len() == 1;
    let mut flattenable = false;
    for s in b.iter_mut() {
        match s {
            Stmt::For(l) => match inner_iterations(&l.body) {
                Some(n) if n <= limit => {
                    l.directives.pipeline_ii = Some(if float_recurrence(inst, &l.body) {
                        4
                    } else {
                        1
                    });
                    partition_for(inst, &l.body, &mut HashMap::new(), parts);
                    flattenable = perfect && trips(l).is_some();
                }
                _ => {
                    if choose(inst, &mut l.body, limit, parts) {
                        // The loop it holds runs as one pipeline: merge it into this one.
                        if let [Stmt::For(i)] = l.body.as_mut_slice() {
                            i.directives.flatten = true;
                        }
                        flattenable = perfect && trips(l).is_some();
                    }
                }
            },
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                choose(inst, then_block, limit, parts);
                choose(inst, else_block, limit, parts);
            }
            _ => {}
        }
    }
    flattenable
}

/// Whether the block updates a float (f32 or f64) local from itself (a sum that cannot start
/// every cycle).
fn float_recurrence(inst: &Instance, b: &Block) -> bool {
    fn reads_local(inst: &Instance, e: ExprId, l: crate::ir::LocalId) -> bool {
        let mut found = false;
        inst.for_each_subexpr(e, &mut |x| found |= matches!(x, Expr::Local(y) if *y == l));
        found
    }
    b.iter().any(|s| match s {
        Stmt::Assign { local, value, .. } => {
            inst.local(*local).ty.is_float() && reads_local(inst, *value, *local)
        }
        Stmt::For(l) => float_recurrence(inst, &l.body),
        Stmt::If {
            then_block,
            else_block,
            ..
        } => float_recurrence(inst, then_block) || float_recurrence(inst, else_block),
        _ => false,
    })
}

/// Records, per on-chip array and dimension, how many elements the unrolled loops of `b`
/// touch in one pipelined iteration (`trips` holds the trip counts of the loops entered).
pub(crate) fn partition_for(
    inst: &Instance,
    b: &Block,
    trips_of: &mut HashMap<LoopVarId, u64>,
    parts: &mut HashMap<(TensorId, usize), u64>,
) {
    fn visit_access(
        inst: &Instance,
        a: &crate::ir::Access,
        trips_of: &HashMap<LoopVarId, u64>,
        parts: &mut HashMap<(TensorId, usize), u64>,
    ) {
        let tm = inst.tensor(a.tensor);
        let on_chip = matches!(tm.kind, TensorKind::Const(_))
            || (matches!(tm.kind, TensorKind::Temp) && !inst.outputs.contains(&a.tensor));
        if !on_chip {
            return;
        }
        for (d, idx) in a.index.iter().enumerate() {
            let span: u64 = idx
                .terms
                .iter()
                .filter_map(|(v, c)| {
                    trips_of
                        .get(v)
                        .map(|t| t.saturating_sub(1) * c.unsigned_abs())
                })
                .sum::<u64>()
                + 1;
            if span > 2 {
                let e = parts.entry((a.tensor, d)).or_insert(0);
                *e = (*e).max(span);
            }
        }
    }
    for s in b {
        let mut accesses = Vec::new();
        match s {
            Stmt::For(l) => {
                trips_of.insert(l.var, trips(l).unwrap_or(1));
                partition_for(inst, &l.body, trips_of, parts);
                trips_of.remove(&l.var);
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                inst.loads_in(*cond, &mut accesses);
                partition_for(inst, then_block, trips_of, parts);
                partition_for(inst, else_block, trips_of, parts);
            }
            Stmt::Fail { .. } | Stmt::Call(_) => {}
            Stmt::Assign { value, .. } => inst.loads_in(*value, &mut accesses),
            Stmt::Store { access, value, .. } => {
                accesses.push(access.clone());
                inst.loads_in(*value, &mut accesses);
            }
        }
        for a in &accesses {
            visit_access(inst, a, trips_of, parts);
        }
    }
}
