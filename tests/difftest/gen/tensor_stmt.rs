//! Statements that define a whole tensor at once (comprehensions, whole-tensor arithmetic,
//! `map(lambda ...)`) and the shapes of new tensors.

use super::env::{Body, Env, Var, Win};
use super::loops::LoopHeader;
use super::model::{Kind, W};
use super::shape::{numel, Dim};
use super::Gen;

impl Gen {
    /// A shape for a new tensor: one of an existing tensor, or a random one.
    pub(super) fn pick_shape(&mut self, env: &Env) -> Vec<Dim> {
        let ts = env.tensors(None);
        if !ts.is_empty() && self.chance(60) {
            let v = self.rng.pick(&ts);
            return v.shape.unwrap();
        }
        self.random_shape()
    }

    /// A random shape of rank 1 to 3, with lengths or module consts.
    pub(super) fn random_shape(&mut self) -> Vec<Dim> {
        let rank = self.rng.weighted(&[45, 40, 15]) + 1;
        let mut s = Vec::new();
        for _ in 0..rank {
            let v = self.rng.range(1, if rank == 3 { 5 } else { 8 });
            if !self.consts.is_empty() && self.chance(15) {
                let c = self.rng.pick(&self.consts);
                s.push(c);
            } else {
                s.push(Dim::lit(v));
            }
        }
        s
    }

    /// `t = [e for i, j in grid(...)]` or `[e for i in range(lo, hi, step)]`.
    pub(super) fn st_comprehension(&mut self, b: &mut Body) {
        let name = self.fresh("t");
        let (h, shape) = if self.chance(75) {
            let shape = self.pick_shape(&b.env);
            (self.full_loop(&shape, true), shape)
        } else {
            let lo = self.rng.range(-2, 3);
            let step = self.rng.range(1, 3);
            let n = self.rng.range(1, 8);
            let hi = lo + (n - 1) * step + 1;
            let v = self.fresh_loop();
            self.f("comprehension: range(lo, hi, step)");
            let range = format!("range({lo}, {hi}, {step})");
            let h = LoopHeader::range(v, range, lo, lo + (n - 1) * step, n);
            (h, vec![Dim::lit(n)])
        };
        let n0 = b.env.loops.len();
        b.env.loops.extend(h.vars);
        let old = b.env.trips;
        b.env.trips *= numel(&shape);
        let e = self.ex_any(&mut b.env, 3);
        b.env.loops.truncate(n0);
        b.env.trips = old;
        self.f("stmt: comprehension");
        b.line(format!("{name} = [{} for {}]", e.s, h.text));
        b.env
            .vars
            .push(Var::value(name, e.t.not_lit(), Some(shape)));
    }

    /// `t = a[0:4] * 2 + b[1:5]`: whole-tensor arithmetic.
    pub(super) fn st_whole(&mut self, b: &mut Body) {
        let ts = b.env.tensors(None);
        if ts.is_empty() {
            return;
        }
        let v = self.rng.pick(&ts);
        let full = v.shape.clone().unwrap();
        // A sub-shape: trailing dims, each possibly shortened.
        let r = self.rng.range(1, full.len() as i64) as usize;
        let mut shape: Vec<Dim> = full[full.len() - r..].to_vec();
        for d in shape.iter_mut() {
            if d.val > 1 && self.chance(30) {
                let c = self.rng.range(1, d.val - 1);
                *d = d.plus(-c);
            }
        }
        let kind = match v.t.kind() {
            Kind::Bool if self.chance(50) => Kind::Ex,
            k => k,
        };
        let Some(e) = self.tex(&mut b.env, &shape, kind, 3) else {
            return;
        };
        let name = self.fresh("w");
        self.f("stmt: whole-tensor assignment");
        b.line(format!("{name} = {}", e.s));
        b.env
            .vars
            .push(Var::value(name, e.t.not_lit(), Some(shape)));
    }

    /// `t = map(lambda p: ..., x[1:N - 1])`, `map(lambda a, b: ..., x, y)`.
    pub(super) fn st_map(&mut self, b: &mut Body) {
        let ts: Vec<Var> = b
            .env
            .tensors(None)
            .into_iter()
            .filter(|v| v.t.kind() != Kind::Bool || self.rng.chance(20))
            .collect();
        if ts.is_empty() {
            return;
        }
        let x = self.rng.pick(&ts);
        let xs = x.shape.clone().unwrap();
        // Window radii and the interior slice.
        let mut radius = vec![];
        let mut parts = vec![];
        let mut shape = vec![];
        let windowed = self.chance(60);
        for d in &xs {
            let r = if windowed {
                self.rng.range(0, 1.min((d.val - 1) / 2))
            } else {
                0
            };
            radius.push(r);
            if r == 0 && self.chance(60) {
                parts.push(":".to_string());
                shape.push(d.clone());
            } else if r > 0 && d.base.is_none() && d.val - 2 * r > 1 && self.chance(30) {
                // A strided interior: window offsets stay in the underlying tensor.
                let len = (d.val - 2 * r + 1) / 2;
                parts.push(format!("{r}:{}:2", d.plus(-r).text));
                shape.push(Dim::lit(len));
                self.f("map: strided windowed operand");
            } else {
                let len = d.val - 2 * r;
                let lo = r;
                let hi = d.plus(-r);
                parts.push(format!("{lo}:{}", hi.text));
                shape.push(Dim::lit(len).with_base(d, -2 * r));
            }
        }
        let ops = if self.chance(30) { 2 } else { 1 };
        let mut operands = vec![if parts.iter().all(|p| p == ":") {
            x.name.clone()
        } else {
            format!("{}[{}]", x.name, parts.join(", "))
        }];
        let mut wins = vec![Win {
            name: "p".into(),
            t: x.t,
            radius: if windowed { radius.clone() } else { vec![] },
        }];
        if ops == 2 {
            let others: Vec<Var> = ts
                .iter()
                .filter(|v| v.shape.as_ref().unwrap().len() >= shape.len())
                .cloned()
                .collect();
            let y = self.rng.pick(&others);
            if let Some(vy) = self.view_as(&b.env, &y, &shape) {
                operands.push(vy);
                wins.push(Win {
                    name: "q".into(),
                    t: y.t,
                    radius: vec![],
                });
            }
        }
        let mut env = Env::new();
        env.windows = wins.clone();
        env.in_lambda = true;
        env.generic = b.env.generic;
        env.tvars = b.env.tvars.clone();
        let w = match x.t.kind() {
            Kind::F32 if self.chance(80) => W::F32,
            Kind::F64 if self.chance(80) => W::F64,
            Kind::Bool => W::Bool,
            _ => {
                if self.chance(85) {
                    W::Ex
                } else {
                    W::Bool
                }
            }
        };
        let e = self.ex(&mut env, w, 3);
        let params: Vec<String> = wins.iter().map(|w| w.name.clone()).collect();
        let name = self.fresh("m");
        self.f("stmt: map(lambda ...)");
        if windowed {
            self.f("map: windowed operand");
        }
        if wins.len() > 1 {
            self.f("map: two operands");
        }
        b.line(format!(
            "{name} = map(lambda {}: {}, {})",
            params.join(", "),
            e.s,
            operands.join(", ")
        ));
        b.env.vars.push(Var::value(name, e.t, Some(shape)));
    }
}
