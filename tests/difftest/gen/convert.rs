//! Conversions: to random exact types (`T(e)`), to f32, and across kinds to a declared
//! element type.

use super::env::Env;
use super::literals::{has_literal, literal_only, mentions_size};
use super::model::{Elem, E, T};
use super::Gen;

impl Gen {
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
        E {
            s: format!("{}({})", ty.text, a.s),
            t: ty.t,
        }
    }

    pub(super) fn f32_of(&mut self, a: E) -> E {
        let mut a = a;
        let x = a.t.ex();
        // Known bug `f32-literal-builtin`: inside `f32(...)`, literal arguments of
        // min/max/abs/~ are typed f32 (`f32(min(2, x))` is E0305); and literal-only
        // arguments are computed in f32 (where `//` and `~` are not defined). An
        // intermediate exact conversion avoids both.
        let risky = x.lit
            || literal_only(&a.s)
            || has_literal(&a.s)
            || ["min(", "max(", "abs(", "~"]
                .iter()
                .any(|p| a.s.contains(p))
            || mentions_size(&a.s);
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
            a = E {
                s: format!("{}({})", n.text(), a.s),
                t: n.t(),
            };
        }
        self.f("conv: exact to f32");
        let m = a.t.ex().m.max(0);
        E {
            s: format!("f32({})", a.s),
            t: T::F32(m),
        }
    }

    /// A value convertible to a declared element type `to` by assignment: exact to exact,
    /// f32 to f32, bool to bool; across kinds with an explicit conversion.
    pub(super) fn ex_for(&mut self, env: &mut Env, to: &T, depth: u32) -> E {
        let e = self.ex_any(env, depth);
        self.convert_for(e, to)
    }

    pub(super) fn convert_for(&mut self, e: E, to: &T) -> E {
        match (to, e.t) {
            (T::Ex(_), T::Ex(_)) | (T::F32(_), T::F32(_)) | (T::Bool, T::Bool) => e,
            (T::Ex(_), _) => {
                let n = self.narrow_elem(false);
                self.f(if matches!(e.t, T::Bool) {
                    "conv: bool to exact"
                } else {
                    "conv: f32 to exact"
                });
                E {
                    s: format!("{}({})", n.text(), e.s),
                    t: n.t(),
                }
            }
            (T::F32(_), T::Ex(_)) => self.f32_of(e),
            (T::F32(_), _) => {
                self.f("conv: bool to f32");
                E {
                    s: format!("f32({})", e.s),
                    t: T::F32(0),
                }
            }
            (T::Bool, _) => {
                self.f("conv: to bool");
                E {
                    s: format!("bool({})", e.s),
                    t: T::Bool,
                }
            }
        }
    }
}
