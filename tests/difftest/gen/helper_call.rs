//! Calls of generated generic helper kernels: type variables, size variables, const
//! parameters, several results.

use super::env::{Body, Env, Var};
use super::model::{maybe_int, Cls, Elem, Ex, Kind, E, T};
use super::program::{kernel_text, Ret};
use super::shape::{shape_text, Dim};
use super::Gen;

/// Binds type variable `name` of a helper to `t`, for an argument of model `arg`.
fn bind_type_var(henv: &mut Env, name: &str, arg: &T, t: T) {
    henv.tvars.push((name.to_string(), t));
    if maybe_int(arg) {
        henv.tv_int.push(name.to_string());
    }
}

impl Gen {
    /// A call of a generated generic helper kernel.
    pub(super) fn st_call_helper(&mut self, b: &mut Body) {
        if self.helper_budget == 0 || b.env.generic {
            return;
        }
        let ts: Vec<Var> = b
            .env
            .tensors(None)
            .into_iter()
            .filter(|v| v.t.kind() != Kind::Bool)
            .collect();
        if ts.is_empty() {
            return;
        }
        self.helper_budget -= 1;
        let nargs = self.rng.range(1, 2.min(ts.len() as i64)) as usize;
        let mut args: Vec<Var> = Vec::new();
        for _ in 0..nargs {
            let v = self.rng.pick(&ts);
            if !args.iter().any(|a| a.name == v.name) {
                args.push(v);
            }
        }
        let scalar_arg = if self.chance(30) {
            let e = self.ex_exact(&mut b.env, false, 1);
            Some(e)
        } else {
            None
        };
        let hname = self.fresh("h");
        // The helper's signature: a type variable per tensor argument (or a concrete
        // declared type, converting the argument), size variables per distinct value.
        let mut henv = Env::new();
        henv.generic = true;
        let mut params = self.tensor_params(&mut henv, &args);
        if let Some(e) = &scalar_arg {
            let t = match e.t {
                T::Ex(x) => T::Ex(Ex {
                    cls: Cls::Gen,
                    lit: false,
                    ..x
                }),
                t => t,
            };
            bind_type_var(&mut henv, "S", &e.t, t);
            params.push("a: S".into());
            henv.vars.push(Var::value("a".into(), t, None));
        }
        let const_param = if self.chance(25) {
            let v = self.rng.range(1, 3);
            henv.ints.push(Dim::size("K", v));
            params.push(format!("K: const = {v}"));
            self.f("call: const parameter");
            Some(v)
        } else {
            None
        };
        let rtypes = self.helper_kernel(&hname, henv, &params);
        let mut call_args: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
        call_args.extend(scalar_arg.map(|e: E| e.s));
        if let Some(v) = const_param {
            match self.rng.below(3) {
                0 => {}
                1 => call_args.push(format!("K={}", v)),
                _ => call_args.push(v.to_string()),
            }
        }
        self.call_results(b, &format!("{hname}({})", call_args.join(", ")), rtypes);
    }

    /// The tensor parameters `x0`, `x1`... of a helper called with `args`: their
    /// declarations, bound in `henv`.
    fn tensor_params(&mut self, henv: &mut Env, args: &[Var]) -> Vec<String> {
        let mut sizes: Vec<(i64, String)> = Vec::new();
        let mut params = vec![];
        for (k, a) in args.iter().enumerate() {
            let mut dims = vec![];
            for d in a.shape.as_ref().unwrap() {
                if self.chance(12) {
                    dims.push(Dim::lit(d.val));
                    continue;
                }
                // A size variable per distinct length.
                let n = match sizes.iter().find(|(v, _)| *v == d.val) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = format!("N{}", sizes.len());
                        sizes.push((d.val, n.clone()));
                        henv.ints.push(Dim::size(&n, d.val));
                        n
                    }
                };
                dims.push(Dim::size(&n, d.val));
            }
            let (etext, t) = if self.chance(75) {
                let tv = ["T", "U", "V"][henv.tvars.len()];
                let t = match a.t {
                    T::Ex(x) => T::Ex(Ex { cls: Cls::Gen, ..x }),
                    t => t,
                };
                bind_type_var(henv, tv, &a.t, t);
                (tv.to_string(), t)
            } else {
                self.concrete_param_type(a)
            };
            let pname = format!("x{k}");
            params.push(format!("{pname}: {etext}[{}]", shape_text(&dims)));
            henv.vars.push(Var::value(pname, t, Some(dims)));
        }
        params
    }

    /// A concrete element type for the parameter of argument `a`, which converts to it.
    fn concrete_param_type(&mut self, a: &Var) -> (String, T) {
        if a.t.kind() == Kind::F32 {
            return ("f32".to_string(), T::F32(40));
        }
        if a.t.kind() == Kind::F64 {
            return ("f64".to_string(), T::F64(40));
        }
        let mut ty = self.exact_ty();
        if a.t.ex().cost() > 40 && self.avoid("jit-i128-minmax") {
            // Saturating a wide argument clamps in 128-bit arithmetic.
            let e = self.exact_elem();
            let e = self.retarget(e);
            let e = match e {
                Elem::Fixed {
                    signed,
                    w,
                    i,
                    modes: Some((q, 1 | 3, _)),
                } => Elem::Fixed {
                    signed,
                    w,
                    i,
                    modes: Some((q, 0, None)),
                },
                e => e,
            };
            ty = self.ty_of(e);
        }
        self.f("call: argument converts to a declared parameter type");
        (ty.text, ty.t)
    }

    /// Writes helper kernel `hname` with the scope `henv` and parameters `params`: a few
    /// statements and their results, whose types it returns.
    fn helper_kernel(&mut self, hname: &str, mut henv: Env, params: &[String]) -> Vec<Ret> {
        // Module params and consts are visible in the helper too.
        henv.vars.extend(self.globals.iter().cloned().map(|mut g| {
            g.local = false;
            g
        }));
        henv.ints.extend(self.consts.iter().cloned());
        let mut hb = Body::new(henv);
        let n = self.rng.range(1, 4);
        for _ in 0..n {
            self.statement(&mut hb);
        }
        let (rets, rtypes) = self.results(&mut hb, true, 2);
        let tvars: Vec<String> = hb.env.tvars.iter().map(|(n, _)| n.clone()).collect();
        let head = if tvars.is_empty() {
            hname.to_string()
        } else {
            format!("{hname}[{}]", tvars.join(", "))
        };
        let text = kernel_text(&head, params, &rtypes, &hb.lines, &rets);
        self.helpers.push(text);
        rtypes
    }

    /// `c1, c2 = call`: binds the results of a helper call (of types `rtypes`, as seen
    /// from inside the helper) to new names.
    fn call_results(&mut self, b: &mut Body, call: &str, rtypes: Vec<Ret>) {
        let names: Vec<String> = rtypes.iter().map(|_| self.fresh("c")).collect();
        self.f("call: generic helper kernel");
        if names.len() > 1 {
            self.f("call: several results unpacked");
        }
        b.line(format!("{} = {call}", names.join(", ")));
        for (nm, r) in names.into_iter().zip(rtypes) {
            let t = match r.t {
                T::Ex(x) => T::Ex(Ex {
                    cls: if x.cls == Cls::Gen { Cls::Fixed } else { x.cls },
                    ..x
                }),
                t => t,
            };
            let shape = r.shape.map(|s| s.iter().map(|d| d.concrete()).collect());
            b.env.vars.push(Var::value(nm, t, shape));
        }
    }
}
