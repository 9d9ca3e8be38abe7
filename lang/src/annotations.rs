//! PyLog's loop annotations, as `schedule` primitives (docs/language.md §16).
//!
//! PyLog writes HLS directives in the code they apply to:
//! ```text
//! for i in range(N).pipeline():          # pipeline(i, ii=1)
//! for j in range(M).unroll(4):           # unroll(j, 4)
//!     pragma("HLS pipeline II=2")        # pipeline(j, ii=2): the enclosing loop
//!     pragma("HLS array_partition variable=w type=cyclic factor=4 dim=1")
//! ```
//! This pass runs on the AST after parsing: it takes the annotations out of each kernel
//! and adds the matching primitives to the kernel's `schedule ... for fpga:` item (made
//! when the file has none; the annotations come first, then what the item says). So an
//! annotation means exactly what its primitive means, and is checked by the same code:
//! it applies on the FPGA target (`kiln hls`, `kiln report`), and, like any `fpga`
//! schedule, turns off the automatic FPGA schedule of its kernel. A schedule names loops
//! by their variable, so a loop annotated this way must be the only loop of its kernel
//! with that variable (E0515 otherwise, with the `schedule` line to write instead).

use crate::ast::{
    Arg, Block, Expr, ExprKind, Ident, Item, ItemKind, Module, Stmt, StmtKind, Subscript,
};
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use std::collections::HashMap;

/// Moves the loop annotations of every kernel of `module` into `schedule` items.
pub fn lower_annotations(module: &mut Module, diags: &mut Vec<Diagnostic>) {
    let mut added: Vec<(Ident, Vec<Stmt>, Span)> = Vec::new();
    for item in &mut module.items {
        let ItemKind::Kernel(k) = &mut item.kind else {
            continue;
        };
        let mut names = HashMap::new();
        count_loop_names(&k.body.stmts, &mut names);
        let mut a = Annotations {
            kernel: k.name.name.clone(),
            names,
            prims: Vec::new(),
            diags,
        };
        a.block(&mut k.body, None);
        if !a.prims.is_empty() {
            added.push((k.name.clone(), a.prims, item.span));
        }
    }
    for (kernel, prims, span) in added {
        attach(module, kernel, prims, span);
    }
}

/// Puts `prims` first in the `schedule kernel for fpga:` item, made if there is none.
fn attach(module: &mut Module, kernel: Ident, prims: Vec<Stmt>, span: Span) {
    for item in &mut module.items {
        if let ItemKind::Schedule {
            kernel: k,
            target,
            body,
        } = &mut item.kind
        {
            if k.name == kernel.name && target.name == "fpga" {
                let rest = std::mem::take(&mut body.stmts);
                body.stmts = prims;
                body.stmts.extend(rest);
                return;
            }
        }
    }
    let target = Ident {
        name: "fpga".into(),
        span: kernel.span,
    };
    module.items.push(Item {
        kind: ItemKind::Schedule {
            kernel,
            target,
            body: Block { stmts: prims, span },
        },
        span,
    });
}

struct Annotations<'d> {
    kernel: String,
    /// How many loops of the kernel have each variable name.
    names: HashMap<String, usize>,
    /// The primitives found, as the calls a `schedule` item holds.
    prims: Vec<Stmt>,
    diags: &'d mut Vec<Diagnostic>,
}

impl Annotations<'_> {
    /// The statements of `b`, inside the loop of variable `var` (if any): annotations are
    /// taken out (a block left empty gets `pass`).
    fn block(&mut self, b: &mut Block, var: Option<&Ident>) {
        let mut kept = Vec::new();
        for mut s in std::mem::take(&mut b.stmts) {
            if let StmtKind::Expr(e) = &s.kind {
                if let Some(args) = pragma_args(e) {
                    self.pragma(args, e.span, var);
                    continue;
                }
            }
            match &mut s.kind {
                StmtKind::For { vars, iter, body } => {
                    self.loop_methods(vars, iter);
                    let v = (vars.len() == 1).then(|| vars[0].clone());
                    self.block(body, v.as_ref());
                }
                StmtKind::While { body, .. } | StmtKind::UnexpectedIndent(body) => {
                    self.block(body, None)
                }
                StmtKind::If {
                    branches,
                    else_block,
                } => {
                    for (_, b) in branches {
                        self.block(b, var);
                    }
                    if let Some(b) = else_block {
                        self.block(b, var);
                    }
                }
                _ => {}
            }
            kept.push(s);
        }
        if kept.is_empty() {
            kept.push(Stmt {
                kind: StmtKind::Pass,
                span: b.span,
            });
        }
        b.stmts = kept;
    }

    /// `range(...).pipeline(...)` / `.unroll(...)` (possibly both, chained): the
    /// methods are taken off `iter` and become primitives on the loop's variable.
    fn loop_methods(&mut self, vars: &[Ident], iter: &mut Expr) {
        while let ExprKind::Call { func, args } = &iter.kind {
            let ExprKind::Attr(base, method) = &func.kind else {
                return;
            };
            let (base, method, args, span) =
                ((**base).clone(), method.clone(), args.clone(), iter.span);
            *iter = base;
            let on_range = |e: &Expr| match &e.kind {
                ExprKind::Call { func, .. } => match &func.kind {
                    ExprKind::Name(n) => n == "range",
                    ExprKind::Attr(..) => true,
                    _ => false,
                },
                _ => false,
            };
            if !on_range(iter) {
                self.diags.push(
                    Diagnostic::error(codes::BAD_SCHEDULE, format!("`.{}()` annotates `range(...)` loops", method.name))
                        .at(method.span)
                        .help(format!("write the loop as `for i in range(N).{}()`, or the primitive in `schedule {} for fpga:`", method.name, self.kernel)),
                );
                return;
            }
            let [var] = vars else {
                self.diags.push(
                    Diagnostic::error(codes::BAD_SCHEDULE, format!("`.{}()` on a loop of several variables", method.name))
                        .at(method.span)
                        .help(format!("annotate one `for` loop (`for i in range(N).{}()`), or write the primitive in `schedule {} for fpga:`", method.name, self.kernel)),
                );
                continue;
            };
            match method.name.as_str() {
                "pipeline" => {
                    let ii = args
                        .iter()
                        .find(|a| a.name.is_none() || a.name.as_ref().is_some_and(|n| n.name == "ii" || n.name == "II"))
                        .map(|a| a.value.clone());
                    self.loop_prim("pipeline", var, ii, span, &format!(".{}()", method.name));
                }
                "unroll" => {
                    let factor = args
                        .iter()
                        .find(|a| a.name.is_none() || a.name.as_ref().is_some_and(|n| n.name == "factor"))
                        .map(|a| a.value.clone());
                    self.loop_prim("unroll", var, factor, span, &format!(".{}()", method.name));
                }
                other => self.diags.push(
                    Diagnostic::error(codes::BAD_LOOP, format!("loops have no method `.{other}()`"))
                        .at(method.span)
                        .help("PyLog's loop annotations are `.pipeline()`, `.pipeline(ii=2)`, `.unroll()` and `.unroll(4)`"),
                ),
            }
        }
    }

    /// `pipeline(var, ii=arg)` or `unroll(var, arg)` from an annotation (`what`, at
    /// `span`), when `var` names one loop only.
    fn loop_prim(&mut self, prim: &str, var: &Ident, arg: Option<Expr>, span: Span, what: &str) {
        let line = match (prim, &arg) {
            ("pipeline", Some(e)) => format!("pipeline({}, ii={})", var.name, show(e)),
            ("pipeline", None) => format!("pipeline({}, ii=1)", var.name),
            (_, Some(e)) => format!("{prim}({}, {})", var.name, show(e)),
            (_, None) => format!("{prim}({})", var.name),
        };
        let count = self.names.get(&var.name).copied().unwrap_or(0);
        if count > 1 {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_SCHEDULE,
                    format!("`{what}` names its loop by the variable `{}`, which {count} loops of `{}` use", var.name, self.kernel),
                )
                .at(span)
                .help(format!(
                    "rename this loop's variable, or write the primitive for every loop `{}` in `schedule {} for fpga:` as `{line}`",
                    var.name, self.kernel
                )),
            );
            return;
        }
        let mut args = vec![Arg {
            name: None,
            value: name_expr(&var.name, var.span),
        }];
        match (prim, arg) {
            ("pipeline", arg) => args.push(Arg {
                name: Some(Ident {
                    name: "ii".into(),
                    span,
                }),
                value: arg.unwrap_or(Expr {
                    kind: ExprKind::Int(1),
                    span,
                }),
            }),
            (_, Some(a)) => args.push(Arg {
                name: None,
                value: a,
            }),
            (_, None) => {}
        }
        self.push_call(prim, args, span);
    }

    fn push_call(&mut self, prim: &str, args: Vec<Arg>, span: Span) {
        let call = Expr {
            kind: ExprKind::Call {
                func: Box::new(name_expr(prim, span)),
                args,
            },
            span,
        };
        self.prims.push(Stmt {
            kind: StmtKind::Expr(call),
            span,
        });
    }

    /// `pragma("HLS ...")` at `span`, inside the loop of variable `var` (if any).
    fn pragma(&mut self, args: &[Arg], span: Span, var: Option<&Ident>) {
        let text = match args {
            [Arg {
                name: None,
                value:
                    Expr {
                        kind: ExprKind::Str(s),
                        ..
                    },
            }] => s.clone(),
            _ => {
                self.diags.push(
                    Diagnostic::error(
                        codes::BAD_SCHEDULE,
                        "`pragma` takes one string: `pragma(\"HLS pipeline II=1\")`",
                    )
                    .at(span),
                );
                return;
            }
        };
        let words: Vec<&str> = text.split_whitespace().collect();
        let (directive, rest) = match words.as_slice() {
            [hls, d, rest @ ..] if hls.eq_ignore_ascii_case("hls") => {
                (d.to_ascii_lowercase(), rest)
            }
            _ => {
                self.unsupported_pragma(&text, span);
                return;
            }
        };
        let mut opts: HashMap<String, String> = HashMap::new();
        let mut flags: Vec<String> = Vec::new();
        for w in rest {
            match w.split_once('=') {
                Some((k, v)) => {
                    opts.insert(k.to_ascii_lowercase(), v.to_string());
                }
                None => flags.push(w.to_ascii_lowercase()),
            }
        }
        match directive.as_str() {
            "pipeline" | "unroll" => {
                let key = if directive == "pipeline" {
                    "ii"
                } else {
                    "factor"
                };
                let arg = match opts.get(key) {
                    Some(v) => match v.parse::<u128>() {
                        Ok(n) => Some(Expr {
                            kind: ExprKind::Int(n),
                            span,
                        }),
                        Err(_) => {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::BAD_SCHEDULE,
                                    format!("`{key}={v}` is not an integer"),
                                )
                                .at(span),
                            );
                            return;
                        }
                    },
                    None => None,
                };
                let Some(var) = var else {
                    self.diags.push(
                        Diagnostic::error(codes::BAD_SCHEDULE, format!("`HLS {directive}` outside a loop"))
                            .at(span)
                            .help("write it first in the body of the `for` loop it applies to (a loop of one variable)"),
                    );
                    return;
                };
                self.loop_prim(&directive, var, arg, span, &format!("pragma(\"{text}\")"));
            }
            "array_partition" => self.partition_pragma(&text, &opts, &flags, span),
            _ => self.unsupported_pragma(&text, span),
        }
    }

    /// `HLS array_partition variable=x type=cyclic factor=4 dim=1` (the type may also
    /// be a bare word, as older Vivado writes it).
    fn partition_pragma(
        &mut self,
        text: &str,
        opts: &HashMap<String, String>,
        flags: &[String],
        span: Span,
    ) {
        let Some(array) = opts.get("variable") else {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_SCHEDULE,
                    "`HLS array_partition` needs `variable=NAME`",
                )
                .at(span),
            );
            return;
        };
        let kind = opts
            .get("type")
            .map(|t| t.to_ascii_lowercase())
            .or_else(|| {
                flags
                    .iter()
                    .find(|f| matches!(f.as_str(), "cyclic" | "block" | "complete"))
                    .cloned()
            })
            .unwrap_or_else(|| "complete".into());
        let dim = opts.get("dim").cloned().unwrap_or_else(|| "1".into());
        let int = |s: &str| s.parse::<u128>().ok();
        let (Some(dim), factor) = (int(&dim), opts.get("factor").map(|f| int(f))) else {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_SCHEDULE,
                    format!("`pragma(\"{text}\")`: `dim` must be an integer"),
                )
                .at(span),
            );
            return;
        };
        if dim == 0 {
            self.diags.push(
                Diagnostic::error(codes::BAD_SCHEDULE, "`dim=0` (every dimension) is not supported")
                    .at(span)
                    .help(format!("partition each dimension: `partition({array}, dim=1, kind={kind})`, `dim=2`, ...")),
            );
            return;
        }
        let mut args = vec![
            Arg {
                name: None,
                value: name_expr(array, span),
            },
            named("dim", ExprKind::Int(dim), span),
            named("kind", ExprKind::Name(kind), span),
        ];
        match factor {
            Some(Some(f)) => args.push(named("factor", ExprKind::Int(f), span)),
            Some(None) => {
                self.diags.push(
                    Diagnostic::error(
                        codes::BAD_SCHEDULE,
                        format!("`pragma(\"{text}\")`: `factor` must be an integer"),
                    )
                    .at(span),
                );
                return;
            }
            None => {}
        }
        self.push_call("partition", args, span);
    }

    fn unsupported_pragma(&mut self, text: &str, span: Span) {
        self.diags.push(
            Diagnostic::error(codes::UNSUPPORTED, format!("`pragma(\"{text}\")` is not supported"))
                .at(span)
                .help(format!(
                    "kiln takes `HLS pipeline`, `HLS unroll` and `HLS array_partition` pragmas; other directives are `schedule {} for fpga:` primitives (docs/language.md §16)",
                    self.kernel
                )),
        );
    }
}

/// The arguments of a statement `pragma(...)`.
fn pragma_args(e: &Expr) -> Option<&[Arg]> {
    match &e.kind {
        ExprKind::Call { func, args } if matches!(&func.kind, ExprKind::Name(n) if n == "pragma") => {
            Some(args)
        }
        _ => None,
    }
}

fn name_expr(name: &str, span: Span) -> Expr {
    Expr {
        kind: ExprKind::Name(name.to_string()),
        span,
    }
}

fn named(key: &str, kind: ExprKind, span: Span) -> Arg {
    Arg {
        name: Some(Ident {
            name: key.into(),
            span,
        }),
        value: Expr { kind, span },
    }
}

/// A primitive's argument as written (for messages).
fn show(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => v.to_string(),
        ExprKind::Name(n) => n.clone(),
        _ => "N".into(),
    }
}

/// Counts the loops of each variable name: `for` statements, generators and
/// comprehensions.
fn count_loop_names(stmts: &[Stmt], out: &mut HashMap<String, usize>) {
    for s in stmts {
        match &s.kind {
            StmtKind::For { vars, iter, body } => {
                for v in vars {
                    *out.entry(v.name.clone()).or_insert(0) += 1;
                }
                expr_loop_names(iter, out);
                count_loop_names(&body.stmts, out);
            }
            StmtKind::While { cond, body, .. } => {
                expr_loop_names(cond, out);
                count_loop_names(&body.stmts, out);
            }
            StmtKind::UnexpectedIndent(b) => count_loop_names(&b.stmts, out),
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (c, b) in branches {
                    expr_loop_names(c, out);
                    count_loop_names(&b.stmts, out);
                }
                if let Some(b) = else_block {
                    count_loop_names(&b.stmts, out);
                }
            }
            StmtKind::Decl { init: Some(e), .. } | StmtKind::Expr(e) => expr_loop_names(e, out),
            StmtKind::Assign { targets, value } => {
                targets.iter().for_each(|t| expr_loop_names(t, out));
                expr_loop_names(value, out);
            }
            StmtKind::AugAssign { target, value, .. } => {
                expr_loop_names(target, out);
                expr_loop_names(value, out);
            }
            StmtKind::Return(vals) => vals.iter().for_each(|v| expr_loop_names(v, out)),
            _ => {}
        }
    }
}

fn expr_loop_names(e: &Expr, out: &mut HashMap<String, usize>) {
    let mut go = |x: &Expr| expr_loop_names(x, out);
    match &e.kind {
        ExprKind::Comprehension(g) | ExprKind::Generator(g) => {
            for v in &g.vars {
                *out.entry(v.name.clone()).or_insert(0) += 1;
            }
            expr_loop_names(&g.elem, out);
            expr_loop_names(&g.iter, out);
        }
        ExprKind::Attr(a, _) | ExprKind::Unary(_, a) => go(a),
        ExprKind::Binary(_, a, b) | ExprKind::BoolOp(_, a, b) => {
            go(a);
            go(b)
        }
        ExprKind::Compare(a, rest) => {
            go(a);
            rest.iter().for_each(|(_, x)| go(x));
        }
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            go(cond);
            go(then);
            go(otherwise)
        }
        ExprKind::Call { func, args } => {
            go(func);
            args.iter().for_each(|a| go(&a.value));
        }
        ExprKind::Index { base, subs } => {
            go(base);
            for s in subs {
                match s {
                    Subscript::Index(x) => go(x),
                    Subscript::Slice { lo, hi, step, .. } => {
                        [lo, hi, step].into_iter().flatten().for_each(&mut go)
                    }
                }
            }
        }
        ExprKind::Lambda { body, .. } => go(body),
        ExprKind::Tuple(v) => v.iter().for_each(go),
        _ => {}
    }
}
