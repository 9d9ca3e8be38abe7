//! `kiln quantize`: runs the binary on small `.npy` files written into a temporary
//! directory and checks the levels file (dtype, shape, values), the scale file (dtype,
//! shape, exact grid value), the report, script mode (params found through the parser,
//! biases skipped, `--only`, declarations a script loads without warnings) and the error
//! cases (exit 1 with a message, never a panic).

mod common;

use common::kiln;
use npyz::WriterBuilder;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

/// The weights of most cases: shape [2, 3], mean|w| = 1.
const W: [f32; 6] = [0.5, -1.5, 1.0, 2.0, -0.25, -0.75];

fn write_f32(path: &Path, shape: &[u64], values: &[f32]) {
    let f = BufWriter::new(File::create(path).expect("create .npy"));
    let mut w = npyz::WriteOptions::<f32>::new()
        .default_dtype()
        .shape(shape)
        .writer(f)
        .begin_nd()
        .expect("npy header");
    for v in values {
        w.push(v).expect("npy value");
    }
    w.finish().expect("npy finish");
}

fn write_i8(path: &Path, shape: &[u64], values: &[i8]) {
    let f = BufWriter::new(File::create(path).expect("create .npy"));
    let mut w = npyz::WriteOptions::<i8>::new()
        .default_dtype()
        .shape(shape)
        .writer(f)
        .begin_nd()
        .expect("npy header");
    for v in values {
        w.push(v).expect("npy value");
    }
    w.finish().expect("npy finish");
}

/// An array read back: its numpy dtype (`|i1`, `<f8`...), shape, and values as f64.
struct Array {
    dtype: String,
    shape: Vec<u64>,
    values: Vec<f64>,
}

fn read(path: &Path) -> Array {
    let f =
        BufReader::new(File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display())));
    let npy = npyz::NpyFile::new(f).expect("a valid .npy");
    let dtype = match npy.dtype() {
        npyz::DType::Plain(ts) => ts.to_string(),
        other => panic!("unexpected dtype {other:?}"),
    };
    let shape = npy.shape().to_vec();
    let values = match dtype.as_str() {
        "|i1" => npy
            .into_vec::<i8>()
            .expect("i8 data")
            .into_iter()
            .map(f64::from)
            .collect(),
        "<i2" => npy
            .into_vec::<i16>()
            .expect("i16 data")
            .into_iter()
            .map(f64::from)
            .collect(),
        "<f8" => npy.into_vec::<f64>().expect("f64 data"),
        "<f4" => npy
            .into_vec::<f32>()
            .expect("f32 data")
            .into_iter()
            .map(f64::from)
            .collect(),
        other => panic!("unexpected dtype {other}"),
    };
    Array {
        dtype,
        shape,
        values,
    }
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("a UTF-8 temporary path").to_string()
}

/// Runs `kiln quantize IN -o OUT` with `args` and expects success.
fn quantize(input: &Path, out: &Path, args: &[&str]) -> String {
    let (i, o) = (path_str(input), path_str(out));
    let mut all = vec!["quantize", i.as_str(), "-o", o.as_str()];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = kiln(&all);
    assert_eq!(
        code, 0,
        "kiln {all:?}\n--- stdout\n{stdout}--- stderr\n{stderr}"
    );
    assert!(stderr.is_empty(), "stderr: {stderr}");
    stdout
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let w = dir.path().join("w.npy");
    write_f32(&w, &[2, 3], &W);
    (dir, w)
}

/// The report's table row of a tensor, split into its cells.
fn row(report: &str, name: &str) -> Vec<String> {
    let line = report
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{report}"));
    // Cells are separated by two or more spaces (the shape holds single spaces).
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn bwn_levels_and_scale() {
    let (dir, w) = setup();
    let out = dir.path().join("q.npy");
    let report = quantize(&w, &out, &["--method", "bwn", "--bits", "1"]);
    let l = read(&out);
    assert_eq!(l.dtype, "|i1");
    assert_eq!(l.shape, vec![2, 3]);
    assert_eq!(l.values, vec![1.0, -1.0, 1.0, 1.0, -1.0, -1.0]);
    let s = read(&dir.path().join("q.scale.npy"));
    assert_eq!(s.dtype, "<f8");
    assert_eq!(s.shape, Vec::<u64>::new());
    assert_eq!(s.values, vec![1.0]);
    let r = row(&report, "q");
    assert_eq!(&r[..5], ["q", "[2, 3]", "bwn", "1", "bin"]);
    assert_eq!(r[5], "ufixed<17, 1>");
    // ||w - s·L||² = 0.25 + 0.25 + 0 + 1 + 0.5625 + 0.0625, ||w||² = 8.125.
    assert_eq!(r[6], format!("{:.4e}", 2.125));
    assert_eq!(r[7], format!("{:.4e}", 2.125 / 8.125));
    // cos = <w, L>/(||w|| ||L||) = 6/(sqrt(8.125)·sqrt(6)).
    let cos = 6.0 / (8.125f64.sqrt() * 6f64.sqrt());
    assert_eq!(r[8], format!("{:.4}", cos.acos().to_degrees()));
    assert_eq!(r[10], format!("{:.4e}", 8.125f64.sqrt() - 6f64.sqrt()));
    assert!(report.contains("param q: bin[2, 3] = load("), "{report}");
    assert!(
        report.contains("param q_scale: ufixed<17, 1> = load("),
        "{report}"
    );
}

#[test]
fn twn_per_tensor_and_per_channel() {
    let (dir, w) = setup();
    let out = dir.path().join("t.npy");
    let report = quantize(&w, &out, &["--method", "twn", "--bits", "2"]);
    // Threshold 0.7·mean|w| = 0.7: 0.5 and -0.25 are dropped.
    assert_eq!(read(&out).values, vec![0.0, -1.0, 1.0, 1.0, 0.0, -1.0]);
    // The mean of 1.5, 1, 2, 0.75.
    assert_eq!(read(&dir.path().join("t.scale.npy")).values, vec![1.3125]);
    assert_eq!(row(&report, "t")[4], "tern");

    let report = quantize(
        &w,
        &out,
        &["--method", "twn", "--bits", "2", "--per-channel"],
    );
    // Channel 0 [0.5, -1.5, 1]: threshold 0.7; channel 1 [2, -0.25, -0.75]: 0.7.
    assert_eq!(read(&out).values, vec![0.0, -1.0, 1.0, 1.0, 0.0, -1.0]);
    let s = read(&dir.path().join("t.scale.npy"));
    assert_eq!(s.shape, vec![2]);
    assert_eq!(s.values, vec![1.25, 1.375]);
    assert_eq!(row(&report, "t")[5], "ufixed<17, 1>[2]");
    assert!(
        report.contains("param t_scale: ufixed<17, 1>[2] = load("),
        "{report}"
    );
}

#[test]
fn round_uses_the_covering_fixed_point_grid() {
    let (dir, w) = setup();
    let out = dir.path().join("r.npy");
    let report = quantize(&w, &out, &["-m", "round", "-b", "4"]);
    // max|w| = 2 → fixed<4, 2>, step 2^(2-4) = 0.25; 2.0/0.25 = 8 saturates to 7.
    assert_eq!(read(&out).values, vec![2.0, -6.0, 4.0, 7.0, -1.0, -3.0]);
    assert_eq!(read(&dir.path().join("r.scale.npy")).values, vec![0.25]);
    assert_eq!(row(&report, "r")[4], "int<4>");
    // Only the saturated 2.0 → 1.75 is off: L2 = 0.0625.
    assert_eq!(row(&report, "r")[6], format!("{:.4e}", 0.0625));
}

/// VecQ, checked against the paper's formulas computed here.
#[test]
fn vecq_levels_are_doubled_half_integers() {
    let (dir, w) = setup();
    let out = dir.path().join("v.npy");
    let w64: Vec<f64> = W.iter().map(|&x| f64::from(x)).collect();
    let n = w64.len() as f64;
    let mean = w64.iter().sum::<f64>() / n;
    let std = (w64.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    for (bits, lambda, ty) in [
        (1u32, 1.0, "bin"),
        (2, 0.9957, "int<3>"),
        (3, 0.5860, "int<4>"),
    ] {
        let report = quantize(&w, &out, &["-m", "vecq", "-b", &bits.to_string()]);
        let half = (1i64 << (bits - 1)) as f64;
        let q: Vec<f64> = w64
            .iter()
            .map(|x| ((x / (std * lambda) - 0.5).round_ties_even()).clamp(-half, half - 1.0) + 0.5)
            .collect();
        let alpha = w64.iter().zip(&q).map(|(a, b)| a * b).sum::<f64>()
            / q.iter().map(|b| b * b).sum::<f64>();
        let l = read(&out);
        assert_eq!(l.dtype, "|i1");
        let doubled: Vec<f64> = q.iter().map(|x| 2.0 * x).collect();
        assert_eq!(l.values, doubled, "{bits} bits");
        let s = read(&dir.path().join("v.scale.npy")).values[0];
        let expect = (alpha / 2.0 * 65536.0).round() / 65536.0;
        assert_eq!(s, expect, "{bits} bits");
        assert_eq!(row(&report, "v")[4], ty);
    }
    // 1 bit: ±0.5 levels, and the scale of ±1 is mean|w| (= 1 here), as BWN.
    quantize(&w, &out, &["-m", "vecq", "-b", "1"]);
    assert_eq!(read(&dir.path().join("v.scale.npy")).values, vec![1.0]);
}

#[test]
fn vecq_eight_bits_needs_int16() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let w = dir.path().join("w.npy");
    let values: Vec<f32> = (0..400)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 7.0)
        .collect();
    write_f32(&w, &[20, 20], &values);
    let out = dir.path().join("v8.npy");
    let report = quantize(&w, &out, &["-m", "vecq", "-b", "8", "--per-channel"]);
    let l = read(&out);
    assert_eq!(l.dtype, "<i2");
    assert_eq!(l.shape, vec![20, 20]);
    assert!(l
        .values
        .iter()
        .all(|&v| v.abs() <= 255.0 && (v as i64) % 2 != 0));
    assert_eq!(read(&dir.path().join("v8.scale.npy")).shape, vec![20]);
    assert_eq!(row(&report, "v8")[4], "int<9>");
}

/// The scale is rounded to 2^-16 and the losses use the rounded scale.
#[test]
fn scale_rounding_and_the_finer_grid() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let w = dir.path().join("w.npy");
    write_f32(&w, &[2], &[0.3, -0.3]);
    let out = dir.path().join("s.npy");
    let report = quantize(&w, &out, &["-m", "bwn", "-b", "1"]);
    let s = read(&dir.path().join("s.scale.npy")).values[0];
    let exact = f64::from(0.3f32);
    assert_eq!(s, (exact * 65536.0).round() / 65536.0);
    assert_ne!(s, exact);
    let r = row(&report, "s");
    assert_eq!(r[5], "ufixed<15, -1>");
    assert_eq!(r[6], format!("{:.4e}", 2.0 * (exact - s).powi(2)));

    // Below 2^-12 the grid gets finer: 1e-5 ≥ 2^-17 keeps 5 significant bits on 2^-21.
    write_f32(&w, &[2], &[1e-5, -1e-5]);
    let report = quantize(&w, &out, &["-m", "bwn", "-b", "1"]);
    let s = read(&dir.path().join("s.scale.npy")).values[0];
    assert_eq!(
        s * f64::from(1u32 << 21),
        (s * f64::from(1u32 << 21)).round()
    );
    assert!((s - 1e-5).abs() <= 0.5 / f64::from(1u32 << 21));
    assert!(report.contains("rounded to multiples of 2^-21"), "{report}");
    assert_eq!(row(&report, "s")[5], "ufixed<5, -16>");

    // --scale-frac changes the grid.
    write_f32(&w, &[2], &[0.3, -0.3]);
    quantize(&w, &out, &["-m", "bwn", "-b", "1", "--scale-frac", "8"]);
    assert_eq!(
        read(&dir.path().join("s.scale.npy")).values,
        vec![77.0 / 256.0]
    );
}

#[test]
fn all_zero_weights_give_zero_scales() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let w = dir.path().join("w.npy");
    write_f32(&w, &[3, 2], &[0.0; 6]);
    for (m, b) in [("vecq", "3"), ("round", "4"), ("bwn", "1"), ("twn", "2")] {
        let out = dir.path().join(format!("{m}.npy"));
        let report = quantize(&w, &out, &["-m", m, "-b", b, "--per-channel"]);
        let s = read(&dir.path().join(format!("{m}.scale.npy")));
        assert_eq!(s.values, vec![0.0; 3], "{m}");
        let r = row(&report, m);
        assert_eq!(r[6], format!("{:.4e}", 0.0), "{m}");
        assert_eq!(r[7], "-", "{m}: no relative loss of a zero tensor");
    }
}

const NET: &str = r#"# a tiny network
param w1: fixed<8, 2>[2, 3] = load("data/w1.npy")
param b1: fixed<8, 2>[2] = load("data/b1.npy")
param w2: fixed<8, 2>[3, 2] = load("data/w2.npy")
param wq: int<4>[2, 2] = load("data/wq.npy")
param s: fixed<8, 2> = 0.5

kernel main() -> fixed<16, 8>:
    return w1[0, 0] + b1[1] + w2[2, 1] + s
"#;

fn script_setup() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("mkdir");
    write_f32(&data.join("w1.npy"), &[2, 3], &W);
    write_f32(&data.join("b1.npy"), &[2], &[0.25, -0.5]);
    write_f32(&data.join("w2.npy"), &[3, 2], &W);
    write_i8(&data.join("wq.npy"), &[2, 2], &[1, -2, 3, 0]);
    let script = dir.path().join("net.kiln");
    std::fs::write(&script, NET).expect("write the script");
    (dir, script)
}

#[test]
fn script_mode_quantizes_the_weights_of_a_script() {
    let (dir, script) = script_setup();
    let sc = path_str(&script);
    let q = dir.path().join("q");
    let qs = path_str(&q);
    let (code, stdout, stderr) = kiln(&[
        "quantize",
        "--script",
        &sc,
        "-m",
        "vecq",
        "-b",
        "3",
        "--per-channel",
        "-o",
        &qs,
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Rank-2 float arrays only: b1 (rank 1) and wq (int8) are skipped.
    assert_eq!(row(&stdout, "w1")[1], "[2, 3]");
    assert_eq!(row(&stdout, "w2")[1], "[3, 2]");
    assert!(stdout.contains("skipped: b1"), "{stdout}");
    assert!(stdout.contains("skipped: wq"), "{stdout}");
    let mut files: Vec<String> = std::fs::read_dir(&q)
        .expect("the output directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["w1.npy", "w1.scale.npy", "w2.npy", "w2.scale.npy"]);
    assert_eq!(read(&q.join("w2.npy")).shape, vec![3, 2]);
    assert_eq!(read(&q.join("w2.scale.npy")).shape, vec![3]);

    // The printed declarations (paths relative to the script) load without a warning.
    let decls: Vec<&str> = stdout
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("param "))
        .collect();
    assert_eq!(decls.len(), 4, "{stdout}");
    assert!(
        decls.contains(&"param w1: int<4>[2, 3] = load(\"q/w1.npy\")"),
        "{stdout}"
    );
    let user = format!(
        "{}\n\nkernel main() -> fixed<32, 8>:\n    return w1_scale[1] * w1[1, 2] + w2_scale[0] * w2[0, 1]\n",
        decls.join("\n")
    );
    let user_script = dir.path().join("user.kiln");
    std::fs::write(&user_script, user).expect("write");
    let (code, stdout, stderr) = kiln(&["check", &path_str(&user_script)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stderr.is_empty(), "warnings: {stderr}");

    // --only: exactly these, a bias too.
    let q2 = dir.path().join("q2");
    let (code, stdout, stderr) = kiln(&[
        "quantize",
        "--script",
        &sc,
        "-m",
        "twn",
        "-b",
        "2",
        "--only",
        "b1,w2",
        "-o",
        &path_str(&q2),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(q2.join("b1.npy").exists() && q2.join("w2.npy").exists());
    assert!(!q2.join("w1.npy").exists());
    assert_eq!(read(&q2.join("b1.npy")).values, vec![0.0, -1.0]);
}

/// Runs kiln and expects exit code 1 with `message` in stderr (and no panic).
fn expect_error(args: &[&str], message: &str) {
    let (code, stdout, stderr) = kiln(args);
    assert_eq!(
        code, 1,
        "kiln {args:?}\n--- stdout\n{stdout}--- stderr\n{stderr}"
    );
    assert!(
        stderr.contains(message),
        "kiln {args:?}: expected `{message}` in\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn errors_are_messages_with_exit_code_one() {
    let (dir, w) = setup();
    let d = |name: &str| path_str(&dir.path().join(name));
    let ws = path_str(&w);
    let out = d("o.npy");
    write_i8(&dir.path().join("int.npy"), &[2], &[1, 2]);
    write_f32(&dir.path().join("empty.npy"), &[0, 3], &[]);
    write_f32(&dir.path().join("scalar.npy"), &[], &[1.0]);
    write_f32(&dir.path().join("nan.npy"), &[2], &[1.0, f32::NAN]);
    std::fs::write(dir.path().join("junk.npy"), "not an array").expect("write");
    write_f32(&dir.path().join("huge.npy"), &[2], &[1e35, 1.0]);
    write_f32(&dir.path().join("tiny.npy"), &[2], &[1e-35, 0.0]);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                d("missing.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "no such file",
        ),
        (
            vec![
                d("int.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "is not a float array",
        ),
        (
            vec![
                d("empty.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "the array is empty",
        ),
        (
            vec![
                d("scalar.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "rank 1 or more",
        ),
        (
            vec![
                d("nan.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "is not finite",
        ),
        (
            vec![
                d("junk.npy"),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
            ],
            "not a valid .npy file",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "9".into(),
            ],
            "--bits must be between 1 and 8",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "round".into(),
                "-b".into(),
                "0".into(),
            ],
            "--bits must be between 1 and 8",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "bwn".into(),
                "-b".into(),
                "2".into(),
            ],
            "bwn quantizes to 1 bit",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "twn".into(),
                "-b".into(),
                "3".into(),
            ],
            "twn quantizes to 2 bits",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "lsq".into(),
                "-b".into(),
                "2".into(),
            ],
            "unknown method `lsq`",
        ),
        (
            vec![
                ws.clone(),
                "-m".into(),
                "vecq".into(),
                "-b".into(),
                "2".into(),
                "--scale-frac".into(),
                "99".into(),
            ],
            "--scale-frac must be between",
        ),
    ];
    for (mut args, message) in cases {
        args.insert(0, "quantize".into());
        args.extend(["-o".into(), out.clone()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        expect_error(&a, message);
        assert!(!Path::new(&out).exists(), "{args:?} wrote {out}");
    }
    // The input itself, or another data file of a script.
    expect_error(
        &["quantize", &ws, "-m", "vecq", "-b", "2", "-o", &ws],
        "would overwrite the input data",
    );
    // An output directory that does not exist.
    expect_error(
        &[
            "quantize",
            &ws,
            "-m",
            "vecq",
            "-b",
            "2",
            "-o",
            &d("no/such/dir/o.npy"),
        ],
        "cannot create",
    );

    // Script mode: `kiln quantize --script S -m vecq -b 2 [extra] -o OUT`.
    let (sdir, script) = script_setup();
    let sc = path_str(&script);
    let o = path_str(&sdir.path().join("o"));
    let script_error = |script: &str, extra: &[&str], out: &str, message: &str| {
        let mut args = vec!["quantize", "--script", script, "-m", "vecq", "-b", "2"];
        args.extend_from_slice(extra);
        args.extend(["-o", out]);
        expect_error(&args, message);
    };
    script_error(&d("none.kiln"), &[], &o, "cannot read");
    script_error(&sc, &["--only", "w9"], &o, "has no parameter `w9`");
    script_error(&sc, &["--only", "wq"], &o, "is not a float array");
    script_error(
        &sc,
        &[],
        &path_str(&sdir.path().join("data")),
        "would overwrite the input data",
    );
    assert_eq!(read(&sdir.path().join("data/w1.npy")).dtype, "<f4");
    std::fs::remove_file(sdir.path().join("data/w2.npy")).expect("rm");
    script_error(&sc, &[], &o, "parameter `w2`: cannot open");
    let broken = sdir.path().join("broken.kiln");
    std::fs::write(&broken, "param w: f32[2] = load(\"w.npy\"\n").expect("write");
    script_error(&path_str(&broken), &[], &o, "cannot be parsed");
    let biases = sdir.path().join("biases.kiln");
    std::fs::write(&biases, "param b: f32[2] = load(\"data/b1.npy\")\n").expect("write");
    script_error(
        &path_str(&biases),
        &[],
        &o,
        "no parameter loaded from a float array of rank 2",
    );
    assert!(!sdir.path().join("o").exists());
}
