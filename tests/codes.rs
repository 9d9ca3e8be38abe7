//! Diagnostic codes: every code of `kiln_lang::diag::codes::ALL` is listed in
//! docs/language.md's table (and nothing else is), and every code appears in at least one
//! golden output under tests/, so each diagnostic kiln can give is shown by a test.

mod common;

use kiln_lang::diag::codes;
use std::collections::BTreeSet;
use std::path::Path;

/// The codes in the table of docs/language.md §13: rows `| E0101 | ... |`.
fn documented_codes() -> Vec<String> {
    let doc = std::fs::read_to_string(common::root().join("docs/language.md"))
        .expect("docs/language.md is readable");
    let mut out = Vec::new();
    for line in doc.lines() {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // `| code | meaning |` splits into ["", code, meaning, ""].
        if cells.len() >= 4 && cells[0].is_empty() {
            let c = cells[1];
            let is_code = c.len() == 5
                && (c.starts_with('E') || c.starts_with('W'))
                && c[1..].bytes().all(|b| b.is_ascii_digit());
            if is_code {
                out.push(c.to_string());
            }
        }
    }
    out
}

#[test]
fn docs_table_lists_exactly_the_registered_codes() {
    let documented = documented_codes();
    let registered: Vec<String> = codes::ALL.iter().map(|c| c.id.to_string()).collect();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for c in &documented {
        if !seen.insert(c) {
            problems.push(format!("{c} is listed twice in docs/language.md"));
        }
    }
    for c in &documented {
        if !registered.contains(c) {
            problems.push(format!(
                "{c} is documented in docs/language.md but not in codes::ALL"
            ));
        }
    }
    for c in &registered {
        if !documented.contains(c) {
            problems.push(format!(
                "{c} is in codes::ALL but missing from docs/language.md's table"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let mut sorted = registered.clone();
    sorted.sort();
    assert_eq!(
        sorted, registered,
        "codes::ALL is documented as being in numeric order"
    );
}

/// All golden outputs: `*.stderr`, `*.out`, `*.ast`, `*.tokens`, `*.types`, `*.ir` under tests/.
fn golden_texts(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            golden_texts(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("stderr" | "out" | "ast" | "tokens" | "types" | "ir")
        ) {
            if let Ok(text) = std::fs::read_to_string(&p) {
                out.push((p.display().to_string(), text));
            }
        }
    }
}

#[test]
fn every_code_appears_in_a_golden_output() {
    let mut texts = Vec::new();
    golden_texts(Path::new("tests"), &mut texts);
    assert!(!texts.is_empty(), "no golden files found under tests/");
    let mut missing = Vec::new();
    for c in codes::ALL {
        // Rendered diagnostics show `[E0101]`; the lexer's dump shows `error E0101:`.
        let rendered = format!("[{}]", c.id);
        let dumped = format!("error {}:", c.id);
        if !texts
            .iter()
            .any(|(_, t)| t.contains(&rendered) || t.contains(&dumped))
        {
            missing.push(format!("{} ({})", c.id, c.title));
        }
    }
    assert!(
        missing.is_empty(),
        "no golden output under tests/ shows these codes; add a case for each:\n  {}",
        missing.join("\n  ")
    );
}
