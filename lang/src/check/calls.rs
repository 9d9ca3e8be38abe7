//! Calls: what a call expression calls (conversion, builtin, kernel), kernel references
//! (`k`, `module.k`, `k[T]`), conversions, and kernel calls: matching arguments to
//! parameters, binding sizes, result shapes.

use super::shapes::{too_large, CallBinding};
use super::{mk, Checked, Checker, Class, Info, BUILTINS};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, CallArg, Dim, ElemRef, ExprKind as HE, KParamKind};
use crate::resolve::{did_you_mean, size_expr, Symbol};
use crate::span::Span;
use crate::sym::SizeExpr;

impl Checker<'_, '_> {
    /// Reports a kernel call inside an element of a lambda, generator or comprehension,
    /// or in a `while` condition (at `span`).
    pub(super) fn call_not_top_level(&mut self, span: Span) {
        let (what, help) = if self.wher.while_cond {
            (
                "a kernel call cannot be in a `while` condition",
                "compute the condition into a local before the loop and at the end of its body: `go = k(x) > 0` ... `while go, max=N:`",
            )
        } else {
            (
                "a kernel call cannot be inside a lambda, generator or comprehension",
                "call the kernel in a statement (inside loops and branches too): `y = k(x)`; inside elementwise expressions, compute with expressions",
            )
        };
        self.err(
            Diagnostic::error(codes::CALL_NOT_TOP_LEVEL, what)
                .at(span)
                .help(help),
        );
    }

    /// A call `func(args)` taking `results` results: a conversion, a builtin or a kernel.
    pub(super) fn call(
        &mut self,
        func: &ast::Expr,
        args: &[ast::Arg],
        span: Span,
        results: usize,
    ) -> Checked {
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
                let targs = self.type_arguments(subs)?;
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
        self.not_callable(func);
        None
    }

    /// Reports a call of something that is no kernel, builtin or type.
    fn not_callable(&mut self, func: &ast::Expr) {
        let what = match &func.kind {
            AE::Name(n) if self.locals.contains_key(n) => {
                format!("`{n}` is a local value, not a kernel")
            }
            AE::Name(n) if self.k.params.iter().any(|p| &p.name == n) => {
                format!("`{n}` is a parameter, not a kernel")
            }
            AE::Name(n) if n == "pragma" && self.ctx.lookup(n).is_none() => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "`pragma(...)` is a statement, not a value")
                        .at(func.span)
                        .help("write `pragma(\"HLS pipeline II=1\")` on a line of its own, first in the loop it applies to, or the primitive in a `schedule ... for fpga:` item (docs/language.md §16)"),
                );
                return;
            }
            AE::Name(n) if self.ctx.lookup(n).is_none() => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_NAME,
                    format!("unknown kernel or function `{n}`"),
                )
                .at(func.span);
                let mut cands: Vec<String> = self.ctx.visible_names();
                cands.extend(BUILTINS.iter().map(|s| s.to_string()));
                d = did_you_mean(d, n, cands.iter());
                self.err(d);
                return;
            }
            AE::Name(n) => format!("`{n}` is not a kernel"),
            _ => "this is not a kernel".into(),
        };
        self.err(Diagnostic::error(codes::NOT_CALLABLE, what).at(func.span));
    }

    /// The kernel a call's callee names (`k`, `k[T]`, `module.k`), if it names one.
    pub(super) fn plain_kernel_ref(&mut self, func: &ast::Expr) -> Option<hir::KernelId> {
        match &func.kind {
            AE::Name(n) if self.locals.contains_key(n) => None,
            AE::Name(n) => match self.ctx.lookup(n) {
                Some(Symbol::Kernel(k)) => Some(*k),
                _ => None,
            },
            AE::Index { base, .. } => self.plain_kernel_ref(base),
            AE::Attr(..) => self.kernel_ref(func),
            _ => None,
        }
    }

    /// The type arguments `[T1, T2]` of a kernel call.
    fn type_arguments(&mut self, subs: &[ast::Subscript]) -> Option<Vec<ElemRef>> {
        let mut targs = Vec::new();
        for s in subs {
            let ast::Subscript::Index(e) = s else {
                self.err(
                    Diagnostic::error(codes::BAD_ARGS, "type arguments are types, not slices")
                        .at(s.span()),
                );
                return None;
            };
            targs.push(self.type_argument(e)?);
        }
        Some(targs)
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
                                d = did_you_mean(d, &member[0], module.scope.keys());
                                self.err(d);
                                None
                            }
                        };
                    }
                }
                let module = parts[..parts.len() - 1].join(".");
                if matches!(module.as_str(), "np" | "numpy") {
                    self.err(numpy_call(&parts[parts.len() - 1], e.span));
                    return None;
                }
                self.err(
                    Diagnostic::error(
                        codes::UNKNOWN_MODULE,
                        format!("`{module}` is not an imported module"),
                    )
                    .at(e.span)
                    .help(format!("import it first: `import {module}`")),
                );
                None
            }
            _ => None,
        }
    }

    /// One type argument `T` of `k[T](...)`.
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

    /// `T(x)`: a conversion of one value (scalar or tensor) to element type `to`.
    fn cast(&mut self, to: ElemRef, args: &[ast::Arg], span: Span) -> Checked {
        if args.len() != 1 || args[0].name.is_some() {
            self.err(
                Diagnostic::error(codes::BAD_ARGS, "a conversion takes exactly one value").at(span),
            );
            return None;
        }
        let (h, info) = self.expr(&args[0].value)?;
        // Any class converts to any other explicitly (an exact value to f32 too: its range
        // is checked at instantiation).
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

    /// A call of kernel `k` with explicit type arguments `type_args`, taking `results`
    /// results: only at the top level of a body.
    fn kernel_call(
        &mut self,
        k: hir::KernelId,
        type_args: Vec<ElemRef>,
        args: &[ast::Arg],
        span: Span,
        results: usize,
    ) -> Checked {
        if self.wher.elementwise || self.wher.while_cond {
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
        let slots = self.match_args(&callee, args)?;
        for (p, slot) in callee.params.iter().zip(&slots) {
            if let (true, Some(a)) = (p.written, slot) {
                self.output_argument(&callee, p, &a.value)?;
            }
        }
        let mut binding = CallBinding::new(&callee);
        let mut hargs = Vec::new();
        let mut ok = true;
        for (i, (p, slot)) in callee.params.iter().zip(&slots).enumerate() {
            match self.bind_arg(&callee, i, p, *slot, &mut binding, span) {
                Some(a) => hargs.push(a),
                None => ok = false,
            }
        }
        if !ok || !self.check_result_count(&callee, results, span) {
            return None;
        }
        let shapes = self.result_shapes(&callee, &binding, span)?;
        let class = callee
            .results
            .first()
            .map_or(Class::Unknown, |r| Class::of_elem(&r.elem));
        let first_shape = shapes.first().cloned().flatten();
        if results > 1 {
            self.last_call_result_shapes = Some(shapes);
        }
        let e = HE::Call {
            kernel: k,
            type_args,
            args: hargs,
        };
        let info = Info {
            shape: first_shape,
            class,
        };
        Some((mk(e, span), info))
    }

    /// The argument of an output parameter `p` of `callee`: a tensor local of this kernel
    /// (or one of its own output parameters), which the call updates.
    fn output_argument(
        &mut self,
        callee: &hir::Kernel,
        p: &hir::KParam,
        arg: &ast::Expr,
    ) -> Option<()> {
        if let AE::Name(n) = &arg.kind {
            if let Some(&id) = self.locals.get(n) {
                if self.local_shape[id].is_some() {
                    return Some(());
                }
            }
        }
        self.err(
            Diagnostic::error(
                codes::READ_ONLY,
                format!(
                    "`{}` writes its parameter `{}`, so its argument must be a local tensor of this kernel",
                    callee.name, p.name
                ),
            )
            .at(arg.span)
            .with_secondary(p.span, "written by the callee")
            .help("pass a named local tensor (`t: T[...]`, or a tensor local), which the call updates; copy an expression or a read-only tensor into one first"),
        );
        None
    }

    /// The argument given for each parameter of `callee`, positionally or by name.
    fn match_args<'e>(
        &mut self,
        callee: &hir::Kernel,
        args: &'e [ast::Arg],
    ) -> Option<Vec<Option<&'e ast::Arg>>> {
        let mut slots: Vec<Option<&ast::Arg>> = vec![None; callee.params.len()];
        let mut positions = 0..callee.params.len();
        for a in args {
            let i = match &a.name {
                None => {
                    let Some(i) = positions.next() else {
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
                    };
                    i
                }
                Some(name) => self.named_arg_slot(callee, name, &slots)?,
            };
            slots[i] = Some(a);
        }
        Some(slots)
    }

    /// The parameter a named argument `name=` of a call of `callee` gives, once.
    fn named_arg_slot(
        &mut self,
        callee: &hir::Kernel,
        name: &ast::Ident,
        slots: &[Option<&ast::Arg>],
    ) -> Option<usize> {
        let Some(i) = callee.params.iter().position(|p| p.name == name.name) else {
            let mut d = Diagnostic::error(
                codes::BAD_ARGS,
                format!("`{}` has no parameter `{}`", callee.name, name.name),
            )
            .at(name.span)
            .with_secondary(callee.span, "declared here");
            d = did_you_mean(d, &name.name, callee.params.iter().map(|p| &p.name));
            self.err(d);
            return None;
        };
        if slots[i].is_some() {
            self.err(
                Diagnostic::error(codes::BAD_ARGS, format!("`{}` is given twice", name.name))
                    .at(name.span),
            );
            return None;
        }
        Some(i)
    }

    /// The argument `slot` of parameter `p` (the `i`-th of `callee`): a default, a
    /// compile-time integer for a `const` parameter, or a value of the parameter's kind
    /// and shape, binding the callee's sizes in `b`. `None` after an error.
    fn bind_arg(
        &mut self,
        callee: &hir::Kernel,
        i: usize,
        p: &hir::KParam,
        slot: Option<&ast::Arg>,
        b: &mut CallBinding,
        span: Span,
    ) -> Option<CallArg> {
        let Some(a) = slot else {
            if p.default.is_none() {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("missing argument `{}` of `{}`", p.name, callee.name),
                    )
                    .at(span)
                    .with_secondary(p.span, "parameter declared here"),
                );
                return None;
            }
            if let (KParamKind::Const, Some(hir::ParamDefault::Const(s))) = (&p.kind, &p.default) {
                if let Some(v) = s.as_const() {
                    b.consts.insert(i, SizeExpr::Const(v));
                }
            }
            return Some(CallArg::Default);
        };
        let KParamKind::Value(t) = &p.kind else {
            return match size_expr(&self.env(), &a.value) {
                Ok(s) if !s.mentions_loop_var() => {
                    b.consts.insert(i, s.clone());
                    Some(CallArg::Const(s))
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
                    None
                }
            };
        };
        let (h, info) = self.expr(&a.value)?;
        let pc = Class::of_elem(&t.elem);
        self.check_assign_class(pc, info.class, a.value.span, &p.name);
        let kind_mismatch = |what: &str| {
            Diagnostic::error(codes::KIND_MISMATCH, format!("`{}` is a {what}", p.name))
                .at(a.value.span)
                .with_secondary(p.span, "parameter declared here")
        };
        let fits = match (&t.shape, &info.shape) {
            (Some(ps), Some(ashape)) => self.bind_shape(ps, ashape, b, a.value.span, &p.name),
            (None, Some(_)) => {
                self.err(kind_mismatch("scalar parameter but gets a tensor"));
                false
            }
            (Some(_), None) => {
                self.err(kind_mismatch("tensor parameter but gets a scalar"));
                false
            }
            (None, None) => true,
        };
        fits.then_some(CallArg::Value(h))
    }

    /// That `callee` gives as many results as the call site takes (`results`).
    fn check_result_count(&mut self, callee: &hir::Kernel, results: usize, span: Span) -> bool {
        let n = callee.results.len();
        if n == results {
            return true;
        }
        if callee.results_unresolved {
            // Its signature was refused already; the count is unknown.
            return false;
        }
        if n == 0 {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{}` returns no value", callee.name),
                )
                .at(span)
                .help("it writes its output parameters: call it as a statement, `kernel(..., out)`, then read `out`"),
            );
        } else if results == 1 {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{}` returns {n} values", callee.name),
                )
                .at(span)
                .help("unpack them: `a, b = kernel(...)`"),
            );
        } else {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{}` returns {n} value(s), not {results}", callee.name),
                )
                .at(span),
            );
        }
        false
    }

    /// The shapes of `callee`'s results at this call (`None` for a scalar or a shape that
    /// is not known here); a dimension that comes out below 1 is an error.
    fn result_shapes(
        &mut self,
        callee: &hir::Kernel,
        b: &CallBinding,
        span: Span,
    ) -> Option<Vec<Option<Vec<Dim>>>> {
        let shapes: Vec<Option<Vec<Dim>>> = callee
            .results
            .iter()
            .map(|r| r.shape.as_ref().and_then(|s| b.shape(s)))
            .collect();
        let dims = shapes.iter().flatten().flatten();
        let bad = dims.filter_map(|d| match d {
            Dim::Size(sz) => sz.normalize().as_const().filter(|&v| v < 1),
            Dim::Rest(_) => None,
        });
        if let Some(v) = bad.into_iter().next() {
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
        for (r, shape) in callee.results.iter().zip(&shapes) {
            let elem = match &r.elem {
                ElemRef::Known(t) => Some(t),
                _ => None,
            };
            let Some(d) = shape.as_ref().and_then(|s| too_large(s, elem, span)) else {
                continue;
            };
            self.err(
                d.with_secondary(callee.span, "its result shape is declared here")
                    .note(format!(
                        "in the result of `{}` for these arguments",
                        callee.name
                    )),
            );
            return None;
        }
        Some(shapes)
    }
}

/// `np.name(...)`: kiln has no numpy; what to write instead.
fn numpy_call(name: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::error(
        codes::UNKNOWN_MODULE,
        format!("kiln has no numpy: `np.{name}` is not available"),
    )
    .at(span);
    match name {
        "zeros" | "empty" | "ones" | "full" | "zeros_like" | "empty_like" | "array" => d.help(
            "declare a local tensor with its element type and shape instead: `y: T[N, M]`, \
             or `y: T[N, M] = 0` filled with zeros (a value fills it, a tensor copies)",
        ),
        "sum" | "max" | "min" | "dot" | "argmax" | "argmin" | "abs" | "sqrt" | "exp" | "log"
        | "tanh" => d.help(format!(
            "`{name}` is a builtin: call `{name}(...)` without `np.`"
        )),
        "maximum" | "minimum" => d.help(format!(
            "`{}(a, b)` is elementwise on tensors",
            if name == "maximum" { "max" } else { "min" }
        )),
        _ => d.help(
            "write the computation with loops, comprehensions or kiln's builtins \
             (docs/language.md §7, §8); tensors are declared `y: T[N, M]`",
        ),
    }
}
