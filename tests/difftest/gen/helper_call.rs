//! Calls of generated generic helper kernels: type variables, size variables, const
//! parameters, several results.

use super::env::{Body, Env, Var};
use super::model::{maybe_int, Cls, Elem, Ex, Kind, T};
use super::shape::{shape_text, Dim};
use super::Gen;

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
        let mut sizes: Vec<(i64, String)> = Vec::new();
        let mut params = vec![];
        let mut henv = Env::new();
        henv.generic = true;
        let mut tv_i = 0;
        for (k, a) in args.iter().enumerate() {
            let shape = a.shape.clone().unwrap();
            let mut dims = vec![];
            for d in &shape {
                if self.chance(12) {
                    dims.push(Dim::lit(d.val));
                    continue;
                }
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
            let generic = self.chance(75);
            let (etext, t) = if generic {
                let tv = ["T", "U", "V"][tv_i].to_string();
                tv_i += 1;
                let t = match a.t {
                    T::Ex(x) => T::Ex(Ex { cls: Cls::Gen, ..x }),
                    t => t,
                };
                henv.tvars.push((tv.clone(), t));
                if maybe_int(&a.t) {
                    henv.tv_int.push(tv.clone());
                }
                (tv, t)
            } else {
                // A concrete type: the argument converts.
                match a.t.kind() {
                    Kind::F32 => ("f32".to_string(), T::F32(40)),
                    _ => {
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
                }
            };
            let pname = format!("x{k}");
            params.push(format!("{pname}: {etext}[{}]", shape_text(&dims)));
            henv.vars.push(Var {
                name: pname,
                t,
                shape: Some(dims),
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
        }
        if let Some(e) = &scalar_arg {
            let t = match e.t {
                T::Ex(x) => T::Ex(Ex {
                    cls: Cls::Gen,
                    lit: false,
                    ..x
                }),
                t => t,
            };
            henv.tvars.push(("S".into(), t));
            if maybe_int(&e.t) {
                henv.tv_int.push("S".into());
            }
            params.push("a: S".into());
            henv.vars.push(Var {
                name: "a".into(),
                t,
                shape: None,
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
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
        let tv = if tvars.is_empty() {
            String::new()
        } else {
            format!("[{}]", tvars.join(", "))
        };
        let rt = if rtypes.len() == 1 {
            rtypes[0].0.clone()
        } else {
            format!(
                "({})",
                rtypes
                    .iter()
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut text = format!("kernel {hname}{tv}({}) -> {rt}:\n", params.join(", "));
        for l in &hb.lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str(&format!("    return {}\n", rets.join(", ")));
        self.helpers.push(text);
        // The call.
        let mut call_args: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
        if let Some(e) = scalar_arg {
            call_args.push(e.s);
        }
        if let Some(v) = const_param {
            match self.rng.below(3) {
                0 => {}
                1 => call_args.push(format!("K={}", v)),
                _ => call_args.push(v.to_string()),
            }
        }
        let names: Vec<String> = rtypes.iter().map(|_| self.fresh("c")).collect();
        self.f("call: generic helper kernel");
        if names.len() > 1 {
            self.f("call: several results unpacked");
        }
        b.line(format!(
            "{} = {hname}({})",
            names.join(", "),
            call_args.join(", ")
        ));
        for (nm, (_, t, shape)) in names.into_iter().zip(rtypes) {
            b.env.vars.push(Var {
                name: nm,
                t: match t {
                    T::Ex(x) => T::Ex(Ex {
                        cls: if x.cls == Cls::Gen { Cls::Fixed } else { x.cls },
                        ..x
                    }),
                    t => t,
                },
                shape: shape.map(|s| s.iter().map(|d| d.concrete()).collect()),
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
        }
    }
}
