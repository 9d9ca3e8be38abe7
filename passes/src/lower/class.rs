//! The class of an expression (bool, f32 or exact) read off the HIR, without lowering it:
//! `expr_class` is the class `elem` gives the expression in the same scope and context,
//! or `None` where lowering reports a class error (a bool and a number combined, an f32
//! where an exact value is needed, a literal with no exact value, ...) or cannot go on.
//! Reductions need the class before they lower their body: their accumulator comes first.
//!
//! Earlier versions learned the class by lowering the expression and rolling the IR back,
//! except for the loop variables that lowering made; `lowered_loop_vars` lists those, and
//! reductions still make them, so that loop variable ids (in printed IR and generated code)
//! stay as they were. Errors other than class errors (shapes, sizes, data) are reported
//! when the expression is lowered for real.

use super::expr::lambda_scope;
use super::literals::{fold_literal, folded_const, int_value, literal_source, value_class};
use super::ops::{
    binary_op, binary_refusal, compare_op, lead_arg, literal_first, math_arg_hint, math_rule,
    unary_applies, unary_op, unified, MathRule,
};
use super::*;
use kiln_lang::ast::BinOp as AB;
use kiln_lang::hir::{ExprKind as HE, ReduceOp, Sub};

impl<'h> Lowerer<'_, '_, 'h> {
    /// The class lowering gives `e` in a context of class `hint` (see the module doc).
    pub(super) fn expr_class(
        &self,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> Option<Class> {
        if let Some(lit) = fold_literal(e) {
            return folded_const(e, lit, hint).ok().map(|v| value_class(&v));
        }
        match &e.kind {
            HE::Bool(_) => Some(Class::Bool),
            // Numbers that do not fold are malformed.
            HE::Int(_) | HE::Real(_) => None,
            HE::Size(s) => {
                s.eval(&self.env).ok()?;
                Some(int_class(hint))
            }
            HE::LoopVar(v) => scope.loops.contains_key(v).then_some(Class::Exact),
            HE::Local(l) => self.local_value_class(*l),
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Const(_) => Some(int_class(hint)),
                ParamSlot::Tensor(t) => Some(class_of(&self.inst.tensor(*t).elem)),
            },
            HE::Global(g) => Some(class_of(&self.mb.inputs.program.globals[*g].elem)),
            HE::Call { .. } => {
                let r = self.hoisted.get(&(e as *const _))?;
                Some(class_of(&self.inst.tensor(r[0]).elem))
            }
            HE::LambdaParam(p) | HE::Window { param: p, .. } => {
                let b = scope.lambdas.get(p)?;
                self.expr_class(b.operand, &b.scope, hint)
            }
            HE::Index { base, subs } => self.index_class(base, subs, scope, hint),
            HE::Unary(op, a) => {
                let c = self.expr_class(a, scope, hint)?;
                let op = unary_op(*op);
                // `-literal` folds into a constant of the literal's class.
                let folds = op == UnOp::Neg && fold_literal(a).is_some();
                (folds || unary_applies(op, c)).then_some(c)
            }
            HE::Abs(a) => {
                let c = self.expr_class(a, scope, hint)?;
                unary_applies(UnOp::Abs, c).then_some(c)
            }
            HE::Bits { arg, .. } => {
                let c = self.expr_class(arg, scope, Some(Class::Exact))?;
                (c == Class::Exact).then_some(Class::Exact)
            }
            HE::Math(f, a, spec) => {
                let c = self.expr_class(a, scope, Some(math_arg_hint(*spec)))?;
                match math_rule(*f, *spec, c) {
                    MathRule::Table => Some(Class::Exact),
                    MathRule::Float => Some(c),
                    MathRule::TableOfF32 | MathRule::NotF32 => None,
                }
            }
            HE::Binary(AB::Pow, a, b) => self.power_class(a, b, scope, hint),
            HE::Binary(op, a, b) => {
                let c = self.operands_class(a, b, scope, hint)?;
                binary_refusal(binary_op(*op), c).is_none().then_some(c)
            }
            HE::Compare(op, a, b) => {
                let c = self.operands_class(a, b, scope, None)?;
                binary_refusal(compare_op(*op), c)
                    .is_none()
                    .then_some(Class::Bool)
            }
            HE::Logic(_, a, b) => {
                let ca = self.expr_class(a, scope, Some(Class::Bool))?;
                let cb = self.expr_class(b, scope, Some(Class::Bool))?;
                (ca == Class::Bool && cb == Class::Bool).then_some(Class::Bool)
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => {
                if self.expr_class(cond, scope, Some(Class::Bool))? != Class::Bool {
                    return None;
                }
                let (first, second) = if literal_first(then, otherwise) {
                    (otherwise, then)
                } else {
                    (then, otherwise)
                };
                let fc = self.expr_class(first, scope, hint)?;
                let sc = self.expr_class(second, scope, Some(fc))?;
                unified(fc, sc)
            }
            HE::Cast { to, arg } => {
                let to = self.known_elem_type(to)?;
                if matches!(arg.kind, HE::List { .. }) {
                    // Converted element by element at compile time, as literals are.
                    return Some(class_of(&to));
                }
                match fold_literal(arg) {
                    Some(lit) => literal_source(arg, lit, &to).map(|_| ())?,
                    None => self.expr_class(arg, scope, None).map(|_| ())?,
                }
                Some(class_of(&to))
            }
            HE::MinMax { args, .. } => {
                let lead = lead_arg(args);
                let mut c = self.expr_class(&args[lead], scope, hint)?;
                for (i, a) in args.iter().enumerate() {
                    if i != lead {
                        let ca = self.expr_class(a, scope, Some(c))?;
                        c = unified(c, ca)?;
                    }
                }
                (c != Class::Bool).then_some(c)
            }
            HE::Reduce { op, loops, body } => {
                let inner = bound_loops(scope, loops);
                self.reduction_class(*op, self.expr_class(body, &inner, arg_hint(*op, hint)))
            }
            HE::ReduceAll { op, arg } => {
                self.reduction_class(*op, self.expr_class(arg, scope, arg_hint(*op, hint)))
            }
            HE::Dot(a, b) => self.operands_class(a, b, scope, hint),
            HE::Map {
                params,
                body,
                operands,
            } => {
                let inner = lambda_scope(scope, params, operands, &[]);
                self.expr_class(body, &inner, hint)
            }
            HE::Comprehension { loops, elem } => {
                self.expr_class(elem, &bound_loops(scope, loops), hint)
            }
            HE::List { elems, .. } => self.list_class(elems, hint),
        }
    }

    /// The class of two operands combined (a literal takes the other side's class).
    pub(super) fn operands_class(
        &self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> Option<Class> {
        let (ca, cb) = if literal_first(a, b) {
            let cb = self.expr_class(b, scope, hint)?;
            (self.expr_class(a, scope, Some(cb))?, cb)
        } else {
            let ca = self.expr_class(a, scope, hint)?;
            (ca, self.expr_class(b, scope, Some(ca))?)
        };
        match (ca, cb) {
            // numpy's promotion: the exact operand converts (ops.rs, `promote_to_float`).
            (Class::Exact, Class::F32) | (Class::F32, Class::Exact) => Some(Class::F32),
            _ => unified(ca, cb),
        }
    }

    /// The class of a reduction whose body has class `body`: an `argmax`/`argmin` is a
    /// position.
    fn reduction_class(&self, op: ReduceOp, body: Option<Class>) -> Option<Class> {
        let body = body?;
        Some(if op.is_arg() { Class::Exact } else { body })
    }

    /// The class of a scalar local's value: of its IR local in this node, or of the one
    /// lowering would make (`hir_local`).
    fn local_value_class(&self, l: usize) -> Option<Class> {
        if self.k.locals[l].is_tensor {
            let t = self.tensor_locals.get(&l)?;
            return Some(class_of(&self.inst.tensor(*t).elem));
        }
        if let Some(il) = self.node.as_ref()?.locals.get(&l) {
            return Some(self.local_class(*il).unwrap_or(Class::Exact));
        }
        let declared = match &self.k.locals[l].declared {
            Some(d) => Some(self.known_elem_type(&d.elem)?),
            None => None,
        };
        Some(self.hir_local_class(l, declared))
    }

    /// The class of `base[subs]`: its element type's; a data-dependent index must be an
    /// integer (an affine index is one).
    fn index_class(
        &self,
        base: &'h hir::Expr,
        subs: &'h [Sub],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> Option<Class> {
        let rank = self.rank_of(base, scope)?;
        for s in subs.iter().take(rank) {
            if let Sub::Index(i) = s {
                if self.expr_class(i, scope, Some(Class::Exact))? != Class::Exact {
                    return None;
                }
            }
        }
        let elem = match &base.kind {
            HE::Local(l) => self.inst.tensor(*self.tensor_locals.get(l)?).elem,
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Tensor(t) => self.inst.tensor(*t).elem,
                ParamSlot::Const(_) => return None,
            },
            HE::Global(g) => self.mb.inputs.program.globals[*g].elem,
            HE::List { elems, .. } => return self.list_class(elems, hint),
            _ => return None,
        };
        Some(class_of(&elem))
    }

    /// The rank of a tensor-valued expression (the length of `shape_of`), when it has one.
    fn rank_of(&self, e: &'h hir::Expr, scope: &Scope<'h>) -> Option<usize> {
        let pair = |parts: &[&'h hir::Expr]| {
            let p = parts.iter().find(|p| !self.is_scalar(p, scope))?;
            self.rank_of(p, scope)
        };
        match &e.kind {
            HE::Local(l) => Some(self.inst.tensor(*self.tensor_locals.get(l)?).shape.len()),
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Tensor(t) => Some(self.inst.tensor(*t).shape.len()),
                ParamSlot::Const(_) => None,
            },
            HE::Global(g) => Some(self.mb.inputs.program.globals[*g].shape.len()),
            HE::Call { .. } => {
                let r = self.hoisted.get(&(e as *const _))?;
                Some(self.inst.tensor(r[0]).shape.len())
            }
            HE::Index { base, subs } => {
                let rank = self.rank_of(base, scope)?;
                let slices = subs.iter().take(rank);
                Some(slices.filter(|s| matches!(s, Sub::Slice { .. })).count())
            }
            HE::Unary(_, a) | HE::Cast { arg: a, .. } | HE::Abs(a) | HE::Math(_, a, _) => {
                self.rank_of(a, scope)
            }
            HE::Binary(_, a, b) | HE::Compare(_, a, b) | HE::Logic(_, a, b) => pair(&[a, b]),
            HE::Select {
                cond,
                then,
                otherwise,
            } => pair(&[cond, then, otherwise]),
            HE::MinMax { args, .. } => pair(&args.iter().collect::<Vec<_>>()),
            HE::Map { operands, .. } => self.rank_of(&operands[0], scope),
            HE::Comprehension { loops, .. } => Some(loops.len()),
            HE::Window { subs, .. } => Some(subs.iter().filter(|s| s.is_range()).count()),
            HE::List { shape, .. } => Some(shape.len()),
            _ => None,
        }
    }

    /// The loop variables (name, span) that lowering `e` makes, in order: those of the
    /// reductions in it, including the ones they make only to keep ids as they were.
    pub(super) fn lowered_loop_vars(
        &self,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
        out: &mut Vec<(String, Span)>,
    ) {
        if fold_literal(e).is_some() {
            return;
        }
        match &e.kind {
            HE::LambdaParam(p) | HE::Window { param: p, .. } => {
                if let Some(b) = scope.lambdas.get(p) {
                    self.lowered_loop_vars(b.operand, &b.scope, out);
                }
            }
            HE::Index { base, subs } => {
                // Data-dependent indices are lowered as values.
                let rank = self.rank_of(base, scope).unwrap_or(0);
                for s in subs.iter().take(rank) {
                    if let Sub::Index(i) = s {
                        self.lowered_loop_vars(i, scope, out);
                    }
                }
            }
            // A call's results are tensors already; a literal converts at compile time.
            HE::Call { .. } => {}
            HE::Cast { arg, .. } if fold_literal(arg).is_some() => {}
            HE::Reduce { op, loops, body } => {
                let inner = bound_loops(scope, loops);
                let headers: Vec<(String, Span)> = loops
                    .iter()
                    .map(|h| (self.k.loop_vars[h.var].name.clone(), h.span))
                    .collect();
                // The variables made for the class, then (from the first element, for all
                // but a sum) the body, the loops and the body in them.
                out.extend(headers.iter().cloned());
                let runs = if *op == ReduceOp::Sum { 1 } else { 2 };
                for _ in 0..runs {
                    self.lowered_loop_vars(body, &inner, out);
                }
                out.extend(headers);
                self.lowered_loop_vars(body, &inner, out);
            }
            HE::ReduceAll { op, arg } => {
                let rank = self.rank_of(arg, scope).unwrap_or(0);
                self.reduction_over_loop_vars(*op, &[arg], rank, e.span, scope, out);
            }
            HE::Dot(a, b) => {
                let rank = self.rank_of(a, scope).unwrap_or(0);
                self.reduction_over_loop_vars(ReduceOp::Sum, &[a, b], rank, e.span, scope, out);
            }
            HE::Map {
                params,
                body,
                operands,
            } => {
                let inner = lambda_scope(scope, params, operands, &[]);
                self.lowered_loop_vars(body, &inner, out);
            }
            HE::Comprehension { loops, elem } => {
                self.lowered_loop_vars(elem, &bound_loops(scope, loops), out);
            }
            _ => hir::visit_subexprs(e, &mut |s| self.lowered_loop_vars(s, scope, out)),
        }
    }

    /// The loop variables of a reduction over all elements of a tensor of rank `rank`
    /// whose element is made of `parts`: the parts for the class, then (for all but a
    /// sum) the first element, the loop nest `i0, i1, ...` and the parts in it.
    fn reduction_over_loop_vars(
        &self,
        op: ReduceOp,
        parts: &[&'h hir::Expr],
        rank: usize,
        span: Span,
        scope: &Scope<'h>,
        out: &mut Vec<(String, Span)>,
    ) {
        let runs = if op == ReduceOp::Sum { 1 } else { 2 };
        for _ in 0..runs {
            parts
                .iter()
                .for_each(|p| self.lowered_loop_vars(p, scope, out));
        }
        out.extend((0..rank).map(|d| (format!("i{d}"), span)));
        parts
            .iter()
            .for_each(|p| self.lowered_loop_vars(p, scope, out));
    }

    /// The class of a reduction's element, settled before the reduction is lowered:
    /// `class` (from `expr_class`), with the loop variables lowering `parts` makes
    /// reserved (see the module doc). When the class is an error, `report` lowers the
    /// element to report it.
    pub(super) fn settle_class(
        &mut self,
        class: Option<Class>,
        parts: &[&'h hir::Expr],
        scope: &Scope<'h>,
        report: &mut dyn FnMut(&mut Self) -> L<(ExprId, Class)>,
    ) -> L<Class> {
        let Some(class) = class else {
            self.push_block();
            let r = report(self);
            self.pop_block();
            if r.is_some() {
                // The element lowered to report the error was fine (the culprit is another
                // element of a tensor, say): say what is known rather than nothing.
                let (first, last) = (parts.first(), parts.last());
                let span = first.zip(last).map(|(a, b)| a.span.to(b.span))?;
                self.err(
                    Diagnostic::error(
                        codes::CANNOT_INFER,
                        "kiln cannot tell whether these values are exact numbers or floats",
                    )
                    .at(span)
                    .label("an element of these operands has no exact type in common with the others")
                    .help("a real literal must have an exact binary value (1e-320 has none); or convert the operands explicitly, e.g. `f32(...)`"),
                );
            }
            return None;
        };
        let mut vars = Vec::new();
        for p in parts {
            self.lowered_loop_vars(p, scope, &mut vars);
        }
        for (name, span) in vars {
            self.inst.add_loop_var(name, span);
        }
        Some(class)
    }
}

/// The class of an integer constant in a context of class `hint`.
fn int_class(hint: Option<Class>) -> Class {
    value_class(&int_value(0, hint))
}

/// The context of a reduction's body: an `argmax`/`argmin` compares values of their own
/// class, others accumulate in the context's.
pub(super) fn arg_hint(op: ReduceOp, hint: Option<Class>) -> Option<Class> {
    if op.is_arg() {
        None
    } else {
        hint
    }
}

/// `scope` with the variables of `loops` bound: only whether a loop variable is bound
/// matters to the class of an expression.
fn bound_loops<'h>(scope: &Scope<'h>, loops: &[hir::LoopHeader]) -> Scope<'h> {
    let mut inner = scope.clone();
    for h in loops {
        inner.loops.insert(h.var, Affine::var(LoopVarId(u32::MAX)));
    }
    inner
}
