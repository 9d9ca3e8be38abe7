//! Division and integer operators: `/` by a divisor that is never zero, `//`, `%`, shifts
//! and bitwise operators.

use super::env::Env;
use super::literals::literal_only;
use super::model::{join_cls, Cls, Elem, Ex, E, T};
use super::Gen;

impl Gen {
    /// A divisor that is never zero: (text, min |value| exponent, model).
    pub(super) fn nonzero_divisor(
        &mut self,
        env: &mut Env,
        depth: u32,
        want_frac: bool,
        int: bool,
    ) -> E {
        match self.rng.weighted(&[30, 40, 15]) {
            0 => {
                if want_frac {
                    let lits = [
                        ("0.5", -1, 1),
                        ("0.25", -2, 2),
                        ("1.5", 1, 1),
                        ("0.75", 0, 2),
                        ("2.5", 2, 1),
                    ];
                    let (s, m, fb) = self.rng.pick(&lits);
                    E::literal(s.to_string(), m, fb, Cls::Fixed)
                } else {
                    let v = self.rng.pick(&[1i64, 2, 3, 5, 7, -3, -2, 16]);
                    let s = if v < 0 {
                        format!("({v})")
                    } else {
                        v.to_string()
                    };
                    E::int_literal(s, v)
                }
            }
            1 => {
                let a = self.ex_exact(env, int, depth.saturating_sub(1));
                let x = a.t.ex();
                let (c, cm, cfb, ccls) = if want_frac {
                    self.rng.pick(&[
                        ("0.5", 0, 1, Cls::Fixed),
                        ("0.25", 0, 2, Cls::Fixed),
                        ("1.5", 1, 1, Cls::Fixed),
                    ])
                } else {
                    self.rng.pick(&[
                        ("1", 0, 0, Cls::Int),
                        ("2", 1, 0, Cls::Int),
                        ("3", 2, 0, Cls::Int),
                    ])
                };
                self.f("expr: nonzero divisor abs(e) + c");
                let neg = self.chance(25);
                E {
                    s: if neg {
                        format!("(-{} - {c})", self.abs_s(&a))
                    } else {
                        format!("({} + {c})", self.abs_s(&a))
                    },
                    t: T::Ex(Ex {
                        m: x.m.max(cm) + 2,
                        fb: x.fb.max(cfb),
                        cls: join_cls(x.cls, ccls),
                        lit: false,
                    }),
                }
            }
            _ => {
                // max(e, c) with a positive constant.
                let a = self.ex_exact(env, int, depth.saturating_sub(1));
                let a = self.mm(a);
                let x = a.t.ex();
                let (c, cfb, ccls) = if want_frac {
                    ("0.5", 1, Cls::Fixed)
                } else {
                    ("1", 0, Cls::Int)
                };
                E {
                    s: format!("max({}, {c})", a.s),
                    t: T::Ex(Ex {
                        m: x.m.max(0) + 1,
                        fb: x.fb.max(cfb),
                        cls: join_cls(x.cls, ccls),
                        lit: false,
                    }),
                }
            }
        }
    }

    /// `a / b` with fraction bits on one side and a divisor that is never zero.
    pub(super) fn fixed_division(&mut self, env: &mut Env, depth: u32) -> E {
        let a = self.ex_exact(env, false, depth - 1);
        let x = a.t.ex();
        // One operand must have fraction bits (for the front end: class Fixed); the
        // divisor provides them when the dividend is an integer or generic.
        let want_frac = x.cls != Cls::Fixed || self.chance(50);
        let mut b = self.nonzero_divisor(env, depth, want_frac, false);
        let mut tries = 0;
        while (x.lit || literal_only(&a.s)) && (b.t.ex().lit || literal_only(&b.s)) {
            tries += 1;
            if tries > 8 {
                b = E {
                    s: format!("fixed<24, 12>({})", b.s),
                    t: Elem::Fixed {
                        signed: true,
                        w: 24,
                        i: 12,
                        modes: None,
                    }
                    .t(),
                };
                break;
            }
            // Literal-only quotients are folded and must be exact binary values.
            b = self.nonzero_divisor(env, depth, want_frac, false);
        }
        let y = b.t.ex();
        self.f("op: / (fixed point)");
        // |b| >= 1/4 in every form above.
        let rf = x.fb + (-y.fb).max(0);
        E {
            s: format!("({} / {})", a.s, b.s),
            t: T::Ex(Ex {
                m: x.m + 2 + y.fb.max(0),
                fb: rf,
                cls: Cls::Fixed,
                lit: false,
            }),
        }
    }

    /// `a // b` or `a % b` of integers, by a divisor that is never zero.
    pub(super) fn floor_div_mod(&mut self, env: &mut Env, depth: u32) -> E {
        let mut a = self.ex_exact(env, true, depth - 1);
        if self.avoid("jit-narrow-divmod") {
            // A dividend whose range needs at least 10 bits.
            let x = a.t.ex();
            // A random offset, so that it does not cancel an earlier one.
            // An offset above twice the largest |a|, so that the sum keeps at least
            // 10 bits whatever a is (offsets that merely look large can cancel).
            let k = x.m.clamp(9, 100) + 1;
            let c = (1i128 << k) + self.rng.range(0, 999) as i128;
            a = E {
                s: format!("({} + {c})", a.s),
                t: T::Ex(Ex {
                    m: k + 1,
                    lit: false,
                    ..x
                }),
            };
        }
        let b = self.nonzero_divisor(env, depth, false, true);
        let (x, y) = (a.t.ex(), b.t.ex());
        let floor = self.chance(55);
        self.f(if floor { "op: //" } else { "op: %" });
        E {
            s: format!("({} {} {})", a.s, if floor { "//" } else { "%" }, b.s),
            t: T::Ex(Ex {
                m: if floor { x.m + 1 } else { y.m + 1 },
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
        }
    }

    /// `a << k` or `a >> k` by a constant, a small unsigned value or a loop variable.
    pub(super) fn shift(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let a = self.ex_exact(env, int, depth - 1);
        let left = self.chance(50);
        let a = if left { a } else { self.normalized(a) };
        let x = a.t.ex();
        // The amount: a constant, a small unsigned conversion, or a loop variable.
        let small_loop = env.small_loops(8);
        let (amt, max) =
            match self
                .rng
                .weighted(&[50, 30, if small_loop.is_empty() { 0 } else { 20 }])
            {
                0 => {
                    let k = self.rng.range(0, 6);
                    (k.to_string(), k)
                }
                1 => {
                    let w = self.rng.range(1, 3);
                    // uint<w>(b) of a fractional b: known bug `jit-fixed-to-int`.
                    let integral = self.avoid("jit-fixed-to-int");
                    let b = self.ex_exact(env, integral, depth.saturating_sub(2));
                    self.f("op: shift by a uint<k> value");
                    (format!("uint<{w}>({})", b.s), (1 << w) - 1)
                }
                _ => {
                    let v = self.rng.pick(&small_loop);
                    self.f("op: shift by a loop variable");
                    (v.name.clone(), v.hi)
                }
            };
        self.f(if left { "op: <<" } else { "op: >>" });
        E {
            s: format!("({} {} {amt})", a.s, if left { "<<" } else { ">>" }),
            t: T::Ex(Ex {
                m: if left { x.m + max as i32 } else { x.m },
                lit: false,
                ..x
            }),
        }
    }

    /// `~a`, or `a & b`, `a | b`, `a ^ b` of integers.
    pub(super) fn bitwise(&mut self, env: &mut Env, depth: u32) -> E {
        if self.chance(20) {
            let a = self.ex_exact(env, true, depth - 1);
            let a = self.unit_lsb(a);
            let x = a.t.ex();
            self.f("op: ~");
            return E {
                s: format!("(~{})", a.s),
                t: T::Ex(Ex {
                    m: x.m + 1,
                    lit: false,
                    ..x
                }),
            };
        }
        let a = self.ex_exact(env, true, depth - 1);
        let b = self.ex_exact(env, true, depth - 1);
        let (a, b) = (self.unit_lsb(a), self.unit_lsb(b));
        let op = self.rng.pick(&["&", "|", "^"]);
        self.f(format!("op: {op}"));
        let (x, y) = (a.t.ex(), b.t.ex());
        E {
            s: format!("({} {op} {})", a.s, b.s),
            t: T::Ex(Ex {
                m: x.m.max(y.m) + 1,
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
        }
    }
}
