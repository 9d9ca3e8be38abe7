//! Sizes, element types and shapes: size expressions and type references evaluated in
//! the instance's bindings, the shape of a tensor-valued expression (without lowering it),
//! and views: subscripts resolved against a shape into fixed offsets, data-dependent
//! indices and a region. Affine forms themselves are affine.rs's business.

use super::affine::trip_count_const;
use super::*;
use kiln_lang::build_prim;
use kiln_lang::hir::{Dim, ElemRef, ExprKind as HE, Sub, WindowSub};
use kiln_lang::sym::SizeExpr;

impl<'h> Lowerer<'_, '_, 'h> {
    pub(super) fn eval_size(&mut self, s: &SizeExpr, span: Span) -> L<i64> {
        match s.eval(&self.env) {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = match e {
                    kiln_lang::sym::EvalError::DivByZero => "this size divides by zero",
                    kiln_lang::sym::EvalError::Overflow => "this size overflows",
                    kiln_lang::sym::EvalError::Unbound => {
                        "this size depends on a value that is not known at compile time"
                    }
                };
                self.err(Diagnostic::error(codes::BAD_DIM, msg).at(span));
                None
            }
        }
    }

    /// The element type `e` stands for in this instance, or an error.
    pub(super) fn elem_type(&mut self, e: &ElemRef, span: Span) -> L<ScalarType> {
        if let Some(t) = self.known_elem_type(e) {
            return Some(t);
        }
        match e {
            ElemRef::Var(v) => {
                self.err(
                    Diagnostic::error(codes::CANNOT_INFER, format!("type variable `{}` is not bound", self.k.type_vars[*v].name))
                        .at(span)
                        .help("it must appear in a parameter's type, or be given explicitly: `kernel[T](...)`"),
                );
                None
            }
            ElemRef::Template { prim, args, span } => {
                let env = &self.env;
                match build_prim(*prim, args, *span, &|s| s.eval(env).ok()) {
                    Ok(_) => {
                        self.err(
                            Diagnostic::error(
                                codes::NOT_CONSTANT,
                                "type parameters must be known at compile time",
                            )
                            .at(*span),
                        );
                        None
                    }
                    Err(d) => {
                        self.err(d);
                        None
                    }
                }
            }
            ElemRef::Known(_) | ElemRef::Inferred => None,
        }
    }

    /// The element type `e` stands for in this instance, when it is known.
    pub(super) fn known_elem_type(&self, e: &ElemRef) -> Option<ScalarType> {
        match e {
            ElemRef::Known(t) => Some(*t),
            ElemRef::Var(v) => self.env.types[*v],
            ElemRef::Template { prim, args, span } => {
                let env = &self.env;
                build_prim(*prim, args, *span, &|s| s.eval(env).ok())
                    .ok()
                    .flatten()
            }
            ElemRef::Inferred => None,
        }
    }

    pub(super) fn shape_of_dims(&mut self, dims: &[Dim], span: Span) -> L<Vec<usize>> {
        let mut out = Vec::new();
        for d in dims {
            match d {
                Dim::Size(s) => {
                    let v = self.eval_size(s, span)?;
                    if v < 1 {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_DIM,
                                format!(
                                    "a dimension evaluates to {v}; dimensions must be positive"
                                ),
                            )
                            .at(span),
                        );
                        return None;
                    }
                    out.push(v as usize);
                }
                Dim::Rest(v) => match &self.env.shapes[*v] {
                    Some(s) => out.extend(s.iter().copied()),
                    None => {
                        self.err(
                            Diagnostic::error(
                                codes::UNBOUND_SIZE,
                                "this shape variable is not bound",
                            )
                            .at(span),
                        );
                        return None;
                    }
                },
            }
        }
        Some(out)
    }

    pub(super) fn shape_of_or_scalar(
        &mut self,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
    ) -> L<Option<Vec<usize>>> {
        if self.is_scalar(e, scope) {
            Some(None)
        } else {
            self.shape_of(e, scope).map(Some)
        }
    }

    pub(super) fn is_scalar(&self, e: &hir::Expr, scope: &Scope) -> bool {
        match &e.kind {
            HE::Int(_)
            | HE::Real(_)
            | HE::Bool(_)
            | HE::LoopVar(_)
            | HE::Size(_)
            | HE::Reduce { .. }
            | HE::ReduceAll { .. }
            | HE::Bits { .. }
            | HE::Dot(..) => true,
            HE::LambdaParam(p) => scope.lambdas.contains_key(p),
            HE::Window { subs, .. } => !subs.iter().any(|s| s.is_range()),
            HE::Local(l) => !self.k.locals[*l].is_tensor,
            HE::Param(p) => match &self.k.params[*p].kind {
                KParamKind::Value(t) => t.shape.is_none(),
                KParamKind::Const => true,
            },
            HE::Global(g) => self.mb.inputs.program.globals[*g].shape.is_empty(),
            HE::Index { subs, .. } => subs.iter().all(|s| matches!(s, Sub::Index(_))),
            HE::Unary(_, a) | HE::Cast { arg: a, .. } | HE::Abs(a) | HE::Math(_, a, _) => {
                self.is_scalar(a, scope)
            }
            HE::Binary(_, a, b) | HE::Compare(_, a, b) | HE::Logic(_, a, b) => {
                self.is_scalar(a, scope) && self.is_scalar(b, scope)
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => {
                self.is_scalar(cond, scope)
                    && self.is_scalar(then, scope)
                    && self.is_scalar(otherwise, scope)
            }
            HE::MinMax { args, .. } => args.iter().all(|a| self.is_scalar(a, scope)),
            HE::Call { kernel, .. } => self.mb.inputs.program.kernels[*kernel]
                .results
                .first()
                .is_none_or(|r| r.shape.is_none()),
            HE::Map { .. } | HE::Comprehension { .. } | HE::List { .. } => false,
        }
    }

    /// The concrete shape of a tensor-valued expression.
    pub(super) fn shape_of(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Vec<usize>> {
        match &e.kind {
            HE::Local(l) => Some(self.inst.tensor(*self.tensor_locals.get(l)?).shape.clone()),
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Tensor(t) => Some(self.inst.tensor(*t).shape.clone()),
                ParamSlot::Const(_) => None,
            },
            HE::Global(g) => Some(self.mb.inputs.program.globals[*g].shape.clone()),
            HE::Call { .. } => {
                let r = self.hoisted.get(&(e as *const _))?.clone();
                Some(self.inst.tensor(r[0]).shape.clone())
            }
            HE::Index { base, subs } => {
                let bshape = self.shape_of(base, scope)?;
                let (_, region) = self.view(subs, &bshape, scope, e.span, false)?;
                Some(region.iter().map(|r| r.1).collect())
            }
            HE::List { shape, .. } => Some(shape.clone()),
            HE::Window { subs, .. } if subs.iter().any(|s| s.is_range()) => Some(
                subs.iter()
                    .filter_map(|s| match s {
                        WindowSub::Range { len, .. } => Some(*len as usize),
                        WindowSub::Offset(_) => None,
                    })
                    .collect(),
            ),
            HE::Unary(_, a) | HE::Cast { arg: a, .. } | HE::Abs(a) | HE::Math(_, a, _) => {
                self.shape_of(a, scope)
            }
            HE::Binary(_, a, b) | HE::Compare(_, a, b) | HE::Logic(_, a, b) => {
                self.shape_of_pair(&[a, b], scope, e.span)
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => self.shape_of_pair(&[cond, then, otherwise], scope, e.span),
            HE::MinMax { args, .. } => {
                let refs: Vec<&'h hir::Expr> = args.iter().collect();
                self.shape_of_pair(&refs, scope, e.span)
            }
            HE::Map { operands, .. } => {
                let first = self.shape_of(&operands[0], scope)?;
                for o in &operands[1..] {
                    let s = self.shape_of(o, scope)?;
                    if s != first {
                        self.err(
                            Diagnostic::error(
                                codes::SHAPE_MISMATCH,
                                format!("`map` operands have shapes {first:?} and {s:?}"),
                            )
                            .at(o.span),
                        );
                        return None;
                    }
                }
                Some(first)
            }
            HE::Comprehension { loops, .. } => {
                let mut out = Vec::new();
                for h in loops {
                    let lo = self.affine_size(&h.lo, scope, h.span)?;
                    let hi = self.affine_size(&h.hi, scope, h.span)?;
                    match trip_count_const(&lo, &hi, h.step) {
                        Some(n) if n > 0 => out.push(n as usize),
                        _ => {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_DIM,
                                    "a comprehension extent is empty or not constant",
                                )
                                .at(h.span),
                            );
                            return None;
                        }
                    }
                }
                Some(out)
            }
            _ => {
                self.err(Diagnostic::error(codes::KIND_MISMATCH, "expected a tensor").at(e.span));
                None
            }
        }
    }

    pub(super) fn shape_of_pair(
        &mut self,
        parts: &[&'h hir::Expr],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<Vec<usize>> {
        let mut shape: Option<Vec<usize>> = None;
        for p in parts {
            if self.is_scalar(p, scope) {
                continue;
            }
            let s = self.shape_of(p, scope)?;
            match &shape {
                None => shape = Some(s),
                Some(prev) => match broadcast_concrete(prev, &s) {
                    Some(b) => shape = Some(b),
                    None => {
                        self.err(
                            Diagnostic::error(
                                codes::SHAPE_MISMATCH,
                                format!("operands have shapes {prev:?} and {s:?}, which do not broadcast"),
                            )
                            .at(span)
                            .help("numpy's rule: aligned from the last dimension, each pair of dimensions is equal or one of them is 1"),
                        );
                        return None;
                    }
                },
            }
        }
        shape
    }

    /// Resolves subscripts against a shape: for each dimension, the fixed offset (affine)
    /// and, for slices, the step and length. Returns (base offsets, region dims) where a
    /// region dim is (dimension index, length, step).
    ///
    /// An index that is not affine in the loop variables is data-dependent: with `lower`,
    /// its value is lowered (statements it needs are emitted here) into the view's
    /// [`ViewDim::dynamic`]; without, only the shape is wanted and nothing is lowered.
    pub(super) fn view(
        &mut self,
        subs: &'h [Sub],
        shape: &[usize],
        scope: &Scope<'h>,
        span: Span,
        lower: bool,
    ) -> L<(Vec<ViewDim>, Vec<RegionDim>)> {
        let mut base = Vec::new();
        let mut region = Vec::new();
        for (d, (s, &n)) in subs.iter().zip(shape).enumerate() {
            match s {
                Sub::Index(e) => {
                    if let Some(a) = self.try_affine(e, scope) {
                        base.push(ViewDim {
                            offset: a,
                            dynamic: None,
                        });
                        continue;
                    }
                    let dynamic = if lower {
                        Some(self.dynamic_index(e, scope)?)
                    } else {
                        None
                    };
                    base.push(ViewDim {
                        offset: Affine::constant(0),
                        dynamic,
                    });
                }
                Sub::Slice {
                    lo,
                    hi,
                    step,
                    span: sspan,
                } => {
                    let lo_a = match lo {
                        Some(l) => self.affine_size(l, scope, *sspan)?,
                        None => Affine::constant(0),
                    };
                    let hi_a = match hi {
                        Some(h) => self.affine_size(h, scope, *sspan)?,
                        None => Affine::constant(n as i64),
                    };
                    let diff = hi_a.add_scaled(&lo_a, -1);
                    let Some(len) = diff.as_constant() else {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_SLICE,
                                "the length of this slice is not constant",
                            )
                            .at(*sspan),
                        );
                        return None;
                    };
                    // A negative step walks down from `lo` to `hi` (excluded).
                    let (len, stride) = if *step > 0 {
                        (len, *step)
                    } else {
                        (-len, -*step)
                    };
                    let count = if len <= 0 {
                        0
                    } else {
                        (len + stride - 1) / stride
                    };
                    if count < 1 {
                        self.err(
                            Diagnostic::error(codes::BAD_SLICE, "this slice is empty").at(*sspan),
                        );
                        return None;
                    }
                    if let Some(l) = lo_a.as_constant() {
                        let last = l + (count - 1) * step;
                        if l.min(last) < 0 || l.max(last) >= n as i64 {
                            let h = hi_a.as_constant().unwrap_or(last + step);
                            let step_text = if *step == 1 {
                                String::new()
                            } else {
                                format!(":{step}")
                            };
                            self.err(
                                Diagnostic::error(
                                    codes::OUT_OF_BOUNDS,
                                    format!("slice {l}:{h}{step_text} is outside dimension {d} of size {n}"),
                                )
                                .at(*sspan),
                            );
                            return None;
                        }
                    }
                    base.push(ViewDim {
                        offset: lo_a,
                        dynamic: None,
                    });
                    region.push((d, count as usize, *step));
                }
            }
        }
        let _ = span;
        Some((base, region))
    }

    /// The index into operand `e` of element `idx` of a broadcast result (numpy's rule,
    /// `broadcast_concrete`): the last dimensions of `idx`, 0 where `e` has length 1.
    pub(super) fn broadcast_idx(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
    ) -> Vec<Affine> {
        if idx.is_empty() || self.is_scalar(e, scope) {
            return idx.to_vec();
        }
        let Some(shape) = self.shape_of(e, scope) else {
            return idx.to_vec();
        };
        if shape.len() == idx.len() && !shape.contains(&1) {
            return idx.to_vec();
        }
        let skip = idx.len().saturating_sub(shape.len());
        idx[skip..]
            .iter()
            .zip(&shape)
            .map(|(i, &n)| {
                if n == 1 {
                    Affine::constant(0)
                } else {
                    i.clone()
                }
            })
            .collect()
    }

    /// Element `idx` of `e`, an operand of an elementwise operation whose result has
    /// the broadcast shape of its operands.
    pub(super) fn elem_b(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let idx = self.broadcast_idx(e, idx, scope);
        self.elem(e, &idx, scope, hint)
    }

    /// Whether subscripts select one element (no slices).
    pub(super) fn is_element(&self, subs: &[Sub]) -> bool {
        subs.iter().all(|s| matches!(s, Sub::Index(_)))
    }
}

/// numpy's broadcasting of two concrete shapes: aligned from the last dimension, each
/// pair equal or one of them 1 (a missing leading dimension counts as 1).
pub(super) fn broadcast_concrete(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let at = |s: &[usize], k: usize| (k + s.len()).checked_sub(rank).map_or(1, |i| s[i]);
    (0..rank)
        .map(|k| match (at(a, k), at(b, k)) {
            (x, y) if x == y => Some(x),
            (1, y) => Some(y),
            (x, 1) => Some(x),
            _ => None,
        })
        .collect()
}

/// A dimension of a view's region: (dimension of the base tensor, length, step).
pub(super) type RegionDim = (usize, usize, i64);

/// A dimension of a view: the base offset (for a slice, its start), plus the value of a
/// data-dependent index.
#[derive(Clone, Debug)]
pub(super) struct ViewDim {
    pub(super) offset: Affine,
    pub(super) dynamic: Option<ExprId>,
}

/// The access to element `idx` of a view of tensor `t` (checked until the bounds pass
/// proves it).
pub(super) fn view_access(
    t: TensorId,
    base: &[ViewDim],
    region: &[RegionDim],
    idx: &[Affine],
) -> Access {
    let mut index: Vec<Affine> = base.iter().map(|b| b.offset.clone()).collect();
    for ((d, _, step), i) in region.iter().zip(idx) {
        index[*d] = index[*d].add_scaled(i, *step);
    }
    let mut access = Access::affine(t, index);
    if base.iter().any(|b| b.dynamic.is_some()) {
        access.dynamic = base.iter().map(|b| b.dynamic).collect();
    }
    access
}
