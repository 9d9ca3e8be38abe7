//! What a node function reports when it fails at run time ([`ErrCtx`], [`Site`]), and
//! why a node cannot be compiled ([`Unsupported`]).

use kiln_passes::ir::TensorId;
use kiln_passes::Span;

/// The error codes a native function reports.
pub const ERR_BOUNDS: u32 = 1;
pub const ERR_DIV_ZERO: u32 = 2;
/// A `Fail` statement (its message is in the site).
pub const ERR_FAIL: u32 = 3;
/// A kernel called inside the node failed (its error is in the runtime's call context).
pub const ERR_CALL: u32 = 4;

/// Where the error details of a native function go (shared with the runtime).
#[repr(C)]
#[derive(Debug, Default, Clone)]
pub struct ErrCtx {
    pub code: u32,
    /// Index into `NodeCode::sites`.
    pub site: u32,
    /// The index of the failing access, one value per dimension (the first 16).
    pub idx: [i64; 16],
    /// The active loop variables (ids and values), outermost first.
    pub nloops: u32,
    pub loop_ids: [u32; 16],
    pub loop_vals: [i64; 16],
    /// 0, or the address of the program's `Mutex<OverflowReport>` when the program
    /// counts overflows (read by the counting conversion helpers).
    pub overflow: usize,
    /// The address of the runtime's call context while a node runs (for
    /// [`Stmt::Call`](kiln_passes::ir::Stmt::Call)s; 0 when the node has none).
    pub calls: usize,
}

/// A place that can fail at run time.
#[derive(Clone, Debug)]
pub struct Site {
    pub span: Span,
    /// The tensor of an access (for bounds errors).
    pub tensor: Option<TensorId>,
    /// The message of a `Fail` statement.
    pub message: Option<String>,
    /// A kernel call's slots (the site the call helper receives).
    pub call: Option<CallSite>,
}

/// A kernel call inside a node: the callee and the node slots of its tensors.
#[derive(Clone, Debug)]
pub struct CallSite {
    pub callee: kiln_passes::ir::InstanceId,
    /// Slots of the arguments, in the callee's input order.
    pub args: Vec<usize>,
    /// Slots of the results and of their written-element flags (if any).
    pub results: Vec<(usize, Option<usize>)>,
}

/// Why a node cannot be compiled.
#[derive(Clone, Debug)]
pub struct Unsupported {
    pub span: Span,
    pub what: String,
}

pub type R<T> = Result<T, Unsupported>;
