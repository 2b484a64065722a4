//! Views of a checked project for people: its dags as a list (`dagfc ls`), one dag
//! task by task with where each value came from (`dagfc inspect`), and a dag's graph
//! (`dagfc graph`) as DOT, Mermaid, SVG or a standalone HTML page, and what changed
//! between two builds (`dagfc diff`). The SVG is laid out
//! here, so drawing a DAG needs no tool installed. Pure: the IR in, text out.

mod diff;
mod graph;
mod inspect;
mod layout;
mod list;
mod svg;

pub use diff::{Change, diff, render as render_diff};
pub use graph::{dot, mermaid};
pub use inspect::inspect;
pub use layout::{Layout, Placed, layout};
pub use list::{Filter, Row, glob_match, rows, table};
pub use svg::{escape, html, svg};

/// What a task's box says about its operator: the dagf name, and the class if the
/// two differ (`bash` is `BashOperator`; a user's `s3_copy` may be `S3CopyObjectOperator`).
pub(crate) fn operator_label(task: &dagf_ir::Task) -> String {
    if task.op.class.is_empty() || task.op.class == task.op.name {
        task.op.name.clone()
    } else {
        format!("{} ({})", task.op.name, task.op.class)
    }
}

/// A task's operator, marked when the task is mapped (`bash · mapped`).
pub(crate) fn op_mapped(task: &dagf_ir::Task) -> String {
    match task.mapped {
        Some(_) => format!("{} · mapped", task.op.name),
        None => task.op.name.clone(),
    }
}

/// A group's label in a drawing: its id, marked when the group is mapped
/// (`tables · mapped`).
pub(crate) fn group_label(group: &dagf_ir::Group) -> String {
    match group.mapped {
        Some(_) => format!("{} · mapped", group.group_id),
        None => group.group_id.clone(),
    }
}

/// The small line under a task's id in a drawing: its operator, and what it is
/// besides a single plain task (`bash · mapped`, `python · setup`).
pub(crate) fn op_line(task: &dagf_ir::Task) -> String {
    let mut s = task.op.name.clone();
    match task.role {
        dagf_ir::Role::Work => {}
        dagf_ir::Role::Setup => s.push_str(" · setup"),
        dagf_ir::Role::Teardown { .. } => s.push_str(" · teardown"),
    }
    if task.mapped.is_some() {
        s.push_str(" · mapped");
    }
    s
}

/// The dag `dag_id` of a project, or a message naming the closest id.
pub fn find_dag<'a>(
    project: &'a dagf_ir::Project,
    dag_id: &str,
) -> Result<&'a dagf_ir::Dag, String> {
    if let Some(dag) = project.dags.iter().find(|d| d.dag_id == dag_id) {
        return Ok(dag);
    }
    let ids = project.dags.iter().map(|d| d.dag_id.as_str());
    Err(match dagf_diag::did_you_mean(dag_id, ids) {
        Some(c) => format!("the project has no dag `{dag_id}`; did you mean `{c}`?"),
        None => format!("the project has no dag `{dag_id}`; `dagfc ls` lists them"),
    })
}

/// A group's path from the top of the dag (`outer.inner`).
pub(crate) fn group_path(dag: &dagf_ir::Dag, group: usize) -> String {
    let mut parts = Vec::new();
    let mut at = Some(group);
    // A malformed parent chain cannot loop forever: a dag has this many groups at most.
    for _ in 0..=dag.groups.len() {
        let Some(g) = at.and_then(|i| dag.groups.get(i)) else {
            break;
        };
        parts.push(g.group_id.as_str());
        at = g.parent;
    }
    parts.reverse();
    parts.join(".")
}

/// Where a span starts, as people and editors write it: `file:line:col`.
pub fn place(sources: &dagf_diag::Sources, span: dagf_diag::Span) -> String {
    let file = sources.get(span.file);
    let lc = file.line_col(span.start);
    format!("{}:{}:{}", file.name, lc.line, lc.col)
}

/// A dag's group tree: each group's nested groups (by declaration place) and each
/// group's own tasks, both indexed by group, with one more slot at the end for the top
/// of the dag. A parent index out of range, or a group its own parent, counts as the top.
pub(crate) fn group_tree(dag: &dagf_ir::Dag) -> (Vec<Vec<usize>>, Vec<Vec<usize>>) {
    let top = dag.groups.len();
    let mut kids = vec![Vec::new(); top + 1];
    for (g, group) in dag.groups.iter().enumerate() {
        let p = group.parent.filter(|&p| p < top && p != g).unwrap_or(top);
        kids[p].push(g);
    }
    for k in &mut kids {
        k.sort_by_key(|&g| (dag.groups[g].order, g));
    }
    let mut tasks = vec![Vec::new(); top + 1];
    for i in dag.graph.node_indices() {
        let g = dag.graph[i].group.filter(|&g| g < top).unwrap_or(top);
        tasks[g].push(i.index());
    }
    (kids, tasks)
}
