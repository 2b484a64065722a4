//! The optimiser passes on hand-made DAGs: each reason `reduce_edges` keeps an edge
//! implied by others, and what `hoist_default_args` moves and what it leaves.

use dagf_diag::{FileId, Span};
use dagf_ir::passes::{hoist_default_args, reduce_edges};
use dagf_ir::{Behaviour, Dag, Field, OpClass, Task, Value};
use std::sync::Arc;

fn span() -> Span {
    Span::new(FileId(0), 0, 0)
}

fn field(name: &str, value: Value) -> Field {
    Field {
        name: name.to_string(),
        value,
        origin: span(),
        provenance: Vec::new(),
    }
}

fn op(name: &str, behaviour: Behaviour) -> Arc<OpClass> {
    Arc::new(OpClass {
        name: name.to_string(),
        module: "m".to_string(),
        class: name.to_string(),
        behaviour,
    })
}

/// A task of a `plain` operator with these arguments.
fn task(id: &str, args: &[(&str, Value)]) -> Task {
    task_of(id, op("plain_op", Behaviour::Plain), args)
}

fn task_of(id: &str, op: Arc<OpClass>, args: &[(&str, Value)]) -> Task {
    Task {
        task_id: id.to_string(),
        local_id: id.to_string(),
        group: None,
        op,
        args: args.iter().map(|(n, v)| field(n, v.clone())).collect(),
        role: Default::default(),
        mapped: None,
        span: span(),
    }
}

fn rule(r: &str) -> (&'static str, Value) {
    ("trigger_rule", Value::Str(r.to_string()))
}

/// A DAG of these tasks and edges (by task id).
fn dag(tasks: Vec<Task>, edges: &[(&str, &str)]) -> Dag {
    let mut d = Dag::new("d", "main.dagf", span());
    let ids: Vec<String> = tasks.iter().map(|t| t.task_id.clone()).collect();
    for t in tasks {
        d.graph.add_node(t);
    }
    let index = |id: &str| {
        let i = ids.iter().position(|x| x == id);
        petgraph::graph::NodeIndex::new(i.unwrap_or_else(|| panic!("no task {id}")))
    };
    for (a, b) in edges {
        d.graph.add_edge(index(a), index(b), span());
    }
    d
}

fn plain(ids: &[&str]) -> Vec<Task> {
    ids.iter().map(|id| task(id, &[])).collect()
}

/// The edges left after `reduce_edges`, in order.
fn reduced(mut d: Dag) -> Vec<(String, String)> {
    reduce_edges(&mut d);
    d.graph
        .edge_indices()
        .filter_map(|e| d.graph.edge_endpoints(e))
        .map(|(a, b)| (d.graph[a].task_id.clone(), d.graph[b].task_id.clone()))
        .collect()
}

fn has(edges: &[(String, String)], a: &str, b: &str) -> bool {
    edges.iter().any(|(x, y)| x == a && y == b)
}

const TRIANGLE: &[(&str, &str)] = &[("a", "b"), ("b", "c"), ("a", "c")];

#[test]
fn drops_an_edge_implied_through_all_success_tasks() {
    let edges = reduced(dag(plain(&["a", "b", "c"]), TRIANGLE));
    assert_eq!(
        edges,
        vec![("a".into(), "b".into()), ("b".into(), "c".into())]
    );
}

#[test]
fn drops_duplicates_always() {
    let tasks = vec![
        task_of("a", op("branch", Behaviour::Branching), &[]),
        task("b", &[]),
    ];
    let edges = reduced(dag(tasks, &[("a", "b"), ("a", "b"), ("a", "b")]));
    assert_eq!(edges, vec![("a".into(), "b".into())]);
}

#[test]
fn keeps_edges_out_of_a_branching_or_unknown_operator() {
    for behaviour in [Behaviour::Branching, Behaviour::Unknown] {
        let mut tasks = plain(&["b", "c"]);
        tasks.insert(0, task_of("a", op("x", behaviour), &[]));
        let edges = reduced(dag(tasks, TRIANGLE));
        assert!(has(&edges, "a", "c"), "{behaviour:?}: {edges:?}");
    }
}

#[test]
fn keeps_edges_out_of_a_task_that_waits_for_downstream() {
    let mut tasks = plain(&["b", "c"]);
    tasks.insert(0, task("a", &[("wait_for_downstream", Value::Bool(true))]));
    assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
    // Set in default_args, it holds for every task.
    let mut d = dag(plain(&["a", "b", "c"]), TRIANGLE);
    d.default_args
        .push(field("wait_for_downstream", Value::Bool(true)));
    assert!(has(&reduced(d), "a", "c"));
    // Explicitly off, the edge goes.
    let mut tasks = plain(&["b", "c"]);
    tasks.insert(0, task("a", &[("wait_for_downstream", Value::Bool(false))]));
    assert!(!has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
}

#[test]
fn the_downstream_end_may_wait_for_all_or_fail_on_any() {
    for r in ["all_success", "none_failed", "none_skipped", "all_done"] {
        let tasks = vec![task("a", &[]), task("b", &[]), task("c", &[rule(r)])];
        assert!(!has(&reduced(dag(tasks, TRIANGLE)), "a", "c"), "{r}");
    }
    for r in [
        "one_success",
        "one_failed",
        "one_done",
        "all_failed",
        "all_skipped",
        "none_failed_min_one_success",
        "all_done_min_one_success",
        "all_done_setup_success",
        "always",
        "not_a_rule",
    ] {
        let tasks = vec![task("a", &[]), task("b", &[]), task("c", &[rule(r)])];
        assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"), "{r}");
    }
    // A trigger rule that is not a string is not understood.
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task("c", &[("trigger_rule", Value::Int(1))]),
    ];
    assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
}

#[test]
fn keeps_an_edge_into_a_task_of_unknown_operator() {
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task_of("c", op("custom", Behaviour::Unknown), &[]),
    ];
    assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
    // A branching operator takes its trigger rule as given: it may be the end.
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task_of("c", op("branch", Behaviour::Branching), &[]),
    ];
    assert!(!has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
}

#[test]
fn keeps_the_edge_when_a_task_in_between_is_not_all_success() {
    // The case that changed what runs: `b` runs after `a` fails, `c` then runs too.
    let tasks = vec![
        task("a", &[]),
        task("b", &[rule("all_done")]),
        task("c", &[]),
    ];
    assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
    // Of an unknown operator, its trigger rule may not be what it says.
    let tasks = vec![
        task("a", &[]),
        task_of("b", op("custom", Behaviour::Unknown), &[]),
        task("c", &[]),
    ];
    assert!(has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
    // A branching task in between never runs when `a` does not succeed.
    let tasks = vec![
        task("a", &[]),
        task_of("b", op("branch", Behaviour::Branching), &[]),
        task("c", &[]),
    ];
    assert!(!has(&reduced(dag(tasks, TRIANGLE)), "a", "c"));
}

#[test]
fn trigger_rules_in_default_args_count() {
    let mut d = dag(plain(&["a", "b", "c"]), TRIANGLE);
    d.default_args
        .push(field("trigger_rule", Value::Str("all_done".into())));
    assert!(has(&reduced(d), "a", "c"));
    // A task's own rule wins over default_args: here every task is all_success again.
    let tasks = ["a", "b", "c"]
        .iter()
        .map(|id| task(id, &[rule("all_success")]))
        .collect();
    let mut d = dag(tasks, TRIANGLE);
    d.default_args
        .push(field("trigger_rule", Value::Str("all_done".into())));
    assert!(!has(&reduced(d), "a", "c"));
    // default_args `one_success` on the end only.
    let tasks = vec![
        task("a", &[rule("all_success")]),
        task("b", &[rule("all_success")]),
        task("c", &[]),
    ];
    let mut d = dag(tasks, TRIANGLE);
    d.default_args
        .push(field("trigger_rule", Value::Str("one_success".into())));
    assert!(has(&reduced(d), "a", "c"));
}

#[test]
fn keeps_the_edge_when_another_task_joins_the_end() {
    // `y` skipped while `a` fails: `c` is upstream_failed with the edge and skipped
    // without it (Airflow 3.3 really runs it so).
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("y", "c")];
    assert!(has(
        &reduced(dag(plain(&["a", "b", "c", "y"]), edges)),
        "a",
        "c"
    ));
    // The same when `y` joins a task in between, or comes before `a` and joins
    // through a task of its own.
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("y", "b")];
    assert!(has(
        &reduced(dag(plain(&["y", "a", "b", "c"]), edges)),
        "a",
        "c"
    ));
    let edges = &[("y", "x"), ("a", "b"), ("b", "c"), ("a", "c"), ("x", "b")];
    assert!(has(
        &reduced(dag(plain(&["y", "x", "a", "b", "c"]), edges)),
        "a",
        "c"
    ));
    // Also when `y` comes after `a` in declaration order but does not depend on it.
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("y", "b")];
    assert!(has(
        &reduced(dag(plain(&["a", "y", "b", "c"]), edges)),
        "a",
        "c"
    ));
}

#[test]
fn keeps_the_edge_when_another_task_joins_below_the_end() {
    // `c >> d`, `y >> d`: `d` learns of `a`'s failure a pass later without the edge
    // and may see `y` skipped first.
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("c", "d"), ("y", "d")];
    assert!(has(
        &reduced(dag(plain(&["a", "b", "c", "d", "y"]), edges)),
        "a",
        "c"
    ));
    // Joined by a task that itself hangs below `a`, all is well.
    let edges = &[
        ("a", "b"),
        ("b", "c"),
        ("a", "c"),
        ("c", "d"),
        ("a", "x"),
        ("x", "d"),
    ];
    assert!(!has(
        &reduced(dag(plain(&["a", "b", "c", "d", "x"]), edges)),
        "a",
        "c"
    ));
    // ... unless that task runs when `a` fails.
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task("c", &[]),
        task("d", &[]),
        task("x", &[rule("one_failed")]),
    ];
    assert!(has(&reduced(dag(tasks, edges)), "a", "c"));
}

#[test]
fn keeps_the_edge_when_a_task_below_the_end_is_not_all_success() {
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("c", "d")];
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task("c", &[]),
        task("d", &[rule("none_failed")]),
    ];
    assert!(has(&reduced(dag(tasks, edges)), "a", "c"));
    let tasks = vec![
        task("a", &[]),
        task("b", &[]),
        task("c", &[]),
        task_of("d", op("custom", Behaviour::Unknown), &[]),
    ];
    assert!(has(&reduced(dag(tasks, edges)), "a", "c"));
}

#[test]
fn tasks_beside_the_region_do_not_matter() {
    // An alert on `a`'s failure, and a task after `b` that leads nowhere near `c`.
    let edges = &[
        ("a", "b"),
        ("b", "c"),
        ("a", "c"),
        ("a", "alert"),
        ("b", "side"),
        ("z", "side"),
    ];
    let tasks = vec![
        task("z", &[]),
        task("a", &[]),
        task("b", &[]),
        task("c", &[]),
        task("alert", &[rule("one_failed")]),
        task("side", &[rule("all_done")]),
    ];
    assert!(!has(&reduced(dag(tasks, edges)), "a", "c"));
}

#[test]
fn a_task_upstream_of_the_start_may_lead_into_it() {
    let edges = &[("s", "a"), ("a", "b"), ("b", "c"), ("a", "c")];
    let edges = reduced(dag(plain(&["s", "a", "b", "c"]), edges));
    assert!(!has(&edges, "a", "c"));
    assert!(has(&edges, "s", "a"));
}

#[test]
fn reduces_every_edge_implied_by_a_fan() {
    // start >> [x1..x4] >> end, start >> end, and x1 >> end twice.
    let ids = ["start", "x1", "x2", "x3", "x4", "end"];
    let tasks = plain(&ids);
    let mut edges = vec![("start", "end"), ("x1", "end")];
    for x in &ids[1..5] {
        edges.push(("start", x));
        edges.push((x, "end"));
    }
    let left = reduced(dag(tasks, &edges));
    assert_eq!(left.len(), 8, "{left:?}");
    assert!(!has(&left, "start", "end"));
}

#[test]
fn keeps_edges_past_the_work_budget() {
    // `s` before a chain of n tasks and `s` >> every one of them: each of those edges
    // could go, but deciding one looks at most of the chain, and all of them together
    // at about n * n / 2 edges, far more than the DAG's budget.
    let n = 3_000;
    let ids: Vec<String> = (0..n).map(|i| format!("t{i}")).collect();
    let mut tasks = vec![task("s", &[])];
    tasks.extend(ids.iter().map(|id| task(id, &[])));
    let mut edges: Vec<(&str, &str)> = vec![("s", "t0")];
    for i in 1..n {
        edges.push((ids[i - 1].as_str(), ids[i].as_str()));
        edges.push(("s", ids[i].as_str()));
    }
    let left = reduced(dag(tasks, &edges));
    let from_s = left.iter().filter(|(a, _)| a == "s").count();
    // The first few are decided and go; the rest are kept.
    assert!(has(&left, "s", "t0"));
    assert!(!has(&left, "s", "t1"), "the first edges are decided");
    assert!(has(&left, "s", &ids[n - 1]), "the last edges are kept");
    assert!(from_s > n / 2, "{from_s} edges out of s are left");
}

#[test]
fn leaves_a_cyclic_graph_alone_but_for_duplicates() {
    let edges = &[("a", "b"), ("b", "c"), ("a", "c"), ("c", "a"), ("a", "b")];
    let left = reduced(dag(plain(&["a", "b", "c"]), edges));
    assert_eq!(left.len(), 4);
}

#[test]
fn keeps_the_first_writing_of_each_edge_in_order() {
    let edges = &[("b", "c"), ("a", "b"), ("b", "c"), ("a", "d")];
    let left = reduced(dag(plain(&["a", "b", "c", "d"]), edges));
    let want: Vec<(String, String)> = [("b", "c"), ("a", "b"), ("a", "d")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(left, want);
}

fn common(name: &str) -> bool {
    matches!(
        name,
        "retries" | "owner" | "start_date" | "end_date" | "trigger_rule"
    )
}

fn retries(n: i64) -> (&'static str, Value) {
    ("retries", Value::Int(n))
}

#[test]
fn hoists_an_argument_every_task_sets_alike() {
    let mut d = dag(
        vec![task("a", &[retries(3)]), task("b", &[retries(3)])],
        &[("a", "b")],
    );
    hoist_default_args(&mut d, common);
    assert_eq!(d.default_args.len(), 1);
    assert!(d.tasks().all(|t| t.args.is_empty()));
}

#[test]
fn does_not_hoist_what_differs_or_is_not_common() {
    let mut d = dag(
        vec![
            task("a", &[retries(3), ("bash_command", Value::Str("x".into()))]),
            task("b", &[retries(2), ("bash_command", Value::Str("x".into()))]),
        ],
        &[],
    );
    hoist_default_args(&mut d, common);
    assert!(d.default_args.is_empty());
    // Already in default_args with another value.
    let mut d = dag(
        vec![task("a", &[retries(3)]), task("b", &[retries(3)])],
        &[],
    );
    d.default_args.push(field("retries", Value::Int(1)));
    hoist_default_args(&mut d, common);
    assert_eq!(d.default_args[0].value, Value::Int(1));
    assert!(d.tasks().all(|t| t.args.len() == 1));
}

#[test]
fn does_not_hoist_dates_the_dag_reads_from_default_args() {
    let date = Value::Date(dagf_ir::Date {
        year: 2024,
        month: 1,
        day: 1,
    });
    let mut d = dag(
        vec![
            task(
                "a",
                &[("start_date", date.clone()), ("end_date", date.clone())],
            ),
            task("b", &[("start_date", date.clone()), ("end_date", date)]),
        ],
        &[],
    );
    hoist_default_args(&mut d, common);
    assert!(d.default_args.is_empty());
}

#[test]
fn does_not_hoist_when_an_operator_may_take_arguments_its_own_way() {
    let mut d = dag(
        vec![
            task("a", &[retries(3)]),
            task_of("b", op("custom", Behaviour::Unknown), &[retries(3)]),
        ],
        &[],
    );
    hoist_default_args(&mut d, common);
    assert!(d.default_args.is_empty());
    // A branching operator takes them as given.
    let mut d = dag(
        vec![
            task("a", &[retries(3)]),
            task_of("b", op("branch", Behaviour::Branching), &[retries(3)]),
        ],
        &[],
    );
    hoist_default_args(&mut d, common);
    assert_eq!(d.default_args.len(), 1);
}
