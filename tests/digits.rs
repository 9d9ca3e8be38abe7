//! examples/digits: the CNN trained on scikit-learn's 8x8 digits (train.py), in f32
//! (digits.kiln) and quantized (digits_q.kiln with levels from `kiln quantize`).
//!
//! - the float example's printed accuracy is the one train.py computed with numpy
//!   (data/summary.json: the float32 pass in kiln's order of operations);
//! - a quantized configuration (VecQ 2-bit weights, 4-bit activations) gives the same
//!   results on the interpreter and the JIT (the first 60 held-out images);
//! - the committed ELB-NN hybrid and that VecQ configuration pass C-simulation bit for bit
//!   (on the first 60 test images), when the ap_types headers can be found.

mod common;

use common::kiln;
use std::path::{Path, PathBuf};

const DIGITS: &str = "examples/digits";

fn scratch(tag: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("digits-{tag}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("create scratch directory");
    d
}

/// The value printed for the `accuracy` result: `accuracy: f32` then `  [X]` (or `  X`
/// with `--full`).
fn printed_accuracy(stdout: &str) -> Option<String> {
    let mut lines = stdout.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "accuracy: f32" {
            let v = lines.next()?.trim();
            let v = v
                .strip_prefix('[')
                .and_then(|v| v.strip_suffix(']'))
                .unwrap_or(v);
            return Some(v.to_string());
        }
    }
    None
}

/// A string field of data/summary.json (a flat lookup: `"key": "value"`).
fn summary_str(key: &str) -> String {
    let text =
        std::fs::read_to_string(format!("{DIGITS}/data/summary.json")).expect("summary.json");
    let pat = format!("\"{key}\": \"");
    let start = text
        .find(&pat)
        .unwrap_or_else(|| panic!("{key} not in summary.json"))
        + pat.len();
    let end = text[start..].find('"').expect("closing quote") + start;
    text[start..end].to_string()
}

#[test]
fn float_example_prints_numpys_accuracy() {
    let (code, out, err) = kiln(&["run", &format!("{DIGITS}/digits.kiln")]);
    assert_eq!(code, 0, "{err}");
    let acc = printed_accuracy(&out).unwrap_or_else(|| panic!("no accuracy printed:\n{out}"));
    assert_eq!(acc, summary_str("float32_kiln_order_accuracy_str"), "{out}");
    let value: f64 = acc.parse().expect("a number");
    assert!(value > 0.9, "accuracy {value}");
}

/// The committed quantized script's activation types are train.py's calibration for 4 bits
/// (data/summary.json: `activation_int_bits`).
#[test]
fn committed_activation_types_follow_the_calibration() {
    let template =
        std::fs::read_to_string(format!("{DIGITS}/digits_q.kiln")).expect("digits_q.kiln");
    let summary =
        std::fs::read_to_string(format!("{DIGITS}/data/summary.json")).expect("summary.json");
    // "4": [\n      2,\n      3,\n      5\n    ]
    let start = summary.find("\"4\": [").expect("4-bit calibration") + 6;
    let end = summary[start..].find(']').expect("closing bracket") + start;
    let ibits: Vec<String> = summary[start..end]
        .split(',')
        .map(|v| v.trim().to_string())
        .collect();
    assert_eq!(ibits.len(), 3, "{ibits:?}");
    for (i, ib) in ibits.iter().enumerate() {
        let line = format!("type A{} = ufixed<4, {ib}, rnd, sat>", i + 1);
        assert!(
            template.lines().any(|l| l.starts_with(&line)),
            "digits_q.kiln should declare `{line}`"
        );
    }
}

/// digits_q.kiln with its configuration block replaced and its loads pointing at `qdir`
/// (levels) and at examples/digits/data.
fn quantized_script(wtypes: [&str; 4], atypes: [&str; 3], qdir: &Path) -> String {
    let template =
        std::fs::read_to_string(format!("{DIGITS}/digits_q.kiln")).expect("digits_q.kiln");
    let data = common::root().join(DIGITS).join("data");
    let mut out = String::new();
    for line in template.lines() {
        let mut line = line.to_string();
        for (i, t) in wtypes.iter().enumerate() {
            if line.starts_with(&format!("type W{} = ", i + 1)) {
                line = format!("type W{} = {t}", i + 1);
            }
        }
        for (i, t) in atypes.iter().enumerate() {
            if line.starts_with(&format!("type A{} = ", i + 1)) {
                line = format!("type A{} = {t}", i + 1);
            }
        }
        let line = line
            .replace("load(\"q/", &format!("load(\"{}/", qdir.display()))
            .replace("load(\"data/", &format!("load(\"{}/", data.display()));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// VecQ 2-bit levels (`int<3>`) for every weight layer, 4-bit activations (the integer
/// bits digits_q.kiln has, from train.py's calibration): the script's path.
fn vecq2_script(dir: &Path) -> PathBuf {
    let q = dir.join("q");
    let (code, out, err) = kiln(&[
        "quantize",
        "--script",
        &format!("{DIGITS}/digits.kiln"),
        "--method",
        "vecq",
        "--bits",
        "2",
        "-o",
        &q.to_string_lossy(),
    ]);
    assert_eq!(code, 0, "kiln quantize failed:\n{out}{err}");
    let template =
        std::fs::read_to_string(format!("{DIGITS}/digits_q.kiln")).expect("digits_q.kiln");
    let act = |i: usize| -> String {
        let key = format!("type A{i} = ");
        let line = template
            .lines()
            .find(|l| l.starts_with(&key))
            .expect("activation type");
        line[key.len()..]
            .split('#')
            .next()
            .unwrap()
            .trim()
            .to_string()
    };
    let (a1, a2, a3) = (act(1), act(2), act(3));
    let text = quantized_script(["int<3>"; 4], [&a1, &a2, &a3], &q);
    let path = dir.join("vecq2.kiln");
    std::fs::write(&path, text).expect("write script");
    path
}

fn head_inputs() -> [String; 4] {
    [
        "--input".into(),
        format!("x={DIGITS}/data/x_head.npy"),
        "--input".into(),
        format!("labels={DIGITS}/data/y_head.npy"),
    ]
}

#[test]
fn quantized_network_same_on_interpreter_and_jit() {
    let dir = scratch("engines");
    let script = vecq2_script(&dir);
    let s = script.to_string_lossy().into_owned();
    let mut outs = Vec::new();
    for engine in ["interp", "jit"] {
        let out_dir = dir.join(format!("out-{engine}"));
        let od = out_dir.to_string_lossy().into_owned();
        // The first 60 test images (the whole set takes 15 s on a debug build's interpreter;
        // tests/examples.rs runs the committed hybrid on all 540 with both engines).
        let mut args: Vec<String> = vec!["run".into(), s.clone(), "--engine".into(), engine.into()];
        args.extend(head_inputs());
        args.extend(["--full".into(), "--out".into(), od]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = kiln(&args);
        assert_eq!(code, 0, "{engine}: {err}");
        assert!(
            !err.contains("W0802"),
            "levels changed by their types: {err}"
        );
        assert!(printed_accuracy(&out).is_some(), "{out}");
        let pred = std::fs::read(out_dir.join("predicted.npy")).expect("predicted.npy");
        let acc = std::fs::read(out_dir.join("accuracy.npy")).expect("accuracy.npy");
        let printed: String = out
            .lines()
            .filter(|l| !l.contains("written to"))
            .map(|l| format!("{l}\n"))
            .collect();
        outs.push((printed, pred, acc));
    }
    assert_eq!(outs[0], outs[1], "interpreter and JIT differ");
}

#[test]
fn quantized_networks_pass_csim() {
    if let Err(e) = kiln::csim::find_ap_types(None) {
        eprintln!("skipped: no ap_types headers for C-simulation ({e})");
        return;
    }
    let dir = scratch("csim");
    let vecq = vecq2_script(&dir).to_string_lossy().into_owned();
    let hybrid = format!("{DIGITS}/digits_q.kiln");
    let cases = [("hybrid", hybrid), ("vecq2", vecq)];
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(tag, file)| {
                let proj = dir
                    .join(format!("hls-{tag}"))
                    .to_string_lossy()
                    .into_owned();
                s.spawn(move || {
                    let mut args: Vec<String> =
                        vec!["hls".into(), file.clone(), "-o".into(), proj.clone()];
                    args.extend(head_inputs());
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    let (code, _, err) = kiln(&args);
                    if code != 0 {
                        return Err(format!("kiln hls {file} failed:\n{err}"));
                    }
                    let (code, out, err) = kiln(&["csim", &proj]);
                    if code != 0 || out.trim() != "PASS" {
                        return Err(format!("kiln csim for {file} failed:\n{out}{err}"));
                    }
                    eprintln!("{file}: {}", err.trim());
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
