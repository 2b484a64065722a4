//! `dagfc diff`: what changed between two builds of a project, dag by dag, in terms of
//! the language (dags, tasks, dependencies, fields), each change with the layer and
//! source line that made the new value.

use crate::place;
use dagf_diag::{Sources, Span, plural};
use dagf_ir::{Dag, Field, Project, value_text};
use std::collections::{BTreeMap, BTreeSet};

/// One difference between two builds.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    /// A dag only the new build has.
    DagAdded {
        /// Its id.
        dag: String,
        /// Where the new build declares it.
        at: Span,
    },
    /// A dag only the old build has.
    DagRemoved {
        /// Its id.
        dag: String,
        /// Where the old build declared it.
        at: Span,
    },
    /// The dag's file moved to another folder (a tenant's).
    Moved {
        /// The dag.
        dag: String,
        /// The old file, relative to the output folder.
        old: String,
        /// The new one.
        new: String,
    },
    /// A task only the new build has.
    TaskAdded {
        /// The dag.
        dag: String,
        /// The task's full id.
        task: String,
        /// Its operator.
        op: String,
        /// Where it is declared.
        at: Span,
    },
    /// A task only the old build has.
    TaskRemoved {
        /// The dag.
        dag: String,
        /// The task's full id.
        task: String,
        /// Where the old build declared it.
        at: Span,
    },
    /// A task's operator changed.
    Operator {
        /// The dag.
        dag: String,
        /// The task.
        task: String,
        /// The old operator's name.
        old: String,
        /// The new one.
        new: String,
        /// Where the new task is declared.
        at: Span,
    },
    /// A dependency only the new build has.
    EdgeAdded {
        /// The dag.
        dag: String,
        /// Upstream task.
        from: String,
        /// Downstream task.
        to: String,
        /// The dependency that makes it.
        at: Span,
    },
    /// A dependency only the old build has.
    EdgeRemoved {
        /// The dag.
        dag: String,
        /// Upstream task.
        from: String,
        /// Downstream task.
        to: String,
    },
    /// A field of the dag (`owner` none), of its `default_args`, or of a task, set in one
    /// build and not the other, or set to another value.
    Field {
        /// The dag.
        dag: String,
        /// `schedule`, `default_args.retries`, `load.bash_command`.
        path: String,
        /// The old value's text, if the old build set it.
        old: Option<String>,
        /// The new value's text, if the new build sets it.
        new: Option<String>,
        /// The layer that set the new value (or, for a removed one, the old) and where.
        layer: Option<(String, Span)>,
        /// Whether `layer` is a place in the old build's sources.
        in_old: bool,
    },
}

impl Change {
    /// The dag the change is in.
    pub fn dag(&self) -> &str {
        match self {
            Change::DagAdded { dag, .. }
            | Change::DagRemoved { dag, .. }
            | Change::Moved { dag, .. }
            | Change::TaskAdded { dag, .. }
            | Change::TaskRemoved { dag, .. }
            | Change::Operator { dag, .. }
            | Change::EdgeAdded { dag, .. }
            | Change::EdgeRemoved { dag, .. }
            | Change::Field { dag, .. } => dag,
        }
    }
}

/// The layer that set a field last, and where (its own place if no layer was kept).
fn layer(f: &Field) -> (String, Span) {
    match f.provenance.last() {
        Some((l, s)) => (l.to_string(), *s),
        None => ("set".to_string(), f.origin),
    }
}

fn fields(out: &mut Vec<Change>, dag: &str, prefix: &str, old: &[Field], new: &[Field]) {
    let olds: BTreeMap<&str, &Field> = old.iter().map(|f| (f.name.as_str(), f)).collect();
    let news: BTreeMap<&str, &Field> = new.iter().map(|f| (f.name.as_str(), f)).collect();
    // In the new build's order, then what only the old one had.
    let mut names: Vec<&str> = new.iter().map(|f| f.name.as_str()).collect();
    names.extend(
        old.iter()
            .map(|f| f.name.as_str())
            .filter(|n| !news.contains_key(n)),
    );
    for name in names {
        let (o, n) = (olds.get(name), news.get(name));
        let (ot, nt) = (
            o.map(|f| value_text(&f.value)),
            n.map(|f| value_text(&f.value)),
        );
        if ot == nt {
            continue;
        }
        let (layer, in_old) = match (n, o) {
            (Some(f), _) => (Some(layer(f)), false),
            (None, Some(f)) => (Some(layer(f)), true),
            (None, None) => (None, false),
        };
        out.push(Change::Field {
            dag: dag.to_string(),
            path: format!("{prefix}{name}"),
            old: ot,
            new: nt,
            layer,
            in_old,
        });
    }
}

/// What a task or group is mapped over, as fields a change can name: `expand.FIELD`
/// for each field or parameter of `expand`, `expand_kwargs` for its records. A task or
/// group that becomes mapped (or stops being) shows as these fields set (or unset).
fn mapping(m: Option<&dagf_ir::Mapped>) -> Vec<Field> {
    match m {
        None => Vec::new(),
        Some(dagf_ir::Mapped::Expand(fs)) => fs
            .iter()
            .map(|f| Field {
                name: format!("expand.{}", f.name),
                ..f.clone()
            })
            .collect(),
        Some(dagf_ir::Mapped::ExpandKwargs(f)) => vec![Field {
            name: "expand_kwargs".to_string(),
            ..f.clone()
        }],
    }
}

/// Every difference between the `old` and the `new` build, dag by dag in dag id
/// order; within a dag: its file, its fields, its tasks, its dependencies.
pub fn diff(old: &Project, new: &Project) -> Vec<Change> {
    let olds: BTreeMap<&str, &Dag> = old.dags.iter().map(|d| (d.dag_id.as_str(), d)).collect();
    let news: BTreeMap<&str, &Dag> = new.dags.iter().map(|d| (d.dag_id.as_str(), d)).collect();
    let ids: BTreeSet<&str> = olds.keys().chain(news.keys()).copied().collect();
    let mut out = Vec::new();
    for id in ids {
        let (o, n) = match (olds.get(id), news.get(id)) {
            (None, Some(n)) => {
                out.push(Change::DagAdded {
                    dag: id.to_string(),
                    at: n.span,
                });
                continue;
            }
            (Some(o), None) => {
                out.push(Change::DagRemoved {
                    dag: id.to_string(),
                    at: o.span,
                });
                continue;
            }
            (Some(o), Some(n)) => (*o, *n),
            (None, None) => continue,
        };
        let dag = id.to_string();
        if o.path() != n.path() {
            out.push(Change::Moved {
                dag: dag.clone(),
                old: o.path(),
                new: n.path(),
            });
        }
        fields(&mut out, id, "", &o.args, &n.args);
        fields(
            &mut out,
            id,
            "default_args.",
            &o.default_args,
            &n.default_args,
        );
        let ot: BTreeMap<&str, &dagf_ir::Task> =
            o.tasks().map(|t| (t.task_id.as_str(), t)).collect();
        for t in n.tasks() {
            match ot.get(t.task_id.as_str()) {
                None => out.push(Change::TaskAdded {
                    dag: dag.clone(),
                    task: t.task_id.clone(),
                    op: t.op.name.clone(),
                    at: t.span,
                }),
                Some(was) => {
                    if was.op.name != t.op.name || was.op.class != t.op.class {
                        out.push(Change::Operator {
                            dag: dag.clone(),
                            task: t.task_id.clone(),
                            old: was.op.name.clone(),
                            new: t.op.name.clone(),
                            at: t.span,
                        });
                    }
                    fields(&mut out, id, &format!("{}.", t.task_id), &was.args, &t.args);
                    fields(
                        &mut out,
                        id,
                        &format!("{}.", t.task_id),
                        &mapping(was.mapped.as_ref()),
                        &mapping(t.mapped.as_ref()),
                    );
                }
            }
        }
        // A group kept by both builds whose mapping changed; a group's tasks are
        // reported as tasks.
        let old_groups: BTreeMap<String, usize> =
            (0..o.groups.len()).map(|g| (o.group_path(g), g)).collect();
        for g in 0..n.groups.len() {
            let path = n.group_path(g);
            if let Some(&was) = old_groups.get(&path) {
                fields(
                    &mut out,
                    id,
                    &format!("{path}."),
                    &mapping(o.groups[was].mapped.as_ref()),
                    &mapping(n.groups[g].mapped.as_ref()),
                );
            }
        }
        let nt: BTreeSet<&str> = n.tasks().map(|t| t.task_id.as_str()).collect();
        for t in o.tasks().filter(|t| !nt.contains(t.task_id.as_str())) {
            out.push(Change::TaskRemoved {
                dag: dag.clone(),
                task: t.task_id.clone(),
                at: t.span,
            });
        }
        let edges = |d: &Dag| -> BTreeMap<(String, String), Span> {
            d.graph
                .edge_indices()
                .filter_map(|e| {
                    let (a, b) = d.graph.edge_endpoints(e)?;
                    Some((
                        (d.graph[a].task_id.clone(), d.graph[b].task_id.clone()),
                        d.graph[e],
                    ))
                })
                .collect()
        };
        let (oe, ne) = (edges(o), edges(n));
        for ((a, b), span) in &ne {
            if !oe.contains_key(&(a.clone(), b.clone())) {
                out.push(Change::EdgeAdded {
                    dag: dag.clone(),
                    from: a.clone(),
                    to: b.clone(),
                    at: *span,
                });
            }
        }
        for (a, b) in oe.keys() {
            if !ne.contains_key(&(a.clone(), b.clone())) {
                out.push(Change::EdgeRemoved {
                    dag: dag.clone(),
                    from: a.clone(),
                    to: b.clone(),
                });
            }
        }
    }
    out
}

/// The changes for people: a line per changed dag, then its changes, each with the
/// place that made it; `+` added, `-` removed, `~` changed. Ends with a count.
pub fn render(changes: &[Change], old: &Sources, new: &Sources) -> String {
    let mut s = String::new();
    let mut current: Option<&str> = None;
    let (mut added, mut removed, mut changed) = (0, 0, BTreeSet::new());
    for c in changes {
        let line = match c {
            Change::DagAdded { dag, at } => {
                added += 1;
                current = None;
                s.push_str(&format!("+ dag {dag}  ({})\n", place(new, *at)));
                continue;
            }
            Change::DagRemoved { dag, at } => {
                removed += 1;
                current = None;
                s.push_str(&format!("- dag {dag}  (was {})\n", place(old, *at)));
                continue;
            }
            Change::Moved { old, new, .. } => format!("~ file {old} -> {new}"),
            Change::TaskAdded { task, op, at, .. } => {
                format!("+ task {task}: {op}  ({})", place(new, *at))
            }
            Change::TaskRemoved { task, at, .. } => {
                format!("- task {task}  (was {})", place(old, *at))
            }
            Change::Operator {
                task,
                old: o,
                new: n,
                at,
                ..
            } => format!("~ task {task}: {o} -> {n}  ({})", place(new, *at)),
            Change::EdgeAdded { from, to, at, .. } => {
                format!("+ {from} >> {to}  ({})", place(new, *at))
            }
            Change::EdgeRemoved { from, to, .. } => format!("- {from} >> {to}"),
            Change::Field {
                path,
                old: o,
                new: n,
                layer,
                in_old,
                ..
            } => {
                let by = layer.as_ref().map_or(String::new(), |(l, span)| {
                    let src = if *in_old { old } else { new };
                    let was = if *in_old { "was set by" } else { "set by" };
                    format!("  ({was} {l} at {})", place(src, *span))
                });
                match (o, n) {
                    (Some(o), Some(n)) => format!("~ {path}: {o} -> {n}{by}"),
                    (None, Some(n)) => format!("+ {path} = {n}{by}"),
                    (Some(o), None) => format!("- {path} = {o}{by}"),
                    (None, None) => continue,
                }
            }
        };
        let dag = c.dag();
        if current != Some(dag) {
            s.push_str(&format!("~ dag {dag}\n"));
            current = Some(dag);
            changed.insert(dag.to_string());
        }
        s.push_str(&format!("    {line}\n"));
    }
    if changes.is_empty() {
        s.push_str("no difference\n");
    } else {
        s.push_str(&format!(
            "{} changed, {} added, {} removed\n",
            plural(changed.len(), "dag"),
            added,
            removed
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dagf_ir::{Group, Mapped, OpClass, Task, Value};
    use std::sync::Arc;

    fn field(name: &str, value: Value) -> Field {
        Field {
            name: name.to_string(),
            value,
            origin: Span::default(),
            provenance: Vec::new(),
        }
    }

    fn strs(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::Str(s.to_string())).collect())
    }

    /// A dag with a task `load` and, in a group `tables`, a task `check`; each mapped
    /// as given.
    fn project(task: Option<Mapped>, group: Option<Mapped>) -> Project {
        let mut d = Dag::new("d", "main.dagf", Span::default());
        d.groups.push(Group {
            group_id: "tables".to_string(),
            parent: None,
            tooltip: None,
            order: 1,
            mapped: group,
            span: Span::default(),
        });
        let op = Arc::new(OpClass {
            name: "bash".to_string(),
            ..Default::default()
        });
        for (id, local, group, mapped) in [
            ("load", "load", None, task),
            ("tables.check", "check", Some(0), None),
        ] {
            d.graph.add_node(Task {
                task_id: id.to_string(),
                local_id: local.to_string(),
                group,
                op: op.clone(),
                args: Vec::new(),
                role: Default::default(),
                mapped,
                span: Span::default(),
            });
        }
        Project {
            dags: vec![d],
            ..Default::default()
        }
    }

    fn paths(changes: &[Change]) -> Vec<(String, Option<String>, Option<String>)> {
        changes
            .iter()
            .filter_map(|c| match c {
                Change::Field { path, old, new, .. } => {
                    Some((path.clone(), old.clone(), new.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn mapping_changes_are_changes() {
        let plain = project(None, None);
        let expand =
            |items: &[&str]| Some(Mapped::Expand(vec![field("bash_command", strs(items))]));
        let group = |items: &[&str]| Some(Mapped::Expand(vec![field("table", strs(items))]));

        // Nothing mapped either time: no change.
        assert!(diff(&plain, &project(None, None)).is_empty());

        // A task and a group become mapped.
        let mapped = project(expand(&["echo a"]), group(&["orders"]));
        assert_eq!(
            paths(&diff(&plain, &mapped)),
            vec![
                (
                    "load.expand.bash_command".to_string(),
                    None,
                    Some("[\"echo a\"]".to_string())
                ),
                (
                    "tables.expand.table".to_string(),
                    None,
                    Some("[\"orders\"]".to_string())
                ),
            ]
        );

        // What they are mapped over changes.
        let changed = project(expand(&["echo a", "echo b"]), group(&["orders"]));
        assert_eq!(
            paths(&diff(&mapped, &changed)),
            vec![(
                "load.expand.bash_command".to_string(),
                Some("[\"echo a\"]".to_string()),
                Some("[\"echo a\", \"echo b\"]".to_string())
            )]
        );

        // From expand to expand_kwargs, and a group no longer mapped.
        let kwargs = project(
            Some(Mapped::ExpandKwargs(field(
                "expand_kwargs",
                Value::List(vec![Value::Dict(vec![(
                    "bash_command".to_string(),
                    Value::Str("echo a".to_string()),
                )])]),
            ))),
            None,
        );
        let got = paths(&diff(&mapped, &kwargs));
        let names: Vec<&str> = got.iter().map(|(p, _, _)| p.as_str()).collect();
        assert_eq!(
            names,
            [
                "load.expand_kwargs",
                "load.expand.bash_command",
                "tables.expand.table"
            ]
        );
        assert!(got[0].1.is_none() && got[0].2.is_some());
        assert!(got[1].1.is_some() && got[1].2.is_none());
        assert!(got[2].1.is_some() && got[2].2.is_none());
    }
}
