//! The inputs of `main` (loaded by default, given on the command line, or literal
//! defaults) and module parameters with constant data.

use super::super::npy::{self};
use super::env::{Body, Var};
use super::model::Elem;
use super::shape::{shape_text, Dim};
use super::Gen;

impl Gen {
    /// Declares an input of `main` (tensor or scalar) with its data.
    pub(super) fn add_input(&mut self, elem: Elem, shape: Option<Vec<Dim>>) -> Var {
        let name = self.fresh("x");
        let ty = self.ty_of(elem.clone());
        let file = format!("{name}.npy");
        let dims_txt = shape
            .as_ref()
            .map(|s| format!("[{}]", shape_text(s)))
            .unwrap_or_default();
        let how = self
            .rng
            .weighted(&[45, 40, if shape.is_none() { 25 } else { 0 }]);
        let vals: Vec<i64> = shape
            .as_ref()
            .map(|s| s.iter().map(|d| d.val).collect())
            .unwrap_or_default();
        match how {
            0 => {
                let arr = self.data_for(&elem, &vals);
                self.files.push((file.clone(), npy::encode(&arr)));
                self.main_params
                    .push(format!("{name}: {}{dims_txt} = load(\"{file}\")", ty.text));
                self.f("input: default load(...)");
            }
            1 => {
                let arr = self.data_for(&elem, &vals);
                self.files.push((file.clone(), npy::encode(&arr)));
                self.cli_inputs.push((name.clone(), file));
                self.main_params
                    .push(format!("{name}: {}{dims_txt}", ty.text));
                self.f("input: --input NAME=FILE");
            }
            _ => {
                let lit = match &elem {
                    Elem::Bool => if self.chance(50) { "True" } else { "False" }.to_string(),
                    Elem::F32 => self.rng.pick(&["0.5", "-1.25", "3.0", "0.1"]).to_string(),
                    Elem::Bin | Elem::Tern => self.rng.pick(&["1", "-1", "0"]).to_string(),
                    _ => self
                        .rng
                        .pick(&["0.5", "-3", "7", "0.75", "-0.25", "100", "1.5"])
                        .to_string(),
                };
                self.main_params
                    .push(format!("{name}: {}{dims_txt} = {lit}", ty.text));
                self.f("input: literal default");
            }
        }
        Var {
            name,
            t: ty.t,
            shape,
            decl: Some(ty),
            store: false,
            assign: false,
            readable: true,
            local: true,
        }
    }

    /// A new input of `main` (used when a construct needs a tensor of some rank).
    pub(super) fn new_main_input(&mut self, b: &mut Body, shape: &[i64]) -> Var {
        let dims: Vec<Dim> = shape.iter().map(|&v| Dim::lit(v)).collect();
        let elem = self.exact_elem();
        let v = self.add_input(elem, Some(dims));
        b.env.vars.push(v.clone());
        v
    }

    /// A new module parameter with random constant data: `param w: tern[...] = load(...)`.
    pub(super) fn new_param(&mut self, shape: &[i64], weights: bool) -> Var {
        let name = self.fresh("w");
        let elem = if weights {
            match self.rng.below(5) {
                0 => Elem::Tern,
                1 => Elem::Bin,
                2 => Elem::Int {
                    signed: true,
                    w: self.rng.range(2, 8) as u32,
                },
                _ => self.fixed_elem(),
            }
        } else {
            self.exact_elem()
        };
        let ty = self.ty_of(elem.clone());
        let dims: Vec<Dim> = shape.iter().map(|&v| Dim::lit(v)).collect();
        let file = format!("{name}.npy");
        let arr = self.data_for(&elem, shape);
        self.files.push((file.clone(), npy::encode(&arr)));
        self.items.push(format!(
            "param {name}: {}[{}] = load(\"{file}\")",
            ty.text,
            shape_text(&dims)
        ));
        self.f("item: param (constant data)");
        let v = Var {
            name,
            t: ty.t,
            shape: Some(dims),
            decl: Some(ty),
            store: false,
            assign: false,
            readable: true,
            local: false,
        };
        self.globals.push(v.clone());
        v
    }
}
