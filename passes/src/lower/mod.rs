//! Pass `lower`: instantiate the entry kernel (and, on demand, every kernel it calls) into
//! the dataflow IR.
//!
//! Each instance is specialized on concrete sizes, element types, `const` arguments and
//! which arguments are constant data. Top-level statements of a kernel body become graph
//! nodes in program order: kernel calls become [`Node::Call`]s, everything else becomes a
//! [`Node::Compute`] with a loop nest. High-level operators become loops: elementwise
//! tensor arithmetic, `map` (with windows), comprehensions, `sum`/`max`/`min`, `dot`.
//! Each compute node is typed (infer_types/) as soon as it is built, because the types
//! of what it produces decide how later calls are instantiated.
//!
//! Before (HIR, as written):
//! ```text
//! kernel scale(x: fixed<8,4>[N]) -> [N]:
//!     return [x[i] * 3 for i in grid(N)]
//! ```
//! After (IR, N = 4):
//! ```text
//! instance scale (N=4)
//!   input x: fixed<8, 4>[4]
//!   node comprehension:
//!     for i in 0..4: t[i] = (x[i] * 3)
//!   output 0 = t: fixed<10, 6>[4]
//! ```
//!
//! Scalar locals shared between top-level statements travel in 0-d tensors, one version per
//! writing statement; tensor locals assigned as a whole get a new tensor per assignment.
//!
//! The module is split by concept:
//! - instantiate.rs: kernel instances, one per binding of sizes, types and `const`s;
//! - constants.rs: constant data (module parameters, converted arguments) and lookup tables;
//! - graph.rs: the graph of an instance: tensors, nodes and edges, top-level statements;
//! - calls.rs: kernel calls and the tensors passed to them;
//! - stmts.rs: statements inside a compute node, locals, whole-tensor stores;
//! - control.rs: `if`, `for`, `while`, `break` and `continue` as flags and guards;
//! - shapes.rs: sizes, element types, shapes of expressions and views (subscripts);
//! - affine.rs: affine forms of indices and sizes;
//! - loop_bounds.rs: loop bounds that are not affine (`range(i // 16 + 1)`), as guards;
//! - literals.rs: literal constants and their folding;
//! - expr.rs: expressions element by element; ops.rs: operators and math functions;
//! - reduce.rs: reductions (`sum`, `max`, `min`, `argmax`, `argmin`, `dot`);
//! - class.rs: the class of an expression (bool, f32, exact), read off the HIR.

mod affine;
mod bits;
mod calls;
mod class;
mod constants;
mod control;
mod expr;
mod graph;
mod instantiate;
mod lists;
mod literals;
mod load_warnings;
mod loop_bounds;
mod ops;
mod power;
mod reduce;
mod shapes;
mod stmts;

use crate::data::RawArray;
use crate::ir::*;
use control::JumpFrame;
use kiln_lang::diag::{codes, Diagnostic, Diagnostics};
use kiln_lang::hir::{self, KParamKind};
use kiln_lang::sym::SizeEnv;
use kiln_lang::Span;
use kiln_numeric::ScalarType;
use std::collections::HashMap;

pub use constants::load_global;
pub use load_warnings::{conversion_warnings, LoadTarget};

/// How one value parameter of the entry kernel is bound.
#[derive(Clone, Debug)]
pub struct EntryArg {
    pub shape: Vec<usize>,
    /// The element type, for parameters whose type is generic (from the data's dtype).
    pub elem: Option<ScalarType>,
}

/// What lowering needs besides the program.
pub struct LowerInputs<'a> {
    pub program: &'a hir::Program,
    /// Raw data of loaded module parameters, by global id (`None` for literal params).
    pub global_data: &'a [Option<RawArray>],
}

/// Lowers `entry` with arguments `args` (one per value parameter, in order; `None` for a
/// `const` parameter, which takes its default).
pub fn lower_program(
    inputs: &LowerInputs,
    entry: hir::KernelId,
    args: &[Option<EntryArg>],
) -> (Module, Diagnostics) {
    let mut mb = ModuleBuilder {
        inputs,
        module: Module::default(),
        memo: HashMap::new(),
        global_consts: HashMap::new(),
        tables: HashMap::new(),
        diags: Diagnostics::default(),
        chain: Vec::new(),
        names: HashMap::new(),
    };
    let k = &inputs.program.kernels[entry];
    let mut bindings = Vec::new();
    let mut ok = true;
    for (p, a) in k
        .params
        .iter()
        .zip(args.iter().chain(std::iter::repeat(&None)))
    {
        match (&p.kind, a) {
            (KParamKind::Const, _) => bindings.push(Binding::Default),
            (KParamKind::Value(_), Some(a)) => bindings.push(Binding::Value {
                elem: a.elem,
                shape: a.shape.clone(),
                constant: None,
                range: None,
            }),
            // An output parameter nothing reads: its shape follows from the others.
            (KParamKind::Value(_), None) if p.output_only() => bindings.push(Binding::Output),
            (KParamKind::Value(_), None) => {
                mb.diags.push(
                    Diagnostic::error(codes::MISSING_INPUT, format!("no value for parameter `{}` of `{}`", p.name, k.name))
                        .at(p.span)
                        .help(format!("pass it with `--input {}=FILE.npy`, or give it a default: `{}: T[...] = load(\"file.npy\")`", p.name, p.name)),
                );
                ok = false;
            }
        }
    }
    if ok {
        if let Some(id) = mb.instantiate(entry, bindings, Vec::new(), k.span) {
            mb.module.entry = Some(id);
        }
    }
    if mb.module.entry.is_none() && !mb.diags.has_errors() {
        // Every failure to lower says why; a kernel that fails without a diagnostic is a
        // bug in kiln, and must not look like a program that ran and printed nothing.
        mb.diags.push(
            Diagnostic::error(
                codes::UNSUPPORTED,
                format!(
                    "kiln could not lower `{}` and has no diagnostic that says why",
                    k.name
                ),
            )
            .at(k.span)
            .help("this is a bug in kiln: please report it with the script"),
        );
    }
    (mb.module, mb.diags)
}

/// How a parameter of an instance is bound.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Binding {
    /// A tensor (or 0-d scalar) argument; `elem` is the argument's element type (`None`:
    /// take the parameter's declared type), `constant` the constant data it carries.
    Value {
        elem: Option<ScalarType>,
        shape: Vec<usize>,
        constant: Option<ConstId>,
        /// The argument's range when it is narrower than its type (callees are
        /// specialized on it, so their inferred types are as narrow as the data allows).
        range: Option<kiln_numeric::Interval>,
    },
    Const(i64),
    /// A `const` parameter left to its default.
    Default,
    /// An output parameter of the entry kernel given no data: its declared shape, once
    /// the other parameters have bound the sizes it uses.
    Output,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct InstanceKey {
    kernel: hir::KernelId,
    params: Vec<Binding>,
    type_args: Vec<ScalarType>,
}

struct ModuleBuilder<'a> {
    inputs: &'a LowerInputs<'a>,
    module: Module,
    memo: HashMap<InstanceKey, Option<InstanceId>>,
    global_consts: HashMap<hir::GlobalId, ConstId>,
    /// Lookup tables of math functions, by function and spec (see `LutKey`).
    tables: HashMap<LutKey, ConstId>,
    diags: Diagnostics,
    /// Instantiations in progress: kernel name, bindings, call site.
    chain: Vec<(String, Span)>,
    names: HashMap<String, usize>,
}

/// A lookup table: the function, and its spec with the bounds as bits.
type LutKey = (kiln_numeric::MathFn, u32, u64, u64, u32);

/// The class of a lowered expression (widths are inference's business).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Class {
    Bool,
    F32,
    F64,
    Exact,
}

impl Class {
    fn is_float(self) -> bool {
        matches!(self, Class::F32 | Class::F64)
    }
}

fn class_of(t: &ScalarType) -> Class {
    match t {
        ScalarType::Bool => Class::Bool,
        ScalarType::F32 => Class::F32,
        ScalarType::F64 => Class::F64,
        _ => Class::Exact,
    }
}

/// Concrete values of a kernel's symbols.
struct Env {
    sizes: Vec<Option<i64>>,
    shapes: Vec<Option<Vec<usize>>>,
    consts: HashMap<usize, i64>,
    types: Vec<Option<ScalarType>>,
    /// Loop variables with a known constant value (none during lowering).
    loops: HashMap<usize, i64>,
}

impl SizeEnv for Env {
    fn size_var(&self, v: usize) -> Option<i64> {
        self.sizes.get(v).copied().flatten()
    }
    fn const_param(&self, p: usize) -> Option<i64> {
        self.consts.get(&p).copied()
    }
    fn loop_var(&self, v: usize) -> Option<i64> {
        self.loops.get(&v).copied()
    }
}

/// A parameter of the instance being lowered.
#[derive(Clone, Debug)]
enum ParamSlot {
    Tensor(TensorId),
    Const(i64),
}

/// Per-compute-node state.
struct NodeCtx {
    /// HIR scalar local → IR local.
    locals: HashMap<usize, LocalId>,
    /// Class of each IR local (before inference).
    local_class: HashMap<LocalId, Class>,
    /// Statement blocks being built (innermost last).
    blocks: Vec<Block>,
    name: String,
}

/// A lambda parameter's binding: the operand and the element index it stands for.
#[derive(Clone)]
struct LambdaBind<'h> {
    operand: &'h hir::Expr,
    index: Vec<Affine>,
    scope: Scope<'h>,
}

/// What HIR loop variables and lambda parameters mean at a point of lowering.
#[derive(Clone, Default)]
struct Scope<'h> {
    loops: HashMap<usize, Affine>,
    lambdas: HashMap<usize, Box<LambdaBind<'h>>>,
}

struct Lowerer<'m, 'a, 'h> {
    mb: &'m mut ModuleBuilder<'a>,
    k: &'h hir::Kernel,
    inst: Instance,
    env: Env,
    params: Vec<ParamSlot>,
    /// Current tensor of each HIR tensor local.
    tensor_locals: HashMap<usize, TensorId>,
    /// Current 0-d version tensor of each HIR scalar local shared across statements.
    scalar_versions: HashMap<usize, TensorId>,
    last_writer: HashMap<TensorId, NodeId>,
    readers: HashMap<TensorId, Vec<NodeId>>,
    globals: HashMap<hir::GlobalId, TensorId>,
    /// The instance's tensors of lookup tables.
    table_tensors: HashMap<ConstId, TensorId>,
    /// Conversions of exact operands to f32 made by promotion (ops.rs), checked once
    /// their node is typed.
    implicit_floats: Vec<(ExprId, Span)>,
    /// The instance's constant tensors of list literals, by the span of the literal's
    /// first element and their element type (`exact` for the narrowest).
    list_tensors: HashMap<(Span, String), TensorId>,
    /// The loops being lowered, innermost last: their `break` / `continue` flags.
    jumps: Vec<JumpFrame>,
    node: Option<NodeCtx>,
    /// Result tensors of calls already lowered, by the call expression's address.
    hoisted: HashMap<*const hir::Expr, Vec<TensorId>>,
    failed: bool,
    /// Set while probing whether an index is affine: `not_affine` reports nothing.
    probing_affine: bool,
    /// The values each loop variable of a statement loop takes, when known.
    loop_ranges: HashMap<LoopVarId, (i64, i64)>,
    /// What loop variables mean in the statement being lowered inside a node (for the
    /// whole-tensor stores and call arguments it needs).
    base_scope: Scope<'h>,
}

/// The result of lowering something: `None` once an error is reported (or when lowering
/// cannot go on, which only follows an error).
type L<T> = Option<T>;

impl Lowerer<'_, '_, '_> {
    fn err(&mut self, d: Diagnostic) {
        self.failed = true;
        self.mb.error(d);
    }
}
