//! Scalar element types of kiln and their textual form.
//!
//! The fixed-point and integer types are exactly Vitis HLS's `ap_fixed<W,I,Q,O,N>`,
//! `ap_ufixed<...>`, `ap_int<W>` and `ap_uint<W>`; `bin` and `tern` are the extremely
//! low-bit weight types of ELB-NN; `f32` is IEEE single and `f64` IEEE double. This module only describes types
//! (widths, modes, ranges, spelling); value semantics live in [`crate::fixed`] and
//! [`crate::float`].

use crate::bigint::Int;
use crate::fixed::Fx;
use std::fmt;
use std::str::FromStr;

/// Widest fixed-point or integer type a user may declare (the default `AP_INT_MAX_W` of
/// the Vitis headers; the JIT compiles values of at most 128 bits, E0513 beyond).
pub const MAX_DECLARED_WIDTH: u32 = 1024;
/// Widest intermediate value (the default `AP_INT_MAX_W` of the Vitis headers).
pub const MAX_WIDTH: u32 = 1024;

/// Quantization mode: what happens to bits dropped below the LSB of the target.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Quant {
    /// Truncate toward minus infinity (`AP_TRN`, the default).
    Trn,
    /// Truncate toward zero (`AP_TRN_ZERO`).
    TrnZero,
    /// Round to nearest, ties toward plus infinity (`AP_RND`).
    Rnd,
    /// Round to nearest, ties toward zero (`AP_RND_ZERO`).
    RndZero,
    /// Round to nearest, ties toward minus infinity (`AP_RND_MIN_INF`).
    RndMinInf,
    /// Round to nearest, ties away from zero (`AP_RND_INF`).
    RndInf,
    /// Round to nearest, ties to even (`AP_RND_CONV`).
    RndConv,
}

/// Overflow mode: what happens when the quantized value does not fit the target.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Overflow {
    /// Keep the low bits (`AP_WRAP`, the default); with N > 0 the N MSBs saturate.
    Wrap,
    /// Clamp to the largest or smallest value (`AP_SAT`).
    Sat,
    /// Replace by zero (`AP_SAT_ZERO`).
    SatZero,
    /// Clamp symmetrically: the smallest value is `-max` (`AP_SAT_SYM`).
    SatSym,
    /// Sign-magnitude wrap (`AP_WRAP_SM`, signed types only).
    WrapSm,
}

impl Quant {
    pub const ALL: [Quant; 7] = [
        Quant::Trn,
        Quant::TrnZero,
        Quant::Rnd,
        Quant::RndZero,
        Quant::RndMinInf,
        Quant::RndInf,
        Quant::RndConv,
    ];

    /// The kiln spelling (`rnd_conv`).
    pub fn name(self) -> &'static str {
        match self {
            Quant::Trn => "trn",
            Quant::TrnZero => "trn_zero",
            Quant::Rnd => "rnd",
            Quant::RndZero => "rnd_zero",
            Quant::RndMinInf => "rnd_min_inf",
            Quant::RndInf => "rnd_inf",
            Quant::RndConv => "rnd_conv",
        }
    }

    /// The Vitis HLS spelling (`AP_RND_CONV`).
    pub fn hls_name(self) -> &'static str {
        match self {
            Quant::Trn => "AP_TRN",
            Quant::TrnZero => "AP_TRN_ZERO",
            Quant::Rnd => "AP_RND",
            Quant::RndZero => "AP_RND_ZERO",
            Quant::RndMinInf => "AP_RND_MIN_INF",
            Quant::RndInf => "AP_RND_INF",
            Quant::RndConv => "AP_RND_CONV",
        }
    }

    pub fn from_name(s: &str) -> Option<Quant> {
        Quant::ALL.into_iter().find(|q| q.name() == s)
    }
}

impl Overflow {
    pub const ALL: [Overflow; 5] = [
        Overflow::Wrap,
        Overflow::Sat,
        Overflow::SatZero,
        Overflow::SatSym,
        Overflow::WrapSm,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Overflow::Wrap => "wrap",
            Overflow::Sat => "sat",
            Overflow::SatZero => "sat_zero",
            Overflow::SatSym => "sat_sym",
            Overflow::WrapSm => "wrap_sm",
        }
    }

    pub fn hls_name(self) -> &'static str {
        match self {
            Overflow::Wrap => "AP_WRAP",
            Overflow::Sat => "AP_SAT",
            Overflow::SatZero => "AP_SAT_ZERO",
            Overflow::SatSym => "AP_SAT_SYM",
            Overflow::WrapSm => "AP_WRAP_SM",
        }
    }

    pub fn from_name(s: &str) -> Option<Overflow> {
        Overflow::ALL.into_iter().find(|o| o.name() == s)
    }

    /// Whether the mode keeps low bits on overflow (and so takes saturation bits N).
    pub fn is_wrapping(self) -> bool {
        matches!(self, Overflow::Wrap | Overflow::WrapSm)
    }
}

/// `int<W>` / `uint<W>`: `ap_int<W>` / `ap_uint<W>`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct IntType {
    pub width: u32,
    pub signed: bool,
}

/// `fixed<W,I,Q,O,N>` / `ufixed<W,I,Q,O,N>`: `ap_fixed` / `ap_ufixed`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct FixedType {
    /// Total number of bits, W.
    pub width: u32,
    /// Integer bits including the sign bit, I (may be negative or exceed W).
    pub int_bits: i32,
    pub signed: bool,
    pub quant: Quant,
    pub overflow: Overflow,
    /// Saturation bits N for the wrap modes.
    pub sat_bits: u32,
}

/// The element type of a scalar or of every element of a tensor.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ScalarType {
    /// `true` / `false`.
    Bool,
    /// IEEE 754 single precision, every operation rounded to nearest even.
    F32,
    /// IEEE 754 double precision, every operation rounded to nearest even.
    F64,
    /// One bit holding -1 (bit 0) or +1 (bit 1).
    Bin,
    /// Two bits holding -1, 0 or +1.
    Tern,
    Int(IntType),
    Fixed(FixedType),
}

/// Why a type cannot exist; the front end turns these into diagnostics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeError {
    ZeroWidth,
    TooWide { width: u32, max: u32 },
    IntBitsOutOfRange { int_bits: i32 },
    UnsignedWrapSm,
    SatBitsWithoutWrap,
    SatBitsTooMany { sat_bits: u32, width: u32 },
}

impl fmt::Display for TypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeError::ZeroWidth => write!(f, "a width must be at least 1 bit"),
            TypeError::TooWide { width, max } => {
                write!(f, "width {width} exceeds the limit of {max} bits")
            }
            TypeError::IntBitsOutOfRange { int_bits } => write!(
                f,
                "{int_bits} integer bits is out of the supported range [-{MAX_WIDTH}, {}]",
                2 * MAX_WIDTH
            ),
            TypeError::UnsignedWrapSm => {
                write!(f, "wrap_sm (sign-magnitude wrap) needs a signed type")
            }
            TypeError::SatBitsWithoutWrap => {
                write!(
                    f,
                    "saturation bits N only apply to the wrap and wrap_sm modes"
                )
            }
            TypeError::SatBitsTooMany { sat_bits, width } => {
                write!(f, "{sat_bits} saturation bits exceed the width {width}")
            }
        }
    }
}

impl IntType {
    pub fn new(width: u32, signed: bool) -> IntType {
        IntType { width, signed }
    }

    /// Checks the width against `max_width`.
    pub fn validate(&self, max_width: u32) -> Result<(), TypeError> {
        check_width(self.width, max_width)
    }

    /// The same values as a fixed-point type with no fractional bits.
    pub fn as_fixed(&self) -> FixedType {
        FixedType::plain(self.width, self.width as i32, self.signed)
    }
}

impl FixedType {
    /// A type with the default modes (`trn`, `wrap`, N = 0).
    pub fn plain(width: u32, int_bits: i32, signed: bool) -> FixedType {
        FixedType {
            width,
            int_bits,
            signed,
            quant: Quant::Trn,
            overflow: Overflow::Wrap,
            sat_bits: 0,
        }
    }

    /// Fractional bits F = W - I (may be negative).
    pub fn frac_bits(&self) -> i32 {
        self.width as i32 - self.int_bits
    }

    /// The same value range with the default modes.
    pub fn without_modes(&self) -> FixedType {
        FixedType::plain(self.width, self.int_bits, self.signed)
    }

    pub fn has_default_modes(&self) -> bool {
        self.quant == Quant::Trn && self.overflow == Overflow::Wrap && self.sat_bits == 0
    }

    pub fn validate(&self, max_width: u32) -> Result<(), TypeError> {
        check_width(self.width, max_width)?;
        if self.int_bits < -(MAX_WIDTH as i32) || self.int_bits > 2 * MAX_WIDTH as i32 {
            return Err(TypeError::IntBitsOutOfRange {
                int_bits: self.int_bits,
            });
        }
        if !self.signed && self.overflow == Overflow::WrapSm {
            return Err(TypeError::UnsignedWrapSm);
        }
        if self.sat_bits > 0 && !self.overflow.is_wrapping() {
            return Err(TypeError::SatBitsWithoutWrap);
        }
        if self.sat_bits > self.width {
            return Err(TypeError::SatBitsTooMany {
                sat_bits: self.sat_bits,
                width: self.width,
            });
        }
        Ok(())
    }

    /// Smallest representable value.
    pub fn min_value(&self) -> Fx {
        let mant = if self.signed {
            Int::pow2(self.width - 1).neg()
        } else {
            Int::ZERO
        };
        Fx::new(mant, self.frac_bits())
    }

    /// Largest representable value.
    pub fn max_value(&self) -> Fx {
        let w = if self.signed {
            self.width - 1
        } else {
            self.width
        };
        Fx::new(Int::pow2(w).sub(&Int::ONE), self.frac_bits())
    }
}

fn check_width(width: u32, max: u32) -> Result<(), TypeError> {
    if width == 0 {
        Err(TypeError::ZeroWidth)
    } else if width > max {
        Err(TypeError::TooWide { width, max })
    } else {
        Ok(())
    }
}

impl ScalarType {
    pub fn int(width: u32) -> ScalarType {
        ScalarType::Int(IntType::new(width, true))
    }

    pub fn uint(width: u32) -> ScalarType {
        ScalarType::Int(IntType::new(width, false))
    }

    pub fn fixed(width: u32, int_bits: i32) -> ScalarType {
        ScalarType::Fixed(FixedType::plain(width, int_bits, true))
    }

    pub fn ufixed(width: u32, int_bits: i32) -> ScalarType {
        ScalarType::Fixed(FixedType::plain(width, int_bits, false))
    }

    /// Whether values of this type are exact binary numbers (everything but `bool`, `f32`
    /// and `f64`).
    pub fn is_exact_numeric(&self) -> bool {
        !matches!(self, ScalarType::Bool | ScalarType::F32 | ScalarType::F64)
    }

    /// Whether this is an IEEE float type (`f32` or `f64`).
    pub fn is_float(&self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }

    /// Storage bits of one element.
    pub fn storage_bits(&self) -> u32 {
        match self {
            ScalarType::Bool | ScalarType::Bin => 1,
            ScalarType::Tern => 2,
            ScalarType::F32 => 32,
            ScalarType::F64 => 64,
            ScalarType::Int(t) => t.width,
            ScalarType::Fixed(t) => t.width,
        }
    }

    /// Fractional bits of an exact numeric type (0 for integers, bin and tern).
    pub fn frac_bits(&self) -> Option<i32> {
        match self {
            ScalarType::Bin | ScalarType::Tern | ScalarType::Int(_) => Some(0),
            ScalarType::Fixed(t) => Some(t.frac_bits()),
            ScalarType::Bool | ScalarType::F32 | ScalarType::F64 => None,
        }
    }

    /// Smallest and largest values of an exact numeric type.
    pub fn value_bounds(&self) -> Option<(Fx, Fx)> {
        match self {
            ScalarType::Bin | ScalarType::Tern => Some((Fx::int(-1), Fx::int(1))),
            ScalarType::Int(t) => {
                let f = t.as_fixed();
                Some((f.min_value(), f.max_value()))
            }
            ScalarType::Fixed(t) => Some((t.min_value(), t.max_value())),
            ScalarType::Bool | ScalarType::F32 | ScalarType::F64 => None,
        }
    }

    pub fn is_signed(&self) -> bool {
        match self {
            ScalarType::Bool => false,
            ScalarType::F32 | ScalarType::F64 | ScalarType::Bin | ScalarType::Tern => true,
            ScalarType::Int(t) => t.signed,
            ScalarType::Fixed(t) => t.signed,
        }
    }

    /// Checks widths and mode combinations; `max_width` is the declared-type limit for
    /// user-written types and [`MAX_WIDTH`] for intermediates.
    pub fn validate(&self, max_width: u32) -> Result<(), TypeError> {
        match self {
            ScalarType::Int(t) => t.validate(max_width),
            ScalarType::Fixed(t) => t.validate(max_width),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for IntType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}int<{}>",
            if self.signed { "" } else { "u" },
            self.width
        )
    }
}

impl fmt::Display for FixedType {
    /// `fixed<8,4>`; modes are written only when they differ from the defaults, N only
    /// when it is not zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}fixed<{}, {}",
            if self.signed { "" } else { "u" },
            self.width,
            self.int_bits
        )?;
        if !self.has_default_modes() {
            write!(f, ", {}, {}", self.quant.name(), self.overflow.name())?;
            if self.sat_bits != 0 {
                write!(f, ", {}", self.sat_bits)?;
            }
        }
        write!(f, ">")
    }
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScalarType::Bool => write!(f, "bool"),
            ScalarType::F32 => write!(f, "f32"),
            ScalarType::F64 => write!(f, "f64"),
            ScalarType::Bin => write!(f, "bin"),
            ScalarType::Tern => write!(f, "tern"),
            ScalarType::Int(t) => write!(f, "{t}"),
            ScalarType::Fixed(t) => write!(f, "{t}"),
        }
    }
}

/// Parses the textual form of a type (`fixed<8,4,rnd,sat>`, `uint<3>`, `bin`); spaces
/// are allowed. Used by the conformance data reader and by tests, not by the front end,
/// which has its own grammar for types.
impl FromStr for ScalarType {
    type Err = String;

    fn from_str(s: &str) -> Result<ScalarType, String> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let simple = match s.as_str() {
            "bool" => Some(ScalarType::Bool),
            "f32" => Some(ScalarType::F32),
            "f64" => Some(ScalarType::F64),
            "bin" => Some(ScalarType::Bin),
            "tern" => Some(ScalarType::Tern),
            _ => None,
        };
        if let Some(t) = simple {
            return Ok(t);
        }
        let open = s.find('<').ok_or_else(|| format!("unknown type `{s}`"))?;
        let head = &s[..open];
        let args: Vec<&str> = s[open + 1..]
            .strip_suffix('>')
            .ok_or_else(|| format!("missing `>` in `{s}`"))?
            .split(',')
            .collect();
        let num = |a: &str| {
            a.parse::<i64>()
                .map_err(|_| format!("bad number `{a}` in `{s}`"))
        };
        match head {
            "int" | "uint" if args.len() == 1 => Ok(ScalarType::Int(IntType::new(
                num(args[0])? as u32,
                head == "int",
            ))),
            "fixed" | "ufixed" if (2..=5).contains(&args.len()) => {
                let mut t =
                    FixedType::plain(num(args[0])? as u32, num(args[1])? as i32, head == "fixed");
                if let Some(q) = args.get(2) {
                    t.quant = Quant::from_name(q).ok_or_else(|| format!("bad mode `{q}`"))?;
                }
                if let Some(o) = args.get(3) {
                    t.overflow = Overflow::from_name(o).ok_or_else(|| format!("bad mode `{o}`"))?;
                }
                if let Some(n) = args.get(4) {
                    t.sat_bits = num(n)? as u32;
                }
                Ok(ScalarType::Fixed(t))
            }
            _ => Err(format!("unknown type `{s}`")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spelling_round_trips() {
        for s in [
            "int<8>",
            "uint<128>",
            "fixed<8, 4>",
            "ufixed<3, 5>",
            "fixed<13, 5, rnd_conv, sat_sym>",
            "fixed<8, -2, trn, wrap, 3>",
            "bin",
            "tern",
            "f32",
            "f64",
            "bool",
        ] {
            let t: ScalarType = s.parse().unwrap();
            assert_eq!(t.to_string(), s);
        }
    }

    #[test]
    fn ranges() {
        let t: ScalarType = "fixed<8,4>".parse().unwrap();
        let (lo, hi) = t.value_bounds().unwrap();
        assert_eq!(lo.to_string(), "-8");
        assert_eq!(hi.to_string(), "7.9375");
        let u: ScalarType = "uint<3>".parse().unwrap();
        assert_eq!(u.value_bounds().unwrap().1.to_string(), "7");
    }

    #[test]
    fn validation() {
        assert_eq!(
            ScalarType::int(1025).validate(MAX_DECLARED_WIDTH),
            Err(TypeError::TooWide {
                width: 1025,
                max: 1024
            })
        );
        let t: ScalarType = "ufixed<8,4,trn,wrap_sm>".parse().unwrap();
        assert_eq!(t.validate(128), Err(TypeError::UnsignedWrapSm));
        let t: ScalarType = "fixed<8,4,trn,sat,2>".parse().unwrap();
        assert_eq!(t.validate(128), Err(TypeError::SatBitsWithoutWrap));
    }
}
