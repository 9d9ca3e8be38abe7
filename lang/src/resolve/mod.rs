//! Name resolution shared by the module pass (program.rs) and the body checker (check/):
//! what a name stands for in a module scope ([`Symbol`]), the scopes a lookup goes
//! through ([`SymbolEnv`]: module, kernel signature, kernel body), compile-time integer
//! expressions ([`size_expr`]) and "did you mean" suggestions.
//!
//! - types.rs: element types, builtin types and parameter types;
//! - items.rs: module items (imports, aliases, constants, params) and their scopes;
//! - signature.rs: kernel signatures.

mod items;
mod signature;
mod types;

use crate::ast::{self, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Named};
use crate::span::Span;
use crate::sym::{EvalError, SizeExpr, SizeOp};
use kiln_numeric::ScalarType;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

pub(crate) use items::{declare, resolve_items};
pub(crate) use signature::{placeholder_kernel, resolve_signature};
pub use types::build_prim;
pub(crate) use types::{elem_type, param_type, tensor_too_large, SigScope};

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
    /// Names of `type`, `const` and `param` items whose definitions have errors: uses
    /// of them stay silent (an "unknown name" there would only repeat the error).
    pub failed: HashSet<String>,
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
    /// What `name` stands for in the module.
    pub fn lookup(&self, name: &str) -> Option<&Symbol> {
        self.modules[self.module].scope.get(name).map(|(s, _)| s)
    }

    /// Whether `name` is an item of the module whose definition has errors.
    pub fn item_failed(&self, name: &str) -> bool {
        self.modules[self.module].failed.contains(name)
    }

    /// The names of the module scope (for suggestions).
    pub fn visible_names(&self) -> Vec<String> {
        self.modules[self.module].scope.keys().cloned().collect()
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

    /// Whether `name` is a module item whose definition has errors (uses stay silent).
    fn item_failed(&self, _name: &str) -> bool {
        false
    }

    /// The shape of the tensor `name` (kernel bodies only), for `len(a)` and
    /// `a.shape[k]`; `Some(None)` for a scalar.
    fn value_shape(&self, _name: &str) -> Option<Option<Vec<hir::Dim>>> {
        None
    }
}

/// `len(a)` (`dim` 0 of `a`, at `span`) or `a.shape[k]`: a dimension of a named tensor
/// as a compile-time integer.
fn tensor_size(
    env: &dyn SymbolEnv,
    a: &ast::Expr,
    dim: Result<i64, Diagnostic>,
    what: &str,
    span: Span,
) -> Result<SizeExpr, Diagnostic> {
    let AE::Name(n) = &a.kind else {
        return Err(Diagnostic::error(
            codes::NOT_CONSTANT,
            format!("`{what}` needs a named tensor"),
        )
        .at(a.span)
        .help("assign the tensor to a name first"));
    };
    let shape = match env.value_shape(n) {
        Some(Some(shape)) => shape,
        Some(None) => {
            return Err(Diagnostic::error(
                codes::KIND_MISMATCH,
                format!("`{n}` is a scalar: it has no `{what}`"),
            )
            .at(a.span))
        }
        None => {
            return Err(Diagnostic::error(
                codes::NOT_CONSTANT,
                format!("`{what}` needs a tensor of the kernel (a parameter, local or `param`)"),
            )
            .at(a.span))
        }
    };
    let dim = dim?;
    let rank = shape.len() as i64;
    let d = if dim < 0 { dim + rank } else { dim };
    if d < 0 || d >= rank {
        return Err(Diagnostic::error(
            codes::INDEX_COUNT,
            format!("`{n}` has {rank} dimension(s), so it has no dimension {dim}"),
        )
        .at(span));
    }
    match &shape[d as usize] {
        hir::Dim::Size(s) => Ok(s.clone()),
        hir::Dim::Rest(_) => Err(Diagnostic::error(
            codes::INDEX_COUNT,
            format!("`{n}` has a generic rank: its sizes are not known here"),
        )
        .at(span)
        .help("name the dimensions in the parameter's type (`x: T[N, M]`)")),
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
    fn item_failed(&self, name: &str) -> bool {
        self.modules[self.m].failed.contains(name)
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
        AE::Int(v) => i64::try_from(*v).map(SizeExpr::Const).map_err(|_| {
            Diagnostic::error(
                codes::NOT_CONSTANT,
                format!("`{v}` is too large for a size"),
            )
            .at(e.span)
            .label(format!("the largest size is {}", i64::MAX))
            .help("sizes, loop bounds and type arguments are 64-bit signed integers")
        }),
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
        AE::Unary(ast::UnaryOp::Neg, inner) => constant_fits(
            SizeExpr::bin(SizeOp::Sub, SizeExpr::Const(0), size_expr(env, inner)?),
            e.span,
        ),
        AE::Unary(ast::UnaryOp::Plus, inner) => size_expr(env, inner),
        AE::Call { func, args }
            if matches!(&func.kind, AE::Name(f) if f == "len")
                && args.len() == 1
                && args[0].name.is_none() =>
        {
            tensor_size(env, &args[0].value, Ok(0), "len", e.span)
        }
        AE::Index { base, subs } if matches!(&base.kind, AE::Attr(_, attr) if attr.name == "shape") =>
        {
            let AE::Attr(a, _) = &base.kind else {
                unreachable!()
            };
            let dim = match subs.as_slice() {
                [ast::Subscript::Index(k)] => size_expr(env, k)?.as_const().ok_or_else(|| {
                    Diagnostic::error(
                        codes::NOT_CONSTANT,
                        "the dimension in `.shape[k]` must be a constant",
                    )
                    .at(k.span)
                }),
                _ => Err(Diagnostic::error(
                    codes::INDEX_COUNT,
                    "`.shape` takes one index: `a.shape[0]`",
                )
                .at(e.span)),
            };
            tensor_size(env, a, dim, "shape", e.span)
        }
        AE::Binary(op, a, b) => {
            let op = match op {
                ast::BinOp::Add => SizeOp::Add,
                ast::BinOp::Sub => SizeOp::Sub,
                ast::BinOp::Mul => SizeOp::Mul,
                ast::BinOp::FloorDiv => SizeOp::FloorDiv,
                ast::BinOp::Mod => SizeOp::Mod,
                _ => return Err(not_size()),
            };
            constant_fits(
                SizeExpr::bin(op, size_expr(env, a)?, size_expr(env, b)?),
                e.span,
            )
        }
        _ => Err(not_size()),
    }
}

/// `s` (written at `span`), unless it is a constant whose value overflows 64-bit
/// integers or divides by zero: those are errors where they are written, not at
/// instantiation.
fn constant_fits(s: SizeExpr, span: Span) -> Result<SizeExpr, Diagnostic> {
    match s.const_eval() {
        Err(EvalError::Overflow) => Err(Diagnostic::error(
            codes::NOT_CONSTANT,
            "this compile-time integer overflows",
        )
        .at(span)
        .label(format!("beyond {}, the largest size", i64::MAX))
        .help("sizes, loop bounds and type arguments are 64-bit signed integers")),
        Err(EvalError::DivByZero) => Err(Diagnostic::error(
            codes::NOT_CONSTANT,
            "this compile-time integer divides by zero",
        )
        .at(span)
        .label("division by zero")),
        _ => Ok(s),
    }
}

/// Kernel-scope symbols during signature resolution.
struct SigEnv<'a> {
    module: ModuleEnv<'a>,
    size_vars: &'a [Named],
    const_params: &'a [(String, usize)],
    type_vars: &'a [Named],
    /// Names of values in scope (parameters, locals), to tell "a value used as a type".
    value_names: &'a [String],
    /// The shapes of the tensors in scope (in kernel bodies), for `len(a)`, `a.shape[k]`.
    value_shapes: Option<&'a ValueShapes>,
}

/// The shapes of named values (`None` for scalars), for `len(a)` and `a.shape[k]`.
pub(crate) type ValueShapes = HashMap<String, Option<Vec<hir::Dim>>>;

impl SymbolEnv for SigEnv<'_> {
    fn value_shape(&self, name: &str) -> Option<Option<Vec<hir::Dim>>> {
        self.value_shapes?.get(name).cloned()
    }
    fn is_value(&self, name: &str) -> bool {
        self.value_names.iter().any(|v| v == name)
    }
    fn symbol(&self, name: &str) -> Option<Symbol> {
        self.module.symbol(name)
    }
    fn item_failed(&self, name: &str) -> bool {
        self.module.item_failed(name)
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

/// The closest name within edit distance 2, for "did you mean" help.
pub(crate) fn suggest<S: AsRef<str>>(
    name: &str,
    candidates: impl IntoIterator<Item = S>,
) -> Option<String> {
    let mut best: Option<(usize, String)> = None;
    for c in candidates {
        let c = c.as_ref();
        let d = edit_distance(name, c);
        if d <= 2 && d < name.len().max(2) && best.as_ref().is_none_or(|(bd, _)| d < *bd) {
            best = Some((d, c.to_string()));
        }
    }
    best.map(|(_, c)| c)
}

/// `d` with the help "did you mean `x`?" when a candidate `x` is close to `name`.
pub(crate) fn did_you_mean<S: AsRef<str>>(
    d: Diagnostic,
    name: &str,
    candidates: impl IntoIterator<Item = S>,
) -> Diagnostic {
    match suggest(name, candidates) {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d,
    }
}

/// The Levenshtein distance of two names.
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
