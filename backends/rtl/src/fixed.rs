//! Value formats in wires and the conversions that round and overflow, as Verilog.
//!
//! Every exact value travels in a wire as the raw bits of its type's storage: a [`Fmt`]
//! (width W, fractional bits F, signedness) for `int`/`uint`/`fixed`/`ufixed`, two bits
//! (two's complement -1/0/+1) for `tern`, one bit (1 = +1, 0 = -1) for `bin` and one bit
//! for `bool`.
//!
//! [`conversion_function`] writes a Verilog function that converts a value of one format
//! to a type exactly as `kiln_passes::value::convert` does (numeric/src/fixed.rs
//! `to_fixed` / `to_int`): first quantization to the target's LSB with its Q mode (TRN,
//! TRN_ZERO, RND, RND_ZERO, RND_MIN_INF, RND_INF, RND_CONV), then the O mode on the
//! quantized value (WRAP with N saturation bits, SAT, SAT_ZERO, SAT_SYM, WRAP_SM);
//! integers truncate toward zero then wrap; `bin` is the sign (>= 0 is +1), `tern` the
//! sign, `bool` is "not zero". The function is straight-line code specialized in Rust for
//! its formats and modes: every shift is by a constant, every case decided here.
//!
//! [`align`] writes the cheap conversion between formats of a value known to fit (exact
//! arithmetic: what an operand needs to enter its operation's result type): an extension
//! or a slice and a constant shift, no rounding logic.
//!
//! tests/rtl.rs checks [`conversion_function`] against kiln-numeric bit for bit over every
//! Q/O combination, several widths and many random and edge values (Verilator).

use kiln_numeric::{Overflow, Quant, ScalarType};
use std::fmt::Write;

/// How an exact value is held in a wire: `width` bits, the value is the two's complement
/// (or unsigned) integer times `2^-frac`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fmt {
    pub width: u32,
    pub frac: i32,
    pub signed: bool,
}

impl Fmt {
    pub fn new(width: u32, frac: i32, signed: bool) -> Fmt {
        Fmt {
            width,
            frac,
            signed,
        }
    }

    /// A short tag for names (`s24f12`, `u8fm3`).
    pub fn tag(&self) -> String {
        let f = if self.frac < 0 {
            format!("m{}", -self.frac)
        } else {
            self.frac.to_string()
        };
        format!("{}{}f{f}", if self.signed { "s" } else { "u" }, self.width)
    }

    /// Integer bits a signed format needs to hold every value of this one.
    fn signed_int_bits(&self) -> i32 {
        self.width as i32 - self.frac + if self.signed { 0 } else { 1 }
    }

    /// A signed format that holds every value of `a` and of `b` exactly.
    pub fn common(a: Fmt, b: Fmt) -> Fmt {
        let frac = a.frac.max(b.frac);
        let ib = a.signed_int_bits().max(b.signed_int_bits());
        Fmt::new((ib + frac).max(1) as u32, frac, true)
    }
}

/// The numeric format of a type's storage, when it is a plain binary number (`bin` is
/// decoded first; floats have none). `bool` reads as a 1-bit unsigned integer.
pub fn fmt_of(t: &ScalarType) -> Option<Fmt> {
    match t {
        ScalarType::Int(i) => Some(Fmt::new(i.width, 0, i.signed)),
        ScalarType::Fixed(f) => Some(Fmt::new(f.width, f.frac_bits(), f.signed)),
        ScalarType::Tern => Some(Fmt::new(2, 0, true)),
        ScalarType::Bool => Some(Fmt::new(1, 0, false)),
        ScalarType::Bin | ScalarType::F32 | ScalarType::F64 => None,
    }
}

/// Storage bits of a type in a wire (f32/f64 never reach the RTL path).
pub fn storage_width(t: &ScalarType) -> u32 {
    t.storage_bits()
}

/// `name` (a `from`-bit vector) sign- or zero-extended, or truncated, to `to` bits.
pub fn ext(name: &str, from: u32, signed: bool, to: u32) -> String {
    if to == from {
        name.to_string()
    } else if to < from {
        if to == 1 {
            format!("{name}[0]")
        } else {
            format!("{name}[{}:0]", to - 1)
        }
    } else {
        let fill = if signed {
            format!("{name}[{}]", from - 1)
        } else {
            "1'b0".to_string()
        };
        format!("{{{{{}{{{fill}}}}}, {name}}}", to - from)
    }
}

/// A bit range of `name` (`name[hi:lo]`, or `name[b]` for one bit).
pub fn slice(name: &str, hi: u32, lo: u32) -> String {
    if hi == lo {
        format!("{name}[{hi}]")
    } else {
        format!("{name}[{hi}:{lo}]")
    }
}

/// Declarations and assignments a caller collects for wires it creates.
pub trait Wires {
    /// Declares `wire [width-1:0] NAME = expr;` with a fresh name, which it returns.
    fn wire(&mut self, width: u32, expr: &str) -> String;
}

/// The value of wire `name` in format `from` re-expressed in format `to`, which must hold
/// it (fewer fractional bits floor, which is exact for values that are multiples of the
/// new LSB; `>>` relies on that floor).
pub fn align(w: &mut dyn Wires, name: &str, from: Fmt, to: Fmt) -> String {
    if from == to || (from.frac == to.frac && from.width == to.width) {
        return name.to_string();
    }
    let d = to.frac - from.frac;
    if d >= 0 {
        let d = d as u32;
        if d >= to.width {
            return w.wire(to.width, &format!("{}'d0", to.width));
        }
        let body = to.width - d;
        let e = ext(name, from.width, from.signed, body);
        let e = if d == 0 {
            e
        } else {
            format!("{{{e}, {d}'d0}}")
        };
        w.wire(to.width, &e)
    } else {
        let d = (-d) as u32;
        let need = to.width + d;
        let wide = if from.width >= need {
            name.to_string()
        } else {
            w.wire(need, &ext(name, from.width, from.signed, need))
        };
        w.wire(to.width, &slice(&wide, need - 1, d))
    }
}

/// A Verilog function `NAME(x)` converting a value of format `from` to type `to` with
/// `to`'s modes (see the module documentation). `to` must not be a float.
pub fn conversion_function(name: &str, from: Fmt, to: &ScalarType) -> String {
    let w1 = from.width;
    let mut b = String::new();
    let out_w = storage_width(to);
    let _ = writeln!(b, "    function [{}:0] {name};", out_w - 1);
    let _ = writeln!(b, "        input [{}:0] x;", w1 - 1);
    let mut body = String::new();
    let mut regs: Vec<(String, u32)> = Vec::new();
    // xs: the value as a signed number one bit wider than needed.
    let xw = w1 + 1;
    regs.push(("xs".into(), xw));
    let _ = writeln!(body, "            xs = {};", ext("x", w1, from.signed, xw));
    let neg = format!("xs[{}]", xw - 1);
    match to {
        ScalarType::Bool => {
            let _ = writeln!(body, "            {name} = |xs;");
        }
        ScalarType::Bin => {
            let _ = writeln!(body, "            {name} = ~{neg};");
        }
        ScalarType::Tern => {
            let _ = writeln!(
                body,
                "            {name} = {neg} ? 2'b11 : (|xs) ? 2'b01 : 2'b00;"
            );
        }
        ScalarType::Int(t) => {
            // Truncation toward zero at the integer LSB, then the low W bits.
            let f1 = from.frac;
            if f1 <= 0 {
                let k = (-f1) as u32;
                let ww = xw + k;
                regs.push(("wh".into(), ww));
                let e = if k == 0 {
                    "xs".to_string()
                } else {
                    format!("{{xs, {k}'d0}}")
                };
                let _ = writeln!(body, "            wh = {e};");
                let _ = writeln!(
                    body,
                    "            {name} = {};",
                    ext("wh", ww, true, t.width)
                );
            } else {
                let sh = f1 as u32;
                let xe_w = xw.max(sh + 1);
                regs.push(("xe".into(), xe_w));
                let _ = writeln!(body, "            xe = {};", ext("xs", xw, true, xe_w));
                let fw = xe_w - sh;
                regs.push(("fh".into(), fw));
                regs.push(("fl".into(), fw + 1));
                let _ = writeln!(body, "            fh = {};", slice("xe", xe_w - 1, sh));
                let _ = writeln!(body, "            fl = {};", ext("fh", fw, true, fw + 1));
                let _ = writeln!(
                    body,
                    "            fl = fl + {{{}'d0, xe[{}] & (|xe[{}:0])}};",
                    fw,
                    xe_w - 1,
                    sh - 1
                );
                let _ = writeln!(
                    body,
                    "            {name} = {};",
                    ext("fl", fw + 1, true, t.width)
                );
            }
        }
        ScalarType::Fixed(t) => fixed_body(&mut body, &mut regs, name, from, xw, t),
        ScalarType::F32 | ScalarType::F64 => {
            let _ = writeln!(
                body,
                "            {name} = 0; // not reached: floats are refused"
            );
        }
    }
    for (r, wdt) in &regs {
        let _ = writeln!(b, "        reg [{}:0] {r};", wdt - 1);
    }
    b.push_str("        begin\n");
    b.push_str(&body);
    b.push_str("        end\n    endfunction\n");
    b
}

/// The body of a conversion to a fixed-point type: quantize, then overflow.
fn fixed_body(
    body: &mut String,
    regs: &mut Vec<(String, u32)>,
    name: &str,
    from: Fmt,
    xw: u32,
    t: &kiln_numeric::FixedType,
) {
    let w = t.width;
    let sh = from.frac - t.frac_bits();
    // q: the quantized mantissa (signed, qw bits); fl: the floor before rounding.
    let qw;
    let flw;
    if sh <= 0 {
        let k = (-sh) as u32;
        qw = xw + k;
        flw = qw;
        regs.push(("q".into(), qw));
        let e = if k == 0 {
            "xs".to_string()
        } else {
            format!("{{xs, {k}'d0}}")
        };
        let _ = writeln!(body, "            q = {e};");
        regs.push(("fl".into(), flw));
        let _ = writeln!(body, "            fl = q;");
    } else {
        let sh = sh as u32;
        let xe_w = xw.max(sh + 1);
        regs.push(("xe".into(), xe_w));
        let _ = writeln!(body, "            xe = {};", ext("xs", xw, true, xe_w));
        flw = xe_w - sh;
        regs.push(("fl".into(), flw));
        let _ = writeln!(body, "            fl = {};", slice("xe", xe_w - 1, sh));
        let neg = format!("xe[{}]", xe_w - 1);
        let half = format!("xe[{}]", sh - 1);
        let low = if sh >= 2 {
            format!("(|xe[{}:0])", sh - 2)
        } else {
            "1'b0".to_string()
        };
        let above = format!("({half} & {low})");
        let tie = format!("({half} & ~{low})");
        let any = format!("({half} | {low})");
        let up = match t.quant {
            Quant::Trn => "1'b0".to_string(),
            Quant::TrnZero => format!("({neg} & {any})"),
            Quant::Rnd => half.clone(),
            Quant::RndZero => format!("({above} | ({tie} & {neg}))"),
            Quant::RndMinInf => above.clone(),
            Quant::RndInf => format!("({above} | ({tie} & ~{neg}))"),
            Quant::RndConv => format!("({above} | ({tie} & fl[0]))"),
        };
        qw = flw + 1;
        regs.push(("q".into(), qw));
        let _ = writeln!(
            body,
            "            q = {} + {{{}'d0, {up}}};",
            ext("fl", flw, true, qw),
            qw - 1
        );
    }
    // qe: q sign-extended to at least W + 1 bits.
    let qe_w = qw.max(w + 1);
    regs.push(("qe".into(), qe_w));
    let _ = writeln!(body, "            qe = {};", ext("q", qw, true, qe_w));
    let qneg = format!("qe[{}]", qe_w - 1);
    regs.push(("bits".into(), w));
    let _ = writeln!(body, "            bits = {};", slice("qe", w - 1, 0));
    regs.push(("ov".into(), 1));
    regs.push(("un".into(), 1));
    if t.signed {
        let top = qe_w - (w - 1);
        let _ = writeln!(
            body,
            "            ov = ~{qneg} & ~({} == {top}'d0);",
            slice("qe", qe_w - 1, w - 1)
        );
        let _ = writeln!(
            body,
            "            un = {qneg} & ~({} == {{{top}{{1'b1}}}});",
            slice("qe", qe_w - 1, w - 1)
        );
        if t.overflow == Overflow::SatSym {
            // The most negative code is not used: -2^(W-1) overflows too.
            let at_min = if w >= 2 {
                format!(
                    "({} == {{{top}{{1'b1}}}}) & ({} == {}'d0)",
                    slice("qe", qe_w - 1, w - 1),
                    slice("qe", w - 2, 0),
                    w - 1
                )
            } else {
                format!("({} == {{{top}{{1'b1}}}})", slice("qe", qe_w - 1, w - 1))
            };
            let _ = writeln!(body, "            un = un | ({at_min});");
        }
    } else {
        let top = qe_w - w;
        let _ = writeln!(
            body,
            "            ov = ~{qneg} & ~({} == {top}'d0);",
            slice("qe", qe_w - 1, w)
        );
        let _ = writeln!(body, "            un = {qneg};");
    }
    let hi = if t.signed {
        if w == 1 {
            "1'b0".to_string()
        } else {
            format!("{{1'b0, {{{}{{1'b1}}}}}}", w - 1)
        }
    } else {
        format!("{{{w}{{1'b1}}}}")
    };
    let lo = if t.signed {
        if w == 1 {
            "1'b1".to_string()
        } else {
            format!("{{1'b1, {}'d0}}", w - 1)
        }
    } else {
        format!("{w}'d0")
    };
    let mut on_ovf = String::new();
    let n = t.sat_bits;
    match t.overflow {
        Overflow::Sat => {
            let _ = writeln!(on_ovf, "                bits = ov ? {hi} : {lo};");
        }
        Overflow::SatZero => {
            let _ = writeln!(on_ovf, "                bits = {w}'d0;");
        }
        Overflow::SatSym => {
            let neg_max = if !t.signed {
                format!("{w}'d0")
            } else if w == 1 {
                lo.clone()
            } else {
                format!("{{1'b1, {}'d1}}", w - 1)
            };
            let _ = writeln!(on_ovf, "                bits = ov ? {hi} : {neg_max};");
        }
        Overflow::Wrap => {
            if n > 0 {
                if t.signed {
                    let _ = writeln!(on_ovf, "                bits[{}] = {qneg};", w - 1);
                    for bit in (w - n)..(w - 1) {
                        let _ = writeln!(on_ovf, "                bits[{bit}] = ~{qneg};");
                    }
                } else {
                    for bit in (w - n)..w {
                        let _ = writeln!(on_ovf, "                bits[{bit}] = 1'b1;");
                    }
                }
            }
        }
        Overflow::WrapSm => {
            // overflow_adjust of the headers (numeric/src/fixed.rs wrap_sign_magnitude).
            regs.push(("ro".into(), 1));
            let _ = writeln!(on_ovf, "                ro = bits[{}];", w - 1);
            if n == 0 {
                // lD: bit W of the floor before rounding.
                let ld = if flw > w {
                    format!("fl[{w}]")
                } else {
                    format!("fl[{}]", flw - 1)
                };
                let _ = writeln!(
                    on_ovf,
                    "                if ({ld} != ro) begin\n                    bits = ~bits;\n                    bits[{}] = {ld};\n                end",
                    w - 1
                );
            } else {
                if n == 1 {
                    let _ = writeln!(on_ovf, "                if ({qneg} != ro) bits = ~bits;");
                } else {
                    let _ = writeln!(
                        on_ovf,
                        "                if (bits[{}] == {qneg}) bits = ~bits;",
                        w - n
                    );
                    for bit in (w - n)..(w - 1) {
                        let _ = writeln!(on_ovf, "                bits[{bit}] = ~{qneg};");
                    }
                }
                let _ = writeln!(on_ovf, "                bits[{}] = {qneg};", w - 1);
            }
        }
    }
    if !on_ovf.is_empty() {
        let _ = writeln!(
            body,
            "            if (ov | un) begin\n{on_ovf}            end"
        );
    }
    let _ = writeln!(body, "            {name} = bits;");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_and_slices() {
        assert_eq!(ext("a", 4, true, 6), "{{2{a[3]}}, a}");
        assert_eq!(ext("a", 4, false, 6), "{{2{1'b0}}, a}");
        assert_eq!(ext("a", 4, true, 2), "a[1:0]");
        assert_eq!(slice("a", 3, 3), "a[3]");
    }

    #[test]
    fn common_formats_hold_both() {
        let c = Fmt::common(Fmt::new(8, 4, false), Fmt::new(6, 0, true));
        assert_eq!(c, Fmt::new(10, 4, true));
    }

    #[test]
    fn functions_name_their_modes() {
        let t: ScalarType = "fixed<8, 4, rnd_conv, sat_sym>".parse().unwrap();
        let f = conversion_function("cvt", Fmt::new(24, 12, true), &t);
        assert!(f.contains("function [7:0] cvt;"), "{f}");
        assert!(f.contains("fl[0]"), "{f}");
    }
}
