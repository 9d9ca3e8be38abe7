//! `kiln types FILE`: every value of every instance with its type and why it has it.

use crate::session::{on_big_stack, prepare, Plan, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_lang::SourceMap;
use kiln_passes::ir::{Module, TensorKind};
use std::fmt::Write;
use std::path::Path;

/// `kiln types FILE`
pub fn types(path: &Path, spec: &RunSpec, opts: &Options) -> Outcome {
    on_big_stack(|| types_file(path, spec, opts))
}

fn types_file(path: &Path, spec: &RunSpec, opts: &Options) -> Outcome {
    let mut s = Session::new(opts);
    if let Some(p) = prepare(&mut s, path, spec, true, &Plan::for_pipeline("check")) {
        s.out.stdout.push_str(&types_report(&p.module, &s.sources));
    }
    s.finish()
}

/// Every value of every instance with its type and why it has it.
pub fn types_report(module: &Module, sources: &SourceMap) -> String {
    let mut out = String::new();
    for inst in &module.instances {
        let b = if inst.bindings.is_empty() {
            String::new()
        } else {
            format!(" ({})", inst.bindings)
        };
        let _ = writeln!(out, "kernel {}{b}", inst.kernel);
        let mut rows: Vec<(String, String, String, String)> = Vec::new();
        let line_of = |span: kiln_lang::Span| {
            let (l, _) = sources.line_col(span.file, span.start);
            format!("{}:{l}", short_name(&sources.get(span.file).name))
        };
        for t in &inst.tensors {
            let shape = kiln_passes::data::shape_suffix(&t.shape);
            let why = match &t.kind {
                TensorKind::Input(_) => "declared (input)".to_string(),
                TensorKind::Const(c) => {
                    format!("declared (data: {})", module.consts[c.index()].source)
                }
                TensorKind::Temp => t.reason.to_string(),
            };
            let range = t
                .range
                .as_ref()
                .filter(|_| !t.declared)
                .map_or(String::new(), |r| format!("  values {r}"));
            rows.push((
                t.name.clone(),
                format!("{}{shape}", t.elem),
                format!("{why}{range}"),
                line_of(t.span),
            ));
        }
        for l in &inst.locals {
            let range = l
                .range
                .as_ref()
                .filter(|_| !l.declared)
                .map_or(String::new(), |r| format!("  values {r}"));
            rows.push((
                l.name.clone(),
                l.ty.to_string(),
                format!("{}{range}", l.reason),
                line_of(l.span),
            ));
        }
        // A local used by several statements has one IR local per statement: list it once.
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert(r.clone()));
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        for (name, ty, why, at) in rows {
            let _ = writeln!(out, "  {name:<w0$}  {ty:<w1$}  {at}  {why}");
        }
    }
    out
}

fn short_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map_or_else(|| name.to_string(), |f| f.to_string_lossy().into_owned())
}
