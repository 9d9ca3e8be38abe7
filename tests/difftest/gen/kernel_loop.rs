//! Issue 15's calls and helpers: kernel calls inside loops and branches (a loop-carried
//! declared tensor replaced by a call each iteration, the loop variable passed as a
//! scalar argument), kernels with output parameters called as statements, and helper
//! functions (`def`) whose bodies hold loops and early returns.

use super::env::{Body, Env, LVar, Var};
use super::model::{Elem, Kind, Ty};
use super::shape::{numel, shape_text, Dim};
use super::{Gen, MAX_TRIPS};

impl Gen {
    /// An element expression of a generated kernel over `x0` (of type `ty` and literal
    /// shape `dims`), the loop variables `loops`, `extra` declared values, and, when
    /// `with_a`, a scalar `a: int<8>`.
    fn kernel_elem(
        &mut self,
        ty: &Ty,
        dims: &[Dim],
        with_a: bool,
        loops: Vec<LVar>,
        extra: Vec<Var>,
    ) -> String {
        let mut henv = Env::new();
        henv.vars
            .push(Var::declared("x0".into(), ty.clone(), Some(dims.to_vec())));
        henv.vars.extend(extra);
        if with_a {
            let aty = Ty {
                text: "int<8>".into(),
                t: Elem::Int { signed: true, w: 8 }.t(),
            };
            henv.vars.push(Var::declared("a".into(), aty, None));
        }
        henv.vars.extend(self.globals.iter().cloned().map(|mut g| {
            g.local = false;
            g
        }));
        henv.ints.extend(self.consts.iter().cloned());
        henv.loops.extend(loops);
        henv.trips = numel(dims);
        self.ex_for(&mut henv, &ty.t, 3).s
    }

    /// A declared tensor that a loop replaces with a generated kernel's result at each
    /// iteration (or when a condition holds): `acc = kN(acc, t)`.
    pub(super) fn st_call_in_loop(&mut self, b: &mut Body) {
        if self.helper_budget == 0 || b.env.generic || b.env.nest > 0 || b.env.in_lambda {
            return;
        }
        let shape = self.pick_shape(&b.env);
        let reps = self.rng.range(1, 3);
        if b.env.trips * numel(&shape) * (reps + 1) > MAX_TRIPS {
            return;
        }
        self.helper_budget -= 1;
        let ty = if self.chance(20) {
            self.ty_of(Elem::F32)
        } else {
            self.exact_ty()
        };
        let dims: Vec<Dim> = shape.iter().map(|d| Dim::lit(d.val)).collect();
        let with_a = self.chance(60);
        let h = self.full_loop(&dims, true);
        let header = h.text.clone();
        let e = self.kernel_elem(&ty, &dims, with_a, h.vars, Vec::new());
        let kname = self.fresh("k");
        let dtext = shape_text(&dims);
        let a_param = if with_a { ", a: int<8>" } else { "" };
        self.helpers.push(format!(
            "kernel {kname}(x0: {t}[{dtext}]{a_param}) -> {t}[{dtext}]:\n    return [{e} for {header}]\n",
            t = ty.text
        ));
        // The loop-carried tensor, from a scalar or a copy of a tensor.
        let acc = self.fresh("y");
        let decl = format!("{acc}: {}[{}]", ty.text, shape_text(&shape));
        match self.tex(&mut b.env, &shape, ty.t.kind(), 2) {
            Some(init) if self.chance(50) => b.line(format!("{decl} = {}", init.s)),
            _ => {
                let init = self.ex_for(&mut b.env, &ty.t, 1);
                b.line(format!("{decl} = {}", init.s));
            }
        }
        let lv = self.fresh_loop();
        let m = b.open(format!("for {lv} in range({reps}):"));
        b.env.loops.push(LVar {
            name: lv.clone(),
            lo: 0,
            hi: reps - 1,
        });
        let old_trips = b.env.trips;
        b.env.trips *= reps;
        let arg = if with_a {
            format!(", {lv}")
        } else {
            String::new()
        };
        let call = format!("{acc} = {kname}({acc}{arg})");
        if self.chance(35) {
            let c = self.ex_bool(&mut b.env, 2);
            let mi = b.open(format!("if {}:", c.s));
            b.line(call);
            b.close(mi);
            self.f("call: kernel call under an if inside a loop");
        } else {
            b.line(call);
            self.f("call: kernel call inside a loop");
        }
        b.close(m);
        b.env.loops.pop();
        b.env.trips = old_trips;
        b.env.vars.push(Var {
            store: true,
            ..Var::declared(acc, ty, Some(shape))
        });
    }

    /// A generated kernel that writes an output parameter, called as a statement on a
    /// declared local: `kN(x, out)`; sometimes it also reads it (in/out), keeping the
    /// elements it does not write.
    pub(super) fn st_output_param(&mut self, b: &mut Body) {
        if self.helper_budget == 0 || b.env.generic || b.env.nest > 0 || b.env.in_lambda {
            return;
        }
        let ts: Vec<Var> = b
            .env
            .tensors(None)
            .into_iter()
            .filter(|v| v.t.kind() != Kind::Bool && v.shape.as_ref().is_some_and(|s| s.len() == 1))
            .collect();
        if ts.is_empty() {
            return;
        }
        let src = self.rng.pick(&ts);
        let shape = src.shape.clone().unwrap_or_default();
        if b.env.trips * numel(&shape) * 2 > MAX_TRIPS {
            return;
        }
        self.helper_budget -= 1;
        let n = shape[0].val;
        let ty = if src.t.kind() == Kind::F32 {
            self.ty_of(Elem::F32)
        } else {
            self.exact_ty()
        };
        let kname = self.fresh("k");
        let dims = vec![Dim::lit(n)];
        let inout = self.chance(40);
        // The kernel's input converts to the output's type, so the element expression
        // is of `x0` of that type (and, in/out, of the old value).
        let i = self.fresh_loop();
        let lv = LVar {
            name: i.clone(),
            lo: 0,
            hi: n - 1,
        };
        let e = self.kernel_elem(&ty, &dims, false, vec![lv], Vec::new());
        let mut text = format!(
            "kernel {kname}(x0: {t}[{n}], out: {t}[{n}]):\n",
            t = ty.text
        );
        if inout {
            // Every other element, from the input and the old value.
            let old = if ty.t.kind() == Kind::F32 || self.chance(50) {
                format!("({e}) + out[{i}]")
            } else {
                format!("max({e}, out[{i}])")
            };
            text.push_str(&format!(
                "    for {i} in range(0, {n}, 2):\n        out[{i}] = {old}\n"
            ));
            self.f("output parameter: read and written (unwritten elements kept)");
        } else {
            text.push_str(&format!(
                "    for {i} in range({n}):\n        out[{i}] = {e}\n"
            ));
            self.f("output parameter: written only");
        }
        self.helpers.push(text);
        let out = self.fresh("y");
        let init = self.ex_for(&mut b.env, &ty.t, 1);
        b.line(format!("{out}: {}[{n}] = {}", ty.text, init.s));
        b.line(format!("{kname}({}, {out})", src.name));
        self.f("call: kernel with an output parameter as a statement");
        b.env.vars.push(Var {
            store: true,
            ..Var::declared(out, ty, Some(vec![Dim::lit(n)]))
        });
    }

    /// A generated kernel that returns early from inside a loop (a search), whose
    /// parameter is rebound as a whole first (`x0 = x0`... as Python allows), called
    /// where a scalar is assigned: `s = kN(v)`.
    pub(super) fn st_early_return(&mut self, b: &mut Body) {
        if self.helper_budget == 0 || b.env.generic || b.env.in_lambda || b.env.in_reduce {
            return;
        }
        let ts: Vec<Var> = b
            .env
            .tensors(None)
            .into_iter()
            .filter(|v| v.t.kind() != Kind::Bool && v.shape.as_ref().is_some_and(|s| s.len() == 1))
            .collect();
        if ts.is_empty() {
            return;
        }
        let src = self.rng.pick(&ts);
        let n = src.shape.as_ref().map_or(1, |s| s[0].val);
        if b.env.trips * n * 2 > MAX_TRIPS {
            return;
        }
        self.helper_budget -= 1;
        let ty = if src.t.kind() == Kind::F32 {
            self.ty_of(Elem::F32)
        } else {
            self.exact_ty()
        };
        let i = self.fresh_loop();
        let lv = LVar {
            name: i.clone(),
            lo: 0,
            hi: n - 1,
        };
        let dims = vec![Dim::lit(n)];
        let found = self.kernel_elem(&ty, &dims, false, vec![lv.clone()], Vec::new());
        let otherwise = self.kernel_elem(&ty, &dims, false, Vec::new(), Vec::new());
        let mut henv = Env::new();
        henv.vars
            .push(Var::declared("x0".into(), ty.clone(), Some(dims.clone())));
        henv.loops.push(lv);
        let cond = self.ex_bool(&mut henv, 2);
        let kname = self.fresh("k");
        let rebind = if self.chance(50) {
            self.f("kernel: parameter rebound as a whole");
            "    x0 = x0 * 1\n".to_string()
        } else {
            String::new()
        };
        // `x0 * 1` keeps the declared type (the rebound local has the parameter's type).
        let rebind = if ty.t.kind() == Kind::F32 {
            rebind.replace("x0 * 1", "x0 * 1.0")
        } else {
            rebind
        };
        self.helpers.push(format!(
            "kernel {kname}(x0: {t}[{n}]) -> {t}:\n{rebind}    for {i} in range({n}):\n        if {c}:\n            return {found}\n    return {otherwise}\n",
            t = ty.text,
            c = cond.s
        ));
        self.f("kernel: early return from a loop");
        let s = self.fresh("s");
        b.line(format!("{s} = {kname}({})", src.name));
        self.new_scalar(b, s, ty.t, None);
    }

    /// A helper function with statements: a loop summing a window of a vector argument
    /// (`n` terms), or a clamp with early returns; called where a scalar is assigned.
    pub(super) fn st_def_statements(&mut self, b: &mut Body) {
        if b.env.in_lambda || b.env.in_reduce {
            return;
        }
        let dname = self.fresh("d");
        if b.env.nest == 0 && self.chance(30) {
            // A procedure writing a copy of a vector argument, shifted, into a new local.
            let ts: Vec<Var> = b
                .env
                .tensors(Some(Kind::Ex))
                .into_iter()
                .filter(|v| v.shape.as_ref().is_some_and(|s| s.len() == 1))
                .collect();
            if ts.is_empty() {
                return;
            }
            let v = self.rng.pick(&ts);
            let len = v.shape.as_ref().map_or(1, |s| s[0].val);
            if b.env.trips * len > MAX_TRIPS {
                return;
            }
            let ty = self.exact_ty();
            self.helpers.push(format!(
                "def {dname}(src, dst, n):\n    for q in range(n):\n        dst[q] = src[q] - src[n - 1 - q]\n"
            ));
            let out = self.fresh("y");
            b.line(format!("{out}: {}[{len}]", ty.text));
            b.line(format!("{dname}({}, {out}, {len})", v.name));
            self.f("helper procedure writing a tensor argument");
            b.env.vars.push(Var {
                store: true,
                ..Var::declared(out, ty, Some(vec![Dim::lit(len)]))
            });
        } else if self.chance(50) {
            let ts: Vec<Var> = b
                .env
                .tensors(Some(Kind::Ex))
                .into_iter()
                .filter(|v| v.shape.as_ref().is_some_and(|s| s.len() == 1))
                .collect();
            if ts.is_empty() {
                return;
            }
            let v = self.rng.pick(&ts);
            let len = v.shape.as_ref().map_or(1, |s| s[0].val);
            if b.env.trips * len > MAX_TRIPS {
                return;
            }
            let k = self.rng.range(1, len);
            self.helpers.push(format!(
                "def {dname}(a, n):\n    s = 0\n    for q in range(n):\n        if a[q] > 0:\n            s += a[q]\n        else:\n            s -= a[q]\n    return s\n"
            ));
            let s = self.fresh("s");
            b.line(format!("{s} = {dname}({}, {k})", v.name));
            self.f("helper with a loop and an if");
            let t = super::model::T::Ex(super::model::Ex {
                m: v.t.ex().m + 8,
                ..v.t.ex()
            });
            self.new_scalar(b, s, t, None);
        } else {
            let x = self.ex_exact(&mut b.env, false, 2);
            if x.t.ex().lit {
                return;
            }
            let lo = self.rng.range(-8, 0);
            let hi = self.rng.range(1, 8);
            self.helpers.push(format!(
                "def {dname}(v, lo, hi):\n    if v < lo:\n        return lo\n    elif v > hi:\n        return hi\n    return v\n"
            ));
            let s = self.fresh("s");
            b.line(format!("{s} = {dname}({}, {lo}, {hi})", x.s));
            self.f("helper with early returns");
            let t = super::model::T::Ex(super::model::Ex {
                m: x.t.ex().m.max(4),
                ..x.t.ex()
            });
            self.new_scalar(b, s, t, None);
        }
    }
}
