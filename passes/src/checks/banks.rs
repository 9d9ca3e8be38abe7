//! The `banks` pass: checks that the accesses an unrolled loop makes in one cycle fit
//! the banks of each on-chip array (E0514), after the written and the automatic fpga
//! schedules, so that `kiln report` and `kiln hls` accept and reject the same schedules.
//! It changes nothing.
//!
//! Before and after: the same module. With `for k in 0..8: [unroll 4]` reading `w[k]`
//! where `w` is not partitioned, the four copies of the load hit one bank with two
//! ports: E0514, with the partition that would fit (`cyclic factor 4 dim 1`).

use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::ir::{
    walk_stmts, Access, Block, Instance, Loop, Module, PartitionKind, Stmt, TensorKind,
};
use crate::manager::PassContext;
use std::collections::{HashMap, HashSet};

/// The pass.
pub fn run(module: &mut Module, ctx: &mut PassContext) {
    for inst in &module.instances {
        for (_, c) in inst.computes() {
            walk_stmts(&c.body, &mut Vec::new(), &mut |s, _| {
                if let Stmt::For(l) = s {
                    check_loop(inst, l, &mut ctx.diags);
                }
            });
        }
    }
}

/// Checks that the accesses an unrolled loop makes in one cycle fit the banks of each
/// on-chip array: the `U` copies of an access whose index in dimension `d` moves by
/// `c` per iteration touch `i, i + c, ..., i + (U - 1)c`; a bank has two ports.
fn check_loop(inst: &Instance, l: &Loop, diags: &mut Diagnostics) {
    let Some(unroll) = l.directives.unroll else {
        return;
    };
    let copies = match unroll {
        0 => match (l.lo.as_constant(), l.hi.as_constant()) {
            (Some(lo), Some(hi)) => ((hi - lo).abs() + l.step.abs() - 1) / l.step.abs(),
            _ => return,
        },
        f => f as i64,
    };
    if copies <= 2 {
        return;
    }
    let mut accesses = Vec::new();
    collect_accesses(inst, &l.body, &mut accesses);
    let mut reported = HashSet::new();
    for a in accesses {
        let tm = inst.tensor(a.tensor);
        if !matches!(tm.kind, TensorKind::Temp | TensorKind::Const(_))
            || inst.outputs.contains(&a.tensor)
        {
            continue; // ports: one m_axi memory, not banked
        }
        for (d, idx) in a.index.iter().enumerate() {
            let c = idx.coeff(l.var) * l.step;
            if c == 0 {
                continue;
            }
            let n = tm.shape[d] as i64;
            let part = tm.partition.iter().find(|p| p.dim == d);
            let bank = |i: i64| -> i64 {
                match part {
                    None => 0,
                    Some(p) => match p.kind {
                        PartitionKind::Complete => i,
                        PartitionKind::Cyclic => i.rem_euclid(p.factor.max(1) as i64),
                        PartitionKind::Block => {
                            let size = (n + p.factor.max(1) as i64 - 1) / p.factor.max(1) as i64;
                            i.div_euclid(size.max(1))
                        }
                    },
                }
            };
            let mut per_bank: HashMap<i64, i64> = HashMap::new();
            for k in 0..copies {
                *per_bank.entry(bank(c * k)).or_insert(0) += 1;
            }
            let worst = per_bank.values().copied().max().unwrap_or(0);
            if worst > 2 && reported.insert((a.tensor, d)) {
                let var = &inst.loop_vars[l.var.index()].name;
                let how = match part {
                    None => "it is not partitioned along that dimension".to_string(),
                    Some(p) => format!(
                        "its {} partition along that dimension puts {worst} of them in one bank",
                        match p.kind {
                            PartitionKind::Cyclic => format!("cyclic (factor {})", p.factor),
                            PartitionKind::Block => format!("block (factor {})", p.factor),
                            PartitionKind::Complete => "complete".to_string(),
                        }
                    ),
                };
                let need = copies * c.abs();
                diags.push(
                    Diagnostic::error(
                        codes::SCHEDULE_CONFLICT,
                        format!(
                            "unrolling loop `{var}` by {copies} reads or writes `{}` {copies} times per cycle along dimension {}, but {how}",
                            tm.name,
                            d + 1
                        ),
                    )
                    .at(l.span)
                    .note("an on-chip memory bank has two ports: at most two accesses per cycle")
                    .help(format!(
                        "partition `{}` cyclically along dimension {} with factor {} (or completely), or unroll less",
                        tm.name,
                        d + 1,
                        need.min(n)
                    )),
                );
            }
        }
    }
}

fn collect_accesses(inst: &Instance, b: &Block, out: &mut Vec<Access>) {
    for s in b {
        match s {
            Stmt::For(l) => collect_accesses(inst, &l.body, out),
            // A call's accesses are the callee's, against its own ports.
            Stmt::Fail { .. } | Stmt::Call(_) => {}
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => {
                inst.loads_in(*cond, out);
                collect_accesses(inst, then_block, out);
                collect_accesses(inst, else_block, out);
            }
            Stmt::Assign { value, .. } => inst.loads_in(*value, out),
            Stmt::Store { access, value, .. } => {
                out.push(access.clone());
                inst.loads_in(*value, out);
                for d in access.dynamic_exprs() {
                    inst.loads_in(d, out);
                }
            }
        }
    }
}
