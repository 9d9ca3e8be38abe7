//! Building a dense stage that consumes its input as it streams: the node of an
//! [`AccumulatePlan`] rewritten into the arrival order (ir/stage.rs shows the form), run
//! by the allocation before it schedules the stage (allocate.rs `plan`), so that the
//! stage's channel-parallel factor is chosen on the form the hardware runs.
//!
//! Before (LeNet's first dense layer, fed by a flatten that sends its vector in the
//! order `(row i, channel c, column j)`, `n = 16c + 4i + j`):
//!
//! ```text
//! for i0 in 0..64: sum = 0; for n in 0..256: sum = sum + w[i0, n] * x[n]; result[i0] = f(sum)
//! ```
//!
//! After (group P = 4):
//!
//! ```text
//! for i0_a in 0..64: sum = 0; acc[i0_a] = sum
//! for d0 in 0..4: for d1 in 0..16: for d2_g in 0..1:
//!     for d2_k in 0..4: xv[d2_k] = x[4 d0 + 16 d1 + 4 d2_g + d2_k]
//!     for i0_m in 0..64: sum = acc[i0_m]; for n_k in 0..4: sum = sum + w[i0_m, ..] * xv[n_k]; acc[i0_m] = sum
//! for i0_e in 0..64: sum = acc[i0_e]; result[i0_e] = f(sum)
//! ```
//!
//! The multiply-accumulate nest `i0_m` is an ordinary one for the allocation: P
//! channels, built at `II = P / CPF` or in channel groups.

use crate::accumulate_plan::recognize;
use crate::ir::stage::{AccumulatePlan, StagePlan};
use crate::ir::{
    Access, Affine, Expr, ExprId, Instance, Loop, LoopDirectives, LoopVarId, Node, Stmt, Tensor,
    TensorId, TensorKind, TypeReason,
};
use crate::tile::Cloner;

/// Values a group takes at most: the allocation may compute up to this many products
/// a cycle per output (a group costs as many registers; the reads cost one cycle a value
/// whatever the group).
pub const MAX_GROUP: u64 = 256;

/// Builds the plan of `inst` in place, with groups of `group` values (what
/// [`ArrivalOrder::group`](crate::ir::stage::ArrivalOrder::group) gives for some maximum).
/// `false` (and `inst` untouched) when its node no longer has the dense form or the
/// order has no such grouping.
pub fn build(inst: &mut Instance, group: u64) -> bool {
    let Some(StagePlan::Accumulate(plan)) = inst.stage.clone() else {
        return false;
    };
    if plan.built {
        return true;
    }
    let mut out = inst.clone();
    if build_node(&mut out, &plan, group).is_none() {
        return false;
    }
    out.stage = Some(StagePlan::Accumulate(AccumulatePlan {
        group,
        built: true,
        ..plan
    }));
    *inst = out;
    true
}

/// The group size the plan's order gives, at most [`MAX_GROUP`].
pub fn group_for(plan: &AccumulatePlan) -> u64 {
    plan.order.group(MAX_GROUP)
}

fn build_node(inst: &mut Instance, plan: &AccumulatePlan, group: u64) -> Option<()> {
    let d = recognize(inst, plan.input).ok()?;
    let lanes = plan.order.lanes(group);
    if plan.order.group(group) != group {
        return None;
    }
    let Node::Compute(c) = &inst.graph[d.node] else {
        return None;
    };
    let (before, out_loop) = match c.body.split_last()? {
        (Stmt::For(l), before) => (before.to_vec(), l.clone()),
        _ => return None,
    };
    let [_, Stmt::For(red), epilogue @ ..] = out_loop.body.as_slice() else {
        return None;
    };
    let (red, epilogue) = (red.clone(), epilogue.to_vec());
    let Stmt::Assign { value: update, .. } = red.body.first()? else {
        return None;
    };
    let update = *update;
    let span = out_loop.span;
    let sty = inst.local(d.sum).ty;
    let srange = inst.local(d.sum).range.clone();
    let xt = inst.tensor(plan.input).clone();
    let temp = |name: String, elem, len: usize, range| Tensor {
        name,
        elem,
        shape: vec![len],
        kind: TensorKind::Temp,
        declared: true,
        reason: TypeReason::Declared,
        range,
        partition: Vec::new(),
        stream_depth: None,
        stream_width: 1,
        bound_to: Vec::new(),
        span,
    };
    let acc = inst.add_tensor(temp("acc".into(), sty, d.outputs as usize, srange.clone()));
    let xv = inst.add_tensor(temp(
        format!("{}_v", xt.name),
        xt.elem,
        group as usize,
        xt.range.clone(),
    ));
    let o_lo = out_loop.lo.clone();
    let var_name = |inst: &Instance, v: LoopVarId| inst.loop_vars[v.index()].name.clone();
    let fresh = |inst: &mut Instance, v: LoopVarId, suffix: &str| {
        let n = format!("{}_{suffix}", var_name(inst, v));
        inst.add_loop_var(n, span)
    };
    let for_loop = |var: LoopVarId, lo: Affine, trips: u64, body: Vec<Stmt>, ii: bool| {
        Stmt::For(Loop {
            var,
            hi: lo.add_scaled(&Affine::constant(trips as i64), 1),
            lo,
            step: 1,
            body,
            directives: LoopDirectives {
                pipeline_ii: ii.then_some(1),
                ..Default::default()
            },
            span,
        })
    };
    let load = |inst: &mut Instance, t: TensorId, ix: Affine, ty, range| {
        let e = inst.add_expr(
            Expr::Load(Access {
                tensor: t,
                index: vec![ix],
                dynamic: Vec::new(),
                checked: false,
                guarded: false,
            }),
            span,
        );
        inst.expr_types[e.index()] = Some(ty);
        inst.expr_ranges[e.index()] = range;
        e
    };
    let local_expr = |inst: &mut Instance| {
        let e = inst.add_expr(Expr::Local(d.sum), span);
        inst.expr_types[e.index()] = Some(sty);
        inst.expr_ranges[e.index()] = srange.clone();
        e
    };
    let store = |t: TensorId, ix: Affine, value: ExprId| Stmt::Store {
        access: Access {
            tensor: t,
            index: vec![ix],
            dynamic: Vec::new(),
            checked: false,
            guarded: false,
        },
        value,
        span,
    };

    // Before the first value: every accumulator starts.
    let o_init = fresh(inst, d.out_var, "a");
    let init = {
        let mut cl = Cloner::new(inst, false);
        cl.substitute(d.out_var, Affine::var(o_init));
        cl.expr(d.init)
    };
    let read_sum = local_expr(inst);
    let init_loop = for_loop(
        o_init,
        o_lo.clone(),
        d.outputs,
        vec![
            Stmt::Assign {
                local: d.sum,
                value: init,
                span,
            },
            store(acc, Affine::var(o_init).add_scaled(&o_lo, -1), read_sum),
        ],
        true,
    );

    // The arrival nest: per digit of the order, a loop over the groups (its part
    // outside a group) and, inside, a loop over the group's lanes (its part inside).
    let k = plan.order.extents.len();
    let outer: Vec<LoopVarId> = (0..k)
        .map(|i| inst.add_loop_var(format!("{}_d{i}", xt.name), span))
        .collect();
    let lane_vars = |inst: &mut Instance, base: &str| -> Vec<LoopVarId> {
        (0..k)
            .map(|i| inst.add_loop_var(format!("{base}_k{i}"), span))
            .collect()
    };
    let read_lanes = lane_vars(inst, &xt.name);
    let red_name = var_name(inst, d.red_var);
    let mac_lanes = lane_vars(inst, &red_name);
    // Element n of the value at lanes `l`: digit i is `lanes[i] * outer_i + l_i`.
    let element = |l: &[LoopVarId]| {
        let mut a = Affine::constant(0);
        for i in 0..k {
            let c = plan.order.coefs[i];
            if lanes[i] < plan.order.extents[i] {
                a = a.add_scaled(&Affine::var(outer[i]), c * lanes[i] as i64);
            }
            if lanes[i] > 1 {
                a = a.add_scaled(&Affine::var(l[i]), c);
            }
        }
        a
    };
    // Its place in the group: lanes in arrival order, the fastest last.
    let slot = |l: &[LoopVarId]| {
        let mut a = Affine::constant(0);
        let mut stride = 1i64;
        for i in (0..k).rev() {
            if lanes[i] > 1 {
                a = a.add_scaled(&Affine::var(l[i]), stride);
                stride *= lanes[i] as i64;
            }
        }
        a
    };
    // A nest over the lanes (digits whose group part is 1 get no loop); `pipelined`:
    // one pipeline over all of it (the innermost loop pipelined, the others flattened
    // into it).
    let lane_nest = |l: &[LoopVarId], body: Vec<Stmt>, pipelined: bool| -> Vec<Stmt> {
        let mut b = body;
        let mut first = true;
        for i in (0..k).rev() {
            if lanes[i] > 1 {
                let mut lp = for_loop(l[i], Affine::constant(0), lanes[i], b, pipelined && first);
                if let (Stmt::For(inner), true) = (
                    match &mut lp {
                        Stmt::For(outer) => &mut outer.body[0],
                        other => other,
                    },
                    pipelined && !first,
                ) {
                    inner.directives.flatten = true;
                }
                b = vec![lp];
                first = false;
            }
        }
        b
    };
    let x_load = load(
        inst,
        plan.input,
        element(&read_lanes),
        xt.elem,
        xt.range.clone(),
    );
    let read_group = lane_nest(
        &read_lanes,
        vec![store(xv, slot(&read_lanes), x_load)],
        true,
    );
    // The multiply-accumulate nest over the outputs.
    let o_mac = fresh(inst, d.out_var, "m");
    let start = load(
        inst,
        acc,
        Affine::var(o_mac).add_scaled(&o_lo, -1),
        sty,
        srange.clone(),
    );
    let step = {
        let mut cl = Cloner::new(inst, false);
        cl.substitute(d.out_var, Affine::var(o_mac));
        cl.substitute(d.red_var, element(&mac_lanes));
        cl.expr(update)
    };
    let lane_slot = slot(&mac_lanes);
    // The input's values come from the group's registers.
    let mut loads: Vec<ExprId> = Vec::new();
    inst.for_each_subexpr_id(step, &mut |id, e| {
        if matches!(e, Expr::Load(a) if a.tensor == plan.input) {
            loads.push(id);
        }
    });
    for id in loads {
        inst.exprs[id.index()] = Expr::Load(Access {
            tensor: xv,
            index: vec![lane_slot.clone()],
            dynamic: Vec::new(),
            checked: false,
            guarded: false,
        });
    }
    let after = local_expr(inst);
    let mac = for_loop(
        o_mac,
        o_lo.clone(),
        d.outputs,
        vec![Stmt::Assign {
            local: d.sum,
            value: start,
            span,
        }]
        .into_iter()
        .chain(lane_nest(
            &mac_lanes,
            vec![Stmt::Assign {
                local: d.sum,
                value: step,
                span: red.span,
            }],
            false,
        ))
        .chain([store(acc, Affine::var(o_mac).add_scaled(&o_lo, -1), after)])
        .collect(),
        false,
    );
    let mut nest = read_group;
    nest.push(mac);
    for i in (0..k).rev() {
        let trips = plan.order.extents[i] / lanes[i];
        if trips > 1 {
            nest = vec![for_loop(outer[i], Affine::constant(0), trips, nest, false)];
        }
    }

    // After the last value: every output from its accumulator.
    let o_epi = fresh(inst, d.out_var, "e");
    let finish = load(
        inst,
        acc,
        Affine::var(o_epi).add_scaled(&o_lo, -1),
        sty,
        srange,
    );
    let tail = {
        let mut cl = Cloner::new(inst, true);
        cl.substitute(d.out_var, Affine::var(o_epi));
        cl.block(&epilogue)
    };
    let mut epi_body = vec![Stmt::Assign {
        local: d.sum,
        value: finish,
        span,
    }];
    epi_body.extend(tail);
    let epi_loop = for_loop(o_epi, o_lo, d.outputs, epi_body, true);

    let mut body = before;
    body.push(init_loop);
    body.extend(nest);
    body.push(epi_loop);
    let Node::Compute(c) = &mut inst.graph[d.node] else {
        return None;
    };
    c.body = body;
    for t in [acc, xv] {
        c.reads.push(t);
        c.writes.push(t);
    }
    Some(())
}
