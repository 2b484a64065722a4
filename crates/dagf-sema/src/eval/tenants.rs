//! Tenants: kinds with a schema, their instances (evaluated when first used), and
//! placing a dag in one with `in` (naming convention, policy layer, output folder).

use super::*;

/// Settings a tenant kind may give besides its fields.
const SETTINGS: [&str; 4] = ["naming", "output", "isolated", "team"];

/// Names every tenant has, so a kind's field may not take them.
const RESERVED: [&str; 3] = ["name", "tenant", "exports"];

impl Cx<'_> {
    /// A kind's settings and fields use no reserved or unknown names.
    pub(super) fn check_kinds(&mut self) {
        for k in self.prog.tenants.ids() {
            let decl = self.prog.tenants[k].decl.clone();
            for (name, _) in &decl.settings {
                if !SETTINGS.contains(&name.name.as_str()) {
                    self.err(
                        Diagnostic::at(
                            Code::E0203,
                            name.span,
                            format!("a tenant kind has no setting `{}`", name.name),
                            "unknown setting",
                        )
                        .with_suggestion(&name.name, SETTINGS)
                        .or_help("declare a field as `name: type`, or use `naming`, `output`, `isolated` or `team`"),
                    );
                }
            }
            if let [(first, _), (again, _), ..] = decl.policy.as_slice() {
                self.err(
                    Diagnostic::at(
                        Code::E0211,
                        *again,
                        "a tenant kind has one policy",
                        "a second policy",
                    )
                    .with_label(*first, "the first policy")
                    .with_help("merge the two blocks into one"),
                );
            }
            for f in &decl.fields {
                if RESERVED.contains(&f.name.name.as_str()) {
                    self.err(
                        Diagnostic::at(
                            Code::E0103,
                            f.name.span,
                            format!("every tenant already has `{}`", f.name.name),
                            "reserved name",
                        )
                        .with_help("`name` and `tenant` are the tenant's own name and `exports` its exported assets; call the field something else"),
                    );
                }
            }
        }
    }

    /// The kind a tenant declares itself of, without evaluating it.
    pub(super) fn kind_of(&self, i: InstanceId) -> Option<KindId> {
        let info = &self.prog.instances[i];
        match self.prog.lookup(info.module, &info.decl.kind.name)?.kind {
            BindingKind::Tenant(k) => Some(k),
            _ => None,
        }
    }

    /// Every tenant, so that one no dag is placed in is still checked; and the policy
    /// of a kind no dag is placed in, on an empty dag in its first tenant.
    pub(super) fn check_all_instances(&mut self) {
        let mut first_of_kind: HashMap<KindId, InstanceId> = HashMap::new();
        for i in self.prog.instances.ids() {
            if let Some(inst) = self.instance(i) {
                first_of_kind.entry(inst.kind).or_insert(i);
            }
        }
        let mut unplaced: Vec<(KindId, InstanceId)> = first_of_kind
            .into_iter()
            .filter(|(k, _)| !self.placed_kinds.contains(k))
            .collect();
        unplaced.sort();
        for (k, i) in unplaced {
            let decl = self.prog.tenants[k].decl.clone();
            let mut dag = DagB::new(decl.name.name.clone(), decl.span, decl.name.span, true);
            dag.kind = "tenant policy";
            dag.mixin_base = self.mixin_uses.len();
            dag.tenant = Some((i, decl.name.span));
            self.apply_policy(&mut dag);
            self.check_built(&mut dag);
        }
    }

    /// The tenant declared `i`-th, evaluated on first use. `None` if it has an error
    /// (already reported).
    pub(super) fn instance(&mut self, i: InstanceId) -> Option<Rc<Instance>> {
        match &self.instances[i] {
            InstanceState::Done(inst) => return Some(inst.clone()),
            InstanceState::Failed => return None,
            InstanceState::Busy => {
                // Tenants computed inside one another (a default that walks every
                // tenant of the kind) meet each other again: one mistake, reported
                // once, for the first of them.
                let first = self
                    .instances
                    .enumerate()
                    .find(|(_, s)| matches!(s, InstanceState::Busy))
                    .map_or(i, |(j, _)| j);
                let decl = &self.prog.instances[first].decl;
                self.err(
                    Diagnostic::at(
                        Code::E0209,
                        decl.name.span,
                        format!("tenant `{}` is used while its own fields are computed", decl.name.name),
                        "uses itself",
                    )
                    .with_help("a tenant's fields may not read the tenant, or walk every tenant of its kind"),
                );
                return None;
            }
            InstanceState::Pending => {}
        }
        self.instances[i] = InstanceState::Busy;
        let made = self.make_instance(i);
        self.instances[i] = match &made {
            Some(inst) => InstanceState::Done(inst.clone()),
            None => InstanceState::Failed,
        };
        made
    }

    fn make_instance(&mut self, i: InstanceId) -> Option<Rc<Instance>> {
        let info = &self.prog.instances[i];
        let (m, decl) = (info.module, info.decl.clone());
        self.note_global(m, &decl.kind.name, decl.kind.span);
        let k = match self.prog.lookup(m, &decl.kind.name).map(|b| b.kind.clone()) {
            Some(BindingKind::Tenant(k)) => k,
            Some(_) => {
                self.err(
                    Diagnostic::at(
                        Code::E0208,
                        decl.kind.span,
                        format!("`{}` is not a tenant kind", decl.kind.name),
                        "not a tenant kind",
                    )
                    .with_help("declare the kind with `tenant NAME { fields }`, then its tenants as `NAME tenant_name { ... }`"),
                );
                return None;
            }
            None => {
                let kinds: Vec<&str> = self
                    .prog
                    .tenants
                    .iter()
                    .map(|t| t.decl.name.name.as_str())
                    .collect();
                self.err(
                    Diagnostic::at(
                        Code::E0104,
                        decl.kind.span,
                        format!("unknown tenant kind `{}`", decl.kind.name),
                        "not defined",
                    )
                    // `dga report { ... }` reads as a tenant of the kind `dga`.
                    .with_suggestion(
                        &decl.kind.name,
                        kinds
                            .iter()
                            .copied()
                            .chain(dagf_syntax::START_WORDS.iter().copied()),
                    )
                    .or_help(
                        "declare it with `tenant NAME { fields }`, or import the file that does",
                    ),
                );
                return None;
            }
        };
        let kind = &self.prog.tenants[k];
        let (kind_module, kind_decl, fields) =
            (kind.module, kind.decl.clone(), kind.fields.clone());
        let mut given: Vec<Option<Value>> = vec![None; fields.len()];
        let mut exports: Option<Value> = None;
        let mut ok = true;
        for stmt in &decl.body {
            match stmt {
                Stmt::Field {
                    is_override: false,
                    append: false,
                    name,
                    value,
                    ..
                } => {
                    let v = self.expr(m, &mut Env::new(), value, None);
                    if name.name == "exports" {
                        if let Some(prev) = &exports {
                            let help = "list every exported asset once, in one `exports = [...]`";
                            self.err(set_twice(
                                "`exports` is set twice",
                                name.span,
                                prev.span,
                                help,
                            ));
                            continue;
                        }
                        let ty = Ty::List(Box::new(Ty::Asset));
                        exports = Some(self.coerce(v, &ty, None));
                        continue;
                    }
                    let Some(p) = fields.iter().position(|f| f.name == name.name) else {
                        ok = false;
                        let mut names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                        names.push("exports");
                        self.err(
                            no_such_field(
                                name.span,
                                format!("`{}` has no field `{}`", kind_decl.name.name, name.name),
                                "unknown field",
                                &name.name,
                                &names,
                                "set one of the kind's fields",
                                "fields",
                            )
                            .with_label(
                                kind_decl.name.span,
                                format!("`{}` is declared here", kind_decl.name.name),
                            ),
                        );
                        continue;
                    };
                    if let Some(prev) = &given[p] {
                        let message = format!("`{}` is set twice", name.name);
                        self.err(set_twice(
                            &message,
                            name.span,
                            prev.span,
                            "keep one of them",
                        ));
                        continue;
                    }
                    given[p] = Some(self.coerce(v, &fields[p].ty, Some(fields[p].span)));
                }
                Stmt::Error(_) => {}
                other => {
                    ok = false;
                    self.not_here(
                        other.span(),
                        "in a tenant",
                        "a tenant sets its kind's fields, one `name = value` per line",
                    );
                }
            }
        }
        // Defaults may read the tenant's name and the fields declared before them.
        let mut env: Env = vec![(
            Rc::from("tenant"),
            Value::new(V::Str(Rc::from(decl.name.name.as_str())), decl.name.span),
        )];
        for (f, g) in fields.iter().zip(given) {
            let v = match g {
                Some(v) => v,
                None => match &f.default {
                    Some(e) => {
                        let v = self.expr(kind_module, &mut env, e, None);
                        self.coerce(v, &f.ty, Some(f.span))
                    }
                    None if f.ty.is_optional() => Value::new(V::None, f.span),
                    None => {
                        ok = false;
                        self.err(missing(
                            decl.name.span,
                            format!("tenant `{}` does not set `{}`", decl.name.name, f.name),
                            "set",
                            f,
                            format!("add `{} = ...` to `{}`", f.name, decl.name.name),
                        ));
                        Value::error(f.span)
                    }
                },
            };
            ok &= !v.is_error();
            env.push((Rc::from(f.name.as_str()), v));
        }
        if !ok {
            return None;
        }
        let exports = match exports {
            Some(Value {
                v: V::List(items), ..
            }) => items.to_vec(),
            Some(_) => return None,
            None => Vec::new(),
        };
        let mut folder = String::new();
        let mut isolated = true;
        let mut team = None;
        for (name, e) in &kind_decl.settings {
            match name.name.as_str() {
                "output" => {
                    let v = self.expr(kind_module, &mut env.clone(), e, None);
                    match &v.v {
                        V::Str(s) if is_safe_folder(s) => folder = s.to_string(),
                        V::Str(s) => {
                            self.err(
                                Diagnostic::at(
                                    Code::E0315,
                                    e.span,
                                    format!("`{s}` is not a folder inside the output folder"),
                                    format!("the output folder of tenant `{}`", decl.name.name),
                                )
                                .with_label(decl.name.span, "for this tenant")
                                .with_help("write a relative path of names made of letters, digits, `_`, `-` and `.` (not first), separated by `/`, such as \"customers/${tenant}\""),
                            );
                            return None;
                        }
                        V::Error => return None,
                        _ => {
                            self.coerce(v, &Ty::Str, None);
                            return None;
                        }
                    }
                }
                "team" => {
                    let v = self.expr(kind_module, &mut env.clone(), e, None);
                    match &v.v {
                        V::Str(s) if is_team_name(s) => {
                            let target = self.options.target;
                            if !target.has(dagf_target::Feature::Teams) {
                                self.err(crate::rules::lacks(
                                    "a team (Airflow's multi-team mode)",
                                    dagf_target::Feature::Teams.since(),
                                    target,
                                    e.span,
                                    "leave `team` out of the tenant kind",
                                ));
                            }
                            team = Some((s.to_string(), e.span));
                        }
                        V::Str(s) => {
                            self.err(
                                Diagnostic::at(
                                    Code::E0326,
                                    e.span,
                                    format!("`{s}` is not a name Airflow gives a team"),
                                    format!("the team of tenant `{}`", decl.name.name),
                                )
                                .with_label(decl.name.span, "for this tenant")
                                .with_help("a team name is 3 to 50 ASCII letters, digits, `_` and `-` (`airflow teams create` takes no other)"),
                            );
                            return None;
                        }
                        V::Error => return None,
                        _ => {
                            self.coerce(v, &Ty::Str, None);
                            return None;
                        }
                    }
                }
                "isolated" => {
                    let v = self.expr(kind_module, &mut env.clone(), e, None);
                    match self.coerce(v, &Ty::Bool, None).v {
                        V::Bool(b) => isolated = b,
                        _ => return None,
                    }
                }
                _ => {}
            }
        }
        Some(Rc::new(Instance {
            kind: k,
            name: decl.name.name.clone(),
            name_span: decl.name.span,
            env,
            exports,
            folder,
            isolated,
            team,
        }))
    }

    /// `dag NAME ... in EXPR`: the tenant, and the dag id its kind's naming convention
    /// makes from NAME (NAME itself when the kind has none).
    pub(super) fn placement(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        scope: &Expr,
        declared: String,
    ) -> Option<(InstanceId, String, Option<Span>)> {
        let v = self.expr(m, env, scope, None);
        let i = match v.v {
            V::Tenant(i) => i,
            V::Error => return None,
            _ => {
                self.err(
                    Diagnostic::at(
                        Code::E0201,
                        scope.span,
                        format!("`in` places a dag in a tenant, not in {}", a_kind(&v)),
                        "not a tenant",
                    )
                    .with_help(
                        "name a tenant (`in acme`), or the variable of a `for t in Kind` loop",
                    ),
                );
                return None;
            }
        };
        let inst = self.instance(i)?;
        let kind = &self.prog.tenants[inst.kind];
        let (kind_module, kind_decl) = (kind.module, kind.decl.clone());
        let Some((_, naming)) = kind_decl.settings.iter().find(|(n, _)| n.name == "naming") else {
            return Some((i, declared, None));
        };
        let mut env = inst.env.clone();
        env.push((
            Rc::from("dag"),
            Value::new(V::Str(Rc::from(declared.as_str())), scope.span),
        ));
        let id = self.expr(kind_module, &mut env, naming, None);
        match id.v {
            V::Str(s) => Some((i, s.to_string(), Some(naming.span))),
            V::Error => None,
            _ => {
                self.coerce(id, &Ty::Str, None);
                None
            }
        }
    }

    /// The kind's policy, as the last layer of a dag placed in one of its tenants.
    pub(super) fn apply_policy(&mut self, dag: &mut DagB) {
        let Some((i, at)) = dag.tenant else {
            return;
        };
        let Some(inst) = self.instance(i) else {
            return;
        };
        let prog = self.prog;
        let kind = &prog.tenants[inst.kind];
        let Some((_, policy)) = kind.decl.policy.first() else {
            return;
        };
        let module = kind.module;
        let label = format!("the policy of `{}` applies here", kind.decl.name.name);
        let outer_making = self.making.replace((at, label));
        let outer = std::mem::replace(&mut dag.layer, Layer::Policy(inst.kind));
        let mut env = inst.env.clone();
        self.body(module, &mut env, policy, dag, Scope::Dag);
        dag.layer = outer;
        self.making = outer_making;
    }
}

/// A relative folder: `/`-separated names of letters, digits, `_`, `-` and `.`, none
/// of them hidden (starting with `.`, which rules out `.`, `..` and the manifest).
/// `airflow teams create`'s rule: `^[a-zA-Z0-9_-]{3,50}$`.
fn is_team_name(s: &str) -> bool {
    (3..=50).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn is_safe_folder(s: &str) -> bool {
    !s.is_empty()
        && s.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}
