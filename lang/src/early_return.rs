//! Early `return` in kernels: a `return` inside an `if`, a `for` or a `while` becomes
//! assignments to result locals, right after parsing (after helpers are inlined), so that
//! the checker and every later stage see one `return` at the end of the body.
//!
//! The kernel gets one declared local per result, `result'1`, ... (the declared result
//! types: returning converts to them, as a `return` does), started at `T(0)` for a scalar
//! (so it is assigned on every path). Then:
//! - `return e` assigns the locals; outside loops, the statements after it are dropped
//!   (they never run), and the statements after an `if` that returns are copied into its
//!   branches that do not;
//! - inside a loop, it also sets a flag `returned'1` and leaves the loop with `break`;
//!   after an inner loop, `if returned'1: break` leaves the loops around it; after the
//!   outermost loop, the rest of the body runs only `if not returned'1`;
//! - the body ends with `return result'1, ...`.
//!
//! Refused (E0503): a `return` inside a `grid` loop (it would leave several loops at
//! once, as `break` cannot: write nested `for` loops), a `return` of the wrong number of
//! values, and an early return from a kernel whose results have no declared element type
//! (`-> [N]`: the result locals need one).
//!
//! Before: `if x[0] < 0: return 0` then `return sum(x)`.
//! After: `result'1: T = T(0)`, `if x[0] < 0: result'1 = 0 else: result'1 = sum(x)`,
//! `return result'1`.

use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;

/// Rewrites the early returns of every kernel of `module`.
pub fn lower_early_returns(module: &mut Module, diags: &mut Vec<Diagnostic>) {
    for item in &mut module.items {
        if let ItemKind::Kernel(k) = &mut item.kind {
            kernel(k, diags);
        }
    }
}

/// Whether a kernel body returns inside a loop or branch (a top-level `return` before
/// the end is left to the checker: statements after it are an error, E0503).
fn has_early_return(stmts: &[Stmt]) -> bool {
    stmts
        .iter()
        .any(|s| nested(s).iter().any(|b| returns_in(b)))
}

/// Whether a statement list returns anywhere.
fn returns_in(stmts: &[Stmt]) -> bool {
    stmts
        .iter()
        .any(|s| matches!(s.kind, StmtKind::Return(_)) || nested(s).iter().any(|b| returns_in(b)))
}

/// The blocks directly inside a statement.
fn nested(s: &Stmt) -> Vec<&[Stmt]> {
    match &s.kind {
        StmtKind::For { body, .. } | StmtKind::While { body, .. } => vec![&body.stmts],
        StmtKind::If {
            branches,
            else_block,
        } => branches
            .iter()
            .map(|(_, b)| &b.stmts[..])
            .chain(else_block.iter().map(|b| &b.stmts[..]))
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether every path through a statement list ends in a `return` (a loop's may not run).
fn always_returns(stmts: &[Stmt]) -> bool {
    let live: Vec<&Stmt> = stmts
        .iter()
        .filter(|s| !matches!(s.kind, StmtKind::Pass))
        .collect();
    match live.last().map(|s| &s.kind) {
        Some(StmtKind::Return(_)) => true,
        Some(StmtKind::If {
            branches,
            else_block: Some(e),
        }) => branches.iter().all(|(_, b)| always_returns(&b.stmts)) && always_returns(&e.stmts),
        _ => stmts.iter().any(|s| matches!(s.kind, StmtKind::Return(_))),
    }
}

/// The values of `return vals` (a single tuple is unpacked).
fn values(vals: &[Expr]) -> Vec<Expr> {
    match vals {
        [Expr {
            kind: ExprKind::Tuple(items),
            ..
        }] => items.clone(),
        _ => vals.to_vec(),
    }
}

fn name(n: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Name(n.to_string()),
        span,
    }
}

fn stmt(kind: StmtKind, span: Span) -> Stmt {
    Stmt { kind, span }
}

fn assign(target: &str, value: Expr, span: Span) -> Stmt {
    stmt(
        StmtKind::Assign {
            targets: vec![name(target, span)],
            value,
        },
        span,
    )
}

/// Checks what cannot be rewritten: wrong counts, returns in `grid` loops. `true` if fine.
fn check(stmts: &[Stmt], results: usize, in_grid: bool, diags: &mut Vec<Diagnostic>) -> bool {
    let mut ok = true;
    for s in stmts {
        match &s.kind {
            StmtKind::Return(vals) => {
                let n = values(vals).len();
                if n != results {
                    diags.push(
                        Diagnostic::error(
                            codes::BAD_RETURN,
                            format!("this kernel declares {results} result(s) but returns {n}"),
                        )
                        .at(s.span),
                    );
                    ok = false;
                }
                if in_grid {
                    diags.push(
                        Diagnostic::error(codes::BAD_RETURN, "`return` inside a `grid` loop")
                            .at(s.span)
                            .help("a return leaves the loops it is in one at a time, with `break`: write nested `for ... in range(...)` loops"),
                    );
                    ok = false;
                }
            }
            StmtKind::For { vars, iter, body } => {
                let grid = vars.len() > 1
                    || matches!(&iter.kind, ExprKind::Call { func, .. }
                        if matches!(&func.kind, ExprKind::Name(n) if n == "grid"));
                ok &= check(&body.stmts, results, in_grid || grid, diags);
            }
            _ => {
                for b in nested(s) {
                    ok &= check(b, results, in_grid, diags);
                }
            }
        }
    }
    ok
}

fn kernel(k: &mut Kernel, diags: &mut Vec<Diagnostic>) {
    if !has_early_return(&k.body.stmts) {
        return;
    }
    let n = k.results.len();
    if !check(&k.body.stmts, n, false, diags) {
        return;
    }
    if n > 0 && !always_returns(&k.body.stmts) {
        diags.push(
            Diagnostic::error(
                codes::BAD_RETURN,
                format!(
                    "kernel `{}` can end without returning its results",
                    k.name.name
                ),
            )
            .at(k.header_span)
            .help("end the body with `return <value>` (a return inside a loop may not run)"),
        );
        return;
    }
    let mut decls = Vec::new();
    let span = k.header_span;
    let mut locals = Vec::new();
    for (i, r) in k.results.iter().enumerate() {
        let local = format!("result'{}", i + 1);
        let elem = match &r.kind {
            TypeExprKind::Scalar(e) => Some(e),
            TypeExprKind::Tensor { elem, .. } => elem.as_ref(),
        };
        let Some(elem) = elem else {
            diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("kernel `{}` returns early, so its results need element types", k.name.name),
                )
                .at(r.span)
                .help("declare the result's element type (`-> int<16>[N]`), or return once, at the end"),
            );
            return;
        };
        // A scalar starts at zero (assigned on every path); a tensor is written by the
        // return that runs.
        let init = matches!(r.kind, TypeExprKind::Scalar(_)).then(|| {
            let func = match &elem.kind {
                ElemTypeKind::Named(id) => name(&id.name, elem.span),
                ElemTypeKind::Prim { .. } => Expr {
                    kind: ExprKind::TypeLit(elem.clone()),
                    span: elem.span,
                },
            };
            Expr {
                kind: ExprKind::Call {
                    func: Box::new(func),
                    args: vec![Arg {
                        name: None,
                        value: Expr {
                            kind: ExprKind::Int(0),
                            span,
                        },
                    }],
                },
                span,
            }
        });
        decls.push(stmt(
            StmtKind::Decl {
                name: Ident {
                    name: local.clone(),
                    span,
                },
                ty: r.clone(),
                init,
            },
            span,
        ));
        locals.push(local);
    }
    let mut rw = Rewriter {
        locals: &locals,
        flag: None,
        fresh: 0,
    };
    let body = std::mem::take(&mut k.body.stmts);
    let mut out = decls;
    if let Some(f) = rw.flag_needed(&body) {
        out.push(assign(
            &f,
            Expr {
                kind: ExprKind::Bool(false),
                span,
            },
            span,
        ));
    }
    out.extend(rw.block(&body, false));
    let end = k.body.stmts.last().map_or(span, |s| s.span);
    if !locals.is_empty() {
        out.push(stmt(
            StmtKind::Return(locals.iter().map(|l| name(l, end)).collect()),
            end,
        ));
    }
    k.body.stmts = out;
}

struct Rewriter<'a> {
    locals: &'a [String],
    /// The flag set by a return inside a loop (once one is needed).
    flag: Option<String>,
    fresh: usize,
}

impl Rewriter<'_> {
    /// The flag, when a loop of `stmts` returns.
    fn flag_needed(&mut self, stmts: &[Stmt]) -> Option<String> {
        fn loop_returns(stmts: &[Stmt]) -> bool {
            stmts.iter().any(|s| match &s.kind {
                StmtKind::For { body, .. } | StmtKind::While { body, .. } => {
                    returns_in(&body.stmts)
                }
                _ => nested(s).iter().any(|b| loop_returns(b)),
            })
        }
        if !loop_returns(stmts) {
            return None;
        }
        self.fresh += 1;
        let f = format!("returned'{}", self.fresh);
        self.flag = Some(f.clone());
        Some(f)
    }

    /// The assignments of `return vals`.
    fn returned(&self, vals: &[Expr], span: Span) -> Vec<Stmt> {
        self.locals
            .iter()
            .zip(values(vals))
            .map(|(l, v)| assign(l, v, span))
            .collect()
    }

    /// Rewrites a statement list (inside a loop when `in_loop`).
    fn block(&mut self, stmts: &[Stmt], in_loop: bool) -> Vec<Stmt> {
        let mut out = Vec::new();
        for (i, s) in stmts.iter().enumerate() {
            let rest = &stmts[i + 1..];
            match &s.kind {
                StmtKind::Return(vals) => {
                    out.extend(self.returned(vals, s.span));
                    if in_loop {
                        let f = self.flag.clone().unwrap_or_default();
                        out.push(assign(
                            &f,
                            Expr {
                                kind: ExprKind::Bool(true),
                                span: s.span,
                            },
                            s.span,
                        ));
                        out.push(stmt(StmtKind::Break, s.span));
                    }
                    // Nothing after a return runs.
                    return out;
                }
                StmtKind::If {
                    branches,
                    else_block,
                } if returns_in(std::slice::from_ref(s)) => {
                    if in_loop {
                        // A return breaks out: the rest of the iteration stays after it.
                        let branches = branches
                            .iter()
                            .map(|(c, b)| (c.clone(), self.sub_block(b, &b.stmts, true)))
                            .collect();
                        let else_block = else_block
                            .as_ref()
                            .map(|b| self.sub_block(b, &b.stmts, true));
                        out.push(stmt(
                            StmtKind::If {
                                branches,
                                else_block,
                            },
                            s.span,
                        ));
                        continue;
                    }
                    // Outside loops: the rest goes into every branch (it runs after the
                    // branches that do not return).
                    let with_rest = |b: &Block| {
                        let mut v = b.stmts.clone();
                        v.extend(rest.iter().cloned());
                        v
                    };
                    let branches = branches
                        .iter()
                        .map(|(c, b)| (c.clone(), self.sub_block(b, &with_rest(b), false)))
                        .collect();
                    let empty = Block {
                        stmts: Vec::new(),
                        span: s.span,
                    };
                    let eb = else_block.as_ref().unwrap_or(&empty);
                    let else_stmts = with_rest(eb);
                    let else_block =
                        (!else_stmts.is_empty()).then(|| self.sub_block(eb, &else_stmts, false));
                    out.push(stmt(
                        StmtKind::If {
                            branches,
                            else_block,
                        },
                        s.span,
                    ));
                    return out;
                }
                StmtKind::For { vars, iter, body } if returns_in(&body.stmts) => {
                    let body = self.sub_block(body, &body.stmts, true);
                    out.push(stmt(
                        StmtKind::For {
                            vars: vars.clone(),
                            iter: iter.clone(),
                            body,
                        },
                        s.span,
                    ));
                    self.after_loop(&mut out, rest, in_loop, s.span);
                    if !in_loop {
                        return out;
                    }
                }
                StmtKind::While { cond, max, body } if returns_in(&body.stmts) => {
                    let body = self.sub_block(body, &body.stmts, true);
                    out.push(stmt(
                        StmtKind::While {
                            cond: cond.clone(),
                            max: max.clone(),
                            body,
                        },
                        s.span,
                    ));
                    self.after_loop(&mut out, rest, in_loop, s.span);
                    if !in_loop {
                        return out;
                    }
                }
                _ => out.push(s.clone()),
            }
        }
        out
    }

    fn sub_block(&mut self, b: &Block, stmts: &[Stmt], in_loop: bool) -> Block {
        let mut stmts = self.block(stmts, in_loop);
        if stmts.is_empty() {
            stmts.push(stmt(StmtKind::Pass, b.span));
        }
        Block {
            stmts,
            span: b.span,
        }
    }

    /// After a loop that may return: leave the enclosing loop too, or run the rest of the
    /// body only when nothing returned.
    fn after_loop(&mut self, out: &mut Vec<Stmt>, rest: &[Stmt], in_loop: bool, span: Span) {
        let f = self.flag.clone().unwrap_or_default();
        if in_loop {
            out.push(stmt(
                StmtKind::If {
                    branches: vec![(
                        name(&f, span),
                        Block {
                            stmts: vec![stmt(StmtKind::Break, span)],
                            span,
                        },
                    )],
                    else_block: None,
                },
                span,
            ));
            return;
        }
        let rest = self.block(rest, false);
        if rest.is_empty() {
            return;
        }
        out.push(stmt(
            StmtKind::If {
                branches: vec![(
                    Expr {
                        kind: ExprKind::Unary(UnaryOp::Not, Box::new(name(&f, span))),
                        span,
                    },
                    Block { stmts: rest, span },
                )],
                else_block: None,
            },
            span,
        ));
    }
}
