//! Conversions: to random exact types (`T(e)`), to type variables, to f32, and across
//! kinds to a declared element type.

use super::env::Env;
use super::literals::{has_literal, literal_only, mentions_size};
use super::model::{narrow, Elem, E, T};
use super::Gen;

impl Gen {
    /// `T(a)` to a random exact type (every quantization and overflow mode), an integer
    /// type when `int`.
    pub(super) fn conversion(&mut self, a: E, int: bool) -> E {
        let to = if int {
            match self.rng.below(4) {
                0 => Elem::Bin,
                1 => Elem::Tern,
                _ => Elem::Int {
                    signed: self.chance(60),
                    w: self.width(),
                },
            }
        } else {
            self.exact_elem()
        };
        let to = self.retarget(to);
        let ty = self.ty_of(to.clone());
        self.f(match to {
            Elem::Int { .. } => "conv: to int/uint",
            Elem::Fixed { .. } => "conv: to fixed/ufixed",
            Elem::Bin => "conv: to bin",
            Elem::Tern => "conv: to tern",
            _ => "conv: other",
        });
        E::converted_to(&ty, &a.s)
    }

    /// `T(c)` of a boolean `c`: a narrow int, or a fixed type.
    pub(super) fn bool_to_exact(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let b = self.ex_bool(env, depth - 1);
        let to = if int || self.chance(60) {
            Elem::Int {
                signed: self.chance(50),
                w: self.rng.range(1, 4) as u32,
            }
        } else {
            self.fixed_elem()
        };
        let to = self.retarget(to);
        self.f("conv: bool to exact");
        let ty = self.ty_of(to);
        E::converted_to(&ty, &b.s)
    }

    /// `T(f)` of an f32 `f`.
    pub(super) fn f32_to_exact(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let a = self.ex_f32(env, depth - 1);
        self.f("conv: f32 to exact");
        let to = if int {
            Elem::Int {
                signed: self.chance(70),
                w: self.width(),
            }
        } else {
            self.exact_elem()
        };
        // f32 to int<W> truncates correctly in the JIT: only fixed-point
        // targets are subject to the known bugs.
        let to = match to {
            Elem::Int { .. } => to,
            other => self.retarget(other),
        };
        let ty = self.ty_of(to);
        E::converted_to(&ty, &a.s)
    }

    /// An exact value converted from an f64 expression (an integer type when `int`).
    pub(super) fn f64_to_exact(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let a = self.ex_f64(env, depth - 1);
        self.f("conv: f64 to exact");
        let to = if int {
            Elem::Int {
                signed: self.chance(70),
                w: self.width(),
            }
        } else {
            self.exact_elem()
        };
        let to = match to {
            Elem::Int { .. } => to,
            other => self.retarget(other),
        };
        let ty = self.ty_of(to);
        E::converted_to(&ty, &a.s)
    }

    /// Whether values may be converted to type variable `name`, bound to a value of model
    /// `t`: exact, not narrow (known bug `jit-narrow-quant`), and not an int type, which
    /// may be unsigned (known bug `jit-signed-to-uint`).
    pub(super) fn converts_to_tvar(&self, env: &Env, name: &str, t: &T) -> bool {
        matches!(t, T::Ex(_))
            && !(self.avoid("jit-narrow-quant") && narrow(t))
            && !(self.avoid("jit-signed-to-uint") && env.tv_int.iter().any(|n| n == name))
    }

    /// `T(e)` to a type variable `T` in scope, if there is one values convert to.
    pub(super) fn type_var_conversion(&mut self, env: &mut Env, depth: u32) -> Option<E> {
        let exact: Vec<(String, T)> = env
            .tvars
            .iter()
            .filter(|(n, t)| self.converts_to_tvar(env, n, t))
            .cloned()
            .collect();
        if exact.is_empty() {
            return None;
        }
        let (name, t) = self.rng.pick(&exact);
        // T may be an int type: known bug `jit-fixed-to-int`.
        let integral = self.avoid("jit-fixed-to-int");
        let a = self.ex_exact(env, integral, depth - 1);
        self.f("conv: to a type variable T(e)");
        Some(E {
            s: format!("{name}({})", a.s),
            t,
        })
    }

    /// `f64(a)` of an exact value (through a 48-bit fixed-point type when it is wide or
    /// risky, as for [`Gen::f32_of`]).
    pub(super) fn exact_to_f64(&mut self, a: E) -> E {
        let x = a.t.ex();
        let a =
            if x.m > 40 || x.fb > 100 || (literal_risky(&a) && self.avoid("f32-literal-context")) {
                let n = Elem::Fixed {
                    signed: true,
                    w: 48,
                    i: 24,
                    modes: Some((self.rng.below(7), 1, None)),
                };
                E::converted(&n, &a.s)
            } else {
                a
            };
        self.f("conv: exact to f64");
        let m = a.t.ex().m.max(0);
        E {
            s: format!("f64({})", a.s),
            t: T::F64(m),
        }
    }

    /// `f32(a)` of an exact value.
    pub(super) fn f32_of(&mut self, a: E) -> E {
        let mut a = a;
        let x = a.t.ex();
        let risky = literal_risky(&a);
        if x.m > 24 || x.fb > 100 || (risky && self.avoid("f32-literal-context")) {
            let n = Elem::Fixed {
                signed: true,
                w: 32,
                i: 16,
                modes: Some((
                    self.rng.below(7),
                    if self.avoid("jit-i128-minmax") { 2 } else { 1 },
                    None,
                )),
            };
            a = E::converted(&n, &a.s);
        }
        self.f("conv: exact to f32");
        let m = a.t.ex().m.max(0);
        E {
            s: format!("f32({})", a.s),
            t: T::F32(m),
        }
    }

    /// `f32(c)` of a boolean `c`.
    pub(super) fn bool_to_f32(&mut self, c: &E) -> E {
        self.f("conv: bool to f32");
        E {
            s: format!("f32({})", c.s),
            t: T::F32(0),
        }
    }

    /// `bool(e)` of an exact or f32 value.
    pub(super) fn bool_of(&mut self, e: &E) -> E {
        self.f("conv: to bool");
        E {
            s: format!("bool({})", e.s),
            t: T::Bool,
        }
    }

    /// A value convertible to a declared element type `to` by assignment: exact to exact,
    /// f32 to f32, bool to bool; across kinds with an explicit conversion.
    pub(super) fn ex_for(&mut self, env: &mut Env, to: &T, depth: u32) -> E {
        let e = self.ex_any(env, depth);
        self.convert_for(e, to)
    }

    /// `e`, converted to the kind of `to` when it is of another kind.
    pub(super) fn convert_for(&mut self, e: E, to: &T) -> E {
        match (to, e.t) {
            (T::Ex(_), T::Ex(_))
            | (T::F32(_), T::F32(_))
            | (T::F64(_), T::F64(_))
            | (T::Bool, T::Bool) => e,
            (T::Ex(_), _) => {
                let n = self.narrow_elem(false);
                self.f(if matches!(e.t, T::Bool) {
                    "conv: bool to exact"
                } else {
                    "conv: float to exact"
                });
                E::converted(&n, &e.s)
            }
            (T::F32(_), T::Ex(_)) => self.f32_of(e),
            (T::F32(_), T::F64(_)) => {
                self.f("conv: f64 to f32");
                E {
                    s: format!("f32({})", e.s),
                    t: T::F32(float_bound(e.t)),
                }
            }
            (T::F64(_), _) => self.f64_of(e),
            (T::F32(_), _) => self.bool_to_f32(&e),
            (T::Bool, _) => self.bool_of(&e),
        }
    }
}

/// Known bug `f32-literal-context`: inside `f32(...)` (and `f64(...)`), literal arguments of
/// min/max/abs/~ are typed as floats (`f32(min(2, x))` is E0305); and literal-only
/// arguments are computed in the float (where `//` and `~` are not defined). An
/// intermediate exact conversion avoids both; this says when one is needed.
fn literal_risky(a: &E) -> bool {
    a.t.ex().lit
        || literal_only(&a.s)
        || has_literal(&a.s)
        || ["min(", "max(", "abs(", "~"]
            .iter()
            .any(|p| a.s.contains(p))
        || mentions_size(&a.s)
}

/// The magnitude bound of a float model (0 for others).
pub(super) fn float_bound(t: T) -> i32 {
    match t {
        T::F32(m) | T::F64(m) => m,
        _ => 0,
    }
}
