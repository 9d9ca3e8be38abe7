//! One kernel instance as one Verilog module: its ports, memories, registers, call
//! instances and the FSM that runs its nodes in schedule order.
//!
//! Ports (see docs/rtl.md): `clk`, `rst` (synchronous, active high), `start` (a one-cycle
//! pulse while idle) and `done` (high for one cycle when the results are complete); then
//! for each parameter tensor `P` (inputs, then results) its memory interface: read ports
//! `P_raJ` (address out) / `P_rdJ` (data in, combinational), one per place that reads it in
//! the same cycle, and for results one write port `P_wa`, `P_wd`, `P_we` (written at the
//! clock edge while `P_we` is high). The caller owns the memory of every tensor it passes.
//! The top of a frame pipeline (frame.rs) adds `ready` and the image number of each port.
//!
//! Inside, every other tensor is a memory (`reg` array) with one write port or, with
//! `partition` directives (or written by a callee's banked result port), one memory per
//! bank (bank.rs), read combinationally or, over 1 Kbit with addresses from registers, at
//! the falling edge as block RAM (bram.rs); a constant tensor is a ROM initialized with
//! `$readmemh` from a hex file in the design's directory. A result with partitions has
//! one write port per bank. Node-local scalars and loop counters are registers; every
//! expression is a wire at its exact width (expr.rs); statements are states of the FSM
//! (control.rs).

use crate::bank::{Banking, BankingVerilog};
use crate::fixed::{conversion_function, fmt_of, Fmt, Wires};
use kiln_numeric::ScalarType;
use kiln_passes::diag::{codes, Diagnostic};
use kiln_passes::ir::{Instance, InstanceId, Module, TensorId, TensorKind};
use kiln_passes::Span;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

/// A parameter tensor of a module: its ports.
#[derive(Clone, Debug)]
pub struct Param {
    /// The port prefix (`p0_x`).
    pub port: String,
    /// The tensor's source name.
    pub name: String,
    pub tensor: TensorId,
    pub elem: ScalarType,
    pub shape: Vec<usize>,
    /// Read ports.
    pub reads: usize,
    /// A result (has a write port).
    pub output: bool,
    /// A result with partition directives: one write port per bank (`P_waK`, `P_wdK`,
    /// `P_weK`, bank-local addresses; bank.rs); the caller's memory is banked alike.
    pub bank: Option<Banking>,
    /// A chained iteration writes several banks of it in one cycle.
    pub multi_bank: bool,
    /// The top of a frame pipeline (frame.rs): the image each read port is for (`P_riJ`).
    pub read_images: Vec<String>,
    /// The top of a frame pipeline: the image the result's write port is for (`P_wi`).
    pub write_image: Option<String>,
    /// Per read port: its address comes from registers only (bram.rs), so the caller
    /// may read it at the falling edge.
    pub early_reads: Vec<bool>,
}

impl Param {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn aw(&self) -> u32 {
        addr_width(self.len())
    }

    pub fn dw(&self) -> u32 {
        self.elem.storage_bits()
    }
}

/// Address bits of a memory of `n` elements (at least 1).
pub fn addr_width(n: usize) -> u32 {
    let mut w = 1;
    while (1usize << w) < n {
        w += 1;
    }
    w
}

/// What a module offers its callers.
#[derive(Clone, Debug)]
pub struct Iface {
    pub module: String,
    pub params: Vec<Param>,
    /// The module's call instances (`uK`, with its `cK_start`/`cK_done` wires): K and
    /// the callee's module (the testbench times the top's calls).
    pub calls: Vec<(usize, String)>,
    /// The top of a frame pipeline (frame.rs): `ready`, and image numbers on its ports.
    pub frame: bool,
    /// A stage's result made row by row (rows.rs): its port prefix (`P_rows` out), the
    /// module's tensor and its row layout.
    pub row_out: Option<(String, TensorId, crate::rows::RowLayout)>,
    /// A stage's inputs read row by row (rows.rs): port prefix (`P_rows` in), the
    /// module's tensor, and its row layout. A module with any also has a `rows_hold`
    /// output.
    pub row_ins: Vec<(String, TensorId, crate::rows::RowLayout)>,
    /// The calls whose module has `rows_hold` (the testbench leaves their waits out of
    /// their cycles).
    pub holds: Vec<usize>,
    /// The row output is a ring's (ring.rs): the module has a `P_room` input and holds
    /// in its row nest until the row it makes has room.
    pub ring_out: bool,
    /// The row inputs that are rings' (their port prefixes): each has a `P_free` output.
    pub ring_ins: Vec<String>,
}

/// Where a tensor's elements live inside a module.
#[derive(Clone, Debug)]
pub enum Storage {
    /// A memory of this module (`NAME_mem`), or one per bank (`NAME_mem_bK`).
    Local { mem: String, bank: Option<Banking> },
    /// A parameter: the ports of `params[index]`.
    Port { index: usize },
}

/// One source of writes into a memory or a write port.
#[derive(Clone, Debug)]
pub struct WriteSrc {
    pub we: String,
    /// The element's address: flat (row-major) for an unbanked target, the offset in the
    /// bank for a banked one.
    pub addr: String,
    pub data: String,
    /// The bank of a banked target.
    pub bank: Option<BankSel>,
}

/// The bank an access goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BankSel {
    /// Proved when the design was generated.
    Static(usize),
    /// Computed in hardware: a wire holding the bank minus a constant base (the part of
    /// the bank that does not move), the base, and the banks it can select (ascending;
    /// from the ranges of the loop counters in the index, [`crate::bank::Banking::reach`]).
    Dynamic(String, usize, Vec<usize>),
}

/// An FSM transition, taken at the clock edge of the state it belongs to.
#[derive(Clone, Debug)]
pub enum Edge {
    /// Register updates, then the next state.
    Goto(Vec<String>, usize),
    /// A choice on a condition wire.
    Branch(String, Box<Edge>, Box<Edge>),
    /// The next iteration of a loop: its counter steps and its body starts again.
    Continue(usize),
}

/// One FSM state.
#[derive(Clone, Debug)]
pub struct State {
    pub comment: String,
    /// Register updates of the statement (non-blocking).
    pub acts: Vec<String>,
    pub edge: Edge,
    /// Wait for this signal before taking `edge` (a call's `done`).
    pub wait: Option<String>,
}

/// A loop's counter and where its body starts.
#[derive(Clone, Debug)]
pub struct LoopInfo {
    pub reg: String,
    pub step: i64,
    pub entry: Option<Edge>,
}

/// The generator of one module.
pub struct ModGen<'a> {
    pub m: &'a Module,
    pub inst: &'a Instance,
    pub name: String,
    pub ifaces: &'a HashMap<InstanceId, Iface>,
    /// A float was reported already (one diagnostic per module says it).
    pub float_reported: bool,
    pub decls: String,
    pub assigns: String,
    pub instances: String,
    pub funcs: BTreeMap<String, String>,
    pub cvt_names: HashMap<(Fmt, String), String>,
    pub tmp: usize,
    pub storage: HashMap<TensorId, Storage>,
    pub params: Vec<Param>,
    pub writes: HashMap<TensorId, Vec<WriteSrc>>,
    pub states: Vec<State>,
    pub loops: Vec<LoopInfo>,
    pub loop_regs: std::collections::BTreeSet<String>,
    /// Each loop variable's counter register (width.rs).
    pub counters: Vec<crate::width::Counter>,
    pub calls: usize,
    pub diags: Vec<Diagnostic>,
    pub expr_wires: HashMap<u32, String>,
    /// Bank wires of computed-bank accesses, by the banking and the moving part of the
    /// index (bank.rs): reads of a window at one position share one.
    pub bank_sels: HashMap<String, String>,
    /// The banked local reads of the chained iteration being built (bank.rs).
    pub windows: Option<crate::bank::WindowReads>,
    pub locals_used: BTreeMap<u32, String>,
    /// Inside a chained (pipelined) iteration: the unrolled inner loop variables as affine
    /// forms of the others (pipeline.rs).
    pub env: HashMap<kiln_passes::ir::LoopVarId, kiln_passes::ir::Affine>,
    /// Inside a chained iteration: each local's current value (a wire).
    pub ssa: Option<HashMap<u32, String>>,
    /// Writes of chained iterations into local memories (several per cycle, in
    /// statement order: the last one to an address wins, as in the program).
    pub multi_writes: HashMap<TensorId, Vec<WriteSrc>>,
    /// What happened to each pipelined loop (printed by `kiln rtl`).
    pub notes: Vec<String>,
    /// Chain pipelined loops (`RtlOptions::pipeline`).
    pub pipeline: bool,
    /// The call instances: K and the callee's module.
    pub call_insts: Vec<(usize, String)>,
    /// Inside a chained iteration of II > 1 cycles: its phases (pipeline.rs).
    pub phases: Option<crate::pipeline::Phases>,
    /// Products of at most 8 x 8 bits, written when the module is finished, two that
    /// share an operand in one multiplier (dsp_pack.rs).
    pub pending_products: Vec<crate::dsp_pack::PendingProduct>,
    /// The top of a frame pipeline: its calls run as concurrent stages (frame.rs).
    pub frame: Option<crate::frame::Frame>,
    /// A stage of a frame pipeline: its row ports (rows.rs; empty otherwise).
    pub row_ports: crate::rows::RowPorts,
    /// The states of each node built with its row loop outermost: `a..b`.
    pub row_nests: HashMap<kiln_passes::ir::NodeId, (usize, usize)>,
    /// The calls whose module has `rows_hold`.
    pub hold_calls: Vec<usize>,
    /// This module's tensors held as rings of rows (ring.rs): their shapes here are the
    /// ring's, and their row indices are taken modulo its rows.
    pub rings: HashMap<TensorId, crate::ring::Ring>,
    /// The reads of memories and banks, defined when the module is finished (bram.rs).
    pub mem_reads: Vec<crate::bram::MemRead>,
}

impl Wires for ModGen<'_> {
    fn wire(&mut self, width: u32, expr: &str) -> String {
        self.tmp += 1;
        let n = format!("w{}", self.tmp);
        let _ = writeln!(self.decls, "    wire [{}:0] {n} = {expr};", width - 1);
        n
    }
}

/// A Verilog identifier from a kiln name.
pub fn ident(s: &str) -> String {
    let mut o: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if o.is_empty() || o.starts_with(|c: char| c.is_ascii_digit()) || is_keyword(&o) {
        o = format!("k_{o}");
    }
    o
}

/// Verilog-2005 and SystemVerilog keywords (Verilator reads `.v` files as SystemVerilog).
const KEYWORDS: &[&str] = &[
    "accept_on",
    "alias",
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "and",
    "assert",
    "assign",
    "assume",
    "automatic",
    "before",
    "begin",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "buf",
    "bufif0",
    "bufif1",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "checker",
    "class",
    "clocking",
    "cmos",
    "config",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "dist",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endchecker",
    "endclass",
    "endclocking",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endgroup",
    "endinterface",
    "endmodule",
    "endpackage",
    "endprimitive",
    "endprogram",
    "endproperty",
    "endsequence",
    "endspecify",
    "endtable",
    "endtask",
    "enum",
    "event",
    "eventually",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "for",
    "force",
    "foreach",
    "forever",
    "fork",
    "forkjoin",
    "function",
    "generate",
    "genvar",
    "global",
    "highz0",
    "highz1",
    "if",
    "iff",
    "ifnone",
    "ignore_bins",
    "illegal_bins",
    "implements",
    "implies",
    "import",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "inside",
    "instance",
    "int",
    "integer",
    "interconnect",
    "interface",
    "intersect",
    "join",
    "join_any",
    "join_none",
    "large",
    "let",
    "liblist",
    "library",
    "local",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "matches",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "nettype",
    "new",
    "nexttime",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "null",
    "or",
    "output",
    "package",
    "packed",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "protected",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "rcmos",
    "real",
    "realtime",
    "ref",
    "reg",
    "reject_on",
    "release",
    "repeat",
    "restrict",
    "return",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "s_always",
    "s_eventually",
    "s_nexttime",
    "s_until",
    "s_until_with",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "signed",
    "small",
    "soft",
    "solve",
    "specify",
    "specparam",
    "static",
    "string",
    "strong",
    "strong0",
    "strong1",
    "struct",
    "super",
    "supply0",
    "supply1",
    "sync_accept_on",
    "sync_reject_on",
    "table",
    "tagged",
    "task",
    "this",
    "throughout",
    "time",
    "timeprecision",
    "timeunit",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "type",
    "typedef",
    "union",
    "unique",
    "unique0",
    "unsigned",
    "until",
    "until_with",
    "untyped",
    "use",
    "uwire",
    "var",
    "vectored",
    "virtual",
    "void",
    "wait",
    "wait_order",
    "wand",
    "weak",
    "weak0",
    "weak1",
    "while",
    "wildcard",
    "wire",
    "with",
    "within",
    "wor",
    "xnor",
    "xor",
];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

impl<'a> ModGen<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pipeline: bool,
        dataflow: bool,
        entry: bool,
        m: &'a Module,
        id: InstanceId,
        name: String,
        ifaces: &'a HashMap<InstanceId, Iface>,
        roms: HashMap<TensorId, String>,
    ) -> ModGen<'a> {
        let inst = m.instance(id);
        let mut g = ModGen {
            m,
            inst,
            name,
            ifaces,
            float_reported: false,
            decls: String::new(),
            assigns: String::new(),
            instances: String::new(),
            funcs: BTreeMap::new(),
            cvt_names: HashMap::new(),
            tmp: 0,
            storage: HashMap::new(),
            params: Vec::new(),
            writes: HashMap::new(),
            states: Vec::new(),
            loops: Vec::new(),
            loop_regs: Default::default(),
            counters: crate::width::counters(m.instance(id)),
            calls: 0,
            diags: Vec::new(),
            expr_wires: HashMap::new(),
            bank_sels: HashMap::new(),
            pending_products: Vec::new(),
            windows: None,
            locals_used: BTreeMap::new(),
            env: HashMap::new(),
            ssa: None,
            multi_writes: HashMap::new(),
            notes: Vec::new(),
            pipeline,
            call_insts: Vec::new(),
            phases: None,
            frame: None,
            row_ports: Default::default(),
            row_nests: HashMap::new(),
            hold_calls: Vec::new(),
            rings: HashMap::new(),
            mem_reads: Vec::new(),
        };
        if dataflow && entry {
            match crate::frame::plan(inst) {
                Ok(f) => {
                    for (t, mem) in &f.copied {
                        let tm = inst.tensor(*t);
                        let _ = writeln!(
                            g.decls,
                            "    reg [{}:0] {mem} [0:{}]; // two images of `{}`, read by several stages",
                            tm.elem.storage_bits() - 1,
                            2 * tm.len() - 1,
                            tm.name
                        );
                    }
                    g.notes.push(format!(
                        "`{}` runs its {} calls as a frame pipeline: concurrent stages, {} feature map(s) double-buffered between them{} (`--no-dataflow`: one after another)",
                        inst.kernel,
                        inst.graph.node_weights().filter(|n| matches!(n, kiln_passes::ir::Node::Call(_))).count(),
                        f.double.len() - f.copied.len(),
                        if f.copied.is_empty() {
                            String::new()
                        } else {
                            format!(", {} input(s) read by several stages copied into one by a copy stage", f.copied.len())
                        }
                    ));
                    g.frame = Some(f);
                }
                Err(Some(why)) => g.notes.push(format!(
                    "`{}` runs its calls one after another, not as a frame pipeline: {why}",
                    inst.kernel
                )),
                Err(None) => {}
            }
        }
        // Addresses and counters are 32-bit (width.rs): a memory of more than 2^30
        // elements (a frame pipeline's double buffer holds two) is refused.
        for tm in &inst.tensors {
            if tm.len() > 1 << 30 {
                g.error(
                    tm.span,
                    format!(
                        "the tensor `{}` ({:?}) has {} elements, more than the 2^30 the RTL's 32-bit addresses reach",
                        tm.name,
                        tm.shape,
                        tm.len()
                    ),
                    "the RTL back end builds memories of at most 2^30 elements: use a smaller tensor",
                );
            }
        }
        for (k, &t) in inst.inputs.iter().chain(inst.outputs.iter()).enumerate() {
            let tm = inst.tensor(t);
            let output = k >= inst.inputs.len();
            if g.storage.contains_key(&t) {
                g.error(
                    tm.span,
                    format!("the tensor `{}` is both a parameter and a result of `{}` (or a result twice)", tm.name, inst.kernel),
                    "copy it into a new tensor in the kernel",
                );
                continue;
            }
            if output && !matches!(tm.kind, TensorKind::Temp) {
                g.error(
                    tm.span,
                    format!(
                        "the result `{}` of `{}` is an argument or a constant",
                        tm.name, inst.kernel
                    ),
                    "copy it into a new tensor in the kernel",
                );
                continue;
            }
            g.storage.insert(t, Storage::Port { index: k });
            g.params.push(Param {
                port: format!("p{k}_{}", ident(&tm.name)),
                name: tm.name.clone(),
                tensor: t,
                elem: tm.elem,
                shape: tm.shape.clone(),
                reads: 0,
                output,
                // The top's memories belong to the testbench, which has one port each;
                // one statement per cycle (`--no-pipeline`) needs no banks.
                bank: if output && !entry && pipeline {
                    Banking::of(&tm.shape, &tm.partition)
                } else {
                    None
                },
                multi_bank: false,
                read_images: Vec::new(),
                early_reads: Vec::new(),
                write_image: None,
            });
        }
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            if g.storage.contains_key(&t) || tm.is_empty() {
                continue;
            }
            if matches!(tm.kind, TensorKind::Input(_)) {
                continue;
            }
            let mem = format!("t{i}_{}_mem", ident(&tm.name));
            // A constant with partitions is a ROM per bank (initialized element by
            // element), else one ROM initialized from its file; a written tensor is
            // banked by its own partitions, else like the callee result that writes it.
            let bank = match tm.kind {
                _ if !pipeline => None,
                TensorKind::Const(_) => Banking::of(&tm.shape, &tm.partition),
                _ => Banking::of(&tm.shape, &tm.partition)
                    .or_else(|| callee_banking(m, inst, ifaces, t)),
            };
            match &bank {
                Some(b) => {
                    for k in 0..b.count() {
                        let _ = writeln!(
                            g.decls,
                            "    reg [{}:0] {mem}_b{k} [0:{}];{}",
                            tm.elem.storage_bits() - 1,
                            g.frame_depth(t, b.bank_len()) - 1,
                            if k == 0 {
                                format!(
                                    " // {}: {}{:?}, {}",
                                    tm.name,
                                    tm.elem,
                                    tm.shape,
                                    b.describe()
                                )
                            } else {
                                String::new()
                            }
                        );
                    }
                }
                None => {
                    let _ = writeln!(
                        g.decls,
                        "    reg [{}:0] {mem} [0:{}]; // {}: {}{:?}",
                        tm.elem.storage_bits() - 1,
                        g.frame_depth(t, tm.len()) - 1,
                        tm.name,
                        tm.elem,
                        tm.shape
                    );
                }
            }
            if let TensorKind::Const(c) = tm.kind {
                match &bank {
                    None => {
                        if let Some(file) = roms.get(&t) {
                            let _ = writeln!(g.decls, "    initial $readmemh(\"{file}\", {mem});");
                        }
                    }
                    Some(b) => {
                        let w = tm.elem.storage_bits();
                        let mut init = String::from("    initial begin\n");
                        for (flat, v) in m.consts[c.index()].values.iter().enumerate() {
                            let (k, off) = b.locate(flat);
                            let (cv, _) = kiln_passes::value::convert(v, &tm.elem);
                            let hex = crate::testbench::raw_hex(&cv, &tm.elem);
                            let _ = writeln!(init, "        {mem}_b{k}[{off}] = {w}'h{hex};");
                        }
                        init.push_str("    end\n");
                        g.decls.push_str(&init);
                    }
                }
            }
            g.storage.insert(t, Storage::Local { mem, bank });
        }
        g
    }

    /// An E0720 diagnostic for a float operation the RTL does not build (only the
    /// module's first).
    pub fn float_value(&mut self, span: Span, what: String) {
        if self.float_reported {
            return;
        }
        self.float_reported = true;
        self.error(span, what, "the RTL back end builds float `+ - * /`, `sqrt`, comparisons and conversions (docs/rtl.md, \"Floats\"), not the C library's `pow`; use `kiln hls` for this kernel");
    }

    /// An E0720 diagnostic at `span`.
    pub fn error(&mut self, span: Span, message: String, help: &str) {
        self.diags.push(
            Diagnostic::error(codes::RTL_UNSUPPORTED, message)
                .at(span)
                .label("the RTL back end cannot build this")
                .help(help.to_string()),
        );
    }

    /// Defines the Verilog function `name` (its text) once in this module, with the
    /// functions it calls.
    pub fn define_fn(&mut self, name: &str, text: String, deps: Vec<(String, String)>) {
        for (n, t) in deps {
            self.funcs.entry(n).or_insert(t);
        }
        self.funcs.entry(name.to_string()).or_insert(text);
    }

    /// The name of a function converting format `from` to `to` (defined once per module).
    pub fn cvt_fn(&mut self, from: Fmt, to: &ScalarType) -> String {
        let key = (from, to.to_string());
        if let Some(n) = self.cvt_names.get(&key) {
            return n.clone();
        }
        let n = format!("cvt{}", self.cvt_names.len());
        self.funcs
            .insert(n.clone(), conversion_function(&n, from, to));
        self.cvt_names.insert(key, n.clone());
        n
    }

    /// The whole module's text, and what it offers callers.
    pub fn finish(mut self) -> Result<(String, Iface, Vec<String>), Vec<Diagnostic>> {
        let hold = self.gate_writes();
        let block = self.finish_mem_reads();
        self.write_logic(&block);
        let blocks = block.len();
        if blocks > 0 {
            self.notes.push(format!(
                "`{}`: {blocks} memor{} of more than 1 Kbit in block RAM (read at the falling edge)",
                self.inst.kernel,
                if blocks == 1 { "y" } else { "ies" }
            ));
        }
        let pending = std::mem::take(&mut self.pending_products);
        let mut products = String::new();
        let copies = crate::dsp_pack::copies(&self.decls);
        let pairs =
            crate::dsp_pack::write_products(&pending, &copies, &mut products, &mut |prefix| {
                self.tmp += 1;
                format!("{prefix}{}", self.tmp)
            });
        self.assigns.push_str(&products);
        if pairs > 0 {
            self.notes.push(format!(
                "`{}`: {pairs} pair(s) of products of at most 8 x 8 bits that share an operand, one multiplier (DSP48) a pair",
                self.inst.kernel
            ));
        }
        if !self.diags.is_empty() {
            return Err(self.diags);
        }
        let mut s = String::new();
        let inst = self.inst;
        let how = if self.frame.is_some() {
            "Its calls run as a frame pipeline: concurrent stages, double-buffered between them (docs/rtl.md)."
        } else {
            "An FSM runs its nodes in schedule order, one statement per cycle (docs/rtl.md)."
        };
        let _ = writeln!(
            s,
            "// {}: kernel `{}` ({}), generated by kiln's RTL back end.\n// {how}",
            self.name, inst.kernel, inst.bindings
        );
        let _ = writeln!(s, "module {} (", self.name);
        let mut ports = vec![
            "    input wire clk".to_string(),
            "    input wire rst".to_string(),
            "    input wire start".to_string(),
            "    output wire done".to_string(),
        ];
        if self.frame.is_some() {
            ports.push("    output wire ready".to_string());
        }
        let mut image_assigns = String::new();
        for p in &self.params {
            for j in 0..p.reads {
                ports.push(format!(
                    "    output wire [{}:0] {}_ra{j}",
                    p.aw() - 1,
                    p.port
                ));
                ports.push(format!(
                    "    input wire [{}:0] {}_rd{j}",
                    p.dw() - 1,
                    p.port
                ));
                if let Some(img) = p.read_images.get(j) {
                    ports.push(format!("    output wire [31:0] {}_ri{j}", p.port));
                    let _ = writeln!(image_assigns, "    assign {}_ri{j} = {img};", p.port);
                }
            }
            if let (true, Some(img)) = (p.output, &p.write_image) {
                ports.push(format!("    output wire [31:0] {}_wi", p.port));
                let _ = writeln!(image_assigns, "    assign {}_wi = {img};", p.port);
            }
            match (&p.bank, p.output) {
                (Some(b), true) => {
                    for k in 0..b.count() {
                        ports.push(format!(
                            "    output wire [{}:0] {}_wa{k}",
                            b.off_width() - 1,
                            p.port
                        ));
                        ports.push(format!(
                            "    output wire [{}:0] {}_wd{k}",
                            p.dw() - 1,
                            p.port
                        ));
                        ports.push(format!("    output wire {}_we{k}", p.port));
                    }
                }
                (None, true) => {
                    ports.push(format!("    output wire [{}:0] {}_wa", p.aw() - 1, p.port));
                    ports.push(format!("    output wire [{}:0] {}_wd", p.dw() - 1, p.port));
                    ports.push(format!("    output wire {}_we", p.port));
                }
                _ => {}
            }
        }
        self.assigns.push_str(&image_assigns);
        let (row_out, row_ins) = self.row_logic(&mut ports);
        s.push_str(&ports.join(",\n"));
        s.push_str("\n);\n");
        for f in self.funcs.values() {
            s.push_str(f);
        }
        let sw = addr_width(self.states.len().max(2));
        let _ = writeln!(s, "    reg [{}:0] state;", sw - 1);
        // Every loop variable's counter, as wide as its values (width.rs; those only in
        // unused code are trimmed by synthesis).
        for (v, c) in self.counters.iter().enumerate() {
            let reg = self.loop_reg(kiln_passes::ir::LoopVarId(v as u32));
            let sign = if c.unsigned { "" } else { "signed " };
            let _ = writeln!(s, "    reg {sign}[{}:0] {reg};", c.bits - 1);
        }
        for (l, reg) in &self.locals_used {
            let lt = &inst.locals[*l as usize];
            let _ = writeln!(
                s,
                "    reg [{}:0] {reg}; // {}: {}",
                lt.ty.storage_bits() - 1,
                lt.name,
                lt.ty
            );
        }
        s.push_str(&self.decls);
        s.push_str(&self.assigns);
        s.push_str(&self.instances);
        let run = match &hold {
            Some(h) => {
                if self.frame.is_none() {
                    let _ = writeln!(s, "    assign done = (state == {sw}'d1) & ~{h};");
                }
                format!("end else if (!{h}) begin")
            }
            None => {
                if self.frame.is_none() {
                    let _ = writeln!(s, "    assign done = (state == {sw}'d1);");
                }
                "end else begin".to_string()
            }
        };
        let _ = write!(s, "    always @(posedge clk) begin\n        if (rst) begin\n            state <= 0;\n        {run}\n            case (state)\n");
        for (k, st) in self.states.iter().enumerate() {
            let _ = writeln!(s, "            {sw}'d{k}: begin // {}", st.comment);
            let mut body = String::new();
            for a in &st.acts {
                let _ = writeln!(body, "                {a}");
            }
            let edge = self.render_edge(&st.edge, sw, 5);
            match &st.wait {
                Some(sig) => {
                    let _ = write!(
                        body,
                        "                if ({sig}) begin\n{edge}                end\n"
                    );
                }
                None => body.push_str(&edge),
            }
            s.push_str(&body);
            s.push_str("            end\n");
        }
        s.push_str("            default: state <= 0;\n            endcase\n        end\n    end\n");
        s.push_str("endmodule\n");
        let mut calls = self.call_insts.clone();
        calls.sort();
        let iface = Iface {
            module: self.name.clone(),
            params: self.params.clone(),
            calls,
            frame: self.frame.is_some(),
            ring_out: row_out
                .as_ref()
                .is_some_and(|(_, t, _)| self.rings.contains_key(t)),
            ring_ins: row_ins
                .iter()
                .filter(|(_, t, _)| self.rings.contains_key(t))
                .map(|(p, _, _)| p.clone())
                .collect(),
            row_out,
            row_ins,
            holds: self.hold_calls.clone(),
        };
        Ok((s, iface, self.notes))
    }

    fn render_edge(&self, e: &Edge, sw: u32, depth: usize) -> String {
        let pad = "    ".repeat(depth - 1);
        match e {
            Edge::Goto(acts, to) => {
                let mut s = String::new();
                for a in acts {
                    let _ = writeln!(s, "{pad}    {a}");
                }
                let _ = writeln!(s, "{pad}    state <= {sw}'d{to};");
                s
            }
            Edge::Branch(c, t, f) => {
                format!(
                    "{pad}    if ({c}) begin\n{}{pad}    end else begin\n{}{pad}    end\n",
                    self.render_edge(t, sw, depth + 1),
                    self.render_edge(f, sw, depth + 1)
                )
            }
            Edge::Continue(l) => {
                let info = &self.loops[*l];
                let mut s = format!(
                    "{pad}    {} <= {} + {};\n",
                    info.reg,
                    info.reg,
                    lit32(info.step)
                );
                if let Some(entry) = &info.entry {
                    s.push_str(&self.render_edge(entry, sw, depth));
                }
                s
            }
        }
    }

    /// The write logic of every memory and write port: one port each, muxed over its
    /// sources (only one writes in any cycle: statements run one at a time). A bank in
    /// `block` (block RAM, bram.rs) muxes its sources into one port too; other banks take
    /// a port per source, which synthesis merges where the sources exclude each other.
    fn write_logic(&mut self, block: &std::collections::BTreeSet<String>) {
        let inst = self.inst;
        let mut out = String::new();
        for (i, tm) in inst.tensors.iter().enumerate() {
            let t = TensorId(i as u32);
            let Some(st) = self.storage.get(&t).cloned() else {
                continue;
            };
            let srcs = self.writes.get(&t).cloned().unwrap_or_default();
            let multi = self.multi_writes.get(&t).cloned().unwrap_or_default();
            let aw = addr_width(tm.len());
            let dw = tm.elem.storage_bits();
            if let Storage::Local { mem, bank: Some(b) } = &st {
                // One memory per bank; every source writes the bank it selects (several
                // banks in one cycle from a chained iteration or a banked callee port).
                for k in 0..b.count() {
                    let mut body = String::new();
                    let bank_mem = format!("{mem}_b{k}");
                    let mine: Vec<(String, &WriteSrc)> = srcs
                        .iter()
                        .filter_map(|s| Self::bank_we(s, k).map(|we| (we, s)))
                        .collect();
                    if mine.len() > 1 && block.contains(&bank_mem) {
                        // Block RAM has one write port: the sources (states and phases,
                        // one a cycle) select its address and data.
                        let ow = b.off_width() + u32::from(self.is_double(t));
                        let (we, a, d) = shared_port(&mine, ow, dw);
                        let _ = writeln!(body, "        if ({we}) {bank_mem}[{a}] <= {d};");
                    } else {
                        for (we, s) in &mine {
                            let _ = writeln!(
                                body,
                                "        if ({we}) {bank_mem}[{}] <= {};",
                                s.addr, s.data
                            );
                        }
                    }
                    for s in &multi {
                        if let Some(we) = Self::bank_we(s, k) {
                            let _ = writeln!(
                                body,
                                "        if ({we}) {bank_mem}[{}] <= {};",
                                s.addr, s.data
                            );
                        }
                    }
                    if !body.is_empty() {
                        let _ = write!(out, "    always @(posedge clk) begin\n{body}    end\n");
                    }
                }
                continue;
            }
            if let Storage::Port { index } = &st {
                let p = &self.params[*index];
                if let (true, Some(b)) = (p.output, p.bank.clone()) {
                    // One write port per bank, each muxed over the sources that write
                    // that bank (at most one a cycle: pipeline.rs proves the banks).
                    let port = p.port.clone();
                    let ow = b.off_width();
                    for k in 0..b.count() {
                        let mine: Vec<(String, &WriteSrc)> = srcs
                            .iter()
                            .filter_map(|s| Self::bank_we(s, k).map(|we| (we, s)))
                            .collect();
                        let (we, wa, wd) = (
                            format!("{port}_we{k}"),
                            format!("{port}_wa{k}"),
                            format!("{port}_wd{k}"),
                        );
                        if mine.is_empty() {
                            let _ = writeln!(out, "    assign {we} = 1'b0;\n    assign {wa} = {ow}'d0;\n    assign {wd} = {dw}'d0;");
                            continue;
                        }
                        let (e, a, d) = shared_port(&mine, ow, dw);
                        let _ = writeln!(
                            out,
                            "    assign {we} = {e};\n    assign {wa} = {a};\n    assign {wd} = {d};"
                        );
                    }
                    continue;
                }
            }
            let (we, wa, wd) = match &st {
                Storage::Local { mem, .. } => {
                    if srcs.is_empty() && multi.is_empty() {
                        continue;
                    }
                    let base = mem.trim_end_matches("_mem").to_string();
                    let we = format!("{base}_we");
                    let wa = format!("{base}_wa");
                    let wd = format!("{base}_wd");
                    // A double buffer's (frame.rs) addresses carry the half.
                    let waw = aw + u32::from(self.is_double(t));
                    let _ = writeln!(
                        out,
                        "    wire {we};\n    wire [{}:0] {wa};\n    wire [{}:0] {wd};",
                        waw - 1,
                        dw - 1
                    );
                    let _ = writeln!(
                        out,
                        "    always @(posedge clk) begin\n        if ({we}) {mem}[{wa}] <= {wd};"
                    );
                    for m in &multi {
                        let _ = writeln!(
                            out,
                            "        if ({}) {mem}[{}] <= {};",
                            m.we, m.addr, m.data
                        );
                    }
                    out.push_str("    end\n");
                    (we, wa, wd)
                }
                Storage::Port { index } => {
                    let p = &self.params[*index];
                    if !p.output {
                        if !srcs.is_empty() {
                            self.diags.push(
                                Diagnostic::error(
                                    codes::RTL_UNSUPPORTED,
                                    format!(
                                        "`{}` writes into its argument `{}`",
                                        inst.kernel, tm.name
                                    ),
                                )
                                .at(tm.span)
                                .help("write into a new tensor instead"),
                            );
                        }
                        continue;
                    }
                    (
                        format!("{}_we", p.port),
                        format!("{}_wa", p.port),
                        format!("{}_wd", p.port),
                    )
                }
            };
            if srcs.is_empty() {
                let _ = writeln!(out, "    assign {we} = 1'b0;\n    assign {wa} = {aw}'d0;\n    assign {wd} = {dw}'d0;");
                continue;
            }
            let mine: Vec<(String, &WriteSrc)> = srcs.iter().map(|s| (s.we.clone(), s)).collect();
            let (e, a, d) = shared_port(&mine, aw, dw);
            let _ = writeln!(
                out,
                "    assign {we} = {e};\n    assign {wa} = {a};\n    assign {wd} = {d};"
            );
        }
        self.assigns.push_str(&out);
    }
}

/// One write port shared by `sources` (each with its enable on this port; at most one
/// writes a cycle): its enable, and its address (`aw` bits) and data (`dw` bits), each
/// the enabled source's.
fn shared_port(sources: &[(String, &WriteSrc)], aw: u32, dw: u32) -> (String, String, String) {
    let wes: Vec<&str> = sources.iter().map(|(w, _)| w.as_str()).collect();
    if let [(_, s)] = sources {
        return (wes.join(""), s.addr.clone(), s.data.clone());
    }
    let (mut a, mut d) = (format!("{aw}'d0"), format!("{dw}'d0"));
    for (w, s) in sources.iter().rev() {
        a = format!("{w} ? {} : {a}", s.addr);
        d = format!("{w} ? {} : {d}", s.data);
    }
    (wes.join(" | "), a, d)
}

/// The banking of the result port of a callee that writes the caller's tensor `t`, if
/// one is banked (the caller's memory of `t` then has the same banks, so each of the
/// callee's bank ports writes one of them).
fn callee_banking(
    m: &Module,
    inst: &Instance,
    ifaces: &HashMap<InstanceId, Iface>,
    t: TensorId,
) -> Option<Banking> {
    let mut found = None;
    let mut look = |call: &kiln_passes::ir::Call| {
        let Some(iface) = ifaces.get(&call.callee) else {
            return;
        };
        let callee = m.instance(call.callee);
        for (j, &r) in call.results.iter().enumerate() {
            if r != t {
                continue;
            }
            let Some(&ct) = callee.outputs.get(j) else {
                continue;
            };
            if let Some(p) = iface.params.iter().find(|p| p.tensor == ct && p.output) {
                if found.is_none() {
                    found = p.bank.clone();
                }
            }
        }
    };
    for n in inst.schedule() {
        match &inst.graph[n] {
            kiln_passes::ir::Node::Call(c) => look(c),
            kiln_passes::ir::Node::Compute(c) => {
                kiln_passes::ir::walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
                    if let kiln_passes::ir::Stmt::Call(call) = s {
                        look(call);
                    }
                })
            }
            _ => {}
        }
    }
    found
}

/// A signed 32-bit Verilog literal.
pub fn lit32(v: i64) -> String {
    if v < 0 {
        format!("-32'sd{}", v.unsigned_abs())
    } else {
        format!("32'sd{v}")
    }
}

/// The numeric format of a non-float, non-bin type (bin decodes to `tern`'s).
pub fn num_fmt(t: &ScalarType) -> Fmt {
    fmt_of(t).unwrap_or(Fmt::new(2, 0, true))
}
