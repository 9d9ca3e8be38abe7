//! Rust functions that native code calls for the rare cases it does not inline: 128-bit
//! division, conversions of 128-bit values and between f32 and exact types, and the
//! intricate overflow modes. They compute with kiln-numeric, the same code the reference
//! interpreter uses, so they are exact by construction.
//!
//! Every helper passes 128-bit values as two `i64` halves (low, high) and returns them
//! through an out-pointer, which keeps the native signatures free of `i128` ABI questions.

use cranelift_codegen::ir::{types, AbiParam, FuncRef, Function, Signature};
use cranelift_codegen::isa::CallConv;
use cranelift_jit::JITBuilder;
use cranelift_module::{FuncId, Linkage, Module};
use kiln_numeric::{Fx, Int, ScalarType};
use kiln_passes::ir::Value;
use kiln_passes::value::convert;

/// The helpers, declared in a module.
#[derive(Copy, Clone)]
pub struct HelperIds {
    convert: FuncId,
    f32_to_exact: FuncId,
    exact_to_f32: FuncId,
    div128: FuncId,
    math: FuncId,
    call: FuncId,
}

/// The helpers, imported into one function.
pub struct Helpers {
    pub convert: FuncRef,
    pub f32_to_exact: FuncRef,
    pub exact_to_f32: FuncRef,
    pub div128: FuncRef,
    pub math: FuncRef,
    /// Runs a kernel called inside a node (`kiln_call` in lib.rs).
    pub call: FuncRef,
}

const CONVERT: &str = "kiln_convert";
const F32_TO_EXACT: &str = "kiln_f32_to_exact";
const EXACT_TO_F32: &str = "kiln_exact_to_f32";
const DIV128: &str = "kiln_div128";
const MATH: &str = "kiln_math";
const CALL: &str = "kiln_call";

/// Makes the helpers' addresses known to the JIT linker.
pub fn register(builder: &mut JITBuilder) {
    builder.symbol(CONVERT, kiln_convert as *const u8);
    builder.symbol(F32_TO_EXACT, kiln_f32_to_exact as *const u8);
    builder.symbol(EXACT_TO_F32, kiln_exact_to_f32 as *const u8);
    builder.symbol(DIV128, kiln_div128 as *const u8);
    builder.symbol(MATH, kiln_math as *const u8);
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
        let (i32_, i64_, f32_) = (types::I32, types::I64, types::F32);
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
            div128: m.declare_func_in_func(self.div128, f),
            math: m.declare_func_in_func(self.math, f),
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
        Value::F32(_) => unreachable!("exact target"),
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
