//! The Python backend: one Airflow 3 file per DAG, formatted the way `ruff format`
//! formats it (so formatting it again changes nothing) and deterministic byte for byte.

use dagf_ir::{Dag, DateTime, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

const LINE: usize = 88;
const INDENT: &str = "    ";

/// Python keyword arguments of `DAG(...)` for the `.dagf` fields whose names differ.
fn dag_kwarg(name: &str) -> &str {
    match name {
        "start" => "start_date",
        "end" => "end_date",
        "doc" => "doc_md",
        other => other,
    }
}

/// The file name a DAG is written to.
pub fn file_name(dag: &Dag) -> String {
    format!("{}.py", dag.dag_id)
}

/// How the generated file builds the DAG.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum Style {
    /// `with DAG(...):` and operator classes.
    #[default]
    Classic,
    /// `@dag` on a function, and `@task` for Python callables where Airflow allows it.
    Taskflow,
}

/// The TaskFlow decorator for a task, if it has one: Python callables whose keyword
/// arguments are valid Python names.
fn taskflow_decorator(t: &dagf_ir::Task) -> Option<&'static str> {
    let decorator = match (t.op.module.as_str(), t.op.class.as_str()) {
        ("airflow.providers.standard.operators.python", "PythonOperator") => "task",
        ("airflow.providers.standard.operators.python", "BranchPythonOperator") => "task.branch",
        ("airflow.providers.standard.operators.python", "ShortCircuitOperator") => {
            "task.short_circuit"
        }
        _ => return None,
    };
    let plain_keys = t.arg("op_kwargs").is_none_or(|f| match &f.value {
        Value::Dict(kv) => kv.iter().all(|(k, _)| is_identifier(k)),
        _ => false,
    });
    let callable = t
        .arg("python_callable")
        .is_some_and(|f| matches!(f.value, Value::PyRef { .. }));
    let positional = t
        .arg("op_args")
        .is_none_or(|f| matches!(f.value, Value::List(_)));
    (plain_keys && callable && positional).then_some(decorator)
}

fn is_identifier(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !PY_RESERVED.contains(&s)
}

/// The whole Python file for one DAG.
pub fn generate(dag: &Dag, style: Style) -> String {
    let connected = dag
        .graph
        .edge_indices()
        .filter_map(|e| dag.graph.edge_endpoints(e))
        .flat_map(|(a, b)| [a.index(), b.index()])
        .collect();
    let mut g = Gen {
        style,
        connected,
        ..Gen::default()
    };
    // Reserve the names imports will take before naming tasks.
    match style {
        Style::Classic => g.imports.add("airflow.sdk", "DAG"),
        Style::Taskflow => g.imports.add("airflow.sdk", "dag"),
    }
    if !dag.groups.is_empty() {
        g.imports.add("airflow.sdk", "TaskGroup");
    }
    for t in dag.tasks() {
        match (style, taskflow_decorator(t)) {
            (Style::Taskflow, Some(_)) => g.imports.add("airflow.sdk", "task"),
            _ => g.imports.add(&t.op.module, &t.op.class),
        }
        for f in &t.args {
            g.collect(&f.value);
        }
    }
    for f in dag.args.iter().chain(&dag.default_args) {
        g.collect(&f.value);
    }
    g.imports.assign_aliases();
    let mut taken: HashSet<String> = g.imports.names();
    let mut asset_lines = String::new();
    for (uri, name) in g.assets.clone() {
        let var = unique_var(&name, &mut taken);
        let _ = writeln!(asset_lines, "{var} = Asset({})", py_str(&uri));
        g.asset_vars.insert(uri, var);
    }
    let mut body = String::new();
    // Arguments are borrowed from the IR; only the few made here are owned.
    let dag_id = Value::Str(dag.dag_id.clone());
    let default_args = Value::Dict(
        dag.default_args
            .iter()
            .map(|f| (f.name.clone(), f.value.clone()))
            .collect(),
    );
    let mut dag_args: Vec<(&str, &Value)> = vec![("dag_id", &dag_id)];
    for f in &dag.args {
        dag_args.push((dag_kwarg(&f.name), &f.value));
    }
    if !dag.default_args.is_empty() {
        let pos = dag_args
            .iter()
            .position(|(k, _)| matches!(*k, "params" | "max_active_runs" | "max_active_tasks"))
            .unwrap_or(dag_args.len());
        dag_args.insert(pos, ("default_args", &default_args));
    }
    let function = match style {
        Style::Classic => {
            let class = g.imports.local("airflow.sdk", "DAG");
            body.push_str(&g.call_exploded(&format!("with {class}"), &dag_args, "", ":"));
            body.push('\n');
            None
        }
        Style::Taskflow => {
            let function = unique_var(&dag.dag_id, &mut taken);
            let decorator = g.imports.local("airflow.sdk", "dag");
            body.push_str(&g.call_exploded(&format!("@{decorator}"), &dag_args, "", ""));
            let _ = writeln!(body, "\ndef {function}():");
            Some(function)
        }
    };

    let mut vars: Vec<String> = vec![String::new(); dag.graph.node_count()];
    g.scope(dag, None, INDENT, &mut taken, &mut vars, &mut body);

    for line in dependency_lines(dag, &vars) {
        body.push_str(&line);
    }
    if let Some(function) = function {
        let _ = write!(body, "\n\n{function}()\n");
    }

    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by dagfc from {}. Do not edit: change the source and run `dagfc build`.",
        dag.source
    );
    out.push_str(&g.imports.render());
    out.push('\n');
    if !asset_lines.is_empty() {
        out.push_str(&asset_lines);
        out.push('\n');
    }
    if style == Style::Taskflow {
        // A function definition stands two blank lines from what comes before it.
        out.push('\n');
    }
    out.push_str(&body);
    out
}

/// `a >> b` lines: one per upstream task, except that upstream tasks whose only
/// downstream task is the same one share a line (`[a, b] >> c`). Python has no
/// list >> list, so nothing else can be merged.
fn dependency_lines(dag: &Dag, vars: &[String]) -> Vec<String> {
    let mut downstream: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for e in dag.graph.edge_indices() {
        if let Some((a, b)) = dag.graph.edge_endpoints(e) {
            downstream.entry(a.index()).or_default().insert(b.index());
        }
    }
    // (first upstream, upstreams, downstreams), in order of the first upstream.
    let mut lines: Vec<(usize, Vec<usize>, Vec<usize>)> = Vec::new();
    let mut fan_in: BTreeMap<usize, usize> = BTreeMap::new();
    for (a, bs) in &downstream {
        let bs: Vec<usize> = bs.iter().copied().collect();
        if let [b] = bs.as_slice() {
            if let Some(&i) = fan_in.get(b) {
                lines[i].1.push(*a);
                continue;
            }
            fan_in.insert(*b, lines.len());
        }
        lines.push((*a, vec![*a], bs));
    }
    let side = |ids: &[usize]| -> Vec<&str> { ids.iter().map(|i| vars[*i].as_str()).collect() };
    let mut out = Vec::new();
    if !lines.is_empty() {
        out.push("\n".to_string());
    }
    for (_, ups, downs) in lines {
        let (ups, downs) = (side(&ups), side(&downs));
        let flat = |xs: &[&str]| {
            if xs.len() == 1 {
                xs[0].to_string()
            } else {
                format!("[{}]", xs.join(", "))
            }
        };
        let line = format!("{INDENT}{} >> {}", flat(&ups), flat(&downs));
        if line.len() <= LINE {
            out.push(format!("{line}\n"));
            continue;
        }
        // Too long: explode the longer list, one task per line.
        let explode = |xs: &[&str]| {
            let mut t = "[\n".to_string();
            for x in xs {
                let _ = writeln!(t, "{INDENT}{INDENT}{x},");
            }
            t.push_str(INDENT);
            t.push(']');
            t
        };
        let text = if ups.len() > downs.len() {
            format!("{INDENT}{} >> {}\n", explode(&ups), flat(&downs))
        } else {
            format!("{INDENT}{} >> {}\n", flat(&ups), explode(&downs))
        };
        out.push(text);
    }
    out
}

/// A task or a task group, by index.
#[derive(Copy, Clone)]
enum Node {
    Task(usize),
    Group(usize),
}

#[derive(Default)]
struct Gen {
    style: Style,
    /// Tasks some dependency names.
    connected: HashSet<usize>,
    imports: Imports,
    /// Assets the file uses, as (uri, declared name), in order of first use.
    assets: Vec<(String, String)>,
    /// The module-level variable of each asset's uri.
    asset_vars: BTreeMap<String, String>,
}

impl Gen {
    /// The tasks and task groups of one scope (the DAG, or a group) in declaration
    /// order, groups as `with TaskGroup(...)` blocks holding their own.
    fn scope(
        &self,
        dag: &Dag,
        scope: Option<usize>,
        indent: &str,
        taken: &mut HashSet<String>,
        vars: &mut [String],
        out: &mut String,
    ) {
        // A group goes before the tasks declared after it: (place, groups first, what).
        let mut entries: Vec<(usize, u8, Node)> = Vec::new();
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
            let _ = writeln!(out, "{indent}pass");
        }
        for (_, _, node) in entries {
            if let Node::Task(i) = node {
                let t = dag.task(i);
                // A name taken by an earlier group's task gets its own group's name in front.
                let var = match t.task_id.rsplit_once('.') {
                    Some((path, _)) if taken.contains(&t.local_id) => {
                        unique_var(&format!("{}_{}", path.replace('.', "_"), t.local_id), taken)
                    }
                    _ => unique_var(&t.local_id, taken),
                };
                // In a function, a variable no dependency reads would be an unused local.
                let bind = if self.style == Style::Taskflow && !self.connected.contains(&i) {
                    String::new()
                } else {
                    format!("{var} = ")
                };
                if let (Style::Taskflow, Some(decorator)) = (self.style, taskflow_decorator(t)) {
                    out.push_str(&self.taskflow_task(t, decorator, &bind, indent));
                    vars[i] = var;
                    continue;
                }
                let task_id = Value::Str(t.local_id.clone());
                let mut args: Vec<(&str, &Value)> = vec![("task_id", &task_id)];
                args.extend(t.args.iter().map(|f| (f.name.as_str(), &f.value)));
                let class = self.imports.local(&t.op.module, &t.op.class);
                out.push_str(&self.call_exploded(
                    &format!("{indent}{bind}{class}"),
                    &args,
                    indent,
                    "",
                ));
                out.push('\n');
                vars[i] = var;
            } else if let Node::Group(gi) = node {
                let grp = &dag.groups[gi];
                let group_id = Value::Str(grp.group_id.clone());
                let tooltip = grp.tooltip.clone().map(Value::Str);
                let mut args: Vec<(&str, &Value)> = vec![("group_id", &group_id)];
                if let Some(tip) = &tooltip {
                    args.push(("tooltip", tip));
                }
                let class = self.imports.local("airflow.sdk", "TaskGroup");
                let flat: Vec<String> = args
                    .iter()
                    .map(|(k, v)| format!("{k}={}", self.flat(v)))
                    .collect();
                let line = format!("{indent}with {class}({}):", flat.join(", "));
                if line.len() <= LINE {
                    let _ = writeln!(out, "{line}");
                } else {
                    out.push_str(&self.call_exploded(
                        &format!("{indent}with {class}"),
                        &args,
                        indent,
                        ":",
                    ));
                    out.push('\n');
                }
                self.scope(
                    dag,
                    Some(gi),
                    &format!("{indent}{INDENT}"),
                    taken,
                    vars,
                    out,
                );
            }
        }
    }

    /// `var = task(callable, task_id=..., ...)(*op_args, **op_kwargs)`: the decorator
    /// call always exploded (its trailing comma keeps it so), the task call flat if it fits.
    fn taskflow_task(
        &self,
        t: &dagf_ir::Task,
        decorator: &str,
        bind: &str,
        indent: &str,
    ) -> String {
        let inner = format!("{indent}{INDENT}");
        let local = self.imports.local("airflow.sdk", "task");
        let decorator = decorator.replacen("task", &local, 1);
        let mut out = format!("{indent}{bind}{decorator}(\n");
        if let Some(f) = t.arg("python_callable") {
            let _ = writeln!(out, "{inner}{},", self.flat(&f.value));
        }
        let task_id = Value::Str(t.local_id.clone());
        let mut args: Vec<(&str, &Value)> = vec![("task_id", &task_id)];
        args.extend(
            t.args
                .iter()
                .filter(|f| !matches!(f.name.as_str(), "python_callable" | "op_args" | "op_kwargs"))
                .map(|f| (f.name.as_str(), &f.value)),
        );
        for (k, v) in &args {
            let prefix = format!("{inner}{k}=");
            let _ = writeln!(out, "{prefix}{},", self.value(v, &inner, prefix.len(), 1));
        }
        // The call's arguments: positional ones, then keywords.
        let mut call: Vec<(String, &Value)> = Vec::new();
        if let Some(Value::List(xs)) = t.arg("op_args").map(|f| &f.value) {
            call.extend(xs.iter().map(|x| (String::new(), x)));
        }
        if let Some(Value::Dict(kv)) = t.arg("op_kwargs").map(|f| &f.value) {
            call.extend(kv.iter().map(|(k, x)| (format!("{k}="), x)));
        }
        let flat: Vec<String> = call
            .iter()
            .map(|(k, x)| format!("{k}{}", self.flat(x)))
            .collect();
        let flat = format!("{indent})({})", flat.join(", "));
        if flat.len() <= LINE {
            let _ = writeln!(out, "{flat}");
        } else {
            // One argument per line; one too long for its line explodes in turn.
            let _ = writeln!(out, "{indent})(");
            for (k, x) in call {
                let prefix = format!("{inner}{k}");
                let _ = writeln!(out, "{prefix}{},", self.value(x, &inner, prefix.len(), 1));
            }
            let _ = writeln!(out, "{indent})");
        }
        out
    }

    /// Registers the imports a value needs.
    fn collect(&mut self, v: &Value) {
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
            Value::Asset { name, uri } => {
                self.imports.add("airflow.sdk", "Asset");
                if !self.assets.iter().any(|(u, _)| u == uri) {
                    self.assets.push((uri.clone(), name.clone()));
                }
            }
            _ => {}
        }
    }

    /// `head(\n    k=v,\n    ...\n)tail`, always exploded: the trailing comma keeps ruff from joining it.
    fn call_exploded(
        &self,
        head: &str,
        args: &[(&str, &Value)],
        indent: &str,
        tail: &str,
    ) -> String {
        let inner = format!("{indent}{INDENT}");
        let mut out = format!("{head}(\n");
        for (k, v) in args {
            let prefix = format!("{inner}{k}=");
            out.push_str(&prefix);
            out.push_str(&self.value(v, &inner, prefix.len(), 1));
            out.push_str(",\n");
        }
        let _ = write!(out, "{indent}){tail}");
        out
    }

    /// A value that starts at column `col` on a line indented by `indent`, followed by
    /// `after` more characters. Flat if it fits, otherwise its outer brackets explode.
    fn value(&self, v: &Value, indent: &str, col: usize, after: usize) -> String {
        let flat = self.flat(v);
        let breakable =
            flat.contains(['[', '{', '(']) || matches!(v, Value::AssetAll(_) | Value::AssetAny(_));
        if col + flat.len() + after <= LINE || !breakable {
            return flat;
        }
        if matches!(v, Value::AssetAll(_) | Value::AssetAny(_)) {
            return self.asset_expr_exploded(v, indent);
        }
        let inner = format!("{indent}{INDENT}");
        if let Some((head, args)) = self.call_parts(v) {
            // A call: all arguments on one indented line if they fit, else one a line.
            let one_line = args.join(", ");
            if inner.len() + one_line.len() <= LINE {
                return format!("{head}(\n{inner}{one_line}\n{indent})");
            }
            let mut out = format!("{head}(\n");
            for a in args {
                let _ = writeln!(out, "{inner}{a},");
            }
            let _ = write!(out, "{indent})");
            return out;
        }
        let (open, close, items): (&str, &str, Vec<String>) = match v {
            Value::List(xs) => (
                "[",
                "]",
                xs.iter()
                    .map(|x| self.value(x, &inner, inner.len(), 1))
                    .collect(),
            ),
            Value::Dict(kv) => (
                "{",
                "}",
                kv.iter()
                    .map(|(k, x)| {
                        let key = format!("{}: ", py_str(k));
                        format!("{key}{}", self.value(x, &inner, inner.len() + key.len(), 1))
                    })
                    .collect(),
            ),
            _ => return flat,
        };
        let mut out = format!("{open}\n");
        for item in items {
            let _ = writeln!(out, "{inner}{item},");
        }
        let _ = write!(out, "{indent}{close}");
        out
    }

    /// A callable with arguments as (what is called, the arguments as written).
    fn call_parts(&self, v: &Value) -> Option<(String, Vec<String>)> {
        let Value::Callable {
            module,
            name,
            args,
            instance,
        } = v
        else {
            return None;
        };
        // A function with nothing bound is passed as it is; a notifier is always built.
        if args.is_empty() && !instance {
            return None;
        }
        let local = self.imports.local(module, name);
        let mut parts: Vec<String> = Vec::new();
        let head = if *instance {
            local
        } else {
            parts.push(local);
            self.imports.local("functools", "partial")
        };
        parts.extend(args.iter().map(|(k, x)| format!("{k}={}", self.flat(x))));
        Some((head, parts))
    }

    fn flat(&self, v: &Value) -> String {
        if let Some((head, args)) = self.call_parts(v) {
            return format!("{head}({})", args.join(", "));
        }
        match v {
            Value::None => "None".into(),
            Value::Bool(true) => "True".into(),
            Value::Bool(false) => "False".into(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => py_float(*f),
            Value::Str(s) => py_str(s),
            Value::Duration(ms) => py_timedelta(*ms),
            Value::Date(d) => format!("date({}, {}, {})", d.year, d.month, d.day),
            Value::DateTime(t) => py_datetime(t),
            Value::List(xs) => format!(
                "[{}]",
                xs.iter()
                    .map(|x| self.flat(x))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::Dict(kv) => format!(
                "{{{}}}",
                kv.iter()
                    .map(|(k, x)| format!("{}: {}", py_str(k), self.flat(x)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Value::PyRef { module, name } | Value::Callable { module, name, .. } => {
                self.imports.local(module, name)
            }
            Value::Asset { uri, .. } => self.asset_var(uri),
            Value::AssetAll(xs) => self.asset_expr(xs, " & "),
            Value::AssetAny(xs) => self.asset_expr(xs, " | "),
        }
    }

    fn asset_var(&self, uri: &str) -> String {
        self.asset_vars
            .get(uri)
            .cloned()
            .unwrap_or_else(|| format!("Asset({})", py_str(uri)))
    }

    /// An asset expression too long for one line, the way ruff breaks it: in
    /// parentheses, one operand a line, each after its operator.
    fn asset_expr_exploded(&self, v: &Value, indent: &str) -> String {
        let (xs, op) = match v {
            Value::AssetAll(xs) => (xs, "& "),
            Value::AssetAny(xs) => (xs, "| "),
            _ => return self.flat(v),
        };
        let inner = format!("{indent}{INDENT}");
        let mut out = "(\n".to_string();
        for (i, x) in xs.iter().enumerate() {
            let operand = match x {
                Value::AssetAll(_) | Value::AssetAny(_) => format!("({})", self.flat(x)),
                _ => self.flat(x),
            };
            let _ = writeln!(out, "{inner}{}{operand}", if i == 0 { "" } else { op });
        }
        let _ = write!(out, "{indent})");
        out
    }

    fn asset_expr(&self, xs: &[Value], op: &str) -> String {
        xs.iter()
            .map(|x| match x {
                Value::AssetAll(_) | Value::AssetAny(_) => format!("({})", self.flat(x)),
                _ => self.flat(x),
            })
            .collect::<Vec<_>>()
            .join(op)
    }
}

/// `from module import name` lines, grouped and sorted the way ruff's isort rule wants.
#[derive(Default)]
struct Imports {
    /// module -> names
    by_module: BTreeMap<String, BTreeSet<String>>,
    /// (module, name) -> local name, where two modules export the same name.
    aliases: BTreeMap<(String, String), String>,
}

impl Imports {
    fn add(&mut self, module: &str, name: &str) {
        self.by_module
            .entry(module.to_string())
            .or_default()
            .insert(name.to_string());
    }

    /// Gives a second import of an already imported name an alias.
    fn assign_aliases(&mut self) {
        let mut seen: HashSet<String> = HashSet::new();
        for (module, names) in &self.by_module {
            for name in names {
                if !seen.insert(name.clone()) {
                    let alias = format!("{}_{name}", module.replace('.', "_"));
                    self.aliases.insert((module.clone(), name.clone()), alias);
                }
            }
        }
    }

    fn local(&self, module: &str, name: &str) -> String {
        self.aliases
            .get(&(module.to_string(), name.to_string()))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    fn names(&self) -> HashSet<String> {
        self.by_module
            .iter()
            .flat_map(|(m, ns)| ns.iter().map(move |n| self.local(m, n)))
            .collect()
    }

    fn render(&self) -> String {
        let (std, other): (Vec<_>, Vec<_>) = self.by_module.iter().partition(|(m, _)| is_stdlib(m));
        let mut sections = Vec::new();
        for group in [std, other] {
            if group.is_empty() {
                continue;
            }
            let mut group = group;
            group.sort_by_key(|(m, _)| (m.to_lowercase(), (*m).clone()));
            let mut text = String::new();
            for (module, names) in group {
                let mut names: Vec<String> = names
                    .iter()
                    .map(|n| match self.aliases.get(&(module.clone(), n.clone())) {
                        Some(a) => format!("{n} as {a}"),
                        None => n.clone(),
                    })
                    .collect();
                names.sort_by_key(|a| isort_key(a));
                let line = format!("from {module} import {}", names.join(", "));
                if line.len() <= LINE {
                    let _ = writeln!(text, "{line}");
                } else {
                    let _ = writeln!(text, "from {module} import (");
                    for n in names {
                        let _ = writeln!(text, "{INDENT}{n},");
                    }
                    let _ = writeln!(text, ")");
                }
            }
            sections.push(text);
        }
        sections.join("\n")
    }
}

/// isort's "order by type": CONSTANTS, then Classes, then functions and variables.
fn isort_key(name: &str) -> (u8, String) {
    let bare = name.split(' ').next().unwrap_or(name);
    let rank = if bare.len() > 1
        && bare
            .chars()
            .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
    {
        0
    } else if bare.starts_with(|c: char| c.is_ascii_uppercase()) {
        1
    } else {
        2
    };
    (rank, bare.to_string())
}

fn is_stdlib(module: &str) -> bool {
    matches!(
        module.split('.').next(),
        Some("datetime" | "functools" | "os" | "json")
    )
}

const PY_RESERVED: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield", "match", "case", "type", "dag", "print", "list", "dict", "str", "int", "id",
    "input", "open", "range", "set", "len", "max", "min", "sum", "filter", "map", "format", "hash",
];

/// A Python variable name for a task id, unique in the file.
fn unique_var(task_id: &str, taken: &mut HashSet<String>) -> String {
    let mut base: String = task_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if base.starts_with(|c: char| c.is_ascii_digit()) || base.is_empty() {
        base = format!("t_{base}");
    }
    if PY_RESERVED.contains(&base.as_str()) || taken.contains(&base) {
        base = format!("{base}_task");
    }
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}_{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// A Python string literal in the quotes ruff prefers: double, unless single saves escapes.
pub fn py_str(s: &str) -> String {
    let quote = if s.contains('"') && !s.contains('\'') {
        '\''
    } else {
        '"'
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

fn py_float(f: f64) -> String {
    if f.is_finite() {
        let s = format!("{f:?}");
        if s.contains(['e', 'E']) {
            // Python writes exponents with a sign and two digits: 1e-07.
            let (m, e) = s.split_once(['e', 'E']).unwrap_or((&s, "0"));
            let (sign, digits) = match e.strip_prefix('-') {
                Some(d) => ("-", d),
                None => ("+", e),
            };
            format!("{m}e{sign}{digits:0>2}")
        } else {
            s
        }
    } else if f.is_nan() {
        "float(\"nan\")".into()
    } else if f > 0.0 {
        "float(\"inf\")".into()
    } else {
        "float(\"-inf\")".into()
    }
}

fn py_timedelta(ms: i64) -> String {
    let neg = ms < 0;
    let mut rest = ms.unsigned_abs();
    let mut parts = Vec::new();
    for (unit, size) in [
        ("days", 86_400_000u64),
        ("hours", 3_600_000),
        ("minutes", 60_000),
        ("seconds", 1_000),
        ("milliseconds", 1),
    ] {
        if rest >= size {
            let n = rest / size;
            rest %= size;
            parts.push(format!("{unit}={}{n}", if neg { "-" } else { "" }));
        }
    }
    if parts.is_empty() {
        parts.push("seconds=0".into());
    }
    format!("timedelta({})", parts.join(", "))
}

fn py_datetime(t: &DateTime) -> String {
    let tz = if t.offset_minutes == 0 {
        "timezone.utc".to_string()
    } else {
        format!(
            "timezone({})",
            py_timedelta(i64::from(t.offset_minutes) * 60_000)
        )
    };
    let d = &t.date;
    if t.hour == 0 && t.minute == 0 && t.second == 0 {
        format!("datetime({}, {}, {}, tzinfo={tz})", d.year, d.month, d.day)
    } else if t.second == 0 {
        format!(
            "datetime({}, {}, {}, {}, {}, tzinfo={tz})",
            d.year, d.month, d.day, t.hour, t.minute
        )
    } else {
        format!(
            "datetime({}, {}, {}, {}, {}, {}, tzinfo={tz})",
            d.year, d.month, d.day, t.hour, t.minute, t.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_use_the_quotes_ruff_prefers() {
        assert_eq!(py_str("plain"), "\"plain\"");
        assert_eq!(py_str("say \"hi\""), "'say \"hi\"'");
        assert_eq!(py_str("both \" and '"), "\"both \\\" and '\"");
        assert_eq!(py_str("a\nb\\"), "\"a\\nb\\\\\"");
    }

    #[test]
    fn durations_and_floats_read_like_python() {
        assert_eq!(py_timedelta(5 * 60_000), "timedelta(minutes=5)");
        assert_eq!(py_timedelta(5_400_000), "timedelta(hours=1, minutes=30)");
        assert_eq!(py_timedelta(0), "timedelta(seconds=0)");
        assert_eq!(py_float(0.5), "0.5");
        assert_eq!(py_float(1e-7), "1e-07");
    }

    #[test]
    fn callables_are_partials_or_instances() {
        let g = Gen::default();
        let call = |args: Vec<(String, Value)>, instance| Value::Callable {
            module: "alerts".into(),
            name: "Pager".into(),
            args,
            instance,
        };
        assert_eq!(g.flat(&call(vec![], true)), "Pager()");
        assert_eq!(g.flat(&call(vec![], false)), "Pager");
        let team = vec![("team".to_string(), Value::Str("data".into()))];
        assert_eq!(g.flat(&call(team.clone(), true)), "Pager(team=\"data\")");
        assert_eq!(g.flat(&call(team, false)), "partial(Pager, team=\"data\")");
    }

    #[test]
    fn task_variables_avoid_keywords_and_imports() {
        let mut taken: HashSet<String> = ["load".to_string()].into_iter().collect();
        assert_eq!(unique_var("load", &mut taken), "load_task");
        assert_eq!(unique_var("load", &mut taken), "load_task_2");
        assert_eq!(unique_var("class", &mut taken), "class_task");
        assert_eq!(unique_var("3-x.y", &mut taken), "t_3_x_y");
    }
}
