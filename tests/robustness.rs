//! Nothing a user controls may panic: random bytes, token soup and mutations of valid
//! programs all go through `kiln::check`, which must return exit code 0 or 1, and code 1
//! must come with at least one `[E....]` diagnostic.
//!
//! The inputs come from a seeded PRNG, so every run checks the same cases. More cases:
//! `KILN_FUZZ_CASES=N` (the case count of each random test; default 300), another seed:
//! `KILN_FUZZ_SEED=S`. A failing input is saved under cargo's target/tmp
//! (`kiln-fuzz-failures/`) and its path is in the failure message.

mod common;

use common::{codes_in, root};
use kiln::{Options, RunSpec};
use std::path::{Path, PathBuf};
use std::process::Command;

// ------------------------------------------------------------------ infrastructure

/// SplitMix64: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Rng {
        let seed = std::env::var("KILN_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0x6b69_6c6e);
        Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// The number of cases of each random test.
fn fuzz_cases() -> usize {
    std::env::var("KILN_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300)
}

fn options() -> Options {
    Options {
        color: false,
        ..Default::default()
    }
}

/// A temporary directory where inputs are written. Each source is written into a
/// subdirectory that mirrors its original's surroundings (data files and modules next to
/// it, `../fixtures`), through symbolic links, so mutated programs still find their data
/// and exercise the stages after the front end.
struct Sandbox {
    dir: tempfile::TempDir,
    count: usize,
    /// Mirror directories, by the original directory they mirror.
    mirrors: std::collections::HashMap<PathBuf, PathBuf>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new()
            .prefix("kiln-fuzz-")
            .tempdir()
            .expect("a temporary directory");
        link(&root().join("tests/fixtures"), &dir.path().join("fixtures"));
        let plain = dir.path().join("plain");
        std::fs::create_dir_all(&plain).expect("a case directory");
        Sandbox {
            dir,
            count: 0,
            mirrors: std::collections::HashMap::new(),
        }
    }

    /// A directory next to `fixtures` that links the data files and subdirectories (data,
    /// modules) of `orig`'s directory.
    fn mirror(&mut self, orig: &Path) -> PathBuf {
        let parent = orig.parent().unwrap_or(Path::new(".")).to_path_buf();
        if let Some(m) = self.mirrors.get(&parent) {
            return m.clone();
        }
        let m = self.dir.path().join(format!("m{}", self.mirrors.len()));
        std::fs::create_dir_all(&m).expect("a mirror directory");
        if let Ok(rd) = std::fs::read_dir(&parent) {
            for e in rd.filter_map(|e| e.ok()) {
                let p = e.path();
                let data = matches!(p.extension().and_then(|x| x.to_str()), Some("npy"));
                if p.is_dir() || data {
                    link(&p, &m.join(e.file_name()));
                }
            }
        }
        self.mirrors.insert(parent, m.clone());
        m
    }

    /// Writes `bytes` as a new `.kiln` file; with `like`, next to links to the files
    /// around `like` (its data, its modules).
    fn write(&mut self, bytes: &[u8], like: Option<&Path>) -> PathBuf {
        self.count += 1;
        let dir = match like {
            Some(orig) => self.mirror(orig),
            None => self.dir.path().join("plain"),
        };
        let file = dir.join(format!("case{}.kiln", self.count));
        std::fs::write(&file, bytes).expect("a case file");
        file
    }
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    let target = target
        .canonicalize()
        .unwrap_or_else(|_| target.to_path_buf());
    let _ = std::os::unix::fs::symlink(target, at);
}

#[cfg(not(unix))]
fn link(target: &Path, at: &Path) {
    if target.is_file() {
        let _ = std::fs::copy(target, at);
    }
}

/// Runs `f` on a thread with a 64 MiB stack, like the `kiln` binary (which uses an even
/// larger one), so that the random inputs test the compiler's logic rather than the
/// 2 MiB default stack of test threads (see `library_survives_long_sums_on_small_stacks`).
/// A panic becomes an error message.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(64 << 20)
            .spawn_scoped(scope, f)
            .expect("a thread")
            .join()
            .map_err(|p| common::panic_message(&*p))
    })
}

/// Checks one file and returns what is wrong with the outcome, if anything.
fn check_file(path: &Path) -> Result<kiln::Outcome, String> {
    let opts = options();
    let o = on_big_stack(|| kiln::check(&[path.to_path_buf()], &opts))?;
    verify_outcome("kiln check", &o)?;
    Ok(o)
}

/// Exit code 0 or 1; code 1 with an error code in stderr; code 0 without one.
fn verify_outcome(what: &str, o: &kiln::Outcome) -> Result<(), String> {
    let errors = codes_in(&o.stderr)
        .iter()
        .filter(|c| c.starts_with('E'))
        .count();
    match o.code {
        0 if errors == 0 => Ok(()),
        0 => Err(format!(
            "{what} exited 0 but reported errors:\n{}",
            o.stderr
        )),
        1 if errors > 0 => Ok(()),
        1 => Err(format!(
            "{what} exited 1 without an [E....] diagnostic; stderr:\n{}",
            o.stderr
        )),
        c => Err(format!("{what} exited {c}; stderr:\n{}", o.stderr)),
    }
}

/// Panics already reported as bugs, each with a regression test below marked `#[ignore]`.
/// The random tests count these instead of failing on them, so that they keep finding new
/// problems; delete an entry when its bug is fixed (and un-ignore its test).
const KNOWN_BUGS: &[(&str, &str)] = &[];

fn known_bug(err: &str) -> Option<&'static str> {
    KNOWN_BUGS
        .iter()
        .find(|(pattern, _)| err.contains("panicked") && err.contains(pattern))
        .map(|(_, what)| *what)
}

/// Collects failures; saves each failing input for reproduction.
struct Failures {
    test: &'static str,
    list: Vec<String>,
    checked: usize,
    known: Vec<&'static str>,
}

impl Failures {
    fn new(test: &'static str) -> Failures {
        Failures {
            test,
            list: Vec::new(),
            checked: 0,
            known: Vec::new(),
        }
    }

    fn record(&mut self, input: &[u8], origin: &str, err: String) {
        if let Some(what) = known_bug(&err) {
            self.known.push(what);
            return;
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kiln-fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let saved = dir.join(format!("{}-{}.kiln", self.test, self.list.len()));
        let _ = std::fs::write(&saved, input);
        let shown: String = String::from_utf8_lossy(input).chars().take(400).collect();
        self.list.push(format!(
            "input from {origin}, saved as {}:\n{shown:?}\n{err}",
            saved.display()
        ));
    }

    fn check_bytes(
        &mut self,
        sandbox: &mut Sandbox,
        bytes: &[u8],
        like: Option<&Path>,
        origin: &str,
    ) -> Option<kiln::Outcome> {
        self.checked += 1;
        let path = sandbox.write(bytes, like);
        match check_file(&path) {
            Ok(o) => Some(o),
            Err(e) => {
                self.record(bytes, origin, e);
                None
            }
        }
    }

    fn finish(mut self) {
        self.known.sort_unstable();
        self.known.dedup();
        eprintln!("{}: {} inputs checked", self.test, self.checked);
        for k in &self.known {
            eprintln!("{}: hit a known bug: {k}", self.test);
        }
        assert!(
            self.list.is_empty(),
            "{} of {} inputs broke kiln:\n\n{}",
            self.list.len(),
            self.checked,
            self.list.join("\n\n")
        );
    }
}

/// Valid programs to mutate: the examples and the test cases that check clean.
fn valid_programs() -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    collect_kiln(&root().join("examples"), &mut files);
    for d in [
        "tests/diagnostics",
        "tests/run",
        "tests/types",
        "tests/parser",
    ] {
        if let Ok(rd) = std::fs::read_dir(root().join(d)) {
            files.extend(
                rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| {
                    p.is_file() && p.extension().and_then(|x| x.to_str()) == Some("kiln")
                }),
            );
        }
    }
    files.sort();
    let opts = options();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            let o = on_big_stack(|| kiln::check(std::slice::from_ref(&p), &opts)).ok()?;
            (o.code == 0).then_some((p, text))
        })
        .collect()
}

fn collect_kiln(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        // The papers' networks take minutes to lower in a debug build (tests/allocation.rs).
        if p.is_dir() && p.ends_with("examples/papers") {
            continue;
        }
        if p.is_dir() {
            collect_kiln(&p, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some("kiln") {
            out.push(p);
        }
    }
}

const KEYWORDS: &[&str] = &[
    "kernel", "param", "type", "const", "return", "for", "in", "if", "elif", "else", "and", "or",
    "not", "lambda", "import", "from", "as", "pass", "True", "False", "def", "while", "break",
    "continue", "int", "uint", "fixed", "ufixed", "bin", "tern", "f32", "bool",
];

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "//", "%", "<<", ">>", "&", "|", "^", "~", "<", "<=", ">", ">=", "==",
    "!=", "=", "+=", "-=", "*=", "/=", "//=", "%=", "<<=", ">>=", "&=", "|=", "^=", "(", ")", "[",
    "]", ",", ":", ".", "->",
];

const NAMES: &[&str] = &[
    "x", "y", "w", "acc", "i", "j", "k", "N", "M", "T", "S", "main", "range", "grid", "sum", "max",
    "min", "abs", "dot", "map", "load", "rnd", "sat", "wrap", "wrap_sm", "trn", "stdlib", "nn",
    "relu", "conv2d", "act", "_",
];

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "8",
    "16",
    "128",
    "1024",
    "-1",
    "0.5",
    ".25",
    "3.",
    "1e-3",
    "0.1",
    "0xff",
    "0b1010",
    "1_000",
    "340282366920938463463374607431768211455",
    "340282366920938463463374607431768211456",
    "\"x.npy\"",
    "'../fixtures/i8_4.npy'",
    "\"unterminated",
];

const LAYOUT: &[&str] = &[
    "\n",
    "\n    ",
    "\n        ",
    "\n  ",
    " ",
    " ",
    " ",
    "\t",
    "\\\n",
    "# c\n",
    "\r\n",
];

/// A snippet of kiln-looking text.
fn soup_token(rng: &mut Rng) -> &'static str {
    match rng.below(10) {
        0..=1 => rng.pick(KEYWORDS),
        2..=4 => rng.pick(OPERATORS),
        5..=6 => rng.pick(NAMES),
        7 => rng.pick(NUMBERS),
        _ => rng.pick(LAYOUT),
    }
}

// ------------------------------------------------------------------ random inputs

#[test]
fn random_bytes_never_break_check() {
    let mut rng = Rng::new(1);
    let mut sandbox = Sandbox::new();
    let mut failures = Failures::new("random_bytes");
    for case in 0..fuzz_cases() {
        let len = rng.below(300);
        let bytes: Vec<u8> = match case % 3 {
            // Any byte.
            0 => (0..len).map(|_| rng.next() as u8).collect(),
            // Printable ASCII and line breaks.
            1 => (0..len)
                .map(|_| match rng.below(12) {
                    0 => b'\n',
                    1 => b' ',
                    _ => 0x20 + rng.below(95) as u8,
                })
                .collect(),
            // Printable text with some multi-byte characters.
            _ => {
                let s: String = (0..len)
                    .map(|_| {
                        rng.pick(&[
                            'a', 'é', '∑', '\n', ' ', '(', ')', ':', '😀', '\u{0}', '\u{feff}',
                            '=', '1',
                        ])
                    })
                    .collect();
                s.into_bytes()
            }
        };
        failures.check_bytes(
            &mut sandbox,
            &bytes,
            None,
            &format!("random bytes, case {case}"),
        );
    }
    failures.finish();
}

#[test]
fn token_soup_never_breaks_check() {
    let mut rng = Rng::new(2);
    let mut sandbox = Sandbox::new();
    let mut failures = Failures::new("token_soup");
    for case in 0..fuzz_cases() {
        let mut s = String::new();
        // Half the cases start like a kernel, so the soup reaches the parser's insides.
        if case % 2 == 0 {
            s.push_str(rng.pick(&[
                "kernel main(x: int<8>[4]) -> int<8>[4]:\n    ",
                "kernel f[T](x: T[N], n: const = 2) -> [N]:\n    y = ",
                "param w: int<8>[4] = load(\"../fixtures/i8_4.npy\")\nkernel main(x: int<8>[4]) -> int<16>:\n    return ",
                "type t = fixed<8, 4, ",
                "from stdlib.nn import ",
            ]));
        }
        for _ in 0..rng.below(60) + 1 {
            s.push_str(soup_token(&mut rng));
            if rng.chance(60) {
                s.push(' ');
            }
        }
        failures.check_bytes(
            &mut sandbox,
            s.as_bytes(),
            None,
            &format!("token soup, case {case}"),
        );
    }
    failures.finish();
}

// ------------------------------------------------------------------ mutations

/// One random edit of a program's text.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        return text.to_string();
    }
    let n = lines.len();
    match rng.below(12) {
        9..=11 => {
            // Replace one word or number by another of the same kind: keeps most programs
            // parseable, so the mutation reaches type inference, lowering and the passes.
            let i = rng.below(n);
            let words: Vec<(usize, usize)> = word_spans(&lines[i]);
            if !words.is_empty() {
                let (a, b) = words[rng.below(words.len())];
                let old = &lines[i][a..b];
                let new = if old.as_bytes()[0].is_ascii_digit() {
                    rng.pick(&[
                        "0", "1", "2", "3", "4", "7", "8", "9", "15", "16", "17", "31", "32", "33",
                        "63", "64", "127", "128", "129", "255", "1024", "1025", "100000",
                    ])
                } else {
                    match rng.below(3) {
                        0 => rng.pick(KEYWORDS),
                        1 => rng.pick(NAMES),
                        _ => rng.pick(&[
                            "i", "j", "k", "x", "y", "w", "N", "M", "K", "C", "H", "W", "acc",
                            "int", "uint", "fixed", "ufixed", "tern", "bin", "f32", "bool", "sum",
                            "max", "min", "rnd", "sat", "wrap", "trn", "sat_sym", "wrap_sm",
                            "rnd_conv", "range", "grid",
                        ]),
                    }
                };
                lines[i].replace_range(a..b, new);
            }
        }
        0 => {
            lines.remove(rng.below(n));
        }
        1 => {
            let i = rng.below(n);
            let l = lines[i].clone();
            lines.insert(i, l);
        }
        2 => {
            let (a, b) = (rng.below(n), rng.below(n));
            lines.swap(a, b);
        }
        3 => {
            // Re-indent a line.
            let i = rng.below(n);
            let body = lines[i].trim_start().to_string();
            lines[i] = format!("{}{body}", " ".repeat(rng.below(13)));
        }
        4 => {
            // Insert a token soup line.
            let i = rng.below(n + 1);
            let indent = " ".repeat(4 * rng.below(3));
            let mut s = indent;
            for _ in 0..rng.below(6) + 1 {
                s.push_str(soup_token(rng));
                s.push(' ');
            }
            lines.insert(i, s);
        }
        _ => {
            // Character edits: flip, delete, or insert characters inside one line.
            let i = rng.below(n);
            let mut chars: Vec<char> = lines[i].chars().collect();
            for _ in 0..rng.below(3) + 1 {
                let at = rng.below(chars.len() + 1);
                match rng.below(3) {
                    0 if at < chars.len() => {
                        chars[at] = rng.pick(&[
                            '(', ')', '[', ']', ':', ',', '0', '9', 'x', ' ', '-', '*', '.', '"',
                            '\t', '#', '<', '>', '=',
                        ]);
                    }
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ => {
                        for c in soup_token(rng).chars() {
                            chars.insert(at.min(chars.len()), c);
                        }
                    }
                }
            }
            lines[i] = chars.into_iter().collect();
        }
    }
    let mut out = lines.join("\n");
    out.push('\n');
    out
}

/// Byte ranges of the words and numbers of a line.
fn word_spans(line: &str) -> Vec<(usize, usize)> {
    let b = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() || b[i] == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

#[test]
fn mutated_programs_never_break_check() {
    let programs = valid_programs();
    assert!(
        programs.len() >= 10,
        "expected valid programs under examples/ and tests/, found {}",
        programs.len()
    );
    let mut rng = Rng::new(3);
    let mut sandbox = Sandbox::new();
    let mut failures = Failures::new("mutations");
    let mut ran = 0;
    for case in 0..fuzz_cases() * 2 {
        let (path, text) = &programs[rng.below(programs.len())];
        let mut m = text.clone();
        for _ in 0..rng.below(3) + 1 {
            m = mutate(&mut rng, &m);
        }
        let origin = format!("a mutation of {} (case {case})", path.display());
        let Some(o) = failures.check_bytes(&mut sandbox, m.as_bytes(), Some(path), &origin) else {
            continue;
        };
        // Mutants that still check clean also run, when they are small test programs.
        let small = [
            "tests/run",
            "tests/types",
            "examples/pylog",
            "examples/gemm",
        ]
        .iter()
        .any(|d| path.starts_with(root().join(d)));
        if o.code == 0 && small && ran < 100 {
            ran += 1;
            let file = sandbox.write(m.as_bytes(), Some(path));
            let opts = options();
            let spec = RunSpec::default();
            match on_big_stack(|| kiln::run(&file, &spec, None, &opts)) {
                Ok(r) => {
                    if let Err(e) = verify_outcome("kiln run", &r) {
                        failures.record(m.as_bytes(), &origin, e);
                    }
                }
                Err(p) => failures.record(m.as_bytes(), &origin, format!("kiln run {p}")),
            }
        }
    }
    eprintln!("mutations: {ran} clean mutants also ran");
    failures.finish();
}

#[test]
fn every_prefix_of_a_program_is_handled() {
    let path = root().join("tests/diagnostics/clean_program.kiln");
    let text = std::fs::read_to_string(&path).expect("tests/diagnostics/clean_program.kiln");
    let mut sandbox = Sandbox::new();
    let mut failures = Failures::new("prefixes");
    for (i, _) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        let prefix = &text[..i];
        failures.check_bytes(
            &mut sandbox,
            prefix.as_bytes(),
            Some(&path),
            &format!("the first {i} bytes of {}", path.display()),
        );
    }
    failures.finish();
}

// ------------------------------------------------------------------ special files

fn check_expecting(path: &Path, code: i32, wanted: &[&str]) {
    let o = check_file(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(o.code, code, "{}: stderr:\n{}", path.display(), o.stderr);
    for w in wanted {
        assert!(
            o.stderr.contains(w),
            "{}: expected `{w}` in stderr:\n{}",
            path.display(),
            o.stderr
        );
    }
}

#[test]
fn special_files() {
    let mut sandbox = Sandbox::new();
    // Not UTF-8: E0113.
    let f = sandbox.write(
        b"kernel f(x: int<8>) -> int<8>:\n    return x # \xff\xfe\n",
        None,
    );
    check_expecting(&f, 1, &["[E0113]"]);
    // Empty and blank: E0112.
    let f = sandbox.write(b"", None);
    check_expecting(&f, 1, &["[E0112]"]);
    let f = sandbox.write(b"\n  \n\n", None);
    check_expecting(&f, 1, &["[E0112]"]);
    // Only comments: a valid, empty module.
    let f = sandbox.write(b"# one\n   # two\n\n# three", None);
    check_expecting(&f, 0, &[]);
    // A directory and a missing file: E0209.
    check_expecting(sandbox.dir.path(), 1, &["[E0209]"]);
    check_expecting(
        &sandbox.dir.path().join("no-such-file.kiln"),
        1,
        &["[E0209]", "no such file"],
    );
    // A byte-order mark and NUL bytes must not crash anything.
    let f = sandbox.write(
        "\u{feff}kernel f(x: int<8>) -> int<8>:\n    return x\n".as_bytes(),
        None,
    );
    check_file(&f).unwrap();
    let f = sandbox.write(b"kernel f(x: int<8>) -> int<8>:\n    return x\0\n", None);
    check_file(&f).unwrap();
}

#[test]
fn crlf_line_endings_check_clean() {
    let mut sandbox = Sandbox::new();
    for rel in [
        "examples/gemm/gemm.kiln",
        "tests/diagnostics/clean_program.kiln",
        "examples/pylog/map_dot.kiln",
    ] {
        let path = root().join(rel);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
        let f = sandbox.write(crlf.as_bytes(), Some(&path));
        let o = check_file(&f).unwrap_or_else(|e| panic!("{rel} with CRLF: {e}"));
        assert_eq!(
            (o.code, o.stderr.as_str()),
            (0, ""),
            "{rel} with CRLF line endings does not check clean"
        );
    }
}

/// Deeply nested inputs go through the real binary: a stack overflow aborts the process,
/// which the test sees as a signal or an exit code other than 0 or 1.
fn check_with_binary(sandbox: &mut Sandbox, what: &str, src: &str) -> Result<(), String> {
    let f = sandbox.write(src.as_bytes(), None);
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["check", "--color", "never"])
        .arg(&f)
        .output()
        .map_err(|e| format!("cannot start kiln: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    match out.status.code() {
        Some(0) | Some(1) => Ok(()),
        other => Err(format!(
            "{what}: kiln check ended with {other:?} (a signal if None); stderr:\n{}",
            stderr.chars().take(2000).collect::<String>()
        )),
    }
}

#[test]
fn deeply_nested_sources_do_not_overflow_the_stack() {
    let mut sandbox = Sandbox::new();
    let n = 500;
    let cases = [
        (
            "500 nested parentheses",
            format!(
                "kernel main(x: int<8>) -> int<8>:\n    y = {}x{}\n    return y\n",
                "(".repeat(n),
                ")".repeat(n)
            ),
        ),
        (
            "500 nested negations",
            format!(
                "kernel main(x: int<8>) -> int<8>:\n    y = {}x\n    return y\n",
                "- ".repeat(n)
            ),
        ),
        (
            "500 nested `not`",
            format!(
                "kernel main(x: bool) -> bool:\n    y = {}x\n    return y\n",
                "not ".repeat(n)
            ),
        ),
        (
            "a sum of 5000 terms",
            format!(
                "kernel main(x: int<8>) -> int<32>:\n    y = {}\n    return y\n",
                vec!["x"; 5000].join(" + ")
            ),
        ),
        (
            "500 nested conditional expressions",
            format!(
                "kernel main(x: int<8>, c: bool) -> int<8>:\n    y = {}x\n    return y\n",
                "x if c else ".repeat(n)
            ),
        ),
        (
            "500 nested index expressions",
            format!(
                "kernel main(x: int<8>[4]) -> int<8>:\n    y = {}0{}\n    return y\n",
                "x[".repeat(n),
                "]".repeat(n)
            ),
        ),
        (
            "500 nested calls",
            format!(
                "kernel main(x: int<8>) -> int<8>:\n    y = {}x{}\n    return y\n",
                "abs(".repeat(n),
                ")".repeat(n)
            ),
        ),
        ("200 nested blocks", {
            let mut s = String::from("kernel main(x: int<8>) -> int<8>:\n    y = 0\n");
            for d in 1..=200 {
                s.push_str(&format!("{}if x > {d}:\n", "    ".repeat(d)));
            }
            s.push_str(&format!("{}y = 1\n    return y\n", "    ".repeat(201)));
            s
        }),
        (
            "500 unclosed brackets",
            format!(
                "kernel main(x: int<8>) -> int<8>:\n    y = {}x\n    return y\n",
                "([".repeat(n)
            ),
        ),
    ];
    let mut failures = Vec::new();
    for (what, src) in &cases {
        if let Err(e) = check_with_binary(&mut sandbox, what, src) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

// ------------------------------------------------------------------ known bugs

/// Regression: a kernel whose result is a declared local tensor that nothing writes is
/// E0704 at compile time (it made the IR verifier panic).
#[test]
fn unwritten_result_is_a_diagnostic() {
    let mut sandbox = Sandbox::new();
    let f = sandbox.write(
        b"kernel f(x: int<8>[4]) -> int<8>[4]:\n    y: int<8>[4]\n    return y\n",
        None,
    );
    check_file(&f).unwrap();
}

/// Regression: the library API must not overflow the stack of an ordinary thread (2 MiB,
/// the default for spawned and test threads) on a sum of a few hundred terms (the driver
/// runs the compiler on its own large stack). The check runs in a child process, since an
/// overflow aborts the process.
#[test]
fn library_survives_long_sums_on_small_stacks() {
    if std::env::var_os("KILN_STACK_CHILD").is_some() {
        let mut sandbox = Sandbox::new();
        let src = format!(
            "kernel main(x: int<8>) -> int<32>:\n    y = {}\n    return y\n",
            vec!["x"; 300].join(" + ")
        );
        let f = sandbox.write(src.as_bytes(), None);
        let code = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || kiln::check(&[f], &options()).code)
            .expect("a thread")
            .join()
            .expect("no panic");
        assert_eq!(code, 0);
        return;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "library_survives_long_sums_on_small_stacks",
            "--nocapture",
        ])
        .env("KILN_STACK_CHILD", "1")
        .output()
        .expect("the test binary runs");
    assert!(
        out.status.success(),
        "kiln::check on a 2 MiB stack ended with {:?}:\n{}",
        out.status,
        text_tail(&out.stderr)
    );
}

fn text_tail(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
