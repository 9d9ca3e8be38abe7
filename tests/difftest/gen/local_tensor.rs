//! Local tensors with a declared element type: declarations, fill loops, partial updates
//! and region stores.

use super::env::{Body, Var};
use super::model::{want_of, Elem, Kind, Ty};
use super::shape::{numel, shape_text, Dim};
use super::stmt::update_want;
use super::{Gen, MAX_TRIPS};

impl Gen {
    /// A local tensor with a declared element type, filled by a loop nest (or
    /// initialized by its declaration and then partly updated).
    pub(super) fn st_local_tensor(&mut self, b: &mut Body) {
        let shape = self.pick_shape(&b.env);
        if b.env.trips * numel(&shape) > MAX_TRIPS {
            return;
        }
        let kind = self.rng.weighted(&[72, 16, 12]);
        let ty = match kind {
            0 => self.exact_ty(),
            1 => self.ty_of(Elem::F32),
            _ => self.ty_of(Elem::Bool),
        };
        let name = self.fresh("y");
        let init = self.rng.weighted(&[55, 30, 15]);
        let decl = format!("{name}: {}[{}]", ty.text, shape_text(&shape));
        // Initialized by a copy of a tensor (init 2) or else by a scalar (init 1, 2).
        let copy = if init == 2 {
            self.tex(&mut b.env, &shape, ty.t.kind(), 2)
        } else {
            None
        };
        match (init, copy) {
            (0, _) => {
                b.line(decl);
                self.f("stmt: local tensor declaration");
            }
            (_, Some(e)) => {
                b.line(format!("{decl} = {}", e.s));
                self.f("stmt: local tensor copied from a tensor");
            }
            (_, None) => {
                let e = self.ex_for(&mut b.env, &ty.t, 1);
                b.line(format!("{decl} = {}", e.s));
                self.f("stmt: local tensor filled with a scalar");
            }
        }
        b.env.vars.push(Var {
            store: true,
            readable: init != 0,
            ..Var::declared(name.clone(), ty.clone(), Some(shape.clone()))
        });
        if init == 0 {
            self.fill_loop(b, &name, &shape, &ty);
            b.env.var_mut(&name).readable = true;
        }
        // Sometimes more updates of the now readable tensor.
        if self.chance(35) {
            self.update_loop(b, &name, &shape, &ty);
        }
        if self.chance(15) {
            self.region_store(b, &name, &shape, &ty);
        }
    }

    /// A loop nest that writes every element of `name` (unconditionally, or in every
    /// branch of an if/elif/else).
    pub(super) fn fill_loop(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
        let mut nest = b.nest();
        let mut idx = Vec::new();
        if shape.len() > 1 && self.chance(60) {
            let h = self.full_loop(shape, false);
            idx.extend(h.vars.iter().map(|v| v.name.clone()));
            b.enter_loop(&mut nest, h);
        } else {
            for d in shape {
                let h = self.full_loop(std::slice::from_ref(d), false);
                idx.push(h.vars[0].name.clone());
                b.enter_loop(&mut nest, h);
            }
        }
        self.f("stmt: fill loop nest");
        let target = format!("{name}[{}]", idx.join(", "));
        self.loop_body_extras(b);
        if self.chance(25) {
            // if / elif / else, each branch storing.
            let n = self.rng.range(2, 3);
            for k in 0..n {
                let header = if k == 0 {
                    let c = self.ex_bool(&mut b.env, 2);
                    format!("if {}:", c.s)
                } else if k == n - 1 {
                    "else:".into()
                } else {
                    let c = self.ex_bool(&mut b.env, 2);
                    format!("elif {}:", c.s)
                };
                let m = b.open(header);
                let e = self.ex_for(&mut b.env, &ty.t, 3);
                b.line(format!("{target} = {}", e.s));
                b.close(m);
            }
            self.f("stmt: store in every branch");
        } else {
            let e = if ty.t.kind() == Kind::Ex && self.chance(35) {
                self.accumulation(b)
            } else {
                self.ex_for(&mut b.env, &ty.t, 3)
            };
            let e = self.convert_for(e, &ty.t);
            b.line(format!("{target} = {}", e.s));
            self.f("stmt: element store");
        }
        b.leave(nest);
    }

    /// Statements at the top of a loop body: temporaries, conditional updates of
    /// declared scalars of the enclosing scope.
    pub(super) fn loop_body_extras(&mut self, b: &mut Body) {
        if self.chance(30) {
            self.st_scalar(b);
        }
        if self.chance(20) {
            // Update a declared scalar (or an inferred accumulator) of an outer scope.
            let cands: Vec<Var> = b
                .env
                .vars
                .iter()
                .filter(|v| {
                    v.shape.is_none() && v.assign && v.decl.is_some() && v.t.kind() != Kind::Bool
                })
                .cloned()
                .collect();
            if !cands.is_empty() {
                let v = self.rng.pick(&cands);
                let op = self.update_op(v.t, false);
                let w = update_want(op, want_of(&v.t));
                let hide = self.avoid("declared-self-update-e0311");
                if hide {
                    b.env.var_mut(&v.name).readable = false;
                }
                let e = self.ex(&mut b.env, w, 2);
                b.env.var_mut(&v.name).readable = true;
                let e = self.update_operand(op, e);
                let guard = self.chance(40);
                let m = if guard {
                    let c = self.ex_bool(&mut b.env, 1);
                    Some(b.open(format!("if {}:", c.s)))
                } else {
                    None
                };
                let e = match (&v.decl, op) {
                    (Some(ty), "+" | "-") if self.avoid("jit-accumulator-drift") => {
                        format!("{}({})", ty.text, e.s)
                    }
                    _ => e.s.clone(),
                };
                b.line(format!("{} {op}= {e}", v.name));
                self.f(format!("stmt: {op}= on a declared scalar"));
                if let Some(m) = m {
                    b.close(m);
                }
            }
        }
    }

    /// Partial updates of a readable local tensor: triangular loops, guarded stores,
    /// reads of the tensor itself (prefix sums).
    pub(super) fn update_loop(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
        let mut nest = b.nest();
        let mut idx = vec![];
        for (k, d) in shape.iter().enumerate() {
            let h = if k == 0 || self.chance(50) {
                self.full_loop(std::slice::from_ref(d), false)
            } else {
                self.range_loop(&b.env, true)
            };
            idx.push(h.vars[0].clone());
            b.enter_loop(&mut nest, h);
        }
        self.f("stmt: update loop over a written tensor");
        // Indices: the loop variable if provably in bounds, else an affine index.
        let mut parts = vec![];
        let mut guards = vec![];
        for (d, v) in shape.iter().zip(&idx) {
            if v.lo >= 0 && v.hi < d.val && self.chance(70) {
                parts.push(v.name.clone());
            } else {
                let (i, g) = self.index(&b.env, d);
                parts.push(i);
                guards.extend(g);
            }
        }
        let m = if !guards.is_empty() {
            Some(b.open(format!("if {}:", guards.join(" and "))))
        } else if self.chance(20) {
            let c = self.ex_bool(&mut b.env, 2);
            Some(b.open(format!("if {}:", c.s)))
        } else {
            None
        };
        // Known bug `declared-tensor-self-update`: values stored into a declared tensor
        // that depend on the tensor itself (in a loop) get a wrong inferred range.
        let self_ref = !self.avoid("declared-tensor-self-update");
        if !self_ref {
            b.env.var_mut(name).readable = false;
        }
        let e = self.ex_for(&mut b.env, &ty.t, 3);
        b.env.var_mut(name).readable = true;
        let op = if ty.t.kind() != Kind::Bool && self_ref && self.chance(30) {
            "+"
        } else {
            ""
        };
        let e = if op.is_empty() {
            e
        } else {
            self.convert_for(e, &ty.t)
        };
        b.line(format!("{name}[{}] {op}= {}", parts.join(", "), e.s));
        if !op.is_empty() {
            self.f("stmt: element += ");
        }
        if let Some(m) = m {
            b.close(m);
        }
        if self.chance(12) {
            // Leave the innermost loop, or skip to its next iteration, on a condition.
            let jump = self.conditional_jump(b);
            self.f(format!("stmt: {jump}"));
        }
        b.leave(nest);
    }

    /// `y[k, :, 1:3] = e`: a region store of a scalar or a tensor of the region's shape.
    pub(super) fn region_store(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
        let mut parts = vec![];
        let mut region = vec![];
        for d in shape {
            match self.rng.below(3) {
                0 => {
                    parts.push(self.rng.range(0, d.val - 1).to_string());
                }
                1 => {
                    parts.push(":".into());
                    region.push(d.clone());
                }
                _ => {
                    let len = self.rng.range(1, d.val);
                    let lo = self.rng.range(0, d.val - len);
                    parts.push(format!("{lo}:{}", lo + len));
                    region.push(Dim::lit(len));
                }
            }
        }
        let hide = self.avoid("declared-tensor-self-update");
        if hide {
            b.env.var_mut(name).readable = false;
        }
        let e = if !region.is_empty() && self.chance(50) {
            self.tex(&mut b.env, &region, ty.t.kind(), 2)
        } else {
            None
        };
        let e = match e {
            Some(e) => e,
            None => self.ex_for(&mut b.env, &ty.t, 2),
        };
        b.env.var_mut(name).readable = true;
        self.f("stmt: region store y[k, :, a:b] = e");
        b.line(format!("{name}[{}] = {}", parts.join(", "), e.s));
    }
}
