//! Expressions: the dispatch over expression kinds with the nesting limit, operators
//! (by the rules of op_rules.rs), comparison chains, `if ... else`, and the classes of
//! values that must agree.

use super::{Checked, Checker, Class, Info, MAX_NESTING};
use crate::ast::{self, BinOp, BoolOp, CmpOp, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, ExprKind as HE, HUnaryOp};
use crate::op_rules::{self, Binary, Refusal, Unary};
use crate::span::Span;

impl Checker<'_, '_> {
    /// Checks expression `e`: its HIR and what is known of its value.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> Checked {
        self.expr_multi(e, 1)
    }

    /// Checks an expression that may be a multi-result call when `results > 1`.
    pub(super) fn expr_multi(&mut self, e: &ast::Expr, results: usize) -> Checked {
        self.depth += 1;
        let r = if self.depth > MAX_NESTING {
            if !self.too_deep {
                self.too_deep = true;
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        format!("expression nested more than {MAX_NESTING} levels deep"),
                    )
                    .at(e.span)
                    .help("split it with intermediate names, or use `sum(...)` for long sums"),
                );
            }
            None
        } else {
            self.expr_nested(e, results)
        };
        self.depth -= 1;
        r
    }

    /// The dispatch over expression kinds, inside the nesting limit.
    fn expr_nested(&mut self, e: &ast::Expr, results: usize) -> Checked {
        let span = e.span;
        let mk = |kind: HE| hir::Expr { kind, span };
        match &e.kind {
            AE::Int(v) => Some((mk(HE::Int(*v)), Info::scalar(Class::IntLit))),
            AE::Float(s) => Some((mk(HE::Real(s.clone())), Info::scalar(Class::RealLit))),
            AE::Bool(b) => Some((mk(HE::Bool(*b)), Info::scalar(Class::Bool))),
            AE::Name(n) => self.name(n, span),
            AE::Unary(op, a) => self.unary(*op, a, span),
            AE::Binary(op, a, b) => self.binary(*op, a, b, span),
            AE::Compare(first, rest) => self.compare_chain(first, rest, span),
            AE::BoolOp(op, a, b) => self.logic(*op, a, b, span),
            AE::IfElse {
                cond,
                then,
                otherwise,
            } => self.if_else(cond, then, otherwise, span),
            AE::Call { func, args } => self.call(func, args, span, results),
            AE::Index { base, subs } => self.index(base, subs, span),
            AE::Comprehension(g) => self.comprehension(g, span),
            AE::List(items) => self.list_literal(items, span),
            AE::Str(_)
            | AE::Attr(..)
            | AE::TypeLit(_)
            | AE::Lambda { .. }
            | AE::Generator(_)
            | AE::Tuple(_) => {
                self.err(not_a_value(e));
                None
            }
        }
    }

    /// Reports why an operator refuses its operands (`whole`, `left`, `right`: the spans
    /// the refusal may point at), or gives the rule's result.
    pub(super) fn obey<T>(
        &mut self,
        rule: Result<T, Refusal>,
        whole: Span,
        left: Span,
        right: Span,
    ) -> Option<T> {
        match rule {
            Ok(v) => Some(v),
            Err(r) => {
                self.err(r.diagnostic(whole, left, right));
                None
            }
        }
    }

    /// That a value of class `c` at `span` is a number; `what` names the operation.
    pub(super) fn numeric(&mut self, c: Class, span: Span, what: &str) -> Option<()> {
        self.obey(op_rules::require_number(what, c), span, span, span)
    }

    /// The class of the values `a` (at `sa`) and `b` (at `sb`), which must agree; `what`
    /// names them: "the branches", "the arguments of `max`".
    pub(super) fn unify_values(
        &mut self,
        a: Class,
        b: Class,
        sa: Span,
        sb: Span,
        what: &str,
    ) -> Option<Class> {
        self.obey(op_rules::agree(what, a, b), sa, sa, sb)
    }

    /// The class of `a op b` (operands at `sa` and `sb`, the whole at `span`).
    pub(super) fn binary_class(
        &mut self,
        op: impl Into<Binary>,
        a: Class,
        b: Class,
        (span, sa, sb): (Span, Span, Span),
    ) -> Option<Class> {
        self.obey(op_rules::binary(op.into(), a, b), span, sa, sb)
    }

    /// `op a`, by the rule of the operator.
    fn unary(&mut self, op: ast::UnaryOp, a: &ast::Expr, span: Span) -> Checked {
        let (h, info) = self.expr(a)?;
        self.obey(
            op_rules::unary(Unary::from(op), info.class),
            span,
            a.span,
            a.span,
        )?;
        let hop = match op {
            ast::UnaryOp::Plus => return Some((h, info)),
            ast::UnaryOp::Neg => HUnaryOp::Neg,
            ast::UnaryOp::BitNot => HUnaryOp::BitNot,
            ast::UnaryOp::Not => HUnaryOp::Not,
        };
        let e = hir::Expr {
            kind: HE::Unary(hop, Box::new(h)),
            span,
        };
        Some((e, info))
    }

    /// `a op b`, by the rule of the operator; a shift amount is a scalar.
    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> Checked {
        let (ha, ia) = self.expr(a)?;
        let (hb, ib) = self.expr(b)?;
        let class = self.binary_class(op, ia.class, ib.class, (span, a.span, b.span))?;
        let shape = self.broadcast(&ia, &ib, span)?;
        if matches!(op, BinOp::Shl | BinOp::Shr) && ib.shape.is_some() {
            self.err(
                Diagnostic::error(codes::KIND_MISMATCH, "a shift amount must be a scalar")
                    .at(b.span),
            );
            return None;
        }
        let e = hir::Expr {
            kind: HE::Binary(op, Box::new(ha), Box::new(hb)),
            span,
        };
        Some((e, Info { shape, class }))
    }

    /// `a and b`, `a or b`.
    fn logic(&mut self, op: BoolOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> Checked {
        let (ha, ia) = self.expr(a)?;
        let (hb, ib) = self.expr(b)?;
        let class = self.binary_class(op, ia.class, ib.class, (span, a.span, b.span))?;
        let shape = self.broadcast(&ia, &ib, span)?;
        let e = hir::Expr {
            kind: HE::Logic(op, Box::new(ha), Box::new(hb)),
            span,
        };
        Some((e, Info { shape, class }))
    }

    /// `then if cond else otherwise`.
    fn if_else(
        &mut self,
        cond: &ast::Expr,
        then: &ast::Expr,
        otherwise: &ast::Expr,
        span: Span,
    ) -> Checked {
        let (hc, ic) = self.expr(cond)?;
        let rule = op_rules::select_condition(ic.class);
        self.obey(rule, span, cond.span, cond.span)?;
        let (ht, it) = self.expr(then)?;
        let (ho, io) = self.expr(otherwise)?;
        let class = self.unify_values(
            it.class,
            io.class,
            then.span,
            otherwise.span,
            "the branches",
        )?;
        let s1 = self.broadcast(&it, &io, span)?;
        let shape = self.broadcast(&ic, &Info { shape: s1, class }, span)?;
        let e = hir::Expr {
            kind: HE::Select {
                cond: Box::new(hc),
                then: Box::new(ht),
                otherwise: Box::new(ho),
            },
            span,
        };
        Some((e, Info { shape, class }))
    }

    /// `a < b <= c`: `a < b and b <= c`, each comparison by the operator rules.
    fn compare_chain(
        &mut self,
        first: &ast::Expr,
        rest: &[(CmpOp, ast::Expr)],
        span: Span,
    ) -> Checked {
        let (mut lhs, mut li) = self.expr(first)?;
        let mut acc: Option<(hir::Expr, Info)> = None;
        for (op, rhs) in rest {
            let (rh, ri) = self.expr(rhs)?;
            let class = self.binary_class(*op, li.class, ri.class, (span, span, span))?;
            let shape = self.broadcast(&li, &ri, span)?;
            let cmp = hir::Expr {
                kind: HE::Compare(*op, Box::new(lhs.clone()), Box::new(rh.clone())),
                span: Span::new(span.file, lhs.span.start as usize, rh.span.end as usize),
            };
            let info = Info { shape, class };
            acc = Some(match acc {
                None => (cmp, info),
                Some((prev, pinfo)) => {
                    let shape = self.broadcast(&pinfo, &info, span)?;
                    (
                        hir::Expr {
                            kind: HE::Logic(BoolOp::And, Box::new(prev), Box::new(cmp)),
                            span,
                        },
                        Info {
                            shape,
                            class: Class::Bool,
                        },
                    )
                }
            });
            lhs = rh;
            li = ri;
        }
        acc
    }
}

/// The error for an expression that is not a value where one is expected: a string, a
/// module member, a type, a lambda, a generator, a tuple.
fn not_a_value(e: &ast::Expr) -> Diagnostic {
    let span = e.span;
    match &e.kind {
        AE::Str(_) => {
            Diagnostic::error(codes::UNSUPPORTED, "strings only appear in `load(\"...\")`").at(span)
        }
        AE::Attr(..) => Diagnostic::error(
            codes::WRONG_NAME_KIND,
            "a module or module member is not a value",
        )
        .at(span)
        .help("call a kernel of the module: `module.kernel(...)`"),
        AE::TypeLit(_) => Diagnostic::error(codes::WRONG_NAME_KIND, "a type is not a value")
            .at(span)
            .help("to convert a value, call the type: `fixed<8, 4>(x)`"),
        AE::Lambda { .. } => Diagnostic::error(
            codes::BAD_MAP,
            "a lambda can only be the first argument of `map`",
        )
        .at(span),
        AE::Generator(_) => Diagnostic::error(
            codes::BAD_REDUCTION,
            "a generator expression can only be the argument of `sum`, `max` or `min`",
        )
        .at(span),
        _ => Diagnostic::error(
            codes::UNSUPPORTED,
            "tuples only appear in `return a, b` and `a, b = kernel(...)`",
        )
        .at(span),
    }
}
