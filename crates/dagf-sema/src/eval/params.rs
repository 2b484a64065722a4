//! Typed dag params: `params { NAME: TYPE = DEFAULT }` declarations through the layers,
//! the `params` map setting their defaults, `{{ params.NAME }}` references, and each
//! param as an Airflow `Param` with its JSON Schema.

use super::*;
use crate::dag::ParamB;
use crate::layers::conflict;
use dagf_ir::Value as I;

impl Cx<'_> {
    /// Declares (or, with `override`, redeclares) the params of one `params { ... }` block.
    pub(super) fn typed_params(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        decls: &[ast::Param],
        is_override: bool,
        dag: &mut DagB,
    ) {
        // A profile has the environment's last word, as for fields.
        let is_override = is_override || matches!(dag.layer, Layer::Profile(_));
        for p in decls {
            let mut found = Diagnostics::new();
            let ty = crate::types::resolve(self.prog, m, &p.ty, &mut Vec::new(), &mut found);
            let failed = !found.is_empty();
            for d in found.into_sorted() {
                self.err(d);
            }
            if failed {
                self.failed_param(dag, p);
                continue;
            }
            if schema(&ty).is_none() {
                self.err(
                    Diagnostic::at(
                        Code::E0331,
                        p.ty.span,
                        format!("the param `{}` has a type a trigger form cannot hold: `{ty}`", p.name.name),
                        "no JSON Schema for this type",
                    )
                    .with_help("a param is a str, int, float, bool, date, datetime, a string union, or a list, map or optional of one (with `in` and `matches` constraints)"),
                );
                self.failed_param(dag, p);
                continue;
            }
            let default = match &p.default {
                Some(e) => {
                    let v = self.expr(m, env, e, Some(dag));
                    let v = self.coerce(v, &ty, Some(p.ty.span));
                    if v.is_error() {
                        self.failed_param(dag, p);
                        continue;
                    }
                    Some(v)
                }
                None if ty.is_optional() => None,
                None => {
                    self.err(
                        Diagnostic::at(
                            Code::E0202,
                            p.name.span,
                            format!("the param `{}` has no default", p.name.name),
                            "no default",
                        )
                        .with_help(format!(
                            "give it one (`{0}: {ty} = ...`), or make it optional (`{0}: {ty}?`): a run started without it, such as a scheduled run, would fail",
                            p.name.name
                        )),
                    );
                    self.failed_param(dag, p);
                    continue;
                }
            };
            let new = ParamB {
                name: Rc::from(p.name.name.as_str()),
                ty,
                default,
                doc: (!p.docs.is_empty()).then(|| {
                    let lines: Vec<&str> = p
                        .docs
                        .iter()
                        .map(|l| l.strip_prefix(' ').unwrap_or(l))
                        .collect();
                    lines.join("\n").trim().to_string()
                }),
                layer: dag.layer,
                span: p.span,
            };
            self.declare_param(dag, new, is_override);
        }
    }

    /// A param whose declaration was wrong (and reported) is still declared: templates
    /// that read it are not a second mistake. The dag has an error, so it is never written.
    fn failed_param(&self, dag: &mut DagB, p: &ast::Param) {
        if !dag.params.iter().any(|q| *q.name == p.name.name) {
            dag.params.push(ParamB {
                name: Rc::from(p.name.name.as_str()),
                ty: Ty::Error,
                default: None,
                doc: None,
                layer: dag.layer,
                span: p.span,
            });
        }
    }

    fn declare_param(&mut self, dag: &mut DagB, new: ParamB, is_override: bool) {
        let Some(i) = dag.params.iter().position(|q| q.name == new.name) else {
            if is_override && !matches!(new.layer, Layer::Policy(_) | Layer::Profile(_)) {
                self.err(
                    Diagnostic::at(
                        Code::E0213,
                        new.span,
                        format!("`override params` replaces nothing for `{}`", new.name),
                        "nothing declared this param before",
                    )
                    .with_help("remove `override`: no earlier layer declares this param"),
                );
                // Still declared for what reads it: one mistake, one error.
                dag.params.push(ParamB {
                    ty: Ty::Error,
                    ..new
                });
                return;
            }
            dag.params.push(new);
            return;
        };
        let old = &dag.params[i];
        if matches!(old.ty, Ty::Error) {
            // Its declaration was wrong and reported.
            dag.params[i] = new;
            return;
        }
        if old.layer == new.layer {
            self.err(set_twice(
                &format!("the param `{}` is declared twice", new.name),
                new.span,
                old.span,
                "declare each param once",
            ));
            return;
        }
        let same = old.ty.to_string() == new.ty.to_string()
            && old.doc == new.doc
            && match (&old.default, &new.default) {
                (Some(a), Some(b)) => a.same(b),
                (None, None) => true,
                _ => false,
            };
        if same || is_override {
            dag.params[i] = new;
            return;
        }
        let layers = Layers {
            prog: self.prog,
            mixins: &self.mixin_uses,
            made_from: dag.made_from.as_ref().map(|(n, _)| n.as_str()),
        };
        let mut d = conflict(
            &format!("params.{}", new.name),
            new.span,
            old.span,
            old.layer,
            new.layer,
            &layers,
        );
        d.help = Some(format!(
            "write `override params {{ {}: ... }}` if this layer should win, or declare it once",
            new.name
        ));
        self.err(d);
    }

    /// Once every layer has run: the `params` map's keys set the defaults of typed
    /// params (each checked against its type), and the map is gone.
    pub(super) fn settle_params(&mut self, dag: &mut DagB) {
        if dag.params.is_empty() {
            return;
        }
        let Some(at) = dag.slots.iter().position(|s| &*s.name == "params") else {
            return;
        };
        let map = dag.slots.remove(at);
        let V::Record(entries) = &map.value.v else {
            return;
        };
        for (k, v) in entries.iter() {
            let Some(i) = dag.params.iter().position(|p| p.name == *k) else {
                let names: Vec<&str> = dag.params.iter().map(|p| &*p.name).collect();
                let d = Diagnostic::at(
                    Code::E0332,
                    v.span,
                    format!("{} has no param `{k}`", dag.what()),
                    "not a declared param",
                )
                .with_suggestion(k, names.iter().copied())
                .or_help(format!(
                    "declare it in `params {{ {k}: TYPE = ... }}`: a dag with typed params takes values only for them"
                ))
                .with_note(format!("its params: {}", names.join(", ")));
                self.err(d);
                continue;
            };
            let decl = dag.params[i].span;
            let v = self.coerce(v.clone(), &dag.params[i].ty.clone(), Some(decl));
            if !v.is_error() {
                dag.params[i].default = Some(v);
            }
        }
    }

    /// `{{ params.NAME }}` in any string of the dag, its tasks and groups must name a
    /// param the dag declares (typed or in its `params` map); a dag with no params is
    /// not checked, since a run's conf may bring any.
    pub(super) fn param_references(&self, dag: &DagB) -> Vec<Diagnostic> {
        let names: Vec<&str> = if !dag.params.is_empty() {
            dag.params.iter().map(|p| &*p.name).collect()
        } else {
            match dag
                .slots
                .iter()
                .find(|s| &*s.name == "params")
                .map(|s| &s.value.v)
            {
                Some(V::Record(entries)) => entries.iter().map(|(k, _)| &**k).collect(),
                _ => return Vec::new(),
            }
        };
        let mut out = Vec::new();
        let slots = dag
            .slots
            .iter()
            .filter(|s| &*s.name != "params")
            .chain(dag.tasks.iter().flat_map(|t| &t.slots))
            .chain(dag.groups.iter().flat_map(|g| &g.slots));
        for s in slots {
            each_string(&s.value, &mut |text, span| {
                for used in referenced_params(text) {
                    if names.contains(&used.as_str()) {
                        continue;
                    }
                    out.push(
                        Diagnostic::at(
                            Code::E0332,
                            span,
                            format!("{} has no param `{used}`", dag.what()),
                            format!("`params.{used}` is not declared"),
                        )
                        .with_suggestion(&used, names.iter().copied())
                        .or_help(format!(
                            "declare it: `params {{ {used}: TYPE = ... }}`; Airflow renders an undeclared param only when a run's conf brings it"
                        ))
                        .with_note(format!("its params: {}", names.join(", "))),
                    );
                }
            });
        }
        out
    }
}

/// Calls `f` on every string inside a value, with the span of the string.
fn each_string(v: &Value, f: &mut dyn FnMut(&str, Span)) {
    match &v.v {
        V::Str(s) => f(s, v.span),
        V::List(xs) => xs.iter().for_each(|x| each_string(x, f)),
        V::Record(kv) => kv.iter().for_each(|(_, x)| each_string(x, f)),
        V::Callback(c) => c.args.iter().for_each(|(_, x)| each_string(x, f)),
        _ => {}
    }
}

/// The param names a Jinja template reads: `params.NAME`, `params["NAME"]` and
/// `params['NAME']` inside `{{ }}` or `{% %}`.
pub(crate) fn referenced_params(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{").into_iter().chain(rest.find("{%")).min() {
        let close = if rest[open..].starts_with("{{") {
            "}}"
        } else {
            "%}"
        };
        let inner_start = open + 2;
        let Some(len) = rest[inner_start..].find(close) else {
            break;
        };
        let inner = &rest[inner_start..inner_start + len];
        let bytes = inner.as_bytes();
        let mut from = 0;
        while let Some(at) = inner[from..].find("params") {
            let at = from + at;
            from = at + "params".len();
            let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
            if at > 0 && (word(bytes[at - 1]) || bytes[at - 1] == b'.') {
                continue;
            }
            let after = &inner[from..];
            let name: Option<&str> = if let Some(tail) = after.strip_prefix('.') {
                let end = tail.bytes().position(|b| !word(b)).unwrap_or(tail.len());
                Some(&tail[..end])
            } else if let Some(tail) = after.strip_prefix('[') {
                let tail = tail.trim_start();
                match tail.chars().next() {
                    Some(q @ ('"' | '\'')) => tail[1..].find(q).map(|end| &tail[1..1 + end]),
                    _ => None,
                }
            } else {
                None
            };
            // Methods of the params dict are not params.
            if let Some(name) = name
                && !name.is_empty()
                && !matches!(name, "get" | "items" | "keys" | "values")
                && !out.iter().any(|n| n == name)
            {
                out.push(name.to_string());
            }
        }
        rest = &rest[inner_start + len + 2..];
    }
    out
}

/// The JSON Schema keywords Airflow's `Param` passes to jsonschema for a type; `None`
/// for a type no trigger form can hold.
pub(crate) fn schema(ty: &Ty) -> Option<Vec<(String, I)>> {
    let kw = |k: &str, v: I| (k.to_string(), v);
    let ty_is = |t: &str| vec![kw("type", I::Str(t.into()))];
    Some(match ty {
        Ty::Any => Vec::new(),
        Ty::Str => ty_is("string"),
        Ty::Int => ty_is("integer"),
        Ty::Float => ty_is("number"),
        Ty::Bool => ty_is("boolean"),
        Ty::Date => vec![
            kw("type", I::Str("string".into())),
            kw("format", I::Str("date".into())),
        ],
        Ty::DateTime => vec![
            kw("type", I::Str("string".into())),
            kw("format", I::Str("date-time".into())),
        ],
        Ty::Union(names) => vec![
            kw("type", I::Str("string".into())),
            kw(
                "enum",
                I::List(names.iter().map(|n| I::Str(n.clone())).collect()),
            ),
        ],
        Ty::AnyOf(members) => vec![kw(
            "anyOf",
            I::List(
                members
                    .iter()
                    .map(|m| schema(m).map(I::Dict))
                    .collect::<Option<_>>()?,
            ),
        )],
        Ty::List(item) => {
            let mut s = ty_is("array");
            let inner = schema(item)?;
            if !inner.is_empty() {
                s.push(kw("items", I::Dict(inner)));
            }
            s
        }
        Ty::Map(item) => {
            let mut s = ty_is("object");
            let inner = schema(item)?;
            if !inner.is_empty() {
                s.push(kw("additionalProperties", I::Dict(inner)));
            }
            s
        }
        Ty::Optional(inner) => {
            let mut s = schema(inner)?;
            for (k, v) in s.iter_mut() {
                match (k.as_str(), v) {
                    ("type", v @ I::Str(_)) => {
                        let t = std::mem::replace(v, I::None);
                        *v = I::List(vec![I::Str("null".into()), t]);
                    }
                    ("enum", I::List(xs)) => xs.push(I::None),
                    ("anyOf", I::List(xs)) => xs.push(I::Dict(ty_is("null"))),
                    _ => {}
                }
            }
            s
        }
        Ty::Range {
            base,
            lo,
            hi,
            inclusive,
        } => {
            let mut s = schema(base)?;
            let number = |x: f64| match strip(base) {
                Ty::Int => I::Int(x as i64),
                _ => I::Float(x),
            };
            if !matches!(strip(base), Ty::Int | Ty::Float) {
                return None;
            }
            if let Some(lo) = lo {
                s.push(kw("minimum", number(*lo)));
            }
            if let Some(hi) = hi {
                let k = if *inclusive {
                    "maximum"
                } else {
                    "exclusiveMaximum"
                };
                s.push(kw(k, number(*hi)));
            }
            s
        }
        Ty::Matches { base, re } => {
            if !matches!(strip(base), Ty::Str) {
                return None;
            }
            let mut s = schema(base)?;
            s.push(kw("pattern", I::Str(re.as_str().to_string())));
            s
        }
        _ => return None,
    })
}

/// The type under `?` and constraints.
fn strip(ty: &Ty) -> &Ty {
    match ty {
        Ty::Optional(t) | Ty::Range { base: t, .. } | Ty::Matches { base: t, .. } => strip(t),
        t => t,
    }
}

/// A default as JSON: dates and datetimes are the strings the schema's formats read.
fn json_value(v: &Value) -> I {
    match &v.v {
        V::Date(d) => I::Str(format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)),
        V::DateTime(t) => {
            let (sign, off) = if t.offset_minutes < 0 {
                ('-', -t.offset_minutes)
            } else {
                ('+', t.offset_minutes)
            };
            I::Str(format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
                t.date.year,
                t.date.month,
                t.date.day,
                t.hour,
                t.minute,
                t.second,
                off / 60,
                off % 60
            ))
        }
        V::List(xs) => I::List(xs.iter().map(json_value).collect()),
        V::Record(kv) => I::Dict(
            kv.iter()
                .map(|(k, x)| (k.to_string(), json_value(x)))
                .collect(),
        ),
        V::Bool(b) => I::Bool(*b),
        V::Int(i) => I::Int(*i),
        V::Float(f) => I::Float(*f),
        V::Str(s) => I::Str(s.to_string()),
        _ => I::None,
    }
}

/// The `params` argument of a dag with typed params: each an Airflow `Param`.
pub(crate) fn lower_params(params: &[ParamB]) -> I {
    I::Dict(
        params
            .iter()
            .map(|p| {
                let mut args = vec![(
                    String::new(),
                    p.default.as_ref().map_or(I::None, json_value),
                )];
                if let Some(doc) = &p.doc {
                    args.push(("description".into(), I::Str(doc.clone())));
                }
                args.extend(schema(&p.ty).unwrap_or_default());
                (p.name.to_string(), I::Param(args))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_read_from_templates_only() {
        let refs = |s: &str| referenced_params(s);
        assert_eq!(
            refs("echo {{ params.mode }} {{params.batch}}"),
            ["mode", "batch"]
        );
        assert_eq!(refs("{{ params['a'] }} {{ params[\"b\"] }}"), ["a", "b"]);
        assert_eq!(refs("params.x {{ ds }}"), Vec::<String>::new());
        assert_eq!(
            refs("{{ dag_run.conf.params.x }} {{ params.get('y') }}"),
            Vec::<String>::new()
        );
        assert_eq!(refs("{% if params.full %}x{% endif %}"), ["full"]);
        assert_eq!(refs("{{ params.a"), Vec::<String>::new());
    }
}
