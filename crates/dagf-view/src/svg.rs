//! The picture of a dag as SVG, and as a standalone HTML page around it.

use crate::layout::{NODE_H, Placed, label, layout};
use crate::{group_path, operator_label};
use dagf_ir::{Dag, value_text};
use std::fmt::Write;

/// Fill colours for operators, given in order of first use in the dag.
const FILLS: [&str; 8] = [
    "#e8f1fb", "#fdebd3", "#e6f4e1", "#f6e3f1", "#fff4c2", "#dff1f2", "#ece5fb", "#fbe2e2",
];
const STROKES: [&str; 8] = [
    "#5b8fc7", "#d08a2e", "#5c9e4c", "#b0609d", "#b89a1c", "#3f9aa1", "#7a62c2", "#c45a5a",
];

/// Text made safe inside SVG or HTML, in an element or an attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Each operator (by dagf name) and its colour index, in order of first use.
fn palette(dag: &Dag) -> Vec<String> {
    let mut ops: Vec<String> = Vec::new();
    for t in dag.graph.node_weights() {
        if !ops.contains(&t.op.name) {
            ops.push(t.op.name.clone());
        }
    }
    ops
}

fn n(v: f64) -> String {
    // One decimal is finer than a pixel and keeps the text stable.
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// The dag drawn as a standalone SVG document: tasks as boxes coloured by operator
/// (each with its id and operator, and a tooltip with its fields), groups as labelled
/// boxes around their tasks, edges as arrows, and a legend of the operators.
pub fn svg(dag: &Dag) -> String {
    let lay = layout(dag);
    let ops = palette(dag);
    let legend_h = if ops.is_empty() { 0.0 } else { 30.0 };
    let lifts: Vec<f64> = lay
        .edges
        .iter()
        .map(|&(a, b)| lift(lay.nodes[a], lay.nodes[b], &lay.nodes))
        .collect();
    // Room above the top row for the arcs that rise over it (a cubic curve reaches
    // three quarters of its control points' height).
    let top = lay
        .edges
        .iter()
        .zip(&lifts)
        .map(|(&(a, _), l)| 0.75 * l - (lay.nodes[a].y + lay.nodes[a].h / 2.0) + 4.0)
        .fold(0.0f64, f64::max);
    let width = lay.width.max(200.0);
    let height = lay.height + legend_h + top;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="Helvetica, Arial, sans-serif" role="img" aria-label="{title}">"#,
        w = n(width),
        h = n(height),
        title = escape(&format!("DAG {}", dag.dag_id))
    );
    let _ = writeln!(s, "<title>{}</title>", escape(&dag.dag_id));
    s.push_str(concat!(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">"#,
        r##"<path d="M 0 0 L 10 5 L 0 10 z" fill="#6b7280"/></marker></defs>"##,
        "\n"
    ));
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        n(width),
        n(height)
    );
    if top > 0.0 {
        let _ = writeln!(s, r#"<g transform="translate(0 {})">"#, n(top));
    }
    // Groups, outermost first so inner boxes are drawn over them.
    let mut order: Vec<usize> = (0..dag.groups.len()).collect();
    order.sort_by_key(|&g| (lay.depth[g], g));
    for g in order {
        let b = lay.groups[g];
        let _ = writeln!(
            s,
            r##"<g class="group"><title>{title}</title><rect x="{}" y="{}" width="{}" height="{}" rx="6" fill="#f6f7f9" fill-opacity="0.7" stroke="#9aa3ad" stroke-dasharray="4 3"/><text x="{}" y="{}" font-size="12" font-weight="bold" fill="#4b5563">{}</text></g>"##,
            n(b.x),
            n(b.y),
            n(b.w),
            n(b.h),
            n(b.x + 8.0),
            n(b.y + 15.0),
            escape(&crate::group_label(&dag.groups[g])),
            title = escape(&group_title(dag, g)),
        );
    }
    for (&(a, b), &lift) in lay.edges.iter().zip(&lifts) {
        let (from, to) = (lay.nodes[a], lay.nodes[b]);
        let _ = writeln!(
            s,
            r##"<path d="{}" fill="none" stroke="#6b7280" stroke-width="1.4" marker-end="url(#arrow)"/>"##,
            edge_path(from, to, lift)
        );
    }
    for i in dag.graph.node_indices() {
        let task = &dag.graph[i];
        let p = lay.nodes[i.index()];
        let k = ops.iter().position(|o| *o == task.op.name).unwrap_or(0) % FILLS.len();
        let _ = writeln!(
            s,
            r##"<g class="task"><title>{tip}</title><rect x="{}" y="{}" width="{}" height="{}" rx="5" fill="{}" stroke="{}"/><text x="{}" y="{}" font-size="12" text-anchor="middle" fill="#111827">{}</text><text x="{}" y="{}" font-size="10" text-anchor="middle" fill="{}">{}</text></g>"##,
            n(p.x),
            n(p.y),
            n(p.w),
            n(p.h),
            FILLS[k],
            STROKES[k],
            n(p.x + p.w / 2.0),
            n(p.y + 15.0),
            escape(&label(&task.local_id)),
            n(p.x + p.w / 2.0),
            n(p.y + NODE_H - 8.0),
            STROKES[k],
            escape(&crate::op_line(task)),
            tip = escape(&task_tooltip(task)),
        );
    }
    // The legend: one swatch per operator.
    let mut x = 20.0;
    let y = lay.height + 4.0;
    for (k, op) in ops.iter().enumerate() {
        let c = k % FILLS.len();
        let _ = writeln!(
            s,
            r##"<rect x="{}" y="{}" width="14" height="14" rx="3" fill="{}" stroke="{}"/><text x="{}" y="{}" font-size="11" fill="#374151">{}</text>"##,
            n(x),
            n(y),
            FILLS[c],
            STROKES[c],
            n(x + 20.0),
            n(y + 11.0),
            escape(op)
        );
        x += 34.0 + op.chars().count() as f64 * 6.5;
    }
    if top > 0.0 {
        s.push_str("</g>\n");
    }
    s.push_str("</svg>\n");
    s
}

/// How far an edge arcs up: one that would pass behind the tasks between its ends on
/// the same row goes over them instead.
fn lift(from: Placed, to: Placed, boxes: &[Placed]) -> f64 {
    let (x1, y1, x2, y2) = (
        from.x + from.w,
        from.y + from.h / 2.0,
        to.x,
        to.y + to.h / 2.0,
    );
    let hidden = |p: &Placed| p.x > x1 && p.x + p.w < x2 && p.y < y1 && y1 < p.y + p.h;
    if (y1 - y2).abs() < from.h && boxes.iter().any(hidden) {
        from.h * 1.8
    } else {
        0.0
    }
}

/// A curve from the right side of one box to the left side of the next.
fn edge_path(from: Placed, to: Placed, lift: f64) -> String {
    let (x1, y1) = (from.x + from.w, from.y + from.h / 2.0);
    let (x2, y2) = (to.x - 1.0, to.y + to.h / 2.0);
    let dx = ((x2 - x1) / 2.0).max(20.0);
    format!(
        "M {} {} C {} {}, {} {}, {} {}",
        n(x1),
        n(y1),
        n(x1 + dx),
        n(y1 - lift),
        n(x2 - dx),
        n(y2 - lift),
        n(x2),
        n(y2)
    )
}

fn group_title(dag: &Dag, g: usize) -> String {
    let mut t = format!("group {}", group_path(dag, g));
    if let Some(tip) = &dag.groups[g].tooltip {
        t.push_str(&format!("\n{tip}"));
    }
    t
}

/// A task's tooltip: its full id, operator and fields.
fn task_tooltip(task: &dagf_ir::Task) -> String {
    let mut t = format!("{}\n{}", task.task_id, operator_label(task));
    for f in &task.args {
        let mut v = value_text(&f.value);
        if v.chars().count() > 120 {
            v = v.chars().take(119).collect::<String>() + "…";
        }
        t.push_str(&format!("\n{} = {v}", f.name));
    }
    t
}

/// A standalone HTML page: the dag's id, file and schedule, its picture, and a table
/// of its tasks with their operators, upstream tasks and fields. No script, no
/// outside resource: it opens from disk anywhere.
pub fn html(dag: &Dag) -> String {
    let mut s = String::new();
    let schedule = dag
        .arg("schedule")
        .map_or_else(|| "none".to_string(), |f| value_text(&f.value));
    let _ = write!(
        s,
        concat!(
            "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n",
            "<title>{id}</title>\n<style>\n",
            "body {{ font-family: Helvetica, Arial, sans-serif; margin: 2rem; color: #111827; }}\n",
            "h1 {{ font-size: 1.4rem; }}\n",
            ".graph {{ overflow-x: auto; border: 1px solid #e5e7eb; border-radius: 6px; padding: 0.5rem; }}\n",
            "table {{ border-collapse: collapse; margin-top: 1.5rem; font-size: 0.9rem; }}\n",
            "th, td {{ border-bottom: 1px solid #e5e7eb; padding: 0.35rem 0.7rem; text-align: left; vertical-align: top; }}\n",
            "code {{ font-size: 0.85rem; }}\n",
            "</style>\n</head>\n<body>\n<h1>{id}</h1>\n",
            "<p>{tasks} tasks &#183; schedule <code>{schedule}</code> &#183; from <code>{source}</code></p>\n",
            "<div class=\"graph\">\n"
        ),
        id = escape(&dag.dag_id),
        tasks = dag.graph.node_count(),
        schedule = escape(&schedule),
        source = escape(&dag.source),
    );
    s.push_str(&svg(dag));
    s.push_str("</div>\n<table>\n<thead><tr><th>task</th><th>operator</th><th>upstream</th><th>fields</th></tr></thead>\n<tbody>\n");
    for i in dag.graph.node_indices() {
        let task = &dag.graph[i];
        let mut ups: Vec<&str> = dag
            .graph
            .neighbors_directed(i, petgraph::Direction::Incoming)
            .map(|u| dag.graph[u].task_id.as_str())
            .collect();
        ups.sort_unstable();
        ups.dedup();
        let fields: Vec<String> = task
            .args
            .iter()
            .map(|f| {
                format!(
                    "<code>{} = {}</code>",
                    escape(&f.name),
                    escape(&value_text(&f.value))
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&task.task_id),
            escape(&operator_label(task)),
            escape(&ups.join(", ")),
            fields.join("<br/>")
        );
    }
    s.push_str("</tbody>\n</table>\n</body>\n</html>\n");
    s
}
