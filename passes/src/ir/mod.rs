//! The kiln dataflow IR: one definition, read this file to know what any IR means.
//!
//! # Structure
//! A [`Module`] is a set of kernel [`Instance`]s, one per (kernel, shapes, element types,
//! constant arguments) combination reached from the entry kernel, plus the constant
//! tensors ([`ConstData`]) that loaded parameters and literal defaults hold.
//!
//! An instance is a **dataflow graph** (petgraph `StableGraph`) whose nodes are
//! operations and whose edges are tensors:
//! - [`Node::Input`] produces the instance's i-th argument tensor;
//! - [`Node::Const`] produces a constant tensor (a loaded `param`);
//! - [`Node::Compute`] holds a loop nest ([`Block`]) that reads and writes tensors;
//! - [`Node::Call`] runs another instance on argument tensors, producing result tensors;
//! - [`Node::Output`] consumes the instance's i-th result.
//!
//! An edge `a → b` carries a [`TensorId`]: with [`EdgeKind::Data`], `b` reads what `a`
//! wrote; with [`EdgeKind::Order`], `b` overwrites what `a` reads or writes (an anti- or
//! output dependence), so `b` must run after `a`. Any topological order of the graph is a
//! valid execution order; [`Instance::schedule`] gives one (program order on ties).
//!
//! # Tensors
//! Every value that crosses a node boundary is a [`Tensor`]: an element type, a static
//! shape (`[]` for a scalar), a name and a role ([`TensorKind`]). A tensor is one buffer;
//! a node that updates part of a tensor lists it in both `reads` and `writes`.
//!
//! # Loop nests
//! Inside a compute node, statements ([`Stmt`]) run in order: counted loops with affine
//! bounds, `if`s, assignments to node-local scalars ([`Local`]) and stores to tensor
//! elements. Expressions ([`Expr`]) live in the instance's arena and are trees (each
//! [`ExprId`] has exactly one user). Tensor indices are affine in loop variables
//! ([`Affine`]), plus an integer expression for data-dependent indexing
//! ([`Access::dynamic`]: gathers and scatters such as `hist[x[i]] += 1`).
//!
//! # Types and semantics
//! Every expression has a [`ScalarType`] in the side table `expr_types` once type
//! inference has run (passes/src/infer_types/). The value semantics are those of
//! `kiln-numeric`:
//! - arithmetic on exact types is exact (`Add`, `Sub`, `Mul`, `Neg`, `Shl`, `Abs`,
//!   `Min`, `Max`); the expression's type is wide enough by construction;
//! - `Shr` and `FloorDiv` floor, `Mod` is the floor remainder, `Div` on exact types
//!   truncates toward zero to the result type's fractional bits (ap_fixed division);
//! - f32 operations round to nearest even, one operation at a time, never fused;
//! - `Cast` converts to its target type with the target's Q/O/N modes; `Assign` and
//!   `Store` convert the value to the local's or tensor's type in the same way;
//! - `Select`, `And` and `Or` evaluate only the operand they need.
//!
//! # Directives
//! A schedule may annotate loops ([`LoopDirectives`]: pipeline II, unroll factor) and
//! tensors ([`Partition`]: how an on-chip array is split into banks). They never change
//! what a program computes: CPU engines ignore them, the HLS back end writes them as
//! pragmas (and rejects unrolls whose accesses exceed an array's banks), and
//! `estimate/` costs them. The text form shows them in brackets:
//! `for k in 0..8: [pipeline II=1, unroll 4]`, `%3 w: int<3>[8] = const w [partition cyclic 4 dim 1]`,
//! `for j in 0..8: [flatten]` (merged with the loop around it), `[stream depth 16]` (the FIFO
//! of a dataflow channel), `[stream width 4]` (its word, below).
//!
//! **Stream words.** Between the stages of a network top an image `[C, H, W]` travels
//! pixel by pixel, channels innermost (ir/stage.rs). A channel with `stream_width` V > 1
//! carries words of V values: word `(h, w, g)` holds channels `g * V .. g * V + V` of
//! pixel `(h, w)`, so a stage moves V values a cycle (and the FIFO's depth counts words).
//! Typing rule (verify.rs): V is a power of two that divides C, the tensor is an image
//! (rank 3) and a FIFO between two calls of the top ([`Instance::dataflow_streams`]), and
//! the port of the callee that writes it and of the callee that reads it have the same
//! width; every other tensor, and every port of a callee bound to something that is not
//! such a channel, has width 1. The width never changes what a program computes.
//!
//! Run-time errors (reported by every engine, never undefined): an index out of bounds
//! that was not proven in bounds ([`Access::checked`]), division by zero, a read of a
//! tensor element that was never written (interpreter only; see docs/language.md).

pub mod banking;
pub mod data;
pub mod overflow;
pub mod print;
pub mod run_error;
pub mod stage;
pub mod value;
pub mod verify;

use crate::data::ConstData;
/// A constant scalar (`Expr::Const`); defined with the conversions in value.rs.
pub use crate::value::Value;
use kiln_lang::Span;
pub use kiln_numeric::MathFn;
use kiln_numeric::{Fx, Interval, ScalarType};
use petgraph::stable_graph::{NodeIndex, StableGraph};
use std::fmt;

macro_rules! handle {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

handle!(
    /// A kernel instance of a [`Module`].
    InstanceId
);
handle!(
    /// A tensor of an [`Instance`].
    TensorId
);
handle!(
    /// A node-local scalar of an [`Instance`].
    LocalId
);
handle!(
    /// A loop variable of an [`Instance`].
    LoopVarId
);
handle!(
    /// An expression in an [`Instance`]'s arena.
    ExprId
);
handle!(
    /// A constant tensor of a [`Module`].
    ConstId
);

/// A graph node handle (petgraph's index, kept stable across removals).
pub type NodeId = NodeIndex<u32>;

#[derive(Clone, Debug, Default)]
pub struct Module {
    pub instances: Vec<Instance>,
    /// The instance `kiln run` executes.
    pub entry: Option<InstanceId>,
    pub consts: Vec<ConstData>,
    /// The program's `schedule` items, in the order written, for the `schedule` pass of
    /// the pipeline whose target they name (passes/src/transform/schedule.rs). The automatic
    /// schedules leave the kernels they name alone. Engines and back ends never read
    /// them: what a schedule does is in the loops and tensors once the pass has run.
    pub schedules: Vec<KernelSchedule>,
}

/// One `schedule KERNEL for TARGET:` item, checked by the front end: its primitives
/// name loops and tensors of every instance of `kernel`.
#[derive(Clone, Debug)]
pub struct KernelSchedule {
    pub kernel: String,
    pub target: kiln_lang::hir::Target,
    pub prims: Vec<kiln_lang::hir::Prim>,
    pub span: Span,
}

impl Module {
    pub fn instance(&self, id: InstanceId) -> &Instance {
        &self.instances[id.index()]
    }

    pub fn instance_mut(&mut self, id: InstanceId) -> &mut Instance {
        &mut self.instances[id.index()]
    }

    pub fn entry_instance(&self) -> Option<&Instance> {
        self.entry.map(|e| self.instance(e))
    }

    /// Sets the stream word of the channel `t` of the network top `top` to `width`
    /// values, on the channel and on the ports of the calls that write and read it (see
    /// "Stream words" in the module doc).
    pub fn set_stream_width(&mut self, top: InstanceId, t: TensorId, width: u32) {
        let mut ports: Vec<(InstanceId, TensorId)> = Vec::new();
        for n in self.instance(top).graph.node_weights() {
            if let Node::Call(c) = n {
                let callee = self.instance(c.callee);
                for (a, p) in c.args.iter().zip(&callee.inputs) {
                    if *a == t {
                        ports.push((c.callee, *p));
                    }
                }
                for (r, p) in c.results.iter().zip(&callee.outputs) {
                    if *r == t {
                        ports.push((c.callee, *p));
                    }
                }
            }
        }
        self.instance_mut(top).tensor_mut(t).stream_width = width;
        for (i, p) in ports {
            self.instance_mut(i).tensor_mut(p).stream_width = width;
        }
    }
}

/// Why a value has the type it has (for `kiln types`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeReason {
    /// Written in the source.
    Declared,
    /// Computed from the operand types by exact bit growth.
    BitGrowth,
    /// Narrowed by range analysis (constant values, loop bounds, actual parameter data).
    Range(String),
    /// An accumulator: `terms` additions between resets (exact: nested loops can run
    /// more than 2^64 times).
    Accumulation { terms: kiln_numeric::Int },
    /// Not inferred yet.
    Pending,
}

impl fmt::Display for TypeReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeReason::Declared => write!(f, "declared"),
            TypeReason::BitGrowth => write!(f, "bit growth"),
            TypeReason::Range(why) => write!(f, "range: {why}"),
            TypeReason::Accumulation { terms } => write!(f, "accumulation of {terms} terms"),
            TypeReason::Pending => write!(f, "not inferred"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// The instance's i-th value argument.
    Input(usize),
    /// Constant data, shared by the module.
    Const(ConstId),
    /// Produced by a node of this instance (temporaries, locals, results).
    Temp,
}

#[derive(Clone, Debug)]
pub struct Tensor {
    pub name: String,
    pub elem: ScalarType,
    /// Row-major; empty for a scalar.
    pub shape: Vec<usize>,
    pub kind: TensorKind,
    /// Whether `elem` came from the source (otherwise type inference chose it).
    pub declared: bool,
    pub reason: TypeReason,
    /// The range of values ever stored (exact types), once inferred.
    pub range: Option<Interval>,
    /// How a hardware implementation splits the tensor into banks (set by a schedule;
    /// none by default; CPU engines ignore it).
    pub partition: Vec<Partition>,
    /// The depth of the FIFO that carries this tensor between two dataflow stages (set by
    /// `stream`; by default the HLS back end makes it hold the whole tensor).
    pub stream_depth: Option<u32>,
    /// The word of the stream that carries this tensor between dataflow stages: `V`
    /// elements, the channels `c .. c + V` of one pixel of an image `[C, H, W]` (1: one
    /// element per word, the default). Set on a network top's channel and on the ports of
    /// the two stages it links (see "Stream words" in the module doc).
    pub stream_width: u32,
    /// Source locals bound to this tensor without a copy (`c1 = conv(x)` binds `c1` to
    /// the call's result): schedules may name the tensor by them.
    pub bound_to: Vec<String>,
    pub span: Span,
}

/// How one dimension of a tensor is split into memory banks (`ARRAY_PARTITION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The dimension, from 0.
    pub dim: usize,
    pub kind: PartitionKind,
    /// Number of banks (cyclic, block); ignored for complete.
    pub factor: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionKind {
    /// Element `i` in bank `i mod factor`.
    Cyclic,
    /// Element `i` in bank `i / ceil(n / factor)`.
    Block,
    /// Every element its own register.
    Complete,
}

/// How a loop is implemented in hardware (set by a schedule; none by default; CPU
/// engines ignore it, the HLS back end writes it as pragmas).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopDirectives {
    /// Pipelined with this initiation interval (`PIPELINE II=n`).
    pub pipeline_ii: Option<u32>,
    /// Unrolled by this factor (`UNROLL factor=n`), or completely for 0 (`UNROLL`).
    pub unroll: Option<u32>,
    /// Merged with the loop around it into one loop (`LOOP_FLATTEN`; set on the inner loop
    /// of a perfect pair by `fuse`).
    pub flatten: bool,
}

impl Tensor {
    /// Whether a schedule's `name` designates this tensor.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name || self.bound_to.iter().any(|n| n == name)
    }

    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Debug)]
pub enum Node {
    Input { tensor: TensorId, param: usize },
    Const { tensor: TensorId },
    Compute(Compute),
    Call(Call),
    Output { tensor: TensorId, index: usize },
}

#[derive(Clone, Debug)]
pub struct Compute {
    /// A short name for printing and for HLS labels (`conv_loop`, `y_assign`).
    pub name: String,
    pub body: Block,
    /// Tensors read (including those partially updated).
    pub reads: Vec<TensorId>,
    /// Tensors written.
    pub writes: Vec<TensorId>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub callee: InstanceId,
    pub args: Vec<TensorId>,
    pub results: Vec<TensorId>,
    pub span: Span,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EdgeKind {
    Data,
    Order,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub tensor: TensorId,
    pub kind: EdgeKind,
}

/// A node-local scalar variable.
#[derive(Clone, Debug)]
pub struct Local {
    pub name: String,
    /// Declared or inferred; `Pending` until inference.
    pub ty: ScalarType,
    pub declared: bool,
    pub reason: TypeReason,
    pub range: Option<Interval>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct LoopVar {
    pub name: String,
    pub span: Span,
}

/// `sum(coeff * var) + constant`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Affine {
    pub terms: Vec<(LoopVarId, i64)>,
    pub constant: i64,
}

impl Affine {
    /// The values this form takes over the ranges of its loop variables (`ranges[v]`:
    /// the inclusive interval of variable `v`, by `LoopVarId` index); `None` when one of
    /// them has no range, or on overflow.
    pub fn range(&self, ranges: &[Option<(i64, i64)>]) -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (self.constant, self.constant);
        for &(v, c) in &self.terms {
            let (vl, vh) = ranges.get(v.index()).copied().flatten()?;
            let (p, q) = (vl.checked_mul(c)?, vh.checked_mul(c)?);
            lo = lo.checked_add(p.min(q))?;
            hi = hi.checked_add(p.max(q))?;
        }
        Some((lo, hi))
    }

    pub fn constant(c: i64) -> Affine {
        Affine {
            terms: Vec::new(),
            constant: c,
        }
    }

    pub fn var(v: LoopVarId) -> Affine {
        Affine {
            terms: vec![(v, 1)],
            constant: 0,
        }
    }

    pub fn as_constant(&self) -> Option<i64> {
        self.terms.is_empty().then_some(self.constant)
    }

    pub fn coeff(&self, v: LoopVarId) -> i64 {
        self.terms
            .iter()
            .filter(|(w, _)| *w == v)
            .map(|(_, c)| c)
            .sum()
    }

    /// Adds `k * other`, keeping terms merged, sorted and non-zero.
    pub fn add_scaled(&self, other: &Affine, k: i64) -> Affine {
        let mut terms = self.terms.clone();
        for &(v, c) in &other.terms {
            match terms.iter_mut().find(|(w, _)| *w == v) {
                Some(t) => t.1 += c * k,
                None => terms.push((v, c * k)),
            }
        }
        terms.retain(|(_, c)| *c != 0);
        terms.sort();
        Affine {
            terms,
            constant: self.constant + other.constant * k,
        }
    }

    pub fn scale(&self, k: i64) -> Affine {
        Affine::default().add_scaled(self, k)
    }

    /// [`Affine::add_scaled`], or `None` when a coefficient or the constant leaves the
    /// range of `i64` (lowering then treats the index as data-dependent, where type
    /// inference enforces the range of `int<64>`).
    pub fn checked_add_scaled(&self, other: &Affine, k: i64) -> Option<Affine> {
        let mut terms = self.terms.clone();
        for &(v, c) in &other.terms {
            let ck = c.checked_mul(k)?;
            match terms.iter_mut().find(|(w, _)| *w == v) {
                Some(t) => t.1 = t.1.checked_add(ck)?,
                None => terms.push((v, ck)),
            }
        }
        terms.retain(|(_, c)| *c != 0);
        terms.sort();
        Some(Affine {
            terms,
            constant: self.constant.checked_add(other.constant.checked_mul(k)?)?,
        })
    }

    /// [`Affine::scale`], or `None` on overflow.
    pub fn checked_scale(&self, k: i64) -> Option<Affine> {
        Affine::default().checked_add_scaled(self, k)
    }

    pub fn eval(&self, value_of: impl Fn(LoopVarId) -> i64) -> i64 {
        self.constant
            + self
                .terms
                .iter()
                .map(|&(v, c)| c * value_of(v))
                .sum::<i64>()
    }
}

/// A tensor element access: one index per dimension, each an affine form of the loop
/// variables plus, for data-dependent indexing (`hist[x[i]]`), an integer expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Access {
    pub tensor: TensorId,
    pub index: Vec<Affine>,
    /// Data-dependent parts of the indices: empty when every index is affine; otherwise
    /// one entry per dimension, and the index in dimension `d` is `index[d]` plus the
    /// value of `dynamic[d]` (an expression of an integer type of at most 64 bits, owned
    /// by this access like any operand). Engines evaluate these expressions before the
    /// access (a store: after its value). The bounds pass proves such an index from the
    /// expression's inferred range, or leaves the access `checked`.
    pub dynamic: Vec<Option<ExprId>>,
    /// Whether engines must check the bounds at run time (set by the `bounds` pass when
    /// it cannot prove the access in bounds; `true` until then).
    pub checked: bool,
    /// Proven in bounds only under the condition of an enclosing conditional expression
    /// (`x[i - 1] if i > 0 else 0`, the right side of `and`/`or`): engines must not
    /// evaluate it before that condition holds (set by the `bounds` pass).
    pub guarded: bool,
}

impl Access {
    /// An access with affine indices only, checked until the bounds pass proves it.
    pub fn affine(tensor: TensorId, index: Vec<Affine>) -> Access {
        Access {
            tensor,
            index,
            dynamic: Vec::new(),
            checked: true,
            guarded: false,
        }
    }

    /// Whether every index is affine in the loop variables (no data-dependent part).
    pub fn is_affine(&self) -> bool {
        self.dynamic.iter().all(Option::is_none)
    }

    /// The data-dependent part of the index in dimension `d`.
    pub fn dynamic_at(&self, d: usize) -> Option<ExprId> {
        self.dynamic.get(d).copied().flatten()
    }

    /// The expressions of the data-dependent indices, in dimension order.
    pub fn dynamic_exprs(&self) -> impl Iterator<Item = ExprId> + '_ {
        self.dynamic.iter().filter_map(|d| *d)
    }
}

#[derive(Clone, Debug)]
pub struct Loop {
    pub var: LoopVarId,
    /// First value (inclusive).
    pub lo: Affine,
    /// Bound (exclusive for a positive step, inclusive-exclusive the other way round: the
    /// loop runs while `var < hi` for `step > 0` and while `var > hi` for `step < 0`).
    pub hi: Affine,
    pub step: i64,
    pub body: Block,
    pub directives: LoopDirectives,
    pub span: Span,
}

pub type Block = Vec<Stmt>;

#[derive(Clone, Debug)]
pub enum Stmt {
    For(Loop),
    If {
        cond: ExprId,
        then_block: Block,
        else_block: Block,
    },
    /// `local = convert(value)`.
    Assign {
        local: LocalId,
        value: ExprId,
        span: Span,
    },
    /// `tensor[index] = convert(value)`.
    Store {
        access: Access,
        value: ExprId,
        span: Span,
    },
    /// Runs another instance on the current contents of `args` (in the callee's input
    /// order) and replaces every element of each tensor of `results` (the callee's
    /// outputs, in order) with its result: a kernel call inside a loop or a branch. The
    /// node lists `args` among its reads and `results` among its writes. Passes treat it
    /// as opaque: loops holding one are never transformed, pipelined, vectorized or split
    /// across threads; the HLS code calls the callee's function there.
    Call(Call),
    /// Stops the run with a run-time error (E0705: a `while` loop that needs more
    /// iterations than its declared maximum). The HLS code cannot stop: C-simulation's
    /// expected results come from kiln's own run, which reports it.
    Fail {
        message: String,
        span: Span,
    },
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    /// Bitwise complement of an integer.
    BitNot,
    /// Logical not of a bool.
    Not,
    Abs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// f32 division, or ap_fixed division (truncated toward zero to the result's LSB).
    Div,
    FloorDiv,
    Mod,
    /// Exact multiplication by `2^rhs` (`rhs` a non-negative integer).
    Shl,
    /// Floor of division by `2^rhs` at the left operand's LSB.
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    Min,
    Max,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// Lazy: the right operand is evaluated only when the left is true.
    And,
    /// Lazy: the right operand is evaluated only when the left is false.
    Or,
    /// `x ** y` of two floats of one type: the C library's `pow` in double precision
    /// (rounded once to f32 for f32; `kiln_numeric::math`). Exact powers and constant
    /// integer exponents are multiplications by the time they reach the IR.
    Pow,
}

impl BinOp {
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Min => "min",
            BinOp::Max => "max",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
            BinOp::Pow => "**",
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Const(Value),
    Local(LocalId),
    /// The current value of a loop variable (an integer).
    LoopVar(LoopVarId),
    Load(Access),
    Unary(UnOp, ExprId),
    Binary(BinOp, ExprId, ExprId),
    /// `then if cond else otherwise`, evaluating only the chosen branch.
    Select {
        cond: ExprId,
        then: ExprId,
        otherwise: ExprId,
    },
    /// Conversion to `to`, with its quantization and overflow modes.
    Cast {
        to: ScalarType,
        arg: ExprId,
    },
    /// An f32 math function of an f32 value (`kiln_numeric::math`: computed in double
    /// precision by the C library and rounded once).
    Math {
        f: MathFn,
        arg: ExprId,
    },
}

/// One kernel, instantiated: see the module documentation.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Unique within the module (`conv2d`, `conv2d_1`, ...).
    pub name: String,
    /// The source kernel.
    pub kernel: String,
    /// The bindings that made this instance, e.g. `C=1, H=28, T=fixed<8, 4>`.
    pub bindings: String,
    pub span: Span,
    pub graph: StableGraph<Node, Edge>,
    pub tensors: Vec<Tensor>,
    pub inputs: Vec<TensorId>,
    pub outputs: Vec<TensorId>,
    pub locals: Vec<Local>,
    pub loop_vars: Vec<LoopVar>,
    pub exprs: Vec<Expr>,
    /// Side table: the type of each expression (after inference).
    pub expr_types: Vec<Option<ScalarType>>,
    /// Side table: the value range of each exact expression (after inference).
    pub expr_ranges: Vec<Option<Interval>>,
    /// Side table: where each expression comes from.
    pub expr_spans: Vec<Span>,
    /// How a network top's call of this instance is built in hardware (row by row, or on
    /// whole frames): set by the `stream` pass of the fpga pipeline (stage.rs), `None`
    /// before it and for instances no network calls.
    pub stage: Option<stage::StagePlan>,
    /// Parameters that carry constant data from DDR (param index, the constant): weights
    /// the allocation left off chip (transform/allocate/ddr.rs) become arguments of the
    /// network top, passed to the stage that reads them; both list them. The back ends'
    /// test benches pass the constant's values to the top's; the estimate reads the
    /// stage's in wide m_axi words. Empty for every other instance.
    pub ddr_weights: Vec<(usize, ConstId)>,
}

impl Instance {
    pub fn new(name: String, kernel: String, bindings: String, span: Span) -> Instance {
        Instance {
            name,
            kernel,
            bindings,
            span,
            graph: StableGraph::new(),
            tensors: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            locals: Vec::new(),
            loop_vars: Vec::new(),
            exprs: Vec::new(),
            expr_types: Vec::new(),
            expr_ranges: Vec::new(),
            expr_spans: Vec::new(),
            stage: None,
            ddr_weights: Vec::new(),
        }
    }

    pub fn tensor(&self, t: TensorId) -> &Tensor {
        &self.tensors[t.index()]
    }

    pub fn tensor_mut(&mut self, t: TensorId) -> &mut Tensor {
        &mut self.tensors[t.index()]
    }

    pub fn add_tensor(&mut self, t: Tensor) -> TensorId {
        self.tensors.push(t);
        TensorId(self.tensors.len() as u32 - 1)
    }

    pub fn expr(&self, e: ExprId) -> &Expr {
        &self.exprs[e.index()]
    }

    pub fn add_expr(&mut self, e: Expr, span: Span) -> ExprId {
        self.exprs.push(e);
        self.expr_types.push(None);
        self.expr_ranges.push(None);
        self.expr_spans.push(span);
        ExprId(self.exprs.len() as u32 - 1)
    }

    /// Drops the expressions from `len` on (and their side-table entries): for
    /// lowering, which builds some expressions only to inspect them.
    pub fn truncate_exprs(&mut self, len: usize) {
        self.exprs.truncate(len);
        self.expr_types.truncate(len);
        self.expr_ranges.truncate(len);
        self.expr_spans.truncate(len);
    }

    /// For a top that is a network of kernel calls (nothing but calls between its inputs and
    /// results), the tensors that pass from one call to exactly one later call: they become
    /// `hls::stream`s between dataflow stages. Empty when the top is not such a network.
    pub fn dataflow_streams(&self) -> std::collections::HashSet<TensorId> {
        let mut calls = 0;
        for n in self.graph.node_weights() {
            match n {
                Node::Call(_) => calls += 1,
                // Scalar arguments computed from constants may sit between the calls.
                Node::Compute(c)
                    if c.reads.is_empty()
                        && c.writes.iter().all(|&t| self.tensor(t).shape.is_empty()) => {}
                Node::Compute(_) => return std::collections::HashSet::new(),
                _ => {}
            }
        }
        if calls < 2 {
            return std::collections::HashSet::new();
        }
        let mut out = std::collections::HashSet::new();
        for (i, tm) in self.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            if !matches!(tm.kind, TensorKind::Temp)
                || tm.shape.is_empty()
                || self.outputs.contains(&t)
            {
                continue;
            }
            let (mut made, mut used) = (0, 0);
            for n in self.graph.node_weights() {
                if let Node::Call(c) = n {
                    made += c.results.iter().filter(|&&r| r == t).count();
                    used += c.args.iter().filter(|&&a| a == t).count();
                }
            }
            if made == 1 && used == 1 {
                out.insert(t);
            }
        }
        out
    }

    /// Why a top that calls two or more kernels is not a network of dataflow stages: the
    /// first node of its own that is not a call (nor a scalar computed from constants).
    /// `None` when it is one, or calls fewer than two kernels.
    pub fn dataflow_blocker(&self) -> Option<String> {
        let calls = self
            .graph
            .node_weights()
            .filter(|n| matches!(n, Node::Call(_)))
            .count();
        if calls < 2 {
            return None;
        }
        let blocking: Vec<&Compute> = self
            .schedule()
            .into_iter()
            .filter_map(|n| match &self.graph[n] {
                Node::Compute(c)
                    if !(c.reads.is_empty()
                        && c.writes.iter().all(|&t| self.tensor(t).shape.is_empty())) =>
                {
                    Some(c)
                }
                _ => None,
            })
            .collect();
        // A node that updates a tensor in place first: the one pass `outline` leaves.
        let c = blocking
            .iter()
            .find(|c| c.reads.iter().any(|t| c.writes.contains(t)))
            .or(blocking.first())?;
        Some(format!(
            "node `{}` of `{}` computes between the kernel calls (only calls can be dataflow stages)",
            c.name, self.name
        ))
    }

    /// Calls `f` on `e` and every expression under it (pre-order).
    pub fn for_each_subexpr(&self, e: ExprId, f: &mut dyn FnMut(&Expr)) {
        self.for_each_subexpr_id(e, &mut |_, x| f(x));
    }

    /// [`Instance::for_each_subexpr`] with each expression's id.
    pub fn for_each_subexpr_id(&self, e: ExprId, f: &mut dyn FnMut(ExprId, &Expr)) {
        let x = self.expr(e);
        f(e, x);
        match x {
            Expr::Unary(_, a) | Expr::Cast { arg: a, .. } | Expr::Math { arg: a, .. } => {
                self.for_each_subexpr_id(*a, f)
            }
            Expr::Binary(_, a, b) => {
                self.for_each_subexpr_id(*a, f);
                self.for_each_subexpr_id(*b, f);
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                self.for_each_subexpr_id(*cond, f);
                self.for_each_subexpr_id(*then, f);
                self.for_each_subexpr_id(*otherwise, f);
            }
            Expr::Load(a) => {
                for d in a.dynamic_exprs() {
                    self.for_each_subexpr_id(d, f);
                }
            }
            Expr::Const(_) | Expr::Local(_) | Expr::LoopVar(_) => {}
        }
    }

    /// The tensor reads in `e`.
    pub fn loads_in(&self, e: ExprId, out: &mut Vec<Access>) {
        self.for_each_subexpr(e, &mut |x| {
            if let Expr::Load(a) = x {
                out.push(a.clone());
            }
        });
    }

    pub fn expr_type(&self, e: ExprId) -> Option<&ScalarType> {
        self.expr_types[e.index()].as_ref()
    }

    pub fn local(&self, l: LocalId) -> &Local {
        &self.locals[l.index()]
    }

    pub fn add_local(&mut self, l: Local) -> LocalId {
        self.locals.push(l);
        LocalId(self.locals.len() as u32 - 1)
    }

    pub fn add_loop_var(&mut self, name: String, span: Span) -> LoopVarId {
        self.loop_vars.push(LoopVar { name, span });
        LoopVarId(self.loop_vars.len() as u32 - 1)
    }

    /// Nodes in an order that respects every edge; ties go by creation order (which is
    /// program order).
    pub fn schedule(&self) -> Vec<NodeId> {
        let mut indeg: std::collections::HashMap<NodeId, usize> = self
            .graph
            .node_indices()
            .map(|n| {
                (
                    n,
                    self.graph
                        .neighbors_directed(n, petgraph::Direction::Incoming)
                        .count(),
                )
            })
            .collect();
        let mut ready: std::collections::BTreeSet<NodeId> = indeg
            .iter()
            .filter(|(_, &d)| d == 0)
            .map(|(&n, _)| n)
            .collect();
        let mut out = Vec::new();
        while let Some(&n) = ready.iter().next() {
            ready.remove(&n);
            out.push(n);
            for m in self
                .graph
                .neighbors_directed(n, petgraph::Direction::Outgoing)
            {
                let d = indeg.get_mut(&m).expect("node in graph");
                *d -= 1;
                if *d == 0 {
                    ready.insert(m);
                }
            }
        }
        out
    }

    /// The instances this one calls: by call nodes and by calls inside compute nodes, in
    /// schedule order (repeats left in).
    pub fn callees(&self) -> Vec<InstanceId> {
        let mut out = Vec::new();
        for n in self.schedule() {
            match &self.graph[n] {
                Node::Call(c) => out.push(c.callee),
                Node::Compute(c) => walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
                    if let Stmt::Call(call) = s {
                        out.push(call.callee);
                    }
                }),
                _ => {}
            }
        }
        out
    }

    /// Every compute node, in schedule order.
    pub fn computes(&self) -> Vec<(NodeId, &Compute)> {
        self.schedule()
            .into_iter()
            .filter_map(|n| match &self.graph[n] {
                Node::Compute(c) => Some((n, c)),
                _ => None,
            })
            .collect()
    }
}

/// Whether values of type `t` can be a data-dependent index ([`Access::dynamic`]):
/// integers that fit an `i64`.
pub fn is_index_type(t: &ScalarType) -> bool {
    t.frac_bits().is_some_and(|f| f <= 0)
        && t.value_bounds().is_some_and(|(lo, hi)| {
            lo >= Fx::int(i64::MIN as i128) && hi <= Fx::int(i64::MAX as i128)
        })
}

/// Calls `f` on each direct operand of `e`.
pub fn expr_operands(e: &Expr) -> Vec<ExprId> {
    match e {
        Expr::Const(_) | Expr::Local(_) | Expr::LoopVar(_) => Vec::new(),
        Expr::Load(a) => a.dynamic_exprs().collect(),
        Expr::Unary(_, a) | Expr::Cast { arg: a, .. } | Expr::Math { arg: a, .. } => vec![*a],
        Expr::Binary(_, a, b) => vec![*a, *b],
        Expr::Select {
            cond,
            then,
            otherwise,
        } => vec![*cond, *then, *otherwise],
    }
}

/// Visits every statement of a block, depth first, with the enclosing loops.
pub fn walk_stmts<'a>(
    block: &'a [Stmt],
    loops: &mut Vec<&'a Loop>,
    f: &mut dyn FnMut(&'a Stmt, &[&'a Loop]),
) {
    for s in block {
        f(s, loops);
        match s {
            Stmt::For(l) => {
                loops.push(l);
                walk_stmts(&l.body, loops, f);
                loops.pop();
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                walk_stmts(then_block, loops, f);
                walk_stmts(else_block, loops, f);
            }
            Stmt::Assign { .. } | Stmt::Store { .. } | Stmt::Fail { .. } | Stmt::Call(_) => {}
        }
    }
}

/// Whether a block holds a kernel call ([`Stmt::Call`]) anywhere.
pub fn has_call(block: &Block) -> bool {
    let mut found = false;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        found |= matches!(s, Stmt::Call(_));
    });
    found
}

/// The root expressions directly used by a statement (not by nested blocks).
pub fn stmt_roots(s: &Stmt) -> Vec<ExprId> {
    match s {
        Stmt::For(_) | Stmt::Fail { .. } | Stmt::Call(_) => Vec::new(),
        Stmt::If { cond, .. } => vec![*cond],
        Stmt::Assign { value, .. } => vec![*value],
        Stmt::Store { access, value, .. } => {
            let mut roots = vec![*value];
            roots.extend(access.dynamic_exprs());
            roots
        }
    }
}

/// The loads of tensor `t` in `block` (their expression ids), in statement order.
pub fn loads_of(inst: &Instance, block: &Block, t: TensorId) -> Vec<ExprId> {
    let mut out = Vec::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            inst.for_each_subexpr_id(r, &mut |e, x| {
                if matches!(x, Expr::Load(a) if a.tensor == t) {
                    out.push(e);
                }
            });
        }
    });
    out
}

/// Whether any load or store in `block` has a data-dependent index
/// ([`Access::dynamic`]): loop transformations that reason about indices leave such
/// blocks alone.
pub fn has_data_dependent_access(inst: &Instance, block: &Block) -> bool {
    let mut found = false;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            found |= !access.is_affine();
        }
        for r in stmt_roots(s) {
            inst.for_each_subexpr(r, &mut |x| {
                found |= matches!(x, Expr::Load(a) if !a.is_affine());
            });
        }
    });
    found
}

/// Tensors read (by loads) and written (by stores) in a block, each listed once, in order
/// of first appearance.
pub fn block_accesses(inst: &Instance, block: &Block) -> (Vec<TensorId>, Vec<TensorId>) {
    let mut reads = Vec::new();
    let mut writes = Vec::new();
    fn loads(inst: &Instance, e: ExprId, out: &mut Vec<TensorId>) {
        if let Expr::Load(a) = inst.expr(e) {
            if !out.contains(&a.tensor) {
                out.push(a.tensor);
            }
        }
        for o in expr_operands(inst.expr(e)) {
            loads(inst, o, out);
        }
    }
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            loads(inst, r, &mut reads);
        }
        if let Stmt::Store { access, .. } = s {
            if !writes.contains(&access.tensor) {
                writes.push(access.tensor);
            }
        }
        if let Stmt::Call(c) = s {
            for &t in &c.args {
                if !reads.contains(&t) {
                    reads.push(t);
                }
            }
            for &t in &c.results {
                if !writes.contains(&t) {
                    writes.push(t);
                }
            }
        }
    });
    (reads, writes)
}
