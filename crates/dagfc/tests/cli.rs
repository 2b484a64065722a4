//! The command line: exit statuses, output formats, optimisation levels, and the
//! output folder's safety rules (nothing half-written, nothing foreign touched).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dagfc(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .output()
        .expect("run dagfc")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A project in a temp folder with these source files.
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join("dagf.toml"),
        "[project]\nname = \"t\"\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("toml");
    std::fs::create_dir(dir.path().join("src")).expect("src");
    for (name, text) in files {
        std::fs::write(dir.path().join("src").join(name), text).expect("write");
    }
    dir
}

const TWO_DAGS: &str = r#"
dag first {
    task a: bash { bash_command = "echo a" }
    task b: empty
    a >> b
}
dag second { task only: empty }
"#;

fn listing(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok())
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(e.path()).unwrap_or_default())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn version_and_misuse() {
    let dir = tempfile::tempdir().expect("tmp");
    let v = dagfc(dir.path(), &["--version"]);
    assert_eq!(v.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&v.stdout).starts_with("dagfc 0."));
    assert_eq!(dagfc(dir.path(), &[]).status.code(), Some(2));
    assert_eq!(
        dagfc(dir.path(), &["build", "--no-such-flag"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        dagfc(dir.path(), &["build", "-O", "7"]).status.code(),
        Some(2)
    );
    assert_eq!(dagfc(dir.path(), &["frobnicate"]).status.code(), Some(2));
}

#[test]
fn a_missing_or_broken_project_file_is_a_user_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = dagfc(dir.path(), &["build", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("[E0403]"), "{}", stderr(&o));

    std::fs::write(
        dir.path().join("dagf.toml"),
        "[project]\nsrcs = [\"src\"]\n",
    )
    .expect("toml");
    let o = dagfc(dir.path(), &["check", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("[E0402]") && err.contains("dagf.toml:2:1"),
        "{err}"
    );
}

#[test]
fn check_writes_nothing_and_build_writes_one_file_per_dag() {
    let p = project(&[("main.dagf", TWO_DAGS)]);
    let o = dagfc(p.path(), &["check"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!p.path().join("dags").exists());

    let o = dagfc(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names: Vec<String> = listing(&p.path().join("dags"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, [".dagf-manifest.json", "first.py", "second.py"]);
    // Running from a subfolder finds the project upward.
    let o = dagfc(&p.path().join("src"), &["check", "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(o.stderr.is_empty(), "--quiet printed {}", stderr(&o));
}

#[test]
fn json_messages_carry_code_span_and_help() {
    let p = project(&[(
        "main.dagf",
        "dag d {\n  schedule = @dayly\n  task t: bash { bash_comand = \"x\" }\n}\n",
    )]);
    let o = dagfc(p.path(), &["check", "--message-format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "");
    let (lines, summary) = common::json_messages(&o.stdout);
    assert_eq!(summary["errors"], 2, "{summary}");
    assert_eq!(summary["warnings"], 0, "{summary}");
    assert_eq!(summary["success"], false, "{summary}");
    let codes: Vec<&str> = lines.iter().filter_map(|v| v["code"].as_str()).collect();
    // No E0202 for `bash_command`: the misspelt field was taken for it.
    assert_eq!(codes, ["E0304", "E0203"]);
    let first = &lines[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["primary"]["file"], "src/main.dagf");
    assert_eq!(first["primary"]["line_start"], 2);
    assert_eq!(first["primary"]["column_start"], 14);
    assert_eq!(first["help"], "did you mean `@daily`?");
    assert!(lines.iter().all(|v| v["help"].is_string()));
}

#[test]
fn colour_is_on_only_when_asked() {
    let p = project(&[("main.dagf", "dag d { schedule = @dayly }\n")]);
    assert!(stderr(&dagfc(p.path(), &["check", "--color", "always"])).contains('\u{1b}'));
    assert!(!stderr(&dagfc(p.path(), &["check", "--color", "never"])).contains('\u{1b}'));
    // Not a terminal: plain by default.
    assert!(!stderr(&dagfc(p.path(), &["check"])).contains('\u{1b}'));
}

#[test]
fn a_failed_build_leaves_the_previous_output_untouched() {
    let p = project(&[("main.dagf", TWO_DAGS)]);
    assert_eq!(dagfc(p.path(), &["build"]).status.code(), Some(0));
    let out = p.path().join("dags");
    let before = listing(&out);
    std::fs::write(
        p.path().join("src/main.dagf"),
        TWO_DAGS.replace("echo a", "echo changed") + "dag broken { schedule = 3 }\n",
    )
    .expect("write");
    let o = dagfc(p.path(), &["build", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("E0201"));
    assert_eq!(
        listing(&out),
        before,
        "a failed build changed the output folder"
    );
    for dir in [p.path(), &out] {
        let left: Vec<String> = std::fs::read_dir(dir)
            .expect("dir")
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .filter(|n| n.starts_with(".dagf~build") || n.starts_with(".dagf-stage"))
            .collect();
        assert!(left.is_empty(), "work folders left behind: {left:?}");
    }
}

#[test]
fn hand_written_files_survive_and_stale_files_go() {
    let p = project(&[("main.dagf", TWO_DAGS)]);
    let out = p.path().join("dags");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("helpers.py"), "def f():\n    return 1\n").expect("write");
    assert_eq!(dagfc(p.path(), &["build"]).status.code(), Some(0));
    // Drop `second` from the source: its file goes, the hand-written one stays.
    std::fs::write(
        p.path().join("src/main.dagf"),
        TWO_DAGS.replace("dag second { task only: empty }", ""),
    )
    .expect("write");
    let o = dagfc(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 removed"), "{}", stderr(&o));
    let names: Vec<String> = listing(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, [".dagf-manifest.json", "first.py", "helpers.py"]);
    assert_eq!(
        std::fs::read_to_string(out.join("helpers.py")).expect("read"),
        "def f():\n    return 1\n"
    );
}

#[test]
fn a_file_the_build_did_not_write_is_never_overwritten() {
    let p = project(&[("main.dagf", TWO_DAGS)]);
    let out = p.path().join("dags");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("second.py"), "# mine\n").expect("write");
    let o = dagfc(p.path(), &["build", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("[E0401]") && err.contains("second.py") && err.contains("nothing was written"),
        "{err}"
    );
    assert_eq!(
        listing(&out),
        [("second.py".to_string(), "# mine\n".to_string())]
    );
}

/// A manifest naming files outside its folder, or files dagfc never writes, is refused
/// as a whole (one E0407), and nothing is deleted.
#[test]
fn a_tampered_manifest_cannot_delete_outside_generated_files() {
    let p = project(&[("main.dagf", TWO_DAGS)]);
    let out = p.path().join("dags");
    assert_eq!(dagfc(p.path(), &["build"]).status.code(), Some(0));
    std::fs::write(p.path().join("precious.py"), "keep\n").expect("write");
    std::fs::write(out.join("notes.txt"), "keep\n").expect("write");
    std::fs::write(
        out.join(".dagf-manifest.json"),
        r#"{"files": ["first.py", "../precious.py", "notes.txt"]}"#,
    )
    .expect("write");
    let o = dagfc(p.path(), &["build", "--color", "never"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.matches("[E0407]").count(), 1, "{err}");
    assert_eq!(err.matches("Error:").count(), 1, "{err}");
    assert!(
        err.contains("\"../precious.py\" is not a `.py` file of this folder, or a file of the project (pools.json, airflow-bundles.json, .airflowignore)"),
        "{err}"
    );
    assert!(p.path().join("precious.py").exists());
    assert!(out.join("notes.txt").exists());
    assert!(out.join("second.py").exists());
}

#[test]
fn optimisation_levels() {
    let src = r#"
dag d {
    task a: bash { bash_command = "a", retries = 3 }
    task b: bash { bash_command = "b", retries = 3 }
    task c: bash { bash_command = "c", retries = 3 }
    a >> b >> c
    a >> c
}
"#;
    let p = project(&[("main.dagf", src)]);
    let ir = |args: &[&str]| {
        let mut all = vec!["build", "--emit", "ir"];
        all.extend_from_slice(args);
        String::from_utf8_lossy(&dagfc(p.path(), &all).stdout).into_owned()
    };
    let optimised = ir(&[]);
    assert!(!optimised.contains("  a >> c"), "{optimised}");
    assert!(
        optimised.contains("default_args {\n    retries = 3"),
        "{optimised}"
    );
    assert_eq!(optimised.matches("retries = 3").count(), 1);
    let plain = ir(&["-O0"]);
    assert!(plain.contains("  a >> c"), "{plain}");
    assert_eq!(plain.matches("retries = 3").count(), 3);
    assert!(!plain.contains("default_args"));
}

/// TaskFlow's `@task` hands `default_args` entries to the function by parameter name
/// and ignores `multiple_outputs` there: a DAG written with it keeps its arguments.
#[test]
fn taskflow_dags_keep_their_arguments_where_they_are() {
    let src = r#"
dag d {
    task a: python { python_callable = "jobs.a", retries = 3, multiple_outputs = true }
    task b: python { python_callable = "jobs.b", retries = 3, multiple_outputs = true }
    a >> b
}
"#;
    let p = project(&[("main.dagf", src)]);
    let ir = |style: &str| {
        let run = dagfc(p.path(), &["build", "--emit", "ir", "--style", style]);
        assert!(run.status.success(), "{}", stderr(&run));
        String::from_utf8_lossy(&run.stdout).into_owned()
    };
    let classic = ir("classic");
    assert!(classic.contains("default_args {"), "{classic}");
    assert_eq!(classic.matches("retries = 3").count(), 1, "{classic}");
    let taskflow = ir("taskflow");
    assert!(!taskflow.contains("default_args"), "{taskflow}");
    assert_eq!(taskflow.matches("retries = 3").count(), 2, "{taskflow}");
}

#[test]
fn new_scaffolds_a_project_that_builds() {
    let dir = tempfile::tempdir().expect("tmp");
    let o = dagfc(dir.path(), &["new", "acme"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let root: PathBuf = dir.path().join("acme");
    let o = dagfc(&root, &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(root.join("dags/ingest_crm.py").is_file());
    // What the build makes is ignored by git; the Python package the DAG calls is there.
    let ignore = std::fs::read_to_string(root.join(".gitignore")).expect(".gitignore");
    for line in ["/dags/", ".dagf-cache/", ".dagf~build*"] {
        assert!(
            ignore.lines().any(|l| l == line),
            "no `{line}` in\n{ignore}"
        );
    }
    let dag = std::fs::read_to_string(root.join("dags/ingest_crm.py")).expect("dag");
    assert!(dag.contains("acme_tasks"), "{dag}");
    assert!(root.join("python/acme_tasks/__init__.py").is_file());
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README");
    assert!(readme.contains("PYTHONPATH"), "{readme}");
    // No warning in the project as it is.
    let o = dagfc(&root, &["check", "--color", "never"]);
    assert!(
        stderr(&o).contains("0 errors, 0 warnings"),
        "{}",
        stderr(&o)
    );
    // Its first tests pass.
    let o = dagfc(&root, &["test", "--color", "never"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).lines().last(),
        Some("2 passed, 0 failed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(dagfc(dir.path(), &["new", "acme"]).status.code(), Some(1));
    assert_eq!(
        dagfc(dir.path(), &["new", "bad name!"]).status.code(),
        Some(1)
    );
}

/// The README's example compiles to exactly the Python the README shows.
#[test]
fn readme_example_is_what_the_compiler_writes() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .expect("README");
    let block = |lang: &str| -> String {
        let start = readme.find(&format!("```{lang}\n")).expect("block") + lang.len() + 4;
        let end = start + readme[start..].find("```").expect("end of block");
        readme[start..end].to_string()
    };
    let p = project(&[("ingest.dagf", &block("dagf"))]);
    let o = dagfc(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let written = std::fs::read_to_string(p.path().join("dags/ingest_crm.py")).expect("output");
    assert_eq!(written, block("python"));

    // The tenants example builds on the first one and writes where the README says.
    let second = readme
        .match_indices("```dagf\n")
        .nth(1)
        .map(|(i, _)| {
            let start = i + "```dagf\n".len();
            readme[start..start + readme[start..].find("```").expect("end")].to_string()
        })
        .expect("a second dagf block");
    let tenants = format!("import \"ingest.dagf\"\n{second}");
    let p = project(&[("ingest.dagf", &block("dagf")), ("tenants.dagf", &tenants)]);
    let o = dagfc(p.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in [
        "customers/acme/acme__ingest.py",
        "customers/globex/globex__ingest.py",
    ] {
        assert!(p.path().join("dags").join(f).is_file(), "{f}");
    }
}

/// `explain-value` shows a value and every layer that set it, newest first.
#[test]
fn explain_value_walks_the_layers() {
    let src = r#"
mixin labelled { tags += ["labelled"] }
factory base(name: str) {
    schedule = @daily
    tags = ["base"]
    default_args { retries = 2 }
    task run: bash { bash_command = "run ${name}" }
}
factory child(name: str) extends base(name = name) with labelled {
    override schedule = @hourly
    tags += ["child"]
}
dag d: child(name = "x")
"#;
    let p = project(&[("main.dagf", src)]);
    let out = |field: &str| {
        let o = dagfc(p.path(), &["explain-value", "d", field]);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    };
    let (code, text) = out("schedule");
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "d: schedule = \"@hourly\"");
    assert!(
        lines[1].contains("set by the factory `child` at src/main.dagf:10:5"),
        "{text}"
    );
    assert!(
        lines[2].contains("over the parent factory `base` at src/main.dagf:4:5"),
        "{text}"
    );
    let (_, text) = out("tags");
    assert!(
        text.starts_with("d: tags = [\"base\", \"labelled\", \"child\"]"),
        "{text}"
    );
    assert!(text.contains("the mixin `labelled`"), "{text}");
    let (_, text) = out("default_args.retries");
    assert!(text.contains("set by the parent factory `base`"), "{text}");
    let (_, text) = out("run.bash_command");
    assert!(text.contains("= \"run x\""), "{text}");
    assert_eq!(out("nothing").0, Some(1));
    assert_eq!(
        dagfc(p.path(), &["explain-value", "nope", "schedule"])
            .status
            .code(),
        Some(1)
    );
    // A misspelt name gets a suggestion from what the dag sets; an unset one says so.
    let help = |field: &str| {
        let o = dagfc(p.path(), &["explain-value", "d", field]);
        assert_eq!(o.status.code(), Some(1));
        stderr(&o)
            .lines()
            .find(|l| l.starts_with("help: "))
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(help("schedul"), "help: did you mean `schedule`?");
    assert_eq!(
        help("run.bash_comand"),
        "help: did you mean `run.bash_command`?"
    );
    assert_eq!(
        help("rn.bash_command"),
        "help: did you mean `run.bash_command`?"
    );
    assert_eq!(
        help("default_args.retires"),
        "help: did you mean `default_args.retries`?"
    );
    assert!(help("run.retries").contains("Airflow's default applies"));
    // Durations print as the source writes them.
    let src = "dag t {\n    default_args { retry_delay = 1h30m }\n    task a: bash { bash_command = \"x\" }\n}\n";
    let q = project(&[("main.dagf", src)]);
    let o = dagfc(
        q.path(),
        &["explain-value", "t", "default_args.retry_delay"],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("t: default_args.retry_delay = 1h30m\n"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn codegen_rules_choose_the_style_dag_by_dag() {
    let dir = project(&[("two.dagf", TWO_DAGS)]);
    let toml = dir.path().join("dagf.toml");
    let base = std::fs::read_to_string(&toml).expect("toml");
    let rule = |pattern: &str| {
        format!("{base}\n[[codegen.dags]]\nmatch = \"{pattern}\"\nstyle = \"taskflow\"\n")
    };
    std::fs::write(&toml, rule("sec*")).expect("toml");
    let o = dagfc(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let read = |f: &str| std::fs::read_to_string(dir.path().join("dags").join(f)).expect("read");
    assert!(
        read("second.py").contains("@dag("),
        "the rule makes `second` TaskFlow"
    );
    assert!(
        read("first.py").contains("with DAG("),
        "`first` keeps the project's style"
    );

    // `--style` sets one style for every dag.
    let o = dagfc(dir.path(), &["build", "--style", "classic"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(read("second.py").contains("with DAG("));

    // A rule that matches no dag is an error pointing into dagf.toml; nothing is written.
    std::fs::write(&toml, rule("secnod*")).expect("toml");
    let before = listing(&dir.path().join("dags"));
    let o = dagfc(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("E0402") && err.contains("`secnod*` matches no dag"),
        "{err}"
    );
    assert!(
        err.contains("dagf.toml:"),
        "the error points into dagf.toml: {err}"
    );
    assert_eq!(listing(&dir.path().join("dags")), before);
}

const TENANTS: &str = r#"
tenant Customer {
    tier: "gold" | "silver"
    naming = "${tenant}__${dag}"
    output = "customers/${tenant}"
}
Customer acme { tier = "gold" }
Customer globex { tier = "silver" }
for c in Customer {
    dag load in c { task t: empty }
}
dag platform { task t: empty }
"#;

#[test]
fn each_tenant_has_its_folder_and_removing_one_removes_exactly_its_files() {
    let dir = project(&[("t.dagf", TENANTS)]);
    let o = dagfc(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let dags = dir.path().join("dags");
    assert!(dags.join("customers/acme/acme__load.py").is_file());
    assert!(dags.join("customers/globex/globex__load.py").is_file());
    assert!(dags.join("platform.py").is_file());
    // A file of someone else's in a tenant folder.
    std::fs::write(dags.join("customers/globex/notes.py"), "# mine\n").expect("write");

    let without_globex = TENANTS.replace("Customer globex { tier = \"silver\" }", "");
    std::fs::write(dir.path().join("src/t.dagf"), without_globex).expect("write");
    let o = dagfc(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!dags.join("customers/globex/globex__load.py").exists());
    assert!(!dags.join("customers/globex/.dagf-manifest.json").exists());
    assert_eq!(
        std::fs::read_to_string(dags.join("customers/globex/notes.py")).expect("kept"),
        "# mine\n"
    );
    assert!(dags.join("customers/acme/acme__load.py").is_file());
    assert!(dags.join("platform.py").is_file());

    // Removing the last tenant removes its folder too (the globex folder stays: it
    // held a file dagfc did not write when its tenant went).
    let no_tenants = TENANTS
        .replace("Customer globex { tier = \"silver\" }", "")
        .replace("Customer acme { tier = \"gold\" }", "");
    std::fs::write(dir.path().join("src/t.dagf"), no_tenants).expect("write");
    let o = dagfc(dir.path(), &["build"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        !dags.join("customers/acme").exists(),
        "an emptied tenant folder goes"
    );
    assert!(dags.join("customers/globex/notes.py").is_file());
    assert!(dags.join("platform.py").is_file());
}

#[test]
fn a_build_with_nothing_changed_does_nothing_and_any_change_rebuilds() {
    let dir = project(&[("two.dagf", TWO_DAGS)]);
    let build = || {
        let o = dagfc(dir.path(), &["build"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stderr(&o)
    };
    assert!(build().contains("built 2 dags"));
    assert!(build().contains("2 files of t in dags up to date"));

    // A source edit rebuilds; so does a generated file edited by hand (it is restored).
    let src = dir.path().join("src/two.dagf");
    std::fs::write(&src, TWO_DAGS.replace("echo a", "echo A")).expect("edit");
    assert!(build().contains("1 written"));
    assert!(build().contains("up to date"));
    let first = dir.path().join("dags/first.py");
    let generated = std::fs::read_to_string(&first).expect("read");
    std::fs::write(&first, format!("{generated}# edited\n")).expect("edit");
    assert!(build().contains("1 written"));
    assert_eq!(std::fs::read_to_string(&first).expect("read"), generated);

    // Other options are another build.
    let o = dagfc(dir.path(), &["build", "-O0"]);
    assert!(stderr(&o).contains("built 2 dags"), "{}", stderr(&o));

    // A project that reads the environment is always built.
    std::fs::write(
        &src,
        "dag first { task a: bash { bash_command = getenv(\"HOME\", \"x\") } }\n",
    )
    .expect("edit");
    assert!(build().contains("built 1 dag"));
    assert!(build().contains("built 1 dag"));
}

const SOURCES: &str = r#"
type Job = { name: str matches "^[a-z]+$", command: str }
source jobs: list<Job> = yaml("jobs/*.yaml")
source one: Job = json("one.json")
for j in jobs + [one] {
    dag "job_${j.name}" { task run: bash { bash_command = j.command } }
}
"#;

#[test]
fn config_files_are_inputs_of_the_build() {
    let dir = project(&[("jobs.dagf", SOURCES)]);
    let src = dir.path().join("src");
    std::fs::create_dir(src.join("jobs")).expect("mkdir");
    std::fs::write(src.join("jobs/a.yaml"), "name: alpha\ncommand: echo a\n").expect("write");
    std::fs::write(
        src.join("one.json"),
        r#"{"name": "one", "command": "echo 1"}"#,
    )
    .expect("write");
    let build = || {
        let o = dagfc(dir.path(), &["build"]);
        (o.status.code(), stderr(&o))
    };
    let (code, err) = build();
    assert_eq!(code, Some(0), "{err}");
    assert!(dir.path().join("dags/job_alpha.py").is_file());

    // A new file in the folder a `*` lists is picked up (no stale "up to date").
    std::fs::write(src.join("jobs/b.yaml"), "name: beta\ncommand: echo b\n").expect("write");
    let (code, err) = build();
    assert_eq!(code, Some(0), "{err}");
    assert!(dir.path().join("dags/job_beta.py").is_file(), "{err}");

    // A file that is not UTF-8 text is an error naming it, at its first bad byte;
    // nothing is written or removed.
    std::fs::write(src.join("jobs/c.yaml"), [0xff, 0xfe, 0x00, 0x01]).expect("write");
    let (code, err) = build();
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("E0005") && err.contains("src/jobs/c.yaml:1:1") && err.contains("UTF-8"),
        "{err}"
    );
    assert!(dir.path().join("dags/job_beta.py").is_file());
    std::fs::remove_file(src.join("jobs/c.yaml")).expect("rm");

    // Errors in two files are reported in one run, each inside its file.
    std::fs::write(src.join("jobs/a.yaml"), "name: Alpha\ncommand: echo a\n").expect("write");
    std::fs::write(
        src.join("one.json"),
        r#"{"name": "one", "comand": "echo 1"}"#,
    )
    .expect("write");
    let (code, err) = build();
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("src/jobs/a.yaml:1:7"), "{err}");
    assert!(err.contains("src/one.json:1:"), "{err}");
    assert!(err.contains("did you mean `command`?"), "{err}");
}

/// `--target` and `[target] airflow` choose what the files say; the flag wins, an
/// unknown version is refused, and only a version older than 3 changes the forms.
#[test]
fn the_target_version_shapes_the_output() {
    const SOURCE: &str = r#"
asset out = "s3://b/out"
dag nightly {
    schedule = @daily
    start = 2024-01-01T00:00:00+02:00
    fail_fast = true
    default_args { retry_exponential_backoff = 2.0 }
    group g { task a: bash { bash_command = "echo a", outlets = [out] } }
}
dag hourly {
    schedule = 1h
    start = 2024-01-01
    task a: empty
}
dag by_hand { task a: empty }
dag quarterly {
    schedule = @quarterly
    start = 2024-01-01
    task a: empty
}
"#;
    let dir = project(&[("main.dagf", SOURCE)]);
    let emit = |args: &[&str]| {
        let o = dagfc(dir.path(), &[&["build", "--emit", "python"], args].concat());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let old = emit(&["--target", "2.11"]);
    for line in [
        "from airflow.datasets import Dataset",
        "from airflow.models.dag import DAG",
        "from airflow.timetables.trigger import CronTriggerTimetable",
        "from airflow.timetables.trigger import DeltaTriggerTimetable",
        "from airflow.utils.task_group import TaskGroup",
        "from pendulum import FixedTimezone",
        "out = Dataset(\"s3://b/out\")",
        "    schedule=CronTriggerTimetable(\"0 0 * * *\", timezone=FixedTimezone(7200)),",
        "    schedule=DeltaTriggerTimetable(timedelta(hours=1)),",
        "    schedule=None,",
        "    schedule=CronTriggerTimetable(\"0 0 1 */3 *\", timezone=\"UTC\"),",
        "    fail_stop=True,",
        "    default_args={\"retry_exponential_backoff\": True},",
    ] {
        assert!(old.contains(line), "2.11 output lacks `{line}`:\n{old}");
    }
    assert!(!old.contains("airflow.sdk"), "{old}");
    let new = emit(&[]);
    for line in [
        "from airflow.sdk import DAG, Asset, TaskGroup",
        "    schedule=\"@daily\",",
        "    schedule=timedelta(hours=1),",
        "    schedule=\"@quarterly\",",
        "    fail_fast=True,",
        "    default_args={\"retry_exponential_backoff\": 2.0},",
    ] {
        assert!(new.contains(line), "3.3 output lacks `{line}`:\n{new}");
    }
    assert!(!new.contains("schedule=None"), "{new}");
    assert!(emit(&["--target", "3.2"]).contains("    schedule=\"0 0 1 */3 *\","));

    // dagf.toml chooses when no flag does; the flag wins over it.
    let toml = dir.path().join("dagf.toml");
    let text = std::fs::read_to_string(&toml).expect("toml");
    std::fs::write(&toml, format!("{text}\n[target]\nairflow = \"2.11\"\n")).expect("toml");
    assert_eq!(emit(&[]), old);
    assert_eq!(emit(&["--target", "3.3"]), new);

    let bad = dagfc(dir.path(), &["build", "--target", "2.10"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("2.11, 3.0, 3.1, 3.2, 3.3"),
        "{}",
        stderr(&bad)
    );
    std::fs::write(&toml, format!("{text}\n[target]\nairflow = \"4.0\"\n")).expect("toml");
    let bad = dagfc(dir.path(), &["check"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("unsupported Airflow target `4.0`"),
        "{}",
        stderr(&bad)
    );
}

/// `dagfc check --message-format json > out.jsonl`: the diagnostics and then one summary
/// object on standard output, nothing on standard error; the summary counts what the
/// command knows (errors, warnings, dags; a build's files too).
#[test]
fn json_messages_go_to_stdout_and_end_with_a_summary() {
    let p = project(&[(
        "main.dagf",
        "factory f(x: int) { task t: empty }\ndag a: f(x = 1)\ndag b: f(x = 2)\n",
    )]);
    let o = dagfc(p.path(), &["check", "--message-format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let (diags, summary) = common::json_messages(&o.stdout);
    let warnings = diags.iter().filter(|d| d["severity"] == "warning").count();
    assert!(warnings >= 1, "{diags:?}");
    assert_eq!(summary["success"], true, "{summary}");
    assert_eq!(summary["errors"], 0, "{summary}");
    assert_eq!(summary["warnings"], warnings, "{summary}");
    assert_eq!(summary["dags"], 2, "{summary}");
    assert!(
        summary["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("checked 2 dags"))
    );

    // --quiet is for people: the JSON stream still ends with its summary.
    let o = dagfc(p.path(), &["build", "--message-format", "json", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
    let (_, summary) = common::json_messages(&o.stdout);
    assert_eq!(summary["dags"], 2, "{summary}");
    assert_eq!(summary["files"], 2, "{summary}");
    assert_eq!(summary["written"], 2, "{summary}");
    let o = dagfc(p.path(), &["build", "--message-format", "json"]);
    let (diags, summary) = common::json_messages(&o.stdout);
    assert!(
        diags.is_empty(),
        "an up-to-date build shows no warnings: {diags:?}"
    );
    assert_eq!(summary["up_to_date"], true, "{summary}");
    assert_eq!(summary["files"], 2, "{summary}");

    // A project that cannot be found is one diagnostic and a failed summary.
    let empty = tempfile::tempdir().expect("tmp");
    let o = dagfc(empty.path(), &["check", "--message-format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let (diags, summary) = common::json_messages(&o.stdout);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0]["code"], "E0403");
    assert_eq!(summary["success"], false, "{summary}");

    // Human diagnostics stay on standard error.
    let o = dagfc(p.path(), &["check", "--color", "never"]);
    assert!(o.stdout.is_empty());
    assert!(stderr(&o).contains("checked 2 dags"), "{}", stderr(&o));
}

/// A command that prints its own output on standard output (`build --emit`,
/// `explain-value`, `import` without `--out`) keeps its JSON messages on standard error,
/// so that neither stream mixes two things.
#[test]
fn json_messages_stay_on_stderr_beside_emitted_output() {
    let p = project(&[(
        "main.dagf",
        "factory f(x: int) {\n  schedule = @daily\n  task t: empty\n}\ndag a: f(x = 1)\n",
    )]);
    for emit in ["python", "ir"] {
        let o = dagfc(
            p.path(),
            &["build", "--emit", emit, "--message-format", "json"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.lines()
                .all(|l| serde_json::from_str::<serde_json::Value>(l).is_err()),
            "--emit {emit}: JSON on standard output:\n{out}"
        );
        let (diags, summary) = common::json_messages(&o.stderr);
        assert!(
            diags.iter().any(|d| d["severity"] == "warning"),
            "{diags:?}"
        );
        assert_eq!(summary["errors"], 0, "{summary}");
        assert_eq!(summary["dags"], 1, "{summary}");
    }
    let o = dagfc(
        p.path(),
        &["build", "--emit", "python", "--message-format", "json"],
    );
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("# ==> a.py <==\n"));
    let o = dagfc(
        p.path(),
        &["explain-value", "a", "schedule", "--message-format", "json"],
    );
    let (_, summary) = common::json_messages(&o.stderr);
    assert_eq!(summary["dags"], 1, "{summary}");
}

/// `dagfc completions SHELL` prints a script for each shell; the bash one completes every
/// command `dagfc --help` lists, and bash accepts it.
#[test]
fn completion_scripts_cover_every_command() {
    let dir = tempfile::tempdir().expect("tmp");
    let help = dagfc(dir.path(), &["--help"]);
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let commands: Vec<&str> = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section")
        .lines()
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(commands.len() >= 8, "{commands:?}");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = dagfc(dir.path(), &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}: {}", stderr(&o));
        let script = String::from_utf8_lossy(&o.stdout);
        for command in &commands {
            assert!(
                script.contains(command),
                "{shell}: no `{command}` in\n{script}"
            );
        }
        assert!(script.contains("message-format"), "{shell}");
    }
    let o = dagfc(dir.path(), &["completions", "bash"]);
    let path = dir.path().join("dagfc.bash");
    std::fs::write(&path, &o.stdout).expect("write");
    let check = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("run bash");
    assert!(check.status.success(), "bash -n: {}", stderr(&check));
    // The script, sourced, completes `dagfc ex` to the two explain commands.
    let line = format!(
        "source {}; COMP_WORDS=(dagfc ex); COMP_CWORD=1; _dagfc dagfc ex dagfc; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let run = Command::new("bash")
        .arg("-c")
        .arg(&line)
        .output()
        .expect("bash");
    let words = String::from_utf8_lossy(&run.stdout);
    let mut words: Vec<&str> = words.lines().collect();
    words.sort();
    assert_eq!(words, ["explain", "explain-value"], "{}", stderr(&run));
    assert_eq!(
        dagfc(dir.path(), &["completions", "tcsh"]).status.code(),
        Some(2)
    );
}
