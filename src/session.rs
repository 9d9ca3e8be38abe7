//! A compilation in progress ([`Session`]): the sources, the diagnostics and timings of
//! one command, the front end, and [`Session::build`], which lowers the entry kernel and
//! runs the command's pipeline of passes (passes/src/pipelines.rs). Also the loader of
//! source files and stdlib modules, and the big-stack thread every command runs on.

use crate::entry::concrete_shapes;
use crate::{stdlib, Options, Outcome, RunSpec};
use kiln_lang::diag::{codes, render_all, Diagnostic, Severity};
use kiln_lang::hir::{self, ElemRef, KParamKind};
use kiln_lang::{check_program_timed, SourceFile, SourceLoader, SourceMap};
use kiln_passes::autoblock::Machine;
use kiln_passes::data::RawArray;
use kiln_passes::ir::Module;
use kiln_passes::manager::{PassContext, PassOptions};
use kiln_passes::pipelines::{lower, pipeline, Pipeline, PIPELINES};
use kiln_passes::{EntryArg, LowerInputs};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Loads modules from the embedded stdlib and from `.kiln` files next to the importer.
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn load_module(
        &mut self,
        path: &[String],
        from_dir: Option<&Path>,
    ) -> Result<SourceFile, String> {
        if path.first().map(String::as_str) == Some("stdlib") {
            let name = path[1..].join("/");
            return match stdlib::source(&name) {
                Some(text) => Ok(SourceFile {
                    name: format!("<stdlib>/{name}.kiln"),
                    dir: None,
                    text: text.to_string(),
                }),
                None => Err(format!(
                    "the stdlib has no module `{}` (it has: {})",
                    path[1..].join("."),
                    stdlib::names().join(", ")
                )),
            };
        }
        let Some(dir) = from_dir else {
            return Err("stdlib modules can only import other stdlib modules".into());
        };
        let file = dir.join(format!("{}.kiln", path.join("/")));
        read_source(&file).map_err(|d| d.message)
    }
}

/// Reads a source file: missing, unreadable and non-UTF-8 files are diagnostics.
pub fn read_source(path: &Path) -> Result<SourceFile, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::error(
            codes::READ_FAILED,
            format!("cannot read {}: {}", path.display(), io_reason(&e)),
        )
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(
            codes::NOT_UTF8,
            format!(
                "{} is not UTF-8 text (invalid byte at offset {})",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
        .help("kiln source files are UTF-8")
    })?;
    let dir = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_path_buf()
        }
    });
    Ok(SourceFile {
        name: path.display().to_string(),
        dir,
        text,
    })
}

pub(crate) fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

/// A compilation in progress: sources, diagnostics, timings.
pub(crate) struct Session {
    pub opts: Options,
    pub sources: SourceMap,
    pub diags: Vec<Diagnostic>,
    /// The diagnostics already reported (the same problem found twice is said once),
    /// so that reporting stays linear in their number.
    seen: HashSet<String>,
    pub timings: Vec<(String, Duration)>,
    /// The last line of stderr (`kernel time: ...`).
    pub trailer: Option<String>,
    /// What the passes did (fusions, blockings), printed with the timings.
    pub remarks: Vec<String>,
    /// Where each entry input's data came from (a path or the default as written), by
    /// parameter name, for the messages of its conversion.
    pub input_sources: HashMap<String, String>,
    /// `--batch`: the inputs given as batches along their leading axis.
    pub batch: Option<BatchData>,
    pub out: Outcome,
}

/// The inputs of a `--batch` run: each batched parameter's whole array (by name), all
/// with `size` entries along their leading axis.
pub(crate) struct BatchData {
    pub size: usize,
    pub full: HashMap<String, RawArray>,
}

impl Session {
    pub(crate) fn new(opts: &Options) -> Session {
        Session {
            opts: opts.clone(),
            sources: SourceMap::new(),
            diags: Vec::new(),
            seen: HashSet::new(),
            timings: Vec::new(),
            trailer: None,
            remarks: Vec::new(),
            input_sources: HashMap::new(),
            batch: None,
            out: Outcome::default(),
        }
    }

    pub(crate) fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }

    pub(crate) fn push(&mut self, mut d: Diagnostic) {
        if self.opts.deny_warnings && !d.is_error() {
            d.severity = Severity::Error;
            d.notes
                .push("a warning is an error with `--deny-warnings`".to_string());
        }
        if self.seen.insert(format!("{d:?}")) {
            self.diags.push(d);
        }
    }

    pub(crate) fn time<T>(&mut self, stage: &str, f: impl FnOnce(&mut Session) -> T) -> T {
        let t = Instant::now();
        let r = f(self);
        self.timings.push((stage.to_string(), t.elapsed()));
        r
    }

    /// Flushes diagnostics (and timings) into the outcome and sets the exit code.
    pub(crate) fn finish(mut self) -> Outcome {
        self.out
            .stderr
            .push_str(&render_all(&self.diags, &self.sources, self.opts.color));
        let errors = self.diags.iter().filter(|d| d.is_error()).count();
        if errors > 0 {
            let _ = writeln!(self.out.stderr, "error: {errors} error(s) found");
            self.out.code = 1;
        }
        if self.opts.timings {
            let total: Duration = self.timings.iter().map(|(_, d)| *d).sum();
            let _ = writeln!(self.out.stderr, "timings:");
            for (s, d) in &self.timings {
                let _ = writeln!(
                    self.out.stderr,
                    "  {s:<14} {:>9.3} ms",
                    d.as_secs_f64() * 1e3
                );
            }
            let _ = writeln!(
                self.out.stderr,
                "  {:<14} {:>9.3} ms",
                "total",
                total.as_secs_f64() * 1e3
            );
            for r in &self.remarks {
                let _ = writeln!(self.out.stderr, "pass: {r}");
            }
        }
        if let Some(t) = &self.trailer {
            let _ = writeln!(self.out.stderr, "{t}");
        }
        self.out
    }

    /// Parses and checks a file and what it imports.
    pub(crate) fn front(&mut self, path: &Path) -> Option<hir::Program> {
        let file = match read_source(path) {
            Ok(f) => f,
            Err(d) => {
                self.push(d);
                return None;
            }
        };
        let t = Instant::now();
        let (program, diags, parse) = check_program_timed(file, &mut FsLoader, &mut self.sources);
        self.timings.push(("parse".into(), parse));
        self.timings
            .push(("check".into(), t.elapsed().saturating_sub(parse)));
        for d in diags.list {
            self.push(d);
        }
        if self.has_errors() {
            return None;
        }
        Some(program)
    }

    /// Lowers the entry kernel for `args` and runs the command's pipeline (`--pipeline`
    /// overrides it): the one way a command gets its module.
    pub(crate) fn build(
        &mut self,
        program: &hir::Program,
        globals: &[Option<RawArray>],
        kernel: hir::KernelId,
        args: &[Option<EntryArg>],
        plan: &Plan,
    ) -> Option<Module> {
        let pipeline = self.pipeline(plan)?;
        let mut ctx = self.pass_context(plan);
        let inputs = LowerInputs {
            program,
            global_data: globals,
        };
        let mut module = lower(&inputs, kernel, args, &mut ctx);
        if let Some(m) = &mut module {
            let observe = plan.observe.unwrap_or(&|_, _| {});
            observe("lower", m);
            if !pipeline.run_observed(m, &mut ctx, &mut |stage, m| observe(stage, m)) {
                module = None;
            }
        }
        self.absorb(ctx);
        module
    }

    /// The pipeline a command runs: its own, or `--pipeline`'s; E0516 for an unknown
    /// name, or a `--dump-ir-after` pass the pipeline does not run.
    pub(crate) fn pipeline(&mut self, plan: &Plan) -> Option<&'static Pipeline> {
        let name = self.opts.pipeline.as_deref().unwrap_or(plan.pipeline);
        let Some(p) = pipeline(name) else {
            let names: Vec<&str> = PIPELINES.iter().map(|p| p.name).collect();
            self.push(
                Diagnostic::error(codes::UNKNOWN_TARGET, format!("unknown pipeline `{name}`"))
                    .help(format!("pipelines: {}", names.join(", "))),
            );
            return None;
        };
        if let Some(stage) = &self.opts.dump_ir_after {
            if !p.runs(stage, &plan.options) {
                let runs: Vec<&str> = std::iter::once("lower")
                    .chain(
                        p.steps
                            .iter()
                            .filter(|(_, w)| w.holds(&plan.options))
                            .map(|(n, _)| *n),
                    )
                    .collect();
                self.push(
                    Diagnostic::error(
                        codes::UNKNOWN_TARGET,
                        format!("`--dump-ir-after {stage}`: the pipeline `{}` does not run `{stage}` here", p.name),
                    )
                    .help(format!(
                        "it runs: {} (choose another pipeline with `--pipeline`)",
                        runs.join(", ")
                    )),
                );
                return None;
            }
        }
        Some(p)
    }

    /// A pass context for `plan` with the session's options.
    pub(crate) fn pass_context(&self, plan: &Plan) -> PassContext {
        let mut ctx = PassContext {
            dump_after: self.opts.dump_ir_after.clone(),
            verify: self.opts.verify,
            clock_ns: plan.clock_ns,
            machine: if self.opts.fixed_machine {
                Machine::default_model()
            } else {
                Machine::detect()
            },
            options: plan.options.clone(),
            ..Default::default()
        };
        ctx.set_part(&plan.part);
        ctx
    }

    /// Takes what the passes reported: diagnostics, timings, IR dumps, remarks.
    pub(crate) fn absorb(&mut self, ctx: PassContext) {
        self.timings.extend(ctx.timings);
        for (stage, text) in &ctx.dumps {
            let _ = writeln!(self.out.stdout, "; IR after `{stage}`\n{text}");
        }
        for d in ctx.diags.list {
            self.push(d);
        }
        self.remarks.extend(ctx.remarks);
    }
}

/// A function called with each stage's name and result.
pub(crate) type Observer<'h> = dyn Fn(&str, &mut Module) + Sync + 'h;

/// What a command asks of the passes.
pub(crate) struct Plan<'h> {
    /// The command's pipeline (`--pipeline` overrides it).
    pub pipeline: &'static str,
    /// The FPGA part and clock (fpga pipeline).
    pub part: String,
    pub clock_ns: f64,
    pub options: PassOptions,
    /// Called with the module after lowering and after each pass, by stage name: the
    /// tests' random loop transformations and hand-set directives (after `schedule`),
    /// and `kiln hls`'s copy of the program as written (after `bounds`).
    pub observe: Option<&'h Observer<'h>>,
}

impl Plan<'_> {
    /// The plan of a command with no FPGA part (check, types, run).
    pub fn for_pipeline(pipeline: &'static str) -> Plan<'static> {
        Plan {
            pipeline,
            part: crate::DEFAULT_PART.to_string(),
            clock_ns: 10.0,
            options: PassOptions::default(),
            observe: None,
        }
    }
}

/// The lowering arguments of the entry kernel: the shape of each value parameter's data
/// (and, for a generic element type, the data's natural type).
pub(crate) fn entry_args(
    program: &hir::Program,
    kernel: hir::KernelId,
    data: &[Option<RawArray>],
    placeholders: Option<Vec<Option<Vec<usize>>>>,
) -> Vec<Option<EntryArg>> {
    let k = &program.kernels[kernel];
    let shapes = placeholders.unwrap_or_default();
    let mut args = Vec::new();
    for (i, (p, d)) in k.params.iter().zip(data).enumerate() {
        args.push(match (&p.kind, d) {
            (KParamKind::Const, _) => None,
            (KParamKind::Value(t), Some(a)) => {
                let generic = matches!(t.elem, ElemRef::Var(_) | ElemRef::Inferred);
                Some(EntryArg {
                    shape: a.shape.clone(),
                    elem: generic.then(|| a.natural_type()),
                })
            }
            (KParamKind::Value(_), None) => shapes
                .get(i)
                .cloned()
                .flatten()
                .map(|shape| EntryArg { shape, elem: None }),
        });
    }
    args
}

/// Runs `f` on a thread with a large stack: the front end and the passes recurse over
/// expression trees, and deeply nested (machine-written or hostile) sources must not
/// overflow the caller's stack, whatever thread calls the driver.
pub(crate) fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    const STACK: usize = 256 << 20;
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, f)
        {
            Ok(h) => match h.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            },
            Err(e) => panic!("cannot start the compiler thread: {e}"),
        }
    })
}

/// Front end, data, lowering and passes for the kernel a command works on.
/// With `placeholders`, parameters with concrete shapes and no data are lowered for
/// their declared shapes (types and IR do not depend on the values of inputs; no data is
/// made up for them).
pub(crate) fn prepare(
    s: &mut Session,
    path: &Path,
    spec: &RunSpec,
    placeholders: bool,
    plan: &Plan,
) -> Option<Prepared> {
    let program = s.front(path)?;
    let globals = s.global_data(&program)?;
    let kernel = s.entry_kernel(&program, spec.kernel.as_deref())?;
    let data = s.entry_data(&program, kernel, spec)?;
    let shapes = placeholders
        .then(|| concrete_shapes(&program, kernel))
        .flatten();
    let args = entry_args(&program, kernel, &data, shapes);
    let module = s.build(&program, &globals, kernel, &args, plan)?;
    Some(Prepared {
        program,
        kernel,
        data,
        module,
    })
}

/// A kernel ready for a command: its program, the data bound to its parameters and the
/// module its pipeline made.
pub(crate) struct Prepared {
    pub program: hir::Program,
    pub kernel: hir::KernelId,
    pub data: Vec<Option<RawArray>>,
    pub module: Module,
}
