//! `kiln csim DIR`: C-simulation of a project written by `kiln hls`.
//!
//! The project's `*.cpp` files (the kernel and its testbench, which has `main`) are
//! compiled with g++ against the Xilinx `ap_types` headers and the testbench is run with
//! the project directory as its working directory (it reads its data files from there).
//! The testbench prints `PASS` or its first mismatches and exits non-zero on a mismatch.
//!
//! The headers are found by [`find_ap_types`]: `--ap-types DIR`, else `KILN_AP_TYPES`,
//! else the cache `${KILN_CACHE_DIR:-$HOME/.cache/kiln}/ap_types/hls4ml-1.3.0/ap_types`,
//! else they are fetched into that cache from the hls4ml 1.3.0 wheel on PyPI with pip (the
//! same steps as scripts/fetch-ap-types.sh, so the binary works outside the repository).
//!
//! The compile is strict (`-Wall -Wextra -Werror`) for the project's own code; the headers
//! are included with `-isystem`, which silences the many warnings they raise in their own
//! templates. GCC still reports `-Wuninitialized`/`-Wmaybe-uninitialized` from header code
//! inlined into the project's functions (the default constructors read the value they
//! mask); a project silences those by wrapping its `#include <ap_fixed.h>` in
//! `#pragma GCC diagnostic push`/`ignored "-Wuninitialized"`/`ignored
//! "-Wmaybe-uninitialized"`/`pop`.

use crate::Outcome;
use kiln_lang::diag::{codes, Code};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The hls4ml release whose wheel ships the headers.
const HLS4ML_VERSION: &str = "1.3.0";
/// Where the headers are inside the wheel.
const MEMBER_PREFIX: &str = "hls4ml/templates/vivado/ap_types/";
/// The executable the compile writes into the project directory.
const BINARY: &str = "csim.out";

/// Extracts the members under a prefix of a wheel into a directory (python3's zipfile, so
/// neither unzip nor a zip crate is needed). Arguments: wheel, prefix, destination.
const EXTRACT_PY: &str = r#"
import os, sys, zipfile
wheel, prefix, dest = sys.argv[1:4]
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit("refusing suspicious member name: " + name)
        out = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        n += 1
if n == 0 or not os.path.isfile(os.path.join(dest, "ap_fixed.h")):
    sys.exit("no " + prefix + "ap_fixed.h in " + wheel)
"#;

/// A csim failure: an `error:` line with its code and an optional `help:` line.
#[derive(Debug)]
struct Failure {
    code: Code,
    message: String,
    help: Option<String>,
}

impl Failure {
    /// A project that could not be compiled or run (E0609).
    fn new(message: impl Into<String>) -> Failure {
        Failure {
            code: codes::CSIM_FAILED,
            message: message.into(),
            help: None,
        }
    }

    fn help(mut self, help: impl Into<String>) -> Failure {
        self.help = Some(help.into());
        self
    }

    /// `message`, then `help: ...` on its own line.
    fn text(&self) -> String {
        match &self.help {
            Some(h) => format!("{}\nhelp: {h}", self.message),
            None => self.message.clone(),
        }
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "[{}] error: {}", self.code.id, self.message);
        if let Some(h) = &self.help {
            let _ = writeln!(out, "help: {h}");
        }
    }
}

const HEADERS_HELP: &str = "pass `--ap-types DIR` or set KILN_AP_TYPES to a directory \
    holding the Xilinx ap_types headers (ap_fixed.h, ap_int.h, etc/ap_private.h)";

/// Whether `dir` holds the headers (`ap_fixed.h`).
fn has_headers(dir: &Path) -> bool {
    dir.join("ap_fixed.h").is_file()
}

/// Finds the Xilinx `ap_types` include directory (the one holding `ap_fixed.h`), fetching
/// it if needed:
///
/// 1. `explicit` (the `--ap-types` flag): used if it has `ap_fixed.h`, an error otherwise;
/// 2. the `KILN_AP_TYPES` environment variable, if it has `ap_fixed.h` (otherwise a
///    warning on stderr, and the search goes on);
/// 3. the cache `${KILN_CACHE_DIR:-$HOME/.cache/kiln}/ap_types/hls4ml-1.3.0/ap_types`, if
///    it has `ap_fixed.h` and `etc/ap_private.h`;
/// 4. otherwise the hls4ml 1.3.0 wheel is downloaded with pip into the cache and the
///    headers are extracted from it (saying so on stderr); this needs python3 with pip and
///    the network.
///
/// The error says what failed and what to do (install, `--ap-types`, `KILN_AP_TYPES`); its
/// text may have a second line starting with `help: `.
pub fn find_ap_types(explicit: Option<&Path>) -> Result<PathBuf, String> {
    locate(explicit).map_err(|f| f.text())
}

fn locate(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = explicit {
        if has_headers(dir) {
            return Ok(dir.to_path_buf());
        }
        let why = if dir.is_dir() {
            "has no ap_fixed.h"
        } else {
            "is not a directory"
        };
        return Err(
            Failure::new(format!("--ap-types {}: {why}", dir.display())).help(
                "--ap-types takes the directory that holds ap_fixed.h (the Xilinx ap_types \
             headers); without it, kiln uses KILN_AP_TYPES or fetches the headers itself",
            ),
        );
    }
    if let Some(env) = std::env::var_os("KILN_AP_TYPES").filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(&env);
        if has_headers(&dir) {
            return Ok(dir);
        }
        eprintln!(
            "warning: KILN_AP_TYPES={} has no ap_fixed.h; looking in the cache instead",
            dir.display()
        );
    }
    let cache = cache_dir()?;
    let inc = cache.join("ap_types");
    if has_headers(&inc) && inc.join("etc/ap_private.h").is_file() {
        return Ok(inc);
    }
    fetch(&cache, &inc)
}

/// `${KILN_CACHE_DIR:-$HOME/.cache/kiln}/ap_types/hls4ml-1.3.0`.
fn cache_dir() -> Result<PathBuf, Failure> {
    let root = match std::env::var_os("KILN_CACHE_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(h) => PathBuf::from(h).join(".cache").join("kiln"),
            None => {
                return Err(Failure::new(
                    "cannot find the ap_types headers: neither KILN_CACHE_DIR nor HOME is set \
                     (the headers are cached under $HOME/.cache/kiln)",
                )
                .help(HEADERS_HELP))
            }
        },
    };
    Ok(root
        .join("ap_types")
        .join(format!("hls4ml-{HLS4ML_VERSION}")))
}

/// Runs a program, `None` when it cannot be started.
fn try_run(program: &str, args: &[&str]) -> Option<Output> {
    Command::new(program).args(args).output().ok()
}

/// The last lines of a tool's output, for error messages.
fn tail(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(8);
    lines[start..].iter().map(|l| format!("\n  {l}")).collect()
}

/// The pip command: `python3 -m pip`, else `pip3`, else `pip`.
fn pip_command() -> Result<Vec<&'static str>, Failure> {
    let works =
        |program: &str, args: &[&str]| try_run(program, args).is_some_and(|o| o.status.success());
    if !works("python3", &["--version"]) {
        return Err(Failure::new(
            "cannot fetch the ap_types headers: python3 is not installed (it runs pip and \
             extracts the headers from the hls4ml wheel)",
        )
        .help(format!(
            "install python3 and pip (e.g. `apt-get install python3 python3-pip`), or \
             {HEADERS_HELP}"
        )));
    }
    if works("python3", &["-m", "pip", "--version"]) {
        return Ok(vec!["python3", "-m", "pip"]);
    }
    for pip in ["pip3", "pip"] {
        if works(pip, &["--version"]) {
            return Ok(vec![pip]);
        }
    }
    Err(Failure::new(
        "cannot fetch the ap_types headers: pip is not installed (tried `python3 -m pip`, \
         pip3, pip)",
    )
    .help(format!(
        "install pip (e.g. `apt-get install python3-pip`), or {HEADERS_HELP}"
    )))
}

/// The downloaded `hls4ml-1.3.0-*.whl` in `dl`, if any.
fn find_wheel(dl: &Path) -> Option<PathBuf> {
    let prefix = format!("hls4ml-{HLS4ML_VERSION}-");
    let mut wheels: Vec<PathBuf> = std::fs::read_dir(dl)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
                && p.is_file()
        })
        .collect();
    wheels.sort();
    wheels.into_iter().next()
}

/// Downloads the hls4ml wheel into `cache/download` (unless it is there) and extracts its
/// headers into `inc`, through a temporary directory that is renamed into place, so that
/// a half-done extraction is never used.
fn fetch(cache: &Path, inc: &Path) -> Result<PathBuf, Failure> {
    let io_fail = |what: &str, p: &Path, e: std::io::Error| {
        Failure::new(format!("cannot {what} {}: {e}", p.display())).help(HEADERS_HELP)
    };
    let dl = cache.join("download");
    std::fs::create_dir_all(&dl).map_err(|e| io_fail("create", &dl, e))?;
    let wheel = match find_wheel(&dl) {
        Some(w) => w,
        None => {
            let pip = pip_command()?;
            eprintln!(
                "fetching the ap_types headers from the hls4ml {HLS4ML_VERSION} wheel with {} \
                 into {}",
                pip.join(" "),
                inc.display()
            );
            let requirement = format!("hls4ml=={HLS4ML_VERSION}");
            let out = Command::new(pip[0])
                .args(&pip[1..])
                .args([
                    "download",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--disable-pip-version-check",
                    "--dest",
                ])
                .arg(&dl)
                .arg(&requirement)
                .output()
                .map_err(|e| {
                    Failure::new(format!("cannot run {}: {e}", pip.join(" "))).help(HEADERS_HELP)
                })?;
            if !out.status.success() {
                // Another process may have fetched the headers meanwhile.
                if has_headers(inc) {
                    return Ok(inc.to_path_buf());
                }
                return Err(Failure::new(format!(
                    "cannot fetch the ap_types headers: `{} download {requirement}` failed \
                     (is the network reachable?):{}",
                    pip.join(" "),
                    tail(&out.stderr)
                ))
                .help(HEADERS_HELP));
            }
            find_wheel(&dl).ok_or_else(|| {
                Failure::new(format!(
                    "cannot fetch the ap_types headers: pip did not produce an \
                     hls4ml-{HLS4ML_VERSION} wheel in {}",
                    dl.display()
                ))
                .help(HEADERS_HELP)
            })?
        }
    };
    eprintln!(
        "extracting the ap_types headers from {} into {}",
        wheel.display(),
        inc.display()
    );
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = cache.join(format!("extract.{}.{stamp}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| io_fail("create", &tmp, e))?;
    let staged = tmp.join("ap_types");
    let result = (|| {
        let out = Command::new("python3")
            .arg("-c")
            .arg(EXTRACT_PY)
            .arg(&wheel)
            .arg(MEMBER_PREFIX)
            .arg(&staged)
            .output()
            .map_err(|e| Failure::new(format!("cannot run python3: {e}")).help(HEADERS_HELP))?;
        if !out.status.success() || !has_headers(&staged) {
            return Err(Failure::new(format!(
                "cannot extract the ap_types headers from {}:{}",
                wheel.display(),
                tail(&out.stderr)
            ))
            .help(format!(
                "delete {} to download the wheel again, or {HEADERS_HELP}",
                wheel.display()
            )));
        }
        if inc.exists() {
            std::fs::remove_dir_all(inc).map_err(|e| io_fail("remove", inc, e))?;
        }
        if let Err(e) = std::fs::rename(&staged, inc) {
            // Another process may have put its copy in place first.
            if !has_headers(inc) {
                return Err(io_fail("move the headers into", inc, e));
            }
        }
        Ok(inc.to_path_buf())
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// The C++ compiler: `$CXX` (a program and optional leading arguments), else `g++`.
fn compiler() -> (OsString, Vec<OsString>) {
    if let Some(cxx) = std::env::var("CXX").ok().filter(|s| !s.trim().is_empty()) {
        let mut words = cxx.split_whitespace().map(OsString::from);
        if let Some(program) = words.next() {
            return (program, words.collect());
        }
    }
    (OsString::from("g++"), Vec::new())
}

/// Shows a command line for messages.
fn show_command(program: &OsString, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args)
        .map(|a| {
            let s = a.to_string_lossy();
            if s.is_empty() || s.contains(char::is_whitespace) {
                format!("'{s}'")
            } else {
                s.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The project's `*.cpp` files, sorted by name.
fn sources(dir: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Failure::new(format!(
            "cannot read the project directory {}: {e}",
            dir.display()
        ))
        .help("`kiln csim DIR` takes a directory written by `kiln hls FILE -o DIR`")
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cpp") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(
            Failure::new(format!("{} has no .cpp files to compile", dir.display()))
                .help("`kiln csim DIR` takes a directory written by `kiln hls FILE -o DIR`"),
        );
    }
    // A project `kiln hls --no-testbench` wrote has no `main` to run: its run_hls.tcl
    // says so (any other directory of sources with a `main` of its own is compiled).
    let without_testbench = std::fs::read_to_string(dir.join("run_hls.tcl"))
        .is_ok_and(|tcl| tcl.contains(kiln_hls::NO_TESTBENCH));
    if without_testbench {
        return Err(Failure::new(format!(
            "{} has no testbench (written with `kiln hls --no-testbench`): nothing to check",
            dir.display()
        ))
        .help("write the project again without `--no-testbench`"));
    }
    Ok(files)
}

/// C-simulates the project in `dir`: compiles its `*.cpp` files with
/// `g++ -std=c++14 -O2 -ffp-contract=off -Wall -Wextra -Werror` (or `$CXX`) against the
/// ap_types headers (`ap_types`, else as [`find_ap_types`] finds them) into `dir/csim.out`,
/// then runs it in `dir`. Its stdout becomes the outcome's stdout; compiler and testbench
/// errors, and the line `csim: compile X.XX s, run Y.YYY s`, go to stderr. Exit code 0
/// when the testbench passes, 1 on any failure. `csim.out` is deleted afterwards unless
/// `keep`.
pub fn csim(dir: &Path, ap_types: Option<&Path>, keep: bool) -> Outcome {
    let mut out = Outcome::default();
    match simulate(dir, ap_types, keep, &mut out) {
        Ok(()) => out.code = 0,
        Err(f) => {
            f.render(&mut out.stderr);
            out.code = 1;
        }
    }
    out
}

fn simulate(
    dir: &Path,
    ap_types: Option<&Path>,
    keep: bool,
    out: &mut Outcome,
) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(
            Failure::new(format!("{}: no such project directory", dir.display()))
                .help("`kiln csim DIR` takes a directory written by `kiln hls FILE -o DIR`"),
        );
    }
    let files = sources(dir)?;
    let headers = locate(ap_types)?;
    // The compiler may run elsewhere than here: make the include path absolute.
    let headers = std::path::absolute(&headers).unwrap_or(headers);
    let binary = dir.join(BINARY);
    // Never run a stale binary from an earlier compile.
    let _ = std::fs::remove_file(&binary);

    let (cxx, mut args) = compiler();
    args.extend(
        [
            "-std=c++14",
            "-O2",
            "-ffp-contract=off",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-isystem",
        ]
        .map(OsString::from),
    );
    args.push(headers.into_os_string());
    let mut include = OsString::from("-I");
    include.push(dir.as_os_str());
    args.push(include);
    args.extend(files.into_iter().map(PathBuf::into_os_string));
    args.push("-o".into());
    args.push(binary.clone().into_os_string());

    let start = Instant::now();
    let compiled = Command::new(&cxx).args(&args).output();
    let compile_secs = start.elapsed().as_secs_f64();
    let compiled = compiled.map_err(|e| {
        let name = cxx.to_string_lossy();
        let failure = if e.kind() == ErrorKind::NotFound {
            Failure::new(format!(
                "cannot compile the project: the C++ compiler `{name}` is not installed"
            ))
        } else {
            Failure::new(format!("cannot run the C++ compiler `{name}`: {e}"))
        };
        failure.help("install g++ (e.g. `apt-get install g++`), or set CXX to a C++14 compiler")
    })?;
    if !compiled.status.success() {
        out.stderr
            .push_str(&String::from_utf8_lossy(&compiled.stderr));
        let _ = writeln!(out.stderr, "csim: compile {compile_secs:.2} s, not run");
        return Err(
            Failure::new(format!("the project in {} does not compile", dir.display()))
                .help(format!("the command was: {}", show_command(&cxx, &args))),
        );
    }
    // Warnings that did not fail the build (a CXX without -Werror support, notes).
    out.stderr
        .push_str(&String::from_utf8_lossy(&compiled.stderr));

    let program = std::path::absolute(&binary).unwrap_or(binary.clone());
    let start = Instant::now();
    let ran = Command::new(&program).current_dir(dir).output();
    let run_secs = start.elapsed().as_secs_f64();
    if !keep {
        let _ = std::fs::remove_file(&binary);
    }
    let ran = ran.map_err(|e| {
        Failure::new(format!(
            "cannot run the testbench {}: {e}",
            program.display()
        ))
    })?;
    out.stdout.push_str(&String::from_utf8_lossy(&ran.stdout));
    out.stderr.push_str(&String::from_utf8_lossy(&ran.stderr));
    let _ = writeln!(
        out.stderr,
        "csim: compile {compile_secs:.2} s, run {run_secs:.3} s"
    );
    if ran.status.success() {
        return Ok(());
    }
    let how = match ran.status.code() {
        Some(c) => format!("exited with code {c}"),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt;
                match ran.status.signal() {
                    Some(s) => format!("was killed by signal {s}"),
                    None => "failed".to_string(),
                }
            }
            #[cfg(not(unix))]
            {
                "failed".to_string()
            }
        }
    };
    Err(Failure {
        code: codes::CSIM_MISMATCH,
        ..Failure::new(format!("C-simulation failed: the testbench {how}"))
    })
}
