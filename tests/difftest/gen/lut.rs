//! Lookup-table functions of exact values: `sigmoid`, `tanh` and `exp` with table
//! parameters.

use super::env::Env;
use super::model::{Cls, Ex, E, T};
use super::Gen;

impl Gen {
    /// `T(e)` to a random exact type (every quantization and overflow mode).
    /// `sigmoid(e, ...)`, `tanh(e, ...)` or `exp(e, ...)` of an exact value, through a
    /// lookup table with a random size, range and entry width (the values stay within
    /// [-1, 1]: `exp`'s table ends at 0).
    pub(super) fn lookup_table(&mut self, env: &mut Env, depth: u32) -> E {
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
}
