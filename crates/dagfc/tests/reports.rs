//! `--timings`, `--trace` and `--metrics` on a real build of the catalog: the trace is
//! a Chrome trace whose pieces nest as the build ran them, the metrics agree with what
//! the build itself reports, and the Prometheus text passes a real parser.

mod common;

use common::dagfc_catalog as dagfc;
use common::json_messages;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("written")).expect("JSON")
}

#[test]
fn a_build_reports_its_phases_dags_and_metrics() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (out, trace, metrics) = (
        tmp.path().join("dags"),
        tmp.path().join("trace.json"),
        tmp.path().join("metrics.json"),
    );
    let path = |p: &Path| p.to_str().expect("utf-8").to_string();
    let run = dagfc(&[
        "build",
        "--out",
        &path(&out),
        "--timings",
        "--trace",
        &path(&trace),
        "--metrics",
        &path(&metrics),
        "--message-format",
        "json",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let (diags, summary) = json_messages(&run.stdout);

    // The timings: usage, then the phases in the order they ran.
    let text = String::from_utf8_lossy(&run.stderr);
    assert!(
        text.contains("timings: ") && text.contains(" wall, "),
        "{text}"
    );
    let order: Vec<usize> = [
        "read dagf.toml and list files",
        "load and parse",
        "config sources",
        "lints",
        "evaluate, check and generate",
        "write output",
    ]
    .iter()
    .map(|p| {
        text.find(&format!("  {p} "))
            .unwrap_or_else(|| panic!("no phase {p}:\n{text}"))
    })
    .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(text.contains("slowest dags"), "{text}");

    // The trace: complete events on threads; each dag made inside the evaluation
    // phase, its code generated inside its own evaluation, one of each per dag.
    let trace = read_json(&trace);
    let events: Vec<&serde_json::Value> = trace["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    let span = |e: &serde_json::Value| {
        let ts = e["ts"].as_u64().expect("ts");
        (ts, ts + e["dur"].as_u64().expect("dur"))
    };
    let phase = events
        .iter()
        .find(|e| e["name"] == "evaluate, check and generate")
        .expect("the evaluation phase");
    let (from, to) = span(phase);
    let of = |cat: &str| -> BTreeMap<String, &serde_json::Value> {
        events
            .iter()
            .filter(|e| e["cat"] == cat)
            .map(|e| (e["name"].as_str().expect("name").to_string(), *e))
            .collect()
    };
    let (dags, generated) = (of("dag"), of("generate"));
    let built = summary["dags"].as_u64().expect("dags") as usize;
    assert_eq!(dags.len(), built);
    assert_eq!(generated.len(), built);
    for (id, dag) in &dags {
        let (a, b) = span(dag);
        assert!(from <= a && b <= to, "{id} outside the evaluation phase");
        let (c, d) = span(generated[id]);
        assert!(
            a <= c && d <= b && dag["tid"] == generated[id]["tid"],
            "{id}"
        );
    }

    // The metrics agree with the build's own summary and diagnostics.
    let m = read_json(&metrics);
    assert_eq!(m["success"], true);
    assert_eq!(m["dags"].as_u64(), summary["dags"].as_u64());
    assert_eq!(m["warnings"].as_u64(), summary["warnings"].as_u64());
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for d in &diags {
        *codes
            .entry(d["code"].as_str().expect("code").to_string())
            .or_default() += 1;
    }
    let reported: BTreeMap<String, u64> = m["diagnostics"]
        .as_object()
        .expect("diagnostics")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().expect("count")))
        .collect();
    assert_eq!(reported, codes);
    assert_eq!(m["files"]["written"].as_u64(), summary["written"].as_u64());
    let tenants: Vec<&str> = m["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(|s| s["tenant"].as_str())
        .collect();
    assert!(
        tenants.contains(&"acme") && tenants.contains(&""),
        "{tenants:?}"
    );
    let tasks: u64 = m["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| s["tasks"].as_u64().expect("tasks"))
        .sum();
    assert_eq!(m["tasks"].as_u64(), Some(tasks));
    assert!(tasks > built as u64);

    // Reporting changes nothing the build writes.
    let plain = tmp.path().join("plain");
    let run = dagfc(&["build", "--out", &path(&plain)]);
    assert!(run.status.success());
    for f in std::fs::read_dir(&plain).expect("plain output") {
        let f = f.expect("entry").path();
        if f.is_file() {
            let name = f.file_name().expect("name");
            assert_eq!(
                std::fs::read(&f).expect("read"),
                std::fs::read(out.join(name)).expect("the same file with reports"),
                "{}",
                f.display()
            );
        }
    }

    // The same project checked, its metrics as Prometheus text.
    let prom = tmp.path().join("metrics.prom");
    let run = dagfc(&["check", "--metrics", &path(&prom)]);
    assert!(run.status.success());
    let text = std::fs::read_to_string(&prom).expect("written");
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .unwrap_or_else(|| panic!("no {name} {label:?} in\n{text}"));
        match sample.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{name} is not a gauge"),
        }
    };
    let dags_total: f64 = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "dagf_dags")
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(dags_total as u64, summary["dags"].as_u64().expect("dags"));
    assert_eq!(value("dagf_build_success", None), 1.0);
    assert!(value("dagf_dags", Some(("tenant", "acme"))) >= 1.0);
    assert!(value("dagf_phase_seconds", Some(("phase", "load and parse"))) > 0.0);
    assert_eq!(diagnostics_of(&scrape), codes);
}

/// The `dagf_diagnostics` samples: count by code.
fn diagnostics_of(scrape: &prometheus_parse::Scrape) -> BTreeMap<String, u64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "dagf_diagnostics")
        .map(|s| {
            let n = match s.value {
                prometheus_parse::Value::Gauge(v) => v as u64,
                _ => panic!("not a gauge"),
            };
            (s.labels.get("code").expect("a code").to_string(), n)
        })
        .collect()
}

#[test]
fn a_failing_check_counts_its_errors_by_code() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::write(
        tmp.path().join("dagf.toml"),
        "[project]\nname = \"broken\"\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("toml");
    std::fs::create_dir(tmp.path().join("src")).expect("src");
    std::fs::write(
        tmp.path().join("src/main.dagf"),
        "dag a {\n    schedule = \"not a cron\"\n    task t: bash { bash_command = 1 }\n}\n",
    )
    .expect("source");
    let metrics = tmp.path().join("m.json");
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["check", "--project"])
        .arg(tmp.path())
        .arg("--metrics")
        .arg(&metrics)
        .args(["--message-format", "json"])
        .output()
        .expect("run dagfc");
    assert_eq!(run.status.code(), Some(1));
    let (diags, _) = json_messages(&run.stdout);
    let m = read_json(&metrics);
    assert_eq!(m["success"], false);
    assert_eq!(m["errors"].as_u64(), Some(diags.len() as u64));
    assert!(diags.len() >= 2);
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for d in &diags {
        *codes
            .entry(d["code"].as_str().expect("code").to_string())
            .or_default() += 1;
    }
    // The same failure, as Prometheus text.
    let prom = tmp.path().join("m.prom");
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(["check", "--project"])
        .arg(tmp.path())
        .arg("--metrics")
        .arg(&prom)
        .output()
        .expect("run dagfc");
    assert_eq!(run.status.code(), Some(1));
    let text = std::fs::read_to_string(&prom).expect("written");
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .expect("Prometheus text");
    assert_eq!(diagnostics_of(&scrape), codes);
    assert!(text.contains("dagf_build_success 0\n"), "{text}");
}
