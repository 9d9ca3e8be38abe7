//! Pass `lower`: instantiate the entry kernel (and, on demand, every kernel it calls) into
//! the dataflow IR.
//!
//! Each instance is specialized on concrete sizes, element types, `const` arguments and
//! which arguments are constant data. Top-level statements of a kernel body become graph
//! nodes in program order: kernel calls become [`Node::Call`]s, everything else becomes a
//! [`Node::Compute`] with a loop nest. High-level operators become loops: elementwise
//! tensor arithmetic, `map` (with windows), comprehensions, `sum`/`max`/`min`, `dot`.
//! Each compute node is typed (infer_types.rs) as soon as it is built, because the types
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

use crate::data::{typed_from_raw, value_range, ConstData, RawArray};
use crate::infer_types::infer_compute;
use crate::ir::*;
use crate::value::{convert, real_literal};
use kiln_lang::ast::{BinOp as AB, BoolOp, CmpOp};
use kiln_lang::diag::{codes, Diagnostic, Diagnostics};
use kiln_lang::hir::{
    self, CallArg, DataSource, Dim, ElemRef, ExprKind as HE, HUnaryOp, KParamKind, Literal, Place,
    ReduceOp, StmtKind as HS, Sub,
};
use kiln_lang::sym::{SizeEnv, SizeExpr, SizeOp};
use kiln_lang::{build_prim, Span};
use kiln_numeric::{Fx, LutSpec, ScalarType};
use std::collections::{HashMap, HashSet};

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

/// The flags of the loop being lowered that `break` and `continue` set.
#[derive(Clone, Debug)]
struct JumpFrame {
    brk: Option<LocalId>,
    cont: Option<LocalId>,
}

/// Whether statements `break` / `continue` the loop they are in (looking inside `if`s,
/// not inside nested loops).
fn jumps_in(stmts: &[hir::Stmt]) -> (bool, bool) {
    let (mut b, mut c) = (false, false);
    for s in stmts {
        match &s.kind {
            HS::Break => b = true,
            HS::Continue => c = true,
            HS::If {
                then_block,
                else_block,
                ..
            } => {
                for blk in [then_block, else_block] {
                    let (x, y) = jumps_in(blk);
                    b |= x;
                    c |= y;
                }
            }
            _ => {}
        }
    }
    (b, c)
}

/// A lookup table: the function, and its spec with the bounds as bits.
type LutKey = (kiln_numeric::MathFn, u32, u64, u64, u32);

/// The class of a lowered expression (widths are inference's business).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Class {
    Bool,
    F32,
    Exact,
}

fn class_of(t: &ScalarType) -> Class {
    match t {
        ScalarType::Bool => Class::Bool,
        ScalarType::F32 => Class::F32,
        _ => Class::Exact,
    }
}

impl ModuleBuilder<'_> {
    fn note_chain(&self, mut d: Diagnostic) -> Diagnostic {
        // The first entry is the entry kernel itself (its site is its own header): no label.
        for (what, site) in self.chain.iter().skip(1).rev() {
            if d.span != Some(*site) {
                d = d.with_secondary(*site, format!("in {what}"));
            }
        }
        d
    }

    fn error(&mut self, d: Diagnostic) {
        let d = self.note_chain(d);
        self.diags.push(d);
    }

    /// The constant tensor of a module parameter (converted on first use).
    /// The constant data of the lookup table of `f` (built once per module).
    fn table_const(&mut self, f: kiln_numeric::MathFn, spec: &LutSpec) -> Result<ConstId, String> {
        let key = (
            f,
            spec.size,
            spec.lo.to_bits(),
            spec.hi.to_bits(),
            spec.bits,
        );
        if let Some(c) = self.tables.get(&key) {
            return Ok(*c);
        }
        let (ty, entries) = kiln_numeric::lut::table(f, spec)?;
        let values: Vec<Value> = entries.into_iter().map(Value::Num).collect();
        let range = value_range(&values);
        self.module.consts.push(ConstData {
            name: format!("{}_table", f.name()),
            elem: ScalarType::Fixed(ty),
            shape: vec![spec.size as usize],
            values,
            source: format!(
                "the lookup table of `{}` ({} entries over [{}, {}))",
                f.name(),
                spec.size,
                spec.lo,
                spec.hi
            ),
            range,
        });
        let id = ConstId(self.module.consts.len() as u32 - 1);
        self.tables.insert(key, id);
        Ok(id)
    }

    fn global_const(&mut self, g: hir::GlobalId) -> Option<ConstId> {
        if let Some(c) = self.global_consts.get(&g) {
            return Some(*c);
        }
        let gl = &self.inputs.program.globals[g];
        let (values, diags) =
            load_global(gl, self.inputs.global_data.get(g).and_then(|r| r.as_ref()));
        for d in diags {
            self.diags.push(d);
        }
        let values = values?;
        let source = match &gl.init {
            DataSource::Load { written, .. } => written.clone(),
            DataSource::Literal(lit, _) => format!("{lit:?}"),
        };
        let range = value_range(&values);
        self.module.consts.push(ConstData {
            name: gl.name.clone(),
            elem: gl.elem,
            shape: gl.shape.clone(),
            values,
            source,
            range,
        });
        let id = ConstId(self.module.consts.len() as u32 - 1);
        self.global_consts.insert(g, id);
        Some(id)
    }

    /// An error about an argument: at the call site, pointing at the parameter's
    /// declaration; for the entry kernel (whose "call site" is its own header), at the
    /// declaration.
    fn arg_error(&mut self, site: Span, decl: Span, header: Span, d: Diagnostic) {
        let d = if site == header {
            Diagnostic {
                span: Some(decl),
                secondary: Vec::new(),
                ..d
            }
        } else if d.secondary.is_empty() {
            d.with_secondary(decl, "parameter declared here")
        } else {
            d
        };
        self.error(d);
    }

    fn unique_name(&mut self, base: &str) -> String {
        let n = self.names.entry(base.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base.to_string()
        } else {
            format!("{base}_{}", *n - 1)
        }
    }

    /// Instantiates kernel `kid` (memoized). `site` is the call site (or the kernel header
    /// for the entry).
    fn instantiate(
        &mut self,
        kid: hir::KernelId,
        params: Vec<Binding>,
        type_args: Vec<ScalarType>,
        site: Span,
    ) -> Option<InstanceId> {
        let key = InstanceKey {
            kernel: kid,
            params: params.clone(),
            type_args: type_args.clone(),
        };
        if let Some(r) = self.memo.get(&key) {
            return *r;
        }
        let k = &self.inputs.program.kernels[kid];
        if self.chain.len() > 64 {
            self.error(
                Diagnostic::error(codes::RECURSION, "kernel calls nest too deeply").at(site),
            );
            return None;
        }
        let mut env = Env {
            sizes: vec![None; k.size_vars.len()],
            shapes: vec![None; k.shape_vars.len()],
            consts: HashMap::new(),
            types: vec![None; k.type_vars.len()],
            loops: HashMap::new(),
        };
        for (i, t) in type_args.iter().enumerate() {
            env.types[i] = Some(*t);
        }
        let before = self.diags.error_count();
        // Bind const parameters first (dims may use them), then shapes and types.
        for (i, (p, b)) in k.params.iter().zip(&params).enumerate() {
            if let KParamKind::Const = p.kind {
                let v = match b {
                    Binding::Const(v) => Some(*v),
                    _ => match &p.default {
                        Some(hir::ParamDefault::Const(s)) => s.eval(&env).ok(),
                        _ => None,
                    },
                };
                match v {
                    Some(v) => {
                        env.consts.insert(i, v);
                    }
                    None => {
                        self.error(
                            Diagnostic::error(
                                codes::NOT_CONSTANT,
                                format!("no value for `const` parameter `{}`", p.name),
                            )
                            .at(site),
                        );
                        return None;
                    }
                }
            }
        }
        let bindings_text = {
            let mut parts = Vec::new();
            for (p, b) in k.params.iter().zip(&params) {
                if let (KParamKind::Value(t), Binding::Value { shape, elem, .. }) = (&p.kind, b) {
                    self.bind_param(k, &p.name, t, shape, *elem, &mut env, site);
                }
            }
            for (i, v) in k.size_vars.iter().enumerate() {
                if let Some(s) = env.sizes[i] {
                    parts.push(format!("{}={s}", v.name));
                }
            }
            for (i, v) in k.type_vars.iter().enumerate() {
                if let Some(t) = &env.types[i] {
                    parts.push(format!("{}={t}", v.name));
                }
            }
            for (i, p) in k.params.iter().enumerate() {
                if let Some(c) = env.consts.get(&i) {
                    parts.push(format!("{}={c}", p.name));
                }
            }
            parts.join(", ")
        };
        if self.diags.error_count() > before {
            self.memo.insert(key, None);
            return None;
        }
        let what = if bindings_text.is_empty() {
            format!("`{}`", k.name)
        } else {
            format!("`{}` with {}", k.name, bindings_text)
        };
        self.chain.push((what, site));
        let name = self.unique_name(&k.name);
        let inst = Instance::new(name, k.name.clone(), bindings_text, k.span);
        let mut lw = Lowerer {
            mb: self,
            k,
            inst,
            env,
            params: Vec::new(),
            tensor_locals: HashMap::new(),
            scalar_versions: HashMap::new(),
            last_writer: HashMap::new(),
            readers: HashMap::new(),
            globals: HashMap::new(),
            table_tensors: HashMap::new(),
            jumps: Vec::new(),
            node: None,
            hoisted: HashMap::new(),
            failed: false,
            probing_affine: false,
        };
        let result = lw.lower_kernel(&params);
        let inst = lw.inst;
        self.chain.pop();
        let id = match result {
            Some(()) if self.diags.error_count() == before => {
                self.module.instances.push(inst);
                Some(InstanceId(self.module.instances.len() as u32 - 1))
            }
            _ => None,
        };
        self.memo.insert(key, id);
        id
    }

    /// Binds size, shape and type variables from one argument.
    #[allow(clippy::too_many_arguments)]
    fn bind_param(
        &mut self,
        k: &hir::Kernel,
        pname: &str,
        t: &hir::TypeRef,
        shape: &[usize],
        elem: Option<ScalarType>,
        env: &mut Env,
        site: Span,
    ) {
        if let (ElemRef::Var(v), Some(e)) = (&t.elem, elem) {
            match env.types[*v] {
                None => env.types[*v] = Some(e),
                Some(prev) if prev != e => {
                    self.arg_error(site, t.span, k.span,
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("type variable `{}` is {prev} from an earlier argument but {e} from `{pname}`", k.type_vars[*v].name),
                        )
                        .at(site)
                        .help("convert one of the arguments, or give the type explicitly: `kernel[T](...)`"),
                    );
                }
                _ => {}
            }
        }
        let Some(dims) = &t.shape else {
            if !shape.is_empty() {
                self.arg_error(
                    site,
                    t.span,
                    k.span,
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        format!(
                            "`{pname}` is a scalar parameter but gets a tensor of shape {shape:?}"
                        ),
                    )
                    .at(site),
                );
            }
            return;
        };
        let rest = dims.iter().position(|d| matches!(d, Dim::Rest(_)));
        let fixed_dims = dims.len() - usize::from(rest.is_some());
        if (rest.is_none() && shape.len() != dims.len())
            || (rest.is_some() && shape.len() < fixed_dims)
        {
            self.arg_error(
                site,
                t.span,
                k.span,
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    format!(
                        "`{pname}` expects rank {}, got shape {:?}",
                        dims.len(),
                        shape
                    ),
                )
                .at(site)
                .with_secondary(t.span, "declared here"),
            );
            return;
        }
        let mut si = 0;
        let mut deferred = Vec::new();
        for (di, d) in dims.iter().enumerate() {
            match d {
                Dim::Rest(v) => {
                    let take = shape.len() - (dims.len() - di - 1) - si;
                    let part = shape[si..si + take].to_vec();
                    si += take;
                    match &env.shapes[*v] {
                        None => env.shapes[*v] = Some(part),
                        Some(prev) if *prev != part => {
                            self.arg_error(site, t.span, k.span,
                                Diagnostic::error(
                                    codes::SIZE_CONFLICT,
                                    format!("`*{}` is {:?} from an earlier argument but {:?} from `{pname}`", k.shape_vars[*v].name, prev, part),
                                )
                                .at(site),
                            );
                        }
                        _ => {}
                    }
                }
                Dim::Size(SizeExpr::Var(v)) => {
                    let val = shape[si] as i64;
                    si += 1;
                    match env.sizes[*v] {
                        None => env.sizes[*v] = Some(val),
                        Some(prev) if prev != val => {
                            self.arg_error(site, t.span, k.span,
                                Diagnostic::error(
                                    codes::SIZE_CONFLICT,
                                    format!("size `{}` is {prev} from an earlier argument but {val} from `{pname}`", k.size_vars[*v].name),
                                )
                                .at(site).with_secondary(t.span, format!("`{pname}` declared here")),
                            );
                        }
                        _ => {}
                    }
                }
                Dim::Size(s) => {
                    deferred.push((s.clone(), shape[si]));
                    si += 1;
                }
            }
        }
        for (s, actual) in deferred {
            if let Ok(want) = s.eval(env) {
                if want != actual as i64 {
                    self.arg_error(
                        site,
                        t.span,
                        k.span,
                        Diagnostic::error(
                            codes::SHAPE_MISMATCH,
                            format!("`{pname}` needs a dimension of {want} here, got {actual}"),
                        )
                        .at(site)
                        .with_secondary(t.span, "declared here"),
                    );
                }
            }
        }
    }
}

/// The values of a module parameter, converted to its type, with the diagnostics of the
/// conversion (shape or dtype errors, W0802 warnings). The driver calls this for every
/// parameter in `kiln check`; lowering for the ones it uses.
pub fn load_global(
    gl: &hir::Global,
    raw: Option<&RawArray>,
) -> (Option<Vec<Value>>, Vec<Diagnostic>) {
    let mut diags = Diagnostics::default();
    let values = match &gl.init {
        DataSource::Load { written, span, .. } => {
            let Some(raw) = raw else {
                diags.push(
                    Diagnostic::error(
                        codes::READ_FAILED,
                        format!("data of `{}` was not loaded", gl.name),
                    )
                    .at(*span),
                );
                return (None, diags.list);
            };
            if raw.shape != gl.shape {
                diags.push(
                    Diagnostic::error(
                        codes::DATA_SHAPE,
                        format!(
                            "`{}` is declared with shape {:?} but {} holds {:?}",
                            gl.name, gl.shape, written, raw.shape
                        ),
                    )
                    .at(*span)
                    .with_secondary(gl.span, "declared here"),
                );
                return (None, diags.list);
            }
            match typed_from_raw(raw, &gl.elem) {
                Ok((values, report)) => {
                    report_conversion(
                        &mut diags, &report, &gl.name, &gl.elem, written, *span, &gl.shape,
                    );
                    Some(values)
                }
                Err(e) => {
                    diags.push(Diagnostic::error(codes::DATA_DTYPE, e).at(*span));
                    None
                }
            }
        }
        DataSource::Literal(lit, span) => {
            literal_value(lit, &gl.elem, *span, &mut diags).map(|v| vec![v])
        }
    };
    (values, diags.list)
}

fn report_conversion(
    diags: &mut Diagnostics,
    report: &crate::data::ConversionReport,
    name: &str,
    elem: &ScalarType,
    source: &str,
    span: Span,
    shape: &[usize],
) {
    if let Some((i, raw, got)) = &report.first_overflow {
        let idx = crate::data::unflatten(*i, shape);
        diags.push(
            Diagnostic::warning(
                codes::LOSSY_LOAD,
                format!(
                    "{} value(s) of {source} do not fit `{name}`'s type {elem}",
                    report.overflowed
                ),
            )
            .at(span)
            .note(format!(
                "the first is {raw} at {idx:?}, which becomes {got}"
            ))
            .help("choose a type with more integer bits, or a saturating overflow mode (`sat`)"),
        );
    }
    if let Some((i, raw, got)) = &report.first_binarized {
        let idx = crate::data::unflatten(*i, shape);
        let set = if *elem == ScalarType::Bin {
            "{-1, +1}"
        } else {
            "{-1, 0, +1}"
        };
        diags.push(
            Diagnostic::warning(codes::LOSSY_LOAD, format!("{} value(s) of {source} are not in {set} and were quantized to `{name}`'s type {elem}", report.binarized))
                .at(span)
                .note(format!("the first is {raw} at {idx:?}, which becomes {got}"))
                .help("quantize the weights before exporting them, so that the file holds exactly the values used"),
        );
    }
}

/// The value of a literal in type `t`.
fn literal_value(
    lit: &Literal,
    t: &ScalarType,
    span: Span,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let v = match lit {
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(i) => Value::Num(Fx::int(*i)),
        Literal::Real(text) => match real_literal(text) {
            Some((f, _)) => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
            None => {
                diags.push(
                    Diagnostic::error(codes::INEXACT_LITERAL, format!("bad number `{text}`"))
                        .at(span),
                );
                return None;
            }
        },
    };
    if *t == ScalarType::F32 {
        if let Literal::Real(text) = lit {
            // Rounded directly from the decimal, like `0.1f` in C++.
            let f: f32 = text.replace('_', "").parse().ok()?;
            return Some(Value::F32(f));
        }
    }
    Some(convert(&v, t).0)
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
    /// The loops being lowered, innermost last: their `break` / `continue` flags.
    jumps: Vec<JumpFrame>,
    node: Option<NodeCtx>,
    /// Result tensors of calls already lowered, by the call expression's address.
    hoisted: HashMap<*const hir::Expr, Vec<TensorId>>,
    failed: bool,
    /// Set while probing whether an index is affine: `not_affine` reports nothing.
    probing_affine: bool,
}

type L<T> = Option<T>;

impl<'h> Lowerer<'_, '_, 'h> {
    fn err(&mut self, d: Diagnostic) {
        self.failed = true;
        self.mb.error(d);
    }

    // ------------------------------------------------------------ types and sizes

    fn eval_size(&mut self, s: &SizeExpr, span: Span) -> L<i64> {
        match s.eval(&self.env) {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = match e {
                    kiln_lang::sym::EvalError::DivByZero => "this size divides by zero",
                    kiln_lang::sym::EvalError::Overflow => "this size overflows",
                    kiln_lang::sym::EvalError::Unbound => {
                        "this size depends on a value that is not known at compile time"
                    }
                };
                self.err(Diagnostic::error(codes::BAD_DIM, msg).at(span));
                None
            }
        }
    }

    fn elem_type(&mut self, e: &ElemRef, span: Span) -> L<ScalarType> {
        match e {
            ElemRef::Known(t) => Some(*t),
            ElemRef::Var(v) => match self.env.types[*v] {
                Some(t) => Some(t),
                None => {
                    self.err(
                        Diagnostic::error(codes::CANNOT_INFER, format!("type variable `{}` is not bound", self.k.type_vars[*v].name))
                            .at(span)
                            .help("it must appear in a parameter's type, or be given explicitly: `kernel[T](...)`"),
                    );
                    None
                }
            },
            ElemRef::Template { prim, args, span } => {
                let env = &self.env;
                match build_prim(*prim, args, *span, &|s| s.eval(env).ok()) {
                    Ok(Some(t)) => Some(t),
                    Ok(None) => {
                        self.err(
                            Diagnostic::error(
                                codes::NOT_CONSTANT,
                                "type parameters must be known at compile time",
                            )
                            .at(*span),
                        );
                        None
                    }
                    Err(d) => {
                        self.err(d);
                        None
                    }
                }
            }
            ElemRef::Inferred => None,
        }
    }

    fn shape_of_dims(&mut self, dims: &[Dim], span: Span) -> L<Vec<usize>> {
        let mut out = Vec::new();
        for d in dims {
            match d {
                Dim::Size(s) => {
                    let v = self.eval_size(s, span)?;
                    if v < 1 {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_DIM,
                                format!(
                                    "a dimension evaluates to {v}; dimensions must be positive"
                                ),
                            )
                            .at(span),
                        );
                        return None;
                    }
                    out.push(v as usize);
                }
                Dim::Rest(v) => match &self.env.shapes[*v] {
                    Some(s) => out.extend(s.iter().copied()),
                    None => {
                        self.err(
                            Diagnostic::error(
                                codes::UNBOUND_SIZE,
                                "this shape variable is not bound",
                            )
                            .at(span),
                        );
                        return None;
                    }
                },
            }
        }
        Some(out)
    }

    // ------------------------------------------------------------ graph

    fn new_tensor(
        &mut self,
        name: &str,
        elem: ScalarType,
        shape: Vec<usize>,
        kind: TensorKind,
        declared: bool,
        span: Span,
    ) -> TensorId {
        self.inst.add_tensor(Tensor {
            name: name.to_string(),
            elem,
            shape,
            kind,
            declared,
            reason: if declared {
                TypeReason::Declared
            } else {
                TypeReason::Pending
            },
            range: None,
            partition: Vec::new(),
            stream_depth: None,
            bound_to: Vec::new(),
            span,
        })
    }

    /// Adds an edge `from -> to` carrying `tensor`, unless there is one already.
    fn link(&mut self, from: NodeId, to: NodeId, tensor: TensorId, kind: EdgeKind) {
        let exists = self
            .inst
            .graph
            .edges_connecting(from, to)
            .any(|e| e.weight().tensor == tensor);
        if from != to && !exists {
            self.inst.graph.add_edge(from, to, Edge { tensor, kind });
        }
    }

    /// Adds a node and its edges (data from the last writer of each read, order from the
    /// readers and the writer of each written tensor).
    fn add_node(&mut self, node: Node, reads: &[TensorId], writes: &[TensorId]) -> NodeId {
        let n = self.inst.graph.add_node(node);
        for &t in reads {
            if let Some(&w) = self.last_writer.get(&t) {
                self.link(w, n, t, EdgeKind::Data);
            }
        }
        for &t in writes {
            if let Some(&w) = self.last_writer.get(&t) {
                self.link(w, n, t, EdgeKind::Order);
            }
            for r in self.readers.remove(&t).unwrap_or_default() {
                self.link(r, n, t, EdgeKind::Order);
            }
        }
        for &t in reads {
            if !writes.contains(&t) {
                self.readers.entry(t).or_default().push(n);
            }
        }
        for &t in writes {
            self.last_writer.insert(t, n);
        }
        n
    }

    fn global_tensor(&mut self, g: hir::GlobalId, span: Span) -> L<TensorId> {
        if let Some(t) = self.globals.get(&g) {
            return Some(*t);
        }
        let Some(c) = self.mb.global_const(g) else {
            self.failed = true;
            return None;
        };
        let cd = &self.mb.module.consts[c.index()];
        let (name, elem, shape, range) =
            (cd.name.clone(), cd.elem, cd.shape.clone(), cd.range.clone());
        let t = self.new_tensor(&name, elem, shape, TensorKind::Const(c), true, span);
        self.inst.tensor_mut(t).range = range;
        let n = self.inst.graph.add_node(Node::Const { tensor: t });
        self.last_writer.insert(t, n);
        self.globals.insert(g, t);
        Some(t)
    }

    // ------------------------------------------------------------ the kernel

    fn lower_kernel(&mut self, bindings: &[Binding]) -> L<()> {
        let k = self.k;
        // Parameters.
        for (i, (p, b)) in k.params.iter().zip(bindings).enumerate() {
            match &p.kind {
                KParamKind::Const => {
                    let v = *self.env.consts.get(&i)?;
                    self.params.push(ParamSlot::Const(v));
                }
                KParamKind::Value(t) => {
                    let Binding::Value {
                        elem,
                        shape,
                        constant,
                        range: arg_range,
                    } = b
                    else {
                        return None;
                    };
                    let declared = self.elem_type(&t.elem, p.span);
                    let elem = match (declared, elem) {
                        (Some(d), _) => d,
                        (None, Some(e)) => *e,
                        (None, None) => {
                            self.err(
                                Diagnostic::error(
                                    codes::CANNOT_INFER,
                                    format!("no element type for `{}`", p.name),
                                )
                                .at(p.span),
                            );
                            return None;
                        }
                    };
                    let tensor = match constant {
                        Some(c) => {
                            let cd = &self.mb.module.consts[c.index()];
                            let range = cd.range.clone();
                            let t = self.new_tensor(
                                &p.name,
                                elem,
                                shape.clone(),
                                TensorKind::Const(*c),
                                true,
                                p.span,
                            );
                            self.inst.tensor_mut(t).range = range;
                            let n = self.inst.graph.add_node(Node::Const { tensor: t });
                            self.last_writer.insert(t, n);
                            t
                        }
                        None => {
                            let input_index = self.inst.inputs.len();
                            let t = self.new_tensor(
                                &p.name,
                                elem,
                                shape.clone(),
                                TensorKind::Input(input_index),
                                true,
                                p.span,
                            );
                            self.inst.inputs.push(t);
                            self.inst.tensor_mut(t).range = arg_range.clone();
                            let n = self.inst.graph.add_node(Node::Input {
                                tensor: t,
                                param: i,
                            });
                            self.last_writer.insert(t, n);
                            t
                        }
                    };
                    self.params.push(ParamSlot::Tensor(tensor));
                }
            }
        }
        // Body.
        let reads_later = later_reads(&k.body);
        for (i, s) in k.body.iter().enumerate() {
            self.top_stmt(s, &reads_later[i]);
            if self.failed {
                return None;
            }
        }
        if self.inst.outputs.len() != k.results.len() {
            return None;
        }
        Some(())
    }

    fn top_stmt(&mut self, s: &'h hir::Stmt, live_out: &HashSet<usize>) {
        match &s.kind {
            HS::Decl { local, init } => {
                let l = &self.k.locals[*local];
                if l.is_tensor {
                    let Some(decl) = &l.declared else { return };
                    let Some(elem) = self.elem_type(&decl.elem, decl.span) else {
                        return;
                    };
                    let Some(shape) = decl
                        .shape
                        .as_ref()
                        .and_then(|d| self.shape_of_dims(d, decl.span))
                    else {
                        return;
                    };
                    let t = self.new_tensor(&l.name, elem, shape, TensorKind::Temp, true, l.span);
                    self.tensor_locals.insert(*local, t);
                    if let Some(init) = init {
                        self.compute_node(&l.name.clone(), s.span, live_out, |lw| {
                            lw.store_whole(t, init, s.span)
                        });
                    }
                } else if init.is_some() {
                    self.compute_node(&format!("{}_init", l.name), s.span, live_out, |lw| {
                        lw.stmt(s)
                    });
                }
            }
            HS::Assign {
                target: Place::Local(l),
                value,
            } if self.k.locals[*l].is_tensor => {
                self.assign_tensor_local(*l, value, s.span, live_out);
            }
            HS::AssignTuple { targets, value } => {
                let Some(results) = self.call_results(value) else {
                    return;
                };
                for (t, r) in targets.iter().zip(results) {
                    if self.k.locals[*t].is_tensor {
                        self.tensor_locals.insert(*t, r);
                    } else {
                        self.scalar_versions.insert(*t, r);
                    }
                }
            }
            HS::Return(vals) => self.return_values(vals, s.span),
            _ => {
                let name = match &s.kind {
                    HS::For { header, .. } => format!("{}_loop", self.k.loop_vars[header.var].name),
                    HS::While { .. } => "while_loop".to_string(),
                    HS::If { .. } => "branch".to_string(),
                    HS::Assign {
                        target: Place::Local(l),
                        ..
                    }
                    | HS::Decl { local: l, .. } => format!("{}_assign", self.k.locals[*l].name),
                    HS::Assign {
                        target: Place::Index { local, .. },
                        ..
                    } => format!("{}_store", self.k.locals[*local].name),
                    _ => "stmt".to_string(),
                };
                // Calls in a top-level statement (`d = double(x)` with a scalar result) run
                // first, as their own nodes. (Calls never appear inside loops or branches.)
                if matches!(s.kind, HS::Assign { .. } | HS::Decl { .. }) {
                    let mut roots = Vec::new();
                    hir::visit_stmt_exprs(s, &mut |e| roots.push(e));
                    for e in roots {
                        if self.hoist_calls(e).is_none() {
                            self.failed = true;
                            return;
                        }
                    }
                }
                self.compute_node(&name, s.span, live_out, |lw| lw.stmt(s));
            }
        }
    }

    /// Lowers calls inside `e` (depth first) into call nodes.
    fn hoist_calls(&mut self, e: &'h hir::Expr) -> L<()> {
        if let HE::Call { .. } = &e.kind {
            self.call_results(e)?;
            return Some(());
        }
        let mut subs = Vec::new();
        hir::visit_subexprs(e, &mut |s| subs.push(s));
        for s in subs {
            self.hoist_calls(s)?;
        }
        Some(())
    }

    /// Builds a compute node around `body`, handling scalar locals that cross statements.
    fn compute_node(
        &mut self,
        name: &str,
        span: Span,
        live_out: &HashSet<usize>,
        body: impl FnOnce(&mut Self) -> L<()>,
    ) {
        // Calls inside the statement run first, as their own nodes.
        let _ = span;
        self.node = Some(NodeCtx {
            locals: HashMap::new(),
            local_class: HashMap::new(),
            blocks: vec![Vec::new()],
            name: name.to_string(),
        });
        if body(self).is_none() {
            self.node = None;
            self.failed = true;
            return;
        }
        let mut ctx = self.node.take().expect("node context");
        // Scalar locals assigned here and read by later statements leave in new versions.
        let mut assigned: Vec<(usize, LocalId)> =
            ctx.locals.iter().map(|(h, l)| (*h, *l)).collect();
        assigned.sort();
        let mut outs = Vec::new();
        for (h, l) in assigned {
            if !live_out.contains(&h) || !block_assigns(&ctx.blocks[0], l) {
                continue;
            }
            let local = self.inst.local(l).clone();
            let elem = if local.declared {
                local.ty
            } else {
                ScalarType::Bool
            };
            let t = self.new_tensor(
                &self.k.locals[h].name.clone(),
                elem,
                Vec::new(),
                TensorKind::Temp,
                local.declared,
                local.span,
            );
            let v = self.inst.add_expr(Expr::Local(l), local.span);
            ctx.blocks[0].push(Stmt::Store {
                access: Access {
                    tensor: t,
                    index: Vec::new(),
                    dynamic: Vec::new(),
                    checked: false,
                    guarded: false,
                },
                value: v,
                span: local.span,
            });
            outs.push((h, t));
        }
        let block = ctx.blocks.pop().expect("root block");
        let (reads, writes) = block_accesses(&self.inst, &block);
        let compute = Compute {
            name: ctx.name.clone(),
            body: block,
            reads: reads.clone(),
            writes: writes.clone(),
            span,
        };
        let n = self.add_node(Node::Compute(compute), &reads, &writes);
        for (h, t) in outs {
            self.scalar_versions.insert(h, t);
        }
        let consts = self.mb.module.consts.clone();
        let mut diags = Diagnostics::default();
        infer_compute(&mut self.inst, n, &consts, &mut diags);
        for d in diags.list {
            if d.is_error() {
                self.err(d);
            } else {
                let d = self.mb.note_chain(d);
                self.mb.diags.push(d);
            }
        }
    }

    fn assign_tensor_local(
        &mut self,
        l: usize,
        value: &'h hir::Expr,
        span: Span,
        live_out: &HashSet<usize>,
    ) {
        let declared = self.k.locals[l].declared.is_some();
        if !declared {
            // A new version: a call result or a named tensor is taken as is.
            if let HE::Call { .. } = &value.kind {
                if let Some(r) = self.call_results(value) {
                    let name = self.k.locals[l].name.clone();
                    self.inst.tensor_mut(r[0]).bound_to.push(name);
                    self.tensor_locals.insert(l, r[0]);
                }
                return;
            }
            if let Some(t) = self.named_tensor(value) {
                self.tensor_locals.insert(l, t);
                return;
            }
            if self.hoist_calls(value).is_none() {
                self.failed = true;
                return;
            }
            let Some(shape) = self.shape_of(value, &Scope::default()) else {
                return;
            };
            let name = self.k.locals[l].name.clone();
            let t = self.new_tensor(
                &name,
                ScalarType::Bool,
                shape,
                TensorKind::Temp,
                false,
                self.k.locals[l].span,
            );
            self.compute_node(&format!("{name}_assign"), span, live_out, |lw| {
                lw.store_whole(t, value, span)
            });
            self.tensor_locals.insert(l, t);
        } else {
            let Some(&t) = self.tensor_locals.get(&l) else {
                return;
            };
            if self.hoist_calls(value).is_none() {
                self.failed = true;
                return;
            }
            let name = self.k.locals[l].name.clone();
            self.compute_node(&format!("{name}_assign"), span, live_out, |lw| {
                lw.store_whole(t, value, span)
            });
        }
    }

    /// The tensor a plain tensor reference names (local, parameter, global).
    fn named_tensor(&mut self, e: &'h hir::Expr) -> Option<TensorId> {
        match &e.kind {
            HE::Local(l) if self.k.locals[*l].is_tensor => self.tensor_locals.get(l).copied(),
            HE::Param(p) => match self.params.get(*p) {
                Some(ParamSlot::Tensor(t)) if !self.inst.tensor(*t).shape.is_empty() => Some(*t),
                _ => None,
            },
            HE::Global(g) if !self.mb.inputs.program.globals[*g].shape.is_empty() => {
                self.global_tensor(*g, e.span)
            }
            _ => None,
        }
    }

    /// Lowers a kernel call (once) and returns its result tensors.
    fn call_results(&mut self, e: &'h hir::Expr) -> L<Vec<TensorId>> {
        let key = e as *const hir::Expr;
        if let Some(r) = self.hoisted.get(&key) {
            return Some(r.clone());
        }
        let HE::Call {
            kernel,
            type_args,
            args,
        } = &e.kind
        else {
            return None;
        };
        let callee = &self.mb.inputs.program.kernels[*kernel];
        let mut targs = Vec::new();
        for t in type_args {
            targs.push(self.elem_type(t, e.span)?);
        }
        // Arguments: tensors (materialized if needed), const values, constants.
        let mut bindings = Vec::new();
        let mut arg_tensors: Vec<Option<TensorId>> = Vec::new();
        for (p, a) in callee.params.iter().zip(args) {
            match (a, &p.kind) {
                (CallArg::Const(s), _) => {
                    let v = self.eval_size(s, e.span)?;
                    bindings.push(Binding::Const(v));
                    arg_tensors.push(None);
                }
                (CallArg::Default, KParamKind::Const) => {
                    bindings.push(Binding::Default);
                    arg_tensors.push(None);
                }
                (CallArg::Default, KParamKind::Value(_)) => {
                    let Some(hir::ParamDefault::Data(src)) = &p.default else {
                        return None;
                    };
                    let t = self.default_tensor(p, src)?;
                    let te = self.inst.tensor(t).clone();
                    bindings.push(Binding::Value {
                        elem: Some(te.elem),
                        shape: te.shape,
                        constant: None,
                        range: None,
                    });
                    arg_tensors.push(Some(t));
                }
                (CallArg::Value(v), KParamKind::Value(pt)) => {
                    self.hoist_calls(v)?;
                    let t = self.materialize(v, &p.name)?;
                    let te = self.inst.tensor(t).clone();
                    let constant = match te.kind {
                        TensorKind::Const(c) => Some(c),
                        _ => None,
                    };
                    // A declared parameter type is the instance's; the argument converts.
                    let declared = match &pt.elem {
                        ElemRef::Known(_) | ElemRef::Template { .. } => {
                            self.callee_elem(callee, pt, &bindings, e.span)
                        }
                        _ => None,
                    };
                    let (t, elem) = match declared {
                        Some(d) if d != te.elem => {
                            if constant.is_some() {
                                // Constant data converts at compile time (keeps it constant).
                                (self.convert_const_tensor(t, d, &p.name)?, d)
                            } else {
                                (self.convert_tensor(t, d, &p.name, v.span)?, d)
                            }
                        }
                        _ => (t, te.elem),
                    };
                    let constant = match self.inst.tensor(t).kind {
                        TensorKind::Const(c) => Some(c),
                        _ => None,
                    };
                    let range = match self.inst.tensor(t).kind {
                        TensorKind::Temp => self.inst.tensor(t).range.clone(),
                        _ => None,
                    };
                    bindings.push(Binding::Value {
                        elem: Some(elem),
                        shape: te.shape,
                        constant,
                        range,
                    });
                    arg_tensors.push(Some(t));
                }
                (CallArg::Value(_), KParamKind::Const) => return None,
            }
        }
        let id = self.mb.instantiate(*kernel, bindings, targs, e.span);
        let Some(id) = id else {
            self.failed = true;
            return None;
        };
        let callee_inst = self.mb.module.instance(id);
        let outs: Vec<Tensor> = callee_inst
            .outputs
            .iter()
            .map(|&t| callee_inst.tensor(t).clone())
            .collect();
        let inputs: Vec<TensorId> = callee_inst.inputs.clone();
        let input_params: Vec<usize> = callee_inst
            .graph
            .node_weights()
            .filter_map(|n| match n {
                Node::Input { param, .. } => Some(*param),
                _ => None,
            })
            .collect();
        let _ = inputs;
        let mut args_t = Vec::new();
        let mut sorted_inputs: Vec<(usize, usize)> = callee_inst
            .graph
            .node_weights()
            .filter_map(|n| match n {
                Node::Input { tensor, param } => {
                    Some((callee_inst.tensor(*tensor).kind.clone(), *param))
                }
                _ => None,
            })
            .filter_map(|(k, p)| match k {
                TensorKind::Input(i) => Some((i, p)),
                _ => None,
            })
            .collect();
        sorted_inputs.sort();
        let _ = input_params;
        for (_, p) in sorted_inputs {
            args_t.push(arg_tensors[p]?);
        }
        let mut results = Vec::new();
        for (i, o) in outs.iter().enumerate() {
            let name = format!(
                "{}_out{}",
                callee.name,
                if outs.len() > 1 {
                    i.to_string()
                } else {
                    String::new()
                }
            );
            let t = self.new_tensor(
                &name,
                o.elem,
                o.shape.clone(),
                TensorKind::Temp,
                o.declared,
                e.span,
            );
            let tm = self.inst.tensor_mut(t);
            tm.reason = o.reason.clone();
            tm.range = o.range.clone();
            results.push(t);
        }
        let call = Call {
            callee: id,
            args: args_t.clone(),
            results: results.clone(),
            span: e.span,
        };
        self.add_node(Node::Call(call), &args_t, &results);
        self.hoisted.insert(key, results.clone());
        Some(results)
    }

    /// The element type a callee parameter is declared with, when it does not depend on the
    /// callee's size variables.
    fn callee_elem(
        &mut self,
        callee: &hir::Kernel,
        pt: &hir::TypeRef,
        bindings: &[Binding],
        span: Span,
    ) -> Option<ScalarType> {
        match &pt.elem {
            ElemRef::Known(t) => Some(*t),
            ElemRef::Template {
                prim,
                args,
                span: ts,
            } => {
                // Template types may use the callee's const parameters.
                let mut consts = HashMap::new();
                for (i, b) in bindings.iter().enumerate() {
                    if let Binding::Const(v) = b {
                        consts.insert(i, *v);
                    }
                }
                for (i, p) in callee.params.iter().enumerate() {
                    if let (KParamKind::Const, Some(hir::ParamDefault::Const(s))) =
                        (&p.kind, &p.default)
                    {
                        consts.entry(i).or_insert_with(|| s.as_const().unwrap_or(0));
                    }
                }
                let env = Env {
                    sizes: Vec::new(),
                    shapes: Vec::new(),
                    consts,
                    types: Vec::new(),
                    loops: HashMap::new(),
                };
                let _ = span;
                build_prim(*prim, args, *ts, &|s| s.eval(&env).ok())
                    .ok()
                    .flatten()
            }
            _ => None,
        }
    }

    fn default_tensor(&mut self, p: &hir::KParam, src: &DataSource) -> L<TensorId> {
        let _ = (p, src);
        self.err(
            Diagnostic::error(
                codes::UNSUPPORTED,
                format!(
                    "parameter `{}` has a default value; pass it explicitly in calls",
                    p.name
                ),
            )
            .at(p.span)
            .help("defaults of tensor parameters are for running a kernel directly (`kiln run`)"),
        );
        None
    }

    /// A tensor holding the value of a tensor-valued (or scalar) expression.
    fn materialize(&mut self, e: &'h hir::Expr, what: &str) -> L<TensorId> {
        if let HE::Call { .. } = &e.kind {
            let r = self.call_results(e)?;
            return Some(r[0]);
        }
        if let Some(t) = self.named_tensor(e) {
            return Some(t);
        }
        if let HE::Param(p) = &e.kind {
            if let Some(ParamSlot::Tensor(t)) = self.params.get(*p) {
                return Some(*t);
            }
        }
        if let HE::Global(g) = &e.kind {
            return self.global_tensor(*g, e.span);
        }
        let shape = if self.is_scalar(e, &Scope::default()) {
            Vec::new()
        } else {
            self.shape_of(e, &Scope::default())?
        };
        let t = self.new_tensor(
            what,
            ScalarType::Bool,
            shape,
            TensorKind::Temp,
            false,
            e.span,
        );
        let none = HashSet::new();
        self.compute_node(&format!("{what}_arg"), e.span, &none, |lw| {
            lw.store_whole(t, e, e.span)
        });
        if self.failed {
            return None;
        }
        Some(t)
    }

    /// An elementwise conversion of tensor `t` into a new tensor of type `to`.
    fn convert_tensor(
        &mut self,
        t: TensorId,
        to: ScalarType,
        what: &str,
        span: Span,
    ) -> L<TensorId> {
        let shape = self.inst.tensor(t).shape.clone();
        let out = self.new_tensor(what, to, shape.clone(), TensorKind::Temp, true, span);
        let none = HashSet::new();
        self.compute_node(&format!("{what}_convert"), span, &none, |lw| {
            lw.loop_nest(&shape, span, &mut |lw, idx| {
                let v = lw.load(t, idx.to_vec(), span);
                lw.emit(Stmt::Store {
                    access: Access {
                        tensor: out,
                        index: idx.to_vec(),
                        dynamic: Vec::new(),
                        checked: true,
                        guarded: false,
                    },
                    value: v,
                    span,
                });
                Some(())
            })
        });
        Some(out)
    }

    /// Converts constant data to another type at compile time.
    fn convert_const_tensor(&mut self, t: TensorId, to: ScalarType, what: &str) -> L<TensorId> {
        let TensorKind::Const(c) = self.inst.tensor(t).kind else {
            return None;
        };
        let src = self.mb.module.consts[c.index()].clone();
        let values: Vec<Value> = src.values.iter().map(|v| convert(v, &to).0).collect();
        let range = value_range(&values);
        self.mb.module.consts.push(ConstData {
            name: format!("{}_{}", src.name, what),
            elem: to,
            shape: src.shape.clone(),
            values,
            source: format!("{} converted to {to}", src.source),
            range: range.clone(),
        });
        let c2 = ConstId(self.mb.module.consts.len() as u32 - 1);
        let span = self.inst.tensor(t).span;
        let t2 = self.new_tensor(
            &format!("{}_{}", src.name, what),
            to,
            src.shape,
            TensorKind::Const(c2),
            true,
            span,
        );
        self.inst.tensor_mut(t2).range = range;
        let n = self.inst.graph.add_node(Node::Const { tensor: t2 });
        self.last_writer.insert(t2, n);
        Some(t2)
    }

    fn return_values(&mut self, vals: &'h [hir::Expr], span: Span) {
        let results = &self.k.results;
        for (i, (v, r)) in vals.iter().zip(results).enumerate() {
            if self.hoist_calls(v).is_none() {
                self.failed = true;
                return;
            }
            let declared = self.elem_type(&r.elem, r.span);
            if self.failed {
                return;
            }
            let shape = match &r.shape {
                Some(d) => match self.shape_of_dims(d, r.span) {
                    Some(s) => s,
                    None => return,
                },
                None => Vec::new(),
            };
            // Results are named after the returned local, else `result` / `result<i>`.
            let out_name = match &v.kind {
                HE::Local(l) => self.k.locals[*l].name.clone(),
                _ if results.len() == 1 => "result".to_string(),
                _ => format!("result{i}"),
            };
            // A declared tensor nothing writes is certainly incomplete.
            if let Some(t) = self.plain_tensor(v) {
                if !self.last_writer.contains_key(&t)
                    && self.inst.tensor(t).kind == TensorKind::Temp
                {
                    let name = self.inst.tensor(t).name.clone();
                    self.err(
                        Diagnostic::error(
                            codes::OUTPUT_INCOMPLETE,
                            format!("`{name}` is returned but nothing writes it"),
                        )
                        .at(v.span)
                        .with_secondary(self.inst.tensor(t).span, "declared here")
                        .help(format!(
                            "assign its elements (`{name}[i] = ...`) before returning it"
                        )),
                    );
                    return;
                }
            }
            // A temporary of the right type becomes the output directly.
            if let Some(t) = self.plain_tensor(v) {
                let te = self.inst.tensor(t);
                let reusable = te.kind == TensorKind::Temp
                    && te.shape == shape
                    && declared.is_none_or(|d| d == te.elem)
                    && !self.inst.outputs.contains(&t);
                if reusable {
                    self.inst.tensor_mut(t).name = out_name;
                    self.inst.outputs.push(t);
                    self.inst.graph.add_node(Node::Output {
                        tensor: t,
                        index: i,
                    });
                    let n = self.inst.graph.node_indices().next_back().expect("output");
                    if let Some(&w) = self.last_writer.get(&t) {
                        self.inst.graph.add_edge(
                            w,
                            n,
                            Edge {
                                tensor: t,
                                kind: EdgeKind::Data,
                            },
                        );
                    }
                    continue;
                }
            }
            let name = out_name;
            let out = self.new_tensor(
                &name,
                declared.unwrap_or(ScalarType::Bool),
                shape,
                TensorKind::Temp,
                declared.is_some(),
                v.span,
            );
            let none = HashSet::new();
            self.compute_node(&format!("{name}_store"), span, &none, |lw| {
                lw.store_whole(out, v, v.span)
            });
            if self.failed {
                return;
            }
            self.inst.outputs.push(out);
            let n = self.inst.graph.add_node(Node::Output {
                tensor: out,
                index: i,
            });
            if let Some(&w) = self.last_writer.get(&out) {
                self.inst.graph.add_edge(
                    w,
                    n,
                    Edge {
                        tensor: out,
                        kind: EdgeKind::Data,
                    },
                );
            }
        }
    }

    /// A tensor named by `e` without computation (tensor local or call result), or a
    /// scalar local's current version.
    fn plain_tensor(&mut self, e: &'h hir::Expr) -> Option<TensorId> {
        match &e.kind {
            HE::Call { .. } => self.hoisted.get(&(e as *const _)).map(|r| r[0]),
            HE::Local(l) if self.k.locals[*l].is_tensor => self.tensor_locals.get(l).copied(),
            _ => None,
        }
    }

    // ------------------------------------------------------------ statements in a node

    fn emit(&mut self, s: Stmt) {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .last_mut()
            .expect("block")
            .push(s);
    }

    fn push_block(&mut self) {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .push(Vec::new());
    }

    fn pop_block(&mut self) -> Block {
        self.node
            .as_mut()
            .expect("in a node")
            .blocks
            .pop()
            .expect("block")
    }

    fn new_local(
        &mut self,
        name: &str,
        declared: Option<ScalarType>,
        class: Class,
        span: Span,
    ) -> LocalId {
        let l = self.inst.add_local(Local {
            name: name.to_string(),
            ty: declared.unwrap_or(ScalarType::Bool),
            declared: declared.is_some(),
            reason: if declared.is_some() {
                TypeReason::Declared
            } else {
                TypeReason::Pending
            },
            range: None,
            span,
        });
        self.node
            .as_mut()
            .expect("in a node")
            .local_class
            .insert(l, class);
        l
    }

    /// The IR local of HIR scalar local `h` in the current node, loading its current
    /// version at the node's start when there is one.
    fn hir_local(&mut self, h: usize) -> L<LocalId> {
        if let Some(l) = self.node.as_ref().expect("in a node").locals.get(&h) {
            return Some(*l);
        }
        let hl = &self.k.locals[h];
        let declared = match &hl.declared {
            Some(d) => Some(self.elem_type(&d.elem, d.span)?),
            None => None,
        };
        let version = self.scalar_versions.get(&h).copied();
        let class = match (declared, version) {
            (Some(t), _) => class_of(&t),
            (None, Some(v)) => class_of(&self.inst.tensor(v).elem),
            (None, None) => Class::Exact,
        };
        let l = self.new_local(&hl.name.clone(), declared, class, hl.span);
        self.node.as_mut().expect("in a node").locals.insert(h, l);
        if let Some(v) = version {
            // Prologue: the value from the statement that last assigned it.
            let span = hl.span;
            let e = self.load(v, Vec::new(), span);
            let node = self.node.as_mut().expect("in a node");
            node.blocks[0].insert(
                0,
                Stmt::Assign {
                    local: l,
                    value: e,
                    span,
                },
            );
        }
        Some(l)
    }

    fn stmt(&mut self, s: &'h hir::Stmt) -> L<()> {
        self.stmt_in(s, &Scope::default())
    }

    /// `l = value`: converted to `l`'s declared type, or typed by inference.
    fn assign_local(
        &mut self,
        l: LocalId,
        value: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<()> {
        let target = self.inst.local(l).declared.then_some(self.inst.local(l).ty);
        let (v, c) = match target {
            Some(_) => self.value_for(value, &[], scope, target)?,
            None => self.scalar(value, scope, self.local_class(l))?,
        };
        self.note_assign_class(l, c, value.span)?;
        self.emit(Stmt::Assign {
            local: l,
            value: v,
            span,
        });
        Some(())
    }

    /// The flags of a loop whose body is `body`: a `break` flag when the body breaks (or
    /// `done` for a `while`), a `continue` flag when it continues; the `break` flag is
    /// cleared before the loop. Pushed on `jumps` (the caller pops it).
    fn jump_frame(
        &mut self,
        name: &str,
        body: &[hir::Stmt],
        done: Option<LocalId>,
        span: Span,
    ) -> JumpFrame {
        let (breaks, continues) = jumps_in(body);
        let flag = |lw: &mut Self, what: &str| {
            lw.new_local(
                &format!("{name}_{what}"),
                Some(ScalarType::Bool),
                Class::Bool,
                span,
            )
        };
        let brk = done.or_else(|| breaks.then(|| flag(self, "break")));
        let cont = continues.then(|| flag(self, "continue"));
        if let Some(b) = brk {
            let (f, _) = self.constant(Value::Bool(false), span);
            self.emit(Stmt::Assign {
                local: b,
                value: f,
                span,
            });
        }
        let frame = JumpFrame { brk, cont };
        self.jumps.push(frame.clone());
        frame
    }

    /// One iteration of a loop: nothing once the `break` flag is set; the `continue`
    /// flag cleared; for a `while`, the body when `cond` holds, else `done` set.
    fn loop_body(
        &mut self,
        frame: &JumpFrame,
        body: &'h [hir::Stmt],
        scope: &Scope<'h>,
        cond: Option<&'h hir::Expr>,
    ) -> L<()> {
        let span = body.first().map_or(Span::default(), |st| st.span);
        if frame.brk.is_some() {
            self.push_block();
        }
        if let Some(c) = frame.cont {
            let (f, _) = self.constant(Value::Bool(false), span);
            self.emit(Stmt::Assign {
                local: c,
                value: f,
                span,
            });
        }
        match cond {
            Some(cond) => {
                let c = self.condition(cond, scope)?;
                self.push_block();
                self.seq(body, scope)?;
                let then_block = self.pop_block();
                let done = frame.brk.expect("a while loop has a done flag");
                let (t, _) = self.constant(Value::Bool(true), cond.span);
                self.emit(Stmt::If {
                    cond: c,
                    then_block,
                    else_block: vec![Stmt::Assign {
                        local: done,
                        value: t,
                        span: cond.span,
                    }],
                });
            }
            None => self.seq(body, scope)?,
        }
        if let Some(b) = frame.brk {
            let guarded = self.pop_block();
            let not_done = self.not_flags(&[b], span);
            self.emit(Stmt::If {
                cond: not_done,
                then_block: guarded,
                else_block: Vec::new(),
            });
        }
        Some(())
    }

    /// Statements in order; after one that may `break` or `continue` the innermost loop,
    /// the rest run only if neither happened.
    fn seq(&mut self, stmts: &'h [hir::Stmt], scope: &Scope<'h>) -> L<()> {
        for (i, st) in stmts.iter().enumerate() {
            self.stmt_in(st, scope)?;
            let rest = &stmts[i + 1..];
            let (b, c) = jumps_in(std::slice::from_ref(st));
            if rest.is_empty() || !(b || c) {
                continue;
            }
            let frame = self.jumps.last().cloned()?;
            let flags: Vec<LocalId> = [frame.brk.filter(|_| b), frame.cont.filter(|_| c)]
                .into_iter()
                .flatten()
                .collect();
            self.push_block();
            self.seq(rest, scope)?;
            let then_block = self.pop_block();
            let go_on = self.not_flags(&flags, st.span);
            self.emit(Stmt::If {
                cond: go_on,
                then_block,
                else_block: Vec::new(),
            });
            return Some(());
        }
        Some(())
    }

    /// The value of an `if` or `while` condition, which must be a bool.
    fn condition(&mut self, cond: &'h hir::Expr, scope: &Scope<'h>) -> L<ExprId> {
        let (c, cc) = self.scalar(cond, scope, Some(Class::Bool))?;
        if cc != Class::Bool {
            self.err(
                Diagnostic::error(codes::NOT_BOOL, "a condition must be a bool").at(cond.span),
            );
            return None;
        }
        Some(c)
    }

    /// `not f1 and not f2 ...` of bool locals.
    fn not_flags(&mut self, flags: &[LocalId], span: Span) -> ExprId {
        let mut cond: Option<ExprId> = None;
        for &f in flags {
            let r = self.inst.add_expr(Expr::Local(f), span);
            let n = self.inst.add_expr(Expr::Unary(UnOp::Not, r), span);
            cond = Some(match cond {
                None => n,
                Some(c) => self.inst.add_expr(Expr::Binary(BinOp::And, c, n), span),
            });
        }
        cond.unwrap_or_else(|| self.constant(Value::Bool(true), span).0)
    }

    fn stmt_in(&mut self, s: &'h hir::Stmt, scope: &Scope<'h>) -> L<()> {
        match &s.kind {
            HS::Decl { local, init } => {
                let Some(init) = init else { return Some(()) };
                let l = self.hir_local(*local)?;
                self.assign_local(l, init, scope, s.span)?;
            }
            HS::Assign {
                target: Place::Local(h),
                value,
            } => {
                if self.k.locals[*h].is_tensor {
                    let t = *self.tensor_locals.get(h)?;
                    return self.store_whole(t, value, s.span);
                }
                let l = self.hir_local(*h)?;
                self.assign_local(l, value, scope, s.span)?;
            }
            HS::Assign {
                target: Place::Index { local, subs },
                value,
            } => {
                let t = *self.tensor_locals.get(local)?;
                let shape = self.inst.tensor(t).shape.clone();
                let target = self.inst.tensor(t).elem;
                if self.is_element(subs) {
                    // Python's order: the value, then the index.
                    let (v, _) = self.value_for(value, &[], scope, Some(target))?;
                    let (base, region) = self.view(subs, &shape, scope, s.span, true)?;
                    self.emit(Stmt::Store {
                        access: view_access(t, &base, &region, &[]),
                        value: v,
                        span: s.span,
                    });
                } else {
                    let (base, region) = self.view(subs, &shape, scope, s.span, true)?;
                    if let Some(d) = base
                        .iter()
                        .filter_map(|b| b.dynamic)
                        .find(|&d| self.reads_tensor(d, t))
                    {
                        let span = self.inst.expr_spans[d.index()];
                        self.err(
                            Diagnostic::error(codes::UNSUPPORTED, "the index of a region store reads the tensor it stores into")
                                .at(span)
                                .help("copy the index into a scalar first: `k = ...` then `y[k, :] = ...`"),
                        );
                        return None;
                    }
                    let region_shape: Vec<usize> = region.iter().map(|r| r.1).collect();
                    let value_shape = self.shape_of_or_scalar(value, scope)?;
                    if let Some(vs) = &value_shape {
                        if *vs != region_shape {
                            self.err(
                                Diagnostic::error(codes::SHAPE_MISMATCH, format!("a region of shape {region_shape:?} gets a tensor of shape {vs:?}"))
                                    .at(s.span),
                            );
                            return None;
                        }
                    }
                    self.loop_nest(&region_shape, s.span, &mut |lw, idx| {
                        let (v, _) = lw.value_for(value, idx, scope, Some(target))?;
                        lw.emit(Stmt::Store {
                            access: view_access(t, &base, &region, idx),
                            value: v,
                            span: s.span,
                        });
                        Some(())
                    })?;
                }
            }
            HS::For { header, body } => {
                let (lo, hi) = (
                    self.affine_size(&header.lo, scope, header.span)?,
                    self.affine_size(&header.hi, scope, header.span)?,
                );
                let var = self
                    .inst
                    .add_loop_var(self.k.loop_vars[header.var].name.clone(), header.span);
                let mut inner = scope.clone();
                inner.loops.insert(header.var, Affine::var(var));
                let name = self.k.loop_vars[header.var].name.clone();
                let frame = self.jump_frame(&name, body, None, header.span);
                self.push_block();
                self.loop_body(&frame, body, &inner, None)?;
                let b = self.pop_block();
                self.jumps.pop();
                self.emit(Stmt::For(Loop {
                    var,
                    lo,
                    hi,
                    step: header.step,
                    body: b,
                    directives: Default::default(),
                    span: header.span,
                }));
            }
            HS::While {
                cond,
                max,
                max_span,
                body,
            } => {
                let n = self.eval_size(max, *max_span)?;
                if n < 0 {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_LOOP,
                            format!("a `while` loop's maximum must not be negative, not {n}"),
                        )
                        .at(*max_span),
                    );
                    return None;
                }
                let var = self.inst.add_loop_var("while".into(), s.span);
                // The loop stops when `done`: its condition failed, or a `break`.
                let done =
                    self.new_local("while_done", Some(ScalarType::Bool), Class::Bool, s.span);
                let frame = self.jump_frame("while", body, Some(done), s.span);
                self.push_block();
                self.loop_body(&frame, body, scope, Some(cond))?;
                let b = self.pop_block();
                self.jumps.pop();
                self.emit(Stmt::For(Loop {
                    var,
                    lo: Affine::constant(0),
                    hi: Affine::constant(n),
                    step: 1,
                    body: b,
                    directives: Default::default(),
                    span: s.span,
                }));
                // After `max` iterations, a condition that still holds needs one more
                // (evaluated only when the loop did not stop by itself).
                self.push_block();
                let c = self.condition(cond, scope)?;
                self.emit(Stmt::If {
                    cond: c,
                    then_block: vec![Stmt::Fail {
                        message: format!("this `while` loop ran its {n} iterations (its `max`) and its condition still holds"),
                        span: s.span,
                    }],
                    else_block: Vec::new(),
                });
                let check = self.pop_block();
                let not_done = self.not_flags(&[done], s.span);
                self.emit(Stmt::If {
                    cond: not_done,
                    then_block: check,
                    else_block: Vec::new(),
                });
            }
            HS::Break | HS::Continue => {
                let frame = self.jumps.last().cloned()?;
                let flag = if matches!(s.kind, HS::Break) {
                    frame.brk
                } else {
                    frame.cont
                };
                let flag = flag?;
                let (t, _) = self.constant(Value::Bool(true), s.span);
                self.emit(Stmt::Assign {
                    local: flag,
                    value: t,
                    span: s.span,
                });
            }
            HS::If {
                cond,
                then_block,
                else_block,
            } => {
                let c = self.condition(cond, scope)?;
                self.push_block();
                self.seq(then_block, scope)?;
                let t = self.pop_block();
                self.push_block();
                self.seq(else_block, scope)?;
                let e = self.pop_block();
                self.emit(Stmt::If {
                    cond: c,
                    then_block: t,
                    else_block: e,
                });
            }
            HS::AssignTuple { .. } | HS::Return(_) => {
                self.err(
                    Diagnostic::error(
                        codes::CALL_NOT_TOP_LEVEL,
                        "this statement must be at the top level",
                    )
                    .at(s.span),
                );
                return None;
            }
        }
        Some(())
    }

    fn local_class(&self, l: LocalId) -> Option<Class> {
        let node = self.node.as_ref()?;
        node.local_class.get(&l).copied()
    }

    /// Records the class of a value assigned to an inferred local; mixing is an error.
    fn note_assign_class(&mut self, l: LocalId, c: Class, span: Span) -> L<()> {
        if self.inst.local(l).declared {
            let t = self.inst.local(l).ty;
            if (t == ScalarType::Bool) != (c == Class::Bool) {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "`{}` is {t} but gets a {}",
                            self.inst.local(l).name,
                            if c == Class::Bool { "bool" } else { "number" }
                        ),
                    )
                    .at(span),
                );
                return None;
            }
            return Some(());
        }
        let assigned_before = block_assigns_any(&self.node.as_ref()?.blocks, l);
        let node = self.node.as_mut()?;
        let prev = node.local_class.get(&l).copied();
        match prev {
            Some(p) if p != c && assigned_before => {
                let name = self.inst.local(l).name.clone();
                self.err(
                    Diagnostic::error(
                        codes::MIXED_FLOAT,
                        format!("`{name}` gets values of different kinds ({p:?} and {c:?})"),
                    )
                    .at(span)
                    .help(format!("declare its type: `{name}: T = ...`")),
                );
                None
            }
            _ => {
                node.local_class.insert(l, c);
                Some(())
            }
        }
    }

    /// Emits a loop nest over `shape` and calls `body` with the index.
    fn loop_nest(
        &mut self,
        shape: &[usize],
        span: Span,
        body: &mut dyn FnMut(&mut Self, &[Affine]) -> L<()>,
    ) -> L<()> {
        if shape.is_empty() {
            return body(self, &[]);
        }
        let vars: Vec<LoopVarId> = (0..shape.len())
            .map(|d| self.inst.add_loop_var(format!("i{d}"), span))
            .collect();
        let idx: Vec<Affine> = vars.iter().map(|&v| Affine::var(v)).collect();
        for _ in 0..shape.len() {
            self.push_block();
        }
        body(self, &idx)?;
        let mut inner = self.pop_block();
        for d in (0..shape.len()).rev() {
            let l = Loop {
                var: vars[d],
                lo: Affine::constant(0),
                hi: Affine::constant(shape[d] as i64),
                step: 1,
                body: inner,
                directives: Default::default(),
                span,
            };
            if d == 0 {
                self.emit(Stmt::For(l));
                break;
            }
            inner = self.pop_block();
            inner.push(Stmt::For(l));
        }
        Some(())
    }

    /// Stores the value of `e` (tensor or scalar, broadcast) into all of tensor `t`.
    fn store_whole(&mut self, t: TensorId, e: &'h hir::Expr, span: Span) -> L<()> {
        let shape = self.inst.tensor(t).shape.clone();
        if let Some(vs) = self.shape_of_or_scalar(e, &Scope::default())? {
            if vs != shape {
                self.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!("a tensor of shape {shape:?} gets a value of shape {vs:?}"),
                    )
                    .at(span),
                );
                return None;
            }
        }
        let declared = self.inst.tensor(t).declared;
        let hint = declared.then(|| class_of(&self.inst.tensor(t).elem));
        // A comprehension keeps its own loop variable names.
        if let HE::Comprehension { loops, elem } = &e.kind {
            return self.comprehension_into(t, loops, elem, &Scope::default(), span, hint);
        }
        self.loop_nest(&shape, span, &mut |lw, idx| {
            let (v, _) = match declared {
                true => {
                    let target = lw.inst.tensor(t).elem;
                    lw.value_for(e, idx, &Scope::default(), Some(target))?
                }
                false => lw.elem(e, idx, &Scope::default(), hint)?,
            };
            lw.emit(Stmt::Store {
                access: Access {
                    tensor: t,
                    index: idx.to_vec(),
                    dynamic: Vec::new(),
                    checked: true,
                    guarded: false,
                },
                value: v,
                span,
            });
            Some(())
        })
    }

    fn comprehension_into(
        &mut self,
        t: TensorId,
        loops: &'h [hir::LoopHeader],
        elem: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<()> {
        let mut vars = Vec::new();
        let mut inner = scope.clone();
        for h in loops {
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            vars.push(v);
        }
        // Index i_d runs over 0..n_d; the source variable is lo + step * i_d.
        let mut extents = Vec::new();
        for (h, &v) in loops.iter().zip(&vars) {
            let lo = self.affine_size(&h.lo, scope, h.span)?;
            let hi = self.affine_size(&h.hi, scope, h.span)?;
            let n = trip_count_const(&lo, &hi, h.step).filter(|&n| n > 0);
            let Some(n) = n else {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        "a comprehension needs constant, non-empty extents",
                    )
                    .at(h.span),
                );
                return None;
            };
            extents.push(n as usize);
            inner
                .loops
                .insert(h.var, lo.add_scaled(&Affine::var(v), h.step));
        }
        for _ in 0..vars.len() {
            self.push_block();
        }
        let idx: Vec<Affine> = vars.iter().map(|&v| Affine::var(v)).collect();
        let (value, _) = self.scalar(elem, &inner, hint)?;
        self.emit(Stmt::Store {
            access: Access {
                tensor: t,
                index: idx,
                dynamic: Vec::new(),
                checked: true,
                guarded: false,
            },
            value,
            span,
        });
        let mut body = self.pop_block();
        for d in (0..vars.len()).rev() {
            let l = Loop {
                var: vars[d],
                lo: Affine::constant(0),
                hi: Affine::constant(extents[d] as i64),
                step: 1,
                body,
                directives: Default::default(),
                span,
            };
            if d == 0 {
                self.emit(Stmt::For(l));
                break;
            }
            body = self.pop_block();
            body.push(Stmt::For(l));
        }
        Some(())
    }

    // ------------------------------------------------------------ shapes of expressions

    fn shape_of_or_scalar(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Option<Vec<usize>>> {
        if self.is_scalar(e, scope) {
            Some(None)
        } else {
            self.shape_of(e, scope).map(Some)
        }
    }

    fn is_scalar(&self, e: &hir::Expr, scope: &Scope) -> bool {
        match &e.kind {
            HE::Int(_)
            | HE::Real(_)
            | HE::Bool(_)
            | HE::LoopVar(_)
            | HE::Size(_)
            | HE::Window { .. }
            | HE::Reduce { .. }
            | HE::ReduceAll { .. }
            | HE::Dot(..) => true,
            HE::LambdaParam(p) => scope.lambdas.contains_key(p),
            HE::Local(l) => !self.k.locals[*l].is_tensor,
            HE::Param(p) => match &self.k.params[*p].kind {
                KParamKind::Value(t) => t.shape.is_none(),
                KParamKind::Const => true,
            },
            HE::Global(g) => self.mb.inputs.program.globals[*g].shape.is_empty(),
            HE::Index { subs, .. } => subs.iter().all(|s| matches!(s, Sub::Index(_))),
            HE::Unary(_, a) | HE::Cast { arg: a, .. } | HE::Abs(a) | HE::Math(_, a, _) => {
                self.is_scalar(a, scope)
            }
            HE::Binary(_, a, b) | HE::Compare(_, a, b) | HE::Logic(_, a, b) => {
                self.is_scalar(a, scope) && self.is_scalar(b, scope)
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => {
                self.is_scalar(cond, scope)
                    && self.is_scalar(then, scope)
                    && self.is_scalar(otherwise, scope)
            }
            HE::MinMax { args, .. } => args.iter().all(|a| self.is_scalar(a, scope)),
            HE::Call { kernel, .. } => self.mb.inputs.program.kernels[*kernel]
                .results
                .first()
                .is_none_or(|r| r.shape.is_none()),
            HE::Map { .. } | HE::Comprehension { .. } => false,
        }
    }

    /// The concrete shape of a tensor-valued expression.
    fn shape_of(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Vec<usize>> {
        match &e.kind {
            HE::Local(l) => Some(self.inst.tensor(*self.tensor_locals.get(l)?).shape.clone()),
            HE::Param(p) => match self.params.get(*p)? {
                ParamSlot::Tensor(t) => Some(self.inst.tensor(*t).shape.clone()),
                ParamSlot::Const(_) => None,
            },
            HE::Global(g) => Some(self.mb.inputs.program.globals[*g].shape.clone()),
            HE::Call { .. } => {
                let r = self.hoisted.get(&(e as *const _))?.clone();
                Some(self.inst.tensor(r[0]).shape.clone())
            }
            HE::Index { base, subs } => {
                let bshape = self.shape_of(base, scope)?;
                let (_, region) = self.view(subs, &bshape, scope, e.span, false)?;
                Some(region.iter().map(|r| r.1).collect())
            }
            HE::Unary(_, a) | HE::Cast { arg: a, .. } | HE::Abs(a) | HE::Math(_, a, _) => {
                self.shape_of(a, scope)
            }
            HE::Binary(_, a, b) | HE::Compare(_, a, b) | HE::Logic(_, a, b) => {
                self.shape_of_pair(&[a, b], scope, e.span)
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => self.shape_of_pair(&[cond, then, otherwise], scope, e.span),
            HE::MinMax { args, .. } => {
                let refs: Vec<&'h hir::Expr> = args.iter().collect();
                self.shape_of_pair(&refs, scope, e.span)
            }
            HE::Map { operands, .. } => {
                let first = self.shape_of(&operands[0], scope)?;
                for o in &operands[1..] {
                    let s = self.shape_of(o, scope)?;
                    if s != first {
                        self.err(
                            Diagnostic::error(
                                codes::SHAPE_MISMATCH,
                                format!("`map` operands have shapes {first:?} and {s:?}"),
                            )
                            .at(o.span),
                        );
                        return None;
                    }
                }
                Some(first)
            }
            HE::Comprehension { loops, .. } => {
                let mut out = Vec::new();
                for h in loops {
                    let lo = self.affine_size(&h.lo, scope, h.span)?;
                    let hi = self.affine_size(&h.hi, scope, h.span)?;
                    match trip_count_const(&lo, &hi, h.step) {
                        Some(n) if n > 0 => out.push(n as usize),
                        _ => {
                            self.err(
                                Diagnostic::error(
                                    codes::BAD_DIM,
                                    "a comprehension extent is empty or not constant",
                                )
                                .at(h.span),
                            );
                            return None;
                        }
                    }
                }
                Some(out)
            }
            _ => {
                self.err(Diagnostic::error(codes::KIND_MISMATCH, "expected a tensor").at(e.span));
                None
            }
        }
    }

    fn shape_of_pair(
        &mut self,
        parts: &[&'h hir::Expr],
        scope: &Scope<'h>,
        span: Span,
    ) -> L<Vec<usize>> {
        let mut shape: Option<Vec<usize>> = None;
        for p in parts {
            if self.is_scalar(p, scope) {
                continue;
            }
            let s = self.shape_of(p, scope)?;
            match &shape {
                None => shape = Some(s),
                Some(prev) if *prev != s => {
                    self.err(
                        Diagnostic::error(
                            codes::SHAPE_MISMATCH,
                            format!("operands have shapes {prev:?} and {s:?}"),
                        )
                        .at(span),
                    );
                    return None;
                }
                _ => {}
            }
        }
        shape
    }

    /// Resolves subscripts against a shape: for each dimension, the fixed offset (affine)
    /// and, for slices, the step and length. Returns (base offsets, region dims) where a
    /// region dim is (dimension index, length, step).
    ///
    /// An index that is not affine in the loop variables is data-dependent: with `lower`,
    /// its value is lowered (statements it needs are emitted here) into the view's
    /// [`ViewDim::dynamic`]; without, only the shape is wanted and nothing is lowered.
    fn view(
        &mut self,
        subs: &'h [Sub],
        shape: &[usize],
        scope: &Scope<'h>,
        span: Span,
        lower: bool,
    ) -> L<(Vec<ViewDim>, Vec<RegionDim>)> {
        let mut base = Vec::new();
        let mut region = Vec::new();
        for (d, (s, &n)) in subs.iter().zip(shape).enumerate() {
            match s {
                Sub::Index(e) => {
                    if let Some(a) = self.try_affine(e, scope) {
                        base.push(ViewDim {
                            offset: a,
                            dynamic: None,
                        });
                        continue;
                    }
                    let dynamic = if lower {
                        Some(self.dynamic_index(e, scope)?)
                    } else {
                        None
                    };
                    base.push(ViewDim {
                        offset: Affine::constant(0),
                        dynamic,
                    });
                }
                Sub::Slice {
                    lo,
                    hi,
                    step,
                    span: sspan,
                } => {
                    let lo_a = match lo {
                        Some(l) => self.affine_size(l, scope, *sspan)?,
                        None => Affine::constant(0),
                    };
                    let hi_a = match hi {
                        Some(h) => self.affine_size(h, scope, *sspan)?,
                        None => Affine::constant(n as i64),
                    };
                    let diff = hi_a.add_scaled(&lo_a, -1);
                    let Some(len) = diff.as_constant() else {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_SLICE,
                                "the length of this slice is not constant",
                            )
                            .at(*sspan),
                        );
                        return None;
                    };
                    let count = if len <= 0 { 0 } else { (len + step - 1) / step };
                    if count < 1 {
                        self.err(
                            Diagnostic::error(codes::BAD_SLICE, "this slice is empty").at(*sspan),
                        );
                        return None;
                    }
                    if let (Some(l), Some(h)) = (lo_a.as_constant(), hi_a.as_constant()) {
                        if l < 0 || h > n as i64 {
                            self.err(
                                Diagnostic::error(
                                    codes::OUT_OF_BOUNDS,
                                    format!("slice {l}:{h} is outside dimension {d} of size {n}"),
                                )
                                .at(*sspan),
                            );
                            return None;
                        }
                    }
                    base.push(ViewDim {
                        offset: lo_a,
                        dynamic: None,
                    });
                    region.push((d, count as usize, *step));
                }
            }
        }
        let _ = span;
        Some((base, region))
    }

    // ------------------------------------------------------------ affine forms

    fn affine_size(&mut self, s: &SizeExpr, scope: &Scope<'h>, span: Span) -> L<Affine> {
        match s {
            SizeExpr::Const(c) => Some(Affine::constant(*c)),
            SizeExpr::Var(_) | SizeExpr::ConstParam(_) => {
                Some(Affine::constant(self.eval_size(s, span)?))
            }
            SizeExpr::LoopVar(v) => match scope.loops.get(v) {
                Some(a) => Some(a.clone()),
                None => {
                    self.err(
                        Diagnostic::error(codes::NOT_AFFINE, "loop variable out of scope").at(span),
                    );
                    None
                }
            },
            SizeExpr::Binary(op, a, b) => {
                let (x, y) = (
                    self.affine_size(a, scope, span)?,
                    self.affine_size(b, scope, span)?,
                );
                match op {
                    SizeOp::Add => Some(x.add_scaled(&y, 1)),
                    SizeOp::Sub => Some(x.add_scaled(&y, -1)),
                    SizeOp::Mul => match (x.as_constant(), y.as_constant()) {
                        (Some(c), _) => Some(y.scale(c)),
                        (_, Some(c)) => Some(x.scale(c)),
                        _ => self.not_affine(span),
                    },
                    SizeOp::FloorDiv | SizeOp::Mod => match (x.as_constant(), y.as_constant()) {
                        (Some(p), Some(q)) if q != 0 => {
                            let fd =
                                p.div_euclid(q) - if q < 0 && p.rem_euclid(q) != 0 { 1 } else { 0 };
                            Some(Affine::constant(if *op == SizeOp::FloorDiv {
                                fd
                            } else {
                                p - q * fd
                            }))
                        }
                        _ => self.not_affine(span),
                    },
                }
            }
        }
    }

    fn not_affine<T>(&mut self, span: Span) -> L<T> {
        if self.probing_affine {
            return None;
        }
        self.err(
            Diagnostic::error(codes::NOT_AFFINE, "this index is not affine in the loop variables")
                .at(span)
                .help("indices are sums of loop variables times constants plus a constant (`2*i + u - 1`)"),
        );
        None
    }

    /// Lowers a data-dependent index (`x[i]` in `hist[x[i]]`): any integer expression.
    /// Its values must be integers within the range of `int<64>`, which type inference
    /// checks.
    fn dynamic_index(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<ExprId> {
        let (x, class) = self.scalar(e, scope, Some(Class::Exact))?;
        if class != Class::Exact {
            let what = if class == Class::F32 {
                "an f32"
            } else {
                "a bool"
            };
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("an index must be an integer, not {what}"),
                )
                .at(e.span)
                .help("convert it with an integer type: `int<16>(x)`"),
            );
            return None;
        }
        Some(x)
    }

    /// The affine form of an integer index expression, or `None` (reporting nothing) when
    /// it depends on data.
    fn try_affine(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Affine> {
        let was = std::mem::replace(&mut self.probing_affine, true);
        let a = self.affine_expr(e, scope);
        self.probing_affine = was;
        a
    }

    /// The affine form of an integer index expression.
    fn affine_expr(&mut self, e: &'h hir::Expr, scope: &Scope<'h>) -> L<Affine> {
        match &e.kind {
            HE::Int(v) => Some(Affine::constant(i64::try_from(*v).ok()?)),
            HE::Size(s) => Some(Affine::constant(self.eval_size(s, e.span)?)),
            HE::LoopVar(v) => match scope.loops.get(v) {
                Some(a) => Some(a.clone()),
                None => self.not_affine(e.span),
            },
            HE::Unary(HUnaryOp::Neg, a) => Some(self.affine_expr(a, scope)?.scale(-1)),
            HE::Binary(AB::Add, a, b) => Some(
                self.affine_expr(a, scope)?
                    .add_scaled(&self.affine_expr(b, scope)?, 1),
            ),
            HE::Binary(AB::Sub, a, b) => Some(
                self.affine_expr(a, scope)?
                    .add_scaled(&self.affine_expr(b, scope)?, -1),
            ),
            HE::Binary(AB::Mul, a, b) => {
                let (x, y) = (self.affine_expr(a, scope)?, self.affine_expr(b, scope)?);
                match (x.as_constant(), y.as_constant()) {
                    (Some(c), _) => Some(y.scale(c)),
                    (_, Some(c)) => Some(x.scale(c)),
                    _ => self.not_affine(e.span),
                }
            }
            HE::Binary(AB::FloorDiv | AB::Mod, a, b) => {
                let (x, y) = (self.affine_expr(a, scope)?, self.affine_expr(b, scope)?);
                match (x.as_constant(), y.as_constant()) {
                    (Some(p), Some(q)) if q != 0 => {
                        let fd =
                            p.div_euclid(q) - if q < 0 && p.rem_euclid(q) != 0 { 1 } else { 0 };
                        let is_div = matches!(e.kind, HE::Binary(AB::FloorDiv, ..));
                        Some(Affine::constant(if is_div { fd } else { p - q * fd }))
                    }
                    _ => self.not_affine(e.span),
                }
            }
            _ => self.not_affine(e.span),
        }
    }

    // ------------------------------------------------------------ expressions

    /// `f(x)` of an exact `x` through its lookup table (`kiln_numeric::lut`): the entry
    /// `floor((clamp(x, lo, hi - step) - lo) / step)`, a gather from the table's constant
    /// tensor. Every engine runs it as ordinary IR.
    fn table_lookup(
        &mut self,
        f: kiln_numeric::MathFn,
        spec: &LutSpec,
        x: ExprId,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let c = match self.mb.table_const(f, spec) {
            Ok(c) => c,
            Err(e) => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("bad lookup table for `{}`: {e}", f.name()),
                    )
                    .at(span),
                );
                return None;
            }
        };
        let table = match self.table_tensors.get(&c) {
            Some(t) => *t,
            None => {
                let cd = &self.mb.module.consts[c.index()];
                let (name, elem, shape, range) =
                    (cd.name.clone(), cd.elem, cd.shape.clone(), cd.range.clone());
                let t = self.new_tensor(&name, elem, shape, TensorKind::Const(c), true, span);
                self.inst.tensor_mut(t).range = range;
                let n = self.inst.graph.add_node(Node::Const { tensor: t });
                self.last_writer.insert(t, n);
                self.table_tensors.insert(c, t);
                t
            }
        };
        let step_log2 = spec.step_log2().ok()?;
        let exact = |v: f64| kiln_numeric::float::f64_to_fx(v).expect("finite table bound");
        let lo = exact(spec.lo);
        let last = exact(spec.hi - 2f64.powi(step_log2));
        let (lo_e, _) = self.constant(Value::Num(lo.clone()), span);
        let (last_e, _) = self.constant(Value::Num(last), span);
        let above = self.inst.add_expr(Expr::Binary(BinOp::Max, x, lo_e), span);
        let clamped = self
            .inst
            .add_expr(Expr::Binary(BinOp::Min, above, last_e), span);
        let (lo_e, _) = self.constant(Value::Num(lo), span);
        let offset = self
            .inst
            .add_expr(Expr::Binary(BinOp::Sub, clamped, lo_e), span);
        let (shift, _) = self.constant(Value::Num(Fx::int(step_log2.unsigned_abs() as i128)), span);
        let op = if step_log2 <= 0 {
            BinOp::Shl
        } else {
            BinOp::Shr
        };
        let scaled = self.inst.add_expr(Expr::Binary(op, offset, shift), span);
        // Non-negative: truncation is the floor.
        let index_type = ScalarType::Int(kiln_numeric::IntType::new(
            spec.size.trailing_zeros().max(1),
            false,
        ));
        let index = self.inst.add_expr(
            Expr::Cast {
                to: index_type,
                arg: scaled,
            },
            span,
        );
        let mut access = Access::affine(table, vec![Affine::constant(0)]);
        access.dynamic = vec![Some(index)];
        Some((self.load_access(access, span), Class::Exact))
    }

    fn load(&mut self, t: TensorId, index: Vec<Affine>, span: Span) -> ExprId {
        self.load_access(Access::affine(t, index), span)
    }

    fn load_access(&mut self, a: Access, span: Span) -> ExprId {
        self.inst.add_expr(Expr::Load(a), span)
    }

    /// Whether subscripts select one element (no slices).
    fn is_element(&self, subs: &[Sub]) -> bool {
        subs.iter().all(|s| matches!(s, Sub::Index(_)))
    }

    /// Whether expression `e` reads tensor `t`.
    fn reads_tensor(&self, e: ExprId, t: TensorId) -> bool {
        let mut found = false;
        self.inst.for_each_subexpr(e, &mut |x| {
            found |= matches!(x, Expr::Load(a) if a.tensor == t);
        });
        found
    }

    fn constant(&mut self, v: Value, span: Span) -> (ExprId, Class) {
        let v = match v {
            Value::Num(x) => Value::Num(x.normalized()),
            other => other,
        };
        let c = match &v {
            Value::Bool(_) => Class::Bool,
            Value::F32(_) => Class::F32,
            Value::Num(_) => Class::Exact,
        };
        (self.inst.add_expr(Expr::Const(v), span), c)
    }

    /// A literal in a context of class `hint`.
    fn literal(&mut self, e: &hir::Expr, hint: Option<Class>) -> L<(ExprId, Class)> {
        match &e.kind {
            HE::Int(v) => {
                let v = i128::try_from(*v).ok()?;
                if hint == Some(Class::F32) {
                    Some(self.constant(Value::F32(v as f32), e.span))
                } else {
                    Some(self.constant(Value::Num(Fx::int(v)), e.span))
                }
            }
            HE::Real(text) => {
                let Some((f, exact)) = real_literal(text) else {
                    self.err(
                        Diagnostic::error(codes::INEXACT_LITERAL, format!("bad number `{text}`"))
                            .at(e.span),
                    );
                    return None;
                };
                if hint == Some(Class::F32) {
                    let f32v: f32 = text.replace('_', "").parse().ok()?;
                    return Some(self.constant(Value::F32(f32v), e.span));
                }
                if !exact {
                    self.err(
                        Diagnostic::error(codes::INEXACT_LITERAL, format!("{text} has no exact binary value"))
                            .at(e.span)
                            .help(format!("choose its precision with a conversion, e.g. `fixed<16, 1, rnd>({text})`, or compute in f32")),
                    );
                    return None;
                }
                let x = kiln_numeric::float::f64_to_fx(f)?;
                Some(self.constant(Value::Num(x), e.span))
            }
            HE::Bool(b) => Some(self.constant(Value::Bool(*b), e.span)),
            _ => None,
        }
    }

    fn is_literal(e: &hir::Expr) -> bool {
        fold_literal(e).is_some()
    }

    /// A folded literal expression (`1.0 / 9`, `-3`, `2 * 8`) as a constant in a context of
    /// class `hint`.
    fn folded(&mut self, e: &hir::Expr, lit: Lit, hint: Option<Class>) -> L<(ExprId, Class)> {
        match lit {
            Lit::Int(v) => {
                if hint == Some(Class::F32) {
                    Some(self.constant(Value::F32(v as f32), e.span))
                } else {
                    Some(self.constant(Value::Num(Fx::int(v)), e.span))
                }
            }
            Lit::Real(f, exact) => {
                if hint == Some(Class::F32) {
                    // A single literal rounds from its decimal text, like `0.1f`; a computed
                    // one from its binary64 value, as C++ computes double constants.
                    if let HE::Real(text) = &e.kind {
                        if let Ok(v) = text.replace('_', "").parse::<f32>() {
                            return Some(self.constant(Value::F32(v), e.span));
                        }
                    }
                    return Some(self.constant(Value::F32(f as f32), e.span));
                }
                if !exact || !f.is_finite() {
                    self.err(
                        Diagnostic::error(codes::INEXACT_LITERAL, "this constant has no exact binary value")
                            .at(e.span)
                            .label(format!("its value is about {f}"))
                            .help("choose its precision with a conversion, e.g. `fixed<16, 1, rnd>(...)`, or compute in f32"),
                    );
                    return None;
                }
                let x = kiln_numeric::float::f64_to_fx(f)?;
                Some(self.constant(Value::Num(x), e.span))
            }
        }
    }

    /// Lowers the value of an assignment to a target of type `target`: a literal converts to
    /// a declared target at compile time (`s: fixed<8, 4, rnd> = 0.1` rounds 0.1 once, like
    /// C++ does), anything else is lowered as usual.
    fn value_for(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        target: Option<ScalarType>,
    ) -> L<(ExprId, Class)> {
        if let (Some(t), Some(lit)) = (target, fold_literal(e)) {
            // The assignment converts it (no exactness required, as for a cast).
            let v = literal_source(e, lit, &t)?;
            return Some(self.constant(v, e.span));
        }
        self.elem(e, idx, scope, target.as_ref().map(class_of))
    }

    /// Lowers a scalar expression.
    fn scalar(
        &mut self,
        e: &'h hir::Expr,
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        self.elem(e, &[], scope, hint)
    }

    /// Lowers element `idx` of expression `e` (a scalar expression ignores `idx`).
    fn elem(
        &mut self,
        e: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        let span = e.span;
        if let Some(lit) = fold_literal(e) {
            return self.folded(e, lit, hint);
        }
        match &e.kind {
            HE::Int(_) | HE::Real(_) | HE::Bool(_) => self.literal(e, hint),
            HE::Size(s) => {
                let v = self.eval_size(s, span)?;
                if hint == Some(Class::F32) {
                    Some(self.constant(Value::F32(v as f32), span))
                } else {
                    Some(self.constant(Value::Num(Fx::int(v as i128)), span))
                }
            }
            HE::LoopVar(v) => {
                let Some(a) = scope.loops.get(v).cloned() else {
                    self.err(
                        Diagnostic::error(codes::UNSUPPORTED, "loop variable out of scope")
                            .at(span),
                    );
                    return None;
                };
                Some((self.affine_value(&a, span), Class::Exact))
            }
            HE::Local(l) => {
                if self.k.locals[*l].is_tensor {
                    let t = *self.tensor_locals.get(l)?;
                    let v = self.load(t, idx.to_vec(), span);
                    let c = class_of(&self.inst.tensor(t).elem);
                    Some((v, c))
                } else {
                    let il = self.hir_local(*l)?;
                    let c = self.local_class(il).unwrap_or(Class::Exact);
                    Some((self.inst.add_expr(Expr::Local(il), span), c))
                }
            }
            HE::Param(p) => match self.params.get(*p)?.clone() {
                ParamSlot::Const(v) => {
                    if hint == Some(Class::F32) {
                        Some(self.constant(Value::F32(v as f32), span))
                    } else {
                        Some(self.constant(Value::Num(Fx::int(v as i128)), span))
                    }
                }
                ParamSlot::Tensor(t) => {
                    let index = if self.inst.tensor(t).shape.is_empty() {
                        Vec::new()
                    } else {
                        idx.to_vec()
                    };
                    let v = self.load(t, index, span);
                    Some((v, class_of(&self.inst.tensor(t).elem)))
                }
            },
            HE::Global(g) => {
                let t = self.global_tensor(*g, span)?;
                let index = if self.inst.tensor(t).shape.is_empty() {
                    Vec::new()
                } else {
                    idx.to_vec()
                };
                let v = self.load(t, index, span);
                Some((v, class_of(&self.inst.tensor(t).elem)))
            }
            HE::Call { .. } => {
                let Some(r) = self.hoisted.get(&(e as *const _)).cloned() else {
                    self.err(
                        Diagnostic::error(codes::CALL_NOT_TOP_LEVEL, "kernel call inside a loop")
                            .at(span),
                    );
                    return None;
                };
                let t = r[0];
                let index = if self.inst.tensor(t).shape.is_empty() {
                    Vec::new()
                } else {
                    idx.to_vec()
                };
                let v = self.load(t, index, span);
                Some((v, class_of(&self.inst.tensor(t).elem)))
            }
            HE::LambdaParam(p) => {
                let Some(b) = scope.lambdas.get(p).cloned() else {
                    self.err(
                        Diagnostic::error(codes::BAD_MAP, "lambda parameter out of scope").at(span),
                    );
                    return None;
                };
                let LambdaBind {
                    operand,
                    index,
                    scope: oscope,
                } = *b;
                self.elem(operand, &index, &oscope, hint)
            }
            HE::Window { param, offsets } => {
                let Some(b) = scope.lambdas.get(param).cloned() else {
                    self.err(
                        Diagnostic::error(codes::BAD_MAP, "lambda parameter out of scope").at(span),
                    );
                    return None;
                };
                let LambdaBind {
                    operand,
                    index,
                    scope: oscope,
                } = *b;
                let shifted: Vec<Affine> = index
                    .iter()
                    .zip(offsets)
                    .map(|(a, &o)| a.add_scaled(&Affine::constant(o), 1))
                    .collect();
                self.elem(operand, &shifted, &oscope, hint)
            }
            HE::Index { base, subs } => {
                let bshape = self.shape_of(base, scope)?;
                let (vbase, region) = self.view(subs, &bshape, scope, span, true)?;
                let t = match &base.kind {
                    HE::Local(l) => *self.tensor_locals.get(l)?,
                    HE::Param(p) => match self.params.get(*p)? {
                        ParamSlot::Tensor(t) => *t,
                        ParamSlot::Const(_) => return None,
                    },
                    HE::Global(g) => self.global_tensor(*g, span)?,
                    _ => {
                        self.err(
                            Diagnostic::error(
                                codes::UNSUPPORTED,
                                "only named tensors can be indexed",
                            )
                            .at(span),
                        );
                        return None;
                    }
                };
                let v = self.load_access(view_access(t, &vbase, &region, idx), span);
                Some((v, class_of(&self.inst.tensor(t).elem)))
            }
            HE::Unary(op, a) => {
                let (x, c) = self.elem(a, idx, scope, hint)?;
                let op = match op {
                    HUnaryOp::Neg => UnOp::Neg,
                    HUnaryOp::BitNot => UnOp::BitNot,
                    HUnaryOp::Not => UnOp::Not,
                };
                if op == UnOp::Neg && Self::is_literal(a) {
                    // Fold `-literal` so that `-0.5` is one constant.
                    if let Expr::Const(v) = self.inst.expr(x).clone() {
                        let folded = match v {
                            Value::Num(n) => Value::Num(n.neg()),
                            Value::F32(f) => Value::F32(-f),
                            b => b,
                        };
                        return Some(self.constant(folded, span));
                    }
                }
                self.check_unary(op, c, a.span)?;
                Some((self.inst.add_expr(Expr::Unary(op, x), span), c))
            }
            HE::Math(f, a, spec) => {
                // Table parameters make a literal argument exact; otherwise it is an f32.
                let want = if spec.is_some() {
                    Class::Exact
                } else {
                    Class::F32
                };
                let (x, c) = self.elem(a, idx, scope, Some(want))?;
                if c == Class::Exact && kiln_numeric::lut::has_table(*f) {
                    return self.table_lookup(*f, &spec.unwrap_or(LutSpec::DEFAULT), x, span);
                }
                if c == Class::F32 && spec.is_some() {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_ARGS,
                            format!(
                                "table parameters apply to `{}` of exact values, not of an f32",
                                f.name()
                            ),
                        )
                        .at(a.span),
                    );
                    return None;
                }
                if c != Class::F32 {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{}` takes f32 values", f.name()),
                        )
                        .at(a.span)
                        .help(format!("convert first: `{}(f32(x))`", f.name())),
                    );
                    return None;
                }
                Some((
                    self.inst.add_expr(Expr::Math { f: *f, arg: x }, span),
                    Class::F32,
                ))
            }
            HE::Abs(a) => {
                let (x, c) = self.elem(a, idx, scope, hint)?;
                self.check_unary(UnOp::Abs, c, a.span)?;
                Some((self.inst.add_expr(Expr::Unary(UnOp::Abs, x), span), c))
            }
            HE::Binary(op, a, b) => {
                let (x, y, c) = self.operands(a, b, idx, scope, hint)?;
                let op = match op {
                    AB::Add => BinOp::Add,
                    AB::Sub => BinOp::Sub,
                    AB::Mul => BinOp::Mul,
                    AB::Div => BinOp::Div,
                    AB::FloorDiv => BinOp::FloorDiv,
                    AB::Mod => BinOp::Mod,
                    AB::Shl => BinOp::Shl,
                    AB::Shr => BinOp::Shr,
                    AB::BitAnd => BinOp::BitAnd,
                    AB::BitOr => BinOp::BitOr,
                    AB::BitXor => BinOp::BitXor,
                };
                self.check_binary(op, c, span)?;
                Some((self.inst.add_expr(Expr::Binary(op, x, y), span), c))
            }
            HE::Compare(op, a, b) => {
                let (x, y, c) = self.operands(a, b, idx, scope, None)?;
                let op = match op {
                    CmpOp::Lt => BinOp::Lt,
                    CmpOp::Le => BinOp::Le,
                    CmpOp::Gt => BinOp::Gt,
                    CmpOp::Ge => BinOp::Ge,
                    CmpOp::Eq => BinOp::Eq,
                    CmpOp::Ne => BinOp::Ne,
                };
                if c == Class::Bool && !matches!(op, BinOp::Eq | BinOp::Ne) {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            "bools compare only with `==` and `!=`",
                        )
                        .at(span),
                    );
                    return None;
                }
                Some((
                    self.inst.add_expr(Expr::Binary(op, x, y), span),
                    Class::Bool,
                ))
            }
            HE::Logic(op, a, b) => {
                let (x, ca) = self.elem(a, idx, scope, Some(Class::Bool))?;
                // The right operand is lazy: its pre-statements go into a branch.
                self.push_block();
                let (y, cb) = self.elem(b, idx, scope, Some(Class::Bool))?;
                let pre = self.pop_block();
                if ca != Class::Bool || cb != Class::Bool {
                    self.err(
                        Diagnostic::error(codes::NOT_BOOL, "`and` / `or` need bools").at(span),
                    );
                    return None;
                }
                let op = if *op == BoolOp::And {
                    BinOp::And
                } else {
                    BinOp::Or
                };
                if pre.is_empty() {
                    return Some((
                        self.inst.add_expr(Expr::Binary(op, x, y), span),
                        Class::Bool,
                    ));
                }
                let tmp = self.new_local("cond", Some(ScalarType::Bool), Class::Bool, span);
                let mut inner = pre;
                inner.push(Stmt::Assign {
                    local: tmp,
                    value: y,
                    span,
                });
                let xv = self.inst.add_expr(Expr::Local(tmp), span);
                let _ = xv;
                let (then_block, else_block, short) = if op == BinOp::And {
                    (inner, Vec::new(), false)
                } else {
                    (Vec::new(), inner, true)
                };
                let shortv = self.inst.add_expr(Expr::Const(Value::Bool(short)), span);
                self.emit(Stmt::Assign {
                    local: tmp,
                    value: shortv,
                    span,
                });
                self.emit(Stmt::If {
                    cond: x,
                    then_block,
                    else_block,
                });
                Some((self.inst.add_expr(Expr::Local(tmp), span), Class::Bool))
            }
            HE::Select {
                cond,
                then,
                otherwise,
            } => {
                let (c, cc) = self.elem(cond, idx, scope, Some(Class::Bool))?;
                if cc != Class::Bool {
                    self.err(
                        Diagnostic::error(
                            codes::NOT_BOOL,
                            "the condition of `if ... else` must be a bool",
                        )
                        .at(cond.span),
                    );
                    return None;
                }
                let lit_then = Self::is_literal(then);
                let lit_other = Self::is_literal(otherwise);
                // Lower the non-literal branch first so a literal branch adapts to it.
                let (first, second) = if lit_then && !lit_other {
                    (otherwise, then)
                } else {
                    (then, otherwise)
                };
                self.push_block();
                let (f, fc) = self.elem(first, idx, scope, hint)?;
                let pre_f = self.pop_block();
                self.push_block();
                let (s, sc) = self.elem(second, idx, scope, Some(fc))?;
                let pre_s = self.pop_block();
                let class = self.unify(fc, sc, span)?;
                let (tv, ov, pre_t, pre_o) = if lit_then && !lit_other {
                    (s, f, pre_s, pre_f)
                } else {
                    (f, s, pre_f, pre_s)
                };
                if pre_t.is_empty() && pre_o.is_empty() {
                    return Some((
                        self.inst.add_expr(
                            Expr::Select {
                                cond: c,
                                then: tv,
                                otherwise: ov,
                            },
                            span,
                        ),
                        class,
                    ));
                }
                let tmp = self.new_local("sel", None, class, span);
                let mut tb = pre_t;
                tb.push(Stmt::Assign {
                    local: tmp,
                    value: tv,
                    span,
                });
                let mut ob = pre_o;
                ob.push(Stmt::Assign {
                    local: tmp,
                    value: ov,
                    span,
                });
                self.emit(Stmt::If {
                    cond: c,
                    then_block: tb,
                    else_block: ob,
                });
                Some((self.inst.add_expr(Expr::Local(tmp), span), class))
            }
            HE::Cast { to, arg } => {
                let to = self.elem_type(to, span)?;
                // A constant converts at compile time, from its binary64 value (as C++
                // converts a double constant): `fixed<12, 0, rnd>(1.0 / 9)`.
                if let Some(lit) = fold_literal(arg) {
                    let (x, _) = self.constant(literal_source(arg, lit, &to)?, arg.span);
                    if let Expr::Const(Value::F32(_)) = self.inst.expr(x) {
                        if to == ScalarType::F32 {
                            return Some((x, Class::F32));
                        }
                    }
                    return Some((
                        self.inst.add_expr(Expr::Cast { to, arg: x }, span),
                        class_of(&to),
                    ));
                }
                // The argument is typed by what it holds, not by the target: in
                // `f32(min(2, x))` the literal takes `x`'s class, and the conversion
                // follows (inference checks that an exact value fits f32's range).
                let (x, _) = self.elem(arg, idx, scope, None)?;
                Some((
                    self.inst.add_expr(Expr::Cast { to, arg: x }, span),
                    class_of(&to),
                ))
            }
            HE::MinMax { max, args } => {
                let op = if *max { BinOp::Max } else { BinOp::Min };
                // Literals take the class of the first argument that is not one
                // (`min(2, y)` with `y: f32` compares in f32), so that one goes first.
                let lead = args.iter().position(|a| !Self::is_literal(a)).unwrap_or(0);
                let (first, mut c) = self.elem(&args[lead], idx, scope, hint)?;
                let mut lowered = Vec::with_capacity(args.len());
                for (i, a) in args.iter().enumerate() {
                    if i == lead {
                        lowered.push(first);
                        continue;
                    }
                    let (y, cy) = self.elem(a, idx, scope, Some(c))?;
                    c = self.unify(c, cy, a.span)?;
                    lowered.push(y);
                }
                let mut acc = lowered[0];
                for &y in &lowered[1..] {
                    acc = self.inst.add_expr(Expr::Binary(op, acc, y), span);
                }
                if c == Class::Bool {
                    self.err(
                        Diagnostic::error(codes::TYPE_MISMATCH, "`min` / `max` need numbers")
                            .at(span),
                    );
                    return None;
                }
                Some((acc, c))
            }
            HE::Reduce { op, loops, body } => self.reduce(*op, loops, body, scope, span, hint),
            HE::ReduceAll { op, arg } => {
                let shape = self.shape_of(arg, scope)?;
                self.reduce_over(*op, &shape, span, hint, &mut |lw, i, h| {
                    lw.elem(arg, i, scope, h)
                })
            }
            HE::Dot(a, b) => {
                let shape = self.shape_of(a, scope)?;
                let sb = self.shape_of(b, scope)?;
                if shape != sb {
                    self.err(
                        Diagnostic::error(
                            codes::SHAPE_MISMATCH,
                            format!("`dot` of shapes {shape:?} and {sb:?}"),
                        )
                        .at(span),
                    );
                    return None;
                }
                self.reduce_over(ReduceOp::Sum, &shape, span, hint, &mut |lw, i, h| {
                    let (x, y, c) = lw.operands(a, b, i, scope, h)?;
                    Some((lw.inst.add_expr(Expr::Binary(BinOp::Mul, x, y), span), c))
                })
            }
            HE::Map {
                params,
                body,
                operands,
            } => {
                let mut inner = scope.clone();
                for (p, o) in params.iter().zip(operands) {
                    inner.lambdas.insert(
                        *p,
                        Box::new(LambdaBind {
                            operand: o,
                            index: idx.to_vec(),
                            scope: scope.clone(),
                        }),
                    );
                }
                self.elem(body, &[], &inner, hint)
            }
            HE::Comprehension { loops, elem } => {
                let mut inner = scope.clone();
                for (h, i) in loops.iter().zip(idx) {
                    let lo = self.affine_size(&h.lo, scope, h.span)?;
                    inner.loops.insert(h.var, lo.add_scaled(i, h.step));
                }
                self.elem(elem, &[], &inner, hint)
            }
        }
    }

    fn affine_value(&mut self, a: &Affine, span: Span) -> ExprId {
        let mut acc: Option<ExprId> = None;
        for &(v, c) in &a.terms {
            let var = self.inst.add_expr(Expr::LoopVar(v), span);
            let term = if c == 1 {
                var
            } else {
                let k = self
                    .inst
                    .add_expr(Expr::Const(Value::Num(Fx::int(c as i128))), span);
                self.inst.add_expr(Expr::Binary(BinOp::Mul, k, var), span)
            };
            acc = Some(match acc {
                None => term,
                Some(p) => self.inst.add_expr(Expr::Binary(BinOp::Add, p, term), span),
            });
        }
        match acc {
            None => self
                .inst
                .add_expr(Expr::Const(Value::Num(Fx::int(a.constant as i128))), span),
            Some(p) if a.constant != 0 => {
                let k = self
                    .inst
                    .add_expr(Expr::Const(Value::Num(Fx::int(a.constant as i128))), span);
                self.inst.add_expr(Expr::Binary(BinOp::Add, p, k), span)
            }
            Some(p) => p,
        }
    }

    /// Lowers two operands so that a literal takes the other side's class.
    fn operands(
        &mut self,
        a: &'h hir::Expr,
        b: &'h hir::Expr,
        idx: &[Affine],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<(ExprId, ExprId, Class)> {
        let (x, cx, y, cy) = if Self::is_literal(a) && !Self::is_literal(b) {
            let (y, cy) = self.elem(b, idx, scope, hint)?;
            let (x, cx) = self.elem(a, idx, scope, Some(cy))?;
            (x, cx, y, cy)
        } else {
            let (x, cx) = self.elem(a, idx, scope, hint)?;
            let (y, cy) = self.elem(b, idx, scope, Some(cx))?;
            (x, cx, y, cy)
        };
        let c = self.unify(
            cx,
            cy,
            Span {
                file: a.span.file,
                start: a.span.start,
                end: b.span.end,
            },
        )?;
        Some((x, y, c))
    }

    fn unify(&mut self, a: Class, b: Class, span: Span) -> L<Class> {
        if a == b {
            return Some(a);
        }
        let msg = match (a, b) {
            (Class::Bool, _) | (_, Class::Bool) => "a bool and a number are combined",
            _ => "f32 and an exact (fixed-point or integer) value are combined",
        };
        let code = if matches!((a, b), (Class::Bool, _) | (_, Class::Bool)) {
            codes::TYPE_MISMATCH
        } else {
            codes::MIXED_FLOAT
        };
        self.err(
            Diagnostic::error(code, msg)
                .at(span)
                .help("convert one side explicitly: `f32(x)` or `fixed<W, I>(y)`"),
        );
        None
    }

    fn check_unary(&mut self, op: UnOp, c: Class, span: Span) -> L<()> {
        let ok = match op {
            UnOp::Not => c == Class::Bool,
            UnOp::BitNot => c == Class::Exact,
            UnOp::Neg | UnOp::Abs => c != Class::Bool,
        };
        if !ok {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("{op:?} is not defined on this type"),
                )
                .at(span),
            );
            return None;
        }
        Some(())
    }

    fn check_binary(&mut self, op: BinOp, c: Class, span: Span) -> L<()> {
        let bad = match (op, c) {
            (_, Class::Bool) => Some("needs numbers, not bools"),
            (
                BinOp::FloorDiv
                | BinOp::Mod
                | BinOp::BitAnd
                | BinOp::BitOr
                | BinOp::BitXor
                | BinOp::Shl
                | BinOp::Shr,
                Class::F32,
            ) => Some("is not defined on f32"),
            _ => None,
        };
        if let Some(why) = bad {
            self.err(
                Diagnostic::error(codes::TYPE_MISMATCH, format!("`{}` {why}", op.symbol()))
                    .at(span),
            );
            return None;
        }
        Some(())
    }

    fn reduce(
        &mut self,
        op: ReduceOp,
        loops: &'h [hir::LoopHeader],
        body: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
        hint: Option<Class>,
    ) -> L<(ExprId, Class)> {
        if op.is_arg() {
            return self.arg_reduce(op, loops, body, scope, span);
        }
        // acc = <identity or first element>; for ...: acc = acc (op) body
        let acc_class = self.body_class(body, loops, scope, hint)?;
        let acc = self.new_local(op.name(), None, acc_class, span);
        match op {
            ReduceOp::Sum => {
                let zero = if acc_class == Class::F32 {
                    Value::F32(0.0)
                } else {
                    Value::Num(Fx::zero())
                };
                let z = self.inst.add_expr(Expr::Const(zero), span);
                self.emit(Stmt::Assign {
                    local: acc,
                    value: z,
                    span,
                });
            }
            ReduceOp::ArgMax | ReduceOp::ArgMin => unreachable!("arg_reduce handles them"),
            ReduceOp::Max | ReduceOp::Min => {
                // Start from the first element (all bounds at their first values).
                let mut first = scope.clone();
                for h in loops {
                    let lo = self.affine_size(&h.lo, &first, h.span)?;
                    let hi = self.affine_size(&h.hi, &first, h.span)?;
                    self.nonempty(op, &lo, &hi, h)?;
                    first.loops.insert(h.var, lo);
                }
                let (v, _) = self.scalar(body, &first, Some(acc_class))?;
                self.emit(Stmt::Assign {
                    local: acc,
                    value: v,
                    span,
                });
            }
        }
        let mut inner = scope.clone();
        let mut vars = Vec::new();
        for h in loops {
            let lo = self.affine_size(&h.lo, &inner, h.span)?;
            let hi = self.affine_size(&h.hi, &inner, h.span)?;
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            inner.loops.insert(h.var, Affine::var(v));
            vars.push((v, lo, hi, h.step, h.span));
            self.push_block();
        }
        let (b, _) = self.scalar(body, &inner, Some(acc_class))?;
        let cur = self.inst.add_expr(Expr::Local(acc), span);
        let bop = match op {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max => BinOp::Max,
            ReduceOp::Min => BinOp::Min,
            ReduceOp::ArgMax | ReduceOp::ArgMin => unreachable!("arg reductions return early"),
        };
        let upd = self.inst.add_expr(Expr::Binary(bop, cur, b), span);
        self.emit(Stmt::Assign {
            local: acc,
            value: upd,
            span,
        });
        for (v, lo, hi, step, lspan) in vars.into_iter().rev() {
            let body = self.pop_block();
            self.emit(Stmt::For(Loop {
                var: v,
                lo,
                hi,
                step,
                body,
                directives: Default::default(),
                span: lspan,
            }));
        }
        Some((self.inst.add_expr(Expr::Local(acc), span), acc_class))
    }

    /// The class of a reduction body (lowered once into a scratch block and discarded).
    fn body_class(
        &mut self,
        body: &'h hir::Expr,
        loops: &'h [hir::LoopHeader],
        scope: &Scope<'h>,
        hint: Option<Class>,
    ) -> L<Class> {
        let mut probe = scope.clone();
        for h in loops {
            let v = self
                .inst
                .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
            probe.loops.insert(h.var, Affine::var(v));
        }
        let r = self.probe(&mut |lw| lw.scalar(body, &probe, hint));
        r.map(|(_, c)| c)
    }

    /// Lowers something into a scratch block only to learn about it (its class), then
    /// undoes everything it made: statements, expressions, locals (a reduction inside
    /// the probed expression makes an accumulator that nothing would ever assign), and
    /// the IR locals of HIR locals first read inside it, with their prologue loads.
    fn probe<T>(&mut self, f: &mut dyn FnMut(&mut Self) -> T) -> T {
        let (n_exprs, n_locals) = (self.inst.exprs.len(), self.inst.locals.len());
        let node = self.node.as_ref().expect("in a node");
        let (hir_locals, prologue) = (node.locals.clone(), node.blocks[0].len());
        self.push_block();
        let r = f(self);
        self.pop_block();
        self.inst.truncate_exprs(n_exprs);
        self.inst.locals.truncate(n_locals);
        let node = self.node.as_mut().expect("in a node");
        node.locals = hir_locals;
        node.local_class.retain(|l, _| l.index() < n_locals);
        // Prologue loads go to the front of the first block.
        let added = node.blocks[0].len() - prologue;
        node.blocks[0].drain(..added);
        r
    }

    /// A reduction over all elements of a shape, in row-major order.
    #[allow(clippy::type_complexity)]
    fn reduce_over(
        &mut self,
        op: ReduceOp,
        shape: &[usize],
        span: Span,
        hint: Option<Class>,
        elem: &mut dyn FnMut(&mut Self, &[Affine], Option<Class>) -> L<(ExprId, Class)>,
    ) -> L<(ExprId, Class)> {
        if op.is_arg() {
            return self.arg_reduce_over(op, shape, span, elem);
        }
        // Probe the class.
        let zeros: Vec<Affine> = shape.iter().map(|_| Affine::constant(0)).collect();
        let (_, class) = self.probe(&mut |lw| elem(lw, &zeros, hint))?;
        let acc = self.new_local(op.name(), None, class, span);
        match op {
            ReduceOp::Sum => {
                let zero = if class == Class::F32 {
                    Value::F32(0.0)
                } else {
                    Value::Num(Fx::zero())
                };
                let z = self.inst.add_expr(Expr::Const(zero), span);
                self.emit(Stmt::Assign {
                    local: acc,
                    value: z,
                    span,
                });
            }
            _ => {
                let (v, _) = elem(self, &zeros, Some(class))?;
                self.emit(Stmt::Assign {
                    local: acc,
                    value: v,
                    span,
                });
            }
        }
        let bop = match op {
            ReduceOp::Sum => BinOp::Add,
            ReduceOp::Max => BinOp::Max,
            ReduceOp::Min => BinOp::Min,
            ReduceOp::ArgMax | ReduceOp::ArgMin => unreachable!("arg reductions return early"),
        };
        self.loop_nest(shape, span, &mut |lw, idx| {
            let (v, _) = elem(lw, idx, Some(class))?;
            let cur = lw.inst.add_expr(Expr::Local(acc), span);
            let upd = lw.inst.add_expr(Expr::Binary(bop, cur, v), span);
            lw.emit(Stmt::Assign {
                local: acc,
                value: upd,
                span,
            });
            Some(())
        })?;
        Some((self.inst.add_expr(Expr::Local(acc), span), class))
    }
}

impl<'h> Lowerer<'_, '_, 'h> {
    /// E0511 when a reduction that starts from its first element (max, min, argmax,
    /// argmin) runs over a range known to be empty.
    fn nonempty(&mut self, op: ReduceOp, lo: &Affine, hi: &Affine, h: &hir::LoopHeader) -> L<()> {
        if trip_count_const(lo, hi, h.step).is_some_and(|n| n <= 0) {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` over an empty range", op.name()),
                )
                .at(h.span),
            );
            return None;
        }
        Some(())
    }

    /// Inside the loops of `argmax`/`argmin`: `cur = v; if cur > best (< for argmin):
    /// best = cur; at = position` (strictly, so the first extreme wins).
    #[allow(clippy::too_many_arguments)]
    fn arg_update(
        &mut self,
        op: ReduceOp,
        best: LocalId,
        cur: LocalId,
        at: LocalId,
        v: ExprId,
        pos: &Affine,
        span: Span,
    ) {
        self.emit(Stmt::Assign {
            local: cur,
            value: v,
            span,
        });
        let c = self.inst.add_expr(Expr::Local(cur), span);
        let b = self.inst.add_expr(Expr::Local(best), span);
        let cmp = if op == ReduceOp::ArgMax {
            BinOp::Gt
        } else {
            BinOp::Lt
        };
        let cond = self.inst.add_expr(Expr::Binary(cmp, c, b), span);
        self.push_block();
        let c2 = self.inst.add_expr(Expr::Local(cur), span);
        self.emit(Stmt::Assign {
            local: best,
            value: c2,
            span,
        });
        let p = self.affine_value(pos, span);
        self.emit(Stmt::Assign {
            local: at,
            value: p,
            span,
        });
        let then_block = self.pop_block();
        self.emit(Stmt::If {
            cond,
            then_block,
            else_block: Vec::new(),
        });
    }

    /// `argmax(e for i in range(...))`: the value of `i` where `e` is first largest.
    fn arg_reduce(
        &mut self,
        op: ReduceOp,
        loops: &'h [hir::LoopHeader],
        body: &'h hir::Expr,
        scope: &Scope<'h>,
        span: Span,
    ) -> L<(ExprId, Class)> {
        let [h] = loops else {
            unreachable!("the checker allows one loop variable")
        };
        let class = self.body_class(body, loops, scope, None)?;
        let lo = self.affine_size(&h.lo, scope, h.span)?;
        let hi = self.affine_size(&h.hi, scope, h.span)?;
        self.nonempty(op, &lo, &hi, h)?;
        let best = self.new_local(&format!("{}_best", op.name()), None, class, span);
        let cur = self.new_local(&format!("{}_cur", op.name()), None, class, span);
        let at = self.new_local(op.name(), None, Class::Exact, span);
        let mut first = scope.clone();
        first.loops.insert(h.var, lo.clone());
        let (v0, _) = self.scalar(body, &first, Some(class))?;
        self.emit(Stmt::Assign {
            local: best,
            value: v0,
            span,
        });
        let p0 = self.affine_value(&lo, span);
        self.emit(Stmt::Assign {
            local: at,
            value: p0,
            span,
        });
        let mut inner = scope.clone();
        let var = self
            .inst
            .add_loop_var(self.k.loop_vars[h.var].name.clone(), h.span);
        inner.loops.insert(h.var, Affine::var(var));
        self.push_block();
        let (v, _) = self.scalar(body, &inner, Some(class))?;
        self.arg_update(op, best, cur, at, v, &Affine::var(var), span);
        let body = self.pop_block();
        self.emit(Stmt::For(Loop {
            var,
            lo,
            hi,
            step: h.step,
            body,
            directives: Default::default(),
            span: h.span,
        }));
        Some((self.inst.add_expr(Expr::Local(at), span), Class::Exact))
    }

    /// `argmax(x)` of a tensor: the row-major flat index of its first largest element.
    #[allow(clippy::type_complexity)]
    fn arg_reduce_over(
        &mut self,
        op: ReduceOp,
        shape: &[usize],
        span: Span,
        elem: &mut dyn FnMut(&mut Self, &[Affine], Option<Class>) -> L<(ExprId, Class)>,
    ) -> L<(ExprId, Class)> {
        if shape.contains(&0) {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` of an empty tensor", op.name()),
                )
                .at(span),
            );
            return None;
        }
        let zeros: Vec<Affine> = shape.iter().map(|_| Affine::constant(0)).collect();
        let (_, class) = self.probe(&mut |lw| elem(lw, &zeros, None))?;
        let best = self.new_local(&format!("{}_best", op.name()), None, class, span);
        let cur = self.new_local(&format!("{}_cur", op.name()), None, class, span);
        let at = self.new_local(op.name(), None, Class::Exact, span);
        let (v0, _) = elem(self, &zeros, Some(class))?;
        self.emit(Stmt::Assign {
            local: best,
            value: v0,
            span,
        });
        let z = self.affine_value(&Affine::constant(0), span);
        self.emit(Stmt::Assign {
            local: at,
            value: z,
            span,
        });
        // Row-major strides.
        let mut strides = vec![1i64; shape.len()];
        for d in (0..shape.len().saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * shape[d + 1] as i64;
        }
        self.loop_nest(shape, span, &mut |lw, idx| {
            let (v, _) = elem(lw, idx, Some(class))?;
            let mut flat = Affine::constant(0);
            for (i, st) in idx.iter().zip(&strides) {
                flat = flat.add_scaled(i, *st);
            }
            lw.arg_update(op, best, cur, at, v, &flat, span);
            Some(())
        })?;
        Some((self.inst.add_expr(Expr::Local(at), span), Class::Exact))
    }
}

/// A dimension of a view's region: (dimension of the base tensor, length, step).
type RegionDim = (usize, usize, i64);

/// A dimension of a view: the base offset (for a slice, its start), plus the value of a
/// data-dependent index.
#[derive(Clone, Debug)]
struct ViewDim {
    offset: Affine,
    dynamic: Option<ExprId>,
}

/// The access to element `idx` of a view of tensor `t` (checked until the bounds pass
/// proves it).
fn view_access(t: TensorId, base: &[ViewDim], region: &[RegionDim], idx: &[Affine]) -> Access {
    let mut index: Vec<Affine> = base.iter().map(|b| b.offset.clone()).collect();
    for ((d, _, step), i) in region.iter().zip(idx) {
        index[*d] = index[*d].add_scaled(i, *step);
    }
    let mut access = Access::affine(t, index);
    if base.iter().any(|b| b.dynamic.is_some()) {
        access.dynamic = base.iter().map(|b| b.dynamic).collect();
    }
    access
}

fn trip_count_const(lo: &Affine, hi: &Affine, step: i64) -> Option<i64> {
    let (l, h) = (lo.as_constant()?, hi.as_constant()?);
    Some(if step > 0 {
        ((h - l) + step - 1).div_euclid(step).max(0)
    } else {
        ((l - h) + (-step) - 1).div_euclid(-step).max(0)
    })
}

/// For each top-level statement, the scalar locals read by any later statement.
fn later_reads(body: &[hir::Stmt]) -> Vec<HashSet<usize>> {
    let mut out = vec![HashSet::new(); body.len()];
    let mut acc: HashSet<usize> = HashSet::new();
    for i in (0..body.len()).rev() {
        out[i] = acc.clone();
        stmt_reads(&body[i], &mut acc);
    }
    out
}

fn stmt_reads(s: &hir::Stmt, out: &mut HashSet<usize>) {
    hir::visit_stmt_exprs(s, &mut |e| expr_reads(e, out));
    for b in hir::child_blocks(s) {
        b.iter().for_each(|st| stmt_reads(st, out));
    }
}

fn expr_reads(e: &hir::Expr, out: &mut HashSet<usize>) {
    if let HE::Local(l) = &e.kind {
        out.insert(*l);
    }
    hir::visit_subexprs(e, &mut |s| expr_reads(s, out));
}

/// Whether a block assigns local `l` anywhere.
fn block_assigns(b: &Block, l: LocalId) -> bool {
    let mut found = false;
    walk_stmts(b, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Assign { local, .. } = s {
            found |= *local == l;
        }
    });
    found
}

fn block_assigns_any(blocks: &[Block], l: LocalId) -> bool {
    blocks.iter().any(|b| block_assigns(b, l))
}

/// The value of an expression made of literals only: integers exactly, reals in binary64
/// (with whether the binary64 value is the exact value).
#[derive(Copy, Clone, Debug, PartialEq)]
enum Lit {
    Int(i128),
    Real(f64, bool),
}

fn fold_literal(e: &hir::Expr) -> Option<Lit> {
    use kiln_numeric::float::f64_to_fx;
    match &e.kind {
        HE::Int(v) => i128::try_from(*v).ok().map(Lit::Int),
        HE::Real(text) => real_literal(text).map(|(f, exact)| Lit::Real(f, exact)),
        HE::Unary(HUnaryOp::Neg, a) => match fold_literal(a)? {
            Lit::Int(v) => Some(Lit::Int(v.checked_neg()?)),
            Lit::Real(f, x) => Some(Lit::Real(-f, x)),
        },
        HE::Binary(op, a, b) => {
            let (x, y) = (fold_literal(a)?, fold_literal(b)?);
            match (x, y) {
                (Lit::Int(p), Lit::Int(q)) => Some(Lit::Int(match op {
                    AB::Add => p.checked_add(q)?,
                    AB::Sub => p.checked_sub(q)?,
                    AB::Mul => p.checked_mul(q)?,
                    AB::FloorDiv if q != 0 => Fx::int(p).div_floor(&Fx::int(q))?.to_i64()? as i128,
                    AB::Mod if q != 0 => {
                        p - q * (Fx::int(p).div_floor(&Fx::int(q))?.to_i64()? as i128)
                    }
                    AB::Shl if (0..64).contains(&q) => {
                        p.checked_mul(1i128.checked_shl(q as u32)?)?
                    }
                    AB::Shr if (0..127).contains(&q) => p >> q,
                    AB::BitAnd => p & q,
                    AB::BitOr => p | q,
                    AB::BitXor => p ^ q,
                    _ => return None,
                })),
                _ => {
                    let as_real = |l: Lit| match l {
                        Lit::Int(v) => (v as f64, (v as f64) as i128 == v),
                        Lit::Real(f, x) => (f, x),
                    };
                    let ((p, xp), (q, xq)) = (as_real(x), as_real(y));
                    let r = match op {
                        AB::Add => p + q,
                        AB::Sub => p - q,
                        AB::Mul => p * q,
                        AB::Div if q != 0.0 => p / q,
                        _ => return None,
                    };
                    // Exact when the binary64 result is the exact result of exact operands.
                    let exact = xp && xq && r.is_finite() && {
                        match (f64_to_fx(p), f64_to_fx(q), f64_to_fx(r)) {
                            (Some(fp), Some(fq), Some(fr)) => match op {
                                AB::Add => fp.add(&fq) == fr,
                                AB::Sub => fp.sub(&fq) == fr,
                                AB::Mul => fp.mul(&fq) == fr,
                                _ => fr.mul(&fq) == fp,
                            },
                            _ => false,
                        }
                    };
                    Some(Lit::Real(r, exact))
                }
            }
        }
        _ => None,
    }
}

/// The value a literal expression converts from when it is converted to `to`: its binary64
/// value (as C++ converts a double constant), or for f32 a single literal rounded from its
/// decimal text (like `0.1f`).
fn literal_source(e: &hir::Expr, lit: Lit, to: &ScalarType) -> Option<Value> {
    Some(match (lit, to) {
        (Lit::Real(f, _), ScalarType::F32) => match &e.kind {
            // A single literal rounds from its decimal text, like `0.1f`.
            HE::Real(text) => Value::F32(text.replace('_', "").parse::<f32>().ok()?),
            _ => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
        },
        (Lit::Real(f, _), _) => Value::Num(kiln_numeric::float::f64_to_fx(f)?),
        (Lit::Int(i), _) => Value::Num(Fx::int(i)),
    })
}
