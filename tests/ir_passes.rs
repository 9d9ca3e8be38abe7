//! IR goldens per pass: `tests/ir/<pass>/NAME.kiln` → `NAME.ir`, the IR right after
//! `<pass>` (`--dump-ir-after <pass>`), then the diagnostics and exit code, if any.
//!
//! A case's first comment lines say how to build it:
//! - `# pipeline: NAME` — the pipeline (check, interp, cpu, fpga; default check);
//! - `# part: PART` — the FPGA part (default: ZCU102's);
//! - `# options: no-auto-schedule` — without the automatic schedules.
//!
//! The CPU passes see the fixed machine model (passes/src/transform/autoblock.rs
//! `Machine::default_model`), so goldens do not depend on the machine. Every registered
//! pass has a folder with at least one case, and a pass that transforms the IR must
//! change it in at least one of its cases (a pass that silently stopped working fails
//! here, not only in a golden diff).
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test ir_passes`.

mod common;

use common::{catch, Suite};
use kiln::{IrSpec, Options, RunSpec};
use std::path::Path;

/// Passes whose job is to change the IR (the others check or warn).
const TRANSFORMING: &[&str] = &[
    "schedule",
    "outline",
    "fuse",
    "autoschedule",
    "autoblock",
    "bounds",
    "stream",
];

/// The header of a case: pipeline, part, automatic schedule.
fn header(case: &Path) -> IrSpec {
    let text = std::fs::read_to_string(case).unwrap_or_default();
    let mut spec = IrSpec::default();
    for line in text.lines().take_while(|l| l.starts_with('#')) {
        let line = line.trim_start_matches('#').trim();
        if let Some(p) = line.strip_prefix("pipeline:") {
            spec.pipeline = match p.trim() {
                "check" => "check",
                "interp" => "interp",
                "cpu" => "cpu",
                "fpga" => "fpga",
                other => panic!("{}: unknown pipeline `{other}`", case.display()),
            };
        } else if let Some(p) = line.strip_prefix("part:") {
            spec.part = p.trim().to_string();
        } else if let Some(o) = line.strip_prefix("options:") {
            assert_eq!(o.trim(), "no-auto-schedule", "{}", case.display());
            spec.auto_schedule = false;
        }
    }
    spec
}

/// The IR dumped after `stage` (and the diagnostics), or the failure.
fn ir_after(case: &Path, spec: &IrSpec, stage: &str) -> Result<(String, i32), String> {
    let opts = Options {
        dump_ir_after: Some(stage.to_string()),
        fixed_machine: true,
        verify: true,
        ..Options::default()
    };
    let o = catch(|| kiln::ir(case, &RunSpec::default(), spec, &opts))?;
    // `kiln ir` prints the dump, then the IR after the whole pipeline.
    let plain = Options {
        dump_ir_after: None,
        ..opts.clone()
    };
    let last = catch(|| kiln::ir(case, &RunSpec::default(), spec, &plain))?.stdout;
    let marker = format!("; IR after `{stage}`\n");
    let dump = o
        .stdout
        .strip_prefix(&marker)
        .and_then(|d| d.strip_suffix(&last));
    let Some(dump) = dump else {
        return Err(format!(
            "no dump after `{stage}`:\n{}{}",
            o.stdout, o.stderr
        ));
    };
    let mut out = dump.to_string();
    if !o.stderr.is_empty() {
        out.push_str("--- stderr\n");
        out.push_str(&o.stderr);
    }
    Ok((out, o.code))
}

#[test]
fn ir_after_each_pass() {
    let passes: Vec<&str> = kiln_passes::pipelines::stage_names();
    let mut dirs: Vec<String> = std::fs::read_dir("tests/ir")
        .expect("tests/ir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    for p in &passes {
        assert!(
            dirs.iter().any(|d| d == p),
            "the pass `{p}` has no goldens: add tests/ir/{p}/NAME.kiln"
        );
    }
    for dir in dirs {
        assert!(
            passes.contains(&dir.as_str()),
            "tests/ir/{dir}: no stage is called `{dir}`"
        );
        let mut suite = Suite::new(&format!("tests/ir/{dir}"), "kiln");
        let mut changed = false;
        for case in suite.cases() {
            let spec = header(&case);
            match ir_after(&case, &spec, &dir) {
                Ok((mut text, code)) => {
                    if code != 0 {
                        text.push_str(&format!("--- exit code {code}\n"));
                    }
                    let before = previous_stage(&spec, &dir)
                        .and_then(|p| ir_after(&case, &spec, p).ok())
                        .map(|(t, _)| t);
                    changed |= before.is_some_and(|b| strip_stderr(&b) != strip_stderr(&text));
                    suite.check(&case, "ir", &text);
                }
                Err(e) => suite.fail(&case, e),
            }
        }
        if TRANSFORMING.contains(&dir.as_str()) {
            assert!(
                changed,
                "no case of tests/ir/{dir} shows `{dir}` changing the IR"
            );
        }
        suite.finish();
    }
}

/// The stage that runs right before `stage` in the case's pipeline.
fn previous_stage(spec: &IrSpec, stage: &str) -> Option<&'static str> {
    let p = kiln_passes::pipelines::pipeline(spec.pipeline)?;
    let options = kiln_passes::manager::PassOptions {
        auto_schedule: spec.auto_schedule,
        ..Default::default()
    };
    let mut prev = "lower";
    for (name, when) in p.steps {
        if !when.holds(&options) {
            continue;
        }
        if *name == stage {
            return Some(prev);
        }
        prev = name;
    }
    None
}

fn strip_stderr(text: &str) -> &str {
    text.split("--- stderr\n").next().unwrap_or(text)
}
