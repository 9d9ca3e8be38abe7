//! Module items: declaring names in a module scope, and resolving imports, `type`
//! aliases, `const`s and `param`s in source order; the data sources of params and
//! parameter defaults.

use super::types::concrete_type;
use super::{const_int, did_you_mean, ModuleEnv, ModuleInfo, Symbol};
use crate::ast::{self, ExprKind as AE, ItemKind};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{self, DataSource, Literal};
use crate::span::Span;
use kiln_numeric::ScalarType;
use std::collections::HashMap;
use std::path::Path;

/// Binds `name` to `sym` in a module scope; a second definition is an error.
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
        let env = ModuleEnv { modules, m };
        let binding = match &item.kind {
            // Defs are inlined into the kernels by the parser (inline.rs).
            ItemKind::Def(_) | ItemKind::Kernel(_) | ItemKind::Schedule { .. } => None,
            ItemKind::Import { path, alias } => {
                import_binding(modules, path, alias.as_ref(), item.span)
            }
            ItemKind::FromImport { path, names } => {
                from_import(modules, m, path, names, diags);
                None
            }
            ItemKind::TypeAlias { name, ty } => concrete_type(&env, ty, diags)
                .map(|(elem, shape)| (name.clone(), Symbol::Alias(elem, shape))),
            ItemKind::Const { name, value } => {
                const_symbol(&env, value, diags).map(|sym| (name.clone(), sym))
            }
            ItemKind::Param { name, ty, init } => {
                global(modules, m, name, ty, init, program, diags)
                    .map(|id| (name.clone(), Symbol::Global(id)))
            }
        };
        match (binding, &item.kind) {
            (Some((name, sym)), _) => {
                declare(&mut modules[m].scope, diags, &name.name, sym, name.span);
            }
            (
                None,
                ItemKind::TypeAlias { name, .. }
                | ItemKind::Const { name, .. }
                | ItemKind::Param { name, .. },
            ) => {
                modules[m].failed.insert(name.name.clone());
            }
            (None, _) => {}
        }
    }
}

/// `a.b.c` for the path `[a, b, c]`.
fn dotted(path: &[ast::Ident]) -> String {
    path.iter()
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The module a path names (among the loaded ones).
fn module_index(modules: &[ModuleInfo], path: &[ast::Ident]) -> Option<usize> {
    let dotted = dotted(path);
    // The loader names stdlib modules `<stdlib>/x.kiln` and files by path; match on the
    // dotted name we gave them when loading.
    modules.iter().position(|mi| mi.name == dotted)
}

/// The name `import path [as alias]` (at `span`) binds, and the module.
fn import_binding(
    modules: &[ModuleInfo],
    path: &[ast::Ident],
    alias: Option<&ast::Ident>,
    span: Span,
) -> Option<(ast::Ident, Symbol)> {
    let target = module_index(modules, path)?;
    let name = match alias {
        Some(a) => a.clone(),
        // `import a.b` binds `a.b` as a dotted prefix: record the full path.
        None if path.len() > 1 => ast::Ident {
            name: dotted(path),
            span,
        },
        None => path[0].clone(),
    };
    Some((name, Symbol::Module(target)))
}

/// `from path import names`: binds each name (or its alias) in module `m`.
fn from_import(
    modules: &mut [ModuleInfo],
    m: usize,
    path: &[ast::Ident],
    names: &[(ast::Ident, Option<ast::Ident>)],
    diags: &mut Diagnostics,
) {
    let Some(target) = module_index(modules, path) else {
        return;
    };
    for (name, alias) in names {
        match modules[target].scope.get(&name.name).cloned() {
            Some((Symbol::Module(_), _)) | None => {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_NAME,
                    format!(
                        "module `{}` has no kernel, type, const or param `{}`",
                        modules[target].name, name.name
                    ),
                )
                .at(name.span);
                d = did_you_mean(d, &name.name, modules[target].scope.keys());
                diags.push(d);
            }
            Some((sym, _)) => {
                let local = alias.as_ref().unwrap_or(name);
                declare(&mut modules[m].scope, diags, &local.name, sym, local.span);
            }
        }
    }
}

/// What `const NAME = value` stands for: a compile-time integer, or the text of a real
/// literal or of an integer too large for a size.
fn const_symbol(env: &ModuleEnv, value: &ast::Expr, diags: &mut Diagnostics) -> Option<Symbol> {
    let d = match const_int(env, value) {
        Ok(v) => return Some(Symbol::Const(v)),
        Err(d) => d,
    };
    match (literal_value(value), &value.kind) {
        (Some(Literal::Real(text)), _) => Some(Symbol::RealConst(text)),
        // An integer too large for a size is still a valid constant value.
        (Some(Literal::Int(v)), _) => Some(Symbol::RealConst(v.to_string())),
        (None, AE::Int(v)) => Some(Symbol::RealConst(v.to_string())),
        _ => {
            diags.push(d.help("a `const` is an integer expression or a real literal"));
            None
        }
    }
}

/// `param name: ty = init` of module `m`: a new global of the program.
fn global(
    modules: &[ModuleInfo],
    m: usize,
    name: &ast::Ident,
    ty: &ast::TypeExpr,
    init: &ast::Expr,
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) -> Option<hir::GlobalId> {
    let env = ModuleEnv { modules, m };
    let (elem, shape) = concrete_type(&env, ty, diags)?;
    let init = data_source(init, modules[m].dir.as_deref(), diags)?;
    if let (Some(dims), DataSource::Literal(_, lit_span)) = (&shape, &init) {
        let shape = dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        diags.push(scalar_for_tensor(
            &name.name,
            &shape,
            Some(&elem),
            *lit_span,
            ty.span,
        ));
        return None;
    }
    let id = program.globals.len();
    program.globals.push(hir::Global {
        name: name.name.clone(),
        elem,
        shape: shape.unwrap_or_default(),
        init,
        span: name.span,
    });
    Some(id)
}

/// E0602 for the literal at `lit_span` given as the value of `name`, a tensor of shape
/// `shape` (as written, without brackets) declared at `ty_span`: a module `param` with
/// element type `elem` when there is one, else a kernel parameter's default. Constant
/// data is loaded whole, never repeated from one number.
pub(super) fn scalar_for_tensor(
    name: &str,
    shape: &str,
    elem: Option<&ScalarType>,
    lit_span: Span,
    ty_span: Span,
) -> Diagnostic {
    let (what, alternatives) = match elem {
        Some(elem) => (
            "value",
            format!("load its values from a file, `param {name}: {elem}[{shape}] = load(\"{name}.npy\")`; a scalar constant is `param {name}: {elem} = ...`; a tensor filled with one value is a local tensor of a kernel, `{name}: {elem}[{shape}] = ...`"),
        ),
        None => (
            "default",
            format!("give a default from a file, `= load(\"{name}.npy\")`, or none and pass the data with `--input {name}=FILE.npy`"),
        ),
    };
    Diagnostic::error(
        codes::DATA_SHAPE,
        format!("`{name}` is a tensor of shape [{shape}] but its {what} is one number"),
    )
    .at(lit_span)
    .label("a scalar")
    .with_secondary(ty_span, format!("declared with shape [{shape}]"))
    .note("a literal initializes scalars only: kiln does not repeat it into every element")
    .help(alternatives)
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
