//! `dagfc test` on real projects: the catalog's tests pass (and their JUnit XML says
//! so), failing tests are reported at their place with actual and expected values
//! (a reviewed snapshot of the whole output), the filter and `--update` work, and test
//! blocks change nothing in what a build writes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dagfc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args)
        .current_dir(dir)
        .env_remove("DAGF_ENV")
        .output()
        .expect("run dagfc")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The project of failing tests, copied where `--update` may write.
fn failing_project() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("folder");
        for e in std::fs::read_dir(from).expect("read folder") {
            let path = e.expect("entry").path();
            let target = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                copy(&path, &target);
            } else {
                std::fs::copy(&path, target).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    copy(
        &common::repo().join("tests/test-command/failing"),
        dir.path(),
    );
    dir
}

/// The names of the tests written in the `.dagf` files under `dir`.
fn test_names(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read folder")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            test_names(&path, out);
        } else if path.extension().is_some_and(|e| e == "dagf") {
            let source = std::fs::read_to_string(&path).expect("read source");
            out.extend(source.lines().filter_map(|l| {
                let rest = l.strip_prefix("test \"")?;
                Some(rest[..rest.find('"')?].to_string())
            }));
        }
    }
}

#[test]
fn the_catalogs_tests_pass_and_junit_lists_them() {
    common::catalog_api();
    let catalog = common::repo().join("examples/catalog");
    let mut names = Vec::new();
    test_names(&catalog.join("src"), &mut names);
    assert!(names.len() >= 7, "the catalog has {} tests", names.len());
    let out_dir = tempfile::tempdir().expect("temp dir");
    let junit = out_dir.path().join("junit.xml");
    let junit_arg = junit.to_str().expect("utf-8 path");
    let run = dagfc(
        &catalog,
        &["--color", "never", "test", "--junit", junit_arg],
    );
    let (stdout, stderr) = (text(&run.stdout), text(&run.stderr));
    assert_eq!(run.status.code(), Some(0), "{stdout}\n{stderr}");
    // Integration tests (101.5.4's, named so) are checked but not run without
    // `--integration`: skipped, neither passed nor failed.
    let skipped = names
        .iter()
        .filter(|n| n.starts_with("integration:"))
        .count();
    assert!(skipped >= 2, "the catalog has {skipped} integration tests");
    for name in &names {
        let status = if name.starts_with("integration:") {
            "skipped (integration)"
        } else {
            "ok"
        };
        assert!(
            stdout.contains(&format!("\"{name}\" ... {status}")),
            "no `{status}` line for {name}:\n{stdout}"
        );
    }
    assert_eq!(
        stderr.lines().last(),
        Some(
            format!(
                "{} passed, 0 failed, {skipped} skipped",
                names.len() - skipped
            )
            .as_str()
        ),
        "{stderr}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        root.attribute("tests"),
        Some(names.len().to_string().as_str())
    );
    assert_eq!(root.attribute("failures"), Some("0"));
    assert_eq!(
        root.attribute("skipped"),
        Some(skipped.to_string().as_str())
    );
    let cases: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(cases.len(), names.len());
    for name in &names {
        assert!(cases.contains(&name.as_str()), "{name} is not in {cases:?}");
    }
}

#[test]
fn failing_tests_are_reported_at_their_place() {
    let project = failing_project();
    let dir = project.path();
    let junit = dir.join("junit.xml");
    let run = dagfc(
        dir,
        &[
            "--color",
            "never",
            "test",
            "--junit",
            junit.to_str().expect("utf-8 path"),
        ],
    );
    assert_eq!(run.status.code(), Some(1));
    let shown = format!(
        "--- stdout\n{}--- stderr\n{}",
        text(&run.stdout),
        text(&run.stderr)
    );
    insta::with_settings!({
        snapshot_path => common::repo().join("tests/test-command/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!("failing", shown);
    });
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    assert_eq!(doc.root_element().attribute("tests"), Some("6"));
    assert_eq!(doc.root_element().attribute("failures"), Some("5"));
    let failed: Vec<(&str, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .filter_map(|f| Some((f.parent()?.attribute("name")?, f.text()?)))
        .collect();
    assert_eq!(failed.len(), 5);
    let (_, ids) = failed
        .iter()
        .find(|(name, _)| *name == "task ids")
        .expect("the failing `task ids` case");
    assert!(ids.contains("actual:   [\"extract\", \"load_accounts\", \"load_contacts\"]"));

    // The filter runs one test, and says how many it left out.
    let one = dagfc(dir, &["--color", "never", "test", "task ids"]);
    let (stdout, stderr) = (text(&one.stdout), text(&one.stderr));
    assert_eq!(one.status.code(), Some(1));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stderr.contains("5 tests left out by the filter"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().last(), Some("0 passed, 1 failed"));

    // `--update` writes the snapshot that differed; then it passes.
    let update = dagfc(dir, &["--color", "never", "test", "--update", "snapshot"]);
    assert_eq!(update.status.code(), Some(0), "{}", text(&update.stderr));
    let kept = std::fs::read_to_string(dir.join("src/snapshots/snapshot__crm.py"))
        .expect("the snapshot written");
    assert!(
        kept.starts_with("# Generated by dagfc from src/load.dagf."),
        "{kept}"
    );
    assert!(kept.contains("dag_id=\"crm\""), "{kept}");
    let again = dagfc(dir, &["--color", "never", "test", "snapshot"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stderr).lines().last(),
        Some("1 passed, 0 failed")
    );
}

/// A project's sources with every `test` block taken out (each ends with a `}` line).
fn without_tests(from: &Path, to: &Path) -> usize {
    let mut removed = 0;
    std::fs::create_dir_all(to).expect("folder");
    for e in std::fs::read_dir(from).expect("read folder") {
        let path = e.expect("entry").path();
        let target = to.join(path.file_name().expect("name"));
        if path.is_dir() {
            removed += without_tests(&path, &target);
        } else if path.extension().is_some_and(|e| e == "dagf") {
            let source = std::fs::read_to_string(&path).expect("read source");
            let mut kept = String::new();
            let mut in_test = false;
            for line in source.lines() {
                if line.starts_with("test \"") {
                    in_test = true;
                    removed += 1;
                }
                if !in_test {
                    kept.push_str(line);
                    kept.push('\n');
                }
                if in_test && line == "}" {
                    in_test = false;
                }
            }
            std::fs::write(target, kept).expect("write source");
        } else {
            std::fs::copy(&path, target).expect("copy");
        }
    }
    removed
}

/// Every `.py` file under `dir`, by path, with its text.
fn python_files(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).expect("read folder") {
        let path = e.expect("entry").path();
        if path.is_dir() {
            python_files(&path, root, out);
        } else if path.extension().is_some_and(|e| e == "py") {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .display()
                .to_string();
            out.push((rel, std::fs::read_to_string(&path).expect("read file")));
        }
    }
    out.sort();
}

#[test]
fn test_blocks_change_nothing_in_a_build() {
    common::catalog_api();
    // A build never runs a test: the failing project checks cleanly.
    let failing = failing_project();
    let check = dagfc(failing.path(), &["--color", "never", "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    assert!(
        !text(&check.stderr).contains("Error"),
        "{}",
        text(&check.stderr)
    );
    // The catalog, built with and without its tests: the same files, byte for byte.
    let catalog = common::repo().join("examples/catalog");
    let stripped = tempfile::tempdir().expect("temp dir");
    for entry in ["dagf.toml", "python", "api"] {
        let from = catalog.join(entry);
        if from.is_dir() {
            without_tests(&from, &stripped.path().join(entry));
        } else {
            std::fs::copy(&from, stripped.path().join(entry)).expect("copy");
        }
    }
    let removed = without_tests(&catalog.join("src"), &stripped.path().join("src"));
    assert!(removed >= 7, "took out {removed} tests");
    let (a, b) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    common::build_into(&catalog, a.path(), &[]);
    common::build_into(stripped.path(), b.path(), &[]);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    python_files(a.path(), a.path(), &mut with);
    python_files(b.path(), b.path(), &mut without);
    assert!(!with.is_empty());
    assert_eq!(with, without);
}

/// The lines of `dagfc test --integration`'s output a reader compares: the progress
/// lines (whose order depends on which run ends first) and the run logs in notes
/// (timestamps, paths of the environment) are left out.
fn comparable(output: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_log = false;
    for line in output.lines() {
        if in_log {
            let t = line.trim_start();
            if t.starts_with('─') || t == "│" {
                in_log = false;
            } else {
                continue;
            }
        }
        if line.contains("the run's last lines:") {
            in_log = true;
            out.push(line.trim_end().to_string());
            continue;
        }
        if line.starts_with("integration runs in ") || line.starts_with("test \"") {
            continue;
        }
        out.push(line.trim_end().to_string());
    }
    out
}

/// Catalog 101.5.4: its integration tests run for real with `dagfc test --integration`
/// (real configs, a recorded fixture, dags run by Airflow 3.3 and their final task
/// states checked), and a config change that breaks the run is reported at the
/// expectations it breaks, as the book's chapter shows.
#[test]
fn catalog_101_5_4_integration_tests_run_in_airflow() {
    const ENTRY: &str = "src/101_05_04_factory_integration_testing.dagf";
    let python = common::venv_python();
    let python = python.to_str().expect("utf-8 path").to_string();
    let catalog = common::repo().join("examples/catalog");
    let project = |feed: Option<&str>| {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/configs/integration")).expect("folders");
        std::fs::create_dir_all(root.join("src/fixtures")).expect("folders");
        std::fs::write(
            root.join("dagf.toml"),
            "[project]\nsrc = [\"src\"]\nout = \"dags\"\n",
        )
        .expect("dagf.toml");
        for file in [
            ENTRY,
            "src/configs/integration/feed.yaml",
            "src/configs/dag_configs.db",
            "src/fixtures/billing.json",
        ] {
            std::fs::copy(catalog.join(file), root.join(file)).expect("copy");
        }
        if let Some(text) = feed {
            std::fs::write(root.join("src/configs/integration/feed.yaml"), text).expect("feed");
        }
        dir
    };
    let feed = std::fs::read_to_string(catalog.join("src/configs/integration/feed.yaml"))
        .expect("the feed");
    let broken = feed.replace("test 2 -ge 1", "test -f /data/billing/landed");
    assert_ne!(broken, feed, "the edit applies");
    let (good, bad) = std::thread::scope(|s| {
        let good = s.spawn(|| {
            let dir = project(None);
            let junit = dir.path().join("junit.xml");
            let run = dagfc(
                dir.path(),
                &[
                    "--color",
                    "never",
                    "test",
                    "--integration",
                    "--python",
                    &python,
                    "--junit",
                    junit.to_str().expect("utf-8 path"),
                ],
            );
            let xml = std::fs::read_to_string(&junit).unwrap_or_default();
            (run, xml)
        });
        let bad = s.spawn(|| {
            let dir = project(Some(&broken));
            dagfc(
                dir.path(),
                &[
                    "--color",
                    "never",
                    "test",
                    "--integration",
                    "--python",
                    &python,
                    "the real configs",
                ],
            )
        });
        (
            good.join().expect("the good run"),
            bad.join().expect("the broken run"),
        )
    });
    let ((good, xml), bad) = (good, bad);
    let (stdout, stderr) = (text(&good.stdout), text(&good.stderr));
    assert_eq!(good.status.code(), Some(0), "{stdout}\n{stderr}");
    for name in [
        "integration: the real configs make the dag, and it runs",
        "integration: a feed whose check fails publishes nothing",
        "the recorded owner reaches the dag",
    ] {
        assert!(
            stdout.contains(&format!("\"{name}\" ... ok")),
            "{name}:\n{stdout}\n{stderr}"
        );
    }
    assert_eq!(
        stderr.lines().last(),
        Some("3 passed, 0 failed"),
        "{stderr}"
    );
    let doc = roxmltree::Document::parse(&xml).expect("well-formed JUnit XML");
    assert_eq!(doc.root_element().attribute("tests"), Some("3"));
    assert_eq!(doc.root_element().attribute("skipped"), Some("0"));

    assert_eq!(bad.status.code(), Some(1));
    let shown = format!("{}{}", text(&bad.stdout), text(&bad.stderr));
    let chapter = common::repo().join("book/src/catalog/101-05-04-factory-integration-testing.md");
    let book = std::fs::read_to_string(&chapter).expect("the chapter");
    let start = "```text\n$ dagfc test --integration \"the real configs\"\n";
    let (before, after) = book
        .split_once("## A failing integration run")
        .expect("the chapter's failing run");
    let block = after
        .split_once(start)
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .map(|(b, _)| b.to_string())
        .expect("the chapter's `$ dagfc test --integration` block");
    if std::env::var_os("DAGF_BOOK_BLESS").is_some() {
        let fresh = comparable(&shown).join("\n") + "\n";
        let after = after.replacen(&format!("{start}{block}"), &format!("{start}{fresh}"), 1);
        std::fs::write(
            &chapter,
            format!("{before}## A failing integration run{after}"),
        )
        .expect("bless the chapter");
        return;
    }
    assert_eq!(
        comparable(&shown),
        comparable(&block),
        "the chapter's failing run is stale (DAGF_BOOK_BLESS=1 rewrites it):\n{shown}"
    );
    assert!(shown.contains("[E0812]"), "{shown}");
}

/// `dagfc fixtures record` saves a SQLite source's rows beside its file, a test's
/// `fixture SOURCE = recorded` builds from them offline, and recording again after
/// the database changed shows the rows that changed.
#[test]
fn fixtures_record_saves_a_sources_answer_for_tests() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).expect("src");
    std::fs::write(
        root.join("dagf.toml"),
        "[project]\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("dagf.toml");
    let db = rusqlite::Connection::open(root.join("src/configs.db")).expect("db");
    db.execute_batch(
        "CREATE TABLE feeds (name TEXT, retries INTEGER, tables TEXT);
         INSERT INTO feeds VALUES ('crm', 2, '[\"accounts\"]'), ('erp', NULL, '[]');",
    )
    .expect("rows");
    std::fs::write(
        root.join("src/feeds.dagf"),
        r#"type Feed = { name: str, retries: int = 1, tables: list<str> }
source feeds: list<Feed> = sqlite("configs.db", "SELECT name, retries, tables FROM feeds ORDER BY name")

factory load(feed: Feed) {
    schedule = @daily
    start = 2024-01-01
    default_args { retries = feed.retries }
    task start: empty
    for t in feed.tables { start >> task "load_${t}": empty }
}

for f in feeds { dag "load_${f.name}": load(feed = f) }

test "the recorded feeds" {
    fixture feeds = recorded
    dag crm: load(feed = feeds[0])
    assert crm.task_ids == ["start", "load_accounts"]
    assert crm.default_args.retries == 2
    assert len(feeds) == 2
}
"#,
    )
    .expect("source");
    let before = dagfc(root, &["--color", "never", "test"]);
    assert_eq!(before.status.code(), Some(1), "nothing recorded yet");
    assert!(
        text(&before.stderr).contains("dagfc fixtures record feeds"),
        "{}",
        text(&before.stderr)
    );
    let first = dagfc(root, &["fixtures", "record", "feeds"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let saved = std::fs::read_to_string(root.join("src/fixtures/feeds.json")).expect("recorded");
    assert_eq!(
        saved,
        "[\n  {\"name\": \"crm\", \"retries\": 2, \"tables\": \"[\\\"accounts\\\"]\"},\n  {\"name\": \"erp\", \"retries\": null, \"tables\": \"[]\"}\n]\n"
    );
    // The database changes; the test still sees what was recorded.
    db.execute_batch("UPDATE feeds SET retries = 5 WHERE name = 'crm';")
        .expect("update");
    let offline = dagfc(root, &["--color", "never", "test"]);
    assert_eq!(offline.status.code(), Some(0), "{}", text(&offline.stderr));
    let again = dagfc(root, &["fixtures", "record"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        "-  {\"name\": \"crm\", \"retries\": 2, \"tables\": \"[\\\"accounts\\\"]\"},\n+  {\"name\": \"crm\", \"retries\": 5, \"tables\": \"[\\\"accounts\\\"]\"},\n"
    );
    let failing = dagfc(root, &["--color", "never", "test"]);
    assert_eq!(
        failing.status.code(),
        Some(1),
        "the test now sees retries = 5"
    );
    // A name the project does not declare is one error.
    let unknown = dagfc(
        root,
        &["--message-format", "json", "fixtures", "record", "feed"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stdout).contains("E0817"),
        "{}",
        text(&unknown.stdout)
    );
}
