//! The optimiser changes nothing Airflow does. Small DAGs, generated from a fixed seed
//! with every trigger rule, branches, short-circuits, tasks that succeed, fail or skip,
//! `fail_fast`, `wait_for_downstream`, trigger rules in `default_args` and many edges
//! implied by others, are built at `-O0` and at `-O1` by the real `dagfc`, and each
//! build is run in real Airflow 3.3.2 (`dag.test()`, every DAG once): every task of
//! every DAG must end in the same state, and so must every run. (Setup and teardown
//! tasks cannot be written in dagf, so there are none.)

mod common;

use common::{repo, venv_python};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

/// How many DAGs are generated. Each of the two Airflow processes takes about 12 s of
/// CPU to start and 0.25 s per DAG: about a minute on two idle cores, under three
/// minutes on two cores shared with other work.
const DAGS: usize = 200;
const SEED: u64 = 0x5eed_da9f;

/// Every trigger rule of Airflow 3.3.
const RULES: [&str; 13] = [
    "all_success",
    "all_failed",
    "all_done",
    "all_done_min_one_success",
    "all_done_setup_success",
    "all_skipped",
    "one_success",
    "one_done",
    "one_failed",
    "none_failed",
    "none_failed_min_one_success",
    "none_skipped",
    "always",
];

/// What the generated tasks call.
const HELPERS: &str = r#"from airflow.sdk.exceptions import AirflowSkipException


def ok():
    return "ok"


def fail():
    raise RuntimeError("fails on purpose")


def skip():
    raise AirflowSkipException("skips on purpose")


def follow(ids):
    return ids


def proceed(value):
    return value
"#;

/// splitmix64: a fixed sequence, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// One DAG's source: tasks `t0`..`tN` in topological order.
fn generate(id: &str, rng: &mut Rng) -> String {
    let n = 4 + rng.below(5);
    let fail_fast = rng.chance(8);
    // Edges: each task but the first usually has upstream tasks among those before it.
    let mut edges: BTreeSet<(usize, usize)> = BTreeSet::new();
    for j in 1..n {
        for i in 0..j {
            if rng.chance(30) {
                edges.insert((i, j));
            }
        }
        if !edges.iter().any(|&(_, b)| b == j) && rng.chance(85) {
            edges.insert((rng.below(j), j));
        }
    }
    // Edges implied by others, which `-O1` may drop. `reach[i]`: a bit for each task
    // downstream of `i`.
    let mut reach = vec![0u32; n];
    for i in (0..n).rev() {
        for &(_, b) in edges.range((i, 0)..(i + 1, 0)) {
            reach[i] |= (1 << b) | reach[b];
        }
    }
    for (i, r) in reach.iter().enumerate() {
        for k in i + 1..n {
            if r & (1 << k) != 0 && !edges.contains(&(i, k)) && rng.chance(50) {
                edges.insert((i, k));
            }
        }
    }
    let children = |i: usize| -> Vec<usize> {
        edges
            .iter()
            .filter(|&&(a, _)| a == i)
            .map(|&(_, b)| b)
            .collect()
    };

    let mut text = String::new();
    let _ = writeln!(text, "dag {id} {{");
    if fail_fast {
        // Airflow allows only `all_success` in a fail-fast DAG.
        text.push_str("    fail_fast = true\n");
    } else if rng.chance(12) {
        let rule = RULES[rng.below(RULES.len() - 1)];
        let _ = writeln!(text, "    default_args {{ trigger_rule = \"{rule}\" }}");
    }
    let mut branching_above = vec![false; n];
    for i in 0..n {
        let kids = children(i);
        let roll = rng.below(100);
        let (op, mut fields, branching) = if !kids.is_empty() && roll < 10 {
            let follow: Vec<String> = kids
                .iter()
                .filter(|_| rng.chance(50))
                .map(|k| format!("\"t{k}\""))
                .collect();
            let fields = vec![
                "python_callable = \"opt_helpers.follow\"".to_string(),
                format!("op_kwargs = {{ ids = [{}] }}", follow.join(", ")),
            ];
            ("branch", fields, true)
        } else if !kids.is_empty() && roll < 18 {
            let fields = vec![
                "python_callable = \"opt_helpers.proceed\"".to_string(),
                format!("op_kwargs = {{ value = {} }}", rng.chance(40)),
                format!("ignore_downstream_trigger_rules = {}", rng.chance(50)),
            ];
            ("short_circuit", fields, true)
        } else if roll < 28 {
            ("empty", Vec::new(), false)
        } else {
            let callable = match rng.below(10) {
                0 | 1 => "fail",
                2 | 3 => "skip",
                _ => "ok",
            };
            let fields = vec![format!("python_callable = \"opt_helpers.{callable}\"")];
            ("python", fields, false)
        };
        if !fail_fast && rng.chance(30) {
            let rule = RULES[rng.below(RULES.len())];
            // An `always` task starts with the first tasks; below a branch or a
            // short-circuit, whether it runs before or after their skipping would
            // depend on the order `dag.test()` runs one batch in, with or without -O1.
            if rule != "always" || !branching_above[i] {
                fields.push(format!("trigger_rule = \"{rule}\""));
            }
        }
        if rng.chance(6) {
            fields.push("wait_for_downstream = true".to_string());
        }
        for k in kids {
            branching_above[k] |= branching || branching_above[i];
        }
        if fields.is_empty() {
            let _ = writeln!(text, "    task t{i}: {op}");
        } else {
            let _ = writeln!(text, "    task t{i}: {op} {{ {} }}", fields.join(", "));
        }
    }
    for (a, b) in &edges {
        let _ = writeln!(text, "    t{a} >> t{b}");
    }
    text.push_str("}\n");
    text
}

/// What Airflow did with one DAG: its edges as loaded, the run's state, each task's.
#[derive(Debug, PartialEq)]
struct Outcome {
    edges: BTreeSet<(String, String)>,
    state: String,
    tasks: BTreeMap<String, Option<String>>,
}

/// Runs every DAG of `dags` with `tests/airflow/run_dags.py`.
fn run_in_airflow(python: &Path, dags: &Path, helpers: &Path, out: &Path) -> std::process::Child {
    Command::new(python)
        .arg(repo().join("tests/airflow/run_dags.py"))
        .arg("--dags")
        .arg(dags)
        .arg("--out")
        .arg(out)
        .env("PYTHONPATH", helpers)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run run_dags.py")
}

fn outcomes(run: std::process::Child, out: &Path) -> BTreeMap<String, Outcome> {
    let done = run.wait_with_output().expect("run_dags.py");
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(done.status.success(), "run_dags.py failed:\n{stderr}");
    let text = std::fs::read_to_string(out).expect("results");
    let mut all = BTreeMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let dag_id = v["dag_id"].as_str().expect("dag_id").to_string();
        assert!(
            v.get("error").is_none(),
            "{dag_id} could not run:\n{}",
            v["error"]
        );
        let edges = v["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    e[0].as_str().expect("upstream").to_string(),
                    e[1].as_str().expect("downstream").to_string(),
                )
            })
            .collect();
        let tasks = v["tasks"]
            .as_object()
            .expect("tasks")
            .iter()
            .map(|(t, s)| (t.clone(), s.as_str().map(str::to_string)))
            .collect();
        let state = v["state"].as_str().expect("state").to_string();
        all.insert(
            dag_id,
            Outcome {
                edges,
                state,
                tasks,
            },
        );
    }
    all
}

fn build(project: &Path, out: &Path, level: &str) {
    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_remove("DAGF_ENV")
        .args(["build", level, "--color", "never", "--out"])
        .arg(out)
        .arg("--project")
        .arg(project)
        .output()
        .expect("run dagfc");
    assert!(
        run.status.success(),
        "dagfc build {level} failed:\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn optimised_dags_run_exactly_as_written() {
    let python = venv_python();
    let dir = tempfile::tempdir().expect("tmp");
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("src")).expect("src");
    std::fs::write(
        project.join("dagf.toml"),
        "[project]\nname = \"optimiser\"\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("dagf.toml");
    let mut rng = Rng(SEED);
    let mut sources = BTreeMap::new();
    let mut text = String::new();
    for k in 0..DAGS {
        let id = format!("g{k:03}");
        let source = generate(&id, &mut rng);
        text.push_str(&source);
        sources.insert(id, source);
    }
    std::fs::write(project.join("src/generated.dagf"), &text).expect("source");
    let helpers = dir.path().join("helpers");
    std::fs::create_dir_all(&helpers).expect("helpers");
    std::fs::write(helpers.join("opt_helpers.py"), HELPERS).expect("helpers");

    let (o0, o1) = (dir.path().join("o0"), dir.path().join("o1"));
    build(&project, &o0, "-O0");
    build(&project, &o1, "-O1");
    // Both builds at once, one Airflow process each.
    let (r0, r1) = (dir.path().join("o0.jsonl"), dir.path().join("o1.jsonl"));
    let started = std::time::Instant::now();
    let run0 = run_in_airflow(&python, &o0, &helpers, &r0);
    let run1 = run_in_airflow(&python, &o1, &helpers, &r1);
    let (plain, optimised) = (outcomes(run0, &r0), outcomes(run1, &r1));
    let airflow = started.elapsed();

    let ids: BTreeSet<&String> = sources.keys().collect();
    assert_eq!(
        plain.keys().collect::<BTreeSet<_>>(),
        ids,
        "DAGs run at -O0"
    );
    assert_eq!(
        optimised.keys().collect::<BTreeSet<_>>(),
        ids,
        "DAGs run at -O1"
    );
    let (mut reduced, mut dropped) = (0, 0);
    let mut differ = Vec::new();
    for (id, p) in &plain {
        let o = &optimised[id];
        assert!(
            o.edges.is_subset(&p.edges),
            "{id}: -O1 has edges -O0 has not"
        );
        let gone = p.edges.len() - o.edges.len();
        if gone > 0 {
            reduced += 1;
            dropped += gone;
        }
        if (&p.state, &p.tasks) != (&o.state, &o.tasks) {
            let missing: Vec<_> = p.edges.difference(&o.edges).collect();
            differ.push(format!(
                "{id}: run {} at -O0, {} at -O1; dropped {missing:?}\n  -O0 {:?}\n  -O1 {:?}\n{}",
                p.state, o.state, p.tasks, o.tasks, sources[id]
            ));
        }
    }
    eprintln!(
        "{DAGS} DAGs, run in Airflow in {:.0} s; -O1 dropped {dropped} edges in {reduced}; {} ran differently",
        airflow.as_secs_f64(),
        differ.len()
    );
    assert!(
        differ.is_empty(),
        "{} of {DAGS} DAGs ran differently at -O1:\n{}",
        differ.len(),
        differ.join("\n")
    );
    // The comparison means something only if -O1 changed many of the DAGs.
    assert!(
        reduced * 5 >= DAGS,
        "-O1 dropped edges in only {reduced} of {DAGS} DAGs"
    );
}
