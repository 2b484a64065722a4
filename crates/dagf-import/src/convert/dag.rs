//! A DAG's own settings (`DagBuilder.get_dag_params` and `build`): the keys dag-factory
//! passes to `DAG(...)`, the time zone the dates are in, and how a DAG's settings are
//! written over those of `default` (the file's mixin).

use super::callbacks::CALLBACKS;
use super::{Conv, field};
use crate::emit::{self, Field, VK, Val};
use crate::stdlib::Ty;
use crate::yaml::{Key, Node, V};
use dagf_diag::{Code, Diagnostic, Span};
use std::collections::BTreeSet;

/// DAG keys dag-factory 1.1 reads (on Airflow 3.3), for "did you mean".
const DAG_KEYS: [&str; 33] = [
    "access_control",
    "catchup",
    "concurrency",
    "dag_display_name",
    "dagrun_timeout",
    "default_args",
    "description",
    "doc_md",
    "doc_md_file_path",
    "doc_md_python_arguments",
    "doc_md_python_callable_file",
    "doc_md_python_callable_name",
    "end_date",
    "is_paused_upon_creation",
    "max_active_runs",
    "max_active_tasks",
    "on_failure_callback",
    "on_failure_callback_file",
    "on_failure_callback_name",
    "on_success_callback",
    "on_success_callback_file",
    "on_success_callback_name",
    "params",
    "render_template_as_native_obj",
    "schedule",
    "start_date",
    "tags",
    "task_groups",
    "tasks",
    "template_searchpath",
    "timetable",
    "timezone",
    "user_defined_macros",
];

/// DAG arguments dag-factory passes to `DAG(...)` under the same name as dagf's.
const PLAIN_DAG_ARGS: [&str; 9] = [
    "catchup",
    "tags",
    "description",
    "max_active_runs",
    "dagrun_timeout",
    "is_paused_upon_creation",
    "render_template_as_native_obj",
    "access_control",
    "params",
];

const UTC_NAMES: [&str; 7] = [
    "UTC",
    "utc",
    "Etc/UTC",
    "Etc/GMT",
    "GMT",
    "Z",
    "Etc/Universal",
];

/// A DAG's fields over the mixin's: what the DAG changes, with `override` where it
/// replaces a value of the mixin; a record field only lists the keys it changes.
pub(super) fn over_mixin(fields: Vec<Field>, mixin: &[Field], dag_span: Span) -> Vec<Field> {
    if mixin.is_empty() {
        return fields;
    }
    let mut out = Vec::new();
    for f in &fields {
        let Some(base) = mixin.iter().find(|m| m.name == f.name) else {
            out.push(f.clone());
            continue;
        };
        if emit::same(&f.value, &base.value) {
            continue;
        }
        match (&f.value.kind, &base.value.kind) {
            (VK::Record(mine), VK::Record(theirs)) => {
                let mut changed = Vec::new();
                let mut replaces = false;
                for (k, v) in mine {
                    match theirs.iter().find(|(t, _)| t == k) {
                        Some((_, tv)) if emit::same(v, tv) => {}
                        Some(_) => {
                            replaces = true;
                            changed.push((k.clone(), v.clone()));
                        }
                        None => changed.push((k.clone(), v.clone())),
                    }
                }
                out.push(Field {
                    name: f.name.clone(),
                    value: Val::new(VK::Record(changed), f.value.span),
                    span: f.span,
                    is_override: replaces,
                });
            }
            _ => out.push(Field {
                is_override: true,
                ..f.clone()
            }),
        }
    }
    for m in mixin {
        if !fields.iter().any(|f| f.name == m.name) {
            out.push(Field {
                name: m.name.clone(),
                value: Val::new(VK::None, dag_span),
                span: dag_span,
                is_override: true,
            });
        }
    }
    out
}

impl Conv {
    /// `DagBuilder.get_dag_params` and `build`: the DAG's own settings, as dagf fields.
    /// `id` is `None` for the `default` block.
    pub(super) fn dag_fields(&mut self, map: &Node, id: Option<&Key>) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        let tz_ok = self.timezone_ok(map.get("timezone"));
        let mut done_callbacks: BTreeSet<String> = BTreeSet::new();
        for (k, node) in map.entries() {
            let key = k.text.as_str();
            if node.is_null()
                && !key.ends_with("_callback_name")
                && !key.ends_with("_callback_file")
            {
                continue; // check_dict_key / dict.get: None is the same as absent.
            }
            let base = key
                .strip_suffix("_name")
                .or_else(|| key.strip_suffix("_file"))
                .filter(|b| CALLBACKS.contains(b) || *b == "sla_miss_callback")
                .unwrap_or(key);
            match base {
                "tasks" | "task_groups" | "timezone" => {}
                "schedule" => {
                    if let Some(v) = self.schedule(node) {
                        out.push(field("schedule", v, k.span));
                    }
                }
                "schedule_interval" => self.invalid(
                    k.span,
                    "dag-factory 1.1 rejects `schedule_interval` on Airflow 3",
                    "not supported by Airflow 3",
                    "rename it to `schedule`",
                ),
                "start_date" | "end_date" => {
                    if !tz_ok {
                        continue;
                    }
                    if let Some(v) = self.datetime(node, true) {
                        let name = if key == "start_date" { "start" } else { "end" };
                        out.push(field(name, v, k.span));
                    }
                }
                "doc_md" => {
                    if let Some(v) = self.typed(node, &Ty::Str) {
                        out.push(field("doc", v, k.span));
                    }
                }
                "concurrency" | "max_active_tasks" => {
                    // `build`: `concurrency` wins over `max_active_tasks`.
                    if key == "max_active_tasks"
                        && map.get("concurrency").is_some_and(|c| !c.is_null())
                    {
                        self.ignored(
                            Diagnostic::at(
                                Code::W0601,
                                k.span,
                                "dag-factory 1.1 ignores `max_active_tasks` when `concurrency` is set",
                                "not imported",
                            )
                            .with_help("keep one of them"),
                        );
                        continue;
                    }
                    if let Some(v) = self.typed(node, &Ty::Int) {
                        out.push(field("max_active_tasks", v, k.span));
                    }
                }
                "template_searchpath" => {
                    let v = match &node.v {
                        V::Str(_) => self
                            .typed(node, &Ty::Str)
                            .map(|s| Val::new(VK::List(vec![s]), node.span)),
                        _ => self.typed(node, &Ty::List(Box::new(Ty::Str))),
                    };
                    if let Some(v) = v {
                        out.push(field("template_searchpath", v, k.span));
                    }
                }
                "default_args" => {
                    if let Some(v) = self.task_args_record(node, "default_args") {
                        out.push(field("default_args", v, k.span));
                    }
                }
                "on_success_callback" | "on_failure_callback" => {
                    if done_callbacks.insert(base.to_string())
                        && let Some(v) = self.callback_field(map, base)
                    {
                        out.push(field(base, v, k.span));
                    }
                }
                "on_execute_callback" | "on_retry_callback" | "on_skipped_callback" => {
                    if !done_callbacks.insert(base.to_string()) {
                        continue;
                    }
                    self.ignored(
                        Diagnostic::at(
                            Code::W0601,
                            k.span,
                            format!(
                                "dag-factory 1.1 does not pass a DAG-level `{base}` to the DAG"
                            ),
                            "no effect in dag-factory",
                        )
                        .with_help(format!(
                            "to run it for every task, put `{base}` under `default_args`"
                        )),
                    );
                }
                "sla_miss_callback" => {
                    if done_callbacks.insert(base.to_string()) {
                        self.ignored(
                            Diagnostic::at(
                                Code::W0601,
                                k.span,
                                "dag-factory 1.1 ignores `sla_miss_callback`: Airflow 3.1 removed SLA callbacks",
                                "no effect in Airflow 3",
                            )
                            .with_help("remove it; Airflow 3 has deadline alerts instead"),
                        );
                    }
                }
                "dag_display_name" => {
                    let same = id.is_none_or(|id| node.as_str() == Some(id.text.as_str()));
                    if !same {
                        self.cannot(
                            k.span,
                            "dagf has no display name for a DAG",
                            "cannot be imported",
                            "remove `dag_display_name`, or make it the dag id",
                        );
                    }
                }
                "dag_id" => {
                    if let Some(id) = id
                        && node.as_str() != Some(id.text.as_str())
                    {
                        self.ignored(
                            Diagnostic::at(
                                Code::W0601,
                                k.span,
                                format!("dag-factory 1.1 names the DAG after its key, `{}`, not after `dag_id`", id.text),
                                "ignored",
                            )
                            .with_help("rename the top-level key to change the dag id"),
                        );
                    }
                }
                "timetable"
                | "user_defined_macros"
                | "doc_md_file_path"
                | "doc_md_python_callable_file"
                | "doc_md_python_callable_name"
                | "doc_md_python_arguments" => {
                    let help = match key {
                        "doc_md_file_path" => "copy the file's text into `doc_md`",
                        "timetable" => "use a `schedule` (a preset, a cron string or a timedelta)",
                        _ => "remove it, and set it in the generated Python by other means",
                    };
                    self.cannot(
                        k.span,
                        format!("`{key}` cannot be imported: dagf has no equivalent"),
                        "cannot be imported",
                        help,
                    );
                }
                plain if PLAIN_DAG_ARGS.contains(&plain) => {
                    let ty = self.std.dag_arg(plain).cloned().unwrap_or(Ty::Any);
                    if let Some(v) = self.typed(node, &ty) {
                        out.push(field(plain, v, k.span));
                    }
                }
                other => {
                    let d = Diagnostic::at(
                        Code::W0601,
                        k.span,
                        format!("dag-factory 1.1 does not pass `{other}` to the DAG"),
                        "ignored by dag-factory",
                    )
                    .with_suggestion(other, DAG_KEYS)
                    .or_help("remove it, or set it in the .dagf file after importing (it has no effect in dag-factory)");
                    self.ignored(d);
                }
            }
        }
        out
    }

    /// `timezone` for `start_date` and `end_date`: dagf dates are UTC.
    pub(super) fn timezone_ok(&mut self, tz: Option<&Node>) -> bool {
        match tz {
            None => true,
            Some(n) if n.is_null() => true,
            Some(n) => match n.as_str() {
                Some(name) if UTC_NAMES.contains(&name) => true,
                _ => {
                    self.cannot(
                        n.span,
                        "dagf dates are in UTC; a DAG in another time zone cannot be imported",
                        "not UTC",
                        "write `start_date` in UTC and remove `timezone` (a cron schedule then runs in UTC)",
                    );
                    false
                }
            },
        }
    }
}
