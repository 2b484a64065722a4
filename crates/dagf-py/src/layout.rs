//! The layout of a generated file: header, imports, module-level assets, the DAG with
//! its tasks and groups, then the dependency lines.

use crate::fmt::{INDENT, LINE, flat_or_exploded, join, pad};
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
        Value::Dict(fields) => Some(timetable_record(dag, target, fields)),
        // A zone is the timetable's, so that it holds with or without a start date.
        Value::Str(s) if dag_zone(dag).is_some() => {
            let cron = match s.strip_prefix('@') {
                Some(p) => preset_cron(p)?,
                None => s.as_str(),
            };
            Some(timetable(
                target,
                Name::CronTriggerTimetable,
                vec![
                    (String::new(), Value::Str(cron.to_string())),
                    ("timezone".to_string(), schedule_timezone(dag)),
                ],
            ))
        }
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

/// The timetable a schedule record stands for: a class of the project's with its
/// arguments, or one of Airflow's cron timetables (several crons make a
/// `MultipleCronTriggerTimetable`, `data_interval = true` a `CronDataIntervalTimetable`).
fn timetable_record(dag: &Dag, target: Target, fields: &[(String, Value)]) -> Value {
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v);
    if let Some(Value::PyRef { module, name }) = get("timetable") {
        let args = match get("args") {
            Some(Value::Dict(args)) => args.clone(),
            _ => Vec::new(),
        };
        return Value::Callable {
            module: module.clone(),
            name: name.clone(),
            args,
            instance: true,
        };
    }
    let cron = |v: &Value| match v {
        Value::Str(s) => {
            let cron = s.strip_prefix('@').and_then(preset_cron);
            Value::Str(cron.map_or_else(|| s.clone(), str::to_string))
        }
        other => other.clone(),
    };
    let (name, mut args) = match get("cron") {
        Some(Value::List(crons)) if crons.len() > 1 => (
            Name::MultipleCronTriggerTimetable,
            crons.iter().map(|c| (String::new(), cron(c))).collect(),
        ),
        Some(Value::List(crons)) => (
            Name::CronTriggerTimetable,
            crons.iter().map(|c| (String::new(), cron(c))).collect(),
        ),
        Some(c) => (Name::CronTriggerTimetable, vec![(String::new(), cron(c))]),
        None => (Name::CronTriggerTimetable, Vec::new()),
    };
    let name = match get("data_interval") {
        Some(Value::Bool(true)) => Name::CronDataIntervalTimetable,
        _ => name,
    };
    let zone = get("timezone")
        .cloned()
        .unwrap_or_else(|| schedule_timezone(dag));
    args.push(("timezone".to_string(), zone));
    for key in ["interval", "run_immediately"] {
        if let Some(v) = get(key) {
            args.push((key.to_string(), v.clone()));
        }
    }
    timetable(target, name, args)
}

/// The dag's `timezone`, if it set one.
fn dag_zone(dag: &Dag) -> Option<&str> {
    match &dag.arg("timezone")?.value {
        Value::Str(zone) => Some(zone),
        _ => None,
    }
}

/// `start` or `end` in the dag's time zone: `datetime(..., tzinfo=Timezone("Europe/Paris"))`,
/// the wall-clock time as written, which pendulum's zone turns into the right offset for
/// that date (summer or winter time). `None` for a dag without a zone.
fn zoned(dag: &Dag, value: &Value) -> Option<Value> {
    let zone = dag_zone(dag)?;
    let Value::DateTime(t) = value else {
        return None;
    };
    let d = t.date;
    let mut args: Vec<(String, Value)> = [i64::from(d.year), i64::from(d.month), i64::from(d.day)]
        .into_iter()
        .map(|n| (String::new(), Value::Int(n)))
        .collect();
    if (t.hour, t.minute, t.second) != (0, 0, 0) {
        args.push((String::new(), Value::Int(i64::from(t.hour))));
        args.push((String::new(), Value::Int(i64::from(t.minute))));
        if t.second != 0 {
            args.push((String::new(), Value::Int(i64::from(t.second))));
        }
    }
    args.push((
        "tzinfo".to_string(),
        Value::Callable {
            module: "pendulum".to_string(),
            name: "Timezone".to_string(),
            args: vec![(String::new(), Value::Str(zone.to_string()))],
            instance: true,
        },
    ));
    Some(Value::Callable {
        module: "datetime".to_string(),
        name: "datetime".to_string(),
        args,
        instance: true,
    })
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
    if let Some(zone) = dag_zone(dag) {
        return Value::Str(zone.to_string());
    }
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

/// The DAG fields whose value is written otherwise than the IR holds it: the schedule
/// as the target reads it, and `start` and `end` in the dag's time zone.
struct Rewritten {
    schedule: Option<Value>,
    start: Option<Value>,
    end: Option<Value>,
}

/// A DAG field as a keyword argument of `DAG(...)`, its value as the target reads it.
fn dag_arg<'v>(f: &'v Field, rewritten: &'v Rewritten, target: Target) -> (&'v str, &'v Value) {
    let value = match f.name.as_str() {
        "schedule" => rewritten.schedule.as_ref(),
        "start" => rewritten.start.as_ref(),
        "end" => rewritten.end.as_ref(),
        _ => None,
    };
    (target.dag_kwarg(&f.name), value.unwrap_or(&f.value))
}

/// Whether a DAG field is passed to `DAG(...)`: `timezone` is not an argument of
/// Airflow's, but the zone of the start date and the timetable.
fn passed(f: &&Field) -> bool {
    f.name != "timezone"
}

/// Appends the whole Python file for one DAG to `out`.
pub(crate) fn generate_into(out: &mut String, dag: &Dag, options: Options) {
    let Options { style, target } = options;
    let rewritten = Rewritten {
        schedule: target_schedule(dag, target),
        start: dag.arg("start").and_then(|f| zoned(dag, &f.value)),
        end: dag.arg("end").and_then(|f| zoned(dag, &f.value)),
    };
    let dag_arg = |f| dag_arg(f, &rewritten, target);
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
    // A mapped group makes the task whose output it is mapped over upstream of its
    // first tasks itself.
    let mapped_group = |i: usize| dag.mapped_group_of(dag.task(i));
    let all_pairs = dag.edge_pairs();
    edges.retain(|&(a, b)| {
        let Some(gi) = mapped_group(b) else {
            return true;
        };
        let over_output = dag.groups[gi].mapped.as_ref().is_some_and(|m| {
            m.fields().iter().any(
                |f| matches!(&f.value, Value::Output { task, .. } if *task == dag.task(a).task_id),
            )
        });
        if !over_output || mapped_group(a) == Some(gi) {
            return true;
        }
        // Airflow makes the task upstream of the group's first tasks, and of each task
        // given one of the group's items.
        let first = dag.task(b).reads_mapped_arg()
            || !all_pairs
                .iter()
                .any(|&(x, y)| y == b && mapped_group(x) == Some(gi));
        if first {
            connected[a] = true;
            return false;
        }
        true
    });
    for &(a, b) in &edges {
        connected[a] = true;
        connected[b] = true;
    }
    // The edges inside a mapped group are written in its function; what the rest of
    // the file names of it, the function returns.
    let mut group_edges: std::collections::HashMap<usize, Vec<(usize, usize)>> = Default::default();
    let mut exported = vec![false; dag.graph.node_count()];
    edges.retain(|&(a, b)| match (mapped_group(a), mapped_group(b)) {
        (Some(x), Some(y)) if x == y => {
            group_edges.entry(x).or_default().push((a, b));
            false
        }
        (x, y) => {
            if x.is_some() {
                exported[a] = true;
            }
            if y.is_some() {
                exported[b] = true;
            }
            true
        }
    });
    for (j, t) in dag.tasks().enumerate() {
        for id in t.outputs_read() {
            if let Some(i) = dag.task_index(id).map(|n| n.index())
                && mapped_group(i).is_some()
                && mapped_group(i) != mapped_group(j)
            {
                exported[i] = true;
            }
        }
    }
    for grp in &dag.groups {
        for f in grp.mapped.iter().flat_map(|m| m.fields()) {
            if let Value::Output { task, .. } = &f.value
                && let Some(i) = dag.task_index(task).map(|n| n.index())
                && mapped_group(i).is_some()
            {
                exported[i] = true;
            }
        }
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
        group_edges,
        exported,
        mapped_args: Default::default(),
    };
    // Reserve the names imports will take before naming tasks.
    let dag_name = match style {
        Style::Classic => Name::Dag,
        Style::Taskflow => Name::DagDecorator,
    };
    g.import(dag_name);
    if dag.groups.iter().any(|grp| grp.mapped.is_none()) {
        g.import(Name::TaskGroup);
    }
    if dag.groups.iter().any(|grp| grp.mapped.is_some()) {
        g.import(Name::TaskGroupDecorator);
    }
    for t in dag.tasks() {
        match g.decorator(t) {
            Some(_) => g.import(Name::TaskDecorator),
            None => g.imports.add(&t.op.module, &t.op.class),
        }
        for f in t
            .args
            .iter()
            .chain(t.mapped.iter().flat_map(|m| m.fields()))
        {
            g.collect(&f.value);
        }
    }
    for f in dag
        .groups
        .iter()
        .flat_map(|grp| grp.mapped.iter())
        .flat_map(|m| m.fields())
    {
        g.collect(&f.value);
    }
    for f in dag.args.iter().filter(passed) {
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
        for i in 0..g.assets.len() {
            g.assets[i].var = unique_var(Cow::Borrowed(g.assets[i].name), &mut taken);
            let asset = &g.assets[i];
            let class = if asset.alias {
                Name::AssetAlias
            } else {
                Name::Asset
            };
            out.push_str(&asset.var);
            out.push_str(" = ");
            if asset.args.is_empty() {
                out.push_str(g.name(class));
                out.push('(');
                push_py_str(out, asset.uri);
                out.push(')');
            } else {
                // Written as a record: Airflow's keywords, as a call of the class.
                let (module, name) = target.import(class);
                let call = Value::Callable {
                    module: module.to_string(),
                    name: name.to_string(),
                    args: asset.args.to_vec(),
                    instance: true,
                };
                g.value(out, &call, 0, asset.var.len() + 3, 0);
            }
            out.push('\n');
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
        .chain(before.iter().filter(passed).map(|f| kwarg(dag_arg(f))))
        .chain(default_args)
        .chain(after.iter().filter(passed).map(|f| kwarg(dag_arg(f))));
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

/// The dependency lines `ups >> downs`, in order of their first upstream task: one
/// per upstream task, except that upstream tasks whose only downstream task is the same
/// one share a line (`[a, b] >> c`). Python has no list >> list, so nothing else can be
/// merged. `edges` are sorted, without repeats.
fn dependency_lines(edges: &[(usize, usize)], nodes: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
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
    let mut shared = vec![Shared::default(); nodes];
    for run in by_upstream() {
        if let [(a, b)] = *run {
            match shared[b].last {
                Some(last) => shared[last].next = Some(a),
                None => shared[b].first = Some(a),
            }
            shared[b].last = Some(a);
        }
    }
    let mut lines = Vec::new();
    for run in by_upstream() {
        let a = run[0].0;
        if let [(_, b)] = *run
            && shared[b].first != Some(a)
        {
            continue; // On the line of an earlier task.
        }
        let ups = std::iter::successors(Some(a), |&x| shared[x].next).collect();
        lines.push((ups, run.iter().map(|&(_, b)| b).collect()));
    }
    lines
}

/// Writes the dependency lines, a line whose upstream side is the last side of another
/// continuing it as a chain (`a >> b >> c`, `a >> [b, c] >> d`) while the chain fits on
/// its line. Every pair of neighbouring sides comes from one line, so no chain has a
/// list beside a list; each `>>` gives back its right side, so the chain makes exactly
/// the edges of its lines.
pub(crate) fn write_dependencies(out: &mut String, edges: &[(usize, usize)], vars: &[Cow<str>]) {
    write_dependencies_at(out, edges, vars, INDENT);
}

/// [`write_dependencies`] at an indentation of `indent` (a mapped group's function).
pub(crate) fn write_dependencies_at(
    out: &mut String,
    edges: &[(usize, usize)],
    vars: &[Cow<str>],
    indent: usize,
) {
    let lines = dependency_lines(edges, vars.len());
    if lines.is_empty() {
        return;
    }
    out.push('\n');
    let name = |i: usize| vars[i].as_ref();
    let side_len = |side: &[usize]| -> usize {
        let names: usize = side.iter().map(|&i| name(i).len()).sum();
        match side.len() {
            1 => names,
            n => names + 2 * (n - 1) + 2,
        }
    };
    let starting: std::collections::HashMap<&[usize], usize> = lines
        .iter()
        .enumerate()
        .map(|(i, (ups, _))| (ups.as_slice(), i))
        .collect();
    // A line that continues another is written after it, in its chain.
    let continues: Vec<bool> = (0..lines.len())
        .map(|j| lines.iter().any(|(_, downs)| downs == &lines[j].0))
        .collect();
    let mut written = vec![false; lines.len()];
    for pass in [false, true] {
        for i in 0..lines.len() {
            if written[i] || (continues[i] && !pass) {
                continue;
            }
            written[i] = true;
            let (ups, downs) = (&lines[i].0, &lines[i].1);
            let mut sides: Vec<&[usize]> = vec![ups, downs];
            let mut width = indent + side_len(ups) + 4 + side_len(downs);
            while width <= LINE {
                let Some(&j) = sides.last().and_then(|last| starting.get(last)) else {
                    break;
                };
                let next = side_len(&lines[j].1);
                if written[j] || width + 4 + next > LINE {
                    break;
                }
                written[j] = true;
                sides.push(&lines[j].1);
                width += 4 + next;
            }
            if sides.len() > 2 {
                pad(out, indent);
                join(out, sides.iter(), " >> ", |out, side| {
                    write_side(
                        out,
                        side.iter().map(|&i| name(i)),
                        side.len(),
                        false,
                        indent,
                    )
                });
                out.push('\n');
                continue;
            }
            let (n_ups, n_downs) = (ups.len(), downs.len());
            let ups = || ups.iter().map(|&i| name(i));
            let downs = || downs.iter().map(|&i| name(i));
            flat_or_exploded(
                out,
                0,
                0,
                |out| {
                    pad(out, indent);
                    write_side(out, ups(), n_ups, false, indent);
                    out.push_str(" >> ");
                    write_side(out, downs(), n_downs, false, indent);
                },
                |out| {
                    // Too long: explode the longer list, one task per line.
                    let explode_ups = n_ups > n_downs;
                    pad(out, indent);
                    write_side(out, ups(), n_ups, explode_ups, indent);
                    out.push_str(" >> ");
                    write_side(out, downs(), n_downs, !explode_ups, indent);
                },
            );
            out.push('\n');
        }
    }
}

/// Writes one side of a `>>`: a task, or a list of `len` tasks (one a line if `exploded`).
pub(crate) fn write_side<'s>(
    out: &mut String,
    mut names: impl Iterator<Item = &'s str>,
    len: usize,
    exploded: bool,
    indent: usize,
) {
    if exploded {
        out.push_str("[\n");
        for name in names {
            pad(out, indent + INDENT);
            out.push_str(name);
            out.push_str(",\n");
        }
        pad(out, indent);
        out.push(']');
    } else if len == 1 {
        out.push_str(names.next().unwrap_or_default());
    } else {
        out.push('[');
        join(out, names, ", ", |out, name| out.push_str(name));
        out.push(']');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The edges a written dependency block makes, reading each line as Python would:
    /// every side to the next one. Panics on a list beside a list, which Python refuses.
    fn edges_of(text: &str) -> Vec<(usize, usize)> {
        let side = |s: &str| -> (bool, Vec<usize>) {
            let list = s.starts_with('[');
            let names = s.trim_matches(|c| c == '[' || c == ']');
            let ids = names
                .split(", ")
                .map(|n| n.trim_start_matches('t').parse().expect("a task"))
                .collect();
            (list, ids)
        };
        let mut out = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let sides: Vec<(bool, Vec<usize>)> = line.trim().split(" >> ").map(side).collect();
            for pair in sides.windows(2) {
                assert!(!(pair[0].0 && pair[1].0), "list >> list in {line:?}");
                for &a in &pair[0].1 {
                    for &b in &pair[1].1 {
                        out.push((a, b));
                    }
                }
            }
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn chains_make_exactly_the_edges_of_random_dags() {
        // A small linear congruential generator: the same cases on every run.
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let mut chained = 0;
        for _ in 0..3000 {
            let nodes = 2 + next(9) as usize;
            let density = 1 + next(4);
            let mut edges = Vec::new();
            for a in 0..nodes {
                for b in a + 1..nodes {
                    if next(8) < density {
                        edges.push((a, b));
                    }
                }
            }
            edges.sort_unstable();
            let vars: Vec<Cow<str>> = (0..nodes).map(|i| Cow::Owned(format!("t{i}"))).collect();
            let mut out = String::new();
            write_dependencies(&mut out, &edges, &vars);
            assert_eq!(edges_of(&out), edges, "{out}");
            chained += out
                .lines()
                .filter(|l| l.matches(" >> ").count() > 1)
                .count();
        }
        assert!(chained > 100, "only {chained} chains were written");
    }

    #[test]
    fn a_chain_reads_in_task_order() {
        let vars: Vec<Cow<str>> = ["extract", "transform", "load", "audit"]
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        let mut out = String::new();
        write_dependencies(&mut out, &[(0, 1), (1, 2), (2, 3)], &vars);
        assert_eq!(out, "\n    extract >> transform >> load >> audit\n");
        let mut out = String::new();
        write_dependencies(&mut out, &[(0, 1), (0, 2), (1, 3), (2, 3)], &vars);
        assert_eq!(out, "\n    extract >> [transform, load] >> audit\n");
        // A chain longer than a line goes on where the last one stopped.
        let long: Vec<Cow<str>> = (0..6)
            .map(|i| Cow::Owned(format!("a_rather_long_task_name_{i}")))
            .collect();
        let edges: Vec<(usize, usize)> = (0..5).map(|i| (i, i + 1)).collect();
        let mut out = String::new();
        write_dependencies(&mut out, &edges, &long);
        let lines: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines.iter().all(|l| l.len() <= LINE), "{out}");
        assert!(
            lines[1].starts_with("    a_rather_long_task_name_2 >> "),
            "{out}"
        );
    }
}
