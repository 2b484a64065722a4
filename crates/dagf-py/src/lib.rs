//! The Python backend: one Airflow 3 file per DAG, formatted the way `ruff format`
//! formats it (so formatting it again changes nothing) and deterministic byte for byte.
//!
//! Everything is written straight into one output `String`. Something that is flat if
//! it fits on its line is written flat first and measured; if it runs past the line it
//! is cut off again and written exploded instead (see `fmt::flat_or_exploded`).

mod fmt;
mod imports;
mod layout;
mod literals;
mod names;
mod pools;
mod tasks;
mod teams;
mod values;

pub use literals::py_str;
pub use pools::{POOLS_FILE, pools_file, pools_json};

use dagf_ir::Dag;

pub use teams::{BUNDLES_FILE, IGNORE_FILE, bundle_name, team_files};

pub(crate) const SDK: &str = "airflow.sdk";

/// The file name a DAG is written to.
pub fn file_name(dag: &Dag) -> String {
    format!("{}.py", dag.dag_id)
}

/// How the generated file builds the DAG.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// `with DAG(...):` and operator classes.
    #[default]
    Classic,
    /// `@dag` on a function, and `@task` for Python callables where Airflow allows it.
    Taskflow,
}

/// Whether the DAG, written in `style`, has tasks written with TaskFlow's `@task`.
pub fn decorates_tasks(dag: &Dag, style: Style) -> bool {
    style == Style::Taskflow && dag.tasks().any(|t| tasks::taskflow_decorator(t).is_some())
}

/// The whole Python file for one DAG.
pub fn generate(dag: &Dag, style: Style) -> String {
    // About what a file takes, so that the buffer rarely grows.
    let mut out = String::with_capacity(512 + 256 * dag.graph.node_count());
    layout::generate_into(&mut out, dag, style);
    out
}
