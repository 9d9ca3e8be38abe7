//! Kernel signatures: type variables, parameters (`const` and value, with defaults) and
//! results, resolved in the kernel's module scope.

use super::items::{data_source, scalar_for_tensor};
use super::types::{param_type, SigScope};
use super::{size_expr, ModuleEnv, ModuleInfo, SigEnv};
use crate::ast;
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{
    self, DataSource, Dim, ElemRef, KParam, KParamKind, Named, ParamDefault, TypeRef,
};
use crate::sym::SizeDisplay;

/// A kernel of `module` with `k`'s name and spans and nothing else yet.
pub(crate) fn placeholder_kernel(k: &ast::Kernel, module: &str) -> hir::Kernel {
    hir::Kernel {
        name: k.name.name.clone(),
        module: module.to_string(),
        name_span: k.name.span,
        span: k.header_span,
        type_vars: Vec::new(),
        size_vars: Vec::new(),
        shape_vars: Vec::new(),
        params: Vec::new(),
        results: Vec::new(),
        results_unresolved: false,
        locals: Vec::new(),
        loop_vars: Vec::new(),
        lambda_params: Vec::new(),
        body: Vec::new(),
        return_span: k.header_span,
    }
}

/// The signature of kernel `k` of module `m`, in a kernel with an empty body.
pub(crate) fn resolve_signature(
    modules: &[ModuleInfo],
    m: usize,
    k: &ast::Kernel,
    diags: &mut Diagnostics,
) -> hir::Kernel {
    let mut out = placeholder_kernel(k, &modules[m].name);
    for tv in &k.type_params {
        if out.type_vars.iter().any(|v| v.name == tv.name) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("type variable `{}` declared twice", tv.name),
                )
                .at(tv.span),
            );
        }
        out.type_vars.push(Named {
            name: tv.name.clone(),
            span: tv.span,
        });
    }
    let mut const_params: Vec<(String, usize)> = Vec::new();
    for (pi, p) in k.params.iter().enumerate() {
        if k.params[..pi].iter().any(|q| q.name.name == p.name.name) {
            diags.push(
                Diagnostic::error(
                    codes::DUPLICATE,
                    format!("parameter `{}` declared twice", p.name.name),
                )
                .at(p.name.span),
            );
        }
        if matches!(p.ty, ast::ParamType::Const(_)) {
            const_params.push((p.name.name.clone(), pi));
        }
        let earlier = value_params(&k.params[..pi]);
        let param = resolve_param(modules, m, p, &mut out, &const_params, &earlier, diags);
        out.params.push(param);
    }
    let all_values = value_params(&k.params);
    for r in &k.results {
        let mut size_vars = out.size_vars.clone();
        let mut shape_vars = out.shape_vars.clone();
        let mut scope = SigScope {
            modules,
            m,
            size_vars: &mut size_vars,
            shape_vars: &mut shape_vars,
            const_params: &const_params,
            type_vars: &out.type_vars,
            value_names: &all_values,
            binding: false,
            value_shapes: None,
        };
        match param_type(&mut scope, r, diags) {
            Some(t) => out.results.push(t),
            None => out.results_unresolved = true,
        }
    }
    out
}

/// The names of the value (not `const`) parameters among `params`.
fn value_params(params: &[ast::Param]) -> Vec<String> {
    params
        .iter()
        .filter(|q| matches!(q.ty, ast::ParamType::Value(_)))
        .map(|q| q.name.name.clone())
        .collect()
}

/// Parameter `p` of a kernel whose signature so far is `out` (its type binds new size
/// and shape variables there). `const_params` includes `p` if it is one; `earlier`:
/// the value parameters before it.
fn resolve_param(
    modules: &[ModuleInfo],
    m: usize,
    p: &ast::Param,
    out: &mut hir::Kernel,
    const_params: &[(String, usize)],
    earlier: &[String],
    diags: &mut Diagnostics,
) -> KParam {
    let mut unresolved = false;
    let kind = match &p.ty {
        ast::ParamType::Const(_) => KParamKind::Const,
        ast::ParamType::Value(ty) => {
            let mut scope = SigScope {
                modules,
                m,
                size_vars: &mut out.size_vars,
                shape_vars: &mut out.shape_vars,
                const_params,
                type_vars: &out.type_vars,
                value_names: earlier,
                binding: true,
                value_shapes: None,
            };
            KParamKind::Value(param_type(&mut scope, ty, diags).unwrap_or_else(|| {
                unresolved = true;
                TypeRef {
                    elem: ElemRef::Inferred,
                    shape: None,
                    span: p.span,
                }
            }))
        }
    };
    let default = p.default.as_ref().and_then(|d| match &kind {
        KParamKind::Const => {
            let env = SigEnv {
                module: ModuleEnv { modules, m },
                size_vars: &out.size_vars,
                const_params,
                type_vars: &out.type_vars,
                value_names: earlier,
                value_shapes: None,
            };
            match size_expr(&env, d) {
                Ok(s) => Some(ParamDefault::Const(s)),
                Err(e) => {
                    diags.push(e);
                    None
                }
            }
        }
        KParamKind::Value(t) => {
            let src = data_source(d, modules[m].dir.as_deref(), diags)?;
            if let (Some(dims), DataSource::Literal(_, lit_span)) = (&t.shape, &src) {
                let shape = show_dims(dims, out, const_params);
                diags.push(scalar_for_tensor(
                    &p.name.name,
                    &shape,
                    None,
                    *lit_span,
                    t.span,
                ));
                return None;
            }
            Some(ParamDefault::Data(src))
        }
    });
    KParam {
        name: p.name.name.clone(),
        span: p.span,
        kind,
        default,
        written: false,
        read: false,
        local: None,
        unresolved,
    }
}

/// The dimensions of a shape in kernel `k`'s signature, as written (`N, 3, *S`).
fn show_dims(dims: &[Dim], k: &hir::Kernel, const_params: &[(String, usize)]) -> String {
    let names: Vec<String> = k.size_vars.iter().map(|v| v.name.clone()).collect();
    let const_name = |i: usize| {
        const_params
            .iter()
            .find(|(_, pi)| *pi == i)
            .map_or_else(|| "?".to_string(), |(n, _)| n.clone())
    };
    dims.iter()
        .map(|d| match d {
            Dim::Size(s) => SizeDisplay {
                expr: s,
                size_var_names: &names,
                const_param_names: &const_name,
            }
            .to_string(),
            Dim::Rest(v) => format!("*{}", k.shape_vars.get(*v).map_or("?", |n| &n.name)),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
