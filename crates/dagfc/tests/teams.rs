//! A tenant kind's `team` for real: the build writes each team's folder as a dag bundle
//! of its own, and Airflow in multi-team mode, configured with the bundle list the build
//! wrote, gives every DAG to the team the source says, loads none twice, and keeps the
//! DAGs outside the teams' folders in the bundle of the whole folder.

mod common;

use std::path::Path;
use std::process::Command;

const SOURCE: &str = r#"
tenant Customer {
    output = "customers/${tenant}"
    team = "customer-${tenant}"
}

Customer acme {}
Customer globex {}

factory daily(owner: str) {
    schedule = @daily
    start = 2024-01-01
    default_args { owner = owner }
    task extract: empty
    task load: empty
    extract >> load
}

dag acme_orders: daily(owner = "acme") in acme
dag acme_refunds: daily(owner = "acme") in acme
dag globex_events: daily(owner = "globex") in globex
dag platform_health: daily(owner = "platform")
"#;

fn build(dir: &Path, out: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(
        dir.join("dagf.toml"),
        format!(
            "[project]\nname = \"teams\"\nsrc = [\"src\"]\nout = \"dags\"\n\n[target]\nairflow = \"3.3\"\ndags_folder = \"{}\"\n",
            out.display()
        ),
    )
    .expect("dagf.toml");
    std::fs::write(dir.join("src/main.dagf"), SOURCE).expect("source");
    let built = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["build", "--color", "never"])
        .current_dir(dir)
        .output()
        .expect("run dagfc");
    assert!(
        built.status.success(),
        "dagfc build failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

#[test]
fn each_team_owns_exactly_its_dags_in_airflow_multi_team_mode() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = dir.path().join("dags");
    build(dir.path(), &out);
    for file in ["airflow-bundles.json", ".airflowignore"] {
        assert!(out.join(file).is_file(), "the build wrote no {file}");
    }

    let run = Command::new(common::venv_python())
        .arg(common::repo().join("tests/airflow/teams.py"))
        .arg(&out)
        .output()
        .expect("run teams.py");
    assert!(
        run.status.success(),
        "teams.py failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let found: serde_json::Value =
        serde_json::from_slice(&run.stdout).expect("teams.py prints JSON");
    assert_eq!(found["errors"], serde_json::json!([]), "import errors");
    let dags = found["dags"].as_object().expect("dags");
    let expected = [
        ("acme_orders", "customers.acme", Some("customer-acme")),
        ("acme_refunds", "customers.acme", Some("customer-acme")),
        ("globex_events", "customers.globex", Some("customer-globex")),
        ("platform_health", "dags-folder", None),
    ];
    assert_eq!(
        dags.len(),
        expected.len(),
        "Airflow holds other dags than the build wrote: {dags:#?}"
    );
    let mut loaded = serde_json::Map::new();
    for (dag, bundle, _) in expected {
        let ids = loaded
            .entry(bundle)
            .or_insert_with(|| serde_json::json!([]));
        ids.as_array_mut()
            .expect("list")
            .push(serde_json::json!(dag));
    }
    assert_eq!(
        found["loaded"],
        serde_json::Value::Object(loaded),
        "what each bundle's own parse finds"
    );
    for (dag, bundle, team) in expected {
        let got = &dags[dag];
        assert_eq!(got["bundle"], serde_json::json!(bundle), "bundle of {dag}");
        assert_eq!(got["team"], serde_json::json!(team), "team of {dag}");
    }
}
