//! The syntax of `.dagf`: tokens (logos), the tree, and a parser (chumsky) that never
//! fails. `parse` always returns a module plus the diagnostics it met on the way.

pub mod ast;
mod lexer;
mod parser;
mod repair;
mod strings;

pub use lexer::{Tok, lex};
pub use parser::{MAX_NESTING, duration_ms, duration_text, parse};
pub use repair::START_WORDS;
