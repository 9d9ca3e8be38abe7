//! Random element types: int, uint, fixed, ufixed (every quantization and overflow
//! mode), bin and tern, as written (sometimes through a type alias), and the features
//! they count.

use super::model::{Elem, Ty, OMODES, QMODES};
use super::Gen;

impl Gen {
    /// A random width, mostly small.
    pub(super) fn width(&mut self) -> u32 {
        match self.rng.weighted(&[62, 22, 12, 4]) {
            0 => self.rng.range(1, 16) as u32,
            1 => self.rng.range(17, 32) as u32,
            2 => self.rng.range(33, 64) as u32,
            _ => self.rng.range(65, 128) as u32,
        }
    }

    /// A random exact element type (int/uint/fixed/ufixed/bin/tern, every mode).
    pub(super) fn exact_elem(&mut self) -> Elem {
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

    /// A random fixed or ufixed type (its integer bits maybe negative or above its
    /// width; explicit modes sometimes).
    pub(super) fn fixed_elem(&mut self) -> Elem {
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
    pub(super) fn count_elem(&mut self, e: &Elem) {
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
            Elem::F64 => self.f("type: f64"),
            Elem::Bool => self.f("type: bool"),
        }
    }

    /// A type as written: sometimes through a (new or existing) alias.
    pub(super) fn ty_of(&mut self, e: Elem) -> Ty {
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

    /// A random exact type that values are converted to, as written.
    pub(super) fn exact_ty(&mut self) -> Ty {
        let e = self.target_elem();
        self.ty_of(e)
    }

    /// An exact type that values are converted to (declared locals, results,
    /// conversions): `exact_elem`, except for the types of known bugs being avoided.
    pub(super) fn target_elem(&mut self) -> Elem {
        let e = self.exact_elem();
        self.retarget(e)
    }

    /// `e`, or an equivalent type when `e` is subject to a known bug being avoided.
    pub(super) fn retarget(&mut self, e: Elem) -> Elem {
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
    pub(super) fn result_elem(&mut self) -> Elem {
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
    pub(super) fn narrow_elem(&mut self, int: bool) -> Elem {
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
}
