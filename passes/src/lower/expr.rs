//! Expressions, element by element: `elem` lowers element `idx` of an expression (a scalar
//! expression ignores `idx`) into an IR expression and its class, emitting the statements
//! it needs (lazy operands, reductions) into the current block. Here: the dispatch and the
//! leaves (variables, parameters, tensors, lambda parameters, indexing, `map`,
//! comprehensions). Operators are ops.rs's business, reductions reduce.rs's, literals
//! literals.rs's.

use super::literals::fold_literal;
use super::shapes::view_access;
use super::*;
use kiln_lang::hir::{ExprKind as HE, Sub, WindowSub};

impl<'h> Lowerer<'_, '_, 'h> {
    /// Lowers a scalar expression.
    pub(super) fn scalar(
        &mut self,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        self.elem(e, &[], scope, hint)
    }

    /// Lowers element `idx` of expression `e` (a scalar expression ignores `idx`) in a
    /// context of class `hint` (which literals take).
    pub(super) fn elem(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let span = e.span;
        if let Some(lit) = fold_literal(e) {
            return self.folded(e, lit, hint);
        }
        match &e.kind {
            HE::Int(_) | HE::Real(_) | HE::Bool(_) => self.literal(e),
            HE::Size(s) => {
                let v = self.eval_size(s, span)?;
                Some(self.int_constant(v as i128, hint, span))
            }
            HE::LoopVar(v) => self.loop_var_value(*v, scope, span),
            HE::Local(l) => self.local_value(*l, idx, span),
            HE::Param(p) => match self.params.get(*p)?.clone() {
                ParamSlot::Const(v) => Some(self.int_constant(v as i128, hint, span)),
                ParamSlot::Tensor(t) => Some(self.tensor_elem(t, idx, span)),
            },
            HE::Global(g) => {
                let t = self.global_tensor(*g, span)?;
                Some(self.tensor_elem(t, idx, span))
            }
            HE::Call { .. } => {
                let Some(r) = self.hoisted.get(&(e as *const _)).cloned() else {
                    self.err(
                        Diagnostic::error(codes::CALL_NOT_TOP_LEVEL, "kernel call inside a loop")
                            .at(span),
                    );
                    return None;
                };
                Some(self.tensor_elem(r[0], idx, span))
            }
            HE::LambdaParam(p) => self.lambda_operand(*p, None, scope, hint, span),
            HE::Window { param, subs } => {
                let offsets = window_offsets(subs, idx);
                self.lambda_operand(*param, Some(&offsets), scope, hint, span)
            }
            HE::Index { base, subs } => self.index_value(base, subs, idx, scope, hint, span),
            HE::Unary(op, a) => self.unary(*op, a, idx, scope, hint, span),
            HE::Math(f, a, spec) => self.math(*f, a, *spec, idx, scope, span),
            HE::Abs(a) => self.abs(a, idx, scope, hint, span),
            HE::Bits { arg, hi, lo } => self.bits((arg, hi, lo), idx, scope, span),
            HE::Binary(op, a, b) => self.binary(*op, a, b, idx, scope, hint, span),
            HE::Compare(op, a, b) => self.compare(*op, a, b, idx, scope, span),
            HE::Logic(op, a, b) => self.logic(*op, a, b, idx, scope, span),
            HE::Select {
                cond,
                then,
                otherwise,
            } => self.select(cond, then, otherwise, idx, scope, hint, span),
            HE::Cast { to, arg } => self.cast(to, arg, idx, scope, span),
            HE::MinMax { max, args } => self.min_max(*max, args, idx, scope, hint, span),
            HE::Reduce { op, loops, body } => self.reduce(*op, loops, body, scope, span, hint),
            HE::ReduceAll { op, arg } => self.reduce_all(*op, arg, scope, span, hint),
            HE::Dot(a, b) => self.dot(a, b, scope, span, hint),
            HE::Map {
                params,
                body,
                operands,
            } => {
                let inner = lambda_scope(scope, params, operands, idx);
                self.elem(body, &[], &inner, hint)
            }
            HE::List { shape, elems } => self.list_elem(e, shape, elems, idx, hint),
            HE::Comprehension { loops, elem } => {
                let mut inner = scope.clone();
                for (h, i) in loops.iter().zip(idx) {
                    let lo = self.affine_size(&h.lo, scope, h.span)?;
                    inner.loops.insert(h.var, lo.add_scaled(i, h.step));
                }
                self.elem(elem, &[], &inner, hint)
            }
        }
    }

    /// The value of HIR loop variable `v`.
    pub(super) fn loop_var_value(
        &mut self,
        v: usize,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let Some(a) = scope.loops.get(&v).cloned() else {
            self.err(Diagnostic::error(codes::UNSUPPORTED, "loop variable out of scope").at(span));
            return None;
        };
        Some((self.affine_value(&a, span), Class::Exact))
    }

    /// Element `idx` of a tensor local, or the value of a scalar local.
    pub(super) fn local_value(
        &mut self,
        l: usize,
        idx: &[Affine],
        span: Span,
    ) -> L<(ExprId, Class)> {
        if self.k.locals[l].is_tensor {
            let t = *self.tensor_locals.get(&l)?;
            let v = self.load(t, idx.to_vec(), span);
            return Some((v, class_of(&self.inst.tensor(t).elem)));
        }
        let il = self.hir_local(l)?;
        let c = self.local_class(il).unwrap_or(Class::Exact);
        Some((self.inst.add_expr(Expr::Local(il), span), c))
    }

    /// Element `idx` of tensor `t` (its only element when it is 0-d).
    pub(super) fn tensor_elem(
        &mut self,
        t: TensorId,
        idx: &[Affine],
        span: Span,
    ) -> (ExprId, Class) {
        let index = if self.inst.tensor(t).shape.is_empty() {
            Vec::new()
        } else {
            idx.to_vec()
        };
        let v = self.load(t, index, span);
        (v, class_of(&self.inst.tensor(t).elem))
    }

    /// A lambda parameter of `map`: the element of its operand it stands for, shifted by
    /// `offsets` (in the operand's underlying tensor) for a window element.
    pub(super) fn lambda_operand(
        &mut self,
        p: usize,
        offsets: Option<&[Affine]>,
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let Some(b) = scope.lambdas.get(&p).cloned() else {
            self.err(Diagnostic::error(codes::BAD_MAP, "lambda parameter out of scope").at(span));
            return None;
        };
        let LambdaBind {
            operand,
            index,
            scope: oscope,
        } = *b;
        let Some(offsets) = offsets else {
            return self.elem(operand, &index, &oscope, hint);
        };
        match &operand.kind {
            // A slice: the offsets move the element in the sliced tensor, whatever the
            // slice's step (`x[1:9:2]`'s element 0 is `x[1]`, and its `p[-1]` is `x[0]`).
            HE::Index { base, subs } => {
                self.index_value_shifted(base, subs, &index, offsets, &oscope, hint, span)
            }
            _ => {
                let shifted: Vec<Affine> = index
                    .iter()
                    .zip(offsets)
                    .map(|(a, o)| a.add_scaled(o, 1))
                    .collect();
                self.elem(operand, &shifted, &oscope, hint)
            }
        }
    }

    /// Element `idx` of `base[subs]`.
    pub(super) fn index_value(
        &mut self,
        base: &'h hir::Expr,
        subs: &'h [Sub],
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        self.index_value_shifted(base, subs, idx, &[], scope, hint, span)
    }

    /// Element `idx` of `base[subs]`, moved by `offsets` (one per dimension of the view,
    /// or none) in the base tensor.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn index_value_shifted(
        &mut self,
        base: &'h hir::Expr,
        subs: &'h [Sub],
        idx: &[Affine],
        offsets: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let bshape = self.shape_of(base, scope)?;
        let (vbase, region) = self.view(subs, &bshape, scope, span, true)?;
        let t = match &base.kind {
            HE::Local(l) => *self.tensor_locals.get(l)?,
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Tensor(t) => *t,
                ParamSlot::Const(_) => return None,
            },
            HE::Global(g) => self.global_tensor(*g, span)?,
            HE::List { shape, elems } => self.list_tensor(base, shape, elems, hint)?,
            _ => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "only named tensors can be indexed")
                        .at(span),
                );
                return None;
            }
        };
        let mut access = view_access(t, &vbase, &region, idx);
        for ((d, _, _), o) in region.iter().zip(offsets) {
            access.index[*d] = access.index[*d].add_scaled(o, 1);
        }
        let v = self.load_access(access, span);
        Some((v, class_of(&self.inst.tensor(t).elem)))
    }

    pub(super) fn load(&mut self, t: TensorId, index: Vec<Affine>, span: Span) -> ExprId {
        self.load_access(Access::affine(t, index), span)
    }

    pub(super) fn load_access(&mut self, a: Access, span: Span) -> ExprId {
        self.inst.add_expr(Expr::Load(a), span)
    }

    /// Whether expression `e` reads tensor `t`.
    pub(super) fn reads_tensor(&self, e: ExprId, t: TensorId) -> bool {
        let mut found = false;
        self.inst.for_each_subexpr(e, &mut |x| {
            found |= matches!(x, Expr::Load(a) if a.tensor == t);
        });
        found
    }
}

/// The offsets of element `idx` of a window (`idx` counts its ranges; a window of single
/// offsets ignores it), one per dimension of the operand.
pub(super) fn window_offsets(subs: &[WindowSub], idx: &[Affine]) -> Vec<Affine> {
    let mut ranges = idx.iter();
    subs.iter()
        .map(|s| match s {
            WindowSub::Offset(o) => Affine::constant(*o),
            WindowSub::Range { lo, step, .. } => {
                let i = ranges
                    .next()
                    .cloned()
                    .unwrap_or_else(|| Affine::constant(0));
                Affine::constant(*lo).add_scaled(&i, *step)
            }
        })
        .collect()
}

/// `scope` with the lambda parameters of a `map` bound to element `idx` of its operands.
pub(super) fn lambda_scope<'h>(
    scope: &Scope<'h>,
    params: &[usize],
    operands: &'h [hir::Expr],
    idx: &[Affine],
) -> Scope<'h> {
    let mut inner = scope.clone();
    for (p, o) in params.iter().zip(operands) {
        let bind = LambdaBind {
            operand: o,
            index: idx.to_vec(),
            scope: scope.clone(),
        };
        inner.lambdas.insert(*p, Box::new(bind));
    }
    inner
}
