//! Loop transformations on compute nodes: split (strip-mining, with a remainder loop),
//! reorder (interchange of a perfect nest), unroll-and-jam (register blocking) and buffer
//! (a tile of a tensor copied into a local array), each with its legality check.
//! Schedules (schedule.rs) and the automatic schedules (autoblock.rs for the CPU,
//! autoschedule.rs for the FPGA) call them; every engine then runs the transformed loops.
//!
//! A split keeps the original loop variable as the inner loop, iterating over the same
//! values, so indices and expressions in the body do not change:
//! ```text
//! for i in 0..10: y[i] = x[i]          split(i, 4)
//! ```
//! becomes
//! ```text
//! for i_o in 0..2:
//!   for i_i in 4*i_o..4*i_o + 4: y[i_i] = x[i_i]
//! for i_i in 8..10: y[i_i] = x[i_i]            (the remainder, a copy of the body)
//! ```
//! Unroll-and-jam of a loop with inner loops copies its body once per iteration, renames
//! the scalars each copy assigns, and fuses the copies' inner loops (the inner loop runs
//! once, updating every copy's scalars: a register block):
//! ```text
//! for i in 4*i_o..4*i_o + 2:                   unroll(i, 2) on cpu
//!   acc = 0; for k in 0..K: acc += a[i, k] * b[k, j]
//!   y[i, j] = acc
//! ```
//! becomes
//! ```text
//! acc = 0; acc_1 = 0
//! for k in 0..K: acc += a[4*i_o, k] * b[k, j]; acc_1 += a[4*i_o + 1, k] * b[k, j]
//! y[4*i_o, j] = acc; y[4*i_o + 1, j] = acc_1
//! ```
//! Legality. A split never changes the order of iterations. A reorder is refused when a
//! scalar carries a value between iterations of the nest, when a loop's bounds use a
//! variable that would move inside it, or when two accesses to a written tensor may touch
//! one element in iterations whose order the reorder changes (dependences are summarized
//! per loop as "same iteration" or "any": a conservative test). In particular the order
//! of the additions of an f32 reduction is never changed. Unroll-and-jam interleaves the
//! copies only when they assign private scalars and provably touch disjoint elements of
//! every tensor they write; otherwise the copies run one after the other (a plain
//! unroll).

use crate::ir::*;
use kiln_numeric::{narrowest_type, Fx, Interval};
use std::collections::{HashMap, HashSet};

/// Why a transformation was refused.
#[derive(Clone, Debug, PartialEq)]
pub struct TileError {
    pub message: String,
    pub help: String,
}

fn refuse<T>(message: String, help: &str) -> Result<T, TileError> {
    Err(TileError {
        message,
        help: help.to_string(),
    })
}

/// Applies `f` to the body of every compute node of `inst`, with the instance at hand.
pub fn for_each_body(
    inst: &mut Instance,
    f: &mut dyn FnMut(&mut Instance, &mut Block) -> Result<usize, TileError>,
) -> Result<usize, TileError> {
    let nodes: Vec<NodeId> = inst.graph.node_indices().collect();
    let mut count = 0;
    for n in nodes {
        let Node::Compute(c) = &mut inst.graph[n] else {
            continue;
        };
        let original = std::mem::take(&mut c.body);
        let mut body = original.clone();
        let r = f(inst, &mut body);
        // A transformation may drop statements (a loop left with no iterations): the
        // node's lists follow its body.
        let (reads, writes) = block_accesses(inst, &body);
        if let Node::Compute(c) = &mut inst.graph[n] {
            if r.is_ok() {
                c.body = body;
                c.reads = reads;
                c.writes = writes;
            } else {
                c.body = original;
            }
        }
        count += r?;
    }
    Ok(count)
}

/// The number of iterations of a step-1 loop whose bound is its start plus a constant.
fn constant_trips(l: &Loop) -> Option<i64> {
    (l.step == 1)
        .then(|| l.hi.add_scaled(&l.lo, -1).as_constant())
        .flatten()
        .map(|n| n.max(0))
}

fn var_name(inst: &Instance, v: LoopVarId) -> &str {
    &inst.loop_vars[v.index()].name
}

/// Replaces a loop by statements (or refuses).
type LoopRewrite<'a> = dyn FnMut(&mut Instance, Loop) -> Result<Vec<Stmt>, TileError> + 'a;

/// Rewrites every loop named `name` (in `block`, recursively) with `f`, which returns the
/// statements that replace it. Returns how many loops were rewritten.
fn rewrite_loops(
    inst: &mut Instance,
    block: &mut Block,
    name: &str,
    f: &mut LoopRewrite,
) -> Result<usize, TileError> {
    let mut count = 0;
    let old = std::mem::take(block);
    let keep = old.clone();
    let r = rewrite_each(inst, block, old, name, f, &mut count);
    if r.is_err() {
        // All or nothing: a refused loop leaves the block as it was.
        *block = keep;
    }
    r.map(|()| count)
}

fn rewrite_each(
    inst: &mut Instance,
    block: &mut Block,
    old: Block,
    name: &str,
    f: &mut LoopRewrite,
    count: &mut usize,
) -> Result<(), TileError> {
    for mut s in old {
        match &mut s {
            Stmt::For(l) if var_name(inst, l.var) == name => {
                let Stmt::For(l) = s else { unreachable!() };
                block.extend(f(inst, l)?);
                *count += 1;
                continue;
            }
            Stmt::For(l) => *count += rewrite_loops(inst, &mut l.body, name, f)?,
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                *count += rewrite_loops(inst, then_block, name, f)?;
                *count += rewrite_loops(inst, else_block, name, f)?;
            }
            _ => {}
        }
        block.push(s);
    }
    Ok(())
}

// ------------------------------------------------------------------ split

/// Splits every loop named `name` by `factor` into an outer loop named `outer` and an
/// inner one named `inner` (the original variable), plus a remainder loop when `factor`
/// does not divide the trip count. Returns how many loops were split.
pub fn split(
    inst: &mut Instance,
    block: &mut Block,
    name: &str,
    factor: u32,
    outer: &str,
    inner: &str,
) -> Result<usize, TileError> {
    rewrite_loops(inst, block, name, &mut |inst, l| {
        let Some(n) = constant_trips(&l) else {
            return refuse(
                format!("the loop `{name}` cannot be split: its trip count is not a constant (or its step is not 1)"),
                "split loops of step 1 whose bounds differ by a constant",
            );
        };
        let f = factor as i64;
        if f < 2 || f > n {
            return refuse(
                format!("the factor {factor} does not split the {n} iterations of `{name}`"),
                "use a factor between 2 and the trip count",
            );
        }
        Ok(split_loop(inst, l, f, n, outer, inner))
    })
}

/// [`split`], refusing a factor that does not divide the trip count (for `tile`, whose
/// loops must stay perfectly nested).
pub fn split_exact(
    inst: &mut Instance,
    block: &mut Block,
    name: &str,
    factor: u32,
    outer: &str,
    inner: &str,
) -> Result<usize, TileError> {
    let mut bad = None;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            if var_name(inst, l.var) == name {
                if let Some(n) = constant_trips(l).filter(|n| n % factor as i64 != 0) {
                    bad = Some(n);
                }
            }
        }
    });
    if let Some(n) = bad {
        return refuse(
            format!("the tile factor {factor} does not divide the {n} iterations of `{name}`"),
            "use a factor that divides the trip count, or `split` (which adds a remainder loop) and `reorder`",
        );
    }
    split(inst, block, name, factor, outer, inner)
}

/// The statements of `l` split by `f` (`n` iterations): see [`split`].
fn split_loop(inst: &mut Instance, l: Loop, f: i64, n: i64, outer: &str, inner: &str) -> Vec<Stmt> {
    let full = n / f;
    let ov = inst.add_loop_var(outer.to_string(), l.span);
    inst.loop_vars[l.var.index()].name = inner.to_string();
    let base = l.lo.add_scaled(&Affine::var(ov), f);
    let mut out = Vec::new();
    if n % f != 0 {
        let rem_lo = l.lo.add_scaled(&Affine::constant(f * full), 1);
        let mut c = Cloner::new(inst, true);
        let rv = c.fresh_var(l.var);
        let rem = Loop {
            var: rv,
            lo: rem_lo,
            hi: l.hi.clone(),
            step: 1,
            body: c.block(&l.body),
            directives: l.directives.clone(),
            span: l.span,
        };
        out.push(Stmt::For(rem));
    }
    let inner_loop = Loop {
        var: l.var,
        lo: base.clone(),
        hi: base.add_scaled(&Affine::constant(f), 1),
        step: 1,
        body: l.body,
        directives: l.directives,
        span: l.span,
    };
    let outer_loop = Loop {
        var: ov,
        lo: Affine::constant(0),
        hi: Affine::constant(full),
        step: 1,
        body: vec![Stmt::For(inner_loop)],
        directives: LoopDirectives::default(),
        span: l.span,
    };
    out.insert(0, Stmt::For(outer_loop));
    out
}

// ------------------------------------------------------------------ cloning

/// Deep copies of statements and expressions, substituting loop variables by affine
/// forms and renaming locals.
pub(crate) struct Cloner<'a> {
    inst: &'a mut Instance,
    vars: HashMap<LoopVarId, Affine>,
    locals: HashMap<LocalId, LocalId>,
    /// Give loops inside the copy fresh variables (a copy that runs beside the original).
    fresh_loops: bool,
    /// Value ranges of loop variables (for typing substituted loop-variable values).
    ranges: HashMap<LoopVarId, Interval>,
}

impl<'a> Cloner<'a> {
    pub(crate) fn new(inst: &'a mut Instance, fresh_loops: bool) -> Cloner<'a> {
        Cloner {
            inst,
            vars: HashMap::new(),
            locals: HashMap::new(),
            fresh_loops,
            ranges: HashMap::new(),
        }
    }

    fn fresh_var(&mut self, v: LoopVarId) -> LoopVarId {
        let lv = self.inst.loop_vars[v.index()].clone();
        let nv = self.inst.add_loop_var(lv.name, lv.span);
        self.vars.insert(v, Affine::var(nv));
        if let Some(r) = self.ranges.get(&v).cloned() {
            self.ranges.insert(nv, r);
        }
        nv
    }

    fn affine(&self, a: &Affine) -> Affine {
        let mut out = Affine::constant(a.constant);
        for &(v, c) in &a.terms {
            out = match self.vars.get(&v) {
                Some(rep) => out.add_scaled(rep, c),
                None => out.add_scaled(&Affine::var(v), c),
            };
        }
        out
    }

    fn access(&mut self, a: &Access) -> Access {
        Access {
            tensor: a.tensor,
            index: a.index.iter().map(|ix| self.affine(ix)).collect(),
            dynamic: a.dynamic.iter().map(|d| d.map(|e| self.expr(e))).collect(),
            checked: a.checked,
            guarded: a.guarded,
        }
    }

    /// Reads of loop variable `v` become `by`.
    pub(crate) fn substitute(&mut self, v: LoopVarId, by: Affine) {
        self.vars.insert(v, by);
    }

    pub(crate) fn block(&mut self, b: &Block) -> Block {
        b.iter().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&mut self, s: &Stmt) -> Stmt {
        match s {
            Stmt::For(l) => {
                let var = if self.fresh_loops {
                    self.fresh_var(l.var)
                } else {
                    l.var
                };
                Stmt::For(Loop {
                    var,
                    lo: self.affine(&l.lo),
                    hi: self.affine(&l.hi),
                    step: l.step,
                    body: self.block(&l.body),
                    directives: l.directives.clone(),
                    span: l.span,
                })
            }
            Stmt::If {
                cond,
                then_block,
                else_block,
            } => Stmt::If {
                cond: self.expr(*cond),
                then_block: self.block(then_block),
                else_block: self.block(else_block),
            },
            Stmt::Fail { message, span } => Stmt::Fail {
                message: message.clone(),
                span: *span,
            },
            // Loops holding calls are never transformed (the schedule pass refuses).
            Stmt::Call(c) => Stmt::Call(c.clone()),
            Stmt::Assign { local, value, span } => Stmt::Assign {
                local: *self.locals.get(local).unwrap_or(local),
                value: self.expr(*value),
                span: *span,
            },
            Stmt::Store {
                access,
                value,
                span,
            } => Stmt::Store {
                access: self.access(access),
                value: self.expr(*value),
                span: *span,
            },
        }
    }

    pub(crate) fn expr(&mut self, e: ExprId) -> ExprId {
        let span = self.inst.expr_spans[e.index()];
        let new = match self.inst.expr(e).clone() {
            Expr::LoopVar(v) => match self.vars.get(&v).cloned() {
                Some(rep) => match rep.terms.as_slice() {
                    [(w, 1)] if rep.constant == 0 => Expr::LoopVar(*w),
                    _ => return self.affine_value(&rep, e),
                },
                None => Expr::LoopVar(v),
            },
            Expr::Local(l) => Expr::Local(*self.locals.get(&l).unwrap_or(&l)),
            Expr::Load(a) => Expr::Load(self.access(&a)),
            Expr::Const(c) => Expr::Const(c),
            Expr::Unary(op, a) => Expr::Unary(op, self.expr(a)),
            Expr::Binary(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Expr::Binary(op, a, b)
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.expr(cond);
                let then = self.expr(then);
                let otherwise = self.expr(otherwise);
                Expr::Select {
                    cond,
                    then,
                    otherwise,
                }
            }
            Expr::Cast { to, arg } => Expr::Cast {
                to,
                arg: self.expr(arg),
            },
            Expr::Math { f, arg } => Expr::Math {
                f,
                arg: self.expr(arg),
            },
        };
        let id = self.inst.add_expr(new, span);
        self.inst.expr_types[id.index()] = self.inst.expr_types[e.index()];
        self.inst.expr_ranges[id.index()] = self.inst.expr_ranges[e.index()].clone();
        id
    }

    /// The value of the loop variable read by `orig` after substitution by `rep`: the
    /// integer expression `sum(c * var) + constant`, converted to `orig`'s type (the
    /// values are the same, so the conversion is exact).
    fn affine_value(&mut self, rep: &Affine, orig: ExprId) -> ExprId {
        let span = self.inst.expr_spans[orig.index()];
        let mut sum = self.int_const(rep.constant, span);
        for &(v, c) in &rep.terms {
            let r = self
                .ranges
                .get(&v)
                .cloned()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            let var = self.typed(Expr::LoopVar(v), r.clone(), span);
            let k = self.int_const(c, span);
            let kr = Interval::point(Fx::int(c as i128));
            let prod = self.typed(Expr::Binary(BinOp::Mul, k, var), r.mul(&kr), span);
            let sr = self.inst.expr_ranges[sum.index()]
                .clone()
                .unwrap_or_else(|| Interval::point(Fx::zero()));
            let pr = r.mul(&kr);
            sum = self.typed(Expr::Binary(BinOp::Add, sum, prod), sr.add(&pr), span);
        }
        let to = self.inst.expr_types[orig.index()].expect("loop transformations run on typed IR");
        let range = self.inst.expr_ranges[orig.index()].clone();
        let id = self.inst.add_expr(Expr::Cast { to, arg: sum }, span);
        self.inst.expr_types[id.index()] = Some(to);
        self.inst.expr_ranges[id.index()] = range;
        id
    }

    fn int_const(&mut self, c: i64, span: kiln_lang::Span) -> ExprId {
        let x = Fx::int(c as i128);
        self.typed(Expr::Const(Value::Num(x.clone())), Interval::point(x), span)
    }

    fn typed(&mut self, e: Expr, range: Interval, span: kiln_lang::Span) -> ExprId {
        let id = self.inst.add_expr(e, span);
        self.inst.expr_types[id.index()] = Some(narrowest_type(&range, 0));
        self.inst.expr_ranges[id.index()] = Some(range);
        id
    }
}

/// Value ranges of every loop variable of `block` (bounds evaluated on the ranges of the
/// loops around them; a loop that may run zero times still gets its bound's range).
fn loop_ranges(block: &Block, out: &mut HashMap<LoopVarId, Interval>) {
    let eval = |a: &Affine, out: &HashMap<LoopVarId, Interval>| -> Option<(i64, i64)> {
        let (mut lo, mut hi) = (a.constant, a.constant);
        for &(v, c) in &a.terms {
            let r = out.get(&v)?;
            let (rl, rh) = (r.lo.to_i64()?, r.hi.to_i64()?);
            let (x, y) = (c * rl, c * rh);
            lo += x.min(y);
            hi += x.max(y);
        }
        Some((lo, hi))
    };
    for s in block {
        match s {
            Stmt::For(l) => {
                if let (Some((llo, lhi)), Some((hlo, hhi))) = (eval(&l.lo, out), eval(&l.hi, out)) {
                    let (a, b) = if l.step > 0 {
                        (llo, (hhi - 1).max(llo))
                    } else {
                        ((hlo + 1).min(lhi), lhi)
                    };
                    out.insert(l.var, Interval::new(Fx::int(a as i128), Fx::int(b as i128)));
                }
                loop_ranges(&l.body, out);
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                loop_ranges(then_block, out);
                loop_ranges(else_block, out);
            }
            _ => {}
        }
    }
}

// ------------------------------------------------------------------ scalars

/// The locals assigned in `block` when each is assigned before it is read in every
/// iteration (so iterations share no scalar state); `Err(local)` names one that is not.
fn private_locals(inst: &Instance, block: &Block) -> Result<HashSet<LocalId>, LocalId> {
    let mut assigned = HashSet::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Assign { local, .. } = s {
            assigned.insert(*local);
        }
    });
    fn reads(inst: &Instance, e: ExprId, out: &mut Vec<LocalId>) {
        inst.for_each_subexpr(e, &mut |x| {
            if let Expr::Local(l) = x {
                out.push(*l);
            }
        });
    }
    fn walk(
        inst: &Instance,
        block: &Block,
        assigned: &HashSet<LocalId>,
        defined: &mut HashSet<LocalId>,
    ) -> Result<(), LocalId> {
        for s in block {
            let mut rd = Vec::new();
            for r in stmt_roots(s) {
                reads(inst, r, &mut rd);
            }
            if let Some(l) = rd
                .into_iter()
                .find(|l| assigned.contains(l) && !defined.contains(l))
            {
                return Err(l);
            }
            match s {
                Stmt::Assign { local, .. } => {
                    defined.insert(*local);
                }
                Stmt::For(l) => walk(inst, &l.body, assigned, &mut defined.clone())?,
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    let mut t = defined.clone();
                    let mut e = defined.clone();
                    walk(inst, then_block, assigned, &mut t)?;
                    walk(inst, else_block, assigned, &mut e)?;
                    *defined = t.intersection(&e).copied().collect();
                }
                Stmt::Store { .. } | Stmt::Fail { .. } | Stmt::Call(_) => {}
            }
        }
        Ok(())
    }
    walk(inst, block, &assigned, &mut HashSet::new())?;
    Ok(assigned)
}

/// Locals read anywhere in `block` outside the loop of variable `skip`.
fn locals_read_outside(inst: &Instance, block: &Block, skip: LoopVarId) -> HashSet<LocalId> {
    let mut out = HashSet::new();
    fn walk(inst: &Instance, block: &Block, skip: LoopVarId, out: &mut HashSet<LocalId>) {
        for s in block {
            if let Stmt::For(l) = s {
                if l.var == skip {
                    continue;
                }
            }
            for r in stmt_roots(s) {
                inst.for_each_subexpr(r, &mut |x| {
                    if let Expr::Local(l) = x {
                        out.insert(*l);
                    }
                });
            }
            match s {
                Stmt::For(l) => walk(inst, &l.body, skip, out),
                Stmt::If {
                    then_block,
                    else_block,
                    ..
                } => {
                    walk(inst, then_block, skip, out);
                    walk(inst, else_block, skip, out);
                }
                _ => {}
            }
        }
    }
    walk(inst, block, skip, &mut out);
    out
}

/// Every tensor access in `block`: (access, is a store).
fn accesses(inst: &Instance, block: &Block) -> Vec<(Access, bool)> {
    let mut out = Vec::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        for r in stmt_roots(s) {
            let mut loads = Vec::new();
            inst.loads_in(r, &mut loads);
            out.extend(loads.into_iter().map(|a| (a, false)));
        }
        if let Stmt::Store { access, .. } = s {
            out.push((access.clone(), true));
        }
    });
    out
}

/// Whether two accesses never name the same element, whatever the values of the loop
/// variables in `varying` (each access at its own values): some dimension that uses
/// none of them differs by a nonzero constant. (Two accesses `y[i, j + 1]` and
/// `y[i, j]` meet when `j` differs by one between them.)
///
/// `a` and `b` are the affine indices of accesses `aa` and `ba`; a dimension where either
/// has a data-dependent index proves nothing.
fn apart(
    (aa, a): (&Access, &[Affine]),
    (ba, b): (&Access, &[Affine]),
    varying: &HashSet<LoopVarId>,
) -> bool {
    a.iter().zip(b).enumerate().any(|(d, (x, y))| {
        let fixed = |ix: &Affine| ix.terms.iter().all(|(v, _)| !varying.contains(v));
        aa.dynamic_at(d).is_none()
            && ba.dynamic_at(d).is_none()
            && fixed(x)
            && fixed(y)
            && x.add_scaled(y, -1).as_constant().is_some_and(|c| c != 0)
    })
}

/// The variables of the loops inside `block`.
fn loops_inside(block: &Block) -> HashSet<LoopVarId> {
    let mut out = HashSet::new();
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            out.insert(l.var);
        }
    });
    out
}

// ------------------------------------------------------------------ reorder

/// Reorders the perfect nest of the loops named `order` (outermost first), wherever it
/// occurs. Returns how many nests were reordered.
pub fn reorder(
    inst: &mut Instance,
    block: &mut Block,
    order: &[String],
) -> Result<usize, TileError> {
    let mut count = 0;
    let whole = block.clone();
    // A nest starts at the outermost of the named loops, whichever it is.
    let in_order = |n: &str| order.iter().any(|o| o == n);
    each_loop_named(inst, block, &in_order, &mut |inst, l| {
        *l = reorder_nest(inst, l.clone(), order, &whole)?;
        count += 1;
        Ok(())
    })?;
    Ok(count)
}

/// Calls `f` on every loop whose name `named` accepts, in `block` (not looking inside
/// those loops).
fn each_loop_named(
    inst: &mut Instance,
    block: &mut Block,
    named: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(&mut Instance, &mut Loop) -> Result<(), TileError>,
) -> Result<(), TileError> {
    for s in block.iter_mut() {
        match s {
            Stmt::For(l) if named(var_name(inst, l.var)) => f(inst, l)?,
            Stmt::For(l) => each_loop_named(inst, &mut l.body, named, f)?,
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                each_loop_named(inst, then_block, named, f)?;
                each_loop_named(inst, else_block, named, f)?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn reorder_nest(
    inst: &Instance,
    top: Loop,
    order: &[String],
    whole: &Block,
) -> Result<Loop, TileError> {
    let names = order.join(", ");
    // The band: each loop the only statement of the one around it.
    let mut band: Vec<Loop> = Vec::new();
    let mut cur = top;
    loop {
        let next = match cur.body.as_slice() {
            [Stmt::For(inner)] if band.len() + 1 < order.len() => Some(inner.clone()),
            _ => None,
        };
        let mut shell = cur.clone();
        shell.body = Vec::new();
        let body = cur.body;
        band.push(shell);
        match next {
            Some(n) => cur = n,
            None => {
                band.last_mut().expect("a loop").body = body;
                break;
            }
        }
    }
    let found: Vec<&str> = band.iter().map(|l| var_name(inst, l.var)).collect();
    let mut sorted_found = found.clone();
    sorted_found.sort();
    let mut sorted_order: Vec<&str> = order.iter().map(|s| s.as_str()).collect();
    sorted_order.sort();
    if sorted_found != sorted_order {
        return refuse(
            format!(
                "`reorder({names})` needs those loops perfectly nested (each the only statement of the loop around it); found the nest {}",
                found.join(" > ")
            ),
            "reorder loops that follow each other directly, e.g. the loops of one `grid`",
        );
    }
    let inner_body = std::mem::take(&mut band.last_mut().expect("a loop").body);
    let pos_of = |v: LoopVarId| band.iter().position(|l| l.var == v);
    let new_pos: Vec<usize> = band
        .iter()
        .map(|l| {
            order
                .iter()
                .position(|n| n == var_name(inst, l.var))
                .expect("checked above")
        })
        .collect();
    // Bounds may only use variables of loops that stay outside.
    for (i, l) in band.iter().enumerate() {
        for a in [&l.lo, &l.hi] {
            for &(v, _) in &a.terms {
                if let Some(j) = pos_of(v) {
                    if new_pos[j] > new_pos[i] {
                        return refuse(
                            format!(
                                "`reorder({names})` would move `{}` inside `{}`, whose bounds use it",
                                var_name(inst, v),
                                var_name(inst, l.var)
                            ),
                            "keep a split's outer loop outside its inner loop",
                        );
                    }
                }
            }
        }
    }
    // Scalars: private to an iteration and unused after the nest.
    let privates = match private_locals(inst, &inner_body) {
        Ok(p) => p,
        Err(l) => {
            return refuse(
                format!(
                    "`reorder({names})` would change the order in which `{}` is updated: it carries a value from one iteration of the nest to the next",
                    inst.local(l).name
                ),
                "only loops whose iterations share no scalar can be reordered",
            )
        }
    };
    let outside = locals_read_outside(inst, whole, band[0].var);
    if let Some(l) = privates.iter().find(|l| outside.contains(l)) {
        return refuse(
            format!(
                "`reorder({names})` would change the value `{}` has after the nest",
                inst.local(*l).name
            ),
            "the last iteration would be a different one",
        );
    }
    // Dependences through tensors.
    let band_vars: Vec<LoopVarId> = band.iter().map(|l| l.var).collect();
    let mut varying = loops_inside(&inner_body);
    varying.extend(band_vars.iter().copied());
    let acc = accesses(inst, &inner_body);
    for (i, (a, a_store)) in acc.iter().enumerate() {
        for (b, b_store) in acc[i..].iter() {
            if a.tensor != b.tensor
                || !(*a_store || *b_store)
                || apart((a, &a.index), (b, &b.index), &varying)
            {
                continue;
            }
            let same = same_iteration_vars(&band, &band_vars, a, b);
            let moving: Vec<usize> = (0..band.len())
                .filter(|&p| !same.contains(&band_vars[p]))
                .collect();
            let keeps_order = moving.windows(2).all(|w| new_pos[w[0]] < new_pos[w[1]]);
            if !keeps_order {
                let t = inst.tensor(a.tensor);
                let what = if t.elem.is_float() {
                    format!(
                        " (an {} sum: its additions would round in another order)",
                        t.elem
                    )
                } else {
                    String::new()
                };
                return refuse(
                    format!(
                        "`reorder({names})` would change the order in which elements of `{}` are written and read{what}",
                        t.name
                    ),
                    "loops that index the written tensor can move freely; loops that do not must keep their relative order",
                );
            }
        }
    }
    // Rebuild in the new order.
    let mut by_pos: Vec<Option<Loop>> = vec![None; band.len()];
    for (i, l) in band.into_iter().enumerate() {
        by_pos[new_pos[i]] = Some(l);
    }
    let mut body = inner_body;
    for l in by_pos.into_iter().rev() {
        let mut l = l.expect("a permutation");
        l.body = body;
        body = vec![Stmt::For(l)];
    }
    let Some(Stmt::For(l)) = body.pop() else {
        unreachable!("a nest of at least one loop")
    };
    Ok(l)
}

/// Band loops whose iteration must be the same for accesses `a` and `b` (same index
/// function) to touch one element: a dimension indexed by that loop alone (plus loops
/// outside the band), and the outer loop of a split whose inner loop is such a loop.
fn same_iteration_vars(
    band: &[Loop],
    band_vars: &[LoopVarId],
    a: &Access,
    b: &Access,
) -> HashSet<LoopVarId> {
    let mut same = HashSet::new();
    if a.index != b.index {
        return same;
    }
    for ix in &a.index {
        let in_band: Vec<&(LoopVarId, i64)> = ix
            .terms
            .iter()
            .filter(|(v, _)| band_vars.contains(v))
            .collect();
        if let [(v, c)] = in_band.as_slice() {
            // Other terms must be loops outside the band (fixed while the band runs).
            let fixed = ix.terms.iter().all(|(w, _)| w == v || !inner_var(band, *w));
            if *c != 0 && fixed {
                same.insert(*v);
            }
        }
    }
    // A split: `for w in F*v + c .. F*v + c + F'` (F' <= F) pins `v` when `w` is pinned.
    loop {
        let before = same.len();
        for l in band {
            if !same.contains(&l.var) {
                continue;
            }
            let width = l.hi.add_scaled(&l.lo, -1).as_constant();
            for &(v, f) in &l.lo.terms {
                let only =
                    l.lo.terms
                        .iter()
                        .all(|(w, _)| *w == v || !band_vars.contains(w));
                if only && band_vars.contains(&v) && width.is_some_and(|w| w <= f && f > 0) {
                    same.insert(v);
                }
            }
        }
        if same.len() == before {
            break;
        }
    }
    same
}

/// Whether `v` is a loop variable bound inside the band's body (varies within one
/// iteration of the band); band loops' own variables are not.
fn inner_var(band: &[Loop], v: LoopVarId) -> bool {
    let inner = &band.last().expect("a band").body;
    let mut found = false;
    walk_stmts(inner, &mut Vec::new(), &mut |s, _| {
        if let Stmt::For(l) = s {
            found |= l.var == v;
        }
    });
    found
}

// ------------------------------------------------------------------ unroll-and-jam

/// The most copies of a loop body one unroll may make (the IR and the code grow with it).
const MAX_COPIES: i64 = 1024;

/// Unrolls every loop named `name` by `factor` (0: completely), jamming the copies'
/// inner loops when legal (see the module doc). A factor that does not divide the trip
/// count leaves a remainder loop, unrolled too. Returns how many loops were unrolled.
pub fn unroll_jam(
    inst: &mut Instance,
    block: &mut Block,
    name: &str,
    factor: u32,
) -> Result<usize, TileError> {
    let whole = block.clone();
    let mut ranges = HashMap::new();
    loop_ranges(block, &mut ranges);
    rewrite_loops(inst, block, name, &mut |inst, l| {
        let Some(n) = constant_trips(&l) else {
            return refuse(
                format!("the loop `{name}` cannot be unrolled: its trip count is not a constant (or its step is not 1)"),
                "unroll loops of step 1 whose bounds differ by a constant",
            );
        };
        let f = factor as i64;
        let copies = if f == 0 { n } else { f.min(n) };
        if copies > MAX_COPIES {
            return refuse(
                format!("unrolling `{name}` would make {copies} copies of its body (at most {MAX_COPIES})"),
                "unroll by a smaller factor, e.g. `unroll(v, 4)`",
            );
        }
        if f == 0 || f >= n {
            return Ok(jam(inst, l, n, &whole, &ranges));
        }
        let outer = format!("{name}_o");
        let mut out = Vec::new();
        let mut ranges = ranges.clone();
        for s in split_loop(inst, l, f, n, &outer, name) {
            let Stmt::For(mut lp) = s else { unreachable!() };
            loop_ranges(&vec![Stmt::For(lp.clone())], &mut ranges);
            // The outer loop of the split holds the loop to jam; a remainder is jammed
            // itself.
            if var_name(inst, lp.var) == outer {
                let Some(Stmt::For(inner)) = lp.body.pop() else {
                    unreachable!()
                };
                lp.body = jam(inst, inner, f, &whole, &ranges);
                out.push(Stmt::For(lp));
            } else {
                let m = constant_trips(&lp).unwrap_or(0);
                out.extend(jam(inst, lp, m, &whole, &ranges));
            }
        }
        Ok(out)
    })
}

/// One copy of an unrolled body: the unrolled variable's value, and renamed locals.
type CopySubst = (HashMap<LoopVarId, Affine>, HashMap<LocalId, LocalId>);

/// The statements of `l` (`n` iterations) unrolled completely, jammed when legal.
fn jam(
    inst: &mut Instance,
    l: Loop,
    n: i64,
    whole: &Block,
    ranges: &HashMap<LoopVarId, Interval>,
) -> Vec<Stmt> {
    let copies: Vec<Affine> = (0..n)
        .map(|r| l.lo.add_scaled(&Affine::constant(r), 1))
        .collect();
    let jammable = jam_legal(inst, &l, &copies, whole);
    // Per copy: the substitution and renamed locals.
    let mut subst: Vec<CopySubst> = Vec::new();
    for (r, base) in copies.iter().enumerate() {
        let mut locals = HashMap::new();
        if let Some(privates) = &jammable {
            if r > 0 {
                let mut ps: Vec<LocalId> = privates.iter().copied().collect();
                ps.sort();
                for p in ps {
                    let mut local = inst.local(p).clone();
                    local.name = format!("{}_{r}", local.name);
                    locals.insert(p, inst.add_local(local));
                }
            }
        }
        subst.push((HashMap::from([(l.var, base.clone())]), locals));
    }
    let mut c = Cloner::new(inst, true);
    c.ranges = ranges.clone();
    if jammable.is_some() {
        jam_block(&mut c, &l.body, &subst, l.var)
    } else {
        let mut out = Vec::new();
        for (vars, locals) in &subst {
            c.vars = vars.clone();
            c.locals = locals.clone();
            out.extend(c.block(&l.body));
        }
        out
    }
}

/// The copies of `block` interleaved statement by statement; loops whose bounds do not
/// use the unrolled variable are fused across the copies.
fn jam_block(c: &mut Cloner, block: &Block, subst: &[CopySubst], var: LoopVarId) -> Block {
    let mut out = Vec::new();
    for s in block {
        match s {
            Stmt::For(l) if l.lo.coeff(var) == 0 && l.hi.coeff(var) == 0 => {
                out.push(Stmt::For(Loop {
                    var: l.var,
                    lo: l.lo.clone(),
                    hi: l.hi.clone(),
                    step: l.step,
                    body: jam_block(c, &l.body, subst, var),
                    directives: l.directives.clone(),
                    span: l.span,
                }));
            }
            _ => {
                for (vars, locals) in subst {
                    c.vars = vars.clone();
                    c.locals = locals.clone();
                    out.push(c.stmt(s));
                }
            }
        }
    }
    out
}

/// The locals to rename per copy when the copies of `l`'s body may be interleaved, or
/// `None` (run them one after the other).
fn jam_legal(
    inst: &Instance,
    l: &Loop,
    copies: &[Affine],
    whole: &Block,
) -> Option<HashSet<LocalId>> {
    let privates = private_locals(inst, &l.body).ok()?;
    let outside = locals_read_outside(inst, whole, l.var);
    if privates.iter().any(|p| outside.contains(p)) {
        return None;
    }
    // Loops fused across copies must not depend on the unrolled variable through
    // anything but their body; inner loops with such bounds stay per copy (fine).
    let acc = accesses(inst, &l.body);
    let written: HashSet<TensorId> = acc
        .iter()
        .filter(|(_, s)| *s)
        .map(|(a, _)| a.tensor)
        .collect();
    let sub = |ix: &[Affine], base: &Affine| -> Vec<Affine> {
        ix.iter()
            .map(|a| {
                let k = a.coeff(l.var);
                a.add_scaled(&Affine::var(l.var), -k).add_scaled(base, k)
            })
            .collect()
    };
    // Inner loops are fused across the copies: each copy's access may meet another's at
    // different iterations of them.
    let varying = loops_inside(&l.body);
    for (a, a_store) in &acc {
        if !written.contains(&a.tensor) {
            continue;
        }
        for (b, b_store) in &acc {
            if b.tensor != a.tensor || !(*a_store || *b_store) {
                continue;
            }
            for (r, ba) in copies.iter().enumerate() {
                for bb in &copies[r + 1..] {
                    let (ai, bi) = (sub(&a.index, ba), sub(&b.index, bb));
                    if !apart((a, &ai), (b, &bi), &varying) {
                        return None;
                    }
                }
            }
        }
    }
    Some(privates)
}

// ------------------------------------------------------------------ buffers

/// Copies, at the start of each iteration of every loop named `at` (or once before the
/// node's statements when `at` is `None`), the box of tensor `x` that the iteration reads
/// into a new on-chip tensor, and makes the iteration read the copy. Returns the buffers
/// made. Refused when `x` is written in the node, when an access is guarded or unproven
/// (the box could reach outside `x`), or when the box's size is not a constant.
///
/// Before: `for i: for k in 0..8: acc += a[i, k] * w[k]` with `buffer(a, at=i)`.
/// After: `for i: for d1 in 0..8: a_buf[d1] = a[i, d1]` then `... a_buf[k] * w[k]`.
pub fn buffer(
    inst: &mut Instance,
    block: &mut Block,
    x: TensorId,
    at: Option<&str>,
) -> Result<Vec<TensorId>, TileError> {
    let xname = inst.tensor(x).name.clone();
    let mut written = false;
    walk_stmts(block, &mut Vec::new(), &mut |s, _| {
        if let Stmt::Store { access, .. } = s {
            written |= access.tensor == x;
        }
    });
    if written {
        return refuse(
            format!("`{xname}` is written where it would be buffered"),
            "buffer tensors the loop only reads",
        );
    }
    let mut made = Vec::new();
    match at {
        None => {
            if let Some(t) = buffer_block(inst, block, x)? {
                made.push(t);
            }
        }
        Some(name) => each_loop_named(inst, block, &|n| n == name, &mut |inst, l| {
            made.extend(buffer_block(inst, &mut l.body, x)?);
            Ok(())
        })?,
    }
    Ok(made)
}

/// Each loop inside a block as `base + sum(k * t)`: `base` affine in the variables
/// outside the block, each `t` running over `0..n` (its own iterations, and those of inner
/// loops its start depends on). Refused for a loop whose trip count varies.
type Spread = (Affine, Vec<(i64, i64)>);

fn inner_spreads(
    inst: &Instance,
    b: &Block,
    spreads: &mut HashMap<LoopVarId, Spread>,
) -> Result<(), TileError> {
    for s in b {
        match s {
            Stmt::For(l) => {
                let Some(n) = constant_trips(l) else {
                    return refuse(
                        format!(
                            "the loop `{}` inside the buffered region has a varying trip count",
                            var_name(inst, l.var)
                        ),
                        "buffer at a loop whose inner loops have constant trip counts (step 1)",
                    );
                };
                let mut base = Affine::constant(l.lo.constant);
                let mut offsets = vec![(1, n.max(1))];
                for &(v, c) in &l.lo.terms {
                    match spreads.get(&v) {
                        Some((b0, offs)) => {
                            base = base.add_scaled(b0, c);
                            offsets.extend(offs.iter().map(|&(k, m)| (k * c, m)));
                        }
                        None => base = base.add_scaled(&Affine::var(v), c),
                    }
                }
                spreads.insert(l.var, (base, offsets));
                inner_spreads(inst, &l.body, spreads)?;
            }
            Stmt::If {
                then_block,
                else_block,
                ..
            } => {
                inner_spreads(inst, then_block, spreads)?;
                inner_spreads(inst, else_block, spreads)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Buffers `x` for the statements of `b` (see [`buffer`]); `None` when they do not read it.
fn buffer_block(
    inst: &mut Instance,
    b: &mut Block,
    x: TensorId,
) -> Result<Option<TensorId>, TileError> {
    let xname = inst.tensor(x).name.clone();
    let reads: Vec<Access> = accesses(inst, b)
        .into_iter()
        .filter(|(a, _)| a.tensor == x)
        .map(|(a, _)| a)
        .collect();
    if reads.is_empty() {
        return Ok(None);
    }
    // Reads under an `if` may be proven in bounds only by its condition.
    fn under_if(inst: &Instance, b: &Block, x: TensorId, inside: bool) -> bool {
        b.iter().any(|s| match s {
            Stmt::For(l) => under_if(inst, &l.body, x, inside),
            Stmt::If {
                then_block,
                else_block,
                ..
            } => under_if(inst, then_block, x, true) || under_if(inst, else_block, x, true),
            _ => {
                inside
                    && stmt_roots(s).into_iter().any(|r| {
                        let mut loads = Vec::new();
                        inst.loads_in(r, &mut loads);
                        loads.iter().any(|a| a.tensor == x)
                    })
            }
        })
    }
    if reads.iter().any(|a| !a.is_affine()) {
        return refuse(
            format!("`{xname}` is read with a data-dependent index here, so the box of elements it reads is not known"),
            "buffer tensors read at affine indices",
        );
    }
    if reads.iter().any(|a| a.guarded || a.checked) || under_if(inst, b, x, false) {
        return refuse(
            format!("`{xname}` is read under a condition or with an unproven index here, so the box of elements it reads could reach outside it"),
            "buffer tensors whose every read is proven in bounds",
        );
    }
    let mut spreads = HashMap::new();
    inner_spreads(inst, b, &mut spreads)?;
    // Per dimension: base (outer affine) + [lo, hi].
    let rank = inst.tensor(x).shape.len();
    let mut base: Vec<Option<Affine>> = vec![None; rank];
    let mut box_lo = vec![i64::MAX; rank];
    let mut box_hi = vec![i64::MIN; rank];
    for a in &reads {
        for (d, ix) in a.index.iter().enumerate() {
            let mut outer = Affine::constant(ix.constant);
            let (mut lo, mut hi) = (0i64, 0i64);
            for &(v, c) in &ix.terms {
                match spreads.get(&v) {
                    Some((b0, offsets)) => {
                        outer = outer.add_scaled(b0, c);
                        for &(k, n) in offsets {
                            let (p, q) = (0, c * k * (n - 1));
                            lo += p.min(q);
                            hi += p.max(q);
                        }
                    }
                    None => outer = outer.add_scaled(&Affine::var(v), c),
                }
            }
            let b0 = base[d].get_or_insert_with(|| outer.clone());
            let Some(shift) = outer.add_scaled(b0, -1).as_constant() else {
                return refuse(
                    format!("the reads of `{xname}` here do not lie in one box of constant size (dimension {})", d + 1),
                    "buffer where every read's index differs from the others by constants and inner loop variables",
                );
            };
            box_lo[d] = box_lo[d].min(lo + shift);
            box_hi[d] = box_hi[d].max(hi + shift);
        }
    }
    let extents: Vec<usize> = (0..rank)
        .map(|d| (box_hi[d] - box_lo[d] + 1) as usize)
        .collect();
    let origin: Vec<Affine> = (0..rank)
        .map(|d| {
            base[d]
                .clone()
                .unwrap_or_default()
                .add_scaled(&Affine::constant(box_lo[d]), 1)
        })
        .collect();
    // The buffer and its copy nest.
    let xt = inst.tensor(x).clone();
    let buf = inst.add_tensor(Tensor {
        name: format!("{xname}_buf"),
        elem: xt.elem,
        shape: extents.clone(),
        kind: TensorKind::Temp,
        declared: true,
        reason: TypeReason::Declared,
        range: xt.range.clone(),
        partition: Vec::new(),
        stream_depth: None,
        stream_width: 1,
        bound_to: Vec::new(),
        span: xt.span,
    });
    let vars: Vec<LoopVarId> = (0..rank)
        .map(|d| inst.add_loop_var(format!("{xname}_b{d}"), xt.span))
        .collect();
    let src = Access {
        tensor: x,
        index: (0..rank)
            .map(|d| origin[d].add_scaled(&Affine::var(vars[d]), 1))
            .collect(),
        dynamic: Vec::new(),
        checked: false,
        guarded: false,
    };
    let load = inst.add_expr(Expr::Load(src), xt.span);
    inst.expr_types[load.index()] = Some(xt.elem);
    inst.expr_ranges[load.index()] = xt.range.clone();
    let mut copy = vec![Stmt::Store {
        access: Access {
            tensor: buf,
            index: vars.iter().map(|v| Affine::var(*v)).collect(),
            dynamic: Vec::new(),
            checked: false,
            guarded: false,
        },
        value: load,
        span: xt.span,
    }];
    for d in (0..rank).rev() {
        copy = vec![Stmt::For(Loop {
            var: vars[d],
            lo: Affine::constant(0),
            hi: Affine::constant(extents[d] as i64),
            step: 1,
            body: copy,
            directives: LoopDirectives::default(),
            span: xt.span,
        })];
    }
    // Reads of `x` in the block read the buffer.
    for e in loads_of(inst, b, x) {
        if let Expr::Load(a) = &mut inst.exprs[e.index()] {
            a.tensor = buf;
            for (d, ix) in a.index.iter_mut().enumerate() {
                *ix = ix.add_scaled(&origin[d], -1);
            }
        }
    }
    copy.append(b);
    *b = copy;
    Ok(Some(buf))
}
