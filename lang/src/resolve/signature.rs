//! Kernel signatures: type variables, parameters (`const` and value, with defaults) and
//! results, resolved in the kernel's module scope.

use super::items::data_source;
use super::types::param_type;
use super::{size_expr, ModuleEnv, ModuleInfo, SigEnv};
use crate::ast::{self};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, ElemRef, KParam, KParamKind, Named, ParamDefault, TypeRef};

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
        locals: Vec::new(),
        loop_vars: Vec::new(),
        lambda_params: Vec::new(),
        body: Vec::new(),
        return_span: k.header_span,
    }
}

pub(crate) fn resolve_signature(
    modules: &[ModuleInfo],
    m: usize,
    k: &ast::Kernel,
    _program: &hir::Program,
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
        let kind = match &p.ty {
            ast::ParamType::Const(_) => {
                const_params.push((p.name.name.clone(), pi));
                KParamKind::Const
            }
            ast::ParamType::Value(ty) => {
                let ty = {
                    let mut size_vars = std::mem::take(&mut out.size_vars);
                    let mut shape_vars = std::mem::take(&mut out.shape_vars);
                    let earlier: Vec<String> = k.params[..pi]
                        .iter()
                        .filter(|q| matches!(q.ty, ast::ParamType::Value(_)))
                        .map(|q| q.name.name.clone())
                        .collect();
                    let r = param_type(
                        modules,
                        m,
                        ty,
                        &mut size_vars,
                        &mut shape_vars,
                        &const_params,
                        &out.type_vars,
                        true,
                        &earlier,
                        diags,
                    );
                    out.size_vars = size_vars;
                    out.shape_vars = shape_vars;
                    r
                };
                match ty {
                    Some(t) => KParamKind::Value(t),
                    None => KParamKind::Value(TypeRef {
                        elem: ElemRef::Inferred,
                        shape: None,
                        span: p.span,
                    }),
                }
            }
        };
        let value_names: Vec<String> = k.params[..pi]
            .iter()
            .filter(|q| matches!(q.ty, ast::ParamType::Value(_)))
            .map(|q| q.name.name.clone())
            .collect();
        let default = p.default.as_ref().and_then(|d| match &kind {
            KParamKind::Const => {
                let env = SigEnv {
                    module: ModuleEnv { modules, m },
                    size_vars: &out.size_vars,
                    const_params: const_params.clone(),
                    type_vars: &out.type_vars,
                    value_names: &value_names,
                };
                match size_expr(&env, d) {
                    Ok(s) => Some(ParamDefault::Const(s)),
                    Err(e) => {
                        diags.push(e);
                        None
                    }
                }
            }
            KParamKind::Value(_) => {
                data_source(d, modules[m].dir.as_deref(), diags).map(ParamDefault::Data)
            }
        });
        out.params.push(KParam {
            name: p.name.name.clone(),
            span: p.span,
            kind,
            default,
        });
    }
    let all_values: Vec<String> = k
        .params
        .iter()
        .filter(|q| matches!(q.ty, ast::ParamType::Value(_)))
        .map(|q| q.name.name.clone())
        .collect();
    for r in &k.results {
        let mut size_vars = out.size_vars.clone();
        let mut shape_vars = out.shape_vars.clone();
        if let Some(t) = param_type(
            modules,
            m,
            r,
            &mut size_vars,
            &mut shape_vars,
            &const_params,
            &out.type_vars,
            false,
            &all_values,
            diags,
        ) {
            out.results.push(t);
        }
    }
    out
}
