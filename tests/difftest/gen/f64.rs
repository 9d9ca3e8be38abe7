//! f64 expressions (leaves, arithmetic with f32 operands promoted, math functions,
//! reductions), and `**` on every kind: exact bases with a constant exponent, floats with
//! a constant integer exponent (multiplied out) or any other exponent (`pow`).

use super::env::{Env, Win};
use super::model::{f32_arith_model, join_t, log2_ceil, Ex, Kind, E, T, W};
use super::Gen;

/// The model of a float `a op b` (`+`, `-`, `*`) with `|a| <= 2^x`, `|b| <= 2^y`.
fn f64_arith_model(op: &str, x: i32, y: i32) -> T {
    match f32_arith_model(op, x, y) {
        T::F32(m) => T::F64(m),
        t => t,
    }
}

/// The magnitude bound of a float model.
fn float_m(t: T) -> i32 {
    match t {
        T::F32(m) | T::F64(m) => m,
        _ => 0,
    }
}

impl Gen {
    /// A leaf of an f64 expression: an f64 scalar, element or lambda parameter, or an f32
    /// or exact leaf converted.
    pub(super) fn leaf_f64(&mut self, env: &mut Env) -> E {
        let scalars = env.scalars(Kind::F64);
        let tensors = env.tensors(Some(Kind::F64));
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::F64(_)))
            .cloned()
            .collect();
        let weights = [
            if scalars.is_empty() { 0 } else { 25 },
            if tensors.is_empty() { 0 } else { 35 },
            12,
            10,
            if wins.is_empty() { 0 } else { 60 },
        ];
        match self.rng.weighted(&weights) {
            0 => self.rng.pick(&scalars).read(),
            1 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            2 => {
                let a = self.leaf_f32(env);
                self.f64_of(a)
            }
            3 => {
                let a = self.leaf_exact(env, false);
                self.f64_of(a)
            }
            _ => {
                let w = self.rng.pick(&wins);
                self.f("f64: lambda parameter");
                self.window_read(&w)
            }
        }
    }

    /// `f64(a)` of an exact, f32 or bool value (an exact value is narrowed first when it
    /// could leave f64's normal range).
    pub(super) fn f64_of(&mut self, a: E) -> E {
        match a.t {
            T::F64(_) => a,
            T::F32(m) => {
                self.f("conv: f32 to f64");
                E {
                    s: format!("f64({})", a.s),
                    t: T::F64(m),
                }
            }
            T::Bool => {
                self.f("conv: bool to f64");
                E {
                    s: format!("f64({})", a.s),
                    t: T::F64(0),
                }
            }
            T::Ex(_) => self.exact_to_f64(a),
        }
    }

    /// A literal next to an f64 value.
    pub(super) fn f64_lit(&mut self) -> E {
        const F: &[&str] = &[
            "0.5", "1.5", "0.1", "2.0", "3", "0.3", "1e-3", "100.0", "0.7", "1e-9",
        ];
        self.f("expr: literal next to f64");
        E {
            s: self.rng.pick(F).to_string(),
            t: T::F64(7),
        }
    }

    /// An f64 expression of depth at most `depth`.
    pub(super) fn ex_f64(&mut self, env: &mut Env, depth: u32) -> E {
        if depth == 0 || self.chance(25) {
            return self.leaf_f64(env);
        }
        let lam = env.in_lambda;
        let nr = self.no_nested_reduce(env);
        let e = match self.rng.weighted(&[
            25,
            8,
            6,
            6,
            6,
            if lam || env.trips > 400 || nr { 0 } else { 5 },
            if lam || nr { 0 } else { 3 },
            6,
            8,
            5,
        ]) {
            0 => self.f64_arith(env, depth),
            1 => {
                let a = self.ex_f64(env, depth - 1);
                let b = self.ex_f64(env, depth - 1);
                self.f("f64: /");
                E {
                    s: format!("({} / (abs({}) + 0.5))", a.s, b.s),
                    t: T::F64(float_m(a.t) + 1),
                }
            }
            2 => {
                let a = self.ex_f64(env, depth - 1);
                let b = self.ex_f64(env, depth - 1);
                let f = if self.chance(50) { "min" } else { "max" };
                self.f(format!("f64: {f}"));
                E {
                    s: format!("{f}({}, {})", a.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            3 => {
                let a = self.ex_f64(env, depth - 1);
                let neg = self.chance(50);
                self.f(if neg { "f64: unary -" } else { "f64: abs" });
                E {
                    s: if neg {
                        format!("(-{})", a.s)
                    } else {
                        format!("abs({})", a.s)
                    },
                    t: a.t,
                }
            }
            4 => {
                let c = self.ex_bool(env, depth - 1);
                let a = self.ex_f64(env, depth - 1);
                let b = self.ex_f64(env, depth - 1);
                self.f("f64: conditional");
                E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            5 => self.reduction(env, W::F64, false, depth),
            6 => self.tensor_reduction(env, Kind::F64, false),
            7 => self.float_math(env, depth, W::F64),
            8 => self.float_power(env, depth, W::F64),
            _ => {
                let a = if self.chance(50) {
                    self.ex_exact(env, false, depth - 1)
                } else {
                    self.ex_f32(env, depth - 1)
                };
                self.f64_of(a)
            }
        };
        self.fit(e)
    }

    /// `a + b`, `a - b` or `a * b` of f64 values, or of an f64 value and a literal or an
    /// f32 value (promoted to f64).
    fn f64_arith(&mut self, env: &mut Env, depth: u32) -> E {
        let op = if self.rng.below(3) == 0 {
            "*"
        } else if self.chance(50) {
            "+"
        } else {
            "-"
        };
        let a = self.ex_f64(env, depth - 1);
        let b = match self.rng.below(4) {
            0 => self.f64_lit(),
            1 => {
                self.f("f64: f32 operand promoted");
                self.ex_f32(env, depth - 1)
            }
            _ => self.ex_f64(env, depth - 1),
        };
        self.f(format!("f64: {op}"));
        let (l, r) = if self.chance(30) {
            (b.s, a.s)
        } else {
            (a.s, b.s)
        };
        E {
            s: format!("({l} {op} {r})"),
            t: f64_arith_model(op, float_m(a.t), float_m(b.t)),
        }
    }

    /// `f(x)` for a math function of a float of kind `w` (f32 or f64), kept in ranges the
    /// model knows.
    pub(super) fn float_math(&mut self, env: &mut Env, depth: u32, w: W) -> E {
        let a = self.ex(env, w, depth - 1);
        let m = float_m(a.t);
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
        let t = if w == W::F64 { T::F64(m) } else { T::F32(m) };
        self.f(format!("{}: {f}", kind_name(w)));
        E { s, t }
    }

    /// `a ** b` of a float of kind `w`: a small constant integer exponent (multiplied
    /// out), a fractional one, or a float exponent (`pow`), kept in ranges the model knows.
    pub(super) fn float_power(&mut self, env: &mut Env, depth: u32, w: W) -> E {
        let a = self.ex(env, w, depth - 1);
        let m = float_m(a.t).max(0);
        let k = kind_name(w);
        let (s, m) = match self.rng.below(5) {
            0 | 1 => {
                let n = self.rng.range(0, 3) as i32;
                let n = if m * n > 100 { 1 } else { n };
                self.f(format!("{k}: ** constant integer"));
                (format!("{} ** {n}", paren(&a.s)), m * n)
            }
            2 => {
                self.f(format!("{k}: ** fractional literal"));
                let e = self.rng.pick(&["0.5", "1.5", "0.25"]);
                (format!("abs({}) ** {e}", a.s), m * 3 / 2 + 1)
            }
            3 => {
                self.f(format!("{k}: ** -1"));
                (format!("(abs({}) + 0.5) ** -1", a.s), 1)
            }
            _ => {
                // A float exponent in (-1, 1): |result| <= max(2^(m+1), 2).
                let b = self.ex(env, w, depth - 1);
                self.f(format!("{k}: ** float exponent (pow)"));
                (format!("(abs({}) + 0.5) ** tanh({})", a.s, b.s), m + 2)
            }
        };
        let t = if w == W::F64 { T::F64(m) } else { T::F32(m) };
        self.fit(E { s, t })
    }

    /// `x ** n` of an exact value with a constant exponent: the type grows as a product's.
    pub(super) fn exact_power(&mut self, a: E, max_cost: i32) -> Option<E> {
        let T::Ex(x) = a.t else { return None };
        if x.lit {
            return None;
        }
        let lo = if x.fb > 0 { 1 } else { 0 };
        let n = self.rng.range(lo, 3) as i32;
        if x.cost() * n.max(1) > max_cost {
            return None;
        }
        self.f(format!("exact: ** {n}"));
        let t = if n == 0 {
            Ex {
                m: 0,
                fb: 0,
                lit: false,
                ..x
            }
        } else {
            Ex {
                m: x.m.max(0) * n,
                fb: x.fb * n,
                lit: false,
                ..x
            }
        };
        Some(E {
            s: format!("{} ** {n}", paren(&a.s)),
            t: T::Ex(t),
        })
    }
}

/// `f32` or `f64`, for feature names.
fn kind_name(w: W) -> &'static str {
    if w == W::F64 {
        "f64"
    } else {
        "f32"
    }
}

/// `s` as the base of `**`, parenthesized unless it is one group already (so that
/// `-x ** 2` is never generated for `(-x) ** 2`).
fn paren(s: &str) -> String {
    if balanced_outer(s) {
        s.to_string()
    } else {
        format!("({s})")
    }
}

/// Whether `s` is one parenthesized group `( ... )`.
fn balanced_outer(s: &str) -> bool {
    if !s.starts_with('(') || !s.ends_with(')') {
        return false;
    }
    let mut depth = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != s.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}
