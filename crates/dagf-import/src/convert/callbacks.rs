//! Callbacks: `on_*_callback` given as a dotted path, as a `{callback: ..., args}`
//! mapping, or as a function name with the file it is in (`*_callback_name` and
//! `*_callback_file`); each becomes a `callback` declaration of the file.

use super::{Conv, snake, unique};
use crate::emit::{self, Callback, VK, Val};
use crate::yaml::{Node, V};
use dagf_diag::{Code, Diagnostic, Span};

pub(super) const CALLBACKS: [&str; 5] = [
    "on_execute_callback",
    "on_success_callback",
    "on_failure_callback",
    "on_retry_callback",
    "on_skipped_callback",
];

pub(super) fn callback_base(key: &str) -> Option<&str> {
    key.strip_suffix("_name")
        .or_else(|| key.strip_suffix("_file"))
        .filter(|b| CALLBACKS.contains(b))
}

impl Conv {
    /// A callback field, from `X` or from `X_name` + `X_file` (which win, as in
    /// `get_dag_params` and `adjust_general_task_params`).
    pub(super) fn callback_field(&mut self, map: &Node, base: &str) -> Option<Val> {
        let name = map.get(&format!("{base}_name")).filter(|n| !n.is_null());
        let file = map.get(&format!("{base}_file")).filter(|n| !n.is_null());
        match (name, file) {
            (Some(n), Some(f)) => self.callable_from_file(n, f),
            (Some(one), None) | (None, Some(one)) => {
                let missing = if name.is_some() { "_file" } else { "_name" };
                self.ignored(
                    Diagnostic::at(
                        Code::W0601,
                        one.span,
                        format!("dag-factory 1.1 ignores this without `{base}{missing}`"),
                        "ignored",
                    )
                    .with_help(format!(
                        "give both `{base}_name` and `{base}_file`, or a dotted path in `{base}`"
                    )),
                );
                map.get(base)
                    .filter(|n| !n.is_null())
                    .and_then(|n| self.callback(n))
            }
            (None, None) => map
                .get(base)
                .filter(|n| !n.is_null())
                .and_then(|n| self.callback(n)),
        }
    }

    /// `DagBuilder.set_callback`: a dotted path, or `{callback: path, **arguments}`.
    pub(super) fn callback(&mut self, node: &Node) -> Option<Val> {
        let span = node.span;
        match &node.v {
            V::Null => Some(Val::new(VK::None, span)),
            V::Str(path) => Some(Val::new(VK::Str(path.clone()), span)),
            V::Map(entries) => {
                let Some(path) = node.get("callback").and_then(Node::as_str) else {
                    self.invalid(
                        span,
                        "a callback mapping needs `callback:` with the dotted path of the callable",
                        "no `callback`",
                        "write `callback: module.function` and the arguments beside it",
                    );
                    return None;
                };
                let mut args = Vec::new();
                for (k, v) in entries.iter().filter(|(k, _)| k.text != "callback") {
                    if !emit::is_ident(&k.text) {
                        self.cannot(
                            k.span,
                            format!("`{}` cannot be written as an argument name in dagf", k.text),
                            "not a dagf name",
                            "rename the argument",
                        );
                        return None;
                    }
                    args.push((k.text.clone(), self.generic(v)?));
                }
                Some(self.declare_callback(path, args, span))
            }
            V::List(_) => {
                self.invalid(
                    span,
                    "dag-factory 1.1 takes one callback here, not a list",
                    "a list",
                    "give one dotted path (or one `callback:` mapping)",
                );
                None
            }
            _ => {
                self.invalid(
                    span,
                    format!(
                        "a callback is a dotted path or a `callback:` mapping, not {}",
                        node.kind()
                    ),
                    "not a callback",
                    "write the callable's dotted path, such as `alerts.notify_failure`",
                );
                None
            }
        }
    }

    /// A `callback` declaration for a callable with arguments. A class (a name starting
    /// with a capital letter) is taken for a notifier, which dag-factory instantiates;
    /// a function gets its arguments bound with `functools.partial`.
    fn declare_callback(&mut self, path: &str, args: Vec<(String, Val)>, span: Span) -> Val {
        let last = path.rsplit('.').next().unwrap_or(path);
        let is_notifier = last.starts_with(|c: char| c.is_ascii_uppercase());
        let printed = format!(
            "{path}({})",
            args.iter()
                .map(|(k, v)| format!("{k}={}", emit::text_of(v)))
                .collect::<Vec<_>>()
                .join(",")
        );
        if let Some(&i) = self.callbacks.get(&printed) {
            return Val::new(VK::Ref(self.doc.callbacks[i].name.clone()), span);
        }
        let taken: Vec<String> = self.doc.callbacks.iter().map(|c| c.name.clone()).collect();
        let name = unique(&snake(last), &taken, self.std);
        self.callbacks.insert(printed, self.doc.callbacks.len());
        self.doc.callbacks.push(Callback {
            name: name.clone(),
            is_notifier,
            path: path.to_string(),
            args,
            span,
        });
        Val::new(VK::Ref(name), span)
    }

    /// `utils.get_python_callable`: the function `name` of the file `file`, which
    /// dag-factory loads as the module named after the file. dagf imports it by that
    /// module name.
    pub(super) fn callable_from_file(&mut self, name: &Node, file: &Node) -> Option<Val> {
        let (Some(n), Some(f)) = (name.as_str(), file.as_str()) else {
            let bad = if name.as_str().is_none() { name } else { file };
            self.invalid(
                bad.span,
                format!("expected a string, found {}", bad.kind()),
                "not a string",
                "write the function's name and the file's absolute path",
            );
            return None;
        };
        if !f.starts_with('/') && !f.starts_with('$') {
            self.invalid(
                file.span,
                "dag-factory 1.1 requires an absolute path to the Python file",
                "not absolute",
                "write the file's absolute path",
            );
            return None;
        }
        let base = f.rsplit('/').next().unwrap_or(f);
        let stem = match base.rsplit_once('.') {
            Some((s, _)) if !s.is_empty() => s,
            _ => base,
        };
        for (part, span) in [(stem, file.span), (n, name.span)] {
            if !emit::is_ident(part) {
                self.cannot(
                    span,
                    format!("`{part}` cannot be part of a Python dotted path"),
                    "not an identifier",
                    "rename the file or the function so both are Python identifiers",
                );
                return None;
            }
        }
        Some(Val::new(
            VK::Str(format!("{stem}.{n}")),
            name.span.to(file.span),
        ))
    }
}
