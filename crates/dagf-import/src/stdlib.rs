//! What the import needs to know of the dagf standard library: its operators and
//! sensors (by Python class), and the types of their fields and of the task, sensor and
//! DAG arguments. Read from the embedded `std.dagf` itself, so it never drifts from it.

use dagf_syntax::ast::{Item, ParamLite, TypeExpr, TypeKind};
use std::sync::OnceLock;

/// A field's type, as far as converting a YAML value needs it.
#[derive(Clone, Debug, PartialEq)]
pub enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Duration,
    DateTime,
    Schedule,
    Pyref,
    Callbacks,
    Asset,
    Any,
    List(Box<Ty>),
    Map(Box<Ty>),
    Record(Vec<(String, Ty)>),
}

#[derive(Debug)]
pub struct Operator {
    /// The dagf name (`bash`).
    pub name: String,
    /// The Python class's dotted path.
    pub class: String,
    pub is_sensor: bool,
    pub fields: Vec<(String, Ty)>,
}

#[derive(Debug, Default)]
pub struct Std {
    pub operators: Vec<Operator>,
    pub task_args: Vec<(String, Ty)>,
    pub sensor_args: Vec<(String, Ty)>,
    pub dag_args: Vec<(String, Ty)>,
}

impl Std {
    /// The standard operator for a Python class path, including the pre-provider paths
    /// Airflow 3.3 still imports (`airflow.operators.bash.BashOperator`).
    pub fn operator_for_class(&self, path: &str) -> Option<&Operator> {
        let modern = legacy_path(path);
        self.operators
            .iter()
            .find(|o| o.class == path || modern.as_deref() == Some(o.class.as_str()))
    }

    pub fn task_arg(&self, name: &str) -> Option<&Ty> {
        lookup(&self.task_args, name)
    }

    pub fn sensor_arg(&self, name: &str) -> Option<&Ty> {
        lookup(&self.sensor_args, name)
    }

    pub fn dag_arg(&self, name: &str) -> Option<&Ty> {
        lookup(&self.dag_args, name)
    }

    pub fn is_std_name(&self, name: &str) -> bool {
        self.operators.iter().any(|o| o.name == name)
            || ["TaskArgs", "SensorArgs", "DagArgs"].contains(&name)
    }
}

pub fn lookup<'a>(fields: &'a [(String, Ty)], name: &str) -> Option<&'a Ty> {
    fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
}

/// `airflow.operators.M.C` and `airflow.sensors.M.C`, which Airflow 3.3 still imports
/// (with a deprecation warning), as the provider paths they stand for.
fn legacy_path(path: &str) -> Option<String> {
    match path {
        "airflow.operators.email.EmailOperator" => {
            return Some("airflow.providers.smtp.operators.smtp.EmailOperator".into());
        }
        "airflow.operators.sql.SQLExecuteQueryOperator" => {
            return Some(
                "airflow.providers.common.sql.operators.sql.SQLExecuteQueryOperator".into(),
            );
        }
        _ => {}
    }
    if let Some(rest) = path.strip_prefix("airflow.operators.") {
        return Some(format!("airflow.providers.standard.operators.{rest}"));
    }
    path.strip_prefix("airflow.sensors.")
        .map(|rest| format!("airflow.providers.standard.sensors.{rest}"))
}

pub fn get() -> &'static Std {
    static STD: OnceLock<Std> = OnceLock::new();
    STD.get_or_init(load)
}

fn load() -> Std {
    let module = &dagf_sema::std_lib().tree;
    let records: Vec<(String, Vec<ParamLite>)> = module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::TypeDecl(t) => match &t.ty.kind {
                TypeKind::Record(fields, _) => Some((t.name.name.clone(), fields.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let record = |name: &str| -> Vec<(String, Ty)> {
        records
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, fields)| {
                fields
                    .iter()
                    .map(|f| (f.name.name.clone(), ty(&f.ty, &records, 0)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let operators = module
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Operator(op) => Some(Operator {
                name: op.name.name.clone(),
                class: op.class.clone(),
                is_sensor: op.is_sensor,
                fields: op
                    .fields
                    .iter()
                    .map(|p| (p.name.name.clone(), ty(&p.ty, &records, 0)))
                    .collect(),
            }),
            _ => None,
        })
        .collect();
    Std {
        operators,
        task_args: record("TaskArgs"),
        sensor_args: record("SensorArgs"),
        dag_args: record("DagArgs"),
    }
}

fn ty(t: &TypeExpr, records: &[(String, Vec<ParamLite>)], depth: usize) -> Ty {
    if depth > 16 {
        return Ty::Any;
    }
    let inner = |t: &TypeExpr| ty(t, records, depth + 1);
    match &t.kind {
        TypeKind::Optional(t) => inner(t),
        TypeKind::Range { base, .. } | TypeKind::Matches { base, .. } => inner(base),
        TypeKind::Union(_) => Ty::Str,
        // The importer reads config values as they come; a union's members are not told apart.
        TypeKind::AnyOf(_) => Ty::Any,
        TypeKind::Record(fields, _) => Ty::Record(
            fields
                .iter()
                .map(|f| (f.name.name.clone(), inner(&f.ty)))
                .collect(),
        ),
        TypeKind::Named(name, args) => match (name.name.as_str(), args.as_slice()) {
            ("str" | "trigger_rule", _) => Ty::Str,
            ("int", _) => Ty::Int,
            ("float", _) => Ty::Float,
            ("bool", _) => Ty::Bool,
            ("duration" | "seconds", _) => Ty::Duration,
            ("datetime" | "date", _) => Ty::DateTime,
            ("schedule", _) => Ty::Schedule,
            ("pyref", _) => Ty::Pyref,
            ("callbacks", _) => Ty::Callbacks,
            ("asset", _) => Ty::Asset,
            ("list", [t]) => Ty::List(Box::new(inner(t))),
            ("map", [t]) => Ty::Map(Box::new(inner(t))),
            (other, _) => match records.iter().find(|(n, _)| n == other) {
                Some((_, fields)) => Ty::Record(
                    fields
                        .iter()
                        .map(|f| (f.name.name.clone(), inner(&f.ty)))
                        .collect(),
                ),
                None => Ty::Any,
            },
        },
        TypeKind::Error => Ty::Any,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_library_is_read() {
        let std = get();
        let bash = std
            .operator_for_class("airflow.providers.standard.operators.bash.BashOperator")
            .expect("bash");
        assert_eq!(bash.name, "bash");
        assert_eq!(lookup(&bash.fields, "bash_command"), Some(&Ty::Str));
        assert_eq!(
            std.operator_for_class("airflow.operators.bash.BashOperator")
                .map(|o| o.name.as_str()),
            Some("bash")
        );
        assert_eq!(
            std.operator_for_class("airflow.sensors.filesystem.FileSensor")
                .map(|o| (o.name.as_str(), o.is_sensor)),
            Some(("file", true))
        );
        assert_eq!(std.task_arg("retry_delay"), Some(&Ty::Duration));
        assert_eq!(std.task_arg("on_failure_callback"), Some(&Ty::Callbacks));
        assert_eq!(std.sensor_arg("poke_interval"), Some(&Ty::Duration));
        assert_eq!(std.dag_arg("schedule"), Some(&Ty::Schedule));
        assert!(matches!(std.dag_arg("default_args"), Some(Ty::Record(_))));
        assert_eq!(
            std.operator_for_class("acme.Operator").map(|o| &o.name),
            None
        );
    }
}
