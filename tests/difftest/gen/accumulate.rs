//! Accumulators (`acc = 0; for ...: acc += e`) and self-updates (`m = max(m, e)`).

use super::env::{Body, Var};
use super::loops::LoopHeader;
use super::model::Kind;
use super::model::{join_t, log2_ceil, Cls, Ex, E, T};
use super::{Gen, MAX_TRIPS};

impl Gen {
    /// `acc = 0; for ...: acc += e` (inferred or declared), returns `acc` to store.
    pub(super) fn accumulation(&mut self, b: &mut Body) -> E {
        let name = self.fresh("acc");
        let declared = self.chance(35);
        let decl = if declared {
            let ty = self.exact_ty();
            b.line(format!("{name}: {} = 0", ty.text));
            self.f("accumulator: declared type");
            Some(ty)
        } else {
            b.line(format!("{name} = 0"));
            self.f("accumulator: inferred (acc = 0)");
            None
        };
        let depth = if self.chance(30) { 2 } else { 1 };
        let mut nest = b.nest();
        let element = self.for_each_loop(b, &mut nest);
        for _ in 0..depth {
            let h = self.range_loop(&b.env, true);
            if b.env.trips * h.trips > MAX_TRIPS {
                break;
            }
            b.enter_loop(&mut nest, h);
        }
        let mut terms_m = 0;
        let mut fb = 0;
        let mut cls = Cls::Int;
        if !nest.is_empty() {
            let e = self.ex_exact(&mut b.env, false, 2);
            let x = e.t.ex();
            terms_m = x.m;
            fb = x.fb;
            cls = x.cls;
            let op = if declared && self.chance(30) {
                "-"
            } else {
                "+"
            };
            // Known bug `jit-accumulator-drift`: the range of a declared accumulator is
            // taken as N times the range of `e`, ignoring that every `+=` rounds to the
            // accumulator's type; an explicit conversion makes the rounding visible.
            let e = match &decl {
                Some(ty) if self.avoid("jit-accumulator-drift") => format!("{}({})", ty.text, e.s),
                _ => e.s.clone(),
            };
            b.line(format!("{name} {op}= {e}"));
            self.f(format!("accumulator: {op}="));
        }
        let trips = b.env.trips / nest.trips.max(1);
        b.leave(nest);
        if let Some(v) = element {
            b.env.vars.retain(|x| x.name != v);
        }
        let t = match &decl {
            Some(ty) => ty.t,
            None => T::Ex(Ex {
                m: terms_m + log2_ceil(trips) + 1,
                fb,
                cls,
                lit: false,
            }),
        };
        self.new_scalar(b, name.clone(), t, decl);
        E { s: name, t }
    }

    /// Sometimes, `for v in x:` over a 1-D tensor of exact values (or over the rows of
    /// a 2-D one, `for r in x:` then `for v in r:`), entered in `nest`: `v` is in scope as
    /// a scalar until the nest is left. Returns its name.
    fn for_each_loop(&mut self, b: &mut Body, nest: &mut super::loops::Nest) -> Option<String> {
        if !self.chance(15) {
            return None;
        }
        let cands: Vec<Var> = b
            .env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| v.shape.as_ref().is_some_and(|s| s.len() <= 2))
            .collect();
        if cands.is_empty() {
            return None;
        }
        let x = self.rng.pick(&cands);
        let shape = x.shape.clone().unwrap();
        let trips: i64 = shape.iter().map(|d| d.val).product();
        if b.env.trips * trips > MAX_TRIPS {
            return None;
        }
        let v = self.fresh("v");
        if shape.len() == 2 {
            let r = self.fresh("r");
            b.enter_loop(nest, LoopHeader::foreach(&r, &x.name, shape[0].val));
            b.enter_loop(nest, LoopHeader::foreach(&v, &r, shape[1].val));
            self.f("loop: for r in x: for v in r (rows of a 2-D tensor)");
        } else {
            b.enter_loop(nest, LoopHeader::foreach(&v, &x.name, shape[0].val));
            self.f("loop: for v in x");
        }
        b.env.vars.push(Var::value(v.clone(), x.t, None));
        b.env.vars.last_mut().unwrap().local = false;
        Some(v)
    }

    /// A top-level accumulation into a scalar: `acc = 0` + a loop nest.
    pub(super) fn st_accumulate(&mut self, b: &mut Body) {
        let _ = self.accumulation(b);
        self.f("stmt: accumulation loop");
    }

    /// `m = x[0]; for i in ...: m = max(m, e)`: a self-update solved by iteration.
    pub(super) fn st_self_update(&mut self, b: &mut Body) {
        let name = self.fresh("mx");
        let init = self.ex_exact(&mut b.env, false, 1);
        let init = self.mm(init);
        let init = self.mm_all(vec![init]).pop().unwrap();
        b.line(format!("{name} = {}", init.s));
        let h = self.range_loop(&b.env, true);
        let mut nest = b.nest();
        b.enter_loop(&mut nest, h);
        let e = self.ex_exact(&mut b.env, false, 2);
        let e = self.mm(e);
        // The self-update's type joins init and e: keep both within 24 bits.
        let e = if matches!(init.t, T::Ex(x) if x.cost() > 28) || e.t.ex().cost() > 28 {
            self.mm_all(vec![e.clone(), e.clone(), init.clone()])
                .swap_remove(0)
        } else {
            e
        };
        let f = self.rng.pick(&["max", "min"]);
        b.line(format!("{name} = {f}({name}, {})", e.s));
        b.leave(nest);
        self.f("stmt: self-update m = max(m, e)");
        let t = join_t(init.t, e.t);
        self.new_scalar(b, name, t, None);
    }
}
