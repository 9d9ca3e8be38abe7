//! Reductions: `sum`, `max`, `min`, `argmax`, `argmin` over a generator, and `dot`,
//! `sum`, `max`, `min`, `argmax`, `argmin` of tensors.

use super::env::{Env, Var};
use super::loops::LoopHeader;
use super::model::{join_cls, log2_ceil, reduce_model, Cls, Ex, Kind, E, T, W};
use super::shape::{numel, Dim};
use super::Gen;

impl Gen {
    /// Known bug `nested-reduction`: a reduction inside the body of a reduction panics
    /// in lowering ("local sum never typed").
    pub(super) fn no_nested_reduce(&self, env: &Env) -> bool {
        env.in_reduce && self.avoid("nested-reduction")
    }

    /// `sum(e for ...)`, `max(...)`, `min(...)`, `argmax(...)`, `argmin(...)` over a
    /// generator.
    pub(super) fn reduction(&mut self, env: &mut Env, w: W, int: bool, depth: u32) -> E {
        // An arg-reduction is an integer: only where an exact value is wanted.
        let arg_weight = if matches!(w, W::F32 | W::F64) { 0 } else { 6 };
        let op = match self.rng.weighted(&[60, 20, 20, arg_weight, arg_weight]) {
            0 => "sum",
            1 => "max",
            2 => "min",
            3 => "argmax",
            _ => "argmin",
        };
        let arg = op.starts_with("arg");
        let ndims = if self.chance(30) && !arg { 2 } else { 1 };
        let LoopHeader {
            text: header,
            vars,
            trips,
        } = if ndims == 2 {
            let dims = vec![
                Dim::lit(self.rng.range(1, 4)),
                Dim::lit(self.rng.range(1, 4)),
            ];
            self.full_loop(&dims, false)
        } else {
            self.range_loop(env, op == "sum")
        };
        // An arg-reduction's value is its loop variable's.
        let arg_m = vars
            .first()
            .map_or(1, |v| log2_ceil(v.lo.abs().max(v.hi.abs()) + 1).max(1));
        let saved = env.loops.len();
        env.loops.extend(vars);
        let old_trips = env.trips;
        env.trips *= trips.max(1);
        let old_in = env.in_reduce;
        env.in_reduce = true;
        let body = match w {
            W::F32 => self.ex_f32(env, depth.saturating_sub(1).min(2)),
            W::F64 => self.ex_f64(env, depth.saturating_sub(1).min(2)),
            _ => {
                let e = self.ex_exact(env, int, depth.saturating_sub(1).min(2));
                if op == "sum" {
                    e
                } else {
                    self.mm(e)
                }
            }
        };
        env.in_reduce = old_in;
        env.loops.truncate(saved);
        env.trips = old_trips;
        self.f(format!("reduce: {op}(e for ...)"));
        if arg {
            return E {
                s: format!("{op}({} for {header})", body.s),
                t: T::Ex(Ex {
                    m: arg_m,
                    fb: 0,
                    cls: Cls::Int,
                    lit: false,
                }),
            };
        }
        E {
            s: format!("{op}({} for {header})", body.s),
            t: reduce_model(op, body.t, trips),
        }
    }

    /// `dot(a, b)`, `sum(t)`, `max(t)`, `min(t)` over tensors (or slices).
    pub(super) fn tensor_reduction(&mut self, env: &mut Env, kind: Kind, int: bool) -> E {
        let max_cost = self.max_cost;
        let tensors: Vec<Var> = env
            .tensors(Some(kind))
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .filter(|v| !matches!(v.t, T::Ex(x) if x.cost() > max_cost))
            .collect();
        if tensors.is_empty() {
            return match kind {
                Kind::F32 => self.leaf_f32(env),
                Kind::F64 => self.leaf_f64(env),
                _ => self.leaf_exact(env, int),
            };
        }
        let a = self.rng.pick(&tensors);
        let shape = a.shape.clone().unwrap();
        // Reduce a sub-shape (trailing dims) of a.
        let r = self.rng.range(1, shape.len() as i64) as usize;
        let target: Vec<Dim> = shape[shape.len() - r..].to_vec();
        let Some(va) = self.view_as(env, &a, &target) else {
            return match kind {
                Kind::F32 => self.leaf_f32(env),
                Kind::F64 => self.leaf_f64(env),
                _ => self.leaf_exact(env, int),
            };
        };
        let n = numel(&target);
        if self.chance(40) {
            let others: Vec<Var> = tensors
                .iter()
                .filter(|v| {
                    v.shape
                        .as_ref()
                        .unwrap()
                        .iter()
                        .rev()
                        .zip(target.iter().rev())
                        .all(|(x, y)| x.val >= y.val)
                        && v.shape.as_ref().unwrap().len() >= target.len()
                })
                .cloned()
                .collect();
            let b = self.rng.pick(&others);
            if let Some(vb) = self.view_as(env, &b, &target) {
                self.f("reduce: dot(a, b)");
                let t = match (a.t, b.t) {
                    (T::Ex(x), T::Ex(y)) => T::Ex(Ex {
                        m: x.m + y.m + log2_ceil(n),
                        fb: x.fb + y.fb,
                        cls: join_cls(x.cls, y.cls),
                        lit: false,
                    }),
                    (T::F32(x), T::F32(y)) => T::F32(x + y + log2_ceil(n)),
                    (T::F64(x), T::F64(y)) => T::F64(x + y + log2_ceil(n)),
                    _ => unreachable!(),
                };
                return E {
                    s: format!("dot({va}, {vb})"),
                    t,
                };
            }
        }
        if kind == Kind::Ex && self.chance(15) {
            // The first position of the extreme (a row-major flat index).
            let op = self.rng.pick(&["argmax", "argmin"]);
            self.f(format!("reduce: {op}(tensor)"));
            return E {
                s: format!("{op}({va})"),
                t: T::Ex(Ex {
                    m: log2_ceil(n).max(1),
                    fb: 0,
                    cls: Cls::Int,
                    lit: false,
                }),
            };
        }
        let mut op = self.rng.pick(&["sum", "max", "min"]);
        if op != "sum" && matches!(a.t, T::Ex(x) if x.cost() > 60) && self.avoid("jit-i128-minmax")
        {
            op = "sum";
        }
        self.f(format!("reduce: {op}(tensor)"));
        E {
            s: format!("{op}({va})"),
            t: reduce_model(op, a.t, n),
        }
    }
}
