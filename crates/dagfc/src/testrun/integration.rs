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
    timeout: Option<u64>,
    report: &mut TestReport,
) {
    let needing: Vec<usize> = (0..report.results.len())
        .filter(|&i| !report.results[i].runs.is_empty())
        .collect();
    let home = match prepare(printer, root, loader, flag, timeout) {
        Ok(h) => h,
        Err(d) => {
            blocked(report, &needing, *d);
            return;
        }
    };
    let (home, env) = home;
    // The tests run side by side, one worker per core, each worker in a home of its own
    // with a copy of the migrated database (SQLite takes one writer at a time).
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(needing.len())
        .max(1);
    let mut homes = Vec::new();
    for k in 0..workers {
        match copy_home(&home, k) {
            Ok(h) => homes.push(h),
            Err(d) => {
                blocked(report, &needing, *d);
                return;
            }
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(&mut report.results);
    let stopped: std::sync::Mutex<Option<(usize, Diagnostic)>> = std::sync::Mutex::new(None);
    std::thread::scope(|s| {
        for h in &homes {
            let (next, results, stopped, needing, env) =
                (&next, &results, &stopped, &needing, &env);
            s.spawn(move || {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&i) = needing.get(n) else { break };
                    if stopped.lock().map_or(true, |g| g.is_some()) {
                        break;
                    }
                    // The test is taken out of the list while it runs, so that the
                    // others are not held up.
                    let taken = results.lock().ok().and_then(|mut r| {
                        r.get_mut(i).map(|x| std::mem::replace(x, placeholder(x)))
                    });
                    let Some(mut result) = taken else { continue };
                    let folder = h.path().join("tests").join(n.to_string());
                    let outcome = run_one(printer, h, env, &folder, &mut result);
                    if let Ok(mut r) = results.lock()
                        && let Some(slot) = r.get_mut(i)
                    {
                        *slot = result;
                    }
                    if let Err(d) = outcome
                        && let Ok(mut g) = stopped.lock()
                        && g.is_none()
                    {
                        *g = Some((n, *d));
                    }
                }
            });
        }
    });
    if let Ok(Some((n, d))) = stopped.into_inner() {
        let rest: Vec<usize> = needing[n..]
            .iter()
            .copied()
            .filter(|&i| report.results.get(i).is_some_and(|r| !r.ran))
            .collect();
        blocked(report, &rest, d);
    }
}

/// A stand-in for a test taken out of the list while it runs.
fn placeholder(r: &TestResult) -> TestResult {
    TestResult {
        case: r.case.clone(),
        failures: Vec::new(),
        sources: dagf_diag::Sources::new(),
        snapshots: Vec::new(),
        runs: Vec::new(),
        pools: None,
        ran: false,
    }
}

/// A home of its own for worker `k`, with a copy of `home`'s migrated database.
fn copy_home(home: &Home, k: usize) -> Result<Home, Box<Diagnostic>> {
    let fail = |e: std::io::Error| {
        Box::new(Diagnostic::new(
            Code::E0814,
            format!("cannot make a temporary Airflow home: {e}"),
        ))
    };
    let h = Home::new(&format!("dagf-test-{k}-")).map_err(fail)?;
    std::fs::copy(home.path().join("airflow.db"), h.path().join("airflow.db")).map_err(fail)?;
    Ok(h)
}

/// The environment and a migrated home, or why there is none (E0814, E0815, E0816).
fn prepare(
    printer: &Printer,
    root: &Path,
    loader: &dagf_io::DiskLoader,
    flag: Option<&Path>,
    timeout: Option<u64>,
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
    let mut env = python::resolve(flag, &proj.config.python, root, proj.toml())
        .map_err(|d| Box::new(recode(*d)))?;
    // The runs' own bound: `--timeout`, else the longest of `[python] timeout` and
    // ten minutes. The helper reads it from the environment it is given.
    env.timeout = match timeout {
        Some(s) => std::time::Duration::from_secs(s),
        None => env.timeout.max(crate::airflow::RUN_TIMEOUT),
    };
    if timeout.is_some() {
        env.timeout_span = None;
    }
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
    match home.prepare(&env, &empty, env.timeout) {
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
    match home.import_pools(env, folder, env.timeout) {
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
            .run_dag(env, folder, &r.dag_id, env.timeout)
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
