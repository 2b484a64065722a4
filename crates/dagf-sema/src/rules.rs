//! Airflow's own rules for a DAG, checked before Airflow sees the file. Each rule says
//! where Airflow 3.3 makes it (the paths are inside the `airflow` package); the book's
//! chapter "What Airflow checks, and where dagfc checks it first" lists them all.
//!
//! Rules Airflow enforces only while scheduling or running (a cron that never fires, a
//! continuous schedule with more than one run) are here too: such a DAG loads without
//! an error and then never runs as written.

use crate::dag::{DagB, TaskB};
use crate::ids::{IdVec, TaskId};
use crate::layers::Slot;
use crate::value::{V, Value};
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_target::{Feature, Target, Version};

/// Every check of this module on one finished dag.
pub(crate) fn check(
    dag: &DagB,
    edges: &[(TaskId, TaskId, Span)],
    op_class: &dyn Fn(&TaskB) -> String,
    target: Target,
    diags: &mut Diagnostics,
) {
    target_features(dag, target, diags);
    time_zone(dag, diags);
    tags(dag, diags);
    owner_links(dag, diags);
    schedule(dag, diags);
    fail_fast(dag, diags);
    group_ids(dag, diags);
    docs(dag, diags);
    access_control(dag, diags);
    priority_weights(dag, edges, diags);
    for t in &dag.tasks {
        match op_class(t).as_str() {
            EXTERNAL_TASK_SENSOR => external_task_sensor(t, diags),
            TRIGGER_DAG_RUN => trigger_dag_run(t, diags),
            BASH => bash(t, diags),
            _ => {}
        }
    }
}

/// The classes whose tasks name another dag.
pub(crate) const EXTERNAL_TASK_SENSOR: &str =
    "airflow.providers.standard.sensors.external_task.ExternalTaskSensor";
pub(crate) const TRIGGER_DAG_RUN: &str =
    "airflow.providers.standard.operators.trigger_dagrun.TriggerDagRunOperator";
const BASH: &str = "airflow.providers.standard.operators.bash.BashOperator";

fn slot<'s>(slots: &'s [Slot], name: &str) -> Option<&'s Slot> {
    slots
        .iter()
        .find(|s| &*s.name == name && !matches!(s.value.v, V::None | V::Error))
}

fn strings(v: &Value) -> Vec<(&str, Span)> {
    match &v.v {
        V::List(items) => items
            .iter()
            .filter_map(|i| match &i.v {
                V::Str(s) => Some((&**s, i.span)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `dag.py:625-628`: a tag is at most 100 characters (`dag_tag.name` is VARCHAR(100)).
fn tags(dag: &DagB, diags: &mut Diagnostics) {
    let Some(tags) = slot(&dag.slots, "tags") else {
        return;
    };
    for (tag, span) in strings(&tags.value) {
        let n = tag.chars().count();
        if n > 100 {
            diags.push(too_long("a tag", n, 100, span, "shorten the tag"));
        }
    }
}

/// E0317: text longer than the place Airflow keeps it.
fn too_long(what: &str, n: usize, max: usize, span: Span, help: &str) -> Diagnostic {
    Diagnostic::at(
        Code::E0317,
        span,
        format!("{what} of {n} characters is longer than Airflow allows ({max})"),
        "too long",
    )
    .with_help(help.to_string())
}

/// `dag.py:1203-1219`: an owner link is `mailto:ADDRESS` or a URL with a scheme and a
/// host; owners and links are at most 500 characters (`dag_owner_attributes`).
fn owner_links(dag: &DagB, diags: &mut Diagnostics) {
    let Some(links) = slot(&dag.slots, "owner_links") else {
        return;
    };
    let V::Record(entries) = &links.value.v else {
        return;
    };
    for (owner, link) in entries.iter() {
        let V::Str(url) = &link.v else { continue };
        if let Some(why) = owner_link_problem(url) {
            diags.push(
                Diagnostic::at(
                    Code::E0318,
                    link.span,
                    format!("the link of owner `{owner}` is not one Airflow accepts: {why}"),
                    "not a link",
                )
                .with_help("write a URL with a scheme and a host (\"https://wiki.example.com/team\") or \"mailto:team@example.com\""),
            );
        } else if url.chars().count() > 500 || owner.chars().count() > 500 {
            let n = url.chars().count().max(owner.chars().count());
            diags.push(too_long(
                "an owner link",
                n,
                500,
                link.span,
                "use a shorter link",
            ));
        }
    }
}

/// Why Python's `urlsplit` would not find what Airflow asks of an owner link.
fn owner_link_problem(url: &str) -> Option<&'static str> {
    let (scheme, rest) = match url.split_once(':') {
        Some((s, r))
            if s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (s, r)
        }
        _ => return Some("it has no scheme (such as `https:` or `mailto:`)"),
    };
    if scheme.eq_ignore_ascii_case("mailto") {
        return rest
            .is_empty()
            .then_some("`mailto:` needs an address after it");
    }
    let host = rest
        .strip_prefix("//")
        .map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    match host {
        Some(h) if !h.is_empty() => None,
        _ => Some("it has no host (`scheme://host/...`)"),
    }
}

/// Schedules that load but never run as written: `_delta.py:37-40` (an interval must be
/// positive), `dag.py:653-660` (a continuous schedule runs one run at a time, and
/// `max_active_runs` defaults to 16), and a cron naming a day that never comes
/// (Airflow's `next_dagrun_info` fails and the DAG is never scheduled).
fn schedule(dag: &DagB, diags: &mut Diagnostics) {
    let Some(s) = slot(&dag.slots, "schedule") else {
        return;
    };
    first_run(dag, s, diags);
    match &s.value.v {
        V::Duration(ms) if *ms > MAX_INTERVAL_MS => diags.push(
            Diagnostic::at(
                Code::E0319,
                s.value.span,
                format!(
                    "a schedule interval of {} runs past the end of Python's calendar",
                    dagf_syntax::duration_text(*ms)
                ),
                "too long",
            )
            .with_note("Airflow adds the interval to the current time when it loads the file, and a date past the year 9999 fails the file")
            .with_help("a schedule interval is at most 1000000d (about 2,700 years); for a DAG run only by hand, write `none`"),
        ),
        V::Duration(ms) if *ms <= 0 => diags.push(
            Diagnostic::at(
                Code::E0319,
                s.value.span,
                "a schedule interval must be positive",
                "never advances",
            )
            .with_help("give a positive duration such as 6h, or `none` for a DAG run only by hand"),
        ),
        V::Preset(p) if &**p == "continuous" => {
            let runs = slot(&dag.slots, "max_active_runs");
            let over = match runs.map(|r| &r.value.v) {
                None => true,
                Some(V::Int(n)) => *n > 1,
                _ => false,
            };
            if over {
                let d = match runs {
                    Some(r) => Diagnostic::at(
                        Code::E0319,
                        r.value.span,
                        "a continuous schedule runs one run at a time",
                        "more than one",
                    )
                    .with_label(s.value.span, "the schedule is continuous"),
                    None => Diagnostic::at(
                        Code::E0319,
                        s.value.span,
                        "a continuous schedule runs one run at a time, and `max_active_runs` defaults to 16",
                        "continuous",
                    ),
                };
                diags.push(d.with_help("set `max_active_runs = 1`"));
            }
        }
        V::Str(cron) if !crate::cron::fires(cron) => diags.push(
            Diagnostic::at(
                Code::E0319,
                s.value.span,
                format!("the cron expression \"{cron}\" matches no date"),
                "names a day no month it names has",
            )
            .with_help("Airflow would load the DAG and never schedule it: check the day of the month against the months"),
        ),
        _ => {}
    }
}

/// Minutes since 1970 of a minute of the calendar (days from civil, Hinnant's method).
fn epoch_minutes((y, m, d, h, mi): crate::cron::Minute) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let (m, d) = (i64::from(m), i64::from(d));
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 1440 + i64::from(h) * 60 + i64::from(mi)
}

/// The minute a datetime starts, on its own clock, and its UTC offset in minutes.
fn local_minute(t: &dagf_ir::DateTime) -> (crate::cron::Minute, i64) {
    let d = t.date;
    (
        (d.year, d.month, d.day, t.hour, t.minute),
        i64::from(t.offset_minutes),
    )
}

/// The last minute Python's calendar has.
const END_OF_CALENDAR: crate::cron::Minute = (9999, 12, 31, 23, 59);

/// A DAG's first run comes after its start (on the start's clock, which is the DAG's
/// time zone): it must come before the end of Python's calendar, and before `end`.
fn first_run(dag: &DagB, s: &Slot, diags: &mut Diagnostics) {
    let Some(V::DateTime(start)) = slot(&dag.slots, "start").map(|x| &x.value.v) else {
        return;
    };
    let (from, offset) = local_minute(start);
    // A cron timetable also looks back from the start for its time before it, which
    // must fall in Python's calendar too.
    let cron = match &s.value.v {
        V::Str(cron) if crate::cron::fires(cron) => Some(&**cron),
        V::Preset(p) => crate::cron::preset_cron(p),
        _ => None,
    };
    if let Some(cron) = cron
        && crate::cron::first_run(cron, (1, 1, 1, 0, 0)).is_none_or(|at| at > from)
    {
        diags.push(
            Diagnostic::at(
                Code::E0319,
                s.value.span,
                "the schedule has no time at or before the dag's start in Python's calendar",
                "Airflow looks back from the start for one",
            )
            .with_help("start the dag later: the schedule's last time before the start would fall before the year 1"),
        );
        return;
    }
    let first = match &s.value.v {
        // A cron that matches no date at all is said once, below.
        V::Str(cron) if !crate::cron::fires(cron) => return,
        V::Str(cron) => crate::cron::first_run(cron, from),
        V::Preset(p) => match crate::cron::preset_cron(p) {
            Some(cron) => crate::cron::first_run(cron, from),
            None => return,
        },
        V::Duration(ms) if *ms > 0 && *ms <= MAX_INTERVAL_MS => {
            let at = epoch_minutes(from) + ms / 60_000;
            (at <= epoch_minutes(END_OF_CALENDAR)).then_some(from)
        }
        _ => return,
    };
    let Some(first) = first else {
        diags.push(
            Diagnostic::at(
                Code::E0319,
                s.value.span,
                "the first run after the dag's start falls past the year 9999",
                "no run before the end of the calendar",
            )
            .with_help("start the dag earlier: Python's dates end with the year 9999"),
        );
        return;
    };
    let Some(end) = slot(&dag.slots, "end") else {
        return;
    };
    let V::DateTime(e) = &end.value.v else {
        return;
    };
    let (end_at, end_offset) = local_minute(e);
    let end_at = epoch_minutes(end_at) - end_offset;
    // An end before the start is E0311, said once.
    if end_at < epoch_minutes(from) - offset {
        return;
    }
    if epoch_minutes(first) - offset > end_at {
        let (y, m, d, h, mi) = first;
        diags.push(
            Diagnostic::at(
                Code::E0319,
                end.value.span,
                format!("the dag ends before its first run, {y:04}-{m:02}-{d:02}T{h:02}:{mi:02}"),
                "ends before the first run",
            )
            .with_label(s.value.span, "the schedule")
            .with_help("move `end` after the first run, or remove it"),
        );
    }
}

/// The longest schedule interval: `_delta.py:37-40` adds it to the current time, which
/// fails past the year 9999. A million days is safe from any date before 7200.
const MAX_INTERVAL_MS: i64 = 1_000_000 * 86_400_000;

/// The trigger rule a task runs with: its own, its dag's `default_args`, else Airflow's.
fn trigger_rule<'d>(dag: &'d DagB, t: &'d TaskB) -> (&'d str, Option<Span>) {
    if let Some(s) = slot(&t.slots, "trigger_rule")
        && let V::Str(r) = &s.value.v
    {
        return (r, Some(s.value.span));
    }
    default_arg(dag, "trigger_rule")
        .and_then(|v| match &v.v {
            V::Str(r) => Some((&**r, Some(v.span))),
            _ => None,
        })
        .unwrap_or(("all_success", None))
}

/// A key of the dag's `default_args`.
fn default_arg<'d>(dag: &'d DagB, key: &str) -> Option<&'d Value> {
    let defaults = slot(&dag.slots, "default_args")?;
    match &defaults.value.v {
        V::Record(kv) => kv
            .iter()
            .find(|(k, v)| &**k == key && !matches!(v.v, V::None))
            .map(|(_, v)| v),
        _ => None,
    }
}

/// E0327: `what` needs Airflow `since`, and the build targets an older one. `instead`
/// says how to do without it.
pub(crate) fn lacks(
    what: &str,
    since: Version,
    target: Target,
    span: Span,
    instead: &str,
) -> Diagnostic {
    Diagnostic::at(
        Code::E0327,
        span,
        format!(
            "{what} needs Airflow {since}; this project targets {}",
            target.version
        ),
        format!("needs Airflow {since}"),
    )
    .with_help(format!(
        "raise `[target] airflow` in dagf.toml (or `--target`) to {since} or later, or {instead}"
    ))
}

/// E0327 for what the dag uses that the target Airflow does not have, where Airflow
/// would refuse to load the file: trigger rules, a backoff multiplier, a schedule
/// without a start date.
/// A dag's `timezone` must be a zone pendulum loads (`tz/__init__.py`, `timezone()`
/// raises `InvalidTimezone` and the file fails), and its `start` and `end` are then
/// wall-clock times in it: one written with another UTC offset would say a second zone.
fn time_zone(dag: &DagB, diags: &mut Diagnostics) {
    let Some(tz) = slot(&dag.slots, "timezone") else {
        return;
    };
    let V::Str(name) = &tz.value.v else { return };
    if let Some(d) = crate::cron::unknown_zone(name, tz.value.span) {
        diags.push(d);
        return;
    }
    for field in ["start", "end"] {
        if let Some(s) = slot(&dag.slots, field)
            && let V::DateTime(t) = &s.value.v
            && t.offset_minutes != 0
        {
            diags.push(
                Diagnostic::at(
                    Code::E0347,
                    s.value.span,
                    format!("`{field}` has a UTC offset, and the dag a time zone"),
                    "written with an offset",
                )
                .with_label(tz.value.span, "the dag's times are read in this zone")
                .with_help(format!(
                    "write the time as a clock in {name} shows it, without the offset"
                )),
            );
        }
    }
}

/// The keys of a timetable record (a schedule written as `{ cron = ... }`).
fn timetable_key<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    match &v.v {
        V::Record(fields) => fields.iter().find(|(k, _)| &**k == key).map(|(_, x)| x),
        _ => None,
    }
}

fn target_features(dag: &DagB, target: Target, diags: &mut Diagnostics) {
    if let Some(s) = slot(&dag.slots, "schedule") {
        if let Some(c) = timetable_key(&s.value, "cron")
            && matches!(&c.v, V::List(l) if l.len() > 1)
            && !target.has(Feature::MultipleCrons)
        {
            diags.push(lacks(
                "a schedule of several crons",
                Feature::MultipleCrons.since(),
                target,
                c.span,
                "give the schedule one cron",
            ));
        }
        if let Some(r) = timetable_key(&s.value, "run_immediately")
            && !target.has(Feature::RunImmediately)
        {
            diags.push(lacks(
                "a cron timetable's `run_immediately`",
                Feature::RunImmediately.since(),
                target,
                r.span,
                "leave `run_immediately` out",
            ));
        }
    }
    let rule = |v: &Value, diags: &mut Diagnostics| {
        let V::Str(r) = &v.v else { return };
        if let Some((_, since)) = dagf_target::TRIGGER_RULES.iter().find(|(x, _)| x == &&**r)
            && target.version < *since
        {
            diags.push(lacks(
                &format!("the trigger rule `{r}`"),
                *since,
                target,
                v.span,
                "use another trigger rule",
            ));
        }
    };
    let backoff = |v: &Value, diags: &mut Diagnostics| {
        let multiplier = match v.v {
            V::Float(x) => x != 0.0 && x != 2.0,
            V::Int(x) => x != 0 && x != 2,
            _ => false,
        };
        if multiplier && !target.has(Feature::BackoffMultiplier) {
            diags.push(lacks(
                "`retry_exponential_backoff` as a multiplier other than 0 (off) and 2",
                Feature::BackoffMultiplier.since(),
                target,
                v.span,
                "write 2.0 (doubling, what older versions do when it is on) or 0",
            ));
        }
    };
    for t in &dag.tasks {
        if let Some(s) = slot(&t.slots, "trigger_rule") {
            rule(&s.value, diags);
        }
        if let Some(s) = slot(&t.slots, "retry_exponential_backoff") {
            backoff(&s.value, diags);
        }
    }
    if let Some(v) = default_arg(dag, "trigger_rule") {
        rule(v, diags);
    }
    if let Some(v) = default_arg(dag, "retry_exponential_backoff") {
        backoff(v, diags);
    }
    if !target.has(Feature::ScheduleWithoutStart)
        && let Some(s) = slot(&dag.slots, "schedule")
        && slot(&dag.slots, "start").is_none()
        && default_arg(dag, "start_date").is_none()
        // With catchup on, E0308 already asks for the start date: one mistake, one error.
        && !slot(&dag.slots, "catchup").is_some_and(|c| matches!(c.value.v, V::Bool(true)))
    {
        diags.push(lacks(
            "a DAG with a schedule but no `start`",
            Feature::ScheduleWithoutStart.since(),
            target,
            s.value.span,
            "give the dag a `start` (such as `start = 2024-01-01`)",
        ));
    }
}

/// `exceptions.py:406-422`, `dag.py:1107`: a `fail_fast` dag stops at the first failure,
/// so every task must wait for its upstream tasks to succeed.
fn fail_fast(dag: &DagB, diags: &mut Diagnostics) {
    let Some(ff) = slot(&dag.slots, "fail_fast") else {
        return;
    };
    if !matches!(ff.value.v, V::Bool(true)) {
        return;
    }
    for t in &dag.tasks {
        let (rule, at) = trigger_rule(dag, t);
        if !matches!(rule, "all_success" | "all_done_setup_success") {
            diags.push(
                Diagnostic::at(
                    Code::E0320,
                    at.unwrap_or(t.name_span),
                    format!("task `{}` runs on `{rule}` in a dag that stops at the first failure", t.id),
                    format!("`{rule}`"),
                )
                .with_label(ff.span, "`fail_fast` is on here")
                .with_help("a fail_fast dag takes only the trigger rule \"all_success\": remove the rule, or turn fail_fast off"),
            );
        }
    }
}

/// `taskgroup.py:128-132, 185-202`: a group id is at most 200 characters, and a group's
/// full id, the ids of its join points and every task id share one name space.
fn group_ids(dag: &DagB, diags: &mut Diagnostics) {
    let mut taken: std::collections::HashMap<String, Span> = dag
        .tasks
        .iter()
        .map(|t| (t.id.clone(), t.name_span))
        .collect();
    for g in &dag.groups {
        let n = g.local.chars().count();
        if n > 200 {
            diags.push(
                Diagnostic::at(
                    Code::E0302,
                    g.name_span,
                    format!(
                        "group id `{}` is {n} characters long; Airflow allows 200",
                        g.local
                    ),
                    "too long",
                )
                .with_help("shorten the group's name"),
            );
        }
        for id in [
            g.id.clone(),
            format!("{}.upstream_join_id", g.id),
            format!("{}.downstream_join_id", g.id),
        ] {
            if let Some(prev) = taken.insert(id.clone(), g.name_span) {
                diags.push(
                    Diagnostic::at(
                        Code::E0301,
                        prev,
                        format!("`{id}` is the id of a task and of task group `{}`", g.id),
                        "this id",
                    )
                    .with_label(g.name_span, "the group")
                    .with_help("rename the task or the group"),
                );
            }
        }
    }
}

/// `dag.py:237-248`: a `doc` ending in `.md` is read as a file (relative to the parsing
/// process's working folder) when one is there, and shown as it is otherwise.
fn docs(dag: &DagB, diags: &mut Diagnostics) {
    let docs = std::iter::once(slot(&dag.slots, "doc"))
        .chain(dag.tasks.iter().map(|t| slot(&t.slots, "doc_md")))
        .flatten();
    for d in docs {
        if let V::Str(text) = &d.value.v
            && text.trim_end().ends_with(".md")
        {
            diags.push(
                Diagnostic::at(
                    Code::W0008,
                    d.value.span,
                    "Airflow reads documentation ending in `.md` as the path of a file",
                    "read as a file name",
                )
                .with_help("write the documentation itself here; to keep it in a file, read it at build time"),
            );
        }
    }
}

/// `dag.py:587-592`: `access_control` warns `RemovedInAirflow4Warning` when the file
/// loads, and only the FAB auth manager reads it.
fn access_control(dag: &DagB, diags: &mut Diagnostics) {
    if let Some(ac) = slot(&dag.slots, "access_control") {
        diags.push(
            Diagnostic::at(
                Code::W0009,
                ac.span,
                "`access_control` is deprecated in Airflow 3 and only the FAB auth manager reads it",
                "deprecated",
            )
            .with_note("Airflow warns RemovedInAirflow4Warning every time the file loads")
            .with_help("scope access by team: give the tenant kind a `team` (Airflow's multi-team mode), and remove `access_control`"),
        );
    }
}

/// `priority_strategy.py:67-93`: with the default weight rule a task's weight is its own
/// plus every downstream task's (every upstream task's with `upstream`), and Airflow
/// stores it as a 32-bit integer.
fn priority_weights(dag: &DagB, edges: &[(TaskId, TaskId, Span)], diags: &mut Diagnostics) {
    let arg = |t: &TaskB, name: &str| -> Option<V> {
        slot(&t.slots, name)
            .map(|s| s.value.v.clone())
            .or_else(|| default_arg(dag, name).map(|v| v.v.clone()))
    };
    let weights: IdVec<TaskId, i64> = dag
        .tasks
        .iter()
        .map(|t| match arg(t, "priority_weight") {
            Some(V::Int(w)) => w,
            _ => 1,
        })
        .collect();
    // The sum of every weight bounds every effective weight: only a dag past it needs
    // the exact sums, which walk the graph from each task.
    let total: i64 = weights
        .iter()
        .map(|w| w.saturating_abs())
        .fold(0, i64::saturating_add);
    if total <= i64::from(i32::MAX) {
        return;
    }
    let n = dag.tasks.len();
    let (mut down, mut up): (IdVec<TaskId, Vec<TaskId>>, IdVec<TaskId, Vec<TaskId>>) =
        (IdVec::filled(n, Vec::new()), IdVec::filled(n, Vec::new()));
    for &(a, b, _) in edges {
        down[a].push(b);
        up[b].push(a);
    }
    for (t, task) in dag.tasks.enumerate() {
        let relatives = match arg(task, "weight_rule") {
            Some(V::Str(r)) if &*r == "absolute" => None,
            Some(V::Str(r)) if &*r == "upstream" => Some(&up),
            _ => Some(&down),
        };
        let mut sum = i128::from(weights[t]);
        if let Some(next) = relatives {
            let mut seen: IdVec<TaskId, bool> = IdVec::filled(n, false);
            let mut stack = next[t].clone();
            while let Some(x) = stack.pop() {
                if std::mem::replace(&mut seen[x], true) {
                    continue;
                }
                sum += i128::from(weights[x]);
                stack.extend(next[x].iter().copied());
            }
        }
        if sum > i128::from(i32::MAX) || sum < i128::from(i32::MIN) {
            let at = slot(&task.slots, "priority_weight").map_or(task.name_span, |s| s.value.span);
            diags.push(
                Diagnostic::at(
                    Code::E0204,
                    at,
                    format!("the priority weight of task `{}` adds up to {sum}, past Airflow's 32 bits", task.id),
                    "this task's weight",
                )
                .with_note("Airflow adds the weights of all downstream (or upstream) tasks to each task's own and stores the sum as a 32-bit integer")
                .with_help("use small weights: they only order tasks against each other"),
            );
            return;
        }
    }
}

/// Task states (`State.task_states`) and dag run states (`State.dag_states`).
const TASK_STATES: &[&str] = &[
    "removed",
    "scheduled",
    "queued",
    "running",
    "success",
    "restarting",
    "failed",
    "up_for_retry",
    "up_for_reschedule",
    "upstream_failed",
    "skipped",
    "deferred",
    "awaiting_input",
];
const DAG_RUN_STATES: &[&str] = &["queued", "running", "success", "failed"];

/// `sensors/external_task.py:211-260`: one of `external_task_id` and
/// `external_task_ids`; states are task states when tasks are named, else dag run
/// states; no state in two lists or twice in one.
fn external_task_sensor(t: &TaskB, diags: &mut Diagnostics) {
    let one = slot(&t.slots, "external_task_id");
    let many = slot(&t.slots, "external_task_ids").filter(|s| !strings(&s.value).is_empty());
    let group = slot(&t.slots, "external_task_group_id");
    for (a, b) in [(one, many), (one, group), (many, group)] {
        if let (Some(a), Some(b)) = (a, b) {
            diags.push(
                Diagnostic::at(
                    Code::E0321,
                    b.span,
                    format!("sensor `{}` sets both `{}` and `{}`", t.id, a.name, b.name),
                    format!("`{}` is set here", b.name),
                )
                .with_label(a.span, format!("`{}` is set here", a.name))
                .with_help("wait for one task (`external_task_id`), several (`external_task_ids`) or a group (`external_task_group_id`), not a mix"),
            );
            return;
        }
    }
    let (vocabulary, kind) = if one.or(many).or(group).is_some() {
        (TASK_STATES, "task states")
    } else {
        (DAG_RUN_STATES, "dag run states (no task is named)")
    };
    // Airflow's default for an empty `allowed_states` is `["success"]` (`:211`): a
    // sensor that lists "success" among its failed states clashes with it.
    let default = slot(&t.slots, "allowed_states")
        .is_none_or(|s| strings(&s.value).is_empty())
        .then_some(("success", t.name_span));
    states(
        t,
        &["allowed_states", "skipped_states", "failed_states"],
        default,
        vocabulary,
        kind,
        diags,
    );
}

/// `operators/trigger_dagrun.py:211-218`: the states are dag run states.
fn trigger_dag_run(t: &TaskB, diags: &mut Diagnostics) {
    states(
        t,
        &["allowed_states", "failed_states"],
        None,
        DAG_RUN_STATES,
        "dag run states",
        diags,
    );
}

/// Each state in `fields` is in `vocabulary`, and none is listed twice (`implied` is a
/// state Airflow lists when a field is left out).
fn states(
    t: &TaskB,
    fields: &[&str],
    implied: Option<(&'static str, Span)>,
    vocabulary: &[&str],
    kind: &str,
    diags: &mut Diagnostics,
) {
    let mut seen: Vec<(&str, Span)> = implied.into_iter().collect();
    for field in fields {
        let Some(s) = slot(&t.slots, field) else {
            continue;
        };
        for (state, span) in strings(&s.value) {
            if !vocabulary.contains(&state) {
                diags.push(
                    Diagnostic::at(
                        Code::E0322,
                        span,
                        format!("`{state}` is not one of the {kind}"),
                        "not a state here",
                    )
                    .with_suggestion(state, vocabulary.iter().copied())
                    .or_help(format!("use one of: {}", vocabulary.join(", ")))
                    .with_note(format!("{kind}: {}", vocabulary.join(", "))),
                );
            } else if let Some((_, first)) = seen.iter().find(|(x, _)| *x == state) {
                diags.push(
                    Diagnostic::at(
                        Code::E0322,
                        span,
                        format!("state `{state}` is listed twice"),
                        "listed again",
                    )
                    .with_label(
                        *first,
                        if implied.is_some_and(|(_, at)| at == *first) {
                            "the sensor allows \"success\" when `allowed_states` is not set"
                        } else {
                            "first listed here"
                        },
                    )
                    .with_help("list each state once, in one of the lists"),
                );
            } else {
                seen.push((state, span));
            }
        }
    }
}

/// `templater.py:91-110`: a `bash_command` ending in `.sh` or `.bash` is read as a
/// template file, relative to the DAG's folder, not run as a command.
fn bash(t: &TaskB, diags: &mut Diagnostics) {
    let Some(cmd) = slot(&t.slots, "bash_command") else {
        return;
    };
    if let V::Str(c) = &cmd.value.v
        && let Some(ext) = [".sh", ".bash"].into_iter().find(|e| c.ends_with(e))
    {
        diags.push(
            Diagnostic::at(
                Code::W0008,
                cmd.value.span,
                format!("Airflow reads the `bash_command` of task `{}` as a template file, because it ends in `{ext}`", t.id),
                "read as a file name",
            )
            .with_note("Airflow looks the file up next to the DAG file or in the dag's `template_searchpath`, and runs its rendered text; with no such file the task fails (TemplateNotFound)")
            .with_help("to run the script, end the command with a space (\"bash run.sh \"); to render it as a template, keep it and list the script's folder in the dag's `template_searchpath`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::owner_link_problem;

    #[test]
    fn owner_links_follow_urlsplit() {
        for ok in [
            "https://wiki.example.com/x",
            "ftp://host",
            "mailto:a@b.c",
            "custom://h",
        ] {
            assert_eq!(owner_link_problem(ok), None, "{ok}");
        }
        for bad in [
            "wiki",
            "http:/x",
            "javascript:alert(1)",
            "mailto:",
            "https://",
            "://x",
        ] {
            assert!(owner_link_problem(bad).is_some(), "{bad}");
        }
    }
}
