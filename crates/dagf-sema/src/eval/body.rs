//! Statements of dag, task and group bodies, and the fields they set.

use super::*;

/// The task fields that say what a task is for (`TaskRole`, and a teardown's `setups`):
/// the generated code calls `as_setup()` or `as_teardown()` instead of passing them.
pub(crate) const ROLE_FIELDS: [&str; 4] = ["setup", "teardown", "setups", "on_failure_fail_dagrun"];

pub(super) fn task_field_names<'a>(
    prog: &'a Program,
    task_args: &'a RecordTy,
    sensor_args: &'a RecordTy,
    op: OperatorId,
) -> Vec<&'a str> {
    let info = &prog.operators[op];
    let mut names: Vec<&str> = info.fields.iter().map(|f| f.name.as_str()).collect();
    names.extend(task_args.fields.iter().map(|f| f.name.as_str()));
    names.extend(ROLE_FIELDS);
    names.extend(super::mapping::MAP_FIELDS);
    if info.is_sensor {
        names.extend(sensor_args.fields.iter().map(|f| f.name.as_str()));
    }
    names
}

impl Cx<'_> {
    pub(super) fn body(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        stmts: &[Stmt],
        dag: &mut DagB,
        scope: Scope,
    ) {
        for s in stmts {
            if !self.tick(s.span()) {
                return;
            }
            self.stmt(m, env, s, dag, scope);
        }
    }

    pub(super) fn stmt(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        s: &Stmt,
        dag: &mut DagB,
        scope: Scope,
    ) {
        match s {
            Stmt::Let { name, value, .. } => {
                let v = self.expr(m, env, value, Some(dag));
                env.push((Rc::from(name.name.as_str()), v));
            }
            Stmt::For {
                var, iter, body, ..
            } => {
                let items = self.iterable(m, env, iter, Some(dag));
                for item in items {
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    self.body(m, env, body, dag, scope);
                    env.truncate(mark);
                }
            }
            Stmt::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                let branch = match self.condition(m, env, cond, Some(dag)) {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => return,
                };
                let mark = env.len();
                self.body(m, env, branch, dag, scope);
                env.truncate(mark);
            }
            Stmt::Field {
                is_override,
                name,
                append,
                value,
                span,
            } => {
                if let Scope::Task(t) = scope
                    && name.name == "setups"
                    && !self.prog.operators[dag.tasks[t].op]
                        .fields
                        .iter()
                        .any(|f| f.name == "setups")
                {
                    // Tasks, named as `>>` names them: looked up once the body is complete.
                    for e in self.endpoints(m, env, value, dag) {
                        dag.setups.push((t, e, *span));
                    }
                    dag.tasks[t].teardown_by.get_or_insert(*span);
                    return;
                }
                let v = self.expr(m, env, value, Some(dag));
                match scope {
                    Scope::Dag => self.dag_field(dag, name, v, *append, *is_override, *span),
                    Scope::Group(g) => {
                        self.group_field(dag, g, name, v, *append, *is_override, *span)
                    }
                    // For a task, `default_args { ... }` (from a mixin made for dags) sets the
                    // task's own arguments.
                    Scope::Task(t) if name.name == "default_args" && !*append => match &v.v {
                        V::Record(fields) => {
                            for (k, x) in fields.iter() {
                                let key = ast::Ident {
                                    name: k.to_string(),
                                    span: x.span,
                                };
                                self.task_field(
                                    dag,
                                    t,
                                    &key,
                                    x.clone(),
                                    false,
                                    *is_override,
                                    *span,
                                );
                            }
                        }
                        V::Error => {}
                        _ => self.task_field(dag, t, name, v, *append, *is_override, *span),
                    },
                    Scope::Task(t)
                        if mapping::MAP_FIELDS.contains(&name.name.as_str())
                            && !self.prog.operators[dag.tasks[t].op]
                                .fields
                                .iter()
                                .any(|f| f.name == name.name) =>
                    {
                        self.map_field(dag, t, name, v, *span)
                    }
                    Scope::Task(t) => {
                        self.task_field(dag, t, name, v, *append, *is_override, *span)
                    }
                }
            }
            Stmt::Params {
                is_override,
                params,
                ..
            } if scope == Scope::Dag => self.typed_params(m, env, params, *is_override, dag),
            Stmt::Decl(d) if d.is_abstract => self.abstract_decl(m, env, d, dag, scope),
            Stmt::After { body, span } => {
                // Not in an `after` block itself: the graph is finished by then.
                if matches!(dag.layer, Layer::Mixin(_))
                    && scope == Scope::Dag
                    && self.after_ctx.is_none()
                {
                    dag.afters.push(After {
                        module: m,
                        env: env.clone(),
                        body: body.clone(),
                        layer: dag.layer,
                        own: TaskId::default()..TaskId::default(),
                    });
                } else {
                    self.not_here(
                        *span,
                        "here",
                        "`after { ... }` goes at the top of a mixin applied to a factory or a dag, not inside another `after`",
                    );
                }
            }
            Stmt::Decl(d) if !matches!(scope, Scope::Task(_)) && d.kind == DeclKind::Task => {
                self.task_decl(m, env, d, dag);
            }
            Stmt::Decl(d) if !matches!(scope, Scope::Task(_)) && d.kind == DeclKind::Group => {
                self.group_decl(m, env, d, dag);
            }
            Stmt::Deps { first, rest, .. } if !matches!(scope, Scope::Task(_)) => {
                self.deps(m, env, first, rest, dag)
            }
            Stmt::Assert(a) => self.assert_stmt(m, env, a, Some(dag)),
            Stmt::Error(_) => {}
            other => {
                let (place, help) = match scope {
                    Scope::Dag => (
                        "in a dag body",
                        "a dag body holds fields, `params { ... }`, `task` and `group` declarations, dependencies, `let`, `for` and `if`",
                    ),
                    Scope::Group(_) => (
                        "in a task group",
                        "a task group holds `tooltip`, `task` and `group` declarations, dependencies, `let`, `for` and `if`",
                    ),
                    Scope::Task(_) => (
                        "in a task body",
                        "a task body holds the operator's fields, `let` and `if`",
                    ),
                };
                self.not_here(other.span(), place, help);
            }
        }
    }

    pub(super) fn dag_field(
        &mut self,
        dag: &mut DagB,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        let rec = self.dag_args.clone();
        let Some(field) = rec.field(&name.name) else {
            let hint = self.task_args.field(&name.name).is_some().then(|| {
                format!(
                    "`{0}` is a task argument: set it for every task with `default_args {{ {0} = ... }}`",
                    name.name
                )
            });
            self.unknown_field(
                name,
                "dag",
                rec.fields.iter().map(|f| f.name.as_str()).collect(),
                hint,
            );
            return;
        };
        self.note(crate::refs::Raw::Def {
            at: name.span,
            def: field.span,
            kind: crate::refs::DefKind::Field,
        });
        let v = self.coerce(v, &field.ty, Some(field.span));
        self.put(dag, Slots::Dag, &name.name, v, append, is_override, span);
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn task_field(
        &mut self,
        dag: &mut DagB,
        t: TaskId,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        let op = dag.tasks[t].op;
        let Some(field) = self.task_field_ty(op, &name.name) else {
            if self.prog.operators[op].rejected.contains(&name.name) {
                return;
            }
            let prog = self.prog;
            let (task_args, sensor_args) = (self.task_args.clone(), self.sensor_args.clone());
            let names = task_field_names(prog, &task_args, &sensor_args, op);
            let opname = prog.operators[op].name.clone();
            let hint = (!prog.operators[op].is_sensor && sensor_args.field(&name.name).is_some())
                .then(|| {
                    format!(
                        "`{}` is a sensor argument, and `{opname}` is not a sensor",
                        name.name
                    )
                });
            if let Some(m) = dagf_diag::did_you_mean(&name.name, names.iter().copied()) {
                dag.tasks[t].meant.push(m.to_string());
            }
            self.unknown_field(name, &format!("`{opname}` task"), names, hint);
            return;
        };
        self.note(crate::refs::Raw::Def {
            at: name.span,
            def: field.span,
            kind: crate::refs::DefKind::Field,
        });
        let info = &self.prog.operators[op];
        let place = coerce::FieldPlace {
            field: name.name.clone(),
            owner: info.name.clone(),
            templated: info.templated.contains(&name.name),
        };
        let outer = self.place.replace(place);
        let v = self.coerce(v, &field.ty, Some(field.span));
        self.place = outer;
        self.put(
            dag,
            Slots::Task(t),
            &name.name,
            v,
            append,
            is_override,
            span,
        );
    }

    pub(super) fn unknown_field(
        &mut self,
        name: &ast::Ident,
        what: &str,
        candidates: Vec<&str>,
        hint: Option<String>,
    ) {
        let d = no_such_field(
            name.span,
            format!("a {what} has no field `{}`", name.name),
            "unknown field",
            &name.name,
            &candidates,
            "remove it, or use one of the known fields",
            "known fields",
        );
        // A hint that knows the mistake says more than "did you mean".
        self.err(match hint {
            Some(h) => d.with_help(h),
            None => d,
        });
    }

    /// The declared field of an operator: its own, then the task arguments, then the sensor ones.
    pub(super) fn task_field_ty(&self, op: OperatorId, name: &str) -> Option<FieldTy> {
        let info = &self.prog.operators[op];
        info.fields
            .iter()
            .find(|f| f.name == name)
            .or_else(|| self.task_args.field(name))
            .or_else(|| self.task_role.field(name))
            .or_else(|| {
                if info.is_sensor {
                    self.sensor_args.field(name)
                } else {
                    None
                }
            })
            .cloned()
    }

    /// `group NAME: TEMPLATE(args) { body }` or `group NAME { body }`: a TaskGroup.
    pub(super) fn group_decl(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
    ) -> Option<GroupId> {
        self.only_dags_in_tenants(d);
        let (local, name_span) = self.name_of(m, env, &d.name, Some(dag))?;
        if local.is_empty()
            || !local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            self.err(
                Diagnostic::at(Code::E0302, name_span, format!("group id `{local}` has characters Airflow rejects"), "invalid group id")
                    .with_help("group ids may hold only ASCII letters, digits, `-` and `_` (no `.`: it separates groups in task ids)"),
            );
            dag.failed.push(local);
            return None;
        }
        if let Some(&prev) = dag.names(dag.scope).get(&local) {
            let prev_span = dag.node_span(prev);
            self.err(
                declared_again(
                    Code::E0301,
                    name_span,
                    prev_span,
                    format!("`{local}` is used twice in {}", dag.what()),
                )
                .with_help("tasks and groups in one body need distinct names; rename one"),
            );
            return None;
        }
        let template = match &d.target {
            None => None,
            Some(target) => match self.expr(m, env, target, Some(dag)).v {
                V::Item(Item::Template(tid)) if self.prog.templates[tid].decl.target.is_none() => {
                    Some((tid, target.span))
                }
                V::Error => {
                    dag.failed.push(local);
                    return None;
                }
                other => {
                    let what = match &other {
                        V::Item(Item::Template(_)) => "a task template".to_string(),
                        _ => a_kind(&Value::new(other.clone(), target.span)),
                    };
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("a task group is made from a group template, not from {what}"), "not a group template")
                            .with_help("declare one with `template NAME(...): group { ... }`, or write the group's body inline: `group NAME { ... }`"),
                    );
                    dag.failed.push(local);
                    return None;
                }
            },
        };
        // A group made from a template is mapped by an `expand` in its body, which the
        // template's body needs first: its parameters are the group's items.
        let (expand, own_body) = match (&template, &d.body) {
            (Some(_), Some(body)) => {
                let (expand, rest) = mapping::split_expand(body);
                (expand, Some(rest))
            }
            (_, body) => (None, body.as_deref().map(std::borrow::Cow::Borrowed)),
        };
        let mut mapped = None;
        let mut bound = Vec::new();
        if let (Some(stmt), Some((tid, _))) = (expand, template) {
            let info = &self.prog.templates[tid];
            let (params, name) = (info.params.clone(), info.decl.name.name.clone());
            match self.group_expand(m, env, dag, stmt, &params, &name) {
                Some((map, b)) => {
                    mapped = Some(map);
                    bound = b;
                }
                None => {
                    dag.failed.push(local);
                    return None;
                }
            }
        }
        let parent = dag.scope;
        let g = dag.groups.push(GroupB {
            local: local.clone(),
            id: format!("{}{local}", dag.prefix()),
            parent,
            name_span,
            slots: Vec::new(),
            mapped,
            order: dag.tasks.len(),
            depth: dag.depth(),
            names: HashMap::new(),
        });
        dag.names_mut(parent).insert(local, Node::Group(g));
        dag.scope = Some(g);
        if let Some((tid, call)) = template {
            let info = &self.prog.templates[tid];
            let (module, decl, params) = (info.module, info.decl.clone(), info.params.clone());
            let args = d.args.clone().unwrap_or_default();
            if let Some(mut tenv) =
                self.bind_rest(m, env, &params, &bound, &args, call, &decl.name.name)
            {
                self.used_templates.insert(tid);
                self.apply_mixins(&decl.mixins, module, &mut tenv, dag, Scope::Group(g));
                let outer = std::mem::replace(&mut dag.layer, Layer::Template(tid));
                self.body(module, &mut tenv, &decl.body, dag, Scope::Group(g));
                dag.layer = outer;
            }
        }
        self.apply_mixins(&d.mixins, m, env, dag, Scope::Group(g));
        if let Some(body) = &own_body {
            let mark = env.len();
            self.body(m, env, body.as_ref(), dag, Scope::Group(g));
            env.truncate(mark);
        }
        dag.scope = parent;
        Some(g)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn group_field(
        &mut self,
        dag: &mut DagB,
        g: GroupId,
        name: &ast::Ident,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        if append {
            self.err(not_a_list(
                &name.name,
                span,
                format!("write `{} = ...`", name.name),
            ));
            return;
        }
        if mapping::MAP_FIELDS.contains(&name.name.as_str()) {
            self.err(
                Diagnostic::at(
                    Code::E0352,
                    name.span,
                    "only a group made from a group template can be mapped",
                    "this group has no parameters to map over",
                )
                .with_help(
                    "declare the group's body as `template NAME(PARAM: TYPE): group { ... }` and map it: `group g: NAME { expand = { PARAM = LIST } }`",
                ),
            );
            return;
        }
        if name.name != "tooltip" {
            self.unknown_field(name, "task group", vec!["tooltip"], None);
            return;
        }
        let v = self.coerce(v, &Ty::Str, None);
        self.put(
            dag,
            Slots::Group(g),
            &name.name,
            v,
            false,
            is_override,
            span,
        );
    }
}
