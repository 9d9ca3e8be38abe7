//! kiln-lang: the front end.
pub mod ast;
pub mod diag;
pub mod lexer;
pub mod parse;
pub mod span;
