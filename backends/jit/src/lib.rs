//! kiln-jit: compiles the IR to native code with cranelift and runs it, bit-exact with the
//! reference interpreter (kiln-interp).
//!
//! - layout.rs: how values live in memory (scaled integers in the narrowest native width);
//! - rep.rs: how a value is held in cranelift values (shared by everything below);
//! - codegen/: one compute node → one native function (codegen/vector/: SIMD loops);
//! - arith.rs: the conversion kernels (rounding, overflow), shared by scalar and SIMD code;
//! - bindot.rs: `bin × bin` reductions as XNOR/popcount over packed words (packing.rs packs
//!   them, codegen/dotnest.rs emits whole reduction nests in 128-bit registers);
//! - locals.rs: how locals are held (lazily wrapped, narrowed accumulators);
//! - kiln_passes::loop_facts (passes/src/analysis/loop_facts.rs): coverage proofs (E0704 without
//!   bookkeeping) and parallel outer loops, pure IR analyses the `parallel-lint` pass shares;
//! - helpers.rs: Rust functions native code calls for rare wide or intricate cases;
//! - this file: the program (compiled instances) and its runtime: buffers, calls between
//!   instances, threads, and run-time errors mapped back to source.
//!
//! Run-time semantics differ from the interpreter's in one documented way only: reading
//! a tensor element that was never written is not detected (E0703 is the reference
//! interpreter's check); such elements read as zero. Results that are not fully written
//! are reported (E0704) like the interpreter does.

pub mod arith;
pub mod bindot;
pub mod codegen;
pub mod helpers;
pub mod layout;
pub mod locals;
pub mod packing;
pub mod rep;

use codegen::{
    compile_node, ErrCtx, NodeEntry, NodeJob, Site, Slot, Unsupported, ERR_BOUNDS, ERR_CALL,
    ERR_FAIL,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId};
use helpers::HelperIds;
use kiln_numeric::ScalarType;
use kiln_passes::data::{unflatten, TensorValue};
use kiln_passes::diag::{codes, Diagnostic};
use kiln_passes::ir::*;
use kiln_passes::loop_facts::{self as analysis, ParallelLoop};
use kiln_passes::overflow::OverflowReport;
use kiln_passes::run_error::RunError;
use kiln_passes::Span;
use layout::{encode, store_of, tensor_value};
use rayon::prelude::*;
use std::collections::HashSet;
use std::sync::Mutex;

/// How to compile and run.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Threads for parallel loops; 0 means one per core.
    pub threads: usize,
    /// Whether innermost loops may use SIMD.
    pub vectorize: bool,
    /// Count the values that overflow at conversions to int and fixed types
    /// (`--check-overflow`; [`Program::overflow_report`]). Compiles plain scalar code.
    pub check_overflow: bool,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions {
            threads: 0,
            vectorize: true,
            check_overflow: false,
        }
    }
}

/// A construct the JIT cannot compile.
#[derive(Clone, Debug)]
pub struct CompileError {
    pub span: Span,
    pub what: String,
}

impl CompileError {
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(
            codes::UNSUPPORTED,
            format!("the JIT cannot compile {}", self.what),
        )
        .at(self.span)
        .help("run this program with `--engine interp`")
    }
}

impl From<Unsupported> for CompileError {
    fn from(u: Unsupported) -> Self {
        CompileError {
            span: u.span,
            what: u.what,
        }
    }
}

/// A tensor buffer: 16-byte aligned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buf {
    words: Vec<u128>,
    len: usize,
}

impl Buf {
    pub fn zeroed(len: usize) -> Buf {
        Buf {
            words: vec![0; len.div_ceil(16)],
            len,
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Buf {
        let mut b = Buf::zeroed(bytes.len());
        b.bytes_mut().copy_from_slice(bytes);
        b
    }

    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the words hold at least `len` initialized bytes.
        unsafe { std::slice::from_raw_parts(self.words.as_ptr() as *const u8, self.len) }
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as above, and the borrow is exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr() as *mut u8, self.len) }
    }

    fn ptr(&mut self) -> *mut u8 {
        self.words.as_mut_ptr() as *mut u8
    }
}

/// The bytes a tensor of `shape` takes, computed without overflow; `None` when the element
/// count or the byte count does not fit in an `isize` (no allocation can be that large, and
/// native code addresses elements with signed 64-bit offsets).
fn tensor_bytes(shape: &[usize], store: layout::Store) -> Option<usize> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d))?;
    let bytes = n.checked_mul(store.bytes())?;
    (bytes <= isize::MAX as usize).then_some(bytes)
}

struct TensorMeta {
    name: String,
    elem: ScalarType,
    shape: Vec<usize>,
    kind: TensorKind,
    span: Span,
    bytes: usize,
    /// Whether native code keeps written-element flags for it.
    shadowed: bool,
    /// Whether a node of the instance writes it (constants that are never written are
    /// shared, not copied).
    written: bool,
}

struct NodeFn {
    entry: NodeEntry,
    /// Runs once before `entry` (packs bits for binary dot products).
    prologue: Option<NodeEntry>,
    slots: Vec<Slot>,
    sites: Vec<Site>,
    /// Set when the runtime may split the node's loop across threads.
    parallel: Option<ParallelLoop>,
}

enum Step {
    Node(NodeFn),
    Call {
        callee: InstanceId,
        args: Vec<TensorId>,
        results: Vec<TensorId>,
        span: Span,
    },
}

struct InstCode {
    kernel: String,
    span: Span,
    tensors: Vec<TensorMeta>,
    inputs: Vec<TensorId>,
    outputs: Vec<TensorId>,
    steps: Vec<Step>,
    loop_names: Vec<String>,
}

/// A compiled module, ready to run any number of times.
pub struct Program {
    /// Owns the code memory the node entries point into. Never used after compilation
    /// (the mutex, never locked, only makes the program shareable between the threads
    /// that run a batch: the finalized code is immutable).
    _module: Mutex<JITModule>,
    /// Type descriptors native code hands to helpers (boxed: their addresses are baked
    /// into the code).
    #[allow(clippy::vec_box)]
    _descs: Vec<Box<ScalarType>>,
    insts: Vec<InstCode>,
    entry: Option<InstanceId>,
    consts: Vec<Buf>,
    /// Constant `bin` tensors packed into words at compile time (bindot.rs); native code
    /// reads them through `Slot::Packed`.
    packed: Vec<Vec<u64>>,
    pool: Option<rayon::ThreadPool>,
    /// The overflow counts of the runs so far, when the program counts them (boxed: its
    /// address is handed to native code through `ErrCtx::overflow`).
    overflow: Option<Box<Mutex<OverflowReport>>>,
}

/// Nodes with fewer loop iterations than this run on one thread.
const MIN_PARALLEL_WORK: u64 = 1 << 15;

/// Encoded inputs of the entry instance.
pub struct Prepared {
    args: Vec<Buf>,
}

fn isa() -> Result<std::sync::Arc<dyn cranelift_codegen::isa::TargetIsa>, String> {
    let mut flags = settings::builder();
    let set = |f: &mut settings::Builder, k: &str, v: &str| f.set(k, v).map_err(|e| e.to_string());
    set(&mut flags, "opt_level", "speed")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    set(&mut flags, "is_pic", "false")?;
    // Cranelift's IR verifier costs compile time; tests (debug builds) keep it.
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    set(&mut flags, "enable_verifier", verify)?;
    let host = cranelift_native::builder().map_err(|e| e.to_string())?;
    host.finish(settings::Flags::new(flags))
        .map_err(|e| e.to_string())
}

/// Which Temp tensors need written-element flags: those returned or passed to a call
/// before a node certainly wrote all of them.
fn shadowed_tensors(inst: &Instance, order: &[NodeId]) -> HashSet<TensorId> {
    let mut covered: HashSet<TensorId> = HashSet::new();
    let mut need = HashSet::new();
    let is_temp = |t: TensorId| inst.tensor(t).kind == TensorKind::Temp;
    for &n in order {
        match &inst.graph[n] {
            Node::Compute(c) => covered.extend(analysis::fully_written(inst, &c.body)),
            Node::Call(c) => {
                need.extend(
                    c.args
                        .iter()
                        .copied()
                        .filter(|t| is_temp(*t) && !covered.contains(t)),
                );
                covered.extend(c.results.iter().copied());
            }
            _ => {}
        }
    }
    need.extend(
        inst.outputs
            .iter()
            .copied()
            .filter(|t| is_temp(*t) && !covered.contains(t)),
    );
    need
}

impl Program {
    /// Compiles every instance of `m`.
    pub fn compile(m: &Module, opts: &JitOptions) -> Result<Program, CompileError> {
        let no_span = m.entry_instance().map_or(Span::default(), |i| i.span);
        let fail = |what: String| CompileError {
            span: no_span,
            what,
        };
        let isa = isa().map_err(|e| fail(format!("for this CPU ({e})")))?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        helpers::register(&mut builder);
        let mut module = JITModule::new(builder);
        let helper_ids =
            HelperIds::declare(&mut module).map_err(|e| fail(format!("its helpers ({e})")))?;
        let mut descs = Vec::new();
        let mut packed = Vec::new();
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let mut pending: Vec<(usize, usize, FuncId, Option<FuncId>)> = Vec::new();
        let mut insts = Vec::new();
        for (ii, inst) in m.instances.iter().enumerate() {
            // Every size checked before any code is generated for it.
            let sizes = inst
                .tensors
                .iter()
                .map(|t| {
                    let store = store_of(&t.elem).ok_or_else(|| CompileError {
                        span: t.span,
                        what: format!("`{}` of type {}, wider than 128 bits", t.name, t.elem),
                    })?;
                    let bytes = tensor_bytes(&t.shape, store).ok_or_else(|| CompileError {
                        span: t.span,
                        what: format!(
                            "`{}` of type {} and shape {:?}: its size in bytes does not fit \
                             in this machine's addresses",
                            t.name, t.elem, t.shape
                        ),
                    })?;
                    if let TensorKind::Const(c) = &t.kind {
                        let have = m.consts[c.index()].values.len();
                        if have != t.len() {
                            return Err(CompileError {
                                span: t.span,
                                what: format!(
                                    "constant `{}` of shape {:?} from {} value(s) (it needs {})",
                                    t.name,
                                    t.shape,
                                    have,
                                    t.len()
                                ),
                            });
                        }
                    }
                    Ok(bytes)
                })
                .collect::<Result<Vec<usize>, CompileError>>()?;
            let order = inst.schedule();
            let shadowed = shadowed_tensors(inst, &order);
            let mut written = HashSet::new();
            let mut steps = Vec::new();
            for n in order {
                match &inst.graph[n] {
                    Node::Compute(c) => {
                        written.extend(c.writes.iter().copied());
                        let parallel = analysis::parallel_loop(inst, &c.body)
                            .filter(|p| threads > 1 && p.work >= MIN_PARALLEL_WORK);
                        let name = format!("k{ii}_{}", n.index());
                        let job = NodeJob {
                            inst,
                            compute: c,
                            shadowed: &shadowed,
                            split_outer: parallel.is_some(),
                            vectorize: opts.vectorize,
                            check_overflow: opts.check_overflow,
                            consts: &m.consts,
                        };
                        let node = compile_node(
                            &mut module,
                            &name,
                            &helper_ids,
                            &mut descs,
                            &mut packed,
                            &job,
                        )?;
                        pending.push((ii, steps.len(), node.main, node.prologue));
                        steps.push(Step::Node(NodeFn {
                            entry: unfinished_entry,
                            prologue: None,
                            slots: node.slots,
                            sites: node.sites,
                            parallel,
                        }));
                    }
                    Node::Call(c) => steps.push(Step::Call {
                        callee: c.callee,
                        args: c.args.clone(),
                        results: c.results.clone(),
                        span: c.span,
                    }),
                    Node::Input { .. } | Node::Const { .. } | Node::Output { .. } => {}
                }
            }
            let tensors = inst
                .tensors
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    let bytes = sizes[i];
                    Ok(TensorMeta {
                        name: t.name.clone(),
                        elem: t.elem,
                        shape: t.shape.clone(),
                        kind: t.kind.clone(),
                        span: t.span,
                        bytes,
                        shadowed: shadowed.contains(&TensorId(i as u32)),
                        written: written.contains(&TensorId(i as u32)),
                    })
                })
                .collect::<Result<Vec<_>, CompileError>>()?;
            insts.push(InstCode {
                kernel: inst.kernel.clone(),
                span: inst.span,
                tensors,
                inputs: inst.inputs.clone(),
                outputs: inst.outputs.clone(),
                steps,
                loop_names: inst.loop_vars.iter().map(|v| v.name.clone()).collect(),
            });
        }
        module
            .finalize_definitions()
            .map_err(|e| fail(format!("this module ({e})")))?;
        for (ii, step, main, prologue) in pending {
            let entry = |id| {
                let code = module.get_finalized_function(id);
                // SAFETY: the functions were defined with `node_signature`, this type.
                unsafe { std::mem::transmute::<*const u8, NodeEntry>(code) }
            };
            if let Step::Node(f) = &mut insts[ii].steps[step] {
                f.entry = entry(main);
                f.prologue = prologue.map(entry);
            }
        }
        let consts = m
            .consts
            .iter()
            .map(|c| {
                let mut bytes = Vec::new();
                encode(&c.elem, &c.values, &mut bytes);
                Buf::from_bytes(&bytes)
            })
            .collect();
        let pool = (threads > 1)
            .then(|| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .ok()
            })
            .flatten();
        Ok(Program {
            _module: Mutex::new(module),
            _descs: descs,
            insts,
            entry: m.entry,
            consts,
            packed,
            pool,
            overflow: opts
                .check_overflow
                .then(|| Box::new(Mutex::new(OverflowReport::default()))),
        })
    }

    /// Checks and encodes the entry instance's inputs.
    pub fn prepare(&self, inputs: &[TensorValue]) -> Result<Prepared, RunError> {
        let Some(entry) = self.entry else {
            return Err(RunError {
                code: codes::NO_ENTRY,
                message: "the module has no entry kernel".into(),
                span: None,
                notes: Vec::new(),
                calls: Vec::new(),
            });
        };
        let ic = &self.insts[entry.index()];
        if inputs.len() != ic.inputs.len() {
            return Err(RunError::new(
                codes::MISSING_INPUT,
                format!(
                    "`{}` takes {} inputs, got {}",
                    ic.kernel,
                    ic.inputs.len(),
                    inputs.len()
                ),
                ic.span,
            ));
        }
        let mut args = Vec::new();
        let mut bytes = Vec::new();
        for (t, v) in ic.inputs.iter().zip(inputs) {
            let tm = &ic.tensors[t.index()];
            if v.shape != tm.shape || v.elem != tm.elem {
                return Err(RunError::new(
                    codes::DATA_SHAPE,
                    format!(
                        "input `{}` is {}{:?} but the kernel expects {}{:?}",
                        tm.name, v.elem, v.shape, tm.elem, tm.shape
                    ),
                    tm.span,
                ));
            }
            if v.values.len() != tm.bytes / store_of(&tm.elem).map_or(1, |s| s.bytes()) {
                // Native code reads as many elements as the shape says.
                return Err(RunError::new(
                    codes::DATA_SHAPE,
                    format!(
                        "input `{}` of shape {:?} has {} value(s)",
                        tm.name,
                        tm.shape,
                        v.values.len()
                    ),
                    tm.span,
                ));
            }
            encode(&v.elem, &v.values, &mut bytes);
            args.push(Buf::from_bytes(&bytes));
        }
        Ok(Prepared { args })
    }

    /// Runs the entry instance on prepared inputs; returns its results' buffers.
    pub fn execute(&self, p: &Prepared) -> Result<Vec<Buf>, RunError> {
        let entry = self.entry.expect("prepare checked the entry");
        self.run_instance(entry, p.args.clone())
    }

    /// The entry instance's results as values.
    pub fn decode(&self, outs: &[Buf]) -> Vec<TensorValue> {
        let ic = &self.insts[self.entry.expect("an entry").index()];
        ic.outputs
            .iter()
            .zip(outs)
            .map(|(t, b)| {
                let tm = &ic.tensors[t.index()];
                tensor_value(&tm.elem, &tm.shape, b.bytes())
            })
            .collect()
    }

    /// Runs the entry instance on each sample of a batch (a list of inputs, one per input
    /// tensor each), the samples spread over the program's threads; the results in the
    /// samples' order.
    pub fn run_batch(
        &self,
        samples: &[Vec<TensorValue>],
    ) -> Vec<Result<Vec<TensorValue>, RunError>> {
        match &self.pool {
            Some(pool) => pool.install(|| samples.par_iter().map(|s| self.run(s)).collect()),
            None => samples.iter().map(|s| self.run(s)).collect(),
        }
    }

    /// The overflows counted since the last call (or since the program was compiled), when
    /// it was compiled with `check_overflow`; the counts start again from zero.
    pub fn take_overflow_report(&self) -> Option<OverflowReport> {
        let m = self.overflow.as_ref()?;
        let mut r = m.lock().unwrap_or_else(|p| p.into_inner());
        Some(std::mem::take(&mut *r))
    }

    /// The address native code counts overflows at (`ErrCtx::overflow`), or 0.
    fn overflow_address(&self) -> usize {
        self.overflow
            .as_ref()
            .map_or(0, |m| &**m as *const Mutex<OverflowReport> as usize)
    }

    /// Runs the entry instance on `inputs` (one per input tensor, in order).
    pub fn run(&self, inputs: &[TensorValue]) -> Result<Vec<TensorValue>, RunError> {
        let p = self.prepare(inputs)?;
        let outs = self.execute(&p)?;
        Ok(self.decode(&outs))
    }

    fn run_instance(&self, id: InstanceId, args: Vec<Buf>) -> Result<Vec<Buf>, RunError> {
        let ic = &self.insts[id.index()];
        let mut args = args.into_iter();
        let mut bufs: Vec<Buf> = Vec::with_capacity(ic.tensors.len());
        let mut shadows: Vec<Option<Vec<u8>>> = Vec::with_capacity(ic.tensors.len());
        for t in &ic.tensors {
            bufs.push(match &t.kind {
                TensorKind::Input(_) => args.next().expect("one buffer per input"),
                // Constants nothing writes are shared (see `node_ptrs`).
                TensorKind::Const(c) if t.written => self.consts[c.index()].clone(),
                TensorKind::Const(_) => Buf::zeroed(0),
                TensorKind::Temp => Buf::zeroed(t.bytes),
            });
            shadows.push(t.shadowed.then(|| vec![0u8; t.shape.iter().product()]));
        }
        for step in &ic.steps {
            match step {
                Step::Node(f) => self.run_node(ic, f, &mut bufs, &mut shadows)?,
                Step::Call {
                    callee,
                    args,
                    results,
                    span,
                } => {
                    for t in args {
                        check_complete(ic, *t, &shadows)?;
                    }
                    let call_args = args.iter().map(|t| self.buffer(ic, *t, &bufs)).collect();
                    let outs = self.run_instance(*callee, call_args).map_err(|mut e| {
                        e.calls
                            .push((self.insts[callee.index()].kernel.clone(), *span));
                        e
                    })?;
                    for (t, b) in results.iter().zip(outs) {
                        bufs[t.index()] = b;
                        if let Some(s) = &mut shadows[t.index()] {
                            s.fill(1);
                        }
                    }
                }
            }
        }
        let mut out = Vec::with_capacity(ic.outputs.len());
        for t in &ic.outputs {
            check_complete(ic, *t, &shadows)?;
            out.push(self.buffer(ic, *t, &bufs));
        }
        Ok(out)
    }

    /// A copy of a tensor's current contents.
    fn buffer(&self, ic: &InstCode, t: TensorId, bufs: &[Buf]) -> Buf {
        match &ic.tensors[t.index()].kind {
            TensorKind::Const(c) if !ic.tensors[t.index()].written => {
                self.consts[c.index()].clone()
            }
            _ => bufs[t.index()].clone(),
        }
    }

    fn node_ptrs(
        &self,
        ic: &InstCode,
        f: &NodeFn,
        bufs: &mut [Buf],
        shadows: &mut [Option<Vec<u8>>],
        scratch: &mut [Vec<u64>],
    ) -> Vec<SendPtr> {
        f.slots
            .iter()
            .map(|s| {
                SendPtr(match *s {
                    Slot::Data(t) => match &ic.tensors[t.index()].kind {
                        // Native code never writes these (the node does not list them
                        // as written), so sharing the program's copy is sound.
                        TensorKind::Const(c) if !ic.tensors[t.index()].written => {
                            self.consts[c.index()].words.as_ptr() as *mut u8
                        }
                        _ => bufs[t.index()].ptr(),
                    },
                    Slot::Shadow(t) => shadows[t.index()]
                        .as_mut()
                        .expect("shadowed tensor")
                        .as_mut_ptr(),
                    Slot::Scratch { index, .. } => scratch[index].as_mut_ptr() as *mut u8,
                    // Read only: packed words are never written by a node function.
                    Slot::Packed { index } => self.packed[index].as_ptr() as *mut u8,
                })
            })
            .collect()
    }

    fn run_node(
        &self,
        ic: &InstCode,
        f: &NodeFn,
        bufs: &mut [Buf],
        shadows: &mut [Option<Vec<u8>>],
    ) -> Result<(), RunError> {
        let mut scratch: Vec<Vec<u64>> = f
            .slots
            .iter()
            .filter_map(|s| match s {
                Slot::Scratch { words, .. } => Some(vec![0u64; *words]),
                // Keeps `Slot::Scratch::index` the position in this list.
                Slot::Packed { .. } => Some(Vec::new()),
                _ => None,
            })
            .collect();
        let ptrs = self.node_ptrs(ic, f, bufs, shadows, &mut scratch);
        let env = CallEnv {
            program: self,
            sites: &f.sites,
            error: std::sync::Mutex::new(None),
        };
        let env_addr = &env as *const CallEnv as usize;
        if let Some(prologue) = f.prologue {
            let mut ctx = ErrCtx::default();
            // SAFETY: as for the node's function below (the same slots).
            let status = unsafe { prologue(ptrs.as_ptr() as *const *mut u8, &mut ctx, 0, 0) };
            debug_assert_eq!(status, 0, "packing cannot fail");
        }
        let overflow = self.overflow_address();
        let call = |lo: i64, hi: i64| {
            let mut ctx = ErrCtx {
                overflow,
                calls: env_addr,
                ..ErrCtx::default()
            };
            // SAFETY: `ptrs` holds one live buffer per slot, each as large as the tensor
            // the code was compiled for; native code checks or proves every index.
            let status = unsafe { (f.entry)(ptrs.as_ptr() as *const *mut u8, &mut ctx, lo, hi) };
            (status != 0).then_some(ctx)
        };
        let failure = match (&f.parallel, &self.pool) {
            (Some(p), Some(pool)) => {
                let n = p.trip_count();
                let chunks = (pool.current_num_threads() as i64 * 4).min(n).max(1);
                // In 128 bits: `n * k` and the bounds do not wrap; the last chunk ends at
                // the loop's own bound.
                let at = |k: i64| -> i64 {
                    if k >= chunks {
                        return p.hi;
                    }
                    let i = n as i128 * k as i128 / chunks as i128;
                    (p.lo as i128 + p.step as i128 * i) as i64
                };
                let bounds: Vec<(i64, i64)> = (0..chunks).map(|k| (at(k), at(k + 1))).collect();
                // The first failing chunk in iteration order holds the error a sequential
                // run reports first.
                pool.install(|| {
                    bounds
                        .par_iter()
                        .map(|&(lo, hi)| call(lo, hi))
                        .collect::<Vec<_>>()
                })
                .into_iter()
                .flatten()
                .next()
            }
            (Some(p), None) => call(p.lo, p.hi),
            (None, _) => call(0, 0),
        };
        match failure {
            None => Ok(()),
            Some(ctx) if ctx.code == ERR_CALL => {
                let mut e = env
                    .error
                    .lock()
                    .ok()
                    .and_then(|mut e| e.take())
                    .unwrap_or_else(|| {
                        RunError::new(
                            codes::RUNTIME_BOUNDS,
                            "a kernel call failed".into(),
                            f.sites[ctx.site as usize].span,
                        )
                    });
                // Where in the caller's loops it happened.
                let located = node_error(ic, f, &ctx);
                e.notes.extend(located.notes);
                Err(e)
            }
            Some(ctx) => Err(node_error(ic, f, &ctx)),
        }
    }
}

/// What a node's kernel calls need while it runs: the program and the node's sites; the
/// error of a call that failed.
struct CallEnv<'a> {
    program: &'a Program,
    sites: &'a [codegen::error::Site],
    error: std::sync::Mutex<Option<RunError>>,
}

/// Runs the kernel call of site `site` of the running node (`Stmt::Call`): copies the
/// argument slots into buffers, runs the callee, and copies its results into the result
/// slots (setting their written-element flags). Returns 0, or 1 with the error kept in
/// the call context.
///
/// # Safety
/// Called by native code only: `ctx.calls` is the address of the running node's
/// [`CallEnv`], and `ptrs` its slot pointers, each addressing its tensor's whole buffer.
pub(crate) unsafe extern "C" fn kiln_call(
    ctx: *mut ErrCtx,
    site: i64,
    ptrs: *const *mut u8,
) -> i32 {
    // SAFETY: see the function's contract.
    let env = unsafe { &*((*ctx).calls as *const CallEnv) };
    let Some(call) = env.sites.get(site as usize).and_then(|s| s.call.as_ref()) else {
        return 1;
    };
    let span = env.sites[site as usize].span;
    let callee = &env.program.insts[call.callee.index()];
    let mut args = Vec::with_capacity(call.args.len());
    for (&slot, t) in call.args.iter().zip(&callee.inputs) {
        let bytes = callee.tensors[t.index()].bytes;
        // SAFETY: the slot holds a buffer of the argument, of the callee input's size.
        let data = unsafe { std::slice::from_raw_parts(*ptrs.add(slot), bytes) };
        args.push(Buf::from_bytes(data));
    }
    match env.program.run_instance(call.callee, args) {
        Ok(outs) => {
            for ((&(slot, shadow), out), t) in call.results.iter().zip(&outs).zip(&callee.outputs) {
                let tm = &callee.tensors[t.index()];
                // SAFETY: the slots hold the result tensors' buffers and flags, of the
                // callee output's size and element count.
                unsafe {
                    std::ptr::copy_nonoverlapping(out.bytes().as_ptr(), *ptrs.add(slot), tm.bytes);
                    if let Some(s) = shadow {
                        std::ptr::write_bytes(*ptrs.add(s), 1, tm.shape.iter().product());
                    }
                }
            }
            0
        }
        Err(mut e) => {
            e.calls.push((callee.kernel.clone(), span));
            if let Ok(mut slot) = env.error.lock() {
                *slot = Some(e);
            }
            1
        }
    }
}

/// Placeholder entry until the module is finalized (never called).
unsafe extern "C" fn unfinished_entry(_: *const *mut u8, _: *mut ErrCtx, _: i64, _: i64) -> i32 {
    unreachable!("node functions are resolved before the program is returned")
}

/// A buffer pointer handed to worker threads (the chunks they run touch disjoint
/// elements; analysis::parallel_loop proves it).
#[derive(Copy, Clone)]
#[repr(transparent)]
struct SendPtr(*mut u8);
// SAFETY: see the type's documentation.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

fn check_complete(ic: &InstCode, t: TensorId, shadows: &[Option<Vec<u8>>]) -> Result<(), RunError> {
    let Some(s) = &shadows[t.index()] else {
        return Ok(());
    };
    let Some(first) = s.iter().position(|&w| w == 0) else {
        return Ok(());
    };
    let tm = &ic.tensors[t.index()];
    let missing = s.iter().filter(|&&w| w == 0).count();
    Err(RunError::new(
        codes::OUTPUT_INCOMPLETE,
        format!(
            "{missing} element(s) of `{}` are never written; the first is {:?}",
            tm.name,
            unflatten(first, &tm.shape)
        ),
        tm.span,
    ))
}

fn node_error(ic: &InstCode, f: &NodeFn, ctx: &ErrCtx) -> RunError {
    let site = &f.sites[ctx.site as usize];
    let mut e = if ctx.code == ERR_BOUNDS {
        let t = site.tensor.expect("bounds sites name their tensor");
        let tm = &ic.tensors[t.index()];
        let idx: Vec<i64> = ctx.idx[..tm.shape.len().min(16)].to_vec();
        RunError::new(
            codes::RUNTIME_BOUNDS,
            format!(
                "index {idx:?} is out of bounds for `{}` of shape {:?}",
                tm.name, tm.shape
            ),
            site.span,
        )
    } else if ctx.code == ERR_FAIL {
        let message = site.message.clone().unwrap_or_default();
        RunError::new(codes::LOOP_LIMIT, message, site.span)
    } else {
        RunError::new(codes::DIV_BY_ZERO, "division by zero".into(), site.span)
    };
    let n = (ctx.nloops as usize).min(16);
    if n > 0 {
        let at: Vec<String> = (0..n)
            .map(|k| {
                format!(
                    "{} = {}",
                    ic.loop_names[ctx.loop_ids[k] as usize], ctx.loop_vals[k]
                )
            })
            .collect();
        e.notes.insert(0, format!("when {}", at.join(", ")));
    }
    e
}

/// A compiled program is shared by the threads that run the samples of a batch.
#[allow(dead_code)]
fn programs_are_shareable() {
    fn sync<T: Sync>() {}
    sync::<Program>();
}

#[cfg(test)]
mod hostile_tests {
    use super::*;
    use kiln_passes::data::ConstData;

    fn tensor(name: &str, elem: &str, shape: Vec<usize>, kind: TensorKind) -> Tensor {
        Tensor {
            name: name.into(),
            elem: elem.parse().unwrap(),
            shape,
            kind,
            declared: true,
            reason: TypeReason::Declared,
            range: None,
            partition: Vec::new(),
            stream_depth: None,
            stream_width: 1,
            bound_to: Vec::new(),
            span: Span::default(),
        }
    }

    fn module_with(t: Tensor, consts: Vec<ConstData>) -> Module {
        let mut inst = Instance::new("main".into(), "main".into(), String::new(), Span::default());
        let id = inst.add_tensor(t);
        if matches!(inst.tensor(id).kind, TensorKind::Input(_)) {
            inst.inputs.push(id);
        }
        Module {
            instances: vec![inst],
            entry: Some(InstanceId(0)),
            consts,
            schedules: Vec::new(),
        }
    }

    fn refused(m: &Module) -> String {
        match Program::compile(m, &JitOptions::default()) {
            Ok(_) => panic!("the JIT compiled a module it must refuse"),
            Err(e) => e.what,
        }
    }

    #[test]
    fn sizes_that_overflow_are_refused() {
        for (elem, shape) in [
            ("int<8>", vec![1 << 32, 1 << 32]),
            ("int<32>", vec![1 << 62]),
            ("int<128>", vec![1 << 60]),
            ("f32", vec![usize::MAX / 2]),
        ] {
            for kind in [TensorKind::Temp, TensorKind::Input(0)] {
                let what = refused(&module_with(tensor("t", elem, shape.clone(), kind), vec![]));
                assert!(what.contains("does not fit"), "{what}");
            }
        }
        assert_eq!(tensor_bytes(&[1 << 31, 1 << 31], layout::Store::F32), None);
        assert_eq!(tensor_bytes(&[3, 5], layout::Store::F32), Some(60));
        assert_eq!(tensor_bytes(&[], layout::Store::Bool), Some(1));
    }

    #[test]
    fn constants_with_too_few_values_are_refused() {
        let c = ConstData {
            name: "t".into(),
            elem: "int<16>".parse().unwrap(),
            shape: vec![100_000],
            values: vec![Value::Num(kiln_numeric::Fx::int(7))],
            source: "7".into(),
            range: None,
        };
        let t = tensor("t", "int<16>", vec![100_000], TensorKind::Const(ConstId(0)));
        let what = refused(&module_with(t, vec![c]));
        assert!(what.contains("1 value(s)"), "{what}");
    }

    #[test]
    fn inputs_with_too_few_values_are_refused() {
        let t = tensor("x", "int<8>", vec![1000], TensorKind::Input(0));
        let p = Program::compile(&module_with(t, vec![]), &JitOptions::default()).unwrap();
        let v = TensorValue {
            elem: "int<8>".parse().unwrap(),
            shape: vec![1000],
            values: vec![Value::Num(kiln_numeric::Fx::int(1))],
        };
        let e = p.prepare(&[v]).err().expect("refused");
        assert_eq!(e.code, codes::DATA_SHAPE);
    }
}
