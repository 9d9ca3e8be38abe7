//! ROM tables of `NAME_weights.h`: one constant tensor as a C++ table.
//!
//! For HLS synthesis a table is a `static const` array of its storage type, initialized
//! with its values. For C-simulation that form is costly to compile: `ap_int`/`ap_fixed`
//! have no constexpr constructors, so g++ turns a table of N elements into N inlined
//! constructor calls in one static-initialization function and spends about a
//! millisecond per element on it (LeNet's 19,000 weights took 28 s of a 30 s compile).
//! Tables whose values are plain integers or exact doubles are therefore written through
//! `KILN_ROM`/`KILN_ROM_END` (kiln_hls.h): synthesis sees the `static const` table, and
//! C-simulation a constant-initialized array of `long long`/`double` that one loop turns
//! into the typed table before `main` runs. Other tables (floats, bools, wide values
//! written in hexadecimal) are written directly.
//!
//! ```text
//! typedef ap_fixed<14, 6> w_b1_t;
//! KILN_ROM(w_b1_t, double, w_b1, [6]) = {
//!     23.5078125, -6.16015625, ...
//! };
//! KILN_ROM_END(w_b1_t, w_b1, [6]);
//! ```

use crate::types::{initializer, storage};
use kiln_numeric::ScalarType;
use kiln_passes::ir::Value;
use std::fmt::Write;

/// The plain C++ type that holds every initializer of a table of `elem` in C-simulation,
/// when one does (`long long` for integers and bin bits, `double` for fixed-point values
/// of at most 53 bits).
fn raw_type(elem: &ScalarType, values: &[Value]) -> Option<&'static str> {
    let plain = |v: &Value| {
        let s = initializer(v, elem);
        !s.contains("kiln::")
    };
    let ty = match elem {
        ScalarType::Bin | ScalarType::Tern | ScalarType::Int(_) => "long long",
        ScalarType::Fixed(f) if f.width <= 53 => "double",
        _ => return None,
    };
    values.iter().all(plain).then_some(ty)
}

/// Writes the table `name` of `elem` values with `shape` (a scalar when empty).
pub fn table(out: &mut String, name: &str, elem: &ScalarType, shape: &[usize], values: &[Value]) {
    let st = storage(elem);
    if shape.is_empty() {
        let v = values
            .first()
            .map(|v| initializer(v, elem))
            .unwrap_or_default();
        let _ = writeln!(out, "static const {st} {name} = {v};");
        return;
    }
    let dims: String = shape.iter().map(|d| format!("[{d}]")).collect();
    let raw = raw_type(elem, values);
    match raw {
        Some(raw) => {
            let _ = writeln!(out, "typedef {st} {name}_t;");
            let _ = write!(out, "KILN_ROM({name}_t, {raw}, {name}, {dims}) = {{");
        }
        None => {
            let _ = write!(out, "static const {st} {name}{dims} = {{");
        }
    }
    for (i, v) in values.iter().enumerate() {
        if i % 16 == 0 {
            out.push_str("\n    ");
        }
        let _ = write!(out, "{}, ", initializer(v, elem));
    }
    out.push_str("\n};\n");
    if raw.is_some() {
        let _ = writeln!(out, "KILN_ROM_END({name}_t, {name}, {dims});");
    }
}
