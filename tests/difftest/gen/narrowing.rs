//! Rewrites that keep values within the model's limits (too-wide values narrowed, f32
//! clamped) and rewrites of operands that avoid known bugs.

use super::model::{Cls, Elem, Ex, E, T};
use super::Gen;

impl Gen {
    /// `e`, or a conversion of it to a random narrow type of its class.
    fn narrowed(&mut self, x: Ex, e: &E) -> E {
        let n = self.narrow_elem(x.cls == Cls::Int);
        E::converted(&n, &e.s)
    }

    /// `e` within the limits of the case: a value that grew too wide converted to a
    /// narrow type, a large f32 clamped.
    pub(super) fn fit(&mut self, e: E) -> E {
        match e.t {
            T::Ex(x) if x.cost() > self.max_cost => {
                self.f("expr: narrowing conversion");
                self.narrowed(x, &e)
            }
            T::F32(m) if m > 60 => {
                self.f("expr: f32 clamp");
                E {
                    s: format!("min(max({}, -1000.0), 1000.0)", e.s),
                    t: T::F32(10),
                }
            }
            T::F64(m) if m > 60 => {
                self.f("expr: f64 clamp");
                E {
                    s: format!("min(max({}, -1000.0), 1000.0)", e.s),
                    t: T::F64(10),
                }
            }
            _ => e,
        }
    }

    /// An operand of min/max: known bug `jit-i128-minmax` makes values wider than 64 bits
    /// fail, so they are narrowed while it is avoided.
    pub(super) fn mm(&mut self, e: E) -> E {
        match e.t {
            T::Ex(x) if x.cost() > 60 && self.avoid("jit-i128-minmax") => self.narrowed(x, &e),
            _ => e,
        }
    }

    /// Operands of one min/max: their common type must stay within 64 bits too.
    pub(super) fn mm_all(&mut self, args: Vec<E>) -> Vec<E> {
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
                E::converted(&n, &a.s)
            })
            .collect()
    }

    /// An operand of a bitwise operator: known bug `jit-bitwise-coarse-lsb` (integers
    /// held in fixed types with I > W, whose LSB is above 1, are mis-sized) is avoided
    /// with a conversion to an int type (exact for these integer values).
    pub(super) fn unit_lsb(&mut self, a: E) -> E {
        let x = a.t.ex();
        if x.fb >= 0 || !self.avoid("jit-bitwise-coarse-lsb") {
            return a;
        }
        let w = (x.m.max(0) + 2).min(128) as u32;
        E::converted(&Elem::Int { signed: true, w }, &a.s)
    }

    /// The operand of `>>`: known bug `interp-shift-repr` (the interpreter floors to the
    /// LSB of the value it happens to hold, which after a conditional, min or max can be
    /// coarser than the operand's type) is avoided by a conversion to a type that holds
    /// the value exactly, which normalizes it.
    pub(super) fn normalized(&mut self, a: E) -> E {
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

    /// `abs(e)` of an exact value (known bug `jit-unsigned-abs`: the JIT takes the
    /// absolute value of unsigned storage as signed, so `max(e, -e)` is written instead).
    pub(super) fn abs_s(&mut self, e: &E) -> String {
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
}
