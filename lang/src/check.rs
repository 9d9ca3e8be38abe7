//! Kernel bodies: name resolution, desugaring, symbolic shape checks and element-class
//! checks, producing the HIR body of one kernel.
//!
//! Shapes are compared symbolically (sym.rs). Element types are checked by *class*
//! (bool, f32, integer, fixed, literal, or unknown for type variables): mixing f32 with
//! exact types, `//` on fixed point, bitwise operations on fractions and the like are
//! reported here when the classes are known, and again at instantiation for generic code.
//! Widths are not this module's business: type inference (passes) computes them.

use crate::ast::{self, BinOp, BoolOp, CmpOp, ExprKind as AE, StmtKind as AS};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{
    self, CallArg, Dim, ElemRef, ExprKind as HE, HUnaryOp, KParamKind, LoopHeader, Named, Place,
    ReduceOp, StmtKind as HS, Sub, TypeRef,
};
use crate::program::{elem_type, param_type, size_expr, suggest, Ctx, Symbol, SymbolEnv};
use crate::span::Span;
use crate::sym::{SizeExpr, SizeOp};
use kiln_numeric::ScalarType;
use std::collections::{HashMap, HashSet};

/// The class of an element type: what the checker needs to know before widths exist.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Class {
    Bool,
    F32,
    /// Exact, integer valued (int, uint, bin, tern, loop variables, sizes).
    Int,
    /// Exact, possibly fractional.
    Fixed,
    /// An integer literal: adapts to f32 or exact context.
    IntLit,
    /// A real literal: adapts to f32 or exact context.
    RealLit,
    /// Depends on a type variable: checked at instantiation.
    Unknown,
}

impl Class {
    pub fn of(t: &ScalarType) -> Class {
        match t {
            ScalarType::Bool => Class::Bool,
            ScalarType::F32 => Class::F32,
            ScalarType::Bin | ScalarType::Tern | ScalarType::Int(_) => Class::Int,
            ScalarType::Fixed(f) => {
                if f.frac_bits() <= 0 {
                    Class::Int
                } else {
                    Class::Fixed
                }
            }
        }
    }

    fn of_elem(e: &ElemRef) -> Class {
        match e {
            ElemRef::Known(t) => Class::of(t),
            ElemRef::Template { prim, .. } => match prim {
                ast::PrimType::Int
                | ast::PrimType::Uint
                | ast::PrimType::Bin
                | ast::PrimType::Tern => Class::Int,
                ast::PrimType::Fixed | ast::PrimType::Ufixed => Class::Fixed,
                ast::PrimType::F32 => Class::F32,
                ast::PrimType::Bool => Class::Bool,
            },
            ElemRef::Var(_) | ElemRef::Inferred => Class::Unknown,
        }
    }

    fn is_integer(self) -> bool {
        matches!(self, Class::Int | Class::IntLit)
    }

    fn is_exact(self) -> bool {
        matches!(
            self,
            Class::Int | Class::Fixed | Class::IntLit | Class::RealLit
        )
    }

    fn name(self) -> &'static str {
        match self {
            Class::Bool => "bool",
            Class::F32 => "f32",
            Class::Int => "an integer type",
            Class::Fixed => "a fixed-point type",
            Class::IntLit => "an integer literal",
            Class::RealLit => "a real literal",
            Class::Unknown => "a generic type",
        }
    }
}

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
}

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
        open_loops: Vec::new(),
        lambda_scope: Vec::new(),
        wher: Where::default(),
        assigned_anywhere: HashMap::new(),
        returned: false,
        last_call_result_shapes: None,
        poisoned: HashSet::new(),
        depth: 0,
        too_deep: false,
        after_syntax_error: false,
    };
    collect_assigned_names(&k.body.stmts, &mut c.assigned_anywhere);
    // An empty body is what recovery leaves of a body that did not parse.
    c.after_syntax_error = has_syntax_error(&k.body.stmts) || k.body.stmts.is_empty();
    let body = c.block(&k.body.stmts, true);
    if !c.returned && !c.after_syntax_error {
        c.diags.push(
            Diagnostic::error(
                codes::BAD_RETURN,
                format!("kernel `{}` does not return its result", k.name.name),
            )
            .at(k.header_span)
            .help("end the kernel body with `return <value>`"),
        );
    }
    c.k.body = body;
}

/// Whether a statement list holds a statement that did not parse.
fn has_syntax_error(stmts: &[ast::Stmt]) -> bool {
    stmts.iter().any(|s| match &s.kind {
        AS::Error => true,
        AS::For { body, .. } | AS::While { body, .. } | AS::UnexpectedIndent(body) => {
            has_syntax_error(&body.stmts)
        }
        AS::If {
            branches,
            else_block,
        } => {
            branches.iter().any(|(_, b)| has_syntax_error(&b.stmts))
                || else_block
                    .as_ref()
                    .is_some_and(|b| has_syntax_error(&b.stmts))
        }
        _ => false,
    })
}

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
            AS::UnexpectedIndent(body) => collect_assigned_names(&body.stmts, out),
            AS::For { body, .. } | AS::While { body, .. } => {
                collect_assigned_names(&body.stmts, out)
            }
            AS::If {
                branches,
                else_block,
            } => {
                for (_, b) in branches {
                    collect_assigned_names(&b.stmts, out);
                }
                if let Some(b) = else_block {
                    collect_assigned_names(&b.stmts, out);
                }
            }
            _ => {}
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
    /// The `for` / `while` statements around the statement being checked, innermost
    /// last: whether each is a `grid` loop (several variables), which `break` cannot
    /// leave at once.
    open_loops: Vec<bool>,
    /// Lambda parameters in scope: name, index, operand info (for windows).
    lambda_scope: Vec<(String, usize, Info, bool)>,
    wher: Where,
    assigned_anywhere: HashMap<String, Span>,
    returned: bool,
    /// The body has statements that did not parse: names they would have defined are
    /// unknown, so unknown-name errors are not reported (they would only be noise).
    after_syntax_error: bool,
    /// Expression nesting depth, and whether the limit was reported.
    depth: usize,
    too_deep: bool,
    /// Names whose defining assignment failed to check: uses stay silent.
    poisoned: HashSet<String>,
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
}

/// Deepest expression nesting accepted (later stages recurse over expressions).
const MAX_NESTING: usize = 2000;

const BUILTINS: &[&str] = &[
    "range", "grid", "min", "max", "abs", "sum", "dot", "map", "load", "argmax", "argmin", "sqrt",
    "exp", "log", "tanh", "sigmoid",
];

impl Checker<'_, '_> {
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

    fn env(&self) -> BodyEnv<'_, '_, '_> {
        BodyEnv { c: self }
    }

    fn elem_type_here(&mut self, t: &ast::ElemTypeExpr) -> Option<ElemRef> {
        let mut ds = Diagnostics::default();
        let r = elem_type(&self.env(), t, &mut ds);
        self.diags.extend(ds.list);
        r
    }

    fn const_param_name(&self, i: usize) -> String {
        self.k.params.get(i).map_or("?".into(), |p| p.name.clone())
    }

    fn show_size(&self, s: &SizeExpr) -> String {
        let names: Vec<String> = self.k.size_vars.iter().map(|v| v.name.clone()).collect();
        let loops: Vec<String> = self.k.loop_vars.iter().map(|v| v.name.clone()).collect();
        show_size_named(s, &names, &loops, &|i| self.const_param_name(i))
    }

    fn show_shape(&self, dims: &[Dim]) -> String {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Size(s) => self.show_size(s),
                Dim::Rest(v) => format!("*{}", self.k.shape_vars[*v].name),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    // ------------------------------------------------------------ statements

    fn block(&mut self, stmts: &[ast::Stmt], top: bool) -> hir::Block {
        let mut out = Vec::new();
        for (i, s) in stmts.iter().enumerate() {
            if self.returned && top {
                self.err(
                    Diagnostic::error(codes::BAD_RETURN, "statement after `return`")
                        .at(s.span)
                        .help("`return` must be the last statement of a kernel"),
                );
                break;
            }
            if let Some(h) = self.stmt(s, top, top && i + 1 == stmts.len()) {
                out.push(h);
            }
        }
        out
    }

    fn stmt(&mut self, s: &ast::Stmt, top: bool, last: bool) -> Option<hir::Stmt> {
        let span = s.span;
        let kind = match &s.kind {
            AS::Pass => return None,
            AS::Decl { name, ty, init } => self.decl(name, ty, init.as_ref(), top)?,
            AS::Assign { targets, value } => self.assign(targets, value, span)?,
            AS::AugAssign { target, op, value } => {
                let lhs_as_expr = target.clone();
                let combined = ast::Expr {
                    kind: AE::Binary(*op, Box::new(lhs_as_expr), Box::new(value.clone())),
                    span,
                };
                if let AE::Name(n) = &target.kind {
                    if !self.locals.contains_key(n) && self.lookup_value_name(n).is_none() {
                        self.err(
                            Diagnostic::error(
                                codes::USE_BEFORE_ASSIGN,
                                format!("`{n}` is updated before it has a value"),
                            )
                            .at(target.span)
                            .help(format!("initialize it first, e.g. `{n} = 0`")),
                        );
                        return None;
                    }
                }
                self.assign(std::slice::from_ref(target), &combined, span)?
            }
            AS::For { vars, iter, body } => return self.for_loop(vars, iter, body, span),
            AS::If {
                branches,
                else_block,
            } => return self.if_stmt(branches, else_block.as_ref(), span),
            AS::Return(vals) => {
                if !top {
                    self.err(
                        Diagnostic::error(codes::BAD_RETURN, "`return` inside a loop or branch")
                            .at(span)
                            .help("kernels return once, at the end of their body"),
                    );
                    return None;
                }
                let r = self.return_stmt(vals, span);
                self.returned = true;
                let _ = last;
                r?
            }
            AS::Expr(e) => {
                let what = if matches!(e.kind, AE::Call { .. }) {
                    "the value of this call is never used"
                } else {
                    "this expression is computed and thrown away"
                };
                self.err(
                    Diagnostic::error(codes::USELESS_EXPR, "expression statement has no effect")
                        .at(e.span)
                        .label(what)
                        .help("assign the value to a name or return it"),
                );
                return None;
            }
            AS::Error => return None,
            AS::UnexpectedIndent(b) => {
                let first = b.stmts.first().map_or(b.span, |st| st.span);
                // After a block header that did not parse, its body looks over-indented.
                if self.after_syntax_error {
                    let _ = self.block(&b.stmts, top);
                    return None;
                }
                self.err(
                    Diagnostic::error(codes::UNEXPECTED_INDENT, "unexpected indentation")
                        .at(Span::new(
                            first.file,
                            first.start as usize,
                            first.start as usize,
                        ))
                        .label("this line is indented deeper than the block it is in")
                        .help("indent only the body of a `kernel`, `for`, `if` or `else`"),
                );
                // Check the statements anyway, as if they were not indented.
                let _ = self.block(&b.stmts, top);
                return None;
            }
            AS::While { cond, max, body } => {
                return self.while_loop(cond, max.as_ref(), body, span)
            }
            AS::Break | AS::Continue => {
                let word = if matches!(s.kind, AS::Break) {
                    "break"
                } else {
                    "continue"
                };
                match self.open_loops.last() {
                    None => {
                        self.err(
                            Diagnostic::error(
                                codes::UNSUPPORTED,
                                format!("`{word}` outside a loop"),
                            )
                            .at(span),
                        );
                        return None;
                    }
                    Some(true) if word == "break" => {
                        self.err(
                            Diagnostic::error(codes::UNSUPPORTED, "`break` out of a `grid` loop")
                                .at(span)
                                .help("write the loops as nested `for ... in range(...)`: `break` leaves the innermost one"),
                        );
                        return None;
                    }
                    Some(_) if word == "break" => HS::Break,
                    Some(_) => HS::Continue,
                }
            }
        };
        Some(hir::Stmt { kind, span })
    }

    /// Makes sure `name` can become a new local.
    fn check_new_local_name(&mut self, name: &str, span: Span) -> bool {
        let clash = if self.k.params.iter().any(|p| p.name == name) {
            Some("a parameter of this kernel")
        } else if self.k.size_vars.iter().any(|v| v.name == name) {
            Some("a size variable of this kernel")
        } else if self.k.type_vars.iter().any(|v| v.name == name) {
            Some("a type variable")
        } else if self.loop_scope.iter().any(|(n, _)| n == name) {
            Some("a loop variable")
        } else {
            match self.ctx.lookup(name) {
                Some(Symbol::Kernel(_)) => Some("a kernel"),
                Some(Symbol::Global(_)) => Some("a module parameter"),
                Some(Symbol::Const(_)) | Some(Symbol::RealConst(_)) => Some("a module constant"),
                Some(Symbol::Alias(..)) => Some("a type alias"),
                Some(Symbol::Module(_)) => Some("an imported module"),
                None => None,
            }
        };
        if let Some(what) = clash {
            self.err(
                Diagnostic::error(
                    codes::READ_ONLY,
                    format!("cannot assign to `{name}`: it is {what}"),
                )
                .at(span)
                .help("use a new name for the local value"),
            );
            return false;
        }
        true
    }

    fn new_local(
        &mut self,
        name: &str,
        span: Span,
        declared: Option<TypeRef>,
        shape: Option<Vec<Dim>>,
        class: Class,
    ) -> usize {
        let id = self.k.locals.len();
        self.k.locals.push(hir::Local {
            name: name.to_string(),
            span,
            declared,
            is_tensor: shape.is_some(),
        });
        self.local_class.push(class);
        self.local_shape.push(shape);
        self.locals.insert(name.to_string(), id);
        id
    }

    fn local_type(&mut self, ty: &ast::TypeExpr) -> Option<TypeRef> {
        let mut size_vars = self.k.size_vars.clone();
        let mut shape_vars = self.k.shape_vars.clone();
        let const_params: Vec<(String, usize)> = self
            .k
            .params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == KParamKind::Const)
            .map(|(i, p)| (p.name.clone(), i))
            .collect();
        let type_vars = self.k.type_vars.clone();
        let mut values: Vec<String> = self.locals.keys().cloned().collect();
        values.extend(self.k.params.iter().map(|p| p.name.clone()));
        values.extend(self.loop_scope.iter().map(|(n, _)| n.clone()));
        param_type(
            self.ctx.modules,
            self.ctx.module,
            ty,
            &mut size_vars,
            &mut shape_vars,
            &const_params,
            &type_vars,
            false,
            &values,
            self.diags,
        )
    }

    fn decl(
        &mut self,
        name: &ast::Ident,
        ty: &ast::TypeExpr,
        init: Option<&ast::Expr>,
        top: bool,
    ) -> Option<HS> {
        if let Some(&prev) = self.locals.get(&name.name) {
            self.err(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("`{}` is declared twice", name.name),
                )
                .at(name.span)
                .with_secondary(self.k.locals[prev].span, "first declared here"),
            );
            return None;
        }
        if !self.check_new_local_name(&name.name, name.span) {
            return None;
        }
        let tref = self.local_type(ty)?;
        let class = Class::of_elem(&tref.elem);
        if tref.shape.is_some() {
            if tref.elem == ElemRef::Inferred {
                self.err(
                    Diagnostic::error(codes::NEEDS_ELEM_TYPE, format!("`{}` needs an element type", name.name))
                        .at(ty.span)
                        .help("write e.g. `y: fixed<8, 4>[K, H, W]`, or build the tensor with a comprehension `[e for i in grid(N)]`"),
                );
                return None;
            }
            if !top {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "local tensors must be declared at the top level of the kernel",
                    )
                    .at(name.span)
                    .help("move the declaration before the loop"),
                );
                return None;
            }
        }
        let init_h = match init {
            None => None,
            Some(e) => {
                let (h, info) = self.expr(e)?;
                self.check_assign_class(class, info.class, e.span, &name.name);
                if let Some(shape) = &tref.shape {
                    if let Some(vs) = &info.shape {
                        self.same_shape(shape, vs, e.span, "the declared shape");
                    }
                } else if info.shape.is_some() {
                    self.err(
                        Diagnostic::error(
                            codes::KIND_MISMATCH,
                            format!("`{}` is a scalar but gets a tensor", name.name),
                        )
                        .at(e.span),
                    );
                }
                Some(h)
            }
        };
        let shape = tref.shape.clone();
        let id = self.new_local(&name.name, name.span, Some(tref), shape.clone(), class);
        if init_h.is_some() || shape.is_some() {
            self.assigned.insert(id);
        }
        Some(HS::Decl {
            local: id,
            init: init_h,
        })
    }

    fn check_assign_class(&mut self, target: Class, value: Class, span: Span, name: &str) {
        let bad = match (target, value) {
            (Class::Unknown, _) | (_, Class::Unknown) => false,
            (Class::Bool, v) => v != Class::Bool,
            (_, Class::Bool) => true,
            _ => false,
        };
        if bad {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` holds {} but gets {}", target.name(), value.name()),
                )
                .at(span)
                .help("convert explicitly, e.g. `bool(x)` or `int<1>(flag)`"),
            );
        }
    }

    fn assign(&mut self, targets: &[ast::Expr], value: &ast::Expr, span: Span) -> Option<HS> {
        if targets.len() > 1 || matches!(value.kind, AE::Tuple(_)) {
            return self.assign_tuple(targets, value, span);
        }
        let target = &targets[0];
        match &target.kind {
            AE::Name(n) => {
                let Some((vh, vinfo)) = self.expr(value) else {
                    // Later uses of the name would only repeat the error.
                    if !self.locals.contains_key(n) {
                        self.poisoned.insert(n.clone());
                    }
                    return None;
                };
                if let Some(&id) = self.locals.get(n) {
                    let lshape = self.local_shape[id].clone();
                    match (&lshape, &vinfo.shape) {
                        (None, Some(_)) => {
                            self.err(
                                Diagnostic::error(
                                    codes::KIND_MISMATCH,
                                    format!("`{n}` is a scalar but gets a tensor"),
                                )
                                .at(value.span)
                                .with_secondary(self.k.locals[id].span, "first assigned here"),
                            );
                            return None;
                        }
                        (Some(ls), vs) => {
                            if let Some(vs) = vs {
                                self.same_shape(ls, vs, value.span, &format!("`{n}`"));
                            }
                            if self.wher.nested && self.k.locals[id].declared.is_none() {
                                self.err(
                                    Diagnostic::error(codes::UNSUPPORTED, "whole-tensor assignment inside a loop or branch")
                                        .at(span)
                                        .help("assign slices or elements (`y[i] = ...`), or move the assignment to the top level"),
                                );
                                return None;
                            }
                        }
                        (None, None) => {}
                    }
                    let declared = self.k.locals[id].declared.is_some();
                    if declared {
                        let lc = self.local_class[id];
                        self.check_assign_class(lc, vinfo.class, value.span, n);
                    } else {
                        let merged = self.merge_inferred_class(id, vinfo.class, value.span)?;
                        self.local_class[id] = merged;
                    }
                    self.assigned.insert(id);
                    Some(HS::Assign {
                        target: Place::Local(id),
                        value: vh,
                    })
                } else {
                    if !self.check_new_local_name(n, target.span) {
                        return None;
                    }
                    if vinfo.shape.is_some() && self.wher.nested {
                        self.err(
                            Diagnostic::error(codes::UNSUPPORTED, "a new tensor cannot be created inside a loop or branch")
                                .at(span)
                                .help("declare the tensor at the top level (`t: T[N]`) and assign its elements here"),
                        );
                        return None;
                    }
                    let class = match vinfo.class {
                        Class::IntLit => Class::Int,
                        Class::RealLit => Class::Fixed,
                        c => c,
                    };
                    let id = self.new_local(n, target.span, None, vinfo.shape.clone(), class);
                    self.assigned.insert(id);
                    Some(HS::Assign {
                        target: Place::Local(id),
                        value: vh,
                    })
                }
            }
            AE::Index { base, subs } => {
                let AE::Name(n) = &base.kind else {
                    self.err(
                        Diagnostic::error(
                            codes::READ_ONLY,
                            "only local tensors can be assigned to",
                        )
                        .at(base.span),
                    );
                    return None;
                };
                let Some(&id) = self.locals.get(n) else {
                    let what = if self.lookup_value_name(n).is_some() {
                        "parameters are read-only"
                    } else {
                        "it is not a local tensor"
                    };
                    self.err(
                        Diagnostic::error(
                            codes::READ_ONLY,
                            format!("cannot assign to elements of `{n}`: {what}"),
                        )
                        .at(base.span)
                        .help(format!("declare a local tensor first: `{n}_out: T[...]`")),
                    );
                    return None;
                };
                let Some(lshape) = self.local_shape[id].clone() else {
                    self.err(
                        Diagnostic::error(
                            codes::KIND_MISMATCH,
                            format!("`{n}` is a scalar and cannot be indexed"),
                        )
                        .at(target.span),
                    );
                    return None;
                };
                if self.k.locals[id].declared.is_none() {
                    self.err(
                        Diagnostic::error(
                            codes::NEEDS_ELEM_TYPE,
                            format!(
                                "elements of `{n}` are written, so `{n}` needs a declared type"
                            ),
                        )
                        .at(target.span)
                        .with_secondary(
                            self.k.locals[id].span,
                            "its type is inferred from this assignment",
                        )
                        .help(format!("declare it: `{n}: T[...]`")),
                    );
                    return None;
                }
                let (hsubs, region) = self.subscripts(&lshape, subs, target.span)?;
                let (vh, vinfo) = self.expr(value)?;
                let lc = self.local_class[id];
                self.check_assign_class(lc, vinfo.class, value.span, n);
                match (&region, &vinfo.shape) {
                    (None, Some(_)) => {
                        self.err(
                            Diagnostic::error(
                                codes::KIND_MISMATCH,
                                format!("an element of `{n}` gets a tensor"),
                            )
                            .at(value.span),
                        );
                        return None;
                    }
                    (Some(r), Some(v)) => {
                        self.same_shape(r, v, value.span, "the assigned region");
                    }
                    _ => {}
                }
                Some(HS::Assign {
                    target: Place::Index {
                        local: id,
                        subs: hsubs,
                    },
                    value: vh,
                })
            }
            _ => {
                self.err(
                    Diagnostic::error(codes::READ_ONLY, "this cannot be assigned to")
                        .at(target.span)
                        .help("assign to a name (`x = ...`) or to elements of a local tensor (`y[i] = ...`)"),
                );
                None
            }
        }
    }

    fn merge_inferred_class(&mut self, id: usize, value: Class, span: Span) -> Option<Class> {
        let cur = self.local_class[id];
        let merged = match (cur, value) {
            (Class::Unknown, _) | (_, Class::Unknown) => Class::Unknown,
            (a, b) if a == b => a,
            (Class::Bool, _) | (_, Class::Bool) => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "`{}` gets both bool and numeric values",
                            self.k.locals[id].name
                        ),
                    )
                    .at(span)
                    .with_secondary(self.k.locals[id].span, "first assigned here"),
                );
                return None;
            }
            (Class::F32, b) if b.is_exact() && !matches!(b, Class::IntLit | Class::RealLit) => {
                return self.mixed_local(id, span);
            }
            (a, Class::F32) if a.is_exact() => return self.mixed_local(id, span),
            (Class::F32, _) | (_, Class::F32) => Class::F32,
            (Class::Int, Class::IntLit) | (Class::IntLit, Class::Int) => Class::Int,
            _ => Class::Fixed,
        };
        Some(merged)
    }

    fn mixed_local(&mut self, id: usize, span: Span) -> Option<Class> {
        let name = self.k.locals[id].name.clone();
        self.err(
            Diagnostic::error(
                codes::MIXED_FLOAT,
                format!("`{name}` gets both f32 and exact values"),
            )
            .at(span)
            .with_secondary(self.k.locals[id].span, "first assigned here")
            .help(format!(
                "declare its type (`{name}: f32 = ...`) or convert the values explicitly"
            )),
        );
        None
    }

    fn assign_tuple(&mut self, targets: &[ast::Expr], value: &ast::Expr, span: Span) -> Option<HS> {
        if !matches!(value.kind, AE::Call { .. }) {
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "tuple assignment only unpacks the results of a kernel call",
                )
                .at(span)
                .help("assign each value separately"),
            );
            return None;
        }
        if self.wher.nested {
            self.call_not_top_level(value.span);
            return None;
        }
        let Some((vh, _)) = self.expr_multi(value, targets.len()) else {
            for t in targets {
                if let AE::Name(n) = &t.kind {
                    if !self.locals.contains_key(n) {
                        self.poisoned.insert(n.clone());
                    }
                }
            }
            return None;
        };
        let HE::Call { kernel, .. } = &vh.kind else {
            return None;
        };
        let results = self.ctx.kernels[*kernel].results.clone();
        let mut ids = Vec::new();
        for (t, r) in targets.iter().zip(&results) {
            let AE::Name(n) = &t.kind else {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "unpack into plain names").at(t.span),
                );
                return None;
            };
            if self.locals.contains_key(n) || !self.check_new_local_name(n, t.span) {
                if self.locals.contains_key(n) {
                    self.err(
                        Diagnostic::error(
                            codes::DUPLICATE,
                            format!("`{n}` already exists; unpack into new names"),
                        )
                        .at(t.span),
                    );
                }
                return None;
            }
            let shape = r.shape.as_ref().map(|_| Vec::new());
            let class = Class::of_elem(&r.elem);
            let id = self.new_local(n, t.span, None, shape, class);
            self.assigned.insert(id);
            ids.push(id);
        }
        // Real result shapes were checked in expr_multi; record them on the locals.
        if let Some(shapes) = self.last_call_result_shapes.take() {
            for (id, s) in ids.iter().zip(shapes) {
                self.local_shape[*id] = s;
                self.k.locals[*id].is_tensor = self.local_shape[*id].is_some();
            }
        }
        Some(HS::AssignTuple {
            targets: ids,
            value: vh,
        })
    }

    fn return_stmt(&mut self, vals: &[ast::Expr], span: Span) -> Option<HS> {
        self.k.return_span = span;
        let results = self.k.results.clone();
        let flat: Vec<&ast::Expr> = if vals.len() == 1 {
            if let AE::Tuple(items) = &vals[0].kind {
                items.iter().collect()
            } else {
                vec![&vals[0]]
            }
        } else {
            vals.iter().collect()
        };
        if flat.len() != results.len() {
            self.err(
                Diagnostic::error(
                    codes::BAD_RETURN,
                    format!(
                        "this kernel declares {} result(s) but returns {}",
                        results.len(),
                        flat.len()
                    ),
                )
                .at(span)
                .with_secondary(self.k.span, "results declared here"),
            );
            return None;
        }
        let mut out = Vec::new();
        for (v, r) in flat.into_iter().zip(&results) {
            let (h, info) = self.expr(v)?;
            match (&r.shape, &info.shape) {
                (Some(rs), Some(vs)) => {
                    self.same_shape(rs, vs, v.span, "the declared result");
                }
                (Some(_), None) => {
                    self.err(
                        Diagnostic::error(
                            codes::KIND_MISMATCH,
                            "the kernel returns a tensor but this is a scalar",
                        )
                        .at(v.span)
                        .with_secondary(r.span, "declared result"),
                    );
                }
                (None, Some(_)) => {
                    self.err(
                        Diagnostic::error(
                            codes::KIND_MISMATCH,
                            "the kernel returns a scalar but this is a tensor",
                        )
                        .at(v.span)
                        .with_secondary(r.span, "declared result"),
                    );
                }
                (None, None) => {}
            }
            let rc = Class::of_elem(&r.elem);
            self.check_assign_class(rc, info.class, v.span, "the result");
            out.push(h);
        }
        Some(HS::Return(out))
    }

    fn for_loop(
        &mut self,
        vars: &[ast::Ident],
        iter: &ast::Expr,
        body: &ast::Block,
        span: Span,
    ) -> Option<hir::Stmt> {
        let headers = self.loop_headers(vars, iter, false)?;
        let saved_assigned = self.assigned.clone();
        let saved_where = self.wher;
        self.wher.nested = true;
        let n = headers.len();
        for (i, h) in headers.iter().enumerate() {
            self.loop_scope.push((vars[i].name.clone(), h.var));
        }
        self.open_loops.push(n > 1);
        let inner = self.block(&body.stmts, false);
        self.open_loops.pop();
        self.loop_scope.truncate(self.loop_scope.len() - n);
        self.wher = saved_where;
        self.assigned = saved_assigned;
        let mut stmt_body = inner;
        for h in headers.into_iter().rev() {
            stmt_body = vec![hir::Stmt {
                kind: HS::For {
                    header: h,
                    body: stmt_body,
                },
                span,
            }];
        }
        stmt_body.pop()
    }

    /// `while cond, max=N:` runs its body while `cond` holds, at most N times (a
    /// compile-time integer: hardware needs the bound).
    fn while_loop(
        &mut self,
        cond: &ast::Expr,
        max: Option<&(ast::Ident, ast::Expr)>,
        body: &ast::Block,
        span: Span,
    ) -> Option<hir::Stmt> {
        let Some((word, n)) = max else {
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "a `while` loop needs a maximum number of iterations",
                )
                .at(span)
                .help("hardware needs a bound: write `while cond, max=N:` with a compile-time N"),
            );
            return None;
        };
        if word.name != "max" {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("a `while` loop takes `max=N`, not `{}=`", word.name),
                )
                .at(word.span),
            );
            return None;
        }
        let max = match size_expr(&self.env(), n) {
            Ok(m) => m,
            Err(d) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        "the maximum of a `while` loop must be a compile-time integer",
                    )
                    .at(n.span)
                    .label(d.message),
                );
                return None;
            }
        };
        let (c, info) = self.expr(cond)?;
        if info.shape.is_some() || info.class != Class::Bool {
            self.err(
                Diagnostic::error(codes::NOT_BOOL, "a `while` condition must be a bool")
                    .at(cond.span),
            );
            return None;
        }
        let saved_assigned = self.assigned.clone();
        let saved_where = self.wher;
        self.wher.nested = true;
        self.open_loops.push(false);
        let inner = self.block(&body.stmts, false);
        self.open_loops.pop();
        self.wher = saved_where;
        self.assigned = saved_assigned;
        Some(hir::Stmt {
            kind: HS::While {
                cond: c,
                max,
                max_span: n.span,
                body: inner,
            },
            span,
        })
    }

    /// Loop headers of `for vars in iter` (or of a generator): `range(...)` or `grid(...)`.
    /// The new loop variables are registered but not put in scope.
    fn loop_headers(
        &mut self,
        vars: &[ast::Ident],
        iter: &ast::Expr,
        rectangular: bool,
    ) -> Option<Vec<LoopHeader>> {
        let bad_iter = |c: &mut Self| {
            c.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    "loops iterate over `range(...)` or `grid(...)`",
                )
                .at(iter.span)
                .help("write `for i in range(N)` or `for k, i, j in grid(K, H, W)`"),
            );
            None
        };
        let AE::Call { func, args } = &iter.kind else {
            return bad_iter(self);
        };
        let AE::Name(f) = &func.kind else {
            return bad_iter(self);
        };
        if args.iter().any(|a| a.name.is_some()) {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{f}` takes positional arguments only"),
                )
                .at(iter.span),
            );
            return None;
        }
        for v in vars {
            if self.loop_scope.iter().any(|(n, _)| n == &v.name)
                || self.locals.contains_key(&v.name)
            {
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE,
                        format!("loop variable `{}` shadows an existing name", v.name),
                    )
                    .at(v.span),
                );
                return None;
            }
            if !self.check_new_local_name(&v.name, v.span) {
                return None;
            }
        }
        let mut sizes = Vec::new();
        for a in args {
            match size_expr(&self.env(), &a.value) {
                Ok(s) => sizes.push((s, a.value.span)),
                Err(d) => {
                    let d = Diagnostic::error(codes::BAD_LOOP, "loop bounds must be compile-time integers")
                        .at(a.value.span)
                        .label(d.message)
                        .help("bounds are built from literals, sizes, `const` parameters and enclosing loop variables");
                    self.err(d);
                    return None;
                }
            }
        }
        let mut ranges: Vec<(SizeExpr, SizeExpr, i64, Span)> = Vec::new();
        match f.as_str() {
            "range" => {
                if vars.len() != 1 {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_LOOP,
                            format!("`range` gives one loop variable, not {}", vars.len()),
                        )
                        .at(iter.span)
                        .help("use `grid(...)` for several variables"),
                    );
                    return None;
                }
                let (lo, hi, step) = match sizes.len() {
                    1 => (SizeExpr::Const(0), sizes[0].0.clone(), 1),
                    2 | 3 => {
                        let step = if sizes.len() == 3 {
                            match sizes[2].0.as_const() {
                                Some(0) | None => {
                                    self.err(
                                        Diagnostic::error(
                                            codes::BAD_LOOP,
                                            "the step of `range` must be a non-zero constant",
                                        )
                                        .at(sizes[2].1),
                                    );
                                    return None;
                                }
                                Some(s) => s,
                            }
                        } else {
                            1
                        };
                        (sizes[0].0.clone(), sizes[1].0.clone(), step)
                    }
                    _ => {
                        self.err(
                            Diagnostic::error(codes::BAD_ARGS, "`range` takes 1 to 3 arguments")
                                .at(iter.span),
                        );
                        return None;
                    }
                };
                ranges.push((lo, hi, step, iter.span));
            }
            "grid" => {
                if sizes.len() != vars.len() {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_LOOP,
                            format!(
                                "`grid` has {} extents but the loop names {} variables",
                                sizes.len(),
                                vars.len()
                            ),
                        )
                        .at(iter.span),
                    );
                    return None;
                }
                for (s, sp) in &sizes {
                    ranges.push((SizeExpr::Const(0), s.clone(), 1, *sp));
                }
            }
            _ => return bad_iter(self),
        }
        let mut headers = Vec::new();
        for (i, (lo, hi, step, sp)) in ranges.into_iter().enumerate() {
            if rectangular && (lo.mentions_loop_var() || hi.mentions_loop_var()) {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        "the extents of a comprehension must not depend on loop variables",
                    )
                    .at(sp)
                    .help("a comprehension builds a tensor, whose shape must be fixed"),
                );
                return None;
            }
            let var = self.k.loop_vars.len();
            self.k.loop_vars.push(Named {
                name: vars[i].name.clone(),
                span: vars[i].span,
            });
            headers.push(LoopHeader {
                var,
                lo,
                hi,
                step,
                span: sp,
            });
        }
        Some(headers)
    }

    fn if_stmt(
        &mut self,
        branches: &[(ast::Expr, ast::Block)],
        else_block: Option<&ast::Block>,
        span: Span,
    ) -> Option<hir::Stmt> {
        let saved_where = self.wher;
        let before = self.assigned.clone();
        let mut after: Option<HashSet<usize>> = None;
        let mut conds = Vec::new();
        let mut blocks = Vec::new();
        for (cond, body) in branches {
            self.assigned = before.clone();
            let c = self.condition(cond);
            self.wher.nested = true;
            let b = self.block(&body.stmts, false);
            self.wher = saved_where;
            after = Some(match after {
                None => self.assigned.clone(),
                Some(a) => a.intersection(&self.assigned).copied().collect(),
            });
            conds.push(c);
            blocks.push(b);
        }
        self.assigned = before.clone();
        let else_h = match else_block {
            Some(b) => {
                self.wher.nested = true;
                let h = self.block(&b.stmts, false);
                self.wher = saved_where;
                h
            }
            None => Vec::new(),
        };
        let after_else = self.assigned.clone();
        self.assigned = match after {
            Some(a) => a.intersection(&after_else).copied().collect(),
            None => before,
        };
        // Build the if / elif chain from the inside out.
        let mut else_part = else_h;
        for (c, b) in conds.into_iter().zip(blocks).rev() {
            let c = c?;
            let stmt = hir::Stmt {
                kind: HS::If {
                    cond: c,
                    then_block: b,
                    else_block: else_part,
                },
                span,
            };
            else_part = vec![stmt];
        }
        else_part.pop()
    }

    fn condition(&mut self, e: &ast::Expr) -> Option<hir::Expr> {
        let (h, info) = self.expr(e)?;
        if info.shape.is_some() {
            self.err(
                Diagnostic::error(
                    codes::KIND_MISMATCH,
                    "a condition must be a single bool, not a tensor",
                )
                .at(e.span),
            );
            return None;
        }
        if !matches!(info.class, Class::Bool | Class::Unknown) {
            self.err(
                Diagnostic::error(
                    codes::NOT_BOOL,
                    format!("a condition must be a bool, not {}", info.class.name()),
                )
                .at(e.span)
                .help("compare explicitly, e.g. `x != 0`"),
            );
            return None;
        }
        Some(h)
    }

    // ------------------------------------------------------------ shapes

    fn same_shape(&mut self, want: &[Dim], got: &[Dim], span: Span, what: &str) -> bool {
        let ok = want.len() == got.len()
            && want.iter().zip(got).all(|(a, b)| match (a, b) {
                (Dim::Size(x), Dim::Size(y)) => x.same_as(y),
                (Dim::Rest(x), Dim::Rest(y)) => x == y,
                _ => false,
            });
        if !ok {
            let certain = want.len() != got.len()
                || want.iter().zip(got).any(|(a, b)| matches!((a, b), (Dim::Size(x), Dim::Size(y)) if x.certainly_differs(y)));
            let msg = format!(
                "shape {} does not match {what}, {}",
                self.show_shape(got),
                self.show_shape(want)
            );
            let mut d = Diagnostic::error(codes::SHAPE_MISMATCH, msg).at(span);
            if !certain {
                d = d.note("kiln compares dimensions symbolically and could not prove these equal")
                    .help("if they are always equal, write them the same way or bind them to the same size variable");
            }
            self.err(d);
        }
        ok
    }

    fn broadcast(&mut self, a: &Info, b: &Info, span: Span) -> Option<Option<Vec<Dim>>> {
        match (&a.shape, &b.shape) {
            (None, None) => Some(None),
            (Some(s), None) | (None, Some(s)) => Some(Some(s.clone())),
            (Some(x), Some(y)) => {
                if self.same_shape(x, y, span, "the other operand's shape") {
                    Some(Some(x.clone()))
                } else {
                    None
                }
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, e: &ast::Expr) -> Checked {
        self.expr_multi(e, 1)
    }

    /// Checks an expression that may be a multi-result call when `results > 1`.
    fn expr_multi(&mut self, e: &ast::Expr, results: usize) -> Checked {
        self.depth += 1;
        let r = if self.depth > MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        format!("expression nested more than {MAX_NESTING} levels deep"),
                    )
                    .at(e.span)
                    .help("split it with intermediate names, or use `sum(...)` for long sums"),
                );
            }
            None
        } else {
            self.expr_nested(e, results)
        };
        self.depth -= 1;
        r
    }

    fn expr_nested(&mut self, e: &ast::Expr, results: usize) -> Checked {
        let span = e.span;
        let mk = |kind: HE| hir::Expr { kind, span };
        match &e.kind {
            AE::Int(v) => Some((mk(HE::Int(*v)), Info::scalar(Class::IntLit))),
            AE::Float(s) => Some((mk(HE::Real(s.clone())), Info::scalar(Class::RealLit))),
            AE::Bool(b) => Some((mk(HE::Bool(*b)), Info::scalar(Class::Bool))),
            AE::Str(_) => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "strings only appear in `load(\"...\")`")
                        .at(span),
                );
                None
            }
            AE::Name(n) => self.name(n, span),
            AE::Attr(..) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        "a module or module member is not a value",
                    )
                    .at(span)
                    .help("call a kernel of the module: `module.kernel(...)`"),
                );
                None
            }
            AE::Unary(op, a) => {
                let (h, info) = self.expr(a)?;
                match op {
                    ast::UnaryOp::Plus => {
                        self.numeric(info.class, a.span, "unary `+`")?;
                        Some((h, info))
                    }
                    ast::UnaryOp::Neg => {
                        self.numeric(info.class, a.span, "negation")?;
                        Some((mk(HE::Unary(HUnaryOp::Neg, Box::new(h))), info))
                    }
                    ast::UnaryOp::BitNot => {
                        if !matches!(info.class, Class::Int | Class::IntLit | Class::Unknown) {
                            self.err(
                                Diagnostic::error(
                                    codes::TYPE_MISMATCH,
                                    format!("`~` needs an integer, not {}", info.class.name()),
                                )
                                .at(a.span),
                            );
                            return None;
                        }
                        Some((mk(HE::Unary(HUnaryOp::BitNot, Box::new(h))), info))
                    }
                    ast::UnaryOp::Not => {
                        if !matches!(info.class, Class::Bool | Class::Unknown) {
                            self.err(
                                Diagnostic::error(
                                    codes::NOT_BOOL,
                                    format!("`not` needs a bool, not {}", info.class.name()),
                                )
                                .at(a.span)
                                .help("compare explicitly, e.g. `x == 0`"),
                            );
                            return None;
                        }
                        Some((mk(HE::Unary(HUnaryOp::Not, Box::new(h))), info))
                    }
                }
            }
            AE::Binary(op, a, b) => {
                let (ha, ia) = self.expr(a)?;
                let (hb, ib) = self.expr(b)?;
                let class = self.binary_class(*op, ia.class, ib.class, span, a.span, b.span)?;
                let shape = self.broadcast(&ia, &ib, span)?;
                if matches!(op, BinOp::Shl | BinOp::Shr) && ib.shape.is_some() {
                    self.err(
                        Diagnostic::error(codes::KIND_MISMATCH, "a shift amount must be a scalar")
                            .at(b.span),
                    );
                    return None;
                }
                Some((
                    mk(HE::Binary(*op, Box::new(ha), Box::new(hb))),
                    Info { shape, class },
                ))
            }
            AE::Compare(first, rest) => self.compare_chain(first, rest, span),
            AE::BoolOp(op, a, b) => {
                let (ha, ia) = self.expr(a)?;
                let (hb, ib) = self.expr(b)?;
                for (i, s) in [(&ia, a.span), (&ib, b.span)] {
                    if !matches!(i.class, Class::Bool | Class::Unknown) {
                        let w = if *op == BoolOp::And { "and" } else { "or" };
                        self.err(
                            Diagnostic::error(
                                codes::NOT_BOOL,
                                format!("`{w}` needs bools, not {}", i.class.name()),
                            )
                            .at(s)
                            .help("compare explicitly, e.g. `x != 0`; for bits use `&` / `|`"),
                        );
                        return None;
                    }
                }
                let shape = self.broadcast(&ia, &ib, span)?;
                Some((
                    mk(HE::Logic(*op, Box::new(ha), Box::new(hb))),
                    Info {
                        shape,
                        class: Class::Bool,
                    },
                ))
            }
            AE::IfElse {
                cond,
                then,
                otherwise,
            } => {
                let (hc, ic) = self.expr(cond)?;
                if !matches!(ic.class, Class::Bool | Class::Unknown) {
                    self.err(
                        Diagnostic::error(
                            codes::NOT_BOOL,
                            "the condition of `if ... else` must be a bool",
                        )
                        .at(cond.span),
                    );
                    return None;
                }
                let (ht, it) = self.expr(then)?;
                let (ho, io) = self.expr(otherwise)?;
                let class = self.unify_branches(it.class, io.class, then.span, otherwise.span)?;
                let s1 = self.broadcast(&it, &io, span)?;
                let shape = self.broadcast(&ic, &Info { shape: s1, class }, span)?;
                Some((
                    mk(HE::Select {
                        cond: Box::new(hc),
                        then: Box::new(ht),
                        otherwise: Box::new(ho),
                    }),
                    Info { shape, class },
                ))
            }
            AE::Call { func, args } => self.call(func, args, span, results),
            AE::Index { base, subs } => self.index(base, subs, span),
            AE::TypeLit(_) => {
                self.err(
                    Diagnostic::error(codes::WRONG_NAME_KIND, "a type is not a value")
                        .at(span)
                        .help("to convert a value, call the type: `fixed<8, 4>(x)`"),
                );
                None
            }
            AE::Lambda { .. } => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_MAP,
                        "a lambda can only be the first argument of `map`",
                    )
                    .at(span),
                );
                None
            }
            AE::Generator(_) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_REDUCTION,
                        "a generator expression can only be the argument of `sum`, `max` or `min`",
                    )
                    .at(span),
                );
                None
            }
            AE::Comprehension(g) => self.comprehension(g, span),
            AE::Tuple(_) => {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "tuples only appear in `return a, b` and `a, b = kernel(...)`",
                    )
                    .at(span),
                );
                None
            }
        }
    }

    fn numeric(&mut self, c: Class, span: Span, what: &str) -> Option<()> {
        if c == Class::Bool {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("{what} needs a number, not a bool"),
                )
                .at(span)
                .help("convert with `int<1>(b)` or `uint<1>(b)`"),
            );
            return None;
        }
        Some(())
    }

    fn unify_branches(&mut self, a: Class, b: Class, sa: Span, sb: Span) -> Option<Class> {
        self.unify_values(a, b, sa, sb, "the branches")
    }

    /// The class of values that must agree (`what`: "the branches", "the arguments of `max`").
    fn unify_values(
        &mut self,
        a: Class,
        b: Class,
        sa: Span,
        sb: Span,
        what: &str,
    ) -> Option<Class> {
        use Class::*;
        let r = match (a, b) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (x, y) if x == y => x,
            (Bool, _) | (_, Bool) => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("{what} are {} and {}", a.name(), b.name()),
                    )
                    .at(sa)
                    .with_secondary(sb, "this one"),
                );
                return None;
            }
            (F32, IntLit | RealLit) | (IntLit | RealLit, F32) => F32,
            (F32, _) | (_, F32) => {
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("{what} mix f32 with an exact type"),
                    )
                    .at(sa)
                    .with_secondary(sb, "this one")
                    .help("convert one side explicitly: `f32(x)` or `fixed<W, I>(y)`"),
                );
                return None;
            }
            (Int, IntLit) | (IntLit, Int) => Int,
            (IntLit, RealLit) | (RealLit, IntLit) => RealLit,
            _ => Fixed,
        };
        Some(r)
    }

    /// Class of `a op b`, or a diagnostic.
    fn binary_class(
        &mut self,
        op: BinOp,
        a: Class,
        b: Class,
        span: Span,
        sa: Span,
        sb: Span,
    ) -> Option<Class> {
        use Class::*;
        let sym = op.symbol();
        if a == Bool || b == Bool {
            let s = if a == Bool { sa } else { sb };
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{sym}` needs numbers, not a bool"),
                )
                .at(s)
                .help(match op {
                    BinOp::BitAnd | BinOp::BitOr => "for logic on bools use `and` / `or`",
                    _ => "convert with `int<1>(b)` or `uint<1>(b)`",
                }),
            );
            return None;
        }
        if matches!(op, BinOp::Shl | BinOp::Shr) {
            if a == F32 {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("`{sym}` shifts exact values, not f32"),
                    )
                    .at(sa)
                    .help("multiply by a power of two instead"),
                );
                return None;
            }
            if !matches!(b, Int | IntLit | Unknown) {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("a shift amount must be an integer, not {}", b.name()),
                    )
                    .at(sb),
                );
                return None;
            }
            return Some(match a {
                IntLit => Int,
                RealLit => Fixed,
                c => c,
            });
        }
        if a == Unknown || b == Unknown {
            return Some(Unknown);
        }
        let is_float = a == F32 || b == F32;
        if is_float {
            let other = if a == F32 { b } else { a };
            if matches!(other, Int | Fixed) {
                self.err(
                    Diagnostic::error(codes::MIXED_FLOAT, format!("`{sym}` mixes f32 with {}", other.name()))
                        .at(span)
                        .with_secondary(if a == F32 { sb } else { sa }, "this is exact")
                        .help("convert explicitly: `f32(x)` to compute in f32, or `fixed<W, I>(y)` to compute exactly"),
                );
                return None;
            }
            return match op {
                BinOp::FloorDiv | BinOp::Mod => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_DIVISION,
                            format!("`{sym}` is for integers; f32 divides with `/`"),
                        )
                        .at(span),
                    );
                    None
                }
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{sym}` needs integers, not f32"),
                        )
                        .at(span),
                    );
                    None
                }
                _ => Some(F32),
            };
        }
        let both_int = a.is_integer() && b.is_integer();
        let both_lit = matches!(a, IntLit | RealLit) && matches!(b, IntLit | RealLit);
        let exact = if both_int {
            if both_lit {
                IntLit
            } else {
                Int
            }
        } else if both_lit {
            RealLit
        } else {
            Fixed
        };
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => Some(exact),
            BinOp::Div => {
                if both_int {
                    self.err(
                        Diagnostic::error(codes::BAD_DIVISION, "`/` between integers")
                            .at(span)
                            .help("use `//` for floor division, or convert one side to a fixed-point type for a fractional quotient"),
                    );
                    return None;
                }
                Some(if both_lit { RealLit } else { Fixed })
            }
            BinOp::FloorDiv | BinOp::Mod => {
                if !both_int {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_DIVISION,
                            format!("`{sym}` is defined on integers only"),
                        )
                        .at(span)
                        .help("fixed-point values divide with `/` (ap_fixed semantics)"),
                    );
                    return None;
                }
                Some(exact)
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                if !both_int {
                    self.err(
                        Diagnostic::error(codes::TYPE_MISMATCH, format!("`{sym}` needs integers"))
                            .at(span)
                            .help("bitwise operations are defined on int<N> / uint<N> values"),
                    );
                    return None;
                }
                Some(exact)
            }
            BinOp::Shl | BinOp::Shr => unreachable!("handled above"),
        }
    }

    fn compare_chain(
        &mut self,
        first: &ast::Expr,
        rest: &[(CmpOp, ast::Expr)],
        span: Span,
    ) -> Checked {
        let (mut lhs, mut li) = self.expr(first)?;
        let mut acc: Option<(hir::Expr, Info)> = None;
        for (op, rhs) in rest {
            let (rh, ri) = self.expr(rhs)?;
            let ok = match (li.class, ri.class) {
                (Class::Unknown, _) | (_, Class::Unknown) => true,
                (Class::Bool, Class::Bool) => matches!(op, CmpOp::Eq | CmpOp::Ne),
                (Class::Bool, _) | (_, Class::Bool) => false,
                (Class::F32, Class::Int | Class::Fixed)
                | (Class::Int | Class::Fixed, Class::F32) => {
                    self.err(
                        Diagnostic::error(
                            codes::MIXED_FLOAT,
                            "comparison of f32 with an exact value",
                        )
                        .at(span)
                        .help("convert one side explicitly"),
                    );
                    return None;
                }
                _ => true,
            };
            if !ok {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "cannot compare {} with {} using `{}`",
                            li.class.name(),
                            ri.class.name(),
                            op.symbol()
                        ),
                    )
                    .at(span),
                );
                return None;
            }
            let shape = self.broadcast(&li, &ri, span)?;
            let cmp = hir::Expr {
                kind: HE::Compare(*op, Box::new(lhs.clone()), Box::new(rh.clone())),
                span: Span::new(span.file, lhs.span.start as usize, rh.span.end as usize),
            };
            let info = Info {
                shape,
                class: Class::Bool,
            };
            acc = Some(match acc {
                None => (cmp, info),
                Some((prev, pinfo)) => {
                    let shape = self.broadcast(&pinfo, &info, span)?;
                    (
                        hir::Expr {
                            kind: HE::Logic(BoolOp::And, Box::new(prev), Box::new(cmp)),
                            span,
                        },
                        Info {
                            shape,
                            class: Class::Bool,
                        },
                    )
                }
            });
            lhs = rh;
            li = ri;
        }
        acc
    }

    fn lookup_value_name(&self, n: &str) -> Option<()> {
        if self.k.params.iter().any(|p| p.name == n) || self.ctx.lookup(n).is_some() {
            Some(())
        } else {
            None
        }
    }

    fn name(&mut self, n: &str, span: Span) -> Checked {
        if self.poisoned.contains(n) && !self.locals.contains_key(n) {
            return None;
        }
        let mk = |kind: HE| hir::Expr { kind, span };
        if let Some((_, idx, info, _)) = self.lambda_scope.iter().rev().find(|(name, ..)| name == n)
        {
            let class = info.class;
            return Some((mk(HE::LambdaParam(*idx)), Info::scalar(class)));
        }
        if let Some((_, v)) = self.loop_scope.iter().rev().find(|(name, _)| name == n) {
            return Some((mk(HE::LoopVar(*v)), Info::scalar(Class::Int)));
        }
        if let Some(&id) = self.locals.get(n) {
            let shape = self.local_shape[id].clone();
            if shape.is_none() && !self.assigned.contains(&id) {
                self.err(
                    Diagnostic::error(codes::USE_BEFORE_ASSIGN, format!("`{n}` may be used before it is assigned"))
                        .at(span)
                        .with_secondary(self.k.locals[id].span, "declared here")
                        .note("a value assigned only inside a loop or in some branches of an `if` is not known to exist afterwards"),
                );
                return None;
            }
            return Some((
                mk(HE::Local(id)),
                Info {
                    shape,
                    class: self.local_class[id],
                },
            ));
        }
        if let Some(pi) = self.k.params.iter().position(|p| p.name == n) {
            return match &self.k.params[pi].kind {
                KParamKind::Const => Some((
                    mk(HE::Size(SizeExpr::ConstParam(pi))),
                    Info::scalar(Class::Int),
                )),
                KParamKind::Value(t) => {
                    let class = Class::of_elem(&t.elem);
                    Some((
                        mk(HE::Param(pi)),
                        Info {
                            shape: t.shape.clone(),
                            class,
                        },
                    ))
                }
            };
        }
        if let Some(i) = self.k.size_vars.iter().position(|v| v.name == n) {
            return Some((mk(HE::Size(SizeExpr::Var(i))), Info::scalar(Class::Int)));
        }
        if self.k.type_vars.iter().any(|v| v.name == n) {
            self.err(
                Diagnostic::error(
                    codes::WRONG_NAME_KIND,
                    format!("`{n}` is a type variable, not a value"),
                )
                .at(span)
                .help(format!("to convert a value to it, call it: `{n}(x)`")),
            );
            return None;
        }
        match self.ctx.lookup(n).cloned() {
            Some(Symbol::Global(g)) => {
                let gl = &self.ctx.globals[g];
                let shape = (!gl.shape.is_empty()).then(|| {
                    gl.shape
                        .iter()
                        .map(|&d| Dim::Size(SizeExpr::Const(d as i64)))
                        .collect()
                });
                Some((
                    mk(HE::Global(g)),
                    Info {
                        shape,
                        class: Class::of(&gl.elem),
                    },
                ))
            }
            Some(Symbol::RealConst(text)) => {
                let (neg, body) = match text.strip_prefix('-') {
                    Some(b) => (true, b.to_string()),
                    None => (false, text.clone()),
                };
                let (lit, class) = match body.parse::<u128>() {
                    Ok(v) => (mk(HE::Int(v)), Class::IntLit),
                    Err(_) => (mk(HE::Real(body)), Class::RealLit),
                };
                let e = if neg {
                    mk(HE::Unary(HUnaryOp::Neg, Box::new(lit)))
                } else {
                    lit
                };
                Some((e, Info::scalar(class)))
            }
            Some(Symbol::Const(v)) => {
                Some((mk(HE::Int(v.max(0) as u128)), Info::scalar(Class::IntLit)))
                    .filter(|_| v >= 0)
                    .or_else(|| {
                        Some((
                            mk(HE::Unary(
                                HUnaryOp::Neg,
                                Box::new(mk(HE::Int(v.unsigned_abs() as u128))),
                            )),
                            Info::scalar(Class::IntLit),
                        ))
                    })
            }
            Some(Symbol::Kernel(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        format!("kernel `{n}` is used as a value"),
                    )
                    .at(span)
                    .help(format!("call it: `{n}(...)`")),
                );
                None
            }
            Some(Symbol::Alias(..)) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        format!("`{n}` is a type, not a value"),
                    )
                    .at(span)
                    .help(format!("to convert a value, call the type: `{n}(x)`")),
                );
                None
            }
            Some(Symbol::Module(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        format!("`{n}` is a module, not a value"),
                    )
                    .at(span),
                );
                None
            }
            None => {
                if BUILTINS.contains(&n) {
                    self.err(
                        Diagnostic::error(
                            codes::WRONG_NAME_KIND,
                            format!("`{n}` is a builtin function"),
                        )
                        .at(span)
                        .help(format!("call it: `{n}(...)`")),
                    );
                    return None;
                }
                let mut d =
                    Diagnostic::error(codes::UNKNOWN_NAME, format!("unknown name `{n}`")).at(span);
                if let Some(def) = self.assigned_anywhere.get(n) {
                    if def.start > span.start {
                        d = d
                            .with_secondary(*def, "assigned only later, here")
                            .help("assign it before this use");
                        self.err(d);
                        return None;
                    }
                }
                let mut cands: Vec<String> = self.locals.keys().cloned().collect();
                cands.extend(self.k.params.iter().map(|p| p.name.clone()));
                cands.extend(self.loop_scope.iter().map(|(n, _)| n.clone()));
                cands.extend(self.k.size_vars.iter().map(|v| v.name.clone()));
                cands.extend(self.ctx.visible_names());
                if let Some(s) = suggest(n, cands.iter()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                self.err(d);
                None
            }
        }
    }

    // ------------------------------------------------------------ indexing

    /// Checks subscripts against a shape. Returns the HIR subscripts and the shape of the
    /// selected region (`None` when every subscript is an index: one element).
    fn subscripts(
        &mut self,
        shape: &[Dim],
        subs: &[ast::Subscript],
        span: Span,
    ) -> Option<(Vec<Sub>, Option<Vec<Dim>>)> {
        if shape.iter().any(|d| matches!(d, Dim::Rest(_))) {
            self.err(
                Diagnostic::error(
                    codes::INDEX_COUNT,
                    "a tensor of generic rank cannot be indexed",
                )
                .at(span)
                .help("work on it as a whole, or with `map`"),
            );
            return None;
        }
        if subs.len() != shape.len() {
            self.err(
                Diagnostic::error(
                    codes::INDEX_COUNT,
                    format!(
                        "{} subscript(s) for a tensor of rank {} {}",
                        subs.len(),
                        shape.len(),
                        self.show_shape(shape)
                    ),
                )
                .at(span)
                .help("give one index or slice per dimension; `:` selects a whole dimension"),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut region = Vec::new();
        let mut any_slice = false;
        for (s, d) in subs.iter().zip(shape) {
            let Dim::Size(dim) = d else { return None };
            match s {
                ast::Subscript::Index(e) => {
                    let (h, info) = self.expr(e)?;
                    if info.shape.is_some() {
                        self.err(
                            Diagnostic::error(codes::KIND_MISMATCH, "an index must be a scalar")
                                .at(e.span),
                        );
                        return None;
                    }
                    if !matches!(info.class, Class::Int | Class::IntLit | Class::Unknown) {
                        self.err(
                            Diagnostic::error(
                                codes::TYPE_MISMATCH,
                                format!("an index must be an integer, not {}", info.class.name()),
                            )
                            .at(e.span),
                        );
                        return None;
                    }
                    if let AE::Unary(ast::UnaryOp::Neg, inner) = &e.kind {
                        if matches!(inner.kind, AE::Int(_)) {
                            self.err(
                                Diagnostic::error(codes::OUT_OF_BOUNDS, "negative index")
                                    .at(e.span)
                                    .help(
                                        "kiln does not count from the end; write e.g. `x[N - 1]`",
                                    ),
                            );
                            return None;
                        }
                    }
                    out.push(Sub::Index(h));
                }
                ast::Subscript::Slice {
                    lo,
                    hi,
                    step,
                    span: sspan,
                } => {
                    any_slice = true;
                    let bound = |c: &mut Self,
                                 e: &Option<ast::Expr>|
                     -> Result<Option<SizeExpr>, ()> {
                        match e {
                            None => Ok(None),
                            Some(e) => match size_expr(&c.env(), e) {
                                Ok(s) => Ok(Some(s)),
                                Err(_) => {
                                    c.err(
                                        Diagnostic::error(codes::BAD_SLICE, "slice bounds must be affine in sizes and loop variables")
                                            .at(e.span),
                                    );
                                    Err(())
                                }
                            },
                        }
                    };
                    let lo_s = bound(self, lo).ok()?;
                    let hi_s = bound(self, hi).ok()?;
                    let step_v = match step {
                        None => 1,
                        Some(e) => {
                            match size_expr(&self.env(), e).ok().and_then(|s| s.as_const()) {
                                Some(v) if v > 0 => v,
                                _ => {
                                    self.err(
                                        Diagnostic::error(
                                            codes::BAD_SLICE,
                                            "a slice step must be a positive constant",
                                        )
                                        .at(e.span),
                                    );
                                    return None;
                                }
                            }
                        }
                    };
                    for b in [&lo_s, &hi_s].into_iter().flatten() {
                        if let Some(v) = b.as_const() {
                            if v < 0 {
                                self.err(
                                    Diagnostic::error(codes::OUT_OF_BOUNDS, "negative slice bound")
                                        .at(*sspan)
                                        .help("kiln does not count from the end; write e.g. `x[1:N - 1]`"),
                                );
                                return None;
                            }
                        }
                    }
                    let lo_e = lo_s.clone().unwrap_or(SizeExpr::Const(0));
                    let hi_e = hi_s.clone().unwrap_or_else(|| dim.clone());
                    let diff = SizeExpr::bin(SizeOp::Sub, hi_e, lo_e);
                    let len = if step_v == 1 {
                        diff
                    } else {
                        SizeExpr::bin(
                            SizeOp::FloorDiv,
                            SizeExpr::bin(SizeOp::Add, diff, SizeExpr::Const(step_v - 1)),
                            SizeExpr::Const(step_v),
                        )
                    };
                    let norm = len.normalize();
                    if norm
                        .terms
                        .keys()
                        .any(|m| m.iter().any(|a| matches!(a, crate::sym::Atom::LoopVar(_))))
                    {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_SLICE,
                                "the length of this slice depends on a loop variable",
                            )
                            .at(*sspan)
                            .help("the bounds must move together, e.g. `x[i:i + 3]`"),
                        );
                        return None;
                    }
                    if let Some(l) = norm.as_const() {
                        if l < 1 {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_SLICE,
                                    format!("this slice is empty (length {l})"),
                                )
                                .at(*sspan),
                            );
                            return None;
                        }
                    }
                    region.push(Dim::Size(simplify(&len)));
                    out.push(Sub::Slice {
                        lo: lo_s,
                        hi: hi_s,
                        step: step_v,
                        span: *sspan,
                    });
                }
            }
        }
        Some((out, any_slice.then_some(region)))
    }

    fn index(&mut self, base: &ast::Expr, subs: &[ast::Subscript], span: Span) -> Checked {
        if let AE::Name(n) = &base.kind {
            if let Some((_, idx, info, windowed)) = self
                .lambda_scope
                .iter()
                .rev()
                .find(|(name, ..)| name == n)
                .cloned()
            {
                return self.window(idx, &info, windowed, subs, span);
            }
        }
        let (hb, ib) = self.expr(base)?;
        let Some(shape) = ib.shape.clone() else {
            self.err(
                Diagnostic::error(codes::KIND_MISMATCH, "a scalar cannot be indexed").at(base.span),
            );
            return None;
        };
        if !matches!(hb.kind, HE::Local(_) | HE::Param(_) | HE::Global(_)) {
            self.err(
                Diagnostic::error(codes::UNSUPPORTED, "only named tensors can be indexed")
                    .at(base.span)
                    .help("assign the tensor to a name first"),
            );
            return None;
        }
        let (hsubs, region) = self.subscripts(&shape, subs, span)?;
        Some((
            hir::Expr {
                kind: HE::Index {
                    base: Box::new(hb),
                    subs: hsubs,
                },
                span,
            },
            Info {
                shape: region,
                class: ib.class,
            },
        ))
    }

    fn window(
        &mut self,
        param: usize,
        info: &Info,
        windowed: bool,
        subs: &[ast::Subscript],
        span: Span,
    ) -> Checked {
        let rank = info.shape.as_ref().map_or(0, |s| s.len());
        if !windowed {
            self.err(
                Diagnostic::error(codes::BAD_MAP, "this map operand is not a named tensor, so it has no neighbours to index")
                    .at(span)
                    .help("pass a tensor or a slice of one (`x[1:H - 1, 1:W - 1]`) to read neighbours with `p[dy, dx]`"),
            );
            return None;
        }
        if subs.len() != rank {
            self.err(
                Diagnostic::error(
                    codes::INDEX_COUNT,
                    format!("a window offset needs {rank} coordinates, one per dimension"),
                )
                .at(span),
            );
            return None;
        }
        let mut offsets = Vec::new();
        for s in subs {
            let ast::Subscript::Index(e) = s else {
                self.err(
                    Diagnostic::error(codes::BAD_MAP, "window offsets are constants, not slices")
                        .at(s.span()),
                );
                return None;
            };
            match size_expr(&self.env(), e).ok().and_then(|s| s.as_const()) {
                Some(v) => offsets.push(v),
                None => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_MAP,
                            "a window offset must be a constant integer",
                        )
                        .at(e.span)
                        .help("`p[-1, 0]` reads the element one row above"),
                    );
                    return None;
                }
            }
        }
        Some((
            hir::Expr {
                kind: HE::Window { param, offsets },
                span,
            },
            Info::scalar(info.class),
        ))
    }

    // ------------------------------------------------------------ calls

    fn call_not_top_level(&mut self, span: Span) {
        self.err(
            Diagnostic::error(codes::CALL_NOT_TOP_LEVEL, "kernel calls must be at the top level of a kernel body")
                .at(span)
                .help("call the kernel on whole tensors outside loops; inside loops, compute with expressions"),
        );
    }

    fn call(&mut self, func: &ast::Expr, args: &[ast::Arg], span: Span, results: usize) -> Checked {
        // Casts.
        if let AE::TypeLit(t) = &func.kind {
            let target = self.elem_type_here(t)?;
            return self.cast(target, args, span);
        }
        if let AE::Name(n) = &func.kind {
            let is_local =
                self.locals.contains_key(n) || self.k.params.iter().any(|p| &p.name == n);
            if !is_local {
                if let Some(v) = self.k.type_vars.iter().position(|t| &t.name == n) {
                    return self.cast(ElemRef::Var(v), args, span);
                }
                match self.ctx.lookup(n).cloned() {
                    Some(Symbol::Alias(t, None)) => {
                        return self.cast(ElemRef::Known(t), args, span)
                    }
                    Some(Symbol::Alias(_, Some(_))) => {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_CAST,
                                format!("`{n}` is a tensor type; convert to an element type"),
                            )
                            .at(func.span),
                        );
                        return None;
                    }
                    Some(Symbol::Kernel(k)) => {
                        return self.kernel_call(k, Vec::new(), args, span, results)
                    }
                    Some(_) => {}
                    None => {
                        if BUILTINS.contains(&n.as_str()) {
                            return self.builtin(n, args, span);
                        }
                    }
                }
            }
        }
        // Explicit type arguments: `k[T1, T2](...)`.
        if let AE::Index { base, subs } = &func.kind {
            if let Some(k) = self.kernel_ref(base) {
                let mut targs = Vec::new();
                for s in subs {
                    let ast::Subscript::Index(e) = s else {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_ARGS,
                                "type arguments are types, not slices",
                            )
                            .at(s.span()),
                        );
                        return None;
                    };
                    targs.push(self.type_argument(e)?);
                }
                return self.kernel_call(k, targs, args, span, results);
            }
        }
        if let Some(k) = self.kernel_ref(func) {
            return self.kernel_call(k, Vec::new(), args, span, results);
        }
        if let AE::Attr(..) = &func.kind {
            // kernel_ref reported what went wrong.
            return None;
        }
        let what = match &func.kind {
            AE::Name(n) if self.locals.contains_key(n) => {
                format!("`{n}` is a local value, not a kernel")
            }
            AE::Name(n) if self.k.params.iter().any(|p| &p.name == n) => {
                format!("`{n}` is a parameter, not a kernel")
            }
            AE::Name(n) => {
                if self.ctx.lookup(n).is_none() {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_NAME,
                        format!("unknown kernel or function `{n}`"),
                    )
                    .at(func.span);
                    let mut cands: Vec<String> = self.ctx.visible_names();
                    cands.extend(BUILTINS.iter().map(|s| s.to_string()));
                    if let Some(s) = suggest(n, cands.iter()) {
                        d = d.help(format!("did you mean `{s}`?"));
                    }
                    self.err(d);
                    return None;
                }
                format!("`{n}` is not a kernel")
            }
            _ => "this is not a kernel".into(),
        };
        self.err(Diagnostic::error(codes::NOT_CALLABLE, what).at(func.span));
        None
    }

    /// A kernel named by `name` or `module.name`.
    fn kernel_ref(&mut self, e: &ast::Expr) -> Option<hir::KernelId> {
        match &e.kind {
            AE::Name(n) => match self.ctx.lookup(n) {
                Some(Symbol::Kernel(k)) if !self.locals.contains_key(n) => Some(*k),
                _ => None,
            },
            AE::Attr(..) => {
                let mut parts = Vec::new();
                let mut cur = e;
                while let AE::Attr(b, name) = &cur.kind {
                    parts.push(name.name.clone());
                    cur = b;
                }
                let AE::Name(root) = &cur.kind else {
                    return None;
                };
                parts.push(root.clone());
                parts.reverse();
                // The longest prefix that names a module.
                for split in (1..parts.len()).rev() {
                    let prefix = parts[..split].join(".");
                    if let Some(Symbol::Module(m)) = self.ctx.lookup(&prefix) {
                        let member = &parts[split..];
                        if member.len() != 1 {
                            break;
                        }
                        let module = &self.ctx.modules[*m];
                        return match module.scope.get(&member[0]) {
                            Some((Symbol::Kernel(k), _)) => Some(*k),
                            _ => {
                                let mut d = Diagnostic::error(
                                    codes::UNKNOWN_NAME,
                                    format!(
                                        "module `{}` has no kernel `{}`",
                                        module.name, member[0]
                                    ),
                                )
                                .at(e.span);
                                if let Some(s) = suggest(&member[0], module.scope.keys()) {
                                    d = d.help(format!("did you mean `{s}`?"));
                                }
                                self.err(d);
                                None
                            }
                        };
                    }
                }
                self.err(
                    Diagnostic::error(
                        codes::UNKNOWN_MODULE,
                        format!(
                            "`{}` is not an imported module",
                            parts[..parts.len() - 1].join(".")
                        ),
                    )
                    .at(e.span)
                    .help(format!(
                        "import it first: `import {}`",
                        parts[..parts.len() - 1].join(".")
                    )),
                );
                None
            }
            _ => None,
        }
    }

    fn type_argument(&mut self, e: &ast::Expr) -> Option<ElemRef> {
        match &e.kind {
            AE::TypeLit(t) => self.elem_type_here(t),
            AE::Name(n) => {
                let t = ast::ElemTypeExpr {
                    kind: ast::ElemTypeKind::Named(ast::Ident {
                        name: n.clone(),
                        span: e.span,
                    }),
                    span: e.span,
                };
                self.elem_type_here(&t)
            }
            _ => {
                self.err(Diagnostic::error(codes::BAD_ARGS, "expected a type argument").at(e.span));
                None
            }
        }
    }

    fn cast(&mut self, to: ElemRef, args: &[ast::Arg], span: Span) -> Checked {
        if args.len() != 1 || args[0].name.is_some() {
            self.err(
                Diagnostic::error(codes::BAD_ARGS, "a conversion takes exactly one value").at(span),
            );
            return None;
        }
        let (h, info) = self.expr(&args[0].value)?;
        if let (ElemRef::Known(ScalarType::F32), Class::Int | Class::Fixed) = (&to, info.class) {
            // Allowed: explicit conversion. Its range is checked at instantiation.
        }
        let class = Class::of_elem(&to);
        Some((
            hir::Expr {
                kind: HE::Cast {
                    to,
                    arg: Box::new(h),
                },
                span,
            },
            Info {
                shape: info.shape,
                class,
            },
        ))
    }

    /// The lookup-table parameters of a math function: `size=`, `lo=`, `hi=`, `bits=`
    /// (literals), checked against `kiln_numeric::lut`'s rules; `None` when none is given.
    fn lut_spec(
        &mut self,
        f: kiln_numeric::MathFn,
        named: &[&ast::Arg],
    ) -> Option<Option<kiln_numeric::LutSpec>> {
        if named.is_empty() {
            return Some(None);
        }
        let mut spec = kiln_numeric::LutSpec::DEFAULT;
        let mut seen: Vec<&str> = Vec::new();
        for a in named {
            let name = a.name.as_ref().map(|n| n.name.as_str()).unwrap_or_default();
            let Some(v) = literal_number(&a.value) else {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`{name}` must be a number literal"),
                    )
                    .at(a.value.span),
                );
                return None;
            };
            let integer =
                |v: f64| (v.fract() == 0.0 && v >= 0.0 && v <= u32::MAX as f64).then_some(v as u32);
            let ok = match name {
                "size" => integer(v).map(|n| spec.size = n).is_some(),
                "bits" => integer(v).map(|n| spec.bits = n).is_some(),
                "lo" => {
                    spec.lo = v;
                    true
                }
                "hi" => {
                    spec.hi = v;
                    true
                }
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_ARGS,
                            format!("`{}` has no parameter `{name}`", f.name()),
                        )
                        .at(a.value.span)
                        .help("lookup tables take `size=`, `lo=`, `hi=` and `bits=`"),
                    );
                    return None;
                }
            };
            if !ok {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`{name}` must be a non-negative integer"),
                    )
                    .at(a.value.span),
                );
                return None;
            }
            if seen.contains(&name) {
                self.err(
                    Diagnostic::error(codes::BAD_ARGS, format!("`{name}` is given twice"))
                        .at(a.value.span),
                );
                return None;
            }
            seen.push(name);
        }
        if let Err(e) = spec.step_log2() {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("bad lookup table for `{}`: {e}", f.name()),
                )
                .at(named[0].value.span)
                .help("hls4ml's defaults are `size=1024, lo=-8, hi=8, bits=18`"),
            );
            return None;
        }
        Some(Some(spec))
    }

    fn positional(
        &mut self,
        f: &str,
        args: &[ast::Arg],
        span: Span,
        min: usize,
        max: usize,
    ) -> Option<()> {
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            self.err(
                Diagnostic::error(codes::BAD_ARGS, format!("`{f}` takes no named arguments"))
                    .at(a.value.span),
            );
            return None;
        }
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{f}` takes {want} argument(s), not {}", args.len()),
                )
                .at(span),
            );
            return None;
        }
        Some(())
    }

    fn builtin(&mut self, f: &str, args: &[ast::Arg], span: Span) -> Checked {
        let mk = |kind: HE| hir::Expr { kind, span };
        match f {
            "range" | "grid" => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        format!("`{f}` only appears in `for ... in {f}(...)` and in generators"),
                    )
                    .at(span),
                );
                None
            }
            "load" => {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "`load` only appears in `param` declarations and parameter defaults",
                    )
                    .at(span)
                    .help("declare `param w: T[...] = load(\"w.npy\")` at module level"),
                );
                None
            }
            "sqrt" | "exp" | "log" | "tanh" | "sigmoid" => {
                let mf = kiln_numeric::MathFn::from_name(f)?;
                let (positional, named): (Vec<&ast::Arg>, Vec<&ast::Arg>) =
                    args.iter().partition(|a| a.name.is_none());
                if positional.len() != 1 {
                    self.err(
                        Diagnostic::error(codes::BAD_ARGS, format!("`{f}` takes one value"))
                            .at(span),
                    );
                    return None;
                }
                let spec = self.lut_spec(mf, &named)?;
                let (h, info) = self.expr(&positional[0].value)?;
                // Literals adapt: with table parameters they are exact, else f32.
                let literal = matches!(info.class, Class::IntLit | Class::RealLit);
                let exact =
                    matches!(info.class, Class::Int | Class::Fixed) || (literal && spec.is_some());
                let table = kiln_numeric::lut::has_table(mf);
                if exact && !table {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{f}` takes f32 values"),
                        )
                        .at(positional[0].value.span)
                        .help(format!(
                            "convert first: `{f}(f32(x))`; `exp`, `sigmoid` and `tanh` of exact values use lookup tables"
                        )),
                    );
                    return None;
                }
                if !exact && spec.is_some() && info.class != Class::Unknown {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_ARGS,
                            format!("table parameters apply to `{f}` of exact values, not of {}", info.class.name()),
                        )
                        .at(named[0].value.span)
                        .help("an f32 argument is computed, not looked up: drop `size`, `lo`, `hi` and `bits`"),
                    );
                    return None;
                }
                if !matches!(
                    info.class,
                    Class::F32
                        | Class::RealLit
                        | Class::IntLit
                        | Class::Unknown
                        | Class::Int
                        | Class::Fixed
                ) {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{f}` takes numbers, not {}", info.class.name()),
                        )
                        .at(positional[0].value.span),
                    );
                    return None;
                }
                let class = match info.class {
                    _ if exact => Class::Fixed,
                    Class::Unknown => Class::Unknown,
                    _ => Class::F32,
                };
                Some((
                    mk(HE::Math(mf, Box::new(h), spec)),
                    Info {
                        shape: info.shape,
                        class,
                    },
                ))
            }
            "abs" => {
                self.positional(f, args, span, 1, 1)?;
                let (h, info) = self.expr(&args[0].value)?;
                self.numeric(info.class, args[0].value.span, "`abs`")?;
                Some((mk(HE::Abs(Box::new(h))), info))
            }
            "min" | "max" => {
                self.positional(f, args, span, 1, usize::MAX)?;
                let op = if f == "min" {
                    ReduceOp::Min
                } else {
                    ReduceOp::Max
                };
                if args.len() == 1 {
                    return self.reduction(op, &args[0].value, span);
                }
                let mut hs = Vec::new();
                let mut acc: Option<Info> = None;
                let mut prev_span = args[0].value.span;
                for a in args {
                    let (h, info) = self.expr(&a.value)?;
                    self.numeric(info.class, a.value.span, &format!("`{f}`"))?;
                    let this_span = a.value.span;
                    acc = Some(match acc {
                        None => info,
                        Some(prev) => {
                            let class = self.unify_values(
                                prev.class,
                                info.class,
                                prev_span,
                                a.value.span,
                                &format!("the arguments of `{f}`"),
                            )?;
                            let shape = self.broadcast(&prev, &info, span)?;
                            Info { shape, class }
                        }
                    });
                    hs.push(h);
                    prev_span = this_span;
                }
                Some((
                    mk(HE::MinMax {
                        max: f == "max",
                        args: hs,
                    }),
                    acc?,
                ))
            }
            "sum" => {
                self.positional(f, args, span, 1, 1)?;
                self.reduction(ReduceOp::Sum, &args[0].value, span)
            }
            "argmax" | "argmin" => {
                self.positional(f, args, span, 1, 1)?;
                let op = if f == "argmax" {
                    ReduceOp::ArgMax
                } else {
                    ReduceOp::ArgMin
                };
                if let AE::Generator(g) = &args[0].value.kind {
                    let vars = g.vars.len();
                    if vars != 1 {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_REDUCTION,
                                format!("`{f}` over a generator takes one loop variable, not {vars}"),
                            )
                            .at(args[0].value.span)
                            .help(format!("its result is that variable's value; for a flat position over several dimensions, take `{f}` of a tensor")),
                        );
                        return None;
                    }
                }
                self.reduction(op, &args[0].value, span)
            }
            "dot" => {
                self.positional(f, args, span, 2, 2)?;
                let (ha, ia) = self.expr(&args[0].value)?;
                let (hb, ib) = self.expr(&args[1].value)?;
                let (Some(sa), Some(sb)) = (&ia.shape, &ib.shape) else {
                    self.err(
                        Diagnostic::error(codes::KIND_MISMATCH, "`dot` takes two tensors").at(span),
                    );
                    return None;
                };
                self.same_shape(sa, sb, args[1].value.span, "the first operand's shape");
                let class = self.binary_class(
                    BinOp::Mul,
                    ia.class,
                    ib.class,
                    span,
                    args[0].value.span,
                    args[1].value.span,
                )?;
                Some((mk(HE::Dot(Box::new(ha), Box::new(hb))), Info::scalar(class)))
            }
            "map" => self.map(args, span),
            _ => unreachable!("not a builtin: {f}"),
        }
    }

    fn reduction(&mut self, op: ReduceOp, arg: &ast::Expr, span: Span) -> Checked {
        let mk = |kind: HE| hir::Expr { kind, span };
        if let AE::Generator(g) = &arg.kind {
            let headers = self.loop_headers(&g.vars, &g.iter, false)?;
            let n = headers.len();
            for (i, h) in headers.iter().enumerate() {
                self.loop_scope.push((g.vars[i].name.clone(), h.var));
            }
            let saved = self.wher;
            self.wher.elementwise = true;
            let body = self.expr(&g.elem);
            self.wher = saved;
            self.loop_scope.truncate(self.loop_scope.len() - n);
            let (hb, ib) = body?;
            if ib.shape.is_some() {
                self.err(
                    Diagnostic::error(
                        codes::BAD_REDUCTION,
                        "the element of a reduction must be a scalar",
                    )
                    .at(g.elem.span),
                );
                return None;
            }
            self.numeric(ib.class, g.elem.span, &format!("`{}`", op.name()))?;
            let class = match ib.class {
                _ if op.is_arg() => Class::Int,
                Class::IntLit => Class::Int,
                Class::RealLit => Class::Fixed,
                c => c,
            };
            return Some((
                mk(HE::Reduce {
                    op,
                    loops: headers,
                    body: Box::new(hb),
                }),
                Info::scalar(class),
            ));
        }
        let (h, info) = self.expr(arg)?;
        if info.shape.is_none() {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` of a single scalar", op.name()),
                )
                .at(arg.span)
                .help(format!(
                    "`{}` takes a tensor or a generator: `{}(e for i in range(N))`",
                    op.name(),
                    op.name()
                )),
            );
            return None;
        }
        self.numeric(info.class, arg.span, &format!("`{}`", op.name()))?;
        let class = if op.is_arg() { Class::Int } else { info.class };
        Some((
            mk(HE::ReduceAll {
                op,
                arg: Box::new(h),
            }),
            Info::scalar(class),
        ))
    }

    fn map(&mut self, args: &[ast::Arg], span: Span) -> Checked {
        self.positional("map", args, span, 2, usize::MAX)?;
        let AE::Lambda { params, body } = &args[0].value.kind else {
            self.err(
                Diagnostic::error(
                    codes::BAD_MAP,
                    "the first argument of `map` must be a lambda",
                )
                .at(args[0].value.span)
                .help("write `map(lambda a, b: a * b, A, B)`"),
            );
            return None;
        };
        let operands = &args[1..];
        if params.len() != operands.len() {
            self.err(
                Diagnostic::error(
                    codes::BAD_MAP,
                    format!(
                        "the lambda takes {} parameter(s) but `map` gets {} tensor(s)",
                        params.len(),
                        operands.len()
                    ),
                )
                .at(span),
            );
            return None;
        }
        let mut hops = Vec::new();
        let mut infos = Vec::new();
        for a in operands {
            let (h, info) = self.expr(&a.value)?;
            let Some(shape) = &info.shape else {
                self.err(
                    Diagnostic::error(codes::BAD_MAP, "`map` works on tensors; this is a scalar")
                        .at(a.value.span),
                );
                return None;
            };
            if let Some(first) = infos
                .first()
                .map(|(i, _): &(Info, bool)| i.shape.clone().unwrap_or_default())
            {
                self.same_shape(&first, shape, a.value.span, "the first operand of `map`");
            }
            let windowed = matches!(&h.kind, HE::Local(_) | HE::Param(_) | HE::Global(_))
                || matches!(&h.kind, HE::Index { .. });
            infos.push((info, windowed));
            hops.push(h);
        }
        let mut ids = Vec::new();
        for (p, (info, windowed)) in params.iter().zip(&infos) {
            let id = self.k.lambda_params.len();
            self.k.lambda_params.push(Named {
                name: p.name.clone(),
                span: p.span,
            });
            self.lambda_scope
                .push((p.name.clone(), id, info.clone(), *windowed));
            ids.push(id);
        }
        let saved = self.wher;
        self.wher.elementwise = true;
        let body_r = self.expr(body);
        self.wher = saved;
        self.lambda_scope
            .truncate(self.lambda_scope.len() - params.len());
        let (hb, ib) = body_r?;
        if ib.shape.is_some() {
            self.err(
                Diagnostic::error(codes::BAD_MAP, "the lambda of `map` must return a scalar")
                    .at(body.span),
            );
            return None;
        }
        let shape = infos[0].0.shape.clone();
        let class = match ib.class {
            Class::IntLit => Class::Int,
            Class::RealLit => Class::Fixed,
            c => c,
        };
        Some((
            hir::Expr {
                kind: HE::Map {
                    params: ids,
                    body: Box::new(hb),
                    operands: hops,
                },
                span,
            },
            Info { shape, class },
        ))
    }

    fn comprehension(&mut self, g: &ast::Generator, span: Span) -> Checked {
        let headers = self.loop_headers(&g.vars, &g.iter, true)?;
        let n = headers.len();
        for (i, h) in headers.iter().enumerate() {
            self.loop_scope.push((g.vars[i].name.clone(), h.var));
        }
        let saved = self.wher;
        self.wher.elementwise = true;
        let r = self.expr(&g.elem);
        self.wher = saved;
        self.loop_scope.truncate(self.loop_scope.len() - n);
        let (he, ie) = r?;
        if ie.shape.is_some() {
            self.err(
                Diagnostic::error(
                    codes::KIND_MISMATCH,
                    "the element of a comprehension must be a scalar",
                )
                .at(g.elem.span),
            );
            return None;
        }
        let shape: Vec<Dim> = headers
            .iter()
            .map(|h| {
                // ceil(|hi - lo| / |step|), counting down for a negative step.
                let (diff, step) = if h.step > 0 {
                    (
                        SizeExpr::bin(SizeOp::Sub, h.hi.clone(), h.lo.clone()),
                        h.step,
                    )
                } else {
                    (
                        SizeExpr::bin(SizeOp::Sub, h.lo.clone(), h.hi.clone()),
                        -h.step,
                    )
                };
                let len = if step == 1 {
                    diff
                } else {
                    SizeExpr::bin(
                        SizeOp::FloorDiv,
                        SizeExpr::bin(SizeOp::Add, diff, SizeExpr::Const(step - 1)),
                        SizeExpr::Const(step),
                    )
                };
                Dim::Size(simplify(&len))
            })
            .collect();
        let class = match ie.class {
            Class::IntLit => Class::Int,
            Class::RealLit => Class::Fixed,
            c => c,
        };
        Some((
            hir::Expr {
                kind: HE::Comprehension {
                    loops: headers,
                    elem: Box::new(he),
                },
                span,
            },
            Info {
                shape: Some(shape),
                class,
            },
        ))
    }

    fn kernel_call(
        &mut self,
        k: hir::KernelId,
        type_args: Vec<ElemRef>,
        args: &[ast::Arg],
        span: Span,
        results: usize,
    ) -> Checked {
        if self.wher.nested || self.wher.elementwise {
            self.call_not_top_level(span);
            return None;
        }
        if self.ctx.failed.contains(&k) {
            // The callee's signature has errors, already reported.
            return None;
        }
        let callee = self.ctx.kernels[k].clone();
        if type_args.len() > callee.type_vars.len() {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!(
                        "`{}` has {} type variable(s) but {} type argument(s) are given (give at most one per variable, in order)",
                        callee.name,
                        callee.type_vars.len(),
                        type_args.len()
                    ),
                )
                .at(span)
                .with_secondary(callee.span, "declared here"),
            );
            return None;
        }
        // Match arguments to parameters.
        let mut slots: Vec<Option<&ast::Arg>> = vec![None; callee.params.len()];
        let mut positional = 0;
        for a in args {
            match &a.name {
                None => {
                    if positional >= callee.params.len() {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_ARGS,
                                format!(
                                    "`{}` takes {} argument(s)",
                                    callee.name,
                                    callee.params.len()
                                ),
                            )
                            .at(a.value.span)
                            .label("one too many")
                            .with_secondary(callee.span, "declared here"),
                        );
                        return None;
                    }
                    slots[positional] = Some(a);
                    positional += 1;
                }
                Some(name) => match callee.params.iter().position(|p| p.name == name.name) {
                    None => {
                        let mut d = Diagnostic::error(
                            codes::BAD_ARGS,
                            format!("`{}` has no parameter `{}`", callee.name, name.name),
                        )
                        .at(name.span)
                        .with_secondary(callee.span, "declared here");
                        if let Some(s) = suggest(&name.name, callee.params.iter().map(|p| &p.name))
                        {
                            d = d.help(format!("did you mean `{s}`?"));
                        }
                        self.err(d);
                        return None;
                    }
                    Some(i) => {
                        if slots[i].is_some() {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_ARGS,
                                    format!("`{}` is given twice", name.name),
                                )
                                .at(name.span),
                            );
                            return None;
                        }
                        slots[i] = Some(a);
                    }
                },
            }
        }
        let mut hargs = Vec::new();
        let mut size_binding: Vec<Option<SizeExpr>> = vec![None; callee.size_vars.len()];
        let callee_size_names: Vec<String> =
            callee.size_vars.iter().map(|v| v.name.clone()).collect();
        let mut shape_binding: Vec<Option<Vec<Dim>>> = vec![None; callee.shape_vars.len()];
        let mut const_binding: HashMap<usize, SizeExpr> = HashMap::new();
        let mut ok = true;
        for (i, (p, slot)) in callee.params.iter().zip(&slots).enumerate() {
            match (slot, &p.kind) {
                (None, _) => {
                    if p.default.is_none() {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_ARGS,
                                format!("missing argument `{}` of `{}`", p.name, callee.name),
                            )
                            .at(span)
                            .with_secondary(p.span, "parameter declared here"),
                        );
                        ok = false;
                    } else if let (KParamKind::Const, Some(hir::ParamDefault::Const(s))) =
                        (&p.kind, &p.default)
                    {
                        if let Some(v) = s.as_const() {
                            const_binding.insert(i, SizeExpr::Const(v));
                        }
                    }
                    hargs.push(CallArg::Default);
                }
                (Some(a), KParamKind::Const) => match size_expr(&self.env(), &a.value) {
                    Ok(s) if !s.mentions_loop_var() => {
                        const_binding.insert(i, s.clone());
                        hargs.push(CallArg::Const(s));
                    }
                    _ => {
                        self.err(
                            Diagnostic::error(
                                codes::NOT_CONSTANT,
                                format!(
                                    "`{}` is a `const` parameter: pass a compile-time integer",
                                    p.name
                                ),
                            )
                            .at(a.value.span),
                        );
                        ok = false;
                        hargs.push(CallArg::Default);
                    }
                },
                (Some(a), KParamKind::Value(t)) => {
                    let Some((h, info)) = self.expr(&a.value) else {
                        ok = false;
                        hargs.push(CallArg::Default);
                        continue;
                    };
                    let pc = Class::of_elem(&t.elem);
                    self.check_assign_class(pc, info.class, a.value.span, &p.name);
                    match (&t.shape, &info.shape) {
                        (Some(ps), Some(ashape)) => {
                            if !self.bind_shape(
                                ps,
                                ashape,
                                &mut size_binding,
                                &mut shape_binding,
                                &const_binding,
                                a.value.span,
                                &p.name,
                                &callee_size_names,
                            ) {
                                ok = false;
                            }
                        }
                        (None, Some(_)) => {
                            self.err(
                                Diagnostic::error(
                                    codes::KIND_MISMATCH,
                                    format!("`{}` is a scalar parameter but gets a tensor", p.name),
                                )
                                .at(a.value.span)
                                .with_secondary(p.span, "parameter declared here"),
                            );
                            ok = false;
                        }
                        (Some(_), None) => {
                            self.err(
                                Diagnostic::error(
                                    codes::KIND_MISMATCH,
                                    format!("`{}` is a tensor parameter but gets a scalar", p.name),
                                )
                                .at(a.value.span)
                                .with_secondary(p.span, "parameter declared here"),
                            );
                            ok = false;
                        }
                        (None, None) => {}
                    }
                    hargs.push(CallArg::Value(h));
                }
            }
        }
        if !ok {
            return None;
        }
        if callee.results.len() != results {
            if results == 1 {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`{}` returns {} values", callee.name, callee.results.len()),
                    )
                    .at(span)
                    .help("unpack them: `a, b = kernel(...)`"),
                );
            } else {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!(
                            "`{}` returns {} value(s), not {results}",
                            callee.name,
                            callee.results.len()
                        ),
                    )
                    .at(span),
                );
            }
            return None;
        }
        let mut shapes = Vec::new();
        for r in &callee.results {
            shapes.push(
                r.shape
                    .as_ref()
                    .and_then(|s| subst_shape(s, &size_binding, &shape_binding, &const_binding)),
            );
        }
        for shape in shapes.iter().flatten() {
            for d in shape {
                if let Dim::Size(sz) = d {
                    if let Some(v) = sz.normalize().as_const() {
                        if v < 1 {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_DIM,
                                    format!(
                                        "the result of `{}` would have a dimension of {v}",
                                        callee.name
                                    ),
                                )
                                .at(span)
                                .with_secondary(callee.span, "its result shape is declared here")
                                .help("dimensions must be positive: check the argument shapes"),
                            );
                            return None;
                        }
                    }
                }
            }
        }
        let class = callee
            .results
            .first()
            .map_or(Class::Unknown, |r| Class::of_elem(&r.elem));
        let first_shape = shapes.first().cloned().flatten();
        if results > 1 {
            self.last_call_result_shapes = Some(shapes);
        }
        Some((
            hir::Expr {
                kind: HE::Call {
                    kernel: k,
                    type_args,
                    args: hargs,
                },
                span,
            },
            Info {
                shape: first_shape,
                class,
            },
        ))
    }

    /// Binds the callee's size variables from an argument's shape and checks the rest.
    #[allow(clippy::too_many_arguments)]
    fn bind_shape(
        &mut self,
        param: &[Dim],
        arg: &[Dim],
        sizes: &mut [Option<SizeExpr>],
        shapes: &mut [Option<Vec<Dim>>],
        consts: &HashMap<usize, SizeExpr>,
        span: Span,
        pname: &str,
        size_names: &[String],
    ) -> bool {
        let rest_pos = param.iter().position(|d| matches!(d, Dim::Rest(_)));
        let arg_has_rest = arg.iter().any(|d| matches!(d, Dim::Rest(_)));
        let fits = match rest_pos {
            None => param.len() == arg.len(),
            Some(_) => arg.len() + 1 >= param.len(),
        };
        if !fits && !arg_has_rest {
            self.err(
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    format!(
                        "`{pname}` expects a tensor of rank {}, got {}",
                        param.len(),
                        self.show_shape(arg)
                    ),
                )
                .at(span),
            );
            return false;
        }
        let mut ai = 0;
        for (pi, d) in param.iter().enumerate() {
            match d {
                Dim::Rest(v) => {
                    let after = param.len() - pi - 1;
                    let take = arg.len().saturating_sub(ai + after);
                    let part = arg[ai..ai + take].to_vec();
                    ai += take;
                    match &shapes[*v] {
                        None => shapes[*v] = Some(part),
                        Some(prev) => {
                            let prev = prev.clone();
                            if !self.same_shape(
                                &prev,
                                &part,
                                span,
                                &format!("the shape bound to `*{}`", "S"),
                            ) {
                                return false;
                            }
                        }
                    }
                }
                Dim::Size(s) => {
                    let Some(ad) = arg.get(ai) else { return false };
                    ai += 1;
                    let Dim::Size(a) = ad else {
                        // An argument of generic rank: checked at instantiation.
                        return true;
                    };
                    if let SizeExpr::Var(v) = s {
                        match &sizes[*v] {
                            None => {
                                sizes[*v] = Some(a.clone());
                                continue;
                            }
                            Some(prev) => {
                                let prev = prev.clone();
                                if !prev.same_as(a) {
                                    let certain = prev.certainly_differs(a);
                                    let var = size_names.get(*v).cloned().unwrap_or_default();
                                    let mut diag = Diagnostic::error(
                                        codes::SIZE_CONFLICT,
                                        format!(
                                            "size `{var}` is {} from an earlier argument but {} from `{pname}`",
                                            self.show_size(&prev),
                                            self.show_size(a),
                                        ),
                                    )
                                    .at(span);
                                    if !certain {
                                        diag = diag.note("kiln compares dimensions symbolically and could not prove these equal");
                                    }
                                    self.err(diag);
                                    return false;
                                }
                                continue;
                            }
                        }
                    }
                    if let Some(want) = subst_size(s, sizes, consts) {
                        if !want.same_as(a) {
                            self.err(
                                Diagnostic::error(
                                    codes::SHAPE_MISMATCH,
                                    format!(
                                        "`{pname}` needs a dimension of {} here, got {}",
                                        self.show_size(&want),
                                        self.show_size(a)
                                    ),
                                )
                                .at(span),
                            );
                            return false;
                        }
                    }
                }
            }
        }
        true
    }
}

/// Replaces the callee's symbols by the caller's expressions. `None` if one is unbound.
fn subst_size(
    s: &SizeExpr,
    sizes: &[Option<SizeExpr>],
    consts: &HashMap<usize, SizeExpr>,
) -> Option<SizeExpr> {
    Some(match s {
        SizeExpr::Const(c) => SizeExpr::Const(*c),
        SizeExpr::Var(v) => sizes.get(*v)?.clone()?,
        SizeExpr::ConstParam(p) => consts.get(p)?.clone(),
        SizeExpr::LoopVar(_) => return None,
        SizeExpr::Binary(op, a, b) => SizeExpr::bin(
            *op,
            subst_size(a, sizes, consts)?,
            subst_size(b, sizes, consts)?,
        ),
    })
}

fn subst_shape(
    shape: &[Dim],
    sizes: &[Option<SizeExpr>],
    shapes: &[Option<Vec<Dim>>],
    consts: &HashMap<usize, SizeExpr>,
) -> Option<Vec<Dim>> {
    let mut out = Vec::new();
    for d in shape {
        match d {
            Dim::Size(s) => out.push(Dim::Size(simplify(&subst_size(s, sizes, consts)?))),
            Dim::Rest(v) => out.extend(shapes.get(*v)?.clone()?),
        }
    }
    Some(out)
}

/// A constant-folded copy (so that `3` prints as `3`, not `(i + 3) - i`).
fn simplify(s: &SizeExpr) -> SizeExpr {
    match s.normalize().as_const() {
        Some(c) => SizeExpr::Const(c),
        None => s.clone(),
    }
}

fn show_size_named(
    s: &SizeExpr,
    names: &[String],
    loops: &[String],
    consts: &dyn Fn(usize) -> String,
) -> String {
    match s {
        SizeExpr::Const(c) => c.to_string(),
        SizeExpr::Var(v) => names.get(*v).cloned().unwrap_or_else(|| "?".into()),
        SizeExpr::ConstParam(p) => consts(*p),
        SizeExpr::LoopVar(v) => loops.get(*v).cloned().unwrap_or_else(|| "?".into()),
        SizeExpr::Binary(op, a, b) => {
            let o = match op {
                SizeOp::Add => "+",
                SizeOp::Sub => "-",
                SizeOp::Mul => "*",
                SizeOp::FloorDiv => "//",
                SizeOp::Mod => "%",
            };
            let wrap = |e: &SizeExpr| {
                let t = show_size_named(e, names, loops, consts);
                if matches!(e, SizeExpr::Binary(..)) {
                    format!("({t})")
                } else {
                    t
                }
            };
            format!("{} {o} {}", wrap(a), wrap(b))
        }
    }
}

/// The value of a number literal, possibly negated (`-8`, `0.5`).
fn literal_number(e: &ast::Expr) -> Option<f64> {
    match &e.kind {
        AE::Int(v) => Some(*v as f64),
        AE::Float(s) => s.replace('_', "").parse().ok(),
        AE::Unary(ast::UnaryOp::Neg, a) => literal_number(a).map(|v| -v),
        _ => None,
    }
}
