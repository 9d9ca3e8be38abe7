//! Expressions: constants, locals, loop variables, loads, unary operations, selects,
//! math functions and casts (binary operations: binary.rs).

use crate::codegen::error::R;
use crate::codegen::gen::Gen;
use crate::layout::low_bits128;
use crate::rep::{common_rep, Exact, Rep};
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use kiln_numeric::{Fx, ScalarType};
use kiln_passes::ir::*;

impl Gen<'_, '_> {
    /// A bool-valued expression as an `i8` 0/1.
    pub fn bool_expr(&mut self, e: ExprId) -> R<CValue> {
        let (v, rep) = self.expr(e)?;
        debug_assert_eq!(rep, Rep::Bool);
        Ok(v)
    }

    /// Whether evaluating `e` can neither fail nor read out of bounds (so that both branches
    /// of a conditional may be evaluated).
    pub fn is_safe(&self, e: ExprId) -> bool {
        match self.inst.expr(e) {
            Expr::Load(a) => !a.checked && !a.guarded && a.dynamic_exprs().all(|d| self.is_safe(d)),
            // Counting overflows is an effect: a conversion that counts them runs only when
            // the program evaluates it (never speculatively in the unchosen operand of a
            // select, `and` or `or`).
            Expr::Cast { to, .. }
                if self.check_overflow
                    && matches!(to, ScalarType::Int(_) | ScalarType::Fixed(_)) =>
            {
                false
            }
            Expr::Binary(BinOp::Div | BinOp::FloorDiv | BinOp::Mod, a, b) => {
                let nonzero = self.range(*b).is_some_and(|r| !r.contains_zero());
                let float = self.inst.expr_type(*b).is_some_and(|t| t.is_float());
                (nonzero || float) && self.is_safe(*a) && self.is_safe(*b)
            }
            other => expr_operands(other).into_iter().all(|o| self.is_safe(o)),
        }
    }

    pub fn expr(&mut self, e: ExprId) -> R<(CValue, Rep)> {
        let rep = self.expr_rep(e)?;
        let v = match self.inst.expr(e).clone() {
            Expr::Const(v) => self.constant(e, v, rep)?,
            Expr::Local(l) => {
                let (v, from) = self.read_local(l)?;
                self.coerce_to(v, from, rep)
            }
            Expr::LoopVar(lv) => {
                let v = self.b.use_var(self.loops[&lv]);
                let from = Rep::I64;
                self.coerce_to(v, from, rep)
            }
            Expr::Load(a) => {
                let span = self.inst.expr_spans[e.index()];
                let (v, from) = self.load_elem(&a, span)?;
                match from {
                    Rep::Exact { .. } => self.coerce_to(v, from, rep),
                    _ => v,
                }
            }
            Expr::Unary(op, a) => self.unary(e, op, a, rep)?,
            Expr::Binary(op, a, b) => return self.binary(e, op, a, b, rep),
            Expr::Select {
                cond,
                then,
                otherwise,
            } => self.select(cond, then, otherwise, rep)?,
            Expr::Math { f, arg } => {
                let (x, xr) = self.expr(arg)?;
                self.call_math(f, x, xr == Rep::F64)
            }
            Expr::Cast { to, arg } => {
                let (x, xr) = self.expr(arg)?;
                let range = self.range(arg).cloned();
                let v = self.convert(x, xr, range.as_ref(), &to, arg)?;
                let from = Rep::of(&to)
                    .ok_or_else(|| self.unsupported(e, &format!("a conversion to {to}")))?;
                self.fit(v, from, rep)
            }
        };
        Ok((v, rep))
    }

    /// Whether `e` only takes the values -1, 0, +1 (a `bin` or `tern` factor), and if so
    /// whether it can be 0.
    pub fn unit_factor(&self, e: ExprId) -> Option<bool> {
        let t = self.inst.expr_type(e)?;
        let r = self.range(e)?;
        let unit = t.frac_bits() == Some(0) && r.lo >= Fx::int(-1) && r.hi <= Fx::int(1);
        let bin = matches!(self.inst.expr(e), Expr::Load(a) if self.inst.tensor(a.tensor).elem == ScalarType::Bin);
        unit.then_some(!bin && r.contains_zero())
    }

    /// Both operands in one representation for comparison: aligned fractional bits, a
    /// container with room for both ranges. Returns (x, y, signed).
    pub fn common(
        &mut self,
        x: CValue,
        xr: Rep,
        y: CValue,
        yr: Rep,
    ) -> Option<(CValue, CValue, bool)> {
        let Rep::Exact {
            bits, signed, frac, ..
        } = common_rep(xr, yr)?
        else {
            return None;
        };
        let x = self.coerce(x, xr, bits, frac);
        let y = self.coerce(y, yr, bits, frac);
        Some((x, y, signed))
    }

    /// A constant in representation `rep`.
    fn constant(&mut self, e: ExprId, v: Value, rep: Rep) -> R<CValue> {
        Ok(match (v, rep) {
            (Value::Bool(b), _) => self.b.ins().iconst(types::I8, b as i64),
            (Value::F32(f), _) => self.b.ins().f32const(f),
            (Value::F64(f), _) => self.b.ins().f64const(f),
            (Value::Num(x), Rep::Exact { bits, frac, .. }) => {
                // The type holds the value, and Rep::of checked it is at most 128 bits.
                let m = low_bits128(&x, frac);
                self.iconst(bits, m)
            }
            _ => return Err(self.unsupported(e, "a constant of an unexpected type")),
        })
    }

    /// `not`, `-`, `abs` and `~` of the value of `a`, in representation `rep`.
    fn unary(&mut self, e: ExprId, op: UnOp, a: ExprId, rep: Rep) -> R<CValue> {
        let (x, xr) = self.expr(a)?;
        Ok(match (op, rep) {
            (UnOp::Not, _) => self.b.ins().bxor_imm_s(x, 1),
            (UnOp::Neg, Rep::F32 | Rep::F64) => self.b.ins().fneg(x),
            (UnOp::Abs, Rep::F32 | Rep::F64) => self.b.ins().fabs(x),
            (UnOp::Neg, _) => {
                let x = self.coerce_to(x, xr, rep);
                self.b.ins().ineg(x)
            }
            (UnOp::Abs, Rep::Exact { bits, frac, .. }) => {
                // In a container holding the operand with its sign (|x| can need
                // fewer bits than x).
                let Exact {
                    bits: xb,
                    signed: xs,
                    ..
                } = xr.exact().expect("an exact operand");
                let wb = bits.max(xb);
                let w = self.coerce(x, xr, wb, frac);
                // Unsigned values are their own absolute value.
                let a = if xs { self.b.ins().iabs(w) } else { w };
                let arep = Rep::full(wb, false, frac);
                self.fit(a, arep, rep)
            }
            (UnOp::BitNot, _) => {
                let x = self.coerce_to(x, xr, rep);
                self.b.ins().bnot(x)
            }
            (UnOp::Abs, _) => return Err(self.unsupported(e, "`abs` of a bool")),
        })
    }

    /// `then if cond else otherwise`: a select when both sides are safe to evaluate,
    /// branches otherwise.
    fn select(&mut self, cond: ExprId, then: ExprId, otherwise: ExprId, rep: Rep) -> R<CValue> {
        let c = self.bool_expr(cond)?;
        Ok(if self.is_safe(then) && self.is_safe(otherwise) {
            let (t, tr) = self.expr(then)?;
            let (o, or) = self.expr(otherwise)?;
            let t = self.fit(t, tr, rep);
            let o = self.fit(o, or, rep);
            if rep.ty() == types::I128 {
                // As a mask: cranelift's optimizer turns `select(x < y, x, y)` into a
                // 128-bit min/max its x86 back end cannot lower.
                let c = self.b.ins().uextend(types::I128, c);
                let mask = self.b.ins().ineg(c);
                let diff = self.b.ins().bxor(t, o);
                let pick = self.b.ins().band(diff, mask);
                self.b.ins().bxor(o, pick)
            } else {
                self.b.ins().select(c, t, o)
            }
        } else {
            let tb = self.b.create_block();
            let ob = self.b.create_block();
            let done = self.b.create_block();
            self.b.append_block_param(done, rep.ty());
            self.b.ins().brif(c, tb, &[], ob, &[]);
            self.b.switch_to_block(tb);
            self.b.seal_block(tb);
            let (t, tr) = self.expr(then)?;
            let t = self.fit(t, tr, rep);
            self.b.ins().jump(done, &[t.into()]);
            self.b.switch_to_block(ob);
            self.b.seal_block(ob);
            let (o, or) = self.expr(otherwise)?;
            let o = self.fit(o, or, rep);
            self.b.ins().jump(done, &[o.into()]);
            self.b.switch_to_block(done);
            self.b.seal_block(done);
            self.b.block_params(done)[0]
        })
    }
}
