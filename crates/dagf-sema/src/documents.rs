//! Config documents that extend base documents: `extends: base.yaml` (or a list) at the
//! top of a document. The merge follows the mixin rules: records merge key by key,
//! lists add the items they lack, and two documents that set one value differently
//! conflict (both are named) unless the extending document writes it under `override:`.

use crate::modules::resolve_path;
use crate::value::{V, Value};
use dagf_diag::{Code, Diagnostic, FileId, Sources, Span};
use std::collections::HashMap;
use std::rc::Rc;

/// The keys a document uses to inherit; they are not data.
const EXTENDS: &str = "extends";
const OVERRIDE: &str = "override";

/// The base documents a document names, with where each is named.
pub fn bases(doc: &Value) -> Vec<(String, Span)> {
    let Some(v) = field(doc, EXTENDS) else {
        return Vec::new();
    };
    match &v.v {
        V::Str(s) => vec![(s.to_string(), v.span)],
        V::List(xs) => xs
            .iter()
            .filter_map(|x| match &x.v {
                V::Str(s) => Some((s.to_string(), x.span)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn field<'v>(doc: &'v Value, name: &str) -> Option<&'v Value> {
    match &doc.v {
        V::Record(fields) => fields.iter().find(|(k, _)| &**k == name).map(|(_, v)| v),
        _ => None,
    }
}

/// Resolves documents against their bases (read earlier into `sources`, by path in `files`).
pub struct Inheritance<'a> {
    pub sources: &'a Sources,
    pub files: &'a HashMap<String, FileId>,
    pub format: &'a str,
    pub diags: Vec<Diagnostic>,
    /// The bases being resolved, innermost last, each with the `extends` that named
    /// it: a base met again is a cycle, and these are its steps.
    stack: Vec<(FileId, Span)>,
    /// While bases are merged: the `extends` naming them (where `override:` resolves
    /// a conflict between them).
    extending: Option<Span>,
}

impl<'a> Inheritance<'a> {
    pub fn new(sources: &'a Sources, files: &'a HashMap<String, FileId>, format: &'a str) -> Self {
        Inheritance {
            sources,
            files,
            format,
            diags: Vec::new(),
            stack: Vec::new(),
            extending: None,
        }
    }

    /// `doc` merged onto its bases, without `extends` and `override`; a document that
    /// extends nothing is returned as it is. `None` when an error was reported.
    pub fn resolve(&mut self, doc: Value) -> Option<Value> {
        let V::Record(fields) = &doc.v else {
            return Some(doc);
        };
        let extends = fields
            .iter()
            .find(|(k, _)| &**k == EXTENDS)
            .map(|(_, v)| v.clone());
        let overrides = fields
            .iter()
            .find(|(k, _)| &**k == OVERRIDE)
            .map(|(_, v)| v.clone());
        let Some(extends) = extends else {
            if let Some(o) = overrides {
                self.diags.push(
                    Diagnostic::at(Code::E0501, self.key_span(OVERRIDE, o.span), "`override:` in a document that extends nothing", "nothing to override")
                        .with_help("add `extends: BASE` naming the base document, or move these keys up into the document"),
                );
                return None;
            }
            return Some(doc);
        };
        let own: Vec<(Rc<str>, Value)> = fields
            .iter()
            .filter(|(k, _)| &**k != EXTENDS && &**k != OVERRIDE)
            .cloned()
            .collect();
        let names = match &extends.v {
            V::Str(_) => vec![extends.clone()],
            V::List(xs) if !xs.is_empty() && xs.iter().all(|x| matches!(x.v, V::Str(_))) => {
                xs.to_vec()
            }
            _ => {
                self.diags.push(
                    Diagnostic::at(Code::E0501, extends.span, "`extends` names base documents", "not a path or a list of paths")
                        .with_help("write `extends: base.yaml` or `extends: [a.yaml, b.yaml]`, relative to this document"),
                );
                return None;
            }
        };
        let here = self.sources.get(doc.span.file).name.clone();
        let mut merged: Option<Value> = None;
        let mut ok = true;
        for name in names {
            let V::Str(path) = &name.v else { continue };
            let path = resolve_path(&here, path);
            let Some(&file) = self.files.get(&path) else {
                ok = false; // could not be read: reported where it was read
                continue;
            };
            let Some(base) = self.base(file, name.span) else {
                ok = false;
                continue;
            };
            merged = match merged {
                None => Some(base),
                Some(lower) => {
                    let outer = self.extending.replace(extends.span);
                    let m = self.merge(lower.clone(), base, false, "");
                    self.extending = outer;
                    ok &= m.is_some();
                    m.or(Some(lower))
                }
            };
        }
        let merged = merged?;
        if !ok {
            return None;
        }
        let own = Value::new(V::Record(Rc::new(own)), doc.span);
        let mut result = self.merge(merged, own, false, "")?;
        if let Some(o) = overrides {
            if !matches!(o.v, V::Record(_)) {
                self.diags.push(
                    Diagnostic::at(
                        Code::E0501,
                        o.span,
                        "`override:` holds the keys that replace the base's",
                        "not a mapping",
                    )
                    .with_help("write `override:` followed by indented `key: value` lines"),
                );
                return None;
            }
            result = self.merge(result, o, true, "")?;
        }
        Some(result)
    }

    /// Where `key` is written just before its value `value` (the value itself if it
    /// cannot be found).
    fn key_span(&self, key: &str, value: Span) -> Span {
        // Not `config::key_written`: a mapping's span starts at its first entry, so the
        // text between `override` and it holds that entry's key.
        let text = &self.sources.get(value.file).text;
        let before = &text[..(value.start as usize).min(text.len())];
        match before.rfind(key) {
            Some(at) => Span::new(value.file, at, at + key.len()),
            None => value,
        }
    }

    /// E0501 for `file`, named again at `named_at` while it is being resolved (from
    /// `start` in the stack, or by itself): every `extends` of the cycle is labelled.
    fn cycle(&self, file: FileId, start: Option<usize>, named_at: Span) -> Diagnostic {
        let name = |f: FileId| format!("`{}`", self.sources.get(f).name);
        let steps = start.map_or(&[][..], |i| &self.stack[i + 1..]);
        let mut chain = vec![name(file)];
        chain.extend(steps.iter().map(|(f, _)| name(*f)));
        chain.push(name(file));
        let mut d = Diagnostic::at(
            Code::E0501,
            named_at,
            format!(
                "documents extend each other in a cycle: {} extends {}",
                chain[0],
                chain[1..].join(", which extends ")
            ),
            format!("this leads back to {}", name(file)),
        );
        for (f, at) in steps {
            d = d.with_label(*at, format!("extends {}", name(*f)));
        }
        d.with_help("documents extend each other in a chain that ends: remove one `extends`")
    }

    /// The one document of a base file, resolved against its own bases.
    fn base(&mut self, file: FileId, named_at: Span) -> Option<Value> {
        let start = self.stack.iter().position(|(f, _)| *f == file);
        if start.is_some() || named_at.file == file {
            self.diags.push(self.cycle(file, start, named_at));
            return None;
        }
        let docs = match crate::config::parse(self.format, &self.sources.get(file).text, file) {
            Ok(d) => d,
            Err(d) => {
                self.diags.push(*d);
                return None;
            }
        };
        let Ok([doc]) = <[Value; 1]>::try_from(docs) else {
            self.diags.push(
                Diagnostic::at(
                    Code::E0501,
                    named_at,
                    format!(
                        "the base `{}` holds several documents",
                        self.sources.get(file).name
                    ),
                    "extended here",
                )
                .with_help("a base is one document: split the file"),
            );
            return None;
        };
        self.stack.push((file, named_at));
        let resolved = self.resolve(doc);
        self.stack.pop();
        resolved
    }

    /// `upper` merged onto `lower`: records key by key, lists adding what they lack;
    /// scalars must agree unless `forced` (then `upper` wins).
    fn merge(&mut self, lower: Value, upper: Value, forced: bool, key: &str) -> Option<Value> {
        match (&lower.v, &upper.v) {
            (V::Record(a), V::Record(b)) => {
                let mut out: Vec<(Rc<str>, Value)> = a.to_vec();
                let mut ok = true;
                for (k, v) in b.iter() {
                    match out.iter().position(|(n, _)| n == k) {
                        Some(i) => {
                            match self.merge(out[i].1.clone(), v.clone(), forced, &join(key, k)) {
                                Some(m) => out[i].1 = m,
                                None => ok = false,
                            }
                        }
                        None => out.push((k.clone(), v.clone())),
                    }
                }
                ok.then(|| Value::new(V::Record(Rc::new(out)), upper.span))
            }
            _ if forced => Some(upper),
            (V::List(a), V::List(b)) => {
                let mut out = a.to_vec();
                for x in b.iter() {
                    if !out.iter().any(|y| x.same(y)) {
                        out.push(x.clone());
                    }
                }
                Some(Value::new(V::List(Rc::new(out)), upper.span))
            }
            _ if lower.same(&upper) => Some(upper),
            _ => {
                let name = |s: Span| self.sources.get(s.file).name.clone();
                let (low, up) = (name(lower.span), name(upper.span));
                let mut d = Diagnostic::at(
                    Code::E0504,
                    upper.span,
                    format!("`{key}` is set to different values by `{up}` and `{low}`"),
                    format!("set here in `{up}`"),
                )
                .with_label(lower.span, format!("and here in `{low}`"));
                if let Some(at) = self.extending {
                    d = d.with_label(
                        at,
                        format!(
                            "both are extended here: `override:` in this document settles `{key}`"
                        ),
                    );
                }
                self.diags.push(
                    d
                    .with_help(match self.extending {
                        Some(_) => format!("put `{key}` under `override:` in the document that extends both, or make the two agree"),
                        None => format!("to replace the value from `{low}`, put `{key}` under `override:` in `{up}`; or make the two agree"),
                    }),
                );
                None
            }
        }
    }
}

/// `a.b`: the path of a key inside a record at `path`.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves the first document of `files[0]`, with every file readable by path.
    fn resolve(files: &[(&str, &str)]) -> (Option<Value>, Vec<Diagnostic>) {
        let mut sources = Sources::new();
        let mut by_path = HashMap::new();
        for (name, text) in files {
            let id = sources.add(*name, *text);
            by_path.insert(name.to_string(), id);
        }
        let first = by_path[files[0].0];
        let doc = crate::config::parse("yaml", &sources.get(first).text, first)
            .expect("parses")
            .remove(0);
        let mut inh = Inheritance::new(&sources, &by_path, "yaml");
        let v = inh.resolve(doc);
        (v, inh.diags)
    }

    fn get<'v>(v: &'v Value, key: &str) -> &'v Value {
        field(v, key).unwrap_or_else(|| panic!("no `{key}`"))
    }

    fn strs(v: &Value) -> Vec<String> {
        match &v.v {
            V::List(xs) => xs
                .iter()
                .map(|x| match &x.v {
                    V::Str(s) => s.to_string(),
                    other => format!("{other:?}"),
                })
                .collect(),
            other => panic!("not a list: {other:?}"),
        }
    }

    #[test]
    fn records_merge_key_by_key_and_lists_add_what_they_lack() {
        let (v, diags) = resolve(&[
            (
                "c/child.yaml",
                "extends: base.yaml\nname: orders\ntags: [b, c]\nargs: {x: 1}\n",
            ),
            ("c/base.yaml", "owner: data\ntags: [a, b]\nargs: {y: 2}\n"),
        ]);
        assert!(diags.is_empty(), "{diags:?}");
        let v = v.expect("resolved");
        assert!(field(&v, "extends").is_none());
        assert!(matches!(&get(&v, "owner").v, V::Str(s) if &**s == "data"));
        assert_eq!(strs(get(&v, "tags")), ["a", "b", "c"]);
        let args = get(&v, "args");
        assert!(matches!(get(args, "x").v, V::Int(1)));
        assert!(matches!(get(args, "y").v, V::Int(2)));
    }

    #[test]
    fn a_value_set_differently_conflicts_and_names_both_documents() {
        let (v, diags) = resolve(&[
            ("child.yaml", "extends: base.yaml\nretries: 3\n"),
            ("base.yaml", "retries: 2\n"),
        ]);
        assert!(v.is_none());
        assert_eq!(diags.len(), 1);
        let d = &diags[0];
        assert_eq!(d.code, Code::E0504);
        assert!(
            d.message.contains("`retries`")
                && d.message.contains("child.yaml")
                && d.message.contains("base.yaml"),
            "{}",
            d.message
        );
        let files: Vec<u32> = d
            .primary
            .iter()
            .chain(&d.secondary)
            .map(|l| l.span.file.0)
            .collect();
        assert_eq!(files, [0, 1], "a label in each document");
    }

    #[test]
    fn override_replaces_and_two_bases_must_agree() {
        let (v, diags) = resolve(&[
            (
                "child.yaml",
                "extends: [a.yaml, b.yaml]\noverride:\n  retries: 5\n  tags: [z]\n",
            ),
            ("a.yaml", "retries: 2\ntags: [x]\n"),
            ("b.yaml", "retries: 2\nqueue: q\n"),
        ]);
        assert!(diags.is_empty(), "{diags:?}");
        let v = v.expect("resolved");
        assert!(matches!(get(&v, "retries").v, V::Int(5)));
        assert_eq!(strs(get(&v, "tags")), ["z"]);
        assert!(matches!(&get(&v, "queue").v, V::Str(s) if &**s == "q"));

        let (v, diags) = resolve(&[
            ("child.yaml", "extends: [a.yaml, b.yaml]\n"),
            ("a.yaml", "queue: fast\n"),
            ("b.yaml", "queue: slow\n"),
        ]);
        assert!(v.is_none());
        assert_eq!(diags[0].code, Code::E0504);
        assert!(diags[0].message.contains("b.yaml") && diags[0].message.contains("a.yaml"));
    }

    #[test]
    fn cycles_and_misuse_are_errors_not_loops() {
        let (v, diags) = resolve(&[
            ("a.yaml", "extends: b.yaml\nx: 1\n"),
            ("b.yaml", "extends: a.yaml\ny: 1\n"),
        ]);
        assert!(v.is_none());
        assert_eq!(diags[0].code, Code::E0501);
        assert_eq!(
            diags[0].message,
            "documents extend each other in a cycle: `b.yaml` extends `a.yaml`, which extends `b.yaml`"
        );
        assert_eq!(diags[0].secondary.len(), 1, "{:?}", diags[0].secondary);

        let (v, diags) = resolve(&[("a.yaml", "override:\n  x: 1\n")]);
        assert!(v.is_none());
        assert_eq!(diags[0].code, Code::E0501);

        let (v, diags) = resolve(&[("a.yaml", "extends: 3\n")]);
        assert!(v.is_none());
        assert_eq!(diags[0].code, Code::E0501);
    }
}
