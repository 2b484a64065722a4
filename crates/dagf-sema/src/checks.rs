//! Checks on a finished DAG (ids, timing, sensors, cycles) and its lowering to the IR.

use crate::dag::DagB;
use crate::ids::{GroupId, Id, IdVec, TaskId};
use crate::layers::Slot;
use crate::modules::Program;
use crate::types::RecordTy;
use crate::value::{V, Value};
use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, Span};
use dagf_ir::{Field, Task};
use petgraph::graph::{DiGraph, NodeIndex};

/// Airflow's defaults for sensors that set neither.
const DEFAULT_POKE_MS: i64 = 60_000;
const DEFAULT_TIMEOUT_MS: i64 = 7 * 86_400_000;
/// Poking less often than this in poke mode holds a worker slot for little reason.
const SLOW_POKE_MS: i64 = 5 * 60_000;

/// A declared default a record took for a field it lacks, kept for provenance.
#[derive(Clone, Debug)]
pub struct Default {
    /// The field left out.
    pub field: String,
    /// The record type declaring it (empty for a record type without a name).
    pub owner: String,
    /// The default's expression in the declaration.
    pub at: Span,
    /// What it gave.
    pub value: dagf_ir::Value,
}

/// The declared defaults records took, by the place of the record that lacked them.
pub type Defaulted = std::collections::HashMap<Span, Vec<Default>>;

pub struct Ctx<'a> {
    /// How provenance names a layer.
    pub layer_names: &'a dyn Fn(crate::layers::Layer) -> std::sync::Arc<str>,
    /// Whether IR fields record the layers behind them.
    pub provenance: bool,
    /// The declared defaults records took (empty without provenance).
    pub defaulted: &'a Defaulted,
    pub prog: &'a Program,
    pub sources: &'a Sources,
    pub diags: &'a mut Diagnostics,
    pub task_args: &'a RecordTy,
    pub sensor_args: &'a RecordTy,
    pub dag_args: &'a RecordTy,
    /// The Airflow built for.
    pub target: dagf_target::Target,
}

/// Airflow's rule for dag and task ids: letters, digits, `-`, `.` and `_`, at most 250.
fn check_id(kind: &str, id: &str, span: Span, diags: &mut Diagnostics) {
    if let Some(d) = id_problem(kind, id, span) {
        diags.push(d);
    }
}

/// E0208 for templates that build on each other in a circle: one error for the circle,
/// the same whichever of its templates (or of those built on it) is met first.
pub fn template_cycle(
    prog: &crate::modules::Program,
    cycle: &[crate::ids::TemplateId],
) -> Diagnostic {
    let mut members: Vec<(&str, Span)> = cycle
        .iter()
        .map(|&t| {
            let d = &prog.templates[t].decl;
            (
                d.name.name.as_str(),
                d.target.as_ref().map_or(d.name.span, |e| e.span),
            )
        })
        .collect();
    members.sort_by_key(|(_, at)| *at);
    let names: Vec<String> = members.iter().map(|(n, _)| format!("`{n}`")).collect();
    let message = match names.as_slice() {
        [one] => format!("template {one} builds on itself"),
        _ => format!("templates {} build on each other", names.join(", ")),
    };
    let mut d = Diagnostic::at(
        Code::E0208,
        members[0].1,
        message,
        "builds on a template that leads back here",
    );
    for (name, at) in &members[1..] {
        d = d.with_label(*at, format!("`{name}` leads back too"));
    }
    d.with_help("a template builds on an operator, or on a template that does not lead back to it")
}

/// Why Airflow would reject an id, if it would.
pub(crate) fn id_problem(kind: &str, id: &str, span: Span) -> Option<Diagnostic> {
    let bad: Vec<char> = id
        .chars()
        .filter(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
        .collect();
    if id.is_empty() {
        Some(
            Diagnostic::at(
                Code::E0302,
                span,
                format!("the {kind} id is empty"),
                "empty name",
            )
            .with_help("give it a name of letters, digits, `-`, `.` or `_`"),
        )
    } else if !bad.is_empty() {
        let mut shown: Vec<String> = Vec::new();
        for c in &bad {
            let c = format!("`{}`", c.escape_debug());
            if !shown.contains(&c) {
                shown.push(c);
            }
        }
        Some(
            Diagnostic::at(
                Code::E0302,
                span,
                format!(
                    "{kind} id `{id}` has characters Airflow rejects: {}",
                    shown.join(" ")
                ),
                "invalid id",
            )
            .with_help("ids may hold only ASCII letters, digits, `-`, `.` and `_`"),
        )
    } else if id.len() > 250 {
        Some(
            Diagnostic::at(
                Code::E0302,
                span,
                format!(
                    "{kind} id is {} characters long; Airflow allows 250",
                    id.len()
                ),
                "too long",
            )
            .with_help("shorten the name or the naming convention"),
        )
    } else {
        None
    }
}

/// The resources of Airflow 3's DAG-level access control.
const ACCESS_RESOURCES: [&str; 2] = ["DAGs", "DAG Runs"];

fn slot<'s>(slots: &'s [Slot], name: &str) -> Option<&'s Slot> {
    slots.iter().find(|s| &*s.name == name)
}

fn ms(slot: Option<&Slot>) -> Option<i64> {
    match slot.map(|s| &s.value.v) {
        Some(V::Duration(ms)) => Some(*ms),
        _ => None,
    }
}

pub fn finish(cx: Ctx<'_>, dag: &DagB, edges: &[(TaskId, TaskId, Span)]) -> Option<dagf_ir::Dag> {
    let Ctx {
        prog,
        sources,
        diags,
        task_args,
        sensor_args,
        dag_args,
        layer_names,
        provenance,
        defaulted,
        target,
    } = cx;
    if let Some(d) = id_problem("dag", &dag.id, dag.name_span) {
        diags.push(match (dag.named_by, dag.tenant) {
            // The convention gives every dag of the tenant such an id: one mistake, one
            // error, the same from each of its dags (and so kept once).
            (Some(at), Some((i, _))) => {
                let tenant = &prog.instances[i].decl.name;
                let flaw = d
                    .message
                    .split_once("` has ")
                    .map_or("is not a valid id", |(_, flaw)| flaw);
                Diagnostic::at(
                    Code::E0302,
                    at,
                    format!(
                        "the naming convention gives the dags of `{}` ids that have {flaw}",
                        tenant.name
                    ),
                    "the naming convention makes the ids",
                )
                .with_label(tenant.span, "from the fields of this tenant")
                .with_help("ids may hold only ASCII letters, digits, `-`, `.` and `_`: change the convention, or the tenant's fields it reads")
            }
            (Some(at), None) => d.with_label(at, "the tenant's naming convention makes the id"),
            _ => d,
        });
    }

    // Access control: each role grants actions on Airflow's two DAG resources.
    if let Some(ac) = slot(&dag.slots, "access_control")
        && let V::Record(roles) = &ac.value.v
    {
        for (role, resources) in roles.iter() {
            let V::Record(resources) = &resources.v else {
                continue;
            };
            for (resource, _) in resources.iter() {
                if !ACCESS_RESOURCES.contains(&&**resource) {
                    diags.push(
                        Diagnostic::at(
                            Code::E0203,
                            ac.span,
                            format!("role `{role}` grants actions on `{resource}`, which is not a DAG resource"),
                            "set here",
                        )
                        .with_suggestion(resource, ACCESS_RESOURCES)
                        .or_help("a role's actions are on `DAGs` or `DAG Runs`: `{ viewer = { DAGs = [\"can_read\"] } }`"),
                    );
                }
            }
        }
    }

    // Every value written must be one Python can hold.
    let all_slots = dag
        .slots
        .iter()
        .chain(dag.tasks.iter().flat_map(|t| &t.slots))
        .chain(dag.groups.iter().flat_map(|g| &g.slots));
    for s in all_slots {
        python_value_check(&s.value, diags);
    }

    let start = slot(&dag.slots, "start");
    if let Some(catchup) = slot(&dag.slots, "catchup")
        && matches!(catchup.value.v, V::Bool(true))
        && start.is_none()
    {
        diags.push(
            Diagnostic::at(
                Code::E0308,
                catchup.span,
                format!("{} catches up but has no `start`", dag.what()),
                "catchup is on here",
            )
            .with_label(dag.name_span, "this dag sets no start")
            .with_help(
                "add `start = 2024-01-01` (the first date to catch up from), or turn catchup off",
            ),
        );
    }
    if let (Some(s), Some(e)) = (start, slot(&dag.slots, "end"))
        && let (V::DateTime(a), V::DateTime(b)) = (&s.value.v, &e.value.v)
        && b < a
    {
        diags.push(
            Diagnostic::at(
                Code::E0311,
                e.span,
                format!("{} ends before it starts", dag.what()),
                "end is here",
            )
            .with_label(s.span, "start is here")
            .with_help("make `end` later than `start`, or remove it"),
        );
    }

    // A task named with a dot at one level can meet a task inside a group at another.
    let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
    for t in &dag.tasks {
        if let Some(prev) = seen.insert(&t.id, t.name_span) {
            diags.push(
                Diagnostic::at(
                    Code::E0301,
                    t.name_span,
                    format!("two tasks of {} end up with the id `{}`", dag.what(), t.id),
                    "this one",
                )
                .with_label(prev, "and this one")
                .with_help("task ids include their group path (`group.task`); rename one of them"),
            );
        }
    }
    for t in &dag.tasks {
        check_id("task", &t.id, t.name_span, diags);
        let op = &prog.operators[t.op];
        for f in op
            .fields
            .iter()
            .filter(|f| f.required() && !t.incomplete && !t.meant.contains(&f.name))
        {
            // Each instance of a mapped task gets its mapped fields when it is expanded;
            // with `expand_kwargs`, which ones only the items say.
            let mapped = t
                .mapped
                .as_ref()
                .is_some_and(|m| m.kwargs || m.slots.iter().any(|s| *s.name == *f.name));
            if slot(&t.slots, &f.name).is_none() && !mapped {
                diags.push(
                    Diagnostic::at(
                        Code::E0202,
                        t.name_span,
                        format!("task `{}` does not set `{}`", t.id, f.name),
                        format!("`{}` is missing", f.name),
                    )
                    .with_label(
                        f.span,
                        format!("`{}` requires `{}: {}`", op.name, f.name, f.ty),
                    )
                    .with_help(format!("add `{} = ...` to the task", f.name)),
                );
            }
        }
        check_mapping(t, diags);
        if op.is_sensor {
            let can_defer = op.fields.iter().any(|f| f.name == "deferrable");
            check_sensor(t, can_defer, diags);
        }
    }

    check_roles(prog, dag, edges, diags);

    let op_class = |t: &crate::dag::TaskB| {
        let op = &prog.operators[t.op];
        format!("{}.{}", op.module_path, op.class)
    };
    crate::rules::check(dag, edges, &op_class, target, diags);

    let cycle = find_cycle(dag, edges);
    if let Some(cycle) = cycle {
        let names: Vec<&str> = cycle
            .iter()
            .map(|(a, _, _)| dag.tasks[*a].id.as_str())
            .collect();
        let ((_, _, first), rest) = cycle.split_first()?;
        let mut d = Diagnostic::at(
            Code::E0309,
            *first,
            format!(
                "dependency cycle in {}: {} >> {}",
                dag.what(),
                names.join(" >> "),
                names[0]
            ),
            format!(
                "`{}` >> `{}`",
                dag.tasks[cycle[0].0].id, dag.tasks[cycle[0].1].id
            ),
        );
        for (a, b, span) in rest {
            d = d.with_label(
                *span,
                format!("`{}` >> `{}`", dag.tasks[*a].id, dag.tasks[*b].id),
            );
        }
        diags.push(d.with_help("a DAG cannot loop back; remove one of these dependencies"));
    }

    let mut out = dagf_ir::Dag::new(
        dag.id.clone(),
        sources.get(dag.span.file).name.clone(),
        dag.name_span,
    );
    let mut args: Vec<&Slot> = dag.slots.iter().collect();
    args.sort_by_key(|s| dag_args.fields.iter().position(|f| f.name == *s.name));
    for s in args {
        if &*s.name == "default_args" {
            if let V::Record(fields) = &s.value.v {
                out.default_args = fields
                    .iter()
                    .filter(|(_, v)| !matches!(v.v, V::None))
                    .map(|(k, v)| {
                        // A key's layer: the `default_args` statement its value is written in.
                        let mut f = lower_field(k, v, v.span, provenance);
                        let within = |sp: &Span| {
                            sp.file == v.span.file
                                && sp.start <= v.span.start
                                && v.span.end <= sp.end
                        };
                        let layer = s
                            .history
                            .iter()
                            .chain([&(s.layer, s.span)])
                            .find(|(_, sp)| within(sp))
                            .map(|(l, _)| layer_names(*l));
                        if provenance {
                            f.provenance = match layer {
                                Some(layer) => vec![(layer, v.span)],
                                // Written in no statement of the layers: a value read
                                // from a config file (or a record passed in), which the
                                // last layer's statement took in; if the record lacked
                                // it, its field's declared default is what applied.
                                None => {
                                    let reader = layer_names(s.layer);
                                    declared_default(defaulted, sources, v, k, &reader)
                                        .unwrap_or_else(|| {
                                            let file = &sources.get(v.span.file).name;
                                            vec![(
                                                format!("{reader}, from `{file}`").into(),
                                                v.span,
                                            )]
                                        })
                                }
                            };
                        }
                        f
                    })
                    .collect();
            }
        } else if !matches!(s.value.v, V::None) || &*s.name == "schedule" {
            out.args
                .push(lower_slot(s, layer_names, provenance, defaulted, sources));
        }
    }
    if !dag.params.is_empty() {
        let place = |name: &str| dag_args.fields.iter().position(|f| f.name == name);
        let at = out
            .args
            .iter()
            .position(|f| place(&f.name) > place("params"))
            .unwrap_or(out.args.len());
        let first = dag
            .params
            .iter()
            .map(|p| p.span)
            .next()
            .unwrap_or(dag.name_span);
        out.args.insert(
            at,
            Field {
                name: "params".into(),
                value: crate::eval::lower_params(&dag.params),
                origin: first,
                provenance: if provenance {
                    dag.params
                        .iter()
                        .map(|p| (layer_names(p.layer), p.span))
                        .collect()
                } else {
                    Vec::new()
                },
            },
        );
    }
    // Airflow's default for `catchup` is a setting, and it changed between versions:
    // every file says what it does, so no reader needs to know the default.
    if out.arg("catchup").is_none() {
        let place = |name: &str| dag_args.fields.iter().position(|f| f.name == name);
        let at = out
            .args
            .iter()
            .position(|f| place(&f.name) > place("catchup"))
            .unwrap_or(out.args.len());
        let provenance = if provenance {
            vec![(std::sync::Arc::from("dagf's default"), dag.name_span)]
        } else {
            Vec::new()
        };
        out.args.insert(
            at,
            Field {
                name: "catchup".to_string(),
                value: dagf_ir::Value::Bool(false),
                origin: dag.name_span,
                provenance,
            },
        );
    }
    out.groups = dag
        .groups
        .iter()
        .map(|g| dagf_ir::Group {
            group_id: g.local.clone(),
            parent: g.parent.map(GroupId::index),
            tooltip: slot(&g.slots, "tooltip").and_then(|s| match &s.value.v {
                V::Str(t) => Some(t.to_string()),
                _ => None,
            }),
            order: g.order,
            mapped: g.mapped.as_ref().map(|m| {
                dagf_ir::Mapped::Expand(
                    m.slots
                        .iter()
                        .map(|s| lower_slot(s, layer_names, provenance, defaulted, sources))
                        .collect(),
                )
            }),
            span: g.name_span,
        })
        .collect();
    let mut nodes: IdVec<TaskId, NodeIndex> = IdVec::default();
    for t in &dag.tasks {
        let op = &prog.operators[t.op];
        let order = |name: &str| {
            op.fields
                .iter()
                .position(|f| f.name == name)
                .or_else(|| {
                    task_args
                        .fields
                        .iter()
                        .position(|f| f.name == name)
                        .map(|i| 1000 + i)
                })
                .or_else(|| {
                    sensor_args
                        .fields
                        .iter()
                        .position(|f| f.name == name)
                        .map(|i| 2000 + i)
                })
                .unwrap_or(usize::MAX)
        };
        let mut slots: Vec<&Slot> = t
            .slots
            .iter()
            .filter(|s| !matches!(s.value.v, V::None))
            // Role fields become `as_setup()`/`as_teardown()`, not arguments.
            .filter(|s| {
                !crate::eval::ROLE_FIELDS.contains(&&*s.name) || declares(prog, t.op, &s.name)
            })
            .collect();
        slots.sort_by_key(|s| order(&s.name));
        nodes.push(
            out.graph.add_node(Task {
                task_id: t.id.clone(),
                local_id: t.local.clone(),
                group: t.group.map(GroupId::index),
                op: op.ir.clone(),
                args: slots
                    .iter()
                    .map(|s| lower_slot(s, layer_names, provenance, defaulted, sources))
                    .collect(),
                role: role(prog, t),
                mapped: t.mapped.as_ref().map(|m| {
                    let mut fields = m
                        .slots
                        .iter()
                        .map(|s| lower_slot(s, layer_names, provenance, defaulted, sources));
                    match (m.kwargs, fields.next()) {
                        (true, Some(f)) => dagf_ir::Mapped::ExpandKwargs(f),
                        (_, first) => {
                            dagf_ir::Mapped::Expand(first.into_iter().chain(fields).collect())
                        }
                    }
                }),
                span: t.span,
            }),
        );
    }
    for (a, b, span) in edges {
        out.graph.add_edge(nodes[*a], nodes[*b], *span);
    }
    Some(out)
}

/// Whether operator `op` declares a field `name` of its own (which then is not a role field).
fn declares(prog: &Program, op: crate::ids::OperatorId, name: &str) -> bool {
    prog.operators[op].fields.iter().any(|f| f.name == name)
}

/// The role fields of a task that the operator does not take as its own arguments.
fn role_slot<'s>(prog: &Program, t: &'s crate::dag::TaskB, name: &str) -> Option<&'s Slot> {
    slot(&t.slots, name).filter(|_| !declares(prog, t.op, name))
}

/// What a task is for, as the IR says it.
fn role(prog: &Program, t: &crate::dag::TaskB) -> dagf_ir::Role {
    let d = |n: &str| declares(prog, t.op, n);
    if t.teardown_span(d).is_some() {
        dagf_ir::Role::Teardown {
            on_failure_fail_dagrun: role_slot(prog, t, "on_failure_fail_dagrun").and_then(|s| {
                match s.value.v {
                    V::Bool(b) => Some(b),
                    _ => None,
                }
            }),
        }
    } else if t.setup_span(d).is_some() {
        dagf_ir::Role::Setup
    } else {
        dagf_ir::Role::Work
    }
}

/// Airflow's rules for setup and teardown tasks (`baseoperator.py` `_convert_is_setup`,
/// `_convert_is_teardown`, `abstractoperator.py` `as_teardown` and the
/// `on_failure_fail_dagrun` setter, `dag.py` `validate_setup_teardown`).
fn check_roles(
    prog: &Program,
    dag: &DagB,
    edges: &[(TaskId, TaskId, Span)],
    diags: &mut Diagnostics,
) {
    let roles: Vec<(Option<Span>, Option<Span>)> = dag
        .tasks
        .iter()
        .map(|t| {
            let d = |n: &str| declares(prog, t.op, n);
            (t.setup_span(d), t.teardown_span(d))
        })
        .collect();
    let default_rule = slot(&dag.slots, "default_args").and_then(|s| match &s.value.v {
        V::Record(fields) => fields
            .iter()
            .find(|(k, _)| &**k == "trigger_rule")
            .map(|(_, v)| v.clone()),
        _ => None,
    });
    for (i, t) in dag.tasks.iter().enumerate() {
        let (setup, teardown) = roles[i];
        if let (Some(s), Some(td)) = (setup, teardown) {
            diags.push(
                Diagnostic::at(
                    Code::E0340,
                    td,
                    format!("task `{}` is both a setup and a teardown task", t.id),
                    "makes it a teardown",
                )
                .with_label(s, "makes it a setup")
                .with_help("a teardown's `setups` are the tasks that made what it cleans up; make this task one or the other"),
            );
            continue;
        }
        if let Some(f) = role_slot(prog, t, "on_failure_fail_dagrun")
            && teardown.is_none()
        {
            diags.push(
                Diagnostic::at(
                    Code::E0342,
                    f.span,
                    format!("task `{}` is not a teardown task, so it takes no `on_failure_fail_dagrun`", t.id),
                    "only for a teardown",
                )
                .with_help("make it a teardown (`teardown = true`, or `setups = [...]`), or remove the field"),
            );
        }
        if let Some(td) = teardown
            && let Some(rule) = slot(&t.slots, "trigger_rule")
        {
            diags.push(
                Diagnostic::at(
                    Code::E0343,
                    rule.span,
                    format!("teardown task `{}` sets a trigger rule, which Airflow replaces", t.id),
                    "replaced by `all_done_setup_success`",
                )
                .with_label(td, "a teardown task")
                .with_help("remove it: a teardown runs once its upstream tasks are done, whatever their outcome, if a setup succeeded"),
            );
        }
    }
    let mut reported: Vec<TaskId> = Vec::new();
    for &(a, b, span) in edges {
        if roles[a.index()].0.is_none()
            || roles[a.index()].1.is_some()
            || roles[b.index()].1.is_some()
            || reported.contains(&b)
        {
            continue;
        }
        let down = &dag.tasks[b];
        let (rule, at) = match slot(&down.slots, "trigger_rule") {
            Some(s) => (s.value.clone(), s.span),
            None => match &default_rule {
                Some(v) => (v.clone(), v.span),
                None => continue,
            },
        };
        if let V::Str(r) = &rule.v
            && &**r != "all_success"
        {
            reported.push(b);
            diags.push(
                Diagnostic::at(
                    Code::E0341,
                    at,
                    format!("task `{}` follows setup task `{}` with trigger rule `{r}`", down.id, dag.tasks[a].id),
                    "not `all_success`",
                )
                .with_label(span, "directly downstream of the setup here")
                .with_help("Airflow requires `all_success` right after a setup task: remove the rule, or put a task with it further downstream"),
            );
        }
    }
}

/// A mapped task's fields against what it maps: a field is either shared by every
/// instance or mapped, never both (E0336, Airflow's "unmappable or already
/// specified"); with `expand_kwargs`, a literal item's fields likewise. And the
/// arguments that mean something only for a mapped task (W0010).
fn check_mapping(t: &crate::dag::TaskB, diags: &mut Diagnostics) {
    let Some(m) = &t.mapped else {
        for name in ["map_index_template", "max_active_tis_per_dagrun"] {
            if let Some(s) = slot(&t.slots, name) {
                diags.push(
                    Diagnostic::at(
                        Code::W0010,
                        s.span,
                        format!("`{name}` on task `{}`, which is not mapped", t.id),
                        "has no effect on a task that is not mapped",
                    )
                    .with_help(format!(
                        "`{name}` applies to the instances of a mapped task: map the task with `expand` or `expand_kwargs`, or remove `{name}`"
                    )),
                );
            }
        }
        return;
    };
    let mut mapped: Vec<(&str, Span)> = Vec::new();
    for s in &m.slots {
        if m.kwargs {
            if let V::List(items) = &s.value.v {
                for item in items.iter() {
                    if let V::Record(kv) = &item.v {
                        for (k, x) in kv.iter() {
                            if !mapped.iter().any(|(n, _)| n == &&**k) {
                                mapped.push((k, x.span));
                            }
                        }
                    }
                }
            }
        } else {
            mapped.push((&s.name, s.value.span));
        }
    }
    for (name, at) in mapped {
        if let Some(shared) = slot(&t.slots, name) {
            diags.push(
                Diagnostic::at(
                    Code::E0336,
                    at,
                    format!("`{name}` of task `{}` is both mapped and set for every instance", t.id),
                    "mapped here",
                )
                .with_label(shared.span, "and set here")
                .with_help(format!(
                    "a field is either the same for every instance (set it in the task) or mapped (in `expand`): remove one of the two `{name}`"
                )),
            );
        }
    }
}

fn check_sensor(t: &crate::dag::TaskB, can_defer: bool, diags: &mut Diagnostics) {
    let poke = slot(&t.slots, "poke_interval");
    let timeout = slot(&t.slots, "timeout");
    if [poke, timeout]
        .into_iter()
        .flatten()
        .any(|s| s.value.is_error())
    {
        // Already reported; a default in its place would give a misleading comparison.
        return;
    }
    let (p, to) = (
        ms(poke).unwrap_or(DEFAULT_POKE_MS),
        ms(timeout).unwrap_or(DEFAULT_TIMEOUT_MS),
    );
    for (s, name) in [(poke, "poke_interval"), (timeout, "timeout")] {
        if let Some(s) = s
            && ms(Some(s)).is_some_and(|v| v <= 0)
        {
            diags.push(
                Diagnostic::at(
                    Code::E0312,
                    s.span,
                    format!("`{name}` of sensor `{}` must be positive", t.id),
                    "zero or negative",
                )
                .with_help(format!("set `{name}` to a positive duration such as 1m")),
            );
            return;
        }
    }
    if to < p {
        let mut d = Diagnostic::new(
            Code::E0306,
            format!(
                "sensor `{}` times out before its first poke interval ends",
                t.id
            ),
        );
        d = match (timeout, poke) {
            (Some(ts), Some(ps)) => d
                .with_primary(
                    ts.span,
                    format!("timeout is {}", dagf_syntax::duration_text(to)),
                )
                .with_label(
                    ps.span,
                    format!("poke_interval is {}", dagf_syntax::duration_text(p)),
                ),
            (Some(ts), None) => d
                .with_primary(
                    ts.span,
                    format!("timeout is {}", dagf_syntax::duration_text(to)),
                )
                .with_note("poke_interval defaults to 1m"),
            (None, Some(ps)) => d
                .with_primary(
                    ps.span,
                    format!("poke_interval is {}", dagf_syntax::duration_text(p)),
                )
                .with_note("timeout defaults to 7d"),
            (None, None) => d.with_primary(t.name_span, "here"),
        };
        diags.push(d.with_help("make `timeout` at least as long as `poke_interval`"));
    }
    let flag = |name: &str| slot(&t.slots, name).filter(|s| matches!(s.value.v, V::Bool(true)));
    if let (Some(soft), Some(never)) = (flag("soft_fail"), flag("never_fail")) {
        diags.push(
            Diagnostic::at(
                Code::E0307,
                never.span,
                format!("sensor `{}` sets both `soft_fail` and `never_fail`", t.id),
                "never_fail is set here",
            )
            .with_label(soft.span, "soft_fail is set here")
            .with_help("keep one: `soft_fail` skips on timeout, `never_fail` skips on any failure"),
        );
    }
    let mode_is_poke =
        slot(&t.slots, "mode").is_none_or(|s| matches!(&s.value.v, V::Str(m) if &**m == "poke"));
    // A deferrable sensor gives its worker slot back while it waits, whatever the mode.
    let deferrable = flag("deferrable").is_some();
    if mode_is_poke && !deferrable && p >= SLOW_POKE_MS {
        let at = poke.map_or(t.name_span, |s| s.span);
        diags.push(
            Diagnostic::at(Code::W0003, at, format!("sensor `{}` holds a worker slot while it waits {} between pokes", t.id, dagf_syntax::duration_text(p)), "slow poke in poke mode")
                .with_help(if can_defer {
                    "set `mode = \"reschedule\"` so the slot is freed between pokes, or `deferrable = true`"
                } else {
                    "set `mode = \"reschedule\"` so the slot is freed between pokes"
                }),
        );
    }
}

/// The longest `timedelta` Python has: 999,999,999 days (and a day less a
/// microsecond), in milliseconds either way.
const MAX_TIMEDELTA_MS: i64 = 999_999_999 * 86_400_000 + 86_399_999;
const MIN_TIMEDELTA_MS: i64 = -999_999_999 * 86_400_000;

/// Reports durations Python's `timedelta` cannot hold and datetimes Airflow cannot turn
/// into UTC (it converts every start and end date), anywhere inside `v`.
fn python_value_check(v: &Value, diags: &mut Diagnostics) {
    match &v.v {
        V::Duration(ms) if !(MIN_TIMEDELTA_MS..=MAX_TIMEDELTA_MS).contains(ms) => diags.push(
            Diagnostic::at(
                Code::E0204,
                v.span,
                format!(
                    "{} is longer than Python's timedelta can hold",
                    dagf_syntax::duration_text(*ms)
                ),
                "out of range",
            )
            .with_help("a duration is at most 999999999 days either way"),
        ),
        V::DateTime(t) if !utc_year_in_range(t) => diags.push(
            Diagnostic::at(
                Code::E0204,
                v.span,
                "this datetime falls outside the years 1 to 9999 once converted to UTC",
                "out of range",
            )
            .with_help("Airflow converts dates to UTC; move it away from the end of the calendar"),
        ),
        V::List(xs) | V::AssetAll(xs) | V::AssetAny(xs) => {
            xs.iter().for_each(|x| python_value_check(x, diags))
        }
        V::Record(kv) => kv.iter().for_each(|(_, x)| python_value_check(x, diags)),
        V::Callback(c) => c
            .args
            .iter()
            .for_each(|(_, x)| python_value_check(x, diags)),
        _ => {}
    }
}

/// Whether a datetime stays within Python's years once its offset is taken off.
fn utc_year_in_range(t: &dagf_time::DateTime) -> bool {
    let d = t.date;
    let minutes = i64::from(t.hour) * 60 + i64::from(t.minute) - i64::from(t.offset_minutes);
    let earliest = (d.year, d.month, d.day) == (1, 1, 1) && minutes < 0;
    let latest = (d.year, d.month, d.day) == (9999, 12, 31) && minutes >= 24 * 60;
    !(earliest || latest)
}

/// The first cycle in the task graph as (from, to, span) edges, if there is one.
fn find_cycle(dag: &DagB, edges: &[(TaskId, TaskId, Span)]) -> Option<Vec<(TaskId, TaskId, Span)>> {
    let mut g: DiGraph<(), Span> = DiGraph::new();
    let nodes: IdVec<TaskId, NodeIndex> = dag.tasks.ids().map(|_| g.add_node(())).collect();
    for (a, b, s) in edges {
        g.add_edge(nodes[*a], nodes[*b], *s);
    }
    // Sorting walks the graph on a loop; the components are found by recursion, as
    // deep as the longest path, so only when there is a cycle to show.
    if petgraph::algo::toposort(&g, None).is_ok() {
        return None;
    }
    for scc in petgraph::algo::tarjan_scc(&g) {
        let self_loop = scc.len() == 1 && g.find_edge(scc[0], scc[0]).is_some();
        if scc.len() < 2 && !self_loop {
            continue;
        }
        // Walk inside the component from its smallest node until it closes.
        let start = *scc.iter().min()?;
        let mut path: Vec<(TaskId, TaskId, Span)> = Vec::new();
        let mut seen = vec![start];
        let mut cur = start;
        loop {
            let (next, span) = g
                .edges(cur)
                .filter(|e| scc.contains(&petgraph::visit::EdgeRef::target(e)))
                .map(|e| {
                    (
                        petgraph::visit::EdgeRef::target(&e),
                        *petgraph::visit::EdgeRef::weight(&e),
                    )
                })
                .min_by_key(|(t, _)| if *t == start { 0 } else { t.index() + 1 })?;
            // Nodes were added in task order, so a node's index is its task's.
            let task = |n: NodeIndex| TaskId::from_index(n.index());
            path.push((task(cur), task(next), span));
            if next == start {
                return Some(path);
            }
            if let Some(pos) = seen.iter().position(|s| *s == next) {
                return Some(path.split_off(pos));
            }
            seen.push(next);
            cur = next;
        }
    }
    None
}

fn lower_field(name: &str, v: &Value, origin: Span, provenance: bool) -> Field {
    Field {
        name: name.to_string(),
        value: lower(v),
        origin,
        provenance: if provenance {
            vec![(std::sync::Arc::from("set"), origin)]
        } else {
            Vec::new()
        },
    }
}

/// A slot as an IR field, with the layers behind it named.
fn lower_slot(
    s: &Slot,
    layer_names: &dyn Fn(crate::layers::Layer) -> std::sync::Arc<str>,
    provenance: bool,
    defaulted: &Defaulted,
    sources: &Sources,
) -> Field {
    Field {
        name: s.name.to_string(),
        value: lower(&s.value),
        origin: s.span,
        provenance: if provenance {
            let mut layers: Vec<(std::sync::Arc<str>, Span)> = s
                .history
                .iter()
                .map(|(l, sp)| (layer_names(*l), *sp))
                .collect();
            let (v, at) = (&s.value, s.span);
            let written_there =
                v.span.file == at.file && at.start <= v.span.start && v.span.end <= at.end;
            let reader = layer_names(s.layer);
            match declared_default(defaulted, sources, v, &s.name, &reader) {
                Some(last) if !written_there => layers.extend(last),
                _ => layers.push((reader, at)),
            }
            layers
        } else {
            Vec::new()
        },
    }
}

/// The layers of a value that is a field's declared default, taken by a record that
/// lacks the field: the record (as the layer `reader` read it) and the default. `None`
/// when no default gave the value, or when two of the record's defaults could have.
fn declared_default(
    defaulted: &Defaulted,
    sources: &Sources,
    v: &Value,
    name: &str,
    reader: &str,
) -> Option<Vec<(std::sync::Arc<str>, Span)>> {
    let noted = defaulted.get(&v.span)?;
    let value = lower(v);
    let fits: Vec<&Default> = noted.iter().filter(|d| d.value == value).collect();
    let d = match fits.as_slice() {
        [one] => *one,
        _ => *fits.iter().find(|d| d.field == name)?,
    };
    let file = &sources.get(v.span.file).name;
    let what = if file.ends_with(".dagf") {
        "the record"
    } else {
        "the item"
    };
    let default = if d.owner.is_empty() {
        format!("the declared default of `{}`", d.field)
    } else {
        format!("the declared default of `{}` in `{}`", d.field, d.owner)
    };
    Some(vec![
        (
            format!(
                "{what} without `{}` that {reader} read from `{file}`",
                d.field
            )
            .into(),
            v.span,
        ),
        (default.into(), d.at),
    ])
}

pub(crate) fn lower(v: &Value) -> dagf_ir::Value {
    use dagf_ir::Value as I;
    match &v.v {
        V::None | V::Error | V::Item(_) | V::Partial(_) | V::Tenant(_) => I::None,
        V::Bool(b) => I::Bool(*b),
        V::Int(i) => I::Int(*i),
        V::Float(f) => I::Float(*f),
        V::Str(s) => I::Str(s.to_string()),
        V::Duration(ms) => I::Duration(*ms),
        V::Date(d) => I::Date(*d),
        V::DateTime(t) => I::DateTime(*t),
        V::Preset(p) => I::Str(format!("@{p}")),
        V::List(items) => I::List(items.iter().map(lower).collect()),
        V::Record(fields) => I::Dict(
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), lower(v)))
                .collect(),
        ),
        V::PyRef(p) => {
            let (module, name) = p.rsplit_once('.').unwrap_or(("", p));
            I::PyRef {
                module: module.to_string(),
                name: name.to_string(),
            }
        }
        V::Callback(c) => {
            let (module, name) = c.path.rsplit_once('.').unwrap_or(("", &c.path));
            I::Callable {
                module: module.to_string(),
                name: name.to_string(),
                // An optional argument left as `none` is not passed, like any other.
                args: c
                    .args
                    .iter()
                    .filter(|(_, v)| !matches!(v.v, V::None))
                    .map(|(k, v)| (k.to_string(), lower(v)))
                    .collect(),
                instance: c.kind == dagf_syntax::ast::CallbackKind::Notifier,
            }
        }
        V::Asset(a) => I::Asset {
            name: a.name.clone(),
            uri: a.uri.clone(),
            alias: a.alias,
            args: a
                .args
                .iter()
                .map(|(k, v)| (k.to_string(), lower(v)))
                .collect(),
        },
        V::AssetAll(xs) => I::AssetAll(xs.iter().map(lower).collect()),
        V::AssetAny(xs) => I::AssetAny(xs.iter().map(lower).collect()),
        V::Task(t) => I::Int(t.index() as i64),
        V::Group(g) => I::Int(g.index() as i64),
        V::Output(o) => I::Output {
            task: o
                .producer
                .get()
                .and_then(|p| p.as_ref())
                .map_or_else(String::new, |(_, id)| id.to_string()),
            key: o.key.as_ref().map(|k| k.to_string()),
        },
        V::MapArg(a) => I::MappedArg {
            param: a.param.to_string(),
        },
    }
}
