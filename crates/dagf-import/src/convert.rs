//! dag-factory 1.1's meaning of a YAML file, as a `.dagf` model ([`crate::emit::Doc`]).
//!
//! Every rule here mirrors a piece of dag-factory's source (`dagfactory.py`,
//! `dagbuilder.py`, `utils.py`); the comments name it. What cannot be carried over is
//! reported (E0601), what dag-factory itself would reject is reported (E0602), and what
//! dag-factory ignores is dropped with a warning (W0601).

use crate::emit::{self, Asset, Body, Callback, Dag, Dep, Doc, Field, Group, Item, Task, VK, Val};
use crate::stdlib::{self, Std, Ty};
use crate::yaml::{Key, Node, V};
use dagf_diag::{Code, Diagnostic, Diagnostics, Span};
use dagf_time::{Date, DateTime};
use std::collections::{BTreeSet, HashMap};

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

/// DAG arguments that no operator takes: in `default_args`, Airflow ignores them.
const DAG_ONLY_ARGS: [&str; 16] = [
    "schedule",
    "schedule_interval",
    "catchup",
    "tags",
    "description",
    "max_active_runs",
    "max_active_tasks",
    "max_consecutive_failed_dag_runs",
    "concurrency",
    "dagrun_timeout",
    "fail_fast",
    "is_paused_upon_creation",
    "template_searchpath",
    "owner_links",
    "access_control",
    "dag_display_name",
];

const CALLBACKS: [&str; 5] = [
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
];

/// The standard operators whose `python_callable` dag-factory resolves (subclasses of
/// PythonOperator, BranchPythonOperator and PythonSensor).
const PYTHON_OPERATORS: [&str; 4] = ["python", "branch", "short_circuit", "python_sensor"];

const UTC_NAMES: [&str; 7] = [
    "UTC",
    "utc",
    "Etc/UTC",
    "Etc/GMT",
    "GMT",
    "Z",
    "Etc/Universal",
];

pub struct Conv {
    std: &'static Std,
    pub diags: Diagnostics,
    pub doc: Doc,
    /// Custom operator classes: path -> index in `doc.operators`.
    operators: HashMap<String, usize>,
    /// Asset URIs: uri -> index in `doc.assets`.
    assets: HashMap<String, usize>,
    /// Callbacks from `{callback: ..., args}` mappings, by their printed form.
    callbacks: HashMap<String, usize>,
    file_start: Span,
}

/// Where a task or group sits: its group path, and its own name.
#[derive(Clone, Debug)]
struct Place {
    groups: Vec<String>,
    name: String,
}

impl Place {
    fn full(&self) -> Vec<String> {
        let mut p = self.groups.clone();
        p.push(self.name.clone());
        p
    }
}

/// Names as written in the YAML, with their places.
type Names = Vec<(String, Span)>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeRef {
    Task(usize),
    Group(usize),
}

/// A task read from the YAML, before it is placed.
struct TaskIn {
    key: Key,
    group: Option<usize>,
    deps: Vec<(String, Span)>,
    task: Option<Task>,
}

struct GroupIn {
    key: Key,
    parent: Option<(String, Span)>,
    parent_index: Option<usize>,
    tooltip: Option<Val>,
    default_args: Vec<Field>,
    deps: Vec<(String, Span)>,
}

impl Conv {
    pub fn new(file_start: Span) -> Conv {
        Conv {
            std: stdlib::get(),
            diags: Diagnostics::new(),
            doc: Doc::default(),
            operators: HashMap::new(),
            assets: HashMap::new(),
            callbacks: HashMap::new(),
            file_start,
        }
    }

    // ---- diagnostics --------------------------------------------------------------

    fn cannot(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        self.diags
            .push(Diagnostic::at(Code::E0601, span, message, label).with_help(help.to_string()));
    }

    fn invalid(&mut self, span: Span, message: impl Into<String>, label: &str, help: &str) {
        self.diags
            .push(Diagnostic::at(Code::E0602, span, message, label).with_help(help.to_string()));
    }

    fn ignored(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    // ---- the file -------------------------------------------------------------------

    /// `_DagFactory.build_dags`: every top-level key but `default` and `task_groups` is a
    /// DAG, whose config is merged over `default` (`utils.merge_configs`).
    pub fn file(&mut self, root: Option<&Node>) {
        let Some(root) = root else {
            self.invalid(
                self.file_start,
                "the file holds no YAML document",
                "empty",
                "a dag-factory file maps each dag_id to its configuration",
            );
            return;
        };
        let V::Map(entries) = &root.v else {
            self.invalid(
                root.span,
                format!(
                    "a dag-factory file is a mapping of dag ids, not {}",
                    root.kind()
                ),
                "here",
                "a dag-factory file maps each dag_id to its configuration",
            );
            return;
        };
        let default = match root.get("default") {
            Some(d @ Node { v: V::Map(_), .. }) => Some(d),
            Some(d) if d.is_null() => None,
            Some(d) => {
                self.invalid(
                    d.span,
                    format!("`default` must be a mapping, not {}", d.kind()),
                    "here",
                    "write the settings every dag shares under `default:`",
                );
                None
            }
            None => None,
        };
        let dags: Vec<&(Key, Node)> = entries
            .iter()
            .filter(|(k, _)| k.text != "default" && k.text != "task_groups")
            .collect();
        if let Some((k, _)) = entries.iter().find(|(k, _)| k.text == "task_groups") {
            self.ignored(
                Diagnostic::at(
                    Code::W0601,
                    k.span,
                    "dag-factory 1.1 ignores a top-level `task_groups`",
                    "not imported",
                )
                .with_help("task groups belong under a dag's own `task_groups`"),
            );
        }
        if dags.is_empty() {
            self.ignored(
                Diagnostic::at(
                    Code::W0601,
                    root.span,
                    "the file declares no dag",
                    "nothing to import",
                )
                .with_help("dag-factory builds one DAG per top-level key other than `default`"),
            );
            return;
        }
        let mixin: Vec<Field> = match default {
            Some(d) => self.dag_fields(d, None),
            None => Vec::new(),
        };
        for (key, conf) in dags {
            let merged = match (&conf.v, default) {
                (V::Map(_), Some(d)) => merge_configs(conf, d),
                (V::Map(_), None) => conf.clone(),
                _ => {
                    self.invalid(
                        conf.span,
                        format!(
                            "the configuration of dag `{}` must be a mapping, not {}",
                            key.text,
                            conf.kind()
                        ),
                        "here",
                        "give the dag its settings and `tasks` as a mapping",
                    );
                    continue;
                }
            };
            let dag = self.dag(key, &merged, &mixin);
            self.doc.dags.push(dag);
        }
        if !mixin.is_empty() {
            self.doc.mixin = Some(mixin);
        }
    }

    // ---- DAG-level settings ---------------------------------------------------------

    /// `DagBuilder.get_dag_params` and `build`: the DAG's own settings, as dagf fields.
    /// `id` is `None` for the `default` block.
    fn dag_fields(&mut self, map: &Node, id: Option<&Key>) -> Vec<Field> {
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
    fn timezone_ok(&mut self, tz: Option<&Node>) -> bool {
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

    /// `configure_schedule` on Airflow 3.
    fn schedule(&mut self, node: &Node) -> Option<Val> {
        match &node.v {
            V::Str(s) if s.trim().eq_ignore_ascii_case("none") => {
                Some(Val::new(VK::None, node.span))
            }
            V::Str(s) => Some(Val::new(VK::Str(s.clone()), node.span)),
            V::Duration(ms) => Some(Val::new(VK::Duration(*ms), node.span)),
            V::List(items) => {
                let mut assets = Vec::new();
                for item in items {
                    match &item.v {
                        V::Null => {}
                        V::Str(s) if s.trim().is_empty() => {}
                        V::Str(s) | V::Asset(s) => {
                            assets.push(self.asset(s.trim(), item.span, false))
                        }
                        _ => {
                            self.cannot(
                                item.span,
                                format!(
                                    "an asset in `schedule` must be a URI string, not {}",
                                    item.kind()
                                ),
                                "not a URI",
                                "write the asset's URI",
                            );
                            return None;
                        }
                    }
                }
                if assets.is_empty() {
                    self.cannot(
                        node.span,
                        "an empty list of assets cannot be imported as a schedule",
                        "empty",
                        "list the URIs of the assets the DAG waits for, or remove `schedule`",
                    );
                    return None;
                }
                Some(Val::new(VK::AllOf(assets), node.span))
            }
            V::Map(_) => {
                self.cannot(
                    node.span,
                    "a `schedule` with `datasets` or `file` cannot be imported",
                    "cannot be imported",
                    "list the asset URIs the DAG waits for: `schedule: [\"s3://...\", ...]`",
                );
                None
            }
            _ => self.typed(node, &Ty::Schedule),
        }
    }

    /// `utils.get_datetime`: a date, a datetime or a date string, made UTC (dag-factory
    /// replaces any offset written with the DAG's time zone).
    fn datetime(&mut self, node: &Node, dag_factory_parses: bool) -> Option<Val> {
        let span = node.span;
        let (dt, micro) = match &node.v {
            V::Date(d) => (DateTime::midnight(*d), 0),
            V::DateTime(t, micro) => (*t, *micro),
            V::Str(s) if dag_factory_parses => match parse_datetime(s) {
                Some(t) => t,
                None if is_relative_time(s) => {
                    self.cannot(
                        span,
                        format!("the relative date `{s}` cannot be imported"),
                        "changes every day",
                        "dag-factory computes it from today's date each time it loads the file; write a fixed date such as 2024-01-01",
                    );
                    return None;
                }
                None => {
                    self.invalid(
                        span,
                        format!("`{s}` is not a date dag-factory can read"),
                        "not a date",
                        "write a date such as 2024-01-01 or 2024-01-01T06:00:00",
                    );
                    return None;
                }
            },
            _ => return self.typed(node, &Ty::DateTime),
        };
        if micro != 0 {
            self.cannot(
                span,
                "dagf datetimes have whole seconds",
                "fractions of a second",
                "drop the fraction of a second",
            );
            return None;
        }
        let utc = DateTime {
            offset_minutes: 0,
            ..dt
        };
        Some(Val::new(VK::DateTime(utc), span))
    }

    // ---- values -----------------------------------------------------------------------

    /// A value for a field of type `ty`, converted as dag-factory and Airflow read it.
    /// `None` when it cannot be (reported).
    fn typed(&mut self, node: &Node, ty: &Ty) -> Option<Val> {
        let span = node.span;
        if let V::Unsupported(what) = &node.v {
            self.cannot(
                span,
                format!("{what} cannot be imported"),
                "cannot be imported",
                "write the value as plain YAML (a string, number, list or mapping)",
            );
            return None;
        }
        match (ty, &node.v) {
            (_, V::Null) => Some(Val::new(VK::None, span)),
            (Ty::Duration, V::Int(i)) => self.seconds(*i as f64, span),
            (Ty::Duration, V::Float(f)) => self.seconds(*f, span),
            (Ty::Duration, V::Duration(ms)) => Some(Val::new(VK::Duration(*ms), span)),
            (Ty::DateTime, V::Date(_) | V::DateTime(..)) => self.datetime(node, false),
            (Ty::Schedule, _) => match &node.v {
                V::Str(_) | V::Duration(_) | V::List(_) | V::Map(_) => self.schedule(node),
                _ => self.generic(node),
            },
            (Ty::Pyref, V::PyName(path)) => Some(Val::new(VK::Str(path.clone()), span)),
            (Ty::Callbacks, _) => self.callback(node),
            (Ty::Asset, V::Str(uri)) => Some(self.asset(uri, span, false)),
            (Ty::List(t), V::List(items)) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.typed(item, t)?);
                }
                Some(Val::new(VK::List(out), span))
            }
            (Ty::Map(t), V::Map(entries)) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((k.text.clone(), self.typed(v, t)?));
                }
                Some(Val::new(VK::Record(out), span))
            }
            (Ty::Record(fields), V::Map(entries)) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    let t = stdlib::lookup(fields, &k.text).cloned().unwrap_or(Ty::Any);
                    out.push((k.text.clone(), self.typed(v, &t)?));
                }
                Some(Val::new(VK::Record(out), span))
            }
            _ => self.generic(node),
        }
    }

    /// A number of seconds where Airflow takes a timedelta (`retry_delay`, a sensor's
    /// `poke_interval`...).
    fn seconds(&mut self, s: f64, span: Span) -> Option<Val> {
        let ms = s * 1000.0;
        if !ms.is_finite() || (ms - ms.round()).abs() > 1e-6 || ms.abs() > 9.0e15 {
            self.cannot(
                span,
                "this duration cannot be written in dagf",
                "not a whole number of milliseconds",
                "give a whole number of milliseconds",
            );
            return None;
        }
        Some(Val::new(VK::Duration(ms.round() as i64), span))
    }

    /// Any value, as its own type (what dag-factory passes on unchanged).
    fn generic(&mut self, node: &Node) -> Option<Val> {
        let span = node.span;
        let kind = match &node.v {
            V::Null => VK::None,
            V::Bool(b) => VK::Bool(*b),
            V::Int(i) => VK::Int(*i),
            V::Float(f) if f.is_finite() => VK::Float(*f),
            V::Float(_) => {
                self.cannot(
                    span,
                    "dagf has no infinite or NaN numbers",
                    "not a finite number",
                    "write a finite number",
                );
                return None;
            }
            V::Str(s) => {
                if let Some(c) = emit::unwritable_char(s) {
                    self.cannot(
                        span,
                        format!("a dagf string cannot hold the control character {:?}", c),
                        "in this string",
                        "remove the control character",
                    );
                    return None;
                }
                VK::Str(s.clone())
            }
            V::Date(d) => VK::Date(*d),
            V::DateTime(..) => return self.datetime(node, false),
            V::Duration(ms) => VK::Duration(*ms),
            V::PyName(path) => {
                self.cannot(
                    span,
                    format!("the Python object `!!python/name:{path}` cannot be imported here"),
                    "a Python object",
                    "only a `python_callable` may name a Python object",
                );
                return None;
            }
            V::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    out.push(self.generic(item)?);
                }
                VK::List(out)
            }
            V::Map(entries) => {
                let mut out = Vec::new();
                for (k, v) in entries {
                    out.push((k.text.clone(), self.generic(v)?));
                }
                VK::Record(out)
            }
            V::Asset(uri) => {
                self.cannot(
                    span,
                    format!("the asset `{uri}` can only be imported in `schedule`, `inlets` and `outlets`"),
                    "an Asset object",
                    "write the value as plain YAML (a string, number, list or mapping)",
                );
                return None;
            }
            V::Unsupported(_) => return self.typed(node, &Ty::Any),
        };
        Some(Val::new(kind, span))
    }

    // ---- callbacks ------------------------------------------------------------------

    /// A callback field, from `X` or from `X_name` + `X_file` (which win, as in
    /// `get_dag_params` and `adjust_general_task_params`).
    fn callback_field(&mut self, map: &Node, base: &str) -> Option<Val> {
        let name = map.get(&format!("{base}_name")).filter(|n| !n.is_null());
        let file = map.get(&format!("{base}_file")).filter(|n| !n.is_null());
        match (name, file) {
            (Some(n), Some(f)) => self.callable_from_file(n, f),
            (Some(one), None) | (None, Some(one)) => {
                let missing = if name.is_some() { "_file" } else { "_name" };
                self.ignored(
                    Diagnostic::at(
                        Code::W0601,
                        one.span,
                        format!("dag-factory 1.1 ignores this without `{base}{missing}`"),
                        "ignored",
                    )
                    .with_help(format!(
                        "give both `{base}_name` and `{base}_file`, or a dotted path in `{base}`"
                    )),
                );
                map.get(base)
                    .filter(|n| !n.is_null())
                    .and_then(|n| self.callback(n))
            }
            (None, None) => map
                .get(base)
                .filter(|n| !n.is_null())
                .and_then(|n| self.callback(n)),
        }
    }

    /// `DagBuilder.set_callback`: a dotted path, or `{callback: path, **arguments}`.
    fn callback(&mut self, node: &Node) -> Option<Val> {
        let span = node.span;
        match &node.v {
            V::Null => Some(Val::new(VK::None, span)),
            V::Str(path) => Some(Val::new(VK::Str(path.clone()), span)),
            V::Map(entries) => {
                let Some(path) = node.get("callback").and_then(Node::as_str) else {
                    self.invalid(
                        span,
                        "a callback mapping needs `callback:` with the dotted path of the callable",
                        "no `callback`",
                        "write `callback: module.function` and the arguments beside it",
                    );
                    return None;
                };
                let mut args = Vec::new();
                for (k, v) in entries.iter().filter(|(k, _)| k.text != "callback") {
                    if !emit::is_ident(&k.text) {
                        self.cannot(
                            k.span,
                            format!("`{}` cannot be written as an argument name in dagf", k.text),
                            "not a dagf name",
                            "rename the argument",
                        );
                        return None;
                    }
                    args.push((k.text.clone(), self.generic(v)?));
                }
                Some(self.declare_callback(path, args, span))
            }
            V::List(_) => {
                self.invalid(
                    span,
                    "dag-factory 1.1 takes one callback here, not a list",
                    "a list",
                    "give one dotted path (or one `callback:` mapping)",
                );
                None
            }
            _ => {
                self.invalid(
                    span,
                    format!(
                        "a callback is a dotted path or a `callback:` mapping, not {}",
                        node.kind()
                    ),
                    "not a callback",
                    "write the callable's dotted path, such as `alerts.notify_failure`",
                );
                None
            }
        }
    }

    /// A `callback` declaration for a callable with arguments. A class (a name starting
    /// with a capital letter) is taken for a notifier, which dag-factory instantiates;
    /// a function gets its arguments bound with `functools.partial`.
    fn declare_callback(&mut self, path: &str, args: Vec<(String, Val)>, span: Span) -> Val {
        let last = path.rsplit('.').next().unwrap_or(path);
        let is_notifier = last.starts_with(|c: char| c.is_ascii_uppercase());
        let printed = format!(
            "{path}({})",
            args.iter()
                .map(|(k, v)| format!("{k}={}", emit::text_of(v)))
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Some(&i) = self.callbacks.get(&printed) {
            return Val::new(VK::Ref(self.doc.callbacks[i].name.clone()), span);
        }
        let taken: Vec<String> = self.doc.callbacks.iter().map(|c| c.name.clone()).collect();
        let name = unique(&snake(last), &taken, self.std);
        self.callbacks.insert(printed, self.doc.callbacks.len());
        self.doc.callbacks.push(Callback {
            name: name.clone(),
            is_notifier,
            path: path.to_string(),
            args,
            span,
        });
        Val::new(VK::Ref(name), span)
    }

    /// `utils.get_python_callable`: the function `name` of the file `file`, which
    /// dag-factory loads as the module named after the file. dagf imports it by that
    /// module name.
    fn callable_from_file(&mut self, name: &Node, file: &Node) -> Option<Val> {
        let (Some(n), Some(f)) = (name.as_str(), file.as_str()) else {
            let bad = if name.as_str().is_none() { name } else { file };
            self.invalid(
                bad.span,
                format!("expected a string, found {}", bad.kind()),
                "not a string",
                "write the function's name and the file's absolute path",
            );
            return None;
        };
        if !f.starts_with('/') && !f.starts_with('$') {
            self.invalid(
                file.span,
                "dag-factory 1.1 requires an absolute path to the Python file",
                "not absolute",
                "write the file's absolute path",
            );
            return None;
        }
        let base = f.rsplit('/').next().unwrap_or(f);
        let stem = match base.rsplit_once('.') {
            Some((s, _)) if !s.is_empty() => s,
            _ => base,
        };
        for (part, span) in [(stem, file.span), (n, name.span)] {
            if !emit::is_ident(part) {
                self.cannot(
                    span,
                    format!("`{part}` cannot be part of a Python dotted path"),
                    "not an identifier",
                    "rename the file or the function so both are Python identifiers",
                );
                return None;
            }
        }
        Some(Val::new(
            VK::Str(format!("{stem}.{n}")),
            name.span.to(file.span),
        ))
    }

    // ---- assets -----------------------------------------------------------------------

    fn asset(&mut self, uri: &str, span: Span, produced: bool) -> Val {
        if let Some(&i) = self.assets.get(uri) {
            if produced {
                self.doc.assets[i].is_extern = false;
            }
            return Val::new(VK::Ref(self.doc.assets[i].name.clone()), span);
        }
        let after_scheme = uri.split_once("://").map_or(uri, |(_, rest)| rest);
        let mut base: String = after_scheme
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect();
        while base.contains("__") {
            base = base.replace("__", "_");
        }
        let base = base.trim_matches('_');
        let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
            format!("asset_{base}")
        } else {
            base.to_string()
        };
        let taken: Vec<String> = self.doc.assets.iter().map(|a| a.name.clone()).collect();
        let name = unique(&base, &taken, self.std);
        self.assets.insert(uri.to_string(), self.doc.assets.len());
        self.doc.assets.push(Asset {
            name: name.clone(),
            uri: uri.to_string(),
            is_extern: !produced,
            span,
        });
        Val::new(VK::Ref(name), span)
    }

    /// `inlets` / `outlets`: URIs become assets (`adjust_general_task_params`).
    fn assets_field(&mut self, node: &Node, produced: bool) -> Option<Val> {
        match &node.v {
            V::Null => None,
            V::List(items) => {
                let mut out = Vec::new();
                for item in items {
                    match &item.v {
                        V::Str(uri) | V::Asset(uri) => {
                            out.push(self.asset(uri, item.span, produced))
                        }
                        _ => {
                            self.cannot(
                                item.span,
                                format!("an asset must be a URI string here, not {}", item.kind()),
                                "not a URI",
                                "write the asset's URI",
                            );
                            return None;
                        }
                    }
                }
                Some(Val::new(VK::List(out), node.span))
            }
            _ => {
                self.cannot(
                    node.span,
                    "only a list of asset URIs can be imported here",
                    "cannot be imported",
                    "list the URIs: `[\"s3://bucket/key\", ...]`",
                );
                None
            }
        }
    }

    // ---- task arguments ---------------------------------------------------------------

    /// `default_args` (of a DAG or a task group): task arguments, with callbacks.
    fn task_args_record(&mut self, node: &Node, what: &str) -> Option<Val> {
        let V::Map(entries) = &node.v else {
            self.invalid(
                node.span,
                format!("`{what}` must be a mapping, not {}", node.kind()),
                "here",
                "write the task arguments as a mapping",
            );
            return None;
        };
        let tz_ok = self.timezone_ok(node.get("timezone"));
        let mut out: Vec<(String, Val)> = Vec::new();
        let mut done_callbacks = BTreeSet::new();
        for (k, v) in entries {
            let key = k.text.as_str();
            let base = callback_base(key).unwrap_or(key);
            if CALLBACKS.contains(&base) {
                if done_callbacks.insert(base.to_string())
                    && let Some(val) = self.callback_field(node, base)
                {
                    out.push((base.to_string(), val));
                }
                continue;
            }
            match key {
                "timezone" => {}
                "start_date" | "end_date" => {
                    if tz_ok && let Some(val) = self.datetime_or_none(v) {
                        out.push((key.to_string(), val));
                    }
                }
                "inlets" | "outlets" => {
                    if let Some(val) = self.assets_field(v, key == "outlets") {
                        out.push((key.to_string(), val));
                    }
                }
                _ if DAG_ONLY_ARGS.contains(&key) => self.ignored(
                    Diagnostic::at(
                        Code::W0601,
                        k.span,
                        format!("`{key}` in `{what}` has no effect: Airflow applies `default_args` to task arguments only"),
                        "ignored by Airflow",
                    )
                    .with_help(format!("to set it for the DAG, move `{key}` out of `{what}`")),
                ),
                _ => match self.std.task_arg(key).cloned() {
                    Some(ty) => {
                        if let Some(val) = self.typed(v, &ty) {
                            out.push((key.to_string(), val));
                        }
                    }
                    None => {
                        let names: Vec<&str> =
                            self.std.task_args.iter().map(|(n, _)| n.as_str()).collect();
                        let d = Diagnostic::at(
                            Code::E0601,
                            k.span,
                            format!("`{key}` in `{what}` cannot be imported: it is not one of dagf's task arguments"),
                            "not a task argument dagf knows",
                        )
                        .with_suggestion(key, names)
                        .or_help("remove it, or set it on the tasks that take it")
                        .with_note("dagf's `default_args` holds the arguments every operator takes (TaskArgs in `dagfc explain E0601`)");
                        self.diags.push(d);
                    }
                },
            }
        }
        Some(Val::new(VK::Record(out), node.span))
    }

    fn datetime_or_none(&mut self, node: &Node) -> Option<Val> {
        if node.is_null() {
            return Some(Val::new(VK::None, node.span));
        }
        self.datetime(node, true)
    }

    // ---- operators ----------------------------------------------------------------------

    /// The dagf operator for a class path: the standard one, or one declared for it.
    fn operator(&mut self, path: &str, span: Span) -> Option<OpRef> {
        if let Some(op) = self.std.operator_for_class(path) {
            return Some(OpRef::Std(op));
        }
        let parts: Vec<&str> = path.split('.').collect();
        if parts.len() < 2
            || !parts.iter().all(|p| {
                emit::is_ident(p)
                    || p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        && !p.is_empty()
                        && !p.starts_with(|c: char| c.is_ascii_digit())
            })
        {
            self.invalid(
                span,
                format!("`{path}` is not a dotted path to an operator class"),
                "not a class path",
                "write the class's full path, such as airflow.providers.standard.operators.bash.BashOperator",
            );
            return None;
        }
        if let Some(&i) = self.operators.get(path) {
            return Some(OpRef::Custom(i));
        }
        let class = parts.last().copied().unwrap_or(path);
        let taken: Vec<String> = self.doc.operators.iter().map(|o| o.name.clone()).collect();
        let name = unique(&snake(class), &taken, self.std);
        let i = self.doc.operators.len();
        self.doc.operators.push(emit::Operator {
            name,
            class: path.to_string(),
            is_sensor: class.ends_with("Sensor"),
            fields: Vec::new(),
            span,
        });
        self.operators.insert(path.to_string(), i);
        Some(OpRef::Custom(i))
    }

    /// The type of a task's field, declaring it on a custom operator when needed.
    /// `None` for a field the operator does not take (reported).
    fn field_type(&mut self, op: OpRef, key: &Key) -> Option<Ty> {
        let name = key.text.as_str();
        let is_sensor = match op {
            OpRef::Std(o) => {
                if let Some(t) = stdlib::lookup(&o.fields, name) {
                    return Some(t.clone());
                }
                o.is_sensor
            }
            OpRef::Custom(i) => self.doc.operators[i].is_sensor,
        };
        if let Some(t) = self.std.task_arg(name) {
            return Some(t.clone());
        }
        if is_sensor && let Some(t) = self.std.sensor_arg(name) {
            return Some(t.clone());
        }
        match op {
            OpRef::Std(o) => {
                let mut names: Vec<&str> = o.fields.iter().map(|(n, _)| n.as_str()).collect();
                names.extend(self.std.task_args.iter().map(|(n, _)| n.as_str()));
                if o.is_sensor {
                    names.extend(self.std.sensor_args.iter().map(|(n, _)| n.as_str()));
                }
                let d = Diagnostic::at(
                    Code::E0601,
                    key.span,
                    format!("a `{}` task has no field `{name}` in dagf ({})", o.name, o.class),
                    "unknown to dagf",
                )
                .with_suggestion(name, names)
                .or_help("remove it, or declare your own operator for the class with this field and use it for the task");
                self.diags.push(d);
                None
            }
            OpRef::Custom(i) => {
                if !emit::is_ident(name) {
                    self.cannot(
                        key.span,
                        format!("`{name}` cannot be declared as an operator field in dagf"),
                        "not a dagf name",
                        "rename the argument",
                    );
                    return None;
                }
                let (ty, text) = match name {
                    "python_callable" => (Ty::Pyref, "pyref?"),
                    "execution_delta" => (Ty::Duration, "duration?"),
                    _ => (Ty::Any, "any?"),
                };
                let fields = &mut self.doc.operators[i].fields;
                if !fields.iter().any(|(n, _)| n == name) {
                    fields.push((name.to_string(), text));
                }
                Some(ty)
            }
        }
    }

    /// `DagBuilder.make_task` and `adjust_general_task_params`: one task.
    fn task(&mut self, key: &Key, conf: &Node, skip_task_id: bool) -> Option<Task> {
        let V::Map(entries) = &conf.v else {
            self.invalid(
                conf.span,
                format!("task `{}` must be a mapping, not {}", key.text, conf.kind()),
                "here",
                "give the task an `operator` and its arguments",
            );
            return None;
        };
        if let Some(d) = conf.get("decorator") {
            self.cannot(
                d.span,
                "TaskFlow tasks (`decorator`) cannot be imported",
                "cannot be imported",
                "use `operator: airflow.providers.standard.operators.python.PythonOperator` with `python_callable`",
            );
            return None;
        }
        let Some(op_node) = conf.get("operator") else {
            self.invalid(
                key.span,
                format!("task `{}` has no `operator`", key.text),
                "no operator",
                "add `operator:` with the operator class's dotted path",
            );
            return None;
        };
        let Some(path) = op_node.as_str() else {
            self.invalid(
                op_node.span,
                "`operator` must be a dotted path",
                "not a string",
                "write the operator class's dotted path",
            );
            return None;
        };
        let op = self.operator(path, op_node.span)?;
        let (op_name, std_name) = match op {
            OpRef::Std(o) => (o.name.clone(), Some(o.name.as_str())),
            OpRef::Custom(i) => (self.doc.operators[i].name.clone(), None),
        };
        let python_like = std_name.is_none_or(|n| PYTHON_OPERATORS.contains(&n));
        let mut fields: Vec<Field> = Vec::new();
        let mut failed = false;
        let mut done = BTreeSet::new();
        for (k, v) in entries {
            let name = k.text.as_str();
            let base = callback_base(name).unwrap_or(name);
            if CALLBACKS.contains(&base) {
                if done.insert(base.to_string())
                    && let Some(val) = self.callback_field(conf, base)
                {
                    fields.push(field(base, val, k.span));
                }
                continue;
            }
            let pair = |stem: &str| (format!("{stem}_name"), format!("{stem}_file"));
            match name {
                "operator" | "dependencies" | "task_group_name" => {}
                "task_id" if skip_task_id => {}
                "task_id" => {
                    if v.as_str() != Some(key.text.as_str()) {
                        self.ignored(
                            Diagnostic::at(
                                Code::W0601,
                                k.span,
                                format!("dag-factory 1.1 names the task after its key, `{}`, not after `task_id`", key.text),
                                "ignored",
                            )
                            .with_help("rename the key to change the task id"),
                        );
                    }
                }
                "python_callable" | "python_callable_name" | "python_callable_file"
                    if python_like =>
                {
                    if !done.insert("python_callable".to_string()) {
                        continue;
                    }
                    let by_file = (
                        conf.get("python_callable_name"),
                        conf.get("python_callable_file"),
                    );
                    let val = match (conf.get("python_callable"), by_file) {
                        (Some(c), _) if !c.is_null() => {
                            match &c.v {
                                V::Str(s) => Some(Val::new(VK::Str(s.clone()), c.span)),
                                V::PyName(s) => Some(Val::new(VK::Str(s.clone()), c.span)),
                                _ => {
                                    self.invalid(
                                        c.span,
                                        format!("`python_callable` must be a dotted path, not {}", c.kind()),
                                        "not a dotted path",
                                        "write the function's dotted path, such as etl.transform.run",
                                    );
                                    None
                                }
                            }
                        }
                        (_, (Some(n), Some(f))) => self.callable_from_file(n, f),
                        (_, (Some(one), None) | (None, Some(one))) => {
                            self.invalid(
                                one.span,
                                "`python_callable_name` and `python_callable_file` go together",
                                "only one of them",
                                "give both, or a dotted path in `python_callable`",
                            );
                            None
                        }
                        _ => None,
                    };
                    match val {
                        Some(val) => {
                            if let OpRef::Custom(_) = op {
                                let pc = Key {
                                    text: "python_callable".into(),
                                    span: k.span,
                                };
                                self.field_type(op, &pc);
                            }
                            fields.push(field("python_callable", val, k.span));
                        }
                        None => failed = true,
                    }
                }
                "success_check_name"
                | "success_check_file"
                | "failure_check_name"
                | "failure_check_file"
                | "response_check_name"
                | "response_check_file"
                    if matches!(std_name, Some("sql_sensor" | "http_sensor")) =>
                {
                    let stem = name.rsplit_once('_').map_or(name, |(s, _)| s);
                    let target = match stem {
                        "success_check" => "success",
                        "failure_check" => "failure",
                        _ => "response_check",
                    };
                    if !done.insert(target.to_string()) {
                        continue;
                    }
                    let (n, f) = pair(stem);
                    match (conf.get(&n), conf.get(&f)) {
                        (Some(n), Some(f)) => match self.callable_from_file(n, f) {
                            Some(val) => fields.push(field(target, val, k.span)),
                            None => failed = true,
                        },
                        _ => self.ignored(
                            Diagnostic::at(
                                Code::W0601,
                                k.span,
                                format!(
                                    "dag-factory 1.1 ignores this without both `{n}` and `{f}`"
                                ),
                                "ignored",
                            )
                            .with_help(format!("give both `{n}` and `{f}`")),
                        ),
                    }
                }
                "success_check_lambda" | "failure_check_lambda" | "response_check_lambda"
                    if matches!(std_name, Some("sql_sensor" | "http_sensor")) =>
                {
                    self.cannot(
                        k.span,
                        "a Python lambda in YAML cannot be imported",
                        "cannot be imported",
                        "put the function in a Python module and name it with `_name` and `_file`",
                    );
                    failed = true;
                }
                "execution_date_fn"
                | "execution_date_fn_name"
                | "execution_date_fn_file"
                | "variables_as_arguments"
                | "expand"
                | "partial" => {
                    let why = match name {
                        "variables_as_arguments" => {
                            "it reads Airflow Variables when the file is parsed; use a `{{ var.value.NAME }}` template in the argument instead"
                        }
                        "expand" | "partial" => {
                            "dagf has no dynamic task mapping; write one task per value"
                        }
                        _ => {
                            "dagf's `external_task` has no `execution_date_fn`; use `execution_delta`"
                        }
                    };
                    self.cannot(
                        k.span,
                        format!("`{name}` cannot be imported"),
                        "cannot be imported",
                        why,
                    );
                    failed = true;
                }
                "data" if std_name == Some("http") && is_json_body(conf) => {
                    self.cannot(
                        k.span,
                        "dag-factory turns this `data` into a JSON-returning callable, which dagf cannot write",
                        "cannot be imported",
                        "write `data` as a JSON string",
                    );
                    failed = true;
                }
                "inlets" | "outlets" => match self.assets_field(v, name == "outlets") {
                    Some(val) => fields.push(field(name, val, k.span)),
                    None => failed |= !v.is_null(),
                },
                "execution_delta" if v.as_str().is_some() => {
                    let s = v.as_str().unwrap_or_default();
                    match relative_time(s) {
                        Some(ms) => {
                            self.field_type(op, k);
                            fields.push(field(name, Val::new(VK::Duration(ms), v.span), k.span));
                        }
                        None => {
                            self.invalid(
                                v.span,
                                format!("`{s}` is not a time dag-factory can read"),
                                "not a time",
                                "write it like `1 hours` or `30 minutes`",
                            );
                            failed = true;
                        }
                    }
                }
                "start_date" | "end_date" => match self.datetime_or_none(v) {
                    Some(val) => fields.push(field(name, val, k.span)),
                    None => failed = true,
                },
                _ => {
                    if !emit::is_ident(name) {
                        self.cannot(
                            k.span,
                            format!("`{name}` cannot be written as a field name in dagf"),
                            "not a dagf name",
                            "rename the argument",
                        );
                        failed = true;
                        continue;
                    }
                    match self.field_type(op, k) {
                        Some(ty) => match self.typed(v, &ty) {
                            Some(val) => fields.push(field(name, val, k.span)),
                            None => failed = true,
                        },
                        None => failed = true,
                    }
                }
            }
        }
        if failed {
            return None;
        }
        Some(Task {
            name: key.text.clone(),
            operator: op_name,
            fields,
            span: key.span,
        })
    }

    // ---- one DAG ------------------------------------------------------------------------

    fn dag(&mut self, key: &Key, conf: &Node, mixin: &[Field]) -> Dag {
        let fields = self.dag_fields(conf, Some(key));
        let fields = over_mixin(fields, mixin, key.span);
        let body = self.structure(key, conf);
        Dag {
            name: key.text.clone(),
            span: key.span,
            fields,
            body,
        }
    }

    /// `_normalise_tasks_config` / `_normalise_task_groups_config`: a mapping by name, or
    /// a list of mappings that name themselves with `id_key`.
    fn named_list<'n>(
        &mut self,
        node: Option<&'n Node>,
        id_key: &str,
        what: &str,
    ) -> Vec<(Key, &'n Node, bool)> {
        let Some(node) = node else { return Vec::new() };
        match &node.v {
            V::Null => Vec::new(),
            V::Map(entries) => entries.iter().map(|(k, v)| (k.clone(), v, false)).collect(),
            V::List(items) => {
                let mut out: Vec<(Key, &Node, bool)> = Vec::new();
                for item in items {
                    let Some(id) = item.get(id_key) else {
                        self.invalid(
                            item.span,
                            format!("each entry of a `{what}` list needs `{id_key}`"),
                            format!("no `{id_key}`").as_str(),
                            "name the entry",
                        );
                        continue;
                    };
                    let text = match &id.v {
                        V::Str(s) => s.clone(),
                        V::Int(i) => i.to_string(),
                        _ => {
                            self.invalid(
                                id.span,
                                format!("`{id_key}` must be a string"),
                                "not a name",
                                "write a name",
                            );
                            continue;
                        }
                    };
                    if let Some((first, _, _)) = out.iter().find(|(k, _, _)| k.text == text) {
                        let first = first.span;
                        self.diags.push(
                            Diagnostic::at(
                                Code::E0602,
                                id.span,
                                format!("`{text}` is declared twice in `{what}`"),
                                "again here",
                            )
                            .with_label(first, "first here")
                            .with_help("give each entry its own name"),
                        );
                        continue;
                    }
                    out.push((
                        Key {
                            text,
                            span: id.span,
                        },
                        item,
                        true,
                    ));
                }
                out
            }
            _ => {
                self.invalid(
                    node.span,
                    format!("`{what}` must be a mapping or a list, not {}", node.kind()),
                    "here",
                    "list the entries under it",
                );
                Vec::new()
            }
        }
    }

    /// Tasks, task groups and dependencies (`build`, `make_task_groups`,
    /// `set_dependencies`), laid out as dagf bodies.
    fn structure(&mut self, dag_key: &Key, conf: &Node) -> Body {
        let task_list = self.named_list(conf.get("tasks"), "task_id", "tasks");
        let group_list = self.named_list(conf.get("task_groups"), "group_name", "task_groups");

        // Groups.
        let mut groups: Vec<GroupIn> = Vec::new();
        for (key, gconf, _) in &group_list {
            groups.push(self.group(key, gconf));
        }
        for i in 0..groups.len() {
            if let Some((parent, span)) = groups[i].parent.clone() {
                match groups.iter().position(|g| g.key.text == parent) {
                    Some(p) => groups[i].parent_index = Some(p),
                    None => {
                        let names: Vec<&str> = groups.iter().map(|g| g.key.text.as_str()).collect();
                        let d = Diagnostic::at(
                            Code::E0602,
                            span,
                            format!("dag `{}` has no task group `{parent}`", dag_key.text),
                            "unknown task group",
                        )
                        .with_suggestion(&parent, names)
                        .or_help("declare the group under `task_groups`");
                        self.diags.push(d);
                    }
                }
            }
        }
        let mut paths: Vec<Vec<String>> = Vec::new();
        for i in 0..groups.len() {
            let mut chain = vec![groups[i].key.text.clone()];
            let mut at = groups[i].parent_index;
            let mut cyclic = false;
            while let Some(p) = at {
                if p == i || chain.len() > groups.len() {
                    cyclic = true;
                    break;
                }
                chain.push(groups[p].key.text.clone());
                at = groups[p].parent_index;
            }
            if cyclic {
                let span = groups[i].key.span;
                self.invalid(
                    span,
                    format!("task group `{}` is its own ancestor", groups[i].key.text),
                    "in a cycle of `parent_group_name`",
                    "make the groups a tree",
                );
                groups[i].parent_index = None;
                chain.truncate(1);
            }
            chain.reverse();
            paths.push(chain);
        }

        // Tasks.
        let mut tasks: Vec<TaskIn> = Vec::new();
        for (key, tconf, from_list) in &task_list {
            let group = match tconf.get("task_group_name") {
                Some(g) if !g.is_null() => {
                    let name = g.as_str().unwrap_or_default();
                    match groups.iter().position(|x| x.key.text == name) {
                        Some(i) => Some(i),
                        None if groups.is_empty() => {
                            self.ignored(
                                Diagnostic::at(Code::W0601, g.span, "dag-factory 1.1 ignores `task_group_name` in a dag without task groups", "ignored")
                                    .with_help("declare the group under the dag's `task_groups`"),
                            );
                            None
                        }
                        None => {
                            let names: Vec<&str> =
                                groups.iter().map(|x| x.key.text.as_str()).collect();
                            let d = Diagnostic::at(
                                Code::E0602,
                                g.span,
                                format!("dag `{}` has no task group `{name}`", dag_key.text),
                                "unknown task group",
                            )
                            .with_suggestion(name, names)
                            .or_help("declare the group under `task_groups`");
                            self.diags.push(d);
                            None
                        }
                    }
                }
                _ => None,
            };
            let deps = self.dep_names(tconf.get("dependencies"));
            let task = self.task(key, tconf, *from_list);
            tasks.push(TaskIn {
                key: key.clone(),
                group,
                deps,
                task,
            });
        }

        // Group default_args apply to the tasks inside (Airflow's TaskGroup default_args,
        // inner groups over outer ones, the task's own arguments over both).
        for t in &mut tasks {
            let (Some(g), Some(task)) = (t.group, t.task.as_mut()) else {
                continue;
            };
            let mut chain = Vec::new();
            let mut at = Some(g);
            while let Some(i) = at {
                if chain.contains(&i) {
                    break;
                }
                chain.push(i);
                at = groups[i].parent_index;
            }
            for &i in &chain {
                for f in &groups[i].default_args {
                    if !task.fields.iter().any(|x| x.name == f.name) {
                        task.fields.push(f.clone());
                    }
                }
            }
        }

        // Names: tasks and groups share one namespace in `set_dependencies`.
        let mut names: HashMap<String, NodeRef> = HashMap::new();
        for (i, t) in tasks.iter().enumerate() {
            names.insert(t.key.text.clone(), NodeRef::Task(i));
        }
        for (i, g) in groups.iter().enumerate() {
            if let Some(NodeRef::Task(t)) = names.get(&g.key.text) {
                let task_span = tasks[*t].key.span;
                self.diags.push(
                    Diagnostic::at(
                        Code::E0602,
                        g.key.span,
                        format!("a task and a task group are both named `{}`", g.key.text),
                        "the group",
                    )
                    .with_label(task_span, "the task")
                    .with_help("dag-factory looks dependencies up by name; rename one of them"),
                );
            }
            names.insert(g.key.text.clone(), NodeRef::Group(i));
        }
        let place = |r: NodeRef| -> Place {
            match r {
                NodeRef::Task(i) => Place {
                    groups: tasks[i].group.map(|g| paths[g].clone()).unwrap_or_default(),
                    name: tasks[i].key.text.clone(),
                },
                NodeRef::Group(i) => {
                    let mut groups_path = paths[i].clone();
                    let name = groups_path.pop().unwrap_or_default();
                    Place {
                        groups: groups_path,
                        name,
                    }
                }
            }
        };

        // Edges, each written in the innermost body that holds both ends.
        let mut edges: Vec<(NodeRef, Span, NodeRef, Span)> = Vec::new();
        let mut all_names: Vec<&str> = names.keys().map(String::as_str).collect();
        all_names.sort_unstable();
        let downstream: Vec<(NodeRef, Span, Names)> = tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (NodeRef::Task(i), t.key.span, t.deps.clone()))
            .chain(
                groups
                    .iter()
                    .enumerate()
                    .map(|(i, g)| (NodeRef::Group(i), g.key.span, g.deps.clone())),
            )
            .collect();
        for (down, down_span, deps) in downstream {
            for (dep, span) in deps {
                match names.get(&dep) {
                    Some(&up) => edges.push((up, span, down, down_span)),
                    None => {
                        let d = Diagnostic::at(
                            Code::E0602,
                            span,
                            format!("dag `{}` has no task or task group `{dep}`", dag_key.text),
                            "unknown name",
                        )
                        .with_suggestion(&dep, all_names.iter().copied())
                        .or_help("name a task or a task group of the same dag");
                        self.diags.push(d);
                    }
                }
            }
        }
        let mut deps_at: Vec<(Vec<String>, Dep)> = Vec::new();
        for (up, up_span, down, down_span) in edges {
            let (u, d) = (place(up), place(down));
            let common: Vec<String> = u
                .groups
                .iter()
                .zip(&d.groups)
                .take_while(|(a, b)| a == b)
                .map(|(a, _)| a.clone())
                .collect();
            let rel = |p: &Place| -> Option<String> {
                let full = p.full();
                let rest = &full[common.len()..];
                match rest {
                    [one] => Some(emit::name_text(one)),
                    many if many.iter().all(|s| emit::is_ident(s)) => Some(many.join(".")),
                    _ => None,
                }
            };
            let (body, ut, dt) = match (rel(&u), rel(&d)) {
                (Some(ut), Some(dt)) => (common.clone(), ut, dt),
                _ => {
                    // A name that is not an identifier cannot be part of a path; it can
                    // still be reached by name from a body inside the one that declares it.
                    let u_outer = d.groups.starts_with(&u.groups) && matches!(up, NodeRef::Task(_));
                    let d_outer =
                        u.groups.starts_with(&d.groups) && matches!(down, NodeRef::Task(_));
                    if u_outer {
                        (
                            d.groups.clone(),
                            emit::name_text(&u.name),
                            emit::name_text(&d.name),
                        )
                    } else if d_outer {
                        (
                            u.groups.clone(),
                            emit::name_text(&u.name),
                            emit::name_text(&d.name),
                        )
                    } else {
                        let bad: Vec<String> = u
                            .full()
                            .into_iter()
                            .chain(d.full())
                            .filter(|s| !emit::is_ident(s))
                            .collect();
                        self.cannot(
                            up_span,
                            format!(
                                "dagf cannot connect `{}` to `{}`: it names a task or group inside \
                                 another group by a path of identifiers, and {} is not one",
                                u.full().join("."),
                                d.full().join("."),
                                bad.iter()
                                    .map(|b| format!("`{b}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                            "cannot be written",
                            "rename the task or group to letters, digits and `_`",
                        );
                        continue;
                    }
                }
            };
            match deps_at
                .iter_mut()
                .find(|(b, dep)| *b == body && dep.downstream.0 == dt)
            {
                Some((_, dep)) => {
                    if !dep.upstream.iter().any(|(x, _)| *x == ut) {
                        dep.upstream.push((ut, up_span));
                    }
                }
                None => deps_at.push((
                    body,
                    Dep {
                        upstream: vec![(ut, up_span)],
                        downstream: (dt, down_span),
                    },
                )),
            }
        }

        let mut task_out: Vec<Option<Task>> = tasks.iter_mut().map(|t| t.task.take()).collect();

        // Layout: each body lists its tasks and groups in the order the tasks appear in
        // the YAML, a group where its first task is.
        let order_of_group = |g: usize| -> usize {
            tasks
                .iter()
                .enumerate()
                .filter(|(_, t)| t.group.is_some_and(|tg| paths[tg].starts_with(&paths[g])))
                .map(|(i, _)| i)
                .min()
                .unwrap_or(tasks.len() + g)
        };
        let mut group_out: Vec<Option<Group>> = groups
            .iter()
            .map(|g| {
                Some(Group {
                    name: g.key.text.clone(),
                    tooltip: g.tooltip.clone(),
                    body: Body::default(),
                    span: g.key.span,
                })
            })
            .collect();
        // Fill bodies from the deepest groups up.
        let mut by_depth: Vec<usize> = (0..groups.len()).collect();
        by_depth.sort_by_key(|&g| std::cmp::Reverse(paths[g].len()));
        let children = |path: &[String]| -> Vec<(usize, NodeRef)> {
            let mut kids: Vec<(usize, NodeRef)> = Vec::new();
            for (i, t) in tasks.iter().enumerate() {
                let tp = t.group.map(|g| paths[g].as_slice()).unwrap_or(&[]);
                if tp == path {
                    kids.push((i, NodeRef::Task(i)));
                }
            }
            for (g, p) in paths.iter().enumerate() {
                if p.len() == path.len() + 1 && p.starts_with(path) {
                    kids.push((order_of_group(g), NodeRef::Group(g)));
                }
            }
            kids.sort_by_key(|(o, _)| *o);
            kids
        };
        let fill = |path: &[String],
                    group_out: &mut Vec<Option<Group>>,
                    task_out: &mut Vec<Option<Task>>,
                    deps_at: &mut Vec<(Vec<String>, Dep)>|
         -> Body {
            let mut body = Body::default();
            for (_, r) in children(path) {
                match r {
                    NodeRef::Task(i) => {
                        if let Some(t) = task_out[i].take() {
                            body.items.push(Item::Task(t));
                        }
                    }
                    NodeRef::Group(g) => {
                        if let Some(gr) = group_out[g].take() {
                            body.items.push(Item::Group(gr));
                        }
                    }
                }
            }
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(deps_at)
                .into_iter()
                .partition(|(b, _)| b.as_slice() == path);
            *deps_at = rest;
            body.deps = mine.into_iter().map(|(_, d)| d).collect();
            body
        };
        for g in by_depth {
            let body = fill(&paths[g], &mut group_out, &mut task_out, &mut deps_at);
            if let Some(gr) = group_out[g].as_mut() {
                gr.body = body;
            }
        }
        fill(&[], &mut group_out, &mut task_out, &mut deps_at)
    }

    /// `dependencies`: a list of task or group names.
    fn dep_names(&mut self, node: Option<&Node>) -> Vec<(String, Span)> {
        let Some(node) = node else { return Vec::new() };
        match &node.v {
            V::Null => Vec::new(),
            V::List(items) => items
                .iter()
                .filter_map(|i| match &i.v {
                    V::Str(s) => Some((s.clone(), i.span)),
                    V::Int(n) => Some((n.to_string(), i.span)),
                    _ => {
                        self.invalid(
                            i.span,
                            format!("a dependency is a task or group name, not {}", i.kind()),
                            "not a name",
                            "write the name of a task or task group",
                        );
                        None
                    }
                })
                .collect(),
            _ => {
                self.invalid(
                    node.span,
                    format!(
                        "`dependencies` must be a list of names, not {}",
                        node.kind()
                    ),
                    "not a list",
                    "write `dependencies: [name, ...]`",
                );
                Vec::new()
            }
        }
    }

    /// `make_nested_task_groups`: one task group's settings.
    fn group(&mut self, key: &Key, conf: &Node) -> GroupIn {
        let mut g = GroupIn {
            key: key.clone(),
            parent: None,
            parent_index: None,
            tooltip: None,
            default_args: Vec::new(),
            deps: Vec::new(),
        };
        if !matches!(conf.v, V::Map(_)) {
            self.invalid(
                conf.span,
                format!(
                    "task group `{}` must be a mapping, not {}",
                    key.text,
                    conf.kind()
                ),
                "here",
                "give the group its settings as a mapping (`{}` for none)",
            );
            return g;
        }
        for (k, v) in conf.entries() {
            match k.text.as_str() {
                "group_name" => {}
                "tooltip" => g.tooltip = self.typed(v, &Ty::Str).filter(|t| !matches!(t.kind, VK::None)),
                "parent_group_name" => match &v.v {
                    V::Null => {}
                    V::Str(s) => g.parent = Some((s.clone(), v.span)),
                    _ => self.invalid(v.span, "`parent_group_name` must be a group name", "not a name", "name the parent group"),
                },
                "dependencies" => g.deps = self.dep_names(Some(v)),
                "prefix_group_id" => {
                    if !matches!(v.v, V::Bool(true) | V::Null) {
                        self.cannot(
                            k.span,
                            "dagf task groups always prefix their tasks' ids with the group id",
                            "cannot be imported",
                            "remove `prefix_group_id: false` (the task ids then start with the group id)",
                        );
                    }
                }
                "default_args" => {
                    if let Some(Val { kind: VK::Record(entries), .. }) = self.task_args_record(v, "default_args") {
                        g.default_args = entries
                            .into_iter()
                            .filter(|(_, val)| !matches!(val.kind, VK::None))
                            .map(|(name, value)| Field { span: value.span, name, value, is_override: false })
                            .collect();
                    }
                }
                other => self.cannot(
                    k.span,
                    format!("`{other}` of a task group cannot be imported: a dagf group has only a `tooltip`"),
                    "cannot be imported",
                    "remove it",
                ),
            }
        }
        g
    }
}

#[derive(Clone, Copy)]
enum OpRef {
    Std(&'static stdlib::Operator),
    Custom(usize),
}

fn field(name: &str, value: Val, span: Span) -> Field {
    Field {
        name: name.to_string(),
        value,
        span,
        is_override: false,
    }
}

fn callback_base(key: &str) -> Option<&str> {
    key.strip_suffix("_name")
        .or_else(|| key.strip_suffix("_file"))
        .filter(|b| CALLBACKS.contains(b))
}

/// A DAG's fields over the mixin's: what the DAG changes, with `override` where it
/// replaces a value of the mixin; a record field only lists the keys it changes.
fn over_mixin(fields: Vec<Field>, mixin: &[Field], dag_span: Span) -> Vec<Field> {
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

/// `utils.merge_configs(config, default)`: the DAG's keys win; mappings present on both
/// sides are merged key by key, recursively.
fn merge_configs(config: &Node, default: &Node) -> Node {
    let (V::Map(mine), V::Map(theirs)) = (&config.v, &default.v) else {
        return config.clone();
    };
    let mut out = mine.clone();
    for (k, dv) in theirs {
        match out.iter_mut().find(|(o, _)| o.text == k.text) {
            Some((_, cv)) => {
                if matches!(cv.v, V::Map(_)) && matches!(dv.v, V::Map(_)) {
                    *cv = merge_configs(cv, dv);
                }
            }
            None => out.push((k.clone(), dv.clone())),
        }
    }
    Node {
        v: V::Map(out),
        span: config.span,
    }
}

/// A name for a declaration that no other declaration of the file, no standard operator
/// and no keyword has.
fn unique(base: &str, taken: &[String], std: &Std) -> String {
    let base = if emit::is_ident(base) {
        base.to_string()
    } else {
        format!("imported_{base}")
    };
    let base = if emit::is_ident(&base) {
        base
    } else {
        "imported".to_string()
    };
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) || std.is_std_name(&name) || name == emit::MIXIN {
        name = format!("{base}_{n}");
        n += 1;
    }
    name
}

/// `SnowflakeOperator` -> `snowflake_operator`, `S3KeySensor` -> `s3_key_sensor`.
pub fn snake(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (prev.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        } else {
            out.push('_');
        }
    }
    out
}

/// The ISO 8601 forms of a date string pendulum reads: `2024-01-01`,
/// `2024-01-01T06:00[:00[.ffffff]][Z|+02:00]` (a space may replace the `T`), and its
/// microseconds.
fn parse_datetime(s: &str) -> Option<(DateTime, u32)> {
    let s = s.trim();
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim_start())),
        None => (s, None),
    };
    let mut d = date.split('-');
    let year: i32 = d.next()?.parse().ok()?;
    let month: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || date.len() != 10 {
        return None;
    }
    let date = Date::new(year, month, day)?;
    let Some(time) = time else {
        return Some((DateTime::midnight(date), 0));
    };
    let (clock, offset) = match time.find(['Z', 'z', '+', '-']) {
        Some(i) => (&time[..i], Some(&time[i..])),
        None => (time, None),
    };
    let offset_minutes = match offset {
        None => None,
        Some("Z" | "z") => Some(0),
        Some(o) => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 && digits.len() != 2 {
                return None;
            }
            let h: i32 = digits.get(..2)?.parse().ok()?;
            let m: i32 = digits
                .get(2..)
                .filter(|m| !m.is_empty())
                .map_or(Some(0), |m| m.parse().ok())?;
            Some(sign * (h * 60 + m))
        }
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (clock, None),
    };
    let mut parts = hms.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next()?.parse().ok()?;
    let second: u32 = match parts.next() {
        Some(p) => p.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() || !dagf_time::is_time_of_day(hour, minute, second) {
        return None;
    }
    let micro = match frac {
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => f
            .chars()
            .chain("000000".chars())
            .take(6)
            .collect::<String>()
            .parse()
            .ok()?,
        Some(_) => return None,
        None => 0,
    };
    let at = DateTime {
        date,
        hour,
        minute,
        second,
        offset_minutes: offset_minutes.unwrap_or(0),
    };
    Some((at, micro))
}

/// `utils.get_time_delta`: `1 hours`, `30 minutes`, `2 days`... in milliseconds.
fn relative_time(s: &str) -> Option<i64> {
    let re = regex::Regex::new(
        r"(?i)^((?P<hours>\d+?)\s+hour)?((?P<minutes>\d+?)\s+minute)?((?P<seconds>\d+?)\s+second)?((?P<days>\d+?)\s+day)?",
    )
    .ok()?;
    let c = re.captures(s)?;
    let mut ms: i64 = 0;
    let mut any = false;
    for (unit, size) in [
        ("hours", 3_600_000i64),
        ("minutes", 60_000),
        ("seconds", 1_000),
        ("days", 86_400_000),
    ] {
        if let Some(m) = c.name(unit) {
            any = true;
            ms = ms.checked_add(m.as_str().parse::<i64>().ok()?.checked_mul(size)?)?;
        }
    }
    any.then_some(ms)
}

fn is_relative_time(s: &str) -> bool {
    relative_time(s).is_some()
}

fn is_json_body(conf: &Node) -> bool {
    conf.get("headers")
        .and_then(|h| h.get("Content-Type"))
        .and_then(Node::as_str)
        .is_some_and(|c| c.to_ascii_lowercase().contains("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_names() {
        assert_eq!(snake("SnowflakeOperator"), "snowflake_operator");
        assert_eq!(snake("S3KeySensor"), "s3_key_sensor");
        assert_eq!(snake("HTTPSensor"), "http_sensor");
        assert_eq!(snake("send_alert"), "send_alert");
    }

    #[test]
    fn dates_and_relative_times() {
        let (t, micro) = parse_datetime("2024-03-01T06:30:00.25+02:00").expect("datetime");
        assert_eq!(
            (t.hour, t.minute, t.offset_minutes, micro),
            (6, 30, 120, 250_000)
        );
        assert!(parse_datetime("2024-02-30").is_none());
        assert_eq!(parse_datetime("2024-01-01").map(|(d, _)| d.hour), Some(0));
        assert_eq!(relative_time("1 hours"), Some(3_600_000));
        assert_eq!(relative_time("2 days"), Some(172_800_000));
        assert_eq!(relative_time("soon"), None);
    }
}
