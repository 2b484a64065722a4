//! JSON Schema for a record type or a factory's parameters, so that editors can check
//! YAML and JSON config files while they are written (`dagfc schema NAME`).

use crate::modules::{BindingKind, Loader};
use crate::types::{FieldTy, Ty};
use dagf_diag::{Diagnostics, Sources};
use serde_json::{Value as Json, json};

/// The schema of the type or factory `name`, declared in one of the project's files.
pub fn schema(roots: &[String], loader: &dyn Loader, name: &str) -> Result<Json, String> {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let prog = crate::modules::load(roots, loader, &mut sources, &mut diags);
    let mut found = Vec::new();
    let mut known = Vec::new();
    for (m, module) in prog.modules.iter().enumerate() {
        if m == prog.std_module {
            continue;
        }
        for (n, b) in &module.scope {
            if matches!(b.kind, BindingKind::Type(_) | BindingKind::Factory(_)) {
                known.push(n.clone());
            }
            if n == name {
                found.push(b.kind.clone());
            }
        }
    }
    let schema = match found.as_slice() {
        [BindingKind::Type(t)] => with_header(name, ty_schema(&prog.types[*t].ty)),
        [BindingKind::Factory(f)] => {
            with_header(name, record_schema(&prog.factories[*f].params, None))
        }
        [] | [_] => {
            known.sort();
            let hint = dagf_diag::did_you_mean(name, known.iter().map(String::as_str))
                .map(|m| format!("; did you mean `{m}`?"))
                .unwrap_or_default();
            return Err(format!(
                "no record type or factory `{name}` in the project{hint}"
            ));
        }
        _ => return Err(format!("`{name}` is declared in several files; rename one")),
    };
    Ok(schema)
}

fn with_header(name: &str, mut schema: Json) -> Json {
    may_extend(&mut schema);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        obj.insert("title".into(), json!(name));
    }
    schema
}

/// A document may extend base documents (`extends`, `override`); one that does may
/// leave out what its bases give, so its fields are required only when it extends none.
fn may_extend(schema: &mut Json) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let Some(Json::Object(properties)) = obj.get_mut("properties") else {
        return;
    };
    properties.insert(
        "extends".into(),
        json!({
            "description": "base documents, relative to this one",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
        }),
    );
    properties.insert(
        "override".into(),
        json!({"description": "values that replace the bases' values", "type": "object"}),
    );
    let required = obj.remove("required").unwrap_or_else(|| json!([]));
    obj.insert("if".into(), json!({"required": ["extends"]}));
    obj.insert("then".into(), json!({}));
    obj.insert(
        "else".into(),
        json!({"required": required, "not": {"required": ["override"]}}),
    );
}

/// An object whose properties are the fields; those without a default are required.
fn record_schema(fields: &[FieldTy], title: Option<&str>) -> Json {
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for f in fields {
        properties.insert(f.name.clone(), ty_schema(&f.ty));
        if f.required() {
            required.push(json!(f.name));
        }
    }
    let mut out = json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    });
    if let (Some(t), Some(obj)) = (title, out.as_object_mut()) {
        obj.insert("title".into(), json!(t));
    }
    out
}

/// What a config value of this type may look like, as JSON Schema.
fn ty_schema(ty: &Ty) -> Json {
    match ty {
        Ty::Str | Ty::PyRef | Ty::TriggerRule => json!({"type": "string"}),
        Ty::Int => json!({"type": "integer"}),
        Ty::Float => json!({"type": "number"}),
        Ty::Bool => json!({"type": "boolean"}),
        // Durations are strings in config files: "90s", "1h30m".
        Ty::Duration => json!({
            "type": "string",
            "pattern": "^([0-9]+(ms|s|m|h|d|w))+$",
        }),
        Ty::Date => json!({"type": "string", "format": "date"}),
        Ty::DateTime => json!({"type": "string", "format": "date-time"}),
        Ty::Schedule => json!({
            "anyOf": [{"type": "string"}, {"type": "null"}],
            "description": "a preset (\"@daily\"), a cron expression or a duration",
        }),
        Ty::List(inner) => json!({"type": "array", "items": ty_schema(inner)}),
        Ty::Map(inner) => json!({"type": "object", "additionalProperties": ty_schema(inner)}),
        Ty::Record(r) => record_schema(&r.fields, r.name.as_deref()),
        Ty::Optional(inner) => json!({"anyOf": [ty_schema(inner), {"type": "null"}]}),
        Ty::Union(options) => json!({"enum": options.as_slice()}),
        Ty::Range {
            base,
            lo,
            hi,
            inclusive,
        } => {
            let mut s = ty_schema(base);
            if let Some(obj) = s.as_object_mut()
                && !matches!(**base, Ty::Duration)
            {
                if let Some(lo) = lo {
                    obj.insert("minimum".into(), number(*lo));
                }
                if let Some(hi) = hi {
                    let key = if *inclusive {
                        "maximum"
                    } else {
                        "exclusiveMaximum"
                    };
                    obj.insert(key.into(), number(*hi));
                }
            }
            s
        }
        Ty::Matches { base, re } => {
            let mut s = ty_schema(base);
            if let Some(obj) = s.as_object_mut() {
                obj.insert("pattern".into(), json!(re.as_str()));
            }
            s
        }
        // Assets, tasks, callbacks and factories are not config data.
        Ty::Asset | Ty::Task | Ty::Callbacks | Ty::Factory | Ty::Any | Ty::Error => json!({}),
    }
}

/// A bound as JSON: an integer when it is one.
fn number(x: f64) -> Json {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
