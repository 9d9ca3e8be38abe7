//! Program assembly: module consts, the statements and results of a kernel, and the text
//! of the whole program.

use super::env::{Body, Env, Var};
use super::model::{Cls, Elem, T};
use super::shape::{shape_text, Dim};
use super::{Gen, WIDE_COST};

/// A result of a kernel: its type as written, its model and its shape.
pub(super) struct Ret {
    pub(super) text: String,
    pub(super) t: T,
    pub(super) shape: Option<Vec<Dim>>,
}

/// The text of a kernel: `kernel {head}({params}) -> {result types}:`, the body, and the
/// return of `rets`.
pub(super) fn kernel_text(
    head: &str,
    params: &[String],
    types: &[Ret],
    body: &[String],
    rets: &[String],
) -> String {
    let rt = if types.len() == 1 {
        types[0].text.clone()
    } else {
        let texts: Vec<&str> = types.iter().map(|r| r.text.as_str()).collect();
        format!("({})", texts.join(", "))
    };
    let mut text = format!("kernel {head}({}) -> {rt}:\n", params.join(", "));
    for l in body {
        text.push_str(l);
        text.push('\n');
    }
    text.push_str(&format!("    return {}\n", rets.join(", ")));
    text
}

impl Gen {
    /// Chooses 1..=max results among the kernel's values, preferring recent ones: (return
    /// expressions, result types).
    pub(super) fn results(
        &mut self,
        b: &mut Body,
        helper: bool,
        max: usize,
    ) -> (Vec<String>, Vec<Ret>) {
        let chosen = self.pick_results(b, max);
        if chosen.is_empty() {
            // Nothing computed: return an expression.
            let e = self.ex_exact(&mut b.env, false, 2);
            let ty = self.result_elem();
            self.count_elem(&ty);
            let ret = Ret {
                text: ty.text(),
                t: ty.t(),
                shape: None,
            };
            return (vec![e.s], vec![ret]);
        }
        let mut rets = vec![];
        let mut types = vec![];
        for v in chosen {
            types.push(self.result_type(&b.env, helper, &v));
            rets.push(v.name);
        }
        (rets, types)
    }

    /// Up to `max` distinct values of the kernel, most of them among the last five.
    fn pick_results(&mut self, b: &Body, max: usize) -> Vec<Var> {
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
        chosen
    }

    /// The result type of `v`: its own kind, for exact values a type variable (in a
    /// helper), the inferred element type, or a declared type it converts to.
    fn result_type(&mut self, env: &Env, helper: bool, v: &Var) -> Ret {
        let shape = v.shape.clone();
        let dims = shape
            .as_ref()
            .map(|s| format!("[{}]", shape_text(s)))
            .unwrap_or_default();
        let (text, t) = match v.t {
            T::Bool => (format!("bool{dims}"), T::Bool),
            T::F32(m) => (format!("f32{dims}"), T::F32(m)),
            T::F64(m) => (format!("f64{dims}"), T::F64(m)),
            T::Ex(x) => {
                let integral_ok = x.cls == Cls::Int || !self.avoid("jit-fixed-to-int");
                if helper && !env.tvars.is_empty() && integral_ok && self.chance(35) {
                    // Convert to a type variable.
                    let (tn, tt) = self.rng.pick(&env.tvars);
                    if self.converts_to_tvar(env, &tn, &tt) {
                        self.f("result: type variable T");
                        return Ret {
                            text: format!("{tn}{dims}"),
                            t: tt,
                            shape,
                        };
                    }
                }
                if shape.is_some() && x.m + x.fb.max(0) <= 48 && x.fb >= 0 && self.chance(40) {
                    self.f("result: inferred element type [dims]");
                    (dims, T::Ex(x))
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
        Ret { text, t, shape }
    }

    /// Module consts: `const C1 = 4`.
    fn module_consts(&mut self) {
        for _ in 0..self.rng.weighted(&[70, 25, 5]) {
            let name = self.fresh("C");
            let v = self.rng.range(1, 7);
            self.items.push(format!("const {name} = {v}"));
            self.consts.push(Dim::named(&name, v));
            self.f("item: const");
        }
    }

    /// The source of the whole program: items, helpers and `kernel main`.
    pub(super) fn program(&mut self) -> String {
        if self.avoid("jit-i128-minmax") {
            // Intermediates within 64 bits (mostly).
            self.max_cost = 40;
        } else if self.chance(15) {
            self.max_cost = WIDE_COST;
            self.f("case: wide arithmetic (values over 128 bits)");
        }
        self.module_consts();
        let env = self.main_env();
        let mut b = Body::new(env);
        let n = self.rng.range(3, 9);
        for _ in 0..n {
            self.statement(&mut b);
        }
        let (rets, rtypes) = self.results(&mut b, false, 4);
        if rtypes.len() > 1 {
            self.f("result: several results");
        }
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
        out.push_str(&kernel_text(
            "main",
            &self.main_params,
            &rtypes,
            &b.lines,
            &rets,
        ));
        out
    }
}
