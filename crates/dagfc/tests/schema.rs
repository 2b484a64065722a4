//! `dagfc schema`: JSON Schema for config files, with the source's docs and defaults,
//! named records defined once under `$defs`, and checked by a real validator.

mod common;

use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// A project with one source file; returns its folder.
fn project(source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("dagf.toml"), "[project]\nsrc = [\"src\"]\n").expect("toml");
    std::fs::create_dir(dir.path().join("src")).expect("src");
    std::fs::write(dir.path().join("src/main.dagf"), source).expect("source");
    dir
}

fn schema(dir: &Path, args: &[&str]) -> Value {
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .arg("schema")
        .args(args)
        .arg("--project")
        .arg(dir)
        .output()
        .expect("run dagfc");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("a JSON schema")
}

const DOCUMENTED: &str = r#"
/// A source system to ingest.
type Source = {
    /// The system's name; part of the dag id.
    name: str,
    /// How often a failed load is retried.
    retries: int in 0..=5 = 2,
}

/// One ingestion DAG per source.
factory ingest(
    /// What to ingest.
    source: Source,
    schedule: schedule = @daily,
    timeout: duration = 1h30m,
    tags: list<str> = ["ingest"],
) {
    schedule = schedule
    task t: empty
}
"#;

#[test]
fn docs_become_descriptions_and_defaults_defaults() {
    let dir = project(DOCUMENTED);
    let s = schema(dir.path(), &["Source"]);
    assert_eq!(s["description"], "A source system to ingest.", "{s:#}");
    assert_eq!(s["title"], "Source");
    let whole = &s["else"];
    assert_eq!(
        whole,
        &json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "The system's name; part of the dag id."},
                "retries": {
                    "type": "integer", "minimum": 0, "maximum": 5,
                    "description": "How often a failed load is retried.", "default": 2,
                },
            },
            "required": ["name"],
            "additionalProperties": false,
        }),
        "{s:#}"
    );
    // Nothing named is referred to, so there are no definitions.
    assert!(s.get("$defs").is_none(), "{s:#}");

    let f = schema(dir.path(), &["ingest"]);
    assert_eq!(f["description"], "One ingestion DAG per source.");
    let props = &f["else"]["properties"];
    assert_eq!(props["source"]["$ref"], "#/$defs/Source", "{f:#}");
    assert_eq!(props["source"]["description"], "What to ingest.");
    assert_eq!(props["schedule"]["default"], "@daily", "{f:#}");
    assert_eq!(props["timeout"]["default"], "1h30m", "{f:#}");
    assert_eq!(props["tags"]["default"], json!(["ingest"]), "{f:#}");
    assert_eq!(
        f["$defs"]["Source"]["description"],
        "A source system to ingest."
    );
    assert_eq!(
        f["$defs"]["Source"]["properties"]["retries"]["default"], 2,
        "{f:#}"
    );
}

const SHARED: &str = r#"
/// Hours of data a run covers.
type Window = { start: str, hours: int in 1..=24 = 24 }
type Job = {
    name: str,
    primary: Window,
    backup: Window,
    extra: list<Window> = [],
}
"#;

#[test]
fn a_record_used_twice_is_defined_once() {
    let dir = project(SHARED);
    let s = schema(dir.path(), &["Job"]);
    let defs = s["$defs"].as_object().expect("$defs");
    let keys: Vec<&str> = defs.keys().map(String::as_str).collect();
    // The whole form, and the partial one a document that extends bases is checked with.
    assert_eq!(keys, ["Window", "Window.partial"], "{s:#}");
    let text = s.to_string();
    assert_eq!(text.matches("\"hours\"").count(), 2, "{s:#}");
    for field in ["primary", "backup"] {
        assert_eq!(s["else"]["properties"][field]["$ref"], "#/$defs/Window");
        assert_eq!(
            s["then"]["properties"][field]["$ref"],
            "#/$defs/Window.partial"
        );
    }
    assert_eq!(
        s["else"]["properties"]["extra"]["items"]["$ref"],
        "#/$defs/Window"
    );
    assert_eq!(defs["Window"]["required"], json!(["start"]));
    assert!(defs["Window.partial"].get("required").is_none());
    // `--partial`: nothing required, nested records in their partial form (items of a
    // list stay whole).
    let p = schema(dir.path(), &["Job", "--partial"]);
    assert!(p["else"].get("required").is_none(), "{p:#}");
    assert_eq!(
        p["else"]["properties"]["primary"]["$ref"],
        "#/$defs/Window.partial"
    );
    assert_eq!(
        p["else"]["properties"]["extra"]["items"]["$ref"],
        "#/$defs/Window"
    );
}

/// The schemas are valid JSON Schema (2020-12), and a validator (Python's `jsonschema`,
/// in the Airflow environment, which depends on it) accepts and rejects the documents it
/// should, through the `$ref`s.
#[test]
fn a_real_validator_checks_documents_with_the_schema() {
    let dir = project(&format!("{SHARED}{DOCUMENTED}"));
    let job = schema(dir.path(), &["Job"]);
    let ingest = schema(dir.path(), &["ingest"]);
    let cases = json!([
        [job, {"name": "a", "primary": {"start": "x"}, "backup": {"start": "y", "hours": 3}}, true],
        [job, {"name": "a", "primary": {"start": "x"}, "backup": {"start": "y"}, "extra": [{"start": "z"}]}, true],
        [job, {"name": "a", "primary": {"start": "x", "hourz": 1}, "backup": {"start": "y"}}, false],
        [job, {"name": "a", "primary": {"start": "x"}}, false],
        [job, {"name": "a", "primary": {"start": "x"}, "backup": {"start": "y", "hours": 25}}, false],
        [job, {"name": "a", "primary": {"start": "x"}, "backup": {"start": "y"}, "extra": [{"hours": 2}]}, false],
        // A document that extends a base gives only what it changes, nested too.
        [job, {"extends": "base.yaml", "backup": {"hours": 2}}, true],
        [job, {"extends": "base.yaml", "backup": {"hourz": 2}}, false],
        [ingest, {"source": {"name": "crm"}, "timeout": "2h"}, true],
        [ingest, {"source": {"name": "crm", "retries": 9}}, false],
        [ingest, {"source": {"retries": 1}}, false],
        [ingest, {"source": {"name": "crm"}, "timeout": "soon"}, false],
    ]);
    let script = r#"
import json, sys, jsonschema
out = []
for schema, doc, _ in json.loads(sys.argv[1]):
    jsonschema.Draft202012Validator.check_schema(schema)
    out.append(jsonschema.Draft202012Validator(schema).is_valid(doc))
print(json.dumps(out))
"#;
    let run = Command::new(common::venv_python())
        .args(["-c", script])
        .arg(cases.to_string())
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got: Vec<bool> = serde_json::from_slice(&run.stdout).expect("a JSON list");
    let want: Vec<bool> = cases
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c[2] == true)
        .collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "case {i}: {}", cases[i][1]);
    }
    assert_eq!(got.len(), want.len());
}

/// Unions are `anyOf` their members: the `types` example's config file validates with
/// the printed schema, and the real validator tells the kinds of a tagged union apart
/// (a field of the other kind, an unknown kind, a value of no member are rejected).
#[test]
fn unions_are_any_of_and_tagged_unions_validate_by_kind() {
    let example = common::repo().join("examples/types");
    let copy = schema(&example, &["Copy"]);
    let source = &copy["$defs"];
    // A document that extends no base: the whole record, under `else`.
    let whole = &copy["else"]["properties"];
    assert_eq!(
        whole["notify"]["anyOf"],
        json!([{"type": "string"}, {"type": "array", "items": {"type": "string"}}]),
        "{copy}"
    );
    assert_eq!(
        whole["source"]["anyOf"],
        json!([{"$ref": "#/$defs/S3"}, {"$ref": "#/$defs/Sftp"}]),
        "{copy}"
    );
    assert_eq!(source["S3"]["properties"]["kind"], json!({"enum": ["s3"]}));
    let text = std::fs::read_to_string(example.join("src/sources/copies.yaml")).expect("yaml");
    let s3 = json!({"kind": "s3", "bucket": "acme"});
    let sftp = json!({"kind": "sftp", "host": "h", "path": "/p", "conn_id": "c"});
    let item =
        |source: Value, notify: Value| json!({"name": "a", "notify": notify, "source": source});
    let cases = json!([
        [item(s3.clone(), json!("a@example.com")), true],
        [
            item(sftp.clone(), json!(["a@example.com", "b@example.com"])),
            true
        ],
        [
            item(
                json!({"kind": "s3", "bucket": "acme", "host": "h"}),
                json!("a")
            ),
            false
        ],
        [
            item(json!({"kind": "s4", "bucket": "acme"}), json!("a")),
            false
        ],
        [item(json!({"bucket": "acme"}), json!("a")), false],
        [item(sftp, json!(3)), false],
        [item(s3, json!(["a", 3])), false],
    ]);
    let script = r#"
import json, sys, yaml, jsonschema
schema, text, cases = json.loads(sys.argv[1])
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
items = yaml.safe_load(text)
print(json.dumps([len(items), [e.message for d in items for e in v.iter_errors(d)], [v.is_valid(d) for d, _ in cases]]))
"#;
    let run = Command::new(common::venv_python())
        .args(["-c", script])
        .arg(json!([copy, text, cases]).to_string())
        .output()
        .expect("run python");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let got: Value = serde_json::from_slice(&run.stdout).expect("a JSON list");
    assert_eq!(
        got[0],
        json!(2),
        "both items of copies.yaml are read: {got}"
    );
    assert_eq!(got[1], json!([]), "copies.yaml is valid: {got}");
    let want: Vec<Value> = cases
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| c[1].clone())
        .collect();
    assert_eq!(got[2], Value::Array(want), "{cases}");
}
