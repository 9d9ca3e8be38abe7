//! Helper functions (`def`) of one or two scalars, inlined by the parser.

use super::env::{Body, Env, Var};
use super::model::{Ex, T};
use super::Gen;

impl Gen {
    /// A helper function (`def`) of one or two scalars, called where a scalar is
    /// assigned (the parser inlines it): its body is an expression of its parameters,
    /// generated with the arguments' models, so the result has the body's model.
    pub(super) fn st_def(&mut self, b: &mut Body) {
        if b.env.in_lambda {
            return;
        }
        let nparams = self.rng.range(1, 2) as usize;
        let mut args = Vec::new();
        for _ in 0..nparams {
            let a = self.ex_exact(&mut b.env, false, 2);
            if a.t.ex().lit {
                // A literal argument takes its class from the helper's body: not modelled.
                return;
            }
            args.push(a);
        }
        let dname = self.fresh("d");
        let mut henv = Env::new();
        let mut params = Vec::new();
        for (k, a) in args.iter().enumerate() {
            let p = format!("{dname}_p{k}");
            henv.vars.push(Var {
                local: false,
                ..Var::value(p.clone(), a.t, None)
            });
            params.push(p);
        }
        let e = self.ex_exact(&mut henv, false, 2);
        let local = if self.chance(40) {
            // A local of the helper, substituted where it is used.
            let l = format!("{dname}_t");
            Some((l.clone(), format!("    {l} = {}", e.s)))
        } else {
            None
        };
        let ret = match &local {
            Some((l, _)) => format!("{l} + 0"),
            None => e.s.clone(),
        };
        let mut text = format!("def {dname}({}):\n", params.join(", "));
        if let Some((_, line)) = &local {
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("    return {ret}\n"));
        self.helpers.push(text);
        let s = self.fresh("s");
        let call_args: Vec<String> = args.iter().map(|a| a.s.clone()).collect();
        b.line(format!("{s} = {dname}({})", call_args.join(", ")));
        self.f("stmt: helper function (def) call");
        let t = match e.t {
            T::Ex(x) => T::Ex(Ex { m: x.m + 1, ..x }),
            t => t,
        };
        self.new_scalar(b, s, t, None);
    }
}
