//! Environments: `profile NAME { ... }` is the last layer of every dag when building for
//! `NAME`, and `env` in expressions is that name.

use super::*;

impl Cx<'_> {
    /// The chosen environment names a profile; an unknown one lists the known ones
    /// (and is false: nothing built for an unknown environment would mean anything).
    pub(super) fn check_env(&mut self) -> bool {
        let Some(env) = self.options.env.clone() else {
            return true;
        };
        let profiles = &self.prog.profiles;
        if profiles.iter().any(|p| p.decl.name.name == env) {
            return true;
        }
        let known: Vec<&str> = profiles.iter().map(|p| p.decl.name.name.as_str()).collect();
        let origin = &self.options.env_origin;
        let mut d = Diagnostic::new(
            Code::E0405,
            format!("there is no profile `{env}` (the environment chosen by {origin})"),
        );
        // An environment chosen in a file of the project is shown there, beside the
        // profiles.
        if let Some(at) = self.options.env_chosen_at {
            d = d.with_primary(at, "the environment is chosen here");
        }
        d = match profiles.iter().next() {
            Some(first) => {
                let listed = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>();
                let declared = "profiles are declared here";
                match d.primary {
                    Some(_) => d.with_label(first.decl.name.span, declared),
                    None => d.with_primary(first.decl.name.span, declared),
                }
                    .with_note(format!("the known environments are {}", listed.join(", ")))
                    .with_suggestion(&env, known.iter().copied())
                    .or_help(format!("choose one of them, or declare `profile {env} {{ }}`"))
            }
            None => d.with_help(format!(
                "the project declares no profiles: declare `profile {env} {{ ... }}` with what differs in that environment"
            )),
        };
        self.err(d);
        false
    }

    /// The chosen environment's profile, as the last layer of a dag: what it sets
    /// replaces what the dag had, without `override`.
    pub(super) fn apply_profile(&mut self, dag: &mut DagB) {
        let Some(env) = self.options.env.as_deref() else {
            return;
        };
        if let Some(p) = self
            .prog
            .profiles
            .enumerate()
            .find(|(_, p)| p.decl.name.name == env)
            .map(|(p, _)| p)
        {
            let label = format!("the profile `{env}` applies to this dag");
            let outer_making = self.making.replace((dag.name_span, label));
            self.profile_layer(p, dag);
            self.making = outer_making;
        }
    }

    fn profile_layer(&mut self, p: ProfileId, dag: &mut DagB) {
        let info = &self.prog.profiles[p];
        let (module, decl) = (info.module, info.decl.clone());
        let outer = std::mem::replace(&mut dag.layer, Layer::Profile(p));
        let mut env = Env::new();
        self.body(module, &mut env, &decl.body, dag, Scope::Dag);
        dag.layer = outer;
    }

    /// The profiles of the other environments, each on an empty dag: a mistake in the
    /// `prod` profile is found by a `dev` build too.
    pub(super) fn check_other_profiles(&mut self) {
        let active = self.options.env.as_deref();
        for p in self.prog.profiles.ids() {
            let decl = self.prog.profiles[p].decl.clone();
            if Some(decl.name.name.as_str()) == active {
                continue;
            }
            let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
            dag.kind = "profile";
            dag.mixin_base = self.mixin_uses.len();
            self.profile_layer(p, &mut dag);
            self.check_built(&mut dag);
        }
    }
}
