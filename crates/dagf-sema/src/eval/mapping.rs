//! Dynamic task mapping: `expand = { field = LIST, ... }` and `expand_kwargs = LIST`
//! in a task body, checked the way Airflow's `partial()`, `expand()` and
//! `expand_kwargs()` would fail on them when the file is parsed or the task runs.

use super::*;
use crate::dag::MapB;

/// The words of a task body that map it, unless its operator declares a field so named.
pub(super) const MAP_FIELDS: [&str; 2] = ["expand", "expand_kwargs"];

impl Cx<'_> {
    /// `expand = { ... }` or `expand_kwargs = ...` in the body of task `t`.
    pub(super) fn map_field(
        &mut self,
        dag: &mut DagB,
        t: TaskId,
        name: &ast::Ident,
        v: Value,
        span: Span,
    ) {
        if let Some(prev) = &dag.tasks[t].mapped {
            let prev_word = if prev.kwargs {
                "expand_kwargs"
            } else {
                "expand"
            };
            self.err(
                Diagnostic::at(
                    Code::E0339,
                    name.span,
                    format!("task `{}` is mapped twice", dag.tasks[t].id),
                    format!("`{}` again", name.name),
                )
                .with_label(prev.span, format!("already mapped by `{prev_word}` here"))
                .with_help(
                    "a task is expanded once: put every mapped field in one `expand = { ... }`, or give each instance's arguments as records in one `expand_kwargs`",
                ),
            );
            return;
        }
        if v.is_error() {
            dag.tasks[t].incomplete = true;
            return;
        }
        let kwargs = name.name == "expand_kwargs";
        let slots = if kwargs {
            self.expand_kwargs(dag, t, &v).map(|value| {
                vec![crate::layers::Slot::new(
                    "expand_kwargs",
                    value,
                    dag.layer,
                    span,
                )]
            })
        } else {
            self.expand(dag, t, &v).map(|fields| {
                fields
                    .into_iter()
                    .map(|(k, value)| crate::layers::Slot::new(&k, value, dag.layer, span))
                    .collect()
            })
        };
        match slots {
            Some(slots) => {
                dag.tasks[t].mapped = Some(MapB {
                    kwargs,
                    slots,
                    span: name.span,
                })
            }
            // A field it seems to lack may be in the mapping reported.
            None => dag.tasks[t].incomplete = true,
        }
    }

    /// `expand = { field = LIST, ... }`: each field checked, each item against its type.
    fn expand(&mut self, dag: &DagB, t: TaskId, v: &Value) -> Option<Vec<(Rc<str>, Value)>> {
        let fields = match &v.v {
            V::Record(fields) if !fields.is_empty() => fields,
            V::Record(_) => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        v.span,
                        "`expand` names no field to map over",
                        "nothing to expand",
                    )
                    .with_help(
                        "name at least one field and the list it takes, such as `expand = { bash_command = [\"a\", \"b\"] }`, or remove `expand`",
                    ),
                );
                return None;
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        v.span,
                        format!("`expand` takes a record of fields, not {}", with_kind(v)),
                        "not a record",
                    )
                    .with_help(
                        "write `expand = { FIELD = LIST }`: each field the instances differ in, with a list of its values (or a task's output)",
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(fields.len());
        let mut ok = true;
        for (k, x) in fields.iter() {
            let key = ast::Ident {
                name: k.to_string(),
                span: x.span,
            };
            let Some(field) = self.mappable(dag, t, &key) else {
                ok = false;
                continue;
            };
            match self.items(dag, t, &key, &field, x) {
                Some(value) => out.push((k.clone(), value)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// The list one mapped field takes: a list (each item checked against the field's
    /// type) or a task's whole output.
    fn items(
        &mut self,
        dag: &DagB,
        t: TaskId,
        key: &ast::Ident,
        field: &FieldTy,
        x: &Value,
    ) -> Option<Value> {
        match &x.v {
            V::Output(o) => self.whole_output(o).then(|| x.clone()),
            V::List(items) => {
                let place = self.field_place(dag, t, &key.name);
                let outer = self.place.replace(place);
                let checked: Vec<Value> = items
                    .iter()
                    .map(|item| self.coerce(item.clone(), &field.ty, Some(field.span)))
                    .collect();
                self.place = outer;
                if checked.iter().any(Value::is_error) {
                    return None;
                }
                Some(Value {
                    v: V::List(Rc::new(checked)),
                    span: x.span,
                })
            }
            V::Error => None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        x.span,
                        format!("`{}` is mapped over {}, not a list", key.name, with_kind(x)),
                        "one task instance is made per item of a list",
                    )
                    .with_help(format!(
                        "give a list of values for `{0}` (`{0} = [...]`), a list from a parameter or config file, or a task's output; to give every instance the same value, set `{0}` outside `expand`",
                        key.name
                    )),
                );
                None
            }
        }
    }

    /// `expand_kwargs = LIST`: a list of records, each an instance's mapped fields, or
    /// a task's whole output (a list of dicts when it runs).
    fn expand_kwargs(&mut self, dag: &DagB, t: TaskId, v: &Value) -> Option<Value> {
        let items = match &v.v {
            V::Output(o) => return self.whole_output(o).then(|| v.clone()),
            V::List(items) => items,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        v.span,
                        format!("`expand_kwargs` takes a list of records, not {}", with_kind(v)),
                        "not a list",
                    )
                    .with_help(
                        "give one record of arguments per task instance (`expand_kwargs = [{ bash_command = \"a\" }, { bash_command = \"b\" }]`), or a task's output",
                    ),
                );
                return None;
            }
        };
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for item in items.iter() {
            let V::Record(fields) = &item.v else {
                if !item.is_error() {
                    self.err(
                        Diagnostic::at(
                            Code::E0338,
                            item.span,
                            format!("an item of `expand_kwargs` is {}, not a record", with_kind(item)),
                            "not a record",
                        )
                        .with_help(
                            "each item is one task instance's arguments: a record such as `{ bash_command = \"a\" }`",
                        ),
                    );
                }
                // Items of one wrong shape are one mistake: reported once.
                return None;
            };
            let mut checked = Vec::with_capacity(fields.len());
            for (k, x) in fields.iter() {
                let key = ast::Ident {
                    name: k.to_string(),
                    span: x.span,
                };
                let Some(field) = self.mappable(dag, t, &key) else {
                    ok = false;
                    continue;
                };
                let place = self.field_place(dag, t, k);
                let outer = self.place.replace(place);
                let x = self.coerce(x.clone(), &field.ty, Some(field.span));
                self.place = outer;
                ok &= !x.is_error();
                checked.push((k.clone(), x));
            }
            out.push(Value {
                v: V::Record(Rc::new(checked)),
                span: item.span,
            });
        }
        ok.then(|| Value {
            v: V::List(Rc::new(out)),
            span: v.span,
        })
    }

    /// The type of a field the task may map over: one its operator declares. Reports
    /// an unknown field, and a task argument (BaseOperator's), which Airflow reads
    /// before it expands the task.
    fn mappable(&mut self, dag: &DagB, t: TaskId, key: &ast::Ident) -> Option<FieldTy> {
        let op = dag.tasks[t].op;
        let info = &self.prog.operators[op];
        if let Some(f) = info.fields.iter().find(|f| f.name == key.name) {
            let f = f.clone();
            self.note(crate::refs::Raw::Def {
                at: key.span,
                def: f.span,
                kind: crate::refs::DefKind::Field,
            });
            return Some(f);
        }
        if self.task_field_ty(op, &key.name).is_none() {
            let prog = self.prog;
            let names: Vec<&str> = prog.operators[op]
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect();
            let opname = prog.operators[op].name.clone();
            self.unknown_field(key, &format!("`{opname}` task"), names, None);
            return None;
        }
        let opname = info.name.clone();
        self.err(
            Diagnostic::at(
                Code::E0337,
                key.span,
                format!("`{}` cannot be mapped", key.name),
                format!("an argument every task takes, not one of `{opname}`'s own"),
            )
            .with_help(format!(
                "Airflow reads task arguments such as `{}` before it expands a task: set it outside `expand`, the same for every instance",
                key.name
            )),
        );
        None
    }

    /// Where a mapped field's items are checked: templated as the operator says.
    fn field_place(&self, dag: &DagB, t: TaskId, field: &str) -> coerce::FieldPlace {
        let info = &self.prog.operators[dag.tasks[t].op];
        coerce::FieldPlace {
            field: field.to_string(),
            owner: info.name.clone(),
            templated: info.templated.iter().any(|f| f == field),
        }
    }

    /// Airflow maps only over what a task returned as a whole (`ensure_xcomarg_return_value`).
    fn whole_output(&mut self, o: &crate::value::Output) -> bool {
        let Some(key) = &o.key else {
            return true;
        };
        self.err(
            Diagnostic::at(
                Code::E0350,
                o.span,
                format!("a task is mapped over the key `{key}` of an output"),
                "pushed under its own key",
            )
            .with_help(
                "Airflow maps only over a task's whole return value: have a task return the list itself and map over its `.output`",
            ),
        );
        false
    }
}

/// "a str", "an int": a value's kind with its article.
fn with_kind(v: &Value) -> String {
    dagf_syntax::with_article(v.kind())
}
