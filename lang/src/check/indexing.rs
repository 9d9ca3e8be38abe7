//! Indexing: subscripts and slices of named tensors (the selected region's shape), with
//! numpy's and Python's meanings: chains `a[i][j]` and slices of slices composed into one
//! subscript per dimension, missing trailing subscripts as whole dimensions, negative
//! constant indices and slice bounds counted from the end, negative steps; `len(a)` and
//! `a.shape[k]` as sizes; and window offsets of `map` lambda parameters.

use super::shapes::{simplify, strided_length};
use super::{Checked, Checker, Class, Info};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE, Sub, WindowSub};
use crate::resolve::size_expr;
use crate::span::Span;
use crate::sym::{Atom, SizeExpr, SizeOp};

/// A dimension of the view a chain of subscripts selects from a named tensor (`a[i]`,
/// `a[2:8][::2]`): fixed by an index, or a strided range of the base dimension.
#[derive(Clone)]
enum ViewDim {
    /// An index into the base dimension.
    Fixed(hir::Expr),
    /// Elements `lo, lo + step, ...` (`len` of them) of the base dimension; `whole` when
    /// it is the whole dimension in order (nothing selected it yet), `to_end` when it
    /// runs with step 1 up to the end of the base dimension (so a selection past its end
    /// is past the tensor's end, which lowering reports).
    Range {
        lo: SizeExpr,
        step: i64,
        len: SizeExpr,
        whole: bool,
        to_end: bool,
        span: Span,
    },
}

/// `a + b` of size expressions, folded when both are constants.
fn size_add(a: SizeExpr, b: SizeExpr) -> SizeExpr {
    simplify(&SizeExpr::bin(SizeOp::Add, a, b))
}

/// `a * k` of a size expression and a constant.
fn size_scale(a: SizeExpr, k: i64) -> SizeExpr {
    if k == 1 {
        return a;
    }
    simplify(&SizeExpr::bin(SizeOp::Mul, a, SizeExpr::Const(k)))
}

/// A size expression (possibly with loop variables) as an HIR integer expression.
fn size_value(s: &SizeExpr, span: Span) -> hir::Expr {
    let mk = |kind| hir::Expr { kind, span };
    if !s.mentions_loop_var() {
        return match s.as_const() {
            Some(c) if c >= 0 => mk(HE::Int(c as u128)),
            Some(c) => mk(HE::Unary(
                hir::HUnaryOp::Neg,
                Box::new(mk(HE::Int(c.unsigned_abs() as u128))),
            )),
            None => mk(HE::Size(s.clone())),
        };
    }
    match s {
        SizeExpr::LoopVar(v) => mk(HE::LoopVar(*v)),
        SizeExpr::Binary(op, a, b) => {
            let op = match op {
                SizeOp::Add => ast::BinOp::Add,
                SizeOp::Sub => ast::BinOp::Sub,
                SizeOp::Mul => ast::BinOp::Mul,
                SizeOp::FloorDiv => ast::BinOp::FloorDiv,
                SizeOp::Mod => ast::BinOp::Mod,
            };
            mk(HE::Binary(
                op,
                Box::new(size_value(a, span)),
                Box::new(size_value(b, span)),
            ))
        }
        _ => mk(HE::Size(s.clone())),
    }
}

/// Index `idx` of a view dimension that starts at `lo` with `step`: the index into the
/// tensor, `lo + idx * step`.
fn compose_index(lo: &SizeExpr, step: i64, idx: hir::Expr) -> hir::Expr {
    let span = idx.span;
    let mk = |kind| hir::Expr { kind, span };
    if lo.as_const() == Some(0) && step == 1 {
        return idx;
    }
    let scaled = if step.abs() == 1 {
        idx
    } else {
        mk(HE::Binary(
            ast::BinOp::Mul,
            Box::new(idx),
            Box::new(mk(HE::Int(step.unsigned_abs() as u128))),
        ))
    };
    let op = if step > 0 {
        ast::BinOp::Add
    } else {
        ast::BinOp::Sub
    };
    mk(HE::Binary(
        op,
        Box::new(size_value(lo, span)),
        Box::new(scaled),
    ))
}

/// A length for messages: its value when constant.
fn show_len(len: &SizeExpr) -> String {
    len.normalize()
        .as_const()
        .map_or_else(|| "fewer".to_string(), |n| n.to_string())
}

/// The subscripts of a chain `a[s1][s2]...` (outermost last), and its root `a`.
pub(super) fn flatten_chain<'e>(
    base: &'e ast::Expr,
    subs: &'e [ast::Subscript],
) -> (&'e ast::Expr, Vec<&'e [ast::Subscript]>) {
    let mut levels = vec![subs];
    let mut root = base;
    while let AE::Index { base, subs } = &root.kind {
        levels.push(subs);
        root = base;
    }
    levels.reverse();
    (root, levels)
}

impl Checker<'_, '_> {
    /// Checks a chain of subscripts (`levels`: `a[i][j]` has two, innermost first)
    /// against a tensor's shape. Each level selects from what the previous ones left:
    /// missing trailing subscripts select whole dimensions (`a[i]` is the row `a[i, :]`),
    /// a slice of a slice composes, negative constant indices and slice bounds count from
    /// the end of their dimension, as in Python. Returns the HIR subscripts (one per
    /// dimension of the tensor) and the shape of the selected region (`None` when every
    /// dimension is fixed: one element).
    pub(super) fn subscripts(
        &mut self,
        shape: &[Dim],
        levels: &[&[ast::Subscript]],
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
        let mut view: Vec<ViewDim> = shape
            .iter()
            .map(|d| {
                let Dim::Size(len) = d else { unreachable!() };
                ViewDim::Range {
                    lo: SizeExpr::Const(0),
                    step: 1,
                    len: len.clone(),
                    whole: true,
                    to_end: true,
                    span,
                }
            })
            .collect();
        for (level, subs) in levels.iter().enumerate() {
            let open: Vec<usize> = (0..view.len())
                .filter(|&d| matches!(view[d], ViewDim::Range { .. }))
                .collect();
            if open.is_empty() {
                self.err(
                    Diagnostic::error(
                        codes::INDEX_COUNT,
                        "this selects one element, which cannot be indexed further",
                    )
                    .at(span)
                    .help("give one index per dimension, in one or more brackets: `a[i][j]` or `a[i, j]`"),
                );
                return None;
            }
            if subs.len() > open.len() {
                let dims: Vec<Dim> = open
                    .iter()
                    .map(|&d| match &view[d] {
                        ViewDim::Range { len, .. } => Dim::Size(len.clone()),
                        ViewDim::Fixed(_) => unreachable!(),
                    })
                    .collect();
                let what = if level == 0 {
                    "a tensor"
                } else {
                    "a selection"
                };
                self.err(
                    Diagnostic::error(
                        codes::INDEX_COUNT,
                        format!(
                            "{} subscript(s) for {what} of rank {} {}",
                            subs.len(),
                            dims.len(),
                            self.show_shape(&dims)
                        ),
                    )
                    .at(span)
                    .help("give at most one index or slice per dimension; `:` selects a whole dimension"),
                );
                return None;
            }
            for (s, &d) in subs.iter().zip(&open) {
                let ViewDim::Range {
                    lo,
                    step,
                    len,
                    whole,
                    to_end,
                    ..
                } = view[d].clone()
                else {
                    unreachable!()
                };
                view[d] = match s {
                    ast::Subscript::Index(e) => {
                        let idx = self.index_sub(e, &len, whole)?;
                        ViewDim::Fixed(compose_index(&lo, step, idx))
                    }
                    ast::Subscript::Slice {
                        lo: l,
                        hi: h,
                        step: st,
                        span: sspan,
                    } => {
                        let (lo2, step2, len2) = self.slice_sub(l, h, st, *sspan, &len)?;
                        if !whole {
                            self.slice_inside(&lo2, step2, &len2, &len, to_end, *sspan)?;
                        }
                        let ends_with_view = SizeExpr::bin(
                            SizeOp::Sub,
                            len.clone(),
                            size_add(lo2.clone(), len2.clone()),
                        );
                        ViewDim::Range {
                            lo: size_add(lo.clone(), size_scale(lo2, step)),
                            step: step * step2,
                            to_end: to_end
                                && step2 == 1
                                && ends_with_view.normalize().as_const() == Some(0),
                            len: len2,
                            whole: false,
                            span: *sspan,
                        }
                    }
                };
            }
        }
        let mut out = Vec::new();
        let mut region = Vec::new();
        for v in view {
            match v {
                ViewDim::Fixed(e) => out.push(Sub::Index(e)),
                ViewDim::Range {
                    lo,
                    step,
                    len,
                    whole,
                    span,
                    ..
                } => {
                    region.push(Dim::Size(len.clone()));
                    out.push(if whole {
                        Sub::Slice {
                            lo: None,
                            hi: None,
                            step: 1,
                            span,
                        }
                    } else {
                        let hi = size_add(lo.clone(), size_scale(len, step));
                        Sub::Slice {
                            lo: Some(lo),
                            hi: Some(hi),
                            step,
                            span,
                        }
                    });
                }
            }
        }
        let element = region.is_empty();
        Some((out, (!element).then_some(region)))
    }

    /// An index into a dimension of length `len` (`whole`: a whole dimension of the
    /// tensor, not a slice of it): a scalar integer. A negative constant counts from the
    /// end (`x[-1]` is the last element). Through a slice (`a[2:6][k]`), the index must
    /// be a constant, so that it is known to stay inside the slice.
    fn index_sub(&mut self, e: &ast::Expr, len: &SizeExpr, whole: bool) -> Option<hir::Expr> {
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
        let constant = size_expr(&self.env(), e).ok().and_then(|s| s.as_const());
        let Some(c) = constant else {
            if !whole && !self.loop_var_within(e, len) {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "this index into a slice might leave the slice",
                    )
                    .at(e.span)
                    .label(format!("the slice has {} elements", show_len(len)))
                    .help("index with a loop variable whose range stays inside the slice (`for k in range(n)`), or index the tensor itself (`a[lo + k * step]`)"),
                );
                return None;
            }
            return Some(h);
        };
        let from_end = c < 0;
        let idx = if from_end {
            size_add(len.clone(), SizeExpr::Const(c))
        } else {
            SizeExpr::Const(c)
        };
        // A non-negative index into a whole dimension is left to the bounds pass.
        if let Some(n) = len.normalize().as_const().filter(|_| from_end || !whole) {
            let i = idx.as_const().unwrap_or(0);
            if i < 0 || i >= n {
                self.err(
                    Diagnostic::error(
                        codes::OUT_OF_BOUNDS,
                        format!("index {c} is outside a dimension of size {n}"),
                    )
                    .at(e.span)
                    .help(format!(
                        "indices go from 0 to {} (or -{n} to -1 from the end)",
                        n - 1
                    )),
                );
                return None;
            }
        }
        if !from_end && whole {
            return Some(h);
        }
        Some(size_value(&idx, e.span))
    }

    /// Whether `e` is a loop variable whose every value is an index of a dimension of
    /// length `len` (`for k in range(len)`, or a range inside it).
    fn loop_var_within(&self, e: &ast::Expr, len: &SizeExpr) -> bool {
        let AE::Name(n) = &e.kind else { return false };
        let Some((_, var)) = self.loop_scope.iter().rev().find(|(l, _)| l == n) else {
            return false;
        };
        let Some((lo, hi, step)) = self.loop_ranges.get(var) else {
            return false;
        };
        let room = SizeExpr::bin(SizeOp::Sub, len.clone(), hi.clone());
        *step > 0
            && lo.normalize().as_const().is_some_and(|l| l >= 0)
            && room.normalize().as_const().is_some_and(|r| r >= 0)
    }

    /// A bound of a slice (`None` when left out): affine in sizes and loop variables. A
    /// negative constant counts from the end of the dimension of length `len`.
    fn slice_bound(
        &mut self,
        e: &Option<ast::Expr>,
        len: &SizeExpr,
    ) -> Result<Option<SizeExpr>, ()> {
        let Some(e) = e else { return Ok(None) };
        match size_expr(&self.env(), e) {
            Ok(s) => match s.as_const() {
                Some(c) if c < 0 => {
                    let b = size_add(len.clone(), SizeExpr::Const(c));
                    if b.as_const().is_some_and(|v| v < 0) {
                        self.err(
                            Diagnostic::error(
                                codes::OUT_OF_BOUNDS,
                                format!(
                                    "slice bound {c} is before the start of a dimension of size {}",
                                    len.as_const().unwrap_or(0)
                                ),
                            )
                            .at(e.span),
                        );
                        return Err(());
                    }
                    Ok(Some(b))
                }
                _ => Ok(Some(s)),
            },
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

    /// A slice `lo:hi:step` (at `span`) of a dimension of length `dim`, with Python's
    /// meaning: negative constant bounds count from the end; a negative step walks
    /// backwards from `lo` (default: the last element) down to `hi` excluded (default:
    /// past the first). Returns its first element, step and length, which must be
    /// positive and the same in every iteration.
    fn slice_sub(
        &mut self,
        lo: &Option<ast::Expr>,
        hi: &Option<ast::Expr>,
        step: &Option<ast::Expr>,
        span: Span,
        dim: &SizeExpr,
    ) -> Option<(SizeExpr, i64, SizeExpr)> {
        let step_v = match step {
            None => 1,
            Some(e) => match size_expr(&self.env(), e).ok().and_then(|s| s.as_const()) {
                Some(v) if v != 0 => v,
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_SLICE,
                            "a slice step must be a non-zero constant",
                        )
                        .at(e.span),
                    );
                    return None;
                }
            },
        };
        let lo_s = self.slice_bound(lo, dim).ok()?;
        let hi_s = self.slice_bound(hi, dim).ok()?;
        let (lo_e, len) = if step_v > 0 {
            let lo_e = lo_s.unwrap_or(SizeExpr::Const(0));
            let hi_e = hi_s.unwrap_or_else(|| dim.clone());
            let diff = SizeExpr::bin(SizeOp::Sub, hi_e, lo_e.clone());
            (lo_e, strided_length(diff, step_v))
        } else {
            let lo_e = lo_s.unwrap_or_else(|| size_add(dim.clone(), SizeExpr::Const(-1)));
            let hi_e = hi_s.unwrap_or(SizeExpr::Const(-1));
            let diff = SizeExpr::bin(SizeOp::Sub, lo_e.clone(), hi_e);
            (lo_e, strided_length(diff, -step_v))
        };
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
        Some((simplify(&lo_e), step_v, simplify(&len)))
    }

    /// That a slice (first element `lo`, `step`, `len` elements) of a slice of length
    /// `outer` stays inside it: a slice of a slice selects from the first slice's
    /// elements, so it must not reach past them into the rest of the tensor.
    fn slice_inside(
        &mut self,
        lo: &SizeExpr,
        step: i64,
        len: &SizeExpr,
        outer: &SizeExpr,
        to_end: bool,
        span: Span,
    ) -> Option<()> {
        let last = size_add(
            lo.clone(),
            size_scale(size_add(len.clone(), SizeExpr::Const(-1)), step),
        );
        let (first_gap, last_gap) = if step > 0 {
            (
                lo.clone(),
                SizeExpr::bin(SizeOp::Sub, outer.clone(), last.clone()),
            )
        } else {
            (
                last.clone(),
                SizeExpr::bin(SizeOp::Sub, outer.clone(), lo.clone()),
            )
        };
        let before = first_gap.normalize().as_const();
        // Past the end of a slice that runs to the end of the tensor is past the end of
        // the tensor: lowering's bounds check of the combined slice reports it.
        let after = if to_end {
            Some(1)
        } else {
            last_gap.normalize().as_const()
        };
        match (before, after) {
            (Some(b), Some(a)) if b >= 0 && a >= 1 => Some(()),
            (Some(_), Some(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::OUT_OF_BOUNDS,
                        "this slice reaches outside the slice it is taken from",
                    )
                    .at(span)
                    .help(format!(
                        "the first slice has {} elements",
                        outer
                            .normalize()
                            .as_const()
                            .map_or("its".to_string(), |n| n.to_string())
                    )),
                );
                None
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_SLICE,
                        "kiln cannot tell whether this slice stays inside the slice it is taken from",
                    )
                    .at(span)
                    .help("slice the tensor once, with the combined bounds"),
                );
                None
            }
        }
    }

    /// `base[subs]`: an element or region of a named tensor (through a chain of
    /// subscripts, `a[i][j]`), or a window of a `map` lambda parameter.
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
        if matches!(&base.kind, AE::Attr(_, a) if a.name == "shape") {
            let whole = ast::Expr {
                kind: AE::Index {
                    base: Box::new(base.clone()),
                    subs: subs.to_vec(),
                },
                span,
            };
            return self.compile_time_size(&whole);
        }
        if let Some(expanded) = self.expand_alias_root(base) {
            return self.index(&expanded, subs, span);
        }
        let (root, levels) = flatten_chain(base, subs);
        if let AE::Name(n) = &root.kind {
            if self.lambda_scope.iter().any(|(name, ..)| name == n) {
                self.err(
                    Diagnostic::error(
                        codes::BAD_MAP,
                        format!("the window of `{n}` cannot be indexed again"),
                    )
                    .at(span)
                    .help(format!(
                        "write the offsets in one subscript, `{n}[dy, dx]` for one neighbour, or reduce the window (`sum({n}[-1:2, -1:2])`)"
                    )),
                );
                return None;
            }
        }
        let (hb, ib) = self.expr(root)?;
        let Some(shape) = ib.shape.clone() else {
            let unresolved = matches!(hb.kind, HE::Param(p) if self.k.params.get(p).is_some_and(|p| p.unresolved));
            if !unresolved {
                self.err(
                    Diagnostic::error(codes::KIND_MISMATCH, "a scalar cannot be indexed")
                        .at(root.span),
                );
            }
            return None;
        };
        if !matches!(
            hb.kind,
            HE::Local(_) | HE::Param(_) | HE::Global(_) | HE::List { .. }
        ) {
            self.err(
                Diagnostic::error(codes::UNSUPPORTED, "only named tensors can be indexed")
                    .at(root.span)
                    .help("assign the tensor to a name first"),
            );
            return None;
        }
        let (hsubs, region) = self.subscripts(&shape, &levels, span)?;
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

impl Checker<'_, '_> {
    /// `len(a)` or `a.shape[k]` used as a value: the size, an integer known when compiling.
    pub(super) fn compile_time_size(&mut self, e: &ast::Expr) -> Checked {
        match size_expr(&self.env(), e) {
            Ok(s) => Some((
                hir::Expr {
                    kind: HE::Size(s),
                    span: e.span,
                },
                Info::scalar(Class::Int),
            )),
            Err(d) => {
                self.err(d);
                None
            }
        }
    }
}
