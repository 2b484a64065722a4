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
                // The very record a `dag` of the test was bound to, not one that looks like it.
                let dag = match &v.v {
                    V::Record(fields) => cx
                        .test_dags
                        .iter()
                        .find(|(r, _)| Rc::ptr_eq(r, fields))
                        .and_then(|(_, i)| cx.project.dags.get(*i)),
                    _ => None,
                };
                match dag {
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
    cx.flush_refs();
    run
}

impl Cx<'_> {
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
