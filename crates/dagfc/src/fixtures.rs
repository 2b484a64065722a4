//! `dagfc fixtures record`: what HTTP and SQLite config sources answer today, saved
//! beside the files that declare them (`fixtures/SOURCE.json`), where a test's
//! `fixture SOURCE = recorded` finds it; re-recording shows what changed.

use crate::cli::{Printer, ProjectArgs, counts, facts};
use crate::project;
use crate::stdio::outln;
use dagf_diag::{Code, Diagnostic, Sources};
use dagf_sema::{Cell, DeclaredSource, HttpLimits, Loader, SourceKind, SqlError, SqlLimits, Table};

const USER_ERROR: u8 = 1;

/// Records the sources named (every recordable one when none is); 1 on any error.
pub(crate) fn record(printer: &Printer, args: &ProjectArgs, names: &[String]) -> u8 {
    let start = args.start();
    let Some(root) = project::find_root(&start) else {
        printer.print(vec![project::not_found(&start)], &Sources::new());
        printer.summary("error: no project", true, facts(1, 0));
        return USER_ERROR;
    };
    let loader = dagf_io::DiskLoader { root: &root };
    let (declared, sources) = match dagf_driver::tests::declared_sources(&loader) {
        Ok(x) => x,
        Err(stopped) => {
            let n = stopped.diagnostics.len();
            printer.print(stopped.diagnostics, &stopped.sources);
            printer.summary(&format!("error: {}", counts(n, 0)), true, facts(n, 0));
            return USER_ERROR;
        }
    };
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut chosen: Vec<DeclaredSource> = Vec::new();
    if names.is_empty() {
        chosen.extend(declared.iter().filter_map(|d| d.as_ref().ok().cloned()));
    } else {
        let known: Vec<String> = declared
            .iter()
            .map(|d| match d {
                Ok(s) => s.name.clone(),
                Err(e) => e.message.clone(),
            })
            .collect();
        for name in names {
            let found = declared.iter().find(|d| match d {
                Ok(s) => &s.name == name,
                Err(e) => e.message.contains(&format!("`{name}`")),
            });
            match found {
                Some(Ok(s)) => chosen.push(s.clone()),
                Some(Err(e)) => errors.push((**e).clone()),
                None => {
                    let recordable = declared
                        .iter()
                        .filter_map(|d| d.as_ref().ok().map(|s| s.name.as_str()));
                    let _ = &known;
                    errors.push(
                        Diagnostic::new(Code::E0817, format!("the project has no source `{name}`"))
                            .with_suggestion(name, recordable)
                            .or_help("name a source the project declares with `source NAME: TYPE = http(...)` or `sqlite(...)`"),
                    );
                }
            }
        }
    }
    let mut recorded = 0;
    for src in &chosen {
        match answer(&loader, src) {
            Ok(text) => match save(&root, src, &text) {
                Ok(change) => {
                    recorded += 1;
                    report(printer, src, &change);
                }
                Err(e) => errors.push(
                    Diagnostic::at(
                        Code::E0818,
                        src.span,
                        format!("cannot write `{}`: {e}", src.recorded_path()),
                        "recording this source",
                    )
                    .with_help("make the folder writable"),
                ),
            },
            Err(e) => errors.push(
                Diagnostic::at(
                    Code::E0818,
                    src.span,
                    format!("cannot record the source `{}`: {e}", src.name),
                    "this source did not answer",
                )
                .with_help("the fixture recorded before, if any, is kept: record again when the server or the database answers"),
            ),
        }
    }
    let n = errors.len();
    printer.print(errors, &sources);
    if n > 0 {
        printer.summary(&format!("error: {}", counts(n, 0)), true, facts(n, 0));
        return USER_ERROR;
    }
    let mut f = facts(0, 0);
    f["recorded"] = recorded.into();
    printer.summary(
        &format!("recorded {}", dagf_diag::plural(recorded, "source")),
        false,
        f,
    );
    0
}

/// What the source answers now, as the fixture file's text.
fn answer(loader: &dagf_io::DiskLoader, src: &DeclaredSource) -> Result<String, String> {
    match &src.kind {
        SourceKind::Http { url } => {
            let body = loader
                .http_get(
                    url,
                    &HttpLimits {
                        timeout: std::time::Duration::from_secs(30),
                        max_bytes: 64 << 20,
                    },
                )
                .map_err(|e| e.to_string())?;
            let text = String::from_utf8(body).map_err(|_| "the answer is not UTF-8 text")?;
            // JSON is kept one value a line, so that re-recording shows what changed.
            Ok(match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => format!(
                    "{}\n",
                    serde_json::to_string_pretty(&v).unwrap_or(text.clone())
                ),
                Err(_) => text,
            })
        }
        SourceKind::Sqlite { db, query } => {
            let table = loader
                .sqlite(db, query, &SqlLimits::default())
                .map_err(|e| match e {
                    SqlError::Open(why) => why,
                    SqlError::NotAFile(what) => format!("`{db}` is {what}"),
                    SqlError::Limit(l) => format!("the query went past its bound ({l:?})"),
                    SqlError::Query { message, .. } => format!("the query failed: {message}"),
                })?;
            Ok(rows_json(&table))
        }
    }
}

/// Rows as a JSON list, one row a line, each row's columns in the query's order.
fn rows_json(table: &Table) -> String {
    let mut out = String::from("[\n");
    for (i, row) in table.rows.iter().enumerate() {
        let cells: Vec<String> = table
            .columns
            .iter()
            .zip(row)
            .map(|(c, v)| {
                let v = match v {
                    Cell::Null | Cell::Blob => serde_json::Value::Null,
                    Cell::Int(n) => (*n).into(),
                    Cell::Real(f) => (*f).into(),
                    Cell::Text(t) => t.as_str().into(),
                };
                format!("{}: {v}", serde_json::Value::from(c.as_str()))
            })
            .collect();
        let comma = if i + 1 < table.rows.len() { "," } else { "" };
        out.push_str(&format!("  {{{}}}{comma}\n", cells.join(", ")));
    }
    out.push_str("]\n");
    out
}

/// How a recording changed the fixture file.
enum Change {
    New,
    Same,
    Changed(Vec<String>),
}

/// Writes the fixture file; what was there before decides the [`Change`].
fn save(root: &std::path::Path, src: &DeclaredSource, text: &str) -> std::io::Result<Change> {
    let path = root.join(src.recorded_path());
    let before = std::fs::read_to_string(&path).ok();
    let change = match &before {
        None => Change::New,
        Some(b) if b == text => return Ok(Change::Same),
        Some(b) => Change::Changed(diff(b, text)),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, text)?;
    Ok(change)
}

fn report(printer: &Printer, src: &DeclaredSource, change: &Change) {
    let path = src.recorded_path();
    match change {
        Change::New => printer.note(&format!("recorded `{}` in {path}", src.name)),
        Change::Same => printer.note(&format!("`{}` answers as recorded in {path}", src.name)),
        Change::Changed(lines) => {
            printer.note(&format!(
                "`{}` answers otherwise than recorded; {path} now holds:",
                src.name
            ));
            if !printer.is_json() {
                for l in lines {
                    outln!("{l}");
                }
            }
        }
    }
}

/// The lines that differ, `-` before and `+` after, in order (a longest common
/// subsequence; past 4,000 lines a side, only how many lines each has).
fn diff(before: &str, after: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (before.lines().collect(), after.lines().collect());
    if a.len() > 4000 || b.len() > 4000 {
        return vec![format!("-{} lines", a.len()), format!("+{} lines", b.len())];
    }
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(format!("-{}", a[i]));
            i += 1;
        } else {
            out.push(format!("+{}", b[j]));
            j += 1;
        }
    }
    out
}
