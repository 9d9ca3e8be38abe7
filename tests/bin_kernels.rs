//! Binary layers on both engines, bit for bit: convolutions and dense layers of random
//! shapes (channel and input counts that leave partial 64-bit words, odd word counts,
//! 1x1 to 3x3 windows), with the weights as kernel inputs (packed at run time by native
//! code) and as constant data (packed at compile time). The JIT runs them as popcount
//! reductions in 128-bit registers (backends/jit/src/codegen/dotnest.rs); the
//! interpreter multiplies ±1 values one by one.

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
    bytes.extend((0..n).map(|_| if rng.below(2) == 0 { 1u8 } else { 0xff }));
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
