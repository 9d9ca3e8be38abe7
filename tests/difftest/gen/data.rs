//! Random data for inputs and parameters: in range, out of range, on rounding ties, in
//! every .npy element type the loader accepts.

use super::super::npy::{self, Array, Data};
use super::model::Elem;
use super::Gen;

impl Gen {
    /// Writes the data file `file` with random data for a value of type `elem`.
    pub(super) fn data_file(&mut self, file: &str, elem: &Elem, shape: &[i64]) {
        let arr = self.data_for(elem, shape);
        self.files.push((file.to_string(), npy::encode(&arr)));
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
            Elem::F32 => self.f32_data(n),
            Elem::F64 => self.f64_data(n),
            Elem::Bin | Elem::Tern => self.bin_tern_data(*elem == Elem::Bin, n),
            Elem::Int { signed, w } => self.int_data(*signed, *w, n),
            Elem::Fixed { signed, w, i, .. } => self.fixed_data(*signed, *w, *i, n),
        };
        Array {
            shape: shape_u,
            data,
        }
    }

    /// `n` values for an f32: integers, quarters and others, as float32 or float64.
    fn f32_data(&mut self, n: usize) -> Data {
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

    /// `n` values for an f64: integers, quarters and others with all 53 bits, as float64
    /// (sometimes float32).
    fn f64_data(&mut self, n: usize) -> Data {
        let v: Vec<f64> = (0..n)
            .map(|_| {
                let x = (self.rng.unit() - 0.5) * 200.0;
                match self.rng.below(5) {
                    0 => x.round(),
                    1 => (x * 4.0).round() / 4.0,
                    2 => x * 1e-7,
                    _ => x,
                }
            })
            .collect();
        if self.chance(85) {
            self.f("data: float64 for f64");
            Data::F64(v)
        } else {
            self.f("data: float32 for f64");
            Data::F32(v.iter().map(|&x| x as f32).collect())
        }
    }

    /// `n` values for a bin or tern: its values, sometimes others (out of range), as int8
    /// or float64.
    fn bin_tern_data(&mut self, bin: bool, n: usize) -> Data {
        let odd = self.chance(15);
        if odd {
            self.f("data: bin/tern values out of range");
        }
        let v: Vec<i64> = (0..n)
            .map(|_| {
                if odd && self.chance(30) {
                    self.rng.range(-3, 3)
                } else if bin {
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

    /// `n` values for an int<w> / uint<w>: in range, at its bounds, out of range (wrapping
    /// on load), in the narrowest .npy integer type that holds them, or as float64.
    fn int_data(&mut self, signed: bool, w: u32, n: usize) -> Data {
        let w = w.min(100);
        let (lo, hi): (i128, i128) = if signed {
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
        let fits = |lo: i64, hi: i64| v.iter().all(|&x| x >= lo && x <= hi);
        match self.rng.below(10) {
            0 => {
                self.f("data: float64 for an int type");
                Data::F64(
                    v.iter()
                        .map(|&x| x as f64 + if self.chance(50) { 0.5 } else { -0.25 })
                        .collect(),
                )
            }
            1 if !signed && fits(0, i64::MAX) => Data::U64(v.iter().map(|&x| x as u64).collect()),
            2 if fits(i32::MIN as i64, i32::MAX as i64) => {
                Data::I32(v.iter().map(|&x| x as i32).collect())
            }
            3 if fits(0, 255) => Data::U8(v.iter().map(|&x| x as u8).collect()),
            4 if fits(i16::MIN as i64, i16::MAX as i64) => {
                Data::I16(v.iter().map(|&x| x as i16).collect())
            }
            _ => Data::I64(v),
        }
    }

    /// `n` values for a fixed<w, i> / ufixed<w, i>: grid points, rounding ties, values
    /// between grid points, out of range (overflow on load); as float64, float32 or
    /// integers.
    fn fixed_data(&mut self, signed: bool, w: u32, i: i32, n: usize) -> Data {
        let f = w as i32 - i;
        let lsb = 2f64.powi(-f);
        let max = if signed {
            2f64.powi(i - 1)
        } else {
            2f64.powi(i)
        };
        let min = if signed { -max } else { 0.0 };
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
}
