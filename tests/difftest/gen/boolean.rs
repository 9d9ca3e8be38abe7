//! Boolean expressions: comparisons (chained too), `and`, `or`, `not`, `bool(e)`.

use super::env::{Env, Win};
use super::model::{Kind, E, T};
use super::Gen;

/// `(a op b)` of boolean value: a comparison, `and` or `or`.
pub(super) fn boolean(a: &E, op: &str, b: &E) -> E {
    E {
        s: format!("({} {op} {})", a.s, b.s),
        t: T::Bool,
    }
}

impl Gen {
    /// A boolean expression of depth at most `depth`.
    pub(super) fn ex_bool(&mut self, env: &mut Env, depth: u32) -> E {
        let scalars = env.scalars(Kind::Bool);
        let tensors = env.tensors(Some(Kind::Bool));
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::Bool))
            .cloned()
            .collect();
        let leaf = depth == 0 || self.chance(15);
        let weights = [
            if leaf { 5 } else { 40 },               // comparison of exact values
            if leaf { 0 } else { 8 },                // comparison of f32 values
            if leaf { 0 } else { 12 },               // and / or
            if leaf { 0 } else { 5 },                // not
            if scalars.is_empty() { 0 } else { 10 }, // variable
            if tensors.is_empty() { 0 } else { 10 }, // element
            if leaf { 0 } else { 4 },                // bool(e)
            2,                                       // True / False
            if wins.is_empty() { 0 } else { 40 },
            if leaf { 0 } else { 3 }, // chained comparison
            if leaf || (scalars.is_empty() && tensors.is_empty()) {
                0
            } else {
                3
            }, // bool == bool
        ];
        let d = depth.saturating_sub(1);
        match self.rng.weighted(&weights) {
            0 => {
                let a = self.ex_exact(env, false, d);
                let b = self.ex_exact(env, false, d);
                let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                self.f(format!("cmp: {op}"));
                boolean(&a, op, &b)
            }
            1 => {
                let a = self.ex_f32(env, d);
                let b = self.ex_f32(env, d);
                let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                self.f("cmp: f32");
                boolean(&a, op, &b)
            }
            2 => {
                let a = self.ex_bool(env, d);
                let b = self.ex_bool(env, d);
                let op = if self.chance(50) { "and" } else { "or" };
                self.f(format!("bool: {op}"));
                boolean(&a, op, &b)
            }
            3 => {
                let a = self.ex_bool(env, d);
                self.f("bool: not");
                E {
                    s: format!("(not {})", a.s),
                    t: T::Bool,
                }
            }
            4 => self.rng.pick(&scalars).read(),
            5 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            6 => {
                let a = if self.chance(75) {
                    self.ex_exact(env, false, d)
                } else {
                    self.ex_f32(env, d)
                };
                self.bool_of(&a)
            }
            7 => E {
                s: if self.chance(50) { "True" } else { "False" }.into(),
                t: T::Bool,
            },
            8 => {
                let w = self.rng.pick(&wins);
                self.window_read(&w)
            }
            9 => {
                let a = self.ex_exact(env, false, d);
                let b = self.ex_exact(env, false, d);
                let c = self.ex_exact(env, false, d);
                self.f("cmp: chained a < b <= c");
                let o1 = self.rng.pick(&["<", "<="]);
                let o2 = self.rng.pick(&["<", "<="]);
                E {
                    s: format!("({} {o1} {} {o2} {})", a.s, b.s, c.s),
                    t: T::Bool,
                }
            }
            _ => {
                let a = self.ex_bool(env, 0);
                let b = self.ex_bool(env, 0);
                let op = if self.chance(50) { "==" } else { "!=" };
                self.f("cmp: bool == bool");
                boolean(&a, op, &b)
            }
        }
    }
}
