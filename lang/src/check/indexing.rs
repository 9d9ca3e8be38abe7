//! Indexing: subscripts and slices of named tensors (the selected region's shape), and
//! window offsets of `map` lambda parameters.

use super::shapes::{simplify, strided_length};
use super::{Checked, Checker, Class, Info};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE, Sub, WindowSub};
use crate::resolve::size_expr;
use crate::span::Span;
use crate::sym::{Atom, SizeExpr, SizeOp};

impl Checker<'_, '_> {
    /// Checks subscripts against a shape. Returns the HIR subscripts and the shape of the
    /// selected region (`None` when every subscript is an index: one element).
    pub(super) fn subscripts(
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
                ast::Subscript::Index(e) => out.push(self.index_sub(e)?),
                ast::Subscript::Slice { lo, hi, step, span } => {
                    any_slice = true;
                    let (sub, len) = self.slice_sub(lo, hi, step, *span, dim)?;
                    region.push(Dim::Size(len));
                    out.push(sub);
                }
            }
        }
        Some((out, any_slice.then_some(region)))
    }

    /// An index: a scalar integer, not a negative literal.
    fn index_sub(&mut self, e: &ast::Expr) -> Option<Sub> {
        let (h, info) = self.expr(e)?;
        if info.shape.is_some() {
            self.err(
                Diagnostic::error(codes::KIND_MISMATCH, "an index must be a scalar").at(e.span),
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
                        .help("kiln does not count from the end; write e.g. `x[N - 1]`"),
                );
                return None;
            }
        }
        Some(Sub::Index(h))
    }

    /// A bound of a slice (`None` when left out): affine in sizes and loop variables.
    fn slice_bound(&mut self, e: &Option<ast::Expr>) -> Result<Option<SizeExpr>, ()> {
        let Some(e) = e else { return Ok(None) };
        match size_expr(&self.env(), e) {
            Ok(s) => Ok(Some(s)),
            Err(d) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_SLICE,
                        "slice bounds must be affine in sizes and loop variables",
                    )
                    .at(e.span)
                    .label(d.message),
                );
                Err(())
            }
        }
    }

    /// A slice `lo:hi:step` (at `span`) of dimension `dim`: the subscript and its length,
    /// which must be positive and the same in every iteration.
    fn slice_sub(
        &mut self,
        lo: &Option<ast::Expr>,
        hi: &Option<ast::Expr>,
        step: &Option<ast::Expr>,
        span: Span,
        dim: &SizeExpr,
    ) -> Option<(Sub, SizeExpr)> {
        let lo_s = self.slice_bound(lo).ok()?;
        let hi_s = self.slice_bound(hi).ok()?;
        let step_v = match step {
            None => 1,
            Some(e) => match size_expr(&self.env(), e).ok().and_then(|s| s.as_const()) {
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
            },
        };
        if [&lo_s, &hi_s]
            .into_iter()
            .flatten()
            .any(|b| b.as_const().is_some_and(|v| v < 0))
        {
            self.err(
                Diagnostic::error(codes::OUT_OF_BOUNDS, "negative slice bound")
                    .at(span)
                    .help("kiln does not count from the end; write e.g. `x[1:N - 1]`"),
            );
            return None;
        }
        let lo_e = lo_s.clone().unwrap_or(SizeExpr::Const(0));
        let hi_e = hi_s.clone().unwrap_or_else(|| dim.clone());
        let len = strided_length(SizeExpr::bin(SizeOp::Sub, hi_e, lo_e), step_v);
        let norm = len.normalize();
        if norm.terms.keys().any(|m| {
            m.iter().any(|a| match a {
                Atom::LoopVar(_) => true,
                Atom::AsWritten(e) => e.mentions_loop_var(),
                _ => false,
            })
        }) {
            self.err(
                Diagnostic::error(
                    codes::BAD_SLICE,
                    "the length of this slice depends on a loop variable",
                )
                .at(span)
                .help("the bounds must move together, e.g. `x[i:i + 3]`"),
            );
            return None;
        }
        if let Some(l) = norm.as_const().filter(|&l| l < 1) {
            self.err(
                Diagnostic::error(
                    codes::BAD_SLICE,
                    format!("this slice is empty (length {l})"),
                )
                .at(span),
            );
            return None;
        }
        let sub = Sub::Slice {
            lo: lo_s,
            hi: hi_s,
            step: step_v,
            span,
        };
        Some((sub, simplify(&len)))
    }

    /// `base[subs]`: an element or region of a named tensor, or a window of a `map`
    /// lambda parameter.
    pub(super) fn index(
        &mut self,
        base: &ast::Expr,
        subs: &[ast::Subscript],
        span: Span,
    ) -> Checked {
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
        if !matches!(
            hb.kind,
            HE::Local(_) | HE::Param(_) | HE::Global(_) | HE::List { .. }
        ) {
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

    /// `p[dy, dx]` on lambda parameter `param` (with operand `info`): the element at a
    /// constant offset from the current one, or with ranges (`p[-1:2, -1:2]`) the window
    /// of such elements, a tensor; only for operands with neighbours (`windowed`).
    pub(super) fn window(
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
        let mut out = Vec::new();
        let mut window_dims = Vec::new();
        for s in subs {
            match s {
                ast::Subscript::Index(e) => out.push(WindowSub::Offset(self.window_offset(e)?)),
                ast::Subscript::Slice { lo, hi, step, span } => {
                    let (Some(lo), Some(hi)) = (lo, hi) else {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_MAP,
                                "a window range needs both bounds: they are offsets from the current element",
                            )
                            .at(*span)
                            .help("`p[-1:2, -1:2]` is the 3x3 window around the current element"),
                        );
                        return None;
                    };
                    let lo = self.window_offset(lo)?;
                    let hi = self.window_offset(hi)?;
                    let step = match step {
                        None => 1,
                        Some(e) => match self.window_offset(e)? {
                            v if v > 0 => v,
                            _ => {
                                self.err(
                                    Diagnostic::error(
                                        codes::BAD_SLICE,
                                        "a window's step must be a positive constant",
                                    )
                                    .at(e.span),
                                );
                                return None;
                            }
                        },
                    };
                    // In i128: the bounds may be any 64-bit constants.
                    let len = ((hi as i128 - lo as i128).max(0) + step as i128 - 1) / step as i128;
                    let Ok(len) = i64::try_from(len) else {
                        self.err(
                            Diagnostic::error(codes::BAD_SLICE, "this window range is too long")
                                .at(*span),
                        );
                        return None;
                    };
                    if len < 1 {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_SLICE,
                                format!("this window range is empty (offsets {lo} up to {hi})"),
                            )
                            .at(*span)
                            .help("the upper offset is excluded: `p[-1:2]` is offsets -1, 0, 1"),
                        );
                        return None;
                    }
                    window_dims.push(Dim::Size(SizeExpr::Const(len)));
                    out.push(WindowSub::Range { lo, len, step });
                }
            }
        }
        let info = Info {
            shape: (!window_dims.is_empty()).then_some(window_dims),
            class: info.class,
        };
        Some((
            hir::Expr {
                kind: HE::Window { param, subs: out },
                span,
            },
            info,
        ))
    }

    /// A window offset (or a window range's bound or step): a constant integer, smaller
    /// than 2^32 in magnitude (so that index arithmetic with it cannot overflow).
    fn window_offset(&mut self, e: &ast::Expr) -> Option<i64> {
        match size_expr(&self.env(), e).ok().and_then(|s| s.as_const()) {
            Some(v) if v.unsigned_abs() >= 1 << 32 => {
                self.err(
                    Diagnostic::error(codes::OUT_OF_BOUNDS, format!("window offset {v} is out of range"))
                        .at(e.span)
                        .help("window offsets are small constants, below 2^32 in magnitude: `p[-1:2, -1:2]`"),
                );
                None
            }
            Some(v) => Some(v),
            None => {
                self.err(
                    Diagnostic::error(codes::BAD_MAP, "a window offset must be a constant integer")
                        .at(e.span)
                        .help("`p[-1, 0]` reads the element one row above; `p[-1:2, -1:2]` is the 3x3 window around it"),
                );
                None
            }
        }
    }
}
