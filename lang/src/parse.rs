//! Source text to AST: runs the lexer and the lalrpop parser and turns their errors into
//! diagnostics.
//!
//! Lexical errors do not stop the parse: the offending characters are dropped and the
//! token stream goes on, so one run reports every lexical error and the syntax errors the
//! parser can recover from (at statement and item level).

use crate::ast::Module;
use crate::diag::{codes, Diagnostic};
use crate::lexer::{LexError, Lexer, Spanned, Token};
use crate::span::{FileId, Span};
use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

lalrpop_mod!(
    #[allow(clippy::all, unused_parens)]
    grammar
);

/// Parses one file. Returns the module (possibly partial) and the diagnostics found.
pub fn parse_module(file: FileId, text: &str) -> (Option<Module>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::error(codes::EMPTY_FILE, "the file is empty")
                .at(Span::new(file, 0, text.len()))
                .help("a kiln file holds imports, types, params and kernels"),
        );
        return (None, diags);
    }
    let mut tokens = Vec::new();
    let mut lex_errors = Vec::new();
    let mut too_deep = Vec::new();
    for t in Lexer::new(text) {
        match t {
            Ok(t) => tokens.push(t),
            Err(e) => {
                if e.code == codes::TOO_DEEP {
                    too_deep.push(e.start);
                }
                lex_errors.push(e.start);
                diags.push(lex_diagnostic(file, e));
            }
        }
    }
    lex_errors.sort_unstable();
    too_deep.sort_unstable();
    let parser = grammar::ItemParser::new();
    let mut items = Vec::new();
    let mut unparsed = Vec::new();
    let chunks = split_items(tokens);
    for (i, chunk) in chunks.iter().enumerate() {
        // A syntax error in an item that already has a lexical error is its consequence
        // (the bad characters were dropped): report the lexical error only.
        let start = chunk.first().map_or(0, |t| t.0);
        let end = chunks
            .get(i + 1)
            .and_then(|c| c.first())
            .map_or(text.len() + 1, |t| t.0);
        // Both lists are sorted: find the first position at or after `start`.
        let within = |ps: &[usize]| {
            let i = ps.partition_point(|&p| p < start);
            ps.get(i).is_some_and(|&p| p < end)
        };
        // An item nested deeper than the caps (E0114) is not parsed: the parser's error
        // recovery, and every later stage, would spend time growing with the depth.
        if within(&too_deep) {
            continue;
        }
        let had_lex_error = within(&lex_errors);
        let mut recovered: Vec<ErrorRecovery<usize, Token, LexError>> = Vec::new();
        let result = parser.parse(file, &mut recovered, chunk.iter().cloned().map(Ok));
        if !had_lex_error {
            for r in recovered {
                diags.push(parse_diagnostic(file, text, r.error));
            }
        }
        match result {
            Ok(item) => items.push(item),
            Err(e) => {
                if !had_lex_error {
                    diags.push(parse_diagnostic(file, text, e));
                }
                unparsed.extend(defined_name(chunk));
            }
        }
    }
    let mut module = Module { items, unparsed };
    crate::inline::inline_helpers(&mut module, &mut diags);
    crate::annotations::lower_annotations(&mut module, &mut diags);
    crate::early_return::lower_early_returns(&mut module, &mut diags);
    (Some(module), diags)
}

/// The name a `type`, `const` or `param` item's tokens define (`type NAME = ...`).
fn defined_name(chunk: &[Spanned]) -> Option<String> {
    match (chunk.first().map(|t| &t.1), chunk.get(1).map(|t| &t.1)) {
        (Some(Token::Type | Token::Const | Token::Param), Some(Token::Ident(name))) => {
            Some(name.to_string())
        }
        _ => None,
    }
}

/// Splits a token stream into top-level items: a new item starts at every token that
/// follows a `Newline` or `Dedent` at indentation depth zero.
fn split_items(tokens: Vec<Spanned>) -> Vec<Vec<Spanned>> {
    let mut chunks: Vec<Vec<Spanned>> = Vec::new();
    let mut current = Vec::new();
    let mut depth: i64 = 0;
    let mut boundary = true;
    for t in tokens {
        match t.1 {
            Token::Indent => depth += 1,
            Token::Dedent => depth -= 1,
            _ => {}
        }
        let starts_item =
            boundary && !matches!(t.1, Token::Indent | Token::Dedent | Token::Newline);
        if starts_item && !current.is_empty() {
            chunks.push(std::mem::take(&mut current));
        }
        boundary = depth <= 0 && matches!(t.1, Token::Newline | Token::Dedent);
        if depth < 0 {
            depth = 0;
        }
        current.push(t);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

fn lex_diagnostic(file: FileId, e: LexError) -> Diagnostic {
    let mut d = Diagnostic::error(e.code, e.message.clone())
        .at(Span::new(file, e.start, e.end))
        .label(e.code.title);
    if let Some(h) = e.help {
        d = d.help(h);
    }
    d
}

/// A friendlier name for a terminal of the grammar, as lalrpop lists them in `expected`.
fn terminal_name(t: &str) -> String {
    match t {
        "NEWLINE" => "end of line".into(),
        "INDENT" => "an indented block".into(),
        "DEDENT" => "end of block".into(),
        "IDENT" => "a name".into(),
        "INT" => "an integer".into(),
        "FLOAT" => "a number".into(),
        "STR" => "a string".into(),
        other => format!("`{}`", other.trim_matches('"')),
    }
}

fn expected_list(expected: &[String]) -> String {
    let mut names: Vec<String> = expected.iter().map(|t| terminal_name(t)).collect();
    names.dedup();
    match names.len() {
        0 => String::new(),
        1 => format!("expected {}", names[0]),
        n if n <= 8 => format!(
            "expected one of {} or {}",
            names[..n - 1].join(", "),
            names[n - 1]
        ),
        _ => format!("expected one of {}, ...", names[..8].join(", ")),
    }
}

fn parse_diagnostic(file: FileId, text: &str, e: ParseError<usize, Token, LexError>) -> Diagnostic {
    match e {
        ParseError::InvalidToken { location } => {
            Diagnostic::error(codes::INVALID_TOKEN, "invalid token")
                .at(Span::new(file, location, location + 1))
                .label("not a kiln token")
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let at = location.min(text.len());
            Diagnostic::error(
                codes::UNEXPECTED_EOF,
                "the file ends in the middle of a construct",
            )
            .at(Span::new(file, at.saturating_sub(1), at))
            .label(expected_list(&expected))
        }
        // The end of the file (the lexer's closing newline and dedents) where more was needed.
        ParseError::UnrecognizedToken {
            token: (l, Token::Newline | Token::Dedent, _),
            expected,
        } if l >= text.trim_end().len() => {
            let at = text.trim_end().len();
            Diagnostic::error(
                codes::UNEXPECTED_EOF,
                "the file ends in the middle of a construct",
            )
            .at(Span::new(file, at.saturating_sub(1), at))
            .label(expected_list(&expected))
        }
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let (l, r) = if l == r {
                (l, (l + 1).min(text.len()).max(l))
            } else {
                (l, r)
            };
            let mut d = Diagnostic::error(codes::SYNTAX, format!("unexpected {tok}"))
                .at(Span::new(file, l, r))
                .label(expected_list(&expected));
            if let Some(h) = syntax_hint(&tok, &expected) {
                d = d.help(h);
            }
            d
        }
        ParseError::ExtraToken { token: (l, tok, r) } => {
            Diagnostic::error(codes::SYNTAX, format!("unexpected {tok}"))
                .at(Span::new(file, l, r))
                .label("nothing may follow here")
        }
        ParseError::User { error } => lex_diagnostic(file, error),
    }
}

/// Help for frequent mistakes.
fn syntax_hint(tok: &Token, expected: &[String]) -> Option<String> {
    let wants = |t: &str| expected.iter().any(|e| e == t);
    match tok {
        Token::Newline if wants("\":\"") => {
            Some("a block header (`kernel`, `for`, `if`, ...) ends with `:`".into())
        }
        Token::Indent => Some("indent only the body of a `kernel`, `for`, `if` or `else`".into()),
        Token::Def => {
            Some("helpers (`def`) are defined at the top level of a file, outside kernels".into())
        }
        Token::IntKw | Token::UintKw | Token::FixedKw | Token::UfixedKw => Some(
            "`int`, `uint`, `fixed` and `ufixed` take parameters: `int<8>`, `fixed<8, 4>`".into(),
        ),
        _ => None,
    }
}
