//! The driver on projects held in memory: no disk, no process.

use dagf_driver::{Build, EnvOrigin, Goal, MemoryLoader, Options, Overlay, Session, build};
use std::num::NonZeroUsize;

const TOML: &str = "[project]\nname = \"mem\"\nsrc = [\"src\"]\ndefault_env = \"dev\"\n";

const LIB: &str = r#"
factory ingest(source: str) {
    schedule = @daily
    start = 2024-01-01
    tags = ["ingest", source]
    task load: bash { bash_command = "load ${source}" }
    task done: empty
    load >> done
}

profile dev {
    tags += ["dev"]
}

profile prod {
    tags += ["prod"]
}
"#;

fn project() -> MemoryLoader {
    MemoryLoader::new()
        .with("dagf.toml", TOML)
        .with("src/lib.dagf", LIB)
        .with(
            "src/main.dagf",
            "import \"lib.dagf\"\n\ndag crm: ingest(source = \"crm\")\ndag erp: ingest(source = \"erp\")\n",
        )
        .with(
            "src/more/other.dagf",
            "import \"../lib.dagf\"\n\ndag hr: ingest(source = \"hr\")\n",
        )
}

fn files(b: &Build) -> Vec<(String, String, String)> {
    b.files
        .iter()
        .map(|f| (f.folder.clone(), f.file.clone(), f.text.clone()))
        .collect()
}

fn options(goal: Goal) -> Options {
    Options {
        goal,
        ..Options::default()
    }
}

fn messages(b: &Build) -> Vec<String> {
    b.diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code.as_str(), d.message))
        .collect()
}

#[test]
fn a_project_in_memory_builds_without_a_disk() {
    let b = build(&project(), &options(Goal::Files));
    assert!(b.ok(), "{:?}", messages(&b));
    let names: Vec<&str> = b.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["crm.py", "erp.py", "hr.py"]);
    let crm = &b.files[0].text;
    assert!(crm.contains("dag_id=\"crm\""), "{crm}");
    // The default environment's profile is the last layer.
    assert!(crm.contains("tags=[\"ingest\", \"crm\", \"dev\"]"), "{crm}");
    assert_eq!(b.sources.get(dagf_diag::FileId(0)).name, "dagf.toml");
}

#[test]
fn the_source_folders_are_listed_through_the_loader() {
    let p = dagf_driver::Project::load(&project()).expect("loads");
    assert_eq!(
        p.files,
        ["src/lib.dagf", "src/main.dagf", "src/more/other.dagf"]
    );
    let missing = MemoryLoader::new()
        .with("dagf.toml", "[project]\nsrc = [\"pipelines\"]\n")
        .with("src/a.dagf", "");
    let stopped = dagf_driver::Project::load(&missing).expect_err("no such folder");
    assert_eq!(
        messages(&stopped),
        ["E0404: source folder `pipelines` does not exist"]
    );
    let no_toml = build(
        &MemoryLoader::new().with("src/a.dagf", ""),
        &Options::default(),
    );
    assert_eq!(no_toml.errors, 1);
    assert_eq!(no_toml.diagnostics[0].code.as_str(), "E0403");
}

#[test]
fn the_overlay_wins_over_the_base() {
    let base = project();
    let mut overlay = Overlay::new(&base);
    overlay.edit(
        "src/main.dagf",
        "import \"lib.dagf\"\n\ndag crm2: ingest(source = \"crm\")\n",
    );
    // A file only the overlay has is a source file too.
    overlay.edit(
        "src/new.dagf",
        "import \"lib.dagf\"\n\ndag fin: ingest(source = \"fin\")\n",
    );
    let b = build(&overlay, &options(Goal::Files));
    assert!(b.ok(), "{:?}", messages(&b));
    let names: Vec<&str> = b.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(names, ["crm2.py", "hr.py", "fin.py"]);
    // An unsaved mistake is reported in the unsaved text.
    overlay.edit(
        "src/new.dagf",
        "import \"lib.dagf\"\n\ndag fin: ingest(sorce = \"fin\")\n",
    );
    let b = build(&overlay, &options(Goal::Check));
    assert!(!b.ok());
    let d = b
        .diagnostics
        .iter()
        .find(|d| d.primary.is_some())
        .expect("an error with a place");
    let span = d.primary.as_ref().expect("a place").span;
    assert_eq!(b.sources.get(span.file).name, "src/new.dagf");
    assert_eq!(b.sources.text(span), "sorce");
    overlay.revert("src/new.dagf");
    assert!(build(&overlay, &options(Goal::Check)).ok());
}

#[test]
fn the_environment_says_where_it_was_chosen() {
    let loader = project();
    let b = build(&loader, &options(Goal::Check));
    let env = b.env.expect("the project's default");
    assert_eq!(env.name, "dev");
    let EnvOrigin::ProjectDefault(at) = env.origin else {
        panic!("chosen by dagf.toml, not {:?}", env.origin);
    };
    assert_eq!(b.sources.text(at), "\"dev\"");

    let mut vars = std::collections::BTreeMap::new();
    vars.insert("DAGF_ENV".to_string(), "prod".to_string());
    let by_var = build(
        &loader,
        &Options {
            env_vars: vars.clone(),
            ..Options::default()
        },
    );
    assert_eq!(
        by_var.env.map(|e| (e.name, e.origin)),
        Some(("prod".into(), EnvOrigin::Variable))
    );
    let by_flag = build(
        &loader,
        &Options {
            env: Some("dev".into()),
            env_vars: vars,
            ..Options::default()
        },
    );
    assert_eq!(by_flag.env.map(|e| e.origin), Some(EnvOrigin::Flag));

    // An unknown environment chosen by dagf.toml is one error, shown where it is chosen,
    // beside the profiles.
    let wrong = loader.with("dagf.toml", &TOML.replace("\"dev\"", "\"dve\""));
    let b = build(&wrong, &options(Goal::Check));
    assert_eq!(b.errors, 1, "{:?}", messages(&b));
    let d = &b.diagnostics[0];
    assert_eq!(d.code.as_str(), "E0405");
    let primary = d.primary.as_ref().expect("a place");
    assert_eq!(b.sources.get(primary.span.file).name, "dagf.toml");
    assert_eq!(b.sources.text(primary.span), "\"dve\"");
    assert_eq!(b.sources.text(d.secondary[0].span), "dev");
    // Chosen by the flag, it has no place in a file: the profiles are the place.
    let b = build(
        &wrong,
        &Options {
            env: Some("qa".into()),
            ..Options::default()
        },
    );
    let d = &b.diagnostics[0];
    assert!(d.message.contains("chosen by `--env`"), "{}", d.message);
    let primary = d.primary.as_ref().expect("a place");
    assert_eq!(b.sources.text(primary.span), "dev");
}

#[test]
fn one_thread_and_two_give_the_same_files() {
    // Enough dags and modules for every parallel loop to split its work.
    let mut loader = project();
    for m in 0..12 {
        let mut text = String::from("import \"../lib.dagf\"\n\n");
        for d in 0..200 {
            text.push_str(&format!("dag d{m}_{d}: ingest(source = \"s{m}_{d}\")\n"));
        }
        loader = loader.with(&format!("src/gen/m{m:02}.dagf"), &text);
    }
    let with = |n: usize, goal: Goal| {
        build(
            &loader,
            &Options {
                goal,
                threads: NonZeroUsize::new(n),
                ..Options::default()
            },
        )
    };
    for goal in [Goal::Files, Goal::Python] {
        let one = with(1, goal);
        let two = with(2, goal);
        assert!(one.ok(), "{:?}", messages(&one));
        assert_eq!(one.files.len(), 3 + 12 * 200);
        assert_eq!(files(&one), files(&two));
        assert_eq!(one.stamp, two.stamp);
    }
    let one = with(1, Goal::Ir).ir.expect("IR");
    let two = with(2, Goal::Ir).ir.expect("IR");
    assert_eq!(dagf_ir::pretty(&one), dagf_ir::pretty(&two));
}

#[test]
fn the_stamp_is_stable_and_follows_what_changes_the_files() {
    let loader = project();
    let stamp = |l: &MemoryLoader, o: &Options| build(l, o).stamp.expect("a stamp");
    let files = options(Goal::Files);
    let first = stamp(&loader, &files);
    assert_eq!(first, stamp(&loader, &files));
    assert_eq!(
        first,
        Session::new()
            .build(&loader, &files)
            .stamp
            .expect("a stamp")
    );
    assert_eq!(first.key.len(), 16);
    let inputs: Vec<&str> = first.inputs.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        inputs,
        ["src/lib.dagf", "src/main.dagf", "src/more/other.dagf"]
    );
    // Options that change the files change the key; an edit changes the inputs.
    let o0 = Options {
        opt_level: 0,
        ..options(Goal::Files)
    };
    assert_ne!(first.key, stamp(&loader, &o0).key);
    let prod = Options {
        env: Some("prod".into()),
        ..options(Goal::Files)
    };
    assert_ne!(first.key, stamp(&loader, &prod).key);
    let edited = project().with(
        "src/main.dagf",
        "import \"lib.dagf\"\n\ndag crm: ingest(source = \"crm\")\n",
    );
    let after = stamp(&edited, &files);
    assert_eq!(first.key, after.key);
    assert_ne!(first.inputs, after.inputs);
    // A project that reads the environment has none: it is always built again.
    let reads = project().with("src/env.dagf", "let who = getenv(\"USER\", \"nobody\")\n");
    let b = build(&reads, &files);
    assert!(b.ok(), "{:?}", messages(&b));
    assert!(b.stamp.is_none());
}

#[test]
fn a_second_build_parses_only_the_edited_file() {
    let base = project();
    let session = Session::new();
    let first = session.build(&base, &options(Goal::Files));
    assert!(first.ok());
    // The standard library and the three files.
    assert_eq!(session.parses(), 4);
    let mut overlay = Overlay::new(&base);
    overlay.edit(
        "src/main.dagf",
        "import \"lib.dagf\"\n\ndag crm: ingest(source = \"crm\")\ndag sales: ingest(source = \"sales\")\n",
    );
    let again = session.build(&overlay, &options(Goal::Files));
    assert_eq!(session.parses(), 5, "only the edited file is parsed again");
    let fresh = build(&overlay, &options(Goal::Files));
    assert_eq!(files(&again), files(&fresh));
    assert_eq!(again.stamp, fresh.stamp);
    assert_eq!(messages(&again), messages(&fresh));
    // Nothing changed: nothing is parsed.
    let same = session.build(&overlay, &options(Goal::Files));
    assert_eq!(session.parses(), 5);
    assert_eq!(files(&same), files(&fresh));
}
