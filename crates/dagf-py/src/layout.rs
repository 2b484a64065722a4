//! The layout of a generated file: header, imports, module-level assets, the DAG with
//! its tasks and groups, then the dependency lines.

use crate::fmt::{INDENT, flat_or_exploded, join, pad};
use crate::imports::Imports;
use crate::literals::push_py_str;
use crate::names::unique_var;
use crate::tasks::Gen;
use crate::values::Arg;
use crate::{Options, Style};
use dagf_ir::{Dag, Field, Value};
use dagf_target::{Name, ScheduleForm, Target, preset_cron};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write;
use std::iter::once;

/// The schedule written so that the target runs the DAG when Airflow 3 runs what the
/// source says, where that differs from the value as it is: `None` otherwise.
fn target_schedule(dag: &Dag, target: Target) -> Option<Value> {
    let value = &dag.arg("schedule")?.value;
    let form = target.schedule_form();
    match value {
        Value::Str(s) => {
            let preset = s.strip_prefix('@');
            let cron = match preset {
                Some(p) => preset_cron(p)?,
                None => s.as_str(),
            };
            match form {
                ScheduleForm::Plain if preset.is_some_and(|p| target.expands_preset(p)) => {
                    Some(Value::Str(cron.to_string()))
                }
                ScheduleForm::Plain => None,
                ScheduleForm::Timetable => Some(timetable(
                    target,
                    Name::CronTriggerTimetable,
                    vec![
                        (String::new(), Value::Str(cron.to_string())),
                        ("timezone".to_string(), schedule_timezone(dag)),
                    ],
                )),
            }
        }
        Value::Duration(_) if form == ScheduleForm::Timetable => Some(timetable(
            target,
            Name::DeltaTriggerTimetable,
            vec![(String::new(), value.clone())],
        )),
        _ => None,
    }
}

/// `Name(args...)`: a timetable object.
fn timetable(target: Target, name: Name, args: Vec<(String, Value)>) -> Value {
    let (module, name) = target.import(name);
    Value::Callable {
        module: module.to_string(),
        name: name.to_string(),
        args,
        instance: true,
    }
}

/// The time zone Airflow 3 gives a schedule written as a string: the start date's.
fn schedule_timezone(dag: &Dag) -> Value {
    let start = dag
        .arg("start")
        .or_else(|| dag.default_args.iter().find(|f| f.name == "start_date"));
    match start.map(|f| &f.value) {
        Some(Value::DateTime(t)) if t.offset_minutes != 0 => Value::Callable {
            module: "pendulum".to_string(),
            name: "FixedTimezone".to_string(),
            args: vec![(String::new(), Value::Int(i64::from(t.offset_minutes) * 60))],
            instance: true,
        },
        _ => Value::Str("UTC".to_string()),
    }
}

/// A DAG field as a keyword argument of `DAG(...)`, its value as the target reads it.
fn dag_arg<'v>(f: &'v Field, schedule: Option<&'v Value>, target: Target) -> (&'v str, &'v Value) {
    match schedule {
        Some(s) if f.name == "schedule" => (target.dag_kwarg(&f.name), s),
        _ => (target.dag_kwarg(&f.name), &f.value),
    }
}

/// Appends the whole Python file for one DAG to `out`.
pub(crate) fn generate_into(out: &mut String, dag: &Dag, options: Options) {
    let Options { style, target } = options;
    let schedule = target_schedule(dag, target);
    let dag_arg = |f| dag_arg(f, schedule.as_ref(), target);
    // Dependencies as (upstream, downstream) task indices, sorted, without repeats.
    let mut edges = Vec::with_capacity(dag.graph.edge_count());
    edges.extend(
        dag.graph
            .edge_indices()
            .filter_map(|e| dag.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index(), b.index())),
    );
    edges.sort_unstable();
    edges.dedup();
    let mut connected = vec![false; dag.graph.node_count()];
    // A task that reads another's output is downstream of it in Airflow already: the
    // edge is not written again, but the task read from needs its variable.
    edges.retain(|&(a, b)| {
        let data = dag.task(b).reads_output_of(&dag.task(a).task_id);
        if data {
            connected[a] = true;
        }
        !data
    });
    for &(a, b) in &edges {
        connected[a] = true;
        connected[b] = true;
    }
    let mut g = Gen {
        style,
        target,
        connected,
        imports: Imports {
            names: Vec::with_capacity(16),
            aliased: false,
        },
        assets: Vec::new(),
        outputs: Default::default(),
    };
    // Reserve the names imports will take before naming tasks.
    let dag_name = match style {
        Style::Classic => Name::Dag,
        Style::Taskflow => Name::DagDecorator,
    };
    g.import(dag_name);
    if !dag.groups.is_empty() {
        g.import(Name::TaskGroup);
    }
    for t in dag.tasks() {
        match g.decorator(t) {
            Some(_) => g.import(Name::TaskDecorator),
            None => g.imports.add(&t.op.module, &t.op.class),
        }
        for f in &t.args {
            g.collect(&f.value);
        }
    }
    for f in &dag.args {
        g.collect(dag_arg(f).1);
    }
    for f in &dag.default_args {
        g.collect(&f.value);
    }
    g.imports.finish();

    let mut taken: HashSet<Cow<str>> =
        HashSet::with_capacity(g.imports.names.len() + g.assets.len() + dag.graph.node_count() + 1);
    taken.extend(g.imports.locals());

    let _ = writeln!(
        out,
        "# Generated by dagfc from {}. Do not edit: change the source and run `dagfc build`.",
        dag.source
    );
    g.imports.write_lines(out);
    out.push('\n');
    if !g.assets.is_empty() {
        let class = g.name(Name::Asset).to_string();
        for asset in &mut g.assets {
            asset.var = unique_var(Cow::Borrowed(asset.name), &mut taken);
            out.push_str(&asset.var);
            out.push_str(" = ");
            out.push_str(&class);
            out.push('(');
            push_py_str(out, asset.uri);
            out.push_str(")\n");
        }
        out.push('\n');
    }
    if style == Style::Taskflow {
        // A function definition stands two blank lines from what comes before it.
        out.push('\n');
    }

    // `default_args` goes before the first of these arguments, or last.
    let split = dag
        .args
        .iter()
        .position(|f| {
            matches!(
                target.dag_kwarg(&f.name),
                "params" | "max_active_runs" | "max_active_tasks"
            )
        })
        .unwrap_or(dag.args.len());
    let (before, after) = dag.args.split_at(split);
    let default_args =
        (!dag.default_args.is_empty()).then_some(("default_args", Arg::Fields(&dag.default_args)));
    // Where Airflow reads a missing schedule as daily, no schedule is said outright.
    static NO_SCHEDULE: Value = Value::None;
    let unscheduled = (target.writes_missing_schedule() && dag.arg("schedule").is_none())
        .then_some(("schedule", Arg::Value(&NO_SCHEDULE)));
    let dag_args = once(("dag_id", Arg::Str(&dag.dag_id)))
        .chain(unscheduled)
        .chain(before.iter().map(|f| kwarg(dag_arg(f))))
        .chain(default_args)
        .chain(after.iter().map(|f| kwarg(dag_arg(f))));
    let function = match style {
        Style::Classic => {
            out.push_str("with ");
            out.push_str(g.name(dag_name));
            g.kwargs_exploded(out, dag_args, 0, ":");
            out.push('\n');
            None
        }
        Style::Taskflow => {
            let function = unique_var(Cow::Borrowed(&dag.dag_id), &mut taken);
            out.push('@');
            out.push_str(g.name(dag_name));
            g.kwargs_exploded(out, dag_args, 0, "");
            let _ = writeln!(out, "\ndef {function}():");
            Some(function)
        }
    };

    let mut vars = vec![Cow::Borrowed(""); dag.graph.node_count()];
    g.scope(out, dag, None, INDENT, &mut taken, &mut vars);
    write_dependencies(out, &edges, &vars);
    if let Some(function) = function {
        let _ = write!(out, "\n\n{function}()\n");
    }
}

/// A keyword and its value as an argument.
fn kwarg<'v>((k, v): (&'v str, &'v Value)) -> (&'v str, Arg<'v>) {
    (k, Arg::Value(v))
}

/// Writes the `a >> b` lines: one per upstream task, except that upstream tasks whose
/// only downstream task is the same one share a line (`[a, b] >> c`). Python has no
/// list >> list, so nothing else can be merged. `edges` are sorted, without repeats.
pub(crate) fn write_dependencies(out: &mut String, edges: &[(usize, usize)], vars: &[Cow<str>]) {
    /// Links between the upstream tasks that share a line, by task index.
    #[derive(Clone, Copy, Default)]
    struct Shared {
        /// The first and the last upstream task whose only downstream task this is.
        first: Option<usize>,
        last: Option<usize>,
        /// The next upstream task on the same line as this one.
        next: Option<usize>,
    }
    let by_upstream = || edges.chunk_by(|x, y| x.0 == y.0);
    let mut shared = vec![Shared::default(); vars.len()];
    for run in by_upstream() {
        if let [(a, b)] = *run {
            match shared[b].last {
                Some(last) => shared[last].next = Some(a),
                None => shared[b].first = Some(a),
            }
            shared[b].last = Some(a);
        }
    }
    if !edges.is_empty() {
        out.push('\n');
    }
    let name = |i: usize| vars[i].as_ref();
    // Lines in order of their first upstream task.
    for run in by_upstream() {
        let a = run[0].0;
        if let [(_, b)] = *run
            && shared[b].first != Some(a)
        {
            continue; // On the line of an earlier task.
        }
        let ups = std::iter::successors(Some(a), |&x| shared[x].next);
        let downs = run.iter().map(|&(_, b)| b);
        let (n_ups, n_downs) = (ups.clone().count(), run.len());
        flat_or_exploded(
            out,
            0,
            0,
            |out| {
                pad(out, INDENT);
                write_side(out, ups.clone().map(name), n_ups, false);
                out.push_str(" >> ");
                write_side(out, downs.clone().map(name), n_downs, false);
            },
            |out| {
                // Too long: explode the longer list, one task per line.
                let explode_ups = n_ups > n_downs;
                pad(out, INDENT);
                write_side(out, ups.clone().map(name), n_ups, explode_ups);
                out.push_str(" >> ");
                write_side(out, downs.clone().map(name), n_downs, !explode_ups);
            },
        );
        out.push('\n');
    }
}

/// Writes one side of a `>>`: a task, or a list of `len` tasks (one a line if `exploded`).
pub(crate) fn write_side<'s>(
    out: &mut String,
    mut names: impl Iterator<Item = &'s str>,
    len: usize,
    exploded: bool,
) {
    if exploded {
        out.push_str("[\n");
        for name in names {
            pad(out, 2 * INDENT);
            out.push_str(name);
            out.push_str(",\n");
        }
        pad(out, INDENT);
        out.push(']');
    } else if len == 1 {
        out.push_str(names.next().unwrap_or_default());
    } else {
        out.push('[');
        join(out, names, ", ", |out, name| out.push_str(name));
        out.push(']');
    }
}
