//! The `parallel-lint` pass: checks each `parallel(v)` of a `cpu` schedule against the
//! JIT's rule for running a loop on threads (loop_facts.rs [`parallel_loop`]): only a
//! statement's outermost loop, and only when its iterations are independent. A
//! primitive no loop honours gets W0803 with the reason; the IR is not changed.
//!
//! Before and after: the same module. With `schedule acc for cpu: parallel(i)` on
//! `s = 0; for i in 0..8: s += x[i]`, the pass warns that the iterations of `i` update a
//! scalar in turn.

use crate::diag::{codes, Diagnostic};
use crate::ir::{walk_stmts, Instance, LoopVarId, Module, Stmt};
use crate::loop_facts::parallel_loop;
use crate::manager::PassContext;
use kiln_lang::hir::{Named, Prim, Target};

/// What became of the loops a `parallel(v)` names, over every instance of its kernel.
#[derive(Default)]
struct Findings {
    /// A statement's outermost loop `v` with independent iterations.
    honoured: bool,
    /// `v` sits inside another loop.
    nested: bool,
    /// `v` is outermost but its iterations depend on each other (or it sits beside
    /// other code of its statement).
    dependent: bool,
}

/// The pass.
pub fn run(module: &mut Module, ctx: &mut PassContext) {
    for sc in module.schedules.iter().filter(|s| s.target == Target::Cpu) {
        for p in &sc.prims {
            let Prim::Parallel { var } = p else {
                continue;
            };
            let mut found = Findings::default();
            for inst in module.instances.iter().filter(|i| i.kernel == sc.kernel) {
                inspect(inst, var, &mut found);
            }
            if let Some(why) = reason(&found, var) {
                ctx.diags.push(
                    Diagnostic::warning(
                        codes::NOT_HONOURED,
                        "`parallel` is not honoured on the cpu target".to_string(),
                    )
                    .at(var.span)
                    .note(why),
                );
            }
        }
    }
}

/// Looks for loops named `var` in the compute nodes of `inst`.
fn inspect(inst: &Instance, var: &Named, found: &mut Findings) {
    let named = |v: LoopVarId| inst.loop_vars[v.index()].name == var.name;
    for (_, c) in inst.computes() {
        match c.body.as_slice() {
            [Stmt::For(l)] if named(l.var) => {
                if parallel_loop(inst, &c.body).is_some() {
                    found.honoured = true;
                } else {
                    found.dependent = true;
                }
            }
            _ => walk_stmts(&c.body, &mut Vec::new(), &mut |st, outer| {
                if let Stmt::For(l) = st {
                    if named(l.var) {
                        // At the top of the statement but beside other code (a scalar it
                        // updates, initialized before it).
                        found.dependent |= outer.is_empty();
                        found.nested |= !outer.is_empty();
                    }
                }
            }),
        }
    }
}

/// Why `parallel(var)` is not honoured, or `None` when some loop honours it.
fn reason(found: &Findings, var: &Named) -> Option<String> {
    let v = &var.name;
    if found.honoured {
        None
    } else if found.dependent {
        Some(format!("the iterations of `{v}` are not independent (they update a scalar in turn, or write elements another iteration touches)"))
    } else if found.nested {
        Some(format!("only a statement's outermost loop runs on threads, and `{v}` is inside another loop (reorder it outermost)"))
    } else {
        Some(format!("no loop `{v}` is left to run (not compiled, or replaced by a later `split`, `tile` or `unroll`)"))
    }
}
