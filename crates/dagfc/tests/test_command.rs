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
    for name in &names {
        assert!(
            stdout.contains(&format!("\"{name}\" ... ok")),
            "no passing line for {name}:\n{stdout}"
        );
    }
    assert_eq!(
        stderr.lines().last(),
        Some(format!("{} passed, 0 failed", names.len()).as_str()),
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
