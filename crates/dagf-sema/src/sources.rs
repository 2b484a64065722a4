//! Reading what config sources name: files (and the base documents they `extends`), the
//! rows of a SQLite query, the answer of an HTTP server. Everything comes in through the
//! [`Loader`]; rows and answers become JSON text in [`Sources`], so the evaluator
//! converts them like any config file and an error points into them.

use crate::files::{HttpLimits, ReadError, SqlLimits};
use crate::ids::SourceId;
use crate::modules::{Loader, Program, resolve_path};
use crate::types;
use dagf_diag::{Code, Diagnostic, Diagnostics, FileId, Sources, Span};
use dagf_syntax::ast::{self, ExprKind, StrPart};
use std::collections::HashSet;
use std::time::Duration;

/// What a query gave: its column names and its rows.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// The result's column names, in order.
    pub columns: Vec<String>,
    /// Each row's cells, in column order.
    pub rows: Vec<Vec<Cell>>,
}

/// One value of a row, as SQLite stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// SQL `NULL`: the field is left unset, so its default applies.
    Null,
    /// An `INTEGER`.
    Int(i64),
    /// A `REAL`.
    Real(f64),
    /// `TEXT` (JSON text in a column becomes a list or record).
    Text(String),
    /// A `BLOB`, which no config field can hold (E0503).
    Blob,
}

/// A cached HTTP answer and how old it is.
#[derive(Clone, Debug)]
pub struct Cached {
    /// The answer's text, as the server sent it.
    pub body: String,
    /// How long ago it was fetched (a source's `cache = 10m` accepts it only if younger).
    pub age: Duration,
}

/// Where a source's data came from, so that messages can say it in its own terms.
#[derive(Clone, Debug, Default)]
pub enum Origin {
    #[default]
    /// YAML or JSON files, and the base documents they extend.
    Files,
    /// The rows of a query; `rows[i]` says how messages name row `i` (its key).
    Rows {
        /// The database file's path, resolved against the declaring file.
        db: String,
        /// The table the query reads (its first `FROM`), if it says plainly.
        table: Option<String>,
        /// The column `key = "COL"` names, whose value names each row.
        key: Option<String>,
        /// How messages name each row: its key, or its number.
        rows: Vec<String>,
    },
    /// An HTTP answer, maybe the cached one.
    Answer { url: String },
}

/// How long an HTTP source waits for an answer unless it says `timeout = ...`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The arguments of a source, checked: the strings in order, and the named options.
struct Args<'a> {
    strings: Vec<(String, Span)>,
    named: Vec<(&'a ast::Ident, &'a ast::Expr)>,
}

/// Reads every config source's data (it is converted later, against the source's type).
pub fn read(
    prog: &mut Program,
    loader: &dyn Loader,
    env: Option<&str>,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) {
    for i in prog.sources.ids() {
        let decl = prog.sources[i].decl.clone();
        let module = prog.sources[i].module;
        let module_path = prog.modules[module].path.clone();
        prog.sources[i].ty = types::resolve(prog, module, &decl.ty, &mut Vec::new(), diags);
        let Some(args) = arguments(&decl, env, diags) else {
            continue;
        };
        let format = decl.format.name.as_str();
        let (allowed, strings): (&[&str], &[&str]) = match format {
            "yaml" | "json" => (&[], &["a path"]),
            "sqlite" => (
                &["key", "version", "timeout", "max_rows", "max_bytes"],
                &["a database file", "a query"],
            ),
            "http" => (&["cache", "timeout", "max_bytes"], &["a URL"]),
            _ => {
                diags.push(
                    Diagnostic::at(
                        Code::E0502,
                        decl.format.span,
                        format!("`{format}` is not a kind of source"),
                        "unknown kind",
                    )
                    .with_suggestion(format, ["yaml", "json", "sqlite", "http"])
                    .or_help("sources read `yaml(\"path\")`, `json(\"path\")`, `sqlite(\"file\", \"query\")` or `http(\"url\")`"),
                );
                continue;
            }
        };
        if !check_shape(&decl, &args, allowed, strings, diags) {
            continue;
        }
        prog.reads_beyond_files |= format == "sqlite"
            || format == "http"
            || args.strings.first().is_some_and(|(p, _)| p.contains('*'));
        let ok = match format {
            "sqlite" => read_rows(prog, i, &args, &module_path, loader, sources, diags),
            "http" => read_answer(prog, i, &args, loader, sources, diags),
            _ => read_files(
                prog,
                i,
                &args.strings[0],
                &module_path,
                loader,
                sources,
                diags,
            ),
        };
        prog.sources[i].complete = ok;
    }
}

/// The strings and options of a source, written out: no `${...}` but `${env}`.
fn arguments<'a>(
    decl: &'a ast::SourceDecl,
    env: Option<&str>,
    diags: &mut Diagnostics,
) -> Option<Args<'a>> {
    let mut args = Args {
        strings: Vec::new(),
        named: Vec::new(),
    };
    for a in &decl.args {
        if let Some(name) = &a.name {
            args.named.push((name, &a.value));
            continue;
        }
        let ExprKind::Str(parts) = &a.value.kind else {
            diags.push(
                Diagnostic::at(
                    Code::E0201,
                    a.value.span,
                    "a source reads from a string written out",
                    "not a string",
                )
                .with_help("write the path, query or URL as a string; options are `name = value`"),
            );
            return None;
        };
        let mut text = String::new();
        for p in parts {
            match p {
                StrPart::Text(t) => text.push_str(t),
                StrPart::Interp(e) if matches!(&e.kind, ExprKind::Name(n) if n == "env") => {
                    match env {
                        Some(env) => text.push_str(env),
                        None => {
                            diags.push(
                                Diagnostic::at(
                                    Code::E0405,
                                    e.span,
                                    "this source depends on the environment, and none is chosen",
                                    "no environment to put here",
                                )
                                .with_help("build with `--env NAME`, set `DAGF_ENV`, or set `default_env` in the `[project]` table of dagf.toml"),
                            );
                            return None;
                        }
                    }
                }
                StrPart::Interp(e) => {
                    diags.push(
                        Diagnostic::at(
                            Code::E0201,
                            e.span,
                            "a source's strings are read before anything is evaluated",
                            "not known yet",
                        )
                        .with_help("only `${env}` may be interpolated here; write the rest out"),
                    );
                    return None;
                }
            }
        }
        args.strings.push((text, a.value.span));
    }
    Some(args)
}

/// Checks the number of strings and the option names a kind of source takes.
fn check_shape(
    decl: &ast::SourceDecl,
    args: &Args,
    allowed: &[&str],
    strings: &[&str],
    diags: &mut Diagnostics,
) -> bool {
    let mut ok = true;
    for (name, _) in &args.named {
        if !allowed.contains(&name.name.as_str()) {
            ok = false;
            let d = Diagnostic::at(
                Code::E0203,
                name.span,
                format!(
                    "`{}` sources take no option `{}`",
                    decl.format.name, name.name
                ),
                "unknown option",
            );
            diags.push(if allowed.is_empty() {
                d.with_help(format!("`{}` sources take no options", decl.format.name))
            } else {
                d.with_suggestion(&name.name, allowed.iter().copied())
                    .or_help(format!("the options are {}", quoted(allowed)))
            });
        }
    }
    if args.strings.len() != strings.len() {
        ok = false;
        let want = strings.join(" and ");
        let d = Diagnostic::at(
            if args.strings.len() < strings.len() {
                Code::E0202
            } else {
                Code::E0203
            },
            decl.args_span,
            format!(
                "`{}` takes {want}, and {} given",
                decl.format.name,
                match args.strings.len() {
                    0 => "no string is".to_string(),
                    1 => "1 string is".to_string(),
                    n => format!("{n} strings are"),
                }
            ),
            format!("expected {want}"),
        );
        diags.push(d.with_help(match decl.format.name.as_str() {
            "sqlite" => "write `sqlite(\"configs.db\", \"SELECT ... FROM ...\")`",
            "http" => "write `http(\"https://host/path\", cache = 10m)`",
            _ => "write the path of the files, such as `yaml(\"configs/*.yaml\")`",
        }));
    }
    ok
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A named option that must be a string written out.
fn string_option(args: &Args, name: &str, diags: &mut Diagnostics) -> Result<Option<String>, ()> {
    let Some((_, e)) = args.named.iter().find(|(n, _)| n.name == name) else {
        return Ok(None);
    };
    match &e.kind {
        ExprKind::Str(parts) if parts.iter().all(|p| matches!(p, StrPart::Text(_))) => Ok(Some(
            parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => t.as_str(),
                    StrPart::Interp(_) => "",
                })
                .collect(),
        )),
        _ => {
            diags.push(
                Diagnostic::at(
                    Code::E0201,
                    e.span,
                    format!("`{name}` is a column name"),
                    "not a string",
                )
                .with_help(format!("write `{name} = \"column\"`")),
            );
            Err(())
        }
    }
}

/// A named option that must be a duration written out.
fn duration_option(
    args: &Args,
    name: &str,
    diags: &mut Diagnostics,
) -> Result<Option<Duration>, ()> {
    let Some((_, e)) = args.named.iter().find(|(n, _)| n.name == name) else {
        return Ok(None);
    };
    match e.kind {
        ExprKind::Duration(ms) if ms >= 0 => Ok(Some(Duration::from_millis(ms as u64))),
        _ => {
            diags.push(
                Diagnostic::at(
                    Code::E0201,
                    e.span,
                    format!("`{name}` is a duration"),
                    "not a duration",
                )
                .with_help(format!("write `{name} = 10m`, `30s`, `1h` ...")),
            );
            Err(())
        }
    }
}

/// A named option that must be a positive whole number written out.
fn count_option(args: &Args, name: &str, diags: &mut Diagnostics) -> Result<Option<u64>, ()> {
    let Some((_, e)) = args.named.iter().find(|(n, _)| n.name == name) else {
        return Ok(None);
    };
    match e.kind {
        ExprKind::Int(n) if n > 0 => Ok(Some(n as u64)),
        _ => {
            diags.push(
                Diagnostic::at(
                    Code::E0201,
                    e.span,
                    format!("`{name}` is a positive whole number"),
                    "not a positive integer",
                )
                .with_help(format!("write `{name} = 500_000`")),
            );
            Err(())
        }
    }
}

// ---- files ---------------------------------------------------------------------------

/// Reads the files a path matches, and every base document they name.
fn read_files(
    prog: &mut Program,
    i: SourceId,
    (path, path_span): &(String, Span),
    module_path: &str,
    loader: &dyn Loader,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> bool {
    let path = resolve_path(module_path, path);
    let paths: Vec<String> = match path
        .rsplit_once('/')
        .map_or(("", path.as_str()), |(d, f)| (d, f))
    {
        (dir, pattern) if pattern.contains('*') => match loader.list(dir) {
            Ok(mut names) => {
                names.retain(|n| crate::glob_match(pattern, n));
                names.sort();
                names
                    .into_iter()
                    .map(|n| {
                        if dir.is_empty() {
                            n
                        } else {
                            format!("{dir}/{n}")
                        }
                    })
                    .collect()
            }
            Err(e) => {
                diags.push(
                    Diagnostic::at(
                        Code::E0502,
                        *path_span,
                        format!("cannot list the folder `{dir}`: {e}"),
                        "the files of this source",
                    )
                    .with_help("paths are relative to the file that declares the source"),
                );
                return false;
            }
        },
        _ => vec![path.clone()],
    };
    if paths.is_empty() {
        diags.push(
            Diagnostic::at(
                Code::E0502,
                *path_span,
                format!("no file matches `{path}`"),
                "matches nothing",
            )
            .with_help("paths are relative to the file that declares the source; `*` matches any run of characters in a file name"),
        );
        return false;
    }
    let format = prog.sources[i].decl.format.name.clone();
    let mut complete = true;
    for p in paths {
        match config_text(loader, &p, *path_span, "a file of this source", sources) {
            Ok(text) => {
                let file = sources.add(p, text);
                prog.sources[i].files.push(file);
                read_bases(prog, &format, file, loader, sources, diags);
            }
            Err(d) => {
                complete = false;
                diags.push(*d);
            }
        }
    }
    complete
}

/// The text of the config file at `path`, named at `at`; or the diagnostic saying why
/// there is none: not found (E0502), not a regular file (E0506), too large (E0507), not
/// UTF-8 (E0005, pointing at the first bad byte in the file).
fn config_text(
    loader: &dyn Loader,
    path: &str,
    at: Span,
    label: &str,
    sources: &mut Sources,
) -> Result<String, Box<Diagnostic>> {
    let bytes = match loader.read(path) {
        Ok(b) => b,
        Err(e @ (ReadError::NotFound | ReadError::Other(_))) => {
            return Err(Box::new(
                Diagnostic::at(Code::E0502, at, format!("cannot read `{path}`: {e}"), label)
                    .with_help("paths are relative to the file that declares the source"),
            ));
        }
        Err(e) => {
            return Err(Box::new(crate::files::unreadable(
                "the config file",
                path,
                &e,
                Some((at, label)),
            )));
        }
    };
    crate::files::decode(bytes).map_err(|e| {
        let (_, d) = crate::files::not_text(path, e, sources);
        Box::new(d.with_label(at, label))
    })
}

/// Reads the documents `file`'s documents extend, and theirs, once each. A base that
/// cannot be read is reported at the `extends` naming it.
fn read_bases(
    prog: &mut Program,
    format: &str,
    file: FileId,
    loader: &dyn Loader,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) {
    let mut todo = vec![file];
    let mut seen = HashSet::new();
    while let Some(f) = todo.pop() {
        if !seen.insert(f) {
            continue;
        }
        let Ok(docs) = crate::config::parse(format, &sources.get(f).text, f) else {
            continue; // reported when the source is converted
        };
        let name = sources.get(f).name.clone();
        for doc in &docs {
            for (base, at) in crate::documents::bases(doc) {
                let path = resolve_path(&name, &base);
                if let Some(&known) = prog.config_files.get(&path) {
                    todo.push(known);
                    continue;
                }
                match config_text(loader, &path, at, "extended here", sources) {
                    Ok(text) => {
                        let b = sources.add(path.clone(), text);
                        prog.config_files.insert(path, b);
                        todo.push(b);
                    }
                    Err(d) if d.code == Code::E0502 => diags.push(
                        Diagnostic::at(
                            Code::E0502,
                            at,
                            d.message.replacen("cannot read", "cannot read the base document", 1),
                            "extended here",
                        )
                        .with_help("the path of a base document is relative to the document that extends it"),
                    ),
                    Err(d) => diags.push(*d),
                }
            }
        }
        prog.config_files.insert(name, f);
    }
}

// ---- SQLite --------------------------------------------------------------------------

/// Runs a source's query and turns its rows into a JSON document, one row per line;
/// with `key`, rows are named by that column, and with `version` only the row with
/// the highest version of each key is kept (the version column is left out).
fn read_rows(
    prog: &mut Program,
    i: SourceId,
    args: &Args,
    module_path: &str,
    loader: &dyn Loader,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> bool {
    let ((db, db_span), (query, query_span)) = (&args.strings[0], &args.strings[1]);
    let (Ok(key), Ok(version), Ok(timeout), Ok(max_rows), Ok(max_bytes)) = (
        string_option(args, "key", diags),
        string_option(args, "version", diags),
        duration_option(args, "timeout", diags),
        count_option(args, "max_rows", diags),
        count_option(args, "max_bytes", diags),
    ) else {
        return false;
    };
    let defaults = SqlLimits::default();
    let limits = SqlLimits {
        timeout: timeout.unwrap_or(defaults.timeout),
        max_rows: max_rows.unwrap_or(defaults.max_rows),
        max_bytes: max_bytes.unwrap_or(defaults.max_bytes),
    };
    if db.trim().is_empty() {
        diags.push(
            Diagnostic::at(
                Code::E0503,
                *db_span,
                "no database file is named",
                "empty path",
            )
            .with_help("write the path of the SQLite file, relative to this `.dagf` file"),
        );
        return false;
    }
    let db_path = resolve_path(module_path, db);
    let table = match loader.sqlite(&db_path, query, &limits) {
        Ok(t) => t,
        Err(SqlError::NotAFile(what)) => {
            diags.push(crate::files::unreadable(
                "the database",
                &db_path,
                &ReadError::NotAFile(what),
                Some((*db_span, "this database")),
            ));
            return false;
        }
        Err(SqlError::Limit(what)) => {
            let option = match what {
                SqlLimit::Time => "timeout",
                SqlLimit::Rows => "max_rows",
                SqlLimit::Bytes => "max_bytes",
            };
            let said = match what {
                SqlLimit::Time => format!("ran longer than {} s", limits.timeout.as_secs_f64()),
                SqlLimit::Rows => format!("gave more than {} rows", limits.max_rows),
                SqlLimit::Bytes => format!(
                    "gave more than {} of data",
                    crate::files::bytes(limits.max_bytes)
                ),
            };
            let at = args
                .named
                .iter()
                .find(|(n, _)| n.name == option)
                .map(|(_, e)| e.span);
            let mut d = Diagnostic::at(
                Code::E0507,
                *query_span,
                format!("the query in `{db_path}` {said}, and was stopped"),
                "this query",
            );
            if let Some(at) = at {
                d = d.with_label(at, "the limit");
            }
            diags.push(d.with_help(format!(
                "config queries are bounded so that a build cannot hang or run out of memory: select less (a `WHERE`, a `LIMIT`), or raise the bound with `{option} = ...`"
            )));
            return false;
        }
        Err(SqlError::Open(e)) => {
            diags.push(
                Diagnostic::at(Code::E0503, *db_span, format!("cannot open the database `{db_path}`: {e}"), "this database")
                    .with_help("the path is relative to the file that declares the source; dagfc opens it read-only and never creates it"),
            );
            return false;
        }
        Err(SqlError::Query {
            message,
            tables,
            offset,
        }) => {
            let known = if tables.is_empty() {
                "the database has no tables".to_string()
            } else {
                format!(
                    "the database has the tables {}",
                    tables
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let d = Diagnostic::at(
                Code::E0503,
                *query_span,
                format!("the query failed in `{db_path}`: {message}"),
                "this query",
            )
            .with_note(known);
            let d = match offset.and_then(|o| token_in_literal(sources, *query_span, query, o)) {
                Some(at) => d.with_label(at, "here"),
                None => d,
            };
            let d = match message.strip_prefix("no such table: ") {
                Some(t) => d.with_suggestion(t, tables.iter().map(String::as_str)),
                None => d,
            };
            diags.push(d.or_help("fix the query; run it with `sqlite3` to try it out"));
            return false;
        }
    };
    let column = |name: &str, at: Span, diags: &mut Diagnostics| {
        let found = table.columns.iter().position(|c| c == name);
        if found.is_none() {
            diags.push(
                Diagnostic::at(
                    Code::E0503,
                    at,
                    format!("the query gives no column `{name}`"),
                    "not a column of the result",
                )
                .with_label(*query_span, "this query")
                .with_suggestion(name, table.columns.iter().map(String::as_str))
                .or_help(format!(
                    "the columns are {}",
                    table
                        .columns
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
        }
        found
    };
    let option_span = |n: &str| {
        args.named
            .iter()
            .find(|(name, _)| name.name == n)
            .map_or(*query_span, |(_, e)| e.span)
    };
    let key_col = match &key {
        Some(k) => match column(k, option_span("key"), diags) {
            Some(c) => Some(c),
            None => return false,
        },
        None => None,
    };
    let version_col = match (&version, key_col) {
        (Some(v), Some(_)) => match column(v, option_span("version"), diags) {
            Some(c) => Some(c),
            None => return false,
        },
        (Some(_), None) => {
            diags.push(
                Diagnostic::at(
                    Code::E0503,
                    option_span("version"),
                    "versions are compared per key, and no `key` is given",
                    "needs a key",
                )
                .with_help(
                    "add `key = \"COLUMN\"`: the column that names a config across its versions",
                ),
            );
            return false;
        }
        (None, _) => None,
    };
    let name_of = |row: &[Cell], n: usize| {
        let key = match key_col.map(|k| &row[k]) {
            Some(Cell::Text(t)) => format!("`{t}`"),
            Some(Cell::Int(i)) => format!("`{i}`"),
            _ => format!("{}", n + 1),
        };
        match version_col.map(|v| &row[v]) {
            Some(Cell::Int(v)) => format!("{key} (version {v})"),
            Some(Cell::Real(v)) => format!("{key} (version {v})"),
            Some(Cell::Text(v)) => format!("{key} (version {v})"),
            _ => key,
        }
    };
    // Keep the latest version of each key (first seen on a tie), in first-seen order.
    let mut rows: Vec<&Vec<Cell>> = Vec::new();
    // Where each key's row is in `rows`: a query may give many rows.
    let mut by_key: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for row in &table.rows {
        let Some(k) = key_col else {
            rows.push(row);
            continue;
        };
        let seen = by_key.get(&format!("{:?}", row[k])).copied();
        if seen.is_none() {
            by_key.insert(format!("{:?}", row[k]), rows.len());
        }
        match seen {
            Some(at) => match version_col {
                Some(v) => {
                    if newer(&row[v], &rows[at][v]) {
                        rows[at] = row;
                    }
                }
                None => {
                    diags.push(
                        Diagnostic::at(Code::E0503, *query_span, format!("the query gives the key {} twice", name_of(row, 0)), "this query")
                            .with_label(option_span("key"), "rows are named by this column")
                            .with_help("a key names one config: select one row per key, or give `version = \"COLUMN\"` to keep the latest"),
                    );
                    return false;
                }
            },
            None => rows.push(row),
        }
    }
    let mut text = String::from("[\n");
    let mut names = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let mut fields = Vec::new();
        for (c, cell) in row.iter().enumerate() {
            if Some(c) == version_col {
                continue;
            }
            let value = match cell {
                Cell::Null => continue, // not set: the field's default applies
                Cell::Int(i) => i.to_string(),
                Cell::Real(f) => serde_json::to_string(f).unwrap_or_else(|_| "null".into()),
                Cell::Text(t) => embedded_json(t).unwrap_or_else(|| json_string(t)),
                Cell::Blob => {
                    diags.push(
                        Diagnostic::at(
                            Code::E0503,
                            *query_span,
                            format!(
                                "row {} of the query holds binary data in column `{}`",
                                name_of(row, n),
                                table.columns[c]
                            ),
                            "this query",
                        )
                        .with_help(
                            "config columns hold numbers or text; lists and records are JSON text",
                        ),
                    );
                    return false;
                }
            };
            fields.push(format!("{}: {value}", json_string(&table.columns[c])));
        }
        names.push(name_of(row, n));
        let comma = if n + 1 < rows.len() { "," } else { "" };
        text.push_str(&format!("{{{}}}{comma}\n", fields.join(", ")));
    }
    text.push_str("]\n");
    let name = &prog.sources[i].decl.name.name;
    let file = sources.add(format!("{db_path} (rows of `{name}`)"), text);
    let info = &mut prog.sources[i];
    info.files.push(file);
    info.origin = Origin::Rows {
        db: db_path,
        table: table_of(query),
        key,
        rows: names,
    };
    true
}

/// The table a query reads, when its first `FROM` names one plainly.
fn table_of(query: &str) -> Option<String> {
    static FROM: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = FROM.get_or_init(|| {
        regex::Regex::new(r#"(?i)\bfrom\s+["`\[]?([A-Za-z_][A-Za-z0-9_]*)"#).expect("valid regex")
    });
    re.captures(query).map(|c| c[1].to_string())
}

/// The span of the token at byte `offset` of `query`, inside the string literal at
/// `literal` that wrote it (only when the literal holds the query as it is, without
/// escapes, so that offsets in one are offsets in the other).
fn token_in_literal(sources: &Sources, literal: Span, query: &str, offset: usize) -> Option<Span> {
    let text = sources.text(literal);
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    if inner != query || offset >= query.len() || !query.is_char_boundary(offset) {
        return None;
    }
    let len = query[offset..]
        .find(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .unwrap_or(query.len() - offset)
        .max(1);
    let start = literal.start as usize + 1 + offset;
    Some(Span::new(literal.file, start, start + len))
}

/// Whether version `a` is later than `b`: numbers by value, anything else as text.
fn newer(a: &Cell, b: &Cell) -> bool {
    let num = |c: &Cell| match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Real(f) => Some(*f),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x > y,
        _ => match (a, b) {
            (Cell::Text(x), Cell::Text(y)) => x > y,
            (_, Cell::Null) => !matches!(a, Cell::Null),
            _ => false,
        },
    }
}

/// Text that holds a JSON list or record, kept as JSON (how tables hold nested data).
fn embedded_json(t: &str) -> Option<String> {
    let trimmed = t.trim();
    let nested = (trimmed.starts_with('[') && trimmed.ends_with(']'))
        || (trimmed.starts_with('{') && trimmed.ends_with('}'));
    (nested
        && !trimmed.contains('\n')
        && serde_json::from_str::<serde_json::Value>(trimmed).is_ok())
    .then(|| trimmed.to_string())
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Why a query gave no rows: the database would not open, or the query failed (with
/// the tables the database has, for the message).
#[derive(Clone, Debug)]
pub enum SqlError {
    /// The database could not be opened; the sentence says why.
    Open(String),
    /// The database path names a folder, a named pipe, a device...
    NotAFile(&'static str),
    /// The query was stopped at one of its limits.
    Limit(SqlLimit),
    /// The query failed; `offset` is where in the query, when SQLite says.
    Query {
        /// SQLite's message.
        message: String,
        /// The tables the database has, to suggest one when the query names another.
        tables: Vec<String>,
        /// Where in the query SQLite points, as a byte offset, if it does.
        offset: Option<usize>,
    },
}

/// Which bound of a query was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqlLimit {
    /// It ran past its `timeout` (5s unless set).
    Time,
    /// It gave more than `max_rows` rows (100000 unless set).
    Rows,
    /// It gave more than `max_bytes` bytes (64 MiB unless set).
    Bytes,
}

// ---- HTTP ----------------------------------------------------------------------------

/// Why a GET gave no answer to use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpError {
    /// No answer, an error status, a broken connection..., as a sentence.
    Failed(String),
    /// The answer went on past `max_bytes`, and was cut off.
    TooLarge {
        /// The bound it went past, in bytes.
        limit: u64,
    },
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::Failed(e) => f.write_str(e),
            HttpError::TooLarge { limit } => write!(
                f,
                "the answer is larger than {}",
                crate::files::bytes(*limit)
            ),
        }
    }
}

/// Gets a source's URL, or its cached answer: within `cache` of the last good answer no
/// request is made; when the server fails, the cached answer is used with a warning.
fn read_answer(
    prog: &mut Program,
    i: SourceId,
    args: &Args,
    loader: &dyn Loader,
    sources: &mut Sources,
    diags: &mut Diagnostics,
) -> bool {
    let (url, url_span) = &args.strings[0];
    let (Ok(cache), Ok(timeout), Ok(max_bytes)) = (
        duration_option(args, "cache", diags),
        duration_option(args, "timeout", diags),
        count_option(args, "max_bytes", diags),
    ) else {
        return false;
    };
    let limits = HttpLimits {
        timeout: timeout.unwrap_or(DEFAULT_TIMEOUT),
        max_bytes: max_bytes.unwrap_or(crate::files::MAX_DATA_BYTES),
    };
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        diags.push(
            Diagnostic::at(
                Code::E0505,
                *url_span,
                format!("`{url}` is not an HTTP URL"),
                "not http:// or https://",
            )
            .with_help("write the whole URL, such as `http://127.0.0.1:8080/configs`"),
        );
        return false;
    }
    let cached = loader.cache_read(url);
    let within = cached
        .as_ref()
        .filter(|c| cache.is_some_and(|max| c.age < max));
    let mut fresh = false;
    let body = match within {
        Some(c) => c.body.clone(),
        None => match loader.http_get(url, &limits) {
            Ok(body) => match crate::files::decode(body) {
                Ok(text) => {
                    fresh = true;
                    text
                }
                Err(e) => {
                    let (_, d) = crate::files::not_text(&format!("{url} (answer)"), e, sources);
                    diags.push(d.with_label(*url_span, "the answer of this source"));
                    return false;
                }
            },
            Err(e) => match cached {
                Some(c) => {
                    diags.push(
                        Diagnostic::at(
                            Code::W0007,
                            *url_span,
                            format!("`{url}` failed ({e}); using its cached answer from {} ago", age(c.age)),
                            "this source",
                        )
                        .with_help("the DAGs are built from the last good answer; they will follow the server again once it answers"),
                    );
                    c.body
                }
                None => {
                    let d = match &e {
                        HttpError::TooLarge { .. } => {
                            let mut d = Diagnostic::at(Code::E0507, *url_span, format!("`{url}` failed: {e}, and was cut off"), "this source");
                            if let Some((_, at)) = args.named.iter().find(|(n, _)| n.name == "max_bytes") {
                                d = d.with_label(at.span, "the limit");
                            }
                            d.with_help("answers are bounded so that a build cannot run out of memory: ask for less, or raise the bound with `max_bytes = ...`")
                        }
                        HttpError::Failed(_) => Diagnostic::at(Code::E0505, *url_span, format!("`{url}` failed: {e}"), "this source")
                            .with_help("check that the server is up and the URL is right; once it has answered, its answer is kept in `.dagf-cache/` and used when it fails"),
                    };
                    diags.push(d.with_note(
                        "no earlier answer is cached, so there is nothing to build from",
                    ));
                    return false;
                }
            },
        },
    };
    let shown = if fresh {
        url.clone()
    } else {
        format!("{url} (cached answer)")
    };
    let file = sources.add(shown, body);
    prog.sources[i].files.push(file);
    if fresh {
        // Kept once its data has converted without an error (see `keep_answers`).
        prog.fresh_answers.push(FreshAnswer {
            url: url.clone(),
            body: sources.get(file).text.clone(),
            file,
            at: *url_span,
        });
    }
    let info = &mut prog.sources[i];
    info.origin = Origin::Answer { url: url.clone() };
    true
}

/// An answer just received, to keep in the cache if its data is good.
#[derive(Clone, Debug)]
pub struct FreshAnswer {
    pub url: String,
    pub body: String,
    /// The answer's text in the source map.
    pub file: FileId,
    /// The URL in the source declaration.
    pub at: Span,
}

/// Keeps each answer received in this run whose data converted without an error: the
/// cache holds the last good answer, never one the build rejected.
pub fn keep_answers(answers: &[FreshAnswer], loader: &dyn Loader, diags: &mut Diagnostics) {
    for a in answers {
        let rejected = diags.iter().any(|d| {
            d.severity() == dagf_diag::Severity::Error
                && d.primary
                    .iter()
                    .chain(&d.secondary)
                    .any(|l| l.span.file == a.file)
        });
        if rejected {
            continue;
        }
        if let Err(e) = loader.cache_write(&a.url, &a.body) {
            diags.push(
                Diagnostic::at(Code::W0007, a.at, format!("cannot keep the answer of `{}` in the cache: {e}", a.url), "this source")
                    .with_help("check that the project's `.dagf-cache` folder is writable; without it a server failure fails the build"),
            );
        }
    }
}

/// `3 min`, `2 h`, `5 s`: roughly how long ago.
fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..120 => format!("{s} s"),
        120..7200 => format!("{} min", s / 60),
        7200..172_800 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// Where in a source's data a value is, in the source's own terms: a row and a column
/// of a query, or a JSON path in an HTTP answer.
pub fn describe(origin: &Origin, steps: &[crate::config::Step]) -> String {
    use crate::config::Step;
    match origin {
        Origin::Files => String::new(),
        Origin::Rows {
            db,
            table,
            key,
            rows,
        } => {
            let place = match table {
                Some(t) => format!("in `{db}`, table `{t}`"),
                None => format!("in `{db}`"),
            };
            let row = match (steps.first(), key) {
                (Some(Step::Index(i)), Some(k)) => rows
                    .get(*i)
                    .map_or(String::new(), |r| format!("the row whose `{k}` is {r}")),
                (Some(Step::Index(i)), None) => format!("row {} of the result", i + 1),
                _ => "the result".to_string(),
            };
            match steps.get(1) {
                Some(Step::Key(c)) => format!("{place}: {row}, column `{c}`"),
                _ => format!("{place}: {row}"),
            }
        }
        Origin::Answer { url } => {
            format!(
                "at `{}` in the answer from `{url}`",
                crate::config::json_path(steps)
            )
        }
    }
}

/// Help for a mistake in a query's rows, in terms of the query rather than of `.dagf`
/// code: a missing field is a column to select, an unknown one a column to leave out.
pub fn row_help(origin: &Origin, d: &Diagnostic) -> Option<String> {
    if !matches!(origin, Origin::Rows { .. }) {
        return None;
    }
    let named = d.message.split('`').nth(1).unwrap_or_default();
    match d.code.as_str() {
        "E0202" => Some(format!(
            "select a column `{named}` in the query (or `... AS {named}`), or give the field a default"
        )),
        "E0203" => match &d.help {
            Some(h) if h.starts_with("did you mean") => Some(format!(
                "{h} (rename the column with `AS`), or leave it out of the query's SELECT"
            )),
            _ => Some(
                "leave this column out of the query's SELECT, or declare a field for it in the type"
                    .to_string(),
            ),
        },
        "E0201" if d.message.contains("list") || d.message.contains("record") => Some(
            "a list or a record is stored as JSON text in its column, such as '[\"a\", \"b\"]'"
                .to_string(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numbers_by_value() {
        assert!(newer(&Cell::Int(10), &Cell::Int(9)));
        assert!(!newer(&Cell::Int(9), &Cell::Int(10)));
        assert!(newer(&Cell::Real(2.5), &Cell::Int(2)));
        assert!(newer(&Cell::Text("b".into()), &Cell::Text("a".into())));
        assert!(newer(&Cell::Int(1), &Cell::Null));
    }

    #[test]
    fn nested_json_text_is_kept() {
        assert_eq!(embedded_json(" [\"a\", 1] ").as_deref(), Some("[\"a\", 1]"));
        assert_eq!(embedded_json("{\"a\": 1}").as_deref(), Some("{\"a\": 1}"));
        assert_eq!(embedded_json("[not json"), None);
        assert_eq!(embedded_json("plain"), None);
    }

    #[test]
    fn the_table_is_the_first_plain_from() {
        assert_eq!(
            table_of("SELECT a FROM dag_configs WHERE x").as_deref(),
            Some("dag_configs")
        );
        assert_eq!(
            table_of("select a\nfrom \"configs\" c join t").as_deref(),
            Some("configs")
        );
        assert_eq!(table_of("SELECT 1"), None);
    }

    #[test]
    fn ages_read_well() {
        assert_eq!(age(Duration::from_secs(5)), "5 s");
        assert_eq!(age(Duration::from_secs(600)), "10 min");
        assert_eq!(age(Duration::from_secs(3 * 3600)), "3 h");
    }
}
