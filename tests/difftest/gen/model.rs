//! The model of values: element types, the typing model of a value (kind, magnitude
//! bound, fraction bits, class) and of an expression, and how models combine.

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
    F64,
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
            Elem::F64 => "f64".into(),
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
            Elem::F64 => T::F64(31),
            Elem::Bool => T::Bool,
        }
    }

    pub fn is_exact(&self) -> bool {
        !matches!(self, Elem::F32 | Elem::F64 | Elem::Bool)
    }

    /// Total bits (for the output writer's 53-bit limit).
    pub(super) fn bits(&self) -> u32 {
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

pub(super) fn join_cls(a: Cls, b: Cls) -> Cls {
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
    pub(super) fn cost(&self) -> i32 {
        self.m.max(0) + self.fb.max(0) + 1
    }
}

/// The model of a value.
#[derive(Clone, Copy, Debug)]
pub enum T {
    Bool,
    /// An f32 with `|v| <= 2^m` (to keep f32 chains finite).
    F32(i32),
    /// An f64 with `|v| <= 2^m`.
    F64(i32),
    Ex(Ex),
}

impl T {
    pub(super) fn kind(&self) -> Kind {
        match self {
            T::Bool => Kind::Bool,
            T::F32(_) => Kind::F32,
            T::F64(_) => Kind::F64,
            T::Ex(_) => Kind::Ex,
        }
    }
    pub(super) fn ex(&self) -> Ex {
        match self {
            T::Ex(e) => *e,
            _ => panic!("not exact: {self:?}"),
        }
    }
    pub(super) fn is_int(&self) -> bool {
        matches!(self, T::Ex(e) if e.cls == Cls::Int)
    }
    /// The model of a named value of model `self` (a name is not a literal).
    pub(super) fn not_lit(self) -> T {
        match self {
            T::Ex(x) => T::Ex(Ex { lit: false, ..x }),
            t => t,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Bool,
    F32,
    F64,
    Ex,
}

pub(super) fn join_t(a: T, b: T) -> T {
    match (a, b) {
        (T::Ex(x), T::Ex(y)) => T::Ex(Ex {
            m: x.m.max(y.m),
            fb: x.fb.max(y.fb),
            cls: join_cls(x.cls, y.cls),
            lit: x.lit && y.lit,
        }),
        (T::F32(x), T::F32(y)) => T::F32(x.max(y)),
        (T::F64(x), T::F64(y)) => T::F64(x.max(y)),
        (T::Bool, T::Bool) => T::Bool,
        _ => panic!("joining {a:?} and {b:?}"),
    }
}

/// The model of `a + b` (or `a - b`).
pub(super) fn sum_model(a: Ex, b: Ex) -> Ex {
    Ex {
        m: a.m.max(b.m) + 1,
        fb: a.fb.max(b.fb),
        cls: join_cls(a.cls, b.cls),
        lit: a.lit && b.lit,
    }
}

/// The model of `a * b`.
pub(super) fn product_model(a: Ex, b: Ex) -> Ex {
    Ex {
        m: a.m + b.m,
        fb: a.fb + b.fb,
        cls: join_cls(a.cls, b.cls),
        lit: a.lit && b.lit,
    }
}

/// The model of `a op b` for `op` one of `+`, `-`, `*`.
pub(super) fn arith_model(op: &str, a: Ex, b: Ex) -> Ex {
    if op == "*" {
        product_model(a, b)
    } else {
        sum_model(a, b)
    }
}

/// The model of `a op b` of f32 values with `|a| <= 2^x`, `|b| <= 2^y`, for `op` one of
/// `+`, `-`, `*`.
pub(super) fn f32_arith_model(op: &str, x: i32, y: i32) -> T {
    T::F32(if op == "*" { x + y } else { x.max(y) + 1 })
}

/// The model of a sum of `n` products `a * b` (a dot product, a convolution, a dense
/// layer).
pub(super) fn dot_model(a: Ex, b: Ex, n: i64) -> Ex {
    Ex {
        m: a.m + b.m + log2_ceil(n),
        lit: false,
        ..product_model(a, b)
    }
}

/// The model of reduction `op` (`sum`, `max`, `min`) over `n` values of model `t`.
pub(super) fn reduce_model(op: &str, t: T, n: i64) -> T {
    match (op, t) {
        ("sum", T::Ex(x)) => T::Ex(Ex {
            m: x.m + log2_ceil(n),
            lit: false,
            ..x
        }),
        ("sum", T::F32(m)) => T::F32(m + log2_ceil(n)),
        ("sum", T::F64(m)) => T::F64(m + log2_ceil(n)),
        (_, t) => t,
    }
}

/// `ceil(log2(|v|))`, 0 for |v| <= 1: the `m` of an integer.
pub(super) fn mbits(v: i64) -> i32 {
    let a = v.unsigned_abs();
    if a <= 1 {
        0
    } else {
        64 - (a - 1).leading_zeros() as i32
    }
}

pub(super) fn log2_ceil(n: i64) -> i32 {
    mbits(n.max(1))
}

/// Whether a value may have an integer type (kiln infers int<W> for values without
/// fraction bits, whatever their class).
pub(super) fn maybe_int(t: &T) -> bool {
    matches!(t, T::Ex(x) if x.cls == Cls::Int || x.fb <= 0)
}

/// Whether a value's type may be narrow (8 bits or fewer).
pub(super) fn narrow(t: &T) -> bool {
    matches!(t, T::Ex(x) if x.m + x.fb < 8)
}

/// The exact model of `t`, or a default for non-exact values.
pub(super) fn ex_or(t: T, m: i32) -> Ex {
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

/// An expression and its model.
#[derive(Clone, Debug)]
pub(super) struct E {
    pub(super) s: String,
    pub(super) t: T,
}

impl E {
    /// A literal `s` (or an expression folded like one) with `|v| <= 2^m`, `fb` fraction
    /// bits, of class `cls`.
    pub(super) fn literal(s: String, m: i32, fb: i32, cls: Cls) -> E {
        E {
            s,
            t: T::Ex(Ex {
                m,
                fb,
                cls,
                lit: true,
            }),
        }
    }

    /// The integer literal `s` of value `v`.
    pub(super) fn int_literal(s: String, v: i64) -> E {
        E::literal(s, mbits(v), 0, Cls::Int)
    }

    /// `to(s)`: `s` converted to the element type `to`.
    pub(super) fn converted(to: &Elem, s: &str) -> E {
        E {
            s: format!("{}({s})", to.text()),
            t: to.t(),
        }
    }

    /// `ty(s)`: `s` converted to the type `ty` (as written).
    pub(super) fn converted_to(ty: &Ty, s: &str) -> E {
        E {
            s: format!("{}({s})", ty.text),
            t: ty.t,
        }
    }
}

/// What an expression must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum W {
    /// Exact, any class.
    Ex,
    /// Exact of class Int (operands of `//`, `%`, bitwise operators).
    Int,
    F32,
    F64,
    Bool,
}

pub(super) fn want_of(t: &T) -> W {
    match t {
        T::Bool => W::Bool,
        T::F32(_) => W::F32,
        T::F64(_) => W::F64,
        T::Ex(_) => W::Ex,
    }
}
