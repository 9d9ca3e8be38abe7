//! The kiln driver: runs lang → passes → backends for each command of the CLI.
//!
//! Every command returns an [`Outcome`] (what to print on stdout and stderr, and the exit
//! code) instead of printing, so that tests drive the same code as the binary. Nothing a
//! user controls can panic here: bad files, bad data and bad programs all end as
//! diagnostics and exit code 1.

// Diagnostics are large and only travel on error paths.
#![allow(clippy::result_large_err)]

pub mod csim;
pub mod npy;
pub mod quantize;
pub mod quantize_cmd;
pub mod stdlib;

use kiln_lang::diag::{codes, render_all, Diagnostic};
pub use kiln_lang::hir;
use kiln_lang::hir::{DataSource, ElemRef, KParamKind, Literal, ParamDefault};
use kiln_lang::{check_program_timed, SourceFile, SourceLoader, SourceMap};
use kiln_passes::data::{typed_from_raw, RawArray, RawData, TensorValue};
use kiln_passes::ir::{Module, TensorKind};
use kiln_passes::manager::{pipeline, PassContext};
use kiln_passes::print::{module_to_dot, module_to_string, PrintOptions};
use kiln_passes::run_error::RunError;
use kiln_passes::{lower_program, EntryArg, LowerInputs};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a command printed and how it ended.
#[derive(Debug, Default)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

/// Options shared by the commands.
#[derive(Clone, Debug)]
pub struct Options {
    /// ANSI colours in diagnostics.
    pub color: bool,
    /// Print per-stage timings to stderr.
    pub timings: bool,
    /// Print the IR after this stage.
    pub dump_ir_after: Option<String>,
    /// The pass pipeline after lowering.
    pub pipeline: String,
    /// Verify the IR after every pass.
    pub verify: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            color: false,
            timings: false,
            dump_ir_after: None,
            pipeline: "default".into(),
            verify: cfg!(debug_assertions),
        }
    }
}

/// Which kernel to run and with what.
#[derive(Clone, Debug, Default)]
pub struct RunSpec {
    pub kernel: Option<String>,
    /// `--input NAME=PATH`
    pub inputs: Vec<(String, PathBuf)>,
    /// Print every value of the results, not only the first ones.
    pub full: bool,
    /// The engine that runs the kernel.
    pub engine: Engine,
    /// Threads for the JIT's parallel loops (0: one per core).
    pub threads: usize,
    /// Run the kernel this many times after compiling once and report the median time
    /// (0: run once, report nothing).
    pub repeat: usize,
    /// How the JIT blocks loops of kernels without a written `cpu` schedule.
    pub cpu_blocking: CpuBlocking,
}

/// The automatic CPU schedule (passes/src/autoblock.rs) of `kiln run`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum CpuBlocking {
    /// Register and cache blocking chosen from a model of the machine.
    #[default]
    Model,
    /// Measure a few blockings and keep the fastest (`--autotune`).
    Autotune,
    /// None: the loops as written (`--no-auto-schedule`).
    Off,
}

/// The engines that run kernels.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// Native code through cranelift (the default).
    #[default]
    Jit,
    /// The reference interpreter.
    Interp,
}

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
struct Session {
    opts: Options,
    sources: SourceMap,
    diags: Vec<Diagnostic>,
    timings: Vec<(String, Duration)>,
    /// The last line of stderr (`kernel time: ...`).
    trailer: Option<String>,
    /// What the automatic CPU schedule did (printed with the timings).
    blocked: Vec<String>,
    out: Outcome,
}

impl Session {
    fn new(opts: &Options) -> Session {
        Session {
            opts: opts.clone(),
            sources: SourceMap::new(),
            diags: Vec::new(),
            timings: Vec::new(),
            trailer: None,
            blocked: Vec::new(),
            out: Outcome::default(),
        }
    }

    fn has_errors(&self) -> bool {
        self.diags.iter().any(|d| d.is_error())
    }

    fn push(&mut self, d: Diagnostic) {
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    fn time<T>(&mut self, stage: &str, f: impl FnOnce(&mut Session) -> T) -> T {
        let t = Instant::now();
        let r = f(self);
        self.timings.push((stage.to_string(), t.elapsed()));
        r
    }

    /// Flushes diagnostics (and timings) into the outcome and sets the exit code.
    fn finish(mut self) -> Outcome {
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
            for b in &self.blocked {
                let _ = writeln!(self.out.stderr, "blocking: {b}");
            }
        }
        if let Some(t) = &self.trailer {
            let _ = writeln!(self.out.stderr, "{t}");
        }
        self.out
    }

    /// Parses and checks a file and what it imports.
    fn front(&mut self, path: &Path) -> Option<hir::Program> {
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

    /// Reads the data files of module parameters.
    fn global_data(&mut self, program: &hir::Program) -> Option<Vec<Option<RawArray>>> {
        let mut out = Vec::new();
        let mut ok = true;
        let t = Instant::now();
        for g in &program.globals {
            match &g.init {
                DataSource::Load {
                    path,
                    written,
                    span,
                } => match npy::read(path) {
                    Ok(a) => out.push(Some(a)),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot load `{written}` for `{}`", g.name),
                            )
                            .at(*span)
                            .label(e.message())
                            .help("paths are relative to the script's directory"),
                        );
                        out.push(None);
                        ok = false;
                    }
                },
                DataSource::Literal(..) => out.push(None),
            }
        }
        self.timings.push(("load data".into(), t.elapsed()));
        ok.then_some(out)
    }

    /// The kernel to run: `--kernel`, else `main`, else the only kernel of the file.
    fn entry_kernel(
        &mut self,
        program: &hir::Program,
        requested: Option<&str>,
    ) -> Option<hir::KernelId> {
        let names: Vec<&str> = program
            .entry_kernels
            .iter()
            .map(|&k| program.kernels[k].name.as_str())
            .collect();
        if let Some(name) = requested {
            return match program.kernel_by_name(name) {
                Some(k) => Some(k),
                None => {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_KERNEL,
                        format!("this file has no kernel `{name}`"),
                    );
                    d = if names.is_empty() {
                        d.note("it defines no kernels")
                    } else {
                        d.note(format!("its kernels: {}", names.join(", ")))
                    };
                    self.push(d);
                    None
                }
            };
        }
        if let Some(k) = program.kernel_by_name("main") {
            return Some(k);
        }
        match program.entry_kernels.as_slice() {
            [k] => Some(*k),
            [] => {
                self.push(Diagnostic::error(
                    codes::NO_ENTRY,
                    "this file defines no kernel to run",
                ));
                None
            }
            _ => {
                self.push(
                    Diagnostic::error(
                        codes::NO_ENTRY,
                        "this file defines several kernels; which one should run?",
                    )
                    .note(format!("its kernels: {}", names.join(", ")))
                    .help("choose one with `--kernel NAME`, or name the entry kernel `main`"),
                );
                None
            }
        }
    }

    /// The raw data bound to each value parameter of `kernel` (inputs, then defaults).
    fn entry_data(
        &mut self,
        program: &hir::Program,
        kernel: hir::KernelId,
        spec: &RunSpec,
    ) -> Option<Vec<Option<RawArray>>> {
        let k = &program.kernels[kernel];
        let mut ok = true;
        for (name, _) in &spec.inputs {
            let found = k
                .params
                .iter()
                .any(|p| &p.name == name && matches!(p.kind, KParamKind::Value(_)));
            if !found {
                let params: Vec<&str> = k
                    .params
                    .iter()
                    .filter(|p| matches!(p.kind, KParamKind::Value(_)))
                    .map(|p| p.name.as_str())
                    .collect();
                self.push(
                    Diagnostic::error(
                        codes::UNKNOWN_INPUT,
                        format!("`{}` has no parameter `{name}`", k.name),
                    )
                    .note(if params.is_empty() {
                        "it takes no tensor or scalar inputs".to_string()
                    } else {
                        format!("its inputs: {}", params.join(", "))
                    }),
                );
                ok = false;
            }
        }
        let mut out = Vec::new();
        let t = Instant::now();
        for p in &k.params {
            if let KParamKind::Const = p.kind {
                out.push(None);
                continue;
            }
            let given = spec.inputs.iter().rev().find(|(n, _)| n == &p.name);
            let arr = match (given, &p.default) {
                (Some((_, path)), _) => match npy::read(path) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot read the input `{}`", p.name),
                            )
                            .note(e.message()),
                        );
                        ok = false;
                        None
                    }
                },
                (
                    None,
                    Some(ParamDefault::Data(DataSource::Load {
                        path,
                        written,
                        span,
                    })),
                ) => match npy::read(path) {
                    Ok(a) => Some(a),
                    Err(e) => {
                        self.push(
                            Diagnostic::error(
                                npy_code(&e),
                                format!("cannot load the default of `{}` from `{written}`", p.name),
                            )
                            .at(*span)
                            .label(e.message()),
                        );
                        ok = false;
                        None
                    }
                },
                (None, Some(ParamDefault::Data(DataSource::Literal(lit, _)))) => {
                    Some(literal_array(lit))
                }
                _ => None,
            };
            if let (Some(a), KParamKind::Value(t)) = (&arr, &p.kind) {
                let source = match (given, &p.default) {
                    (Some((_, path)), _) => path.display().to_string(),
                    (None, Some(ParamDefault::Data(DataSource::Load { written, .. }))) => {
                        written.clone()
                    }
                    _ => "its default".to_string(),
                };
                if let Some(d) = shape_mismatch(&p.name, t, &a.shape, &source) {
                    self.push(d.at(p.span));
                    ok = false;
                }
            }
            out.push(arr);
        }
        self.timings.push(("load inputs".into(), t.elapsed()));
        ok.then_some(out)
    }

    /// Lowers `kernel` with the given data and runs the pipeline.
    fn build(
        &mut self,
        program: &hir::Program,
        globals: &[Option<RawArray>],
        kernel: hir::KernelId,
        data: &[Option<RawArray>],
    ) -> Option<Module> {
        let k = &program.kernels[kernel];
        let mut args = Vec::new();
        for (p, d) in k.params.iter().zip(data) {
            match (&p.kind, d) {
                (KParamKind::Const, _) => args.push(None),
                (KParamKind::Value(t), Some(a)) => {
                    let generic = matches!(t.elem, ElemRef::Var(_) | ElemRef::Inferred);
                    args.push(Some(EntryArg {
                        shape: a.shape.clone(),
                        elem: generic.then(|| a.natural_type()),
                    }));
                }
                (KParamKind::Value(_), None) => args.push(None),
            }
        }
        let inputs = LowerInputs {
            program,
            global_data: globals,
        };
        let t = Instant::now();
        let (mut module, diags) = lower_program(&inputs, kernel, &args);
        let took = t.elapsed();
        let failed = diags.has_errors();
        for d in diags.list {
            self.push(d);
        }
        if failed {
            return None;
        }
        let mut ctx = PassContext {
            dump_after: self.opts.dump_ir_after.clone(),
            verify: self.opts.verify,
            ..Default::default()
        };
        ctx.record_stage("lower", took, &module);
        let Some(passes) = pipeline(&self.opts.pipeline) else {
            self.push(Diagnostic::error(
                codes::UNKNOWN_KERNEL,
                format!("unknown pipeline `{}`", self.opts.pipeline),
            ));
            return None;
        };
        ctx.run(&mut module, passes);
        self.timings.extend(ctx.timings.iter().cloned());
        for (stage, text) in &ctx.dumps {
            let _ = writeln!(self.out.stdout, "; IR after `{stage}`\n{text}");
        }
        let failed = ctx.diags.has_errors();
        for d in ctx.diags.list {
            self.push(d);
        }
        (!failed).then_some(module)
    }

    /// Converts the entry data to the entry instance's input types.
    fn input_tensors(
        &mut self,
        module: &Module,
        program: &hir::Program,
        kernel: hir::KernelId,
        data: &[Option<RawArray>],
    ) -> Option<Vec<TensorValue>> {
        let inst = module.entry_instance()?;
        let k = &program.kernels[kernel];
        let mut out = Vec::new();
        for &t in &inst.inputs {
            let tensor = inst.tensor(t);
            let TensorKind::Input(_) = tensor.kind else {
                return None;
            };
            let pi = k.params.iter().position(|p| p.name == tensor.name)?;
            let raw = data[pi].as_ref()?;
            match typed_from_raw(raw, &tensor.elem) {
                Ok((values, report)) => {
                    if report.overflowed > 0 {
                        if let Some((i, v, got)) = &report.first_overflow {
                            self.push(
                                Diagnostic::warning(
                                    codes::LOSSY_LOAD,
                                    format!(
                                        "{} value(s) of input `{}` do not fit its type {}",
                                        report.overflowed, tensor.name, tensor.elem
                                    ),
                                )
                                .at(tensor.span)
                                .note(format!(
                                    "the first is {v} at {:?}, which becomes {got}",
                                    kiln_passes::data::unflatten(*i, &raw.shape)
                                )),
                            );
                        }
                    }
                    out.push(TensorValue {
                        elem: tensor.elem,
                        shape: tensor.shape.clone(),
                        values,
                    });
                }
                Err(e) => {
                    self.push(
                        Diagnostic::error(
                            codes::DATA_DTYPE,
                            format!("input `{}`: {e}", tensor.name),
                        )
                        .at(tensor.span),
                    );
                    return None;
                }
            }
        }
        Some(out)
    }
}

/// E0602 when data cannot fit a parameter's declared shape: a different rank, or a
/// different constant dimension (dimensions bound to size variables are checked when the
/// kernel is instantiated).
fn shape_mismatch(
    name: &str,
    t: &hir::TypeRef,
    shape: &[usize],
    source: &str,
) -> Option<Diagnostic> {
    let declared = match &t.shape {
        None => Vec::new(),
        Some(dims) => dims.clone(),
    };
    if declared.iter().any(|d| matches!(d, hir::Dim::Rest(_))) {
        return None;
    }
    let show = |dims: &[hir::Dim]| -> String {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| match d {
                hir::Dim::Size(s) => s.as_const().map_or("_".to_string(), |v| v.to_string()),
                hir::Dim::Rest(_) => "*".to_string(),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    };
    let fits = declared.len() == shape.len()
        && declared.iter().zip(shape).all(|(d, &n)| match d {
            hir::Dim::Size(s) => s.as_const().is_none_or(|v| v == n as i64),
            hir::Dim::Rest(_) => true,
        });
    (!fits).then(|| {
        Diagnostic::error(
            codes::DATA_SHAPE,
            format!(
                "`{name}` is declared with shape {} but {source} holds shape {shape:?}",
                show(&declared)
            ),
        )
        .label(format!("declared {}", show(&declared)))
    })
}

/// E0601 for files that cannot be read, E0603 for dtypes kiln does not take.
fn npy_code(e: &npy::ReadError) -> kiln_lang::diag::Code {
    match e {
        npy::ReadError::Read(_) => codes::BAD_NPY,
        npy::ReadError::Dtype(_) => codes::DATA_DTYPE,
    }
}

fn literal_array(lit: &Literal) -> RawArray {
    match lit {
        Literal::Int(v) => RawArray {
            shape: Vec::new(),
            data: RawData::I64(vec![*v as i64]),
            dtype: "<i8".into(),
        },
        Literal::Real(t) => {
            let f = kiln_passes::value::real_literal(t).map_or(0.0, |r| r.0);
            RawArray {
                shape: Vec::new(),
                data: RawData::F64(vec![f]),
                dtype: "<f8".into(),
            }
        }
        Literal::Bool(b) => RawArray {
            shape: Vec::new(),
            data: RawData::Bool(vec![*b]),
            dtype: "|b1".into(),
        },
    }
}

/// Runs `f` on a thread with a large stack: the front end and the passes recurse over
/// expression trees, and deeply nested (machine-written or hostile) sources must not
/// overflow the caller's stack, whatever thread calls the driver.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
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

/// `kiln check FILE...`
pub fn check(files: &[PathBuf], opts: &Options) -> Outcome {
    on_big_stack(|| check_files(files, opts))
}

fn check_files(files: &[PathBuf], opts: &Options) -> Outcome {
    let mut all = Outcome::default();
    for f in files {
        let mut s = Session::new(opts);
        if let Some(program) = s.front(f) {
            // Kernels that need no inputs from outside are instantiated too, which checks
            // everything that depends on concrete shapes and types.
            if let Some(globals) = s.global_data(&program) {
                // Every parameter's data, used or not.
                for (g, raw) in program.globals.iter().zip(&globals) {
                    let (_, diags) = kiln_passes::load_global(g, raw.as_ref());
                    for d in diags {
                        s.push(d);
                    }
                }
                for &k in &program.entry_kernels.clone() {
                    // Defaults are read (and their shapes checked) for every kernel; kernels
                    // whose inputs are all known (concrete types or defaults) are
                    // instantiated, which checks what depends on shapes and types.
                    let before = s.diags.iter().filter(|d| d.is_error()).count();
                    let Some(defaults) = s.entry_data(&program, k, &RunSpec::default()) else {
                        continue;
                    };
                    let zeros = concrete_data(&program, k);
                    let data: Vec<Option<RawArray>> = match zeros {
                        Some(z) => defaults.into_iter().zip(z).map(|(d, z)| d.or(z)).collect(),
                        None => defaults,
                    };
                    let complete = program.kernels[k]
                        .params
                        .iter()
                        .zip(&data)
                        .all(|(p, d)| matches!(p.kind, KParamKind::Const) || d.is_some());
                    let own_errors = s.diags.iter().filter(|d| d.is_error()).count() > before;
                    if complete && !own_errors {
                        s.build(&program, &globals, k, &data);
                    }
                }
            }
        }
        let o = s.finish();
        all.stderr.push_str(&o.stderr);
        all.stdout.push_str(&o.stdout);
        all.code = all.code.max(o.code);
    }
    all
}

/// Placeholder data for a kernel whose parameters all have concrete types (to
/// instantiate it without inputs), or `None`.
fn concrete_data(program: &hir::Program, k: hir::KernelId) -> Option<Vec<Option<RawArray>>> {
    let kernel = &program.kernels[k];
    if !kernel.type_vars.is_empty() || !kernel.size_vars.is_empty() || !kernel.shape_vars.is_empty()
    {
        return None;
    }
    let mut out = Vec::new();
    for p in &kernel.params {
        match &p.kind {
            KParamKind::Const => out.push(None),
            KParamKind::Value(t) => {
                let shape: Vec<usize> = match &t.shape {
                    None => Vec::new(),
                    Some(dims) => dims
                        .iter()
                        .map(|d| match d {
                            hir::Dim::Size(s) => s.as_const().map(|v| v as usize),
                            hir::Dim::Rest(_) => None,
                        })
                        .collect::<Option<_>>()?,
                };
                let n = shape.iter().product();
                out.push(Some(RawArray {
                    shape,
                    data: RawData::I64(vec![0; n]),
                    dtype: "<i8".into(),
                }));
            }
        }
    }
    Some(out)
}

/// Front end, data, lowering and passes for the kernel a command works on.
/// With `placeholders`, parameters with concrete shapes and no data are bound to zeros
/// (types and IR do not depend on the values of inputs).
fn prepare(
    s: &mut Session,
    path: &Path,
    spec: &RunSpec,
    placeholders: bool,
) -> Option<(hir::Program, hir::KernelId, Vec<Option<RawArray>>, Module)> {
    let program = s.front(path)?;
    let globals = s.global_data(&program)?;
    let kernel = s.entry_kernel(&program, spec.kernel.as_deref())?;
    let mut data = s.entry_data(&program, kernel, spec)?;
    if placeholders {
        if let Some(zeros) = concrete_data(&program, kernel) {
            for (d, z) in data.iter_mut().zip(zeros) {
                if d.is_none() {
                    *d = z;
                }
            }
        }
    }
    let module = s.build(&program, &globals, kernel, &data)?;
    Some((program, kernel, data, module))
}

/// `kiln run FILE`
pub fn run(path: &Path, spec: &RunSpec, out_dir: Option<&Path>, opts: &Options) -> Outcome {
    run_scheduled(path, spec, out_dir, opts, &|_| {})
}

/// [`run`] with `schedule` transforming the typed IR after the written `cpu` schedules
/// and before the automatic one (the tests use it to apply random loop transformations).
pub fn run_scheduled(
    path: &Path,
    spec: &RunSpec,
    out_dir: Option<&Path>,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    on_big_stack(|| run_file(path, spec, out_dir, opts, schedule))
}

fn run_file(
    path: &Path,
    spec: &RunSpec,
    out_dir: Option<&Path>,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    let mut s = Session::new(opts);
    if let Some((program, kernel, data, mut module)) = prepare(&mut s, path, spec, false) {
        for d in kiln_passes::schedule::apply(&mut module, &program, hir::Target::Cpu) {
            s.push(d);
        }
        if s.has_errors() {
            return s.finish();
        }
        schedule(&mut module);
        check_parallel(&mut s, &module, &program);
        if let Some(inputs) = s.input_tensors(&module, &program, kernel, &data) {
            if spec.engine == Engine::Jit {
                let t = Instant::now();
                block_for_cpu(&mut s, &mut module, &program, &inputs, spec);
                s.timings.push(("blocking".into(), t.elapsed()));
            }
            let result = match spec.engine {
                Engine::Interp => {
                    repeated(&mut s, spec.repeat, || kiln_interp::run(&module, &inputs))
                }
                Engine::Jit => run_jit(&mut s, &module, &inputs, spec),
            };
            match result {
                Some(Ok(outputs)) => report_outputs(&mut s, &module, &outputs, out_dir, spec.full),
                Some(Err(e)) => s.push(e.to_diagnostic()),
                None => {}
            }
        }
    }
    s.finish()
}

/// The FPGA part of `kiln hls`, `kiln report` and `kiln ir --schedule fpga` by default
/// (ZCU102's).
pub const DEFAULT_PART: &str = "xczu9eg-ffvb1156-2-e";

/// What `kiln hls` writes and for which target.
#[derive(Clone, Debug)]
pub struct HlsSpec {
    pub out_dir: PathBuf,
    pub part: String,
    pub clock_ns: f64,
    /// AXI-stream array ports instead of m_axi (`--io stream`).
    pub io_stream: bool,
    /// Schedule the kernels that have no `fpga` schedule automatically.
    pub auto_schedule: bool,
}

/// `kiln hls FILE -o DIR`: writes the Vitis HLS project of a kernel, with a testbench that
/// checks the C++ against what kiln computes for the same inputs.
pub fn hls(path: &Path, spec: &RunSpec, hls: &HlsSpec, opts: &Options) -> Outcome {
    hls_scheduled(path, spec, hls, opts, &|_| {})
}

/// [`hls`] with `schedule` setting loop directives and array partitions on the typed IR
/// before the C++ is written (what a schedule does; the tests use it to set directives
/// directly).
pub fn hls_scheduled(
    path: &Path,
    spec: &RunSpec,
    hls: &HlsSpec,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    on_big_stack(|| hls_file(path, spec, hls, opts, schedule))
}

fn hls_file(
    path: &Path,
    spec: &RunSpec,
    hls: &HlsSpec,
    opts: &Options,
    schedule: &(dyn Fn(&mut Module) + Sync),
) -> Outcome {
    let mut s = Session::new(opts);
    let Some((program, kernel, data, mut module)) = prepare(&mut s, path, spec, false) else {
        return s.finish();
    };
    // The program as written: the testbench's expected results come from it, so that
    // C-simulation also checks every schedule, fusion and tiling made below.
    let written = module.clone();
    for d in kiln_passes::schedule::apply(&mut module, &program, hir::Target::Fpga) {
        s.push(d);
    }
    if s.has_errors() {
        return s.finish();
    }
    schedule(&mut module);
    if hls.auto_schedule {
        if let Some(dev) = kiln_passes::estimate::device(&hls.part) {
            kiln_passes::fuse::fuse_calls(&mut module);
            kiln_passes::autoschedule::auto_fpga(&mut module, dev);
        } else {
            s.push(
                Diagnostic::warning(
                    codes::NOT_HONOURED,
                    format!(
                        "no resource table for the part `{}`: no automatic schedule",
                        hls.part
                    ),
                )
                .help("known devices: xc7z020, xc7z045, xczu9eg, xcku115"),
            );
        }
    }
    let Some(inputs) = s.input_tensors(&written, &program, kernel, &data) else {
        return s.finish();
    };
    // The results the testbench expects: kiln's own for the program as written, for the
    // same inputs.
    let result = match spec.engine {
        Engine::Interp => Some(kiln_interp::run(&written, &inputs)),
        Engine::Jit => {
            match kiln_jit::Program::compile(&written, &kiln_jit::JitOptions::default()) {
                Ok(p) => Some(
                    p.prepare(&inputs)
                        .and_then(|pr| p.execute(&pr).map(|o| p.decode(&o))),
                ),
                Err(e) => {
                    // The testbench only needs kiln's results; the interpreter computes the
                    // same ones (the JIT declines values over 128 bits). Said, not silent.
                    let _ = writeln!(
                    s.out.stderr,
                    "note: the JIT cannot compile this kernel ({}); the testbench's expected results come from the interpreter",
                    e.to_diagnostic().message
                );
                    Some(kiln_interp::run(&written, &inputs))
                }
            }
        }
    };
    let outputs = match result {
        Some(Ok(o)) => o,
        Some(Err(e)) => {
            s.push(e.to_diagnostic());
            return s.finish();
        }
        None => return s.finish(),
    };
    // The top function is named after the kernel, or after the file for `main`.
    let kernel_name = module
        .entry_instance()
        .map(|i| i.kernel.clone())
        .unwrap_or_else(|| "kernel".into());
    let name = if kernel_name == "main" {
        path.file_stem()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or(kernel_name)
    } else {
        kernel_name
    };
    let hopts = kiln_hls::HlsOptions {
        name,
        part: hls.part.clone(),
        clock_ns: hls.clock_ns,
        io_stream: hls.io_stream,
    };
    let sources = &s.sources;
    let locate = |span: kiln_lang::Span| -> String {
        let file = sources.get(span.file);
        let (line, _) = sources.line_col(span.file, span.start);
        let text = file
            .text
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim();
        let fname = Path::new(&file.name)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| file.name.clone());
        format!("{fname}:{line}: {text}")
    };
    let data = kiln_hls::TestData {
        inputs: &inputs,
        outputs: &outputs,
    };
    let t = Instant::now();
    let project = kiln_hls::emit(&module, &hopts, &locate, Some(data));
    s.timings.push(("emit".into(), t.elapsed()));
    match project {
        Ok(p) => {
            if let Err(e) = std::fs::create_dir_all(&hls.out_dir) {
                s.push(Diagnostic::error(
                    codes::WRITE_FAILED,
                    format!("cannot create {}: {e}", hls.out_dir.display()),
                ));
                return s.finish();
            }
            for (file, text) in &p.files {
                let path = hls.out_dir.join(file);
                if let Err(e) = std::fs::write(&path, text) {
                    s.push(Diagnostic::error(
                        codes::WRITE_FAILED,
                        format!("cannot write {}: {e}", path.display()),
                    ));
                    return s.finish();
                }
            }
            let _ = writeln!(
                s.out.stderr,
                "wrote {} files to {} (C-simulate with `kiln csim {}`)",
                p.files.len(),
                hls.out_dir.display(),
                hls.out_dir.display()
            );
        }
        Err(diags) => {
            for d in diags {
                s.push(d);
            }
        }
    }
    s.finish()
}

/// Compiles with the JIT and runs; `None` when compilation failed (reported).
/// `parallel(v)` in a `cpu` schedule: the JIT runs a statement's outermost loop on
/// threads when its iterations are independent (kiln_jit::analysis::parallel_loop);
/// W0803 with the reason when no loop `v` qualifies.
fn check_parallel(s: &mut Session, module: &Module, program: &hir::Program) {
    use kiln_passes::ir::{walk_stmts, Stmt};
    for sc in program
        .schedules
        .iter()
        .filter(|sc| sc.target == hir::Target::Cpu)
    {
        let kernel = &program.kernels[sc.kernel].name;
        for p in &sc.prims {
            let hir::Prim::Parallel { var } = p else {
                continue;
            };
            let (mut honoured, mut nested, mut dependent) = (false, false, false);
            for inst in module.instances.iter().filter(|i| i.kernel == *kernel) {
                for (_, c) in inst.computes() {
                    let named =
                        |v: kiln_passes::ir::LoopVarId| inst.loop_vars[v.index()].name == var.name;
                    match c.body.as_slice() {
                        [Stmt::For(l)] if named(l.var) => {
                            if kiln_jit::analysis::parallel_loop(inst, &c.body).is_some() {
                                honoured = true;
                            } else {
                                dependent = true;
                            }
                        }
                        _ => walk_stmts(&c.body, &mut Vec::new(), &mut |st, outer| {
                            if let Stmt::For(l) = st {
                                if named(l.var) {
                                    // At the top of the statement but beside other code
                                    // (a scalar it updates, initialized before it).
                                    dependent |= outer.is_empty();
                                    nested |= !outer.is_empty();
                                }
                            }
                        }),
                    }
                }
            }
            if honoured {
                continue;
            }
            let why = if dependent {
                format!("the iterations of `{}` are not independent (they update a scalar in turn, or write elements another iteration touches)", var.name)
            } else if nested {
                format!("only a statement's outermost loop runs on threads, and `{}` is inside another loop (reorder it outermost)", var.name)
            } else {
                format!("no loop `{}` is left to run (not compiled, or replaced by a later `split`, `tile` or `unroll`)", var.name)
            };
            s.push(
                Diagnostic::warning(
                    codes::NOT_HONOURED,
                    "`parallel` is not honoured on the cpu target".to_string(),
                )
                .at(var.span)
                .note(why),
            );
        }
    }
}

/// The automatic CPU schedule for the JIT: the model's blocking, or the fastest of a few
/// measured candidates (`--autotune`, with a progress bar on a terminal), with and
/// without fusing the network's kernels (fuse.rs). The model does not fuse on the CPU:
/// measured on this JIT, a fused conv + bias + relu + requantize nest runs slower than
/// the separate nests (its epilogue's registers crowd the convolution's).
fn block_for_cpu(
    s: &mut Session,
    module: &mut Module,
    program: &hir::Program,
    inputs: &[TensorValue],
    spec: &RunSpec,
) {
    use kiln_passes::autoblock::{auto_cpu, candidates, Blocking, Machine};
    let scheduled: std::collections::HashSet<String> = program
        .schedules
        .iter()
        .filter(|sc| sc.target == hir::Target::Cpu)
        .map(|sc| program.kernels[sc.kernel].name.clone())
        .collect();
    let machine = Machine::detect();
    match spec.cpu_blocking {
        CpuBlocking::Off => {}
        CpuBlocking::Model => s.blocked = auto_cpu(module, &scheduled, &machine, None),
        CpuBlocking::Autotune => {
            let mut fused_module = module.clone();
            let fused = kiln_passes::fuse::fuse_calls(&mut fused_module);
            let mut variants: Vec<(bool, Option<Blocking>)> = Vec::new();
            for (is_fused, m) in [(false, &*module), (true, &fused_module)] {
                if is_fused && fused.is_empty() {
                    continue;
                }
                let cands = candidates(m, &scheduled, &machine);
                if cands.is_empty() {
                    variants.push((is_fused, None));
                }
                variants.extend(cands.into_iter().map(|c| (is_fused, Some(c))));
            }
            if variants.len() < 2 {
                s.push(
                    Diagnostic::warning(codes::NOT_HONOURED, "--autotune: nothing to choose")
                        .note("autotuning blocks nests of two loops around a reduction loop and fuses calls of networks"),
                );
                s.blocked = auto_cpu(module, &scheduled, &machine, None);
                return;
            }
            let describe = |(f, b): &(bool, Option<Blocking>)| {
                format!(
                    "{}{}",
                    if *f { "fused, " } else { "" },
                    b.map_or("no blocking".to_string(), |b| b.to_string())
                )
            };
            let bar = indicatif::ProgressBar::new(variants.len() as u64).with_style(
                indicatif::ProgressStyle::with_template("autotune {bar:30} {pos}/{len} {msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            if !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let jit_opts = kiln_jit::JitOptions {
                threads: spec.threads,
                ..Default::default()
            };
            let mut best: Option<(Duration, usize)> = None;
            let mut lines = Vec::new();
            for (k, v) in variants.iter().enumerate() {
                bar.set_message(describe(v));
                let mut m = if v.0 {
                    fused_module.clone()
                } else {
                    module.clone()
                };
                if let Some(b) = v.1 {
                    auto_cpu(&mut m, &scheduled, &machine, Some(b));
                }
                let time = kiln_jit::Program::compile(&m, &jit_opts)
                    .ok()
                    .and_then(|p| median_kernel_time(&p, inputs));
                bar.inc(1);
                if let Some(t) = time {
                    lines.push(format!(
                        "  {}: {:.3} ms",
                        describe(v),
                        t.as_secs_f64() * 1e3
                    ));
                    if best.is_none_or(|(b, _)| t < b) {
                        best = Some((t, k));
                    }
                }
            }
            bar.finish_and_clear();
            let _ = writeln!(s.out.stderr, "autotune (median kernel time per candidate):");
            for l in lines {
                let _ = writeln!(s.out.stderr, "{l}");
            }
            let Some((_, k)) = best else { return };
            let chosen = &variants[k];
            let _ = writeln!(s.out.stderr, "autotune: chose {}", describe(chosen));
            if chosen.0 {
                *module = fused_module;
                s.blocked = fused.into_iter().map(|f| format!("fused {f}")).collect();
            }
            if let Some(b) = chosen.1 {
                let lines = auto_cpu(module, &scheduled, &machine, Some(b));
                s.blocked.extend(lines);
            }
        }
    }
}

/// The median time of a few runs of a compiled program (at least 3, up to 200 ms).
fn median_kernel_time(p: &kiln_jit::Program, inputs: &[TensorValue]) -> Option<Duration> {
    let prepared = p.prepare(inputs).ok()?;
    p.execute(&prepared).ok()?;
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 3 || (start.elapsed() < Duration::from_millis(200) && times.len() < 50) {
        let t = Instant::now();
        p.execute(&prepared).ok()?;
        times.push(t.elapsed());
    }
    times.sort();
    Some(times[times.len() / 2])
}

fn run_jit(
    s: &mut Session,
    module: &Module,
    inputs: &[TensorValue],
    spec: &RunSpec,
) -> Option<Result<Vec<TensorValue>, RunError>> {
    let jit_opts = kiln_jit::JitOptions {
        threads: spec.threads,
        ..Default::default()
    };
    let program = match s.time("codegen", |_| kiln_jit::Program::compile(module, &jit_opts)) {
        Ok(p) => p,
        Err(e) => {
            s.push(e.to_diagnostic());
            return None;
        }
    };
    let prepared = match program.prepare(inputs) {
        Ok(p) => p,
        Err(e) => return Some(Err(e)),
    };
    let outs = repeated(s, spec.repeat, || program.execute(&prepared))?;
    Some(outs.map(|o| program.decode(&o)))
}

/// Runs `kernel` once, or `repeat` times reporting the median time as the last line of
/// stderr; records the first run's time as the `run` stage. Returns the first result.
fn repeated<T>(
    s: &mut Session,
    repeat: usize,
    mut kernel: impl FnMut() -> Result<T, RunError>,
) -> Option<Result<T, RunError>> {
    let t = Instant::now();
    let first = kernel();
    let took = t.elapsed();
    s.timings.push(("run".into(), took));
    if first.is_err() || repeat == 0 {
        return Some(first);
    }
    let mut times = vec![took];
    while times.len() < repeat {
        let t = Instant::now();
        if let Err(e) = kernel() {
            return Some(Err(e));
        }
        times.push(t.elapsed());
    }
    times.sort();
    let median = if times.len() % 2 == 1 {
        times[times.len() / 2]
    } else {
        (times[times.len() / 2 - 1] + times[times.len() / 2]) / 2
    };
    s.trailer = Some(format!(
        "kernel time: median {:.3} ms over {} runs",
        median.as_secs_f64() * 1e3,
        times.len()
    ));
    Some(first)
}

/// Output names: the tensors' names, made unique.
fn output_names(module: &Module) -> Vec<String> {
    let Some(inst) = module.entry_instance() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for &t in &inst.outputs {
        let base = inst.tensor(t).name.clone();
        let mut name = base.clone();
        let mut i = 1;
        while names.contains(&name) {
            name = format!("{base}_{i}");
            i += 1;
        }
        names.push(name);
    }
    names
}

fn report_outputs(
    s: &mut Session,
    module: &Module,
    outputs: &[TensorValue],
    out_dir: Option<&Path>,
    full: bool,
) {
    let names = output_names(module);
    if let Some(dir) = out_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            s.push(Diagnostic::error(
                codes::WRITE_FAILED,
                format!("cannot create {}: {}", dir.display(), io_reason(&e)),
            ));
            return;
        }
    }
    for (name, t) in names.iter().zip(outputs) {
        let shape = kiln_passes::data::shape_suffix(&t.shape);
        let _ = writeln!(s.out.stdout, "{name}: {}{shape}", t.elem);
        if full {
            let _ = writeln!(s.out.stdout, "{}", all_values(t));
        } else {
            let _ = writeln!(s.out.stdout, "  {}", summary(t));
        }
        if let Some(dir) = out_dir {
            let file = dir.join(format!("{name}.npy"));
            match npy::write(&file, t) {
                Ok(()) => {
                    let _ = writeln!(
                        s.out.stdout,
                        "  written to {} ({})",
                        file.display(),
                        npy::dtype_for(&t.elem)
                    );
                }
                Err(e) => s.push(Diagnostic::error(codes::WRITE_FAILED, e)),
            }
        }
    }
}

/// Every value of a tensor, one row (last dimension) per line.
pub fn all_values(t: &TensorValue) -> String {
    let row = t.shape.last().copied().unwrap_or(1).max(1);
    let mut out = String::new();
    for (i, chunk) in t.values.chunks(row).enumerate() {
        let idx = kiln_passes::data::unflatten(i * row, &t.shape);
        let prefix = if idx.len() > 1 {
            format!("{:?}", &idx[..idx.len() - 1])
        } else {
            String::new()
        };
        let vals: Vec<String> = chunk.iter().map(|v| v.display()).collect();
        let _ = writeln!(out, "  {prefix} {}", vals.join(" "));
    }
    out.trim_end().to_string()
}

/// The first values of a tensor, and its range.
pub fn summary(t: &TensorValue) -> String {
    const SHOWN: usize = 8;
    let first: Vec<String> = t.values.iter().take(SHOWN).map(|v| v.display()).collect();
    let more = if t.values.len() > SHOWN {
        format!(", ... ({} values)", t.values.len())
    } else {
        String::new()
    };
    let range = if t.values.len() > 1 {
        let nums: Vec<f64> = t.values.iter().map(|v| v.to_f64()).collect();
        let lo = nums.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        format!("  min {lo}, max {hi}")
    } else {
        String::new()
    };
    format!("[{}{more}]{range}", first.join(", "))
}

/// `kiln types FILE`
pub fn types(path: &Path, spec: &RunSpec, opts: &Options) -> Outcome {
    on_big_stack(|| types_file(path, spec, opts))
}

/// `kiln report FILE --part P`: the FPGA latency and resource estimate of a kernel, per
/// kernel, node and loop, against the device's resources.
pub fn report(
    path: &Path,
    spec: &RunSpec,
    part: &str,
    clock_ns: f64,
    auto_schedule: bool,
    opts: &Options,
) -> Outcome {
    on_big_stack(|| {
        let mut s = Session::new(opts);
        let Some(dev) = kiln_passes::estimate::device(part) else {
            let known: Vec<&str> = kiln_passes::estimate::DEVICES
                .iter()
                .map(|d| d.part)
                .collect();
            s.push(
                Diagnostic::error(
                    codes::UNSUPPORTED,
                    format!("no resource table for the part `{part}`"),
                )
                .help(format!("known devices: {}", known.join(", "))),
            );
            return s.finish();
        };
        if let Some((program, _, _, mut module)) = prepare(&mut s, path, spec, true) {
            for d in kiln_passes::schedule::apply(&mut module, &program, hir::Target::Fpga) {
                s.push(d);
            }
            if !s.has_errors() {
                if auto_schedule {
                    kiln_passes::fuse::fuse_calls(&mut module);
                    kiln_passes::autoschedule::auto_fpga(&mut module, dev);
                }
                s.out
                    .stdout
                    .push_str(&kiln_passes::estimate::report(&module, dev, clock_ns));
            }
        }
        s.finish()
    })
}

fn types_file(path: &Path, spec: &RunSpec, opts: &Options) -> Outcome {
    let mut s = Session::new(opts);
    if let Some((_, _, _, module)) = prepare(&mut s, path, spec, true) {
        s.out.stdout.push_str(&types_report(&module, &s.sources));
    }
    s.finish()
}

/// Every value of every instance with its type and why it has it.
pub fn types_report(module: &Module, sources: &SourceMap) -> String {
    let mut out = String::new();
    for inst in &module.instances {
        let b = if inst.bindings.is_empty() {
            String::new()
        } else {
            format!(" ({})", inst.bindings)
        };
        let _ = writeln!(out, "kernel {}{b}", inst.kernel);
        let mut rows: Vec<(String, String, String, String)> = Vec::new();
        let line_of = |span: kiln_lang::Span| {
            let (l, _) = sources.line_col(span.file, span.start);
            format!("{}:{l}", short_name(&sources.get(span.file).name))
        };
        for t in &inst.tensors {
            let shape = kiln_passes::data::shape_suffix(&t.shape);
            let why = match &t.kind {
                TensorKind::Input(_) => "declared (input)".to_string(),
                TensorKind::Const(c) => {
                    format!("declared (data: {})", module.consts[c.index()].source)
                }
                TensorKind::Temp => t.reason.to_string(),
            };
            let range = t
                .range
                .as_ref()
                .filter(|_| !t.declared)
                .map_or(String::new(), |r| format!("  values {r}"));
            rows.push((
                t.name.clone(),
                format!("{}{shape}", t.elem),
                format!("{why}{range}"),
                line_of(t.span),
            ));
        }
        for l in &inst.locals {
            let range = l
                .range
                .as_ref()
                .filter(|_| !l.declared)
                .map_or(String::new(), |r| format!("  values {r}"));
            rows.push((
                l.name.clone(),
                l.ty.to_string(),
                format!("{}{range}", l.reason),
                line_of(l.span),
            ));
        }
        // A local used by several statements has one IR local per statement: list it once.
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.clone()));
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        for (name, ty, why, at) in rows {
            let _ = writeln!(out, "  {name:<w0$}  {ty:<w1$}  {at}  {why}");
        }
    }
    out
}

fn short_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |f| f.to_string_lossy().into_owned())
}

/// `kiln ir FILE`
pub fn ir(
    path: &Path,
    spec: &RunSpec,
    dot: bool,
    expr_types: bool,
    schedule: Option<hir::Target>,
    opts: &Options,
) -> Outcome {
    on_big_stack(|| ir_file(path, spec, dot, expr_types, schedule, opts))
}

fn ir_file(
    path: &Path,
    spec: &RunSpec,
    dot: bool,
    expr_types: bool,
    schedule: Option<hir::Target>,
    opts: &Options,
) -> Outcome {
    let mut s = Session::new(opts);
    if let Some((program, _, _, mut module)) = prepare(&mut s, path, spec, true) {
        if let Some(target) = schedule {
            for d in kiln_passes::schedule::apply(&mut module, &program, target) {
                s.push(d);
            }
            if s.has_errors() {
                return s.finish();
            }
            if target == hir::Target::Cpu {
                let spec = RunSpec {
                    cpu_blocking: CpuBlocking::Model,
                    ..spec.clone()
                };
                block_for_cpu(&mut s, &mut module, &program, &[], &spec);
            } else if let Some(dev) = kiln_passes::estimate::device(DEFAULT_PART) {
                kiln_passes::fuse::fuse_calls(&mut module);
                kiln_passes::autoschedule::auto_fpga(&mut module, dev);
            }
        }
        let text = if dot {
            module_to_dot(&module)
        } else {
            module_to_string(&module, PrintOptions { expr_types })
        };
        s.out.stdout.push_str(&text);
    }
    s.finish()
}
