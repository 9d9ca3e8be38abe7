//! Fusion of a network's consecutive kernels into one loop nest (conv + bias + relu +
//! requantize), for the JIT and the HLS back end.
//!
//! Two calls `T = a(...)` and `U = b(T, ...)` of an instance fuse when `T` is read by `b`
//! alone (not an output, no other reader, not made a FIFO or partitioned by a schedule),
//! neither kernel's loops carry a directive of a written schedule (fusion would drop it), `a` has nothing else to do after `b` starts
//! (no anti-dependence out of it), and `b` consumes `T` elementwise: the node of `a` that
//! writes `T` ends its loop nest over `T`'s shape with the store `T[v...] = e`, and the
//! node of `b` that reads `T` is one loop nest over the same shape that loads only
//! `T[w...]` at its own loop variables. The pair becomes one call of a new instance
//! holding both kernels' nodes, in which those two nodes are one: the producer's
//! statements run inside the consumer's loops, the element lands in a scalar of `T`'s
//! type (the same conversion as the store) and the consumer reads the scalar. `T` no
//! longer exists: one tensor less to write and read, and in the HLS back end one DATAFLOW
//! stage and one FIFO less. Chains fuse pairwise, so conv, bias_add, relu and requantize
//! become one nest.
//!
//! Before (LeNet's first layer, in `main`):
//! ```text
//! node call conv2d(x, w1) -> %2;  node call bias_add(%2, b1) -> %4;  node call relu(%4) -> %5
//! conv2d:   for k, i, j: acc = 0; for c, u, v: acc += ...; result[k, i, j] = acc
//! bias_add: for c, i, j: result[c, i, j] = x[c, i, j] + b[c]
//! ```
//! After:
//! ```text
//! node call conv2d_bias_add_relu(x, w1, b1) -> %5
//! conv2d_bias_add_relu: for c, i, j: acc = 0; for c', u, v: acc += ...; conv2d_out = acc
//!                                    bias_add_out = conv2d_out + b[c]; result[c, i, j] = max(bias_add_out, 0)
//! ```

use crate::ir::*;
use crate::tile::Cloner;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use petgraph::Direction;
use std::collections::HashMap;

/// The `fuse` pass: [`fuse_calls`], with a remark per fusion.
pub fn run(module: &mut Module, ctx: &mut crate::manager::PassContext) {
    for f in fuse_calls(module) {
        ctx.remarks.push(format!("fused {f}"));
    }
}

/// Fuses call chains in every instance; returns a line per fusion (`a + b` in `main`).
pub fn fuse_calls(module: &mut Module) -> Vec<String> {
    let mut report = Vec::new();
    let mut i = 0;
    while i < module.instances.len() {
        while let Some(line) = fuse_one(module, InstanceId(i as u32)) {
            report.push(line);
        }
        i += 1;
    }
    if !report.is_empty() {
        drop_unreachable(module);
    }
    report
}

/// Removes the instances no call reaches from the entry (those fusion replaced),
/// renumbering the callees of the rest.
fn drop_unreachable(module: &mut Module) {
    let Some(entry) = module.entry else { return };
    let mut reached = vec![false; module.instances.len()];
    let mut todo = vec![entry];
    while let Some(id) = todo.pop() {
        if std::mem::replace(&mut reached[id.index()], true) {
            continue;
        }
        for n in module.instance(id).graph.node_weights() {
            if let Node::Call(c) = n {
                todo.push(c.callee);
            }
        }
    }
    let mut new_id = Vec::with_capacity(reached.len());
    let mut next = 0u32;
    for &r in &reached {
        new_id.push(InstanceId(next));
        next += r as u32;
    }
    let old = std::mem::take(&mut module.instances);
    for (i, inst) in old.into_iter().enumerate() {
        if reached[i] {
            module.instances.push(inst);
        }
    }
    for inst in module.instances.iter_mut() {
        for n in inst.graph.node_weights_mut() {
            if let Node::Call(c) = n {
                c.callee = new_id[c.callee.index()];
            }
        }
    }
    module.entry = Some(new_id[entry.index()]);
}

/// Finds and fuses one pair of calls in instance `id`.
fn fuse_one(module: &mut Module, id: InstanceId) -> Option<String> {
    let inst = module.instance(id);
    let nodes: Vec<NodeId> = inst.schedule();
    for &a in &nodes {
        let Node::Call(ca) = &inst.graph[a] else {
            continue;
        };
        let [t] = ca.results.as_slice() else { continue };
        let t = *t;
        // A tensor the schedule made a FIFO or split into banks stays a tensor.
        let tm = inst.tensor(t);
        if inst.outputs.contains(&t) || tm.stream_depth.is_some() || !tm.partition.is_empty() {
            continue;
        }
        let outgoing: Vec<_> = inst.graph.edges_directed(a, Direction::Outgoing).collect();
        let [e] = outgoing.as_slice() else { continue };
        if e.weight().kind != EdgeKind::Data || e.weight().tensor != t {
            continue;
        }
        let b = e.target();
        let Node::Call(cb) = &inst.graph[b] else {
            continue;
        };
        if cb.args.iter().filter(|&&x| x == t).count() != 1 || readers(inst, t) != 1 {
            continue;
        }
        let pos = cb.args.iter().position(|&x| x == t)?;
        let (ia, ib) = (module.instance(ca.callee), module.instance(cb.callee));
        let calls_inside = |i: &Instance| i.computes().iter().any(|(_, c)| has_call(&c.body));
        if calls_inside(ia) || calls_inside(ib) {
            continue;
        }
        let Some(fused) = merge(ia, ib, pos) else {
            continue;
        };
        let line = format!("{} + {} in {}", ia.name, ib.name, inst.name);
        let (ca, cb) = (ca.clone(), cb.clone());
        module.instances.push(fused);
        let fid = InstanceId(module.instances.len() as u32 - 1);
        let inst = module.instance_mut(id);
        let mut args = ca.args.clone();
        args.extend(
            cb.args
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != pos)
                .map(|(_, &x)| x),
        );
        inst.graph[b] = Node::Call(Call {
            callee: fid,
            args,
            results: cb.results.clone(),
            span: ca.span,
        });
        absorb(&mut inst.graph, a, b);
        return Some(line);
    }
    None
}

/// Whether a loop of `inst` carries a directive (pipeline, unroll, flatten).
fn has_loop_directives(inst: &Instance) -> bool {
    let mut found = false;
    for (_, c) in inst.computes() {
        walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
            if let Stmt::For(l) = s {
                found |= l.directives != LoopDirectives::default();
            }
        });
    }
    found
}

/// How many nodes read `t` (calls and computes).
fn readers(inst: &Instance, t: TensorId) -> usize {
    inst.graph
        .node_weights()
        .filter(|n| match n {
            Node::Call(c) => c.args.contains(&t),
            Node::Compute(c) => c.reads.contains(&t),
            Node::Output { tensor, .. } => *tensor == t,
            _ => false,
        })
        .count()
}

/// Moves the incoming edges of `from` to `into` and removes `from`.
fn absorb(graph: &mut petgraph::stable_graph::StableGraph<Node, Edge>, from: NodeId, into: NodeId) {
    let incoming: Vec<(NodeId, Edge)> = graph
        .edges_directed(from, Direction::Incoming)
        .map(|e| (e.source(), *e.weight()))
        .collect();
    for (src, w) in incoming {
        let exists = graph.edges_connecting(src, into).any(|e| *e.weight() == w);
        if src != into && !exists {
            graph.add_edge(src, into, w);
        }
    }
    graph.remove_node(from);
}

/// One instance computing `b(a(...), ...)` with `a`'s result fused into `b`'s nest, or
/// `None` when the nodes do not fuse. `pos`: the argument of `b` that `a` produces.
fn merge(ia: &Instance, ib: &Instance, pos: usize) -> Option<Instance> {
    let computes_only = |i: &Instance| i.graph.node_weights().all(|n| !matches!(n, Node::Call(_)));
    if !computes_only(ia) || !computes_only(ib) || ia.outputs.len() != 1 {
        return None;
    }
    // The loops of a written schedule keep their directives: fusing would move the
    // producer's statements into the consumer's loops and drop them.
    if has_loop_directives(ia) || has_loop_directives(ib) {
        return None;
    }
    let mut f = ia.clone();
    f.name = format!("{}_{}", ia.name, ib.name);
    f.kernel = format!("{}+{}", ia.kernel, ib.kernel);
    f.bindings = format!("{}; {}", ia.bindings, ib.bindings);
    let t = ia.outputs[0];
    f.tensors[t.index()].kind = TensorKind::Temp;
    f.outputs.clear();
    let out_node = f
        .graph
        .node_indices()
        .find(|&n| matches!(f.graph[n], Node::Output { .. }))?;
    f.graph.remove_node(out_node);
    // `b`'s handles, shifted into `f`.
    let (t0, l0, v0, e0) = (
        f.tensors.len() as u32,
        f.locals.len() as u32,
        f.loop_vars.len() as u32,
        f.exprs.len() as u32,
    );
    let bt = ib.inputs[pos];
    let map_t = |x: TensorId| {
        if x == bt {
            t
        } else {
            TensorId(x.0 + t0)
        }
    };
    let map_l = |x: LocalId| LocalId(x.0 + l0);
    let map_v = |x: LoopVarId| LoopVarId(x.0 + v0);
    let map_e = |x: ExprId| ExprId(x.0 + e0);
    let base_inputs = ia.inputs.len();
    for (i, tm) in ib.tensors.iter().enumerate() {
        let mut tm = tm.clone();
        if let TensorKind::Input(k) = tm.kind {
            let k = if k > pos { k - 1 } else { k };
            tm.kind = TensorKind::Input(base_inputs + k);
        }
        if TensorId(i as u32) == bt {
            tm.kind = TensorKind::Temp; // never used: `t` stands for it
        }
        f.tensors.push(tm);
    }
    f.locals.extend(ib.locals.iter().cloned());
    f.loop_vars.extend(ib.loop_vars.iter().cloned());
    for e in &ib.exprs {
        f.exprs.push(remap_expr(e, &map_t, &map_l, &map_v, &map_e));
    }
    f.expr_types.extend(ib.expr_types.iter().cloned());
    f.expr_ranges.extend(ib.expr_ranges.iter().cloned());
    f.expr_spans.extend(ib.expr_spans.iter().cloned());
    f.inputs.extend(
        ib.inputs
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pos)
            .map(|(_, &x)| map_t(x)),
    );
    f.outputs = ib.outputs.iter().map(|&x| map_t(x)).collect();
    // `b`'s nodes; its input node for `t` is replaced by the node of `a` that writes `t`.
    // Only when one node of `a` writes `t`: with several (a kernel that clears its result,
    // then writes part of it), the value `b` reads is not the last store of one nest.
    let producers: Vec<NodeId> = f
        .graph
        .node_indices()
        .filter(|&n| matches!(&f.graph[n], Node::Compute(c) if c.writes.contains(&t)))
        .collect();
    let [producer] = producers.as_slice() else {
        return None;
    };
    let producer = *producer;
    let mut node_map: HashMap<NodeId, NodeId> = HashMap::new();
    let mut b_nodes: Vec<NodeId> = ib.graph.node_indices().collect();
    b_nodes.sort();
    for n in b_nodes {
        let new = match &ib.graph[n] {
            Node::Input { tensor, .. } if *tensor == bt => {
                node_map.insert(n, producer);
                continue;
            }
            Node::Input { tensor, param } => Node::Input {
                tensor: map_t(*tensor),
                param: base_inputs + if *param > pos { param - 1 } else { *param },
            },
            Node::Const { tensor } => Node::Const {
                tensor: map_t(*tensor),
            },
            Node::Output { tensor, index } => Node::Output {
                tensor: map_t(*tensor),
                index: *index,
            },
            Node::Compute(c) => Node::Compute(Compute {
                name: c.name.clone(),
                body: remap_block(&c.body, &map_t, &map_l, &map_v, &map_e),
                reads: c.reads.iter().map(|&x| map_t(x)).collect(),
                writes: c.writes.iter().map(|&x| map_t(x)).collect(),
                span: c.span,
            }),
            Node::Call(_) => return None,
        };
        node_map.insert(n, f.graph.add_node(new));
    }
    for e in (&ib.graph).edge_references() {
        let w = Edge {
            tensor: map_t(e.weight().tensor),
            kind: e.weight().kind,
        };
        f.graph
            .add_edge(node_map[&e.source()], node_map[&e.target()], w);
    }
    // The consumer: the node of `b` reading `t`.
    let consumers: Vec<NodeId> = f
        .graph
        .node_indices()
        .filter(
            |&n| matches!(&f.graph[n], Node::Compute(c) if c.reads.contains(&t) && n != producer),
        )
        .collect();
    let [consumer] = consumers.as_slice() else {
        return None;
    };
    fuse_nodes(&mut f, producer, *consumer, t, &format!("{}_out", ia.name))?;
    Some(f)
}

fn remap_affine(a: &Affine, map_v: &dyn Fn(LoopVarId) -> LoopVarId) -> Affine {
    Affine {
        terms: a.terms.iter().map(|&(v, c)| (map_v(v), c)).collect(),
        constant: a.constant,
    }
}

fn remap_access(
    a: &Access,
    map_t: &dyn Fn(TensorId) -> TensorId,
    map_v: &dyn Fn(LoopVarId) -> LoopVarId,
    map_e: &dyn Fn(ExprId) -> ExprId,
) -> Access {
    Access {
        tensor: map_t(a.tensor),
        index: a.index.iter().map(|x| remap_affine(x, map_v)).collect(),
        dynamic: a.dynamic.iter().map(|d| d.map(map_e)).collect(),
        checked: a.checked,
        guarded: a.guarded,
    }
}

fn remap_expr(
    e: &Expr,
    map_t: &dyn Fn(TensorId) -> TensorId,
    map_l: &dyn Fn(LocalId) -> LocalId,
    map_v: &dyn Fn(LoopVarId) -> LoopVarId,
    map_e: &dyn Fn(ExprId) -> ExprId,
) -> Expr {
    match e {
        Expr::Const(c) => Expr::Const(c.clone()),
        Expr::Local(l) => Expr::Local(map_l(*l)),
        Expr::LoopVar(v) => Expr::LoopVar(map_v(*v)),
        Expr::Load(a) => Expr::Load(remap_access(a, map_t, map_v, map_e)),
        Expr::Unary(op, a) => Expr::Unary(*op, map_e(*a)),
        Expr::Binary(op, a, b) => Expr::Binary(*op, map_e(*a), map_e(*b)),
        Expr::Select {
            cond,
            then,
            otherwise,
        } => Expr::Select {
            cond: map_e(*cond),
            then: map_e(*then),
            otherwise: map_e(*otherwise),
        },
        Expr::Cast { to, arg } => Expr::Cast {
            to: *to,
            arg: map_e(*arg),
        },
        Expr::Math { f, arg } => Expr::Math {
            f: *f,
            arg: map_e(*arg),
        },
    }
}

fn remap_block(
    b: &Block,
    map_t: &dyn Fn(TensorId) -> TensorId,
    map_l: &dyn Fn(LocalId) -> LocalId,
    map_v: &dyn Fn(LoopVarId) -> LoopVarId,
    map_e: &dyn Fn(ExprId) -> ExprId,
) -> Block {
    b.iter()
        .map(|s| match s {
            Stmt::For(l) => Stmt::For(Loop {
                var: map_v(l.var),
                lo: remap_affine(&l.lo, map_v),
                hi: remap_affine(&l.hi, map_v),
                step: l.step,
                body: remap_block(&l.body, map_t, map_l, map_v, map_e),
                directives: l.directives.clone(),
                span: l.span,
            }),
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => Stmt::If {
                cond: map_e(*cond),
                then_block: remap_block(then_block, map_t, map_l, map_v, map_e),
                else_block: remap_block(else_block, map_t, map_l, map_v, map_e),
            },
            Stmt::Fail { message, span } => Stmt::Fail {
                message: message.clone(),
                span: *span,
            },
            Stmt::Call(c) => Stmt::Call(Call {
                callee: c.callee,
                args: c.args.iter().map(|&t| map_t(t)).collect(),
                results: c.results.iter().map(|&t| map_t(t)).collect(),
                span: c.span,
            }),
            Stmt::Assign { local, value, span } => Stmt::Assign {
                local: map_l(*local),
                value: map_e(*value),
                span: *span,
            },
            Stmt::Store {
                access,
                value,
                span,
            } => Stmt::Store {
                access: remap_access(access, map_t, map_v, map_e),
                value: map_e(*value),
                span: *span,
            },
        })
        .collect()
}

/// The band of a perfect nest over `shape` (each loop `0..n` of step 1, the only statement
/// of the loop around it) and the statements inside it.
fn band<'b>(block: &'b Block, shape: &[usize]) -> Option<(Vec<LoopVarId>, &'b Block)> {
    let mut vars = Vec::new();
    let mut cur = block;
    for &n in shape {
        let [Stmt::For(l)] = cur.as_slice() else {
            return None;
        };
        if l.step != 1 || l.lo.as_constant() != Some(0) || l.hi.as_constant() != Some(n as i64) {
            return None;
        }
        vars.push(l.var);
        cur = &l.body;
    }
    Some((vars, cur))
}

fn band_mut(block: &mut Block, depth: usize) -> &mut Block {
    let mut cur = block;
    for _ in 0..depth {
        let Some(Stmt::For(l)) = cur.first_mut() else {
            unreachable!("checked by band()")
        };
        cur = &mut l.body;
    }
    cur
}

/// Moves the producer `p` (writing `t` elementwise at the end of its nest) into the
/// consumer `c` (reading `t` elementwise): see the module doc.
fn fuse_nodes(inst: &mut Instance, p: NodeId, c: NodeId, t: TensorId, name: &str) -> Option<()> {
    let shape = inst.tensor(t).shape.clone();
    if shape.is_empty() {
        return None;
    }
    let (Node::Compute(pc), Node::Compute(cc)) = (&inst.graph[p], &inst.graph[c]) else {
        return None;
    };
    // The producer must not read `t` (a recurrence over its elements would lose the
    // stores it reads).
    if pc.writes != [t] || pc.reads.contains(&t) || cc.writes.contains(&t) {
        return None;
    }
    // The producer: its band's last statement stores `t[v...]`, the only store of `t`.
    let (pvars, pbody) = band(&pc.body, &shape)?;
    let (last, rest) = pbody.split_last()?;
    let rest: Block = rest.to_vec();
    let Stmt::Store { access, value, .. } = last else {
        return None;
    };
    let at_vars = |a: &Access, vars: &[LoopVarId]| {
        a.tensor == t
            && a.is_affine()
            && a.index.len() == vars.len()
            && a.index.iter().zip(vars).all(|(x, v)| *x == Affine::var(*v))
    };
    if !at_vars(access, &pvars) {
        return None;
    }
    let mut stores_t = 0;
    walk_stmts(&rest, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            stores_t += (access.tensor == t) as usize;
        }
    });
    if stores_t != 0 {
        return None;
    }
    // The consumer: one nest over the shape, loading `t` only at its own variables.
    let (cvars, cbody) = band(&cc.body, &shape)?;
    let mut loads_ok = true;
    walk_stmts(cbody, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            loads_ok &= loads.iter().all(|a| a.tensor != t || at_vars(a, &cvars));
        }
    });
    if !loads_ok {
        return None;
    }
    // Build: the producer's statements with its variables renamed, the element into a
    // scalar, then the consumer's statements reading the scalar.
    let value = *value;
    let (p_reads, p_span) = (pc.reads.clone(), pc.span);
    let tm = inst.tensor(t).clone();
    let scalar = inst.add_local(Local {
        name: name.to_string(),
        ty: tm.elem,
        declared: true,
        reason: TypeReason::Declared,
        range: tm.range.clone(),
        span: tm.span,
    });
    let mut cl = Cloner::new(inst, false);
    for (pv, cv) in pvars.iter().zip(&cvars) {
        cl.substitute(*pv, Affine::var(*cv));
    }
    let mut moved = cl.block(&rest);
    let v = cl.expr(value);
    moved.push(Stmt::Assign {
        local: scalar,
        value: v,
        span: p_span,
    });
    // Loads of `t` in the consumer read the scalar instead.
    let mut load_ids = Vec::new();
    if let Node::Compute(cc) = &inst.graph[c] {
        let (_, cbody) = band(&cc.body, &shape)?;
        load_ids = loads_of(inst, cbody, t);
    }
    for e in load_ids {
        inst.exprs[e.index()] = Expr::Local(scalar);
    }
    let Node::Compute(cc) = &mut inst.graph[c] else {
        return None;
    };
    let inner = band_mut(&mut cc.body, shape.len());
    let mut body = moved;
    body.append(inner);
    *inner = body;
    cc.reads.retain(|&x| x != t);
    for r in p_reads {
        if !cc.reads.contains(&r) {
            cc.reads.push(r);
        }
    }
    absorb(&mut inst.graph, p, c);
    Some(())
}
