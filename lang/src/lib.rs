//! kiln-lang: the front end.
//!
//! Source text → tokens (lexer.rs) → AST (grammar.lalrpop, parse.rs) → checked HIR
//! (program.rs drives the modules, resolve/ resolves names, types and signatures, check/
//! checks kernel bodies with the operator rules of op_rules.rs). Everything a user can get
//! wrong is reported as a [`diag::Diagnostic`]. The HIR (hir.rs) is the only thing later
//! stages see.
//!
//! Module dependencies (no cycles): program → check → resolve → hir; check → op_rules →
//! hir; program → resolve, parse, schedule.

// Diagnostics are large and only travel on error paths.
#![allow(clippy::result_large_err)]

pub mod annotations;
pub mod ast;
pub mod ast_print;
pub mod check;
pub mod diag;
pub mod early_return;
pub mod hir;
pub mod inline;
pub mod lexer;
pub mod op_rules;
mod out_params;
pub mod parse;
pub mod program;
mod resolve;
pub mod schedule;
pub mod span;
pub mod sym;

pub use diag::{Diagnostic, Diagnostics};
pub use program::{build_prim, check_program, check_program_timed, SourceLoader};
pub use span::{FileId, SourceFile, SourceMap, Span};
