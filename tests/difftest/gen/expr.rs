//! Exact expressions: the choice of a kind, the leaves (literals, variables, elements,
//! lambda parameters) and the operators of exact values.

use super::env::{Env, Var, Win};
use super::model::{
    arith_model, join_cls, join_t, log2_ceil, mbits, reduce_model, Cls, Ex, Kind, E, T, W,
};
use super::Gen;

impl Gen {
    /// An expression of what `w` says, of depth at most `depth`.
    pub(super) fn ex(&mut self, env: &mut Env, w: W, depth: u32) -> E {
        let e = match w {
            W::Ex | W::Int => self.ex_exact(env, w == W::Int, depth),
            W::F32 => self.ex_f32(env, depth),
            W::F64 => self.ex_f64(env, depth),
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

    /// A leaf of an exact expression (an integer one when `int`): a literal, a loop
    /// variable, a size or const, a scalar, an element, a lambda parameter.
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
                // Constants are folded like literals.
                E::int_literal(d.text.clone(), d.val)
            }
            4 => self.rng.pick(&scalars).read(),
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

    /// A read of lambda parameter `win`: itself, or a neighbour `p[o...]`.
    pub(super) fn window_read(&mut self, win: &Win) -> E {
        if win.radius.is_empty() || self.chance(20) {
            return E {
                s: win.name.clone(),
                t: win.t,
            };
        }
        if win.radius.iter().any(|&r| r > 0) && win.t.kind() != Kind::Bool && self.chance(30) {
            return self.window_reduction(win);
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

    /// A reduction of a window range of lambda parameter `win` (`sum(p[-1:2, 0])`,
    /// `max(p[-1:1, -1:2])`, `dot(p[0:2], p[-1:1])`): each dimension a range or an offset
    /// within the radius, at least one a range (a dimension of radius 0 takes `0:1`).
    fn window_reduction(&mut self, win: &Win) -> E {
        let mut n = 1;
        let pick = |g: &mut Gen, len_of: &mut Vec<i64>| -> Vec<String> {
            let mut subs = Vec::new();
            for (k, &r) in win.radius.iter().enumerate() {
                let want_range = len_of.get(k).copied();
                let range = want_range.map_or_else(|| g.chance(60), |l| l > 0);
                if range {
                    let len = match want_range {
                        Some(l) => l,
                        None => g.rng.range(1, 2 * r + 1),
                    };
                    let lo = g.rng.range(-r, r + 1 - len);
                    subs.push(format!("{lo}:{}", lo + len));
                    if want_range.is_none() {
                        len_of.push(len);
                    }
                } else {
                    subs.push(g.rng.range(-r, r).to_string());
                    if want_range.is_none() {
                        len_of.push(0);
                    }
                }
            }
            if len_of.iter().all(|&l| l == 0) {
                // No range yet: make the first dimension one.
                subs[0] = format!("{}:{}", -win.radius[0], win.radius[0] + 1);
                len_of[0] = 2 * win.radius[0] + 1;
            }
            subs
        };
        let mut lens = Vec::new();
        let a = pick(self, &mut lens);
        for &l in &lens {
            n *= l.max(1);
        }
        let pa = format!("{}[{}]", win.name, a.join(", "));
        if self.chance(25) {
            let b = pick(self, &mut lens);
            let pb = format!("{}[{}]", win.name, b.join(", "));
            self.f("expr: dot of map windows p[a:b, ...]");
            let t = match win.t {
                T::Ex(x) => T::Ex(Ex {
                    m: 2 * x.m + log2_ceil(n),
                    fb: 2 * x.fb,
                    cls: join_cls(x.cls, x.cls),
                    lit: false,
                }),
                T::F32(m) => T::F32(2 * m + log2_ceil(n)),
                T::F64(m) => T::F64(2 * m + log2_ceil(n)),
                T::Bool => unreachable!(),
            };
            return E {
                s: format!("dot({pa}, {pb})"),
                t,
            };
        }
        let mut op = self.rng.pick(&["sum", "max", "min"]);
        if op != "sum"
            && matches!(win.t, T::Ex(x) if x.cost() > 60)
            && self.avoid("jit-i128-minmax")
        {
            op = "sum";
        }
        self.f(format!("expr: {op}(map window p[a:b, ...])"));
        E {
            s: format!("{op}({pa})"),
            t: reduce_model(op, win.t, n),
        }
    }

    /// A read of an element of tensor `v`, guarded when its index may be out of bounds.
    pub(super) fn read_element(&mut self, env: &Env, v: &Var) -> E {
        let (s, guard) = self.element(env, v);
        match guard {
            None => E { s, t: v.t },
            Some(g) => {
                let zero = match v.t {
                    T::Bool => "False",
                    T::F32(_) | T::F64(_) => "0.0",
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

    /// An exact expression (of class Int when `int`) of depth at most `depth`.
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
            4,                                                // 17 x ** n
            if int { 1 } else { 2 },                          // 18 from f64
        ];
        let e = match self.rng.weighted(&weights) {
            k @ (0 | 1) => self.arith(env, int, depth, k == 1),
            k @ (2 | 3) => self.negation_or_abs(env, int, depth, k == 3),
            4 => self.min_max(env, int, depth),
            5 => {
                let a = self.ex_exact(env, false, depth - 1);
                self.conversion(a, int)
            }
            6 => self.conditional(env, int, depth),
            7 => self.fixed_division(env, depth),
            8 => self.floor_div_mod(env, depth),
            9 => self.shift(env, int, depth),
            10 => self.bitwise(env, depth),
            11 => self.reduction(env, W::Ex, int, depth),
            12 => self.tensor_reduction(env, Kind::Ex, int),
            13 => self.bool_to_exact(env, int, depth),
            14 => self.f32_to_exact(env, int, depth),
            15 => match self.type_var_conversion(env, depth) {
                Some(e) => e,
                None => return self.leaf_exact(env, int),
            },
            16 => self.lookup_table(env, depth),
            17 => {
                let a = self.ex_exact(env, int, depth - 1);
                let max_cost = self.max_cost.min(60);
                match self.exact_power(a.clone(), max_cost) {
                    Some(p) => p,
                    None => a,
                }
            }
            _ => self.f64_to_exact(env, int, depth),
        };
        let e = self.fit(e);
        if int && !e.t.is_int() {
            // Only reachable through conversions to a type variable: make it an int.
            let n = self.narrow_elem(true);
            return E::converted(&n, &e.s);
        }
        e
    }

    /// `a + b`, `a - b` or (`mul`) `a * b`.
    fn arith(&mut self, env: &mut Env, int: bool, depth: u32, mul: bool) -> E {
        let a = self.ex_exact(env, int, depth - 1);
        let b = self.ex_exact(env, int, depth - 1);
        let op = self.arith_op(mul, 55);
        self.f(format!("op: {op}"));
        E {
            s: format!("({} {op} {})", a.s, b.s),
            t: T::Ex(arith_model(op, a.t.ex(), b.t.ex())),
        }
    }

    /// `*` if `mul`, else `+` (with probability `plus` percent) or `-`.
    pub(super) fn arith_op(&mut self, mul: bool, plus: u32) -> &'static str {
        if mul {
            "*"
        } else if self.chance(plus) {
            "+"
        } else {
            "-"
        }
    }

    /// `-a`, or `abs(a)`.
    fn negation_or_abs(&mut self, env: &mut Env, int: bool, depth: u32, abs: bool) -> E {
        let a = self.ex_exact(env, int, depth - 1);
        let x = a.t.ex();
        let s = if abs {
            self.f("op: abs");
            self.abs_s(&a)
        } else {
            self.f("op: unary -");
            format!("(-{})", a.s)
        };
        E {
            s,
            t: T::Ex(Ex { m: x.m + 1, ..x }),
        }
    }

    /// `min(a, b...)` or `max(a, b...)` of two or three values.
    fn min_max(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
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
        let texts: Vec<&str> = args.iter().map(|a| a.s.as_str()).collect();
        E {
            s: format!("{f}({})", texts.join(", ")),
            t,
        }
    }

    /// `a if c else b`.
    fn conditional(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let c = self.ex_bool(env, depth - 1);
        let a = self.ex_exact(env, int, depth - 1);
        let b = self.ex_exact(env, int, depth - 1);
        self.f("expr: conditional a if c else b");
        E {
            s: format!("({} if {} else {})", a.s, c.s, b.s),
            t: join_t(a.t, b.t),
        }
    }
}
