//! Checks across the whole project once every DAG is built: assets need a producer (or
//! an `extern` declaration), a DAG that is triggered or sensed is a DAG of the project
//! (or declared `extern dag`), and no DAG depends on, triggers or senses a DAG of
//! another tenant unless the tenants allow it.

use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_ir::{AssetId, Dag, Scope, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What the project declares and makes, besides each DAG's facts.
pub struct Known<'a> {
    /// Declared assets (and aliases).
    pub assets: &'a HashMap<AssetId, AssetDecl>,
    /// The id of every DAG the project's statements made, with or without errors.
    pub dag_ids: &'a HashSet<String>,
    /// Whether `dag_ids` is sure to hold every DAG of the project: a statement that
    /// failed before its DAGs had ids (a tenant in error, a loop over a list in error)
    /// may have left some out, and then an unknown id is no sure mistake.
    pub all_dags: bool,
    /// `extern dag` ids, each with where it is first declared.
    pub extern_dags: &'a HashMap<String, Span>,
}

/// A declared asset: where, and whether it is produced outside the project.
#[derive(Clone, Copy, Debug)]
pub struct AssetDecl {
    pub span: Span,
    pub is_extern: bool,
}

/// How a dag uses an asset or another dag (`reads`, `waits for`, `triggers`): one of
/// a few fixed words, kept as text in a build cache and read back only as one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word(&'static str);

impl Word {
    const READS: Word = Word("reads");
    const WAITS_FOR: Word = Word("waits for");
    const TRIGGERS: Word = Word("triggers");
}

impl std::ops::Deref for Word {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for Word {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl serde::Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Word {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Word, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        [Word::READS, Word::WAITS_FOR, Word::TRIGGERS]
            .into_iter()
            .find(|w| w.0 == text)
            .ok_or_else(|| serde::de::Error::custom("not a word of a dag's facts"))
    }
}

/// What the checks across the project need of one DAG, taken when it is made: a
/// build turns each DAG into its file right away and keeps only this.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Facts {
    pub(crate) dag_id: String,
    span: Span,
    pub(crate) scope: Option<Scope>,
    /// The output subfolder its file goes in.
    folder: String,
    /// Assets its tasks list in their outlets, and where.
    produced: Vec<(AssetId, Span)>,
    /// Assets it waits for (its schedule) or reads (task inlets): the asset, its
    /// name, where, and which of the two.
    consumed: Vec<(AssetId, String, Span, Word)>,
    /// Tasks that trigger or sense another dag: task id, the verb, the dag id, where.
    reaches: Vec<(String, Word, String, Span)>,
    /// The pool of each task that names one.
    pub(crate) pools: Vec<crate::pools::Use>,
}

impl Facts {
    /// Every place the facts point at (a stored dag's are checked against the sources).
    pub(crate) fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        let scope = self.scope.iter().flat_map(|s| [s.span, s.placed]);
        std::iter::once(self.span)
            .chain(scope)
            .chain(self.produced.iter().map(|p| p.1))
            .chain(self.consumed.iter().map(|c| c.2))
            .chain(self.reaches.iter().map(|r| r.3))
            .chain(self.pools.iter().flat_map(crate::pools::Use::spans))
    }

    /// `written` has, by task id, where a dag id a task names was written when that
    /// is in a config file rather than where the field is set.
    pub fn of(dag: &Dag, written: &HashMap<&str, Span>) -> Facts {
        let (mut consumed, mut produced, mut reaches) = (Vec::new(), Vec::new(), Vec::new());
        let mut consume = |f: &dagf_ir::Field, how: Word| {
            for (id, name) in asset_ids(&f.value) {
                consumed.push((id, name.to_string(), f.origin, how));
            }
        };
        if let Some(f) = dag.arg("schedule") {
            consume(f, Word::WAITS_FOR);
        }
        for task in dag.tasks() {
            if let Some(f) = task.arg("inlets") {
                consume(f, Word::READS);
            }
            if let Some(f) = task.arg("outlets") {
                for (id, _) in asset_ids(&f.value) {
                    produced.push((id, f.origin));
                }
            }
            // By class, so an operator declared for the same class is checked too.
            let class = format!("{}.{}", task.op.module, task.op.class);
            let reach = match class.as_str() {
                crate::rules::TRIGGER_DAG_RUN => {
                    task.arg("trigger_dag_id").map(|f| (f, Word::TRIGGERS))
                }
                crate::rules::EXTERNAL_TASK_SENSOR => {
                    task.arg("external_dag_id").map(|f| (f, Word::WAITS_FOR))
                }
                _ => None,
            };
            if let Some((field, verb)) = reach
                && let Value::Str(target) = &field.value
            {
                let at = written
                    .get(task.task_id.as_str())
                    .copied()
                    .unwrap_or(field.origin);
                reaches.push((task.task_id.clone(), verb, target.clone(), at));
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
pub fn check(dags: &[Facts], known: &Known, diags: &mut Diagnostics) -> Vec<dagf_ir::TeamFolder> {
    let assets = known.assets;
    let teams = teams(dags, diags);
    files_and_folders(dags, diags);
    dag_ids(dags, known, diags);
    let mut producers: HashMap<&AssetId, Vec<Producer>> = HashMap::new();
    for (d, dag) in dags.iter().enumerate() {
        for (id, at) in &dag.produced {
            producers
                .entry(id)
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
        let mut reported: HashSet<&AssetId> = HashSet::new();
        for (id, name, at, how) in &dag.consumed {
            let at = *at;
            if !reported.insert(id) {
                continue;
            }
            let found = producers.get(id).map(Vec::as_slice).unwrap_or_default();
            if found.is_empty() {
                let decl = assets.get(id);
                if decl.is_some_and(|a| a.is_extern) {
                    continue;
                }
                let mut d = Diagnostic::at(
                    Code::E0314,
                    at,
                    format!(
                        "dag `{}` waits for `{id}`, which no task produces",
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
                if ps.exports.contains(id) {
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

/// A task that names a dag: its dag's id, its own id, and what it does to that dag.
type Reach<'a> = (&'a str, &'a str, &'a str);

/// E0325: every dag a task triggers or senses is a dag of the project or declared
/// `extern dag`, and no dag of the project is declared `extern`. An id Airflow renders
/// as a template (`{{ ... }}`) is known only when the task runs, and is not checked.
fn dag_ids(dags: &[Facts], known: &Known, diags: &mut Diagnostics) {
    let mut externs: Vec<(&String, &Span)> = known.extern_dags.iter().collect();
    externs.sort_by_key(|(_, at)| **at);
    for (id, at) in externs {
        if !known.dag_ids.contains(id) {
            continue;
        }
        let mut d = Diagnostic::at(
            Code::E0325,
            *at,
            format!("dag `{id}` is declared `extern`, but the project makes it"),
            "declared outside the project here",
        );
        if let Some(made) = dags.iter().find(|d| d.dag_id == *id) {
            d = d.with_label(made.span, "the project makes it here");
        }
        diags.push(d.with_help(format!(
            "remove `{id}` from `extern dag`: as a dag of the project it is checked as one, and `extern` would still accept the id if the dag were renamed"
        )));
    }
    if !known.all_dags {
        return;
    }
    // One mistake, one error: a factory's trigger met by every dag made from it is one
    // place, whatever the number of dags.
    let mut unknown: BTreeMap<(Span, &str), Vec<Reach>> = BTreeMap::new();
    for dag in dags {
        for (task_id, verb, target, origin) in &dag.reaches {
            if target.contains("{{")
                || known.dag_ids.contains(target)
                || known.extern_dags.contains_key(target)
            {
                continue;
            }
            unknown
                .entry((*origin, target.as_str()))
                .or_default()
                .push((&dag.dag_id, task_id, verb));
        }
    }
    if unknown.is_empty() {
        return;
    }
    let mut candidates: Vec<&str> = known
        .dag_ids
        .iter()
        .chain(known.extern_dags.keys())
        .map(String::as_str)
        .collect();
    candidates.sort_unstable();
    for ((origin, target), mut met) in unknown {
        met.sort_unstable();
        let (dag_id, task_id, verb) = met[0];
        let mut d = Diagnostic::at(
            Code::E0325,
            origin,
            format!(
                "task `{task_id}` of dag `{dag_id}` {verb} dag `{target}`, which is not in the project"
            ),
            "no dag has this id",
        );
        let outside =
            format!("declare it `extern dag \"{target}\"` if it lives outside the project");
        // A dag of a tenant is named by the id its naming convention made
        // (`acme__load`), not by the name it is declared with (`load`).
        let made_from = || {
            let mut ids = candidates.iter().copied().filter(|c| {
                c.strip_suffix(target)
                    .is_some_and(|rest| rest.ends_with(['_', '.', '-']))
            });
            match (ids.next(), ids.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        };
        let closest =
            dagf_diag::did_you_mean(target, candidates.iter().copied()).or_else(made_from);
        d = match closest {
            Some(c) => d.with_help(format!("did you mean `{c}`? Or {outside}")),
            None => d.with_help(format!("name a dag of the project, or {outside}")),
        };
        if met.len() > 1 {
            let mut names: Vec<&str> = met.iter().map(|(d, ..)| *d).collect();
            names.dedup();
            let shown: Vec<String> = names.iter().take(8).map(|n| format!("`{n}`")).collect();
            let more = match names.len().saturating_sub(shown.len()) {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            d = d.with_note(format!(
                "the dags {}{more} meet the same mistake",
                shown.join(", ")
            ));
        }
        diags.push(d);
    }
}

/// E0315: a tenant's output folder (or a folder above it) has the path of a dag's file,
/// so one of the two could not be written.
fn files_and_folders(dags: &[Facts], diags: &mut Diagnostics) {
    // Every folder some dag is written in, and every folder above it: the dag that
    // first asked for it.
    let mut folders: HashMap<&str, &Facts> = HashMap::new();
    for d in dags {
        let mut end = d.folder.len();
        while end > 0 {
            folders.entry(&d.folder[..end]).or_insert(d);
            end = d.folder[..end].rfind('/').unwrap_or(0);
        }
    }
    if folders.is_empty() {
        return;
    }
    for d in dags {
        let file = match d.folder.as_str() {
            "" => format!("{}.py", d.dag_id),
            dir => format!("{dir}/{}.py", d.dag_id),
        };
        let Some(other) = folders.get(file.as_str()) else {
            continue;
        };
        let mut diag = Diagnostic::at(
            Code::E0315,
            d.span,
            format!(
                "the file of dag `{}` and the folder of dag `{}` are both `{file}`",
                d.dag_id, other.dag_id
            ),
            format!("written as `{file}`"),
        );
        diag = match &other.scope {
            Some(s) => diag.with_label(
                s.placed,
                format!(
                    "`{}` goes in `{}`, the output folder of tenant `{}`",
                    other.dag_id, other.folder, s.tenant
                ),
            ),
            None => diag.with_label(
                other.span,
                format!("`{}` goes in `{}`", other.dag_id, other.folder),
            ),
        };
        diags.push(diag.with_help(
            "a file and a folder cannot have one path: rename the dag, or change the tenant kind's `output`",
        ));
    }
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

/// Every asset (and alias) in a value, with its name.
fn asset_ids(v: &Value) -> Vec<(AssetId, &str)> {
    match v {
        Value::Asset {
            uri, name, alias, ..
        } => vec![(
            AssetId {
                alias: *alias,
                id: uri.clone(),
            },
            name.as_str(),
        )],
        Value::List(xs) | Value::AssetAll(xs) | Value::AssetAny(xs) => {
            xs.iter().flat_map(asset_ids).collect()
        }
        _ => Vec::new(),
    }
}
