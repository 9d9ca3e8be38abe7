//! From an entry file to a checked [`Program`]: imports, module scopes, items, signatures.
//!
//! Stages, in order:
//! 1. parse the entry file and, depth first, every module it imports (through a
//!    [`SourceLoader`], which the driver backs with the file system and the embedded
//!    stdlib); import cycles are errors;
//! 2. per module, dependencies first: register kernel names, then in source order bind
//!    imports, evaluate `type` aliases and `const`s, and resolve `param` declarations;
//!    then resolve every kernel signature (type variables, size variables, `const`
//!    parameters, defaults, results) (all in resolve/);
//! 3. check every kernel body (check/) and schedule (schedule.rs), then reject recursion.
//!
//! Diagnostics are collected, not thrown: one run reports as much as it can.
//!
//! [`Program`]: hir::Program

use crate::ast::{self, ItemKind};
use crate::check::check_body;
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir;
use crate::parse::parse_module;
use crate::resolve::{
    declare, placeholder_kernel, resolve_items, resolve_signature, Ctx, ModuleInfo, Symbol,
};
use crate::span::{SourceFile, SourceMap, Span};
use std::collections::{HashMap, HashSet};
use std::path::Path;

pub use crate::resolve::build_prim;

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
    let mut diags = std::mem::take(&mut fe.diags);
    let Some(entry_idx) = entry_idx else {
        return (program, diags, parse_time);
    };
    let order = fe.order.clone();
    let mut modules = std::mem::take(&mut fe.modules);
    reserve_kernels(&mut modules, &order, &mut program, &mut diags);
    for &m in &order {
        resolve_items(&mut modules, m, &mut program, &mut diags);
    }
    let sig_failed = resolve_signatures(&modules, &order, &mut program, &mut diags);
    let all_kernels: Vec<(usize, hir::KernelId, &ast::Kernel)> = order
        .iter()
        .flat_map(|&m| {
            kernel_items(&modules, m)
                .into_iter()
                .map(move |(id, k)| (m, id, k))
        })
        .collect();
    crate::out_params::mark_output_params(&modules, &all_kernels, &mut program);
    check_bodies(&modules, &order, &sig_failed, &mut program, &mut diags);
    program.entry_kernels = modules[entry_idx]
        .kernels
        .iter()
        .map(|&(_, id)| id)
        .collect();
    check_schedules(&modules, &order, &mut program, &mut diags);
    check_recursion(&program, &mut diags);
    (program, diags, parse_time)
}

/// The kernels of module `m` with their ids.
fn kernel_items(modules: &[ModuleInfo], m: usize) -> Vec<(hir::KernelId, &ast::Kernel)> {
    modules[m]
        .kernels
        .iter()
        .filter_map(|&(item, id)| match &modules[m].ast.items[item].kind {
            ItemKind::Kernel(k) => Some((id, k)),
            _ => None,
        })
        .collect()
}

/// Kernel ids are global: reserves them all first (with placeholder kernels) so that any
/// module may name any kernel, and declares each in its module's scope.
fn reserve_kernels(
    modules: &mut [ModuleInfo],
    order: &[usize],
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) {
    for &m in order {
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
                diags,
                &k.name.name,
                Symbol::Kernel(id),
                k.name.span,
            );
        }
    }
}

/// Resolves every kernel signature; returns the kernels whose signatures have errors.
fn resolve_signatures(
    modules: &[ModuleInfo],
    order: &[usize],
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) -> HashSet<hir::KernelId> {
    let mut failed = HashSet::new();
    for &m in order {
        for (id, k) in kernel_items(modules, m) {
            let before = diags.error_count();
            let sig = resolve_signature(modules, m, k, diags);
            if diags.error_count() > before {
                failed.insert(id);
            }
            program.kernels[id] = sig;
        }
    }
    failed
}

/// Checks every kernel body whose signature resolved.
fn check_bodies(
    modules: &[ModuleInfo],
    order: &[usize],
    sig_failed: &HashSet<hir::KernelId>,
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) {
    for &m in order {
        for (id, k) in kernel_items(modules, m) {
            if sig_failed.contains(&id) {
                // The body would only repeat the signature's errors.
                continue;
            }
            let ctx = Ctx {
                failed: sig_failed,
                modules,
                module: m,
                kernels: &program.kernels,
                globals: &program.globals,
            };
            let mut kernel = program.kernels[id].clone();
            check_body(&ctx, k, &mut kernel, diags);
            program.kernels[id] = kernel;
        }
    }
}

/// Checks the `schedule` items of every module against the kernels they name.
fn check_schedules(
    modules: &[ModuleInfo],
    order: &[usize],
    program: &mut hir::Program,
    diags: &mut Diagnostics,
) {
    for &m in order {
        for item in &modules[m].ast.items {
            let ItemKind::Schedule {
                kernel,
                target,
                body,
            } = &item.kind
            else {
                continue;
            };
            let id = match modules[m].scope.get(&kernel.name) {
                Some((Symbol::Kernel(id), _)) => *id,
                _ => {
                    diags.push(
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
            if let Some(s) = crate::schedule::check(k, &globals, id, target, body, item.span, diags)
            {
                program.schedules.push(s);
            }
        }
    }
}

/// The name of the entry module: its file name without the extension.
fn module_display_name(file_name: &str) -> String {
    Path::new(file_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file_name.to_string())
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
        let failed = ast.unparsed.iter().cloned().collect();
        self.modules.push(ModuleInfo {
            name,
            dir: dir.clone(),
            ast,
            scope: HashMap::new(),
            kernels: Vec::new(),
            failed,
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

/// The kernels a kernel calls, with where.
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
