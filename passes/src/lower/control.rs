//! Control flow inside a compute node. An `if` becomes an IR `if`; a `for` a loop; a
//! `while` a loop of at most `max` iterations with a `done` flag. `break` and `continue`
//! set flags of their loop (`JumpFrame`): the rest of an iteration is guarded by them,
//! and nothing runs in later iterations once the `break` flag is set.

use super::*;
use kiln_lang::hir::StmtKind as HS;
use kiln_lang::sym::SizeExpr;

/// The flags of the loop being lowered that `break` and `continue` set.
#[derive(Clone, Debug)]
pub(super) struct JumpFrame {
    pub(super) brk: Option<LocalId>,
    pub(super) cont: Option<LocalId>,
}

/// Whether statements `break` / `continue` the loop they are in (looking inside `if`s,
/// not inside nested loops).
pub(super) fn jumps_in(stmts: &[hir::Stmt]) -> (bool, bool) {
    let (mut b, mut c) = (false, false);
    for s in stmts {
        match &s.kind {
            HS::Break => b = true,
            HS::Continue => c = true,
            HS::If {
                then_block,
                else_block,
                ..
            } => {
                for blk in [then_block, else_block] {
                    let (x, y) = jumps_in(blk);
                    b |= x;
                    c |= y;
                }
            }
            _ => {}
        }
    }
    (b, c)
}

impl<'h> Lowerer<'_, '_, 'h> {
    /// The flags of a loop whose body is `body`: a `break` flag when the body breaks (or
    /// `done` for a `while`), a `continue` flag when it continues; the `break` flag is
    /// cleared before the loop. Pushed on `jumps` (the caller pops it).
    pub(super) fn jump_frame(
        &mut self,
        name: &str,
        body: &[hir::Stmt],
        done: Option<LocalId>,
        span: Span,
    ) -> JumpFrame {
        let (breaks, continues) = jumps_in(body);
        let flag = |lw: &mut Self, what: &str| {
            lw.new_local(
                &format!("{name}_{what}"),
                Some(ScalarType::Bool),
                Class::Bool,
                span,
            )
        };
        let brk = done.or_else(|| breaks.then(|| flag(self, "break")));
        let cont = continues.then(|| flag(self, "continue"));
        if let Some(b) = brk {
            let (f, _) = self.constant(Value::Bool(false), span);
            self.emit(Stmt::Assign {
                local: b,
                value: f,
                span,
            });
        }
        let frame = JumpFrame { brk, cont };
        self.jumps.push(frame.clone());
        frame
    }

    /// One iteration of a loop: nothing once the `break` flag is set; the `continue`
    /// flag cleared; for a `while`, the body when `cond` holds, else `done` set.
    pub(super) fn loop_body(
        &mut self,
        frame: &JumpFrame,
        body: &'h [hir::Stmt],
        scope: &Scope<'h>,
        cond: Option<&'h hir::Expr>,
    ) -> L<()> {
        let span = body.first().map_or(Span::default(), |st| st.span);
        if frame.brk.is_some() {
            self.push_block();
        }
        if let Some(c) = frame.cont {
            let (f, _) = self.constant(Value::Bool(false), span);
            self.emit(Stmt::Assign {
                local: c,
                value: f,
                span,
            });
        }
        match cond {
            Some(cond) => {
                let c = self.condition(cond, scope)?;
                self.push_block();
                self.seq(body, scope)?;
                let then_block = self.pop_block();
                let done = frame.brk.expect("a while loop has a done flag");
                let (t, _) = self.constant(Value::Bool(true), cond.span);
                self.emit(Stmt::If {
                    cond: c,
                    then_block,
                    else_block: vec![Stmt::Assign {
                        local: done,
                        value: t,
                        span: cond.span,
                    }],
                });
            }
            None => self.seq(body, scope)?,
        }
        if let Some(b) = frame.brk {
            let guarded = self.pop_block();
            let not_done = self.not_flags(&[b], span);
            self.emit(Stmt::If {
                cond: not_done,
                then_block: guarded,
                else_block: Vec::new(),
            });
        }
        Some(())
    }

    /// Statements in order; after one that may `break` or `continue` the innermost loop,
    /// the rest run only if neither happened.
    pub(super) fn seq(&mut self, stmts: &'h [hir::Stmt], scope: &Scope<'h>) -> L<()> {
        for (i, st) in stmts.iter().enumerate() {
            self.stmt_in(st, scope)?;
            let rest = &stmts[i + 1..];
            let (b, c) = jumps_in(std::slice::from_ref(st));
            if rest.is_empty() || !(b || c) {
                continue;
            }
            let frame = self.jumps.last().cloned()?;
            let flags: Vec<LocalId> = [frame.brk.filter(|_| b), frame.cont.filter(|_| c)]
                .into_iter()
                .flatten()
                .collect();
            self.push_block();
            self.seq(rest, scope)?;
            let then_block = self.pop_block();
            let go_on = self.not_flags(&flags, st.span);
            self.emit(Stmt::If {
                cond: go_on,
                then_block,
                else_block: Vec::new(),
            });
            return Some(());
        }
        Some(())
    }

    /// The value of an `if` or `while` condition, which must be a bool.
    pub(super) fn condition(&mut self, cond: &'h hir::Expr, scope: &Scope<'h>) -> L<ExprId> {
        let (c, cc) = self.scalar(cond, scope, Some(Class::Bool))?;
        if cc != Class::Bool {
            self.err(
                Diagnostic::error(codes::NOT_BOOL, "a condition must be a bool").at(cond.span),
            );
            return None;
        }
        Some(c)
    }

    /// `not f1 and not f2 ...` of bool locals.
    pub(super) fn not_flags(&mut self, flags: &[LocalId], span: Span) -> ExprId {
        let mut cond: Option<ExprId> = None;
        for &f in flags {
            let r = self.inst.add_expr(Expr::Local(f), span);
            let n = self.inst.add_expr(Expr::Unary(UnOp::Not, r), span);
            cond = Some(match cond {
                None => n,
                Some(c) => self.inst.add_expr(Expr::Binary(BinOp::And, c, n), span),
            });
        }
        cond.unwrap_or_else(|| self.constant(Value::Bool(true), span).0)
    }

    /// `for v in range(lo, hi, step): body`.
    pub(super) fn for_loop(
        &mut self,
        header: &'h hir::LoopHeader,
        body: &'h [hir::Stmt],
        scope: &Scope<'h>,
    ) -> L<()> {
        let shape = self.loop_shape(header, scope)?;
        let var = self
            .inst
            .add_loop_var(self.k.loop_vars[header.var].name.clone(), header.span);
        self.record_loop_range(var, &shape);
        let mut inner = scope.clone();
        inner.loops.insert(header.var, Affine::var(var));
        let name = self.k.loop_vars[header.var].name.clone();
        let frame = self.jump_frame(&name, body, None, header.span);
        self.push_block();
        self.loop_body(&frame, body, &inner, None)?;
        let mut b = self.pop_block();
        self.jumps.pop();
        if shape.guarded() {
            // Iterations of the widest range outside the real bounds do nothing.
            let cond = self.loop_guard(&shape, var, scope, header.span)?;
            b = vec![Stmt::If {
                cond,
                then_block: b,
                else_block: Vec::new(),
            }];
        }
        self.emit(Stmt::For(Loop {
            var,
            lo: shape.lo,
            hi: shape.hi,
            step: shape.step,
            body: b,
            directives: Default::default(),
            span: header.span,
        }));
        Some(())
    }

    /// `while cond, max=n: body`: a loop of `n` iterations that stops when `cond` fails
    /// (or at a `break`), then a run-time failure if the condition still holds.
    pub(super) fn while_loop(
        &mut self,
        cond: &'h hir::Expr,
        max: &SizeExpr,
        max_span: Span,
        body: &'h [hir::Stmt],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<()> {
        let n = self.eval_size(max, max_span)?;
        if n < 0 {
            self.err(
                Diagnostic::error(
                    codes::BAD_LOOP,
                    format!("a `while` loop's maximum must not be negative, not {n}"),
                )
                .at(max_span),
            );
            return None;
        }
        let var = self.inst.add_loop_var("while".into(), span);
        // The loop stops when `done`: its condition failed, or a `break`.
        let done = self.new_local("while_done", Some(ScalarType::Bool), Class::Bool, span);
        let frame = self.jump_frame("while", body, Some(done), span);
        self.push_block();
        self.loop_body(&frame, body, scope, Some(cond))?;
        let b = self.pop_block();
        self.jumps.pop();
        self.emit(Stmt::For(Loop {
            var,
            lo: Affine::constant(0),
            hi: Affine::constant(n),
            step: 1,
            body: b,
            directives: Default::default(),
            span,
        }));
        // After `max` iterations, a condition that still holds needs one more
        // (evaluated only when the loop did not stop by itself).
        self.push_block();
        let c = self.condition(cond, scope)?;
        self.emit(Stmt::If {
            cond: c,
            then_block: vec![Stmt::Fail {
                message: format!("this `while` loop ran its {n} iterations (its `max`) and its condition still holds"),
                span,
            }],
            else_block: Vec::new(),
        });
        let check = self.pop_block();
        let not_done = self.not_flags(&[done], span);
        self.emit(Stmt::If {
            cond: not_done,
            then_block: check,
            else_block: Vec::new(),
        });
        Some(())
    }

    /// `break` (`brk`) or `continue`: sets the innermost loop's flag.
    pub(super) fn jump(&mut self, brk: bool, span: Span) -> L<()> {
        let frame = self.jumps.last().cloned()?;
        let flag = if brk { frame.brk } else { frame.cont };
        let flag = flag?;
        let (t, _) = self.constant(Value::Bool(true), span);
        self.emit(Stmt::Assign {
            local: flag,
            value: t,
            span,
        });
        Some(())
    }

    /// `if cond: then_block else: else_block`.
    pub(super) fn if_stmt(
        &mut self,
        cond: &'h hir::Expr,
        then_block: &'h [hir::Stmt],
        else_block: &'h [hir::Stmt],
        scope: &Scope<'h>,
    ) -> L<()> {
        let c = self.condition(cond, scope)?;
        self.push_block();
        self.seq(then_block, scope)?;
        let t = self.pop_block();
        self.push_block();
        self.seq(else_block, scope)?;
        let e = self.pop_block();
        self.emit(Stmt::If {
            cond: c,
            then_block: t,
            else_block: e,
        });
        Some(())
    }
}
