//! A run's results: printed (a summary or every value) and written as `.npy` files
//! (`--out DIR`), under unique names.

use crate::npy;
use crate::session::{io_reason, Session};
use kiln_lang::diag::{codes, Diagnostic};
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Module;
use std::fmt::Write;
use std::path::Path;

/// Output names: the tensors' names, made unique.
fn output_names(module: &Module) -> Vec<String> {
    let Some(inst) = module.entry_instance() else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for &t in &inst.outputs {
        let base = inst.tensor(t).name.clone();
        let mut name = base.clone();
        let mut i = 1;
        while names.contains(&name) {
            name = format!("{base}_{i}");
            i += 1;
        }
        names.push(name);
    }
    names
}

pub(crate) fn report_outputs(
    s: &mut Session,
    module: &Module,
    outputs: &[TensorValue],
    out_dir: Option<&Path>,
    full: bool,
) {
    let names = output_names(module);
    if let Some(dir) = out_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            s.push(Diagnostic::error(
                codes::WRITE_FAILED,
                format!("cannot create {}: {}", dir.display(), io_reason(&e)),
            ));
            return;
        }
    }
    for (name, t) in names.iter().zip(outputs) {
        let shape = kiln_passes::data::shape_suffix(&t.shape);
        let _ = writeln!(s.out.stdout, "{name}: {}{shape}", t.elem);
        if full {
            let _ = writeln!(s.out.stdout, "{}", all_values(t));
        } else {
            let _ = writeln!(s.out.stdout, "  {}", summary(t));
        }
        if let Some(dir) = out_dir {
            let file = dir.join(format!("{name}.npy"));
            match npy::write(&file, t) {
                Ok(()) => {
                    let _ = writeln!(
                        s.out.stdout,
                        "  written to {} ({})",
                        file.display(),
                        npy::dtype_for(&t.elem)
                    );
                }
                Err(e) => s.push(Diagnostic::error(codes::WRITE_FAILED, e)),
            }
        }
    }
}

/// Every value of a tensor, one row (last dimension) per line.
pub fn all_values(t: &TensorValue) -> String {
    let row = t.shape.last().copied().unwrap_or(1).max(1);
    let mut out = String::new();
    for (i, chunk) in t.values.chunks(row).enumerate() {
        let idx = kiln_passes::data::unflatten(i * row, &t.shape);
        let prefix = if idx.len() > 1 {
            format!("{:?}", &idx[..idx.len() - 1])
        } else {
            String::new()
        };
        let vals: Vec<String> = chunk.iter().map(|v| v.display()).collect();
        let _ = writeln!(out, "  {prefix} {}", vals.join(" "));
    }
    out.trim_end().to_string()
}

/// The first values of a tensor, and its range.
pub fn summary(t: &TensorValue) -> String {
    const SHOWN: usize = 8;
    let first: Vec<String> = t.values.iter().take(SHOWN).map(|v| v.display()).collect();
    let more = if t.values.len() > SHOWN {
        format!(", ... ({} values)", t.values.len())
    } else {
        String::new()
    };
    let range = if t.values.len() > 1 {
        let nums: Vec<f64> = t.values.iter().map(|v| v.to_f64()).collect();
        let lo = nums.iter().cloned().fold(f64::INFINITY, f64::min);
        let hi = nums.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        format!("  min {lo}, max {hi}")
    } else {
        String::new()
    };
    format!("[{}{more}]{range}", first.join(", "))
}
