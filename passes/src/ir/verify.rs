//! Pass `verify`: checks the IR invariants. Runs after every pass in tests and debug builds.
//!
//! Invariants checked, per instance:
//! 1. every handle (tensor, local, loop variable, expression, constant, callee) is in range;
//! 2. expressions form trees: every expression has exactly one user;
//! 3. every expression reachable from a statement has a type (after inference), every
//!    local and every tensor has a non-pending type;
//! 4. accesses have one index per dimension, and their loop variables are bound by
//!    enclosing loops; loop steps are non-zero;
//! 5. stores write only temporaries (never inputs or constants);
//! 6. each compute node's `reads` / `writes` are exactly the tensors its body loads and
//!    stores;
//! 7. the graph is acyclic, and every tensor a node reads is produced (by an input, a
//!    constant, or an earlier node) before it in schedule order;
//! 8. calls pass as many arguments as the callee has inputs, with the same shapes and
//!    element types, and receive its outputs' shapes and types;
//! 9. there is one output node per output tensor, in order;
//! 10. values assigned to inferred locals and tensors fit their types without rounding;
//! 11. stream words (ir/mod.rs, "Stream words"): a width is a power of two dividing the
//!     channels of an image; a width above 1 sits only on a FIFO between two calls of a
//!     network top and on the callee ports bound to it, with the same width on both
//!     sides; the entry's own ports have width 1.
//!
//! The verifier destructures IR types without `..` where a new field should make it think.

use crate::ir::*;
use kiln_numeric::ScalarType;
use std::collections::{HashMap, HashSet};

/// Checks a module; returns the violations (empty when valid).
pub fn verify_module(m: &Module, typed: bool) -> Vec<String> {
    let Module {
        instances,
        entry,
        consts: _,
        schedules: _,
    } = m;
    let mut errs = Vec::new();
    for inst in instances {
        verify_instance(m, inst, typed, &mut errs);
        verify_stream_words(m, inst, &mut errs);
    }
    if let Some(e) = *entry {
        if e.index() >= instances.len() {
            errs.push(format!("entry {e:?} out of range"));
        }
    }
    errs
}

fn verify_instance(m: &Module, inst: &Instance, typed: bool, errs: &mut Vec<String>) {
    let Instance {
        name,
        kernel: _,
        bindings: _,
        span: _,
        graph,
        tensors,
        inputs: _, // verify_tensors
        outputs,
        locals: _, // verify_tensors
        loop_vars,
        exprs,
        expr_types,
        expr_ranges,
        expr_spans,
        stage,
        ddr_weights,
    } = inst;
    let mut err = |s: String| errs.push(format!("{name}: {s}"));
    if let Some(crate::ir::stage::StagePlan::Rows(plan)) = stage {
        verify_row_plan(inst, plan, &mut err);
    }
    for &(p, c) in ddr_weights {
        let ok = inst.inputs.get(p).is_some_and(|&t| {
            let (tm, cd) = (&tensors[t.index()], m.consts.get(c.index()));
            cd.is_some_and(|cd| cd.elem == tm.elem && cd.shape == tm.shape)
        });
        if !ok {
            err(format!(
                "DDR weight parameter {p} is not an input of its constant's type and shape"
            ));
        }
    }
    if expr_types.len() != exprs.len()
        || expr_ranges.len() != exprs.len()
        || expr_spans.len() != exprs.len()
    {
        err("side tables out of step with the expression arena".into());
        return;
    }
    verify_tensors(m, inst, typed, &mut err);
    // Schedule: every node scheduled (acyclic).
    let order = inst.schedule();
    if order.len() != graph.node_count() {
        err("the graph has a cycle".into());
        return;
    }
    // Declared tensors exist (uninitialized) from the start; reading one before it is
    // written is a run-time error, not an IR error.
    let mut produced: HashSet<TensorId> = tensors
        .iter()
        .enumerate()
        .filter(|(_, t)| t.declared && t.kind == TensorKind::Temp)
        .map(|(i, _)| TensorId(i as u32))
        .collect();
    let mut users: HashMap<ExprId, usize> = HashMap::new();
    let mut output_nodes = Vec::new();
    for n in &order {
        match &graph[*n] {
            Node::Input { tensor, param: _ } | Node::Const { tensor } => {
                produced.insert(*tensor);
            }
            Node::Output { tensor, index } => {
                if !produced.contains(tensor) {
                    err(format!(
                        "output {index} reads %{} before it is produced",
                        tensor.0
                    ));
                }
                output_nodes.push((*index, *tensor));
            }
            Node::Call(call) => verify_call(m, inst, call, &mut produced, &mut err),
            Node::Compute(c) => verify_compute(inst, c, &mut produced, &mut users, typed, &mut err),
        }
    }
    for (e, n) in &users {
        if *n != 1 {
            err(format!("expression {e:?} has {n} users"));
        }
    }
    output_nodes.sort();
    if output_nodes.len() != outputs.len()
        || output_nodes
            .iter()
            .enumerate()
            .any(|(i, (k, t))| i != *k || outputs[i] != *t)
    {
        err("output nodes do not match the output list".into());
    }
    let _ = loop_vars;
}

/// Tensors, inputs and locals of an instance: partitions, FIFO depths, constant data,
/// inferred types.
fn verify_tensors(m: &Module, inst: &Instance, typed: bool, err: &mut dyn FnMut(String)) {
    let (tensors, inputs, locals) = (&inst.tensors, &inst.inputs, &inst.locals);
    for (i, t) in tensors.iter().enumerate() {
        let Tensor {
            name: tn,
            elem,
            shape,
            kind,
            declared: _,
            reason,
            range: _,
            partition,
            stream_depth,
            stream_width,
            bound_to: _,
            span: _,
        } = t;
        if *stream_depth == Some(0) {
            err(format!("%{i} {tn}: a FIFO of depth 0"));
        }
        if !stream_width.is_power_of_two() {
            err(format!(
                "%{i} {tn}: a stream word of {stream_width} values (not a power of two)"
            ));
        } else if *stream_width > 1 && (shape.len() != 3 || shape[0] % *stream_width as usize != 0)
        {
            err(format!(
                "%{i} {tn}: a stream word of {stream_width} channels on {shape:?} (not an image whose channels it divides)"
            ));
        }
        for pt in partition {
            if pt.dim >= shape.len() {
                err(format!(
                    "%{i} {tn}: partition of dimension {} of a rank-{} tensor",
                    pt.dim,
                    shape.len()
                ));
            }
        }
        if let TensorKind::Const(c) = kind {
            match m.consts.get(c.index()) {
                None => err(format!("%{i} {tn}: const {c:?} out of range")),
                Some(d) => {
                    if d.shape != *shape || d.values.len() != t.len() {
                        err(format!(
                            "%{i} {tn}: const shape {:?} vs tensor {shape:?}",
                            d.shape
                        ));
                    }
                }
            }
        }
        if typed && *reason == TypeReason::Pending {
            err(format!("%{i} {tn}: type never inferred ({elem})"));
        }
    }
    for (k, &t) in inputs.iter().enumerate() {
        if t.index() >= tensors.len() || tensors[t.index()].kind != TensorKind::Input(k) {
            err(format!("input {k} is not an input tensor"));
        }
    }
    if typed {
        for l in locals {
            if l.reason == TypeReason::Pending {
                err(format!("local {} never typed", l.name));
            }
        }
    }
}

/// A call node: its callee exists and its arguments and results match the callee's
/// ports; its arguments are produced before it.
fn verify_call(
    m: &Module,
    inst: &Instance,
    call: &Call,
    produced: &mut HashSet<TensorId>,
    err: &mut dyn FnMut(String),
) {
    let Call {
        callee,
        args,
        results,
        span: _,
    } = call;
    let tensors = &inst.tensors;

    let Some(ci) = m.instances.get(callee.index()) else {
        err(format!("call to missing instance {callee:?}"));
        return;
    };
    if args.len() != ci.inputs.len() {
        err(format!(
            "call to {} passes {} args for {} inputs",
            ci.name,
            args.len(),
            ci.inputs.len()
        ));
    }
    for (a, p) in args.iter().zip(&ci.inputs) {
        let (at, pt) = (&tensors[a.index()], ci.tensor(*p));
        if at.shape != pt.shape || at.elem != pt.elem {
            err(format!(
                "call to {}: arg {} is {}{:?}, param {} is {}{:?}",
                ci.name, at.name, at.elem, at.shape, pt.name, pt.elem, pt.shape
            ));
        }
        if !produced.contains(a) {
            err(format!(
                "call to {} reads %{} before it is produced",
                ci.name, a.0
            ));
        }
    }
    if results.len() != ci.outputs.len() {
        err(format!(
            "call to {} binds {} results of {}",
            ci.name,
            results.len(),
            ci.outputs.len()
        ));
    }
    for (r, o) in results.iter().zip(&ci.outputs) {
        let (rt, ot) = (&tensors[r.index()], ci.tensor(*o));
        if rt.shape != ot.shape || rt.elem != ot.elem {
            err(format!(
                "call to {}: result {} is {}{:?}, output is {}{:?}",
                ci.name, rt.name, rt.elem, rt.shape, ot.elem, ot.shape
            ));
        }
        produced.insert(*r);
    }
}

/// A compute node: its reads/writes lists match its body, what it reads is produced
/// before it, it stores only into temporaries, and its statements are well formed.
fn verify_compute(
    inst: &Instance,
    compute: &Compute,
    produced: &mut HashSet<TensorId>,
    users: &mut HashMap<ExprId, usize>,
    typed: bool,
    err: &mut dyn FnMut(String),
) {
    let Compute {
        name: cn,
        body,
        reads,
        writes,
        span: _,
    } = compute;
    let tensors = &inst.tensors;

    let (r, w) = block_accesses(inst, body);
    let same = |a: &[TensorId], b: &[TensorId]| {
        a.iter().collect::<HashSet<_>>() == b.iter().collect::<HashSet<_>>()
    };
    if !same(&r, reads) || !same(&w, writes) {
        err(format!(
            "node {cn}: reads/writes lists do not match its body"
        ));
    }
    for t in &r {
        if !produced.contains(t) && !w.contains(t) {
            err(format!(
                "node {cn} reads %{} ({}) before anything produces it",
                t.0,
                tensors[t.index()].name
            ));
        }
    }
    for t in &w {
        if !matches!(tensors[t.index()].kind, TensorKind::Temp) {
            err(format!(
                "node {cn} stores into {} which is an input or a constant",
                tensors[t.index()].name
            ));
        }
        produced.insert(*t);
    }
    let mut bound = Vec::new();
    verify_block(inst, body, &mut bound, users, typed, &mut |s| {
        errs_push(err, cn, s)
    });
}

fn errs_push(err: &mut dyn FnMut(String), node: &str, s: String) {
    err(format!("node {node}: {s}"));
}

fn verify_block(
    inst: &Instance,
    b: &Block,
    bound: &mut Vec<LoopVarId>,
    users: &mut HashMap<ExprId, usize>,
    typed: bool,
    err: &mut dyn FnMut(String),
) {
    for s in b {
        match s {
            Stmt::For(Loop {
                var,
                lo,
                hi,
                step,
                body,
                directives: _,
                span: _,
            }) => {
                if *step == 0 {
                    err("loop with step 0".into());
                }
                for a in [lo, hi] {
                    check_affine(a, bound, inst, err);
                }
                if var.index() >= inst.loop_vars.len() {
                    err(format!("loop variable {var:?} out of range"));
                }
                bound.push(*var);
                verify_block(inst, body, bound, users, typed, err);
                bound.pop();
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                verify_expr(inst, *cond, bound, users, typed, err);
                if typed && inst.expr_type(*cond) != Some(&ScalarType::Bool) {
                    err("an `if` condition is not a bool".into());
                }
                verify_block(inst, then_block, bound, users, typed, err);
                verify_block(inst, else_block, bound, users, typed, err);
            }
            Stmt::Assign {
                local,
                value,
                span: _,
            } => {
                if local.index() >= inst.locals.len() {
                    err(format!("local {local:?} out of range"));
                    continue;
                }
                verify_expr(inst, *value, bound, users, typed, err);
                let l = inst.local(*local);
                if typed && !l.declared {
                    check_fits(inst, *value, &l.ty, &l.name, err);
                }
            }
            Stmt::Store {
                access,
                value,
                span: _,
            } => {
                check_access(inst, access, bound, err);
                verify_expr(inst, *value, bound, users, typed, err);
                for d in access.dynamic_exprs() {
                    verify_expr(inst, d, bound, users, typed, err);
                }
                let t = inst.tensor(access.tensor);
                if typed && !t.declared {
                    check_fits(inst, *value, &t.elem, &t.name, err);
                }
            }
            Stmt::Fail { .. } => {}
            Stmt::Call(c) => {
                for &t in c.args.iter().chain(&c.results) {
                    if t.index() >= inst.tensors.len() {
                        err(format!(
                            "call to instance {:?}: tensor {t:?} out of range",
                            c.callee
                        ));
                    }
                }
            }
        }
    }
}

/// A value stored into an inferred target must not need conversion.
fn check_fits(
    inst: &Instance,
    value: ExprId,
    target: &ScalarType,
    name: &str,
    err: &mut dyn FnMut(String),
) {
    let Some(vt) = inst.expr_type(value) else {
        return;
    };
    let ok = match (vt.value_bounds(), target.value_bounds()) {
        (Some((vlo, vhi)), Some((tlo, thi))) => {
            let vf = vt.frac_bits().unwrap_or(0);
            let tf = target.frac_bits().unwrap_or(0);
            // The value's actual range may be narrower than its type: use it when known.
            let (vlo, vhi) = match &inst.expr_ranges[value.index()] {
                Some(r) => (r.lo.clone(), r.hi.clone()),
                None => (vlo, vhi),
            };
            vf <= tf && tlo <= vlo && vhi <= thi
        }
        (None, None) => vt == target,
        _ => false,
    };
    if !ok {
        err(format!(
            "value of type {vt} does not fit inferred {name}: {target}"
        ));
    }
}

fn check_affine(a: &Affine, bound: &[LoopVarId], inst: &Instance, err: &mut dyn FnMut(String)) {
    for (v, _) in &a.terms {
        if v.index() >= inst.loop_vars.len() {
            err(format!("loop variable {v:?} out of range"));
        } else if !bound.contains(v) {
            err(format!(
                "loop variable {} used outside its loop",
                inst.loop_vars[v.index()].name
            ));
        }
    }
}

fn check_access(inst: &Instance, a: &Access, bound: &[LoopVarId], err: &mut dyn FnMut(String)) {
    let Some(t) = inst.tensors.get(a.tensor.index()) else {
        err(format!("tensor {:?} out of range", a.tensor));
        return;
    };
    if a.index.len() != t.shape.len() {
        err(format!(
            "{} has rank {} but is accessed with {} indices",
            t.name,
            t.shape.len(),
            a.index.len()
        ));
    }
    for i in &a.index {
        check_affine(i, bound, inst, err);
    }
    if !a.dynamic.is_empty() && a.dynamic.len() != a.index.len() {
        err(format!(
            "{} has {} data-dependent index slots for {} indices",
            t.name,
            a.dynamic.len(),
            a.index.len()
        ));
    }
    for d in a.dynamic_exprs() {
        if d.index() >= inst.exprs.len() {
            err(format!(
                "a data-dependent index into {} is out of range",
                t.name
            ));
            continue;
        }
        if let Some(ty) = inst.expr_type(d) {
            if !is_index_type(ty) {
                err(format!(
                    "a data-dependent index into {} has type {ty}, not integers within the range of int<64>",
                    t.name
                ));
            }
        }
    }
}

fn verify_expr(
    inst: &Instance,
    e: ExprId,
    bound: &[LoopVarId],
    users: &mut HashMap<ExprId, usize>,
    typed: bool,
    err: &mut dyn FnMut(String),
) {
    if e.index() >= inst.exprs.len() {
        err(format!("expression {e:?} out of range"));
        return;
    }
    *users.entry(e).or_default() += 1;
    if typed && inst.expr_type(e).is_none() {
        err(format!("expression {e:?} has no type"));
    }
    match inst.expr(e) {
        Expr::Load(a) => check_access(inst, a, bound, err),
        Expr::LoopVar(v) if !bound.contains(v) => {
            err(format!("loop variable {v:?} read outside its loop"))
        }
        Expr::Local(l) if l.index() >= inst.locals.len() => {
            err(format!("local {l:?} out of range"))
        }
        _ => {}
    }
    for o in expr_operands(inst.expr(e)) {
        verify_expr(inst, o, bound, users, typed, err);
    }
}

/// A row plan names nodes and tensors of its instance, images of three dimensions, and
/// line buffers of at least one row.
fn verify_row_plan(inst: &Instance, plan: &crate::ir::stage::RowPlan, err: &mut dyn FnMut(String)) {
    let image = |t: TensorId| {
        inst.tensors
            .get(t.index())
            .is_some_and(|tm| tm.shape.len() == 3)
    };
    for n in &plan.nodes {
        if !matches!(inst.graph.node_weight(n.node), Some(Node::Compute(_))) {
            err(format!("row plan: node {:?} is not a compute node", n.node));
        }
        let result_ok = image(n.result) || (plan.flat_output && n.result == plan.output);
        if !result_ok || n.windows.iter().any(|w| !image(w.tensor) || w.stride < 1) {
            err(format!(
                "row plan of node {:?}: a tensor that is not an image, or a stride below 1",
                n.node
            ));
        }
    }
    for b in &plan.buffers {
        if !image(b.tensor) || b.rows == 0 {
            err(format!(
                "row plan: line buffer {:?} of {} rows",
                b.tensor, b.rows
            ));
        }
    }
}

/// Invariant 11: where a stream word wider than one value may sit, and that both ends of
/// a channel agree.
fn verify_stream_words(m: &Module, inst: &Instance, errs: &mut Vec<String>) {
    let streams = inst.dataflow_streams();
    let is_entry = m
        .entry
        .and_then(|e| m.instances.get(e.index()))
        .is_some_and(|e| std::ptr::eq(e, inst));
    for (i, t) in inst.tensors.iter().enumerate() {
        let id = TensorId(i as u32);
        if t.stream_width <= 1 {
            continue;
        }
        let port = inst.inputs.contains(&id) || inst.outputs.contains(&id);
        if port && is_entry {
            errs.push(format!(
                "{}: %{i} {}: a port of the entry with a stream word of {} values",
                inst.name, t.name, t.stream_width
            ));
        } else if !port && !streams.contains(&id) {
            errs.push(format!(
                "{}: %{i} {}: a stream word of {} values on a tensor that is not a FIFO between two calls",
                inst.name, t.name, t.stream_width
            ));
        }
    }
    for n in inst.graph.node_weights() {
        let Node::Call(c) = n else { continue };
        let Some(callee) = m.instances.get(c.callee.index()) else {
            continue;
        };
        let pairs = c
            .args
            .iter()
            .zip(&callee.inputs)
            .chain(c.results.iter().zip(&callee.outputs));
        for (&a, &p) in pairs {
            let (Some(ta), Some(tp)) = (inst.tensors.get(a.index()), callee.tensors.get(p.index()))
            else {
                continue;
            };
            let want = if streams.contains(&a) {
                ta.stream_width
            } else {
                1
            };
            if tp.stream_width != want {
                errs.push(format!(
                    "{}: the call of `{}` binds `{}` (stream word {want}) to its port `{}` (stream word {})",
                    inst.name, callee.name, ta.name, tp.name, tp.stream_width
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(name: &str, shape: &[usize], width: u32) -> Tensor {
        Tensor {
            name: name.into(),
            elem: ScalarType::int(8),
            shape: shape.to_vec(),
            kind: TensorKind::Temp,
            declared: true,
            reason: TypeReason::Declared,
            range: None,
            partition: Vec::new(),
            stream_depth: None,
            stream_width: width,
            bound_to: Vec::new(),
            span: Span::default(),
        }
    }

    fn errors_of(tensors: Vec<Tensor>) -> Vec<String> {
        let mut inst = Instance::new("top".into(), "top".into(), String::new(), Span::default());
        for t in tensors {
            inst.add_tensor(t);
        }
        let m = Module {
            instances: vec![inst],
            entry: None,
            consts: Vec::new(),
            schedules: Vec::new(),
        };
        verify_module(&m, false)
    }

    #[test]
    fn stream_words_are_powers_of_two_dividing_the_channels_of_a_fifo() {
        // Width 1 anywhere is fine.
        assert!(errors_of(vec![image("a", &[6, 4, 4], 1)]).is_empty());
        // Not a power of two; not dividing the channels; not an image.
        let e = errors_of(vec![image("a", &[6, 4, 4], 3)]);
        assert!(e.iter().any(|e| e.contains("not a power of two")), "{e:?}");
        let e = errors_of(vec![image("a", &[6, 4, 4], 4)]);
        assert!(e.iter().any(|e| e.contains("channels it divides")), "{e:?}");
        let e = errors_of(vec![image("a", &[8], 2)]);
        assert!(e.iter().any(|e| e.contains("channels it divides")), "{e:?}");
        // A fine word on a tensor that is no FIFO between two calls.
        let e = errors_of(vec![image("a", &[6, 4, 4], 2)]);
        assert!(
            e.iter().any(|e| e.contains("not a FIFO between two calls")),
            "{e:?}"
        );
    }
}
