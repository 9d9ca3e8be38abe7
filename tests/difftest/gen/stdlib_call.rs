//! Calls of the kernels of stdlib.nn (activations, convolutions, dense layers, pooling,
//! requantization) with their weight parameters.

use super::env::{Body, Var};
use super::model::{
    dot_model, ex_or, maybe_int, narrow, product_model, sum_model, Cls, Ex, Kind, T,
};
use super::shape::{numel, same_shape, Dim};
use super::Gen;

/// A call of a stdlib.nn kernel: its text, the model of its elements and its shape.
struct NnCall {
    text: String,
    t: T,
    shape: Vec<Dim>,
}

impl NnCall {
    fn new(text: String, t: T, shape: Vec<Dim>) -> Option<NnCall> {
        Some(NnCall { text, t, shape })
    }
}

impl Gen {
    /// A call of a kernel of stdlib.nn.
    pub(super) fn st_call_stdlib(&mut self, b: &mut Body) {
        if b.env.generic {
            return;
        }
        let max_cost = if self.avoid("jit-i128-minmax") {
            self.max_cost.min(60)
        } else {
            self.max_cost
        };
        let ts: Vec<Var> = b
            .env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| v.t.ex().cost() <= max_cost)
            .collect();
        let pick = self.rng.below(13);
        let name = self.fresh("n");
        let call = match pick {
            0..=2 => self.nn_activation(&ts, pick),
            3 | 4 => self.nn_conv2d(b, &ts, pick == 4),
            5 | 6 => self.nn_dense(&ts, pick == 6),
            7 | 8 => self.nn_channel_affine(&ts, pick == 8),
            9 | 10 => self.nn_pool(&ts, pick == 10),
            11 => self.nn_add_or_flatten(&ts),
            _ => self.nn_requantize(&ts),
        };
        let Some(NnCall { text, t, shape }) = call else {
            return;
        };
        let fname = text.split(['(', '[']).next().unwrap().to_string();
        self.f(format!("stdlib: {fname}"));
        b.line(format!("{name} = {text}"));
        let t = self.guard_wide(t.not_lit());
        b.env.vars.push(Var::value(name, t, Some(shape)));
    }

    /// One of the tensors `ts` (of rank `rank`, when given).
    fn choose_tensor(&mut self, ts: &[Var], rank: Option<usize>) -> Option<Var> {
        let c: Vec<Var> = ts
            .iter()
            .filter(|v| rank.is_none_or(|r| v.shape.as_ref().unwrap().len() == r))
            .cloned()
            .collect();
        if c.is_empty() {
            None
        } else {
            Some(self.rng.pick(&c))
        }
    }

    /// `relu(x)`, `relu6(x)` (`pick` 0, 1) or `leaky_relu(x, alpha)` (`pick` 2).
    fn nn_activation(&mut self, ts: &[Var], pick: usize) -> Option<NnCall> {
        let x = self.choose_tensor(ts, None)?;
        let leaky = pick == 2;
        if leaky && maybe_int(&x.t) && self.avoid("jit-fixed-to-int") {
            // The result converts `v * alpha` back to an int type.
            return None;
        }
        if narrow(&x.t) && self.avoid("jit-narrow-quant") {
            // The result converts back to the (maybe narrow, rounding) type.
            return None;
        }
        let text = if leaky {
            self.imports.insert("leaky_relu");
            let alpha = self.rng.pick(&["0.125", "0.25", "0.5"]);
            format!("leaky_relu({}, {alpha})", x.name)
        } else {
            let f = if pick == 0 { "relu" } else { "relu6" };
            self.imports.insert(f);
            format!("{f}({})", x.name)
        };
        NnCall::new(text, x.t, x.shape.unwrap())
    }

    /// `conv2d(x, w, ...)` or `depthwise_conv2d(x, w, ...)` with weight params (and a new
    /// input of `main` when there is no tensor of rank 3).
    fn nn_conv2d(&mut self, b: &mut Body, ts: &[Var], depthwise_ok: bool) -> Option<NnCall> {
        let x = match self.choose_tensor(ts, Some(3)) {
            Some(x) => x,
            None => {
                let dims = [
                    self.rng.range(1, 3),
                    self.rng.range(3, 6),
                    self.rng.range(3, 6),
                ];
                self.new_main_input(b, &dims)
            }
        };
        let s = x.shape.clone().unwrap();
        let (c, h, w) = (s[0].val, s[1].val, s[2].val);
        let pad = self.rng.range(0, 1);
        let stride = self.rng.range(1, 2);
        let r = self.rng.range(1, 3.min(h + 2 * pad));
        let sk = self.rng.range(1, 3.min(w + 2 * pad));
        let k = self.rng.range(1, 3);
        let wv = self.new_param(&[k, c, r, sk], true);
        let depthwise = depthwise_ok && self.chance(50);
        let oh = (h + 2 * pad - r) / stride + 1;
        let ow = (w + 2 * pad - sk) / stride + 1;
        let mut kw = vec![];
        if stride != 1 || self.chance(30) {
            kw.push(format!("stride={stride}"));
        }
        if pad != 0 || self.chance(30) {
            kw.push(format!("pad={pad}"));
        }
        let args = |weights: &str| {
            let mut a = format!("{}, {weights}", x.name);
            if !kw.is_empty() {
                a = format!("{a}, {}", kw.join(", "));
            }
            a
        };
        let xm = ex_or(x.t, 8);
        if depthwise {
            let wd = self.new_param(&[c, r, sk], true);
            self.imports.insert("depthwise_conv2d");
            NnCall::new(
                format!("depthwise_conv2d({})", args(&wd.name)),
                T::Ex(dot_model(xm, ex_or(wd.t, 2), r * sk)),
                vec![Dim::lit(c), Dim::lit(oh), Dim::lit(ow)],
            )
        } else {
            self.imports.insert("conv2d");
            NnCall::new(
                format!("conv2d({})", args(&wv.name)),
                T::Ex(dot_model(xm, ex_or(wv.t, 2), c * r * sk)),
                vec![Dim::lit(k), Dim::lit(oh), Dim::lit(ow)],
            )
        }
    }

    /// `dense(x, w)` or `dense_bias(x, w, bias)` of a vector, with weight params.
    fn nn_dense(&mut self, ts: &[Var], bias: bool) -> Option<NnCall> {
        let x = self.choose_tensor(ts, Some(1))?;
        let n = x.shape.as_ref().unwrap()[0].val;
        let m = self.rng.range(1, 6);
        let w = self.new_param(&[m, n], true);
        let t = dot_model(ex_or(x.t, 8), ex_or(w.t, 2), n);
        if bias {
            let bv = self.new_param(&[m], true);
            self.imports.insert("dense_bias");
            NnCall::new(
                format!("dense_bias({}, {}, {})", x.name, w.name, bv.name),
                T::Ex(sum_model(t, ex_or(bv.t, 2))),
                vec![Dim::lit(m)],
            )
        } else {
            self.imports.insert("dense");
            NnCall::new(
                format!("dense({}, {})", x.name, w.name),
                T::Ex(t),
                vec![Dim::lit(m)],
            )
        }
    }

    /// `bias_add(x, bias)` or `batchnorm(x, scale, bias)` of a rank-3 tensor, per channel.
    fn nn_channel_affine(&mut self, ts: &[Var], scale: bool) -> Option<NnCall> {
        let x = self.choose_tensor(ts, Some(3))?;
        let c = x.shape.as_ref().unwrap()[0].val;
        let xm = x.t.ex();
        let bias = self.new_param(&[c], true);
        let bm = ex_or(bias.t, 2);
        if !scale {
            self.imports.insert("bias_add");
            return NnCall::new(
                format!("bias_add({}, {})", x.name, bias.name),
                T::Ex(sum_model(xm, bm)),
                x.shape.unwrap(),
            );
        }
        let sv = self.new_param(&[c], true);
        let sm = ex_or(sv.t, 2);
        self.imports.insert("batchnorm");
        NnCall::new(
            format!("batchnorm({}, {}, {})", x.name, sv.name, bias.name),
            T::Ex(sum_model(product_model(xm, sm), bm)),
            x.shape.unwrap(),
        )
    }

    /// `maxpool2d(x, size)` or `avgpool2d(x, size)` of a rank-3 tensor.
    fn nn_pool(&mut self, ts: &[Var], avg: bool) -> Option<NnCall> {
        let x = self.choose_tensor(ts, Some(3))?;
        let s = x.shape.clone().unwrap();
        let size = self.rng.range(1, 2);
        if s[1].val < size || s[2].val < size {
            return None;
        }
        let xm = x.t.ex();
        let sz = if size == 2 && self.chance(50) {
            String::new()
        } else {
            format!(", {size}")
        };
        let shape = vec![
            s[0].clone(),
            Dim::lit(s[1].val / size),
            Dim::lit(s[2].val / size),
        ];
        if !avg {
            self.imports.insert("maxpool2d");
            return NnCall::new(format!("maxpool2d({}{sz})", x.name), x.t, shape);
        }
        // avgpool divides with `/`: the input needs fraction bits.
        if xm.cls != Cls::Fixed || xm.fb <= 0 {
            return None;
        }
        self.imports.insert("avgpool2d");
        NnCall::new(
            format!("avgpool2d({}{sz})", x.name),
            T::Ex(Ex {
                m: xm.m + 2,
                fb: xm.fb,
                cls: Cls::Fixed,
                lit: false,
            }),
            shape,
        )
    }

    /// `add(x, y)` of two tensors of the same shape, or `flatten(x)` of a rank-3 tensor.
    fn nn_add_or_flatten(&mut self, ts: &[Var]) -> Option<NnCall> {
        let x = self.choose_tensor(ts, None)?;
        let sh = x.shape.clone().unwrap();
        let others: Vec<Var> = ts
            .iter()
            .filter(|v| same_shape(v.shape.as_ref().unwrap(), &sh))
            .cloned()
            .collect();
        let y = self.rng.pick(&others);
        if self.chance(50) && sh.len() == 3 {
            self.imports.insert("flatten");
            return NnCall::new(
                format!("flatten({})", x.name),
                x.t,
                vec![Dim::lit(numel(&sh))],
            );
        }
        self.imports.insert("add");
        NnCall::new(
            format!("add({}, {})", x.name, y.name),
            T::Ex(sum_model(x.t.ex(), y.t.ex())),
            sh,
        )
    }

    /// `requantize[T](x, scale)` to a random exact type.
    fn nn_requantize(&mut self, ts: &[Var]) -> Option<NnCall> {
        let x = self.choose_tensor(ts, None)?;
        let ty = self.exact_ty();
        let scale = self.rng.pick(&["0.25", "0.5", "2", "0.375", "3"]);
        self.imports.insert("requantize");
        NnCall::new(
            format!("requantize[{}]({}, {scale})", ty.text, x.name),
            ty.t,
            x.shape.unwrap(),
        )
    }

    /// The model of a stdlib result is rough (the library's own inference narrows by
    /// constant data, or not): make it pessimistic, so that its uses narrow it and it is
    /// never written with its inferred type (which may exceed float64's 53 bits).
    pub(super) fn guard_wide(&self, t: T) -> T {
        match t {
            T::Ex(x) => T::Ex(Ex { m: x.m + 24, ..x }),
            t => t,
        }
    }
}
