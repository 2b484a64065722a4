//! The Python side against the real Airflow 3.3 environment: `dagfc check --python`
//! finds each mistake on the Python side once, at the `.dagf` text that made it (real
//! provider classes, the project's own modules), passes a good project, and says why
//! when Python cannot be asked; `dagfc verify` loads a build in Airflow and points an
//! import error at the dag that made the file. The cases run side by side: each is its
//! own process.

mod common;

use common::{catalog_api, examples, json_messages, repo, venv_python};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A project in a temporary folder: `dagf.toml`, and each `(path, text)`.
fn project(toml: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("dagf.toml"), toml).expect("dagf.toml");
    for (path, text) in files {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a folder")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

const TOML: &str = "[project]\nsrc = [\"src\"]\n[python]\npath = [\"python\"]\n";

/// What one run printed: its exit status, the diagnostics (code, file, line, column and
/// the text the primary label covers) and how long it took.
#[derive(Debug)]
struct Run {
    status: Option<i32>,
    diags: Vec<(String, String, u64, String)>,
    took: Duration,
    raw: String,
}

/// `dagfc ARGS --message-format json` in `dir`, with a throwaway AIRFLOW_HOME.
fn dagfc(dir: &Path, args: &[&str]) -> Run {
    let home = tempfile::tempdir().expect("home");
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args)
        .args(["--message-format", "json", "--color", "never"])
        .current_dir(dir)
        .env("AIRFLOW_HOME", home.path())
        .env_remove("DAGF_ENV")
        .output()
        .expect("run dagfc");
    let took = started.elapsed();
    let (diags, _) = json_messages(&out.stdout);
    let diags = diags
        .iter()
        .map(|d| {
            let p = &d["primary"];
            let file = p["file"].as_str().unwrap_or("").to_string();
            let (start, end) = (
                p["byte_start"].as_u64().unwrap_or(0) as usize,
                p["byte_end"].as_u64().unwrap_or(0) as usize,
            );
            let text = std::fs::read_to_string(dir.join(&file))
                .ok()
                .and_then(|t| t.get(start..end).map(str::to_string))
                .unwrap_or_default();
            (
                d["code"].as_str().unwrap_or("").to_string(),
                file,
                p["line_start"].as_u64().unwrap_or(0),
                text,
            )
        })
        .collect();
    Run {
        status: out.status.code(),
        diags,
        took,
        raw: format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// `--python=VENV`.
fn python_flag(python: &Path) -> String {
    format!("--python={}", python.display())
}

/// Exactly one error, with this code, whose primary label covers `text` on `line` of `file`.
fn one_error(run: &Run, code: &str, file: &str, line: u64, text: &str) {
    assert_eq!(run.status, Some(1), "{}", run.raw);
    assert_eq!(
        run.diags,
        vec![(code.to_string(), file.to_string(), line, text.to_string())],
        "{}",
        run.raw
    );
}

/// A task of every operator and sensor of the standard library.
const EVERY_STD_OPERATOR: &str = r#"extern dag "other"
dag every_operator {
    task bash_t: bash { bash_command = "true" }
    task python_t: python { python_callable = "helpers.greet", op_kwargs = { name = "x" } }
    task empty_t: empty
    task branch_t: branch { python_callable = "helpers.greet" }
    task short_t: short_circuit { python_callable = "helpers.greet" }
    task trigger_t: trigger_dag { trigger_dag_id = "other" }
    task sql_t: sql { sql = "select 1", conn_id = "db" }
    task http_t: http { endpoint = "/x" }
    task email_t: email { to = ["a@example.com"], subject = "s", html_content = "h" }
    task external_t: external_task { external_dag_id = "other" }
    task file_t: file { filepath = "/tmp/x" }
    task delta_t: time_delta { delta = 1m }
    task time_t: date_time { target_time = "{{ ds }}" }
    task python_sensor_t: python_sensor { python_callable = "helpers.greet" }
    task http_sensor_t: http_sensor { endpoint = "/x" }
    task sql_sensor_t: sql_sensor { conn_id = "db", sql = "select 1" }
}
"#;

const SQL: &str = "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator";

const HELPERS: &str = "def greet(name, ds=None):\n    print(f\"hello {name} on {ds}\")\n";

/// A dag calling `helpers.greet` through the standard library's `python` operator.
fn callable_dag(callable: &str, kwargs: &str) -> String {
    format!(
        "dag hello {{\n    schedule = @daily\n    start = 2024-01-01\n    task greet: python {{\n        python_callable = \"{callable}\"\n        op_kwargs = {{ {kwargs} }}\n    }}\n}}\n"
    )
}

/// An operator declaration for the SQL operator of the common.sql provider.
fn sql_dag(class: &str, field: &str) -> String {
    format!(
        "operator query = \"{class}\" {{\n    sql: str\n    {field}: str?\n}}\ndag report {{\n    task run: query {{ sql = \"select 1\", {field} = \"warehouse\" }}\n}}\n"
    )
}

#[test]
fn check_python_reports_each_mistake_once_at_its_place() {
    let python = venv_python();
    let flag = python_flag(&python);
    type Case = (&'static str, String, &'static str, u64, &'static str);
    let cases: Vec<Case> = vec![
        // A misspelt field of a real provider class.
        (
            "E0706",
            sql_dag(SQL, "conn_idd"),
            "src/main.dagf",
            3,
            "conn_idd",
        ),
        // A module path with a typo.
        (
            "E0704",
            sql_dag(
                "airflow.providers.common.sql.operators.sqll.SQLExecuteQueryOperator",
                "conn_id",
            ),
            "src/main.dagf",
            1,
            "\"airflow.providers.common.sql.operators.sqll.SQLExecuteQueryOperator\"",
        ),
        // A misspelt python_callable.
        (
            "E0704",
            callable_dag("helpers.greeet", "name = \"world\""),
            "src/main.dagf",
            5,
            "\"helpers.greeet\"",
        ),
        // An op_kwargs key the callable has no parameter for.
        (
            "E0708",
            callable_dag("helpers.greet", "nme = \"world\""),
            "src/main.dagf",
            6,
            "nme",
        ),
    ];
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .map(|(_, source, ..)| {
                let flag = flag.clone();
                s.spawn(move || {
                    let dir = project(
                        TOML,
                        &[
                            ("src/main.dagf", source.as_str()),
                            ("python/helpers.py", HELPERS),
                        ],
                    );
                    dagfc(dir.path(), &["check", &flag])
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a case"))
            .collect()
    });
    for ((code, _, file, line, text), run) in cases.iter().zip(&runs) {
        one_error(run, code, file, *line, text);
    }
}

#[test]
fn check_python_passes_a_good_project_and_says_why_python_cannot_answer() {
    let python = venv_python();
    let flag = python_flag(&python);
    let good = format!(
        "{}{}",
        sql_dag(SQL, "conn_id"),
        callable_dag("helpers.greet", "name = \"world\"").replace("dag hello", "dag hi")
    );
    let slow = "import time\ntime.sleep(60)\ndef greet(name):\n    pass\n";
    let runs: Vec<Run> = std::thread::scope(|s| {
        let passes = s.spawn(|| {
            let dir = project(
                TOML,
                &[("src/main.dagf", &good), ("python/helpers.py", HELPERS)],
            );
            dagfc(dir.path(), &["check", &flag])
        });
        let missing = s.spawn(|| {
            let dir = project(
                &format!("{TOML}interpreter = \"venv/bin/no-such-python\"\n"),
                &[("src/main.dagf", &good), ("python/helpers.py", HELPERS)],
            );
            dagfc(dir.path(), &["check", "--python"])
        });
        let timeout = s.spawn(|| {
            let dir = project(
                &format!("{TOML}timeout = 2\n"),
                &[
                    (
                        "src/main.dagf",
                        &callable_dag("helpers.greet", "name = \"x\""),
                    ),
                    ("python/helpers.py", slow),
                ],
            );
            dagfc(dir.path(), &["check", &flag])
        });
        // The standard library's declarations agree with Airflow 3.3's classes.
        let std = s.spawn(|| {
            let dir = project(
                TOML,
                &[
                    ("src/main.dagf", EVERY_STD_OPERATOR),
                    ("python/helpers.py", HELPERS),
                ],
            );
            dagfc(dir.path(), &["check", &flag])
        });
        [passes, missing, timeout, std]
            .into_iter()
            .map(|h| h.join().expect("a case"))
            .collect()
    });
    let [good, missing, timeout, std] = <[Run; 4]>::try_from(runs).expect("four runs");
    assert_eq!(std.status, Some(0), "{}", std.raw);
    assert!(std.diags.is_empty(), "{}", std.raw);
    assert_eq!(good.status, Some(0), "{}", good.raw);
    assert!(good.diags.is_empty(), "{}", good.raw);
    one_error(
        &missing,
        "E0701",
        "dagf.toml",
        5,
        "\"venv/bin/no-such-python\"",
    );
    assert_eq!(timeout.status, Some(1), "{}", timeout.raw);
    assert_eq!(
        timeout
            .diags
            .iter()
            .map(|d| d.0.as_str())
            .collect::<Vec<_>>(),
        ["E0702"],
        "{}",
        timeout.raw
    );
    assert!(
        timeout.took < Duration::from_secs(20),
        "the helper was stopped after {:?}, not at its 2 s timeout",
        timeout.took
    );
}

/// `examples/hello`, with the `[python]` section that says where its module is.
fn hello() -> tempfile::TempDir {
    let example = repo().join("examples/hello");
    let read = |p: &str| std::fs::read_to_string(example.join(p)).expect(p);
    project(
        TOML,
        &[
            ("src/hello.dagf", &read("src/hello.dagf")),
            ("python/hello_helpers.py", &read("python/hello_helpers.py")),
        ],
    )
}

const STRICT_OPERATOR: &str = "from airflow.sdk import BaseOperator\n\nclass Upload(BaseOperator):\n    def __init__(self, *, bucket, **kwargs):\n        super().__init__(**kwargs)\n        if \"/\" in bucket:\n            raise ValueError(f\"a bucket name has no '/': {bucket}\")\n        self.bucket = bucket\n\n    def execute(self, context):\n        return self.bucket\n";

#[test]
fn verify_loads_a_build_in_airflow_and_locates_what_it_rejects() {
    let python: PathBuf = venv_python();
    let runs: Vec<Run> = std::thread::scope(|s| {
        let good = s.spawn(|| {
            let dir = hello();
            // A mapped task is a MappedOperator in Airflow: the same class and shared
            // arguments all the same, with no false difference.
            std::fs::write(
                dir.path().join("src/mapped.dagf"),
                "dag mapped_hello {\n    task greet: bash {\n        retries = 1\n        expand = { bash_command = [\"echo a\", \"echo b\"] }\n    }\n}\n",
            )
            .expect("write");
            dagfc(
                dir.path(),
                &[
                    "verify",
                    "--python",
                    &python.to_string_lossy(),
                    "--run",
                    "hello",
                ],
            )
        });
        let rejected = s.spawn(|| {
            let dir = project(
                TOML,
                &[
                    (
                        "src/main.dagf",
                        "operator upload = \"ops.Upload\" { bucket: str }\ndag nightly {\n    task put: upload { bucket = \"lake/raw\" }\n}\n",
                    ),
                    ("python/ops.py", STRICT_OPERATOR),
                ],
            );
            dagfc(dir.path(), &["verify", "--python", &python.to_string_lossy()])
        });
        [good, rejected]
            .into_iter()
            .map(|h| h.join().expect("a case"))
            .collect()
    });
    let [good, rejected] = <[Run; 2]>::try_from(runs).expect("two runs");
    assert_eq!(good.status, Some(0), "{}", good.raw);
    assert!(good.diags.is_empty(), "{}", good.raw);
    one_error(&rejected, "E0709", "src/main.dagf", 2, "nightly");
}

/// Catalog 101.5.3: the entry's DAGs load, serialize and run in Airflow, and a built
/// file edited by hand afterwards is caught, each difference at the `.dagf` text that
/// made what changed (the book's chapter shows this run).
#[test]
fn catalog_101_5_3_is_verified_and_a_hand_edited_file_is_caught() {
    const FILE: &str = "src/101_05_03_generated_dag_validation.dagf";
    let python: PathBuf = venv_python();
    let python = python.to_string_lossy();
    let source = std::fs::read_to_string(repo().join("examples/catalog").join(FILE))
        .expect("the catalog entry");
    let runs: Vec<Run> = std::thread::scope(|s| {
        let good = s.spawn(|| {
            let dir = project(TOML, &[(FILE, &source)]);
            let args = ["verify", "--python", &python, "--run"];
            dagfc(
                dir.path(),
                &[&args[..], &["101_05_03_generated_dag_validation"]].concat(),
            )
        });
        let edited = s.spawn(|| {
            let dir = project(TOML, &[(FILE, &source)]);
            let built = dagfc(dir.path(), &["build", "--out", "built"]);
            assert_eq!(built.status, Some(0), "{}", built.raw);
            let file = dir
                .path()
                .join("built/101_05_03_generated_dag_validation.py");
            let text = std::fs::read_to_string(&file).expect("the built file");
            let edited = text
                .replace(
                    "\"echo publishing orders\"",
                    "\"echo publishing everything\"",
                )
                .replace("land >> check_rows >> publish", "land >> check_rows");
            assert_ne!(edited, text, "the edits apply");
            std::fs::write(&file, edited).expect("edit");
            dagfc(
                dir.path(),
                &["verify", "--python", &python, "--out", "built"],
            )
        });
        [good, edited]
            .into_iter()
            .map(|h| h.join().expect("a case"))
            .collect()
    });
    let [good, edited] = <[Run; 2]>::try_from(runs).expect("two runs");
    assert_eq!(good.status, Some(0), "{}", good.raw);
    assert!(good.diags.is_empty(), "{}", good.raw);
    assert_eq!(edited.status, Some(1), "{}", edited.raw);
    let at = |line: u64, text: &str| {
        (
            "E0709".to_string(),
            FILE.to_string(),
            line,
            text.to_string(),
        )
    };
    assert_eq!(
        edited.diags,
        vec![
            at(20, "bash_command = \"echo publishing ${source}\""),
            at(24, "\"101_05_03_generated_dag_validation\""),
        ],
        "{}",
        edited.raw
    );
}

/// Every example names its Python environment's folders (`[python] path`), and the
/// Python side of each agrees with the code it points at: operator classes and fields,
/// callables and their keyword arguments. Two examples at a time.
#[test]
fn every_example_passes_check_python() {
    let python: PathBuf = venv_python();
    let flag = python_flag(&python);
    catalog_api();
    let all = examples();
    for pair in all.chunks(2) {
        let runs: Vec<(String, Run)> = std::thread::scope(|s| {
            let handles: Vec<_> = pair
                .iter()
                .map(|example| {
                    let flag = &flag;
                    s.spawn(move || {
                        let name = example
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned());
                        (name.unwrap_or_default(), dagfc(example, &["check", flag]))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a case"))
                .collect()
        });
        for (name, run) in runs {
            let toml =
                std::fs::read_to_string(repo().join("examples").join(&name).join("dagf.toml"))
                    .expect("dagf.toml");
            if repo().join("examples").join(&name).join("python").is_dir() {
                assert!(
                    toml.contains("[python]") && toml.contains("path = [\"python\"]"),
                    "examples/{name}/dagf.toml does not name its python folder"
                );
            }
            assert_eq!(run.status, Some(0), "examples/{name}: {}", run.raw);
            let python_side: Vec<_> = run
                .diags
                .iter()
                .filter(|d| d.0.starts_with("E07"))
                .collect();
            assert!(python_side.is_empty(), "examples/{name}: {}", run.raw);
        }
    }
}

/// Catalog 101.7.4 shows `dagfc check --python` on a dag whose `.dagf` side is correct:
/// the chapter's source, with the catalog's helpers in `python/`, prints exactly the
/// chapter's transcript (the environment's `python3` first on `PATH`, as
/// `[python] interpreter` defaults to it).
#[test]
fn catalog_101_7_4_chapter_shows_what_check_python_prints() {
    let chapter =
        std::fs::read_to_string(repo().join("book/src/catalog/101-07-04-import-errors.md"))
            .expect("the chapter");
    let section = chapter
        .split_once("## Python that does not import")
        .expect("the section")
        .1;
    let source = section
        .split_once("```dagf\n")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .expect("the dagf block")
        .0;
    let shown = section
        .split_once("```text\n$ dagfc check --python\n")
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("the transcript")
        .0;
    let helpers =
        std::fs::read_to_string(repo().join("examples/catalog/python/catalog_helpers.py"))
            .expect("the catalog's helpers");
    let dir = project(
        TOML,
        &[
            ("src/main.dagf", source),
            ("python/catalog_helpers.py", &helpers),
        ],
    );
    let python = venv_python();
    let bin = python.parent().expect("the environment's bin folder");
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .expect("PATH");
    let home = tempfile::tempdir().expect("home");
    let out = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["--color", "never", "check", "--python"])
        .current_dir(dir.path())
        .env("PATH", path)
        .env("AIRFLOW_HOME", home.path())
        .env_remove("DAGF_ENV")
        .output()
        .expect("run dagfc");
    assert_eq!(out.status.code(), Some(1));
    let trim = |t: &str| t.lines().map(str::trim_end).collect::<Vec<_>>().join("\n");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        trim(shown),
        trim(&printed),
        "the chapter's `dagfc check --python` transcript is not what it prints"
    );
}

/// A module of a team's own operators, with what `operators import` must read: string
/// annotations naming a module imported only for type checkers, unions, literals, a
/// string enum, defaults of several kinds, templated fields, reST docstrings, and the
/// classes it must leave out.
const TEAM_OPS: &str = r#""""Operators of the team's own."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator, BaseSensorOperator

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from kubernetes.client import models as k8s


class Compression(str, enum.Enum):
    GZIP = "gzip"
    ZSTD = "zstd"


class BaseTeamOperator(BaseOperator):
    """Shared by the team's operators; does nothing itself."""


class PublishOperator(BaseTeamOperator):
    """Publishes a table's rows to a topic.

    Rows are sent in batches; see ``batch_size``.

    :param topic: The topic to publish to. Created when missing.
    :param table: Table to read, as ``schema.table``.
    :param keys: One key column or several, see :class:`~team.Keys`.
    :param mode: How rows are sent.
    :param compression: Compression of the payload.
    :param batch_size: Rows per message.
    :param timeout: How long one send may take.
    :param headers: Extra message headers.
    :param pod: A pod template.
    :param on_row: Called for every row.
    """

    template_fields: Sequence[str] = ("topic", "table")

    def __init__(
        self,
        *,
        topic: str,
        table: str,
        keys: str | list[str] | None = None,
        mode: Literal["append", "replace"] = "append",
        compression: Compression = Compression.GZIP,
        batch_size: int = 500,
        ratio: float = 0.5,
        timeout: timedelta = timedelta(minutes=5),
        headers: dict[str, str] | None = None,
        pod: k8s.V1Pod | None = None,
        on_row: Callable[..., None] | None = None,
        label="${run}",
        marker=object(),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.topic = topic
        self.table = table

    def execute(self, context):
        return self.topic


OldPublishOperator = PublishOperator


class TopicSensor(BaseSensorOperator):
    """Waits for a message on a topic."""

    template_fields = ("topic",)

    def __init__(self, topic: str, *, poke_interval: float = 30, **kwargs) -> None:
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.topic = topic

    def poke(self, context):
        return True
"#;

/// `dagfc operators import ARGS` in `dir`: its exit status, standard output, and the
/// diagnostics and summary of its JSON messages (on standard error).
fn operators_import(dir: &Path, args: &[&str]) -> (Option<i32>, String, Run) {
    let out = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["operators", "import"])
        .args(args)
        .args(["--message-format", "json", "--color", "never"])
        .current_dir(dir)
        .env_remove("DAGF_ENV")
        .output()
        .expect("run dagfc");
    // The JSON messages are on standard error while the declarations are printed, on
    // standard output when they go to --out.
    let messages = if args.contains(&"--out") {
        &out.stdout
    } else {
        &out.stderr
    };
    let (diags, _) = json_messages(messages);
    let run = Run {
        status: out.status.code(),
        diags: diags
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap_or("").to_string(),
                    String::new(),
                    0,
                    d["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
        took: Duration::ZERO,
        raw: format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ),
    };
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        run,
    )
}

#[test]
fn operators_import_writes_the_declarations_a_person_would() {
    let python = venv_python();
    let flag = python_flag(&python);
    let dir = project(TOML, &[("python/team_ops.py", TEAM_OPS)]);
    let (status, text, run) = operators_import(dir.path(), &[&flag, "team_ops"]);
    assert_eq!(status, Some(0), "{}", run.raw);
    assert!(run.diags.is_empty(), "{:?}", run.diags);
    insta::assert_snapshot!("operators_import_team_ops", text);
    // Twice the same answer: the order is the module's, not Python's hash order.
    let (_, again, _) = operators_import(dir.path(), &[&flag, "team_ops"]);
    assert_eq!(text, again);
    // What it wrote compiles, is what the class takes (check --python), and a task
    // with a misspelt field is one error at the field.
    std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    std::fs::write(dir.path().join("src/team_ops.dagf"), &text).expect("write");
    let dag = "import \"team_ops.dagf\"\ndag nightly {\n    start = 2024-01-01\n    task send: publish { topic = \"t\", table = \"s.orders\", keys = [\"id\"], timeout = 1m }\n    task wait: topic_sensor { topic = \"t\", mode = \"reschedule\" }\n    wait >> send\n}\n";
    std::fs::write(dir.path().join("src/main.dagf"), dag).expect("write");
    let ok = dagfc(dir.path(), &["check", &flag]);
    assert_eq!(ok.status, Some(0), "{}", ok.raw);
    assert!(ok.diags.is_empty(), "{:?}", ok.diags);
    std::fs::write(
        dir.path().join("src/main.dagf"),
        dag.replace("table = ", "tabel = "),
    )
    .expect("write");
    one_error(
        &dagfc(dir.path(), &["check"]),
        "E0203",
        "src/main.dagf",
        4,
        "tabel",
    );
}

/// The differences between the standard library's hand-written declarations and the
/// imported ones, each with its reason: field, standard library type, imported type.
const EXPLAINED: &[(&str, &str, &str)] = &[
    // No annotation in Python: the standard library knows from the docs it is a path.
    ("filepath", "str", "any"),
    // Python says `int` (seconds); the standard library takes a duration and writes seconds.
    ("poke_interval", "seconds", "int"),
    // Python takes a timedelta or, since Airflow 3, seconds as an int.
    ("delta", "duration", "duration | int"),
    // Python takes a datetime too; the imported type is the more precise.
    ("target_time", "str", "str | datetime"),
    ("logical_date", "str", "str | datetime"),
    // Python takes one exit code or a container of them.
    ("skip_on_exit_code", "list<int>", "int | list<int>"),
];

#[test]
fn operators_import_of_the_standard_provider_compiles_and_agrees_with_the_standard_library() {
    let python = venv_python();
    let flag = python_flag(&python);
    let dir = project(TOML, &[]);
    let (status, _, run) = operators_import(
        dir.path(),
        &[
            &flag,
            "airflow.providers.standard.operators",
            "airflow.providers.standard.sensors",
            "--out",
            "src/standard_ops.dagf",
        ],
    );
    assert_eq!(status, Some(0), "{}", run.raw);
    let summary: serde_json::Value = run
        .raw
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "summary")
        .expect("a summary");
    assert!(
        summary["operators"].as_u64() >= Some(15) && summary["sensors"].as_u64() >= Some(8),
        "{summary}"
    );
    let text = std::fs::read_to_string(dir.path().join("src/standard_ops.dagf")).expect("read");
    let ok = dagfc(dir.path(), &["check", &flag]);
    assert_eq!(ok.status, Some(0), "{}", ok.raw);
    assert!(ok.diags.is_empty(), "{:?}", ok.diags);

    let decls = |text: &str| -> Vec<dagf_syntax::ast::OperatorDecl> {
        let (module, _) = dagf_syntax::parse(text, dagf_diag::FileId(0));
        module
            .items
            .into_iter()
            .filter_map(|i| match i {
                dagf_syntax::ast::Item::Operator(d) => Some(d),
                _ => None,
            })
            .collect()
    };
    let std_text = include_str!("../../dagf-sema/src/std/std.dagf");
    let imported = decls(&text);
    let mut compared = 0;
    let mut problems = Vec::new();
    for s in decls(std_text) {
        if !s.class.starts_with("airflow.providers.standard.") {
            continue;
        }
        let Some(i) = imported.iter().find(|i| i.class == s.class) else {
            problems.push(format!("{} was not imported", s.class));
            continue;
        };
        compared += 1;
        assert_eq!(i.is_sensor, s.is_sensor, "{}", s.class);
        for f in &s.fields {
            let name = &f.name.name;
            let Some(g) = i.fields.iter().find(|g| &g.name.name == name) else {
                problems.push(format!("{}: no field `{name}`", s.class));
                continue;
            };
            if f.templated.is_some() != g.templated.is_some() {
                problems.push(format!("{}: `{name}` templated differs", s.class));
            }
            let optional = |p: &dagf_syntax::ast::Param| {
                p.default.is_some() || matches!(p.ty.kind, dagf_syntax::ast::TypeKind::Optional(_))
            };
            if optional(f) != optional(g) {
                problems.push(format!("{}: `{name}` required differs", s.class));
            }
            let ty = |text: &str, p: &dagf_syntax::ast::Param| {
                let t = text_of(text, p);
                t.trim_end_matches('?').trim_matches(['(', ')']).to_string()
            };
            let (want, got) = (ty(std_text, f), ty(&text, g));
            if want != got && !EXPLAINED.contains(&(name.as_str(), want.as_str(), got.as_str())) {
                problems.push(format!(
                    "{}: `{name}` is `{want}` in the standard library, `{got}` imported",
                    s.class
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(compared >= 10, "compared {compared} classes");
}

/// The type of a field as its text writes it (`str`, `(str | list<str>)?`).
fn text_of(text: &str, p: &dagf_syntax::ast::Param) -> String {
    // The field's span holds its docs; the type follows its name.
    let after = text
        .get(p.name.span.end as usize..p.span.end as usize)
        .unwrap_or("");
    let after = after.trim_start().strip_prefix(':').unwrap_or(after);
    after.split(" = ").next().unwrap_or("").trim().to_string()
}

#[test]
fn operators_import_reports_each_bad_target_once() {
    let python = venv_python();
    let flag = python_flag(&python);
    let broken = "import not_installed_anywhere\n";
    let cases: &[(&str, &str)] = &[
        (
            "E0710",
            "airflow.providers.standard.operators.bash.BashOperatr",
        ),
        ("E0710", "no_such_package_anywhere.operators"),
        ("E0711", "broken_ops"),
        (
            "E0712",
            "airflow.providers.standard.hooks.subprocess.SubprocessHook",
        ),
        (
            "E0712",
            "airflow.providers.standard.operators.bash.TYPE_CHECKING",
        ),
        ("E0713", "airflow.providers.standard.hooks"),
    ];
    let dir = project(TOML, &[("python/broken_ops.py", broken)]);
    for (code, target) in cases {
        let (status, out, run) = operators_import(dir.path(), &[&flag, target]);
        assert_eq!(status, Some(1), "{target}: {}", run.raw);
        assert!(out.is_empty(), "{target}: printed {out}");
        let codes: Vec<&str> = run.diags.iter().map(|d| d.0.as_str()).collect();
        assert_eq!(codes, vec![*code], "{target}: {}", run.raw);
    }
    // --out is not written when a target fails.
    let (status, _, _) =
        operators_import(dir.path(), &[&flag, "broken_ops", "--out", "src/ops.dagf"]);
    assert_eq!(status, Some(1));
    assert!(!dir.path().join("src/ops.dagf").exists());
}

/// `dagfc diff --folder`: an output folder, edited by hand after its build, against
/// sources changed since, both as Airflow loads them: every change, each named by the
/// layer and line of the current sources; a fresh build of the same sources is no
/// difference; a folder that is not one is E0409.
#[test]
fn diff_against_an_output_folder_reads_what_airflow_loads() {
    let python = venv_python();
    let before = "factory daily(name: str) {\n    schedule = @daily\n    start = 2024-01-01\n    default_args { retries = 2 }\n    task extract: bash { bash_command = \"extract ${name}\" }\n    task load: bash { bash_command = \"load ${name}\" }\n    extract >> load\n}\ndag orders: daily(name = \"orders\")\ndag refunds: daily(name = \"refunds\")\n";
    let dir = project(TOML, &[("src/main.dagf", before)]);
    let run = |args: &[&str]| {
        let home = tempfile::tempdir().expect("home");
        let out = Command::new(env!("CARGO_BIN_EXE_dagfc"))
            .args(args)
            .arg(python_flag(&python))
            .current_dir(dir.path())
            .env("AIRFLOW_HOME", home.path())
            .env_remove("DAGF_ENV")
            .output()
            .expect("run dagfc");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let build = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["build", "-q", "--out", "deployed"])
        .current_dir(dir.path())
        .output()
        .expect("build");
    assert!(build.status.success());
    let (status, out, err) = run(&["diff", "--folder", "deployed"]);
    assert_eq!(
        (status, out.as_str()),
        (Some(0), "no difference\n"),
        "{err}"
    );

    // The deployed file edited by hand, and the sources changed since the build.
    let file = dir.path().join("deployed/orders.py");
    let text = std::fs::read_to_string(&file).expect("orders.py");
    assert!(text.contains("\"retries\": 2") && text.contains("\"load orders\""));
    let edited = text
        .replace("\"retries\": 2", "\"retries\": 5")
        .replace("\"load orders\"", "\"load orders --fast\"");
    std::fs::write(&file, edited).expect("edit");
    let after = before.replace("@daily", "@hourly") + "dag payments: daily(name = \"payments\")\n";
    std::fs::write(dir.path().join("src/main.dagf"), &after).expect("source");
    std::fs::remove_file(dir.path().join("deployed/refunds.py")).expect("remove");

    let (status, out, err) = run(&["diff", "--folder", "deployed", "--format", "json"]);
    assert_eq!(status, Some(3), "{out}\n{err}");
    let changes: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let changes = changes.as_array().expect("an array");
    let find = |dag: &str, path: &str| {
        changes
            .iter()
            .find(|c| c["dag"] == dag && c["path"] == path)
            .unwrap_or_else(|| panic!("no change of {dag} {path} in {changes:#?}"))
    };
    let line_col = |needle: &str| {
        let (n, l) = after
            .lines()
            .enumerate()
            .find(|(_, l)| l.contains(needle))
            .expect("the line");
        format!(
            "src/main.dagf:{}:{}",
            n + 1,
            l.find(needle).expect("col") + 1
        )
    };
    let schedule = find("orders", "schedule");
    assert_eq!(
        (schedule["old"].as_str(), schedule["new"].as_str()),
        (Some("\"@daily\""), Some("\"@hourly\""))
    );
    assert_eq!(schedule["layer"], "the factory `daily`");
    assert_eq!(schedule["at"], line_col("schedule = @hourly"));
    // What the hand edit made, which the manifest's hash alone could not tell.
    let retries = find("orders", "default_args.retries");
    assert_eq!(
        (retries["old"].as_str(), retries["new"].as_str()),
        (Some("5"), Some("2"))
    );
    assert_eq!(retries["at"], line_col("2 }"));
    let command = find("orders", "load.bash_command");
    assert_eq!(command["old"], "\"load orders --fast\"");
    // refunds.py was deleted from the folder: building adds it back, as payments.
    let added: Vec<&str> = changes
        .iter()
        .filter(|c| c["kind"] == "dag_added")
        .filter_map(|c| c["dag"].as_str())
        .collect();
    assert_eq!(added, ["payments", "refunds"], "{changes:#?}");
    // Nothing else: the untouched values of both sides read the same.
    assert_eq!(changes.len(), 5, "{changes:#?}");

    let (status, _, err) = run(&["diff", "--folder", "src/main.dagf"]);
    assert_eq!(status, Some(1));
    assert!(
        err.contains("[E0409]") && err.contains("it is not a folder"),
        "{err}"
    );
}

/// An operator whose constructor has no annotations, its types given only by Sphinx
/// `:type name:` fields (and `:param TYPE name:`), as many providers write them.
const DOC_TYPED_OPS: &str = r#"from airflow.sdk import BaseOperator


class Transfer(BaseOperator):
    """Copies a table.

    :param source: the table to read
    :type source: str
    :param targets: where to write
    :type targets: list of str
    :param retries_left: how many times to retry
    :type retries_left: int, optional
    :param mode: how to write
    :type mode: str or list[str]
    :param int batch: rows per batch
    :param labels: labels of the copy
    :type labels: dict[str, str]
    :param wait: how long to wait for the table
    :type wait: :class:`~datetime.timedelta`
    :param extra: anything at all
    """

    def __init__(self, *, source, targets, retries_left=None, mode="append", batch=10, labels=None, wait=None, extra=None, **kwargs):
        super().__init__(**kwargs)

    def execute(self, context):
        return None
"#;

#[test]
fn operators_import_reads_types_from_sphinx_docstrings() {
    let python = venv_python();
    let flag = python_flag(&python);
    let dir = project(TOML, &[("python/doc_ops.py", DOC_TYPED_OPS)]);
    let (status, text, run) = operators_import(dir.path(), &[&flag, "doc_ops"]);
    assert_eq!(status, Some(0), "{}", run.raw);
    assert!(run.diags.is_empty(), "{:?}", run.diags);
    let field = |name: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no field {name} in:\n{text}"))
            .to_string()
    };
    assert_eq!(field("source"), "source: str");
    assert_eq!(field("targets"), "targets: list<str>");
    assert_eq!(field("retries_left"), "retries_left: int?");
    assert_eq!(field("mode"), "mode: str | list<str> = \"append\"");
    assert_eq!(field("batch"), "batch: int = 10");
    assert_eq!(field("labels"), "labels: map<str>?");
    assert_eq!(field("wait"), "wait: duration?");
    // Where neither the signature nor the docstring says, and only there: `any`.
    assert_eq!(field("extra"), "extra: any?");
    // What it wrote compiles.
    std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    std::fs::write(dir.path().join("src/doc_ops.dagf"), &text).expect("write");
    let checked = dagfc(dir.path(), &["check"]);
    assert_eq!(checked.status, Some(0), "{}", checked.raw);
}
