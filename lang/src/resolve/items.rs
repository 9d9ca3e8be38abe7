//! Module items: declaring names in a module scope, and resolving imports, `type`
//! aliases, `const`s and `param`s in source order; the data sources of params and
//! parameter defaults.

use super::types::concrete_type;
use super::{const_int, suggest, ModuleEnv, ModuleInfo, Symbol};
use crate::ast::{self, ExprKind as AE, ItemKind};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, DataSource, Literal};
use crate::span::Span;
use std::collections::HashMap;
use std::path::Path;

pub(crate) fn declare(
    scope: &mut HashMap<String, (Symbol, Span)>,
    diags: &mut Diagnostics,
    name: &str,
    sym: Symbol,
    span: Span,
) {
    if let Some((_, prev)) = scope.get(name) {
        // Kernels are registered before the other items: order the two by position.
        let (first, second) = if (prev.file, prev.start) <= (span.file, span.start) {
            (*prev, span)
        } else {
            (span, *prev)
        };
        diags.push(
            Diagnostic::error(codes::DUPLICATE, format!("`{name}` is defined twice"))
                .at(second)
                .label("second definition")
                .with_secondary(first, "first definition"),
        );
        return;
    }
    scope.insert(name.to_string(), (sym, span));
}

/// Imports, aliases, constants and params of module `m`, in source order.
pub(crate) fn resolve_items(
    modules: &mut [ModuleInfo],
    m: usize,
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) {
    let items = modules[m].ast.items.clone();
    for item in &items {
        match &item.kind {
            // Inlined into the kernels by the parser (inline.rs).
            ItemKind::Def(_) => {}
            ItemKind::Import { path, alias } => {
                let key = module_index(modules, m, path);
                let Some(target) = key else { continue };
                let name = alias.as_ref().map_or(&path[0], |a| a).clone();
                if alias.is_none() && path.len() > 1 {
                    // `import a.b` binds `a.b` as a dotted prefix: record the full path.
                    let full = path
                        .iter()
                        .map(|p| p.name.as_str())
                        .collect::<Vec<_>>()
                        .join(".");
                    declare(
                        &mut modules[m].scope,
                        diags,
                        &full,
                        Symbol::Module(target),
                        item.span,
                    );
                } else {
                    declare(
                        &mut modules[m].scope,
                        diags,
                        &name.name,
                        Symbol::Module(target),
                        name.span,
                    );
                }
            }
            ItemKind::FromImport { path, names } => {
                let Some(target) = module_index(modules, m, path) else {
                    continue;
                };
                for (name, alias) in names {
                    let found = modules[target].scope.get(&name.name).cloned();
                    match found {
                        Some((Symbol::Module(_), _)) | None => {
                            let mut d = Diagnostic::error(
                                codes::UNKNOWN_NAME,
                                format!(
                                    "module `{}` has no kernel, type, const or param `{}`",
                                    modules[target].name, name.name
                                ),
                            )
                            .at(name.span);
                            if let Some(s) = suggest(&name.name, modules[target].scope.keys()) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            diags.push(d);
                        }
                        Some((sym, _)) => {
                            let local = alias.as_ref().unwrap_or(name);
                            declare(&mut modules[m].scope, diags, &local.name, sym, local.span);
                        }
                    }
                }
            }
            ItemKind::TypeAlias { name, ty } => {
                let env = ModuleEnv { modules, m };
                match concrete_type(&env, ty, diags) {
                    Some((elem, shape)) => declare(
                        &mut modules[m].scope,
                        diags,
                        &name.name,
                        Symbol::Alias(elem, shape),
                        name.span,
                    ),
                    None => continue,
                }
            }
            ItemKind::Const { name, value } => {
                let env = ModuleEnv { modules, m };
                let sym = match const_int(&env, value) {
                    Ok(v) => Symbol::Const(v),
                    Err(d) => match literal_value(value) {
                        Some(Literal::Real(text)) => Symbol::RealConst(text),
                        // An integer too large for a size is still a valid constant value.
                        Some(Literal::Int(v)) => Symbol::RealConst(v.to_string()),
                        None if matches!(value.kind, AE::Int(_)) => match &value.kind {
                            AE::Int(v) => Symbol::RealConst(v.to_string()),
                            _ => unreachable!(),
                        },
                        _ => {
                            diags.push(
                                d.help("a `const` is an integer expression or a real literal"),
                            );
                            continue;
                        }
                    },
                };
                declare(&mut modules[m].scope, diags, &name.name, sym, name.span);
            }
            ItemKind::Param { name, ty, init } => {
                let env = ModuleEnv { modules, m };
                let Some((elem, shape)) = concrete_type(&env, ty, diags) else {
                    continue;
                };
                let dir = modules[m].dir.clone();
                let Some(init) = data_source(init, dir.as_deref(), diags) else {
                    continue;
                };
                let id = program.globals.len();
                program.globals.push(hir::Global {
                    name: name.name.clone(),
                    elem,
                    shape: shape.unwrap_or_default(),
                    init,
                    span: name.span,
                });
                declare(
                    &mut modules[m].scope,
                    diags,
                    &name.name,
                    Symbol::Global(id),
                    name.span,
                );
            }
            ItemKind::Kernel(_) | ItemKind::Schedule { .. } => {}
        }
    }
}

fn module_index(modules: &[ModuleInfo], _m: usize, path: &[ast::Ident]) -> Option<usize> {
    let dotted = path
        .iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(".");
    // The loader names stdlib modules `<stdlib>/x.kiln` and files by path; match on the
    // dotted name we gave them when loading.
    modules.iter().position(|mi| mi.name == dotted)
}

/// `load("...")` or a literal, for params and defaults.
pub(super) fn data_source(
    e: &ast::Expr,
    dir: Option<&Path>,
    diags: &mut Diagnostics,
) -> Option<DataSource> {
    if let Some(lit) = literal_value(e) {
        return Some(DataSource::Literal(lit, e.span));
    }
    if let AE::Call { func, args } = &e.kind {
        if matches!(&func.kind, AE::Name(n) if n == "load") {
            if let [ast::Arg {
                name: None,
                value:
                    ast::Expr {
                        kind: AE::Str(s),
                        span,
                    },
            }] = args.as_slice()
            {
                let Some(dir) = dir else {
                    diags.push(
                        Diagnostic::error(
                            codes::UNSUPPORTED,
                            "stdlib modules cannot load data files",
                        )
                        .at(*span),
                    );
                    return None;
                };
                return Some(DataSource::Load {
                    path: dir.join(s),
                    written: s.clone(),
                    span: *span,
                });
            }
            diags.push(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    "`load` takes one string: the path of a .npy file",
                )
                .at(e.span)
                .help("write `load(\"weights/w1.npy\")`; the path is relative to this script"),
            );
            return None;
        }
    }
    diags.push(
        Diagnostic::error(
            codes::NOT_CONSTANT,
            "a parameter's value must be `load(\"file.npy\")` or a literal",
        )
        .at(e.span),
    );
    None
}

/// A literal scalar, possibly negated.
fn literal_value(e: &ast::Expr) -> Option<Literal> {
    match &e.kind {
        AE::Int(v) => i128::try_from(*v).ok().map(Literal::Int),
        AE::Float(s) => Some(Literal::Real(s.clone())),
        AE::Bool(b) => Some(Literal::Bool(*b)),
        AE::Unary(ast::UnaryOp::Neg, inner) => match literal_value(inner)? {
            Literal::Int(v) => Some(Literal::Int(-v)),
            Literal::Real(s) => Some(Literal::Real(format!("-{s}"))),
            Literal::Bool(_) => None,
        },
        AE::Unary(ast::UnaryOp::Plus, inner) => literal_value(inner),
        _ => None,
    }
}
