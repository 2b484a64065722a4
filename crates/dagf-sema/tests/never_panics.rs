//! The compiler never panics: random token soups, arbitrary text, and random edits of
//! real sources all go through parsing and checking and come out as diagnostics.

mod common;

use common::Memory;
use dagf_sema::{Options, check};
use proptest::prelude::*;
use std::collections::HashMap;

/// Checks `text` as `main.dagf` (beside a small importable library) and returns
/// whether it compiled, after asserting every diagnostic is well formed.
fn run(text: &str) -> bool {
    run_files(&[("main.dagf", text)])
}

/// Checks a project of these files (the first is the root, `lib.dagf` is added),
/// asserting every diagnostic is well formed.
fn run_files(files: &[(&str, &str)]) -> bool {
    let mut files: HashMap<String, String> = files
        .iter()
        .map(|(n, t)| (n.to_string(), t.to_string()))
        .collect();
    files.insert(
        "lib.dagf".to_string(),
        "let shared = 3\nfactory f(n: int = 1) { task t: empty }\n".to_string(),
    );
    let checked = check(
        &["main.dagf".to_string()],
        &Memory(files),
        &Options::default(),
    );
    for d in checked.diagnostics.iter() {
        assert!(!d.message.is_empty());
        if let Some(p) = &d.primary {
            let file = checked.sources.get(p.span.file);
            assert!(
                p.span.end as usize <= file.text.len(),
                "span past the end: {d:?}"
            );
            assert!(
                file.text.is_char_boundary(p.span.start as usize),
                "span inside a character: {d:?}"
            );
        }
    }
    checked.project.is_some()
}

const SEEDS: &[&str] = &[
    include_str!("../../../examples/hello/src/hello.dagf"),
    include_str!("../../../examples/ingest/src/ingest.dagf"),
    include_str!("../../../examples/reports/src/lib/common.dagf"),
    include_str!("../../../examples/reports/src/daily.dagf"),
    include_str!("../../../examples/assets/src/assets.dagf"),
    include_str!("../../../examples/catalog/src/101_05_02_configuration_validation.dagf"),
    include_str!("../src/std/std.dagf"),
];

const TOKENS: &[&str] = &[
    "dag",
    "task",
    "group",
    "factory",
    "operator",
    "sensor",
    "type",
    "asset",
    "import",
    "as",
    "let",
    "for",
    "in",
    "if",
    "else",
    "override",
    "matches",
    "true",
    "false",
    "none",
    "and",
    "or",
    "not",
    "x",
    "y",
    "bash",
    "empty",
    "python",
    "f",
    "shared",
    "lib",
    "schedule",
    "start",
    "tags",
    "default_args",
    "bash_command",
    "retries",
    "=",
    "+=",
    ":",
    ",",
    ";",
    ".",
    "..",
    "..=",
    ">>",
    "<<",
    ">",
    "<",
    ">=",
    "==",
    "+",
    "-",
    "*",
    "/",
    "?",
    "|",
    "&",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "\"s\"",
    "\"${x}\"",
    "\"\"\"\n  a\n  \"\"\"",
    "\"${",
    "}\"",
    "1",
    "0",
    "-1",
    "3.5",
    "5m",
    "1h30m",
    "2024-01-01",
    "2024-02-30",
    "2024-01-01T06:00",
    "@daily",
    "@nope",
    "\"0 6 * * *\"",
    "\"0 99 * * *\"",
    "///doc\n",
    "//c\n",
    "/*",
    "*/",
    "\n",
    "import \"lib.dagf\"",
    "import \"nope.dagf\"",
    "list<str>",
    "map<int>",
    "str?",
    "int in 0..=3",
    "str matches \"[\"",
    "range(3)",
    "len(x)",
    "join(x, \",\")",
    "é",
    "\u{0}",
    "\\",
    "profile dev {",
    "env",
    "source s: list<C> = yaml(\"c.yaml\")",
    "source q: C = sqlite(\"c.db\", \"SELECT 1\", key = \"a\")",
    "source h: C = http(\"http://127.0.0.1:9/x\", cache = 1m)",
    "\"${env}\"",
];

/// Pieces of YAML documents that extend each other.
const DOC_PIECES: &[&str] = &[
    "extends: base.yaml\n",
    "extends: [base.yaml, other.yaml]\n",
    "extends: main.yaml\n",
    "extends: 3\n",
    "override:\n",
    "  name: x\n",
    "  tags: [a]\n",
    "name: y\n",
    "name: [1]\n",
    "tags: [b, c]\n",
    "tags: b\n",
    "args: {k: 1}\n",
    "args:\n  k: 2\n",
    "---\n",
    "- name: z\n",
    "{\n",
    "\"\n",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn token_soup(picks in proptest::collection::vec(0..TOKENS.len(), 0..80)) {
        let text: Vec<&str> = picks.iter().map(|&i| TOKENS[i]).collect();
        run(&text.join(" "));
    }

    #[test]
    fn arbitrary_text(text in "\\PC{0,300}") {
        run(&text);
    }

    #[test]
    fn edited_real_sources(
        seed in 0..SEEDS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..4u8, 0..TOKENS.len()), 1..6),
    ) {
        let mut text = SEEDS[seed].to_string();
        for (at, kind, tok) in edits {
            let mut pos = at.index(text.len() + 1);
            while !text.is_char_boundary(pos) {
                pos -= 1;
            }
            let end = text[pos..].char_indices().nth(1 + tok % 7).map_or(text.len(), |(i, _)| pos + i);
            match kind {
                0 => text.insert_str(pos, TOKENS[tok]),
                1 => text.replace_range(pos..end, ""),
                2 => text.replace_range(pos..end, TOKENS[tok]),
                _ => {
                    let piece = text[pos..end].to_string();
                    text.insert_str(0, &piece);
                }
            }
        }
        run(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() })]

    /// Documents extending each other in every arrangement (cycles, conflicts, bad
    /// values, broken YAML) come out as diagnostics.
    #[test]
    fn documents_that_extend_each_other(
        docs in proptest::collection::vec(proptest::collection::vec(0..DOC_PIECES.len(), 0..8), 3),
    ) {
        let text = |d: &Vec<usize>| d.iter().map(|&i| DOC_PIECES[i]).collect::<String>();
        let (a, b, c) = (text(&docs[0]), text(&docs[1]), text(&docs[2]));
        run_files(&[
            ("main.dagf", "type C = { name: str, tags: list<str> = [], args: { k: int }? }\nsource s: list<C> = yaml(\"main.yaml\")\nfor c in s { dag \"d_${c.name}\" { task t: empty } }\n"),
            ("main.yaml", &a),
            ("base.yaml", &b),
            ("other.yaml", &c),
        ]);
    }
}

#[test]
fn seeds_compile_as_they_are() {
    // Sanity for the mutation test: the unedited seeds are valid (std.dagf too).
    for (i, seed) in SEEDS.iter().enumerate() {
        if seed.contains("import \"") {
            continue;
        }
        assert!(run(seed), "seed {i} does not compile");
    }
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    // Run on a thread with a modest stack, like a test harness or an editor plugin would.
    let worker = std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(|| {
            let deep_list = format!("let x = {}1{}\n", "[".repeat(3000), "]".repeat(3000));
            let deep_neg = format!("let y = {}1\n", "-".repeat(3000));
            let long_sum = format!("let z = 1{}\n", " + 1".repeat(20000));
            let deep_blocks = format!("{}{}", "for i in [1] { ".repeat(500), "}".repeat(500));
            for (name, text) in [
                ("list", deep_list),
                ("neg", deep_neg),
                ("sum", long_sum),
                ("blocks", deep_blocks),
            ] {
                let files: HashMap<String, String> =
                    [("main.dagf".to_string(), text)].into_iter().collect();
                let checked = check(
                    &["main.dagf".to_string()],
                    &Memory(files),
                    &Options::default(),
                );
                let codes: Vec<_> = checked
                    .diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect();
                assert_eq!(codes, ["E0210"], "{name}");
            }
        });
    assert!(
        worker.expect("spawn").join().is_ok(),
        "deeply nested input crashed the compiler"
    );
}

/// Very large inputs finish in bounded time (and memory): 10 MB of `[` stops at the
/// nesting limit without lexing the rest, a string of 1 MB is one token, 100 000
/// statements parse in one pass, and a mistake among 50 000 or 100 000 statements is
/// repaired or reported without parsing the file over and over.
#[test]
fn large_inputs_finish_in_bounded_time() {
    let lets = |n: usize| -> String {
        (0..n)
            .map(|i| format!("let v{i} = {i}\n"))
            .collect::<String>()
    };
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("brackets", "[".repeat(10 << 20), &["E0210"]),
        (
            "string",
            format!(
                "let s = \"{}\"\ndag d {{\n    description = s\n    task t: empty\n}}\n",
                "x".repeat(1 << 20)
            ),
            &[],
        ),
        ("statements", lets(100_000), &[]),
        (
            "mistake in 50k",
            format!("let a = )\n{}", lets(50_000)),
            &["E0001"],
        ),
        (
            "mistake after 45k",
            format!("{}let c = (1\n", lets(45_000)),
            &["E0001"],
        ),
        (
            "mistake in 100k",
            format!("{}let b = = 1\n", lets(100_000)),
            &["E0001"],
        ),
    ];
    for (name, text, want) in cases {
        let started = std::time::Instant::now();
        let files: HashMap<String, String> =
            [("main.dagf".to_string(), text)].into_iter().collect();
        let checked = check(
            &["main.dagf".to_string()],
            &Memory(files),
            &Options::default(),
        );
        let took = started.elapsed();
        let codes: Vec<&str> = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == dagf_diag::Severity::Error)
            .map(|d| d.code.as_str())
            .collect();
        eprintln!("{name}: {took:?}, {codes:?}");
        assert_eq!(codes, want, "{name}");
        assert!(
            took < std::time::Duration::from_secs(60),
            "{name} took {took:?}"
        );
    }
}
