//! Literals (integer, real, f32), and the scans of generated text that tell whether an
//! expression is made of literals only.

use super::model::{Cls, E, OMODES, QMODES, T};
use super::Gen;

impl Gen {
    /// An integer literal: decimal, hexadecimal, binary, with an underscore.
    pub(super) fn int_lit(&mut self) -> E {
        let (s, v): (String, i64) = match self.rng.weighted(&[70, 6, 6, 6, 6]) {
            0 => {
                let v = self.rng.range(0, 9);
                (v.to_string(), v)
            }
            1 => {
                let v = self.rng.range(0, 255);
                self.f("lex: hex literal");
                (format!("0x{v:x}"), v)
            }
            2 => {
                let v = self.rng.range(0, 31);
                self.f("lex: binary literal");
                (format!("0b{v:b}"), v)
            }
            3 => {
                self.f("lex: underscore literal");
                ("1_000".into(), 1000)
            }
            _ => {
                let v = self.rng.range(10, 200);
                (v.to_string(), v)
            }
        };
        E::int_literal(s, v)
    }

    /// A real literal with an exact binary value.
    pub(super) fn real_lit(&mut self) -> E {
        // (text, value exponent bound, fraction bits as kiln counts them)
        const REALS: &[(&str, i32, i32)] = &[
            ("0.5", 0, 1),
            ("0.25", 0, 2),
            ("0.75", 0, 2),
            ("1.5", 1, 1),
            ("0.375", 0, 3),
            ("1.25e-1", 0, 3),
            (".5", 0, 1),
            ("3.", 2, 0),
            ("2.5", 2, 1),
            ("0.0625", 0, 4),
            ("6.25e-2", 0, 4),
            ("1.5e1", 4, 0),
            ("0.125", 0, 3),
            ("1.0", 0, 0),
            ("5.75", 3, 2),
        ];
        let (s, m, fb) = self.rng.pick(REALS);
        self.f("lex: real literal");
        E::literal(s.to_string(), m, fb, Cls::Fixed)
    }

    /// A literal next to an f32 value.
    pub(super) fn f32_lit(&mut self) -> E {
        const F: &[&str] = &[
            "0.5", "1.5", "0.1", "2.0", "3", "0.3", "1e-3", "100.0", "0.7",
        ];
        E {
            s: self.rng.pick(F).to_string(),
            t: T::F32(7),
        }
    }
}

/// Whether an expression refers to no variable (only literals, consts, sizes, types and
/// builtins): kiln folds such expressions like literals.
pub(super) fn literal_only(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "if", "else", "and", "or", "not", "True", "False", "for", "in", "range", "grid", "sum",
        "max", "min", "abs", "int", "uint", "fixed", "ufixed", "bin", "tern", "f32", "bool",
    ];
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_alphabetic() || c == b'_' {
            let st = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            let w = &s[st..i];
            // Parts of numbers (0x1f, 1e-3) start with a digit and are skipped below.
            let is_const = (w.starts_with('C') || w.starts_with('N'))
                && w.len() > 1
                && w[1..].bytes().all(|d| d.is_ascii_digit())
                || w == "K";
            // Words, and the quantization and overflow modes of type arguments.
            let word = WORDS.contains(&w) || QMODES.contains(&w) || OMODES.contains(&w);
            if !(word || is_const || w.starts_with("ty")) {
                return false;
            }
        } else if c.is_ascii_digit() || c == b'.' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    true
}

/// Whether an expression contains a literal (outside of type arguments and indices is
/// not distinguished: any digit that starts a token counts).
pub(super) fn has_literal(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        (b[i].is_ascii_digit() || (b[i] == b'.' && i + 1 < b.len() && b[i + 1].is_ascii_digit()))
            && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
    }) || mentions_size(s)
}

/// Whether `s` mentions a size variable (`N0`...) or const parameter (`K`) of a helper.
pub(super) fn mentions_size(s: &str) -> bool {
    let b = s.as_bytes();
    (0..b.len()).any(|i| {
        let start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if !start {
            return false;
        }
        let mut j = i;
        if b[j] == b'K' {
            j += 1;
        } else if b[j] == b'N' && j + 1 < b.len() && b[j + 1].is_ascii_digit() {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        } else {
            return false;
        }
        j == b.len() || !(b[j].is_ascii_alphanumeric() || b[j] == b'_')
    })
}
