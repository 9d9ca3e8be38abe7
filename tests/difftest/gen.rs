//! The program generator: random, well-typed kiln programs with their input data.
//!
//! A program is built top-down while a small model of kiln's typing is kept for every
//! value (see [`T`]): the kind (bool, f32, exact), for exact values an upper bound of the
//! magnitude (`|v| <= 2^m`), the number of fractional bits exactly as kiln counts them, and
//! the *class* the front end sees (integer, fixed point, or unknown for type variables).
//! The model is what keeps programs valid: `//`, `%` and bitwise operators only get
//! integer operands, `/` gets a divisor that can never be zero and an operand with
//! fraction bits, values that would grow past a few hundred bits are narrowed by a
//! conversion, f32 never mixes with exact values without one, every index is either
//! provably in bounds from the loop bounds or guarded by a condition, every tensor is
//! fully written before it is read, and every scalar is assigned on every path before
//! it is read.
//!
//! Everything random is drawn from one [`Rng`], so `(seed, case)` determines the case.

use super::npy::{self, Array, Data};
use super::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// Open compiler bugs found by this generator: (id, what triggers it, minimal program).
/// While a bug is listed here the generator avoids its construct (unless the test is
/// told to generate it: `KILN_DIFF_KNOWN_BUGS`), so the differential test stays a useful
/// gate; move the entry to `FIXED_BUGS` when the bug is fixed (its construct is then
/// generated again).
pub const KNOWN_BUGS: &[(&str, &str, &str)] = &[];

/// Bugs this generator found that are fixed (all JIT bugs were found against the JIT of
/// commit 7ed7202 and no longer reproduce at c5c50ef; `interp-shift-repr` and
/// `declared-tensor-self-update` were fixed at the same time; the first five, front-end
/// bugs, were fixed after that). Their constructs are
/// generated again: the code that avoided them stays, switched on by putting the entry
/// back into `KNOWN_BUGS` should one regress.
pub const FIXED_BUGS: &[(&str, &str, &str)] = &[
    (
        "comprehension-negative-step",
        "the extent of a comprehension over a range with a negative step is wrong (E0401)",
        "kernel main() -> int<8>[2]:\n    t = [v for v in range(1, -1, -1)]\n    return t",
    ),
    (
        "nested-reduction",
        "a reduction inside the body of a reduction panics in lowering (local never typed)",
        "kernel main(x: int<8>[4]) -> int<16>:\n    s = sum(max(x) for j in range(3))\n    return s",
    ),
    (
        "f32-literal-context",
        "inside f32(...), literal arguments of min/max/abs/~ and size variables are typed f32 (E0305)",
        "kernel main(x: int<8> = 3) -> f32:\n    f = f32(min(2, x))\n    return f",
    ),
    (
        "declared-self-update-e0311",
        "a declared fixed-point scalar assigned an expression of itself can be rejected with E0311 (\"range grows without bound\"), though its type is declared: `s = sum(s for j in range(1))`, or `s = s * t` with t from constant data below 1 (E0311 blamed on t)",
        "kernel main(x: fixed<8, 4> = 1) -> fixed<12, 11>:\n    s: fixed<12, 11> = x\n    s = sum(s for j in range(1))\n    return s",
    ),
    (
        "bitwise-update-e0311",
        "a bitwise update (`s &= 1`) of a declared scalar in a branch next to an unrelated new local makes kiln reject that local with E0311 (\"range grows without bound\")",
        "kernel main(c: bool = True) -> int<15>:\n    s: int<15> = 0\n    if c:\n        s += 7\n    else:\n        f = 0\n        s &= 1\n    return s",
    ),
    (
        "jit-narrow-divmod",
        "JIT: `//` and `%` on narrow operands fail cranelift's verifier (E0513)",
        "kernel main(x: int<4> = 1) -> int<8>:\n    return x // 3",
    ),
    (
        "jit-narrow-quant",
        "JIT: conversions to a narrow fixed type (W <= 6) with trn_zero, rnd_zero, rnd_min_inf, rnd_inf or rnd_conv that drop bits fail cranelift's verifier (E0513)",
        "kernel main(x: fixed<6, 1> = 0.75) -> fixed<6, 1, rnd_conv, sat>:\n    return x * 0.5",
    ),
    (
        "jit-unsigned-abs",
        "JIT: abs of an unsigned value whose top storage bit is set is computed as signed (abs(uint<8> 200) gives 56)",
        "kernel main(x: uint<8> = 200) -> int<32>:\n    return abs(x)",
    ),
    (
        "interp-shift-repr",
        "interpreter: `>>` floors to the LSB of the value as held at run time, which after a conditional, min, max or abs can be coarser than the operand's type (max(3, x) >> 1 with x: ufixed<8, 4> gives 1, not 1.5)",
        "kernel main(x: ufixed<8, 4> = 0.5) -> ufixed<8, 4>:\n    return max(3, x) >> 1",
    ),
    (
        "jit-u128-input",
        "JIT: an input of type uint<128> / ufixed<128, I> holding a value >= 2^127 panics (\"value fits its type\", layout::encode) instead of running",
        "kernel main(x: uint<128>) -> int<8>:\n    return 1\n# with --input x=<int64 array [-1]>",
    ),
    (
        "declared-tensor-self-update",
        "the inferred range of a declared tensor's elements ignores stores that depend on the tensor itself in a loop; both engines then compute with too narrow a type, differently (expected 36 67 129 253 501 997 1989; interpreter 36 3 1 61 53 37 5; JIT 36 67 -127 -3 -11 -27 -59)",
        "kernel main() -> int<32>[7]:\n    y: int<32>[7] = 5\n    for k in range(7):\n        y[k] = sum(y) + 1\n    return y",
    ),
    (
        "jit-accumulator-drift",
        "JIT: a declared accumulator `acc: T; acc += e` is given the range N x range(e), which ignores that every `+=` rounds to T; when that rounding drifts past the range the JIT computes wrong values (x = 6 x -0.01 in fixed<8, -1>: interpreter -6, JIT -2)",
        "kernel main(x: fixed<8, -1>[6]) -> fixed<11, 5>:\n    acc: fixed<22, 22> = 0\n    for j in range(6):\n        acc += x[j]\n    y: fixed<11, 5> = acc\n    return y\n# with --input x=<float64 array of six -0.01>",
    ),
    (
        "jit-constant-cancellation",
        "JIT: adding and subtracting back a constant, (x + 100) - 100 with x: fixed<8, 0> = 0.25, gives -0.140625 (the constant is not aligned to the operand's fraction bits when the narrow result is computed); not avoided (rare)",
        "kernel main(x: fixed<8, 0> = 0.25) -> fixed<20, 10>:\n    return (x + 100) - 100",
    ),
    (
        "jit-fixed-to-int",
        "JIT: converting a value with fraction bits to int<W>/uint<W> gives 0 (it should truncate toward zero)",
        "kernel main(x: fixed<8, 4> = -2.5) -> int<8>:\n    return x",
    ),
    (
        "jit-signed-to-uint",
        "JIT: converting a negative signed value to uint<W> does not always wrap to W bits: int<5> -1 to uint<14> gives 65535, int<8> -29 to uint<23> gives 2^64 - 29",
        "kernel main(x: int<5> = -1) -> uint<14>:\n    return x",
    ),
    (
        "jit-bitwise-coarse-lsb",
        "JIT: bitwise operators on integers held in fixed types with I > W (LSB above 1) wrap the result at too few bits (192 ^ 0 gives -64 for fixed<8, 10>)",
        "kernel main(x: fixed<8, 10> = 192) -> int<64>:\n    return x ^ 0",
    ),
    (
        "jit-i128-minmax",
        "JIT: min/max and saturating conversions (sat, sat_sym) of values wider than 64 bits use smin/smax.i128, which cranelift lacks (E0513)",
        "kernel main(x: uint<39> = 5) -> int<8>:\n    return min(x * x, 3)",
    ),
    (
        "jit-i128-select-minmax",
        "JIT: a conditional expression choosing between two values wider than 64 bits by comparing them (`a if a <= b else b`) becomes a 128-bit min in cranelift's optimizer, which its x86 back end cannot lower (E0513; found at seed 1, case 173 of 4000; tests/run/bug_jit_i128_select.kiln)",
        "kernel main(x: uint<39> = 412316860415, k: uint<39> = 5) -> uint<78>:\n    a = x * x\n    b = k * x\n    return a if a <= b else b",
    ),
];

/// Generator settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// Ids of `KNOWN_BUGS` whose constructs are avoided.
    pub avoid: Vec<&'static str>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            avoid: KNOWN_BUGS.iter().map(|b| b.0).collect(),
        }
    }
}

/// One generated test case.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub case: u64,
    /// The source of `main.kiln`.
    pub source: String,
    /// Data files written next to `main.kiln`: (file name, bytes).
    pub files: Vec<(String, Vec<u8>)>,
    /// `--input NAME=FILE` arguments (file names relative to the case directory).
    pub inputs: Vec<(String, String)>,
    /// How many times each feature was generated.
    pub features: BTreeMap<String, usize>,
}

pub fn generate(seed: u64, case: u64, cfg: &Config) -> Case {
    let mut g = Gen::new(Rng::for_case(seed, case), cfg.clone());
    let source = g.program();
    Case {
        seed,
        case,
        source,
        files: g.files,
        inputs: g.cli_inputs,
        features: g.feats,
    }
}

// ------------------------------------------------------------------------- types

pub const QMODES: [&str; 7] = [
    "trn",
    "trn_zero",
    "rnd",
    "rnd_zero",
    "rnd_min_inf",
    "rnd_inf",
    "rnd_conv",
];
pub const OMODES: [&str; 5] = ["wrap", "sat", "sat_zero", "sat_sym", "wrap_sm"];

/// An element type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    Int {
        signed: bool,
        w: u32,
    },
    Fixed {
        signed: bool,
        w: u32,
        i: i32,
        /// (quantization, overflow, saturation bits) when written explicitly.
        modes: Option<(usize, usize, Option<u32>)>,
    },
    Bin,
    Tern,
    F32,
    Bool,
}

impl Elem {
    pub fn text(&self) -> String {
        match self {
            Elem::Int { signed: true, w } => format!("int<{w}>"),
            Elem::Int { signed: false, w } => format!("uint<{w}>"),
            Elem::Fixed {
                signed,
                w,
                i,
                modes,
            } => {
                let name = if *signed { "fixed" } else { "ufixed" };
                match modes {
                    None => format!("{name}<{w}, {i}>"),
                    Some((q, o, None)) => {
                        format!("{name}<{w}, {i}, {}, {}>", QMODES[*q], OMODES[*o])
                    }
                    Some((q, o, Some(n))) => {
                        format!("{name}<{w}, {i}, {}, {}, {n}>", QMODES[*q], OMODES[*o])
                    }
                }
            }
            Elem::Bin => "bin".into(),
            Elem::Tern => "tern".into(),
            Elem::F32 => "f32".into(),
            Elem::Bool => "bool".into(),
        }
    }

    /// The model of a value of this type.
    pub fn t(&self) -> T {
        match self {
            Elem::Int { signed, w } => T::Ex(Ex {
                m: if *signed { *w as i32 - 1 } else { *w as i32 },
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
            Elem::Fixed { signed, w, i, .. } => {
                let fb = *w as i32 - i;
                T::Ex(Ex {
                    m: if *signed { i - 1 } else { *i },
                    fb,
                    cls: if fb <= 0 { Cls::Int } else { Cls::Fixed },
                    lit: false,
                })
            }
            Elem::Bin | Elem::Tern => T::Ex(Ex {
                m: 0,
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
            Elem::F32 => T::F32(31),
            Elem::Bool => T::Bool,
        }
    }

    pub fn is_exact(&self) -> bool {
        !matches!(self, Elem::F32 | Elem::Bool)
    }

    /// Total bits (for the output writer's 53-bit limit).
    fn bits(&self) -> u32 {
        match self {
            Elem::Int { w, .. } | Elem::Fixed { w, .. } => *w,
            _ => 2,
        }
    }
}

/// An element type as written in the program (possibly through an alias or a type
/// variable).
#[derive(Clone, Debug)]
pub struct Ty {
    pub text: String,
    pub t: T,
}

/// The class of an exact value as kiln's front end sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cls {
    /// Integer valued: int, uint, bin, tern, fixed with no fraction bits, loop variables.
    Int,
    /// Possibly fractional.
    Fixed,
    /// Depends on a type variable (inside a generic kernel).
    Gen,
}

fn join_cls(a: Cls, b: Cls) -> Cls {
    match (a, b) {
        (Cls::Gen, _) | (_, Cls::Gen) => Cls::Gen,
        (Cls::Int, Cls::Int) => Cls::Int,
        _ => Cls::Fixed,
    }
}

/// The model of an exact value: `|v| <= 2^m`, `fb` fraction bits (as kiln counts them).
#[derive(Clone, Copy, Debug)]
pub struct Ex {
    pub m: i32,
    pub fb: i32,
    pub cls: Cls,
    /// A literal (or an expression of literals only).
    pub lit: bool,
}

impl Ex {
    fn cost(&self) -> i32 {
        self.m.max(0) + self.fb.max(0) + 1
    }
}

/// The model of a value.
#[derive(Clone, Copy, Debug)]
pub enum T {
    Bool,
    /// An f32 with `|v| <= 2^m` (to keep f32 chains finite).
    F32(i32),
    Ex(Ex),
}

impl T {
    fn kind(&self) -> Kind {
        match self {
            T::Bool => Kind::Bool,
            T::F32(_) => Kind::F32,
            T::Ex(_) => Kind::Ex,
        }
    }
    fn ex(&self) -> Ex {
        match self {
            T::Ex(e) => *e,
            _ => panic!("not exact: {self:?}"),
        }
    }
    fn is_int(&self) -> bool {
        matches!(self, T::Ex(e) if e.cls == Cls::Int)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    F32,
    Ex,
}

fn join_t(a: T, b: T) -> T {
    match (a, b) {
        (T::Ex(x), T::Ex(y)) => T::Ex(Ex {
            m: x.m.max(y.m),
            fb: x.fb.max(y.fb),
            cls: join_cls(x.cls, y.cls),
            lit: x.lit && y.lit,
        }),
        (T::F32(x), T::F32(y)) => T::F32(x.max(y)),
        (T::Bool, T::Bool) => T::Bool,
        _ => panic!("joining {a:?} and {b:?}"),
    }
}

/// `ceil(log2(|v|))`, 0 for |v| <= 1: the `m` of an integer.
fn mbits(v: i64) -> i32 {
    let a = v.unsigned_abs();
    if a <= 1 {
        0
    } else {
        64 - (a - 1).leading_zeros() as i32
    }
}

fn log2_ceil(n: i64) -> i32 {
    mbits(n.max(1))
}

// ------------------------------------------------------------------------- shapes

/// A dimension: symbolically `base + k` (base a size variable of a generic kernel, or
/// none for constants), with its value in the instance being generated.
#[derive(Clone, Debug)]
pub struct Dim {
    pub base: Option<String>,
    pub k: i64,
    pub val: i64,
    pub text: String,
}

impl Dim {
    fn lit(v: i64) -> Dim {
        Dim {
            base: None,
            k: v,
            val: v,
            text: v.to_string(),
        }
    }
    fn named(name: &str, v: i64) -> Dim {
        Dim {
            base: None,
            k: v,
            val: v,
            text: name.to_string(),
        }
    }
    fn size(name: &str, v: i64) -> Dim {
        Dim {
            base: Some(name.to_string()),
            k: 0,
            val: v,
            text: name.to_string(),
        }
    }
    /// `self + c`.
    fn plus(&self, c: i64) -> Dim {
        if c == 0 {
            return self.clone();
        }
        match &self.base {
            None => {
                if self.text.parse::<i64>().is_ok() {
                    Dim::lit(self.val + c)
                } else {
                    Dim {
                        base: None,
                        k: self.k + c,
                        val: self.val + c,
                        text: format!("{}{}", self.text, signed_term(c)),
                    }
                }
            }
            Some(b) => Dim {
                base: Some(b.clone()),
                k: self.k + c,
                val: self.val + c,
                text: format!("{}{}", b, signed_term(self.k + c)),
            },
        }
    }
    fn same(&self, o: &Dim) -> bool {
        self.base == o.base && self.k == o.k
    }
    /// The same dimension as seen from a caller, where all sizes are constants.
    fn concrete(&self) -> Dim {
        Dim::lit(self.val)
    }
}

fn signed_term(c: i64) -> String {
    match c.cmp(&0) {
        std::cmp::Ordering::Less => format!(" - {}", -c),
        std::cmp::Ordering::Greater => format!(" + {c}"),
        std::cmp::Ordering::Equal => String::new(),
    }
}

fn same_shape(a: &[Dim], b: &[Dim]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y))
}

fn shape_text(s: &[Dim]) -> String {
    s.iter()
        .map(|d| d.text.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

fn numel(s: &[Dim]) -> i64 {
    s.iter().map(|d| d.val).product()
}

// ------------------------------------------------------------------------- environment

/// A named value in scope.
#[derive(Clone, Debug)]
struct Var {
    name: String,
    t: T,
    /// None for scalars.
    shape: Option<Vec<Dim>>,
    /// The declared element type (stores and assignments convert to it).
    decl: Option<Ty>,
    /// Elements may be stored (a local tensor with a declared element type).
    store: bool,
    /// The name may be assigned again (a scalar local).
    assign: bool,
    /// Fully written (tensors) / assigned (scalars).
    readable: bool,
    /// A kernel input or local of this kernel (candidates for results).
    local: bool,
}

#[derive(Clone, Debug)]
struct LVar {
    name: String,
    lo: i64,
    hi: i64,
}

/// A lambda parameter: reads the current element, or neighbours `p[o...]` within
/// `radius` of it.
#[derive(Clone, Debug)]
struct Win {
    name: String,
    t: T,
    radius: Vec<i64>,
}

#[derive(Clone, Debug, Default)]
struct Env {
    vars: Vec<Var>,
    loops: Vec<LVar>,
    /// Integer names usable as values: sizes, const parameters, module consts.
    ints: Vec<Dim>,
    /// Type variables in scope and the model of what they are bound to.
    tvars: Vec<(String, T)>,
    /// Type variables bound to integer types (int, uint, bin, tern, ...).
    tv_int: Vec<String>,
    /// Lambda parameters (inside a lambda nothing else is visible).
    windows: Vec<Win>,
    in_lambda: bool,
    /// Inside a generic kernel.
    generic: bool,
    /// Loop / branch nesting.
    nest: usize,
    /// Product of the trip counts of the enclosing loops (keeps run time small).
    trips: i64,
    /// Inside the body of a reduction (`sum(e for ...)`, `max(...)`).
    in_reduce: bool,
}

impl Env {
    fn new() -> Env {
        Env {
            trips: 1,
            ..Default::default()
        }
    }
    fn scalars(&self, kind: Kind) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.shape.is_none() && v.readable && v.t.kind() == kind)
            .cloned()
            .collect()
    }
    fn tensors(&self, kind: Option<Kind>) -> Vec<Var> {
        self.vars
            .iter()
            .filter(|v| v.shape.is_some() && v.readable)
            .filter(|v| kind.is_none_or(|k| v.t.kind() == k))
            .cloned()
            .collect()
    }
    fn var_mut(&mut self, name: &str) -> &mut Var {
        self.vars
            .iter_mut()
            .rev()
            .find(|v| v.name == name)
            .expect("var")
    }
}

/// An expression and its model.
#[derive(Clone, Debug)]
struct E {
    s: String,
    t: T,
}

/// What an expression must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum W {
    /// Exact, any class.
    Ex,
    /// Exact of class Int (operands of `//`, `%`, bitwise operators).
    Int,
    F32,
    Bool,
}

fn want_of(t: &T) -> W {
    match t {
        T::Bool => W::Bool,
        T::F32(_) => W::F32,
        T::Ex(_) => W::Ex,
    }
}

/// The statements of a kernel body being written.
struct Body {
    lines: Vec<String>,
    ind: usize,
    env: Env,
}

impl Body {
    fn new(env: Env) -> Body {
        Body {
            lines: Vec::new(),
            ind: 1,
            env,
        }
    }
    fn line(&mut self, s: impl AsRef<str>) {
        self.lines
            .push(format!("{}{}", "    ".repeat(self.ind), s.as_ref()));
    }
    /// Enters a block: returns the scope mark to give back to `close`.
    fn open(&mut self, header: String) -> usize {
        self.line(header);
        self.ind += 1;
        self.env.nest += 1;
        self.env.vars.len()
    }
    fn close(&mut self, mark: usize) {
        self.ind -= 1;
        self.env.nest -= 1;
        self.env.vars.truncate(mark);
    }
}

// ------------------------------------------------------------------------- generator

struct Gen {
    rng: Rng,
    cfg: Config,
    feats: BTreeMap<String, usize>,
    next_id: usize,
    /// `type`, `const` and `param` items, in order.
    items: Vec<String>,
    helpers: Vec<String>,
    imports: BTreeSet<&'static str>,
    files: Vec<(String, Vec<u8>)>,
    cli_inputs: Vec<(String, String)>,
    /// Rendered parameters of `main`.
    main_params: Vec<String>,
    /// Module params and consts, visible in every kernel.
    globals: Vec<Var>,
    consts: Vec<Dim>,
    /// Element type aliases defined so far.
    aliases: Vec<(String, Elem)>,
    helper_budget: usize,
    /// Values wider than this are narrowed by a conversion.
    max_cost: i32,
}

/// The widest intermediate (in bits, roughly) of a case that allows wide arithmetic;
/// other cases keep every intermediate within 128 bits (operands of at most
/// `NARROW_COST` bits), which is what the JIT compiles.
const WIDE_COST: i32 = 240;
const NARROW_COST: i32 = 56;
const MAX_TRIPS: i64 = 3000;

impl Gen {
    fn new(rng: Rng, cfg: Config) -> Gen {
        Gen {
            rng,
            cfg,
            feats: BTreeMap::new(),
            next_id: 0,
            items: Vec::new(),
            helpers: Vec::new(),
            imports: BTreeSet::new(),
            files: Vec::new(),
            cli_inputs: Vec::new(),
            main_params: Vec::new(),
            globals: Vec::new(),
            consts: Vec::new(),
            aliases: Vec::new(),
            helper_budget: 2,
            max_cost: NARROW_COST,
        }
    }

    /// Whether the construct of bug `id` is avoided (only open bugs, `KNOWN_BUGS`, are).
    fn avoid(&self, id: &str) -> bool {
        debug_assert!(
            KNOWN_BUGS.iter().chain(FIXED_BUGS).any(|b| b.0 == id),
            "unknown bug id {id}"
        );
        self.cfg.avoid.contains(&id)
    }

    fn f(&mut self, name: impl Into<String>) {
        *self.feats.entry(name.into()).or_insert(0) += 1;
    }

    fn fresh(&mut self, prefix: &str) -> String {
        loop {
            self.next_id += 1;
            let name = format!("{prefix}{}", self.next_id);
            // `f32` is a keyword.
            if name != "f32" {
                return name;
            }
        }
    }

    fn chance(&mut self, p: u32) -> bool {
        self.rng.chance(p)
    }

    // ----------------------------------------------------------------- types

    fn width(&mut self) -> u32 {
        match self.rng.weighted(&[62, 22, 12, 4]) {
            0 => self.rng.range(1, 16) as u32,
            1 => self.rng.range(17, 32) as u32,
            2 => self.rng.range(33, 64) as u32,
            _ => self.rng.range(65, 128) as u32,
        }
    }

    /// A random exact element type (int/uint/fixed/ufixed/bin/tern, every mode).
    fn exact_elem(&mut self) -> Elem {
        match self.rng.weighted(&[32, 46, 5, 5]) {
            0 => {
                let signed = self.chance(65);
                let mut w = self.width();
                if !signed && w == 128 && self.avoid("jit-u128-input") {
                    w = 127;
                }
                Elem::Int { signed, w }
            }
            1 => self.fixed_elem(),
            2 => Elem::Bin,
            _ => Elem::Tern,
        }
    }

    fn fixed_elem(&mut self) -> Elem {
        let signed = self.chance(70);
        let mut w = self.width();
        if !signed && w == 128 && self.avoid("jit-u128-input") {
            w = 127;
        }
        let wi = w as i64;
        let mut i = match self.rng.weighted(&[65, 15, 15, 5]) {
            0 => self.rng.range(1, wi),
            1 => self.rng.range(-6, 0),
            2 => self.rng.range(wi + 1, wi + 6),
            _ => self.rng.range(-2, wi + 2),
        } as i32;
        // Keep fraction bits and magnitudes within what f32 conversions accept.
        i = i.max(w as i32 - 110);
        let modes = if self.chance(60) {
            let q = self.rng.below(7);
            let mut o = self.rng.below(5);
            if !signed && o == 4 {
                o = self.rng.below(4);
            }
            if (w > 24 || w as i32 - i > 16) && (o == 1 || o == 3) && self.avoid("jit-i128-minmax")
            {
                // Saturating conversions to wide types clamp in 128-bit arithmetic.
                o = 0;
            }
            let n = if (o == 0 || o == 4) && self.chance(50) {
                Some(self.rng.range(0, 3.min(w as i64)) as u32)
            } else {
                None
            };
            Some((q, o, n))
        } else {
            None
        };
        Elem::Fixed {
            signed,
            w,
            i,
            modes,
        }
    }

    /// Counts the features of a type that appears in the program.
    fn count_elem(&mut self, e: &Elem) {
        match e {
            Elem::Int { signed, w } => {
                self.f(if *signed {
                    "type: int<N>"
                } else {
                    "type: uint<N>"
                });
                if *w > 64 {
                    self.f("type: width > 64");
                }
                if *w == 1 {
                    self.f("type: width 1");
                }
            }
            Elem::Fixed {
                signed,
                w,
                i,
                modes,
            } => {
                self.f(if *signed {
                    "type: fixed<W, I>"
                } else {
                    "type: ufixed<W, I>"
                });
                if *w > 64 {
                    self.f("type: width > 64");
                }
                if *i <= 0 {
                    self.f("type: fixed I <= 0");
                }
                if *i > *w as i32 {
                    self.f("type: fixed I > W");
                }
                if let Some((q, o, n)) = modes {
                    self.f(format!("quant: {}", QMODES[*q]));
                    self.f(format!("ovf: {}", OMODES[*o]));
                    if let Some(n) = n {
                        self.f(format!("ovf: N = {n}"));
                    }
                } else {
                    self.f("quant: (default)");
                }
            }
            Elem::Bin => self.f("type: bin"),
            Elem::Tern => self.f("type: tern"),
            Elem::F32 => self.f("type: f32"),
            Elem::Bool => self.f("type: bool"),
        }
    }

    /// A type as written: sometimes through a (new or existing) alias.
    fn ty_of(&mut self, e: Elem) -> Ty {
        self.count_elem(&e);
        let t = e.t();
        if e.is_exact() && self.chance(15) {
            if let Some((name, _)) = self.aliases.iter().find(|(_, a)| *a == e) {
                return Ty {
                    text: name.clone(),
                    t,
                };
            }
            let name = self.fresh("ty");
            self.items.push(format!("type {name} = {}", e.text()));
            self.aliases.push((name.clone(), e));
            self.f("item: type alias");
            return Ty { text: name, t };
        }
        Ty { text: e.text(), t }
    }

    fn exact_ty(&mut self) -> Ty {
        let e = self.target_elem();
        self.ty_of(e)
    }

    /// An exact type that values are converted to (declared locals, results,
    /// conversions): `exact_elem`, except for the types of known bugs being avoided.
    fn target_elem(&mut self) -> Elem {
        let e = self.exact_elem();
        self.retarget(e)
    }

    fn retarget(&mut self, e: Elem) -> Elem {
        match e {
            Elem::Int { signed, w }
                if self.avoid("jit-fixed-to-int")
                    || (!signed && self.avoid("jit-signed-to-uint")) =>
            {
                // The same values, through a fixed-point conversion (which floors
                // instead of truncating toward zero).
                Elem::Fixed {
                    signed,
                    w,
                    i: w as i32,
                    modes: None,
                }
            }
            Elem::Fixed {
                signed,
                w,
                i,
                modes: Some((q, o, n)),
            } if w <= 6 && ![0, 2].contains(&q) && self.avoid("jit-narrow-quant") => Elem::Fixed {
                signed,
                w,
                i,
                modes: Some((if q % 2 == 0 { 2 } else { 0 }, o, n)),
            },
            e => e,
        }
    }

    /// A narrow exact type for results (written to .npy as int64 or exact float64).
    fn result_elem(&mut self) -> Elem {
        loop {
            let e = self.target_elem();
            match &e {
                Elem::Int { w, .. } if *w <= 64 => return e,
                Elem::Fixed { w, .. } if *w <= 53 => return e,
                Elem::Bin | Elem::Tern => return e,
                _ => continue,
            }
        }
    }

    /// A type that a too-wide value is converted to.
    fn narrow_elem(&mut self, int: bool) -> Elem {
        let w = self.rng.range(8, 40) as u32;
        if int {
            Elem::Int { signed: true, w }
        } else {
            let i = self.rng.range(2, w as i64 - 1) as i32;
            Elem::Fixed {
                signed: true,
                w,
                i,
                modes: Some((
                    self.rng.below(7),
                    if self.avoid("jit-i128-minmax") {
                        self.rng.pick(&[0, 2, 4])
                    } else {
                        self.rng.below(5)
                    },
                    None,
                )),
            }
        }
    }

    // ----------------------------------------------------------------- literals

    fn int_lit(&mut self) -> E {
        let (s, v): (String, i64) = match self.rng.weighted(&[70, 6, 6, 6, 6]) {
            0 => {
                let v = self.rng.range(0, 9);
                (v.to_string(), v)
            }
            1 => {
                let v = self.rng.range(0, 255);
                self.f("lex: hex literal");
                (format!("0x{v:x}"), v)
            }
            2 => {
                let v = self.rng.range(0, 31);
                self.f("lex: binary literal");
                (format!("0b{v:b}"), v)
            }
            3 => {
                self.f("lex: underscore literal");
                ("1_000".into(), 1000)
            }
            _ => {
                let v = self.rng.range(10, 200);
                (v.to_string(), v)
            }
        };
        E {
            s,
            t: T::Ex(Ex {
                m: mbits(v),
                fb: 0,
                cls: Cls::Int,
                lit: true,
            }),
        }
    }

    fn real_lit(&mut self) -> E {
        // (text, value exponent bound, fraction bits as kiln counts them)
        const REALS: &[(&str, i32, i32)] = &[
            ("0.5", 0, 1),
            ("0.25", 0, 2),
            ("0.75", 0, 2),
            ("1.5", 1, 1),
            ("0.375", 0, 3),
            ("1.25e-1", 0, 3),
            (".5", 0, 1),
            ("3.", 2, 0),
            ("2.5", 2, 1),
            ("0.0625", 0, 4),
            ("6.25e-2", 0, 4),
            ("1.5e1", 4, 0),
            ("0.125", 0, 3),
            ("1.0", 0, 0),
            ("5.75", 3, 2),
        ];
        let (s, m, fb) = self.rng.pick(REALS);
        self.f("lex: real literal");
        E {
            s: s.to_string(),
            t: T::Ex(Ex {
                m,
                fb,
                cls: Cls::Fixed,
                lit: true,
            }),
        }
    }

    fn f32_lit(&mut self) -> E {
        const F: &[&str] = &[
            "0.5", "1.5", "0.1", "2.0", "3", "0.3", "1e-3", "100.0", "0.7",
        ];
        E {
            s: self.rng.pick(F).to_string(),
            t: T::F32(7),
        }
    }

    // ----------------------------------------------------------------- indices

    /// An index into `dim`: an affine expression of the loop variables (or a constant)
    /// and, when it is not provably in bounds, the condition that guards it.
    fn index(&mut self, env: &Env, dim: &Dim) -> (String, Option<String>) {
        if let Some(data) = self.data_index(env, dim) {
            return data;
        }
        let d = dim.val;
        if env.loops.is_empty() || self.chance(12) {
            let v = self.rng.range(0, d - 1);
            return (v.to_string(), None);
        }
        let nterms = if env.loops.len() > 1 && self.chance(25) {
            2
        } else {
            1
        };
        let mut terms: Vec<(i64, String)> = Vec::new();
        let (mut lo, mut hi) = (0i64, 0i64);
        for _ in 0..nterms {
            let v = self.rng.pick(&env.loops);
            if terms.iter().any(|(_, n)| *n == v.name) {
                continue;
            }
            let c = match self.rng.weighted(&[75, 10, 15]) {
                0 => 1,
                1 => 2,
                _ => -1,
            };
            let (a, b) = (c * v.lo, c * v.hi);
            lo += a.min(b);
            hi += a.max(b);
            terms.push((c, v.name.clone()));
        }
        if terms.len() > 1 {
            self.f("index: two loop variables");
        }
        if terms.iter().any(|(c, _)| *c == 2) {
            self.f("index: strided (2 * i)");
        }
        let (kmin, kmax) = (-lo, d - 1 - hi);
        let (k, guard) = if kmin <= kmax && !self.chance(15) {
            let k = match self.rng.below(3) {
                0 => kmin,
                1 => kmax,
                _ => self.rng.range(kmin, kmax),
            };
            (k, false)
        } else {
            // Not provably in bounds: an offset near the valid ones, guarded.
            let k = if kmin <= kmax {
                self.rng.range(kmin - 1, kmax + 1)
            } else {
                self.rng.range(kmax.min(kmin), kmax.max(kmin))
            };
            (k, true)
        };
        let text = affine(&terms, k);
        if !guard {
            return (text, None);
        }
        let (lo, hi) = (lo + k, hi + k);
        let g = if lo >= 0 && hi < d {
            // Always in bounds: a redundant guard.
            format!("0 <= {text} < {}", dim.text)
        } else if lo >= 0 {
            format!("{text} < {}", dim.text)
        } else if hi < d {
            if self.chance(50) {
                format!("{text} >= 0")
            } else {
                format!("0 <= {text}")
            }
        } else {
            format!("0 <= {text} < {}", dim.text)
        };
        self.f("index: guarded");
        (text, Some(g))
    }

    /// Sometimes, a data-dependent index into `dim` read from an integer tensor: wrapped
    /// or clamped into the dimension (proven by range analysis), or reduced modulo one
    /// more than it and guarded (checked at run time, never out of bounds).
    fn data_index(&mut self, env: &Env, dim: &Dim) -> Option<(String, Option<String>)> {
        if env.in_lambda || !self.chance(8) {
            return None;
        }
        let cands: Vec<Var> = env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| v.t.is_int())
            .collect();
        if cands.is_empty() {
            return None;
        }
        let v = self.rng.pick(&cands);
        let (e, guard) = self.element(env, &v);
        if guard.is_some() {
            return None;
        }
        let d = &dim.text;
        self.f("index: data-dependent");
        Some(match self.rng.below(3) {
            0 => (format!("({e}) % ({d})"), None),
            1 => (format!("min(max({e}, 0), ({d}) - 1)"), None),
            _ => {
                self.f("index: data-dependent, checked at run time");
                let ix = format!("({e}) % (({d}) + 1)");
                let g = format!("{ix} < {d}");
                (ix, Some(g))
            }
        })
    }

    /// `x[i, j]` with in-bounds (or guarded) indices: (text, guard).
    fn element(&mut self, env: &Env, v: &Var) -> (String, Option<String>) {
        let shape = v.shape.clone().unwrap();
        let mut idx = Vec::new();
        let mut guards = Vec::new();
        for d in &shape {
            let (i, g) = self.index(env, d);
            idx.push(i);
            guards.extend(g);
        }
        let guard = if guards.is_empty() {
            None
        } else {
            Some(guards.join(" and "))
        };
        (format!("{}[{}]", v.name, idx.join(", ")), guard)
    }

    /// A view of `v` with the shape `target` (a slice, or `v` itself), when one exists.
    fn view_as(&mut self, env: &Env, v: &Var, target: &[Dim]) -> Option<String> {
        let shape = v.shape.clone()?;
        if same_shape(&shape, target) && self.chance(60) {
            return Some(v.name.clone());
        }
        if shape.len() < target.len() {
            return None;
        }
        // Match target dims to a subsequence of the source dims, from the right.
        let mut parts: Vec<String> = vec![String::new(); shape.len()];
        let mut t = target.len();
        for s in (0..shape.len()).rev() {
            let remaining_src = s + 1;
            let need = t;
            let take = t > 0
                && shape[s].val >= target[t - 1].val
                && (remaining_src == need || self.chance(70));
            if take {
                let want = &target[t - 1];
                parts[s] = self.slice_of(env, &shape[s], want)?;
                t -= 1;
            } else {
                if remaining_src <= need {
                    return None;
                }
                let (i, g) = self.index(env, &shape[s]);
                if g.is_some() {
                    // Slices must be in bounds: use a constant index instead.
                    parts[s] = self.rng.range(0, shape[s].val - 1).to_string();
                } else {
                    parts[s] = i;
                }
            }
        }
        if t > 0 {
            return None;
        }
        self.f("expr: slice");
        Some(format!("{}[{}]", v.name, parts.join(", ")))
    }

    /// A slice of `src` whose length is `want` (symbolically equal), if possible.
    fn slice_of(&mut self, env: &Env, src: &Dim, want: &Dim) -> Option<String> {
        if src.same(want) {
            if self.chance(70) {
                return Some(":".into());
            }
            return Some(format!("0:{}", src.text));
        }
        let len = want.val;
        if len > src.val {
            return None;
        }
        match (&src.base, &want.base) {
            (None, None) => {
                // Constant bounds, sometimes a step, sometimes moving with a loop variable.
                if self.chance(20) && 2 * (len - 1) < src.val {
                    let lo = self.rng.range(0, src.val - 2 * (len - 1) - 1);
                    self.f("expr: slice with step");
                    return Some(format!("{lo}:{}:2", lo + 2 * len - 1));
                }
                let slack = src.val - len;
                if slack > 0 && self.chance(25) {
                    if let Some(v) = env
                        .loops
                        .iter()
                        .find(|l| l.lo >= 0 && l.hi <= slack)
                        .cloned()
                    {
                        self.f("expr: slice moving with a loop variable");
                        return Some(format!("{}:{} + {len}", v.name, v.name));
                    }
                }
                let lo = self.rng.range(0, slack);
                if lo == 0 && self.chance(30) {
                    return Some(format!(":{len}"));
                }
                if lo + len == src.val && self.chance(30) {
                    return Some(format!("{lo}:"));
                }
                Some(format!("{lo}:{}", lo + len))
            }
            (Some(b), Some(wb)) if b == wb => {
                // src = N + a, want = N + c with c < a: lo:lo + N + c.
                let slack = src.k - want.k;
                if slack < 0 {
                    return None;
                }
                let lo = self.rng.range(0, slack);
                let hi = src.plus(-(slack - lo));
                Some(format!("{lo}:{}", hi.text))
            }
            (Some(_), None) => {
                let lo = self.rng.range(0, src.val - len);
                Some(format!("{lo}:{}", lo + len))
            }
            _ => None,
        }
    }

    // ----------------------------------------------------------------- expressions

    fn ex(&mut self, env: &mut Env, w: W, depth: u32) -> E {
        let e = match w {
            W::Ex | W::Int => self.ex_exact(env, w == W::Int, depth),
            W::F32 => self.ex_f32(env, depth),
            W::Bool => self.ex_bool(env, depth),
        };
        debug_assert!(w != W::Int || e.t.is_int(), "{w:?} {e:?}");
        e
    }

    /// Wraps a value that grew too wide in a conversion to a narrow type.
    /// `abs(e)` of an exact value (known bug `jit-unsigned-abs`: the JIT takes the
    /// absolute value of unsigned storage as signed, so `max(e, -e)` is written instead).
    fn abs_s(&mut self, e: &E) -> String {
        if !self.avoid("jit-unsigned-abs") {
            return format!("abs({})", e.s);
        }
        match e.t {
            T::Ex(_) => {
                // max of a wide value: known bug `jit-i128-minmax`.
                let n = self.mm_all(vec![e.clone(), e.clone()]).pop().unwrap();
                let n = self.mm(n);
                format!("max({}, -({}))", n.s, n.s)
            }
            _ => format!("abs({})", e.s),
        }
    }

    /// The operand of `>>`: known bug `interp-shift-repr` (the interpreter floors to the
    /// LSB of the value it happens to hold, which after a conditional, min or max can be
    /// coarser than the operand's type) is avoided by a conversion to a type that holds
    /// the value exactly, which normalizes it.
    fn normalized(&mut self, a: E) -> E {
        let x = a.t.ex();
        let simple = !a.s.contains('(');
        if simple || !self.avoid("interp-shift-repr") {
            return a;
        }
        let i = x.m.max(0) + 2;
        let w = i + x.fb.max(0);
        if w > 128 {
            return a;
        }
        let e = if x.fb <= 0 && x.cls == Cls::Int {
            Elem::Int {
                signed: true,
                w: i as u32,
            }
        } else {
            Elem::Fixed {
                signed: true,
                w: w as u32,
                i,
                modes: None,
            }
        };
        E {
            s: format!("{}({})", e.text(), a.s),
            t: T::Ex(Ex {
                // The class of the conversion's type (fixed<W, W> is an integer).
                cls: e.t().ex().cls,
                lit: false,
                ..x
            }),
        }
    }

    /// An operand of min/max: known bug `jit-i128-minmax` makes values wider than 64 bits
    /// fail, so they are narrowed while it is avoided.
    fn mm(&mut self, e: E) -> E {
        match e.t {
            T::Ex(x) if x.cost() > 60 && self.avoid("jit-i128-minmax") => {
                let n = self.narrow_elem(x.cls == Cls::Int);
                E {
                    s: format!("{}({})", n.text(), e.s),
                    t: n.t(),
                }
            }
            _ => e,
        }
    }

    /// An operand of a bitwise operator: known bug `jit-bitwise-coarse-lsb` (integers
    /// held in fixed types with I > W, whose LSB is above 1, are mis-sized) is avoided
    /// with a conversion to an int type (exact for these integer values).
    fn unit_lsb(&mut self, a: E) -> E {
        let x = a.t.ex();
        if x.fb >= 0 || !self.avoid("jit-bitwise-coarse-lsb") {
            return a;
        }
        let w = (x.m.max(0) + 2).min(128) as u32;
        E {
            s: format!("int<{w}>({})", a.s),
            t: Elem::Int { signed: true, w }.t(),
        }
    }

    /// Operands of one min/max: their common type must stay within 64 bits too.
    fn mm_all(&mut self, args: Vec<E>) -> Vec<E> {
        let m = args.iter().map(|a| a.t.ex().m).max().unwrap_or(0);
        let fb = args.iter().map(|a| a.t.ex().fb.max(0)).max().unwrap_or(0);
        if m.max(0) + fb < 56 || !self.avoid("jit-i128-minmax") {
            return args;
        }
        args.into_iter()
            .map(|a| {
                let x = a.t.ex();
                let n = if x.cls == Cls::Int {
                    Elem::Int {
                        signed: true,
                        w: 24,
                    }
                } else {
                    Elem::Fixed {
                        signed: true,
                        w: 24,
                        i: 12,
                        modes: None,
                    }
                };
                E {
                    s: format!("{}({})", n.text(), a.s),
                    t: n.t(),
                }
            })
            .collect()
    }

    fn fit(&mut self, e: E) -> E {
        match e.t {
            T::Ex(x) if x.cost() > self.max_cost => {
                let n = self.narrow_elem(x.cls == Cls::Int);
                self.f("expr: narrowing conversion");
                E {
                    s: format!("{}({})", n.text(), e.s),
                    t: n.t(),
                }
            }
            T::F32(m) if m > 60 => {
                self.f("expr: f32 clamp");
                E {
                    s: format!("min(max({}, -1000.0), 1000.0)", e.s),
                    t: T::F32(10),
                }
            }
            _ => e,
        }
    }

    fn leaf_exact(&mut self, env: &mut Env, int: bool) -> E {
        let scalars: Vec<Var> = env
            .scalars(Kind::Ex)
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .collect();
        let tensors: Vec<Var> = env
            .tensors(Some(Kind::Ex))
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .collect();
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::Ex(x) if !int || x.cls == Cls::Int))
            .cloned()
            .collect();
        let weights = [
            10,                                        // int literal
            if int { 0 } else { 6 },                   // real literal
            if env.loops.is_empty() { 0 } else { 14 }, // loop variable
            if env.ints.is_empty() || env.in_lambda {
                0
            } else {
                3
            }, // size / const
            if scalars.is_empty() { 0 } else { 18 },   // scalar
            if tensors.is_empty() { 0 } else { 30 },   // element
            if wins.is_empty() { 0 } else { 60 },      // lambda parameter
        ];
        match self.rng.weighted(&weights) {
            0 => self.int_lit(),
            1 => self.real_lit(),
            2 => {
                let v = self.rng.pick(&env.loops);
                self.f("expr: loop variable as value");
                E {
                    s: v.name.clone(),
                    t: T::Ex(Ex {
                        m: mbits(v.lo).max(mbits(v.hi)),
                        fb: 0,
                        cls: Cls::Int,
                        lit: false,
                    }),
                }
            }
            3 => {
                let d = self.rng.pick(&env.ints);
                self.f("expr: size or const as value");
                E {
                    s: d.text.clone(),
                    t: T::Ex(Ex {
                        m: mbits(d.val),
                        fb: 0,
                        cls: Cls::Int,
                        // Constants are folded like literals.
                        lit: true,
                    }),
                }
            }
            4 => {
                let v = self.rng.pick(&scalars);
                E {
                    s: v.name.clone(),
                    t: v.t,
                }
            }
            5 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            _ => {
                let win = self.rng.pick(&wins);
                self.window_read(&win)
            }
        }
    }

    fn window_read(&mut self, win: &Win) -> E {
        if win.radius.is_empty() || self.chance(20) {
            return E {
                s: win.name.clone(),
                t: win.t,
            };
        }
        let offs: Vec<String> = win
            .radius
            .iter()
            .map(|&r| self.rng.range(-r, r).to_string())
            .collect();
        self.f("expr: map window read p[o]");
        E {
            s: format!("{}[{}]", win.name, offs.join(", ")),
            t: win.t,
        }
    }

    fn read_element(&mut self, env: &Env, v: &Var) -> E {
        let (s, guard) = self.element(env, v);
        match guard {
            None => E { s, t: v.t },
            Some(g) => {
                let zero = match v.t {
                    T::Bool => "False",
                    T::F32(_) => "0.0",
                    T::Ex(_) => "0",
                };
                self.f("expr: guarded read (conditional expression)");
                E {
                    s: format!("({s} if {g} else {zero})"),
                    t: match v.t {
                        T::Ex(x) => T::Ex(Ex { m: x.m.max(0), ..x }),
                        t => t,
                    },
                }
            }
        }
    }

    fn ex_exact(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        if depth == 0 || self.chance(22) {
            let e = self.leaf_exact(env, int);
            return self.fit(e);
        }
        let lam = env.in_lambda;
        let nr = self.no_nested_reduce(env);
        let weights = [
            22,                                               // 0 + -
            14,                                               // 1 *
            3,                                                // 2 unary -
            4,                                                // 3 abs
            6,                                                // 4 min / max
            8,                                                // 5 conversion
            5,                                                // 6 conditional
            if int { 0 } else { 5 },                          // 7 /
            5,                                                // 8 // %
            5,                                                // 9 shifts
            5,                                                // 10 bitwise
            if lam || env.trips > 400 || nr { 0 } else { 6 }, // 11 reduction over a generator
            if lam || nr { 0 } else { 3 },                    // 12 dot / sum of a tensor
            2,                                                // 13 from bool
            if int { 1 } else { 3 },                          // 14 from f32
            if env.tvars.is_empty() || int { 0 } else { 4 },  // 15 T(e)
            if int { 0 } else { 3 },                          // 16 lookup table
        ];
        let e = match self.rng.weighted(&weights) {
            0 => {
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                let op = if self.chance(55) { "+" } else { "-" };
                self.f(format!("op: {op}"));
                let (x, y) = (a.t.ex(), b.t.ex());
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Ex(Ex {
                        m: x.m.max(y.m) + 1,
                        fb: x.fb.max(y.fb),
                        cls: join_cls(x.cls, y.cls),
                        lit: x.lit && y.lit,
                    }),
                }
            }
            1 => {
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                self.f("op: *");
                let (x, y) = (a.t.ex(), b.t.ex());
                E {
                    s: format!("({} * {})", a.s, b.s),
                    t: T::Ex(Ex {
                        m: x.m + y.m,
                        fb: x.fb + y.fb,
                        cls: join_cls(x.cls, y.cls),
                        lit: x.lit && y.lit,
                    }),
                }
            }
            2 => {
                let a = self.ex_exact(env, int, depth - 1);
                self.f("op: unary -");
                let x = a.t.ex();
                E {
                    s: format!("(-{})", a.s),
                    t: T::Ex(Ex { m: x.m + 1, ..x }),
                }
            }
            3 => {
                let a = self.ex_exact(env, int, depth - 1);
                self.f("op: abs");
                let x = a.t.ex();
                E {
                    s: self.abs_s(&a),
                    t: T::Ex(Ex { m: x.m + 1, ..x }),
                }
            }
            4 => {
                let n = if self.chance(75) { 2 } else { 3 };
                let args: Vec<E> = (0..n)
                    .map(|_| {
                        let a = self.ex_exact(env, int, depth - 1);
                        self.mm(a)
                    })
                    .collect();
                let args = self.mm_all(args);
                let f = if self.chance(50) { "min" } else { "max" };
                self.f(format!("op: {f}(a, b...)"));
                let t = args
                    .iter()
                    .skip(1)
                    .fold(args[0].t, |acc, a| join_t(acc, a.t));
                E {
                    s: format!(
                        "{f}({})",
                        args.iter()
                            .map(|a| a.s.clone())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    t,
                }
            }
            5 => {
                let a = self.ex_exact(env, false, depth - 1);
                self.conversion(a, int)
            }
            6 => {
                let c = self.ex_bool(env, depth - 1);
                let a = self.ex_exact(env, int, depth - 1);
                let b = self.ex_exact(env, int, depth - 1);
                self.f("expr: conditional a if c else b");
                E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            7 => self.fixed_division(env, depth),
            8 => self.floor_div_mod(env, depth),
            9 => self.shift(env, int, depth),
            10 => self.bitwise(env, depth),
            11 => self.reduction(env, W::Ex, int, depth),
            12 => self.tensor_reduction(env, Kind::Ex, int),
            13 => {
                let b = self.ex_bool(env, depth - 1);
                let to = if int || self.chance(60) {
                    Elem::Int {
                        signed: self.chance(50),
                        w: self.rng.range(1, 4) as u32,
                    }
                } else {
                    self.fixed_elem()
                };
                let to = self.retarget(to);
                self.f("conv: bool to exact");
                let ty = self.ty_of(to);
                E {
                    s: format!("{}({})", ty.text, b.s),
                    t: ty.t,
                }
            }
            16 => self.lookup_table(env, depth),
            14 => {
                let a = self.ex_f32(env, depth - 1);
                self.f("conv: f32 to exact");
                let to = if int {
                    Elem::Int {
                        signed: self.chance(70),
                        w: self.width(),
                    }
                } else {
                    self.exact_elem()
                };
                // f32 to int<W> truncates correctly in the JIT: only fixed-point
                // targets are subject to the known bugs.
                let to = match to {
                    Elem::Int { .. } => to,
                    other => self.retarget(other),
                };
                let ty = self.ty_of(to);
                E {
                    s: format!("{}({})", ty.text, a.s),
                    t: ty.t,
                }
            }
            _ => {
                let narrow_bad = self.avoid("jit-narrow-quant");
                // A type variable bound to an int type may be unsigned: known bug
                // `jit-signed-to-uint`.
                let int_bad = self.avoid("jit-signed-to-uint");
                let exact: Vec<(String, T)> = env
                    .tvars
                    .iter()
                    .filter(|(_, t)| matches!(t, T::Ex(_)) && !(narrow_bad && narrow(t)))
                    .filter(|(n, _)| !(int_bad && env.tv_int.contains(n)))
                    .cloned()
                    .collect();
                if exact.is_empty() {
                    return self.leaf_exact(env, int);
                }
                let (name, t) = self.rng.pick(&exact);
                // T may be an int type: known bug `jit-fixed-to-int`.
                let integral = self.avoid("jit-fixed-to-int");
                let a = self.ex_exact(env, integral, depth - 1);
                self.f("conv: to a type variable T(e)");
                E {
                    s: format!("{name}({})", a.s),
                    t,
                }
            }
        };
        let e = self.fit(e);
        if int && !e.t.is_int() {
            // Only reachable through conversions to a type variable: make it an int.
            let n = self.narrow_elem(true);
            return E {
                s: format!("{}({})", n.text(), e.s),
                t: n.t(),
            };
        }
        e
    }

    /// `T(e)` to a random exact type (every quantization and overflow mode).
    /// `sigmoid(e, ...)`, `tanh(e, ...)` or `exp(e, ...)` of an exact value, through a
    /// lookup table with a random size, range and entry width (the values stay within
    /// [-1, 1]: `exp`'s table ends at 0).
    fn lookup_table(&mut self, env: &mut Env, depth: u32) -> E {
        let a = self.ex_exact(env, false, depth - 1);
        let size = 1i64 << self.rng.range(3, 10);
        let width = 1i64 << self.rng.range(1, 4);
        let bits = [8, 12, 18][self.rng.below(3)];
        let f = ["sigmoid", "tanh", "exp"][self.rng.below(3)];
        let (lo, hi) = if f == "exp" {
            (-width, 0)
        } else {
            (-width / 2, width / 2)
        };
        self.f(format!("table: {f}"));
        // Always with table parameters: without them an argument of literals only is an
        // f32, which the model cannot always tell (the default tables are covered by
        // tests/run/lut_fixed.kiln and the stdlib).
        let s = format!("{f}({}, size={size}, lo={lo}, hi={hi}, bits={bits})", a.s);
        E {
            s,
            t: T::Ex(Ex {
                m: 0,
                fb: 18,
                cls: Cls::Fixed,
                lit: false,
            }),
        }
    }

    fn conversion(&mut self, a: E, int: bool) -> E {
        let to = if int {
            match self.rng.below(4) {
                0 => Elem::Bin,
                1 => Elem::Tern,
                _ => Elem::Int {
                    signed: self.chance(60),
                    w: self.width(),
                },
            }
        } else {
            self.exact_elem()
        };
        let to = self.retarget(to);
        let ty = self.ty_of(to.clone());
        self.f(match to {
            Elem::Int { .. } => "conv: to int/uint",
            Elem::Fixed { .. } => "conv: to fixed/ufixed",
            Elem::Bin => "conv: to bin",
            Elem::Tern => "conv: to tern",
            _ => "conv: other",
        });
        E {
            s: format!("{}({})", ty.text, a.s),
            t: ty.t,
        }
    }

    /// A divisor that is never zero: (text, min |value| exponent, model).
    fn nonzero_divisor(&mut self, env: &mut Env, depth: u32, want_frac: bool, int: bool) -> E {
        match self.rng.weighted(&[30, 40, 15]) {
            0 => {
                if want_frac {
                    let lits = [
                        ("0.5", -1, 1),
                        ("0.25", -2, 2),
                        ("1.5", 1, 1),
                        ("0.75", 0, 2),
                        ("2.5", 2, 1),
                    ];
                    let (s, m, fb) = self.rng.pick(&lits);
                    E {
                        s: s.to_string(),
                        t: T::Ex(Ex {
                            m,
                            fb,
                            cls: Cls::Fixed,
                            lit: true,
                        }),
                    }
                } else {
                    let v = self.rng.pick(&[1i64, 2, 3, 5, 7, -3, -2, 16]);
                    E {
                        s: if v < 0 {
                            format!("({v})")
                        } else {
                            v.to_string()
                        },
                        t: T::Ex(Ex {
                            m: mbits(v),
                            fb: 0,
                            cls: Cls::Int,
                            lit: true,
                        }),
                    }
                }
            }
            1 => {
                let a = self.ex_exact(env, int, depth.saturating_sub(1));
                let x = a.t.ex();
                let (c, cm, cfb, ccls) = if want_frac {
                    self.rng.pick(&[
                        ("0.5", 0, 1, Cls::Fixed),
                        ("0.25", 0, 2, Cls::Fixed),
                        ("1.5", 1, 1, Cls::Fixed),
                    ])
                } else {
                    self.rng.pick(&[
                        ("1", 0, 0, Cls::Int),
                        ("2", 1, 0, Cls::Int),
                        ("3", 2, 0, Cls::Int),
                    ])
                };
                self.f("expr: nonzero divisor abs(e) + c");
                let neg = self.chance(25);
                E {
                    s: if neg {
                        format!("(-{} - {c})", self.abs_s(&a))
                    } else {
                        format!("({} + {c})", self.abs_s(&a))
                    },
                    t: T::Ex(Ex {
                        m: x.m.max(cm) + 2,
                        fb: x.fb.max(cfb),
                        cls: join_cls(x.cls, ccls),
                        lit: false,
                    }),
                }
            }
            _ => {
                // max(e, c) with a positive constant.
                let a = self.ex_exact(env, int, depth.saturating_sub(1));
                let a = self.mm(a);
                let x = a.t.ex();
                let (c, cfb, ccls) = if want_frac {
                    ("0.5", 1, Cls::Fixed)
                } else {
                    ("1", 0, Cls::Int)
                };
                E {
                    s: format!("max({}, {c})", a.s),
                    t: T::Ex(Ex {
                        m: x.m.max(0) + 1,
                        fb: x.fb.max(cfb),
                        cls: join_cls(x.cls, ccls),
                        lit: false,
                    }),
                }
            }
        }
    }

    fn fixed_division(&mut self, env: &mut Env, depth: u32) -> E {
        let a = self.ex_exact(env, false, depth - 1);
        let x = a.t.ex();
        // One operand must have fraction bits (for the front end: class Fixed); the
        // divisor provides them when the dividend is an integer or generic.
        let want_frac = x.cls != Cls::Fixed || self.chance(50);
        let mut b = self.nonzero_divisor(env, depth, want_frac, false);
        let mut tries = 0;
        while (x.lit || literal_only(&a.s)) && (b.t.ex().lit || literal_only(&b.s)) {
            tries += 1;
            if tries > 8 {
                b = E {
                    s: format!("fixed<24, 12>({})", b.s),
                    t: Elem::Fixed {
                        signed: true,
                        w: 24,
                        i: 12,
                        modes: None,
                    }
                    .t(),
                };
                break;
            }
            // Literal-only quotients are folded and must be exact binary values.
            b = self.nonzero_divisor(env, depth, want_frac, false);
        }
        let y = b.t.ex();
        self.f("op: / (fixed point)");
        // |b| >= 1/4 in every form above.
        let rf = x.fb + (-y.fb).max(0);
        E {
            s: format!("({} / {})", a.s, b.s),
            t: T::Ex(Ex {
                m: x.m + 2 + y.fb.max(0),
                fb: rf,
                cls: Cls::Fixed,
                lit: false,
            }),
        }
    }

    fn floor_div_mod(&mut self, env: &mut Env, depth: u32) -> E {
        let mut a = self.ex_exact(env, true, depth - 1);
        if self.avoid("jit-narrow-divmod") {
            // A dividend whose range needs at least 10 bits.
            let x = a.t.ex();
            // A random offset, so that it does not cancel an earlier one.
            // An offset above twice the largest |a|, so that the sum keeps at least
            // 10 bits whatever a is (offsets that merely look large can cancel).
            let k = x.m.clamp(9, 100) + 1;
            let c = (1i128 << k) + self.rng.range(0, 999) as i128;
            a = E {
                s: format!("({} + {c})", a.s),
                t: T::Ex(Ex {
                    m: k + 1,
                    lit: false,
                    ..x
                }),
            };
        }
        let b = self.nonzero_divisor(env, depth, false, true);
        let (x, y) = (a.t.ex(), b.t.ex());
        let floor = self.chance(55);
        self.f(if floor { "op: //" } else { "op: %" });
        E {
            s: format!("({} {} {})", a.s, if floor { "//" } else { "%" }, b.s),
            t: T::Ex(Ex {
                m: if floor { x.m + 1 } else { y.m + 1 },
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
        }
    }

    fn shift(&mut self, env: &mut Env, int: bool, depth: u32) -> E {
        let a = self.ex_exact(env, int, depth - 1);
        let left = self.chance(50);
        let a = if left { a } else { self.normalized(a) };
        let x = a.t.ex();
        // The amount: a constant, a small unsigned conversion, or a loop variable.
        let small_loop: Vec<LVar> = env
            .loops
            .iter()
            .filter(|l| l.lo >= 0 && l.hi <= 8)
            .cloned()
            .collect();
        let (amt, max) =
            match self
                .rng
                .weighted(&[50, 30, if small_loop.is_empty() { 0 } else { 20 }])
            {
                0 => {
                    let k = self.rng.range(0, 6);
                    (k.to_string(), k)
                }
                1 => {
                    let w = self.rng.range(1, 3);
                    // uint<w>(b) of a fractional b: known bug `jit-fixed-to-int`.
                    let integral = self.avoid("jit-fixed-to-int");
                    let b = self.ex_exact(env, integral, depth.saturating_sub(2));
                    self.f("op: shift by a uint<k> value");
                    (format!("uint<{w}>({})", b.s), (1 << w) - 1)
                }
                _ => {
                    let v = self.rng.pick(&small_loop);
                    self.f("op: shift by a loop variable");
                    (v.name.clone(), v.hi)
                }
            };
        self.f(if left { "op: <<" } else { "op: >>" });
        E {
            s: format!("({} {} {amt})", a.s, if left { "<<" } else { ">>" }),
            t: T::Ex(Ex {
                m: if left { x.m + max as i32 } else { x.m },
                lit: false,
                ..x
            }),
        }
    }

    fn bitwise(&mut self, env: &mut Env, depth: u32) -> E {
        if self.chance(20) {
            let a = self.ex_exact(env, true, depth - 1);
            let a = self.unit_lsb(a);
            let x = a.t.ex();
            self.f("op: ~");
            return E {
                s: format!("(~{})", a.s),
                t: T::Ex(Ex {
                    m: x.m + 1,
                    lit: false,
                    ..x
                }),
            };
        }
        let a = self.ex_exact(env, true, depth - 1);
        let b = self.ex_exact(env, true, depth - 1);
        let (a, b) = (self.unit_lsb(a), self.unit_lsb(b));
        let op = self.rng.pick(&["&", "|", "^"]);
        self.f(format!("op: {op}"));
        let (x, y) = (a.t.ex(), b.t.ex());
        E {
            s: format!("({} {op} {})", a.s, b.s),
            t: T::Ex(Ex {
                m: x.m.max(y.m) + 1,
                fb: 0,
                cls: Cls::Int,
                lit: false,
            }),
        }
    }

    /// A loop header for a generator, comprehension or statement: (header after `for`,
    /// loop variables with their value ranges, trip count bound, may be empty).
    fn loop_header(
        &mut self,
        env: &Env,
        n: usize,
        full: Option<&[Dim]>,
        allow_empty: bool,
    ) -> (String, Vec<LVar>, i64, bool) {
        self.loop_header_in(env, n, full, allow_empty, false)
    }

    /// `compr`: the header of a comprehension (whose extent is the trip count).
    fn loop_header_in(
        &mut self,
        env: &Env,
        n: usize,
        full: Option<&[Dim]>,
        allow_empty: bool,
        compr: bool,
    ) -> (String, Vec<LVar>, i64, bool) {
        let names: Vec<String> = (0..n).map(|_| self.fresh_loop()).collect();
        // grid(...) over full dims, or a range.
        if let Some(dims) = full {
            let use_grid = n > 1 || self.chance(30);
            let vars: Vec<LVar> = names
                .iter()
                .zip(dims)
                .map(|(nm, d)| LVar {
                    name: nm.clone(),
                    lo: 0,
                    hi: d.val - 1,
                })
                .collect();
            let trips = numel(dims);
            if use_grid {
                self.f("loop: grid(...)");
                return (
                    format!("{} in grid({})", names.join(", "), shape_text(dims)),
                    vars,
                    trips,
                    false,
                );
            }
            let d = &dims[0];
            // Known bug `comprehension-negative-step`: the extent of a comprehension over
            // a range with a negative step is wrong.
            let neg_ok = !(compr && self.avoid("comprehension-negative-step"));
            let h = match self.rng.below(4) {
                0 => format!("range({})", d.text),
                2 if !neg_ok => format!("range({})", d.text),
                1 => format!("range(0, {})", d.text),
                2 => {
                    self.f("loop: negative step");
                    format!("range({}, -1, -1)", d.plus(-1).text)
                }
                _ => format!("range(0, {}, 1)", d.text),
            };
            self.f("loop: range(...)");
            return (format!("{} in {h}", names[0]), vars, trips, false);
        }
        // A single range, possibly triangular.
        assert_eq!(n, 1);
        let name = names[0].clone();
        let outer: Vec<LVar> = env
            .loops
            .iter()
            .filter(|l| l.lo >= 0 && l.hi <= 9)
            .cloned()
            .collect();
        let hi_const = self.rng.range(1, 8);
        let choice = self
            .rng
            .weighted(&[40, if outer.is_empty() { 0 } else { 25 }, 15, 10]);
        match choice {
            1 => {
                let o = self.rng.pick(&outer);
                self.f("loop: triangular bounds");
                match self.rng.below(3) {
                    0 if allow_empty => (
                        format!("{name} in range({})", o.name),
                        vec![LVar {
                            name,
                            lo: 0,
                            hi: (o.hi - 1).max(0),
                        }],
                        o.hi.max(1),
                        true,
                    ),
                    1 => (
                        format!("{name} in range({} + 1)", o.name),
                        vec![LVar {
                            name,
                            lo: 0,
                            hi: o.hi,
                        }],
                        o.hi + 1,
                        false,
                    ),
                    _ => {
                        let top = o.hi + 1 + self.rng.range(0, 2);
                        (
                            format!("{name} in range({}, {top})", o.name),
                            vec![LVar {
                                name,
                                lo: o.lo,
                                hi: top - 1,
                            }],
                            top - o.lo,
                            false,
                        )
                    }
                }
            }
            2 => {
                let lo = self.rng.range(-2, 3);
                let step = self.rng.range(2, 3);
                let hi = lo + self.rng.range(1, 9);
                self.f("loop: range with step");
                let last = lo + (hi - lo - 1) / step * step;
                (
                    format!("{name} in range({lo}, {hi}, {step})"),
                    vec![LVar { name, lo, hi: last }],
                    (hi - lo + step - 1) / step,
                    false,
                )
            }
            3 => {
                let hi = self.rng.range(0, 6);
                let lo = hi - self.rng.range(1, 6);
                self.f("loop: negative step");
                (
                    format!("{name} in range({hi}, {lo}, -1)"),
                    vec![LVar {
                        name,
                        lo: lo + 1,
                        hi,
                    }],
                    hi - lo,
                    false,
                )
            }
            _ => {
                if !env.ints.is_empty() && !env.in_lambda && self.chance(30) {
                    let d = self.rng.pick(&env.ints);
                    if d.val >= 1 {
                        return (
                            format!("{name} in range({})", d.text),
                            vec![LVar {
                                name,
                                lo: 0,
                                hi: d.val - 1,
                            }],
                            d.val,
                            false,
                        );
                    }
                }
                let lo = if self.chance(25) {
                    self.rng.range(-3, 2)
                } else {
                    0
                };
                let hi = lo + hi_const;
                let h = if lo == 0 && self.chance(50) {
                    format!("range({hi})")
                } else {
                    format!("range({lo}, {hi})")
                };
                (
                    format!("{name} in {h}"),
                    vec![LVar {
                        name,
                        lo,
                        hi: hi - 1,
                    }],
                    hi_const,
                    false,
                )
            }
        }
    }

    /// Known bug `nested-reduction`: a reduction inside the body of a reduction panics
    /// in lowering ("local sum never typed").
    fn no_nested_reduce(&self, env: &Env) -> bool {
        env.in_reduce && self.avoid("nested-reduction")
    }

    fn fresh_loop(&mut self) -> String {
        let base = self.rng.pick(&["i", "j", "k", "u", "v", "c"]);
        self.fresh(base)
    }

    /// `sum(e for ...)`, `max(...)`, `min(...)`, `argmax(...)`, `argmin(...)` over a
    /// generator.
    fn reduction(&mut self, env: &mut Env, w: W, int: bool, depth: u32) -> E {
        // An arg-reduction is an integer: only where an exact value is wanted.
        let arg_weight = if matches!(w, W::F32) { 0 } else { 6 };
        let op = match self.rng.weighted(&[60, 20, 20, arg_weight, arg_weight]) {
            0 => "sum",
            1 => "max",
            2 => "min",
            3 => "argmax",
            _ => "argmin",
        };
        let arg = op.starts_with("arg");
        let ndims = if self.chance(30) && !arg { 2 } else { 1 };
        let (header, vars, trips, _) = if ndims == 2 {
            let dims = vec![
                Dim::lit(self.rng.range(1, 4)),
                Dim::lit(self.rng.range(1, 4)),
            ];
            self.loop_header(env, 2, Some(&dims), false)
        } else {
            self.loop_header(env, 1, None, op == "sum")
        };
        // An arg-reduction's value is its loop variable's.
        let arg_m = vars
            .first()
            .map_or(1, |v| log2_ceil(v.lo.abs().max(v.hi.abs()) + 1).max(1));
        let saved = env.loops.len();
        env.loops.extend(vars);
        let old_trips = env.trips;
        env.trips *= trips.max(1);
        let old_in = env.in_reduce;
        env.in_reduce = true;
        let body = match w {
            W::F32 => self.ex_f32(env, depth.saturating_sub(1).min(2)),
            _ => {
                let e = self.ex_exact(env, int, depth.saturating_sub(1).min(2));
                if op == "sum" {
                    e
                } else {
                    self.mm(e)
                }
            }
        };
        env.in_reduce = old_in;
        env.loops.truncate(saved);
        env.trips = old_trips;
        self.f(format!("reduce: {op}(e for ...)"));
        if arg {
            return E {
                s: format!("{op}({} for {header})", body.s),
                t: T::Ex(Ex {
                    m: arg_m,
                    fb: 0,
                    cls: Cls::Int,
                    lit: false,
                }),
            };
        }
        let t = match (op, body.t) {
            ("sum", T::Ex(x)) => T::Ex(Ex {
                m: x.m + log2_ceil(trips),
                lit: false,
                ..x
            }),
            ("sum", T::F32(m)) => T::F32(m + log2_ceil(trips)),
            (_, t) => t,
        };
        E {
            s: format!("{op}({} for {header})", body.s),
            t,
        }
    }

    /// `dot(a, b)`, `sum(t)`, `max(t)`, `min(t)` over tensors (or slices).
    fn tensor_reduction(&mut self, env: &mut Env, kind: Kind, int: bool) -> E {
        let max_cost = self.max_cost;
        let tensors: Vec<Var> = env
            .tensors(Some(kind))
            .into_iter()
            .filter(|v| !int || v.t.is_int())
            .filter(|v| !matches!(v.t, T::Ex(x) if x.cost() > max_cost))
            .collect();
        if tensors.is_empty() {
            return match kind {
                Kind::F32 => self.leaf_f32(env),
                _ => self.leaf_exact(env, int),
            };
        }
        let a = self.rng.pick(&tensors);
        let shape = a.shape.clone().unwrap();
        // Reduce a sub-shape (trailing dims) of a.
        let r = self.rng.range(1, shape.len() as i64) as usize;
        let target: Vec<Dim> = shape[shape.len() - r..].to_vec();
        let Some(va) = self.view_as(env, &a, &target) else {
            return match kind {
                Kind::F32 => self.leaf_f32(env),
                _ => self.leaf_exact(env, int),
            };
        };
        let n = numel(&target);
        if self.chance(40) {
            let others: Vec<Var> = tensors
                .iter()
                .filter(|v| {
                    v.shape
                        .as_ref()
                        .unwrap()
                        .iter()
                        .rev()
                        .zip(target.iter().rev())
                        .all(|(x, y)| x.val >= y.val)
                        && v.shape.as_ref().unwrap().len() >= target.len()
                })
                .cloned()
                .collect();
            let b = self.rng.pick(&others);
            if let Some(vb) = self.view_as(env, &b, &target) {
                self.f("reduce: dot(a, b)");
                let t = match (a.t, b.t) {
                    (T::Ex(x), T::Ex(y)) => T::Ex(Ex {
                        m: x.m + y.m + log2_ceil(n),
                        fb: x.fb + y.fb,
                        cls: join_cls(x.cls, y.cls),
                        lit: false,
                    }),
                    (T::F32(x), T::F32(y)) => T::F32(x + y + log2_ceil(n)),
                    _ => unreachable!(),
                };
                return E {
                    s: format!("dot({va}, {vb})"),
                    t,
                };
            }
        }
        if kind == Kind::Ex && self.chance(15) {
            // The first position of the extreme (a row-major flat index).
            let op = self.rng.pick(&["argmax", "argmin"]);
            self.f(format!("reduce: {op}(tensor)"));
            return E {
                s: format!("{op}({va})"),
                t: T::Ex(Ex {
                    m: log2_ceil(n).max(1),
                    fb: 0,
                    cls: Cls::Int,
                    lit: false,
                }),
            };
        }
        let mut op = self.rng.pick(&["sum", "max", "min"]);
        if op != "sum" && matches!(a.t, T::Ex(x) if x.cost() > 60) && self.avoid("jit-i128-minmax")
        {
            op = "sum";
        }
        self.f(format!("reduce: {op}(tensor)"));
        let t = match (op, a.t) {
            ("sum", T::Ex(x)) => T::Ex(Ex {
                m: x.m + log2_ceil(n),
                lit: false,
                ..x
            }),
            ("sum", T::F32(m)) => T::F32(m + log2_ceil(n)),
            (_, t) => t,
        };
        E {
            s: format!("{op}({va})"),
            t,
        }
    }

    fn leaf_f32(&mut self, env: &mut Env) -> E {
        let scalars = env.scalars(Kind::F32);
        let tensors = env.tensors(Some(Kind::F32));
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::F32(_)))
            .cloned()
            .collect();
        let has_exact = !env.scalars(Kind::Ex).is_empty()
            || !env.tensors(Some(Kind::Ex)).is_empty()
            || !env.loops.is_empty();
        let weights = [
            if scalars.is_empty() { 0 } else { 20 },
            if tensors.is_empty() { 0 } else { 30 },
            if wins.is_empty() { 0 } else { 60 },
            if has_exact || (scalars.is_empty() && tensors.is_empty() && wins.is_empty()) {
                15
            } else {
                0
            },
        ];
        match self.rng.weighted(&weights) {
            0 => {
                let v = self.rng.pick(&scalars);
                E {
                    s: v.name.clone(),
                    t: v.t,
                }
            }
            1 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            2 => {
                let w = self.rng.pick(&wins);
                self.window_read(&w)
            }
            _ => {
                let a = self.leaf_exact(env, false);
                self.f32_of(a)
            }
        }
    }

    fn f32_of(&mut self, a: E) -> E {
        let mut a = a;
        let x = a.t.ex();
        // Known bug `f32-literal-builtin`: inside `f32(...)`, literal arguments of
        // min/max/abs/~ are typed f32 (`f32(min(2, x))` is E0305); and literal-only
        // arguments are computed in f32 (where `//` and `~` are not defined). An
        // intermediate exact conversion avoids both.
        let risky = x.lit
            || literal_only(&a.s)
            || has_literal(&a.s)
            || ["min(", "max(", "abs(", "~"]
                .iter()
                .any(|p| a.s.contains(p))
            || mentions_size(&a.s);
        if x.m > 24 || x.fb > 100 || (risky && self.avoid("f32-literal-context")) {
            let n = Elem::Fixed {
                signed: true,
                w: 32,
                i: 16,
                modes: Some((
                    self.rng.below(7),
                    if self.avoid("jit-i128-minmax") { 2 } else { 1 },
                    None,
                )),
            };
            a = E {
                s: format!("{}({})", n.text(), a.s),
                t: n.t(),
            };
        }
        self.f("conv: exact to f32");
        let m = a.t.ex().m.max(0);
        E {
            s: format!("f32({})", a.s),
            t: T::F32(m),
        }
    }

    fn ex_f32(&mut self, env: &mut Env, depth: u32) -> E {
        if depth == 0 || self.chance(25) {
            return self.leaf_f32(env);
        }
        let lam = env.in_lambda;
        let nr = self.no_nested_reduce(env);
        let e = match self.rng.weighted(&[
            25,
            15,
            6,
            8,
            5,
            6,
            if lam || env.trips > 400 || nr { 0 } else { 5 },
            if lam || nr { 0 } else { 3 },
            4,
            4,
            4,
        ]) {
            0 | 1 => {
                let op = if self.rng.below(3) == 0 {
                    "*"
                } else if self.chance(50) {
                    "+"
                } else {
                    "-"
                };
                let a = self.ex_f32(env, depth - 1);
                let b = if self.chance(25) {
                    self.f("expr: literal next to f32");
                    self.f32_lit()
                } else {
                    self.ex_f32(env, depth - 1)
                };
                let (x, y) = match (a.t, b.t) {
                    (T::F32(x), T::F32(y)) => (x, y),
                    _ => unreachable!(),
                };
                self.f(format!("f32: {op}"));
                let (l, r) = if self.chance(30) {
                    (b.s, a.s)
                } else {
                    (a.s, b.s)
                };
                E {
                    s: format!("({l} {op} {r})"),
                    t: T::F32(if op == "*" { x + y } else { x.max(y) + 1 }),
                }
            }
            2 => {
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                self.f("f32: /");
                let m = match a.t {
                    T::F32(m) => m,
                    _ => 0,
                };
                E {
                    s: format!("({} / (abs({}) + 0.5))", a.s, b.s),
                    t: T::F32(m + 1),
                }
            }
            3 => {
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                let f = if self.chance(50) { "min" } else { "max" };
                self.f(format!("f32: {f}"));
                E {
                    s: format!("{f}({}, {})", a.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            4 => {
                let a = self.ex_f32(env, depth - 1);
                let neg = self.chance(50);
                self.f(if neg { "f32: unary -" } else { "f32: abs" });
                E {
                    s: if neg {
                        format!("(-{})", a.s)
                    } else {
                        format!("abs({})", a.s)
                    },
                    t: a.t,
                }
            }
            5 => {
                let c = self.ex_bool(env, depth - 1);
                let a = self.ex_f32(env, depth - 1);
                let b = self.ex_f32(env, depth - 1);
                self.f("f32: conditional");
                E {
                    s: format!("({} if {} else {})", a.s, c.s, b.s),
                    t: join_t(a.t, b.t),
                }
            }
            6 => self.reduction(env, W::F32, false, depth),
            7 => self.tensor_reduction(env, Kind::F32, false),
            8 => {
                let a = self.ex_exact(env, false, depth - 1);
                self.f32_of(a)
            }
            9 => {
                let b = self.ex_bool(env, depth - 1);
                self.f("conv: bool to f32");
                E {
                    s: format!("f32({})", b.s),
                    t: T::F32(0),
                }
            }
            _ => {
                // f32 math functions, kept in ranges the model knows (|value| < 2^m).
                let a = self.ex_f32(env, depth - 1);
                let T::F32(m) = a.t else { unreachable!() };
                let (f, s, m) = match self.rng.below(5) {
                    0 => ("sqrt", format!("sqrt(abs({}))", a.s), m / 2 + 1),
                    1 => ("exp", format!("exp(tanh({}))", a.s), 2),
                    2 => (
                        "log",
                        format!("log(abs({}) + 1.0)", a.s),
                        log2_ceil(m.max(1) as i64 + 1) + 1,
                    ),
                    3 => ("tanh", format!("tanh({})", a.s), 1),
                    _ => ("sigmoid", format!("sigmoid({})", a.s), 1),
                };
                self.f(format!("f32: {f}"));
                E { s, t: T::F32(m) }
            }
        };
        self.fit(e)
    }

    fn ex_bool(&mut self, env: &mut Env, depth: u32) -> E {
        let scalars = env.scalars(Kind::Bool);
        let tensors = env.tensors(Some(Kind::Bool));
        let wins: Vec<Win> = env
            .windows
            .iter()
            .filter(|w| matches!(w.t, T::Bool))
            .cloned()
            .collect();
        let leaf = depth == 0 || self.chance(15);
        let weights = [
            if leaf { 5 } else { 40 },               // comparison of exact values
            if leaf { 0 } else { 8 },                // comparison of f32 values
            if leaf { 0 } else { 12 },               // and / or
            if leaf { 0 } else { 5 },                // not
            if scalars.is_empty() { 0 } else { 10 }, // variable
            if tensors.is_empty() { 0 } else { 10 }, // element
            if leaf { 0 } else { 4 },                // bool(e)
            2,                                       // True / False
            if wins.is_empty() { 0 } else { 40 },
            if leaf { 0 } else { 3 }, // chained comparison
            if leaf || (scalars.is_empty() && tensors.is_empty()) {
                0
            } else {
                3
            }, // bool == bool
        ];
        let d = depth.saturating_sub(1);
        match self.rng.weighted(&weights) {
            0 => {
                let a = self.ex_exact(env, false, d);
                let b = self.ex_exact(env, false, d);
                let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                self.f(format!("cmp: {op}"));
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Bool,
                }
            }
            1 => {
                let a = self.ex_f32(env, d);
                let b = self.ex_f32(env, d);
                let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                self.f("cmp: f32");
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Bool,
                }
            }
            2 => {
                let a = self.ex_bool(env, d);
                let b = self.ex_bool(env, d);
                let op = if self.chance(50) { "and" } else { "or" };
                self.f(format!("bool: {op}"));
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Bool,
                }
            }
            3 => {
                let a = self.ex_bool(env, d);
                self.f("bool: not");
                E {
                    s: format!("(not {})", a.s),
                    t: T::Bool,
                }
            }
            4 => {
                let v = self.rng.pick(&scalars);
                E {
                    s: v.name.clone(),
                    t: T::Bool,
                }
            }
            5 => {
                let v = self.rng.pick(&tensors);
                self.read_element(env, &v)
            }
            6 => {
                self.f("conv: to bool");
                let a = if self.chance(75) {
                    self.ex_exact(env, false, d)
                } else {
                    self.ex_f32(env, d)
                };
                E {
                    s: format!("bool({})", a.s),
                    t: T::Bool,
                }
            }
            7 => E {
                s: if self.chance(50) { "True" } else { "False" }.into(),
                t: T::Bool,
            },
            8 => {
                let w = self.rng.pick(&wins);
                self.window_read(&w)
            }
            9 => {
                let a = self.ex_exact(env, false, d);
                let b = self.ex_exact(env, false, d);
                let c = self.ex_exact(env, false, d);
                self.f("cmp: chained a < b <= c");
                let o1 = self.rng.pick(&["<", "<="]);
                let o2 = self.rng.pick(&["<", "<="]);
                E {
                    s: format!("({} {o1} {} {o2} {})", a.s, b.s, c.s),
                    t: T::Bool,
                }
            }
            _ => {
                let a = self.ex_bool(env, 0);
                let b = self.ex_bool(env, 0);
                let op = if self.chance(50) { "==" } else { "!=" };
                self.f("cmp: bool == bool");
                E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::Bool,
                }
            }
        }
    }

    /// A random expression of a random kind (mostly exact).
    fn ex_any(&mut self, env: &mut Env, depth: u32) -> E {
        match self.rng.weighted(&[70, 18, 12]) {
            0 => self.ex_exact(env, false, depth),
            1 => self.ex_f32(env, depth),
            _ => self.ex_bool(env, depth),
        }
    }

    /// A value convertible to a declared element type `to` by assignment: exact to exact,
    /// f32 to f32, bool to bool; across kinds with an explicit conversion.
    fn ex_for(&mut self, env: &mut Env, to: &T, depth: u32) -> E {
        let e = self.ex_any(env, depth);
        self.convert_for(e, to)
    }

    fn convert_for(&mut self, e: E, to: &T) -> E {
        match (to, e.t) {
            (T::Ex(_), T::Ex(_)) | (T::F32(_), T::F32(_)) | (T::Bool, T::Bool) => e,
            (T::Ex(_), _) => {
                let n = self.narrow_elem(false);
                self.f(if matches!(e.t, T::Bool) {
                    "conv: bool to exact"
                } else {
                    "conv: f32 to exact"
                });
                E {
                    s: format!("{}({})", n.text(), e.s),
                    t: n.t(),
                }
            }
            (T::F32(_), T::Ex(_)) => self.f32_of(e),
            (T::F32(_), _) => {
                self.f("conv: bool to f32");
                E {
                    s: format!("f32({})", e.s),
                    t: T::F32(0),
                }
            }
            (T::Bool, _) => {
                self.f("conv: to bool");
                E {
                    s: format!("bool({})", e.s),
                    t: T::Bool,
                }
            }
        }
    }

    // ----------------------------------------------------------------- whole tensors

    /// An elementwise expression over tensors of shape `shape` (scalars broadcast).
    fn tex(&mut self, env: &mut Env, shape: &[Dim], kind: Kind, depth: u32) -> Option<E> {
        let cands: Vec<Var> = env
            .tensors(Some(kind))
            .into_iter()
            .filter(|v| v.shape.as_ref().unwrap().len() >= shape.len())
            .collect();
        if depth == 0 || self.chance(30) {
            // A view of a tensor.
            for _ in 0..4 {
                if cands.is_empty() {
                    break;
                }
                let v = self.rng.pick(&cands);
                if let Some(s) = self.view_as(env, &v, shape) {
                    // Wide tensors are converted (elementwise) to a narrow type.
                    return Some(self.fit(E { s, t: v.t }));
                }
            }
            if depth == 0 {
                return None;
            }
        }
        let d = depth - 1;
        match kind {
            Kind::Ex => {
                let c = self.rng.weighted(&[30, 15, 10, 8, 8, 6, 5]);
                match c {
                    0 | 1 => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        let b = if self.chance(35) {
                            self.f("tensor: scalar broadcast");
                            let mut e2 = env.clone();
                            e2.loops.clear();
                            self.ex_exact(&mut e2, false, 1)
                        } else {
                            self.tex(env, shape, Kind::Ex, d)?
                        };
                        let op = if c == 1 {
                            "*"
                        } else if self.chance(50) {
                            "+"
                        } else {
                            "-"
                        };
                        self.f(format!("tensor: elementwise {op}"));
                        let (x, y) = (a.t.ex(), b.t.ex());
                        let (l, r) = if self.chance(25) {
                            (b.s, a.s)
                        } else {
                            (a.s, b.s)
                        };
                        Some(self.fit(E {
                            s: format!("({l} {op} {r})"),
                            t: T::Ex(Ex {
                                m: if op == "*" {
                                    x.m + y.m
                                } else {
                                    x.m.max(y.m) + 1
                                },
                                fb: if op == "*" {
                                    x.fb + y.fb
                                } else {
                                    x.fb.max(y.fb)
                                },
                                cls: join_cls(x.cls, y.cls),
                                lit: false,
                            }),
                        }))
                    }
                    2 => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        self.f("tensor: conversion");
                        Some(self.conversion(a, false))
                    }
                    3 => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        let a = self.mm(a);
                        let f = self.rng.pick(&["min", "max"]);
                        let b = if self.chance(50) {
                            self.int_lit()
                        } else {
                            self.tex(env, shape, Kind::Ex, d)?
                        };
                        let b = self.mm(b);
                        let mut ab = self.mm_all(vec![a, b]);
                        let b = ab.pop().unwrap();
                        let a = ab.pop().unwrap();
                        self.f(format!("tensor: {f}"));
                        Some(E {
                            s: format!("{f}({}, {})", a.s, b.s),
                            t: join_t(a.t, b.t),
                        })
                    }
                    4 => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        self.f("tensor: abs / neg");
                        let x = a.t.ex();
                        Some(E {
                            s: if self.chance(50) {
                                self.abs_s(&a)
                            } else {
                                format!("(-{})", a.s)
                            },
                            t: T::Ex(Ex { m: x.m + 1, ..x }),
                        })
                    }
                    5 => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        let b = self.tex(env, shape, Kind::Ex, d)?;
                        let c = self.tex(env, shape, Kind::Bool, d).or_else(|| {
                            let a2 = a.clone();
                            Some(E {
                                s: format!("({} > 0)", a2.s),
                                t: T::Bool,
                            })
                        })?;
                        self.f("tensor: conditional");
                        Some(E {
                            s: format!("({} if {} else {})", a.s, c.s, b.s),
                            t: join_t(a.t, b.t),
                        })
                    }
                    _ => {
                        let a = self.tex(env, shape, Kind::Ex, d)?;
                        let k = self.rng.range(0, 4);
                        let left = self.chance(50);
                        let a = if left { a } else { self.normalized(a) };
                        self.f("tensor: shift");
                        let x = a.t.ex();
                        Some(E {
                            s: format!("({} {} {k})", a.s, if left { "<<" } else { ">>" }),
                            t: T::Ex(Ex {
                                m: if left { x.m + k as i32 } else { x.m },
                                ..x
                            }),
                        })
                    }
                }
            }
            Kind::F32 => {
                let a = self.tex(env, shape, Kind::F32, d)?;
                let b = if self.chance(40) {
                    self.f32_lit()
                } else {
                    self.tex(env, shape, Kind::F32, d)?
                };
                let op = self.rng.pick(&["+", "-", "*"]);
                self.f("tensor: f32 elementwise");
                let (x, y) = match (a.t, b.t) {
                    (T::F32(x), T::F32(y)) => (x, y),
                    _ => return None,
                };
                Some(self.fit(E {
                    s: format!("({} {op} {})", a.s, b.s),
                    t: T::F32(if op == "*" { x + y } else { x.max(y) + 1 }),
                }))
            }
            Kind::Bool => {
                if self.chance(60) {
                    let a = self.tex(env, shape, Kind::Ex, d)?;
                    let b = if self.chance(50) {
                        self.int_lit()
                    } else {
                        self.tex(env, shape, Kind::Ex, d)?
                    };
                    let op = self.rng.pick(&["<", "<=", ">", ">=", "==", "!="]);
                    self.f("tensor: comparison");
                    Some(E {
                        s: format!("({} {op} {})", a.s, b.s),
                        t: T::Bool,
                    })
                } else {
                    let a = self.tex(env, shape, Kind::Bool, d)?;
                    self.f("tensor: not");
                    Some(E {
                        s: format!("(not {})", a.s),
                        t: T::Bool,
                    })
                }
            }
        }
    }

    // ----------------------------------------------------------------- statements

    fn new_scalar(&mut self, b: &mut Body, name: String, t: T, decl: Option<Ty>) {
        let t = match (t, &decl) {
            (_, Some(d)) => d.t,
            (T::Ex(x), None) => T::Ex(Ex {
                lit: false,
                cls: if x.cls == Cls::Gen { Cls::Gen } else { x.cls },
                ..x
            }),
            (t, None) => t,
        };
        b.env.vars.push(Var {
            name,
            t,
            shape: None,
            decl,
            store: false,
            assign: true,
            readable: true,
            local: true,
        });
    }

    /// `s = e` or `s: T = e`.
    fn st_scalar(&mut self, b: &mut Body) {
        let kind = self.rng.weighted(&[70, 18, 12]);
        let name = self.fresh(["s", "f", "b"][kind]);
        let depth = self.rng.range(1, 4) as u32;
        if self.chance(40) {
            let ty = match kind {
                0 => self.exact_ty(),
                1 => self.ty_of(Elem::F32),
                _ => self.ty_of(Elem::Bool),
            };
            let e = self.ex_for(&mut b.env, &ty.t, depth);
            self.f("stmt: declared scalar s: T = e");
            b.line(format!("{name}: {} = {}", ty.text, e.s));
            self.new_scalar(b, name, e.t, Some(ty));
        } else {
            let e = match kind {
                0 => self.ex_exact(&mut b.env, false, depth),
                1 => self.ex_f32(&mut b.env, depth),
                _ => self.ex_bool(&mut b.env, depth),
            };
            if matches!(e.t, T::Ex(x) if x.lit) && self.chance(70) {
                // A literal alone is folded; make it a conversion sometimes.
            }
            self.f("stmt: inferred scalar s = e");
            b.line(format!("{name} = {}", e.s));
            self.new_scalar(b, name, e.t, None);
        }
    }

    /// `if c: s = a elif c2: s = b else: s = c` (inferred), or a declared scalar
    /// updated in some branches.
    fn st_if(&mut self, b: &mut Body) {
        let kind = if self.chance(80) { Kind::Ex } else { Kind::F32 };
        let name = self.fresh("s");
        let w = if kind == Kind::Ex { W::Ex } else { W::F32 };
        let declared = self.chance(35);
        let mut t: Option<T> = None;
        if declared {
            let ty = if kind == Kind::Ex {
                self.exact_ty()
            } else {
                self.ty_of(Elem::F32)
            };
            let e = self.ex(&mut b.env, w, 2);
            b.line(format!("{name}: {} = {}", ty.text, e.s));
            self.new_scalar(b, name.clone(), ty.t, Some(ty.clone()));
            t = Some(ty.t);
        }
        let nelif = self.rng.range(0, 2);
        let has_else = !declared || self.chance(50);
        let mut branches = vec![];
        branches.push("if".to_string());
        for _ in 0..nelif {
            branches.push("elif".into());
        }
        if has_else {
            branches.push("else".into());
        }
        self.f("stmt: if");
        if nelif > 0 {
            self.f("stmt: elif");
        }
        if has_else {
            self.f("stmt: else");
        }
        for br in branches {
            let header = if br == "else" {
                "else:".to_string()
            } else {
                let c = self.ex_bool(&mut b.env, 2);
                format!("{br} {}:", c.s)
            };
            let mark = b.open(header);
            if self.chance(30) {
                self.st_scalar(b);
            }
            let hide = declared && self.avoid("declared-self-update-e0311");
            if hide {
                b.env.var_mut(&name).readable = false;
            }
            let e = self.ex(&mut b.env, w, 3);
            if declared {
                let op = self.update_op(t.unwrap(), true);
                let e = if op.is_empty() {
                    e
                } else {
                    self.ex(
                        &mut b.env,
                        if op == "//" || op == "%" || op == "&" || op == "|" || op == "^" {
                            W::Int
                        } else {
                            w
                        },
                        1,
                    )
                };
                let e = if ["&", "|", "^"].contains(&op) {
                    self.unit_lsb(e)
                } else {
                    e
                };
                let e = if op == "//" || op == "%" {
                    E {
                        s: format!("({} + 1)", self.abs_s(&e)),
                        t: e.t,
                    }
                } else {
                    e
                };
                b.line(format!("{name} {op}= {}", e.s));
                if !op.is_empty() {
                    self.f(format!("stmt: {op}= on a declared scalar"));
                }
                if hide {
                    b.env.var_mut(&name).readable = true;
                }
            } else {
                b.line(format!("{name} = {}", e.s));
                t = Some(match t {
                    None => e.t,
                    Some(t0) => join_t(t0, e.t),
                });
            }
            b.close(mark);
        }
        if !declared {
            self.new_scalar(b, name, t.unwrap(), None);
        }
    }

    /// An `op=` for a declared scalar of model `t`: "" (plain `=`), "+", "*", ...
    fn update_op(&mut self, t: T, allow_plain: bool) -> &'static str {
        match t {
            T::Ex(x) => {
                let mut ops = vec!["+", "-"];
                if !self.avoid("declared-self-update-e0311") {
                    ops.push("*");
                }
                if allow_plain {
                    ops.push("");
                    ops.push("");
                }
                if x.cls == Cls::Int
                    && !(x.fb < 0 && self.avoid("jit-bitwise-coarse-lsb"))
                    && !self.avoid("bitwise-update-e0311")
                {
                    ops.extend(["&", "|", "^"]);
                    // `s //= e` cannot widen the (declared, maybe narrow) dividend.
                    if !self.avoid("jit-narrow-divmod") {
                        ops.extend(["//", "%"]);
                    }
                }
                self.rng.pick(&ops)
            }
            T::F32(_) => self.rng.pick(&["", "+", "-", "*"]),
            T::Bool => "",
        }
    }

    /// A local tensor with a declared element type, filled by a loop nest (or
    /// initialized by its declaration and then partly updated).
    fn st_local_tensor(&mut self, b: &mut Body) {
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
        match init {
            0 => {
                b.line(format!("{name}: {}[{}]", ty.text, shape_text(&shape)));
                self.f("stmt: local tensor declaration");
            }
            1 => {
                let e = self.ex_for(&mut b.env, &ty.t, 1);
                b.line(format!(
                    "{name}: {}[{}] = {}",
                    ty.text,
                    shape_text(&shape),
                    e.s
                ));
                self.f("stmt: local tensor filled with a scalar");
            }
            _ => {
                let k = ty.t.kind();
                let src = self.tex(&mut b.env, &shape, k, 2);
                match src {
                    Some(e) => {
                        b.line(format!(
                            "{name}: {}[{}] = {}",
                            ty.text,
                            shape_text(&shape),
                            e.s
                        ));
                        self.f("stmt: local tensor copied from a tensor");
                    }
                    None => {
                        let e = self.ex_for(&mut b.env, &ty.t, 1);
                        b.line(format!(
                            "{name}: {}[{}] = {}",
                            ty.text,
                            shape_text(&shape),
                            e.s
                        ));
                        self.f("stmt: local tensor filled with a scalar");
                    }
                }
            }
        }
        b.env.vars.push(Var {
            name: name.clone(),
            t: ty.t,
            shape: Some(shape.clone()),
            decl: Some(ty.clone()),
            store: true,
            assign: false,
            readable: init != 0,
            local: true,
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
    fn fill_loop(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
        let mut marks = Vec::new();
        let mut idx = Vec::new();
        let old_trips = b.env.trips;
        if shape.len() > 1 && self.chance(60) {
            let (h, vars, trips, _) = self.loop_header(&b.env, shape.len(), Some(shape), false);
            marks.push(b.open(format!("for {h}:")));
            idx.extend(vars.iter().map(|v| v.name.clone()));
            b.env.loops.extend(vars);
            b.env.trips *= trips;
        } else {
            for d in shape {
                let (h, vars, trips, _) =
                    self.loop_header(&b.env, 1, Some(std::slice::from_ref(d)), false);
                marks.push(b.open(format!("for {h}:")));
                idx.push(vars[0].name.clone());
                b.env.loops.extend(vars);
                b.env.trips *= trips;
            }
        }
        self.f("stmt: fill loop nest");
        let nloops = idx.len().min(shape.len());
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
        let _ = nloops;
        for m in marks.into_iter().rev() {
            b.close(m);
        }
        let n = b.env.loops.len() - idx.len();
        b.env.loops.truncate(n);
        b.env.trips = old_trips;
    }

    /// Statements at the top of a loop body: temporaries, conditional updates of
    /// declared scalars of the enclosing scope.
    fn loop_body_extras(&mut self, b: &mut Body) {
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
                let w = if ["//", "%", "&", "|", "^"].contains(&op) {
                    W::Int
                } else {
                    want_of(&v.t)
                };
                let hide = self.avoid("declared-self-update-e0311");
                if hide {
                    b.env.var_mut(&v.name).readable = false;
                }
                let e = self.ex(&mut b.env, w, 2);
                b.env.var_mut(&v.name).readable = true;
                let e = if ["&", "|", "^"].contains(&op) {
                    self.unit_lsb(e)
                } else {
                    e
                };
                let e = if op == "//" || op == "%" {
                    E {
                        s: format!("({} + 1)", self.abs_s(&e)),
                        t: e.t,
                    }
                } else {
                    e
                };
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

    /// `acc = 0; for ...: acc += e` (inferred or declared), returns `acc` to store.
    fn accumulation(&mut self, b: &mut Body) -> E {
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
        let mut marks = vec![];
        let n0 = b.env.loops.len();
        let old_trips = b.env.trips;
        for _ in 0..depth {
            let (h, vars, trips, _) = self.loop_header(&b.env, 1, None, true);
            if b.env.trips * trips > MAX_TRIPS {
                break;
            }
            marks.push(b.open(format!("for {h}:")));
            b.env.loops.extend(vars);
            b.env.trips *= trips.max(1);
        }
        let mut terms_m = 0;
        let mut fb = 0;
        let mut cls = Cls::Int;
        if !marks.is_empty() {
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
        let trips = b.env.trips / old_trips.max(1);
        for m in marks.into_iter().rev() {
            b.close(m);
        }
        b.env.loops.truncate(n0);
        b.env.trips = old_trips;
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

    /// Partial updates of a readable local tensor: triangular loops, guarded stores,
    /// reads of the tensor itself (prefix sums).
    fn update_loop(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
        let old_trips = b.env.trips;
        let mut marks = vec![];
        let mut idx = vec![];
        let n0 = b.env.loops.len();
        for (k, d) in shape.iter().enumerate() {
            let (h, vars, trips, _) = if k == 0 || self.chance(50) {
                self.loop_header(&b.env, 1, Some(std::slice::from_ref(d)), false)
            } else {
                self.loop_header(&b.env, 1, None, true)
            };
            marks.push(b.open(format!("for {h}:")));
            idx.push(vars[0].clone());
            b.env.loops.extend(vars);
            b.env.trips *= trips.max(1);
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
            let c = self.ex_bool(&mut b.env, 1);
            let jump = if self.chance(50) { "break" } else { "continue" };
            let m = b.open(format!("if {}:", c.s));
            b.line(jump);
            b.close(m);
            self.f(format!("stmt: {jump}"));
        }
        for m in marks.into_iter().rev() {
            b.close(m);
        }
        b.env.loops.truncate(n0);
        b.env.trips = old_trips;
    }

    /// `y[k, :, 1:3] = e`: a region store of a scalar or a tensor of the region's shape.
    fn region_store(&mut self, b: &mut Body, name: &str, shape: &[Dim], ty: &Ty) {
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

    /// A shape for a new tensor: one of an existing tensor, or a random one.
    fn pick_shape(&mut self, env: &Env) -> Vec<Dim> {
        let ts = env.tensors(None);
        if !ts.is_empty() && self.chance(60) {
            let v = self.rng.pick(&ts);
            return v.shape.unwrap();
        }
        self.random_shape()
    }

    fn random_shape(&mut self) -> Vec<Dim> {
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
    fn st_comprehension(&mut self, b: &mut Body) {
        let name = self.fresh("t");
        let (header, vars, shape) = if self.chance(75) {
            let shape = self.pick_shape(&b.env);
            let (h, vars, _, _) =
                self.loop_header_in(&b.env, shape.len(), Some(&shape), false, true);
            (h, vars, shape)
        } else {
            let lo = self.rng.range(-2, 3);
            let step = self.rng.range(1, 3);
            let n = self.rng.range(1, 8);
            let hi = lo + (n - 1) * step + 1;
            let v = self.fresh_loop();
            self.f("comprehension: range(lo, hi, step)");
            (
                format!("{v} in range({lo}, {hi}, {step})"),
                vec![LVar {
                    name: v,
                    lo,
                    hi: lo + (n - 1) * step,
                }],
                vec![Dim::lit(n)],
            )
        };
        let n0 = b.env.loops.len();
        b.env.loops.extend(vars);
        let old = b.env.trips;
        b.env.trips *= numel(&shape);
        let e = self.ex_any(&mut b.env, 3);
        b.env.loops.truncate(n0);
        b.env.trips = old;
        self.f("stmt: comprehension");
        b.line(format!("{name} = [{} for {header}]", e.s));
        b.env.vars.push(Var {
            name,
            t: match e.t {
                T::Ex(x) => T::Ex(Ex { lit: false, ..x }),
                t => t,
            },
            shape: Some(shape),
            decl: None,
            store: false,
            assign: false,
            readable: true,
            local: true,
        });
    }

    /// `t = a[0:4] * 2 + b[1:5]`: whole-tensor arithmetic.
    fn st_whole(&mut self, b: &mut Body) {
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
        b.env.vars.push(Var {
            name,
            t: match e.t {
                T::Ex(x) => T::Ex(Ex { lit: false, ..x }),
                t => t,
            },
            shape: Some(shape),
            decl: None,
            store: false,
            assign: false,
            readable: true,
            local: true,
        });
    }

    /// `t = map(lambda p: ..., x[1:N - 1])`, `map(lambda a, b: ..., x, y)`.
    fn st_map(&mut self, b: &mut Body) {
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
        if !e.s.contains('p') && !e.s.contains('q') {
            // make sure the lambda reads its operand (not required, but more useful)
        }
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
        b.env.vars.push(Var {
            name,
            t: e.t,
            shape: Some(shape),
            decl: None,
            store: false,
            assign: false,
            readable: true,
            local: true,
        });
    }

    /// `s = sum(...)`, `s = max(x)`, `s = dot(a, b)`: a scalar reduction statement.
    fn st_reduction(&mut self, b: &mut Body) {
        let name = self.fresh("r");
        let e = if self.chance(50) {
            let k = if self.chance(80) { Kind::Ex } else { Kind::F32 };
            self.tensor_reduction(&mut b.env, k, false)
        } else if self.chance(80) {
            self.reduction(&mut b.env, W::Ex, false, 3)
        } else {
            self.reduction(&mut b.env, W::F32, false, 3)
        };
        self.f("stmt: reduction");
        b.line(format!("{name} = {}", e.s));
        self.new_scalar(b, name, e.t, None);
    }

    /// A top-level accumulation into a scalar: `acc = 0` + a loop nest.
    fn st_accumulate(&mut self, b: &mut Body) {
        let _ = self.accumulation(b);
        self.f("stmt: accumulation loop");
    }

    /// `m = x[0]; for i in ...: m = max(m, e)`: a self-update solved by iteration.
    fn st_self_update(&mut self, b: &mut Body) {
        let name = self.fresh("mx");
        let init = self.ex_exact(&mut b.env, false, 1);
        let init = self.mm(init);
        let init = self.mm_all(vec![init]).pop().unwrap();
        b.line(format!("{name} = {}", init.s));
        let (h, vars, trips, _) = self.loop_header(&b.env, 1, None, true);
        let m = b.open(format!("for {h}:"));
        let n0 = b.env.loops.len();
        b.env.loops.extend(vars);
        let old = b.env.trips;
        b.env.trips *= trips.max(1);
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
        b.env.loops.truncate(n0);
        b.env.trips = old;
        b.close(m);
        self.f("stmt: self-update m = max(m, e)");
        let t = join_t(init.t, e.t);
        self.new_scalar(b, name, t, None);
    }

    // ----------------------------------------------------------------- calls

    /// A call of a generated generic helper kernel.
    fn st_call_helper(&mut self, b: &mut Body) {
        if self.helper_budget == 0 || b.env.generic {
            return;
        }
        let ts: Vec<Var> = b
            .env
            .tensors(None)
            .into_iter()
            .filter(|v| v.t.kind() != Kind::Bool)
            .collect();
        if ts.is_empty() {
            return;
        }
        self.helper_budget -= 1;
        let nargs = self.rng.range(1, 2.min(ts.len() as i64)) as usize;
        let mut args: Vec<Var> = Vec::new();
        for _ in 0..nargs {
            let v = self.rng.pick(&ts);
            if !args.iter().any(|a| a.name == v.name) {
                args.push(v);
            }
        }
        let scalar_arg = if self.chance(30) {
            let e = self.ex_exact(&mut b.env, false, 1);
            Some(e)
        } else {
            None
        };
        let hname = self.fresh("h");
        // The helper's signature: a type variable per tensor argument (or a concrete
        // declared type, converting the argument), size variables per distinct value.
        let mut sizes: Vec<(i64, String)> = Vec::new();
        let mut params = vec![];
        let mut henv = Env::new();
        henv.generic = true;
        let mut tv_i = 0;
        for (k, a) in args.iter().enumerate() {
            let shape = a.shape.clone().unwrap();
            let mut dims = vec![];
            for d in &shape {
                if self.chance(12) {
                    dims.push(Dim::lit(d.val));
                    continue;
                }
                let n = match sizes.iter().find(|(v, _)| *v == d.val) {
                    Some((_, n)) => n.clone(),
                    None => {
                        let n = format!("N{}", sizes.len());
                        sizes.push((d.val, n.clone()));
                        henv.ints.push(Dim::size(&n, d.val));
                        n
                    }
                };
                dims.push(Dim::size(&n, d.val));
            }
            let generic = self.chance(75);
            let (etext, t) = if generic {
                let tv = ["T", "U", "V"][tv_i].to_string();
                tv_i += 1;
                let t = match a.t {
                    T::Ex(x) => T::Ex(Ex { cls: Cls::Gen, ..x }),
                    t => t,
                };
                henv.tvars.push((tv.clone(), t));
                if maybe_int(&a.t) {
                    henv.tv_int.push(tv.clone());
                }
                (tv, t)
            } else {
                // A concrete type: the argument converts.
                match a.t.kind() {
                    Kind::F32 => ("f32".to_string(), T::F32(40)),
                    _ => {
                        let mut ty = self.exact_ty();
                        if a.t.ex().cost() > 40 && self.avoid("jit-i128-minmax") {
                            // Saturating a wide argument clamps in 128-bit arithmetic.
                            let e = self.exact_elem();
                            let e = self.retarget(e);
                            let e = match e {
                                Elem::Fixed {
                                    signed,
                                    w,
                                    i,
                                    modes: Some((q, 1 | 3, _)),
                                } => Elem::Fixed {
                                    signed,
                                    w,
                                    i,
                                    modes: Some((q, 0, None)),
                                },
                                e => e,
                            };
                            ty = self.ty_of(e);
                        }
                        self.f("call: argument converts to a declared parameter type");
                        (ty.text, ty.t)
                    }
                }
            };
            let pname = format!("x{k}");
            params.push(format!("{pname}: {etext}[{}]", shape_text(&dims)));
            henv.vars.push(Var {
                name: pname,
                t,
                shape: Some(dims),
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
        }
        if let Some(e) = &scalar_arg {
            let t = match e.t {
                T::Ex(x) => T::Ex(Ex {
                    cls: Cls::Gen,
                    lit: false,
                    ..x
                }),
                t => t,
            };
            henv.tvars.push(("S".into(), t));
            if maybe_int(&e.t) {
                henv.tv_int.push("S".into());
            }
            params.push("a: S".into());
            henv.vars.push(Var {
                name: "a".into(),
                t,
                shape: None,
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
        }
        let const_param = if self.chance(25) {
            let v = self.rng.range(1, 3);
            henv.ints.push(Dim::size("K", v));
            params.push(format!("K: const = {v}"));
            self.f("call: const parameter");
            Some(v)
        } else {
            None
        };
        // Module params and consts are visible in the helper too.
        henv.vars.extend(self.globals.iter().cloned().map(|mut g| {
            g.local = false;
            g
        }));
        henv.ints.extend(self.consts.iter().cloned());
        let mut hb = Body::new(henv);
        let n = self.rng.range(1, 4);
        for _ in 0..n {
            self.statement(&mut hb);
        }
        let (rets, rtypes) = self.results(&mut hb, true, 2);
        let tvars: Vec<String> = hb.env.tvars.iter().map(|(n, _)| n.clone()).collect();
        let tv = if tvars.is_empty() {
            String::new()
        } else {
            format!("[{}]", tvars.join(", "))
        };
        let rt = if rtypes.len() == 1 {
            rtypes[0].0.clone()
        } else {
            format!(
                "({})",
                rtypes
                    .iter()
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut text = format!("kernel {hname}{tv}({}) -> {rt}:\n", params.join(", "));
        for l in &hb.lines {
            text.push_str(l);
            text.push('\n');
        }
        text.push_str(&format!("    return {}\n", rets.join(", ")));
        self.helpers.push(text);
        // The call.
        let mut call_args: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
        if let Some(e) = scalar_arg {
            call_args.push(e.s);
        }
        if let Some(v) = const_param {
            match self.rng.below(3) {
                0 => {}
                1 => call_args.push(format!("K={}", v)),
                _ => call_args.push(v.to_string()),
            }
        }
        let names: Vec<String> = rtypes.iter().map(|_| self.fresh("c")).collect();
        self.f("call: generic helper kernel");
        if names.len() > 1 {
            self.f("call: several results unpacked");
        }
        b.line(format!(
            "{} = {hname}({})",
            names.join(", "),
            call_args.join(", ")
        ));
        for (nm, (_, t, shape)) in names.into_iter().zip(rtypes) {
            b.env.vars.push(Var {
                name: nm,
                t: match t {
                    T::Ex(x) => T::Ex(Ex {
                        cls: if x.cls == Cls::Gen { Cls::Fixed } else { x.cls },
                        ..x
                    }),
                    t => t,
                },
                shape: shape.map(|s| s.iter().map(|d| d.concrete()).collect()),
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: true,
            });
        }
    }

    /// A call of a kernel of stdlib.nn.
    fn st_call_stdlib(&mut self, b: &mut Body) {
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
    fn guard_wide(&self, t: T) -> T {
        match t {
            T::Ex(x) => T::Ex(Ex { m: x.m + 24, ..x }),
            t => t,
        }
    }

    /// A new module parameter with random constant data: `param w: tern[...] = load(...)`.
    fn new_param(&mut self, shape: &[i64], weights: bool) -> Var {
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

    /// A new input of `main` (used when a construct needs a tensor of some rank).
    fn new_main_input(&mut self, b: &mut Body, shape: &[i64]) -> Var {
        let dims: Vec<Dim> = shape.iter().map(|&v| Dim::lit(v)).collect();
        let elem = self.exact_elem();
        let v = self.add_input(elem, Some(dims));
        b.env.vars.push(v.clone());
        v
    }

    // ----------------------------------------------------------------- inputs and data

    /// Declares an input of `main` (tensor or scalar) with its data.
    fn add_input(&mut self, elem: Elem, shape: Option<Vec<Dim>>) -> Var {
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

    /// Random data for a value of type `elem`: in range, out of range (overflow on
    /// load), on rounding ties of fixed-point types, negative values.
    fn data_for(&mut self, elem: &Elem, shape: &[i64]) -> Array {
        let n: usize = shape.iter().product::<i64>() as usize;
        let shape_u: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
        let data = match elem {
            Elem::Bool => {
                self.f("data: bool");
                Data::Bool((0..n).map(|_| self.chance(50)).collect())
            }
            Elem::F32 => {
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        let x = (self.rng.unit() - 0.5) * 200.0;
                        match self.rng.below(4) {
                            0 => x.round(),
                            1 => (x * 4.0).round() / 4.0,
                            _ => x,
                        }
                    })
                    .collect();
                if self.chance(80) {
                    self.f("data: float32 for f32");
                    Data::F32(v.iter().map(|&x| x as f32).collect())
                } else {
                    self.f("data: float64 for f32");
                    Data::F64(v)
                }
            }
            Elem::Bin | Elem::Tern => {
                let odd = self.chance(15);
                if odd {
                    self.f("data: bin/tern values out of range");
                }
                let v: Vec<i64> = (0..n)
                    .map(|_| {
                        if odd && self.chance(30) {
                            self.rng.range(-3, 3)
                        } else if *elem == Elem::Bin {
                            if self.chance(50) {
                                1
                            } else {
                                -1
                            }
                        } else {
                            self.rng.range(-1, 1)
                        }
                    })
                    .collect();
                if self.chance(20) {
                    Data::F64(v.iter().map(|&x| x as f64 * 0.75).collect())
                } else {
                    Data::I8(v.iter().map(|&x| x as i8).collect())
                }
            }
            Elem::Int { signed, w } => {
                let w = (*w).min(100);
                let (lo, hi): (i128, i128) = if *signed {
                    (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
                } else {
                    (0, (1i128 << w) - 1)
                };
                let clamp = |x: i128| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
                let wild = self.chance(25);
                if wild {
                    self.f("data: integers out of range (wrap on load)");
                }
                let v: Vec<i64> = (0..n)
                    .map(|_| {
                        if wild && self.chance(40) {
                            match self.rng.below(4) {
                                0 => clamp(lo - 1),
                                1 => clamp(hi + 1),
                                2 => self.rng.next() as i64 >> self.rng.range(0, 62),
                                _ => -(self.rng.range(0, 1000)),
                            }
                        } else if self.chance(10) {
                            clamp(if self.chance(50) { lo } else { hi })
                        } else {
                            let span = (hi - lo).min(1 << 62) as u64;
                            clamp(lo.max(-(1 << 62)) + (self.rng.next() % (span + 1)) as i128)
                        }
                    })
                    .collect();
                match self.rng.below(10) {
                    0 => {
                        self.f("data: float64 for an int type");
                        Data::F64(
                            v.iter()
                                .map(|&x| x as f64 + if self.chance(50) { 0.5 } else { -0.25 })
                                .collect(),
                        )
                    }
                    1 if !*signed && v.iter().all(|&x| x >= 0) => {
                        Data::U64(v.iter().map(|&x| x as u64).collect())
                    }
                    2 if v
                        .iter()
                        .all(|&x| x >= i32::MIN as i64 && x <= i32::MAX as i64) =>
                    {
                        Data::I32(v.iter().map(|&x| x as i32).collect())
                    }
                    3 if v.iter().all(|&x| (0..=255).contains(&x)) => {
                        Data::U8(v.iter().map(|&x| x as u8).collect())
                    }
                    4 if v
                        .iter()
                        .all(|&x| x >= i16::MIN as i64 && x <= i16::MAX as i64) =>
                    {
                        Data::I16(v.iter().map(|&x| x as i16).collect())
                    }
                    _ => Data::I64(v),
                }
            }
            Elem::Fixed { signed, w, i, .. } => {
                let f = *w as i32 - i;
                let lsb = 2f64.powi(-f);
                let max = if *signed {
                    2f64.powi(i - 1)
                } else {
                    2f64.powi(*i)
                };
                let min = if *signed { -max } else { 0.0 };
                let wild = self.chance(25);
                let ties = self.chance(40);
                if wild {
                    self.f("data: fixed values out of range (overflow on load)");
                }
                if ties {
                    self.f("data: rounding ties of the fixed type");
                }
                let v: Vec<f64> = (0..n)
                    .map(|_| {
                        // A grid point k * lsb with k of at most 50 bits.
                        let steps = ((max - min) / lsb).min(2f64.powi(50));
                        let k = (self.rng.unit() * steps).floor();
                        let mut x = min + k * lsb * ((max - min) / lsb / steps).max(1.0).floor();
                        if ties && self.chance(60) {
                            x += lsb / 2.0;
                            if self.chance(40) {
                                x = -x;
                            }
                        } else if self.chance(20) {
                            x += lsb * self.rng.unit();
                        }
                        if wild && self.chance(40) {
                            x = x * 4.0
                                + if self.chance(50) {
                                    max * 2.0
                                } else {
                                    min * 3.0 - 1.0
                                };
                        }
                        if !x.is_finite() {
                            0.0
                        } else {
                            x
                        }
                    })
                    .collect();
                match self.rng.below(10) {
                    0 => {
                        self.f("data: float32 for a fixed type");
                        Data::F32(v.iter().map(|&x| x as f32).collect())
                    }
                    1 => {
                        self.f("data: integers for a fixed type");
                        Data::I64(v.iter().map(|&x| x.clamp(-9e18, 9e18) as i64).collect())
                    }
                    _ => Data::F64(v),
                }
            }
        };
        Array {
            shape: shape_u,
            data,
        }
    }

    // ----------------------------------------------------------------- kernels

    fn statement(&mut self, b: &mut Body) {
        let generic = b.env.generic;
        let w = [
            14,                           // 0 scalar
            8,                            // 1 if
            18,                           // 2 local tensor
            7,                            // 3 comprehension
            8,                            // 4 whole tensor
            7,                            // 5 map
            6,                            // 6 reduction
            6,                            // 7 accumulation
            3,                            // 8 self update
            if generic { 0 } else { 6 },  // 9 helper call
            if generic { 0 } else { 10 }, // 10 stdlib call
            3,                            // 11 while loop
            4,                            // 12 helper function (def)
        ];
        match self.rng.weighted(&w) {
            0 => self.st_scalar(b),
            1 => self.st_if(b),
            2 => self.st_local_tensor(b),
            3 => self.st_comprehension(b),
            4 => self.st_whole(b),
            5 => self.st_map(b),
            6 => self.st_reduction(b),
            7 => self.st_accumulate(b),
            8 => self.st_self_update(b),
            9 => self.st_call_helper(b),
            10 => self.st_call_stdlib(b),
            11 => self.st_while(b),
            _ => self.st_def(b),
        }
    }

    /// A helper function (`def`) of one or two scalars, called where a scalar is
    /// assigned (the parser inlines it): its body is an expression of its parameters,
    /// generated with the arguments' models, so the result has the body's model.
    fn st_def(&mut self, b: &mut Body) {
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
                name: p.clone(),
                t: a.t,
                shape: None,
                decl: None,
                store: false,
                assign: false,
                readable: true,
                local: false,
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

    /// A bounded `while` counting a scalar down, accumulating into another, sometimes
    /// with `break` / `continue`. Its `max` is always enough (a program that stops with
    /// E0705 is a failed case here; tests/run/e0705_while_limit.kiln checks that error on
    /// every engine).
    fn st_while(&mut self, b: &mut Body) {
        let counter = self.fresh("w");
        let acc = self.fresh("s");
        let start = self.rng.range(0, 12);
        let step = self.rng.range(1, 3);
        let needed = (start + step - 1) / step;
        let max = needed + self.rng.range(0, 3);
        b.line(format!("{counter}: int<8> = {start}"));
        b.line(format!("{acc}: int<16> = 0"));
        let m = b.open(format!("while {counter} > 0, max={max}:"));
        b.line(format!("{counter} -= {step}"));
        if self.chance(40) {
            let c = self.ex_bool(&mut b.env, 1);
            let jump = if self.chance(50) { "break" } else { "continue" };
            let j = b.open(format!("if {}:", c.s));
            b.line(jump);
            b.close(j);
            self.f(format!("stmt: {jump} in a while"));
        }
        let e = self.ex_exact(&mut b.env, true, 2);
        b.line(format!("{acc} += int<8>({})", e.s));
        b.close(m);
        self.f("stmt: while");
        let ty = self.ty_of(Elem::Int {
            signed: true,
            w: 16,
        });
        self.new_scalar(
            b,
            acc,
            ty.t,
            Some(Ty {
                text: "int<16>".into(),
                ..ty
            }),
        );
    }

    /// Chooses 1..=max results among the kernel's values, preferring recent ones:
    /// (return expressions, (result type text, model, shape)).
    #[allow(clippy::type_complexity)]
    fn results(
        &mut self,
        b: &mut Body,
        helper: bool,
        max: usize,
    ) -> (Vec<String>, Vec<(String, T, Option<Vec<Dim>>)>) {
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
        if chosen.is_empty() {
            // Nothing computed: return an expression.
            let e = self.ex_exact(&mut b.env, false, 2);
            let ty = self.result_elem();
            self.count_elem(&ty);
            return (vec![e.s], vec![(ty.text(), ty.t(), None)]);
        }
        let mut rets = vec![];
        let mut types = vec![];
        for v in chosen {
            let shape = v.shape.clone();
            let dims = shape
                .as_ref()
                .map(|s| format!("[{}]", shape_text(s)))
                .unwrap_or_default();
            let tvar = b
                .env
                .tvars
                .iter()
                .find(|(n, _)| v.decl.as_ref().is_some_and(|d| d.text == *n))
                .cloned();
            let (text, t) = match v.t {
                T::Bool => (format!("bool{dims}"), T::Bool),
                T::F32(m) => (format!("f32{dims}"), T::F32(m)),
                T::Ex(x) => {
                    let integral_ok = x.cls == Cls::Int || !self.avoid("jit-fixed-to-int");
                    if helper && !b.env.tvars.is_empty() && integral_ok && self.chance(35) {
                        // Convert to a type variable.
                        let (tn, tt) = self.rng.pick(&b.env.tvars);
                        let narrow_bad = self.avoid("jit-narrow-quant");
                        let int_bad =
                            self.avoid("jit-signed-to-uint") && b.env.tv_int.contains(&tn);
                        if matches!(tt, T::Ex(_)) && !(narrow_bad && narrow(&tt)) && !int_bad {
                            self.f("result: type variable T");
                            types.push((format!("{tn}{dims}"), tt, shape.clone()));
                            rets.push(v.name.clone());
                            continue;
                        }
                    }
                    let _ = tvar;
                    if shape.is_some() && x.m + x.fb.max(0) <= 48 && x.fb >= 0 && self.chance(40) {
                        self.f("result: inferred element type [dims]");
                        (dims.clone(), T::Ex(x))
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
            types.push((text, t, shape));
            rets.push(v.name.clone());
        }
        (rets, types)
    }

    fn program(&mut self) -> String {
        if self.avoid("jit-i128-minmax") {
            // Intermediates within 64 bits (mostly).
            self.max_cost = 40;
        } else if self.chance(15) {
            self.max_cost = WIDE_COST;
            self.f("case: wide arithmetic (values over 128 bits)");
        }
        // Module consts.
        for _ in 0..self.rng.weighted(&[70, 25, 5]) {
            let name = self.fresh("C");
            let v = self.rng.range(1, 7);
            self.items.push(format!("const {name} = {v}"));
            self.consts.push(Dim::named(&name, v));
            self.f("item: const");
        }
        // Main's inputs.
        let mut env = Env::new();
        env.ints.extend(self.consts.clone());
        let ninputs = self.rng.range(1, 3);
        for _ in 0..ninputs {
            let shape = self.random_shape();
            let elem = match self.rng.weighted(&[76, 14, 10]) {
                0 => self.exact_elem(),
                1 => Elem::F32,
                _ => Elem::Bool,
            };
            let v = self.add_input(elem, Some(shape));
            env.vars.push(v);
        }
        if self.chance(40) {
            let elem = match self.rng.weighted(&[70, 15, 15]) {
                0 => self.exact_elem(),
                1 => Elem::F32,
                _ => Elem::Bool,
            };
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
            let name = self.fresh("sc");
            let e = self.fixed_elem();
            let ty = self.ty_of(e);
            let lit = self.rng.pick(&["0.75", "-1.5", "3", "0.1"]);
            self.items
                .push(format!("param {name}: {} = {lit}", ty.text));
            self.f("item: scalar param");
            let v = Var {
                name,
                t: ty.t,
                shape: None,
                decl: Some(ty),
                store: false,
                assign: false,
                readable: true,
                local: false,
            };
            self.globals.push(v.clone());
            env.vars.push(v);
        }
        let mut b = Body::new(env);
        let n = self.rng.range(3, 9);
        for _ in 0..n {
            self.statement(&mut b);
        }
        let (rets, rtypes) = self.results(&mut b, false, 4);
        let rt = if rtypes.len() == 1 {
            rtypes[0].0.clone()
        } else {
            self.f("result: several results");
            format!(
                "({})",
                rtypes
                    .iter()
                    .map(|r| r.0.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
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
        out.push_str(&format!(
            "kernel main({}) -> {rt}:\n",
            self.main_params.join(", ")
        ));
        for l in &b.lines {
            out.push_str(l);
            out.push('\n');
        }
        out.push_str(&format!("    return {}\n", rets.join(", ")));
        out
    }
}

/// Whether a value may have an integer type (kiln infers int<W> for values without
/// fraction bits, whatever their class).
fn maybe_int(t: &T) -> bool {
    matches!(t, T::Ex(x) if x.cls == Cls::Int || x.fb <= 0)
}

/// Whether a value's type may be narrow (8 bits or fewer).
fn narrow(t: &T) -> bool {
    matches!(t, T::Ex(x) if x.m + x.fb < 8)
}

/// The exact model of `t`, or a default for non-exact values.
fn ex_or(t: T, m: i32) -> Ex {
    match t {
        T::Ex(x) => x,
        _ => Ex {
            m,
            fb: 0,
            cls: Cls::Int,
            lit: false,
        },
    }
}

/// Whether an expression refers to no variable (only literals, consts, sizes, types and
/// builtins): kiln folds such expressions like literals.
fn literal_only(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "if",
        "else",
        "and",
        "or",
        "not",
        "True",
        "False",
        "for",
        "in",
        "range",
        "grid",
        "sum",
        "max",
        "min",
        "abs",
        "int",
        "uint",
        "fixed",
        "ufixed",
        "bin",
        "tern",
        "f32",
        "bool",
        "trn",
        "trn_zero",
        "rnd",
        "rnd_zero",
        "rnd_min_inf",
        "rnd_inf",
        "rnd_conv",
        "wrap",
        "sat",
        "sat_zero",
        "sat_sym",
        "wrap_sm",
    ];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let w = &s[st..i];
            // Parts of numbers (0x1f, 1e-3) start with a digit and are skipped below.
            let is_const = (w.starts_with('C') || w.starts_with('N'))
                && w.len() > 1
                && w[1..].bytes().all(|d| d.is_ascii_digit())
                || w == "K";
            if !(WORDS.contains(&w) || is_const || w.starts_with("ty")) {
                return false;
            }
        } else if c.is_ascii_digit() || c == b'.' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    true
}

/// Whether an expression contains a literal (outside of type arguments and indices is
/// not distinguished: any digit that starts a token counts).
fn has_literal(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        (b[i].is_ascii_digit() || (b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit()))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
    }) || mentions_size(s)
}

/// Whether `s` mentions a size variable (`N0`...) or const parameter (`K`) of a helper.
fn mentions_size(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        let start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if !start {
            return false;
        }
        let mut j = i;
        if b[j] == b'K' {
            j += 1;
        } else if b[j] == b'N' && j + 1 < b.len() && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        } else {
            return false;
        }
        j == b.len() || !(b[j].is_ascii_alphanumeric() || b[j] == b'_')
    })
}

fn affine(terms: &[(i64, String)], k: i64) -> String {
    let mut s = String::new();
    let lead_neg = terms.first().is_some_and(|(c, _)| *c < 0);
    if lead_neg && k > 0 {
        s.push_str(&k.to_string());
    }
    for (i, (c, n)) in terms.iter().enumerate() {
        let mag = c.abs();
        let t = if mag == 1 {
            n.clone()
        } else {
            format!("{mag} * {n}")
        };
        if i == 0 && !(lead_neg && k > 0) {
            if *c < 0 {
                s.push('-');
            }
            s.push_str(&t);
        } else {
            s.push_str(if *c < 0 { " - " } else { " + " });
            s.push_str(&t);
        }
    }
    if !(lead_neg && k > 0) {
        s.push_str(&signed_term(k));
    }
    s
}

impl Dim {
    /// A literal length that is symbolically `base + c` when `of` has a base.
    fn with_base(self, of: &Dim, c: i64) -> Dim {
        match &of.base {
            None => self,
            Some(_) => of.plus(c),
        }
    }
}
