//! A project's `test` blocks: found, filtered, run on every core, each result as data
//! (what failed, where, and the snapshots it made) for the command line, an editor or
//! any other runner to show as it likes.

use crate::{Build, Loader, Options, Project, Session, par};
use dagf_diag::{Code, Diagnostic, Severity, Sources, Span};
use dagf_sema::{
    Cached, FixtureData, HttpError, HttpLimits, ReadError, SqlError, SqlLimits, Table,
};
pub use dagf_sema::{Expectation, Fixture, RUN_STATES, TASK_STATES, TestCase};
use std::collections::BTreeMap;

/// What running a project's tests gave.
#[derive(Debug)]
pub struct TestReport {
    /// The project's own check, when it failed (then no test ran): its diagnostics.
    pub check: Option<Build>,
    /// Mistakes in how tests are written (a duplicate name, an unknown code, a bad
    /// fixture), with the files they point into.
    pub problems: Vec<Diagnostic>,
    /// The files `problems` point into.
    pub problem_sources: Sources,
    /// Each test run, in the order of the files and of the tests in each.
    pub results: Vec<TestResult>,
    /// How many tests the filter left out.
    pub filtered_out: usize,
}

impl TestReport {
    /// How many tests passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    /// How many tests failed.
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| !r.failures.is_empty())
            .count()
    }

    /// How many tests are integration tests whose runs did not happen (and nothing else failed).
    pub fn skipped(&self) -> usize {
        self.results.iter().filter(|r| r.skipped()).count()
    }

    /// Whether everything passed: the project checks, every test is well written and passes.
    pub fn ok(&self) -> bool {
        self.check.is_none() && self.problems.is_empty() && self.failed() == 0
    }
}

/// One test's result.
#[derive(Debug)]
pub struct TestResult {
    /// The test.
    pub case: TestCase,
    /// Why it failed, each at its place (an assertion, an error building its dags, an
    /// expected error that did not come, a snapshot that differs); empty if it passed.
    pub failures: Vec<Diagnostic>,
    /// The files the failures point into.
    pub sources: Sources,
    /// The snapshots its `snapshot` statements compared (or, updating, wrote).
    pub snapshots: Vec<Snapshot>,
    /// Its `run` statements, each a dag's file to run in Airflow and what the run must
    /// end with; none when building its dags failed.
    pub runs: Vec<Run>,
    /// `pools.json` for the Airflow that runs them, when the project declares pools.
    pub pools: Option<String>,
    /// Whether the runs were made (and judged into `failures`): the caller's to set.
    pub ran: bool,
}

impl TestResult {
    /// Whether the test passed: nothing failed, and its runs, if it has any, were made.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && !self.skipped()
    }

    /// Whether it is an integration test whose runs were not made, nothing else failing.
    pub fn skipped(&self) -> bool {
        self.failures.is_empty() && self.case.runs > 0 && !self.ran
    }
}

/// A dag of a test to run with `airflow dags test`, and what its run must end with.
#[derive(Clone, Debug)]
pub struct Run {
    /// Where the `run` statement is.
    pub span: Span,
    /// The dag's id.
    pub dag_id: String,
    /// Its file's path in an output folder.
    pub file: String,
    /// The file's text, as `dagfc build` writes it.
    pub text: String,
    /// What the run must end with.
    pub expects: Vec<Expectation>,
}

/// What running one dag in Airflow gave.
#[derive(Clone, Debug, Default)]
pub struct RunOutcome {
    /// The dag run's final state, when a run was made.
    pub state: Option<String>,
    /// Each task's final state, by task id: one per instance (a mapped task has many);
    /// `none` for an instance that never ran.
    pub tasks: BTreeMap<String, Vec<String>>,
    /// Why no run was made (the dag did not import, Airflow failed), when none was.
    pub error: Option<String>,
    /// The last lines the run printed.
    pub log: String,
}

/// The failures of one run: each expectation its outcome does not meet (E0812, at the
/// `expect`), or the run that could not be made (E0813, at the `run`).
pub fn judge(run: &Run, outcome: &RunOutcome) -> Vec<Diagnostic> {
    let Some(state) = &outcome.state else {
        let why = outcome.error.as_deref().unwrap_or("Airflow made no run");
        let mut d = Diagnostic::at(
            Code::E0813,
            run.span,
            format!("`airflow dags test {}` made no run: {why}", run.dag_id),
            "this dag did not run",
        )
        .with_help("the dag's file must import where Airflow runs: its modules on `[python] path`, its providers installed");
        if !outcome.log.is_empty() {
            d = d.with_note(format!("the run's last lines:\n{}", outcome.log));
        }
        return vec![d];
    };
    let mut out: Vec<Diagnostic> = Vec::new();
    for e in &run.expects {
        let (actual, what) = match &e.task {
            None => (vec![state.clone()], format!("the run of `{}`", run.dag_id)),
            Some(t) => (
                outcome
                    .tasks
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| vec!["none".to_string()]),
                format!("task `{t}` of `{}`", run.dag_id),
            ),
        };
        if actual.iter().all(|a| *a == e.state) {
            continue;
        }
        let shown = match actual.as_slice() {
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        let mut d = Diagnostic::at(
            Code::E0812,
            e.span,
            format!("{what} ended `{shown}`, not `{}`", e.state),
            "not what the run ended with",
        )
        .with_note(format!("actual:   {shown}\nexpected: {}", e.state));
        // The log is shown once per run, with its first failure.
        if out.is_empty() && !outcome.log.is_empty() {
            d = d.with_note(format!("the run's last lines:\n{}", outcome.log));
        }
        out.push(d.with_help(
            "the dag does not run as the test expects: the log says why; change the dag, or the test",
        ));
    }
    out
}

/// A dag's generated Python against the file kept for it.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// The file, a project path beside the test's file.
    pub path: String,
    /// The Python the dag gives now.
    pub actual: String,
    /// Whether the file holds exactly that.
    pub matches: bool,
    /// Where the `snapshot` statement is.
    pub span: Span,
}

/// How tests run.
#[derive(Clone, Debug, Default)]
pub struct TestOptions {
    /// Integration tests' runs are planned (their dags' files made) for the caller to
    /// run in Airflow; without, an integration test is checked but not run.
    pub integration: bool,
    /// Only the tests whose name contains this text.
    pub filter: Option<String>,
    /// Snapshots that differ or are missing are not failures: the caller writes them.
    pub update: bool,
}

/// Checks the project, then runs its tests (those `tests.filter` keeps), each with its
/// fixtures in place of what they replace. Writes nothing: with `tests.update`, the
/// snapshots to write are in the results.
pub fn run_tests(
    loader: &(dyn Loader + Sync),
    options: &Options,
    tests: &TestOptions,
) -> TestReport {
    let mut report = TestReport {
        check: None,
        problems: Vec::new(),
        problem_sources: Sources::new(),
        results: Vec::new(),
        filtered_out: 0,
    };
    let project = match Project::load(loader) {
        Ok(p) => p,
        Err(stopped) => {
            report.check = Some(*stopped);
            return report;
        }
    };
    let session = Session::new();
    let check_options = Options {
        goal: crate::Goal::Check,
        ..options.clone()
    };
    let check = session.build_project(&project, loader, &check_options);
    if !check.ok() {
        report.check = Some(check);
        return report;
    }
    let found = dagf_sema::find_tests(
        &project.files,
        loader,
        &session.cache,
        project.sources.clone(),
    );
    report.problems = found
        .diagnostics
        .into_sorted()
        .into_iter()
        .filter(|d| d.code.severity() == Severity::Error)
        .collect();
    report.problem_sources = found.sources;
    let (cases, left): (Vec<TestCase>, Vec<TestCase>) =
        found.tests.into_iter().partition(|c| match &tests.filter {
            Some(f) => c.name.contains(f.as_str()),
            None => true,
        });
    report.filtered_out = left.len();
    let env = project.env(options);
    let sema = project.sema_options(&check_options, env.as_ref());
    let threads = par::threads(options.threads);
    report.results = par::map(threads, &cases, |case| {
        let sema = match &case.env {
            Some((name, at)) => dagf_sema::Options {
                env: Some(name.clone()),
                env_origin: "the test's `env`".into(),
                env_chosen_at: Some(*at),
                ..sema.clone()
            },
            None => sema.clone(),
        };
        run_one(&project, loader, options, &sema, &session, case, tests)
    });
    report
}

/// Runs one test and judges it.
fn run_one(
    project: &Project,
    loader: &(dyn Loader + Sync),
    options: &Options,
    sema: &dagf_sema::Options,
    session: &Session,
    case: &TestCase,
    tests: &TestOptions,
) -> TestResult {
    let update = tests.update;
    let fixtures = Fixtures {
        inner: loader,
        fixtures: &case.fixtures,
    };
    let run = dagf_sema::run_test(
        &project.files,
        &fixtures,
        sema,
        &session.cache,
        project.sources.clone(),
        case,
    );
    let errors: Vec<Diagnostic> = run
        .diagnostics
        .into_sorted()
        .into_iter()
        .filter(|d| d.code.severity() == Severity::Error)
        .collect();
    let mut failures = Vec::new();
    match case.expect_error {
        Some((code, _)) if errors.iter().any(|d| d.code == code) => {}
        Some((code, at)) => failures.push(not_rejected(code, at, &errors)),
        None => failures.extend(errors),
    }
    failures.extend(run.failures);
    let mut snapshots = Vec::new();
    for (i, (span, mut dag)) in run.snapshots.into_iter().enumerate() {
        project.optimise(&mut dag, options);
        let actual = project.generate(&dag, options).text;
        let path = snapshot_path(case, &dag.dag_id, i);
        let kept = loader
            .read(&path)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let matches = kept.as_deref() == Some(actual.as_str());
        if !matches && !update {
            failures.push(snapshot_differs(&path, span, kept.as_deref(), &actual));
        }
        snapshots.push(Snapshot {
            path,
            actual,
            matches,
            span,
        });
    }
    failures.sort_by_key(|d| d.primary.as_ref().map(|l| (l.span.file, l.span.start)));
    let mut runs = Vec::new();
    let mut pools = None;
    // Only what built cleanly is run, and only when runs are asked for.
    if tests.integration && failures.is_empty() {
        for plan in run.runs {
            let mut dag = plan.dag;
            project.optimise(&mut dag, options);
            let built = project.generate(&dag, options);
            runs.push(Run {
                span: plan.span,
                dag_id: dag.dag_id.clone(),
                file: dag.path(),
                text: built.text,
                expects: plan.expects,
            });
        }
        if !run.pools.is_empty() {
            pools = Some(dagf_py::pools_json(&run.pools));
        }
    }
    TestResult {
        case: case.clone(),
        failures,
        sources: run.sources,
        snapshots,
        runs,
        pools,
        ran: false,
    }
}

/// E0802: the test expects `code`, and building its dags reported `errors` instead.
fn not_rejected(code: Code, at: Span, errors: &[Diagnostic]) -> Diagnostic {
    let got = if errors.is_empty() {
        "no error".to_string()
    } else {
        let codes: Vec<&str> = errors.iter().map(|d| d.code.as_str()).collect();
        codes.join(", ")
    };
    let mut d = Diagnostic::at(
        Code::E0802,
        at,
        format!("the test expects error {code}, and building its dags reported {got}"),
        "expected here",
    )
    .with_help(format!(
        "make the test's dags break the rule {code} checks, or expect the code that comes"
    ));
    for e in errors {
        d = d.with_note(format!("{}: {}", e.code, e.message));
    }
    d
}

/// E0803: the dag's Python is not what its snapshot file holds.
fn snapshot_differs(path: &str, at: Span, kept: Option<&str>, actual: &str) -> Diagnostic {
    let Some(kept) = kept else {
        return Diagnostic::at(
            Code::E0803,
            at,
            format!("the snapshot `{path}` does not exist yet"),
            "no snapshot for this dag",
        )
        .with_help("run `dagfc test --update` to write it, then read it and commit it");
    };
    let mut d = Diagnostic::at(
        Code::E0803,
        at,
        format!("the dag's Python differs from the snapshot `{path}`"),
        "differs from its snapshot",
    );
    let (old, new): (Vec<&str>, Vec<&str>) = (kept.lines().collect(), actual.lines().collect());
    if let Some(i) = (0..old.len().max(new.len())).find(|&i| old.get(i) != new.get(i)) {
        d = d.with_note(format!(
            "first difference, line {}:\nexpected: {}\nactual:   {}",
            i + 1,
            old.get(i).copied().unwrap_or("(end of file)"),
            new.get(i).copied().unwrap_or("(end of file)")
        ));
    }
    d.with_help("if the change is meant, run `dagfc test --update` and commit the new snapshot")
}

/// Where the snapshot of a test's `i`-th `snapshot` statement (of the dag `dag_id`) is
/// kept: in `snapshots/` beside the test's file, named after the test and the dag.
pub fn snapshot_path(case: &TestCase, dag_id: &str, i: usize) -> String {
    let slug: String = case
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let slug = slug.trim_matches('_');
    let dir = case.file.rsplit_once('/').map_or("", |(d, _)| d);
    let name = match i {
        0 => format!("{slug}__{dag_id}.py"),
        _ => format!("{slug}__{dag_id}_{i}.py"),
    };
    match dir {
        "" => format!("snapshots/{name}"),
        d => format!("{d}/snapshots/{name}"),
    }
}

/// A loader that gives a test's fixtures in place of the files, databases and answers
/// they replace. The HTTP cache is read as a build reads it (for a URL without a
/// fixture), never written: a test leaves nothing behind.
struct Fixtures<'a> {
    inner: &'a dyn Loader,
    fixtures: &'a [Fixture],
}

impl Fixtures<'_> {
    fn text(&self, target: &str) -> Option<&str> {
        self.fixtures.iter().find_map(|f| match &f.data {
            FixtureData::Text(t) if f.target == target => Some(t.as_str()),
            _ => None,
        })
    }
}

impl Loader for Fixtures<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        match self.text(path) {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => self.inner.read(path),
        }
    }

    /// A folder with fixtures in it lists only them: the test decides what a `*` finds.
    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        let here: Vec<String> = self
            .fixtures
            .iter()
            .filter_map(|f| {
                let (d, name) = f.target.rsplit_once('/').unwrap_or(("", &f.target));
                (d == dir).then(|| name.to_string())
            })
            .collect();
        if here.is_empty() {
            self.inner.list(dir)
        } else {
            Ok(here)
        }
    }

    fn is_folder(&self, path: &str) -> bool {
        self.inner.is_folder(path)
    }

    fn subfolders(&self, dir: &str) -> Result<Vec<String>, String> {
        self.inner.subfolders(dir)
    }

    /// A fixture for the query itself first, then one for every query of the database;
    /// a text fixture there is the rows as JSON, as `dagfc fixtures record` writes them.
    fn sqlite(&self, db: &str, query: &str, limits: &SqlLimits) -> Result<Table, SqlError> {
        let here = |f: &&Fixture| f.target == db;
        let fixture = self
            .fixtures
            .iter()
            .filter(here)
            .find(|f| f.query.as_deref() == Some(query))
            .or_else(|| {
                self.fixtures
                    .iter()
                    .filter(here)
                    .find(|f| f.query.is_none())
            });
        match fixture.map(|f| &f.data) {
            Some(FixtureData::Rows(t)) => Ok(t.clone()),
            Some(FixtureData::Text(t)) => dagf_sema::rows_from_json(t)
                .map_err(|e| SqlError::Open(format!("the test's fixture is not JSON rows: {e}"))),
            None => self.inner.sqlite(db, query, limits),
        }
    }

    fn http_get(&self, url: &str, limits: &HttpLimits) -> Result<Vec<u8>, HttpError> {
        match self.text(url) {
            Some(t) => Ok(t.as_bytes().to_vec()),
            None => self.inner.http_get(url, limits),
        }
    }

    fn cache_read(&self, url: &str) -> Option<Cached> {
        match self.text(url) {
            Some(_) => None,
            None => self.inner.cache_read(url),
        }
    }

    fn cache_write(&self, _: &str, _: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The project's config sources, each with what it reads when it can be recorded
/// (`dagfc fixtures record`), and the files they point into; `Err` is the project that
/// does not load.
#[allow(clippy::type_complexity)]
pub fn declared_sources(
    loader: &(dyn Loader + Sync),
) -> Result<
    (
        Vec<Result<dagf_sema::DeclaredSource, Box<Diagnostic>>>,
        Sources,
    ),
    Box<Build>,
> {
    let project = Project::load(loader)?;
    let session = Session::new();
    Ok(dagf_sema::declared_sources(
        &project.files,
        loader,
        &session.cache,
        project.sources.clone(),
    ))
}
