//! Time zones across daylight saving, as real Airflow 3.3 schedules them: the
//! `examples/time` project is built, and Airflow itself is asked (in one Python
//! process, `tests/airflow/next_runs.py`) for the runs of its dags around the days
//! the clocks change. A dag at 06:00 in Paris must run at 05:00 UTC in winter and
//! 04:00 UTC in summer; two crons in New York move by an hour on their own date.

mod common;

use common::{build_into, repo, venv_python};
use std::process::Command;

/// `run_after` of the next runs Airflow plans, per question `DAG_ID=INSTANT`.
fn next_runs(asks: &[&str], count: usize) -> serde_json::Value {
    let tmp = tempfile::tempdir().expect("tmp");
    let dags = tmp.path().join("dags");
    build_into(&repo().join("examples/time"), &dags, &[]);
    // The timetable class `shift_close` names lives beside the dags, as in production.
    std::fs::copy(
        repo().join("examples/time/python/calendars.py"),
        dags.join("calendars.py"),
    )
    .expect("copy calendars.py");
    let mut cmd = Command::new(venv_python());
    cmd.arg(repo().join("tests/airflow/next_runs.py"))
        .arg("--dags")
        .arg(&dags)
        .args(["--count", &count.to_string()]);
    for ask in asks {
        cmd.args(["--ask", ask]);
    }
    let out = cmd.output().expect("run next_runs.py");
    assert!(
        out.status.success(),
        "next_runs.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("next_runs.py prints JSON")
}

/// The runs of one question, as text.
fn runs<'a>(answer: &'a serde_json::Value, ask: &str) -> Vec<&'a str> {
    answer[ask]["runs"]
        .as_array()
        .unwrap_or_else(|| panic!("no runs for {ask} in {answer}"))
        .iter()
        .filter_map(|r| r.as_str())
        .collect()
}

#[test]
fn local_times_hold_across_daylight_saving() {
    let spring = "paris_morning=2024-03-29T00:00:00Z";
    let autumn = "paris_morning=2024-10-25T12:00:00Z";
    let new_york = "store_openings=2024-03-07T00:00:00Z";
    let answer = next_runs(&[spring, autumn, new_york], 6);

    // The dag's zone is the start date's, as Airflow reads it from the generated file.
    assert_eq!(answer[spring]["timezone"], "Europe/Paris");
    // Clocks go forward on the last Sunday of March (31 March 2024): 06:00 in Paris
    // is 05:00 UTC before, 04:00 UTC after.
    assert_eq!(
        runs(&answer, spring),
        [
            "2024-03-29T05:00:00+00:00",
            "2024-03-30T05:00:00+00:00",
            "2024-03-31T04:00:00+00:00",
            "2024-04-01T04:00:00+00:00",
            "2024-04-02T04:00:00+00:00",
            "2024-04-03T04:00:00+00:00",
        ]
    );
    // And back on the last Sunday of October (27 October 2024).
    assert_eq!(
        runs(&answer, autumn),
        [
            "2024-10-26T04:00:00+00:00",
            "2024-10-27T05:00:00+00:00",
            "2024-10-28T05:00:00+00:00",
            "2024-10-29T05:00:00+00:00",
            "2024-10-30T05:00:00+00:00",
            "2024-10-31T05:00:00+00:00",
        ]
    );
    // Two crons on weekdays at 09:00 and 16:30 in New York, whose clocks go forward on
    // 10 March 2024: the runs of Monday 11 March come an hour earlier in UTC.
    assert_eq!(
        runs(&answer, new_york),
        [
            "2024-03-07T14:00:00+00:00",
            "2024-03-07T21:30:00+00:00",
            "2024-03-08T14:00:00+00:00",
            "2024-03-08T21:30:00+00:00",
            "2024-03-11T13:00:00+00:00",
            "2024-03-11T20:30:00+00:00",
        ]
    );
}
