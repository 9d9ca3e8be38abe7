//! The run-time error every engine reports (ir.rs lists the kinds), shared so that the
//! engines' errors compare equal in differential tests.

use crate::diag::{Code, Diagnostic};
use crate::Span;

/// A run-time error, with where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunError {
    pub code: Code,
    pub message: String,
    pub span: Option<Span>,
    pub notes: Vec<String>,
    /// The calls it happened in, innermost first: the callee kernel and the call's span.
    pub calls: Vec<(String, Span)>,
}

impl RunError {
    pub fn new(code: Code, message: String, span: Span) -> RunError {
        RunError {
            code,
            message,
            span: Some(span),
            notes: Vec::new(),
            calls: Vec::new(),
        }
    }

    pub fn to_diagnostic(&self) -> Diagnostic {
        let mut d = Diagnostic::error(self.code, self.message.clone());
        if let Some(s) = self.span {
            d = d.at(s);
        }
        for n in &self.notes {
            d = d.note(n.clone());
        }
        for (kernel, span) in &self.calls {
            d = d.with_secondary(*span, format!("in this call to `{kernel}`"));
        }
        d
    }
}
