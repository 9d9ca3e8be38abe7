//! How a node's scalar locals are held in registers.
//!
//! By default a local holds its declared type's mantissa (layout.rs). A declared
//! accumulator with a wrapping type is cheaper to keep **lazily wrapped**: wrapping to W
//! bits is a ring homomorphism, so `acc = wrap(acc + e)` may add in plain modular
//! arithmetic and wrap only where `acc` is read by something else. When every value
//! assigned has fewer fractional bits than the type (products of 4-fraction activations
//! summed into a 12-fraction accumulator), the always-zero low bits are dropped too: the
//! local keeps its mantissa at the values' LSB, in `W - (type frac - value frac)` bits.
//!
//! Before: `acc: fixed<24, 12>` (an i32 at 12 fractional bits), per step
//! `acc = wrap24((acc + (p << 8)))` with `p: fixed<10, 6>` at 4 fractional bits.
//! After: `acc` is an i16 at 4 fractional bits, per step `acc = acc + p` (wrapping in 16
//! bits); a read elsewhere sign-extends it from 16 bits and shifts it to 12 fractional
//! bits, which is exactly `wrap24` of the full sum.

use crate::layout::container;
use crate::rep::Rep;
use kiln_numeric::{Overflow, ScalarType};
use kiln_passes::ir::*;
use std::collections::HashMap;

/// A lazily wrapped local: its register holds the value modulo `2^width` at `rep`'s
/// fractional bits (the upper bits of the container are stale).
#[derive(Copy, Clone, Debug)]
pub struct Lazy {
    /// The register's representation (its `width` is the wrap width).
    pub rep: Rep,
}

impl Lazy {
    pub fn width(&self) -> u32 {
        match self.rep {
            Rep::Exact { width, .. } => width,
            _ => unreachable!("lazy locals are exact"),
        }
    }
}

/// `local = local ± other`.
#[derive(Copy, Clone, Debug)]
pub struct Accumulation {
    pub other: ExprId,
    pub subtract: bool,
}

/// The representation choices of one node.
#[derive(Default)]
pub struct LocalPlans {
    lazy: HashMap<LocalId, Lazy>,
    /// Accumulating assignments of lazy locals, by their value expression.
    accumulations: HashMap<ExprId, Accumulation>,
}

/// `value` as `local ± other`, if it is one.
pub fn accumulation_of(inst: &Instance, local: LocalId, value: ExprId) -> Option<Accumulation> {
    let is_local = |e: ExprId| matches!(inst.expr(e), Expr::Local(x) if *x == local);
    match inst.expr(value) {
        Expr::Binary(BinOp::Add, a, b) if is_local(*a) => Some(Accumulation {
            other: *b,
            subtract: false,
        }),
        Expr::Binary(BinOp::Add, a, b) if is_local(*b) => Some(Accumulation {
            other: *a,
            subtract: false,
        }),
        Expr::Binary(BinOp::Sub, a, b) if is_local(*a) => Some(Accumulation {
            other: *b,
            subtract: true,
        }),
        _ => None,
    }
}

impl LocalPlans {
    /// Plans the locals of a node body.
    pub fn new(inst: &Instance, body: &Block) -> LocalPlans {
        // Every assignment of every local: (local, value).
        let mut assigns: HashMap<LocalId, Vec<ExprId>> = HashMap::new();
        walk_stmts(body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::Assign { local, value, .. } = s {
                assigns.entry(*local).or_default().push(*value);
            }
        });
        let mut plans = LocalPlans::default();
        for (l, values) in assigns {
            let local = inst.local(l);
            if !local.declared {
                continue;
            }
            // Wrapping types only (wrap_sm and saturation bits are not ring maps).
            let (width, signed, tf) = match local.ty {
                ScalarType::Int(t) => (t.width, t.signed, 0),
                ScalarType::Fixed(t) if t.overflow == Overflow::Wrap && t.sat_bits == 0 => {
                    (t.width, t.signed, t.frac_bits())
                }
                _ => continue,
            };
            // The LSB of every assigned value; none may be finer than the type's (that
            // would round).
            let mut lsb = i32::MIN;
            let mut ok = true;
            let mut accs = Vec::new();
            for &v in &values {
                let acc = accumulation_of(inst, l, v);
                let part = acc.map_or(v, |a| a.other);
                match inst.expr_type(part).and_then(|t| t.frac_bits()) {
                    Some(f)
                        if f <= tf
                            && matches!(inst.expr_type(part), Some(t) if t.is_exact_numeric()) =>
                    {
                        lsb = lsb.max(f)
                    }
                    _ => ok = false,
                }
                if let Some(a) = acc {
                    accs.push((v, a));
                }
            }
            if !ok || accs.is_empty() {
                continue;
            }
            let kept = width as i32 - (tf - lsb);
            if kept < 2 {
                continue;
            }
            let Some(bits) = container(kept as u32) else {
                continue;
            };
            let rep = Rep::Exact {
                bits,
                width: kept as u32,
                signed,
                frac: lsb,
            };
            plans.lazy.insert(l, Lazy { rep });
            plans.accumulations.extend(accs);
        }
        plans
    }

    pub fn lazy(&self, l: LocalId) -> Option<Lazy> {
        self.lazy.get(&l).copied()
    }

    /// The accumulation a lazy local's assignment of `value` is.
    pub fn accumulation(&self, value: ExprId) -> Option<Accumulation> {
        self.accumulations.get(&value).copied()
    }

    /// The register representation of a local.
    pub fn storage(&self, inst: &Instance, l: LocalId) -> Option<Rep> {
        match self.lazy(l) {
            Some(z) => Some(z.rep),
            None => Rep::of(&inst.local(l).ty),
        }
    }
}
