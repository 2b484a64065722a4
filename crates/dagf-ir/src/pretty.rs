//! `dagfc build --emit ir`: the IR as readable text.

use crate::{Dag, Field, Project, Value};
use std::fmt::Write;

/// The text `--emit ir` prints: each DAG of `project` with its arguments, tasks and edges.
pub fn pretty(project: &Project) -> String {
    let mut out = String::new();
    for dag in &project.dags {
        dag_text(dag, &mut out);
    }
    out
}

fn dag_text(dag: &Dag, out: &mut String) {
    let _ = writeln!(out, "dag {}  // {}", dag.dag_id, dag.source);
    fields(&dag.args, "  ", out);
    if !dag.default_args.is_empty() {
        let _ = writeln!(out, "  default_args {{");
        fields(&dag.default_args, "    ", out);
        let _ = writeln!(out, "  }}");
    }
    for (gi, g) in dag.groups.iter().enumerate() {
        if let Some(m) = &g.mapped {
            let _ = writeln!(out, "  group {} expand {{", dag.group_path(gi));
            fields(m.fields(), "    ", out);
            out.push_str("  }\n");
        }
    }
    for t in dag.tasks() {
        let _ = writeln!(
            out,
            "  task {}: {}  // {}.{}",
            t.task_id, t.op.name, t.op.module, t.op.class
        );
        fields(&t.args, "    ", out);
        match &t.mapped {
            None => {}
            Some(crate::Mapped::Expand(fs)) => {
                out.push_str("    expand {\n");
                fields(fs, "      ", out);
                out.push_str("    }\n");
            }
            Some(crate::Mapped::ExpandKwargs(f)) => fields(std::slice::from_ref(f), "    ", out),
        }
        match t.role {
            crate::Role::Work => {}
            crate::Role::Setup => out.push_str("    setup = true\n"),
            crate::Role::Teardown {
                on_failure_fail_dagrun,
            } => {
                out.push_str("    teardown = true\n");
                if let Some(b) = on_failure_fail_dagrun {
                    let _ = writeln!(out, "    on_failure_fail_dagrun = {b}");
                }
            }
        }
    }
    for (a, b) in dag.edges() {
        let _ = writeln!(out, "  {a} >> {b}");
    }
    out.push('\n');
}

fn fields(fields: &[Field], indent: &str, out: &mut String) {
    for f in fields {
        let _ = writeln!(out, "{indent}{} = {}", f.name, value_text(&f.value));
    }
}

/// A value as `--emit ir` writes it.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::None => "none".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Str(s) => format!("{s:?}"),
        Value::Duration(ms) => dagf_time::duration_text(*ms),
        Value::Date(d) => d.to_string(),
        Value::DateTime(t) => format!(
            "{}T{:02}:{:02}:{:02}{:+03}:{:02}",
            t.date,
            t.hour,
            t.minute,
            t.second,
            t.offset_minutes / 60,
            (t.offset_minutes % 60).abs()
        ),
        Value::List(items) => format!(
            "[{}]",
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Dict(items) => format!(
            "{{ {} }}",
            items
                .iter()
                .map(|(k, v)| format!("{k:?} = {}", value_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::PyRef { module, name } => format!("pyref({module}.{name})"),
        Value::Asset { name, .. } => name.clone(),
        Value::Callable {
            module,
            name,
            args,
            instance,
        } => format!(
            "{}({module}.{name}{})",
            if *instance { "instance" } else { "callback" },
            args.iter()
                .map(|(k, v)| format!(", {k} = {}", value_text(v)))
                .collect::<String>()
        ),
        Value::Param(args) => format!(
            "param({})",
            args.iter()
                .map(|(k, v)| if k.is_empty() {
                    value_text(v)
                } else {
                    format!("{k} = {}", value_text(v))
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::AssetAll(xs) => xs.iter().map(value_text).collect::<Vec<_>>().join(" & "),
        Value::AssetAny(xs) => format!(
            "({})",
            xs.iter().map(value_text).collect::<Vec<_>>().join(" | ")
        ),
        Value::Output { task, key: None } => format!("{task}.output"),
        Value::Output {
            task,
            key: Some(key),
        } => format!("{task}.output[{key:?}]"),
        Value::MappedArg { param } => format!("item({param})"),
    }
}
