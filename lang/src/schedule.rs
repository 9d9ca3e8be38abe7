//! Checking `schedule` items: a block of primitive calls for one kernel and one target.
//!
//! ```text
//! schedule conv2d for fpga:
//!     pipeline(j, ii=1)
//!     unroll(c, 4)
//!     partition(w, dim=2, kind=cyclic, factor=4)
//! ```
//! Loops are named by their variable (every loop of that name in the kernel), arrays by
//! their name. The primitives split, tile, reorder, fuse and stream are recognised and
//! reported as not supported yet (E0513), never ignored.

use crate::ast::{Arg, Block, Expr, ExprKind, Ident, StmtKind};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, KernelId, Named, PartitionSpec, Prim, Target};
use crate::span::Span;

const LATER: &[&str] = &["split", "tile", "reorder", "fuse", "stream"];

/// Checks one `schedule` item of kernel `k`; `None` after reporting an error.
pub fn check(
    k: &hir::Kernel,
    globals: &[String],
    id: KernelId,
    target: &Ident,
    body: &Block,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<hir::Schedule> {
    let target = match target.name.as_str() {
        "cpu" => Target::Cpu,
        "fpga" => Target::Fpga,
        other => {
            diags.push(
                Diagnostic::error(codes::BAD_SCHEDULE, format!("unknown target `{other}`"))
                    .at(target.span)
                    .help("schedules are `for cpu:` or `for fpga:`"),
            );
            return None;
        }
    };
    let mut prims = Vec::new();
    let mut ok = true;
    for s in &body.stmts {
        let StmtKind::Expr(Expr {
            kind: ExprKind::Call { func, args },
            span: call_span,
        }) = &s.kind
        else {
            diags.push(
                Diagnostic::error(codes::BAD_SCHEDULE, "a schedule holds primitive calls only")
                    .at(s.span)
                    .help("e.g. `unroll(k, 4)`, `pipeline(j, ii=1)`, `partition(w, dim=1, kind=cyclic, factor=4)`"),
            );
            ok = false;
            continue;
        };
        let ExprKind::Name(name) = &func.kind else {
            diags.push(
                Diagnostic::error(codes::BAD_SCHEDULE, "expected a primitive name").at(func.span),
            );
            ok = false;
            continue;
        };
        match prim(k, globals, name, args, *call_span, diags) {
            Some(p) => prims.push(p),
            None => ok = false,
        }
    }
    ok.then_some(hir::Schedule {
        kernel: id,
        target,
        prims,
        span,
    })
}

/// The arguments of a call: the positional ones, then `name=value` ones.
struct Args<'a> {
    positional: Vec<&'a Expr>,
    named: Vec<(&'a Ident, &'a Expr)>,
}

fn split(args: &[Arg]) -> Args<'_> {
    let mut a = Args {
        positional: Vec::new(),
        named: Vec::new(),
    };
    for arg in args {
        match &arg.name {
            Some(n) => a.named.push((n, &arg.value)),
            None => a.positional.push(&arg.value),
        }
    }
    a
}

fn err(diags: &mut Diagnostics, span: Span, msg: String, help: &str) -> Option<Prim> {
    diags.push(
        Diagnostic::error(codes::BAD_SCHEDULE, msg)
            .at(span)
            .help(help.to_string()),
    );
    None
}

fn prim(
    k: &hir::Kernel,
    globals: &[String],
    name: &str,
    args: &[Arg],
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    if LATER.contains(&name) {
        diags.push(
            Diagnostic::error(codes::UNSUPPORTED, format!("the schedule primitive `{name}` is not supported yet"))
                .at(span)
                .help("supported now: pipeline, unroll and partition for fpga; cpu schedules are checked but not applied yet"),
        );
        return None;
    }
    let a = split(args);
    let (expected, allowed): (usize, &[&str]) = match name {
        "pipeline" => (1, &["ii"]),
        "unroll" => (1, &["factor"]),
        "partition" => (1, &["dim", "kind", "factor"]),
        "parallel" | "vectorize" => (1, &[]),
        _ => {
            return err(
                diags,
                span,
                format!("unknown schedule primitive `{name}`"),
                "primitives: pipeline, unroll, partition, parallel, vectorize (split, tile, reorder, fuse, stream: not yet)",
            )
        }
    };
    let extra_positional = if name == "unroll" { 1 } else { 0 };
    if a.positional.is_empty() || a.positional.len() > expected + extra_positional {
        return err(
            diags,
            span,
            format!("`{name}` takes {} first", if name == "partition" { "an array" } else { "a loop variable" }),
            "e.g. `unroll(k, 4)`, `pipeline(j, ii=1)`, `partition(w, dim=1, kind=cyclic, factor=4)`",
        );
    }
    for (n, _) in &a.named {
        if !allowed.contains(&n.name.as_str()) {
            return err(
                diags,
                n.span,
                format!("`{name}` has no argument `{}`", n.name),
                &format!(
                    "its arguments: {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                ),
            );
        }
    }
    let ExprKind::Name(target) = &a.positional[0].kind else {
        return err(
            diags,
            a.positional[0].span,
            "expected a name".into(),
            "name a loop variable or an array",
        );
    };
    let named = Named {
        name: target.clone(),
        span: a.positional[0].span,
    };
    let int = |diags: &mut Diagnostics,
               key: &str,
               e: Option<&Expr>,
               default: u32,
               min: u32|
     -> Option<u32> {
        let Some(e) = e else { return Some(default) };
        match &e.kind {
            ExprKind::Int(v) if *v >= min as u128 && *v <= 1 << 20 => Some(*v as u32),
            _ => {
                diags.push(
                    Diagnostic::error(
                        codes::BAD_SCHEDULE,
                        format!("`{key}` must be an integer of at least {min}"),
                    )
                    .at(e.span),
                );
                None
            }
        }
    };
    let get = |key: &str| a.named.iter().find(|(n, _)| n.name == key).map(|(_, e)| *e);
    if name == "partition" {
        let known = k.params.iter().any(|p| p.name == *target)
            || k.locals.iter().any(|l| l.name == *target && l.is_tensor)
            || globals.iter().any(|g| g == target);
        if !known {
            return err(
                diags,
                named.span,
                format!("`{target}` is not an array of `{}`", k.name),
                "partition a parameter, a module `param` or a local tensor of the kernel",
            );
        }
        let dim = int(diags, "dim", get("dim"), 1, 1)? as usize;
        let kind = match get("kind").map(|e| &e.kind) {
            None => PartitionSpec::Complete,
            Some(ExprKind::Name(s)) if s == "cyclic" => PartitionSpec::Cyclic,
            Some(ExprKind::Name(s)) if s == "block" => PartitionSpec::Block,
            Some(ExprKind::Name(s)) if s == "complete" => PartitionSpec::Complete,
            Some(_) => {
                return err(
                    diags,
                    get("kind").map(|e| e.span).unwrap_or(span),
                    "`kind` is cyclic, block or complete".into(),
                    "e.g. `kind=cyclic`",
                )
            }
        };
        let factor = int(diags, "factor", get("factor"), 0, 1)?;
        if kind != PartitionSpec::Complete && get("factor").is_none() {
            return err(
                diags,
                span,
                format!("a {kind:?} partition needs a `factor`").to_lowercase(),
                "e.g. `factor=4`",
            );
        }
        return Some(Prim::Partition {
            array: named,
            dim: dim - 1,
            kind,
            factor,
        });
    }
    if !k.loop_vars.iter().any(|v| v.name == *target) {
        let mut known: Vec<&str> = k.loop_vars.iter().map(|v| v.name.as_str()).collect();
        known.sort();
        known.dedup();
        return err(
            diags,
            named.span,
            format!("`{target}` is not a loop variable of `{}`", k.name),
            &format!(
                "its loops: {}",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ),
        );
    }
    Some(match name {
        "pipeline" => Prim::Pipeline {
            var: named,
            ii: int(diags, "ii", get("ii"), 1, 1)?,
        },
        "unroll" => Prim::Unroll {
            var: named,
            factor: int(
                diags,
                "factor",
                a.positional.get(1).copied().or(get("factor")),
                0,
                1,
            )?,
        },
        "parallel" => Prim::Parallel { var: named },
        _ => Prim::Vectorize { var: named },
    })
}
