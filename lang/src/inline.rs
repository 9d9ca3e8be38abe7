//! Helper functions (`def`): inlined into the kernels of their file, right after parsing.
//!
//! A helper takes untyped parameters. A call `f(a, b)` becomes the helper's body with the
//! parameters replaced by the arguments, as PyLog inlines nested functions. What a
//! parameter stands for is whatever the call passes:
//! - a scalar expression: `def sq(v): return v * v`;
//! - a tensor or a slice of one, indexed in the body: with `a = p[i, :]`, `a[d]` is
//!   `p[i, d]` (an index into a slice adds its start, times its step);
//! - a size, usable in ranges: `def dot(a, b, n): return sum(a[k] * b[k] for k in range(n))`.
//!
//! Two kinds of helpers:
//! - an **expression helper** (assignments to names, then `return e`) becomes `e`, with each
//!   local replaced by its value: its calls may stand anywhere an expression may (loops,
//!   comprehensions, generators, lambdas);
//! - a **statement helper** (loops, `if`s, local tensors, stores, early `return`s) is inlined
//!   as statements placed just before the statement holding the call, and the call becomes
//!   the returned value (a fresh local `f'N` when the body returns in several places:
//!   each `return e` inside an `if` becomes `f'N = e`, and the statements after that `if`
//!   are copied into its branches that do not return). Its locals are renamed `x'N`. Such a
//!   call cannot sit where its statements could not run first, or would run when Python
//!   would not evaluate the call: inside a comprehension, generator or lambda, the right
//!   side of `and`/`or`, a branch of `a if c else b`, an `elif` or `while` condition (E0513).
//!   A `return` inside a loop is E0503;
//! - a **procedure** (no `return` at all) writes into the tensors passed to it and is called
//!   as a statement (`vadd(x, y, z, n)`), which its statements replace.
//!
//! Names the body binds (generator variables, lambda parameters, locals of statement
//! helpers) are renamed `v'1`, `v'2`... so that they never capture the caller's names.
//! Helper calls inside helpers expand in turn; a helper that reaches itself is E0507. A
//! helper refused by its checks is still known: calls to it are left as placeholders, so
//! they cause no other error.
//!
//! Before: `def sq(v): return v * v` and `y = [sq(x[i] - 1) for i in range(4)]`.
//! After: `y = [(x[i] - 1) * (x[i] - 1) for i in range(4)]`.

use crate::ast::*;
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use std::collections::{HashMap, HashSet};

/// A checked helper.
#[derive(Clone)]
struct Helper {
    def: HelperDef,
    /// Whether its body needs statements (anything but assignments to names and a final
    /// `return`): it is then inlined before the statement that calls it.
    statements: bool,
    /// Whether it returns before its last statement (inside an `if`).
    early_return: bool,
    /// A procedure: no `return` at all; it writes into tensors passed to it
    /// (`def vadd(a, b, c): c[i] = ...`) and is called as a statement.
    procedure: bool,
}

/// Inlines every helper of `module` into its kernels and removes the helpers.
pub fn inline_helpers(module: &mut Module, diags: &mut Vec<Diagnostic>) {
    let mut defs: HashMap<String, Helper> = HashMap::new();
    let mut refused: HashSet<String> = HashSet::new();
    let mut kernels: HashMap<String, Span> = HashMap::new();
    for item in &module.items {
        if let ItemKind::Kernel(k) = &item.kind {
            kernels.insert(k.name.name.clone(), k.name.span);
        }
    }
    let mut first_def: HashMap<String, Span> = HashMap::new();
    module.items.retain(|item| {
        let ItemKind::Def(d) = &item.kind else {
            return true;
        };
        if let Some(first) = first_def
            .get(&d.name.name)
            .copied()
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
        } else {
            first_def.insert(d.name.name.clone(), d.name.span);
            match check_helper(d, diags) {
                Some(h) => {
                    defs.insert(d.name.name.clone(), h);
                }
                None => {
                    refused.insert(d.name.name.clone());
                }
            }
        }
        false
    });
    if defs.is_empty() && refused.is_empty() {
        return;
    }
    let mut inl = Inliner {
        defs: &defs,
        refused: &refused,
        diags,
        active: Vec::new(),
        fresh: 0,
        pending: Vec::new(),
    };
    for item in &mut module.items {
        if let ItemKind::Kernel(k) = &mut item.kind {
            inl.block(&mut k.body);
        }
    }
}

/// The statements of a block that do something (`pass` left out).
fn live_stmts(b: &Block) -> Vec<&Stmt> {
    b.stmts
        .iter()
        .filter(|s| !matches!(s.kind, StmtKind::Pass))
        .collect()
}

/// Checks a helper: distinct parameters, never assigned; every `return` of one value and
/// outside loops; a value returned on every path. `None` once something is reported.
fn check_helper(d: &HelperDef, diags: &mut Vec<Diagnostic>) -> Option<Helper> {
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
    let before = diags.len();
    check_helper_block(d, &d.body, false, diags);
    ok &= diags.len() == before;
    let stmts = live_stmts(&d.body);
    let simple = stmts.split_last().is_some_and(|(last, init)| {
        matches!(last.kind, StmtKind::Return(_))
            && init.iter().all(|s| {
                matches!(&s.kind, StmtKind::Assign { targets, .. }
                    if matches!(targets.as_slice(), [Expr { kind: ExprKind::Name(_), .. }]))
            })
    });
    let (_, returns) = returns_to_assignments(&d.body.stmts, "");
    let procedure = count_returns(&d.body) == 0;
    if ok && !returns && !procedure {
        diags.push(
            Diagnostic::error(
                codes::BAD_RETURN,
                format!("helper `{}` can end without returning a value", d.name.name),
            )
            .at(d.header_span)
            .help("end every path of the body with `return e` (a helper is an expression: it has one value)"),
        );
        ok = false;
    }
    let early_return = !matches!(stmts.last().map(|s| &s.kind), Some(StmtKind::Return(_)))
        || count_returns(&d.body) > 1;
    ok.then(|| Helper {
        def: d.clone(),
        statements: !simple || procedure,
        early_return: early_return && !procedure,
        procedure,
    })
}

/// Reports what a helper's block may not hold: `return` of several values or inside a
/// loop, assignments to parameters.
fn check_helper_block(d: &HelperDef, b: &Block, in_loop: bool, diags: &mut Vec<Diagnostic>) {
    let is_param = |n: &str| d.params.iter().any(|p| p.name == n);
    let assigns_param = |diags: &mut Vec<Diagnostic>, n: &str, span: Span| {
        diags.push(
            Diagnostic::error(
                codes::READ_ONLY,
                format!("helper `{}` assigns to its parameter `{n}`", d.name.name),
            )
            .at(span)
            .help("a helper's parameters stand for its arguments: assign to a new name"),
        );
    };
    for s in &b.stmts {
        match &s.kind {
            StmtKind::Return(v) if v.len() != 1 => diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("helper `{}` must return one value", d.name.name),
                )
                .at(s.span),
            ),
            StmtKind::Return(_) if in_loop => diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("helper `{}` returns inside a loop", d.name.name),
                )
                .at(s.span)
                .help("keep the value in a local, leave the loop with `break`, and return the local after the loop"),
            ),
            StmtKind::Decl { name, .. } if is_param(&name.name) => {
                assigns_param(diags, &name.name, name.span)
            }
            // Elements of a tensor parameter may be written (the argument's); the name
            // itself is never rebound.
            StmtKind::Assign { targets, .. } => {
                for t in targets {
                    for n in target_names(t) {
                        if is_param(&n.0) {
                            assigns_param(diags, &n.0, n.1);
                        }
                    }
                }
            }
            StmtKind::AugAssign { target, .. } => {
                for n in target_names(target) {
                    if is_param(&n.0) {
                        assigns_param(diags, &n.0, n.1);
                    }
                }
            }
            StmtKind::For { vars, body, .. } => {
                for v in vars {
                    if is_param(&v.name) {
                        assigns_param(diags, &v.name, v.span);
                    }
                }
                check_helper_block(d, body, true, diags);
            }
            StmtKind::While { body, .. } => check_helper_block(d, body, true, diags),
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (_, b) in branches {
                    check_helper_block(d, b, in_loop, diags);
                }
                if let Some(b) = else_block {
                    check_helper_block(d, b, in_loop, diags);
                }
            }
            _ => {}
        }
    }
}

/// The names a store target rebinds as a whole (`x`, `a, b`; not `x[i]`), with spans.
fn target_names(t: &Expr) -> Vec<(String, Span)> {
    match &t.kind {
        ExprKind::Name(n) => vec![(n.clone(), t.span)],
        ExprKind::Tuple(es) => es.iter().flat_map(target_names).collect(),
        _ => Vec::new(),
    }
}

fn count_returns(b: &Block) -> usize {
    b.stmts
        .iter()
        .map(|s| match &s.kind {
            StmtKind::Return(_) => 1,
            StmtKind::If {
                branches,
                else_block,
            } => {
                branches
                    .iter()
                    .map(|(_, b)| count_returns(b))
                    .sum::<usize>()
                    + else_block.as_ref().map_or(0, count_returns)
            }
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => count_returns(body),
            _ => 0,
        })
        .sum()
}

fn has_return(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        StmtKind::Return(_) => true,
        StmtKind::If {
            branches,
            else_block,
        } => {
            branches.iter().any(|(_, b)| has_return(&b.stmts))
                || else_block.as_ref().is_some_and(|b| has_return(&b.stmts))
        }
        _ => false,
    })
}

/// The statements with every `return e` made `ret = e` and nothing run after it: the
/// statements that follow an `if` holding a `return` are copied into its branches (an
/// `else` is added when needed). Also says whether every path ends in a `return`.
/// (Returns inside loops are refused before.)
fn returns_to_assignments(stmts: &[Stmt], ret: &str) -> (Vec<Stmt>, bool) {
    let mut out = Vec::new();
    for (i, s) in stmts.iter().enumerate() {
        match &s.kind {
            StmtKind::Return(v) => {
                let value = v.first().cloned().unwrap_or(Expr {
                    kind: ExprKind::Int(0),
                    span: s.span,
                });
                out.push(Stmt {
                    kind: StmtKind::Assign {
                        targets: vec![Expr {
                            kind: ExprKind::Name(ret.to_string()),
                            span: s.span,
                        }],
                        value,
                    },
                    span: s.span,
                });
                return (out, true);
            }
            StmtKind::If {
                branches,
                else_block,
            } if has_return(std::slice::from_ref(s)) => {
                let rest = &stmts[i + 1..];
                let mut all = true;
                let mut arm = |b: &Block| {
                    let mut body = b.stmts.clone();
                    body.extend(rest.iter().cloned());
                    let (stmts, returns) = returns_to_assignments(&body, ret);
                    all &= returns;
                    Block {
                        stmts,
                        span: b.span,
                    }
                };
                let branches: Vec<(Expr, Block)> =
                    branches.iter().map(|(c, b)| (c.clone(), arm(b))).collect();
                let else_block = match else_block {
                    Some(b) => Some(arm(b)),
                    None if rest.is_empty() => {
                        all = false;
                        None
                    }
                    None => Some(arm(&Block {
                        stmts: Vec::new(),
                        span: s.span,
                    })),
                };
                out.push(Stmt {
                    kind: StmtKind::If {
                        branches,
                        else_block,
                    },
                    span: s.span,
                });
                return (out, all);
            }
            _ => out.push(s.clone()),
        }
    }
    (out, false)
}

/// The names a helper's statements bind (locals, local tensors, loop variables), in order.
fn bound_names(stmts: &[Stmt], out: &mut Vec<String>) {
    let add = |n: &str, out: &mut Vec<String>| {
        if !out.iter().any(|m| m == n) {
            out.push(n.to_string());
        }
    };
    for s in stmts {
        match &s.kind {
            StmtKind::Decl { name, .. } => add(&name.name, out),
            StmtKind::Assign { targets, .. } => {
                for t in targets {
                    let mut names = Vec::new();
                    assigned_names(t, &mut names);
                    for n in names {
                        add(&n, out);
                    }
                }
            }
            StmtKind::AugAssign { target, .. } => {
                if let ExprKind::Name(n) = &target.kind {
                    add(n, out);
                }
            }
            StmtKind::For { vars, body, .. } => {
                for v in vars {
                    add(&v.name, out);
                }
                bound_names(&body.stmts, out);
            }
            StmtKind::While { body, .. } => bound_names(&body.stmts, out),
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (_, b) in branches {
                    bound_names(&b.stmts, out);
                }
                if let Some(b) = else_block {
                    bound_names(&b.stmts, out);
                }
            }
            _ => {}
        }
    }
}

/// Names assigned as a whole by a target (`x`, `a, b`; not `x[i]`).
fn assigned_names(t: &Expr, out: &mut Vec<String>) {
    match &t.kind {
        ExprKind::Name(n) => out.push(n.clone()),
        ExprKind::Tuple(es) => es.iter().for_each(|e| assigned_names(e, out)),
        _ => {}
    }
}

struct Inliner<'d, 'g> {
    defs: &'d HashMap<String, Helper>,
    /// Helpers refused by their checks: their calls become placeholders.
    refused: &'d HashSet<String>,
    diags: &'g mut Vec<Diagnostic>,
    /// Helpers being expanded (innermost last): reaching one of them again is recursion.
    active: Vec<String>,
    fresh: usize,
    /// Statements of statement helpers, to be placed before the statement being expanded.
    pending: Vec<Stmt>,
}

/// Why a statement helper cannot be called at a place (`None`: it can).
type NoStatements = Option<&'static str>;

impl Inliner<'_, '_> {
    fn block(&mut self, b: &mut Block) {
        let old = std::mem::take(&mut b.stmts);
        for mut s in old {
            let saved = std::mem::take(&mut self.pending);
            self.stmt(&mut s);
            let hoisted = std::mem::replace(&mut self.pending, saved);
            b.stmts.extend(hoisted);
            b.stmts.push(s);
        }
    }

    fn stmt(&mut self, s: &mut Stmt) {
        match &mut s.kind {
            StmtKind::Decl { init, .. } => {
                if let Some(e) = init {
                    self.expr(e, None);
                }
            }
            StmtKind::Assign { targets, value } => {
                self.expr(value, None);
                for t in targets {
                    self.expr(t, None);
                }
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(value, None);
                self.expr(target, None);
            }
            StmtKind::For { iter, body, .. } => {
                self.expr(iter, None);
                self.block(body);
            }
            StmtKind::While { cond, max, body } => {
                self.expr(cond, Some("a `while` condition"));
                if let Some((_, n)) = max {
                    self.expr(n, Some("a `while` bound"));
                }
                self.block(body);
            }
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (i, (c, b)) in branches.iter_mut().enumerate() {
                    self.expr(c, (i > 0).then_some("an `elif` condition"));
                    self.block(b);
                }
                if let Some(b) = else_block {
                    self.block(b);
                }
            }
            StmtKind::Return(es) => {
                for e in es {
                    self.expr(e, None);
                }
            }
            StmtKind::Expr(e) => {
                if let Some(h) = self.procedure_call(e) {
                    // `vadd(x, y, z)`: the helper's statements, then nothing.
                    let ExprKind::Call { args, .. } = &e.kind else {
                        return;
                    };
                    let args = args.clone();
                    // Helper calls in the arguments expand where the body uses them.
                    self.expand_statements(&h, &args, e.span);
                    s.kind = StmtKind::Pass;
                } else {
                    self.expr(e, None);
                }
            }
            StmtKind::UnexpectedIndent(b) => self.block(b),
            StmtKind::Pass | StmtKind::Break | StmtKind::Continue | StmtKind::Error => {}
        }
    }

    /// The procedure helper a call expression calls, if any.
    fn procedure_call(&self, e: &Expr) -> Option<Helper> {
        let ExprKind::Call { func, .. } = &e.kind else {
            return None;
        };
        let ExprKind::Name(f) = &func.kind else {
            return None;
        };
        self.defs.get(f).filter(|h| h.procedure).cloned()
    }

    /// Expands the helper calls in `e`, innermost first. `place` says why statements
    /// cannot be placed before the statement for a call here.
    fn expr(&mut self, e: &mut Expr, place: NoStatements) {
        match &mut e.kind {
            ExprKind::Comprehension(g) | ExprKind::Generator(g) => {
                self.expr(&mut g.iter, place);
                self.expr(&mut g.elem, Some("a comprehension or generator"));
            }
            ExprKind::Lambda { body, .. } => self.expr(body, Some("a lambda")),
            ExprKind::BoolOp(_, a, b) => {
                self.expr(a, place);
                self.expr(b, Some("the right side of `and` / `or`"));
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond, place);
                self.expr(then, Some("a branch of `a if c else b`"));
                self.expr(otherwise, Some("a branch of `a if c else b`"));
            }
            _ => for_each_child(e, &mut |c| self.expr(c, place)),
        }
        let ExprKind::Call { func, args } = &e.kind else {
            return;
        };
        let ExprKind::Name(f) = &func.kind else {
            return;
        };
        if self.refused.contains(f) {
            // Reported with the helper: no other error for its calls.
            e.kind = ExprKind::Int(0);
            return;
        }
        let Some(helper) = self.defs.get(f) else {
            return;
        };
        let (helper, args) = (helper.clone(), args.clone());
        let reported = self.diags.len();
        let expanded = if helper.procedure {
            let name = &helper.def.name.name;
            self.diags.push(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!("helper `{name}` returns no value"),
                )
                .at(e.span)
                .with_secondary(helper.def.header_span, "defined here")
                .help(format!("it writes into the tensors passed to it: call it as a statement, `{name}(...)`, then read them")),
            );
            None
        } else if !helper.statements {
            self.expand(&helper.def, &args, e.span, place)
        } else if let Some(why) = place {
            let name = &helper.def.name.name;
            self.diags.push(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    format!("helper `{name}` has statements, so it cannot be called inside {why}"),
                )
                .at(e.span)
                .with_secondary(helper.def.header_span, "defined here")
                .help(format!(
                    "its statements run before the statement that calls it: call it in a statement of its own (`v = {name}(...)`) where its arguments are known, or write the loop out"
                )),
            );
            None
        } else {
            self.expand_statements(&helper, &args, e.span)
        };
        match expanded {
            Some(e2) if self.diags.len() == reported => *e = e2,
            // Reported: a placeholder, so that the call causes no other error.
            _ => e.kind = ExprKind::Int(0),
        }
    }

    /// Reports a helper that reaches itself; `true` when it does.
    fn recursion(&mut self, name: &str, span: Span) -> bool {
        if !self.active.iter().any(|a| a == name) {
            return false;
        }
        let chain = self.active.join(" -> ");
        self.diags.push(
            Diagnostic::error(codes::RECURSION, format!("helper `{name}` calls itself ({chain} -> {name})"))
                .at(span)
                .help("helpers are inlined, so they cannot recurse: write the repetition as a loop or a generator"),
        );
        true
    }

    /// An expression helper's call: its returned expression.
    fn expand(
        &mut self,
        def: &HelperDef,
        args: &[Arg],
        span: Span,
        place: NoStatements,
    ) -> Option<Expr> {
        let name = &def.name.name;
        if self.recursion(name, span) {
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
        self.expr(&mut result, place);
        self.active.pop();
        Some(result)
    }

    /// A statement helper's call: its statements go to `pending` (renamed, with the
    /// arguments substituted and the helpers they call expanded); returns the value.
    fn expand_statements(&mut self, h: &Helper, args: &[Arg], span: Span) -> Option<Expr> {
        let def = &h.def;
        let name = &def.name.name;
        if self.recursion(name, span) {
            return None;
        }
        let mut env = self.bind(def, args, span)?;
        self.fresh += 1;
        let id = self.fresh;
        let mut names = Vec::new();
        bound_names(&def.body.stmts, &mut names);
        for n in names {
            env.insert(
                n.clone(),
                Expr {
                    kind: ExprKind::Name(format!("{n}'{id}")),
                    span,
                },
            );
        }
        let ret = format!("{name}'{id}");
        let (stmts, value) = if h.procedure {
            let value = Expr {
                kind: ExprKind::Int(0),
                span,
            };
            (def.body.stmts.clone(), value)
        } else if h.early_return {
            let (stmts, _) = returns_to_assignments(&def.body.stmts, &ret);
            let value = Expr {
                kind: ExprKind::Name(ret),
                span,
            };
            (stmts, value)
        } else {
            let mut stmts = def.body.stmts.clone();
            stmts.retain(|s| !matches!(s.kind, StmtKind::Pass));
            let Some(Stmt {
                kind: StmtKind::Return(v),
                ..
            }) = stmts.pop()
            else {
                return None;
            };
            (stmts, v[0].clone())
        };
        let mut block = Block {
            stmts: stmts
                .iter()
                .map(|s| {
                    let mut s = s.clone();
                    self.subst_stmt(&mut s, &env);
                    s
                })
                .collect(),
            span,
        };
        let mut value = self.subst(&value, &env);
        self.active.push(name.clone());
        self.block(&mut block);
        self.pending.extend(block.stmts);
        self.expr(&mut value, None);
        self.active.pop();
        Some(value)
    }

    /// Substitutes `env` in a statement of a statement helper: its uses of parameters
    /// become the arguments, its locals and loop variables their renamed forms.
    fn subst_stmt(&mut self, s: &mut Stmt, env: &HashMap<String, Expr>) {
        let renamed = |id: &mut Ident| {
            if let Some(Expr {
                kind: ExprKind::Name(n),
                ..
            }) = env.get(&id.name)
            {
                id.name = n.clone();
            }
        };
        match &mut s.kind {
            StmtKind::Decl { name, ty, init } => {
                renamed(name);
                self.subst_type(ty, env);
                if let Some(e) = init {
                    self.subst_in(e, env);
                }
            }
            StmtKind::Assign { targets, value } => {
                for t in targets {
                    self.subst_in(t, env);
                }
                self.subst_in(value, env);
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.subst_in(target, env);
                self.subst_in(value, env);
            }
            StmtKind::For { vars, iter, body } => {
                vars.iter_mut().for_each(renamed);
                self.subst_in(iter, env);
                for s in &mut body.stmts {
                    self.subst_stmt(s, env);
                }
            }
            StmtKind::While { cond, max, body } => {
                self.subst_in(cond, env);
                if let Some((_, n)) = max {
                    self.subst_in(n, env);
                }
                for s in &mut body.stmts {
                    self.subst_stmt(s, env);
                }
            }
            StmtKind::If {
                branches,
                else_block,
            } => {
                for (c, b) in branches {
                    self.subst_in(c, env);
                    for s in &mut b.stmts {
                        self.subst_stmt(s, env);
                    }
                }
                if let Some(b) = else_block {
                    for s in &mut b.stmts {
                        self.subst_stmt(s, env);
                    }
                }
            }
            StmtKind::Return(es) => {
                for e in es {
                    self.subst_in(e, env);
                }
            }
            StmtKind::Expr(e) => self.subst_in(e, env),
            StmtKind::UnexpectedIndent(b) => {
                for s in &mut b.stmts {
                    self.subst_stmt(s, env);
                }
            }
            StmtKind::Pass | StmtKind::Break | StmtKind::Continue | StmtKind::Error => {}
        }
    }

    /// Substitutes `env` in the sizes and type arguments of a declared type.
    fn subst_type(&mut self, t: &mut TypeExpr, env: &HashMap<String, Expr>) {
        let elem = match &mut t.kind {
            TypeExprKind::Scalar(e) => Some(e),
            TypeExprKind::Tensor { elem, dims } => {
                for d in dims {
                    if let DimExpr::Size(e) = d {
                        self.subst_in(e, env);
                    }
                }
                elem.as_mut()
            }
        };
        if let Some(ElemTypeExpr {
            kind: ElemTypeKind::Prim { args, .. },
            ..
        }) = elem
        {
            for a in args {
                self.subst_in(a, env);
            }
        }
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
