//! Long chains cost in proportion to their length: a chain of `extends`, of templates
//! or of `+=` is run once, not once per link. The evaluator counts its steps and stops
//! at 20 million (E0210), so a chain whose links each re-ran the links below it would
//! end in E0210 here instead of compiling; the time bounds are generous backstops.

mod common;

use common::Memory;
use dagf_ir::Value as I;
use dagf_sema::{Checked, Options, check};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Long enough that running each chain once per link (about N * N / 2 bodies of four
/// statements) is past the step limit many times over.
const LINKS: usize = 10_000;

fn check_text(text: String) -> (Checked, Duration) {
    let files: HashMap<String, String> = [("main.dagf".to_string(), text)].into_iter().collect();
    let started = Instant::now();
    let checked = check(
        &["main.dagf".to_string()],
        &Memory(files),
        &Options::default(),
    );
    (checked, started.elapsed())
}

fn error_codes(checked: &Checked) -> Vec<&'static str> {
    checked
        .diagnostics
        .iter()
        .filter(|d| d.severity() == dagf_diag::Severity::Error)
        .map(|d| d.code.as_str())
        .collect()
}

/// `factory f1 extends f0 ... factory fN extends fN-1`, each adding a task after its
/// parent's and a tag, in the order given.
fn chain(order: impl Iterator<Item = usize>) -> String {
    order
        .map(|i| match i {
            0 => "factory f0(name: str) {\n    start = 2024-01-01\n    tags = [name]\n    task t0: empty\n}\n".to_string(),
            i => format!(
                "factory f{i}(name: str) extends f{p}(name = name) {{\n    tags += [\"t{i}\"]\n    task t{i}: empty\n    t{p} >> t{i}\n}}\n",
                p = i - 1
            ),
        })
        .collect()
}

fn list_of_str(v: &I) -> Vec<&str> {
    match v {
        I::List(items) => items
            .iter()
            .filter_map(|x| match x {
                I::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn a_long_extends_chain_runs_each_body_once() {
    let text = chain(0..LINKS) + &format!("dag d: f{}(name = \"x\")\n", LINKS - 1);
    let (checked, took) = check_text(text);
    eprintln!("{LINKS} factories and a dag: {took:?}");
    assert_eq!(error_codes(&checked), Vec::<&str>::new());
    let project = checked.project.expect("no errors, so a project");
    let [dag] = project.dags.as_slice() else {
        panic!("one dag, not {}", project.dags.len());
    };
    assert_eq!(dag.graph.node_count(), LINKS);
    assert_eq!(dag.graph.edge_count(), LINKS - 1);
    let tags = dag
        .args
        .iter()
        .find(|f| f.name == "tags")
        .expect("tags are set");
    let tags = list_of_str(&tags.value);
    assert_eq!(tags.len(), LINKS);
    assert_eq!(
        (tags[0], tags[LINKS - 1]),
        ("x", &*format!("t{}", LINKS - 1))
    );
    // Every layer that added a tag is in its provenance, in order.
    assert_eq!(
        dag.args
            .iter()
            .find(|f| f.name == "tags")
            .map(|f| f.provenance.len()),
        Some(LINKS)
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

/// No dag at all: every factory is checked, the deepest one on its own and the others
/// as its layers, whichever order they are declared in.
#[test]
fn an_unused_extends_chain_is_checked_once() {
    for (name, text) in [
        ("parents first", chain(0..LINKS)),
        ("children first", chain((0..LINKS).rev())),
    ] {
        let (checked, took) = check_text(text);
        eprintln!("{name}: {took:?}");
        assert_eq!(error_codes(&checked), Vec::<&str>::new(), "{name}");
        assert!(took < Duration::from_secs(60), "{name} took {took:?}");
    }
}

/// A mistake low in a chain (two factories setting one field differently) is one
/// error, however many factories extend them, and is still found when no dag uses the
/// chain; each factory checked on its own used to say it again.
#[test]
fn a_mistake_low_in_a_chain_is_one_error() {
    let chain = chain(0..6).replacen(
        "    tags += [\"t1\"]\n",
        "    tags += [\"t1\"]\n    start = 2024-06-01\n",
        1,
    );
    for dag in ["dag d: f5(name = \"x\")\n", ""] {
        let (checked, _) = check_text(format!("{chain}{dag}"));
        assert_eq!(error_codes(&checked), vec!["E0212"], "with {dag:?}");
    }
}

/// A concrete factory that is only extended must still declare its ancestors'
/// abstract tasks, even when the factory extending it declares them.
#[test]
fn a_concrete_factory_in_the_middle_of_a_chain_declares_abstract_tasks() {
    let text = "abstract factory base() {\n    start = 2024-01-01\n    task first: empty\n    abstract task sink\n    first >> sink\n}\nfactory middle() extends base() {\n    tags = [\"m\"]\n}\nfactory top() extends middle() {\n    task sink: empty\n}\ndag d: top()\n";
    let (checked, _) = check_text(text.to_string());
    let messages: Vec<&str> = checked
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        ["`middle` does not declare the abstract task `sink` of `base`"]
    );
}

/// A chain of templates, each building on the one before.
#[test]
fn a_long_template_chain_is_applied_once_per_task() {
    let templates: String =
        std::iter::once("template t0: bash { bash_command = \"x\" }\n".to_string())
            .chain((1..LINKS).map(|i| format!("template t{i}: t{} {{ retries = 1 }}\n", i - 1)))
            .collect();
    let last = LINKS - 1;
    for (name, dag) in [
        (
            "used",
            format!(
                "dag d {{\n    start = 2024-01-01\n    task a: t{last}\n    task b: t{last}\n    a >> b\n}}\n"
            ),
        ),
        ("unused", String::new()),
    ] {
        let (checked, took) = check_text(format!("{templates}{dag}"));
        eprintln!("{name}: {took:?}");
        assert_eq!(error_codes(&checked), Vec::<&str>::new(), "{name}");
        assert!(took < Duration::from_secs(60), "{name} took {took:?}");
    }
}

/// `+=` appends in place: 100 000 of them on one list (each item new, and every tenth
/// also one already there, which is dropped) take a moment, where copying the list and
/// its history each time took minutes.
#[test]
fn appending_to_a_list_many_times_is_linear() {
    const APPENDS: usize = 100_000;
    let mut text = String::from("dag d {\n    start = 2024-01-01\n    tags = [\"t0\"]\n");
    for i in 1..APPENDS {
        if i % 10 == 0 {
            text.push_str(&format!("    tags += [\"t{i}\", \"t{}\"]\n", i / 2));
        } else {
            text.push_str(&format!("    tags += [\"t{i}\"]\n"));
        }
    }
    text.push_str("    task a: empty\n}\n");
    let (checked, took) = check_text(text);
    eprintln!("{APPENDS} appends: {took:?}");
    assert_eq!(error_codes(&checked), Vec::<&str>::new());
    let project = checked.project.expect("no errors, so a project");
    let tags = project.dags[0]
        .args
        .iter()
        .find(|f| f.name == "tags")
        .expect("tags are set");
    let want: Vec<String> = (0..APPENDS).map(|i| format!("t{i}")).collect();
    assert_eq!(list_of_str(&tags.value), want);
    assert_eq!(tags.provenance.len(), APPENDS);
    assert!(took < Duration::from_secs(60), "took {took:?}");
}
