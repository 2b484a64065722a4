//! `dagfc test --integration`: the `run` statements of the tests, each dag run with
//! `airflow dags test` in one throwaway Airflow (migrated once), and each run judged by
//! the driver against what the test expects.

use crate::airflow::{Home, SetupError};
use crate::cli::Printer;
use crate::python;
use dagf_diag::{Code, Diagnostic};
use dagf_driver::tests::{TestReport, TestResult, judge};
use std::path::Path;

/// Makes every run of `report`'s tests and puts what fails into their failures. A
/// problem of the environment (no interpreter, no Airflow, a migration that fails) is
/// the failure of every test that needed it: said in full at the first, briefly at the
/// others.
pub(super) fn run(
    printer: &Printer,
    root: &Path,
    loader: &dagf_io::DiskLoader,
    flag: Option<&Path>,
    report: &mut TestReport,
) {
    let needing: Vec<usize> = (0..report.results.len())
        .filter(|&i| !report.results[i].runs.is_empty())
        .collect();
    let home = match prepare(printer, root, loader, flag) {
        Ok(h) => h,
        Err(d) => {
            blocked(report, &needing, *d);
            return;
        }
    };
    let (home, env) = home;
    for (n, &i) in needing.iter().enumerate() {
        let Some(result) = report.results.get_mut(i) else {
            continue;
        };
        let folder = home.path().join("tests").join(n.to_string());
        if let Err(d) = run_one(printer, &home, &env, &folder, result) {
            let rest: Vec<usize> = needing[n..].to_vec();
            blocked(report, &rest, *d);
            return;
        }
    }
}

/// The environment and a migrated home, or why there is none (E0814, E0815, E0816).
fn prepare(
    printer: &Printer,
    root: &Path,
    loader: &dagf_io::DiskLoader,
    flag: Option<&Path>,
) -> Result<(Home, python::PyEnv), Box<Diagnostic>> {
    let proj = dagf_driver::Project::load(loader).map_err(|stopped| {
        Box::new(
            stopped
                .diagnostics
                .into_iter()
                .next()
                .unwrap_or_else(|| Diagnostic::new(Code::E0814, "dagf.toml cannot be read")),
        )
    })?;
    let env = python::resolve(flag, &proj.config.python, root, proj.toml())
        .map_err(|d| Box::new(recode(*d)))?;
    let home = Home::new("dagf-test-").map_err(|e| {
        Box::new(Diagnostic::new(
            Code::E0814,
            format!("cannot make a temporary Airflow home: {e}"),
        ))
    })?;
    let empty = home.path().join("dags");
    std::fs::create_dir_all(&empty).map_err(|e| {
        Box::new(Diagnostic::new(
            Code::E0814,
            format!("cannot make a temporary Airflow home: {e}"),
        ))
    })?;
    printer.note(&format!(
        "integration runs in {}'s Airflow: airflow db migrate",
        env.shown
    ));
    match home.prepare(&env, &empty) {
        Ok(()) => Ok((home, env)),
        Err(SetupError::Python(d)) => Err(Box::new(recode(*d))),
        Err(SetupError::NoAirflow(text)) => Err(Box::new(
            Diagnostic::new(
                Code::E0814,
                format!("`{}` has no Airflow, so no integration test can run", env.shown),
            )
            .with_note(text)
            .with_help("point `[python] interpreter` in dagf.toml (or `--python`) at the interpreter of an environment with Airflow installed"),
        )),
        Err(SetupError::Migrate(text) | SetupError::Pools(text)) => Err(Box::new(
            Diagnostic::new(
                Code::E0815,
                "`airflow db migrate` failed, so no integration test can run",
            )
            .with_note(text)
            .with_help("run `airflow db migrate` with the project's interpreter to see the problem"),
        )),
    }
}

/// The dags of one test written into `folder`, its pools imported, each run and judged.
/// `Err` when the environment failed under it (Python gone, or past its timeout).
fn run_one(
    printer: &Printer,
    home: &Home,
    env: &python::PyEnv,
    folder: &Path,
    result: &mut TestResult,
) -> Result<(), Box<Diagnostic>> {
    let written = (|| -> std::io::Result<()> {
        for r in &result.runs {
            let file = folder.join(&r.file);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(file, &r.text)?;
        }
        if let Some(pools) = &result.pools {
            std::fs::create_dir_all(folder)?;
            std::fs::write(folder.join(dagf_py::POOLS_FILE), pools)?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        return Err(Box::new(Diagnostic::new(
            Code::E0814,
            format!("cannot write the test's dags to {}: {e}", folder.display()),
        )));
    }
    match home.import_pools(env, folder) {
        Ok(()) => {}
        Err(SetupError::Python(d)) => return Err(Box::new(recode(*d))),
        Err(SetupError::NoAirflow(t) | SetupError::Migrate(t) | SetupError::Pools(t)) => {
            return Err(Box::new(
                Diagnostic::new(Code::E0815, "`airflow pools import` failed").with_note(t),
            ));
        }
    }
    let mut failures = Vec::new();
    for r in &result.runs {
        printer.note(&format!(
            "test \"{}\": airflow dags test {}",
            result.case.name, r.dag_id
        ));
        let outcome = home
            .run_dag(env, folder, &r.dag_id)
            .map_err(|d| Box::new(recode(*d)))?;
        failures.extend(judge(r, &outcome));
    }
    result.failures.extend(failures);
    result.ran = true;
    Ok(())
}

/// The tests `which` could not run: the first fails with `problem`, the others with a
/// line pointing at it.
fn blocked(report: &mut TestReport, which: &[usize], problem: Diagnostic) {
    let short = Diagnostic::new(problem.code, format!("not run: {}", problem.message));
    for (n, &i) in which.iter().enumerate() {
        if let Some(r) = report.results.get_mut(i) {
            r.failures.push(if n == 0 {
                problem.clone()
            } else {
                short.clone()
            });
            r.ran = true;
        }
    }
}

/// A problem of the Python environment, under the codes of integration runs: past its
/// timeout is E0816, anything else (no interpreter, not Python 3, the helper failing
/// because Airflow is missing) E0814.
fn recode(mut d: Diagnostic) -> Diagnostic {
    d.code = match d.code {
        c if c == Code::E0702 => Code::E0816,
        _ => Code::E0814,
    };
    d
}
