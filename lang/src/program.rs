//! From an entry file to a checked [`Program`]: imports, module scopes, items, signatures.
//!
//! Stages, in order:
//! 1. parse the entry file and, depth first, every module it imports (through a
//!    [`SourceLoader`], which the driver backs with the file system and the embedded
//!    stdlib); import cycles are errors;
//! 2. per module, dependencies first: register kernel names, then in source order bind
//!    imports, evaluate `type` aliases and `const`s, and resolve `param` declarations;
//!    then resolve every kernel signature (type variables, size variables, `const`
//!    parameters, defaults, results);
//! 3. check every kernel body (check.rs), then reject recursion.
//!
//! Diagnostics are collected, not thrown: one run reports as much as it can.

use crate::ast::{self, ElemTypeKind, ExprKind as AE, ItemKind, PrimType, TypeExprKind};
use crate::check::check_body;
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{
    self, DataSource, Dim, ElemRef, KParam, KParamKind, Literal, Named, ParamDefault, TypeArg,
    TypeRef,
};
use crate::parse::parse_module;
use crate::span::{SourceFile, SourceMap, Span};
use crate::sym::{SizeExpr, SizeOp};
use kiln_numeric::{FixedType, IntType, Overflow, Quant, ScalarType, MAX_DECLARED_WIDTH};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Finds the source of an imported module.
pub trait SourceLoader {
    /// Loads module `path` (`["stdlib", "nn"]`) for a file in `from_dir` (`None` when the
    /// importing file is itself a stdlib module). The returned file's `name` identifies the
    /// module: loading the same module twice must give the same name.
    fn load_module(
        &mut self,
        path: &[String],
        from_dir: Option<&Path>,
    ) -> Result<SourceFile, String>;
}

/// What a module-level name stands for.
#[derive(Clone, Debug)]
pub(crate) enum Symbol {
    Kernel(hir::KernelId),
    Global(hir::GlobalId),
    /// A `type` alias: an element type, with a shape for tensor aliases.
    Alias(ScalarType, Option<Vec<usize>>),
    Const(i64),
    /// A `const` that is not a size: a real literal, or an integer wider than 64 bits; its
    /// literal text (it stands for the literal in expressions).
    RealConst(String),
    Module(usize),
}

pub(crate) struct ModuleInfo {
    pub name: String,
    pub dir: Option<PathBuf>,
    pub ast: ast::Module,
    pub scope: HashMap<String, (Symbol, Span)>,
    /// Kernel items of this module with their ids.
    pub kernels: Vec<(usize, hir::KernelId)>,
}

/// Everything a body check needs from outside the kernel.
pub(crate) struct Ctx<'a> {
    /// Kernels whose signatures have errors: calls to them stay silent.
    pub failed: &'a std::collections::HashSet<hir::KernelId>,
    pub modules: &'a [ModuleInfo],
    pub module: usize,
    pub kernels: &'a [hir::Kernel],
    pub globals: &'a [hir::Global],
}

impl Ctx<'_> {
    pub fn lookup(&self, name: &str) -> Option<&Symbol> {
        self.modules[self.module].scope.get(name).map(|(s, _)| s)
    }

    pub fn visible_names(&self) -> Vec<String> {
        self.modules[self.module].scope.keys().cloned().collect()
    }
}

/// Parses and checks `entry` and everything it imports.
pub fn check_program(
    entry: SourceFile,
    loader: &mut dyn SourceLoader,
    sources: &mut SourceMap,
) -> (hir::Program, Diagnostics) {
    let (program, diags, _) = check_program_timed(entry, loader, sources);
    (program, diags)
}

/// [`check_program`], also returning the time spent reading and parsing files (the rest
/// is checking).
pub fn check_program_timed(
    entry: SourceFile,
    loader: &mut dyn SourceLoader,
    sources: &mut SourceMap,
) -> (hir::Program, Diagnostics, std::time::Duration) {
    let parse_start = std::time::Instant::now();
    let mut fe = Frontend {
        sources,
        loader,
        diags: Diagnostics::default(),
        modules: Vec::new(),
        by_name: HashMap::new(),
        order: Vec::new(),
    };
    let entry_name = module_display_name(&entry.name);
    let entry_idx = fe.load(entry, entry_name, &mut Vec::new());
    let parse_time = parse_start.elapsed();
    let mut program = hir::Program::default();
    let Some(entry_idx) = entry_idx else {
        return (program, fe.diags, parse_time);
    };
    let order = fe.order.clone();
    let mut modules = std::mem::take(&mut fe.modules);
    // Kernel ids are global: reserve them all first so that any module may name any kernel.
    for &m in &order {
        let items: Vec<(usize, ast::Kernel)> = modules[m]
            .ast
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match &it.kind {
                ItemKind::Kernel(k) => Some((i, k.clone())),
                _ => None,
            })
            .collect();
        for (i, k) in items {
            let id = program.kernels.len();
            program
                .kernels
                .push(placeholder_kernel(&k, &modules[m].name));
            modules[m].kernels.push((i, id));
            declare(
                &mut modules[m].scope,
                &mut fe.diags,
                &k.name.name,
                Symbol::Kernel(id),
                k.name.span,
            );
        }
    }
    for &m in &order {
        resolve_items(&mut modules, m, &mut program, &mut fe.diags);
    }
    let mut sig_failed = std::collections::HashSet::new();
    for &m in &order {
        let kernels = modules[m].kernels.clone();
        for (item, id) in kernels {
            let ItemKind::Kernel(k) = &modules[m].ast.items[item].kind else {
                continue;
            };
            let k = k.clone();
            let before = fe.diags.error_count();
            let sig = resolve_signature(&modules, m, &k, &program, &mut fe.diags);
            if fe.diags.error_count() > before {
                sig_failed.insert(id);
            }
            program.kernels[id] = sig;
        }
    }
    for &m in &order {
        let kernels = modules[m].kernels.clone();
        for (item, id) in kernels {
            let ItemKind::Kernel(k) = &modules[m].ast.items[item].kind else {
                continue;
            };
            let ctx = Ctx {
                failed: &sig_failed,
                modules: &modules,
                module: m,
                kernels: &program.kernels,
                globals: &program.globals,
            };
            let mut kernel = program.kernels[id].clone();
            if sig_failed.contains(&id) {
                // The body would only repeat the signature's errors.
                continue;
            }
            check_body(&ctx, k, &mut kernel, &mut fe.diags);
            program.kernels[id] = kernel;
        }
    }
    program.entry_kernels = modules[entry_idx]
        .kernels
        .iter()
        .map(|&(_, id)| id)
        .collect();
    for &m in &order {
        for item in &modules[m].ast.items {
            if let ItemKind::Schedule {
                kernel,
                target,
                body,
            } = &item.kind
            {
                let id = match modules[m].scope.get(&kernel.name) {
                    Some((Symbol::Kernel(id), _)) => *id,
                    _ => {
                        fe.diags.push(
                            Diagnostic::error(
                                codes::BAD_SCHEDULE,
                                format!("`{}` is not a kernel of this module", kernel.name),
                            )
                            .at(kernel.span)
                            .help("schedule a kernel defined or imported in this file"),
                        );
                        continue;
                    }
                };
                let k = &program.kernels[id];
                let globals: Vec<String> = program.globals.iter().map(|g| g.name.clone()).collect();
                if let Some(s) =
                    crate::schedule::check(k, &globals, id, target, body, item.span, &mut fe.diags)
                {
                    program.schedules.push(s);
                }
            }
        }
    }
    check_recursion(&program, &mut fe.diags);
    (program, fe.diags, parse_time)
}

fn module_display_name(file_name: &str) -> String {
    Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name.to_string())
}

fn placeholder_kernel(k: &ast::Kernel, module: &str) -> hir::Kernel {
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

struct Frontend<'a> {
    sources: &'a mut SourceMap,
    loader: &'a mut dyn SourceLoader,
    diags: Diagnostics,
    modules: Vec<ModuleInfo>,
    by_name: HashMap<String, usize>,
    /// Modules in dependency order (imports before importers).
    order: Vec<usize>,
}

impl Frontend<'_> {
    /// Parses a module and, recursively, its imports. `stack` holds the import chain.
    fn load(&mut self, file: SourceFile, name: String, stack: &mut Vec<String>) -> Option<usize> {
        let key = file.name.clone();
        let dir = file.dir.clone();
        let text = file.text.clone();
        let fid = self.sources.add(file);
        let (ast, diags) = parse_module(fid, &text);
        self.diags.extend(diags);
        let ast = ast?;
        let idx = self.modules.len();
        self.modules.push(ModuleInfo {
            name,
            dir: dir.clone(),
            ast,
            scope: HashMap::new(),
            kernels: Vec::new(),
        });
        self.by_name.insert(key.clone(), idx);
        stack.push(key);
        let imports: Vec<(Vec<ast::Ident>, Span)> = self.modules[idx]
            .ast
            .items
            .iter()
            .filter_map(|it| match &it.kind {
                ItemKind::Import { path, .. } | ItemKind::FromImport { path, .. } => {
                    Some((path.clone(), it.span))
                }
                _ => None,
            })
            .collect();
        for (path, span) in imports {
            let parts: Vec<String> = path.iter().map(|p| p.name.clone()).collect();
            let path_span = path[0].span.to(path[path.len() - 1].span);
            match self.loader.load_module(&parts, dir.as_deref()) {
                Err(why) => self.diags.push(
                    Diagnostic::error(codes::UNKNOWN_MODULE, format!("cannot import `{}`", parts.join(".")))
                        .at(path_span)
                        .label(why)
                        .help("modules are `.kiln` files next to the importing file (`a.b` is `a/b.kiln`), or `stdlib.<name>`"),
                ),
                Ok(f) => {
                    if stack.contains(&f.name) {
                        self.diags.push(
                            Diagnostic::error(codes::IMPORT_CYCLE, format!("`{}` imports itself", parts.join(".")))
                                .at(span)
                                .note(format!("import chain: {} -> {}", stack.join(" -> "), f.name)),
                        );
                    } else if !self.by_name.contains_key(&f.name) {
                        self.load(f, parts.join("."), stack);
                    }
                }
            }
        }
        stack.pop();
        self.order.push(idx);
        Some(idx)
    }
}

fn declare(
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
fn resolve_items(
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
pub(crate) fn data_source(
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
pub(crate) fn literal_value(e: &ast::Expr) -> Option<Literal> {
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

/// Name lookup for module-level constant expressions and types.
pub(crate) trait SymbolEnv {
    fn symbol(&self, name: &str) -> Option<Symbol>;
    /// A size variable, `const` parameter or loop variable visible here (kernel scope only).
    fn size_symbol(&self, _name: &str) -> Option<SizeExpr> {
        None
    }
    fn type_var(&self, _name: &str) -> Option<usize> {
        None
    }
    /// Whether `name` is a value in scope (to report a value used as a type).
    fn is_value(&self, _name: &str) -> bool {
        false
    }
}

struct ModuleEnv<'a> {
    modules: &'a [ModuleInfo],
    m: usize,
}

impl SymbolEnv for ModuleEnv<'_> {
    fn symbol(&self, name: &str) -> Option<Symbol> {
        self.modules[self.m].scope.get(name).map(|(s, _)| s.clone())
    }
}

/// Evaluates a compile-time integer at module level (`const N = 4 * 8`).
fn const_int(env: &dyn SymbolEnv, e: &ast::Expr) -> Result<i64, Diagnostic> {
    let s = size_expr(env, e)?;
    s.as_const().ok_or_else(|| {
        Diagnostic::error(
            codes::NOT_CONSTANT,
            "a `const` must be a compile-time integer",
        )
        .at(e.span)
    })
}

/// Converts an integer expression over literals, consts, size variables, `const`
/// parameters and loop variables into a [`SizeExpr`].
pub(crate) fn size_expr(env: &dyn SymbolEnv, e: &ast::Expr) -> Result<SizeExpr, Diagnostic> {
    let not_size = || {
        Diagnostic::error(codes::NOT_CONSTANT, "expected a compile-time integer")
            .at(e.span)
            .label("sizes, loop bounds and type widths are built from integers, size variables, `const` parameters and `+ - * // %`")
    };
    match &e.kind {
        AE::Int(v) => i64::try_from(*v)
            .map(SizeExpr::Const)
            .map_err(|_| Diagnostic::error(codes::NOT_CONSTANT, "size too large").at(e.span)),
        AE::Name(n) => {
            if let Some(s) = env.size_symbol(n) {
                return Ok(s);
            }
            if env.is_value(n) && env.symbol(n).is_none() {
                return Err(Diagnostic::error(
                    codes::NOT_CONSTANT,
                    format!("`{n}` is a value computed at run time, not a compile-time integer"),
                )
                .at(e.span)
                .help(format!("sizes, loop bounds and type widths must be known when compiling; make it a `const` parameter (`{n}: const`)")));
            }
            match env.symbol(n) {
                Some(Symbol::Const(v)) => Ok(SizeExpr::Const(v)),
                Some(_) => Err(not_size()),
                None => Err(
                    Diagnostic::error(codes::UNKNOWN_NAME, format!("unknown name `{n}`"))
                        .at(e.span),
                ),
            }
        }
        AE::Unary(ast::UnaryOp::Neg, inner) => Ok(SizeExpr::bin(
            SizeOp::Sub,
            SizeExpr::Const(0),
            size_expr(env, inner)?,
        )),
        AE::Unary(ast::UnaryOp::Plus, inner) => size_expr(env, inner),
        AE::Binary(op, a, b) => {
            let op = match op {
                ast::BinOp::Add => SizeOp::Add,
                ast::BinOp::Sub => SizeOp::Sub,
                ast::BinOp::Mul => SizeOp::Mul,
                ast::BinOp::FloorDiv => SizeOp::FloorDiv,
                ast::BinOp::Mod => SizeOp::Mod,
                _ => return Err(not_size()),
            };
            Ok(SizeExpr::bin(op, size_expr(env, a)?, size_expr(env, b)?))
        }
        _ => Err(not_size()),
    }
}

/// A module-level type: element type and constant shape.
fn concrete_type(
    env: &dyn SymbolEnv,
    ty: &ast::TypeExpr,
    diags: &mut Diagnostics,
) -> Option<(ScalarType, Option<Vec<usize>>)> {
    let (elem_expr, dims) = match &ty.kind {
        TypeExprKind::Scalar(e) => (Some(e), None),
        TypeExprKind::Tensor { elem, dims } => (elem.as_ref(), Some(dims)),
    };
    let Some(elem_expr) = elem_expr else {
        diags.push(
            Diagnostic::error(codes::NEEDS_ELEM_TYPE, "this type needs an element type")
                .at(ty.span)
                .help("write e.g. `fixed<8, 4>[16]`"),
        );
        return None;
    };
    let elem = match elem_type(env, elem_expr, diags)? {
        ElemRef::Known(t) => t,
        ElemRef::Var(_) | ElemRef::Template { .. } | ElemRef::Inferred => {
            diags.push(
                Diagnostic::error(codes::NOT_CONSTANT, "a module-level type must be concrete")
                    .at(elem_expr.span),
            );
            return None;
        }
    };
    let mut shape = alias_shape_of(env, elem_expr);
    if let Some(dims) = dims {
        if shape.is_some() {
            diags.push(
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    "a tensor type alias cannot take another shape",
                )
                .at(ty.span),
            );
            return None;
        }
        let mut out = Vec::new();
        for d in dims {
            match d {
                ast::DimExpr::Size(e) => match size_expr(env, e).map(|s| s.as_const()) {
                    Ok(Some(v)) if v > 0 => out.push(v as usize),
                    Ok(_) => {
                        diags.push(
                            Diagnostic::error(
                                codes::BAD_DIM,
                                "module-level shapes must be positive constants",
                            )
                            .at(e.span),
                        );
                        return None;
                    }
                    Err(d) => {
                        diags.push(d);
                        return None;
                    }
                },
                ast::DimExpr::Rest(id) => {
                    diags.push(
                        Diagnostic::error(
                            codes::BAD_DIM,
                            "`*` shapes are only for kernel parameters",
                        )
                        .at(id.span),
                    );
                    return None;
                }
            }
        }
        shape = Some(out);
    }
    Some((elem, shape))
}

fn alias_shape_of(env: &dyn SymbolEnv, e: &ast::ElemTypeExpr) -> Option<Vec<usize>> {
    if let ElemTypeKind::Named(id) = &e.kind {
        if let Some(Symbol::Alias(_, shape)) = env.symbol(&id.name) {
            return shape;
        }
    }
    None
}

/// Resolves an element type. Type arguments that are not constants make a `Template`.
pub(crate) fn elem_type(
    env: &dyn SymbolEnv,
    e: &ast::ElemTypeExpr,
    diags: &mut Diagnostics,
) -> Option<ElemRef> {
    match &e.kind {
        ElemTypeKind::Named(id) => {
            if let Some(v) = env.type_var(&id.name) {
                return Some(ElemRef::Var(v));
            }
            if env.is_value(&id.name) && env.symbol(&id.name).is_none() {
                diags.push(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        format!("`{}` is a value, not a type", id.name),
                    )
                    .at(id.span)
                    .help(
                        "types are builtin types (`fixed<8, 4>`), `type` aliases or type variables",
                    ),
                );
                return None;
            }
            match env.symbol(&id.name) {
                Some(Symbol::Alias(t, _)) => Some(ElemRef::Known(t)),
                Some(_) => {
                    diags.push(
                        Diagnostic::error(
                            codes::WRONG_NAME_KIND,
                            format!("`{}` is not a type", id.name),
                        )
                        .at(id.span),
                    );
                    None
                }
                None => {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_NAME,
                        format!("unknown type `{}`", id.name),
                    )
                    .at(id.span)
                    .label("not a builtin type, a `type` alias or a type variable");
                    if id
                        .name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_uppercase())
                    {
                        d = d.help(format!(
                            "if `{0}` is a type variable, declare it after the kernel's name: `kernel name[{0}](...)`",
                            id.name
                        ));
                    }
                    if let Some(s) = suggest(
                        &id.name,
                        [
                            "int", "uint", "fixed", "ufixed", "bin", "tern", "f32", "bool",
                        ]
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .iter(),
                    ) {
                        d = d.help(format!("did you mean `{s}<...>`?"));
                    }
                    diags.push(d);
                    None
                }
            }
        }
        ElemTypeKind::Prim { prim, args } => {
            let mut targs = Vec::new();
            for (i, a) in args.iter().enumerate() {
                match type_arg(env, *prim, i, a) {
                    Ok(t) => targs.push(t),
                    Err(d) => {
                        diags.push(d);
                        return None;
                    }
                }
            }
            match build_prim(*prim, &targs, e.span, &|_| None) {
                Ok(Some(t)) => Some(ElemRef::Known(t)),
                Ok(None) => Some(ElemRef::Template {
                    prim: *prim,
                    args: targs,
                    span: e.span,
                }),
                Err(d) => {
                    diags.push(d);
                    None
                }
            }
        }
    }
}

const QUANT_NAMES: &str = "trn, trn_zero, rnd, rnd_zero, rnd_min_inf, rnd_inf, rnd_conv";
const OVERFLOW_NAMES: &str = "wrap, sat, sat_zero, sat_sym, wrap_sm";

fn type_arg(
    env: &dyn SymbolEnv,
    prim: PrimType,
    i: usize,
    a: &ast::Expr,
) -> Result<TypeArg, Diagnostic> {
    let is_fixed = matches!(prim, PrimType::Fixed | PrimType::Ufixed);
    if is_fixed && (i == 2 || i == 3) {
        let AE::Name(n) = &a.kind else {
            return Err(
                Diagnostic::error(codes::UNKNOWN_MODE, "expected a mode name")
                    .at(a.span)
                    .help(if i == 2 {
                        format!("quantization modes: {QUANT_NAMES}")
                    } else {
                        format!("overflow modes: {OVERFLOW_NAMES}")
                    }),
            );
        };
        if i == 2 {
            return Quant::from_name(n).map(TypeArg::Quant).ok_or_else(|| {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_MODE,
                    format!("unknown quantization mode `{n}`"),
                )
                .at(a.span)
                .note(format!("quantization modes: {QUANT_NAMES}"));
                if Overflow::from_name(n).is_some() {
                    d = d.help("the quantization mode comes first: `fixed<W, I, rnd, sat>`");
                } else if let Some(s) = suggest(
                    n,
                    Quant::ALL
                        .iter()
                        .map(|q| q.name().to_string())
                        .collect::<Vec<_>>()
                        .iter(),
                ) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                d
            });
        }
        return Overflow::from_name(n)
            .map(TypeArg::Overflow)
            .ok_or_else(|| {
                let mut d =
                    Diagnostic::error(codes::UNKNOWN_MODE, format!("unknown overflow mode `{n}`"))
                        .at(a.span)
                        .note(format!("overflow modes: {OVERFLOW_NAMES}"));
                if let Some(s) = suggest(
                    n,
                    Overflow::ALL
                        .iter()
                        .map(|q| q.name().to_string())
                        .collect::<Vec<_>>()
                        .iter(),
                ) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                d
            });
    }
    size_expr(env, a).map(TypeArg::Size)
}

/// Builds a builtin type from its arguments. `Ok(None)` when a size argument is still
/// symbolic; `eval` gives values for symbols at instantiation.
pub fn build_prim(
    prim: PrimType,
    args: &[TypeArg],
    span: Span,
    eval: &dyn Fn(&SizeExpr) -> Option<i64>,
) -> Result<Option<ScalarType>, Diagnostic> {
    let arity_error = |want: &str| {
        Diagnostic::error(
            codes::BAD_FIXED_TYPE,
            format!("`{}` takes {want}", prim.name()),
        )
        .at(span)
        .help(match prim {
            PrimType::Fixed | PrimType::Ufixed => {
                "write `fixed<W, I>` or `fixed<W, I, Q, O>` or `fixed<W, I, Q, O, N>`"
            }
            _ => "write e.g. `int<8>`",
        })
    };
    let size = |a: &TypeArg| -> Result<Option<i64>, Diagnostic> {
        match a {
            TypeArg::Size(s) => Ok(s.as_const().or_else(|| eval(s))),
            _ => Err(Diagnostic::error(codes::BAD_FIXED_TYPE, "expected a number here").at(span)),
        }
    };
    let t = match prim {
        PrimType::Bin | PrimType::Tern | PrimType::F32 | PrimType::Bool => {
            if !args.is_empty() {
                return Err(arity_error("no parameters"));
            }
            match prim {
                PrimType::Bin => ScalarType::Bin,
                PrimType::Tern => ScalarType::Tern,
                PrimType::F32 => ScalarType::F32,
                _ => ScalarType::Bool,
            }
        }
        PrimType::Int | PrimType::Uint => {
            if args.len() != 1 {
                return Err(arity_error("one parameter, the width"));
            }
            let Some(w) = size(&args[0])? else {
                return Ok(None);
            };
            if w < 1 || w > MAX_DECLARED_WIDTH as i64 {
                return Err(width_error(w, span));
            }
            ScalarType::Int(IntType::new(w as u32, prim == PrimType::Int))
        }
        PrimType::Fixed | PrimType::Ufixed => {
            if !(2..=5).contains(&args.len()) {
                return Err(arity_error(
                    "2 to 5 parameters: W, I and optionally Q, O, N",
                ));
            }
            let (Some(w), Some(i)) = (size(&args[0])?, size(&args[1])?) else {
                return Ok(None);
            };
            if w < 1 || w > MAX_DECLARED_WIDTH as i64 {
                return Err(width_error(w, span));
            }
            let mut t = FixedType::plain(w as u32, i as i32, prim == PrimType::Fixed);
            for a in &args[2..] {
                match a {
                    TypeArg::Quant(q) => t.quant = *q,
                    TypeArg::Overflow(o) => t.overflow = *o,
                    TypeArg::Size(_) => {
                        let Some(n) = size(a)? else { return Ok(None) };
                        t.sat_bits = n.max(0) as u32;
                    }
                }
            }
            if let Err(e) = t.validate(MAX_DECLARED_WIDTH) {
                return Err(
                    Diagnostic::error(codes::BAD_FIXED_TYPE, format!("invalid type: {e}")).at(span),
                );
            }
            ScalarType::Fixed(t)
        }
    };
    Ok(Some(t))
}

fn width_error(w: i64, span: Span) -> Diagnostic {
    Diagnostic::error(codes::BAD_WIDTH, format!("width {w} is out of range"))
        .at(span)
        .label(format!(
            "declared widths are 1 to {MAX_DECLARED_WIDTH} bits"
        ))
}

/// Kernel-scope symbols during signature resolution.
struct SigEnv<'a> {
    module: ModuleEnv<'a>,
    size_vars: &'a [Named],
    const_params: Vec<(String, usize)>,
    type_vars: &'a [Named],
    /// Names of values in scope (parameters, locals), to tell "a value used as a type".
    value_names: &'a [String],
}

impl SymbolEnv for SigEnv<'_> {
    fn is_value(&self, name: &str) -> bool {
        self.value_names.iter().any(|v| v == name)
    }
    fn symbol(&self, name: &str) -> Option<Symbol> {
        self.module.symbol(name)
    }
    fn size_symbol(&self, name: &str) -> Option<SizeExpr> {
        if let Some(i) = self.size_vars.iter().position(|v| v.name == name) {
            return Some(SizeExpr::Var(i));
        }
        self.const_params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| SizeExpr::ConstParam(*i))
    }
    fn type_var(&self, name: &str) -> Option<usize> {
        self.type_vars.iter().position(|v| v.name == name)
    }
}

fn resolve_signature(
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

/// Resolves a parameter or result type. With `binding`, bare unknown names in the shape
/// bind new size variables; otherwise they are errors.
#[allow(clippy::too_many_arguments)]
pub(crate) fn param_type(
    modules: &[ModuleInfo],
    m: usize,
    ty: &ast::TypeExpr,
    size_vars: &mut Vec<Named>,
    shape_vars: &mut Vec<Named>,
    const_params: &[(String, usize)],
    type_vars: &[Named],
    binding: bool,
    value_names: &[String],
    diags: &mut Diagnostics,
) -> Option<TypeRef> {
    let env_elem = SigEnv {
        module: ModuleEnv { modules, m },
        size_vars,
        const_params: const_params.to_vec(),
        type_vars,
        value_names,
    };
    let (elem_expr, dims) = match &ty.kind {
        TypeExprKind::Scalar(e) => (Some(e), None),
        TypeExprKind::Tensor { elem, dims } => (elem.as_ref(), Some(dims)),
    };
    let elem = match elem_expr {
        Some(e) => elem_type(&env_elem, e, diags)?,
        None => ElemRef::Inferred,
    };
    let mut shape = elem_expr
        .and_then(|e| alias_shape_of(&env_elem, e))
        .map(|s| {
            s.into_iter()
                .map(|d| Dim::Size(SizeExpr::Const(d as i64)))
                .collect::<Vec<_>>()
        });
    if let Some(dims) = dims {
        if shape.is_some() {
            diags.push(
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    "a tensor type alias cannot take another shape",
                )
                .at(ty.span),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut rest_seen = false;
        for d in dims {
            match d {
                ast::DimExpr::Rest(id) => {
                    if rest_seen {
                        diags.push(
                            Diagnostic::error(codes::BAD_DIM, "a shape can have only one `*` part")
                                .at(id.span),
                        );
                        return None;
                    }
                    rest_seen = true;
                    let idx = match shape_vars.iter().position(|v| v.name == id.name) {
                        Some(i) => i,
                        None if binding => {
                            shape_vars.push(Named {
                                name: id.name.clone(),
                                span: id.span,
                            });
                            shape_vars.len() - 1
                        }
                        None => {
                            diags.push(
                                Diagnostic::error(
                                    codes::UNBOUND_SIZE,
                                    format!(
                                        "shape variable `*{}` is not bound by a parameter",
                                        id.name
                                    ),
                                )
                                .at(id.span),
                            );
                            return None;
                        }
                    };
                    out.push(Dim::Rest(idx));
                }
                ast::DimExpr::Size(e) => {
                    if let AE::Name(n) = &e.kind {
                        let known = size_vars.iter().any(|v| &v.name == n)
                            || const_params.iter().any(|(c, _)| c == n)
                            || modules[m].scope.contains_key(n);
                        if !known && value_names.contains(n) {
                            diags.push(
                                Diagnostic::error(
                                    codes::NOT_CONSTANT,
                                    format!("`{n}` is a value computed at run time, not a compile-time integer"),
                                )
                                .at(e.span)
                                .help(format!("dimensions must be known when compiling; make it a `const` parameter (`{n}: const`), or bind the size from a tensor's shape")),
                            );
                            return None;
                        }
                        if !known {
                            if binding {
                                size_vars.push(Named {
                                    name: n.clone(),
                                    span: e.span,
                                });
                                out.push(Dim::Size(SizeExpr::Var(size_vars.len() - 1)));
                                continue;
                            }
                            let mut d = Diagnostic::error(codes::UNBOUND_SIZE, format!("size `{n}` is not bound by any parameter"))
                                .at(e.span)
                                .help("size variables get their values from the shapes of the parameters; bind it with a bare name in a parameter's shape");
                            if let Some(s) = suggest(n, size_vars.iter().map(|v| &v.name)) {
                                d = d.help(format!("did you mean `{s}`?"));
                            }
                            diags.push(d);
                            return None;
                        }
                    }
                    let env = SigEnv {
                        module: ModuleEnv { modules, m },
                        size_vars,
                        const_params: const_params.to_vec(),
                        type_vars,
                        value_names,
                    };
                    match size_expr(&env, e) {
                        Ok(s) => {
                            if let Some(v) = s.as_const() {
                                if v < 1 {
                                    diags.push(
                                        Diagnostic::error(
                                            codes::BAD_DIM,
                                            format!("dimension {v} is not positive"),
                                        )
                                        .at(e.span),
                                    );
                                    return None;
                                }
                            }
                            out.push(Dim::Size(s))
                        }
                        Err(mut d) => {
                            if d.code == codes::UNKNOWN_NAME {
                                d.code = codes::UNBOUND_SIZE;
                                d = d.help("a size expression may only use sizes bound by earlier parameters' shapes");
                            }
                            diags.push(d);
                            return None;
                        }
                    }
                }
            }
        }
        shape = Some(out);
    }
    Some(TypeRef {
        elem,
        shape,
        span: ty.span,
    })
}

/// The closest name within edit distance 2, for "did you mean" help.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a String>,
) -> Option<String> {
    let mut best: Option<(usize, &String)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        if d <= 2 && d < name.len().max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Calls must not form cycles: hardware has no call stack.
fn check_recursion(program: &hir::Program, diags: &mut Diagnostics) {
    let n = program.kernels.len();
    let callees: Vec<Vec<(hir::KernelId, Span)>> =
        program.kernels.iter().map(kernel_calls).collect();
    // 0 = unvisited, 1 = on stack, 2 = done
    let mut state = vec![0u8; n];
    fn visit(
        k: usize,
        callees: &[Vec<(usize, Span)>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
        program: &hir::Program,
        diags: &mut Diagnostics,
    ) {
        state[k] = 1;
        stack.push(k);
        for &(c, span) in &callees[k] {
            if state[c] == 1 {
                let pos = stack.iter().position(|&s| s == c).unwrap_or(0);
                let chain: Vec<&str> = stack[pos..]
                    .iter()
                    .map(|&s| program.kernels[s].name.as_str())
                    .collect();
                diags.push(
                    Diagnostic::error(
                        codes::RECURSION,
                        format!("kernel `{}` calls itself", program.kernels[c].name),
                    )
                    .at(span)
                    .note(format!(
                        "call cycle: {} -> {}",
                        chain.join(" -> "),
                        program.kernels[c].name
                    ))
                    .help("hardware has no call stack; write the repetition as a loop"),
                );
            } else if state[c] == 0 {
                visit(c, callees, state, stack, program, diags);
            }
        }
        stack.pop();
        state[k] = 2;
    }
    for k in 0..n {
        if state[k] == 0 {
            visit(k, &callees, &mut state, &mut Vec::new(), program, diags);
        }
    }
}

fn kernel_calls(k: &hir::Kernel) -> Vec<(hir::KernelId, Span)> {
    let mut out = Vec::new();
    fn expr(e: &hir::Expr, out: &mut Vec<(hir::KernelId, Span)>) {
        if let hir::ExprKind::Call { kernel, .. } = &e.kind {
            out.push((*kernel, e.span));
        }
        hir::visit_subexprs(e, &mut |s| expr(s, out));
    }
    fn block(b: &hir::Block, out: &mut Vec<(hir::KernelId, Span)>) {
        for s in b {
            hir::visit_stmt_exprs(s, &mut |e| expr(e, out));
            for b in hir::child_blocks(s) {
                block(b, out);
            }
        }
    }
    block(&k.body, &mut out);
    out
}
