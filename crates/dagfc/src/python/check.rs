//! `dagfc check --python`: what to ask the project's Python about (every operator and
//! sensor class the project declares or uses, every Python reference its dags hold),
//! and the diagnostics its answers give. Pure: the asking is [`super::PyEnv::ask`].

use dagf_diag::{Code, Diagnostic, Diagnostics, Sources, Span};
use dagf_ir::Value;
use dagf_syntax::ast;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// An operator or sensor declaration to check against its class.
#[derive(Debug)]
struct Decl {
    name: String,
    class: String,
    class_span: Span,
    /// Each field's name and where it is written.
    fields: Vec<(String, Span)>,
}

/// A Python object a dag names, and the keyword arguments it will be called with.
#[derive(Debug)]
struct PyUse {
    path: String,
    span: Span,
    /// Keyword arguments the call passes (`op_kwargs`, a callback's bound arguments),
    /// each with where its key is written.
    kwargs: Vec<(String, Span)>,
}

/// A task, for the constructor parameters it must set.
#[derive(Debug)]
struct TaskUse {
    decl: usize,
    task_id: String,
    span: Span,
    set: BTreeSet<String>,
}

/// What `check --python` asks about, and how each answer maps back to the source.
#[derive(Debug, Default)]
pub struct Plan {
    decls: Vec<Decl>,
    uses: Vec<PyUse>,
    tasks: Vec<TaskUse>,
}

/// The operators and callables of a checked project. `sources` holds its `.dagf`
/// files (the standard library's among them); their declarations are read from the
/// text again, which keeps every name's span.
pub fn plan(ir: &dagf_ir::Project, sources: &Sources) -> Plan {
    let mut all = Vec::new();
    let mut callbacks: BTreeMap<String, (Span, Span)> = BTreeMap::new();
    let mut plan = Plan::default();
    for (file, source) in sources.iter() {
        if !source.name.ends_with(".dagf") {
            continue;
        }
        let is_std = source.name == dagf_sema::std_lib().name;
        let (module, _) = dagf_syntax::parse(&source.text, file);
        for item in &module.items {
            match item {
                ast::Item::Operator(d) => all.push((is_std, d.clone())),
                ast::Item::Callback(c) => {
                    callbacks
                        .entry(c.path.clone())
                        .or_insert((c.path_span, c.span));
                    if !is_std {
                        plan.uses.push(PyUse {
                            path: c.path.clone(),
                            span: c.path_span,
                            kwargs: c
                                .body
                                .iter()
                                .filter_map(|st| match st {
                                    ast::Stmt::Field { name, .. } => {
                                        Some((name.name.clone(), name.span))
                                    }
                                    _ => None,
                                })
                                .collect(),
                        });
                    }
                }
                _ => {}
            }
        }
    }
    let used: BTreeSet<(String, String)> = ir
        .dags
        .iter()
        .flat_map(|d| d.tasks())
        .map(|t| (t.op.name.clone(), format!("{}.{}", t.op.module, t.op.class)))
        .collect();
    for (is_std, d) in all {
        if is_std && !used.contains(&(d.name.name.clone(), d.class.clone())) {
            continue;
        }
        plan.decls.push(Decl {
            name: d.name.name.clone(),
            class: d.class.clone(),
            class_span: d.class_span,
            fields: d
                .fields
                .iter()
                .map(|f| (f.name.name.clone(), f.name.span))
                .collect(),
        });
    }
    for dag in &ir.dags {
        for field in dag.args.iter().chain(&dag.default_args) {
            uses_in(
                &field.value,
                field.origin,
                &callbacks,
                sources,
                &mut plan.uses,
            );
        }
        for task in dag.tasks() {
            let class = format!("{}.{}", task.op.module, task.op.class);
            // With `expand_kwargs`, which fields each instance gets only its items say.
            let kwargs_mapped = matches!(task.mapped, Some(dagf_ir::Mapped::ExpandKwargs(_)));
            if let Some(decl) = plan
                .decls
                .iter()
                .position(|d| d.name == task.op.name && d.class == class)
                && !kwargs_mapped
            {
                let mapped = task.mapped.iter().flat_map(|m| m.fields());
                plan.tasks.push(TaskUse {
                    decl,
                    task_id: task.task_id.clone(),
                    span: task.span,
                    set: task
                        .args
                        .iter()
                        .chain(mapped)
                        .map(|a| a.name.clone())
                        .collect(),
                });
            }
            for field in &task.args {
                if field.name == "python_callable"
                    && let Value::PyRef { module, name } = &field.value
                {
                    let kwargs = match task.arg("op_kwargs").map(|f| (&f.value, f.origin)) {
                        Some((Value::Dict(items), at)) => items
                            .iter()
                            .map(|(k, _)| (k.clone(), key_span(sources, at, k)))
                            .collect(),
                        _ => Vec::new(),
                    };
                    plan.uses.push(PyUse {
                        path: format!("{module}.{name}"),
                        span: value_span(sources, field.origin),
                        kwargs,
                    });
                } else {
                    uses_in(
                        &field.value,
                        field.origin,
                        &callbacks,
                        sources,
                        &mut plan.uses,
                    );
                }
            }
        }
    }
    plan
}

/// The Python references inside a value (a list of callbacks, a dict of them).
fn uses_in(
    value: &Value,
    at: Span,
    callbacks: &BTreeMap<String, (Span, Span)>,
    sources: &Sources,
    out: &mut Vec<PyUse>,
) {
    match value {
        Value::PyRef { module, name } => out.push(PyUse {
            path: format!("{module}.{name}"),
            span: at,
            kwargs: Vec::new(),
        }),
        Value::Callable {
            module, name, args, ..
        } => {
            let path = format!("{module}.{name}");
            // A callback's arguments are bound in its declaration's block: the path's
            // problems are shown there, once, not at every field that calls it.
            let (span, block) = callbacks.get(&path).copied().unwrap_or((at, at));
            out.push(PyUse {
                kwargs: args
                    .iter()
                    .map(|(k, _)| (k.clone(), key_span(sources, block, k)))
                    .collect(),
                path,
                span,
            });
        }
        Value::List(items) | Value::AssetAll(items) | Value::AssetAny(items) => {
            for v in items {
                uses_in(v, at, callbacks, sources, out);
            }
        }
        Value::Dict(items) => {
            for (_, v) in items {
                uses_in(v, at, callbacks, sources, out);
            }
        }
        _ => {}
    }
}

/// The value of a `name = value` statement (a field's origin is the statement that
/// set it): what an error about the value points at.
fn value_span(sources: &Sources, set: Span) -> Span {
    let text = sources.text(set);
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let rest = &text[name_end..];
    let trimmed = rest.trim_start();
    match trimmed.strip_prefix('=') {
        Some(value) if name_end > 0 && !value.starts_with('=') => {
            let value_start = name_end + (rest.len() - trimmed.len()) + 1;
            let lead = text[value_start..].len() - text[value_start..].trim_start().len();
            let base = set.start as usize;
            Span::new(set.file, base + value_start + lead, set.end as usize)
        }
        _ => set,
    }
}

/// Where `key = ` (or `"key" =`) is written inside `within`; `within` itself when it
/// is not found there (the key came from a config file or a computed record).
fn key_span(sources: &Sources, within: Span, key: &str) -> Span {
    let text = sources.text(within);
    let bytes = text.as_bytes();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut from = 0;
    while let Some(found) = text[from..].find(key) {
        let start = from + found;
        let end = start + key.len();
        from = end;
        let before = start.checked_sub(1).map(|i| bytes[i]);
        let quoted = before == Some(b'"') && bytes.get(end) == Some(&b'"');
        let bare = !before.is_some_and(is_name) && !bytes.get(end).is_some_and(|b| is_name(*b));
        if !(quoted || bare) {
            continue;
        }
        let after = text[end + usize::from(quoted)..].trim_start();
        if after.starts_with('=') && !after.starts_with("==") || after.starts_with(':') {
            let (s, e) = match quoted {
                true => (start - 1, end + 1),
                false => (start, end),
            };
            let base = within.start as usize;
            return Span::new(within.file, base + s, base + e);
        }
    }
    within
}

impl Plan {
    /// The helper's request.
    pub fn request(&self) -> Json {
        let classes: BTreeSet<&str> = self.decls.iter().map(|d| d.class.as_str()).collect();
        let callables: BTreeSet<&str> = self.uses.iter().map(|u| u.path.as_str()).collect();
        json!({ "op": "inspect", "classes": classes, "callables": callables })
    }

    /// How many classes and callables the plan checks.
    pub fn counts(&self) -> (usize, usize) {
        let classes: BTreeSet<&str> = self.decls.iter().map(|d| d.class.as_str()).collect();
        let callables: BTreeSet<&str> = self.uses.iter().map(|u| u.path.as_str()).collect();
        (classes.len(), callables.len())
    }

    /// One diagnostic per mistake the helper's `answer` shows.
    pub fn diagnose(&self, answer: &Json) -> Vec<Diagnostic> {
        let mut out = Diagnostics::new();
        let null = Json::Null;
        let class_of = |p: &str| answer["classes"].get(p).unwrap_or(&null);
        let mut bad_decls = BTreeSet::new();
        for (i, decl) in self.decls.iter().enumerate() {
            let info = class_of(&decl.class);
            if let Some(d) = not_found(info, &decl.class, decl.class_span, "class") {
                out.push(d);
                bad_decls.insert(i);
                continue;
            }
            if info["kind"] != "class" {
                out.push(
                    Diagnostic::at(
                        Code::E0705,
                        decl.class_span,
                        format!(
                            "`{}` is {}, not a class",
                            decl.class,
                            with_article(info["kind"].as_str().unwrap_or("something else"))
                        ),
                        "not a class",
                    )
                    .with_help(format!(
                        "an `operator` or `sensor` declaration names the class its tasks instantiate, such as \"airflow.providers.standard.operators.bash.BashOperator\"; `{}` is declared here",
                        decl.name
                    )),
                );
                bad_decls.insert(i);
                continue;
            }
            let params = strings(&info["params"]);
            let open = info["open"].as_bool().unwrap_or(true);
            if !open {
                for (field, span) in &decl.fields {
                    if !params.iter().any(|p| p == field) {
                        // A misspelt field is also a required parameter left out: one
                        // mistake, reported once.
                        bad_decls.insert(i);
                        out.push(
                            Diagnostic::at(
                                Code::E0706,
                                *span,
                                format!(
                                    "`{}` takes no parameter `{field}`",
                                    short(&decl.class)
                                ),
                                "not a parameter of the class",
                            )
                            .with_suggestion(field, params.iter().map(String::as_str))
                            .or_help(format!(
                                "remove the field, or write the name of one of {}'s constructor parameters",
                                short(&decl.class)
                            )),
                        );
                    }
                }
            }
            if bad_decls.contains(&i) {
                continue;
            }
            for required in strings(&info["required"]) {
                if required == "task_id" || decl.fields.iter().any(|(f, _)| *f == required) {
                    continue;
                }
                out.push(
                    Diagnostic::at(
                        Code::E0707,
                        decl.class_span,
                        format!(
                            "`{}` requires `{required}`, which `{}` does not declare",
                            short(&decl.class),
                            decl.name
                        ),
                        "its constructor requires it",
                    )
                    .with_help(format!(
                        "declare the field (`{required}: TYPE`) so that every task must set it"
                    )),
                );
                bad_decls.insert(i);
            }
        }
        for task in &self.tasks {
            if bad_decls.contains(&task.decl) {
                continue;
            }
            let decl = &self.decls[task.decl];
            let info = class_of(&decl.class);
            for required in strings(&info["required"]) {
                if required == "task_id" || task.set.contains(&required) {
                    continue;
                }
                out.push(
                    Diagnostic::at(
                        Code::E0707,
                        task.span,
                        format!(
                            "task `{}` leaves `{required}` unset, which `{}` requires",
                            task.task_id,
                            short(&decl.class)
                        ),
                        format!("`{required}` is not set"),
                    )
                    .with_help(format!(
                        "set `{required} = ...` in the task, or make the field required in `{}`'s declaration (drop its `?`)",
                        decl.name
                    )),
                );
            }
        }
        for u in &self.uses {
            let info = answer["callables"].get(&u.path).unwrap_or(&null);
            if let Some(d) = not_found(info, &u.path, u.span, "callable") {
                out.push(d);
                continue;
            }
            let is_class = info["kind"] == "class";
            if !is_class && info["callable"] == false {
                out.push(
                    Diagnostic::at(
                        Code::E0705,
                        u.span,
                        format!(
                            "`{}` is {}, which cannot be called",
                            u.path,
                            with_article(info["kind"].as_str().unwrap_or("value"))
                        ),
                        "not callable",
                    )
                    .with_help(
                        "name a function (or a class) by its dotted path, `module.function`",
                    ),
                );
                continue;
            }
            let params = strings(&info["params"]);
            let takes_any = if is_class {
                info["open"].as_bool().unwrap_or(true)
            } else {
                info["var_keyword"].as_bool().unwrap_or(true)
            };
            if takes_any {
                continue;
            }
            for (key, span) in &u.kwargs {
                if params.iter().any(|p| p == key) {
                    continue;
                }
                out.push(
                    Diagnostic::at(
                        Code::E0708,
                        *span,
                        format!("`{}` takes no argument `{key}`", u.path),
                        "not a parameter of the callable",
                    )
                    .with_label(u.span, "the callable")
                    .with_suggestion(key, params.iter().map(String::as_str))
                    .or_help(format!(
                        "remove `{key}`, or add a parameter `{key}` (or `**kwargs`) to `{}`",
                        u.path.rsplit('.').next().unwrap_or(&u.path)
                    )),
                );
            }
        }
        out.one_per_place().into_sorted()
    }
}

/// E0704 for a path that does not lead to an object.
fn not_found(info: &Json, path: &str, span: Span, what: &str) -> Option<Diagnostic> {
    if info["found"] != false {
        return None;
    }
    let module = info["module"].as_str().unwrap_or(path);
    let error = info["error"].as_str().unwrap_or("");
    let d = match info["problem"].as_str().unwrap_or("") {
        "attribute" => {
            let attr = info["attribute"].as_str().unwrap_or("");
            let names = strings(&info["names"]);
            Diagnostic::at(
                Code::E0704,
                span,
                format!("module `{module}` has no `{attr}`"),
                format!("no `{attr}` in `{module}`"),
            )
            .with_suggestion(attr, names.iter().map(String::as_str))
            .or_help(format!("write the name of a {what} defined in `{module}`"))
        }
        "import" => Diagnostic::at(
            Code::E0704,
            span,
            format!("importing `{module}` failed: {error}"),
            "this module fails to import",
        )
        .with_help(
            "import it with the project's interpreter to see the traceback, and fix the module or install what it needs",
        ),
        "path" => Diagnostic::at(
            Code::E0704,
            span,
            format!("`{path}` is not a dotted Python path"),
            "not `module.name`",
        )
        .with_help("write the module and the name in it, such as \"package.module.Name\""),
        _ => Diagnostic::at(
            Code::E0704,
            span,
            format!("no Python module `{module}`"),
            "no such module",
        )
        .with_help(
            "check the spelling; the project's own modules are found in the folders of `[python] path` in dagf.toml, the rest must be installed in its Python environment",
        ),
    };
    Some(d)
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `Class` of `package.module.Class`.
fn short(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

fn with_article(kind: &str) -> String {
    dagf_syntax::with_article(kind)
}
