//! Elementwise constructs: reductions (`sum`, `max`, `argmax`... of a tensor or a
//! generator), generators, `map` with its lambda, and comprehensions. Their elements are
//! checked "elementwise": no kernel calls or new tensors inside.

use super::shapes::{simplify, strided_length, too_large};
use super::{mk, Checked, Checker, Class, Info};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Code, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE, LoopHeader, Named, ReduceOp};
use crate::span::Span;
use crate::sym::{SizeExpr, SizeOp};

impl Checker<'_, '_> {
    /// Runs `f` inside an element (of a generator, comprehension or lambda).
    fn elementwise<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let saved = self.wher;
        self.wher.elementwise = true;
        let r = f(self);
        self.wher = saved;
        r
    }

    /// The loops of generator `g` (`rectangular` for a comprehension, whose extents must
    /// not depend on enclosing loops) and its element, checked with the loop variables in
    /// scope. The element must be a scalar: `not_scalar` is the error code and message
    /// for one that is not.
    fn generator(
        &mut self,
        g: &ast::Generator,
        rectangular: bool,
        not_scalar: (Code, &str),
    ) -> Option<(Vec<LoopHeader>, hir::Expr, Info)> {
        let headers = self.loop_headers(&g.vars, &g.iter, rectangular)?;
        let elem = self.in_loop_scope(&g.vars, &headers, |c| c.elementwise(|c| c.expr(&g.elem)));
        let (h, info) = elem?;
        if info.shape.is_some() {
            self.err(Diagnostic::error(not_scalar.0, not_scalar.1).at(g.elem.span));
            return None;
        }
        Some((headers, h, info))
    }

    /// Reduction `op` of a tensor or of a generator, at `span`.
    pub(super) fn reduction(&mut self, op: ReduceOp, arg: &ast::Expr, span: Span) -> Checked {
        let what = format!("`{}`", op.name());
        if let AE::Generator(g) = &arg.kind {
            let not_scalar = (
                codes::BAD_REDUCTION,
                "the element of a reduction must be a scalar",
            );
            let (headers, hb, ib) = self.generator(g, false, not_scalar)?;
            self.numeric(ib.class, g.elem.span, &what)?;
            let class = if op.is_arg() {
                Class::Int
            } else {
                ib.class.materialized()
            };
            let e = HE::Reduce {
                op,
                loops: headers,
                body: Box::new(hb),
            };
            return Some((mk(e, span), Info::scalar(class)));
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
        self.numeric(info.class, arg.span, &what)?;
        let class = if op.is_arg() { Class::Int } else { info.class };
        let e = HE::ReduceAll {
            op,
            arg: Box::new(h),
        };
        Some((mk(e, span), Info::scalar(class)))
    }

    /// `map(lambda a, b: ..., A, B)`: the lambda applied to the elements of tensors of
    /// one shape (a named operand's parameter can also read neighbours: `a[-1, 0]`).
    pub(super) fn map(&mut self, args: &[ast::Arg], span: Span) -> Checked {
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
        let (hops, infos) = self.map_operands(operands)?;
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
        let body_r = self.elementwise(|c| c.expr(body));
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
        let e = HE::Map {
            params: ids,
            body: Box::new(hb),
            operands: hops,
        };
        let info = Info {
            shape: infos[0].0.shape.clone(),
            class: ib.class.materialized(),
        };
        Some((mk(e, span), info))
    }

    /// The tensors `map` works on, of one shape; with each, whether its elements have
    /// neighbours a window can read (it is named, or a slice of a named tensor).
    #[allow(clippy::type_complexity)]
    fn map_operands(
        &mut self,
        operands: &[ast::Arg],
    ) -> Option<(Vec<hir::Expr>, Vec<(Info, bool)>)> {
        let mut hops = Vec::new();
        let mut infos: Vec<(Info, bool)> = Vec::new();
        for a in operands {
            let (h, info) = self.expr(&a.value)?;
            let Some(shape) = &info.shape else {
                self.err(
                    Diagnostic::error(codes::BAD_MAP, "`map` works on tensors; this is a scalar")
                        .at(a.value.span),
                );
                return None;
            };
            if let Some((first, _)) = infos.first() {
                let first = first.shape.clone().unwrap_or_default();
                self.same_shape(&first, shape, a.value.span, "the first operand of `map`");
            }
            let windowed = matches!(
                &h.kind,
                HE::Local(_) | HE::Param(_) | HE::Global(_) | HE::Index { .. } | HE::List { .. }
            );
            infos.push((info, windowed));
            hops.push(h);
        }
        Some((hops, infos))
    }

    /// `[elem for vars in grid(...)]`: a tensor with one dimension per loop.
    pub(super) fn comprehension(&mut self, g: &ast::Generator, span: Span) -> Checked {
        let not_scalar = (
            codes::KIND_MISMATCH,
            "the element of a comprehension must be a scalar",
        );
        let (headers, he, ie) = self.generator(g, true, not_scalar)?;
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
                Dim::Size(simplify(&strided_length(diff, step)))
            })
            .collect();
        if let Some(d) = too_large(&shape, None, span) {
            self.err(d);
            return None;
        }
        let e = HE::Comprehension {
            loops: headers,
            elem: Box::new(he),
        };
        let info = Info {
            shape: Some(shape),
            class: ie.class.materialized(),
        };
        Some((mk(e, span), info))
    }
}
