//! The views on hand-made and random DAGs: the layout keeps every box apart, every
//! edge pointing right and every task inside its groups' boxes; the SVG and HTML are
//! well-formed XML with a box per task and hostile text escaped; DOT and Mermaid name
//! every task, group and edge once.

use dagf_diag::{FileId, Span};
use dagf_ir::{Dag, Field, Group, OpClass, Task, Value};
use dagf_view::{Placed, dot, html, layout, mermaid, svg};
use petgraph::graph::NodeIndex;
use proptest::prelude::*;
use std::sync::Arc;

fn span() -> Span {
    Span::new(FileId(0), 0, 0)
}

fn op(name: &str) -> Arc<OpClass> {
    Arc::new(OpClass {
        name: name.to_string(),
        module: "m".to_string(),
        class: format!("{name}Operator"),
        ..Default::default()
    })
}

/// A dag of `n` tasks: task `i` in group `groups_of[i]` (an index into `groups`,
/// given as (name, parent)), with these edges (by index, from lower to higher).
fn dag(
    n: usize,
    groups: &[(&str, Option<usize>)],
    group_of: &[Option<usize>],
    edges: &[(usize, usize)],
) -> Dag {
    let mut d = Dag::new("d", "main.dagf", span());
    for (g, (name, parent)) in groups.iter().enumerate() {
        d.groups.push(Group {
            group_id: name.to_string(),
            parent: *parent,
            tooltip: None,
            order: g,
            mapped: None,
            span: span(),
        });
    }
    let path = |mut g: Option<usize>| {
        let mut parts = Vec::new();
        while let Some(i) = g {
            parts.push(groups[i].0.to_string());
            g = groups[i].1;
        }
        parts.reverse();
        parts
    };
    for i in 0..n {
        let local = format!("task_{i}");
        let mut parts = path(group_of[i]);
        parts.push(local.clone());
        d.graph.add_node(Task {
            task_id: parts.join("."),
            local_id: local,
            group: group_of[i],
            op: op(["bash", "python", "empty"][i % 3]),
            args: vec![Field {
                name: "bash_command".into(),
                value: Value::Str(format!("echo {i}")),
                origin: span(),
                provenance: Vec::new(),
            }],
            role: Default::default(),
            mapped: None,
            span: span(),
        });
    }
    for &(a, b) in edges {
        d.graph
            .add_edge(NodeIndex::new(a), NodeIndex::new(b), span());
    }
    d
}

fn apart(a: Placed, b: Placed) -> bool {
    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y
}

fn inside(inner: Placed, outer: Placed) -> bool {
    inner.x >= outer.x
        && inner.y >= outer.y
        && inner.x + inner.w <= outer.x + outer.w
        && inner.y + inner.h <= outer.y + outer.h
}

/// Whether group `g` is `outer` or nested in it.
fn within(d: &Dag, mut g: Option<usize>, outer: usize) -> bool {
    for _ in 0..=d.groups.len() {
        match g {
            Some(x) if x == outer => return true,
            Some(x) => g = d.groups[x].parent,
            None => return false,
        }
    }
    false
}

fn check_layout(d: &Dag) {
    let l = layout(d);
    let n = d.graph.node_count();
    assert_eq!(l.nodes.len(), n);
    for i in 0..n {
        let p = l.nodes[i];
        assert!(p.x >= 0.0 && p.y >= 0.0 && p.x + p.w <= l.width && p.y + p.h <= l.height);
        for j in i + 1..n {
            assert!(
                apart(p, l.nodes[j]),
                "tasks {i} and {j} overlap: {p:?} {:?}",
                l.nodes[j]
            );
        }
        // A task is inside the box of each group it is in, and outside every other.
        for g in 0..d.groups.len() {
            if within(d, d.task(i).group, g) {
                assert!(inside(p, l.groups[g]), "task {i} outside its group {g}");
            } else {
                assert!(
                    apart(p, l.groups[g]),
                    "task {i} inside group {g}, not its own"
                );
            }
        }
    }
    for &(a, b) in &l.edges {
        assert!(
            l.nodes[a].x + l.nodes[a].w < l.nodes[b].x,
            "edge {a} -> {b} does not point right"
        );
    }
    // Group boxes nest as the groups do and siblings never overlap.
    for g in 0..d.groups.len() {
        if let Some(p) = d.groups[g].parent {
            assert!(
                inside(l.groups[g], l.groups[p]),
                "group {g} outside its parent"
            );
        }
        for h in g + 1..d.groups.len() {
            if !within(d, Some(g), h) && !within(d, Some(h), g) {
                assert!(
                    apart(l.groups[g], l.groups[h]),
                    "groups {g} and {h} overlap"
                );
            }
        }
    }
}

#[test]
fn a_fan_out_into_two_groups_and_back_is_laid_out_cleanly() {
    // load >> [a.x, a.y, b.x] ; a.x, a.y >> a.r ; a.r, b.x >> publish
    let d = dag(
        6,
        &[("a", None), ("b", None)],
        &[None, Some(0), Some(0), Some(0), Some(1), None],
        &[(0, 1), (0, 2), (0, 4), (1, 3), (2, 3), (3, 5), (4, 5)],
    );
    check_layout(&d);
    let l = layout(&d);
    // The tasks outside the groups sit level with what they connect, not at the top.
    assert!(l.nodes[0].y > l.groups[0].y);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_dags_keep_every_layout_promise(
        n in 1usize..30,
        parents in proptest::collection::vec(proptest::option::of(0usize..8), 0..6),
        member in proptest::collection::vec(proptest::option::of(0usize..6), 30),
        edges in proptest::collection::vec((0usize..30, 0usize..30), 0..60),
    ) {
        // Group g's parent must be an earlier group, so nesting has no cycle.
        let groups: Vec<(&str, Option<usize>)> = parents
            .iter()
            .enumerate()
            .map(|(g, p)| (["g0", "g1", "g2", "g3", "g4", "g5"][g], p.filter(|&p| p < g)))
            .collect();
        let group_of: Vec<Option<usize>> =
            member[..n].iter().map(|m| m.filter(|&g| g < groups.len())).collect();
        let edges: Vec<(usize, usize)> = edges
            .into_iter()
            .map(|(a, b)| (a % n, b % n))
            .filter(|(a, b)| a < b)
            .collect();
        check_layout(&dag(n, &groups, &group_of, &edges));
    }
}

#[test]
fn svg_and_html_are_well_formed_and_escape_what_they_show() {
    let mut d = dag(
        3,
        &[("stage", None)],
        &[None, Some(0), None],
        &[(0, 1), (1, 2)],
    );
    d.groups[0].tooltip = Some("</title><script>alert(1)</script> & \"more\"".into());
    d.graph[NodeIndex::new(1)].args[0].value = Value::Str("echo '<b>' && exit 0".into());
    let picture = svg(&d);
    let doc = roxmltree::Document::parse(&picture).expect("the SVG is well-formed XML");
    let tasks = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("task"))
        .count();
    let groups = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("group"))
        .count();
    assert_eq!((tasks, groups), (3, 1));
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
    let tooltip = doc
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text())
        .find(|t| t.contains("alert"))
        .expect("the group's tooltip");
    assert!(tooltip.contains("<script>alert(1)</script> & \"more\""));
    let arrows = doc
        .descendants()
        .filter(|n| n.attribute("marker-end").is_some())
        .count();
    assert_eq!(arrows, 2);

    let page = html(&d);
    assert!(page.starts_with("<!doctype html>"));
    let body = page.trim_start_matches("<!doctype html>\n");
    // Written so that an XML parser reads it too.
    let doc = roxmltree::Document::parse(body).expect("the page is well-formed");
    let rows = doc.descendants().filter(|n| n.has_tag_name("tr")).count();
    assert_eq!(rows, 4, "a header row and a row per task");
    assert!(!doc.descendants().any(|n| n.has_tag_name("script")));
}

#[test]
fn dot_and_mermaid_name_every_task_group_and_edge_once() {
    let d = dag(
        4,
        &[("outer", None), ("inner", Some(0))],
        &[None, Some(0), Some(1), None],
        &[(0, 1), (1, 2), (2, 3), (0, 3)],
    );
    let text = dot(&d);
    assert!(text.starts_with("digraph \"d\" {"));
    assert_eq!(text.matches(" -> ").count(), 4);
    assert_eq!(text.matches("subgraph \"cluster_").count(), 2);
    assert_eq!(text.matches('{').count(), text.matches('}').count());
    for id in ["task_0", "outer.task_1", "outer.inner.task_2", "task_3"] {
        assert!(
            text.contains(&format!("\"{id}\" [label=")),
            "{id} in\n{text}"
        );
    }
    // `inner` is written inside `outer`.
    let (o, i) = (
        text.find("cluster_0").expect("outer"),
        text.find("cluster_1").expect("inner"),
    );
    assert!(o < i);

    let m = mermaid(&d);
    assert!(m.starts_with("flowchart LR\n"));
    assert_eq!(m.matches(" --> ").count(), 4);
    assert_eq!(m.matches("subgraph ").count(), 2);
    assert_eq!(m.lines().filter(|l| l.trim() == "end").count(), 2);
    for t in 0..4 {
        assert_eq!(m.matches(&format!("    t{t}[")).count(), 1);
    }
}

#[test]
fn a_mapped_group_is_marked_in_every_drawing() {
    let mut d = dag(
        3,
        &[("plain", None), ("tables", None)],
        &[Some(0), Some(1), None],
        &[(0, 1), (1, 2)],
    );
    d.groups[1].mapped = Some(dagf_ir::Mapped::Expand(vec![Field {
        name: "table".into(),
        value: Value::List(vec![Value::Str("orders".into())]),
        origin: span(),
        provenance: Vec::new(),
    }]));
    for (what, text) in [("dot", dot(&d)), ("mermaid", mermaid(&d)), ("svg", svg(&d))] {
        assert_eq!(
            text.matches("tables · mapped").count(),
            1,
            "{what}:\n{text}"
        );
        assert!(!text.contains("plain · mapped"), "{what}:\n{text}");
    }
}
