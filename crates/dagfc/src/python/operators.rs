//! `dagfc operators import`: the helper's description of operator classes turned into
//! `operator` and `sensor` declarations, written as the standard library writes them.
//! Pure: the asking is [`super::PyEnv::ask`].

use dagf_diag::{Code, Diagnostic};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// The helper's request for these targets.
pub fn request(targets: &[String]) -> Json {
    json!({ "op": "introspect", "targets": targets })
}

/// What an import made: the declarations, the problems with the targets, and counts.
#[derive(Debug, Default)]
pub struct Imported {
    /// The `.dagf` text.
    pub text: String,
    /// One per target that could not be imported.
    pub diagnostics: Vec<Diagnostic>,
    /// What the text holds.
    pub stats: Stats,
}

/// Counts of what was imported, for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Operator declarations written.
    pub operators: usize,
    /// Sensor declarations written.
    pub sensors: usize,
    /// Fields over all declarations.
    pub fields: usize,
    /// Fields typed `any` (no usable annotation, or a class dagf has no value for).
    pub any_fields: usize,
    /// Fields whose type is not exactly Python's (a comment says how).
    pub approximated: usize,
    /// Modules read.
    pub modules: usize,
    /// Modules of a package that did not import (listed in the text).
    pub failed_modules: usize,
    /// Classes left out (private, abstract, deprecated, another name), listed in the text.
    pub skipped: usize,
}

/// The words dagf reserves: a field with such a name cannot be declared.
const RESERVED: &[&str] = &[
    "abstract", "and", "as", "asset", "callback", "dag", "else", "extends", "factory", "false",
    "for", "group", "if", "import", "in", "let", "matches", "mixin", "none", "not", "operator",
    "or", "override", "sensor", "task", "template", "true", "type", "with",
];

/// Class names that stand for "not given" or for another task's output: a union member
/// of such a class is a way of leaving the argument out, not a type of value.
fn is_sentinel(name: &str) -> bool {
    let last = name.rsplit('.').next().unwrap_or(name);
    matches!(
        last,
        "ArgNotSet" | "NOTSET" | "_NotSet" | "NotSetType" | "_MethodDefault"
    ) || last.contains("XComArg")
        || last == "MappedArgument"
}

/// A dagf type, as the importer writes it.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    Str,
    Int,
    Float,
    Bool,
    Duration,
    Datetime,
    Date,
    PyRef,
    Any,
    List(Box<Ty>),
    Map(Box<Ty>),
    /// A string union (`"a" | "b"`).
    Lits(Vec<String>),
    /// Two or more members, none of them a union.
    Union(Vec<Ty>),
    /// The item type of an empty list or map literal: a value of every type.
    Nothing,
}

impl Ty {
    fn text(&self) -> String {
        match self {
            Ty::Str => "str".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Bool => "bool".into(),
            Ty::Duration => "duration".into(),
            Ty::Datetime => "datetime".into(),
            Ty::Date => "date".into(),
            Ty::PyRef => "pyref".into(),
            Ty::Any | Ty::Nothing => "any".into(),
            Ty::List(t) => format!("list<{}>", t.text()),
            Ty::Map(t) => format!("map<{}>", t.text()),
            Ty::Lits(v) => v.iter().map(|s| quote(s)).collect::<Vec<_>>().join(" | "),
            Ty::Union(v) => v.iter().map(Ty::text).collect::<Vec<_>>().join(" | "),
        }
    }

    /// The text with `?`, parenthesised when it is a union.
    fn optional_text(&self) -> String {
        match self {
            Ty::Union(_) | Ty::Lits(_) => format!("({})?", self.text()),
            _ => format!("{}?", self.text()),
        }
    }

    fn is_any(&self) -> bool {
        *self == Ty::Any
    }
}

/// An annotation mapped to a dagf type: the type (`None` when dagf has no value of
/// it), whether Python also takes `None`, and what a reader should know about the
/// mapping.
struct Mapped {
    ty: Option<Ty>,
    nullable: bool,
    notes: Vec<String>,
}

/// A Python class name for a comment: its last two segments at most.
fn short_class(name: &str) -> String {
    let parts: Vec<&str> = name.rsplit('.').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join(".")
}

/// A described annotation as Python would write it, for comments.
fn py_text(t: &Json) -> String {
    let inner = |k: &str| py_text(&t[k]);
    let all = |k: &str, sep: &str| {
        t[k].as_array()
            .map(|v| v.iter().map(py_text).collect::<Vec<_>>().join(sep))
            .unwrap_or_default()
    };
    match t["t"].as_str().unwrap_or("") {
        "union" => all("of", " | "),
        "tuple" => format!("tuple[{}]", all("of", ", ")),
        "list" => format!("{}[{}]", t["py"].as_str().unwrap_or("list"), inner("of")),
        "map" => format!(
            "{}[{}, {}]",
            t["py"].as_str().unwrap_or("dict"),
            inner("key"),
            inner("of")
        ),
        "literal" => format!(
            "Literal[{}]",
            t["values"]
                .as_array()
                .map(|v| v.iter().map(Json::to_string).collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        ),
        "enum" | "class" | "sentinel" => short_class(t["name"].as_str().unwrap_or("?")),
        "none" => "None".into(),
        "missing" => "(no annotation)".into(),
        "any" => "Any".into(),
        "callable" => "Callable".into(),
        "duration" => "timedelta".into(),
        other => other.into(),
    }
}

/// Maps a described annotation (see the helper's `describe_type`).
fn map_type(t: &Json) -> Mapped {
    let mut notes = Vec::new();
    let mut nullable = false;
    let ty = map_inner(t, &mut nullable, &mut notes, 0);
    Mapped {
        ty,
        nullable,
        notes,
    }
}

fn map_inner(t: &Json, nullable: &mut bool, notes: &mut Vec<String>, depth: usize) -> Option<Ty> {
    if depth > 16 {
        return Some(Ty::Any);
    }
    // Inside a list or map, `None` is a value, which only `any` holds.
    let nested = |x: &Json, notes: &mut Vec<String>| -> Option<Ty> {
        let mut inner_null = false;
        let ty = map_inner(x, &mut inner_null, notes, depth + 1);
        match (ty, inner_null) {
            (Some(ty), false) => Some(ty),
            (Some(_), true) => {
                notes.push(format!(
                    "`{}` widened to `any`: it may hold None",
                    py_text(x)
                ));
                Some(Ty::Any)
            }
            (None, true) => Some(Ty::Any),
            (None, false) => None,
        }
    };
    match t["t"].as_str().unwrap_or("") {
        "str" => Some(Ty::Str),
        "int" => Some(Ty::Int),
        "float" => Some(Ty::Float),
        "bool" => Some(Ty::Bool),
        "duration" => Some(Ty::Duration),
        "datetime" => Some(Ty::Datetime),
        "date" => Some(Ty::Date),
        "callable" => Some(Ty::PyRef),
        "any" => Some(Ty::Any),
        "none" => {
            *nullable = true;
            None
        }
        "list" => {
            let of = match nested(&t["of"], notes) {
                Some(of) => of,
                None => {
                    notes.push(format!(
                        "dagf has no value of class {}: items typed `any`",
                        py_text(&t["of"])
                    ));
                    Ty::Any
                }
            };
            let py = t["py"].as_str().unwrap_or("list");
            if !matches!(
                py,
                "list" | "Sequence" | "Iterable" | "Collection" | "Container" | "MutableSequence"
            ) {
                notes.push(format!("Python takes a {py}; dagf writes a list"));
            }
            Some(Ty::List(Box::new(of)))
        }
        "tuple" => {
            notes.push(format!(
                "`{}` widened to `list<any>`: dagf writes a list",
                py_text(t)
            ));
            Some(Ty::List(Box::new(Ty::Any)))
        }
        "map" => {
            let key = t["key"]["t"].as_str().unwrap_or("");
            if !matches!(key, "str" | "any" | "missing") {
                notes.push(format!(
                    "`{}` widened to `any`: dagf's maps have string keys",
                    py_text(t)
                ));
                return Some(Ty::Any);
            }
            let of = match nested(&t["of"], notes) {
                Some(of) => of,
                None => {
                    notes.push(format!(
                        "dagf has no value of class {}: values typed `any`",
                        py_text(&t["of"])
                    ));
                    Ty::Any
                }
            };
            Some(Ty::Map(Box::new(of)))
        }
        "literal" | "enum" => {
            let values = t["values"].as_array().cloned().unwrap_or_default();
            let mut strings = Vec::new();
            let mut others = Vec::new();
            for v in &values {
                match v {
                    Json::String(s) => strings.push(s.clone()),
                    Json::Null => *nullable = true,
                    Json::Bool(_) => others.push(Ty::Bool),
                    Json::Number(n) if n.is_i64() => others.push(Ty::Int),
                    Json::Number(_) => others.push(Ty::Float),
                    // A member whose value is an object: nothing dagf can write.
                    _ => {}
                }
            }
            if strings.is_empty() && others.is_empty() {
                return None;
            }
            let is_enum = t["t"] == "enum";
            if is_enum && !strings.is_empty() && t["str"] != true {
                notes.push(format!(
                    "Python takes a member of the enum {}; dagf writes its value",
                    py_text(t)
                ));
            }
            if !others.is_empty() && !others.iter().all(|o| *o == Ty::Bool) {
                notes.push(format!(
                    "`{}` widened: dagf has string unions only",
                    py_text(t)
                ));
            }
            let mut members = Vec::new();
            if !strings.is_empty() {
                members.push(Ty::Lits(strings));
            }
            members.extend(others);
            union_of(members)
        }
        "union" => {
            let mut members = Vec::new();
            let mut dropped = Vec::new();
            for m in t["of"].as_array().cloned().unwrap_or_default() {
                let kind = m["t"].as_str().unwrap_or("");
                if kind == "sentinel"
                    || (matches!(kind, "class" | "enum")
                        && is_sentinel(m["name"].as_str().unwrap_or("")))
                {
                    continue;
                }
                match map_inner(&m, nullable, notes, depth + 1) {
                    Some(ty) => members.push(ty),
                    None if kind == "none" => {}
                    None => dropped.push(py_text(&m)),
                }
            }
            if !dropped.is_empty() && !members.is_empty() {
                notes.push(format!(
                    "Python also takes {}, which dagf has no value for",
                    dropped.join(", ")
                ));
            }
            if members.is_empty() && !dropped.is_empty() {
                return None;
            }
            union_of(members)
        }
        "class" | "sentinel" => {
            let name = t["name"].as_str().unwrap_or("");
            if is_sentinel(name) {
                Some(Ty::Any)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// One type from members: nested unions flattened, string unions joined, repeats
/// dropped, `any` swallowing the rest.
fn union_of(members: Vec<Ty>) -> Option<Ty> {
    let mut flat: Vec<Ty> = Vec::new();
    let mut lits: Vec<String> = Vec::new();
    let mut lit_at = None;
    let mut push = |ty: Ty, flat: &mut Vec<Ty>| match ty {
        Ty::Lits(v) => {
            if lit_at.is_none() {
                lit_at = Some(flat.len());
                flat.push(Ty::Lits(Vec::new()));
            }
            for s in v {
                if !lits.contains(&s) {
                    lits.push(s);
                }
            }
        }
        other => {
            if !flat.contains(&other) {
                flat.push(other);
            }
        }
    };
    for m in members {
        match m {
            Ty::Union(inner) => {
                for i in inner {
                    push(i, &mut flat);
                }
            }
            other => push(other, &mut flat),
        }
    }
    if let Some(i) = lit_at {
        flat[i] = Ty::Lits(lits);
    }
    // A plain `str` takes every string of a string union.
    if flat.contains(&Ty::Str) {
        flat.retain(|t| !matches!(t, Ty::Lits(_)));
    }
    if flat.iter().any(Ty::is_any) {
        return Some(Ty::Any);
    }
    match flat.len() {
        0 => None,
        1 => flat.pop(),
        _ => Some(Ty::Union(flat)),
    }
}

/// A dagf string literal, or `None` when it holds a character dagf strings cannot
/// write.
fn string_literal(s: &str) -> Option<String> {
    dagf_syntax::unwritable_char(s)
        .is_none()
        .then(|| dagf_syntax::quote(s))
}

fn quote(s: &str) -> String {
    string_literal(s).unwrap_or_else(|| format!("{s:?}"))
}

/// A described default value (see the helper's `describe_value`) as a dagf literal
/// with the type it is a value of, or `None` when dagf cannot write it.
fn literal(v: &Json, depth: usize) -> Option<(String, Ty)> {
    if depth > 16 {
        return None;
    }
    if let Some(us) = v.get("duration_us") {
        return duration_literal(us.as_i64()?).map(|d| (d, Ty::Duration));
    }
    if let Some(items) = v.get("list") {
        let items = items.as_array()?;
        let mut out = Vec::new();
        for i in items {
            out.push(literal(i, depth + 1)?);
        }
        let ty = common_type(out.iter().map(|(_, t)| t.clone()));
        let text = format!(
            "[{}]",
            out.into_iter()
                .map(|(s, _)| s)
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Some((text, Ty::List(Box::new(ty))));
    }
    if let Some(items) = v.get("map") {
        let items = items.as_array()?;
        let mut out = Vec::new();
        let mut tys = Vec::new();
        for pair in items {
            let key = pair.get(0)?.as_str()?;
            let (value, ty) = literal(pair.get(1)?, depth + 1)?;
            let key = if is_ident(key) && !RESERVED.contains(&key) {
                key.to_string()
            } else {
                string_literal(key)?
            };
            out.push(format!("{key} = {value}"));
            tys.push(ty);
        }
        let text = if out.is_empty() {
            "{}".to_string()
        } else {
            format!("{{ {} }}", out.join(", "))
        };
        return Some((text, Ty::Map(Box::new(common_type(tys.into_iter())))));
    }
    match v.get("v")? {
        Json::Null => Some(("none".into(), Ty::Any)),
        Json::Bool(b) => Some((b.to_string(), Ty::Bool)),
        Json::String(s) => Some((string_literal(s)?, Ty::Lits(vec![s.clone()]))),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some((i.to_string(), Ty::Int))
            } else {
                let f = n.as_f64().filter(|f| f.is_finite())?;
                let mut text = format!("{f}");
                if !text.contains('.') {
                    text.push_str(".0");
                }
                Some((text, Ty::Float))
            }
        }
        _ => None,
    }
}

/// The type every item of a list literal has, `any` when they differ.
fn common_type(mut tys: impl Iterator<Item = Ty>) -> Ty {
    let Some(first) = tys.next() else {
        return Ty::Nothing;
    };
    let first = if matches!(first, Ty::Lits(_)) {
        Ty::Str
    } else {
        first
    };
    for t in tys {
        let t = if matches!(t, Ty::Lits(_)) { Ty::Str } else { t };
        if t != first {
            return Ty::Any;
        }
    }
    first
}

/// Microseconds as a dagf duration (`1h30m`), when whole milliseconds and not negative.
fn duration_literal(micros: i64) -> Option<String> {
    if micros < 0 || micros % 1000 != 0 {
        return None;
    }
    let mut ms = micros / 1000;
    if ms == 0 {
        return Some("0s".into());
    }
    let mut out = String::new();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ] {
        if ms >= size {
            let _ = write!(out, "{}{unit}", ms / size);
            ms %= size;
        }
    }
    Some(out)
}

/// Whether a value of type `value` (a literal's) is one of `declared`.
fn fits(value: &Ty, declared: &Ty) -> bool {
    match (value, declared) {
        (_, Ty::Any) | (Ty::Nothing, _) => true,
        (v, Ty::Union(members)) => members.iter().any(|m| fits(v, m)),
        (Ty::Lits(v), Ty::Lits(allowed)) => v.iter().all(|s| allowed.contains(s)),
        (Ty::Lits(_), Ty::Str) => true,
        (Ty::Int, Ty::Float) => true,
        (Ty::List(v), Ty::List(d)) => fits(v, d),
        (Ty::Map(v), Ty::Map(d)) => fits(v, d),
        (v, d) => v == d,
    }
}

/// The type of a default when Python gives no annotation.
fn inferred(value: &Ty) -> Ty {
    match value {
        Ty::Lits(_) => Ty::Str,
        Ty::List(t) => Ty::List(Box::new(inferred(t))),
        Ty::Map(t) => Ty::Map(Box::new(inferred(t))),
        Ty::Nothing => Ty::Any,
        other => other.clone(),
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `KubernetesPodOperator` -> `kubernetes_pod`, `S3KeySensor` -> `s3_key_sensor`.
pub fn snake_name(class: &str) -> String {
    let base = class
        .strip_suffix("Operator")
        .filter(|b| !b.is_empty())
        .unwrap_or(class);
    let chars: Vec<char> = base.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "op_");
    }
    if RESERVED.contains(&out.as_str()) {
        out.push_str("_op");
    }
    out
}

/// reST markup in docstrings, as plain text with backquoted code.
fn clean_rst(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('`') {
        let (before, after) = rest.split_at(i);
        // `:role:`target`` -> the target's last name, or its title.
        let role_start = before
            .rfind(|c: char| c.is_whitespace() || c == '(')
            .map_or(0, |j| j + 1);
        let role = &before[role_start..];
        let is_role = role.starts_with(':') && role.ends_with(':') && role.len() > 2;
        out.push_str(if is_role {
            &before[..role_start]
        } else {
            before
        });
        if let Some(code) = after.strip_prefix("``")
            && let Some(end) = code.find("``")
        {
            let _ = write!(out, "`{}`", &code[..end]);
            rest = &code[end + 2..];
            continue;
        }
        let inner = &after[1..];
        let Some(end) = inner.find('`') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let body = &inner[..end];
        rest = inner[end + 1..].trim_start_matches('_');
        if is_role {
            let shown = match body.split_once('<') {
                Some((title, _)) if !title.trim().is_empty() => title.trim().to_string(),
                _ => format!(
                    "`{}`",
                    body.trim_start_matches('~')
                        .rsplit('.')
                        .next()
                        .unwrap_or(body)
                        .trim_end_matches("()")
                ),
            };
            out.push_str(&shown);
        } else {
            let _ = write!(out, "`{body}`");
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first sentence of a parameter's description, without "(templated)".
fn first_sentence(text: &str) -> String {
    let text = clean_rst(text).replace("(templated)", "");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let bytes = text.as_bytes();
    let mut cut = text.len();
    for (i, _) in text.match_indices(". ") {
        let next = bytes.get(i + 2).copied();
        let word_before = text[..i].rsplit(' ').next().unwrap_or("");
        if next.is_some_and(|b| b.is_ascii_uppercase())
            && !matches!(word_before, "e.g" | "i.e" | "etc" | "vs" | "Mr" | "Dr")
        {
            cut = i + 1;
            break;
        }
    }
    text[..cut].trim().to_string()
}

/// `///` lines of at most about `width` characters.
fn doc_lines(text: &str, indent: &str, width: usize, out: &mut String) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + 4 + line.len() + 1 + word.len() > width {
            let _ = writeln!(out, "{indent}/// {line}");
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        let _ = writeln!(out, "{indent}/// {line}");
    }
}

/// One field as written: its lines, and what it adds to the counts.
fn field(p: &Json, templated: &BTreeSet<String>, out: &mut String, stats: &mut Stats) {
    let name = p["name"].as_str().unwrap_or("");
    let required = p["required"].as_bool().unwrap_or(false);
    let mut comments: Vec<String> = Vec::new();
    if !is_ident(name) || RESERVED.contains(&name) {
        let _ = writeln!(
            out,
            "    // `{name}` is not declared: it is a word dagf reserves{}",
            if required {
                ", and the class requires it"
            } else {
                ""
            }
        );
        return;
    }
    let mapped = map_type(&p["type"]);
    comments.extend(mapped.notes);
    let missing = p["type"]["t"] == "missing";
    let default = p.get("default");
    let default_lit = default.and_then(|d| literal(d, 0));
    let default_is_none = default.is_some_and(|d| d.get("v") == Some(&Json::Null));
    let mut ty = match mapped.ty {
        Some(t) => t,
        None if missing => match &default_lit {
            Some((_, t)) if !default_is_none => {
                comments.push("no annotation: the type is the default's".into());
                inferred(t)
            }
            _ => {
                comments.push("no annotation".into());
                Ty::Any
            }
        },
        None => {
            let t = &p["type"];
            let shown = match t["of"].as_array() {
                Some(members) if t["t"] == "union" => members
                    .iter()
                    .filter(|m| {
                        m["t"] != "none"
                            && m["t"] != "sentinel"
                            && !is_sentinel(m["name"].as_str().unwrap_or(""))
                    })
                    .map(py_text)
                    .collect::<Vec<_>>()
                    .join(" | "),
                _ => py_text(t),
            };
            comments.push(format!(
                "widened to `any`: dagf has no value of class {shown}"
            ));
            Ty::Any
        }
    };
    if ty == Ty::Lits(Vec::new()) {
        ty = Ty::Str;
    }
    let nullable = mapped.nullable;
    let type_text;
    let mut default_text = None;
    if required {
        type_text = ty.text();
    } else if default_is_none {
        type_text = ty.optional_text();
    } else {
        match (&default_lit, default) {
            (Some((text, vt)), _) if fits(vt, &ty) => {
                type_text = if nullable {
                    ty.optional_text()
                } else {
                    ty.text()
                };
                default_text = Some(text.clone());
            }
            (Some((text, _)), _) => {
                comments.push(format!(
                    "Python's default `{text}` is not a `{}`, so none is written",
                    ty.text()
                ));
                type_text = ty.optional_text();
            }
            (None, Some(d)) => {
                let shown = d["repr"]
                    .as_str()
                    .map(|s| s.chars().take(60).collect::<String>())
                    .unwrap_or_else(|| "its default".to_string());
                comments.push(format!(
                    "the default, `{shown}`, has no dagf form, so none is written"
                ));
                type_text = ty.optional_text();
            }
            (None, None) => type_text = ty.optional_text(),
        }
    }
    stats.fields += 1;
    if ty.is_any() {
        stats.any_fields += 1;
    }
    if !comments.is_empty() {
        stats.approximated += 1;
    }
    for c in &comments {
        let _ = writeln!(out, "    // {c}");
    }
    let doc = first_sentence(p["doc"].as_str().unwrap_or(""));
    if !doc.is_empty() {
        doc_lines(&doc, "    ", 92, out);
    }
    let marker = if templated.contains(name) {
        "templated "
    } else {
        ""
    };
    match default_text {
        Some(d) => {
            let _ = writeln!(out, "    {marker}{name}: {type_text} = {d}");
        }
        None => {
            let _ = writeln!(out, "    {marker}{name}: {type_text}");
        }
    }
}

/// The declarations for the helper's `answer` to [`request`] for `targets`, and one
/// diagnostic per target it could not import. `command` is how the import was asked
/// for, written at the top of the text.
pub fn render(targets: &[String], answer: &Json, command: &str) -> Imported {
    let mut imported = Imported::default();
    let mut classes: Vec<&Json> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut skipped: Vec<(String, String)> = Vec::new();
    let mut failed: Vec<(String, String)> = Vec::new();
    for target in targets {
        let got = &answer["targets"][target.as_str()];
        if let Some(d) = target_problem(target, got) {
            imported.diagnostics.push(d);
            continue;
        }
        imported.stats.modules += got["modules"].as_u64().unwrap_or(0) as usize;
        for c in got["classes"].as_array().into_iter().flatten() {
            if seen.insert(c["path"].as_str().unwrap_or("").to_string()) {
                classes.push(c);
            }
        }
        for s in got["skipped"].as_array().into_iter().flatten() {
            skipped.push((
                s["path"].as_str().unwrap_or("").into(),
                s["why"].as_str().unwrap_or("").into(),
            ));
        }
        for f in got["failed"].as_array().into_iter().flatten() {
            failed.push((
                f["module"].as_str().unwrap_or("").into(),
                f["error"].as_str().unwrap_or("").into(),
            ));
        }
    }
    classes.sort_by(|a, b| a["path"].as_str().cmp(&b["path"].as_str()));
    skipped.sort();
    skipped.dedup();
    failed.sort();
    failed.dedup();
    imported.stats.skipped = skipped.len();
    imported.stats.failed_modules = failed.len();
    let names = unique_names(&classes);
    let out = &mut imported.text;
    let _ = writeln!(
        out,
        "// Operators and sensors imported from their classes by `{command}`."
    );
    let _ = writeln!(
        out,
        "// Run it again after upgrading the packages rather than editing this file by hand."
    );
    if !failed.is_empty() {
        let _ = writeln!(
            out,
            "//\n// Modules that did not import, so nothing of theirs is here:"
        );
        for (m, e) in &failed {
            let e: String = e.chars().take(160).collect();
            let _ = writeln!(out, "//   {m}: {}", e.replace('\n', " "));
        }
    }
    if !skipped.is_empty() {
        let _ = writeln!(out, "//\n// Classes left out:");
        for (p, why) in &skipped {
            let _ = writeln!(out, "//   {p}: {why}");
        }
    }
    for (c, name) in classes.iter().zip(&names) {
        out.push('\n');
        let doc = clean_rst(c["doc"].as_str().unwrap_or(""));
        if !doc.is_empty() {
            doc_lines(&doc, "", 92, out);
        }
        let sensor = c["sensor"].as_bool().unwrap_or(false);
        if sensor {
            imported.stats.sensors += 1;
        } else {
            imported.stats.operators += 1;
        }
        let path = c["path"].as_str().unwrap_or("");
        let params = c["params"].as_array().cloned().unwrap_or_default();
        let head = format!(
            "{} {name} = {}",
            if sensor { "sensor" } else { "operator" },
            quote(path)
        );
        if params.is_empty() {
            let _ = writeln!(out, "{head} {{}}");
            continue;
        }
        let _ = writeln!(out, "{head} {{");
        let templated: BTreeSet<String> = c["templated"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        for p in &params {
            field(p, &templated, out, &mut imported.stats);
        }
        let _ = writeln!(out, "}}");
    }
    imported
}

/// A dagf name for each class: its own, or qualified by its module's last segment when
/// two classes would share one.
fn unique_names(classes: &[&Json]) -> Vec<String> {
    let plain: Vec<String> = classes
        .iter()
        .map(|c| snake_name(c["name"].as_str().unwrap_or("")))
        .collect();
    let mut taken = BTreeSet::new();
    let mut out = Vec::new();
    for (i, c) in classes.iter().enumerate() {
        let shared = plain.iter().filter(|n| **n == plain[i]).count() > 1;
        let mut name = if shared {
            let path = c["path"].as_str().unwrap_or("");
            let module = path.rsplit('.').nth(1).unwrap_or("");
            format!("{module}_{}", plain[i])
        } else {
            plain[i].clone()
        };
        let base = name.clone();
        let mut n = 2;
        while !taken.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

/// What is wrong with one target's answer, if anything.
fn target_problem(target: &str, got: &Json) -> Option<Diagnostic> {
    if got["found"] == true {
        if got["classes"].as_array().is_none_or(|c| c.is_empty()) {
            let left = got["skipped"].as_array().map_or(0, Vec::len);
            let mut d = Diagnostic::new(
                Code::E0713,
                format!("`{target}` defines no operator or sensor class to import"),
            )
            .with_help("name a module that defines operators (such as `airflow.providers.docker.operators`), a package of them, or a class");
            if left > 0 {
                d = d.with_note(format!(
                    "{left} class{} left out: private, abstract, deprecated or another name for a class",
                    if left == 1 { " was" } else { "es were" }
                ));
            }
            return Some(d);
        }
        return None;
    }
    let error = got["error"].as_str().unwrap_or("");
    let module = got["module"].as_str().unwrap_or(target);
    let d = match got["problem"].as_str().unwrap_or("") {
        "import" => {
            let mut d = Diagnostic::new(
                Code::E0711,
                format!("module `{module}` fails to import: {error}"),
            )
            .with_help("install what it imports into this environment (or choose the interpreter that has it with --python), or fix the module");
            if let Some(trace) = got["trace"].as_str().filter(|t| !t.is_empty()) {
                d = d.with_note(trace.trim_end().to_string());
            }
            d
        }
        "attribute" => {
            let attr = got["attribute"].as_str().unwrap_or("");
            let names = strings(&got["names"]);
            Diagnostic::new(Code::E0710, format!("module `{module}` has no `{attr}`"))
                .with_suggestion(attr, names.iter().map(String::as_str))
                .or_help("write the module's path and the class's name as the class's own module defines it")
        }
        "kind" => Diagnostic::new(
            Code::E0712,
            format!(
                "`{target}` is {}, not an operator class",
                dagf_syntax::with_article(got["kind"].as_str().unwrap_or("something else"))
            ),
        )
        .with_help("name a class that derives from BaseOperator, or a module that defines such classes"),
        "not_operator" => Diagnostic::new(
            Code::E0712,
            format!("`{target}` is a class, but not an operator: it does not derive from BaseOperator"),
        )
        .with_note(format!(
            "its bases: {}",
            strings(&got["bases"]).join(", ")
        ))
        .with_help("name a class that derives from BaseOperator (or BaseSensorOperator), or a module that defines such classes"),
        "path" => Diagnostic::new(Code::E0710, format!("`{target}` is not a dotted Python path"))
            .with_help("write a module (`airflow.providers.docker.operators`) or a class (`airflow.providers.docker.operators.docker.DockerOperator`)"),
        _ => Diagnostic::new(
            Code::E0710,
            format!("no module named `{module}` in this environment"),
        )
        .with_help("install the package that provides it (or choose the interpreter that has it with --python), or correct the path"),
    };
    Some(d)
}

/// The name the declarations have while they are compiled.
const CHECKED_NAME: &str = "imported.dagf";

/// Compiles the declarations alone: the errors (at the text, as `imported.dagf`) and
/// the sources to show them with. No errors is the promise `render` keeps.
pub fn check(text: &str) -> (Vec<Diagnostic>, dagf_diag::Sources) {
    let checked = dagf_sema::check_text(CHECKED_NAME, text);
    let errors = checked
        .diagnostics
        .into_sorted()
        .into_iter()
        .filter(|d| d.code.severity() == dagf_diag::Severity::Error)
        .collect();
    (errors, checked.sources)
}

fn strings(v: &Json) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_without_operator() {
        assert_eq!(snake_name("KubernetesPodOperator"), "kubernetes_pod");
        assert_eq!(snake_name("S3KeySensor"), "s3_key_sensor");
        assert_eq!(snake_name("GCSToBigQueryOperator"), "gcs_to_big_query");
        assert_eq!(snake_name("SQLExecuteQueryOperator"), "sql_execute_query");
        assert_eq!(snake_name("EmptyOperator"), "empty");
        assert_eq!(snake_name("GroupOperator"), "group_op");
    }

    #[test]
    fn types_map_unions_optionals_and_literals() {
        let t = json!({"t": "union", "of": [{"t": "str"}, {"t": "list", "of": {"t": "str"}, "py": "list"}, {"t": "none"}]});
        let m = map_type(&t);
        assert!(m.nullable);
        assert_eq!(
            m.ty.map(|t| t.optional_text()).as_deref(),
            Some("(str | list<str>)?")
        );
        let t = json!({"t": "literal", "values": ["a", "b", null]});
        let m = map_type(&t);
        assert_eq!(m.ty.map(|t| t.text()).as_deref(), Some("\"a\" | \"b\""));
        let t = json!({"t": "union", "of": [{"t": "str"}, {"t": "class", "name": "airflow.sdk.ArgNotSet"}]});
        let m = map_type(&t);
        assert_eq!(m.ty, Some(Ty::Str));
        assert!(m.notes.is_empty());
        let t = json!({"t": "union", "of": [{"t": "str"}, {"t": "class", "name": "k8s.V1Pod"}]});
        let m = map_type(&t);
        assert_eq!(m.ty, Some(Ty::Str));
        assert_eq!(m.notes.len(), 1);
    }

    #[test]
    fn literals_are_written_as_dagf_reads_them() {
        assert_eq!(duration_literal(5_400_000_000).as_deref(), Some("1h30m"));
        assert_eq!(duration_literal(1), None);
        assert_eq!(
            string_literal("a\"${b}\n").as_deref(),
            Some("\"a\\\"\\${b}\\n\"")
        );
        assert_eq!(string_literal("\u{1}"), None);
        assert_eq!(
            literal(&json!({"v": 60.0}), 0),
            Some(("60.0".to_string(), Ty::Float))
        );
        let mixed = literal(&json!({"list": [{"v": 1}, {"v": "a"}]}), 0).map(|l| l.1);
        assert!(!mixed.is_some_and(|t| fits(&t, &Ty::List(Box::new(Ty::Str)))));
        let empty = literal(&json!({"list": []}), 0).map(|l| l.1);
        assert!(empty.is_some_and(|t| fits(&t, &Ty::List(Box::new(Ty::Str)))));
        let text = literal(&json!({"map": [["a-b", {"v": 1}], ["c", {"v": 2}]]}), 0).map(|l| l.0);
        assert_eq!(text.as_deref(), Some("{ \"a-b\" = 1, c = 2 }"));
    }

    #[test]
    fn docs_lose_rest_markup_and_keep_the_first_sentence() {
        assert_eq!(
            first_sentence("The image, e.g. ``ubuntu``. See :class:`~airflow.models.Foo`."),
            "The image, e.g. `ubuntu`."
        );
        assert_eq!(
            clean_rst("Uses :ref:`the guide <howto/operator:x>` and :class:`~a.b.C`"),
            "Uses the guide and `C`"
        );
    }
}
