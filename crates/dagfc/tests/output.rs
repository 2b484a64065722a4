//! The output folder under failure, with real processes, real file systems and real
//! Airflow: a move that fails half way, a build killed while it writes, two builds at
//! once, output folders that are no place for generated files, damaged manifests, and
//! standard output or error that is a closed pipe.

mod common;

use common::venv_python;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn dagfc() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_dagfc"));
    c.env_remove("DAGF_ENV")
        .env_remove("DAGF_LOCK_TIMEOUT")
        .env_remove("NO_COLOR")
        .arg("--color")
        .arg("never");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    dagfc()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run dagfc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A project in `dir` with `out` as its output folder and these sources.
fn project_in(dir: &Path, out: &str, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("src")).expect("src");
    std::fs::write(
        dir.join("dagf.toml"),
        format!("[project]\nname = \"t\"\nsrc = [\"src\"]\nout = \"{out}\"\n"),
    )
    .expect("toml");
    for (name, text) in files {
        std::fs::write(dir.join("src").join(name), text).expect("write");
    }
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    project_in(dir.path(), "dags", files);
    dir
}

/// Every file (with its text) and folder (`None`) under `dir`, by relative path.
fn tree(dir: &Path) -> BTreeMap<String, Option<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Option<String>>) {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = e.path();
            let rel = path.strip_prefix(root).expect("inside");
            let rel = rel.to_string_lossy().into_owned();
            if path.is_dir() && !path.is_symlink() {
                out.insert(rel, None);
                walk(root, &path, out);
            } else {
                out.insert(
                    rel,
                    Some(std::fs::read_to_string(&path).unwrap_or_default()),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// The names under `dir` (recursively) that belong to a build's work: none may be left
/// once a build has ended.
fn work_left(dir: &Path) -> Vec<String> {
    tree(dir)
        .into_keys()
        .filter(|k| k.contains(".dagf~build") || k.contains(".dagf-stage"))
        .collect()
}

/// `count` dags, each of ten tasks, saying `version` in every command.
fn many_dags(count: usize, version: &str) -> String {
    let mut s = String::new();
    for i in 0..count {
        s.push_str(&format!(
            "dag d_{i} {{\n    schedule = @daily\n    start = 2024-01-01\n"
        ));
        for t in 0..10 {
            s.push_str(&format!(
                "    task t{t}: bash {{ bash_command = \"echo {version} {i} {t}\" }}\n"
            ));
        }
        s.push_str("    t0 >> t1 >> t2 >> t3 >> t4 >> t5 >> t6 >> t7 >> t8 >> t9\n}\n");
    }
    s
}

const TWO: &str = "dag a { task t: bash { bash_command = \"v1\" } }\ndag b { task t: bash { bash_command = \"v1\" } }\n";

// 1. A move that fails half way is undone, and the message says what was written.

/// A file stands where a tenant's folder must go: the top files were already moved in
/// when the move of the folder fails, and they are moved back.
#[test]
fn a_move_that_fails_half_way_is_undone() {
    let p = project(&[("m.dagf", TWO)]);
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = p.path().join("dags");
    // The next build changes both files and adds a tenant whose folder is `zz/acme`...
    std::fs::write(
        p.path().join("src/m.dagf"),
        "tenant Customer { output = \"zz/${tenant}\" }\nCustomer acme {}\n\
         dag c in acme { task t: empty }\n"
            .to_string()
            + &TWO.replace("v1", "v2"),
    )
    .expect("write");
    // ...but `zz` is a file (the OS refuses the move even to root).
    std::fs::write(out.join("zz"), "not a folder\n").expect("write");
    let before = tree(&out);
    let o = run(p.path(), &["build"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[E0404]") && err.contains("cannot move `dags/zz/acme` into place"),
        "{err}"
    );
    assert!(
        err.contains("the 3 changes made to `dags` before it were undone"),
        "{err}"
    );
    assert!(
        err.contains("error: 1 error, 0 warnings; nothing was written"),
        "{err}"
    );
    assert_eq!(
        tree(&out),
        before,
        "the failed build changed the output folder"
    );
    assert_eq!(work_left(p.path()), Vec::<String>::new());

    // The folder is as the last build left it, so the next build takes its files for
    // its own (no E0401) and finishes the job.
    std::fs::remove_file(out.join("zz")).expect("rm");
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(3 written, 0 unchanged, 0 removed)"),
        "{}",
        stderr(&o)
    );
    assert!(
        std::fs::read_to_string(out.join("a.py"))
            .expect("a")
            .contains("v2")
    );
    assert!(out.join("zz/acme/c.py").is_file());
}

/// A folder stands where a file of the last build was: the moves before it are undone.
#[test]
fn a_folder_in_place_of_a_generated_file_undoes_the_build() {
    let three = format!("{TWO}dag c {{ task t: bash {{ bash_command = \"v1\" }} }}\n");
    let p = project(&[("m.dagf", &three)]);
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");
    std::fs::remove_file(out.join("c.py")).expect("rm");
    std::fs::create_dir(out.join("c.py")).expect("mkdir");
    std::fs::write(out.join("c.py/inside.txt"), "mine\n").expect("write");
    std::fs::write(p.path().join("src/m.dagf"), three.replace("v1", "v2")).expect("write");
    let before = tree(&out);
    let o = run(p.path(), &["build"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot move `dags/c.py` into place: a folder is in its place"),
        "{err}"
    );
    assert!(
        err.contains("the 2 changes made to `dags` before it were undone"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(tree(&out), before);
    assert_eq!(work_left(p.path()), Vec::<String>::new());
}

// 2. A killed build: Airflow never loads its staged files, the next build removes them.

/// Starts `cmd` and kills it (SIGKILL) as soon as a staged Python file exists in a
/// staging folder of the work folder `work`. `false` if the build ended first.
fn kill_while_staging(mut cmd: Command, work: &Path) -> bool {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn dagfc");
    let staged = || {
        std::fs::read_dir(work)
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| {
                e.file_name().to_string_lossy().starts_with("stage-")
                    && std::fs::read_dir(e.path().join("tree"))
                        .into_iter()
                        .flatten()
                        .flatten()
                        .any(|f| f.file_name().to_string_lossy().ends_with(".py"))
            })
    };
    loop {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        if staged() {
            child.kill().expect("kill");
            let status = child.wait().expect("wait");
            assert!(!status.success(), "the build was killed");
            return true;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The staged Python files left in a work folder.
fn staged_files(work: &Path) -> usize {
    tree(work).keys().filter(|k| k.ends_with(".py")).count()
}

/// Loads `dags` with Airflow 3.3.2's DagBag, with the ignore-file syntax `syntax`:
/// (dag ids, import errors, files parsed).
fn dagbag(dags: &Path, syntax: &str) -> (Vec<String>, BTreeMap<String, String>, Vec<String>) {
    let home = tempfile::tempdir().expect("home");
    let script = r#"
import json, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
print(json.dumps({
    "ids": bag.dag_ids,
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "files": sorted(bag.file_last_changed),
}))
"#;
    let o = Command::new(venv_python())
        .args(["-c", script])
        .arg(dags)
        .env("AIRFLOW_HOME", home.path())
        .env("AIRFLOW__CORE__DAGS_FOLDER", dags)
        .env("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        .env("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
        .env("AIRFLOW__CORE__DAG_IGNORE_FILE_SYNTAX", syntax)
        .env("AIRFLOW__LOGGING__LOGGING_LEVEL", "CRITICAL")
        .env(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            format!("sqlite:///{}", home.path().join("airflow.db").display()),
        )
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run python");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value = serde_json::from_str(line).expect("json");
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(String::from))
            .collect()
    };
    let errors = v["errors"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, e)| (k.clone(), e.as_str().unwrap_or_default().to_string()))
        .collect();
    (strings(&v["ids"]), errors, strings(&v["files"]))
}

/// The output folder is a folder inside Airflow's dags folder, which Airflow walks
/// recursively. Builds killed while staging (a first one, which stages beside the
/// output folder, and a later one, which stages inside it) leave complete DAG files
/// behind; Airflow loads none of them, and the next build removes them.
#[test]
fn a_killed_build_leaves_nothing_airflow_loads_and_the_next_build_cleans_up() {
    const DAGS: usize = 600;
    let tmp = tempfile::tempdir().expect("tmp");
    let airflow_dags = tmp.path().join("airflow_dags");
    let proj = tmp.path().join("proj");
    std::fs::create_dir_all(&airflow_dags).expect("mkdir");
    let src = many_dags(DAGS, "v1");
    project_in(&proj, "../airflow_dags/team", &[("many.dagf", &src)]);
    let team = airflow_dags.join("team");
    let fresh = airflow_dags.join("fresh");
    let build = |extra: &[&str]| {
        let mut c = dagfc();
        c.arg("build").args(extra).current_dir(&proj);
        c
    };

    // A first build into `fresh`, killed while staging beside it.
    let beside = airflow_dags.join(".dagf~build-fresh");
    let mut killed = false;
    for _ in 0..20 {
        let _ = std::fs::remove_dir_all(&fresh);
        if kill_while_staging(build(&["--out", "../airflow_dags/fresh"]), &beside) {
            killed = true;
            break;
        }
    }
    assert!(killed, "no build of `fresh` was caught staging");
    assert!(
        !fresh.exists(),
        "the killed first build made its output folder"
    );
    assert!(staged_files(&beside) > 0);

    // A later build into `team`, with every file changed, killed while staging inside.
    let o = build(&[]).output().expect("build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let inside = team.join(".dagf~build");
    let mut killed = false;
    for round in 0..20 {
        let version = if round % 2 == 0 { "v2" } else { "v1" };
        std::fs::write(proj.join("src/many.dagf"), many_dags(DAGS, version)).expect("write");
        if kill_while_staging(build(&[]), &inside) {
            killed = true;
            break;
        }
    }
    assert!(killed, "no build of `team` was caught staging");
    assert!(staged_files(&inside) > 0);

    // Airflow walks the whole dags folder: only the output folder's files are DAGs,
    // whichever syntax its ignore files are read with.
    let ids: Vec<String> = (0..DAGS).map(|i| format!("d_{i}")).collect();
    for syntax in ["glob", "regexp"] {
        let (mut found, errors, files) = dagbag(&airflow_dags, syntax);
        found.sort_by_key(|id| id[2..].parse::<usize>().unwrap_or(usize::MAX));
        assert_eq!(found, ids, "{syntax}: the dag ids Airflow found");
        assert!(errors.is_empty(), "{syntax}: import errors: {errors:?}");
        assert_eq!(files.len(), DAGS, "{syntax}");
        assert!(
            files
                .iter()
                .all(|f| f.starts_with(&team.display().to_string()) && !f.contains("~build")),
            "{syntax}: Airflow parsed a staged file: {files:?}"
        );
    }

    // The next builds remove what the killed ones left, and finish their work.
    let o = build(&[]).output().expect("build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = build(&["--out", "../airflow_dags/fresh"])
        .output()
        .expect("build");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(work_left(&airflow_dags), Vec::<String>::new());
    let version = std::fs::read_to_string(proj.join("src/many.dagf"))
        .expect("read")
        .contains("echo v2");
    let want = if version { "echo v2" } else { "echo v1" };
    for dir in [&team, &fresh] {
        let files = tree(dir);
        let py: Vec<&String> = files.keys().filter(|k| k.ends_with(".py")).collect();
        assert_eq!(py.len(), DAGS);
        assert!(
            files
                .iter()
                .filter(|(k, _)| k.ends_with(".py"))
                .all(|(_, text)| text.as_deref().is_some_and(|t| t.contains(want))),
            "{} holds files of another version",
            dir.display()
        );
    }
}

// 3. Builds of one output folder take turns.

/// Locks `out`'s work folder the way a build does, until dropped.
fn hold_lock(out: &Path) -> std::fs::File {
    let work = out.join(".dagf~build");
    std::fs::create_dir_all(&work).expect("mkdir");
    let f = std::fs::File::create(work.join("lock")).expect("lock file");
    f.lock().expect("lock");
    f
}

/// Reads a child's standard error on a thread, so that the test can wait for a line.
fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("piped stderr");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

#[test]
fn a_build_waits_for_the_build_before_it_and_says_so() {
    let p = project(&[("m.dagf", TWO)]);
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");
    std::fs::write(p.path().join("src/m.dagf"), TWO.replace("v1", "v2")).expect("write");
    let lock = hold_lock(&out);
    let mut child = dagfc()
        .arg("build")
        .current_dir(p.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let lines = stderr_lines(&mut child);
    let first = lines
        .recv_timeout(Duration::from_secs(120))
        .expect("a line saying that the build waits");
    assert_eq!(
        first,
        "another build is writing dags: waiting for it to finish (at most 300 s)"
    );
    // It waits: nothing is written while the lock is held.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.try_wait().expect("wait").is_none(),
        "the build did not wait"
    );
    assert!(
        std::fs::read_to_string(out.join("a.py"))
            .expect("a")
            .contains("v1")
    );
    drop(lock);
    let status = child.wait().expect("wait");
    let rest: Vec<String> = lines.iter().collect();
    assert!(status.success(), "{rest:?}");
    assert!(rest.iter().any(|l| l.contains("2 written")), "{rest:?}");
    assert!(
        std::fs::read_to_string(out.join("a.py"))
            .expect("a")
            .contains("v2")
    );
    assert_eq!(work_left(p.path()), Vec::<String>::new());
}

#[test]
fn a_build_that_waits_too_long_fails_clearly_and_writes_nothing() {
    let p = project(&[("m.dagf", TWO)]);
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");
    std::fs::write(p.path().join("src/m.dagf"), TWO.replace("v1", "v2")).expect("write");
    let lock = hold_lock(&out);
    let before = tree(&out);
    let started = Instant::now();
    let o = dagfc()
        .arg("build")
        .current_dir(p.path())
        .env("DAGF_LOCK_TIMEOUT", "1")
        .output()
        .expect("run");
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(
        err.contains("[E0408] Error: another build is writing `dags`, and it still was after 1 s"),
        "{err}"
    );
    assert!(err.contains("dags/.dagf~build/lock"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(tree(&out), before);
    drop(lock);

    // A timeout that is not a number of seconds is refused.
    let o = dagfc()
        .arg("build")
        .current_dir(p.path())
        .env("DAGF_LOCK_TIMEOUT", "soon")
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("[E0408]") && stderr(&o).contains("`soon`"),
        "{}",
        stderr(&o)
    );
}

/// Two projects write one output folder at the same moment, each many files, some of
/// the same names. Whichever ends last, the folder holds exactly its files and its
/// manifest: never a mix.
#[test]
fn two_builds_at_once_never_mix_their_files() {
    const DAGS: usize = 3000;
    let tmp = tempfile::tempdir().expect("tmp");
    let shared = tmp.path().join("shared_dags");
    let make = |name: &str, extra: &str| {
        let dir = tmp.path().join(name);
        // Small dags, so that writing takes long next to compiling.
        let mut src = String::new();
        for i in 0..DAGS {
            src.push_str(&format!(
                "dag d_{i} {{ task t: bash {{ bash_command = \"echo {name} {i}\" }} }}\n"
            ));
        }
        for i in 0..50 {
            src.push_str(&format!(
                "dag {extra}_{i} {{ task t: bash {{ bash_command = \"echo {name}\" }} }}\n"
            ));
        }
        project_in(&dir, "../shared_dags", &[("many.dagf", &src)]);
        dir
    };
    let (p, q) = (make("p", "p_only"), make("q", "q_only"));
    let names = |only: &str| -> Vec<String> {
        let mut v: Vec<String> = (0..DAGS)
            .map(|i| format!("d_{i}.py"))
            .chain((0..50).map(|i| format!("{only}_{i}.py")))
            .collect();
        v.sort();
        v
    };
    for round in 0..3 {
        // Alternate the order they start in. The first round races for a folder that
        // does not exist yet; in the others, both builds first wait for a lock the test
        // holds, and go for it at the same moment when the test lets go.
        let (first, second) = if round % 2 == 0 { (&p, &q) } else { (&q, &p) };
        let gate = (round > 0).then(|| hold_lock(&shared));
        let spawn = |dir: &PathBuf| {
            let mut child = dagfc()
                .arg("build")
                .current_dir(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            let lines = stderr_lines(&mut child);
            (child, lines)
        };
        let builds = [spawn(first), spawn(second)];
        if gate.is_some() {
            for (_, lines) in &builds {
                let line = lines
                    .recv_timeout(Duration::from_secs(120))
                    .expect("a build says that it waits");
                assert!(line.contains("waiting"), "round {round}: {line}");
            }
        }
        drop(gate);
        for (mut child, lines) in builds {
            let status = child.wait().expect("wait");
            let said: Vec<String> = lines.iter().collect();
            assert!(status.success(), "round {round}: {said:?}");
        }
        let files = tree(&shared);
        let py: Vec<String> = files
            .keys()
            .filter(|k| k.ends_with(".py"))
            .cloned()
            .collect();
        let winner = if py == names("p_only") {
            "p"
        } else if py == names("q_only") {
            "q"
        } else {
            panic!("round {round}: a mix of both builds' files: {py:?}")
        };
        for (name, text) in files.iter().filter(|(k, _)| k.ends_with(".py")) {
            let text = text.as_deref().unwrap_or_default();
            assert!(
                text.contains(&format!("echo {winner}")),
                "round {round}: {name} is not {winner}'s"
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_str(files[".dagf-manifest.json"].as_deref().unwrap_or_default())
                .expect("manifest");
        let mut listed: Vec<String> = manifest["files"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str().map(String::from))
            .collect();
        listed.sort();
        assert_eq!(listed, py, "round {round}: the manifest is not {winner}'s");
        assert_eq!(work_left(tmp.path()), Vec::<String>::new());
    }
}

// 4. An output folder that is no place for generated files.

#[test]
fn output_folders_that_overlap_the_project_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let proj = tmp.path().join("proj");
    project_in(&proj, "dags", &[("m.dagf", TWO)]);
    std::fs::create_dir_all(proj.join("src/sub")).expect("mkdir");
    std::fs::write(tmp.path().join("a_file"), "x\n").expect("write");
    std::fs::create_dir_all(tmp.path().join("other")).expect("mkdir");
    std::fs::write(tmp.path().join("other/dagf.toml"), "[project]\n").expect("write");
    std::os::unix::fs::symlink(proj.join("src"), proj.join("link_to_src")).expect("link");
    let a_file = tmp.path().join("a_file");
    let other = tmp.path().join("other");
    let cases: &[(&str, &str)] = &[
        ("/", "the output folder `/` is the root of the file system"),
        (".", "the output folder `.` is the project's folder"),
        ("..", "holds the project's folder"),
        ("src", "the output folder `src` is the source folder `src`"),
        (
            "src/sub/gen",
            "the output folder `src/sub/gen` is inside the source folder `src`",
        ),
        (
            "link_to_src",
            "the output folder `src` is the source folder `src`",
        ),
        (
            "dagf.toml",
            "the output folder `dagf.toml` exists and is not a folder",
        ),
        (&a_file.display().to_string(), "exists and is not a folder"),
        (
            &a_file.join("dags").display().to_string(),
            "would be inside",
        ),
        (
            &other.display().to_string(),
            "holds a dagf.toml: it is a project's folder",
        ),
    ];
    for (out, message) in cases {
        let before = tree(tmp.path());
        let o = run(&proj, &["build", "--out", out]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "--out {out}: {err}");
        assert!(
            err.contains("[E0406]") && err.contains(message),
            "--out {out}: {err}"
        );
        assert!(err.contains("chosen by `--out`"), "--out {out}: {err}");
        assert_eq!(err.matches("Error:").count(), 1, "--out {out}: {err}");
        assert_eq!(tree(tmp.path()), before, "--out {out} changed something");
    }

    // A folder that holds a source folder (`src = ["pipelines/src"]`, `out = "pipelines"`),
    // written in dagf.toml: the error points at it, and `check` reports it too.
    std::fs::create_dir_all(proj.join("pipelines/src")).expect("mkdir");
    std::fs::write(
        proj.join("dagf.toml"),
        "[project]\nsrc = [\"pipelines/src\"]\nout = \"pipelines\"\n",
    )
    .expect("toml");
    for command in ["build", "check"] {
        let o = run(&proj, &[command, "--message-format", "json"]);
        assert_eq!(o.status.code(), Some(1));
        assert_eq!(stderr(&o), "", "{command}");
        let (lines, summary) = common::json_messages(&o.stdout);
        assert_eq!(lines.len(), 1, "{command}: {lines:?}");
        assert_eq!(summary["errors"], 1, "{command}: {summary}");
        assert_eq!(summary["success"], false, "{command}: {summary}");
        let d = &lines[0];
        assert_eq!(d["code"], "E0406");
        assert_eq!(
            d["message"],
            "the output folder `pipelines` holds the source folder `pipelines/src`"
        );
        assert_eq!(d["primary"]["file"], "dagf.toml");
        assert_eq!(d["primary"]["line_start"], 3);
        assert_eq!(d["primary"]["column_start"], 7);
    }

    // Outside the project, a folder of its own is fine.
    let o = run(&proj, &["build", "--out", "../elsewhere/dags"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        tmp.path()
            .join("elsewhere/dags/.dagf-manifest.json")
            .is_file()
    );
}

// 5. A damaged manifest is one error naming it.

#[test]
fn a_damaged_manifest_is_one_error_naming_it() {
    let p = project(&[("m.dagf", TWO)]);
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");
    for damaged in [
        "{\"files\": [\"a.py\", \"b.py\"",
        "[\"a.py\", \"b.py\"]",
        "{\"files\": {\"a.py\": true}}",
        "{\"files\": [\"a.py\", \"b.py\", \"../dagf.toml\"]}",
        "\u{0}\u{ff}",
    ] {
        std::fs::write(out.join(".dagf-manifest.json"), damaged).expect("write");
        let before = tree(p.path());
        let o = run(p.path(), &["build", "--message-format", "json"]);
        assert_eq!(o.status.code(), Some(1), "{damaged}");
        let (lines, _) = common::json_messages(&o.stdout);
        assert_eq!(lines.len(), 1, "{damaged}: {lines:?}");
        let d = &lines[0];
        assert_eq!(d["code"], "E0407", "{damaged}");
        assert_eq!(
            d["message"], "the manifest `dags/.dagf-manifest.json` is damaged",
            "{damaged}"
        );
        assert!(
            d["help"]
                .as_str()
                .is_some_and(|h| h.starts_with("restore `dags/.dagf-manifest.json`")),
            "{d}"
        );
        assert_eq!(tree(p.path()), before, "{damaged}");
    }
}

// 6. A closed pipe ends dagfc quietly.

/// Runs dagfc in `dir` with standard output (or, with `stderr`, standard error) a pipe
/// whose reading end is already closed: every write to it fails with a broken pipe.
fn closed_pipe(dir: &Path, args: &[&str], on_stderr: bool) -> Output {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let mut cmd = dagfc();
    cmd.args(args).current_dir(dir);
    if on_stderr {
        cmd.stderr(writer).stdout(Stdio::piped());
    } else {
        cmd.stdout(writer).stderr(Stdio::piped());
    }
    cmd.output().expect("run dagfc")
}

#[test]
fn a_closed_pipe_ends_dagfc_quietly() {
    let p = project(&[
        ("m.dagf", &many_dags(50, "v1")),
        ("t.dagf", "type Cfg = { name: str }\n"),
    ]);
    let yml = common::repo().join("tests/import/defaults.yml");
    let yml = yml.display().to_string();
    let tmp = tempfile::tempdir().expect("tmp");
    let stdout_cases: &[(&Path, &[&str])] = &[
        (p.path(), &["build", "--emit", "python"]),
        (p.path(), &["build", "--emit", "ir"]),
        (p.path(), &["explain", "E0201"]),
        (p.path(), &["schema", "Cfg"]),
        (p.path(), &["explain-value", "d_1", "schedule"]),
        (p.path(), &["import", "dag-factory", &yml]),
        (tmp.path(), &["new", "acme"]),
        (p.path(), &["--help"]),
    ];
    for (dir, args) in stdout_cases {
        let o = closed_pipe(dir, args, false);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    // Diagnostics and summaries go to standard error (JSON ones to standard output): a
    // build with errors still ends with status 1, a good one with 0 and its files
    // written, whichever of the two is closed.
    let broken = project(&[(
        "m.dagf",
        "dag d { schedule = @dayly }\ndag e { schedule = 3 }\n",
    )]);
    for args in [
        &["check", "--message-format", "json"][..],
        &["check"],
        &["build"],
        &["explain", "E9999"],
    ] {
        let o = closed_pipe(broken.path(), args, true);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
    }
    for args in [
        &["check", "--message-format", "json"][..],
        &["build", "--message-format", "json"],
    ] {
        let o = closed_pipe(broken.path(), args, false);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
    let o = closed_pipe(
        p.path(),
        &["build", "--message-format", "json", "--out", "json-dags"],
        false,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(p.path().join("json-dags/d_49.py").is_file());
    let o = closed_pipe(p.path(), &["build"], true);
    assert_eq!(o.status.code(), Some(0));
    assert!(p.path().join("dags/d_49.py").is_file());

    // Through a shell, with `head` reading one line of a long output.
    let sh = |dir: &Path, line: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(line.replace("dagfc", env!("CARGO_BIN_EXE_dagfc")))
            .current_dir(dir)
            .output()
            .expect("sh")
    };
    let o = sh(p.path(), "dagfc build --emit python | head -1");
    assert_eq!(String::from_utf8_lossy(&o.stdout), "# ==> d_0.py <==\n");
    assert_eq!(stderr(&o), "");
    let o = sh(broken.path(), "dagfc check --message-format json | head -1");
    let first: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON line");
    assert_eq!(first["code"], "E0304");
    assert_eq!(stderr(&o), "");
}

// 7. A failed build deletes nothing it did not write and leaves no work behind.

#[test]
fn a_build_never_removes_or_replaces_what_it_did_not_write() {
    let three = format!("{TWO}dag c {{ task t: empty }}\n");
    let p = project(&[("m.dagf", &three)]);
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");

    // A generated file that became a folder (of someone else's files) is not removed
    // when its dag goes.
    std::fs::remove_file(out.join("c.py")).expect("rm");
    std::fs::create_dir(out.join("c.py")).expect("mkdir");
    std::fs::write(out.join("c.py/keep.txt"), "mine\n").expect("write");
    std::fs::write(p.path().join("src/m.dagf"), TWO).expect("write");
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(out.join("c.py/keep.txt")).expect("kept"),
        "mine\n"
    );

    // A link, even a broken one, where a new file would go is someone else's.
    std::os::unix::fs::symlink("/nowhere/at/all", out.join("d.py")).expect("link");
    std::fs::write(
        p.path().join("src/m.dagf"),
        format!("{TWO}dag d {{ task t: empty }}\n"),
    )
    .expect("write");
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("[E0401]") && stderr(&o).contains("dags/d.py"),
        "{}",
        stderr(&o)
    );
    assert!(out.join("d.py").is_symlink());

    // A generated file deleted by hand is written again.
    std::fs::remove_file(out.join("d.py")).expect("rm");
    assert_eq!(run(p.path(), &["build"]).status.code(), Some(0));
    std::fs::remove_file(out.join("a.py")).expect("rm");
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("a.py").is_file());
    assert_eq!(work_left(p.path()), Vec::<String>::new());
}

/// A first build that fails while writing leaves no output folder, no folder above it
/// that it made, and no work folder.
#[test]
fn a_first_build_that_fails_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().expect("tmp");
    let proj = tmp.path().join("proj");
    // A tenant's folder whose name is longer than any file system allows.
    let long = "x".repeat(300);
    project_in(
        &proj,
        "../made/for/dags",
        &[(
            "m.dagf",
            &format!(
                "tenant K {{ output = \"{long}\" }}\nK acme {{}}\ndag d in acme {{ task t: empty }}\n"
            ),
        )],
    );
    let before = tree(tmp.path());
    let o = run(&proj, &["build"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("[E0404]")
            && err.contains(&format!("/made/for/dags/{long}`: File name too long")),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    // The project's own cache (its modules' results) is no part of the output.
    let mut after = tree(tmp.path());
    after.retain(|path, _| !path.starts_with("proj/.dagf-cache"));
    assert_eq!(after, before);
}

/// `--only` and `--tenant` write the files of the dags they select, over the whole
/// project checked as usual; every other file the last builds wrote stays as it is and
/// stays listed, nothing is removed, and the next full build brings the folder up to
/// date. A selection of no dag is E0410, and writes nothing.
#[test]
fn a_partial_build_writes_its_dags_and_keeps_the_rest() {
    const TENANTS: &str = "tenant Customer {\n    naming = \"${tenant}__${dag}\"\n    output = \"customers/${tenant}\"\n}\nCustomer acme {}\nCustomer globex {}\nfor c in Customer {\n    dag ingest in c {\n        task t: bash { bash_command = \"v1 ${c.name}\" }\n    }\n}\n";
    let p = project(&[("m.dagf", TWO), ("t.dagf", TENANTS)]);
    let out = p.path().join("dags");
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let full = tree(&out);

    // Every dag changes; only `a` is made again.
    let edit = |from: &str, to: &str| {
        for f in ["m.dagf", "t.dagf"] {
            let path = p.path().join("src").join(f);
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&path, text.replace(from, to)).expect("write");
        }
    };
    edit("v1", "v2");
    let o = run(p.path(), &["build", "--only", "a"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = tree(&out);
    let changed: Vec<&String> = after
        .iter()
        .filter(|(k, v)| full.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(changed, [".dagf-manifest.json", "a.py"], "{}", stderr(&o));
    assert!(after["a.py"].as_deref().is_some_and(|t| t.contains("v2")));
    assert!(after["b.py"].as_deref().is_some_and(|t| t.contains("v1")));
    let manifest = after[".dagf-manifest.json"].as_deref().unwrap_or("");
    assert!(
        manifest.contains("\"b.py\"")
            && manifest.contains("customers/acme")
            && !manifest.contains("stamp"),
        "{manifest}"
    );

    // A tenant's dags, in its folder.
    let o = run(p.path(), &["build", "--tenant", "acme"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = tree(&out);
    let acme = after["customers/acme/acme__ingest.py"]
        .as_deref()
        .unwrap_or("");
    let globex = after["customers/globex/globex__ingest.py"]
        .as_deref()
        .unwrap_or("");
    assert!(
        acme.contains("v2 acme") && globex.contains("v1 globex"),
        "{acme}{globex}"
    );

    // A dag removed from the source keeps its file until a full build.
    std::fs::write(
        p.path().join("src/m.dagf"),
        "dag a { task t: bash { bash_command = \"v2\" } }\n",
    )
    .expect("write");
    let o = run(p.path(), &["build", "--only", "a*"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("b.py").is_file());
    let o = run(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!out.join("b.py").exists(), "{}", stderr(&o));
    assert!(
        std::fs::read_to_string(out.join("customers/globex/globex__ingest.py"))
            .expect("globex")
            .contains("v2 globex")
    );
    let o = run(p.path(), &["build"]);
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    assert!(said.contains("up to date"), "{said}");

    // Selecting nothing is a mistake, with the closest name.
    let before = tree(&out);
    let o = run(p.path(), &["build", "--tenant", "acmee"]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(
        e.contains("[E0410]") && e.contains("did you mean `acme`?"),
        "{e}"
    );
    assert_eq!(tree(&out), before);
    assert_eq!(work_left(p.path()), Vec::<String>::new());
}
