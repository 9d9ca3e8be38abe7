//! Statements inside a compute node: the node's blocks, its IR locals (HIR scalar locals
//! and their classes), assignments, stores into elements and regions of tensors, and
//! whole-tensor stores (loop nests, comprehensions). Control flow is control.rs's
//! business; expressions are expr.rs's.

use super::affine::trip_count_const;
use super::graph::block_assigns_any;
use super::shapes::view_access;
use super::*;
use kiln_lang::hir::{ExprKind as HE, Place, StmtKind as HS, Sub};

impl<'h> Lowerer<'_, '_, 'h> {
    pub(super) fn emit(&mut self, s: Stmt) {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .last_mut()
            .expect("block")
            .push(s);
    }

    pub(super) fn push_block(&mut self) {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .push(Vec::new());
    }

    pub(super) fn pop_block(&mut self) -> Block {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .pop()
            .expect("block")
    }

    pub(super) fn new_local(
        &mut self,
        name: &str,
        declared: Option<ScalarType>,
        class: Class,
        span: Span,
    ) -> LocalId {
        let l = self.inst.add_local(Local {
            name: name.to_string(),
            ty: declared.unwrap_or(ScalarType::Bool),
            declared: declared.is_some(),
            reason: if declared.is_some() {
                TypeReason::Declared
            } else {
                TypeReason::Pending
            },
            range: None,
            span,
        });
        self.node
            .as_mut()
            .expect("in a node")
            .local_class
            .insert(l, class);
        l
    }

    /// The IR local of HIR scalar local `h` in the current node, loading its current
    /// version at the node's start when there is one.
    pub(super) fn hir_local(&mut self, h: usize) -> L<LocalId> {
        if let Some(l) = self.node.as_ref().expect("in a node").locals.get(&h) {
            return Some(*l);
        }
        let hl = &self.k.locals[h];
        let declared = match &hl.declared {
            Some(d) => Some(self.elem_type(&d.elem, d.span)?),
            None => None,
        };
        let version = self.scalar_versions.get(&h).copied();
        let class = self.hir_local_class(h, declared);
        let l = self.new_local(&hl.name.clone(), declared, class, hl.span);
        self.node.as_mut().expect("in a node").locals.insert(h, l);
        if let Some(v) = version {
            // Prologue: the value from the statement that last assigned it.
            let span = hl.span;
            let e = self.load(v, Vec::new(), span);
            let node = self.node.as_mut().expect("in a node");
            node.blocks[0].insert(
                0,
                Stmt::Assign {
                    local: l,
                    value: e,
                    span,
                },
            );
        }
        Some(l)
    }

    /// The class of the IR local made for HIR scalar local `h` (with its declared type):
    /// the declared type's, else its current version's, else exact.
    pub(super) fn hir_local_class(&self, h: usize, declared: Option<ScalarType>) -> Class {
        match (declared, self.scalar_versions.get(&h)) {
            (Some(t), _) => class_of(&t),
            (None, Some(v)) => class_of(&self.inst.tensor(*v).elem),
            (None, None) => Class::Exact,
        }
    }

    pub(super) fn stmt(&mut self, s: &'h hir::Stmt) -> L<()> {
        self.stmt_in(s, &Scope::default())
    }

    /// `l = value`: converted to `l`'s declared type, or typed by inference.
    pub(super) fn assign_local(
        &mut self,
        l: LocalId,
        value: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<()> {
        let target = self.inst.local(l).declared.then_some(self.inst.local(l).ty);
        let (v, c) = match target {
            Some(_) => self.value_for(value, &[], scope, target)?,
            None => self.scalar(value, scope, self.local_class(l))?,
        };
        self.note_assign_class(l, c, value.span)?;
        self.emit(Stmt::Assign {
            local: l,
            value: v,
            span,
        });
        Some(())
    }

    /// Lowers a statement inside a compute node, with HIR loop variables as in `scope`.
    /// Kernel calls in the statement's own expressions run first ([`Stmt::Call`]s).
    pub(super) fn stmt_in(&mut self, s: &'h hir::Stmt, scope: &Scope<'h>) -> L<()> {
        let saved = std::mem::replace(&mut self.base_scope, scope.clone());
        let r = self.stmt_in_scope(s, scope);
        self.base_scope = saved;
        r
    }

    fn stmt_in_scope(&mut self, s: &'h hir::Stmt, scope: &Scope<'h>) -> L<()> {
        let mut roots = Vec::new();
        hir::visit_stmt_exprs(s, &mut |e| roots.push(e));
        for e in roots {
            self.hoist_calls(e)?;
        }
        match &s.kind {
            HS::Decl { local, init } => {
                let Some(init) = init else { return Some(()) };
                if self.k.locals[*local].is_tensor {
                    // Declared inside a loop or branch: refilled each time it runs.
                    let t = *self.tensor_locals.get(local)?;
                    return self.store_whole_in(t, init, scope, s.span);
                }
                let l = self.hir_local(*local)?;
                self.assign_local(l, init, scope, s.span)
            }
            HS::Assign {
                target: Place::Local(h),
                value,
            } => {
                if self.k.locals[*h].is_tensor {
                    let t = *self.tensor_locals.get(h)?;
                    return self.store_whole_in(t, value, scope, s.span);
                }
                let l = self.hir_local(*h)?;
                self.assign_local(l, value, scope, s.span)
            }
            HS::Assign {
                target: Place::Index { local, subs },
                value,
            } => self.store_index(*local, subs, value, scope, s.span),
            HS::For { header, body } => self.for_loop(header, body, scope),
            HS::While {
                cond,
                max,
                max_span,
                body,
            } => self.while_loop(cond, max, *max_span, body, scope, s.span),
            HS::Break => self.jump(true, s.span),
            HS::Continue => self.jump(false, s.span),
            HS::If {
                cond,
                then_block,
                else_block,
            } => self.if_stmt(cond, then_block, else_block, scope),
            // A call statement of a kernel with output parameters: done above.
            HS::AssignTuple { targets, .. } if targets.is_empty() => Some(()),
            HS::AssignTuple { .. } | HS::Return(_) => {
                self.err(
                    Diagnostic::error(
                        codes::CALL_NOT_TOP_LEVEL,
                        "this statement must be at the top level",
                    )
                    .at(s.span),
                );
                None
            }
        }
    }

    /// `local[subs] = value`: one element, or a region (a slice) element by element.
    pub(super) fn store_index(
        &mut self,
        local: usize,
        subs: &'h [Sub],
        value: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<()> {
        let t = *self.tensor_locals.get(&local)?;
        let shape = self.inst.tensor(t).shape.clone();
        let target = self.inst.tensor(t).elem;
        if self.is_element(subs) {
            // Python's order: the value, then the index.
            let (v, _) = self.value_for(value, &[], scope, Some(target))?;
            let (base, region) = self.view(subs, &shape, scope, span, true)?;
            self.emit(Stmt::Store {
                access: view_access(t, &base, &region, &[]),
                value: v,
                span,
            });
            return Some(());
        }
        let (base, region) = self.view(subs, &shape, scope, span, true)?;
        if let Some(d) = base
            .iter()
            .filter_map(|b| b.dynamic)
            .find(|&d| self.reads_tensor(d, t))
        {
            let span = self.inst.expr_spans[d.index()];
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "the index of a region store reads the tensor it stores into",
                )
                .at(span)
                .help("copy the index into a scalar first: `k = ...` then `y[k, :] = ...`"),
            );
            return None;
        }
        let region_shape: Vec<usize> = region.iter().map(|r| r.1).collect();
        let value_shape = self.shape_of_or_scalar(value, scope)?;
        if let Some(vs) = &value_shape {
            if *vs != region_shape {
                self.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!("a region of shape {region_shape:?} gets a tensor of shape {vs:?}"),
                    )
                    .at(span),
                );
                return None;
            }
        }
        self.loop_nest(&region_shape, span, &mut |lw, idx| {
            let (v, _) = lw.value_for(value, idx, scope, Some(target))?;
            lw.emit(Stmt::Store {
                access: view_access(t, &base, &region, idx),
                value: v,
                span,
            });
            Some(())
        })
    }

    pub(super) fn local_class(&self, l: LocalId) -> Option<Class> {
        let node = self.node.as_ref()?;
        node.local_class.get(&l).copied()
    }

    /// Records the class of a value assigned to an inferred local; mixing is an error.
    pub(super) fn note_assign_class(&mut self, l: LocalId, c: Class, span: Span) -> L<()> {
        if self.inst.local(l).declared {
            let t = self.inst.local(l).ty;
            if (t == ScalarType::Bool) != (c == Class::Bool) {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "`{}` is {t} but gets a {}",
                            self.inst.local(l).name,
                            if c == Class::Bool { "bool" } else { "number" }
                        ),
                    )
                    .at(span),
                );
                return None;
            }
            return Some(());
        }
        let assigned_before = block_assigns_any(&self.node.as_ref()?.blocks, l);
        let node = self.node.as_mut()?;
        let prev = node.local_class.get(&l).copied();
        match prev {
            Some(p) if p != c && assigned_before => {
                let name = self.inst.local(l).name.clone();
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("`{name}` gets values of different kinds ({p:?} and {c:?})"),
                    )
                    .at(span)
                    .help(format!("declare its type: `{name}: T = ...`")),
                );
                None
            }
            _ => {
                node.local_class.insert(l, c);
                Some(())
            }
        }
    }

    /// `t[index] = value` (checked until the bounds pass proves it).
    pub(super) fn store_elem(
        &mut self,
        t: TensorId,
        index: Vec<Affine>,
        value: ExprId,
        span: Span,
    ) {
        self.emit(Stmt::Store {
            access: Access {
                tensor: t,
                index,
                dynamic: Vec::new(),
                checked: true,
                guarded: false,
            },
            value,
            span,
        });
    }

    /// Emits a loop nest over `shape` and calls `body` with the index.
    pub(super) fn loop_nest(
        &mut self,
        shape: &[usize],
        span: Span,
        body: &mut dyn FnMut(&mut Self, &[Affine]) -> L<()>,
    ) -> L<()> {
        if shape.is_empty() {
            return body(self, &[]);
        }
        let vars: Vec<LoopVarId> = (0..shape.len())
            .map(|d| self.inst.add_loop_var(format!("i{d}"), span))
            .collect();
        for (&v, &n) in vars.iter().zip(shape) {
            self.loop_ranges.insert(v, (0, n as i64 - 1));
        }
        let idx: Vec<Affine> = vars.iter().map(|&v| Affine::var(v)).collect();
        for _ in 0..shape.len() {
            self.push_block();
        }
        body(self, &idx)?;
        self.close_loop_nest(&vars, shape, span);
        Some(())
    }

    /// Stores the value of `e` (tensor or scalar, broadcast) into all of tensor `t`.
    /// The HIR loop variables are those of the statement being lowered (`base_scope`:
    /// inside a node, the loops around a call's result or argument).
    pub(super) fn store_whole(&mut self, t: TensorId, e: &'h hir::Expr, span: Span) -> L<()> {
        let scope = self.base_scope.clone();
        self.store_whole_in(t, e, &scope, span)
    }

    /// `t = e` (every element of tensor `t`) where the HIR loop variables are as in
    /// `scope` (inside a loop: a tensor declared or assigned there).
    pub(super) fn store_whole_in(
        &mut self,
        t: TensorId,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<()> {
        let shape = self.inst.tensor(t).shape.clone();
        if let Some(vs) = self.shape_of_or_scalar(e, scope)? {
            if vs != shape {
                self.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!("a tensor of shape {shape:?} gets a value of shape {vs:?}"),
                    )
                    .at(span),
                );
                return None;
            }
        }
        let declared = self.inst.tensor(t).declared;
        let hint = declared.then(|| class_of(&self.inst.tensor(t).elem));
        // A comprehension keeps its own loop variable names.
        if let HE::Comprehension { loops, elem } = &e.kind {
            return self.comprehension_into(t, loops, elem, scope, span, hint);
        }
        self.loop_nest(&shape, span, &mut |lw, idx| {
            let (v, _) = match declared {
                true => {
                    let target = lw.inst.tensor(t).elem;
                    lw.value_for(e, idx, scope, Some(target))?
                }
                false => lw.elem(e, idx, scope, hint)?,
            };
            lw.store_elem(t, idx.to_vec(), v, span);
            Some(())
        })
    }

    pub(super) fn comprehension_into(
        &mut self,
        t: TensorId,
        loops: &'h [hir::LoopHeader],
        elem: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<()> {
        let mut vars = Vec::new();
        let mut inner = scope.clone();
        for h in loops {
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            vars.push(v);
        }
        // Index i_d runs over 0..n_d; the source variable is lo + step * i_d.
        let mut extents = Vec::new();
        for (h, &v) in loops.iter().zip(&vars) {
            let lo = self.affine_size(&h.lo, scope, h.span)?;
            let hi = self.affine_size(&h.hi, scope, h.span)?;
            let n = trip_count_const(&lo, &hi, h.step).filter(|&n| n > 0);
            let Some(n) = n else {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        "a comprehension needs constant, non-empty extents",
                    )
                    .at(h.span),
                );
                return None;
            };
            extents.push(n as usize);
            self.loop_ranges.insert(v, (0, n - 1));
            inner
                .loops
                .insert(h.var, lo.add_scaled(&Affine::var(v), h.step));
        }
        for _ in 0..vars.len() {
            self.push_block();
        }
        let idx: Vec<Affine> = vars.iter().map(|&v| Affine::var(v)).collect();
        let (value, _) = self.scalar(elem, &inner, hint)?;
        self.store_elem(t, idx, value, span);
        self.close_loop_nest(&vars, &extents, span);
        Some(())
    }

    /// Closes the blocks opened for a loop nest (one per variable, the innermost last):
    /// each becomes the body of a loop of its variable over `0..extent`, and the
    /// outermost loop goes into the enclosing block.
    fn close_loop_nest(&mut self, vars: &[LoopVarId], extents: &[usize], span: Span) {
        let mut body = self.pop_block();
        for d in (0..vars.len()).rev() {
            let l = Loop {
                var: vars[d],
                lo: Affine::constant(0),
                hi: Affine::constant(extents[d] as i64),
                step: 1,
                body,
                directives: Default::default(),
                span,
            };
            if d == 0 {
                self.emit(Stmt::For(l));
                break;
            }
            body = self.pop_block();
            body.push(Stmt::For(l));
        }
    }
}
