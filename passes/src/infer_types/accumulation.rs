//! Accumulations in the IR: `acc = acc + e1 - e2 ...` into a local, and
//! `t[a] = t[a] + e1 ...` into a tensor element, split into their terms (pure functions of
//! the IR; `accumulation_parts` is part of the crate's API). How far an accumulation grows
//! is stmts.rs's business.

use crate::ir::*;

/// If `value` is `l + e1 - e2 + ...` with `l` appearing once, positively, and the `e`s not
/// reading `l`: the `e`s with their signs.
pub fn accumulation_parts(
    inst: &Instance,
    value: ExprId,
    l: LocalId,
) -> Option<Vec<(ExprId, i32)>> {
    split_accumulation(
        inst,
        value,
        |e| matches!(inst.expr(e), Expr::Local(x) if *x == l),
        |e| reads_local(inst, e, l),
    )
}

/// The terms of `value = acc + e1 - e2 ...` other than the accumulator (which `is_acc`
/// recognizes: exactly one term, added), when none of them `reads_acc`.
fn split_accumulation(
    inst: &Instance,
    value: ExprId,
    is_acc: impl Fn(ExprId) -> bool,
    reads_acc: impl Fn(ExprId) -> bool,
) -> Option<Vec<(ExprId, i32)>> {
    let mut terms = Vec::new();
    collect_terms(inst, value, 1, &mut terms);
    let mut found = false;
    let mut parts = Vec::new();
    for (e, sign) in terms {
        if is_acc(e) {
            if found || sign < 0 {
                return None;
            }
            found = true;
        } else if reads_acc(e) {
            return None;
        } else {
            parts.push((e, sign));
        }
    }
    (found && !parts.is_empty()).then_some(parts)
}

fn collect_terms(inst: &Instance, e: ExprId, sign: i32, out: &mut Vec<(ExprId, i32)>) {
    match inst.expr(e) {
        Expr::Binary(BinOp::Add, a, b) => {
            collect_terms(inst, *a, sign, out);
            collect_terms(inst, *b, sign, out);
        }
        Expr::Binary(BinOp::Sub, a, b) => {
            collect_terms(inst, *a, sign, out);
            collect_terms(inst, *b, -sign, out);
        }
        _ => out.push((e, sign)),
    }
}

/// The terms (with their signs) of a store's value `t[a] + e1 - e2 ...` that accumulates
/// into tensor `t`: exactly one added load of `t` (at any index, not itself computed from
/// `t`) and terms that do not read `t`.
pub(super) fn tensor_accumulation_parts(
    inst: &Instance,
    value: ExprId,
    t: TensorId,
) -> Option<Vec<(ExprId, i32)>> {
    let reads_t = |e: ExprId| {
        let mut found = false;
        inst.for_each_subexpr(e, &mut |x| {
            found |= matches!(x, Expr::Load(a) if a.tensor == t)
        });
        found
    };
    split_accumulation(
        inst,
        value,
        |e| matches!(inst.expr(e), Expr::Load(a) if a.tensor == t && a.dynamic_exprs().all(|d| !reads_t(d))),
        reads_t,
    )
}

fn reads_local(inst: &Instance, e: ExprId, l: LocalId) -> bool {
    if matches!(inst.expr(e), Expr::Local(x) if *x == l) {
        return true;
    }
    expr_operands(inst.expr(e))
        .into_iter()
        .any(|o| reads_local(inst, o, l))
}
