//! Whole-tensor expressions: elementwise arithmetic over views of tensors, scalars,
//! operands broadcast with numpy's rules, and list literals.

use super::boolean::boolean;
use super::env::{Env, Var};
use super::model::{arith_model, f32_arith_model, join_t, mbits, Cls, Ex, Kind, E, T};
use super::shape::Dim;
use super::Gen;

impl Gen {
    /// An elementwise expression over tensors of shape `shape` (scalars broadcast).
    pub(super) fn tex(
        &mut self,
        env: &mut Env,
        shape: &[Dim],
        kind: Kind,
        depth: u32,
    ) -> Option<E> {
        let cands: Vec<Var> = env
            .tensors(Some(kind))
            .into_iter()
            .filter(|v| v.shape.as_ref().unwrap().len() >= shape.len())
            .collect();
        if depth == 0 || self.chance(30) {
            // A view of a tensor.
            for _ in 0..4 {
                if cands.is_empty() {
                    break;
                }
                let v = self.rng.pick(&cands);
                if let Some(s) = self.view_as(env, &v, shape) {
                    // Wide tensors are converted (elementwise) to a narrow type.
                    return Some(self.fit(E { s, t: v.t }));
                }
            }
            if depth == 0 {
                return None;
            }
        }
        let d = depth - 1;
        match kind {
            Kind::Ex => self.tex_exact(env, shape, d),
            Kind::F32 => self.tex_f32(env, shape, d),
            Kind::F64 => self.tex_f64(env, shape, d),
            Kind::Bool => self.tex_bool(env, shape, d),
        }
    }

    /// An elementwise expression of exact values (operands of depth `d`).
    fn tex_exact(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        let c = self.rng.weighted(&[30, 15, 10, 8, 8, 6, 5]);
        match c {
            0 | 1 => self.tex_arith(env, shape, d, c == 1),
            2 => {
                let a = self.tex(env, shape, Kind::Ex, d)?;
                self.f("tensor: conversion");
                Some(self.conversion(a, false))
            }
            3 => self.tex_min_max(env, shape, d),
            4 => {
                let a = self.tex(env, shape, Kind::Ex, d)?;
                self.f("tensor: abs / neg");
                let x = a.t.ex();
                Some(E {
                    s: if self.chance(50) {
                        self.abs_s(&a)
                    } else {
                        format!("(-{})", a.s)
                    },
                    t: T::Ex(Ex { m: x.m + 1, ..x }),
                })
            }
            5 => {
                let a = self.tex(env, shape, Kind::Ex, d)?;
                let b = self.tex(env, shape, Kind::Ex, d)?;
                let c = self.tex(env, shape, Kind::Bool, d).unwrap_or_else(|| E {
                    s: format!("({} > 0)", a.s),
                    t: T::Bool,
                });
                self.f("tensor: conditional");
                Some(E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                })
            }
            _ => self.tex_shift(env, shape, d),
        }
    }

    /// `a + b`, `a - b` or (`mul`) `a * b` of tensors, or of a tensor and a scalar.
    fn tex_arith(&mut self, env: &mut Env, shape: &[Dim], d: u32, mul: bool) -> Option<E> {
        let a = self.tex(env, shape, Kind::Ex, d)?;
        let b = match self.rng.weighted(&[35, 15, 8, 42]) {
            0 => {
                self.f("tensor: scalar broadcast");
                let mut e2 = env.clone();
                e2.loops.clear();
                self.ex_exact(&mut e2, false, 1)
            }
            1 => self.broadcast_operand(env, shape, Kind::Ex, d)?,
            2 => match self.list_literal(shape, false) {
                Some(l) => l,
                None => self.tex(env, shape, Kind::Ex, d)?,
            },
            _ => self.tex(env, shape, Kind::Ex, d)?,
        };
        let op = self.arith_op(mul, 50);
        self.f(format!("tensor: elementwise {op}"));
        let (x, y) = (a.t.ex(), b.t.ex());
        let (l, r) = if self.chance(25) {
            (b.s, a.s)
        } else {
            (a.s, b.s)
        };
        Some(self.fit(E {
            s: format!("({l} {op} {r})"),
            t: T::Ex(Ex {
                lit: false,
                ..arith_model(op, x, y)
            }),
        }))
    }

    /// `min(a, b)` or `max(a, b)` of tensors, or of a tensor and a literal.
    fn tex_min_max(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        let a = self.tex(env, shape, Kind::Ex, d)?;
        let a = self.mm(a);
        let f = self.rng.pick(&["min", "max"]);
        let b = if self.chance(50) {
            self.int_lit()
        } else {
            self.tex(env, shape, Kind::Ex, d)?
        };
        let b = self.mm(b);
        let mut ab = self.mm_all(vec![a, b]);
        let b = ab.pop().unwrap();
        let a = ab.pop().unwrap();
        self.f(format!("tensor: {f}"));
        Some(E {
            s: format!("{f}({}, {})", a.s, b.s),
            t: join_t(a.t, b.t),
        })
    }

    /// `a << k` or `a >> k` of a tensor by a constant.
    fn tex_shift(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        let a = self.tex(env, shape, Kind::Ex, d)?;
        let k = self.rng.range(0, 4);
        let left = self.chance(50);
        let a = if left { a } else { self.normalized(a) };
        self.f("tensor: shift");
        let x = a.t.ex();
        Some(E {
            s: format!("({} {} {k})", a.s, if left { "<<" } else { ">>" }),
            t: T::Ex(Ex {
                m: if left { x.m + k as i32 } else { x.m },
                ..x
            }),
        })
    }

    /// An elementwise `+`, `-` or `*` of f32 tensors, or of a tensor and a literal.
    fn tex_f32(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        let a = self.tex(env, shape, Kind::F32, d)?;
        let b = match self.rng.weighted(&[40, 15, 8, 37]) {
            0 => self.f32_lit(),
            1 => self.broadcast_operand(env, shape, Kind::F32, d)?,
            2 => match self.list_literal(shape, true) {
                Some(l) => l,
                None => self.tex(env, shape, Kind::F32, d)?,
            },
            _ => self.tex(env, shape, Kind::F32, d)?,
        };
        let op = self.rng.pick(&["+", "-", "*"]);
        self.f("tensor: f32 elementwise");
        let (x, y) = match (a.t, b.t) {
            (T::F32(x), T::F32(y)) => (x, y),
            _ => return None,
        };
        Some(self.fit(E {
            s: format!("({} {op} {})", a.s, b.s),
            t: f32_arith_model(op, x, y),
        }))
    }

    /// An elementwise `+`, `-` or `*` of an f64 tensor and an f64 or f32 tensor (promoted)
    /// or a literal.
    fn tex_f64(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        let a = self.tex(env, shape, Kind::F64, d)?;
        let b = match self.rng.below(3) {
            0 => self.f64_lit(),
            1 => self.tex(env, shape, Kind::F32, d)?,
            _ => self.tex(env, shape, Kind::F64, d)?,
        };
        let op = self.rng.pick(&["+", "-", "*"]);
        self.f("tensor: f64 elementwise");
        let (x, y) = match (a.t, b.t) {
            (T::F64(x), T::F32(y) | T::F64(y)) => (x, y),
            _ => return None,
        };
        let t = match f32_arith_model(op, x, y) {
            T::F32(m) => T::F64(m),
            t => t,
        };
        Some(self.fit(E {
            s: format!("({} {op} {})", a.s, b.s),
            t,
        }))
    }

    /// An elementwise comparison of exact tensors, or `not` of a boolean tensor.
    fn tex_bool(&mut self, env: &mut Env, shape: &[Dim], d: u32) -> Option<E> {
        if self.chance(60) {
            let a = self.tex(env, shape, Kind::Ex, d)?;
            let b = match self.rng.weighted(&[50, 15, 35]) {
                0 => self.int_lit(),
                1 => self.broadcast_operand(env, shape, Kind::Ex, d)?,
                _ => self.tex(env, shape, Kind::Ex, d)?,
            };
            let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
            self.f("tensor: comparison");
            Some(boolean(&a, op, &b))
        } else {
            let a = self.tex(env, shape, Kind::Bool, d)?;
            self.f("tensor: not");
            Some(E {
                s: format!("(not {})", a.s),
                t: T::Bool,
            })
        }
    }

    /// An operand of kind `kind` that numpy broadcasts to `shape`: of `shape`'s last
    /// dimensions only (`a[N, M] + b[M]`), or with some dimensions of length 1
    /// (`a[N, M] * c[N, 1]`).
    fn broadcast_operand(&mut self, env: &mut Env, shape: &[Dim], kind: Kind, d: u32) -> Option<E> {
        let mut bshape: Vec<Dim> = shape.to_vec();
        if bshape.len() > 1 && self.chance(50) {
            let drop = self.rng.range(1, bshape.len() as i64 - 1) as usize;
            bshape.drain(..drop);
            self.f("tensor: broadcast of trailing dimensions");
        } else {
            let k = self.rng.range(0, bshape.len() as i64 - 1) as usize;
            for (i, dim) in bshape.iter_mut().enumerate() {
                if i == k || self.chance(30) {
                    *dim = Dim::lit(1);
                }
            }
            self.f("tensor: broadcast of length-1 dimensions");
        }
        self.tex(env, &bshape, kind, d)
    }

    /// A list literal as long as `shape`'s last dimension (a constant of at most 6), which
    /// broadcasts to `shape`: small integers, or (`float`) reals with exact binary values.
    fn list_literal(&mut self, shape: &[Dim], float: bool) -> Option<E> {
        let last = shape.last()?;
        if last.base.is_some() || last.text.parse::<i64>().is_err() || last.val > 6 {
            return None;
        }
        let vals: Vec<i64> = (0..last.val).map(|_| self.rng.range(-8, 8)).collect();
        if float {
            self.f("tensor: f32 list literal");
            let items: Vec<String> = vals
                .iter()
                .map(|v| format!("{}", *v as f64 / 4.0))
                .collect();
            return Some(E {
                s: format!("[{}]", items.join(", ")),
                t: T::F32(4),
            });
        }
        self.f("tensor: list literal");
        let items: Vec<String> = vals.iter().map(|v| v.to_string()).collect();
        let m = vals.iter().map(|v| mbits(*v)).max().unwrap_or(0);
        Some(E {
            s: format!("[{}]", items.join(", ")),
            t: T::Ex(Ex {
                m: m + 1,
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
        })
    }
}
