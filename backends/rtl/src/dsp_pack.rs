//! Two narrow products that share an operand in one DSP48: `s * a` and `s * b` as
//! `s * (b * 2^k + a)`, the packing the HLS tool applies to 8-bit products and the one
//! `kiln report` assumes (two products of at most 8 x 8 bits per DSP48,
//! passes/src/analysis/estimate/).
//!
//! A product the estimate counts as half a DSP48 is not written when it is met: its wire
//! is declared and the product is kept pending. When the module is finished, pending
//! products that share an operand wire are paired, when the packed operand fits the
//! multiplier's 25-bit port and the shared one its 18-bit port; each pair is one
//! multiplication:
//!
//! ```text
//! P     = s * (b * 2^k + a) + 2^(k-1)    k: the signed bits of s * a's range
//! s * b = P >>> k                        s * a + 2^(k-1) lies in 0 .. 2^k - 1
//! s * a = sext({~P[k-1], P[k-2:0]})      the low k bits, less 2^(k-1)
//! ```
//!
//! The constant goes to the DSP48's post-adder (yosys packs `a * b + c` into one), so
//! both products leave the multiplier as slices of its result, with no adder after it.
//!
//! The others are written as they were (`$signed(x) * $signed(y)`). Every product keeps
//! its value bit for bit: only how many multipliers synthesis builds changes.

use crate::fixed::Fmt;
use std::collections::HashMap;
use std::fmt::Write;

/// The widest port of a DSP48E1/E2 multiplier that packing may use for the packed
/// operand (A: 25 bits on 7-series; DSP48E2's 27 are not assumed) and for the shared one.
const PACKED_PORT_BITS: u32 = 25;
const SHARED_PORT_BITS: u32 = 18;

/// A product waiting to be paired: its wire (`width` bits, the product modulo
/// `2^width`) and its operands (Verilog expressions and formats).
#[derive(Clone, Debug)]
pub struct PendingProduct {
    pub wire: String,
    pub width: u32,
    pub x: Operand,
    pub y: Operand,
}

/// The bits of `f` as a signed operand (an unsigned one gains a sign bit).
fn signed_width(f: Fmt) -> u32 {
    f.width + u32::from(!f.signed)
}

/// The values of integer format `f` (its raw bits): the least and the greatest.
fn range(f: Fmt) -> (i128, i128) {
    let w = f.width.clamp(1, 100);
    if f.signed {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    }
}

/// The fewest bits that hold every product of values of `a` and `b` as a signed number.
fn product_bits(a: Fmt, b: Fmt) -> u32 {
    let (a0, a1) = range(a);
    let (b0, b1) = range(b);
    let corners = [a0 * b0, a0 * b1, a1 * b0, a1 * b1];
    let lo = corners.iter().copied().min().unwrap_or(0);
    let hi = corners.iter().copied().max().unwrap_or(0);
    (1..=127)
        .find(|&k| lo >= -(1i128 << (k - 1)) && hi < (1i128 << (k - 1)))
        .unwrap_or(128)
}

/// `x` (of format `f`) as a signed Verilog operand of the same value.
fn signed_operand(x: &str, f: Fmt) -> String {
    if f.signed {
        format!("$signed({x})")
    } else {
        format!("$signed({{1'b0, {x}}})")
    }
}

/// The shift `k` that packs `s * a` under `s * b`, when the pair fits one multiplier.
fn packing(s: Fmt, a: Fmt, b: Fmt) -> Option<u32> {
    let k = product_bits(s, a);
    (signed_width(s) <= SHARED_PORT_BITS && signed_width(b) + k <= PACKED_PORT_BITS).then_some(k)
}

/// An operand of a product: its Verilog expression and format.
type Operand = (String, Fmt);

/// The copies among a module's declarations: `wire [N:0] a = b;` with `b` a wire or
/// register of the same (unsigned) width, `a -> b`.
pub fn copies(decls: &str) -> HashMap<String, String> {
    let mut width: HashMap<&str, &str> = HashMap::new();
    let mut copy: Vec<(&str, &str, &str)> = Vec::new();
    for line in decls.lines() {
        let rest = line.trim_start();
        let Some(rest) = rest
            .strip_prefix("wire [")
            .or_else(|| rest.strip_prefix("reg ["))
        else {
            continue;
        };
        let Some((range, rest)) = rest.split_once("] ") else {
            continue;
        };
        let (name, value) = match rest.split_once(" = ") {
            Some((n, v)) => (n.trim(), Some(v.trim_end_matches(';').trim())),
            None => (rest.trim_end_matches(';').trim(), None),
        };
        if name.contains(' ') || name.contains('[') {
            continue; // a memory, or something else
        }
        width.insert(name, range);
        if let Some(v) = value {
            if !v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                copy.push((name, v, range));
            }
        }
    }
    copy.into_iter()
        .filter(|(_, v, range)| width.get(v) == Some(range))
        .map(|(n, v, _)| (n.to_string(), v.to_string()))
        .collect()
}

/// The wire `x` is a copy of, through any chain of copies.
fn origin<'c>(x: &'c str, copies: &'c HashMap<String, String>) -> &'c str {
    let mut x = x;
    for _ in 0..64 {
        match copies.get(x) {
            Some(y) => x = y,
            None => break,
        }
    }
    x
}

/// The operand `p` shares with `q` (the same value: the same wire, up to copies), with
/// `p`'s other operand and `q`'s: `(shared, p's other, q's other)`.
fn shared_operand<'p>(
    p: &'p PendingProduct,
    q: &'p PendingProduct,
    copies: &HashMap<String, String>,
) -> Option<(&'p Operand, &'p Operand, &'p Operand)> {
    let (px, py, qx, qy) = (&p.x, &p.y, &q.x, &q.y);
    let same =
        |a: &Operand, b: &Operand| a.1 == b.1 && origin(&a.0, copies) == origin(&b.0, copies);
    if same(px, py) || same(qx, qy) {
        return None;
    }
    [
        (px, py, qx, qy),
        (px, py, qy, qx),
        (py, px, qx, qy),
        (py, px, qy, qx),
    ]
    .into_iter()
    .find(|(ps, _, qs, _)| same(ps, qs))
    .map(|(ps, po, _, qo)| (ps, po, qo))
}

/// Writes every pending product into `out` (continuous assignments): pairs that share an
/// operand (up to `copies`, from [`copies`]) as one packed multiplication, the rest
/// alone. `fresh` names new wires. Returns the number of pairs.
pub fn write_products(
    pending: &[PendingProduct],
    copies: &HashMap<String, String>,
    out: &mut String,
    fresh: &mut dyn FnMut(&str) -> String,
) -> usize {
    // Unpaired products by operand (its origin), in program order.
    let mut open: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut partner: Vec<Option<usize>> = vec![None; pending.len()];
    for (i, p) in pending.iter().enumerate() {
        let mut found = None;
        let keys = [origin(&p.x.0, copies), origin(&p.y.0, copies)];
        'search: for key in keys {
            for &j in open.get(key).into_iter().flatten() {
                if partner[j].is_some() {
                    continue;
                }
                let q = &pending[j];
                if let Some((s, a, b)) = shared_operand(q, p, copies) {
                    if packing(s.1, a.1, b.1).is_some() {
                        found = Some(j);
                        break 'search;
                    }
                }
            }
        }
        match found {
            Some(j) => {
                partner[j] = Some(i);
                partner[i] = Some(j);
            }
            None => {
                for key in keys {
                    open.entry(key).or_default().push(i);
                }
            }
        }
    }
    let mut pairs = 0;
    for (i, p) in pending.iter().enumerate() {
        match partner[i] {
            // The earlier product of a pair writes both.
            Some(j) if j > i => {
                let q = &pending[j];
                // The search paired them only if this holds.
                let Some(((s, a, b), k)) = shared_operand(p, q, copies)
                    .and_then(|o| Some((o, packing(o.0 .1, o.1 .1, o.2 .1)?)))
                else {
                    write_alone(p, out);
                    write_alone(q, out);
                    continue;
                };
                pairs += 1;
                let ws = signed_width(s.1);
                let wp = ws + PACKED_PORT_BITS;
                let packed = fresh("pk");
                let prod = fresh("pp");
                let _ = writeln!(
                    out,
                    "    wire signed [{}:0] {packed} = ({} <<< {k}) + {};",
                    PACKED_PORT_BITS - 1,
                    signed_operand(&b.0, b.1),
                    signed_operand(&a.0, a.1)
                );
                let _ = writeln!(
                    out,
                    "    wire signed [{}:0] {prod} = {} * {packed} + {wp}'sd{}; // {} and {} in one multiplier",
                    wp - 1,
                    signed_operand(&s.0, s.1),
                    1u64 << (k - 1),
                    p.wire,
                    q.wire
                );
                // The low product (`p`'s: a): the low k bits less 2^(k-1) (the top one
                // flipped), sign-extended; the high one (`q`'s: b): the bits above.
                let sign = format!("~{prod}[{}]", k - 1);
                let low_k = if k == 1 {
                    sign.clone()
                } else {
                    format!("{{{sign}, {prod}[{}:0]}}", k - 2)
                };
                let low = match p.width.cmp(&k) {
                    std::cmp::Ordering::Greater => {
                        format!("{{{{{}{{{sign}}}}}, {low_k}}}", p.width - k)
                    }
                    std::cmp::Ordering::Equal => low_k,
                    std::cmp::Ordering::Less if p.width == 1 => format!("{prod}[0]"),
                    std::cmp::Ordering::Less => format!("{prod}[{}:0]", p.width - 1),
                };
                let _ = writeln!(out, "    assign {} = {low};", p.wire);
                let high = wp - k;
                let hi = if q.width <= high {
                    format!("{prod}[{}:{k}]", k + q.width - 1)
                } else {
                    format!(
                        "{{{{{}{{{prod}[{}]}}}}, {prod}[{}:{k}]}}",
                        q.width - high,
                        wp - 1,
                        wp - 1
                    )
                };
                let _ = writeln!(out, "    assign {} = {hi};", q.wire);
            }
            Some(_) => {}
            None => write_alone(p, out),
        }
    }
    pairs
}

/// Writes product `p` as a multiplication of its own.
fn write_alone(p: &PendingProduct, out: &mut String) {
    let _ = writeln!(
        out,
        "    assign {} = {} * {};",
        p.wire,
        signed_operand(&p.x.0, p.x.1),
        signed_operand(&p.y.0, p.y.1)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_follow_same_width_wires() {
        let decls = "    wire [7:0] w1 = rd0;\n    reg [7:0] r2;\n    wire [7:0] w3 = r2;\n    wire [7:0] w4 = w3;\n    wire [8:0] w5 = w4;\n    wire [7:0] w6 = w4 + 1;\n";
        let c = copies(decls);
        assert_eq!(origin("w4", &c), "r2");
        assert_eq!(origin("w5", &c), "w5");
        assert_eq!(origin("w6", &c), "w6");
        assert_eq!(origin("w1", &c), "w1");
    }

    #[test]
    fn product_bits_hold_the_extremes() {
        // u8 x s8: -32,640 ..= 32,385: 16 bits.
        assert_eq!(
            product_bits(Fmt::new(8, 0, false), Fmt::new(8, 0, true)),
            16
        );
        // s8 x s8: -16,256 ..= 16,384: 16 bits (2^14 needs the 16th).
        assert_eq!(product_bits(Fmt::new(8, 0, true), Fmt::new(8, 0, true)), 16);
        // u8 x u8: 0 ..= 65,025: 17 bits.
        assert_eq!(
            product_bits(Fmt::new(8, 0, false), Fmt::new(8, 0, false)),
            17
        );
        // The packing fits for u8 activations and s8 weights, not for three u8s.
        let (u8f, s8f) = (Fmt::new(8, 0, false), Fmt::new(8, 0, true));
        assert_eq!(packing(u8f, s8f, s8f), Some(16));
        assert_eq!(packing(u8f, u8f, u8f), None);
    }
}
