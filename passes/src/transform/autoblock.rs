//! The automatic CPU schedule: register and cache blocking of matrix-product-like nests,
//! for kernels the user gave no `cpu` schedule, chosen from a model of the machine.
//!
//! A candidate nest is a node's top-level loop `i` whose body is one loop `j`, whose body
//! holds an inner loop that updates a scalar (a reduction), with at least 2^20 innermost
//! iterations (smaller nests would spend more time in code generation than they save). The JIT runs `j` in SIMD lanes (16 per group) and
//! keeps the accumulators of one group in vector registers across the reduction loop.
//! - Register blocking: `i` is split by R and its inner loop unrolled and jammed, so the
//!   reduction updates R rows of accumulators and each load of the `j`-indexed operand
//!   serves R rows. R is the largest of 1, 2, 4, 8 whose accumulators fit in half the
//!   vector registers (the rest hold operands), and no more than half of `i`'s trips.
//! - Cache blocking: when the data the reduction reads through `j` for all of `j` (a
//!   `K x N` panel) exceeds the L2 cache, `j` is split into column blocks that fill at
//!   most half of it, and the block loop moves outermost, so a panel stays in L2 while
//!   every row uses it.
//!
//! Both are legal by construction of tile.rs (it refuses otherwise, and the nest is then
//! left alone). `--autotune` measures candidates instead of trusting the model
//! ([`candidates`]).
//!
//! Before (a 1024 x 1024 f32 product on a machine with a 1 MiB L2):
//! ```text
//! for i in 0..1024: for j in 0..1024: acc = 0; for k in 0..1024: acc += a[i,k]*b[k,j]; y[i,j] = acc
//! ```
//! After (R = 2, 128-column panels of 1024 x 128 x 4 bytes):
//! ```text
//! for j_o in 0..8: for i_o in 0..512: for j in 128*j_o..128*j_o + 128:
//!   acc = 0; acc_1 = 0
//!   for k in 0..1024: acc += a[2*i_o, k]*b[k, j]; acc_1 += a[2*i_o + 1, k]*b[k, j]
//!   y[2*i_o, j] = acc; y[2*i_o + 1, j] = acc_1
//! ```

use crate::ir::{Block, Instance, LocalId, Loop, Module, Node, Stmt};
use crate::tile;
use kiln_numeric::ScalarType;
use std::collections::HashSet;

pub use crate::target::{Blocking, Machine};

/// The candidate nests of an instance: (node index in `computes()` order, i, j).
fn nests(inst: &Instance, min_work: u64) -> Vec<(usize, Loop, Loop)> {
    let mut out = Vec::new();
    for (n, (_, c)) in inst.computes().into_iter().enumerate() {
        for s in &c.body {
            let Stmt::For(i) = s else { continue };
            let [Stmt::For(j)] = i.body.as_slice() else {
                continue;
            };
            // A reduction: an inner loop that updates a scalar (elementwise nests have
            // nothing to share between rows).
            let mut has_inner = false;
            for s in &j.body {
                if let Stmt::For(inner) = s {
                    crate::ir::walk_stmts(&inner.body, &mut Vec::new(), &mut |s, _| {
                        has_inner |= matches!(s, Stmt::Assign { .. });
                    });
                }
            }
            if has_inner
                && work(i).is_some_and(|w| w >= min_work)
                && !crate::ir::has_data_dependent_access(inst, &i.body)
            {
                out.push((n, i.clone(), j.clone()));
            }
        }
    }
    out
}

/// Nests with fewer innermost iterations than this run in well under a millisecond:
/// blocking them would cost more code generation time than it saves.
const MIN_WORK: u64 = 1 << 20;

/// The innermost iterations of a loop nest (`None` when a trip count varies).
fn work(l: &Loop) -> Option<u64> {
    let n = trips(l)?.max(0) as u64;
    let mut inner = 0u64;
    let mut leaf = true;
    for s in &l.body {
        if let Stmt::For(x) = s {
            leaf = false;
            inner = inner.saturating_add(work(x)?);
        }
    }
    Some(n.saturating_mul(if leaf { 1 } else { inner }))
}

fn trips(l: &Loop) -> Option<i64> {
    (l.step == 1)
        .then(|| l.hi.add_scaled(&l.lo, -1).as_constant())
        .flatten()
}

/// Bits of a local's register lane in the JIT (containers of 8 to 64 bits).
fn lane_bits(t: &ScalarType) -> u32 {
    match t {
        ScalarType::F32 => 32,
        ScalarType::Bool => 8,
        other => other.storage_bits().clamp(8, 64).next_power_of_two(),
    }
}

/// The model's blocking for the nest `i`/`j` of `inst`.
pub fn model(inst: &Instance, i: &Loop, j: &Loop, m: &Machine) -> Blocking {
    // Accumulators: locals updated inside the reduction loops of `j`'s body (they stay in
    // registers across those loops; one set per row).
    let mut accs: HashSet<LocalId> = HashSet::new();
    for s in &j.body {
        if let Stmt::For(inner) = s {
            crate::ir::walk_stmts(&inner.body, &mut Vec::new(), &mut |s, _| {
                if let Stmt::Assign { local, value, .. } = s {
                    let mut reads_itself = false;
                    inst.for_each_subexpr(*value, &mut |e| {
                        reads_itself |= matches!(e, crate::ir::Expr::Local(l) if l == local);
                    });
                    if reads_itself {
                        accs.insert(*local);
                    }
                }
            });
        }
    }
    let regs_per_row: u32 = accs
        .iter()
        .map(|l| (16 * lane_bits(&inst.local(*l).ty)).div_ceil(m.vector_bits))
        .sum::<u32>()
        .max(1);
    let ti = trips(i).unwrap_or(1);
    let mut rows = 1;
    for r in [2u32, 4, 8] {
        if r * regs_per_row <= m.vector_regs / 2 && (r as i64) * 2 <= ti && ti % r as i64 == 0 {
            rows = r;
        }
    }
    // Panel: bytes the reduction reads per column of `j`.
    let tj = trips(j).unwrap_or(1);
    let mut per_col: u64 = 0;
    let mut inner_trips = std::collections::HashMap::new();
    crate::ir::walk_stmts(&j.body, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            inner_trips.insert(l.var, trips(l).unwrap_or(1).max(1) as u64);
        }
    });
    crate::ir::walk_stmts(&j.body, &mut Vec::new(), &mut |s, _| {
        for r in crate::ir::stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            for a in loads {
                if !a.index.iter().any(|ix| ix.coeff(j.var) != 0) {
                    continue;
                }
                let mut extent = 1u64;
                for (v, t) in &inner_trips {
                    if a.index.iter().any(|ix| ix.coeff(*v) != 0) {
                        extent = extent.saturating_mul(*t);
                    }
                }
                let bytes = (lane_bits(&inst.tensor(a.tensor).elem) / 8).max(1) as u64;
                per_col = per_col.saturating_add(extent * bytes);
            }
        }
    });
    let budget = m.l2_bytes / 2;
    let cols = if per_col.saturating_mul(tj as u64) > m.l2_bytes {
        (1..=tj / 16)
            .rev()
            .map(|g| g * 16)
            .find(|&c| tj % c == 0 && per_col * c as u64 <= budget && c < tj)
            .map(|c| c as u32)
    } else {
        None
    };
    Blocking { rows, cols }
}

/// The blockings `--autotune` measures for the first nest of `module` (the model's
/// first), or none when no instance has a candidate nest (of any size: autotuning is
/// asked for).
pub fn candidates(module: &Module, skip: &HashSet<String>, m: &Machine) -> Vec<Blocking> {
    let Some((inst, i, j)) = module
        .instances
        .iter()
        .filter(|inst| !skip.contains(&inst.kernel))
        .find_map(|inst| {
            nests(inst, 0)
                .into_iter()
                .next()
                .map(|(_, i, j)| (inst, i, j))
        })
    else {
        return Vec::new();
    };
    let best = model(inst, &i, &j, m);
    let mut out = vec![best];
    let tj = trips(&j).unwrap_or(1);
    let panel = if tj >= 256 && tj % 128 == 0 {
        Some(128)
    } else {
        None
    };
    for rows in [1, 2, 4] {
        for cols in [None, panel, best.cols] {
            let b = Blocking { rows, cols };
            let ti = trips(&i).unwrap_or(1);
            if !out.contains(&b) && (rows == 1 || (rows as i64) * 2 <= ti && ti % rows as i64 == 0)
            {
                out.push(b);
            }
        }
    }
    out
}

/// The `autoblock` pass: [`auto_cpu`] on the kernels without a written `cpu` schedule,
/// with the model's blocking for the context's machine (or the forced one of
/// `--autotune`).
pub fn run(module: &mut Module, ctx: &mut crate::manager::PassContext) {
    let scheduled = cpu_scheduled(module);
    let forced = ctx.options.forced_blocking;
    let lines = auto_cpu(module, &scheduled, &ctx.machine, forced);
    ctx.remarks.extend(lines);
}

/// The kernels that have a written `cpu` schedule (the automatic one leaves them alone).
pub fn cpu_scheduled(module: &Module) -> HashSet<String> {
    module
        .schedules
        .iter()
        .filter(|s| s.target == kiln_lang::hir::Target::Cpu)
        .map(|s| s.kernel.clone())
        .collect()
}

/// Blocks every candidate nest of the instances whose kernel is not in `skip` (kernels
/// with a written `cpu` schedule), with the model's choice or `forced`. Returns a line
/// per blocked nest for `--timings`-style reporting.
pub fn auto_cpu(
    module: &mut Module,
    skip: &HashSet<String>,
    m: &Machine,
    forced: Option<Blocking>,
) -> Vec<String> {
    let mut report = Vec::new();
    for inst in module.instances.iter_mut() {
        if skip.contains(&inst.kernel) {
            continue;
        }
        let min_work = if forced.is_some() { 0 } else { MIN_WORK };
        for (node_index, i, j) in nests(inst, min_work) {
            let b = forced.unwrap_or_else(|| model(inst, &i, &j, m));
            if b.rows <= 1 && b.cols.is_none() {
                continue;
            }
            let node = inst.computes()[node_index].0;
            let Node::Compute(c) = &mut inst.graph[node] else {
                continue;
            };
            let body = c.body.clone();
            let before = (inst.loop_vars.len(), inst.locals.len(), inst.exprs.len());
            let done = block_nest(inst, node, &i, &j, b);
            if done.is_err() {
                // Not legal here: leave the nest as it was.
                if let Node::Compute(c) = &mut inst.graph[node] {
                    c.body = body;
                }
                inst.loop_vars.truncate(before.0);
                inst.locals.truncate(before.1);
                inst.truncate_exprs(before.2);
                continue;
            }
            report.push(format!(
                "{}: loops `{}`, `{}` blocked: {b}",
                inst.name,
                inst.loop_vars[i.var.index()].name,
                inst.loop_vars[j.var.index()].name
            ));
        }
    }
    report
}

const TMP: &str = "\u{1}auto";

/// Applies `b` to the nest `i`/`j` of `node` (see the module doc).
fn block_nest(
    inst: &mut Instance,
    node: crate::ir::NodeId,
    i: &Loop,
    j: &Loop,
    b: Blocking,
) -> Result<(), tile::TileError> {
    let names = |inst: &Instance, l: &Loop| inst.loop_vars[l.var.index()].name.clone();
    let (iname, jname) = (names(inst, i), names(inst, j));
    let (ti, tj) = (format!("{TMP}i"), format!("{TMP}j"));
    inst.loop_vars[i.var.index()].name = ti.clone();
    inst.loop_vars[j.var.index()].name = tj.clone();
    let io = format!("{TMP}i_o");
    let jo = format!("{TMP}j_o");
    let mut body = match &mut inst.graph[node] {
        Node::Compute(c) => std::mem::take(&mut c.body),
        _ => Block::new(),
    };
    let run = |inst: &mut Instance, body: &mut Block| -> Result<(), tile::TileError> {
        if b.rows > 1 {
            tile::split(inst, body, &ti, b.rows, &io, &ti)?;
            tile::unroll_jam(inst, body, &ti, 0)?;
        }
        if let Some(cols) = b.cols {
            tile::split_exact(inst, body, &tj, cols, &jo, &tj)?;
            let outer_i = if b.rows > 1 { io.clone() } else { ti.clone() };
            tile::reorder(inst, body, &[jo.clone(), outer_i, tj.clone()])?;
        }
        Ok(())
    };
    let r = run(inst, &mut body);
    if let Node::Compute(c) = &mut inst.graph[node] {
        c.body = body;
    }
    for v in inst.loop_vars.iter_mut() {
        if let Some(rest) = v.name.strip_prefix(TMP) {
            v.name = match rest {
                "i" => iname.clone(),
                "j" => jname.clone(),
                "i_o" => format!("{iname}_o"),
                _ => format!("{jname}_o"),
            };
        }
    }
    r
}
