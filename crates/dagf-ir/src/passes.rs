//! Optimiser passes over checked DAGs. Each pass keeps the DAG's meaning in Airflow:
//! same tasks, same ordering constraints, same effective task arguments.

use crate::Dag;
use petgraph::algo::{toposort, tred};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::IntoNeighbors;

/// Which passes run. `-O0` turns them all off.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub reduce_edges: bool,
    pub hoist_default_args: bool,
}

impl Options {
    pub const NONE: Options = Options {
        reduce_edges: false,
        hoist_default_args: false,
    };
    pub const DEFAULT: Options = Options {
        reduce_edges: true,
        hoist_default_args: true,
    };
}

pub fn run(dag: &mut Dag, opts: Options, is_common_arg: impl Fn(&str) -> bool) {
    if opts.reduce_edges {
        reduce_edges(dag);
    }
    if opts.hoist_default_args {
        hoist_default_args(dag, is_common_arg);
    }
}

/// Transitive reduction: drops `a >> c` when `a >> b >> c` already orders them, and
/// duplicate edges. Leaves a cyclic graph alone (the checker reports cycles first).
pub fn reduce_edges(dag: &mut Dag) {
    let g = &dag.graph;
    let Ok(order) = toposort(g, None) else {
        return;
    };
    let (adj, _) = tred::dag_to_toposorted_adjacency_list::<_, u32>(g, &order);
    let (reduction, _closure) = tred::dag_transitive_reduction_closure(&adj);
    let mut keep = std::collections::HashSet::new();
    for (i, &from) in order.iter().enumerate() {
        for j in reduction.neighbors(i as u32) {
            keep.insert((from, order[j as usize]));
        }
    }
    // The graph is rebuilt from its own parts, tasks moved, edges in their order.
    let (nodes, edges) = std::mem::take(&mut dag.graph).into_nodes_edges();
    let mut out: DiGraph<crate::Task, dagf_diag::Span> =
        DiGraph::with_capacity(nodes.len(), keep.len());
    for n in nodes {
        out.add_node(n.weight);
    }
    let mut seen = std::collections::HashSet::new();
    for e in edges {
        let (a, b) = (e.source(), e.target());
        if keep.contains(&(a, b)) && seen.insert((a, b)) {
            out.add_edge(a, b, e.weight);
        }
    }
    dag.graph = out;
}

/// Moves a task argument that every task sets to the same value into `default_args`,
/// so the generated file says it once. Only arguments every operator accepts move.
pub fn hoist_default_args(dag: &mut Dag, is_common_arg: impl Fn(&str) -> bool) {
    if dag.graph.node_count() < 2 {
        return;
    }
    // The arguments of the first task that every task sets alike, and that either
    // are not in `default_args` yet or are there with the same value.
    let first = &dag.graph[NodeIndex::new(0)];
    let hoisted: Vec<crate::Field> = first
        .args
        .iter()
        .filter(|field| {
            is_common_arg(&field.name)
                && dag
                    .graph
                    .node_weights()
                    .all(|t| t.arg(&field.name).is_some_and(|f| f.value == field.value))
                && dag
                    .default_args
                    .iter()
                    .find(|f| f.name == field.name)
                    .is_none_or(|f| f.value == field.value)
        })
        .cloned()
        .collect();
    for field in hoisted {
        for t in dag.graph.node_weights_mut() {
            t.args.retain(|f| f.name != field.name);
        }
        if !dag.default_args.iter().any(|f| f.name == field.name) {
            dag.default_args.push(field);
        }
    }
}
