//! Rust functions that native code calls for the rare cases it does not inline: 128-bit
//! division, conversions of 128-bit values and between floats (f32, f64) and exact types,
//! math functions and `pow`, and the intricate overflow modes. They compute with kiln-numeric, the same code the reference
//! interpreter uses, so they are exact by construction.
//!
//! Every helper passes 128-bit values as two `i64` halves (low, high) and returns them
//! through an out-pointer, which keeps the native signatures free of `i128` ABI questions.

use crate::codegen::ErrCtx;
use cranelift_codegen::ir::{types, AbiParam, FuncRef, Function, Signature};
use cranelift_codegen::isa::CallConv;
use cranelift_jit::JITBuilder;
use cranelift_module::{FuncId, Linkage, Module};
use kiln_numeric::{Fx, Int, ScalarType};
use kiln_passes::ir::Value;
use kiln_passes::overflow::{unfitted_value, OverflowReport};
use kiln_passes::value::convert;
use kiln_passes::FileId;
use kiln_passes::Span;
use std::sync::Mutex;

/// The helpers, declared in a module.
#[derive(Copy, Clone)]
pub struct HelperIds {
    convert: FuncId,
    f32_to_exact: FuncId,
    exact_to_f32: FuncId,
    f64_to_exact: FuncId,
    exact_to_f64: FuncId,
    div128: FuncId,
    math: FuncId,
    convert_counted: FuncId,
    f32_to_exact_counted: FuncId,
    f64_to_exact_counted: FuncId,
    math64: FuncId,
    pow32: FuncId,
    pow64: FuncId,
    call: FuncId,
}

/// The helpers, imported into one function.
pub struct Helpers {
    pub convert: FuncRef,
    pub f32_to_exact: FuncRef,
    pub exact_to_f32: FuncRef,
    pub f64_to_exact: FuncRef,
    pub exact_to_f64: FuncRef,
    pub div128: FuncRef,
    pub math: FuncRef,
    /// The conversions that also count overflows (`--check-overflow`).
    pub convert_counted: FuncRef,
    pub f32_to_exact_counted: FuncRef,
    pub f64_to_exact_counted: FuncRef,
    pub math64: FuncRef,
    pub pow32: FuncRef,
    pub pow64: FuncRef,
    /// Runs a kernel called inside a node (`kiln_call` in lib.rs).
    pub call: FuncRef,
}

const CONVERT: &str = "kiln_convert";
const F32_TO_EXACT: &str = "kiln_f32_to_exact";
const EXACT_TO_F32: &str = "kiln_exact_to_f32";
const F64_TO_EXACT: &str = "kiln_f64_to_exact";
const EXACT_TO_F64: &str = "kiln_exact_to_f64";
const DIV128: &str = "kiln_div128";
const MATH: &str = "kiln_math";
const CONVERT_COUNTED: &str = "kiln_convert_counted";
const F32_TO_EXACT_COUNTED: &str = "kiln_f32_to_exact_counted";
const F64_TO_EXACT_COUNTED: &str = "kiln_f64_to_exact_counted";
const MATH64: &str = "kiln_math64";
const POW32: &str = "kiln_pow32";
const POW64: &str = "kiln_pow64";
const CALL: &str = "kiln_call";

/// Makes the helpers' addresses known to the JIT linker.
pub fn register(builder: &mut JITBuilder) {
    builder.symbol(CONVERT, kiln_convert as *const u8);
    builder.symbol(F32_TO_EXACT, kiln_f32_to_exact as *const u8);
    builder.symbol(EXACT_TO_F32, kiln_exact_to_f32 as *const u8);
    builder.symbol(F64_TO_EXACT, kiln_f64_to_exact as *const u8);
    builder.symbol(EXACT_TO_F64, kiln_exact_to_f64 as *const u8);
    builder.symbol(DIV128, kiln_div128 as *const u8);
    builder.symbol(MATH, kiln_math as *const u8);
    builder.symbol(CONVERT_COUNTED, kiln_convert_counted as *const u8);
    builder.symbol(F32_TO_EXACT_COUNTED, kiln_f32_to_exact_counted as *const u8);
    builder.symbol(F64_TO_EXACT_COUNTED, kiln_f64_to_exact_counted as *const u8);
    builder.symbol(MATH64, kiln_math64 as *const u8);
    builder.symbol(POW32, kiln_pow32 as *const u8);
    builder.symbol(POW64, kiln_pow64 as *const u8);
    builder.symbol(CALL, crate::kiln_call as *const u8);
}

fn sig(cc: CallConv, params: &[types::Type], ret: Option<types::Type>) -> Signature {
    let mut s = Signature::new(cc);
    s.params.extend(params.iter().map(|&t| AbiParam::new(t)));
    s.returns.extend(ret.map(AbiParam::new));
    s
}

impl HelperIds {
    pub fn declare(m: &mut impl Module) -> Result<HelperIds, String> {
        let cc = m.isa().default_call_conv();
        let (i32_, i64_, f32_, f64_) = (types::I32, types::I64, types::F32, types::F64);
        Ok(HelperIds {
            convert: m
                .declare_function(
                    CONVERT,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i32_, i32_, i64_, i64_], None),
                )
                .map_err(|e| e.to_string())?,
            f32_to_exact: m
                .declare_function(
                    F32_TO_EXACT,
                    Linkage::Import,
                    &sig(cc, &[i32_, i64_, i64_], None),
                )
                .map_err(|e| e.to_string())?,
            exact_to_f32: m
                .declare_function(
                    EXACT_TO_F32,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i32_, i32_], Some(f32_)),
                )
                .map_err(|e| e.to_string())?,
            f64_to_exact: m
                .declare_function(
                    F64_TO_EXACT,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i64_], None),
                )
                .map_err(|e| e.to_string())?,
            exact_to_f64: m
                .declare_function(
                    EXACT_TO_F64,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i32_, i32_], Some(f64_)),
                )
                .map_err(|e| e.to_string())?,
            div128: m
                .declare_function(
                    DIV128,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i64_, i64_, i32_, i64_], None),
                )
                .map_err(|e| e.to_string())?,
            math: m
                .declare_function(MATH, Linkage::Import, &sig(cc, &[i32_, f32_], Some(f32_)))
                .map_err(|e| e.to_string())?,
            convert_counted: m
                .declare_function(
                    CONVERT_COUNTED,
                    Linkage::Import,
                    &sig(
                        cc,
                        &[i64_, i64_, i32_, i32_, i64_, i64_, i64_, i32_, i32_, i32_],
                        None,
                    ),
                )
                .map_err(|e| e.to_string())?,
            f32_to_exact_counted: m
                .declare_function(
                    F32_TO_EXACT_COUNTED,
                    Linkage::Import,
                    &sig(cc, &[i32_, i64_, i64_, i64_, i32_, i32_, i32_], None),
                )
                .map_err(|e| e.to_string())?,
            f64_to_exact_counted: m
                .declare_function(
                    F64_TO_EXACT_COUNTED,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i64_, i64_, i32_, i32_, i32_], None),
                )
                .map_err(|e| e.to_string())?,
            math64: m
                .declare_function(MATH64, Linkage::Import, &sig(cc, &[i32_, f64_], Some(f64_)))
                .map_err(|e| e.to_string())?,
            pow32: m
                .declare_function(POW32, Linkage::Import, &sig(cc, &[f32_, f32_], Some(f32_)))
                .map_err(|e| e.to_string())?,
            pow64: m
                .declare_function(POW64, Linkage::Import, &sig(cc, &[f64_, f64_], Some(f64_)))
                .map_err(|e| e.to_string())?,
            call: m
                .declare_function(
                    CALL,
                    Linkage::Import,
                    &sig(cc, &[i64_, i64_, i64_], Some(i32_)),
                )
                .map_err(|e| e.to_string())?,
        })
    }

    pub fn import(&self, m: &mut impl Module, f: &mut Function) -> Helpers {
        Helpers {
            convert: m.declare_func_in_func(self.convert, f),
            f32_to_exact: m.declare_func_in_func(self.f32_to_exact, f),
            exact_to_f32: m.declare_func_in_func(self.exact_to_f32, f),
            f64_to_exact: m.declare_func_in_func(self.f64_to_exact, f),
            exact_to_f64: m.declare_func_in_func(self.exact_to_f64, f),
            div128: m.declare_func_in_func(self.div128, f),
            math: m.declare_func_in_func(self.math, f),
            convert_counted: m.declare_func_in_func(self.convert_counted, f),
            f32_to_exact_counted: m.declare_func_in_func(self.f32_to_exact_counted, f),
            f64_to_exact_counted: m.declare_func_in_func(self.f64_to_exact_counted, f),
            math64: m.declare_func_in_func(self.math64, f),
            pow32: m.declare_func_in_func(self.pow32, f),
            pow64: m.declare_func_in_func(self.pow64, f),
            call: m.declare_func_in_func(self.call, f),
        }
    }
}

/// An f32 math function (`kiln_numeric::MathFn::eval`, the interpreter's definition).
extern "C" fn kiln_math(code: i32, x: f32) -> f32 {
    match kiln_numeric::MathFn::from_code(code) {
        Some(f) => f.eval(x),
        None => f32::NAN, // unreachable: codegen passes a MathFn's code
    }
}

/// An f64 math function (`kiln_numeric::MathFn::eval_f64`).
extern "C" fn kiln_math64(code: i32, x: f64) -> f64 {
    match kiln_numeric::MathFn::from_code(code) {
        Some(f) => f.eval_f64(x),
        None => f64::NAN, // unreachable: codegen passes a MathFn's code
    }
}

/// `x ** y` of f32 values (`kiln_numeric::math::pow_f32`).
extern "C" fn kiln_pow32(x: f32, y: f32) -> f32 {
    kiln_numeric::math::pow_f32(x, y)
}

/// `x ** y` of f64 values (`kiln_numeric::math::pow_f64`).
extern "C" fn kiln_pow64(x: f64, y: f64) -> f64 {
    kiln_numeric::math::pow_f64(x, y)
}

fn join(lo: i64, hi: i64) -> i128 {
    ((hi as i128) << 64) | (lo as u64 as i128)
}

/// The exact value of a 128-bit mantissa (`signed == 0`: read as unsigned).
fn exact(lo: i64, hi: i64, frac: i32, signed: i32) -> Fx {
    let bits = join(lo, hi);
    let m = if signed != 0 {
        Int::from(bits)
    } else {
        Int::from(bits as u128)
    };
    Fx::new(m, frac)
}

/// Writes a converted value's mantissa (at the target's fractional bits) as 128 bits.
///
/// # Safety
/// `out` points to 16 writable bytes.
unsafe fn put(v: &Value, to: &ScalarType, out: *mut u8) {
    let frac = to.frac_bits().unwrap_or(0);
    let bits: i128 = match v {
        Value::Num(x) => crate::layout::low_bits128(x, frac),
        Value::Bool(b) => *b as i128,
        Value::F32(_) | Value::F64(_) => unreachable!("exact target"),
    };
    // SAFETY: the caller passes a 16-byte stack slot.
    unsafe { std::ptr::copy_nonoverlapping(bits.to_le_bytes().as_ptr(), out, 16) };
}

/// `convert(value, *to)` for an exact value held in 128 bits.
///
/// # Safety
/// `to` points to a live `ScalarType` and `out` to 16 writable bytes.
unsafe extern "C" fn kiln_convert(
    lo: i64,
    hi: i64,
    frac: i32,
    signed: i32,
    to: *const ScalarType,
    out: *mut u8,
) {
    // SAFETY: the program keeps the type descriptors alive while its code runs.
    let to = unsafe { &*to };
    let v = convert(&Value::Num(exact(lo, hi, frac, signed)), to).0;
    unsafe { put(&v, to, out) };
}

/// `convert(f32, *to)` for an exact target.
///
/// # Safety
/// As for [`kiln_convert`].
unsafe extern "C" fn kiln_f32_to_exact(bits: i32, to: *const ScalarType, out: *mut u8) {
    // SAFETY: see kiln_convert.
    let to = unsafe { &*to };
    let v = convert(&Value::F32(f32::from_bits(bits as u32)), to).0;
    unsafe { put(&v, to, out) };
}

/// Converts `v` to `to`, writes the result to `out`, and counts an overflow in the
/// report that `ctx` points to (the site: the converted expression's span).
///
/// # Safety
/// `to` points to a live `ScalarType`, `out` to 16 writable bytes, and `ctx` to the
/// running node's `ErrCtx`, whose `overflow` is 0 or the address of the program's live
/// `Mutex<OverflowReport>`.
unsafe fn convert_and_count(
    v: Value,
    to: *const ScalarType,
    out: *mut u8,
    ctx: *const ErrCtx,
    span: Span,
) {
    // SAFETY: `to` is a boxed descriptor in the program's `_descs`, alive as long as its
    // code; `ctx` is the `ErrCtx` the runtime passed to the running node, on its stack for
    // the whole call. Neither comes from user data.
    let (to, ctx) = unsafe { (&*to, &*ctx) };
    if ctx.overflow != 0 {
        if let Some(u) = unfitted_value(&v, to) {
            // SAFETY: only `Program::run_node` sets a non-zero `overflow`, to the address of
            // the program's boxed report, which outlives every run of its code.
            let report = unsafe { &*(ctx.overflow as *const Mutex<OverflowReport>) };
            // A poisoned lock only means another thread panicked while counting: the
            // counts are still the ones recorded.
            let mut r = report.lock().unwrap_or_else(|p| p.into_inner());
            r.record(span, *to, u);
        }
    }
    let c = convert(&v, to).0;
    // SAFETY: `out` is the 16-byte stack slot codegen allocated for this call (`out_slot`),
    // independent of any user data; `put` writes exactly 16 bytes.
    unsafe { put(&c, to, out) };
}

fn span_of(file: i32, start: i32, end: i32) -> Span {
    Span {
        file: FileId(file as u32),
        start: start as u32,
        end: end as u32,
    }
}

/// [`kiln_convert`], counting an overflow (`--check-overflow`).
///
/// # Safety
/// As for `convert_and_count`.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn kiln_convert_counted(
    lo: i64,
    hi: i64,
    frac: i32,
    signed: i32,
    to: *const ScalarType,
    out: *mut u8,
    ctx: *const ErrCtx,
    file: i32,
    start: i32,
    end: i32,
) {
    let v = Value::Num(exact(lo, hi, frac, signed));
    // SAFETY: the caller's contract.
    unsafe { convert_and_count(v, to, out, ctx, span_of(file, start, end)) };
}

/// [`kiln_f32_to_exact`], counting an overflow (`--check-overflow`).
///
/// # Safety
/// As for `convert_and_count`.
unsafe extern "C" fn kiln_f32_to_exact_counted(
    bits: i32,
    to: *const ScalarType,
    out: *mut u8,
    ctx: *const ErrCtx,
    file: i32,
    start: i32,
    end: i32,
) {
    let v = Value::F32(f32::from_bits(bits as u32));
    // SAFETY: the caller's contract.
    unsafe { convert_and_count(v, to, out, ctx, span_of(file, start, end)) };
}

/// `convert(f64, *to)` for an exact target.
///
/// # Safety
/// As for [`kiln_convert`].
unsafe extern "C" fn kiln_f64_to_exact(bits: i64, to: *const ScalarType, out: *mut u8) {
    // SAFETY: see kiln_convert.
    let to = unsafe { &*to };
    let v = convert(&Value::F64(f64::from_bits(bits as u64)), to).0;
    // SAFETY: `out` is the 16-byte stack slot codegen allocated for this call (`out_slot`),
    // whatever the data; `put` writes exactly 16 bytes.
    unsafe { put(&v, to, out) };
}

/// An exact value held in 128 bits, rounded to f64.
extern "C" fn kiln_exact_to_f64(lo: i64, hi: i64, frac: i32, signed: i32) -> f64 {
    match convert(&Value::Num(exact(lo, hi, frac, signed)), &ScalarType::F64).0 {
        Value::F64(f) => f,
        _ => unreachable!("f64 target"),
    }
}

/// `kiln_f64_to_exact`, counting an overflow (`--check-overflow`).
///
/// # Safety
/// As for `convert_and_count`.
unsafe extern "C" fn kiln_f64_to_exact_counted(
    bits: i64,
    to: *const ScalarType,
    out: *mut u8,
    ctx: *const ErrCtx,
    file: i32,
    start: i32,
    end: i32,
) {
    let v = Value::F64(f64::from_bits(bits as u64));
    // SAFETY: the caller's contract.
    unsafe { convert_and_count(v, to, out, ctx, span_of(file, start, end)) };
}

/// An exact value held in 128 bits, rounded to f32.
extern "C" fn kiln_exact_to_f32(lo: i64, hi: i64, frac: i32, signed: i32) -> f32 {
    match convert(&Value::Num(exact(lo, hi, frac, signed)), &ScalarType::F32).0 {
        Value::F32(f) => f,
        _ => unreachable!("f32 target"),
    }
}

/// [`kiln_div128`] modes.
pub const DIV_TRUNC: i32 = 0;
pub const DIV_FLOOR: i32 = 1;
pub const MOD_FLOOR: i32 = 2;

/// 128-bit signed division: truncating, flooring, or the floor remainder (the divisor is
/// non-zero and the operands have headroom, so nothing overflows).
///
/// # Safety
/// `out` points to 16 writable bytes.
unsafe extern "C" fn kiln_div128(nl: i64, nh: i64, dl: i64, dh: i64, mode: i32, out: *mut u8) {
    let (n, d) = (join(nl, nh), join(dl, dh));
    let q = match mode {
        DIV_TRUNC => n.wrapping_div(d),
        DIV_FLOOR => n.div_euclid(d) - i128::from(d < 0 && n.rem_euclid(d) != 0),
        _ => {
            let r = n.wrapping_rem(d);
            if r != 0 && (r < 0) != (d < 0) {
                r + d
            } else {
                r
            }
        }
    };
    // SAFETY: the caller passes a 16-byte stack slot.
    unsafe { std::ptr::copy_nonoverlapping(q.to_le_bytes().as_ptr(), out, 16) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_round_trip() {
        for v in [0i128, -1, 1 << 70, -(1 << 100) + 7, i128::MAX, i128::MIN] {
            assert_eq!(join(v as i64, (v >> 64) as i64), v);
        }
    }
}
