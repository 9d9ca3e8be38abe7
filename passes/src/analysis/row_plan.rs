//! Whether a stage instance can be computed row by row, and its [`RowPlan`] when it can
//! (the rules are in passes/src/ir/stage.rs; the `stream` pass stores the answer).
//!
//! A stage streams when it is a chain of compute nodes, each writing one image
//! `[C, H, W]` through a perfect loop nest in which one loop's variable is the row of
//! every store, and reading the images before it at rows that are that variable times a
//! stride plus a bounded offset. The fused `conv2d + bias_add + relu + requantize` of
//! LeNet, with its padding node in front:
//!
//! ```text
//! node xp_assign:  for c: for i in 0..28: for j: xp[c, i, j] = x[c, i, j] ...
//!     row i; reads x rows i..=i                       (stride 1, window 0..=0)
//! node result_store: for k: for i1 in 0..24: for i2: ... xp[c, u + i1, v + i2] ...
//!     row i1; reads xp rows i1 + 0 ..= i1 + 4         (stride 1, window 0..=4)
//! line buffers: x 1 row, xp 5 rows, result 1 row
//! ```
//!
//! A node may also write a buffer of its own inside the nest, one no other node reads (the
//! tile of its weights it copies from DDR each row, transform/allocate/tiles.rs): that is
//! not an image it makes, and the rules above apply to its stores of the image.
//!
//! What does not fit (a flatten, whose result is not an image; a dense layer, which reads
//! its whole input for every output; a call; a node that reads its own result) gets the
//! reason, which `kiln report` prints next to the stage's frame buffer.

use crate::ir::stage::{LineBuffer, RowNode, RowPlan, RowWindow};
use crate::ir::{
    expr_operands, stmt_roots, walk_stmts, Affine, Block, Expr, ExprId, Instance, Loop, LoopVarId,
    Node, Stmt, TensorId, TensorKind,
};
use std::collections::HashMap;

/// The row plan of `inst`, or why it has none.
pub fn plan_rows(inst: &Instance) -> Result<RowPlan, String> {
    let [output] = inst.outputs[..] else {
        return Err(format!(
            "it has {} results; a streamed stage has one",
            inst.outputs.len()
        ));
    };
    // A result that is not an image (a flatten's vector) is made whole as the rows of
    // the input arrive, and sent once complete.
    let flat = !is_image(inst, output);
    if flat && inst.tensor(output).shape.is_empty() {
        return Err(format!(
            "its result `{}` is a scalar",
            inst.tensor(output).name
        ));
    }
    if inst.inputs.contains(&output) {
        return Err("its result is one of its inputs".into());
    }
    let mut nodes: Vec<RowNode> = Vec::new();
    for n in inst.schedule() {
        match &inst.graph[n] {
            Node::Compute(c) => {
                let made: Vec<TensorId> = nodes.iter().map(|r| r.result).collect();
                let node = row_node(inst, n, &c.body, &c.writes, &made, flat.then_some(output))
                    .map_err(|why| format!("node `{}` {why}", c.name))?;
                nodes.push(node);
            }
            Node::Call(_) => return Err("it calls another kernel".into()),
            Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
        }
    }
    match nodes.last() {
        Some(last) if last.result == output => {}
        _ => return Err("its result is not written by its last node".into()),
    }
    // Every intermediate image is read by a later node (else it would be computed for
    // nothing, at a rate no window sets).
    for (k, n) in nodes.iter().enumerate() {
        if n.result != output
            && !nodes[k + 1..]
                .iter()
                .any(|m| m.windows.iter().any(|w| w.tensor == n.result))
        {
            return Err(format!(
                "the image `{}` is written but not read by a later node",
                inst.tensor(n.result).name
            ));
        }
    }
    let buffers = line_buffers(inst, &nodes, output, flat)?;
    Ok(RowPlan {
        nodes,
        buffers,
        output,
        flat_output: flat,
        flat_order: None,
        flat_early: false,
    })
}

/// Rows to keep of each image: the most rows that are ever written and still needed at
/// once when the stage runs as ir/stage.rs says (every image input read one row per
/// step, whether it arrives on a stream or is copied from memory), found by running that
/// schedule on row counts; one row for the result, which leaves as soon as it is made.
fn line_buffers(
    inst: &Instance,
    nodes: &[RowNode],
    output: TensorId,
    flat: bool,
) -> Result<Vec<LineBuffer>, String> {
    let mut schedule = RowSchedule::new(inst, nodes);
    let mut live: HashMap<TensorId, usize> = HashMap::new();
    let mut order: Vec<TensorId> = Vec::new();
    let mut note = |t: TensorId, live_rows: usize| {
        let e = live.entry(t).or_insert_with(|| {
            order.push(t);
            0
        });
        *e = (*e).max(live_rows);
    };
    while let Some(event) = schedule.next_event() {
        let (t, row) = event;
        if t != output {
            note(t, schedule.live_rows(t, row));
        }
    }
    if !schedule.finished() {
        return Err(
            "its rows cannot all be computed in order (a window reads rows that never come)".into(),
        );
    }
    let mut out: Vec<LineBuffer> = order
        .into_iter()
        .map(|t| LineBuffer {
            tensor: t,
            rows: live[&t].clamp(1, inst.tensor(t).shape[1].max(1)),
        })
        .collect();
    if !flat {
        out.push(LineBuffer {
            tensor: output,
            rows: 1,
        });
    }
    Ok(out)
}

/// The order in which a row plan writes rows (ir/stage.rs): each step reads one more row
/// of every image input, then sweeps the nodes in order, each computing its next row
/// when the rows it needs exist, until none can. Events are `(image, row)` writes.
pub struct RowSchedule<'a> {
    inst: &'a Instance,
    nodes: &'a [RowNode],
    /// Image inputs read by some window, with their heights and rows read so far.
    inputs: Vec<(TensorId, usize, usize)>,
    made: Vec<usize>,
    step: usize,
    steps: usize,
    /// Within a sweep: the next node to try, and whether this round made progress.
    cursor: Option<(usize, bool)>,
    pending_inputs: Vec<TensorId>,
}

impl<'a> RowSchedule<'a> {
    pub fn new(inst: &'a Instance, nodes: &'a [RowNode]) -> RowSchedule<'a> {
        let mut inputs: Vec<(TensorId, usize, usize)> = Vec::new();
        for n in nodes {
            for w in &n.windows {
                if inst.inputs.contains(&w.tensor) && !inputs.iter().any(|i| i.0 == w.tensor) {
                    inputs.push((w.tensor, inst.tensor(w.tensor).shape[1], 0));
                }
            }
        }
        let steps = inputs.iter().map(|i| i.1).max().unwrap_or(0);
        RowSchedule {
            inst,
            nodes,
            inputs,
            made: vec![0; nodes.len()],
            step: 0,
            steps,
            cursor: None,
            pending_inputs: Vec::new(),
        }
    }

    /// Rows of `t` that exist so far.
    pub fn available(&self, t: TensorId) -> usize {
        if let Some(i) = self.inputs.iter().find(|i| i.0 == t) {
            return i.2;
        }
        self.nodes
            .iter()
            .position(|n| n.result == t)
            .map_or(0, |k| self.made[k])
    }

    /// Whether node `k` can compute its next row now.
    pub fn ready(&self, k: usize) -> bool {
        let n = &self.nodes[k];
        if self.made[k] >= n.rows {
            return false;
        }
        let q = self.made[k] as i64;
        n.windows.iter().all(|w| {
            let height = self.inst.tensor(w.tensor).shape[1] as i64;
            let need = (w.stride * q + w.hi).min(height - 1);
            need < self.available(w.tensor) as i64
        })
    }

    /// How many rows of `t` must be held when row `row` of it is written: from the
    /// oldest row a node that reads `t` still needs, to `row`.
    pub fn live_rows(&self, t: TensorId, row: usize) -> usize {
        let height = self.inst.tensor(t).shape[1] as i64;
        let mut oldest = row as i64;
        for (k, n) in self.nodes.iter().enumerate() {
            if self.made[k] >= n.rows {
                continue;
            }
            for w in n.windows.iter().filter(|w| w.tensor == t) {
                let q = self.made[k] as i64;
                let first = (w.stride * q + w.lo).max(0);
                if first < height {
                    oldest = oldest.min(first);
                }
            }
        }
        (row as i64 - oldest + 1).max(1) as usize
    }

    /// The next row written, `None` when the schedule is over.
    pub fn next_event(&mut self) -> Option<(TensorId, usize)> {
        loop {
            if let Some(t) = self.pending_inputs.pop() {
                let i = self.inputs.iter_mut().find(|i| i.0 == t).expect("an input");
                let row = i.2;
                i.2 += 1;
                return Some((t, row));
            }
            match self.cursor {
                None => {
                    if self.step > self.steps {
                        return None;
                    }
                    // A new step: the next row of every input that has one.
                    let step = self.step;
                    self.pending_inputs = self
                        .inputs
                        .iter()
                        .filter(|i| step < i.1)
                        .map(|i| i.0)
                        .rev()
                        .collect();
                    self.step += 1;
                    self.cursor = Some((0, false));
                }
                Some((k, progress)) if k == self.nodes.len() => {
                    self.cursor = if progress { Some((0, false)) } else { None };
                }
                Some((k, progress)) => {
                    if self.ready(k) {
                        self.cursor = Some((k + 1, true));
                        let row = self.made[k];
                        let t = self.nodes[k].result;
                        // Node k never reads its own result, so the readers of `t` are
                        // as they were when the row is written.
                        self.made[k] += 1;
                        return Some((t, row));
                    }
                    self.cursor = Some((k + 1, progress));
                }
            }
        }
    }

    /// Whether every node computed every row.
    pub fn finished(&self) -> bool {
        self.made.iter().zip(self.nodes).all(|(&m, n)| m == n.rows)
    }
}

fn is_image(inst: &Instance, t: TensorId) -> bool {
    inst.tensor(t).shape.len() == 3 && inst.tensor(t).shape.iter().all(|&d| d > 0)
}

/// The row structure of one compute node.
fn row_node(
    inst: &Instance,
    node: crate::ir::NodeId,
    body: &Block,
    writes: &[TensorId],
    made: &[TensorId],
    flat_output: Option<TensorId>,
) -> Result<RowNode, String> {
    // The last statement is the nest that computes the rows; statements before it (a
    // copy of weights into a partitioned buffer) run once, before the first row.
    let Some((nest, prologue)) = body.split_last() else {
        return Err("is empty".into());
    };
    let nest_block: Block = vec![nest.clone()];
    // A buffer of the node's own (a tile of weights it copies from DDR each row,
    // transform/allocate/tiles.rs) is not an image it makes.
    let scratch = |t: TensorId| {
        matches!(inst.tensor(t).kind, TensorKind::Temp)
            && !inst.outputs.contains(&t)
            && !made.contains(&t)
            && inst.graph.node_indices().all(|m| {
                m == node || !matches!(&inst.graph[m], Node::Compute(c) if c.reads.contains(&t))
            })
            && !crate::ir::loads_of(inst, &nest_block, t).is_empty()
    };
    let mut stored: Vec<TensorId> = Vec::new();
    walk_stmts(&nest_block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            if !stored.contains(&access.tensor) && !scratch(access.tensor) {
                stored.push(access.tensor);
            }
        }
    });
    let [result] = stored[..] else {
        return Err(format!(
            "writes {} tensors in its last loop nest; a row node writes one image",
            stored.len()
        ));
    };
    let flat = flat_output == Some(result);
    if !(is_image(inst, result) || flat) || !matches!(inst.tensor(result).kind, TensorKind::Temp) {
        return Err(format!(
            "writes `{}` {:?}, not an image [C, H, W]",
            inst.tensor(result).name,
            inst.tensor(result).shape
        ));
    }
    let prologue_block: Block = prologue.to_vec();
    let mut prologue_err: Option<String> = None;
    walk_stmts(&prologue_block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            if access.tensor == result || made.contains(&access.tensor) {
                prologue_err.get_or_insert_with(|| "writes an image before its row loop".into());
            }
        }
        if matches!(s, Stmt::Call(_)) {
            prologue_err.get_or_insert_with(|| "calls a kernel".into());
        }
    });
    for_each_load(inst, &prologue_block, &mut |a| {
        if made.contains(&a.tensor) || (inst.inputs.contains(&a.tensor) && is_image(inst, a.tensor))
        {
            prologue_err.get_or_insert_with(|| {
                format!("reads `{}` before its row loop", inst.tensor(a.tensor).name)
            });
        }
    });
    if let Some(e) = prologue_err {
        return Err(e);
    }
    debug_assert!(writes.contains(&result));
    let body = &nest_block;
    if flat {
        return flat_row_node(inst, node, body, prologue.len(), result, made);
    }
    // Every store writes `result` at row `v` for one loop variable `v`.
    let mut row_var: Option<LoopVarId> = None;
    let mut bad: Option<String> = None;
    walk_stmts(body, &mut Vec::new(), &mut |s, _| match s {
        Stmt::Store { access, .. } if access.tensor == result => {
            let v = match access.index.get(1) {
                Some(a) if a.constant == 0 && a.terms.len() == 1 && a.terms[0].1 == 1 => {
                    Some(a.terms[0].0)
                }
                _ => None,
            };
            match (v, access.dynamic_at(1)) {
                (Some(v), None) if row_var.is_none_or(|w| w == v) => row_var = Some(v),
                _ => {
                    bad.get_or_insert_with(|| {
                        "stores at a row that is not one loop's variable".to_string()
                    });
                }
            }
        }
        Stmt::Call(_) => {
            bad.get_or_insert_with(|| "calls a kernel".to_string());
        }
        _ => {}
    });
    if let Some(b) = bad {
        return Err(b);
    }
    let row_var = row_var.ok_or("stores nothing")?;
    let rows = inst.tensor(result).shape[1];
    // The row loop sits in a perfect nest and runs over every row once.
    let row_loop = perfect_path(body, row_var)
        .ok_or("has statements around its row loop (not a perfect nest)")?;
    if row_loop.lo != Affine::constant(0)
        || row_loop.hi != Affine::constant(rows as i64)
        || row_loop.step != 1
    {
        return Err(format!(
            "runs its row loop `{}` over other than 0..{rows}",
            inst.loop_vars[row_var.index()].name
        ));
    }
    let windows = read_windows(inst, body, row_var, result, made)?;
    Ok(RowNode {
        node,
        prologue: prologue.len(),
        row_var,
        result,
        rows,
        windows,
    })
}

/// The loop of `v`, when every loop around it holds nothing but the next loop.
fn perfect_path(body: &Block, v: LoopVarId) -> Option<&Loop> {
    let [Stmt::For(l)] = &body[..] else {
        return None;
    };
    if l.var == v {
        return Some(l);
    }
    perfect_path(&l.body, v)
}

/// Calls `f` on every tensor load of a block (in every expression, at any depth).
fn for_each_load(inst: &Instance, body: &Block, f: &mut dyn FnMut(&crate::ir::Access)) {
    fn visit(inst: &Instance, e: ExprId, f: &mut dyn FnMut(&crate::ir::Access)) {
        let ex = inst.expr(e);
        if let Expr::Load(a) = ex {
            f(a);
        }
        for o in expr_operands(ex) {
            visit(inst, o, f);
        }
    }
    walk_stmts(body, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            visit(inst, r, f);
        }
    });
}

/// Constant ranges of the loop variables of a block (loops with constant bounds).
fn loop_ranges(body: &Block) -> HashMap<LoopVarId, (i64, i64)> {
    let mut ranges: HashMap<LoopVarId, (i64, i64)> = HashMap::new();
    walk_stmts(body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            if let (Some(lo), Some(hi)) = (l.lo.as_constant(), l.hi.as_constant()) {
                let (first, last) = if l.step > 0 {
                    (lo, hi - 1)
                } else {
                    (hi + 1, lo)
                };
                if first <= last {
                    ranges.insert(l.var, (first, last));
                }
            }
        }
    });
    ranges
}

/// The rows of each earlier image and image input that row `row_var` of the nest reads.
fn read_windows(
    inst: &Instance,
    body: &Block,
    row_var: LoopVarId,
    result: TensorId,
    made: &[TensorId],
) -> Result<Vec<RowWindow>, String> {
    let ranges = loop_ranges(body);
    // Reads of earlier images and of the inputs.
    let mut windows: Vec<RowWindow> = Vec::new();
    let mut err: Option<String> = None;
    for_each_load(inst, body, &mut |a| {
        let t = a.tensor;
        if t == result {
            err.get_or_insert_with(|| "reads the image it writes".to_string());
            return;
        }
        let streamed = made.contains(&t) || (inst.inputs.contains(&t) && is_image(inst, t));
        if !streamed {
            return;
        }
        if a.dynamic_at(1).is_some() {
            err.get_or_insert_with(|| {
                format!("reads `{}` at a data-dependent row", inst.tensor(t).name)
            });
            return;
        }
        let idx = &a.index[1];
        let stride = idx.coeff(row_var);
        if stride < 1 {
            err.get_or_insert_with(|| {
                format!(
                    "reads rows of `{}` that do not advance with its own rows",
                    inst.tensor(t).name
                )
            });
            return;
        }
        let (mut lo, mut hi) = (idx.constant, idx.constant);
        for &(v, c) in &idx.terms {
            if v == row_var {
                continue;
            }
            let Some(&(first, last)) = ranges.get(&v) else {
                err.get_or_insert_with(|| {
                    format!(
                        "reads `{}` at a row offset without constant bounds",
                        inst.tensor(t).name
                    )
                });
                return;
            };
            let (Some(a0), Some(a1)) = (c.checked_mul(first), c.checked_mul(last)) else {
                lo = i64::MIN;
                break;
            };
            lo = lo.saturating_add(a0.min(a1));
            hi = hi.saturating_add(a0.max(a1));
        }
        // Rows far outside the image (possible only under a guard) cannot be buffered:
        // keep every row index the stage computes within 32 bits.
        let limit = i64::from(i32::MAX / 4);
        let height = inst.tensor(t).shape[1] as i64;
        if stride > height.max(1) || lo < -limit || hi > limit {
            err.get_or_insert_with(|| {
                format!(
                    "reads `{}` at rows too far apart for a line buffer",
                    inst.tensor(t).name
                )
            });
            return;
        }
        match windows.iter_mut().find(|w| w.tensor == t) {
            Some(w) if w.stride == stride => {
                w.lo = w.lo.min(lo);
                w.hi = w.hi.max(hi);
            }
            Some(_) => {
                err.get_or_insert_with(|| {
                    format!("reads `{}` at two row strides", inst.tensor(t).name)
                });
            }
            None => windows.push(RowWindow {
                tensor: t,
                stride,
                lo,
                hi,
            }),
        }
    });
    match err {
        Some(e) => Err(e),
        None => Ok(windows),
    }
}

/// A last node whose result is not an image (a flatten): its row is the loop whose
/// variable advances the rows it reads; its stores must never write one element twice
/// (so computing it row by row leaves the same values), and it is sent once complete.
fn flat_row_node(
    inst: &Instance,
    node: crate::ir::NodeId,
    body: &Block,
    prologue: usize,
    result: TensorId,
    made: &[TensorId],
) -> Result<RowNode, String> {
    // The loops of the perfect nest, outermost first.
    let mut path: Vec<&Loop> = Vec::new();
    let mut level: &Block = body;
    while let [Stmt::For(l)] = &level[..] {
        path.push(l);
        level = &l.body;
    }
    // The row: a loop of the path that every image read advances with.
    let mut row_var: Option<LoopVarId> = None;
    let mut err: Option<String> = None;
    for_each_load(inst, body, &mut |a| {
        let streamed = made.contains(&a.tensor)
            || (inst.inputs.contains(&a.tensor) && is_image(inst, a.tensor));
        if !streamed {
            return;
        }
        let found = path
            .iter()
            .find(|l| a.index[1].coeff(l.var) >= 1)
            .map(|l| l.var);
        match (found, row_var) {
            (Some(v), None) => row_var = Some(v),
            (Some(v), Some(w)) if v == w => {}
            _ => {
                err.get_or_insert_with(|| {
                    format!(
                        "reads rows of `{}` that no loop of its perfect nest advances",
                        inst.tensor(a.tensor).name
                    )
                });
            }
        }
    });
    if let Some(e) = err {
        return Err(e);
    }
    let row_var = row_var.ok_or_else(|| {
        format!(
            "makes `{}` {:?}, not an image, and reads no image row by row (its inputs are vectors or scalars, which it takes whole)",
            inst.tensor(result).name,
            inst.tensor(result).shape
        )
    })?;
    let row_loop = path.iter().find(|l| l.var == row_var).expect("on the path");
    let Some(rows) = row_loop
        .hi
        .as_constant()
        .filter(|_| row_loop.lo == Affine::constant(0) && row_loop.step == 1)
    else {
        return Err("runs its row loop over other than 0..N".into());
    };
    // Stores write distinct elements: the element's offset is a mixed-radix number of
    // the loops around the store.
    let shape = inst.tensor(result).shape.clone();
    let mut ok = true;
    walk_stmts(body, &mut Vec::new(), &mut |s, loops| {
        if let Stmt::Store { access, .. } = s {
            if access.tensor == result {
                ok &= distinct_elements(access, &shape, loops);
            }
        }
    });
    if !ok {
        return Err(format!(
            "may write an element of `{}` more than once",
            inst.tensor(result).name
        ));
    }
    let windows = read_windows(inst, body, row_var, result, made)?;
    Ok(RowNode {
        node,
        prologue,
        row_var,
        result,
        rows: rows.max(0) as usize,
        windows,
    })
}

/// Whether a store inside `loops` writes a different element in every iteration: its
/// offset (row-major) is an affine form in which, taken by growing coefficient, each
/// loop's coefficient exceeds the span of all the smaller ones.
fn distinct_elements(access: &crate::ir::Access, shape: &[usize], loops: &[&Loop]) -> bool {
    if !access.is_affine() {
        return false;
    }
    let mut offset = Affine::default();
    let mut stride: i64 = 1;
    for (d, idx) in access.index.iter().enumerate().rev() {
        let Some(o) = offset.checked_add_scaled(idx, stride) else {
            return false;
        };
        offset = o;
        stride = match stride.checked_mul(shape[d] as i64) {
            Some(x) => x,
            None => return false,
        };
    }
    let mut terms: Vec<(i64, i64)> = Vec::new(); // (|coefficient|, trips - 1)
    for l in loops {
        let (Some(lo), Some(hi)) = (l.lo.as_constant(), l.hi.as_constant()) else {
            return false;
        };
        let trips = if l.step > 0 {
            (hi - lo + l.step - 1) / l.step
        } else {
            (lo - hi - l.step - 1) / -l.step
        };
        if trips <= 1 {
            continue;
        }
        let c = offset.coeff(l.var).checked_mul(l.step).map(i64::abs);
        match c {
            Some(c) if c > 0 => terms.push((c, trips - 1)),
            _ => return false,
        }
    }
    terms.sort();
    let mut span: i64 = 0;
    for (c, n) in terms {
        if c <= span {
            return false;
        }
        span = match c.checked_mul(n).and_then(|x| x.checked_add(span)) {
            Some(x) => x,
            None => return false,
        };
    }
    true
}
