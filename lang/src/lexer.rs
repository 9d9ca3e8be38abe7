//! The lexer: logos tokens plus a thin wrapper that turns line starts into
//! `Newline` / `Indent` / `Dedent`, Python style.
//!
//! logos produces one `LineBreak` token per run of line breaks (blank and comment-only lines
//! included), carrying the indentation of the next line. [`Lexer`] keeps the stack of
//! indentation widths and a queue of pending tokens; inside brackets line breaks are
//! ignored, so expressions may span lines. Tabs in indentation are rejected (E0104) rather
//! than guessed at.

use crate::diag::{codes, Code};
use logos::Logos;
use std::collections::VecDeque;
use std::fmt;

#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(skip r"[ \t\f]+")]
#[logos(skip(r"#[^\r\n]*", allow_greedy = true))]
#[logos(skip r"\\\r?\n")]
pub enum Token<'src> {
    /// A run of line breaks and the indentation that follows the last one.
    #[regex(r"(\r?\n[ \t\f]*(#[^\r\n]*)?)+", allow_greedy = true)]
    LineBreak(&'src str),
    /// Produced by [`Lexer`] only.
    Newline,
    /// Produced by [`Lexer`] only.
    Indent,
    /// Produced by [`Lexer`] only.
    Dedent,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident(&'src str),
    #[regex(r"[0-9][0-9_]*", |lex| lex.slice())]
    #[regex(r"0[xX][0-9a-fA-F_]+", |lex| lex.slice())]
    #[regex(r"0[bB][01_]+", |lex| lex.slice())]
    IntLit(&'src str),
    #[regex(r"[0-9][0-9_]*\.[0-9_]*([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"\.[0-9][0-9_]*([eE][+-]?[0-9]+)?", |lex| lex.slice())]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9]+", |lex| lex.slice())]
    FloatLit(&'src str),
    #[regex(r#""([^"\\\r\n]|\\.)*""#, |lex| lex.slice())]
    #[regex(r#"'([^'\\\r\n]|\\.)*'"#, |lex| lex.slice())]
    StrLit(&'src str),
    #[regex(r#""([^"\\\r\n]|\\.)*"#, priority = 1)]
    #[regex(r#"'([^'\\\r\n]|\\.)*"#, priority = 1)]
    UnterminatedStr,

    #[token("kernel")]
    Kernel,
    #[token("schedule")]
    Schedule,
    #[token("param")]
    Param,
    #[token("type")]
    Type,
    #[token("const")]
    Const,
    #[token("return")]
    Return,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("if")]
    If,
    #[token("elif")]
    Elif,
    #[token("else")]
    Else,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("lambda")]
    Lambda,
    #[token("import")]
    Import,
    #[token("from")]
    From,
    #[token("as")]
    As,
    #[token("pass")]
    Pass,
    #[token("True")]
    True,
    #[token("False")]
    False,
    #[token("def")]
    Def,
    #[token("while")]
    While,
    #[token("break")]
    Break,
    #[token("continue")]
    Continue,
    #[token("int")]
    IntKw,
    #[token("uint")]
    UintKw,
    #[token("fixed")]
    FixedKw,
    #[token("ufixed")]
    UfixedKw,
    #[token("bin")]
    BinKw,
    #[token("tern")]
    TernKw,
    #[token("f32")]
    F32Kw,
    #[token("f64")]
    F64Kw,
    #[token("bool")]
    BoolKw,

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("->")]
    Arrow,
    #[token("=")]
    Assign,
    #[token("+=")]
    PlusAssign,
    #[token("-=")]
    MinusAssign,
    #[token("*=")]
    StarAssign,
    #[token("**=")]
    StarStarAssign,
    #[token("/=")]
    SlashAssign,
    #[token("//=")]
    FloorDivAssign,
    #[token("%=")]
    PercentAssign,
    #[token("<<=")]
    ShlAssign,
    #[token(">>=")]
    ShrAssign,
    #[token("&=")]
    AmpAssign,
    #[token("|=")]
    PipeAssign,
    #[token("^=")]
    CaretAssign,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("**")]
    StarStar,
    #[token("/")]
    Slash,
    #[token("//")]
    FloorDiv,
    #[token("%")]
    Percent,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("==")]
    EqEq,
    #[token("!=")]
    Ne,
}

impl fmt::Display for Token<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Token::*;
        let s = match self {
            LineBreak(_) | Newline => "end of line",
            Indent => "indentation",
            Dedent => "end of indented block",
            Ident(s) => return write!(f, "identifier `{s}`"),
            IntLit(s) => return write!(f, "integer `{s}`"),
            FloatLit(s) => return write!(f, "number `{s}`"),
            StrLit(s) => return write!(f, "string {s}"),
            UnterminatedStr => "unterminated string",
            Kernel => "`kernel`",
            Schedule => "`schedule`",
            Param => "`param`",
            Type => "`type`",
            Const => "`const`",
            Return => "`return`",
            For => "`for`",
            In => "`in`",
            If => "`if`",
            Elif => "`elif`",
            Else => "`else`",
            And => "`and`",
            Or => "`or`",
            Not => "`not`",
            Lambda => "`lambda`",
            Import => "`import`",
            From => "`from`",
            As => "`as`",
            Pass => "`pass`",
            True => "`True`",
            False => "`False`",
            Def => "`def`",
            While => "`while`",
            Break => "`break`",
            Continue => "`continue`",
            IntKw => "`int`",
            UintKw => "`uint`",
            FixedKw => "`fixed`",
            UfixedKw => "`ufixed`",
            BinKw => "`bin`",
            TernKw => "`tern`",
            F32Kw => "`f32`",
            F64Kw => "`f64`",
            BoolKw => "`bool`",
            LParen => "`(`",
            RParen => "`)`",
            LBracket => "`[`",
            RBracket => "`]`",
            Comma => "`,`",
            Colon => "`:`",
            Dot => "`.`",
            Arrow => "`->`",
            Assign => "`=`",
            PlusAssign => "`+=`",
            MinusAssign => "`-=`",
            StarAssign => "`*=`",
            StarStarAssign => "`**=`",
            SlashAssign => "`/=`",
            FloorDivAssign => "`//=`",
            PercentAssign => "`%=`",
            ShlAssign => "`<<=`",
            ShrAssign => "`>>=`",
            AmpAssign => "`&=`",
            PipeAssign => "`|=`",
            CaretAssign => "`^=`",
            Plus => "`+`",
            Minus => "`-`",
            Star => "`*`",
            StarStar => "`**`",
            Slash => "`/`",
            FloorDiv => "`//`",
            Percent => "`%`",
            Shl => "`<<`",
            Shr => "`>>`",
            Amp => "`&`",
            Pipe => "`|`",
            Caret => "`^`",
            Tilde => "`~`",
            Lt => "`<`",
            Le => "`<=`",
            Gt => "`>`",
            Ge => "`>=`",
            EqEq => "`==`",
            Ne => "`!=`",
        };
        f.write_str(s)
    }
}

/// A lexical error with its byte range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexError {
    pub code: Code,
    pub message: String,
    pub start: usize,
    pub end: usize,
    pub help: Option<String>,
}

pub type Spanned<'src> = (usize, Token<'src>, usize);

/// The deepest indented blocks may nest (`kernel`, `for`, `if`, `while`, ... bodies).
pub const MAX_BLOCK_DEPTH: usize = 100;
/// The deepest brackets (`(` and `[` together) may nest.
pub const MAX_BRACKET_DEPTH: usize = 200;

/// Token stream with `Newline`, `Indent` and `Dedent` (see the module doc).
pub struct Lexer<'src> {
    src: &'src str,
    inner: logos::Lexer<'src, Token<'src>>,
    /// Indentation widths of the open blocks; phantom levels come from error recovery.
    indents: Vec<(usize, bool)>,
    pending: VecDeque<Result<Spanned<'src>, LexError>>,
    depth: usize,
    /// Whether E0114 (nesting too deep) was reported for the current top-level item.
    too_deep: bool,
    /// Whether the last token handed out ends a logical line (or nothing was handed out).
    at_line_end: bool,
    /// Whether a real token (not a line break) has been seen.
    started: bool,
    finished: bool,
}

impl<'src> Lexer<'src> {
    pub fn new(src: &'src str) -> Lexer<'src> {
        Lexer {
            src,
            inner: Token::lexer(src),
            indents: vec![(0, false)],
            pending: VecDeque::new(),
            depth: 0,
            too_deep: false,
            at_line_end: true,
            started: false,
            finished: false,
        }
    }

    fn error(code: Code, message: impl Into<String>, start: usize, end: usize) -> LexError {
        LexError {
            code,
            message: message.into(),
            start,
            end,
            help: None,
        }
    }

    /// Queues the tokens for a line break whose next line is indented by `text`
    /// (the part of the `LineBreak` after its last newline).
    fn line_break(&mut self, start: usize, end: usize, text: &str) {
        let indent = &text[text.rfind('\n').map_or(0, |i| i + 1)..];
        if !self.at_line_end {
            self.pending
                .push_back(Ok((start, Token::Newline, start + 1)));
            self.at_line_end = true;
        }
        if let Some(pos) = indent.find('\t') {
            let at = end - indent.len() + pos;
            let mut e = Lexer::error(
                codes::TAB_INDENT,
                "tab character in indentation",
                at,
                at + 1,
            );
            e.help = Some("indent with spaces only".into());
            self.pending.push_back(Err(e));
            // Recover as Python 2 read tabs: to the next multiple of 8 columns.
            let width = indent
                .chars()
                .fold(0, |w, c| if c == '\t' { (w / 8 + 1) * 8 } else { w + 1 });
            self.indent_to(width, end);
            return;
        }
        self.indent_to(indent.len(), end);
    }

    /// Reports E0114 once per top-level item: the parser skips an item that has it, so
    /// nothing downstream sees nesting deeper than the caps.
    fn too_deep(&mut self, what: String, start: usize, end: usize) {
        if self.too_deep {
            return;
        }
        self.too_deep = true;
        let mut e = Lexer::error(codes::TOO_DEEP, what, start, end);
        e.help = Some(
            "split the code into helper kernels (`def`) or intermediate variables; \
             kiln caps nesting so that every stage runs in time linear in the input"
                .into(),
        );
        self.pending.push_back(Err(e));
    }

    fn indent_to(&mut self, width: usize, at: usize) {
        let top = self.indents.last().map_or(0, |l| l.0);
        if width == 0 && self.depth == 0 {
            // Back at the top level: a new item may start.
            self.too_deep = false;
        }
        if width > top {
            self.indents.push((width, false));
            self.pending.push_back(Ok((at, Token::Indent, at)));
            if self.indents.len() > MAX_BLOCK_DEPTH + 1 {
                // The first character of the line (its statement starts the deep block).
                let len = self.src[at..].chars().next().map_or(0, char::len_utf8);
                self.too_deep(
                    format!("blocks are nested more than {MAX_BLOCK_DEPTH} levels deep"),
                    at,
                    at + len,
                );
            }
        } else if width < top {
            while self.indents.last().map_or(0, |l| l.0) > width {
                if let Some((_, phantom)) = self.indents.pop() {
                    if !phantom {
                        self.pending.push_back(Ok((at, Token::Dedent, at)));
                    }
                }
            }
            if self.indents.last().map_or(0, |l| l.0) != width {
                self.pending.push_back(Err(Lexer::error(
                    codes::BAD_DEDENT,
                    "this line's indentation matches no enclosing block",
                    at - width,
                    at,
                )));
                // Recover by treating the line as part of the enclosing block: a phantom
                // level, which opens and closes no block.
                self.indents.push((width, true));
            }
        }
    }

    fn finish(&mut self) {
        let end = self.src.len();
        if !self.at_line_end {
            self.pending.push_back(Ok((end, Token::Newline, end)));
            self.at_line_end = true;
        }
        while self.indents.len() > 1 {
            let Some((_, phantom)) = self.indents.pop() else {
                break;
            };
            if phantom {
                continue;
            }
            self.pending.push_back(Ok((end, Token::Dedent, end)));
        }
        self.finished = true;
    }

    fn pump(&mut self) {
        let Some(tok) = self.inner.next() else {
            self.finish();
            return;
        };
        let span = self.inner.span();
        let tok = match tok {
            Ok(t) => t,
            Err(()) => {
                let bad = self.inner.slice().chars().next().unwrap_or(' ');
                self.pending.push_back(Err(Lexer::error(
                    codes::INVALID_TOKEN,
                    if bad.is_control() {
                        format!("unexpected control character {}", bad.escape_unicode())
                    } else {
                        format!("unexpected character `{bad}`")
                    },
                    span.start,
                    span.end,
                )));
                return;
            }
        };
        match tok {
            Token::LineBreak(text) => {
                // An unclosed bracket would swallow the rest of the file; a line that
                // starts a new item at column 0 closes it (the parser reports the error).
                if self.depth > 0 && text.ends_with('\n') && starts_item(&self.src[span.end..]) {
                    self.depth = 0;
                }
                // Line breaks before the first token are blank or comment lines. A line
                // that starts with `->` continues a kernel header (the result type on a
                // line of its own, §5): no statement starts with `->`.
                let continues = self.src[span.end..].starts_with("->");
                if self.depth == 0 && self.started && !continues {
                    self.line_break(span.start, span.end, text);
                }
            }
            Token::UnterminatedStr => {
                self.pending.push_back(Err(Lexer::error(
                    codes::UNTERMINATED_STRING,
                    "string is not closed before the end of the line",
                    span.start,
                    span.end,
                )));
            }
            Token::IntLit(text) => {
                if parse_int_literal(text).is_none() {
                    let mut e = Lexer::error(
                        codes::INT_TOO_LARGE,
                        format!("integer literal `{text}` does not fit in 128 bits"),
                        span.start,
                        span.end,
                    );
                    e.help = Some("kiln's integers are at most 128 bits wide".into());
                    self.pending.push_back(Err(e));
                } else {
                    self.emit(span.start, tok, span.end);
                }
            }
            other => {
                match other {
                    Token::LParen | Token::LBracket => {
                        self.depth += 1;
                        if self.depth > MAX_BRACKET_DEPTH {
                            self.too_deep(
                                format!(
                                    "brackets are nested more than {MAX_BRACKET_DEPTH} levels deep"
                                ),
                                span.start,
                                span.end,
                            );
                        }
                    }
                    Token::RParen | Token::RBracket => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                }
                self.emit(span.start, other, span.end);
            }
        }
    }

    fn emit(&mut self, start: usize, tok: Token<'src>, end: usize) {
        if !self.started {
            self.started = true;
            let line_start = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
            if start > line_start {
                self.pending.push_back(Err(Lexer::error(
                    codes::UNEXPECTED_INDENT,
                    "the first line of a file must not be indented",
                    line_start,
                    start,
                )));
            }
        }
        self.at_line_end = false;
        self.pending.push_back(Ok((start, tok, end)));
    }
}

impl<'src> Iterator for Lexer<'src> {
    type Item = Result<Spanned<'src>, LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(t) = self.pending.pop_front() {
                return Some(t);
            }
            if self.finished {
                return None;
            }
            self.pump();
        }
    }
}

/// Whether `rest` begins with a keyword that opens a top-level item.
fn starts_item(rest: &str) -> bool {
    [
        "kernel", "schedule", "param", "type", "const", "import", "from",
    ]
    .iter()
    .any(|k| {
        rest.strip_prefix(k)
            .is_some_and(|after| after.starts_with(|c: char| c.is_whitespace()) || after.is_empty())
    })
}

/// The value of an integer literal (decimal, `0x` hex or `0b` binary, `_` separators),
/// or `None` if it does not fit in 128 bits.
pub fn parse_int_literal(text: &str) -> Option<u128> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(h) = clean
        .strip_prefix("0x")
        .or_else(|| clean.strip_prefix("0X"))
    {
        u128::from_str_radix(h, 16).ok()
    } else if let Some(b) = clean
        .strip_prefix("0b")
        .or_else(|| clean.strip_prefix("0B"))
    {
        u128::from_str_radix(b, 2).ok()
    } else {
        clean.parse().ok()
    }
}

/// The unescaped contents of a string literal (quotes removed).
pub fn unescape_string(lit: &str) -> String {
    let inner = &lit[1..lit.len().saturating_sub(1).max(1)];
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One line per token (`line:col KIND`), lexical errors inline: the lexer's golden form.
pub fn dump_tokens(src: &str) -> String {
    let mut out = String::new();
    let line_col = |off: usize| {
        let before = &src[..off.min(src.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |i| before.len() - i - 1)
            + 1;
        (line, col)
    };
    for t in Lexer::new(src) {
        match t {
            Ok((s, tok, _)) => {
                let (l, c) = line_col(s);
                out.push_str(&format!("{l}:{c} {tok:?}\n"));
            }
            Err(e) => {
                let (l, c) = line_col(e.start);
                out.push_str(&format!("{l}:{c} error {}: {}\n", e.code.id, e.message));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<String> {
        Lexer::new(src)
            .map(|t| match t {
                Ok((_, tok, _)) => format!("{tok:?}"),
                Err(e) => format!("ERR({})", e.code.id),
            })
            .collect()
    }

    #[test]
    fn indentation() {
        let src = "kernel f():\n    x = 1\n\n    # c\n    if x:\n        y\nz\n";
        let k = kinds(src).join(" ");
        assert!(k.contains("Colon Newline Indent Ident(\"x\")"), "{k}");
        assert!(
            k.contains("Ident(\"y\") Newline Dedent Dedent Ident(\"z\") Newline"),
            "{k}"
        );
    }

    #[test]
    fn arrow_continues_a_header() {
        let k = kinds("kernel f(x: T)\n        -> T:\n    return x\n").join(" ");
        assert!(
            k.contains("RParen Arrow Ident(\"T\") Colon Newline Indent"),
            "{k}"
        );
    }

    #[test]
    fn brackets_join_lines() {
        let k = kinds("f(a,\n  b)\n").join(" ");
        assert_eq!(
            k,
            "Ident(\"f\") LParen Ident(\"a\") Comma Ident(\"b\") RParen Newline"
        );
    }

    #[test]
    fn errors() {
        assert!(kinds("x = $\n").contains(&"ERR(E0101)".to_string()));
        assert!(kinds("if a:\n\tb\n").contains(&"ERR(E0104)".to_string()));
        assert!(kinds("if a:\n    b\n  c\n").contains(&"ERR(E0105)".to_string()));
        assert!(kinds("  x\n").contains(&"ERR(E0106)".to_string()));
        assert!(kinds("x = \"abc\n").contains(&"ERR(E0103)".to_string()));
        assert!(kinds("x = 1000000000000000000000000000000000000000000\n")
            .contains(&"ERR(E0102)".to_string()));
    }

    #[test]
    fn leading_comments_and_no_final_newline() {
        let k = kinds("# hello\n\nx").join(" ");
        assert_eq!(k, "Ident(\"x\") Newline");
    }

    #[test]
    fn literals() {
        assert_eq!(parse_int_literal("0x_ff"), Some(255));
        assert_eq!(parse_int_literal("1_000"), Some(1000));
        assert_eq!(parse_int_literal("0b101"), Some(5));
        let k = kinds("a = 1.5e-3 + .5 + 2.\n").join(" ");
        assert!(
            k.contains("FloatLit(\"1.5e-3\")") && k.contains("FloatLit(\".5\")"),
            "{k}"
        );
    }
}
