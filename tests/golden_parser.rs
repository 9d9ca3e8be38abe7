//! Parser goldens: `tests/parser/NAME.kiln` → `NAME.ast`: the S-expression of the parsed
//! module (`kiln_lang::ast_print::print_module`), then the rendered diagnostics (no
//! colour) when the file has errors.
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_parser`.

mod common;

use common::{catch, Suite};
use kiln_lang::diag::render_all;
use kiln_lang::{SourceFile, SourceMap};
use std::path::Path;

/// The golden text for one source file.
fn parse_output(name: &Path, src: &str) -> String {
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile {
        name: name.display().to_string(),
        dir: name.parent().map(Path::to_path_buf),
        text: src.to_string(),
    });
    let (module, diags) = kiln_lang::parse::parse_module(file, src);
    let mut out = String::new();
    match &module {
        Some(m) => out.push_str(&kiln_lang::ast_print::print_module(m)),
        None => out.push_str("; no module\n"),
    }
    if !diags.is_empty() {
        out.push_str(&format!("; {} diagnostic(s)\n", diags.len()));
        out.push_str(&render_all(&diags, &sources, false));
    }
    out
}

#[test]
fn parser_goldens() {
    let mut suite = Suite::new("tests/parser", "kiln");
    for case in suite.cases() {
        let src = std::fs::read_to_string(&case).expect("parser cases are UTF-8");
        match catch(|| parse_output(&case, &src)) {
            Ok(out) => suite.check(&case, "ast", &out),
            Err(p) => suite.fail(&case, format!("parse_module {p}")),
        }
    }
    suite.finish();
}
