//! `dagfc diff --folder DIR`: what building now would change in an output folder (what
//! is deployed). Both sides are read the same way, by the project's Airflow: the
//! folder as it is (a hand-edited file included) and a fresh build of the sources,
//! each loaded as the DAG processor loads it and described as text by the helper.
//! Each change is then named by the layer and source line of the current build that
//! makes the new value.

use crate::python::PyEnv;
use crate::verify;
use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use dagf_view::Change;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What the comparison found: the changes, the folder's files as sources (for the
/// places of what only the folder has), and the folder's files that do not import.
pub struct Found {
    /// The changes, dag by dag.
    pub changes: Vec<Change>,
    /// The old side's files.
    pub old: Sources,
    /// `(file, last line of the error)` for each file of the folder Airflow cannot import.
    pub broken: Vec<(String, String)>,
}

/// Loads `folder` and the fresh build `files` in the project's Airflow and compares
/// them; `ir` (with the layers of each value) names the new values' places.
pub fn compare_folder(
    env: &PyEnv,
    ir: &dagf_ir::Project,
    files: &[dagf_ir::Built],
    folder: &Path,
    shown: &str,
) -> Result<Found, Box<Diagnostic>> {
    let home = crate::airflow::Home::new("dagf-diff-").map_err(|e| {
        Box::new(Diagnostic::new(
            Code::E0404,
            format!("cannot make a temporary Airflow home: {e}"),
        ))
    })?;
    let fresh = home.path().join("dags");
    verify::write_files(&fresh, files).map_err(|e| {
        Box::new(Diagnostic::new(
            Code::E0404,
            format!("cannot write the build to {}: {e}", fresh.display()),
        ))
    })?;
    let task_fields: BTreeSet<&str> = ir
        .dags
        .iter()
        .flat_map(|d| d.tasks())
        .flat_map(|t| t.args.iter().map(|a| a.name.as_str()))
        .collect();
    let ask = |dir: &Path| {
        let request = serde_json::json!({
            "op": "verify",
            "folder": dir.to_string_lossy(),
            "values": true,
            "task_fields": task_fields,
        });
        env.ask(&request, &home.env(dir))
    };
    let old = ask(folder)?;
    let new = ask(&fresh)?;
    // The fresh build must load: what `dagfc verify` checks.
    if let Some((file, error)) = new["import_errors"]
        .as_object()
        .and_then(|o| o.iter().next())
    {
        return Err(Box::new(
            Diagnostic::new(
                Code::E0709,
                format!(
                    "Airflow cannot import `{file}` of the current build: {}",
                    last_line(error.as_str().unwrap_or(""))
                ),
            )
            .with_help("`dagfc verify` shows why; the diff compares what Airflow loads"),
        ));
    }
    let mut sources = Sources::new();
    let mut file_ids: BTreeMap<String, FileId> = BTreeMap::new();
    let mut old_file = |rel: &str| -> Span {
        let id = *file_ids.entry(rel.to_string()).or_insert_with(|| {
            let text = std::fs::read_to_string(folder.join(rel)).unwrap_or_default();
            sources.add(format!("{shown}/{rel}"), text)
        });
        Span::new(id, 0, 0)
    };
    let broken = old["import_errors"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(f, e)| (f.clone(), last_line(e.as_str().unwrap_or(""))))
                .collect()
        })
        .unwrap_or_default();
    let empty = serde_json::Map::new();
    let olds = old["dags"].as_object().unwrap_or(&empty);
    let news = new["dags"].as_object().unwrap_or(&empty);
    let ids: BTreeSet<&String> = olds.keys().chain(news.keys()).collect();
    let mut changes = Vec::new();
    for id in ids {
        let dag = ir.dags.iter().find(|d| &d.dag_id == id);
        match (olds.get(id), news.get(id), dag) {
            (None, Some(_), Some(d)) => changes.push(Change::DagAdded {
                dag: id.clone(),
                at: d.span,
            }),
            (Some(o), None, _) => changes.push(Change::DagRemoved {
                dag: id.clone(),
                at: old_file(o["file"].as_str().unwrap_or("")),
            }),
            (Some(o), Some(n), Some(d)) => {
                let at = old_file(o["file"].as_str().unwrap_or(""));
                compare_dag(&mut changes, d, o, n, at);
            }
            _ => {}
        }
    }
    Ok(Found {
        changes,
        old: sources,
        broken,
    })
}

fn last_line(error: &str) -> String {
    error
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The IR's name of a field Airflow names otherwise.
fn ir_name(airflow: &str) -> &str {
    match airflow {
        "start_date" => "start",
        "end_date" => "end",
        "doc_md" => "doc",
        other => other,
    }
}

/// The layer that set a field of the current build last, and where.
fn layer_of(fields: &[dagf_ir::Field], name: &str) -> Option<(String, Span)> {
    let f = fields.iter().find(|f| f.name == ir_name(name))?;
    Some(match f.provenance.last() {
        Some((l, s)) => (l.to_string(), *s),
        None => ("set".to_string(), f.origin),
    })
}

/// Text values by name, from one side's description.
fn texts(v: &Json) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, x)| (k.clone(), x.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a field's difference is told elsewhere (name, old text, new text).
type Explained<'a> = dyn Fn(&str, Option<&String>, Option<&String>) -> bool + 'a;

/// Field changes between two maps of texts.
#[allow(clippy::too_many_arguments)]
fn fields(
    out: &mut Vec<Change>,
    dag: &str,
    prefix: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    layers: &[dagf_ir::Field],
    explained: &Explained<'_>,
    removed_at: Span,
) {
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for name in names {
        let (o, n) = (old.get(name), new.get(name));
        if o == n || explained(name, o, n) {
            continue;
        }
        // A value only the folder has was written in its file; one the current
        // sources make (or Airflow derives) is named by its layer, if it has one.
        let (layer, in_old) = match (layer_of(layers, name), n) {
            (Some(l), _) => (Some(l), false),
            (None, None) => (Some(("the folder's file".to_string(), removed_at)), true),
            (None, Some(_)) => (None, false),
        };
        out.push(Change::Field {
            dag: dag.to_string(),
            path: format!("{prefix}{name}"),
            old: o.cloned(),
            new: n.cloned(),
            layer,
            in_old,
        });
    }
}

fn compare_dag(out: &mut Vec<Change>, dag: &dagf_ir::Dag, old: &Json, new: &Json, at: Span) {
    let id = dag.dag_id.as_str();
    let (of, nf) = (
        old["file"].as_str().unwrap_or(""),
        new["file"].as_str().unwrap_or(""),
    );
    if of != nf {
        out.push(Change::Moved {
            dag: id.to_string(),
            old: of.to_string(),
            new: nf.to_string(),
        });
    }
    let none = |_: &str, _: Option<&String>, _: Option<&String>| false;
    fields(
        out,
        id,
        "",
        &texts(&old["values"]),
        &texts(&new["values"]),
        &dag.args,
        &none,
        at,
    );
    let (od, nd) = (texts(&old["default_args"]), texts(&new["default_args"]));
    fields(
        out,
        id,
        "default_args.",
        &od,
        &nd,
        &dag.default_args,
        &none,
        at,
    );
    // A task's value that is its dag's `default_args` value on both sides changed
    // with it: said once, at `default_args`.
    let explained = |name: &str, o: Option<&String>, n: Option<&String>| {
        od.contains_key(name) && nd.contains_key(name) && o == od.get(name) && n == nd.get(name)
    };
    let (ot, nt) = (&old["tasks"], &new["tasks"]);
    let names = |t: &Json| -> BTreeSet<String> {
        t.as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (oids, nids) = (names(ot), names(nt));
    for t in dag.tasks() {
        let tid = &t.task_id;
        if !nids.contains(tid) {
            continue;
        }
        if !oids.contains(tid) {
            out.push(Change::TaskAdded {
                dag: id.to_string(),
                task: tid.clone(),
                op: t.op.name.clone(),
                at: t.span,
            });
            continue;
        }
        let class = |side: &Json| {
            let c = side[tid.as_str()]["class"].as_str().unwrap_or("");
            c.rsplit('.').next().unwrap_or(c).to_string()
        };
        let (oc, nc) = (class(ot), class(nt));
        if oc != nc {
            out.push(Change::Operator {
                dag: id.to_string(),
                task: tid.clone(),
                old: oc,
                new: nc,
                at: t.span,
            });
        }
        fields(
            out,
            id,
            &format!("{tid}."),
            &texts(&old["task_values"][tid.as_str()]),
            &texts(&new["task_values"][tid.as_str()]),
            &t.args,
            &explained,
            at,
        );
    }
    for tid in oids.difference(&nids) {
        out.push(Change::TaskRemoved {
            dag: id.to_string(),
            task: tid.clone(),
            at,
        });
    }
    let edges = |t: &Json| -> BTreeSet<(String, String)> {
        t.as_object()
            .into_iter()
            .flatten()
            .flat_map(|(a, x)| {
                x["downstream"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|b| b.as_str())
                    .map(|b| (a.clone(), b.to_string()))
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let (oe, ne) = (edges(ot), edges(nt));
    let spans: BTreeMap<(String, String), Span> = dag
        .graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = dag.graph.edge_endpoints(e)?;
            Some((
                (dag.graph[a].task_id.clone(), dag.graph[b].task_id.clone()),
                dag.graph[e],
            ))
        })
        .collect();
    for (a, b) in ne.difference(&oe) {
        out.push(Change::EdgeAdded {
            dag: id.to_string(),
            from: a.clone(),
            to: b.clone(),
            at: spans
                .get(&(a.clone(), b.clone()))
                .copied()
                .unwrap_or(dag.span),
        });
    }
    for (a, b) in oe.difference(&ne) {
        out.push(Change::EdgeRemoved {
            dag: id.to_string(),
            from: a.clone(),
            to: b.clone(),
        });
    }
}
