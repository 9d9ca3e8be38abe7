//! Exact expressions: the choice of a kind, the leaves (literals, variables, elements,
//! lambda parameters) and the operators of exact values.

use super::env::{Env, Var, Win};
use super::model::{join_cls, join_t, mbits, narrow, Cls, Elem, Ex, Kind, E, T, W};
use super::Gen;

impl Gen {
    pub(super) fn ex(&mut self, env: &mut Env, w: W, depth: u32) -> E {
        let e = match w {
            W::Ex | W::Int => self.ex_exact(env, w == W::Int, depth),
            W::F32 => self.ex_f32(env, depth),
            W::Bool => self.ex_bool(env, depth),
        };
        debug_assert!(w != W::Int || e.t.is_int(), "{w:?} {e:?}");
        e
    }

    /// A random expression of a random kind (mostly exact).
    pub(super) fn ex_any(&mut self, env: &mut Env, depth: u32) -> E {
        match self.rng.weighted(&[70, 18, 12]) {
            0 => self.ex_exact(env, false, depth),
            1 => self.ex_f32(env, depth),
            _ => self.ex_bool(env, depth),
        }
    }

    pub(super) fn leaf_exact(&mut self, env: &mut Env, int: bool) -> E {
        let scalars: Vec<Var> = env
            .scalars(Kind::Ex)
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .collect();
        let tensors: Vec<Var> = env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .collect();
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::Ex(x) if !int || x.cls == Cls::Int))
            .cloned()
            .collect();
        let weights = [
            10,                                        // int literal
            if int { 0 } else { 6 },                   // real literal
            if env.loops.is_empty() { 0 } else { 14 }, // loop variable
            if env.ints.is_empty() || env.in_lambda {
                0
            } else {
                3
            }, // size / const
            if scalars.is_empty() { 0 } else { 18 },   // scalar
            if tensors.is_empty() { 0 } else { 30 },   // element
            if wins.is_empty() { 0 } else { 60 },      // lambda parameter
        ];
        match self.rng.weighted(&weights) {
            0 => self.int_lit(),
            1 => self.real_lit(),
            2 => {
                let v = self.rng.pick(&env.loops);
                self.f("expr: loop variable as value");
                E {
                    s: v.name.clone(),
                    t: T::Ex(Ex {
                        m: mbits(v.lo).max(mbits(v.hi)),
                        fb: 0,
                        cls: Cls::Int,
                        lit: false,
                    }),
                }
            }
            3 => {
                let d = self.rng.pick(&env.ints);
                self.f("expr: size or const as value");
                E {
                    s: d.text.clone(),
                    t: T::Ex(Ex {
                        m: mbits(d.val),
                        fb: 0,
                        cls: Cls::Int,
                        // Constants are folded like literals.
                        lit: true,
                    }),
                }
            }
            4 => {
                let v = self.rng.pick(&scalars);
                E {
                    s: v.name.clone(),
                    t: v.t,
                }
            }
            5 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            _ => {
                let win = self.rng.pick(&wins);
                self.window_read(&win)
            }
        }
    }

    pub(super) fn window_read(&mut self, win: &Win) -> E {
        if win.radius.is_empty() || self.chance(20) {
            return E {
                s: win.name.clone(),
                t: win.t,
            };
        }
        let offs: Vec<String> = win
            .radius
            .iter()
            .map(|&r| self.rng.range(-r, r).to_string())
            .collect();
        self.f("expr: map window read p[o]");
        E {
            s: format!("{}[{}]", win.name, offs.join(", ")),
            t: win.t,
        }
    }

    pub(super) fn read_element(&mut self, env: &Env, v: &Var) -> E {
        let (s, guard) = self.element(env, v);
        match guard {
            None => E { s, t: v.t },
            Some(g) => {
                let zero = match v.t {
                    T::Bool => "False",
                    T::F32(_) => "0.0",
                    T::Ex(_) => "0",
                };
                self.f("expr: guarded read (conditional expression)");
                E {
                    s: format!("({s} if {g} else {zero})"),
                    t: match v.t {
                        T::Ex(x) => T::Ex(Ex { m: x.m.max(0), ..x }),
                        t => t,
                    },
                }
            }
        }
    }

    pub(super) fn ex_exact(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        if depth == 0 || self.chance(22) {
            let e = self.leaf_exact(env, int);
            return self.fit(e);
        }
        let lam = env.in_lambda;
        let nr = self.no_nested_reduce(env);
        let weights = [
            22,                                               // 0 + -
            14,                                               // 1 *
            3,                                                // 2 unary -
            4,                                                // 3 abs
            6,                                                // 4 min / max
            8,                                                // 5 conversion
            5,                                                // 6 conditional
            if int { 0 } else { 5 },                          // 7 /
            5,                                                // 8 // %
            5,                                                // 9 shifts
            5,                                                // 10 bitwise
            if lam || env.trips > 400 || nr { 0 } else { 6 }, // 11 reduction over a generator
            if lam || nr { 0 } else { 3 },                    // 12 dot / sum of a tensor
            2,                                                // 13 from bool
            if int { 1 } else { 3 },                          // 14 from f32
            if env.tvars.is_empty() || int { 0 } else { 4 },  // 15 T(e)
            if int { 0 } else { 3 },                          // 16 lookup table
        ];
        let e = match self.rng.weighted(&weights) {
            0 => {
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                let op = if self.chance(55) { "+" } else { "-" };
                self.f(format!("op: {op}"));
                let (x, y) = (a.t.ex(), b.t.ex());
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Ex(Ex {
                        m: x.m.max(y.m) + 1,
                        fb: x.fb.max(y.fb),
                        cls: join_cls(x.cls, y.cls),
                        lit: x.lit && y.lit,
                    }),
                }
            }
            1 => {
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                self.f("op: *");
                let (x, y) = (a.t.ex(), b.t.ex());
                E {
                    s: format!("({} * {})", a.s, b.s),
                    t: T::Ex(Ex {
                        m: x.m + y.m,
                        fb: x.fb + y.fb,
                        cls: join_cls(x.cls, y.cls),
                        lit: x.lit && y.lit,
                    }),
                }
            }
            2 => {
                let a = self.ex_exact(env, int, depth - 1);
                self.f("op: unary -");
                let x = a.t.ex();
                E {
                    s: format!("(-{})", a.s),
                    t: T::Ex(Ex { m: x.m + 1, ..x }),
                }
            }
            3 => {
                let a = self.ex_exact(env, int, depth - 1);
                self.f("op: abs");
                let x = a.t.ex();
                E {
                    s: self.abs_s(&a),
                    t: T::Ex(Ex { m: x.m + 1, ..x }),
                }
            }
            4 => {
                let n = if self.chance(75) { 2 } else { 3 };
                let args: Vec<E> = (0..n)
                    .map(|_| {
                        let a = self.ex_exact(env, int, depth - 1);
                        self.mm(a)
                    })
                    .collect();
                let args = self.mm_all(args);
                let f = if self.chance(50) { "min" } else { "max" };
                self.f(format!("op: {f}(a, b...)"));
                let t = args
                    .iter()
                    .skip(1)
                    .fold(args[0].t, |acc, a| join_t(acc, a.t));
                E {
                    s: format!(
                        "{f}({})",
                        args.iter()
                            .map(|a| a.s.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    t,
                }
            }
            5 => {
                let a = self.ex_exact(env, false, depth - 1);
                self.conversion(a, int)
            }
            6 => {
                let c = self.ex_bool(env, depth - 1);
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                self.f("expr: conditional a if c else b");
                E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            7 => self.fixed_division(env, depth),
            8 => self.floor_div_mod(env, depth),
            9 => self.shift(env, int, depth),
            10 => self.bitwise(env, depth),
            11 => self.reduction(env, W::Ex, int, depth),
            12 => self.tensor_reduction(env, Kind::Ex, int),
            13 => {
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
                E {
                    s: format!("{}({})", ty.text, b.s),
                    t: ty.t,
                }
            }
            16 => self.lookup_table(env, depth),
            14 => {
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
                E {
                    s: format!("{}({})", ty.text, a.s),
                    t: ty.t,
                }
            }
            _ => {
                let narrow_bad = self.avoid("jit-narrow-quant");
                // A type variable bound to an int type may be unsigned: known bug
                // `jit-signed-to-uint`.
                let int_bad = self.avoid("jit-signed-to-uint");
                let exact: Vec<(String, T)> = env
                    .tvars
                    .iter()
                    .filter(|(_, t)| matches!(t, T::Ex(_)) && !(narrow_bad && narrow(t)))
                    .filter(|(n, _)| !(int_bad && env.tv_int.contains(n)))
                    .cloned()
                    .collect();
                if exact.is_empty() {
                    return self.leaf_exact(env, int);
                }
                let (name, t) = self.rng.pick(&exact);
                // T may be an int type: known bug `jit-fixed-to-int`.
                let integral = self.avoid("jit-fixed-to-int");
                let a = self.ex_exact(env, integral, depth - 1);
                self.f("conv: to a type variable T(e)");
                E {
                    s: format!("{name}({})", a.s),
                    t,
                }
            }
        };
        let e = self.fit(e);
        if int && !e.t.is_int() {
            // Only reachable through conversions to a type variable: make it an int.
            let n = self.narrow_elem(true);
            return E {
                s: format!("{}({})", n.text(), e.s),
                t: n.t(),
            };
        }
        e
    }
}
