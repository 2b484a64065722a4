//! `dagfc ls`, `inspect` and `graph` on the catalog: the list agrees with the build,
//! filters filter, an inspected dag lists every task the list counts, and each
//! drawing names every task and edge of the IR.

mod common;

use common::dagfc_catalog as dagfc;
use common::repo;
use std::collections::BTreeMap;
use std::process::{Command, Output};

fn stdout(run: &Output) -> String {
    assert!(
        run.status.success(),
        "dagfc failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

/// Every dag of the catalog as `ls --format json` lists it, by id.
fn listed(extra: &[&str]) -> BTreeMap<String, serde_json::Value> {
    let mut args = vec!["ls", "--format", "json"];
    args.extend_from_slice(extra);
    let rows: serde_json::Value = serde_json::from_str(&stdout(&dagfc(&args))).expect("JSON");
    rows.as_array()
        .expect("an array")
        .iter()
        .map(|r| (r["dag_id"].as_str().expect("dag_id").to_string(), r.clone()))
        .collect()
}

/// The tasks and edges of each dag in the IR `build --emit ir` prints.
fn ir_edges() -> BTreeMap<String, (usize, usize)> {
    let ir = stdout(&dagfc(&["build", "--emit", "ir"]));
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in ir.lines() {
        if let Some(rest) = line.strip_prefix("dag ") {
            let id = rest.split_whitespace().next().unwrap_or("").to_string();
            out.insert(id.clone(), (0, 0));
            current = Some(id);
        } else if let Some(id) = &current {
            let entry = out.get_mut(id).expect("current dag");
            let t = line.trim_start();
            if t.starts_with("task ") {
                entry.0 += 1;
            } else if !line.starts_with("   ") && t.contains(" >> ") {
                entry.1 += 1;
            }
        }
    }
    out
}

#[test]
fn ls_lists_what_the_build_builds_and_filters() {
    let all = listed(&[]);
    let check = dagfc(&["check", "--message-format", "json"]);
    let (_, summary) = common::json_messages(&check.stdout);
    assert_eq!(all.len() as u64, summary["dags"].as_u64().expect("dags"));
    let ir = ir_edges();
    assert_eq!(all.len(), ir.len());
    for (id, row) in &all {
        assert_eq!(
            row["tasks"].as_u64(),
            Some(ir[id].0 as u64),
            "tasks of {id}"
        );
        assert!(
            row["file"]
                .as_str()
                .expect("file")
                .ends_with(&format!("{id}.py"))
        );
        // Where the dag is declared: a source file, or the config text it came from, and a line.
        let source = row["source"].as_str().expect("source");
        let line = source.rsplit_once(':').map(|(_, l)| l.parse::<u32>());
        assert!(matches!(line, Some(Ok(n)) if n > 0), "{source}");
    }

    let acme = listed(&["--tenant", "acme"]);
    assert!(!acme.is_empty());
    assert!(acme.values().all(|r| r["tenant"] == "acme"));
    assert_eq!(
        acme.len(),
        all.values().filter(|r| r["tenant"] == "acme").count()
    );
    let some = listed(&["101_03_*"]);
    assert_eq!(some.len(), 5);
    assert!(some.keys().all(|k| k.starts_with("101_03_")));

    let table = stdout(&dagfc(&["ls", "101_03_*"]));
    assert_eq!(table.lines().count(), 6, "a header and five rows:\n{table}");
    assert!(table.starts_with("DAG "));
}

#[test]
fn inspect_shows_every_task_and_where_its_values_come_from() {
    let id = "101_03_02_taskgroup_template_factory";
    let text = stdout(&dagfc(&["inspect", id]));
    let tasks = listed(&[id])[id]["tasks"].as_u64().expect("tasks");
    assert!(text.contains(&format!("tasks ({tasks}):")), "{text}");
    // After the `tasks` line, each task's own line is indented by two spaces.
    let after = text
        .split_once(&format!("tasks ({tasks}):\n"))
        .expect("tasks")
        .1;
    let own = after
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .count();
    assert_eq!(own as u64, tasks);
    // A value a task template set names the template and the line.
    assert!(text.contains(
        "set by the template `quality_checks` at src/101_03_02_taskgroup_template_factory.dagf:"
    ));

    let miss = dagfc(&["inspect", "101_03_02_taskgroup_template_factor"]);
    assert_eq!(miss.status.code(), Some(1));
    let err = String::from_utf8_lossy(&miss.stderr);
    assert!(
        err.contains("did you mean `101_03_02_taskgroup_template_factory`?"),
        "{err}"
    );
}

#[test]
fn every_drawing_names_every_task_and_edge() {
    let ir = ir_edges();
    for id in [
        "101_03_02_taskgroup_template_factory",
        "experiment_fraud",
        "acme__ingest",
    ] {
        let (tasks, edges) = ir[id];
        let svg = stdout(&dagfc(&["graph", id]));
        let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
        let boxes = doc
            .descendants()
            .filter(|n| n.attribute("class") == Some("task"))
            .count();
        let arrows = doc
            .descendants()
            .filter(|n| n.attribute("marker-end").is_some())
            .count();
        assert_eq!((boxes, arrows), (tasks, edges), "{id}");

        let dot = stdout(&dagfc(&["graph", id, "--format", "dot"]));
        assert_eq!(dot.matches(" -> ").count(), edges, "{id}");
        let mermaid = stdout(&dagfc(&["graph", id, "--format", "mermaid"]));
        assert_eq!(mermaid.matches(" --> ").count(), edges, "{id}");
    }
    let tmp = tempfile::tempdir().expect("tmp");
    let page = tmp.path().join("dag.html");
    let run = dagfc(&[
        "graph",
        "experiment_fraud",
        "--format",
        "html",
        "--out",
        page.to_str().expect("utf-8"),
    ]);
    assert!(run.status.success() && run.stdout.is_empty());
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg"));
}

/// The chapters whose ```` ```text ```` blocks that start with `$ dagfc ...` are that
/// command's output on the catalog, with how many each shows, and the pictures of the
/// book with the dag each draws.
const TRANSCRIPTS: &[(&str, usize)] = &[
    ("reference/inspection.md", 4),
    ("catalog/101-07-01-factory-debugging.md", 3),
    ("catalog/101-07-02-config-debugging.md", 2),
    ("catalog/101-07-03-dag-inspection.md", 2),
];
const PICTURES: &[&str] = &[
    "101_03_02_taskgroup_template_factory",
    "101_07_03_dag_inspection",
];

/// Whether `output` is what a chapter shows for a command: the same text, where a line
/// `...` stands for any lines (the parts between them appear in this order).
fn shows(shown: &str, output: &str) -> bool {
    if !shown.lines().any(|l| l == "...") {
        return shown == output;
    }
    let lines: Vec<&str> = output.lines().collect();
    let parts: Vec<Vec<&str>> = shown
        .lines()
        .collect::<Vec<_>>()
        .split(|l| *l == "...")
        .map(<[&str]>::to_vec)
        .collect();
    let mut at = 0;
    for (n, want) in parts.iter().enumerate() {
        let found = if n == 0 {
            lines.starts_with(want).then_some(0)
        } else if n == parts.len() - 1 {
            lines
                .len()
                .checked_sub(want.len())
                .filter(|&i| i >= at && lines[i..] == want[..])
        } else {
            (at..=lines.len().saturating_sub(want.len())).find(|&i| lines[i..].starts_with(want))
        };
        let Some(i) = found else { return false };
        at = i + want.len();
    }
    true
}

/// The book shows real output: each ```` ```text ```` block of the chapters above that
/// starts with `$ dagfc ...` is that command's output on the catalog (standard output,
/// then standard error), and each picture is what `dagfc graph` draws today.
#[test]
fn the_book_shows_what_the_commands_print() {
    for (name, count) in TRANSCRIPTS {
        let chapter = repo().join("book/src").join(name);
        let text = std::fs::read_to_string(&chapter).expect("the chapter");
        let mut shown = 0;
        for block in text.split("```text\n").skip(1) {
            let body = block.split("```").next().expect("a block");
            let Some((command, output)) = body.split_once('\n') else {
                continue;
            };
            // The `dagfc diff` of inspection.md is a project of its own, checked by the
            // diff test; the catalog's other diffs compare its environments. `verify`
            // and `check --python` ask Airflow, which this test does not install.
            let Some(args) = command
                .strip_prefix("$ dagfc ")
                .filter(|a| !a.starts_with("diff") || a.contains("--from-env"))
                .filter(|a| !a.starts_with("verify") && !a.starts_with("check"))
            else {
                continue;
            };
            let args: Vec<String> = args.split(' ').map(|a| a.replace('\'', "")).collect();
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let run = dagfc(&args);
            // 3: `dagfc diff` found differences; 1: the chapter shows an error.
            let expected = if args[0] == "diff" {
                3
            } else if output.contains("error: ") {
                1
            } else {
                0
            };
            assert_eq!(
                run.status.code(),
                Some(expected),
                "`{command}` in {name}: {}",
                String::from_utf8_lossy(&run.stderr)
            );
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
            assert!(
                shows(output, &printed),
                "{name} shows for `{command}`:\n{output}\nbut it prints:\n{printed}"
            );
            shown += 1;
        }
        assert_eq!(shown, *count, "{name} shows {count} commands' output");
    }
    for dag in PICTURES {
        let picture = repo().join(format!("book/src/images/{dag}.svg"));
        assert_eq!(
            std::fs::read_to_string(picture).expect("the picture"),
            stdout(&dagfc(&["graph", dag])),
            "the book's picture of {dag} is out of date: run `dagfc graph {dag} --out book/src/images/{dag}.svg`"
        );
    }
}

#[test]
fn an_elided_transcript_matches_only_its_parts_in_order() {
    let out = "a\nb\nc\nd\n";
    assert!(shows("a\n...\nd\n", out));
    assert!(shows("a\nb\n...\nc\n...\nd\n", out));
    assert!(shows("...\nc\nd\n", out));
    assert!(!shows("a\n...\nb\n", out), "the last part ends the output");
    assert!(!shows("b\n...\nd\n", out), "the first part starts it");
    assert!(!shows("a\n...\nc\n...\nb\nd\n", out), "in order");
    assert!(!shows("a\nc\n", out));
}

/// Runs dagfc in `dir` (a project of its own) with these arguments.
fn dagfc_in(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run dagfc")
}

fn git(dir: &std::path::Path, args: &[&str]) {
    let run = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=dagf", "-c", "user.email=dagf@example.com"])
        .args(args)
        .output()
        .expect("git is installed");
    assert!(
        run.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

const BEFORE: &str = r#"
mixin resilient { default_args { retries = 2 } }
factory daily(name: str) with resilient {
    schedule = @daily
    start = 2024-01-01
    task extract: bash { bash_command = "extract ${name}" }
    task load: bash { bash_command = "load ${name}" }
    extract >> load
}
dag orders: daily(name = "orders")
dag refunds: daily(name = "refunds")
"#;

const AFTER: &str = r#"
mixin resilient { default_args { retries = 3 } }
factory daily(name: str) with resilient {
    schedule = @daily
    start = 2024-01-01
    task extract: bash { bash_command = "extract ${name}" }
    task load: bash { bash_command = "load ${name}" }
    task publish: python { python_callable = "tools.publish" }
    extract >> load >> publish
}
dag orders: daily(name = "orders") {
    override schedule = @hourly
}
dag payments: daily(name = "payments")
"#;

/// `dagfc diff` against the last commit: every kind of change, each at the layer and
/// line that made it; the same tree is no difference; outside git, E0409.
#[test]
fn diff_names_each_change_and_the_line_that_made_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    // The project is a subfolder of the repository, as in a monorepo.
    let dir = tmp.path().join("pipelines");
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(
        dir.join("dagf.toml"),
        "[project]\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("toml");
    std::fs::write(dir.join("src/main.dagf"), BEFORE.trim_start()).expect("source");

    let outside = dagfc_in(&dir, &["diff"]);
    assert_eq!(outside.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&outside.stderr).contains("[E0409]"));

    git(tmp.path(), &["init", "-q"]);
    git(tmp.path(), &["add", "."]);
    git(tmp.path(), &["commit", "-q", "-m", "first"]);
    let same = dagfc_in(&dir, &["diff"]);
    assert_eq!(
        same.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&same.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&same.stdout), "no difference\n");

    std::fs::write(dir.join("src/main.dagf"), AFTER.trim_start()).expect("source");
    let run = dagfc_in(&dir, &["diff", "--format", "json"]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let changes: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let find = |kind: &str, dag: &str, key: &str, value: &str| {
        changes
            .as_array()
            .expect("array")
            .iter()
            .find(|c| c["kind"] == kind && c["dag"] == dag && (key.is_empty() || c[key] == value))
            .unwrap_or_else(|| panic!("no {kind} {dag} {key}={value} in {changes:#}"))
            .clone()
    };
    find("dag_added", "payments", "at", "src/main.dagf:13:5");
    find("dag_removed", "refunds", "was_at", "src/main.dagf:10:5");
    let schedule = find("field", "orders", "path", "schedule");
    assert_eq!(
        (schedule["old"].as_str(), schedule["new"].as_str()),
        (Some("\"@daily\""), Some("\"@hourly\""))
    );
    assert_eq!(schedule["at"], "src/main.dagf:11:5");
    assert_eq!(schedule["layer"], "the dag body");
    let retries = find("field", "orders", "path", "default_args.retries");
    assert_eq!(
        (retries["old"].as_str(), retries["new"].as_str()),
        (Some("2"), Some("3"))
    );
    assert_eq!(retries["layer"], "the mixin `resilient`");
    // At the value, in the mixin's line.
    let col = AFTER
        .trim_start()
        .lines()
        .next()
        .and_then(|l| l.find("3 }"))
        .expect("the value")
        + 1;
    assert_eq!(retries["at"], format!("src/main.dagf:1:{col}"));
    let task = find("task_added", "orders", "task", "publish");
    assert_eq!(task["operator"], "python");
    let edge = find("edge_added", "orders", "from", "load");
    assert_eq!(edge["to"], "publish");
    assert_eq!(changes.as_array().expect("array").len(), 6, "{changes:#}");

    // The book shows this very change and its output.
    let text = dagfc_in(&dir, &["diff"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.ends_with("1 dag changed, 1 added, 1 removed\n"),
        "{text}"
    );
    let chapter = std::fs::read_to_string(repo().join("book/src/reference/inspection.md"))
        .expect("inspection.md");
    assert!(chapter.contains(&format!("```dagf\n{}```", AFTER.trim_start())));
    assert!(
        chapter.contains(&format!("```text\n$ dagfc diff\n{text}```")),
        "the book's `dagfc diff` output is not:\n{text}"
    );

    let bad = dagfc_in(&dir, &["diff", "--rev", "no-such-branch"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("`no-such-branch` names no commit"));
}

/// Two environments of the catalog: the profile's changes are named with it.
#[test]
fn diff_compares_two_environments() {
    let run = dagfc(&[
        "diff",
        "--from-env",
        "dev",
        "--env",
        "prod",
        "--format",
        "json",
    ]);
    assert_eq!(
        run.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let changes: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let retries = changes
        .as_array()
        .expect("array")
        .iter()
        .find(|c| {
            c["dag"] == "101_02_04_environment_based_factory" && c["path"] == "default_args.retries"
        })
        .expect("the retries of prod");
    assert_eq!(
        (retries["old"].as_str(), retries["new"].as_str()),
        (Some("0"), Some("3"))
    );
    // Read from the environment's config file, and said so.
    assert!(
        retries["layer"]
            .as_str()
            .expect("layer")
            .ends_with("from `src/configs/environments.yaml`")
    );
    assert!(
        retries["at"]
            .as_str()
            .expect("at")
            .starts_with("src/configs/environments.yaml:")
    );
    let same = dagfc(&["diff", "--from-env", "prod", "--env", "prod"]);
    assert_eq!(same.status.code(), Some(0));
}

/// A value a config item leaves out is its type's declared default: `explain-value`
/// names that declaration (at the `= 30m`) and the item that lacked the field; a value
/// the item sets names the item's line.
#[test]
fn explain_value_names_the_declared_default_that_applied() {
    let field = "default_args.execution_timeout";
    let dev = stdout(&dagfc(&[
        "explain-value",
        "101_07_02_config_debugging",
        field,
    ]));
    let lines: Vec<&str> = dev.lines().collect();
    assert_eq!(lines.len(), 3, "{dev}");
    assert!(lines[0].ends_with("= 30m"), "{dev}");
    let source = std::fs::read_to_string(
        repo().join("examples/catalog/src/101_07_02_config_debugging.dagf"),
    )
    .expect("source");
    let (line, text) = source
        .lines()
        .enumerate()
        .find(|(_, l)| l.trim_start().starts_with("timeout:"))
        .expect("the declaration");
    let col = text.find("30m").expect("the default") + 1;
    assert!(
        lines[1].starts_with(&format!(
            "  set by the declared default of `timeout` in `WarehouseSettings` at src/101_07_02_config_debugging.dagf:{}:{col}:",
            line + 1
        )),
        "{dev}"
    );
    assert!(
        lines[2].starts_with("     for the item without `timeout` that the factory `warehouse_load` read from `src/configs/debugging/warehouse.yaml` at src/configs/debugging/warehouse.yaml:"),
        "{dev}"
    );
    let prod = stdout(&dagfc(&[
        "explain-value",
        "101_07_02_config_debugging",
        field,
        "--env",
        "prod",
    ]));
    assert!(prod.contains("= 1h\n"), "{prod}");
    assert!(!prod.contains("declared default"), "{prod}");
    assert!(prod.trim_end().ends_with("timeout: 1h"), "{prod}");
    // `inspect` says the same: the record is where the default applied, not a layer
    // it replaced.
    let inspected = stdout(&dagfc(&["inspect", "101_07_02_config_debugging"]));
    let timeout = inspected
        .lines()
        .skip_while(|l| l.trim() != "execution_timeout = 30m")
        .nth(1)
        .expect("the layer of execution_timeout");
    assert!(
        timeout.contains("set by the declared default of `timeout` in `WarehouseSettings`")
            && timeout.contains(", for the record at src/configs/debugging/warehouse.yaml:")
            && !timeout.contains("over"),
        "{inspected}"
    );
}
