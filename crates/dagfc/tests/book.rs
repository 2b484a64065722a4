//! The book's examples are tests. Every ```dagf block in `book/src/**/*.md` is compiled
//! on its own, as `src/main.dagf` of a fresh project, and must build without a single
//! diagnostic, unless its info string says what it reports:
//!
//! - ```` ```dagf,fails=E0212 ````: exits 1, and its errors are exactly the codes listed
//!   (`fails=` may be repeated for several codes);
//! - ```` ```dagf,warns=W0003 ````: builds, and its warnings are exactly the codes listed;
//! - ```` ```dagf,file=lib.dagf ````: is written as `src/lib.dagf` instead of
//!   `src/main.dagf`, and a later block of the same chapter that imports it (by a path
//!   relative to its own folder, as dagfc resolves imports) gets that file beside it;
//! - ```` ```dagf,style=taskflow ````: its output blocks are generated in that style;
//! - ```` ```dagf,target=2.11 ````: it is built for that Airflow version (`--target`);
//! - ```` ```dagf,configs=DIR ````: the repository folder DIR is copied to `src/configs`
//!   (the config files a `source` reads), ```` ```dagf,snapshots=DIR ```` to
//!   `src/snapshots` (the files its tests' `snapshot` statements compare with), and
//!   ```` ```dagf,fixtures=DIR ```` to `src/fixtures` (what `dagfc fixtures record` saved);
//! - a block with `test` blocks is also run with `dagfc test`, which must pass, or
//!   with ```` ```dagf,tests=fail ````, fail (exit 1).
//!
//! Blocks that show what the compiler printed are checked against it too:
//!
//! - ```` ```python,output=NAME.py ````: is the file NAME.py that the nearest ```dagf
//!   block above it generates (`dagfc build --emit python`);
//! - ```` ```json,output=pools.json ````: is the pools file the nearest ```dagf block
//!   above it declares;
//! - ```` ```text,output ````: is what `dagfc check --color never` printed on stderr for
//!   the nearest ```dagf block above it;
//! - ```` ```text,output=test ````: is what `dagfc test --color never` printed (standard
//!   output, then standard error) for the nearest ```dagf block above it;
//! - either with `env=NAME` (```` ```text,output,env=prod ````): the same, for that
//!   block built with `--env NAME`; and with `target=X.Y`
//!   (```` ```python,output=NAME.py,target=2.11 ````), for that block built with
//!   `--target X.Y`.
//!
//! The compatibility matrix of the chapter on Airflow versions, between its marker
//! comments, is `dagf_target::matrix()` (a separate test; `DAGF_BOOK_BLESS=1` rewrites it).
//!
//! mdBook's `{{#include PATH}}` (a whole file, on a line of its own) is expanded the way
//! mdBook expands it, so chapters can quote the example projects.
//!
//! When the compiler's output changes on purpose, `DAGF_BOOK_BLESS=1 cargo test -p dagfc
//! --test book` rewrites the stale output blocks in place.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const PROJECT: &str =
    "[project]\nname = \"book\"\nsrc = [\"src\"]\nout = \"dags\"\n\n[target]\nairflow = \"3.3\"\n";

fn book_src() -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src");
    src.canonicalize()
        .unwrap_or_else(|e| panic!("cannot find the book at {}: {e}", src.display()))
}

/// A fenced code block of a chapter.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// 0-based line range of the content (between the fences) in the chapter.
    content: std::ops::Range<usize>,
    lang: String,
    attrs: Vec<(String, Option<String>)>,
    /// The content with `{{#include}}` expanded.
    text: String,
}

impl Block {
    fn values(&self, key: &str) -> Vec<String> {
        self.attrs
            .iter()
            .filter(|(k, _)| k == key)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }
}

fn chapters(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            chapters(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") {
            out.push(p);
        }
    }
}

/// The fenced code blocks of a chapter, in order.
fn blocks(chapter: &Path, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let fence_char = match trimmed.chars().next() {
            Some(c @ ('`' | '~')) => c,
            _ => {
                i += 1;
                continue;
            }
        };
        let width = trimmed.chars().take_while(|c| *c == fence_char).count();
        if width < 3 {
            i += 1;
            continue;
        }
        let info = trimmed[width..].trim();
        let open = i;
        let mut close = None;
        for (j, l) in lines.iter().enumerate().skip(i + 1) {
            let t = l.trim();
            let w = t.chars().take_while(|c| *c == fence_char).count();
            if w >= width && t.len() == w {
                close = Some(j);
                break;
            }
        }
        let Some(close) = close else {
            return Err(format!(
                "{}:{}: code block is never closed",
                chapter.display(),
                open + 1
            ));
        };
        let mut parts = info.split(',').map(str::trim);
        let lang = parts.next().unwrap_or("").to_string();
        let attrs = parts
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
                None => (p.to_string(), None),
            })
            .collect();
        let raw: Vec<&str> = lines[open + 1..close].to_vec();
        let text = expand_includes(chapter, open + 1, &raw)?;
        out.push(Block {
            line: open + 1,
            content: open + 1..close,
            lang,
            attrs,
            text,
        });
        i = close + 1;
    }
    Ok(out)
}

/// Expands `{{#include PATH}}` lines, with PATH relative to the chapter's folder.
fn expand_includes(chapter: &Path, fence_line: usize, lines: &[&str]) -> Result<String, String> {
    let mut out = String::new();
    for (n, l) in lines.iter().enumerate() {
        let t = l.trim();
        if let Some(rest) = t.strip_prefix("{{#include ") {
            let Some(path) = rest.strip_suffix("}}") else {
                return Err(format!(
                    "{}:{}: malformed include",
                    chapter.display(),
                    fence_line + n + 1
                ));
            };
            let path = path.trim();
            if path.contains(':') {
                return Err(format!(
                    "{}:{}: only whole-file includes are supported, not `{path}`",
                    chapter.display(),
                    fence_line + n + 1
                ));
            }
            let full = chapter.parent().expect("chapter folder").join(path);
            let text = std::fs::read_to_string(&full).map_err(|e| {
                format!(
                    "{}:{}: cannot include {}: {e}",
                    chapter.display(),
                    fence_line + n + 1,
                    full.display()
                )
            })?;
            out.push_str(text.trim_end_matches('\n'));
            out.push('\n');
        } else if t.contains("{{#") {
            return Err(format!(
                "{}:{}: unsupported mdBook directive in a code block",
                chapter.display(),
                fence_line + n + 1
            ));
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    Ok(out)
}

/// What the compiler made of a ```dagf block.
struct Compiled {
    /// Generated Python files by name (from `--emit python`).
    python: BTreeMap<String, String>,
    /// `dagfc check --color never` stderr.
    human: String,
    /// `dagfc test --color never` stdout and stderr, for a block with tests.
    tests: Option<String>,
}

/// Runs dagfc with an empty environment: a block that reads `getenv` sees its default,
/// whatever the machine running the tests has set.
fn dagfc(project: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .env_clear()
        .args(args)
        .arg("--project")
        .arg(project)
        .output()
        .expect("run dagfc")
}

/// The files `import "..."` names in a source text.
fn imports(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("import "))
        .filter_map(|rest| {
            let rest = rest.trim().strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// The name, as a ```` file= ```` attribute gives it, of the file that `import "PATH"` in
/// the file `from` loads: PATH is relative to the folder of `from`, as dagfc reads it.
fn relative_to(from: &str, path: &str) -> String {
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for segment in path.split('/') {
        match segment {
            "." | "" => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Compiles one block (for the environment `env`, if any); returns what it printed, or
/// why it does not do what it says.
fn compile(
    block: &Block,
    named: &BTreeMap<String, String>,
    env: Option<&str>,
    target: Option<&str>,
) -> (Option<Compiled>, Result<(), String>) {
    for (k, v) in &block.attrs {
        let known = matches!(
            (k.as_str(), v.as_deref()),
            (
                "fails" | "warns" | "file" | "configs" | "snapshots" | "fixtures",
                Some(_)
            ) | ("style", Some("classic" | "taskflow"))
                | ("tests", Some("fail"))
        ) || (k == "target"
            && v.as_deref().and_then(dagf_target::Version::parse).is_some());
        if !known {
            let shown = v.as_ref().map_or(k.clone(), |v| format!("{k}={v}"));
            return (
                None,
                Err(format!(
                    "unknown attribute `{shown}`; a dagf block takes fails=CODE, warns=CODE, file=NAME, configs=DIR, snapshots=DIR, fixtures=DIR, style=classic|taskflow, tests=fail and target=X.Y"
                )),
            );
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("src folder");
    std::fs::write(dir.path().join("dagf.toml"), PROJECT).expect("dagf.toml");
    let own = block
        .values("file")
        .pop()
        .unwrap_or_else(|| "main.dagf".to_string());
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut queue: Vec<String> = imports(&block.text)
        .iter()
        .map(|i| relative_to(&own, i))
        .collect();
    files.insert(own, block.text.clone());
    while let Some(name) = queue.pop() {
        if files.contains_key(&name) {
            continue;
        }
        if let Some(text) = named.get(&name) {
            queue.extend(imports(text).iter().map(|i| relative_to(&name, i)));
            files.insert(name, text.clone());
        }
    }
    for (name, text) in &files {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("folder");
        std::fs::write(&path, text).expect("write source");
    }
    // `configs=DIR`: a folder of the repository copied, with its subfolders, to
    // `src/configs`.
    if let Some(dir) = block.values("configs").pop() {
        fn copy(from: &Path, to: &Path) {
            std::fs::create_dir_all(to).expect("configs folder");
            for e in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
                let path = e.expect("entry").path();
                let target = to.join(path.file_name().expect("name"));
                if path.is_dir() {
                    copy(&path, &target);
                } else {
                    std::fs::copy(&path, target).expect("copy");
                }
            }
        }
        copy(&book_src().join("../..").join(&dir), &src.join("configs"));
    }
    for kind in ["snapshots", "fixtures"] {
        let Some(dir) = block.values(kind).pop() else {
            continue;
        };
        let from = book_src().join("../..").join(&dir);
        std::fs::create_dir_all(src.join(kind)).expect("snapshots or fixtures folder");
        for e in std::fs::read_dir(&from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
            let path = e.expect("entry").path();
            std::fs::copy(&path, src.join(kind).join(path.file_name().expect("name")))
                .expect("copy");
        }
    }

    let style = block
        .values("style")
        .pop()
        .unwrap_or_else(|| "classic".to_string());
    let target = target
        .map(str::to_string)
        .or_else(|| block.values("target").pop());
    let mut env_flag: Vec<&str> = env.map(|e| vec!["--env", e]).unwrap_or_default();
    if let Some(t) = &target {
        env_flag.extend(["--target", t.as_str()]);
    }
    let run = dagfc(
        dir.path(),
        &[
            &[
                "--color",
                "never",
                "--message-format",
                "json",
                "build",
                "--emit",
                "python",
                "--style",
                &style,
            ],
            &env_flag[..],
        ]
        .concat(),
    );
    let stderr = String::from_utf8_lossy(&run.stderr).into_owned();
    let mut errors = BTreeSet::new();
    let mut warnings = BTreeSet::new();
    // Beside `--emit python` the JSON messages are on standard error, the summary last.
    for line in stderr.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["type"] != "diagnostic" {
            continue;
        }
        let code = v["code"].as_str().unwrap_or("?").to_string();
        if v["severity"].as_str() == Some("warning") {
            warnings.insert(code);
        } else {
            errors.insert(code);
        }
    }
    let human = String::from_utf8_lossy(
        &dagfc(
            dir.path(),
            &[&["--color", "never", "check"], &env_flag[..]].concat(),
        )
        .stderr,
    )
    .into_owned();
    let mut python = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in String::from_utf8_lossy(&run.stdout).split_inclusive('\n') {
        let header = line
            .strip_prefix("# ==> ")
            .and_then(|r| r.trim_end().strip_suffix(" <=="));
        match header {
            Some(name) => {
                if let Some((n, t)) = current.take() {
                    python.insert(n, t);
                }
                current = Some((name.to_string(), String::new()));
            }
            None => {
                if let Some((_, t)) = current.as_mut() {
                    t.push_str(line);
                }
            }
        }
    }
    if let Some((n, t)) = current.take() {
        python.insert(n, t);
    }
    let has_tests = block.text.lines().any(|l| l.starts_with("test \""));
    let mut problems = Vec::new();
    let tests = has_tests.then(|| {
        let run = dagfc(
            dir.path(),
            &[&["--color", "never", "test"], &env_flag[..]].concat(),
        );
        let want = if block.values("tests").is_empty() {
            0
        } else {
            1
        };
        if run.status.code() != Some(want) {
            problems.push(format!(
                "`dagfc test` exited with {:?}, expected {want}",
                run.status.code()
            ));
        }
        format!(
            "{}{}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        )
    });
    let compiled = Compiled {
        python,
        human,
        tests,
    };

    let want_errors: BTreeSet<String> = block.values("fails").into_iter().collect();
    let want_warnings: BTreeSet<String> = block.values("warns").into_iter().collect();
    let want_status = if want_errors.is_empty() { 0 } else { 1 };
    if run.status.code() != Some(want_status) {
        problems.push(format!(
            "dagfc exited with {:?}, expected {want_status}",
            run.status.code()
        ));
    }
    if errors != want_errors {
        problems.push(format!("errors {errors:?}, expected {want_errors:?}"));
    }
    if warnings != want_warnings {
        problems.push(format!("warnings {warnings:?}, expected {want_warnings:?}"));
    }
    if problems.is_empty() {
        (Some(compiled), Ok(()))
    } else {
        let msg = format!("{}\n{}", problems.join("; "), indent(&compiled.human));
        (Some(compiled), Err(msg))
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    | {l}\n")).collect()
}

/// Text as it is compared: no trailing spaces, no trailing blank lines.
fn normalize(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut s = lines.join("\n");
    while s.ends_with('\n') {
        s.pop();
    }
    s
}

/// Checks an output block against the compiled block above it; returns the text it
/// should hold when it does not.
fn expected_output(block: &Block, last: Option<&Compiled>) -> Result<Option<String>, String> {
    let Some(last) = last else {
        return Err("an output block needs a ```dagf block above it".into());
    };
    let expected = match block.lang.as_str() {
        "python" | "json" => {
            let Some(name) = block.values("output").pop() else {
                return Err(format!("write ```{},output=NAME", block.lang));
            };
            match last.python.get(&name) {
                Some(t) => t.clone(),
                None => {
                    return Err(format!(
                        "the ```dagf block above generates no `{name}`; it generates {:?}",
                        last.python.keys().collect::<Vec<_>>()
                    ));
                }
            }
        }
        _ if block.values("output").iter().any(|v| v == "test") => match &last.tests {
            Some(t) => t.clone(),
            None => return Err("the ```dagf block above has no tests".into()),
        },
        _ => last.human.clone(),
    };
    if normalize(&block.text) == normalize(&expected) {
        Ok(None)
    } else {
        Ok(Some(expected))
    }
}

#[test]
fn every_dagf_block_in_the_book_compiles_and_every_output_block_is_current() {
    // The API-driven catalog example (101.2.5) reads its configuration service.
    common::catalog_api();
    let root = book_src();
    let mut files = Vec::new();
    chapters(&root, &mut files);
    assert!(!files.is_empty(), "no chapters under {}", root.display());
    let bless = std::env::var_os("DAGF_BOOK_BLESS").is_some();

    let mut failures: Vec<String> = Vec::new();
    let mut dagf_blocks = 0;
    let mut output_blocks = 0;
    let mut codes: BTreeSet<String> = BTreeSet::new();
    for chapter in &files {
        let text = std::fs::read_to_string(chapter).expect("read chapter");
        let repo = root.parent().and_then(Path::parent).unwrap_or(&root);
        let shown = chapter
            .strip_prefix(repo)
            .unwrap_or(chapter)
            .display()
            .to_string();
        let blocks = match blocks(chapter, &text) {
            Ok(b) => b,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let mut named: BTreeMap<String, String> = BTreeMap::new();
        let mut last: Option<Compiled> = None;
        let mut last_block: Option<&Block> = None;
        let mut rewrites: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        for block in &blocks {
            let is_output = matches!(block.lang.as_str(), "python" | "json" | "text")
                && block.attrs.iter().any(|(k, _)| k == "output");
            if block.lang == "dagf" {
                dagf_blocks += 1;
                codes.extend(block.values("fails"));
                codes.extend(block.values("warns"));
                let (compiled, verdict) = compile(block, &named, None, None);
                if let Err(e) = verdict {
                    failures.push(format!("{shown}:{}: ```dagf block: {e}", block.line));
                }
                if let Some(name) = block.values("file").pop() {
                    named.insert(name, block.text.clone());
                }
                last = compiled;
                last_block = Some(block);
            } else if is_output {
                output_blocks += 1;
                // `env=NAME`, `target=X.Y`: the block above, built again for that
                // environment or Airflow version.
                let for_env;
                let (env, target) = (block.values("env").pop(), block.values("target").pop());
                let against = if env.is_some() || target.is_some() {
                    for_env = last_block
                        .and_then(|b| compile(b, &named, env.as_deref(), target.as_deref()).0);
                    for_env.as_ref()
                } else {
                    last.as_ref()
                };
                match expected_output(block, against) {
                    Ok(None) => {}
                    Ok(Some(expected)) if bless => {
                        rewrites.push((block.content.clone(), expected));
                    }
                    Ok(Some(expected)) => failures.push(format!(
                        "{shown}:{}: ```{} output block is stale; the compiler prints:\n{}    (DAGF_BOOK_BLESS=1 rewrites it)",
                        block.line,
                        block.lang,
                        indent(&expected)
                    )),
                    Err(e) => failures.push(format!("{shown}:{}: {e}", block.line)),
                }
            }
        }
        if !rewrites.is_empty() {
            let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
            for (range, expected) in rewrites.into_iter().rev() {
                let new: Vec<String> = normalize(&expected).lines().map(str::to_string).collect();
                lines.splice(range, new);
            }
            let mut new_text = lines.join("\n");
            new_text.push('\n');
            std::fs::write(chapter, new_text).expect("rewrite chapter");
            eprintln!("blessed {shown}");
        }
    }
    for code in &codes {
        let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
            .args(["explain", code])
            .output()
            .expect("run dagfc explain");
        if !run.status.success() {
            failures.push(format!(
                "`{code}` in a fails= or warns= attribute is not a dagf code"
            ));
        }
    }
    let mut report = String::new();
    for f in &failures {
        let _ = writeln!(report, "{f}\n");
    }
    assert!(
        failures.is_empty(),
        "{} of {dagf_blocks} dagf blocks and {output_blocks} output blocks failed:\n\n{report}",
        failures.len()
    );
    assert!(
        dagf_blocks >= 40,
        "found only {dagf_blocks} ```dagf blocks under {}; is the book there?",
        root.display()
    );
    eprintln!("book: {dagf_blocks} dagf blocks and {output_blocks} output blocks checked");
}

/// "What dagfc guarantees" names, for each guarantee, the tests that hold it: each name is
/// a `#[test]` function of the file the row names, so the page cannot point at a test that
/// was renamed or removed.
#[test]
fn the_guarantees_page_names_tests_that_exist() {
    let page = std::fs::read_to_string(book_src().join("reference/guarantees.md"))
        .expect("read guarantees.md");
    let repo = common::repo();
    let mut checked = 0;
    let mut missing = Vec::new();
    for row in page.lines().filter(|l| l.starts_with('|')) {
        let Some(held) = row.trim_end_matches('|').rsplit('|').next() else {
            continue;
        };
        // `path/to/file.rs`: `a`, `b`; `other.rs`: `c` — a bare `file.rs` is the
        // file named last in the row (or in the page, for `examples.rs` and friends).
        let mut file: Option<PathBuf> = None;
        let parts = held.split('`').skip(1).step_by(2);
        for name in parts {
            if name.ends_with(".rs") {
                let found = [
                    "",
                    "crates/dagfc/tests/",
                    "crates/dagf-ir/tests/",
                    "crates/dagf-sema/tests/",
                ]
                .iter()
                .map(|dir| repo.join(dir).join(name))
                .find(|p| p.is_file());
                assert!(
                    found.is_some(),
                    "guarantees.md names `{name}`, which is no test file"
                );
                file = found;
            } else if name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                && name.contains('_')
                && !name.ends_with('_')
            {
                let Some(path) = &file else { continue };
                let text = std::fs::read_to_string(path).expect("read test file");
                checked += 1;
                if !text.contains(&format!("fn {name}(")) {
                    missing.push(format!("{name} in {}", path.display()));
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} test names found in guarantees.md"
    );
    assert!(
        missing.is_empty(),
        "guarantees.md names tests that do not exist: {missing:#?}"
    );
}

/// The chapter on Airflow versions shows `dagf_target::matrix()`, the tables the compiler
/// uses, between its marker comments: a change to either without the other fails here.
/// `DAGF_BOOK_BLESS=1` rewrites the chapter's copy.
#[test]
fn the_compatibility_matrix_in_the_book_is_the_compilers() {
    const START: &str = "<!-- matrix: generated from dagf_target::matrix() -->\n";
    const END: &str = "<!-- end of matrix -->\n";
    let path = book_src().join("reference/targets.md");
    let text = std::fs::read_to_string(&path).expect("read reference/targets.md");
    let (Some(start), Some(end)) = (text.find(START), text.find(END)) else {
        panic!("{} lacks the markers `{START}` and `{END}`", path.display());
    };
    let from = start + START.len();
    assert!(from <= end, "the end marker comes before the start marker");
    let want = dagf_target::matrix();
    if text[from..end] != want {
        if std::env::var_os("DAGF_BOOK_BLESS").is_some() {
            let new = format!("{}{want}{}", &text[..from], &text[end..]);
            std::fs::write(&path, new).expect("rewrite reference/targets.md");
            eprintln!("blessed {}", path.display());
        } else {
            panic!(
                "the matrix in {} is not dagf_target::matrix(); it should read:\n{want}\n(DAGF_BOOK_BLESS=1 rewrites it)",
                path.display()
            );
        }
    }
}

/// ARCHITECTURE.md's crate table is the map a newcomer reads first: every crate under
/// `crates/` has a row, and the workspace crates a row says it depends on are exactly
/// the `dagf-*` entries of that crate's `[dependencies]`.
#[test]
fn the_architecture_crate_table_matches_the_cargo_files() {
    let repo = common::repo();
    let text = std::fs::read_to_string(repo.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let rows: BTreeMap<String, BTreeSet<String>> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `crates/"))
        .filter_map(|l| {
            let (name, rest) = l.split_once('`')?;
            let deps = rest.rsplit('|').nth(1)?;
            let deps = deps
                .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
                .filter(|d| d.starts_with("dagf"))
                .map(str::to_string)
                .collect();
            Some((name.to_string(), deps))
        })
        .collect();
    let mut crates = BTreeMap::new();
    for entry in std::fs::read_dir(repo.join("crates")).expect("crates folder") {
        let path = entry.expect("entry").path();
        let Ok(manifest) = std::fs::read_to_string(path.join("Cargo.toml")) else {
            continue;
        };
        let deps: BTreeSet<String> = manifest
            .split("\n[")
            .find(|s| s.starts_with("dependencies]"))
            .into_iter()
            .flat_map(str::lines)
            .filter_map(|l| l.split(['.', ' ', '=']).next())
            .filter(|d| d.starts_with("dagf"))
            .map(str::to_string)
            .collect();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        crates.insert(name, deps);
    }
    assert!(
        crates.len() >= 10,
        "expected the workspace's crates, found {crates:?}"
    );
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        crates.keys().collect::<Vec<_>>(),
        "ARCHITECTURE.md's crate table and the folders under crates/"
    );
    for (name, deps) in &crates {
        assert_eq!(
            &rows[name], deps,
            "ARCHITECTURE.md: the workspace crates `{name}` depends on"
        );
    }
}

/// The diagnostics reference has one table row per registered code, with the registry's
/// title, and no row for a code that is not registered.
#[test]
fn the_diagnostics_reference_lists_every_registered_code() {
    let path = book_src().join("reference/diagnostics.md");
    let text = std::fs::read_to_string(&path).expect("read reference/diagnostics.md");
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((code, rest)) = rest.split_once("` | ") else {
            continue;
        };
        let title = rest.split(" | ").next().unwrap_or("").trim().to_string();
        let again = rows.insert(code.to_string(), title);
        assert!(again.is_none(), "diagnostics.md: `{code}` has two rows");
    }
    let registry: BTreeMap<String, String> = dagf_diag::CODES
        .iter()
        .map(|c| (c.code.as_str().to_string(), c.title.to_string()))
        .collect();
    let missing: Vec<&String> = registry.keys().filter(|c| !rows.contains_key(*c)).collect();
    let unknown: Vec<&String> = rows.keys().filter(|c| !registry.contains_key(*c)).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "diagnostics.md's code table and the registry (crates/dagf-diag/src/codes.rs): no row for {missing:?}; rows for unregistered {unknown:?}"
    );
    for (code, title) in &registry {
        assert_eq!(&rows[code], title, "diagnostics.md: the title of {code}");
    }
}
