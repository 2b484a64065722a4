//! One mistake, one error. Every example source and every UI case that compiles cleanly
//! gets one mistake at a time, at many places: a stray `)` or `}`, a `{` never closed,
//! a string never closed, a character that is no token. Each must give exactly one
//! error, at the mistake: never errors about the statements, DAGs or items after it.
//!
//! The files are checked in process, each as the only root of its project (its imports,
//! config files and databases read from the disk as `dagfc` would).

use dagf_diag::{Diagnostic, Severity};
use dagf_sema::{HttpError, HttpLimits, Loader, ReadError, SqlLimits};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The workspace's top folder.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A project on the disk, with one file's text replaced.
struct Overlay<'a> {
    disk: dagf_io::DiskLoader<'a>,
    path: String,
    text: String,
}

impl Loader for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Vec<u8>, ReadError> {
        if path == self.path {
            return Ok(self.text.clone().into_bytes());
        }
        self.disk.read(path)
    }

    fn list(&self, dir: &str) -> Result<Vec<String>, String> {
        self.disk.list(dir)
    }

    fn sqlite(
        &self,
        db: &str,
        query: &str,
        limits: &SqlLimits,
    ) -> Result<dagf_sema::Table, dagf_sema::SqlError> {
        self.disk.sqlite(db, query, limits)
    }

    /// The catalog's configuration service is a folder of files (see
    /// scripts/build-examples.sh): served from it, without a server.
    fn http_get(&self, url: &str, _: &HttpLimits) -> Result<Vec<u8>, HttpError> {
        let rest = url
            .strip_prefix("http://127.0.0.1:8765/")
            .ok_or_else(|| HttpError::Failed("no server in this test".into()))?;
        std::fs::read(workspace().join("examples/catalog/api").join(rest))
            .map_err(|e| HttpError::Failed(e.to_string()))
    }
}

/// A `.dagf` file to put mistakes in: its project folder, its path in the project, and
/// the environment its project builds for.
struct Subject {
    root: PathBuf,
    path: String,
    env: Option<String>,
    /// Other roots the file needs (the files declaring the project's profiles).
    also: Vec<String>,
}

fn dagf_files(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            dagf_files(&p, root, out);
        } else if p.extension().is_some_and(|x| x == "dagf") {
            let rel = p.strip_prefix(root).expect("inside the project");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// Every example source, and every UI case expected to compile (a single file is
/// copied into a project of its own, as the UI suite does).
fn subjects(scratch: &Path) -> Vec<Subject> {
    let mut out = Vec::new();
    let examples = workspace().join("examples");
    let mut projects: Vec<PathBuf> = std::fs::read_dir(&examples)
        .expect("examples")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("dagf.toml").is_file())
        .collect();
    projects.sort();
    for root in projects {
        let project: toml::Table = std::fs::read_to_string(root.join("dagf.toml"))
            .expect("dagf.toml")
            .parse()
            .expect("toml");
        let env = project["project"]
            .get("default_env")
            .and_then(|e| e.as_str())
            .map(str::to_string);
        let mut files = Vec::new();
        dagf_files(&root.join("src"), &root, &mut files);
        // The environment the project builds for needs its profile, wherever it is.
        let profiles: Vec<String> = files
            .iter()
            .filter(|f| {
                std::fs::read_to_string(root.join(f))
                    .is_ok_and(|t| t.lines().any(|l| l.starts_with("profile ")))
            })
            .cloned()
            .collect();
        for path in files {
            out.push(Subject {
                root: root.clone(),
                path,
                env: env.clone(),
                also: profiles.clone(),
            });
        }
    }
    let ui = workspace().join("tests/ui");
    let mut cases = Vec::new();
    dagf_files(&ui, &ui, &mut cases);
    for case in cases {
        // (Some files of the cases are not UTF-8 on purpose.)
        let Ok(text) = std::fs::read_to_string(ui.join(&case)) else {
            continue;
        };
        if !text.starts_with("// expect: ok") {
            continue;
        }
        match case.split_once(".case/") {
            Some((folder, file)) => out.push(Subject {
                root: ui.join(format!("{folder}.case")),
                path: file.to_string(),
                env: None,
                also: Vec::new(),
            }),
            None => {
                let root = scratch.join(case.replace('/', "__"));
                std::fs::create_dir_all(&root).expect("scratch folder");
                std::fs::write(root.join("main.dagf"), &text).expect("write");
                out.push(Subject {
                    root,
                    path: "main.dagf".into(),
                    env: None,
                    also: Vec::new(),
                });
            }
        }
    }
    out
}

/// The errors `text`, as `subject`'s file, gives.
fn errors(subject: &Subject, text: &str) -> (Vec<Diagnostic>, dagf_diag::Sources) {
    let loader = Overlay {
        disk: dagf_io::DiskLoader {
            root: &subject.root,
        },
        path: subject.path.clone(),
        text: text.to_string(),
    };
    let options = dagf_sema::Options {
        env: subject.env.clone(),
        ..Default::default()
    };
    let mut roots = vec![subject.path.clone()];
    roots.extend(subject.also.iter().cloned());
    let checked = dagf_sema::check(&roots, &loader, &options);
    let errors = checked
        .diagnostics
        .into_sorted()
        .into_iter()
        .filter(|d| d.severity() == Severity::Error)
        .collect();
    (errors, checked.sources)
}

/// A kind of mistake, made at byte `at` of a text (a token's start).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mistake {
    StrayParen,
    StrayBrace,
    OpenBrace,
    BadChar,
    /// The closing quote of the string at `at` removed.
    OpenString,
}

/// Where the tokens of `text` start, outside strings (a mistake inside `${...}` is a
/// mistake in a string), and where its one-line strings start and end.
fn places(text: &str) -> (Vec<usize>, Vec<(usize, usize)>) {
    let (toks, _) = dagf_syntax::lex(text, dagf_diag::FileId(0), 0);
    let mut starts = Vec::new();
    let mut strings = Vec::new();
    let mut depth = 0usize;
    let mut joined = false;
    for (t, s) in &toks {
        let (start, end) = (s.start as usize, s.end as usize);
        // The second half of `>>` or `<<` is no place between tokens.
        let half = std::mem::replace(
            &mut joined,
            matches!(t, dagf_syntax::Tok::GtJoined | dagf_syntax::Tok::LtJoined),
        );
        if half {
            continue;
        }
        match t {
            dagf_syntax::Tok::StrHead(_) => {
                if depth == 0 {
                    // A string that starts with `${` starts at its quote.
                    starts.push(
                        text[..=start]
                            .rfind('"')
                            .map_or(start, |q| text[..=q].trim_end_matches('"').len()),
                    );
                }
                depth += 1;
            }
            dagf_syntax::Tok::StrTail(_) => depth = depth.saturating_sub(1),
            dagf_syntax::Tok::Str(_) if depth == 0 => {
                starts.push(start);
                let lit = &text[start..end];
                if lit.starts_with('"') && !lit.starts_with("\"\"\"") && !lit.contains('\n') {
                    strings.push((start, end));
                }
            }
            _ if depth == 0 => starts.push(start),
            _ => {}
        }
    }
    (starts, strings)
}

/// `text` with `mistake` made at `at`.
fn make(text: &str, mistake: Mistake, at: usize, end: usize) -> String {
    let insert = |s: &str| format!("{}{s} {}", &text[..at], &text[at..]);
    match mistake {
        Mistake::StrayParen => insert(")"),
        Mistake::StrayBrace => insert("}"),
        Mistake::OpenBrace => insert("{"),
        Mistake::BadChar => insert("$"),
        Mistake::OpenString => format!("{}{}", &text[..end - 1], &text[end..]),
    }
}

/// The line and column of byte `at`, for messages.
fn line_col(text: &str, at: usize) -> String {
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
    format!("{line}:{col}")
}

/// Checks one mistake; a description of what went wrong, if anything did.
fn try_one(
    subject: &Subject,
    text: &str,
    mistake: Mistake,
    at: usize,
    end: usize,
) -> Option<String> {
    let bad = make(text, mistake, at, end);
    let (errors, sources) = errors(subject, &bad);
    let shown = || dagf_diag::render_human(&errors, &sources, dagf_diag::ColorChoice::Never);
    let place = format!(
        "{}/{} with {mistake:?} at {}",
        subject.root.display(),
        subject.path,
        line_col(text, at)
    );
    let [one] = errors.as_slice() else {
        return Some(format!("{place}: {} errors\n{}", errors.len(), shown()));
    };
    // The error is at the mistake: the bracket or character added, the string left
    // open (a `{` never closed is reported at itself, with where it would end).
    let label = one.primary.as_ref()?;
    let file = sources.get(label.span.file);
    if file.name != subject.path {
        return Some(format!(
            "{place}: the error is in another file\n{}",
            shown()
        ));
    }
    let start = label.span.start as usize;
    let text = &file.text;
    let placed = match mistake {
        // Quotes paired wrongly may show the mistake at another string of the line.
        Mistake::OpenString => {
            let line = |b: usize| text[..b.min(text.len())].matches('\n').count();
            line(start) == line(at)
        }
        // `} } }` with one `}` added: removing any of them is the same fix, and any
        // may be named.
        _ => {
            let (a, b) = (at.min(start), at.max(start));
            let c = text[a..].chars().next();
            start == at
                || (c == text[b..].chars().next()
                    && text[a..b]
                        .chars()
                        .all(|x| x.is_whitespace() || Some(x) == c))
        }
    };
    if !placed {
        return Some(format!(
            "{place}: the error is not at the mistake\n{}",
            shown()
        ));
    }
    None
}

/// What putting mistakes in some subjects gave: how many were tried, how many subjects
/// were clean to start with, and what went wrong, by kind of mistake.
#[derive(Default)]
struct Tally {
    tried: usize,
    clean: usize,
    failures: BTreeMap<String, Vec<String>>,
}

fn put_mistakes(subjects: &[Subject]) -> Tally {
    let mut t = Tally::default();
    for subject in subjects {
        let text = std::fs::read_to_string(subject.root.join(&subject.path)).expect("source");
        let (base, _) = errors(subject, &text);
        if !base.is_empty() {
            eprintln!(
                "not clean: {}/{}: {}",
                subject.root.display(),
                subject.path,
                base[0].message
            );
            continue;
        }
        t.clean += 1;
        let (starts, strings) = places(&text);
        // About ten places a file, spread over it, the same ones every run.
        let step = (starts.len() / 10).max(1);
        for mistake in [
            Mistake::StrayParen,
            Mistake::StrayBrace,
            Mistake::OpenBrace,
            Mistake::BadChar,
        ] {
            for &at in starts.iter().skip(step / 2).step_by(step) {
                t.tried += 1;
                if let Some(f) = try_one(subject, &text, mistake, at, at) {
                    t.failures
                        .entry(format!("{mistake:?}"))
                        .or_default()
                        .push(f);
                }
            }
        }
        let step = (strings.len() / 4).max(1);
        for &(at, end) in strings.iter().step_by(step) {
            t.tried += 1;
            if let Some(f) = try_one(subject, &text, Mistake::OpenString, at, end) {
                t.failures.entry("OpenString".into()).or_default().push(f);
            }
        }
    }
    t
}

#[test]
fn one_mistake_gives_one_error() {
    let scratch = tempfile::tempdir().expect("scratch");
    let subjects = subjects(scratch.path());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = subjects.len().div_ceil(cores).max(1);
    let tallies: Vec<Tally> = std::thread::scope(|s| {
        let handles: Vec<_> = subjects
            .chunks(chunk)
            .map(|part| s.spawn(move || put_mistakes(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a worker"))
            .collect()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.tried += t.tried;
        all.clean += t.clean;
        for (k, v) in t.failures {
            all.failures.entry(k).or_default().extend(v);
        }
    }
    assert!(
        all.clean >= 60,
        "only {} clean sources to put mistakes in",
        all.clean
    );
    let count: usize = all.failures.values().map(Vec::len).sum();
    let summary: Vec<String> = all
        .failures
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.len()))
        .collect();
    let first: Vec<&str> = all
        .failures
        .values()
        .flat_map(|v| v.iter().take(3))
        .map(String::as_str)
        .collect();
    assert!(
        count == 0,
        "{count} of {} mistakes did not give exactly one error at the mistake ({})\n\n{}",
        all.tried,
        summary.join(", "),
        first.join("\n")
    );
}
