//! Whether a dense stage can consume its input vector value by value as it streams, in
//! which order the values come, and whether adding its products in that order gives the
//! program's result bit for bit (the rules are in passes/src/ir/stage.rs,
//! [`AccumulatePlan`]; the `stream` pass stores the answer, the allocation builds it,
//! transform/accumulate.rs).
//!
//! A dense stage is one compute node whose last statement is the output loop
//!
//! ```text
//! for o in 0..M:
//!     s = init                      # reads neither the input nor a local
//!     for n in 0..N:
//!         s = s + term              # reads the input only as x[n]
//!     epilogue                      # reads s, never the input
//! ```
//!
//! The order is the producer's: a row stage whose flat result (a flatten's vector) is
//! written by one unconditional store in its row nest sends it in the order that nest
//! runs (its row loop outermost, [`flat_order`]); anything else sends row-major. In
//! row-major order each accumulator adds its products as the program does. In another
//! order it adds the same products in another order, which is exact only when no partial
//! sum can round or overflow: the accumulator is fixed point, the products have no more
//! fractional bits than it, and every sum of any subset of the products (plus the start
//! value) fits its range ([`exact_in_any_order`], with the weights' values where the
//! products are a constant tensor times a value).

use crate::ir::stage::{AccumulatePlan, ArrivalOrder, RowPlan};
use crate::ir::{
    walk_stmts, Affine, BinOp, Block, Expr, ExprId, Instance, LocalId, LoopVarId, Module, Node,
    NodeId, Stmt, TensorId, TensorKind, Value,
};
use kiln_numeric::fixed::Fx;
use kiln_numeric::interval::Interval;

/// A recognized dense node (see the module documentation).
#[derive(Clone, Debug)]
pub struct Dense {
    pub node: NodeId,
    pub input: TensorId,
    pub out_var: LoopVarId,
    pub outputs: u64,
    pub sum: LocalId,
    pub init: ExprId,
    pub red_var: LoopVarId,
    pub n: u64,
    /// The product added each step (`s = s + term`).
    pub term: ExprId,
}

/// The plan of a dense stage fed `input` in `order`, or why it keeps its whole input.
pub fn plan_accumulate(
    module: &Module,
    inst: &Instance,
    input: TensorId,
    order: &ArrivalOrder,
) -> Result<AccumulatePlan, String> {
    let d = recognize(inst, input)?;
    if !order.is_row_major() {
        exact_in_any_order(module, inst, &d)?;
    }
    Ok(AccumulatePlan {
        node: d.node,
        input,
        order: order.clone(),
        group: 1,
        built: false,
    })
}

/// The dense node of `inst` that reads `input`, or why there is none.
pub fn recognize(inst: &Instance, input: TensorId) -> Result<Dense, String> {
    let tm = inst.tensor(input);
    if tm.shape.len() != 1 || !inst.inputs.contains(&input) || inst.outputs.contains(&input) {
        return Err(format!(
            "its input `{}` is not a vector it only reads",
            tm.name
        ));
    }
    let computes = inst.computes();
    let [(node, c)] = computes.as_slice() else {
        return Err("it has more than one compute node".into());
    };
    if crate::ir::has_call(&c.body) {
        return Err("it calls another kernel".into());
    }
    if !crate::analysis::bin_reduction::find(inst, &c.body).is_empty() {
        // kernel/lowbit.rs: XNOR/popcount over packed words of the whole input.
        return Err(
            "its binary/ternary reduction is computed over packed words of its whole input".into(),
        );
    }
    let Some((Stmt::For(out), before)) = c.body.split_last() else {
        return Err("its last statement is not a loop over outputs".into());
    };
    if before.iter().any(|s| stmt_reads(inst, s, input)) {
        return Err(format!("it reads `{}` before its output loop", tm.name));
    }
    let outputs = const_trips(out)
        .filter(|_| out.step == 1)
        .ok_or("its output loop has no constant bounds")?;
    let (init_stmt, red, epilogue) = match out.body.as_slice() {
        [Stmt::Assign { local, value, .. }, Stmt::For(red), rest @ ..] => {
            ((*local, *value), red, rest)
        }
        _ => return Err("its output loop is not `s = ...; for n: s = s + ...; ...`".into()),
    };
    let (sum, init) = init_stmt;
    let mut init_reads_local = false;
    inst.for_each_subexpr(init, &mut |e| {
        init_reads_local |= matches!(e, Expr::Local(_));
    });
    if init_reads_local || expr_reads(inst, init, input) {
        return Err("its accumulator starts from a value computed in the loop".into());
    }
    let n = const_trips(red).ok_or("its reduction loop has no constant bounds")?;
    if red.lo.as_constant() != Some(0) || red.step != 1 || n != tm.shape[0] as u64 {
        return Err(format!(
            "its reduction loop does not run over `{}` from 0 in steps of 1",
            tm.name
        ));
    }
    let [Stmt::Assign {
        local,
        value: update,
        ..
    }] = red.body.as_slice()
    else {
        return Err("its reduction loop is not a single `s = s + ...`".into());
    };
    if *local != sum {
        return Err("its reduction loop updates another local".into());
    }
    let term = match inst.expr(*update) {
        Expr::Binary(BinOp::Add, a, b) => match (inst.expr(*a), inst.expr(*b)) {
            (Expr::Local(l), _) if *l == sum => *b,
            (_, Expr::Local(l)) if *l == sum => *a,
            _ => return Err("its reduction is not `s = s + ...`".into()),
        },
        _ => return Err("its reduction is not `s = s + ...`".into()),
    };
    let mut bad = false;
    inst.for_each_subexpr(term, &mut |e| match e {
        Expr::Local(_) => bad = true,
        Expr::Load(a) if a.tensor == input => {
            bad |= !a.dynamic.iter().all(Option::is_none)
                || a.index.as_slice() != [Affine::var(red.var)];
        }
        _ => {}
    });
    if bad {
        return Err(format!(
            "its products read `{}` other than at the reduction's index, or read a local",
            tm.name
        ));
    }
    if epilogue.iter().any(|s| stmt_reads(inst, s, input)) {
        return Err(format!("it reads `{}` after its reduction", tm.name));
    }
    let mut writes_sum = false;
    walk_stmts(epilogue, &mut Vec::new(), &mut |s, _| {
        writes_sum |= matches!(s, Stmt::Assign { local, .. } if *local == sum);
    });
    if writes_sum {
        return Err("its epilogue changes the accumulator".into());
    }
    Ok(Dense {
        node: *node,
        input,
        out_var: out.var,
        outputs,
        sum,
        init,
        red_var: red.var,
        n,
        term,
    })
}

/// Whether adding the products of `d` in any order gives the program's sum (see the
/// module documentation), or why not.
pub fn exact_in_any_order(module: &Module, inst: &Instance, d: &Dense) -> Result<(), String> {
    let sty = inst.local(d.sum).ty;
    let acc = || format!("its accumulator `{}`: {sty}", inst.local(d.sum).name);
    let Some(sfrac) = sty.frac_bits() else {
        return Err(format!(
            "its products arrive out of order and {} rounds differently in another order",
            acc()
        ));
    };
    let Some(range) = Interval::of_type(&sty) else {
        return Err(format!("{} has no range", acc()));
    };
    let tty = inst.expr_type(d.term).copied();
    match tty.and_then(|t| t.frac_bits()) {
        Some(f) if f <= sfrac => {}
        _ => {
            return Err(format!(
                "its products arrive out of order and {} rounds them",
                acc()
            ))
        }
    }
    let start = inst.expr_ranges[d.init.index()]
        .clone()
        .filter(|r| range.contains_interval(r))
        .unwrap_or_else(|| range.clone());
    let zero = Fx::zero();
    let fits = |pos: &Fx, neg: &Fx| {
        // The largest and smallest subset sums, from the start value.
        let hi = start.hi.add(pos);
        let lo = start.lo.add(neg);
        range.contains(&hi) && range.contains(&lo)
    };
    let overflow = || {
        Err(format!(
            "its products arrive out of order and a partial sum in that order could overflow {}",
            acc()
        ))
    };
    // Products of a constant weight and a value: per output, the positive and negative
    // weights bound the sums.
    if let Some((tensor, index, other)) = weight_times_value(inst, d) {
        let Some(r) = inst.expr_ranges[other.index()].clone() else {
            return overflow();
        };
        let TensorKind::Const(cid) = inst.tensor(tensor).kind else {
            return overflow();
        };
        let data = &module.consts[cid.index()];
        let strides = crate::data::strides(&data.shape);
        for o in 0..d.outputs as i64 {
            let (mut wpos, mut wneg) = (zero.clone(), zero.clone());
            for n in 0..d.n as i64 {
                let value_of = |v: LoopVarId| {
                    if v == d.out_var {
                        o + out_lo(inst, d)
                    } else {
                        n
                    }
                };
                let mut flat = 0usize;
                for (ix, st) in index.iter().zip(&strides) {
                    flat += ix.eval(value_of).max(0) as usize * st;
                }
                let Some(Value::Num(c)) = data.values.get(flat) else {
                    return overflow();
                };
                if *c > zero {
                    wpos = wpos.add(c);
                } else {
                    wneg = wneg.add(c);
                }
            }
            // Subset sums of c * x for x in r: positive weights times the largest
            // positive value, negative weights times the most negative, and so on.
            let rhi = r.hi.clone().max(zero.clone());
            let rlo = r.lo.clone().min(zero.clone());
            let pos = wpos.mul(&rhi).add(&wneg.mul(&rlo));
            let neg = wpos.mul(&rlo).add(&wneg.mul(&rhi));
            if !fits(&pos, &neg) {
                return overflow();
            }
        }
        return Ok(());
    }
    // Otherwise from the range of one product.
    let Some(t) = inst.expr_ranges[d.term.index()].clone() else {
        return overflow();
    };
    let n = Fx::int(d.n as i128);
    let pos = t.hi.clone().max(zero.clone()).mul(&n);
    let neg = t.lo.clone().min(zero).mul(&n);
    if fits(&pos, &neg) {
        Ok(())
    } else {
        overflow()
    }
}

/// A product `w[...] * v` (either order, possibly under conversions that keep its
/// value) where `w` is a constant tensor indexed by the output and reduction variables
/// only: `(w, its index, v)`.
fn weight_times_value(inst: &Instance, d: &Dense) -> Option<(TensorId, Vec<Affine>, ExprId)> {
    let mut e = d.term;
    while let Expr::Cast { arg, .. } = inst.expr(e) {
        // A conversion that keeps every value of its argument.
        let (Some(to), Some(r)) = (inst.expr_type(e), inst.expr_ranges[arg.index()].as_ref())
        else {
            return None;
        };
        let from_frac = inst.expr_type(*arg).and_then(|t| t.frac_bits())?;
        let keeps = to.frac_bits().is_some_and(|f| f >= from_frac)
            && Interval::of_type(to).is_some_and(|t| t.contains_interval(r));
        if !keeps {
            return None;
        }
        e = *arg;
    }
    let Expr::Binary(BinOp::Mul, a, b) = inst.expr(e) else {
        return None;
    };
    let weight = |x: ExprId| match inst.expr(x) {
        Expr::Load(acc)
            if acc.dynamic.iter().all(Option::is_none)
                && matches!(inst.tensor(acc.tensor).kind, TensorKind::Const(_))
                && acc.index.iter().all(|ix| {
                    ix.terms
                        .iter()
                        .all(|(v, _)| *v == d.out_var || *v == d.red_var)
                }) =>
        {
            Some((acc.tensor, acc.index.clone()))
        }
        _ => None,
    };
    match (weight(*a), weight(*b)) {
        (Some((w, ix)), _) => Some((w, ix, *b)),
        (_, Some((w, ix))) => Some((w, ix, *a)),
        _ => None,
    }
}

/// The first value of the dense node's output loop.
fn out_lo(inst: &Instance, d: &Dense) -> i64 {
    let Node::Compute(c) = &inst.graph[d.node] else {
        return 0;
    };
    match c.body.last() {
        Some(Stmt::For(l)) => l.lo.as_constant().unwrap_or(0),
        _ => 0,
    }
}

/// The order in which a row stage's flat result leaves when it is sent value by value as
/// its last node stores it: the row loop outermost (rows are made in order), then the
/// loops around the store in nest order. `None` when the store is not one unconditional
/// store with an index affine in constant-bound loops, or the order misses an element.
pub fn flat_order(inst: &Instance, plan: &RowPlan) -> Option<ArrivalOrder> {
    if !plan.flat_output {
        return None;
    }
    let last = plan.nodes.last()?;
    let Node::Compute(c) = &inst.graph[last.node] else {
        return None;
    };
    let n = inst.tensor(plan.output).len() as u64;
    if inst.tensor(plan.output).shape.len() != 1 {
        return None;
    }
    // The one store of the result, and the loops around it.
    let mut found: Vec<(Vec<LoopSpec>, Affine)> = Vec::new();
    let mut conditional = false;
    fn walk(
        b: &Block,
        out: TensorId,
        loops: &mut Vec<LoopSpec>,
        under_if: bool,
        found: &mut Vec<(Vec<LoopSpec>, Affine)>,
        conditional: &mut bool,
    ) -> Option<()> {
        for s in b {
            match s {
                Stmt::For(l) => {
                    let trips = const_trips(l)?;
                    loops.push(LoopSpec {
                        var: l.var,
                        lo: l.lo.as_constant()?,
                        step: l.step,
                        trips,
                    });
                    walk(&l.body, out, loops, under_if, found, conditional)?;
                    loops.pop();
                }
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    walk(then_block, out, loops, true, found, conditional)?;
                    walk(else_block, out, loops, true, found, conditional)?;
                }
                Stmt::Store { access, .. } if access.tensor == out => {
                    if under_if || access.dynamic.iter().any(Option::is_some) {
                        *conditional = true;
                    }
                    found.push((loops.clone(), access.index.first()?.clone()));
                }
                _ => {}
            }
        }
        Some(())
    }
    walk(
        &c.body,
        plan.output,
        &mut Vec::new(),
        false,
        &mut found,
        &mut conditional,
    )?;
    let [(loops, index)] = found.as_slice() else {
        return None;
    };
    if conditional || last.prologue >= c.body.len() {
        return None;
    }
    // Digits: the row loop first, then the others in nest order; an index `c * var`
    // with `var = lo + step * digit` is `c * step * digit` plus a constant.
    let row = loops.iter().find(|l| l.var == last.row_var)?;
    let mut extents = vec![row.trips];
    let mut coefs = vec![index.coeff(row.var) * row.step];
    let mut constant = index.constant + index.coeff(row.var) * row.lo;
    for l in loops.iter().filter(|l| l.var != last.row_var) {
        extents.push(l.trips);
        coefs.push(index.coeff(l.var) * l.step);
        constant += index.coeff(l.var) * l.lo;
    }
    if index
        .terms
        .iter()
        .any(|(v, c)| *c != 0 && !loops.iter().any(|l| l.var == *v))
        || constant != 0
    {
        return None;
    }
    let order = ArrivalOrder { extents, coefs };
    order.is_permutation_of(n).then_some(order)
}

#[derive(Clone, Debug)]
struct LoopSpec {
    var: LoopVarId,
    lo: i64,
    step: i64,
    trips: u64,
}

fn const_trips(l: &crate::ir::Loop) -> Option<u64> {
    (l.step != 0)
        .then(|| crate::autoschedule::trips(l))
        .flatten()
}

fn expr_reads(inst: &Instance, e: ExprId, t: TensorId) -> bool {
    let mut loads = Vec::new();
    inst.loads_in(e, &mut loads);
    loads.iter().any(|a| a.tensor == t)
}

fn stmt_reads(inst: &Instance, s: &Stmt, t: TensorId) -> bool {
    let mut found = false;
    walk_stmts(std::slice::from_ref(s), &mut Vec::new(), &mut |s, _| {
        for r in crate::ir::stmt_roots(s) {
            found |= expr_reads(inst, r, t);
        }
    });
    found
}
