//! Typed dag params with the real Airflow: the generated `Param`s carry the JSON Schema
//! of their types once Airflow has loaded the DAG, and a value given with
//! `airflow dags test --conf` reaches the task, in both output styles.

mod common;

use common::{build_into, venv_python};
use std::path::Path;
use std::process::{Command, Output};

const PROJECT: &str = r#"
dag expects_seven {
    start = 2024-01-01
    params {
        /// The day to rebuild.
        day: date = 2024-01-01
        mode: "full" | "delta" = "delta"
        batch: int in 1..=500 = 100
        emails: list<str> = []
        note: str?
    }
    // Fails unless the run gives `batch` another value than its default.
    task check: bash {
        bash_command = "test \"{{ params.batch }}\" = 7 && test \"{{ params.mode }}\" = delta"
    }
}
"#;

/// Runs `airflow ARGS` (or, with `script`, the venv's Python on it) in a throwaway
/// Airflow home whose dags folder is `dags`.
fn airflow(python: &Path, home: &Path, dags: &Path, args: &[&str], script: bool) -> Output {
    let mut cmd = if script {
        Command::new(python)
    } else {
        Command::new(python.parent().expect("bin").join("airflow"))
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("AIRFLOW") {
            cmd.env_remove(k);
        }
    }
    cmd.args(args)
        .env("AIRFLOW_HOME", home)
        .env(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            format!("sqlite:///{}", home.join("airflow.db").display()),
        )
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__DAGS_FOLDER", dags)
        .output()
        .expect("run airflow")
}

fn text(o: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const LOAD: &str = r#"
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
assert not bag.import_errors, bag.import_errors
dag = bag.dags["expects_seven"]
print(json.dumps({k: dag.params.get_param(k).serialize() for k in dag.params}, sort_keys=True))
"#;

#[test]
fn params_reach_airflow_with_their_schema_and_a_run_takes_another_value() {
    let python = venv_python();
    let tmp = tempfile::tempdir().expect("tmp");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("src");
    std::fs::write(project.join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
    std::fs::write(project.join("src/main.dagf"), PROJECT).expect("source");
    let home = tmp.path().join("airflow");
    std::fs::create_dir_all(&home).expect("home");
    let script = tmp.path().join("load.py");
    std::fs::write(&script, LOAD).expect("script");

    let expected = serde_json::json!({
        "batch": {"value": 100, "description": null, "source": null,
                  "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
        "day": {"value": "2024-01-01", "description": "The day to rebuild.", "source": null,
                "schema": {"type": "string", "format": "date"}},
        "emails": {"value": [], "description": null, "source": null,
                   "schema": {"type": "array", "items": {"type": "string"}}},
        "mode": {"value": "delta", "description": null, "source": null,
                 "schema": {"type": "string", "enum": ["full", "delta"]}},
        "note": {"value": null, "description": null, "source": null,
                 "schema": {"type": ["null", "string"]}},
    });

    let mut migrated = false;
    for style in ["classic", "taskflow"] {
        let dags = tmp.path().join(style);
        build_into(&project, &dags, &["--style", style]);
        let file = std::fs::read_to_string(dags.join("expects_seven.py")).expect("file");
        assert!(
            file.contains("Param(100, type=\"integer\", minimum=1, maximum=500)"),
            "{file}"
        );

        let dag_folder = dags.to_str().expect("utf-8");
        let loaded = airflow(
            &python,
            &home,
            &dags,
            &[script.to_str().expect("utf-8"), dag_folder],
            true,
        );
        assert!(loaded.status.success(), "{}", text(&loaded));
        let stdout = String::from_utf8_lossy(&loaded.stdout);
        let last = stdout.lines().last().unwrap_or_default();
        let params: serde_json::Value = serde_json::from_str(last).expect("params as JSON");
        assert_eq!(params, expected, "{style}");

        if !migrated {
            let m = airflow(&python, &home, &dags, &["db", "migrate"], false);
            assert!(m.status.success(), "{}", text(&m));
            migrated = true;
        }
        let run = |conf: &str| {
            let o = airflow(
                &python,
                &home,
                &dags,
                &["dags", "test", "expects_seven", "--conf", conf],
                false,
            );
            // The run's state as the metadata database has it, as conformance.py reads it.
            let db = home.join("airflow.db");
            let state = Command::new(&python)
                .args([
                    "-c",
                    "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"select state from dag_run where dag_id = 'expects_seven' order by id desc limit 1\").fetchone()[0])",
                    db.to_str().expect("utf-8"),
                ])
                .output()
                .expect("read the state");
            let state = String::from_utf8_lossy(&state.stdout).trim().to_string();
            (state == "success", format!("state {state}\n{}", text(&o)))
        };
        let (ok, said) = run(r#"{"batch": 7}"#);
        assert!(
            ok,
            "the run with batch 7 ({style}) did not succeed:\n{said}"
        );
        if style == "classic" {
            // With the default, 100, the same task fails: the value came from the conf.
            let (ok, said) = run("{}");
            assert!(!ok, "the run with the default batch succeeded:\n{said}");
        }
    }
}
