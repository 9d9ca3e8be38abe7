//! Weight quantizers for `kiln quantize`: pure numeric code, no I/O.
//!
//! Every method turns a float vector `w` (a whole tensor, or one output channel of it) into
//! integer levels `L` and one real scale `s` with `w ≈ s·L`. The levels are what a kiln
//! script declares as `bin`, `tern` or `int<N>` parameters; the scale becomes a `ufixed`
//! parameter (see [`ScaleFormat`]).
//!
//! - **`vecq`** (VecQ, Gong et al., IEEE TC 2020). The quantization loss is split into an
//!   orientation loss (the angle between `w` and its quantized form) and a modulus loss
//!   (the length), fixed by two independent steps:
//!   - *steering* fixes the orientation: with the interval `Δ = std(w)·λ(b)` (population
//!     standard deviation; `λ(1..=8)` = 1.0000, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041,
//!     0.0569, 0.0308, and `6/(2^b - 1)` above 8 bits), the half-integer levels are
//!     `q = clip(round(w/Δ - 0.5), -2^(b-1), 2^(b-1) - 1) + 0.5`. So 1 bit gives ±0.5 and
//!     2 bits give the four levels ±0.5, ±1.5; b bits give 2^b levels, symmetric around 0.
//!   - *driving* fixes the modulus: the least-squares scale `α = <w,q>/<q,q>`.
//!
//!   Because `q` is a half-integer, the stored levels are the odd integers `L = 2q` in
//!   `[-(2^b - 1), 2^b - 1]` (type `int<b+1>`; `bin` for b = 1, where `L = ±1`) and the
//!   scale is `s = α/2`. When `std(w) = 0` (all weights equal to `c`) the interval is 0 and
//!   every level is the one of smallest magnitude with the sign of `c` (`+` for 0), so
//!   `α = 2|c|` reproduces `w` exactly (and is 0 for all-zero weights).
//! - **`round`** (plain rounding to a fixed-point grid; the L2-loss baseline): the format
//!   `fixed<b, I>` a fixed-point user would pick, with the smallest `I` whose range covers
//!   the largest magnitude (`2^(I-1) ≥ max|w|`). Its step is `s = 2^(I-b)` and the levels
//!   are `L = clip(round(w/s), -2^(b-1), 2^(b-1) - 1)` (type `int<b>`); the largest positive
//!   weight may saturate one step below `2^(I-1)`, as it would in Vitis HLS with `sat`.
//!   All-zero weights give the scale 0.
//! - **`bwn`** (binary weight networks, 1 bit): `L = sign(w)` (`+1` for 0, since `bin` has
//!   no zero), `s = mean|w|` (type `bin`).
//! - **`twn`** (ternary weight networks, 2 bits): threshold `t = 0.7·mean|w|`;
//!   `L = sign(w)` where `|w| > t`, else 0; `s` = the mean of the kept `|w|` (0 if none is
//!   kept) (type `tern`).
//!
//! `round(x)` is round-half-to-even everywhere (numpy's `np.round`): an exact tie goes to
//! the even neighbour.
//!
//! The losses of [`Losses`] compare `w` with `v = s·L`: the L2 loss `||w - v||²`, the
//! orientation loss (the angle between `w` and `v`) and the modulus loss `| ||w|| - ||v|| |`.

use std::fmt;

/// A quantization method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Vecq,
    Round,
    Bwn,
    Twn,
}

impl Method {
    /// Every method, in the order help texts list them.
    pub const ALL: [Method; 4] = [Method::Vecq, Method::Round, Method::Bwn, Method::Twn];

    /// The method named `s` on the command line.
    pub fn parse(s: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == s)
    }

    pub fn name(self) -> &'static str {
        match self {
            Method::Vecq => "vecq",
            Method::Round => "round",
            Method::Bwn => "bwn",
            Method::Twn => "twn",
        }
    }

    /// Whether the method quantizes to `bits` bits; the error is a user-facing message.
    pub fn check_bits(self, bits: u32) -> Result<(), String> {
        match self {
            Method::Bwn if bits != 1 => Err(format!(
                "bwn quantizes to 1 bit (levels -1 and +1): use --bits 1, not {bits}"
            )),
            Method::Twn if bits != 2 => Err(format!(
                "twn quantizes to 2 bits (levels -1, 0 and +1): use --bits 2, not {bits}"
            )),
            _ if !(1..=MAX_BITS).contains(&bits) => Err(format!(
                "--bits must be between 1 and {MAX_BITS}, not {bits}"
            )),
            _ => Ok(()),
        }
    }

    /// The kiln element type of the stored levels.
    pub fn level_type(self, bits: u32) -> LevelType {
        match self {
            Method::Bwn => LevelType::Bin,
            Method::Twn => LevelType::Tern,
            Method::Round => LevelType::Int(bits),
            Method::Vecq if bits == 1 => LevelType::Bin,
            Method::Vecq => LevelType::Int(bits + 1),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The widest quantization `kiln quantize` accepts.
pub const MAX_BITS: u32 = 8;

/// The kiln element type that holds a method's levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelType {
    /// -1 and +1.
    Bin,
    /// -1, 0 and +1.
    Tern,
    /// `int<N>`: -2^(N-1) to 2^(N-1) - 1.
    Int(u32),
}

impl LevelType {
    /// The smallest and largest value of the type.
    pub fn range(self) -> (i64, i64) {
        match self {
            LevelType::Bin | LevelType::Tern => (-1, 1),
            LevelType::Int(n) => (-(1i64 << (n - 1)), (1i64 << (n - 1)) - 1),
        }
    }

    /// Whether `v` is a value of the type (`bin` has no 0).
    pub fn holds(self, v: i64) -> bool {
        let (lo, hi) = self.range();
        (lo..=hi).contains(&v) && !(self == LevelType::Bin && v == 0)
    }
}

impl fmt::Display for LevelType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LevelType::Bin => f.write_str("bin"),
            LevelType::Tern => f.write_str("tern"),
            LevelType::Int(n) => write!(f, "int<{n}>"),
        }
    }
}

/// The levels and the (unrounded) scale of one group of weights: `w ≈ scale·levels`.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub levels: Vec<i64>,
    pub scale: f64,
}

/// VecQ's `λ(b)`: the quantization interval in units of the weights' standard deviation.
pub fn vecq_lambda(bits: u32) -> f64 {
    const LAMBDA: [f64; 8] = [1.0, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041, 0.0569, 0.0308];
    match bits {
        1..=8 => LAMBDA[bits as usize - 1],
        _ => 6.0 / (2f64.powi(bits as i32) - 1.0),
    }
}

/// The mean of `w` (0 for an empty slice).
fn mean(w: &[f64]) -> f64 {
    if w.is_empty() {
        0.0
    } else {
        w.iter().sum::<f64>() / w.len() as f64
    }
}

/// The population standard deviation of `w` (numpy's default, `ddof = 0`).
pub fn std_dev(w: &[f64]) -> f64 {
    let m = mean(w);
    mean(&w.iter().map(|x| (x - m) * (x - m)).collect::<Vec<_>>()).sqrt()
}

fn mean_abs(w: &[f64]) -> f64 {
    mean(&w.iter().map(|x| x.abs()).collect::<Vec<_>>())
}

/// `sign(x)` in {-1, +1}, with +1 for 0.
fn sign(x: f64) -> i64 {
    if x < 0.0 {
        -1
    } else {
        1
    }
}

/// VecQ's steering step: the half-integer levels `q`, returned doubled (`2q`, odd).
pub fn vecq_steer(w: &[f64], bits: u32) -> Vec<i64> {
    let interval = std_dev(w) * vecq_lambda(bits);
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    if interval == 0.0 || !interval.is_finite() {
        // All weights are equal: the level nearest 0 on their side.
        let s = sign(mean(w));
        return vec![s; w.len()];
    }
    w.iter()
        .map(|&x| {
            let n = (x / interval - 0.5).round_ties_even();
            // Clamp as a float first: n may be far outside i64 for extreme ratios.
            let n = n.clamp(lo as f64, hi as f64) as i64;
            2 * n + 1
        })
        .collect()
}

/// VecQ's driving step: the least-squares scale `<w,L>/<L,L>` of integer levels `L` (0
/// when `L` is 0). For the doubled levels `L = 2q` of [`vecq_steer`] this is `α/2`, with
/// VecQ's `α = <w,q>/<q,q>`.
pub fn least_squares_scale(w: &[f64], levels: &[i64]) -> f64 {
    let wq: f64 = w.iter().zip(levels).map(|(x, &l)| x * l as f64).sum();
    let qq: f64 = levels.iter().map(|&l| (l * l) as f64).sum();
    if qq == 0.0 {
        0.0
    } else {
        wq / qq
    }
}

/// The exponent `k` of the `round` method's step `2^k`: the smallest with
/// `max|w| ≤ 2^(bits-1)·2^k` (None when `max|w|` is 0).
pub fn round_step_exponent(max_abs: f64, bits: u32) -> Option<i32> {
    if max_abs <= 0.0 || !max_abs.is_finite() {
        return None;
    }
    let top = bits as i32 - 1;
    let mut k = max_abs.log2().ceil() as i32 - top;
    // log2 may be off by one ulp near powers of two: settle on the exact condition.
    while max_abs > pow2(k + top) {
        k += 1;
    }
    while max_abs <= pow2(k - 1 + top) {
        k -= 1;
    }
    Some(k)
}

/// `2^e` exactly, for any exponent whose result is a normal or subnormal f64 (0 or
/// infinity beyond).
pub fn pow2(e: i32) -> f64 {
    // Two exact steps keep intermediate results in range for e down to -2098.
    let half = e / 2;
    2f64.powi(half) * 2f64.powi(e - half)
}

/// Quantizes one group (a tensor, or one channel of it) with `method` to `bits` bits.
/// `bits` must be valid for the method ([`Method::check_bits`]); values must be finite.
pub fn quantize_group(method: Method, bits: u32, w: &[f64]) -> Group {
    match method {
        Method::Vecq => {
            let levels = vecq_steer(w, bits);
            // α multiplies q = L/2, so the scale of L is α/2 = <w,L>/<L,L>.
            let scale = least_squares_scale(w, &levels);
            Group { levels, scale }
        }
        Method::Round => {
            let max_abs = w.iter().fold(0.0f64, |m, x| m.max(x.abs()));
            let Some(k) = round_step_exponent(max_abs, bits) else {
                return Group {
                    levels: vec![0; w.len()],
                    scale: 0.0,
                };
            };
            let step = pow2(k);
            let lo = -(1i64 << (bits - 1));
            let hi = (1i64 << (bits - 1)) - 1;
            let levels = w
                .iter()
                .map(|&x| (x / step).round_ties_even().clamp(lo as f64, hi as f64) as i64)
                .collect();
            Group {
                levels,
                scale: step,
            }
        }
        Method::Bwn => Group {
            levels: w.iter().map(|&x| sign(x)).collect(),
            scale: mean_abs(w),
        },
        Method::Twn => {
            let t = 0.7 * mean_abs(w);
            let levels: Vec<i64> = w
                .iter()
                .map(|&x| if x.abs() > t { sign(x) } else { 0 })
                .collect();
            let kept: Vec<f64> = w
                .iter()
                .zip(&levels)
                .filter(|(_, &l)| l != 0)
                .map(|(x, _)| x.abs())
                .collect();
            Group {
                levels,
                scale: mean(&kept),
            }
        }
    }
}

/// Quantizes a whole tensor of `shape` (row-major values `w`): one group, or with
/// `per_channel` one group per index of dimension 0. Returns the levels of the whole
/// tensor and the scales (one, or one per channel), unrounded.
pub fn quantize_tensor(
    method: Method,
    bits: u32,
    w: &[f64],
    shape: &[usize],
    per_channel: bool,
) -> (Vec<i64>, Vec<f64>) {
    let channels = if per_channel {
        shape.first().copied().unwrap_or(1).max(1)
    } else {
        1
    };
    let size = w.len() / channels;
    let mut levels = Vec::with_capacity(w.len());
    let mut scales = Vec::with_capacity(channels);
    for c in 0..channels {
        let g = quantize_group(method, bits, &w[c * size..(c + 1) * size]);
        levels.extend(g.levels);
        scales.push(g.scale);
    }
    (levels, scales)
}

/// The fixed-point grid of the scales and the `ufixed<W, I>` that holds them exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleFormat {
    /// Scales are multiples of `2^-frac_bits`.
    pub frac_bits: i32,
    /// `I` of `ufixed<W, I>`.
    pub int_bits: i32,
    /// `W` of `ufixed<W, I>` (`I + frac_bits`, at least 1).
    pub width: i32,
    /// Whether the grid is finer than asked because the largest scale is small.
    pub finer: bool,
}

impl ScaleFormat {
    /// The fewest significant bits the largest scale keeps: those of 2^-12 on the grid
    /// 2^-16.
    pub const MIN_SIGNIFICANT_BITS: i32 = 5;

    /// Scales below `2^small_exponent(frac)` have fewer than
    /// [`Self::MIN_SIGNIFICANT_BITS`] on the grid `2^-frac` (2^-12 for 16 fractional bits).
    pub fn small_exponent(frac: i32) -> i32 {
        Self::MIN_SIGNIFICANT_BITS - 1 - frac
    }

    /// The format for scales up to `max_scale`, on the grid `2^-frac` — or, when the
    /// largest scale is below `2^small_exponent(frac)` (2^-12 for the default 16
    /// fractional bits), the finer grid that keeps it 5 significant bits, as many as
    /// 2^-12 has on 2^-16. `I` is the smallest with `max_scale < 2^I` after rounding.
    pub fn for_scales(max_scale: f64, frac: i32) -> ScaleFormat {
        let small = Self::small_exponent(frac);
        let mut frac_bits = frac;
        let mut finer = false;
        if max_scale > 0.0 && max_scale < pow2(small) {
            // e = floor(log2(max_scale)), exactly.
            let mut e = max_scale.log2().floor() as i32;
            while pow2(e) > max_scale {
                e -= 1;
            }
            while pow2(e + 1) <= max_scale {
                e += 1;
            }
            frac_bits = frac + (small - e);
            finer = true;
        }
        let rounded = round_to_grid(max_scale, frac_bits);
        let mut int_bits = -frac_bits + 1;
        while rounded >= pow2(int_bits) {
            int_bits += 1;
        }
        ScaleFormat {
            frac_bits,
            int_bits,
            width: int_bits + frac_bits,
            finer,
        }
    }

    /// `s` rounded to the grid.
    pub fn round(&self, s: f64) -> f64 {
        round_to_grid(s, self.frac_bits)
    }
}

impl fmt::Display for ScaleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ufixed<{}, {}>", self.width, self.int_bits)
    }
}

/// `s` rounded to the nearest multiple of `2^-frac` (ties to even).
pub fn round_to_grid(s: f64, frac: i32) -> f64 {
    let half = frac / 2;
    let scaled = s * pow2(half) * pow2(frac - half);
    scaled.round_ties_even() * pow2(-half) * pow2(half - frac)
}

/// How far `v = s·L` is from `w`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Losses {
    /// `||w - v||²`.
    pub l2: f64,
    /// `||w - v||² / ||w||²` (None when `w` is 0).
    pub l2_relative: Option<f64>,
    /// The angle between `w` and `v` in degrees: 0 when both are 0, 90 when only one is.
    pub angle_deg: f64,
    /// `1 - cos(angle)`.
    pub one_minus_cos: f64,
    /// `| ||w|| - ||v|| |`.
    pub modulus: f64,
}

/// The losses of quantizing `w` to `v`.
pub fn losses(w: &[f64], v: &[f64]) -> Losses {
    let l2: f64 = w.iter().zip(v).map(|(a, b)| (a - b) * (a - b)).sum();
    let nw = w.iter().map(|a| a * a).sum::<f64>().sqrt();
    let nv = v.iter().map(|b| b * b).sum::<f64>().sqrt();
    let (angle, one_minus_cos) = if nw == 0.0 && nv == 0.0 {
        (0.0, 0.0)
    } else if nw == 0.0 || nv == 0.0 {
        (std::f64::consts::FRAC_PI_2, 1.0)
    } else {
        // The chord between the unit vectors, d = ||w/|w| - v/|v|||, gives the angle
        // without the cancellation of acos near 1: angle = 2·asin(d/2), 1 - cos = d²/2.
        let d = w
            .iter()
            .zip(v)
            .map(|(a, b)| {
                let x = a / nw - b / nv;
                x * x
            })
            .sum::<f64>()
            .sqrt();
        (2.0 * (d / 2.0).min(1.0).asin(), d * d / 2.0)
    };
    Losses {
        l2,
        l2_relative: (nw > 0.0).then(|| l2 / (nw * nw)),
        angle_deg: angle.to_degrees(),
        one_minus_cos,
        modulus: (nw - nv).abs(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64*) of roughly normal values.
    struct Rng(u64);

    impl Rng {
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        /// Sum of 12 uniforms minus 6: mean 0, variance 1.
        fn normal(&mut self) -> f64 {
            (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
        }
        fn vector(&mut self, n: usize, sigma: f64) -> Vec<f64> {
            (0..n).map(|_| self.normal() * sigma).collect()
        }
    }

    fn l2(w: &[f64], levels: &[i64], s: f64) -> f64 {
        w.iter()
            .zip(levels)
            .map(|(x, &l)| (x - s * l as f64).powi(2))
            .sum()
    }

    #[test]
    fn bwn_is_sign_times_mean_abs() {
        let g = quantize_group(Method::Bwn, 1, &[0.5, -1.5, 1.0]);
        assert_eq!(g.levels, vec![1, -1, 1]);
        assert_eq!(g.scale, 1.0);
        // 0 is +1: bin has no zero.
        let g = quantize_group(Method::Bwn, 1, &[0.0, -2.0]);
        assert_eq!(g.levels, vec![1, -1]);
        assert_eq!(g.scale, 1.0);
    }

    #[test]
    fn twn_thresholds_at_point_seven_mean_abs() {
        // mean|w| = 1.0, threshold 0.7: 0.6 and -0.2 are dropped, 0.7 too (strictly above).
        let w = [0.6, -0.2, 0.7, -1.5, 2.0, -1.0];
        let g = quantize_group(Method::Twn, 2, &w);
        assert_eq!(g.levels, vec![0, 0, 0, -1, 1, -1]);
        // The mean of the kept magnitudes 1.5, 2.0, 1.0.
        assert_eq!(g.scale, 1.5);
        // Nothing kept: all zero.
        let g = quantize_group(Method::Twn, 2, &[0.0, 0.0]);
        assert_eq!(g.levels, vec![0, 0]);
        assert_eq!(g.scale, 0.0);
    }

    #[test]
    fn vecq_one_bit_is_half_levels_with_mean_abs_scale() {
        // std of [1, -1, 3, -3] is sqrt(5); λ(1) = 1: levels are the signs (±0.5), and
        // α = <w,q>/<q,q> = (Σ|w|/2)/(n/4) = 2·mean|w|, so the scale of L = 2q = ±1 is
        // mean|w| — VecQ at 1 bit is BWN.
        let w = [1.0, -1.0, 3.0, -3.0];
        let g = quantize_group(Method::Vecq, 1, &w);
        assert_eq!(g.levels, vec![1, -1, 1, -1]);
        assert_eq!(g.scale, 2.0);
        let b = quantize_group(Method::Bwn, 1, &w);
        assert_eq!(g, b);
    }

    #[test]
    fn vecq_two_bits_hand_checked() {
        // w = [-3, -1, 1, 3]: std = sqrt(5), Δ = sqrt(5)·0.9957 ≈ 2.2265.
        // w/Δ - 0.5 ≈ [-1.847, -0.949, -0.051, 0.847] → round [-2, -1, 0, 1]
        // (clip to [-2, 1]) → q = [-1.5, -0.5, 0.5, 1.5], L = 2q = [-3, -1, 1, 3].
        let w = [-3.0, -1.0, 1.0, 3.0];
        let g = quantize_group(Method::Vecq, 2, &w);
        assert_eq!(g.levels, vec![-3, -1, 1, 3]);
        // <w,q> = 4.5 + 0.5 + 0.5 + 4.5 = 10, <q,q> = 5: α = 2, scale of L is 1.
        assert!((g.scale - 1.0).abs() < 1e-15);
        // Large values clip to the outermost level ±1.5 (L = ±3).
        let w = [-10.0, 0.1, -0.1, 0.2, 10.0];
        let g = quantize_group(Method::Vecq, 2, &w);
        assert_eq!(g.levels[0], -3);
        assert_eq!(g.levels[4], 3);
        assert!(g.levels.iter().all(|l| l % 2 != 0));
    }

    #[test]
    fn vecq_constant_weights_are_exact() {
        let g = quantize_group(Method::Vecq, 3, &[0.25; 5]);
        assert_eq!(g.levels, vec![1; 5]);
        assert_eq!(g.scale, 0.25);
        let g = quantize_group(Method::Vecq, 3, &[-0.25; 2]);
        assert_eq!(g.levels, vec![-1; 2]);
        assert_eq!(g.scale, 0.25);
        let g = quantize_group(Method::Vecq, 4, &[0.0; 3]);
        assert_eq!(g.levels, vec![1; 3]);
        assert_eq!(g.scale, 0.0);
    }

    #[test]
    fn vecq_lambda_table_and_formula() {
        assert_eq!(vecq_lambda(1), 1.0);
        assert_eq!(vecq_lambda(4), 0.3352);
        assert_eq!(vecq_lambda(8), 0.0308);
        assert_eq!(vecq_lambda(9), 6.0 / 511.0);
    }

    #[test]
    fn round_picks_the_covering_fixed_format() {
        // max|w| = 0.9, 4 bits: 2^(I-1) ≥ 0.9 → I = 1, step 2^(1-4) = 1/8.
        let w = [0.9, -0.9, 0.3, -0.05, 0.0625];
        let g = quantize_group(Method::Round, 4, &w);
        assert_eq!(g.scale, 0.125);
        // 0.9/0.125 = 7.2 → 7; -7.2 → -7; 2.4 → 2; -0.4 → 0 (-0); 0.5 → 0 (tie to even).
        assert_eq!(g.levels, vec![7, -7, 2, 0, 0]);
        // A power of two is covered exactly; the positive end saturates.
        let g = quantize_group(Method::Round, 3, &[1.0, -1.0]);
        assert_eq!(g.scale, 0.25);
        assert_eq!(g.levels, vec![3, -4]);
        assert_eq!(round_step_exponent(1.0, 3), Some(-2));
        assert_eq!(round_step_exponent(1.0000001, 3), Some(-1));
        assert_eq!(round_step_exponent(0.0, 3), None);
        let g = quantize_group(Method::Round, 4, &[0.0, 0.0]);
        assert_eq!(g.levels, vec![0, 0]);
        assert_eq!(g.scale, 0.0);
    }

    #[test]
    fn per_channel_groups_follow_dimension_zero() {
        let w = [1.0, -1.0, 3.0, 10.0, -10.0, 30.0];
        let (levels, scales) = quantize_tensor(Method::Bwn, 1, &w, &[2, 3], true);
        assert_eq!(levels, vec![1, -1, 1, 1, -1, 1]);
        assert_eq!(scales, vec![5.0 / 3.0, 50.0 / 3.0]);
        let (_, scales) = quantize_tensor(Method::Bwn, 1, &w, &[2, 3], false);
        assert_eq!(scales, vec![55.0 / 6.0]);
    }

    #[test]
    fn bits_and_level_types() {
        assert!(Method::Bwn.check_bits(1).is_ok());
        assert!(Method::Bwn.check_bits(2).is_err());
        assert!(Method::Twn.check_bits(2).is_ok());
        assert!(Method::Twn.check_bits(3).is_err());
        assert!(Method::Vecq.check_bits(0).is_err());
        assert!(Method::Vecq.check_bits(9).is_err());
        assert!(Method::Round.check_bits(8).is_ok());
        assert_eq!(Method::Vecq.level_type(1).to_string(), "bin");
        assert_eq!(Method::Vecq.level_type(4).to_string(), "int<5>");
        assert_eq!(Method::Round.level_type(4).to_string(), "int<4>");
        assert_eq!(Method::Twn.level_type(2).to_string(), "tern");
        assert_eq!(LevelType::Int(5).range(), (-16, 15));
        assert!(!LevelType::Bin.holds(0));
        assert!(LevelType::Tern.holds(0));
    }

    #[test]
    fn scale_format_rounds_to_two_to_the_minus_sixteen() {
        let f = ScaleFormat::for_scales(0.3, 16);
        assert_eq!(
            (f.frac_bits, f.int_bits, f.width, f.finer),
            (16, -1, 15, false)
        );
        assert_eq!(f.to_string(), "ufixed<15, -1>");
        let r = f.round(0.3);
        assert_eq!(r, (0.3f64 * 65536.0).round() / 65536.0);
        // 2^I must exceed the rounded maximum.
        let f = ScaleFormat::for_scales(1.0, 16);
        assert_eq!((f.int_bits, f.width), (1, 17));
        let f = ScaleFormat::for_scales(0.0084, 16);
        assert_eq!((f.int_bits, f.width), (-6, 10));
        // All-zero scales: a one-bit type.
        let f = ScaleFormat::for_scales(0.0, 16);
        assert_eq!((f.frac_bits, f.width), (16, 1));
        // Below 2^-12 the grid gets finer, keeping 5 significant bits.
        let f = ScaleFormat::for_scales(pow2(-14) * 1.5, 16);
        assert!(f.finer);
        assert_eq!(f.frac_bits, 18);
        assert_eq!(f.width, 5);
        assert_eq!(f.round(pow2(-14) * 1.5), pow2(-14) * 1.5);
        // The threshold follows the grid: 2^-4 on 2^-8.
        assert_eq!(ScaleFormat::small_exponent(16), -12);
        assert_eq!(ScaleFormat::small_exponent(8), -4);
        assert!(!ScaleFormat::for_scales(0.3, 8).finer);
        let f = ScaleFormat::for_scales(0.03, 8);
        assert!(f.finer);
        assert_eq!(f.frac_bits, 10);
        // Tiny scales do not overflow the intermediate powers.
        let f = ScaleFormat::for_scales(1e-300, 16);
        assert!(f.round(1e-300) > 0.0);
        assert_eq!(f.width, 5);
    }

    #[test]
    fn losses_of_simple_vectors() {
        let l = losses(&[1.0, 0.0], &[1.0, 1.0]);
        assert_eq!(l.l2, 1.0);
        assert_eq!(l.l2_relative, Some(1.0));
        assert!((l.angle_deg - 45.0).abs() < 1e-12);
        assert!((l.one_minus_cos - (1.0 - 0.5f64.sqrt())).abs() < 1e-12);
        assert!((l.modulus - (2f64.sqrt() - 1.0)).abs() < 1e-12);
        let l = losses(&[0.0, 0.0], &[0.0, 0.0]);
        assert_eq!((l.l2, l.l2_relative, l.angle_deg), (0.0, None, 0.0));
        let l = losses(&[1.0, 2.0], &[0.0, 0.0]);
        assert_eq!(l.angle_deg, 90.0);
        let l = losses(&[1.0, 2.0], &[2.0, 4.0]);
        assert!(l.angle_deg.abs() < 1e-6);
        assert!((l.modulus - 5f64.sqrt()).abs() < 1e-12);
    }

    mod props {
        use super::super::*;
        use proptest::prelude::*;

        fn method() -> impl Strategy<Value = (Method, u32)> {
            prop_oneof![
                (1..=MAX_BITS).prop_map(|b| (Method::Vecq, b)),
                (1..=MAX_BITS).prop_map(|b| (Method::Round, b)),
                Just((Method::Bwn, 1)),
                Just((Method::Twn, 2)),
            ]
        }

        proptest! {
            /// Per channel: one scale per index of dimension 0, each channel quantized on
            /// its own (the same as quantizing the channel as a tensor), levels in the
            /// type, scales ≥ 0, VecQ's scale least-squares optimal per channel.
            #[test]
            fn per_channel_tensors(
                (method, bits) in method(),
                channels in 1usize..6,
                size in 1usize..20,
                seed in prop::collection::vec(-1000i32..1000, 120),
                magnitude in -6i32..4,
            ) {
                let n = channels * size;
                let w: Vec<f64> = (0..n)
                    .map(|i| f64::from(seed[i % seed.len()]) * 10f64.powi(magnitude) / 1000.0
                        * (1.0 + i as f64 * 1e-3))
                    .collect();
                let (levels, scales) =
                    quantize_tensor(method, bits, &w, &[channels, size], true);
                prop_assert_eq!(levels.len(), n);
                prop_assert_eq!(scales.len(), channels);
                let ty = method.level_type(bits);
                for c in 0..channels {
                    let part = &w[c * size..(c + 1) * size];
                    let g = quantize_group(method, bits, part);
                    prop_assert_eq!(&g.levels[..], &levels[c * size..(c + 1) * size]);
                    prop_assert_eq!(g.scale, scales[c]);
                    prop_assert!(g.levels.iter().all(|&l| ty.holds(l)));
                    prop_assert!(g.scale >= 0.0);
                    if method == Method::Vecq {
                        let l2 = |s: f64| -> f64 {
                            part.iter().zip(&g.levels).map(|(x, &l)| (x - s * l as f64).powi(2)).sum()
                        };
                        let best = l2(g.scale);
                        prop_assert!(best <= l2(g.scale * 1.01) * (1.0 + 1e-12));
                        prop_assert!(best <= l2(g.scale * 0.99) * (1.0 + 1e-12));
                    }
                }
            }
        }
    }

    /// Property: for random tensors, every method's levels are in its type, scales are
    /// non-negative, and VecQ's scale is the least-squares optimum.
    #[test]
    fn properties_on_random_tensors() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for case in 0..300 {
            let n = 1 + (rng.next_u64() % 200) as usize;
            let sigma = 10f64.powf(rng.uniform() * 6.0 - 4.0);
            let mut w = rng.vector(n, sigma);
            if case % 7 == 0 {
                // A shifted distribution and some exact zeros.
                let shift = rng.normal() * sigma;
                for (i, x) in w.iter_mut().enumerate() {
                    *x = if i % 5 == 0 { 0.0 } else { *x + shift };
                }
            }
            for method in Method::ALL {
                for bits in 1..=MAX_BITS {
                    if method.check_bits(bits).is_err() {
                        continue;
                    }
                    let ty = method.level_type(bits);
                    let g = quantize_group(method, bits, &w);
                    assert_eq!(g.levels.len(), n);
                    assert!(
                        g.levels.iter().all(|&l| ty.holds(l)),
                        "{method} {bits} bits: levels outside {ty}: {:?}",
                        g.levels
                    );
                    assert!(g.scale >= 0.0 && g.scale.is_finite());
                    if method == Method::Vecq {
                        assert!(g.levels.iter().all(|l| l % 2 != 0));
                        let best = l2(&w, &g.levels, g.scale);
                        for f in [1.01, 0.99] {
                            let other = l2(&w, &g.levels, g.scale * f);
                            assert!(
                                best <= other * (1.0 + 1e-12),
                                "{bits} bits: L2 {best} at α, {other} at α·{f}"
                            );
                        }
                    }
                    // Rounded to the scale grid, the scale still fits its ufixed type.
                    let fmt = ScaleFormat::for_scales(g.scale, 16);
                    let r = fmt.round(g.scale);
                    assert!(r >= 0.0 && r < pow2(fmt.int_bits));
                    assert!(fmt.width >= 1);
                    let grid = pow2(fmt.frac_bits);
                    assert_eq!((r * grid).fract(), 0.0);
                    assert!((r - g.scale).abs() <= 0.5 / grid);
                }
            }
        }
    }
}
