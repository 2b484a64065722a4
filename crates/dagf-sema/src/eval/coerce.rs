//! Checking a value against a type, converting where the type says how.

use super::*;

/// Whether a value is of a plain type.
pub(super) type Accepts = fn(&V) -> bool;

/// For a type a value either is or is not (no conversion): the test, and how
/// messages name the type.
pub(super) fn plain_kind(ty: &Ty) -> Option<(Accepts, &'static str)> {
    Some(match ty {
        Ty::Str => (|v| matches!(v, V::Str(_)), "a str"),
        Ty::Int => (|v| matches!(v, V::Int(_)), "an int"),
        Ty::Bool => (|v| matches!(v, V::Bool(_)), "a bool"),
        Ty::Duration => (|v| matches!(v, V::Duration(_)), "a duration"),
        Ty::Date => (|v| matches!(v, V::Date(_)), "a date"),
        Ty::Asset => (|v| matches!(v, V::Asset(_)), "an asset"),
        Ty::Task => (|v| matches!(v, V::Task(_)), "a task"),
        Ty::Factory => (
            |v| matches!(v, V::Item(Item::Factory(_)) | V::Partial(_)),
            "a factory",
        ),
        _ => return None,
    })
}

/// The first part of a value that has no Python form: a factory, template, operator,
/// module, function, task or group.
pub(super) fn not_data(v: &Value) -> Option<&Value> {
    match &v.v {
        V::Item(_) | V::Partial(_) | V::Task(_) | V::Group(_) | V::Tenant(_) => Some(v),
        V::List(items) | V::AssetAll(items) | V::AssetAny(items) => items.iter().find_map(not_data),
        V::Record(fields) => fields.iter().find_map(|(_, x)| not_data(x)),
        _ => None,
    }
}

/// The first task output inside a value.
pub(super) fn first_output(v: &Value) -> Option<&Value> {
    match &v.v {
        V::Output(_) => Some(v),
        V::List(items) => items.iter().find_map(first_output),
        V::Record(fields) => fields.iter().find_map(|(_, x)| first_output(x)),
        _ => None,
    }
}

/// The first mapped group's item inside a value.
pub(super) fn first_map_arg(v: &Value) -> Option<&Value> {
    match &v.v {
        V::MapArg(_) => Some(v),
        V::List(items) => items.iter().find_map(first_map_arg),
        V::Record(fields) => fields.iter().find_map(|(_, x)| first_map_arg(x)),
        _ => None,
    }
}

/// A field whose value is being checked, for what it may hold.
#[derive(Clone, Debug)]
pub(super) struct FieldPlace {
    /// The field's name.
    pub(super) field: String,
    /// The operator it belongs to, or "dag", "task group" for those fields.
    pub(super) owner: String,
    /// Whether Airflow renders it when the task runs (it may hold a task's output).
    pub(super) templated: bool,
}

impl Cx<'_> {
    /// Whether a task output may stand where a value is being checked: in a templated
    /// field of a task. Reports it if not.
    fn output_allowed(&mut self, o: &Value) -> bool {
        let place = self.place.clone();
        if place.as_ref().is_some_and(|p| p.templated) {
            return true;
        }
        let (label, help) = match &place {
            Some(p) if p.owner == "dag" || p.owner == "task group" => (
                format!("`{}` is set when the file is parsed", p.field),
                "a task's output goes only into a templated field of another task, such as `op_kwargs` of `python` or `bash_command`".to_string(),
            ),
            Some(p) => (
                format!("`{}` of `{}` is not rendered when the task runs", p.field, p.owner),
                format!("only a field the operator declares `templated` (Airflow's `template_fields`) is resolved at run time; if `{}` lists `{}` there, declare it `templated {}: ...`", p.owner, p.field, p.field),
            ),
            None => (
                "not a task's field".to_string(),
                "a task's output goes only into a templated field of another task, such as `op_kwargs` of `python` or `bash_command`".to_string(),
            ),
        };
        self.err(
            Diagnostic::at(
                Code::E0333,
                o.span,
                "a task's output is used where Airflow does not resolve it",
                label,
            )
            .with_help(help),
        );
        false
    }

    /// Checks `v` against `ty`, converting where the type says how (a string to a pyref,
    /// a date to a datetime, a record literal to a record). Reports and returns an error
    /// value on a mismatch. `decl` is where the type was written, shown as a second label.
    pub(super) fn coerce(&mut self, v: Value, ty: &Ty, decl: Option<Span>) -> Value {
        if v.is_error() {
            return v;
        }
        // In a config file a duration is a string: "90s", "1h30m".
        let wants_duration = match ty {
            Ty::Duration | Ty::Seconds => true,
            Ty::Range { base, .. } => matches!(**base, Ty::Duration),
            _ => false,
        };
        let v = match &v.v {
            V::Str(s) if wants_duration && self.read_from_config(v.span) => {
                match dagf_syntax::duration_ms(s) {
                    Some(ms) => Value::new(V::Duration(ms), v.span),
                    None => v,
                }
            }
            _ => v,
        };
        if let Some(o) = first_output(&v)
            && !self.output_allowed(o)
        {
            return Value::error(v.span);
        }
        if let Some(item) = first_map_arg(&v) {
            let place = self.place.as_ref();
            let in_task = place.is_some_and(|p| p.templated);
            if !in_task {
                let label = match place {
                    Some(p) if p.owner == "dag" || p.owner == "task group" => {
                        format!("`{}` is set when the file is parsed", p.field)
                    }
                    Some(p) => format!(
                        "`{}` of `{}` is not rendered when the task runs",
                        p.field, p.owner
                    ),
                    None => "not a task's templated field".to_string(),
                };
                let at = item.span;
                self.runtime_item(at, &label);
                return Value::error(v.span);
            }
        }
        if let V::Output(_) | V::MapArg(_) = v.v {
            // What a task returns, or a mapped group's item, is known only when it runs.
            return v;
        }
        let span = v.span;
        let mismatch = |cx: &mut Self, v: &Value, what: String| {
            let mut d = Diagnostic::at(
                Code::E0201,
                v.span,
                format!("expected {what}, found {}", describe(v)),
                format!("this is {}", a_kind(v)),
            );
            if let Some(decl) = decl {
                d = d.with_label(decl, format!("expected {what} because of this declaration"));
            }
            let help = match v.v {
                V::Task(_) => {
                    "for what the task returns, write `TASK.output` (in a templated field)"
                        .to_string()
                }
                _ => help_for(&what),
            };
            cx.err(d.with_help(help));
            Value::error(v.span)
        };
        if let Some((accepts, what)) = plain_kind(ty) {
            return if accepts(&v.v) {
                v
            } else {
                mismatch(self, &v, what.into())
            };
        }
        match ty {
            // Handled by `plain_kind` above.
            Ty::Str
            | Ty::Int
            | Ty::Bool
            | Ty::Duration
            | Ty::Date
            | Ty::Asset
            | Ty::Task
            | Ty::Factory => v,
            Ty::Error => v,
            // Anything that becomes a Python value; a factory, a task or a template does not.
            Ty::Any => match not_data(&v) {
                Some(bad) => {
                    let bad = bad.clone();
                    mismatch(self, &bad, "data (a value with a Python form)".into());
                    Value::error(span)
                }
                None => v,
            },
            // Written as seconds: whole ones as an int.
            Ty::Seconds => match v.v {
                V::Duration(ms) if ms > 0 && ms % 1000 == 0 => Value::new(V::Int(ms / 1000), span),
                V::Duration(ms) if ms > 0 => Value::new(V::Float(ms as f64 / 1000.0), span),
                V::Duration(ms) => {
                    let mut d = Diagnostic::at(
                        Code::E0204,
                        span,
                        format!(
                            "{} is not a positive duration",
                            dagf_syntax::duration_text(ms)
                        ),
                        "must be positive",
                    );
                    if let Some(decl) = decl {
                        d = d.with_label(
                            decl,
                            "a positive duration is expected because of this declaration",
                        );
                    }
                    self.err(d.with_help("give a positive duration such as 30s"));
                    Value::error(span)
                }
                _ => mismatch(self, &v, "a duration".into()),
            },
            Ty::Optional(inner) => match v.v {
                V::None => v,
                _ => self.coerce(v, inner, decl),
            },
            Ty::Float => match v.v {
                V::Float(_) => v,
                V::Int(i) => Value::new(V::Float(i as f64), span),
                _ => mismatch(self, &v, "a float".into()),
            },
            Ty::DateTime => match v.v {
                V::DateTime(_) => v,
                V::Date(d) => Value::new(V::DateTime(DateTime::midnight(d)), span),
                _ => mismatch(self, &v, "a datetime".into()),
            },
            Ty::PyRef => match &v.v {
                V::PyRef(_) => v,
                V::Str(s) => {
                    match crate::python::check_path(s, span, "object", "etl.transforms.clean") {
                        None => Value::new(V::PyRef(s.clone()), span),
                        Some(d) => {
                            self.err(d);
                            Value::error(span)
                        }
                    }
                }
                _ => mismatch(self, &v, "a pyref (a \"module.name\" string)".into()),
            },
            Ty::TriggerRule => match &v.v {
                V::Str(s) if trigger_rules().any(|r| r == &**s) => v,
                V::Str(s) => {
                    self.err(
                        Diagnostic::at(
                            Code::E0305,
                            span,
                            format!("`{s}` is not a trigger rule"),
                            "unknown trigger rule",
                        )
                        .with_suggestion(s, trigger_rules())
                        .or_help("use one of Airflow's trigger rules, such as \"all_success\" or \"none_failed\"")
                        .with_note(format!(
                            "Airflow 3.3's trigger rules: {}",
                            trigger_rules().collect::<Vec<_>>().join(", ")
                        )),
                    );
                    Value::error(span)
                }
                _ => mismatch(self, &v, "a trigger rule string".into()),
            },
            Ty::Schedule => self.schedule(v, decl),
            Ty::Callbacks => match &v.v {
                V::List(items) => {
                    let items: Vec<Value> = items
                        .iter()
                        .map(|i| self.callback_value(i.clone(), decl))
                        .collect();
                    if items.iter().any(Value::is_error) {
                        return Value::error(span);
                    }
                    Value::new(V::List(Rc::new(items)), span)
                }
                _ => self.callback_value(v, decl),
            },
            Ty::Union(options) => match &v.v {
                V::Str(s) if options.iter().any(|o| **o == **s) => v,
                V::Str(s) => {
                    let list: Vec<String> = options.iter().map(|o| format!("\"{o}\"")).collect();
                    let mut d = Diagnostic::at(
                        Code::E0201,
                        span,
                        format!("`{s}` is not one of {}", list.join(", ")),
                        "not allowed here",
                    )
                    .with_suggestion(s, options.iter().map(String::as_str));
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the allowed values are declared here");
                    }
                    if d.help.is_none() {
                        d = d.with_help(format!("use one of {}", list.join(", ")));
                    }
                    self.err(d);
                    Value::error(span)
                }
                _ => mismatch(
                    self,
                    &v,
                    format!(
                        "one of {}",
                        options
                            .iter()
                            .map(|o| format!("\"{o}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
            },
            Ty::AnyOf(members) => self.any_of(v, ty, members, decl),
            Ty::List(inner) => match &v.v {
                V::List(items) => {
                    let items: Vec<Value> = items
                        .iter()
                        .map(|i| self.coerce(i.clone(), inner, decl))
                        .collect();
                    if items.iter().any(Value::is_error) {
                        return Value::error(span);
                    }
                    Value::new(V::List(Rc::new(items)), span)
                }
                _ => mismatch(self, &v, with_article(&ty.to_string())),
            },
            Ty::Map(inner) => match &v.v {
                V::Record(fields) => {
                    let fields: Vec<(Rc<str>, Value)> = fields
                        .iter()
                        .map(|(k, x)| (k.clone(), self.coerce(x.clone(), inner, decl)))
                        .collect();
                    if fields.iter().any(|(_, x)| x.is_error()) {
                        return Value::error(span);
                    }
                    Value::new(V::Record(Rc::new(fields)), span)
                }
                _ => mismatch(self, &v, with_article(&ty.to_string())),
            },
            Ty::Record(rec) => match &v.v {
                V::Record(fields) => self.record(span, fields, rec),
                _ => mismatch(self, &v, with_article(&format!("{ty} record"))),
            },
            Ty::Range {
                base,
                lo,
                hi,
                inclusive,
            } => {
                let v = self.coerce(v, base, decl);
                let n = match v.v {
                    V::Int(i) => i as f64,
                    V::Float(f) => f,
                    V::Duration(ms) => ms as f64,
                    _ => return v,
                };
                let below = lo.is_some_and(|lo| n < lo);
                let above = hi.is_some_and(|hi| if *inclusive { n > hi } else { n >= hi });
                if below || above {
                    let mut d = Diagnostic::at(
                        Code::E0204,
                        span,
                        format!(
                            "{} is outside the allowed range",
                            display(&v).unwrap_or_default()
                        ),
                        format!("must be {}", range_text(base, *lo, *hi, *inclusive)),
                    );
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the range is declared here");
                    }
                    self.err(d.with_help(format!(
                        "use a value {}",
                        range_text(base, *lo, *hi, *inclusive)
                    )));
                    return Value::error(span);
                }
                v
            }
            Ty::Matches { base, re } => {
                let v = self.coerce(v, base, decl);
                if let V::Str(s) = &v.v
                    && !re.is_match(s)
                {
                    let mut d = Diagnostic::at(
                        Code::E0205,
                        span,
                        format!("\"{s}\" does not match the pattern {:?}", re.as_str()),
                        "does not match",
                    );
                    if let Some(decl) = decl {
                        d = d.with_label(decl, "the pattern is declared here");
                    }
                    self.err(
                        d.with_help(format!("change the value so it matches {:?}", re.as_str())),
                    );
                    return Value::error(span);
                }
                v
            }
        }
    }

    pub(super) fn record(
        &mut self,
        span: Span,
        fields: &[(Rc<str>, Value)],
        rec: &RecordTy,
    ) -> Value {
        // Each entry with the place of its field in the declaration, which orders them.
        let mut out: Vec<(usize, Rc<str>, Value)> = Vec::with_capacity(rec.fields.len());
        let mut given = vec![false; rec.fields.len()];
        let mut ok = true;
        let mut meant: Vec<String> = Vec::new();
        for (k, x) in fields {
            match rec.fields.iter().position(|f| f.name == **k) {
                Some(i) => {
                    let f = &rec.fields[i];
                    let v = self.coerce(x.clone(), &f.ty, Some(f.span));
                    ok &= !v.is_error();
                    given[i] = true;
                    out.push((i, k.clone(), v));
                }
                None => {
                    ok = false;
                    let names: Vec<&str> = rec.fields.iter().map(|f| f.name.as_str()).collect();
                    let what = rec
                        .name
                        .as_deref()
                        .map_or("this record".to_string(), |n| format!("`{n}`"));
                    // A misspelt field is not also reported missing.
                    if let Some(m) = dagf_diag::did_you_mean(k, names.iter().copied()) {
                        meant.push(m.to_string());
                    }
                    self.err(no_such_field(
                        self.key_span(k, x.span),
                        format!("{what} has no field `{k}`"),
                        "unknown field",
                        k,
                        &names,
                        "remove it, or use one of the known fields",
                        "known fields",
                    ));
                }
            }
        }
        for (i, f) in rec.fields.iter().enumerate() {
            if given[i] {
                continue;
            }
            if f.default.is_some() {
                if let Some(v) = self.default_of(f) {
                    // The value keeps the record's place (errors point where the record
                    // is written); which default applied is noted for provenance.
                    if let (false, Some(e)) = (self.options.skip_provenance, &f.default) {
                        let owner = rec.name.as_deref().unwrap_or("");
                        let noted = self.defaulted.entry(span).or_default();
                        if !noted.iter().any(|d| d.field == f.name) {
                            noted.push(crate::checks::Default {
                                field: f.name.clone(),
                                owner: owner.to_string(),
                                at: e.span,
                                value: crate::checks::lower(&v),
                            });
                        }
                    }
                    out.push((i, Rc::from(f.name.as_str()), Value::new(v.v, span)));
                }
            } else if f.required() {
                ok = false;
                if meant.contains(&f.name) {
                    continue;
                }
                self.err(missing(
                    span,
                    format!("missing field `{}`", f.name),
                    "set",
                    f,
                    format!("add `{} = ...`", f.name),
                ));
            } else {
                // An optional field left out reads as `none` (and is not passed to Airflow).
                out.push((i, Rc::from(f.name.as_str()), Value::new(V::None, span)));
            }
        }
        if !ok {
            return Value::error(span);
        }
        // Keep the declared field order: output does not depend on how the literal was written.
        out.sort_by_key(|(i, _, _)| *i);
        let out: Vec<(Rc<str>, Value)> = out.into_iter().map(|(_, k, v)| (k, v)).collect();
        let value = Value::new(V::Record(Rc::new(out)), span);
        if rec.rules.is_empty() {
            value
        } else {
            self.rules(value, &rec.rules, rec.name.as_deref())
        }
    }

    pub(super) fn schedule(&mut self, v: Value, decl: Option<Span>) -> Value {
        let span = v.span;
        match &v.v {
            V::None | V::Duration(_) | V::Asset(_) | V::AssetAll(_) | V::AssetAny(_) => v,
            V::Record(fields) => {
                let fields = fields.clone();
                self.timetable(&fields, span)
            }
            V::Preset(p) => self.preset(p, span, v.clone()),
            V::Str(s) if s.starts_with('@') => self.preset(
                &s[1..],
                span,
                Value::new(V::Preset(Rc::from(&s[1..])), span),
            ),
            V::Str(s) => match crate::cron::check(s) {
                Ok(()) => v,
                Err(msg) => {
                    self.err(
                        Diagnostic::at(Code::E0303, span, format!("invalid cron expression \"{s}\""), msg)
                            .with_help("a cron expression reads `minute hour day-of-month month day-of-week`, such as \"0 6 * * 1-5\""),
                    );
                    Value::error(span)
                }
            },
            _ => {
                let mut d = Diagnostic::at(
                    Code::E0201,
                    span,
                    format!("expected a schedule, found {}", describe(&v)),
                    format!("this is {}", a_kind(&v)),
                );
                if let Some(decl) = decl {
                    d = d.with_label(decl, "expected a schedule because of this declaration");
                }
                self.err(d.with_help("a schedule is a preset (@daily), a cron string, a duration (6h), `none`, assets (a & b), or a timetable ({ cron = \"0 6 * * *\", timezone = \"Europe/Paris\" })"));
                Value::error(span)
            }
        }
    }

    /// A schedule written as a record: one of Airflow's cron timetables (`cron`, with
    /// `timezone`, `interval`, `run_immediately`, `data_interval`) or a timetable class
    /// by its Python path (`timetable`, with `args`). Returns the record with its
    /// values checked (crons as written, presets as `@name`, the class as a pyref).
    fn timetable(&mut self, fields: &[(Rc<str>, Value)], span: Span) -> Value {
        const CRON_KEYS: [&str; 5] = [
            "cron",
            "timezone",
            "interval",
            "run_immediately",
            "data_interval",
        ];
        const CLASS_KEYS: [&str; 2] = ["timetable", "args"];
        let has = |k: &str| fields.iter().any(|(n, _)| &**n == k);
        let invalid = |cx: &mut Self, at: Span, message: String, label: &str, help: &str| {
            cx.err(Diagnostic::at(Code::E0346, at, message, label).with_help(help));
            Value::error(span)
        };
        let keys: &[&str] = match (has("cron"), has("timetable")) {
            (true, true) => {
                let at = fields
                    .iter()
                    .find(|(k, _)| &**k == "timetable")
                    .map_or(span, |(_, x)| x.span);
                return invalid(
                    self,
                    at,
                    "a timetable is either Airflow's cron timetable or a class, not both".into(),
                    "a class as well as `cron`",
                    "keep `cron` for Airflow's cron timetables, or `timetable` for a class of your own",
                );
            }
            (false, false) => {
                return invalid(
                    self,
                    span,
                    "a schedule record needs `cron` or `timetable`".into(),
                    "neither `cron` nor `timetable`",
                    "write `{ cron = \"0 6 * * *\" }`, or `{ timetable = \"package.module.Class\", args = { ... } }`",
                );
            }
            (true, false) => &CRON_KEYS,
            (false, true) => &CLASS_KEYS,
        };
        let mut out: Vec<(Rc<str>, Value)> = Vec::with_capacity(fields.len());
        let mut failed = false;
        for (k, x) in fields {
            if !keys.contains(&&**k) {
                let mut d = Diagnostic::at(
                    Code::E0346,
                    x.span,
                    format!(
                        "a {} timetable takes no `{k}`",
                        if keys == CRON_KEYS { "cron" } else { "class" }
                    ),
                    "not a key of this timetable",
                )
                .with_note(format!("keys: {}", keys.join(", ")));
                d = d.with_suggestion(k, keys.iter().copied());
                self.err(d.or_help(if keys == CRON_KEYS {
                    "a class's own arguments go in `args = { ... }` of `{ timetable = ... }`"
                } else {
                    "pass the class's arguments in `args = { ... }`"
                }));
                failed = true;
                continue;
            }
            let checked = match &**k {
                "cron" => self.timetable_crons(x),
                "timezone" => match &x.v {
                    V::Str(z) => match crate::cron::unknown_zone(z, x.span) {
                        Some(d) => {
                            self.err(d);
                            Value::error(x.span)
                        }
                        None => x.clone(),
                    },
                    _ => self.coerce(x.clone(), &Ty::Str, None),
                },
                "interval" => self.coerce(x.clone(), &Ty::Duration, None),
                "run_immediately" => match &x.v {
                    V::Bool(_) | V::Duration(_) => x.clone(),
                    _ => {
                        self.err(
                            Diagnostic::at(
                                Code::E0201,
                                x.span,
                                format!("expected a bool or a duration, found {}", describe(x)),
                                format!("this is {}", a_kind(x)),
                            )
                            .with_help("`run_immediately` is true, false, or how recent the last missed run must be (such as 10m)"),
                        );
                        Value::error(x.span)
                    }
                },
                "data_interval" => self.coerce(x.clone(), &Ty::Bool, None),
                "timetable" => self.coerce(x.clone(), &Ty::PyRef, None),
                // "args"
                _ => match &x.v {
                    V::Record(_) => self.coerce(x.clone(), &Ty::Any, None),
                    _ => {
                        self.err(
                            Diagnostic::at(
                                Code::E0201,
                                x.span,
                                format!("expected a record, found {}", describe(x)),
                                format!("this is {}", a_kind(x)),
                            )
                            .with_help("`args` holds the class's keyword arguments: `args = { name = value }`"),
                        );
                        Value::error(x.span)
                    }
                },
            };
            failed |= checked.is_error();
            out.push((k.clone(), checked));
        }
        if failed {
            return Value::error(span);
        }
        let get = |k: &str| out.iter().find(|(n, _)| &**n == k).map(|(_, x)| x);
        if let Some(di) = get("data_interval")
            && matches!(di.v, V::Bool(true))
        {
            let several = get("cron").is_some_and(|c| matches!(&c.v, V::List(l) if l.len() > 1));
            let extra = ["interval", "run_immediately"]
                .into_iter()
                .find_map(|k| get(k).map(|x| (k, x.span)));
            if several || extra.is_some() {
                let (at, what) = match extra {
                    Some((k, at)) => (at, format!("no `{k}`")),
                    None => (
                        get("cron").map_or(span, |c| c.span),
                        "one cron, not several".to_string(),
                    ),
                };
                return invalid(
                    self,
                    at,
                    format!("a data-interval timetable takes {what}"),
                    "not with `data_interval = true`",
                    "Airflow's CronDataIntervalTimetable has one cron and a time zone: drop `data_interval` for a trigger timetable, which has the rest",
                );
            }
        }
        Value::new(V::Record(Rc::new(out)), span)
    }

    /// A timetable's `cron`: a cron string or a cron preset, or a non-empty list of them.
    fn timetable_crons(&mut self, x: &Value) -> Value {
        let one = |cx: &mut Self, c: &Value| -> Value {
            let preset = match &c.v {
                V::Preset(p) => Some(p.clone()),
                V::Str(s) if s.starts_with('@') => Some(Rc::from(&s[1..])),
                _ => None,
            };
            match preset {
                Some(p)
                    if crate::cron::PRESETS.contains(&&*p)
                        && crate::cron::preset_cron(&p).is_none() =>
                {
                    cx.err(
                        Diagnostic::at(Code::E0346, c.span, format!("`@{p}` is no cron expression"), "not a cron")
                            .with_help(format!("write `schedule = @{p}` on its own; a cron timetable needs a time of day")),
                    );
                    Value::error(c.span)
                }
                Some(p) => cx.preset(&p, c.span, Value::new(V::Preset(p.clone()), c.span)),
                None => match &c.v {
                    V::Str(_) => cx.schedule(c.clone(), None),
                    _ => cx.coerce(c.clone(), &Ty::Str, None),
                },
            }
        };
        match &x.v {
            V::List(items) if items.is_empty() => {
                self.err(
                    Diagnostic::at(Code::E0346, x.span, "a timetable needs at least one cron", "no crons")
                        .with_help("give one cron, or a list of them: `cron = [\"0 6 * * *\", \"0 18 * * *\"]`"),
                );
                Value::error(x.span)
            }
            V::List(items) => {
                let checked: Vec<Value> = items.iter().map(|c| one(self, c)).collect();
                if checked.iter().any(Value::is_error) {
                    Value::error(x.span)
                } else {
                    Value::new(V::List(Rc::new(checked)), x.span)
                }
            }
            _ => one(self, x),
        }
    }

    pub(super) fn preset(&mut self, p: &str, span: Span, v: Value) -> Value {
        if crate::cron::PRESETS.contains(&p) {
            return v;
        }
        let d = Diagnostic::at(
            Code::E0304,
            span,
            format!("unknown schedule preset `@{p}`"),
            "not a preset",
        )
        .with_suggestion(p, crate::cron::PRESETS.iter().copied())
        .with_note(format!(
            "presets: {}",
            crate::cron::PRESETS
                .iter()
                .map(|p| format!("@{p}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let d = match d.help.take_suggestion() {
            Some(h) => d.with_help(format!("did you mean `@{h}`?")),
            None => d.with_help("use a preset from the list, or a cron string"),
        };
        self.err(d);
        Value::error(span)
    }
}

/// The trigger rules of the Airflow version dagf generates for, from the one table of
/// what each version has.
fn trigger_rules() -> impl Iterator<Item = &'static str> {
    let target = dagf_target::Target::DEFAULT;
    dagf_target::TRIGGER_RULES
        .iter()
        .filter(move |(_, since)| target.version >= *since)
        .map(|(rule, _)| *rule)
}
