//! Dependencies: `>>` operands, and turning them into edges between tasks once the
//! whole body is known.

use super::*;

/// `a.b.c` as its names, when the expression is only names and field accesses.
pub(super) fn name_path(e: &Expr) -> Option<Vec<(Rc<str>, Span)>> {
    match &e.kind {
        ExprKind::Name(n) => Some(vec![(Rc::from(n.as_str()), e.span)]),
        ExprKind::Field(base, f) => {
            let mut p = name_path(base)?;
            p.push((Rc::from(f.name.as_str()), f.span));
            Some(p)
        }
        _ => None,
    }
}

impl Cx<'_> {
    pub(super) fn deps(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        first: &Expr,
        rest: &[(DepOp, Expr)],
        dag: &mut DagB,
    ) {
        let mut prev = self.endpoints(m, env, first, dag);
        let mut prev_span = first.span;
        for (op, e) in rest {
            let next = self.endpoints(m, env, e, dag);
            // Each edge points at its own `a >> b` link of the chain.
            let span = prev_span.to(e.span);
            prev_span = e.span;
            for a in &prev {
                for b in &next {
                    let (up, down) = match op {
                        DepOp::Then => (a, b),
                        DepOp::After => (b, a),
                    };
                    dag.edges
                        .push((up.clone(), down.clone(), span, dag.depth()));
                }
            }
            prev = next;
        }
    }

    /// The tasks an operand of `>>` stands for. A bare name not bound by `let` is a task
    /// id, looked up when the whole body is known (so order of declaration is free).
    pub(super) fn endpoints(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        dag: &mut DagB,
    ) -> Vec<Endpoint> {
        match &e.kind {
            ExprKind::Name(n) if !env.iter().any(|(k, _)| &**k == n) => {
                vec![Endpoint::Path(
                    vec![(Rc::from(n.as_str()), e.span)],
                    dag.scope,
                )]
            }
            ExprKind::Field(..)
                if name_path(e).is_some_and(|p| !env.iter().any(|(k, _)| **k == *p[0].0)) =>
            {
                vec![Endpoint::Path(name_path(e).unwrap_or_default(), dag.scope)]
            }
            ExprKind::List(items) => items
                .iter()
                .flat_map(|i| self.endpoints(m, env, i, dag))
                .collect(),
            _ => {
                let v = self.expr(m, env, e, Some(dag));
                self.value_endpoints(&v, dag.scope)
            }
        }
    }

    /// Tasks and groups, and strings naming them (data read from a config file names
    /// its tasks' upstreams by id); a name is looked up when the body is complete.
    pub(super) fn value_endpoints(&mut self, v: &Value, scope: Option<GroupId>) -> Vec<Endpoint> {
        match &v.v {
            V::Task(t) => vec![Endpoint::Node(Node::Task(*t))],
            V::Group(g) => vec![Endpoint::Node(Node::Group(*g))],
            V::Str(name) => vec![Endpoint::Path(vec![(name.clone(), v.span)], scope)],
            V::List(items) => items
                .iter()
                .flat_map(|i| self.value_endpoints(i, scope))
                .collect(),
            V::Error => vec![],
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        v.span,
                        format!("`>>` connects tasks, not {}", a_kind(v)),
                        "not a task",
                    )
                    .with_help("name a task declared in this dag (by name or by a string holding its id), or a list of them"),
                );
                vec![]
            }
        }
    }

    /// The dependencies as edges between tasks. A group stands for its first tasks
    /// downstream of `>>` and its last tasks upstream; bodies nested deepest go first,
    /// so a group's ends are known before an outer dependency uses them.
    pub(super) fn task_edges(&mut self, dag: &mut DagB) -> Vec<(TaskId, TaskId, Span)> {
        let mut declared = std::mem::take(&mut dag.edges);
        declared.sort_by_key(|(_, _, _, depth)| std::cmp::Reverse(*depth));
        // A teardown's setups come first: they decide which tasks are setups and
        // teardowns, which a group's last tasks depend on.
        let mut edges: Vec<(TaskId, TaskId, Span)> = self.setup_edges(dag);
        for (a, b, span, _) in declared {
            let (Some(a), Some(b)) = (
                self.resolve_endpoint(dag, &a),
                self.resolve_endpoint(dag, &b),
            ) else {
                continue;
            };
            let ups = match a {
                Node::Task(t) => vec![t],
                Node::Group(g) => dag.ends(g, &edges, false),
            };
            let downs = match b {
                Node::Task(t) => vec![t],
                Node::Group(g) => dag.ends(g, &edges, true),
            };
            for &u in &ups {
                for &d in &downs {
                    edges.push((u, d, span));
                }
            }
        }
        edges
    }

    /// Each teardown's `setups`, resolved: each task named becomes a setup task,
    /// upstream of the teardown (as Airflow's `as_teardown(setups=...)` makes it). Then
    /// every task's role is noted for the group ends.
    fn setup_edges(&mut self, dag: &mut DagB) -> Vec<(TaskId, TaskId, Span)> {
        let mut edges = Vec::new();
        for (teardown, e, span) in std::mem::take(&mut dag.setups) {
            match self.resolve_endpoint(dag, &e) {
                Some(Node::Task(s)) => {
                    let at = match &e {
                        Endpoint::Path(p, _) => {
                            p.iter().fold(None, |acc: Option<Span>, (_, sp)| {
                                Some(acc.map_or(*sp, |a| a.to(*sp)))
                            })
                        }
                        Endpoint::Node(_) => None,
                    };
                    dag.tasks[s].setup_by.get_or_insert(at.unwrap_or(span));
                    edges.push((s, teardown, span));
                }
                Some(Node::Group(g)) => {
                    let at = match &e {
                        Endpoint::Path(p, _) => p.last().map_or(span, |(_, sp)| *sp),
                        Endpoint::Node(_) => span,
                    };
                    self.err(
                        Diagnostic::at(
                            Code::E0201,
                            at,
                            format!(
                                "`setups` names tasks, and `{}` is a task group",
                                dag.groups[g].id
                            ),
                            "a task group",
                        )
                        .with_help("name the setup tasks inside the group (`group.task`)"),
                    );
                }
                None => {}
            }
        }
        let prog = self.prog;
        let roles: Vec<(bool, bool)> = dag
            .tasks
            .iter()
            .map(|t| {
                let declares = |n: &str| prog.operators[t.op].fields.iter().any(|f| f.name == n);
                (
                    t.setup_span(declares).is_some(),
                    t.teardown_span(declares).is_some(),
                )
            })
            .collect();
        dag.setup_tasks = roles.iter().map(|r| r.0).collect();
        dag.teardowns = roles.iter().map(|r| r.1).collect();
        edges
    }

    /// Looks a `>>` operand up: a name in the scope it was written in, then in the
    /// scopes around it; each further part of a `group.name` path inside that group.
    /// `group.task` written as one string: a group declared in `scope` (or around it)
    /// whose name is a prefix, then the rest inside it (task ids may hold dots too).
    fn dotted(dag: &DagB, mut scope: Option<GroupId>, path: &str) -> Option<Node> {
        loop {
            for (i, _) in path.match_indices('.') {
                if let Some(&Node::Group(g)) = dag.names(scope).get(&path[..i]) {
                    let rest = &path[i + 1..];
                    if let Some(&n) = dag.groups[g].names.get(rest) {
                        return Some(n);
                    }
                    if let Some(n) = Self::dotted(dag, Some(g), rest) {
                        return Some(n);
                    }
                }
            }
            match scope {
                Some(g) => scope = dag.groups[g].parent,
                None => return None,
            }
        }
    }

    /// Whether `name` is declared in `scope` or a scope around it.
    fn declared(dag: &DagB, mut scope: Option<GroupId>, name: &str) -> bool {
        loop {
            if dag.names(scope).contains_key(name) {
                return true;
            }
            match scope {
                Some(g) => scope = dag.groups[g].parent,
                None => return false,
            }
        }
    }

    pub(super) fn resolve_endpoint(&mut self, dag: &DagB, e: &Endpoint) -> Option<Node> {
        let (path, scope) = match e {
            Endpoint::Node(n) => return Some(*n),
            Endpoint::Path(path, scope) => (path, *scope),
        };
        let ((first, first_span), rest) = path.split_first()?;
        // A string naming a task inside a group (`"stage.load-orders"`, as config files
        // write it) is a path, unless a task of the scope has that very id.
        if rest.is_empty() && first.contains('.') && !Self::declared(dag, scope, first) {
            if let Some(node) = Self::dotted(dag, scope, first) {
                return Some(node);
            }
            // A name under a group that failed was reported with the group.
            let under_failed = dag.failed.iter().any(|f| {
                first
                    .strip_prefix(f.as_str())
                    .is_some_and(|r| r.is_empty() || r.starts_with('.'))
            });
            if !under_failed {
                self.no_such(dag, scope, first, *first_span);
            }
            return None;
        }
        let mut at = scope;
        let mut node = loop {
            if let Some(n) = dag.names(at).get(&**first) {
                self.note_node(dag, *first_span, *n);
                break *n;
            }
            match at {
                Some(g) => at = dag.groups[g].parent,
                None => {
                    let abstract_task = dag.abstracts.iter().any(|(n, _, _)| **n == **first);
                    if !abstract_task && !dag.failed.iter().any(|f| **f == **first) {
                        self.no_such(dag, scope, first, *first_span);
                    }
                    return None;
                }
            }
        };
        for (part, span) in rest {
            let Node::Group(g) = node else {
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        *span,
                        format!(
                            "`{}` is a task, not a group",
                            dag.tasks[match node {
                                Node::Task(t) => t,
                                Node::Group(_) => TaskId::default(),
                            }]
                            .local
                        ),
                        "a task has no tasks inside",
                    )
                    .with_help("`group.task` names a task inside a task group"),
                );
                return None;
            };
            match dag.groups[g].names.get(&**part) {
                Some(n) => {
                    node = *n;
                    self.note_node(dag, *span, node);
                }
                None => {
                    self.no_such(dag, Some(g), part, *span);
                    return None;
                }
            }
        }
        Some(node)
    }

    /// Notes a use of a task or group's name, when tools asked for them.
    fn note_node(&mut self, dag: &DagB, at: Span, node: Node) {
        if self.refs.is_none() {
            return;
        }
        let raw = match node {
            Node::Task(t) => crate::refs::Raw::Node {
                at,
                def: dag.tasks[t].name_span,
                decl: dag.tasks[t].span,
                group: false,
            },
            Node::Group(g) => crate::refs::Raw::Node {
                at,
                def: dag.groups[g].name_span,
                decl: dag.groups[g].name_span,
                group: true,
            },
        };
        self.note(raw);
    }

    pub(super) fn no_such(&mut self, dag: &DagB, scope: Option<GroupId>, name: &str, span: Span) {
        let place = match scope {
            Some(g) => format!("task group `{}` of {}", dag.groups[g].id, dag.what()),
            None => dag.what(),
        };
        let mut names: Vec<&str> = Vec::new();
        let mut at = scope;
        loop {
            names.extend(dag.names(at).keys().map(String::as_str));
            // The name may have meant a task inside a group (`group.task`, as a config
            // file writes one) below this scope.
            {
                let prefix = at.map(|g| format!("{}.", dag.groups[g].id));
                let below =
                    |id: &'_ str| -> bool { prefix.as_deref().is_none_or(|p| id.starts_with(p)) };
                let strip = prefix.as_ref().map_or(0, String::len);
                names.extend(
                    dag.tasks
                        .iter()
                        .map(|t| t.id.as_str())
                        .chain(dag.groups.iter().map(|g| g.id.as_str()))
                        .filter(|id| below(id) && id.len() > strip)
                        .map(|id| &id[strip..]),
                );
            }
            match at {
                Some(g) => at = dag.groups[g].parent,
                None => break,
            }
        }
        let d = Diagnostic::at(
            Code::E0104,
            span,
            format!("{place} has no task or group `{name}`"),
            "no such task",
        )
        .with_suggestion(name, names.iter().copied())
        .or_help(format!("declare it with `task {name}: ...`"));
        self.err(d);
    }
}
