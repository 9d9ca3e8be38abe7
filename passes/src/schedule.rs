//! Applies the checked `schedule` items of a program to the typed IR of one target.
//!
//! FPGA schedules become loop directives and array partitions, which the HLS back end
//! writes as pragmas (and checks against each other: E0514) and `kiln report` costs.
//! Primitives a target does not honour are a warning (W0803), never silence: the JIT
//! chooses its own parallel, SIMD and unrolled loops, and the HLS back end pipelines and
//! unrolls rather than running threads or SIMD lanes.
//!
//! Before: `schedule dot for fpga: unroll(k, 4)` and the IR loop `for k in 0..8: ...`.
//! After: `for k in 0..8: [unroll 4] ...` in every instance of `dot`.

use crate::diag::{codes, Diagnostic};
use crate::ir::{Block, LoopDirectives, Module, Node, Partition, PartitionKind, Stmt};
use kiln_lang::hir::{self, PartitionSpec, Prim, Target};

/// Applies the schedules for `target`; returns warnings and errors.
pub fn apply(module: &mut Module, program: &hir::Program, target: Target) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for s in program.schedules.iter() {
        let kernel = &program.kernels[s.kernel].name;
        if s.target != target {
            continue;
        }
        for p in &s.prims {
            let honoured = match (target, p) {
                (Target::Fpga, Prim::Parallel { .. } | Prim::Vectorize { .. }) => Some(
                    "the FPGA back end pipelines and unrolls loops; it has no threads or SIMD lanes",
                ),
                (Target::Cpu, _) => Some(
                    "the JIT chooses its own parallel, SIMD and unrolled loops; CPU schedules are not applied yet",
                ),
                _ => None,
            };
            if let Some(why) = honoured {
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
                match p {
                    Prim::Pipeline { var, .. } | Prim::Unroll { var, .. } => {
                        let names: Vec<String> =
                            inst.loop_vars.iter().map(|v| v.name.clone()).collect();
                        for n in inst.graph.node_weights_mut() {
                            if let Node::Compute(c) = n {
                                found |=
                                    set_loops(&mut c.body, &names, &var.name, &mut |d| match p {
                                        Prim::Pipeline { ii, .. } => d.pipeline_ii = Some(*ii),
                                        Prim::Unroll { factor, .. } => d.unroll = Some(*factor),
                                        _ => {}
                                    });
                            }
                        }
                    }
                    Prim::Partition {
                        array,
                        dim,
                        kind,
                        factor,
                    } => {
                        for t in inst.tensors.iter_mut().filter(|t| t.name == array.name) {
                            found = true;
                            if *dim >= t.shape.len() {
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
                                dim: *dim,
                                kind: match kind {
                                    PartitionSpec::Cyclic => PartitionKind::Cyclic,
                                    PartitionSpec::Block => PartitionKind::Block,
                                    PartitionSpec::Complete => PartitionKind::Complete,
                                },
                                factor: *factor,
                            };
                            t.partition.retain(|q| q.dim != part.dim);
                            t.partition.push(part);
                        }
                    }
                    Prim::Parallel { .. } | Prim::Vectorize { .. } => {}
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
    diags
}

fn target_name(t: Target) -> &'static str {
    match t {
        Target::Cpu => "cpu",
        Target::Fpga => "fpga",
    }
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
