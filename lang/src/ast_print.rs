//! A compact, stable S-expression form of the AST: the parser's golden form.
//!
//! ```text
//! (kernel f [T] ((x (tensor T [(name N)])) (s const = (int 1))) -> ((tensor T [(name N)]))
//!   (assign (name y) (binary + (name x) (int 1))))
//! ```

use crate::ast::*;
use std::fmt::Write;

pub fn print_module(m: &Module) -> String {
    let mut out = String::new();
    for item in &m.items {
        item_sexpr(item, &mut out);
        out.push('\n');
    }
    out
}

fn item_sexpr(it: &Item, out: &mut String) {
    match &it.kind {
        ItemKind::Import { path, alias } => {
            let _ = write!(out, "(import {}", dotted(path));
            if let Some(a) = alias {
                let _ = write!(out, " as {}", a.name);
            }
            out.push(')');
        }
        ItemKind::FromImport { path, names } => {
            let _ = write!(out, "(from {} import", dotted(path));
            for (n, a) in names {
                let _ = write!(out, " {}", n.name);
                if let Some(a) = a {
                    let _ = write!(out, " as {}", a.name);
                }
            }
            out.push(')');
        }
        ItemKind::TypeAlias { name, ty } => {
            let _ = write!(out, "(type {} {})", name.name, type_sexpr(ty));
        }
        ItemKind::Const { name, value } => {
            let _ = write!(out, "(const {} {})", name.name, expr(value));
        }
        ItemKind::Param { name, ty, init } => {
            let _ = write!(
                out,
                "(param {} {} {})",
                name.name,
                type_sexpr(ty),
                expr(init)
            );
        }
        ItemKind::Schedule {
            kernel,
            target,
            body,
        } => {
            let _ = writeln!(out, "(schedule {} for {}", kernel.name, target.name);
            block(body, 1, out);
            out.push_str(")\n");
        }
        ItemKind::Def(d) => {
            let params: Vec<&str> = d.params.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(out, "(def {} ({})", d.name.name, params.join(" "));
            block(&d.body, 1, out);
            out.push_str(")\n");
        }
        ItemKind::Kernel(k) => {
            let tps: Vec<&str> = k.type_params.iter().map(|t| t.name.as_str()).collect();
            let params: Vec<String> = k
                .params
                .iter()
                .map(|p| {
                    let ty = match &p.ty {
                        ParamType::Const(_) => "const".to_string(),
                        ParamType::Value(t) => type_sexpr(t),
                    };
                    match &p.default {
                        Some(d) => format!("({} {ty} = {})", p.name.name, expr(d)),
                        None => format!("({} {ty})", p.name.name),
                    }
                })
                .collect();
            let results: Vec<String> = k.results.iter().map(type_sexpr).collect();
            let _ = write!(
                out,
                "(kernel {} [{}] ({}) -> ({})",
                k.name.name,
                tps.join(" "),
                params.join(" "),
                results.join(" ")
            );
            block(&k.body, 1, out);
            out.push(')');
        }
    }
}

fn dotted(p: &[Ident]) -> String {
    p.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

fn elem_sexpr(e: &ElemTypeExpr) -> String {
    match &e.kind {
        ElemTypeKind::Named(n) => n.name.clone(),
        ElemTypeKind::Prim { prim, args } if args.is_empty() => prim.name().to_string(),
        ElemTypeKind::Prim { prim, args } => {
            format!(
                "{}<{}>",
                prim.name(),
                args.iter().map(expr).collect::<Vec<_>>().join(" ")
            )
        }
    }
}

fn type_sexpr(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Scalar(e) => elem_sexpr(e),
        TypeExprKind::Tensor { elem, dims } => {
            let dims: Vec<String> = dims
                .iter()
                .map(|d| match d {
                    DimExpr::Size(e) => expr(e),
                    DimExpr::Rest(i) => format!("*{}", i.name),
                })
                .collect();
            format!(
                "(tensor {} [{}])",
                elem.as_ref().map_or("_".to_string(), elem_sexpr),
                dims.join(" ")
            )
        }
    }
}

fn block(b: &Block, indent: usize, out: &mut String) {
    for s in &b.stmts {
        out.push('\n');
        for _ in 0..indent {
            out.push_str("  ");
        }
        stmt(s, indent, out);
    }
}

fn stmt(s: &Stmt, indent: usize, out: &mut String) {
    match &s.kind {
        StmtKind::Decl { name, ty, init } => {
            let _ = write!(out, "(decl {} {}", name.name, type_sexpr(ty));
            if let Some(e) = init {
                let _ = write!(out, " {}", expr(e));
            }
            out.push(')');
        }
        StmtKind::Assign { targets, value } => {
            let t: Vec<String> = targets.iter().map(expr).collect();
            let _ = write!(out, "(assign {} {})", t.join(" "), expr(value));
        }
        StmtKind::AugAssign { target, op, value } => {
            let _ = write!(
                out,
                "(assign{} {} {})",
                op.symbol(),
                expr(target),
                expr(value)
            );
        }
        StmtKind::For { vars, iter, body } => {
            let v: Vec<&str> = vars.iter().map(|i| i.name.as_str()).collect();
            let _ = write!(out, "(for ({}) {}", v.join(" "), expr(iter));
            block(body, indent + 1, out);
            out.push(')');
        }
        StmtKind::While { cond, max, body } => {
            let _ = write!(out, "(while {}", expr(cond));
            if let Some((k, n)) = max {
                let _ = write!(out, " ({} {})", k.name, expr(n));
            }
            block(body, indent + 1, out);
            out.push(')');
        }
        StmtKind::If {
            branches,
            else_block,
        } => {
            out.push_str("(if");
            for (c, b) in branches {
                let _ = write!(out, " {}", expr(c));
                block(b, indent + 1, out);
            }
            if let Some(b) = else_block {
                out.push_str(" else");
                block(b, indent + 1, out);
            }
            out.push(')');
        }
        StmtKind::Return(v) => {
            let v: Vec<String> = v.iter().map(expr).collect();
            let _ = write!(out, "(return {})", v.join(" "));
        }
        StmtKind::Expr(e) => {
            let _ = write!(out, "(expr {})", expr(e));
        }
        StmtKind::Pass => out.push_str("(pass)"),
        StmtKind::Break => out.push_str("(break)"),
        StmtKind::Continue => out.push_str("(continue)"),
        StmtKind::Error => out.push_str("(error)"),
        StmtKind::UnexpectedIndent(b) => {
            out.push_str("(unexpected-indent");
            block(b, indent + 1, out);
            out.push(')');
        }
    }
}

/// The S-expression of an expression.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(v) => format!("(int {v})"),
        ExprKind::Float(s) => format!("(real {s})"),
        ExprKind::Bool(b) => format!("(bool {b})"),
        ExprKind::Str(s) => format!("(str {s:?})"),
        ExprKind::Name(n) => format!("(name {n})"),
        ExprKind::Attr(b, n) => format!("(attr {} {})", expr(b), n.name),
        ExprKind::Unary(op, a) => format!("(unary {op:?} {})", expr(a)),
        ExprKind::Binary(op, a, b) => format!("(binary {} {} {})", op.symbol(), expr(a), expr(b)),
        ExprKind::Compare(first, rest) => {
            let r: Vec<String> = rest
                .iter()
                .map(|(op, e)| format!("{} {}", op.symbol(), expr(e)))
                .collect();
            format!("(compare {} {})", expr(first), r.join(" "))
        }
        ExprKind::BoolOp(op, a, b) => format!(
            "({} {} {})",
            if *op == BoolOp::And { "and" } else { "or" },
            expr(a),
            expr(b)
        ),
        ExprKind::IfElse {
            cond,
            then,
            otherwise,
        } => format!("(ifelse {} {} {})", expr(cond), expr(then), expr(otherwise)),
        ExprKind::Call { func, args } => {
            let a: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}={}", n.name, expr(&a.value)),
                    None => expr(&a.value),
                })
                .collect();
            format!("(call {} {})", expr(func), a.join(" "))
        }
        ExprKind::Index { base, subs } => {
            let s: Vec<String> = subs
                .iter()
                .map(|s| match s {
                    Subscript::Index(e) => expr(e),
                    Subscript::Slice { lo, hi, step, .. } => {
                        let part = |e: &Option<Expr>| e.as_ref().map_or("_".to_string(), expr);
                        format!("(slice {} {} {})", part(lo), part(hi), part(step))
                    }
                })
                .collect();
            format!("(index {} {})", expr(base), s.join(" "))
        }
        ExprKind::TypeLit(t) => format!("(type {})", elem_sexpr(t)),
        ExprKind::Lambda { params, body } => {
            let p: Vec<&str> = params.iter().map(|i| i.name.as_str()).collect();
            format!("(lambda ({}) {})", p.join(" "), expr(body))
        }
        ExprKind::Comprehension(g) | ExprKind::Generator(g) => {
            let kind = if matches!(e.kind, ExprKind::Comprehension(_)) {
                "comprehension"
            } else {
                "generator"
            };
            let v: Vec<&str> = g.vars.iter().map(|i| i.name.as_str()).collect();
            format!(
                "({kind} {} ({}) {})",
                expr(&g.elem),
                v.join(" "),
                expr(&g.iter)
            )
        }
        ExprKind::List(items) => format!(
            "(list {})",
            items.iter().map(expr).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Tuple(items) => format!(
            "(tuple {})",
            items.iter().map(expr).collect::<Vec<_>>().join(" ")
        ),
    }
}
