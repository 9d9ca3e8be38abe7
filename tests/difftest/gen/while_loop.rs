//! Bounded `while` loops, with `break` and `continue`.

use super::env::Body;
use super::model::{Elem, Ty};
use super::Gen;

impl Gen {
    /// A bounded `while` counting a scalar down, accumulating into another, sometimes
    /// with `break` / `continue`. Its `max` is always enough (a program that stops with
    /// E0705 is a failed case here; tests/run/e0705_while_limit.kiln checks that error on
    /// every engine).
    pub(super) fn st_while(&mut self, b: &mut Body) {
        let counter = self.fresh("w");
        let acc = self.fresh("s");
        let start = self.rng.range(0, 12);
        let step = self.rng.range(1, 3);
        let needed = (start + step - 1) / step;
        let max = needed + self.rng.range(0, 3);
        b.line(format!("{counter}: int<8> = {start}"));
        b.line(format!("{acc}: int<16> = 0"));
        let m = b.open(format!("while {counter} > 0, max={max}:"));
        b.line(format!("{counter} -= {step}"));
        if self.chance(40) {
            let jump = self.conditional_jump(b);
            self.f(format!("stmt: {jump} in a while"));
        }
        let e = self.ex_exact(&mut b.env, true, 2);
        b.line(format!("{acc} += int<8>({})", e.s));
        b.close(m);
        self.f("stmt: while");
        let ty = self.ty_of(Elem::Int {
            signed: true,
            w: 16,
        });
        self.new_scalar(
            b,
            acc,
            ty.t,
            Some(Ty {
                text: "int<16>".into(),
                ..ty
            }),
        );
    }

    /// `if c: break` or `if c: continue`; returns the jump.
    pub(super) fn conditional_jump(&mut self, b: &mut Body) -> &'static str {
        let c = self.ex_bool(&mut b.env, 1);
        let jump = if self.chance(50) { "break" } else { "continue" };
        let m = b.open(format!("if {}:", c.s));
        b.line(jump);
        b.close(m);
        jump
    }
}
