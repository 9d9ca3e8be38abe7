//! Types: element types (`fixed<8, 4>`, aliases, type variables), the builtin types they
//! build, module-level concrete types, and the parameter and result types of kernels
//! with their shapes (binding size and shape variables).

use super::{did_you_mean, size_expr, suggest, ModuleEnv, ModuleInfo, SigEnv, Symbol, SymbolEnv};
use crate::ast::{self, ElemTypeKind, ExprKind as AE, PrimType, TypeExprKind};
use crate::diag::{codes, Diagnostic, Diagnostics};
use crate::hir::{Dim, ElemRef, Named, TypeArg, TypeRef};
use crate::span::Span;
use crate::sym::{element_bytes, tensor_bytes, SizeExpr, MAX_TENSOR_BYTES};
use kiln_numeric::{FixedType, IntType, Overflow, Quant, ScalarType, MAX_DECLARED_WIDTH};

/// A module-level type: element type and constant shape.
pub(super) fn concrete_type(
    env: &dyn SymbolEnv,
    ty: &ast::TypeExpr,
    diags: &mut Diagnostics,
) -> Option<(ScalarType, Option<Vec<usize>>)> {
    let (elem_expr, dims) = match &ty.kind {
        TypeExprKind::Scalar(e) => (Some(e), None),
        TypeExprKind::Tensor { elem, dims } => (elem.as_ref(), Some(dims)),
    };
    let Some(elem_expr) = elem_expr else {
        diags.push(
            Diagnostic::error(codes::NEEDS_ELEM_TYPE, "this type needs an element type")
                .at(ty.span)
                .help("write e.g. `fixed<8, 4>[16]`"),
        );
        return None;
    };
    let elem = match elem_type(env, elem_expr, diags)? {
        ElemRef::Known(t) => t,
        ElemRef::Var(_) | ElemRef::Template { .. } | ElemRef::Inferred => {
            diags.push(
                Diagnostic::error(codes::NOT_CONSTANT, "a module-level type must be concrete")
                    .at(elem_expr.span),
            );
            return None;
        }
    };
    let mut shape = alias_shape_of(env, elem_expr);
    if let Some(dims) = dims {
        if shape.is_some() {
            diags.push(alias_reshaped(ty.span));
            return None;
        }
        let mut out = Vec::new();
        for d in dims {
            match d {
                ast::DimExpr::Size(e) => match size_expr(env, e).map(|s| s.as_const()) {
                    Ok(Some(v)) if v > 0 => out.push(v as usize),
                    Ok(_) => {
                        diags.push(
                            Diagnostic::error(
                                codes::BAD_DIM,
                                "module-level shapes must be positive constants",
                            )
                            .at(e.span),
                        );
                        return None;
                    }
                    Err(d) => {
                        diags.push(d);
                        return None;
                    }
                },
                ast::DimExpr::Rest(id) => {
                    diags.push(
                        Diagnostic::error(
                            codes::BAD_DIM,
                            "`*` shapes are only for kernel parameters",
                        )
                        .at(id.span),
                    );
                    return None;
                }
            }
        }
        if let Some(d) = tensor_too_large(&out, false, Some(&elem), ty.span) {
            diags.push(d);
            return None;
        }
        shape = Some(out);
    }
    Some((elem, shape))
}

/// E0408 when a tensor whose constant dimensions are `dims` (`symbolic`: it has others
/// too, which count as 1) and whose elements are of type `elem` (`None`: not known yet,
/// a byte at least) would not fit in memory: its element count or byte count beyond
/// [`MAX_TENSOR_BYTES`] (the sizes every engine computes with checked arithmetic).
pub(crate) fn tensor_too_large(
    dims: &[usize],
    symbolic: bool,
    elem: Option<&ScalarType>,
    span: Span,
) -> Option<Diagnostic> {
    let elem_bytes = elem.map_or(1, element_bytes);
    let too_large = tensor_bytes(dims.iter().map(|&d| d as u64), elem_bytes).err()?;
    let at_least = if symbolic { "at least " } else { "" };
    Some(
        Diagnostic::error(
            codes::BAD_DIM,
            format!(
                "this tensor would {}: more than memory can address",
                too_large.describe(elem_bytes, at_least)
            ),
        )
        .at(span)
        .label("this shape")
        .help(format!(
            "one tensor takes at most {MAX_TENSOR_BYTES} bytes (2^63 - 1): use smaller dimensions"
        )),
    )
}

/// The shape of a tensor type alias named by `e`, if it names one.
pub(super) fn alias_shape_of(env: &dyn SymbolEnv, e: &ast::ElemTypeExpr) -> Option<Vec<usize>> {
    if let ElemTypeKind::Named(id) = &e.kind {
        if let Some(Symbol::Alias(_, shape)) = env.symbol(&id.name) {
            return shape;
        }
    }
    None
}

/// Resolves an element type. Type arguments that are not constants make a `Template`.
pub(crate) fn elem_type(
    env: &dyn SymbolEnv,
    e: &ast::ElemTypeExpr,
    diags: &mut Diagnostics,
) -> Option<ElemRef> {
    match &e.kind {
        ElemTypeKind::Named(id) => {
            if let Some(v) = env.type_var(&id.name) {
                return Some(ElemRef::Var(v));
            }
            if env.is_value(&id.name) && env.symbol(&id.name).is_none() {
                diags.push(
                    Diagnostic::error(
                        codes::WRONG_NAME_KIND,
                        format!("`{}` is a value, not a type", id.name),
                    )
                    .at(id.span)
                    .help(
                        "types are builtin types (`fixed<8, 4>`), `type` aliases or type variables",
                    ),
                );
                return None;
            }
            match env.symbol(&id.name) {
                Some(Symbol::Alias(t, _)) => Some(ElemRef::Known(t)),
                Some(_) => {
                    diags.push(
                        Diagnostic::error(
                            codes::WRONG_NAME_KIND,
                            format!("`{}` is not a type", id.name),
                        )
                        .at(id.span),
                    );
                    None
                }
                None if env.item_failed(&id.name) => None,
                None => {
                    let mut d = Diagnostic::error(
                        codes::UNKNOWN_NAME,
                        format!("unknown type `{}`", id.name),
                    )
                    .at(id.span)
                    .label("not a builtin type, a `type` alias or a type variable");
                    if id
                        .name
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_ascii_uppercase())
                    {
                        d = d.help(format!(
                            "if `{0}` is a type variable, declare it after the kernel's name: `kernel name[{0}](...)`",
                            id.name
                        ));
                    }
                    let builtin = [
                        "int", "uint", "fixed", "ufixed", "bin", "tern", "f32", "f64", "bool",
                    ];
                    if let Some(s) = suggest(&id.name, builtin) {
                        d = d.help(format!("did you mean `{s}<...>`?"));
                    }
                    diags.push(d);
                    None
                }
            }
        }
        ElemTypeKind::Prim { prim, args } => {
            let mut targs = Vec::new();
            for (i, a) in args.iter().enumerate() {
                match type_arg(env, *prim, i, a) {
                    Ok(t) => targs.push(t),
                    Err(d) => {
                        diags.push(d);
                        return None;
                    }
                }
            }
            match build_prim(*prim, &targs, e.span, &|_| None) {
                Ok(Some(t)) => Some(ElemRef::Known(t)),
                Ok(None) => Some(ElemRef::Template {
                    prim: *prim,
                    args: targs,
                    span: e.span,
                }),
                Err(d) => {
                    diags.push(d);
                    None
                }
            }
        }
    }
}

const QUANT_NAMES: &str = "trn, trn_zero, rnd, rnd_zero, rnd_min_inf, rnd_inf, rnd_conv";
const OVERFLOW_NAMES: &str = "wrap, sat, sat_zero, sat_sym, wrap_sm";

/// Argument `i` of builtin type `prim`: a size, or (for fixed point) a mode name.
fn type_arg(
    env: &dyn SymbolEnv,
    prim: PrimType,
    i: usize,
    a: &ast::Expr,
) -> Result<TypeArg, Diagnostic> {
    let is_fixed = matches!(prim, PrimType::Fixed | PrimType::Ufixed);
    if is_fixed && (i == 2 || i == 3) {
        let AE::Name(n) = &a.kind else {
            return Err(
                Diagnostic::error(codes::UNKNOWN_MODE, "expected a mode name")
                    .at(a.span)
                    .help(if i == 2 {
                        format!("quantization modes: {QUANT_NAMES}")
                    } else {
                        format!("overflow modes: {OVERFLOW_NAMES}")
                    }),
            );
        };
        if i == 2 {
            return Quant::from_name(n).map(TypeArg::Quant).ok_or_else(|| {
                let d = Diagnostic::error(
                    codes::UNKNOWN_MODE,
                    format!("unknown quantization mode `{n}`"),
                )
                .at(a.span)
                .note(format!("quantization modes: {QUANT_NAMES}"));
                if Overflow::from_name(n).is_some() {
                    d.help("the quantization mode comes first: `fixed<W, I, rnd, sat>`")
                } else {
                    did_you_mean(d, n, Quant::ALL.iter().map(|q| q.name()))
                }
            });
        }
        return Overflow::from_name(n)
            .map(TypeArg::Overflow)
            .ok_or_else(|| {
                let d =
                    Diagnostic::error(codes::UNKNOWN_MODE, format!("unknown overflow mode `{n}`"))
                        .at(a.span)
                        .note(format!("overflow modes: {OVERFLOW_NAMES}"));
                did_you_mean(d, n, Overflow::ALL.iter().map(|q| q.name()))
            });
    }
    size_expr(env, a).map(TypeArg::Size)
}

/// Builds a builtin type from its arguments. `Ok(None)` when a size argument is still
/// symbolic; `eval` gives values for symbols at instantiation.
pub fn build_prim(
    prim: PrimType,
    args: &[TypeArg],
    span: Span,
    eval: &dyn Fn(&SizeExpr) -> Option<i64>,
) -> Result<Option<ScalarType>, Diagnostic> {
    let arity_error = |want: &str| {
        Diagnostic::error(
            codes::BAD_FIXED_TYPE,
            format!("`{}` takes {want}", prim.name()),
        )
        .at(span)
        .help(match prim {
            PrimType::Fixed | PrimType::Ufixed => {
                "write `fixed<W, I>` or `fixed<W, I, Q, O>` or `fixed<W, I, Q, O, N>`"
            }
            _ => "write e.g. `int<8>`",
        })
    };
    let size = |a: &TypeArg| -> Result<Option<i64>, Diagnostic> {
        match a {
            TypeArg::Size(s) => Ok(s.as_const().or_else(|| eval(s))),
            _ => Err(Diagnostic::error(codes::BAD_FIXED_TYPE, "expected a number here").at(span)),
        }
    };
    let t = match prim {
        PrimType::Bin | PrimType::Tern | PrimType::F32 | PrimType::F64 | PrimType::Bool => {
            if !args.is_empty() {
                return Err(arity_error("no parameters"));
            }
            match prim {
                PrimType::Bin => ScalarType::Bin,
                PrimType::Tern => ScalarType::Tern,
                PrimType::F32 => ScalarType::F32,
                PrimType::F64 => ScalarType::F64,
                _ => ScalarType::Bool,
            }
        }
        PrimType::Int | PrimType::Uint => {
            if args.len() != 1 {
                return Err(arity_error("one parameter, the width"));
            }
            let Some(w) = size(&args[0])? else {
                return Ok(None);
            };
            if w < 1 || w > MAX_DECLARED_WIDTH as i64 {
                return Err(width_error(w, span));
            }
            ScalarType::Int(IntType::new(w as u32, prim == PrimType::Int))
        }
        PrimType::Fixed | PrimType::Ufixed => {
            if !(2..=5).contains(&args.len()) {
                return Err(arity_error(
                    "2 to 5 parameters: W, I and optionally Q, O, N",
                ));
            }
            let (Some(w), Some(i)) = (size(&args[0])?, size(&args[1])?) else {
                return Ok(None);
            };
            if w < 1 || w > MAX_DECLARED_WIDTH as i64 {
                return Err(width_error(w, span));
            }
            let mut t = FixedType::plain(w as u32, i as i32, prim == PrimType::Fixed);
            for a in &args[2..] {
                match a {
                    TypeArg::Quant(q) => t.quant = *q,
                    TypeArg::Overflow(o) => t.overflow = *o,
                    TypeArg::Size(_) => {
                        let Some(n) = size(a)? else { return Ok(None) };
                        t.sat_bits = n.max(0) as u32;
                    }
                }
            }
            if let Err(e) = t.validate(MAX_DECLARED_WIDTH) {
                return Err(
                    Diagnostic::error(codes::BAD_FIXED_TYPE, format!("invalid type: {e}")).at(span),
                );
            }
            ScalarType::Fixed(t)
        }
    };
    Ok(Some(t))
}

/// The error for a declared width `w` out of range.
fn width_error(w: i64, span: Span) -> Diagnostic {
    Diagnostic::error(codes::BAD_WIDTH, format!("width {w} is out of range"))
        .at(span)
        .label(format!(
            "declared widths are 1 to {MAX_DECLARED_WIDTH} bits"
        ))
}

/// What the types of a kernel signature, or of a local declaration in its body, see
/// while they are resolved. The size and shape variables grow as shapes bind them.
pub(crate) struct SigScope<'a> {
    pub modules: &'a [ModuleInfo],
    /// The kernel's module.
    pub m: usize,
    pub size_vars: &'a mut Vec<Named>,
    pub shape_vars: &'a mut Vec<Named>,
    /// `const` parameters: name and parameter index.
    pub const_params: &'a [(String, usize)],
    pub type_vars: &'a [Named],
    /// Names of values in scope (parameters, locals), to tell "a value used as a type".
    pub value_names: &'a [String],
    /// Whether bare unknown names in a shape bind new size and shape variables (in
    /// parameters); otherwise they are errors.
    pub binding: bool,
    /// The shapes of the tensors in scope (kernel bodies), for `len(a)` and `a.shape[k]`.
    pub value_shapes: Option<&'a super::ValueShapes>,
}

impl SigScope<'_> {
    /// The signature's names as a [`SymbolEnv`].
    fn env(&self) -> SigEnv<'_> {
        SigEnv {
            module: ModuleEnv {
                modules: self.modules,
                m: self.m,
            },
            size_vars: self.size_vars,
            const_params: self.const_params,
            type_vars: self.type_vars,
            value_names: self.value_names,
            value_shapes: self.value_shapes,
        }
    }
}

/// Resolves a parameter, result or local type in `scope`.
pub(crate) fn param_type(
    scope: &mut SigScope,
    ty: &ast::TypeExpr,
    diags: &mut Diagnostics,
) -> Option<TypeRef> {
    let (elem_expr, dims) = match &ty.kind {
        TypeExprKind::Scalar(e) => (Some(e), None),
        TypeExprKind::Tensor { elem, dims } => (elem.as_ref(), Some(dims)),
    };
    let env = scope.env();
    let elem = match elem_expr {
        Some(e) => elem_type(&env, e, diags)?,
        None => ElemRef::Inferred,
    };
    let mut shape = elem_expr.and_then(|e| alias_shape_of(&env, e)).map(|s| {
        s.into_iter()
            .map(|d| Dim::Size(SizeExpr::Const(d as i64)))
            .collect::<Vec<_>>()
    });
    if let Some(dims) = dims {
        if shape.is_some() {
            diags.push(alias_reshaped(ty.span));
            return None;
        }
        let mut out = Vec::new();
        let mut rest_seen = false;
        for d in dims {
            let dim = match d {
                ast::DimExpr::Rest(id) => {
                    if rest_seen {
                        diags.push(
                            Diagnostic::error(codes::BAD_DIM, "a shape can have only one `*` part")
                                .at(id.span),
                        );
                        return None;
                    }
                    rest_seen = true;
                    rest_dim(scope, id, diags)?
                }
                ast::DimExpr::Size(e) => size_dim(scope, e, diags)?,
            };
            out.push(dim);
        }
        let known: Vec<usize> = out
            .iter()
            .filter_map(|d| match d {
                Dim::Size(s) => s.as_const().map(|v| v.max(1) as usize),
                Dim::Rest(_) => None,
            })
            .collect();
        let elem_type = match &elem {
            ElemRef::Known(t) => Some(t),
            _ => None,
        };
        let symbolic = known.len() < out.len();
        if let Some(d) = tensor_too_large(&known, symbolic, elem_type, ty.span) {
            diags.push(d);
            return None;
        }
        shape = Some(out);
    }
    Some(TypeRef {
        elem,
        shape,
        span: ty.span,
    })
}

/// The error for a shape given to a tensor type alias (at `span`).
fn alias_reshaped(span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::SHAPE_MISMATCH,
        "a tensor type alias cannot take another shape",
    )
    .at(span)
}

/// The `*S` part of a shape: a shape variable, bound here when `scope.binding`.
fn rest_dim(scope: &mut SigScope, id: &ast::Ident, diags: &mut Diagnostics) -> Option<Dim> {
    if let Some(i) = scope.shape_vars.iter().position(|v| v.name == id.name) {
        return Some(Dim::Rest(i));
    }
    if !scope.binding {
        diags.push(
            Diagnostic::error(
                codes::UNBOUND_SIZE,
                format!("shape variable `*{}` is not bound by a parameter", id.name),
            )
            .at(id.span),
        );
        return None;
    }
    scope.shape_vars.push(Named {
        name: id.name.clone(),
        span: id.span,
    });
    Some(Dim::Rest(scope.shape_vars.len() - 1))
}

/// One dimension of a shape: a size expression; a bare unknown name binds a new size
/// variable when `scope.binding`.
fn size_dim(scope: &mut SigScope, e: &ast::Expr, diags: &mut Diagnostics) -> Option<Dim> {
    if let AE::Name(n) = &e.kind {
        let known = scope.size_vars.iter().any(|v| &v.name == n)
            || scope.const_params.iter().any(|(c, _)| c == n)
            || scope.modules[scope.m].scope.contains_key(n);
        if !known && scope.value_names.contains(n) {
            diags.push(
                Diagnostic::error(
                    codes::NOT_CONSTANT,
                    format!("`{n}` is a value computed at run time, not a compile-time integer"),
                )
                .at(e.span)
                .help(format!("dimensions must be known when compiling; make it a `const` parameter (`{n}: const`), or bind the size from a tensor's shape")),
            );
            return None;
        }
        if !known {
            if scope.binding {
                scope.size_vars.push(Named {
                    name: n.clone(),
                    span: e.span,
                });
                return Some(Dim::Size(SizeExpr::Var(scope.size_vars.len() - 1)));
            }
            let mut d = Diagnostic::error(codes::UNBOUND_SIZE, format!("size `{n}` is not bound by any parameter"))
                .at(e.span)
                .help("size variables get their values from the shapes of the parameters; bind it with a bare name in a parameter's shape");
            d = did_you_mean(d, n, scope.size_vars.iter().map(|v| &v.name));
            diags.push(d);
            return None;
        }
    }
    match size_expr(&scope.env(), e) {
        Ok(s) => {
            if let Some(v) = s.as_const().filter(|&v| v < 1) {
                diags.push(
                    Diagnostic::error(codes::BAD_DIM, format!("dimension {v} is not positive"))
                        .at(e.span),
                );
                return None;
            }
            Some(Dim::Size(s))
        }
        Err(mut d) => {
            if d.code == codes::UNKNOWN_NAME {
                d.code = codes::UNBOUND_SIZE;
                d = d.help(
                    "a size expression may only use sizes bound by earlier parameters' shapes",
                );
            }
            diags.push(d);
            None
        }
    }
}
