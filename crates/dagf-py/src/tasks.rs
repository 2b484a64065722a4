//! Tasks and task groups, classic or TaskFlow, and what their values need imported.

use crate::Style;
use crate::fmt::{INDENT, flat_or_exploded, join, pad};
use crate::imports::Imports;
use crate::literals::push_py_str;
use crate::names::{is_identifier, unique_var};
use crate::values::Arg;
use dagf_ir::{Dag, Mapped, Role, Task, Value};
use dagf_target::{Name, Target};
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write;
use std::iter::once;

/// The TaskFlow decorator for a task, if it has one, as what follows `task` (`""`,
/// `".branch"`, ...): Python callables whose keyword arguments are valid Python names.
pub(crate) fn taskflow_decorator(t: &Task, target: Target) -> Option<&'static str> {
    let decorator = target.taskflow_decorator(&t.op.module, &t.op.class)?;
    let callable = || {
        t.arg("python_callable")
            .is_some_and(|f| matches!(f.value, Value::PyRef { .. }))
    };
    let positional = || {
        t.arg("op_args")
            .is_none_or(|f| matches!(f.value, Value::List(_)))
    };
    let plain_keys = || {
        t.arg("op_kwargs").is_none_or(|f| match &f.value {
            Value::Dict(kv) => kv.iter().all(|(k, _)| is_identifier(k)),
            _ => false,
        })
    };
    // A mapped `@task` function is expanded over its keyword arguments: mapping
    // `op_kwargs` (a list of dicts, one per instance) is `.expand_kwargs(...)` of the
    // function. Any other mapping is written as the operator's `partial`/`expand`.
    let mapped = || match &t.mapped {
        None => true,
        Some(Mapped::Expand(fs)) => {
            matches!(fs.as_slice(), [f] if f.name == "op_kwargs" && kwargs_items(&f.value))
                && t.arg("op_args").is_none()
        }
        Some(Mapped::ExpandKwargs(_)) => false,
    };
    (callable() && positional() && plain_keys() && mapped()).then_some(decorator)
}

/// Whether mapped `op_kwargs` can become a function's keyword arguments: a task's
/// output (dicts when it runs), or dicts whose keys are Python names.
fn kwargs_items(v: &Value) -> bool {
    match v {
        Value::Output { key: None, .. } => true,
        Value::List(xs) => xs
            .iter()
            .all(|x| matches!(x, Value::Dict(kv) if kv.iter().all(|(k, _)| is_identifier(k)))),
        _ => false,
    }
}

/// The method that expands a mapped operator and its arguments.
fn expand_args(m: &Mapped) -> (&'static str, Vec<(&str, &Value)>) {
    match m {
        Mapped::Expand(fs) => (
            "expand",
            fs.iter().map(|f| (f.name.as_str(), &f.value)).collect(),
        ),
        Mapped::ExpandKwargs(f) => ("expand_kwargs", vec![("", &f.value)]),
    }
}

/// What follows a task's call to make it a setup or teardown task: `.as_setup()`,
/// `.as_teardown()` (on an operator, or on the `XComArg` a TaskFlow call returns).
/// The setups' edges are written as dependencies like any other.
fn role_call(role: Role) -> String {
    match role {
        Role::Work => String::new(),
        Role::Setup => ".as_setup()".to_string(),
        Role::Teardown {
            on_failure_fail_dagrun: None,
        } => ".as_teardown()".to_string(),
        Role::Teardown {
            on_failure_fail_dagrun: Some(b),
        } => format!(
            ".as_teardown(on_failure_fail_dagrun={})",
            if b { "True" } else { "False" }
        ),
    }
}

/// A task or a task group, by index.
#[derive(Copy, Clone)]
pub(crate) enum Node {
    Task(usize),
    Group(usize),
}

/// An asset (or alias) the file declares at module level.
pub(crate) struct AssetVar<'a> {
    pub(crate) uri: &'a str,
    /// An `AssetAlias`, named by `uri`.
    pub(crate) alias: bool,
    /// Airflow's keyword arguments, when written as a record.
    pub(crate) args: &'a [(String, Value)],
    /// The name it was declared with.
    pub(crate) name: &'a str,
    /// Its variable, once named.
    pub(crate) var: Cow<'a, str>,
}

#[derive(Default)]
pub(crate) struct Gen<'a> {
    pub(crate) style: Style,
    pub(crate) target: Target,
    /// Tasks some dependency names, by index.
    pub(crate) connected: Vec<bool>,
    pub(crate) imports: Imports<'a>,
    /// Assets the file uses, in order of first use.
    pub(crate) assets: Vec<AssetVar<'a>>,
    /// What stands for each written task's output, by full task id: its XComArg
    /// (`extract.output`, or a TaskFlow call's result, `extract`).
    pub(crate) outputs: std::cell::RefCell<std::collections::HashMap<String, String>>,
    /// The edges written inside each mapped group's function (both ends in the group),
    /// by group index.
    pub(crate) group_edges: std::collections::HashMap<usize, Vec<(usize, usize)>>,
    /// Tasks of a mapped group that something outside it names (a dependency written
    /// at the DAG's level, an output read): its function returns them.
    pub(crate) exported: Vec<bool>,
    /// The Python parameter of the mapped group being written, by dagf parameter.
    pub(crate) mapped_args: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

/// What `retry_exponential_backoff` is written as where it takes only a bool.
static ON: Value = Value::Bool(true);
static OFF: Value = Value::Bool(false);

impl<'a> Gen<'a> {
    /// Imports one of Airflow's own names from where the target has it.
    pub(crate) fn import(&mut self, name: Name) {
        let (module, name) = self.target.import(name);
        self.imports.add(module, name);
    }

    /// The name one of Airflow's own names goes by in the file.
    pub(crate) fn name(&self, name: Name) -> &str {
        let (module, name) = self.target.import(name);
        self.imports.local(module, name)
    }

    /// A task argument's value as the target takes it: before 3.2 the backoff is on or
    /// off (on doubling the wait, which is all the checker lets through there).
    pub(crate) fn shown<'v>(&self, name: &str, v: &'v Value) -> &'v Value {
        match v {
            Value::Float(x)
                if name == "retry_exponential_backoff" && self.target.backoff_is_bool() =>
            {
                if *x == 0.0 { &OFF } else { &ON }
            }
            Value::Int(x)
                if name == "retry_exponential_backoff" && self.target.backoff_is_bool() =>
            {
                if *x == 0 { &OFF } else { &ON }
            }
            _ => v,
        }
    }

    /// The TaskFlow decorator a task is written with, if any.
    pub(crate) fn decorator(&self, t: &Task) -> Option<&'static str> {
        match self.style {
            Style::Classic => None,
            Style::Taskflow => taskflow_decorator(t, self.target),
        }
    }

    /// Writes the tasks and task groups of one scope (the DAG, or a group) in
    /// declaration order, groups as `with TaskGroup(...)` blocks holding their own.
    pub(crate) fn scope(
        &self,
        out: &mut String,
        dag: &'a Dag,
        scope: Option<usize>,
        indent: usize,
        taken: &mut HashSet<Cow<'a, str>>,
        vars: &mut [Cow<'a, str>],
    ) {
        // A group goes before the tasks declared after it: (place, groups first, what).
        let mut entries: Vec<(usize, u8, Node)> =
            Vec::with_capacity(dag.graph.node_count() + dag.groups.len());
        for (i, t) in dag.tasks().enumerate() {
            if t.group == scope {
                entries.push((i, 1, Node::Task(i)));
            }
        }
        for (gi, grp) in dag.groups.iter().enumerate() {
            if grp.parent == scope {
                entries.push((grp.order, 0, Node::Group(gi)));
            }
        }
        entries.sort_by_key(|&(place, rank, _)| (place, rank));
        if entries.is_empty() {
            pad(out, indent);
            out.push_str("pass\n");
        }
        for (_, _, node) in entries {
            match node {
                Node::Task(i) => vars[i] = self.task(out, dag.task(i), i, indent, taken),
                Node::Group(gi) => self.group(out, dag, gi, indent, taken, vars),
            }
        }
    }

    /// Writes one task, and returns the variable it is bound to.
    pub(crate) fn task(
        &self,
        out: &mut String,
        t: &'a Task,
        i: usize,
        indent: usize,
        taken: &mut HashSet<Cow<'a, str>>,
    ) -> Cow<'a, str> {
        // A name taken by an earlier group's task gets its own group's name in front.
        let group_path = if taken.contains(t.local_id.as_str()) {
            t.task_id.rsplit_once('.').map(|(path, _)| path)
        } else {
            None
        };
        let var = match group_path {
            Some(path) => {
                let prefixed = format!("{}_{}", path.replace('.', "_"), t.local_id);
                unique_var(Cow::Owned(prefixed), taken)
            }
            None => unique_var(Cow::Borrowed(&t.local_id), taken),
        };
        pad(out, indent);
        // In a function, a variable no dependency reads would be an unused local.
        if self.style == Style::Classic || self.connected[i] {
            out.push_str(&var);
            out.push_str(" = ");
        }
        let role = role_call(t.role);
        let output = match self.decorator(t) {
            Some(_) => var.to_string(),
            None => format!("{var}.output"),
        };
        self.outputs.borrow_mut().insert(t.task_id.clone(), output);
        match self.decorator(t) {
            Some(decorator) => self.taskflow_task(out, t, decorator, indent, &role),
            None => {
                out.push_str(self.imports.local(&t.op.module, &t.op.class));
                let args = once(("task_id", Arg::Str(&t.local_id))).chain(
                    t.args
                        .iter()
                        .map(|f| (f.name.as_str(), Arg::Value(self.shown(&f.name, &f.value)))),
                );
                match &t.mapped {
                    None => self.kwargs_exploded(out, args, indent, &role),
                    Some(m) => {
                        out.push_str(".partial(\n");
                        for (k, v) in args {
                            self.kwarg_line(out, k, v, indent + INDENT);
                        }
                        let (method, items) = expand_args(m);
                        self.expand_call(out, method, &items, indent, &role);
                    }
                }
                out.push('\n');
            }
        }
        var
    }

    /// Writes a `with TaskGroup(...):` block: the line flat if it fits, then its scope.
    pub(crate) fn group(
        &self,
        out: &mut String,
        dag: &'a Dag,
        gi: usize,
        indent: usize,
        taken: &mut HashSet<Cow<'a, str>>,
        vars: &mut [Cow<'a, str>],
    ) {
        let grp = &dag.groups[gi];
        if let Some(m) = &grp.mapped {
            self.mapped_group(out, dag, gi, m, indent, taken, vars);
            return;
        }
        let head = format!("with {}", self.name(Name::TaskGroup));
        self.group_call(
            out,
            &head,
            &grp.group_id,
            grp.tooltip.as_deref(),
            indent,
            ":",
        );
        out.push('\n');
        self.scope(out, dag, Some(gi), indent + INDENT, taken, vars);
    }

    /// `HEAD(group_id=..., tooltip=...)END`: a group's `with TaskGroup(...):` line or its
    /// `@task_group(...)` decorator, exploded when it does not fit.
    fn group_call(
        &self,
        out: &mut String,
        head: &str,
        group_id: &str,
        tooltip: Option<&str>,
        indent: usize,
        end: &str,
    ) {
        flat_or_exploded(
            out,
            0,
            0,
            |out| {
                pad(out, indent);
                let _ = write!(out, "{head}(group_id=");
                push_py_str(out, group_id);
                if let Some(tip) = tooltip {
                    out.push_str(", tooltip=");
                    push_py_str(out, tip);
                }
                out.push(')');
                out.push_str(end);
            },
            |out| {
                pad(out, indent);
                out.push_str(head);
                let args = once(("group_id", Arg::Str(group_id)))
                    .chain(tooltip.map(|tip| ("tooltip", Arg::Str(tip))));
                self.kwargs_exploded(out, args, indent, end);
            },
        );
    }

    /// Writes a mapped group as Airflow's `@task_group` function, its parameters the
    /// mapped ones, then its `.expand(...)` call. The edges inside it are written in the
    /// function, before Airflow works out the group's first tasks (which a task whose
    /// output it is mapped over is made upstream of); the tasks named outside it are
    /// returned and bound where the call is.
    #[allow(clippy::too_many_arguments)]
    fn mapped_group(
        &self,
        out: &mut String,
        dag: &'a Dag,
        gi: usize,
        m: &'a Mapped,
        indent: usize,
        taken: &mut HashSet<Cow<'a, str>>,
        vars: &mut [Cow<'a, str>],
    ) {
        let grp = &dag.groups[gi];
        let function = unique_var(Cow::Borrowed(&grp.group_id), taken);
        let params: Vec<(&str, Cow<'a, str>)> = m
            .fields()
            .iter()
            .map(|f| (f.name.as_str(), unique_var(Cow::Borrowed(&f.name), taken)))
            .collect();
        {
            let mut args = self.mapped_args.borrow_mut();
            args.clear();
            for (name, var) in &params {
                args.insert((*name).to_string(), var.to_string());
            }
        }
        out.push('\n');
        let head = format!("@{}", self.name(Name::TaskGroupDecorator));
        self.group_call(
            out,
            &head,
            &grp.group_id,
            grp.tooltip.as_deref(),
            indent,
            "",
        );
        out.push('\n');
        pad(out, indent);
        let _ = write!(out, "def {function}(");
        join(out, params.iter(), ", ", |out, (_, var)| out.push_str(var));
        out.push_str("):\n");
        let inner = indent + INDENT;
        self.scope(out, dag, Some(gi), inner, taken, vars);
        if let Some(edges) = self.group_edges.get(&gi) {
            crate::layout::write_dependencies_at(out, edges, vars, inner);
        }
        let returned: Vec<usize> = (0..dag.graph.node_count())
            .filter(|&i| self.exported.get(i).copied().unwrap_or(false))
            .filter(|&i| dag.task(i).group.is_some_and(|g| dag.group_within(g, gi)))
            .collect();
        let names: Vec<&str> = returned.iter().map(|&i| vars[i].as_ref()).collect();
        // Several names that do not fit on the line go one a line, in parentheses.
        let tuple = |out: &mut String, indent: usize| {
            out.push_str("(\n");
            for name in &names {
                pad(out, indent + INDENT);
                out.push_str(name);
                out.push_str(",\n");
            }
            pad(out, indent);
            out.push(')');
        };
        if !names.is_empty() {
            flat_or_exploded(
                out,
                0,
                0,
                |out| {
                    pad(out, inner);
                    out.push_str("return ");
                    join(out, names.iter(), ", ", |out, name| out.push_str(name));
                },
                |out| {
                    pad(out, inner);
                    out.push_str("return ");
                    tuple(out, inner);
                },
            );
            out.push('\n');
        }
        self.mapped_args.borrow_mut().clear();
        // The parameters are the function's own: the rest of the file may use the names.
        for (_, var) in &params {
            taken.remove(var);
        }
        out.push('\n');
        let items: Vec<(&str, &Value)> = params
            .iter()
            .zip(m.fields())
            .map(|((_, var), f)| (var.as_ref(), &f.value))
            .collect();
        // `NAMES = function.expand(`, the names flat or (too long) as a tuple.
        let call = |out: &mut String, exploded_names: bool| {
            pad(out, indent);
            if exploded_names {
                tuple(out, indent);
                out.push_str(" = ");
            } else if !names.is_empty() {
                join(out, names.iter(), ", ", |out, name| out.push_str(name));
                out.push_str(" = ");
            }
            out.push_str(&function);
            out.push_str(".expand(");
        };
        let flat_call = |out: &mut String, exploded_names: bool| {
            call(out, exploded_names);
            join(out, items.iter(), ", ", |out, (k, x)| {
                out.push_str(k);
                out.push('=');
                self.flat(out, x);
            });
            out.push(')');
        };
        let exploded_call = |out: &mut String, exploded_names: bool| {
            call(out, exploded_names);
            out.push('\n');
            for (k, x) in &items {
                self.kwarg_line(out, k, Arg::Value(x), indent + INDENT);
            }
            pad(out, indent);
            out.push(')');
        };
        let mut head = String::new();
        call(&mut head, false);
        let names_fit = names.len() < 2 || head.len() <= crate::fmt::LINE;
        if names_fit {
            flat_or_exploded(
                out,
                0,
                0,
                |out| flat_call(out, false),
                |out| exploded_call(out, false),
            );
        } else {
            // As ruff writes it: the names exploded, then the call flat if the line
            // after them holds it.
            let start = out.len();
            flat_call(out, true);
            let last = out[start..].rsplit('\n').next().map_or(0, str::len);
            if last > crate::fmt::LINE {
                out.truncate(start);
                exploded_call(out, true);
            }
        }
        out.push('\n');
    }

    /// Writes `task(callable, task_id=..., ...)(*op_args, **op_kwargs)` after the
    /// binding: the decorator call always exploded (its trailing comma keeps it so), the
    /// task call flat if it fits.
    pub(crate) fn taskflow_task(
        &self,
        out: &mut String,
        t: &Task,
        decorator: &str,
        indent: usize,
        role: &str,
    ) {
        let inner = indent + INDENT;
        out.push_str(self.name(Name::TaskDecorator));
        out.push_str(decorator);
        out.push_str("(\n");
        if let Some(f) = t.arg("python_callable") {
            pad(out, inner);
            self.flat(out, &f.value);
            out.push_str(",\n");
        }
        let args = once(("task_id", Arg::Str(&t.local_id))).chain(
            t.args
                .iter()
                .filter(|f| !matches!(f.name.as_str(), "python_callable" | "op_args" | "op_kwargs"))
                .map(|f| (f.name.as_str(), Arg::Value(self.shown(&f.name, &f.value)))),
        );
        for (k, v) in args {
            self.kwarg_line(out, k, v, inner);
        }
        if let Some(Mapped::Expand(fs)) = &t.mapped
            && let Some(f) = fs.first()
        {
            let items = [("", &f.value)];
            self.expand_call(out, "expand_kwargs", &items, indent, role);
            out.push('\n');
            return;
        }
        // The call's arguments: positional ones (no keyword), then keywords.
        let positional: &[Value] = match t.arg("op_args").map(|f| &f.value) {
            Some(Value::List(xs)) => xs,
            _ => &[],
        };
        let keywords: &[(String, Value)] = match t.arg("op_kwargs").map(|f| &f.value) {
            Some(Value::Dict(kv)) => kv,
            _ => &[],
        };
        let call = || {
            positional
                .iter()
                .map(|x| ("", x))
                .chain(keywords.iter().map(|(k, x)| (k.as_str(), x)))
        };
        flat_or_exploded(
            out,
            0,
            role.len(),
            |out| {
                pad(out, indent);
                out.push_str(")(");
                join(out, call(), ", ", |out, (k, x)| {
                    if !k.is_empty() {
                        out.push_str(k);
                        out.push('=');
                    }
                    self.flat(out, x);
                });
                out.push(')');
            },
            |out| {
                // One argument per line; one too long for its line explodes in turn.
                pad(out, indent);
                out.push_str(")(\n");
                for (k, x) in call() {
                    self.kwarg_line(out, k, Arg::Value(x), inner);
                }
                pad(out, indent);
                out.push(')');
            },
        );
        out.push_str(role);
        out.push('\n');
    }

    /// Writes `).expand(k=v, ...)` (or `).expand_kwargs(v)`) closing a call whose
    /// arguments were written one per line at `indent + INDENT`: flat if it fits, one
    /// argument per line if not.
    fn expand_call(
        &self,
        out: &mut String,
        method: &str,
        items: &[(&str, &Value)],
        indent: usize,
        tail: &str,
    ) {
        flat_or_exploded(
            out,
            0,
            tail.len(),
            |out| {
                pad(out, indent);
                let _ = write!(out, ").{method}(");
                join(out, items.iter(), ", ", |out, (k, x)| {
                    if !k.is_empty() {
                        out.push_str(k);
                        out.push('=');
                    }
                    self.flat(out, x);
                });
                out.push(')');
            },
            |out| {
                pad(out, indent);
                let _ = writeln!(out, ").{method}(");
                for (k, x) in items {
                    self.kwarg_line(out, k, Arg::Value(x), indent + INDENT);
                }
                pad(out, indent);
                out.push(')');
            },
        );
        out.push_str(tail);
    }

    /// Registers the imports and assets a value needs.
    pub(crate) fn collect(&mut self, v: &'a Value) {
        match v {
            Value::Duration(_) => self.imports.add("datetime", "timedelta"),
            Value::Date(_) => self.imports.add("datetime", "date"),
            Value::DateTime(t) => {
                self.imports.add("datetime", "datetime");
                self.imports.add("datetime", "timezone");
                if t.offset_minutes != 0 {
                    self.imports.add("datetime", "timedelta");
                }
            }
            Value::List(xs) | Value::AssetAll(xs) | Value::AssetAny(xs) => {
                xs.iter().for_each(|x| self.collect(x))
            }
            Value::Dict(kv) => kv.iter().for_each(|(_, x)| self.collect(x)),
            Value::PyRef { module, name } => self.imports.add(module, name),
            Value::Callable {
                module,
                name,
                args,
                instance,
            } => {
                self.imports.add(module, name);
                if !instance && !args.is_empty() {
                    self.imports.add("functools", "partial");
                }
                args.iter().for_each(|(_, x)| self.collect(x));
            }
            Value::Param(args) => {
                self.import(Name::Param);
                args.iter().for_each(|(_, x)| self.collect(x));
            }
            Value::Asset {
                name,
                uri,
                alias,
                args,
            } => {
                self.import(if *alias {
                    Name::AssetAlias
                } else {
                    Name::Asset
                });
                if !self
                    .assets
                    .iter()
                    .any(|a| a.uri == uri && a.alias == *alias)
                {
                    self.assets.push(AssetVar {
                        uri,
                        alias: *alias,
                        args,
                        name,
                        var: Cow::Borrowed(""),
                    });
                }
                args.iter().for_each(|(_, x)| self.collect(x));
            }
            _ => {}
        }
    }
}
