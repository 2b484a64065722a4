//! `dagfc import dag-factory`: every sample under tests/import is imported by the real
//! binary, the results are built as one dagf project, and real Apache Airflow (in the
//! venv tests/airflow/venv.sh makes) loads both the generated files and the same YAML
//! through dag-factory 1.1: the DAGs must have the same tasks, edges, task groups,
//! operators, task arguments, callables, callbacks and schedules
//! (tests/airflow/import_compare.py). The command's own behaviour (stdout or --out,
//! never replacing a file, nothing written on an error) and the book chapter's
//! examples are checked too.

mod common;

use common::{repo, venv_python};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dagfc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("run dagfc")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The sample YAML files, sorted.
fn samples() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/import"))
        .expect("tests/import")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    out.sort();
    assert!(
        out.len() >= 3,
        "expected at least three samples, found {out:?}"
    );
    out
}

fn name(path: &Path) -> String {
    path.file_stem()
        .expect("stem")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn imported_samples_build_and_match_dag_factory_in_airflow() {
    let python = venv_python();
    let tmp = tempfile::tempdir().expect("tmp");
    let project = tmp.path().join("project");
    let factory = tmp.path().join("dag-factory");
    std::fs::create_dir_all(project.join("src")).expect("src");
    std::fs::create_dir_all(&factory).expect("dag-factory folder");
    std::fs::write(
        project.join("dagf.toml"),
        "[project]\nsrc = [\"src\"]\nout = \"dags\"\n",
    )
    .expect("dagf.toml");

    for sample in samples() {
        let shown = sample.display().to_string();
        let out = project.join("src").join(format!("{}.dagf", name(&sample)));
        let run = dagfc(&[
            "import",
            "dag-factory",
            &shown,
            "--out",
            &out.display().to_string(),
        ]);
        assert!(
            run.status.success(),
            "importing {shown} failed:\n{}",
            text(&run.stderr)
        );
        let stderr = text(&run.stderr);
        assert!(
            stderr.contains(": 0 errors, 0 warnings"),
            "importing {shown} reported something:\n{stderr}"
        );
        // Without --out, the same text goes to standard output.
        let printed = dagfc(&["import", "dag-factory", &shown, "-q"]);
        assert!(printed.status.success());
        assert_eq!(
            text(&printed.stdout),
            std::fs::read_to_string(&out).expect("imported file"),
            "{shown}: stdout and --out differ"
        );

        // The dag-factory side: the YAML and a loader file, as a DAG folder.
        let yaml_name = sample
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        std::fs::copy(&sample, factory.join(&yaml_name)).expect("copy sample");
        std::fs::write(
            factory.join(format!("load_{}.py", name(&sample))),
            format!(
                "# Builds the Airflow DAGs of {yaml_name} with dag-factory.\n\
                 from pathlib import Path\n\n\
                 from dagfactory import load_yaml_dags\n\n\
                 load_yaml_dags(\n    globals_dict=globals(),\n    config_filepath=str(Path(__file__).with_name({yaml_name:?})),\n)\n"
            ),
        )
        .expect("loader");
    }

    // -O0: every edge as the YAML states it (the default level drops edges implied by
    // others, which Airflow orders the same but lists differently).
    let dags = project.join("dags");
    let build = dagfc(&["build", "-O0", "--project", &project.display().to_string()]);
    assert!(
        build.status.success(),
        "the imported project does not build:\n{}",
        text(&build.stderr)
    );
    let built = std::fs::read_dir(&dags)
        .expect("dags")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "py"))
        .count();
    assert!(built >= 5, "expected at least five dags, built {built}");

    // The Python the samples name, beside both kinds of DAG files.
    let helpers = repo().join("tests/import/helpers.py");
    std::fs::copy(&helpers, dags.join("helpers.py")).expect("copy helpers");
    std::fs::copy(&helpers, factory.join("helpers.py")).expect("copy helpers");

    let compare = Command::new(&python)
        .arg(repo().join("tests/airflow/import_compare.py"))
        .arg("--dagf")
        .arg(&dags)
        .arg("--dagfactory")
        .arg(&factory)
        // `python_callable_file: $DAGF_IMPORT_SAMPLES/helpers.py`: dag-factory expands
        // environment variables when it loads a file.
        .env("DAGF_IMPORT_SAMPLES", &factory)
        .output()
        .expect("run import_compare.py");
    let report = format!("{}{}", text(&compare.stdout), text(&compare.stderr));
    assert!(
        compare.status.success(),
        "Airflow sees different DAGs:\n{report}"
    );
    assert!(
        report.contains(&format!("import-compare: {built} dags equal, 0 differ")),
        "expected all {built} dags compared:\n{report}"
    );
}

#[test]
fn an_error_writes_nothing_and_points_into_the_yaml() {
    let tmp = tempfile::tempdir().expect("tmp");
    let yaml = tmp.path().join("broken.yml");
    std::fs::write(
        &yaml,
        "etl:\n  tasks:\n    t:\n      operator: airflow.providers.standard.operators.bash.BashOperator\n      bash_comand: x\n",
    )
    .expect("yaml");
    let out = tmp.path().join("etl.dagf");
    let run = dagfc(&[
        "import",
        "dag-factory",
        &yaml.display().to_string(),
        "--out",
        &out.display().to_string(),
        "--message-format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(!out.exists(), "a failed import wrote {}", out.display());
    // With `--out`, standard output is free for the JSON messages.
    assert!(run.stderr.is_empty(), "{}", text(&run.stderr));
    let (diags, summary) = common::json_messages(&run.stdout);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(summary["errors"], 1, "{summary}");
    let d = &diags[0];
    assert_eq!(d["code"], "E0601", "{d}");
    let shown = d.to_string();
    assert!(
        shown.contains("broken.yml") && shown.contains("did you mean `bash_command`?"),
        "{shown}"
    );

    let human = dagfc(&["import", "dag-factory", &yaml.display().to_string()]);
    let stderr = text(&human.stderr);
    assert!(
        stderr.contains("broken.yml:5:7") && stderr.contains("nothing was written"),
        "{stderr}"
    );
}

#[test]
fn an_existing_file_is_replaced_only_with_force() {
    let tmp = tempfile::tempdir().expect("tmp");
    let sample = samples().remove(0);
    let out = tmp.path().join("mine.dagf");
    std::fs::write(&out, "// my own file\n").expect("write");
    let args = |force: bool| {
        let mut a = vec![
            "import".to_string(),
            "dag-factory".to_string(),
            sample.display().to_string(),
            "--out".to_string(),
            out.display().to_string(),
        ];
        if force {
            a.push("--force".into());
        }
        a
    };
    let refuse = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args(false))
        .output()
        .expect("run");
    assert_eq!(refuse.status.code(), Some(1));
    assert!(
        text(&refuse.stderr).contains("--force"),
        "{}",
        text(&refuse.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "// my own file\n"
    );

    let replace = Command::new(env!("CARGO_BIN_EXE_dagfc"))
        .args(args(true))
        .output()
        .expect("run");
    assert!(replace.status.success(), "{}", text(&replace.stderr));
    assert!(
        std::fs::read_to_string(&out)
            .expect("read")
            .starts_with("// Imported from")
    );

    let missing = dagfc(&["import", "dag-factory", "no/such/file.yml"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        text(&missing.stderr).contains("E0404"),
        "{}",
        text(&missing.stderr)
    );
}

/// The chapter's ```yaml,file=NAME blocks: the next ```dagf block is what
/// `dagfc import dag-factory NAME` prints, and a ```text,import=NAME block what it
/// reports.
#[test]
fn the_book_chapter_shows_what_the_import_does() {
    let chapter = repo().join("book/src/reference/import.md");
    let page = std::fs::read_to_string(&chapter).expect("book/src/reference/import.md");
    let tmp = tempfile::tempdir().expect("tmp");
    let mut current: Option<(String, String)> = None; // (info, text)
    let mut last_yaml: Option<PathBuf> = None;
    let mut checked = 0;
    let mut problems = Vec::new();
    for line in page.lines() {
        match current.as_mut() {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    current = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((info, body)) if line.trim_end() == "```" => {
                let (info, body) = (info.clone(), std::mem::take(body));
                current = None;
                let attr = |key: &str| {
                    info.split(',').find_map(|a| {
                        a.trim()
                            .strip_prefix(&format!("{key}="))
                            .map(str::to_string)
                    })
                };
                if info.starts_with("yaml") {
                    if let Some(file) = attr("file") {
                        let path = tmp.path().join(&file);
                        std::fs::write(&path, &body).expect("write yaml");
                        last_yaml = Some(path);
                    }
                } else if info == "dagf" {
                    if let Some(yaml) = last_yaml.take() {
                        let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
                            .args(["import", "dag-factory", "-q", "--color", "never"])
                            .arg(yaml.file_name().expect("name"))
                            .current_dir(tmp.path())
                            .output()
                            .expect("run");
                        checked += 1;
                        if text(&run.stdout) != body {
                            problems.push(format!(
                                "the ```dagf block after {} is not what the import prints:\n{}{}",
                                yaml.display(),
                                text(&run.stdout),
                                text(&run.stderr)
                            ));
                        }
                    }
                } else if info.starts_with("text")
                    && let Some(file) = attr("import")
                {
                    let run = Command::new(env!("CARGO_BIN_EXE_dagfc"))
                        .args(["import", "dag-factory", "--color", "never", &file])
                        .current_dir(tmp.path())
                        .output()
                        .expect("run");
                    checked += 1;
                    let shown = normalize(&text(&run.stderr));
                    if shown != normalize(&body) {
                        problems.push(format!(
                                "the ```text,import={file} block is not what the import reports:\n{shown}"
                            ));
                    }
                }
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(
        checked >= 2,
        "only {checked} examples checked in {}",
        chapter.display()
    );
}

/// Trailing spaces dropped from every line (ariadne pads some lines).
fn normalize(s: &str) -> String {
    s.lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
}
