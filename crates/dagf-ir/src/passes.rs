//! Optimiser passes over checked DAGs. Each pass keeps what Airflow does with the DAG:
//! the same tasks, and in every run every task ends in the same state and starts when
//! it would have started without the pass.

use crate::{Behaviour, Dag, Task, Value};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashSet;

/// Which passes run. `-O0` turns them all off.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Drop a dependency that other dependencies already imply, where that changes nothing Airflow does.
    pub reduce_edges: bool,
    /// Move a task argument every task sets alike into the DAG's `default_args`.
    pub hoist_default_args: bool,
}

impl Options {
    /// No pass: `-O0`, the DAG as written.
    pub const NONE: Options = Options {
        reduce_edges: false,
        hoist_default_args: false,
    };
    /// Every pass: `-O1`, the default.
    pub const DEFAULT: Options = Options {
        reduce_edges: true,
        hoist_default_args: true,
    };
}

/// Runs the passes `opts` turns on. `is_common_arg` says which task arguments every
/// operator accepts (BaseOperator's).
pub fn run(dag: &mut Dag, opts: Options, is_common_arg: impl Fn(&str) -> bool) {
    if opts.reduce_edges {
        reduce_edges(dag);
    }
    if opts.hoist_default_args {
        hoist_default_args(dag, is_common_arg);
    }
}

/// How many edges deciding all the edges of a DAG may look at: this many, plus
/// [`DAG_BUDGET_PER_ITEM`] per task and per edge of the DAG. Past that, every edge not
/// decided yet is kept.
const DAG_BUDGET_FLOOR: usize = 100_000;
const DAG_BUDGET_PER_ITEM: usize = 32;
/// How many edges deciding one edge may look at: this many, plus
/// [`EDGE_BUDGET_PER_ITEM`] per task and per edge (enough to see the whole DAG), so
/// that a few costly edges leave budget for the others. Past that the edge is kept.
const EDGE_BUDGET_FLOOR: usize = 10_000;
const EDGE_BUDGET_PER_ITEM: usize = 4;

/// Drops duplicate edges, and each edge `a >> c` that provably changes nothing Airflow
/// does: in every run, with every outcome of every task, each task ends in the same
/// state and starts at the same point. Keeping an edge is always safe, so an edge is
/// dropped only when all of the following hold; anything else, including running out
/// of the work budget, keeps it.
///
/// 1. `a` is of a `plain` operator (it decides only its own state: no branching or
///    short-circuit skipping of its direct downstream tasks) and does not wait for its
///    downstream tasks (`wait_for_downstream` looks at exactly those).
/// 2. `c`'s effective trigger rule (its own argument, else `default_args`, else
///    `all_success`) is `all_success`, `none_failed`, `none_skipped` or `all_done`, and
///    its operator is `plain` or `branching` (it takes `trigger_rule` as given and is
///    no setup or teardown task).
/// 3. Let D be `c` and everything downstream of it, and S be D together with every
///    task upstream of a task of D, reached without passing through `a`. Every task of
///    S has an upstream task, lies after `a` in topological order, and (except `c`) has
///    effective trigger rule `all_success` and a `plain` or `branching` operator.
///    Together these say that every path from a first task to a task of S passes
///    through `a`, and `c` has an upstream task other than `a`, so `a` still runs
///    before `c` through it.
///
/// Why this is enough, in the terms of Airflow 3.3's scheduler (`DagRun.update_state`
/// decides every waiting task against the finished tasks seen at the start of a
/// scheduling pass, `TriggerRuleDep._evaluate_direct_relatives` counts the states of a
/// task's direct upstream tasks, and a task set to `upstream_failed` or `skipped` in a
/// pass is seen by its downstream tasks only in the next pass):
///
/// - No task of S is decided before `a` is done: its upstream tasks are `a` and tasks of
///   S, and none of the four rules decides anything while no upstream task is done.
/// - If `a` succeeds, `c`'s counts without `a` differ from those with it only by one
///   success and one upstream task, seen whenever anything else is; the four rules
///   decide the same on both, in every pass. The DAG runs exactly as before.
/// - If `a` fails, is skipped or is upstream-failed, no task of S other than `c` ever
///   runs, and each ends `upstream_failed` (if `a` failed or was upstream-failed) or
///   `skipped`: it sees nothing else, whatever the timing. `c` reaches the same state,
///   and, when it runs, at the same pass (those rules wait until all its upstream tasks
///   are done, and its other upstream tasks are done only after `a`). Only when `c` and
///   the tasks below it are marked changes, and they are seen only by tasks of D, all
///   of which end alike. Nothing outside S looks at a task of D.
///
/// Each condition is needed. A narrower region than S is not enough: with
/// `a >> b >> c`, `a >> c`, a task `y >> c` that is skipped while `a` fails makes `c`
/// `upstream_failed` with the edge and `skipped` without it (all `c` learns of `a`
/// then comes through `b`, a pass later), and the same happens one level down at a
/// task that joins `c` with a skipped task. `all_done` on `b` or `one_success` on `c`
/// change what runs outright; a branching `a` skips `c` directly only through the edge.
///
/// `depends_on_past` looks at the task's own earlier run, the same either way, and only
/// delays; a mapped task (many task instances, counted one by one by the tasks below
/// it, and skipped with everything below when it expands to none) and a setup or
/// teardown task are neither `a` nor `c` nor in S (conditions 1 to 3 treat them as
/// tasks of an operator that promises nothing). When a task of a `fail_fast` DAG fails,
/// every task that has not succeeded or failed is marked skipped: the same tasks either
/// way, since which tasks run, and when, does not change. The reduced
/// graph has the same tasks downstream of every task, so `priority_weight`, leaves and
/// short-circuiting of everything downstream are unchanged.
///
/// Deciding an edge explores S from `c`, pruned at `a`'s topological position, within
/// a budget of work, and all the edges of a DAG share a budget proportional to its
/// size: the pass takes time linear in the size of the DAG, and no transitive closure. A cyclic graph is left alone (the checker reports
/// cycles first) apart from its duplicate edges.
pub fn reduce_edges(dag: &mut Dag) {
    let (nodes, edges) = std::mem::take(&mut dag.graph).into_nodes_edges();
    // Distinct edges, each with the span of its first writing, in writing order.
    let mut seen = HashSet::with_capacity(edges.len());
    let edges: Vec<_> = edges
        .into_iter()
        .filter(|e| seen.insert((e.source(), e.target())))
        .collect();
    drop(seen);
    let tasks: Vec<&Task> = nodes.iter().map(|n| &n.weight).collect();
    // A task of a mapped group is many task instances too, as a mapped task is.
    let in_mapped: Vec<bool> = tasks
        .iter()
        .map(|t| dag.mapped_group_of(t).is_some())
        .collect();
    let pairs: Vec<(usize, usize)> = edges
        .iter()
        .map(|e| (e.source().index(), e.target().index()))
        .collect();
    let mut keep = Reducer::new(&tasks, &in_mapped, &dag.default_args, &pairs)
        .map(|r| r.keep(&pairs))
        .unwrap_or_else(|| vec![true; pairs.len()]);
    // Airflow makes the edge of an output read whatever the generated file says, so
    // the IR keeps it too.
    for (k, &(a, b)) in keep.iter_mut().zip(&pairs) {
        *k = *k || tasks[b].reads_output_of(&tasks[a].task_id);
    }
    let kept = keep.iter().filter(|&&k| k).count();
    let mut out: DiGraph<Task, dagf_diag::Span> = DiGraph::with_capacity(nodes.len(), kept);
    for n in nodes {
        out.add_node(n.weight);
    }
    for (e, k) in edges.into_iter().zip(keep) {
        if k {
            out.add_edge(e.source(), e.target(), e.weight);
        }
    }
    dag.graph = out;
}

/// What deciding the edges of one DAG needs: its adjacency, a topological position for
/// each task, and what each task may be in the rule of [`reduce_edges`].
struct Reducer {
    up: Vec<Vec<u32>>,
    down: Vec<Vec<u32>>,
    pos: Vec<u32>,
    /// May be the upstream end of a dropped edge.
    source: Vec<bool>,
    /// May be the downstream end of a dropped edge.
    join: Vec<bool>,
    /// May lie in the region S of a dropped edge (other than its downstream end).
    transparent: Vec<bool>,
    /// Edges still to be looked at in the whole DAG.
    budget: usize,
    /// Edges one edge's decision may look at.
    edge_budget: usize,
    /// Marks of the current search: `mark[t] == stamp` when `t` is in S.
    mark: Vec<u32>,
    stamp: u32,
    stack: Vec<u32>,
    region: Vec<u32>,
}

impl Reducer {
    /// `None` for a cyclic graph.
    fn new(
        tasks: &[&Task],
        in_mapped: &[bool],
        default_args: &[crate::Field],
        pairs: &[(usize, usize)],
    ) -> Option<Self> {
        let n = tasks.len();
        let mut up = vec![Vec::new(); n];
        let mut down = vec![Vec::new(); n];
        for &(a, b) in pairs {
            down[a].push(b as u32);
            up[b].push(a as u32);
        }
        // Kahn's algorithm: a position for every task, or a cycle.
        let mut waiting: Vec<usize> = up.iter().map(Vec::len).collect();
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&t| waiting[t as usize] == 0)
            .collect();
        let mut next = 0;
        while let Some(&t) = order.get(next) {
            next += 1;
            for &d in &down[t as usize] {
                waiting[d as usize] -= 1;
                if waiting[d as usize] == 0 {
                    order.push(d);
                }
            }
        }
        if order.len() != n {
            return None;
        }
        let mut pos = vec![0u32; n];
        for (i, &t) in order.iter().enumerate() {
            pos[t as usize] = i as u32;
        }
        let effective = |t: &Task, name: &str| -> Option<Value> {
            t.arg(name)
                .or_else(|| default_args.iter().find(|f| f.name == name))
                .map(|f| f.value.clone())
        };
        let rule = |t: &Task| match effective(t, "trigger_rule") {
            None => Some("all_success".to_string()),
            Some(Value::Str(s)) => Some(s),
            Some(_) => None,
        };
        let mut source = Vec::with_capacity(n);
        let mut join = Vec::with_capacity(n);
        let mut transparent = Vec::with_capacity(n);
        for (i, t) in tasks.iter().enumerate() {
            let not_mapped = t.mapped.is_none() && !in_mapped.get(i).copied().unwrap_or(false);
            // Setup and teardown tasks count their upstream tasks their own way (a
            // teardown's setups by its direct edges): their edges stay as written.
            // A mapped task is many task instances, and a task downstream of one counts
            // them all (or is skipped when it expands to none): its edges stay too.
            let takes_args =
                t.op.behaviour.takes_task_args() && t.role == crate::Role::Work && not_mapped;
            let rule = rule(t);
            source.push(
                t.op.behaviour == Behaviour::Plain
                    && t.role == crate::Role::Work
                    && not_mapped
                    && matches!(
                        effective(t, "wait_for_downstream"),
                        None | Some(Value::Bool(false))
                    ),
            );
            join.push(
                takes_args
                    && matches!(
                        rule.as_deref(),
                        Some("all_success" | "none_failed" | "none_skipped" | "all_done")
                    ),
            );
            transparent.push(takes_args && rule.as_deref() == Some("all_success"));
        }
        Some(Reducer {
            up,
            down,
            pos,
            source,
            join,
            transparent,
            budget: DAG_BUDGET_PER_ITEM
                .saturating_mul(n + pairs.len())
                .saturating_add(DAG_BUDGET_FLOOR),
            edge_budget: EDGE_BUDGET_PER_ITEM
                .saturating_mul(n + pairs.len())
                .saturating_add(EDGE_BUDGET_FLOOR),
            mark: vec![0; n],
            stamp: 0,
            stack: Vec::new(),
            region: Vec::new(),
        })
    }

    /// For each edge, whether to keep it.
    fn keep(mut self, pairs: &[(usize, usize)]) -> Vec<bool> {
        pairs
            .iter()
            .map(|&(a, c)| {
                let candidate = self.source[a]
                    && self.join[c]
                    && self.down[a].len() >= 2
                    && self.up[c].len() >= 2;
                !(candidate && self.budget > 0 && self.droppable(a as u32, c as u32))
            })
            .collect()
    }

    /// Whether S, explored from `c`, meets condition 3 of [`reduce_edges`] within the
    /// budget.
    fn droppable(&mut self, a: u32, c: u32) -> bool {
        let limit = self.edge_budget.min(self.budget);
        let mut work = 0usize;
        let ok = self.explore(a, c, limit, &mut work);
        self.budget = self.budget.saturating_sub(work);
        ok
    }

    fn explore(&mut self, a: u32, c: u32, limit: usize, work: &mut usize) -> bool {
        self.stamp += 1;
        let stamp = self.stamp;
        self.stack.clear();
        self.region.clear();
        // D: `c` and everything downstream of it.
        self.mark[c as usize] = stamp;
        self.stack.push(c);
        while let Some(t) = self.stack.pop() {
            if t != c && !self.transparent[t as usize] {
                return false;
            }
            self.region.push(t);
            for &d in &self.down[t as usize] {
                *work += 1;
                if self.mark[d as usize] != stamp {
                    self.mark[d as usize] = stamp;
                    self.stack.push(d);
                }
            }
            if *work > limit {
                return false;
            }
        }
        // S: every upstream task of a task of S, up to `a`; each lies after `a` and
        // has an upstream task itself.
        let a_pos = self.pos[a as usize];
        self.stack.extend_from_slice(&self.region);
        while let Some(t) = self.stack.pop() {
            let up = &self.up[t as usize];
            if up.is_empty() {
                return false;
            }
            for &u in up {
                *work += 1;
                if u == a || self.mark[u as usize] == stamp {
                    continue;
                }
                if self.pos[u as usize] <= a_pos || !self.transparent[u as usize] {
                    return false;
                }
                self.mark[u as usize] = stamp;
                self.stack.push(u);
            }
            if *work > limit {
                return false;
            }
        }
        true
    }
}

/// Task arguments that mean something to the DAG itself in `default_args`: a DAG
/// without a start date takes `default_args["start_date"]` as its own, with its time
/// zone, checks `catchup` against it (`_default_start_date`, `_extract_tz` and
/// `_validate_catchup` in `airflow/sdk/definitions/dag.py`), and a run triggered for an
/// earlier date is refused (`airflow/api/common/trigger_dag.py`); `end_date` is read
/// and converted there too.
const DAG_LEVEL: &[&str] = &["start_date", "end_date"];

/// Moves a task argument that every task sets to the same value into `default_args`,
/// so the generated file says it once.
///
/// Airflow fills each keyword argument a task's constructor does not get from the
/// DAG's `default_args` (`BaseOperatorMeta._apply_defaults`), so a task gets the same
/// value either way, provided that:
///
/// - the argument is BaseOperator's (`is_common_arg`) and every task's operator is
///   `plain` or `branching`: such a class passes BaseOperator's arguments through as
///   given, where another class might take one of them itself, and then BaseOperator
///   would get it only from `default_args`;
/// - `default_args` does not have it already with another value;
/// - it is not `start_date` or `end_date`, which the DAG reads from `default_args`
///   (`DAG_LEVEL`).
///
/// Callbacks, `trigger_rule` and the rest are plain task attributes either way. dagf has
/// no task-group `default_args` (which would come between); a DAG with setup or
/// teardown tasks (whose trigger rule Airflow sets itself) is left as it is. TaskFlow's `@task` also passes
/// `default_args` entries to the decorated function by parameter name
/// (`DecoratedOperator._hook_apply_defaults`) and ignores `multiple_outputs` there, so
/// the caller turns this pass off for a DAG written with `@task`.
pub fn hoist_default_args(dag: &mut Dag, is_common_arg: impl Fn(&str) -> bool) {
    if dag.graph.node_count() < 2
        || !dag
            .graph
            .node_weights()
            .all(|t| t.op.behaviour.takes_task_args() && t.role == crate::Role::Work)
    {
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
                && !DAG_LEVEL.contains(&field.name.as_str())
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
