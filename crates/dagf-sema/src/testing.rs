//! `test` blocks as data, for `dagfc test` and any other runner: finding them (by
//! parsing alone), and running one (building the project's globals and the test's dags
//! with its fixtures in place of the config sources they replace).

use crate::modules::{Loader, resolve_path};
use crate::{Cell, Options, Parse, Table};
use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, Span};
use dagf_syntax::ast::{self, ExprKind, Item, StrPart, TestStmt};

/// One `test` block, found by parsing: what a runner lists, filters and runs.
#[derive(Clone, Debug)]
pub struct TestCase {
    /// The test's name.
    pub name: String,
    /// The file it is in, as the project names it (`src/orders.dagf`).
    pub file: String,
    /// Which test of that file it is (0 for the first), how [`run_test`] finds it.
    pub ordinal: usize,
    /// Where the whole test is.
    pub span: Span,
    /// Where its name is.
    pub name_span: Span,
    /// `expect_error CODE`: the code, and where it is written.
    pub expect_error: Option<(Code, Span)>,
    /// What its fixtures replace, and with what.
    pub fixtures: Vec<Fixture>,
    /// `env NAME`: the environment its dags are built for, and where it is written.
    pub env: Option<(String, Span)>,
    /// How many `run` statements it has: a test with one is an integration test.
    pub runs: usize,
}

/// A config source's file, database or URL as a test replaces it.
#[derive(Clone, Debug)]
pub struct Fixture {
    /// The project path (resolved against the test's file) or the URL replaced.
    pub target: String,
    /// For a database, the query it answers (a fixture named after a SQLite source);
    /// `None` answers every query.
    pub query: Option<String>,
    /// What reading it gives instead.
    pub data: FixtureData,
    /// Where the fixture is written.
    pub span: Span,
}

/// What a fixture gives.
#[derive(Clone, Debug)]
pub enum FixtureData {
    /// A file's text, or an HTTP answer's body.
    Text(String),
    /// A database's rows, whatever the query.
    Rows(Table),
}

/// Every test of a project, and the mistakes in how they are written.
#[derive(Debug)]
pub struct Discovery {
    /// The tests, file by file in the order of the files, each file's in the order written.
    pub tests: Vec<TestCase>,
    /// The files parsed, for the diagnostics.
    pub sources: Sources,
    /// Mistakes in the tests' headers and fixtures (E0805, E0806, E0807), and syntax errors.
    pub diagnostics: Diagnostics,
}

/// Finds the tests of the project made of `roots` (and what they import), reading the
/// fixtures' files.
/// `sources` holds the files the caller put first (such as `dagf.toml`), so that the
/// ids of the files are those [`run_test`] gives them.
pub fn find_tests(
    roots: &[String],
    loader: &dyn Loader,
    parser: &dyn Parse,
    mut sources: Sources,
) -> Discovery {
    let mut diags = Diagnostics::new();
    let prog = crate::modules::load_with(roots, loader, parser, 1, false, &mut sources, &mut diags);
    let mut tests: Vec<TestCase> = Vec::new();
    for &m in &prog.order {
        if m == prog.std_module {
            continue;
        }
        let module = &prog.modules[m];
        let tests_here = module.ast.items.iter().filter_map(|i| match i {
            Item::Test(t) => Some(t),
            _ => None,
        });
        for (ordinal, t) in tests_here.enumerate() {
            if let Some(first) = tests.iter().find(|c| c.name == t.name) {
                diags.push(
                    Diagnostic::at(
                        Code::E0807,
                        t.name_span,
                        format!("the test \"{}\" is declared twice", t.name),
                        "declared again here",
                    )
                    .with_label(first.name_span, "first declared here")
                    .with_help("give each test a name of its own: reports and filters go by it"),
                );
                continue;
            }
            let expect_error = match &t.expect_error {
                Some(code) => match Code::parse(&code.name) {
                    Some(c) => Some((c, code.span)),
                    None => {
                        diags.push(
                            Diagnostic::at(
                                Code::E0806,
                                code.span,
                                format!("`{}` is no diagnostic code", code.name),
                                "unknown code",
                            )
                            .with_help("write a code `dagfc explain --list` lists, such as E0205"),
                        );
                        continue;
                    }
                },
                None => None,
            };
            let mut fixtures = Vec::new();
            let mut fixtures_ok = true;
            for s in &t.body {
                if let TestStmt::Fixture {
                    by_source,
                    path,
                    path_span,
                    value,
                    span,
                } = s
                {
                    let named = if *by_source {
                        match source_target(&prog, m, path, *path_span) {
                            Ok(x) => Some(x),
                            Err(d) => {
                                diags.push(*d);
                                fixtures_ok = false;
                                continue;
                            }
                        }
                    } else {
                        None
                    };
                    let (target, query) = match &named {
                        Some(src) => match &src.kind {
                            SourceKind::Http { url } => (url.clone(), None),
                            SourceKind::Sqlite { db, query } => (db.clone(), Some(query.clone())),
                        },
                        None if path.starts_with("http://") || path.starts_with("https://") => {
                            (path.clone(), None)
                        }
                        None => (resolve_path(&module.path, path), None),
                    };
                    let data = match (&value.kind, &named) {
                        (ExprKind::Name(n), Some(src)) if n == "recorded" => {
                            recorded(src, value.span, loader)
                        }
                        (ExprKind::Name(n), None) if n == "recorded" => Err(bad_fixture(
                            value.span,
                            "`recorded` stands for what `dagfc fixtures record` saved for a source: name the source, `fixture NAME = recorded`",
                            "not after a source's name",
                        )),
                        _ => fixture_data(&module.path, value, loader).and_then(|d| {
                            match (d, &named) {
                                (FixtureData::Text(t), Some(src))
                                    if matches!(src.kind, SourceKind::Sqlite { .. }) =>
                                {
                                    rows_from_json(&t).map(FixtureData::Rows).map_err(|e| {
                                        bad_fixture(
                                            value.span,
                                            format!(
                                                "the rows of `{}` are not JSON rows: {e}",
                                                src.name
                                            ),
                                            "not rows",
                                        )
                                    })
                                }
                                (d, _) => Ok(d),
                            }
                        }),
                    };
                    match data {
                        Ok(data) => fixtures.push(Fixture {
                            target,
                            query,
                            data,
                            span: *span,
                        }),
                        Err(d) => {
                            diags.push(*d);
                            fixtures_ok = false;
                        }
                    }
                }
            }
            // A test whose fixture is wrong would run against the real data: it is not run.
            if !fixtures_ok {
                continue;
            }
            tests.push(TestCase {
                name: t.name.clone(),
                file: module.path.clone(),
                ordinal,
                span: t.span,
                name_span: t.name_span,
                expect_error,
                fixtures,
                env: t.env.as_ref().map(|e| (e.name.clone(), e.span)),
                runs: t
                    .body
                    .iter()
                    .filter(|s| matches!(s, TestStmt::Run { .. }))
                    .count(),
            });
        }
    }
    Discovery {
        tests,
        sources,
        diagnostics: diags,
    }
}

/// A config source the project declares, as `dagfc fixtures record` and a fixture
/// named after it see it.
#[derive(Clone, Debug)]
pub struct DeclaredSource {
    /// Its name.
    pub name: String,
    /// The file that declares it, as the project names it.
    pub file: String,
    /// Where its name is written.
    pub span: Span,
    /// What it reads, when that can be recorded.
    pub kind: SourceKind,
}

/// What a recordable source reads.
#[derive(Clone, Debug)]
pub enum SourceKind {
    /// A GET of this URL.
    Http {
        /// The URL.
        url: String,
    },
    /// This query of this database (a project path).
    Sqlite {
        /// The database, resolved against the declaring file.
        db: String,
        /// The query.
        query: String,
    },
}

impl DeclaredSource {
    /// Where `dagfc fixtures record` keeps what it answered: `fixtures/NAME.json`
    /// beside the file that declares it.
    pub fn recorded_path(&self) -> String {
        resolve_path(&self.file, &format!("fixtures/{}.json", self.name))
    }
}

/// Every source of the project made of `roots`, with what it reads when that is a URL
/// or a query written as plain strings (the sources that can be recorded); the others
/// come with why not, as the error `dagfc fixtures record` gives for them.
pub fn declared_sources(
    roots: &[String],
    loader: &dyn Loader,
    parser: &dyn Parse,
    mut sources: Sources,
) -> (Vec<Result<DeclaredSource, Box<Diagnostic>>>, Sources) {
    let mut diags = Diagnostics::new();
    let prog = crate::modules::load_with(roots, loader, parser, 1, false, &mut sources, &mut diags);
    let mut out = Vec::new();
    for &m in &prog.order {
        if m == prog.std_module {
            continue;
        }
        for i in &prog.modules[m].ast.items {
            if let Item::Source(d) = i {
                out.push(recordable(&prog.modules[m].path, d));
            }
        }
    }
    (out, sources)
}

/// What a source declaration reads, if it can be recorded (E0817 otherwise).
fn recordable(file: &str, d: &ast::SourceDecl) -> Result<DeclaredSource, Box<Diagnostic>> {
    let plain: Vec<Option<String>> = d
        .args
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| match &a.value.kind {
            ExprKind::Str(parts) => match parts.as_slice() {
                [StrPart::Text(t)] => Some(t.clone()),
                [] => Some(String::new()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let not = |why: &str| {
        Box::new(
            Diagnostic::at(
                Code::E0817,
                d.name.span,
                format!("the source `{}` cannot be recorded: {why}", d.name.name),
                "this source",
            )
            .with_help("record the sources that read a server or a database (`http(...)`, `sqlite(...)`) with their URL and query written as plain strings; a file source is already a file of the project"),
        )
    };
    let kind = match (d.format.name.as_str(), plain.as_slice()) {
        ("http", [Some(url), ..]) => SourceKind::Http { url: url.clone() },
        ("sqlite", [Some(db), Some(query), ..]) => SourceKind::Sqlite {
            db: resolve_path(file, db),
            query: query.clone(),
        },
        ("http" | "sqlite", _) => return Err(not("its URL or query is computed")),
        (other, _) => return Err(not(&format!("it reads files (`{other}`)"))),
    };
    Ok(DeclaredSource {
        name: d.name.name.clone(),
        file: file.to_string(),
        span: d.name.span,
        kind,
    })
}

/// The source `name` as seen from module `m`, for `fixture NAME = ...` (E0805 if it is none).
fn source_target(
    prog: &crate::modules::Program,
    m: crate::ids::ModuleId,
    name: &str,
    at: Span,
) -> Result<DeclaredSource, Box<Diagnostic>> {
    let found = prog.order.iter().find_map(|&k| {
        prog.modules[k].ast.items.iter().find_map(|i| match i {
            Item::Source(d) if d.name.name == name => Some((k, d)),
            _ => None,
        })
    });
    let _ = m;
    let Some((k, d)) = found else {
        return Err(bad_fixture(
            at,
            format!("the project has no source `{name}`"),
            "no such source",
        ));
    };
    recordable(&prog.modules[k].path, d).map_err(|e| {
        bad_fixture(
            at,
            format!("a fixture named after a source replaces a server's answer or a database's rows: {}", e.message),
            "not a server or database source",
        )
    })
}

/// What `dagfc fixtures record` saved for `src`.
fn recorded(
    src: &DeclaredSource,
    at: Span,
    loader: &dyn Loader,
) -> Result<FixtureData, Box<Diagnostic>> {
    let path = src.recorded_path();
    let bytes = loader.read(&path).map_err(|e| {
        Box::new(
            Diagnostic::at(
                Code::E0805,
                at,
                format!("no recorded answer of `{}`: cannot read `{path}`: {e}", src.name),
                "nothing recorded",
            )
            .with_help(format!("run `dagfc fixtures record {}` to save what it answers today, then commit the file", src.name)),
        )
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| bad_fixture(at, format!("`{path}` is not UTF-8 text"), "not text"))?;
    match src.kind {
        SourceKind::Http { .. } => Ok(FixtureData::Text(text)),
        SourceKind::Sqlite { .. } => rows_from_json(&text).map(FixtureData::Rows).map_err(|e| {
            bad_fixture(
                at,
                format!("`{path}` does not hold JSON rows: {e}"),
                "not rows",
            )
        }),
    }
}

/// A database's rows from JSON text: a list of objects, one per row (as `dagfc fixtures
/// record` writes them); a list or object in a cell is JSON text, as a JSON column holds it.
pub fn rows_from_json(text: &str) -> Result<Table, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let serde_json::Value::Array(rows) = value else {
        return Err("not a list of rows".into());
    };
    let mut table = Table {
        columns: Vec::new(),
        rows: Vec::new(),
    };
    for r in &rows {
        let serde_json::Value::Object(fields) = r else {
            return Err("a row that is not an object".into());
        };
        for k in fields.keys() {
            if !table.columns.contains(k) {
                table.columns.push(k.clone());
            }
        }
    }
    for r in &rows {
        let cells = table
            .columns
            .iter()
            .map(|c| match r.get(c) {
                None | Some(serde_json::Value::Null) => Cell::Null,
                Some(serde_json::Value::Bool(b)) => Cell::Int(i64::from(*b)),
                Some(serde_json::Value::Number(n)) => match n.as_i64() {
                    Some(i) => Cell::Int(i),
                    None => Cell::Real(n.as_f64().unwrap_or(0.0)),
                },
                Some(serde_json::Value::String(t)) => Cell::Text(t.clone()),
                Some(other) => Cell::Text(other.to_string()),
            })
            .collect();
        table.rows.push(cells);
    }
    Ok(table)
}

/// E0805 at `at`.
fn bad_fixture(at: Span, message: impl Into<String>, label: &str) -> Box<Diagnostic> {
    Box::new(
        Diagnostic::at(Code::E0805, at, message, label).with_help(
            "a fixture is a string (the file's text or the answer's body), `file(\"PATH\")`, or a list of records (a database's rows)",
        ),
    )
}

/// What a fixture's value gives: literals only, so that it is known before anything is evaluated.
fn fixture_data(
    module_path: &str,
    value: &ast::Expr,
    loader: &dyn Loader,
) -> Result<FixtureData, Box<Diagnostic>> {
    match &value.kind {
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => Ok(FixtureData::Text(String::new())),
            [StrPart::Text(t)] => Ok(FixtureData::Text(t.clone())),
            _ => Err(bad_fixture(
                value.span,
                "a fixture's text cannot interpolate",
                "has `${...}`",
            )),
        },
        ExprKind::Call(f, args) if matches!(&f.kind, ExprKind::Name(n) if n == "file") => {
            let path = match args.as_slice() {
                [a] if a.name.is_none() => match &a.value.kind {
                    ExprKind::Str(parts) => match parts.as_slice() {
                        [StrPart::Text(t)] => Some(t.clone()),
                        _ => None,
                    },
                    _ => None,
                },
                _ => None,
            };
            let Some(path) = path else {
                return Err(bad_fixture(
                    value.span,
                    "`file` takes one path, a string without `${...}`",
                    "not one path",
                ));
            };
            let full = resolve_path(module_path, &path);
            let bytes = loader.read(&full).map_err(|e| {
                bad_fixture(
                    value.span,
                    format!("cannot read the fixture file `{full}`: {e}"),
                    "cannot be read",
                )
            })?;
            String::from_utf8(bytes)
                .map(FixtureData::Text)
                .map_err(|_| {
                    bad_fixture(
                        value.span,
                        format!("the fixture file `{full}` is not UTF-8 text"),
                        "not text",
                    )
                })
        }
        ExprKind::List(rows) => {
            let mut table = Table {
                columns: Vec::new(),
                rows: Vec::new(),
            };
            let mut records = Vec::new();
            for row in rows {
                let ExprKind::Record(fields) = &row.kind else {
                    return Err(bad_fixture(
                        row.span,
                        "a database fixture is a list of records, one per row",
                        "not a record",
                    ));
                };
                for (k, _) in fields {
                    if !table.columns.contains(&k.name) {
                        table.columns.push(k.name.clone());
                    }
                }
                records.push(fields);
            }
            for fields in records {
                let mut cells = Vec::new();
                for c in &table.columns {
                    cells.push(match fields.iter().find(|(k, _)| &k.name == c) {
                        Some((_, x)) => cell(x)?,
                        None => Cell::Null,
                    });
                }
                table.rows.push(cells);
            }
            Ok(FixtureData::Rows(table))
        }
        _ => Err(bad_fixture(
            value.span,
            "a fixture is text, `file(\"PATH\")` or rows",
            "not a fixture",
        )),
    }
}

/// A row's cell from a literal; a list or record is JSON text, as a JSON column holds it.
fn cell(x: &ast::Expr) -> Result<Cell, Box<Diagnostic>> {
    Ok(match &x.kind {
        ExprKind::None => Cell::Null,
        ExprKind::Int(i) => Cell::Int(*i),
        ExprKind::Float(f) => Cell::Real(*f),
        ExprKind::Bool(b) => Cell::Int(i64::from(*b)),
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => Cell::Text(String::new()),
            [StrPart::Text(t)] => Cell::Text(t.clone()),
            _ => return Err(not_literal(x.span)),
        },
        ExprKind::List(_) | ExprKind::Record(_) => Cell::Text(json(x)?),
        _ => return Err(not_literal(x.span)),
    })
}

fn not_literal(at: Span) -> Box<Diagnostic> {
    bad_fixture(
        at,
        "a fixture's row holds literals: strings, numbers, booleans, `none`, lists and records",
        "not a literal",
    )
}

/// A literal as JSON text.
fn json(x: &ast::Expr) -> Result<String, Box<Diagnostic>> {
    Ok(match &x.kind {
        ExprKind::None => "null".into(),
        ExprKind::Int(i) => i.to_string(),
        ExprKind::Float(f) => format!("{f}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Str(parts) => match parts.as_slice() {
            [] => "\"\"".into(),
            [StrPart::Text(t)] => serde_json::Value::from(t.as_str()).to_string(),
            _ => return Err(not_literal(x.span)),
        },
        ExprKind::List(xs) => {
            let items: Result<Vec<String>, _> = xs.iter().map(json).collect();
            format!("[{}]", items?.join(", "))
        }
        ExprKind::Record(fs) => {
            let items: Result<Vec<String>, Box<Diagnostic>> = fs
                .iter()
                .map(|(k, v)| {
                    Ok::<_, Box<Diagnostic>>(format!(
                        "{}: {}",
                        serde_json::Value::from(k.name.as_str()),
                        json(v)?
                    ))
                })
                .collect();
            format!("{{{}}}", items?.join(", "))
        }
        _ => return Err(not_literal(x.span)),
    })
}

/// What running one test gave.
#[derive(Debug)]
pub struct TestRun {
    /// Every file read, for the diagnostics.
    pub sources: Sources,
    /// What building the project's globals and the test's dags reported.
    pub diagnostics: Diagnostics,
    /// Each failed assertion (E0801).
    pub failures: Vec<Diagnostic>,
    /// The dags its `snapshot` statements name, with where each statement is.
    pub snapshots: Vec<(Span, dagf_ir::Dag)>,
    /// Its `run` statements, checked: what `dagfc test --integration` runs in Airflow.
    pub runs: Vec<RunPlan>,
    /// The pools its dags may use, for the Airflow that runs them.
    pub pools: Vec<dagf_ir::Pool>,
}

/// A `run` statement: a dag to run with `airflow dags test`, and what its run must end with.
#[derive(Clone, Debug)]
pub struct RunPlan {
    /// Where the statement is.
    pub span: Span,
    /// The dag, as built (not yet optimised).
    pub dag: dagf_ir::Dag,
    /// What the run must end with; a `run` without `expect` expects the run to succeed.
    pub expects: Vec<Expectation>,
}

/// One `expect` of a run: the final state of a task, or of the dag run.
#[derive(Clone, Debug)]
pub struct Expectation {
    /// The task's id, or `None` for the dag run's own state.
    pub task: Option<String>,
    /// The state it must end in (`success`, `failed`, ...).
    pub state: String,
    /// Where the `expect` is.
    pub span: Span,
}

/// The states a task instance ends a run of `airflow dags test` in.
pub const TASK_STATES: &[&str] = &["success", "failed", "skipped", "upstream_failed", "removed"];

/// The states a dag run ends in.
pub const RUN_STATES: &[&str] = &["success", "failed"];

/// Runs `case` over the project made of `roots`; `loader` already gives the case's
/// fixtures in place of what they replace.
pub fn run_test(
    roots: &[String],
    loader: &dyn Loader,
    options: &Options,
    parser: &dyn Parse,
    mut sources: Sources,
    case: &TestCase,
) -> TestRun {
    let mut diags = Diagnostics::new();
    let mut program =
        crate::modules::load_with(roots, loader, parser, 1, false, &mut sources, &mut diags);
    crate::sources::read(
        &mut program,
        loader,
        options.env.as_deref(),
        &mut sources,
        &mut diags,
    );
    let found = program.order.iter().find_map(|&m| {
        let module = &program.modules[m];
        (module.path == case.file)
            .then(|| {
                module
                    .ast
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Test(t) => Some(t),
                        _ => None,
                    })
                    .nth(case.ordinal)
                    .map(|t| (m, t))
            })
            .flatten()
    });
    let run = match found {
        Some((m, t)) => crate::eval::run_test(&program, &sources, options, m, t, &mut diags),
        None => crate::eval::TestRun::default(),
    };
    TestRun {
        sources,
        diagnostics: diags,
        failures: run.failures,
        snapshots: run.snapshots,
        runs: run.runs,
        pools: run.pools,
    }
}
