//! `dagfc ls`, `inspect` and `graph` on the catalog: the list agrees with the build,
//! filters filter, an inspected dag lists every task the list counts, and each
//! drawing names every task and edge of the IR.

mod common;

use common::{catalog_api, repo};
use std::collections::BTreeMap;
use std::process::{Command, Output};

fn dagfc(args: &[&str]) -> Output {
    catalog_api();
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(args)
        .arg("--project")
        .arg(repo().join("examples/catalog"))
        .output()
        .expect("run dagfc")
}

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

/// `book/src/reference/inspection.md` shows real output: each ```` ```text ```` block
/// that starts with `$ dagfc ...` is that command's output on the catalog, and the
/// picture is what `dagfc graph` draws today.
#[test]
fn the_inspection_chapter_shows_what_the_commands_print() {
    let chapter = repo().join("book/src/reference/inspection.md");
    let text = std::fs::read_to_string(&chapter).expect("inspection.md");
    let mut shown = 0;
    for block in text.split("```text\n").skip(1) {
        let body = block.split("```").next().expect("a block");
        let Some((command, output)) = body.split_once('\n') else {
            continue;
        };
        let Some(args) = command.strip_prefix("$ dagfc ") else {
            continue;
        };
        let args: Vec<String> = args.split(' ').map(|a| a.replace('\'', "")).collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(stdout(&dagfc(&args)), output, "the output of `{command}`");
        shown += 1;
    }
    assert_eq!(shown, 4, "the chapter shows four commands' output");
    let picture = repo().join("book/src/images/101_03_02_taskgroup_template_factory.svg");
    assert_eq!(
        std::fs::read_to_string(picture).expect("the picture"),
        stdout(&dagfc(&["graph", "101_03_02_taskgroup_template_factory"])),
        "the book's picture is out of date: run `dagfc graph` again"
    );
}
