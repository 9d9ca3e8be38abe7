//! Diagnostics: every error and warning kiln reports, its code, and its rendering.
//!
//! All stages (lexer, parser, checker, lowering, passes, data loading, interpreter) report
//! problems as [`Diagnostic`]s with a stable code from [`codes`], a primary span, labels,
//! notes and a help line. [`render`] turns them into ariadne reports
//! (`file:line:col`, the code, the span underlined). docs/language.md lists every code;
//! a test checks that the list and [`codes::ALL`] agree.

use crate::span::{SourceMap, Span};
use ariadne::{CharSet, Config, IndexType, Label, Report, ReportKind};
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

/// A stable diagnostic code and its one-line title.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Code {
    pub id: &'static str,
    pub title: &'static str,
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

/// The registry of diagnostic codes. E01: lexing and syntax; E02: names, imports and items;
/// E03: element types; E04: shapes and indexing; E05: statements and kernels; E06: data and
/// the command line; E07: run-time errors; W08: warnings.
pub mod codes {
    use super::Code;

    macro_rules! codes {
        ($($name:ident = $id:literal, $title:literal;)*) => {
            $(pub const $name: Code = Code { id: $id, title: $title };)*
            /// Every code, in numeric order.
            pub const ALL: &[Code] = &[$($name),*];
        };
    }

    codes! {
        INVALID_TOKEN = "E0101", "invalid character or token";
        INT_TOO_LARGE = "E0102", "integer literal too large";
        UNTERMINATED_STRING = "E0103", "unterminated string";
        TAB_INDENT = "E0104", "tab in indentation";
        BAD_DEDENT = "E0105", "dedent does not match any outer indentation level";
        UNEXPECTED_INDENT = "E0106", "unexpected indentation";
        SYNTAX = "E0110", "syntax error";
        UNEXPECTED_EOF = "E0111", "unexpected end of file";
        EMPTY_FILE = "E0112", "empty source file";
        NOT_UTF8 = "E0113", "source file is not UTF-8";
        TOO_DEEP = "E0114", "blocks or brackets nested too deeply";

        UNKNOWN_NAME = "E0201", "unknown name";
        DUPLICATE = "E0202", "duplicate definition";
        UNKNOWN_MODULE = "E0203", "module not found";
        IMPORT_CYCLE = "E0204", "import cycle";
        NOT_CALLABLE = "E0205", "not callable";
        UNKNOWN_KERNEL = "E0206", "unknown kernel";
        WRONG_NAME_KIND = "E0207", "name used as the wrong kind of thing";
        UNBOUND_SIZE = "E0208", "size variable not bound by a parameter";
        READ_FAILED = "E0209", "cannot read file";

        TYPE_MISMATCH = "E0301", "operand types do not fit the operation";
        BAD_WIDTH = "E0302", "width out of range";
        BAD_FIXED_TYPE = "E0303", "invalid fixed-point type";
        UNKNOWN_MODE = "E0304", "unknown quantization or overflow mode";
        MIXED_FLOAT = "E0305", "a float (f32, f64) mixed with an exact type";
        NOT_BOOL = "E0306", "condition is not a bool";
        INEXACT_LITERAL = "E0307", "literal not exactly representable";
        BAD_DIVISION = "E0308", "division not defined for these types";
        BAD_CAST = "E0309", "invalid conversion";
        TOO_WIDE = "E0310", "intermediate value too wide";
        CANNOT_INFER = "E0311", "cannot infer a type";
        NEGATIVE_SHIFT = "E0312", "shift amount may be negative";

        SHAPE_MISMATCH = "E0401", "shape mismatch";
        INDEX_COUNT = "E0402", "wrong number of indices";
        OUT_OF_BOUNDS = "E0403", "index or slice out of bounds";
        NOT_AFFINE = "E0404", "an index that is not an integer within the range of int<64>";
        BAD_SLICE = "E0405", "invalid slice";
        KIND_MISMATCH = "E0406", "tensor where a scalar is expected, or the reverse";
        SIZE_CONFLICT = "E0407", "size variable bound to two values";
        BAD_DIM = "E0408", "dimension is not a positive integer";

        USE_BEFORE_ASSIGN = "E0501", "variable used before it is assigned";
        READ_ONLY = "E0502", "assignment to a read-only name";
        BAD_RETURN = "E0503", "missing or misplaced return";
        BAD_ARGS = "E0504", "wrong arguments";
        BAD_LOOP = "E0505", "invalid loop bounds";
        CALL_NOT_TOP_LEVEL = "E0506", "kernel call where it cannot run once per evaluation";
        RECURSION = "E0507", "recursive kernel";
        USELESS_EXPR = "E0508", "expression statement has no effect";
        NEEDS_ELEM_TYPE = "E0509", "local tensor needs a declared element type";
        BAD_MAP = "E0510", "invalid map or lambda";
        BAD_REDUCTION = "E0511", "invalid reduction";
        NOT_CONSTANT = "E0512", "value must be a compile-time constant";
        UNSUPPORTED = "E0513", "construct not supported";
        SCHEDULE_CONFLICT = "E0514", "schedule directives conflict";
        BAD_SCHEDULE = "E0515", "invalid schedule";
        UNKNOWN_TARGET = "E0516", "unknown pipeline, pass or part";

        BAD_NPY = "E0601", "cannot read .npy data";
        DATA_SHAPE = "E0602", "data shape does not match";
        DATA_DTYPE = "E0603", "data type not supported";
        MISSING_INPUT = "E0604", "input not bound";
        UNKNOWN_INPUT = "E0605", "unknown input name";
        NO_ENTRY = "E0607", "no kernel to run";
        WRITE_FAILED = "E0608", "cannot write output";
        CSIM_FAILED = "E0609", "cannot C-simulate the project";
        CSIM_MISMATCH = "E0610", "C-simulation failed";
        QUANTIZE_FAILED = "E0611", "cannot quantize";
        SYNTH_FAILED = "E0620", "cannot synthesize the design";

        RUNTIME_BOUNDS = "E0701", "index out of bounds at run time";
        DIV_BY_ZERO = "E0702", "division by zero";
        UNINIT_READ = "E0703", "read of an element never written";
        OUTPUT_INCOMPLETE = "E0704", "result not fully written";
        LOOP_LIMIT = "E0705", "a `while` loop needs more iterations than its maximum";
        OUT_OF_MEMORY = "E0706", "not enough memory for the run";
        RTL_UNSUPPORTED = "E0720", "not supported by the RTL back end";
        RTLSIM_FAILED = "E0721", "cannot simulate the RTL design";
        RTLSIM_MISMATCH = "E0722", "RTL simulation failed";
        TESTBENCH_TOO_LONG = "E0723", "the testbench's run would take too long";

        OVERFLOW_RISK = "W0801", "declared type can overflow";
        LOSSY_LOAD = "W0802", "loaded values changed by the conversion";
        NOT_HONOURED = "W0803", "schedule primitive not honoured by this target";
        RUNTIME_OVERFLOW = "W0804", "values overflowed at run time (--check-overflow)";
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Warning,
    Error,
}

/// One problem report.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// Where; `None` for problems with no source location (a missing file).
    pub span: Option<Span>,
    /// Text attached to the primary span.
    pub label: Option<String>,
    pub secondary: Vec<(Span, String)>,
    pub notes: Vec<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span: None,
            label: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, message)
        }
    }

    pub fn at(mut self, span: Span) -> Diagnostic {
        self.span = Some(span);
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    pub fn with_secondary(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.secondary.push((span, label.into()));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A list of diagnostics collected by one stage.
///
/// [`Diagnostics::push`] drops a diagnostic equal to one already in the list; it finds
/// equal ones through a hash index, so collecting n diagnostics takes O(n) time (a linear
/// scan per push made 8,000 errors quadratic).
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub list: Vec<Diagnostic>,
    /// Hash of each indexed diagnostic → its positions in `list`.
    index: HashMap<u64, Vec<usize>>,
    /// How many entries of `list` `index` covers (code may push to `list` directly).
    indexed: usize,
}

fn hash_of(d: &Diagnostic) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    d.hash(&mut h);
    h.finish()
}

impl Diagnostics {
    /// Brings the index up to date with `list`, which callers may have changed directly.
    fn sync_index(&mut self) {
        if self.indexed > self.list.len() {
            self.index.clear();
            self.indexed = 0;
        }
        while self.indexed < self.list.len() {
            let h = hash_of(&self.list[self.indexed]);
            self.index.entry(h).or_default().push(self.indexed);
            self.indexed += 1;
        }
    }

    pub fn push(&mut self, d: Diagnostic) {
        // The same problem found twice (e.g. in two instantiations) is reported once.
        self.sync_index();
        let h = hash_of(&d);
        let slot = self.index.entry(h).or_default();
        if slot
            .iter()
            .any(|&i| self.list.get(i).is_some_and(|o| *o == d))
        {
            return;
        }
        slot.push(self.list.len());
        self.list.push(d);
        self.indexed = self.list.len();
    }

    pub fn extend(&mut self, ds: impl IntoIterator<Item = Diagnostic>) {
        for d in ds {
            self.push(d);
        }
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.list.iter().filter(|d| d.is_error()).count()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// The ariadne source cache of every file of `sources` (built once per batch of
/// diagnostics: building it costs the length of every file).
fn source_cache(sources: &SourceMap) -> impl ariadne::Cache<String> + '_ {
    ariadne::sources(
        sources
            .files()
            .map(|(_, f)| (f.name.clone(), f.text.as_str()))
            .collect::<Vec<_>>(),
    )
}

/// Renders one diagnostic. `color` selects ANSI colours (off for tests and pipes).
pub fn render(d: &Diagnostic, sources: &SourceMap, color: bool) -> String {
    render_with(d, sources, &mut source_cache(sources), color)
}

fn render_with(
    d: &Diagnostic,
    sources: &SourceMap,
    cache: &mut impl ariadne::Cache<String>,
    color: bool,
) -> String {
    let kind = match d.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
    };
    let config = Config::default()
        .with_color(color)
        .with_index_type(IndexType::Byte)
        .with_char_set(if color {
            CharSet::Unicode
        } else {
            CharSet::Ascii
        });
    let Some(span) = d.span else {
        let mut s = format!(
            "[{}] {}: {}\n",
            d.code.id,
            if d.is_error() { "Error" } else { "Warning" },
            d.message
        );
        for n in &d.notes {
            s.push_str(&format!("  = note: {n}\n"));
        }
        if let Some(h) = &d.help {
            s.push_str(&format!("  = help: {h}\n"));
        }
        return s;
    };
    let name = |sp: Span| sources.get(sp.file).name.clone();
    let mut report = Report::build(kind, (name(span), span.range()))
        .with_config(config)
        .with_code(d.code.id)
        .with_message(&d.message);
    // ariadne draws the underline only for labels with text.
    let mut primary = Label::new((name(span), span.range()))
        .with_message(d.label.as_deref().unwrap_or(d.code.title));
    if color {
        primary = primary.with_color(match d.severity {
            Severity::Error => ariadne::Color::Red,
            Severity::Warning => ariadne::Color::Yellow,
        });
    }
    report = report.with_label(primary);
    for (sp, l) in &d.secondary {
        let mut label = Label::new((name(*sp), sp.range())).with_message(l);
        if color {
            label = label.with_color(ariadne::Color::Blue);
        }
        report = report.with_label(label);
    }
    for n in &d.notes {
        report = report.with_note(n);
    }
    if let Some(h) = &d.help {
        report = report.with_help(h);
    }
    let mut out = Vec::new();
    if report.finish().write(cache, &mut out).is_err() {
        return format!("error[{}]: {}\n", d.code.id, d.message);
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    // Trailing spaces depend on ariadne's layout, not on the diagnostic; drop them.
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Renders many diagnostics, errors and warnings in the order they were found. Time is
/// linear in the number of diagnostics plus the size of the sources (one shared cache).
pub fn render_all(ds: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let mut cache = source_cache(sources);
    ds.iter()
        .map(|d| render_with(d, sources, &mut cache, color))
        .collect()
}
