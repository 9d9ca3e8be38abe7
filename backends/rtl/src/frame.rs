//! The frame pipeline: a top that is a network of kernel calls runs its calls as stages
//! that work on different images at once, the RTL form of the HLS design's DATAFLOW
//! region with ping-pong buffers between its stages.
//!
//! A top is a network when every node of its own is a call or a scalar computed from
//! constants and it calls two or more kernels (`Instance::dataflow_blocker`, the test the
//! HLS back end and the estimate's layer pipeline use), and every result of the top is
//! made by a call. Then:
//! - **Stages.** Each call instance `uK` is a stage with its own image count `cK_img`
//!   (32 bits, wrapping) and a `cK_busy` flag; the top's FSM only runs the constants'
//!   statements once after reset (`pro_done` when they are written).
//! - **Double buffers.** A tensor made by a call and held in the top (an intermediate
//!   feature map) has two halves: a stage writes and reads the half of its own image
//!   count's parity (`cK_img[0]` above the address when the length is a power of two,
//!   else an offset of the length). A half is a ring of a few rows when one stage makes
//!   the map row by row and one reads it through a window (ring.rs): the top then
//!   drives the producer's `P_room` from the consumer's `P_free`.
//! - **Start conditions.** Stage `K` starts its image `n = cK_img` when it is idle and
//!   every stage `J` before it in schedule order that writes a tensor `K` reads or
//!   writes, or reads a tensor `K` writes, has finished image `n` (`cJ_img != cK_img`;
//!   the counts only grow and no stage runs behind a later one; a tensor may have
//!   several writers: a copy, then a store into part of it), the top has taken image
//!   `n` if it reads a parameter (`acc != cK_img`), each later user `R` of a double
//!   buffer it writes has finished image `n - 2`, which used the same half
//!   (`cK_img - cR_img < 2`), and each later writer `W` of a tensor it writes has
//!   finished image `n - 1` (`cK_img == cW_img`: the writers share the tensor's write
//!   port, so they take turns). The stages form a DAG (schedule order), so some stage
//!   can always go: no deadlock. A producer that makes a tensor row by row for a stage
//!   that reads it row by row (rows.rs) is no start condition: the stage starts and
//!   holds until each row it needs exists.
//! - **Copy stages.** A parameter that two or more calls read is copied, one element a
//!   cycle, into a double buffer of the top's by a stage of its own, and those calls
//!   read the copy; otherwise the caller's single buffer would hold the next image
//!   until the last of them is done, and the first stage would wait for the last.
//! - **Interface.** `start` offers the next image; the top takes it (`acc` counts them)
//!   while `ready`: every stage that reads a parameter has finished the images taken so
//!   far, or finishes the last of them in this cycle (its last read of it behind it), so
//!   the parameters may hold the next one from the next cycle on. `done` is high for one
//!   cycle when one more image's results are complete (every stage that writes a result
//!   has finished it). Each read port `P_raJ` of a parameter and each write port of a result come
//!   with the image they are for, `P_riJ` and `P_wi` (the stage's count): several stages
//!   may read or write the caller's memories for different images in one cycle, and
//!   the caller (the testbench) keeps one slot per image.
//!
//! In steady state a result leaves every `max(stage cycles) + 1` cycles (the slowest
//! stage starts again the cycle after its `done`), where the sequential top takes the sum
//! of the stages: LeNet's five stages (725 to 4,481 cycles each) took 11,682 cycles an
//! image one after another and give a result every 4,482 (docs/rtl.md). The price is
//! the second half of every intermediate memory.
//!
//! Before (the sequential top of two calls, control.rs):
//! ```text
//! state 3: c0_start; state 4: wait c0_done; state 5: c1_start; state 6: wait c1_done
//! ```
//! After:
//! ```text
//! c0_start = pro_done && !c0_busy && (acc != c0_img) && ((c0_img - c1_img) < 2)
//! c1_start = pro_done && !c1_busy && (c0_img != c1_img)
//! t3_y_mem [0:2N-1], written at {c0_img[0], wa}, read at {c1_img[0], ra}
//! ```

use crate::bank::BankingVerilog;
use crate::module::{addr_width, ident, ModGen, Storage, WriteSrc};
use kiln_passes::ir::{Instance, Node, TensorId, TensorKind};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// What the top of a frame pipeline records while its calls are connected.
#[derive(Clone, Debug, Default)]
pub struct Frame {
    /// The tensors made by a call and held in this module, and the copies of `copied`:
    /// two halves each.
    pub double: HashSet<TensorId>,
    /// Parameters that two or more calls read, each with the memory of its copy: a copy
    /// stage moves each image into it, and those calls read the copy.
    pub copied: Vec<(TensorId, String)>,
    /// While a call's ports are connected: its image count register (`cK_img`).
    pub image: Option<String>,
    /// The stages, in the order they were connected.
    pub stages: Vec<Stage>,
    /// Row outputs of the calls (rows.rs): the call, the top's tensor, the wire of its
    /// complete rows, and their layout.
    pub row_outs: Vec<(usize, TensorId, String, crate::rows::RowLayout)>,
    /// Row inputs of the calls: the call, the top's tensor, the wire the stage control
    /// drives with the rows there, and their layout.
    pub row_ins: Vec<(usize, TensorId, String, crate::rows::RowLayout)>,
    /// The producers of rings (ring.rs): the call, the top's tensor, the wire of its
    /// `P_room` input.
    pub ring_rooms: Vec<(usize, TensorId, String)>,
    /// The consumers of rings: the call, the top's tensor, the wire of its `P_free`.
    pub ring_frees: Vec<(usize, TensorId, String)>,
}

/// One stage of the top: a call, or the copy stage of a parameter.
#[derive(Clone, Debug)]
pub struct Stage {
    /// The call instance's number (`uK`).
    pub k: usize,
    pub args: Vec<TensorId>,
    pub results: Vec<TensorId>,
    /// A copy stage: its argument is the parameter, its result the copy (one tensor).
    pub copy: bool,
}

/// The frame pipeline of `inst` when it is a network whose results are all made by its
/// calls; otherwise why not (`None` when it calls fewer than two kernels), and it then
/// runs its nodes one after another.
pub fn plan(inst: &Instance) -> Result<Frame, Option<String>> {
    let calls = node_calls(inst);
    if calls.len() < 2 {
        return Err(None);
    }
    if let Some(why) = inst.dataflow_blocker() {
        return Err(Some(why));
    }
    let made: HashSet<TensorId> = calls.iter().flat_map(|c| c.results.clone()).collect();
    if let Some(&t) = inst.outputs.iter().find(|t| !made.contains(t)) {
        return Err(Some(format!(
            "its result `{}` is not made by a call",
            inst.tensor(t).name
        )));
    }
    let mut double: HashSet<TensorId> = made
        .into_iter()
        .filter(|&t| {
            let tm = inst.tensor(t);
            matches!(tm.kind, TensorKind::Temp)
                && !tm.is_empty()
                && !inst.outputs.contains(&t)
                && !inst.inputs.contains(&t)
        })
        .collect();
    // A parameter two calls read would hold the next image back until the later one is
    // done with it (the caller has one buffer); a copy stage takes each image into a
    // double buffer of the top's as soon as the copy of the image before is free.
    let mut copied = Vec::new();
    for &t in &inst.inputs {
        let readers = calls.iter().filter(|c| c.args.contains(&t)).count();
        if readers >= 2 && !inst.tensor(t).is_empty() {
            let mem = format!("cp{}_{}_mem", copied.len(), ident(&inst.tensor(t).name));
            copied.push((t, mem));
            double.insert(t);
        }
    }
    Ok(Frame {
        double,
        copied,
        ..Frame::default()
    })
}

/// The calls that are nodes of `inst` (a network top's stages).
pub fn node_calls(inst: &Instance) -> Vec<&kiln_passes::ir::Call> {
    inst.graph
        .node_weights()
        .filter_map(|n| match n {
            Node::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

impl ModGen<'_> {
    /// The copy stage of each parameter in `copied`, stage `K` after the calls: it reads
    /// the image the top has taken through a read port of its own, one element a cycle,
    /// into the half of its image count's parity of the copy, and is a stage like a call
    /// (its `done` the cycle it moves the last element; its result the copy).
    fn copy_stages(&mut self) {
        let Some(f) = self.frame.clone() else {
            return;
        };
        for (i, (t, mem)) in f.copied.iter().enumerate() {
            let k = self.calls + i;
            let Some(Storage::Port { index }) = self.storage.get(t).cloned() else {
                continue;
            };
            let len = self.inst.tensor(*t).len();
            let aw = addr_width(len);
            let _ = writeln!(
                self.decls,
                "    reg [31:0] c{k}_img; // stage {k}: copies `{}` (read by several stages)\n    reg c{k}_busy;\n    wire c{k}_start;\n    reg [{}:0] c{k}_i;\n    wire c{k}_done = c{k}_busy && (c{k}_i == {aw}'d{});",
                self.inst.tensor(*t).name,
                aw - 1,
                len - 1
            );
            let data = self.port_read(index, &format!("c{k}_i"), Some(format!("c{k}_img")), true);
            if let Some(fr) = &mut self.frame {
                fr.image = Some(format!("c{k}_img"));
            }
            let at = self.frame_addr(*t, &format!("c{k}_i"), len, aw);
            if let Some(fr) = &mut self.frame {
                fr.image = None;
                fr.stages.push(Stage {
                    k,
                    args: vec![*t],
                    results: vec![*t],
                    copy: true,
                });
            }
            let _ = writeln!(
                self.assigns,
                "    always @(posedge clk) begin\n        if (c{k}_start) c{k}_i <= {aw}'d0;\n        else if (c{k}_busy && !c{k}_done) c{k}_i <= c{k}_i + {aw}'d1;\n        if (c{k}_busy) {mem}[{at}] <= {data};\n    end"
            );
        }
    }

    /// Whether this module is the top of a frame pipeline.
    pub fn is_frame(&self) -> bool {
        self.frame.is_some()
    }

    /// The address in tensor `t`'s memory (or bank, `len` elements) of element `addr`
    /// (`aw` bits) for the call being connected: the half of its image's parity when `t`
    /// is double-buffered, else `addr`.
    pub fn frame_addr(&mut self, t: TensorId, addr: &str, len: usize, aw: u32) -> String {
        let Some(f) = &self.frame else {
            return addr.to_string();
        };
        let (true, Some(img)) = (f.double.contains(&t), f.image.clone()) else {
            return addr.to_string();
        };
        let half = format!("{img}[0]");
        if 1usize << aw == len {
            return format!("{{{half}, {addr}}}");
        }
        let n = self.fresh("half");
        let w = aw + 1;
        let _ = writeln!(
            self.decls,
            "    wire [{aw}:0] {n} = {{1'b0, {addr}}} + ({half} ? {w}'d{len} : {w}'d0);"
        );
        n
    }

    /// The memory of parameter `t`'s copy when the call being connected reads the copy.
    pub fn frame_copy(&self, t: TensorId) -> Option<String> {
        let f = self.frame.as_ref().filter(|f| f.image.is_some())?;
        f.copied
            .iter()
            .find(|(c, _)| *c == t)
            .map(|(_, m)| m.clone())
    }

    /// Source `s` of writes into `t` from the call being connected, in its image's half.
    pub fn frame_write(&mut self, t: TensorId, mut s: WriteSrc) -> WriteSrc {
        let (len, aw) = match self.banking(t) {
            Some(b) => (b.bank_len(), b.off_width()),
            None => {
                let len = self.inst.tensor(t).len();
                (len, addr_width(len))
            }
        };
        s.addr = self.frame_addr(t, &s.addr, len, aw);
        s
    }

    /// The number of elements tensor `t`'s memory (or each bank, of `len`) holds here.
    pub fn frame_depth(&self, t: TensorId, len: usize) -> usize {
        match &self.frame {
            Some(f) if f.double.contains(&t) => 2 * len,
            _ => len,
        }
    }

    /// Whether `t` is double-buffered here (its write address is one bit wider).
    pub fn is_double(&self, t: TensorId) -> bool {
        self.frame.as_ref().is_some_and(|f| f.double.contains(&t))
    }

    /// Declares call `k`'s stage registers and starts connecting its ports as a stage.
    pub fn begin_stage(&mut self, k: usize) {
        let _ = writeln!(
            self.decls,
            "    reg [31:0] c{k}_img; // stage {k}: the images it has finished\n    reg c{k}_busy;\n    wire c{k}_start;"
        );
        if let Some(f) = &mut self.frame {
            f.image = Some(format!("c{k}_img"));
        }
    }

    /// Ends connecting call `k` (its arguments and results).
    pub fn end_stage(&mut self, k: usize, args: &[TensorId], results: &[TensorId]) {
        if let Some(f) = &mut self.frame {
            f.image = None;
            f.stages.push(Stage {
                k,
                args: args.to_vec(),
                results: results.to_vec(),
                copy: false,
            });
        }
    }

    /// The image the call being connected works on, for a port of the top.
    pub fn frame_image(&self) -> Option<String> {
        self.frame.as_ref().and_then(|f| f.image.clone())
    }

    /// The stages' start conditions and counters, `acc`, `ready` and `done` (after every
    /// call is connected).
    pub fn stage_control(&mut self) {
        if self.frame.is_none() {
            return;
        }
        self.copy_stages();
        let Some(f) = self.frame.clone() else {
            return;
        };
        // The stages in schedule order: the copy stages first (they take the top's
        // parameters), then the calls, which were connected last first (control.rs
        // builds the top's statements from its end), so stage `k` of `calls` is
        // the `calls - 1 - k`-th call.
        let order = |s: &Stage| if s.copy { 0 } else { 1 + self.calls - 1 - s.k };
        let mut stages: Vec<&Stage> = f.stages.iter().collect();
        stages.sort_by_key(|s| order(s));
        // Each tensor of the top's the stages use, with its users in schedule order: a
        // user reads it, writes it, or both.
        let mut users: HashMap<TensorId, Vec<(usize, bool, bool)>> = HashMap::new();
        for s in &stages {
            for &t in s.args.iter().chain(&s.results) {
                let u = users.entry(t).or_default();
                if !u.iter().any(|&(k, ..)| k == s.k) {
                    u.push((s.k, s.args.contains(&t), s.results.contains(&t)));
                }
            }
        }
        // The one stage that writes a tensor (a row link or a ring needs exactly one).
        let made: HashMap<TensorId, usize> = users
            .iter()
            .filter_map(|(&t, u)| {
                let mut writers = u.iter().filter(|&&(_, _, w)| w);
                match (writers.next(), writers.next()) {
                    (Some(&(k, ..)), None) => Some((t, k)),
                    _ => None,
                }
            })
            .collect();
        // Row links (rows.rs): a row input fed by its producer's row output needs no
        // start condition on that producer; it holds in its row nests instead.
        let source = |t: &TensorId, layout: &crate::rows::RowLayout| {
            made.get(t).and_then(|&p| {
                // The producer's rows are the consumer's: the same rows, and for a
                // vector the same arrival order (its first digit the row).
                f.row_outs
                    .iter()
                    .find(|(q, o, _, l)| *q == p && o == t && l == layout)
                    .map(|(_, _, ow, _)| (p, ow))
            })
        };
        // A stage that takes the tensor through several parameters (two fused
        // consumers of one feature map) starts on its rows only when every one of them
        // is a row input: a parameter read whole has no hold.
        let linked: HashSet<(usize, TensorId)> = f
            .row_ins
            .iter()
            .filter(|(k, t, _, layout)| {
                let bound = f
                    .stages
                    .iter()
                    .filter(|s| s.k == *k)
                    .flat_map(|s| s.args.iter())
                    .filter(|&a| a == t)
                    .count();
                let fed = f
                    .row_ins
                    .iter()
                    .filter(|(j, u, ..)| j == k && u == t)
                    .count();
                source(t, layout).is_some() && fed == bound
            })
            .map(|(k, t, ..)| (*k, *t))
            .collect();
        let mut out = String::new();
        for (k, t, w, layout) in &f.row_ins {
            match source(t, layout).filter(|_| linked.contains(&(*k, *t))) {
                Some((p, ow)) => {
                    // One more than the rows once the producer has finished the image:
                    // the consumer's `done` waits for that (rows.rs), so that no stage
                    // finishes an image before its producer does.
                    let _ = writeln!(
                        out,
                        "    assign {w} = (c{p}_img != c{k}_img) ? 32'd{} : (c{p}_busy ? {ow} : 32'd0);",
                        layout.rows + 1
                    );
                }
                None => {
                    let _ = writeln!(out, "    assign {w} = 32'h7fffffff;");
                }
            }
        }
        if !linked.is_empty() {
            // Which stages start on their producers' rows, for `kiln rtl`'s notes.
            let module_of = |k: usize| {
                self.call_insts
                    .iter()
                    .find(|(j, _)| *j == k)
                    .map_or(String::new(), |(_, m)| m.clone())
            };
            let mut links: Vec<String> = f
                .row_ins
                .iter()
                .filter(|(k, t, _, _)| linked.contains(&(*k, *t)))
                .map(|(k, t, _, _)| {
                    let p = made.get(t).map_or(String::new(), |&p| module_of(p));
                    format!("`{p}` -> `{}`", module_of(*k))
                })
                .collect();
            links.sort();
            self.notes.push(format!(
                "`{}`: {} stage input(s) taken row by row, each stage starting on its producer's first rows (docs/rtl.md, \"Row-level start\"): {}",
                self.inst.kernel,
                links.len(),
                links.join(", ")
            ));
        }
        // Rings (ring.rs): the producer may make rows up to the consumer's first needed
        // row plus the ring's rows when the consumer works on its image, the ring's rows
        // when it is still on the image before (the other half).
        for (p, t, room) in &f.ring_rooms {
            let consumer = f.ring_frees.iter().find(|(_, u, _)| u == t);
            match (consumer, self.rings.get(t)) {
                (Some((c, _, free)), Some(r)) => {
                    let _ = writeln!(
                        out,
                        "    assign {room} = (c{c}_img == c{p}_img) ? ({free} + 32'd{}) : 32'd{};",
                        r.rows, r.rows
                    );
                }
                _ => {
                    let name = self.inst.tensor(*t).name.clone();
                    self.error(
                        self.inst.span,
                        format!("internal: the ring of `{name}` has no consumer"),
                        "build with `--no-dataflow`, and report this",
                    );
                }
            }
        }
        if !self.rings.is_empty() {
            let mut names: Vec<String> = self
                .rings
                .iter()
                .map(|(t, r)| {
                    format!(
                        "`{}` ({} of {} rows)",
                        self.inst.tensor(*t).name,
                        r.rows,
                        r.full
                    )
                })
                .collect();
            names.sort();
            self.notes.push(format!(
                "`{}`: {} feature map(s) held as rings of rows between a stage that makes them row by row and one that reads them through a window (docs/rtl.md, \"Line buffers\"): {}",
                self.inst.kernel,
                names.len(),
                names.join(", ")
            ));
        }
        let is_param = |g: &Self, t: TensorId, output: bool| matches!(g.storage.get(&t), Some(Storage::Port { index }) if g.params[*index].output == output);
        let (mut input_readers, mut result_writers) = (Vec::new(), Vec::new());
        for s in &stages {
            let k = s.k;
            let mut conds = vec!["pro_done".to_string(), format!("!c{k}_busy")];
            // Each condition once (two tensors of one producer, or of one reader).
            let push = |conds: &mut Vec<String>, c: String| {
                if !conds.contains(&c) {
                    conds.push(c);
                }
            };
            if s.copy {
                // The parameter itself: the image the top has taken.
                push(&mut conds, format!("(acc != c{k}_img)"));
                input_readers.push(k);
            } else {
                for &t in &s.args {
                    if !users.get(&t).is_some_and(|u| u.iter().any(|&(_, _, w)| w))
                        && is_param(self, t, false)
                    {
                        push(&mut conds, format!("(acc != c{k}_img)"));
                        if !input_readers.contains(&k) {
                            input_readers.push(k);
                        }
                    }
                }
            }
            let writes = |t: TensorId| s.results.contains(&t);
            for &t in s.args.iter().chain(&s.results) {
                let Some(u) = users.get(&t) else {
                    continue;
                };
                let at = u.iter().position(|&(j, ..)| j == k).unwrap_or(0);
                // The users before this one in schedule order, on this image: every
                // write before a read or a write, and every read before a write, done
                // (`cJ_img` is past `cK_img`: no stage runs behind a stage after it).
                // A read of the one writer's rows as they are made is no condition
                // (rows.rs: the stage holds in its row nests).
                for &(j, _, j_writes) in &u[..at] {
                    if (j_writes || writes(t)) && !linked.contains(&(k, t)) {
                        push(&mut conds, format!("(c{j}_img != c{k}_img)"));
                    }
                }
                // A writer of a double buffer takes image `n`'s half only when every
                // later user has finished image `n - 2`, which used the same half.
                // Stages that write one tensor share its write port (the first one
                // writing in a cycle has it): a writer starts image `n` only when
                // every later writer has finished image `n - 1`, so they never write
                // at once.
                if writes(t) {
                    for &(j, _, j_writes) in &u[at + 1..] {
                        if j_writes {
                            push(&mut conds, format!("(c{k}_img == c{j}_img)"));
                        } else if f.double.contains(&t) {
                            push(&mut conds, format!("((c{k}_img - c{j}_img) < 32'd2)"));
                        }
                    }
                }
            }
            for &t in &s.results {
                if is_param(self, t, true) && !result_writers.contains(&k) {
                    result_writers.push(k);
                }
            }
            let _ = writeln!(
                out,
                "    assign c{k}_start = {};\n    always @(posedge clk) begin\n        if (rst) begin\n            c{k}_img <= 32'd0;\n            c{k}_busy <= 1'b0;\n        end else begin\n            if (c{k}_start) c{k}_busy <= 1'b1;\n            if (c{k}_done) begin\n                c{k}_busy <= 1'b0;\n                c{k}_img <= c{k}_img + 32'd1;\n            end\n        end\n    end",
                conds.join(" && ")
            );
        }
        // A reader finishing its image in this cycle has made its last read of it: the
        // top takes the next image at this edge, and the reader starts on it the cycle
        // after its `done`, as every other stage does.
        let ready: Vec<String> = std::iter::once("pro_done".to_string())
            .chain(input_readers.iter().map(|k| {
                format!("((c{k}_img == acc) || (c{k}_done && (c{k}_img + 32'd1 == acc)))")
            }))
            .collect();
        let done: Vec<String> = result_writers
            .iter()
            .map(|k| format!("(c{k}_img != out_img)"))
            .collect();
        let _ = writeln!(
            self.decls,
            "    reg [31:0] acc; // the images taken\n    reg [31:0] out_img; // the images whose results are complete\n    wire pro_done = (state == 1);"
        );
        let _ = writeln!(
            out,
            "    assign ready = {};\n    assign done = {};\n    always @(posedge clk) begin\n        if (rst) begin\n            acc <= 32'd0;\n            out_img <= 32'd0;\n        end else begin\n            if (start && ready) acc <= acc + 32'd1;\n            if (done) out_img <= out_img + 32'd1;\n        end\n    end",
            ready.join(" && "),
            if done.is_empty() {
                "1'b0".to_string()
            } else {
                done.join(" && ")
            }
        );
        self.assigns.push_str(&out);
    }
}
