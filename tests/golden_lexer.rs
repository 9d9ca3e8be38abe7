//! Lexer goldens: `tests/lexer/NAME.kiln` → `NAME.tokens`, the output of
//! `kiln_lang::lexer::dump_tokens` (one token or lexical error per line).
//!
//! Bless new or changed outputs with `KILN_BLESS=1 cargo test --test golden_lexer`.

mod common;

use common::{catch, Suite};

#[test]
fn lexer_goldens() {
    let mut suite = Suite::new("tests/lexer", "kiln");
    for case in suite.cases() {
        let src = std::fs::read_to_string(&case).expect("lexer cases are UTF-8");
        match catch(|| kiln_lang::lexer::dump_tokens(&src)) {
            Ok(tokens) => suite.check(&case, "tokens", &tokens),
            Err(p) => suite.fail(&case, format!("dump_tokens {p}")),
        }
    }
    suite.finish();
}
