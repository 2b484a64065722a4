//! Where each name use is defined, as a language server reads it: a project in memory,
//! and every expected place found in its text.

use dagf_diag::{FileId, Span};
use dagf_driver::{Build, DefKind, Goal, MemoryLoader, Options, Reference, build};

const TOML: &str = "[project]\nname = \"refs\"\nsrc = [\"src\"]\n";

const LIB: &str = r#"
type Target = { schema: str, table: str }

let owner = "data"

mixin alerting(channel: str) {
    tags += [channel]
}

template loader(dest: Target): bash {
    bash_command = "load ${dest.table}"
}

factory etl(source: str, retries: int = 2) with alerting(channel = "ops") {
    schedule = @daily
    start = 2024-01-01
    tags += [owner, source]
    default_args { retries = retries }
    task extract: loader(dest = { schema = "raw", table = source })
    task done: empty
    extract >> done
}
"#;

const MAIN: &str = r#"import "lib.dagf"

dag crm: etl(source = "crm")
"#;

const OTHER: &str = r#"import "lib.dagf" as lib

dag hr: lib.etl(source = "hr", retries = 3)
"#;

fn project() -> MemoryLoader {
    MemoryLoader::new()
        .with("dagf.toml", TOML)
        .with("src/lib.dagf", LIB)
        .with("src/main.dagf", MAIN)
        .with("src/other.dagf", OTHER)
}

fn with_references() -> Options {
    Options {
        goal: Goal::Check,
        references: true,
        ..Options::default()
    }
}

fn file(b: &Build, name: &str) -> FileId {
    b.sources.find(name).expect("the file is in the source map")
}

/// The byte offset of the `nth` occurrence (from 0) of `needle` in `text`, plus `skip`.
fn offset(text: &str, needle: &str, nth: usize, skip: usize) -> usize {
    let mut from = 0;
    for _ in 0..nth {
        from += text[from..].find(needle).expect("occurs often enough") + needle.len();
    }
    from + text[from..].find(needle).expect("occurs") + skip
}

/// The span of the `nth` occurrence of `name` in `file`'s text.
fn span_of(b: &Build, file: FileId, name: &str, nth: usize) -> Span {
    let start = offset(&b.sources.get(file).text, name, nth, 0);
    Span::new(file, start, start + name.len())
}

/// Checks that the use of `name` (its `nth` occurrence in `from`) is defined at the
/// `def_nth` occurrence of `def_name` in `to`, as a `kind`; returns the reference.
#[allow(clippy::too_many_arguments)]
fn check<'b>(
    b: &'b Build,
    (from, name, nth): (&str, &str, usize),
    (to, def_name, def_nth): (&str, &str, usize),
    kind: DefKind,
) -> &'b Reference {
    let (from, to) = (file(b, from), file(b, to));
    let use_span = span_of(b, from, name, nth);
    // Anywhere in the name, its end included.
    for at in [use_span.start, use_span.end - 1, use_span.end] {
        let r = b
            .definition_at(from, at as usize)
            .unwrap_or_else(|| panic!("no reference for `{name}` at {at}"));
        assert_eq!(r.at, use_span, "`{name}`");
        assert_eq!(r.def, span_of(b, to, def_name, def_nth), "`{name}`: {r:?}");
        assert_eq!(r.kind, kind, "`{name}`: {r:?}");
    }
    b.definition_at(from, use_span.start as usize)
        .expect("found above")
}

#[test]
fn every_kind_of_use_leads_to_its_definition() {
    let b = build(&project(), &with_references());
    assert!(b.ok(), "{:?}", b.diagnostics);
    let lib = "src/lib.dagf";

    // A factory, through an unqualified import, with its signature for hover.
    let r = check(
        &b,
        ("src/main.dagf", "etl", 0),
        (lib, "etl", 0),
        DefKind::Factory,
    );
    assert_eq!(&*r.detail, "factory etl(source: str, retries: int = 2)");
    assert!(!r.std);
    // A named argument is the factory's parameter.
    let r = check(
        &b,
        ("src/main.dagf", "source", 0),
        (lib, "source", 0),
        DefKind::Param,
    );
    assert_eq!(&*r.detail, "param source: str (of factory etl)");
    // An import alias, and a name read through it, in another file.
    let r = check(
        &b,
        ("src/other.dagf", "lib", 2),
        ("src/other.dagf", "lib", 1),
        DefKind::Module,
    );
    assert_eq!(&*r.detail, "import \"lib.dagf\" as lib");
    check(
        &b,
        ("src/other.dagf", "etl", 0),
        (lib, "etl", 0),
        DefKind::Factory,
    );
    check(
        &b,
        ("src/other.dagf", "retries", 0),
        (lib, "retries", 0),
        DefKind::Param,
    );
    // A mixin and its parameter, a template, a type, a top-level let.
    check(
        &b,
        (lib, "alerting", 1),
        (lib, "alerting", 0),
        DefKind::Mixin,
    );
    check(&b, (lib, "channel", 2), (lib, "channel", 0), DefKind::Param);
    let r = check(
        &b,
        (lib, "loader", 1),
        (lib, "loader", 0),
        DefKind::Template,
    );
    assert_eq!(&*r.detail, "template loader(dest: Target): bash");
    let r = check(&b, (lib, "Target", 1), (lib, "Target", 0), DefKind::Type);
    assert_eq!(
        &*r.detail, "type Target = { schema: str, table: str }",
        "{r:?}"
    );
    let r = check(&b, (lib, "owner", 1), (lib, "owner", 0), DefKind::Const);
    assert_eq!(&*r.detail, "let owner = \"data\"");
    // A parameter used in a body, and one used inside a string.
    check(&b, (lib, "source", 1), (lib, "source", 0), DefKind::Param);
    check(&b, (lib, "source", 2), (lib, "source", 0), DefKind::Param);
    check(&b, (lib, "dest", 1), (lib, "dest", 0), DefKind::Param);
    check(&b, (lib, "dest", 2), (lib, "dest", 0), DefKind::Param);
    check(&b, (lib, "channel", 1), (lib, "channel", 0), DefKind::Param);
    check(&b, (lib, "retries", 2), (lib, "retries", 0), DefKind::Param);
    // Tasks named by `>>`.
    let r = check(&b, (lib, "extract", 1), (lib, "extract", 0), DefKind::Task);
    assert_eq!(
        &*r.detail,
        "task extract: loader(dest = { schema = \"raw\", table = source })"
    );
    check(&b, (lib, "done", 1), (lib, "done", 0), DefKind::Task);

    // Standard library items: an operator, and the fields dags and tasks set.
    let std = b
        .sources
        .find("<std>/std.dagf")
        .expect("the standard library is in the source map");
    for (name, nth, kind) in [
        ("bash", 0, DefKind::Operator),
        ("empty", 0, DefKind::Operator),
        ("schedule", 0, DefKind::Field),
        ("bash_command", 0, DefKind::Field),
    ] {
        let use_at = span_of(&b, file(&b, lib), name, nth);
        let r = b
            .definition_at(use_at.file, use_at.start as usize)
            .unwrap_or_else(|| panic!("no reference for `{name}`"));
        assert_eq!((r.at, r.kind, r.std), (use_at, kind, true), "{name}: {r:?}");
        assert_eq!(r.def.file, std, "{name}");
        assert_eq!(b.sources.text(r.def), name, "{name}");
    }
    let bash = b
        .definition_at(file(&b, lib), offset(LIB, "bash", 0, 0))
        .expect("bash");
    assert!(
        bash.detail.starts_with("operator bash = \"airflow."),
        "{bash:?}"
    );

    // No reference between names, nor in a string's text.
    let main = file(&b, "src/main.dagf");
    assert!(
        b.definition_at(main, offset(MAIN, "dag crm", 0, 0))
            .is_none()
    );
    assert!(
        b.definition_at(main, offset(MAIN, "\"crm\"", 0, 1))
            .is_none()
    );

    // The reverse: every use of `etl`'s parameter `source`, in order.
    let source_def = span_of(&b, file(&b, lib), "source", 0);
    let uses: Vec<Span> = b.references_to(source_def).map(|r| r.at).collect();
    let mut expected = vec![
        span_of(&b, file(&b, lib), "source", 1),
        span_of(&b, file(&b, lib), "source", 2),
        span_of(&b, main, "source", 0),
        span_of(&b, file(&b, "src/other.dagf"), "source", 0),
    ];
    expected.sort();
    assert_eq!(uses, expected);

    // Sorted by place, one per use.
    assert!(b.references.windows(2).all(|w| w[0].at < w[1].at));
}

#[test]
fn references_are_kept_only_when_asked_for() {
    let b = build(&project(), &Options::default());
    assert!(b.ok(), "{:?}", b.diagnostics);
    assert!(b.references.is_empty());
    let main = file(&b, "src/main.dagf");
    assert!(b.definition_at(main, offset(MAIN, "etl", 0, 0)).is_none());
    let files = build(
        &project(),
        &Options {
            goal: Goal::Files,
            ..Options::default()
        },
    );
    assert!(files.ok() && files.references.is_empty());
}

#[test]
fn a_file_with_an_error_keeps_the_names_that_resolved() {
    // An unknown name in one dag, a misspelt field in another: the uses around them
    // still resolve.
    let broken = r#"import "lib.dagf"

dag crm: etl(source = "crm") {
    tags += [nobody]
}
dag erp: etl(source = "erp") {
    descripton = "a typo"
}
"#;
    let loader = project().with("src/main.dagf", broken);
    let b = build(&loader, &with_references());
    assert_eq!(b.errors, 2, "{:?}", b.diagnostics);
    let main = file(&b, "src/main.dagf");
    for nth in 0..2 {
        let at = offset(broken, "etl", nth, 0);
        let r = b.definition_at(main, at).expect("etl resolves");
        assert_eq!(r.kind, DefKind::Factory);
        assert_eq!(r.def, span_of(&b, file(&b, "src/lib.dagf"), "etl", 0));
    }
    assert!(
        b.definition_at(main, offset(broken, "nobody", 0, 0))
            .is_none()
    );
    // The body of the factory, evaluated for each dag, resolves as before.
    let lib = file(&b, "src/lib.dagf");
    let r = b
        .definition_at(lib, offset(LIB, "owner", 1, 0))
        .expect("owner resolves");
    assert_eq!(r.kind, DefKind::Const);
}

#[test]
fn tenants_assets_and_names_bound_in_bodies() {
    let text = r#"asset usage = "s3://bucket/usage"

tenant Customer {
    tier: "gold" | "silver"
    naming = "${tenant}__${dag}"
    policy {
        tags += ["tier_${tier}"]
    }
}

Customer acme { tier = "gold" }

factory pipeline(tables: list<str>) {
    schedule = @daily
    start = 2024-01-01
    let prefix = "load"
    for t in tables {
        task "${prefix}_${t}": bash {
            bash_command = "echo ${t}"
            outlets = [usage]
        }
    }
    tags = [for x in tables: "t_${x}"]
}

dag p: pipeline(tables = ["a"]) in acme
"#;
    let loader = MemoryLoader::new()
        .with("dagf.toml", TOML)
        .with("src/main.dagf", text);
    let b = build(&loader, &with_references());
    assert!(b.ok(), "{:?}", b.diagnostics);
    let main = file(&b, "src/main.dagf");
    // (the use: text before it and its name; the definition: likewise; the kind)
    let cases = [
        (
            ("Customer acme", "Customer"),
            ("tenant Customer", "Customer"),
            DefKind::TenantKind,
        ),
        (
            ("in acme", "acme"),
            ("Customer acme", "acme"),
            DefKind::Tenant,
        ),
        (("${tier}", "tier"), ("    tier:", "tier"), DefKind::Field),
        (
            ("${prefix}", "prefix"),
            ("let prefix", "prefix"),
            DefKind::Let,
        ),
        (("_${t}", "t"), ("for t", "t"), DefKind::LoopVar),
        (("echo ${t}", "t"), ("for t", "t"), DefKind::LoopVar),
        (
            ("in tables {", "tables"),
            ("pipeline(tables", "tables"),
            DefKind::Param,
        ),
        (("${x}", "x"), ("for x", "x"), DefKind::LoopVar),
        (
            ("[usage]", "usage"),
            ("asset usage", "usage"),
            DefKind::Asset,
        ),
    ];
    let place = |(context, name): (&str, &str)| {
        let start = offset(text, context, 0, 0) + context.find(name).expect("in context");
        Span::new(main, start, start + name.len())
    };
    for (used, defined, kind) in cases {
        let (at, def) = (place(used), place(defined));
        let r = b
            .definition_at(main, at.start as usize)
            .unwrap_or_else(|| panic!("no reference at {used:?}"));
        assert_eq!((r.at, r.def, r.kind), (at, def, kind), "{used:?}: {r:?}");
    }
    let r = b
        .definition_at(main, place(("${prefix}", "prefix")).start as usize)
        .expect("found above");
    assert_eq!(&*r.detail, "let prefix = \"load\"");
    let r = b
        .definition_at(main, place(("_${t}", "t")).start as usize)
        .expect("found above");
    assert_eq!(&*r.detail, "for t in tables");
}
