//! A dag's graph as text other tools draw: Graphviz DOT and Mermaid.

use crate::group_tree;
use crate::layout::label;
use dagf_ir::Dag;
use std::fmt::Write;

/// Text inside a DOT double-quoted string.
fn dot_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text inside a Mermaid `["..."]` label: Mermaid has entity codes, not escapes.
fn mermaid_text(text: &str) -> String {
    text.replace('&', "#amp;")
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
}

/// The dag as a Graphviz `digraph`, left to right, each group a `cluster` subgraph
/// (nested as the groups are), each task labelled with its id and operator.
pub fn dot(dag: &Dag) -> String {
    let (kids, tasks) = group_tree(dag);
    let mut s = String::new();
    let _ = writeln!(s, "digraph {} {{", dot_quote(&dag.dag_id));
    s.push_str("    rankdir=LR;\n");
    s.push_str("    node [shape=box, style=\"rounded,filled\", fillcolor=\"#e8f1fb\", fontname=\"Helvetica\", fontsize=11];\n");
    s.push_str("    edge [color=\"#6b7280\"];\n");
    // Depth-first through the groups, with an explicit stack: (slot, depth, opening?).
    let top = dag.groups.len();
    let mut stack: Vec<(usize, usize, bool)> = vec![(top, 0, true)];
    while let Some((slot, depth, opening)) = stack.pop() {
        let pad = "    ".repeat(depth + 1);
        if !opening {
            let _ = writeln!(s, "{}}}", "    ".repeat(depth));
            continue;
        }
        if slot < top {
            let _ = writeln!(
                s,
                "{}subgraph {} {{",
                "    ".repeat(depth),
                dot_quote(&format!("cluster_{slot}"))
            );
            let _ = writeln!(
                s,
                "{pad}label={}; style=\"rounded,dashed\"; color=\"#9aa3ad\";",
                dot_quote(&crate::group_label(&dag.groups[slot]))
            );
            stack.push((slot, depth, false));
        }
        for &t in &tasks[slot] {
            let task = dag.task(t);
            let _ = writeln!(
                s,
                "{pad}{} [label={}];",
                dot_quote(&task.task_id),
                dot_quote(&format!(
                    "{}\n{}",
                    label(&task.local_id),
                    crate::op_mapped(task)
                ))
            );
        }
        for &g in kids[slot].iter().rev() {
            stack.push((g, depth + 1, true));
        }
    }
    for (a, b) in dag.edge_pairs() {
        let _ = writeln!(
            s,
            "    {} -> {};",
            dot_quote(&dag.task(a).task_id),
            dot_quote(&dag.task(b).task_id)
        );
    }
    s.push_str("}\n");
    s
}

/// The dag as a Mermaid `flowchart LR`, each group a `subgraph`; tasks are named
/// `t0`, `t1`, ... in declaration order and labelled with their ids.
pub fn mermaid(dag: &Dag) -> String {
    let (kids, tasks) = group_tree(dag);
    let top = dag.groups.len();
    let mut s = String::from("flowchart LR\n");
    let mut stack: Vec<(usize, usize, bool)> = vec![(top, 0, true)];
    while let Some((slot, depth, opening)) = stack.pop() {
        let pad = "    ".repeat(depth + 1);
        if !opening {
            let _ = writeln!(s, "{}end", "    ".repeat(depth));
            continue;
        }
        if slot < top {
            let _ = writeln!(
                s,
                "{}subgraph g{slot}[\"{}\"]",
                "    ".repeat(depth),
                mermaid_text(&crate::group_label(&dag.groups[slot]))
            );
            stack.push((slot, depth, false));
        }
        for &t in &tasks[slot] {
            let task = dag.task(t);
            let _ = writeln!(
                s,
                "{pad}t{t}[\"{}<br/><small>{}</small>\"]",
                mermaid_text(&label(&task.local_id)),
                mermaid_text(&crate::op_mapped(task))
            );
        }
        for &g in kids[slot].iter().rev() {
            stack.push((g, depth + 1, true));
        }
    }
    for (a, b) in dag.edge_pairs() {
        let _ = writeln!(s, "    t{a} --> t{b}");
    }
    s
}
