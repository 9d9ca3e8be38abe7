//! Random layer pipelines: networks of stdlib.nn layers (tests/layer_pipelines.rs).
//!
//! A network is `kernel main(x: T[C, H, W]) -> ...`: a chain of 1 to 6 stages (3 to 6
//! mostly), each a
//! spatial layer (`conv2d` with random kernel size, stride and padding, non-square
//! sometimes; `depthwise_conv2d`; `maxpool2d` / `avgpool2d` of size 1 to 3) or a
//! residual diamond (two branches of shape-preserving layers joined by `add`), followed
//! by an epilogue of elementwise layers (`bias_add`, `batchnorm`, `relu`, `relu6`,
//! `leaky_relu`, `requantize[T]` to random fixed / ufixed / int types with random
//! rounding and overflow modes), nested in one expression or one statement each;
//! sometimes a tail of `flatten` and one or two `dense` / `dense_bias` layers, and
//! sometimes a second result tapped from the middle of the chain. Element types of the
//! input and the weights are random (int, uint, fixed, ufixed, tern, bin, f32); weights,
//! biases and scales are module `param`s loaded from `.npy` files written here (the
//! data of [`super::data`]: in range, on rounding ties, out of range), scales and slopes
//! are exact literals, `const`s, scalar `param`s or scalar inputs of `main`.
//!
//! Shapes are tracked exactly, so every case is valid: windows fit their (padded) input,
//! pools never empty a map, and the work of one layer is bounded so that the
//! interpreter stays fast. Magnitudes are tracked by an upper bound (`Num`): a value
//! that could grow past 32 bits (44 in a wide case) is requantized before the next
//! multiplying layer, f32 meets only exact values of at most 24 bits (E0305), and results
//! stay within the 53 bits a `.npy` float64 holds exactly. A typical magnitude is
//! tracked too, and requantization scales aim at it, so that most results are neither
//! all saturated nor all zero (the test counts those that hold two values or fewer).
//!
//! The shapes are chosen to stress a row-by-row (line-buffered) dataflow back end:
//! strides and padding, odd and non-square maps and kernels, chains of several layers,
//! results used twice (residual branches, tapped outputs), weights shared by two
//! layers. Each [`Network`] also says how
//! the test runs it: over a batch of 2 to 4 samples (`--batch`) or one, with AXI-stream
//! ports (`--io stream`) or memory ports, and with how many JIT threads.

use super::super::Rng;
use super::model::{Elem, OMODES, QMODES};
use super::{Case, Config, Gen};

/// One generated network and how the test runs it.
#[derive(Clone, Debug)]
pub struct Network {
    /// The program, its data files and `--input` arguments.
    pub case: Case,
    /// `Some(n)`: the input's data holds `n` samples along a leading axis (`--batch`).
    pub batch: Option<usize>,
    /// `kiln hls --io stream` (AXI-stream ports) instead of memory ports.
    pub io_stream: bool,
    /// Threads of the JIT (0: one per core).
    pub threads: usize,
    /// One line per layer, with its shapes (for the messages of the test).
    pub layers: Vec<String>,
}

/// Generates network `case` of seed `seed`.
pub fn generate_network(seed: u64, case: u64) -> Network {
    // A stream of its own, so that network k and program k of a seed are unrelated.
    let rng = Rng::for_case(seed ^ 0x6e65_7477_6f72_6b00, case);
    let mut n = NetGen {
        g: Gen::new(rng, Config::default()),
        mul_bits: MAX_MUL_INPUT_BITS,
        weights: Vec::new(),
        body: Vec::new(),
        layers: Vec::new(),
        scalar_inputs: Vec::new(),
    };
    let (source, batch, io_stream) = n.network();
    Network {
        case: Case {
            seed,
            case,
            source,
            files: n.g.files,
            inputs: n.g.cli_inputs,
            features: n.g.feats,
        },
        batch,
        io_stream,
        threads: [1, 2, 0][(case % 3) as usize],
        layers: n.layers,
    }
}

/// An upper bound of the values of an activation.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    F32,
    /// Exact values: |v| <= 2^m, on a grid of 2^-fb.
    Exact {
        m: i32,
        fb: i32,
    },
}

impl Num {
    fn of(e: &Elem) -> Num {
        match e {
            Elem::F32 | Elem::F64 => Num::F32,
            Elem::Int { signed, w } => Num::Exact {
                m: if *signed { *w as i32 - 1 } else { *w as i32 },
                fb: 0,
            },
            Elem::Fixed { signed, w, i, .. } => Num::Exact {
                m: if *signed { *i - 1 } else { *i },
                fb: *w as i32 - *i,
            },
            Elem::Bin | Elem::Tern | Elem::Bool => Num::Exact { m: 0, fb: 0 },
        }
    }

    /// Bits of a two's complement value holding the bound (0 for f32).
    fn bits(self) -> i32 {
        match self {
            Num::F32 => 0,
            Num::Exact { m, fb } => m + fb.max(0) + 1,
        }
    }

    fn mul(self, o: Num) -> Num {
        match (self, o) {
            (Num::Exact { m, fb }, Num::Exact { m: m2, fb: fb2 }) => Num::Exact {
                m: m + m2,
                fb: fb + fb2,
            },
            _ => Num::F32,
        }
    }

    fn add(self, o: Num) -> Num {
        match (self, o) {
            (Num::Exact { m, fb }, Num::Exact { m: m2, fb: fb2 }) => Num::Exact {
                m: m.max(m2) + 1,
                fb: fb.max(fb2),
            },
            _ => Num::F32,
        }
    }

    /// The bound of a sum of `n` such values.
    fn sum(self, n: i64) -> Num {
        match self {
            Num::F32 => Num::F32,
            Num::Exact { m, fb } => Num::Exact {
                m: m + (64 - (n.max(1) - 1).leading_zeros() as i32),
                fb,
            },
        }
    }
}

/// An activation: its expression (a variable or a nested call), shape and bound.
#[derive(Clone, Debug)]
struct Act {
    expr: String,
    shape: Vec<i64>,
    num: Num,
    /// The log2 of a typical magnitude (sums of random terms grow by the square root of
    /// their count): what requantization scales aim at, so that values neither all
    /// saturate nor all round to zero.
    typ: i32,
    /// Whether `expr` is a variable (it may then be used twice).
    var: bool,
}

/// The widest activation (model bits) a multiplying layer takes; wider ones are
/// requantized first.
const MAX_MUL_INPUT_BITS: i32 = 32;
/// The same in a wide case: accumulators past 64 bits.
const WIDE_MUL_INPUT_BITS: i32 = 44;
/// The widest result (model bits): a `.npy` float64 holds 53 bits exactly.
const MAX_RESULT_BITS: i32 = 48;
/// The widest exact value f32 arithmetic takes (E0305 beyond: f32 would round it).
const F32_EXACT_BITS: i32 = 24;
/// The most multiply-accumulates of one layer for one sample (the interpreter's speed).
const MAX_MACS: i64 = 150_000;
/// The most elements `flatten` feeds a dense layer.
const MAX_DENSE_INPUTS: i64 = 1024;

/// The generator of one network: the program generator's state (random stream, items,
/// data files, features) and the body of `main`.
struct NetGen {
    g: Gen,
    /// The widest activation a multiplying layer takes (`MAX_MUL_INPUT_BITS`, or
    /// `WIDE_MUL_INPUT_BITS` in a wide case).
    mul_bits: i32,
    /// Weight parameters so far: (name, type, shape), for layers that share weights.
    weights: Vec<(String, Elem, Vec<i64>)>,
    body: Vec<String>,
    layers: Vec<String>,
    /// Scalar parameters of `main` (with literal defaults).
    scalar_inputs: Vec<String>,
}

impl NetGen {
    fn chance(&mut self, p: u32) -> bool {
        self.g.chance(p)
    }

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.g.rng.range(lo, hi)
    }

    fn f(&mut self, name: impl Into<String>) {
        self.g.f(name)
    }

    /// The whole program: (source, batch size, AXI-stream ports).
    fn network(&mut self) -> (String, Option<usize>, bool) {
        let batch = self.chance(35).then(|| self.range(2, 4) as usize);
        let io_stream = self.chance(35);
        if let Some(b) = batch {
            self.f(format!("run: --batch of {b}"));
        }
        if io_stream {
            self.f("run: --io stream");
        }
        if self.chance(15) {
            self.mul_bits = WIDE_MUL_INPUT_BITS;
            self.f("case: wide (accumulators past 64 bits)");
        }
        let c = self.range(1, 8);
        let h = self.odd_size();
        let w = if self.chance(60) { h } else { self.odd_size() };
        let elem = self.input_elem();
        let ty = self.g.ty_of(elem.clone());
        let shape = vec![c, h, w];
        let dims = dims_text(&shape);
        let file = "x.npy".to_string();
        let mut data_shape = shape.clone();
        if let Some(b) = batch {
            data_shape.insert(0, b as i64);
        }
        self.g.data_file(&file, &elem, &data_shape);
        if batch.is_none() && self.chance(40) {
            self.g
                .main_params
                .push(format!("x: {}[{dims}] = load(\"{file}\")", ty.text));
            self.f("input: default load(...)");
        } else {
            self.g.cli_inputs.push(("x".into(), file));
            self.g.main_params.push(format!("x: {}[{dims}]", ty.text));
            self.f("input: --input x=FILE");
        }
        self.layers
            .push(format!("input x: {}[{dims}]", elem.text()));
        let mut a = Act {
            expr: "x".into(),
            shape,
            num: Num::of(&elem),
            typ: typical(&elem),
            var: true,
        };
        let stages = self.g.rng.weighted(&[4, 14, 26, 26, 18, 12]) as i64 + 1;
        self.f(format!("network: {stages} stages"));
        let mut tap: Option<Act> = None;
        for s in 0..stages {
            a = if self.chance(22) && a.shape[1] >= 2 && a.shape[2] >= 2 {
                self.residual(a)
            } else {
                self.stage(a)
            };
            a = self.bind(a);
            if tap.is_none() && s + 1 < stages && self.chance(12) {
                tap = Some(a.clone());
            }
        }
        if self.chance(35) {
            a = self.dense_tail(a);
        }
        let a = self.fit(a, MAX_RESULT_BITS);
        let mut results = vec![a];
        if let Some(t) = tap {
            let t = self.fit(t, MAX_RESULT_BITS);
            self.f("result: a tap from the middle of the chain");
            self.layers.push(format!("tap {}", t.expr));
            results.insert(0, t);
        }
        (self.source(&results), batch, io_stream)
    }

    /// A map size: 4..20, odd half of the time.
    fn odd_size(&mut self) -> i64 {
        let v = self.range(4, 20);
        if self.chance(50) {
            v | 1
        } else {
            v
        }
    }

    /// The text of the program returning `results`.
    fn source(&mut self, results: &[Act]) -> String {
        let mut out = String::new();
        let names: Vec<&str> = self.g.imports.iter().copied().collect();
        out.push_str(&format!("from stdlib.nn import {}\n", names.join(", ")));
        for it in &self.g.items {
            out.push_str(it);
            out.push('\n');
        }
        out.push('\n');
        let types: Vec<String> = results
            .iter()
            .map(|r| format!("[{}]", dims_text(&r.shape)))
            .collect();
        let rt = if types.len() == 1 {
            types[0].clone()
        } else {
            format!("({})", types.join(", "))
        };
        let mut params = self.g.main_params.clone();
        params.extend(self.scalar_inputs.iter().cloned());
        out.push_str(&format!("kernel main({}) -> {rt}:\n", params.join(", ")));
        for l in &self.body {
            out.push_str("    ");
            out.push_str(l);
            out.push('\n');
        }
        let rets: Vec<&str> = results.iter().map(|r| r.expr.as_str()).collect();
        out.push_str(&format!("    return {}\n", rets.join(", ")));
        out
    }

    /// Binds an activation to a new variable of `main` (a variable stays as it is).
    fn bind(&mut self, a: Act) -> Act {
        if a.var {
            return a;
        }
        let name = self.g.fresh("a");
        self.body.push(format!("{name} = {}", a.expr));
        Act {
            expr: name,
            var: true,
            ..a
        }
    }

    /// Uses `name` from stdlib.nn.
    fn import(&mut self, name: &'static str) {
        self.g.imports.insert(name);
        self.f(format!("layer: {name}"));
    }

    // ---- types ----

    /// The element type of the input.
    fn input_elem(&mut self) -> Elem {
        match self.g.rng.weighted(&[40, 12, 20, 8, 6, 10]) {
            0 => self.fixed(true, 2, 16),
            1 => self.fixed(false, 2, 16),
            2 => Elem::Int {
                signed: self.chance(70),
                w: self.range(2, 12) as u32,
            },
            3 => Elem::Tern,
            4 => Elem::Bin,
            _ => Elem::F32,
        }
    }

    /// Weights of type `we[shape]` for a layer: a new parameter, or (sometimes) one that
    /// an earlier layer uses too.
    fn weights(&mut self, we: Elem, act: Num, shape: &[i64]) -> (String, Elem) {
        let shared: Vec<(String, Elem)> = self
            .weights
            .iter()
            .filter(|(_, e, s)| s == shape && (*e != Elem::F32 || act.bits() <= F32_EXACT_BITS))
            .map(|(n, e, _)| (n.clone(), e.clone()))
            .collect();
        if !shared.is_empty() && self.chance(30) {
            self.f("weights: shared by two layers");
            return self.g.rng.pick(&shared);
        }
        let name = self.param("w", &we, shape);
        self.weights
            .push((name.clone(), we.clone(), shape.to_vec()));
        (name, we)
    }

    /// A fixed / ufixed type of `lo..=hi` bits with its integer bits mostly inside it,
    /// sometimes without modes, sometimes with random ones.
    fn fixed(&mut self, signed: bool, lo: i64, hi: i64) -> Elem {
        let w = self.range(lo, hi);
        let i = match self.g.rng.weighted(&[80, 10, 10]) {
            0 => self.range(1, w),
            1 => self.range(-3, 0),
            _ => self.range(w + 1, w + 3),
        } as i32;
        let modes = match self.g.rng.weighted(&[40, 30, 30]) {
            0 => None,
            1 => Some((2, 1, None)),
            _ => {
                let q = self.g.rng.below(QMODES.len());
                let mut o = self.g.rng.below(OMODES.len());
                if !signed && OMODES[o] == "wrap_sm" {
                    o = 1;
                }
                Some((q, o, None))
            }
        };
        Elem::Fixed {
            signed,
            w: w as u32,
            i,
            modes,
        }
    }

    /// The element type of weights for activations of bound `act`.
    fn weight_elem(&mut self, act: Num) -> Elem {
        if act == Num::F32 && self.chance(65) {
            return Elem::F32;
        }
        let wide = if self.mul_bits > MAX_MUL_INPUT_BITS {
            8
        } else {
            0
        };
        match self.g.rng.weighted(&[25, 10, 25, 30, 6, 4]) {
            0 => Elem::Tern,
            1 => Elem::Bin,
            2 => Elem::Int {
                signed: true,
                w: self.range(2, 8 + wide) as u32,
            },
            3 => self.fixed(true, 2, 10 + wide),
            4 => self.fixed(false, 2, 8 + wide),
            // f32 weights need activations that f32 holds exactly (E0305).
            _ if act.bits() <= F32_EXACT_BITS => Elem::F32,
            _ => Elem::Tern,
        }
    }

    /// The element type of biases and batchnorm shifts.
    fn bias_elem(&mut self, act: Num) -> Elem {
        if act == Num::F32 && self.chance(50) {
            return Elem::F32;
        }
        match self.g.rng.weighted(&[60, 20, 20]) {
            0 => self.fixed(true, 2, 16),
            1 => self.fixed(false, 2, 12),
            _ => Elem::Int {
                signed: true,
                w: self.range(2, 10) as u32,
            },
        }
    }

    /// The type `requantize` converts to: fixed / ufixed (mostly rnd, sat), int, tern, f32,
    /// bin.
    fn quant_elem(&mut self) -> Elem {
        match self.g.rng.weighted(&[60, 20, 12, 4, 4, 2]) {
            0 => {
                let mut e = self.fixed(true, 2, 20);
                if let Elem::Fixed { modes, .. } = &mut e {
                    if modes.is_none() || self.chance(40) {
                        *modes = Some((2, 1, None));
                    }
                }
                e
            }
            1 => {
                let mut e = self.fixed(false, 2, 16);
                if let Elem::Fixed { modes, .. } = &mut e {
                    if modes.is_none() || self.chance(40) {
                        *modes = Some((2, 1, None));
                    }
                }
                e
            }
            2 => Elem::Int {
                signed: self.chance(75),
                w: self.range(2, 16) as u32,
            },
            3 => Elem::Tern,
            4 => Elem::F32,
            _ => Elem::Bin,
        }
    }

    // ---- parameters and scalars ----

    /// A module parameter of type `elem[shape]` with random data: its name.
    fn param(&mut self, prefix: &str, elem: &Elem, shape: &[i64]) -> String {
        let name = self.g.fresh(prefix);
        let ty = self.g.ty_of(elem.clone());
        let file = format!("{name}.npy");
        self.g.data_file(&file, elem, shape);
        self.g.items.push(format!(
            "param {name}: {}[{}] = load(\"{file}\")",
            ty.text,
            dims_text(shape)
        ));
        name
    }

    /// An exact scalar `mant * 2^-k` (`mant` 1 or 3, maybe negative): how it is passed (a
    /// literal, a `const`, a scalar `param`, a scalar input of `main`).
    fn scalar(&mut self, prefix: &str, k: i64, negative: bool) -> String {
        let k = k.clamp(-6, 30);
        let mant: i64 = if self.chance(70) { 1 } else { 3 };
        let v = mant as f64 * 2f64.powi(-(k as i32)) * if negative { -1.0 } else { 1.0 };
        // Exact: 2^-k has k decimals.
        let lit = format!("{:.*}", k.max(0) as usize, v);
        // A type that holds it exactly (`ufixed<2, 2 - k>` holds 3 * 2^-k), with a few
        // more bits above and below; narrow, so that f32 holds it (E0305).
        let (above, below) = (self.range(0, 4), self.range(0, 4));
        let ty = if negative {
            format!("fixed<{}, {}>", 3 + above + below, 3 - k + above)
        } else {
            format!("ufixed<{}, {}>", 2 + above + below, 2 - k + above)
        };
        match self.g.rng.weighted(&[55, 15, 15, 15]) {
            0 => {
                self.f("scalar: literal");
                lit
            }
            1 => {
                let name = self.g.fresh(&prefix.to_uppercase());
                self.g.items.push(format!("const {name} = {lit}"));
                self.f("scalar: const");
                name
            }
            2 => {
                let name = self.g.fresh(prefix);
                self.g.items.push(format!("param {name}: {ty} = {lit}"));
                self.f("scalar: scalar param");
                name
            }
            _ => {
                let name = self.g.fresh(prefix);
                self.scalar_inputs.push(format!("{name}: {ty} = {lit}"));
                self.f("scalar: scalar input of main");
                name
            }
        }
    }

    // ---- layers ----

    /// One stage: a spatial layer and its epilogue (or an epilogue alone).
    fn stage(&mut self, a: Act) -> Act {
        let (h, w) = (a.shape[1], a.shape[2]);
        // Pools on sides of 4 and more (mostly; a pool needs 2).
        let can_pool = h >= 2 && w >= 2 && (h.min(w) >= 4 || self.chance(10));
        let which = self.g.rng.weighted(&[
            45,
            20,
            if can_pool { 15 } else { 0 },
            if can_pool { 10 } else { 0 },
            10,
        ]);
        match which {
            0 => {
                let a = self.fit(a, self.mul_bits);
                let a = self.conv2d(a, None);
                self.epilogue(a, true)
            }
            1 => {
                let a = self.fit(a, self.mul_bits);
                let a = self.depthwise(a, None);
                self.epilogue(a, true)
            }
            2 | 3 => {
                let a = self.pool(a, which == 2, false);
                if self.chance(35) {
                    self.epilogue(a, false)
                } else {
                    a
                }
            }
            _ => {
                self.f("stage: elementwise layers only");
                self.elementwise(a)
            }
        }
    }

    /// At least one elementwise layer (a network of no layer at all is no test).
    fn elementwise(&mut self, a: Act) -> Act {
        let before = a.expr.clone();
        let a = self.epilogue(a, false);
        if a.expr == before {
            self.activation(a)
        } else {
            a
        }
    }

    /// Stride and padding arguments as written: omitted when default (sometimes),
    /// positional or named.
    fn stride_pad_args(&mut self, stride: i64, pad: i64) -> String {
        if stride == 1 && pad == 0 && self.chance(60) {
            return String::new();
        }
        match self.g.rng.below(3) {
            0 => format!(", {stride}, {pad}"),
            1 if pad == 0 => format!(", stride={stride}"),
            1 if stride == 1 => format!(", pad={pad}"),
            _ => format!(", stride={stride}, pad={pad}"),
        }
    }

    /// A window size for a map side of `side` with padding `pad`: 1..=5, at most
    /// `side + 2 * pad`.
    fn window(&mut self, side: i64, pad: i64) -> i64 {
        let r = self.g.rng.weighted(&[15, 20, 35, 10, 20]) as i64 + 1;
        r.min(side + 2 * pad).max(1)
    }

    /// `(stride, pad, R, S)` of a window layer on `[h, w]`; `same` keeps the shape.
    fn window_geometry(&mut self, h: i64, w: i64, same: bool) -> (i64, i64, i64, i64) {
        if same {
            let r = self.g.rng.pick(&[1, 3, 3, 5]);
            let s = if self.chance(80) {
                r
            } else {
                self.g.rng.pick(&[1, 3, 5])
            };
            // A window `2p + 1` wide keeps the size with padding p; one padding serves
            // both sides, so a non-square window gets `S = R` unless the pad fits both.
            let pad = (r - 1) / 2;
            let s = if (s - 1) / 2 == pad { s } else { r };
            return (1, pad, r, s);
        }
        // Maps that shrink to a pixel or two check little: stride 2 on sides of 6 and
        // more (mostly).
        let big = h.min(w) >= 6 || self.chance(10);
        let stride = if big && self.chance(40) { 2 } else { 1 };
        let pad = self.g.rng.weighted(&[50, 30, 20]) as i64;
        let r = self.window(h, pad);
        let s = if self.chance(70) {
            r.min(w + 2 * pad)
        } else {
            self.window(w, pad)
        };
        (stride, pad, r, s)
    }

    /// `conv2d(a, w, stride, pad)`; `same`: `K = C`, stride 1, the shape kept.
    fn conv2d(&mut self, a: Act, same: Option<()>) -> Act {
        self.import("conv2d");
        let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2]);
        let (stride, pad, r, s) = self.window_geometry(h, w, same.is_some());
        let ho = (h + 2 * pad - r) / stride + 1;
        let wo = (w + 2 * pad - s) / stride + 1;
        let mut k = if same.is_some() { c } else { self.range(1, 8) };
        while same.is_none() && k > 1 && k * c * r * s * ho * wo > MAX_MACS {
            k -= 1;
        }
        self.count_geometry(stride, pad, r, s, h, w);
        let we = self.weight_elem(a.num);
        let (wname, we) = self.weights(we, a.num, &[k, c, r, s]);
        let args = self.stride_pad_args(stride, pad);
        self.layers.push(format!(
            "conv2d [{c}, {h}, {w}] -> [{k}, {ho}, {wo}]: {r}x{s}, stride {stride}, pad {pad}, {} weights",
            we.text()
        ));
        Act {
            expr: format!("conv2d({}, {wname}{args})", a.expr),
            shape: vec![k, ho, wo],
            num: a.num.mul(Num::of(&we)).sum(c * r * s),
            typ: a.typ + typical(&we) + half_log2(c * r * s),
            var: false,
        }
    }

    /// `depthwise_conv2d(a, w, stride, pad)`; `same`: stride 1, the shape kept.
    fn depthwise(&mut self, a: Act, same: Option<()>) -> Act {
        self.import("depthwise_conv2d");
        let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2]);
        let (stride, pad, r, s) = self.window_geometry(h, w, same.is_some());
        let ho = (h + 2 * pad - r) / stride + 1;
        let wo = (w + 2 * pad - s) / stride + 1;
        self.count_geometry(stride, pad, r, s, h, w);
        let we = self.weight_elem(a.num);
        let (wname, we) = self.weights(we, a.num, &[c, r, s]);
        let args = self.stride_pad_args(stride, pad);
        self.layers.push(format!(
            "depthwise_conv2d [{c}, {h}, {w}] -> [{c}, {ho}, {wo}]: {r}x{s}, stride {stride}, pad {pad}, {} weights",
            we.text()
        ));
        Act {
            expr: format!("depthwise_conv2d({}, {wname}{args})", a.expr),
            shape: vec![c, ho, wo],
            num: a.num.mul(Num::of(&we)).sum(r * s),
            typ: a.typ + typical(&we) + half_log2(r * s),
            var: false,
        }
    }

    /// Counts the features of a window layer's geometry.
    fn count_geometry(&mut self, stride: i64, pad: i64, r: i64, s: i64, h: i64, w: i64) {
        self.f(format!("window: stride {stride}"));
        self.f(format!("window: pad {pad}"));
        self.f(format!("window: {r}x{s}"));
        if r != s {
            self.f("window: not square");
        }
        if h % 2 == 1 || w % 2 == 1 {
            self.f("window: odd input side");
        }
        if pad >= r.min(s) {
            self.f("window: pad >= window (windows of padding only)");
        }
    }

    /// `maxpool2d(a, size)` or `avgpool2d(a, size)`.
    /// `shrink`: a size of at least 2 (the map must have 2 rows and columns).
    fn pool(&mut self, a: Act, max: bool, shrink: bool) -> Act {
        let name = if max { "maxpool2d" } else { "avgpool2d" };
        self.import(name);
        let (c, h, w) = (a.shape[0], a.shape[1], a.shape[2]);
        let weights = if shrink { [0, 70, 24] } else { [6, 70, 24] };
        let size = (self.g.rng.weighted(&weights) as i64 + 1).min(h).min(w);
        let args = match (size, self.g.rng.below(3)) {
            (2, 0) => String::new(),
            (_, 1) => format!(", size={size}"),
            _ => format!(", {size}"),
        };
        if h % size != 0 || w % size != 0 {
            self.f("pool: size does not divide the map (rows dropped)");
        }
        self.f(format!("pool: size {size}"));
        let (ho, wo) = (h / size, w / size);
        self.layers.push(format!(
            "{name} [{c}, {h}, {w}] -> [{c}, {ho}, {wo}]: size {size}"
        ));
        Act {
            expr: format!("{name}({}{args})", a.expr),
            shape: vec![c, ho, wo],
            // The mean's bound is the input's; the sum's is kept for a division that
            // keeps the sum's width.
            num: if max { a.num } else { a.num.sum(size * size) },
            typ: a.typ,
            var: false,
        }
    }

    /// Elementwise layers after a spatial one: bias or batchnorm (`arith`: the layer
    /// before multiplied), an activation, a requantization, in the usual order or not,
    /// nested or one statement each.
    fn epilogue(&mut self, mut a: Act, arith: bool) -> Act {
        let mut ops: Vec<u8> = Vec::new();
        if self.chance(if arith { 65 } else { 25 }) {
            ops.push(if self.chance(70) { b'b' } else { b'n' });
        }
        if self.chance(if arith { 70 } else { 40 }) {
            ops.push(b'a');
        }
        if self.chance(if arith { 55 } else { 30 }) {
            ops.push(b'q');
        }
        if ops.len() > 1 && self.chance(15) {
            self.f("epilogue: unusual order");
            let i = self.g.rng.below(ops.len());
            let j = self.g.rng.below(ops.len());
            ops.swap(i, j);
        }
        let split = self.chance(25);
        for op in ops {
            if split {
                a = self.bind(a);
            }
            a = match op {
                b'b' => self.bias_add(a),
                b'n' => self.batchnorm(a),
                b'a' => self.activation(a),
                _ => self.requantize(a),
            };
        }
        a
    }

    fn bias_add(&mut self, a: Act) -> Act {
        self.import("bias_add");
        let be = self.bias_elem(a.num);
        let b = self.param("b", &be, &[a.shape[0]]);
        self.layers.push(format!("bias_add: {} biases", be.text()));
        Act {
            expr: format!("bias_add({}, {b})", a.expr),
            num: a.num.add(Num::of(&be)),
            typ: a.typ.max(typical(&be)),
            var: false,
            ..a
        }
    }

    fn batchnorm(&mut self, a: Act) -> Act {
        self.import("batchnorm");
        let se = if a.num == Num::F32 && self.chance(50) {
            Elem::F32
        } else {
            let signed = self.chance(60);
            self.fixed(signed, 2, 10)
        };
        let te = self.bias_elem(a.num);
        let s = self.param("s", &se, &[a.shape[0]]);
        let t = self.param("t", &te, &[a.shape[0]]);
        self.layers.push(format!(
            "batchnorm: {} scales, {} shifts",
            se.text(),
            te.text()
        ));
        Act {
            expr: format!("batchnorm({}, {s}, {t})", a.expr),
            num: a.num.mul(Num::of(&se)).add(Num::of(&te)),
            typ: (a.typ + typical(&se)).max(typical(&te)),
            var: false,
            ..a
        }
    }

    /// `relu`, `relu6` or `leaky_relu` (the element type is kept).
    fn activation(&mut self, a: Act) -> Act {
        let mut typ = a.typ;
        let expr = match self.g.rng.weighted(&[50, 20, 30]) {
            0 => {
                self.import("relu");
                format!("relu({})", a.expr)
            }
            1 => {
                self.import("relu6");
                typ = typ.min(2);
                format!("relu6({})", a.expr)
            }
            _ => {
                self.import("leaky_relu");
                let k = self.range(1, 5);
                let neg = self.chance(10);
                let alpha = self.scalar("alpha", k, neg);
                format!("leaky_relu({}, {alpha})", a.expr)
            }
        };
        self.layers
            .push(expr.split('(').next().unwrap_or("").to_string());
        Act {
            expr,
            typ,
            var: false,
            ..a
        }
    }

    /// `requantize[T](a, scale)` to a random type, with a scale that maps the typical
    /// magnitude of `a` near the top of `T` (mostly; some values saturate, some round
    /// to zero).
    fn requantize(&mut self, a: Act) -> Act {
        self.import("requantize");
        let te = self.quant_elem();
        let ty = self.g.ty_of(te.clone());
        let target = Num::of(&te);
        let k = match target {
            Num::Exact { m: mt, .. } if self.chance(95) => {
                (a.typ - mt + 1) as i64 + self.range(-1, 1)
            }
            _ => self.range(-2, 6),
        };
        // A negative scale into an unsigned type leaves mostly zeros.
        let unsigned = matches!(
            te,
            Elem::Fixed { signed: false, .. } | Elem::Int { signed: false, .. }
        );
        let neg = !unsigned && self.chance(8);
        let scale = self.scalar("s", k, neg);
        let typ = match target {
            Num::Exact { m, .. } => m - 1,
            Num::F32 => a.typ - k as i32,
        };
        self.layers
            .push(format!("requantize[{}]: scale {scale}", te.text()));
        Act {
            expr: format!("requantize[{}]({}, {scale})", ty.text, a.expr),
            num: target,
            typ,
            var: false,
            ..a
        }
    }

    /// `a`, requantized when its bound needs more than `bits` bits.
    fn fit(&mut self, a: Act, bits: i32) -> Act {
        if a.num.bits() <= bits {
            return a;
        }
        self.f("requantize: inserted to bound the width");
        self.requantize(a)
    }

    /// A residual diamond: `add` of two branches of shape-preserving layers of `a`.
    fn residual(&mut self, a: Act) -> Act {
        self.f("stage: residual add");
        self.layers.push("residual: branch 1".into());
        let a = self.bind(a);
        let depth = 1 + self.g.rng.below(2);
        let long = self.branch(a.clone(), depth);
        let short = if self.chance(55) {
            self.f("residual: identity branch");
            a
        } else {
            self.layers.push("residual: branch 2".into());
            self.branch(a, 1)
        };
        let (l, r) = if self.chance(50) {
            (long, short)
        } else {
            (short, long)
        };
        // f32 added to an exact value needs one that f32 holds exactly (E0305).
        let (l, r) = match (l.num, r.num) {
            (Num::F32, Num::Exact { .. }) => (l, self.fit(r, F32_EXACT_BITS)),
            (Num::Exact { .. }, Num::F32) => (self.fit(l, F32_EXACT_BITS), r),
            _ => (l, r),
        };
        let l = self.bind(l);
        self.import("add");
        self.layers.push("add".into());
        Act {
            expr: format!("add({}, {})", l.expr, r.expr),
            shape: l.shape.clone(),
            num: l.num.add(r.num),
            typ: l.typ.max(r.typ),
            var: false,
        }
    }

    /// `n` shape-preserving layers with their epilogues.
    fn branch(&mut self, mut a: Act, n: usize) -> Act {
        for _ in 0..n {
            a = match self.g.rng.weighted(&[50, 30, 20]) {
                0 => {
                    let a = self.fit(a, self.mul_bits);
                    let a = self.conv2d(a, Some(()));
                    self.epilogue(a, true)
                }
                1 => {
                    let a = self.fit(a, self.mul_bits);
                    let a = self.depthwise(a, Some(()));
                    self.epilogue(a, true)
                }
                _ => self.elementwise(a),
            };
            a = self.bind(a);
        }
        a
    }

    /// `flatten` and one or two dense layers.
    fn dense_tail(&mut self, mut a: Act) -> Act {
        while a.shape.iter().product::<i64>() > MAX_DENSE_INPUTS
            && a.shape[1] >= 2
            && a.shape[2] >= 2
        {
            a = self.pool(a, true, true);
            a = self.bind(a);
        }
        let n: i64 = a.shape.iter().product();
        if n > MAX_DENSE_INPUTS {
            return a;
        }
        self.import("flatten");
        self.layers.push(format!("flatten -> [{n}]"));
        let mut v = self.bind(Act {
            expr: format!("flatten({})", a.expr),
            shape: vec![n],
            ..a
        });
        let layers = if self.chance(30) { 2 } else { 1 };
        for l in 0..layers {
            v = self.fit(v, self.mul_bits);
            let n = v.shape[0];
            let m = self.range(1, 12);
            let we = self.weight_elem(v.num);
            let w = self.param("w", &we, &[m, n]);
            let mut num = v.num.mul(Num::of(&we)).sum(n);
            let mut typ = v.typ + typical(&we) + half_log2(n);
            let expr = if self.chance(50) {
                self.import("dense");
                self.layers
                    .push(format!("dense [{n}] -> [{m}], {} weights", we.text()));
                format!("dense({}, {w})", v.expr)
            } else {
                self.import("dense_bias");
                let be = self.bias_elem(v.num);
                let b = self.param("b", &be, &[m]);
                num = num.add(Num::of(&be));
                typ = typ.max(typical(&be));
                self.layers.push(format!(
                    "dense_bias [{n}] -> [{m}], {} weights, {} biases",
                    we.text(),
                    be.text()
                ));
                format!("dense_bias({}, {w}, {b})", v.expr)
            };
            v = Act {
                expr,
                shape: vec![m],
                num,
                typ,
                var: false,
            };
            if l + 1 < layers {
                if self.chance(70) {
                    v = self.activation(v);
                }
                v = self.requantize(v);
            }
            v = self.bind(v);
        }
        v
    }
}

/// The log2 of a typical magnitude of values of type `e` (the data of `data.rs`: most
/// values spread over the type's range; f32 data within +-100).
fn typical(e: &Elem) -> i32 {
    match Num::of(e) {
        Num::F32 => 6,
        Num::Exact { m, .. } => (m - 1).max(0),
    }
}

/// `ceil(log2(n) / 2)`: how much a sum of `n` random terms grows (in bits).
fn half_log2(n: i64) -> i32 {
    (64 - (n.max(1) - 1).leading_zeros() as i32 + 1) / 2
}

/// `a, b, c` of a shape.
fn dims_text(shape: &[i64]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
