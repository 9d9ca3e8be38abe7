//! f32 expressions: leaves, arithmetic, math functions.

use super::env::{Env, Win};
use super::model::{f32_arith_model, join_t, log2_ceil, Kind, E, T, W};
use super::Gen;

impl Gen {
    /// A leaf of an f32 expression: a scalar, an element, a lambda parameter, or an exact
    /// leaf converted.
    pub(super) fn leaf_f32(&mut self, env: &mut Env) -> E {
        let scalars = env.scalars(Kind::F32);
        let tensors = env.tensors(Some(Kind::F32));
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::F32(_)))
            .cloned()
            .collect();
        let has_exact = !env.scalars(Kind::Ex).is_empty()
            || !env.tensors(Some(Kind::Ex)).is_empty()
            || !env.loops.is_empty();
        let weights = [
            if scalars.is_empty() { 0 } else { 20 },
            if tensors.is_empty() { 0 } else { 30 },
            if wins.is_empty() { 0 } else { 60 },
            if has_exact || (scalars.is_empty() && tensors.is_empty() && wins.is_empty()) {
                15
            } else {
                0
            },
        ];
        match self.rng.weighted(&weights) {
            0 => self.rng.pick(&scalars).read(),
            1 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            2 => {
                let w = self.rng.pick(&wins);
                self.window_read(&w)
            }
            _ => {
                let a = self.leaf_exact(env, false);
                self.f32_of(a)
            }
        }
    }

    /// An f32 expression of depth at most `depth`.
    pub(super) fn ex_f32(&mut self, env: &mut Env, depth: u32) -> E {
        if depth == 0 || self.chance(25) {
            return self.leaf_f32(env);
        }
        let lam = env.in_lambda;
        let nr = self.no_nested_reduce(env);
        let e = match self.rng.weighted(&[
            25,
            15,
            6,
            8,
            5,
            6,
            if lam || env.trips > 400 || nr { 0 } else { 5 },
            if lam || nr { 0 } else { 3 },
            4,
            4,
            4,
            3,
            3,
        ]) {
            0 | 1 => self.f32_arith(env, depth),
            2 => {
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                self.f("f32: /");
                let m = match a.t {
                    T::F32(m) => m,
                    _ => 0,
                };
                E {
                    s: format!("({} / (abs({}) + 0.5))", a.s, b.s),
                    t: T::F32(m + 1),
                }
            }
            3 => {
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                let f = if self.chance(50) { "min" } else { "max" };
                self.f(format!("f32: {f}"));
                E {
                    s: format!("{f}({}, {})", a.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            4 => {
                let a = self.ex_f32(env, depth - 1);
                let neg = self.chance(50);
                self.f(if neg { "f32: unary -" } else { "f32: abs" });
                E {
                    s: if neg {
                        format!("(-{})", a.s)
                    } else {
                        format!("abs({})", a.s)
                    },
                    t: a.t,
                }
            }
            5 => {
                let c = self.ex_bool(env, depth - 1);
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                self.f("f32: conditional");
                E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            6 => self.reduction(env, W::F32, false, depth),
            7 => self.tensor_reduction(env, Kind::F32, false),
            8 => {
                let a = self.ex_exact(env, false, depth - 1);
                self.f32_of(a)
            }
            9 => {
                let b = self.ex_bool(env, depth - 1);
                self.bool_to_f32(&b)
            }
            10 => self.f32_math(env, depth),
            11 => {
                // An f64 computation rounded to f32.
                let a = self.ex_f64(env, depth - 1);
                self.convert_for(a, &T::F32(0))
            }
            _ => self.float_power(env, depth, W::F32),
        };
        self.fit(e)
    }

    /// `a + b`, `a - b` or `a * b` of f32 values (or of an f32 value and a literal).
    fn f32_arith(&mut self, env: &mut Env, depth: u32) -> E {
        let op = if self.rng.below(3) == 0 {
            "*"
        } else if self.chance(50) {
            "+"
        } else {
            "-"
        };
        let a = self.ex_f32(env, depth - 1);
        let b = if self.chance(25) {
            self.f("expr: literal next to f32");
            self.f32_lit()
        } else {
            self.ex_f32(env, depth - 1)
        };
        let (x, y) = match (a.t, b.t) {
            (T::F32(x), T::F32(y)) => (x, y),
            _ => unreachable!(),
        };
        self.f(format!("f32: {op}"));
        let (l, r) = if self.chance(30) {
            (b.s, a.s)
        } else {
            (a.s, b.s)
        };
        E {
            s: format!("({l} {op} {r})"),
            t: f32_arith_model(op, x, y),
        }
    }

    /// f32 math functions (`sqrt`, `exp`, `log`, `tanh`, `sigmoid`), kept in ranges the
    /// model knows (|value| < 2^m).
    fn f32_math(&mut self, env: &mut Env, depth: u32) -> E {
        let a = self.ex_f32(env, depth - 1);
        let T::F32(m) = a.t else { unreachable!() };
        let (f, s, m) = match self.rng.below(5) {
            0 => ("sqrt", format!("sqrt(abs({}))", a.s), m / 2 + 1),
            1 => ("exp", format!("exp(tanh({}))", a.s), 2),
            2 => (
                "log",
                format!("log(abs({}) + 1.0)", a.s),
                log2_ceil(m.max(1) as i64 + 1) + 1,
            ),
            3 => ("tanh", format!("tanh({})", a.s), 1),
            _ => ("sigmoid", format!("sigmoid({})", a.s), 1),
        };
        self.f(format!("f32: {f}"));
        E { s, t: T::F32(m) }
    }
}
