//! Unions (`str | list<str>`), tagged unions (records told apart by `kind`) and
//! `assert` rules, in factory bodies and in record types.

use super::*;
use crate::types::Rule;

impl Cx<'_> {
    /// Checks `v` against the members of a union in the order written; the first that
    /// takes it decides (and converts it). A value no member takes is one error: the
    /// reason it fails the one member of its shape, or E0216 naming them all.
    pub(super) fn any_of(
        &mut self,
        v: Value,
        ty: &Ty,
        members: &[Ty],
        decl: Option<Span>,
    ) -> Value {
        if let Some(tags) = ty.tags() {
            return self.tagged(v, ty, members, &tags, decl);
        }
        let mut failures: Vec<Vec<Diagnostic>> = Vec::with_capacity(members.len());
        for m in members {
            let outer = self.trial.replace(Vec::new());
            let out = self.coerce(v.clone(), m, decl);
            let kept = std::mem::replace(&mut self.trial, outer).unwrap_or_default();
            if kept.is_empty() && !out.is_error() {
                return out;
            }
            failures.push(kept);
        }
        let close: Vec<usize> = members
            .iter()
            .enumerate()
            .filter(|(_, m)| same_shape(&v, m))
            .map(|(i, _)| i)
            .collect();
        if let [i] = close[..]
            && let Some(kept) = failures.get_mut(i)
            && !kept.is_empty()
        {
            let note = format!(
                "`{ty}` takes other types too, but a value like this one can only be `{}`",
                members[i]
            );
            for d in std::mem::take(kept) {
                self.err(d.with_note(note.clone()));
            }
            return Value::error(v.span);
        }
        let list: Vec<String> = members.iter().map(|m| format!("`{m}`")).collect();
        let mut d = Diagnostic::at(
            Code::E0216,
            v.span,
            format!("expected `{ty}`, found {}", describe(&v)),
            format!("this is {}", a_kind(&v)),
        );
        if let Some(decl) = decl {
            d = d.with_label(decl, format!("expected `{ty}` because of this declaration"));
        }
        self.err(
            d.with_help(format!("give a value of one of {}", list.join(", ")))
                .with_note("a value of a union must be a value of one of its members"),
        );
        Value::error(v.span)
    }

    /// A tagged union: the record is checked against the member its `kind` names.
    fn tagged(
        &mut self,
        v: Value,
        ty: &Ty,
        members: &[Ty],
        tags: &[&str],
        decl: Option<Span>,
    ) -> Value {
        let kinds = tags
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let V::Record(fields) = &v.v else {
            let mut d = Diagnostic::at(
                Code::E0201,
                v.span,
                format!("expected a `{ty}` record, found {}", describe(&v)),
                format!("this is {}", a_kind(&v)),
            );
            if let Some(decl) = decl {
                d = d.with_label(decl, format!("expected `{ty}` because of this declaration"));
            }
            self.err(d.with_help(format!(
                "write a record whose `kind` is one of {kinds}, with that kind's fields"
            )));
            return Value::error(v.span);
        };
        let Some((_, kind)) = fields.iter().find(|(k, _)| &**k == "kind") else {
            let mut d = Diagnostic::at(
                Code::E0217,
                v.span,
                format!("missing field `kind`: which of `{ty}` is this?"),
                "no `kind` here",
            );
            if let Some(decl) = decl {
                d = d.with_label(decl, format!("`{ty}` is declared here"));
            }
            self.err(
                d.with_help(format!("add `kind` with one of {kinds}"))
                    .with_note("the `kind` of a record of a tagged union says which fields it has"),
            );
            return Value::error(v.span);
        };
        let found = match &kind.v {
            V::Str(s) => tags.iter().position(|t| *t == &**s),
            V::Error => return Value::error(v.span),
            _ => None,
        };
        match found {
            Some(i) => self.coerce(v, &members[i], decl),
            None => {
                let written = match &kind.v {
                    V::Str(s) => format!("\"{s}\""),
                    _ => display(kind).unwrap_or_else(|| describe(kind)),
                };
                let mut d = Diagnostic::at(
                    Code::E0217,
                    kind.span,
                    format!("unknown kind {written} for `{ty}`"),
                    "not one of its kinds",
                );
                if let V::Str(s) = &kind.v {
                    d = d.with_suggestion(s, tags.iter().copied());
                }
                if let Some(decl) = decl {
                    d = d.with_label(decl, format!("`{ty}` is declared here"));
                }
                self.err(
                    d.or_help(format!("use one of {kinds}"))
                        .with_note(format!("the kinds of `{ty}`: {kinds}")),
                );
                Value::error(v.span)
            }
        }
    }

    /// Checks a record value's rules, each with the record's fields as names.
    pub(super) fn rules(&mut self, value: Value, rules: &[Rule], owner: Option<&str>) -> Value {
        let V::Record(fields) = &value.v else {
            return value;
        };
        let mut ok = true;
        for rule in rules {
            let mut env: Env = fields.iter().map(|(k, x)| (k.clone(), x.clone())).collect();
            let holds = self.condition(rule.module, &mut env, &rule.assert.cond, None);
            if holds == Some(false) {
                let what = owner.map_or("this record".to_string(), |n| format!("`{n}`"));
                let message = self.message(rule.module, &mut env, &rule.assert.message, None);
                self.err(
                    Diagnostic::at(
                        Code::E0218,
                        value.span,
                        message,
                        format!("this value breaks a rule of {what}"),
                    )
                    .with_label(rule.assert.span, "the rule is declared here")
                    .with_help("change the value so the rule holds"),
                );
            }
            ok &= holds == Some(true);
        }
        if ok { value } else { Value::error(value.span) }
    }

    /// `assert cond, "message"` in a body: the error is at the value the rule is about
    /// when it came from a config file, else at the factory call being made.
    pub(super) fn assert_stmt(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        a: &ast::Assert,
        mut dag: Option<&mut DagB>,
    ) {
        if self.condition(m, env, &a.cond, dag.as_deref_mut()) != Some(false) {
            return;
        }
        let message = self.message(m, env, &a.message, dag);
        let subject = subject(env, &a.cond).filter(|s| self.read_from_config(*s));
        let (at, label) = match (subject, &self.making) {
            (Some(s), _) => (s, "this value breaks the rule"),
            (None, Some((call, _))) => (*call, "these arguments break the rule"),
            (None, None) => (a.span, "this does not hold"),
        };
        let mut d = Diagnostic::at(Code::E0218, at, message, label);
        if at != a.span {
            d = d.with_label(a.span, "the rule is declared here");
        }
        self.err(d.with_help("change the value so the rule holds"));
    }

    /// The text of an assertion's message; a value that is not a string is shown as written.
    fn message(&mut self, m: ModuleId, env: &mut Env, e: &Expr, dag: Option<&mut DagB>) -> String {
        let v = self.expr(m, env, e, dag);
        match &v.v {
            V::Str(s) => s.to_string(),
            _ => display(&v).unwrap_or_else(|| "assertion failed".to_string()),
        }
    }
}

/// Where the value a condition reads first was written: the value bound to the first
/// name in it, or the field of it read (`src.bucket` is about `src`).
fn subject(env: &Env, cond: &Expr) -> Option<Span> {
    let mut stack = vec![cond];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Name(n) => {
                if let Some((_, v)) = env.iter().rev().find(|(k, _)| &**k == n.as_str()) {
                    return Some(v.span);
                }
            }
            ExprKind::Field(b, _) | ExprKind::Unary(_, b) => stack.push(b),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                stack.push(b);
                stack.push(a);
            }
            ExprKind::Call(_, args) => stack.extend(args.iter().rev().map(|a| &a.value)),
            _ => {}
        }
    }
    None
}

/// Whether a value is of the shape a member takes (a string for a string type, a list
/// for a list type, a record for a record or map), so that its failure there is the one
/// to explain.
fn same_shape(v: &Value, ty: &Ty) -> bool {
    match ty {
        Ty::Optional(t) | Ty::Range { base: t, .. } | Ty::Matches { base: t, .. } => {
            same_shape(v, t)
        }
        Ty::Str | Ty::PyRef | Ty::TriggerRule | Ty::Union(_) => matches!(v.v, V::Str(_)),
        Ty::Int | Ty::Float => matches!(v.v, V::Int(_) | V::Float(_)),
        Ty::Bool => matches!(v.v, V::Bool(_)),
        Ty::Duration | Ty::Seconds => matches!(v.v, V::Duration(_)),
        Ty::Date | Ty::DateTime => matches!(v.v, V::Date(_) | V::DateTime(_)),
        Ty::List(_) => matches!(v.v, V::List(_)),
        Ty::Map(_) | Ty::Record(_) => matches!(v.v, V::Record(_)),
        Ty::AnyOf(members) => members.iter().any(|m| same_shape(v, m)),
        _ => false,
    }
}
