//! The test runner as a library, on projects held in memory: results are data (which
//! test, passed or not, each failure a diagnostic at its place, snapshots to write),
//! whatever the thread count, and fixtures reach only their own test.

use dagf_diag::Code;
use dagf_driver::tests::{TestOptions, TestReport, run_tests};
use dagf_driver::{MemoryLoader, Options};
use std::num::NonZeroUsize;

const TOML: &str = "[project]\nname = \"mem\"\nsrc = [\"src\"]\n";

const SOURCE: &str = r#"
type Cfg = { name: str matches "^[a-z]+$" }
source cfgs: list<Cfg> = yaml("configs/*.yaml")

factory load(cfgs: list<Cfg>, retries: int in 0..=5 = 1) {
    schedule = @daily
    start = 2024-01-01
    default_args { retries = retries }
    task start: empty
    for c in cfgs { start >> task "load_${c.name}": empty }
}

dag all: load(cfgs = cfgs)

test "the real files" {
    dag d: load(cfgs = cfgs)
    assert d.task_ids == ["start", "load_real"]
}

test "a fixture" {
    fixture "configs/real.yaml" = "- name: fixed"
    dag d: load(cfgs = cfgs)
    assert d.task_ids == ["start", "load_fixed"]
    assert d.tasks.load_fixed.upstream == ["start"]
}

test "fails" {
    dag d: load(cfgs = [], retries = 3)
    assert d.default_args.retries == 2
}

test "refused" expect_error E0204 {
    dag d: load(cfgs = [], retries = 7)
}

test "snapshot" {
    dag d: load(cfgs = [])
    snapshot d
}
"#;

fn project() -> MemoryLoader {
    MemoryLoader::new()
        .with("dagf.toml", TOML)
        .with("src/main.dagf", SOURCE)
        .with("src/configs/real.yaml", "- name: real\n")
}

fn run(threads: usize, tests: &TestOptions) -> TestReport {
    let options = Options {
        threads: NonZeroUsize::new(threads),
        ..Options::default()
    };
    run_tests(&project(), &options, tests)
}

/// (name, passed, failure codes) of every result.
fn outcome(report: &TestReport) -> Vec<(String, bool, Vec<Code>)> {
    report
        .results
        .iter()
        .map(|r| {
            (
                r.case.name.clone(),
                r.passed(),
                r.failures.iter().map(|d| d.code).collect(),
            )
        })
        .collect()
}

#[test]
fn results_are_data_and_the_same_on_any_thread_count() {
    let report = run(1, &TestOptions::default());
    assert!(report.check.is_none());
    assert!(report.problems.is_empty());
    assert_eq!(
        outcome(&report),
        vec![
            ("the real files".to_string(), true, vec![]),
            ("a fixture".to_string(), true, vec![]),
            ("fails".to_string(), false, vec![Code::E0801]),
            ("refused".to_string(), true, vec![]),
            ("snapshot".to_string(), false, vec![Code::E0803]),
        ]
    );
    assert_eq!((report.passed(), report.failed()), (3, 2));
    // The failure points at its assertion, in the file the result's sources hold.
    let fails = &report.results[2];
    let at = fails.failures[0].primary.as_ref().expect("a place").span;
    let file = fails.sources.get(at.file);
    assert_eq!(file.name, "src/main.dagf");
    assert_eq!(&file.text[at.range()], "d.default_args.retries == 2");
    let four = run(4, &TestOptions::default());
    assert_eq!(outcome(&four), outcome(&report));
}

#[test]
fn a_filter_and_update_are_options() {
    let report = run(
        2,
        &TestOptions {
            filter: Some("snap".into()),
            update: true,
            ..TestOptions::default()
        },
    );
    assert_eq!(report.filtered_out, 4);
    assert_eq!(
        outcome(&report),
        vec![("snapshot".to_string(), true, vec![])]
    );
    let snap = &report.results[0].snapshots[0];
    assert_eq!(snap.path, "src/snapshots/snapshot__d.py");
    assert!(!snap.matches);
    assert!(snap.actual.contains("dag_id=\"d\""), "{}", snap.actual);
    // With the snapshot in place, it matches.
    let kept = project().with("src/snapshots/snapshot__d.py", &snap.actual);
    let again = run_tests(
        &kept,
        &Options::default(),
        &TestOptions {
            filter: Some("snap".into()),
            update: false,
            ..TestOptions::default()
        },
    );
    assert!(again.ok(), "{:?}", outcome(&again));
    assert!(again.results[0].snapshots[0].matches);
}

#[test]
fn a_project_with_errors_runs_no_test() {
    let broken = project().with("src/configs/real.yaml", "- name: Real\n");
    let report = run_tests(&broken, &Options::default(), &TestOptions::default());
    let check = report.check.as_ref().expect("the failed check");
    assert!(check.diagnostics.iter().any(|d| d.code == Code::E0205));
    assert!(report.results.is_empty());
    assert!(!report.ok());
}

const INTEGRATION: &str = r#"
source owners: list<{ name: str, owner: str }> = yaml("owners.yaml")

factory load(owner: str) {
    schedule = @daily
    start = 2024-01-01
    default_args { owner = owner }
    task check: empty
    task load: empty
    check >> load
}

dag nightly: load(owner = owners[0].owner)

test "the project runs" {
    project p
    assert p.dag_ids == ["nightly"]
    assert p.dags.nightly.default_args.owner == "ops"
    run p.dags.nightly {
        expect tasks.load == "success"
        expect state == "success"
    }
}

test "plain" {
    fixture "owners.yaml" = "- { name: a, owner: data }"
    dag d: load(owner = owners[0].owner)
    assert d.default_args.owner == "data"
}

test "bad expectations" {
    dag d: load(owner = "x")
    run d {
        expect tasks.lod == "success"
        expect tasks.load == "succeeded"
        expect d.tasks.load == "success"
    }
    run "d"
}
"#;

/// A test with `run` is skipped (not passed, not failed) unless runs are asked for;
/// then its runs are planned as files with their expectations, which `judge` holds
/// against what Airflow reports. Mistakes in expectations are found without Airflow.
#[test]
fn integration_tests_are_skipped_planned_and_judged() {
    use dagf_driver::tests::{RunOutcome, judge};
    let loader = MemoryLoader::new()
        .with("dagf.toml", TOML)
        .with("src/main.dagf", INTEGRATION)
        .with("src/owners.yaml", "- { name: a, owner: ops }\n");
    let options = Options::default();
    let plain = run_tests(&loader, &options, &TestOptions::default());
    assert!(plain.check.is_none(), "{:?}", plain.check);
    let by_name = |r: &TestReport, n: &str| {
        r.results
            .iter()
            .position(|x| x.case.name == n)
            .expect("the test")
    };
    let project = &plain.results[by_name(&plain, "the project runs")];
    assert!(
        project.skipped() && !project.passed(),
        "{:?}",
        project.failures
    );
    assert!(project.runs.is_empty());
    assert!(plain.results[by_name(&plain, "plain")].passed());
    let bad = &plain.results[by_name(&plain, "bad expectations")];
    let codes: Vec<Code> = bad.failures.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec![Code::E0810, Code::E0809, Code::E0808, Code::E0811]
    );
    assert_eq!((plain.passed(), plain.failed(), plain.skipped()), (1, 1, 1));

    let planned = run_tests(
        &loader,
        &options,
        &TestOptions {
            integration: true,
            ..TestOptions::default()
        },
    );
    let project = &planned.results[by_name(&planned, "the project runs")];
    let [run] = project.runs.as_slice() else {
        panic!("one run: {:?}", project.runs);
    };
    assert_eq!(run.dag_id, "nightly");
    assert_eq!(run.file, "nightly.py");
    assert!(run.text.contains("\"owner\": \"ops\""), "{}", run.text);
    assert_eq!(run.expects.len(), 2);
    let mut ok = RunOutcome {
        state: Some("success".into()),
        ..RunOutcome::default()
    };
    ok.tasks.insert("load".into(), vec!["success".into()]);
    assert!(judge(run, &ok).is_empty());
    let mut failed = RunOutcome {
        state: Some("failed".into()),
        log: "Bash command failed".into(),
        ..RunOutcome::default()
    };
    failed
        .tasks
        .insert("load".into(), vec!["upstream_failed".into()]);
    let found = judge(run, &failed);
    assert_eq!(
        found.iter().map(|d| d.code).collect::<Vec<_>>(),
        vec![Code::E0812, Code::E0812]
    );
    assert!(
        found[0]
            .notes
            .iter()
            .any(|n| n.contains("actual:   upstream_failed"))
    );
    let none = RunOutcome {
        error: Some("the dag did not import".into()),
        ..RunOutcome::default()
    };
    assert_eq!(judge(run, &none)[0].code, Code::E0813);
}
