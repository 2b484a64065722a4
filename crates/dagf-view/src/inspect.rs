//! `dagfc inspect DAG`: a dag task by task, each value with the layer that set it.

use crate::{group_path, operator_label};
use dagf_diag::{Sources, Span};
use dagf_ir::{Dag, Field, value_text};
use petgraph::Direction;
use petgraph::graph::NodeIndex;

/// The text `dagfc inspect` prints for `dag`: its file, tenant, fields, default
/// arguments and groups, then every task in declaration order with its operator,
/// group, upstream and downstream tasks and fields. Under each value, the layer that
/// set it and where (and how many layers it replaced), when the IR kept them.
pub fn inspect(dag: &Dag, sources: &Sources) -> String {
    let mut out = String::new();
    let at = |span: Span| crate::place(sources, span);
    out.push_str(&format!("dag {}  ({})\n", dag.dag_id, at(dag.span)));
    out.push_str(&format!("  file: {}\n", dag.path()));
    if let Some(scope) = &dag.scope {
        out.push_str(&format!(
            "  tenant: {} (kind {}, {})\n",
            scope.tenant,
            scope.kind,
            at(scope.span)
        ));
    }
    fields(&mut out, "  ", &dag.args, &at);
    if !dag.default_args.is_empty() {
        out.push_str("  default_args:\n");
        fields(&mut out, "    ", &dag.default_args, &at);
    }
    if !dag.groups.is_empty() {
        out.push_str("  groups:\n");
        for (i, g) in dag.groups.iter().enumerate() {
            let tip = g
                .tooltip
                .as_ref()
                .map(|t| format!(" tooltip {t:?}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "    {}{tip}  ({})\n",
                group_path(dag, i),
                at(g.span)
            ));
            if let Some(m) = &g.mapped {
                out.push_str(if m.fields().len() > 1 {
                    "      mapped: one instance per combination of items\n"
                } else {
                    "      mapped: one instance per item\n"
                });
                out.push_str("      expand:\n");
                fields(&mut out, "        ", m.fields(), &at);
            }
        }
    }
    out.push_str(&format!("tasks ({}):\n", dag.graph.node_count()));
    for i in dag.graph.node_indices() {
        let task = &dag.graph[i];
        out.push_str(&format!(
            "  {}: {}  ({})\n",
            task.task_id,
            operator_label(task),
            at(task.span)
        ));
        if let Some(g) = task.group {
            out.push_str(&format!("    group: {}\n", group_path(dag, g)));
        }
        match task.role {
            dagf_ir::Role::Work => {}
            dagf_ir::Role::Setup => out.push_str("    role: setup\n"),
            dagf_ir::Role::Teardown {
                on_failure_fail_dagrun,
            } => out.push_str(&format!(
                "    role: teardown{}\n",
                match on_failure_fail_dagrun {
                    Some(true) => " (its failure fails the run)",
                    _ => "",
                }
            )),
        }
        match &task.mapped {
            None => {}
            Some(dagf_ir::Mapped::Expand(fs)) => {
                out.push_str(if fs.len() > 1 {
                    "    mapped: one instance per combination of items\n"
                } else {
                    "    mapped: one instance per item\n"
                });
                out.push_str("    expand:\n");
                fields(&mut out, "      ", fs, &at);
            }
            Some(dagf_ir::Mapped::ExpandKwargs(f)) => {
                out.push_str("    mapped: one instance per record\n");
                fields(&mut out, "    ", std::slice::from_ref(f), &at);
            }
        }
        out.push_str(&format!(
            "    upstream: {}\n",
            neighbours(dag, i, Direction::Incoming)
        ));
        out.push_str(&format!(
            "    downstream: {}\n",
            neighbours(dag, i, Direction::Outgoing)
        ));
        fields(&mut out, "    ", &task.args, &at);
    }
    out
}

/// A task's neighbours' ids, sorted and comma-separated, or `-`.
fn neighbours(dag: &Dag, i: NodeIndex, dir: Direction) -> String {
    let mut ids: Vec<&str> = dag
        .graph
        .neighbors_directed(i, dir)
        .map(|n| dag.graph[n].task_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        "-".into()
    } else {
        ids.join(", ")
    }
}

/// `name = value` lines, each followed by the layer that set the value.
fn fields(out: &mut String, indent: &str, fields: &[Field], at: &dyn Fn(Span) -> String) {
    for f in fields {
        out.push_str(&format!("{indent}{} = {}\n", f.name, value_text(&f.value)));
        match f.provenance.split_last() {
            Some(((layer, span), earlier)) => {
                // A declared default comes with the record that lacked the field: the
                // record is where it applied, not a layer it replaced.
                let (lacking, earlier) = match earlier.split_last() {
                    Some(((_, record), rest)) if layer.starts_with("the declared default") => {
                        (format!(", for the record at {}", at(*record)), rest)
                    }
                    _ => (String::new(), earlier),
                };
                let over = match earlier.len() {
                    0 => String::new(),
                    1 => ", over 1 earlier layer".into(),
                    n => format!(", over {n} earlier layers"),
                };
                out.push_str(&format!(
                    "{indent}    set by {layer} at {}{lacking}{over}\n",
                    at(*span)
                ));
            }
            None => out.push_str(&format!("{indent}    set at {}\n", at(f.origin))),
        }
    }
}
