//! `kiln check FILE...`: the front end on each file, every module parameter's data, and
//! every kernel whose inputs are all known (concrete types or defaults) instantiated
//! through the `check` pipeline, which checks what depends on shapes and types.

use crate::entry::concrete_shapes;
use crate::session::{entry_args, on_big_stack, Plan, Session};
use crate::{Options, Outcome, RunSpec};
use kiln_lang::hir::KParamKind;
use std::path::PathBuf;

/// `kiln check FILE...`
pub fn check(files: &[PathBuf], opts: &Options) -> Outcome {
    on_big_stack(|| check_files(files, opts))
}

fn check_files(files: &[PathBuf], opts: &Options) -> Outcome {
    let mut all = Outcome::default();
    for f in files {
        let mut s = Session::new(opts);
        if let Some(program) = s.front(f) {
            // Kernels that need no inputs from outside are instantiated too, which checks
            // everything that depends on concrete shapes and types.
            if let Some(globals) = s.global_data(&program) {
                // Every parameter's data, used or not.
                for (g, raw) in program.globals.iter().zip(&globals) {
                    let (_, diags) = kiln_passes::load_global(g, raw.as_ref());
                    for d in diags {
                        s.push(d);
                    }
                }
                for &k in &program.entry_kernels.clone() {
                    // Defaults are read (and their shapes checked) for every kernel; kernels
                    // whose inputs are all known (concrete types or defaults) are
                    // instantiated, which checks what depends on shapes and types.
                    let before = s.diags.iter().filter(|d| d.is_error()).count();
                    let Some(defaults) = s.entry_data(&program, k, &RunSpec::default()) else {
                        continue;
                    };
                    let args = entry_args(&program, k, &defaults, concrete_shapes(&program, k));
                    let complete = program.kernels[k]
                        .params
                        .iter()
                        .zip(&args)
                        .all(|(p, a)| matches!(p.kind, KParamKind::Const) || a.is_some());
                    let own_errors = s.diags.iter().filter(|d| d.is_error()).count() > before;
                    if complete && !own_errors {
                        s.build(&program, &globals, k, &args, &Plan::for_pipeline("check"));
                    }
                }
            }
        }
        let o = s.finish();
        all.stderr.push_str(&o.stderr);
        all.stdout.push_str(&o.stdout);
        all.code = all.code.max(o.code);
    }
    all
}
