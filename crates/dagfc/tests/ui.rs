//! The UI test suite: every case under `tests/ui/` is a small `.dagf` project whose first
//! line states the expected outcome:
//!
//! ```text
//! // expect: ok
//! // expect: warning W0001 W0003
//! // expect: error E0201 E0203 W0001
//! ```
//!
//! A case is one `.dagf` file, or a folder ending in `.case` holding several files (its
//! expectation is the first line of its `main.dagf`). Each case is copied into a fresh
//! project and checked with `dagfc check` (a case under `tests/ui/tests/` is run with
//! `dagfc test` instead, its test blocks' failures being its diagnostics); the exit status, the multiset of codes and the
//! shape of every diagnostic are asserted, and the source followed by the human-readable
//! diagnostics is snapshotted under `tests/ui/snapshots/`.
//!
//! The files of a `.case` folder go to the project's `src/`, as they are (a file need not
//! be UTF-8 text), except:
//!
//! - `NAME.sql` is not copied: the SQL in it is executed to create the SQLite database
//!   `NAME` beside it (`configs.db.sql` makes `configs.db`);
//! - `dagf.toml` at the top of the case is the project file, instead of the default one;
//! - files under `.dagf-cache/` at the top of the case go to the project's `.dagf-cache/`
//!   (cached HTTP answers), with `@now-SECONDS@` replaced by the Unix time that many
//!   seconds ago, so that a cached answer has a known age.
//!
//! Refresh the snapshots with `INSTA_UPDATE=always cargo test -p dagfc --test ui`, then
//! read the changed ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `tests/ui/` at the top of the workspace.
fn ui_dir() -> PathBuf {
    std::fs::canonicalize(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui"))
        .expect("tests/ui exists")
}

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Ok,
    Warning,
    Error,
}

#[derive(Debug)]
struct Expectation {
    outcome: Outcome,
    /// Sorted, so two multisets compare as vectors.
    codes: Vec<String>,
}

/// Reads `// expect: ...` from the first line of a case file.
fn expectation(path: &Path, text: &str) -> Expectation {
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("// expect: ").unwrap_or_else(|| {
        panic!(
            "{}: the first line must be `// expect: ok|warning CODES|error CODES`, found `{first}`",
            path.display()
        )
    });
    let mut words = rest.split_whitespace();
    let outcome = match words.next() {
        Some("ok") => Outcome::Ok,
        Some("warning") => Outcome::Warning,
        Some("error") => Outcome::Error,
        other => panic!("{}: unknown outcome {other:?}", path.display()),
    };
    let mut codes: Vec<String> = words.map(str::to_string).collect();
    for c in &codes {
        assert!(
            dagf_diag::Code::parse(c).is_some_and(|k| k.as_str() == c),
            "{}: `{c}` is not a code in the registry",
            path.display()
        );
    }
    codes.sort();
    match outcome {
        Outcome::Ok => assert!(codes.is_empty(), "{}: `ok` takes no codes", path.display()),
        Outcome::Warning => assert!(
            !codes.is_empty() && codes.iter().all(|c| c.starts_with('W')),
            "{}: `warning` lists one or more W codes and nothing else",
            path.display()
        ),
        Outcome::Error => assert!(
            codes.iter().any(|c| c.starts_with('E')),
            "{}: `error` lists at least one E code",
            path.display()
        ),
    }
    Expectation { outcome, codes }
}

/// A case: its files (paths relative to the case) and expectation.
struct Case {
    files: Vec<(String, Vec<u8>)>,
    expect: Expectation,
}

/// Where a case file goes in the project, relative to its root.
fn project_path(rel: &str) -> String {
    if rel == "dagf.toml" || rel.starts_with(".dagf-cache/") {
        rel.to_string()
    } else {
        format!("src/{rel}")
    }
}

/// `@now-SECONDS@` in a cached answer: the Unix time that many seconds ago.
fn with_times(text: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_secs();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("@now-") {
        let after = &rest[at + "@now-".len()..];
        let Some((secs, tail)) = after
            .split_once('@')
            .and_then(|(n, tail)| Some((n.parse::<u64>().ok()?, tail)))
        else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(&now.saturating_sub(secs).to_string());
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// The case a globbed file stands for; `None` for a file inside a `.case` folder other
/// than its `main.dagf` (the folder is checked once, through `main.dagf`).
fn load_case(path: &Path) -> Option<Case> {
    let folder = path
        .ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(ui_dir()))
        .find(|a| a.extension().is_some_and(|e| e == "case"));
    let mut files = Vec::new();
    let main = match folder {
        Some(folder) => {
            if path != folder.join("main.dagf") {
                return None;
            }
            collect(folder, folder, &mut files);
            "main.dagf".to_string()
        }
        None => {
            let name = path.file_name().expect("a file name").to_string_lossy();
            let text = std::fs::read(path).expect("readable case");
            files.push((name.to_string(), text));
            name.to_string()
        }
    };
    let text = &files
        .iter()
        .find(|(n, _)| *n == main)
        .expect("the main file")
        .1;
    let text = std::str::from_utf8(text).expect("a UTF-8 main file");
    let expect = expectation(path, text);
    Some(Case { files, expect })
}

/// Every file under `dir`, sorted, with `/`-separated paths relative to `root`.
fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable case folder")
        .map(|e| e.expect("a folder entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("inside the case");
            let rel: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let text = std::fs::read(&p).expect("readable case file");
            out.push((rel.join("/"), text));
        }
    }
}

/// Runs `dagfc SUBCOMMAND` with these extra arguments on the project in `dir`.
fn dagfc(dir: &Path, subcommand: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .arg(subcommand)
        .arg("--project")
        .arg(dir)
        .args(args)
        .current_dir(dir)
        // Nothing from the environment reaches the case (`getenv` reads it).
        .env_clear()
        .output()
        .expect("dagfc runs")
}

/// The one check every case goes through.
fn check(path: &Path) {
    let Some(case) = load_case(path) else {
        return;
    };
    let name = path
        .strip_prefix(ui_dir())
        .unwrap_or(path)
        .display()
        .to_string();

    let project = tempfile::tempdir().expect("a temporary folder");
    let root = project.path();
    std::fs::write(root.join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("write");
    for (rel, text) in &case.files {
        let target = root.join(project_path(rel));
        std::fs::create_dir_all(target.parent().expect("a folder")).expect("mkdir");
        if let Some(db) = rel.strip_suffix(".sql") {
            let sql = std::str::from_utf8(text).expect("UTF-8 SQL");
            let db = root.join(project_path(db));
            rusqlite::Connection::open(&db)
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("{name}: {rel}: {e}"));
        } else if rel.starts_with(".dagf-cache/") {
            let text = std::str::from_utf8(text).expect("a UTF-8 cached answer");
            std::fs::write(target, with_times(text)).expect("write");
        } else {
            std::fs::write(target, text).expect("write");
        }
    }

    let subcommand = if name.starts_with("tests/") {
        "test"
    } else {
        "check"
    };
    let human = dagfc(root, subcommand, &["--color", "never"]);
    let json = dagfc(root, subcommand, &["--message-format", "json"]);
    let human_err = String::from_utf8(human.stderr).expect("UTF-8 diagnostics");
    let json_out = String::from_utf8(json.stdout).expect("UTF-8 diagnostics");
    assert!(
        json.stderr.is_empty(),
        "{name}: JSON diagnostics go to standard output, not standard error: {}",
        String::from_utf8_lossy(&json.stderr)
    );

    // Exit status: errors fail the check, warnings do not.
    let want_status = if case.expect.outcome == Outcome::Error {
        1
    } else {
        0
    };
    for (format, status) in [("human", human.status), ("json", json.status)] {
        assert_eq!(
            status.code(),
            Some(want_status),
            "{name}: `dagfc {subcommand}` ({format}) exited with {status}\n{human_err}"
        );
    }

    // The codes, as a multiset, and the shape of every diagnostic; the summary that ends
    // the stream counts them.
    let mut diags: Vec<serde_json::Value> = json_out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{name}: not a JSON diagnostic ({e}): {l}"))
        })
        .collect();
    // `dagfc test` says how each test went among the diagnostics.
    diags.retain(|d| d["type"] != "test");
    let summary = diags.pop().unwrap_or_default();
    assert_eq!(
        summary["type"], "summary",
        "{name}: the last JSON line: {summary}"
    );
    let count = |severity: &str| diags.iter().filter(|d| d["severity"] == severity).count();
    assert_eq!(summary["errors"], count("error"), "{name}: {summary}");
    assert_eq!(summary["warnings"], count("warning"), "{name}: {summary}");
    for d in &diags {
        assert_eq!(d["type"], "diagnostic", "{name}: {d}");
    }
    let mut codes: Vec<String> = Vec::new();
    for d in &diags {
        let code = d["code"].as_str().unwrap_or_default();
        assert!(!code.is_empty(), "{name}: a diagnostic has no code: {d}");
        let project_level = code.starts_with("E04");
        match &d["primary"] {
            serde_json::Value::Null => {
                assert!(project_level, "{name}: {code} has no primary label: {d}")
            }
            p => {
                let file = p["file"].as_str().unwrap_or_default();
                assert!(
                    !file.is_empty() && !Path::new(file).is_absolute(),
                    "{name}: {code} names file `{file}`, not a project-relative path"
                );
                for key in ["line_start", "column_start"] {
                    assert!(
                        p[key].as_u64().is_some_and(|n| n >= 1),
                        "{name}: {code} has no {key} in its primary label: {d}"
                    );
                }
            }
        }
        let help = d["help"].as_str().unwrap_or_default();
        assert!(
            !help.trim().is_empty(),
            "{name}: {code} ({}) has no help",
            d["message"]
        );
        codes.push(code.to_string());
    }
    codes.sort();
    assert_eq!(
        codes, case.expect.codes,
        "{name}: the codes reported differ from the `// expect:` line\n{human_err}"
    );
    let headers = human_err
        .lines()
        .filter(|l| l.starts_with("[E") || l.starts_with("[W"))
        .count();
    assert_eq!(
        headers,
        diags.len(),
        "{name}: the human and JSON outputs disagree on the number of diagnostics\n{human_err}"
    );
    let tmp = root.to_string_lossy();
    assert!(
        !human_err.contains(&*tmp) && !json_out.contains(&*tmp),
        "{name}: the output names the temporary project folder\n{human_err}"
    );

    let mut shown = String::new();
    for (rel, bytes) in &case.files {
        if case.files.len() > 1 {
            match rel.strip_suffix(".sql") {
                Some(db) => shown.push_str(&format!(
                    "// ==> {} <== (a SQLite database, made by this SQL)\n",
                    project_path(db)
                )),
                None => shown.push_str(&format!("// ==> {} <==\n", project_path(rel))),
            }
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t.to_string(),
            Err(_) => format!("({} bytes, not UTF-8 text)\n", bytes.len()),
        };
        shown.push_str(&text);
        if !text.ends_with('\n') {
            shown.push('\n');
        }
    }
    shown.push_str(&format!("\n// ==> dagfc {subcommand} <==\n"));
    shown.push_str(&human_err);
    insta::assert_snapshot!(shown);
}

#[test]
fn ui() {
    insta::with_settings!({
        snapshot_path => ui_dir().join("snapshots"),
        prepend_module_to_snapshot => false,
    }, {
        insta::glob!("../../../tests/ui", "**/*.dagf", check);
    });
}

/// Every code a `.dagf` input can trigger (E0001-E0399, the tests' E0801-E0811 and the
/// lints) has a case that expects it. Project and output errors (E04xx) are tested with
/// the CLI, the importer's codes (E06xx, W06xx) with `dagfc import` (tests/import.rs),
/// and what only Airflow or a source's answer gives (E0812-E0818: integration runs,
/// `dagfc fixtures record`) with the CLI (tests/test_command.rs) and the explain pages.
#[test]
fn every_code_has_a_case() {
    let mut expected: BTreeSet<String> = BTreeSet::new();
    let mut stack = vec![ui_dir()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable tests/ui") {
            let p = entry.expect("a folder entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if let Some(case) = p
                .extension()
                .is_some_and(|e| e == "dagf")
                .then(|| load_case(&p))
                .flatten()
            {
                expected.extend(case.expect.codes);
            }
        }
    }
    let missing: Vec<&str> = dagf_diag::CODES
        .iter()
        .map(|info| info.code.as_str())
        .filter(|c| {
            (c.starts_with('W') && !c.starts_with("W06"))
                || (c.starts_with('E') && *c < "E0400")
                || (c.starts_with("E08") && *c <= "E0811")
        })
        .filter(|c| !expected.contains(*c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a UI case under tests/ui/: {}",
        missing.join(", ")
    );
}
