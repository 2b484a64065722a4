//! Declarations nothing uses are still checked: factories, templates and callbacks.

use super::*;

impl Cx<'_> {
    /// Checks each template no task or group uses, those deepest in a chain of
    /// templates first: the check of one applies the templates it builds on, which
    /// counts as using them, so a chain is applied once, not once per template in it.
    pub(super) fn check_unused_templates(&mut self) {
        let prog = self.prog;
        let parents: IdVec<TemplateId, Option<TemplateId>> = prog
            .templates
            .ids()
            .map(|t| self.written_template_parent(t))
            .collect();
        let depth = chain_depths(&parents);
        let mut order: Vec<TemplateId> = prog
            .templates
            .ids()
            .filter(|&t| prog.templates[t].module != prog.std_module)
            .collect();
        order.sort_by_key(|&t| (std::cmp::Reverse(depth[t]), t));
        for t in order {
            if !self.used_templates.contains(&t) {
                self.check_unused_template(t);
            }
        }
    }

    /// A template no task or group uses: its body is evaluated as for a use, so a
    /// misspelt field or a template that builds on itself is still reported. Fields a
    /// task must still set are not asked for: a template may leave them to its tasks.
    pub(super) fn check_unused_template(&mut self, tid: TemplateId) {
        let info = &self.prog.templates[tid];
        let (decl, params, module) = (info.decl.clone(), info.params.clone(), info.module);
        let env = self.stand_ins(&params);
        let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
        dag.mixin_base = self.mixin_uses.len();
        dag.kind = "template";
        if decl.target.is_none() {
            let g = dag.groups.push(GroupB {
                local: decl.name.name.clone(),
                id: decl.name.name.clone(),
                parent: None,
                name_span: decl.name.span,
                slots: Vec::new(),
                mapped: None,
                order: 0,
                depth: 0,
                names: HashMap::new(),
            });
            dag.scope = Some(g);
            let mut env = env;
            self.used_templates.insert(tid);
            self.apply_mixins(&decl.mixins, module, &mut env, &mut dag, Scope::Group(g));
            let outer = std::mem::replace(&mut dag.layer, Layer::Template(tid));
            self.body(module, &mut env, &decl.body, &mut dag, Scope::Group(g));
            dag.layer = outer;
            dag.scope = None;
            self.task_edges(&mut dag);
            return;
        }
        let Some(op) = self.template_base(tid, decl.name.span) else {
            return;
        };
        let t = dag.tasks.push(TaskB {
            id: decl.name.name.clone(),
            op,
            slots: Vec::new(),
            span: decl.span,
            name_span: decl.name.span,
            incomplete: true,
            meant: Vec::new(),
            setup_by: None,
            teardown_by: None,
            mapped: None,
            group: None,
            local: decl.name.name.clone(),
        });
        self.apply_template(tid, env, &mut dag, t);
    }

    /// A callback nothing uses: its arguments are evaluated with stand-ins.
    pub(super) fn check_unused_callback(&mut self, c: CallbackId) {
        let info = &self.prog.callbacks[c];
        let (decl, params, module) = (info.decl.clone(), info.params.clone(), info.module);
        let mut env = self.stand_ins(&params);
        for s in &decl.body {
            match s {
                Stmt::Let { name, value, .. } => {
                    let v = self.expr(module, &mut env, value, None);
                    env.push((Rc::from(name.name.as_str()), v));
                }
                Stmt::Field { value, .. } => {
                    self.expr(module, &mut env, value, None);
                }
                _ => {}
            }
        }
    }

    /// Checks each factory no dag is made from and no checked factory extends, those
    /// deepest in a chain of `extends` first: the check of one runs its ancestors'
    /// bodies as its layers, which checks them too, so a chain is run once, not once
    /// per factory in it.
    pub(super) fn check_unused_factories(&mut self) {
        let prog = self.prog;
        let parents: IdVec<FactoryId, Option<FactoryId>> = prog
            .factories
            .ids()
            .map(|f| self.written_parent(f))
            .collect();
        let depth = chain_depths(&parents);
        let mut order: Vec<FactoryId> = prog
            .factories
            .ids()
            .filter(|&f| prog.factories[f].module != prog.std_module)
            .collect();
        order.sort_by_key(|&f| (std::cmp::Reverse(depth[f]), f));
        for f in order {
            if !self.used_factories.contains(&f) && !self.extended.contains(&f) {
                self.check_unused_factory(f);
            }
        }
        // A concrete factory only extended must still declare its ancestors' abstract
        // tasks; one a dag is made from was told so for that dag.
        for (f, missing) in std::mem::take(&mut self.parent_missing) {
            if !self.used_factories.contains(&f) {
                for d in missing {
                    self.err(d);
                }
            }
        }
    }

    /// The factory `f` extends, when its `extends` names one.
    fn written_parent(&self, f: FactoryId) -> Option<FactoryId> {
        let info = &self.prog.factories[f];
        let (target, _) = info.decl.extends.as_ref()?;
        // The target is evaluated with the factory's parameters in scope.
        let param = |n: &str| info.params.iter().any(|p| p.name == n);
        match self.written_item(info.module, target, &param)? {
            V::Item(Item::Factory(p)) => Some(p),
            V::Partial(p) => Some(p.factory),
            _ => None,
        }
    }

    /// The template task template `t` builds on, when its target names one.
    fn written_template_parent(&self, t: TemplateId) -> Option<TemplateId> {
        let info = &self.prog.templates[t];
        match self.written_item(info.module, info.decl.target.as_ref()?, &|_| false)? {
            V::Item(Item::Template(p)) => Some(p),
            _ => None,
        }
    }

    /// What a name (or `alias.name`) written in `module` stands for, when that is a
    /// declaration or a top-level `let`, without evaluating anything; `local` says
    /// which names are parameters in scope there.
    fn written_item(
        &self,
        module: ModuleId,
        target: &Expr,
        local: &dyn Fn(&str) -> bool,
    ) -> Option<V> {
        let (name, binding) = match &target.kind {
            ExprKind::Name(n) if !local(n) => (n, self.prog.lookup(module, n)?),
            ExprKind::Field(base, name) => match &base.kind {
                ExprKind::Name(a) if !local(a) => {
                    let t = self.prog.alias(module, a)?;
                    (&name.name, self.prog.modules[t].scope.get(&name.name)?)
                }
                _ => return None,
            },
            _ => return None,
        };
        match binding.kind {
            BindingKind::Factory(f) => Some(V::Item(Item::Factory(f))),
            BindingKind::Template(t) => Some(V::Item(Item::Template(t))),
            BindingKind::Let(owner) => Some(self.globals[owner].get(name)?.v.clone()),
            _ => None,
        }
    }

    /// Runs a factory's body with its parameters' defaults and stand-ins for the rest
    /// (values whose uses are not checked), then the DAG checks, producing nothing.
    pub(super) fn check_unused_factory(&mut self, f: FactoryId) {
        let info = &self.prog.factories[f];
        let (decl, params) = (info.decl.clone(), info.params.clone());
        let env = self.stand_ins(&params);
        let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
        dag.mixin_base = self.mixin_uses.len();
        if decl.is_abstract.is_none() {
            // A concrete factory must declare its parents' abstract tasks; an abstract one need not.
            dag.made_from = Some((decl.name.name.clone(), decl.name.span));
        }
        self.run_factory(f, env, &mut dag, Layer::Factory);
        self.check_built(&mut dag);
    }
}

/// How many links each item's chain of parents has (`parents[i]` is the parent of `i`);
/// a chain that leads back counts as ending there. Each item is walked once.
fn chain_depths<I: Id>(parents: &IdVec<I, Option<I>>) -> IdVec<I, usize> {
    let parent: Vec<Option<usize>> = parents.iter().map(|p| p.map(I::index)).collect();
    let n = parent.len();
    let mut depth: Vec<Option<usize>> = vec![None; n];
    let mut on_path = vec![false; n];
    for f in 0..n {
        let (mut path, mut cur, mut base) = (Vec::new(), Some(f), 0);
        while let Some(c) = cur.filter(|&c| c < n) {
            if let Some(d) = depth[c] {
                base = d + 1;
                break;
            }
            if on_path[c] {
                break;
            }
            on_path[c] = true;
            path.push(c);
            cur = parent[c];
        }
        for c in path.into_iter().rev() {
            on_path[c] = false;
            depth[c] = Some(base);
            base += 1;
        }
    }
    depth.into_iter().map(|d| d.unwrap_or(0)).collect()
}
