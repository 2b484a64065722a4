//! The IR: every DAG fully evaluated and typed, its tasks in a petgraph graph, plus the
//! optimiser passes that run between checking and code generation.

mod model;
pub mod passes;
mod pretty;
pub mod python;

pub use model::*;
pub use pretty::{pretty, value_text};
