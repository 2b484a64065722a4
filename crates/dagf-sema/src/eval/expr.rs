//! Expressions: literals, names, strings, comprehensions, conditions and calls.

use super::*;

impl Cx<'_> {
    /// The string a dag, task or group is named by, and where to point at it: a name
    /// taken whole from a config file (`"${spec.id}"`) points into that file.
    pub(super) fn name_of(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Option<(String, Span)> {
        if let ExprKind::Str(parts) = &e.kind
            && let [StrPart::Interp(x)] = parts.as_slice()
        {
            let v = self.expr(m, env, x, dag);
            return match (&v.v, display(&v)) {
                (V::Str(s), _) if self.read_from_config(v.span) => Some((s.to_string(), v.span)),
                (_, Some(t)) => Some((t, e.span)),
                (V::Error, _) => None,
                _ => {
                    self.err(
                        Diagnostic::at(
                            Code::E0201,
                            x.span,
                            format!("cannot put {} inside a string", a_kind(&v)),
                            "not text",
                        )
                        .with_help("interpolate a str, number, bool, duration or date"),
                    );
                    None
                }
            };
        }
        let v = self.expr(m, env, e, dag);
        match &v.v {
            V::Str(s) => Some((s.to_string(), e.span)),
            V::Error => None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("a name must be a string, found {}", v.kind()),
                        "not a string",
                    )
                    .with_help("interpolate it: \"name_${value}\""),
                );
                None
            }
        }
    }

    pub(super) fn condition(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Option<bool> {
        let v = self.expr(m, env, e, dag);
        match v.v {
            V::Bool(b) => Some(b),
            V::Error => None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("a condition must be a bool, found {}", v.kind()),
                        "not a bool",
                    )
                    .with_help("compare it: `x == \"value\"`, `len(xs) > 0`"),
                );
                None
            }
        }
    }

    pub(super) fn iterable(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Vec<Value> {
        let v = self.expr(m, env, e, dag);
        match &v.v {
            V::List(items) => items.to_vec(),
            V::Record(fields) => fields
                .iter()
                .map(|(k, _)| Value::new(V::Str(k.clone()), v.span))
                .collect(),
            // Every tenant of a kind, in declaration order.
            V::Item(Item::Kind(k)) => {
                let k = *k;
                let of_kind: Vec<InstanceId> = self
                    .prog
                    .instances
                    .ids()
                    .filter(|&i| self.kind_of(i) == Some(k))
                    .collect();
                of_kind
                    .into_iter()
                    .filter_map(|i| {
                        if self.instance(i).is_none() {
                            // A tenant in error (reported): the dags made for it are missing.
                            self.ids_unsure = true;
                            return None;
                        }
                        Some(Value::new(V::Tenant(i), v.span))
                    })
                    .collect()
            }
            V::Error => vec![],
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        e.span,
                        format!("`for` walks a list, found {}", v.kind()),
                        "not a list",
                    )
                    .with_help("use a list literal, `range(n)` or a list-typed parameter"),
                );
                vec![]
            }
        }
    }

    pub(super) fn expr(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        dag: Option<&mut DagB>,
    ) -> Value {
        if !self.tick(e.span) {
            return Value::error(e.span);
        }
        self.depth += 1;
        let v = self.expr_inner(m, env, e, dag);
        self.depth -= 1;
        // Data read from a config file keeps pointing where it was written.
        let span = match e.kind {
            ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..) => {
                self.data_span.take().unwrap_or(e.span)
            }
            _ => e.span,
        };
        Value::new(v, span)
    }

    pub(super) fn expr_inner(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        e: &Expr,
        mut dag: Option<&mut DagB>,
    ) -> V {
        match &e.kind {
            ExprKind::None => V::None,
            ExprKind::Bool(b) => V::Bool(*b),
            ExprKind::Int(i) => V::Int(*i),
            ExprKind::Float(f) => V::Float(*f),
            ExprKind::Duration(ms) => V::Duration(*ms),
            ExprKind::Date(d) => V::Date(*d),
            ExprKind::DateTime(t) => V::DateTime(*t),
            ExprKind::Preset(p) => V::Preset(Rc::from(p.as_str())),
            ExprKind::Str(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(x) => {
                            let v = self.expr(m, env, x, dag.as_deref_mut());
                            match display(&v) {
                                Some(t) => out.push_str(&t),
                                None if v.is_error() => return V::Error,
                                None if matches!(v.v, V::MapArg(_)) => {
                                    self.runtime_item(
                                        x.span,
                                        "inside a string, which is made when the file is written",
                                    );
                                    return V::Error;
                                }
                                None if matches!(v.v, V::Output(_)) => {
                                    self.err(
                                        Diagnostic::at(Code::E0333, x.span, "a task's output cannot be put inside a string", "resolved only when the task runs")
                                            .with_help("give the output as a field's whole value (`bash_command = extract.output`), or pull it in a template: `{{ ti.xcom_pull(task_ids=\"extract\") }}`"),
                                    );
                                    return V::Error;
                                }
                                None => {
                                    self.err(
                                        Diagnostic::at(Code::E0201, x.span, format!("cannot put {} inside a string", a_kind(&v)), "not text")
                                            .with_help("interpolate a str, number, bool, duration or date; use `join(list, \",\")` for lists"),
                                    );
                                    return V::Error;
                                }
                            }
                        }
                    }
                }
                V::Str(Rc::from(out))
            }
            ExprKind::Name(n) => {
                if let Some(dag) = dag.as_deref()
                    && self.is_task_name(m, env, dag, n)
                {
                    self.err(
                        Diagnostic::at(
                            Code::E0201,
                            e.span,
                            format!("`{n}` is a task, not data"),
                            "a task",
                        )
                        .with_help(format!(
                            "for what the task returns, write `{n}.output` (in a templated field); for an order, write `{n} >> ...`"
                        )),
                    );
                    return V::Error;
                }
                self.name(m, env, n, e.span)
            }
            ExprKind::List(items) => {
                let vs: Vec<Value> = items
                    .iter()
                    .map(|i| self.expr(m, env, i, dag.as_deref_mut()))
                    .collect();
                V::List(Rc::new(vs))
            }
            ExprKind::Comprehension {
                var,
                iter,
                cond,
                body,
                flatten,
            } => {
                let items = self.iterable(m, env, iter, dag.as_deref_mut());
                let mut out = Vec::new();
                for item in items {
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    let keep = match cond {
                        Some(c) => self
                            .condition(m, env, c, dag.as_deref_mut())
                            .unwrap_or(false),
                        None => true,
                    };
                    if keep {
                        let v = self.expr(m, env, body, dag.as_deref_mut());
                        match (&v.v, *flatten) {
                            (V::List(xs), true) => out.extend(xs.iter().cloned()),
                            _ => out.push(v),
                        }
                    }
                    env.truncate(mark);
                }
                V::List(Rc::new(out))
            }
            ExprKind::Record(fields) => {
                let mut out: Vec<(Rc<str>, Value)> = Vec::new();
                for (k, x) in fields {
                    let v = self.expr(m, env, x, dag.as_deref_mut());
                    self.record_entry(
                        &mut out,
                        Rc::from(k.name.as_str()),
                        k.span,
                        v,
                        "remove one of them",
                    );
                }
                V::Record(Rc::new(out))
            }
            ExprKind::DynRecord(fields) => {
                let mut out: Vec<(Rc<str>, Value)> = Vec::new();
                for (k, x) in fields {
                    let Some((key, _)) = self.name_of(m, env, k, dag.as_deref_mut()) else {
                        continue;
                    };
                    let v = self.expr(m, env, x, dag.as_deref_mut());
                    let help = "two keys came out the same; make them differ";
                    self.record_entry(&mut out, Rc::from(key.as_str()), k.span, v, help);
                }
                V::Record(Rc::new(out))
            }
            ExprKind::Field(base, f) if f.name == "output" && dag.is_some() => {
                // A task's name is looked up when the dag is complete, as `>>` does.
                if let Some(path) = super::deps::name_path(base)
                    && let Some(dag) = dag.as_deref()
                    && !self.is_bound(m, env, &path[0].0)
                {
                    return self.output(Endpoint::Path(path, dag.scope), e.span);
                }
                let b = self.expr(m, env, base, dag);
                match b.v {
                    V::Task(t) => self.output(Endpoint::Node(Node::Task(t)), e.span),
                    V::Group(_) => {
                        self.err(
                            Diagnostic::at(
                                Code::E0334,
                                e.span,
                                "a task group has no output",
                                "a group returns nothing",
                            )
                            .with_help("read the output of a task inside it: `group.task.output`"),
                        );
                        V::Error
                    }
                    _ => self.field_of(b, f),
                }
            }
            ExprKind::Field(base, f) => {
                let b = self.expr(m, env, base, dag);
                if let V::Tenant(i) = b.v
                    && f.name == "name"
                    && let Some(kind) = self.kind_of(i)
                {
                    self.tenant_names.insert(e.span, kind);
                }
                self.field_of(b, f)
            }
            ExprKind::Index(base, idx) => {
                let b = self.expr(m, env, base, dag.as_deref_mut());
                let i = self.expr(m, env, idx, dag);
                match (&b.v, &i.v) {
                    (V::Output(o), V::Str(k)) if o.key.is_none() => {
                        V::Output(Rc::new(crate::value::Output {
                            source: o.source.clone(),
                            key: Some(k.clone()),
                            span: e.span,
                            producer: Default::default(),
                        }))
                    }
                    (V::Output(_), V::Error) => V::Error,
                    (V::Output(o), _) => {
                        let (label, help) = match o.key {
                            Some(_) => (
                                "one key already read",
                                "Airflow pulls one key of an output; read the rest in the task that receives it",
                            ),
                            None => (
                                "not a str",
                                "a key of an output is a str: `extract.output[\"rows\"]`",
                            ),
                        };
                        self.err(
                            Diagnostic::at(
                                Code::E0335,
                                i.span,
                                "an output is read by one str key",
                                label,
                            )
                            .with_help(help),
                        );
                        V::Error
                    }
                    _ => self.index(b, i),
                }
            }
            ExprKind::Call(callee, args) => {
                let c = self.expr(m, env, callee, dag.as_deref_mut());
                match c.v {
                    V::Item(Item::Builtin(b)) => self.call_builtin(m, env, b, args, e.span, dag),
                    V::Item(Item::Callback(c)) => self.bind_callback(m, env, c, args, callee.span),
                    V::Error => V::Error,
                    V::Item(Item::Factory(f)) => self.partial(m, env, f, &[], args),
                    V::Partial(p) => self.partial(m, env, p.factory, &p.bound, args),
                    _ => {
                        self.err(Diagnostic::at(Code::E0208, callee.span, format!("{} cannot be called", a_kind(&c)), "not a function").with_help("only built-in functions such as `len` and `join` are called with `(...)`"));
                        V::Error
                    }
                }
            }
            ExprKind::Unary(op, x) => {
                let v = self.expr(m, env, x, dag);
                match (op, &v.v) {
                    (_, V::Error) => V::Error,
                    (UnOp::Neg, V::Int(i)) => match i.checked_neg() {
                        Some(n) => V::Int(n),
                        None => self.overflow(e.span),
                    },
                    (UnOp::Neg, V::Float(f)) => V::Float(-f),
                    (UnOp::Neg, V::Duration(d)) => match d.checked_neg() {
                        Some(n) => V::Duration(n),
                        None => self.overflow(e.span),
                    },
                    (UnOp::Not, V::Bool(b)) => V::Bool(!b),
                    _ => {
                        let sym = if *op == UnOp::Neg { "-" } else { "not" };
                        self.err(
                            Diagnostic::at(
                                Code::E0209,
                                e.span,
                                format!("`{sym}` does not apply to {}", a_kind(&v)),
                                "invalid operand",
                            )
                            .with_help("`-` negates numbers and durations; `not` negates bools"),
                        );
                        V::Error
                    }
                }
            }
            ExprKind::Binary(op, a, b) => {
                if matches!(op, BinOp::And | BinOp::Or) {
                    let Some(l) = self.condition(m, env, a, dag.as_deref_mut()) else {
                        return V::Error;
                    };
                    if (*op == BinOp::And && !l) || (*op == BinOp::Or && l) {
                        return V::Bool(l);
                    }
                    return match self.condition(m, env, b, dag) {
                        Some(r) => V::Bool(r),
                        None => V::Error,
                    };
                }
                let l = self.expr(m, env, a, dag.as_deref_mut());
                let r = self.expr(m, env, b, dag);
                self.binary(*op, l, r, e.span)
            }
            ExprKind::If(c, a, b) => match self.condition(m, env, c, dag.as_deref_mut()) {
                Some(true) => self.expr(m, env, a, dag).v,
                Some(false) => self.expr(m, env, b, dag).v,
                None => V::Error,
            },
            ExprKind::Decl(d) => match (d.kind, dag) {
                (DeclKind::Task, Some(dag)) => match self.task_decl(m, env, d, dag) {
                    Some(t) => V::Task(t),
                    None => V::Error,
                },
                (DeclKind::Group, Some(dag)) => match self.group_decl(m, env, d, dag) {
                    Some(g) => V::Group(g),
                    None => V::Error,
                },
                _ => {
                    self.not_here(
                        e.span,
                        "as a value here",
                        "`let t = task ...` works inside a dag body",
                    );
                    V::Error
                }
            },
            ExprKind::Error => V::Error,
        }
    }

    /// Whether `n` names something in scope other than a task: a local, a module-level
    /// name, a built-in or `env`.
    pub(super) fn is_bound(&self, m: ModuleId, env: &Env, n: &str) -> bool {
        env.iter().any(|(k, _)| &**k == n)
            || self.prog.lookup(m, n).is_some()
            || self.prog.alias(m, n).is_some()
            || builtins::lookup(n).is_some()
            || n == "env"
    }

    /// Whether `n`, read as a value, is the name of a task declared so far in the dag's
    /// current scope or one around it (and not something else in scope).
    fn is_task_name(&self, m: ModuleId, env: &Env, dag: &DagB, n: &str) -> bool {
        if self.is_bound(m, env, n) {
            return false;
        }
        let mut at = dag.scope;
        loop {
            if let Some(node) = dag.names(at).get(n) {
                return matches!(node, Node::Task(_));
            }
            match at {
                Some(g) => at = dag.groups[g].parent,
                None => return false,
            }
        }
    }

    /// A task's output as a value, its task found once the dag is complete.
    fn output(&mut self, source: Endpoint, span: Span) -> V {
        V::Output(Rc::new(crate::value::Output {
            source,
            key: None,
            span,
            producer: Default::default(),
        }))
    }

    pub(super) fn name(&mut self, m: ModuleId, env: &Env, n: &str, span: Span) -> V {
        self.data_span = None;
        if let Some((_, v)) = env.iter().rev().find(|(k, _)| &**k == n) {
            self.read_data(v);
            self.note(crate::refs::Raw::Local { at: span });
            return v.v.clone();
        }
        self.note_global(m, n, span);
        if let Some(b) = self.prog.lookup(m, n) {
            let owner = match b.kind {
                BindingKind::Let(owner) => Some(owner),
                BindingKind::Asset(a) => Some(self.prog.assets[a].module),
                _ => None,
            };
            let not_yet = owner.filter(|o| !self.globals[*o].contains_key(n));
            if not_yet.is_some_and(|o| self.prog.in_cycle[o]) {
                // Unset because of an import cycle, which E0102 reported.
                return V::Error;
            }
            if let Some(def) = not_yet.map(|_| b.span) {
                self.err(
                    Diagnostic::at(
                        Code::E0104,
                        span,
                        format!("`{n}` is used before it is defined"),
                        "used here",
                    )
                    .with_label(def, "defined here, later")
                    .with_help(format!(
                        "move `{n}` above its first use; top-level `let`s run in order"
                    )),
                );
                return V::Error;
            }
        }
        if let Some(v) = self.global(m, n) {
            return v;
        }
        if let Some(b) = builtins::lookup(n) {
            return V::Item(Item::Builtin(b));
        }
        if n == "env" {
            return self
                .options
                .env
                .as_deref()
                .map_or(V::None, |e| V::Str(Rc::from(e)));
        }
        if self.prog.modules[m]
            .imports
            .iter()
            .any(|i| i.target.is_none() && (i.alias.is_none() || i.alias.as_deref() == Some(n)))
        {
            // The alias of an import whose file was not found or read, or maybe a name it
            // holds: E0101 (or why it could not be read) said so already.
            return V::Error;
        }
        let mut candidates: Vec<&str> = env.iter().map(|(k, _)| &**k).collect();
        candidates.extend(self.prog.visible_names(m));
        candidates.extend(builtins::ALL.iter().map(|(n, _)| *n));
        candidates.push("env");
        let d = Diagnostic::at(
            Code::E0104,
            span,
            format!("unknown name `{n}`"),
            "not defined",
        );
        let d = match builtins::literal_meant(n) {
            Some(l) => d.with_help(format!(
                "did you mean `{l}`? `.dagf` literals are lowercase"
            )),
            None => d.with_suggestion(n, candidates),
        };
        let d = if d.help.is_none() {
            d.with_help("define it with `let`, declare it, or import the file that declares it")
        } else {
            d
        };
        self.err(d);
        V::Error
    }

    /// A module-level name as seen from module `m`.
    pub(super) fn global(&mut self, m: ModuleId, n: &str) -> Option<V> {
        if let Some(t) = self.prog.alias(m, n) {
            return Some(V::Item(Item::Module(t)));
        }
        let binding = self.prog.lookup(m, n)?.kind.clone();
        Some(match binding {
            BindingKind::Operator(o) => V::Item(Item::Operator(o)),
            BindingKind::Factory(f) => V::Item(Item::Factory(f)),
            BindingKind::Template(t) => V::Item(Item::Template(t)),
            BindingKind::Callback(c) => V::Item(Item::Callback(c)),
            BindingKind::Mixin(x) => V::Item(Item::Mixin(x)),
            BindingKind::Asset(a) => {
                let owner = self.prog.assets[a].module;
                self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone())
            }
            BindingKind::Let(owner) => self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone()),
            BindingKind::Source(i) => {
                let owner = self.prog.sources[i].module;
                self.globals[owner].get(n).map_or(V::Error, |v| v.v.clone())
            }
            BindingKind::Tenant(k) => V::Item(Item::Kind(k)),
            BindingKind::Instance(i) => match self.instance(i) {
                Some(_) => V::Tenant(i),
                None => V::Error,
            },
            BindingKind::Type(_) => {
                return None;
            }
        })
    }

    pub(super) fn call_builtin(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        b: Builtin,
        args: &[ast::Arg],
        span: Span,
        mut dag: Option<&mut DagB>,
    ) -> V {
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.err(
                Diagnostic::at(
                    Code::E0203,
                    named.span,
                    format!(
                        "`{}` takes its arguments by position, not by name",
                        b.name()
                    ),
                    "named argument",
                )
                .with_help(format!("drop `{} =`", named.name)),
            );
            return V::Error;
        }
        if matches!(b, Builtin::Roots | Builtin::Leaves) && args.is_empty() {
            if let Some((roots, leaves)) = &self.after_ctx {
                let tasks = if b == Builtin::Roots { roots } else { leaves };
                return V::List(Rc::new(
                    tasks
                        .iter()
                        .map(|&t| Value::new(V::Task(t), span))
                        .collect(),
                ));
            }
            self.err(
                Diagnostic::at(Code::E0106, span, format!("`{}()` is only available in a mixin's `after` block", b.name()), "not in an `after` block")
                    .with_help("the DAG's first and last tasks are known once every body has run: use them in `after { ... }`"),
            );
            return V::Error;
        }
        let (lo, hi) = b.arity();
        if args.len() < lo || args.len() > hi {
            let expected = if lo == hi {
                format!("{lo}")
            } else {
                format!("{lo} or {hi}")
            };
            self.err(
                Diagnostic::at(
                    Code::E0202,
                    span,
                    format!(
                        "`{}` takes {expected} argument{}, {} given",
                        b.name(),
                        if hi == 1 { "" } else { "s" },
                        args.len()
                    ),
                    "wrong number of arguments",
                )
                .with_help("see the built-in functions in the language reference"),
            );
            return V::Error;
        }
        let vals: Vec<Value> = args
            .iter()
            .map(|a| self.expr(m, env, &a.value, dag.as_deref_mut()))
            .collect();
        if vals.iter().any(Value::is_error) {
            return V::Error;
        }
        if let (Builtin::Contains, [list, item]) = (b, vals.as_slice())
            && let V::List(items) = &list.v
            && self.tenant_names.contains_key(&item.span)
        {
            for x in items.iter() {
                self.compared_with_tenant_name(x, item);
            }
        }
        match builtins::call(b, &vals, &self.options.env_vars) {
            Ok(v) => v,
            Err((i, msg)) => {
                let code = if msg.contains("over the limit") {
                    Code::E0210
                } else {
                    Code::E0201
                };
                self.err(
                    Diagnostic::at(
                        code,
                        vals[i].span,
                        format!("`{}`: {msg}", b.name()),
                        "this argument",
                    )
                    .with_help(if code == Code::E0210 {
                        "a DAG this large is most likely a mistake; use a smaller range".to_string()
                    } else {
                        format!("see `{}` in the language reference", b.name())
                    }),
                );
                V::Error
            }
        }
    }
}
