//! The pools file with the real Airflow CLI: a project's declared pools, written by
//! `dagfc build`, are what `airflow pools import` creates in a fresh metadata database,
//! and the file goes away with the last pool.

mod common;

use common::{build_into, venv_python};
use std::path::Path;
use std::process::Command;

const PROJECT: &str = r#"
/// Shared by every team.
pool warehouse {
    slots = 6
    description = "Warehouse \"loads\""
    include_deferred = true
}

pool unlimited { slots = -1 }

pool default_pool { slots = 64, description = "Default pool" }

tenant Customer {
    tier: "gold" | "silver"
    naming = "${tenant}__${dag}"
    output = "customers/${tenant}"
    pool "customer_${tenant}" {
        slots = if tier == "gold" { 12 } else { 3 }
        description = "Customer ${tenant}"
    }
    policy {
        default_args { pool = "customer_${tenant}" }
    }
}

Customer acme { tier = "gold" }
Customer globex { tier = "silver" }

for c in Customer {
    dag load in c {
        task copy: bash { bash_command = "echo copy", pool_slots = 2 }
    }
}

dag shared {
    task big: bash { bash_command = "echo big", pool = "warehouse", pool_slots = 6 }
    task any: bash { bash_command = "echo any", pool = "unlimited", pool_slots = 1000 }
}
"#;

fn airflow(python: &Path, home: &Path, args: &[&str]) -> String {
    let bin = python.parent().expect("bin").join("airflow");
    let mut cmd = Command::new(bin);
    // A throwaway Airflow: nothing inherited from the caller's.
    for (k, _) in std::env::vars() {
        if k.starts_with("AIRFLOW") {
            cmd.env_remove(k);
        }
    }
    let run = cmd
        .args(args)
        .env("AIRFLOW_HOME", home)
        .env(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            format!("sqlite:///{}", home.join("airflow.db").display()),
        )
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__DAGS_FOLDER", home.join("dags"))
        .output()
        .expect("run airflow");
    assert!(
        run.status.success(),
        "airflow {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).into_owned()
}

#[test]
fn airflow_imports_the_declared_pools() {
    let python = venv_python();
    let tmp = tempfile::tempdir().expect("tmp");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("src");
    std::fs::write(project.join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
    std::fs::write(project.join("src/main.dagf"), PROJECT).expect("source");
    let out = tmp.path().join("out");
    build_into(&project, &out, &[]);

    let file = out.join("pools.json");
    assert!(file.is_file(), "no pools file");
    let manifest = std::fs::read_to_string(out.join(".dagf-manifest.json")).expect("manifest");
    assert!(
        manifest.contains("\"pools.json\""),
        "the manifest lists the pools file:\n{manifest}"
    );

    let home = tmp.path().join("airflow");
    std::fs::create_dir_all(home.join("dags")).expect("home");
    airflow(&python, &home, &["db", "migrate"]);
    let said = airflow(
        &python,
        &home,
        &["pools", "import", file.to_str().expect("utf-8")],
    );
    assert!(said.contains("Uploaded 5 pool(s)"), "{said}");

    let exported = home.join("exported.json");
    airflow(
        &python,
        &home,
        &["pools", "export", exported.to_str().expect("utf-8")],
    );
    let pools: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&exported).expect("export")).expect("json");
    let expected = serde_json::json!({
        "default_pool": {"slots": 64, "description": "Default pool", "include_deferred": false},
        "warehouse": {"slots": 6, "description": "Warehouse \"loads\"", "include_deferred": true},
        "unlimited": {"slots": -1, "description": null, "include_deferred": false},
        "customer_acme": {"slots": 12, "description": "Customer acme", "include_deferred": false},
        "customer_globex": {"slots": 3, "description": "Customer globex", "include_deferred": false},
    });
    assert_eq!(pools, expected);
    // What Airflow exports is what the build wrote, byte for byte but for the newline.
    let written = std::fs::read_to_string(&file).expect("pools file");
    let exported_text = std::fs::read_to_string(&exported).expect("export");
    assert_eq!(written.trim_end(), exported_text.trim_end());

    // The pools go: so does the file, and the manifest no longer lists it.
    std::fs::write(
        project.join("src/main.dagf"),
        "dag only {\n    task t: empty\n}\n",
    )
    .expect("source");
    build_into(&project, &out, &[]);
    assert!(
        !file.exists(),
        "the pools file is removed with the last pool"
    );
    let manifest = std::fs::read_to_string(out.join(".dagf-manifest.json")).expect("manifest");
    assert!(!manifest.contains("pools.json"), "{manifest}");
}

/// A `pools.json` the build did not write is never overwritten (E0401), and nothing
/// else is written either.
#[test]
fn a_pools_file_not_written_by_dagfc_is_left_alone() {
    let tmp = tempfile::tempdir().expect("tmp");
    let project = tmp.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("src");
    std::fs::write(project.join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
    std::fs::write(
        project.join("src/main.dagf"),
        "pool etl { slots = 2 }\n\ndag d {\n    task t: bash { bash_command = \"echo t\", pool = \"etl\" }\n}\n",
    )
    .expect("source");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::write(out.join("pools.json"), "{\"mine\": {}}\n").expect("foreign file");
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(["build", "--color", "never", "--project"])
        .arg(&project)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run dagfc");
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("[E0401]").count(), 1, "{err}");
    assert!(
        err.contains("the project's pools would overwrite it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("pools.json")).expect("kept"),
        "{\"mine\": {}}\n"
    );
    assert!(!out.join("d.py").exists(), "nothing is written");
}
