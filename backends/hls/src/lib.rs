//! kiln's Vitis HLS back end: writes a complete HLS project for a kernel.
//!
//! [`emit`] turns a typed IR module into the files of a project directory:
//! - `NAME.h` / `NAME.cpp`: the kernel as synthesizable C++ (kernel.rs), with `ap_fixed` /
//!   `ap_int` types exactly as kiln inferred or the user declared them (types.rs);
//! - `NAME_weights.h`: constant data as `const` ROM tables;
//! - `kiln_hls.h`: the runtime (runtime/kiln_hls.h) that gives expressions kiln's exact
//!   meaning without the header paths that have known defects;
//! - `NAME_tb.cpp` and its data files: a testbench that runs the kernel on inputs and
//!   compares every output bit for bit with what kiln computed (testbench.rs);
//! - `run_hls.tcl`: the Vitis HLS script (csim, csynth; cosim and export on request), for
//!   `vitis_hls -f` (releases before 2025.1);
//! - `hls_config.cfg`: the same component for the unified flow of Vitis 2025.1 and later
//!   (`v++ -c --mode hls`, `vitis-run --mode hls --csim`).
//!
//! The interpreter, the JIT and the C-simulation of these files agree bit for bit; the
//! tests check it on every example and on random programs.

mod batch;
mod kernel;
mod lowbit;
mod rom;
mod testbench;
pub mod types;

pub use kernel::Locate;
use kiln_passes::data::TensorValue;
use kiln_passes::diag::Diagnostic;
use kiln_passes::ir::{InstanceId, Module, TensorKind};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// The runtime header, written into every project.
pub const RUNTIME_HEADER: &str = include_str!("../runtime/kiln_hls.h");

/// What `kiln hls` was asked for.
#[derive(Clone, Debug)]
pub struct HlsOptions {
    /// The top function's name (and the files' stem).
    pub name: String,
    /// The FPGA part for `set_part`.
    pub part: String,
    /// The clock period for `create_clock`, in ns.
    pub clock_ns: f64,
    /// AXI-stream array ports (`--io stream`) instead of m_axi.
    pub io_stream: bool,
    /// `--batch`: the top processes a run-time number of samples, at most this many
    /// (batch.rs); the test data then has this leading axis.
    pub batch: Option<usize>,
}

impl Default for HlsOptions {
    fn default() -> HlsOptions {
        HlsOptions {
            name: "kernel".into(),
            part: "xczu9eg-ffvb1156-2-e".into(),
            clock_ns: 10.0,
            io_stream: false,
            batch: None,
        }
    }
}

/// The files of a project: (file name, contents).
#[derive(Clone, Debug, Default)]
pub struct Project {
    pub files: Vec<(String, String)>,
}

/// The data a testbench checks: the entry's inputs (in parameter order) and the results
/// kiln computed for them.
pub struct TestData<'a> {
    pub inputs: &'a [TensorValue],
    pub outputs: &'a [TensorValue],
}

/// Emits the project for the module's entry instance.
pub fn emit(
    module: &Module,
    opts: &HlsOptions,
    locate: Locate,
    data: Option<TestData>,
) -> Result<Project, Vec<Diagnostic>> {
    let entry = module.entry.expect("a module has an entry");
    let order = kernel::instance_order(module, entry);
    let name = types::ident(&opts.name);

    let mut used: HashSet<String> = HashSet::new();
    let (fn_names, core) = function_names(module, entry, &order, &name, opts, &mut used);
    let (weights, consts) = weights_header(module, &order, &name, &mut used);

    // Functions.
    let mut errors = Vec::new();
    let mut functions = Vec::new();
    let row_only = kernel::row_stage_only(module, entry);
    for &id in order.iter().filter(|id| !row_only.contains(id)) {
        match kernel::function(
            module,
            id,
            &fn_names[&id],
            &fn_names,
            &consts,
            locate,
            kernel::Role {
                interfaces: id == entry && !opts.io_stream && opts.batch.is_none(),
                dataflow: id == entry,
            },
        ) {
            Ok(f) => functions.push((id, f)),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let top = &functions.last().expect("the entry").1;
    let (mut top_ports, mut top_proto, mut wrapper) = if opts.io_stream {
        // Every array streams but the weights read from DDR (m_axi ports).
        let all: Vec<bool> = top
            .ports
            .iter()
            .map(|p| !p.shape.is_empty() && !p.ddr)
            .collect();
        // Under a batch top, the per-sample stream wrapper is an inner function.
        let (ports, def) =
            kernel::streamed(&name, &core, &top.ports, &all, opts.batch.is_none(), false);
        let proto = kernel::prototype(&name, &ports);
        (ports, proto, Some(def))
    } else {
        (top.ports.clone(), top.prototype.clone(), None)
    };
    let mut top_name = name.clone();
    if let Some(samples) = opts.batch {
        top_name = batch::batch_name(&name);
        let (bports, def) = batch::batch_top(&top_name, &name, &top_ports, samples);
        top_proto = batch::batch_prototype(&top_name, &bports);
        top_ports = bports;
        wrapper = Some(wrapper.unwrap_or_default() + "\n" + &def);
    }

    let (header, cpp) = sources(
        module,
        entry,
        &name,
        opts,
        &functions,
        (&top_proto, wrapper),
        locate,
    );

    let mut files = vec![
        ("kiln_hls.h".to_string(), RUNTIME_HEADER.to_string()),
        (format!("{name}.h"), header),
        (format!("{name}_weights.h"), weights),
        (format!("{name}.cpp"), cpp),
    ];
    let mut tb_data = Vec::new();
    if let Some(d) = data {
        let count = opts.batch;
        // The weights read from DDR are arguments of the top: the testbench passes the
        // constants' values there (after the script's own inputs).
        let mut inputs = d.inputs.to_vec();
        for &(_, c) in &module.instance(entry).ddr_weights {
            let cd = &module.consts[c.index()];
            inputs.push(TensorValue {
                elem: cd.elem,
                shape: cd.shape.clone(),
                values: cd.values.clone(),
            });
        }
        let d = TestData {
            inputs: &inputs,
            outputs: d.outputs,
        };
        let (tb, mut data_files) = testbench::testbench(&name, &top_name, count, &top_ports, &d);
        tb_data = data_files.iter().map(|(n, _)| n.clone()).collect();
        files.push((format!("{name}_tb.cpp"), tb));
        files.append(&mut data_files);
    }
    files.push((
        "run_hls.tcl".to_string(),
        tcl(&name, &top_name, opts, &tb_data),
    ));
    files.push((
        "hls_config.cfg".to_string(),
        unified_config(&name, &top_name, opts, &tb_data),
    ));
    Ok(Project { files })
}

/// The C++ function of each instance: the entry is `name` (`name_core` behind the
/// streaming wrapper with `--io stream`), the others `name_INSTANCE`, made unique.
fn function_names(
    module: &Module,
    entry: InstanceId,
    order: &[InstanceId],
    name: &str,
    opts: &HlsOptions,
    used: &mut HashSet<String>,
) -> (HashMap<InstanceId, String>, String) {
    // Function names: the entry is `name`, the others their instance names.
    let mut fn_names = HashMap::new();
    used.insert(name.to_string());
    // With streams, the kernel proper is `NAME_core` and `NAME` the streaming wrapper.
    let core = format!("{name}_core");
    if opts.io_stream {
        used.insert(core.clone());
        fn_names.insert(entry, core.clone());
    } else {
        fn_names.insert(entry, name.to_string());
    }
    for &id in order {
        if id == entry {
            continue;
        }
        let base = format!("{name}_{}", types::ident(&module.instance(id).name));
        let mut n = base.clone();
        let mut k = 1;
        while !used.insert(n.clone()) {
            k += 1;
            n = format!("{base}_{k}");
        }
        fn_names.insert(id, n);
    }

    (fn_names, core)
}

/// `NAME_weights.h`: every constant tensor the functions use, as a ROM table, and the
/// table's name per constant.
fn weights_header(
    module: &Module,
    order: &[InstanceId],
    name: &str,
    used: &mut HashSet<String>,
) -> (String, kernel::ConstNames) {
    // Constant tables used by any function.
    let mut consts: kernel::ConstNames = HashMap::new();
    let ddr: HashSet<kiln_passes::ir::ConstId> = module
        .entry
        .map(|e| {
            module
                .instance(e)
                .ddr_weights
                .iter()
                .map(|&(_, c)| c)
                .collect()
        })
        .unwrap_or_default();
    let mut weights = String::new();
    let _ = writeln!(
        weights,
        "// {name}_weights.h: constant data of `{name}`, as ROM tables. Written by kiln.\n#ifndef {g}\n#define {g}\n#include \"kiln_hls.h\"\n",
        g = format!("{}_WEIGHTS_H", name.to_uppercase())
    );
    for &id in order {
        let inst = module.instance(id);
        let read = read_tensors(inst);
        for (i, t) in inst.tensors.iter().enumerate() {
            let TensorKind::Const(c) = &t.kind else {
                continue;
            };
            if consts.contains_key(&c.index()) {
                continue;
            }
            // A weight the design reads from DDR has no ROM (unless a node still reads
            // the constant itself).
            if ddr.contains(c) && !read.contains(&kiln_passes::ir::TensorId(i as u32)) {
                continue;
            }
            let cd = &module.consts[c.index()];
            let base = format!("w_{}", types::ident(&cd.name));
            let mut n = base.clone();
            let mut k = 1;
            while !used.insert(n.clone()) {
                k += 1;
                n = format!("{base}_{k}");
            }
            let _ = writeln!(weights, "// {} ({})", cd.name, cd.source);
            rom::table(&mut weights, &n, &cd.elem, &cd.shape, &cd.values);
            consts.insert(c.index(), n);
        }
    }
    weights.push_str(&lowbit::packed_roms(module, order, &consts));
    weights.push_str("\n#endif\n");

    (weights, consts)
}

/// The tensors a node of `inst` reads or passes to a call.
fn read_tensors(inst: &kiln_passes::ir::Instance) -> HashSet<kiln_passes::ir::TensorId> {
    let mut out = HashSet::new();
    for n in inst.graph.node_weights() {
        match n {
            kiln_passes::ir::Node::Compute(c) => out.extend(c.reads.iter().copied()),
            kiln_passes::ir::Node::Call(c) => out.extend(c.args.iter().copied()),
            _ => {}
        }
    }
    out
}

/// `NAME.h` and `NAME.cpp`.
fn sources(
    module: &Module,
    entry: InstanceId,
    name: &str,
    opts: &HlsOptions,
    functions: &[(InstanceId, kernel::Function)],
    (top_proto, wrapper): (&str, Option<String>),
    locate: Locate,
) -> (String, String) {
    let entry_inst = module.instance(entry);
    let guard = format!("{}_H", name.to_uppercase());
    let mut header = String::new();
    let _ = writeln!(
        header,
        "// {name}.h: the kernel `{}` ({}). Written by kiln.\n#ifndef {guard}\n#define {guard}\n#include \"kiln_hls.h\"\n\n{};\n\n#endif",
        entry_inst.kernel,
        locate(entry_inst.span),
        top_proto
    );

    let mut cpp = String::new();
    let _ = writeln!(
        cpp,
        "// {name}.cpp: the kernel `{}` as Vitis HLS C++. Written by kiln; every loop and\n// statement names the source line it comes from.\n#include \"{name}.h\"\n#include \"{name}_weights.h\"\n",
        entry_inst.kernel
    );
    for (id, f) in functions {
        if *id != entry || opts.io_stream {
            let _ = writeln!(cpp, "static {};\n", f.prototype);
        }
    }
    for (id, f) in functions {
        for stage in &f.stages {
            cpp.push_str(stage);
            cpp.push('\n');
        }
        let def = if *id == entry && !opts.io_stream {
            f.definition.clone()
        } else {
            f.definition.replacen("\nvoid ", "\nstatic void ", 1)
        };
        cpp.push_str(&def);
        cpp.push('\n');
    }
    if let Some(w) = wrapper {
        cpp.push_str(&w);
    }

    (header, cpp)
}

/// The HLS component's configuration for the Vitis unified flow (2025.1 and later, where
/// `vitis_hls` and its Tcl scripts are deprecated): `v++ -c --mode hls` synthesizes,
/// `vitis-run --mode hls --csim` C-simulates. The same sources, top, part and clock as
/// run_hls.tcl; paths are relative to the file.
fn unified_config(name: &str, top: &str, opts: &HlsOptions, data: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Vitis HLS component for `{name}`, written by kiln, for Vitis 2025.1 and later\n\
         # (older releases: vitis_hls -f run_hls.tcl). From this directory:\n\
         #   v++ -c --mode hls --config hls_config.cfg --work_dir {name}_prj                C synthesis\n\
         #   vitis-run --mode hls --csim --config hls_config.cfg --work_dir {name}_prj      C simulation\n\
         #   vitis-run --mode hls --cosim --config hls_config.cfg --work_dir {name}_prj     co-simulation\n\
         #   vitis-run --mode hls --package --config hls_config.cfg --work_dir {name}_prj   IP export\n\
         part={}\n\n[hls]\nflow_target=vitis\nclock={}ns\nsyn.file={name}.cpp\n\
         syn.cflags=-std=c++14\nsyn.top={top}\npackage.output.format=ip_catalog",
        opts.part, opts.clock_ns
    );
    if !data.is_empty() {
        let _ = writeln!(s, "tb.file={name}_tb.cpp");
        for d in data {
            let _ = writeln!(s, "tb.file={d}");
        }
        let _ = writeln!(s, "tb.cflags=-std=c++14");
    }
    s
}

/// What the run_hls.tcl of a project written without a testbench says (`kiln hls
/// --no-testbench`); `kiln csim` recognizes such a project by it.
pub const NO_TESTBENCH: &str = "synthesis (no testbench)";

fn tcl(name: &str, top: &str, opts: &HlsOptions, data: &[String]) -> String {
    let mut s = String::new();
    let how = if data.is_empty() {
        // `kiln hls --no-testbench`: nothing to simulate.
        &format!("#   vitis_hls -f run_hls.tcl                 {NO_TESTBENCH}\n#   vitis_hls -f run_hls.tcl -tclargs export also IP export\nset export [expr {{[lsearch -exact $argv export] >= 0}}]")
    } else {
        "#   vitis_hls -f run_hls.tcl                 C-simulation and synthesis\n#   vitis_hls -f run_hls.tcl -tclargs cosim  also co-simulation and IP export\nset cosim [expr {[lsearch -exact $argv cosim] >= 0}]"
    };
    let _ = writeln!(
        s,
        "# Vitis HLS project for `{name}`, written by kiln.\n{how}\nopen_project -reset {name}_prj\nset_top {top}\nadd_files {name}.cpp -cflags \"-std=c++14\"",
    );
    if !data.is_empty() {
        let _ = writeln!(
            s,
            "add_files -tb {name}_tb.cpp -cflags \"-std=c++14\"\nadd_files -tb {{{}}}",
            data.join(" ")
        );
    }
    let _ = writeln!(
        s,
        "open_solution -reset solution1 -flow_target vitis\nset_part {{{}}}\ncreate_clock -period {} -name default",
        opts.part, opts.clock_ns
    );
    if data.is_empty() {
        s.push_str(
            "csynth_design\nif {$export} {\n    export_design -format ip_catalog\n}\nexit\n",
        );
    } else {
        s.push_str("csim_design\ncsynth_design\nif {$cosim} {\n    cosim_design\n    export_design -format ip_catalog\n}\nexit\n");
    }
    s
}
