//! Composition: mixins (and their `after` blocks) and factories that extend others.

use super::*;

impl Cx<'_> {
    /// Applies `with` mixins in order, each its own layer; `m` and `env` are where the
    /// `with` list is written (its arguments are evaluated there).
    pub(super) fn apply_mixins(
        &mut self,
        uses: &[ast::MixinUse],
        m: ModuleId,
        env: &mut Env,
        dag: &mut DagB,
        scope: Scope,
    ) {
        for u in uses {
            let x = match self.expr(m, env, &u.target, None).v {
                V::Item(Item::Mixin(x)) => x,
                V::Error => continue,
                other => {
                    let v = Value::new(other, u.target.span);
                    self.err(
                        Diagnostic::at(
                            Code::E0208,
                            u.target.span,
                            format!("`with` takes mixins, not {}", a_kind(&v)),
                            "not a mixin",
                        )
                        .with_help("declare one with `mixin NAME(...) { ... }`"),
                    );
                    continue;
                }
            };
            let info = &self.prog.mixins[x];
            let (module, decl, params) = (info.module, info.decl.clone(), info.params.clone());
            let Some(mut menv) =
                self.bind_args(m, env, &params, &u.args, u.target.span, &decl.name.name)
            else {
                continue;
            };
            let (tasks_before, afters_before) = (dag.tasks.next_id(), dag.afters.len());
            self.mixin_applications += 1;
            self.mixin_uses
                .resize(self.mixin_applications + 1, (String::new(), u.span));
            self.mixin_uses[self.mixin_applications] = (decl.name.name.clone(), u.span);
            let outer = std::mem::replace(&mut dag.layer, Layer::Mixin(self.mixin_applications));
            // Errors in the mixin's body also point at where it was mixed in.
            let label = format!("`{}` is mixed in here", decl.name.name);
            let outer_making = self.making.replace((u.span, label));
            self.body(module, &mut menv, &decl.body, dag, scope);
            self.making = outer_making;
            dag.layer = outer;
            let own = tasks_before..dag.tasks.next_id();
            for a in &mut dag.afters[afters_before..] {
                a.own = own.clone();
            }
        }
    }

    /// Runs the mixins' `after` blocks, each with `roots()` and `leaves()` answering for
    /// the DAG as it stands (the mixin's own tasks left out).
    pub(super) fn run_afters(&mut self, dag: &mut DagB) {
        let afters = std::mem::take(&mut dag.afters);
        // Tasks of mixins with `after` blocks (sentinels) are never anyone's roots or leaves.
        let own: Vec<std::ops::Range<TaskId>> = afters.iter().map(|a| a.own.clone()).collect();
        for after in afters {
            let saved = dag.edges.clone();
            let edges = self.task_edges(dag);
            dag.edges = saved;
            // Sentinels are left out both as candidates and as the edges that would
            // disqualify one: `gate >> roots()` still finds the tasks after `begin`.
            let n = dag.tasks.len();
            let sentinel: IdVec<TaskId, bool> = dag
                .tasks
                .ids()
                .map(|t| own.iter().any(|r| r.contains(&t)))
                .collect();
            let is_sentinel = |t: TaskId| sentinel.get(t).copied().unwrap_or(false);
            // One pass over the edges: which tasks have a task before them, which after.
            let (mut after_one, mut before_one) = (
                IdVec::<TaskId, _>::filled(n, false),
                IdVec::<TaskId, _>::filled(n, false),
            );
            for &(a, b, _) in &edges {
                if a == b {
                    continue;
                }
                if !is_sentinel(a)
                    && let Some(x) = after_one.get_mut(b)
                {
                    *x = true;
                }
                if !is_sentinel(b)
                    && let Some(x) = before_one.get_mut(a)
                {
                    *x = true;
                }
            }
            let others = || dag.tasks.ids().filter(|&t| !is_sentinel(t));
            let roots: Vec<TaskId> = others().filter(|&t| !after_one[t]).collect();
            let leaves: Vec<TaskId> = others().filter(|&t| !before_one[t]).collect();
            let outer_ctx = self.after_ctx.replace((roots, leaves));
            let outer = std::mem::replace(&mut dag.layer, after.layer);
            let mut env = after.env.clone();
            self.body(after.module, &mut env, &after.body, dag, Scope::Dag);
            dag.layer = outer;
            self.after_ctx = outer_ctx;
        }
    }

    /// Runs a factory's body into `dag` at `layer`, after the bodies of the factories
    /// it extends (each a layer below). A chain of any length runs each body once, on
    /// a loop rather than the stack: first each factory's arguments to its parent are
    /// bound, child to parent, then the bodies run, parent to child. A factory whose
    /// parent cannot be had runs nothing of its own; the factories above it still run.
    pub(super) fn run_factory(&mut self, f: FactoryId, env: Env, dag: &mut DagB, layer: Layer) {
        let mut frames: Vec<(FactoryId, Env, Layer)> = vec![(f, env, layer)];
        let mut on_chain = std::collections::HashSet::from([f]);
        while let Some((cur, env, _)) = frames.last_mut() {
            let info = &self.prog.factories[*cur];
            let (module, decl) = (info.module, info.decl.clone());
            let Some((target, args)) = &decl.extends else {
                break;
            };
            let parent = self.expr(module, env, target, None);
            match parent.as_factory() {
                Some((p, _)) if on_chain.contains(&p) => {
                    self.err(
                        Diagnostic::at(
                            Code::E0208,
                            target.span,
                            format!("factory `{}` extends itself", decl.name.name),
                            "leads back to this factory",
                        )
                        .with_help("a factory extends a factory that does not lead back to it"),
                    );
                }
                Some((p, bound)) => {
                    let pinfo = &self.prog.factories[p];
                    let (params, name) = (pinfo.params.clone(), pinfo.decl.name.name.clone());
                    if let Some(penv) =
                        self.bind_rest(module, env, &params, bound, args, target.span, &name)
                    {
                        on_chain.insert(p);
                        frames.push((p, penv, Layer::Parent(p)));
                        continue;
                    }
                }
                None if parent.is_error() => {}
                None => {
                    let v = parent;
                    self.err(
                        Diagnostic::at(
                            Code::E0208,
                            target.span,
                            format!("a factory extends a factory, not {}", a_kind(&v)),
                            "not a factory",
                        )
                        .with_help("write `factory NAME(...) extends PARENT(args) { ... }`"),
                    );
                }
            }
            frames.pop();
            break;
        }
        while let Some((cur, mut env, layer)) = frames.pop() {
            let info = &self.prog.factories[cur];
            let (module, decl) = (info.module, info.decl.clone());
            self.apply_mixins(&decl.mixins, module, &mut env, dag, Scope::Dag);
            let outer = std::mem::replace(&mut dag.layer, layer);
            let outer_abstract = std::mem::replace(
                &mut dag.in_abstract,
                decl.is_abstract.map(|_| decl.name.name.clone()),
            );
            self.body(module, &mut env, &decl.body, dag, Scope::Dag);
            dag.in_abstract = outer_abstract;
            dag.layer = outer;
            if layer != Layer::Parent(cur) {
                continue;
            }
            // Its body was checked here, as a layer of this chain: not again on its own
            // (one whose `extends` failed still is, and says so without this chain).
            self.extended.insert(cur);
            // A concrete factory declares its ancestors' abstract tasks, also when it
            // is only extended; said (once) if no dag is made from it.
            if decl.is_abstract.is_none() {
                let missing = self.missing_abstracts(dag, &decl.name.name, decl.name.span);
                self.parent_missing.entry(cur).or_insert(missing);
            }
        }
    }
}
