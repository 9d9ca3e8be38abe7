//! The graph of an instance: tensors, nodes and the edges between them (data from the
//! last writer, order between writers and readers), and what each top-level statement of
//! a kernel body becomes: a declared or assigned tensor, a compute node, the instance's
//! outputs. Scalar locals that cross statements travel in 0-d version tensors. What goes
//! on inside a compute node is stmts.rs's business; calls are calls.rs's.

use super::*;
use crate::infer_types::infer_compute;
use kiln_lang::hir::{ExprKind as HE, Place, StmtKind as HS};

impl<'h> Lowerer<'_, '_, 'h> {
    pub(super) fn new_tensor(
        &mut self,
        name: &str,
        elem: ScalarType,
        shape: Vec<usize>,
        kind: TensorKind,
        declared: bool,
        span: Span,
    ) -> TensorId {
        self.check_tensor_size(name, &elem, &shape, span);
        self.inst.add_tensor(Tensor {
            name: name.to_string(),
            elem,
            shape,
            kind,
            declared,
            reason: if declared {
                TypeReason::Declared
            } else {
                TypeReason::Pending
            },
            range: None,
            partition: Vec::new(),
            stream_depth: None,
            stream_width: 1,
            bound_to: Vec::new(),
            span,
        })
    }

    /// E0408 for a tensor whose size, known only now that the kernel is instantiated,
    /// does not fit in memory (the checker refuses the sizes it can see; kiln_lang::sym
    /// does the arithmetic for both).
    fn check_tensor_size(&mut self, name: &str, elem: &ScalarType, shape: &[usize], span: Span) {
        let dims = shape.iter().map(|&d| d as u64);
        if kiln_lang::sym::tensor_bytes(dims, kiln_lang::sym::element_bytes(elem)).is_err() {
            let shape: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            self.err(
                Diagnostic::error(
                    codes::BAD_DIM,
                    format!(
                        "`{name}` would be a {elem}[{}]: more bytes than any machine can address",
                        shape.join(", ")
                    ),
                )
                .at(span)
                .label("too large once instantiated")
                .help("sizes bound at instantiation must keep every tensor under 2^63 bytes"),
            );
        }
    }

    /// Adds an edge `from -> to` carrying `tensor`, unless there is one already.
    pub(super) fn link(&mut self, from: NodeId, to: NodeId, tensor: TensorId, kind: EdgeKind) {
        let exists = self
            .inst
            .graph
            .edges_connecting(from, to)
            .any(|e| e.weight().tensor == tensor);
        if from != to && !exists {
            self.inst.graph.add_edge(from, to, Edge { tensor, kind });
        }
    }

    /// Adds a node and its edges (data from the last writer of each read, order from the
    /// readers and the writer of each written tensor).
    pub(super) fn add_node(
        &mut self,
        node: Node,
        reads: &[TensorId],
        writes: &[TensorId],
    ) -> NodeId {
        let n = self.inst.graph.add_node(node);
        for &t in reads {
            if let Some(&w) = self.last_writer.get(&t) {
                self.link(w, n, t, EdgeKind::Data);
            }
        }
        for &t in writes {
            if let Some(&w) = self.last_writer.get(&t) {
                self.link(w, n, t, EdgeKind::Order);
            }
            for r in self.readers.remove(&t).unwrap_or_default() {
                self.link(r, n, t, EdgeKind::Order);
            }
        }
        for &t in reads {
            if !writes.contains(&t) {
                self.readers.entry(t).or_default().push(n);
            }
        }
        for &t in writes {
            self.last_writer.insert(t, n);
        }
        n
    }

    /// The tensor of local tensor `local`, declared `name: T[...]`, made here.
    fn declared_tensor(&mut self, local: usize) -> Option<TensorId> {
        let l = &self.k.locals[local];
        let decl = l.declared.as_ref()?;
        let elem = self.elem_type(&decl.elem, decl.span)?;
        let shape = decl
            .shape
            .as_ref()
            .and_then(|d| self.shape_of_dims(d, decl.span))?;
        let t = self.new_tensor(&l.name, elem, shape, TensorKind::Temp, true, l.span);
        self.tensor_locals.insert(local, t);
        Some(t)
    }

    /// Makes the tensors of the local tensors declared inside the loops and branches of
    /// `block` (their declarations refill them each time they run).
    fn nested_tensor_decls(&mut self, block: &'h hir::Block) {
        for s in block {
            if let HS::Decl { local, .. } = &s.kind {
                if self.k.locals[*local].is_tensor {
                    self.declared_tensor(*local);
                }
            }
            for b in hir::child_blocks(s) {
                self.nested_tensor_decls(b);
            }
        }
    }

    pub(super) fn top_stmt(&mut self, s: &'h hir::Stmt, live_out: &hir::LiveAfter) {
        match &s.kind {
            HS::Decl { local, init } => {
                let l = &self.k.locals[*local];
                if l.is_tensor {
                    let Some(t) = self.declared_tensor(*local) else {
                        return;
                    };
                    if let Some(init) = init {
                        self.compute_node(&l.name.clone(), s.span, live_out, |lw| {
                            lw.store_whole(t, init, s.span)
                        });
                    }
                } else if init.is_some() {
                    self.compute_node(&format!("{}_init", l.name), s.span, live_out, |lw| {
                        lw.stmt(s)
                    });
                }
            }
            HS::Assign {
                target: Place::Local(l),
                value,
            } if self.k.locals[*l].is_tensor => {
                self.assign_tensor_local(*l, value, s.span, live_out);
            }
            HS::AssignTuple { targets, value } => {
                let Some(results) = self.call_results(value) else {
                    return;
                };
                for (t, r) in targets.iter().zip(results) {
                    if self.k.locals[*t].is_tensor {
                        self.tensor_locals.insert(*t, r);
                    } else {
                        self.scalar_versions.insert(*t, r);
                    }
                }
            }
            HS::Return(vals) => self.return_values(vals, s.span),
            _ => {
                for b in hir::child_blocks(s) {
                    self.nested_tensor_decls(b);
                }
                let name = match &s.kind {
                    HS::For { header, .. } => format!("{}_loop", self.k.loop_vars[header.var].name),
                    HS::While { .. } => "while_loop".to_string(),
                    HS::If { .. } => "branch".to_string(),
                    HS::Assign {
                        target: Place::Local(l),
                        ..
                    }
                    | HS::Decl { local: l, .. } => format!("{}_assign", self.k.locals[*l].name),
                    HS::Assign {
                        target: Place::Index { local, .. },
                        ..
                    } => format!("{}_store", self.k.locals[*local].name),
                    _ => "stmt".to_string(),
                };
                // Calls in a top-level statement (`d = double(x)` with a scalar result) run
                // first, as their own nodes; calls inside loops and branches run inside the
                // statement's node.
                if matches!(s.kind, HS::Assign { .. } | HS::Decl { .. }) {
                    let mut roots = Vec::new();
                    hir::visit_stmt_exprs(s, &mut |e| roots.push(e));
                    for e in roots {
                        if self.hoist_calls(e).is_none() {
                            self.failed = true;
                            return;
                        }
                    }
                }
                let carried = self.carried_tensors(s);
                self.compute_node(&name, s.span, live_out, |lw| {
                    lw.carry_tensors(&carried, s.span);
                    lw.stmt(s)
                });
            }
        }
    }

    /// Inferred tensor locals that a loop or branch replaces as a whole (with a kernel
    /// call's result, or by passing them to an output parameter).
    fn carried_tensors(&self, s: &'h hir::Stmt) -> Vec<usize> {
        fn walk(lw: &Lowerer, b: &[hir::Stmt], out: &mut Vec<usize>) {
            let add = |h: usize, out: &mut Vec<usize>| {
                let l = &lw.k.locals[h];
                if l.is_tensor && l.declared.is_none() && !out.contains(&h) {
                    out.push(h);
                }
            };
            for s in b {
                match &s.kind {
                    HS::Assign {
                        target: Place::Local(h),
                        ..
                    } => add(*h, out),
                    HS::For { body, .. } | HS::While { body, .. } => walk(lw, body, out),
                    HS::If {
                        then_block,
                        else_block,
                        ..
                    } => {
                        walk(lw, then_block, out);
                        walk(lw, else_block, out);
                    }
                    _ => {}
                }
                let mut calls = Vec::new();
                hir::visit_stmt_exprs(s, &mut |e| calls.push(e));
                while let Some(e) = calls.pop() {
                    if let HE::Call { kernel, args, .. } = &e.kind {
                        let callee = &lw.mb.inputs.program.kernels[*kernel];
                        for (p, a) in callee.params.iter().zip(args) {
                            if let (true, hir::CallArg::Value(v)) = (p.written, a) {
                                if let HE::Local(h) = &v.kind {
                                    add(*h, out);
                                }
                            }
                        }
                    }
                    hir::visit_subexprs(e, &mut |x| calls.push(x));
                }
            }
        }
        let mut out = Vec::new();
        if matches!(s.kind, HS::For { .. } | HS::While { .. } | HS::If { .. }) {
            walk(self, std::slice::from_ref(s), &mut out);
        }
        out
    }

    /// Gives each carried tensor local one buffer for the node, of the type of its value
    /// before it, starting from that value.
    fn carry_tensors(&mut self, carried: &[usize], span: Span) {
        for &h in carried {
            let Some(&old) = self.tensor_locals.get(&h) else {
                continue;
            };
            let om = self.inst.tensor(old).clone();
            let name = self.k.locals[h].name.clone();
            let t = self.new_tensor(
                &name,
                om.elem,
                om.shape,
                TensorKind::Temp,
                true,
                self.k.locals[h].span,
            );
            self.inst.tensor_mut(t).bound_to.push(name.clone());
            self.copy_tensor(t, old, &name, span);
            self.tensor_locals.insert(h, t);
        }
    }

    /// Builds a compute node around `body`, handling scalar locals that cross statements.
    pub(super) fn compute_node(
        &mut self,
        name: &str,
        span: Span,
        live_out: &hir::LiveAfter,
        body: impl FnOnce(&mut Self) -> L<()>,
    ) {
        self.node = Some(NodeCtx {
            locals: HashMap::new(),
            local_class: HashMap::new(),
            blocks: vec![Vec::new()],
            name: name.to_string(),
        });
        if body(self).is_none() {
            self.node = None;
            self.failed = true;
            return;
        }
        let mut ctx = self.node.take().expect("node context");
        let outs = self.version_stores(&mut ctx, live_out);
        let block = ctx.blocks.pop().expect("root block");
        let (reads, writes) = block_accesses(&self.inst, &block);
        let compute = Compute {
            name: ctx.name.clone(),
            body: block,
            reads: reads.clone(),
            writes: writes.clone(),
            span,
        };
        let n = self.add_node(Node::Compute(compute), &reads, &writes);
        for (h, t) in outs {
            self.scalar_versions.insert(h, t);
        }
        self.infer_node(n);
    }

    /// Scalar locals assigned in the node and read by later statements leave in new
    /// versions: a store of each at the end of the node's body. Returns (HIR local, its
    /// version tensor).
    pub(super) fn version_stores(
        &mut self,
        ctx: &mut NodeCtx,
        live_out: &hir::LiveAfter,
    ) -> Vec<(usize, TensorId)> {
        let mut assigned: Vec<(usize, LocalId)> =
            ctx.locals.iter().map(|(h, l)| (*h, *l)).collect();
        assigned.sort();
        let mut outs = Vec::new();
        for (h, l) in assigned {
            if !live_out.contains(&h) || !block_assigns(&ctx.blocks[0], l) {
                continue;
            }
            let local = self.inst.local(l).clone();
            let elem = if local.declared {
                local.ty
            } else {
                ScalarType::Bool
            };
            let t = self.new_tensor(
                &self.k.locals[h].name.clone(),
                elem,
                Vec::new(),
                TensorKind::Temp,
                local.declared,
                local.span,
            );
            let v = self.inst.add_expr(Expr::Local(l), local.span);
            ctx.blocks[0].push(Stmt::Store {
                access: Access {
                    tensor: t,
                    index: Vec::new(),
                    dynamic: Vec::new(),
                    checked: false,
                    guarded: false,
                },
                value: v,
                span: local.span,
            });
            outs.push((h, t));
        }
        outs
    }

    /// Types compute node `n` (infer_types/), reporting what inference finds.
    pub(super) fn infer_node(&mut self, n: NodeId) {
        let consts = self.mb.module.consts.clone();
        let mut diags = Diagnostics::default();
        infer_compute(&mut self.inst, n, &consts, &mut diags);
        self.check_implicit_floats();
        for d in diags.list {
            if d.is_error() {
                self.err(d);
            } else {
                let d = self.mb.note_chain(d);
                self.mb.diags.push(d);
            }
        }
    }

    pub(super) fn assign_tensor_local(
        &mut self,
        l: usize,
        value: &'h hir::Expr,
        span: Span,
        live_out: &hir::LiveAfter,
    ) {
        let declared = self.k.locals[l].declared.is_some();
        if !declared {
            // A new version: a call result or a named tensor is taken as is.
            if let HE::Call { .. } = &value.kind {
                if let Some(r) = self.call_results(value) {
                    let name = self.k.locals[l].name.clone();
                    self.inst.tensor_mut(r[0]).bound_to.push(name);
                    self.tensor_locals.insert(l, r[0]);
                }
                return;
            }
            if let Some(t) = self.named_tensor(value) {
                self.tensor_locals.insert(l, t);
                return;
            }
            if self.hoist_calls(value).is_none() {
                self.failed = true;
                return;
            }
            let Some(shape) = self.shape_of(value, &Scope::default()) else {
                return;
            };
            let name = self.k.locals[l].name.clone();
            let t = self.new_tensor(
                &name,
                ScalarType::Bool,
                shape,
                TensorKind::Temp,
                false,
                self.k.locals[l].span,
            );
            self.compute_node(&format!("{name}_assign"), span, live_out, |lw| {
                lw.store_whole(t, value, span)
            });
            self.tensor_locals.insert(l, t);
        } else {
            let Some(&t) = self.tensor_locals.get(&l) else {
                return;
            };
            if self.hoist_calls(value).is_none() {
                self.failed = true;
                return;
            }
            let name = self.k.locals[l].name.clone();
            self.compute_node(&format!("{name}_assign"), span, live_out, |lw| {
                lw.store_whole(t, value, span)
            });
        }
    }

    pub(super) fn return_values(&mut self, vals: &'h [hir::Expr], span: Span) {
        let results = &self.k.results;
        for (i, (v, r)) in vals.iter().zip(results).enumerate() {
            if self.hoist_calls(v).is_none() {
                self.failed = true;
                return;
            }
            let declared = self.elem_type(&r.elem, r.span);
            if self.failed {
                return;
            }
            let shape = match &r.shape {
                Some(d) => match self.shape_of_dims(d, r.span) {
                    Some(s) => s,
                    None => return,
                },
                None => Vec::new(),
            };
            // Results are named after the returned local, else `result` / `result<i>`.
            let out_name = match &v.kind {
                // A local of an inlined helper (`s'3`) by its name in the helper.
                HE::Local(l) => self.k.locals[*l]
                    .name
                    .split('\'')
                    .next()
                    .unwrap_or("result")
                    .to_string(),
                _ if results.len() == 1 => "result".to_string(),
                _ => format!("result{i}"),
            };
            // A declared tensor nothing writes is certainly incomplete.
            if let Some(t) = self.plain_tensor(v) {
                if !self.last_writer.contains_key(&t)
                    && self.inst.tensor(t).kind == TensorKind::Temp
                {
                    let name = self.inst.tensor(t).name.clone();
                    self.err(
                        Diagnostic::error(
                            codes::OUTPUT_INCOMPLETE,
                            format!("`{name}` is returned but nothing writes it"),
                        )
                        .at(v.span)
                        .with_secondary(self.inst.tensor(t).span, "declared here")
                        .help(format!(
                            "assign its elements (`{name}[i] = ...`) before returning it"
                        )),
                    );
                    return;
                }
            }
            // A temporary of the right type becomes the output directly.
            if let Some(t) = self.plain_tensor(v) {
                let te = self.inst.tensor(t);
                let reusable = te.kind == TensorKind::Temp
                    && te.shape == shape
                    && declared.is_none_or(|d| d == te.elem)
                    && !self.inst.outputs.contains(&t);
                if reusable {
                    self.inst.tensor_mut(t).name = out_name;
                    self.add_output(t, i);
                    continue;
                }
            }
            let name = out_name;
            let out = self.new_tensor(
                &name,
                declared.unwrap_or(ScalarType::Bool),
                shape,
                TensorKind::Temp,
                declared.is_some(),
                v.span,
            );
            let none = hir::LiveAfter::nothing();
            self.compute_node(&format!("{name}_store"), span, &none, |lw| {
                lw.store_whole(out, v, v.span)
            });
            if self.failed {
                return;
            }
            self.add_output(out, i);
        }
    }

    /// Makes `t` the instance's output `index`, fed by its last writer.
    pub(super) fn add_output(&mut self, t: TensorId, index: usize) {
        self.inst.outputs.push(t);
        let n = self.inst.graph.add_node(Node::Output { tensor: t, index });
        if let Some(&w) = self.last_writer.get(&t) {
            self.inst.graph.add_edge(
                w,
                n,
                Edge {
                    tensor: t,
                    kind: EdgeKind::Data,
                },
            );
        }
    }

    /// A tensor named by `e` without computation (tensor local or call result), or a
    /// scalar local's current version.
    pub(super) fn plain_tensor(&mut self, e: &'h hir::Expr) -> Option<TensorId> {
        match &e.kind {
            HE::Call { .. } => self.hoisted.get(&(e as *const _)).map(|r| r[0]),
            HE::Local(l) if self.k.locals[*l].is_tensor => self.tensor_locals.get(l).copied(),
            _ => None,
        }
    }
}

/// Whether a block assigns local `l` anywhere.
pub(super) fn block_assigns(b: &Block, l: LocalId) -> bool {
    let mut found = false;
    walk_stmts(b, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Assign { local, .. } = s {
            found |= *local == l;
        }
    });
    found
}

pub(super) fn block_assigns_any(blocks: &[Block], l: LocalId) -> bool {
    blocks.iter().any(|b| block_assigns(b, l))
}
