//! Pass `bounds`: prove tensor accesses in bounds, or leave them checked at run time.
//!
//! For every load and store, the range of each affine index over the iteration domain is
//! computed from the loop bounds and refined by enclosing guards: an `if` (or the lazy
//! branch of a conditional expression, or the right side of `and`) whose condition compares
//! affine expressions. An access proven in bounds gets `checked = false`; engines check
//! the others at run time. An access that is certainly out of bounds (it runs
//! unconditionally, in loops with constant bounds, and its index range leaves the
//! dimension) is a compile-time error.
//!
//! Before: `y[i] = x[i + 1]` for `i in 0..7` with `x: [8]`: both accesses `checked`.
//! After: both proven (`i + 1` is in [1, 7]), `checked = false`.
//! With `i in 0..8`, `x[i + 1]` reaches 8: error E0403.
//!
//! A data-dependent index (`hist[x[i]]`) is proven from the range type inference gives
//! its expression (`x: uint<4>[N]` proves `hist: [16]`); it is never a compile-time
//! error, since the data may never reach the bad values.

use crate::ir::*;
use kiln_lang::diag::{codes, Diagnostic};

/// An affine constraint `expr >= 0` known to hold.
type Guard = Affine;

pub fn run(m: &mut Module, ctx: &mut crate::manager::PassContext) {
    let diags = &mut ctx.diags;
    for inst in &mut m.instances {
        let nodes: Vec<NodeId> = inst.graph.node_indices().collect();
        for n in nodes {
            let Node::Compute(c) = &inst.graph[n] else {
                continue;
            };
            let mut body = c.body.clone();
            let mut ctx = Ctx {
                ranges: Vec::new(),
                constant_bounds: true,
                guards: Vec::new(),
                statement_guards: 0,
                diags: Vec::new(),
            };
            ctx.block(inst, &mut body);
            if let Node::Compute(c) = &mut inst.graph[n] {
                c.body = body;
            }
            diags.extend(ctx.diags);
        }
    }
}

struct Ctx {
    /// Range of each enclosing loop variable: (var, min, max).
    ranges: Vec<(LoopVarId, i64, i64)>,
    constant_bounds: bool,
    guards: Vec<Guard>,
    /// How many of `guards` come from `if` statements (the rest from the conditional
    /// expressions around the expression being visited).
    statement_guards: usize,
    diags: Vec<Diagnostic>,
}

impl Ctx {
    fn range_of(&self, a: &Affine) -> (i64, i64) {
        self.range_under(a, &self.guards)
    }

    /// The range of `a` knowing `guards`, computed in 128 bits and saturated to `i64`
    /// (an index whose range leaves `i64` is never proven in bounds).
    fn range_under(&self, a: &Affine, guards: &[Guard]) -> (i64, i64) {
        let mut lo = i128::from(a.constant);
        let mut hi = i128::from(a.constant);
        for &(v, c) in &a.terms {
            let (vmin, vmax) = self
                .ranges
                .iter()
                .rev()
                .find(|r| r.0 == v)
                .map_or((0, 0), |r| (r.1, r.2));
            let (c, vmin, vmax) = (i128::from(c), i128::from(vmin), i128::from(vmax));
            if c >= 0 {
                lo += c * vmin;
                hi += c * vmax;
            } else {
                lo += c * vmax;
                hi += c * vmin;
            }
        }
        let saturate = |x: i128| x.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
        let (mut lo, mut hi) = (saturate(lo), saturate(hi));
        // Guards: g >= 0 with a == g + k gives a >= k; with a == k - g gives a <= k.
        for g in guards {
            if let Some(k) = a.checked_add_scaled(g, -1).and_then(|d| d.as_constant()) {
                lo = lo.max(k);
            }
            if let Some(k) = a.checked_add_scaled(g, 1).and_then(|d| d.as_constant()) {
                hi = hi.min(k);
            }
        }
        (lo, hi)
    }

    fn block(&mut self, inst: &mut Instance, b: &mut Block) {
        for s in b.iter_mut() {
            match s {
                Stmt::For(l) => {
                    let (lo_min, lo_max) = self.range_of(&l.lo);
                    let (hi_min, hi_max) = self.range_of(&l.hi);
                    let constant = l.lo.as_constant().is_some() && l.hi.as_constant().is_some();
                    // In 128 bits: loop bounds may sit near the ends of `i64`.
                    let (vmin, vmax) = if l.step > 0 {
                        let (lo, hi, step) = (lo_min as i128, hi_max as i128, l.step as i128);
                        let last = if constant {
                            let n = (hi - lo + step - 1).div_euclid(step);
                            lo + step * (n - 1).max(0)
                        } else {
                            hi - 1
                        };
                        (
                            lo_min,
                            last.clamp(i64::MIN as i128, i64::MAX as i128) as i64,
                        )
                    } else {
                        (hi_min.saturating_add(1), lo_max)
                    };
                    if vmin > vmax {
                        // The loop never runs.
                        continue;
                    }
                    let saved = self.constant_bounds;
                    self.constant_bounds &= constant;
                    self.ranges.push((l.var, vmin, vmax));
                    self.block(inst, &mut l.body);
                    self.ranges.pop();
                    self.constant_bounds = saved;
                }
                Stmt::If {
                    cond,
                    then_block,
                    else_block,
                } => {
                    self.expr(inst, *cond);
                    let n = self.guards.len();
                    self.guards.extend(guards_of(inst, *cond, true));
                    self.with_guard(inst, then_block);
                    self.guards.truncate(n);
                    self.guards.extend(guards_of(inst, *cond, false));
                    self.with_guard(inst, else_block);
                    self.guards.truncate(n);
                }
                Stmt::Fail { .. } | Stmt::Call(_) => {}
                Stmt::Assign { value, .. } => self.expr(inst, *value),
                Stmt::Store {
                    access,
                    value,
                    span,
                } => {
                    self.expr(inst, *value);
                    for d in access.dynamic_exprs() {
                        self.expr(inst, d);
                    }
                    self.access(inst, access, *span);
                }
            }
        }
    }

    fn with_guard(&mut self, inst: &mut Instance, b: &mut Block) {
        let saved = self.constant_bounds;
        let saved_guards = self.statement_guards;
        // Code under a condition may not run: never a definite error.
        self.constant_bounds = false;
        self.statement_guards = self.guards.len();
        self.block(inst, b);
        self.constant_bounds = saved;
        self.statement_guards = saved_guards;
    }

    fn access(&mut self, inst: &Instance, a: &mut Access, span: kiln_lang::Span) {
        let t = inst.tensor(a.tensor);
        let mut proven = true;
        for (d, idx) in a.index.iter().enumerate() {
            let (lo, hi) = self.range_of(idx);
            let n = t.shape[d] as i64;
            if let Some(e) = a.dynamic_at(d) {
                // A data-dependent index: proven from the expression's inferred range.
                match dynamic_range(inst, e) {
                    Some((elo, ehi)) => {
                        if lo.saturating_add(elo) < 0 || hi.saturating_add(ehi) >= n {
                            proven = false;
                        }
                    }
                    // Not an index type: refused by type inference.
                    None => proven = false,
                }
                continue;
            }
            if lo < 0 || hi >= n {
                proven = false;
                let always_runs = self.constant_bounds && self.guards.is_empty();
                if always_runs {
                    let (bad, side) = if lo < 0 {
                        (lo, "below 0")
                    } else {
                        (hi, "past the end")
                    };
                    self.diags.push(
                        Diagnostic::error(codes::OUT_OF_BOUNDS, format!("the index in dimension {d} of `{}` goes {side}", t.name))
                            .at(span)
                            .label(format!("reaches {bad}, but `{}` has {n} elements along dimension {d} (shape {:?})", t.name, t.shape))
                            .help("adjust the loop bounds or the index expression"),
                    );
                }
            }
        }
        a.checked = !proven;
        // Proven only thanks to a conditional expression around it?
        let statement_guards = &self.guards[..self.statement_guards];
        a.guarded = proven
            && a.index.iter().enumerate().any(|(d, idx)| {
                if a.dynamic_at(d).is_some() {
                    return false;
                }
                let (lo, hi) = self.range_under(idx, statement_guards);
                lo < 0 || hi >= t.shape[d] as i64
            });
    }

    fn expr(&mut self, inst: &mut Instance, e: ExprId) {
        match inst.expr(e).clone() {
            Expr::Load(mut a) => {
                let span = inst.expr_spans[e.index()];
                for d in a.dynamic_exprs() {
                    self.expr(inst, d);
                }
                self.access(inst, &mut a, span);
                inst.exprs[e.index()] = Expr::Load(a);
            }
            Expr::Select {
                cond,
                then,
                otherwise,
            } => {
                self.expr(inst, cond);
                let n = self.guards.len();
                let saved = self.constant_bounds;
                self.constant_bounds = false;
                self.guards.extend(guards_of(inst, cond, true));
                self.expr(inst, then);
                self.guards.truncate(n);
                self.guards.extend(guards_of(inst, cond, false));
                self.expr(inst, otherwise);
                self.guards.truncate(n);
                self.constant_bounds = saved;
            }
            Expr::Binary(op @ (BinOp::And | BinOp::Or), a, b) => {
                self.expr(inst, a);
                let n = self.guards.len();
                let saved = self.constant_bounds;
                self.constant_bounds = false;
                self.guards.extend(guards_of(inst, a, op == BinOp::And));
                self.expr(inst, b);
                self.guards.truncate(n);
                self.constant_bounds = saved;
            }
            other => {
                for o in expr_operands(&other) {
                    self.expr(inst, o);
                }
            }
        }
    }
}

/// The range of a data-dependent index expression, from type inference; `None` when it
/// is not an integer type of at most 64 bits.
fn dynamic_range(inst: &Instance, e: ExprId) -> Option<(i64, i64)> {
    let ty = inst.expr_type(e)?;
    if !is_index_type(ty) {
        return None;
    }
    let (tlo, thi) = ty.value_bounds()?;
    let (lo, hi) = match &inst.expr_ranges[e.index()] {
        Some(r) => (r.lo.clone(), r.hi.clone()),
        None => (tlo, thi),
    };
    // Ranges may carry fraction bits; the values are integers, so round inward.
    let lo = lo.trunc_to_int().to_i64()?;
    let hi = hi.trunc_to_int().to_i64()?;
    Some((lo, hi))
}

/// Affine facts `g >= 0` implied by `cond` being `truth`.
fn guards_of(inst: &Instance, cond: ExprId, truth: bool) -> Vec<Guard> {
    match (inst.expr(cond), truth) {
        (Expr::Binary(BinOp::And, a, b), true) | (Expr::Binary(BinOp::Or, a, b), false) => {
            let mut g = guards_of(inst, *a, truth);
            g.extend(guards_of(inst, *b, truth));
            g
        }
        (Expr::Unary(UnOp::Not, a), t) => guards_of(inst, *a, !t),
        (Expr::Binary(op, a, b), t) if op.is_comparison() => {
            let (Some(x), Some(y)) = (affine_of(inst, *a), affine_of(inst, *b)) else {
                return Vec::new();
            };
            let op = if t { *op } else { negate(*op) };
            // Checked: constants near the ends of i64 make no guard rather than overflow.
            let one = Affine::constant(1);
            let guards = || -> Option<Vec<Guard>> {
                let d = x.checked_add_scaled(&y, -1)?; // x - y
                Some(match op {
                    BinOp::Ge => vec![d],
                    BinOp::Gt => vec![d.checked_add_scaled(&one, -1)?],
                    BinOp::Le => vec![d.checked_scale(-1)?],
                    BinOp::Lt => vec![d.checked_scale(-1)?.checked_add_scaled(&one, -1)?],
                    BinOp::Eq => {
                        let minus_d = d.checked_scale(-1)?;
                        vec![d, minus_d]
                    }
                    _ => Vec::new(),
                })
            };
            guards().unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

fn negate(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        other => other,
    }
}

/// The affine form of an integer expression over loop variables, if it has one.
pub fn affine_of(inst: &Instance, e: ExprId) -> Option<Affine> {
    match inst.expr(e) {
        Expr::LoopVar(v) => Some(Affine::var(*v)),
        Expr::Const(Value::Num(x)) if x.is_integer() => Some(Affine::constant(x.to_i64()?)),
        // Checked: a form whose coefficients overflow i64 is no affine form.
        Expr::Unary(UnOp::Neg, a) => affine_of(inst, *a)?.checked_scale(-1),
        Expr::Binary(BinOp::Add, a, b) => {
            affine_of(inst, *a)?.checked_add_scaled(&affine_of(inst, *b)?, 1)
        }
        Expr::Binary(BinOp::Sub, a, b) => {
            affine_of(inst, *a)?.checked_add_scaled(&affine_of(inst, *b)?, -1)
        }
        Expr::Binary(BinOp::Mul, a, b) => {
            let (x, y) = (affine_of(inst, *a)?, affine_of(inst, *b)?);
            match (x.as_constant(), y.as_constant()) {
                (Some(c), _) => y.checked_scale(c),
                (_, Some(c)) => x.checked_scale(c),
                _ => None,
            }
        }
        _ => None,
    }
}
