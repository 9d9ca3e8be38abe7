//! Values of expressions: ranges and fractional bits of constants, loop variables, locals
//! and loads (with what this node stores itself), unary operators, selects, conversions
//! and math functions; recording the inferred type of each expression in the final round;
//! the values a conversion can produce and the W0801 overflow warning. Binary operators
//! are binary.rs's business.

use super::*;
use crate::value::convert_exact;
use kiln_numeric::{narrowest_type, Fx, Int, Overflow, MAX_WIDTH};

impl State<'_> {
    pub(super) fn affine_range(&self, a: &Affine) -> Interval {
        let mut r = Interval::point(Fx::int(a.constant as i128));
        for &(v, c) in &a.terms {
            let vr = self
                .loop_ranges
                .get(&v)
                .cloned()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            r = r.add(&vr.mul(&Interval::point(Fx::int(c as i128))));
        }
        r
    }

    /// Types the data-dependent parts of an access's indices, which must be integers of
    /// at most 64 bits (a generic kernel's index is known only here).
    pub(super) fn access(&mut self, a: &Access, span: Span) {
        let _ = span;
        for d in a.dynamic_exprs() {
            let ty = match self.expr(d) {
                Some(Val::Exact { range, frac, .. }) => narrowest_type(&range, frac),
                Some(Val::F32) => ScalarType::F32,
                Some(Val::F64) => ScalarType::F64,
                Some(Val::Bool) => ScalarType::Bool,
                None => continue,
            };
            if !is_index_type(&ty) && self.record {
                let name = self.inst.tensor(a.tensor).name.clone();
                self.err(
                    Diagnostic::error(
                        codes::NOT_AFFINE,
                        format!(
                            "an index into `{name}` must be an integer within the range of int<64>"
                        ),
                    )
                    .at(self.span(d))
                    .label(format!("this index has type {ty}"))
                    .help("convert it to an integer type, e.g. `int<32>(k)`"),
                );
            }
        }
    }

    pub(super) fn set_expr(&mut self, e: ExprId, v: &Val) {
        let (ty, range) = match v {
            Val::Bool => (ScalarType::Bool, None),
            Val::F32 => (ScalarType::F32, None),
            Val::F64 => (ScalarType::F64, None),
            Val::Exact { range, frac, .. } => (narrowest_type(range, *frac), Some(range.clone())),
        };
        self.inst.expr_types[e.index()] = Some(ty);
        self.inst.expr_ranges[e.index()] = range;
    }

    pub(super) fn span(&self, e: ExprId) -> Span {
        self.inst.expr_spans[e.index()]
    }

    pub(super) fn type_val(
        &self,
        t: &ScalarType,
        range: Option<&Interval>,
        from_data: bool,
    ) -> Val {
        match t {
            ScalarType::Bool => Val::Bool,
            ScalarType::F32 => Val::F32,
            ScalarType::F64 => Val::F64,
            _ => {
                let (lo, hi) = t.value_bounds().expect("exact type");
                let r = range.cloned().unwrap_or_else(|| Interval::new(lo, hi));
                Val::exact(r, t.frac_bits().unwrap_or(0), from_data)
            }
        }
    }

    /// The value of an expression; records its type in the final round.
    pub(super) fn expr(&mut self, e: ExprId) -> Option<Val> {
        let v = self.expr_inner(e)?;
        if let Val::Exact { range, frac, .. } = &v {
            let t = narrowest_type(range, *frac);
            if t.storage_bits() > MAX_WIDTH {
                self.err(
                    Diagnostic::error(
                        codes::TOO_WIDE,
                        format!(
                            "this value needs {} bits; the limit is {MAX_WIDTH}",
                            t.storage_bits()
                        ),
                    )
                    .at(self.span(e))
                    .label(format!("values in {}", range.short()))
                    .help("convert an operand to a narrower declared type first"),
                );
                return None;
            }
        }
        if self.record && self.inst.expr_types[e.index()].is_none() {
            self.set_expr(e, &v);
        }
        Some(v)
    }

    pub(super) fn expr_inner(&mut self, e: ExprId) -> Option<Val> {
        let span = self.span(e);
        match self.inst.expr(e).clone() {
            Expr::Const(Value::Bool(_)) => Some(Val::Bool),
            Expr::Const(Value::F32(_)) => Some(Val::F32),
            Expr::Const(Value::F64(_)) => Some(Val::F64),
            Expr::Const(Value::Num(x)) => {
                let frac = if x.is_zero() { 0 } else { x.min_frac().max(0) };
                Some(Val::exact(Interval::point(x), frac, false))
            }
            Expr::LoopVar(v) => {
                let r = self
                    .loop_ranges
                    .get(&v)
                    .cloned()
                    .unwrap_or_else(|| Interval::point(Fx::zero()));
                Some(Val::exact(r, 0, false))
            }
            Expr::Local(l) => Some(self.local_val(l)),
            Expr::Load(a) => self.load_val(&a, span),
            Expr::Unary(op, a) => self.unary_val(op, a, span),
            Expr::Binary(op, a, b) => self.binary(op, a, b, span),
            Expr::Select {
                cond,
                then,
                otherwise,
            } => self.select_val(cond, then, otherwise, span),
            Expr::Cast { to, arg } => self.cast_val(to, arg, span),
            Expr::Math { f, arg } => match self.expr(arg)? {
                Val::F32 => Some(Val::F32),
                Val::F64 => Some(Val::F64),
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` takes an f32 or f64 value", f.name()),
                        )
                        .at(span)
                        .help(format!("convert first: `{}(f32(x))`", f.name())),
                    );
                    None
                }
            },
        }
    }

    /// The value of a local: its declared type (narrowed by what it holds), or what it
    /// was assigned so far.
    pub(super) fn local_val(&self, l: LocalId) -> Val {
        let local = self.inst.local(l).clone();
        if local.declared {
            let range = self.local_range.get(&l).cloned();
            return self.type_val(&local.ty, range.as_ref(), false);
        }
        match self.local_class.get(&l) {
            Some(Val::Bool) => Val::Bool,
            Some(Val::F32) => Val::F32,
            Some(Val::F64) => Val::F64,
            _ => {
                let (r, f) = self.inferred_local(l);
                let fd = self.local_from_data.get(&l).copied().unwrap_or(false);
                Val::exact(r, f, fd)
            }
        }
    }

    /// The range (0 when nothing is known) and fractional bits of inferred local `l`.
    pub(super) fn inferred_local(&self, l: LocalId) -> (Interval, i32) {
        let r = self
            .local_range
            .get(&l)
            .cloned()
            .unwrap_or_else(|| Interval::point(Fx::zero()));
        (r, self.local_frac.get(&l).copied().unwrap_or(0))
    }

    /// The value of a load: the tensor's type, narrowed by what earlier nodes and this
    /// node stored.
    pub(super) fn load_val(&mut self, a: &Access, span: Span) -> Option<Val> {
        self.access(a, span);
        let t = self.inst.tensor(a.tensor).clone();
        let from_data = matches!(t.kind, TensorKind::Const(_));
        if !t.declared && t.reason == TypeReason::Pending {
            self.err(
                Diagnostic::error(
                    codes::CANNOT_INFER,
                    format!("`{}` is read before its type is known", t.name),
                )
                .at(span),
            );
            return None;
        }
        // What earlier nodes stored, and what this node stores itself.
        let range = match (&t.range, self.own_stores.get(&a.tensor)) {
            (Some(r), Some((own, _))) => Some(r.join(own)),
            (None, Some((own, _))) if t.declared => {
                let (lo, hi) = t.elem.value_bounds().expect("exact");
                Some(Interval::new(lo, hi))
            }
            (r, _) => r.clone(),
        };
        match (
            self.type_val(&t.elem, range.as_ref(), from_data),
            self.own_stores.get(&a.tensor),
        ) {
            // An inferred tensor this node also writes: its values so far.
            (
                Val::Exact {
                    range,
                    frac,
                    from_data,
                },
                Some((own, own_frac)),
            ) if !t.declared => Some(Val::exact(range.join(own), frac.max(*own_frac), from_data)),
            (v, _) => Some(v),
        }
    }

    pub(super) fn unary_val(&mut self, op: UnOp, a: ExprId, span: Span) -> Option<Val> {
        let v = self.expr(a)?;
        match (op, v) {
            (UnOp::Not, Val::Bool) => Some(Val::Bool),
            (UnOp::Neg | UnOp::Abs, Val::F32) => Some(Val::F32),
            (UnOp::Neg | UnOp::Abs, Val::F64) => Some(Val::F64),
            (
                UnOp::Neg,
                Val::Exact {
                    range,
                    frac,
                    from_data,
                },
            ) => Some(Val::exact(range.neg(), frac, from_data)),
            (
                UnOp::Abs,
                Val::Exact {
                    range,
                    frac,
                    from_data,
                },
            ) => Some(Val::exact(range.abs(), frac, from_data)),
            (
                UnOp::BitNot,
                Val::Exact {
                    range,
                    frac,
                    from_data,
                },
            ) if frac <= 0 => Some(Val::exact(range.bitnot(), 0, from_data)),
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("{op:?} does not apply to this value"),
                    )
                    .at(span),
                );
                None
            }
        }
    }

    pub(super) fn select_val(
        &mut self,
        cond: ExprId,
        then: ExprId,
        otherwise: ExprId,
        span: Span,
    ) -> Option<Val> {
        let c = self.expr(cond)?;
        if c != Val::Bool {
            self.err(Diagnostic::error(codes::NOT_BOOL, "the condition must be a bool").at(span));
            return None;
        }
        let (t, o) = (self.expr(then)?, self.expr(otherwise)?);
        match (&t, &o) {
            (Val::Bool, Val::Bool)
            | (Val::F32, Val::F32)
            | (Val::F64, Val::F64)
            | (Val::Exact { .. }, Val::Exact { .. }) => Some(join_val(&t, &o)),
            _ => {
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        "the branches have different kinds of values",
                    )
                    .at(span),
                );
                None
            }
        }
    }

    /// A conversion; to a float, of values within its normal range.
    pub(super) fn cast_val(&mut self, to: ScalarType, arg: ExprId, span: Span) -> Option<Val> {
        let v = self.expr(arg)?;
        // The largest exponent and the most fractional bits of a normal number.
        let limits = match to {
            ScalarType::F32 => Some((127, 126)),
            ScalarType::F64 => Some((1023, 1022)),
            _ => None,
        };
        if let Some((max_exp, max_frac)) = limits {
            if let Val::Exact { range, frac, .. } = &v {
                let big = Fx::new(Int::pow2(max_exp), 0);
                if range.hi >= big || range.lo <= big.neg() || *frac > max_frac {
                    self.err(
                        Diagnostic::error(codes::BAD_CAST, format!("values in {} (with {frac} fractional bits) leave {to}'s normal range", range.short()))
                            .at(span)
                            .help("convert to a narrower fixed-point type first"),
                    );
                    return None;
                }
            }
        }
        Some(self.converted(&v, &to))
    }

    /// The values a conversion to `to` can produce from `v`.
    pub(super) fn converted(&self, v: &Val, to: &ScalarType) -> Val {
        match (v, to) {
            (_, ScalarType::Bool) => Val::Bool,
            (_, ScalarType::F32) => Val::F32,
            (_, ScalarType::F64) => Val::F64,
            (
                Val::Exact {
                    range, from_data, ..
                },
                _,
            ) => {
                let (a, la) = convert_exact(&range.lo, to);
                let (b, lb) = convert_exact(&range.hi, to);
                let (Value::Num(a), Value::Num(b)) = (a, b) else {
                    return self.type_val(to, None, false);
                };
                let wraps = match to {
                    ScalarType::Fixed(f) => matches!(
                        f.overflow,
                        Overflow::Wrap | Overflow::WrapSm | Overflow::SatZero
                    ),
                    ScalarType::Int(_) => true,
                    _ => false,
                };
                if (la.overflowed || lb.overflowed) && wraps {
                    return self.type_val(to, None, false);
                }
                let r = Interval::new(a.clone().min(b.clone()), a.max(b));
                self.type_val(to, Some(&r), *from_data)
            }
            _ => self.type_val(to, None, false),
        }
    }

    /// W0801: a value assigned to a declared type with a wrapping overflow mode that can
    /// exceed it.
    pub(super) fn check_overflow(
        &mut self,
        v: &Val,
        to: &ScalarType,
        span: Span,
        name: &str,
        explicit: bool,
    ) {
        if explicit || !self.record {
            return;
        }
        let Val::Exact { range, frac, .. } = v else {
            return;
        };
        let wraps = match to {
            ScalarType::Fixed(f) => f.overflow.is_wrapping(),
            ScalarType::Int(_) => true,
            _ => false,
        };
        if !wraps {
            return;
        }
        let Some((lo, hi)) = to.value_bounds() else {
            return;
        };
        if range.lo >= lo && range.hi <= hi {
            return;
        }
        let holds = narrowest_type(
            range,
            (*frac)
                .min(to.frac_bits().unwrap_or(0))
                .max(to.frac_bits().unwrap_or(0)),
        );
        self.warnings.push(
            Diagnostic::warning(
                codes::OVERFLOW_RISK,
                format!("`{name}` ({to}) can overflow and wrap"),
            )
            .at(span)
            .label(format!(
                "values here range over {}, but {to} holds [{}, {}]",
                range.short(),
                lo.short(),
                hi.short()
            ))
            .help(format!(
                "{holds} would hold them; or use a saturating type (`sat`), or convert explicitly"
            )),
        );
    }
}
