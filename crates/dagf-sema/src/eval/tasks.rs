//! Task declarations: operators, templates (and their parents), abstract tasks.

use super::*;

impl Cx<'_> {
    pub(super) fn task_decl(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
    ) -> Option<TaskId> {
        self.only_dags_in_tenants(d);
        let (id, name_span) = self.name_of(m, env, &d.name, Some(dag))?;
        let Some(target) = &d.target else {
            dag.failed.push(id.clone());
            self.err(
                Diagnostic::at(
                    Code::E0208,
                    d.name.span,
                    format!("task `{id}` has no operator"),
                    "needs `: operator`",
                )
                .with_help(format!(
                    "write `task {id}: empty` or name another operator, such as `bash` or `python`"
                )),
            );
            return None;
        };
        let callee = self.expr(m, env, target, Some(dag));
        let template = match callee.v {
            V::Item(Item::Template(tid)) => Some(tid),
            _ => None,
        };
        let base = match template {
            Some(tid) => self
                .template_base(tid, target.span)
                .map_or(V::Error, |op| V::Item(Item::Operator(op))),
            None => callee.v.clone(),
        };
        let op = match base {
            V::Item(Item::Operator(op)) => op,
            V::Error => {
                dag.failed.push(id);
                return None;
            }
            _ => {
                dag.failed.push(id);
                self.err(
                    Diagnostic::at(Code::E0208, target.span, format!("a task is made from an operator, not from {}", a_kind(&callee)), "not an operator")
                        .with_help("name an operator such as `bash`, `python` or `empty`, or declare one with `operator`"),
                );
                return None;
            }
        };
        let replaces = match dag.names(dag.scope).get(&id) {
            Some(&Node::Task(prev)) if d.is_override => Some(prev),
            _ => None,
        };
        if d.is_override && replaces.is_none() {
            self.err(
                Diagnostic::at(
                    Code::E0213,
                    d.name.span,
                    format!("`override task {id}` replaces nothing"),
                    "no earlier layer declares this task",
                )
                .with_help("remove `override`: this declares a new task"),
            );
            return None;
        }
        if let (Some(&prev), None) = (dag.names(dag.scope).get(&id), replaces) {
            let prev_span = dag.node_span(prev);
            self.err(
                declared_again(
                    Code::E0301,
                    name_span,
                    prev_span,
                    format!("task id `{id}` is used twice in {}", dag.what()),
                )
                .with_help(format!("task ids must be unique within a DAG: rename one, or write `override task {id}: ...` to replace a task a template, parent factory or factory declared")),
            );
            return None;
        }
        let task = TaskB {
            id: format!("{}{id}", dag.prefix()),
            group: dag.scope,
            local: id.clone(),
            op,
            slots: Vec::new(),
            span: d.span,
            name_span,
            incomplete: d.body.iter().flatten().any(|s| matches!(s, Stmt::Error(_))),
            meant: Vec::new(),
            setup_by: None,
            teardown_by: None,
            mapped: None,
        };
        // `override task` keeps the replaced task's place (and the dependencies on it).
        let t = match replaces {
            Some(prev) => {
                dag.tasks[prev] = task;
                prev
            }
            None => dag.tasks.push(task),
        };
        let scope = dag.scope;
        dag.names_mut(scope).insert(id, Node::Task(t));
        if let Some(tid) = template {
            // The arguments go to the template's parameters; its body (and its parents')
            // set the fields, each a layer below the task's own body.
            let info = &self.prog.templates[tid];
            let (params, name) = (info.params.clone(), info.decl.name.name.clone());
            let args = d.args.clone().unwrap_or_default();
            match self.bind_args(m, env, &params, &args, target.span, &name) {
                Some(tenv) => self.apply_template(tid, tenv, dag, t),
                // The template set nothing: a field it would have set is not also "missing".
                None => dag.tasks[t].incomplete = true,
            }
        }
        // `task t: ... with m { ... }`: the mixins' fields, a layer below the task's body.
        self.apply_mixins(&d.mixins, m, env, dag, Scope::Task(t));
        if template.is_none() {
            self.operator_args(m, env, d.args.as_deref().unwrap_or_default(), dag, t);
        }
        if let Some(body) = &d.body {
            let mark = env.len();
            self.body(m, env, body, dag, Scope::Task(t));
            env.truncate(mark);
        }
        Some(t)
    }

    /// Arguments given to an operator directly (`bash(bash_command = "x")`): its fields,
    /// by name. A positional one is an error, and leaves the task incomplete.
    pub(super) fn operator_args(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        args: &[ast::Arg],
        dag: &mut DagB,
        t: TaskId,
    ) {
        for arg in args {
            let Some(name) = &arg.name else {
                self.err(
                    Diagnostic::at(
                        Code::E0203,
                        arg.span,
                        "operator fields are passed by name",
                        "no field name",
                    )
                    .with_help("write `field = value`"),
                );
                dag.tasks[t].incomplete = true;
                continue;
            };
            let v = self.expr(m, env, &arg.value, Some(dag));
            self.task_field(dag, t, name, v, false, false, arg.span);
        }
    }

    /// The operator a task template is built on, following parent templates; reports a
    /// group template used for a task and templates that build on themselves.
    pub(super) fn template_base(&mut self, tid: TemplateId, at: Span) -> Option<OperatorId> {
        let mut seen = vec![tid];
        let mut on_chain = std::collections::HashSet::from([tid]);
        let mut cur = tid;
        loop {
            let info = &self.prog.templates[cur];
            let (module, decl) = (info.module, info.decl.clone());
            let Some(target) = &decl.target else {
                self.err(
                    Diagnostic::at(
                        Code::E0208,
                        at,
                        format!("`{}` is a group template", decl.name.name),
                        "not a task template",
                    )
                    .with_label(decl.name.span, "declared `: group` here")
                    .with_help(format!(
                        "make a task group with `group NAME: {}(...)`",
                        decl.name.name
                    )),
                );
                return None;
            };
            match self.expr(module, &mut Env::new(), target, None).v {
                V::Item(Item::Operator(op)) => return Some(op),
                V::Item(Item::Template(parent)) if on_chain.contains(&parent) => {
                    let cycle = &seen[seen.iter().position(|&t| t == parent).unwrap_or(0)..];
                    self.err(crate::checks::template_cycle(self.prog, cycle));
                    return None;
                }
                V::Item(Item::Template(parent)) => {
                    seen.push(parent);
                    on_chain.insert(parent);
                    cur = parent;
                }
                V::Error => return None,
                other => {
                    let v = Value::new(other, target.span);
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("a task template builds on an operator or a template, not on {}", a_kind(&v)), "not an operator or template")
                            .with_help("write `template NAME(...): bash { ... }`, or `: group` for a task group"),
                    );
                    return None;
                }
            }
        }
    }

    /// Sets a task's fields from a template: its parent first, then its own body. A
    /// chain of templates of any length is followed on a loop rather than the stack:
    /// each template's arguments to its parent are bound, child to parent, then the
    /// bodies run, parent to child. One whose arguments fail runs nothing of its own.
    pub(super) fn apply_template(&mut self, tid: TemplateId, env: Env, dag: &mut DagB, t: TaskId) {
        let mut frames: Vec<(TemplateId, Env)> = vec![(tid, env)];
        // `template_base` has refused chains that lead back; this only keeps the loop finite.
        let mut on_chain = std::collections::HashSet::from([tid]);
        while let Some((cur, env)) = frames.last_mut() {
            let cur = *cur;
            self.used_templates.insert(cur);
            let info = &self.prog.templates[cur];
            let (module, decl) = (info.module, info.decl.clone());
            let Some(target) = &decl.target else {
                break;
            };
            match self.expr(module, &mut Env::new(), target, None).v {
                V::Item(Item::Template(parent)) if on_chain.insert(parent) => {
                    let pinfo = &self.prog.templates[parent];
                    let (params, name) = (pinfo.params.clone(), pinfo.decl.name.name.clone());
                    let args = decl.target_args.clone().unwrap_or_default();
                    match self.bind_args(module, env, &params, &args, target.span, &name) {
                        Some(penv) => frames.push((parent, penv)),
                        None => {
                            frames.pop();
                            break;
                        }
                    }
                }
                V::Item(Item::Template(_)) => break,
                _ => {
                    // Built on an operator: arguments after it are its fields.
                    let outer = std::mem::replace(&mut dag.layer, Layer::Template(cur));
                    let args = decl.target_args.clone().unwrap_or_default();
                    self.operator_args(module, env, &args, dag, t);
                    dag.layer = outer;
                    break;
                }
            }
        }
        while let Some((cur, mut env)) = frames.pop() {
            let info = &self.prog.templates[cur];
            let (module, decl) = (info.module, info.decl.clone());
            self.apply_mixins(&decl.mixins, module, &mut env, dag, Scope::Task(t));
            let outer = std::mem::replace(&mut dag.layer, Layer::Template(cur));
            self.body(module, &mut env, &decl.body, dag, Scope::Task(t));
            dag.layer = outer;
        }
    }

    /// `abstract task NAME` in an abstract factory: a task every concrete child declares.
    pub(super) fn abstract_decl(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        d: &ast::Decl,
        dag: &mut DagB,
        scope: Scope,
    ) {
        let Some(owner) = dag
            .in_abstract
            .clone()
            .filter(|_| scope == Scope::Dag && d.kind == DeclKind::Task)
        else {
            self.not_here(
                d.span,
                "here",
                "`abstract task NAME` goes at the top of an `abstract factory` body",
            );
            return;
        };
        if d.target.is_some() || d.body.is_some() {
            self.err(
                Diagnostic::at(
                    Code::E0106,
                    d.span,
                    "an abstract task has no operator or body",
                    "declares more than a name",
                )
                .with_help("write `abstract task NAME`; the child factory declares it fully"),
            );
            return;
        }
        if let Some((name, _)) = self.name_of(m, env, &d.name, Some(dag)) {
            dag.abstracts.push((name, d.span, owner));
        }
    }
}
