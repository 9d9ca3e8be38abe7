//! Float math functions (`sqrt`, `exp`, `log`, `tanh`, `sigmoid`, and `pow` for `**`), one
//! definition for every engine.
//!
//! Each is computed in double precision by the C library's function (or, for `sigmoid`,
//! `1 / (1 + exp(-x))` in double precision); an f32 result is that double rounded once to
//! f32, an f64 result is the double itself. `sqrt` is IEEE's correctly rounded square
//! root. The interpreter and the JIT call these functions; the HLS C++ does the same
//! double-precision computation with `<cmath>` (kiln_hls.h), so a C-simulation linked
//! against the same C library (glibc's `exp`, `log`, `tanh`, `pow`) gives the same bits.
//! (Vitis synthesis uses its own hls_math, which may differ in the last bit.)

use crate::float::{f32_to_f64, f64_to_f32};

/// A math function of one f32 argument.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MathFn {
    Sqrt,
    Exp,
    Log,
    Tanh,
    Sigmoid,
}

impl MathFn {
    pub const ALL: [MathFn; 5] = [
        MathFn::Sqrt,
        MathFn::Exp,
        MathFn::Log,
        MathFn::Tanh,
        MathFn::Sigmoid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MathFn::Sqrt => "sqrt",
            MathFn::Exp => "exp",
            MathFn::Log => "log",
            MathFn::Tanh => "tanh",
            MathFn::Sigmoid => "sigmoid",
        }
    }

    pub fn from_name(name: &str) -> Option<MathFn> {
        MathFn::ALL.into_iter().find(|f| f.name() == name)
    }

    /// A stable number for native code and the C++ runtime.
    pub fn code(self) -> i32 {
        self as i32
    }

    pub fn from_code(code: i32) -> Option<MathFn> {
        MathFn::ALL.into_iter().find(|f| f.code() == code)
    }

    /// The function's value at an f32 (see the module doc).
    pub fn eval(self, x: f32) -> f32 {
        match self {
            MathFn::Sqrt => x.sqrt(),
            _ => f64_to_f32(self.eval_f64(f32_to_f64(x))),
        }
    }

    /// The function's value at an f64 (see the module doc).
    pub fn eval_f64(self, d: f64) -> f64 {
        match self {
            MathFn::Sqrt => d.sqrt(),
            MathFn::Exp => d.exp(),
            MathFn::Log => d.ln(),
            MathFn::Tanh => d.tanh(),
            MathFn::Sigmoid => 1.0 / (1.0 + (-d).exp()),
        }
    }
}

/// `x ** y` of f32 values with a float exponent: the C library's `pow` in double precision,
/// rounded once to f32.
pub fn pow_f32(x: f32, y: f32) -> f32 {
    f64_to_f32(pow_f64(f32_to_f64(x), f32_to_f64(y)))
}

/// `x ** y` of f64 values with a float exponent: the C library's `pow`.
pub fn pow_f64(x: f64, y: f64) -> f64 {
    x.powf(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_special_cases() {
        assert_eq!(MathFn::Sqrt.eval(2.25), 1.5);
        assert_eq!(MathFn::Exp.eval(0.0), 1.0);
        assert_eq!(MathFn::Exp.eval(100.0), f32::INFINITY);
        assert_eq!(MathFn::Exp.eval(-200.0), 0.0);
        assert_eq!(MathFn::Log.eval(1.0), 0.0);
        assert_eq!(MathFn::Log.eval(0.0), f32::NEG_INFINITY);
        assert!(MathFn::Log.eval(-1.0).is_nan());
        assert!(MathFn::Sqrt.eval(-1.0).is_nan());
        assert_eq!(MathFn::Tanh.eval(20.0), 1.0);
        assert_eq!(MathFn::Sigmoid.eval(0.0), 0.5);
        assert_eq!(MathFn::Sigmoid.eval(-200.0), 0.0);
        assert!(MathFn::Sigmoid.eval(f32::NAN).is_nan());
        assert_eq!(MathFn::Sqrt.eval_f64(2.0), std::f64::consts::SQRT_2);
        assert_eq!(MathFn::Exp.eval_f64(1.0), std::f64::consts::E);
        assert_eq!(MathFn::Sigmoid.eval_f64(0.0), 0.5);
        assert_eq!(pow_f64(2.0, 0.5), std::f64::consts::SQRT_2);
        assert_eq!(pow_f32(9.0, 0.5), 3.0);
        assert_eq!(pow_f64(f64::NAN, 0.0), 1.0);
        for f in MathFn::ALL {
            assert_eq!(MathFn::from_name(f.name()), Some(f));
            assert_eq!(MathFn::from_code(f.code()), Some(f));
        }
    }
}
