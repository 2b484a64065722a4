//! The examples: each builds, twice to the same bytes; its Python matches the reviewed
//! snapshots under tests/codegen; and real Apache Airflow 3.3 (in a virtual environment
//! this test creates) loads, serializes and runs it with the same tasks and edges as the
//! compiler's IR, while ruff finds nothing to change.

mod common;

use common::{repo, venv_python};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("dagf.toml").is_file())
        .collect();
    out.sort();
    assert!(
        out.len() >= 5,
        "expected at least five example projects, found {out:?}"
    );
    out
}

/// The port of the configuration API the catalog's API-driven example (101.2.5) reads.
const CATALOG_API_PORT: u16 = 8765;

/// Serves `examples/catalog/api/` on 127.0.0.1, as the example's API, for as long as
/// the tests run (started once, before the first build).
fn catalog_api() {
    static STARTED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    STARTED.get_or_init(|| {
        use std::io::{BufRead, BufReader, Write};
        let listener = std::net::TcpListener::bind(("127.0.0.1", CATALOG_API_PORT))
            .unwrap_or_else(|e| {
                panic!("cannot serve the catalog's example API on 127.0.0.1:{CATALOG_API_PORT} ({e}); the API-driven example (101.2.5) reads it: free the port")
            });
        let root = repo().join("examples/catalog/api");
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut request = String::new();
                {
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut request).is_err() {
                        continue;
                    }
                    // Headers end with an empty line.
                    let mut line = String::new();
                    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                        line.clear();
                    }
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/");
                let file = root.join(path.trim_start_matches('/'));
                let safe = !path.contains("..");
                let (status, body) = match std::fs::read(&file) {
                    Ok(b) if safe && file.is_file() => ("200 OK", b),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
    });
}

fn dagfc(project: &Path, args: &[&str]) -> std::process::Output {
    catalog_api();
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(args)
        .arg("--color")
        .arg("never")
        .arg("--project")
        .arg(project)
        .output()
        .expect("run dagfc")
}

/// Builds an example into `out` and returns its files (name, text), sorted.
fn build(example: &Path, out: &Path) -> Vec<(String, String)> {
    build_with(example, out, &[])
}

fn build_with(example: &Path, out: &Path, extra: &[&str]) -> Vec<(String, String)> {
    let mut args = vec!["build", "--out", out.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    let run = dagfc(example, &args);
    assert!(
        run.status.success(),
        "{} failed to build:\n{}",
        example.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.stderr.is_empty() || String::from_utf8_lossy(&run.stderr).contains("0 warnings"));
    let mut files = Vec::new();
    python_files(out, out, &mut files);
    files.sort();
    files
}

/// Every generated `.py` file under `dir` (tenants' subfolders too), as
/// (`/`-separated path relative to `root`, text).
fn python_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).expect("output folder") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            python_files(&path, root, out);
        } else if path.extension().is_some_and(|x| x == "py") {
            let rel = path.strip_prefix(root).expect("inside");
            let rel = rel.to_string_lossy().replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).expect("read output")));
        }
    }
}

/// A snapshot's name for a generated file: its path, with folders joined by `-`.
fn snapshot_name(example: &Path, file: &str) -> String {
    format!(
        "{}__{}",
        name(example),
        file.trim_end_matches(".py").replace('/', "-")
    )
}

fn name(example: &Path) -> String {
    example
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn examples_build_deterministically_and_match_snapshots() {
    for example in examples() {
        let (a, b) = (
            tempfile::tempdir().expect("tmp"),
            tempfile::tempdir().expect("tmp"),
        );
        let first = build(&example, &a.path().join("dags"));
        let second = build(&example, &b.path().join("dags"));
        assert!(!first.is_empty(), "{} produced no files", example.display());
        assert_eq!(first, second, "{} is not deterministic", example.display());
        for (file, text) in &first {
            assert!(
                text.starts_with("# Generated by dagfc from src/"),
                "{file} lacks the header"
            );
            for line in text.lines().filter(|l| l.starts_with("from ")) {
                let module = line.split_whitespace().nth(1).unwrap_or("");
                assert!(
                    module.starts_with("airflow.sdk")
                        || module.starts_with("airflow.providers.")
                        || module == "datetime"
                        || !module.starts_with("airflow"),
                    "{file} imports from {module}, outside airflow.sdk and the providers"
                );
            }
            insta::with_settings!({
                snapshot_path => repo().join("tests/codegen"),
                prepend_module_to_snapshot => false,
                omit_expression => true,
            }, {
                insta::assert_snapshot!(snapshot_name(&example, file), text);
            });
        }
        // The catalog in the other output style too, reviewed the same way.
        if name(&example) == "catalog" {
            let c = tempfile::tempdir().expect("tmp");
            for (file, text) in
                build_with(&example, &c.path().join("dags"), &["--style", "taskflow"])
            {
                insta::with_settings!({
                    snapshot_path => repo().join("tests/codegen/taskflow"),
                    prepend_module_to_snapshot => false,
                    omit_expression => true,
                }, {
                    insta::assert_snapshot!(snapshot_name(&example, &file), text);
                });
            }
        }
    }
}

/// Runs `dagfc` on each `.dagf` file of `examples/catalog/FOLDER`, alone in a fresh
/// project (with the catalog source `companion` beside it, if any), and checks that it
/// exits with `status` and reports exactly the codes its first line lists after
/// `prefix` (`// expect: error ` or `// expect: warning `). Returns how many cases ran.
fn catalog_cases(folder: &str, prefix: &str, companion: Option<&str>, status: i32) -> usize {
    let catalog = repo().join("examples/catalog");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(catalog.join(folder))
        .expect("case folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "dagf"))
        .collect();
    cases.sort();
    for case in &cases {
        let text = std::fs::read_to_string(case).expect("read case");
        let mut expected: Vec<String> = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix(prefix))
            .expect("first line states the expected codes")
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let dir = tempfile::tempdir().expect("tmp");
        let src = dir.path().join("src");
        std::fs::create_dir(&src).expect("src");
        std::fs::write(dir.path().join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
        if let Some(name) = companion {
            std::fs::copy(catalog.join("src").join(name), src.join(name)).expect("copy");
        }
        std::fs::write(src.join(case.file_name().expect("name")), &text).expect("write");
        let run = dagfc(dir.path(), &["build", "--message-format", "json"]);
        assert_eq!(run.status.code(), Some(status), "{}", case.display());
        let mut codes: Vec<String> = String::from_utf8_lossy(&run.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["code"].as_str().map(str::to_string))
            .collect();
        codes.sort();
        expected.sort();
        assert_eq!(codes, expected, "{}", case.display());
    }
    cases.len()
}

/// The broken configurations of catalog entry 101.5.2 fail with the codes they state.
#[test]
fn invalid_catalog_configs_fail_with_their_codes() {
    let companion = "101_05_02_configuration_validation.dagf";
    let n = catalog_cases("invalid", "// expect: error ", Some(companion), 1);
    assert!(n >= 3);
}

/// The bad forms of the anti-pattern entries (101.6.x) build, with exactly the
/// warnings their first line states; each is checked alone.
#[test]
fn catalog_antipatterns_warn_with_their_codes() {
    let n = catalog_cases("antipatterns", "// expect: warning ", None, 0);
    assert_eq!(n, 3, "one bad form per anti-pattern entry");
}

/// `dagfc build --emit ir` edges and tasks, as (task ids, edges, operator classes).
type Shape = (
    BTreeSet<String>,
    BTreeSet<(String, String)>,
    BTreeSet<(String, String)>,
);

fn ir_shapes(example: &Path) -> std::collections::BTreeMap<String, Shape> {
    let run = dagfc(example, &["build", "--emit", "ir"]);
    assert!(run.status.success());
    let mut out = std::collections::BTreeMap::new();
    let mut current: Option<String> = None;
    for line in String::from_utf8_lossy(&run.stdout).lines() {
        if let Some(rest) = line.strip_prefix("dag ") {
            let id = rest.split_whitespace().next().expect("dag id").to_string();
            out.insert(id.clone(), Shape::default());
            current = Some(id);
        } else if let (Some(rest), Some(id)) = (line.strip_prefix("  task "), &current) {
            let task = rest.split(':').next().expect("task id").to_string();
            let class = rest.rsplit('.').next().expect("class").to_string();
            let shape = out.get_mut(id).expect("dag");
            shape.0.insert(task.clone());
            shape.2.insert((task, class));
        } else if let (Some(id), true) = (
            &current,
            line.starts_with("  ") && !line.starts_with("    ") && line.contains(" >> "),
        ) {
            let (a, b) = line.trim().split_once(" >> ").expect("edge");
            out.get_mut(id)
                .expect("dag")
                .1
                .insert((a.to_string(), b.to_string()));
        }
    }
    out
}

#[test]
fn airflow_loads_serializes_and_runs_every_example() {
    let python = venv_python();
    let bin = python.parent().expect("bin").to_path_buf();
    for example in examples() {
        let tmp = tempfile::tempdir().expect("tmp");
        let dags = tmp.path().join("dags");
        let files = build(&example, &dags);

        // ruff: lint-clean and already formatted, exactly as generated.
        for args in [&["check"][..], &["format", "--check"][..]] {
            let run = Command::new(bin.join("ruff"))
                .args(args)
                .args(["--isolated", "--no-cache", "--target-version", "py310", "."])
                .current_dir(&dags)
                .output()
                .expect("run ruff");
            assert!(
                run.status.success(),
                "ruff {args:?} on {}:\n{}{}",
                name(&example),
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
        }

        let conf = std::fs::read_to_string(example.join("conformance.toml")).unwrap_or_default();
        let conf: toml::Table = toml::from_str(&conf).expect("conformance.toml");
        let pythonpath = conf
            .get("pythonpath")
            .and_then(|v| v.as_str())
            .map(|p| example.join(p))
            .unwrap_or_else(|| example.clone());
        let runs: Vec<String> = conf
            .get("run")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let env = connections(&conf, tmp.path());
        let json = conform(&python, &dags, &pythonpath, &runs, &env, files.len());
        check_outcomes(&python, &conf, tmp.path());

        // Tags, access control, pools and asset schedules reach the scheduler as written.
        policies_as_written(&example, &json);

        // Airflow sees exactly the DAGs, tasks, operators and edges of the IR.
        let ir = ir_shapes(&example);
        let airflow_ids: BTreeSet<String> = json["dags"]
            .as_object()
            .expect("dags")
            .keys()
            .cloned()
            .collect();
        assert_eq!(
            airflow_ids,
            ir.keys().cloned().collect(),
            "{}",
            name(&example)
        );
        for (id, (tasks, edges, classes)) in &ir {
            let dag = &json["dags"][id];
            let a_tasks: BTreeSet<String> = dag["task_ids"]
                .as_array()
                .expect("task_ids")
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let a_edges: BTreeSet<(String, String)> = dag["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .filter_map(|e| Some((e[0].as_str()?.to_string(), e[1].as_str()?.to_string())))
                .collect();
            let a_classes: BTreeSet<(String, String)> = dag["tasks"]
                .as_object()
                .expect("tasks")
                .iter()
                .map(|(t, v)| (t.clone(), v["operator"].as_str().unwrap_or("").to_string()))
                .collect();
            // A Python callable in a TaskFlow file is a `@task`: Airflow's decorated
            // subclass of the operator the IR names.
            let taskflow = files.iter().any(|(n, text)| {
                n.rsplit('/').next() == Some(format!("{id}.py").as_str()) && text.contains("@dag(")
            });
            let classes: BTreeSet<(String, String)> = classes
                .iter()
                .map(|(t, c)| {
                    let c = match c.as_str() {
                        "PythonOperator" if taskflow => "_PythonDecoratedOperator",
                        "BranchPythonOperator" if taskflow => "_BranchPythonDecoratedOperator",
                        "ShortCircuitOperator" if taskflow => "_ShortCircuitDecoratedOperator",
                        c => c,
                    };
                    (t.clone(), c.to_string())
                })
                .collect();
            assert_eq!(&a_tasks, tasks, "tasks of {id}");
            assert_eq!(&a_edges, edges, "edges of {id}");
            assert_eq!(a_classes, classes, "operators of {id}");
        }
    }
}

/// Every field the standard library declares is a keyword argument the real Airflow
/// class accepts: operator and sensor fields, the task and sensor arguments, and the
/// DAG's (under their Python names).
#[test]
fn standard_library_matches_airflow_signatures() {
    use dagf_syntax::ast::{Item, TypeKind};
    let (module, diags) = dagf_syntax::parse(dagf_sema::STD_SOURCE, dagf_diag::FileId(0));
    assert!(diags.is_empty());
    let mut checks = Vec::new();
    for item in &module.items {
        match item {
            Item::Operator(op) => checks.push(serde_json::json!({
                "what": op.name.name,
                "class": op.class,
                "fields": op.fields.iter().map(|f| f.name.name.clone()).collect::<Vec<_>>(),
            })),
            Item::TypeDecl(t) => {
                let class = match t.name.name.as_str() {
                    "TaskArgs" => "airflow.sdk.BaseOperator",
                    "SensorArgs" => "airflow.sdk.BaseSensorOperator",
                    "DagArgs" => "airflow.sdk.DAG",
                    _ => continue,
                };
                let TypeKind::Record(fields) = &t.ty.kind else {
                    panic!("{} is a record", t.name.name)
                };
                let python_name = |n: &str| match n {
                    "start" => "start_date".to_string(),
                    "end" => "end_date".to_string(),
                    "doc" => "doc_md".to_string(),
                    other => other.to_string(),
                };
                checks.push(serde_json::json!({
                    "what": t.name.name,
                    "class": class,
                    "fields": fields.iter().map(|f| python_name(&f.name.name)).collect::<Vec<_>>(),
                }));
            }
            _ => {}
        }
    }
    assert!(
        checks.len() >= 19,
        "operators, sensors and the three argument records"
    );
    let script = r#"
import importlib, inspect, json, sys

def accepted(cls):
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            names |= set(inspect.signature(init).parameters)
        except (TypeError, ValueError):
            pass
    return names - {"self", "args", "kwargs"}

problems = []
for check in json.load(sys.stdin):
    module, _, name = check["class"].rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    missing = [f for f in check["fields"] if f not in accepted(cls)]
    if missing:
        problems.append(f"{check['what']} ({check['class']}): {missing}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
"#;
    let mut child = Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run python");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::Value::Array(checks).to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "fields Airflow does not accept:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The Airflow connections an example's `conformance.toml` defines under
/// `[connections]`, as `AIRFLOW_CONN_*` variables holding Airflow's JSON form;
/// `{tmp}` in a value stands for a fresh folder, so a SQLite database starts empty.
fn connections(conf: &toml::Table, tmp: &Path) -> Vec<(String, String)> {
    let Some(table) = conf.get("connections").and_then(|c| c.as_table()) else {
        return Vec::new();
    };
    table
        .iter()
        .map(|(id, fields)| {
            let fields = fields.as_table().expect("a connection is a table");
            let json: serde_json::Map<String, serde_json::Value> = fields
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().expect("connection fields are strings");
                    let v = v.replace("{tmp}", &tmp.display().to_string());
                    (k.clone(), serde_json::Value::String(v))
                })
                .collect();
            (
                format!("AIRFLOW_CONN_{}", id.to_uppercase()),
                serde_json::Value::Object(json).to_string(),
            )
        })
        .collect()
}

/// The example's IR, checked in process (what `dagfc build` generates from).
fn ir_project(example: &Path) -> dagf_ir::Project {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "dagf") {
                let rel = p.strip_prefix(root).expect("inside");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut files = Vec::new();
    walk(&example.join("src"), example, &mut files);
    files.sort();
    // The environment a plain `dagfc build` chooses: the project's default.
    let project: toml::Table = std::fs::read_to_string(example.join("dagf.toml"))
        .expect("dagf.toml")
        .parse()
        .expect("toml");
    let env = project["project"]
        .get("default_env")
        .and_then(|e| e.as_str())
        .map(str::to_string);
    let options = dagf_sema::Options {
        env,
        ..Default::default()
    };
    let checked = dagf_sema::check(&files, &dagf_io::DiskLoader { root: example }, &options);
    checked.project.expect("the example compiles")
}

fn ir_json(v: &dagf_ir::Value) -> serde_json::Value {
    use dagf_ir::Value as I;
    match v {
        I::Str(s) => serde_json::json!(s),
        I::List(xs) => serde_json::Value::Array(xs.iter().map(ir_json).collect()),
        I::Dict(kv) => {
            serde_json::Value::Object(kv.iter().map(|(k, v)| (k.clone(), ir_json(v))).collect())
        }
        other => serde_json::json!(format!("{other:?}")),
    }
}

fn ir_assets(v: &dagf_ir::Value, out: &mut BTreeSet<String>) {
    use dagf_ir::Value as I;
    match v {
        I::Asset { uri, .. } => {
            out.insert(uri.clone());
        }
        I::List(xs) | I::AssetAll(xs) | I::AssetAny(xs) => {
            xs.iter().for_each(|x| ir_assets(x, out))
        }
        _ => {}
    }
}

/// For every dag: Airflow's tags, access control, task pools and schedule assets are
/// the ones the source sets (tenant policies included).
fn policies_as_written(example: &Path, json: &serde_json::Value) {
    for dag in ir_project(example).dags {
        let a = &json["dags"][&dag.dag_id];
        let mut tags: Vec<serde_json::Value> = dag
            .arg("tags")
            .map(|f| match ir_json(&f.value) {
                serde_json::Value::Array(xs) => xs,
                _ => vec![],
            })
            .unwrap_or_default();
        tags.sort_by_key(|t| t.to_string());
        tags.dedup();
        assert_eq!(
            a["tags"],
            serde_json::Value::Array(tags),
            "tags of {}",
            dag.dag_id
        );
        let mut access = dag
            .arg("access_control")
            .map(|f| ir_json(&f.value))
            .unwrap_or_else(|| serde_json::json!({}));
        // Actions are a set to Airflow: compare them sorted.
        for resources in access
            .as_object_mut()
            .into_iter()
            .flat_map(|r| r.values_mut())
        {
            for actions in resources
                .as_object_mut()
                .into_iter()
                .flat_map(|r| r.values_mut())
            {
                if let Some(list) = actions.as_array_mut() {
                    list.sort_by_key(|a| a.to_string());
                }
            }
        }
        assert_eq!(
            a["access_control"], access,
            "access_control of {}",
            dag.dag_id
        );
        let mut assets = BTreeSet::new();
        if let Some(f) = dag.arg("schedule") {
            ir_assets(&f.value, &mut assets);
        }
        let want: Vec<&String> = assets.iter().collect();
        assert_eq!(
            a["schedule_assets"],
            serde_json::json!(want),
            "schedule of {}",
            dag.dag_id
        );
        let dag_pool = dag.default_args.iter().find(|f| f.name == "pool");
        for task in dag.tasks() {
            let pool = match task.arg("pool").or(dag_pool).map(|f| &f.value) {
                Some(dagf_ir::Value::Str(p)) => p.clone(),
                _ => "default_pool".to_string(),
            };
            assert_eq!(
                a["tasks"][&task.task_id]["pool"],
                serde_json::json!(pool),
                "pool of {}.{}",
                dag.dag_id,
                task.task_id
            );
        }
    }
}

/// The `[[outcome]]` checks of `conformance.toml`: after the runs, each query on a
/// SQLite file returns exactly the rows written there.
fn check_outcomes(python: &Path, conf: &toml::Table, tmp: &Path) {
    let outcomes = conf.get("outcome").and_then(|o| o.as_array());
    for o in outcomes.into_iter().flatten() {
        let field = |k: &str| o.get(k).unwrap_or_else(|| panic!("an outcome has `{k}`"));
        let db = field("database")
            .as_str()
            .expect("database is a path")
            .replace("{tmp}", &tmp.display().to_string());
        let query = field("query").as_str().expect("query is text");
        let want = serde_json::to_value(field("rows")).expect("rows");
        let script = "import json, sqlite3, sys\n\
                      rows = sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchall()\n\
                      print(json.dumps([list(r) for r in rows]))";
        let run = Command::new(python)
            .args(["-c", script, &db, query])
            .output()
            .expect("run python");
        assert!(
            run.status.success(),
            "{query} on {db}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let got: serde_json::Value = serde_json::from_slice(&run.stdout).expect("rows as json");
        assert_eq!(got, want, "{query} on {db}");
    }
}

/// Runs the conformance script on a folder of `expected` generated files (and
/// `airflow dags test` on `runs`); returns its JSON summary.
fn conform(
    python: &Path,
    dags: &Path,
    pythonpath: &Path,
    runs: &[String],
    env: &[(String, String)],
    expected: usize,
) -> serde_json::Value {
    let summary = dags.with_extension("summary.json");
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/airflow/conformance.py"))
        .arg("--dags")
        .arg(dags)
        .arg("--json")
        .arg(&summary)
        .env("PYTHONPATH", pythonpath)
        .envs(env.iter().cloned());
    for r in runs {
        cmd.arg("--run").arg(r);
    }
    let run = cmd.output().expect("run conformance.py");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "Airflow rejected {}:\n{stdout}\n{}",
        dags.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        stdout.contains(&format!("conformance: {expected} passed, 0 failed")),
        "{}: {stdout}",
        dags.display()
    );
    serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json")
}

/// The DAG as Airflow has it, less what differs by construction between the styles
/// (the operator class of a `@task`, and its serialized form).
fn structure(dag: &serde_json::Value) -> serde_json::Value {
    let mut dag = dag.clone();
    if let Some(obj) = dag.as_object_mut() {
        obj.remove("file");
    }
    if let Some(tasks) = dag.get_mut("tasks").and_then(|t| t.as_object_mut()) {
        for task in tasks.values_mut() {
            if let Some(t) = task.as_object_mut() {
                let kwargs = t
                    .get("serialized")
                    .and_then(|s| s.get("op_kwargs"))
                    .cloned();
                t.retain(|k, _| {
                    !matches!(k.as_str(), "operator" | "operator_module" | "serialized")
                });
                t.insert(
                    "op_kwargs".into(),
                    kwargs.unwrap_or(serde_json::Value::Null),
                );
            }
        }
    }
    dag
}

/// Classic and TaskFlow output of every example load in Airflow as the same DAGs:
/// same ids, tasks, groups, edges, schedules, arguments; a TaskFlow DAG also runs.
#[test]
fn classic_and_taskflow_styles_give_the_same_dags() {
    let python = venv_python();
    for example in examples() {
        let tmp = tempfile::tempdir().expect("tmp");
        let pythonpath = example.join("python");
        let (classic, taskflow) = (tmp.path().join("classic"), tmp.path().join("taskflow"));
        let n = build_with(&example, &classic, &["--style", "classic"]).len();
        let files = build_with(&example, &taskflow, &["--style", "taskflow"]);
        assert!(
            files.iter().all(|(_, text)| text.contains("@dag(")),
            "{}",
            name(&example)
        );
        let runs: Vec<String> = if name(&example) == "hello" {
            vec!["hello".into()]
        } else {
            vec![]
        };
        let a = conform(&python, &classic, &pythonpath, &[], &[], n);
        let b = conform(&python, &taskflow, &pythonpath, &runs, &[], files.len());
        let ids: Vec<&String> = a["dags"].as_object().expect("dags").keys().collect();
        assert!(!ids.is_empty());
        for id in ids {
            let (classic, mut taskflow) = (structure(&a["dags"][id]), structure(&b["dags"][id]));
            // A `@task` takes its function's docstring as its doc_md: keep that only
            // where the classic task has a doc_md of its own.
            if let Some(tasks) = taskflow["tasks"].as_object_mut() {
                for (t, task) in tasks.iter_mut() {
                    if classic["tasks"][t]["doc_md"].is_null() {
                        task["doc_md"] = serde_json::Value::Null;
                    }
                }
            }
            assert_eq!(classic, taskflow, "{id} differs between the styles");
        }
    }
}

/// `dagfc schema` prints a JSON Schema that real config files pass and broken ones
/// fail: the YAML pipelines of catalog entry 101.2.1 are checked against the schema of
/// their type with the `jsonschema` and `yaml` packages of the Airflow environment
/// (both are dependencies of Airflow itself).
#[test]
fn example_configs_validate_against_the_printed_schema() {
    let python = venv_python();
    let catalog = repo().join("examples/catalog");
    let run = dagfc(&catalog, &["schema", "PipelineSpec"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let tmp = tempfile::tempdir().expect("tmp");
    let schema = tmp.path().join("schema.json");
    std::fs::write(&schema, &run.stdout).expect("write schema");
    let script = r#"
import json, sys, pathlib, yaml, jsonschema
schema = json.loads(pathlib.Path(sys.argv[1]).read_text())
validator = jsonschema.Draft202012Validator(schema)
docs = [d for p in sorted(pathlib.Path(sys.argv[2]).glob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())]
bad = dict(docs[0], shedule="@daily")
print(json.dumps({
    "checked": len(docs),
    "errors": [e.message for d in docs for e in validator.iter_errors(d)],
    "broken_rejected": not validator.is_valid(bad),
}))
"#;
    let out = Command::new(&python)
        .args(["-c", script])
        .arg(&schema)
        .arg(catalog.join("src/configs/pipelines"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(result["checked"], 3, "{result}");
    assert_eq!(result["errors"], serde_json::json!([]), "{result}");
    assert_eq!(result["broken_rejected"], true, "{result}");

    // A factory's schema is the object of its parameters.
    let run = dagfc(&catalog, &["schema", "from_spec"]);
    let factory: serde_json::Value = serde_json::from_slice(&run.stdout).expect("json");
    // Required unless the document extends a base, which may give them.
    assert_eq!(
        factory["else"]["required"],
        serde_json::json!(["spec"]),
        "{factory}"
    );
    assert_eq!(factory["if"]["required"], serde_json::json!(["extends"]));
    assert_eq!(
        factory["properties"]["spec"]["title"], "PipelineSpec",
        "{factory}"
    );

    // A name that is neither a type nor a factory is a user error with a suggestion.
    let run = dagfc(&catalog, &["schema", "PipelineSpc"]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("did you mean `PipelineSpec`?"));
}
