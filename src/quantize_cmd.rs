//! The `kiln quantize` command: reads float weights from `.npy` files (one file, or every
//! `load`ed parameter of a script), quantizes them with [`crate::quantize`], writes the
//! integer levels and the scales as `.npy` files and reports the losses per tensor.
//!
//! Output of one tensor `OUT.npy`:
//! - `OUT.npy`: the levels, same shape as the input, int8 (int16 for `vecq` at 8 bits,
//!   whose levels ±255 need `int<9>`); values of the method's level type: `bin` (±1),
//!   `tern` (-1, 0, +1) or `int<N>`.
//! - `OUT.scale.npy`: float64 scales, shape `[]` (per tensor) or `[C]` (per channel along
//!   dimension 0), rounded to the grid of the printed `ufixed<W, I>` so the script's scale
//!   is exactly the one the losses were computed with.
//!
//! Every error is a one-line message with its code on stderr (`[E0611] error: ...`) and
//! exit code 1; nothing is written then. Codes: E0601/E0603 for weights that cannot be
//! read, E0209 for a script that cannot be read, E0608 for outputs that cannot be written,
//! E0611 for everything else (a bad method or width, data that cannot be quantized).

use crate::quantize::{self, LevelType, Losses, Method, ScaleFormat};
use crate::Outcome;
use kiln_lang::ast::{self, ExprKind, ItemKind};
use kiln_lang::diag::{codes, render_all, Code};
use kiln_lang::parse::parse_module;
use kiln_lang::{SourceFile, SourceMap};
use kiln_passes::data::RawData;
use npyz::WriterBuilder;
use std::fmt::Write as _;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// The fractional bits of the scale grid unless `--scale-frac` says otherwise.
pub const DEFAULT_SCALE_FRAC: i32 = 16;

/// How to quantize, as given on the command line (validated by [`QuantizeSpec::check`]).
#[derive(Clone, Debug)]
pub struct QuantizeSpec {
    pub method: String,
    pub bits: u32,
    pub per_channel: bool,
    /// Fractional bits of the scale grid (default [`DEFAULT_SCALE_FRAC`]).
    pub scale_frac: i32,
}

impl QuantizeSpec {
    fn check(&self) -> Result<Method, String> {
        let Some(m) = Method::parse(&self.method) else {
            let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
            return Err(format!(
                "unknown method `{}` (methods: {})",
                self.method,
                names.join(", ")
            ));
        };
        m.check_bits(self.bits)?;
        if !(0..=64).contains(&self.scale_frac) {
            return Err(format!(
                "--scale-frac must be between 0 and 64, not {}",
                self.scale_frac
            ));
        }
        Ok(m)
    }
}

/// An error of `kiln quantize`: its code and message.
struct QErr {
    code: Code,
    message: String,
}

impl From<&str> for QErr {
    fn from(message: &str) -> QErr {
        QErr::from(message.to_string())
    }
}

impl From<String> for QErr {
    fn from(message: String) -> QErr {
        QErr {
            code: codes::QUANTIZE_FAILED,
            message,
        }
    }
}

impl QErr {
    fn coded(code: Code) -> impl Fn(String) -> QErr {
        move |message| QErr { code, message }
    }

    fn npy(e: crate::npy::ReadError) -> QErr {
        let code = match e {
            crate::npy::ReadError::Read(_) => codes::BAD_NPY,
            crate::npy::ReadError::Dtype(_) => codes::DATA_DTYPE,
        };
        QErr {
            code,
            message: e.message().to_string(),
        }
    }

    fn prefixed(self, prefix: &str) -> QErr {
        QErr {
            message: format!("{prefix}{}", self.message),
            ..self
        }
    }
}

/// One tensor to quantize.
struct Input {
    /// The name shown in the report and used in declarations.
    name: String,
    shape: Vec<usize>,
    values: Vec<f64>,
    /// Where the levels go; the scales go next to it ([`scale_path`]).
    out: PathBuf,
}

/// One tensor, quantized.
struct Done {
    input: Input,
    level_type: LevelType,
    levels: Vec<i64>,
    /// Rounded to `format`'s grid.
    scales: Vec<f64>,
    format: ScaleFormat,
    per_channel: bool,
    losses: Losses,
}

/// `kiln quantize IN.npy -o OUT.npy`.
pub fn quantize_file(input: &Path, out: &Path, spec: &QuantizeSpec) -> Outcome {
    finish(|| {
        let method = spec.check()?;
        let name = identifier(
            out.file_name()
                .map(|f| f.to_string_lossy())
                .as_deref()
                .map(|f| f.strip_suffix(".npy").unwrap_or(f))
                .unwrap_or("w"),
        );
        let (shape, values) = read_weights(input)?;
        let inp = Input {
            name,
            shape,
            values,
            out: out.to_path_buf(),
        };
        let done = vec![quantize_input(inp, method, spec)?];
        refuse_overwrite(&done, &[input.to_path_buf()])?;
        write_all(&done).map_err(QErr::coded(codes::WRITE_FAILED))?;
        Ok(report(&done, method, spec, &[], None))
    })
}

/// `kiln quantize --script NET.kiln -o DIR`: every `param` loaded from a float array of
/// rank ≥ 2, or exactly the params in `only`.
pub fn quantize_script(
    script: &Path,
    only: Option<&[String]>,
    out_dir: &Path,
    spec: &QuantizeSpec,
    color: bool,
) -> Outcome {
    finish(|| {
        let method = spec.check()?;
        let params = script_params(script, color)?;
        let mut inputs = Vec::new();
        let mut skipped = Vec::new();
        match only {
            Some(names) => {
                let mut seen: Vec<&str> = Vec::new();
                for n in names {
                    let n = n.trim();
                    if n.is_empty() {
                        return Err("--only: empty parameter name".into());
                    }
                    if seen.contains(&n) {
                        continue;
                    }
                    seen.push(n);
                    let Some((_, path)) = params.iter().find(|(p, _)| p == n) else {
                        let mut known: Vec<&str> = params.iter().map(|(p, _)| p.as_str()).collect();
                        if known.is_empty() {
                            known.push("none");
                        }
                        return Err(format!(
                            "--only: {} has no parameter `{n}` loaded from a .npy file (those it has: {})",
                            script.display(),
                            known.join(", ")
                        )
                        .into());
                    };
                    let (shape, values) = read_weights(path)
                        .map_err(|e| e.prefixed(&format!("parameter `{n}`: ")))?;
                    inputs.push(Input {
                        name: n.to_string(),
                        shape,
                        values,
                        out: out_dir.join(format!("{n}.npy")),
                    });
                }
            }
            None => {
                for (n, path) in &params {
                    let raw = crate::npy::read(path)
                        .map_err(|e| QErr::npy(e).prefixed(&format!("parameter `{n}`: ")))?;
                    if !matches!(raw.data, RawData::F32(_) | RawData::F64(_)) {
                        skipped.push(format!("{n} ({} data, not float)", raw.dtype));
                        continue;
                    }
                    if raw.shape.len() < 2 {
                        skipped.push(format!("{n} (rank {}: not a weight)", raw.shape.len()));
                        continue;
                    }
                    let (shape, values) = float_values(path, raw)?;
                    inputs.push(Input {
                        name: n.clone(),
                        shape,
                        values,
                        out: out_dir.join(format!("{n}.npy")),
                    });
                }
                if inputs.is_empty() {
                    return Err(format!(
                        "{} has no parameter loaded from a float array of rank 2 or more{}",
                        script.display(),
                        if skipped.is_empty() {
                            String::new()
                        } else {
                            format!(" (skipped: {})", skipped.join(", "))
                        }
                    )
                    .into());
                }
            }
        }
        let done = inputs
            .into_iter()
            .map(|i| quantize_input(i, method, spec))
            .collect::<Result<Vec<_>, _>>()?;
        let sources: Vec<PathBuf> = params.iter().map(|(_, p)| p.clone()).collect();
        refuse_overwrite(&done, &sources)?;
        std::fs::create_dir_all(out_dir).map_err(|e| QErr {
            code: codes::WRITE_FAILED,
            message: format!(
                "cannot create {}: {}",
                out_dir.display(),
                crate::io_reason(&e)
            ),
        })?;
        write_all(&done).map_err(QErr::coded(codes::WRITE_FAILED))?;
        Ok(report(
            &done,
            method,
            spec,
            &skipped,
            Some(&script_dir(script)),
        ))
    })
}

/// Runs a command body: its stdout, or its error on stderr with exit code 1.
fn finish(f: impl FnOnce() -> Result<String, QErr>) -> Outcome {
    match f() {
        Ok(stdout) => Outcome {
            stdout,
            stderr: String::new(),
            code: 0,
        },
        Err(QErr { code, message: e }) => Outcome {
            stdout: String::new(),
            // Rendered diagnostics (a script that does not parse) carry their codes.
            stderr: if e.ends_with('\n') {
                e
            } else {
                format!("[{}] error: {e}\n", code.id)
            },
            code: 1,
        },
    }
}

/// The params of a script loaded with `load("...")`, in source order, with their paths
/// (relative to the script). Syntax errors are rendered as diagnostics.
fn script_params(script: &Path, color: bool) -> Result<Vec<(String, PathBuf)>, QErr> {
    let text = std::fs::read_to_string(script).map_err(|e| QErr {
        code: codes::READ_FAILED,
        message: format!("cannot read {}: {}", script.display(), crate::io_reason(&e)),
    })?;
    let dir = script_dir(script);
    let mut sources = SourceMap::new();
    let fid = sources.add(SourceFile {
        name: script.display().to_string(),
        dir: Some(dir.clone()),
        text: text.clone(),
    });
    let (module, diags) = parse_module(fid, &text);
    let errors: Vec<_> = diags.into_iter().filter(|d| d.is_error()).collect();
    let module = match module {
        Some(m) if errors.is_empty() => m,
        _ => {
            let mut msg = render_all(&errors, &sources, color);
            let _ = writeln!(
                msg,
                "error: {} cannot be parsed: no parameter quantized",
                script.display()
            );
            return Err(msg.into());
        }
    };
    Ok(module
        .items
        .iter()
        .filter_map(|item| match &item.kind {
            ItemKind::Param { name, init, .. } => {
                load_path(init).map(|p| (name.name.clone(), dir.join(p)))
            }
            _ => None,
        })
        .collect())
}

/// The directory `load("...")` paths of a script resolve against.
fn script_dir(script: &Path) -> PathBuf {
    match script.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// How a script in `base` (None: anywhere) names the written file `path` in `load`:
/// relative to `base` when the file is under it, else absolute; as given without `base`.
fn load_text(path: &Path, base: Option<&Path>) -> String {
    let text = match base {
        None => path.display().to_string(),
        Some(base) => match (path.canonicalize(), base.canonicalize()) {
            (Ok(p), Ok(b)) => match p.strip_prefix(&b) {
                Ok(rel) => rel.display().to_string(),
                Err(_) => p.display().to_string(),
            },
            _ => path.display().to_string(),
        },
    };
    // As a kiln string literal.
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The path of `load("...")`.
fn load_path(e: &ast::Expr) -> Option<&str> {
    let ExprKind::Call { func, args } = &e.kind else {
        return None;
    };
    if !matches!(&func.kind, ExprKind::Name(n) if n == "load") {
        return None;
    }
    match args.as_slice() {
        [ast::Arg {
            name: None,
            value:
                ast::Expr {
                    kind: ExprKind::Str(s),
                    ..
                },
        }] => Some(s),
        _ => None,
    }
}

/// Reads a float array of rank ≥ 1 with at least one element, all finite.
fn read_weights(path: &Path) -> Result<(Vec<usize>, Vec<f64>), QErr> {
    let raw = crate::npy::read(path).map_err(QErr::npy)?;
    Ok(float_values(path, raw)?)
}

fn float_values(
    path: &Path,
    raw: kiln_passes::data::RawArray,
) -> Result<(Vec<usize>, Vec<f64>), String> {
    let values: Vec<f64> = match raw.data {
        RawData::F64(v) => v,
        RawData::F32(v) => v.into_iter().map(f64::from).collect(),
        _ => {
            return Err(format!(
            "{}: dtype {} is not a float array (kiln quantize takes float32 or float64 weights)",
            path.display(),
            raw.dtype
        ))
        }
    };
    if raw.shape.is_empty() {
        return Err(format!(
            "{}: a scalar (shape []): kiln quantize takes arrays of rank 1 or more",
            path.display()
        ));
    }
    if values.is_empty() {
        return Err(format!(
            "{}: the array is empty (shape {:?})",
            path.display(),
            raw.shape
        ));
    }
    if let Some(i) = values.iter().position(|x| !x.is_finite()) {
        return Err(format!(
            "{}: value {} at flat index {i} is not finite",
            path.display(),
            values[i]
        ));
    }
    // Beyond these, sums of squares overflow or underflow and no kiln fixed-point scale
    // (at most 128 bits) would hold the result anyway.
    let max_abs = values.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    if max_abs > quantize::pow2(MAX_EXPONENT)
        || (max_abs > 0.0 && max_abs < quantize::pow2(-MAX_EXPONENT))
    {
        return Err(format!(
            "{}: the largest magnitude {max_abs:e} is outside 2^-{MAX_EXPONENT} .. 2^{MAX_EXPONENT}: \
             rescale the weights first",
            path.display()
        ));
    }
    Ok((raw.shape, values))
}

/// The largest weights have magnitudes between 2^-MAX_EXPONENT and 2^MAX_EXPONENT.
const MAX_EXPONENT: i32 = 100;

fn quantize_input(input: Input, method: Method, spec: &QuantizeSpec) -> Result<Done, String> {
    let (levels, raw_scales) = quantize::quantize_tensor(
        method,
        spec.bits,
        &input.values,
        &input.shape,
        spec.per_channel,
    );
    let max_scale = raw_scales.iter().fold(0.0f64, |m, &s| m.max(s));
    let format = ScaleFormat::for_scales(max_scale, spec.scale_frac);
    if format.width > 128 {
        return Err(format!(
            "{}: the scale {max_scale:e} needs {}, wider than the 128 bits kiln types have",
            input.name, format
        ));
    }
    let scales: Vec<f64> = raw_scales.iter().map(|&s| format.round(s)).collect();
    let group = input.values.len() / scales.len();
    let v: Vec<f64> = levels
        .iter()
        .enumerate()
        .map(|(i, &l)| scales[i / group] * l as f64)
        .collect();
    let losses = quantize::losses(&input.values, &v);
    Ok(Done {
        level_type: method.level_type(spec.bits),
        levels,
        scales,
        format,
        per_channel: spec.per_channel,
        losses,
        input,
    })
}

/// `OUT.npy` → `OUT.scale.npy` (`OUT` → `OUT.scale.npy` without the extension).
pub fn scale_path(out: &Path) -> PathBuf {
    let s = out.as_os_str().to_string_lossy();
    match s.strip_suffix(".npy") {
        Some(stem) => PathBuf::from(format!("{stem}.scale.npy")),
        None => PathBuf::from(format!("{s}.scale.npy")),
    }
}

/// The numpy dtype the levels are written with.
fn level_dtype(t: LevelType) -> &'static str {
    match t {
        LevelType::Int(n) if n > 8 => "int16",
        _ => "int8",
    }
}

/// An error if an output file would replace one of the `sources` (the weights read, or
/// another data file of the script) or two outputs are the same file.
fn refuse_overwrite(done: &[Done], sources: &[PathBuf]) -> Result<(), String> {
    // Outputs need not exist yet: compare canonical directories and file names.
    let canonical = |p: &Path| -> Option<PathBuf> {
        if let Ok(c) = p.canonicalize() {
            return Some(c);
        }
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.canonicalize().ok()?,
            _ => std::env::current_dir().ok()?,
        };
        Some(dir.join(p.file_name()?))
    };
    let sources: Vec<PathBuf> = sources
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let mut outputs: Vec<PathBuf> = Vec::new();
    for d in done {
        for out in [d.input.out.clone(), scale_path(&d.input.out)] {
            let Some(c) = canonical(&out) else {
                continue;
            };
            if sources.contains(&c) {
                return Err(format!(
                    "{} would overwrite the input data {}: choose another output",
                    out.display(),
                    c.display()
                ));
            }
            if outputs.contains(&c) {
                return Err(format!("{} would be written twice", out.display()));
            }
            outputs.push(c);
        }
    }
    Ok(())
}

fn write_all(done: &[Done]) -> Result<(), String> {
    for d in done {
        let shape: Vec<u64> = d.input.shape.iter().map(|&x| x as u64).collect();
        if level_dtype(d.level_type) == "int16" {
            let v: Vec<i16> = d.levels.iter().map(|&l| l as i16).collect();
            write_npy(&d.input.out, &shape, &v)?;
        } else {
            let v: Vec<i8> = d.levels.iter().map(|&l| l as i8).collect();
            write_npy(&d.input.out, &shape, &v)?;
        }
        // Per channel: a `[C]` array, even for C = 1; per tensor: a scalar.
        let scale_shape: Vec<u64> = if d.per_channel {
            vec![d.scales.len() as u64]
        } else {
            Vec::new()
        };
        write_npy(&scale_path(&d.input.out), &scale_shape, &d.scales)?;
    }
    Ok(())
}

fn write_npy<T: npyz::AutoSerialize>(
    path: &Path,
    shape: &[u64],
    values: &[T],
) -> Result<(), String> {
    let io = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let f = File::create(path)
        .map_err(|e| format!("cannot create {}: {}", path.display(), crate::io_reason(&e)))?;
    let mut w = npyz::WriteOptions::<T>::new()
        .default_dtype()
        .shape(shape)
        .writer(BufWriter::new(f))
        .begin_nd()
        .map_err(io)?;
    for v in values {
        w.push(v).map_err(io)?;
    }
    w.finish().map_err(io)
}

/// `name` as a kiln identifier (other characters become `_`).
fn identifier(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// kiln's keywords (docs/language.md §1), which cannot name a parameter.
const KEYWORDS: &[&str] = &[
    "kernel", "param", "type", "const", "return", "for", "in", "if", "elif", "else", "and", "or",
    "not", "lambda", "import", "from", "as", "pass", "True", "False", "def", "while", "break",
    "continue", "int", "uint", "fixed", "ufixed", "bin", "tern", "f32", "f64", "bool",
];

fn shape_text(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    format!("[{}]", dims.join(", "))
}

/// The report: a table of the tensors and their losses, the files written and the kiln
/// declarations that load them.
fn report(
    done: &[Done],
    method: Method,
    spec: &QuantizeSpec,
    skipped: &[String],
    script_dir: Option<&Path>,
) -> String {
    let header = [
        "tensor",
        "shape",
        "method",
        "bits",
        "levels",
        "scale",
        "L2 loss",
        "L2/|w|^2",
        "angle(deg)",
        "1-cos",
        "modulus",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for d in done {
        let l = &d.losses;
        let scale_ty = if !d.per_channel {
            d.format.to_string()
        } else {
            format!("{}[{}]", d.format, d.scales.len())
        };
        rows.push(vec![
            d.input.name.clone(),
            shape_text(&d.input.shape),
            method.name().to_string(),
            spec.bits.to_string(),
            d.level_type.to_string(),
            scale_ty,
            format!("{:.4e}", l.l2),
            l.l2_relative
                .map_or_else(|| "-".to_string(), |r| format!("{r:.4e}")),
            format!("{:.4}", l.angle_deg),
            format!("{:.4e}", l.one_minus_cos),
            format!("{:.4e}", l.modulus),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            // Text columns left-aligned, numbers right-aligned.
            if c < 6 {
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
            } else {
                let _ = write!(line, "{cell:>w$}  ", w = widths[c]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    for s in skipped {
        let _ = writeln!(out, "skipped: {s}");
    }
    for d in done {
        if d.format.finer {
            let _ = writeln!(
                out,
                "note: the scales of {} are below 2^{}: rounded to multiples of 2^-{} (not 2^-{})",
                d.input.name,
                ScaleFormat::small_exponent(spec.scale_frac),
                d.format.frac_bits,
                spec.scale_frac
            );
        }
    }
    let _ = writeln!(out, "wrote:");
    for d in done {
        let sp = scale_path(&d.input.out);
        let _ = writeln!(
            out,
            "  {} ({} {}, levels {}) and {} (float64 {}, multiples of 2^-{})",
            d.input.out.display(),
            level_dtype(d.level_type),
            shape_text(&d.input.shape),
            d.level_type,
            sp.display(),
            if spec.per_channel {
                shape_text(&[d.scales.len()])
            } else {
                "[]".to_string()
            },
            d.format.frac_bits
        );
    }
    let _ = writeln!(
        out,
        "kiln declarations (w ≈ {} · levels; load paths {}):",
        if spec.per_channel {
            "scale[c] of channel c (dimension 0)"
        } else {
            "scale"
        },
        if script_dir.is_some() {
            "relative to the script"
        } else {
            "as given with -o"
        }
    );
    for d in done {
        let _ = writeln!(
            out,
            "  param {}: {}{} = load(\"{}\")",
            d.input.name,
            d.level_type,
            shape_text(&d.input.shape),
            load_text(&d.input.out, script_dir)
        );
        let _ = writeln!(
            out,
            "  param {}_scale: {}{} = load(\"{}\")",
            d.input.name,
            d.format,
            if spec.per_channel {
                shape_text(&[d.scales.len()])
            } else {
                String::new()
            },
            load_text(&scale_path(&d.input.out), script_dir)
        );
    }
    out
}
