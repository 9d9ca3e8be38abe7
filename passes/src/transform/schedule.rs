//! Applies the checked `schedule` items of a program to the typed IR of one target, in
//! the order they are written.
//!
//! `split`, `tile` and `reorder` transform the loops (tile.rs, with its legality checks;
//! a refusal is an error, E0515) for both targets. On the CPU, `unroll` is an
//! unroll-and-jam of the IR (register blocking); on the FPGA it is a directive, like
//! `pipeline`, and `partition` splits arrays into banks: the HLS back end writes them as
//! pragmas (and checks them against each other: E0514) and `kiln report` costs them.
//! Primitives a target does not honour are a warning (W0803), never silence: the JIT
//! chooses its own SIMD loops, a CPU has no pipelines or banks, and the HLS back end
//! pipelines and unrolls rather than running threads or SIMD lanes. `parallel` on the CPU
//! is checked by the driver against the JIT's own analysis (src/lib.rs).
//!
//! Before: `schedule dot for fpga: unroll(k, 4)` and the IR loop `for k in 0..8: ...`.
//! After: `for k in 0..8: [unroll 4] ...` in every instance of `dot`.

use crate::diag::{codes, Diagnostic};
use crate::ir::{
    Block, Instance, KernelSchedule, LoopDirectives, Module, Node, Partition, PartitionKind, Stmt,
};
use crate::manager::PassContext;
use crate::tile::{self, TileError};
use kiln_lang::hir::{self, Named, PartitionSpec, Prim, Target};

/// The program's schedule items as the module carries them (ir.rs [`Module::schedules`]).
pub fn written(program: &hir::Program) -> Vec<KernelSchedule> {
    program
        .schedules
        .iter()
        .map(|s| KernelSchedule {
            kernel: program.kernels[s.kernel].name.clone(),
            target: s.target,
            prims: s.prims.clone(),
            span: s.span,
        })
        .collect()
}

/// The `schedule` pass: the written items of the pipeline's target.
pub fn run(module: &mut Module, ctx: &mut PassContext) {
    if let Some(target) = ctx.target {
        let diags = apply(module, target);
        ctx.diags.extend(diags);
    }
}

/// Applies the schedules for `target`; returns warnings and errors.
pub fn apply(module: &mut Module, target: Target) -> Vec<Diagnostic> {
    let schedules = std::mem::take(&mut module.schedules);
    let mut diags = Vec::new();
    apply_items(module, &schedules, target, &mut diags);
    module.schedules = schedules;
    diags
}

/// Applies `schedules` in order; stops at the first error.
fn apply_items(
    module: &mut Module,
    schedules: &[KernelSchedule],
    target: Target,
    diags: &mut Vec<Diagnostic>,
) {
    for s in schedules {
        let kernel = &s.kernel;
        if s.target != target {
            continue;
        }
        for p in &s.prims {
            let not_honoured = match (target, p) {
                (Target::Fpga, Prim::Parallel { .. } | Prim::Vectorize { .. }) => Some(
                    "the FPGA back end pipelines and unrolls loops; it has no threads or SIMD lanes",
                ),
                (Target::Cpu, Prim::Vectorize { .. }) => Some(
                    "the JIT chooses its own SIMD loops (loops whose iterations are independent, contiguous in memory and of SIMD types)",
                ),
                (Target::Cpu, Prim::Pipeline { .. } | Prim::Partition { .. }) => Some(
                    "pipelines and array banks are hardware directives; the CPU target has none",
                ),
                (Target::Cpu, Prim::Fuse { .. }) => Some(
                    "the JIT runs nested loops as they are (fusing them would change no cost it models); on the fpga target `fuse` flattens the pair",
                ),
                (Target::Cpu, Prim::Stream { .. }) => Some(
                    "the JIT runs the calls of a network one after the other through memory; FIFOs are for the fpga target",
                ),
                _ => None,
            };
            if let Some(why) = not_honoured {
                diags.push(
                    Diagnostic::warning(
                        codes::NOT_HONOURED,
                        format!(
                            "`{}` is not honoured on the {} target",
                            p.name(),
                            target_name(target)
                        ),
                    )
                    .at(p.span())
                    .note(why.to_string()),
                );
                continue;
            }
            let mut found = false;
            for inst in module.instances.iter_mut().filter(|i| i.kernel == *kernel) {
                match apply_prim(inst, p, target, diags) {
                    Ok(n) => found |= n > 0,
                    Err(e) => {
                        diags.push(
                            Diagnostic::error(codes::BAD_SCHEDULE, e.message)
                                .at(p.span())
                                .help(e.help),
                        );
                        return;
                    }
                }
            }
            if !found {
                diags.push(
                    Diagnostic::warning(
                        codes::NOT_HONOURED,
                        format!(
                            "`{}` names nothing in the compiled `{kernel}` (not called, or its loop was folded)",
                            p.name()
                        ),
                    )
                    .at(p.span()),
                );
            }
        }
    }
}

/// Applies one primitive to one instance; how many loops or arrays it changed.
fn apply_prim(
    inst: &mut Instance,
    p: &Prim,
    target: Target,
    diags: &mut Vec<Diagnostic>,
) -> Result<usize, TileError> {
    let names: Vec<String> = inst.loop_vars.iter().map(|v| v.name.clone()).collect();
    let directives = |inst: &mut Instance, var: &str, f: &dyn Fn(&mut LoopDirectives)| {
        let mut found = 0;
        for n in inst.graph.node_weights_mut() {
            if let Node::Compute(c) = n {
                found += set_loops(&mut c.body, &names, var, &mut |d| f(d)) as usize;
            }
        }
        found
    };
    // A loop that calls a kernel runs the callee's function each iteration: nothing
    // reorders, splits, pipelines or unrolls it.
    let loop_vars: Vec<&Named> = match p {
        Prim::Pipeline { var, .. }
        | Prim::Unroll { var, .. }
        | Prim::Split { var, .. }
        | Prim::Parallel { var } => vec![var],
        Prim::Tile { vars, .. } => vars.iter().collect(),
        Prim::Reorder { vars, .. } => vars.iter().collect(),
        Prim::Fuse { outer, inner } => vec![outer, inner],
        Prim::Buffer { at: Some(v), .. } => vec![v],
        _ => Vec::new(),
    };
    for v in loop_vars {
        if loop_calls(inst, &v.name) {
            return Err(TileError {
                message: format!("loop `{}` calls a kernel, so `{}` cannot apply to it", v.name, p.name()),
                help: "schedule the called kernel's own loops (`schedule KERNEL for ...`); the loop around the call stays as written".to_string(),
            });
        }
    }
    Ok(match p {
        Prim::Pipeline { var, ii } => directives(inst, &var.name, &|d| d.pipeline_ii = Some(*ii)),
        Prim::Unroll { var, factor } if target == Target::Fpga => {
            directives(inst, &var.name, &|d| d.unroll = Some(*factor))
        }
        Prim::Unroll { var, factor } => tile::for_each_body(inst, &mut |inst, b| {
            tile::unroll_jam(inst, b, &var.name, *factor)
        })?,
        Prim::Split {
            var,
            factor,
            outer,
            inner,
        } => tile::for_each_body(inst, &mut |inst, b| {
            tile::split(inst, b, &var.name, *factor, outer, inner)
        })?,
        Prim::Tile { vars, factors } => tile_pair(inst, vars, factors)?,
        Prim::Reorder { vars, .. } => {
            let order: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
            tile::for_each_body(inst, &mut |inst, b| tile::reorder(inst, b, &order))?
        }
        Prim::Partition {
            array,
            dim,
            kind,
            factor,
        } => partition(inst, array, *dim, *kind, *factor, diags),
        Prim::Fuse { outer, inner } => {
            let mut found = 0;
            for n in inst.graph.node_weights_mut() {
                if let Node::Compute(c) = n {
                    found += flatten_pairs(&mut c.body, &names, &outer.name, &inner.name)?;
                }
            }
            found
        }
        Prim::Stream { array, depth } => stream(inst, array, *depth)?,
        Prim::Buffer { array, at } => buffer(inst, array, at.as_ref())?,
        // The JIT runs a statement's outermost loop on threads when its iterations are
        // independent: the driver checks `parallel` against the JIT's analysis.
        Prim::Parallel { var } => {
            let mut found = 0;
            for n in inst.graph.node_weights_mut() {
                if let Node::Compute(c) = n {
                    found += set_loops(&mut c.body, &names, &var.name, &mut |_| {}) as usize;
                }
            }
            found
        }
        Prim::Vectorize { .. } => 0,
    })
}

/// Whether a loop named `var` holds a kernel call.
fn loop_calls(inst: &Instance, var: &str) -> bool {
    let mut found = false;
    for (_, c) in inst.computes() {
        crate::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::For(l) = s {
                found |= inst.loop_vars[l.var.index()].name == var && crate::ir::has_call(&l.body);
            }
        });
    }
    found
}

/// `tile(i, j, fi, fj)`: both loops split exactly, then the four loops reordered
/// `i_o, j_o, i_i, j_i`.
fn tile_pair(
    inst: &mut Instance,
    vars: &[Named; 2],
    factors: &[u32; 2],
) -> Result<usize, TileError> {
    let [i, j] = [&vars[0].name, &vars[1].name];
    let names = [
        format!("{i}_o"),
        format!("{j}_o"),
        format!("{i}_i"),
        format!("{j}_i"),
    ];
    let n = tile::for_each_body(inst, &mut |inst, b| {
        let mut n = 0;
        for (v, f) in [(i, factors[0]), (j, factors[1])] {
            n += tile::split_exact(inst, b, v, f, &format!("{v}_o"), &format!("{v}_i"))?;
        }
        if n > 0 {
            tile::reorder(inst, b, &names)?;
        }
        Ok(n)
    })?;
    Ok(n)
}

/// `partition(x, dim=, kind=, factor=)`: the banks of every tensor `x` designates.
fn partition(
    inst: &mut Instance,
    array: &Named,
    dim: usize,
    kind: PartitionSpec,
    factor: u32,
    diags: &mut Vec<Diagnostic>,
) -> usize {
    let mut found = 0;
    for t in inst.tensors.iter_mut().filter(|t| t.is_named(&array.name)) {
        found += 1;
        if dim >= t.shape.len() {
            diags.push(
                Diagnostic::error(
                    codes::BAD_SCHEDULE,
                    format!(
                        "`{}` has {} dimension(s); there is no dimension {}",
                        array.name,
                        t.shape.len(),
                        dim + 1
                    ),
                )
                .at(array.span),
            );
            continue;
        }
        let part = Partition {
            dim,
            kind: match kind {
                PartitionSpec::Cyclic => PartitionKind::Cyclic,
                PartitionSpec::Block => PartitionKind::Block,
                PartitionSpec::Complete => PartitionKind::Complete,
            },
            factor,
        };
        t.partition.retain(|q| q.dim != part.dim);
        t.partition.push(part);
    }
    found
}

/// `stream(t, depth=)`: the FIFO depth of a dataflow channel.
fn stream(inst: &mut Instance, array: &Named, depth: u32) -> Result<usize, TileError> {
    let streams = inst.dataflow_streams();
    let mut found = 0;
    for (i, t) in inst.tensors.iter_mut().enumerate() {
        if !t.is_named(&array.name) {
            continue;
        }
        if !streams.contains(&crate::ir::TensorId(i as u32)) {
            return Err(TileError {
                message: format!(
                    "`{}` is not a FIFO between two dataflow stages of `{}`",
                    array.name, inst.name
                ),
                help: "a stream is a tensor one call writes and exactly one later call reads, in a kernel made of calls".into(),
            });
        }
        t.stream_depth = Some(depth);
        found += 1;
    }
    Ok(found)
}

/// `buffer(x, at=v)`: on-chip copies of the box of `x` each iteration of `v` reads.
fn buffer(inst: &mut Instance, array: &Named, at: Option<&Named>) -> Result<usize, TileError> {
    let Some(x) = (0..inst.tensors.len())
        .map(|i| crate::ir::TensorId(i as u32))
        .find(|&t| inst.tensor(t).is_named(&array.name))
    else {
        return Ok(0);
    };
    let at = at.map(|v| v.name.as_str());
    let mut made = 0;
    let nodes: Vec<crate::ir::NodeId> = inst.graph.node_indices().collect();
    for n in nodes {
        let Node::Compute(c) = &mut inst.graph[n] else {
            continue;
        };
        if !c.reads.contains(&x) {
            continue;
        }
        let original = std::mem::take(&mut c.body);
        let mut body = original.clone();
        let r = tile::buffer(inst, &mut body, x, at);
        let Node::Compute(c) = &mut inst.graph[n] else {
            continue;
        };
        match r {
            Ok(bufs) => {
                c.body = body;
                made += bufs.len();
                for b in bufs {
                    c.reads.push(b);
                    c.writes.push(b);
                }
            }
            Err(e) => {
                c.body = original;
                return Err(e);
            }
        }
    }
    Ok(made)
}

fn target_name(t: Target) -> &'static str {
    match t {
        Target::Cpu => "cpu",
        Target::Fpga => "fpga",
    }
}

/// Marks the inner loop of every perfect pair `outer`/`inner` to be flattened into the
/// outer one; refuses a pair where `inner` is not the only statement of `outer`.
fn flatten_pairs(
    b: &mut Block,
    names: &[String],
    outer: &str,
    inner: &str,
) -> Result<usize, TileError> {
    let mut found = 0;
    for s in b {
        match s {
            Stmt::For(l) if names[l.var.index()] == outer => {
                match l.body.as_mut_slice() {
                    [Stmt::For(i)] if names[i.var.index()] == inner => {
                        i.directives.flatten = true;
                        found += 1;
                        found += flatten_pairs(&mut i.body, names, outer, inner)?;
                    }
                    _ => {
                        return Err(TileError {
                            message: format!(
                                "`fuse({outer}, {inner})` needs `{inner}` to be the only statement of `{outer}`"
                            ),
                            help: "fuse a perfect pair, e.g. the loops of one `grid`".into(),
                        })
                    }
                }
            }
            Stmt::For(l) => found += flatten_pairs(&mut l.body, names, outer, inner)?,
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                found += flatten_pairs(then_block, names, outer, inner)?;
                found += flatten_pairs(else_block, names, outer, inner)?;
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Sets the directives of every loop of variable `var`; whether there was one.
fn set_loops(
    b: &mut Block,
    names: &[String],
    var: &str,
    f: &mut dyn FnMut(&mut LoopDirectives),
) -> bool {
    let mut found = false;
    for s in b {
        match s {
            Stmt::For(l) => {
                if names[l.var.index()] == var {
                    f(&mut l.directives);
                    found = true;
                }
                found |= set_loops(&mut l.body, names, var, f);
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                found |= set_loops(then_block, names, var, f);
                found |= set_loops(else_block, names, var, f);
            }
            _ => {}
        }
    }
    found
}
