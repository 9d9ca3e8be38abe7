//! Row-level dataflow between the stages of a frame pipeline (frame.rs): a stage starts
//! on the first rows of its producer's image while the producer computes the rest, the
//! `stream` pass's row plans (passes/src/ir/stage.rs) carried into the RTL.
//!
//! A stage module whose row plan allows it gets two kinds of ports:
//! - **`P_rows` out**, for a result made row by row (the plan's last node writes it in a
//!   nest whose row loop writes exactly its row; an image, or a flattened vector whose
//!   arrival order's first digit is that row): the rows of the current image that are
//!   complete: the row counter while the FSM is in that nest, all of them from the end
//!   of the nest to `done`, 0 before the nest. The node is
//!   built with its row loop outermost (what the HLS back end's row stages do: running
//!   the nest with the row pinned to `q` computes row `q` and nothing else, which the
//!   plan proves), so the rows complete in order ([`row_outermost`]).
//! - **`P_rows` in**, for an image input that only row nodes read, each in its row nest
//!   through a window (rows `stride * q + lo ..= stride * q + hi` for its row `q`), and
//!   for the vector of a dense stage fed value by value whose groups arrive a row at a
//!   time ([`accumulate_ports`]): the rows of the stage's image that exist. While the FSM
//!   is in such a nest and the rows the current row needs are not there, the module
//!   holds: its state, counters, registers and write enables stay as they are
//!   (`rows_hold`, also an output, so that the testbench can leave the held cycles out of
//!   a stage's cycles); and it holds in its `done` state until every such input is
//!   complete, more than its rows: its producer has finished the image, so that a stage
//!   never finishes an image before its producers do (the frame's image counts stay in
//!   order; a producer's rows are all there from the end of its nest, but it may still
//!   hold in its own `done` state then).
//!
//! The top connects a producer's `P_rows` to its consumers' (frame.rs): the rows of the
//! consumer's image are one more than the producer's rows when it has finished that
//! image, its `P_rows` while it works on it, and none before; the consumer then needs no start
//! condition on that producer. Every other caller ties a `P_rows` input to `2^31 - 1`
//! (all rows there) and leaves the output open.
//!
//! A row output or input whose feature map is a ring of rows (ring.rs) also has a
//! `P_room` input (the producer holds in its row nest until its row has room: one more
//! term of `rows_hold`) or a `P_free` output (the lowest row the consumer still needs).
//!
//! Within a stage the nodes still run one after another on whole images (a 3 x 3
//! convolution's padded buffer is written whole before the convolution starts): the
//! overlap is between stages (docs/rtl.md, "Not yet").
//!
//! Before (stage 2 waits for stage 1's whole image):
//! ```text
//! c1_start = pro_done && !c1_busy && (c0_img != c1_img) && ...
//! ```
//! After (stage 2 starts, and holds in its row nest until the rows it needs exist):
//! ```text
//! c1_start = pro_done && !c1_busy && ...
//! c1_p0_x_rows = (c0_img != c1_img) ? 32'd24 : (c0_busy ? c0_p1_result_rows : 32'd0);
//! hold = in_pool_nest & ~((p0_x_rows > 2 * i + 1) | (p0_x_rows >= 24)) | ...
//! ```

use kiln_passes::ir::stage::{AccumulatePlan, ArrivalOrder, RowNode, StagePlan};
use kiln_passes::ir::{Instance, LoopVarId, Node, NodeId, Stmt, TensorId};

/// How a tensor's rows are laid out: `rows` rows of an image (`order: None`), or of a
/// vector arriving in `order`, whose first digit is the row. A producer's rows feed a
/// consumer's only when both say the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowLayout {
    pub rows: usize,
    pub order: Option<ArrivalOrder>,
}

/// The row ports of a stage module (empty for a module that is not a stage of a frame
/// pipeline, or whose plan does not allow them).
#[derive(Clone, Debug, Default)]
pub struct RowPorts {
    /// The result made row by row.
    pub output: Option<RowOut>,
    /// The image inputs read row by row.
    pub inputs: Vec<RowIn>,
}

/// A result made row by row by `node`, whose row loop is `row_var`, in the statement
/// `stmt` of its body: an image, or a vector whose arrival order's first digit is the
/// row (ir/stage.rs, `ArrivalOrder`).
#[derive(Clone, Debug)]
pub struct RowOut {
    pub tensor: TensorId,
    pub node: NodeId,
    pub row_var: LoopVarId,
    pub stmt: usize,
    pub layout: RowLayout,
}

/// An input read row by row, through each of `gates`.
#[derive(Clone, Debug)]
pub struct RowIn {
    pub tensor: TensorId,
    pub layout: RowLayout,
    pub gates: Vec<Gate>,
}

/// Row `q` of `node` (its row loop `row_var`, `rows` rows, in the statement `stmt` of its
/// body) reads rows up to `stride * q + hi`; `outermost`: the node is built with its row
/// loop outermost, else it runs over its rows `passes` times (the trips of the loops
/// above the row loop).
#[derive(Clone, Debug)]
pub struct Gate {
    pub node: NodeId,
    pub stmt: usize,
    pub row_var: LoopVarId,
    pub rows: usize,
    pub stride: i64,
    pub lo: i64,
    pub hi: i64,
    pub outermost: bool,
    pub passes: u64,
}

impl RowPorts {
    /// The nodes whose nest states the ports need, each with its row loop and whether it
    /// is built with the row loop outermost (the result's node must be; a node that only
    /// reads rows is when it can be, so that it finishes soon after its producer, and
    /// otherwise keeps its loop order: its row counter says which rows it needs in any
    /// order, and only its first pass over the rows waits).
    pub fn row_nodes(&self) -> Vec<(NodeId, usize, LoopVarId, bool)> {
        let mut out: Vec<(NodeId, usize, LoopVarId, bool)> = self
            .output
            .iter()
            .map(|o| (o.node, o.stmt, o.row_var, true))
            .collect();
        for g in self.inputs.iter().flat_map(|i| i.gates.iter()) {
            if !out.iter().any(|(n, _, _, _)| *n == g.node) {
                out.push((g.node, g.stmt, g.row_var, g.outermost));
            }
        }
        out
    }
}

/// The row ports `inst` can have as a stage (`pipeline`: the design chains pipelined
/// loops, whose loops above the row loop must then not be pipelined).
pub fn ports(inst: &Instance, pipeline: bool) -> RowPorts {
    let plan = match &inst.stage {
        Some(StagePlan::Rows(plan)) => plan,
        Some(StagePlan::Accumulate(plan)) if plan.built => {
            return accumulate_ports(inst, plan).unwrap_or_default()
        }
        _ => return RowPorts::default(),
    };
    let movable = |rn: &RowNode| -> bool {
        let Node::Compute(c) = &inst.graph[rn.node] else {
            return false;
        };
        c.body.len() == rn.prologue + 1
            && row_outermost(&c.body[rn.prologue], rn.row_var, pipeline).is_some()
    };
    // A node reading rows needs a live row counter: no loop above its row loop is
    // chained (the row loop would be unrolled into an iteration). Its passes over the
    // rows when none is, the product of their trips (constant bounds).
    let passes = |rn: &RowNode| -> Option<u64> {
        let Node::Compute(c) = &inst.graph[rn.node] else {
            return None;
        };
        let mut level = &c.body[rn.prologue.min(c.body.len())..];
        let mut n = 1u64;
        while let [Stmt::For(l)] = level {
            if l.var == rn.row_var {
                return (c.body.len() == rn.prologue + 1).then_some(n);
            }
            if pipeline && l.directives.pipeline_ii.is_some() {
                return None;
            }
            let span = l.hi.as_constant()? - l.lo.as_constant()?;
            let trips = if l.step > 0 && span > 0 {
                (span + l.step - 1) / l.step
            } else if l.step < 0 && span < 0 {
                (-span + -l.step - 1) / -l.step
            } else {
                0
            };
            n = n.saturating_mul(trips as u64);
            level = &l.body;
        }
        None
    };
    let computes = || {
        inst.graph
            .node_indices()
            .filter_map(|n| match &inst.graph[n] {
                Node::Compute(c) => Some((n, c)),
                _ => None,
            })
    };
    let mut out = RowPorts::default();
    if inst.outputs.contains(&plan.output) {
        // An image's rows; a flat result's, when its node's stores run in its order
        // (`flat_early`) and the first digit of that order is the row (a flatten's
        // vector, read by a dense stage).
        let last = plan.nodes.last().filter(|rn| rn.result == plan.output);
        let rows = last.and_then(|rn| match &plan.flat_order {
            _ if !plan.flat_output => Some(inst.tensor(plan.output).shape[1]),
            Some(o)
                if plan.flat_early && o.extents.len() >= 2 && o.extents[0] as usize == rn.rows =>
            {
                Some(rn.rows)
            }
            _ => None,
        });
        if let (Some(rn), Some(rows)) = (last, rows) {
            let sole_writer =
                computes().all(|(n, c)| n == rn.node || !c.writes.contains(&plan.output))
                    && !inst.graph.node_weights().any(
                        |w| matches!(w, Node::Call(call) if call.results.contains(&plan.output)),
                    );
            if sole_writer && movable(rn) {
                out.output = Some(RowOut {
                    tensor: plan.output,
                    node: rn.node,
                    row_var: rn.row_var,
                    stmt: rn.prologue,
                    layout: RowLayout {
                        rows,
                        order: plan.flat_order.clone().filter(|_| plan.flat_output),
                    },
                });
            }
        }
    }
    for &t in &inst.inputs {
        let tm = inst.tensor(t);
        if tm.shape.len() != 3 || tm.is_empty() {
            continue;
        }
        let called = inst
            .graph
            .node_weights()
            .any(|w| matches!(w, Node::Call(call) if call.args.contains(&t)));
        if called {
            continue;
        }
        let mut gates = Vec::new();
        let mut ok = true;
        for (n, c) in computes() {
            if !c.reads.contains(&t) && !c.writes.contains(&t) {
                continue;
            }
            let window = plan
                .nodes
                .iter()
                .find(|rn| rn.node == n)
                .and_then(|rn| rn.windows.iter().find(|w| w.tensor == t).map(|w| (rn, *w)));
            let counted = window.and_then(|(rn, _)| passes(rn));
            match (window, counted) {
                (Some((rn, w)), Some(p)) if !c.writes.contains(&t) && w.stride >= 1 => {
                    let outermost = movable(rn);
                    gates.push(Gate {
                        node: n,
                        stmt: rn.prologue,
                        row_var: rn.row_var,
                        rows: rn.rows,
                        stride: w.stride,
                        lo: w.lo,
                        hi: w.hi,
                        outermost,
                        passes: if outermost { 1 } else { p },
                    })
                }
                _ => ok = false,
            }
        }
        if ok && !gates.is_empty() {
            out.inputs.push(RowIn {
                tensor: t,
                layout: RowLayout {
                    rows: tm.shape[1],
                    order: None,
                },
                gates,
            });
        }
    }
    out
}

/// The row input of a dense stage fed value by value (ir/stage.rs, `AccumulatePlan`)
/// whose values arrive a producer's row at a time (the order's first digit): the one
/// statement of its node that reads the input, a loop over those rows whose variable is
/// the first digit of every element it reads (the groups of a row, one after another),
/// holds until that row exists.
fn accumulate_ports(inst: &Instance, plan: &AccumulatePlan) -> Option<RowPorts> {
    let t = plan.input;
    let (&rows, &coef) = (plan.order.extents.first()?, plan.order.coefs.first()?);
    if !inst.inputs.contains(&t) || plan.order.extents.len() < 2 {
        return None;
    }
    let called = inst
        .graph
        .node_weights()
        .any(|w| matches!(w, Node::Call(call) if call.args.contains(&t)));
    let other_readers = inst.graph.node_indices().any(|n| {
        n != plan.node
            && matches!(&inst.graph[n], Node::Compute(c) if c.reads.contains(&t) || c.writes.contains(&t))
    });
    let Node::Compute(c) = &inst.graph[plan.node] else {
        return None;
    };
    if called || other_readers || c.writes.contains(&t) {
        return None;
    }
    let loads_of_t = |s: &Stmt| {
        let mut found = Vec::new();
        kiln_passes::ir::walk_stmts(std::slice::from_ref(s), &mut Vec::new(), &mut |st, _| {
            for r in kiln_passes::ir::stmt_roots(st) {
                inst.for_each_subexpr(r, &mut |x| {
                    if let kiln_passes::ir::Expr::Load(a) = x {
                        if a.tensor == t {
                            found.push(a.clone());
                        }
                    }
                });
            }
        });
        found
    };
    let readers: Vec<usize> = (0..c.body.len())
        .filter(|&i| !loads_of_t(&c.body[i]).is_empty())
        .collect();
    let [stmt] = readers[..] else {
        return None;
    };
    let Stmt::For(l) = &c.body[stmt] else {
        return None;
    };
    let whole_rows = l.lo == kiln_passes::ir::Affine::constant(0)
        && l.hi == kiln_passes::ir::Affine::constant(rows as i64)
        && l.step == 1;
    let by_row = loads_of_t(&c.body[stmt]).iter().all(|a| {
        a.index.len() == 1 && a.dynamic_at(0).is_none() && a.index[0].coeff(l.var) == coef
    });
    (whole_rows && by_row).then(|| RowPorts {
        output: None,
        inputs: vec![RowIn {
            tensor: t,
            layout: RowLayout {
                rows: rows as usize,
                order: Some(plan.order.clone()),
            },
            gates: vec![Gate {
                node: plan.node,
                stmt,
                row_var: l.var,
                rows: rows as usize,
                stride: 1,
                lo: 0,
                hi: 0,
                outermost: false,
                passes: 1,
            }],
        }],
    })
}

/// The nest `s` with the loop of `row_var` moved outermost, the loops above it kept in
/// their order inside it; `None` when `s` is not a perfect nest down to that loop or a
/// loop above it is pipelined (`pipeline`: it would become a chained iteration around
/// the row loop). A pipelined row loop gives its directive to the innermost of the loops
/// moved inside it, which then holds the same iteration (the HLS design flattens them).
///
/// ```text
/// for c in 0..16:                      for i in 0..4:
///   for i in 0..4: [pipeline II=1]  ->   for c in 0..16: [pipeline II=1]
///     body                                 body
/// ```
pub fn row_outermost(s: &Stmt, row_var: LoopVarId, pipeline: bool) -> Option<Stmt> {
    let Stmt::For(l) = s else {
        return None;
    };
    if l.var == row_var {
        return Some(s.clone());
    }
    if pipeline && l.directives.pipeline_ii.is_some() {
        return None;
    }
    let [inner] = &l.body[..] else {
        return None;
    };
    let Stmt::For(mut row) = row_outermost(inner, row_var, pipeline)? else {
        return None;
    };
    let mut outer = l.clone();
    outer.body = std::mem::take(&mut row.body);
    if let Some(ii) = row.directives.pipeline_ii.take() {
        outer.directives.pipeline_ii = Some(ii);
    }
    row.body = vec![Stmt::For(outer)];
    Some(Stmt::For(row))
}

impl crate::module::ModGen<'_> {
    /// The port prefix of parameter `t`.
    fn row_port(&self, t: TensorId) -> Option<String> {
        match self.storage.get(&t) {
            Some(crate::module::Storage::Port { index }) => Some(self.params[*index].port.clone()),
            _ => None,
        }
    }

    /// Whether the module has a `rows_hold`: it has row inputs, or its row output is a
    /// ring's (ring.rs).
    fn has_rows_hold(&self) -> bool {
        let ins = self.row_ports.inputs.iter();
        let ring_out = self.row_ports.output.as_ref().is_some_and(|o| {
            self.rings.contains_key(&o.tensor) && self.row_port(o.tensor).is_some()
        });
        ring_out || ins.clone().any(|i| self.row_port(i.tensor).is_some())
    }

    /// When the module has a `rows_hold`: every write enable gains `~rows_hold` (before
    /// the write logic is built), and the name of the hold.
    pub fn gate_writes(&mut self) -> Option<String> {
        if !self.has_rows_hold() {
            return None;
        }
        let h = "rows_hold".to_string();
        for s in self
            .writes
            .values_mut()
            .chain(self.multi_writes.values_mut())
            .flatten()
        {
            s.we = format!("({} & ~{h})", s.we);
        }
        Some(h)
    }

    /// Loop counter `v` as 32 bits (its values are at least 0 in a row loop).
    fn row_counter(&mut self, v: LoopVarId) -> String {
        let reg = self.loop_reg(v);
        let bits = self.counters.get(v.index()).map_or(32, |c| c.bits);
        let w = self.fresh("rowq");
        let value = if bits >= 32 {
            format!("{reg}[31:0]")
        } else {
            format!("{{{}'d0, {reg}}}", 32 - bits)
        };
        let _ = std::fmt::Write::write_fmt(
            &mut self.decls,
            format_args!("    wire [31:0] {w} = {value};\n"),
        );
        w
    }

    /// The row ports (appended to `ports`) and their logic, `rows_hold` among it; what the
    /// interface says of them.
    #[allow(clippy::type_complexity)]
    pub fn row_logic(
        &mut self,
        ports: &mut Vec<String>,
    ) -> (
        Option<(String, TensorId, RowLayout)>,
        Vec<(String, TensorId, RowLayout)>,
    ) {
        let rp = self.row_ports.clone();
        let sw = crate::module::addr_width(self.states.len().max(2));
        let nest = |g: &Self, n: NodeId| -> Option<String> {
            let (a, b) = g.row_nests.get(&n)?;
            // `b - 1`: `b` may not fit in the state register's width.
            Some(format!(
                "((state >= {sw}'d{a}) && (state <= {sw}'d{}))",
                b - 1
            ))
        };
        let mut out = String::new();
        let mut row_out = None;
        let mut holds = Vec::new();
        // One "the nest has run for this image" register per nest (a node that reads a
        // ring and makes its rows shares it).
        let mut ran: std::collections::HashMap<String, String> = Default::default();
        let mut nest_ran = |inside: &str, name: &str, out: &mut String| -> String {
            if let Some(r) = ran.get(inside) {
                return r.clone();
            }
            let r = format!("{name}_ran");
            out.push_str(&format!(
                "    reg {r}; // the row nest has run for this image\n    always @(posedge clk) begin\n        if (rst || done) {r} <= 1'b0;\n        else if ({inside}) {r} <= 1'b1;\n    end\n"
            ));
            ran.insert(inside.to_string(), r.clone());
            r
        };
        if let Some(o) = &rp.output {
            if let (Some(port), Some(inside)) = (self.row_port(o.tensor), nest(self, o.node)) {
                let q = self.row_counter(o.row_var);
                ports.push(format!("    output wire [31:0] {port}_rows"));
                // After the nest (until `done`) every row is complete: the consumer
                // need not wait for the producer's image count to move on.
                let made = nest_ran(&inside, &port, &mut out);
                out.push_str(&format!(
                    "    assign {port}_rows = {inside} ? {q} : ({made} ? 32'd{} : 32'd0); // rows of `{}` complete\n",
                    o.layout.rows,
                    self.inst.tensor(o.tensor).name
                ));
                if let Some(r) = self.rings.get(&o.tensor).copied() {
                    // Row `q` goes into the slot of row `q - R`: it waits until the
                    // consumer no longer needs that row (ring.rs).
                    ports.push(format!("    input wire [31:0] {port}_room"));
                    holds.push(format!(
                        "({inside} & ({q} < 32'd{}) & ({q} >= {port}_room))",
                        r.full
                    ));
                }
                row_out = Some((port, o.tensor, o.layout.clone()));
            } else if self.rings.contains_key(&o.tensor) {
                // ring.rs plans from the row ports, which say the nest is there.
                self.error(
                    self.inst.span,
                    format!(
                        "internal: the ring of `{}` has no row nest to hold",
                        self.inst.tensor(o.tensor).name
                    ),
                    "build with `--no-dataflow`, and report this",
                );
            }
        }
        let mut row_ins = Vec::new();
        let mut complete = Vec::new();
        for i in &rp.inputs {
            let Some(port) = self.row_port(i.tensor) else {
                continue;
            };
            ports.push(format!("    input wire [31:0] {port}_rows"));
            let avail = format!("$signed({port}_rows)");
            // The producer has finished the image: one more than its rows (frame.rs).
            let all = format!("({avail} > 32'sd{})", i.layout.rows);
            complete.push(all.clone());
            for g in &i.gates {
                let Some(inside) = nest(self, g.node) else {
                    // Not built as planned: wait for the whole input from the start.
                    holds.push(format!("((state != {sw}'d0) & ~{all})"));
                    continue;
                };
                let q = self.row_counter(g.row_var);
                let need = self.fresh("rowneed");
                let hi = plus_const(g.hi);
                out.push_str(&format!(
                    "    wire signed [31:0] {need} = $signed({q}) * 32'sd{} {hi}; // the last row of `{}` row {q} reads\n",
                    g.stride,
                    self.inst.tensor(i.tensor).name
                ));
                holds.push(format!("({inside} & ~(({avail} > {need}) | {all}))"));
                if let (Some(r), [_]) = (self.rings.get(&i.tensor).copied(), i.gates.as_slice()) {
                    // The lowest row the consumer still needs (ring.rs): its window's
                    // first row in the nest, none before it, all after it until `done`.
                    let lo = plus_const(g.lo);
                    let first = self.fresh("rowfirst");
                    let seen = nest_ran(&inside, &port, &mut out);
                    ports.push(format!("    output wire [31:0] {port}_free"));
                    out.push_str(&format!(
                        "    wire signed [31:0] {first} = $signed({q}) * 32'sd{} {lo};\n    assign {port}_free = {inside} ? ({first} < 0 ? 32'd0 : {first}) : ({seen} ? 32'd{} : 32'd0); // the first row of `{}` still needed\n",
                        g.stride,
                        r.full,
                        self.inst.tensor(i.tensor).name
                    ));
                }
            }
            row_ins.push((port, i.tensor, i.layout.clone()));
        }
        if !row_ins.is_empty() {
            // The done state waits for every such input to be complete.
            holds.push(format!(
                "((state == {sw}'d1) & ~({}))",
                complete.join(" & ")
            ));
        }
        if !holds.is_empty() {
            ports.push("    output wire rows_hold".to_string());
            out.push_str(&format!(
                "    assign rows_hold = {}; // the rows this state needs are not there yet\n",
                holds.join("\n        | ")
            ));
        }
        self.assigns.push_str(&out);
        (row_out, row_ins)
    }
}

/// ` + 32'sdV` or ` - 32'sd|V|`: a constant added to a 32-bit signed expression.
fn plus_const(v: i64) -> String {
    if v < 0 {
        format!("- 32'sd{}", -v)
    } else {
        format!("+ 32'sd{v}")
    }
}

impl crate::module::ModGen<'_> {
    /// Node `n`'s nest with its row loop outermost and the length of its prologue, when
    /// the node is one of the row ports' (its body `body`).
    pub fn row_nest(&self, n: NodeId, body: &[Stmt]) -> Option<(usize, Stmt)> {
        let (_, i, v, outermost) = self
            .row_ports
            .row_nodes()
            .into_iter()
            .find(|(m, _, _, _)| *m == n)?;
        let s = body.get(i)?;
        let nest = if outermost {
            row_outermost(s, v, self.pipeline)?
        } else {
            s.clone()
        };
        Some((i, nest))
    }
}

impl crate::module::ModGen<'_> {
    /// The wire of call `k`'s row port `P_rows`, connected (`conns`).
    fn rows_wire(&mut self, k: usize, port: &str, conns: &mut Vec<String>) -> String {
        let w = format!("c{k}_{port}_rows");
        let _ = std::fmt::Write::write_fmt(&mut self.decls, format_args!("    wire [31:0] {w};\n"));
        conns.push(format!(".{port}_rows({w})"));
        w
    }

    /// The wire of call `k`'s ring port `P_room` or `P_free` (`what`), connected.
    fn ring_wire(&mut self, k: usize, port: &str, what: &str, conns: &mut Vec<String>) -> String {
        let w = format!("c{k}_{port}_{what}");
        let _ = std::fmt::Write::write_fmt(&mut self.decls, format_args!("    wire [31:0] {w};\n"));
        conns.push(format!(".{port}_{what}({w})"));
        w
    }

    /// Connects call `k`'s row ports (`conns`): in the top of a frame pipeline to wires
    /// the stage control drives and reads (frame.rs); elsewhere its row inputs are tied
    /// to every row being there and its row output is left open.
    pub fn connect_rows(
        &mut self,
        call: &kiln_passes::ir::Call,
        iface: &crate::module::Iface,
        k: usize,
        conns: &mut Vec<String>,
    ) {
        let callee = self.m.instance(call.callee);
        let frame = self.is_frame();
        if let Some((port, t, rows)) = &iface.row_out {
            let pos = callee.outputs.iter().position(|o| o == t);
            if let (true, Some(r)) = (frame, pos.and_then(|j| call.results.get(j).copied())) {
                let w = self.rows_wire(k, port, conns);
                if let Some(f) = &mut self.frame {
                    f.row_outs.push((k, r, w, rows.clone()));
                }
                if iface.ring_out {
                    let w = self.ring_wire(k, port, "room", conns);
                    if let Some(f) = &mut self.frame {
                        f.ring_rooms.push((k, r, w));
                    }
                }
            }
        }
        for (port, t, rows) in &iface.row_ins {
            let pos = callee.inputs.iter().position(|i| i == t);
            match (frame, pos.and_then(|j| call.args.get(j).copied())) {
                (true, Some(a)) => {
                    let w = self.rows_wire(k, port, conns);
                    if let Some(f) = &mut self.frame {
                        f.row_ins.push((k, a, w, rows.clone()));
                    }
                    if iface.ring_ins.contains(port) {
                        let w = self.ring_wire(k, port, "free", conns);
                        if let Some(f) = &mut self.frame {
                            f.ring_frees.push((k, a, w));
                        }
                    }
                }
                _ => conns.push(format!(".{port}_rows(32'h7fffffff)")),
            }
        }
        if !iface.row_ins.is_empty() || iface.ring_out {
            let w = format!("c{k}_rows_hold");
            let _ = std::fmt::Write::write_fmt(&mut self.decls, format_args!("    wire {w};\n"));
            conns.push(format!(".rows_hold({w})"));
            self.hold_calls.push(k);
        }
    }
}

/// The estimate's cycles (without stream I/O) of each compute node of stage `id`, from
/// `estimates`; `None` when the stage holds a call or the estimate's nodes do not match
/// its compute nodes in schedule order.
pub fn node_cycles(
    module: &kiln_passes::ir::Module,
    estimates: &[(
        kiln_passes::ir::InstanceId,
        kiln_passes::estimate::InstanceEstimate,
    )],
    id: kiln_passes::ir::InstanceId,
) -> Option<std::collections::HashMap<NodeId, f64>> {
    let callee = module.instance(id);
    let est = &estimates.iter().find(|(i, _)| *i == id)?.1;
    let mut node_est = est
        .nodes
        .iter()
        .filter(|e| !(e.callee.is_none() && e.name == "stream I/O"));
    let mut cycles = std::collections::HashMap::new();
    for m in callee.schedule() {
        match &callee.graph[m] {
            Node::Compute(c) => {
                let e = node_est.next()?;
                if e.name != c.name || e.callee.is_some() {
                    return None;
                }
                cycles.insert(m, e.cycles as f64);
            }
            Node::Call(_) => return None,
            _ => {}
        }
    }
    Some(cycles)
}

/// The cycles of the first image through the frame pipeline of `module`'s entry as the
/// RTL builds it, from the estimate's cycles of each node (`estimates`, without stream
/// I/O): a stage starts when the producers of its inputs that are not linked row by row
/// have finished; in each node that reads linked rows, row `q` starts when the rows it
/// needs exist (the producer's result node makes its rows evenly over its cycles, the
/// node's cycles are spread evenly over its rows and passes, and passes after the first
/// wait for nothing); every other node takes its cycles; the stage is done no sooner
/// than its linked producers. `None` when a stage holds a call or the estimate's nodes do
/// not match the stage's (the sum of the stages then stands).
pub fn first_image_cycles(
    module: &kiln_passes::ir::Module,
    estimates: &[(
        kiln_passes::ir::InstanceId,
        kiln_passes::estimate::InstanceEstimate,
    )],
) -> Option<u64> {
    use std::collections::HashMap;
    let top = module.instance(module.entry?);
    // The finish time of each tensor made by a call, and its row layout and the cycles of
    // the node that makes it when it is made row by row.
    let mut made: HashMap<TensorId, (f64, Option<(RowLayout, f64)>)> = HashMap::new();
    let mut latency = 0f64;
    for n in top.schedule() {
        let Node::Call(call) = &top.graph[n] else {
            continue;
        };
        let callee = module.instance(call.callee);
        let cycles = node_cycles(module, estimates, call.callee)?;
        let ports = ports(callee, true);
        let arg_of = |t: TensorId| {
            let j = callee.inputs.iter().position(|&i| i == t)?;
            call.args.get(j).copied()
        };
        // The linked inputs: the callee's tensor -> (producer's finish, rows, row cycles).
        let mut linked: HashMap<TensorId, (f64, usize, f64)> = HashMap::new();
        for i in &ports.inputs {
            if let Some((f, Some((l, w)))) = arg_of(i.tensor).and_then(|a| made.get(&a)) {
                if *l == i.layout {
                    linked.insert(i.tensor, (*f, l.rows, *w));
                }
            }
        }
        let mut time = 0f64;
        for (j, &a) in call.args.iter().enumerate() {
            let t = callee.inputs.get(j).copied();
            if t.is_some_and(|t| linked.contains_key(&t)) {
                continue;
            }
            time = time.max(made.get(&a).map_or(0.0, |m| m.0));
        }
        for m in callee.schedule() {
            let Some(&w) = cycles.get(&m) else {
                continue;
            };
            let gates: Vec<(&Gate, (f64, usize, f64))> = ports
                .inputs
                .iter()
                .filter_map(|i| linked.get(&i.tensor).map(|l| (i, *l)))
                .flat_map(|(i, l)| i.gates.iter().filter(|g| g.node == m).map(move |g| (g, l)))
                .collect();
            let Some((first, _)) = gates.first() else {
                time += w;
                continue;
            };
            let (rows, passes) = (first.rows.max(1), first.passes.max(1));
            let per_row = w / (rows as f64 * passes as f64);
            for q in 0..rows as i64 {
                let ready = gates
                    .iter()
                    .map(|(g, (f, h, wr))| {
                        let need = (g.stride * q + g.hi).min(*h as i64 - 1);
                        if need < 0 {
                            0.0
                        } else {
                            f - wr + wr * (need + 1) as f64 / *h as f64
                        }
                    })
                    .fold(0.0, f64::max);
                time = time.max(ready) + per_row;
            }
            time += per_row * rows as f64 * (passes - 1) as f64;
        }
        for (f, _, _) in linked.values() {
            time = time.max(*f);
        }
        for (j, &r) in call.results.iter().enumerate() {
            let rows = ports
                .output
                .as_ref()
                .filter(|o| callee.outputs.get(j) == Some(&o.tensor))
                .and_then(|o| Some((o.layout.clone(), *cycles.get(&o.node)?)));
            made.insert(r, (time, rows));
            if top.outputs.contains(&r) {
                latency = latency.max(time);
            }
        }
    }
    Some(latency.round() as u64)
}
