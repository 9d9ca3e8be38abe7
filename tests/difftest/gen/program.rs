//! Program assembly: module items, the inputs of `main`, its statements, its results,
//! and the text of the whole program.

use super::env::{Body, Env, Var};
use super::model::{narrow, Cls, Elem, T};
use super::shape::{shape_text, Dim};
use super::{Gen, WIDE_COST};

impl Gen {
    /// Chooses 1..=max results among the kernel's values, preferring recent ones:
    /// (return expressions, (result type text, model, shape)).
    #[allow(clippy::type_complexity)]
    pub(super) fn results(
        &mut self,
        b: &mut Body,
        helper: bool,
        max: usize,
    ) -> (Vec<String>, Vec<(String, T, Option<Vec<Dim>>)>) {
        let cands: Vec<Var> = b
            .env
            .vars
            .iter()
            .filter(|v| v.local && v.readable)
            .cloned()
            .collect();
        let n = self.rng.range(1, max.min(cands.len()).max(1) as i64) as usize;
        let mut chosen: Vec<Var> = Vec::new();
        for _ in 0..n * 2 {
            if chosen.len() == n || cands.is_empty() {
                break;
            }
            // Prefer the most recent values.
            let k = cands.len() - 1 - self.rng.below(cands.len().min(5));
            let v = cands[k].clone();
            if !chosen.iter().any(|c| c.name == v.name) {
                chosen.push(v);
            }
        }
        if chosen.is_empty() {
            // Nothing computed: return an expression.
            let e = self.ex_exact(&mut b.env, false, 2);
            let ty = self.result_elem();
            self.count_elem(&ty);
            return (vec![e.s], vec![(ty.text(), ty.t(), None)]);
        }
        let mut rets = vec![];
        let mut types = vec![];
        for v in chosen {
            let shape = v.shape.clone();
            let dims = shape
                .as_ref()
                .map(|s| format!("[{}]", shape_text(s)))
                .unwrap_or_default();
            let tvar = b
                .env
                .tvars
                .iter()
                .find(|(n, _)| v.decl.as_ref().is_some_and(|d| d.text == *n))
                .cloned();
            let (text, t) = match v.t {
                T::Bool => (format!("bool{dims}"), T::Bool),
                T::F32(m) => (format!("f32{dims}"), T::F32(m)),
                T::Ex(x) => {
                    let integral_ok = x.cls == Cls::Int || !self.avoid("jit-fixed-to-int");
                    if helper && !b.env.tvars.is_empty() && integral_ok && self.chance(35) {
                        // Convert to a type variable.
                        let (tn, tt) = self.rng.pick(&b.env.tvars);
                        let narrow_bad = self.avoid("jit-narrow-quant");
                        let int_bad =
                            self.avoid("jit-signed-to-uint") && b.env.tv_int.contains(&tn);
                        if matches!(tt, T::Ex(_)) && !(narrow_bad && narrow(&tt)) && !int_bad {
                            self.f("result: type variable T");
                            types.push((format!("{tn}{dims}"), tt, shape.clone()));
                            rets.push(v.name.clone());
                            continue;
                        }
                    }
                    let _ = tvar;
                    if shape.is_some() && x.m + x.fb.max(0) <= 48 && x.fb >= 0 && self.chance(40) {
                        self.f("result: inferred element type [dims]");
                        (dims.clone(), T::Ex(x))
                    } else {
                        let mut e = self.result_elem();
                        if x.cost() > 40 && self.avoid("jit-i128-minmax") {
                            if let Elem::Fixed {
                                modes: Some((_, o, _)),
                                ..
                            } = &mut e
                            {
                                if *o == 1 || *o == 3 {
                                    *o = 0;
                                }
                            }
                        }
                        self.count_elem(&e);
                        self.f("result: declared type (conversion)");
                        (format!("{}{dims}", e.text()), e.t())
                    }
                }
            };
            types.push((text, t, shape));
            rets.push(v.name.clone());
        }
        (rets, types)
    }

    pub(super) fn program(&mut self) -> String {
        if self.avoid("jit-i128-minmax") {
            // Intermediates within 64 bits (mostly).
            self.max_cost = 40;
        } else if self.chance(15) {
            self.max_cost = WIDE_COST;
            self.f("case: wide arithmetic (values over 128 bits)");
        }
        // Module consts.
        for _ in 0..self.rng.weighted(&[70, 25, 5]) {
            let name = self.fresh("C");
            let v = self.rng.range(1, 7);
            self.items.push(format!("const {name} = {v}"));
            self.consts.push(Dim::named(&name, v));
            self.f("item: const");
        }
        // Main's inputs.
        let mut env = Env::new();
        env.ints.extend(self.consts.clone());
        let ninputs = self.rng.range(1, 3);
        for _ in 0..ninputs {
            let shape = self.random_shape();
            let elem = match self.rng.weighted(&[76, 14, 10]) {
                0 => self.exact_elem(),
                1 => Elem::F32,
                _ => Elem::Bool,
            };
            let v = self.add_input(elem, Some(shape));
            env.vars.push(v);
        }
        if self.chance(40) {
            let elem = match self.rng.weighted(&[70, 15, 15]) {
                0 => self.exact_elem(),
                1 => Elem::F32,
                _ => Elem::Bool,
            };
            let v = self.add_input(elem, None);
            self.f("input: scalar");
            env.vars.push(v);
        }
        if self.chance(25) {
            let shape: Vec<i64> = self.random_shape().iter().map(|d| d.val).collect();
            let p = self.new_param(&shape, false);
            env.vars.push(Var { local: false, ..p });
        }
        if self.chance(10) {
            let name = self.fresh("sc");
            let e = self.fixed_elem();
            let ty = self.ty_of(e);
            let lit = self.rng.pick(&["0.75", "-1.5", "3", "0.1"]);
            self.items
                .push(format!("param {name}: {} = {lit}", ty.text));
            self.f("item: scalar param");
            let v = Var {
                name,
                t: ty.t,
                shape: None,
                decl: Some(ty),
                store: false,
                assign: false,
                readable: true,
                local: false,
            };
            self.globals.push(v.clone());
            env.vars.push(v);
        }
        let mut b = Body::new(env);
        let n = self.rng.range(3, 9);
        for _ in 0..n {
            self.statement(&mut b);
        }
        let (rets, rtypes) = self.results(&mut b, false, 4);
        let rt = if rtypes.len() == 1 {
            rtypes[0].0.clone()
        } else {
            self.f("result: several results");
            format!(
                "({})",
                rtypes
                    .iter()
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut out = String::new();
        if !self.imports.is_empty() {
            let names: Vec<&str> = self.imports.iter().copied().collect();
            out.push_str(&format!("from stdlib.nn import {}\n", names.join(", ")));
        }
        for it in &self.items {
            out.push_str(it);
            out.push('\n');
        }
        out.push('\n');
        for h in &self.helpers {
            out.push_str(h);
            out.push('\n');
        }
        out.push_str(&format!(
            "kernel main({}) -> {rt}:\n",
            self.main_params.join(", ")
        ));
        for l in &b.lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!("    return {}\n", rets.join(", ")));
        out
    }
}
