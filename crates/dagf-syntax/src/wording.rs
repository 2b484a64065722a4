//! The parser's words: how a syntax error, an unclosed block or string, and input nested
//! too deeply are said to the user, and `with_article`, which the checker's messages use
//! too.
//!
//! They are kept apart from the grammar and the repairs so that the wording of every
//! syntax error can be read, and changed, in one place.

use crate::lexer::Tok;
use crate::parser::MAX_NESTING;
use chumsky::prelude::*;
use dagf_diag::{Code, Diagnostic, FileId, Span};

/// The error for a block still open at the end of the file, reported at its `{`.
pub(crate) const UNCLOSED: &str = "this block is never closed";

/// A syntax error as the parser met it, in words: what was expected and what was found.
pub(crate) fn syntax_error(e: Rich<'_, Tok, SimpleSpan>, file: FileId) -> Diagnostic {
    let span = Span::new(file, e.span().start, e.span().end);
    // After a complete expression every operator could follow; listing them all would
    // drown the token the user most likely forgot, so they are summed up in one word.
    let continues_expr = e
        .expected()
        .any(|p| matches!(p, chumsky::error::RichPattern::Token(t) if **t == Tok::Plus));
    let mut expected: Vec<String> = e
        .expected()
        .filter_map(|p| match p {
            chumsky::error::RichPattern::Token(t) if continues_expr && continues(t) => None,
            chumsky::error::RichPattern::Token(t) => Some(t.to_string()),
            chumsky::error::RichPattern::Label(l) => Some(with_article(l)),
            chumsky::error::RichPattern::EndOfInput => Some("end of file".to_string()),
            _ => None,
        })
        .collect();
    expected.sort();
    expected.dedup();
    if continues_expr {
        expected.push("an operator".to_string());
    }
    let found = e
        .found()
        .map_or("end of file".to_string(), |t| t.to_string());
    if let chumsky::error::RichReason::Custom(msg) = e.reason() {
        if msg == UNCLOSED {
            return Diagnostic::at(Code::E0001, span, msg.to_string(), "this `{` has no `}`")
                .with_help("add the missing `}` where the block ends");
        }
        return Diagnostic::at(Code::E0001, span, msg.to_string(), "here")
            .with_help("see the language reference in the book for the form this takes");
    }
    let expected_text = match expected.len() {
        0 => "something else".to_string(),
        1 => expected[0].clone(),
        n if n <= 6 => format!("{} or {}", expected[..n - 1].join(", "), expected[n - 1]),
        _ => format!("{}, ...", expected[..6].join(", ")),
    };
    Diagnostic::at(
        Code::E0001,
        span,
        format!("expected {expected_text}, found {found}"),
        format!("unexpected {found}"),
    )
    .with_help(format!("write {expected_text} here"))
}

/// Tokens that continue an expression: binary operators, field access, calls, indexing.
fn continues(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Ne
            | Tok::EqEq
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::Plus
            | Tok::Minus
            | Tok::Star
            | Tok::Slash
            | Tok::Pipe
            | Tok::Amp
            | Tok::And
            | Tok::Or
            | Tok::Dot
            | Tok::LParen
            | Tok::LBracket
    )
}

/// A word as it reads after "a": `expression` becomes `an expression`, `ApiSource
/// record` becomes `an ApiSource record`, `list<str>` becomes `a list<str>`.
pub fn with_article(name: &str) -> String {
    let vowel = name
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    if vowel {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

/// How to get below [`MAX_NESTING`], for both errors about it.
const FLATTEN: &str = "flatten it: bind parts with `let`, or build lists with a loop";

/// A statement whose expressions and blocks nest past [`MAX_NESTING`], at the deepest
/// point.
pub(crate) fn nested_too_deep(span: Span) -> Diagnostic {
    Diagnostic::at(
        Code::E0210,
        span,
        format!("nested more than {MAX_NESTING} levels deep"),
        "the nesting reaches this deep here",
    )
    .with_help(FLATTEN)
}

/// A bracket one past [`MAX_NESTING`], found before parsing.
pub(crate) fn brackets_too_deep(span: Span) -> Diagnostic {
    Diagnostic::at(
        Code::E0210,
        span,
        format!("brackets nested more than {MAX_NESTING} levels deep"),
        "this bracket is one too deep",
    )
    .with_help(FLATTEN)
}

/// A `"` string left open on its line (`string`, up to where its closing quote was most
/// likely meant), with the next character that is not a blank when there is one.
pub(crate) fn unterminated_string(string: Span, next: Option<Span>) -> Diagnostic {
    let mut d = Diagnostic::at(
        Code::E0002,
        string,
        "unterminated string",
        "this string is never closed",
    );
    if let Some(next) = next {
        d = d.with_label(next, "its closing `\"` seems to belong before this");
    }
    d.with_help(
        "close the string with `\"` on the same line, or use `\"\"\"` for text over several lines",
    )
}
