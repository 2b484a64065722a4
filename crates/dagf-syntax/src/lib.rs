//! The syntax of `.dagf`: tokens (logos), the tree, and a parser (chumsky) that never
//! fails. `parse` always returns a module plus the diagnostics it met on the way.

pub mod ast;
mod grammar;
mod lexer;
mod literals;
mod parser;
mod repair;
mod strings;
mod wording;

pub use dagf_time::duration_text;
pub use lexer::{Tok, lex};
pub use literals::duration_ms;
pub use parser::{MAX_NESTING, parse};
pub use repair::START_WORDS;
pub use strings::{quote, unwritable_char};
pub use wording::with_article;
