//! Shared helpers of kiln's integration tests: golden files and test cases.
//!
//! A golden file holds the expected output of one test case. [`check_golden`] compares an
//! output with its golden file and fails with a unified diff; with `KILN_BLESS=1` in the
//! environment it (re)writes the file instead:
//!
//! ```text
//! KILN_BLESS=1 cargo test --test golden_diagnostics
//! ```
//!
//! A [`Suite`] runs every case of one directory (`tests/lexer/*.kiln`, ...) and reports all
//! mismatches at once, so one run shows (or blesses) everything that changed.
//!
//! Cargo runs integration tests with the package root as the working directory, so cases
//! use relative paths (`tests/diagnostics/foo.kiln`) and diagnostics show those. Absolute
//! paths that still end up in outputs (the checkout, a temporary directory) are replaced
//! by placeholders by [`normalize`].

#![allow(dead_code)]

use similar::TextDiff;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Whether goldens are (re)written instead of compared: `KILN_BLESS=1`.
pub fn blessing() -> bool {
    matches!(std::env::var("KILN_BLESS").as_deref(), Ok(v) if !v.is_empty() && v != "0")
}

/// The package root (where Cargo.toml is).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Replaces machine-dependent text: the checkout's absolute path becomes `$ROOT`, the
/// system's temporary directory `$TMP`, Windows line endings and path separators are
/// unified.
pub fn normalize(text: &str) -> String {
    let mut s = text.replace("\r\n", "\n");
    let root = root();
    let mut roots = vec![root.display().to_string()];
    if let Ok(c) = root.canonicalize() {
        roots.push(c.display().to_string());
    }
    // Longest first, so a canonical path that extends another one is replaced whole.
    roots.sort_by_key(|r| std::cmp::Reverse(r.len()));
    for r in &roots {
        if !r.is_empty() && r != "/" {
            s = s.replace(r.as_str(), "$ROOT");
        }
    }
    let tmp = std::env::temp_dir();
    let mut tmps = vec![tmp.display().to_string()];
    if let Ok(c) = tmp.canonicalize() {
        tmps.push(c.display().to_string());
    }
    tmps.sort_by_key(|r| std::cmp::Reverse(r.len()));
    for t in &tmps {
        let t = t.trim_end_matches('/');
        if !t.is_empty() {
            s = s.replace(t, "$TMP");
        }
    }
    if cfg!(windows) {
        s = s.replace('\\', "/");
    }
    mask_available_memory(&s)
}

/// E0706 says how much memory this machine has available (`only 21.3 GiB is
/// available`): shown as `$AVAILABLE` so goldens do not depend on the machine.
fn mask_available_memory(text: &str) -> String {
    const END: &str = " is available";
    let mut out = String::new();
    let mut rest = text;
    while let Some(end) = rest.find(END) {
        let head = &rest[..end];
        match head.rfind("only ") {
            Some(start) if end - start < 24 => {
                out.push_str(&head[..start]);
                out.push_str("only $AVAILABLE");
            }
            _ => out.push_str(head),
        }
        out.push_str(END);
        rest = &rest[end + END.len()..];
    }
    out.push_str(rest);
    out
}

/// Compares `actual` (normalized) with the golden file `path`; with `KILN_BLESS=1`
/// (re)writes the file. Returns a readable report on mismatch.
pub fn compare_golden(path: &Path, actual: &str) -> Result<(), String> {
    let actual = normalize(actual);
    if blessing() {
        let old = std::fs::read_to_string(path).ok();
        if old.as_deref() != Some(actual.as_str()) {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(path, &actual)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("blessed {}", path.display());
        }
        return Ok(());
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(e) => e.replace("\r\n", "\n"),
        Err(e) => {
            return Err(format!(
                "golden file {} cannot be read ({e}); the output is:\n{}",
                path.display(),
                indent(&actual),
            ))
        }
    };
    if expected == actual {
        return Ok(());
    }
    let diff = TextDiff::from_lines(&expected, &actual);
    let mut report = format!(
        "golden file {} does not match (- expected, + actual):\n",
        path.display()
    );
    let udiff = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("{} (golden)", path.display()), "actual output")
        .to_string();
    report.push_str(&udiff);
    if !udiff.ends_with('\n') {
        report.push('\n');
    }
    if expected.trim_end() == actual.trim_end() {
        report.push_str("(the outputs differ only in trailing newlines)\n");
    }
    Err(report)
}

/// Like [`compare_golden`], panicking on mismatch.
pub fn check_golden(path: &Path, actual: &str) {
    if let Err(e) = compare_golden(path, actual) {
        panic!("{e}{}", bless_hint());
    }
}

/// How to re-bless the goldens of the running test binary.
fn bless_hint() -> String {
    // Integration test binaries are named `NAME-HASH`.
    let name = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .and_then(|s| s.rsplit_once('-').map(|(n, _)| n.to_string()))
        .unwrap_or_else(|| "<this test>".into());
    format!(
        "if the new output is right, bless it: KILN_BLESS=1 cargo test --test {name}\n\
         (then review the changes with `git diff tests/`)\n"
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

/// A directory of golden test cases: every `*.{ext}` file directly in `dir` is a case.
pub struct Suite {
    pub dir: PathBuf,
    input_ext: String,
    /// Extensions of the golden files produced, to find stale ones.
    output_exts: Vec<String>,
    failures: Vec<String>,
    checked: usize,
}

impl Suite {
    /// `dir` is relative to the package root, e.g. `tests/lexer`.
    pub fn new(dir: &str, input_ext: &str) -> Suite {
        Suite {
            dir: PathBuf::from(dir),
            input_ext: input_ext.to_string(),
            output_exts: Vec::new(),
            failures: Vec::new(),
            checked: 0,
        }
    }

    /// The cases, sorted by name: relative paths like `tests/lexer/indent.kiln`. A
    /// directory with the extension is a case too (to pass a directory as a file).
    pub fn cases(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(&self.dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", self.dir.display()))
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(&self.input_ext))
            .collect();
        v.sort();
        assert!(
            !v.is_empty(),
            "no *.{} cases in {}",
            self.input_ext,
            self.dir.display()
        );
        v
    }

    /// Compares `actual` with the golden file next to `case` with extension `ext`.
    pub fn check(&mut self, case: &Path, ext: &str, actual: &str) {
        if !self.output_exts.iter().any(|e| e == ext) {
            self.output_exts.push(ext.to_string());
        }
        self.checked += 1;
        let golden = case.with_extension(ext);
        if let Err(e) = compare_golden(&golden, actual) {
            self.failures.push(e);
        }
    }

    /// Records a failure that is not a golden mismatch (a wrong exit code, a panic).
    pub fn fail(&mut self, case: &Path, message: impl AsRef<str>) {
        self.failures
            .push(format!("{}: {}\n", case.display(), message.as_ref()));
    }

    /// Panics with every failure, and with golden files that belong to no case.
    pub fn finish(mut self) {
        for ext in self.output_exts.clone() {
            let Ok(rd) = std::fs::read_dir(&self.dir) else {
                continue;
            };
            let mut stale: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ext.as_str()))
                .filter(|p| !p.with_extension(&self.input_ext).exists())
                .collect();
            stale.sort();
            for p in stale {
                self.failures.push(format!(
                    "{} is a golden file of no case (no {} next to it): delete it\n",
                    p.display(),
                    p.with_extension(&self.input_ext).display()
                ));
            }
        }
        if self.failures.is_empty() {
            return;
        }
        let mut msg = format!(
            "{} problem(s) in {} ({} golden file(s) checked):\n\n",
            self.failures.len(),
            self.dir.display(),
            self.checked
        );
        for f in &self.failures {
            let _ = writeln!(msg, "{f}");
        }
        msg.push_str(&bless_hint());
        panic!("{msg}");
    }
}

/// Runs `f`, turning a panic into an error message (so one panicking case does not hide
/// the others).
pub fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| panic_message(&*p))
}

pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = p.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// Every `[E....]` / `[W....]` code in a text.
pub fn codes_in(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len() {
        if b[i] == b'['
            && i + 6 < b.len()
            && (b[i + 1] == b'E' || b[i + 1] == b'W')
            && b[i + 2..i + 6].iter().all(u8::is_ascii_digit)
            && b[i + 6] == b']'
        {
            out.push(text[i + 1..i + 6].to_string());
        }
    }
    out
}

/// Runs the `kiln` binary: (exit code, stdout, stderr).
pub fn kiln(args: &[&str]) -> (i32, String, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .output()
        .expect("run kiln");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The inputs of tests/rtl/packed_products.kiln (512 samples, the extremes of every
/// operand first), written into `dir`: `NAME=FILE.npy` for `--input`.
pub fn packed_product_inputs(dir: &Path) -> Vec<String> {
    let n = 512i64;
    let mut x: Vec<i64> = (0..n).map(|i| (i * 37) % 256).collect();
    let mut s: Vec<i64> = (0..n).map(|i| (i * 53) % 256 - 128).collect();
    let mut w: Vec<i64> = (0..n)
        .flat_map(|i| [(i * 11) % 256 - 128, (i * 29 + 7) % 256 - 128])
        .collect();
    x[..4].copy_from_slice(&[0, 255, 128, 127]);
    s[..4].copy_from_slice(&[-128, 127, 0, -1]);
    w[..8].copy_from_slice(&[-128, 127, 127, -128, -128, -128, 127, 127]);
    let mut args = Vec::new();
    for (name, shape, values) in [
        ("x", vec![512], x),
        ("s", vec![512], s),
        ("w", vec![512, 2], w),
    ] {
        let t = kiln_passes::data::TensorValue {
            elem: kiln_numeric::ScalarType::F32,
            shape,
            values: values
                .iter()
                .map(|&v| kiln_passes::value::Value::F32(v as f32))
                .collect(),
        };
        let path = dir.join(format!("{name}.npy"));
        kiln::npy::write(&path, &t).expect("write");
        args.push(format!("{name}={}", path.display()));
    }
    args
}
