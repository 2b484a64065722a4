//! Values as Python expressions: flat when they fit, exploded the way ruff explodes them.

use crate::fmt::{INDENT, flat_or_exploded, join, pad};
use crate::literals::{push_py_datetime, push_py_float, push_py_str, push_py_timedelta};
use crate::tasks::Gen;
use dagf_ir::{Field, Value};
use std::fmt::Write;

/// A keyword argument's value: one from the IR, or one the generator makes.
#[derive(Copy, Clone)]
pub(crate) enum Arg<'v> {
    Value(&'v Value),
    /// A string (an id, a tooltip).
    Str(&'v str),
    /// `default_args`: fields as a dict.
    Fields(&'v [Field]),
}

/// A callable value that is called: a function with arguments bound (`partial`), or an
/// instance.
#[derive(Copy, Clone)]
pub(crate) struct Call<'v> {
    pub(crate) module: &'v str,
    pub(crate) name: &'v str,
    pub(crate) args: &'v [(String, Value)],
    pub(crate) instance: bool,
}

impl<'v> Call<'v> {
    /// The call a value makes, if any: a function with nothing bound is passed as it
    /// is; a notifier is always built.
    pub(crate) fn of(v: &'v Value, target: dagf_target::Target) -> Option<Self> {
        match v {
            Value::Param(args) => {
                let (module, name) = target.import(dagf_target::Name::Param);
                Some(Call {
                    module,
                    name,
                    args,
                    instance: true,
                })
            }
            Value::Callable {
                module,
                name,
                args,
                instance,
            } if *instance || !args.is_empty() => Some(Call {
                module,
                name,
                args,
                instance: *instance,
            }),
            _ => None,
        }
    }

    /// The arguments as written: the function a `partial` binds (`None`), then keywords.
    pub(crate) fn args(self) -> impl Iterator<Item = Option<&'v (String, Value)>> {
        (!self.instance)
            .then_some(None)
            .into_iter()
            .chain(self.args.iter().map(Some))
    }
}

impl<'a> Gen<'a> {
    /// Writes `(\n    k=v,\n    ...\n){tail}` after a call's head, always exploded: the
    /// trailing comma keeps ruff from joining it.
    pub(crate) fn kwargs_exploded<'v>(
        &self,
        out: &mut String,
        args: impl IntoIterator<Item = (&'v str, Arg<'v>)>,
        indent: usize,
        tail: &str,
    ) {
        out.push_str("(\n");
        for (k, v) in args {
            self.kwarg_line(out, k, v, indent + INDENT);
        }
        pad(out, indent);
        out.push(')');
        out.push_str(tail);
    }

    /// Writes `{indent}k=v,\n`, or `{indent}v,\n` for an empty `k` (a positional
    /// argument); a value too long for its line is exploded in turn, as ruff does.
    pub(crate) fn kwarg_line(&self, out: &mut String, k: &str, v: Arg, indent: usize) {
        pad(out, indent);
        let mut col = indent;
        if !k.is_empty() {
            out.push_str(k);
            out.push('=');
            col += k.len() + 1;
        }
        self.arg(out, v, indent, col, 1);
        out.push_str(",\n");
    }

    /// Writes an argument's value, as `value` does.
    pub(crate) fn arg(&self, out: &mut String, a: Arg, indent: usize, col: usize, after: usize) {
        match a {
            Arg::Value(v) => self.value(out, v, indent, col, after),
            Arg::Str(s) => push_py_str(out, s),
            Arg::Fields(fields) => {
                let entries = fields
                    .iter()
                    .map(|f| (f.name.as_str(), self.shown(&f.name, &f.value)));
                self.dict(out, entries, indent, col, after);
            }
        }
    }

    /// Writes a value that starts at column `col` on a line indented by `indent`,
    /// followed by `after` more characters: flat if it fits, otherwise with its outer
    /// brackets exploded.
    pub(crate) fn value(
        &self,
        out: &mut String,
        v: &Value,
        indent: usize,
        col: usize,
        after: usize,
    ) {
        let flat = |out: &mut String| self.flat(out, v);
        let inner = indent + INDENT;
        match v {
            Value::List(xs) => {
                flat_or_exploded(out, col, after, flat, |out| {
                    out.push_str("[\n");
                    for x in xs {
                        pad(out, inner);
                        self.value(out, x, inner, inner, 1);
                        out.push_str(",\n");
                    }
                    pad(out, indent);
                    out.push(']');
                });
            }
            Value::Dict(kv) => {
                let entries = kv.iter().map(|(k, x)| (k.as_str(), x));
                self.dict(out, entries, indent, col, after);
            }
            Value::AssetAll(xs) => {
                flat_or_exploded(out, col, after, flat, |out| {
                    self.asset_expr_exploded(out, xs, "& ", indent);
                });
            }
            Value::AssetAny(xs) => {
                flat_or_exploded(out, col, after, flat, |out| {
                    self.asset_expr_exploded(out, xs, "| ", indent);
                });
            }
            _ => match Call::of(v, self.target) {
                Some(call) => {
                    flat_or_exploded(out, col, after, flat, |out| {
                        self.call_exploded(out, call, indent);
                    });
                }
                None => flat(out),
            },
        }
    }

    /// Writes a dict of `entries`, as `value` does.
    pub(crate) fn dict<'v>(
        &self,
        out: &mut String,
        entries: impl Iterator<Item = (&'v str, &'v Value)> + Clone,
        indent: usize,
        col: usize,
        after: usize,
    ) {
        flat_or_exploded(
            out,
            col,
            after,
            |out| self.flat_dict(out, entries.clone()),
            |out| {
                let inner = indent + INDENT;
                out.push_str("{\n");
                for (k, x) in entries.clone() {
                    let line = out.len();
                    pad(out, inner);
                    push_py_str(out, k);
                    out.push_str(": ");
                    let col = out.len() - line;
                    self.value(out, x, inner, col, 1);
                    out.push_str(",\n");
                }
                pad(out, indent);
                out.push('}');
            },
        );
    }

    /// Writes a call too long for its line: all arguments on one indented line if they
    /// fit, else one a line.
    pub(crate) fn call_exploded(&self, out: &mut String, call: Call, indent: usize) {
        let inner = indent + INDENT;
        self.call_head(out, call);
        out.push_str("(\n");
        let one_line = flat_or_exploded(
            out,
            0,
            0,
            |out| {
                pad(out, inner);
                join(out, call.args(), ", ", |out, a| self.call_arg(out, call, a));
            },
            |out| {
                for a in call.args() {
                    match a {
                        Some((k, x)) => self.kwarg_line(out, k, Arg::Value(x), inner),
                        None => {
                            pad(out, inner);
                            self.call_arg(out, call, a);
                            out.push_str(",\n");
                        }
                    }
                }
            },
        );
        if one_line {
            out.push('\n');
        }
        pad(out, indent);
        out.push(')');
    }

    /// Writes what a call calls: an instance's class, or `partial`.
    pub(crate) fn call_head(&self, out: &mut String, call: Call) {
        out.push_str(if call.instance {
            self.imports.local(call.module, call.name)
        } else {
            self.imports.local("functools", "partial")
        });
    }

    /// Writes one argument of a call: the function a `partial` binds, or `k=v`.
    pub(crate) fn call_arg(&self, out: &mut String, call: Call, arg: Option<&(String, Value)>) {
        match arg {
            None => out.push_str(self.imports.local(call.module, call.name)),
            Some((k, x)) => {
                // An empty keyword is a positional argument.
                if !k.is_empty() {
                    out.push_str(k);
                    out.push('=');
                }
                self.flat(out, x);
            }
        }
    }

    /// Writes a value on one line.
    pub(crate) fn flat(&self, out: &mut String, v: &Value) {
        if let Some(call) = Call::of(v, self.target) {
            self.call_head(out, call);
            out.push('(');
            join(out, call.args(), ", ", |out, a| self.call_arg(out, call, a));
            out.push(')');
            return;
        }
        match v {
            Value::None => out.push_str("None"),
            Value::Bool(b) => out.push_str(if *b { "True" } else { "False" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::Float(f) => push_py_float(out, *f),
            Value::Str(s) => push_py_str(out, s),
            Value::Duration(ms) => push_py_timedelta(out, *ms),
            Value::Date(d) => {
                let _ = write!(out, "date({}, {}, {})", d.year, d.month, d.day);
            }
            Value::DateTime(t) => push_py_datetime(out, t),
            Value::List(xs) => {
                out.push('[');
                join(out, xs, ", ", |out, x| self.flat(out, x));
                out.push(']');
            }
            Value::Dict(kv) => self.flat_dict(out, kv.iter().map(|(k, x)| (k.as_str(), x))),
            Value::PyRef { module, name } | Value::Callable { module, name, .. } => {
                out.push_str(self.imports.local(module, name))
            }
            Value::Asset { uri, alias, .. } => match self
                .assets
                .iter()
                .find(|a| a.uri == uri && a.alias == *alias)
            {
                Some(asset) => out.push_str(&asset.var),
                None => {
                    out.push_str(self.name(if *alias {
                        dagf_target::Name::AssetAlias
                    } else {
                        dagf_target::Name::Asset
                    }));
                    out.push('(');
                    push_py_str(out, uri);
                    out.push(')');
                }
            },
            Value::AssetAll(xs) => self.asset_expr(out, xs, " & "),
            Value::AssetAny(xs) => self.asset_expr(out, xs, " | "),
            // Always a call, written above.
            Value::Param(_) => {}
            Value::MappedArg { param } => match self.mapped_args.borrow().get(param.as_str()) {
                Some(var) => out.push_str(var),
                // The checker lets a mapped group's item stand only in its own tasks.
                None => out.push_str("None"),
            },
            Value::Output { task, key } => {
                match self.outputs.borrow().get(task.as_str()) {
                    Some(expr) => out.push_str(expr),
                    // The checker makes every task that reads an output come after the
                    // task it comes from.
                    None => out.push_str("None"),
                }
                if let Some(k) = key {
                    out.push('[');
                    push_py_str(out, k);
                    out.push(']');
                }
            }
        }
    }

    /// Writes `{k: v, ...}` on one line.
    pub(crate) fn flat_dict<'v>(
        &self,
        out: &mut String,
        entries: impl Iterator<Item = (&'v str, &'v Value)>,
    ) {
        out.push('{');
        join(out, entries, ", ", |out, (k, x)| {
            push_py_str(out, k);
            out.push_str(": ");
            self.flat(out, x);
        });
        out.push('}');
    }

    /// Writes an asset expression on one line: operands joined by `op`.
    pub(crate) fn asset_expr(&self, out: &mut String, xs: &[Value], op: &str) {
        join(out, xs, op, |out, x| self.asset_operand(out, x));
    }

    /// Writes an asset expression too long for one line, the way ruff breaks it: in
    /// parentheses, one operand a line, each after its operator.
    pub(crate) fn asset_expr_exploded(
        &self,
        out: &mut String,
        xs: &[Value],
        op: &str,
        indent: usize,
    ) {
        out.push_str("(\n");
        for (i, x) in xs.iter().enumerate() {
            pad(out, indent + INDENT);
            if i > 0 {
                out.push_str(op);
            }
            self.asset_operand(out, x);
            out.push('\n');
        }
        pad(out, indent);
        out.push(')');
    }

    /// Writes an operand of an asset expression, in parentheses if it is one itself.
    pub(crate) fn asset_operand(&self, out: &mut String, x: &Value) {
        if matches!(x, Value::AssetAll(_) | Value::AssetAny(_)) {
            out.push('(');
            self.flat(out, x);
            out.push(')');
        } else {
            self.flat(out, x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write` writes.
    fn text(write: impl FnOnce(&mut String)) -> String {
        let mut out = String::new();
        write(&mut out);
        out
    }

    #[test]
    fn callables_are_partials_or_instances() {
        let g = Gen::default();
        let call = |args: Vec<(String, Value)>, instance| Value::Callable {
            module: "alerts".into(),
            name: "Pager".into(),
            args,
            instance,
        };
        let flat = |v: &Value| text(|out| g.flat(out, v));
        assert_eq!(flat(&call(vec![], true)), "Pager()");
        assert_eq!(flat(&call(vec![], false)), "Pager");
        let team = vec![("team".to_string(), Value::Str("data".into()))];
        assert_eq!(flat(&call(team.clone(), true)), "Pager(team=\"data\")");
        assert_eq!(flat(&call(team, false)), "partial(Pager, team=\"data\")");
    }

    #[test]
    fn values_explode_only_past_the_line() {
        let g = Gen::default();
        let list = Value::List(vec![Value::Str("x".repeat(30)), Value::Str("y".repeat(30))]);
        let value = |col| text(|out| g.value(out, &list, 4, col, 1));
        let flat = format!("[\"{}\", \"{}\"]", "x".repeat(30), "y".repeat(30));
        assert_eq!(value(0), flat);
        assert_eq!(
            value(20),
            format!(
                "[\n        \"{}\",\n        \"{}\",\n    ]",
                "x".repeat(30),
                "y".repeat(30)
            )
        );
    }
}
