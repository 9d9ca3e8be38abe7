//! Every example under examples/ and every stdlib kernel runs on both engines (the
//! interpreter and the JIT), which must print the same results, kept as golden files
//! (`tests/examples/<name>.out`, `tests/stdlib/nn_all.out`). The LeNet example also classifies its ten sample digits
//! correctly (its logits were checked bit for bit against a numpy simulation of the
//! quantized network: examples/lenet/check_kiln.py).
//!
//! Bless with `KILN_BLESS=1 cargo test --test examples`.

mod common;

use common::check_golden;
use kiln::{Engine, Options, RunSpec};
use std::path::{Path, PathBuf};

fn options() -> Options {
    Options {
        color: false,
        ..Options::default()
    }
}

const ENGINES: [Engine; 2] = [Engine::Interp, Engine::Jit];

fn run(
    script: &Path,
    inputs: &[(&str, &str)],
    out: Option<&Path>,
    engine: Engine,
) -> kiln::Outcome {
    let spec = RunSpec {
        kernel: None,
        inputs: inputs
            .iter()
            .map(|(n, p)| (n.to_string(), PathBuf::from(p)))
            .collect(),
        full: true,
        engine,
        ..RunSpec::default()
    };
    kiln::run(script, &spec, out, &options())
}

/// Runs on every engine; checks each prints the golden output.
fn run_golden(script: &Path, golden: &Path) {
    for engine in ENGINES {
        let o = run(script, &[], None, engine);
        assert_eq!(
            o.code,
            0,
            "{} failed on {engine:?}:\n{}",
            script.display(),
            o.stderr
        );
        check_golden(golden, &format!("{}{}", o.stdout, o.stderr));
    }
}

/// Every `.kiln` file directly inside an example directory (but the benchmark kernels,
/// too big for the debug-build interpreter: see `bench_kernels_on_small_inputs`; and the
/// papers' networks, AlexNet and VGG16 for `kiln report`, checked by tests/allocation.rs;
/// and vgg_block, two VGG16 blocks at 224x224 for `kiln report`, checked by
/// tests/hls.rs `report_goldens`).
fn example_scripts() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in std::fs::read_dir("examples").expect("examples/").flatten() {
        if !dir.path().is_dir()
            || ["bench", "papers", "vgg_block"]
                .iter()
                .any(|d| dir.path().ends_with(d))
        {
            continue;
        }
        for f in std::fs::read_dir(dir.path())
            .expect("example dir")
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "kiln") {
                v.push(f.path());
            }
        }
    }
    v.sort();
    v
}

#[test]
fn every_example_runs() {
    let scripts = example_scripts();
    assert!(scripts.len() >= 4, "examples missing: {scripts:?}");
    for s in scripts {
        let name = s.file_stem().unwrap().to_string_lossy().into_owned();
        run_golden(&s, Path::new(&format!("tests/examples/{name}.out")));
    }
}

/// The benchmark kernels of examples/bench, on their small inputs: both engines print the
/// golden output `tests/examples/bench_<variant>.out`.
#[test]
fn bench_kernels_on_small_inputs() {
    let small = "examples/bench/data/small";
    // (variant, script, kernel, inputs: parameter and data file)
    type Case<'a> = (&'a str, &'a str, &'a str, [(&'a str, &'a str); 2]);
    let cases: [Case; 6] = [
        (
            "conv_fixed",
            "conv_fixed",
            "conv",
            [("x", "conv_fixed_x"), ("w", "conv_fixed_w")],
        ),
        (
            "conv_fixed_wrap",
            "conv_fixed",
            "conv",
            [("x", "conv_fixed_wrap_x"), ("w", "conv_fixed_wrap_w")],
        ),
        (
            "conv_f32",
            "conv_f32",
            "conv",
            [("x", "conv_f32_x"), ("w", "conv_f32_w")],
        ),
        (
            "conv_bin",
            "conv_bin",
            "conv",
            [("x", "conv_bin_x"), ("w", "conv_bin_w")],
        ),
        (
            "gemm_i8",
            "gemm_i8",
            "gemm",
            [("a", "gemm_i8_a"), ("b", "gemm_i8_b")],
        ),
        (
            "gemm_f32",
            "gemm_f32",
            "gemm",
            [("a", "gemm_f32_a"), ("b", "gemm_f32_b")],
        ),
    ];
    for (variant, file, kernel, inputs) in cases {
        let script = PathBuf::from(format!("examples/bench/{file}.kiln"));
        for engine in ENGINES {
            let spec = RunSpec {
                kernel: Some(kernel.to_string()),
                inputs: inputs
                    .iter()
                    .map(|(n, f)| (n.to_string(), PathBuf::from(format!("{small}/{f}.npy"))))
                    .collect(),
                full: true,
                engine,
                ..RunSpec::default()
            };
            let o = kiln::run(&script, &spec, None, &options());
            assert_eq!(o.code, 0, "{variant} on {engine:?}:\n{}", o.stderr);
            check_golden(
                Path::new(&format!("tests/examples/bench_{variant}.out")),
                &format!("{}{}", o.stdout, o.stderr),
            );
        }
    }
}

#[test]
fn every_stdlib_kernel_runs() {
    run_golden(
        Path::new("tests/stdlib/nn_all.kiln"),
        Path::new("tests/stdlib/nn_all.out"),
    );
}

#[test]
fn lenet_classifies_its_samples() {
    let labels = read_labels("examples/lenet/data/labels.npy");
    let dir = tempfile::tempdir().expect("a temp dir");
    for (k, &label) in labels.iter().enumerate() {
        let input = format!("examples/lenet/data/x{k}.npy");
        let out = dir.path().join(format!("x{k}"));
        let o = run(
            Path::new("examples/lenet/lenet.kiln"),
            &[("x", &input)],
            Some(&out),
            Engine::Jit,
        );
        assert_eq!(o.code, 0, "{}", o.stderr);
        let logits = read_f64(&out.join("result.npy"));
        let predicted = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.partial_cmp(b.1).expect("finite logits"))
            .map(|(i, _)| i)
            .expect("ten logits");
        assert_eq!(predicted as i64, label, "x{k}: logits {logits:?}");
    }
}

/// The PyLog-style stencils of examples/pylog give numpy's results bit for bit, on both
/// engines (examples/pylog/make_data.py computes the references with f32 operations in
/// the programs' order).
#[test]
fn pylog_stencils_match_numpy() {
    let cases = [
        ("gaussian", "gauss_ref"),
        ("jacobi", "jacobi_ref"),
        ("sobel", "sobel_ref"),
    ];
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, reference) in cases {
        let want = read_f32(Path::new(&format!("examples/pylog/data/{reference}.npy")));
        for engine in ENGINES {
            let out = dir.path().join(format!("{name}-{engine:?}"));
            let script = format!("examples/pylog/{name}.kiln");
            let o = run(Path::new(&script), &[], Some(&out), engine);
            assert_eq!(o.code, 0, "{name} on {engine:?}: {}", o.stderr);
            let got = read_f32(&out.join("result.npy"));
            assert_eq!(got.len(), want.len(), "{name}: element count");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert_eq!(
                    g.to_bits(),
                    w.to_bits(),
                    "{name} on {engine:?}: element {i} is {g}, numpy's {w}"
                );
            }
        }
    }
}

fn read_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).expect("an .npy file");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("an npy file");
    npy.into_vec::<f32>().expect("float32 values")
}

fn read_labels(path: &str) -> Vec<i64> {
    let bytes = std::fs::read(path).expect("labels.npy");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("an npy file");
    npy.into_vec::<i64>().expect("int64 labels")
}

fn read_f64(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).expect("a result file");
    let npy = npyz::NpyFile::new(&bytes[..]).expect("an npy file");
    npy.into_vec::<f64>().expect("float64 logits")
}

/// The PyLog-style programs of examples/pylog written as a Python programmer writes them
/// first (output parameters, chained indexing, float accumulators, kernels called in
/// loops, `**`, `len`, bit fields): each result equals its numpy reference
/// (examples/pylog/make_more_data.py, the same float64 operations in the same order),
/// bit for bit, on both engines.
#[test]
fn pylog_programs_match_numpy() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("matmul", &[("c", "matmul")]),
        ("cholesky", &[("l", "cholesky")]),
        ("lu", &[("a", "lu")]),
        ("seidel", &[("a", "seidel")]),
        ("bubble_sort", &[("a", "bubble_sort")]),
        ("knn", &[("nearest", "knn_nearest"), ("best", "knn_best")]),
        ("vadd", &[("c", "vadd")]),
        ("prefix_sum", &[("s", "prefix_sum"), ("top", "prefix_max")]),
        ("packed", &[("result", "packed")]),
        (
            "kmeans_step",
            &[("labels", "km_labels"), ("new", "km_centres_new")],
        ),
    ];
    let dir = tempfile::tempdir().expect("a temp dir");
    for (name, results) in cases {
        for engine in ENGINES {
            let out = dir.path().join(format!("{name}-{engine:?}"));
            let script = format!("examples/pylog/{name}.kiln");
            let o = run(Path::new(&script), &[], Some(&out), engine);
            assert_eq!(o.code, 0, "{name} on {engine:?}: {}", o.stderr);
            for (result, reference) in *results {
                let got = npy_values(&out.join(format!("{result}.npy")));
                let want = npy_values(Path::new(&format!(
                    "examples/pylog/data/ref/{reference}.npy"
                )));
                assert_eq!(got.len(), want.len(), "{name}: {result}'s element count");
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    assert_eq!(
                        g.to_bits(),
                        w.to_bits(),
                        "{name} on {engine:?}: {result}[{i}] is {g}, numpy's {w}"
                    );
                }
            }
        }
    }
}

/// The values of an .npy file of any numeric dtype kiln writes, as f64 (exact for every
/// one of them: float32 and integers of at most 32 bits widen exactly).
fn npy_values(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let npy = npyz::NpyFile::new(&bytes[..]).expect("an npy file");
    let descr = npy.header().dtype().descr();
    match descr.trim_matches(['\'', '<', '>', '|', '=']) {
        "f8" => npy.into_vec::<f64>().expect("f64"),
        "f4" => npy
            .into_vec::<f32>()
            .expect("f32")
            .into_iter()
            .map(f64::from)
            .collect(),
        "i1" => npy
            .into_vec::<i8>()
            .expect("i8")
            .into_iter()
            .map(f64::from)
            .collect(),
        "i2" => npy
            .into_vec::<i16>()
            .expect("i16")
            .into_iter()
            .map(f64::from)
            .collect(),
        "i4" => npy
            .into_vec::<i32>()
            .expect("i32")
            .into_iter()
            .map(f64::from)
            .collect(),
        "u1" => npy
            .into_vec::<u8>()
            .expect("u8")
            .into_iter()
            .map(f64::from)
            .collect(),
        "u2" => npy
            .into_vec::<u16>()
            .expect("u16")
            .into_iter()
            .map(f64::from)
            .collect(),
        "u4" => npy
            .into_vec::<u32>()
            .expect("u32")
            .into_iter()
            .map(f64::from)
            .collect(),
        other => panic!("{}: dtype {other} not expected", path.display()),
    }
}
