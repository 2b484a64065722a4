//! JSON Schema for a record type or a factory's parameters, so that editors can check
//! YAML and JSON config files while they are written (`dagfc schema NAME`).

use crate::modules::{BindingKind, Loader};
use crate::types::{FieldTy, Ty};
use dagf_diag::{Diagnostics, Sources, Span};
use dagf_syntax::ast;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, HashMap};

/// The schema of the type or factory `name`, declared in one of the project's files;
/// `partial` for base documents, which need not be complete (nothing is required).
/// Named record types are written once, under `$defs`, and referred to with `$ref`;
/// `///` docs become `description`s and declared defaults `default`s.
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
    let mut docs = Docs::default();
    for (m, module) in prog.modules.enumerate() {
        if m == prog.std_module {
            continue;
        }
        docs.module(&module.ast);
        for (n, b) in &module.scope {
            if matches!(b.kind, BindingKind::Type(_) | BindingKind::Factory(_)) {
                known.push(n.clone());
            }
            if n == name {
                found.push(b.kind.clone());
            }
        }
    }
    let mut make = Gen {
        docs: &docs,
        defs: BTreeMap::new(),
    };
    let (full, about) = match found.as_slice() {
        // The type asked for is the document itself: its fields inline, not a `$ref`.
        [BindingKind::Type(t)] => match &prog.types[*t].ty {
            Ty::Record(r) => (make.record(&r.fields), docs.types.get(name).cloned()),
            ty => (make.ty(ty), docs.types.get(name).cloned()),
        },
        [BindingKind::Factory(f)] => {
            let factory = &prog.factories[*f];
            (make.record(&factory.params), doc_text(&factory.decl.docs))
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
    let root = if partial { relaxed(&full) } else { full };
    Ok(with_header(name, about, root, &make.defs))
}

/// The `///` docs of the project's declarations: of each type by name, and of each
/// field and parameter by the span of its name (which a resolved field keeps).
#[derive(Default)]
struct Docs {
    types: HashMap<String, String>,
    fields: HashMap<Span, String>,
}

impl Docs {
    fn module(&mut self, module: &ast::Module) {
        for item in &module.items {
            match item {
                ast::Item::TypeDecl(t) => {
                    if let Some(text) = doc_text(&t.docs) {
                        self.types.insert(t.name.name.clone(), text);
                    }
                    self.type_expr(&t.ty);
                }
                ast::Item::Factory(f) => {
                    for p in &f.params {
                        self.field(&p.name, &p.docs);
                        self.type_expr(&p.ty);
                    }
                }
                _ => {}
            }
        }
    }

    fn field(&mut self, name: &ast::Ident, docs: &[String]) {
        if let Some(text) = doc_text(docs) {
            self.fields.insert(name.span, text);
        }
    }

    /// The fields of record types written inline (`{ name: str, ... }`), at any depth.
    fn type_expr(&mut self, ty: &ast::TypeExpr) {
        match &ty.kind {
            ast::TypeKind::Record(fields, _) => {
                for f in fields {
                    self.field(&f.name, &f.docs);
                    self.type_expr(&f.ty);
                }
            }
            ast::TypeKind::Named(_, args) | ast::TypeKind::AnyOf(args) => {
                args.iter().for_each(|a| self.type_expr(a))
            }
            ast::TypeKind::Optional(inner)
            | ast::TypeKind::Range { base: inner, .. }
            | ast::TypeKind::Matches { base: inner, .. } => self.type_expr(inner),
            ast::TypeKind::Union(_) | ast::TypeKind::Error => {}
        }
    }
}

/// `///` lines as one text, as a dag's `doc_md` takes them.
fn doc_text(docs: &[String]) -> Option<String> {
    let lines: Vec<&str> = docs
        .iter()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let text = lines.join("\n").trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// Makes schemas, collecting the named records they refer to.
struct Gen<'a> {
    docs: &'a Docs,
    /// Each named record's schema, by name.
    defs: BTreeMap<String, Json>,
}

impl Gen<'_> {
    /// An object whose properties are the fields; those without a default are required.
    fn record(&mut self, fields: &[FieldTy]) -> Json {
        let mut properties = serde_json::Map::new();
        let mut required = Vec::new();
        for f in fields {
            let mut property = self.ty(&f.ty);
            if let Some(obj) = property.as_object_mut() {
                if let Some(text) = self.docs.fields.get(&f.span) {
                    obj.insert("description".into(), json!(text));
                }
                if let Some(value) = f.default.as_ref().and_then(literal) {
                    obj.insert("default".into(), value);
                }
            }
            properties.insert(f.name.clone(), property);
            if f.required() {
                required.push(json!(f.name));
            }
        }
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// What a config value of this type may look like, as JSON Schema.
    fn ty(&mut self, ty: &Ty) -> Json {
        match ty {
            Ty::Str | Ty::PyRef | Ty::TriggerRule => json!({"type": "string"}),
            Ty::Int => json!({"type": "integer"}),
            Ty::Float => json!({"type": "number"}),
            Ty::Bool => json!({"type": "boolean"}),
            // Durations are strings in config files: "90s", "1h30m".
            Ty::Duration | Ty::Seconds => json!({
                "type": "string",
                "pattern": DURATION,
            }),
            Ty::Date => json!({"type": "string", "format": "date"}),
            Ty::DateTime => json!({"type": "string", "format": "date-time"}),
            Ty::Schedule => json!({
                "anyOf": [{"type": "string"}, {"type": "null"}],
                "description": "a preset (\"@daily\"), a cron expression or a duration",
            }),
            Ty::List(inner) => json!({"type": "array", "items": self.ty(inner)}),
            Ty::Map(inner) => {
                json!({"type": "object", "additionalProperties": self.ty(inner)})
            }
            Ty::Record(r) => match &r.name {
                Some(name) => {
                    if !self.defs.contains_key(name) {
                        // Claimed before its fields are made, so that a record met
                        // again inside itself is a reference, not an endless descent.
                        self.defs.insert(name.clone(), json!({}));
                        let mut def = self.record(&r.fields);
                        if let Some(obj) = def.as_object_mut() {
                            obj.insert("title".into(), json!(name));
                            if let Some(text) = self.docs.types.get(name) {
                                obj.insert("description".into(), json!(text));
                            }
                        }
                        self.defs.insert(name.clone(), def);
                    }
                    json!({"$ref": format!("#/$defs/{name}")})
                }
                None => self.record(&r.fields),
            },
            Ty::Optional(inner) => json!({"anyOf": [self.ty(inner), {"type": "null"}]}),
            Ty::Union(options) => json!({"enum": options.as_slice()}),
            Ty::AnyOf(members) => {
                let members: Vec<Json> = members.iter().map(|m| self.ty(m)).collect();
                json!({ "anyOf": members })
            }
            Ty::Range {
                base,
                lo,
                hi,
                inclusive,
            } => {
                let mut s = self.ty(base);
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
                let mut s = self.ty(base);
                if let Some(obj) = s.as_object_mut() {
                    obj.insert("pattern".into(), json!(re.as_str()));
                }
                s
            }
            // Assets, tasks, callbacks and factories are not config data.
            Ty::Asset | Ty::Task | Ty::Callbacks | Ty::Factory | Ty::Any | Ty::Error => {
                json!({})
            }
        }
    }
}

/// How a duration is written in a config file.
const DURATION: &str = "^([0-9]+(ms|s|m|h|d|w))+$";

/// A declared default as the JSON a config file would hold, when it is a literal (a
/// default computed from other values has none to show).
fn literal(e: &ast::Expr) -> Option<Json> {
    Some(match &e.kind {
        ast::ExprKind::None => Json::Null,
        ast::ExprKind::Bool(b) => json!(b),
        ast::ExprKind::Int(i) => json!(i),
        ast::ExprKind::Float(x) => json!(x),
        ast::ExprKind::Str(parts) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    ast::StrPart::Text(t) => text.push_str(t),
                    ast::StrPart::Interp(_) => return None,
                }
            }
            json!(text)
        }
        ast::ExprKind::Duration(ms) => json!(duration_text(*ms)?),
        ast::ExprKind::Date(d) => json!(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        ast::ExprKind::Preset(p) => json!(format!("@{}", p.trim_start_matches('@'))),
        ast::ExprKind::Unary(ast::UnOp::Neg, inner) => match &inner.kind {
            ast::ExprKind::Int(i) => json!(i.checked_neg()?),
            ast::ExprKind::Float(x) => json!(-x),
            _ => return None,
        },
        ast::ExprKind::List(items) => {
            Json::Array(items.iter().map(literal).collect::<Option<_>>()?)
        }
        ast::ExprKind::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| Some((k.name.clone(), literal(v)?)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// Milliseconds as a config file writes them (`1h30m`, `90s`, `500ms`): the duration
/// literal's own text; a negative one has no form in a schema's default.
fn duration_text(ms: i64) -> Option<String> {
    (ms >= 0).then(|| dagf_syntax::duration_text(ms))
}

fn with_header(
    name: &str,
    about: Option<String>,
    schema: Json,
    defs: &BTreeMap<String, Json>,
) -> Json {
    let mut schema = may_extend(schema);
    let defs = reachable(&schema, defs);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        obj.insert("title".into(), json!(name));
        if let Some(text) = about {
            obj.insert("description".into(), json!(text));
        }
        if !defs.is_empty() {
            obj.insert("$defs".into(), Json::Object(defs));
        }
    }
    schema
}

/// The suffix of a named record's partial form under `$defs`.
const PARTIAL: &str = ".partial";

/// The `$defs` the schema refers to, directly or through one another: each named
/// record in its whole form (`NAME`) or its partial one (`NAME.partial`), as used.
fn reachable(schema: &Json, defs: &BTreeMap<String, Json>) -> serde_json::Map<String, Json> {
    let mut out = serde_json::Map::new();
    let mut todo = Vec::new();
    refs(schema, &mut todo);
    while let Some(key) = todo.pop() {
        if out.contains_key(&key) {
            continue;
        }
        let def = match key.strip_suffix(PARTIAL) {
            Some(name) => defs.get(name).map(relaxed),
            None => defs.get(&key).cloned(),
        };
        let Some(def) = def else { continue };
        refs(&def, &mut todo);
        out.insert(key, def);
    }
    out
}

/// The `$defs` keys `$ref`s inside `schema` name.
fn refs(schema: &Json, into: &mut Vec<String>) {
    match schema {
        Json::Object(obj) => {
            for (k, v) in obj {
                match (k.as_str(), v) {
                    ("$ref", Json::String(r)) => {
                        if let Some(key) = r.strip_prefix("#/$defs/") {
                            into.push(key.to_string());
                        }
                    }
                    _ => refs(v, into),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| refs(v, into)),
        _ => {}
    }
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
/// records among its fields (a document merges onto its bases key by key), named ones
/// through their partial form under `$defs`. Items of lists stay whole: a list adds
/// items, it does not merge them.
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
        if let Some(Json::String(r)) = obj.get_mut("$ref")
            && !r.ends_with(PARTIAL)
        {
            r.push_str(PARTIAL);
        }
    }
    out
}

/// A bound as JSON: an integer when it is one.
fn number(x: f64) -> Json {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
