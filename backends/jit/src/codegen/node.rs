//! One compute node → its native functions: the slots of its `ptrs` argument, the main
//! function and the packing prologue, defined in the JIT module.

use crate::bindot::{emit_packing, BinDots};
use crate::codegen::error::{ErrCtx, Site, Unsupported, R};
use crate::codegen::gen::{Gen, LoopEmitter};
use crate::codegen::vector::Vectorizer;
use crate::helpers::HelperIds;
use crate::layout::store_of;
use crate::locals::LocalPlans;
use cranelift_codegen::ir::{types, AbiParam, InstBuilder, MemFlagsData, Value as CValue};
use cranelift_frontend::FunctionBuilder;
use kiln_numeric::ScalarType;
use kiln_passes::ir::*;
use kiln_passes::Span;
use std::collections::HashMap;

/// The signature of every node function: `(ptrs, ctx, lo, hi) -> status`.
pub fn node_signature(
    call_conv: cranelift_codegen::isa::CallConv,
) -> cranelift_codegen::ir::Signature {
    let mut sig = cranelift_codegen::ir::Signature::new(call_conv);
    for _ in 0..4 {
        sig.params.push(AbiParam::new(types::I64));
    }
    sig.returns.push(AbiParam::new(types::I32));
    sig
}

/// What a node function's `ptrs[k]` points to.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// A tensor's buffer.
    Data(TensorId),
    /// A tensor's written-element flags.
    Shadow(TensorId),
    /// A zeroed scratch buffer of `words` 64-bit words (packed bits, bindot.rs).
    Scratch { index: usize, words: usize },
    /// Constant data packed at compile time: the program's packed buffer `index`
    /// (read only).
    Packed { index: usize },
}

/// The native signature of a compiled node: `(tensor pointers, error context, lo, hi)`.
/// Calling one is `unsafe` because the native code trusts every pointer to address a
/// buffer of its tensor's full size. The runtime (lib.rs) makes that true: each buffer is
/// allocated from `tensor_bytes`, computed with checked arithmetic from the module's
/// shapes (refused with E0513 beyond `isize::MAX`), inputs and constants must hold exactly
/// as many values as their shapes (E0602 / E0513; shapes from `.npy` files are checked
/// against the file's length), and every access the `bounds` pass did not prove stays
/// checked in the generated code.
pub type NodeEntry = unsafe extern "C" fn(*const *mut u8, *mut ErrCtx, i64, i64) -> i32;

/// The inputs of [`compile_node`].
pub struct NodeJob<'a> {
    pub inst: &'a Instance,
    pub compute: &'a Compute,
    /// Tensors that need written-element flags.
    pub shadowed: &'a std::collections::HashSet<TensorId>,
    /// Whether the node's loop takes its bounds from the `lo`, `hi` parameters.
    pub split_outer: bool,
    pub vectorize: bool,
    /// Count overflows (`--check-overflow`): plain scalar code only, so that every
    /// conversion goes through `Gen::convert`.
    pub check_overflow: bool,
    /// The module's constant data (packed at compile time for binary dot products).
    pub consts: &'a [kiln_passes::data::ConstData],
}

/// A node compiled into its module.
pub struct CompiledNode {
    pub main: cranelift_module::FuncId,
    /// Runs once before `main` (packing for binary dot products).
    pub prologue: Option<cranelift_module::FuncId>,
    pub slots: Vec<Slot>,
    pub sites: Vec<Site>,
}

/// Declares and defines one node's functions in `module` (named after `name`).
pub fn compile_node(
    module: &mut cranelift_jit::JITModule,
    name: &str,
    helper_ids: &HelperIds,
    descs: &mut Vec<Box<ScalarType>>,
    packed: &mut Vec<Vec<u64>>,
    job: &NodeJob,
) -> R<CompiledNode> {
    use cranelift_module::Module as _;
    let inst = job.inst;
    let c = job.compute;
    let internal = |e: &dyn std::fmt::Display| Unsupported {
        span: c.span,
        what: format!("this node: internal compiler error, please report it ({e})"),
    };
    let sig = node_signature(module.isa().default_call_conv());
    let id = module
        .declare_function(name, cranelift_module::Linkage::Local, &sig)
        .map_err(|e| internal(&e))?;
    // Counting overflows needs every assignment converted where it happens: no lazily
    // wrapped accumulators, no popcount dot products, no SIMD.
    let lplans = if job.check_overflow {
        LocalPlans::default()
    } else {
        LocalPlans::new(inst, &c.body)
    };
    let bindots = if job.check_overflow {
        BinDots::default()
    } else {
        BinDots::find(inst, &lplans, &c.body)
    };
    // Every type must have a native form.
    for &t in c.reads.iter().chain(&c.writes) {
        let tt = inst.tensor(t);
        if store_of(&tt.elem).is_none() {
            return Err(Unsupported {
                span: tt.span,
                what: format!("`{}` of type {}, wider than 128 bits", tt.name, tt.elem),
            });
        }
    }
    let slots = node_slots(job, &bindots, packed);
    let runtime_packed = |k: usize| {
        slots
            .iter()
            .filter(|s| matches!(s, Slot::Scratch { .. } | Slot::Packed { .. }))
            .nth(k)
            .is_some_and(|s| matches!(s, Slot::Scratch { .. }))
    };
    let prologue = if !(0..bindots.packings.len()).any(runtime_packed) {
        None
    } else {
        let pid = module
            .declare_function(
                &format!("{name}_pack"),
                cranelift_module::Linkage::Local,
                &sig,
            )
            .map_err(|e| internal(&e))?;
        define_prologue(module, pid, inst, c, &bindots, &slots)?;
        Some(pid)
    };
    let frontend = module.isa().frontend_config();
    let mut ctx = module.make_context();
    ctx.func.signature = node_signature(module.isa().default_call_conv());
    let helpers = helper_ids.import(module, &mut ctx.func);
    let mut fbc = cranelift_frontend::FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
    let params = enter(&mut b);
    let (ptrs, shadows, scratch) = load_slots(&mut b, &slots, params[0]);
    let outer = match (job.split_outer, c.body.as_slice()) {
        (true, [Stmt::For(l)]) => Some((l.var, params[2], params[3])),
        _ => None,
    };
    let mut g = Gen {
        inst,
        b,
        helpers: &helpers,
        ptrs,
        shadows,
        outer,
        locals: HashMap::new(),
        loops: HashMap::new(),
        active: Vec::new(),
        ctx_ptr: params[1],
        slot_base: params[0],
        slot_list: slots.clone(),
        sites: Vec::new(),
        descs,
        vec: (job.vectorize && !job.check_overflow)
            .then(|| Box::new(Vectorizer::new(&c.body)) as Box<dyn LoopEmitter>),
        check_overflow: job.check_overflow,
        lplans,
        bindots,
        scratch,
    };
    g.block(&c.body)?;
    let zero = g.b.ins().iconst(types::I32, 0);
    g.b.ins().return_(&[zero]);
    let sites = std::mem::take(&mut g.sites);
    // Abandoned SIMD attempts can leave unreachable loop headers unsealed.
    g.b.seal_all_blocks();
    g.b.finalize(frontend);
    if std::env::var_os("KILN_JIT_DUMP").is_some() {
        eprintln!("; node `{}`\n{}", c.name, ctx.func.display());
    }
    define(module, id, &mut ctx, c.span)?;
    Ok(CompiledNode {
        main: id,
        prologue,
        slots,
        sites,
    })
}

/// The slots of a node function's `ptrs`: the buffers of the tensors it reads and writes,
/// the written-element flags of written tensors that need them, the packed words (scratch
/// filled by the prologue, or constants packed here, appended to `packed`).
fn node_slots(job: &NodeJob, bindots: &BinDots, packed: &mut Vec<Vec<u64>>) -> Vec<Slot> {
    let (inst, c) = (job.inst, job.compute);
    let (reads, writes) = block_accesses(inst, &c.body);
    let mut slots: Vec<Slot> = Vec::new();
    for t in reads.iter().chain(&writes) {
        if !slots.contains(&Slot::Data(*t)) {
            slots.push(Slot::Data(*t));
        }
    }
    for t in &writes {
        if job.shadowed.contains(t) {
            slots.push(Slot::Shadow(*t));
        }
    }
    for (k, p) in bindots.packings.iter().enumerate() {
        match constant_words(job, p) {
            Some(words) => {
                packed.push(words);
                slots.push(Slot::Packed {
                    index: packed.len() - 1,
                });
            }
            None => slots.push(Slot::Scratch {
                index: k,
                words: p.len(inst),
            }),
        }
    }
    slots
}

/// The packed words of a constant tensor no node of the instance writes (its values are
/// known now: packed once, at compile time, instead of on every run).
fn constant_words(job: &NodeJob, p: &crate::bindot::Packing) -> Option<Vec<u64>> {
    let inst = job.inst;
    let TensorKind::Const(cid) = inst.tensor(p.tensor).kind else {
        return None;
    };
    if inst
        .computes()
        .iter()
        .any(|(_, c)| c.writes.contains(&p.tensor))
    {
        return None;
    }
    let data = job.consts.get(cid.index())?;
    let mut bytes = Vec::new();
    crate::layout::encode(&data.elem, &data.values, &mut bytes);
    let (outer, c, s) = crate::packing::factors(inst, p);
    (bytes.len() == outer * c * s).then(|| crate::packing::pack_known(&bytes, inst, p))
}

/// Opens the entry block of a node function; returns its parameters.
fn enter(b: &mut FunctionBuilder) -> Vec<CValue> {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    b.block_params(entry).to_vec()
}

/// Loads the slot pointers: data buffers, written-element flags, scratch buffers.
#[allow(clippy::type_complexity)]
fn load_slots(
    b: &mut FunctionBuilder,
    slots: &[Slot],
    ptrs_param: CValue,
) -> (
    HashMap<TensorId, CValue>,
    HashMap<TensorId, CValue>,
    Vec<CValue>,
) {
    let mut ptrs = HashMap::new();
    let mut shadows = HashMap::new();
    let mut scratch = Vec::new();
    for (k, slot) in slots.iter().enumerate() {
        let f = MemFlagsData::trusted().with_readonly();
        let p = b.ins().load(types::I64, f, ptrs_param, 8 * k as i32);
        match slot {
            Slot::Data(t) => {
                ptrs.insert(*t, p);
            }
            Slot::Shadow(t) => {
                shadows.insert(*t, p);
            }
            Slot::Scratch { .. } | Slot::Packed { .. } => scratch.push(p),
        }
    }
    (ptrs, shadows, scratch)
}

/// Defines a finished function; a verifier or lowering error is a compiler bug.
fn define(
    module: &mut cranelift_jit::JITModule,
    id: cranelift_module::FuncId,
    ctx: &mut cranelift_codegen::Context,
    span: Span,
) -> R<()> {
    use cranelift_module::Module as _;
    // `KILN_JIT_DUMP=asm`: the machine code (cranelift's disassembly of its VCode).
    let asm = std::env::var_os("KILN_JIT_DUMP").is_some_and(|v| v == "asm");
    ctx.set_disasm(asm);
    let defined = module.define_function(id, ctx);
    if let (true, Some(code)) = (asm, ctx.compiled_code()) {
        eprintln!("{}", code.vcode.as_deref().unwrap_or(""));
    }
    defined.map_err(|e| {
        let detail = match &e {
            cranelift_module::ModuleError::Compilation(
                cranelift_codegen::CodegenError::Verifier(errs),
            ) => cranelift_codegen::print_errors::pretty_verifier_error(
                &ctx.func,
                None,
                errs.clone(),
            ),
            other => other.to_string(),
        };
        // A bug: the code generator made code cranelift rejects.
        Unsupported {
            span,
            what: format!(
                "this node: internal compiler error, please report it (cranelift: {detail})"
            ),
        }
    })?;
    module.clear_context(ctx);
    Ok(())
}

/// The packing prologue of a node with binary dot products (bindot.rs).
fn define_prologue(
    module: &mut cranelift_jit::JITModule,
    id: cranelift_module::FuncId,
    inst: &Instance,
    c: &Compute,
    dots: &BinDots,
    slots: &[Slot],
) -> R<()> {
    use cranelift_module::Module as _;
    let frontend = module.isa().frontend_config();
    let mut ctx = module.make_context();
    ctx.func.signature = node_signature(module.isa().default_call_conv());
    let mut fbc = cranelift_frontend::FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fbc);
    let params = enter(&mut b);
    let (ptrs, _, scratch) = load_slots(&mut b, slots, params[0]);
    let compile_time = |k: usize| {
        slots
            .iter()
            .filter(|s| matches!(s, Slot::Scratch { .. } | Slot::Packed { .. }))
            .nth(k)
            .is_some_and(|s| matches!(s, Slot::Packed { .. }))
    };
    emit_packing(
        &mut b,
        inst,
        &dots.packings,
        &|t| ptrs[&t],
        &scratch,
        &compile_time,
    );
    let zero = b.ins().iconst(types::I32, 0);
    b.ins().return_(&[zero]);
    b.finalize(frontend);
    if std::env::var_os("KILN_JIT_DUMP").is_some() {
        eprintln!("; packing of node `{}`\n{}", c.name, ctx.func.display());
    }
    define(module, id, &mut ctx, c.span)
}
