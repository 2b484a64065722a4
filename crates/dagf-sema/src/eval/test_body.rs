//! A `test` block's body: its dags are built as top-level ones are (every layer and
//! check, nothing written), each bound to its name as a record of what Airflow gets,
//! and its assertions evaluated against them.

use super::*;
use dagf_syntax::ast::TestStmt;

/// What running one test's body found, besides the errors building its dags reported.
#[derive(Debug, Default)]
pub(crate) struct TestRun {
    /// A failed assertion each (E0801), at the assertion, with the actual and expected values.
    pub failures: Vec<Diagnostic>,
    /// The dags a `snapshot` statement names, with where the statement is.
    pub snapshots: Vec<(Span, dagf_ir::Dag)>,
    /// The `run` statements, checked.
    pub runs: Vec<crate::RunPlan>,
    /// The pools the project declares, for the Airflow that runs them.
    pub pools: Vec<dagf_ir::Pool>,
}

/// Runs the body of `test` (declared in module `m`) over the program's globals.
pub(crate) fn run_test(
    prog: &Program,
    sources: &Sources,
    options: &Options,
    m: ModuleId,
    test: &ast::TestDecl,
    diags: &mut Diagnostics,
) -> TestRun {
    let mut cx = Cx::new(prog, sources, options, None, diags);
    let mut run = TestRun::default();
    if !cx.check_env() {
        return run;
    }
    cx.check_kinds();
    for &module in &prog.order {
        cx.globals_of(module);
    }
    let mut env = Env::new();
    for s in &test.body {
        match s {
            TestStmt::Stmt(Stmt::Let { name, value, .. }) => {
                let v = cx.expr(m, &mut env, value, None);
                env.push((Rc::from(name.name.as_str()), v));
            }
            TestStmt::Stmt(Stmt::Decl(d)) if d.kind == DeclKind::Dag => {
                let v = cx.test_dag(m, &mut env, d);
                // Only a name written as an identifier is bound: a string's span holds its
                // quotes, so it is longer than its text.
                if let ExprKind::Str(parts) = &d.name.kind
                    && let [StrPart::Text(name)] = parts.as_slice()
                    && d.name.span.end - d.name.span.start == name.len() as u32
                {
                    env.push((Rc::from(name.as_str()), v));
                }
            }
            TestStmt::Stmt(Stmt::Error(_)) | TestStmt::Fixture { .. } => {}
            TestStmt::Project { name, .. } => {
                let v = cx.test_project(name.span);
                env.push((Rc::from(name.name.as_str()), v));
            }
            TestStmt::Run { dag, expects, span } => {
                if let Some(plan) = cx.test_run(m, &mut env, dag, expects, *span) {
                    run.runs.push(plan);
                }
            }
            TestStmt::Stmt(other) => cx.not_here(
                other.span(),
                "in a test",
                "a test holds `let`, `dag`, `assert`, `fixture` and `snapshot` statements",
            ),
            TestStmt::Assert { cond, message, .. } => {
                if let Some(f) = cx.test_assert(m, &mut env, cond, message.as_ref()) {
                    run.failures.push(f);
                }
            }
            TestStmt::Snapshot { value, span } => {
                let v = cx.expr(m, &mut env, value, None);
                match cx.dag_of(&v) {
                    Some(d) => run.snapshots.push((*span, d.clone())),
                    None if v.is_error() => {}
                    None => cx.err(
                        Diagnostic::at(
                            Code::E0804,
                            value.span,
                            format!(
                                "`snapshot` takes a dag built in the test, not {}",
                                a_kind(&v)
                            ),
                            "not a dag of this test",
                        )
                        .with_help(
                            "build the dag first, `dag d: factory(...)`, then write `snapshot d`",
                        ),
                    ),
                }
            }
        }
    }
    if !run.runs.is_empty() {
        // The pools are the project's, whatever the test's dags use: Airflow is given all
        // of them. Their mistakes are the project's check's to report.
        let declared = cx.declared_pools();
        let mut scratch = Diagnostics::new();
        let pools = crate::pools::check(declared, &cx.facts, &mut scratch);
        run.pools = pools.iter().filter_map(crate::pools::to_ir).collect();
    }
    cx.flush_refs();
    run
}

impl Cx<'_> {
    /// The dag a value of a test stands for: the very record a `dag` of the test (or its
    /// `project`) was bound to, not one that looks like it.
    fn dag_of(&self, v: &Value) -> Option<&dagf_ir::Dag> {
        match &v.v {
            V::Record(fields) => self
                .test_dags
                .iter()
                .find(|(r, _)| Rc::ptr_eq(r, fields))
                .and_then(|(_, i)| self.project.dags.get(*i)),
            _ => None,
        }
    }

    /// `project p`: the whole project built as a build builds it (every dag and every
    /// check across the project), given as a record: `dags` (each by id), `dag_ids`,
    /// `files`.
    fn test_project(&mut self, at: Span) -> Value {
        let mut found = Diagnostics::new();
        let built = super::run(self.prog, self.sources, self.options, None, &mut found);
        // The globals' mistakes are already reported, by the test's own evaluation.
        let known: std::collections::HashSet<Diagnostic> = self.diags.iter().cloned().collect();
        for d in found.into_sorted() {
            if !known.contains(&d) {
                self.diags.push(d);
            }
        }
        let v = |x: V| Value::new(x, at);
        let s = |t: &str| v(V::Str(Rc::from(t)));
        let mut dags = Vec::new();
        for dag in built.dags {
            let value = dag_value(&dag, at);
            if let V::Record(fields) = &value.v {
                self.test_dags
                    .push((fields.clone(), self.project.dags.len()));
            }
            dags.push((Rc::from(dag.dag_id.as_str()), value, dag.path()));
            self.project.dags.push(dag);
        }
        let ids = dags.iter().map(|(id, _, _)| s(id)).collect();
        let mut files: Vec<String> = dags.iter().map(|(_, _, f)| f.clone()).collect();
        files.sort();
        let fields: Vec<(Rc<str>, Value)> = vec![
            (
                Rc::from("dags"),
                v(V::Record(Rc::new(
                    dags.into_iter().map(|(id, d, _)| (id, d)).collect(),
                ))),
            ),
            (Rc::from("dag_ids"), v(V::List(Rc::new(ids)))),
            (
                Rc::from("files"),
                v(V::List(Rc::new(files.iter().map(|f| s(f)).collect()))),
            ),
        ];
        v(V::Record(Rc::new(fields)))
    }

    /// `run d { expect ... }`: the dag and its expectations, checked now so that a
    /// mistake in them is found without Airflow.
    fn test_run(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        dag: &Expr,
        expects: &[Expr],
        span: Span,
    ) -> Option<crate::RunPlan> {
        let v = self.expr(m, env, dag, None);
        let Some(built) = self.dag_of(&v).cloned() else {
            if !v.is_error() {
                self.err(
                    Diagnostic::at(
                        Code::E0811,
                        dag.span,
                        format!("`run` takes a dag built in the test, not {}", a_kind(&v)),
                        "not a dag of this test",
                    )
                    .with_help("build the dag first (`dag d: factory(...)`, or `project p` and `p.dags.ID`), then write `run d`"),
                );
            }
            return None;
        };
        let mut out = Vec::new();
        let mut ok = true;
        for x in expects {
            match self.expectation(m, env, &built, x) {
                Some(e) => out.push(e),
                None => ok = false,
            }
        }
        if expects.is_empty() {
            out.push(crate::Expectation {
                task: None,
                state: "success".into(),
                span,
            });
        }
        ok.then_some(crate::RunPlan {
            span,
            dag: built,
            expects: out,
        })
    }

    /// One `expect`: `state == "STATE"` (the dag run's) or `tasks.ID == "STATE"`
    /// (`tasks["ID"]`, `tasks.GROUP.TASK`).
    fn expectation(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        dag: &dagf_ir::Dag,
        x: &Expr,
    ) -> Option<crate::Expectation> {
        let malformed = |cx: &mut Self, at: Span| {
            cx.err(
                Diagnostic::at(
                    Code::E0808,
                    at,
                    "an expectation of a run says what a task or the run ends in",
                    "not `tasks.ID == \"STATE\"` or `state == \"STATE\"`",
                )
                .with_help("write `expect tasks.load == \"success\"` for a task, or `expect state == \"failed\"` for the dag run"),
            );
        };
        let ExprKind::Binary(BinOp::Eq, lhs, rhs) = &x.kind else {
            malformed(self, x.span);
            return None;
        };
        let task = match self.task_path(m, env, lhs) {
            Some(t) => t,
            None => {
                malformed(self, lhs.span);
                return None;
            }
        };
        let state_value = self.expr(m, env, rhs, None);
        let state = match &state_value.v {
            V::Str(s) => s.to_string(),
            _ if state_value.is_error() => return None,
            _ => {
                malformed(self, rhs.span);
                return None;
            }
        };
        let known = if task.is_some() {
            crate::TASK_STATES
        } else {
            crate::RUN_STATES
        };
        if !known.contains(&state.as_str()) {
            let whose = if task.is_some() {
                "a task ends a run in"
            } else {
                "a dag run ends in"
            };
            self.err(
                Diagnostic::at(
                    Code::E0809,
                    rhs.span,
                    format!("`{state}` is not a state {whose}"),
                    "unknown state",
                )
                .with_suggestion(&state, known.iter().copied())
                .or_help(format!("write one of {}", known.join(", ")))
                .with_note(format!("the states: {}", known.join(", "))),
            );
            return None;
        }
        if let Some(id) = &task
            && dag.task_index(id).is_none()
        {
            let ids: Vec<&str> = dag.tasks().map(|t| t.task_id.as_str()).collect();
            self.err(
                Diagnostic::at(
                    Code::E0810,
                    lhs.span,
                    format!("the dag `{}` has no task `{id}`", dag.dag_id),
                    "no such task",
                )
                .with_suggestion(id, ids.iter().copied())
                .or_help("name a task of the dag, as `task_ids` lists them")
                .with_note(format!("its tasks: {}", abbreviate(&ids))),
            );
            return None;
        }
        Some(crate::Expectation {
            task,
            state,
            span: x.span,
        })
    }

    /// What the left side of an expectation names: `Some(None)` for `state`,
    /// `Some(Some(id))` for a task, `None` if it is neither.
    fn task_path(&mut self, m: ModuleId, env: &mut Env, x: &Expr) -> Option<Option<String>> {
        match &x.kind {
            ExprKind::Name(n) if n == "state" => Some(None),
            ExprKind::Field(base, field) => {
                let mut parts = vec![field.name.clone()];
                let mut at = base.as_ref();
                loop {
                    match &at.kind {
                        ExprKind::Name(n) if n == "tasks" => break,
                        ExprKind::Field(b, f) => {
                            parts.push(f.name.clone());
                            at = b.as_ref();
                        }
                        _ => return None,
                    }
                }
                parts.reverse();
                Some(Some(parts.join(".")))
            }
            ExprKind::Index(base, index) if matches!(&base.kind, ExprKind::Name(n) if n == "tasks") => {
                match &self.expr(m, env, index, None).v {
                    V::Str(s) => Some(Some(s.to_string())),
                    _ => None,
                }
            }
            _ => None,
        }
    }
    /// Builds a dag of a test as a top-level `dag` statement would, and gives it as a record.
    fn test_dag(&mut self, m: ModuleId, env: &mut Env, d: &ast::Decl) -> Value {
        let (before, errors) = (self.project.dags.len(), self.diags.error_count());
        self.dag_decl(m, env, d);
        // A dag with an error is no dag to assert on: its mistakes are the test's failures.
        if self.diags.error_count() > errors {
            self.project.dags.truncate(before);
        }
        match self.project.dags.get(before) {
            Some(dag) if self.project.dags.len() == before + 1 => {
                let v = dag_value(dag, d.span);
                if let V::Record(fields) = &v.v {
                    self.test_dags.push((fields.clone(), before));
                }
                v
            }
            _ => Value::error(d.span),
        }
    }

    /// Evaluates an assertion: a failure (E0801) when its condition is false.
    fn test_assert(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        cond: &Expr,
        message: Option<&Expr>,
    ) -> Option<Diagnostic> {
        if self.condition(m, env, cond, None)? {
            return None;
        }
        let written = self.sources.get(cond.span.file).text.get(cond.span.range());
        let text = match message.map(|e| self.expr(m, env, e, None)) {
            Some(v) => match display(&v) {
                Some(t) => t,
                None => show(&v),
            },
            None => format!("assertion failed: `{}`", written.unwrap_or("...")),
        };
        let mut d = Diagnostic::at(Code::E0801, cond.span, text, "this is false");
        // A comparison shows both sides; `contains(xs, x)` shows what it looked in.
        match &cond.kind {
            ExprKind::Binary(
                op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                a,
                b,
            ) => {
                let (a, b) = (self.expr(m, env, a, None), self.expr(m, env, b, None));
                let (actual, expected) = (show(&a), show(&b));
                d = match op {
                    BinOp::Eq => d.with_note(format!("actual:   {actual}\nexpected: {expected}")),
                    BinOp::Ne => d.with_note(format!("both are {actual}")),
                    _ => d.with_note(format!("left:  {actual}\nright: {expected}")),
                };
            }
            ExprKind::Call(f, args) if matches!(&f.kind, ExprKind::Name(n) if n == "contains") => {
                if let [hay, needle] = args.as_slice() {
                    let (h, n) = (
                        self.expr(m, env, &hay.value, None),
                        self.expr(m, env, &needle.value, None),
                    );
                    d = d.with_note(format!("looked for {} in {}", show(&n), show(&h)));
                }
            }
            _ => {}
        }
        Some(d.with_help("the dag is not what the test expects: change the factory, or the test"))
    }
}

/// A built dag as a test sees it: its id, file, tasks and every argument, as Airflow gets them.
fn dag_value(dag: &dagf_ir::Dag, at: Span) -> Value {
    let v = |x: V| Value::new(x, at);
    let s = |t: &str| v(V::Str(Rc::from(t)));
    let list = |xs: Vec<Value>| v(V::List(Rc::new(xs)));
    let rec = |fs: Vec<(&str, Value)>| {
        v(V::Record(Rc::new(
            fs.into_iter().map(|(k, x)| (Rc::from(k), x)).collect(),
        )))
    };
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); dag.graph.node_count()];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); dag.graph.node_count()];
    for (a, b) in dag.edge_pairs() {
        if let (Some(d), Some(u)) = (down.get_mut(a), up.get_mut(b)) {
            d.push(b);
            u.push(a);
        }
    }
    let ids = |xs: &[usize]| list(xs.iter().map(|&i| s(&dag.task(i).task_id)).collect());
    let tasks: Vec<(Rc<str>, Value)> = dag
        .tasks()
        .enumerate()
        .map(|(i, t)| {
            let mut fs = vec![
                ("task_id", s(&t.task_id)),
                ("operator", s(&t.op.name)),
                (
                    "group",
                    match t.group.and_then(|g| dag.groups.get(g)) {
                        Some(g) => s(&g.group_id),
                        None => v(V::None),
                    },
                ),
                ("upstream", ids(up.get(i).map_or(&[], Vec::as_slice))),
                ("downstream", ids(down.get(i).map_or(&[], Vec::as_slice))),
            ];
            fs.extend(
                t.args
                    .iter()
                    .map(|f| (f.name.as_str(), ir_value(&f.value, at))),
            );
            (Rc::from(t.task_id.as_str()), rec(fs))
        })
        .collect();
    let mut fs = vec![
        ("dag_id", s(&dag.dag_id)),
        ("file", s(&dag.path())),
        (
            "tenant",
            match &dag.scope {
                Some(sc) => s(&sc.tenant),
                None => v(V::None),
            },
        ),
        (
            "task_ids",
            list(dag.tasks().map(|t| s(&t.task_id)).collect()),
        ),
        ("tasks", v(V::Record(Rc::new(tasks)))),
        (
            "edges",
            list(
                dag.edges()
                    .into_iter()
                    .map(|(a, b)| list(vec![s(a), s(b)]))
                    .collect(),
            ),
        ),
        (
            "groups",
            list(dag.groups.iter().map(|g| s(&g.group_id)).collect()),
        ),
        (
            "default_args",
            rec(dag
                .default_args
                .iter()
                .map(|f| (f.name.as_str(), ir_value(&f.value, at)))
                .collect()),
        ),
    ];
    fs.extend(
        dag.args
            .iter()
            .filter(|f| !matches!(f.name.as_str(), "dag_id" | "tasks" | "task_ids" | "file"))
            .map(|f| (f.name.as_str(), ir_value(&f.value, at))),
    );
    rec(fs)
}

/// An IR value as a test compares it.
fn ir_value(x: &dagf_ir::Value, at: Span) -> Value {
    use dagf_ir::Value as I;
    let many = |xs: &[I]| Rc::new(xs.iter().map(|x| ir_value(x, at)).collect::<Vec<_>>());
    let pairs = |xs: &[(String, I)]| {
        Rc::new(
            xs.iter()
                .map(|(k, x)| (Rc::from(k.as_str()), ir_value(x, at)))
                .collect::<Vec<_>>(),
        )
    };
    let v = match x {
        I::None => V::None,
        I::Bool(b) => V::Bool(*b),
        I::Int(i) => V::Int(*i),
        I::Float(f) => V::Float(*f),
        I::Str(s) => V::Str(Rc::from(s.as_str())),
        I::Duration(ms) => V::Duration(*ms),
        I::Date(d) => V::Date(*d),
        I::DateTime(t) => V::DateTime(*t),
        I::List(xs) => V::List(many(xs)),
        I::Dict(fs) | I::Param(fs) => V::Record(pairs(fs)),
        I::PyRef { module, name } => V::PyRef(Rc::from(format!("{module}.{name}").as_str())),
        I::Callable { module, name, .. } => V::Str(Rc::from(format!("{module}.{name}").as_str())),
        I::Asset {
            name,
            uri,
            alias,
            args,
        } => V::Asset(Rc::new(Asset {
            name: name.clone(),
            uri: uri.clone(),
            alias: *alias,
            args: pairs(args).to_vec(),
        })),
        I::AssetAll(xs) => V::AssetAll(many(xs)),
        I::AssetAny(xs) => V::AssetAny(many(xs)),
        I::Output { task, key } => V::Str(Rc::from(match key {
            Some(k) => format!("{task}.output[\"{k}\"]"),
            None => format!("{task}.output"),
        })),
        // The group's parameter, as the body that reads it names it.
        I::MappedArg { param } => V::Str(Rc::from(param.as_str())),
    };
    Value::new(v, at)
}

/// A value as dagf writes it, for a failure's actual and expected lines.
pub(crate) fn show(v: &Value) -> String {
    match &v.v {
        V::None => "none".into(),
        V::Str(s) => format!("{s:?}"),
        V::List(xs) | V::AssetAll(xs) | V::AssetAny(xs) => {
            let items: Vec<String> = xs.iter().map(show).collect();
            format!("[{}]", items.join(", "))
        }
        V::Record(fs) => {
            if fs.is_empty() {
                return "{}".into();
            }
            let items: Vec<String> = fs
                .iter()
                .map(|(k, x)| format!("{k} = {}", show(x)))
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        V::Asset(a) => format!("asset {:?}", a.uri),
        _ => display(v).unwrap_or_else(|| v.kind().to_string()),
    }
}
