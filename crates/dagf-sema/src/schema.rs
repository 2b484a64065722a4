//! JSON Schema for a record type or a factory's parameters, so that editors can check
//! YAML and JSON config files while they are written (`dagfc schema NAME`).

use crate::modules::{BindingKind, Loader};
use crate::types::{FieldTy, Ty};
use dagf_diag::{Diagnostics, Sources};
use serde_json::{Value as Json, json};

/// The schema of the type or factory `name`, declared in one of the project's files;
/// `partial` for base documents, which need not be complete (nothing is required).
pub fn schema(
    roots: &[String],
    loader: &dyn Loader,
    name: &str,
    partial: bool,
) -> Result<Json, String> {
    let mut sources = Sources::new();
    let mut diags = Diagnostics::new();
    let prog = crate::modules::load(roots, loader, &mut sources, &mut diags);
    let mut found = Vec::new();
    let mut known = Vec::new();
    for (m, module) in prog.modules.enumerate() {
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
    let full = match found.as_slice() {
        [BindingKind::Type(t)] => ty_schema(&prog.types[*t].ty),
        [BindingKind::Factory(f)] => record_schema(&prog.factories[*f].params, None),
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
    Ok(with_header(
        name,
        if partial { relaxed(&full) } else { full },
    ))
}

fn with_header(name: &str, schema: Json) -> Json {
    let mut schema = may_extend(schema);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        obj.insert("title".into(), json!(name));
    }
    schema
}

/// A document may extend base documents (`extends: base.yaml`, and `override:` for the
/// values it replaces). One that does gives only what it adds or changes, so it is
/// checked against the partial form of the type (no field required, records merged
/// key by key); one that extends nothing is checked against the whole type.
fn may_extend(full: Json) -> Json {
    if full.get("properties").is_none() {
        return full; // not a record: documents of other types do not extend
    }
    let partial = relaxed(&full);
    let mut extending = partial.clone();
    if let Some(Json::Object(properties)) = extending.get_mut("properties") {
        properties.insert(
            "extends".into(),
            json!({
                "description": "base documents, relative to this one",
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
            }),
        );
        let mut replaces = partial;
        if let Some(obj) = replaces.as_object_mut() {
            obj.insert(
                "description".into(),
                json!("values that replace the bases' values"),
            );
        }
        properties.insert("override".into(), replaces);
    }
    json!({
        "if": {"type": "object", "required": ["extends"]},
        "then": extending,
        "else": full,
    })
}

/// The partial form of a record's schema: nothing required, and the same for the
/// records among its fields (a document merges onto its bases key by key). Items of
/// lists stay whole: a list adds items, it does not merge them.
fn relaxed(schema: &Json) -> Json {
    let mut out = schema.clone();
    if let Some(obj) = out.as_object_mut() {
        obj.remove("required");
        if let Some(Json::Object(properties)) = obj.get_mut("properties") {
            for v in properties.values_mut() {
                *v = relaxed(v);
            }
        }
        if let Some(Json::Array(options)) = obj.get_mut("anyOf") {
            for v in options.iter_mut() {
                *v = relaxed(v);
            }
        }
    }
    out
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
        Ty::Duration | Ty::Seconds => json!({
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
