//! Reductions: `sum`/`max`/`min` over generator loops or a whole tensor, `dot`, and
//! `argmax`/`argmin` (the position of the first extreme). Each becomes an accumulator local
//! and a loop nest that updates it, ahead of the expression that uses the result; the
//! accumulator's class is the body's.

use super::affine::trip_count_const;
use super::class::arg_hint;
use super::*;
use kiln_lang::hir::ReduceOp;
use kiln_numeric::Fx;

impl<'h> Lowerer<'_, '_, 'h> {
    /// `op(arg)` of a whole tensor.
    pub(super) fn reduce_all(
        &mut self,
        op: ReduceOp,
        arg: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let shape = self.shape_of(arg, scope)?;
        if op.is_arg() && shape.contains(&0) {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` of an empty tensor", op.name()),
                )
                .at(span),
            );
            return None;
        }
        let zeros = zeros(shape.len());
        let hint = arg_hint(op, hint);
        let class = self.expr_class(arg, scope, hint);
        let class = self.settle_class(class, &[arg], scope, &mut |lw| {
            lw.elem(arg, &zeros, scope, hint)
        })?;
        self.reduce_over(op, &shape, span, class, &mut |lw, i, h| {
            lw.elem(arg, i, scope, h)
        })
    }

    /// `dot(a, b)`: the sum of the elementwise products of two tensors of one shape.
    pub(super) fn dot(
        &mut self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let shape = self.shape_of(a, scope)?;
        let sb = self.shape_of(b, scope)?;
        if shape != sb {
            self.err(
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    format!("`dot` of shapes {shape:?} and {sb:?}"),
                )
                .at(span),
            );
            return None;
        }
        let zeros = zeros(shape.len());
        let class = self.operands_class(a, b, scope, hint);
        let class = self.settle_class(class, &[a, b], scope, &mut |lw| {
            let (x, _, c) = lw.operands(a, b, &zeros, scope, hint)?;
            Some((x, c))
        })?;
        self.reduce_over(ReduceOp::Sum, &shape, span, class, &mut |lw, i, h| {
            let (x, y, c) = lw.operands(a, b, i, scope, h)?;
            Some((lw.inst.add_expr(Expr::Binary(BinOp::Mul, x, y), span), c))
        })
    }

    /// `op(body for loops)`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn reduce(
        &mut self,
        op: ReduceOp,
        loops: &'h [hir::LoopHeader],
        body: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        if op.is_arg() {
            return self.arg_reduce(op, loops, body, scope, span);
        }
        // acc = <identity or first element>; for ...: acc = acc (op) body
        let acc_class = self.body_class(body, loops, scope, hint)?;
        let acc = self.new_local(op.name(), None, acc_class, span);
        match op {
            ReduceOp::Sum => self.start_sum(acc, acc_class, span),
            ReduceOp::ArgMax | ReduceOp::ArgMin => unreachable!("arg_reduce handles them"),
            ReduceOp::Max | ReduceOp::Min => {
                // Start from the first element (all bounds at their first values).
                let mut first = scope.clone();
                for h in loops {
                    let lo = self.affine_size(&h.lo, &first, h.span)?;
                    let hi = self.affine_size(&h.hi, &first, h.span)?;
                    self.nonempty(op, &lo, &hi, h)?;
                    first.loops.insert(h.var, lo);
                }
                let (v, _) = self.scalar(body, &first, Some(acc_class))?;
                self.emit(Stmt::Assign {
                    local: acc,
                    value: v,
                    span,
                });
            }
        }
        let mut inner = scope.clone();
        let mut vars = Vec::new();
        for h in loops {
            // A sum's bounds may be any integer expression (guarded, as `for` loops);
            // `max` and `min` start from the first element, so theirs are affine.
            let shape = if op == ReduceOp::Sum {
                self.loop_shape(h, &inner)?
            } else {
                let lo = self.affine_size(&h.lo, &inner, h.span)?;
                let hi = self.affine_size(&h.hi, &inner, h.span)?;
                super::loop_bounds::LoopShape::affine(lo, hi, h.step)
            };
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            self.record_loop_range(v, &shape);
            let guard = if shape.guarded() {
                Some(self.loop_guard(&shape, v, &inner, h.span)?)
            } else {
                None
            };
            inner.loops.insert(h.var, Affine::var(v));
            vars.push((v, shape, guard, h.span));
            self.push_block();
        }
        let (b, _) = self.scalar(body, &inner, Some(acc_class))?;
        self.accumulate(acc, op, b, span);
        for (v, shape, guard, lspan) in vars.into_iter().rev() {
            let mut body = self.pop_block();
            if let Some(cond) = guard {
                body = vec![Stmt::If {
                    cond,
                    then_block: body,
                    else_block: Vec::new(),
                }];
            }
            self.emit(Stmt::For(Loop {
                var: v,
                lo: shape.lo,
                hi: shape.hi,
                step: shape.step,
                body,
                directives: Default::default(),
                span: lspan,
            }));
        }
        Some((self.inst.add_expr(Expr::Local(acc), span), acc_class))
    }

    /// The class of a reduction body, over fresh variables of its loops (made here, as
    /// earlier versions did: see class.rs).
    pub(super) fn body_class(
        &mut self,
        body: &'h hir::Expr,
        loops: &'h [hir::LoopHeader],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<Class> {
        let mut probe = scope.clone();
        for h in loops {
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            probe.loops.insert(h.var, Affine::var(v));
        }
        let class = self.expr_class(body, &probe, hint);
        self.settle_class(class, &[body], &probe, &mut |lw| {
            lw.scalar(body, &probe, hint)
        })
    }

    /// A reduction over all elements of a shape, in row-major order, of elements of class
    /// `class`.
    #[allow(clippy::type_complexity)]
    pub(super) fn reduce_over(
        &mut self,
        op: ReduceOp,
        shape: &[usize],
        span: Span,
        class: Class,
        elem: &mut dyn FnMut(&mut Self, &[Affine], Option<Class>) -> L<(ExprId, Class)>,
    ) -> L<(ExprId, Class)> {
        if op.is_arg() {
            return self.arg_reduce_over(op, shape, span, class, elem);
        }
        let zeros = zeros(shape.len());
        let acc = self.new_local(op.name(), None, class, span);
        match op {
            ReduceOp::Sum => self.start_sum(acc, class, span),
            _ => {
                let (v, _) = elem(self, &zeros, Some(class))?;
                self.emit(Stmt::Assign {
                    local: acc,
                    value: v,
                    span,
                });
            }
        }
        self.loop_nest(shape, span, &mut |lw, idx| {
            let (v, _) = elem(lw, idx, Some(class))?;
            lw.accumulate(acc, op, v, span);
            Some(())
        })?;
        Some((self.inst.add_expr(Expr::Local(acc), span), class))
    }

    /// `acc = 0` (in `class`) before a sum.
    fn start_sum(&mut self, acc: LocalId, class: Class, span: Span) {
        let zero = match class {
            Class::F32 => Value::F32(0.0),
            Class::F64 => Value::F64(0.0),
            _ => Value::Num(Fx::zero()),
        };
        let z = self.inst.add_expr(Expr::Const(zero), span);
        self.emit(Stmt::Assign {
            local: acc,
            value: z,
            span,
        });
    }

    /// `acc = acc + v` for a sum (`max`, `min` for those).
    fn accumulate(&mut self, acc: LocalId, op: ReduceOp, v: ExprId, span: Span) {
        let cur = self.inst.add_expr(Expr::Local(acc), span);
        let bop = match op {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max => BinOp::Max,
            ReduceOp::Min => BinOp::Min,
            ReduceOp::ArgMax | ReduceOp::ArgMin => unreachable!("arg reductions update apart"),
        };
        let upd = self.inst.add_expr(Expr::Binary(bop, cur, v), span);
        self.emit(Stmt::Assign {
            local: acc,
            value: upd,
            span,
        });
    }

    /// E0511 when a reduction that starts from its first element (max, min, argmax,
    /// argmin) runs over a range known to be empty.
    pub(super) fn nonempty(
        &mut self,
        op: ReduceOp,
        lo: &Affine,
        hi: &Affine,
        h: &hir::LoopHeader,
    ) -> L<()> {
        if trip_count_const(lo, hi, h.step).is_some_and(|n| n <= 0) {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` over an empty range", op.name()),
                )
                .at(h.span),
            );
            return None;
        }
        Some(())
    }

    /// Inside the loops of `argmax`/`argmin`: `cur = v; if cur > best (< for argmin):
    /// best = cur; at = position` (strictly, so the first extreme wins).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn arg_update(
        &mut self,
        op: ReduceOp,
        best: LocalId,
        cur: LocalId,
        at: LocalId,
        v: ExprId,
        pos: &Affine,
        span: Span,
    ) {
        self.emit(Stmt::Assign {
            local: cur,
            value: v,
            span,
        });
        let c = self.inst.add_expr(Expr::Local(cur), span);
        let b = self.inst.add_expr(Expr::Local(best), span);
        let cmp = if op == ReduceOp::ArgMax {
            BinOp::Gt
        } else {
            BinOp::Lt
        };
        let cond = self.inst.add_expr(Expr::Binary(cmp, c, b), span);
        self.push_block();
        let c2 = self.inst.add_expr(Expr::Local(cur), span);
        self.emit(Stmt::Assign {
            local: best,
            value: c2,
            span,
        });
        let p = self.affine_value(pos, span);
        self.emit(Stmt::Assign {
            local: at,
            value: p,
            span,
        });
        let then_block = self.pop_block();
        self.emit(Stmt::If {
            cond,
            then_block,
            else_block: Vec::new(),
        });
    }

    /// `argmax(e for i in range(...))`: the value of `i` where `e` is first largest.
    pub(super) fn arg_reduce(
        &mut self,
        op: ReduceOp,
        loops: &'h [hir::LoopHeader],
        body: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let [h] = loops else {
            unreachable!("the checker allows one loop variable")
        };
        let class = self.body_class(body, loops, scope, None)?;
        let lo = self.affine_size(&h.lo, scope, h.span)?;
        let hi = self.affine_size(&h.hi, scope, h.span)?;
        self.nonempty(op, &lo, &hi, h)?;
        let best = self.new_local(&format!("{}_best", op.name()), None, class, span);
        let cur = self.new_local(&format!("{}_cur", op.name()), None, class, span);
        let at = self.new_local(op.name(), None, Class::Exact, span);
        let mut first = scope.clone();
        first.loops.insert(h.var, lo.clone());
        let (v0, _) = self.scalar(body, &first, Some(class))?;
        self.emit(Stmt::Assign {
            local: best,
            value: v0,
            span,
        });
        let p0 = self.affine_value(&lo, span);
        self.emit(Stmt::Assign {
            local: at,
            value: p0,
            span,
        });
        let mut inner = scope.clone();
        let var = self
            .inst
            .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
        self.record_loop_range(
            var,
            &super::loop_bounds::LoopShape::affine(lo.clone(), hi.clone(), h.step),
        );
        inner.loops.insert(h.var, Affine::var(var));
        self.push_block();
        let (v, _) = self.scalar(body, &inner, Some(class))?;
        self.arg_update(op, best, cur, at, v, &Affine::var(var), span);
        let body = self.pop_block();
        self.emit(Stmt::For(Loop {
            var,
            lo,
            hi,
            step: h.step,
            body,
            directives: Default::default(),
            span: h.span,
        }));
        Some((self.inst.add_expr(Expr::Local(at), span), Class::Exact))
    }

    /// `argmax(x)` of a tensor: the row-major flat index of its first largest element.
    #[allow(clippy::type_complexity)]
    pub(super) fn arg_reduce_over(
        &mut self,
        op: ReduceOp,
        shape: &[usize],
        span: Span,
        class: Class,
        elem: &mut dyn FnMut(&mut Self, &[Affine], Option<Class>) -> L<(ExprId, Class)>,
    ) -> L<(ExprId, Class)> {
        let zeros = zeros(shape.len());
        let best = self.new_local(&format!("{}_best", op.name()), None, class, span);
        let cur = self.new_local(&format!("{}_cur", op.name()), None, class, span);
        let at = self.new_local(op.name(), None, Class::Exact, span);
        let (v0, _) = elem(self, &zeros, Some(class))?;
        self.emit(Stmt::Assign {
            local: best,
            value: v0,
            span,
        });
        let z = self.affine_value(&Affine::constant(0), span);
        self.emit(Stmt::Assign {
            local: at,
            value: z,
            span,
        });
        // Row-major strides.
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        self.loop_nest(shape, span, &mut |lw, idx| {
            let (v, _) = elem(lw, idx, Some(class))?;
            let mut flat = Affine::constant(0);
            for (i, st) in idx.iter().zip(&strides) {
                flat = flat.add_scaled(i, *st);
            }
            lw.arg_update(op, best, cur, at, v, &flat, span);
            Some(())
        })?;
        Some((self.inst.add_expr(Expr::Local(at), span), Class::Exact))
    }
}

/// The index of a tensor's first element.
fn zeros(rank: usize) -> Vec<Affine> {
    vec![Affine::constant(0); rank]
}
