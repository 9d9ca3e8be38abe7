//! The inputs of `main` (loaded by default, given on the command line, or literal
//! defaults) and module parameters (with constant data, or a literal).

use super::env::{Body, Env, Var};
use super::model::Elem;
use super::shape::{shape_text, Dim};
use super::Gen;

impl Gen {
    /// The scope `main` starts with: module consts, its inputs, sometimes module params.
    pub(super) fn main_env(&mut self) -> Env {
        let mut env = Env::new();
        env.ints.extend(self.consts.clone());
        let ninputs = self.rng.range(1, 3);
        for _ in 0..ninputs {
            let shape = self.random_shape();
            let elem = self.input_elem(&[76, 14, 10, 10]);
            let v = self.add_input(elem, Some(shape));
            env.vars.push(v);
        }
        if self.chance(40) {
            let elem = self.input_elem(&[70, 15, 15, 8]);
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
            let v = self.scalar_param();
            env.vars.push(v);
        }
        env
    }

    /// The element type of an input: exact, f32, bool or f64, with these weights.
    fn input_elem(&mut self, weights: &[u32; 4]) -> Elem {
        match self.rng.weighted(weights) {
            0 => self.exact_elem(),
            1 => Elem::F32,
            2 => Elem::Bool,
            _ => Elem::F64,
        }
    }

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
                self.data_file(&file, &elem, &vals);
                self.main_params
                    .push(format!("{name}: {}{dims_txt} = load(\"{file}\")", ty.text));
                self.f("input: default load(...)");
            }
            1 => {
                self.data_file(&file, &elem, &vals);
                self.cli_inputs.push((name.clone(), file));
                self.main_params
                    .push(format!("{name}: {}{dims_txt}", ty.text));
                self.f("input: --input NAME=FILE");
            }
            _ => {
                let lit = self.literal_default(&elem);
                self.main_params
                    .push(format!("{name}: {}{dims_txt} = {lit}", ty.text));
                self.f("input: literal default");
            }
        }
        Var::declared(name, ty, shape)
    }

    /// The literal default value of a scalar input of type `elem`.
    fn literal_default(&mut self, elem: &Elem) -> String {
        match elem {
            Elem::Bool => if self.chance(50) { "True" } else { "False" }.to_string(),
            Elem::F32 | Elem::F64 => self.rng.pick(&["0.5", "-1.25", "3.0", "0.1"]).to_string(),
            Elem::Bin | Elem::Tern => self.rng.pick(&["1", "-1", "0"]).to_string(),
            _ => self
                .rng
                .pick(&["0.5", "-3", "7", "0.75", "-0.25", "100", "1.5"])
                .to_string(),
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
        self.data_file(&file, &elem, shape);
        self.items.push(format!(
            "param {name}: {}[{}] = load(\"{file}\")",
            ty.text,
            shape_text(&dims)
        ));
        self.f("item: param (constant data)");
        let v = Var {
            local: false,
            ..Var::declared(name, ty, Some(dims))
        };
        self.globals.push(v.clone());
        v
    }

    /// A scalar module parameter with a literal value: `param sc1: fixed<8, 3> = 0.75`.
    fn scalar_param(&mut self) -> Var {
        let name = self.fresh("sc");
        let e = self.fixed_elem();
        let ty = self.ty_of(e);
        let lit = self.rng.pick(&["0.75", "-1.5", "3", "0.1"]);
        self.items
            .push(format!("param {name}: {} = {lit}", ty.text));
        self.f("item: scalar param");
        let v = Var {
            local: false,
            ..Var::declared(name, ty, None)
        };
        self.globals.push(v.clone());
        v
    }
}
