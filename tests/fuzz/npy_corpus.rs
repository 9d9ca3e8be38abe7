//! A corpus of malformed (and a few valid but unusual) `.npy` files, built in code so that
//! each stays a few hundred bytes: tests/hostile.rs checks what kiln says about each, and
//! the fuzzer (tests/fuzz.rs) mutates them.

#![allow(dead_code)]

/// What reading a corpus file must give.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Expect {
    /// Read, with this many elements.
    Ok(usize),
    /// Refused with a message containing this text (E0601 or E0603 in `kiln run`).
    Err(&'static str),
}

/// A `.npy` file: magic, version, header length, `header` padded with spaces to a
/// multiple of 64 bytes and ended by a newline, then `data`.
pub fn npy(major: u8, header: &str, data: &[u8]) -> Vec<u8> {
    let len_bytes = if major == 1 { 2 } else { 4 };
    let pre = 8 + len_bytes;
    let mut h = header.as_bytes().to_vec();
    while !(pre + h.len() + 1).is_multiple_of(64) {
        h.push(b' ');
    }
    h.push(b'\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.push(major);
    out.push(0);
    if major == 1 {
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(h.len() as u32).to_le_bytes());
    }
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out
}

/// A version-1 header for `descr`, Fortran order or not, and `shape` (as Python writes it).
pub fn header(descr: &str, fortran: bool, shape: &str) -> String {
    let f = if fortran { "True" } else { "False" };
    format!("{{'descr': '{descr}', 'fortran_order': {f}, 'shape': {shape}, }}")
}

fn f64s(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Every case: a file name, its bytes, and what reading it must give.
pub fn corpus() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let six = f64s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let deep = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': {}1{}, }}",
        "[".repeat(24),
        "]".repeat(24)
    );
    let mut out = vec![
        (
            "ok_f64.npy",
            npy(1, &header("<f8", false, "(2, 3)"), &six),
            Expect::Ok(6),
        ),
        (
            "ok_v2.npy",
            npy(2, &header("<f8", false, "(6,)"), &six),
            Expect::Ok(6),
        ),
        (
            "ok_v3.npy",
            npy(3, &header("<f8", false, "(3, 2)"), &six),
            Expect::Ok(6),
        ),
        (
            "ok_fortran.npy",
            npy(1, &header("<f8", true, "(2, 3)"), &six),
            Expect::Ok(6),
        ),
        (
            "ok_scalar.npy",
            npy(1, &header("<f8", false, "()"), &six[..8]),
            Expect::Ok(1),
        ),
        (
            "ok_empty.npy",
            npy(1, &header("<f8", false, "(0, 3)"), &[]),
            Expect::Ok(0),
        ),
        (
            "ok_big_endian.npy",
            npy(
                1,
                &header(">i4", false, "(2,)"),
                &[0, 0, 0, 7, 0xff, 0xff, 0xff, 0xfe],
            ),
            Expect::Ok(2),
        ),
        (
            "ok_bool.npy",
            npy(1, &header("|b1", false, "(3,)"), &[0, 1, 2]),
            Expect::Ok(3),
        ),
        (
            "ok_nan.npy",
            npy(
                1,
                &header("<f8", false, "(4,)"),
                &f64s(&[f64::NAN, -f64::NAN, f64::INFINITY, -0.0]),
            ),
            Expect::Ok(4),
        ),
        ("empty_file.npy", Vec::new(), Expect::Err("shorter than")),
        (
            "wrong_magic.npy",
            {
                let mut v = npy(1, &header("<f8", false, "(6,)"), &six);
                v[1] = b'X';
                v
            },
            Expect::Err("magic"),
        ),
        (
            "bad_version.npy",
            {
                let mut v = npy(1, &header("<f8", false, "(6,)"), &six);
                v[6] = 9;
                v
            },
            Expect::Err("version 9.0"),
        ),
        (
            "header_past_end.npy",
            {
                let mut v = npy(1, &header("<f8", false, "(6,)"), &six);
                v[8] = 0xff;
                v[9] = 0xff;
                v.truncate(200);
                v
            },
            Expect::Err("past the end"),
        ),
        (
            "truncated_header.npy",
            npy(1, &header("<f8", false, "(6,)"), &six)[..40].to_vec(),
            Expect::Err("past the end"),
        ),
        (
            "truncated_data.npy",
            npy(1, &header("<f8", false, "(10,)"), &six),
            Expect::Err("truncated"),
        ),
        (
            "huge_shape.npy",
            npy(
                1,
                &header("<f8", false, "(1099511627776, 1099511627776)"),
                &six,
            ),
            Expect::Err("address"),
        ),
        (
            "overflowing_shape.npy",
            npy(
                1,
                &header("<i1", false, "(4294967296, 4294967296, 4294967296)"),
                &six,
            ),
            Expect::Err("address"),
        ),
        (
            "overflowing_bytes.npy",
            npy(1, &header("<f8", false, "(4611686018427387904,)"), &six),
            Expect::Err("address"),
        ),
        (
            "wrapping_shape.npy",
            npy(1, &header("<i1", false, "(4294967296, 4294967296, 0)"), &[]),
            Expect::Err("address"),
        ),
        (
            "negative_dim.npy",
            npy(1, &header("<f8", false, "(-1, 6)"), &six),
            Expect::Err("negative"),
        ),
        (
            "float_dim.npy",
            npy(1, &header("<f8", false, "(1.5, 6)"), &six),
            Expect::Err("header"),
        ),
        (
            "bad_dtype_complex.npy",
            npy(1, &header("<c16", false, "(3,)"), &six),
            Expect::Err("dtype <c16 is not supported"),
        ),
        (
            "bad_dtype_unicode.npy",
            npy(1, &header("<U2", false, "(3,)"), &six),
            Expect::Err("is not supported"),
        ),
        (
            "bad_dtype_garbage.npy",
            npy(1, &header("zz", false, "(3,)"), &six),
            Expect::Err("is not supported"),
        ),
        (
            "bad_dtype_empty.npy",
            npy(1, &header("", false, "(3,)"), &six),
            Expect::Err("is not supported"),
        ),
        (
            "bad_dtype_f2.npy",
            npy(1, &header("<f2", false, "(3,)"), &six),
            Expect::Err("is not supported"),
        ),
        (
            "structured.npy",
            npy(
                1,
                "{'descr': [('a', '<f8'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }",
                &six,
            ),
            Expect::Err("structured"),
        ),
        (
            "deep_nesting.npy",
            npy(1, &deep, &six),
            Expect::Err("levels deep"),
        ),
        (
            "no_shape.npy",
            npy(1, "{'descr': '<f8', 'fortran_order': False, }", &six),
            Expect::Err("no `shape`"),
        ),
        (
            "fortran_not_bool.npy",
            npy(
                1,
                "{'descr': '<f8', 'fortran_order': 3, 'shape': (6,), }",
                &six,
            ),
            Expect::Err("fortran_order"),
        ),
        (
            "not_a_dict.npy",
            npy(1, "(1, 2)", &six),
            Expect::Err("not a dict"),
        ),
        (
            "unclosed_string.npy",
            npy(1, "{'descr: '<f8'", &six),
            Expect::Err("header"),
        ),
        (
            "garbage_header.npy",
            npy(1, "{'descr': '<f8', @@@", &six),
            Expect::Err("header"),
        ),
        (
            "huge_int.npy",
            npy(
                1,
                &header(
                    "<f8",
                    false,
                    "(99999999999999999999999999999999999999999999,)",
                ),
                &six,
            ),
            Expect::Err("128 bits"),
        ),
        (
            "bad_utf8_v3.npy",
            npy(3, "{'descr': '\u{ff}<f8'", &six)
                .into_iter()
                .map(|b| if b == 0xc3 { 0xff } else { b })
                .collect(),
            Expect::Err("UTF-8"),
        ),
    ];
    // The deep header is 130-ish bytes: the point of the case is that it is tiny.
    assert!(out
        .iter()
        .any(|(n, v, _)| *n == "deep_nesting.npy" && v.len() <= 256));
    out.sort_by_key(|c| c.0);
    out
}
