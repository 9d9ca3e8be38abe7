//! Calls of the kernels of stdlib.nn (activations, convolutions, dense layers, pooling,
//! requantization) with their weight parameters.

use super::env::{Body, Var};
use super::model::{ex_or, join_cls, log2_ceil, maybe_int, narrow, Cls, Ex, Kind, T};
use super::shape::{numel, same_shape, Dim};
use super::Gen;

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
        let rank_of = |v: &Var| v.shape.as_ref().unwrap().len();
        let choose = |g: &mut Gen, r: Option<usize>| -> Option<Var> {
            let c: Vec<Var> = ts
                .iter()
                .filter(|v| r.is_none_or(|r| rank_of(v) == r))
                .cloned()
                .collect();
            if c.is_empty() {
                None
            } else {
                Some(g.rng.pick(&c))
            }
        };
        let (call, t, shape): (String, T, Vec<Dim>) = match pick {
            0 | 1 => {
                let Some(x) = choose(self, None) else { return };
                if narrow(&x.t) && self.avoid("jit-narrow-quant") {
                    // The result converts back to the (maybe narrow, rounding) type.
                    return;
                }
                let f = if pick == 0 { "relu" } else { "relu6" };
                self.imports
                    .insert(if pick == 0 { "relu" } else { "relu6" });
                (format!("{f}({})", x.name), x.t, x.shape.unwrap())
            }
            2 => {
                let Some(x) = choose(self, None) else { return };
                if maybe_int(&x.t) && self.avoid("jit-fixed-to-int") {
                    // The result converts `v * alpha` back to an int type.
                    return;
                }
                if narrow(&x.t) && self.avoid("jit-narrow-quant") {
                    // ... and back to the input's (maybe narrow, rounding) type.
                    return;
                }
                self.imports.insert("leaky_relu");
                let alpha = self.rng.pick(&["0.125", "0.25", "0.5"]);
                (
                    format!("leaky_relu({}, {alpha})", x.name),
                    x.t,
                    x.shape.unwrap(),
                )
            }
            3 | 4 => {
                // conv2d with a weight param.
                let x = match choose(self, Some(3)) {
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
                let depthwise = pick == 4 && self.chance(50);
                let oh = (h + 2 * pad - r) / stride + 1;
                let ow = (w + 2 * pad - sk) / stride + 1;
                let mut args = format!("{}, {}", x.name, wv.name);
                let mut kw = vec![];
                if stride != 1 || self.chance(30) {
                    kw.push(format!("stride={stride}"));
                }
                if pad != 0 || self.chance(30) {
                    kw.push(format!("pad={pad}"));
                }
                if !kw.is_empty() {
                    args = format!("{args}, {}", kw.join(", "));
                }
                let (xm, wm) = (ex_or(x.t, 8), ex_or(wv.t, 2));
                let terms = c * r * sk;
                if depthwise {
                    let wd = self.new_param(&[c, r, sk], true);
                    let wm = ex_or(wd.t, 2);
                    self.imports.insert("depthwise_conv2d");
                    let mut a2 = format!("{}, {}", x.name, wd.name);
                    if !kw.is_empty() {
                        a2 = format!("{a2}, {}", kw.join(", "));
                    }
                    (
                        format!("depthwise_conv2d({a2})"),
                        T::Ex(Ex {
                            m: xm.m + wm.m + log2_ceil(r * sk),
                            fb: xm.fb + wm.fb,
                            cls: join_cls(xm.cls, wm.cls),
                            lit: false,
                        }),
                        vec![Dim::lit(c), Dim::lit(oh), Dim::lit(ow)],
                    )
                } else {
                    self.imports.insert("conv2d");
                    (
                        format!("conv2d({args})"),
                        T::Ex(Ex {
                            m: xm.m + wm.m + log2_ceil(terms),
                            fb: xm.fb + wm.fb,
                            cls: join_cls(xm.cls, wm.cls),
                            lit: false,
                        }),
                        vec![Dim::lit(k), Dim::lit(oh), Dim::lit(ow)],
                    )
                }
            }
            5 | 6 => {
                let Some(x) = choose(self, Some(1)) else {
                    return;
                };
                let n = x.shape.as_ref().unwrap()[0].val;
                let m = self.rng.range(1, 6);
                let w = self.new_param(&[m, n], true);
                let (xm, wm) = (ex_or(x.t, 8), ex_or(w.t, 2));
                let mut t = Ex {
                    m: xm.m + wm.m + log2_ceil(n),
                    fb: xm.fb + wm.fb,
                    cls: join_cls(xm.cls, wm.cls),
                    lit: false,
                };
                if pick == 6 {
                    let bias = self.new_param(&[m], true);
                    let bm = ex_or(bias.t, 2);
                    t = Ex {
                        m: t.m.max(bm.m) + 1,
                        fb: t.fb.max(bm.fb),
                        cls: join_cls(t.cls, bm.cls),
                        lit: false,
                    };
                    self.imports.insert("dense_bias");
                    (
                        format!("dense_bias({}, {}, {})", x.name, w.name, bias.name),
                        T::Ex(t),
                        vec![Dim::lit(m)],
                    )
                } else {
                    self.imports.insert("dense");
                    (
                        format!("dense({}, {})", x.name, w.name),
                        T::Ex(t),
                        vec![Dim::lit(m)],
                    )
                }
            }
            7 | 8 => {
                let Some(x) = choose(self, Some(3)) else {
                    return;
                };
                let c = x.shape.as_ref().unwrap()[0].val;
                let xm = x.t.ex();
                let bias = self.new_param(&[c], true);
                let bm = ex_or(bias.t, 2);
                if pick == 7 {
                    self.imports.insert("bias_add");
                    (
                        format!("bias_add({}, {})", x.name, bias.name),
                        T::Ex(Ex {
                            m: xm.m.max(bm.m) + 1,
                            fb: xm.fb.max(bm.fb),
                            cls: join_cls(xm.cls, bm.cls),
                            lit: false,
                        }),
                        x.shape.unwrap(),
                    )
                } else {
                    let scale = self.new_param(&[c], true);
                    let sm = ex_or(scale.t, 2);
                    self.imports.insert("batchnorm");
                    (
                        format!("batchnorm({}, {}, {})", x.name, scale.name, bias.name),
                        T::Ex(Ex {
                            m: (xm.m + sm.m).max(bm.m) + 1,
                            fb: (xm.fb + sm.fb).max(bm.fb),
                            cls: join_cls(join_cls(xm.cls, sm.cls), bm.cls),
                            lit: false,
                        }),
                        x.shape.unwrap(),
                    )
                }
            }
            9 | 10 => {
                let Some(x) = choose(self, Some(3)) else {
                    return;
                };
                let s = x.shape.clone().unwrap();
                let size = self.rng.range(1, 2);
                if s[1].val < size || s[2].val < size {
                    return;
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
                if pick == 9 {
                    self.imports.insert("maxpool2d");
                    (format!("maxpool2d({}{sz})", x.name), x.t, shape)
                } else {
                    // avgpool divides with `/`: the input needs fraction bits.
                    if xm.cls != Cls::Fixed || xm.fb <= 0 {
                        return;
                    }
                    self.imports.insert("avgpool2d");
                    (
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
            }
            11 => {
                let Some(x) = choose(self, None) else { return };
                let sh = x.shape.clone().unwrap();
                let others: Vec<Var> = ts
                    .iter()
                    .filter(|v| same_shape(v.shape.as_ref().unwrap(), &sh))
                    .cloned()
                    .collect();
                let y = self.rng.pick(&others);
                let (a, c) = (x.t.ex(), y.t.ex());
                if self.chance(50) && sh.len() == 3 {
                    self.imports.insert("flatten");
                    (
                        format!("flatten({})", x.name),
                        x.t,
                        vec![Dim::lit(numel(&sh))],
                    )
                } else {
                    self.imports.insert("add");
                    (
                        format!("add({}, {})", x.name, y.name),
                        T::Ex(Ex {
                            m: a.m.max(c.m) + 1,
                            fb: a.fb.max(c.fb),
                            cls: join_cls(a.cls, c.cls),
                            lit: false,
                        }),
                        sh,
                    )
                }
            }
            _ => {
                let Some(x) = choose(self, None) else { return };
                let ty = self.exact_ty();
                let scale = self.rng.pick(&["0.25", "0.5", "2", "0.375", "3"]);
                self.imports.insert("requantize");
                let alias = ty.text.clone();
                (
                    format!("requantize[{alias}]({}, {scale})", x.name),
                    ty.t,
                    x.shape.unwrap(),
                )
            }
        };
        let fname = call.split(['(', '[']).next().unwrap().to_string();
        self.f(format!("stdlib: {fname}"));
        b.line(format!("{name} = {call}"));
        let t = match t {
            T::Ex(x) => T::Ex(Ex { lit: false, ..x }),
            t => t,
        };
        b.env.vars.push(Var {
            name,
            t: self.guard_wide(t),
            shape: Some(shape),
            decl: None,
            store: false,
            assign: false,
            readable: true,
            local: true,
        });
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
