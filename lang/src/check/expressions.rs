//! Expressions: the dispatch over expression kinds with the nesting limit, operators
//! (by the rules of op_rules.rs), comparison chains, `if ... else`, and the classes of
//! values that must agree.

use super::{Checked, Checker, Class, Info, MAX_NESTING};
use crate::ast::{self, BinOp, BoolOp, CmpOp, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, ExprKind as HE, HUnaryOp};
use crate::span::Span;

impl Checker<'_, '_> {
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

    pub(super) fn expr_nested(&mut self, e: &ast::Expr, results: usize) -> Checked {
        let span = e.span;
        let mk = |kind: HE| hir::Expr { kind, span };
        match &e.kind {
            AE::Int(v) => Some((mk(HE::Int(*v)), Info::scalar(Class::IntLit))),
            AE::Float(s) => Some((mk(HE::Real(s.clone())), Info::scalar(Class::RealLit))),
            AE::Bool(b) => Some((mk(HE::Bool(*b)), Info::scalar(Class::Bool))),
            AE::Str(_) => {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "strings only appear in `load(\"...\")`")
                        .at(span),
                );
                None
            }
            AE::Name(n) => self.name(n, span),
            AE::Attr(..) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        "a module or module member is not a value",
                    )
                    .at(span)
                    .help("call a kernel of the module: `module.kernel(...)`"),
                );
                None
            }
            AE::Unary(op, a) => {
                let (h, info) = self.expr(a)?;
                match op {
                    ast::UnaryOp::Plus => {
                        self.numeric(info.class, a.span, "unary `+`")?;
                        Some((h, info))
                    }
                    ast::UnaryOp::Neg => {
                        self.numeric(info.class, a.span, "negation")?;
                        Some((mk(HE::Unary(HUnaryOp::Neg, Box::new(h))), info))
                    }
                    ast::UnaryOp::BitNot => {
                        if !matches!(info.class, Class::Int | Class::IntLit | Class::Unknown) {
                            self.err(
                                Diagnostic::error(
                                    codes::TYPE_MISMATCH,
                                    format!("`~` needs an integer, not {}", info.class.name()),
                                )
                                .at(a.span),
                            );
                            return None;
                        }
                        Some((mk(HE::Unary(HUnaryOp::BitNot, Box::new(h))), info))
                    }
                    ast::UnaryOp::Not => {
                        if !matches!(info.class, Class::Bool | Class::Unknown) {
                            self.err(
                                Diagnostic::error(
                                    codes::NOT_BOOL,
                                    format!("`not` needs a bool, not {}", info.class.name()),
                                )
                                .at(a.span)
                                .help("compare explicitly, e.g. `x == 0`"),
                            );
                            return None;
                        }
                        Some((mk(HE::Unary(HUnaryOp::Not, Box::new(h))), info))
                    }
                }
            }
            AE::Binary(op, a, b) => {
                let (ha, ia) = self.expr(a)?;
                let (hb, ib) = self.expr(b)?;
                let class = self.binary_class(*op, ia.class, ib.class, span, a.span, b.span)?;
                let shape = self.broadcast(&ia, &ib, span)?;
                if matches!(op, BinOp::Shl | BinOp::Shr) && ib.shape.is_some() {
                    self.err(
                        Diagnostic::error(codes::KIND_MISMATCH, "a shift amount must be a scalar")
                            .at(b.span),
                    );
                    return None;
                }
                Some((
                    mk(HE::Binary(*op, Box::new(ha), Box::new(hb))),
                    Info { shape, class },
                ))
            }
            AE::Compare(first, rest) => self.compare_chain(first, rest, span),
            AE::BoolOp(op, a, b) => {
                let (ha, ia) = self.expr(a)?;
                let (hb, ib) = self.expr(b)?;
                for (i, s) in [(&ia, a.span), (&ib, b.span)] {
                    if !matches!(i.class, Class::Bool | Class::Unknown) {
                        let w = if *op == BoolOp::And { "and" } else { "or" };
                        self.err(
                            Diagnostic::error(
                                codes::NOT_BOOL,
                                format!("`{w}` needs bools, not {}", i.class.name()),
                            )
                            .at(s)
                            .help("compare explicitly, e.g. `x != 0`; for bits use `&` / `|`"),
                        );
                        return None;
                    }
                }
                let shape = self.broadcast(&ia, &ib, span)?;
                Some((
                    mk(HE::Logic(*op, Box::new(ha), Box::new(hb))),
                    Info {
                        shape,
                        class: Class::Bool,
                    },
                ))
            }
            AE::IfElse {
                cond,
                then,
                otherwise,
            } => {
                let (hc, ic) = self.expr(cond)?;
                if !matches!(ic.class, Class::Bool | Class::Unknown) {
                    self.err(
                        Diagnostic::error(
                            codes::NOT_BOOL,
                            "the condition of `if ... else` must be a bool",
                        )
                        .at(cond.span),
                    );
                    return None;
                }
                let (ht, it) = self.expr(then)?;
                let (ho, io) = self.expr(otherwise)?;
                let class = self.unify_branches(it.class, io.class, then.span, otherwise.span)?;
                let s1 = self.broadcast(&it, &io, span)?;
                let shape = self.broadcast(&ic, &Info { shape: s1, class }, span)?;
                Some((
                    mk(HE::Select {
                        cond: Box::new(hc),
                        then: Box::new(ht),
                        otherwise: Box::new(ho),
                    }),
                    Info { shape, class },
                ))
            }
            AE::Call { func, args } => self.call(func, args, span, results),
            AE::Index { base, subs } => self.index(base, subs, span),
            AE::TypeLit(_) => {
                self.err(
                    Diagnostic::error(codes::WRONG_NAME_KIND, "a type is not a value")
                        .at(span)
                        .help("to convert a value, call the type: `fixed<8, 4>(x)`"),
                );
                None
            }
            AE::Lambda { .. } => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_MAP,
                        "a lambda can only be the first argument of `map`",
                    )
                    .at(span),
                );
                None
            }
            AE::Generator(_) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_REDUCTION,
                        "a generator expression can only be the argument of `sum`, `max` or `min`",
                    )
                    .at(span),
                );
                None
            }
            AE::Comprehension(g) => self.comprehension(g, span),
            AE::Tuple(_) => {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "tuples only appear in `return a, b` and `a, b = kernel(...)`",
                    )
                    .at(span),
                );
                None
            }
        }
    }

    pub(super) fn numeric(&mut self, c: Class, span: Span, what: &str) -> Option<()> {
        if c == Class::Bool {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("{what} needs a number, not a bool"),
                )
                .at(span)
                .help("convert with `int<1>(b)` or `uint<1>(b)`"),
            );
            return None;
        }
        Some(())
    }

    pub(super) fn unify_branches(
        &mut self,
        a: Class,
        b: Class,
        sa: Span,
        sb: Span,
    ) -> Option<Class> {
        self.unify_values(a, b, sa, sb, "the branches")
    }

    /// The class of values that must agree (`what`: "the branches", "the arguments of `max`").
    pub(super) fn unify_values(
        &mut self,
        a: Class,
        b: Class,
        sa: Span,
        sb: Span,
        what: &str,
    ) -> Option<Class> {
        use Class::*;
        let r = match (a, b) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (x, y) if x == y => x,
            (Bool, _) | (_, Bool) => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("{what} are {} and {}", a.name(), b.name()),
                    )
                    .at(sa)
                    .with_secondary(sb, "this one"),
                );
                return None;
            }
            (F32, IntLit | RealLit) | (IntLit | RealLit, F32) => F32,
            (F32, _) | (_, F32) => {
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("{what} mix f32 with an exact type"),
                    )
                    .at(sa)
                    .with_secondary(sb, "this one")
                    .help("convert one side explicitly: `f32(x)` or `fixed<W, I>(y)`"),
                );
                return None;
            }
            (Int, IntLit) | (IntLit, Int) => Int,
            (IntLit, RealLit) | (RealLit, IntLit) => RealLit,
            _ => Fixed,
        };
        Some(r)
    }

    /// Class of `a op b`, or a diagnostic.
    pub(super) fn binary_class(
        &mut self,
        op: BinOp,
        a: Class,
        b: Class,
        span: Span,
        sa: Span,
        sb: Span,
    ) -> Option<Class> {
        use Class::*;
        let sym = op.symbol();
        if a == Bool || b == Bool {
            let s = if a == Bool { sa } else { sb };
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{sym}` needs numbers, not a bool"),
                )
                .at(s)
                .help(match op {
                    BinOp::BitAnd | BinOp::BitOr => "for logic on bools use `and` / `or`",
                    _ => "convert with `int<1>(b)` or `uint<1>(b)`",
                }),
            );
            return None;
        }
        if matches!(op, BinOp::Shl | BinOp::Shr) {
            if a == F32 {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("`{sym}` shifts exact values, not f32"),
                    )
                    .at(sa)
                    .help("multiply by a power of two instead"),
                );
                return None;
            }
            if !matches!(b, Int | IntLit | Unknown) {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("a shift amount must be an integer, not {}", b.name()),
                    )
                    .at(sb),
                );
                return None;
            }
            return Some(match a {
                IntLit => Int,
                RealLit => Fixed,
                c => c,
            });
        }
        if a == Unknown || b == Unknown {
            return Some(Unknown);
        }
        let is_float = a == F32 || b == F32;
        if is_float {
            let other = if a == F32 { b } else { a };
            if matches!(other, Int | Fixed) {
                self.err(
                    Diagnostic::error(codes::MIXED_FLOAT, format!("`{sym}` mixes f32 with {}", other.name()))
                        .at(span)
                        .with_secondary(if a == F32 { sb } else { sa }, "this is exact")
                        .help("convert explicitly: `f32(x)` to compute in f32, or `fixed<W, I>(y)` to compute exactly"),
                );
                return None;
            }
            return match op {
                BinOp::FloorDiv | BinOp::Mod => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_DIVISION,
                            format!("`{sym}` is for integers; f32 divides with `/`"),
                        )
                        .at(span),
                    );
                    None
                }
                BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{sym}` needs integers, not f32"),
                        )
                        .at(span),
                    );
                    None
                }
                _ => Some(F32),
            };
        }
        let both_int = a.is_integer() && b.is_integer();
        let both_lit = matches!(a, IntLit | RealLit) && matches!(b, IntLit | RealLit);
        let exact = if both_int {
            if both_lit {
                IntLit
            } else {
                Int
            }
        } else if both_lit {
            RealLit
        } else {
            Fixed
        };
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul => Some(exact),
            BinOp::Div => {
                if both_int {
                    self.err(
                        Diagnostic::error(codes::BAD_DIVISION, "`/` between integers")
                            .at(span)
                            .help("use `//` for floor division, or convert one side to a fixed-point type for a fractional quotient"),
                    );
                    return None;
                }
                Some(if both_lit { RealLit } else { Fixed })
            }
            BinOp::FloorDiv | BinOp::Mod => {
                if !both_int {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_DIVISION,
                            format!("`{sym}` is defined on integers only"),
                        )
                        .at(span)
                        .help("fixed-point values divide with `/` (ap_fixed semantics)"),
                    );
                    return None;
                }
                Some(exact)
            }
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor => {
                if !both_int {
                    self.err(
                        Diagnostic::error(codes::TYPE_MISMATCH, format!("`{sym}` needs integers"))
                            .at(span)
                            .help("bitwise operations are defined on int<N> / uint<N> values"),
                    );
                    return None;
                }
                Some(exact)
            }
            BinOp::Shl | BinOp::Shr => unreachable!("handled above"),
        }
    }

    pub(super) fn compare_chain(
        &mut self,
        first: &ast::Expr,
        rest: &[(CmpOp, ast::Expr)],
        span: Span,
    ) -> Checked {
        let (mut lhs, mut li) = self.expr(first)?;
        let mut acc: Option<(hir::Expr, Info)> = None;
        for (op, rhs) in rest {
            let (rh, ri) = self.expr(rhs)?;
            let ok = match (li.class, ri.class) {
                (Class::Unknown, _) | (_, Class::Unknown) => true,
                (Class::Bool, Class::Bool) => matches!(op, CmpOp::Eq | CmpOp::Ne),
                (Class::Bool, _) | (_, Class::Bool) => false,
                (Class::F32, Class::Int | Class::Fixed)
                | (Class::Int | Class::Fixed, Class::F32) => {
                    self.err(
                        Diagnostic::error(
                            codes::MIXED_FLOAT,
                            "comparison of f32 with an exact value",
                        )
                        .at(span)
                        .help("convert one side explicitly"),
                    );
                    return None;
                }
                _ => true,
            };
            if !ok {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "cannot compare {} with {} using `{}`",
                            li.class.name(),
                            ri.class.name(),
                            op.symbol()
                        ),
                    )
                    .at(span),
                );
                return None;
            }
            let shape = self.broadcast(&li, &ri, span)?;
            let cmp = hir::Expr {
                kind: HE::Compare(*op, Box::new(lhs.clone()), Box::new(rh.clone())),
                span: Span::new(span.file, lhs.span.start as usize, rh.span.end as usize),
            };
            let info = Info {
                shape,
                class: Class::Bool,
            };
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
