//! Pool declarations, evaluated: those at the top level of a file once, those of a
//! tenant kind once for each of its tenants, with the tenant's fields in scope.

use super::*;
use crate::pools::{Declared, MAX_NAME, Owner};

/// What a pool declaration may set.
const POOL_SETTINGS: [&str; 3] = ["slots", "description", "include_deferred"];

/// `slots` is a 32-bit `INTEGER` column (`slot_pool.slots`), and -1 means unlimited
/// (`airflow/models/pool.py`; the REST API's `PoolSlots` is `ge=-1`).
const MAX_SLOTS: i64 = i32::MAX as i64;

impl Cx<'_> {
    /// Every pool the project declares, in declaration order (the top-level ones first,
    /// then each tenant's); duplicates are left to [`crate::pools::check`].
    pub(super) fn declared_pools(&mut self) -> Vec<Declared> {
        let prog = self.prog;
        let mut out = Vec::new();
        for p in &prog.pools {
            if let Some(d) = self.pool_decl(p.module, &mut Env::new(), &p.decl, None) {
                out.push(d);
            }
        }
        for i in prog.instances.ids() {
            let InstanceState::Done(inst) = &self.instances[i] else {
                continue;
            };
            let inst = inst.clone();
            let kind = &prog.tenants[inst.kind];
            for decl in &kind.decl.pools {
                let owner = Owner {
                    kind: kind.decl.name.name.clone(),
                    tenant: inst.name.clone(),
                    isolated: inst.isolated,
                };
                let mut env = inst.env.clone();
                let at = Some((owner, inst.name_span));
                if let Some(d) = self.pool_decl(kind.module, &mut env, decl, at) {
                    out.push(d);
                }
            }
        }
        out
    }

    /// One pool; `None` if it has a mistake (reported). `tenant` is the tenant a kind's
    /// pool is made for, and where that tenant is declared.
    fn pool_decl(
        &mut self,
        m: ModuleId,
        env: &mut Env,
        decl: &ast::PoolDecl,
        tenant: Option<(Owner, Span)>,
    ) -> Option<Declared> {
        let name_v = self.expr(m, env, &decl.name, None);
        let for_tenant = |t: &Option<(Owner, Span)>| match t {
            Some((o, _)) => format!(" for tenant `{}`", o.tenant),
            None => String::new(),
        };
        let name = match &name_v.v {
            V::Str(s) => s.to_string(),
            V::Error => return None,
            _ => {
                self.coerce(name_v, &Ty::Str, None);
                return None;
            }
        };
        let problem = if name.trim().is_empty() {
            Some("it is empty or only spaces".to_string())
        } else if name.chars().count() > MAX_NAME {
            Some(format!(
                "it is {} characters long, and Airflow takes at most {MAX_NAME}",
                name.chars().count()
            ))
        } else {
            None
        };
        if let Some(why) = problem {
            let mut d = Diagnostic::at(
                Code::E0330,
                decl.name.span,
                format!(
                    "Airflow rejects the pool name{}: {why}",
                    for_tenant(&tenant)
                ),
                "the pool's name",
            );
            if let Some((_, at)) = &tenant {
                d = d.with_label(*at, "for this tenant");
            }
            self.err(d.with_help(format!(
                "a pool name is 1 to {MAX_NAME} characters, not all of them spaces"
            )));
            return None;
        }
        if decl.is_extern {
            return self.extern_pool(decl, name, tenant);
        }
        let mut set: [Option<Value>; 3] = [None, None, None];
        let mut ok = true;
        for stmt in &decl.body {
            match stmt {
                Stmt::Field {
                    is_override: false,
                    append: false,
                    name: key,
                    value,
                    ..
                } => {
                    let Some(k) = POOL_SETTINGS.iter().position(|s| *s == key.name) else {
                        ok = false;
                        self.err(
                            Diagnostic::at(
                                Code::E0203,
                                key.span,
                                format!("a pool has no setting `{}`", key.name),
                                "unknown setting",
                            )
                            .with_suggestion(&key.name, POOL_SETTINGS)
                            .or_help("a pool sets `slots`, `description` and `include_deferred`"),
                        );
                        continue;
                    };
                    if let Some(prev) = &set[k] {
                        ok = false;
                        let message = format!("`{}` is set twice", key.name);
                        self.err(set_twice(&message, key.span, prev.span, "keep one of them"));
                        continue;
                    }
                    let v = self.expr(m, env, value, None);
                    let ty = match k {
                        0 => Ty::Int,
                        1 => Ty::Optional(Box::new(Ty::Str)),
                        _ => Ty::Bool,
                    };
                    let v = self.coerce(v, &ty, None);
                    ok &= !v.is_error();
                    set[k] = Some(v);
                }
                Stmt::Error(_) => ok = false,
                other => {
                    ok = false;
                    self.not_here(
                        other.span(),
                        "in a pool",
                        "a pool sets `slots`, `description` and `include_deferred`, one `name = value` each",
                    );
                }
            }
        }
        let [slots, description, include_deferred] = set;
        let Some(slots) = slots else {
            if ok {
                self.err(
                    Diagnostic::at(
                        Code::E0202,
                        decl.name.span,
                        format!("the pool `{name}` does not set `slots`"),
                        "no `slots`",
                    )
                    .with_help("say how many task slots it has: `slots = 8` (or -1 for no limit)"),
                );
            }
            return None;
        };
        if !ok {
            return None;
        }
        let n = match slots.v {
            V::Int(n) => n,
            _ => return None,
        };
        if !(-1..=MAX_SLOTS).contains(&n) {
            let mut d = Diagnostic::at(
                Code::E0330,
                slots.span,
                format!("the pool `{name}` cannot have {n} slots"),
                "not a number of slots",
            );
            if let Some((_, at)) = &tenant {
                d = d.with_label(*at, "for this tenant");
            }
            self.err(d.with_help(format!(
                "slots is a count from 0 to {MAX_SLOTS}, or -1 for no limit"
            )));
            return None;
        }
        let description = match description.map(|v| v.v) {
            Some(V::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        let include_deferred = matches!(include_deferred.map(|v| v.v), Some(V::Bool(true)));
        let (at, named_by, owner) = match tenant {
            Some((owner, at)) => (at, Some(decl.name.span), Some(owner)),
            None => (decl.name.span, None, None),
        };
        Some(Declared {
            name,
            at,
            named_by,
            slots: n,
            slots_at: slots.span,
            description,
            include_deferred,
            owner,
            is_extern: false,
        })
    }

    /// `extern pool NAME`: a pool made outside the project. Its size is not known, so
    /// `pool_slots` is not checked against it, and the pools file leaves it out.
    fn extern_pool(
        &mut self,
        decl: &ast::PoolDecl,
        name: String,
        tenant: Option<(Owner, Span)>,
    ) -> Option<Declared> {
        if tenant.is_some() {
            self.err(
                Diagnostic::at(
                    Code::E0106,
                    decl.span,
                    "a tenant kind's pools are made by the build, not outside it",
                    "not allowed here",
                )
                .with_help("declare a pool made outside the project with `extern pool NAME` at the top level of a file"),
            );
            return None;
        }
        if let Some(first) = decl.body.first() {
            self.err(
                Diagnostic::at(
                    Code::E0106,
                    first.span(),
                    "an extern pool has no settings",
                    "not allowed here",
                )
                .with_help("the pool is made outside the project, with its own size: remove the block, or drop `extern` to have the build write the pool"),
            );
            return None;
        }
        Some(Declared {
            name,
            at: decl.name.span,
            named_by: None,
            slots: -1,
            slots_at: decl.name.span,
            description: None,
            include_deferred: false,
            owner: None,
            is_extern: true,
        })
    }
}
