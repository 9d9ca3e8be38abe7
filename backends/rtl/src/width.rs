//! Narrow arithmetic for the controller and the address logic: what keeps the RTL from
//! spending DSP48s and wide adders on index computations that the HLS design (and the
//! estimate) do not pay for.
//!
//! - **Counters.** Each loop counter is a register as wide as the values it can hold
//!   ([`counters`]: the interval of its loop's bounds over the intervals of the loops
//!   around it), not 32 bits; unsigned when it never holds a negative value. Every use
//!   reads it as a signed operand ([`Counter::value`]), so in a 32-bit signed expression
//!   (addresses, loop tests, the loop variable as a value) it has the same value as a
//!   32-bit counter would, and synthesis sees which of its bits are zero. A counter
//!   whose values reach 2^30 in magnitude is refused (E0720, control.rs): the loop test
//!   and the addresses are 32-bit arithmetic.
//! - **Constant factors.** An address's `i * 324` is a sum of shifted copies of `i` (the
//!   factor's canonical signed-digit form: 324 = 256 + 64 + 4), which synthesis maps to
//!   adders, never to a DSP48 (yosys' `synth_xilinx` would map any product of two
//!   operands of 2 bits or more to one).
//!
//! Before: `wire signed [31:0] a18 = (32'sd0 + (lv1_i * 32'sd18) + lv2_j);` with
//! `reg signed [31:0] lv1_i;`. After: the same wire as `(32'sd0 + (($signed({1'b0, lv1_i})
//! <<< 1) + ($signed({1'b0, lv1_i}) <<< 4)) + ...)` with `reg [3:0] lv1_i;` (i in 0..16).

use kiln_passes::ir::{Instance, Node, Stmt};

/// The bits of a signed register holding every value of `lo..=hi` (at least 2).
fn signed_bits(lo: i64, hi: i64) -> u32 {
    (2..=32)
        .find(|&b| lo >= -(1i64 << (b - 1)) && hi < (1i64 << (b - 1)))
        .unwrap_or(32)
}

/// A loop counter's register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counter {
    pub bits: u32,
    /// Its values (or the bound it is compared with) do not fit 32 signed bits, which
    /// the 32-bit address and loop-test arithmetic cannot hold: `kiln rtl` refuses it.
    pub too_wide: bool,
    /// It never holds a negative value: an unsigned register, read as `$signed({1'b0,
    /// r})` so that synthesis knows its upper bits are zero.
    pub unsigned: bool,
    /// The values it holds while its loop's body runs (`None`: not known).
    pub range: Option<(i64, i64)>,
}

impl Counter {
    /// The counter register `reg`'s value as a signed Verilog operand.
    pub fn value(&self, reg: &str) -> String {
        if self.unsigned {
            format!("$signed({{1'b0, {reg}}})")
        } else {
            reg.to_string()
        }
    }
}

/// Each loop variable's counter register, indexed by `LoopVarId`: as wide as every value
/// the register takes (its first value, each value the loop runs with); 32 signed bits
/// for a variable whose range is not known.
pub fn counters(inst: &Instance) -> Vec<Counter> {
    let mut ranges: Vec<Option<(i64, i64)>> = vec![None; inst.loop_vars.len()];
    for n in inst.graph.node_indices() {
        if let Node::Compute(c) = &inst.graph[n] {
            visit(&c.body, &mut ranges);
        }
    }
    ranges
        .iter()
        .map(|r| match *r {
            // The loop test adds the step to the counter and compares with the bound, in
            // 32 bits: keep a margin of a step's worth below 2^31.
            Some((lo, hi)) if lo < -(1 << 30) || hi >= (1 << 30) => Counter {
                bits: 32,
                too_wide: true,
                unsigned: false,
                range: *r,
            },
            Some((lo, hi)) if lo >= 0 => Counter {
                bits: (64 - hi.leading_zeros()).max(1),
                too_wide: false,
                unsigned: true,
                range: *r,
            },
            Some((lo, hi)) => Counter {
                bits: signed_bits(lo, hi),
                too_wide: false,
                unsigned: false,
                range: *r,
            },
            None => Counter {
                bits: 32,
                too_wide: false,
                unsigned: false,
                range: None,
            },
        })
        .collect()
}

fn visit(block: &[Stmt], ranges: &mut Vec<Option<(i64, i64)>>) {
    for s in block {
        match s {
            Stmt::For(l) => {
                let held = match (l.lo.range(ranges), l.hi.range(ranges)) {
                    // The register holds its first value, then values short of the bound.
                    (Some((lo_min, lo_max)), Some((_, hi_max))) if l.step > 0 => {
                        Some((lo_min, lo_max.max(hi_max - 1)))
                    }
                    (Some((lo_min, lo_max)), Some((hi_min, _))) if l.step < 0 => {
                        Some((lo_min.min(hi_min + 1), lo_max))
                    }
                    _ => None,
                };
                // A variable seen twice (it should not be) gets the union.
                let slot = &mut ranges[l.var.index()];
                *slot = match (*slot, held) {
                    (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                    (None, h) => h,
                    (Some(_), None) => None,
                };
                visit(&l.body, ranges);
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                visit(then_block, ranges);
                visit(else_block, ranges);
            }
            Stmt::Assign { .. } | Stmt::Store { .. } | Stmt::Fail { .. } | Stmt::Call(_) => {}
        }
    }
}

/// The canonical signed-digit form of `c`: terms `(sign, shift)` with `c = sum(sign *
/// 2^shift)`, no two adjacent shifts (the fewest adders).
fn signed_digits(c: i64) -> Vec<(i64, u32)> {
    let mut out = Vec::new();
    let mut x = c as i128;
    let mut k = 0u32;
    while x != 0 {
        if x & 1 != 0 {
            // 1 when x = 1 (mod 4), -1 when x = 3 (mod 4).
            let d = 2 - (x & 3);
            out.push((d as i64, k));
            x -= d;
        }
        x >>= 1;
        k += 1;
    }
    out
}

/// The copies of `x` that `x * c` adds up: (sign, shift) of each nonzero signed digit
/// (none for `c = 0`).
pub fn signed_shifts(c: i64) -> impl Iterator<Item = (i64, u32)> {
    signed_digits(c).into_iter()
}

/// `x * c` as shifts and adds in a 32-bit signed expression (`x` a signed expression).
pub fn times_const(x: &str, c: i64) -> String {
    let digits = signed_digits(c);
    if digits.is_empty() {
        return "32'sd0".into();
    }
    let mut s = String::new();
    for (i, (sign, shift)) in digits.iter().enumerate() {
        let term = if *shift == 0 {
            x.to_string()
        } else {
            format!("({x} <<< {shift})")
        };
        match (i, *sign > 0) {
            (0, true) => s.push_str(&term),
            (0, false) => s.push_str(&format!("-{term}")),
            (_, true) => s.push_str(&format!(" + {term}")),
            (_, false) => s.push_str(&format!(" - {term}")),
        }
    }
    format!("({s})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_digits_sum_to_the_constant() {
        for c in -1000i64..=1000 {
            let d = signed_digits(c);
            assert_eq!(d.iter().map(|(s, k)| s << k).sum::<i64>(), c, "{c}");
            // Canonical: no two adjacent nonzero digits.
            for w in d.windows(2) {
                assert!(w[1].1 > w[0].1 + 1, "{c}: {d:?}");
            }
        }
        assert_eq!(signed_digits(324), vec![(1, 2), (1, 6), (1, 8)]);
        assert_eq!(signed_digits(i64::MIN).len(), 1);
    }

    #[test]
    fn register_widths_hold_their_range() {
        assert_eq!(signed_bits(0, 1), 2);
        assert_eq!(signed_bits(0, 15), 5);
        assert_eq!(signed_bits(0, 16), 6);
        assert_eq!(signed_bits(-1, 0), 2);
        assert_eq!(signed_bits(-129, 0), 9);
        assert_eq!(signed_bits(i64::MIN, 0), 32);
        assert_eq!(
            Counter {
                bits: 4,
                too_wide: false,
                unsigned: true,
                range: Some((0, 15)),
            }
            .value("r"),
            "$signed({1'b0, r})"
        );
    }

    #[test]
    fn shifts_and_adds() {
        assert_eq!(times_const("v", 0), "32'sd0");
        assert_eq!(times_const("v", 1), "(v)");
        assert_eq!(times_const("v", 18), "((v <<< 1) + (v <<< 4))");
        assert_eq!(times_const("v", -3), "(v - (v <<< 2))");
    }
}
