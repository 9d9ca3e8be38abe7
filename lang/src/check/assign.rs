//! Assignments: to a name (a new or existing local), to elements or slices of a local
//! tensor, and tuple unpacking of a kernel call; the element classes locals take.

use super::{Checker, Class, Info};
use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{Dim, ExprKind as HE, Place, StmtKind as HS};
use crate::span::Span;

impl Checker<'_, '_> {
    /// That a value of class `value` (at `span`) may be stored where `target` is held
    /// (in `name`): bools and numbers do not mix.
    pub(super) fn check_assign_class(
        &mut self,
        target: Class,
        value: Class,
        span: Span,
        name: &str,
    ) {
        let bad = match (target, value) {
            (Class::Unknown, _) | (_, Class::Unknown) => false,
            (Class::Bool, v) => v != Class::Bool,
            (_, Class::Bool) => true,
            _ => false,
        };
        if bad {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{name}` holds {} but gets {}", target.name(), value.name()),
                )
                .at(span)
                .help("convert explicitly, e.g. `bool(x)` or `int<1>(flag)`"),
            );
        }
    }

    /// `targets = value` (one target, or a tuple unpacking a kernel call).
    pub(super) fn assign(
        &mut self,
        targets: &[ast::Expr],
        value: &ast::Expr,
        span: Span,
    ) -> Option<HS> {
        if targets.len() > 1 || matches!(value.kind, AE::Tuple(_)) {
            return self.assign_tuple(targets, value, span);
        }
        let target = &targets[0];
        match &target.kind {
            AE::Name(n) if self.list_names.contains_key(n) => {
                self.err(
                    Diagnostic::error(
                        codes::READ_ONLY,
                        format!("`{n}` names a list literal, a constant"),
                    )
                    .at(target.span)
                    .help(format!(
                        "to change its elements, declare a tensor: `{n}: T[N] = [...]`"
                    )),
                );
                None
            }
            AE::Name(n) if matches!(value.kind, AE::List(_)) && !self.locals.contains_key(n) => {
                self.name_list(n, target.span, value)?;
                None
            }
            AE::Name(n) if self.element_aliases.iter().any(|(a, ..)| a == n) => {
                self.check_new_local_name(n, target.span);
                None
            }
            AE::Name(n) => {
                let Some((vh, vinfo)) = self.expr(value) else {
                    // Later uses of the name would only repeat the error.
                    self.poison_if_new(n);
                    return None;
                };
                let from_call = matches!(vh.kind, HE::Call { .. });
                let id = match self.locals.get(n) {
                    Some(&id) if self.is_param_local(id) => {
                        self.err(
                            Diagnostic::error(
                                codes::READ_ONLY,
                                format!("cannot assign to `{n}`: it is a parameter"),
                            )
                            .at(target.span)
                            .help(format!("as in Python, this would not change the caller's tensor: write its elements, `{n}[:] = ...`")),
                        );
                        return None;
                    }
                    Some(&id) => self.reassign(id, n, &vinfo, value.span, span, from_call)?,
                    None => self.assign_new(n, target.span, &vinfo, span)?,
                };
                self.assigned.insert(id);
                Some(HS::Assign {
                    target: Place::Local(id),
                    value: vh,
                })
            }
            AE::Index { base, subs } => self.assign_elements(base, subs, target.span, value),
            _ => {
                self.err(
                    Diagnostic::error(codes::READ_ONLY, "this cannot be assigned to")
                        .at(target.span)
                        .help("assign to a name (`x = ...`) or to elements of a local tensor (`y[i] = ...`)"),
                );
                None
            }
        }
    }

    /// Marks `n` as a name whose definition failed, unless it is already a local.
    fn poison_if_new(&mut self, n: &str) {
        if !self.locals.contains_key(n) {
            self.poisoned.insert(n.to_string());
        }
    }

    /// `n = value` for an existing local `id`: the value must fit its shape and class.
    fn reassign(
        &mut self,
        id: usize,
        n: &str,
        vinfo: &Info,
        value_span: Span,
        span: Span,
        from_call: bool,
    ) -> Option<usize> {
        let lshape = self.local_shape[id].clone();
        match (&lshape, &vinfo.shape) {
            (None, Some(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        format!("`{n}` is a scalar but gets a tensor"),
                    )
                    .at(value_span)
                    .with_secondary(self.k.locals[id].span, "first assigned here"),
                );
                return None;
            }
            (Some(ls), vs) => {
                if let Some(vs) = vs {
                    self.same_shape(ls, vs, value_span, &format!("`{n}`"));
                }
                // A kernel call's result replaces a loop-carried tensor (lowering gives it
                // one buffer of the type it has before the loop).
                if self.wher.nested && self.k.locals[id].declared.is_none() && !from_call {
                    self.err(
                        Diagnostic::error(codes::UNSUPPORTED, "whole-tensor assignment inside a loop or branch")
                            .at(span)
                            .help("assign slices or elements (`y[i] = ...`), or move the assignment to the top level"),
                    );
                    return None;
                }
            }
            (None, None) => {}
        }
        if self.k.locals[id].declared.is_none() && self.literal_only.contains(&id) {
            if let Some(float) = float_type(vinfo.class).filter(|_| vinfo.shape.is_none()) {
                self.float_from_literal(id, float);
            } else if !vinfo.class.is_literal() {
                self.literal_only.remove(&id);
            }
        }
        if self.k.locals[id].declared.is_some() {
            let lc = self.local_class[id];
            self.check_assign_class(lc, vinfo.class, value_span, n);
        } else {
            let merged = self.merge_inferred_class(id, vinfo.class, value_span)?;
            self.local_class[id] = merged;
        }
        Some(id)
    }

    /// `n = value` that makes a new local (at `name_span`).
    fn assign_new(&mut self, n: &str, name_span: Span, vinfo: &Info, span: Span) -> Option<usize> {
        if !self.check_new_local_name(n, name_span) {
            return None;
        }
        if vinfo.shape.is_some() && self.wher.nested {
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "a new tensor cannot be created inside a loop or branch",
                )
                .at(span)
                .help(
                    "declare the tensor at the top level (`t: T[N]`) and assign its elements here",
                ),
            );
            return None;
        }
        let class = vinfo.class.materialized();
        let id = self.new_local(n, name_span, None, vinfo.shape.clone(), class);
        if vinfo.shape.is_none() && vinfo.class.is_literal() {
            self.literal_only.insert(id);
        }
        Some(id)
    }

    /// Scalar local `id`, assigned only literals so far, gets a value of float type
    /// `float`: as in Python (`s = 0.` then `s += a[i]`), it has that type from its first
    /// assignment on, as if declared `s: f32` (its literals convert to it).
    fn float_from_literal(&mut self, id: usize, float: kiln_numeric::ScalarType) {
        self.literal_only.remove(&id);
        let span = self.k.locals[id].span;
        self.k.locals[id].declared = Some(crate::hir::TypeRef {
            elem: crate::hir::ElemRef::Known(float),
            shape: None,
            span,
        });
        self.local_class[id] = Class::of(&float);
    }

    /// `base[subs] = value`: writes elements or a region of a declared local tensor.
    fn assign_elements(
        &mut self,
        base: &ast::Expr,
        subs: &[ast::Subscript],
        target_span: Span,
        value: &ast::Expr,
    ) -> Option<HS> {
        if let Some(expanded) = self.expand_alias_root(base) {
            return self.assign_elements(&expanded, subs, target_span, value);
        }
        let (root, levels) = super::indexing::flatten_chain(base, subs);
        let (n, id, lshape) = self.written_tensor(root, target_span)?;
        let (hsubs, region) = self.subscripts(&lshape, &levels, target_span)?;
        let (vh, vinfo) = self.expr(value)?;
        let lc = self.local_class[id];
        self.check_assign_class(lc, vinfo.class, value.span, &n);
        match (&region, &vinfo.shape) {
            (None, Some(_)) => {
                self.err(
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        format!("an element of `{n}` gets a tensor"),
                    )
                    .at(value.span),
                );
                return None;
            }
            (Some(r), Some(v)) => {
                self.same_shape(r, v, value.span, "the assigned region");
            }
            _ => {}
        }
        Some(HS::Assign {
            target: Place::Index {
                local: id,
                subs: hsubs,
            },
            value: vh,
        })
    }

    /// The local tensor whose elements an assignment writes: its name, id and shape. It
    /// must be a local (not a parameter), a tensor, and have a declared type.
    fn written_tensor(
        &mut self,
        base: &ast::Expr,
        target_span: Span,
    ) -> Option<(String, usize, Vec<Dim>)> {
        let AE::Name(n) = &base.kind else {
            self.err(
                Diagnostic::error(codes::READ_ONLY, "only local tensors can be assigned to")
                    .at(base.span),
            );
            return None;
        };
        let Some(&id) = self.locals.get(n) else {
            if self.poisoned.contains(n) {
                return None;
            }
            let what = if self.lookup_value_name(n).is_some() {
                "parameters are read-only"
            } else {
                "it is not a local tensor"
            };
            self.err(
                Diagnostic::error(
                    codes::READ_ONLY,
                    format!("cannot assign to elements of `{n}`: {what}"),
                )
                .at(base.span)
                .help(format!("declare a local tensor first: `{n}_out: T[...]`")),
            );
            return None;
        };
        let Some(lshape) = self.local_shape[id].clone() else {
            self.err(
                Diagnostic::error(
                    codes::KIND_MISMATCH,
                    format!("`{n}` is a scalar and cannot be indexed"),
                )
                .at(target_span),
            );
            return None;
        };
        if self.k.locals[id].declared.is_none() {
            self.err(
                Diagnostic::error(
                    codes::NEEDS_ELEM_TYPE,
                    format!("elements of `{n}` are written, so `{n}` needs a declared type"),
                )
                .at(target_span)
                .with_secondary(
                    self.k.locals[id].span,
                    "its type is inferred from this assignment",
                )
                .help(format!("declare it: `{n}: T[...]`")),
            );
            return None;
        }
        Some((n.clone(), id, lshape))
    }

    /// The class of inferred local `id` once it also gets a value of class `value`.
    fn merge_inferred_class(&mut self, id: usize, value: Class, span: Span) -> Option<Class> {
        let cur = self.local_class[id];
        let merged = match (cur, value) {
            (Class::Unknown, _) | (_, Class::Unknown) => Class::Unknown,
            (a, b) if a == b => a,
            (Class::Bool, _) | (_, Class::Bool) => {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "`{}` gets both bool and numeric values",
                            self.k.locals[id].name
                        ),
                    )
                    .at(span)
                    .with_secondary(self.k.locals[id].span, "first assigned here"),
                );
                return None;
            }
            (Class::F32 | Class::F64, b)
                if b.is_exact() && !matches!(b, Class::IntLit | Class::RealLit) =>
            {
                return self.mixed_local(id, span, cur);
            }
            (a, Class::F32 | Class::F64) if a.is_exact() => {
                return self.mixed_local(id, span, value)
            }
            (Class::F32, Class::F64) | (Class::F64, Class::F32) => {
                let name = self.k.locals[id].name.clone();
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("`{name}` gets both f32 and f64 values"),
                    )
                    .at(span)
                    .label(format!("this is {}", value.name()))
                    .with_secondary(self.k.locals[id].span, "first assigned here")
                    .help(format!(
                        "declare its type (`{name}: f64 = ...`) or convert the values explicitly"
                    )),
                );
                return None;
            }
            (Class::F32, _) | (_, Class::F32) => Class::F32,
            (Class::F64, _) | (_, Class::F64) => Class::F64,
            (Class::Int, Class::IntLit) | (Class::IntLit, Class::Int) => Class::Int,
            _ => Class::Fixed,
        };
        Some(merged)
    }

    /// Reports local `id` getting both `float` (f32 or f64) and exact values.
    fn mixed_local(&mut self, id: usize, span: Span, float: Class) -> Option<Class> {
        let name = self.k.locals[id].name.clone();
        let float = float.name();
        self.err(
            Diagnostic::error(
                codes::MIXED_FLOAT,
                format!("`{name}` gets both {float} and exact values"),
            )
            .at(span)
            .with_secondary(self.k.locals[id].span, "first assigned here")
            .help(format!(
                "declare its type (`{name}: {float} = ...`) or convert the values explicitly"
            )),
        );
        None
    }

    /// `a, b = kernel(...)`: new locals for the results of a kernel call.
    fn assign_tuple(&mut self, targets: &[ast::Expr], value: &ast::Expr, span: Span) -> Option<HS> {
        if !matches!(value.kind, AE::Call { .. }) {
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    "tuple assignment only unpacks the results of a kernel call",
                )
                .at(span)
                .help("assign each value separately"),
            );
            return None;
        }
        if self.wher.nested {
            self.err(
                Diagnostic::error(
                    codes::CALL_NOT_TOP_LEVEL,
                    "results of a kernel call cannot be unpacked inside a loop or branch",
                )
                .at(span)
                .help("unpack them at the top level of the kernel body, or call a kernel with one result here"),
            );
            return None;
        }
        let Some((vh, _)) = self.expr_multi(value, targets.len()) else {
            for t in targets {
                if let AE::Name(n) = &t.kind {
                    self.poison_if_new(n);
                }
            }
            return None;
        };
        let HE::Call { kernel, .. } = &vh.kind else {
            return None;
        };
        let results = self.ctx.kernels[*kernel].results.clone();
        let mut ids = Vec::new();
        for (t, r) in targets.iter().zip(&results) {
            let AE::Name(n) = &t.kind else {
                self.err(
                    Diagnostic::error(codes::UNSUPPORTED, "unpack into plain names").at(t.span),
                );
                return None;
            };
            if self.locals.contains_key(n) || !self.check_new_local_name(n, t.span) {
                if self.locals.contains_key(n) {
                    self.err(
                        Diagnostic::error(
                            codes::DUPLICATE,
                            format!("`{n}` already exists; unpack into new names"),
                        )
                        .at(t.span),
                    );
                }
                return None;
            }
            let shape = r.shape.as_ref().map(|_| Vec::new());
            let class = Class::of_elem(&r.elem);
            let id = self.new_local(n, t.span, None, shape, class);
            self.assigned.insert(id);
            ids.push(id);
        }
        // Real result shapes were checked in expr_multi; record them on the locals.
        if let Some(shapes) = self.last_call_result_shapes.take() {
            for (id, s) in ids.iter().zip(shapes) {
                self.local_shape[*id] = s;
                self.k.locals[*id].is_tensor = self.local_shape[*id].is_some();
            }
        }
        Some(HS::AssignTuple {
            targets: ids,
            value: vh,
        })
    }
}

/// The float type of values of class `c`, if they are floats (a literal-started local
/// takes it: `float_from_literal`).
fn float_type(c: Class) -> Option<kiln_numeric::ScalarType> {
    match c {
        Class::F32 => Some(kiln_numeric::ScalarType::F32),
        Class::F64 => Some(kiln_numeric::ScalarType::F64),
        _ => None,
    }
}
