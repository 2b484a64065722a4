//! Where each task and group of a dag goes in a picture, left to right as Airflow's
//! graph view draws it. Tasks stand in columns by their longest path from a task
//! with no upstream (so every edge points right); each group owns a horizontal band
//! of its own, nested groups inside it, so group boxes never overlap; inside a band,
//! each column's tasks are ordered by where their upstream tasks are (the mean of
//! their heights), which keeps edges short and mostly straight.

use dagf_ir::Dag;
use petgraph::Direction;
use petgraph::graph::NodeIndex;

/// The height of a task's box.
pub const NODE_H: f64 = 36.0;
/// The vertical distance between two rows of tasks.
const ROW: f64 = 52.0;
/// Space around the whole picture.
const MARGIN: f64 = 20.0;
/// A group box's padding around what it holds, and the room for its name.
const CL_PAD: f64 = 12.0;
const CL_HEAD: f64 = 22.0;
/// Space between two groups stacked in one band.
const CL_GAP: f64 = 10.0;
/// Width of one character of a task id, and of an operator name.
const CHAR_W: f64 = 7.2;
const SMALL_CHAR_W: f64 = 6.0;
/// The longest task id drawn in full; longer ones end with `…`.
pub const MAX_LABEL: usize = 40;

/// A box: a task's or a group's.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Placed {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

/// A dag laid out: a box per task (by node index) and per group (by group index), the
/// edges between tasks, and the size of the whole.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// Each task's box, in node order.
    pub nodes: Vec<Placed>,
    /// Each group's box, in the dag's group order.
    pub groups: Vec<Placed>,
    /// Each group's nesting depth (0 for a group at the top of the dag).
    pub depth: Vec<usize>,
    /// Every edge once, as (upstream, downstream) node indices, sorted.
    pub edges: Vec<(usize, usize)>,
    /// The width of the picture.
    pub width: f64,
    /// The height of the picture.
    pub height: f64,
}

/// A task's label: its id within its group, cut at [`MAX_LABEL`] characters.
pub fn label(local_id: &str) -> String {
    if local_id.chars().count() <= MAX_LABEL {
        local_id.to_string()
    } else {
        let cut: String = local_id.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    }
}

fn node_width(dag: &Dag, i: NodeIndex) -> f64 {
    let task = &dag.graph[i];
    let id = label(&task.local_id).chars().count() as f64 * CHAR_W;
    let op = crate::op_line(task).chars().count() as f64 * SMALL_CHAR_W;
    (id.max(op) + 24.0).clamp(80.0, 340.0)
}

/// One of a band's blocks: the band's own tasks, or a nested group's band.
#[derive(Clone, Copy)]
enum Block {
    Loose,
    Group(usize),
}

/// Lays `dag` out.
pub fn layout(dag: &Dag) -> Layout {
    let n = dag.graph.node_count();
    let groups = dag.groups.len();
    // Columns: the longest path from a task with no upstream, in topological order
    // (node order if the graph had a cycle, which a checked dag never has).
    let order: Vec<NodeIndex> = petgraph::algo::toposort(&dag.graph, None)
        .unwrap_or_else(|_| dag.graph.node_indices().collect());
    let mut column = vec![0usize; n];
    for &v in &order {
        for u in dag.graph.neighbors_directed(v, Direction::Incoming) {
            column[v.index()] = column[v.index()].max(column[u.index()] + 1);
        }
    }
    let columns = column.iter().max().map_or(0, |m| m + 1);

    // Group nesting: depth, children, direct tasks.
    let parent_ok = |g: usize| dag.groups[g].parent.filter(|&p| p < groups && p != g);
    let mut depth = vec![0usize; groups];
    for (g, d) in depth.iter_mut().enumerate() {
        let mut at = parent_ok(g);
        while let Some(p) = at {
            *d += 1;
            if *d > groups {
                break;
            }
            at = parent_ok(p);
        }
    }
    let max_depth = depth.iter().max().map_or(0, |d| d + 1);
    let (child_groups, direct) = crate::group_tree(dag);
    // A band's own rows: the most tasks it has in one column.
    let loose_rows: Vec<usize> = direct
        .iter()
        .map(|tasks| {
            let mut per = vec![0usize; columns];
            for &t in tasks {
                per[column[t]] += 1;
            }
            per.into_iter().max().unwrap_or(0)
        })
        .collect();
    // The blocks of each band, in declaration order: its own tasks where the first of
    // them was declared, each nested group where it was.
    let blocks: Vec<Vec<Block>> = (0..=groups)
        .map(|slot| {
            let mut b: Vec<(usize, Block)> = child_groups[slot]
                .iter()
                .map(|&g| (dag.groups[g].order, Block::Group(g)))
                .collect();
            if let Some(&first) = direct[slot].first() {
                b.push((first, Block::Loose));
            }
            b.sort_by_key(|(k, b)| (*k, matches!(b, Block::Group(_))));
            b.into_iter().map(|(_, b)| b).collect()
        })
        .collect();
    // Band heights, innermost groups first (a group's depth is more than its parent's).
    let mut height = vec![0.0f64; groups + 1];
    let mut by_depth: Vec<usize> = (0..groups).collect();
    by_depth.sort_by_key(|&g| std::cmp::Reverse(depth[g]));
    let band_height = |slot: usize, height: &[f64]| {
        let is_group = slot < groups;
        let mut h = if is_group { CL_HEAD } else { 0.0 };
        let mut first = true;
        for b in &blocks[slot] {
            if !first {
                h += CL_GAP;
            }
            first = false;
            h += match *b {
                Block::Loose => loose_rows[slot] as f64 * ROW,
                Block::Group(g) => height[g],
            };
        }
        if is_group {
            h += CL_PAD;
        }
        h
    };
    for &g in &by_depth {
        height[g] = band_height(g, &height);
    }
    height[groups] = band_height(groups, &height);

    // Band tops, outermost first.
    let mut region_top = vec![0.0f64; groups + 1];
    let mut group_top = vec![0.0f64; groups];
    let mut stack = vec![(groups, MARGIN)];
    while let Some((slot, top)) = stack.pop() {
        let mut y = top + if slot < groups { CL_HEAD } else { 0.0 };
        if slot < groups {
            group_top[slot] = top;
        }
        let mut first = true;
        for b in &blocks[slot] {
            if !first {
                y += CL_GAP;
            }
            first = false;
            match *b {
                Block::Loose => {
                    region_top[slot] = y;
                    y += loose_rows[slot] as f64 * ROW;
                }
                Block::Group(g) => {
                    stack.push((g, y));
                    y += height[g];
                }
            }
        }
    }

    // Columns' x: the widest task of each, with room between for group padding.
    let widths: Vec<f64> = dag
        .graph
        .node_indices()
        .map(|i| node_width(dag, i))
        .collect();
    let mut col_w = vec![0.0f64; columns];
    for (i, &w) in widths.iter().enumerate() {
        col_w[column[i]] = col_w[column[i]].max(w);
    }
    let gap = 48.0 + 2.0 * CL_PAD * max_depth as f64;
    let mut col_x = vec![0.0f64; columns];
    let mut x = MARGIN + CL_PAD * max_depth as f64;
    for c in 0..columns {
        col_x[c] = x;
        x += col_w[c] + gap;
    }

    // Rows: column by column, each band's tasks placed near the mean height of their
    // upstream tasks, in order, none outside the band.
    let mut nodes = vec![Placed::default(); n];
    let mut placed = vec![false; n];
    for c in 0..columns {
        for slot in 0..=groups {
            let mut here: Vec<(f64, usize)> = direct[slot]
                .iter()
                .filter(|&&t| column[t] == c)
                .map(|&t| {
                    let ups: Vec<f64> = dag
                        .graph
                        .neighbors_directed(NodeIndex::new(t), Direction::Incoming)
                        .filter(|u| placed[u.index()])
                        .map(|u| nodes[u.index()].y)
                        .collect();
                    let want = if ups.is_empty() {
                        f64::INFINITY
                    } else {
                        ups.iter().sum::<f64>() / ups.len() as f64
                    };
                    (want, t)
                })
                .collect();
            here.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let (rows, m) = (loose_rows[slot], here.len());
            let offset = (ROW - NODE_H) / 2.0;
            let mut next = 0usize;
            for (k, &(want, t)) in here.iter().enumerate() {
                let wanted = if want.is_finite() {
                    ((want - offset - region_top[slot]) / ROW).round().max(0.0) as usize
                } else {
                    next
                };
                let row = wanted.max(next).min(rows.saturating_sub(m - k));
                next = row + 1;
                nodes[t] = Placed {
                    x: col_x[c] + (col_w[c] - widths[t]) / 2.0,
                    y: region_top[slot] + row as f64 * ROW + offset,
                    w: widths[t],
                    h: NODE_H,
                };
                placed[t] = true;
            }
        }
    }

    // Group boxes: around their tasks and nested groups, innermost first.
    let mut boxes = vec![Placed::default(); groups];
    for &g in &by_depth {
        let mut left = f64::INFINITY;
        let mut right = f64::NEG_INFINITY;
        for &t in &direct[g] {
            left = left.min(nodes[t].x);
            right = right.max(nodes[t].x + nodes[t].w);
        }
        for &k in &child_groups[g] {
            left = left.min(boxes[k].x);
            right = right.max(boxes[k].x + boxes[k].w);
        }
        if !left.is_finite() {
            (left, right) = (MARGIN + CL_PAD, MARGIN + CL_PAD + 80.0);
        }
        let label_w = dag.groups[g].group_id.chars().count() as f64 * CHAR_W;
        boxes[g] = Placed {
            x: left - CL_PAD,
            y: group_top[g],
            w: (right - left + 2.0 * CL_PAD).max(label_w + 2.0 * CL_PAD),
            h: height[g],
        };
    }

    // Tasks at the top of the dag, outside every group, move to the mean height of
    // their neighbours where that place is free, so `start >> groups >> end` reads
    // level instead of hanging from the top row.
    for c in 0..columns {
        for &t in direct[groups].iter().filter(|&&t| column[t] == c) {
            let i = NodeIndex::new(t);
            let around: Vec<f64> = dag
                .graph
                .neighbors_undirected(i)
                .map(|u| nodes[u.index()].y)
                .collect();
            if around.is_empty() {
                continue;
            }
            let moved = Placed {
                y: around.iter().sum::<f64>() / around.len() as f64,
                ..nodes[t]
            };
            let free = nodes
                .iter()
                .enumerate()
                .all(|(j, p)| j == t || !overlaps(moved, *p))
                && boxes.iter().all(|b| !overlaps(moved, *b));
            if free {
                nodes[t] = moved;
            }
        }
    }

    let edges = dag.edge_pairs();
    // Rows left empty at the top by the tasks that moved are cut off.
    let top = nodes
        .iter()
        .chain(&boxes)
        .map(|p| p.y)
        .fold(f64::INFINITY, f64::min);
    if top.is_finite() && top > MARGIN {
        for p in nodes.iter_mut().chain(boxes.iter_mut()) {
            p.y -= top - MARGIN;
        }
    }
    let (right, bottom) = nodes
        .iter()
        .chain(&boxes)
        .fold((0.0f64, 0.0f64), |(r, b), p| {
            (r.max(p.x + p.w), b.max(p.y + p.h))
        });
    Layout {
        nodes,
        groups: boxes,
        depth,
        edges,
        width: right + MARGIN,
        height: bottom + MARGIN,
    }
}

/// Whether two boxes come closer than a small gap.
fn overlaps(a: Placed, b: Placed) -> bool {
    const GAP: f64 = 8.0;
    a.x < b.x + b.w + GAP && b.x < a.x + a.w + GAP && a.y < b.y + b.h + GAP && b.y < a.y + a.h + GAP
}
