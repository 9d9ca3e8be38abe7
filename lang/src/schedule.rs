//! Checking `schedule` items: a block of primitive calls for one kernel and one target.
//!
//! ```text
//! schedule conv2d for fpga:
//!     pipeline(j, ii=1)
//!     unroll(c, 4)
//!     partition(w, dim=2, kind=cyclic, factor=4)
//! ```
//! Loops are named by their variable (every loop of that name in the kernel), arrays by
//! their name. `split` and `tile` name the loops they make (`i_o`, `i_i` by default), and
//! later primitives of the same schedule use those names.

use crate::ast::{Arg, Block, Expr, ExprKind, Ident, StmtKind};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, KernelId, Named, PartitionSpec, Prim, Target};
use crate::span::Span;

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
    // Loop names as the schedule goes: a split replaces `i` by `i_o` and `i_i`.
    let mut loops: Vec<String> = k.loop_vars.iter().map(|v| v.name.clone()).collect();
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
        match prim(k, globals, &mut loops, name, args, *call_span, diags) {
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

impl<'a> Args<'a> {
    /// The value of the named argument `key`.
    fn get(&self, key: &str) -> Option<&'a Expr> {
        self.named
            .iter()
            .find(|(n, _)| n.name == key)
            .map(|(_, e)| *e)
    }
}

/// An integer argument `key` of at least `min` (`default` when absent).
fn int(
    diags: &mut Diagnostics,
    key: &str,
    e: Option<&Expr>,
    default: u32,
    min: u32,
) -> Option<u32> {
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

fn err<T>(diags: &mut Diagnostics, span: Span, msg: String, help: &str) -> Option<T> {
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
    loops: &mut Vec<String>,
    name: &str,
    args: &[Arg],
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    let a = split(args);
    if matches!(name, "split" | "tile" | "reorder" | "fuse") {
        return loop_prim(k, loops, name, &a, span, diags);
    }
    let (expected, allowed): (usize, &[&str]) = match name {
        "pipeline" => (1, &["ii"]),
        "unroll" => (1, &["factor"]),
        "partition" => (1, &["dim", "kind", "factor"]),
        "stream" => (1, &["depth"]),
        "buffer" => (1, &["at"]),
        "parallel" | "vectorize" => (1, &[]),
        _ => {
            return err(
                diags,
                span,
                format!("unknown schedule primitive `{name}`"),
                "primitives: split, tile, reorder, fuse, unroll, pipeline, partition, buffer, stream, parallel, vectorize",
            )
        }
    };
    let extra_positional = if name == "unroll" { 1 } else { 0 };
    if a.positional.is_empty() || a.positional.len() > expected + extra_positional {
        return err(
            diags,
            span,
            format!("`{name}` takes {} first", if matches!(name, "partition" | "stream" | "buffer") { "an array" } else { "a loop variable" }),
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
    match name {
        "buffer" => return buffer_prim(k, globals, loops, named, &a, diags),
        "stream" => return stream_prim(k, named, &a, span, diags),
        "partition" => return partition_prim(k, globals, named, &a, span, diags),
        _ => {}
    }
    if !is_loop(k, loops, &named, diags) {
        return None;
    }
    Some(match name {
        "pipeline" => Prim::Pipeline {
            var: named,
            ii: int(diags, "ii", a.get("ii"), 1, 1)?,
        },
        "unroll" => Prim::Unroll {
            var: named,
            factor: int(
                diags,
                "factor",
                a.positional.get(1).copied().or(a.get("factor")),
                0,
                1,
            )?,
        },
        "parallel" => Prim::Parallel { var: named },
        _ => Prim::Vectorize { var: named },
    })
}

/// `buffer(x, at=v)`.
fn buffer_prim(
    k: &hir::Kernel,
    globals: &[String],
    loops: &mut [String],
    named: Named,
    a: &Args,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    require_array(
        k,
        globals,
        &named,
        "buffer a parameter, a module `param` or a local tensor the kernel reads",
        diags,
    )?;
    let at = match a.get("at") {
        None => None,
        Some(e) => {
            let ExprKind::Name(v) = &e.kind else {
                return err(
                    diags,
                    e.span,
                    "`at` names a loop variable".into(),
                    "e.g. `buffer(w, at=k)`",
                );
            };
            let v = Named {
                name: v.clone(),
                span: e.span,
            };
            if !is_loop(k, loops, &v, diags) {
                return None;
            }
            Some(v)
        }
    };
    Some(Prim::Buffer { array: named, at })
}

/// `stream(t, depth=N)`.
fn stream_prim(
    k: &hir::Kernel,
    named: Named,
    a: &Args,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    let target = &named.name;
    let local = k.locals.iter().any(|l| l.name == *target && l.is_tensor);
    if !local {
        return err(
            diags,
            named.span,
            format!("`{target}` is not a local tensor of `{}`", k.name),
            "stream a tensor that one call of the kernel writes and the next reads",
        );
    }
    let depth = int(diags, "depth", a.get("depth"), 0, 1)?;
    if a.get("depth").is_none() {
        return err(
            diags,
            span,
            "`stream` needs a `depth`".into(),
            "e.g. `stream(c1, depth=16)`",
        );
    }
    Some(Prim::Stream {
        array: named,
        depth,
    })
}

/// `partition(x, dim=, kind=, factor=)`.
fn partition_prim(
    k: &hir::Kernel,
    globals: &[String],
    named: Named,
    a: &Args,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    require_array(
        k,
        globals,
        &named,
        "partition a parameter, a module `param` or a local tensor of the kernel",
        diags,
    )?;
    let dim = int(diags, "dim", a.get("dim"), 1, 1)? as usize;
    let kind = match a.get("kind").map(|e| &e.kind) {
        None => PartitionSpec::Complete,
        Some(ExprKind::Name(s)) if s == "cyclic" => PartitionSpec::Cyclic,
        Some(ExprKind::Name(s)) if s == "block" => PartitionSpec::Block,
        Some(ExprKind::Name(s)) if s == "complete" => PartitionSpec::Complete,
        Some(_) => {
            return err(
                diags,
                a.get("kind").map(|e| e.span).unwrap_or(span),
                "`kind` is cyclic, block or complete".into(),
                "e.g. `kind=cyclic`",
            )
        }
    };
    let factor = int(diags, "factor", a.get("factor"), 0, 1)?;
    if kind != PartitionSpec::Complete && a.get("factor").is_none() {
        return err(
            diags,
            span,
            format!("a {kind:?} partition needs a `factor`").to_lowercase(),
            "e.g. `factor=4`",
        );
    }
    Some(Prim::Partition {
        array: named,
        dim: dim - 1,
        kind,
        factor,
    })
}

/// An error (`help` says what to name instead) unless `named` is an array of the kernel.
fn require_array(
    k: &hir::Kernel,
    globals: &[String],
    named: &Named,
    help: &str,
    diags: &mut Diagnostics,
) -> Option<()> {
    if is_array(k, globals, &named.name) {
        return Some(());
    }
    err(
        diags,
        named.span,
        format!("`{}` is not an array of `{}`", named.name, k.name),
        help,
    )
}

/// Whether `name` is an array of the kernel: a parameter, a local tensor or a module
/// `param`.
fn is_array(k: &hir::Kernel, globals: &[String], name: &str) -> bool {
    k.params.iter().any(|p| p.name == name)
        || k.locals.iter().any(|l| l.name == name && l.is_tensor)
        || globals.iter().any(|g| g == name)
}

/// Whether `v` names a loop of the kernel (as the schedule has renamed them so far);
/// reports an error when not.
fn is_loop(k: &hir::Kernel, loops: &[String], v: &Named, diags: &mut Diagnostics) -> bool {
    if loops.contains(&v.name) {
        return true;
    }
    let mut known: Vec<&str> = loops.iter().map(|v| v.as_str()).collect();
    known.sort();
    known.dedup();
    let was_split = k.loop_vars.iter().any(|l| l.name == v.name);
    diags.push(
        Diagnostic::error(
            codes::BAD_SCHEDULE,
            if was_split {
                format!("the loop `{}` was split by an earlier primitive", v.name)
            } else {
                format!("`{}` is not a loop variable of `{}`", v.name, k.name)
            },
        )
        .at(v.span)
        .help(format!(
            "its loops: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )),
    );
    false
}

/// `split(v, F[, outer=, inner=])`, `tile(i, j, Fi, Fj)`, `reorder(v, ...)`.
fn loop_prim(
    k: &hir::Kernel,
    loops: &mut Vec<String>,
    name: &str,
    a: &Args,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Prim> {
    let usage = match name {
        "split" => "e.g. `split(i, 4)` (loops `i_o`, `i_i`) or `split(i, 4, outer=io, inner=ii)`",
        "tile" => "e.g. `tile(i, j, 8, 64)`: loops `i_o, j_o, i_i, j_i`",
        "fuse" => "e.g. `fuse(i, j)`: `j` the only statement of `i`",
        _ => "e.g. `reorder(j, i, k)`, outermost first",
    };
    let allowed: &[&str] = if name == "split" {
        &["outer", "inner"]
    } else {
        &[]
    };
    if let Some((n, _)) = a
        .named
        .iter()
        .find(|(n, _)| !allowed.contains(&n.name.as_str()))
    {
        return err(
            diags,
            n.span,
            format!("`{name}` has no argument `{}`", n.name),
            usage,
        );
    }
    let var = |e: &Expr| match &e.kind {
        ExprKind::Name(n) => Some(Named {
            name: n.clone(),
            span: e.span,
        }),
        _ => None,
    };
    let factor = |e: &Expr| match &e.kind {
        ExprKind::Int(v) if *v >= 2 && *v <= 1 << 20 => Some(*v as u32),
        _ => None,
    };
    let (nvars, nfactors) = match name {
        "split" => (1, 1),
        "tile" | "fuse" => (2, 2 * (name == "tile") as usize),
        _ => (a.positional.len(), 0),
    };
    if a.positional.len() != nvars + nfactors || nvars < 2 && name == "reorder" {
        return err(diags, span, format!("wrong arguments for `{name}`"), usage);
    }
    let mut vars = Vec::new();
    for e in &a.positional[..nvars] {
        let Some(v) = var(e) else {
            return err(diags, e.span, "expected a loop variable".into(), usage);
        };
        if !is_loop(k, loops, &v, diags) {
            return None;
        }
        if vars.iter().any(|w: &Named| w.name == v.name) {
            return err(diags, v.span, format!("`{}` is named twice", v.name), usage);
        }
        vars.push(v);
    }
    let mut factors = Vec::new();
    for e in &a.positional[nvars..] {
        let Some(f) = factor(e) else {
            return err(
                diags,
                e.span,
                "a split factor is an integer of at least 2".into(),
                usage,
            );
        };
        factors.push(f);
    }
    let fresh =
        |loops: &mut Vec<String>, n: String, at: Span, diags: &mut Diagnostics| -> Option<String> {
            if loops.contains(&n) {
                diags.push(
                    Diagnostic::error(
                        codes::BAD_SCHEDULE,
                        format!("the kernel already has a loop `{n}`"),
                    )
                    .at(at)
                    .help("name the new loops with `outer=` and `inner=`"),
                );
                return None;
            }
            loops.push(n.clone());
            Some(n)
        };
    match name {
        "split" => {
            let v = vars.remove(0);
            let pick = |key: &str, default: String| -> Option<String> {
                match a.named.iter().find(|(n, _)| n.name == key) {
                    None => Some(default),
                    Some((_, e)) => match &e.kind {
                        ExprKind::Name(n) => Some(n.clone()),
                        _ => None,
                    },
                }
            };
            let (Some(outer), Some(inner)) = (
                pick("outer", format!("{}_o", v.name)),
                pick("inner", format!("{}_i", v.name)),
            ) else {
                return err(
                    diags,
                    span,
                    "`outer` and `inner` are new loop names".into(),
                    usage,
                );
            };
            loops.retain(|l| *l != v.name);
            let outer = fresh(loops, outer, span, diags)?;
            let inner = fresh(loops, inner, span, diags)?;
            Some(Prim::Split {
                var: v,
                factor: factors[0],
                outer,
                inner,
            })
        }
        "tile" => {
            for v in &vars {
                loops.retain(|l| *l != v.name);
            }
            for v in &vars {
                fresh(loops, format!("{}_o", v.name), span, diags)?;
                fresh(loops, format!("{}_i", v.name), span, diags)?;
            }
            let [a, b] = [vars[0].clone(), vars[1].clone()];
            Some(Prim::Tile {
                vars: [a, b],
                factors: [factors[0], factors[1]],
            })
        }
        "fuse" => Some(Prim::Fuse {
            outer: vars[0].clone(),
            inner: vars[1].clone(),
        }),
        _ => Some(Prim::Reorder { vars, span }),
    }
}
