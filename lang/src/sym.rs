//! Size expressions: the dimensions of tensor types, symbolic in size variables.
//!
//! A dimension is written as an integer expression over literals, size variables bound by
//! parameter shapes (`C`, `H`), `const` parameters and module constants, with `+ - *`,
//! `//` and `%`. The checker compares shapes symbolically by normalizing both sides to a
//! polynomial ([`Poly`]) in which `//` and `%` terms are opaque atoms; two dimensions are
//! the same when their normal forms are equal. Instantiation evaluates them ([`SizeExpr::eval`]).

use kiln_numeric::ScalarType;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SizeOp {
    Add,
    Sub,
    Mul,
    FloorDiv,
    Mod,
}

/// A symbolic non-negative integer (dimension, `const` argument, type width).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SizeExpr {
    Const(i64),
    /// A size variable of the kernel (index into `Kernel::size_vars`).
    Var(usize),
    /// A `const` parameter of the kernel (index into `Kernel::params`).
    ConstParam(usize),
    /// A loop variable (only in loop bounds, which may depend on enclosing loops, and in
    /// the checker's comparison of slice bounds).
    LoopVar(usize),
    Binary(SizeOp, Box<SizeExpr>, Box<SizeExpr>),
}

/// Values of the symbols, for evaluation.
pub trait SizeEnv {
    fn size_var(&self, var: usize) -> Option<i64>;
    fn const_param(&self, param: usize) -> Option<i64>;
    fn loop_var(&self, _var: usize) -> Option<i64> {
        None
    }
}

/// Why a size expression has no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    Unbound,
    DivByZero,
    Overflow,
}

impl SizeExpr {
    pub fn bin(op: SizeOp, a: SizeExpr, b: SizeExpr) -> SizeExpr {
        SizeExpr::Binary(op, Box::new(a), Box::new(b))
    }

    pub fn eval(&self, env: &dyn SizeEnv) -> Result<i64, EvalError> {
        match self {
            SizeExpr::Const(c) => Ok(*c),
            SizeExpr::Var(v) => env.size_var(*v).ok_or(EvalError::Unbound),
            SizeExpr::ConstParam(p) => env.const_param(*p).ok_or(EvalError::Unbound),
            SizeExpr::LoopVar(v) => env.loop_var(*v).ok_or(EvalError::Unbound),
            SizeExpr::Binary(op, a, b) => {
                let (a, b) = (a.eval(env)?, b.eval(env)?);
                let r = match op {
                    SizeOp::Add => a.checked_add(b),
                    SizeOp::Sub => a.checked_sub(b),
                    SizeOp::Mul => a.checked_mul(b),
                    SizeOp::FloorDiv | SizeOp::Mod if b == 0 => return Err(EvalError::DivByZero),
                    SizeOp::FloorDiv => floor_div(a, b),
                    SizeOp::Mod => floor_mod(a, b),
                };
                r.ok_or(EvalError::Overflow)
            }
        }
    }

    /// The value of an expression without symbols, or why it has none (`Unbound` when
    /// it has symbols).
    pub fn const_eval(&self) -> Result<i64, EvalError> {
        struct NoEnv;
        impl SizeEnv for NoEnv {
            fn size_var(&self, _: usize) -> Option<i64> {
                None
            }
            fn const_param(&self, _: usize) -> Option<i64> {
                None
            }
        }
        self.eval(&NoEnv)
    }

    /// Whether the expression mentions a loop variable.
    pub fn mentions_loop_var(&self) -> bool {
        match self {
            SizeExpr::LoopVar(_) => true,
            SizeExpr::Binary(_, a, b) => a.mentions_loop_var() || b.mentions_loop_var(),
            _ => false,
        }
    }

    /// The value if the expression has no symbols.
    pub fn as_const(&self) -> Option<i64> {
        self.const_eval().ok()
    }

    /// Canonical polynomial form. An expression whose normal form has a coefficient
    /// beyond 64 bits is kept as written, as one opaque atom.
    pub fn normalize(&self) -> Poly {
        self.try_normalize()
            .unwrap_or_else(|| Poly::atom(Atom::AsWritten(Box::new(self.clone()))))
    }

    /// The normal form, or `None` when a coefficient overflows.
    fn try_normalize(&self) -> Option<Poly> {
        Some(match self {
            SizeExpr::Const(c) => Poly::constant(*c),
            SizeExpr::Var(v) => Poly::atom(Atom::Var(*v)),
            SizeExpr::ConstParam(p) => Poly::atom(Atom::ConstParam(*p)),
            SizeExpr::LoopVar(v) => Poly::atom(Atom::LoopVar(*v)),
            SizeExpr::Binary(op, a, b) => {
                let (a, b) = (a.normalize(), b.normalize());
                match op {
                    SizeOp::Add => a.add(&b)?,
                    SizeOp::Sub => a.add(&b.scale(-1)?)?,
                    SizeOp::Mul => a.mul(&b)?,
                    SizeOp::FloorDiv | SizeOp::Mod => {
                        if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
                            if y != 0 {
                                let r = if *op == SizeOp::FloorDiv {
                                    floor_div(x, y)
                                } else {
                                    floor_mod(x, y)
                                };
                                return r.map(Poly::constant);
                            }
                        }
                        // (k*p) // k == p when k divides every coefficient.
                        if let (SizeOp::FloorDiv, Some(k)) = (op, b.as_const()) {
                            if k != 0 && a.terms.values().all(|c| c.checked_rem(k) == Some(0)) {
                                if let Some(p) = a.div_exact(k) {
                                    return Some(p);
                                }
                            }
                        }
                        Poly::atom(Atom::Opaque(Box::new((*op, a, b))))
                    }
                }
            }
        })
    }

    /// Whether two size expressions are equal for every value of their symbols, as far as
    /// normalization can tell.
    pub fn same_as(&self, other: &SizeExpr) -> bool {
        self.normalize() == other.normalize()
    }

    /// Whether they certainly differ (their difference is a non-zero constant).
    pub fn certainly_differs(&self, other: &SizeExpr) -> bool {
        let d = other
            .normalize()
            .scale(-1)
            .and_then(|o| self.normalize().add(&o));
        matches!(d.and_then(|d| d.as_const()), Some(c) if c != 0)
    }
}

/// The most bytes one tensor may take, in every engine: what one allocation can address
/// (`isize::MAX`). Element counts are bounded by it too (an element takes a byte at least).
pub const MAX_TENSOR_BYTES: u64 = isize::MAX as u64;

/// The bytes one element of type `t` takes in memory: its native container (1, 2, 4, 8
/// or 16 bytes, as in the JIT; the compiler's wider intermediates round up the same way).
pub fn element_bytes(t: &ScalarType) -> u64 {
    let bytes = u64::from(t.storage_bits().div_ceil(8)).max(1);
    bytes.next_power_of_two()
}

/// A tensor too large for any engine: its element count and byte count (`None` beyond
/// 128 bits).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    pub elements: Option<u128>,
    pub bytes: Option<u128>,
}

impl TooLarge {
    /// What exceeds the limit, for messages: "hold 18446744073709551616 elements" or
    /// "take 9223372036854775808 bytes (… elements of … bytes)".
    /// `at_least` ("at least " or "") goes before the number.
    pub fn describe(&self, elem_bytes: u64, at_least: &str) -> String {
        let show =
            |v: Option<u128>| v.map_or_else(|| "more than 2^128".to_string(), |v| v.to_string());
        match self.elements {
            Some(e) if e <= u128::from(MAX_TENSOR_BYTES) => format!(
                "take {at_least}{} bytes ({e} elements of {elem_bytes} byte{})",
                show(self.bytes),
                if elem_bytes == 1 { "" } else { "s" }
            ),
            e => format!("hold {at_least}{} elements", show(e)),
        }
    }
}

/// The bytes of a tensor with dimensions `dims` of `elem_bytes`-byte elements, checked:
/// `Err` when its element count or byte count exceeds [`MAX_TENSOR_BYTES`].
pub fn tensor_bytes(dims: impl IntoIterator<Item = u64>, elem_bytes: u64) -> Result<u64, TooLarge> {
    let elements = dims
        .into_iter()
        .try_fold(1u128, |n, d| n.checked_mul(u128::from(d)));
    let bytes = elements.and_then(|e| e.checked_mul(u128::from(elem_bytes)));
    match bytes {
        Some(b) if b <= u128::from(MAX_TENSOR_BYTES) => Ok(b as u64),
        _ => Err(TooLarge { elements, bytes }),
    }
}

/// `a // b` rounded toward minus infinity (`b != 0`); `None` when it overflows
/// (`i64::MIN // -1`).
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let q = a.checked_div(b)?;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        Some(q - 1)
    } else {
        Some(q)
    }
}

/// `a % b` with the sign of `b`, as in Python (`b != 0`).
fn floor_mod(a: i64, b: i64) -> Option<i64> {
    // |a % b| < |b|, so only `i64::MIN % -1` can fail, and its value is 0.
    let r = a.checked_rem(b).unwrap_or(0);
    Some(if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    })
}

/// An indivisible factor of a monomial.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Atom {
    Var(usize),
    ConstParam(usize),
    LoopVar(usize),
    /// `a // b` or `a % b` that normalization could not simplify.
    Opaque(Box<(SizeOp, Poly, Poly)>),
    /// An expression whose normal form overflows 64-bit coefficients: equal only to
    /// itself as written.
    AsWritten(Box<SizeExpr>),
}

/// A polynomial with integer coefficients: monomial (sorted atoms) → coefficient.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Poly {
    pub terms: BTreeMap<Vec<Atom>, i64>,
}

impl Poly {
    pub fn constant(c: i64) -> Poly {
        let mut p = Poly::default();
        if c != 0 {
            p.terms.insert(Vec::new(), c);
        }
        p
    }

    fn atom(a: Atom) -> Poly {
        let mut p = Poly::default();
        p.terms.insert(vec![a], 1);
        p
    }

    pub fn as_const(&self) -> Option<i64> {
        match self.terms.len() {
            0 => Some(0),
            1 => self.terms.get(&Vec::new()).copied(),
            _ => None,
        }
    }

    /// The sum; `None` when a coefficient overflows.
    fn add(&self, o: &Poly) -> Option<Poly> {
        let mut r = self.clone();
        for (m, c) in &o.terms {
            let e = r.terms.entry(m.clone()).or_insert(0);
            *e = e.checked_add(*c)?;
            if *e == 0 {
                r.terms.remove(m);
            }
        }
        Some(r)
    }

    /// The product with `k`; `None` when a coefficient overflows.
    fn scale(&self, k: i64) -> Option<Poly> {
        if k == 0 {
            return Some(Poly::default());
        }
        let mut terms = BTreeMap::new();
        for (m, c) in &self.terms {
            terms.insert(m.clone(), c.checked_mul(k)?);
        }
        Some(Poly { terms })
    }

    /// Every coefficient divided by `k`, which divides them all.
    fn div_exact(&self, k: i64) -> Option<Poly> {
        let mut terms = BTreeMap::new();
        for (m, c) in &self.terms {
            terms.insert(m.clone(), c.checked_div(k)?);
        }
        Some(Poly { terms })
    }

    /// The product; `None` when a coefficient overflows.
    fn mul(&self, o: &Poly) -> Option<Poly> {
        let mut r = Poly::default();
        for (m1, c1) in &self.terms {
            for (m2, c2) in &o.terms {
                let mut m = m1.clone();
                m.extend(m2.iter().cloned());
                m.sort();
                r = r.add(&Poly {
                    terms: [(m, c1.checked_mul(*c2)?)].into_iter().collect(),
                })?;
            }
        }
        Some(r)
    }
}

/// Prints a size expression with the names of its symbols.
pub struct SizeDisplay<'a> {
    pub expr: &'a SizeExpr,
    pub size_var_names: &'a [String],
    pub const_param_names: &'a dyn Fn(usize) -> String,
}

impl fmt::Display for SizeDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn go(d: &SizeDisplay, e: &SizeExpr, f: &mut fmt::Formatter<'_>, top: bool) -> fmt::Result {
            match e {
                SizeExpr::Const(c) => write!(f, "{c}"),
                SizeExpr::Var(v) => write!(
                    f,
                    "{}",
                    d.size_var_names.get(*v).map_or("?", |s| s.as_str())
                ),
                SizeExpr::ConstParam(p) => write!(f, "{}", (d.const_param_names)(*p)),
                SizeExpr::LoopVar(v) => write!(f, "<loop {v}>"),
                SizeExpr::Binary(op, a, b) => {
                    if !top {
                        write!(f, "(")?;
                    }
                    go(d, a, f, false)?;
                    let s = match op {
                        SizeOp::Add => " + ",
                        SizeOp::Sub => " - ",
                        SizeOp::Mul => "*",
                        SizeOp::FloorDiv => " // ",
                        SizeOp::Mod => " % ",
                    };
                    write!(f, "{s}")?;
                    go(d, b, f, false)?;
                    if !top {
                        write!(f, ")")?;
                    }
                    Ok(())
                }
            }
        }
        go(self, self.expr, f, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SizeExpr::*;

    fn v(i: usize) -> SizeExpr {
        Var(i)
    }
    fn c(k: i64) -> SizeExpr {
        Const(k)
    }
    fn b(op: SizeOp, a: SizeExpr, x: SizeExpr) -> SizeExpr {
        SizeExpr::bin(op, a, x)
    }

    #[test]
    fn normal_forms() {
        // (i + 3) - i == 3
        let e = b(SizeOp::Sub, b(SizeOp::Add, v(0), c(3)), v(0));
        assert_eq!(e.normalize().as_const(), Some(3));
        // 2*H - H == H
        let e = b(SizeOp::Sub, b(SizeOp::Mul, c(2), v(1)), v(1));
        assert!(e.same_as(&v(1)));
        // (H - 2) vs (H - 3) differ certainly
        let a = b(SizeOp::Sub, v(1), c(2));
        let x = b(SizeOp::Sub, v(1), c(3));
        assert!(a.certainly_differs(&x));
        // (2*H + 4) // 2 == H + 2
        let e = b(
            SizeOp::FloorDiv,
            b(SizeOp::Add, b(SizeOp::Mul, c(2), v(1)), c(4)),
            c(2),
        );
        assert!(e.same_as(&b(SizeOp::Add, v(1), c(2))));
        // H // 2 is opaque, and equal to itself
        let h2 = b(SizeOp::FloorDiv, v(1), c(2));
        assert!(h2.same_as(&h2.clone()));
        assert!(!h2.same_as(&v(1)));
    }

    #[test]
    fn evaluation() {
        struct Env;
        impl SizeEnv for Env {
            fn size_var(&self, v: usize) -> Option<i64> {
                Some(10 + v as i64)
            }
            fn const_param(&self, _: usize) -> Option<i64> {
                Some(2)
            }
        }
        let e = b(
            SizeOp::Add,
            b(SizeOp::FloorDiv, b(SizeOp::Sub, v(0), c(3)), ConstParam(0)),
            c(1),
        );
        assert_eq!(e.eval(&Env), Ok(4));
        assert_eq!(b(SizeOp::Mod, c(-7), c(2)).eval(&Env), Ok(1));
        assert_eq!(b(SizeOp::FloorDiv, c(-7), c(2)).eval(&Env), Ok(-4));
        assert_eq!(
            b(SizeOp::FloorDiv, c(1), c(0)).eval(&Env),
            Err(EvalError::DivByZero)
        );
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let min = b(SizeOp::Sub, c(-i64::MAX), c(1));
        assert_eq!(min.as_const(), Some(i64::MIN));
        // i64::MIN // -1 and i64::MIN % -1 once panicked.
        let q = b(SizeOp::FloorDiv, min.clone(), c(-1));
        assert_eq!(q.const_eval(), Err(EvalError::Overflow));
        assert_eq!(b(SizeOp::Mod, min.clone(), c(-1)).const_eval(), Ok(0));
        assert_eq!(q.normalize(), q.normalize());
        // Coefficients beyond 64 bits keep the expression as written, once panicked.
        let big = b(SizeOp::Mul, b(SizeOp::Mul, v(0), c(1 << 62)), c(4));
        assert!(big.same_as(&big.clone()));
        assert!(!big.same_as(&v(0)));
        assert!(!big.certainly_differs(&v(0)));
        let neg = b(SizeOp::Sub, c(0), min);
        assert_eq!(neg.const_eval(), Err(EvalError::Overflow));
        assert!(!neg.same_as(&c(0)));
    }

    #[test]
    fn tensor_sizes_are_checked() {
        use kiln_numeric::IntType;
        let int = |w| ScalarType::Int(IntType::new(w, true));
        assert_eq!(element_bytes(&ScalarType::Bin), 1);
        assert_eq!(element_bytes(&int(8)), 1);
        assert_eq!(element_bytes(&int(9)), 2);
        assert_eq!(element_bytes(&int(33)), 8);
        assert_eq!(element_bytes(&int(128)), 16);
        assert_eq!(tensor_bytes([3, 4], 2), Ok(24));
        assert_eq!(tensor_bytes([], 4), Ok(4));
        assert_eq!(tensor_bytes([MAX_TENSOR_BYTES], 1), Ok(MAX_TENSOR_BYTES));
        // 2^32 * 2^32 elements wrap to 0 in 64 bits.
        let e = tensor_bytes([1 << 32, 1 << 32], 1).unwrap_err();
        assert_eq!(e.elements, Some(1 << 64));
        // 2^62 elements of 4 bytes: 2^64 bytes, 0 in 64 bits.
        let e = tensor_bytes([1 << 62], 4).unwrap_err();
        assert_eq!((e.elements, e.bytes), (Some(1 << 62), Some(1 << 64)));
        assert!(e
            .describe(4, "")
            .starts_with("take 18446744073709551616 bytes"));
        // Beyond 128 bits.
        let e = tensor_bytes([u64::MAX; 3], 1).unwrap_err();
        assert_eq!(e.elements, None);
        assert_eq!(
            e.describe(1, "at least "),
            "hold at least more than 2^128 elements"
        );
    }
}
