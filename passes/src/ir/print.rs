//! The textual form of the IR (`kiln ir`, `--dump-ir-after`, golden tests) and its
//! Graphviz form (`kiln ir --dot`).
//!
//! ```text
//! instance conv (C=1, H=6, W=6)
//!   %0 x: fixed<8, 4>[1, 6, 6] = input 0
//!   %1 w: int<2>[2, 1, 3, 3] = const w1
//!   node #2 y_loop (reads %0 %1; writes %2)
//!     for k in 0..2:
//!       ...
//!   output 0 = %2
//! ```
//! Types follow every local at its assignment and every tensor in the header; `:` after
//! an expression shows its inferred type when `types` is on. A `?` after an access marks
//! one the `bounds` pass could not prove in bounds (checked at run time).

use crate::data::ConstData;
use crate::ir::*;
use std::collections::HashMap;
use std::fmt::Write;

/// Printing options.
#[derive(Copy, Clone, Debug, Default)]
pub struct PrintOptions {
    /// Annotate every expression with its inferred type.
    pub expr_types: bool,
}

pub fn module_to_string(m: &Module, opts: PrintOptions) -> String {
    let mut out = String::new();
    for (i, inst) in m.instances.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let entry = m.entry == Some(InstanceId(i as u32));
        out.push_str(&instance_to_string(m, inst, entry, opts));
    }
    out
}

pub fn instance_to_string(m: &Module, inst: &Instance, entry: bool, opts: PrintOptions) -> String {
    let mut p = Printer {
        m,
        inst,
        out: String::new(),
        opts,
        loop_names: loop_names(inst),
    };
    p.instance(entry);
    p.out
}

/// Loop variable names, with `.N` added where a name is reused in the instance.
fn loop_names(inst: &Instance) -> Vec<String> {
    let mut count: HashMap<&str, usize> = HashMap::new();
    for v in &inst.loop_vars {
        *count.entry(v.name.as_str()).or_default() += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    inst.loop_vars
        .iter()
        .map(|v| {
            if count[v.name.as_str()] > 1 {
                let n = seen.entry(v.name.as_str()).or_default();
                *n += 1;
                if *n == 1 {
                    v.name.clone()
                } else {
                    format!("{}.{}", v.name, *n - 1)
                }
            } else {
                v.name.clone()
            }
        })
        .collect()
}

struct Printer<'a> {
    m: &'a Module,
    inst: &'a Instance,
    out: String,
    opts: PrintOptions,
    loop_names: Vec<String>,
}

impl Printer<'_> {
    fn line(&mut self, indent: usize, s: &str) {
        for _ in 0..indent {
            self.out.push_str("  ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn tensor_ref(&self, t: TensorId) -> String {
        format!("%{}", t.0)
    }

    fn instance(&mut self, entry: bool) {
        let inst = self.inst;
        let b = if inst.bindings.is_empty() {
            String::new()
        } else {
            format!(" ({})", inst.bindings)
        };
        let e = if entry { " [entry]" } else { "" };
        self.line(0, &format!("instance {}{b}{e}", inst.name));
        match &inst.stage {
            Some(crate::ir::stage::StagePlan::Rows(p)) => {
                let nodes: Vec<String> = p
                    .nodes
                    .iter()
                    .map(|n| {
                        let reads: Vec<String> = n
                            .windows
                            .iter()
                            .map(|w| {
                                let at = |off: i64| {
                                    let r = if w.stride == 1 {
                                        "r".to_string()
                                    } else {
                                        format!("{}r", w.stride)
                                    };
                                    match off {
                                        0 => r,
                                        o => format!("{r}{o:+}"),
                                    }
                                };
                                format!(
                                    "{} rows {}..={}",
                                    self.tensor_ref(w.tensor),
                                    at(w.lo),
                                    at(w.hi)
                                )
                            })
                            .collect();
                        format!(
                            "#{} row r = {} ({})",
                            n.node.index(),
                            self.loop_names[n.row_var.index()],
                            reads.join(", ")
                        )
                    })
                    .collect();
                let bufs: Vec<String> = p
                    .buffers
                    .iter()
                    .map(|b| format!("{} {}", self.tensor_ref(b.tensor), b.rows))
                    .collect();
                self.line(
                    1,
                    &format!(
                        "stage: rows; line buffers {}; {}{}",
                        bufs.join(", "),
                        nodes.join("; "),
                        match (&p.flat_order, p.flat_early) {
                            (Some(_), true) => "; result sent as computed",
                            (Some(o), false) if !o.is_row_major() =>
                                "; result sent whole, reordered",
                            _ => "",
                        }
                    ),
                );
            }
            Some(crate::ir::stage::StagePlan::Frame { reason }) => {
                self.line(1, &format!("stage: whole frames ({reason})"));
            }
            Some(crate::ir::stage::StagePlan::Accumulate(p)) => {
                let order: Vec<String> = p
                    .order
                    .extents
                    .iter()
                    .zip(&p.order.coefs)
                    .map(|(e, c)| format!("{e}x{c}"))
                    .collect();
                self.line(
                    1,
                    &format!(
                        "stage: value by value; {} arrives in order [{}]{}, {} a group{}",
                        self.tensor_ref(p.input),
                        order.join(", "),
                        if p.order.is_row_major() {
                            " (row-major)"
                        } else {
                            ""
                        },
                        p.group,
                        if p.built { "" } else { " (not built)" }
                    ),
                );
            }
            None => {}
        }
        for (i, t) in inst.tensors.iter().enumerate() {
            let shape = crate::data::shape_suffix(&t.shape);
            let role = match &t.kind {
                TensorKind::Input(k) => format!("input {k}"),
                TensorKind::Const(c) => format!("const {}", self.const_name(*c)),
                TensorKind::Temp => {
                    if t.declared {
                        "declared".to_string()
                    } else {
                        format!("inferred ({})", t.reason)
                    }
                }
            };
            let parts: Vec<String> = t
                .partition
                .iter()
                .map(|p| match p.kind {
                    PartitionKind::Complete => format!("complete dim {}", p.dim + 1),
                    PartitionKind::Cyclic => format!("cyclic {} dim {}", p.factor, p.dim + 1),
                    PartitionKind::Block => format!("block {} dim {}", p.factor, p.dim + 1),
                })
                .collect();
            let mut part = if parts.is_empty() {
                String::new()
            } else {
                format!(" [partition {}]", parts.join(", "))
            };
            match (t.stream_depth, t.stream_width) {
                (Some(d), 1) => part.push_str(&format!(" [stream depth {d}]")),
                (Some(d), v) => part.push_str(&format!(" [stream depth {d} width {v}]")),
                (None, 1) => {}
                (None, v) => part.push_str(&format!(" [stream width {v}]")),
            }
            self.line(
                1,
                &format!("%{i} {}: {}{shape} = {role}{part}", t.name, t.elem),
            );
        }
        for n in inst.schedule() {
            match &inst.graph[n] {
                Node::Input { .. } | Node::Const { .. } => {}
                Node::Output { tensor, index } => {
                    let s = format!("output {index} = {}", self.tensor_ref(*tensor));
                    self.line(1, &s);
                }
                Node::Call(c) => {
                    let args: Vec<String> = c.args.iter().map(|t| self.tensor_ref(*t)).collect();
                    let res: Vec<String> = c.results.iter().map(|t| self.tensor_ref(*t)).collect();
                    let callee = &self.m.instance(c.callee).name;
                    self.line(
                        1,
                        &format!(
                            "node #{} call {callee}({}) -> {}",
                            n.index(),
                            args.join(", "),
                            res.join(", ")
                        ),
                    );
                }
                Node::Compute(c) => {
                    let reads: Vec<String> = c.reads.iter().map(|t| self.tensor_ref(*t)).collect();
                    let writes: Vec<String> =
                        c.writes.iter().map(|t| self.tensor_ref(*t)).collect();
                    self.line(
                        1,
                        &format!(
                            "node #{} {} (reads {}; writes {})",
                            n.index(),
                            c.name,
                            reads.join(" "),
                            writes.join(" ")
                        ),
                    );
                    self.block(&c.body, 2);
                }
            }
        }
    }

    fn const_name(&self, c: ConstId) -> String {
        self.m
            .consts
            .get(c.index())
            .map_or_else(|| format!("#{}", c.0), |d: &ConstData| d.name.clone())
    }

    fn block(&mut self, b: &Block, indent: usize) {
        for s in b {
            match s {
                Stmt::For(l) => {
                    let step = if l.step == 1 {
                        String::new()
                    } else {
                        format!(" step {}", l.step)
                    };
                    let mut dirs = Vec::new();
                    if let Some(ii) = l.directives.pipeline_ii {
                        dirs.push(format!("pipeline II={ii}"));
                    }
                    match l.directives.unroll {
                        Some(0) => dirs.push("unroll".to_string()),
                        Some(f) => dirs.push(format!("unroll {f}")),
                        None => {}
                    }
                    if l.directives.flatten {
                        dirs.push("flatten".to_string());
                    }
                    let dirs = if dirs.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", dirs.join(", "))
                    };
                    let h = format!(
                        "for {} in {}..{}{step}:{dirs}",
                        self.loop_names[l.var.index()],
                        self.affine(&l.lo),
                        self.affine(&l.hi)
                    );
                    self.line(indent, &h);
                    self.block(&l.body, indent + 1);
                }
                Stmt::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    let c = self.expr(*cond);
                    self.line(indent, &format!("if {c}:"));
                    self.block(then_block, indent + 1);
                    if !else_block.is_empty() {
                        self.line(indent, "else:");
                        self.block(else_block, indent + 1);
                    }
                }
                Stmt::Assign { local, value, .. } => {
                    let l = self.inst.local(*local);
                    let v = self.expr(*value);
                    self.line(indent, &format!("{}: {} = {v}", l.name, l.ty));
                }
                Stmt::Store { access, value, .. } => {
                    let a = self.access(access);
                    let v = self.expr(*value);
                    self.line(indent, &format!("{a} = {v}"));
                }
                Stmt::Fail { message, .. } => {
                    self.line(indent, &format!("fail {message:?}"));
                }
                Stmt::Call(c) => {
                    let args: Vec<String> = c.args.iter().map(|t| self.tensor_ref(*t)).collect();
                    let res: Vec<String> = c.results.iter().map(|t| self.tensor_ref(*t)).collect();
                    let callee = &self.m.instance(c.callee).name;
                    self.line(
                        indent,
                        &format!("call {callee}({}) -> {}", args.join(", "), res.join(", ")),
                    );
                }
            }
        }
    }

    fn affine(&self, a: &Affine) -> String {
        let mut s = String::new();
        for &(v, c) in &a.terms {
            let name = &self.loop_names[v.index()];
            let term = match c {
                1 => name.clone(),
                -1 => format!("-{name}"),
                c => format!("{c}*{name}"),
            };
            if s.is_empty() {
                s = term;
            } else if let Some(t) = term.strip_prefix('-') {
                let _ = write!(s, " - {t}");
            } else {
                let _ = write!(s, " + {term}");
            }
        }
        if s.is_empty() {
            return a.constant.to_string();
        }
        match a.constant {
            0 => s,
            c if c < 0 => format!("{s} - {}", -c),
            c => format!("{s} + {c}"),
        }
    }

    fn access(&self, a: &Access) -> String {
        let t = self.inst.tensor(a.tensor);
        let idx: Vec<String> = a
            .index
            .iter()
            .enumerate()
            .map(|(d, i)| match a.dynamic_at(d) {
                // A data-dependent index: its expression, plus the affine part unless 0.
                Some(e) if i.as_constant() == Some(0) => self.expr(e),
                Some(e) => format!("{} + {}", self.expr(e), self.affine(i)),
                None => self.affine(i),
            })
            .collect();
        // `?` marks an access checked at run time (not proven in bounds).
        let check = if a.checked { "?" } else { "" };
        if idx.is_empty() {
            format!("{}{check}", t.name)
        } else {
            format!("{}[{}]{check}", t.name, idx.join(", "))
        }
    }

    fn expr(&self, e: ExprId) -> String {
        let s = match self.inst.expr(e) {
            Expr::Const(v) => v.display(),
            Expr::Local(l) => self.inst.local(*l).name.clone(),
            Expr::LoopVar(v) => self.loop_names[v.index()].clone(),
            Expr::Load(a) => self.access(a),
            Expr::Unary(op, a) => {
                let a = self.expr(*a);
                match op {
                    UnOp::Neg => format!("-{a}"),
                    UnOp::BitNot => format!("~{a}"),
                    UnOp::Not => format!("not {a}"),
                    UnOp::Abs => format!("abs({a})"),
                }
            }
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.expr(*a), self.expr(*b));
                match op {
                    BinOp::Min | BinOp::Max => format!("{}({a}, {b})", op.symbol()),
                    _ => format!("({a} {} {b})", op.symbol()),
                }
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                format!(
                    "({} if {} else {})",
                    self.expr(*then),
                    self.expr(*cond),
                    self.expr(*otherwise)
                )
            }
            Expr::Cast { to, arg } => format!("{to}({})", self.expr(*arg)),
            Expr::Math { f, arg } => format!("{}({})", f.name(), self.expr(*arg)),
        };
        if self.opts.expr_types {
            if let Some(t) = self.inst.expr_type(e) {
                return format!("{s}: {t}");
            }
        }
        s
    }
}

/// The dataflow graph of every instance in Graphviz form (one `digraph` per instance,
/// rendered by petgraph).
pub fn module_to_dot(m: &Module) -> String {
    use petgraph::dot::{Config, Dot};
    let mut out = String::new();
    for inst in &m.instances {
        let node_attr = |_: &_, (n, node): (NodeId, &Node)| {
            let (label, shape) = match node {
                Node::Input { tensor, .. } => {
                    (format!("input {}", inst.tensor(*tensor).name), "ellipse")
                }
                Node::Const { tensor } => {
                    (format!("const {}", inst.tensor(*tensor).name), "cylinder")
                }
                Node::Output { index, .. } => (format!("output {index}"), "ellipse"),
                Node::Call(c) => (format!("call {}", m.instance(c.callee).name), "component"),
                Node::Compute(c) => (c.name.clone(), "box"),
            };
            format!(
                "label=\"#{} {}\", shape={shape}",
                n.index(),
                label.replace('"', "'")
            )
        };
        let edge_attr = |_: &_, e: petgraph::stable_graph::EdgeReference<'_, Edge>| {
            let t = inst.tensor(e.weight().tensor);
            let dims = t
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("x");
            let dims = if dims.is_empty() {
                String::new()
            } else {
                format!("[{dims}]")
            };
            let style = if e.weight().kind == EdgeKind::Order {
                ", style=dashed"
            } else {
                ""
            };
            format!("label=\"{} {}{}\"{style}", t.name, t.elem, dims)
        };
        let dot = Dot::with_attr_getters(
            &inst.graph,
            &[Config::NodeNoLabel, Config::EdgeNoLabel],
            &edge_attr,
            &node_attr,
        );
        let text = format!("{dot:?}");
        let title = if inst.bindings.is_empty() {
            inst.name.clone()
        } else {
            format!("{} ({})", inst.name, inst.bindings)
        };
        let _ = writeln!(out, "// instance {title}");
        out.push_str(&text.replacen(
            "digraph {",
            &format!(
                "digraph \"{}\" {{\n    label=\"{}\"",
                inst.name,
                title.replace('"', "'")
            ),
            1,
        ));
    }
    out
}
