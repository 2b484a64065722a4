//! Large projects are evaluated on several threads, module by module. These tests
//! make projects large enough for that and check that the result is the one a single
//! thread gives: every dag in declaration order, each mistake said once, and duplicate
//! ids found across the threads' shares.

mod common;

use common::Memory;
use dagf_sema::{Options, check};
use std::collections::HashMap;

/// A factory in `lib.dagf` (its body given), and `modules` files of 100 dags each.
fn project(factory_body: &str, modules: usize) -> (Vec<String>, Memory) {
    let mut files = HashMap::new();
    files.insert(
        "lib.dagf".to_string(),
        format!("factory job(n: int) {{\n    start = 2024-01-01\n{factory_body}\n}}\n"),
    );
    let mut roots = vec!["lib.dagf".to_string()];
    for m in 0..modules {
        let name = format!("m{m:02}.dagf");
        let mut text = String::from("import \"lib.dagf\"\n");
        for i in 0..100 {
            text.push_str(&format!("dag d_{m:02}_{i:03}: job(n = {i})\n"));
        }
        files.insert(name.clone(), text);
        roots.push(name);
    }
    (roots, Memory(files))
}

#[test]
fn every_dag_in_declaration_order() {
    let (roots, loader) = project("    task t: bash { bash_command = \"echo ${n}\" }", 30);
    let checked = check(&roots, &loader, &Options::default());
    assert!(!checked.diagnostics.has_errors());
    let ids: Vec<String> = checked
        .project
        .expect("a project")
        .dags
        .into_iter()
        .map(|d| d.dag_id)
        .collect();
    let want: Vec<String> = (0..30)
        .flat_map(|m| (0..100).map(move |i| format!("d_{m:02}_{i:03}")))
        .collect();
    assert_eq!(ids, want);
}

#[test]
fn a_factory_mistake_is_said_once_and_duplicates_are_found_across_shares() {
    let (roots, mut loader) = project("    task t: bash { bash_comand = \"echo\" }", 30);
    // The same id in the first module and the last.
    let last = loader.0.get_mut("m29.dagf").expect("m29");
    last.push_str("dag d_00_000: job(n = 1)\n");
    let checked = check(&roots, &loader, &Options::default());
    let codes: Vec<&str> = checked
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "E0203").count(),
        1,
        "the misspelt field is one mistake: {codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| **c == "E0310").count(),
        1,
        "{codes:?}"
    );
    assert!(checked.project.is_none());
}
