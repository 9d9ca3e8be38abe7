//! The entry kernel of a command and its data: which kernel runs (`--kernel`), the
//! `.npy` files and literals bound to module parameters and to the kernel's parameters
//! (`--input`, defaults), shape checks against the declarations, and the conversion of
//! that data to the entry instance's input types.

use crate::session::{BatchData, Session};
use crate::{npy, RunSpec};
use kiln_lang::diag::{codes, Diagnostic};
use kiln_lang::hir::{self, DataSource, KParamKind, Literal, ParamDefault};
use kiln_passes::data::{typed_from_raw, RawArray, RawData, TensorValue};
use kiln_passes::ir::{Module, TensorKind};
use kiln_passes::Span;
use kiln_passes::{conversion_warnings, LoadTarget};
use std::collections::HashMap;
use std::time::Instant;

impl Session {
    /// Reads the data files of module parameters.
    pub(crate) fn global_data(&mut self, program: &hir::Program) -> Option<Vec<Option<RawArray>>> {
        let mut out = Vec::new();
        let mut ok = true;
        let t = Instant::now();
        for g in &program.globals {
            match &g.init {
                DataSource::Load {
                    path,
                    written,
                    span,
                } => match npy::read(path) {
                    Ok(a) => out.push(Some(a)),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot load `{written}` for `{}`", g.name),
                            )
                            .at(*span)
                            .label(e.message())
                            .help("paths are relative to the script's directory"),
                        );
                        out.push(None);
                        ok = false;
                    }
                },
                DataSource::Literal(..) => out.push(None),
            }
        }
        self.timings.push(("load data".into(), t.elapsed()));
        ok.then_some(out)
    }

    /// The kernel to run: `--kernel`, else `main`, else the only kernel of the file.
    pub(crate) fn entry_kernel(
        &mut self,
        program: &hir::Program,
        requested: Option<&str>,
    ) -> Option<hir::KernelId> {
        let names: Vec<&str> = program
            .entry_kernels
            .iter()
            .map(|&k| program.kernels[k].name.as_str())
            .collect();
        if let Some(name) = requested {
            return match program.kernel_by_name(name) {
                Some(k) => Some(k),
                None => {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_KERNEL,
                        format!("this file has no kernel `{name}`"),
                    );
                    d = if names.is_empty() {
                        d.note("it defines no kernels")
                    } else {
                        d.note(format!("its kernels: {}", names.join(", ")))
                    };
                    self.push(d);
                    None
                }
            };
        }
        if let Some(k) = program.kernel_by_name("main") {
            return Some(k);
        }
        match program.entry_kernels.as_slice() {
            [k] => Some(*k),
            [] => {
                self.push(Diagnostic::error(
                    codes::NO_ENTRY,
                    "this file defines no kernel to run",
                ));
                None
            }
            _ => {
                self.push(
                    Diagnostic::error(
                        codes::NO_ENTRY,
                        "this file defines several kernels; which one should run?",
                    )
                    .note(format!("its kernels: {}", names.join(", ")))
                    .help("choose one with `--kernel NAME`, or name the entry kernel `main`"),
                );
                None
            }
        }
    }

    /// The raw data bound to each value parameter of `kernel` (inputs, then defaults).
    pub(crate) fn entry_data(
        &mut self,
        program: &hir::Program,
        kernel: hir::KernelId,
        spec: &RunSpec,
    ) -> Option<Vec<Option<RawArray>>> {
        let k = &program.kernels[kernel];
        let mut ok = true;
        for (name, _) in &spec.inputs {
            let found = k
                .params
                .iter()
                .any(|p| &p.name == name && matches!(p.kind, KParamKind::Value(_)));
            if !found {
                let params: Vec<&str> = k
                    .params
                    .iter()
                    .filter(|p| matches!(p.kind, KParamKind::Value(_)))
                    .map(|p| p.name.as_str())
                    .collect();
                self.push(
                    Diagnostic::error(
                        codes::UNKNOWN_INPUT,
                        format!("`{}` has no parameter `{name}`", k.name),
                    )
                    .note(if params.is_empty() {
                        "it takes no tensor or scalar inputs".to_string()
                    } else {
                        format!("its inputs: {}", params.join(", "))
                    }),
                );
                ok = false;
            }
        }
        let mut out = Vec::new();
        let t = Instant::now();
        for p in &k.params {
            if let KParamKind::Const = p.kind {
                out.push(None);
                continue;
            }
            let given = spec.inputs.iter().rev().find(|(n, _)| n == &p.name);
            let arr = match (given, &p.default) {
                (Some((_, path)), _) => match npy::read(path) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot read the input `{}`", p.name),
                            )
                            .note(e.message()),
                        );
                        ok = false;
                        None
                    }
                },
                (
                    None,
                    Some(ParamDefault::Data(DataSource::Load {
                        path,
                        written,
                        span,
                    })),
                ) => match npy::read(path) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot load the default of `{}` from `{written}`", p.name),
                            )
                            .at(*span)
                            .label(e.message()),
                        );
                        ok = false;
                        None
                    }
                },
                (None, Some(ParamDefault::Data(DataSource::Literal(lit, _)))) => {
                    Some(literal_array(lit))
                }
                _ => None,
            };
            let from_file = given.is_some()
                || matches!(p.default, Some(ParamDefault::Data(DataSource::Load { .. })));
            let arr = match arr {
                Some(a) if spec.batch && from_file => {
                    let sample = self.batch_entry(&p.name, a, p.span);
                    ok &= sample.is_some();
                    sample
                }
                other => other,
            };
            if let (Some(a), KParamKind::Value(t)) = (&arr, &p.kind) {
                let source = match (given, &p.default) {
                    (Some((_, path)), _) => path.display().to_string(),
                    (None, Some(ParamDefault::Data(DataSource::Load { written, .. }))) => {
                        written.clone()
                    }
                    _ => "its default".to_string(),
                };
                self.input_sources.insert(p.name.clone(), source.clone());
                if let Some(d) = shape_mismatch(&p.name, t, &a.shape, &source) {
                    self.push(d.at(p.span));
                    ok = false;
                }
            }
            out.push(arr);
        }
        self.timings.push(("load inputs".into(), t.elapsed()));
        ok.then_some(out)
    }

    /// `--batch`: keeps `full` (a batch along its leading axis) for the run, and returns
    /// its first sample, which stands for every sample until the run (shapes, types and
    /// compilation come from it). E0602 for data without a leading axis, an empty batch,
    /// or a batch size that differs from another input's.
    fn batch_entry(&mut self, name: &str, full: RawArray, span: Span) -> Option<RawArray> {
        let Some(&size) = full.shape.first() else {
            self.push(
                Diagnostic::error(
                    codes::DATA_SHAPE,
                    format!("`{name}`: --batch needs data with a leading batch axis, not a scalar"),
                )
                .at(span),
            );
            return None;
        };
        let batch = self.batch.get_or_insert_with(|| BatchData {
            size,
            full: HashMap::new(),
        });
        if size == 0 || size != batch.size {
            let why = if size == 0 {
                "an empty batch".to_string()
            } else {
                format!(
                    "{size} samples, but another input has {} (every batched input has the \
                     same leading axis)",
                    batch.size
                )
            };
            self.push(
                Diagnostic::error(codes::DATA_SHAPE, format!("`{name}`: --batch with {why}"))
                    .at(span),
            );
            return None;
        }
        let first = full.leading_entry(0);
        batch.full.insert(name.to_string(), full);
        first
    }

    /// Converts the entry data to the entry instance's input types.
    pub(crate) fn input_tensors(
        &mut self,
        module: &Module,
        program: &hir::Program,
        kernel: hir::KernelId,
        data: &[Option<RawArray>],
    ) -> Option<Vec<TensorValue>> {
        let inst = module.entry_instance()?;
        let k = &program.kernels[kernel];
        let mut out = Vec::new();
        for &t in &inst.inputs {
            let tensor = inst.tensor(t);
            let TensorKind::Input(_) = tensor.kind else {
                return None;
            };
            let pi = k.params.iter().position(|p| p.name == tensor.name)?;
            // With `--batch`, the whole batch converts at once (one warning for it all),
            // and the tensor gains the leading batch axis (src/batch.rs splits it).
            let batched = self.batch.as_ref().and_then(|b| b.full.get(&tensor.name));
            let (raw, shape) = match batched {
                Some(full) => (full, full.shape.clone()),
                None => (data[pi].as_ref()?, tensor.shape.clone()),
            };
            match typed_from_raw(raw, &tensor.elem) {
                Ok((values, report)) => {
                    let source = self
                        .input_sources
                        .get(&tensor.name)
                        .cloned()
                        .unwrap_or_else(|| "the data".to_string());
                    let target = LoadTarget {
                        what: format!("input `{}`", tensor.name),
                        elem: &tensor.elem,
                        source: &source,
                        shape: &raw.shape,
                        span: tensor.span,
                    };
                    let warnings = conversion_warnings(&report, &target);
                    for d in warnings {
                        self.push(d);
                    }
                    out.push(TensorValue {
                        elem: tensor.elem,
                        shape,
                        values,
                    });
                }
                Err(e) => {
                    self.push(
                        Diagnostic::error(
                            codes::DATA_DTYPE,
                            format!("input `{}`: {e}", tensor.name),
                        )
                        .at(tensor.span),
                    );
                    return None;
                }
            }
        }
        // A warning denied by `--deny-warnings` is an error: nothing runs on the data.
        (!self.has_errors()).then_some(out)
    }
}

/// E0602 when data cannot fit a parameter's declared shape: a different rank, or a
/// different constant dimension (dimensions bound to size variables are checked when the
/// kernel is instantiated).
fn shape_mismatch(
    name: &str,
    t: &hir::TypeRef,
    shape: &[usize],
    source: &str,
) -> Option<Diagnostic> {
    let declared = match &t.shape {
        None => Vec::new(),
        Some(dims) => dims.clone(),
    };
    if declared.iter().any(|d| matches!(d, hir::Dim::Rest(_))) {
        return None;
    }
    let show = |dims: &[hir::Dim]| -> String {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| match d {
                hir::Dim::Size(s) => s.as_const().map_or("_".to_string(), |v| v.to_string()),
                hir::Dim::Rest(_) => "*".to_string(),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    };
    let fits = declared.len() == shape.len()
        && declared.iter().zip(shape).all(|(d, &n)| match d {
            hir::Dim::Size(s) => s.as_const().is_none_or(|v| v == n as i64),
            hir::Dim::Rest(_) => true,
        });
    (!fits).then(|| {
        Diagnostic::error(
            codes::DATA_SHAPE,
            format!(
                "`{name}` is declared with shape {} but {source} holds shape {shape:?}",
                show(&declared)
            ),
        )
        .label(format!("declared {}", show(&declared)))
    })
}

/// E0601 for files that cannot be read, E0603 for dtypes kiln does not take.
pub(crate) fn npy_code(e: &npy::ReadError) -> kiln_lang::diag::Code {
    match e {
        npy::ReadError::Read(_) => codes::BAD_NPY,
        npy::ReadError::Dtype(_) => codes::DATA_DTYPE,
    }
}

fn literal_array(lit: &Literal) -> RawArray {
    match lit {
        Literal::Int(v) => RawArray {
            shape: Vec::new(),
            data: RawData::I64(vec![*v as i64]),
            dtype: "<i8".into(),
        },
        Literal::Real(t) => {
            let f = kiln_passes::value::real_literal(t).map_or(0.0, |r| r.0);
            RawArray {
                shape: Vec::new(),
                data: RawData::F64(vec![f]),
                dtype: "<f8".into(),
            }
        }
        Literal::Bool(b) => RawArray {
            shape: Vec::new(),
            data: RawData::Bool(vec![*b]),
            dtype: "|b1".into(),
        },
    }
}

/// The declared shapes of a kernel whose parameters all have concrete types (to
/// instantiate it without inputs), or `None`. Only shapes: nothing is allocated for them.
pub(crate) fn concrete_shapes(
    program: &hir::Program,
    k: hir::KernelId,
) -> Option<Vec<Option<Vec<usize>>>> {
    let kernel = &program.kernels[k];
    if !kernel.type_vars.is_empty() || !kernel.size_vars.is_empty() || !kernel.shape_vars.is_empty()
    {
        return None;
    }
    let mut out = Vec::new();
    for p in &kernel.params {
        match &p.kind {
            KParamKind::Const => out.push(None),
            KParamKind::Value(t) => {
                let shape: Vec<usize> = match &t.shape {
                    None => Vec::new(),
                    Some(dims) => dims
                        .iter()
                        .map(|d| match d {
                            hir::Dim::Size(s) => s.as_const().and_then(|v| usize::try_from(v).ok()),
                            hir::Dim::Rest(_) => None,
                        })
                        .collect::<Option<_>>()?,
                };
                out.push(Some(shape));
            }
        }
    }
    Some(out)
}
