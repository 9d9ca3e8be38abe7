//! Shapes: symbolic comparison, broadcasting of operands, binding a callee's size and
//! shape variables at a call, and printing sizes and shapes in messages.

use super::{Checker, Info};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim};
use crate::resolve::tensor_too_large;
use crate::span::Span;
use crate::sym::{EvalError, SizeExpr, SizeOp};
use kiln_numeric::ScalarType;
use std::collections::HashMap;

/// numpy's broadcasting of two shapes of known rank: aligned from the last dimension,
/// each pair of dimensions is equal or one of them is 1 (the other is taken), and a
/// missing leading dimension counts as 1: `[N, M]` with `[M]` is `[N, M]`, `[N, 1]` with
/// `[1, M]` is `[N, M]`. `None` when the shapes do not broadcast (or have a generic
/// rank): the caller then asks for the same shape and says why not.
pub(super) fn broadcast_shapes(a: &[Dim], b: &[Dim]) -> Option<Vec<Dim>> {
    let one = |d: &Dim| matches!(d, Dim::Size(s) if s.as_const() == Some(1));
    let rank = a.len().max(b.len());
    let mut out = Vec::with_capacity(rank);
    for k in 0..rank {
        let da = (k + a.len()).checked_sub(rank).map(|i| &a[i]);
        let db = (k + b.len()).checked_sub(rank).map(|i| &b[i]);
        let d = match (da, db) {
            (Some(Dim::Rest(_)), _) | (_, Some(Dim::Rest(_))) => return None,
            (Some(x), None) => x.clone(),
            (None, Some(y)) => y.clone(),
            (Some(Dim::Size(x)), Some(Dim::Size(y))) if x.same_as(y) => Dim::Size(x.clone()),
            (Some(x), Some(y)) if one(x) => y.clone(),
            (Some(x), Some(y)) if one(y) => x.clone(),
            _ => return None,
        };
        out.push(d);
    }
    Some(out)
}

impl Checker<'_, '_> {
    /// A size of this kernel as the user wrote it (for messages).
    pub(super) fn show_size(&self, s: &SizeExpr) -> String {
        let names: Vec<String> = self.k.size_vars.iter().map(|v| v.name.clone()).collect();
        let loops: Vec<String> = self.k.loop_vars.iter().map(|v| v.name.clone()).collect();
        show_size_named(s, &names, &loops, &|i| self.const_param_name(i))
    }

    /// A shape of this kernel as the user wrote it: `[N, *S]`.
    pub(super) fn show_shape(&self, dims: &[Dim]) -> String {
        let parts: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Size(s) => self.show_size(s),
                Dim::Rest(v) => format!("*{}", self.k.shape_vars[*v].name),
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }

    /// That shape `got` (at `span`) is `want` (`what` names it in the message), as far as
    /// a symbolic comparison can tell. Reports and returns `false` otherwise.
    pub(super) fn same_shape(&mut self, want: &[Dim], got: &[Dim], span: Span, what: &str) -> bool {
        let ok = want.len() == got.len()
            && want.iter().zip(got).all(|(a, b)| match (a, b) {
                (Dim::Size(x), Dim::Size(y)) => x.same_as(y),
                (Dim::Rest(x), Dim::Rest(y)) => x == y,
                _ => false,
            });
        if !ok {
            let certain = want.len() != got.len()
                || want.iter().zip(got).any(|(a, b)| matches!((a, b), (Dim::Size(x), Dim::Size(y)) if x.certainly_differs(y)));
            let msg = format!(
                "shape {} does not match {what}, {}",
                self.show_shape(got),
                self.show_shape(want)
            );
            let mut d = Diagnostic::error(codes::SHAPE_MISMATCH, msg).at(span);
            if !certain {
                d = d.note("kiln compares dimensions symbolically and could not prove these equal")
                    .help("if they are always equal, write them the same way or bind them to the same size variable");
            }
            self.err(d);
        }
        ok
    }

    /// The shape of an elementwise operation on `a` and `b`: a scalar takes the shape of
    /// the other operand; two tensors broadcast as in numpy (`broadcast_shapes`). `None`
    /// after an error.
    pub(super) fn broadcast(&mut self, a: &Info, b: &Info, span: Span) -> Option<Option<Vec<Dim>>> {
        match (&a.shape, &b.shape) {
            (None, None) => Some(None),
            (Some(s), None) | (None, Some(s)) => Some(Some(s.clone())),
            (Some(x), Some(y)) => {
                if let Some(s) = broadcast_shapes(x, y) {
                    return Some(Some(s));
                }
                if x.len() != y.len() && !x.iter().chain(y).any(|d| matches!(d, Dim::Rest(_))) {
                    let msg = format!(
                        "shapes {} and {} do not broadcast",
                        self.show_shape(x),
                        self.show_shape(y)
                    );
                    self.err(
                        Diagnostic::error(codes::SHAPE_MISMATCH, msg)
                            .at(span)
                            .help("numpy's rule: aligned from the last dimension, each pair of dimensions is equal or one of them is 1 (`a[N, M] + b[M]`, `a[N, 1] * b[1, M]`)"),
                    );
                    return None;
                }
                if self.same_shape(x, y, span, "the other operand's shape") {
                    Some(Some(x.clone()))
                } else {
                    None
                }
            }
        }
    }

    /// Binds the callee's size and shape variables from the shape `arg` of the argument
    /// (at `span`) of parameter `pname`, whose declared shape is `param`, and checks the
    /// dimensions already bound. Reports and returns `false` on a mismatch.
    pub(super) fn bind_shape(
        &mut self,
        param: &[Dim],
        arg: &[Dim],
        b: &mut CallBinding,
        span: Span,
        pname: &str,
    ) -> bool {
        let rest_pos = param.iter().position(|d| matches!(d, Dim::Rest(_)));
        let arg_has_rest = arg.iter().any(|d| matches!(d, Dim::Rest(_)));
        let fits = match rest_pos {
            None => param.len() == arg.len(),
            Some(_) => arg.len() + 1 >= param.len(),
        };
        if !fits && !arg_has_rest {
            self.err(
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    format!(
                        "`{pname}` expects a tensor of rank {}, got {}",
                        param.len(),
                        self.show_shape(arg)
                    ),
                )
                .at(span),
            );
            return false;
        }
        let mut ai = 0;
        for (pi, d) in param.iter().enumerate() {
            match d {
                Dim::Rest(v) => {
                    let after = param.len() - pi - 1;
                    let take = arg.len().saturating_sub(ai + after);
                    let part = arg[ai..ai + take].to_vec();
                    ai += take;
                    match b.shapes[*v].clone() {
                        None => b.shapes[*v] = Some(part),
                        Some(prev) => {
                            let what = format!("the shape bound to `*{}`", "S");
                            if !self.same_shape(&prev, &part, span, &what) {
                                return false;
                            }
                        }
                    }
                }
                Dim::Size(s) => {
                    let Some(ad) = arg.get(ai) else { return false };
                    ai += 1;
                    let Dim::Size(a) = ad else {
                        // An argument of generic rank: checked at instantiation.
                        return true;
                    };
                    if !self.bind_dim(s, a, b, span, pname) {
                        return false;
                    }
                }
            }
        }
        true
    }

    /// One dimension: the callee's `s` against the argument's `a`. A size variable seen
    /// for the first time is bound; otherwise the two must be the same.
    fn bind_dim(
        &mut self,
        s: &SizeExpr,
        a: &SizeExpr,
        b: &mut CallBinding,
        span: Span,
        pname: &str,
    ) -> bool {
        if let SizeExpr::Var(v) = s {
            let Some(prev) = b.sizes[*v].clone() else {
                b.sizes[*v] = Some(a.clone());
                return true;
            };
            if prev.same_as(a) {
                return true;
            }
            let var = b.size_names.get(*v).cloned().unwrap_or_default();
            let mut diag = Diagnostic::error(
                codes::SIZE_CONFLICT,
                format!(
                    "size `{var}` is {} from an earlier argument but {} from `{pname}`",
                    self.show_size(&prev),
                    self.show_size(a),
                ),
            )
            .at(span);
            if !prev.certainly_differs(a) {
                diag = diag
                    .note("kiln compares dimensions symbolically and could not prove these equal");
            }
            self.err(diag);
            return false;
        }
        match b.size(s) {
            Some(want) if !want.same_as(a) => {
                self.err(
                    Diagnostic::error(
                        codes::SHAPE_MISMATCH,
                        format!(
                            "`{pname}` needs a dimension of {} here, got {}",
                            self.show_size(&want),
                            self.show_size(a)
                        ),
                    )
                    .at(span),
                );
                false
            }
            _ => true,
        }
    }
}

/// E0408 when a tensor of shape `dims` with elements of type `elem` (when known) cannot
/// fit in memory, as far as its constant dimensions tell (others count as 1), or has a
/// dimension beyond 64 bits. The diagnostic is at `span`.
pub(super) fn too_large(dims: &[Dim], elem: Option<&ScalarType>, span: Span) -> Option<Diagnostic> {
    let mut known = Vec::new();
    let mut symbolic = false;
    for d in dims {
        match d {
            Dim::Size(s) => match s.const_eval() {
                Ok(v) => known.push(v.max(1) as usize),
                Err(EvalError::Overflow) => {
                    return Some(
                        Diagnostic::error(
                            codes::BAD_DIM,
                            format!("a dimension of this tensor would be beyond {}", i64::MAX),
                        )
                        .at(span)
                        .help("dimensions are 64-bit signed integers: use smaller sizes"),
                    )
                }
                Err(_) => symbolic = true,
            },
            Dim::Rest(_) => symbolic = true,
        }
    }
    tensor_too_large(&known, symbolic, elem, span)
}

/// What a call binds of its callee's signature, as the caller's expressions: size
/// variables (with their names, for messages), shape variables and `const` parameters.
pub(super) struct CallBinding {
    pub(super) sizes: Vec<Option<SizeExpr>>,
    pub(super) size_names: Vec<String>,
    pub(super) shapes: Vec<Option<Vec<Dim>>>,
    /// By parameter index.
    pub(super) consts: HashMap<usize, SizeExpr>,
}

impl CallBinding {
    /// Nothing bound yet for a call of `callee`.
    pub(super) fn new(callee: &hir::Kernel) -> CallBinding {
        CallBinding {
            sizes: vec![None; callee.size_vars.len()],
            size_names: callee.size_vars.iter().map(|v| v.name.clone()).collect(),
            shapes: vec![None; callee.shape_vars.len()],
            consts: HashMap::new(),
        }
    }

    /// The callee's size `s` in the caller's terms; `None` if a symbol is unbound.
    pub(super) fn size(&self, s: &SizeExpr) -> Option<SizeExpr> {
        Some(match s {
            SizeExpr::Const(c) => SizeExpr::Const(*c),
            SizeExpr::Var(v) => self.sizes.get(*v)?.clone()?,
            SizeExpr::ConstParam(p) => self.consts.get(p)?.clone(),
            SizeExpr::LoopVar(_) => return None,
            SizeExpr::Binary(op, a, b) => SizeExpr::bin(*op, self.size(a)?, self.size(b)?),
        })
    }

    /// The callee's shape in the caller's terms; `None` if a symbol is unbound.
    pub(super) fn shape(&self, shape: &[Dim]) -> Option<Vec<Dim>> {
        let mut out = Vec::new();
        for d in shape {
            match d {
                Dim::Size(s) => out.push(Dim::Size(simplify(&self.size(s)?))),
                Dim::Rest(v) => out.extend(self.shapes.get(*v)?.clone()?),
            }
        }
        Some(out)
    }
}

/// The number of steps of `step` (positive) that cover `diff`: `ceil(diff / step)`.
pub(super) fn strided_length(diff: SizeExpr, step: i64) -> SizeExpr {
    if step == 1 {
        diff
    } else {
        SizeExpr::bin(
            SizeOp::FloorDiv,
            SizeExpr::bin(SizeOp::Add, diff, SizeExpr::Const(step - 1)),
            SizeExpr::Const(step),
        )
    }
}

/// A constant-folded copy (so that `3` prints as `3`, not `(i + 3) - i`).
pub(super) fn simplify(s: &SizeExpr) -> SizeExpr {
    match s.normalize().as_const() {
        Some(c) => SizeExpr::Const(c),
        None => s.clone(),
    }
}

/// Prints `s` with the names of size variables (`names`), loop variables (`loops`) and
/// `const` parameters (`consts`).
fn show_size_named(
    s: &SizeExpr,
    names: &[String],
    loops: &[String],
    consts: &dyn Fn(usize) -> String,
) -> String {
    match s {
        SizeExpr::Const(c) => c.to_string(),
        SizeExpr::Var(v) => names.get(*v).cloned().unwrap_or_else(|| "?".into()),
        SizeExpr::ConstParam(p) => consts(*p),
        SizeExpr::LoopVar(v) => loops.get(*v).cloned().unwrap_or_else(|| "?".into()),
        SizeExpr::Binary(op, a, b) => {
            let o = match op {
                SizeOp::Add => "+",
                SizeOp::Sub => "-",
                SizeOp::Mul => "*",
                SizeOp::FloorDiv => "//",
                SizeOp::Mod => "%",
            };
            let wrap = |e: &SizeExpr| {
                let t = show_size_named(e, names, loops, consts);
                if matches!(e, SizeExpr::Binary(..)) {
                    format!("({t})")
                } else {
                    t
                }
            };
            format!("{} {o} {}", wrap(a), wrap(b))
        }
    }
}
