//! Value-by-value dense stages: the C++ of a stage whose instance has a built
//! [`AccumulatePlan`] (passes/src/ir/stage.rs), a fully connected layer that consumes its
//! input as it streams (DNNBuilder).
//!
//! The node is already in the arrival order (passes/src/transform/accumulate.rs), and it
//! loads each value of its streamed input exactly once, in the order the values come:
//! every load of that input is emitted as the stream's next value. Other streamed inputs
//! are read whole before the node runs; the results leave whole after it, in the order
//! values travel between stages (an image pixel by pixel, channels innermost; anything
//! else row-major).
//!
//! ```text
//! static void net_dense_stage4(hls::stream<x_t> &x, ..., hls::stream<r_t> &result) {
//!     static r_t rb_result[64];  static acc_t t_acc[64];  static x_t t_x_v[4];
//!     for (i0_a ...) acc[i0_a] = init;
//!     for (d0 ...) for (d1 ...) for (d2 ...) {
//!         for (k ...) t_x_v[k] = x.read();
//!         for (i0_m ...) { sum = t_acc[i0_m]; sum += w[..] * t_x_v[..]; t_acc[i0_m] = sum; }
//!     }
//!     for (i0_e ...) rb_result[i0_e] = f(t_acc[i0_e]);
//!     for (c0 ...) result.write(rb_result[c0]);
//! }
//! ```

use super::{dims, prototype, Emitter, Port};
use crate::types::{ident, storage};
use kiln_passes::ir::stage::AccumulatePlan;
use kiln_passes::ir::{InstanceId, Node, PartitionKind, TensorId};

/// The definition of the value-by-value stage `name` of `callee` with the ports in
/// `mask` on streams, or the errors its node raised.
pub(super) fn stage(
    parent: &Emitter,
    callee: InstanceId,
    plan: &AccumulatePlan,
    name: &str,
    mask: &[bool],
) -> Result<String, Vec<kiln_passes::diag::Diagnostic>> {
    let inst = parent.module.instance(callee);
    let wports: Vec<Port> = super::stage_ports(inst, mask);
    let input_port = wports
        .iter()
        .find(|p| p.tensor == plan.input && p.stream && p.width <= 1)
        .cloned();
    let mut e = Emitter::for_stage(parent, inst);
    e.stream_reads = input_port.as_ref().map(|p| (plan.input, p.name.clone()));
    e.line("KILN_PRAGMA(HLS INLINE off)");
    let mut unique = super::stage_namer(&wports);
    // Streamed ports other than the value-by-value input: whole buffers.
    let mut arrays: Vec<(TensorId, String)> = Vec::new();
    let mut whole: Vec<(Port, String)> = Vec::new();
    for p in wports.iter().filter(|p| p.stream) {
        if input_port.as_ref().is_some_and(|i| i.tensor == p.tensor) {
            e.names.insert(p.tensor, p.name.clone());
            continue;
        }
        let prefix = if p.output { "rb" } else { "wb" };
        let n = unique(format!("{prefix}_{}", ident(&p.name)));
        e.line(&format!(
            "static {} {n}{};",
            storage(&p.elem),
            dims(&p.shape)
        ));
        if p.width > 1 {
            e.line(&format!(
                "KILN_PRAGMA(HLS ARRAY_PARTITION variable={n} type=cyclic factor={} dim=1)",
                p.width
            ));
        }
        e.names.insert(p.tensor, n.clone());
        whole.push((p.clone(), n));
    }
    for p in &wports {
        e.names.entry(p.tensor).or_insert_with(|| p.name.clone());
    }
    e.declare_temps(&mut unique, &mut arrays);
    for (t, n) in &arrays {
        for p in &inst.tensor(*t).partition {
            let kind = match p.kind {
                PartitionKind::Complete => "type=complete".to_string(),
                PartitionKind::Cyclic => format!("type=cyclic factor={}", p.factor),
                PartitionKind::Block => format!("type=block factor={}", p.factor),
            };
            e.line(&format!(
                "KILN_PRAGMA(HLS ARRAY_PARTITION variable={n} {kind} dim={})",
                p.dim + 1
            ));
        }
    }
    e.declare_locals(&wports);
    let order = |p: &Port| -> Vec<usize> {
        if p.shape.len() == 3 {
            vec![1, 2, 0]
        } else {
            (0..p.shape.len()).collect()
        }
    };
    let copy = |e: &mut Emitter, p: &Port, n: &str, read: bool| {
        let ord = order(p);
        let what = if read { "read" } else { "write" };
        let label = e.label(format!("L_{what}_{}", ident(&p.name)));
        for (k, &d) in ord.iter().enumerate() {
            let l = if k == 0 {
                format!("{label}: ")
            } else {
                String::new()
            };
            e.line(&format!(
                "{l}for (int c{d} = 0; c{d} < {}; c{d}++) {{",
                p.shape[d]
            ));
            e.indent += 1;
        }
        e.line("KILN_PRAGMA(HLS PIPELINE II=1)");
        let idx: String = (0..p.shape.len()).map(|k| format!("[c{k}]")).collect();
        if p.width > 1 {
            // Words of V channels of a pixel (only images travel in words).
            e.line(&format!(
                "// `{}` moves {} channels a word",
                p.name, p.width
            ));
        }
        e.line(&if read {
            format!("{n}{idx} = {}.read();", p.name)
        } else {
            format!("{}.write({n}{idx});", p.name)
        });
        for _ in &ord {
            e.indent -= 1;
            e.line("}");
        }
    };
    for (p, n) in whole.iter().filter(|(p, _)| !p.output) {
        if p.width > 1 {
            e.unsupported(
                format!("a stream of {}-value words into a dense stage", p.width),
                inst.span,
            );
        }
        copy(&mut e, p, n, true);
    }
    for n in inst.schedule() {
        if let Node::Compute(c) = &inst.graph[n] {
            let loc = (e.locate)(c.span);
            e.line(&format!("// {}: {loc}", c.name));
            let body = c.body.clone();
            e.block(&body, &ident(&c.name));
        }
    }
    for (p, n) in whole.iter().filter(|(p, _)| p.output) {
        if p.width > 1 {
            e.unsupported(
                format!("a stream of {}-value words out of a dense stage", p.width),
                inst.span,
            );
        }
        copy(&mut e, p, n, false);
    }
    if input_port.is_none() {
        e.unsupported(
            format!(
                "a dense stage whose input `{}` does not come on a stream of single values",
                inst.tensor(plan.input).name
            ),
            inst.span,
        );
    }
    if !e.errors.is_empty() {
        return Err(std::mem::take(&mut e.errors));
    }
    let mut d = String::new();
    d.push_str(&format!(
        "// A dataflow stage fed value by value: `{}` (groups of {} values of `{}`).\n",
        inst.name,
        plan.group,
        inst.tensor(plan.input).name
    ));
    d.push_str(&format!("static {} {{\n", prototype(name, &wports)));
    d.push_str(&e.out);
    d.push_str("}\n");
    Ok(d)
}
