//! `kiln run --batch`: a per-sample kernel run over the leading axis of its data, in one
//! process and compiled once.
//!
//! Every input given as a file (`--input`, or a `load` default) is a batch: its leading
//! axis counts the samples, and each entry along it is one sample of the shape the kernel
//! declares. The entry code (src/entry.rs) binds shapes and compiles from the first
//! sample, and converts each whole batch at once (one W0802 for a batch). Here the
//! converted batches are split into samples, the samples run (the JIT spreads them over
//! its threads; the interpreter runs them in order), and each result gains the leading
//! axis again. Inputs with a literal default are the same for every sample.

use crate::session::Session;
use crate::{Engine, RunSpec};
use kiln_passes::data::TensorValue;
use kiln_passes::ir::Module;
use kiln_passes::overflow::OverflowReport;
use kiln_passes::run_error::RunError;

/// The samples of a batch: for each, one value per entry input (a batched input's entry,
/// or a shared input as it is).
pub(crate) fn split_samples(
    module: &Module,
    inputs: &[TensorValue],
    size: usize,
) -> Vec<Vec<TensorValue>> {
    let Some(inst) = module.entry_instance() else {
        return Vec::new();
    };
    let mut samples: Vec<Vec<TensorValue>> = (0..size).map(|_| Vec::new()).collect();
    for (&t, value) in inst.inputs.iter().zip(inputs) {
        let declared = &inst.tensor(t).shape;
        let batched = value.shape.len() == declared.len() + 1;
        let n = value.values.len() / size.max(1);
        for (b, sample) in samples.iter_mut().enumerate() {
            sample.push(if batched {
                TensorValue {
                    elem: value.elem,
                    shape: declared.clone(),
                    values: value.values[b * n..(b + 1) * n].to_vec(),
                }
            } else {
                value.clone()
            });
        }
    }
    samples
}

/// The samples' inputs stacked again along the leading axis, a shared input repeated
/// for every sample (what the HLS testbench of a batch top feeds).
pub(crate) fn stack_inputs(samples: Vec<Vec<TensorValue>>) -> Vec<TensorValue> {
    stack(samples)
}

/// Each result of the samples' runs, stacked along a new leading axis.
fn stack(results: Vec<Vec<TensorValue>>) -> Vec<TensorValue> {
    let size = results.len();
    let mut stacked: Vec<TensorValue> = Vec::new();
    for sample in results {
        for (i, r) in sample.into_iter().enumerate() {
            match stacked.get_mut(i) {
                Some(s) => s.values.extend(r.values),
                None => {
                    let mut shape = vec![size];
                    shape.extend(&r.shape);
                    let mut values = Vec::with_capacity(r.values.len() * size);
                    values.extend(r.values);
                    stacked.push(TensorValue {
                        elem: r.elem,
                        shape,
                        values,
                    });
                }
            }
        }
    }
    stacked
}

/// The first failure of a batch (with the sample it happened in), or the stacked results.
fn collect(results: Vec<Result<Vec<TensorValue>, RunError>>) -> Result<Vec<TensorValue>, RunError> {
    let mut ok = Vec::with_capacity(results.len());
    for (b, r) in results.into_iter().enumerate() {
        match r {
            Ok(v) => ok.push(v),
            Err(mut e) => {
                e.notes.insert(0, format!("in sample {b} of the batch"));
                return Err(e);
            }
        }
    }
    Ok(stack(ok))
}

/// What a batch run gives: the stacked results (or the first sample's failure), and the
/// overflow counts of every sample when they were counted.
pub(crate) type BatchOutcome = (Result<Vec<TensorValue>, RunError>, Option<OverflowReport>);

/// Runs every sample of the batch on the spec's engine. `None` when the JIT could not
/// compile the module (reported).
pub(crate) fn run_batch(
    s: &mut Session,
    module: &Module,
    samples: &[Vec<TensorValue>],
    spec: &RunSpec,
) -> Option<BatchOutcome> {
    match spec.engine {
        Engine::Interp => {
            let mut report = spec.check_overflow.then(OverflowReport::default);
            let run = |report: &mut Option<OverflowReport>| {
                samples
                    .iter()
                    .map(|inputs| match report {
                        Some(r) => {
                            let (result, counts) =
                                kiln_interp::run_counting_overflow(module, inputs);
                            r.merge(counts);
                            result
                        }
                        None => kiln_interp::run(module, inputs),
                    })
                    .collect::<Vec<_>>()
            };
            let results = crate::commands::run::repeated(s, spec.repeat, || {
                Ok::<_, RunError>(run(&mut report))
            })?
            .ok()?;
            Some((collect(results), report))
        }
        Engine::Jit => {
            let jit_opts = kiln_jit::JitOptions {
                threads: spec.threads,
                check_overflow: spec.check_overflow,
                ..Default::default()
            };
            let program = match s.time("codegen", |_| kiln_jit::Program::compile(module, &jit_opts))
            {
                Ok(p) => p,
                Err(e) => {
                    s.push(e.to_diagnostic());
                    return None;
                }
            };
            let results = crate::commands::run::repeated(s, spec.repeat, || {
                Ok::<_, RunError>(program.run_batch(samples))
            })?
            .ok()?;
            Some((collect(results), program.take_overflow_report()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_numeric::ScalarType;
    use kiln_passes::ir::Value;

    fn ints(shape: &[usize], v: &[i128]) -> TensorValue {
        TensorValue {
            elem: ScalarType::int(8),
            shape: shape.to_vec(),
            values: v
                .iter()
                .map(|&x| Value::Num(kiln_numeric::Fx::int(x)))
                .collect(),
        }
    }

    #[test]
    fn results_stack_along_a_new_leading_axis() {
        let stacked = stack(vec![
            vec![ints(&[2], &[1, 2]), ints(&[], &[5])],
            vec![ints(&[2], &[3, 4]), ints(&[], &[6])],
        ]);
        assert_eq!(stacked[0], ints(&[2, 2], &[1, 2, 3, 4]));
        assert_eq!(stacked[1], ints(&[2], &[5, 6]));
    }

    #[test]
    fn a_failing_sample_is_named() {
        let e = RunError::new(
            kiln_lang::diag::codes::DIV_BY_ZERO,
            "division by zero".into(),
            kiln_passes::Span::default(),
        );
        let err = collect(vec![Ok(vec![ints(&[], &[1])]), Err(e)]).unwrap_err();
        assert_eq!(err.notes[0], "in sample 1 of the batch");
    }
}
