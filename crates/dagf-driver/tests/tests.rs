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
