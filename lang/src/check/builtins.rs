//! Builtin functions: math functions with their lookup-table parameters, `abs`,
//! `min` / `max`, reductions (`sum`, `argmax`... over tensors and generators), `dot`,
//! `map` and comprehensions.

use super::shapes::simplify;
use super::{Checked, Checker, Class, Info};
use crate::ast::{self, BinOp, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{self, Dim, ExprKind as HE, Named, ReduceOp};
use crate::span::Span;
use crate::sym::{SizeExpr, SizeOp};

impl Checker<'_, '_> {
    /// The lookup-table parameters of a math function: `size=`, `lo=`, `hi=`, `bits=`
    /// (literals), checked against `kiln_numeric::lut`'s rules; `None` when none is given.
    pub(super) fn lut_spec(
        &mut self,
        f: kiln_numeric::MathFn,
        named: &[&ast::Arg],
    ) -> Option<Option<kiln_numeric::LutSpec>> {
        if named.is_empty() {
            return Some(None);
        }
        let mut spec = kiln_numeric::LutSpec::DEFAULT;
        let mut seen: Vec<&str> = Vec::new();
        for a in named {
            let name = a.name.as_ref().map(|n| n.name.as_str()).unwrap_or_default();
            let Some(v) = literal_number(&a.value) else {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`{name}` must be a number literal"),
                    )
                    .at(a.value.span),
                );
                return None;
            };
            let integer =
                |v: f64| (v.fract() == 0.0 && v >= 0.0 && v <= u32::MAX as f64).then_some(v as u32);
            let ok = match name {
                "size" => integer(v).map(|n| spec.size = n).is_some(),
                "bits" => integer(v).map(|n| spec.bits = n).is_some(),
                "lo" => {
                    spec.lo = v;
                    true
                }
                "hi" => {
                    spec.hi = v;
                    true
                }
                _ => {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_ARGS,
                            format!("`{}` has no parameter `{name}`", f.name()),
                        )
                        .at(a.value.span)
                        .help("lookup tables take `size=`, `lo=`, `hi=` and `bits=`"),
                    );
                    return None;
                }
            };
            if !ok {
                self.err(
                    Diagnostic::error(
                        codes::BAD_ARGS,
                        format!("`{name}` must be a non-negative integer"),
                    )
                    .at(a.value.span),
                );
                return None;
            }
            if seen.contains(&name) {
                self.err(
                    Diagnostic::error(codes::BAD_ARGS, format!("`{name}` is given twice"))
                        .at(a.value.span),
                );
                return None;
            }
            seen.push(name);
        }
        if let Err(e) = spec.step_log2() {
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("bad lookup table for `{}`: {e}", f.name()),
                )
                .at(named[0].value.span)
                .help("hls4ml's defaults are `size=1024, lo=-8, hi=8, bits=18`"),
            );
            return None;
        }
        Some(Some(spec))
    }

    pub(super) fn positional(
        &mut self,
        f: &str,
        args: &[ast::Arg],
        span: Span,
        min: usize,
        max: usize,
    ) -> Option<()> {
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            self.err(
                Diagnostic::error(codes::BAD_ARGS, format!("`{f}` takes no named arguments"))
                    .at(a.value.span),
            );
            return None;
        }
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else if max == usize::MAX {
                format!("at least {min}")
            } else {
                format!("{min} to {max}")
            };
            self.err(
                Diagnostic::error(
                    codes::BAD_ARGS,
                    format!("`{f}` takes {want} argument(s), not {}", args.len()),
                )
                .at(span),
            );
            return None;
        }
        Some(())
    }

    pub(super) fn builtin(&mut self, f: &str, args: &[ast::Arg], span: Span) -> Checked {
        let mk = |kind: HE| hir::Expr { kind, span };
        match f {
            "range" | "grid" => {
                self.err(
                    Diagnostic::error(
                        codes::BAD_LOOP,
                        format!("`{f}` only appears in `for ... in {f}(...)` and in generators"),
                    )
                    .at(span),
                );
                None
            }
            "load" => {
                self.err(
                    Diagnostic::error(
                        codes::UNSUPPORTED,
                        "`load` only appears in `param` declarations and parameter defaults",
                    )
                    .at(span)
                    .help("declare `param w: T[...] = load(\"w.npy\")` at module level"),
                );
                None
            }
            "sqrt" | "exp" | "log" | "tanh" | "sigmoid" => {
                let mf = kiln_numeric::MathFn::from_name(f)?;
                let (positional, named): (Vec<&ast::Arg>, Vec<&ast::Arg>) =
                    args.iter().partition(|a| a.name.is_none());
                if positional.len() != 1 {
                    self.err(
                        Diagnostic::error(codes::BAD_ARGS, format!("`{f}` takes one value"))
                            .at(span),
                    );
                    return None;
                }
                let spec = self.lut_spec(mf, &named)?;
                let (h, info) = self.expr(&positional[0].value)?;
                // Literals adapt: with table parameters they are exact, else f32.
                let literal = matches!(info.class, Class::IntLit | Class::RealLit);
                let exact =
                    matches!(info.class, Class::Int | Class::Fixed) || (literal && spec.is_some());
                let table = kiln_numeric::lut::has_table(mf);
                if exact && !table {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{f}` takes f32 values"),
                        )
                        .at(positional[0].value.span)
                        .help(format!(
                            "convert first: `{f}(f32(x))`; `exp`, `sigmoid` and `tanh` of exact values use lookup tables"
                        )),
                    );
                    return None;
                }
                if !exact && spec.is_some() && info.class != Class::Unknown {
                    self.err(
                        Diagnostic::error(
                            codes::BAD_ARGS,
                            format!("table parameters apply to `{f}` of exact values, not of {}", info.class.name()),
                        )
                        .at(named[0].value.span)
                        .help("an f32 argument is computed, not looked up: drop `size`, `lo`, `hi` and `bits`"),
                    );
                    return None;
                }
                if !matches!(
                    info.class,
                    Class::F32
                        | Class::RealLit
                        | Class::IntLit
                        | Class::Unknown
                        | Class::Int
                        | Class::Fixed
                ) {
                    self.err(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("`{f}` takes numbers, not {}", info.class.name()),
                        )
                        .at(positional[0].value.span),
                    );
                    return None;
                }
                let class = match info.class {
                    _ if exact => Class::Fixed,
                    Class::Unknown => Class::Unknown,
                    _ => Class::F32,
                };
                Some((
                    mk(HE::Math(mf, Box::new(h), spec)),
                    Info {
                        shape: info.shape,
                        class,
                    },
                ))
            }
            "abs" => {
                self.positional(f, args, span, 1, 1)?;
                let (h, info) = self.expr(&args[0].value)?;
                self.numeric(info.class, args[0].value.span, "`abs`")?;
                Some((mk(HE::Abs(Box::new(h))), info))
            }
            "min" | "max" => {
                self.positional(f, args, span, 1, usize::MAX)?;
                let op = if f == "min" {
                    ReduceOp::Min
                } else {
                    ReduceOp::Max
                };
                if args.len() == 1 {
                    return self.reduction(op, &args[0].value, span);
                }
                let mut hs = Vec::new();
                let mut acc: Option<Info> = None;
                let mut prev_span = args[0].value.span;
                for a in args {
                    let (h, info) = self.expr(&a.value)?;
                    self.numeric(info.class, a.value.span, &format!("`{f}`"))?;
                    let this_span = a.value.span;
                    acc = Some(match acc {
                        None => info,
                        Some(prev) => {
                            let class = self.unify_values(
                                prev.class,
                                info.class,
                                prev_span,
                                a.value.span,
                                &format!("the arguments of `{f}`"),
                            )?;
                            let shape = self.broadcast(&prev, &info, span)?;
                            Info { shape, class }
                        }
                    });
                    hs.push(h);
                    prev_span = this_span;
                }
                Some((
                    mk(HE::MinMax {
                        max: f == "max",
                        args: hs,
                    }),
                    acc?,
                ))
            }
            "sum" => {
                self.positional(f, args, span, 1, 1)?;
                self.reduction(ReduceOp::Sum, &args[0].value, span)
            }
            "argmax" | "argmin" => {
                self.positional(f, args, span, 1, 1)?;
                let op = if f == "argmax" {
                    ReduceOp::ArgMax
                } else {
                    ReduceOp::ArgMin
                };
                if let AE::Generator(g) = &args[0].value.kind {
                    let vars = g.vars.len();
                    if vars != 1 {
                        self.err(
                            Diagnostic::error(
                                codes::BAD_REDUCTION,
                                format!("`{f}` over a generator takes one loop variable, not {vars}"),
                            )
                            .at(args[0].value.span)
                            .help(format!("its result is that variable's value; for a flat position over several dimensions, take `{f}` of a tensor")),
                        );
                        return None;
                    }
                }
                self.reduction(op, &args[0].value, span)
            }
            "dot" => {
                self.positional(f, args, span, 2, 2)?;
                let (ha, ia) = self.expr(&args[0].value)?;
                let (hb, ib) = self.expr(&args[1].value)?;
                let (Some(sa), Some(sb)) = (&ia.shape, &ib.shape) else {
                    self.err(
                        Diagnostic::error(codes::KIND_MISMATCH, "`dot` takes two tensors").at(span),
                    );
                    return None;
                };
                self.same_shape(sa, sb, args[1].value.span, "the first operand's shape");
                let class = self.binary_class(
                    BinOp::Mul,
                    ia.class,
                    ib.class,
                    span,
                    args[0].value.span,
                    args[1].value.span,
                )?;
                Some((mk(HE::Dot(Box::new(ha), Box::new(hb))), Info::scalar(class)))
            }
            "map" => self.map(args, span),
            _ => unreachable!("not a builtin: {f}"),
        }
    }

    pub(super) fn reduction(&mut self, op: ReduceOp, arg: &ast::Expr, span: Span) -> Checked {
        let mk = |kind: HE| hir::Expr { kind, span };
        if let AE::Generator(g) = &arg.kind {
            let headers = self.loop_headers(&g.vars, &g.iter, false)?;
            let n = headers.len();
            for (i, h) in headers.iter().enumerate() {
                self.loop_scope.push((g.vars[i].name.clone(), h.var));
            }
            let saved = self.wher;
            self.wher.elementwise = true;
            let body = self.expr(&g.elem);
            self.wher = saved;
            self.loop_scope.truncate(self.loop_scope.len() - n);
            let (hb, ib) = body?;
            if ib.shape.is_some() {
                self.err(
                    Diagnostic::error(
                        codes::BAD_REDUCTION,
                        "the element of a reduction must be a scalar",
                    )
                    .at(g.elem.span),
                );
                return None;
            }
            self.numeric(ib.class, g.elem.span, &format!("`{}`", op.name()))?;
            let class = match ib.class {
                _ if op.is_arg() => Class::Int,
                Class::IntLit => Class::Int,
                Class::RealLit => Class::Fixed,
                c => c,
            };
            return Some((
                mk(HE::Reduce {
                    op,
                    loops: headers,
                    body: Box::new(hb),
                }),
                Info::scalar(class),
            ));
        }
        let (h, info) = self.expr(arg)?;
        if info.shape.is_none() {
            self.err(
                Diagnostic::error(
                    codes::BAD_REDUCTION,
                    format!("`{}` of a single scalar", op.name()),
                )
                .at(arg.span)
                .help(format!(
                    "`{}` takes a tensor or a generator: `{}(e for i in range(N))`",
                    op.name(),
                    op.name()
                )),
            );
            return None;
        }
        self.numeric(info.class, arg.span, &format!("`{}`", op.name()))?;
        let class = if op.is_arg() { Class::Int } else { info.class };
        Some((
            mk(HE::ReduceAll {
                op,
                arg: Box::new(h),
            }),
            Info::scalar(class),
        ))
    }

    pub(super) fn map(&mut self, args: &[ast::Arg], span: Span) -> Checked {
        self.positional("map", args, span, 2, usize::MAX)?;
        let AE::Lambda { params, body } = &args[0].value.kind else {
            self.err(
                Diagnostic::error(
                    codes::BAD_MAP,
                    "the first argument of `map` must be a lambda",
                )
                .at(args[0].value.span)
                .help("write `map(lambda a, b: a * b, A, B)`"),
            );
            return None;
        };
        let operands = &args[1..];
        if params.len() != operands.len() {
            self.err(
                Diagnostic::error(
                    codes::BAD_MAP,
                    format!(
                        "the lambda takes {} parameter(s) but `map` gets {} tensor(s)",
                        params.len(),
                        operands.len()
                    ),
                )
                .at(span),
            );
            return None;
        }
        let mut hops = Vec::new();
        let mut infos = Vec::new();
        for a in operands {
            let (h, info) = self.expr(&a.value)?;
            let Some(shape) = &info.shape else {
                self.err(
                    Diagnostic::error(codes::BAD_MAP, "`map` works on tensors; this is a scalar")
                        .at(a.value.span),
                );
                return None;
            };
            if let Some(first) = infos
                .first()
                .map(|(i, _): &(Info, bool)| i.shape.clone().unwrap_or_default())
            {
                self.same_shape(&first, shape, a.value.span, "the first operand of `map`");
            }
            let windowed = matches!(&h.kind, HE::Local(_) | HE::Param(_) | HE::Global(_))
                || matches!(&h.kind, HE::Index { .. });
            infos.push((info, windowed));
            hops.push(h);
        }
        let mut ids = Vec::new();
        for (p, (info, windowed)) in params.iter().zip(&infos) {
            let id = self.k.lambda_params.len();
            self.k.lambda_params.push(Named {
                name: p.name.clone(),
                span: p.span,
            });
            self.lambda_scope
                .push((p.name.clone(), id, info.clone(), *windowed));
            ids.push(id);
        }
        let saved = self.wher;
        self.wher.elementwise = true;
        let body_r = self.expr(body);
        self.wher = saved;
        self.lambda_scope
            .truncate(self.lambda_scope.len() - params.len());
        let (hb, ib) = body_r?;
        if ib.shape.is_some() {
            self.err(
                Diagnostic::error(codes::BAD_MAP, "the lambda of `map` must return a scalar")
                    .at(body.span),
            );
            return None;
        }
        let shape = infos[0].0.shape.clone();
        let class = match ib.class {
            Class::IntLit => Class::Int,
            Class::RealLit => Class::Fixed,
            c => c,
        };
        Some((
            hir::Expr {
                kind: HE::Map {
                    params: ids,
                    body: Box::new(hb),
                    operands: hops,
                },
                span,
            },
            Info { shape, class },
        ))
    }

    pub(super) fn comprehension(&mut self, g: &ast::Generator, span: Span) -> Checked {
        let headers = self.loop_headers(&g.vars, &g.iter, true)?;
        let n = headers.len();
        for (i, h) in headers.iter().enumerate() {
            self.loop_scope.push((g.vars[i].name.clone(), h.var));
        }
        let saved = self.wher;
        self.wher.elementwise = true;
        let r = self.expr(&g.elem);
        self.wher = saved;
        self.loop_scope.truncate(self.loop_scope.len() - n);
        let (he, ie) = r?;
        if ie.shape.is_some() {
            self.err(
                Diagnostic::error(
                    codes::KIND_MISMATCH,
                    "the element of a comprehension must be a scalar",
                )
                .at(g.elem.span),
            );
            return None;
        }
        let shape: Vec<Dim> = headers
            .iter()
            .map(|h| {
                // ceil(|hi - lo| / |step|), counting down for a negative step.
                let (diff, step) = if h.step > 0 {
                    (
                        SizeExpr::bin(SizeOp::Sub, h.hi.clone(), h.lo.clone()),
                        h.step,
                    )
                } else {
                    (
                        SizeExpr::bin(SizeOp::Sub, h.lo.clone(), h.hi.clone()),
                        -h.step,
                    )
                };
                let len = if step == 1 {
                    diff
                } else {
                    SizeExpr::bin(
                        SizeOp::FloorDiv,
                        SizeExpr::bin(SizeOp::Add, diff, SizeExpr::Const(step - 1)),
                        SizeExpr::Const(step),
                    )
                };
                Dim::Size(simplify(&len))
            })
            .collect();
        let class = match ie.class {
            Class::IntLit => Class::Int,
            Class::RealLit => Class::Fixed,
            c => c,
        };
        Some((
            hir::Expr {
                kind: HE::Comprehension {
                    loops: headers,
                    elem: Box::new(he),
                },
                span,
            },
            Info {
                shape: Some(shape),
                class,
            },
        ))
    }
}

/// The value of a number literal, possibly negated (`-8`, `0.5`).
pub(super) fn literal_number(e: &ast::Expr) -> Option<f64> {
    match &e.kind {
        AE::Int(v) => Some(*v as f64),
        AE::Float(s) => s.replace('_', "").parse().ok(),
        AE::Unary(ast::UnaryOp::Neg, a) => literal_number(a).map(|v| -v),
        _ => None,
    }
}
