//! Declarations nothing uses are still checked: factories, templates and callbacks.

use super::*;

impl Cx<'_> {
    /// A template no task or group uses: its body is evaluated as for a use, so a
    /// misspelt field or a template that builds on itself is still reported. Fields a
    /// task must still set are not asked for: a template may leave them to its tasks.
    pub(super) fn check_unused_template(&mut self, tid: usize) {
        let info = &self.prog.templates[tid];
        let (decl, params, module) = (info.decl.clone(), info.params.clone(), info.module);
        let env = self.stand_ins(&params);
        let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
        dag.mixin_base = self.mixin_uses.len();
        dag.kind = "template";
        if decl.target.is_none() {
            let g = dag.groups.len();
            dag.groups.push(GroupB {
                local: decl.name.name.clone(),
                id: decl.name.name.clone(),
                parent: None,
                name_span: decl.name.span,
                slots: Vec::new(),
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
        dag.tasks.push(TaskB {
            id: decl.name.name.clone(),
            op,
            slots: Vec::new(),
            span: decl.span,
            name_span: decl.name.span,
            incomplete: true,
            meant: Vec::new(),
            group: None,
            local: decl.name.name.clone(),
        });
        self.apply_template(tid, env, &mut dag, 0);
    }

    /// A callback nothing uses: its arguments are evaluated with stand-ins.
    pub(super) fn check_unused_callback(&mut self, c: usize) {
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

    /// Runs a factory's body with its parameters' defaults and stand-ins for the rest
    /// (values whose uses are not checked), then the DAG checks, producing nothing.
    pub(super) fn check_unused_factory(&mut self, f: usize) {
        let info = &self.prog.factories[f];
        let (decl, params) = (info.decl.clone(), info.params.clone());
        let env = self.stand_ins(&params);
        let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
        dag.mixin_base = self.mixin_uses.len();
        if decl.is_abstract.is_none() {
            // A concrete factory must declare its parents' abstract tasks; an abstract one need not.
            dag.made_from = Some((decl.name.name.clone(), decl.name.span));
        }
        self.run_factory(f, env, &mut dag, Layer::Factory, &mut vec![f]);
        self.check_built(&mut dag);
    }
}
