//! `dagfc verify`: the project built and loaded in its own Airflow as the DAG
//! processor loads it, every DAG serialized and read back, and what Airflow has
//! compared with what dagfc made; optionally `airflow dags test` on named DAGs. The
//! comparison ([`compare`]) is a pure function of the IR and the helper's answer.

use crate::cli::{BuildArgs, Printer, counts, facts};
use crate::project;
use crate::python::{self, PyEnv, excerpt};
use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, plural};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const USER_ERROR: u8 = 1;

/// Runs `dagfc verify`; the exit status is `check`'s: 0, or 1 with the diagnostics.
pub fn verify(
    printer: &Printer,
    common: &BuildArgs,
    out: Option<&Path>,
    runs: &[String],
    flag: Option<&Path>,
) -> u8 {
    let fail = |diags: Vec<Diagnostic>, sources: &Sources, warnings: usize| {
        let n = diags.len();
        printer.print(diags, sources);
        printer.summary(
            &format!("error: {}", counts(n, warnings)),
            true,
            facts(n, warnings),
        );
        USER_ERROR
    };
    let start = common.project.start();
    let Some(root) = project::find_root(&start) else {
        return fail(vec![project::not_found(&start)], &Sources::new(), 0);
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let proj = match dagf_driver::Project::load(&loader) {
        Ok(p) => p,
        Err(stopped) => {
            let w = stopped.warnings;
            return fail(stopped.diagnostics, &stopped.sources, w);
        }
    };
    let options = dagf_driver::Options {
        goal: dagf_driver::Goal::Python,
        env: common.env.clone(),
        env_vars: std::env::vars().collect(),
        threads: common.jobs,
        target: common.target,
        ..Default::default()
    };
    let built = dagf_driver::Session::once().build_project(&proj, &loader, &options);
    let (Some(ir), true) = (&built.ir, built.ok()) else {
        let w = built.warnings;
        return fail(built.diagnostics, &built.sources, w);
    };
    let sources = &built.sources;
    let warnings = built.warnings;
    let mut diags = Diagnostics::new();
    diags.extend(built.diagnostics.iter().cloned());
    // A misspelt `--run` is found before any Python starts.
    let unknown: Vec<Diagnostic> = runs
        .iter()
        .filter(|r| !ir.dags.iter().any(|d| &d.dag_id == *r))
        .map(|r| {
            Diagnostic::new(
                Code::E0709,
                format!("--run {r}: the project has no such dag"),
            )
            .with_suggestion(r, ir.dags.iter().map(|d| d.dag_id.as_str()))
            .or_help("name a dag the project builds")
        })
        .collect();
    if !unknown.is_empty() {
        return fail(unknown, sources, warnings);
    }
    let env = match python::resolve(flag, &proj.config.python, &root, proj.toml()) {
        Ok(e) => e,
        Err(d) => return fail(vec![*d], sources, warnings),
    };
    let home = match crate::airflow::Home::new("dagf-verify-") {
        Ok(h) => h,
        Err(e) => {
            return fail(
                vec![Diagnostic::new(
                    Code::E0404,
                    format!("cannot make a temporary Airflow home: {e}"),
                )],
                sources,
                warnings,
            );
        }
    };
    let folder = match out {
        Some(o) => match o.canonicalize() {
            Ok(p) if p.is_dir() => p,
            _ => {
                return fail(
                    vec![
                        Diagnostic::new(
                            Code::E0404,
                            format!("--out {} is not a folder", o.display()),
                        )
                        .with_help("build it first with `dagfc build --out DIR`, or leave --out out to verify a fresh build"),
                    ],
                    sources,
                    warnings,
                );
            }
        },
        None => {
            let dags = home.path().join("dags");
            if let Err(e) = write_files(&dags, &built.files) {
                return fail(
                    vec![Diagnostic::new(
                        Code::E0404,
                        format!("cannot write the build to {}: {e}", dags.display()),
                    )],
                    sources,
                    warnings,
                );
            }
            dags
        }
    };
    let airflow = home.env(&folder);
    printer.note(&format!(
        "loading {} in {}'s Airflow",
        plural(ir.dags.len(), "dag"),
        env.shown
    ));
    // One run of the helper checks the Python side and loads the build: Airflow is
    // imported once.
    let plan = python::check::plan(ir, sources);
    let mut request = plan.request();
    request["op"] = "verify".into();
    request["folder"] = folder.to_string_lossy().into_owned().into();
    request["args"] = wanted_args(ir).into();
    let loaded = match env.ask(&request, &airflow) {
        Ok(a) => a,
        Err(d) => return fail(vec![*d], sources, warnings),
    };
    let checked = plan.diagnose(&loaded);
    // A mistake the checks found is also why Airflow fails: it is reported once.
    if !checked.is_empty() {
        diags.extend(checked);
    } else {
        diags.extend(compare(ir, &built.files, &loaded));
    }
    if !runs.is_empty() && !diags.has_errors() {
        diags.extend(run_dags(printer, &env, ir, runs, &home, &folder));
    }
    let errors = diags.error_count();
    let shown = diags.into_sorted();
    printer.print(shown, sources);
    let mut f = facts(errors, warnings);
    f["dags"] = ir.dags.len().into();
    if errors > 0 {
        printer.summary(&format!("error: {}", counts(errors, warnings)), true, f);
        return USER_ERROR;
    }
    let ran = match runs.len() {
        0 => String::new(),
        n => format!(", ran {}", plural(n, "dag")),
    };
    printer.summary(
        &format!(
            "verified {} in Airflow{ran}: {}",
            plural(ir.dags.len(), "dag"),
            counts(errors, warnings)
        ),
        false,
        f,
    );
    0
}

/// The build's files, written into a fresh folder.
pub(crate) fn write_files(dir: &Path, files: &[dagf_ir::Built]) -> std::io::Result<()> {
    for f in files {
        let folder = match f.folder.as_str() {
            "" => dir.to_path_buf(),
            sub => dir.join(sub),
        };
        std::fs::create_dir_all(&folder)?;
        std::fs::write(folder.join(&f.file), &f.text)?;
    }
    Ok(())
}

/// The task arguments whose values can be compared as plain values.
fn wanted_args(ir: &dagf_ir::Project) -> Vec<String> {
    let names: BTreeSet<&str> = ir
        .dags
        .iter()
        .flat_map(|d| d.tasks())
        .flat_map(|t| t.args.iter())
        .filter(|a| plain(&a.value).is_some())
        .map(|a| a.name.as_str())
        .collect();
    names.into_iter().map(str::to_string).collect()
}

/// A value Python holds as the same `str`, `int` or `bool`.
fn plain(v: &dagf_ir::Value) -> Option<Json> {
    match v {
        dagf_ir::Value::Str(s) => Some(Json::from(s.as_str())),
        dagf_ir::Value::Int(i) => Some(Json::from(*i)),
        dagf_ir::Value::Bool(b) => Some(Json::from(*b)),
        _ => None,
    }
}

/// Every difference between the dags dagfc made and what Airflow loaded, each at the
/// `.dagf` span of the dag (or task) it is about.
pub fn compare(ir: &dagf_ir::Project, files: &[dagf_ir::Built], loaded: &Json) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let path_of = |b: &dagf_ir::Built| match b.folder.as_str() {
        "" => b.file.clone(),
        dir => format!("{dir}/{}", b.file),
    };
    let by_file: BTreeMap<String, &dagf_ir::Built> = files
        .iter()
        .filter(|b| !b.dag_id.is_empty())
        .map(|b| (path_of(b), b))
        .collect();
    let empty = serde_json::Map::new();
    let errors = loaded["import_errors"].as_object().unwrap_or(&empty);
    let mut failed_files = BTreeSet::new();
    for (file, error) in errors {
        let error = error.as_str().unwrap_or("");
        let last = error
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        let d = match by_file.get(file.as_str()) {
            Some(b) => {
                failed_files.insert(file.clone());
                Diagnostic::at(
                    Code::E0709,
                    b.span,
                    format!(
                        "Airflow cannot import `{file}`, the file of dag `{}`: {last}",
                        b.dag_id
                    ),
                    "this dag's file does not import",
                )
            }
            None => Diagnostic::new(
                Code::E0709,
                format!("Airflow cannot import `{file}`: {last}"),
            ),
        };
        out.push(
            d.with_note(excerpt(error))
                .with_help("a module the file imports must be importable where Airflow runs: put the project's modules on `[python] path` in dagf.toml and deploy them with the dags"),
        );
    }
    let dags = loaded["dags"].as_object().unwrap_or(&empty);
    for dag in &ir.dags {
        let file = files
            .iter()
            .find(|b| b.dag_id == dag.dag_id)
            .map(path_of)
            .unwrap_or_default();
        if failed_files.contains(&file) {
            continue;
        }
        let Some(got) = dags.get(&dag.dag_id) else {
            out.push(
                Diagnostic::at(
                    Code::E0709,
                    dag.span,
                    format!("Airflow found no dag `{}` in `{file}`", dag.dag_id),
                    "not loaded by Airflow",
                )
                .with_help("build the folder again (`dagfc build`), or verify a fresh build by leaving --out out"),
            );
            continue;
        };
        if let Some(e) = got["error"].as_str() {
            out.push(
                Diagnostic::at(
                    Code::E0709,
                    dag.span,
                    format!("Airflow cannot store dag `{}`: {e}", dag.dag_id),
                    "fails in serialization",
                )
                .with_help("the scheduler stores every dag in its serialized form; a value it cannot serialize must change"),
            );
            continue;
        }
        out.extend(compare_dag(dag, got));
    }
    out
}

/// The differences in one dag: its tasks, their classes and plain arguments, and
/// which task reaches which.
fn compare_dag(dag: &dagf_ir::Dag, got: &Json) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let null = Json::Null;
    let tasks = &got["tasks"];
    let airflow_ids: BTreeSet<String> = tasks
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let ours: BTreeSet<String> = dag.tasks().map(|t| t.task_id.clone()).collect();
    let extra: Vec<&String> = airflow_ids.difference(&ours).collect();
    if !extra.is_empty() {
        out.push(
            Diagnostic::at(
                Code::E0709,
                dag.span,
                format!(
                    "Airflow's dag `{}` has tasks dagfc did not make: {}",
                    dag.dag_id,
                    list(&extra)
                ),
                "loaded with other tasks",
            )
            .with_help("the folder holds an older build or a file that adds tasks: build it again"),
        );
    }
    for task in dag.tasks() {
        let Some(t) = tasks.get(&task.task_id) else {
            out.push(
                Diagnostic::at(
                    Code::E0709,
                    task.span,
                    format!(
                        "Airflow's dag `{}` has no task `{}`",
                        dag.dag_id, task.task_id
                    ),
                    "missing in Airflow",
                )
                .with_help("the folder holds an older build: build it again"),
            );
            continue;
        };
        let class = t["class"].as_str().unwrap_or("");
        let name = class.rsplit('.').next().unwrap_or(class);
        let decorated = name.contains("Decorated");
        if !decorated && name != task.op.class {
            out.push(
                Diagnostic::at(
                    Code::E0709,
                    task.span,
                    format!(
                        "Airflow made task `{}` a `{name}`, not a `{}`",
                        task.task_id, task.op.class
                    ),
                    "another operator class in Airflow",
                )
                .with_help("build the folder again"),
            );
            continue;
        }
        if decorated {
            continue;
        }
        for arg in &task.args {
            let (Some(want), Some(have)) = (plain(&arg.value), t["args"].get(&arg.name)) else {
                continue;
            };
            if *have != want && have != &null && same_kind(have, &want) {
                out.push(
                    Diagnostic::at(
                        Code::E0709,
                        arg.origin,
                        format!(
                            "Airflow has `{}` of task `{}` as {have}, not {want}",
                            arg.name, task.task_id
                        ),
                        "Airflow holds another value",
                    )
                    .with_help("the folder holds an older build, or the operator changes the argument when it is made: build again, or write the value the operator keeps"),
                );
            }
        }
    }
    // Which task runs before which: the same orders, however the edges are written.
    let reach = |edges: &[(String, String)]| {
        let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (a, b) in edges {
            next.entry(a).or_default().push(b);
        }
        let mut all = BTreeSet::new();
        for start in next.keys() {
            let mut stack = vec![*start];
            let mut seen = BTreeSet::new();
            while let Some(n) = stack.pop() {
                for m in next.get(n).into_iter().flatten() {
                    if seen.insert(*m) {
                        all.insert((start.to_string(), m.to_string()));
                        stack.push(m);
                    }
                }
            }
        }
        all
    };
    let ours: Vec<(String, String)> = dag
        .edges()
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let theirs: Vec<(String, String)> = tasks
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(id, t)| {
            t["downstream"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .map(|d| (id.clone(), d.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    // A task missing on one side is reported above, not again through its edges.
    let both = |pairs: BTreeSet<(String, String)>| -> BTreeSet<(String, String)> {
        pairs
            .into_iter()
            .filter(|(x, y)| {
                [x, y]
                    .iter()
                    .all(|t| airflow_ids.contains(*t) && dag.task_index(t).is_some())
            })
            .collect()
    };
    let (a, b) = (both(reach(&ours)), both(reach(&theirs)));
    if a != b && extra.is_empty() {
        let missing: Vec<String> = a
            .difference(&b)
            .map(|(x, y)| format!("{x} >> {y}"))
            .collect();
        let added: Vec<String> = b
            .difference(&a)
            .map(|(x, y)| format!("{x} >> {y}"))
            .collect();
        let mut parts = Vec::new();
        if !missing.is_empty() {
            parts.push(format!("missing {}", list(&missing)));
        }
        if !added.is_empty() {
            parts.push(format!("added {}", list(&added)));
        }
        out.push(
            Diagnostic::at(
                Code::E0709,
                dag.span,
                format!(
                    "Airflow's dag `{}` orders its tasks differently: {}",
                    dag.dag_id,
                    parts.join("; ")
                ),
                "other dependencies in Airflow",
            )
            .with_help("build the folder again"),
        );
    }
    out
}

fn same_kind(a: &Json, b: &Json) -> bool {
    matches!(
        (a, b),
        (Json::String(_), Json::String(_))
            | (Json::Number(_), Json::Number(_))
            | (Json::Bool(_), Json::Bool(_))
    )
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let shown: Vec<String> = items.iter().take(5).map(|i| format!("`{i}`")).collect();
    match items.len() {
        n if n > 5 => format!("{} and {} more", shown.join(", "), n - 5),
        _ => shown.join(", "),
    }
}

/// `--run`: a metadata database migrated in the temporary home, then `airflow dags
/// test` for each named dag; a run that fails is an error at the dag.
fn run_dags(
    printer: &Printer,
    env: &PyEnv,
    ir: &dagf_ir::Project,
    runs: &[String],
    home: &crate::airflow::Home,
    folder: &Path,
) -> Vec<Diagnostic> {
    use crate::airflow::SetupError;
    let mut out = Vec::new();
    printer.note("airflow db migrate");
    let timeout = env.timeout.max(crate::airflow::RUN_TIMEOUT);
    match home.prepare(env, folder, timeout) {
        Ok(()) => {}
        Err(SetupError::Python(d)) => return vec![*d],
        Err(SetupError::Pools(text)) => {
            return vec![
                Diagnostic::new(Code::E0709, "`airflow pools import` failed".to_string())
                    .with_note(format!("airflow pools import\n{text}")),
            ];
        }
        Err(SetupError::Migrate(text) | SetupError::NoAirflow(text)) => {
            return vec![
                Diagnostic::new(
                    Code::E0709,
                    "`airflow db migrate` failed, so no dag could run".to_string(),
                )
                .with_note(format!("airflow db migrate\n{text}"))
                .with_help("run the command with the project's interpreter to see the problem"),
            ];
        }
    }
    for dag_id in runs {
        let Some(dag) = ir.dags.iter().find(|d| &d.dag_id == dag_id) else {
            continue;
        };
        printer.note(&format!("airflow dags test {dag_id}"));
        match home.run_dag(env, folder, dag_id, timeout) {
            Ok(o) if o.state.as_deref() == Some("success") => {}
            Ok(o) => {
                let failed: Vec<&str> = o
                    .tasks
                    .iter()
                    .filter(|(_, states)| states.iter().any(|s| s == "failed"))
                    .map(|(id, _)| id.as_str())
                    .collect();
                let why = match (&o.error, failed.as_slice()) {
                    (_, [_, ..]) => format!("failed tasks: {}", list(&failed)),
                    (Some(e), []) => e.clone(),
                    (None, []) => "the run did not succeed".to_string(),
                };
                out.push(
                    Diagnostic::at(
                        Code::E0709,
                        dag.span,
                        format!("`airflow dags test {dag_id}` failed: {why}"),
                        "this dag's run failed",
                    )
                    .with_note(format!("the run's last lines:\n{}", o.log))
                    .with_help("a task failed: its log lines above say why"),
                )
            }
            Err(d) => out.push(*d),
        }
    }
    out
}
