//! Names in expressions: what a bare name stands for (lambda parameter, loop variable,
//! local, parameter, size, module symbol) and the errors for names that are no values.

use super::{Checked, Checker, Class, Info, BUILTINS};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE, HUnaryOp, KParamKind};
use crate::resolve::{did_you_mean, Symbol};
use crate::span::Span;
use crate::sym::SizeExpr;

impl Checker<'_, '_> {
    /// Whether `n` is a parameter or a module-level name.
    pub(super) fn lookup_value_name(&self, n: &str) -> Option<()> {
        if self.k.params.iter().any(|p| p.name == n) || self.ctx.lookup(n).is_some() {
            Some(())
        } else {
            None
        }
    }

    /// What the name `n` at `span` stands for as a value: kernel-scope names first
    /// (lambda parameters, loop variables, locals, parameters, sizes), then the module's.
    pub(super) fn name(&mut self, n: &str, span: Span) -> Checked {
        if self.poisoned.contains(n) && !self.locals.contains_key(n) {
            return None;
        }
        let mk = |kind: HE| hir::Expr { kind, span };
        if let Some((_, idx, info, _)) = self.lambda_scope.iter().rev().find(|(name, ..)| name == n)
        {
            let class = info.class;
            return Some((mk(HE::LambdaParam(*idx)), Info::scalar(class)));
        }
        if let Some((_, v)) = self.loop_scope.iter().rev().find(|(name, _)| name == n) {
            return Some((mk(HE::LoopVar(*v)), Info::scalar(Class::Int)));
        }
        if let Some(alias) = self.alias(n) {
            let alias = crate::ast::Expr { span, ..alias };
            return self.expr(&alias);
        }
        if let Some(&id) = self.locals.get(n) {
            return self.local_value(id, n, span);
        }
        if self.list_names.contains_key(n) {
            return self.named_list(n, span);
        }
        if let Some(pi) = self.k.params.iter().position(|p| p.name == n) {
            return match &self.k.params[pi].kind {
                KParamKind::Const => Some((
                    mk(HE::Size(SizeExpr::ConstParam(pi))),
                    Info::scalar(Class::Int),
                )),
                KParamKind::Value(t) => {
                    let class = Class::of_elem(&t.elem);
                    Some((
                        mk(HE::Param(pi)),
                        Info {
                            shape: t.shape.clone(),
                            class,
                        },
                    ))
                }
            };
        }
        if let Some(i) = self.k.size_vars.iter().position(|v| v.name == n) {
            return Some((mk(HE::Size(SizeExpr::Var(i))), Info::scalar(Class::Int)));
        }
        if self.k.type_vars.iter().any(|v| v.name == n) {
            self.err(
                Diagnostic::error(
                    codes::WRONG_NAME_KIND,
                    format!("`{n}` is a type variable, not a value"),
                )
                .at(span)
                .help(format!("to convert a value to it, call it: `{n}(x)`")),
            );
            return None;
        }
        self.module_name(n, span)
    }

    /// What a name bound by `for v in a:` stands for: `a[i]`.
    pub(super) fn alias(&self, n: &str) -> Option<crate::ast::Expr> {
        self.element_aliases
            .iter()
            .rev()
            .find(|(a, ..)| a == n)
            .map(|(_, e, _)| e.clone())
    }

    /// `e` (a name or a chain of subscripts on one) with its root name, when bound by
    /// `for v in a:`, replaced by what it stands for: `v[j]` is `a[i][j]`.
    pub(super) fn expand_alias_root(&self, e: &crate::ast::Expr) -> Option<crate::ast::Expr> {
        use crate::ast::ExprKind as AE;
        match &e.kind {
            AE::Name(n) if !self.lambda_scope.iter().any(|(l, ..)| l == n) => self.alias(n),
            AE::Index { base, subs } => Some(crate::ast::Expr {
                kind: AE::Index {
                    base: Box::new(self.expand_alias_root(base)?),
                    subs: subs.clone(),
                },
                span: e.span,
            }),
            _ => None,
        }
    }

    /// Local `id` (named `n`) read at `span`: a scalar must have been assigned.
    fn local_value(&mut self, id: usize, n: &str, span: Span) -> Checked {
        let shape = self.local_shape[id].clone();
        if shape.is_none() && !self.assigned.contains(&id) {
            self.err(
                Diagnostic::error(codes::USE_BEFORE_ASSIGN, format!("`{n}` may be used before it is assigned"))
                    .at(span)
                    .with_secondary(self.k.locals[id].span, "declared here")
                    .note("a value assigned only inside a loop or in some branches of an `if` is not known to exist afterwards"),
            );
            return None;
        }
        // A local assigned only literals so far reads as a literal: it adapts to an f32
        // it meets (`s = 0.` then `s += a[i]`, or `m = max(m, a[i])`: assign.rs).
        let class = match self.local_class[id] {
            Class::Int if self.literal_only.contains(&id) => Class::IntLit,
            Class::Fixed if self.literal_only.contains(&id) => Class::RealLit,
            c => c,
        };
        let info = Info { shape, class };
        Some((
            hir::Expr {
                kind: HE::Local(id),
                span,
            },
            info,
        ))
    }

    /// A name of the module scope used as a value: a `param`, a `const`, or an error.
    fn module_name(&mut self, n: &str, span: Span) -> Checked {
        let mk = |kind: HE| hir::Expr { kind, span };
        let wrong_kind = |what: String| Diagnostic::error(codes::WRONG_NAME_KIND, what).at(span);
        match self.ctx.lookup(n).cloned() {
            Some(Symbol::Global(g)) => {
                let gl = &self.ctx.globals[g];
                let shape = (!gl.shape.is_empty()).then(|| {
                    gl.shape
                        .iter()
                        .map(|&d| Dim::Size(SizeExpr::Const(d as i64)))
                        .collect()
                });
                Some((
                    mk(HE::Global(g)),
                    Info {
                        shape,
                        class: Class::of(&gl.elem),
                    },
                ))
            }
            Some(Symbol::RealConst(text)) => {
                let (neg, body) = match text.strip_prefix('-') {
                    Some(b) => (true, b.to_string()),
                    None => (false, text.clone()),
                };
                let (lit, class) = match body.parse::<u128>() {
                    Ok(v) => (HE::Int(v), Class::IntLit),
                    Err(_) => (HE::Real(body), Class::RealLit),
                };
                Some((signed_literal(neg, lit, span), Info::scalar(class)))
            }
            Some(Symbol::Const(v)) => {
                let lit = HE::Int(v.unsigned_abs() as u128);
                Some((
                    signed_literal(v < 0, lit, span),
                    Info::scalar(Class::IntLit),
                ))
            }
            Some(Symbol::Kernel(_)) => {
                self.err(
                    wrong_kind(format!("kernel `{n}` is used as a value"))
                        .help(format!("call it: `{n}(...)`")),
                );
                None
            }
            Some(Symbol::Alias(..)) => {
                self.err(
                    wrong_kind(format!("`{n}` is a type, not a value"))
                        .help(format!("to convert a value, call the type: `{n}(x)`")),
                );
                None
            }
            Some(Symbol::Module(_)) => {
                self.err(wrong_kind(format!("`{n}` is a module, not a value")));
                None
            }
            None if BUILTINS.contains(&n) => {
                self.err(
                    wrong_kind(format!("`{n}` is a builtin function"))
                        .help(format!("call it: `{n}(...)`")),
                );
                None
            }
            None if self.ctx.item_failed(n) => None,
            None => {
                self.unknown_name(n, span);
                None
            }
        }
    }

    /// Reports an unknown name: assigned only later, or perhaps a misspelling.
    fn unknown_name(&mut self, n: &str, span: Span) {
        let mut d = Diagnostic::error(codes::UNKNOWN_NAME, format!("unknown name `{n}`")).at(span);
        if let Some(def) = self.assigned_anywhere.get(n) {
            if def.start > span.start {
                d = d
                    .with_secondary(*def, "assigned only later, here")
                    .help("assign it before this use");
                self.err(d);
                return;
            }
        }
        let mut cands: Vec<String> = self.locals.keys().cloned().collect();
        cands.extend(self.k.params.iter().map(|p| p.name.clone()));
        cands.extend(self.loop_scope.iter().map(|(n, _)| n.clone()));
        cands.extend(self.k.size_vars.iter().map(|v| v.name.clone()));
        cands.extend(self.ctx.visible_names());
        d = did_you_mean(d, n, cands.iter());
        self.err(d);
    }
}

/// A literal at `span`, negated when `neg`.
fn signed_literal(neg: bool, lit: HE, span: Span) -> hir::Expr {
    let lit = hir::Expr { kind: lit, span };
    if neg {
        hir::Expr {
            kind: HE::Unary(HUnaryOp::Neg, Box::new(lit)),
            span,
        }
    } else {
        lit
    }
}
