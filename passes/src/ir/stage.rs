//! How a dataflow stage is built in hardware: row by row through line buffers, or on
//! whole frames (set by the `stream` pass, passes/src/transform/stream.rs; read by the
//! HLS back end and the layer-pipeline model of `kiln report`).
//!
//! A stage is an instance that a network top calls between streams (see
//! [`Instance::dataflow_streams`](crate::ir::Instance::dataflow_streams)). Images travel on
//! those streams in raster order, one pixel after the other with its channels innermost
//! (`[H][W][C]` order for a tensor `[C, H, W]`), one value a word or, on a channel with a
//! `stream_width` V, V channels of a pixel a word (ir/mod.rs, "Stream words"); other
//! shapes travel in row-major order, one value a word.
//!
//! A [`RowPlan`] says that the stage can compute its result one row at a time as its input
//! rows arrive (DNNBuilder's fine-grained layer pipeline):
//! - each compute node of the stage ([`RowNode`]) writes one image `[C, H, W]` in its last
//!   statement, a loop nest in which one loop (`row_var`, running `0..H` with step 1,
//!   inside a perfect nest) writes exactly row `row_var` of it; running that loop's body
//!   with the variable pinned to `q` computes row `q` and nothing else (the statements
//!   before the nest run once, before the first row);
//! - every image it reads (a stage input, or a result of an earlier node) is read at rows
//!   `stride * q + lo ..= stride * q + hi` when it computes its row `q`
//!   ([`RowWindow`]; `lo` may be negative for padding reads guarded by a condition);
//! - an image held in a line buffer of `rows` rows ([`LineBuffer`]) keeps its row `p` in
//!   slot `p mod rows`.
//!
//! Execution (what the back end emits and the model times): for each input row that
//! arrives (and once more after the last one), read that row of every streamed input into
//! its line buffer; then, repeatedly and in node order, let each node compute its next row
//! if every row its window needs exists (rows outside `0..H` of an image are never needed:
//! the program guards those reads), until no node can; the last node's rows leave on the
//! output stream as soon as they are computed. Because every stride is at least 1, a node
//! computes at most one new row per sweep after its producer did, so a line buffer of
//! `hi - lo + 1` rows (K for a K x K window, whatever the stride) never overwrites a row a
//! later window reads.

use crate::ir::{LoopVarId, NodeId, TensorId};

/// What the `stream` pass decided for a stage instance.
#[derive(Clone, Debug, PartialEq)]
pub enum StagePlan {
    /// Computed row by row from line buffers.
    Rows(RowPlan),
    /// A dense layer that consumes its input vector value by value as it arrives
    /// (analysis/accumulate.rs).
    Accumulate(AccumulatePlan),
    /// Buffers its whole input before computing (and its whole result before sending it
    /// on): `reason` says why it cannot stream, for `kiln report` and `kiln ir`.
    Frame { reason: String },
}

/// A stage computed row by row: see the module documentation.
#[derive(Clone, Debug, PartialEq)]
pub struct RowPlan {
    /// The compute nodes, in the order the stage runs them; the last one writes the
    /// stage's result.
    pub nodes: Vec<RowNode>,
    /// Every image the nodes read or write that the stage holds in part: its inputs
    /// (when they arrive on a stream), the intermediate images, and the result (one row,
    /// the row being sent).
    pub buffers: Vec<LineBuffer>,
    /// The stage's result: an image, made and sent row by row; or, when `flat_output`, a
    /// tensor of another shape (a flatten's vector) that the last node fills as its rows
    /// come and the stage sends whole once complete.
    pub output: TensorId,
    pub flat_output: bool,
    /// The order a flat result travels in (`None`: row-major), and whether it leaves
    /// value by value as its last node computes it (`early`; the node's stores run in
    /// that order) or whole once complete.
    pub flat_order: Option<ArrivalOrder>,
    pub flat_early: bool,
}

/// The order in which the values of a vector `[N]` travel on a stream: value `k` of the
/// stream is element `sum_i coefs[i] * d_i` of the vector, where `d` are the digits of
/// `k` in the mixed radix `extents` (the last digit fastest). Row-major order is
/// `extents [N], coefs [1]`. A valid order visits every element exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArrivalOrder {
    pub extents: Vec<u64>,
    pub coefs: Vec<i64>,
}

impl ArrivalOrder {
    pub fn row_major(n: u64) -> ArrivalOrder {
        ArrivalOrder {
            extents: vec![n],
            coefs: vec![1],
        }
    }

    /// Whether the order is row-major (each digit's coefficient the product of the
    /// extents after it; digits of extent 1 do not count).
    pub fn is_row_major(&self) -> bool {
        let mut stride = 1i64;
        self.extents.iter().zip(&self.coefs).rev().all(|(&e, &c)| {
            let ok = e == 1 || c == stride;
            stride = stride.saturating_mul(e as i64);
            ok
        })
    }

    /// The element the stream's `k`-th value is.
    pub fn element(&self, mut k: u64) -> i64 {
        let mut out = 0i64;
        for (&e, &c) in self.extents.iter().zip(&self.coefs).rev() {
            let e = e.max(1);
            out += c * (k % e) as i64;
            k /= e;
        }
        out
    }

    /// Whether the order visits every element of `0..n` exactly once.
    pub fn is_permutation_of(&self, n: u64) -> bool {
        let len: u64 = self.extents.iter().product();
        if len != n {
            return false;
        }
        let mut seen = vec![false; n as usize];
        (0..n).all(|k| {
            let e = self.element(k);
            e >= 0 && (e as u64) < n && !std::mem::replace(&mut seen[e as usize], true)
        })
    }

    /// How a consumer that takes `max` values at most per group groups this order: per
    /// digit, the part of it a group spans (the fastest digits whole while they fit,
    /// then the largest power of two dividing the next one; 1 for the digits outside).
    /// The first digit of an order with several is the producer's row: a group stays
    /// within one row, so that the consumer starts on a row as soon as it is sent.
    pub fn lanes(&self, max: u64) -> Vec<u64> {
        let mut lanes = vec![1u64; self.extents.len()];
        let first = usize::from(self.extents.len() > 1);
        let mut size = 1u64;
        for i in (first..self.extents.len()).rev() {
            let e = self.extents[i].max(1);
            if size.saturating_mul(e) <= max {
                lanes[i] = e;
                size *= e;
                continue;
            }
            let mut part = 1u64 << e.trailing_zeros();
            while size.saturating_mul(part) > max {
                part /= 2;
            }
            lanes[i] = part.max(1);
            break;
        }
        lanes
    }

    /// Values per group of [`lanes`](Self::lanes).
    pub fn group(&self, max: u64) -> u64 {
        self.lanes(max).iter().product()
    }
}

/// A dense stage fed value by value (DNNBuilder: a fully connected layer consumes its
/// input as it streams): its node `for o: s = init; for n in 0..N: s = s + f(o, n) *
/// x[n]; epilogue(s)` computes, once built, as
///
/// ```text
/// for o: acc[o] = init                                  # before the first value
/// for the digits of the order outside a group:          # P values a group
///     for k..: xv[k] = x[n(d, k)]                       # the group's values, off the stream
///     for o: s = acc[o]; for k..: s = s + f(o, n(d, k)) * xv[k]; acc[o] = s
/// for o: s = acc[o]; epilogue(s)                        # after the last
/// ```
///
/// Each accumulator adds the same products as the program, in the arrival order: the
/// `stream` pass plans a non-row-major order only where every partial sum in any order
/// is exact (analysis/accumulate.rs), so the result is bit for bit the program's.
#[derive(Clone, Debug, PartialEq)]
pub struct AccumulatePlan {
    pub node: NodeId,
    /// The input read value by value.
    pub input: TensorId,
    pub order: ArrivalOrder,
    /// Values per group (`P`, [`ArrivalOrder::group`]), once built.
    pub group: u64,
    /// The node computes in the arrival order (the allocation built it); until then the
    /// node is the program's and the plan says what it will become.
    pub built: bool,
}

/// A compute node of a [`RowPlan`].
#[derive(Clone, Debug, PartialEq)]
pub struct RowNode {
    pub node: NodeId,
    /// How many statements of the node's body come before its row nest (its last
    /// statement): they read no image of the plan, write none, and run once before the
    /// first row (a copy of weights into a partitioned buffer).
    pub prologue: usize,
    /// The loop whose variable is the row of the result it writes.
    pub row_var: LoopVarId,
    /// The image it writes.
    pub result: TensorId,
    /// Rows of `result`.
    pub rows: usize,
    /// The rows of each image it reads, per row it computes.
    pub windows: Vec<RowWindow>,
}

/// Row `q` of a node reads rows `stride * q + lo ..= stride * q + hi` of `tensor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RowWindow {
    pub tensor: TensorId,
    pub stride: i64,
    pub lo: i64,
    pub hi: i64,
}

/// An image held as `rows` rows (slot `p mod rows` holds row `p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineBuffer {
    pub tensor: TensorId,
    pub rows: usize,
}

impl RowPlan {
    /// The rows kept of `t`, when the plan holds it in a line buffer.
    pub fn rows_of(&self, t: TensorId) -> Option<usize> {
        self.buffers.iter().find(|b| b.tensor == t).map(|b| b.rows)
    }

    /// The node that computes `t`.
    pub fn producer(&self, t: TensorId) -> Option<&RowNode> {
        self.nodes.iter().find(|n| n.result == t)
    }
}

impl AccumulatePlan {
    /// How its input comes, for `kiln report` and the pass's remarks.
    pub fn order_text(&self) -> &'static str {
        if self.order.is_row_major() {
            "row-major"
        } else {
            "in the order its producer computes it"
        }
    }
}

impl StagePlan {
    pub fn rows(&self) -> Option<&RowPlan> {
        match self {
            StagePlan::Rows(p) => Some(p),
            _ => None,
        }
    }

    pub fn accumulate(&self) -> Option<&AccumulatePlan> {
        match self {
            StagePlan::Accumulate(p) => Some(p),
            _ => None,
        }
    }
}
