//! A `dag` declaration from start to finish: placing it, its layers, and the checks and
//! lowering once every body has run.

use super::*;

impl<'a> Cx<'a> {
    pub(super) fn dag_decl(&mut self, m: ModuleId, env: &mut Env, d: &ast::Decl) {
        let Some((mut dag_id, name_span)) = self.name_of(m, env, &d.name, None) else {
            self.ids_unsure = true;
            return;
        };
        let mut placed = None;
        if let Some(scope) = &d.scope {
            // A tenant with an error (reported) leaves the dag unplaced: its own body is
            // still checked.
            if let Some((i, id, named_by)) = self.placement(m, env, scope, dag_id.clone()) {
                if let Some(k) = self.kind_of(i) {
                    self.placed_kinds.insert(k);
                }
                dag_id = id;
                placed = Some(((i, scope.span), named_by));
            } else {
                // Its id would have come from the tenant's naming convention.
                self.ids_unsure = true;
            }
        }
        self.dag_ids.insert(dag_id.clone());
        let mut dag = DagB::new(dag_id, d.span, name_span, false);
        dag.started = crate::trace::now(self.options.trace.as_deref());
        dag.mixin_base = self.mixin_uses.len();
        if let Some((tenant, named_by)) = placed {
            dag.tenant = Some(tenant);
            dag.named_by = named_by;
        }
        let mut factory_docs = Vec::new();
        if let Some(target) = &d.target {
            let callee = self.expr(m, env, target, None);
            match callee.as_factory() {
                Some((f, bound)) => {
                    self.used_factories.insert(f);
                    let prog = self.prog;
                    let info = &prog.factories[f];
                    let decl = &info.decl;
                    let params = &info.params;
                    if let Some(at) = decl.is_abstract {
                        self.err(
                            Diagnostic::at(Code::E0214, target.span, format!("`{}` is an abstract factory", decl.name.name), "makes no dag itself")
                                .with_label(at, "declared abstract here")
                                .with_help(format!("make the dag from a factory that extends `{}` and declares its abstract tasks", decl.name.name)),
                        );
                        return;
                    }
                    let args = d.args.as_deref().unwrap_or_default();
                    let Some(bound) =
                        self.bind_rest(m, env, params, bound, args, target.span, &decl.name.name)
                    else {
                        return;
                    };
                    let label = format!("while making dag `{}` from `{}`", dag.id, decl.name.name);
                    let outer = self.making.replace((target.span, label));
                    dag.made_from = Some((decl.name.name.clone(), decl.name.span));
                    self.run_factory(f, bound, &mut dag, Layer::Factory);
                    self.making = outer;
                    factory_docs = decl.docs.clone();
                }
                None if callee.is_error() => return,
                None => {
                    self.err(
                        Diagnostic::at(Code::E0208, target.span, format!("a dag is made from a factory, not from {}", a_kind(&callee)), "not a factory")
                            .with_help("write `dag name: factory_name(args)`, or `dag name { ... }` for a one-off DAG"),
                    );
                    return;
                }
            }
        }
        self.apply_mixins(&d.mixins, m, env, &mut dag, Scope::Dag);
        dag.layer = Layer::Body;
        if let Some(body) = &d.body {
            let mark = env.len();
            self.body(m, env, body, &mut dag, Scope::Dag);
            env.truncate(mark);
        }
        // `///` docs document the DAG in Airflow's UI unless the body sets `doc`:
        // the dag's own docs first, else its factory's.
        let docs = if d.docs.is_empty() {
            factory_docs
        } else {
            d.docs.clone()
        };
        if !docs.is_empty() && !dag.slots.iter().any(|s| &*s.name == "doc") {
            let text: Vec<&str> = docs
                .iter()
                .map(|l| l.strip_prefix(' ').unwrap_or(l))
                .collect();
            let value = Value::new(V::Str(Rc::from(text.join("\n").trim())), d.span);
            dag.slots
                .push(Slot::new("doc", value, Layer::Factory, d.span));
        }
        self.apply_policy(&mut dag);
        self.apply_profile(&mut dag);
        self.finish(dag);
    }

    /// Sets a field of the dag, one of its tasks or one of its groups, by the merge
    /// rules; a conflict goes through `err`, so it also says which dag it is in.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn put(
        &mut self,
        dag: &mut DagB,
        at: Slots,
        name: &str,
        v: Value,
        append: bool,
        is_override: bool,
        span: Span,
    ) {
        // A profile replaces what it sets: it is the environment's last word.
        let is_override = is_override || (!append && matches!(dag.layer, Layer::Profile(_)));
        let mut found = Diagnostics::new();
        let layers = Layers {
            prog: self.prog,
            mixins: &self.mixin_uses,
            made_from: dag.made_from.as_ref().map(|(n, _)| n.as_str()),
        };
        let slots = match at {
            Slots::Dag => &mut dag.slots,
            Slots::Task(t) => &mut dag.tasks[t].slots,
            Slots::Group(g) => &mut dag.groups[g].slots,
        };
        set_slot(
            slots,
            name,
            v,
            append,
            is_override,
            dag.layer,
            span,
            &layers,
            &mut found,
        );
        for d in found.into_sorted() {
            self.err(d);
        }
    }

    /// `in TENANT` places dags; a task or group is in its dag's tenant already.
    pub(super) fn only_dags_in_tenants(&mut self, d: &ast::Decl) {
        if let Some(scope) = &d.scope {
            self.not_here(
                scope.span,
                "on a task or group",
                "`in TENANT` places a whole dag: write it on the `dag` declaration",
            );
        }
    }

    pub(super) fn not_here(&mut self, span: Span, place: &str, help: &str) {
        self.err(
            Diagnostic::at(
                Code::E0106,
                span,
                format!("this statement is not allowed {place}"),
                "not allowed here",
            )
            .with_help(help),
        );
    }

    pub(super) fn finish(&mut self, mut dag: DagB) {
        let before = self.diags.error_count();
        let dag_ir = self.check_built(&mut dag);
        // Recorded even when the dag has errors: two dags with one id clash regardless.
        self.ids.push((
            dag.id.clone(),
            IdRecord {
                name_span: dag.name_span,
                named_by: dag.named_by,
                placed: dag.tenant,
            },
        ));
        if self.diags.error_count() > before {
            return;
        }
        if let Some(mut d) = dag_ir {
            if let Some((i, placed)) = dag.tenant
                && let Some(inst) = self.instance(i)
            {
                d.folder = inst.folder.clone();
                d.scope = Some(dagf_ir::Scope {
                    kind: self.prog.tenants[inst.kind].decl.name.name.clone(),
                    tenant: inst.name.clone(),
                    span: inst.name_span,
                    placed,
                    isolated: inst.isolated,
                    team: inst.team.as_ref().map(|(t, _)| t.clone()),
                    exports: inst
                        .exports
                        .iter()
                        .filter_map(|v| match &v.v {
                            V::Asset(a) => Some(dagf_ir::AssetId {
                                alias: a.alias,
                                id: a.uri.clone(),
                            }),
                            _ => None,
                        })
                        .collect(),
                });
            }
            // A dag id read from a config file is pointed at there.
            let mut written = HashMap::new();
            for t in &dag.tasks {
                for s in &t.slots {
                    if matches!(&*s.name, "trigger_dag_id" | "external_dag_id")
                        && self.read_from_config(s.value.span)
                    {
                        written.insert(t.id.as_str(), s.value.span);
                    }
                }
            }
            self.facts.push(crate::scopes::Facts::of(&d, &written));
            match self.emit {
                Some(emit) => self.project.built.push(emit(d)),
                None => self.project.dags.push(d),
            }
            let trace = self.options.trace.as_deref();
            crate::trace::done(trace, "dag", &dag.id, dag.started);
        }
    }

    /// A dag whose bodies have all run: its `after` blocks, its abstract tasks, its
    /// edges, the DAG checks, and the IR.
    pub(super) fn check_built(&mut self, dag: &mut DagB) -> Option<dagf_ir::Dag> {
        self.run_afters(dag);
        self.settle_params(dag);
        for d in self.param_references(dag) {
            self.err_checked(d, &dag.id);
        }
        self.check_abstracts(dag);
        let mut edges = self.task_edges(dag);
        self.data_edges(dag, &mut edges);
        self.group_data_edges(dag, &mut edges);
        let namer = self.layer_namer(dag);
        let mut found = Diagnostics::new();
        let ir = checks::finish(self.ctx(&namer, &mut found), dag, &edges);
        for d in found.into_sorted() {
            self.err_checked(d, &dag.id);
        }
        ir
    }

    /// A mistake the DAG checks found. Written in a factory, template or mixin that
    /// several dags share, it is the same mistake in each: it is said once, for the
    /// first dag (two mistakes of the same kind at one place, with different values,
    /// are still told apart by their messages).
    pub(super) fn err_checked(&mut self, d: Diagnostic, dag_id: &str) {
        let blank = |l: &dagf_diag::Label| dagf_diag::Label::new(l.span, "");
        let core = Diagnostic {
            code: d.code,
            message: d.message.replace(&format!("`{dag_id}`"), "`_`"),
            primary: d.primary.as_ref().map(blank),
            secondary: d.secondary.iter().map(blank).collect(),
            notes: Vec::new(),
            help: None,
        };
        if !self.made.insert(core.clone()) {
            return;
        }
        self.made_as.insert(d.clone(), core);
        self.diags.push(d);
    }

    /// Every `abstract task` of the factories a dag is made from must be declared.
    pub(super) fn check_abstracts(&mut self, dag: &DagB) {
        let Some((child, child_span)) = dag.made_from.clone() else {
            return;
        };
        for d in self.missing_abstracts(dag, &child, child_span) {
            self.err(d);
        }
    }

    /// E0215 for each `abstract task` of the bodies run so far that `child` (the last
    /// of them, named at `child_span`) leaves undeclared.
    pub(super) fn missing_abstracts(
        &self,
        dag: &DagB,
        child: &str,
        child_span: Span,
    ) -> Vec<Diagnostic> {
        dag.abstracts
            .iter()
            .filter(|(name, _, _)| !dag.by_name.contains_key(name) && !dag.failed.contains(name))
            .map(|(name, span, owner)| {
                Diagnostic::at(
                    Code::E0215,
                    child_span,
                    format!("`{child}` does not declare the abstract task `{name}` of `{owner}`"),
                    format!("`{name}` is missing here"),
                )
                .with_label(*span, format!("`{owner}` declares `{name}` abstract here"))
                .with_help(format!(
                    "declare it in `{child}`: `task {name}: OPERATOR {{ ... }}`"
                ))
            })
            .collect()
    }

    /// Names layers for provenance: which template, parent factory or mixin. Each
    /// name is made once per dag and shared by every field it set.
    pub(super) fn layer_namer(
        &self,
        dag: &DagB,
    ) -> impl Fn(Layer) -> std::sync::Arc<str> + use<'a> {
        // Only this dag's own applications: earlier dags' are not its layers.
        let base = dag.mixin_base.min(self.mixin_uses.len());
        let (prog, mixins) = (self.prog, self.mixin_uses[base..].to_vec());
        let made_from = dag.made_from.as_ref().map(|(n, _)| n.clone());
        let cache: std::cell::RefCell<HashMap<Layer, std::sync::Arc<str>>> = Default::default();
        move |layer| {
            cache
                .borrow_mut()
                .entry(layer)
                .or_insert_with(|| {
                    let layer = match layer {
                        Layer::Mixin(a) => Layer::Mixin(a.saturating_sub(base)),
                        other => other,
                    };
                    Layers {
                        prog,
                        mixins: &mixins,
                        made_from: made_from.as_deref(),
                    }
                    .name(layer)
                    .into()
                })
                .clone()
        }
    }

    pub(crate) fn ctx<'b>(
        &'b self,
        layer_names: &'b dyn Fn(Layer) -> std::sync::Arc<str>,
        diags: &'b mut Diagnostics,
    ) -> checks::Ctx<'b> {
        checks::Ctx {
            layer_names,
            provenance: !self.options.skip_provenance,
            defaulted: &self.defaulted,
            prog: self.prog,
            sources: self.sources,
            diags,
            task_args: &self.task_args,
            sensor_args: &self.sensor_args,
            dag_args: &self.dag_args,
            target: self.options.target,
        }
    }
}
