//! Kernel calls: hoisted out of the statement that contains them, arguments materialized
//! into tensors and converted to the callee's declared parameter types, the callee
//! instantiated (instantiate.rs), and a call with result tensors: a call node for a
//! statement at the top level of a kernel body, a [`Stmt::Call`] inside a compute node
//! (a call inside a loop or a branch), placed before the statement that holds it. Output
//! parameters' final contents then go to the locals passed for them.

use super::*;
use kiln_lang::build_prim;
use kiln_lang::hir::{CallArg, DataSource, ElemRef, ExprKind as HE};

impl<'h> Lowerer<'_, '_, 'h> {
    /// Lowers calls inside `e` (depth first) into call nodes.
    pub(super) fn hoist_calls(&mut self, e: &'h hir::Expr) -> L<()> {
        if let HE::Call { .. } = &e.kind {
            self.call_results(e)?;
            return Some(());
        }
        let mut subs = Vec::new();
        hir::visit_subexprs(e, &mut |s| subs.push(s));
        for s in subs {
            self.hoist_calls(s)?;
        }
        Some(())
    }

    /// The tensor a plain tensor reference names (local, parameter, global).
    pub(super) fn named_tensor(&mut self, e: &'h hir::Expr) -> Option<TensorId> {
        match &e.kind {
            HE::Local(l) if self.k.locals[*l].is_tensor => self.tensor_locals.get(l).copied(),
            HE::Param(p) => match self.params.get(*p) {
                Some(ParamSlot::Tensor(t)) if !self.inst.tensor(*t).shape.is_empty() => Some(*t),
                _ => None,
            },
            HE::Global(g) if !self.mb.inputs.program.globals[*g].shape.is_empty() => {
                self.global_tensor(*g, e.span)
            }
            _ => None,
        }
    }

    /// Lowers a kernel call (once) and returns its result tensors.
    pub(super) fn call_results(&mut self, e: &'h hir::Expr) -> L<Vec<TensorId>> {
        let key = e as *const hir::Expr;
        if let Some(r) = self.hoisted.get(&key) {
            return Some(r.clone());
        }
        let HE::Call {
            kernel,
            type_args,
            args,
        } = &e.kind
        else {
            return None;
        };
        let callee = &self.mb.inputs.program.kernels[*kernel];
        let mut targs = Vec::new();
        for t in type_args {
            targs.push(self.elem_type(t, e.span)?);
        }
        let (bindings, arg_tensors) = self.call_bindings(callee, args, e.span)?;
        let id = self.mb.instantiate(*kernel, bindings, targs, e.span);
        let Some(id) = id else {
            self.failed = true;
            return None;
        };
        let results = if self.node.is_some() {
            self.call_stmt(id, &callee.name, &arg_tensors, e.span)?
        } else {
            self.call_node(id, &callee.name, &arg_tensors, e.span)?
        };
        self.update_output_args(callee, args, &results, e.span)?;
        self.hoisted.insert(key, results.clone());
        Some(results)
    }

    /// The bindings of a call's arguments (tensors materialized if needed, const values,
    /// constants), with the tensor passed for each parameter.
    pub(super) fn call_bindings(
        &mut self,
        callee: &hir::Kernel,
        args: &'h [CallArg],
        span: Span,
    ) -> L<(Vec<Binding>, Vec<Option<TensorId>>)> {
        let mut bindings = Vec::new();
        let mut arg_tensors: Vec<Option<TensorId>> = Vec::new();
        for (p, a) in callee.params.iter().zip(args) {
            let (binding, tensor) = match (a, &p.kind) {
                (CallArg::Const(s), _) => (Binding::Const(self.eval_size(s, span)?), None),
                (CallArg::Default, KParamKind::Const) => (Binding::Default, None),
                (CallArg::Default, KParamKind::Value(_)) => {
                    let Some(hir::ParamDefault::Data(src)) = &p.default else {
                        return None;
                    };
                    let t = self.default_tensor(p, src)?;
                    let te = self.inst.tensor(t).clone();
                    let binding = Binding::Value {
                        elem: Some(te.elem),
                        shape: te.shape,
                        constant: None,
                        range: None,
                    };
                    (binding, Some(t))
                }
                (CallArg::Value(v), KParamKind::Value(_)) if p.output_only() => {
                    // Only its shape (and type) binds: the callee never reads it.
                    let t = self.named_tensor(v)?;
                    let te = self.inst.tensor(t);
                    let binding = Binding::Value {
                        elem: Some(te.elem),
                        shape: te.shape.clone(),
                        constant: None,
                        range: None,
                    };
                    (binding, None)
                }
                (CallArg::Value(v), KParamKind::Value(pt)) => {
                    let (binding, t) = self.value_arg(callee, p, pt, v, &bindings, span)?;
                    (binding, Some(t))
                }
                (CallArg::Value(_), KParamKind::Const) => return None,
            };
            bindings.push(binding);
            arg_tensors.push(tensor);
        }
        Some((bindings, arg_tensors))
    }

    /// The tensor passed for value argument `v` of parameter `p` (converted to the
    /// parameter's declared type), and its binding. `before` binds the earlier parameters.
    pub(super) fn value_arg(
        &mut self,
        callee: &hir::Kernel,
        p: &hir::KParam,
        pt: &hir::TypeRef,
        v: &'h hir::Expr,
        before: &[Binding],
        span: Span,
    ) -> L<(Binding, TensorId)> {
        self.hoist_calls(v)?;
        // A declared parameter type is the instance's; the argument converts.
        let declared = match &pt.elem {
            ElemRef::Known(_) | ElemRef::Template { .. } => {
                self.callee_elem(callee, pt, before, span)
            }
            _ => None,
        };
        let t = self.materialize(v, &p.name, declared)?;
        let te = self.inst.tensor(t).clone();
        let constant = match te.kind {
            TensorKind::Const(c) => Some(c),
            _ => None,
        };
        let (t, elem) = match declared {
            Some(d) if d != te.elem => {
                if constant.is_some() {
                    // Constant data converts at compile time (keeps it constant).
                    (self.convert_const_tensor(t, d, &p.name)?, d)
                } else {
                    (self.convert_tensor(t, d, &p.name, v.span)?, d)
                }
            }
            _ => (t, te.elem),
        };
        let constant = match self.inst.tensor(t).kind {
            TensorKind::Const(c) => Some(c),
            _ => None,
        };
        // A temporary's range so far specializes the callee, unless the call runs inside
        // a compute node (a loop or branch): later stores of the same node (a loop-carried
        // tensor, `a = sweep(a)`) change it on the next iteration, after the callee was
        // typed, so the callee takes the full range of the argument's type.
        let range = match self.inst.tensor(t).kind {
            TensorKind::Temp if self.node.is_none() => self.inst.tensor(t).range.clone(),
            _ => None,
        };
        let binding = Binding::Value {
            elem: Some(elem),
            shape: te.shape,
            constant,
            range,
        };
        Some((binding, t))
    }

    /// The call node of instance `id` with the tensors of its arguments (by parameter),
    /// and its result tensors.
    pub(super) fn call_node(
        &mut self,
        id: InstanceId,
        callee_name: &str,
        arg_tensors: &[Option<TensorId>],
        span: Span,
    ) -> L<Vec<TensorId>> {
        let (args_t, results) = self.call_tensors(id, callee_name, arg_tensors, span)?;
        let call = Call {
            callee: id,
            args: args_t.clone(),
            results: results.clone(),
            span,
        };
        self.add_node(Node::Call(call), &args_t, &results);
        Some(results)
    }

    /// The arguments of a call of instance `id` in its input order, and new tensors for
    /// its results.
    fn call_tensors(
        &mut self,
        id: InstanceId,
        callee_name: &str,
        arg_tensors: &[Option<TensorId>],
        span: Span,
    ) -> L<(Vec<TensorId>, Vec<TensorId>)> {
        let callee_inst = self.mb.module.instance(id);
        let outs: Vec<Tensor> = callee_inst
            .outputs
            .iter()
            .map(|&t| callee_inst.tensor(t).clone())
            .collect();
        // The callee's inputs in order, by the parameter each binds.
        let mut sorted_inputs: Vec<(usize, usize)> = callee_inst
            .graph
            .node_weights()
            .filter_map(|n| match n {
                Node::Input { tensor, param } => {
                    Some((callee_inst.tensor(*tensor).kind.clone(), *param))
                }
                _ => None,
            })
            .filter_map(|(k, p)| match k {
                TensorKind::Input(i) => Some((i, p)),
                _ => None,
            })
            .collect();
        sorted_inputs.sort();
        let mut args_t = Vec::new();
        for (_, p) in sorted_inputs {
            args_t.push(arg_tensors[p]?);
        }
        let mut results = Vec::new();
        for (i, o) in outs.iter().enumerate() {
            let name = format!(
                "{callee_name}_out{}",
                if outs.len() > 1 {
                    i.to_string()
                } else {
                    String::new()
                }
            );
            let t = self.new_tensor(
                &name,
                o.elem,
                o.shape.clone(),
                TensorKind::Temp,
                o.declared,
                span,
            );
            let tm = self.inst.tensor_mut(t);
            tm.reason = o.reason.clone();
            tm.range = o.range.clone();
            results.push(t);
        }
        Some((args_t, results))
    }

    /// The element type a callee parameter is declared with, when it does not depend on the
    /// callee's size variables.
    pub(super) fn callee_elem(
        &mut self,
        callee: &hir::Kernel,
        pt: &hir::TypeRef,
        bindings: &[Binding],
        span: Span,
    ) -> Option<ScalarType> {
        match &pt.elem {
            ElemRef::Known(t) => Some(*t),
            ElemRef::Template {
                prim,
                args,
                span: ts,
            } => {
                // Template types may use the callee's const parameters.
                let mut consts = HashMap::new();
                for (i, b) in bindings.iter().enumerate() {
                    if let Binding::Const(v) = b {
                        consts.insert(i, *v);
                    }
                }
                for (i, p) in callee.params.iter().enumerate() {
                    if let (KParamKind::Const, Some(hir::ParamDefault::Const(s))) =
                        (&p.kind, &p.default)
                    {
                        consts.entry(i).or_insert_with(|| s.as_const().unwrap_or(0));
                    }
                }
                let env = Env {
                    sizes: Vec::new(),
                    shapes: Vec::new(),
                    consts,
                    types: Vec::new(),
                    loops: HashMap::new(),
                };
                let _ = span;
                build_prim(*prim, args, *ts, &|s| s.eval(&env).ok())
                    .ok()
                    .flatten()
            }
            _ => None,
        }
    }

    pub(super) fn default_tensor(&mut self, p: &hir::KParam, src: &DataSource) -> L<TensorId> {
        let _ = (p, src);
        self.err(
            Diagnostic::error(
                codes::UNSUPPORTED,
                format!(
                    "parameter `{}` has a default value; pass it explicitly in calls",
                    p.name
                ),
            )
            .at(p.span)
            .help("defaults of tensor parameters are for running a kernel directly (`kiln run`)"),
        );
        None
    }

    /// A tensor holding the value of a tensor-valued (or scalar) expression. Inside a
    /// node (a call in a loop or branch), its type must be known before the node is
    /// typed: the parameter's declared type `declared`, or the expression's conversion.
    pub(super) fn materialize(
        &mut self,
        e: &'h hir::Expr,
        what: &str,
        declared: Option<ScalarType>,
    ) -> L<TensorId> {
        if let HE::Call { .. } = &e.kind {
            let r = self.call_results(e)?;
            return Some(r[0]);
        }
        if let Some(t) = self.named_tensor(e) {
            return Some(t);
        }
        if let HE::Param(p) = &e.kind {
            if let Some(ParamSlot::Tensor(t)) = self.params.get(*p) {
                return Some(*t);
            }
        }
        if let HE::Global(g) = &e.kind {
            return self.global_tensor(*g, e.span);
        }
        let scope = self.base_scope.clone();
        let shape = if self.is_scalar(e, &scope) {
            Vec::new()
        } else {
            self.shape_of(e, &scope)?
        };
        let known = if self.node.is_none() {
            None
        } else {
            let cast = match &e.kind {
                HE::Cast { to, .. } => self.elem_type(to, e.span),
                _ => None,
            };
            match declared.or(cast) {
                Some(t) => Some(t),
                None => {
                    self.err(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            format!("the type of argument `{what}` of a kernel call inside a loop or branch is not known here"),
                        )
                        .at(e.span)
                        .help("the parameter has a generic type: convert the argument (`int<16>(e)`), or pass a named tensor"),
                    );
                    return None;
                }
            }
        };
        let t = self.new_tensor(
            what,
            known.unwrap_or(ScalarType::Bool),
            shape,
            TensorKind::Temp,
            known.is_some(),
            e.span,
        );
        self.in_node(&format!("{what}_arg"), e.span, |lw| {
            lw.store_whole(t, e, e.span)
        });
        if self.failed {
            return None;
        }
        Some(t)
    }

    /// After a call: each output parameter's final contents (the call's results after the
    /// declared ones, in parameter order) become the contents of the local passed for it:
    /// copied (and converted) into a declared tensor, or bound to an inferred one.
    fn update_output_args(
        &mut self,
        callee: &hir::Kernel,
        args: &'h [CallArg],
        results: &[TensorId],
        span: Span,
    ) -> L<()> {
        let mut out = callee.results.len();
        for (p, a) in callee.params.iter().zip(args) {
            if !p.written {
                continue;
            }
            let r = *results.get(out)?;
            out += 1;
            let CallArg::Value(v) = a else {
                return None;
            };
            let HE::Local(l) = &v.kind else {
                return None;
            };
            // Inside a node, a tensor local has one buffer (a loop-carried one, graph.rs).
            if self.k.locals[*l].declared.is_some() || self.node.is_some() {
                let dst = *self.tensor_locals.get(l)?;
                self.copy_tensor(dst, r, &self.k.locals[*l].name.clone(), span);
            } else {
                let name = self.k.locals[*l].name.clone();
                self.inst.tensor_mut(r).bound_to.push(name);
                self.tensor_locals.insert(*l, r);
            }
        }
        Some(())
    }

    /// A compute node copying every element of `src` into `dst` (same shape), converted to
    /// `dst`'s type.
    pub(super) fn copy_tensor(&mut self, dst: TensorId, src: TensorId, what: &str, span: Span) {
        let shape = self.inst.tensor(dst).shape.clone();
        self.in_node(&format!("{what}_copy"), span, |lw| {
            lw.loop_nest(&shape, span, &mut |lw, idx| {
                let v = lw.load(src, idx.to_vec(), span);
                lw.store_elem(dst, idx.to_vec(), v, span);
                Some(())
            })
        });
    }

    /// Runs `body` in the compute node being built, or in a new one outside nodes.
    pub(super) fn in_node(
        &mut self,
        name: &str,
        span: Span,
        body: impl FnOnce(&mut Self) -> L<()>,
    ) {
        if self.node.is_some() {
            if body(self).is_none() {
                self.failed = true;
            }
        } else {
            let none = hir::LiveAfter::nothing();
            self.compute_node(name, span, &none, body);
        }
    }

    /// A call inside the compute node being built ([`Stmt::Call`]): new result tensors,
    /// rewritten each time the statement runs.
    pub(super) fn call_stmt(
        &mut self,
        id: InstanceId,
        callee_name: &str,
        arg_tensors: &[Option<TensorId>],
        span: Span,
    ) -> L<Vec<TensorId>> {
        let (args, results) = self.call_tensors(id, callee_name, arg_tensors, span)?;
        self.emit(Stmt::Call(Call {
            callee: id,
            args,
            results: results.clone(),
            span,
        }));
        Some(results)
    }

    /// An elementwise conversion of tensor `t` into a new tensor of type `to`.
    pub(super) fn convert_tensor(
        &mut self,
        t: TensorId,
        to: ScalarType,
        what: &str,
        span: Span,
    ) -> L<TensorId> {
        let shape = self.inst.tensor(t).shape.clone();
        let out = self.new_tensor(what, to, shape.clone(), TensorKind::Temp, true, span);
        self.in_node(&format!("{what}_convert"), span, |lw| {
            lw.loop_nest(&shape, span, &mut |lw, idx| {
                let v = lw.load(t, idx.to_vec(), span);
                lw.store_elem(out, idx.to_vec(), v, span);
                Some(())
            })
        });
        Some(out)
    }
}
