//! Kernel functions: one C++ function per kernel instance, from the typed IR.
//!
//! Tensors become C arrays (ports for the entry's arguments and results, `static` local
//! arrays for temporaries, `const` ROM tables in the weights header for constant data);
//! compute nodes become their loop nests, in a topological order of the dataflow graph;
//! calls become calls. Every loop is labelled after its node and variable, and every
//! loop and statement carries a comment with its source line.
//!
//! ```text
//! for i in 0..32:                      L_y_i: for (int i = 0; i < 32; i += 1) {
//!     y[i] = x[i] * 3                      // conv.kiln:4: y[i] = x[i] * 3
//!                                          y[i] = kiln::to_fixed<ap_fixed<12, 6> >(
//!                                              ap_fixed<12, 6>(kiln::s(kiln::val(x[i])) * ...));
//!                                      }
//! ```

use crate::types::{self, convert, convert_value, exact_constant, ident, read, storage, value};
use kiln_numeric::ScalarType;
use kiln_passes::analysis::bin_reduction::{self, LowBitDot};
use kiln_passes::diag::{codes, Diagnostic};
use kiln_passes::ir::{
    Access, Affine, BinOp, Block, Expr, ExprId, Instance, InstanceId, Module, Node, PartitionKind,
    Stmt, TensorId, TensorKind, UnOp, Value,
};
use kiln_passes::Span;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write;

mod accumulate;
mod rows;

/// Where a span is in the source, as `file:line: text` (for comments).
pub type Locate<'a> = &'a dyn Fn(Span) -> String;

/// How the entry function's ports are declared.
#[derive(Clone, Debug)]
pub struct Port {
    pub name: String,
    pub tensor: TensorId,
    pub elem: ScalarType,
    pub shape: Vec<usize>,
    pub output: bool,
    /// An AXI stream (`--io stream`) instead of an array.
    pub stream: bool,
    /// Values per stream word when `stream` (the tensor's `stream_width`; 1 on the design's
    /// own ports).
    pub width: u32,
    /// Constant data the design reads from DDR (a weight the allocation left off chip,
    /// the top's `ddr_weights`): an m_axi port under every `--io`, the same for every
    /// sample of a batch.
    pub ddr: bool,
}

/// A namer for a stage function's arrays: `base`, or `base_2`, `base_3`, ... when taken
/// (by a port or an earlier array).
pub(crate) fn stage_namer(ports: &[Port]) -> impl FnMut(String) -> String {
    let mut used: HashSet<String> = ports.iter().map(|p| p.name.clone()).collect();
    move |base: String| {
        let mut n = base.clone();
        let mut k = 1;
        while !used.insert(n.clone()) {
            k += 1;
            n = format!("{base}_{k}");
        }
        n
    }
}

/// The ports of a stage function: `inst`'s, with the array ports in `mask` on streams.
pub(crate) fn stage_ports(inst: &Instance, mask: &[bool]) -> Vec<Port> {
    ports(inst)
        .into_iter()
        .zip(mask)
        .map(|(p, &st)| Port {
            stream: st && !p.shape.is_empty(),
            ..p
        })
        .collect()
}

/// The C++ type of a stream word of `width` values of `elem` (kiln_hls.h `kiln::vec`).
pub fn stream_word(elem: &ScalarType, width: u32) -> String {
    if width <= 1 {
        storage(elem)
    } else {
        format!("kiln::vec<{}, {width}>", storage(elem))
    }
}

/// The C++ of one instance: its prototype, its definition and its ports.
pub struct Function {
    pub prototype: String,
    pub definition: String,
    pub ports: Vec<Port>,
    /// Dataflow stage wrappers the definition calls (defined before it).
    pub stages: Vec<String>,
}

/// The interface pragma(s) of a top's port `p` (the `k`-th): an AXI stream, an s_axilite
/// scalar, or an m_axi array on bundle `gmem{k % 4}` (a DDR weight with its address in
/// s_axilite too).
pub fn interface(p: &Port, k: usize) -> String {
    if p.stream {
        return format!("KILN_PRAGMA(HLS INTERFACE mode=axis port={})", p.name);
    }
    if p.shape.is_empty() {
        return format!("KILN_PRAGMA(HLS INTERFACE mode=s_axilite port={})", p.name);
    }
    let len: usize = p.shape.iter().product();
    let s = format!(
        "KILN_PRAGMA(HLS INTERFACE mode=m_axi port={} offset=slave bundle=gmem{} depth={}{})",
        p.name,
        k % 4,
        len,
        widen(p)
    );
    if p.ddr {
        format!(
            "{s}\n    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port={})",
            p.name
        )
    } else {
        s
    }
}

/// The m_axi option of a port that reads weights from DDR: words of
/// `DDR_WORD_BITS` (the tile copies read consecutive elements, as many a cycle as the
/// estimate counts; passes/src/transform/allocate/tiles.rs).
fn widen(p: &Port) -> String {
    if p.ddr {
        format!(
            " max_widen_bitwidth={}",
            kiln_passes::estimate::DDR_WORD_BITS
        )
    } else {
        String::new()
    }
}

/// Names of constant tables, shared by all functions: const id → C++ name.
pub type ConstNames = HashMap<usize, String>;

fn dims(shape: &[usize]) -> String {
    shape.iter().map(|d| format!("[{d}]")).collect()
}

/// The ports of an instance: its inputs by position, then its results.
pub fn ports(inst: &Instance) -> Vec<Port> {
    let mut used = HashSet::new();
    let mut unique = |base: String| {
        let mut name = base.clone();
        let mut k = 1;
        while !used.insert(name.clone()) {
            k += 1;
            name = format!("{base}_{k}");
        }
        name
    };
    let mut out = Vec::new();
    for (k, &t) in inst.inputs.iter().enumerate() {
        let tm = inst.tensor(t);
        out.push(Port {
            ddr: inst.ddr_weights.iter().any(|&(p, _)| p == k),
            name: unique(ident(&tm.name)),
            tensor: t,
            elem: tm.elem,
            shape: tm.shape.clone(),
            output: false,
            stream: false,
            width: tm.stream_width.max(1),
        });
    }
    for &t in &inst.outputs {
        let tm = inst.tensor(t);
        // A result that is also an input, or an output parameter's final contents (named
        // like the input it starts from): `x_out`.
        let base = if inst.inputs.contains(&t)
            || inst.inputs.iter().any(|&i| inst.tensor(i).name == tm.name)
        {
            format!("{}_out", ident(&tm.name))
        } else {
            ident(&tm.name)
        };
        out.push(Port {
            name: unique(base),
            tensor: t,
            elem: tm.elem,
            shape: tm.shape.clone(),
            output: true,
            stream: false,
            width: tm.stream_width.max(1),
            ddr: false,
        });
    }
    out
}

fn port_decl(p: &Port) -> String {
    let st = storage(&p.elem);
    if p.stream {
        return format!(
            "hls::stream<{} > &{}",
            stream_word(&p.elem, p.width),
            p.name
        );
    }
    match (p.shape.is_empty(), p.output) {
        (true, false) => format!("{st} {}", p.name),
        (true, true) => format!("{st} &{}", p.name),
        (false, false) => format!("const {st} {}{}", p.name, dims(&p.shape)),
        (false, true) => format!("{st} {}{}", p.name, dims(&p.shape)),
    }
}

pub fn prototype(name: &str, ports: &[Port]) -> String {
    let params: Vec<String> = ports.iter().map(port_decl).collect();
    format!("void {name}({})", params.join(", "))
}

struct Emitter<'a> {
    module: &'a Module,
    inst: &'a Instance,
    fn_names: &'a HashMap<InstanceId, String>,
    consts: &'a ConstNames,
    locate: Locate<'a>,
    /// C++ name of each tensor.
    names: HashMap<TensorId, String>,
    out: String,
    indent: usize,
    labels: HashSet<String>,
    errors: Vec<Diagnostic>,
    /// Interface pragmas on the ports (the design's top).
    interfaces: bool,
    /// Tensors passed between calls as streams (a dataflow region).
    streams: HashSet<TensorId>,
    stages: Vec<String>,
    stage_names: HashMap<(InstanceId, Vec<bool>), String>,
    /// In a row stage (kernel/rows.rs): the row loop of the node being emitted, run for
    /// the one row named by the C++ expression.
    pinned: Option<(kiln_passes::ir::LoopVarId, String)>,
    /// In a row stage: images held as line buffers of this many rows (dimension 1 is
    /// indexed modulo it).
    folded: HashMap<TensorId, usize>,
    /// Low-bit reductions computed over packed words (lowbit.rs).
    lowbit: crate::lowbit::Plan,
    /// In a value-by-value stage (kernel/accumulate.rs): the input whose every load
    /// takes the next value off its stream (named by the C++ expression).
    stream_reads: Option<(TensorId, String)>,
    /// In a row stage whose flat result leaves as it is computed (kernel/rows.rs): every
    /// store of the tensor also writes the stored value to the stream.
    send_on_store: Option<(TensorId, String)>,
}

/// How a function stands in the design.
#[derive(Copy, Clone, Debug)]
pub struct Role {
    /// The design's top: interface pragmas on its ports.
    pub interfaces: bool,
    /// A network of calls becomes a DATAFLOW region of stages linked by streams: the
    /// kernel's entry function, whether it is the top or a wrapper (`--io stream`,
    /// `--batch`) calls it.
    pub dataflow: bool,
}

/// Emits the function of instance `id`.
pub fn function(
    module: &Module,
    id: InstanceId,
    name: &str,
    fn_names: &HashMap<InstanceId, String>,
    consts: &ConstNames,
    locate: Locate,
    role: Role,
) -> Result<Function, Vec<Diagnostic>> {
    let inst = module.instance(id);
    let ports = ports(inst);
    let mut e = Emitter {
        module,
        inst,
        fn_names,
        consts,
        locate,
        names: HashMap::new(),
        out: String::new(),
        indent: 1,
        labels: HashSet::new(),
        errors: Vec::new(),
        interfaces: role.interfaces,
        streams: if role.dataflow {
            inst.dataflow_streams()
        } else {
            HashSet::new()
        },
        stages: Vec::new(),
        stage_names: HashMap::new(),
        pinned: None,
        folded: HashMap::new(),
        lowbit: crate::lowbit::Plan::new(inst),
        stream_reads: None,
        send_on_store: None,
    };
    let proto = prototype(name, &ports);
    e.body(&ports);
    if !e.errors.is_empty() {
        return Err(e.errors);
    }
    let mut def = String::new();
    let _ = writeln!(def, "// {}", (e.locate)(inst.span));
    if !inst.bindings.is_empty() {
        let _ = writeln!(
            def,
            "// instance of `{}` with {}",
            inst.kernel, inst.bindings
        );
    }
    let _ = writeln!(def, "{proto} {{");
    def.push_str(&e.out);
    def.push_str("}\n");
    Ok(Function {
        stages: std::mem::take(&mut e.stages),
        prototype: proto,
        definition: def,
        ports,
    })
}

impl Emitter<'_> {
    fn line(&mut self, s: &str) {
        if s.is_empty() {
            self.out.push('\n');
            return;
        }
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn unsupported(&mut self, what: String, span: Span) {
        self.errors.push(
            Diagnostic::error(
                codes::UNSUPPORTED,
                format!("the HLS back end cannot emit {what}"),
            )
            .at(span),
        );
    }

    fn body(&mut self, ports: &[Port]) {
        if self.interfaces {
            self.interfaces(ports);
        }
        if !self.streams.is_empty() {
            self.line("KILN_PRAGMA(HLS DATAFLOW)");
        }
        let copies = self.name_tensors(ports);
        self.partitions(ports);
        self.declare_locals(ports);
        self.nodes();
        self.copy_results(copies);
    }

    /// The top function's interface pragmas (m_axi arrays, s_axilite scalars).
    fn interfaces(&mut self, ports: &[Port]) {
        for (k, p) in ports.iter().enumerate() {
            if p.shape.is_empty() {
                self.line(&format!(
                    "KILN_PRAGMA(HLS INTERFACE mode=s_axilite port={})",
                    p.name
                ));
            } else {
                let len: usize = p.shape.iter().product();
                self.line(&format!(
                    "KILN_PRAGMA(HLS INTERFACE mode=m_axi port={} offset=slave bundle=gmem{} depth={len}{})",
                    p.name,
                    k % 4,
                    widen(p)
                ));
                if p.ddr {
                    // The weights' address in DDR, set by the host.
                    self.line(&format!(
                        "KILN_PRAGMA(HLS INTERFACE mode=s_axilite port={})",
                        p.name
                    ));
                }
            }
        }
        self.line("KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)");
    }

    /// Names of ports, constant tables and temporaries, with the declarations of the
    /// temporaries (FIFOs for dataflow streams). Returns the result ports that need a
    /// copy at the end (a result that is also an input, or shared by several results).
    fn name_tensors(&mut self, ports: &[Port]) -> Vec<Port> {
        let inst = self.inst;
        let mut used: HashSet<String> = ports.iter().map(|p| p.name.clone()).collect();
        for p in ports.iter().filter(|p| !p.output) {
            self.names.insert(p.tensor, p.name.clone());
        }
        // A result written by this function is computed in its port directly, unless the
        // tensor is also an input, several results share it, or a schedule partitions
        // it (an m_axi port is one memory: the partitioned on-chip array is computed,
        // then copied out).
        let mut copies = Vec::new();
        let mut seen_out = HashSet::new();
        for p in ports.iter().filter(|p| p.output) {
            let tm = inst.tensor(p.tensor);
            if matches!(tm.kind, TensorKind::Temp)
                && tm.partition.is_empty()
                && seen_out.insert(p.tensor)
            {
                self.names.insert(p.tensor, p.name.clone());
            } else {
                copies.push(p.clone());
            }
        }
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            if self.names.contains_key(&t) {
                continue;
            }
            match &tm.kind {
                TensorKind::Const(c) => {
                    if let Some(n) = self.consts.get(&c.index()) {
                        self.names.insert(t, n.clone());
                    }
                }
                TensorKind::Temp => {
                    let mut name = format!("t_{}", ident(&tm.name));
                    let base = name.clone();
                    let mut k = 1;
                    while !used.insert(name.clone()) {
                        k += 1;
                        name = format!("{base}_{k}");
                    }
                    if self.streams.contains(&t) {
                        self.line(&format!(
                            "static hls::stream<{} > {name};",
                            stream_word(&tm.elem, tm.stream_width)
                        ));
                        self.line(&format!(
                            "KILN_PRAGMA(HLS STREAM variable={name} depth={})",
                            tm.stream_depth.map_or(
                                tm.len().div_ceil(tm.stream_width.max(1) as usize).max(1),
                                |d| d as usize
                            )
                        ));
                    } else if self.tensor_used(t) {
                        let decl = if tm.shape.is_empty() {
                            format!("{} {name};", storage(&tm.elem))
                        } else {
                            format!("static {} {name}{};", storage(&tm.elem), dims(&tm.shape))
                        };
                        self.line(&decl);
                    }
                    self.names.insert(t, name);
                }
                TensorKind::Input(_) => {}
            }
        }
        copies
    }

    /// Array partitions of on-chip arrays (temporaries and constant tables).
    fn partitions(&mut self, ports: &[Port]) {
        let inst = self.inst;
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            let Some(name) = self.names.get(&t).cloned() else {
                continue;
            };
            for p in &tm.partition {
                match tm.kind {
                    _ if ports.iter().any(|q| q.tensor == t && q.name == name) => {
                        self.unsupported(
                            format!(
                                "a partition of the port `{}` (an m_axi port is one memory)",
                                tm.name
                            ),
                            tm.span,
                        );
                    }
                    _ => {
                        let kind = match p.kind {
                            PartitionKind::Cyclic => format!("type=cyclic factor={}", p.factor),
                            PartitionKind::Block => format!("type=block factor={}", p.factor),
                            PartitionKind::Complete => "type=complete".to_string(),
                        };
                        self.line(&format!(
                            "KILN_PRAGMA(HLS ARRAY_PARTITION variable={name} {kind} dim={})",
                            p.dim + 1
                        ));
                    }
                }
            }
        }
    }

    /// Local declarations, and `(void)` for what may be unused.
    fn declare_locals(&mut self, ports: &[Port]) {
        let inst = self.inst;
        for (i, l) in inst.locals.iter().enumerate() {
            // Locals hold values (kiln::fx in C-simulation, a register); every assignment
            // converts to the local's type explicitly.
            let decl = format!("{} l{i}_{};", value(&l.ty), ident(&l.name));
            self.line(&decl);
        }
        // Some ports, temporaries and locals may be unused (a parameter the kernel
        // ignores, a value only a removed branch read): say so to the C++ compiler.
        let mut unused: Vec<String> = ports.iter().map(|p| p.name.clone()).collect();
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            if matches!(tm.kind, TensorKind::Temp) && self.tensor_used(t) {
                if let Some(n) = self.names.get(&t) {
                    if !unused.contains(n) {
                        unused.push(n.clone());
                    }
                }
            }
        }
        for (i, l) in inst.locals.iter().enumerate() {
            unused.push(format!("l{i}_{}", ident(&l.name)));
        }
        for chunk in unused.chunks(6) {
            let line: Vec<String> = chunk.iter().map(|n| format!("(void){n};")).collect();
            self.line(&line.join(" "));
        }
    }

    /// The graph's nodes in schedule order: loop nests and calls.
    fn nodes(&mut self) {
        let inst = self.inst;
        for n in inst.schedule() {
            match &inst.graph[n] {
                Node::Compute(c) => {
                    self.line("");
                    let loc = (self.locate)(c.span);
                    self.line(&format!("// {}: {loc}", c.name));
                    self.block(&c.body, &ident(&c.name));
                }
                Node::Call(call) => self.call(call),
                Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
            }
        }
    }

    /// A call of another instance's function (a call node, or a call inside a loop).
    fn call(&mut self, call: &kiln_passes::ir::Call) {
        let inst = self.inst;
        {
            {
                {
                    let mut args: Vec<String> = Vec::new();
                    for &t in call.args.iter().chain(&call.results) {
                        args.push(self.names.get(&t).cloned().unwrap_or_default());
                    }
                    let callee = self.module.instance(call.callee);
                    for (k, (&a, &p)) in call.args.iter().zip(&callee.inputs).enumerate() {
                        let (ta, tp) = (inst.tensor(a), callee.tensor(p));
                        if ta.elem != tp.elem || ta.shape != tp.shape {
                            self.unsupported(
                                format!(
                                    "argument {k} of `{}`: {} {:?} passed as {} {:?}",
                                    callee.name, ta.elem, ta.shape, tp.elem, tp.shape
                                ),
                                call.span,
                            );
                        }
                    }
                    let mut fname = self.fn_names[&call.callee].clone();
                    let mask: Vec<bool> = call
                        .args
                        .iter()
                        .chain(&call.results)
                        .map(|t| self.streams.contains(t))
                        .collect();
                    if mask.iter().any(|&m| m) {
                        fname = self.stage(call.callee, &fname, mask);
                    }
                    self.line("");
                    let loc = (self.locate)(call.span);
                    self.line(&format!("// {loc}"));
                    self.line(&format!("{fname}({});", args.join(", ")));
                }
            }
        }
    }

    /// Copies into result ports that could not be computed in place.
    fn copy_results(&mut self, copies: Vec<Port>) {
        for p in copies {
            let src = self.names.get(&p.tensor).cloned().unwrap_or_default();
            self.line("");
            self.line(&format!("// result `{}`", p.name));
            let mut idx = String::new();
            for (d, n) in p.shape.iter().enumerate() {
                self.line(&format!("for (int c{d} = 0; c{d} < {n}; c{d}++) {{"));
                self.indent += 1;
                let _ = write!(idx, "[c{d}]");
            }
            self.line(&format!("{}{idx} = {src}{idx};", p.name));
            for _ in &p.shape {
                self.indent -= 1;
                self.line("}");
            }
        }
    }

    /// The emitter of a stage function built from `inst`'s nodes inside `parent`'s
    /// design (kernel/rows.rs, kernel/accumulate.rs).
    fn for_stage<'b>(parent: &Emitter<'b>, inst: &'b Instance) -> Emitter<'b> {
        Emitter {
            module: parent.module,
            inst,
            fn_names: parent.fn_names,
            consts: parent.consts,
            locate: parent.locate,
            names: HashMap::new(),
            out: String::new(),
            indent: 1,
            labels: HashSet::new(),
            errors: Vec::new(),
            interfaces: false,
            streams: HashSet::new(),
            stages: Vec::new(),
            stage_names: HashMap::new(),
            pinned: None,
            folded: HashMap::new(),
            // A row stage packs its images row by row (rows.rs, lowbit.rs); a dense stage
            // fed value by value reads a group's registers, so its products stay selects.
            lowbit: Default::default(),
            stream_reads: None,
            send_on_store: None,
        }
    }

    /// Names the constant tables the stage reads and declares every other temporary its
    /// nodes use (`unique` makes a name unused), adding the arrays to `arrays`.
    fn declare_temps(
        &mut self,
        unique: &mut dyn FnMut(String) -> String,
        arrays: &mut Vec<(TensorId, String)>,
    ) {
        let inst = self.inst;
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            if self.names.contains_key(&t) {
                continue;
            }
            match &tm.kind {
                TensorKind::Const(c) => {
                    if let Some(n) = self.consts.get(&c.index()) {
                        self.names.insert(t, n.clone());
                    }
                }
                TensorKind::Temp if self.tensor_used(t) => {
                    let n = unique(format!("t_{}", ident(&tm.name)));
                    self.line(&if tm.shape.is_empty() {
                        format!("{} {n};", storage(&tm.elem))
                    } else {
                        format!("static {} {n}{};", storage(&tm.elem), dims(&tm.shape))
                    });
                    self.names.insert(t, n.clone());
                    arrays.push((t, n));
                }
                _ => {}
            }
        }
    }

    /// The stage wrapper of `callee` with the ports in `mask` as streams.
    fn stage(&mut self, callee: InstanceId, core: &str, mask: Vec<bool>) -> String {
        if let Some(n) = self.stage_names.get(&(callee, mask.clone())) {
            return n.clone();
        }
        let name = format!("{core}_stage{}", self.stage_names.len() + 1);
        let def = match &self.module.instance(callee).stage {
            Some(kiln_passes::ir::stage::StagePlan::Rows(plan)) => {
                match rows::row_stage(self, callee, plan, &name, &mask) {
                    Ok(d) => d,
                    Err(mut errs) => {
                        self.errors.append(&mut errs);
                        String::new()
                    }
                }
            }
            Some(kiln_passes::ir::stage::StagePlan::Accumulate(plan)) if plan.built => {
                match accumulate::stage(self, callee, plan, &name, &mask) {
                    Ok(d) => d,
                    Err(mut errs) => {
                        self.errors.append(&mut errs);
                        String::new()
                    }
                }
            }
            _ => {
                let cports = ports(self.module.instance(callee));
                streamed(&name, core, &cports, &mask, false, true).1
            }
        };
        self.stages.push(def);
        self.stage_names.insert((callee, mask), name.clone());
        name
    }

    /// Whether any node reads or writes `t` (unused temporaries are not declared).
    fn tensor_used(&self, t: TensorId) -> bool {
        self.inst.graph.node_weights().any(|n| match n {
            Node::Compute(c) => c.reads.contains(&t) || c.writes.contains(&t),
            Node::Call(c) => c.args.contains(&t) || c.results.contains(&t),
            Node::Output { tensor, .. } => *tensor == t,
            _ => false,
        })
    }

    fn block(&mut self, b: &Block, node: &str) {
        for s in b {
            self.stmt(s, node);
        }
    }

    fn label(&mut self, base: String) -> String {
        let mut name = base.clone();
        let mut k = 1;
        while !self.labels.insert(name.clone()) {
            k += 1;
            name = format!("{base}_{k}");
        }
        name
    }

    fn stmt(&mut self, s: &Stmt, node: &str) {
        // Operands of low-bit reductions in `s`, packed into words before it.
        if self.lowbit.has_prologue(s) {
            let names = self.names.clone();
            let src = move |t: TensorId| names.get(&t).cloned().unwrap_or_default();
            for line in self.lowbit.prologue(self.inst, self.consts, s, &src) {
                self.line(&line);
            }
        }
        match s {
            Stmt::For(l) => {
                let var = &self.inst.loop_vars[l.var.index()];
                let vname = self.loop_name(l.var.0);
                let label = self.label(format!("L_{node}_{}", ident(&var.name)));
                let (lo, mut hi) = match &self.pinned {
                    // A row stage computes one row of the node: its row loop runs once.
                    Some((v, row)) if *v == l.var => (row.clone(), format!("{row} + 1")),
                    _ => (self.affine(&l.lo), self.affine(&l.hi)),
                };
                if let Some(d) = self.lowbit.by_var(l.var) {
                    // A reduction over packed words: the loop counts words.
                    hi = (d.n + bin_reduction::WORD - 1)
                        .div_euclid(bin_reduction::WORD)
                        .to_string();
                }
                let cmp = if l.step > 0 { "<" } else { ">" };
                let loc = (self.locate)(l.span);
                self.line(&format!("// {loc}"));
                self.line(&format!(
                    "{label}: for (int {vname} = {lo}; {vname} {cmp} {hi}; {vname} += {}) {{",
                    l.step
                ));
                self.indent += 1;
                if let Some(ii) = l.directives.pipeline_ii {
                    self.line(&format!("KILN_PRAGMA(HLS PIPELINE II={ii})"));
                }
                match l.directives.unroll {
                    Some(0) => self.line("KILN_PRAGMA(HLS UNROLL)"),
                    Some(f) => self.line(&format!("KILN_PRAGMA(HLS UNROLL factor={f})")),
                    None => {}
                }
                if l.directives.flatten {
                    self.line("KILN_PRAGMA(HLS LOOP_FLATTEN)");
                }
                self.block(&l.body, node);
                self.indent -= 1;
                self.line("}");
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                let c = self.expr(*cond);
                self.line(&format!("if ({c}) {{"));
                self.indent += 1;
                self.block(then_block, node);
                self.indent -= 1;
                if else_block.is_empty() {
                    self.line("}");
                } else {
                    self.line("} else {");
                    self.indent += 1;
                    self.block(else_block, node);
                    self.indent -= 1;
                    self.line("}");
                }
            }
            Stmt::Assign { local, value, span } => {
                let l = self.inst.local(*local);
                let from = self.ty(*value);
                let v = match self.lowbit.by_value(*value).cloned() {
                    Some(d) => self.lowbit_sum(&d, &from),
                    None => self.expr(*value),
                };
                let c = convert_value(&v, &from, &l.ty);
                let loc = (self.locate)(*span);
                self.line(&format!("// {loc}"));
                self.line(&format!("l{}_{} = {c};", local.0, ident(&l.name)));
            }
            Stmt::Store {
                access,
                value,
                span,
            } => {
                let elem = self.inst.tensor(access.tensor).elem;
                let from = self.ty(*value);
                let v = self.expr(*value);
                let place = self.place(access);
                let loc = (self.locate)(*span);
                self.line(&format!("// {loc}"));
                if matches!(elem, ScalarType::Fixed(_) | ScalarType::Int(_)) {
                    // The converted value's bits, written into the element.
                    let c = convert_value(&v, &from, &elem);
                    self.line(&format!("kiln::put({place}, {c});"));
                } else {
                    let c = convert(&v, &from, &elem);
                    self.line(&format!("{place} = {c};"));
                }
                if let Some((t, port)) = &self.send_on_store {
                    if *t == access.tensor {
                        self.line(&format!("{port}.write({place});"));
                    }
                }
            }
            Stmt::Fail { message, span } => {
                // Hardware cannot stop: kiln's own run (which computes C-simulation's
                // expected results) reports this.
                let loc = (self.locate)(*span);
                self.line(&format!("// {loc}: kiln reports an error here: {message}"));
            }
            Stmt::Call(c) => self.call(c),
        }
    }

    /// `acc + (the products of word q)` of a low-bit reduction, as a value of type `t`.
    fn lowbit_sum(&mut self, d: &LowBitDot, t: &ScalarType) -> String {
        let acc = self.expr(d.acc_expr);
        let q = self.loop_name(d.var.0);
        let words = [0, 1].map(|k| {
            let (a, p) = &d.operands[k];
            let cname = self.names.get(&p.tensor).cloned().unwrap_or_default();
            let name = crate::lowbit::pack_name(self.inst, self.consts, p, &cname);
            let mut idx = String::new();
            for (dim, ix) in a.index.iter().enumerate() {
                if dim == p.dim {
                    continue;
                }
                let ix = self.affine(ix);
                // A row stage packs an image's rows into the slots of its line buffer.
                match self.folded.get(&p.tensor).filter(|_| dim == 1) {
                    Some(1) => idx.push_str("[0]"),
                    Some(rows) if a.checked || a.guarded => {
                        let _ = write!(idx, "[(({ix}) % {rows} + {rows}) % {rows}]");
                    }
                    Some(rows) => {
                        let _ = write!(idx, "[({ix}) % {rows}]");
                    }
                    None => {
                        let _ = write!(idx, "[{ix}]");
                    }
                }
            }
            let offset = d.offsets[k].as_ref().map(|o| self.affine(o));
            crate::lowbit::operand_words(
                d.n,
                (&format!("{name}{idx}"), &format!("{name}_m{idx}")),
                &q,
                offset,
            )
        });
        let term = crate::lowbit::dot_term(d, words, &q);
        format!(
            "kiln::add<{} >({acc}, kiln::from_loop<kiln::fx<8, 8> >({term}))",
            value(t)
        )
    }

    /// Whether `e`'s values are -1, 0 or +1 by type: a `bin` or `tern` value, or a load of
    /// a `bin` or `tern` tensor.
    fn low_bit(&self, e: ExprId) -> bool {
        let by_type = |t: &ScalarType| matches!(t, ScalarType::Bin | ScalarType::Tern);
        match self.inst.expr(e) {
            Expr::Load(a) => by_type(&self.inst.tensor(a.tensor).elem),
            _ => self.inst.expr_type(e).is_some_and(by_type),
        }
    }

    fn loop_name(&self, v: u32) -> String {
        format!("i{v}_{}", ident(&self.inst.loop_vars[v as usize].name))
    }

    fn affine(&self, a: &Affine) -> String {
        let mut parts = Vec::new();
        for &(v, c) in &a.terms {
            let n = self.loop_name(v.0);
            parts.push(match c {
                1 => n,
                -1 => format!("-{n}"),
                c => format!("{c} * {n}"),
            });
        }
        if a.constant != 0 || parts.is_empty() {
            parts.push(a.constant.to_string());
        }
        let s = parts.join(" + ").replace("+ -", "- ");
        if a.terms.is_empty() {
            s
        } else {
            format!("({s})")
        }
    }

    fn place(&mut self, a: &Access) -> String {
        let shape = self.inst.tensor(a.tensor).shape.clone();
        let name = self.names.get(&a.tensor).cloned().unwrap_or_default();
        let mut s = name;
        for (dim, (i, d)) in a.index.iter().zip(&shape).enumerate() {
            let mut ix = self.affine(i);
            if let Some(e) = a.dynamic_at(dim) {
                // A data-dependent index: an integer of at most 64 bits.
                let v = self.expr(e);
                ix = if i.as_constant() == Some(0) {
                    format!("({v}).to_int64()")
                } else {
                    format!("({ix} + ({v}).to_int64())")
                };
            }
            // The row of an image held in a line buffer is its slot (row stages); a
            // row read under a guard may be negative where the guard is false.
            if let Some(rows) = self.folded.get(&a.tensor).filter(|_| dim == 1) {
                if *rows == 1 {
                    s.push_str("[0]");
                } else if a.checked || a.guarded {
                    let _ = write!(s, "[(({ix}) % {rows} + {rows}) % {rows}]");
                } else {
                    let _ = write!(s, "[({ix}) % {rows}]");
                }
                continue;
            }
            // Unproven indices, and indices proven only under an enclosing condition
            // (which the C++ compiler may not see), are kept in bounds.
            if a.checked || a.guarded {
                let _ = write!(s, "[kiln::clampi({ix}, {d})]");
            } else {
                let _ = write!(s, "[{ix}]");
            }
        }
        s
    }

    /// The inferred type of `e`; an expression without one is a compiler bug, reported
    /// (never guessed).
    fn ty(&mut self, e: ExprId) -> ScalarType {
        match (self.inst.expr_type(e), self.inst.expr(e)) {
            (Some(t), _) => *t,
            (None, Expr::Const(Value::Bool(_))) => ScalarType::Bool,
            (None, Expr::Const(Value::F32(_))) => ScalarType::F32,
            (None, Expr::Const(Value::F64(_))) => ScalarType::F64,
            (None, _) => {
                let span = self.inst.expr_spans[e.index()];
                self.unsupported("an expression whose type was not inferred".into(), span);
                ScalarType::Bool
            }
        }
    }

    fn expr(&mut self, e: ExprId) -> String {
        let t = self.ty(e);
        let vt = value(&t);
        let span = self.inst.expr_spans[e.index()];
        match self.inst.expr(e).clone() {
            Expr::Const(Value::Bool(b)) => b.to_string(),
            Expr::Const(Value::F32(f)) => format!("kiln::f32_from_bits(0x{:08x}u)", f.to_bits()),
            Expr::Const(Value::F64(f)) => {
                format!("kiln::f64_from_bits(0x{:016x}ULL)", f.to_bits())
            }
            Expr::Const(Value::Num(x)) => {
                if types::value_layout(&t).is_none() {
                    self.unsupported(format!("a constant of type {t}"), span);
                    return String::new();
                }
                exact_constant(&x, &t)
            }
            Expr::Local(l) => {
                let lm = self.inst.local(l);
                let v = format!("l{}_{}", l.0, ident(&lm.name));
                self.retype(v, &lm.ty, &t)
            }
            Expr::LoopVar(v) => {
                let n = self.loop_name(v.0);
                format!("kiln::from_loop<{vt} >({n})")
            }
            Expr::Load(a) => {
                let elem = self.inst.tensor(a.tensor).elem;
                let v = match &self.stream_reads {
                    Some((t, port)) if *t == a.tensor => read(&elem, &format!("{port}.read()")),
                    _ => read(&elem, &self.place(&a)),
                };
                self.retype(v, &elem, &t)
            }
            Expr::Unary(op, a) => {
                let at = self.ty(a);
                let x = self.expr(a);
                match (op, at) {
                    (UnOp::Not, _) => format!("(!{x})"),
                    (UnOp::Neg, ScalarType::F32 | ScalarType::F64) => format!("(-{x})"),
                    (UnOp::Abs, ScalarType::F32 | ScalarType::F64) => format!("kiln::fabs_({x})"),
                    (UnOp::Neg, _) => format!("kiln::neg_to<{vt} >({x})"),
                    (UnOp::Abs, _) => format!("kiln::abs_to<{vt} >({x})"),
                    (UnOp::BitNot, _) => format!("kiln::to_fixed<{vt} >(kiln::bnot({x}))"),
                }
            }
            Expr::Binary(op, a, b) => self.binary(op, a, b, &t),
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond);
                let (tt, ot) = (self.ty(then), self.ty(otherwise));
                let x = self.expr(then);
                let y = self.expr(otherwise);
                let x = self.retype(x, &tt, &t);
                let y = self.retype(y, &ot, &t);
                format!("({c} ? {x} : {y})")
            }
            Expr::Cast { to, arg } => {
                let from = self.ty(arg);
                let x = self.expr(arg);
                let v = convert_value(&x, &from, &to);
                self.retype(v, &to, &t)
            }
            Expr::Math { f, arg } => format!("kiln::math_{}({})", f.name(), self.expr(arg)),
        }
    }

    /// A value of type `from` as a value of type `to` (the same value; exact types only
    /// change their C++ type).
    fn retype(&self, v: String, from: &ScalarType, to: &ScalarType) -> String {
        if value(from) == value(to) || !to.is_exact_numeric() {
            v
        } else {
            format!("kiln::to_fixed<{} >({v})", value(to))
        }
    }

    fn binary(&mut self, op: BinOp, a: ExprId, b: ExprId, t: &ScalarType) -> String {
        let at = self.ty(a);
        let x = self.expr(a);
        let y = self.expr(b);
        let vt = value(t);
        let float = at.is_float();
        let boolean = at == ScalarType::Bool;
        match op {
            BinOp::And => format!("({x} && {y})"),
            BinOp::Or => format!("({x} || {y})"),
            _ if boolean => match op {
                BinOp::Eq => format!("({x} == {y})"),
                _ => format!("({x} != {y})"),
            },
            _ if float => match op {
                BinOp::Add => format!("({x} + {y})"),
                BinOp::Sub => format!("({x} - {y})"),
                BinOp::Mul => format!("({x} * {y})"),
                BinOp::Div => format!("({x} / {y})"),
                BinOp::Pow => format!("kiln::math_pow({x}, {y})"),
                BinOp::Min => format!("kiln::fmin_({x}, {y})"),
                BinOp::Max => format!("kiln::fmax_({x}, {y})"),
                BinOp::Eq => format!("({x} == {y})"),
                BinOp::Ne => format!("({x} != {y})"),
                BinOp::Lt => format!("({x} < {y})"),
                BinOp::Le => format!("({x} <= {y})"),
                BinOp::Gt => format!("({x} > {y})"),
                BinOp::Ge => format!("({x} >= {y})"),
                _ => String::new(),
            },
            BinOp::Add => format!("kiln::add<{vt} >({x}, {y})"),
            BinOp::Sub => format!("kiln::sub<{vt} >({x}, {y})"),
            // A product with a bin or tern operand is a select (0, y or -y), not a multiply.
            BinOp::Mul if self.low_bit(a) => format!("kiln::sel_mul<{vt} >({x}, {y})"),
            BinOp::Mul if self.low_bit(b) => format!("kiln::sel_mul<{vt} >({y}, {x})"),
            BinOp::Mul => format!("kiln::mul<{vt} >({x}, {y})"),
            BinOp::Div => format!("kiln::div<{vt} >({x}, {y})"),
            BinOp::FloorDiv => format!("kiln::floordiv<{vt} >({x}, {y})"),
            BinOp::Mod => format!("kiln::mod<{vt} >({x}, {y})"),
            BinOp::Shl => format!("kiln::shl<{vt} >({x}, kiln::shift_amount({y}))"),
            BinOp::Shr => format!("kiln::shr<{vt} >({x}, kiln::shift_amount({y}))"),
            BinOp::BitAnd => format!("kiln::to_fixed<{vt} >(kiln::band({x}, {y}))"),
            BinOp::BitOr => format!("kiln::to_fixed<{vt} >(kiln::bor({x}, {y}))"),
            BinOp::BitXor => format!("kiln::to_fixed<{vt} >(kiln::bxor({x}, {y}))"),
            BinOp::Min => format!("kiln::min_<{vt} >({x}, {y})"),
            BinOp::Max => format!("kiln::max_<{vt} >({x}, {y})"),
            BinOp::Eq => format!("kiln::eq({x}, {y})"),
            BinOp::Ne => format!("(!kiln::eq({x}, {y}))"),
            BinOp::Lt => format!("kiln::lt({x}, {y})"),
            BinOp::Le => format!("(!kiln::lt({y}, {x}))"),
            BinOp::Gt => format!("kiln::lt({y}, {x})"),
            BinOp::Ge => format!("(!kiln::lt({x}, {y}))"),
            // Exact powers are multiplications by the time they reach the IR.
            BinOp::Pow => String::new(),
        }
    }
}

/// The instances the design only runs as row stages of the entry's dataflow region
/// (kernel/rows.rs inlines their nodes there): they get no function of their own.
pub fn row_stage_only(module: &Module, entry: InstanceId) -> HashSet<InstanceId> {
    let top = module.instance(entry);
    let streams = top.dataflow_streams();
    let mut row = HashSet::new();
    let mut other = HashSet::new();
    for id in instance_order(module, entry) {
        let inst = module.instance(id);
        for n in inst.graph.node_weights() {
            let mut calls: Vec<&kiln_passes::ir::Call> = Vec::new();
            match n {
                Node::Call(c) => calls.push(c),
                Node::Compute(c) => {
                    kiln_passes::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
                        if let Stmt::Call(c) = s {
                            calls.push(c);
                        }
                    })
                }
                _ => {}
            }
            for c in calls {
                let staged = id == entry
                    && matches!(n, Node::Call(_))
                    && c.args.iter().chain(&c.results).any(|t| streams.contains(t))
                    && match &module.instance(c.callee).stage {
                        Some(kiln_passes::ir::stage::StagePlan::Rows(_)) => true,
                        Some(kiln_passes::ir::stage::StagePlan::Accumulate(p)) => p.built,
                        _ => false,
                    };
                if staged {
                    row.insert(c.callee);
                } else {
                    other.insert(c.callee);
                }
            }
        }
    }
    row.retain(|id| !other.contains(id));
    row
}

/// Instances reachable from the entry, callees before callers.
pub fn instance_order(module: &Module, entry: InstanceId) -> Vec<InstanceId> {
    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    fn visit(m: &Module, id: InstanceId, done: &mut BTreeSet<u32>, order: &mut Vec<InstanceId>) {
        if !done.insert(id.0) {
            return;
        }
        for callee in m.instance(id).callees() {
            visit(m, callee, done, order);
        }
        order.push(id);
    }
    visit(module, entry, &mut done, &mut order);
    order
}

/// A function that calls `core` with the ports marked in `streams` taken from (inputs)
/// or given to (results) streams of their elements in row-major order; `top` adds the
/// interface pragmas. With every array port streamed and `top`, it is the top function of
/// `--io stream`: the wrapper reads the input streams into arrays, runs the kernel
/// (`core`) and writes the results out. `between_stages`: images on the streams travel
/// pixel by pixel (a frame stage of a dataflow region), not in row-major order. Returns
/// the wrapper's ports and definition.
pub fn streamed(
    name: &str,
    core: &str,
    ports: &[Port],
    streams: &[bool],
    top: bool,
    between_stages: bool,
) -> (Vec<Port>, String) {
    let wports: Vec<Port> = ports
        .iter()
        .zip(streams)
        .map(|(p, &st)| Port {
            stream: st && !p.shape.is_empty(),
            ..p.clone()
        })
        .collect();
    let mut d = String::new();
    if top {
        let _ = writeln!(
            d,
            "// The kernel with AXI-stream inputs and results (row-major order)."
        );
        let _ = writeln!(d, "{} {{", prototype(name, &wports));
        for (k, p) in wports.iter().enumerate() {
            let _ = writeln!(d, "    {}", interface(p, k));
        }
        d.push_str("    KILN_PRAGMA(HLS INTERFACE mode=s_axilite port=return)\n");
    } else {
        let _ = writeln!(d, "// A dataflow stage: `{core}` between streams.");
        let _ = writeln!(d, "static {} {{", prototype(name, &wports));
        // A stage stays a dataflow process: not inlined into the region.
        d.push_str("    KILN_PRAGMA(HLS INLINE off)\n");
    }
    let buf = |p: &Port| format!("b_{}", p.name);
    for p in wports.iter().filter(|p| p.stream) {
        let _ = writeln!(
            d,
            "    static {} {}{};",
            storage(&p.elem),
            buf(p),
            dims(&p.shape)
        );
        if p.width > 1 {
            // A word of `width` channels a cycle.
            let _ = writeln!(
                d,
                "    KILN_PRAGMA(HLS ARRAY_PARTITION variable={} type=cyclic factor={} dim=1)",
                buf(p),
                p.width
            );
        }
    }
    let copy = |d: &mut String, p: &Port, body: &str, what: &str| {
        let idx: String = (0..p.shape.len()).map(|k| format!("[c{k}]")).collect();
        if p.width > 1 && p.shape.len() == 3 {
            // Words of `width` channels of one pixel (ir/mod.rs, "Stream words").
            let v = p.width;
            let (c, h, w) = (p.shape[0], p.shape[1], p.shape[2]);
            let word = stream_word(&p.elem, v);
            let b = buf(p);
            let _ = writeln!(d, "    // {what} `{}`, {v} channels a word", p.name);
            let _ = writeln!(
                d,
                "    L_{what}_{}: for (int c1 = 0; c1 < {h}; c1++) {{",
                p.name
            );
            let _ = writeln!(d, "        for (int c2 = 0; c2 < {w}; c2++) {{");
            let _ = writeln!(d, "            for (int c0 = 0; c0 < {c}; c0 += {v}) {{");
            let _ = writeln!(d, "                KILN_PRAGMA(HLS PIPELINE II=1)");
            if p.output {
                let _ = writeln!(d, "                {word} k_word;");
                let _ = writeln!(d, "                for (int r = 0; r < {v}; r++) {{");
                let _ = writeln!(d, "                    KILN_PRAGMA(HLS UNROLL)");
                let _ = writeln!(d, "                    k_word.v[r] = {b}[c0 + r][c1][c2];");
                let _ = writeln!(d, "                }}");
                let _ = writeln!(d, "                {}.write(k_word);", p.name);
            } else {
                let _ = writeln!(
                    d,
                    "                const {word} k_word = {}.read();",
                    p.name
                );
                let _ = writeln!(d, "                for (int r = 0; r < {v}; r++) {{");
                let _ = writeln!(d, "                    KILN_PRAGMA(HLS UNROLL)");
                let _ = writeln!(d, "                    {b}[c0 + r][c1][c2] = k_word.v[r];");
                let _ = writeln!(d, "                }}");
            }
            let _ = writeln!(d, "            }}\n        }}\n    }}");
            return;
        }
        let _ = writeln!(d, "    // {what} `{}`", p.name);
        // Between stages an image travels pixel by pixel, channels innermost (the order
        // of row stages, kernel/rows.rs); the design's AXI streams are row-major.
        let order: Vec<usize> = if between_stages && p.shape.len() == 3 {
            vec![1, 2, 0]
        } else {
            (0..p.shape.len()).collect()
        };
        for (k, &dim) in order.iter().enumerate() {
            let ind = "    ".repeat(k + 1);
            let label = if k == 0 {
                format!("L_{what}_{}: ", p.name)
            } else {
                String::new()
            };
            let n = p.shape[dim];
            let _ = writeln!(
                d,
                "{ind}{label}for (int c{dim} = 0; c{dim} < {n}; c{dim}++) {{"
            );
        }
        let ind = "    ".repeat(p.shape.len() + 1);
        let _ = writeln!(d, "{ind}KILN_PRAGMA(HLS PIPELINE II=1)");
        let _ = writeln!(d, "{ind}{}", body.replace("[]", &idx));
        for k in (0..p.shape.len()).rev() {
            let _ = writeln!(d, "{}}}", "    ".repeat(k + 1));
        }
    };
    for p in wports.iter().filter(|p| p.stream && !p.output) {
        copy(
            &mut d,
            p,
            &format!("{}[] = {}.read();", buf(p), p.name),
            "read",
        );
    }
    let args: Vec<String> = wports
        .iter()
        .map(|p| if p.stream { buf(p) } else { p.name.clone() })
        .collect();
    let _ = writeln!(d, "    {core}({});", args.join(", "));
    for p in wports.iter().filter(|p| p.stream && p.output) {
        copy(
            &mut d,
            p,
            &format!("{}.write({}[]);", p.name, buf(p)),
            "write",
        );
    }
    d.push_str("}\n");
    (wports, d)
}
