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
        if let Some(g) = Self::mapped_around(dag, dag.tasks[t].group) {
            let group_span = dag.groups[g].name_span;
            self.err(
                Diagnostic::at(
                    Code::E0352,
                    name.span,
                    format!("task `{}` is mapped inside a mapped task group", dag.tasks[t].id),
                    "mapped here",
                )
                .with_label(group_span, "inside this mapped group")
                .with_help(
                    "Airflow does not expand a task inside an expanded group: let the group's items give the task its values, or move the task out of the group",
                ),
            );
            dag.tasks[t].incomplete = true;
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
                let list = self.checked_items(items, &field.ty, field.span, x.span);
                self.place = outer;
                list
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
    /// A mapped list (written at `span`), each item checked against `ty`, the type
    /// declared at `decl` of what it maps; none when an item is wrong (its error said).
    fn checked_items(&mut self, items: &[Value], ty: &Ty, decl: Span, span: Span) -> Option<Value> {
        let checked: Vec<Value> = items
            .iter()
            .map(|item| self.coerce(item.clone(), ty, Some(decl)))
            .collect();
        (!checked.iter().any(Value::is_error)).then(|| Value {
            v: V::List(Rc::new(checked)),
            span,
        })
    }

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

/// A group use's body split in two: its `expand` statement, if one stands at its top
/// level, and the rest, which is evaluated as the group's own body (borrowed when
/// there is no `expand` to take out).
pub(super) fn split_expand(
    body: &[ast::Stmt],
) -> (Option<&ast::Stmt>, std::borrow::Cow<'_, [ast::Stmt]>) {
    let at = body.iter().position(
        |s| matches!(s, ast::Stmt::Field { name, .. } if MAP_FIELDS.contains(&name.name.as_str())),
    );
    match at {
        None => (None, std::borrow::Cow::Borrowed(body)),
        Some(i) => {
            let mut rest = body.to_vec();
            rest.remove(i);
            (body.get(i), std::borrow::Cow::Owned(rest))
        }
    }
}

impl Cx<'_> {
    /// The E0351 error for a mapped group's item used where its value would be needed
    /// now: it is known only when the group's instance runs.
    pub(super) fn runtime_item(&mut self, at: Span, label: &str) {
        self.err(
            Diagnostic::at(
                Code::E0351,
                at,
                "a mapped group's item is used where Airflow does not resolve it",
                label.to_string(),
            )
            .with_help(
                "pass it whole as a templated field of a task in the group, such as `bash_command = table` or `op_kwargs = { table = table }`; it is known only when the group's instance runs",
            ),
        );
    }

    /// The first mapped group around scope `g` (itself included), if any.
    pub(super) fn mapped_around(dag: &DagB, mut g: Option<GroupId>) -> Option<GroupId> {
        while let Some(id) = g {
            if dag.groups[id].mapped.is_some() {
                return Some(id);
            }
            g = dag.groups[id].parent;
        }
        None
    }

    /// `expand = { PARAM = LIST, ... }` of a group made from a template with `params`:
    /// each parameter named checked, each item against its type. The parameters it
    /// maps, as slots, with what the template body binds each to.
    pub(super) fn group_expand(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        dag: &mut DagB,
        stmt: &ast::Stmt,
        params: &[FieldTy],
        template: &str,
    ) -> Option<(MapB, Vec<crate::value::Bound>)> {
        let ast::Stmt::Field {
            name, value, span, ..
        } = stmt
        else {
            return None;
        };
        if name.name == "expand_kwargs" {
            self.err(
                Diagnostic::at(
                    Code::E0352,
                    name.span,
                    "a task group is mapped with `expand`, not `expand_kwargs`",
                    "not for a group",
                )
                .with_help(
                    "name each parameter the instances differ in with the list it takes: `expand = { PARAM = LIST }`",
                ),
            );
            return None;
        }
        if let Some(outer) = Self::mapped_around(dag, dag.scope) {
            let outer_span = dag.groups[outer].name_span;
            self.err(
                Diagnostic::at(
                    Code::E0352,
                    name.span,
                    "a mapped task group inside a mapped task group",
                    "mapped here",
                )
                .with_label(outer_span, "inside this mapped group")
                .with_help(
                    "Airflow does not expand a mapped group inside another: map only the outer group, or make this one a plain group",
                ),
            );
            return None;
        }
        let v = self.expr(m, env, value, Some(dag));
        let fields = match &v.v {
            V::Error => return None,
            V::Record(fields) if !fields.is_empty() => fields.clone(),
            V::Record(_) => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        v.span,
                        "`expand` names no parameter to map over",
                        "nothing to expand",
                    )
                    .with_help(
                        "name at least one of the template's parameters and the list it takes, such as `expand = { table = [\"a\", \"b\"] }`, or remove `expand`",
                    ),
                );
                return None;
            }
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0338,
                        v.span,
                        format!("`expand` takes a record of parameters, not {}", with_kind(&v)),
                        "not a record",
                    )
                    .with_help(
                        "write `expand = { PARAM = LIST }`: each parameter of the template the instances differ in, with a list of its values (or a task's output)",
                    ),
                );
                return None;
            }
        };
        let mut slots = Vec::with_capacity(fields.len());
        let mut bound = Vec::with_capacity(fields.len());
        let mut ok = true;
        for (k, x) in fields.iter() {
            let Some(p) = params.iter().find(|p| *p.name == **k) else {
                ok = false;
                self.err(
                    Diagnostic::at(
                        Code::E0203,
                        x.span,
                        format!("`{template}` has no parameter `{k}` to map over"),
                        "unknown parameter",
                    )
                    .with_suggestion(k, params.iter().map(|p| p.name.as_str()))
                    .or_help("map one of the template's parameters"),
                );
                continue;
            };
            self.note(crate::refs::Raw::Def {
                at: x.span,
                def: p.span,
                kind: crate::refs::DefKind::Param,
            });
            let items = match &x.v {
                V::Output(o) => self.whole_output(o).then(|| x.clone()),
                V::List(items) => {
                    if items.is_empty() {
                        self.err(
                            Diagnostic::at(
                                Code::W0011,
                                x.span,
                                format!("task group mapped over an empty list of `{k}`"),
                                "no instance",
                            )
                            .with_help(
                                "with no item the group's tasks never run and the tasks downstream of it are skipped; give the list its items, or remove the group",
                            ),
                        );
                    }
                    self.checked_items(items, &p.ty, p.span, x.span)
                }
                V::Error => None,
                _ => {
                    self.err(
                        Diagnostic::at(
                            Code::E0338,
                            x.span,
                            format!("`{k}` is mapped over {}, not a list", with_kind(x)),
                            "one group instance is made per item of a list",
                        )
                        .with_help(format!(
                            "give a list of values for `{k}` (`{k} = [...]`), a list from a parameter or config file, or a task's output; to give every instance the same value, pass `{k}` as an argument of the template"
                        )),
                    );
                    None
                }
            };
            let Some(items) = items else {
                ok = false;
                continue;
            };
            slots.push(crate::layers::Slot::new(k, items, dag.layer, *span));
            let arg = crate::value::MapArg { param: k.clone() };
            bound.push((
                k.clone(),
                Value::new(V::MapArg(Rc::new(arg)), x.span),
                x.span,
            ));
        }
        ok.then_some((
            MapB {
                kwargs: false,
                slots,
                span: name.span,
            },
            bound,
        ))
    }

    /// A mapped group's expand input read from tasks' outputs: each such task becomes
    /// upstream of the group's first tasks, as Airflow's `MappedTaskGroup` makes it.
    pub(super) fn group_data_edges(&mut self, dag: &DagB, edges: &mut Vec<(TaskId, TaskId, Span)>) {
        for g in dag.groups.ids() {
            let Some(m) = &dag.groups[g].mapped else {
                continue;
            };
            let mut found = Vec::new();
            for s in &m.slots {
                if let V::Output(o) = &s.value.v {
                    found.push(o.clone());
                }
            }
            if found.is_empty() {
                continue;
            }
            // The first task declared in the group reads the output for the order check.
            let Some(first) = dag.tasks.ids().find(|&t| dag.inside(t, g)) else {
                continue;
            };
            let firsts = dag.ends(g, edges, true);
            for o in found {
                let producer = match o.producer.get() {
                    Some(p) => p.clone(),
                    None => {
                        let p = self.producer(dag, first, &o);
                        let _ = o.producer.set(p.clone());
                        p
                    }
                };
                if let Some((p, _)) = producer {
                    edges.extend(firsts.iter().map(|&t| (p, t, o.span)));
                    // A task given an item holds a `MappedArgument`, which Airflow
                    // resolves from the whole expand input: it is made downstream of
                    // every task that input reads, as for an output it reads.
                    for t in dag.tasks.ids().filter(|&t| dag.inside(t, g)) {
                        let reads_item = dag.tasks[t]
                            .slots
                            .iter()
                            .any(|s| coerce::first_map_arg(&s.value).is_some());
                        if reads_item {
                            edges.push((p, t, o.span));
                        }
                    }
                }
            }
            self.always_in_mapped_group(dag, g);
        }
    }

    /// Airflow refuses a task whose trigger rule is `always` in a group mapped over a
    /// task's output (`MappedTaskGroup.__iter__`).
    fn always_in_mapped_group(&mut self, dag: &DagB, g: GroupId) {
        for t in dag.tasks.ids().filter(|&t| dag.inside(t, g)) {
            let own = dag.tasks[t]
                .slots
                .iter()
                .find(|s| &*s.name == "trigger_rule")
                .map(|s| (s.value.clone(), s.span));
            let from_dag = || {
                let args = dag.slots.iter().find(|s| &*s.name == "default_args")?;
                match &args.value.v {
                    V::Record(kv) => kv
                        .iter()
                        .find(|(k, _)| &**k == "trigger_rule")
                        .map(|(_, v)| (v.clone(), v.span)),
                    _ => None,
                }
            };
            let Some((v, at)) = own.or_else(from_dag) else {
                continue;
            };
            if !matches!(&v.v, V::Str(s) if &**s == "always") {
                continue;
            }
            let group_span = dag.groups[g].name_span;
            self.err(
                Diagnostic::at(
                    Code::E0353,
                    at,
                    format!(
                        "task `{}` has trigger rule `always` in a group mapped over a task's output",
                        dag.tasks[t].id
                    ),
                    "`always` set here",
                )
                .with_label(group_span, "mapped over a task's output")
                .with_help(
                    "Airflow refuses `always` inside a group whose instances a task's output decides: use `all_done`, or map the group over a list",
                ),
            );
            return;
        }
    }
}
