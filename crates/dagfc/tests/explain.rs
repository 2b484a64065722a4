//! Keeps the `dagfc explain` pages honest: every registered code has a page that
//! `dagfc explain` prints, with an `## Example` and a `## Fix`; every example really
//! produces its code, and every fix really compiles cleanly.
//!
//! A page's example is either a ```dagf block, compiled as `src/example.dagf` of a
//! fresh project, or (for codes one file cannot trigger) a ```text transcript:
//! `$ cat PATH` followed by the file's lines, `$ sqlite3 PATH "SQL; SQL"` (runs the SQL on
//! the SQLite database PATH, created if need be), `$ printf 'TEXT' > PATH` (bytes that are
//! not UTF-8, as octal escapes), `$ mkfifo PATH` (a named pipe), `$ mkdir -p PATH`,
//! `$ flock PATH sleep N &` (another process holds a lock on PATH while the rest runs),
//! then one `$ dagfc check|build`, optionally with `--env NAME`, `$ dagfc check --python`,
//! `$ dagfc verify`, `$ dagfc test` (or `--integration`, `--integration --timeout N`),
//! `$ dagfc fixtures record SOURCE`, `$ dagfc import dag-factory FILE` or
//! `$ dagfc operators import TARGET`, whose output lines are for the
//! reader only. The Python of the Airflow environment is `python3` on PATH for the
//! commands that run Python. The
//! transcript runs in an empty folder, with `DAGF_LOCK_TIMEOUT=1`, so that a build waiting
//! for a lock gives up after a second instead of five minutes.

mod common;

use dagf_diag::{CODES, Code, Severity};
use std::path::Path;
use std::process::{Command, Output};

const PROJECT_FILE: &str = "[project]\nsrc = [\"src\"]\nout = \"dags\"\n";

fn dagfc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
}

/// What one compile reported.
struct Run {
    status: Option<i32>,
    /// (code, severity) of every diagnostic, in order.
    diags: Vec<(String, String)>,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // JSON diagnostics are on standard output, or on standard error when the command
        // prints its own output there (`import` without `--out`).
        let stdout = String::from_utf8_lossy(&out.stdout);
        let diags = stdout
            .lines()
            .chain(stderr.lines())
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["type"] == "diagnostic")
            .map(|v| {
                let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                (field("code"), field("severity"))
            })
            .collect();
        Run {
            status: out.status.code(),
            diags,
            stderr,
        }
    }

    fn has(&self, code: &str) -> bool {
        self.diags.iter().any(|(c, _)| c == code)
    }
}

/// Runs `dagfc SUBCOMMAND ARGS --message-format json` inside `dir`.
fn compile_in(dir: &Path, subcommand: &str, args: &[&str]) -> Run {
    let mut cmd = dagfc();
    if subcommand == "verify"
        || subcommand == "operators"
        || args.contains(&"--python")
        || args.contains(&"--integration")
    {
        let python = common::venv_python();
        let bin = python.parent().expect("the venv's bin folder");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path = std::env::join_paths(
            std::iter::once(bin.to_path_buf()).chain(std::env::split_paths(&path)),
        )
        .expect("PATH");
        cmd.env("PATH", path);
    }
    let out = cmd
        .arg(subcommand)
        .args(args)
        .args(["--message-format", "json", "--color", "never"])
        .current_dir(dir)
        // The environment is the page's to choose (`--env`), not the test runner's.
        .env_remove("DAGF_ENV")
        .env("DAGF_LOCK_TIMEOUT", "1")
        .output()
        .expect("run dagfc");
    Run::from(out)
}

/// `$ sqlite3 PATH "SQL; SQL"`: runs the statements on the database PATH (created if
/// need be) inside `dir`.
fn sqlite3(dir: &Path, rest: &str) -> Result<(), String> {
    let usage = || format!("write `$ sqlite3 PATH \"SQL; SQL\"`, not `$ sqlite3 {rest}`");
    let (path, sql) = rest.trim().split_once(' ').ok_or_else(usage)?;
    let sql = sql
        .trim()
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(usage)?;
    let path = dir.join(path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    rusqlite::Connection::open(&path)
        .and_then(|c| c.execute_batch(sql))
        .map_err(|e| format!("`$ sqlite3 {rest}`: {e}"))
}

/// `$ printf 'TEXT' > PATH`: writes TEXT, with the escapes of the shell's `printf`
/// (`\n`, `\t`, `\\` and octal `\NNN`, for bytes that are not UTF-8), to PATH.
fn printf(dir: &Path, rest: &str) -> Result<(), String> {
    let usage = || format!("write `$ printf 'TEXT' > PATH`, not `$ printf {rest}`");
    let (quoted, path) = rest.rsplit_once(" > ").ok_or_else(usage)?;
    let text = quoted
        .trim()
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .ok_or_else(usage)?;
    let mut bytes = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next() {
            Some('n') => bytes.push(b'\n'),
            Some('t') => bytes.push(b'\t'),
            Some('\\') => bytes.push(b'\\'),
            Some(d @ '0'..='7') => {
                let mut n = d.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|c| c.to_digit(8)) {
                        Some(v) => {
                            n = n * 8 + v;
                            chars.next();
                        }
                        None => break,
                    }
                }
                bytes.push(u8::try_from(n).map_err(|_| usage())?);
            }
            _ => return Err(usage()),
        }
    }
    let path = dir.join(path.trim());
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    std::fs::write(path, bytes).map_err(|e| e.to_string())
}

/// `$ mkfifo PATH`: makes a named pipe, with the system's `mkfifo`.
fn mkfifo(path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .map_err(|e| format!("`mkfifo`: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("`mkfifo {}` failed", path.display()))
}

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create folder");
    }
    std::fs::write(path, text).expect("write file");
}

/// Compiles one `.dagf` text as the only file of a fresh project.
fn compile_dagf(source: &str) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "dagf.toml", PROJECT_FILE);
    write(dir.path(), "src/example.dagf", source);
    compile_in(dir.path(), "check", &[])
}

/// Replays a ```text transcript in an empty folder; `None` when it runs no `dagfc`.
fn replay(transcript: &str) -> Option<Result<Run, String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut file: Option<(String, String)> = None;
    let mut command: Option<String> = None;
    // Locks held by `flock ... &`, until the transcript ends.
    let mut held = Vec::new();
    for line in transcript.lines() {
        let Some(cmd) = line.strip_prefix("$ ") else {
            if let Some((_, text)) = &mut file {
                text.push_str(line);
                text.push('\n');
            }
            continue;
        };
        if let Some((path, text)) = file.take() {
            write(dir.path(), &path, &text);
        }
        if let Some(path) = cmd.strip_prefix("cat ") {
            file = Some((path.trim().to_string(), String::new()));
        } else if let Some(rest) = cmd.strip_prefix("sqlite3 ") {
            if let Err(e) = sqlite3(dir.path(), rest) {
                return Some(Err(e));
            }
        } else if let Some(rest) = cmd.strip_prefix("printf ") {
            if let Err(e) = printf(dir.path(), rest) {
                return Some(Err(e));
            }
        } else if let Some(path) = cmd.strip_prefix("mkfifo ") {
            if let Err(e) = mkfifo(&dir.path().join(path.trim())) {
                return Some(Err(e));
            }
        } else if let Some(path) = cmd.strip_prefix("mkdir -p ") {
            std::fs::create_dir_all(dir.path().join(path.trim())).expect("create folder");
        } else if let Some(rest) = cmd.strip_prefix("flock ") {
            let Some((path, _)) = rest.split_once(' ').filter(|_| rest.ends_with(" &")) else {
                return Some(Err(format!(
                    "write `$ flock PATH COMMAND &`, not `$ {cmd}`"
                )));
            };
            let lock =
                std::fs::File::create(dir.path().join(path)).and_then(|f| f.lock().map(|()| f));
            match lock {
                Ok(f) => held.push(f),
                Err(e) => return Some(Err(format!("`$ {cmd}`: {e}"))),
            }
        } else if let Some(sub) = cmd.strip_prefix("dagfc ") {
            if command.replace(sub.trim().to_string()).is_some() {
                return Some(Err("a transcript runs `dagfc` once".into()));
            }
        } else {
            return Some(Err(format!(
                "a transcript may only `cat`, `printf` or `mkfifo` files, run `sqlite3`, `mkdir -p` and `flock` and run `dagfc`, not `{cmd}`"
            )));
        }
    }
    let command = command?;
    let words: Vec<&str> = command.split_whitespace().collect();
    let (sub, args) = match words.as_slice() {
        [sub @ ("check" | "build"), args @ ..] if matches!(args, [] | ["--env", _]) => (*sub, args),
        [sub @ "check", args @ ..] if matches!(args, ["--python"]) => (*sub, args),
        [sub @ "build", args @ ..] if matches!(args, ["--only" | "--tenant", _]) => (*sub, args),
        [sub @ ("verify" | "test"), args @ ..] if args.is_empty() => (*sub, args),
        [sub @ "test", args @ ..]
            if matches!(args, ["--integration"] | ["--integration", "--timeout", _]) =>
        {
            (*sub, args)
        }
        [sub @ "fixtures", args @ ..] if matches!(args, ["record", _]) => (*sub, args),
        [sub @ "import", args @ ..] if matches!(args, ["dag-factory", _]) => (*sub, args),
        [sub @ "diff", args @ ..] if matches!(args, ["--rev", _]) => (*sub, args),
        [sub @ "operators", args @ ..] if matches!(args, ["import", _]) => (*sub, args),
        _ => {
            return Some(Err(format!(
                "transcripts run `dagfc check` or `dagfc build` (with at most `--env NAME`, `--only PATTERN` or `--tenant NAME`), `dagfc check --python`, `dagfc verify`, `dagfc test` (with at most `--integration` and `--timeout N`), `dagfc fixtures record SOURCE`, `dagfc import dag-factory FILE`, `dagfc diff --rev REV` or `dagfc operators import TARGET`, not `dagfc {command}`"
            )));
        }
    };
    if let Some((path, text)) = file.take() {
        write(dir.path(), &path, &text);
    }
    Some(Ok(compile_in(dir.path(), sub, args)))
}

/// The text of section `## NAME` (up to the next `## ` heading).
fn section<'p>(page: &'p str, name: &str) -> Option<&'p str> {
    let heading = format!("\n## {name}\n");
    let start = page.find(&heading)? + heading.len();
    let rest = &page[start..];
    Some(rest.find("\n## ").map_or(rest, |end| &rest[..end]))
}

/// The fenced blocks with this info string, in order.
fn blocks(text: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match &mut current {
            None if line.trim_end() == format!("```{lang}") => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => out.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    out
}

/// What a compile must show for the example: the page's code, and exit 1 for an error
/// (0 for a lint).
fn check_example(info: &Page, what: &str, run: &Run, problems: &mut Vec<String>) {
    let code = info.code.as_str();
    let status = match info.code.severity() {
        Severity::Error => 1,
        Severity::Warning => 0,
    };
    if !run.has(code) || run.status != Some(status) {
        problems.push(format!(
            "{code}: the {what} should report {code} and exit {status}; it exited {:?} with {:?}\n{}",
            run.status, run.diags, run.stderr
        ));
    }
}

/// What a compile must show for the fix: success, and no diagnostics at all.
fn check_fix(info: &Page, what: &str, run: &Run, problems: &mut Vec<String>) {
    let code = info.code.as_str();
    if run.status != Some(0) || !run.diags.is_empty() {
        problems.push(format!(
            "{code}: the {what} should compile cleanly; it exited {:?} with {:?}\n{}",
            run.status, run.diags, run.stderr
        ));
    }
}

/// One registered code and its page.
struct Page {
    code: Code,
    title: &'static str,
    text: &'static str,
}

/// Every problem with one code's page; empty when the page is honest.
fn page_problems(info: &Page) -> Vec<String> {
    let code = info.code.as_str();
    let mut problems = Vec::new();

    let out = dagfc()
        .args(["explain", code])
        .output()
        .expect("run dagfc explain");
    let printed = String::from_utf8_lossy(&out.stdout);
    if out.status.code() != Some(0) || printed != info.text {
        problems.push(format!(
            "{code}: `dagfc explain {code}` exited {:?} and printed {} bytes, not the page",
            out.status.code(),
            printed.len()
        ));
    }

    let page = info.text;
    let heading = format!("# {code}: {}", info.title);
    if page.lines().next() != Some(heading.as_str()) {
        problems.push(format!("{code}: the page must start with `{heading}`"));
    }
    let intro = page
        .split_once('\n')
        .map_or("", |(_, rest)| rest.split("\n## ").next().unwrap_or(""));
    if intro.trim().is_empty() {
        problems.push(format!(
            "{code}: the page needs a paragraph before `## Example`"
        ));
    }
    let (Some(example), Some(fix)) = (section(page, "Example"), section(page, "Fix")) else {
        problems.push(format!(
            "{code}: the page needs `## Example` and then `## Fix`"
        ));
        return problems;
    };
    if page.find("\n## Example\n") > page.find("\n## Fix\n") {
        problems.push(format!("{code}: `## Example` must come before `## Fix`"));
    }

    let dagf_examples = blocks(example, "dagf");
    let text_examples = blocks(example, "text");
    match (dagf_examples.as_slice(), text_examples.as_slice()) {
        ([source], []) => {
            check_example(info, "example", &compile_dagf(source), &mut problems);
            match blocks(fix, "dagf").as_slice() {
                [fixed] => check_fix(info, "fix", &compile_dagf(fixed), &mut problems),
                other => problems.push(format!(
                    "{code}: the fix needs exactly one ```dagf block, found {}",
                    other.len()
                )),
            }
        }
        ([], [transcript]) => {
            match replay(transcript) {
                Some(Ok(run)) => check_example(info, "example transcript", &run, &mut problems),
                Some(Err(e)) => problems.push(format!("{code}: example transcript: {e}")),
                None => problems.push(format!("{code}: the ```text example must run `dagfc`")),
            }
            if fix.trim().is_empty() {
                problems.push(format!("{code}: the fix needs at least a sentence"));
            }
            // A fix shown as a transcript must work too; a prose fix is fine.
            for transcript in blocks(fix, "text") {
                match replay(&transcript) {
                    Some(Ok(run)) => check_fix(info, "fix transcript", &run, &mut problems),
                    Some(Err(e)) => problems.push(format!("{code}: fix transcript: {e}")),
                    None => {}
                }
            }
        }
        _ => problems.push(format!(
            "{code}: the example needs one ```dagf block or one ```text transcript, found {} and {}",
            dagf_examples.len(),
            text_examples.len()
        )),
    }
    problems
}

#[test]
fn every_code_has_an_honest_page() {
    let problems: Vec<String> = CODES
        .iter()
        .map(|i| Page {
            code: i.code,
            title: i.title,
            text: i.page,
        })
        .flat_map(|p| page_problems(&p))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_page_file_belongs_to_a_code() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../dagf-diag/explain");
    let mut stray = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("explain folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        let known = name
            .strip_suffix(".md")
            .is_some_and(|c| CODES.iter().any(|i| i.code.as_str() == c));
        if !known {
            stray.push(name);
        }
    }
    assert!(
        stray.is_empty(),
        "pages without a code in codes.rs: {stray:?}"
    );
}

#[test]
fn codes_are_found_whatever_their_case() {
    let lower = dagfc()
        .args(["explain", "e0201"])
        .output()
        .expect("run dagfc");
    let upper = dagfc()
        .args(["explain", "E0201"])
        .output()
        .expect("run dagfc");
    assert_eq!(lower.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&lower.stdout).starts_with("# E0201: type mismatch\n"));
    assert_eq!(lower.stdout, upper.stdout);
}

#[test]
fn unknown_codes_are_refused_with_a_hint() {
    for input in ["E9999", "nonsense"] {
        let out = dagfc()
            .args(["explain", input])
            .output()
            .expect("run dagfc");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(1),
            "`dagfc explain {input}`: {stderr}"
        );
        assert!(
            out.stdout.is_empty(),
            "`dagfc explain {input}` printed a page"
        );
        assert!(
            stderr.contains(input) && stderr.contains("E0201"),
            "`dagfc explain {input}` should name the input and show what a code looks like: {stderr}"
        );
    }
}

/// `dagfc explain --list` prints the registry: every code and its title, one per line,
/// in the registry's order.
#[test]
fn explain_list_prints_every_registered_code_and_title() {
    let out = dagfc()
        .args(["explain", "--list"])
        .output()
        .expect("run dagfc");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let listed: Vec<(&str, &str)> = text
        .lines()
        .map(|l| l.split_once("  ").expect("CODE  title"))
        .collect();
    let registry: Vec<(&str, &str)> = CODES.iter().map(|c| (c.code.as_str(), c.title)).collect();
    assert_eq!(listed, registry);
    assert!(listed.len() > 80, "{listed:?}");
}
