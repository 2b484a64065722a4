//! Tasks and operators: a task's operator (a standard one, or a custom class declared as
//! an `operator`), its arguments as that operator's fields, and `default_args`.

use super::callbacks::{CALLBACKS, callback_base};
use super::values::relative_time;
use super::{Conv, field, snake, unique};
use crate::emit::{self, Field, Task, VK, Val};
use crate::stdlib::{self, Ty};
use crate::yaml::{Key, Node, V};
use dagf_diag::{Code, Diagnostic, Span};
use std::collections::BTreeSet;

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

/// The standard operators whose `python_callable` dag-factory resolves (subclasses of
/// PythonOperator, BranchPythonOperator and PythonSensor).
const PYTHON_OPERATORS: [&str; 4] = ["python", "branch", "short_circuit", "python_sensor"];

#[derive(Clone, Copy)]
enum OpRef {
    Std(&'static stdlib::Operator),
    Custom(usize),
}

fn is_json_body(conf: &Node) -> bool {
    conf.get("headers")
        .and_then(|h| h.get("Content-Type"))
        .and_then(Node::as_str)
        .is_some_and(|c| c.to_ascii_lowercase().contains("application/json"))
}

impl Conv {
    /// `default_args` (of a DAG or a task group): task arguments, with callbacks.
    pub(super) fn task_args_record(&mut self, node: &Node, what: &str) -> Option<Val> {
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
    /// `expand:` as dagf's `expand = { ... }`: each field a list of its type, or
    /// another task's output, which dag-factory reads from `TASK.output` or
    /// `XcomArg(TASK)` (`replace_expand_values`).
    fn expand(&mut self, op: OpRef, node: &Node) -> Option<Val> {
        let V::Map(entries) = &node.v else {
            self.invalid(
                node.span,
                format!("`expand` must be a mapping, not {}", node.kind()),
                "here",
                "give each mapped argument and the list of its values",
            );
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        let mut failed = false;
        for (k, v) in entries {
            let output = v.as_str().and_then(|s| match s.split_once(".output") {
                Some((task, _)) => Some(task.to_string()),
                None if s.contains("XcomArg") => s
                    .split_once('(')
                    .and_then(|(_, rest)| rest.split_once(')'))
                    .map(|(task, _)| task.trim_matches('(').to_string()),
                None => None,
            });
            let val = match output {
                Some(task) if emit::is_ident(&task) => {
                    // Checked as a field of the operator, for its name.
                    if self.field_type(op, k).is_none() {
                        failed = true;
                        continue;
                    }
                    Some(Val::new(VK::Ref(format!("{task}.output")), v.span))
                }
                Some(task) => {
                    self.cannot(
                        v.span,
                        format!("the output of `{task}` cannot be named in dagf"),
                        "not a dagf name",
                        "rename the task to a name of letters, digits and `_`",
                    );
                    None
                }
                None => match self.field_type(op, k) {
                    Some(ty) => self.typed(v, &Ty::List(Box::new(ty))),
                    None => None,
                },
            };
            match val {
                Some(val) => out.push((k.text.clone(), val)),
                None => failed = true,
            }
        }
        (!failed).then(|| Val::new(VK::Record(out), node.span))
    }

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
    pub(super) fn task(&mut self, key: &Key, conf: &Node, skip_task_id: bool) -> Option<Task> {
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
        // dag-factory passes `partial`'s arguments as the task's own (and `expand`'s to
        // `.expand()`): in dagf they are the task's fields, with `expand` beside them.
        let partial = conf.get("partial");
        if let Some(p) = partial
            && !matches!(p.v, V::Map(_))
        {
            self.invalid(
                p.span,
                format!("`partial` must be a mapping, not {}", p.kind()),
                "here",
                "give the arguments every mapped instance shares as a mapping",
            );
            failed = true;
        }
        let merged;
        let conf = match partial {
            Some(p) => {
                merged = Node {
                    v: V::Map(
                        entries
                            .iter()
                            .filter(|(k, _)| k.text != "partial")
                            .chain(p.entries())
                            .cloned()
                            .collect(),
                    ),
                    span: conf.span,
                };
                &merged
            }
            None => conf,
        };
        for (k, v) in conf.entries() {
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
                | "variables_as_arguments" => {
                    let why = match name {
                        "variables_as_arguments" => {
                            "it reads Airflow Variables when the file is parsed; use a `{{ var.value.NAME }}` template in the argument instead"
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
                "expand" => match self.expand(op, v) {
                    Some(val) => fields.push(field(name, val, k.span)),
                    None => failed = true,
                },
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
}
