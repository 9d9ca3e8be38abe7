//! Output parameters: which tensor parameters of each kernel are written, and which are
//! also read, decided from the kernel bodies before they are checked.
//!
//! A tensor parameter is **written** when the body stores into its elements
//! (`c[i] = ...`, `c[i] += ...`, `c[k, :] = ...`) or passes it, as it is, to a written
//! parameter of a kernel it calls (`vadd(a, b, c)` as a statement). It is **read** when
//! its name appears anywhere else: in an expression, an index, an augmented assignment
//! (`c[i] += v` reads `c[i]`), or as the argument of a callee parameter that is read.
//! Both facts flow up through calls, so they are computed to a fixpoint over every
//! kernel of the program (written first: whether a callee's parameter is written decides
//! what passing it means).
//!
//! Only calls by a plain name (`vadd(...)`, `vadd[T](...)`) are followed; a kernel called
//! as `module.kernel(...)` is looked up by the checker, which refuses an argument its
//! output parameter cannot write.

use crate::ast::{self, ExprKind as AE, StmtKind as AS};
use crate::hir::{self, KParamKind};
use crate::resolve::{ModuleInfo, Symbol};

/// Sets [`hir::KParam::written`] and [`hir::KParam::read`] for every kernel of `order`.
pub(crate) fn mark_output_params(
    modules: &[ModuleInfo],
    kernels: &[(usize, hir::KernelId, &ast::Kernel)],
    program: &mut hir::Program,
) {
    // Written: direct stores, then through calls until nothing changes.
    for &(_, id, k) in kernels {
        for pi in tensor_params(&program.kernels[id]) {
            let name = program.kernels[id].params[pi].name.clone();
            if stores_into(&k.body.stmts, &name) {
                program.kernels[id].params[pi].written = true;
            }
        }
    }
    loop {
        let mut changed = false;
        for &(m, id, k) in kernels {
            for pi in tensor_params(&program.kernels[id]) {
                let p = &program.kernels[id].params[pi];
                if p.written {
                    continue;
                }
                let mut passed = false;
                each_call_arg(&modules[m], &k.body.stmts, &p.name, program, &mut |q| {
                    passed |= q.written;
                });
                if passed {
                    program.kernels[id].params[pi].written = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    // Read: a use other than a store target or the argument of a callee's output-only
    // parameter.
    loop {
        let mut changed = false;
        for &(m, id, k) in kernels {
            for pi in tensor_params(&program.kernels[id]) {
                let p = &program.kernels[id].params[pi];
                if !p.written || p.read {
                    continue;
                }
                let mut read = false;
                each_call_arg(&modules[m], &k.body.stmts, &p.name, program, &mut |q| {
                    read |= !q.output_only();
                });
                read |= reads_outside_calls(&modules[m], &k.body.stmts, &p.name);
                if read {
                    program.kernels[id].params[pi].read = true;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// The value parameters of `k` with a tensor type.
fn tensor_params(k: &hir::Kernel) -> Vec<usize> {
    k.params
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(&p.kind, KParamKind::Value(t) if t.shape.is_some()))
        .map(|(i, _)| i)
        .collect()
}

/// The tensor a store target indexes, through chained subscripts (`c[i][j]` is `c`), and
/// the subscripts of every link of the chain.
fn indexed_root(t: &ast::Expr) -> Option<(&str, Vec<&ast::Subscript>)> {
    match &t.kind {
        AE::Index { base, subs } => {
            let (root, mut all) = match &base.kind {
                AE::Name(n) => (n.as_str(), Vec::new()),
                _ => indexed_root(base)?,
            };
            all.extend(subs.iter());
            Some((root, all))
        }
        _ => None,
    }
}

/// Whether a store target writes elements of `name`.
fn target_writes(t: &ast::Expr, name: &str) -> bool {
    match &t.kind {
        AE::Index { .. } => indexed_root(t).is_some_and(|(root, _)| root == name),
        AE::Tuple(es) => es.iter().any(|e| target_writes(e, name)),
        _ => false,
    }
}

fn stores_into(stmts: &[ast::Stmt], name: &str) -> bool {
    stmts.iter().any(|s| match &s.kind {
        AS::Assign { targets, .. } => targets.iter().any(|t| target_writes(t, name)),
        AS::AugAssign { target, .. } => target_writes(target, name),
        _ => sub_blocks(s).iter().any(|b| stores_into(b, name)),
    })
}

/// The blocks directly inside a statement.
fn sub_blocks(s: &ast::Stmt) -> Vec<&[ast::Stmt]> {
    match &s.kind {
        AS::For { body, .. } | AS::While { body, .. } | AS::UnexpectedIndent(body) => {
            vec![&body.stmts]
        }
        AS::If {
            branches,
            else_block,
        } => branches
            .iter()
            .map(|(_, b)| &b.stmts[..])
            .chain(else_block.iter().map(|b| &b.stmts[..]))
            .collect(),
        _ => Vec::new(),
    }
}

/// The expressions a statement evaluates (store targets included), not those of nested
/// blocks.
fn stmt_exprs(s: &ast::Stmt) -> Vec<&ast::Expr> {
    match &s.kind {
        AS::Decl { init, .. } => init.iter().collect(),
        AS::Assign { targets, value } => targets.iter().chain([value]).collect(),
        AS::AugAssign { target, value, .. } => vec![target, value],
        AS::For { iter, .. } => vec![iter],
        AS::While { cond, max, .. } => std::iter::once(cond)
            .chain(max.as_ref().map(|(_, e)| e))
            .collect(),
        AS::If { branches, .. } => branches.iter().map(|(c, _)| c).collect(),
        AS::Return(es) => es.iter().collect(),
        AS::Expr(e) => vec![e],
        AS::Pass | AS::Break | AS::Continue | AS::UnexpectedIndent(_) | AS::Error => Vec::new(),
    }
}

/// The direct sub-expressions of `e`.
fn children(e: &ast::Expr) -> Vec<&ast::Expr> {
    fn sub(s: &ast::Subscript) -> Vec<&ast::Expr> {
        match s {
            ast::Subscript::Index(e) => vec![e],
            ast::Subscript::Slice { lo, hi, step, .. } => {
                [lo, hi, step].into_iter().flatten().collect()
            }
        }
    }
    let mut out: Vec<&ast::Expr> = Vec::new();
    match &e.kind {
        AE::Int(_) | AE::Float(_) | AE::Bool(_) | AE::Str(_) | AE::Name(_) | AE::TypeLit(_) => {}
        AE::Attr(a, _) | AE::Unary(_, a) => out.push(a),
        AE::Binary(_, a, b) | AE::BoolOp(_, a, b) => out.extend([&**a, &**b]),
        AE::Compare(a, rest) => {
            out.push(a);
            out.extend(rest.iter().map(|(_, b)| b));
        }
        AE::IfElse {
            cond,
            then,
            otherwise,
        } => out.extend([&**cond, &**then, &**otherwise]),
        AE::Call { func, args } => {
            out.push(func);
            out.extend(args.iter().map(|a| &a.value));
        }
        AE::Index { base, subs } => {
            out.push(base);
            for s in subs {
                out.extend(sub(s));
            }
        }
        AE::Lambda { body, .. } => out.push(body),
        AE::Comprehension(g) | AE::Generator(g) => out.extend([&g.iter, &g.elem]),
        AE::Tuple(es) | AE::List(es) => out.extend(es.iter()),
    }
    out
}

/// The kernel a call's callee names by a plain name (`k` or `k[T]`).
fn callee(module: &ModuleInfo, func: &ast::Expr) -> Option<hir::KernelId> {
    let name = match &func.kind {
        AE::Name(n) => n,
        AE::Index { base, .. } => match &base.kind {
            AE::Name(n) => n,
            _ => return None,
        },
        _ => return None,
    };
    match module.scope.get(name) {
        Some((Symbol::Kernel(k), _)) => Some(*k),
        _ => None,
    }
}

/// The callee parameter each argument of a call goes to (positional, then by name).
fn arg_params<'p>(k: &'p hir::Kernel, args: &[ast::Arg]) -> Vec<Option<&'p hir::KParam>> {
    let mut pos = 0;
    args.iter()
        .map(|a| match &a.name {
            None => {
                pos += 1;
                k.params.get(pos - 1)
            }
            Some(n) => k.params.iter().find(|p| p.name == n.name),
        })
        .collect()
}

/// Calls `f` with the callee parameter of every call argument that is exactly `name`.
fn each_call_arg(
    module: &ModuleInfo,
    stmts: &[ast::Stmt],
    name: &str,
    program: &hir::Program,
    f: &mut dyn FnMut(&hir::KParam),
) {
    fn walk(
        module: &ModuleInfo,
        e: &ast::Expr,
        name: &str,
        program: &hir::Program,
        f: &mut dyn FnMut(&hir::KParam),
    ) {
        if let AE::Call { func, args } = &e.kind {
            if let Some(k) = callee(module, func) {
                let kernel = &program.kernels[k];
                for (a, p) in args.iter().zip(arg_params(kernel, args)) {
                    if let (AE::Name(n), Some(p)) = (&a.value.kind, p) {
                        if n == name {
                            f(p);
                        }
                    }
                }
            }
        }
        for c in children(e) {
            walk(module, c, name, program, f);
        }
    }
    for s in stmts {
        for e in stmt_exprs(s) {
            walk(module, e, name, program, f);
        }
        for b in sub_blocks(s) {
            each_call_arg(module, b, name, program, f);
        }
    }
}

/// Whether `name` is read other than as a plain argument of a kernel call (those are
/// [`each_call_arg`]'s) or as the tensor of a plain store target.
fn reads_outside_calls(module: &ModuleInfo, stmts: &[ast::Stmt], name: &str) -> bool {
    fn reads(module: &ModuleInfo, e: &ast::Expr, name: &str) -> bool {
        match &e.kind {
            AE::Name(n) => n == name,
            AE::Call { func, args } if callee(module, func).is_some() => args.iter().any(|a| {
                !matches!(&a.value.kind, AE::Name(n) if n == name) && reads(module, &a.value, name)
            }),
            _ => children(e).into_iter().any(|c| reads(module, c, name)),
        }
    }
    /// A store target reads only its indices.
    fn target_reads(module: &ModuleInfo, t: &ast::Expr, name: &str) -> bool {
        if let Some((_, subs)) = indexed_root(t) {
            return subs.iter().any(|s| match s {
                ast::Subscript::Index(x) => reads(module, x, name),
                ast::Subscript::Slice { lo, hi, step, .. } => [lo, hi, step]
                    .into_iter()
                    .flatten()
                    .any(|x| reads(module, x, name)),
            });
        }
        match &t.kind {
            AE::Tuple(es) => es.iter().any(|x| target_reads(module, x, name)),
            _ => reads(module, t, name),
        }
    }
    stmts.iter().any(|s| {
        let here = match &s.kind {
            AS::Assign { targets, value } => {
                targets.iter().any(|t| target_reads(module, t, name)) || reads(module, value, name)
            }
            _ => stmt_exprs(s).into_iter().any(|e| reads(module, e, name)),
        };
        here || sub_blocks(s)
            .into_iter()
            .any(|b| reads_outside_calls(module, b, name))
    })
}
