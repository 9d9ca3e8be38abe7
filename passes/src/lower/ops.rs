//! Operators and math functions on lowered elements: unary and binary arithmetic,
//! comparisons, `and`/`or` (lazy), `if ... else`, conversions, `min`/`max`, math functions
//! (f32, or through a lookup table for exact values). Literal operands take the class of
//! the other side. The class rules are pure functions, shared with class.rs.

use super::literals::{fold_literal, is_literal, literal_source};
use super::*;
use kiln_lang::ast::{BinOp as AB, BoolOp, CmpOp};
use kiln_lang::hir::{ElemRef, HUnaryOp};
use kiln_lang::op_rules;
use kiln_numeric::{Fx, LutSpec};

impl<'h> Lowerer<'_, '_, 'h> {
    /// `-a`, `~a`, `not a`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn unary(
        &mut self,
        op: HUnaryOp,
        a: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (x, c) = self.elem(a, idx, scope, hint)?;
        let op = unary_op(op);
        if op == UnOp::Neg && is_literal(a) {
            // Fold `-literal` so that `-0.5` is one constant.
            if let Expr::Const(v) = self.inst.expr(x).clone() {
                let folded = match v {
                    Value::Num(n) => Value::Num(n.neg()),
                    Value::F32(f) => Value::F32(-f),
                    Value::F64(f) => Value::F64(-f),
                    b => b,
                };
                return Some(self.constant(folded, span));
            }
        }
        self.check_unary(op, c, a.span)?;
        Some((self.inst.add_expr(Expr::Unary(op, x), span), c))
    }

    /// `abs(a)`.
    pub(super) fn abs(
        &mut self,
        a: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (x, c) = self.elem(a, idx, scope, hint)?;
        self.check_unary(UnOp::Abs, c, a.span)?;
        Some((self.inst.add_expr(Expr::Unary(UnOp::Abs, x), span), c))
    }

    /// Math function `f` of `a`: of an f32, or through a lookup table of an exact value.
    pub(super) fn math(
        &mut self,
        f: kiln_numeric::MathFn,
        a: &'h hir::Expr,
        spec: Option<LutSpec>,
        idx: &[Affine],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (x, c) = self.elem(a, idx, scope, Some(math_arg_hint(spec)))?;
        match math_rule(f, spec, c) {
            MathRule::Table => self.table_lookup(f, &spec.unwrap_or(LutSpec::DEFAULT), x, span),
            MathRule::Float => Some((self.inst.add_expr(Expr::Math { f, arg: x }, span), c)),
            MathRule::TableOfF32 => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!(
                            "table parameters apply to `{}` of exact values, not of {}",
                            f.name(),
                            if c == Class::F64 { "an f64" } else { "an f32" }
                        ),
                    )
                    .at(a.span),
                );
                None
            }
            MathRule::NotF32 => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("`{}` takes f32 or f64 values", f.name()),
                    )
                    .at(a.span)
                    .help(format!("convert first: `{}(f32(x))`", f.name())),
                );
                None
            }
        }
    }

    /// `f(x)` of an exact `x` through its lookup table (`kiln_numeric::lut`): the entry
    /// `floor((clamp(x, lo, hi - step) - lo) / step)`, a gather from the table's constant
    /// tensor. Every engine runs it as ordinary IR.
    pub(super) fn table_lookup(
        &mut self,
        f: kiln_numeric::MathFn,
        spec: &LutSpec,
        x: ExprId,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let table = self.table_tensor(f, spec, span)?;
        let step_log2 = spec.step_log2().ok()?;
        let exact = |v: f64| kiln_numeric::float::f64_to_fx(v).expect("finite table bound");
        let lo = exact(spec.lo);
        let last = exact(spec.hi - 2f64.powi(step_log2));
        let (lo_e, _) = self.constant(Value::Num(lo.clone()), span);
        let (last_e, _) = self.constant(Value::Num(last), span);
        let above = self.inst.add_expr(Expr::Binary(BinOp::Max, x, lo_e), span);
        let clamped = self
            .inst
            .add_expr(Expr::Binary(BinOp::Min, above, last_e), span);
        let (lo_e, _) = self.constant(Value::Num(lo), span);
        let offset = self
            .inst
            .add_expr(Expr::Binary(BinOp::Sub, clamped, lo_e), span);
        let (shift, _) = self.constant(Value::Num(Fx::int(step_log2.unsigned_abs() as i128)), span);
        let op = if step_log2 <= 0 {
            BinOp::Shl
        } else {
            BinOp::Shr
        };
        let scaled = self.inst.add_expr(Expr::Binary(op, offset, shift), span);
        // Non-negative: truncation is the floor.
        let index_type = ScalarType::Int(kiln_numeric::IntType::new(
            spec.size.trailing_zeros().max(1),
            false,
        ));
        let index = self.inst.add_expr(
            Expr::Cast {
                to: index_type,
                arg: scaled,
            },
            span,
        );
        let mut access = Access::affine(table, vec![Affine::constant(0)]);
        access.dynamic = vec![Some(index)];
        Some((self.load_access(access, span), Class::Exact))
    }

    /// `a op b` of numbers.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn binary(
        &mut self,
        op: AB,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        if op == AB::Pow {
            return self.power(a, b, idx, scope, hint, span);
        }
        let (x, y, c) = self.operands(a, b, idx, scope, hint)?;
        let op = binary_op(op);
        self.check_binary(op, c, span)?;
        Some((self.inst.add_expr(Expr::Binary(op, x, y), span), c))
    }

    /// `a op b` of a comparison.
    pub(super) fn compare(
        &mut self,
        op: CmpOp,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (x, y, c) = self.operands(a, b, idx, scope, None)?;
        let op = compare_op(op);
        self.check_binary(op, c, span)?;
        Some((
            self.inst.add_expr(Expr::Binary(op, x, y), span),
            Class::Bool,
        ))
    }

    /// `a and b`, `a or b`: the right operand is lazy, its statements go into a branch.
    pub(super) fn logic(
        &mut self,
        op: BoolOp,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (x, ca) = self.elem_b(a, idx, scope, Some(Class::Bool))?;
        // The right operand is lazy: its pre-statements go into a branch.
        self.push_block();
        let (y, cb) = self.elem_b(b, idx, scope, Some(Class::Bool))?;
        let pre = self.pop_block();
        let op = if op == BoolOp::And {
            BinOp::And
        } else {
            BinOp::Or
        };
        // Lowering cannot tell an integer from a fixed-point operand (both `Exact`), so
        // the rule table's permissive `Unknown` would let them through: the rule is
        // applied here with its code (E0306, as `op_rules::logic` gives it).
        if ca != Class::Bool || cb != Class::Bool {
            self.err(Diagnostic::error(codes::NOT_BOOL, "`and` / `or` need bools").at(span));
            return None;
        }
        if pre.is_empty() {
            return Some((
                self.inst.add_expr(Expr::Binary(op, x, y), span),
                Class::Bool,
            ));
        }
        let tmp = self.new_local("cond", Some(ScalarType::Bool), Class::Bool, span);
        let mut inner = pre;
        inner.push(Stmt::Assign {
            local: tmp,
            value: y,
            span,
        });
        // An expression nothing uses (kept: expression ids stay as they were).
        self.inst.add_expr(Expr::Local(tmp), span);
        let (then_block, else_block, short) = if op == BinOp::And {
            (inner, Vec::new(), false)
        } else {
            (Vec::new(), inner, true)
        };
        let shortv = self.inst.add_expr(Expr::Const(Value::Bool(short)), span);
        self.emit(Stmt::Assign {
            local: tmp,
            value: shortv,
            span,
        });
        self.emit(Stmt::If {
            cond: x,
            then_block,
            else_block,
        });
        Some((self.inst.add_expr(Expr::Local(tmp), span), Class::Bool))
    }

    /// `then if cond else otherwise`: a select, or a branch when either side needs
    /// statements. The non-literal side is lowered first so that a literal side takes its
    /// class.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn select(
        &mut self,
        cond: &'h hir::Expr,
        then: &'h hir::Expr,
        otherwise: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let (c, cc) = self.elem_b(cond, idx, scope, Some(Class::Bool))?;
        if cc != Class::Bool {
            self.err(
                Diagnostic::error(
                    codes::NOT_BOOL,
                    "the condition of `if ... else` must be a bool",
                )
                .at(cond.span),
            );
            return None;
        }
        let swap = literal_first(then, otherwise);
        let (first, second) = if swap {
            (otherwise, then)
        } else {
            (then, otherwise)
        };
        self.push_block();
        let (f, fc) = self.elem_b(first, idx, scope, hint)?;
        let pre_f = self.pop_block();
        self.push_block();
        let (s, sc) = self.elem_b(second, idx, scope, Some(fc))?;
        let pre_s = self.pop_block();
        let class = self.unify(fc, sc, span)?;
        let f = self.promote(f, fc, class, first.span);
        let s = self.promote(s, sc, class, second.span);
        let (tv, ov, pre_t, pre_o) = if swap {
            (s, f, pre_s, pre_f)
        } else {
            (f, s, pre_f, pre_s)
        };
        if pre_t.is_empty() && pre_o.is_empty() {
            let select = Expr::Select {
                cond: c,
                then: tv,
                otherwise: ov,
            };
            return Some((self.inst.add_expr(select, span), class));
        }
        let tmp = self.new_local("sel", None, class, span);
        let mut tb = pre_t;
        tb.push(Stmt::Assign {
            local: tmp,
            value: tv,
            span,
        });
        let mut ob = pre_o;
        ob.push(Stmt::Assign {
            local: tmp,
            value: ov,
            span,
        });
        self.emit(Stmt::If {
            cond: c,
            then_block: tb,
            else_block: ob,
        });
        Some((self.inst.add_expr(Expr::Local(tmp), span), class))
    }

    /// `T(arg)`: a conversion; of a literal, at compile time.
    pub(super) fn cast(
        &mut self,
        to: &ElemRef,
        arg: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let to = self.elem_type(to, span)?;
        // A constant converts at compile time, from its binary64 value (as C++
        // converts a double constant): `fixed<12, 0, rnd>(1.0 / 9)`.
        if let Some(lit) = fold_literal(arg) {
            let (x, _) = self.constant(literal_source(arg, lit, &to)?, arg.span);
            if let Expr::Const(Value::F32(_)) = self.inst.expr(x) {
                if to == ScalarType::F32 {
                    return Some((x, Class::F32));
                }
            }
            return Some((
                self.inst.add_expr(Expr::Cast { to, arg: x }, span),
                class_of(&to),
            ));
        }
        if let hir::ExprKind::List { shape, elems } = &arg.kind {
            let t = self.list_tensor_as(arg, shape, elems, to)?;
            let (x, _) = self.tensor_elem(t, idx, arg.span);
            return Some((x, class_of(&to)));
        }
        // The argument is typed by what it holds, not by the target: in
        // `f32(min(2, x))` the literal takes `x`'s class, and the conversion
        // follows (inference checks that an exact value fits f32's range).
        let (x, _) = self.elem(arg, idx, scope, None)?;
        Some((
            self.inst.add_expr(Expr::Cast { to, arg: x }, span),
            class_of(&to),
        ))
    }

    /// `min(...)` / `max(...)` (with `max`) of numbers.
    pub(super) fn min_max(
        &mut self,
        max: bool,
        args: &'h [hir::Expr],
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let op = if max { BinOp::Max } else { BinOp::Min };
        // Literals take the class of the first argument that is not one
        // (`min(2, y)` with `y: f32` compares in f32), so that one goes first.
        let lead = lead_arg(args);
        let (first, mut c) = self.elem_b(&args[lead], idx, scope, hint)?;
        let mut lowered = Vec::with_capacity(args.len());
        for (i, a) in args.iter().enumerate() {
            if i == lead {
                lowered.push((first, c, a.span));
                continue;
            }
            let (y, cy) = self.elem_b(a, idx, scope, Some(c))?;
            c = self.unify(c, cy, a.span)?;
            lowered.push((y, cy, a.span));
        }
        let lowered: Vec<ExprId> = lowered
            .into_iter()
            .map(|(y, cy, sp)| self.promote(y, cy, c, sp))
            .collect();
        let mut acc = lowered[0];
        for &y in &lowered[1..] {
            acc = self.inst.add_expr(Expr::Binary(op, acc, y), span);
        }
        if c == Class::Bool {
            self.err(
                Diagnostic::error(codes::TYPE_MISMATCH, "`min` / `max` need numbers").at(span),
            );
            return None;
        }
        Some((acc, c))
    }

    /// Lowers two operands so that a literal takes the other side's class.
    pub(super) fn operands(
        &mut self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, ExprId, Class)> {
        let (x, cx, y, cy) = if literal_first(a, b) {
            let (y, cy) = self.elem_b(b, idx, scope, hint)?;
            let (x, cx) = self.elem_b(a, idx, scope, Some(cy))?;
            (x, cx, y, cy)
        } else {
            let (x, cx) = self.elem_b(a, idx, scope, hint)?;
            let (y, cy) = self.elem_b(b, idx, scope, Some(cx))?;
            (x, cx, y, cy)
        };
        // From the start of `a` to the end of `b` (which, for a helper inlined by the
        // parser, need not be in this order).
        let span = Span {
            file: a.span.file,
            start: a.span.start,
            end: b.span.end,
        };
        if let Some((x, y, float)) = self.promote_to_float(x, cx, y, cy, span) {
            return Some((x, y, float));
        }
        let c = self.unify(cx, cy, span)?;
        let x = self.promote(x, cx, c, a.span);
        let y = self.promote(y, cy, c, b.span);
        Some((x, y, c))
    }

    /// `x` (of class `from`) as a value of class `to`, which `unify` gave for it and
    /// another value: an f32 next to an f64 is converted to f64 (exactly), as numpy
    /// promotes; otherwise `x` itself.
    pub(super) fn promote(&mut self, x: ExprId, from: Class, to: Class, span: Span) -> ExprId {
        if from == Class::F32 && to == Class::F64 {
            let cast = Expr::Cast {
                to: ScalarType::F64,
                arg: x,
            };
            return self.inst.add_expr(cast, span);
        }
        x
    }

    /// numpy's promotion (docs/language.md §7.3): of two operands, an exact one (`cx` or
    /// `cy`) next to a float one converts to that float (f32 or f64). The conversion must
    /// be exact: once the node is typed, `check_implicit_floats` refuses an exact value of
    /// more significant bits than the float holds (24 for f32, 53 for f64; numpy would
    /// round or widen). The operands and the float class; `None` when the classes do not
    /// call for it.
    pub(super) fn promote_to_float(
        &mut self,
        x: ExprId,
        cx: Class,
        y: ExprId,
        cy: Class,
        span: Span,
    ) -> Option<(ExprId, ExprId, Class)> {
        let convert = |lw: &mut Self, e: ExprId, float: Class| {
            let to = if float == Class::F64 {
                ScalarType::F64
            } else {
                ScalarType::F32
            };
            let c = lw.inst.add_expr(Expr::Cast { to, arg: e }, span);
            lw.implicit_floats.push((c, span));
            c
        };
        match (cx, cy) {
            (Class::Exact, f @ (Class::F32 | Class::F64)) => Some((convert(self, x, f), y, f)),
            (f @ (Class::F32 | Class::F64), Class::Exact) => Some((x, convert(self, y, f), f)),
            _ => None,
        }
    }

    /// E0305 for each exact value converted to a float by promotion (`promote_to_float`)
    /// since the last call whose inferred type has more significant bits than the float
    /// holds.
    pub(super) fn check_implicit_floats(&mut self) {
        for (c, span) in std::mem::take(&mut self.implicit_floats) {
            let Expr::Cast { arg, to } = self.inst.expr(c) else {
                continue;
            };
            let (float, float_bits) = if *to == ScalarType::F64 {
                ("f64", F64_EXACT_BITS)
            } else {
                ("f32", F32_EXACT_BITS)
            };
            let Some(t) = self.inst.expr_type(*arg).copied() else {
                continue;
            };
            let bits = match t {
                ScalarType::Int(i) => i.width - u32::from(i.signed),
                ScalarType::Fixed(f) => f.width - u32::from(f.signed),
                _ => 0,
            };
            if bits > float_bits {
                let numpy = if float == "f32" {
                    "numpy would compute this in float64"
                } else {
                    "numpy would round it"
                };
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("{float} mixed with {t}, which {float} does not hold exactly"),
                    )
                    .at(span)
                    .label(format!(
                        "{t} has {bits} significant bits, {float} {float_bits}: {numpy}"
                    ))
                    .help(format!(
                        "convert explicitly: `{float}(x)` rounds it to the nearest {float}"
                    )),
                );
            }
        }
    }

    /// The class of two combined values, which must be the same.
    pub(super) fn unify(&mut self, a: Class, b: Class, span: Span) -> L<Class> {
        if let Some(c) = unified(a, b) {
            return Some(c);
        }
        let msg = match (a, b) {
            (Class::Bool, _) | (_, Class::Bool) => "a bool and a number are combined",
            (Class::F64, _) | (_, Class::F64) => {
                "f64 and an exact (fixed-point or integer) value are combined"
            }
            _ => "f32 and an exact (fixed-point or integer) value are combined",
        };
        let help = if a == Class::F64 || b == Class::F64 {
            "convert one side explicitly: `f64(x)` or `fixed<W, I>(y)`"
        } else {
            "convert one side explicitly: `f32(x)` or `fixed<W, I>(y)`"
        };
        let code = if matches!((a, b), (Class::Bool, _) | (_, Class::Bool)) {
            codes::TYPE_MISMATCH
        } else {
            codes::MIXED_FLOAT
        };
        self.err(Diagnostic::error(code, msg).at(span).help(help));
        None
    }

    /// The front end's rule for unary `op` on class `c` (kiln_lang::op_rules), so a
    /// misuse the checker could not see before instantiation gets the checker's code.
    pub(super) fn check_unary(&mut self, op: UnOp, c: Class, span: Span) -> L<()> {
        if let Err(r) = op_rules::unary(rule_unary(op), rule_class(c)) {
            self.err(r.diagnostic(span, span, span));
            return None;
        }
        Some(())
    }

    /// The front end's rule for binary `op` on two operands of class `c`.
    pub(super) fn check_binary(&mut self, op: BinOp, c: Class, span: Span) -> L<()> {
        if let Some(r) = binary_refusal(op, c) {
            self.err(r.diagnostic(span, span, span));
            return None;
        }
        Some(())
    }
}

pub(super) fn unary_op(op: HUnaryOp) -> UnOp {
    match op {
        HUnaryOp::Neg => UnOp::Neg,
        HUnaryOp::BitNot => UnOp::BitNot,
        HUnaryOp::Not => UnOp::Not,
    }
}

pub(super) fn binary_op(op: AB) -> BinOp {
    match op {
        AB::Add => BinOp::Add,
        AB::Sub => BinOp::Sub,
        AB::Mul => BinOp::Mul,
        AB::Div => BinOp::Div,
        AB::FloorDiv => BinOp::FloorDiv,
        AB::Mod => BinOp::Mod,
        AB::Shl => BinOp::Shl,
        AB::Shr => BinOp::Shr,
        AB::BitAnd => BinOp::BitAnd,
        AB::BitOr => BinOp::BitOr,
        AB::BitXor => BinOp::BitXor,
        AB::Pow => BinOp::Pow,
    }
}

pub(super) fn compare_op(op: CmpOp) -> BinOp {
    match op {
        CmpOp::Lt => BinOp::Lt,
        CmpOp::Le => BinOp::Le,
        CmpOp::Gt => BinOp::Gt,
        CmpOp::Ge => BinOp::Ge,
        CmpOp::Eq => BinOp::Eq,
        CmpOp::Ne => BinOp::Ne,
    }
}

/// Whether, of two operands, the second is lowered first: the first is a literal and the
/// second is not (so the literal takes the other side's class).
pub(super) fn literal_first(a: &hir::Expr, b: &hir::Expr) -> bool {
    is_literal(a) && !is_literal(b)
}

/// Of `min`/`max` arguments, the one lowered first: the first that is not a literal.
pub(super) fn lead_arg(args: &[hir::Expr]) -> usize {
    args.iter().position(|a| !is_literal(a)).unwrap_or(0)
}

/// The significant bits of the widest exact value that converts to f32 exactly.
const F32_EXACT_BITS: u32 = 24;
/// ... and to f64.
const F64_EXACT_BITS: u32 = 53;

/// The class of two combined values: `None` when they differ, except that f32 and f64
/// combine in f64 (the f32 operand is converted exactly, as numpy promotes).
pub(super) fn unified(a: Class, b: Class) -> Option<Class> {
    match (a, b) {
        (Class::F32, Class::F64) | (Class::F64, Class::F32) => Some(Class::F64),
        _ => (a == b).then_some(a),
    }
}

/// Whether unary `op` applies to a value of class `c` (the front end's rule).
pub(super) fn unary_applies(op: UnOp, c: Class) -> bool {
    op_rules::unary(rule_unary(op), rule_class(c)).is_ok()
}

/// Why binary `op` does not apply to two values of class `c`, if it does not: the
/// front end's rule, with its code and message.
pub(super) fn binary_refusal(op: BinOp, c: Class) -> Option<op_rules::Refusal> {
    let rule = rule_binary(op)?;
    let k = rule_class(c);
    op_rules::binary(rule, k, k).err()
}

/// The class the rule table reads for a lowering class: lowering knows bool, f32 and
/// exact; whether an exact value is an integer the checker has already enforced.
fn rule_class(c: Class) -> op_rules::Class {
    match c {
        Class::Bool => op_rules::Class::Bool,
        Class::F32 => op_rules::Class::F32,
        Class::F64 => op_rules::Class::F64,
        Class::Exact => op_rules::Class::Unknown,
    }
}

fn rule_unary(op: UnOp) -> op_rules::Unary {
    match op {
        UnOp::Neg => op_rules::Unary::Neg,
        UnOp::BitNot => op_rules::Unary::BitNot,
        UnOp::Not => op_rules::Unary::Not,
        UnOp::Abs => op_rules::Unary::Abs,
    }
}

/// The source operator of an IR operator (`None` for `min`/`max`, which are calls).
fn rule_binary(op: BinOp) -> Option<op_rules::Binary> {
    use op_rules::Binary::{Arith, Compare, Logic};
    Some(match op {
        BinOp::Add => Arith(AB::Add),
        BinOp::Sub => Arith(AB::Sub),
        BinOp::Mul => Arith(AB::Mul),
        BinOp::Div => Arith(AB::Div),
        BinOp::FloorDiv => Arith(AB::FloorDiv),
        BinOp::Mod => Arith(AB::Mod),
        BinOp::Shl => Arith(AB::Shl),
        BinOp::Shr => Arith(AB::Shr),
        BinOp::BitAnd => Arith(AB::BitAnd),
        BinOp::BitOr => Arith(AB::BitOr),
        BinOp::BitXor => Arith(AB::BitXor),
        BinOp::Pow => Arith(AB::Pow),
        BinOp::Eq => Compare(CmpOp::Eq),
        BinOp::Ne => Compare(CmpOp::Ne),
        BinOp::Lt => Compare(CmpOp::Lt),
        BinOp::Le => Compare(CmpOp::Le),
        BinOp::Gt => Compare(CmpOp::Gt),
        BinOp::Ge => Compare(CmpOp::Ge),
        BinOp::And => Logic(BoolOp::And),
        BinOp::Or => Logic(BoolOp::Or),
        BinOp::Min | BinOp::Max => return None,
    })
}

/// The class a math function's argument is lowered in: table parameters make a literal
/// argument exact; otherwise it is an f32.
pub(super) fn math_arg_hint(spec: Option<LutSpec>) -> Class {
    if spec.is_some() {
        Class::Exact
    } else {
        Class::F32
    }
}

/// How a math function applies to an argument of class `c`.
pub(super) enum MathRule {
    /// Through the lookup table (an exact argument).
    Table,
    /// On an f32 or f64 (the result has the argument's type).
    Float,
    /// Error: table parameters given for a float argument.
    TableOfF32,
    /// Error: an argument that is neither exact (with a table) nor a float.
    NotF32,
}

pub(super) fn math_rule(f: kiln_numeric::MathFn, spec: Option<LutSpec>, c: Class) -> MathRule {
    if c == Class::Exact && kiln_numeric::lut::has_table(f) {
        MathRule::Table
    } else if c.is_float() && spec.is_some() {
        MathRule::TableOfF32
    } else if !c.is_float() {
        MathRule::NotF32
    } else {
        MathRule::Float
    }
}
