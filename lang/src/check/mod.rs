//! Kernel bodies: name resolution, desugaring, symbolic shape checks and element-class
//! checks, producing the HIR body of one kernel.
//!
//! Shapes are compared symbolically (sym.rs). Element types are checked by *class*
//! (bool, f32, integer, fixed, literal, or unknown for type variables) with the operator
//! rules of op_rules.rs: mixing f32 with exact types, `//` on fixed point, bitwise
//! operations on fractions and the like are reported here when the classes are known, and
//! again at instantiation for generic code. Widths are not this module's business: type
//! inference (passes) computes them.
//!
//! This file holds the checker's state and entry point; the work is split by concept:
//! - statements.rs: blocks, declarations, `return` and the other simple statements;
//! - assign.rs: assignments to names, elements and tuples, and the classes of locals;
//! - control.rs: `for` (over ranges and over tensors, `for v in a`), `while`, `if`, loop
//!   headers and conditions;
//! - expressions.rs: operators, comparisons, `if ... else` and the classes they give;
//! - names.rs: what a bare name in an expression stands for;
//! - indexing.rs: subscripts, slices and their chains (`a[i][j]`), `len` / `.shape`, and
//!   window offsets;
//! - calls.rs: kernel calls, conversions and kernel references;
//! - builtins.rs: builtin functions (math functions, `abs`, `min`, `max`, `dot`...);
//! - elementwise.rs: reductions, generators, `map` and comprehensions;
//! - shapes.rs: shape comparison, broadcasting, size binding at calls, printing sizes.

mod assign;
mod builtins;
mod calls;
mod control;
mod elementwise;
mod expressions;
mod indexing;
mod lists;
mod names;
mod shapes;
mod statements;

use crate::ast::{self, ExprKind as AE, StmtKind as AS};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, Dim, ElemRef, KParamKind};
use crate::resolve::{elem_type, Ctx, Symbol, SymbolEnv};
use crate::span::Span;
use crate::sym::SizeExpr;
use std::collections::{HashMap, HashSet};

pub use crate::op_rules::Class;

/// What the checker knows about an expression's value.
#[derive(Clone, Debug)]
struct Info {
    /// `None` for a scalar.
    shape: Option<Vec<Dim>>,
    class: Class,
}

impl Info {
    fn scalar(class: Class) -> Info {
        Info { shape: None, class }
    }
}

type Checked = Option<(hir::Expr, Info)>;

/// Where an expression sits, for the rules about calls and tensor temporaries.
#[derive(Copy, Clone, Default)]
struct Where {
    /// Inside a `for` or `if` body.
    nested: bool,
    /// Inside a lambda, generator or comprehension element.
    elementwise: bool,
    /// In a `while` condition (evaluated before every iteration).
    while_cond: bool,
}

/// An HIR expression of `kind` at `span`.
fn mk(kind: hir::ExprKind, span: Span) -> hir::Expr {
    hir::Expr { kind, span }
}

/// Checks the body of kernel `k`, whose signature is already in `out`, and stores the
/// HIR body there.
pub(crate) fn check_body(
    ctx: &Ctx,
    k: &ast::Kernel,
    out: &mut hir::Kernel,
    diags: &mut Diagnostics,
) {
    let mut c = Checker {
        ctx,
        k: out,
        diags,
        locals: HashMap::new(),
        local_class: Vec::new(),
        local_shape: Vec::new(),
        assigned: HashSet::new(),
        loop_scope: Vec::new(),
        loop_ranges: HashMap::new(),
        element_aliases: Vec::new(),
        open_loops: Vec::new(),
        lambda_scope: Vec::new(),
        wher: Where::default(),
        assigned_anywhere: HashMap::new(),
        returned: false,
        refused_return: false,
        last_call_result_shapes: None,
        poisoned: HashSet::new(),
        list_names: HashMap::new(),
        literal_only: HashSet::new(),
        depth: 0,
        too_deep: false,
        after_syntax_error: false,
    };
    c.output_param_locals();
    collect_assigned_names(&k.body.stmts, &mut c.assigned_anywhere);
    let prologue = c.rebound_params(&k.body.stmts);
    // An empty body is what recovery leaves of a body that did not parse.
    c.after_syntax_error = has_syntax_error(&k.body.stmts) || k.body.stmts.is_empty();
    let body = c.block(&k.body.stmts, true);
    // A kernel without results may have output parameters for its results instead.
    let has_outputs = c.k.results.is_empty() && c.k.params.iter().any(|p| p.written);
    if !c.returned
        && !c.after_syntax_error
        && !has_outputs
        && !c.refused_return
        && !c.k.results_unresolved
    {
        c.diags.push(
            Diagnostic::error(
                codes::BAD_RETURN,
                format!("kernel `{}` does not return its result", k.name.name),
            )
            .at(k.header_span)
            .help(if c.k.results.is_empty() {
                "declare its results (`-> T[...]`) and end the body with `return <value>`, or write its results into output parameters (`out[i] = ...`)"
            } else {
                "end the kernel body with `return <value>`"
            }),
        );
    }
    c.k.body = prologue.into_iter().chain(body).collect();
}

/// The blocks directly inside a statement: bodies of loops and branches, an
/// over-indented block.
fn nested_blocks(s: &ast::Stmt) -> Vec<&[ast::Stmt]> {
    match &s.kind {
        AS::For { body, .. } | AS::While { body, .. } | AS::UnexpectedIndent(body) => {
            vec![&body.stmts]
        }
        AS::If {
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

/// Whether a statement list holds a statement that did not parse.
fn has_syntax_error(stmts: &[ast::Stmt]) -> bool {
    stmts
        .iter()
        .any(|s| matches!(s.kind, AS::Error) || nested_blocks(s).into_iter().any(has_syntax_error))
}

/// The first place each name is assigned or declared, anywhere in the body.
fn collect_assigned_names(stmts: &[ast::Stmt], out: &mut HashMap<String, Span>) {
    for s in stmts {
        match &s.kind {
            AS::Decl { name, .. } => {
                out.entry(name.name.clone()).or_insert(name.span);
            }
            AS::Assign { targets, .. } => {
                for t in targets {
                    if let AE::Name(n) = &t.kind {
                        out.entry(n.clone()).or_insert(t.span);
                    }
                }
            }
            _ => {
                for b in nested_blocks(s) {
                    collect_assigned_names(b, out);
                }
            }
        }
    }
}

struct Checker<'a, 'b> {
    ctx: &'a Ctx<'b>,
    k: &'a mut hir::Kernel,
    diags: &'a mut Diagnostics,
    locals: HashMap<String, usize>,
    local_class: Vec<Class>,
    local_shape: Vec<Option<Vec<Dim>>>,
    /// Scalar locals definitely assigned at this point.
    assigned: HashSet<usize>,
    loop_scope: Vec<(String, usize)>,
    /// The range of each loop variable: from, to, step.
    loop_ranges: HashMap<usize, (SizeExpr, SizeExpr, i64)>,
    /// Names bound by `for v in a:`, innermost last: each stands for `a[i]`, written
    /// with the loop's hidden index variable.
    element_aliases: Vec<(String, ast::Expr, Option<Vec<Dim>>)>,
    /// The `for` / `while` statements around the statement being checked, innermost
    /// last: whether each is a `grid` loop (several variables), which `break` cannot
    /// leave at once.
    open_loops: Vec<bool>,
    /// Lambda parameters in scope: name, index, operand info (for windows).
    lambda_scope: Vec<(String, usize, Info, bool)>,
    wher: Where,
    assigned_anywhere: HashMap<String, Span>,
    /// A nested `return` the early-return rewrite refused (and reported).
    refused_return: bool,
    returned: bool,
    /// The body has statements that did not parse: names they would have defined are
    /// unknown, so unknown-name errors are not reported (they would only be noise).
    after_syntax_error: bool,
    /// Expression nesting depth, and whether the limit was reported.
    depth: usize,
    too_deep: bool,
    /// Names whose defining assignment failed to check: uses stay silent.
    poisoned: HashSet<String>,
    /// Inferred scalar locals assigned only literals so far (they may still become f32).
    literal_only: HashSet<usize>,
    /// Names of list literals (`w = [1, 2, 1]`), with the checked literal.
    list_names: HashMap<String, (hir::Expr, Info)>,
    /// Result shapes of the last multi-result call, for tuple assignment.
    last_call_result_shapes: Option<Vec<Option<Vec<Dim>>>>,
}

/// Names a checker sees, for size expressions inside bodies.
struct BodyEnv<'c, 'a, 'b> {
    c: &'c Checker<'a, 'b>,
}

impl SymbolEnv for BodyEnv<'_, '_, '_> {
    fn is_value(&self, name: &str) -> bool {
        self.c.locals.contains_key(name)
            || self
                .c
                .k
                .params
                .iter()
                .any(|p| p.name == name && p.kind != KParamKind::Const)
            || self.c.lambda_scope.iter().any(|(n, ..)| n == name)
    }
    fn symbol(&self, name: &str) -> Option<Symbol> {
        self.c.ctx.lookup(name).cloned()
    }
    fn item_failed(&self, name: &str) -> bool {
        self.c.ctx.item_failed(name)
    }
    fn size_symbol(&self, name: &str) -> Option<SizeExpr> {
        if let Some((_, v)) = self.c.loop_scope.iter().rev().find(|(n, _)| n == name) {
            return Some(SizeExpr::LoopVar(*v));
        }
        if let Some(i) = self.c.k.size_vars.iter().position(|v| v.name == name) {
            return Some(SizeExpr::Var(i));
        }
        self.c
            .k
            .params
            .iter()
            .position(|p| p.name == name && p.kind == KParamKind::Const)
            .map(SizeExpr::ConstParam)
    }
    fn type_var(&self, name: &str) -> Option<usize> {
        self.c.k.type_vars.iter().position(|v| v.name == name)
    }
    fn value_shape(&self, name: &str) -> Option<Option<Vec<Dim>>> {
        if self.c.lambda_scope.iter().any(|(n, ..)| n == name)
            || self.c.loop_scope.iter().any(|(n, _)| n == name)
        {
            return Some(None);
        }
        if let Some((.., shape)) = self
            .c
            .element_aliases
            .iter()
            .rev()
            .find(|(n, ..)| n == name)
        {
            return Some(shape.clone());
        }
        if let Some(&id) = self.c.locals.get(name) {
            return Some(self.c.local_shape[id].clone());
        }
        if let Some(p) = self.c.k.params.iter().find(|p| p.name == name) {
            return match &p.kind {
                KParamKind::Value(t) => Some(t.shape.clone()),
                KParamKind::Const => Some(None),
            };
        }
        match self.c.ctx.lookup(name) {
            Some(Symbol::Global(g)) => {
                let gl = &self.c.ctx.globals[*g];
                Some((!gl.shape.is_empty()).then(|| {
                    gl.shape
                        .iter()
                        .map(|&d| Dim::Size(SizeExpr::Const(d as i64)))
                        .collect()
                }))
            }
            _ => None,
        }
    }
}

/// Deepest expression nesting accepted (later stages recurse over expressions).
const MAX_NESTING: usize = 2000;

const BUILTINS: &[&str] = &[
    "range", "grid", "min", "max", "abs", "sum", "dot", "map", "load", "argmax", "argmin", "sqrt",
    "exp", "log", "tanh", "sigmoid", "bits", "len",
];

impl Checker<'_, '_> {
    /// Reports `d`, except name and return errors after a syntax error (they would be noise).
    fn err(&mut self, d: Diagnostic) {
        if self.after_syntax_error
            && matches!(
                d.code,
                codes::UNKNOWN_NAME | codes::USE_BEFORE_ASSIGN | codes::BAD_RETURN
            )
        {
            return;
        }
        self.diags.push(d);
    }

    /// The names the body sees, for size expressions and types.
    fn env(&self) -> BodyEnv<'_, '_, '_> {
        BodyEnv { c: self }
    }

    /// An element type written in the body.
    fn elem_type_here(&mut self, t: &ast::ElemTypeExpr) -> Option<ElemRef> {
        let mut ds = Diagnostics::default();
        let r = elem_type(&self.env(), t, &mut ds);
        self.diags.extend(ds.list);
        r
    }

    /// The name of parameter `i` (a `const` parameter), for messages.
    fn const_param_name(&self, i: usize) -> String {
        self.k.params.get(i).map_or("?".into(), |p| p.name.clone())
    }
}
