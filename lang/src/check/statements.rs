//! Statements: blocks, the dispatch over statement kinds, local declarations (`x: T =
//! e`), new local names and their clashes, and `return`.

use super::{Checker, Class};
use crate::ast::{self, ExprKind as AE, StmtKind as AS};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ElemRef, KParamKind, StmtKind as HS, TypeRef};
use crate::resolve::{param_type, SigScope, Symbol};
use crate::span::Span;

impl Checker<'_, '_> {
    /// A block of statements; `top`: the kernel body itself. Nothing may follow `return`.
    pub(super) fn block(&mut self, stmts: &[ast::Stmt], top: bool) -> hir::Block {
        let mut out = Vec::new();
        for s in stmts {
            if self.returned && top {
                self.err(
                    Diagnostic::error(codes::BAD_RETURN, "statement after `return`")
                        .at(s.span)
                        .help("`return` must be the last statement of a kernel"),
                );
                break;
            }
            if let Some(h) = self.stmt(s, top) {
                out.push(h);
            }
        }
        out
    }

    /// One statement; `top`: at the top level of the kernel body.
    fn stmt(&mut self, s: &ast::Stmt, top: bool) -> Option<hir::Stmt> {
        let span = s.span;
        let kind = match &s.kind {
            AS::Pass | AS::Error => return None,
            AS::Decl { name, ty, init } => self.decl(name, ty, init.as_ref(), top)?,
            AS::Assign { targets, value } => self.assign(targets, value, span)?,
            AS::AugAssign { target, op, value } => self.aug_assign(target, *op, value, span)?,
            AS::For { vars, iter, body } => return self.for_loop(vars, iter, body, span),
            AS::While { cond, max, body } => {
                return self.while_loop(cond, max.as_ref(), body, span)
            }
            AS::If {
                branches,
                else_block,
            } => return self.if_stmt(branches, else_block.as_ref(), span),
            AS::Return(vals) => self.return_at(vals, top, span)?,
            AS::Break => self.loop_exit(true, span)?,
            AS::Continue => self.loop_exit(false, span)?,
            AS::Expr(e) => self.expr_stmt(e)?,
            AS::UnexpectedIndent(b) => {
                self.unexpected_indent(b, top);
                return None;
            }
        };
        Some(hir::Stmt { kind, span })
    }

    /// `target op= value`: `target = target op value`, once `target` has a value.
    fn aug_assign(
        &mut self,
        target: &ast::Expr,
        op: ast::BinOp,
        value: &ast::Expr,
        span: Span,
    ) -> Option<HS> {
        let combined = ast::Expr {
            kind: AE::Binary(op, Box::new(target.clone()), Box::new(value.clone())),
            span,
        };
        if let AE::Name(n) = &target.kind {
            if self.element_aliases.iter().any(|(a, ..)| a == n) {
                self.check_new_local_name(n, target.span);
                return None;
            }
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
        self.assign(std::slice::from_ref(target), &combined, span)
    }

    /// `return vals`, which only the top level of a kernel body may hold.
    fn return_at(&mut self, vals: &[ast::Expr], top: bool, span: Span) -> Option<HS> {
        if !top {
            // Early returns are rewritten right after parsing (early_return.rs); one left
            // here is in a kernel that rewrite refused, which it reported.
            self.refused_return = true;
            return None;
        }
        let r = self.return_stmt(vals, span);
        self.returned = true;
        r
    }

    /// An expression statement: a call of a kernel with output parameters (it writes
    /// them), else an error.
    fn expr_stmt(&mut self, e: &ast::Expr) -> Option<HS> {
        if let AE::Call { func, args } = &e.kind {
            if let Some(k) = self.plain_kernel_ref(func) {
                let callee = &self.ctx.kernels[k];
                if callee.params.iter().any(|p| p.written) {
                    let results = callee.results.len();
                    let (value, _) = self.call(func, args, e.span, results)?;
                    return Some(HS::AssignTuple {
                        targets: Vec::new(),
                        value,
                    });
                }
            }
        }
        self.useless_expr(e);
        None
    }

    /// An expression statement: always an error.
    fn useless_expr(&mut self, e: &ast::Expr) {
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
    }

    /// A block indented deeper than its surroundings: an error (unless a header before
    /// it did not parse), after which its statements are checked anyway.
    fn unexpected_indent(&mut self, b: &ast::Block, top: bool) {
        // After a block header that did not parse, its body looks over-indented.
        if !self.after_syntax_error {
            let first = b.stmts.first().map_or(b.span, |st| st.span);
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
        }
        // Check the statements anyway, as if they were not indented.
        let _ = self.block(&b.stmts, top);
    }

    /// Makes sure `name` can become a new local.
    pub(super) fn check_new_local_name(&mut self, name: &str, span: Span) -> bool {
        let clash = if self.k.params.iter().any(|p| p.name == name) {
            Some("a parameter of this kernel")
        } else if self.k.size_vars.iter().any(|v| v.name == name) {
            Some("a size variable of this kernel")
        } else if self.k.type_vars.iter().any(|v| v.name == name) {
            Some("a type variable")
        } else if self.loop_scope.iter().any(|(n, _)| n == name)
            || self.element_aliases.iter().any(|(n, ..)| n == name)
        {
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

    /// The locals that stand for the kernel's output parameters in its body: declared
    /// tensors of the parameter's type (an output parameter needs an element type).
    pub(super) fn output_param_locals(&mut self) {
        for pi in 0..self.k.params.len() {
            let p = self.k.params[pi].clone();
            let KParamKind::Value(t) = &p.kind else {
                continue;
            };
            if !p.written {
                continue;
            }
            if matches!(t.elem, hir::ElemRef::Inferred) {
                self.err(
                    Diagnostic::error(
                        codes::NEEDS_ELEM_TYPE,
                        format!("the kernel writes the elements of `{}`, so it needs an element type", p.name),
                    )
                    .at(t.span)
                    .help(format!("declare it, e.g. `{}: T[...]` with a type variable `T`, or a concrete type", p.name)),
                );
            }
            let id = self.new_local(
                &p.name,
                p.span,
                Some(t.clone()),
                t.shape.clone(),
                Class::of_elem(&t.elem),
            );
            self.k.params[pi].local = Some(id);
        }
    }

    /// Value parameters the body assigns as a whole (`a = sweep(a)`, `n -= 1`): as in
    /// Python, the name becomes a local of the kernel, started from the argument, so the
    /// caller's value never changes. The local has the parameter's type when it has an
    /// element type (assignments convert to it), else an inferred one. Returns the
    /// statements that start the locals.
    pub(super) fn rebound_params(&mut self, stmts: &[ast::Stmt]) -> Vec<hir::Stmt> {
        fn whole_names(stmts: &[ast::Stmt], out: &mut Vec<String>) {
            for s in stmts {
                match &s.kind {
                    AS::Assign { targets, .. } => {
                        for t in targets {
                            if let AE::Name(n) = &t.kind {
                                out.push(n.clone());
                            }
                        }
                    }
                    AS::AugAssign { target, .. } => {
                        if let AE::Name(n) = &target.kind {
                            out.push(n.clone());
                        }
                    }
                    AS::For { body, .. } | AS::While { body, .. } => whole_names(&body.stmts, out),
                    AS::If {
                        branches,
                        else_block,
                    } => {
                        for (_, b) in branches {
                            whole_names(&b.stmts, out);
                        }
                        if let Some(b) = else_block {
                            whole_names(&b.stmts, out);
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut names = Vec::new();
        whole_names(stmts, &mut names);
        let mut out = Vec::new();
        for pi in 0..self.k.params.len() {
            let p = self.k.params[pi].clone();
            let KParamKind::Value(t) = &p.kind else {
                continue;
            };
            if p.written || !names.contains(&p.name) {
                continue;
            }
            let generic_rank = t
                .shape
                .as_ref()
                .is_some_and(|d| d.iter().any(|d| matches!(d, Dim::Rest(_))));
            let declared =
                (!matches!(t.elem, ElemRef::Inferred) && !generic_rank).then(|| t.clone());
            let id = self.new_local(
                &p.name,
                p.span,
                declared.clone(),
                t.shape.clone(),
                Class::of_elem(&t.elem),
            );
            self.assigned.insert(id);
            let value = hir::Expr {
                kind: hir::ExprKind::Param(pi),
                span: p.span,
            };
            let kind = if declared.is_some() {
                HS::Decl {
                    local: id,
                    init: Some(value),
                }
            } else {
                HS::Assign {
                    target: hir::Place::Local(id),
                    value,
                }
            };
            out.push(hir::Stmt { kind, span: p.span });
        }
        out
    }

    /// Whether local `id` stands for an output parameter.
    pub(super) fn is_param_local(&self, id: usize) -> bool {
        self.k.params.iter().any(|p| p.local == Some(id))
    }

    /// Registers a new local `name` and puts it in scope; returns its id.
    pub(super) fn new_local(
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

    /// The declared type of a local (its shape may use the kernel's sizes).
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
        let mut values: Vec<String> = self.locals.keys().cloned().collect();
        values.extend(self.k.params.iter().map(|p| p.name.clone()));
        values.extend(self.loop_scope.iter().map(|(n, _)| n.clone()));
        let env = self.env();
        let mut shapes = crate::resolve::ValueShapes::new();
        for n in values.iter().cloned().chain(self.ctx.visible_names()) {
            if let Some(s) = crate::resolve::SymbolEnv::value_shape(&env, &n) {
                shapes.insert(n, s);
            }
        }
        let mut scope = SigScope {
            modules: self.ctx.modules,
            m: self.ctx.module,
            size_vars: &mut size_vars,
            shape_vars: &mut shape_vars,
            const_params: &const_params,
            type_vars: &self.k.type_vars,
            value_names: &values,
            binding: false,
            value_shapes: Some(&shapes),
        };
        param_type(&mut scope, ty, self.diags)
    }

    /// `name: ty [= init]`: a declared local (a tensor declared inside a loop or branch is
    /// a fresh one each time: zeros without `init`).
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
        let Some(tref) = self.local_type(ty) else {
            // Later uses of the name would only repeat the error.
            self.poisoned.insert(name.name.clone());
            return None;
        };
        let class = Class::of_elem(&tref.elem);
        if tref.shape.is_some() && tref.elem == ElemRef::Inferred {
            self.err(
                Diagnostic::error(codes::NEEDS_ELEM_TYPE, format!("`{}` needs an element type", name.name))
                    .at(ty.span)
                    .help("write e.g. `y: fixed<8, 4>[K, H, W]`, or build the tensor with a comprehension `[e for i in grid(N)]`"),
            );
            return None;
        }
        let init_h = match init {
            None => None,
            Some(e) => {
                let Some((h, info)) = self.expr(e) else {
                    // The initializer's error is reported; uses of the name would repeat it.
                    self.poisoned.insert(name.name.clone());
                    return None;
                };
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
        // A tensor declared inside a loop or branch is a fresh one each time the
        // declaration runs: filled with zeros when it has no initial value (numpy's
        // `np.zeros`), so that no engine sees an earlier iteration's elements.
        let init_h = match init_h {
            None if !top && tref.shape.is_some() => Some(hir::Expr {
                kind: hir::ExprKind::Int(0),
                span: name.span,
            }),
            other => other,
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

    /// `return a, b`: one value per declared result, of its kind, shape and class.
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
            if self.k.results_unresolved {
                // The count is unknown: a result's type was refused already.
                return None;
            }
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
}
