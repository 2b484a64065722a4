//! Top-level work: module globals (assets, `let`s, config sources) and the statements
//! that make dags.

use super::*;

impl Cx<'_> {
    /// E0324: Airflow keeps one name per asset and one asset per name, comparing URIs in
    /// their normal form (scheme in lower case, query sorted, no trailing `/` or
    /// fragment); a second asset that breaks either rule never becomes active. `plain`
    /// says the asset was written as a bare URI, which is also its name.
    fn one_name_per_asset(&mut self, name: &str, uri: &str, plain: bool, at: Span) {
        let key = crate::assets::normalize(uri);
        let note = "Airflow keeps one name per asset and one asset per name: the second declaration would never become active, and tasks that use it would fail";
        match self.asset_spellings.get(&key) {
            Some((first, first_at, first_plain)) if first != name => {
                let (first, first_at) = (first.clone(), *first_at);
                let d = if plain && *first_plain {
                    Diagnostic::at(
                        Code::E0324,
                        at,
                        format!("\"{uri}\" and \"{first}\" are one asset to Airflow, \"{key}\""),
                        "spelled this way here",
                    )
                    .with_label(first_at, "and this way here")
                    .with_help(format!("write the asset's URI one way everywhere, such as \"{key}\""))
                    .with_note("Airflow names an asset by the URI as written and keeps one name per asset: the second spelling would never become active, and tasks that use it would fail")
                } else {
                    Diagnostic::at(
                        Code::E0324,
                        at,
                        format!(
                            "the asset \"{key}\" is named \"{name}\" here and \"{first}\" before"
                        ),
                        format!("named \"{name}\""),
                    )
                    .with_label(first_at, format!("named \"{first}\""))
                    .with_help(
                        "declare the asset once and refer to it by its declaration everywhere",
                    )
                    .with_note(note)
                };
                self.err(d);
                return;
            }
            Some(_) => {}
            None => {
                self.asset_spellings
                    .insert(key.clone(), (name.to_string(), at, plain));
            }
        }
        match self.asset_names.get(name) {
            Some((first, first_at)) if *first != key => {
                let (first, first_at) = (first.clone(), *first_at);
                self.err(
                    Diagnostic::at(
                        Code::E0324,
                        at,
                        format!("the asset name \"{name}\" is given to \"{key}\" here and to \"{first}\" before"),
                        format!("\"{name}\" for \"{key}\""),
                    )
                    .with_label(first_at, format!("\"{name}\" for \"{first}\""))
                    .with_note(note)
                    .with_help("give each asset a name of its own"),
                );
            }
            Some(_) => {}
            None => {
                self.asset_names.insert(name.to_string(), (key, at));
            }
        }
    }

    /// E0323: Airflow would refuse `s` as the asset's `what` (its name or group).
    fn asset_name_ok(&mut self, what: &str, s: &str, reserved: bool, at: Span) -> bool {
        match crate::assets::name_problem(s, reserved) {
            Some(why) => {
                self.err(
                    Diagnostic::at(
                        Code::E0323,
                        at,
                        format!("Airflow rejects the {what} \"{s}\": {why}"),
                        "Airflow refuses it",
                    )
                    .with_help("write a short name of ASCII characters, such as \"orders_clean\""),
                );
                false
            }
            None => true,
        }
    }

    /// E0323: Airflow would refuse `s` as an asset's URI.
    fn asset_uri_ok(&mut self, s: &str, at: Span) -> bool {
        match crate::assets::uri_problem(s) {
            Some(why) => {
                self.err(
                    Diagnostic::at(
                        Code::E0323,
                        at,
                        format!("Airflow rejects the asset URI \"{s}\": {why}"),
                        "not an asset URI Airflow takes",
                    )
                    .with_help("write a URI such as \"s3://bucket/path\" of ASCII characters, without credentials"),
                );
                false
            }
            None => true,
        }
    }

    /// The asset (or alias) an `asset` declaration gives, its mistakes reported.
    fn asset_decl(&mut self, a: &ast::AssetDecl, given: &Value) -> Option<Asset> {
        let what = if a.is_alias {
            "an asset alias"
        } else {
            "an asset"
        };
        let fields = match &given.v {
            V::Error => return None,
            V::Str(s) if a.is_alias => {
                return self
                    .asset_name_ok("alias name", s, false, given.span)
                    .then(|| Asset {
                        name: a.name.name.clone(),
                        uri: s.to_string(),
                        alias: true,
                        args: Vec::new(),
                    });
            }
            V::Str(s) if !s.is_empty() => {
                if !self.asset_uri_ok(s, given.span) {
                    return None;
                }
                self.one_name_per_asset(s, s, true, given.span);
                return Some(Asset {
                    name: a.name.name.clone(),
                    uri: s.to_string(),
                    alias: false,
                    args: Vec::new(),
                });
            }
            V::Record(fields) => fields.clone(),
            _ => {
                let example = if a.is_alias {
                    "write `asset alias name = \"orders_by_day\"`, or `{ name = \"...\", group = \"...\" }`"
                } else {
                    "write `asset name = \"s3://bucket/path\"`, or `{ name = \"...\", uri = \"...\", group = \"...\", extra = { ... } }`"
                };
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        given.span,
                        format!("{what} is a non-empty string or a record"),
                        format!("found {}", given.kind()),
                    )
                    .with_help(example),
                );
                return None;
            }
        };
        let keys: &[&str] = if a.is_alias {
            &["name", "group"]
        } else {
            &["name", "uri", "group", "extra"]
        };
        let mut ok = true;
        let mut args: Vec<(Rc<str>, Value)> = Vec::new();
        for (k, x) in fields.iter() {
            if !keys.contains(&&**k) {
                let d = Diagnostic::at(
                    Code::E0344,
                    self.key_span(k, x.span),
                    format!("{what} takes no `{k}`"),
                    "not a key of the declaration",
                )
                .with_note(format!("keys: {}", keys.join(", ")))
                .with_suggestion(k, keys.iter().copied());
                self.err(d.or_help("remove it, or use one of the keys"));
                ok = false;
                continue;
            }
            let x = match &**k {
                "extra" => self.coerce(x.clone(), &Ty::Map(Box::new(Ty::Any)), None),
                _ => self.coerce(x.clone(), &Ty::Str, None),
            };
            let fine = match (&**k, &x.v) {
                (_, V::Error) => false,
                ("extra", _) => match not_json(&x) {
                    Some(bad) => {
                        self.err(
                            Diagnostic::at(
                                Code::E0344,
                                bad.span,
                                format!(
                                    "an asset's `extra` holds JSON values, not {}",
                                    a_kind(bad)
                                ),
                                "no JSON form",
                            )
                            .with_help("write it as a string, a number, a bool, a list or a map"),
                        );
                        false
                    }
                    None => true,
                },
                ("name", V::Str(s)) => self.asset_name_ok(
                    if a.is_alias {
                        "alias name"
                    } else {
                        "asset name"
                    },
                    s,
                    !a.is_alias,
                    x.span,
                ),
                ("uri", V::Str(s)) => self.asset_uri_ok(s, x.span),
                ("group", V::Str(s)) => self.asset_name_ok("asset group", s, false, x.span),
                _ => true,
            };
            ok &= fine;
            args.push((k.clone(), x));
        }
        if !ok {
            return None;
        }
        // Airflow's order, whatever the record's.
        args.sort_by_key(|(k, _)| keys.iter().position(|x| x == &&**k));
        let text = |k: &str| {
            args.iter()
                .find(|(n, _)| &**n == k)
                .and_then(|(_, v)| match &v.v {
                    V::Str(s) => Some(s.to_string()),
                    _ => None,
                })
        };
        let (name, uri) = (text("name"), text("uri"));
        let (name, uri) = match (name, uri) {
            (Some(n), Some(u)) => (n, u),
            (Some(n), None) => (n.clone(), n),
            (None, Some(u)) => (u.clone(), u),
            (None, None) => {
                let needs = if a.is_alias {
                    "a `name`"
                } else {
                    "a `name` or a `uri`"
                };
                self.err(
                    Diagnostic::at(
                        Code::E0344,
                        given.span,
                        format!("{what} needs {needs}"),
                        format!("no {}", if a.is_alias { "name" } else { "name or URI" }),
                    )
                    .with_help(if a.is_alias {
                        "add `name = \"...\"`"
                    } else {
                        "add `uri = \"s3://bucket/path\"`, `name = \"...\"`, or both"
                    }),
                );
                return None;
            }
        };
        if !a.is_alias {
            if args.iter().all(|(k, _)| &**k != "uri") && !self.asset_uri_ok(&uri, given.span) {
                return None;
            }
            self.one_name_per_asset(&name, &uri, false, given.span);
        }
        let target = self.options.target;
        if let Some((k, x)) = args
            .iter()
            .find(|(k, _)| (a.is_alias || &**k != "uri") && &**k != "extra")
            .filter(|_| !target.has(dagf_target::Feature::AssetNames))
        {
            self.err(crate::rules::lacks(
                &format!("{what}'s `{k}`"),
                dagf_target::Feature::AssetNames.since(),
                target,
                self.key_span(k, x.span),
                if a.is_alias {
                    "name the alias with a plain string"
                } else {
                    "name the asset by its URI alone"
                },
            ));
            // Still the asset it is: what uses it is not a second mistake.
        }
        Some(Asset {
            name: a.name.name.clone(),
            uri,
            alias: a.is_alias,
            args,
        })
    }

    /// The ids an `extern dag` expression gives: a string, or a list of them (such as
    /// a list read from a config file).
    fn extern_dag_ids(&mut self, v: &Value, written: Span) {
        match &v.v {
            V::Str(id) => {
                if let Some(d) = checks::id_problem("dag", id, v.span) {
                    self.err(d);
                    return;
                }
                self.extern_dags.entry(id.to_string()).or_insert(v.span);
            }
            V::List(items) => {
                for item in items.iter() {
                    self.extern_dag_ids(item, written);
                }
            }
            V::Error => {}
            _ => {
                let mut d = Diagnostic::at(
                    Code::E0201,
                    v.span,
                    format!("`extern dag` takes dag ids, found {}", v.kind()),
                    "not a dag id",
                );
                if written != v.span {
                    d = d.with_label(written, "declared `extern` here");
                }
                self.err(d.with_help(
                    "write the ids as strings: `extern dag \"ingest_crm\", \"billing\"`",
                ));
            }
        }
    }

    pub(super) fn globals_of(&mut self, m: ModuleId) {
        let prog = self.prog;
        for item in &prog.modules[m].ast.items {
            match item {
                ast::Item::Asset(a) => {
                    let mut env = Env::new();
                    let given = self.expr(m, &mut env, &a.uri, None);
                    let v = match self.asset_decl(a, &given) {
                        Some(asset) => {
                            self.asset_decls
                                .entry(dagf_ir::AssetId {
                                    alias: asset.alias,
                                    id: asset.uri.clone(),
                                })
                                .or_insert(crate::scopes::AssetDecl {
                                    span: a.name.span,
                                    is_extern: a.is_extern,
                                });
                            V::Asset(Rc::new(asset))
                        }
                        None => V::Error,
                    };
                    self.globals[m].insert(a.name.name.clone(), Value::new(v, a.name.span));
                }
                ast::Item::ExternDag(x) => {
                    for e in &x.ids {
                        let mut env = Env::new();
                        let v = self.expr(m, &mut env, e, None);
                        self.extern_dag_ids(&v, e.span);
                    }
                }
                ast::Item::Stmt(Stmt::Let { name, value, .. }) => {
                    let mut env = Env::new();
                    let v = self.expr(m, &mut env, value, None);
                    self.globals[m].insert(name.name.clone(), v);
                }
                ast::Item::Source(src) => {
                    let v = self.config_source(m, src);
                    self.globals[m].insert(src.name.name.clone(), v);
                }
                _ => {}
            }
        }
    }

    pub(super) fn top_stmt(&mut self, m: ModuleId, env: &mut Env, stmt: &Stmt) {
        match stmt {
            Stmt::Let { name, value, .. } => {
                let v = self.expr(m, env, value, None);
                env.push((Rc::from(name.name.as_str()), v));
            }
            Stmt::For { var, iter, body, .. } => {
                let before = self.diags.error_count();
                let items = self.iterable(m, env, iter, None);
                if self.diags.error_count() > before {
                    self.ids_unsure = true;
                }
                for item in items {
                    if !self.tick(iter.span) {
                        self.ids_unsure = true;
                        break;
                    }
                    let mark = env.len();
                    env.push((Rc::from(var.name.as_str()), item));
                    for s in body {
                        self.top_stmt(m, env, s);
                    }
                    env.truncate(mark);
                }
            }
            Stmt::If { cond, then, otherwise, .. } => {
                let branch = match self.condition(m, env, cond, None) {
                    Some(true) => then,
                    Some(false) => otherwise,
                    None => {
                        self.ids_unsure = true;
                        return;
                    }
                };
                let mark = env.len();
                for s in branch {
                    self.top_stmt(m, env, s);
                }
                env.truncate(mark);
            }
            Stmt::Decl(d) if d.kind == DeclKind::Dag => self.dag_decl(m, env, d),
            Stmt::Error(_) => {}
            other => self.not_here(other.span(), "at the top level of a file", "top-level statements are `dag`, `let`, `for` and `if`; fields, tasks and dependencies go inside a `dag` or `factory` body"),
        }
    }

    /// A config source's data: every document of every file, checked against the
    /// source's type. A `list<T>` collects the documents (a document that is a list
    /// gives its items); any other type takes exactly one document.
    pub(super) fn config_source(&mut self, m: ModuleId, src: &ast::SourceDecl) -> Value {
        let at = src.name.span;
        let Some(BindingKind::Source(i)) = self.prog.modules[m]
            .scope
            .get(&src.name.name)
            .map(|b| b.kind.clone())
        else {
            return Value::error(at);
        };
        let info = &self.prog.sources[i];
        let (ty, files, complete) = (info.ty.clone(), info.files.clone(), info.complete);
        if !complete || files.is_empty() {
            return Value::error(at);
        }
        let format = match src.format.name.as_str() {
            "yaml" => "yaml",
            _ => "json", // files, rows and answers
        };
        let from_files = matches!(self.prog.sources[i].origin, crate::sources::Origin::Files);
        let mut docs = Vec::new();
        let mut ok = true;
        let mut bases =
            crate::documents::Inheritance::new(self.sources, &self.prog.config_files, format);
        for f in files {
            let text = &self.sources.get(f).text;
            match crate::config::parse(format, text, f) {
                // Only files extend base documents: rows and answers are data as they are.
                Ok(d) if !from_files => docs.extend(d),
                Ok(d) => {
                    for doc in d {
                        match bases.resolve(doc) {
                            Some(doc) => docs.push(doc),
                            // Reported, here or where its base was read.
                            None => ok = false,
                        }
                    }
                }
                Err(d) => {
                    ok = false;
                    self.err(*d);
                }
            }
        }
        ok &= bases.diags.is_empty();
        for d in std::mem::take(&mut bases.diags) {
            self.err(d);
        }
        // Rows and answers are one document: kept to say where in it a mistake is.
        let data = docs.first().cloned();
        // The files that parsed are checked too: every mistake in one run.
        let mark = self.diags.len();
        let decl = Some(src.ty.span);
        let value = match &ty {
            Ty::List(inner) => {
                let mut items = Vec::new();
                for doc in docs {
                    match doc.v {
                        V::List(xs) => items.extend(xs.iter().cloned()),
                        _ => items.push(doc),
                    }
                }
                // A wrong item is reported and left out; the others still make their
                // dags, so their mistakes are found in the same run (the build fails
                // all the same).
                let items: Vec<Value> = items
                    .into_iter()
                    .map(|x| self.coerce(x, inner, decl))
                    .filter(|x| !x.is_error())
                    .collect();
                Value::new(V::List(Rc::new(items)), at)
            }
            _ if !ok => Value::error(at),
            _ => {
                match <[Value; 1]>::try_from(docs) {
                    Ok([doc]) => self.coerce(doc, &ty, decl),
                    Err(docs) => {
                        let args = src.args.first().map_or(src.args_span, |a| a.span);
                        self.err(
                        Diagnostic::at(
                            Code::E0501,
                            args,
                            format!("`{}` takes one document, and its files hold {}", src.name.name, docs.len()),
                            "these files",
                        )
                        .with_label(src.ty.span, "one value of this type")
                        .with_help("declare the source as a list (`list<T>`) to read several documents"),
                    );
                        Value::error(at)
                    }
                }
            }
        };
        if let Some(data) = data {
            self.say_where_in_data(i, &data, mark);
        }
        value
    }

    /// Adds to the diagnostics from `mark` on that point into a query's rows or an HTTP
    /// answer which row and column, or which JSON path, they are about.
    pub(super) fn say_where_in_data(&mut self, source: SourceId, data: &Value, mark: usize) {
        let info = &self.prog.sources[source];
        if matches!(info.origin, crate::sources::Origin::Files) || self.diags.len() == mark {
            return;
        }
        let file = data.span.file;
        for mut d in self.diags.take_from(mark) {
            let place = d
                .primary
                .as_ref()
                .filter(|l| l.span.file == file)
                .map(|l| crate::config::path_to(data, l.span, &self.sources.get(file).text));
            if let Some(path) = place {
                d = d.with_note(crate::sources::describe(&info.origin, &path));
                if let Some(help) = crate::sources::row_help(&info.origin, &d) {
                    d.help = Some(help);
                }
            }
            self.diags.push(d);
        }
    }

    /// Where the key of a config value is written: just before the value in its file
    /// (`key: value`, `"key": value`); the value itself when it cannot be found.
    pub(super) fn key_span(&self, key: &str, value: Span) -> Span {
        let text = &self.sources.get(value.file).text;
        crate::config::key_written(text, key, value, !self.read_from_config(value)).unwrap_or(value)
    }

    /// Whether a value was read from a config file (where durations are strings).
    pub(super) fn read_from_config(&self, span: Span) -> bool {
        self.config_file
            .get(span.file.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Adds `key = v` to a record being built; a key already there is E0211.
    pub(super) fn record_entry(
        &mut self,
        out: &mut Vec<(Rc<str>, Value)>,
        key: Rc<str>,
        at: Span,
        v: Value,
        help: &str,
    ) {
        match out.iter().find(|(n, _)| *n == key) {
            Some((_, prev)) => {
                let first = prev.span;
                self.err(set_twice(
                    &format!("`{key}` is set twice in one record"),
                    at,
                    first,
                    help,
                ));
            }
            None => out.push((key, v)),
        }
    }

    /// Runs the top-level statements of `modules` (globals already evaluated): makes
    /// their dags.
    pub(super) fn make_dags(&mut self, modules: &[ModuleId]) {
        let prog = self.prog;
        let trace = self.options.trace.as_deref();
        for &m in modules {
            let started = crate::trace::now(trace);
            let mut env = Env::new();
            for item in &prog.modules[m].ast.items {
                if let ast::Item::Stmt(stmt) = item
                    && !matches!(stmt, Stmt::Let { .. })
                {
                    self.top_stmt(m, &mut env, stmt);
                }
            }
            crate::trace::done(trace, "module", &prog.modules[m].path, started);
        }
    }
}

/// The first value in `v` that has no JSON form, if any: Airflow serialises an asset's
/// `extra` as JSON.
fn not_json(v: &Value) -> Option<&Value> {
    match &v.v {
        V::None | V::Bool(_) | V::Int(_) | V::Float(_) | V::Str(_) => None,
        V::List(xs) => xs.iter().find_map(not_json),
        V::Record(kv) => kv.iter().find_map(|(_, x)| not_json(x)),
        _ => Some(v),
    }
}
