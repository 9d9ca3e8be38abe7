//! Constant data: module parameters (loaded and converted once per module), constant
//! arguments converted at compile time, and the lookup tables of math functions; each
//! becomes a constant tensor with a const node in the instances that use it. Literals in
//! expressions are literals.rs's business.

use super::*;
use crate::data::{typed_from_raw, value_range, ConstData, RawArray};
use crate::value::{convert, real_literal};
use kiln_lang::hir::{DataSource, Literal};
use kiln_numeric::{Fx, LutSpec};
use load_warnings::{conversion_warnings, LoadTarget};

impl ModuleBuilder<'_> {
    /// Adds constant data to the module.
    pub(super) fn add_const(&mut self, data: ConstData) -> ConstId {
        self.module.consts.push(data);
        ConstId(self.module.consts.len() as u32 - 1)
    }

    /// The constant data of the lookup table of `f` (built once per module).
    pub(super) fn table_const(
        &mut self,
        f: kiln_numeric::MathFn,
        spec: &LutSpec,
    ) -> Result<ConstId, String> {
        let key = (
            f,
            spec.size,
            spec.lo.to_bits(),
            spec.hi.to_bits(),
            spec.bits,
        );
        if let Some(c) = self.tables.get(&key) {
            return Ok(*c);
        }
        let (ty, entries) = kiln_numeric::lut::table(f, spec)?;
        let values: Vec<Value> = entries.into_iter().map(Value::Num).collect();
        let range = value_range(&values);
        let id = self.add_const(ConstData {
            name: format!("{}_table", f.name()),
            elem: ScalarType::Fixed(ty),
            shape: vec![spec.size as usize],
            values,
            source: format!(
                "the lookup table of `{}` ({} entries over [{}, {}))",
                f.name(),
                spec.size,
                spec.lo,
                spec.hi
            ),
            range,
        });
        self.tables.insert(key, id);
        Ok(id)
    }

    /// The constant data of a module parameter (loaded and converted on first use).
    pub(super) fn global_const(&mut self, g: hir::GlobalId) -> Option<ConstId> {
        if let Some(c) = self.global_consts.get(&g) {
            return Some(*c);
        }
        let gl = &self.inputs.program.globals[g];
        let (values, diags) =
            load_global(gl, self.inputs.global_data.get(g).and_then(|r| r.as_ref()));
        for d in diags {
            self.diags.push(d);
        }
        let values = values?;
        let source = match &gl.init {
            DataSource::Load { written, .. } => written.clone(),
            DataSource::Literal(lit, _) => format!("{lit:?}"),
        };
        let range = value_range(&values);
        let id = self.add_const(ConstData {
            name: gl.name.clone(),
            elem: gl.elem,
            shape: gl.shape.clone(),
            values,
            source,
            range,
        });
        self.global_consts.insert(g, id);
        Some(id)
    }
}

/// The values of a module parameter, converted to its type, with the diagnostics of the
/// conversion (shape or dtype errors, W0802 warnings). The driver calls this for every
/// parameter in `kiln check`; lowering for the ones it uses.
pub fn load_global(
    gl: &hir::Global,
    raw: Option<&RawArray>,
) -> (Option<Vec<Value>>, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let values = match &gl.init {
        DataSource::Load { written, span, .. } => {
            let Some(raw) = raw else {
                diags.push(
                    Diagnostic::error(
                        codes::READ_FAILED,
                        format!("data of `{}` was not loaded", gl.name),
                    )
                    .at(*span),
                );
                return (None, diags.list);
            };
            if raw.shape != gl.shape {
                diags.push(
                    Diagnostic::error(
                        codes::DATA_SHAPE,
                        format!(
                            "`{}` is declared with shape {:?} but {} holds {:?}",
                            gl.name, gl.shape, written, raw.shape
                        ),
                    )
                    .at(*span)
                    .with_secondary(gl.span, "declared here"),
                );
                return (None, diags.list);
            }
            match typed_from_raw(raw, &gl.elem) {
                Ok((values, report)) => {
                    let target = LoadTarget {
                        what: format!("`{}`", gl.name),
                        elem: &gl.elem,
                        source: written,
                        shape: &gl.shape,
                        span: *span,
                    };
                    for d in conversion_warnings(&report, &target) {
                        diags.push(d);
                    }
                    Some(values)
                }
                Err(e) => {
                    diags.push(Diagnostic::error(codes::DATA_DTYPE, e).at(*span));
                    None
                }
            }
        }
        DataSource::Literal(lit, span) => {
            literal_value(lit, &gl.elem, *span, &mut diags).map(|v| vec![v])
        }
    };
    (values, diags.list)
}

/// The value of a literal in type `t`.
pub(super) fn literal_value(
    lit: &Literal,
    t: &ScalarType,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let v = match lit {
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Num(Fx::int(*i)),
        Literal::Real(text) => match real_literal(text) {
            Some((f, _)) => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
            None => {
                diags.push(
                    Diagnostic::error(codes::INEXACT_LITERAL, format!("bad number `{text}`"))
                        .at(span),
                );
                return None;
            }
        },
    };
    if *t == ScalarType::F32 {
        if let Literal::Real(text) = lit {
            // Rounded directly from the decimal, like `0.1f` in C++.
            let f: f32 = text.replace('_', "").parse().ok()?;
            return Some(Value::F32(f));
        }
    }
    Some(convert(&v, t).0)
}

impl Lowerer<'_, '_, '_> {
    /// A tensor of constant data `c` in the instance, written by a const node.
    pub(super) fn const_tensor(
        &mut self,
        c: ConstId,
        name: &str,
        elem: ScalarType,
        shape: Vec<usize>,
        span: Span,
    ) -> TensorId {
        let range = self.mb.module.consts[c.index()].range.clone();
        let t = self.new_tensor(name, elem, shape, TensorKind::Const(c), true, span);
        self.inst.tensor_mut(t).range = range;
        let n = self.inst.graph.add_node(Node::Const { tensor: t });
        self.last_writer.insert(t, n);
        t
    }

    /// A tensor of constant data `c`, named and typed as the data is.
    pub(super) fn data_tensor(&mut self, c: ConstId, span: Span) -> TensorId {
        let cd = &self.mb.module.consts[c.index()];
        let (name, elem, shape) = (cd.name.clone(), cd.elem, cd.shape.clone());
        self.const_tensor(c, &name, elem, shape, span)
    }

    /// The instance's tensor of module parameter `g` (made on first use).
    pub(super) fn global_tensor(&mut self, g: hir::GlobalId, span: Span) -> L<TensorId> {
        if let Some(t) = self.globals.get(&g) {
            return Some(*t);
        }
        let Some(c) = self.mb.global_const(g) else {
            self.failed = true;
            return None;
        };
        let t = self.data_tensor(c, span);
        self.globals.insert(g, t);
        Some(t)
    }

    /// The instance's tensor of the lookup table of `f` (made on first use), or the
    /// error when the table's parameters are bad.
    pub(super) fn table_tensor(
        &mut self,
        f: kiln_numeric::MathFn,
        spec: &LutSpec,
        span: Span,
    ) -> L<TensorId> {
        let c = match self.mb.table_const(f, spec) {
            Ok(c) => c,
            Err(e) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("bad lookup table for `{}`: {e}", f.name()),
                    )
                    .at(span),
                );
                return None;
            }
        };
        if let Some(t) = self.table_tensors.get(&c) {
            return Some(*t);
        }
        let t = self.data_tensor(c, span);
        self.table_tensors.insert(c, t);
        Some(t)
    }

    /// Converts constant data to another type at compile time.
    pub(super) fn convert_const_tensor(
        &mut self,
        t: TensorId,
        to: ScalarType,
        what: &str,
    ) -> L<TensorId> {
        let TensorKind::Const(c) = self.inst.tensor(t).kind else {
            return None;
        };
        let src = self.mb.module.consts[c.index()].clone();
        let values: Vec<Value> = src.values.iter().map(|v| convert(v, &to).0).collect();
        let range = value_range(&values);
        let c2 = self.mb.add_const(ConstData {
            name: format!("{}_{}", src.name, what),
            elem: to,
            shape: src.shape.clone(),
            values,
            source: format!("{} converted to {to}", src.source),
            range,
        });
        let span = self.inst.tensor(t).span;
        Some(self.const_tensor(c2, &format!("{}_{}", src.name, what), to, src.shape, span))
    }
}
