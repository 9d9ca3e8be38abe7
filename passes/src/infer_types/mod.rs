//! Pass `infer-types`: quantization-aware type inference by range analysis.
//!
//! Every exact value that has no declared type gets the narrowest `int`/`fixed` type that
//! holds every value it can take:
//! - an expression's fractional bits follow from its operands exactly as in ap_fixed
//!   (sum: the larger; product: the sum; division: the dividend's, plus the divisor's
//!   integer-scale bits), so no operation ever rounds;
//! - its range is computed by interval arithmetic from the operands' ranges: declared
//!   types, loop bounds, literal values, and the **actual values** of constant tensors
//!   (loaded parameters);
//! - an accumulator `acc = acc + e` (or `acc += e`) inside loops grows by the number of
//!   times it can run between two resets: `N * range(e)`, where N is the product of the
//!   trip counts of the loops between the statement and the innermost loop whose body
//!   resets `acc` before it. When `e` is a product with a constant tensor, the sum is taken
//!   over the tensor's real values (so ternary weights with many zeros give a narrower
//!   accumulator than the worst case);
//! - other self-updates (`m = max(m, x)`) are solved by iteration; one that keeps growing
//!   (`p = p * 2`) is an error asking for a declared type.
//!
//! Declared types are kept. Where a value assigned to a declared type with a wrapping
//! overflow mode can exceed it, a warning (W0801) names the range and a type that holds it.
//!
//! Before (after lowering, inferred locals untyped):
//! ```text
//! acc = 0
//! for c in 0..8: acc = (acc + (x[c] * w[c]))      x: fixed<8,4>, w: int<2>
//! ```
//! After: `acc: fixed<13, 9>` (8 products in [-15.875, 16] sum to [-127, 128]), the product
//! `fixed<10, 6>`, and the sum expression the accumulator's own type.
//!
//! The module is split by concept:
//! - rounds.rs: the fixpoint's rounds (combining what a round found) and the final
//!   write-back of types and ranges;
//! - stmts.rs: statements: assignments, accumulations and stores, with the trip counts
//!   that bound how far accumulators grow;
//! - weights.rs: sums over the real values of constant weights;
//! - exprs.rs: values of expressions, conversions and the overflow warning;
//! - binary.rs: binary operators (interval arithmetic and fractional bits);
//! - accumulation.rs: recognizing `acc = acc + e1 - e2 ...` in the IR.

mod accumulation;
mod binary;
mod exprs;
mod rounds;
mod stmts;
mod weights;

use crate::data::ConstData;
use crate::ir::*;
use kiln_lang::diag::{codes, Diagnostic, Diagnostics};
use kiln_lang::Span;
use kiln_numeric::{Interval, ScalarType};
use std::collections::HashMap;

pub use accumulation::accumulation_parts;

/// How many rounds of the fixpoint before giving up on a growing self-update.
const MAX_ROUNDS: usize = 24;

/// Largest iteration space enumerated to sum constant weights exactly.
const MAX_ENUMERATION: u64 = 1 << 22;

/// What inference knows about a value.
#[derive(Clone, Debug, PartialEq)]
enum Val {
    Bool,
    F32,
    F64,
    Exact {
        range: Interval,
        frac: i32,
        /// Whether constant data (a loaded parameter) narrowed the range.
        from_data: bool,
    },
}

impl Val {
    fn exact(range: Interval, frac: i32, from_data: bool) -> Val {
        Val::Exact {
            range,
            frac,
            from_data,
        }
    }
}

/// Infers the types of one compute node of `inst` (see the module doc).
pub fn infer_compute(
    inst: &mut Instance,
    node: NodeId,
    consts: &[ConstData],
    diags: &mut Diagnostics,
) {
    let Node::Compute(c) = &inst.graph[node] else {
        return;
    };
    let body = c.body.clone();
    let mut st = State {
        inst,
        consts,
        local_range: HashMap::new(),
        final_range: HashMap::new(),
        local_frac: HashMap::new(),
        local_class: HashMap::new(),
        local_from_data: HashMap::new(),
        loop_ranges: HashMap::new(),
        record: false,
        errors: Vec::new(),
        warnings: Vec::new(),
        base: HashMap::new(),
        growth: HashMap::new(),
        terms: HashMap::new(),
        stores: HashMap::new(),
        store_growth: HashMap::new(),
        store_needed: HashMap::new(),
        own_stores: HashMap::new(),
        own_store_changes: HashMap::new(),
        local_changes: HashMap::new(),
        first_assign_span: HashMap::new(),
        first_accum_span: HashMap::new(),
        explicit_assign: HashMap::new(),
    };
    let mut converged = false;
    for _ in 0..MAX_ROUNDS {
        st.begin_round();
        st.block(&body, &mut Vec::new());
        if !st.errors.is_empty() {
            break;
        }
        if st.end_round() {
            converged = true;
            break;
        }
    }
    if !converged && st.errors.is_empty() {
        let grown: Vec<LocalId> = st.growing_locals();
        for l in grown {
            let local = st.inst.local(l).clone();
            st.errors.push(
                Diagnostic::error(codes::CANNOT_INFER, format!("cannot infer a type for `{}`: its range grows without bound", local.name))
                    .at(local.span)
                    .note("each pass through the loop can make the value larger (e.g. a repeated multiplication), so no width holds it")
                    .help(format!("declare its type: `{}: fixed<W, I> = ...`", local.name)),
            );
        }
    }
    if st.errors.is_empty() {
        st.record = true;
        st.begin_round();
        st.block(&body, &mut Vec::new());
        st.finish();
    }
    let State {
        errors, warnings, ..
    } = st;
    for d in errors {
        diags.push(d);
    }
    for d in warnings {
        diags.push(d);
    }
}

/// One enclosing loop during the walk: the loop and the index (in its body) of the
/// statement being visited.
struct LoopFrame<'b> {
    lp: &'b Loop,
    child: usize,
}

/// What inference knows while it walks one compute node, round after round.
struct State<'i> {
    inst: &'i mut Instance,
    consts: &'i [ConstData],
    /// Ranges of inferred exact locals as known so far in this round (reads see these).
    local_range: HashMap<LocalId, Interval>,
    /// Ranges of inferred exact locals at the end of the last round.
    final_range: HashMap<LocalId, Interval>,
    local_frac: HashMap<LocalId, i32>,
    local_class: HashMap<LocalId, Val>,
    local_from_data: HashMap<LocalId, bool>,
    loop_ranges: HashMap<LoopVarId, Interval>,
    /// Final round: write types and ranges into the instance's side tables.
    record: bool,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    // Per round:
    base: HashMap<LocalId, Interval>,
    growth: HashMap<LocalId, Interval>,
    terms: HashMap<LocalId, kiln_numeric::Int>,
    stores: HashMap<TensorId, (Val, bool)>,
    /// Per round: how far accumulating stores (`hist[x[i]] = hist[x[i]] + 1`) can move
    /// the elements of each tensor from the values stored otherwise.
    store_growth: HashMap<TensorId, Interval>,
    /// For each tensor that accumulating stores update: every value they can produce,
    /// as if its type were wide enough (what W0801 checks and sizes its suggestion by).
    store_needed: HashMap<TensorId, Interval>,
    /// Ranges of what this node stored into exact tensors, over all rounds so far: loads
    /// of a tensor the node also writes see them (`y[i] = y[i - 1] + 1`).
    own_stores: HashMap<TensorId, (Interval, i32)>,
    own_store_changes: HashMap<TensorId, u32>,
    /// How many rounds changed the range of each declared local (see `end_round`).
    local_changes: HashMap<LocalId, u32>,
    first_assign_span: HashMap<LocalId, Span>,
    first_accum_span: HashMap<LocalId, Span>,
    /// Locals whose assignments all come from explicit casts (no overflow warning).
    explicit_assign: HashMap<LocalId, bool>,
}

impl State<'_> {
    /// Reports an error once (rounds revisit the same statements).
    fn err(&mut self, d: Diagnostic) {
        if !self.errors.contains(&d) {
            self.errors.push(d);
        }
    }
}

/// How a message names a kind of value.
fn kind_name(v: &Val) -> &'static str {
    match v {
        Val::Bool => "a bool",
        Val::F32 => "an f32",
        Val::F64 => "an f64",
        Val::Exact { .. } => "an exact value",
    }
}

/// The values of either: exact ranges join; otherwise the first.
fn join_val(a: &Val, b: &Val) -> Val {
    match (a, b) {
        (
            Val::Exact {
                range: r1,
                frac: f1,
                from_data: d1,
            },
            Val::Exact {
                range: r2,
                frac: f2,
                from_data: d2,
            },
        ) => Val::exact(r1.join(r2), (*f1).max(*f2), *d1 || *d2),
        (x, _) => x.clone(),
    }
}
