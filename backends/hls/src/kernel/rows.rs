//! Row-by-row dataflow stages: the C++ of a stage whose instance has a row plan
//! (passes/src/ir/stage.rs), DNNBuilder's fine-grained layer pipeline.
//!
//! The stage holds every image it reads or makes in a line buffer (`[C][rows][W]`, row `p`
//! in slot `p % rows`), reads one row of each input per step (pixel by pixel, channels
//! innermost, from its stream or from memory), and after each step lets every node
//! compute its next row as soon as the rows it reads exist. A node's row is its own loop
//! nest with the row loop pinned to one iteration, so the arithmetic is the kernel's,
//! statement for statement. The result leaves row by row, pixel by pixel. A low-bit
//! reduction (lowbit.rs) reads its images packed into words, each row packed into the
//! slot of a packed line buffer once it is read or made. A stream of width
//! V (passes/src/ir/mod.rs, "Stream words") moves a word of V channels of one pixel a
//! cycle, through V banks along the channels of the line buffer.
//!
//! ```text
//! static void net_conv_stage1(hls::stream<in_t> &x, ..., hls::stream<out_t> &result) {
//!     static in_t lb_x[1][1][28];  static xp_t t_xp[1][5][28];  static out_t rb_result[6][1][24];
//!     int k_have0 = 0, k_made0 = 0, k_made1 = 0;
//!     L_steps: for (int k_step = 0; k_step <= 28; k_step++) {
//!         if (k_step < 28) { ... lb_x[c][k_step % 1][w] = x.read(); k_have0++; }
//!         for (;;) {
//!             bool k_progress = false;
//!             if (k_made0 < 28 && min(k_made0, 27) < k_have0) { <xp row k_made0> }
//!             if (k_made1 < 24 && min(k_made1 + 4, 27) < k_made0) { <conv row>; <send row> }
//!             if (!k_progress) break;
//!         }
//!     }
//! }
//! ```

use super::{dims, prototype, stream_word, Emitter, Port};
use crate::types::{ident, storage};
use kiln_passes::analysis::bin_reduction::Bits;
use kiln_passes::ir::stage::RowPlan;
use kiln_passes::ir::{InstanceId, Node, PartitionKind, TensorId, TensorKind};

/// The definition of the row stage `name` of `callee` with the ports in `mask` on
/// streams, or the errors its nodes raised.
pub(super) fn row_stage(
    parent: &Emitter,
    callee: InstanceId,
    plan: &RowPlan,
    name: &str,
    mask: &[bool],
) -> Result<String, Vec<kiln_passes::diag::Diagnostic>> {
    let inst = parent.module.instance(callee);
    let wports: Vec<Port> = super::stage_ports(inst, mask);
    let mut e = Emitter::for_stage(parent, inst);
    e.line("KILN_PRAGMA(HLS INLINE off)");
    let mut unique = super::stage_namer(&wports);
    // Line buffers: image inputs (copied in row by row), intermediate images, and the
    // result's row when it leaves on a stream.
    let mut arrays: Vec<(TensorId, String)> = Vec::new();
    for b in &plan.buffers {
        let tm = inst.tensor(b.tensor);
        let port = wports.iter().find(|p| p.tensor == b.tensor);
        let prefix = match (port, &tm.kind) {
            (Some(p), _) if p.output && !p.stream => {
                // A result in memory is written in place, whole.
                e.names.insert(b.tensor, p.name.clone());
                continue;
            }
            (Some(p), _) if p.output => "rb",
            (_, TensorKind::Input(_)) => "lb",
            _ => "t",
        };
        let n = unique(format!("{prefix}_{}", ident(&tm.name)));
        e.line(&format!(
            "static {} {n}[{}][{}][{}];",
            storage(&tm.elem),
            tm.shape[0],
            b.rows,
            tm.shape[2]
        ));
        e.names.insert(b.tensor, n.clone());
        e.folded.insert(b.tensor, b.rows);
        arrays.push((b.tensor, n));
    }
    // A result that is not an image, sent whole: made in a buffer of its own shape.
    let flat_stream = wports
        .iter()
        .find(|p| p.tensor == plan.output && p.stream && plan.flat_output)
        .cloned();
    if let Some(p) = &flat_stream {
        let tm = inst.tensor(plan.output);
        let n = unique(format!("rb_{}", ident(&tm.name)));
        e.line(&format!(
            "static {} {n}{};",
            storage(&tm.elem),
            dims(&tm.shape)
        ));
        e.names.insert(plan.output, n.clone());
        arrays.push((plan.output, n));
        let _ = p;
    }
    // A streamed input that is not an image read row by row (weights computed by an
    // earlier stage, say) is read whole into a buffer before the rows start, in the order
    // it travels between stages (an image pixel by pixel, channels innermost; anything
    // else row-major).
    let mut whole_inputs: Vec<(Port, String)> = Vec::new();
    for p in wports.iter().filter(|p| p.stream && !p.output) {
        if plan.buffers.iter().any(|b| b.tensor == p.tensor) {
            continue;
        }
        let n = unique(format!("wb_{}", ident(&p.name)));
        e.line(&format!(
            "static {} {n}{};",
            storage(&p.elem),
            dims(&p.shape)
        ));
        e.names.insert(p.tensor, n.clone());
        whole_inputs.push((p.clone(), n));
    }
    for p in &wports {
        e.names.entry(p.tensor).or_insert_with(|| p.name.clone());
    }
    // Constant tables and any other temporary the nodes use.
    e.declare_temps(&mut unique, &mut arrays);
    // The words of V channels a stream port moves a cycle (its buffer needs V banks along
    // the channels).
    let word = |t: TensorId| {
        wports
            .iter()
            .find(|p| p.tensor == t && p.stream && p.width > 1)
            .map(|p| p.width as usize)
    };
    // Partitions, with the row dimension of a line buffer limited to its rows, and the
    // channel dimension of a word's buffer banked for the word too.
    for (t, n) in &arrays {
        for p in &inst.tensor(*t).partition {
            let rows = if p.dim == 1 {
                e.folded.get(t).copied()
            } else {
                None
            };
            let channels = inst.tensor(*t).shape[0];
            let kind = match (p.kind, rows, word(*t).filter(|_| p.dim == 0)) {
                (PartitionKind::Complete, _, _) => "type=complete".to_string(),
                (_, Some(r), _) if p.factor as usize >= r => "type=complete".to_string(),
                (PartitionKind::Cyclic, _, Some(v)) => {
                    let f = lcm(p.factor as usize, v);
                    if f >= channels {
                        "type=complete".to_string()
                    } else {
                        format!("type=cyclic factor={f}")
                    }
                }
                // Blocks of channels do not hold a word's consecutive channels apart.
                (PartitionKind::Block, _, Some(_)) => "type=complete".to_string(),
                (PartitionKind::Cyclic, _, None) => format!("type=cyclic factor={}", p.factor),
                (PartitionKind::Block, _, None) => format!("type=block factor={}", p.factor),
            };
            e.line(&format!(
                "KILN_PRAGMA(HLS ARRAY_PARTITION variable={n} {kind} dim={})",
                p.dim + 1
            ));
        }
    }
    // A stream word of V channels is read into (or sent from) V banks along the channels
    // of its line buffer, when no partition of the channels is there to widen.
    for (t, n) in &arrays {
        let Some(p) = wports
            .iter()
            .find(|p| p.tensor == *t && p.stream && p.width > 1)
        else {
            continue;
        };
        // A partition of the channels is widened for the word above.
        let covered = inst.tensor(*t).partition.iter().any(|q| q.dim == 0);
        if !covered {
            e.line(&format!(
                "KILN_PRAGMA(HLS ARRAY_PARTITION variable={n} type=cyclic factor={} dim=1)",
                p.width
            ));
        }
    }
    e.declare_locals(&wports);
    // Low-bit reductions over packed words: the images they read are packed row by row,
    // into as many slots as their line buffers hold, as each row arrives.
    e.lowbit = crate::lowbit::Plan::for_rows(inst, plan);
    let mut packs: Vec<(TensorId, Vec<String>)> = Vec::new();
    for p in e.lowbit.row_packs().to_vec() {
        let src = e.names[&p.tensor].clone();
        let rows = e.folded.get(&p.tensor).copied().unwrap_or(1);
        let name = crate::lowbit::pack_name(inst, e.consts, &p, &src);
        let shape = crate::lowbit::row_pack_shape(inst, &p, rows);
        e.line(&format!("static kiln::word {name}{};", dims(&shape)));
        if p.bits == Bits::Trit {
            e.line(&format!("static kiln::word {name}_m{};", dims(&shape)));
        }
        let row = format!("k_pack_row{}", packs.len());
        let lines = crate::lowbit::row_packing_loops(inst, &p, &name, &src, &row, rows);
        packs.push((p.tensor, lines));
    }
    // The packings of `t`'s row `row` (a C++ expression), in a block of their own.
    let pack_row = |e: &mut Emitter, t: TensorId, row: &str| {
        for (k, (_, lines)) in packs.iter().enumerate().filter(|(_, (u, _))| *u == t) {
            e.line("{");
            e.indent += 1;
            e.line(&format!("const int k_pack_row{k} = {row};"));
            for l in lines {
                e.line(l);
            }
            e.indent -= 1;
            e.line("}");
        }
    };
    for (p, n) in &whole_inputs {
        let order: Vec<usize> = if p.shape.len() == 3 {
            vec![1, 2, 0]
        } else {
            (0..p.shape.len()).collect()
        };
        e.line(&format!("// `{}`, whole, before the rows", p.name));
        for &d in &order {
            let first = d == order[0];
            e.line(&format!(
                "{}for (int c{d} = 0; c{d} < {}; c{d}++) {{",
                if first {
                    format!("L_read_{}: ", ident(&p.name))
                } else {
                    String::new()
                },
                p.shape[d]
            ));
            e.indent += 1;
            if d == *order.last().unwrap_or(&0) {
                e.line("KILN_PRAGMA(HLS PIPELINE II=1)");
            }
        }
        let idx: String = (0..p.shape.len()).map(|k| format!("[c{k}]")).collect();
        e.line(&format!("{n}{idx} = {}.read();", p.name));
        for _ in &order {
            e.indent -= 1;
            e.line("}");
        }
    }

    // Progress counters: rows read of each image input, rows made by each node.
    let inputs: Vec<(TensorId, usize)> = plan
        .buffers
        .iter()
        .filter(|b| inst.inputs.contains(&b.tensor))
        .map(|b| (b.tensor, inst.tensor(b.tensor).shape[1]))
        .collect();
    let have = |k: usize| format!("k_have{k}");
    let made = |k: usize| format!("k_made{k}");
    let mut counters: Vec<String> = (0..inputs.len()).map(have).collect();
    counters.extend((0..plan.nodes.len()).map(made));
    if !counters.is_empty() {
        e.line(&format!(
            "int {};",
            counters
                .iter()
                .map(|c| format!("{c} = 0"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let available = |t: TensorId| -> String {
        if let Some(k) = inputs.iter().position(|i| i.0 == t) {
            return have(k);
        }
        let k = plan
            .nodes
            .iter()
            .position(|n| n.result == t)
            .expect("an image of the plan is an input or a node's result");
        made(k)
    };
    // What nodes do once, before their rows (weights into partitioned buffers).
    for rn in plan.nodes.iter().filter(|n| n.prologue > 0) {
        if let Node::Compute(c) = &inst.graph[rn.node] {
            e.line(&format!(
                "// {}, before its rows: {}",
                c.name,
                (e.locate)(c.span)
            ));
            let before = c.body[..rn.prologue].to_vec();
            e.block(&before, &ident(&c.name));
        }
    }
    let steps = inputs.iter().map(|i| i.1).max().unwrap_or(0);
    let label = e.label(format!("L_{}_steps", ident(name)));
    e.line(&format!(
        "{label}: for (int k_step = 0; k_step <= {steps}; k_step++) {{"
    ));
    e.indent += 1;
    // One more row of every image input.
    for (k, &(t, height)) in inputs.iter().enumerate() {
        let tm = inst.tensor(t);
        let port = wports
            .iter()
            .find(|p| p.tensor == t)
            .expect("an input port");
        let lb = e.names[&t].clone();
        let (c, w) = (tm.shape[0], tm.shape[2]);
        let slot = plan.rows_of(t).unwrap_or(1);
        e.line(&format!("if (k_step < {height}) {{"));
        e.indent += 1;
        let lw = e.label(format!("L_read_{}", ident(&port.name)));
        e.line(&format!("{lw}: for (int w = 0; w < {w}; w++) {{"));
        if port.stream && port.width > 1 {
            // A word of V channels a cycle.
            let v = port.width;
            e.line(&format!("    for (int c = 0; c < {c}; c += {v}) {{"));
            e.line("        KILN_PRAGMA(HLS PIPELINE II=1)");
            e.line(&format!(
                "        const {} k_word = {}.read();",
                stream_word(&port.elem, v),
                port.name
            ));
            e.line(&format!("        for (int r = 0; r < {v}; r++) {{"));
            e.line("            KILN_PRAGMA(HLS UNROLL)");
            e.line(&format!(
                "            {lb}[c + r][k_step % {slot}][w] = k_word.v[r];"
            ));
            e.line("        }");
        } else {
            let src = if port.stream {
                format!("{}.read()", port.name)
            } else {
                format!("{}[c][k_step][w]", port.name)
            };
            e.line(&format!("    for (int c = 0; c < {c}; c++) {{"));
            e.line("        KILN_PRAGMA(HLS PIPELINE II=1)");
            e.line(&format!("        {lb}[c][k_step % {slot}][w] = {src};"));
        }
        e.line("    }");
        e.line("}");
        pack_row(&mut e, t, "k_step");
        e.line(&format!("{}++;", have(k)));
        e.indent -= 1;
        e.line("}");
    }
    // Sweeps: each node computes its next row when the rows it reads exist.
    let ls = e.label(format!("L_{}_sweep", ident(name)));
    e.line(&format!("{ls}: for (;;) {{"));
    e.indent += 1;
    e.line("bool k_progress = false;");
    for (k, rn) in plan.nodes.iter().enumerate() {
        let Node::Compute(c) = &inst.graph[rn.node] else {
            continue;
        };
        let mut conds = vec![format!("{} < {}", made(k), rn.rows)];
        for w in &rn.windows {
            let last = inst.tensor(w.tensor).shape[1] as i64 - 1;
            let need = format!("{}LL * {} + {}", w.stride, made(k), w.hi).replace("+ -", "- ");
            conds.push(format!(
                "(({need}) < {last} ? ({need}) : {last}) < {}",
                available(w.tensor)
            ));
        }
        e.line(&format!("if ({}) {{", conds.join(" && ")));
        e.indent += 1;
        let row = format!("k_row{k}");
        e.line(&format!("const int {row} = {};", made(k)));
        let loc = (e.locate)(c.span);
        e.line(&format!("// {}: {loc}", c.name));
        e.pinned = Some((rn.row_var, row.clone()));
        // A flat result sent as it is computed: each store also writes the stream.
        if let (Some(p), true) = (&flat_stream, plan.flat_early && rn.result == plan.output) {
            e.send_on_store = Some((plan.output, p.name.clone()));
        }
        let body = c.body[rn.prologue..].to_vec();
        e.block(&body, &ident(&c.name));
        e.send_on_store = None;
        e.pinned = None;
        pack_row(&mut e, rn.result, &row);
        if rn.result == plan.output && !plan.flat_output {
            if let Some(p) = wports.iter().find(|p| p.tensor == plan.output && p.stream) {
                let rb = e.names[&plan.output].clone();
                let (ch, w) = (p.shape[0], p.shape[2]);
                let lw = e.label(format!("L_write_{}", ident(&p.name)));
                e.line(&format!("{lw}: for (int w = 0; w < {w}; w++) {{"));
                if p.width > 1 {
                    // A word of V channels a cycle.
                    let v = p.width;
                    e.line(&format!("    for (int c = 0; c < {ch}; c += {v}) {{"));
                    e.line("        KILN_PRAGMA(HLS PIPELINE II=1)");
                    e.line(&format!("        {} k_word;", stream_word(&p.elem, v)));
                    e.line(&format!("        for (int r = 0; r < {v}; r++) {{"));
                    e.line("            KILN_PRAGMA(HLS UNROLL)");
                    e.line(&format!("            k_word.v[r] = {rb}[c + r][0][w];"));
                    e.line("        }");
                    e.line(&format!("        {}.write(k_word);", p.name));
                } else {
                    e.line(&format!("    for (int c = 0; c < {ch}; c++) {{"));
                    e.line("        KILN_PRAGMA(HLS PIPELINE II=1)");
                    e.line(&format!("        {}.write({rb}[c][0][w]);", p.name));
                }
                e.line("    }");
                e.line("}");
            }
        }
        e.line(&format!("{}++;", made(k)));
        e.line("k_progress = true;");
        e.indent -= 1;
        e.line("}");
    }
    e.line("if (!k_progress) break;");
    e.indent -= 1;
    e.line("}");
    e.indent -= 1;
    e.line("}");
    // A result that is not an image leaves whole once complete: in the order its
    // consumer takes it (ir/stage.rs, `ArrivalOrder`), row-major by default.
    let reordered = plan
        .flat_order
        .as_ref()
        .filter(|o| !plan.flat_early && !o.is_row_major());
    if let (Some(p), Some(order)) = (&flat_stream, reordered) {
        let rb = e.names[&plan.output].clone();
        let lw = e.label(format!("L_write_{}", ident(&p.name)));
        for (k, n) in order.extents.iter().enumerate() {
            let l = if k == 0 {
                format!("{lw}: ")
            } else {
                String::new()
            };
            e.line(&format!("{l}for (int d{k} = 0; d{k} < {n}; d{k}++) {{"));
            e.indent += 1;
        }
        e.line("KILN_PRAGMA(HLS PIPELINE II=1)");
        let index: Vec<String> = order
            .coefs
            .iter()
            .enumerate()
            .map(|(k, c)| format!("{c} * d{k}"))
            .collect();
        e.line(&format!("{}.write({rb}[{}]);", p.name, index.join(" + ")));
        for _ in &order.extents {
            e.indent -= 1;
            e.line("}");
        }
    } else if let Some(p) = flat_stream.as_ref().filter(|_| !plan.flat_early) {
        let rb = e.names[&plan.output].clone();
        let idx: String = (0..p.shape.len()).map(|k| format!("[c{k}]")).collect();
        for (k, n) in p.shape.iter().enumerate() {
            let lw = if k == 0 {
                format!("{}: ", e.label(format!("L_write_{}", ident(&p.name))))
            } else {
                String::new()
            };
            e.line(&format!("{lw}for (int c{k} = 0; c{k} < {n}; c{k}++) {{"));
            e.indent += 1;
        }
        e.line("KILN_PRAGMA(HLS PIPELINE II=1)");
        e.line(&format!("{}.write({rb}{idx});", p.name));
        for _ in &p.shape {
            e.indent -= 1;
            e.line("}");
        }
    }
    if !e.errors.is_empty() {
        return Err(std::mem::take(&mut e.errors));
    }

    let mut d = String::new();
    d.push_str(&format!(
        "// A dataflow stage computed row by row: `{}` (line buffers: {}).\n",
        inst.name,
        plan.buffers
            .iter()
            .map(|b| format!("{} {} rows", inst.tensor(b.tensor).name, b.rows))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    d.push_str(&format!("static {} {{\n", prototype(name, &wports)));
    d.push_str(&e.out);
    d.push_str("}\n");
    Ok(d)
}

/// The least common multiple of two bank counts (at least 1).
fn lcm(a: usize, b: usize) -> usize {
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let (a, b) = (a.max(1), b.max(1));
    a / gcd(a, b) * b
}
