//! Every Airflow version dagf targets, for real. For each of 2.11, 3.0, 3.1, 3.2 and
//! 3.3, every example project is built with `--target X.Y`; a source file whose only
//! errors are E0327 (a feature that version lacks) is left out, and nothing else may
//! fail. The version's own Airflow, in a virtual environment this test makes from
//! `tests/airflow/requirements-X.Y.txt` (3.3: `requirements.txt`), loads all of it in
//! one process (`tests/airflow/targets.py`): no import error, no warning raised from a
//! generated file, every DAG serialized and read back, each with the tasks, edges and
//! the kind of timetable the source asks for (a cron string runs on a trigger timetable
//! on every version, which on 2.11 takes writing it out). Then one DAG, the catalog's
//! 101.5.5 entry, runs with `airflow db migrate` and `airflow dags test`.

mod common;

use common::{catalog_api, examples, repo, venv_python, venv_python_for};
use dagf_target::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The DAG every version runs, and the file the catalog builds it into.
const SAMPLE: &str =
    "catalog/101_05_05_factory_version_compatibility.py:101_05_05_factory_version_compatibility";

fn name(p: &Path) -> String {
    p.file_name().expect("name").to_string_lossy().into_owned()
}

/// Copies a project, without its output folder (`dags`).
fn copy_project(from: &Path, to: &Path) {
    fn copy(from: &Path, to: &Path, top: bool) {
        std::fs::create_dir_all(to).expect("create folder");
        for e in std::fs::read_dir(from).expect("read folder") {
            let path = e.expect("entry").path();
            let target = to.join(path.file_name().expect("name"));
            if path.is_dir() {
                if !(top && path.file_name().is_some_and(|n| n == "dags")) {
                    copy(&path, &target, false);
                }
            } else {
                std::fs::copy(&path, &target).expect("copy file");
            }
        }
    }
    copy(from, to, true);
}

/// `dagfc ARGS --target V --message-format json` in `project`: exit status, stdout,
/// (code, file) of every error, and the messages (to show when something fails).
fn dagfc(
    project: &Path,
    version: Version,
    args: &[&str],
) -> (bool, String, Vec<(String, String)>, String) {
    catalog_api();
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(args)
        .args(["--target", version.as_str()])
        .args(["--message-format", "json", "--color", "never", "--project"])
        .arg(project)
        .output()
        .expect("run dagfc");
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    // JSON diagnostics go to standard output, or to standard error beside `--emit`.
    let messages = if args.contains(&"--emit") {
        stderr
    } else {
        String::from_utf8_lossy(&run.stdout).into_owned() + &stderr
    };
    let errors = messages
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|d| d["type"] == "diagnostic" && d["severity"] == "error")
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("?").to_string(),
                d["primary"]["file"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
        errors,
        messages,
    )
}

/// What Airflow must make of a DAG: its tasks, edges and timetable class.
#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    tasks: BTreeSet<String>,
    edges: BTreeSet<(String, String)>,
    timetable: String,
}

/// The expected timetable of a class of the project's: whatever the class is.
const ANY: &str = "*";

/// The timetable Airflow 3 makes of a schedule as `--emit ir` prints it: what every
/// target's file must come to.
fn timetable(schedule: Option<&str>) -> String {
    match schedule {
        Some(s) if s.starts_with("{ \"timetable\"") => ANY,
        Some(s) if s.starts_with('{') && s.contains("\"data_interval\" = true") => {
            "CronDataIntervalTimetable"
        }
        Some(s) if s.starts_with("{ \"cron\" = [") && s.contains("\", \"") => {
            "MultipleCronTriggerTimetable"
        }
        Some(s) if s.starts_with("{ \"cron\"") => "CronTriggerTimetable",
        None | Some("none") => "NullTimetable",
        Some("\"@once\"") => "OnceTimetable",
        Some("\"@continuous\"") => "ContinuousTimetable",
        Some(s) if s.starts_with('"') => "CronTriggerTimetable",
        Some(s) if s.ends_with("ms") && s[..s.len() - 2].bytes().all(|b| b.is_ascii_digit()) => {
            "DeltaTriggerTimetable"
        }
        Some(_) => "AssetTriggeredTimetable",
    }
    .to_string()
}

/// Each DAG of `dagfc build --emit ir` output, as Airflow must have it.
fn expected(ir: &str) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let mut current: Option<(String, Option<String>)> = None;
    let finish = |current: &mut Option<(String, Option<String>)>,
                  out: &mut BTreeMap<String, Expected>| {
        if let Some((id, schedule)) = current.take() {
            out.entry(id).or_default().timetable = timetable(schedule.as_deref());
        }
    };
    for line in ir.lines() {
        if let Some(rest) = line.strip_prefix("dag ") {
            finish(&mut current, &mut out);
            let id = rest.split_whitespace().next().expect("dag id").to_string();
            out.insert(id.clone(), Expected::default());
            current = Some((id, None));
        } else if let Some((id, schedule)) = &mut current {
            let dag = out.get_mut(id.as_str()).expect("dag");
            if let Some(s) = line.strip_prefix("  schedule = ") {
                *schedule = Some(s.trim().to_string());
            } else if let Some(rest) = line.strip_prefix("  task ") {
                dag.tasks
                    .insert(rest.split(':').next().expect("task id").to_string());
            } else if line.starts_with("  ") && !line.starts_with("   ") && line.contains(" >> ") {
                let (a, b) = line.trim().split_once(" >> ").expect("edge");
                dag.edges.insert((a.to_string(), b.to_string()));
            }
        }
    }
    finish(&mut current, &mut out);
    out
}

/// Builds every example for `version` under `root` (one folder per example); returns
/// what Airflow must make of each folder's DAGs, and the source files left out.
fn build_all(
    version: Version,
    root: &Path,
    work: &Path,
) -> (BTreeMap<String, BTreeMap<String, Expected>>, Vec<String>) {
    let mut want = BTreeMap::new();
    let mut skipped = Vec::new();
    for example in examples() {
        let project = work.join(name(&example));
        copy_project(&example, &project);
        let out = root.join(name(&example));
        let out_arg = out.to_str().expect("utf-8 path");
        let (ok, _, errors, stderr) = dagfc(&project, version, &["build", "--out", out_arg]);
        if !ok {
            // Only what the version lacks may stop a build, and only that file is left out.
            assert!(
                !errors.is_empty() && errors.iter().all(|(code, _)| code == "E0327"),
                "{} does not build for Airflow {version} for a reason other than E0327:\n{stderr}",
                name(&example)
            );
            let files: BTreeSet<&String> = errors.iter().map(|(_, f)| f).collect();
            for file in files {
                std::fs::remove_file(project.join(file)).expect("leave the file out");
                skipped.push(format!("{}/{file}", name(&example)));
            }
            let (ok, _, _, stderr) = dagfc(&project, version, &["build", "--out", out_arg]);
            assert!(
                ok,
                "{} without the files that need a newer Airflow does not build for {version}:\n{stderr}",
                name(&example)
            );
        }
        let (ok, ir, _, stderr) = dagfc(&project, version, &["build", "--emit", "ir"]);
        assert!(ok, "--emit ir of {}: {stderr}", name(&example));
        want.insert(name(&example), expected(&ir));
    }
    (want, skipped)
}

fn airflow_takes_every_example(version: Version) {
    let started = Instant::now();
    let python = if version == Version::DEFAULT {
        venv_python()
    } else {
        venv_python_for(version.as_str())
    };
    let venv_time = started.elapsed();

    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path().join("dags");
    let (want, skipped) = build_all(version, &root, &tmp.path().join("projects"));
    let build_time = started.elapsed() - venv_time;
    if version == Version::DEFAULT {
        assert!(
            skipped.is_empty(),
            "on the default target every example builds whole; left out: {skipped:?}"
        );
    }
    let sample_file = SAMPLE.split(':').next().unwrap_or_default();
    assert!(
        root.join(sample_file).is_file(),
        "the sample DAG {sample_file} was not built for {version}"
    );

    // Helper modules of every example (their names do not clash).
    let pythonpath = std::env::join_paths(
        examples()
            .iter()
            .map(|e| e.join("python"))
            .filter(|p| p.is_dir()),
    )
    .expect("PYTHONPATH");
    let summary = tmp.path().join("summary.json");
    let run = Command::new(&python)
        .arg(repo().join("tests/airflow/targets.py"))
        .arg("--dags")
        .arg(&root)
        .arg("--json")
        .arg(&summary)
        .args(["--run", SAMPLE])
        .env("PYTHONPATH", &pythonpath)
        .output()
        .expect("run targets.py");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "Airflow {version} does not take what dagfc built for it:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let installed = json["airflow_version"].as_str().unwrap_or_default();
    assert!(
        installed.starts_with(&format!("{version}.")),
        "the venv for {version} has Airflow {installed}"
    );
    assert_eq!(json["failures"], serde_json::json!([]), "{stdout}");

    // Airflow has exactly the DAGs, tasks, edges and kind of timetable of the source.
    let mut dags = 0;
    for (folder, expected) in &want {
        let got = &json["folders"][folder];
        let files = got["files"].as_array().map_or(0, Vec::len);
        let loaded = got["dags"].as_object().expect("dags");
        assert_eq!(
            loaded.len(),
            files,
            "{folder} for {version}: one DAG per file"
        );
        let ids: BTreeSet<&String> = loaded.keys().collect();
        assert_eq!(
            ids,
            expected.keys().collect(),
            "{folder} for {version}: the DAGs"
        );
        for (id, e) in expected {
            let dag = &loaded[id];
            let strings = |v: &serde_json::Value| -> BTreeSet<String> {
                v.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            };
            let edges: BTreeSet<(String, String)> = dag["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| Some((e[0].as_str()?.to_string(), e[1].as_str()?.to_string())))
                .collect();
            assert_eq!(
                strings(&dag["tasks"]),
                e.tasks,
                "tasks of {id} on {version}"
            );
            assert_eq!(edges, e.edges, "edges of {id} on {version}");
            if e.timetable != ANY {
                assert_eq!(
                    dag["timetable"].as_str().unwrap_or_default(),
                    e.timetable,
                    "the timetable of {id} on {version}"
                );
            }
        }
        dags += expected.len();
    }
    assert!(dags >= 40, "only {dags} DAGs checked for {version}");
    assert_eq!(json["run"]["state"], "success", "{stdout}");
    eprintln!(
        "Airflow {installed}: {dags} DAGs loaded, serialized and checked, {SAMPLE} ran; left out (E0327): {skipped:?}; \
         venv {:.0?}, builds {:.0?}, Airflow {:.0?}",
        venv_time,
        build_time,
        started.elapsed() - venv_time - build_time
    );
}

#[test]
fn airflow_2_11_takes_every_example_it_can() {
    airflow_takes_every_example(Version::V2_11);
}

#[test]
fn airflow_3_0_takes_every_example_it_can() {
    airflow_takes_every_example(Version::V3_0);
}

#[test]
fn airflow_3_1_takes_every_example_it_can() {
    airflow_takes_every_example(Version::V3_1);
}

#[test]
fn airflow_3_2_takes_every_example() {
    airflow_takes_every_example(Version::V3_2);
}

#[test]
fn airflow_3_3_takes_every_example() {
    airflow_takes_every_example(Version::V3_3);
}
