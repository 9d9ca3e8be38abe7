//! Size expressions: the dimensions of tensor types, symbolic in size variables.
//!
//! A dimension is written as an integer expression over literals, size variables bound by
//! parameter shapes (`C`, `H`), `const` parameters and module constants, with `+ - *`,
//! `//` and `%`. The checker compares shapes symbolically by normalizing both sides to a
//! polynomial ([`Poly`]) in which `//` and `%` terms are opaque atoms; two dimensions are
//! the same when their normal forms are equal. Instantiation evaluates them ([`SizeExpr::eval`]).

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
                    SizeOp::FloorDiv => Some(floor_div(a, b)),
                    SizeOp::Mod => Some(a - b * floor_div(a, b)),
                };
                r.ok_or(EvalError::Overflow)
            }
        }
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
        struct NoEnv;
        impl SizeEnv for NoEnv {
            fn size_var(&self, _: usize) -> Option<i64> {
                None
            }
            fn const_param(&self, _: usize) -> Option<i64> {
                None
            }
        }
        self.eval(&NoEnv).ok()
    }

    /// Canonical polynomial form.
    pub fn normalize(&self) -> Poly {
        match self {
            SizeExpr::Const(c) => Poly::constant(*c),
            SizeExpr::Var(v) => Poly::atom(Atom::Var(*v)),
            SizeExpr::ConstParam(p) => Poly::atom(Atom::ConstParam(*p)),
            SizeExpr::LoopVar(v) => Poly::atom(Atom::LoopVar(*v)),
            SizeExpr::Binary(op, a, b) => {
                let (a, b) = (a.normalize(), b.normalize());
                match op {
                    SizeOp::Add => a.add(&b),
                    SizeOp::Sub => a.add(&b.scale(-1)),
                    SizeOp::Mul => a.mul(&b),
                    SizeOp::FloorDiv | SizeOp::Mod => {
                        if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
                            if y != 0 {
                                let q = floor_div(x, y);
                                return Poly::constant(if *op == SizeOp::FloorDiv {
                                    q
                                } else {
                                    x - y * q
                                });
                            }
                        }
                        // (k*p) // k == p when k divides every coefficient.
                        if let (SizeOp::FloorDiv, Some(k)) = (op, b.as_const()) {
                            if k != 0 && a.terms.values().all(|c| c % k == 0) {
                                return a.div_exact(k);
                            }
                        }
                        Poly::atom(Atom::Opaque(Box::new((*op, a, b))))
                    }
                }
            }
        }
    }

    /// Whether two size expressions are equal for every value of their symbols, as far as
    /// normalization can tell.
    pub fn same_as(&self, other: &SizeExpr) -> bool {
        self.normalize() == other.normalize()
    }

    /// Whether they certainly differ (their difference is a non-zero constant).
    pub fn certainly_differs(&self, other: &SizeExpr) -> bool {
        let d = self.normalize().add(&other.normalize().scale(-1));
        matches!(d.as_const(), Some(c) if c != 0)
    }
}

fn floor_div(a: i64, b: i64) -> i64 {
    let q = a / b;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// An indivisible factor of a monomial.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Atom {
    Var(usize),
    ConstParam(usize),
    LoopVar(usize),
    /// `a // b` or `a % b` that normalization could not simplify.
    Opaque(Box<(SizeOp, Poly, Poly)>),
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

    fn add(&self, o: &Poly) -> Poly {
        let mut r = self.clone();
        for (m, c) in &o.terms {
            let e = r.terms.entry(m.clone()).or_insert(0);
            *e += c;
            if *e == 0 {
                r.terms.remove(m);
            }
        }
        r
    }

    fn scale(&self, k: i64) -> Poly {
        if k == 0 {
            return Poly::default();
        }
        Poly {
            terms: self.terms.iter().map(|(m, c)| (m.clone(), c * k)).collect(),
        }
    }

    fn div_exact(&self, k: i64) -> Poly {
        Poly {
            terms: self.terms.iter().map(|(m, c)| (m.clone(), c / k)).collect(),
        }
    }

    fn mul(&self, o: &Poly) -> Poly {
        let mut r = Poly::default();
        for (m1, c1) in &self.terms {
            for (m2, c2) in &o.terms {
                let mut m = m1.clone();
                m.extend(m2.iter().cloned());
                m.sort();
                r = r.add(&Poly {
                    terms: [(m, c1 * c2)].into_iter().collect(),
                });
            }
        }
        r
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
}
