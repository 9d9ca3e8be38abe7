//! The HIR: the checked program handed to lowering (passes/src/lower/).
//!
//! What the checker guarantees about a [`Program`]:
//! - every name is resolved: locals, parameters, loop variables, lambda parameters, size
//!   variables, globals and kernels are indices, never strings;
//! - sugar is gone: `a += b` is `a = a + b`, chained comparisons are `and`s, `grid(...)`
//!   loops are nests of single-variable loops, `+x` is `x`;
//! - every loop bound, slice length, tensor dimension and `const` argument is a
//!   [`SizeExpr`], and shapes agree symbolically wherever the checker could compare them;
//! - scalar locals are assigned before they are read, parameters and loop variables are
//!   never assigned (an output parameter's elements are written through its local,
//!   [`KParam::local`]), kernel calls stand in statements (never inside lambdas,
//!   generators, comprehensions or `while` conditions), and every kernel with declared
//!   results ends with exactly one `return`.
//!
//! What is left to instantiation (lowering): binding size and type variables to concrete
//! values, element-type checks that depend on type variables, and everything that needs
//! concrete numbers (bounds, widths).

use crate::ast::{BinOp, BoolOp, CmpOp, PrimType};
use crate::span::Span;
use crate::sym::SizeExpr;
use kiln_numeric::{Overflow, Quant, ScalarType};
use std::collections::HashMap;
use std::path::PathBuf;

pub type KernelId = usize;
pub type GlobalId = usize;

/// All kernels and module-level parameters reachable from the entry file.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub kernels: Vec<Kernel>,
    pub globals: Vec<Global>,
    /// Kernels defined in the entry file (not imported), in source order.
    pub entry_kernels: Vec<KernelId>,
    /// `schedule` items of every module, checked.
    pub schedules: Vec<Schedule>,
}

/// A `schedule KERNEL for TARGET:` item: primitives for one kernel on one target.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub kernel: KernelId,
    pub target: Target,
    pub prims: Vec<Prim>,
    pub span: Span,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Cpu,
    Fpga,
}

/// A schedule primitive. Loops are named by their variable (every loop of that name in
/// the kernel), arrays by their name (a parameter, a `param`, a local tensor).
#[derive(Clone, Debug, PartialEq)]
pub enum Prim {
    /// `pipeline(v, ii=1)`
    Pipeline { var: Named, ii: u32 },
    /// `unroll(v, 4)`, or `unroll(v)` for a complete unroll (factor 0).
    Unroll { var: Named, factor: u32 },
    /// `partition(x, dim=1, kind=cyclic, factor=4)` (dim from 1, as in HLS).
    Partition {
        array: Named,
        dim: usize,
        kind: PartitionSpec,
        factor: u32,
    },
    /// `parallel(v)`: iterations on several cores.
    Parallel { var: Named },
    /// `vectorize(v)`: iterations in SIMD lanes.
    Vectorize { var: Named },
    /// `split(v, 4)`: an outer loop over blocks of 4 iterations (`v_o`) around an inner
    /// loop over one block (`v_i`), plus a remainder loop; `outer=`/`inner=` rename them.
    Split {
        var: Named,
        factor: u32,
        outer: String,
        inner: String,
    },
    /// `tile(i, j, 8, 64)`: split both (factors that divide the trip counts) and order the
    /// loops `i_o, j_o, i_i, j_i`.
    Tile { vars: [Named; 2], factors: [u32; 2] },
    /// `reorder(j, i, k)`: the perfectly nested loops in this order, outermost first.
    Reorder { vars: Vec<Named>, span: Span },
    /// `fuse(i, j)`: a loop and the loop it holds alone, merged into one loop.
    Fuse { outer: Named, inner: Named },
    /// `stream(t, depth=16)`: the FIFO depth of the dataflow channel carrying tensor `t`.
    Stream { array: Named, depth: u32 },
    /// `buffer(x, at=v)`: each iteration of loop `v` (the whole kernel without `at`)
    /// first copies the box of `x` it reads into an on-chip array and reads that.
    Buffer { array: Named, at: Option<Named> },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum PartitionSpec {
    Cyclic,
    Block,
    Complete,
}

impl Prim {
    pub fn name(&self) -> &'static str {
        match self {
            Prim::Pipeline { .. } => "pipeline",
            Prim::Unroll { .. } => "unroll",
            Prim::Partition { .. } => "partition",
            Prim::Parallel { .. } => "parallel",
            Prim::Vectorize { .. } => "vectorize",
            Prim::Split { .. } => "split",
            Prim::Tile { .. } => "tile",
            Prim::Reorder { .. } => "reorder",
            Prim::Fuse { .. } => "fuse",
            Prim::Stream { .. } => "stream",
            Prim::Buffer { .. } => "buffer",
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Prim::Pipeline { var, .. }
            | Prim::Unroll { var, .. }
            | Prim::Parallel { var }
            | Prim::Vectorize { var }
            | Prim::Split { var, .. } => var.span,
            Prim::Partition { array, .. }
            | Prim::Stream { array, .. }
            | Prim::Buffer { array, .. } => array.span,
            Prim::Fuse { outer, inner } => outer.span.to(inner.span),
            Prim::Tile { vars, .. } => vars[0].span.to(vars[1].span),
            Prim::Reorder { span, .. } => *span,
        }
    }
}

impl Program {
    pub fn kernel_by_name(&self, name: &str) -> Option<KernelId> {
        self.entry_kernels
            .iter()
            .copied()
            .find(|&k| self.kernels[k].name == name)
    }
}

/// A name and where it was introduced.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: String,
    pub span: Span,
}

/// A module-level `param`.
#[derive(Clone, Debug, PartialEq)]
pub struct Global {
    pub name: String,
    pub elem: ScalarType,
    /// Empty for a scalar.
    pub shape: Vec<usize>,
    pub init: DataSource,
    pub span: Span,
}

/// Where the value of a parameter (or of a default argument) comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum DataSource {
    /// `load("path.npy")`, the path resolved against the script's directory.
    Load {
        path: PathBuf,
        written: String,
        span: Span,
    },
    /// A literal scalar.
    Literal(Literal, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    Int(i128),
    /// Source text of a real literal, e.g. `-0.125`.
    Real(String),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Kernel {
    pub name: String,
    /// Dotted module name (`stdlib.nn`, or the entry file's stem).
    pub module: String,
    pub name_span: Span,
    /// The `kernel name(...) -> ...` header.
    pub span: Span,
    pub type_vars: Vec<Named>,
    /// Size variables, each bound by its first bare occurrence in a parameter shape.
    pub size_vars: Vec<Named>,
    /// Shape variables (`*S`).
    pub shape_vars: Vec<Named>,
    pub params: Vec<KParam>,
    pub results: Vec<TypeRef>,
    /// A declared result's type did not resolve (reported): `results` lacks it, so the
    /// number of results is not checked against returns and calls.
    pub results_unresolved: bool,
    pub locals: Vec<Local>,
    pub loop_vars: Vec<Named>,
    pub lambda_params: Vec<Named>,
    pub body: Block,
    /// Span of the `return` statement.
    pub return_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct KParam {
    pub name: String,
    pub span: Span,
    pub kind: KParamKind,
    pub default: Option<ParamDefault>,
    /// An **output parameter**: the body writes elements of this tensor parameter (or passes
    /// it to a kernel that does), so its final contents are a result of the kernel, after
    /// the declared results (lang/src/out_params.rs).
    pub written: bool,
    /// Whether the body also reads it (then it is both an input and a result, and the
    /// elements it does not write keep their input values); an output parameter the body
    /// never reads starts unwritten and must be fully written, as a result must.
    pub read: bool,
    /// The local that stands for an output parameter in the body (set by the checker).
    pub local: Option<usize>,
    /// Its type did not resolve (reported): its kind is unknown, so indexing it is not
    /// reported as indexing a scalar (check/indexing.rs).
    pub unresolved: bool,
}

impl KParam {
    /// An output parameter that is not also an input: its argument's values are never read.
    pub fn output_only(&self) -> bool {
        self.written && !self.read
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum KParamKind {
    Value(TypeRef),
    /// A compile-time integer.
    Const,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamDefault {
    Data(DataSource),
    Const(SizeExpr),
}

/// A (possibly generic) type: element type plus shape (`None` for scalars).
#[derive(Clone, Debug, PartialEq)]
pub struct TypeRef {
    pub elem: ElemRef,
    pub shape: Option<Vec<Dim>>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ElemRef {
    Known(ScalarType),
    /// A type variable of the kernel.
    Var(usize),
    /// A builtin type whose parameters depend on size variables or `const` params.
    Template {
        prim: PrimType,
        args: Vec<TypeArg>,
        span: Span,
    },
    /// No element type written: inferred.
    Inferred,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeArg {
    Size(SizeExpr),
    Quant(Quant),
    Overflow(Overflow),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Dim {
    Size(SizeExpr),
    /// All dimensions bound to a shape variable.
    Rest(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    pub name: String,
    /// Where it is first declared or assigned.
    pub span: Span,
    /// `name: T` declarations; `None` for locals whose type is inferred.
    pub declared: Option<TypeRef>,
    pub is_tensor: bool,
}

pub type Block = Vec<Stmt>;

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// A loop header: `var` from `lo` (inclusive) to `hi` (exclusive) by `step` (non-zero).
/// The bounds may depend on sizes and on enclosing loop variables.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopHeader {
    pub var: usize,
    pub lo: SizeExpr,
    pub hi: SizeExpr,
    pub step: i64,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `name: T` (tensor, uninitialized or filled with `init`) or `name: T = init`.
    Decl {
        local: usize,
        init: Option<Expr>,
    },
    Assign {
        target: Place,
        value: Expr,
    },
    /// `a, b = kernel(...)`
    AssignTuple {
        targets: Vec<usize>,
        value: Expr,
    },
    For {
        header: LoopHeader,
        body: Block,
    },
    If {
        cond: Expr,
        then_block: Block,
        else_block: Block,
    },
    /// `while cond, max=N:`: at most `max` iterations; a run that would need more is a
    /// run-time error.
    While {
        cond: Expr,
        max: SizeExpr,
        max_span: Span,
        body: Block,
    },
    /// Leaves the innermost `for` / `while` (never a `grid` loop: the checker refuses).
    Break,
    /// Goes on with the next iteration of the innermost loop.
    Continue,
    Return(Vec<Expr>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Place {
    /// The whole local (a scalar, or a tensor replaced as a whole).
    Local(usize),
    /// Elements of a local tensor: all-index subscripts name one element, slices a region.
    Index { local: usize, subs: Vec<Sub> },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Sub {
    Index(Expr),
    /// `lo:hi:step`; missing bounds are the dimension's ends.
    Slice {
        lo: Option<SizeExpr>,
        hi: Option<SizeExpr>,
        step: i64,
        span: Span,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum HUnaryOp {
    Neg,
    BitNot,
    Not,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
    /// The position of the first largest value: a generator's loop variable, or a
    /// tensor's row-major flat index.
    ArgMax,
    /// The position of the first smallest value.
    ArgMin,
}

impl ReduceOp {
    pub fn name(self) -> &'static str {
        match self {
            ReduceOp::Sum => "sum",
            ReduceOp::Max => "max",
            ReduceOp::Min => "min",
            ReduceOp::ArgMax => "argmax",
            ReduceOp::ArgMin => "argmin",
        }
    }

    pub fn is_arg(self) -> bool {
        matches!(self, ReduceOp::ArgMax | ReduceOp::ArgMin)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum CallArg {
    Value(Expr),
    Const(SizeExpr),
    /// Not given: the parameter's default.
    Default,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(u128),
    /// A real literal, as written.
    Real(String),
    Bool(bool),
    Local(usize),
    Param(usize),
    Global(GlobalId),
    LoopVar(usize),
    LambdaParam(usize),
    /// A size variable, `const` parameter or module constant used as an integer value.
    Size(SizeExpr),
    Unary(HUnaryOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    Logic(BoolOp, Box<Expr>, Box<Expr>),
    /// `then if cond else otherwise`: only the chosen branch is evaluated.
    Select {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// Conversion to a declared type (elementwise on tensors).
    Cast {
        to: ElemRef,
        arg: Box<Expr>,
    },
    Index {
        base: Box<Expr>,
        subs: Vec<Sub>,
    },
    Call {
        kernel: KernelId,
        type_args: Vec<ElemRef>,
        args: Vec<CallArg>,
    },
    /// `min(a, b, ...)` / `max(a, b, ...)`, elementwise on tensors.
    MinMax {
        max: bool,
        args: Vec<Expr>,
    },
    Abs(Box<Expr>),
    /// `bits(x, hi, lo)`: bits `hi` down to `lo` of an integer (ap_int's `range(hi, lo)`),
    /// an unsigned value of `hi - lo + 1` bits; `hi - lo` is a constant.
    Bits {
        arg: Box<Expr>,
        hi: Box<Expr>,
        lo: Box<Expr>,
    },
    /// `exp(x)` and the other f32 math functions, elementwise.
    /// A math function: of an f32 value (one rounding), or of an exact value through a
    /// lookup table sampled as the spec says (`kiln_numeric::lut`; defaults when `None`).
    Math(
        kiln_numeric::MathFn,
        Box<Expr>,
        Option<kiln_numeric::LutSpec>,
    ),
    /// `sum(e for i, j in grid(...))`: `loops` outermost first.
    Reduce {
        op: ReduceOp,
        loops: Vec<LoopHeader>,
        body: Box<Expr>,
    },
    /// `sum(t)`, `max(t)`: over all elements in row-major order.
    ReduceAll {
        op: ReduceOp,
        arg: Box<Expr>,
    },
    Dot(Box<Expr>, Box<Expr>),
    /// `map(lambda a, b: body, A, B)`.
    Map {
        params: Vec<usize>,
        body: Box<Expr>,
        operands: Vec<Expr>,
    },
    /// `p[dy, dx]` inside a map lambda: the operand's element at constant offsets from
    /// the current one; with ranges (`p[-1:2, -1:2]`), the window of those elements, a
    /// tensor of one dimension per range. Offsets are in the operand's underlying tensor.
    Window {
        param: usize,
        subs: Vec<WindowSub>,
    },
    /// `[[1, 2], [3, 4]]`: a constant tensor of number literals (each element a literal
    /// expression, row-major), typed like literals by its context.
    List {
        shape: Vec<usize>,
        elems: Vec<Expr>,
    },
    /// `[e for i, j in grid(...)]`: a tensor whose dimensions are the trip counts.
    Comprehension {
        loops: Vec<LoopHeader>,
        elem: Box<Expr>,
    },
}

/// One coordinate of a `map` window (`ExprKind::Window`), relative to the current element
/// in the underlying tensor.
#[derive(Clone, Debug, PartialEq)]
pub enum WindowSub {
    /// `p[-1, ...]`: one offset.
    Offset(i64),
    /// `p[-1:2, ...]`: offsets `lo, lo + step, ...`, `len` of them (a window dimension).
    Range { lo: i64, len: i64, step: i64 },
}

impl WindowSub {
    /// Whether this coordinate is a range (a dimension of the window).
    pub fn is_range(&self) -> bool {
        matches!(self, WindowSub::Range { .. })
    }
}

/// Calls `f` on each direct subexpression of `e` (call arguments included).
pub fn visit_subexprs<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    match &e.kind {
        ExprKind::Int(_)
        | ExprKind::Real(_)
        | ExprKind::Bool(_)
        | ExprKind::Local(_)
        | ExprKind::Param(_)
        | ExprKind::Global(_)
        | ExprKind::LoopVar(_)
        | ExprKind::LambdaParam(_)
        | ExprKind::Size(_)
        | ExprKind::Window { .. } => {}
        ExprKind::Unary(_, a)
        | ExprKind::Cast { arg: a, .. }
        | ExprKind::Abs(a)
        | ExprKind::Math(_, a, _) => f(a),
        ExprKind::ReduceAll { arg, .. } => f(arg),
        ExprKind::Bits { arg, hi, lo } => {
            f(arg);
            f(hi);
            f(lo)
        }
        ExprKind::Binary(_, a, b)
        | ExprKind::Compare(_, a, b)
        | ExprKind::Logic(_, a, b)
        | ExprKind::Dot(a, b) => {
            f(a);
            f(b)
        }
        ExprKind::Select {
            cond,
            then,
            otherwise,
        } => {
            f(cond);
            f(then);
            f(otherwise)
        }
        ExprKind::Index { base, subs } => {
            f(base);
            for s in subs {
                if let Sub::Index(i) = s {
                    f(i)
                }
            }
        }
        ExprKind::Call { args, .. } => {
            for a in args {
                if let CallArg::Value(v) = a {
                    f(v)
                }
            }
        }
        ExprKind::MinMax { args, .. } => args.iter().for_each(f),
        ExprKind::Reduce { body, .. } => f(body),
        ExprKind::Map { body, operands, .. } => {
            f(body);
            operands.iter().for_each(f)
        }
        ExprKind::Comprehension { elem, .. } => f(elem),
        ExprKind::List { elems, .. } => elems.iter().for_each(f),
    }
}

/// The blocks nested directly in statement `s`.
pub fn child_blocks(s: &Stmt) -> Vec<&Block> {
    match &s.kind {
        StmtKind::For { body, .. } | StmtKind::While { body, .. } => vec![body],
        StmtKind::If {
            then_block,
            else_block,
            ..
        } => vec![then_block, else_block],
        _ => Vec::new(),
    }
}

/// Calls `f` on each expression that appears directly in statement `s` (not in nested
/// blocks).
pub fn visit_stmt_exprs<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Expr)) {
    match &s.kind {
        StmtKind::Decl { init, .. } => {
            if let Some(e) = init {
                f(e)
            }
        }
        StmtKind::Assign { target, value } => {
            if let Place::Index { subs, .. } = target {
                for sub in subs {
                    if let Sub::Index(i) = sub {
                        f(i)
                    }
                }
            }
            f(value)
        }
        StmtKind::AssignTuple { value, .. } => f(value),
        StmtKind::For { .. } | StmtKind::Break | StmtKind::Continue => {}
        StmtKind::If { cond, .. } | StmtKind::While { cond, .. } => f(cond),
        StmtKind::Return(vals) => vals.iter().for_each(f),
    }
}

/// Which locals a kernel body reads after each of its top-level statements, for
/// lowering's liveness (a scalar local assigned in one top-level statement is an output
/// of that statement's node only if a later one reads it).
///
/// Holds, per local, the index of the last top-level statement that reads it (reads in
/// nested blocks count for their top-level statement): memory linear in the body, where
/// a set of live locals per statement would be quadratic.
#[derive(Clone, Debug, Default)]
pub struct LaterReads {
    last: HashMap<usize, usize>,
}

/// The locals read after one top-level statement (see [`LaterReads::at`]).
#[derive(Copy, Clone, Debug)]
pub struct LiveAfter<'a> {
    reads: Option<&'a LaterReads>,
    stmt: usize,
}

impl LaterReads {
    /// The reads of `body`, a kernel's top-level statements.
    pub fn of(body: &[Stmt]) -> LaterReads {
        let mut last = HashMap::new();
        for (i, s) in body.iter().enumerate() {
            stmt_locals_read(s, &mut |l| {
                last.insert(l, i);
            });
        }
        LaterReads { last }
    }

    /// Whether a top-level statement after statement `stmt` reads local `local`.
    pub fn after(&self, stmt: usize, local: usize) -> bool {
        self.last.get(&local).is_some_and(|&j| j > stmt)
    }

    /// The locals read after statement `stmt`.
    pub fn at(&self, stmt: usize) -> LiveAfter<'_> {
        LiveAfter {
            reads: Some(self),
            stmt,
        }
    }
}

impl LiveAfter<'_> {
    /// No local read afterwards (for statements lowering makes up).
    pub fn nothing() -> LiveAfter<'static> {
        LiveAfter {
            reads: None,
            stmt: 0,
        }
    }

    /// Whether local `local` is read after the statement.
    pub fn contains(&self, local: &usize) -> bool {
        self.reads.is_some_and(|r| r.after(self.stmt, *local))
    }
}

/// Calls `f` with each local read (as a value) by `s` or the blocks nested in it.
fn stmt_locals_read(s: &Stmt, f: &mut dyn FnMut(usize)) {
    fn expr(e: &Expr, f: &mut dyn FnMut(usize)) {
        if let ExprKind::Local(l) = e.kind {
            f(l);
        }
        visit_subexprs(e, &mut |sub| expr(sub, f));
    }
    visit_stmt_exprs(s, &mut |e| expr(e, f));
    for b in child_blocks(s) {
        for st in b {
            stmt_locals_read(st, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> Span {
        Span::new(crate::span::FileId(0), 0, 0)
    }

    /// `local[l] = local[r]` (`r` read), as a statement.
    fn copy(l: usize, r: usize) -> Stmt {
        Stmt {
            kind: StmtKind::Assign {
                target: Place::Local(l),
                value: Expr {
                    kind: ExprKind::Local(r),
                    span: sp(),
                },
            },
            span: sp(),
        }
    }

    #[test]
    fn later_reads() {
        // 0: a1 = a0; 1: for: a2 = a1; 2: a3 = a0
        let body = vec![
            copy(1, 0),
            Stmt {
                kind: StmtKind::For {
                    header: LoopHeader {
                        var: 0,
                        lo: SizeExpr::Const(0),
                        hi: SizeExpr::Const(4),
                        step: 1,
                        span: sp(),
                    },
                    body: vec![copy(2, 1)],
                },
                span: sp(),
            },
            copy(3, 0),
        ];
        let r = LaterReads::of(&body);
        assert!(r.after(0, 0) && r.after(1, 0) && !r.after(2, 0));
        assert!(r.at(0).contains(&1) && !r.at(1).contains(&1));
        assert!(!r.at(0).contains(&2) && !r.at(0).contains(&3));
        assert!(!LiveAfter::nothing().contains(&0));
    }
}
