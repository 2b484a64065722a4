//! Checks across the whole project once every DAG is built: assets need a producer (or
//! an `extern` declaration), and no DAG depends on, triggers or senses a DAG of another
//! tenant unless the tenants allow it.

use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_ir::{Dag, Scope, Value};
use std::collections::{HashMap, HashSet};

/// A declared asset: where, and whether it is produced outside the project.
#[derive(Clone, Copy, Debug)]
pub struct AssetDecl {
    pub span: Span,
    pub is_extern: bool,
}

/// What the checks across the project need of one DAG, taken when it is made: a
/// build turns each DAG into its file right away and keeps only this.
#[derive(Clone, Debug)]
pub struct Facts {
    pub(crate) dag_id: String,
    span: Span,
    pub(crate) scope: Option<Scope>,
    /// The output subfolder its file goes in.
    folder: String,
    /// Assets its tasks list in their outlets: URI, and where.
    produced: Vec<(String, Span)>,
    /// Assets it waits for (its schedule) or reads (task inlets): URI, name, where,
    /// and which of the two.
    consumed: Vec<(String, String, Span, &'static str)>,
    /// Tasks that trigger or sense another dag: task id, the verb, the dag id, where.
    reaches: Vec<(String, &'static str, String, Span)>,
    /// The pool of each task that names one.
    pub(crate) pools: Vec<crate::pools::Use>,
}

impl Facts {
    pub fn of(dag: &Dag) -> Facts {
        let (mut consumed, mut produced, mut reaches) = (Vec::new(), Vec::new(), Vec::new());
        let mut consume = |f: &dagf_ir::Field, how: &'static str| {
            for (uri, name) in asset_uris(&f.value) {
                consumed.push((uri.to_string(), name.to_string(), f.origin, how));
            }
        };
        if let Some(f) = dag.arg("schedule") {
            consume(f, "waits for");
        }
        for task in dag.tasks() {
            if let Some(f) = task.arg("inlets") {
                consume(f, "reads");
            }
            if let Some(f) = task.arg("outlets") {
                for (uri, _) in asset_uris(&f.value) {
                    produced.push((uri.to_string(), f.origin));
                }
            }
            let reach = match task.op.name.as_str() {
                "trigger_dag" => task.arg("trigger_dag_id").map(|f| (f, "triggers")),
                "external_task" => task.arg("external_dag_id").map(|f| (f, "waits for")),
                _ => None,
            };
            if let Some((field, verb)) = reach
                && let Value::Str(target) = &field.value
            {
                reaches.push((task.task_id.clone(), verb, target.clone(), field.origin));
            }
        }
        Facts {
            dag_id: dag.dag_id.clone(),
            span: dag.span,
            scope: dag.scope.clone(),
            folder: dag.folder.clone(),
            produced,
            consumed,
            reaches,
            pools: crate::pools::uses(dag),
        }
    }
}

/// An asset a task lists in its outlets.
struct Producer {
    dag: usize,
    at: Span,
}

/// Checks the project's DAGs together, and gives the folders that belong to a team.
pub fn check(
    dags: &[Facts],
    assets: &HashMap<String, AssetDecl>,
    diags: &mut Diagnostics,
) -> Vec<dagf_ir::TeamFolder> {
    let teams = teams(dags, diags);
    let mut producers: HashMap<&str, Vec<Producer>> = HashMap::new();
    for (d, dag) in dags.iter().enumerate() {
        for (uri, at) in &dag.produced {
            producers
                .entry(uri)
                .or_default()
                .push(Producer { dag: d, at: *at });
        }
    }
    let by_id: HashMap<&str, usize> = dags
        .iter()
        .enumerate()
        .map(|(i, d)| (d.dag_id.as_str(), i))
        .collect();
    for dag in dags {
        let mut reported: HashSet<&str> = HashSet::new();
        for (uri, name, at, how) in &dag.consumed {
            let (uri, at) = (uri.as_str(), *at);
            if !reported.insert(uri) {
                continue;
            }
            let found = producers.get(uri).map(Vec::as_slice).unwrap_or_default();
            if found.is_empty() {
                let decl = assets.get(uri);
                if decl.is_some_and(|a| a.is_extern) {
                    continue;
                }
                let mut d = Diagnostic::at(
                    Code::E0314,
                    at,
                    format!(
                        "dag `{}` waits for `{uri}`, which no task produces",
                        dag.dag_id
                    ),
                    "consumed here",
                );
                if let Some(a) = decl {
                    d = d.with_label(a.span, "declared here, not `extern`");
                }
                diags.push(d.with_help(
                    "add the asset to the `outlets` of the task that writes it, or declare it `extern asset` if something outside the project does",
                ));
                continue;
            }
            // Crossing into another scope: the producer's tenant must export the asset.
            for p in found {
                let from = &dags[p.dag];
                let Some(ps) = &from.scope else { continue };
                if same_scope(dag.scope.as_ref(), Some(ps)) || !ps.isolated {
                    continue;
                }
                if ps.exports.iter().any(|e| e == uri) {
                    continue;
                }
                let mut d = Diagnostic::at(
                    Code::E0313,
                    at,
                    format!(
                        "dag `{}` {how} asset `{name}`, which tenant `{}` does not export",
                        dag.dag_id, ps.tenant
                    ),
                    where_is(&dag.dag_id, dag.scope.as_ref()),
                )
                .with_label(
                    p.at,
                    format!(
                        "produced here by `{}`, in tenant `{}`",
                        from.dag_id, ps.tenant
                    ),
                );
                d = d.with_label(ps.span, format!("`{}` is declared here", ps.tenant));
                diags.push(d.with_help(format!(
                    "add `{name}` to the `exports` of `{}` to share it, or set `isolated = false` on `{}`",
                    ps.tenant, ps.kind
                )));
                break;
            }
        }
        // Triggering or sensing a dag of another tenant.
        for (task_id, verb, target, origin) in &dag.reaches {
            let Some(&t) = by_id.get(target.as_str()) else {
                continue;
            };
            let other = &dags[t];
            let (Some(s), Some(o)) = (&dag.scope, &other.scope) else {
                continue;
            };
            if same_scope(Some(s), Some(o)) || !(s.isolated || o.isolated) {
                continue;
            }
            diags.push(
                Diagnostic::at(
                    Code::E0313,
                    *origin,
                    format!(
                        "task `{task_id}` of tenant `{}` {verb} dag `{}` of tenant `{}`",
                        s.tenant, other.dag_id, o.tenant
                    ),
                    where_is(&dag.dag_id, Some(s)),
                )
                .with_label(other.span, where_is(&other.dag_id, Some(o)))
                .with_help(format!(
                    "tenants are isolated: coordinate through an asset that `{}` exports{}",
                    o.tenant,
                    {
                        // The kinds that forbid it: those still isolated.
                        let mut kinds: Vec<&str> = [s, o]
                            .iter()
                            .filter(|x| x.isolated)
                            .map(|x| x.kind.as_str())
                            .collect();
                        kinds.dedup();
                        format!(", or set `isolated = false` on `{}`", kinds.join("` and `"))
                    }
                )),
            );
        }
    }
    teams
}

/// Airflow's multi-team mode gives each team's dags a bundle of their own: a folder
/// that holds that team's dags and nothing else. So a tenant with a team has an output
/// folder of its own (not the top), one folder belongs to one team, and no other dag
/// is written inside a team's folder. Gives the team folders that become bundles.
fn teams(dags: &[Facts], diags: &mut Diagnostics) -> Vec<dagf_ir::TeamFolder> {
    let mut owned = Vec::new();
    // Each folder once: who placed a dag there first, and its team.
    let mut folders: Vec<(&str, Option<&str>, &Scope, &str)> = Vec::new();
    let mut untenanted: Option<&Facts> = None;
    for d in dags {
        let Some(s) = &d.scope else {
            untenanted.get_or_insert(d);
            continue;
        };
        let team = s.team.as_deref();
        match folders.iter().find(|(f, ..)| *f == d.folder) {
            Some((_, other, o, _)) if *other != team => {
                let (a, b) = (team.unwrap_or("no team"), other.unwrap_or("no team"));
                diags.push(
                    Diagnostic::at(
                        Code::E0326,
                        s.placed,
                        format!("tenants `{}` ({a}) and `{}` ({b}) write into one folder, `{}`", s.tenant, o.tenant, d.folder),
                        format!("`{}` is placed here", d.dag_id),
                    )
                    .with_label(o.span, format!("`{}` is declared here", o.tenant))
                    .with_help("a team's dags are a bundle of their own: give each team its own `output` folder"),
                );
            }
            Some(_) => {}
            None => folders.push((&d.folder, team, s, &d.dag_id)),
        }
    }
    for &(folder, team, s, dag_id) in &folders {
        let Some(team) = team else { continue };
        if folder.is_empty() {
            diags.push(
                Diagnostic::at(
                    Code::E0326,
                    s.span,
                    format!("tenant `{}` has team `{team}` but no output folder of its own", s.tenant),
                    format!("`{dag_id}` would be written at the top of the output folder"),
                )
                .with_help("give its kind an `output` setting, such as \"teams/${tenant}\": the folder becomes the team's bundle"),
            );
            continue;
        }
        owned.push(dagf_ir::TeamFolder {
            folder: folder.to_string(),
            team: team.to_string(),
        });
        // Another folder inside this team's: its dags would join the team's bundle.
        let inside = |f: &str| {
            f.strip_prefix(folder)
                .is_some_and(|rest| rest.starts_with('/'))
        };
        if let Some((f, _, o, _)) = folders
            .iter()
            .find(|(f, t, ..)| inside(f) && *t != Some(team))
        {
            diags.push(
                Diagnostic::at(
                    Code::E0326,
                    o.placed,
                    format!(
                        "tenant `{}` writes into `{f}`, inside the folder of team `{team}`",
                        o.tenant
                    ),
                    "placed here",
                )
                .with_label(
                    s.span,
                    format!("`{}` of team `{team}` owns `{folder}`", s.tenant),
                )
                .with_help(
                    "a team's folder is its bundle: move the other tenant's `output` out of it",
                ),
            );
        }
    }
    // A folder inside another of the same team is already part of that bundle.
    let inside_another = |f: &dagf_ir::TeamFolder| {
        owned.iter().any(|o| {
            f.folder
                .strip_prefix(&o.folder)
                .is_some_and(|rest| rest.starts_with('/'))
        })
    };
    let mut bundles: Vec<dagf_ir::TeamFolder> = owned
        .iter()
        .filter(|f| !inside_another(f))
        .cloned()
        .collect();
    bundles.sort();
    bundles
}

fn same_scope(a: Option<&Scope>, b: Option<&Scope>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.kind == b.kind && a.tenant == b.tenant,
        (None, None) => true,
        _ => false,
    }
}

fn where_is(dag_id: &str, scope: Option<&Scope>) -> String {
    match scope {
        Some(s) => format!("`{dag_id}` is in tenant `{}`", s.tenant),
        None => format!("`{dag_id}` is in no tenant"),
    }
}

/// Every asset in a value, as (URI, name).
fn asset_uris(v: &Value) -> Vec<(&str, &str)> {
    match v {
        Value::Asset { uri, name } => vec![(uri.as_str(), name.as_str())],
        Value::List(xs) | Value::AssetAll(xs) | Value::AssetAny(xs) => {
            xs.iter().flat_map(asset_uris).collect()
        }
        _ => Vec::new(),
    }
}
