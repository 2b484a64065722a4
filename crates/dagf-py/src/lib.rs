//! The Python backend: one Airflow file per DAG, for the version a [`Target`] names, formatted the way `ruff format`
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

pub use dagf_target::Target;
pub use literals::py_str;
pub use pools::{POOLS_FILE, pools_file, pools_json};

use dagf_ir::Dag;

pub use teams::{BUNDLES_FILE, IGNORE_FILE, bundle_name, team_files};

/// The file name a DAG is written to.
pub fn file_name(dag: &Dag) -> String {
    dag.file_name()
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

/// Whether the DAG, written as `options` say, has tasks written with TaskFlow's `@task`.
pub fn decorates_tasks(dag: &Dag, options: Options) -> bool {
    options.style == Style::Taskflow
        && dag
            .tasks()
            .any(|t| tasks::taskflow_decorator(t, options.target).is_some())
}

/// How a file is written: its style, and the Airflow it is for.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Classic (`with DAG(...)`) or TaskFlow (`@dag`, `@task`).
    pub style: Style,
    /// The Airflow version the file must load on without a warning.
    pub target: Target,
}

/// The whole Python file for one DAG, for the default target.
pub fn generate(dag: &Dag, style: Style) -> String {
    generate_with(
        dag,
        Options {
            style,
            target: Target::DEFAULT,
        },
    )
}

/// The whole Python file for one DAG, written as `options` say.
pub fn generate_with(dag: &Dag, options: Options) -> String {
    // About what a file takes, so that the buffer rarely grows.
    let mut out = String::with_capacity(512 + 256 * dag.graph.node_count());
    layout::generate_into(&mut out, dag, options);
    out
}
