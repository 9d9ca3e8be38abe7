//! Helper functions (`def`): inlined into the kernels of their file, right after parsing.
//!
//! A helper takes untyped parameters and its body is assignments to names followed by
//! one `return e`. A call `f(a, b)` anywhere in a kernel's expressions (inside loops,
//! comprehensions, generators and lambdas too, unlike kernel calls) becomes `e` with the
//! parameters replaced by the arguments and each local by its value, as PyLog inlines
//! nested functions. What a parameter stands for is whatever the call passes:
//! - a scalar expression: `def sq(v): return v * v`;
//! - a tensor or a slice of one, indexed in the body: with `a = p[i, :]`, `a[d]` is
//!   `p[i, d]` (an index into a slice adds its start, times its step);
//! - a size, usable in ranges: `def dot(a, b, n): return sum(a[k] * b[k] for k in range(n))`.
//!
//! Names the body binds (generator variables, lambda parameters) are renamed `v'1`, `v'2`...
//! so that they never capture the caller's names. Helper calls inside helpers expand in
//! turn; a helper that reaches itself is E0507.
//!
//! Before: `def sq(v): return v * v` and `y = [sq(x[i] - 1) for i in range(4)]`.
//! After: `y = [(x[i] - 1) * (x[i] - 1) for i in range(4)]`.

use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use std::collections::HashMap;

/// Inlines every helper of `module` into its kernels and removes the helpers.
pub fn inline_helpers(module: &mut Module, diags: &mut Vec<Diagnostic>) {
    let mut defs: HashMap<String, HelperDef> = HashMap::new();
    let mut kernels: HashMap<String, Span> = HashMap::new();
    for item in &module.items {
        if let ItemKind::Kernel(k) = &item.kind {
            kernels.insert(k.name.name.clone(), k.name.span);
        }
    }
    module.items.retain(|item| {
        let ItemKind::Def(d) = &item.kind else {
            return true;
        };
        if let Some(first) = defs
            .get(&d.name.name)
            .map(|f| f.name.span)
            .or_else(|| kernels.get(&d.name.name).copied())
        {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("`{}` is defined twice", d.name.name),
                )
                .at(d.name.span)
                .with_secondary(first, "first defined here"),
            );
        } else if check_helper(d, diags) {
            defs.insert(d.name.name.clone(), d.clone());
        }
        false
    });
    if defs.is_empty() {
        return;
    }
    let mut inl = Inliner {
        defs: &defs,
        diags,
        active: Vec::new(),
        fresh: 0,
    };
    for item in &mut module.items {
        if let ItemKind::Kernel(k) = &mut item.kind {
            inl.block(&mut k.body);
        }
    }
}

/// Checks a helper's shape: distinct parameters; assignments to names, then one
/// `return` of one value.
fn check_helper(d: &HelperDef, diags: &mut Vec<Diagnostic>) -> bool {
    let mut ok = true;
    for (i, p) in d.params.iter().enumerate() {
        if d.params[..i].iter().any(|q| q.name == p.name) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("parameter `{}` is listed twice", p.name),
                )
                .at(p.span),
            );
            ok = false;
        }
    }
    let stmts: Vec<&Stmt> = d
        .body
        .stmts
        .iter()
        .filter(|s| !matches!(s.kind, StmtKind::Pass))
        .collect();
    let shape_help = "a helper holds assignments to names and ends with `return e`; loops go in generators: `sum(a[k] * b[k] for k in range(n))`";
    match stmts.last().map(|s| &s.kind) {
        Some(StmtKind::Return(v)) if v.len() == 1 => {}
        Some(StmtKind::Return(_)) => {
            diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("helper `{}` must return one value", d.name.name),
                )
                .at(stmts[stmts.len() - 1].span),
            );
            ok = false;
        }
        _ => {
            diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("helper `{}` does not end with `return`", d.name.name),
                )
                .at(d.header_span)
                .help(shape_help),
            );
            ok = false;
        }
    }
    for s in stmts.iter().take(stmts.len().saturating_sub(1)) {
        let fine = match &s.kind {
            StmtKind::Assign { targets, .. } => {
                matches!(targets.as_slice(), [Expr { kind: ExprKind::Name(n), .. }] if !d.params.iter().any(|p| &p.name == n))
            }
            _ => false,
        };
        if !fine {
            diags.push(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    format!("this statement cannot be in helper `{}`", d.name.name),
                )
                .at(s.span)
                .help(shape_help),
            );
            ok = false;
        }
    }
    ok
}

struct Inliner<'d, 'g> {
    defs: &'d HashMap<String, HelperDef>,
    diags: &'g mut Vec<Diagnostic>,
    /// Helpers being expanded (innermost last): reaching one of them again is recursion.
    active: Vec<String>,
    fresh: usize,
}

impl Inliner<'_, '_> {
    fn block(&mut self, b: &mut Block) {
        for s in &mut b.stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &mut Stmt) {
        match &mut s.kind {
            StmtKind::Decl { init, .. } => {
                if let Some(e) = init {
                    self.expr(e);
                }
            }
            StmtKind::Assign { targets, value } => {
                for t in targets {
                    self.expr(t);
                }
                self.expr(value);
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::For { iter, body, .. } => {
                self.expr(iter);
                self.block(body);
            }
            StmtKind::While { cond, max, body } => {
                self.expr(cond);
                if let Some((_, n)) = max {
                    self.expr(n);
                }
                self.block(body);
            }
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (c, b) in branches {
                    self.expr(c);
                    self.block(b);
                }
                if let Some(b) = else_block {
                    self.block(b);
                }
            }
            StmtKind::Return(es) => {
                for e in es {
                    self.expr(e);
                }
            }
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::UnexpectedIndent(b) => self.block(b),
            StmtKind::Pass | StmtKind::Break | StmtKind::Continue | StmtKind::Error => {}
        }
    }

    /// Expands the helper calls in `e`, innermost first.
    fn expr(&mut self, e: &mut Expr) {
        for_each_child(e, &mut |c| self.expr(c));
        let ExprKind::Call { func, args } = &e.kind else {
            return;
        };
        let ExprKind::Name(f) = &func.kind else {
            return;
        };
        let Some(def) = self.defs.get(f) else {
            return;
        };
        let (def, args) = (def.clone(), args.clone());
        let reported = self.diags.len();
        match self.expand(&def, &args, e.span) {
            Some(e2) if self.diags.len() == reported => *e = e2,
            // Reported: a placeholder, so that the call causes no other error.
            _ => e.kind = ExprKind::Int(0),
        }
    }

    fn expand(&mut self, def: &HelperDef, args: &[Arg], span: Span) -> Option<Expr> {
        let name = &def.name.name;
        if self.active.contains(name) {
            let chain = self.active.join(" -> ");
            self.diags.push(
                Diagnostic::error(codes::RECURSION, format!("helper `{name}` calls itself ({chain} -> {name})"))
                    .at(span)
                    .help("helpers are inlined, so they cannot recurse: write the repetition as a loop or a generator"),
            );
            return Some(Expr {
                kind: ExprKind::Int(0),
                span,
            });
        }
        let mut env = self.bind(def, args, span)?;
        let n = def.body.stmts.len();
        let mut result = None;
        for (i, s) in def.body.stmts.iter().enumerate() {
            match &s.kind {
                StmtKind::Assign { targets, value } => {
                    if let [Expr {
                        kind: ExprKind::Name(local),
                        ..
                    }] = targets.as_slice()
                    {
                        let v = self.subst(value, &env);
                        env.insert(local.clone(), v);
                    }
                }
                StmtKind::Return(v) if i + 1 == n => result = Some(self.subst(&v[0], &env)),
                _ => {}
            }
        }
        let mut result = result?;
        self.active.push(name.clone());
        self.expr(&mut result);
        self.active.pop();
        Some(result)
    }

    /// The parameters' arguments: positional, then by name.
    fn bind(&mut self, def: &HelperDef, args: &[Arg], span: Span) -> Option<HashMap<String, Expr>> {
        let name = &def.name.name;
        let mut env: HashMap<String, Expr> = HashMap::new();
        let mut positional = 0;
        for a in args {
            let p = match &a.name {
                None => {
                    positional += 1;
                    def.params.get(positional - 1)
                }
                Some(n) => def.params.iter().find(|p| p.name == n.name),
            };
            let Some(p) = p else {
                let what = match &a.name {
                    Some(n) => format!("helper `{name}` has no parameter `{}`", n.name),
                    None => format!("helper `{name}` takes {} arguments", def.params.len()),
                };
                self.diags
                    .push(Diagnostic::error(codes::BAD_ARGS, what).at(a.value.span));
                return None;
            };
            if env.insert(p.name.clone(), a.value.clone()).is_some() {
                self.diags.push(
                    Diagnostic::error(codes::BAD_ARGS, format!("`{}` is given twice", p.name))
                        .at(a.value.span),
                );
                return None;
            }
        }
        let missing: Vec<&str> = def
            .params
            .iter()
            .filter(|p| !env.contains_key(&p.name))
            .map(|p| p.name.as_str())
            .collect();
        if !missing.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("helper `{name}` needs `{}`", missing.join("`, `")),
                )
                .at(span)
                .with_secondary(def.header_span, "defined here"),
            );
            return None;
        }
        Some(env)
    }

    /// A copy of `e` with the names of `env` replaced by their expressions.
    fn subst(&mut self, e: &Expr, env: &HashMap<String, Expr>) -> Expr {
        let mut out = e.clone();
        self.subst_in(&mut out, env);
        out
    }

    fn subst_in(&mut self, e: &mut Expr, env: &HashMap<String, Expr>) {
        match &mut e.kind {
            ExprKind::Name(n) => {
                if let Some(v) = env.get(n.as_str()) {
                    *e = v.clone();
                }
            }
            ExprKind::Index { base, subs } => {
                for s in subs.iter_mut() {
                    for_each_sub_expr(s, &mut |x| self.subst_in(x, env));
                }
                let bound = match &base.kind {
                    ExprKind::Name(n) => env.get(n.as_str()).cloned(),
                    _ => None,
                };
                match bound {
                    Some(arg) => {
                        if let Some(x) = self.index_arg(&arg, subs, e.span) {
                            *e = x;
                        }
                    }
                    None => self.subst_in(base, env),
                }
            }
            ExprKind::Comprehension(g) | ExprKind::Generator(g) => {
                self.subst_in(&mut g.iter, env);
                let inner = self.rebind(&mut g.vars, env);
                self.subst_in(&mut g.elem, &inner);
            }
            ExprKind::Lambda { params, body } => {
                let inner = self.rebind(params, env);
                self.subst_in(body, &inner);
            }
            ExprKind::Call { func, args } => {
                // A callee is a kernel, helper or builtin name, never a parameter.
                if !matches!(func.kind, ExprKind::Name(_)) {
                    self.subst_in(func, env);
                }
                for a in args {
                    self.subst_in(&mut a.value, env);
                }
            }
            _ => for_each_child(e, &mut |c| self.subst_in(c, env)),
        }
    }

    /// Renames names bound inside the body so they cannot capture the caller's.
    fn rebind(&mut self, vars: &mut [Ident], env: &HashMap<String, Expr>) -> HashMap<String, Expr> {
        let mut inner = env.clone();
        for v in vars {
            self.fresh += 1;
            let renamed = format!("{}'{}", v.name, self.fresh);
            inner.insert(
                v.name.clone(),
                Expr {
                    kind: ExprKind::Name(renamed.clone()),
                    span: v.span,
                },
            );
            v.name = renamed;
        }
        inner
    }

    /// `a[subs]` where parameter `a` is bound to `arg`: a named tensor is indexed
    /// directly; a slice `p[i, lo:hi:step]` takes `subs` in its sliced dimensions.
    fn index_arg(&mut self, arg: &Expr, subs: &[Subscript], span: Span) -> Option<Expr> {
        match &arg.kind {
            ExprKind::Name(_) | ExprKind::Attr(..) => Some(Expr {
                kind: ExprKind::Index {
                    base: Box::new(arg.clone()),
                    subs: subs.to_vec(),
                },
                span,
            }),
            // A negative constant counts from the end of the slice, not of the tensor:
            // the checker composes the chain `p[lo:hi][-1]` (docs/language.md §7.5).
            ExprKind::Index { .. } if subs.iter().any(negative_literal) => Some(Expr {
                kind: ExprKind::Index {
                    base: Box::new(arg.clone()),
                    subs: subs.to_vec(),
                },
                span,
            }),
            ExprKind::Index { base, subs: asubs } => {
                let sliced = asubs
                    .iter()
                    .filter(|s| matches!(s, Subscript::Slice { .. }))
                    .count();
                if sliced != subs.len() {
                    self.diags.push(
                        Diagnostic::error(
                            codes::INDEX_COUNT,
                            format!(
                                "this slice has {sliced} dimensions but is indexed with {}",
                                subs.len()
                            ),
                        )
                        .at(span)
                        .with_secondary(arg.span, "the slice passed to the helper"),
                    );
                    return None;
                }
                let mut inner = subs.iter();
                let mut out = Vec::new();
                for s in asubs {
                    match s {
                        Subscript::Index(_) => out.push(s.clone()),
                        Subscript::Slice { lo, step, .. } => {
                            let sub = inner.next()?;
                            match sub {
                                Subscript::Index(j) => out.push(Subscript::Index(offset(
                                    lo.as_ref(),
                                    step.as_ref(),
                                    j,
                                ))),
                                Subscript::Slice {
                                    lo: None,
                                    hi: None,
                                    step: None,
                                    ..
                                } => out.push(s.clone()),
                                Subscript::Slice { span: sspan, .. } => {
                                    self.diags.push(
                                        Diagnostic::error(codes::UNSUPPORTED, "a slice of a slice passed to a helper")
                                            .at(*sspan)
                                            .help("index it element by element, or pass the slice you want"),
                                    );
                                    return None;
                                }
                            }
                        }
                    }
                }
                Some(Expr {
                    kind: ExprKind::Index {
                        base: base.clone(),
                        subs: out,
                    },
                    span,
                })
            }
            _ => {
                self.diags.push(
                    Diagnostic::error(codes::UNSUPPORTED, "a helper indexes a parameter bound to an expression")
                        .at(span)
                        .with_secondary(arg.span, "this argument")
                        .help("pass a named tensor or a slice of one; assign an expression to a name first"),
                );
                None
            }
        }
    }
}

/// `lo + j * step` (each part only when present).
/// `-k` for a literal `k`.
fn negative_literal(s: &Subscript) -> bool {
    matches!(s, Subscript::Index(Expr { kind: ExprKind::Unary(crate::ast::UnaryOp::Neg, e), .. }) if matches!(e.kind, ExprKind::Int(_)))
}

fn offset(lo: Option<&Expr>, step: Option<&Expr>, j: &Expr) -> Expr {
    let span = j.span;
    let scaled = match step {
        Some(s) => Expr {
            kind: ExprKind::Binary(BinOp::Mul, Box::new(j.clone()), Box::new(s.clone())),
            span,
        },
        None => j.clone(),
    };
    match lo {
        Some(l) => Expr {
            kind: ExprKind::Binary(BinOp::Add, Box::new(l.clone()), Box::new(scaled)),
            span,
        },
        None => scaled,
    }
}

/// Calls `f` on each direct sub-expression of `e`.
fn for_each_child(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match &mut e.kind {
        ExprKind::Int(_)
        | ExprKind::Float(_)
        | ExprKind::Bool(_)
        | ExprKind::Str(_)
        | ExprKind::Name(_)
        | ExprKind::TypeLit(_) => {}
        ExprKind::Attr(a, _) | ExprKind::Unary(_, a) => f(a),
        ExprKind::Binary(_, a, b) | ExprKind::BoolOp(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Compare(a, rest) => {
            f(a);
            for (_, b) in rest {
                f(b);
            }
        }
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => {
            f(cond);
            f(then);
            f(otherwise);
        }
        ExprKind::Call { func, args } => {
            f(func);
            for a in args {
                f(&mut a.value);
            }
        }
        ExprKind::Index { base, subs } => {
            f(base);
            for s in subs {
                for_each_sub_expr(s, f);
            }
        }
        ExprKind::Lambda { body, .. } => f(body),
        ExprKind::Comprehension(g) | ExprKind::Generator(g) => {
            f(&mut g.iter);
            f(&mut g.elem);
        }
        ExprKind::Tuple(es) | ExprKind::List(es) => {
            for x in es {
                f(x);
            }
        }
    }
}

fn for_each_sub_expr(s: &mut Subscript, f: &mut dyn FnMut(&mut Expr)) {
    match s {
        Subscript::Index(e) => f(e),
        Subscript::Slice { lo, hi, step, .. } => {
            for x in [lo, hi, step].into_iter().flatten() {
                f(x);
            }
        }
    }
}
