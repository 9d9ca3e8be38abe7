//! The `kiln` command line.

use clap::{Parser, Subcommand, ValueEnum};
use kiln::{Options, Outcome, RunSpec};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// kiln: a compiler for quantized DNN kernels. Kernels are written in a small
/// Python-flavoured language with Vitis HLS fixed-point types, checked, typed by range
/// analysis, and run bit-exactly on the CPU.
#[derive(Parser)]
#[command(
    name = "kiln",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Engine {
    /// Native code through cranelift, bit-exact with the interpreter.
    Jit,
    /// The reference interpreter (exact, slow).
    Interp,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Io {
    /// m_axi ports (memory-mapped arrays).
    Axi,
    /// AXI-stream ports.
    Stream,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Print the time each stage takes (parse, check, lowering, passes, run).
    #[arg(long)]
    timings: bool,
    /// Print the IR after a stage: `lower` or any pass of the pipeline (bounds, schedule,
    /// parallel-lint, fuse, autoschedule, autoblock, verify).
    #[arg(long, value_name = "PASS")]
    dump_ir_after: Option<String>,
    /// The pass pipeline to run after lowering, instead of the command's own: check,
    /// interp, cpu, fpga or none (docs/architecture.md lists their passes).
    #[arg(long, value_name = "NAME")]
    pipeline: Option<String>,
    /// Colour diagnostics: auto, always, never.
    #[arg(long, default_value = "auto", value_name = "WHEN")]
    color: String,
    /// Treat every warning as an error: the command stops where it would have warned
    /// and exits with 1 (for scripts and CI).
    #[arg(long)]
    deny_warnings: bool,
}

#[derive(clap::Args, Clone)]
struct Target {
    /// The kiln script.
    file: PathBuf,
    /// The kernel to run (default: `main`, or the file's only kernel).
    #[arg(long, short)]
    kernel: Option<String>,
    /// Bind a kernel parameter to a .npy file: `--input x=image.npy`. Float arrays are
    /// converted to the parameter's type (rounding and overflow as in Vitis HLS); integer
    /// arrays are taken as values.
    #[arg(long = "input", short, value_name = "NAME=PATH", value_parser = parse_input)]
    inputs: Vec<(String, PathBuf)>,
}

/// The target whose schedules `kiln ir --schedule` applies.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScheduleTarget {
    Cpu,
    Fpga,
}

#[derive(Subcommand)]
enum Command {
    /// Check files: syntax, names, shapes and types. Exit 0 when clean, 1 with diagnostics.
    Check {
        /// The kiln scripts to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Run a kernel and print (and optionally save) its results.
    Run {
        #[command(flatten)]
        target: Target,
        /// Write each result to DIR/NAME.npy.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Print every value of the results (default: the first few and the range).
        #[arg(long)]
        full: bool,
        /// The engine that runs the kernel.
        #[arg(long, value_enum, default_value = "jit")]
        engine: Engine,
        /// Threads for parallel loops (JIT; default: one per core).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        threads: Option<u32>,
        /// Run the kernel N times after compiling once; the last line of stderr is
        /// `kernel time: median X.XXX ms over N runs` (kernel only: no compile, no I/O).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        repeat: Option<u32>,
        /// Choose the JIT's loop blocking by measuring a few candidates on these inputs
        /// (for kernels without a `schedule ... for cpu`); default: a model of the machine.
        #[arg(long, conflicts_with = "no_auto_schedule")]
        autotune: bool,
        /// Run the loops as written (no automatic register and cache blocking).
        #[arg(long)]
        no_auto_schedule: bool,
        /// Count, at every conversion to an int or fixed type that may overflow, the values
        /// that wrapped or saturated, and report each site with the count and the range of
        /// the values that did not fit (W0804). Slower: the JIT compiles plain scalar code.
        #[arg(long, conflicts_with = "repeat")]
        check_overflow: bool,
        /// Run the kernel on each sample of a batch: every input given as a file has a
        /// leading batch axis (one entry per sample, each of the declared shape), and every
        /// result gains it. Compiled once; the JIT runs samples on all its threads.
        #[arg(long)]
        batch: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Write a Vitis HLS project for a kernel: NAME.cpp/.h with the inferred ap_fixed
    /// types, a weights header, a testbench with kiln's results for the kernel's inputs,
    /// and run_hls.tcl. Check it with `kiln csim DIR`.
    Hls {
        #[command(flatten)]
        target: Target,
        /// The project directory.
        #[arg(long, short, value_name = "DIR")]
        out: PathBuf,
        /// The FPGA part (`set_part`).
        #[arg(long, default_value = kiln::DEFAULT_PART, value_name = "PART")]
        part: String,
        /// The clock period in ns (`create_clock`).
        #[arg(long, default_value_t = 10.0, value_name = "NS", value_parser = parse_clock)]
        clock_ns: f64,
        /// The engine that computes the testbench's expected results.
        #[arg(long, value_enum, default_value = "jit")]
        engine: Engine,
        /// How tensors reach the kernel: m_axi memory ports, or AXI streams of their
        /// elements in row-major order.
        #[arg(long, value_enum, default_value = "axi")]
        io: Io,
        /// Do not schedule kernels without an `fpga` schedule automatically.
        #[arg(long)]
        no_auto_schedule: bool,
        #[command(flatten)]
        alloc: AllocArgs,
        /// A top over a batch: `NAME_batch(n, ...)` runs the kernel on `n` samples; the
        /// inputs given as files hold the batch along their leading axis (as `kiln run
        /// --batch`), and the testbench checks every sample's results.
        #[arg(long)]
        batch: bool,
        /// Write the project without a testbench: the kernel is not run for expected
        /// results (for a kernel too long to run and simulate; `kiln csim` then has
        /// nothing to check).
        #[arg(long, conflicts_with = "batch")]
        no_testbench: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Write synthesizable Verilog for a kernel (one module per kernel instance: an FSM and
    /// its datapath, docs/rtl.md), a manifest (kiln_rtl.json), and a Verilator testbench
    /// with kiln's results for the kernel's inputs. Simulate it with `kiln rtlsim DIR`.
    Rtl {
        #[command(flatten)]
        target: Target,
        /// The design directory.
        #[arg(long, short, value_name = "DIR")]
        out: PathBuf,
        /// The FPGA part (recorded in the manifest for `kiln synth`; the fpga pipeline
        /// schedules for it). Default: none in the manifest, the pipeline's default part.
        #[arg(long, value_name = "PART")]
        part: Option<String>,
        /// The clock period in ns (for the fpga pipeline's schedule).
        #[arg(long, default_value_t = 10.0, value_name = "NS", value_parser = parse_clock)]
        clock_ns: f64,
        /// The engine that computes the testbench's expected results.
        #[arg(long, value_enum, default_value = "jit")]
        engine: Engine,
        /// Do not schedule kernels without an `fpga` schedule automatically.
        #[arg(long)]
        no_auto_schedule: bool,
        /// Test over a batch: the inputs given as files hold samples along their leading
        /// axis (as `kiln run --batch`); the testbench runs the design on each and checks
        /// every sample's results.
        #[arg(long)]
        batch: bool,
        /// Build every loop one statement per cycle, pipelined ones too (smaller
        /// hardware: a pipelined iteration reads its buffers many times per cycle).
        #[arg(long)]
        no_pipeline: bool,
        /// Run a network's stages one after another on each image instead of as a frame
        /// pipeline (concurrent stages, double-buffered feature maps between them).
        #[arg(long)]
        no_dataflow: bool,
        /// Write the design without a testbench: the kernel is not run for expected
        /// results (for a kernel too long to run and simulate; `kiln synth` works on the
        /// design, `kiln rtlsim` has nothing to check).
        #[arg(long, conflicts_with = "batch")]
        no_testbench: bool,
        #[command(flatten)]
        alloc: AllocArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Simulate a design written by `kiln rtl` with Verilator: build it with its
    /// testbench, run every sample, compare every result bit for bit with kiln's, and
    /// print the cycles to the first output and per image.
    Rtlsim {
        /// The design directory (written by `kiln rtl FILE -o DIR`).
        dir: PathBuf,
        /// Stop a simulation that has not finished after this many cycles.
        #[arg(long, default_value_t = 200_000_000, value_name = "N")]
        max_cycles: u64,
    },
    /// Estimate a kernel's FPGA latency and resources (DSP, BRAM, LUT) per kernel, node and
    /// loop, against a device: xc7z020 (PYNQ-Z1/Z2), xc7z045 (ZC706), xczu9eg (ZCU102),
    /// xcku115.
    Report {
        #[command(flatten)]
        target: Target,
        /// The FPGA part.
        #[arg(long, default_value = kiln::DEFAULT_PART, value_name = "PART")]
        part: String,
        /// The clock period in ns.
        #[arg(long, default_value_t = 10.0, value_name = "NS", value_parser = parse_clock)]
        clock_ns: f64,
        /// Do not schedule kernels without an `fpga` schedule automatically.
        #[arg(long)]
        no_auto_schedule: bool,
        #[command(flatten)]
        alloc: AllocArgs,
        /// Print Verilator's cycles per image and yosys' resource counts of the same
        /// design beside the estimate, from DIR/rtlsim.json and DIR/synth.json (`kiln rtl
        /// FILE -o DIR`, then `kiln rtlsim DIR` and/or `kiln synth DIR`).
        #[arg(long, value_name = "DIR")]
        measured: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Print every value of the instantiated kernels with its type and why it has it
    /// (declared, bit growth, range of constant data, accumulation).
    Types {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        common: Common,
    },
    /// Print the dataflow IR of the instantiated kernels.
    Ir {
        #[command(flatten)]
        target: Target,
        /// Print the dataflow graphs in Graphviz dot form.
        #[arg(long)]
        dot: bool,
        /// Annotate every expression with its inferred type.
        #[arg(long)]
        types: bool,
        /// Print the IR as the target's back end gets it: after the target's pipeline
        /// (its `schedule` items and the automatic schedule: cpu: blocking; fpga: fusion
        /// and directives for `--part`). The same as `--pipeline cpu|fpga`.
        #[arg(long, value_enum, value_name = "TARGET")]
        schedule: Option<ScheduleTarget>,
        /// The FPGA part the fpga pipeline schedules for.
        #[arg(long, default_value = kiln::DEFAULT_PART, value_name = "PART")]
        part: String,
        /// The clock period in ns.
        #[arg(long, default_value_t = 10.0, value_name = "NS")]
        clock_ns: f64,
        /// No automatic schedules (fpga: fusion and directives; cpu: blocking).
        #[arg(long)]
        no_auto_schedule: bool,
        #[command(flatten)]
        alloc: AllocArgs,
        #[command(flatten)]
        common: Common,
    },
    /// C-simulate a project written by `kiln hls`: compile it with g++ against the Xilinx
    /// ap_types headers and run its testbench.
    Csim {
        /// The project directory (written by `kiln hls FILE -o DIR`).
        dir: PathBuf,
        /// The directory holding the ap_types headers (ap_fixed.h); default:
        /// KILN_AP_TYPES, else a cache, else fetched from the hls4ml wheel with pip.
        #[arg(long, value_name = "DIR")]
        ap_types: Option<PathBuf>,
        /// Keep the compiled testbench (DIR/csim.out).
        #[arg(long)]
        keep: bool,
    },
    /// Synthesize the Verilog written by `kiln rtl FILE -o DIR` with yosys (`synth_xilinx`
    /// for the part's family) and report its LUT, FF, CARRY, DSP48 and RAMB18/36 cells and
    /// the longest combinational path in logic levels; writes DIR/synth.json. Needs yosys
    /// on the PATH (or KILN_YOSYS). See docs/rtl-synthesis.md.
    Synth {
        /// The directory written by `kiln rtl` (it holds kiln_rtl.json).
        dir: PathBuf,
        /// The FPGA part whose family to synthesize for (7-series: xc7z/xc7a/xc7k/xc7v;
        /// UltraScale: xcku/xcvu; UltraScale+: xczu, xcku..p, xcvu..p); default: the
        /// manifest's family or part.
        #[arg(long, value_name = "PART")]
        part: Option<String>,
    },
    /// Quantize float weights to integer levels and a fixed-point scale (w ≈ scale·levels)
    /// for `bin`/`tern`/`int<N>` parameters, and report the L2, orientation and modulus
    /// losses.
    ///
    /// Methods: `vecq` (VecQ: levels from std(w)·λ(bits), least-squares scale; levels are
    /// stored doubled, as odd integers of `int<bits+1>`, `bin` at 1 bit), `round` (plain
    /// rounding to the `fixed<bits, I>` grid covering max|w|; `int<bits>`), `bwn` (1 bit:
    /// sign(w), scale mean|w|; `bin`), `twn` (2 bits: threshold 0.7·mean|w|, scale the mean
    /// of the kept |w|; `tern`).
    ///
    /// Writes OUT.npy (the levels: int8, int16 for vecq at 8 bits; same shape as the input)
    /// and OUT.scale.npy (float64, shape [] or [C] with --per-channel, rounded to multiples
    /// of 2^-16, finer below 2^-12, exact in the printed ufixed type). With --script, every
    /// `param` of the script loaded from a float array of rank ≥ 2 (or those of --only) is
    /// quantized into DIR/NAME.npy and DIR/NAME.scale.npy. See docs/quantize.md.
    Quantize {
        /// The weights: a float32 or float64 .npy array of rank ≥ 1.
        #[arg(
            value_name = "WEIGHTS.npy",
            required_unless_present = "script",
            conflicts_with = "script"
        )]
        input: Option<PathBuf>,
        /// Quantize the parameters of this script instead (`-o` is then a directory).
        #[arg(long, value_name = "NET.kiln")]
        script: Option<PathBuf>,
        /// The method: vecq, round, bwn, twn.
        #[arg(long, short, value_name = "M")]
        method: String,
        /// The bit width, 1 to 8 (bwn: 1, twn: 2).
        #[arg(long, short, value_name = "B")]
        bits: u32,
        /// One scale per index of dimension 0 (output channel), with statistics per
        /// channel; default: one per tensor.
        #[arg(long)]
        per_channel: bool,
        /// With --script: quantize exactly these parameters (comma-separated).
        #[arg(long, value_name = "W1,W2", value_delimiter = ',')]
        only: Option<Vec<String>>,
        /// The levels file (OUT.npy; the scales go to OUT.scale.npy), or with --script the
        /// output directory.
        #[arg(long, short, value_name = "OUT")]
        out: PathBuf,
        /// Fractional bits of the scale grid (scales are multiples of 2^-F).
        #[arg(long, default_value_t = kiln::quantize_cmd::DEFAULT_SCALE_FRAC, value_name = "F")]
        scale_frac: i32,
    },
}

fn parse_input(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((n, p)) if !n.is_empty() && !p.is_empty() => Ok((n.to_string(), PathBuf::from(p))),
        _ => Err(format!("expected NAME=PATH, got `{s}`")),
    }
}

/// What the allocation of a network's dataflow stages aims at (`kiln hls`, `kiln report`,
/// `kiln rtl`, `kiln ir --schedule fpga`).
#[derive(clap::Args, Debug)]
struct AllocArgs {
    /// Allocate a network's stages for this many images per second with the least
    /// hardware (default: as fast as the budget allows).
    #[arg(long, value_name = "N", value_parser = parse_fps)]
    target_fps: Option<f64>,
    /// The fraction of the device's DSP, BRAM and LUT the allocation may use.
    #[arg(long, default_value_t = 1.0, value_name = "F", value_parser = parse_budget)]
    budget: f64,
}

impl AllocArgs {
    fn options(&self) -> kiln_passes::manager::AllocOptions {
        kiln_passes::manager::AllocOptions {
            target_fps: self.target_fps,
            budget: self.budget,
        }
    }
}

/// A rate: a finite number of images per second greater than 0.
fn parse_fps(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!(
            "expected images per second greater than 0, like 1000, got `{s}`"
        )),
    }
}

/// A budget fraction: greater than 0 and at most 1.
fn parse_budget(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 && f <= 1.0 => Ok(f),
        _ => Err(format!(
            "expected a fraction of the device greater than 0 and at most 1, like 0.8, got `{s}`"
        )),
    }
}

/// A clock period: a finite number of nanoseconds greater than 0.
fn parse_clock(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(ns) if ns.is_finite() && ns > 0.0 => Ok(ns),
        _ => Err(format!(
            "expected a clock period in ns greater than 0, like 10 or 3.3, got `{s}`"
        )),
    }
}

/// A parameter bound twice by `--input` is a usage error (the last one used to win).
fn check_inputs(t: &Target) -> Result<(), String> {
    for (i, (name, path)) in t.inputs.iter().enumerate() {
        if let Some((_, first)) = t.inputs[..i].iter().find(|(n, _)| n == name) {
            return Err(format!(
                "--input {name} is given twice ({} and {}); bind each parameter once",
                first.display(),
                path.display()
            ));
        }
    }
    Ok(())
}

fn options(c: &Common) -> Result<Options, String> {
    let color = match c.color.as_str() {
        "always" => true,
        "never" => false,
        "auto" => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        other => {
            return Err(format!(
                "--color takes auto, always or never, not `{other}`"
            ))
        }
    };
    if let Some(p) = &c.dump_ir_after {
        let stages = kiln_passes::pipelines::stage_names();
        if !stages.contains(&p.as_str()) {
            return Err(format!(
                "--dump-ir-after: unknown stage `{p}` (stages: {})",
                stages.join(", ")
            ));
        }
    }
    if let Some(name) = &c.pipeline {
        if kiln_passes::pipelines::pipeline(name).is_none() {
            let names: Vec<&str> = kiln_passes::pipelines::PIPELINES
                .iter()
                .map(|p| p.name)
                .collect();
            return Err(format!(
                "--pipeline: unknown pipeline `{name}` (pipelines: {})",
                names.join(", ")
            ));
        }
    }
    Ok(Options {
        color,
        timings: c.timings,
        dump_ir_after: c.dump_ir_after.clone(),
        pipeline: c.pipeline.clone(),
        verify: cfg!(debug_assertions),
        fixed_machine: false,
        deny_warnings: c.deny_warnings,
    })
}

fn main() -> ExitCode {
    // The front end and the passes recurse over expression trees; a generous stack keeps
    // machine-generated or adversarial deeply nested sources from overflowing it.
    const STACK: usize = 512 << 20;
    match std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(real_main)
    {
        Ok(h) => h.join().unwrap_or(ExitCode::from(101)),
        Err(_) => real_main(),
    }
}

fn real_main() -> ExitCode {
    let cli = Cli::parse();
    let common = match &cli.command {
        Command::Check { common, .. }
        | Command::Run { common, .. }
        | Command::Hls { common, .. }
        | Command::Rtl { common, .. }
        | Command::Report { common, .. }
        | Command::Types { common, .. }
        | Command::Ir { common, .. } => Some(common),
        Command::Csim { .. }
        | Command::Rtlsim { .. }
        | Command::Quantize { .. }
        | Command::Synth { .. } => None,
    };
    let target = match &cli.command {
        Command::Run { target, .. }
        | Command::Hls { target, .. }
        | Command::Rtl { target, .. }
        | Command::Report { target, .. }
        | Command::Types { target, .. }
        | Command::Ir { target, .. } => Some(target),
        _ => None,
    };
    let opts = match target.map(check_inputs).unwrap_or(Ok(())).and_then(|()| {
        common
            .map(options)
            .unwrap_or_else(|| Ok(Options::default()))
    }) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = dispatch(&cli.command, &opts);
    print!("{}", outcome.stdout);
    eprint!("{}", outcome.stderr);
    ExitCode::from(outcome.code.clamp(0, 255) as u8)
}

/// Runs the command the arguments name.
fn dispatch(command: &Command, opts: &Options) -> Outcome {
    match command {
        Command::Check { files, .. } => kiln::check(files, opts),
        Command::Run {
            target,
            out,
            full,
            engine,
            threads,
            repeat,
            autotune,
            no_auto_schedule,
            check_overflow,
            batch,
            ..
        } => kiln::run(
            &target.file,
            &RunSpec {
                full: *full,
                engine: match engine {
                    Engine::Jit => kiln::Engine::Jit,
                    Engine::Interp => kiln::Engine::Interp,
                },
                threads: threads.unwrap_or(0) as usize,
                repeat: repeat.unwrap_or(0) as usize,
                cpu_blocking: if *no_auto_schedule {
                    kiln::CpuBlocking::Off
                } else if *autotune {
                    kiln::CpuBlocking::Autotune
                } else {
                    kiln::CpuBlocking::Model
                },
                check_overflow: *check_overflow,
                batch: *batch,
                ..spec(target)
            },
            out.as_deref(),
            opts,
        ),
        Command::Hls {
            target,
            out,
            part,
            clock_ns,
            engine,
            io,
            no_auto_schedule,
            alloc,
            batch,
            no_testbench,
            ..
        } => kiln::hls(
            &target.file,
            &RunSpec {
                engine: match engine {
                    Engine::Jit => kiln::Engine::Jit,
                    Engine::Interp => kiln::Engine::Interp,
                },
                batch: *batch,
                ..spec(target)
            },
            &kiln::HlsSpec {
                out_dir: out.clone(),
                part: part.clone(),
                clock_ns: *clock_ns,
                io_stream: matches!(io, Io::Stream),
                auto_schedule: !no_auto_schedule,
                alloc: alloc.options(),
                testbench: !no_testbench,
            },
            opts,
        ),
        Command::Rtl {
            target,
            out,
            part,
            clock_ns,
            engine,
            no_auto_schedule,
            batch,
            no_pipeline,
            no_dataflow,
            no_testbench,
            alloc,
            ..
        } => kiln::rtl(
            &target.file,
            &RunSpec {
                engine: match engine {
                    Engine::Jit => kiln::Engine::Jit,
                    Engine::Interp => kiln::Engine::Interp,
                },
                batch: *batch,
                ..spec(target)
            },
            &kiln::RtlSpec {
                out_dir: out.clone(),
                part: part.clone(),
                clock_ns: *clock_ns,
                auto_schedule: !no_auto_schedule,
                pipeline: !no_pipeline,
                dataflow: !no_dataflow,
                alloc: alloc.options(),
                testbench: !no_testbench,
            },
            opts,
        ),
        Command::Rtlsim { dir, max_cycles } => kiln::rtlsim::rtlsim(
            dir,
            &kiln::rtlsim::RtlsimSpec {
                max_cycles: *max_cycles,
                ..Default::default()
            },
        ),
        Command::Report {
            target,
            part,
            clock_ns,
            no_auto_schedule,
            alloc,
            measured,
            ..
        } => kiln::report(
            &target.file,
            &spec(target),
            &kiln::ReportSpec {
                part: part.clone(),
                clock_ns: *clock_ns,
                auto_schedule: !no_auto_schedule,
                alloc: alloc.options(),
                measured: measured.clone(),
            },
            opts,
        ),
        Command::Types { target, .. } => kiln::types(&target.file, &spec(target), opts),
        Command::Ir {
            target,
            dot,
            types,
            schedule,
            part,
            clock_ns,
            no_auto_schedule,
            alloc,
            ..
        } => kiln::ir(
            &target.file,
            &spec(target),
            &kiln::IrSpec {
                dot: *dot,
                expr_types: *types,
                pipeline: match schedule {
                    None => "check",
                    Some(ScheduleTarget::Cpu) => "cpu",
                    Some(ScheduleTarget::Fpga) => "fpga",
                },
                part: part.clone(),
                clock_ns: *clock_ns,
                auto_schedule: !no_auto_schedule,
                alloc: alloc.options(),
            },
            opts,
        ),
        Command::Csim {
            dir,
            ap_types,
            keep,
        } => kiln::csim::csim(dir, ap_types.as_deref(), *keep),
        Command::Synth { dir, part } => kiln::synth(dir, part.as_deref()),
        Command::Quantize {
            input,
            script,
            method,
            bits,
            per_channel,
            only,
            out,
            scale_frac,
        } => quantize(
            input.as_deref(),
            script.as_deref(),
            only.as_deref(),
            out,
            kiln::quantize_cmd::QuantizeSpec {
                method: method.clone(),
                bits: *bits,
                per_channel: *per_channel,
                scale_frac: *scale_frac,
            },
        ),
    }
}

/// The run spec of the kernel a command works on.
fn spec(t: &Target) -> RunSpec {
    RunSpec {
        kernel: t.kernel.clone(),
        inputs: t.inputs.clone(),
        ..RunSpec::default()
    }
}

/// `kiln quantize`: one weights file, or a script's params.
fn quantize(
    input: Option<&std::path::Path>,
    script: Option<&std::path::Path>,
    only: Option<&[String]>,
    out: &std::path::Path,
    q: kiln::quantize_cmd::QuantizeSpec,
) -> Outcome {
    match (input, script) {
        (_, Some(s)) => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            kiln::quantize_cmd::quantize_script(s, only, out, &q, color)
        }
        (Some(_), None) if only.is_some() => Outcome {
            stderr: "error: --only selects parameters of a script: it needs --script\n".into(),
            code: 2,
            ..Outcome::default()
        },
        (Some(i), None) => kiln::quantize_cmd::quantize_file(i, out, &q),
        // clap requires one of them.
        (None, None) => Outcome {
            stderr: "error: give a weights file or --script\n".into(),
            code: 2,
            ..Outcome::default()
        },
    }
}
