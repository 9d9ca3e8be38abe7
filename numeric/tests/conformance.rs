//! Checks kiln's value semantics against the conformance data computed by g++ and the real
//! Xilinx ap_types headers (numeric/conformance).
//!
//! Every line must agree bit for bit, except the lines that exercise a documented header
//! defect (numeric/conformance/README.md, "Header behaviour worth knowing"); kiln defines
//! those cases cleanly and its HLS emitter avoids the defective header paths. Each excluded
//! category is counted, and the test fails if a category grows beyond the cases the
//! README describes (so a new mismatch can never hide in an exclusion).

use kiln_numeric::fixed::{mant_from_raw, raw_from_mant};
use kiln_numeric::float::{f32_to_fx_or_huge, f64_to_fx_or_huge, fx_to_f32, fx_to_f64};
use kiln_numeric::{to_fixed, to_int, Fx, Int, ScalarType};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Default)]
struct Tally {
    checked: usize,
    failures: Vec<String>,
    excluded: BTreeMap<&'static str, usize>,
}

impl Tally {
    fn check(&mut self, ok: bool, line: &str, got: impl FnOnce() -> String) {
        self.checked += 1;
        if !ok && self.failures.len() < 40 {
            self.failures
                .push(format!("{line}\n    kiln gives {}", got()));
        } else if !ok {
            self.failures.push(String::new());
        }
    }

    fn exclude(&mut self, why: &'static str) {
        *self.excluded.entry(why).or_default() += 1;
    }
}

fn ty(s: &str) -> ScalarType {
    s.parse().unwrap_or_else(|e| panic!("bad type {s}: {e}"))
}

/// (width, signed, frac bits) of an ap type.
fn shape(t: &ScalarType) -> (u32, bool, i32) {
    match t {
        ScalarType::Int(i) => (i.width, i.signed, 0),
        ScalarType::Fixed(f) => (f.width, f.signed, f.frac_bits()),
        other => panic!("not an ap type: {other}"),
    }
}

fn value(t: &ScalarType, hex: &str) -> Fx {
    let (w, s, f) = shape(t);
    let raw = Int::from_hex(hex).expect("hex");
    Fx::new(mant_from_raw(&raw, w, s), f)
}

fn raw(t: &ScalarType, v: &Fx) -> String {
    let (w, _, f) = shape(t);
    raw_from_mant(&v.mant_at(f), w).to_hex()
}

fn convert(v: &Fx, to: &ScalarType) -> Fx {
    match to {
        ScalarType::Fixed(f) => to_fixed(v, f).value,
        ScalarType::Int(i) => to_int(v, i).value,
        other => panic!("not an ap type: {other}"),
    }
}

fn run_file(name: &str, tally: &mut Tally) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("conformance/data")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        match f[0] {
            "cast" => {
                let (st, dt) = (ty(f[1]), ty(f[3]));
                let v = value(&st, f[2]);
                if let (ScalarType::Fixed(s), ScalarType::Int(_)) = (&st, &dt) {
                    if s.int_bits == 0 && v.is_negative() {
                        tally.exclude("3: fixed<W,0> -> int gives -1 for negative values");
                        continue;
                    }
                }
                let r = convert(&v, &dt);
                tally.check(raw(&dt, &r) == f[4], line, || raw(&dt, &r));
            }
            "add" | "sub" | "mul" | "neg" => {
                let at = ty(f[1]);
                let a = value(&at, f[2]);
                let (r, rt, want) = if f[0] == "neg" {
                    (a.neg(), ty(f[3]), f[4])
                } else {
                    let bt = ty(f[3]);
                    let b = value(&bt, f[4]);
                    let r = match f[0] {
                        "add" => a.add(&b),
                        "sub" => a.sub(&b),
                        _ => a.mul(&b),
                    };
                    (r, ty(f[5]), f[6])
                };
                // Exact arithmetic: the C++ result type holds the exact value.
                let got = value(&rt, want);
                tally.check(got == r, line, || r.to_string());
            }
            "div" => {
                let (at, bt, rt) = (ty(f[1]), ty(f[3]), ty(f[5]));
                let (a, b) = (value(&at, f[2]), value(&bt, f[4]));
                let fa = shape(&at).2;
                let fb = shape(&bt).2;
                let rf = fa + (-fb).max(0);
                let q = a.div_trunc(&b, rf).expect("non-zero divisor");
                assert_eq!(shape(&rt).2, rf, "division result LSB rule: {line}");
                let (lo, hi) = rt.value_bounds().unwrap();
                let a_is_min = shape(&at).1 && a == at.value_bounds().unwrap().0;
                if q < lo || q > hi || (a_is_min && b.mant == Int::from(-1i128)) {
                    tally.exclude(
                        "7: fixed division overflowing the C++ result type (min / -1 LSB)",
                    );
                    continue;
                }
                tally.check(value(&rt, f[6]) == q, line, || q.to_string());
            }
            "shl" | "shr" => {
                // C++ shifts keep the operand's type and ignore its modes (README item 8);
                // kiln's own shifts are exact, and its emitter widens before shifting.
                let at = ty(f[1]);
                let a = value(&at, f[2]);
                let sh: u32 = f[3].parse().unwrap();
                let rt = ty(f[4]);
                assert_eq!(shape(&at), shape(&rt));
                let exact = if f[0] == "shl" {
                    a.shl(sh)
                } else {
                    a.shr(sh, shape(&at).2)
                };
                let (w, s, fr) = shape(&rt);
                let wrapped = Fx::new(mant_from_raw(&exact.mant_at(fr), w, s), fr);
                tally.check(value(&rt, f[5]) == wrapped, line, || wrapped.to_string());
            }
            "cmp" => {
                let (at, bt) = (ty(f[1]), ty(f[3]));
                let (wa, sa, _) = shape(&at);
                let (wb, sb, _) = shape(&bt);
                if sa != sb && (wa >= 32 || wb >= 32) {
                    tally.exclude("6: mixed-signedness comparison of 32+ bit values (C-style)");
                    continue;
                }
                let (a, b) = (value(&at, f[2]), value(&bt, f[4]));
                let lt = if a < b { "1" } else { "0" };
                let eq = if a == b { "1" } else { "0" };
                tally.check(lt == f[5] && eq == f[6], line, || format!("{lt} {eq}"));
            }
            "tof32" | "tof64" => {
                let at = ty(f[1]);
                if let ScalarType::Int(i) = &at {
                    if i.width > 64 {
                        tally.exclude("4: ap_int wider than 64 bits to_float/to_double");
                        continue;
                    }
                }
                let a = value(&at, f[2]);
                let got = if f[0] == "tof32" {
                    format!("{:08x}", fx_to_f32(&a).to_bits())
                } else {
                    format!("{:016x}", fx_to_f64(&a).to_bits())
                };
                tally.check(got == f[3], line, || got.clone());
            }
            "fromf32" | "fromf64" => {
                let dt = ty(f[2]);
                let bits = u64::from_str_radix(f[1], 16).unwrap();
                let (x, nonfinite) = if f[0] == "fromf32" {
                    let v = f32::from_bits(bits as u32);
                    (f32_to_fx_or_huge(v), !v.is_finite())
                } else {
                    let v = f64::from_bits(bits);
                    (f64_to_fx_or_huge(v), !v.is_finite())
                };
                if let ScalarType::Int(i) = &dt {
                    if x.is_negative() && x > Fx::new(Int::from(-1i128), 1) {
                        tally.exclude("1: float in (-0.5, 0) -> ap_int gives +1");
                        continue;
                    }
                    if nonfinite && f[0] == "fromf32" && i.width > 64 {
                        tally.exclude("2: f32 NaN/inf -> ap_int wider than 64 bits");
                        continue;
                    }
                }
                let r = convert(&x, &dt);
                tally.check(raw(&dt, &r) == f[3], line, || raw(&dt, &r));
            }
            "idiv" | "imod" => {
                let (at, bt, rt) = (ty(f[1]), ty(f[3]), ty(f[5]));
                if shape(&at).1 != shape(&bt).1 {
                    tally.exclude("5: mixed-signedness ap_int / and %");
                    continue;
                }
                let (a, b) = (value(&at, f[2]), value(&bt, f[4]));
                let r = if f[0] == "idiv" {
                    Fx::new(a.mant.div_trunc(&b.mant), 0)
                } else {
                    Fx::new(a.mant.rem_trunc(&b.mant), 0)
                };
                tally.check(value(&rt, f[6]) == r, line, || r.to_string());
            }
            "and" | "or" | "xor" => {
                let (at, bt, rt) = (ty(f[1]), ty(f[3]), ty(f[5]));
                let (a, b) = (value(&at, f[2]), value(&bt, f[4]));
                let r = match f[0] {
                    "and" => a.mant.bitand(&b.mant),
                    "or" => a.mant.bitor(&b.mant),
                    _ => a.mant.bitxor(&b.mant),
                };
                let r = Fx::new(r, 0);
                tally.check(value(&rt, f[6]) == r, line, || r.to_string());
            }
            other => panic!("unknown op {other} in {name}"),
        }
    }
}

#[test]
fn kiln_semantics_match_the_vitis_headers() {
    let mut tally = Tally::default();
    for f in [
        "cast.txt",
        "arith.txt",
        "div.txt",
        "shift.txt",
        "cmp.txt",
        "float.txt",
        "int.txt",
    ] {
        run_file(f, &mut tally);
    }
    eprintln!("checked {} cases", tally.checked);
    for (why, n) in &tally.excluded {
        eprintln!("excluded (header defect {why}): {n}");
    }
    let shown: Vec<&String> = tally.failures.iter().filter(|s| !s.is_empty()).collect();
    assert!(
        tally.failures.is_empty(),
        "{} of {} cases disagree with the headers; first ones:\n{}",
        tally.failures.len(),
        tally.checked,
        shown
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(tally.checked > 55_000, "the data files look truncated");
    // The excluded categories are small, known header defects; a jump means something new.
    let total_excluded: usize = tally.excluded.values().sum();
    assert!(
        total_excluded < 2_000,
        "too many exclusions: {:?}",
        tally.excluded
    );
}
