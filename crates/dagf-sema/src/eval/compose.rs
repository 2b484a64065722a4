//! Composition: mixins (and their `after` blocks) and factories that extend others.

use super::*;

impl Cx<'_> {
    /// Applies `with` mixins in order, each its own layer; `m` and `env` are where the
    /// `with` list is written (its arguments are evaluated there).
    pub(super) fn apply_mixins(
        &mut self,
        uses: &[ast::MixinUse],
        m: usize,
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
            let (tasks_before, afters_before) = (dag.tasks.len(), dag.afters.len());
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
            let own = tasks_before..dag.tasks.len();
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
        let own: Vec<std::ops::Range<usize>> = afters.iter().map(|a| a.own.clone()).collect();
        for after in afters {
            let saved = dag.edges.clone();
            let edges = self.task_edges(dag);
            dag.edges = saved;
            // Sentinels are left out both as candidates and as the edges that would
            // disqualify one: `gate >> roots()` still finds the tasks after `begin`.
            let sentinel = |t: &usize| own.iter().any(|r| r.contains(t));
            let others = || (0..dag.tasks.len()).filter(|t| !sentinel(t));
            let roots: Vec<usize> = others()
                .filter(|t| {
                    !edges
                        .iter()
                        .any(|(a, b, _)| b == t && a != t && !sentinel(a))
                })
                .collect();
            let leaves: Vec<usize> = others()
                .filter(|t| {
                    !edges
                        .iter()
                        .any(|(a, b, _)| a == t && a != b && !sentinel(b))
                })
                .collect();
            let outer_ctx = self.after_ctx.replace((roots, leaves));
            let outer = std::mem::replace(&mut dag.layer, after.layer);
            let mut env = after.env.clone();
            self.body(after.module, &mut env, &after.body, dag, Scope::Dag);
            dag.layer = outer;
            self.after_ctx = outer_ctx;
        }
    }

    /// Runs a factory's body into `dag` at `layer`, after the bodies of the factories
    /// it extends (each a layer below). `chain` holds the factories on the way here.
    pub(super) fn run_factory(
        &mut self,
        f: usize,
        mut env: Env,
        dag: &mut DagB,
        layer: Layer,
        chain: &mut Vec<usize>,
    ) {
        let info = &self.prog.factories[f];
        let (module, decl) = (info.module, info.decl.clone());
        if let Some((target, args)) = &decl.extends {
            let parent = self.expr(module, &mut env, target, None);
            match parent.as_factory() {
                Some((p, _)) if chain.contains(&p) => {
                    self.err(
                        Diagnostic::at(
                            Code::E0208,
                            target.span,
                            format!("factory `{}` extends itself", decl.name.name),
                            "leads back to this factory",
                        )
                        .with_help("a factory extends a factory that does not lead back to it"),
                    );
                    return;
                }
                Some((p, bound)) => {
                    let pinfo = &self.prog.factories[p];
                    let (params, name) = (pinfo.params.clone(), pinfo.decl.name.name.clone());
                    let Some(penv) =
                        self.bind_rest(module, &mut env, &params, bound, args, target.span, &name)
                    else {
                        return;
                    };
                    chain.push(p);
                    self.run_factory(p, penv, dag, Layer::Parent(p), chain);
                }
                None if parent.is_error() => return,
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
                    return;
                }
            }
        }
        self.apply_mixins(&decl.mixins, module, &mut env, dag, Scope::Dag);
        let outer = std::mem::replace(&mut dag.layer, layer);
        let outer_abstract = std::mem::replace(
            &mut dag.in_abstract,
            decl.is_abstract.map(|_| decl.name.name.clone()),
        );
        self.body(module, &mut env, &decl.body, dag, Scope::Dag);
        dag.in_abstract = outer_abstract;
        dag.layer = outer;
    }
}
