//! Spans, the source map and diagnostics: the data every stage reports errors with,
//! and the renderers (ariadne for people, JSON for tools) kept apart from it.

mod codes;
mod diagnostic;
mod render;
mod source;
mod suggest;

pub use codes::{CODES, Code};
pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use render::{ColorChoice, render_human, render_json};
pub use source::{CharOffsets, FileId, LineCol, SourceFile, Sources, Span};
pub use suggest::{did_you_mean, plural};
