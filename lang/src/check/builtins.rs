//! Builtin functions: the dispatch over their names, math functions with their
//! lookup-table parameters, `abs`, `min` / `max` of several values, `argmax` / `argmin`,
//! `dot`, and the argument-count rules they share. Reductions and `map` are in
//! elementwise.rs.

use super::{mk, Checked, Checker, Class, Info};
use crate::ast::{self, BinOp, ExprKind as AE};
use crate::diag::{codes, Diagnostic};
use crate::hir::{ExprKind as HE, ReduceOp};
use crate::op_rules::{self, Unary};
use crate::span::Span;

impl Checker<'_, '_> {
    /// The lookup-table parameters of a math function: `size=`, `lo=`, `hi=`, `bits=`
    /// (literals), checked against `kiln_numeric::lut`'s rules; `None` when none is given.
    fn lut_spec(
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

    /// That builtin `f` gets only positional arguments, `min` to `max` of them.
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

    /// A call of builtin function `f`.
    pub(super) fn builtin(&mut self, f: &str, args: &[ast::Arg], span: Span) -> Checked {
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
            "sqrt" | "exp" | "log" | "tanh" | "sigmoid" => self.math_fn(f, args, span),
            "abs" => {
                self.positional(f, args, span, 1, 1)?;
                let (h, info) = self.expr(&args[0].value)?;
                let arg_span = args[0].value.span;
                let rule = op_rules::unary(Unary::Abs, info.class);
                self.obey(rule, span, arg_span, arg_span)?;
                Some((mk(HE::Abs(Box::new(h)), span), info))
            }
            "min" | "max" => self.min_max(f == "max", args, span),
            "sum" => {
                self.positional(f, args, span, 1, 1)?;
                self.reduction(ReduceOp::Sum, &args[0].value, span)
            }
            "argmax" | "argmin" => self.arg_reduction(f == "argmax", args, span),
            "dot" => self.dot(args, span),
            "bits" => self.bits(args, span),
            "map" => self.map(args, span),
            "len" => {
                let call = ast::Expr {
                    kind: AE::Call {
                        func: Box::new(ast::Expr {
                            kind: AE::Name("len".into()),
                            span,
                        }),
                        args: args.to_vec(),
                    },
                    span,
                };
                self.compile_time_size(&call)
            }
            _ => unreachable!("not a builtin: {f}"),
        }
    }

    /// `sqrt`, `exp`, `log`, `tanh`, `sigmoid` (`f`): of f32 or f64 values, or of exact values
    /// through a lookup table (with table parameters, literals are exact too).
    fn math_fn(&mut self, f: &str, args: &[ast::Arg], span: Span) -> Checked {
        let mf = kiln_numeric::MathFn::from_name(f)?;
        let (positional, named): (Vec<&ast::Arg>, Vec<&ast::Arg>) =
            args.iter().partition(|a| a.name.is_none());
        if positional.len() != 1 {
            self.err(Diagnostic::error(codes::BAD_ARGS, format!("`{f}` takes one value")).at(span));
            return None;
        }
        let spec = self.lut_spec(mf, &named)?;
        let arg = &positional[0].value;
        let (h, info) = self.expr(arg)?;
        // Literals adapt: with table parameters they are exact, else f32.
        let exact = matches!(info.class, Class::Int | Class::Fixed)
            || (info.class.is_literal() && spec.is_some());
        if exact && !kiln_numeric::lut::has_table(mf) {
            self.err(
                Diagnostic::error(codes::TYPE_MISMATCH, format!("`{f}` takes f32 or f64 values"))
                    .at(arg.span)
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
                .help("a float argument is computed, not looked up: drop `size`, `lo`, `hi` and `bits`"),
            );
            return None;
        }
        if info.class == Class::Bool {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`{f}` takes numbers, not {}", info.class.name()),
                )
                .at(arg.span),
            );
            return None;
        }
        let class = match info.class {
            _ if exact => Class::Fixed,
            Class::Unknown => Class::Unknown,
            Class::F64 => Class::F64,
            _ => Class::F32,
        };
        let info = Info {
            shape: info.shape,
            class,
        };
        Some((mk(HE::Math(mf, Box::new(h), spec), span), info))
    }

    /// `min(t)` / `max(t)` (`is_max`) of one tensor or generator, or of several values.
    fn min_max(&mut self, is_max: bool, args: &[ast::Arg], span: Span) -> Checked {
        let (f, op) = if is_max {
            ("max", ReduceOp::Max)
        } else {
            ("min", ReduceOp::Min)
        };
        self.positional(f, args, span, 1, usize::MAX)?;
        if args.len() == 1 {
            return self.reduction(op, &args[0].value, span);
        }
        let mut hs = Vec::new();
        let mut acc: Option<Info> = None;
        let mut prev_span = args[0].value.span;
        for a in args {
            let (h, info) = self.expr(&a.value)?;
            self.numeric(info.class, a.value.span, &format!("`{f}`"))?;
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
            prev_span = a.value.span;
        }
        let e = mk(
            HE::MinMax {
                max: is_max,
                args: hs,
            },
            span,
        );
        Some((e, acc?))
    }

    /// `argmax(x)` / `argmin(x)` (`is_max`): of a tensor, or of a generator over one loop
    /// variable.
    fn arg_reduction(&mut self, is_max: bool, args: &[ast::Arg], span: Span) -> Checked {
        let (f, op) = if is_max {
            ("argmax", ReduceOp::ArgMax)
        } else {
            ("argmin", ReduceOp::ArgMin)
        };
        self.positional(f, args, span, 1, 1)?;
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

    /// `dot(a, b)`: the sum of the products of two tensors of one shape.
    fn dot(&mut self, args: &[ast::Arg], span: Span) -> Checked {
        self.positional("dot", args, span, 2, 2)?;
        let (ha, ia) = self.expr(&args[0].value)?;
        let (hb, ib) = self.expr(&args[1].value)?;
        let (Some(sa), Some(sb)) = (&ia.shape, &ib.shape) else {
            self.err(Diagnostic::error(codes::KIND_MISMATCH, "`dot` takes two tensors").at(span));
            return None;
        };
        self.same_shape(sa, sb, args[1].value.span, "the first operand's shape");
        let spans = (span, args[0].value.span, args[1].value.span);
        let class = self.binary_class(BinOp::Mul, ia.class, ib.class, spans)?;
        Some((
            mk(HE::Dot(Box::new(ha), Box::new(hb)), span),
            Info::scalar(class),
        ))
    }
}

impl Checker<'_, '_> {
    /// `bits(x, hi, lo)`: bits `hi` down to `lo` of one integer value (ap_int's
    /// `range(hi, lo)`); lowering checks that `hi - lo` is a constant.
    fn bits(&mut self, args: &[ast::Arg], span: Span) -> Checked {
        self.positional("bits", args, span, 3, 3)?;
        let (hx, ix) = self.expr(&args[0].value)?;
        let (hh, ih) = self.expr(&args[1].value)?;
        let (hl, il) = self.expr(&args[2].value)?;
        if ix.shape.is_some() {
            self.err(
                Diagnostic::error(
                    codes::KIND_MISMATCH,
                    "`bits` takes one integer, not a tensor",
                )
                .at(args[0].value.span)
                .help("apply it to each element: `[bits(w[i], 15, 8) for i in range(N)]`"),
            );
            return None;
        }
        if !(ix.class.is_integer() || ix.class == Class::Unknown) {
            self.err(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`bits` takes an integer (int<N> or uint<N>), not {}", ix.class.name()),
                )
                .at(args[0].value.span)
                .help("for the raw bits of a fixed-point value, scale it to an integer first: `bits(int<W>(x * 2**F), hi, lo)`"),
            );
            return None;
        }
        for (info, a, what) in [(&ih, &args[1], "hi"), (&il, &args[2], "lo")] {
            if info.shape.is_some() || !info.class.is_integer() {
                self.err(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("`bits`'s `{what}` is a bit position: an integer"),
                    )
                    .at(a.value.span),
                );
                return None;
            }
        }
        let e = HE::Bits {
            arg: Box::new(hx),
            hi: Box::new(hh),
            lo: Box::new(hl),
        };
        Some((mk(e, span), Info::scalar(Class::Int)))
    }
}

/// The value of a number literal, possibly negated (`-8`, `0.5`).
fn literal_number(e: &ast::Expr) -> Option<f64> {
    match &e.kind {
        AE::Int(v) => Some(*v as f64),
        AE::Float(s) => s.replace('_', "").parse().ok(),
        AE::Unary(ast::UnaryOp::Neg, a) => literal_number(a).map(|v| -v),
        _ => None,
    }
}
