//! Dot-product kernels on both engines, bit for bit. The JIT runs them as reductions in
//! 128-bit registers over packed operands (backends/jit/src/codegen/dotnest.rs); the
//! interpreter multiplies values one by one.
//! - Binary layers: convolutions and dense layers of random shapes (channel and input
//!   counts that leave partial 64-bit words, odd word counts, 1x1 to 3x3 windows), with
//!   the weights as kernel inputs (packed at run time by native code) and as constant
//!   data (packed at compile time).
//! - 8-bit integer GEMMs (vpdpbusd) of sizes that are not multiples of the register
//!   blocking or of 16 bytes, with extreme values (-128 · -128 sums) and narrower
//!   operand types, and an 8-bit 3x3 convolution.

use kiln::{Engine, Options, RunSpec};
use std::path::{Path, PathBuf};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick(&mut self, v: &[usize]) -> usize {
        v[self.below(v.len() as u64) as usize]
    }
}

/// Writes a C-order int8 .npy file of ±1 values.
fn write_bin_npy(path: &Path, shape: &[usize], rng: &mut Rng) {
    write_i8_npy(path, shape, &mut || if rng.below(2) == 0 { 1 } else { -1 });
}

/// Writes a C-order int8 .npy file of the values `next` gives.
fn write_i8_npy(path: &Path, shape: &[usize], next: &mut dyn FnMut() -> i8) {
    let n: usize = shape.iter().product();
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '|i1', 'fortran_order': False, 'shape': {tuple}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend((0..n).map(|_| next() as u8));
    std::fs::write(path, bytes).expect("write npy");
}

/// Runs `kernel` of `script` on `engine`; the result files' bytes.
fn run(script: &Path, kernel: &str, inputs: &[(&str, PathBuf)], engine: Engine) -> Vec<u8> {
    let out = script.with_file_name(format!("out_{kernel}_{engine:?}"));
    let spec = RunSpec {
        kernel: Some(kernel.to_string()),
        inputs: inputs
            .iter()
            .map(|(n, p)| (n.to_string(), p.clone()))
            .collect(),
        engine,
        threads: 1,
        ..RunSpec::default()
    };
    let options = Options {
        color: false,
        ..Options::default()
    };
    let o = kiln::run(script, &spec, Some(&out), &options);
    assert_eq!(
        o.code,
        0,
        "{} {kernel} on {engine:?}:\n{}",
        script.display(),
        o.stderr
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out)
        .expect("out dir")
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .iter()
        .flat_map(|f| std::fs::read(f).expect("result"))
        .collect()
}

fn agree(script: &Path, kernel: &str, inputs: &[(&str, PathBuf)], what: &str) {
    let interp = run(script, kernel, inputs, Engine::Interp);
    let jit = run(script, kernel, inputs, Engine::Jit);
    assert!(interp.len() > 128, "{what}: no result");
    assert!(
        interp == jit,
        "{what}: the JIT's result differs from the interpreter's"
    );
}

#[test]
fn binary_convolutions_of_random_shapes_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x6b69_6c6e_2062_696e);
    for case in 0..10 {
        let c = rng.pick(&[1, 7, 63, 64, 65, 70, 100, 128, 129, 193]);
        let k = 1 + rng.below(9) as usize;
        let (kh, kw) = (1 + rng.below(3) as usize, 1 + rng.below(3) as usize);
        let (h, w) = (kh + rng.below(6) as usize, kw + rng.below(6) as usize);
        let (ho, wo) = (h - kh + 1, w - kw + 1);
        let case_dir = dir.path().join(format!("conv{case}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let x = case_dir.join("x.npy");
        let wf = case_dir.join("w.npy");
        write_bin_npy(&x, &[c, h, w], &mut rng);
        write_bin_npy(&wf, &[k, c, kh, kw], &mut rng);
        let script = case_dir.join("conv.kiln");
        let body = |wname: &str| {
            format!(
                "    y: int<16>[{k}, {ho}, {wo}]\n    for k, i, j in grid({k}, {ho}, {wo}):\n        acc = 0\n        for c, u, v in grid({c}, {kh}, {kw}):\n            acc += x[c, i + u, j + v] * {wname}[k, c, u, v]\n        y[k, i, j] = acc\n    return y\n"
            )
        };
        let src = format!(
            "param wc: bin[{k}, {c}, {kh}, {kw}] = load(\"w.npy\")\n\n\
             kernel inputs(x: bin[{c}, {h}, {w}], w: bin[{k}, {c}, {kh}, {kw}]) -> int<16>[{k}, {ho}, {wo}]:\n{}\n\
             kernel constant(x: bin[{c}, {h}, {w}]) -> int<16>[{k}, {ho}, {wo}]:\n{}",
            body("w"),
            body("wc")
        );
        std::fs::write(&script, src).unwrap();
        let what = format!("conv case {case}: C={c} K={k} {kh}x{kw} on {h}x{w}");
        agree(&script, "inputs", &[("x", x.clone()), ("w", wf)], &what);
        agree(&script, "constant", &[("x", x)], &what);
    }
}

#[test]
fn binary_dense_layers_of_random_shapes_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x6465_6e73_6520_6269);
    for case in 0..10 {
        let n_in = rng.pick(&[1, 9, 64, 65, 127, 128, 130, 191, 320, 700, 4100]);
        let n_out = 1 + rng.below(20) as usize;
        let batch = 1 + rng.below(6) as usize;
        let case_dir = dir.path().join(format!("dense{case}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let x = case_dir.join("x.npy");
        let wf = case_dir.join("w.npy");
        write_bin_npy(&x, &[batch, n_in], &mut rng);
        write_bin_npy(&wf, &[n_out, n_in], &mut rng);
        let script = case_dir.join("dense.kiln");
        let src = format!(
            "param wd: bin[{n_out}, {n_in}] = load(\"w.npy\")\n\n\
             kernel inputs(x: bin[{batch}, {n_in}], w: bin[{n_out}, {n_in}]) -> int<16>[{batch}, {n_out}]:\n\
             \x20   return [sum(x[b, k] * w[n, k] for k in range({n_in})) for b, n in grid({batch}, {n_out})]\n\n\
             kernel constant(x: bin[{batch}, {n_in}]) -> int<16>[{batch}, {n_out}]:\n\
             \x20   return [sum(x[b, k] * wd[n, k] for k in range({n_in})) for b, n in grid({batch}, {n_out})]\n"
        );
        std::fs::write(&script, src).unwrap();
        let what = format!("dense case {case}: {batch} x {n_in} -> {n_out}");
        agree(&script, "inputs", &[("x", x.clone()), ("w", wf)], &what);
        agree(&script, "constant", &[("x", x)], &what);
    }
}

#[test]
fn int8_gemms_of_random_sizes_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x6765_6d6d_2069_3820);
    for case in 0..12 {
        let m = 1 + rng.below(11) as usize;
        let n = 1 + rng.below(13) as usize;
        let k = rng.pick(&[1, 3, 15, 16, 17, 31, 33, 64, 100, 255, 513]);
        // Operand widths: int<8> mostly, narrower sometimes.
        let (wa, wb) = (rng.pick(&[8, 8, 8, 3]), rng.pick(&[8, 8, 8, 2]));
        // Extreme values (every product -128 · -128) in some cases.
        let extreme = case % 4 == 1;
        let case_dir = dir.path().join(format!("gemm{case}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let (a, b) = (case_dir.join("a.npy"), case_dir.join("b.npy"));
        let mut value = |bits: usize| -> i8 {
            let half = 1i64 << (bits - 1);
            if extreme {
                -half as i8
            } else {
                (rng.below(2 * half as u64) as i64 - half) as i8
            }
        };
        write_i8_npy(&a, &[m, k], &mut || value(wa));
        write_i8_npy(&b, &[k, n], &mut || value(wb));
        let script = case_dir.join("gemm.kiln");
        let src = format!(
            "param bc: int<{wb}>[{k}, {n}] = load(\"b.npy\")\n\n\
             kernel inputs(a: int<{wa}>[{m}, {k}], b: int<{wb}>[{k}, {n}]) -> int<32>[{m}, {n}]:\n\
             \x20   return [sum(a[i, q] * b[q, j] for q in range({k})) for i, j in grid({m}, {n})]\n\n\
             kernel constant(a: int<{wa}>[{m}, {k}]) -> int<32>[{m}, {n}]:\n\
             \x20   return [sum(a[i, q] * bc[q, j] for q in range({k})) for i, j in grid({m}, {n})]\n"
        );
        std::fs::write(&script, src).unwrap();
        let what = format!("gemm case {case}: {m} x {k} x {n}, int<{wa}> x int<{wb}>");
        agree(&script, "inputs", &[("a", a.clone()), ("b", b)], &what);
        agree(&script, "constant", &[("a", a)], &what);
    }
}

#[test]
fn int8_convolutions_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x636f_6e76_2069_3820);
    for case in 0..4 {
        let c = rng.pick(&[1, 5, 16, 33]);
        let k = 1 + rng.below(6) as usize;
        let (h, w) = (3 + rng.below(4) as usize, 3 + rng.below(4) as usize);
        let case_dir = dir.path().join(format!("conv{case}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let (x, wf) = (case_dir.join("x.npy"), case_dir.join("w.npy"));
        write_i8_npy(&x, &[c, h, w], &mut || rng.below(256) as u8 as i8);
        write_i8_npy(&wf, &[k, c, 3, 3], &mut || rng.below(256) as u8 as i8);
        let (ho, wo) = (h - 2, w - 2);
        let script = case_dir.join("conv.kiln");
        let src = format!(
            "kernel conv(x: int<8>[{c}, {h}, {w}], w: int<8>[{k}, {c}, 3, 3]) -> int<32>[{k}, {ho}, {wo}]:\n\
             \x20   y: int<32>[{k}, {ho}, {wo}]\n\
             \x20   for k, i, j in grid({k}, {ho}, {wo}):\n\
             \x20       acc = 0\n\
             \x20       for c, u, v in grid({c}, 3, 3):\n\
             \x20           acc += x[c, i + u, j + v] * w[k, c, u, v]\n\
             \x20       y[k, i, j] = acc\n\
             \x20   return y\n"
        );
        std::fs::write(&script, src).unwrap();
        let what = format!("int8 conv case {case}: C={c} K={k} on {h}x{w}");
        agree(&script, "conv", &[("x", x), ("w", wf)], &what);
    }
}

#[test]
fn ternary_layers_of_random_shapes_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut rng = Rng(0x7465_726e_2062_6974);
    for case in 0..10 {
        let c = rng.pick(&[1, 7, 63, 64, 65, 100, 128, 129, 193]);
        let k = 1 + rng.below(7) as usize;
        let (kh, kw) = (1 + rng.below(3) as usize, 1 + rng.below(3) as usize);
        let (h, w) = (kh + rng.below(5) as usize, kw + rng.below(5) as usize);
        let (ho, wo) = (h - kh + 1, w - kw + 1);
        // tern x tern, tern x bin, bin x tern.
        let (tx, tw) = [("tern", "tern"), ("tern", "bin"), ("bin", "tern")][case % 3];
        let case_dir = dir.path().join(format!("tern{case}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        let (x, wf) = (case_dir.join("x.npy"), case_dir.join("w.npy"));
        let mut values = |ty: &str| -> i8 {
            if ty == "bin" {
                if rng.below(2) == 0 {
                    1
                } else {
                    -1
                }
            } else {
                rng.below(3) as i8 - 1
            }
        };
        write_i8_npy(&x, &[c, h, w], &mut || values(tx));
        write_i8_npy(&wf, &[k, c, kh, kw], &mut || values(tw));
        let script = case_dir.join("conv.kiln");
        let body = |wname: &str| {
            format!(
                "    y: int<16>[{k}, {ho}, {wo}]\n    for k, i, j in grid({k}, {ho}, {wo}):\n        acc = 0\n        for c, u, v in grid({c}, {kh}, {kw}):\n            acc += x[c, i + u, j + v] * {wname}[k, c, u, v]\n        y[k, i, j] = acc\n    return y\n"
            )
        };
        let src = format!(
            "param wc: {tw}[{k}, {c}, {kh}, {kw}] = load(\"w.npy\")\n\n\
             kernel inputs(x: {tx}[{c}, {h}, {w}], w: {tw}[{k}, {c}, {kh}, {kw}]) -> int<16>[{k}, {ho}, {wo}]:\n{}\n\
             kernel constant(x: {tx}[{c}, {h}, {w}]) -> int<16>[{k}, {ho}, {wo}]:\n{}",
            body("w"),
            body("wc")
        );
        std::fs::write(&script, src).unwrap();
        let what = format!("{tx} x {tw} conv case {case}: C={c} K={k} {kh}x{kw} on {h}x{w}");
        agree(&script, "inputs", &[("x", x.clone()), ("w", wf)], &what);
        agree(&script, "constant", &[("x", x)], &what);
    }
}
