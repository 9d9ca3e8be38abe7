//! C++ spellings of kiln's types and values.
//!
//! Every scalar type has a **storage** type (what a tensor element, a local or a port
//! holds: `ap_fixed<W, I, Q, O, N>`, `ap_int<W>`, `ap_uint<1>` for a `bin` bit) and a
//! **value** type (what an expression computes with: a plain `ap_fixed<W, I>` /
//! `ap_ufixed<W, I>` for every exact type, `bool`, `float`, `double`). Values are exact; only the
//! conversions into storage types round and overflow (kiln_hls.h).

use kiln_numeric::fixed::raw_from_mant;
use kiln_numeric::{Fx, ScalarType};
use kiln_passes::ir::Value;

/// The storage type of `t`.
pub fn storage(t: &ScalarType) -> String {
    match t {
        ScalarType::Bool => "bool".into(),
        ScalarType::F32 => "float".into(),
        ScalarType::F64 => "double".into(),
        ScalarType::Bin => "ap_uint<1>".into(),
        ScalarType::Tern => "ap_int<2>".into(),
        ScalarType::Int(i) => format!("ap_{}int<{}>", if i.signed { "" } else { "u" }, i.width),
        ScalarType::Fixed(f) => {
            let base = format!(
                "ap_{}fixed<{}, {}",
                if f.signed { "" } else { "u" },
                f.width,
                f.int_bits
            );
            if f.has_default_modes() {
                format!("{base}>")
            } else if f.sat_bits == 0 {
                format!("{base}, {}, {}>", f.quant.hls_name(), f.overflow.hls_name())
            } else {
                format!(
                    "{base}, {}, {}, {}>",
                    f.quant.hls_name(),
                    f.overflow.hls_name(),
                    f.sat_bits
                )
            }
        }
    }
}

/// The value type of `t`: the type an expression of type `t` computes in, `kiln::fx<W, I>`
/// / `kiln::ufx<W, I>` for exact types (the plain `ap_fixed<W, I>` / `ap_ufixed<W, I>` in
/// synthesis; a 64-bit mantissa in C-simulation, kiln_hls.h).
pub fn value(t: &ScalarType) -> String {
    match t {
        ScalarType::Bool => "bool".into(),
        ScalarType::F32 => "float".into(),
        ScalarType::F64 => "double".into(),
        ScalarType::Bin | ScalarType::Tern => "kiln::fx<2, 2>".into(),
        ScalarType::Int(i) => format!(
            "kiln::{}fx<{}, {}>",
            if i.signed { "" } else { "u" },
            i.width,
            i.width
        ),
        ScalarType::Fixed(f) => format!(
            "kiln::{}fx<{}, {}>",
            if f.signed { "" } else { "u" },
            f.width,
            f.int_bits
        ),
    }
}

/// Width and fractional bits of the value type of an exact type.
pub fn value_layout(t: &ScalarType) -> Option<(u32, i32)> {
    match t {
        ScalarType::Bin | ScalarType::Tern => Some((2, 0)),
        ScalarType::Int(i) => Some((i.width, 0)),
        ScalarType::Fixed(f) => Some((f.width, f.frac_bits())),
        _ => None,
    }
}

/// Reads a storage-typed C++ expression of type `t` as a value.
pub fn read(t: &ScalarType, storage_expr: &str) -> String {
    match t {
        ScalarType::Bin => format!("kiln::bin_val({storage_expr})"),
        ScalarType::Bool | ScalarType::F32 | ScalarType::F64 => storage_expr.to_string(),
        _ => format!("kiln::val({storage_expr})"),
    }
}

/// Converts a value-typed C++ expression of type `from` to the storage type of `to`, with
/// kiln's conversion semantics (`passes/src/ir/value.rs`).
pub fn convert(x: &str, from: &ScalarType, to: &ScalarType) -> String {
    let st = storage(to);
    let from_f32 = *from == ScalarType::F32;
    let from_f64 = *from == ScalarType::F64;
    // Bools convert as the exact values 0 and 1.
    let x = if *from == ScalarType::Bool
        && !matches!(to, ScalarType::Bool | ScalarType::F32 | ScalarType::F64)
    {
        format!("kiln::from_bool({x})")
    } else {
        x.to_string()
    };
    match to {
        ScalarType::Bool => format!("kiln::to_bool({x})"),
        ScalarType::F32 => match from {
            ScalarType::F32 => x,
            ScalarType::F64 => format!("((float){x})"),
            ScalarType::Bool => format!("({x} ? 1.0f : 0.0f)"),
            _ => format!("kiln::to_f32({x})"),
        },
        ScalarType::F64 => match from {
            ScalarType::F64 => x,
            ScalarType::F32 => format!("((double){x})"),
            ScalarType::Bool => format!("({x} ? 1.0 : 0.0)"),
            _ => format!("kiln::to_f64({x})"),
        },
        ScalarType::Fixed(_) if from_f64 => format!("kiln::fixed_from_f64<{st} >({x})"),
        ScalarType::Int(_) if from_f64 => format!("kiln::int_from_f64<{st} >({x})"),
        ScalarType::Bin if from_f64 => format!("kiln::bin_bit_from_f64({x})"),
        ScalarType::Tern if from_f64 => format!("kiln::raw(kiln::tern_from_f64({x}))"),
        ScalarType::Fixed(_) if from_f32 => format!("kiln::fixed_from_f32<{st} >({x})"),
        ScalarType::Fixed(_) => format!("kiln::to_fixed<{st} >({x})"),
        ScalarType::Int(_) if from_f32 => format!("kiln::int_from_f32<{st} >({x})"),
        ScalarType::Int(_) => format!("kiln::to_int<{st} >({x})"),
        ScalarType::Bin if from_f32 => format!("kiln::bin_bit_from_f32({x})"),
        ScalarType::Bin => format!("kiln::bin_bit({x})"),
        ScalarType::Tern if from_f32 => format!("kiln::raw(kiln::tern_from_f32({x}))"),
        ScalarType::Tern => format!("kiln::raw(kiln::to_tern({x}))"),
    }
}

/// Converts a value-typed C++ expression of type `from` to type `to`, as a value of `to`'s
/// value type (what a local holds and a cast yields): the same conversion as [`convert`]
/// without going through the storage type.
pub fn convert_value(x: &str, from: &ScalarType, to: &ScalarType) -> String {
    let st = storage(to);
    let exact_from = from.is_exact_numeric();
    let x = if *from == ScalarType::Bool && to.is_exact_numeric() {
        format!("kiln::from_bool({x})")
    } else {
        x.to_string()
    };
    let exact = exact_from || *from == ScalarType::Bool;
    match to {
        ScalarType::Fixed(_) if exact => format!("kiln::cvt<{st} >({x})"),
        ScalarType::Int(_) if exact => format!("kiln::cvt_int<{st} >({x})"),
        ScalarType::Bin if exact => format!("kiln::to_bin({x})"),
        ScalarType::Tern if exact => format!("kiln::to_tern({x})"),
        ScalarType::Bin if *from == ScalarType::F32 => format!("kiln::bin_from_f32({x})"),
        ScalarType::Tern if *from == ScalarType::F32 => format!("kiln::tern_from_f32({x})"),
        ScalarType::Tern if *from == ScalarType::F64 => format!("kiln::tern_from_f64({x})"),
        ScalarType::Bool | ScalarType::F32 | ScalarType::F64 => convert(&x, from, to),
        _ => read(to, &convert(&x, from, to)),
    }
}

/// The raw bits of a value stored in type `t`, as a zero-padded hexadecimal string
/// (the testbench's data format: f32 as its 32 bits, bool as 0/1, bin as its bit).
pub fn raw_hex(v: &Value, t: &ScalarType) -> String {
    match (v, t) {
        (Value::Bool(b), _) => (if *b { "1" } else { "0" }).into(),
        (Value::F32(f), _) => format!("{:08x}", f.to_bits()),
        (Value::F64(f), _) => format!("{:016x}", f.to_bits()),
        (Value::Num(x), ScalarType::Bin) => (if x.is_negative() { "0" } else { "1" }).into(),
        (Value::Num(x), t) => {
            let (w, frac) = storage_layout(t);
            let raw = raw_from_mant(&x.mant_at(frac), w);
            let digits = w.div_ceil(4) as usize;
            format!("{:0>digits$}", raw.to_hex())
        }
    }
}

/// Width and fractional bits of the storage of an exact type.
fn storage_layout(t: &ScalarType) -> (u32, i32) {
    match t {
        ScalarType::Bin => (1, 0),
        ScalarType::Tern => (2, 0),
        ScalarType::Int(i) => (i.width, 0),
        ScalarType::Fixed(f) => (f.width, f.frac_bits()),
        _ => (1, 0),
    }
}

/// Number of hexadecimal digits [`raw_hex`] writes for type `t`.
pub fn hex_digits(t: &ScalarType) -> usize {
    match t {
        ScalarType::Bool | ScalarType::Bin => 1,
        ScalarType::F32 => 8,
        ScalarType::F64 => 16,
        t => storage_layout(t).0.div_ceil(4) as usize,
    }
}

/// A constant of an exact type as a C++ expression of its value type.
pub fn exact_constant(x: &Fx, t: &ScalarType) -> String {
    let (w, frac) = value_layout(t).expect("exact type");
    let vt = value(t);
    let raw = raw_from_mant(&x.mant_at(frac), w);
    if w <= 64 {
        let v = raw.to_i128().unwrap_or(0) as u64;
        format!("kiln::konst<{vt} >({v}ULL)")
    } else {
        format!("kiln::from_hex<{vt} >(\"{}\")", raw.to_hex())
    }
}

/// A value of storage type `t` as a C++ initializer (constant tables).
pub fn initializer(v: &Value, t: &ScalarType) -> String {
    match (v, t) {
        (Value::Bool(b), _) => b.to_string(),
        (Value::F32(f), _) if f.is_finite() => format!("{f:?}f"),
        (Value::F32(f), _) => format!("kiln::f32_from_bits(0x{:08x}u)", f.to_bits()),
        (Value::F64(f), _) if f.is_finite() => format!("{f:?}"),
        (Value::F64(f), _) => format!("kiln::f64_from_bits(0x{:016x}ULL)", f.to_bits()),
        (Value::Num(x), ScalarType::Bin) => (if x.is_negative() { "0" } else { "1" }).into(),
        (Value::Num(x), ScalarType::Tern | ScalarType::Int(_)) if x.mant_at(0).bit_len() < 63 => {
            let i = x.mant_at(0).to_i64().unwrap_or(0);
            if i == i64::MIN {
                format!("({} - 1)", i + 1)
            } else {
                format!("{i}LL")
            }
        }
        (Value::Num(x), ScalarType::Fixed(f)) if f.width <= 53 => {
            // Exactly representable in binary64, so the double constructor is exact.
            let s = x.to_string();
            if s.contains('.') {
                s
            } else {
                format!("{s}.0")
            }
        }
        (Value::Num(x), t) => {
            let (w, frac) = storage_layout(t);
            let raw = raw_from_mant(&x.mant_at(frac), w);
            format!("kiln::from_hex<{} >(\"{}\")", storage(t), raw.to_hex())
        }
    }
}

/// A valid, readable C++ identifier from a kiln name.
pub fn ident(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    if CPP_RESERVED.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// Names a kiln identifier may take that C++ (or the testbench's `main`) reserves.
const CPP_RESERVED: &[&str] = &[
    "alignas",
    "alignof",
    "and",
    "asm",
    "auto",
    "bool",
    "break",
    "case",
    "catch",
    "char",
    "class",
    "const",
    "constexpr",
    "continue",
    "default",
    "delete",
    "do",
    "double",
    "else",
    "enum",
    "explicit",
    "export",
    "extern",
    "false",
    "float",
    "for",
    "friend",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "main",
    "mutable",
    "namespace",
    "new",
    "not",
    "operator",
    "or",
    "private",
    "protected",
    "public",
    "register",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "template",
    "this",
    "throw",
    "true",
    "try",
    "typedef",
    "typename",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "while",
    "xor",
    "kiln",
    "std",
    "hls",
];
