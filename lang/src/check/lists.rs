//! List literals: `[1, 2, 3]` and `[[1, 2], [3, 4]]` are constant tensors of number
//! literals, as a Python user writes a filter's weights. Their elements are typed like
//! literals by the context they meet (docs/language.md §7.2): exact next to exact values
//! (so every element must have an exact binary value there), f32 next to f32. A name
//! assigned a list literal (`w = [0.25, 0.5, 0.25]`) stands for that constant wherever it
//! is used, so each use adapts to its own context.

use super::shapes::too_large;
use super::{mk, Checked, Checker, Class, Info};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE};
use crate::span::Span;
use crate::sym::SizeExpr;

/// What a list literal holds so far: its dimensions (outermost first), its elements in
/// row-major order, and whether one of them is a real literal.
#[derive(Default)]
struct ListParts {
    shape: Vec<usize>,
    elems: Vec<hir::Expr>,
    real: bool,
}

impl Checker<'_, '_> {
    /// `[a, b, ...]` at `span`: a constant tensor.
    pub(super) fn list_literal(&mut self, items: &[ast::Expr], span: Span) -> Checked {
        let mut parts = ListParts::default();
        self.list_level(items, span, 0, &mut parts)?;
        let count: usize = parts.shape.iter().product();
        if count != parts.elems.len() {
            self.err(ragged(span, "its rows do not all have the same depth"));
            return None;
        }
        let dims: Vec<Dim> = parts
            .shape
            .iter()
            .map(|&n| Dim::Size(SizeExpr::Const(n as i64)))
            .collect();
        if let Some(d) = too_large(&dims, None, span) {
            self.err(d);
            return None;
        }
        let class = if parts.real {
            Class::RealLit
        } else {
            Class::IntLit
        };
        let e = HE::List {
            shape: parts.shape,
            elems: parts.elems,
        };
        Some((
            mk(e, span),
            Info {
                shape: Some(dims),
                class,
            },
        ))
    }

    /// The items of one level (`depth`) of a list literal.
    fn list_level(
        &mut self,
        items: &[ast::Expr],
        span: Span,
        depth: usize,
        parts: &mut ListParts,
    ) -> Option<()> {
        match parts.shape.get(depth) {
            None => parts.shape.push(items.len()),
            Some(&n) if n != items.len() => {
                self.err(ragged(
                    span,
                    &format!("this row has {} elements, an earlier one {n}", items.len()),
                ));
                return None;
            }
            Some(_) => {}
        }
        let lists = items
            .iter()
            .filter(|i| matches!(i.kind, AE::List(_)))
            .count();
        if lists != 0 && lists != items.len() {
            self.err(ragged(span, "it mixes numbers and lists at one level"));
            return None;
        }
        for it in items {
            if let AE::List(sub) = &it.kind {
                self.list_level(sub, it.span, depth + 1, parts)?;
                continue;
            }
            if parts.shape.len() > depth + 1 {
                self.err(ragged(span, "its rows do not all have the same depth"));
                return None;
            }
            let (h, info) = self.expr(it)?;
            match info.class {
                Class::IntLit if info.shape.is_none() => {}
                Class::RealLit if info.shape.is_none() => parts.real = true,
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            "a list literal holds number literals only",
                        )
                        .at(it.span)
                        .help("a tensor of computed values is a comprehension, `[f(i) for i in range(N)]`, or a declared tensor `t: T[N]` whose elements are assigned"),
                    );
                    return None;
                }
            }
            parts.elems.push(h);
        }
        Some(())
    }

    /// `n = [...]`: `n` names the constant list literal `value` from here on.
    pub(super) fn name_list(&mut self, n: &str, name_span: Span, value: &ast::Expr) -> Option<()> {
        let AE::List(items) = &value.kind else {
            return None;
        };
        if !self.check_new_local_name(n, name_span) {
            return None;
        }
        let Some(checked) = self.list_literal(items, value.span) else {
            self.poisoned.insert(n.to_string());
            return None;
        };
        self.list_names.insert(n.to_string(), checked);
        Some(())
    }

    /// A use of the name of a list literal, at `span`.
    pub(super) fn named_list(&self, n: &str, span: Span) -> Checked {
        let (h, info) = self.list_names.get(n)?;
        let mut h = h.clone();
        h.span = span;
        Some((h, info.clone()))
    }
}

/// E0401 for a list literal whose rows differ (`why`).
fn ragged(span: Span, why: &str) -> Diagnostic {
    Diagnostic::error(codes::SHAPE_MISMATCH, "a list literal must be rectangular")
        .at(span)
        .label(why.to_string())
        .help("give every row the same number of elements: `[[1, 2], [3, 4]]`")
}
