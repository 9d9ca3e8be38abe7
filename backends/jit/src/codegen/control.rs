//! Control flow: loops (counted, unrolled, stopping at a flag, or SIMD through the
//! [`LoopEmitter`](crate::codegen::gen::LoopEmitter)) and two-way branches.

use crate::codegen::error::R;
use crate::codegen::gen::Gen;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{types, InstBuilder, Value as CValue};
use cranelift_frontend::Variable;
use kiln_passes::ir::*;

/// Loops with at most this many iterations (and constant bounds) are unrolled...
const MAX_UNROLL: usize = 4;
/// ... when the loops they hold are unrolled too, into at most this many copies.
const MAX_UNROLL_COPIES: usize = 16;

impl Gen<'_, '_> {
    pub(crate) fn for_loop(&mut self, l: &Loop) -> R<()> {
        if self.try_dot_nest(l)? {
            return Ok(());
        }
        if self.bindots.by_var(l.var).is_some() {
            // The reduction over bits runs over words, innermost (bindot_step).
            return self.block(&l.body);
        }
        if let Some(done) = self.try_vectorize(l)? {
            if done {
                return Ok(());
            }
        }
        if let Some(flag) = self.stop_flag(l) {
            if self.unrolled_values(l).is_none() {
                // Once the flag is set the remaining iterations do nothing: stop there.
                let flag = self.local_var(flag)?;
                let (lo, hi) = self.loop_bounds(l);
                return self
                    .counted_loop_until(l, lo, hi, l.step, Some(flag), &mut |g| g.block(&l.body));
            }
        }
        self.loop_or_unrolled(l, &mut |g| g.block(&l.body))
    }

    /// The flag of a loop lowered from `while` or `break` (passes/src/lower/control.rs): the body is one
    /// `if not f:` and the loop only ever sets `f` to true, so once `f` is set every
    /// remaining iteration does nothing.
    fn stop_flag(&self, l: &Loop) -> Option<LocalId> {
        let [Stmt::If {
            cond, else_block, ..
        }] = l.body.as_slice()
        else {
            return None;
        };
        if !else_block.is_empty() {
            return None;
        }
        let Expr::Unary(UnOp::Not, x) = self.inst.expr(*cond) else {
            return None;
        };
        let Expr::Local(f) = self.inst.expr(*x) else {
            return None;
        };
        let mut only_set = true;
        walk_stmts(&l.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::Assign { local, value, .. } = s {
                if local == f {
                    only_set &= matches!(self.inst.expr(*value), Expr::Const(Value::Bool(true)));
                }
            }
        });
        only_set.then_some(*f)
    }

    /// The iterations of a loop short enough to unroll: constant bounds, at most
    /// `MAX_UNROLL` iterations, only unrolled loops inside and at most `MAX_UNROLL`
    /// copies of the innermost body in all (a 3x3 window), not the loop threads split.
    fn unrolled_values(&self, l: &Loop) -> Option<Vec<i64>> {
        if matches!(self.outer, Some((v, ..)) if v == l.var) {
            return None;
        }
        fn values(l: &Loop) -> Option<Vec<i64>> {
            let n = trip_count(l)?;
            if n > MAX_UNROLL as u64 {
                // Decided before materialising anything: compile time and memory do
                // not depend on the trip count.
                return None;
            }
            let (lo, step) = (l.lo.as_constant()?, l.step);
            (0..n as i64)
                .map(|i| lo.checked_add(i.checked_mul(step)?))
                .collect()
        }
        fn copies(l: &Loop) -> Option<usize> {
            let n = values(l)?.len();
            if n > MAX_UNROLL {
                return None;
            }
            let mut inner = 1;
            for s in &l.body {
                match s {
                    Stmt::For(x) => inner = inner.max(copies(x)?),
                    Stmt::If {
                        then_block,
                        else_block,
                        ..
                    } => {
                        let mut nested = Vec::new();
                        walk_stmts(then_block, &mut Vec::new(), &mut |s, _| {
                            nested.push(matches!(s, Stmt::For(_)))
                        });
                        walk_stmts(else_block, &mut Vec::new(), &mut |s, _| {
                            nested.push(matches!(s, Stmt::For(_)))
                        });
                        if nested.into_iter().any(|f| f) {
                            return None;
                        }
                    }
                    _ => {}
                }
            }
            let total = n * inner;
            (total <= MAX_UNROLL_COPIES).then_some(total)
        }
        copies(l)?;
        values(l)
    }

    /// Emits `l` around `body`: unrolled when short (cranelift does not unroll), a
    /// counted loop otherwise.
    pub fn loop_or_unrolled<E>(
        &mut self,
        l: &Loop,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        if let Some(values) = self.unrolled_values(l) {
            let var = self.loop_var(l.var);
            self.active.push(l.var);
            for v in values {
                let c = self.b.ins().iconst(types::I64, v);
                self.b.def_var(var, c);
                if let Err(e) = body(self) {
                    self.active.pop();
                    return Err(e);
                }
            }
            self.active.pop();
            return Ok(());
        }
        let (lo, hi) = self.loop_bounds(l);
        self.counted_loop(l, lo, hi, l.step, body)
    }

    /// Emits `if c { branch(true) } else { branch(false) }` (`c` an `i8` 0/1).
    pub fn if_else<E>(
        &mut self,
        c: CValue,
        branch: &mut dyn FnMut(&mut Self, bool) -> Result<(), E>,
    ) -> Result<(), E> {
        let tb = self.b.create_block();
        let eb = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(c, tb, &[], eb, &[]);
        for (block, taken) in [(tb, true), (eb, false)] {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            branch(self, taken)?;
            self.b.ins().jump(done, &[]);
        }
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        Ok(())
    }

    /// The Variable of a loop variable.
    pub fn loop_var(&mut self, v: LoopVarId) -> Variable {
        match self.loops.get(&v) {
            Some(v) => *v,
            None => {
                let var = self.b.declare_var(types::I64);
                self.loops.insert(v, var);
                var
            }
        }
    }

    /// A loop's first value and bound (from the function's parameters for the loop the
    /// runtime splits across threads).
    pub fn loop_bounds(&mut self, l: &Loop) -> (CValue, CValue) {
        match self.outer {
            Some((v, lo, hi)) if v == l.var => (lo, hi),
            _ => (self.affine(&l.lo), self.affine(&l.hi)),
        }
    }

    /// Emits `for var in lo..hi (step)` around `body`, which emits the loop body.
    pub fn counted_loop<E>(
        &mut self,
        l: &Loop,
        lo: CValue,
        hi: CValue,
        step: i64,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        self.counted_loop_until(l, lo, hi, step, None, body)
    }

    /// [`Gen::counted_loop`] that also stops before an iteration when the bool variable
    /// `stop` is set.
    pub fn counted_loop_until<E>(
        &mut self,
        l: &Loop,
        lo: CValue,
        hi: CValue,
        step: i64,
        stop: Option<Variable>,
        body: &mut dyn FnMut(&mut Self) -> Result<(), E>,
    ) -> Result<(), E> {
        let var = self.loop_var(l.var);
        self.b.def_var(var, lo);
        let head = self.b.create_block();
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let i = self.b.use_var(var);
        let mut go = if step > 0 {
            self.b.ins().icmp(IntCC::SignedLessThan, i, hi)
        } else {
            self.b.ins().icmp(IntCC::SignedGreaterThan, i, hi)
        };
        if let Some(stop) = stop {
            let f = self.b.use_var(stop);
            let clear = self.b.ins().icmp_imm_u(IntCC::Equal, f, 0);
            go = self.b.ins().band(go, clear);
        }
        self.b.ins().brif(go, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        self.b.seal_block(body_block);
        self.active.push(l.var);
        let r = body(self);
        self.active.pop();
        r?;
        let i = self.b.use_var(var);
        let next = self.b.ins().iadd_imm_s(i, step);
        self.b.def_var(var, next);
        self.b.ins().jump(head, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        Ok(())
    }

    /// The loop as scalar code from `lo` to `hi`.
    pub fn scalar_loop(&mut self, l: &Loop, lo: CValue, hi: CValue) -> R<()> {
        self.counted_loop(l, lo, hi, l.step, &mut |g| g.block(&l.body))
    }

    fn try_vectorize(&mut self, l: &Loop) -> R<Option<bool>> {
        let Some(mut vec) = self.vec.take() else {
            return Ok(None);
        };
        let r = vec.try_loop(self, l);
        self.vec = Some(vec);
        r.map(Some)
    }
}

/// The number of iterations of a loop with constant bounds, computed without
/// overflow (`None` when a bound is not constant or the step is zero).
fn trip_count(l: &Loop) -> Option<u64> {
    let (lo, hi) = (l.lo.as_constant()? as i128, l.hi.as_constant()? as i128);
    let step = l.step as i128;
    let n = match step.cmp(&0) {
        std::cmp::Ordering::Greater if hi > lo => (hi - lo + step - 1) / step,
        std::cmp::Ordering::Less if lo > hi => (lo - hi - step - 1) / -step,
        std::cmp::Ordering::Equal => return None,
        _ => 0,
    };
    u64::try_from(n).ok()
}
