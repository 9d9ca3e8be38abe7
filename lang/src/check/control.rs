//! Control flow: `for` and `while` loops, loop headers (`range`, `grid`, shared with
//! generators and comprehensions), `if` / `elif` / `else` with definite assignment, and
//! conditions.

use super::{Checker, Class};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, LoopHeader, Named, StmtKind as HS};
use crate::resolve::size_expr;
use crate::span::Span;
use crate::sym::SizeExpr;
use std::collections::HashSet;

/// A loop's range: from, to, step, and where it is written.
type LoopRange = (SizeExpr, SizeExpr, i64, Span);

impl Checker<'_, '_> {
    /// `for vars in iter:` with one HIR loop per variable, nested.
    pub(super) fn for_loop(
        &mut self,
        vars: &[ast::Ident],
        iter: &ast::Expr,
        body: &ast::Block,
        span: Span,
    ) -> Option<hir::Stmt> {
        if matches!(iter.kind, AE::Name(_) | AE::Index { .. }) {
            return self.for_each(vars, iter, body, span);
        }
        let headers = self.loop_headers(vars, iter, false)?;
        let grid = headers.len() > 1;
        let mut stmt_body = self.in_loop_scope(vars, &headers, |c| c.loop_body(body, grid));
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

    /// `for v in a:` over the first axis of a named tensor (or a slice of one): a loop
    /// over `range(len(a))` whose body sees `v` as `a[i]`: an element for a 1-D tensor,
    /// a row (`a[i, :]`, a view: storing into it stores into `a`) otherwise.
    fn for_each(
        &mut self,
        vars: &[ast::Ident],
        iter: &ast::Expr,
        body: &ast::Block,
        span: Span,
    ) -> Option<hir::Stmt> {
        if vars.len() != 1 {
            self.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    "a loop over a tensor binds one name (each element or row)",
                )
                .at(span)
                .help("write `for v in a:` and index the row: `v[0]`, `v[1]`"),
            );
            return None;
        }
        self.check_loop_var_names(vars)?;
        let (_, info) = self.expr(iter)?;
        let row = info
            .shape
            .as_ref()
            .filter(|s| s.len() > 1)
            .map(|s| s[1..].to_vec());
        let n = match info.shape.as_deref() {
            Some([crate::hir::Dim::Size(n), ..]) => n.clone(),
            Some(_) => {
                self.err(
                    Diagnostic::error(
                        codes::INDEX_COUNT,
                        "a tensor of generic rank cannot be iterated over",
                    )
                    .at(iter.span)
                    .help("name its dimensions in the parameter's type (`x: T[N, M]`)"),
                );
                return None;
            }
            None => {
                self.err(
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        "a loop iterates over a tensor, not a scalar",
                    )
                    .at(iter.span)
                    .help("write `for i in range(n)` for a counted loop"),
                );
                return None;
            }
        };
        let v = &vars[0];
        let index = ast::Ident {
            name: format!("{}'index", v.name),
            span: v.span,
        };
        let var = self.k.loop_vars.len();
        self.k.loop_vars.push(Named {
            name: index.name.clone(),
            span: v.span,
        });
        let header = LoopHeader {
            var,
            lo: SizeExpr::Const(0),
            hi: n.clone(),
            step: 1,
            span: iter.span,
        };
        self.loop_ranges.insert(var, (SizeExpr::Const(0), n, 1));
        let element = ast::Expr {
            kind: AE::Index {
                base: Box::new(iter.clone()),
                subs: vec![ast::Subscript::Index(ast::Expr {
                    kind: AE::Name(index.name.clone()),
                    span: v.span,
                })],
            },
            span: v.span,
        };
        self.element_aliases.push((v.name.clone(), element, row));
        let inner = self.in_loop_scope(
            std::slice::from_ref(&index),
            std::slice::from_ref(&header),
            |c| c.loop_body(body, false),
        );
        self.element_aliases.pop();
        Some(hir::Stmt {
            kind: HS::For {
                header,
                body: inner,
            },
            span,
        })
    }

    /// The body of a loop (a `grid` loop when `grid`): nested, and what it assigns is not
    /// known to be assigned after it.
    fn loop_body(&mut self, body: &ast::Block, grid: bool) -> hir::Block {
        let saved_assigned = self.assigned.clone();
        let saved_where = self.wher;
        self.wher.nested = true;
        self.open_loops.push(grid);
        let inner = self.block(&body.stmts, false);
        self.open_loops.pop();
        self.wher = saved_where;
        self.assigned = saved_assigned;
        inner
    }

    /// Runs `f` with the loop variables `vars` of `headers` in scope.
    pub(super) fn in_loop_scope<T>(
        &mut self,
        vars: &[ast::Ident],
        headers: &[LoopHeader],
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        for (v, h) in vars.iter().zip(headers) {
            self.loop_scope.push((v.name.clone(), h.var));
        }
        let r = f(self);
        self.loop_scope
            .truncate(self.loop_scope.len() - headers.len());
        r
    }

    /// `while cond, max=N:` runs its body while `cond` holds, at most N times (a
    /// compile-time integer: hardware needs the bound).
    pub(super) fn while_loop(
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
        let saved_where = self.wher;
        self.wher.while_cond = true;
        let checked = self.expr(cond);
        self.wher = saved_where;
        let (c, info) = checked?;
        if info.shape.is_some() || info.class != Class::Bool {
            self.err(
                Diagnostic::error(codes::NOT_BOOL, "a `while` condition must be a bool")
                    .at(cond.span),
            );
            return None;
        }
        let inner = self.loop_body(body, false);
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
    /// The new loop variables are registered but not put in scope. With `rectangular`
    /// (a comprehension), the extents must not depend on enclosing loop variables.
    pub(super) fn loop_headers(
        &mut self,
        vars: &[ast::Ident],
        iter: &ast::Expr,
        rectangular: bool,
    ) -> Option<Vec<LoopHeader>> {
        let bad_iter = |c: &mut Self| {
            c.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    "loops iterate over `range(...)`, `grid(...)` or a named tensor",
                )
                .at(iter.span)
                .help("write `for i in range(N)`, `for k, i, j in grid(K, H, W)` or `for v in a`"),
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
        self.check_loop_var_names(vars)?;
        let sizes = self.loop_bounds(args)?;
        let ranges = match f.as_str() {
            "range" => vec![self.range_bounds(vars.len(), &sizes, iter.span)?],
            "grid" => self.grid_bounds(vars.len(), sizes, iter.span)?,
            _ => return bad_iter(self),
        };
        let mut headers = Vec::new();
        for (v, (lo, hi, step, sp)) in vars.iter().zip(ranges) {
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
                name: v.name.clone(),
                span: v.span,
            });
            self.loop_ranges.insert(var, (lo.clone(), hi.clone(), step));
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

    /// New loop variables must not shadow any name in scope.
    fn check_loop_var_names(&mut self, vars: &[ast::Ident]) -> Option<()> {
        for v in vars {
            if self.loop_scope.iter().any(|(n, _)| n == &v.name)
                || self.element_aliases.iter().any(|(n, ..)| n == &v.name)
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
        Some(())
    }

    /// The arguments of `range` or `grid`: compile-time integers.
    fn loop_bounds(&mut self, args: &[ast::Arg]) -> Option<Vec<(SizeExpr, Span)>> {
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
        Some(sizes)
    }

    /// `range(hi)`, `range(lo, hi)`, `range(lo, hi, step)` for `vars` loop variables.
    fn range_bounds(
        &mut self,
        vars: usize,
        sizes: &[(SizeExpr, Span)],
        span: Span,
    ) -> Option<LoopRange> {
        if vars != 1 {
            self.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    format!("`range` gives one loop variable, not {vars}"),
                )
                .at(span)
                .help("use `grid(...)` for several variables"),
            );
            return None;
        }
        let (lo, hi, step) = match sizes {
            [(hi, _)] => (SizeExpr::Const(0), hi.clone(), 1),
            [(lo, _), (hi, _)] => (lo.clone(), hi.clone(), 1),
            [(lo, _), (hi, _), (step, step_span)] => match step.as_const() {
                Some(0) | None => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_LOOP,
                            "the step of `range` must be a non-zero constant",
                        )
                        .at(*step_span),
                    );
                    return None;
                }
                // Its magnitude would not be a 64-bit integer.
                Some(i64::MIN) => {
                    self.err(
                        Diagnostic::error(codes::BAD_LOOP, "the step of `range` is too large")
                            .at(*step_span)
                            .label(format!("steps are at most {} either way", i64::MAX)),
                    );
                    return None;
                }
                Some(s) => (lo.clone(), hi.clone(), s),
            },
            _ => {
                self.err(
                    Diagnostic::error(codes::BAD_ARGS, "`range` takes 1 to 3 arguments").at(span),
                );
                return None;
            }
        };
        Some((lo, hi, step, span))
    }

    /// `grid(A, B, ...)`: one extent per loop variable, each from 0.
    fn grid_bounds(
        &mut self,
        vars: usize,
        sizes: Vec<(SizeExpr, Span)>,
        span: Span,
    ) -> Option<Vec<LoopRange>> {
        if sizes.len() != vars {
            self.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    format!(
                        "`grid` has {} extents but the loop names {vars} variables",
                        sizes.len(),
                    ),
                )
                .at(span),
            );
            return None;
        }
        Some(
            sizes
                .into_iter()
                .map(|(s, sp)| (SizeExpr::Const(0), s, 1, sp))
                .collect(),
        )
    }

    /// `break` (`is_break`) or `continue`: they act on the innermost loop, and `break`
    /// cannot leave a `grid` loop (several loops at once).
    pub(super) fn loop_exit(&mut self, is_break: bool, span: Span) -> Option<HS> {
        let word = if is_break { "break" } else { "continue" };
        match self.open_loops.last() {
            None => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, format!("`{word}` outside a loop"))
                        .at(span),
                );
                None
            }
            Some(true) if is_break => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "`break` out of a `grid` loop")
                        .at(span)
                        .help("write the loops as nested `for ... in range(...)`: `break` leaves the innermost one"),
                );
                None
            }
            Some(_) if is_break => Some(HS::Break),
            Some(_) => Some(HS::Continue),
        }
    }

    /// `if` / `elif` / `else`: after it, a local is assigned if every branch assigns it.
    pub(super) fn if_stmt(
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

    /// The condition of an `if` or `elif`: a single bool.
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
}
